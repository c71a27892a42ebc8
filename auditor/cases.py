"""Case-level checks (issue 6): across one child's records over time, as of a date.

- CS001 `long_plan_without_oversight`: on a child protection plan for six months or more with no
  management oversight (a supervision record or a management decision) in the last N days.
- CS002 `drift`: an action carried unchanged (its dates and numbers aside) from plan to plan.
- CS003 `drift`: a CP or looked-after review overdue by statutory timescales.

The rules are data, as record rules are: `rules/case/CS*.yaml`, each with its message, what to
write instead, the inspectors' words, its parameters and timelines that must and must not fire.
A child's records are those with the same council code and child id; records with no child id
or no date take no part. A child's current plan is their latest plan record; its start is the
earliest start (or date) of the unbroken run of plans of that type that ends with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from auditor.actions import is_action
from auditor.casefold import fold
from auditor.dates import MONTH_NAME, add_working_days
from auditor.findings import RECORD_LEVEL_CATEGORIES, Category, Severity
from auditor.records import PlanType, RecordType
from auditor.rulebook import Citation, RuleFileError, default_rules_dir
from auditor.segment import Unit, segment


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseRecord(_Strict):
    """What a case check reads of a record: never its text, except a plan's (for its actions)."""

    id: str
    record_type: RecordType
    plan_type: PlanType | None = None
    recorded_at: date | None = None
    plan_start_date: date | None = None
    text: str = ""
    # A plan's actions as `kept_actions` keeps them, when the batch stored them as it scored the
    # plan (so a nightly run need not read every plan's text again); otherwise read from `text`.
    actions: tuple[tuple[str, int, bool], ...] | None = None
    team: str | None = None
    worker: str | None = None

    def compared_actions(self) -> tuple[tuple[str, int, bool], ...]:
        return self.actions if self.actions is not None else kept_actions(plan_actions(self.text))


class Timeline(_Strict):
    as_of: date
    records: list[CaseRecord] = Field(min_length=1)


class CaseExamples(_Strict):
    fires: list[Timeline] = Field(min_length=1)
    does_not_fire: list[Timeline] = Field(min_length=1)


class CaseRule(_Strict):
    id: str = Field(pattern=r"^CS\d{3}$")
    name: str = Field(pattern=r"^[a-z]+(?:-[a-z0-9]+)+$")
    category: Category
    severity: Severity
    message: str = Field(min_length=10)
    suggestion: str = Field(min_length=10)
    description: str = Field(min_length=10)
    citation: Citation
    params: dict[str, Any] = Field(default_factory=dict)
    examples: CaseExamples

    @model_validator(mode="after")
    def _case_level(self) -> CaseRule:
        if self.category in RECORD_LEVEL_CATEGORIES:
            raise ValueError(f"category {self.category.value!r} is record level; case rules use a case-level one")
        return self


@dataclass(frozen=True)
class CaseFinding:
    rule_id: str
    category: Category
    severity: Severity
    record_id: str  # the record it is shown on: the child's current plan, or the carried action's plan
    message: str
    suggestion: str
    citation: str
    evidence: list[dict[str, str]] = field(default_factory=list)  # the records it rests on: id and date


def case_rules_dir() -> Path:
    return default_rules_dir() / "case"


