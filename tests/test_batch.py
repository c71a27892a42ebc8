"""The nightly batch (issue 6): incremental runs with history, quarantine, checkpoints and
resumption, the lease that lets one run write at a time, and what a run leaves (summary, Parquet,
HTML report), on SQLite and (with AUDITOR_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import (
    Audit,
    AuditRecord,
    BatchLease,
    BatchRun,
    BatchRunAudit,
    FindingRow,
    Quarantined,
    RecordHistory,
    RecordState,
    make_engine,
    migrate,
    now,
)
from auditor import batch as batch_module
from auditor import stops
from auditor.batch import (
    EXIT_QUARANTINED,
    BatchBusy,
    LeaseLost,
    RunResult,
    content_hash,
    run_batch,
)
from auditor.batchout import summary, summary_lines, write_parquet
from auditor.engine import Auditor
from auditor.findings import RecordResult
from auditor.profiles import load_profile
from auditor.records import Record
from auditor.tables import TableError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [json.loads(line) for line in (ROOT / "sample_records" / "records.jsonl").read_text().splitlines()]
GENERIC = load_profile("generic")


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def records(n: int, la_code: str | None = "894", prefix: str = "R") -> list[dict[str, Any]]:
    """`n` records: the samples' texts under new ids, cycling."""
    out = []
    for i in range(n):
        sample = dict(SAMPLES[i % len(SAMPLES)])
        sample["id"] = f"{prefix}-{i:04d}"
        sample["la_code"] = la_code
        out.append(sample)
    return out


