"""Case-level checks: each case rule file's timelines fire or not as they say, and the pieces the
checks rest on (a plan's start, months, carried actions) hold."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from auditor.cases import CaseRecord, Settings, check_child, kept_actions, load_case_rules, plan_actions
from auditor.findings import Category

RULES = load_case_rules()
EXAMPLES = [
    pytest.param(rule, timeline, fires, id=f"{rule.id}-{'fires' if fires else 'not'}-{n}")
    for rule in RULES
    for fires, timelines in ((True, rule.examples.fires), (False, rule.examples.does_not_fire))
    for n, timeline in enumerate(timelines)
]


@pytest.mark.parametrize(("rule", "timeline", "fires"), EXAMPLES)
def test_case_rule_examples(rule, timeline, fires) -> None:
    found = [f for f in check_child(timeline.records, timeline.as_of, [rule]) if f.rule_id == rule.id]
    assert bool(found) is fires, [f.message for f in found]
    for finding in found:
        assert finding.record_id in {r.id for r in timeline.records}
        assert "{" not in finding.message  # every placeholder filled


def test_the_case_rules_are_case_level_and_cite_the_inspectors() -> None:
    assert {r.category for r in RULES} == {Category.long_plan_without_oversight, Category.drift}
    assert all(len(r.citation.words) > 20 for r in RULES)


def _plan(id: str, day: str, plan_type: str = "cp", start: str | None = None, text: str = "") -> CaseRecord:
    return CaseRecord.model_validate(
        {
            "id": id,
            "record_type": "plan",
            "plan_type": plan_type,
            "recorded_at": day,
            "plan_start_date": start,
            "text": text,
        }
    )


def test_a_plan_s_start_is_the_start_of_its_unbroken_run() -> None:
    records = [
        _plan("CP-old", "2019-01-10"),  # an earlier CP plan, ended by a step down
        _plan("CIN", "2019-09-01", "cin"),
        _plan("CP1", "2020-10-21"),
        _plan("CP2", "2021-01-14"),  # reissued after review: the plan started with CP1
    ]
    [finding] = [f for f in check_child(records, date(2021, 6, 30)) if f.rule_id == "CS001"]
    assert "since 21.10.20 (8 months)" in finding.message and finding.record_id == "CP2"


def test_the_oversight_window_can_be_set() -> None:
    records = [_plan("P1", "2020-10-21"), CaseRecord(id="S1", record_type="supervision", recorded_at=date(2021, 5, 1))]
    as_of = date(2021, 6, 30)
    assert not [f for f in check_child(records, as_of) if f.rule_id == "CS001"]  # 60 days: inside 90
    short = check_child(records, as_of, settings=Settings(oversight_days=30))
    assert [f.rule_id for f in short if f.rule_id == "CS001"] == ["CS001"]


def test_records_after_the_as_of_date_do_not_count() -> None:
    records = [_plan("P1", "2020-10-21"), CaseRecord(id="S1", record_type="supervision", recorded_at=date(2021, 8, 1))]
    assert [f.rule_id for f in check_child(records, date(2021, 6, 30)) if f.rule_id == "CS001"] == ["CS001"]


def test_actions_are_compared_without_their_dates_and_numbers() -> None:
    first = plan_actions("Actions\n1. Mum to attend the Freedom Programme by 30.11.20, every Tuesday.")
    later = plan_actions("Actions\n3) Mum to attend the Freedom Programme by 31 May 2021, every Thursday.")
    assert [k for k, _ in first] == [k for k, _ in later] == ["mum to attend the freedom programme by every"]


def test_a_child_with_no_dated_records_has_no_case_findings() -> None:
    assert check_child([CaseRecord(id="P", record_type="plan", plan_type="cp")], date(2021, 6, 30)) == []


def test_whole_months_count_as_plans_fall_due() -> None:
    from auditor.cases import _months_between

    assert _months_between(date(2020, 8, 31), date(2021, 2, 28)) == 6  # 31.08 + 6 months is 28.02
    assert _months_between(date(2020, 8, 31), date(2021, 2, 27)) == 5
    assert _months_between(date(2020, 2, 29), date(2021, 2, 28)) == 12
    assert _months_between(date(2021, 1, 10), date(2021, 1, 9)) == 0


def test_the_engine_finds_a_plan_s_actions_as_the_drift_check_reads_its_text(auditor) -> None:
    """The batch stores the actions the engine marked as it scored a plan; they must be the ones
    `plan_actions` reads from the text, or a plan stored before and after would never match."""
    import json
    from pathlib import Path

    from auditor.records import Record

    samples = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
    plans = [
        Record.model_validate(item)
        for item in (json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines() if line.strip())
        if item["record_type"] == "plan"
    ]
    plans += [
        Record(id=r.id, record_type="plan", plan_type=r.plan_type, text=r.text)
        for rule in RULES
        for timeline in (*rule.examples.fires, *rule.examples.does_not_fire)
        for r in timeline.records
        if r.record_type == "plan" and r.text
    ]
    assert len(plans) > 20
    compared = 0
    for plan, result in zip(plans, auditor.audit_many(plans), strict=True):
        assert result.plan_actions is not None, plan.id
        assert result.plan_actions == kept_actions(plan_actions(plan.text)), plan.id
        compared += bool(result.plan_actions)
    assert compared > 15  # most have actions: the comparison is not of empty lists


def test_the_actions_version_follows_the_code_that_finds_actions(tmp_path) -> None:
    from pathlib import Path

    from auditor import __version__, cases

    here = Path(cases.__file__).resolve().parent
    copies = {}
    for copy in ("same", "changed", "sourceless"):
        folder = copies[copy] = tmp_path / copy
        folder.mkdir()
        for name in cases.ACTIONS_CODE:
            (folder / name).write_bytes((here / name).read_bytes())
    (copies["changed"] / "segment.py").write_text((here / "segment.py").read_text() + "\n# changed\n")
    (copies["sourceless"] / "segment.py").unlink()
    assert cases.actions_version(copies["same"]) == cases.actions_version()
    changed = cases.actions_version(copies["changed"])
    assert changed != cases.actions_version() and len(changed) == 16
    by_release = hashlib.sha256(f"auditor {__version__}".encode()).hexdigest()[:16]
    assert cases.actions_version(copies["sourceless"]) == by_release
