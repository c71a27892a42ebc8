"""Every rule's own examples run as tests: `fires` must produce a finding of that rule (covering
the `match` words where given), `does_not_fire` must not. A known miss is a strict xfail, so a fix
is noticed."""

from __future__ import annotations

import pytest

from auditor.engine import Auditor
from auditor.records import Record
from auditor.rulebook import Example, Rule, RuleBook

RULES = RuleBook.load()


def _cases(kind: str) -> list[object]:
    cases = []
    for rule in RULES:
        for number, example in enumerate(getattr(rule.examples, kind), start=1):
            marks = [pytest.mark.xfail(reason=example.known_miss, strict=True)] if example.known_miss else []
            cases.append(pytest.param(rule, example, id=f"{rule.id}-{kind}-{number}", marks=marks))
    return cases


def _record(rule: Rule, example: Example) -> Record:
    record_type = example.record_type or rule.applies_to[0]
    return Record(
        id="example",
        record_type=record_type,
        plan_type=example.plan_type if record_type == "plan" else None,
        recorded_at=example.recorded_at,
        text=example.text,
    )


def _hits(auditor: Auditor, rule: Rule, example: Example) -> list[tuple[int, int, str]]:
    record = _record(rule, example)
    doc = auditor.parse(record)
    return [
        (f.start, f.end, example.text[f.start : f.end]) for f in auditor.findings(doc, record) if f.rule_id == rule.id
    ]


@pytest.mark.parametrize(("rule", "example"), _cases("fires"))
def test_rule_fires(auditor: Auditor, rule: Rule, example: Example) -> None:
    hits = _hits(auditor, rule, example)
    assert hits, f"{rule.id} did not fire"
    if example.match is not None:
        assert example.match in [words for _s, _e, words in hits], (
            f"{rule.id} fired on {hits}, not on {example.match!r}"
        )


@pytest.mark.parametrize(("rule", "example"), _cases("does_not_fire"))
def test_rule_does_not_fire(auditor: Auditor, rule: Rule, example: Example) -> None:
    hits = _hits(auditor, rule, example)
    assert not hits, f"{rule.id} fired on {[w for _s, _e, w in hits]}"