def write_jsonl(path: Path, items: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write((item if isinstance(item, str) else json.dumps(item)) + "\n")
    return path


def run(db: Engine, scorer: Any, *paths: Path, **options: Any) -> RunResult:
    versions = options.pop("versions", None) or {"auditor": "test", "rules": "r1", "model": "off"}
    return run_batch(db, scorer, versions, list(paths), options.pop("profile", GENERIC), **options)


def count(db: Engine, model: Any, *where: Any) -> int:
    with Session(db) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def stored_ids(db: Engine, audit_ids: Iterable[str]) -> list[str]:
    with Session(db) as s:
        return list(s.scalars(select(AuditRecord.record_id).where(AuditRecord.audit_id.in_(list(audit_ids)))))


class Scripted:
    """A scorer that fails as told: a ValueError on a record id, or Ctrl-C on its nth call."""

    def __init__(self, inner: Auditor, bad_id: str | None = None, interrupt_on_call: int | None = None) -> None:
        self.inner, self.bad_id, self.interrupt_on_call, self.calls = inner, bad_id, interrupt_on_call, 0
        self.on_call: Any = None

    def audit_many(self, batch: Iterable[Record]) -> list[RecordResult]:
        batch = list(batch)
        self.calls += 1
        if self.on_call is not None:
            self.on_call(self.calls)
        if self.interrupt_on_call == self.calls:
            raise KeyboardInterrupt
        if any(r.id == self.bad_id for r in batch):
            raise ValueError("cannot score")
        return list(self.inner.audit_many(batch))


# -- incremental runs -------------------------------------------------------------------------------


def test_a_first_run_scores_every_record_into_an_audit_per_council(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(5, "894") + records(4, "201") + records(3, None, prefix="N")
    source = write_jsonl(tmp_path / "export.jsonl", items)
    result = run(db, auditor, source, chunk_rows=4)
    assert result.exit_status == 0 and not result.resumed
    assert result.counts["rows"] == 12 and result.counts["new"] == 12 and result.counts["quarantined"] == 0
    assert set(result.audits) == {"894", "201", ""}
    assert sorted(stored_ids(db, [result.audits["201"]])) == [f"R-{i:04d}" for i in range(4)]
    with Session(db) as s:
        audits = {a.id: a for a in s.scalars(select(Audit))}
        assert all(a.status == "done" for a in audits.values())
        assert audits[result.audits["894"]].record_count == 5
        assert "council 894" in (audits[result.audits["894"]].label or "")
        # Scored as `auditor check` scores them: the same scores and findings.
        expected = {r.id: r for r in auditor.audit_many([Record.model_validate(i) for i in items[5:9]])}
        stored = s.scalars(select(AuditRecord).where(AuditRecord.audit_id == result.audits["201"])).all()
        for row in stored:
            assert row.score == expected[row.record_id].score
            assert [(f.rule_id, f.start, f.end) for f in row.findings] == [
                (f.rule_id, f.start, f.end) for f in expected[row.record_id].findings
            ]
    assert count(db, RecordState) == 12 and count(db, RecordHistory, RecordHistory.change == "new") == 12
    assert result.counts["findings"] == count(db, FindingRow)


def test_a_rerun_scores_only_what_changed_and_keeps_each_version(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(8)
    first = run(db, auditor, write_jsonl(tmp_path / "night1.jsonl", items), chunk_rows=3)
    changed = dict(items[2], text=items[2]["text"] + "\nSW to visit weekly until the review on 01/02/2021.")
    added = records(1, prefix="NEW")[0]
    tonight = [*items[:2], changed, *items[3:7], added]  # items[7] is gone from tonight's export
    second = run(db, auditor, write_jsonl(tmp_path / "night2.jsonl", tonight), chunk_rows=3)
    assert second.run_id != first.run_id
    assert {k: second.counts[k] for k in ("rows", "new", "changed", "rescored", "unchanged", "missing")} == {
        "rows": 8,
        "new": 1,
        "changed": 1,
        "rescored": 0,
        "unchanged": 6,
        "missing": 1,
    }
    # Tonight's audit holds tonight's work; last night's keeps what it scored.
    assert sorted(stored_ids(db, second.audits.values())) == ["NEW-0000", "R-0002"]
    assert len(stored_ids(db, first.audits.values())) == 8
    with Session(db) as s:
        history = s.execute(
            select(RecordHistory.change, RecordHistory.content_hash, AuditRecord.text, RecordHistory.audit_record_id)
            .join(AuditRecord, AuditRecord.id == RecordHistory.audit_record_id)
            .where(RecordHistory.record_id == "R-0002")
            .order_by(RecordHistory.id)
        ).all()
        assert [h.change for h in history] == ["new", "changed"]
        assert history[0].text == items[2]["text"] and history[1].text == changed["text"]
        assert history[0].content_hash != history[1].content_hash
        state = s.get(RecordState, ("894", "R-0002"))
        assert state is not None and state.audit_record_id == history[1].audit_record_id
        assert state.content_hash == content_hash(Record.model_validate(changed))
    third = run(db, auditor, write_jsonl(tmp_path / "night3.jsonl", tonight), chunk_rows=3)
    assert third.counts["unchanged"] == 8 and third.counts["new"] + third.counts["changed"] == 0
    assert third.audits == {}  # nothing scored: no empty audit in the report


def test_a_new_rule_set_or_model_scores_every_record_again(db: Engine, auditor: Auditor, tmp_path: Path):
    source = write_jsonl(tmp_path / "export.jsonl", records(5))
    run(db, auditor, source)
    again = run(db, auditor, source, versions={"auditor": "test", "rules": "r2", "model": "off"})
    assert again.counts["rescored"] == 5 and again.counts["unchanged"] == 0
    assert count(db, RecordHistory, RecordHistory.change == "rescored") == 5
    forced = run(db, auditor, source, versions={"auditor": "test", "rules": "r2", "model": "off"}, rescore_all=True)
    assert forced.counts["rescored"] == 5


def test_the_same_id_in_two_councils_is_two_records(db: Engine, auditor: Auditor, tmp_path: Path):
    source = write_jsonl(tmp_path / "region.jsonl", records(3, "201") + records(3, "202"))
    result = run(db, auditor, source)
    assert result.counts["new"] == 6 and result.counts["quarantined"] == 0
    assert count(db, RecordState) == 6


def test_the_same_records_in_another_format_are_unchanged(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(4)
    run(db, auditor, write_jsonl(tmp_path / "export.jsonl", items))
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(items[0]))
        writer.writeheader()
        for item in items:  # dates written day first, as a council's spreadsheet does
            writer.writerow({**item, "recorded_at": "/".join(reversed(item["recorded_at"].split("-")))})
    again = run(db, auditor, path)
    assert again.counts["unchanged"] == 4, again.counts


# -- quarantine -------------------------------------------------------------------------------------


def test_malformed_rows_are_quarantined_with_their_reason_and_the_run_goes_on(
    db: Engine, auditor: Auditor, tmp_path: Path
):
    good = records(6)
    secret = "Mum disclosed that the children were left alone overnight"
    lines: list[dict[str, Any] | str] = [
        good[0],
        "{not json " + secret,
        {**good[1], "record_type": "memo", "text": secret},
        good[1],
        {**good[1], "text": secret},  # the same id again, in the same chunk
        good[2],
        {**good[3], "text": secret + "\x00"},
        {**good[4]},
        {**good[0], "text": secret},  # the same id again, chunks later
        {**good[5], "id": "BAD-1", "text": secret},
    ]
    source = write_jsonl(tmp_path / "export.jsonl", lines)
    result = run(db, Scripted(auditor, bad_id="BAD-1"), source, chunk_rows=4)
    assert result.exit_status == EXIT_QUARANTINED
    counts = result.counts
    assert counts["rows"] == 10 and counts["quarantined"] == 6 and counts["new"] == 4
    assert counts["rows"] == sum(counts[k] for k in ("new", "changed", "rescored", "unchanged", "quarantined"))
    with Session(db) as s:
        quarantined = s.scalars(select(Quarantined).order_by(Quarantined.row)).all()
    located = [(q.row, q.record_id, q.field) for q in quarantined]
    assert located == [
        (2, None, None),
        (3, "R-0001", "record_type"),
        (5, "R-0001", "id"),
        (7, "R-0003", "text"),
        (9, "R-0000", "id"),
        (10, "BAD-1", None),
    ]
    assert all(q.file == str(source) for q in quarantined)
    reasons = [q.reason for q in quarantined]
    assert "duplicate" in reasons[2] and "duplicate" in reasons[4]
    assert "NUL" in reasons[3] and "could not be scored (ValueError)" in reasons[5]
    data = summary(db, result.run_id)
    text = json.dumps(data) + "\n".join(summary_lines(data))
    assert secret not in text and "children" not in " ".join(reasons)
    assert data["counts"]["quarantined"] == 6 and len(data["quarantined"]) == 6
    assert sorted(stored_ids(db, result.audits.values())) == ["R-0000", "R-0001", "R-0002", "R-0004"]


# -- interruption, resumption, the lease ------------------------------------------------------------


def test_an_interrupted_run_resumes_from_its_checkpoint_with_every_record_once(
    db: Engine, auditor: Auditor, tmp_path: Path
):
    items = records(20)
    source = write_jsonl(tmp_path / "export.jsonl", items)
    with pytest.raises(KeyboardInterrupt):
        run(db, Scripted(auditor, interrupt_on_call=3), source, chunk_rows=4)
    with Session(db) as s:
        stopped = s.scalars(select(BatchRun)).one()
        assert stopped.status == "running" and (stopped.file_index, stopped.rows_done) == (0, 8)
        assert s.get(BatchLease, 1).holder is None  # type: ignore[union-attr]
    assert count(db, AuditRecord) == 8
    scorer = Scripted(auditor)
    resumed = run(db, scorer, source, chunk_rows=4)
    assert resumed.resumed and resumed.run_id == stopped.id and resumed.exit_status == 0
    assert scorer.calls == 3  # the three chunks not yet stored, and no other
    ids = stored_ids(db, resumed.audits.values())
    assert sorted(ids) == [i["id"] for i in items]  # every record once: none twice, none skipped
    assert resumed.counts["rows"] == 20 and resumed.counts["new"] == 20
    assert count(db, RecordHistory) == 20
    with Session(db) as s:
        assert s.get(BatchRun, stopped.id).resumed == 1  # type: ignore[union-attr]
        positions = s.scalars(select(AuditRecord.position).order_by(AuditRecord.position)).all()
        assert positions == list(range(20))


def test_a_stop_while_a_chunk_is_stored_lets_that_chunk_finish_and_releases_the_lease(
    db: Engine, auditor: Auditor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: None
):
    """SIGTERM in the middle of the second chunk's transaction: that chunk is stored whole, then
    the run stops (a stop raised inside the transaction could leave its connection holding the
    write lock, and the lease could not then be released)."""
    source = write_jsonl(tmp_path / "export.jsonl", records(12))
    renewals = 0

    def renew_then_stop(s: Session, holder: str, run_id: str) -> None:
        nonlocal renewals
        renew(s, holder, run_id)
        renewals += 1
        if renewals == 3:  # the run's start, the first chunk's, then the second chunk's (first in its transaction)
            os.kill(os.getpid(), signal.SIGTERM)

    renew = batch_module._renew
    monkeypatch.setattr(batch_module, "_renew", renew_then_stop)
    with pytest.raises(stops.Terminated):
        run(db, auditor, source, chunk_rows=4)
    assert renewals == 3
    with Session(db) as s:
        stopped = s.scalars(select(BatchRun)).one()
        assert stopped.status == "running" and stopped.rows_done == 8
        assert s.get(BatchLease, 1).holder is None  # type: ignore[union-attr]
    assert count(db, AuditRecord) == 8 and count(db, RecordHistory) == 8


def test_a_stop_while_the_lease_is_claimed_still_releases_it(
    db: Engine, auditor: Auditor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: None
):
    """The claim is held (it commits), so a stop that arrives during it is raised just after it:
    the lease must be released all the same, or other hosts are refused for the lease's length."""
    source = write_jsonl(tmp_path / "export.jsonl", records(4))
    claim = batch_module._claim

    def stopped_while_claiming(engine: Engine, holder: str) -> None:
        with stops.held():
            os.kill(os.getpid(), signal.SIGTERM)
            claim(engine, holder)

    monkeypatch.setattr(batch_module, "_claim", stopped_while_claiming)
    with pytest.raises(stops.Terminated):
        run(db, auditor, source)
    with Session(db) as s:
        assert s.get(BatchLease, 1).holder is None  # type: ignore[union-attr]
    assert count(db, BatchRun) == 0


def test_a_run_over_other_inputs_abandons_the_unfinished_one(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(12)
    first = write_jsonl(tmp_path / "monday.jsonl", items)
    with pytest.raises(KeyboardInterrupt):
        run(db, Scripted(auditor, interrupt_on_call=2), first, chunk_rows=4)
    second = run(db, auditor, write_jsonl(tmp_path / "tuesday.jsonl", items), chunk_rows=4)
    assert not second.resumed
    # What the abandoned run stored is scored again: its audit failed, and tonight's changes
    # (the Parquet a warehouse loads) must hold every record scored since the last finished run.
    assert second.counts["rescored"] == 4 and second.counts["new"] == 8 and second.counts["unchanged"] == 0
    assert sorted(stored_ids(db, second.audits.values())) == [i["id"] for i in items]
    with Session(db) as s:
        statuses = dict(s.execute(select(BatchRun.id, BatchRun.status)).all())
        assert sorted(statuses.values()) == ["abandoned", "done"]
        abandoned = next(k for k, v in statuses.items() if v == "abandoned")
        audit_id = s.scalar(select(BatchRunAudit.audit_id).where(BatchRunAudit.run_id == abandoned))
        audit = s.get(Audit, audit_id)
        assert audit is not None and audit.status == "failed" and "not resumed" in (audit.error or "")


def _stop_part_way(command: list[str], env: dict[str, str], engine: Engine, after: int, how: str) -> int:
    """Start `auditor batch`, wait until it has stored `after` rows, stop it (`how`), and return its
    exit status."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with Session(engine) as s:
                done = s.scalar(select(BatchRun.rows_done).where(BatchRun.status == "running"))
            if done and done >= after:
                break
            assert process.poll() is None, "the run finished before it could be stopped; give it more records"
            time.sleep(0.05)
        process.terminate() if how == "term" else process.kill()
        return process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_stopped_or_killed_process_resumes_with_every_record_once(database_url: str, tmp_path: Path):
    """The real thing: `auditor batch` stopped with SIGTERM part way, then killed with SIGKILL part
    way, then run to the end."""
    items = records(600)
    source = write_jsonl(tmp_path / "export.jsonl", items)
    env = {
        **os.environ,
        "AUDITOR_DATABASE_URL": database_url,
        "AUDITOR_MODEL": "off",
        "AUDITOR_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "auditor.cli", "batch", str(source), "--chunk-rows", "8", "--log", "json"]
    engine = make_engine(database_url)
    migrate(engine)
    assert _stop_part_way(command, env, engine, 24, "term") == 143
    with Session(engine) as s:
        stopped = s.scalars(select(BatchRun)).one()
        assert stopped.status == "running" and 24 <= stopped.rows_done < 600
        assert s.get(BatchLease, 1).holder is None  # type: ignore[union-attr]  # released on SIGTERM
    assert _stop_part_way(command, env, engine, stopped.rows_done + 24, "kill") == -9
    with Session(engine) as s:
        killed = s.scalars(select(BatchRun)).one()
        assert killed.status == "running" and stopped.rows_done < killed.rows_done < 600
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    with Session(engine) as s:
        run_row = s.scalars(select(BatchRun)).one()
        assert run_row.status == "done" and run_row.resumed == 2 and run_row.counts["new"] == 600
        assert run_row.counts["rows"] == 600
        ids = s.scalars(select(AuditRecord.record_id)).all()
    assert sorted(ids) == sorted(i["id"] for i in items)
    assert count(engine, RecordHistory) == 600
    lines = [json.loads(line) for line in finished.stderr.splitlines() if line.startswith("{")]
    assert lines[0]["event"] == "run_resumed" and lines[-1]["event"] == "run_finished"
    assert '"text"' not in finished.stderr and items[0]["text"][:40] not in finished.stderr
    engine.dispose()


def _hold_lease(db: Engine, holder: str, age: timedelta = timedelta(0)) -> None:
    with Session(db) as s:
        s.execute(update(BatchLease).where(BatchLease.id == 1).values(holder=holder, heartbeat_at=now() - age))
        s.commit()


def test_a_live_run_holds_the_lease_and_a_dead_one_is_taken_over(db: Engine, auditor: Auditor, tmp_path: Path):
    source = write_jsonl(tmp_path / "export.jsonl", records(2))
    _hold_lease(db, "another-host:123:abc")
    with pytest.raises(BatchBusy) as refused:
        run(db, auditor, source)
    assert "another-host:123" in str(refused.value)
    assert count(db, BatchRun) == 0
    _hold_lease(db, "another-host:123:abc", age=timedelta(hours=1))  # silent for longer than the lease
    assert run(db, auditor, source).exit_status == 0
    _hold_lease(db, f"{socket.gethostname()}:{os.getppid()}:abc")  # this host, and alive
    with pytest.raises(BatchBusy):
        run(db, auditor, source)
    # This process's own pid under another run's name: a restarted container's earlier run.
    _hold_lease(db, f"{socket.gethostname()}:{os.getpid()}:earlier")
    assert run(db, auditor, source).exit_status == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _hold_lease(db, f"{socket.gethostname()}:{gone.stdout.strip()}:abc")  # this host, and its process gone
    assert run(db, auditor, source).exit_status == 0


def test_a_run_whose_lease_is_taken_stops_without_storing_its_chunk(db: Engine, auditor: Auditor, tmp_path: Path):
    source = write_jsonl(tmp_path / "export.jsonl", records(12))
    scorer = Scripted(auditor)
    scorer.on_call = lambda calls: _hold_lease(db, "usurper:1:x") if calls == 2 else None
    with pytest.raises(LeaseLost):
        run(db, scorer, source, chunk_rows=4)
    assert count(db, AuditRecord) == 4  # the first chunk; the second never committed


# -- bad input ----------------------------------------------------------------------------------------


def test_a_header_the_profile_cannot_read_stops_before_anything_is_written(
    db: Engine, auditor: Auditor, tmp_path: Path
):
    good = write_jsonl(tmp_path / "good.jsonl", records(2))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,record_type,text,favourite colour\nX,plan,Mum to try.,blue\n", encoding="utf-8")
    with pytest.raises(TableError) as error:
        run(db, auditor, good, bad)
    assert "column 4" in str(error.value) and "favourite" not in str(error.value)
    assert count(db, BatchRun) == 0 and count(db, AuditRecord) == 0
    assert run(db, auditor, good).exit_status == 0  # the lease was not left held


def test_a_file_malformed_part_way_is_quarantined_from_there_and_the_run_goes_on(
    db: Engine, auditor: Auditor, tmp_path: Path
):
    path = tmp_path / "export.csv"
    rows = [f'R-{i},case_note,"SW visited on {i} May."' for i in range(7)]
    rows.insert(6, 'R-X,case_note,"an unclosed quote')  # row 8, inside the third chunk of three
    path.write_text("id,record_type,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    after = write_jsonl(tmp_path / "after.jsonl", records(2, None, prefix="A"))
    result = run(db, auditor, path, after, chunk_rows=4)  # rows 6 and 7 come before the break in their chunk
    assert result.exit_status == EXIT_QUARANTINED
    assert result.counts["unread_files"] == 1 and result.counts["quarantined"] == 1
    ids = sorted(stored_ids(db, result.audits.values()))
    assert ids == ["A-0000", "A-0001", "R-0", "R-1", "R-2", "R-3", "R-4", "R-5"]  # the next file was read
    with Session(db) as s:
        [stopped] = s.scalars(select(Quarantined)).all()
    assert (stopped.file, stopped.row) == (str(path), 8) and "the rest of the file was not read" in stopped.reason


def test_a_nul_in_a_record_id_is_quarantined_without_the_id(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(3)
    source = write_jsonl(tmp_path / "export.jsonl", [items[0], {**items[1], "id": "R-\x00-1"}, items[2]])
    result = run(db, auditor, source)  # PostgreSQL cannot take a NUL: it must never reach a query
    assert result.counts["new"] == 2 and result.counts["quarantined"] == 1
    with Session(db) as s:
        [q] = s.scalars(select(Quarantined)).all()
    assert (q.row, q.record_id, q.field) == (2, None, "id") and "NUL" in q.reason


def test_an_invalid_id_is_not_repeated(db: Engine, auditor: Auditor, tmp_path: Path):
    note = "Mum disclosed that the children were left alone overnight and the school raised concerns. " * 3
    items = records(2)
    result = run(
        db, auditor, write_jsonl(tmp_path / "x.jsonl", [{**items[0], "id": note}, {**items[1], "id": {"a": 1}}])
    )
    with Session(db) as s:
        located = [(q.row, q.record_id, q.field) for q in s.scalars(select(Quarantined).order_by(Quarantined.row))]
    assert located == [(1, None, "id"), (2, None, "id")] and result.counts["quarantined"] == 2


def test_a_duplicate_in_the_same_chunk_is_quarantined(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(3)
    result = run(
        db, auditor, write_jsonl(tmp_path / "x.jsonl", [items[0], items[1], items[1], items[2]]), chunk_rows=50
    )
    assert result.counts["new"] == 3 and result.counts["quarantined"] == 1


def test_large_chunks_stay_within_sqlite_s_oldest_parameter_limit(auditor: Auditor, tmp_path: Path):
    import sqlite3

    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path / 'oldest.db'}")

    @event.listens_for(engine, "connect")
    def _oldest_limit(connection, _record):  # type: ignore[no-untyped-def]
        connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # SQLite before 3.32

    migrate(engine)
    items = [dict(r, text="Mum to try.") for r in records(1200)]
    source = write_jsonl(tmp_path / "x.jsonl", items)
    assert run(engine, auditor, source, chunk_rows=1200).counts["new"] == 1200
    assert run(engine, auditor, source, chunk_rows=1200).counts["unchanged"] == 1200
    engine.dispose()


def test_a_resumed_run_s_timings_cover_every_process(db: Engine, auditor: Auditor, tmp_path: Path):
    source = write_jsonl(tmp_path / "x.jsonl", records(12))
    with pytest.raises(KeyboardInterrupt):
        run(db, Scripted(auditor, interrupt_on_call=3), source, chunk_rows=4)
    with Session(db) as s:
        first = s.scalars(select(BatchRun)).one().timings
    assert first["total"] > 0 and first["score"] > 0 and first["store"] > 0  # saved with each checkpoint
    resumed = run(db, auditor, source, chunk_rows=4)
    assert resumed.timings["total"] > first["total"]
    assert resumed.timings["total"] >= resumed.timings["score"] + resumed.timings["store"]


def test_an_empty_export_says_so(db: Engine, auditor: Auditor, tmp_path: Path):
    from auditor.batch import EXIT_EMPTY

    run(db, auditor, write_jsonl(tmp_path / "night1.jsonl", records(5)))
    empty = run(db, auditor, write_jsonl(tmp_path / "night2.jsonl", []))
    assert empty.exit_status == EXIT_EMPTY and empty.counts["rows"] == 0 and empty.counts["missing"] == 5


def test_a_cp1252_cell_in_a_utf8_export_is_read_and_the_other_rows_are_unchanged(
    db: Engine, auditor: Auditor, tmp_path: Path
):
    header = "id,record_type,text\n"
    good = "".join(f"R-{i},case_note,SW visited Child A\u2019s school on {i} May.\n" for i in range(4))
    path = tmp_path / "export.csv"
    path.write_bytes((header + good).encode("utf-8"))
    run(db, auditor, path)
    # A cell pasted from a cp1252 source: decoding the whole file as cp1252 garbled every other
    # row (each then looked changed); now only that cell is read as cp1252.
    path.write_bytes((header + good).encode("utf-8") + b"R-9,case_note,Mum\x92s caf\xe9 visit\n")
    again = run(db, auditor, path)
    assert again.counts["unchanged"] == 4 and again.counts["new"] == 1 and again.counts["quarantined"] == 0
    with Session(db) as s:
        stored = s.scalar(select(AuditRecord.text).where(AuditRecord.record_id == "R-9"))
    assert stored == "Mum\u2019s caf\u00e9 visit"


def test_a_note_longer_than_the_csv_module_s_default_limit_is_read(db: Engine, auditor: Auditor, tmp_path: Path):
    path = tmp_path / "export.csv"
    long_note = "SW visited and saw the children. " * 5000  # 165,000 characters
    path.write_text(f'id,record_type,text\nR-1,case_note,"{long_note}"\nR-2,case_note,Short.\n', encoding="utf-8")
    result = run(db, auditor, path)
    assert result.counts["new"] == 2 and result.counts["quarantined"] == 0


# -- what a run leaves ------------------------------------------------------------------------------


def test_parquet_holds_what_the_run_scored_and_quarantined(db: Engine, auditor: Auditor, tmp_path: Path):
    items = records(6)
    result = run(db, auditor, write_jsonl(tmp_path / "export.jsonl", [*items, "not json"]))
    folder = write_parquet(db, result.run_id, tmp_path / "out")
    assert folder == tmp_path / "out" / result.run_id
    scored = pq.read_table(folder / "records.parquet").to_pylist()
    assert sorted(r["record_id"] for r in scored) == [i["id"] for i in items]
    assert all(r["change"] == "new" and r["la_code"] == "894" for r in scored)
    assert "text" not in pq.read_schema(folder / "records.parquet").names
    findings = pq.read_table(folder / "findings.parquet")
    assert findings.num_rows == count(db, FindingRow) == result.counts["findings"]
    assert sum(r["findings"] for r in scored) == findings.num_rows
    assert pq.read_table(folder / "quarantine.parquet").to_pylist()[0]["row"] == 7
    again = run(db, auditor, write_jsonl(tmp_path / "again.jsonl", items))
    empty = write_parquet(db, again.run_id, tmp_path / "out")
    assert pq.read_table(empty / "records.parquet").num_rows == 0
    assert pq.read_schema(empty / "records.parquet").names == pq.read_schema(folder / "records.parquet").names
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no staging left


def test_writing_a_run_s_parquet_again_keeps_the_old_files_if_it_fails(
    db: Engine, auditor: Auditor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import auditor.batchout as batchout

    result = run(db, auditor, write_jsonl(tmp_path / "export.jsonl", records(3)))
    folder = write_parquet(db, result.run_id, tmp_path / "out")
    real_replace = os.replace

    def failing(source: Any, target: Any) -> None:
        if ".previous" not in str(source) and str(target) == str(folder):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(batchout.os, "replace", failing)
    with pytest.raises(OSError):
        write_parquet(db, result.run_id, tmp_path / "out")
    assert pq.read_table(folder / "records.parquet").num_rows == 3
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_the_run_report_is_one_self_contained_file(db: Engine, auditor: Auditor, tmp_path: Path):
    from api.runreport import write_run_report

    items = records(8, "894") + records(2, "201", prefix="T")
    result = run(db, auditor, write_jsonl(tmp_path / "export.jsonl", [*items, {**items[0], "record_type": "memo"}]))
    path = tmp_path / "run.html"
    write_run_report(db, result.run_id, path, worst=3)
    page = path.read_text(encoding="utf-8")
    for banned in ("<script", "<link", "src=", "<iframe", "<object", "<img", "@import"):
        assert banned not in page
    ids = set(re.findall(r' id="([^"]+)"', page))
    hrefs = re.findall(r' href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") and h[1:] in ids for h in hrefs)  # nothing outside the file
    assert "Council 894" in page and "Council 201" in page
    assert "record_type" in page and "R-0000" in page  # the quarantined row, located
    with Session(db) as s:
        lowest = s.scalars(
            select(AuditRecord.record_id)
            .where(AuditRecord.audit_id == result.audits["894"])
            .order_by(AuditRecord.score, AuditRecord.position)
        ).all()
    shown = [rid for rid in lowest if f">Record {rid}<" in page]
    assert shown == lowest[:3]


def test_the_service_shows_a_run_s_audits(database_url: str, auditor: Auditor, tmp_path: Path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import Role, create_key

    engine = make_engine(database_url)
    migrate(engine)
    items = records(3)
    result = run(engine, auditor, write_jsonl(tmp_path / "export.jsonl", items))
    with Session(engine) as s:
        key, _row = create_key(s, Role.manager, "manager", [SAMPLES[0]["team"]])
        s.commit()
    with TestClient(create_app(database_url, auditor=auditor)) as client:
        listed = client.get("/v1/audits", headers={"Authorization": f"Bearer {key}"}).json()
        [audit] = listed["items"]
        assert audit["id"] == result.audits["894"] and "council 894" in audit["label"]
        mine = [i for i in items if i["team"] == SAMPLES[0]["team"]]
        assert 0 < len(mine) < len(items) and audit["records"] == len(mine)  # only their team's records
    engine.dispose()


def test_the_migrations_build_what_the_models_describe(db: Engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.db import Base

    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


# -- the command line -------------------------------------------------------------------------------


def _cli(database_url: str, tmp_path: Path, *args: str) -> Any:
    from typer.testing import CliRunner

    from auditor.cli import app

    env = {"AUDITOR_DATABASE_URL": database_url, "AUDITOR_MODEL": "off", "AUDITOR_DATA_DIR": str(tmp_path)}
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    result = CliRunner().invoke(app, list(args), env=env)
    # `batch` puts back the handlers it replaced: a Ctrl-C in a later test is not held.
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    return result


def test_the_batch_command_says_what_it_quarantined_in_its_exit_status_and_files(database_url: str, tmp_path: Path):
    items = records(5)
    secret = "the children were left alone overnight"
    source = write_jsonl(tmp_path / "export.jsonl", [*items, {**items[0], "id": "", "text": secret}])
    out = tmp_path / "out"
    result = _cli(
        database_url,
        tmp_path,
        "batch",
        str(source),
        "--log",
        "json",
        "--summary",
        str(out / "summary.json"),
        "--parquet",
        str(out),
        "--report",
        str(out / "run.html"),
    )
    assert result.exit_code == EXIT_QUARANTINED, result.output
    assert f"quarantined: {source}, row 6, field 'id'" in result.stdout
    assert secret not in result.output
    data = json.loads((out / "summary.json").read_text())
    assert data["counts"]["new"] == 5 and data["counts"]["quarantined"] == 1
    assert data["quarantined"] == [
        {"file": str(source), "row": 6, "record_id": None, "field": "id", "reason": data["quarantined"][0]["reason"]}
    ]
    assert (out / data["run_id"] / "records.parquet").is_file() and (out / "run.html").is_file()
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert secret not in result.stderr
    again = _cli(database_url, tmp_path, "batch", str(write_jsonl(tmp_path / "clean.jsonl", items)), "--log", "bar")
    assert again.exit_code == 0, again.output
    assert "5 unchanged (skipped)" in again.stdout
    listed = _cli(database_url, tmp_path, "runs")
    assert listed.exit_code == 0 and data["run_id"] in listed.stdout and "2 run(s)" in listed.stdout
    shown = _cli(database_url, tmp_path, "runs", data["run_id"][:8])
    assert shown.exit_code == 0 and f"quarantined: {source}, row 6" in shown.stdout
    as_json = _cli(database_url, tmp_path, "runs", data["run_id"], "--json")
    assert json.loads(as_json.stdout)["counts"] == data["counts"]


def test_the_batch_command_refuses_bad_input_and_a_busy_database(database_url: str, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,record_type,text,shoe size\nX,plan,Mum to try.,9\n", encoding="utf-8")
    refused = _cli(database_url, tmp_path, "batch", str(bad))
    assert refused.exit_code == 2
    assert str(bad) in refused.stderr and "column 4" in refused.stderr and "nothing was written" in refused.stderr
    unknown = _cli(database_url, tmp_path, "batch", str(bad), "--profile", "no-such-profile")
    assert unknown.exit_code == 2 and "generic" in unknown.stderr  # the shipped profiles are named
    engine = make_engine(database_url)
    migrate(engine)
    _hold_lease(engine, "another-host:1:x")
    engine.dispose()
    busy = _cli(database_url, tmp_path, "batch", str(write_jsonl(tmp_path / "ok.jsonl", records(1))))
    assert busy.exit_code == 5 and "another batch run" in busy.stderr


# -- case-level checks --------------------------------------------------------------------------------


def _timeline() -> list[dict[str, Any]]:
    """Child C-1: on a CP plan since October 2020 with its actions rolled on and no oversight;
    child C-2: a CP plan with recent supervision and a review."""
    plan = "Actions\n1. Mum to attend the Freedom Programme by {by}.\n2. SW to visit the children {how}."
    base = {"la_code": "894", "team": "Safeguarding East", "worker": "W-1"}
    return [
        {
            **base,
            "id": "C1-P1",
            "child_id": "C-1",
            "record_type": "plan",
            "plan_type": "cp",
            "recorded_at": "2020-10-21",
            "plan_start_date": "2020-10-19",
            "text": plan.format(by="30.11.20", how="fortnightly"),
        },
        {
            **base,
            "id": "C1-P2",
            "child_id": "C-1",
            "record_type": "plan",
            "plan_type": "cp",
            "recorded_at": "2021-04-14",
            "plan_start_date": "2020-10-19",
            "text": plan.format(by="31.05.21", how="monthly at school"),
        },
        {
            **base,
            "id": "C1-R1",
            "child_id": "C-1",
            "record_type": "review",
            "recorded_at": "2021-01-14",
            "text": "RCPC held. Plan to continue.",
        },
        {
            **base,
            "id": "C2-P1",
            "child_id": "C-2",
            "record_type": "plan",
            "plan_type": "cp",
            "recorded_at": "2021-01-10",
            "plan_start_date": "2020-11-02",
            "text": "Actions\n1. Dad to stop drinking.",
        },
        {
            **base,
            "id": "C2-R1",
            "child_id": "C-2",
            "record_type": "review",
            "recorded_at": "2021-02-01",
            "text": "RCPC held.",
        },
        {
            **base,
            "id": "C2-S1",
            "child_id": "C-2",
            "record_type": "supervision",
            "recorded_at": "2021-06-01",
            "text": "Supervision: plan reviewed.",
        },
    ]


def test_a_run_records_case_level_findings_as_of_its_date(db: Engine, auditor: Auditor, tmp_path: Path):
    from api.db import CaseFindingRow

    items = _timeline()
    result = run(db, auditor, write_jsonl(tmp_path / "night1.jsonl", items), as_of=date(2021, 6, 30))
    with Session(db) as s:
        found = {(f.child_id, f.rule_id, f.record_id) for f in s.scalars(select(CaseFindingRow))}
        stored = s.scalars(select(CaseFindingRow).where(CaseFindingRow.rule_id == "CS001")).one()
    assert found == {("C-1", "CS001", "C1-P2"), ("C-1", "CS002", "C1-P2")}
    assert stored.team == "Safeguarding East" and stored.as_of == "2021-06-30"
    assert [e["record_id"] for e in stored.evidence] == ["C1-P2"]
    assert result.counts["case_findings"] == 2
    data = summary(db, result.run_id)
    assert data["case_findings_by_rule"] == {"CS001": 1, "CS002": 1}
    folder = write_parquet(db, result.run_id, tmp_path / "out")
    assert sorted(pq.read_table(folder / "case_findings.parquet").column("rule_id").to_pylist()) == ["CS001", "CS002"]
    # The next night a manager's oversight is recorded: the finding goes; later the review falls due.
    oversight = {
        **items[0],
        "id": "C1-S1",
        "record_type": "supervision",
        "plan_type": None,
        "recorded_at": "2021-07-02",
        "text": "TM oversight: plan reviewed with the SW.",
    }
    night2 = run(db, auditor, write_jsonl(tmp_path / "night2.jsonl", [*items, oversight]), as_of=date(2021, 7, 20))
    assert night2.counts["new"] == 1 and night2.counts["unchanged"] == 6
    with Session(db) as s:
        tonight = {
            (f.child_id, f.rule_id)
            for f in s.scalars(select(CaseFindingRow).where(CaseFindingRow.run_id == night2.run_id))
        }
    assert tonight == {("C-1", "CS002"), ("C-1", "CS003")}  # C-1's review was due by 14.07.21


def test_a_record_quarantined_tonight_still_counts_in_its_child_s_history(db: Engine, auditor: Auditor, tmp_path: Path):
    from api.db import CaseFindingRow

    items = _timeline()
    run(db, auditor, write_jsonl(tmp_path / "night1.jsonl", items), as_of=date(2021, 6, 30))
    broken = [dict(i, recorded_at="31/02/2021") if i["id"] == "C2-S1" else i for i in items]  # no such date
    night2 = run(db, auditor, write_jsonl(tmp_path / "night2.jsonl", broken), as_of=date(2021, 6, 30))
    assert night2.counts["quarantined"] == 1
    with Session(db) as s:
        children = set(
            s.scalars(
                select(CaseFindingRow.child_id).where(
                    CaseFindingRow.run_id == night2.run_id, CaseFindingRow.rule_id == "CS001"
                )
            )
        )
    assert children == {"C-1"}  # C-2's supervision, known from last night, still counts


def test_the_service_shows_a_run_s_case_findings_to_those_who_may_read_them(
    database_url: str, auditor: Auditor, tmp_path: Path
):
    import re as regex

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import Role, create_key

    engine = make_engine(database_url)
    migrate(engine)
    other_team = [dict(i, team="Safeguarding West", child_id="C-9", id="W-" + i["id"]) for i in _timeline()[:3]]
    result = run(engine, auditor, write_jsonl(tmp_path / "x.jsonl", _timeline() + other_team), as_of=date(2021, 6, 30))
    with Session(engine) as s:
        manager, _ = create_key(s, Role.manager, "manager", ["Safeguarding East"])
        reader, _ = create_key(s, Role.auditor, "auditor")
        s.commit()
    audit_id = result.audits["894"]
    with TestClient(create_app(database_url, auditor=auditor)) as client:
        every = client.get(f"/v1/audits/{audit_id}/case-findings", headers={"Authorization": f"Bearer {reader}"}).json()
        assert {(f["child_id"], f["rule_id"]) for f in every["items"]} == {
            ("C-1", "CS001"),
            ("C-1", "CS002"),
            ("C-9", "CS001"),
            ("C-9", "CS002"),
        }
        mine = client.get(f"/v1/audits/{audit_id}/case-findings", headers={"Authorization": f"Bearer {manager}"}).json()
        assert {f["child_id"] for f in mine["items"]} == {"C-1"}  # not the other team's child
        page = client.get("/report/sign-in")
        token = dict(regex.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        client.post("/report/sign-in", data={**token, "key": manager})
        shown = client.get(f"/report/audits/{audit_id}").text
        assert "Children needing attention" in shown and "C-1" in shown and "C-9" not in shown
    engine.dispose()


def _case_findings(db: Engine, run_id: str) -> set[tuple[str, str, str]]:
    from api.db import CaseFindingRow

    with Session(db) as s:
        rows = s.scalars(select(CaseFindingRow).where(CaseFindingRow.run_id == run_id))
        return {(f.child_id, f.rule_id, f.record_id) for f in rows}


def _stored_actions(db: Engine) -> dict[str, tuple[Any, str | None]]:
    from api.db import RecordState

    with Session(db) as s:
        return {r.record_id: (r.plan_actions, r.actions_version) for r in s.scalars(select(RecordState))}


def test_case_checks_read_a_plan_s_actions_as_stored_when_it_was_scored(db: Engine, auditor: Auditor, tmp_path: Path):
    from api.db import RecordState
    from auditor.cases import actions_version, kept_actions, plan_actions

    items = _timeline()
    export = write_jsonl(tmp_path / "night.jsonl", items)
    first = run(db, auditor, export, as_of=date(2021, 6, 30))
    with Session(db) as s:
        states = {r.record_id: r for r in s.scalars(select(RecordState))}
    by_id = {i["id"]: i for i in items}
    for record_id, row in states.items():
        item = by_id[record_id]
        assert (row.child_id, row.record_type, row.recorded_at) == (
            item["child_id"],
            item["record_type"],
            item["recorded_at"],
        )
        plan = item["record_type"] == "plan"
        expected = [list(a) for a in kept_actions(plan_actions(item["text"]))] if plan else None
        assert (row.plan_actions, row.actions_version) == (expected, actions_version() if plan else None)
        assert not plan or len(row.plan_actions) >= 1  # the comparison is not of empty lists
        assert not any(word in json.dumps(row.plan_actions).lower() for word in ("freedom", "programme", "mum"))
    assert ("C-1", "CS002", "C1-P2") in _case_findings(db, first.run_id)
    # The earlier plan's stored actions, not its text, are what the next night compares.
    with Session(db) as s:
        s.execute(update(RecordState).where(RecordState.record_id == "C1-P1").values(plan_actions=[]))
        s.commit()
    second = run(db, auditor, export, as_of=date(2021, 6, 30))
    assert second.counts["unchanged"] == len(items)
    assert ("C-1", "CS002", "C1-P2") not in _case_findings(db, second.run_id)
    # Actions kept by other code (another version) are read again from the text, and kept anew.
    with Session(db) as s:
        s.execute(update(RecordState).where(RecordState.record_id == "C1-P1").values(actions_version="0" * 16))
        s.commit()
    third = run(db, auditor, export, as_of=date(2021, 6, 30))
    assert ("C-1", "CS002", "C1-P2") in _case_findings(db, third.run_id)
    renewed, version = _stored_actions(db)["C1-P1"]
    assert version == actions_version() and renewed  # kept anew, from the text
    # A changed plan's actions are kept anew: reworded, the carried action is no longer carried.
    reworded = [
        dict(i, text=i["text"].replace("Freedom Programme", "parenting course")) if i["id"] == "C1-P2" else i
        for i in items
    ]
    assert reworded != items
    fourth = run(db, auditor, write_jsonl(tmp_path / "night4.jsonl", reworded), as_of=date(2021, 6, 30))
    assert fourth.counts["changed"] == 1
    assert ("C-1", "CS002", "C1-P2") not in _case_findings(db, fourth.run_id)
    assert _stored_actions(db)["C1-P2"][0] == [
        list(a) for a in kept_actions(plan_actions(next(i["text"] for i in reworded if i["id"] == "C1-P2")))
    ]


def test_records_stored_before_the_case_facts_migration_still_take_part(db: Engine, auditor: Auditor, tmp_path: Path):
    """Downgraded to 0006 (the columns dropped), then upgraded: each record's facts come from its
    latest scored row, and its plans' actions from their text, with the same findings as before."""
    from api.db import RecordState, downgrade

    export = write_jsonl(tmp_path / "night.jsonl", _timeline())
    before = _case_findings(db, run(db, auditor, export, as_of=date(2021, 6, 30)).run_id)
    downgrade(db, "0006")
    migrate(db)
    with Session(db) as s:
        states = list(s.scalars(select(RecordState)))
    assert {r.record_id: r.child_id for r in states} == {i["id"]: i["child_id"] for i in _timeline()}
    assert all(r.plan_actions is None for r in states)  # read from the plans' text next time
    after = run(db, auditor, export, as_of=date(2021, 6, 30))
    assert after.counts["unchanged"] == len(states)
    assert _case_findings(db, after.run_id) == before and ("C-1", "CS002", "C1-P2") in before
    kept = _stored_actions(db)  # and kept then, so that the next run need not read them again
    plans = {i["id"] for i in _timeline() if i["record_type"] == "plan"}
    assert plans and all(kept[p][0] is not None and kept[p][1] is not None for p in plans)
    assert all(kept[r] == (None, None) for r in kept if r not in plans)
