"""Golden end-to-end test: the sample records' findings, scores and grades from the rules,
against the expected file checked in beside this test and reviewed by hand. (What the trained
model adds or withdraws is measured on the labelled corpus by `auditor evaluate`.) Any change in findings is a reviewable
diff: regenerate with `make golden`, read the diff, and commit it only if every change is right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.engine import Auditor
from auditor.records import read_records

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    line["id"]: line
    for line in (
        json.loads(text) for text in (ROOT / "tests" / "golden" / "records.expected.jsonl").read_text().splitlines()
    )
}
RECORDS = list(read_records(ROOT / "sample_records" / "records.jsonl"))


def test_every_sample_record_has_an_expectation() -> None:
    assert [r.id for r in RECORDS] == list(EXPECTED)


@pytest.mark.parametrize("record", RECORDS, ids=[r.id for r in RECORDS])
def test_sample_record(auditor: Auditor, record: object) -> None:
    actual = auditor.audit(record).contract()  # type: ignore[arg-type]
    expected = EXPECTED[actual["id"]]

    def brief(line: dict[str, object]) -> list[tuple[object, ...]]:
        return [(f["rule_id"], f["start"], f["end"], f["text"]) for f in line["findings"]]  # type: ignore[attr-defined,index]

    assert brief(actual) == brief(expected)
    assert (actual["score"], actual["grade"]) == (expected["score"], expected["grade"])
    assert actual == expected  # messages and suggestions too
