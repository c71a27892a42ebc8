"""Shared fixtures: the rules alone (for the rules' own examples) and the full engine with the
shipped classifier (for end-to-end tests). Each loads once per test session."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData

from auditor import stops
from auditor.engine import Auditor

# The service's database tests run on SQLite, and on PostgreSQL when AUDITOR_TEST_DATABASE_URL is set.
DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("AUDITOR_TEST_DATABASE_URL") else [])


def fresh_database(param: str, folder: Path) -> str:
    """A database URL with no tables: a new SQLite file in `folder`, or the PostgreSQL test
    database with its tables dropped (migrations build them again)."""
    if param == "sqlite":
        return f"sqlite:///{folder / 'auditor.db'}"
    from api.db import make_engine

    url = os.environ["AUDITOR_TEST_DATABASE_URL"]
    engine = make_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield fresh_database(request.param, tmp_path)


@pytest.fixture(scope="session")
def auditor() -> Auditor:
    return Auditor(models=None)


@pytest.fixture(scope="session")
def engine() -> Auditor:
    return Auditor()


@pytest.fixture
def installed() -> Iterator[None]:
    """auditor.stops' handlers for SIGTERM and Ctrl-C, put back afterwards."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    handlers = stops.install()
    try:
        yield
    finally:
        stops.restore(handlers)
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
