"""Scores and grades.

    score = max(0, 100 - sum over rules of min(rule_cap, weight[severity] * findings of that rule))

Each finding deducts its severity's weight; one rule can deduct at most `rule_cap` from one record,
so a plan with twelve undated actions is marked down hard but not below what its other faults
earn. The grade is the first of outstanding, good, requires improvement whose threshold the score
reaches, else inadequate. Every number is configurable (a YAML file passed as `--scoring`).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from auditor.findings import Finding, Grade, Severity


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[Severity, float] = Field(
        default_factory=lambda: {Severity.high: 10.0, Severity.medium: 5.0, Severity.low: 2.0}
    )
    rule_cap: float = Field(default=30.0, gt=0)
    outstanding: float = Field(default=90.0, le=100)
    good: float = Field(default=75.0)
    requires_improvement: float = Field(default=50.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ScoringConfig:
        if not self.outstanding > self.good > self.requires_improvement:
            raise ValueError("thresholds must fall: outstanding > good > requires_improvement")
        if set(self.weights) != set(Severity):
            raise ValueError(f"weights must give all of: {', '.join(s.value for s in Severity)}")
        return self

    @classmethod
    def from_file(cls, path: Path) -> ScoringConfig:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls.model_validate(raw)
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read scoring configuration ({exc.__class__.__name__})") from None
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(p) for p in error["loc"]) or "(top level)"
            raise ValueError(f"{path}: key {key!r}: {error['msg']}") from None


def score(findings: list[Finding], config: ScoringConfig) -> tuple[int, Grade]:
    """The record's score (0-100) and grade, by the formula in this module's docstring."""
    per_rule: dict[str, float] = {}
    for finding in findings:
        per_rule[finding.rule_id] = per_rule.get(finding.rule_id, 0.0) + config.weights[finding.severity]
    deduction = sum(min(config.rule_cap, total) for total in per_rule.values())
    value = max(0, round(100 - deduction))
    return value, grade(value, config)


def grade(value: float, config: ScoringConfig) -> Grade:
    if value >= config.outstanding:
        return Grade.outstanding
    if value >= config.good:
        return Grade.good
    if value >= config.requires_improvement:
        return Grade.requires_improvement
    return Grade.inadequate