@cache
def load_case_rules(directory: Path | None = None) -> tuple[CaseRule, ...]:
    folder = directory or case_rules_dir()
    rules = []
    for path in sorted(folder.glob("CS*.y*ml")):
        try:
            rules.append(CaseRule.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (yaml.YAMLError, UnicodeDecodeError):
            raise RuleFileError(path.name, None, "is not valid YAML") from None
        except ValidationError as error:
            first = error.errors(include_input=False, include_url=False)[0]
            key = ".".join(str(p) for p in first["loc"]) or None
            raise RuleFileError(path.name, key, str(first["msg"])) from None
    if {r.id for r in rules} != set(CASE_CHECKS):
        raise RuleFileError(str(folder), None, f"case rules must be exactly {', '.join(sorted(CASE_CHECKS))}")
    return tuple(rules)


@dataclass
class Settings:
    """Parameters a run may set over the rule files' own (`auditor batch --oversight-days`)."""

    oversight_days: int | None = None


def check_child(
    records: Iterable[CaseRecord],
    as_of: date,
    rules: Iterable[CaseRule] | None = None,
    settings: Settings | None = None,
) -> list[CaseFinding]:
    """Every case-level finding for one child's records, as of `as_of` (later records ignored)."""
    dated = sorted(
        (r for r in records if r.recorded_at is not None and r.recorded_at <= as_of),
        key=lambda r: (r.recorded_at, r.id),
    )
    if not dated:
        return []
    found: list[CaseFinding] = []
    for rule in rules if rules is not None else load_case_rules():
        found += CASE_CHECKS[rule.id](dated, as_of, rule, settings or Settings())
    return found


def _finding(rule: CaseRule, record_id: str, evidence: list[CaseRecord], **values: Any) -> CaseFinding:
    return CaseFinding(
        rule_id=rule.id,
        category=rule.category,
        severity=rule.severity,
        record_id=record_id,
        message=rule.message.format(**values),
        suggestion=rule.suggestion,
        citation=str(rule.citation),
        evidence=[{"record_id": r.id, "date": _day(r.recorded_at)} for r in evidence],
    )


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%y") if value else "-"


# A child's plan: what a PEP or a pathway plan sits beside (they never replace it).
_MAIN_PLANS = (PlanType.cp, PlanType.cin, PlanType.cla, PlanType.early_help)


def _current_plan(records: list[CaseRecord]) -> tuple[CaseRecord, date] | None:
    """The child's latest plan (PEPs and pathway plans aside) and when it started: its own
    `plan_start_date`, else that of the unbroken run of plans of its type that ends with it, else
    the date of that run's first plan."""
    plans = [r for r in records if r.record_type is RecordType.plan and r.plan_type in _MAIN_PLANS]
    if not plans:
        return None
    latest = plans[-1]
    start: date | None = None
    for plan in reversed(plans):
        if plan.plan_type != latest.plan_type:
            break
        if plan.plan_start_date is not None:
            start = plan.plan_start_date
            break
        start = plan.recorded_at
    assert start is not None
    return latest, start


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end`, as `_add_months` counts them (31.08 + 6 = 28.02)."""
    months = max(0, (end.year - start.year) * 12 + end.month - start.month)
    while months and _add_months(start, months) > end:
        months -= 1
    return months


def _long_plan_without_oversight(
    records: list[CaseRecord], as_of: date, rule: CaseRule, settings: Settings
) -> list[CaseFinding]:
    current = _current_plan(records)
    if current is None or current[0].plan_type is not PlanType.cp:
        return []
    plan, start = current
    months = _months_between(start, as_of)
    if months < int(rule.params["plan_months"]):
        return []
    days = settings.oversight_days or int(rule.params["oversight_days"])
    oversight = [r for r in records if r.record_type in (RecordType.supervision, RecordType.decision)]
    if oversight and oversight[-1].recorded_at and oversight[-1].recorded_at > as_of - timedelta(days=days):
        return []
    last = f"{_day(oversight[-1].recorded_at)} ({days}-day limit)" if oversight else "the plan began"
    evidence = [plan, *oversight[-1:]]
    return [_finding(rule, plan.id, evidence, since=_day(start), months=months, last=last)]


_DATES = re.compile(
    rf"\b\d{{1,2}}[./-]\d{{1,2}}(?:[./-]\d{{2,4}})?\b"  # 30.11.20, 3/9/21, 12/04
    rf"|\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?)?{MONTH_NAME}\b\.?(?:\s+\d{{4}}|\s+\d{{2}}\b)?"  # 31 May 2021, May
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\bw/c\b"
)
# A status written after an action: done (the action is not carried), or not yet (it is).
_STATUS = re.compile(
    r"[\s\-\u2013:;,(\[]*\b(?P<not>not\s+(?:yet\s+)?|partially\s+|partly\s+)?"
    r"(?P<word>achieved|completed|complete|done|met|ongoing|in\s+progress|outstanding)\b[)\].!]*\s*$"
)
_DONE_WORDS = ("achieved", "completed", "complete", "done", "met")


def plan_actions(text: str) -> list[tuple[str, bool]]:
    """A plan's actions: (the words compared across plans, whether the plan marks it done). Dates
    are left out of the words, and a status written after the action ("- achieved", "(ongoing)")."""
    folded = fold(text)
    return action_keys([unit for unit in segment(text).units if is_action(unit, folded)], folded)


def kept_actions(actions: Iterable[tuple[str, bool]]) -> tuple[tuple[str, int, bool], ...]:
    """What is kept of a plan's actions between runs, and compared: each action's words as a
    digest (the first 16 hex digits of their SHA-256), how many words, and whether the plan marks
    it done. Never the words: nothing of a record's text is stored beside its state."""
    return tuple((hashlib.sha256(key.encode()).hexdigest()[:16], len(key.split()), done) for key, done in actions)


ACTIONS_CODE = ("actions.py", "casefold.py", "cases.py", "dates.py", "segment.py", "vocabulary.py")


@cache
def actions_version(folder: Path | None = None) -> str:
    """A digest of the code that finds a plan's actions and their words (`ACTIONS_CODE`, in this
    package's folder): actions kept under another version are read again from the plan's text
    (and kept anew). Installed without its sources, the package's version stands for the code."""
    digest = hashlib.sha256()
    here = folder or Path(__file__).resolve().parent
    try:
        for name in ACTIONS_CODE:
            digest.update((here / name).read_bytes())
    except OSError:
        from auditor import __version__

        digest = hashlib.sha256(f"auditor {__version__}".encode())
    return digest.hexdigest()[:16]


def action_keys(actions: Iterable[Unit], folded: str) -> list[tuple[str, bool]]:
    """`plan_actions` of units already known to be actions, in the folded text they come from
    (the engine's, as it scores a plan)."""
    out = []
    for unit in actions:
        body = folded[unit.start : unit.end].lower()
        status = _STATUS.search(body)
        done = bool(status and not status.group("not") and status.group("word") in _DONE_WORDS)
        if status:
            body = body[: status.start()]
        key = " ".join(re.findall(r"[a-z0-9]+", _DATES.sub(" ", body)))
        out.append((key, done))
    return out


def _carried_actions(records: list[CaseRecord], as_of: date, rule: CaseRule, settings: Settings) -> list[CaseFinding]:
    """Actions of the child's latest plan that every plan since an earlier one repeats unchanged."""
    plans = [r for r in records if r.record_type is RecordType.plan and (r.text or r.actions is not None)]
    if len(plans) < 2:
        return []
    min_days, min_words = int(rule.params["min_days"]), int(rule.params["min_words"])
    latest = plans[-1]
    assert latest.recorded_at is not None and plans[0].recorded_at is not None
    if (latest.recorded_at - plans[0].recorded_at).days < min_days:
        return []  # no action can have been carried long enough: the plans' texts need not be read
    since: dict[str, CaseRecord] = {}  # each action of the last plan read: the plan its unbroken run began in
    for plan in plans[:-1]:
        keys = {key for key, _, _ in plan.compared_actions()}
        since = {key: since.get(key, plan) for key in keys}
    found: list[CaseFinding] = []
    reported: set[str] = set()
    for key, words, done in latest.compared_actions():
        earlier = since.get(key)
        if earlier is None or done or key in reported or words < min_words:
            continue
        assert latest.recorded_at is not None and earlier.recorded_at is not None
        days = (latest.recorded_at - earlier.recorded_at).days
        if days >= min_days:
            reported.add(key)
            found.append(
                _finding(
                    rule,
                    latest.id,
                    [earlier, latest],
                    first=earlier.id,
                    first_date=_day(earlier.recorded_at),
                    last_date=_day(latest.recorded_at),
                    days=days,
                )
            )
    return found


def _review_overdue(records: list[CaseRecord], as_of: date, rule: CaseRule, settings: Settings) -> list[CaseFinding]:
    current = _current_plan(records)
    if current is None or current[0].plan_type not in (PlanType.cp, PlanType.cla):
        return []
    plan, start = current
    timing = rule.params[current[0].plan_type.value]
    # Reviews after the plan began (a conference minuted on its first day began it).
    reviews = [r for r in records if r.record_type is RecordType.review and r.recorded_at and r.recorded_at > start]
    if plan.plan_type is PlanType.cp:
        due = _add_months(start, timing["first_months"]) if not reviews else None
    elif not reviews:
        due = add_working_days(start, int(timing["first_working_days"]))
    elif len(reviews) == 1:
        due = _add_months(reviews[0].recorded_at, int(timing["second_months"]))  # type: ignore[arg-type]
    else:
        due = None
    if due is None:
        due = _add_months(reviews[-1].recorded_at, int(timing["then_months"]))  # type: ignore[arg-type]
    if as_of <= due:
        return []
    kind = "child protection" if plan.plan_type is PlanType.cp else "looked-after"
    return [_finding(rule, plan.id, [plan, *reviews[-1:]], plan=kind, due=_day(due), days=(as_of - due).days)]


CASE_CHECKS = {"CS001": _long_plan_without_oversight, "CS002": _carried_actions, "CS003": _review_overdue}
