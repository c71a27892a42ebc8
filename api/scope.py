"""What a key may read, as query clauses: an auditor's key reads every audit, a manager's only the
records of the teams it was granted (and the audits holding one of them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from api.db import AccessLog, ApiKey, Audit, AuditRecord, BatchRunAudit, CaseFindingRow, KeyTeam
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


def find_audit(s: Session, key: ApiKey, audit_id: str, action: str) -> Audit | None:
    """The audit, if this key may read any of it; the read is written to the access log."""
    found: Audit | None = s.scalars(visible_audits(key).where(Audit.id == audit_id)).first()
    if found is not None:
        s.add(AccessLog(key_id=key.id, audit_id=found.id, action=action))
        s.commit()
    return found


def audit_error(audit: Audit, key: ApiKey) -> str | None:
    """Why a job failed, as this key may read it: the failing record may be another team's, so a
    manager is told only that a record could not be scored."""
    if audit.error is None or key.role != Role.manager:
        return audit.error
    return "a record could not be scored"


CASES_SHOWN = 500


def visible_case_findings(key: ApiKey, audit_id: str) -> Select[Any]:
    """The case-level findings of the batch run and council this audit is the run's audit for (none
    for the API's own audits), of the key's teams for a manager, by team and child."""
    scope = select(BatchRunAudit.run_id, BatchRunAudit.la_code).where(BatchRunAudit.audit_id == audit_id).subquery()
    query = (
        select(CaseFindingRow)
        .join(scope, (scope.c.run_id == CaseFindingRow.run_id) & (scope.c.la_code == CaseFindingRow.la_code))
        .order_by(CaseFindingRow.team, CaseFindingRow.child_id, CaseFindingRow.rule_id, CaseFindingRow.id)
    )
    if key.role == Role.manager:
        query = query.where(CaseFindingRow.team.in_(_teams_of(key)))
    return query
