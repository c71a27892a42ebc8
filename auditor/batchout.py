"""What a batch run leaves besides the database: its summary (JSON, and a few lines for a person)
and its results as Parquet. Both are read back from the database, so they can be written again
for any finished run (`auditor runs RUN_ID --summary/--parquet`).

The Parquet files hold what the run scored (new, changed and rescored records, without their
text) and their findings (each with the words it quotes, as the report shows them), and what it
quarantined: a warehouse loads them as the night's changes. They are written into a temporary
folder renamed into place at the end, so a reader never sees half a run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import (
    Audit,
    AuditRecord,
    BatchRun,
    BatchRunAudit,
    CaseFindingRow,
    FindingRow,
    Quarantined,
    RecordHistory,
    utc,
)
from auditor.files import atomic_text

QUARANTINE_LISTED = 1000  # in the summary; the Parquet file and `auditor runs` hold them all


class RunNotFound(LookupError):
    pass


def find_run(engine: Engine, run_id: str | None) -> BatchRun:
    """The run with this id (or the unique run whose id starts with it), or the latest run."""
    with Session(engine) as s:
        query = select(BatchRun).order_by(BatchRun.started_at.desc())
        if run_id:
            query = query.where(BatchRun.id.startswith(run_id, autoescape=True))
        found = list(s.scalars(query.limit(2)))
    if not found or (run_id and len(found) > 1 and found[0].id != run_id):
        raise RunNotFound(
            f"no batch run {run_id!r}" if not found or not run_id else f"{run_id!r} names more than one run"
        )
    return found[0]


def summary(engine: Engine, run_id: str) -> dict[str, Any]:
    """The run as JSON: where it got, what it counted, how long it took, its audits, and what it
    quarantined (the first QUARANTINE_LISTED rows; the count is of all)."""
    with Session(engine) as s:
        run = s.get(BatchRun, run_id)
        if run is None:
            raise RunNotFound(f"no batch run {run_id!r}")
        audits = []
        for la_code, audit_id, records, mean in s.execute(
            select(BatchRunAudit.la_code, Audit.id, Audit.record_count, func.avg(AuditRecord.score))
            .join(Audit, Audit.id == BatchRunAudit.audit_id)
            .outerjoin(AuditRecord, AuditRecord.audit_id == Audit.id)
            .where(BatchRunAudit.run_id == run_id)
            .group_by(BatchRunAudit.la_code, Audit.id, Audit.record_count)
            .order_by(BatchRunAudit.la_code)
        ):
            grades = dict(
                s.execute(
                    select(AuditRecord.grade, func.count())
                    .where(AuditRecord.audit_id == audit_id)
                    .group_by(AuditRecord.grade)
                ).all()
            )
            audits.append(
                {
                    "la_code": la_code or None,
                    "audit_id": audit_id,
                    "records": records,
                    "mean_score": round(float(mean), 1) if mean is not None else None,
                    "grades": {g: n for g, n in sorted(grades.items()) if g},
                }
            )
        quarantined = [
            {"file": q.file, "row": q.row, "record_id": q.record_id, "field": q.field, "reason": q.reason}
            for q in s.scalars(
                select(Quarantined)
                .where(Quarantined.run_id == run_id)
                .order_by(Quarantined.id)
                .limit(QUARANTINE_LISTED)
            )
        ]
        case_rules = dict(
            s.execute(
                select(CaseFindingRow.rule_id, func.count())
                .where(CaseFindingRow.run_id == run_id)
                .group_by(CaseFindingRow.rule_id)
                .order_by(CaseFindingRow.rule_id)
            ).all()
        )
        counts = {k: int(v) for k, v in run.counts.items()}
        timings = dict(run.timings)
        total = timings.get("total") or 0.0
        return {
            "run_id": run.id,
            "status": run.status,
            "error": run.error,
            "started_at": utc(run.started_at).isoformat(),
            "finished_at": utc(run.finished_at).isoformat() if run.finished_at else None,
            "resumed": run.resumed,
            "profile": run.profile,
            "inputs": run.inputs,
            "versions": run.versions,
            "checkpoint": {"file_index": run.file_index, "rows_done": run.rows_done},
            "counts": counts,
            "timings_seconds": timings,
            "rows_per_second": round(counts.get("rows", 0) / total, 1) if total else None,
            "audits": audits,
            "case_findings_by_rule": case_rules,
            "quarantined": quarantined,
            "quarantined_listed": len(quarantined),
        }


def summary_lines(data: dict[str, Any], shown: int = 20) -> list[str]:
    """The summary for a person: a few lines, with the first `shown` quarantined rows; no record
    text (only ids, files and rows)."""
    counts = data["counts"]
    lines = [
        f"batch run {data['run_id']}: {data['status']}"
        + (f" (resumed {data['resumed']} time{'s' if data['resumed'] != 1 else ''})" if data["resumed"] else ""),
        f"  rows read {counts.get('rows', 0):,}: {counts.get('new', 0):,} new, {counts.get('changed', 0):,} changed, "
        f"{counts.get('rescored', 0):,} rescored, {counts.get('unchanged', 0):,} unchanged (skipped), "
        f"{counts.get('quarantined', 0):,} quarantined",
        f"  findings {counts.get('findings', 0):,}; records an earlier run read that this one did not: "
        f"{counts.get('missing', 0):,}",
        f"  case-level findings {counts.get('case_findings', 0):,}"
        + (
            ": " + ", ".join(f"{rule} {n:,}" for rule, n in data["case_findings_by_rule"].items())
            if data["case_findings_by_rule"]
            else ""
        ),
    ]
    timings = data["timings_seconds"]
    if timings.get("total"):
        lines.append(
            f"  took {timings['total']:.1f} s ({data['rows_per_second'] or 0:,.0f} rows/s): "
            + ", ".join(f"{phase} {timings.get(phase, 0):.1f} s" for phase in ("read", "score", "store", "cases"))
        )
    for audit in data["audits"]:
        council = f"council {audit['la_code']}" if audit["la_code"] else "records with no council code"
        lines.append(f"  audit {audit['audit_id']} ({council}): {audit['records']:,} records scored")
    for q in data["quarantined"][:shown]:
        lines.append("  " + quarantine_line(q))
    if shown and counts.get("quarantined", 0) > shown:
        more = counts["quarantined"] - shown
        lines.append(f"  ... and {more:,} more quarantined row(s): `auditor runs {data['run_id']}` lists them all")
    if data["error"]:
        lines.append(f"  stopped: {data['error']}")
    return lines


def quarantine_line(q: dict[str, Any]) -> str:
    """A quarantined row, located: file, row, record id, field, and why."""
    where = [q["file"], f"row {q['row']}"]
    if q["record_id"]:
        where.append(f"record {q['record_id']!r}")
    if q["field"]:
        where.append(f"field {q['field']!r}")
    return f"quarantined: {', '.join(where)}: {q['reason']}"


def iter_quarantined(engine: Engine, run_id: str) -> Iterator[dict[str, Any]]:
    with Session(engine) as s:
        yield from _quarantine_rows(s, run_id)


def write_summary(data: dict[str, Any], path: Path) -> None:
    """The summary as JSON, renamed into place when whole."""
    with atomic_text(path) as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


# Column types, so that an empty run still writes files a warehouse can load.
def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    text, number = pa.string(), pa.int64()
    return {
        "records": pa.schema(
            [
                ("run_id", text),
                ("audit_id", text),
                ("la_code", text),
                ("record_id", text),
                ("change", text),
                ("content_hash", text),
                ("record_type", text),
                ("plan_type", text),
                ("team", text),
                ("worker", text),
                ("child_id", text),
                ("recorded_at", text),
                ("plan_start_date", text),
                ("score", number),
                ("grade", text),
                ("findings", number),
            ]
        ),
        "findings": pa.schema(
            [
                ("run_id", text),
                ("la_code", text),
                ("record_id", text),
                ("rule_id", text),
                ("category", text),
                ("severity", text),
                ("start", number),
                ("end", number),
                ("text", text),
                ("message", text),
                ("suggestion", text),
                ("source", text),
                ("confidence", pa.float64()),
            ]
        ),
        "case_findings": pa.schema(
            [
                ("run_id", text),
                ("la_code", text),
                ("child_id", text),
                ("rule_id", text),
                ("category", text),
                ("severity", text),
                ("record_id", text),
                ("team", text),
                ("worker", text),
                ("message", text),
                ("suggestion", text),
                ("evidence", text),
                ("as_of", text),
            ]
        ),
        "quarantine": pa.schema(
            [
                ("run_id", text),
                ("file", text),
                ("row", number),
                ("record_id", text),
                ("field", text),
                ("reason", text),
            ]
        ),
    }


BATCH_ROWS = 10_000


def write_parquet(engine: Engine, run_id: str, folder: Path) -> Path:
    """The run's records, findings, case-level findings and quarantined rows as
    `folder/RUN_ID/{records,findings,case_findings,quarantine}.parquet`; returns that folder. Read and written BATCH_ROWS rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / run_id
    stranded = folder / f".{run_id}.previous"
    if stranded.exists() and not target.exists():  # a rewrite killed between its two renames
        os.replace(stranded, target)
    staging = Path(tempfile.mkdtemp(prefix=f".{run_id}.", dir=folder))
    try:
        schemas = _schemas()
        with Session(engine) as s:
            for name, rows in (
                ("records", _record_rows(s, run_id)),
                ("findings", _finding_rows(s, run_id)),
                ("case_findings", _case_rows(s, run_id)),
                ("quarantine", _quarantine_rows(s, run_id)),
            ):
                schema = schemas[name]
                with pq.ParquetWriter(staging / f"{name}.parquet", schema, compression="zstd") as writer:
                    batch: list[dict[str, Any]] = []
                    for row in rows:
                        batch.append(row)
                        if len(batch) >= BATCH_ROWS:
                            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                            batch = []
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        # The earlier export is moved aside, not deleted, until the new one is in place.
        previous = folder / f".{run_id}.previous" if target.exists() else None
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(target, previous)
        try:
            os.replace(staging, target)
        except BaseException:
            if previous is not None:
                os.replace(previous, target)
            raise
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


