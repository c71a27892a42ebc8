"""Findings: one type for every rule hit (and, later, model prediction), and the finding categories.

The category names are a stable contract shared by the CLI, the API, the reports and the tests
(shared/DOMAIN.md). Never rename one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    # Record level, plan text.
    missing_timescale = "missing_timescale"
    vague_timescale = "vague_timescale"
    missing_owner = "missing_owner"
    vague_action = "vague_action"
    unclear_change = "unclear_change"
    contingency_without_timescale = "contingency_without_timescale"
    unexplained_jargon = "unexplained_jargon"
    child_voice_absent = "child_voice_absent"
    score_without_interpretation = "score_without_interpretation"
    possible_personal_data = "possible_personal_data"
    # Record level, decisions, supervision and reviews.
    extension_without_rationale = "extension_without_rationale"
    decision_without_rationale = "decision_without_rationale"
    escalation_without_outcome = "escalation_without_outcome"
    # Case level, across one child's records.
    long_plan_without_oversight = "long_plan_without_oversight"
    drift = "drift"


RECORD_LEVEL_CATEGORIES = frozenset(Category) - {Category.long_plan_without_oversight, Category.drift}


class Severity(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Grade(StrEnum):
    """The four points of Ofsted's scale, as practice-learning audits use them."""

    outstanding = "outstanding"
    good = "good"
    requires_improvement = "requires improvement"
    inadequate = "inadequate"


@dataclass(frozen=True, slots=True)
class Finding:
    """A weakness at text[start:end] (start == end: the record as a whole, e.g. no child's voice)."""

    rule_id: str
    category: Category
    severity: Severity
    start: int
    end: int
    text: str
    message: str
    suggestion: str
    citation: str
    source: str  # "rule:TS001" or "model:NAME@VERSION"
    confidence: float = 1.0
    explanation: str = ""

    def contract(self) -> dict[str, Any]:
        """The JSONL contract's finding object: exactly these keys, in this order."""
        return {
            "rule_id": self.rule_id,
            "category": self.category.value,
            "severity": self.severity.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "message": self.message,
            "suggestion": self.suggestion,
        }

    def detailed(self) -> dict[str, Any]:
        """The contract's keys plus citation, source, confidence and explanation."""
        return {
            **self.contract(),
            "citation": self.citation,
            "source": self.source,
            "confidence": self.confidence,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class RecordResult:
    id: str
    score: int
    grade: Grade
    findings: list[Finding] = field(default_factory=list)
    # A plan's actions as the case-level drift check compares them (`cases.kept_actions`: digests,
    # not words), found from the units the rules already read, so that the nightly batch need not
    # read the text again. Not part of the contract; None when the engine did not mark them.
    plan_actions: tuple[tuple[str, int, bool], ...] | None = field(default=None, compare=False, repr=False)

    def contract(self) -> dict[str, Any]:
        """One line of `auditor check --format jsonl`: a contract other tools read."""
        return {
            "id": self.id,
            "score": self.score,
            "grade": self.grade.value,
            "findings": [f.contract() for f in self.findings],
        }


def summary(
    records: int, mean_score: float | None, grades: Mapping[str, int], categories: Mapping[str, int]
) -> dict[str, Any]:
    """A batch's summary, in the one shape the CLI's JSON and the API share: every grade (zero
    included), and each category found, in the contract's order."""
    return {
        "records": records,
        "mean_score": round(float(mean_score), 1) if mean_score is not None else None,
        "grades": {g.value: grades.get(g.value, 0) for g in Grade},
        "findings_by_category": {c.value: categories[c.value] for c in Category if categories.get(c.value)},
    }


def summarise(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`summary` of records in the contract's shape (`RecordResult.contract()`); unscored ones
    (score None) are counted but have no score or grade."""
    rows = list(results)
    scores = [r["score"] for r in rows if r["score"] is not None]
    return summary(
        len(rows),
        sum(scores) / len(scores) if scores else None,
        Counter(r["grade"] for r in rows if r["grade"]),
        Counter(f["category"] for r in rows for f in r["findings"]),
    )
