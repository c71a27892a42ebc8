"""Shared fixtures: one Auditor (rules and pipeline load once per test session)."""

from __future__ import annotations

import pytest

from auditor.engine import Auditor


@pytest.fixture(scope="session")
def auditor() -> Auditor:
    return Auditor()
