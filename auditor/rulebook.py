"""Rules as data: one YAML file per rule in rules/, loaded strictly.

A file holds a stable id and a readable name, a category from shared/DOMAIN.md, a severity, a
message and what to write instead, the inspectors' words it enforces, and examples that must and
must not fire. Its logic is a check registered under the same id (auditor.checks). An unknown
key or a bad value stops loading with the file, the key and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from auditor.findings import RECORD_LEVEL_CATEGORIES, Category, Severity
from auditor.records import PlanType, RecordType


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    source: str = Field(min_length=3)
    paragraph: str = Field(min_length=1)
    words: str = Field(min_length=10)

    def __str__(self) -> str:
        return f'{self.source}, {self.paragraph}: "{self.words}"'


class Example(_Strict):
    text: str
    record_type: RecordType | None = None
    plan_type: PlanType | None = None
    recorded_at: date | None = None
    match: str | None = None  # fires: some finding of this rule covers exactly these words
    known_miss: str | None = None  # a known miss, run as a strict expected failure; says why


class Examples(_Strict):
    fires: list[Example] = Field(min_length=1)
    does_not_fire: list[Example] = Field(min_length=1)


class Rule(_Strict):
    id: str = Field(pattern=r"^[A-Z]{2}\d{3}$")
    name: str = Field(pattern=r"^[a-z]+(?:-[a-z0-9]+)+$")
    category: Category
    severity: Severity
    applies_to: list[RecordType] = Field(min_length=1)
    plan_types: list[PlanType] | None = None  # only plans of these types
    exclude_plan_types: list[PlanType] = Field(default_factory=list)
    message: str = Field(min_length=10)
    suggestion: str = Field(min_length=10)
    description: str = Field(min_length=10)
    citation: Citation
    aliases: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    examples: Examples

    @model_validator(mode="after")
    def _record_level(self) -> Rule:
        if self.category not in RECORD_LEVEL_CATEGORIES:
            raise ValueError(
                f"category {self.category.value!r} is case level; record rules use a record-level category"
            )
        return self

    def catalogue(self) -> dict[str, Any]:
        """The rule as the catalogue shows it (`auditor rules --format json`, `GET /v1/rules`):
        everything but its test examples and its checks' parameters."""
        return self.model_dump(mode="json", exclude={"examples", "params"})

    def applies(self, record_type: RecordType, plan_type: PlanType | None) -> bool:
        if record_type not in self.applies_to:
            return False
        if record_type is not RecordType.plan:
            return True
        if plan_type is not None and plan_type in self.exclude_plan_types:
            return False
        return self.plan_types is None or plan_type in self.plan_types


@dataclass(frozen=True)
class RuleFileError(Exception):
    """A rule file that cannot be loaded, with the file, the key and what is allowed."""

    file: str
    key: str | None
    message: str

    def __str__(self) -> str:
        key = f" key {self.key!r}:" if self.key else ""
        return f"{self.file}:{key} {self.message}"


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known key"
    if kind == "enum":
        return f"must be one of: {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        return f"must match {error['ctx']['pattern']}"
    if kind == "too_short":
        return "needs at least one entry"
    return str(error["msg"])


def load_rule(path: Path) -> Rule:
    """One rule file, validated; raises RuleFileError naming the file and key."""
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleFileError(name, None, f"is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise RuleFileError(name, None, "must be a mapping of keys to values")
    try:
        rule = Rule.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or None
        raise RuleFileError(name, key, _describe(error)) from None
    if path.stem != rule.id:
        raise RuleFileError(name, "id", f"must equal the file name ({path.stem})")
    return rule


def default_rules_dir() -> Path:
    """AUDITOR_RULES_DIR, else the rules shipped in the wheel, else the source tree's rules/."""
    configured = os.environ.get("AUDITOR_RULES_DIR")
    if configured:
        return Path(configured)
    shipped = Path(str(resources.files("auditor") / "_data" / "rules"))
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent / "rules"


class RuleBook:
    """The loaded rule catalogue, each rule paired with its registered check."""

    def __init__(self, rules: list[Rule]) -> None:
        from auditor.checks import CHECKS

        self.rules = sorted(rules, key=lambda r: r.id)
        self.by_id = {r.id: r for r in self.rules}
        self._version: str | None = None
        for rule in self.rules:
            for alias in rule.aliases:
                self.by_id.setdefault(alias, rule)
        self.checks = {rule.id: CHECKS[rule.id] for rule in self.rules}

    @classmethod
    def load(cls, directory: Path | None = None) -> RuleBook:
        from auditor.checks import CHECKS

        directory = directory or default_rules_dir()
        if not directory.is_dir():
            raise RuleFileError(str(directory), None, "rules folder not found")
        rules: list[Rule] = []
        seen: dict[str, str] = {}
        for path in sorted(directory.glob("*.y*ml")):
            rule = load_rule(path)
            for key in (rule.id, rule.name, *rule.aliases):
                if key in seen:
                    raise RuleFileError(path.name, "id", f"{key!r} is already used by {seen[key]}")
                seen[key] = path.name
            if rule.id not in CHECKS:
                raise RuleFileError(path.name, "id", "no check is registered under this id in auditor.checks")
            rules.append(rule)
        if not rules:
            raise RuleFileError(str(directory), None, "holds no rule files")
        return cls(rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def version(self) -> str:
        """A short fingerprint of the rule set, for reports and provenance (computed once: the
        service stamps it on every audit)."""
        if self._version is None:
            import hashlib

            digest = hashlib.sha256()
            for rule in self.rules:
                digest.update(rule.model_dump_json().encode())
            self._version = digest.hexdigest()[:12]
        return self._version
