"""The nightly batch (issue 6): score whole exports into the service's database, incrementally,
surviving interruption.

`run_batch` reads its inputs through a column-mapping profile a chunk at a time (`tables`), and
for each chunk, in one transaction:
- skips each record whose content hash and scoring versions are what the last run stored
  (`record_state`), and scores the new, changed and rescored ones;
- stores them in the run's audit for their council (one audit per `la_code`, made when its first
  record is scored, so that the report shows them), with a `record_history` row each;
- quarantines the rows that cannot be records (and duplicates, and any the engine cannot score)
  with their reason, located by file, row, record id and field;
- moves the run's checkpoint past the chunk, and renews the batch lease.

So a run killed at any moment has stored whole chunks and nothing else, and the next run over the
same inputs resumes after the last whole chunk: no record is scored twice, and none is skipped. A
stop (SIGTERM, Ctrl-C) that arrives while a chunk is being stored waits until it is (`stops`).
One batch writes at a time: the lease row (`batch_lease`) is claimed atomically and renewed with
every chunk; a second run while it is live is refused, and a holder that died is taken over
(at once on the same host, when its process is gone; elsewhere once its lease is stale).

Nothing here logs or stores a record's text outside the audit tables (a plan's actions are kept
beside its state as digests of their words); every problem is located, never quoted.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import (
    ApiKey,
    Audit,
    AuditRecord,
    BatchLease,
    BatchRun,
    BatchRunAudit,
    CaseFindingRow,
    FindingRow,
    Quarantined,
    RecordHistory,
    RecordState,
    finding_values,
    now,
    record_values,
    table,
    utc,
)
from auditor.cases import (
    CaseRecord,
    Settings,
    actions_version,
    check_child,
    kept_actions,
    load_case_rules,
    plan_actions,
)
from auditor.findings import RecordResult
from auditor.profiles import Profile
from auditor.records import InputError, Record, RecordType, nul_field
from auditor.stops import held
from auditor.tables import CHUNK_ROWS, Row, TableError, read_chunks

# Exit statuses of `auditor batch` beside the command line's own (0, 2, 3, 130).
EXIT_QUARANTINED = 4  # the run finished, and some rows were quarantined
EXIT_BUSY = 5  # another batch run holds the lease
EXIT_EMPTY = 6  # the run finished, and its inputs held no rows at all

LEASE_SECONDS = float(os.environ.get("AUDITOR_BATCH_LEASE_SECONDS", "900"))
# Every row read is exactly one of: new, changed, rescored (these three scored), unchanged (skipped) or
# quarantined. `missing` counts records an earlier run read that this one did not.
COUNTS = ("rows", "new", "changed", "rescored", "unchanged", "quarantined", "findings", "missing", "case_findings")
PHASES = ("read", "score", "store", "cases")


class Scorer(Protocol):
    def audit_many(self, records: Iterable[Record]) -> Iterable[RecordResult]: ...


class BatchBusy(RuntimeError):
    """Another run holds the lease."""

    def __init__(self, holder: str, run_id: str | None, heartbeat_at: datetime | None) -> None:
        self.holder, self.run_id, self.heartbeat_at = holder, run_id, heartbeat_at
        seen = f", last heard from at {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if heartbeat_at else ""
        super().__init__(
            f"another batch run ({run_id or 'starting'}) is in progress: process {holder}{seen}; "
            f"a run that died is taken over once {LEASE_SECONDS:.0f} s pass without word from it"
        )


class LeaseLost(RuntimeError):
    """This run's lease was taken over (it went silent for longer than the lease): it stops."""


@dataclass(frozen=True)
class InputFile:
    file: str
    size: int
    sha256: str


def describe_inputs(paths: Sequence[Path]) -> list[InputFile]:
    """Each input's name, size and SHA-256 (what tells a resumable run's inputs from new ones)."""
    described = []
    for path in paths:
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
                    size += len(block)
        except OSError as error:
            raise TableError(str(path), "cannot be read" if path.exists() else "no such file") from error
        described.append(InputFile(str(path), size, digest.hexdigest()))
    return described


