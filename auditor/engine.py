"""The engine: one Doc per record, every applicable rule's check over it, findings merged and scored."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from spacy.language import Language
from spacy.tokens import Doc

from auditor import pipeline
from auditor.cases import action_keys, kept_actions
from auditor.checks import READS
from auditor.findings import Category, Finding, RecordResult
from auditor.pipeline import facts, text_of
from auditor.records import PlanType, Record, RecordType
from auditor.rulebook import Rule, RuleBook
from auditor.scoring import ScoringConfig, score

if TYPE_CHECKING:
    from auditor.classifier import TrainedModels


def shipped_models() -> TrainedModels | None:
    """The classifier shipped with the package, unless AUDITOR_MODEL=off or none is shipped."""
    if os.environ.get("AUDITOR_MODEL", "").lower() in ("off", "0", "none", "false"):
        return None
    # Imported here: scikit-learn takes about a second to import, which a rules-only run never pays.
    from auditor.classifier import load, models_dir

    if not (models_dir() / "model.json").exists():
        return None
    return load()


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
        models: TrainedModels | Literal["shipped"] | None = "shipped",
    ) -> None:
        self.rules = rules or RuleBook.load(rules_dir)
        self.scoring = scoring or ScoringConfig()
        self.nlp = nlp or pipeline.build()
        self.show_personal_data = show_personal_data
        # The shipped classifier backs up the rules when it is there; `models=None` turns it off.
        self.models = shipped_models() if models == "shipped" else models
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
        """Every finding of the applicable rules over one parsed record, de-duplicated and sorted.

        The findings' text is not masked here: `audit_batch` masks every finding, rule or model,
        in one place before anything leaves the engine."""
        text = text_of(doc)
        found: dict[tuple[str, int, int], Finding] = {}
        chosen = (
            self._applicable(record)
            if rules is None
            else [r for r in rules if r.applies(record.record_type, record.plan_type)]
        )
        for rule in chosen:
            for hit in self.rules.checks[rule.id](doc, rule):
                key = (rule.id, hit.start, hit.end)
                if key in found:
                    continue
                found[key] = Finding(
                    rule_id=rule.id,
                    category=rule.category,
                    severity=rule.severity,
                    start=hit.start,
                    end=hit.end,
                    text=text[hit.start : hit.end],
                    message=_fill(rule.message, hit.values),
                    suggestion=_fill(rule.suggestion, hit.values),
                    citation=str(rule.citation),
                    source=f"rule:{rule.id}",
                    explanation=hit.explanation,
                )
        return sorted(found.values(), key=lambda f: (f.start, f.end, f.rule_id))

    def versions(self) -> dict[str, str]:
        """What scored a record: the tool's version, the rule set's and the model's ("off" without)."""
        from auditor import __version__

        return {
            "auditor": __version__,
            "rules": self.rules.version(),
            "model": self.models.version if self.models is not None else "off",
        }

    def audit(self, record: Record) -> RecordResult:
        """Score one record."""
        return self.audit_batch([record])[0]

    def audit_batch(self, records: Sequence[Record]) -> list[RecordResult]:
        """Score a batch of records: rules record by record, the model once for the batch."""
        parsed = [(record, doc, self.findings(doc, record)) for record, doc in ((r, self.parse(r)) for r in records)]
        if self.models is not None:
            from auditor.combine import combine

            combined = combine(self.models, self.rules, parsed)
            parsed = [(record, doc, found) for (record, doc, _), found in zip(parsed, combined, strict=True)]
        results = []
        for record, doc, findings in parsed:
            shown = findings if self.show_personal_data else self._masked(doc, findings)
            value, grade = score(shown, self.scoring)
            results.append(RecordResult(record.id, value, grade, shown, self._plan_actions(record, doc)))
        return results

    def _plan_actions(self, record: Record, doc: Doc) -> tuple[tuple[str, int, bool], ...] | None:
        """A plan's actions for the case-level checks, from the units its rules marked (None if
        none of its rules needed the actions marked)."""
        if record.record_type is not RecordType.plan or not record.text:
            return None
        if "auditor_owners" not in self._components.get((record.record_type, record.plan_type), ()):
            return None
        return kept_actions(action_keys([u for u in facts(doc).units if u.is_action], pipeline.folded_text_of(doc)))

    def audit_many(self, records: Iterable[Record], batch_size: int = 64) -> Iterator[RecordResult]:
        """Score records in order, a batch at a time; memory does not grow with the input."""
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) == batch_size:
                yield from self.audit_batch(batch)
                batch = []
        if batch:
            yield from self.audit_batch(batch)

    @staticmethod
    def _masked(doc: Doc, findings: list[Finding]) -> list[Finding]:
        """Every finding with possible personal data in its words masked."""
        hidden = [(p.start, p.end) for p in facts(doc).personal_data]
        out = []
        for finding in findings:
            text = _masked(finding.text, finding.start, hidden, finding.category)
            out.append(finding if text == finding.text else dataclasses.replace(finding, text=text))
        return out


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
    return mask_spans(words, offset, hidden)


def mask_spans(words: str, offset: int, hidden: list[tuple[int, int]]) -> str:
    """`words` (which start at `offset` in their text) with the letters and digits inside any of
    the `hidden` spans of that text replaced by '*'."""
    end = offset + len(words)
    if not any(s < end and offset < e for s, e in hidden):
        return words
    chars = list(words)
    for s, e in hidden:
        for position in range(max(s, offset), min(e, end)):
            if chars[position - offset].isalnum():
                chars[position - offset] = "*"
    return "".join(chars)
