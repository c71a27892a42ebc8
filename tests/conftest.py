"""Shared fixtures: the rules alone (for the rules' own examples) and the full engine with the
shipped classifier (for end-to-end tests). Each loads once per test session."""

from __future__ import annotations

import pytest

from auditor.engine import Auditor


@pytest.fixture(scope="session")
def auditor() -> Auditor:
    return Auditor(models=None)


@pytest.fixture(scope="session")
def engine() -> Auditor:
    return Auditor()