def content_hash(record: Record) -> str:
    """SHA-256 of everything a record's score can depend on: its text and every field."""
    payload = json.dumps(record.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


# What the case-level checks read of a record, kept beside its state (`record_state`).
CASE_FACTS = (
    "child_id",
    "record_type",
    "plan_type",
    "recorded_at",
    "plan_start_date",
    "team",
    "worker",
    "plan_actions",
    "actions_version",
)


def case_facts(record: Record, result: RecordResult) -> dict[str, Any]:
    """A record's case facts: no text, and a plan's actions as the drift check compares them
    (digests of their words), as the engine found them if it did."""
    actions = result.plan_actions
    if actions is None and record.record_type is RecordType.plan and record.text:
        actions = kept_actions(plan_actions(record.text))
    return {
        "child_id": record.child_id,
        "record_type": record.record_type.value,
        "plan_type": record.plan_type.value if record.plan_type else None,
        "recorded_at": record.recorded_at.isoformat() if record.recorded_at else None,
        "plan_start_date": record.plan_start_date.isoformat() if record.plan_start_date else None,
        "team": record.team,
        "worker": record.worker,
        "plan_actions": actions,  # a JSON array of [digest, words, done]
        "actions_version": actions_version() if actions is not None else None,
    }


def key_of(record: Record) -> tuple[str, str]:
    """A record's identity across runs: its council and its id."""
    return (record.la_code or "", record.id)


@dataclass
class Progress:
    """What a run reports as it goes (to a progress bar, or a structured log)."""

    run_id: str
    file: str = ""
    file_number: int = 0
    files: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.counts["rows"] / elapsed if elapsed > 0 else 0.0


class Reporter(Protocol):
    def event(self, name: str, progress: Progress, **details: Any) -> None: ...


class Silent:
    def event(self, name: str, progress: Progress, **details: Any) -> None:
        pass


@dataclass
class RunResult:
    """A finished run (one that cannot finish raises instead, and is resumed by the next)."""

    run_id: str
    resumed: bool
    counts: dict[str, int]
    timings: dict[str, float]
    audits: dict[str, str]  # la_code ("" when not recorded) -> audit id

    @property
    def exit_status(self) -> int:
        if self.counts.get("quarantined"):
            return EXIT_QUARANTINED
        return EXIT_EMPTY if not self.counts.get("rows") else 0


def versions_digest(versions: dict[str, str]) -> str:
    return _digest(versions)


def run_batch(
    engine: Engine,
    scorer: Scorer,
    versions: dict[str, str],
    paths: Sequence[Path],
    profile: Profile,
    *,
    chunk_rows: int = CHUNK_ROWS,
    rescore_all: bool = False,
    reporter: Reporter | None = None,
    as_of: date | None = None,
    case_settings: Settings | None = None,
) -> RunResult:
    """Score `paths` into the database; resume the unfinished run over the same inputs if there
    is one. Raises TableError (nothing written) for an input that cannot be read or whose header
    row the profile cannot account for, and BatchBusy while another run holds the lease."""
    for path in paths:  # every header, before anything is written
        first = read_chunks(path, profile, chunk_rows=1)
        try:
            next(first, None)
        except TableError as problem:
            if problem.row is None:  # the file or its header: a row's problem is the run's to quarantine
                raise
        first.close()
    inputs = describe_inputs(paths)
    fingerprint = _digest(
        {
            "inputs": [i.__dict__ for i in inputs],
            "profile": profile.model_dump(mode="json"),
            "chunk_rows": chunk_rows,
            "versions": versions,
            "rescore_all": rescore_all,
        }
    )
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    try:  # a stop that arrives while the lease is claimed is raised after the claim: release it
        _claim(engine, holder)
        run, resumed = _start(engine, holder, fingerprint, inputs, profile, chunk_rows, versions)
        batch = _Run(engine, scorer, run, holder, paths, profile, versions, rescore_all, reporter or Silent())
        return batch.go(resumed, as_of or now().date(), case_settings or Settings())
    finally:
        _release(engine, holder)


@contextmanager
def _session(engine: Engine, *, hold: bool = True, **options: Any) -> Iterator[Session]:
    """A session that a stop (SIGTERM, Ctrl-C) does not break into: one that arrives inside it is
    raised once its transaction is over and its connection is back in the pool (`stops`). With
    `hold=False`, a stop may end its work part way (which rolls back), but not its closing."""
    with held() if hold else nullcontext():
        session = Session(engine, **options)
        try:
            yield session
        finally:
            with held():
                session.close()


# -- the lease ----------------------------------------------------------------------------------


def _claim(engine: Engine, holder: str) -> None:
    lease = table(BatchLease)
    with _session(engine) as s:
        current = s.execute(select(lease).where(lease.c.id == 1)).one()
        stale = now() - timedelta(seconds=LEASE_SECONDS)
        taken = s.execute(
            update(lease)
            .where(
                lease.c.id == 1,
                (lease.c.holder.is_(None)) | (lease.c.heartbeat_at < stale) | (lease.c.holder == _dead(current.holder)),
            )
            .values(holder=holder, heartbeat_at=now(), run_id=None)
        )
        s.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            latest = s.execute(select(lease).where(lease.c.id == 1)).one()
            heartbeat = utc(latest.heartbeat_at) if latest.heartbeat_at else None
            raise BatchBusy(latest.holder or "?", latest.run_id, heartbeat)


def _dead(holder: str | None) -> str | None:
    """`holder` if it was a process on this host that is gone (so its lease can be taken at once)."""
    if not holder:
        return None
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():  # this process's pid, another run's holder: a restarted container's
        return holder
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return holder
    except PermissionError:  # alive, another user's
        return None
    return None


def _renew(s: Session, holder: str, run_id: str) -> None:
    """Renew the lease inside the chunk's transaction: if another run took it, nothing commits."""
    lease = table(BatchLease)
    renewed = s.execute(
        update(lease).where(lease.c.id == 1, lease.c.holder == holder).values(heartbeat_at=now(), run_id=run_id)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost("this run's lease was taken over by another run; it stops here")


def _release(engine: Engine, holder: str) -> None:
    lease = table(BatchLease)
    with _session(engine) as s:
        s.execute(update(lease).where(lease.c.id == 1, lease.c.holder == holder).values(holder=None))
        s.commit()


# -- starting and resuming ------------------------------------------------------------------------


def _start(
    engine: Engine,
    holder: str,
    fingerprint: str,
    inputs: list[InputFile],
    profile: Profile,
    chunk_rows: int,
    versions: dict[str, str],
) -> tuple[BatchRun, bool]:
    """The unfinished run over these same inputs (resumed), or a new run. Unfinished runs over other
    inputs are abandoned: their audits are marked failed, and the records they stored are scored
    again by the new run."""
    with _session(engine, expire_on_commit=False) as s:
        unfinished = list(s.scalars(select(BatchRun).where(BatchRun.status == "running")))
        resumable = next((r for r in unfinished if r.fingerprint == fingerprint), None)
        for run in unfinished:
            if run is not resumable:
                run.status, run.finished_at = "abandoned", now()
                _finish_audits(s, run.id, "failed", "the run stopped and was not resumed (its inputs changed)")
        if resumable is not None:
            resumable.resumed += 1
            _renew(s, holder, resumable.id)
            s.commit()
            return resumable, True
        run = BatchRun(
            id=str(uuid.uuid4()),
            started_at=now(),
            status="running",
            profile=profile.name,
            inputs=[i.__dict__ for i in inputs],
            fingerprint=fingerprint,
            chunk_rows=chunk_rows,
            versions=versions,
            file_index=0,
            rows_done=0,
            counts={name: 0 for name in COUNTS},
            timings={name: 0.0 for name in PHASES},
            resumed=0,
        )
        s.add(run)
        _renew(s, holder, run.id)
        s.commit()
        return run, False


def _finish_audits(s: Session, run_id: str, status: str, error: str | None = None) -> None:
    audits = select(BatchRunAudit.audit_id).where(BatchRunAudit.run_id == run_id)
    s.execute(update(Audit).where(Audit.id.in_(audits)).values(status=status, error=error))


def _batch_owner(s: Session) -> int:
    """The key batch audits are recorded as submitted by: revoked when made, so nobody holds it."""
    name = "nightly batch (auditor batch)"
    found = s.scalars(select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_not(None))).first()
    if found is not None:
        return found
    from api.keys import Role, create_key, revoke_key

    _plain, owner = create_key(s, Role.auditor, name)
    revoke_key(s, owner.id)
    return owner.id


# -- a run ---------------------------------------------------------------------------------------


@dataclass
class _Decision:
    row: Row
    record: Record
    key: tuple[str, str]
    digest: str
    change: str  # new, changed, rescored, unchanged


class _Run:
    def __init__(
        self,
        engine: Engine,
        scorer: Scorer,
        run: BatchRun,
        holder: str,
        paths: Sequence[Path],
        profile: Profile,
        versions: dict[str, str],
        rescore_all: bool,
        reporter: Reporter,
    ) -> None:
        self.engine, self.scorer, self.run, self.holder = engine, scorer, run, holder
        self.paths, self.profile, self.versions, self.rescore_all = paths, profile, versions, rescore_all
        self.versions_digest = versions_digest(versions)
        self.reporter = reporter
        self.counts: Counter[str] = Counter(run.counts)
        self.timings: defaultdict[str, float] = defaultdict(float, run.timings)
        self.progress = Progress(run.id, files=len(paths))
        with _session(engine) as s:
            self.audits = dict(
                s.execute(
                    select(BatchRunAudit.la_code, BatchRunAudit.audit_id).where(BatchRunAudit.run_id == run.id)
                ).all()
            )
            positions = s.execute(
                select(AuditRecord.audit_id, func.max(AuditRecord.position))
                .where(AuditRecord.audit_id.in_(list(self.audits.values())))
                .group_by(AuditRecord.audit_id)
            ).all()
            self.next_position = {audit_id: (last or 0) + 1 for audit_id, last in positions}
            self.owner: int | None = None
            # Records last scored by these runs are scored again: their runs never finished.
            self.unfinished_runs = set(
                s.scalars(select(BatchRun.id).where(BatchRun.status.in_(("abandoned", "failed"))))
            )
        self.total_before, self.started = self.timings.get("total", 0.0), time.monotonic()

    def go(self, resumed: bool, as_of: date, case_settings: Settings) -> RunResult:
        run = self.run
        self.as_of, self.case_settings = as_of, case_settings
        self.reporter.event(
            "run_resumed" if resumed else "run_started",
            self.progress,
            profile=self.profile.name,
            files=len(self.paths),
            checkpoint={"file_index": run.file_index, "rows_done": run.rows_done},
        )
        for index, path in enumerate(self.paths):
            if index >= run.file_index:
                self._file(index, path, run.rows_done if index == run.file_index else 0)
        tick = time.monotonic()
        self.counts["case_findings"] = self._case_checks()
        self.timings["cases"] += time.monotonic() - tick
        with _session(self.engine) as s:
            self.counts["missing"] = self._missing(s)
            s.execute(
                update(BatchRun)
                .where(BatchRun.id == run.id)
                .values(status="done", finished_at=now(), counts=dict(self.counts), timings=self._timings())
            )
            _finish_audits(s, run.id, "done")
            s.commit()
        result = RunResult(run.id, resumed, dict(self.counts), self._timings(), dict(self.audits))
        self.reporter.event("run_finished", self.progress, status="done")
        return result

    def _file(self, index: int, path: Path, done: int) -> None:
        """Read one file from its checkpoint. A file that turns malformed part way (a broken quote,
        bytes that are not text) cannot be read past that row: the rest of it is quarantined as one
        row naming where it stopped, and the run goes on to the next file."""
        progress = self.progress
        progress.file, progress.file_number = str(path), index + 1
        self.reporter.event("file_started", progress, file=str(path), skipping=done)
        seen = 0
        tick = time.monotonic()
        stopped: TableError | None = None
        chunks = read_chunks(path, self.profile, self.run.chunk_rows)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except TableError as failure:
                stopped = failure
                break
            self.timings["read"] += time.monotonic() - tick
            if seen + len(chunk) > done:
                self._chunk(index, seen + len(chunk), chunk[max(0, done - seen) :])
                self.reporter.event("checkpoint", progress, file=str(path), rows_done=seen + len(chunk))
            seen += len(chunk)
            tick = time.monotonic()
        self.timings["read"] += time.monotonic() - tick
        with _session(self.engine) as s:  # the file is done: the checkpoint moves to the next
            _renew(s, self.holder, self.run.id)
            if stopped is not None:
                reason = f"{stopped.message}; the rest of the file was not read"[:300]
                s.execute(
                    insert(table(Quarantined)),
                    [
                        {
                            "run_id": self.run.id,
                            "file": str(path)[:500],
                            "row": stopped.row or 0,
                            "record_id": None,
                            "field": None,
                            "reason": reason,
                        }
                    ],
                )
                self.counts["quarantined"] += 1
                self.counts["unread_files"] += 1
                progress.counts["quarantined"] += 1
            s.execute(
                update(BatchRun)
                .where(BatchRun.id == self.run.id)
                .values(file_index=index + 1, rows_done=0, counts=dict(self.counts), timings=self._timings())
            )
            s.commit()
        self.reporter.event("file_done", progress, file=str(path), rows=seen, stopped=stopped is not None)

    def _chunk(self, file_index: int, rows_done: int, rows: list[Row]) -> None:
        tick = time.monotonic()
        counts: Counter[str] = Counter(rows=len(rows))
        quarantine: list[dict[str, Any]] = []
        candidates: list[tuple[Row, Record]] = []
        for row in rows:  # what cannot be a record never reaches a query (a NUL cannot be sent to PostgreSQL)
            record = row.record
            if record is None:
                quarantine.append(self._quarantined(row.problem))  # type: ignore[arg-type]
                continue
            nul = nul_field(record)
            if nul is not None:
                record_id = None if nul == "id" else record.id
                problem = InputError(row.file, "contains a NUL character", row.row, record_id, nul)
                quarantine.append(self._quarantined(problem))
                continue
            candidates.append((row, record))
        with _session(self.engine) as s:
            known = self._known(s, [record for _, record in candidates])
        in_chunk: set[tuple[str, str]] = set()
        decisions: list[_Decision] = []
        for row, record in candidates:
            key = key_of(record)
            state = known.get(key)
            if key in in_chunk or (state is not None and state[2] == self.run.id):
                quarantine.append(self._quarantined(_duplicate(row, record)))
                continue
            in_chunk.add(key)
            digest = content_hash(record)
            if state is None:
                change = "new"
            elif state[0] != digest:
                change = "changed"
            elif state[1] != self.versions_digest or self.rescore_all or state[3] in self.unfinished_runs:
                change = "rescored"  # new rules or model, or last scored by a run that never finished
            else:
                change = "unchanged"
            decisions.append(_Decision(row, record, key, digest, change))
        self.timings["read"] += time.monotonic() - tick
        tick = time.monotonic()
        to_score = [d for d in decisions if d.change != "unchanged"]
        results, unscorable = self._score(to_score)  # outside any transaction: it may take a while
        quarantine += unscorable
        self.timings["score"] += time.monotonic() - tick
        scored = [(d, r) for d, r in zip(to_score, results, strict=True) if r is not None]
        tick = time.monotonic()
        facts = [case_facts(d.record, r) for d, r in scored]  # a plan's actions, read once, as it is scored
        self.timings["cases"] += time.monotonic() - tick
        tick = time.monotonic()
        counts.update(d.change for d, _ in scored)
        counts["unchanged"] = len(decisions) - len(to_score)
        counts["quarantined"] = len(quarantine)
        counts["findings"] = sum(len(r.findings) for _, r in scored)
        with _session(self.engine) as s:
            _renew(s, self.holder, self.run.id)  # first: a run whose lease was taken writes nothing
            self._store(s, scored, facts, [d for d in decisions if d.change == "unchanged"], quarantine)
            self.counts.update(counts)
            self.timings["store"] += time.monotonic() - tick
            s.execute(
                update(BatchRun)
                .where(BatchRun.id == self.run.id)
                .values(file_index=file_index, rows_done=rows_done, counts=dict(self.counts), timings=self._timings())
            )
            s.commit()
        self.progress.counts.update(counts)

    def _timings(self) -> dict[str, float]:
        """The run's timings so far, over every process that worked on it (a resumed run's too)."""
        self.timings["total"] = self.total_before + time.monotonic() - self.started
        return {k: round(v, 3) for k, v in self.timings.items()}

    def _known(self, s: Session, records: list[Record]) -> dict[tuple[str, str], tuple[str, str, str, str]]:
        """What the batch knew of these records: key -> (content hash, versions digest, the last run
        that read it, the run that scored it)."""
        by_council: dict[str, list[str]] = {}
        for record in records:
            by_council.setdefault(record.la_code or "", []).append(record.id)
        state = table(RecordState)
        known: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        for la_code, ids in by_council.items():
            for part in _slices(ids):
                for row in s.execute(
                    select(
                        state.c.record_id,
                        state.c.content_hash,
                        state.c.versions_digest,
                        state.c.last_seen_run,
                        state.c.scored_run,
                    ).where(state.c.la_code == la_code, state.c.record_id.in_(part))
                ):
                    known[(la_code, row.record_id)] = (
                        row.content_hash,
                        row.versions_digest,
                        row.last_seen_run,
                        row.scored_run,
                    )
        return known

    def _quarantined(self, problem: InputError) -> dict[str, Any]:
        return {
            "run_id": self.run.id,
            "file": problem.file[:500],
            "row": problem.row or 0,
            "record_id": problem.record_id[:200] if problem.record_id else None,
            "field": problem.field[:100] if problem.field else None,
            "reason": problem.message[:300],
        }

    def _score(self, decisions: list[_Decision]) -> tuple[list[RecordResult | None], list[dict[str, Any]]]:
        """Each record's result; a chunk the engine fails on is scored record by record, and the
        records it cannot score are quarantined (None in their place) so the run goes on."""
        records = [d.record for d in decisions]
        try:
            return list(self.scorer.audit_many(records)), []
        except Exception as error:
            if _not_the_records_fault(error):
                raise
        results: list[RecordResult | None] = []
        quarantine = []
        for d in decisions:
            try:
                results.append(next(iter(self.scorer.audit_many([d.record]))))
            except Exception as error:
                if _not_the_records_fault(error):
                    raise
                results.append(None)
                reason = f"could not be scored ({error.__class__.__name__})"
                quarantine.append(self._quarantined(InputError(d.row.file, reason, d.row.row, d.record.id)))
        return results, quarantine

    def _store(
        self,
        s: Session,
        scored: list[tuple[_Decision, RecordResult]],
        facts: list[dict[str, Any]],
        unchanged: list[_Decision],
        quarantine: list[dict[str, Any]],
    ) -> None:
        records, states, history = table(AuditRecord), table(RecordState), table(RecordHistory)
        values = []
        for decision, result in scored:
            audit_id = self._audit_for(s, decision.key[0])
            position = self.next_position.get(audit_id, 0)
            self.next_position[audit_id] = position + 1
            values.append(record_values(audit_id, position, decision.record, result))
        if values:
            ids = list(s.scalars(insert(records).returning(records.c.id, sort_by_parameter_order=True), values))
            findings = [
                finding_values(i, f) for i, (_, result) in zip(ids, scored, strict=True) for f in result.findings
            ]
            if findings:
                s.execute(insert(table(FindingRow)), findings)
            at = now()
            s.execute(
                insert(history),
                [
                    {
                        "la_code": d.key[0],
                        "record_id": d.key[1],
                        "run_id": self.run.id,
                        "content_hash": d.digest,
                        "change": d.change,
                        "audit_record_id": i,
                        "at": at,
                    }
                    for i, (d, _) in zip(ids, scored, strict=True)
                ],
            )
            fresh = [
                {
                    "la_code": d.key[0],
                    "record_id": d.key[1],
                    "content_hash": d.digest,
                    "versions_digest": self.versions_digest,
                    "audit_record_id": i,
                    "scored_run": self.run.id,
                    "last_seen_run": self.run.id,
                    **fact,
                }
                for i, (d, _), fact in zip(ids, scored, facts, strict=True)
            ]
            new = [v for v, (d, _) in zip(fresh, scored, strict=True) if d.change == "new"]
            if new:
                s.execute(insert(states), new)
            again = [
                {f"k_{k}" if k in ("la_code", "record_id") else k: v for k, v in row.items()}
                for row, (d, _) in zip(fresh, scored, strict=True)
                if d.change != "new"
            ]
            if again:
                s.execute(
                    update(states)
                    .where(states.c.la_code == bindparam("k_la_code"), states.c.record_id == bindparam("k_record_id"))
                    .values(
                        content_hash=bindparam("content_hash"),
                        versions_digest=bindparam("versions_digest"),
                        audit_record_id=bindparam("audit_record_id"),
                        scored_run=bindparam("scored_run"),
                        last_seen_run=bindparam("last_seen_run"),
                        **{name: bindparam(name) for name in CASE_FACTS},
                    )
                    .execution_options(synchronize_session=False),
                    again,
                )
            added = Counter(v["audit_id"] for v in values)
            for audit_id, n in added.items():
                s.execute(update(Audit).where(Audit.id == audit_id).values(record_count=Audit.record_count + n))
        by_council: dict[str, list[str]] = {}
        for d in unchanged:  # seen tonight: what tells a duplicate, and a record gone from the export
            by_council.setdefault(d.key[0], []).append(d.key[1])
        for la_code, ids in by_council.items():
            for part in _slices(ids):
                s.execute(
                    update(states)
                    .where(states.c.la_code == la_code, states.c.record_id.in_(part))
                    .values(last_seen_run=self.run.id)
                    .execution_options(synchronize_session=False)
                )
        if quarantine:
            s.execute(insert(table(Quarantined)), quarantine)

    def _audit_for(self, s: Session, la_code: str) -> str:
        """The run's audit for this council, made (in the chunk's transaction) on first use."""
        found = self.audits.get(la_code)
        if found is not None:
            return found
        if self.owner is None:
            self.owner = _batch_owner(s)
        audit_id = str(uuid.uuid4())
        started = utc(self.run.started_at)
        label = f"Batch run {started:%d %b %Y}" + (f", council {la_code}" if la_code else "")
        s.execute(
            insert(table(Audit)),
            [
                {
                    "id": audit_id,
                    "created_at": started,
                    "submitted_by": self.owner,
                    "idempotency_key": None,
                    "request_digest": self.run.fingerprint,
                    "status": "running",
                    "record_count": 0,
                    "versions": self.versions,
                    "error": None,
                    "label": label[:200],
                }
            ],
        )
        s.execute(insert(table(BatchRunAudit)), [{"run_id": self.run.id, "la_code": la_code, "audit_id": audit_id}])
        # Made in the chunk's transaction: if that does not commit, the run stops, and the run that
        # resumes it reads the run's audits afresh.
        self.audits[la_code] = audit_id
        return audit_id

    def _case_checks(self) -> int:
        """Case-level findings as of `as_of` for every child of the records this run read, over the
        latest version of each of their records, written in one transaction (a resumed run writes
        them afresh)."""
        state, records = table(RecordState), table(AuditRecord)
        # Every child a record of tonight's belongs to, with all their records the batch knows: a
        # record quarantined tonight, or left out of the export, still shows the child's history.
        seen_children = select(state.c.la_code, state.c.child_id).where(
            state.c.last_seen_run == self.run.id, state.c.child_id.is_not(None), state.c.audit_record_id.is_not(None)
        )
        # A plan whose actions were not kept under this code's version (stored before they were
        # kept, or before that code changed): its text, read from its row, and its actions kept anew.
        version = actions_version()
        stale = or_(state.c.plan_actions.is_(None), func.coalesce(state.c.actions_version, "") != version)
        legacy_text = select(records.c.text).where(records.c.id == state.c.audit_record_id).scalar_subquery()
        query = (
            select(
                state.c.la_code,
                state.c.child_id,
                state.c.record_id.label("id"),
                state.c.record_type,
                state.c.plan_type,
                state.c.recorded_at,
                state.c.plan_start_date,
                case(
                    (
                        and_(state.c.record_type == "plan", stale),
                        func.coalesce(legacy_text, ""),
                    ),
                    else_="",
                ).label("text"),
                state.c.plan_actions,
                state.c.actions_version,
                state.c.team,
                state.c.worker,
            )
            .where(tuple_(state.c.la_code, state.c.child_id).in_(seen_children), state.c.audit_record_id.is_not(None))
            .order_by(state.c.la_code, state.c.child_id)
            .execution_options(yield_per=5000)
        )
        rules, found, as_of = load_case_rules(), 0, self.as_of.isoformat()
        with _session(self.engine, hold=False) as s:  # a long read: a stop may end it part way
            s.execute(delete(table(CaseFindingRow)).where(table(CaseFindingRow).c.run_id == self.run.id))
            pending: list[dict[str, Any]] = []
            renewed: list[dict[str, Any]] = []  # plans whose actions were read from their text
            for (la_code, child_id), rows in groupby(s.execute(query), key=lambda r: (r.la_code, r.child_id)):
                child = []
                for r in rows:
                    actions = None
                    if r.plan_actions is not None and r.actions_version == version:
                        actions = r.plan_actions
                    elif r.text:
                        actions = kept_actions(plan_actions(r.text))
                        renewed.append({"k_la_code": la_code, "k_record_id": r.id, "plan_actions": actions})
                    fields = {k: v for k, v in r._asdict().items() if k not in _NOT_READ}
                    child.append(CaseRecord.model_validate({**fields, "text": "", "actions": actions}))
                by_id = {r.id: r for r in child}
                for f in check_child(child, self.as_of, rules, self.case_settings):
                    anchor = by_id[f.record_id]
                    pending.append(
                        {
                            "run_id": self.run.id,
                            "la_code": la_code,
                            "child_id": child_id,
                            "rule_id": f.rule_id,
                            "category": f.category.value,
                            "severity": f.severity.value,
                            "record_id": f.record_id,
                            "team": anchor.team,
                            "worker": anchor.worker,
                            "message": f.message,
                            "suggestion": f.suggestion,
                            "citation": f.citation,
                            "evidence": f.evidence,
                            "as_of": as_of,
                        }
                    )
                if len(pending) >= 1000:
                    found += len(pending)
                    s.execute(insert(table(CaseFindingRow)), pending)
                    pending = []
                if len(renewed) >= 1000:
                    self._keep_actions(s, renewed, version)
                    renewed = []
            if pending:
                found += len(pending)
                s.execute(insert(table(CaseFindingRow)), pending)
            with held():
                self._keep_actions(s, renewed, version)
                _renew(s, self.holder, self.run.id)
                s.commit()
        return found

    @staticmethod
    def _keep_actions(s: Session, renewed: list[dict[str, Any]], version: str) -> None:
        """Keep the actions of plans read from their text, so that the next run need not read them."""
        if not renewed:
            return
        state = table(RecordState)
        s.execute(
            update(state)
            .where(state.c.la_code == bindparam("k_la_code"), state.c.record_id == bindparam("k_record_id"))
            .values(plan_actions=bindparam("plan_actions"), actions_version=version)
            .execution_options(synchronize_session=False),
            renewed,
        )

    def _missing(self, s: Session) -> int:
        """Records an earlier run read that this run did not: a shorter export than last night's
        (or an empty one) shows here."""
        state = table(RecordState)
        return s.scalar(select(func.count()).select_from(state).where(state.c.last_seen_run != self.run.id)) or 0


_NOT_READ = ("la_code", "child_id", "plan_actions", "actions_version")  # the group's key, and what is read apart
SLICE = 500  # ids per IN list: SQLite before 3.32 allows 999 parameters, psycopg 65,535


def _slices(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), SLICE):
        yield ids[start : start + SLICE]


def _duplicate(row: Row, record: Record) -> InputError:
    where = f" for council {record.la_code}" if record.la_code else ""
    return InputError(
        row.file, f"the record id{where} was already read in this run (a duplicate row)", row.row, record.id, "id"
    )


def _not_the_records_fault(error: Exception) -> bool:
    """Errors that say the scorer is unavailable, not that a record is bad: the run stops on them."""
    from api.scoring import ScoringUnavailable

    return isinstance(error, ScoringUnavailable | MemoryError)