_RECORD_COLUMNS = (
    "record_type",
    "plan_type",
    "team",
    "worker",
    "child_id",
    "recorded_at",
    "plan_start_date",
    "score",
    "grade",
)


def _record_rows(s: Session, run_id: str) -> Iterator[dict[str, Any]]:
    count = select(func.count(FindingRow.id)).where(FindingRow.audit_record_id == AuditRecord.id).scalar_subquery()
    query = (
        select(
            AuditRecord.audit_id,
            RecordHistory.la_code,
            AuditRecord.record_id,
            RecordHistory.change,
            RecordHistory.content_hash,
            *(getattr(AuditRecord, c) for c in _RECORD_COLUMNS),
            count.label("findings"),
        )
        .join(AuditRecord, AuditRecord.id == RecordHistory.audit_record_id)
        .where(RecordHistory.run_id == run_id)
        .order_by(RecordHistory.id)
        .execution_options(yield_per=BATCH_ROWS)
    )
    for row in s.execute(query):
        yield {"run_id": run_id, **row._asdict(), "la_code": row.la_code or None}


def _finding_rows(s: Session, run_id: str) -> Iterator[dict[str, Any]]:
    query = (
        select(RecordHistory.la_code, RecordHistory.record_id, FindingRow)
        .join(FindingRow, FindingRow.audit_record_id == RecordHistory.audit_record_id)
        .where(RecordHistory.run_id == run_id)
        .order_by(RecordHistory.id, FindingRow.id)
        .execution_options(yield_per=BATCH_ROWS)
    )
    for la_code, record_id, f in s.execute(query):
        yield {
            "run_id": run_id,
            "la_code": la_code or None,
            "record_id": record_id,
            "rule_id": f.rule_id,
            "category": f.category,
            "severity": f.severity,
            "start": f.start,
            "end": f.end,
            "text": f.text,
            "message": f.message,
            "suggestion": f.suggestion,
            "source": f.source,
            "confidence": f.confidence,
        }


def _case_rows(s: Session, run_id: str) -> Iterator[dict[str, Any]]:
    query = (
        select(CaseFindingRow)
        .where(CaseFindingRow.run_id == run_id)
        .order_by(CaseFindingRow.id)
        .execution_options(yield_per=BATCH_ROWS)
    )
    for f in s.scalars(query):
        yield {
            "run_id": run_id,
            "la_code": f.la_code or None,
            "child_id": f.child_id,
            "rule_id": f.rule_id,
            "category": f.category,
            "severity": f.severity,
            "record_id": f.record_id,
            "team": f.team,
            "worker": f.worker,
            "message": f.message,
            "suggestion": f.suggestion,
            "evidence": json.dumps(f.evidence),
            "as_of": f.as_of,
        }


def _quarantine_rows(s: Session, run_id: str) -> Iterator[dict[str, Any]]:
    query = (
        select(Quarantined)
        .where(Quarantined.run_id == run_id)
        .order_by(Quarantined.id)
        .execution_options(yield_per=BATCH_ROWS)
    )
    for q in s.scalars(query):
        yield {
            "run_id": run_id,
            "file": q.file,
            "row": q.row,
            "record_id": q.record_id,
            "field": q.field,
            "reason": q.reason,
        }
