"""The service's pool of scoring processes: what it scores is what the engine scores, in order,
and a batch is shared between the processes in contiguous parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.scoring import SPLIT_AT, ScoringPool, _parts
from auditor.engine import Auditor
from auditor.records import Record

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"


@pytest.mark.parametrize(("size", "processes"), [(1, 2), (7, 2), (15, 2), (16, 2), (100, 2), (101, 3), (5, 1)])
def test_a_batch_is_split_into_contiguous_parts_of_at_least_the_minimum(size: int, processes: int) -> None:
    batch = [Record(id=str(n), record_type="plan", text="SW to visit.") for n in range(size)]
    parts = _parts(batch, processes)
    assert [r.id for part in parts for r in part] == [r.id for r in batch]  # all of it, in order
    assert len(parts) == max(1, min(processes, size // SPLIT_AT))
    assert len(parts) == 1 or min(len(p) for p in parts) >= SPLIT_AT
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1


def test_the_pool_scores_exactly_what_the_engine_scores_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_MODEL", "off")  # the scoring processes read it at start-up
    lines = [json.loads(line) for line in SAMPLES.read_text("utf-8").splitlines() if line.strip()]
    records = [Record.model_validate({**item, "id": f"{item['id']}-{n}"}) for n in range(2) for item in lines]
    expected = Auditor(models=None).audit_batch(records)
    pool = ScoringPool(2)
    try:
        pool.start()
        assert pool.audit_many(records) == expected  # split in two parts: rejoined in order
        assert pool.audit_many(records[:3]) == expected[:3]
        assert pool.audit_many([]) == []
    finally:
        pool.shutdown()


def test_with_the_classifier_and_without_pandas_the_pool_scores_what_the_engine_scores(engine: Auditor) -> None:
    """A scoring process keeps pandas out (scikit-learn would import it, for nothing): the model's
    findings must be the same as in a process that has it."""
    lines = [json.loads(line) for line in SAMPLES.read_text("utf-8").splitlines() if line.strip()]
    records = [Record.model_validate(item) for item in lines]
    expected = engine.audit_batch(records)
    assert any(f.source.startswith("model:") for r in expected for f in r.findings)  # the model took part
    pool = ScoringPool(1)
    try:
        pool.start()
        assert pool.audit_many(records) == expected
        assert pool._pool.submit(eval, "'pandas' in __import__('sys').modules").result() is False
    finally:
        pool.shutdown()


def test_scoring_processes_whose_engine_cannot_load_stop_the_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_SPACY_MODEL", "en_no_such_pipeline")  # each scorer's Auditor() fails
    pool = ScoringPool(1)
    with pytest.raises(RuntimeError, match="did not start"):
        pool.start(timeout=120)


def test_a_recycling_pool_starts_fresh_processes_after_so_many_records() -> None:
    from api.scoring import ScoringPool, _ready

    pool = ScoringPool(1, recycle_after=3)
    pool.start()
    try:
        first = pool._pool.submit(_ready, 0).result()
        records = [Record(id=f"R{i}", record_type="case_note", text="SW visited.") for i in range(2)]
        assert len(pool.audit_many(records)) == 2
        assert pool._pool.submit(_ready, 0).result() == first  # 2 of 3: the same process
        assert len(pool.audit_many(records)) == 2  # 4: replaced after this batch
        assert pool._pool.submit(_ready, 0).result() != first
    finally:
        pool.shutdown()
