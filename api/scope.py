"""What a key may read, as query clauses: an auditor's key reads every audit, a manager's only the
records of the teams it was granted (and the audits holding one of them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.sql import Select

from api.db import ApiKey, Audit, AuditRecord, KeyTeam
from api.keys import Role


def _teams_of(key: ApiKey) -> Select[Any]:
    return select(KeyTeam.team).where(KeyTeam.key_id == key.id)


def visible_records(key: ApiKey) -> Select[Any]:
    query = select(AuditRecord)
    if key.role == Role.manager:
        query = query.where(AuditRecord.team.in_(_teams_of(key)))
    return query


def visible_audits(key: ApiKey) -> Select[Any]:
    query = select(Audit)
    if key.role == Role.manager:
        query = query.where(exists().where(AuditRecord.audit_id == Audit.id, AuditRecord.team.in_(_teams_of(key))))
    return query
