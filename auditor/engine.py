"""The engine: one Doc per record, every applicable rule's check over it, findings merged and scored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from auditor import pipeline
from auditor.checks import READS
from auditor.findings import Category, Finding, RecordResult
from auditor.pipeline import text_of
from auditor.records import PlanType, Record, RecordType
from auditor.rulebook import Rule, RuleBook
from auditor.scoring import ScoringConfig, score


def mask(text: str) -> str:
    """Hide letters and digits, keep layout: '07700 900123' -> '***** ******'."""
    return "".join("*" if ch.isalnum() else ch for ch in text)


class Auditor:
    """Audits records. Build once (it loads the rules and the pipeline) and reuse."""

    def __init__(
        self,
        rules: RuleBook | None = None,
        scoring: ScoringConfig | None = None,
        nlp: Language | None = None,
        rules_dir: Path | None = None,
        show_personal_data: bool = False,
    ) -> None:
        self.rules = rules or RuleBook.load(rules_dir)
        self.scoring = scoring or ScoringConfig()
        self.nlp = nlp or pipeline.build()
        self.show_personal_data = show_personal_data
        self._components: dict[tuple[RecordType, PlanType | None], list[str]] = {}
        self._rules_for: dict[tuple[RecordType, PlanType | None], list[Rule]] = {}

    def parse(self, record: Record) -> Doc:
        """The record's Doc, with the components its applicable rules read (and personal data,
        which is masked in every finding)."""
        key = (record.record_type, record.plan_type)
        components = self._components.get(key)
        if components is None:
            needs = {"doc._.personal_data"}
            for rule in self._applicable(record):
                needs.update(READS[rule.id])
            components = self._components[key] = pipeline.components_for(self.nlp, needs)
        return pipeline.make_doc(self.nlp, record, components)

    def _applicable(self, record: Record) -> list[Rule]:
        key = (record.record_type, record.plan_type)
        rules = self._rules_for.get(key)
        if rules is None:
            rules = self._rules_for[key] = [r for r in self.rules if r.applies(record.record_type, record.plan_type)]
        return rules

    def findings(self, doc: Doc, record: Record, rules: Iterable[Rule] | None = None) -> list[Finding]:
        """Every finding of the applicable rules over one parsed record, de-duplicated and sorted."""
        text = text_of(doc)
        hidden = [] if self.show_personal_data else [(p.start, p.end) for p in doc._.personal_data]
        found: dict[tuple[str, int, int], Finding] = {}
        for rule in rules if rules is not None else self._applicable(record):
            if not rule.applies(record.record_type, record.plan_type):
                continue
            for hit in self.rules.checks[rule.id](doc, rule):
                key = (rule.id, hit.start, hit.end)
                if key in found:
                    continue
                words = text[hit.start : hit.end]
                if hidden:
                    words = _masked(words, hit.start, hidden, rule.category)
                found[key] = Finding(
                    rule_id=rule.id,
                    category=rule.category,
                    severity=rule.severity,
                    start=hit.start,
                    end=hit.end,
                    text=words,
                    message=_fill(rule.message, hit.values),
                    suggestion=_fill(rule.suggestion, hit.values),
                    citation=str(rule.citation),
                    source=f"rule:{rule.id}",
                    explanation=hit.explanation,
                )
        return sorted(found.values(), key=lambda f: (f.start, f.end, f.rule_id))

    def audit(self, record: Record) -> RecordResult:
        """Score one record."""
        doc = self.parse(record)
        findings = self.findings(doc, record)
        value, grade = score(findings, self.scoring)
        return RecordResult(record.id, value, grade, findings)

    def audit_many(self, records: Iterable[Record]) -> Iterator[RecordResult]:
        """Score records one at a time, in order; memory does not grow with the batch."""
        for record in records:
            yield self.audit(record)


def _fill(template: str, values: dict[str, str]) -> str:
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def _masked(words: str, offset: int, hidden: list[tuple[int, int]], category: Category) -> str:
    if category is Category.possible_personal_data:
        return mask(words)
    end = offset + len(words)
    if not any(s < end and offset < e for s, e in hidden):
        return words
    chars = list(words)
    for s, e in hidden:
        for position in range(max(s, offset), min(e, end)):
            if chars[position - offset].isalnum():
                chars[position - offset] = "*"
    return "".join(chars)
