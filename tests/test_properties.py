"""Property-based tests: no text crashes the engine, and every finding's span lies inside its
record's text and names exactly the words it covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.engine import Auditor
from auditor.records import Record, RecordType

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
SAMPLE_TEXTS = [json.loads(line)["text"] for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
PHRASES = [
    "SW to visit weekly", "Mum to engage with services", "Referral to be made", "Attend all appointments",
    "by 31.12.20", "w/c 12 April", "within 10 working days", "ASAP", "If Mum does not attend, PLO",
    "TM decision: extended by 2 weeks.", "IRO escalated", "SDQ score 19", "| SW | 3/9/21", "Child A said",
    "DOB 03/04/2012", "943 476 5919", "07700 900123", "\n- ", "\n1. ", "\n\n", "Contingency plan:\n", "|",
]  # fmt: skip


@pytest.fixture(scope="module")
def engine() -> Auditor:
    return Auditor(show_personal_data=True)


def _check(engine: Auditor, text: str, record_type: RecordType = RecordType.plan) -> None:
    record = Record(id="r", record_type=record_type, text=text)
    result = engine.audit(record)
    assert 0 <= result.score <= 100
    for finding in result.findings:
        assert 0 <= finding.start <= finding.end <= len(text)
        assert finding.text == text[finding.start : finding.end]


texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(PHRASES) | st.text(max_size=20), max_size=30).map(" ".join),
    st.sampled_from(SAMPLE_TEXTS).flatmap(
        lambda base: st.integers(0, len(base)).flatmap(
            lambda cut: st.text(max_size=30).map(lambda noise: base[:cut] + noise + base[cut:])
        )
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, record_type=st.sampled_from(list(RecordType)))
def test_any_text_any_record_type(engine: Auditor, text: str, record_type: RecordType) -> None:
    _check(engine, text, record_type)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("".join(chr(c) for c in range(32)) + "\x7f\u2028\u2029\x85", id="control-characters"),
        pytest.param("Mum 😊 to attend 👍 by 31.12.20 🎉\n- SW 🚗 to visit weekly 🏠", id="emoji"),
        pytest.param(
            "Мама to attend by 3/9/21. 孩子 A said 我想回家. الأم to engage with services. İstanbul İ",
            id="mixed-scripts",
        ),
        pytest.param("\n".join(["- "] * 50 + ["|||", "| | |", ":", "1.", "•"]), id="empty-structures"),
    ],
)
def test_awkward_texts(engine: Auditor, text: str) -> None:
    for record_type in RecordType:
        _check(engine, text, record_type)


def test_single_line_of_5000_words(engine: Auditor) -> None:
    words = " ".join(" ".join(SAMPLE_TEXTS).split()[:5000])
    assert len(words.split()) == 5000 and "\n" not in words
    _check(engine, words)
    _check(engine, words, RecordType.decision)


def test_one_megabyte_record(engine: Auditor) -> None:
    text = "\n\n".join(SAMPLE_TEXTS)
    text = (text * (1_000_000 // len(text) + 1))[:1_000_000]
    assert len(text) == 1_000_000
    _check(engine, text)
    _check(engine, text, RecordType.review)
