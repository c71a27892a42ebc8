"""The CSV and XLSX exports of an audit: one row per finding (and one for a record with none), over
the records a key may read, for a practice-learning audit. The API and the report both serve them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import ApiKey, AuditRecord, Feedback, FindingRow
from api.scope import visible_records
from auditor.spreadsheet import spreadsheet_safe

EXPORT_COLUMNS = [
    "audit_id",
    "record_id",
    "record_type",
    "plan_type",
    "team",
    "worker",
    "child_id",
    "recorded_at",
    "score",
    "grade",
    "finding_id",
    "rule_id",
    "category",
    "severity",
    "words",
    "message",
    "suggestion",
    "citation",
    "found_by",
    "confidence",
    "feedback_agree",
    "feedback_disagree",
    "feedback_comments",
]


def _export_rows(s: Session, key: ApiKey, audit_id: str) -> Iterator[list[object]]:
    """The export's rows: the records this key may read, in order, each finding a row."""
    finding_ids = (
        select(FindingRow.id)
        .join(AuditRecord, AuditRecord.id == FindingRow.audit_record_id)
        .where(AuditRecord.audit_id == audit_id)
    )
    votes: dict[int, list[int]] = {}
    comments: dict[int, list[str]] = {}
    for finding_id, agrees, comment in s.execute(
        select(Feedback.finding_id, Feedback.agrees, Feedback.comment)
        .where(Feedback.finding_id.in_(finding_ids))
        .order_by(Feedback.created_at, Feedback.id)
    ):
        votes.setdefault(finding_id, [0, 0])[0 if agrees else 1] += 1
        if comment:
            comments.setdefault(finding_id, []).append(f"{'agree' if agrees else 'disagree'}: {comment}")
    rows = s.scalars(visible_records(key).where(AuditRecord.audit_id == audit_id).order_by(AuditRecord.position))
    for record in rows:
        head: list[object] = [
            audit_id,
            record.record_id,
            record.record_type,
            record.plan_type,
            record.team,
            record.worker,
            record.child_id,
            record.recorded_at,
            record.score,
            record.grade,
        ]
        if not record.findings:
            yield [spreadsheet_safe(v) for v in head + [None] * (len(EXPORT_COLUMNS) - len(head))]
        for f in record.findings:
            agree, disagree = votes.get(f.id, [0, 0])
            cells = [f.id, f.rule_id, f.category, f.severity, f.text, f.message, f.suggestion, f.citation]
            cells += [f.source, f.confidence, agree, disagree, "\n".join(comments.get(f.id, [])) or None]
            yield [spreadsheet_safe(v) for v in head + cells]


# Case records: never kept by a browser's or a proxy's cache, never sniffed as another type.
_DOWNLOAD = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def csv_response(s: Session, key: ApiKey, audit_id: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(_export_rows(s, key, audit_id))
    return Response(
        out.getvalue().encode("utf-8-sig"),  # with a BOM, so that Excel reads UTF-8
        media_type="text/csv; charset=utf-8",
        headers={**_DOWNLOAD, "Content-Disposition": f'attachment; filename="audit-{audit_id}.csv"'},
    )


def xlsx_response(s: Session, key: ApiKey, audit_id: str) -> Response:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("findings")
    sheet.append(EXPORT_COLUMNS)
    for row in _export_rows(s, key, audit_id):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={**_DOWNLOAD, "Content-Disposition": f'attachment; filename="audit-{audit_id}.xlsx"'},
    )
