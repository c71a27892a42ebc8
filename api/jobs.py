"""Durable jobs: a large batch is stored whole, unscored, before `202` is returned; a worker
thread in the service process (one per `auditor serve`) then scores it a chunk at a time.

Each chunk's scores and findings are written in one transaction, and a record's results are
written only if it is still unscored (`UPDATE ... WHERE score IS NULL`), so a process killed
mid-chunk loses only that chunk's uncommitted work, and two services sharing one database never
store one record twice.
At start-up, and whenever it wakes, the worker resumes every audit that is not finished.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import Audit, AuditRecord, FindingRow, finding_values, table
from api.scoring import Scoring, ScoringUnavailable
from auditor.records import Record

logger = logging.getLogger("uvicorn.error")
CHUNK = 64


def record_of(row: AuditRecord) -> Record:
    """The stored record, as it was submitted."""
    return Record(
        id=row.record_id,
        record_type=row.record_type,  # type: ignore[arg-type]
        plan_type=row.plan_type,  # type: ignore[arg-type]
        text=row.text,
        team=row.team,
        worker=row.worker,
        child_id=row.child_id,
        la_code=row.la_code,
        recorded_at=row.recorded_at,  # type: ignore[arg-type]
        plan_start_date=row.plan_start_date,  # type: ignore[arg-type]
    )


def unfinished(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(
            s.scalars(select(Audit.id).where(Audit.status.in_(("queued", "running"))).order_by(Audit.created_at))
        )


def run_audit(
    engine: Engine,
    auditor: Scoring,
    audit_id: str,
    stop: threading.Event | None = None,
    on_scored: Callable[[str, list[str]], None] | None = None,
) -> bool:
    """Score every unscored record of the audit, a chunk per transaction; True when it is done."""
    with Session(engine) as s:
        s.execute(update(Audit).where(Audit.id == audit_id, Audit.status == "queued").values(status="running"))
        s.commit()
    while stop is None or not stop.is_set():
        with Session(engine) as s:
            rows = list(
                s.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.audit_id == audit_id, AuditRecord.score.is_(None))
                    .order_by(AuditRecord.position)
                    .limit(CHUNK)
                )
            )
            if not rows:
                s.execute(update(Audit).where(Audit.id == audit_id).values(status="done"))
                s.commit()
                return True
            try:
                results = list(auditor.audit_many([record_of(r) for r in rows]))
            except ScoringUnavailable:
                raise  # not the records' fault: the worker tries the chunk again
            except Exception as error:
                # A record the engine cannot score would fail the same way on every retry: the job
                # stops as failed, naming the first record of the chunk and the kind of error.
                s.rollback()
                reason = f"{error.__class__.__name__} while scoring a chunk starting at record {rows[0].record_id!r}"
                s.execute(update(Audit).where(Audit.id == audit_id).values(status="failed", error=reason[:300]))
                s.commit()
                logger.error("job %s failed: %s", audit_id, error.__class__.__name__)
                return True
            findings = []
            for row, result in zip(rows, results, strict=True):
                claimed = s.execute(
                    update(AuditRecord)
                    .where(AuditRecord.id == row.id, AuditRecord.score.is_(None))
                    .values(score=result.score, grade=result.grade.value)
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    findings += [finding_values(row.id, f) for f in result.findings]
                    if on_scored is not None:
                        on_scored("job", [f.category.value for f in result.findings])
            if findings:  # the chunk's findings in one statement
                s.execute(insert(table(FindingRow)), findings)
            s.commit()
    return False


class Worker:
    """The service's background worker: one thread, resuming and finishing stored jobs."""

    def __init__(
        self,
        engine: Engine,
        auditor: Scoring,
        poll_seconds: float = 1.0,
        on_scored: Callable[[str, list[str]], None] | None = None,
    ) -> None:
        self.engine, self.auditor, self.poll_seconds, self.on_scored = engine, auditor, poll_seconds, on_scored
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="auditor-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for audit_id in unfinished(self.engine):
                    if self._stop.is_set():
                        break
                    run_audit(self.engine, self.auditor, audit_id, self._stop, self.on_scored)
            except Exception as error:  # the worker must outlive one bad moment (a lost connection)
                logger.error("job worker: %s; retrying", error.__class__.__name__)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


def progress(s: Session, visible: Any) -> dict[str, Any]:
    """How far a job got, over the records of `visible` (a query of the audit's records this key
    may read: a manager learns nothing of other teams' records, not even how many there are)."""
    records = visible.subquery()
    total, scored = s.execute(select(func.count(), func.count(records.c.score))).one()
    return {"scored": scored, "total": total}
