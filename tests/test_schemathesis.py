"""Schemathesis against the service's own OpenAPI schema: whatever it generates, valid or not,
no request may get a server error (5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import DATABASES, fresh_database
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session

from api.app import create_app
from api.db import make_engine, migrate
from api.keys import Role, create_key
from auditor.engine import Auditor

AUDITOR = Auditor(models=None)  # the rules alone: the schema, not the classifier, is under test
KEY: dict[str, str] = {}


@pytest.fixture(scope="module", params=DATABASES)
def api_schema(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # PostgreSQL refuses what SQLite takes (NUL in text, over-long values): both are run.
    url = fresh_database(request.param, tmp_path_factory.mktemp("schema"))
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as s:
        key, _row = create_key(s, Role.auditor, "schemathesis")
        s.commit()
    KEY["Authorization"] = f"Bearer {key}"
    app = create_app(url, auditor=AUDITOR, sync_limit=5)
    with TestClient(app):  # runs the app's start-up (migrations, the engine, the job worker)
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    engine.dispose()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case: Any) -> None:
    case.call_and_validate(headers=KEY, checks=[not_a_server_error])


def test_the_schema_declares_the_batch_body_and_bearer_keys() -> None:
    app = create_app(f"sqlite:///{Path('/nonexistent') / 'unused.db'}", auditor=AUDITOR)
    document = app.openapi()
    body = document["paths"]["/v1/audits"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/BatchIn"}
    assert "Record" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
