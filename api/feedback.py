"""Practitioners' opinions of findings: one per key and finding (a second replaces the first),
kept with an optional comment, counted per rule and exported. The API and the report share this."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import ApiKey, AuditRecord, Feedback, FindingRow, now
from api.scope import visible_records


def visible_finding(s: Session, key: ApiKey, finding_id: int) -> FindingRow | None:
    """The finding, if it belongs to a record this key may read."""
    found: FindingRow | None = s.scalars(
        select(FindingRow)
        .join(AuditRecord, AuditRecord.id == FindingRow.audit_record_id)
        .where(FindingRow.id == finding_id, AuditRecord.id.in_(visible_records(key).with_only_columns(AuditRecord.id)))
    ).first()
    return found


def save_feedback(s: Session, key: ApiKey, found: FindingRow, agree: bool, comment: str | None) -> Feedback:
    """Store this key's opinion of the finding, replacing its earlier one, and commit."""
    row = s.scalars(select(Feedback).where(Feedback.finding_id == found.id, Feedback.key_id == key.id)).first()
    if row is None:
        row = Feedback(finding_id=found.id, rule_id=found.rule_id, key_id=key.id)
        s.add(row)
    row.agrees, row.comment, row.created_at = agree, comment, now()
    try:
        s.commit()
    except IntegrityError:  # the same key's two posts at once: the other one stands
        s.rollback()
        row = s.scalars(select(Feedback).where(Feedback.finding_id == found.id, Feedback.key_id == key.id)).one()
    return row
