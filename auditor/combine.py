"""Where the rules and the trained model meet.

For each plan action and each of missing_timescale, vague_timescale, missing_owner and
vague_action (vague_action and vague_timescale on every action line, the other two only on
tasks: see `model_actions`), and for each paragraph of a decision, supervision or review record
(of a case note, each paragraph with decision language) and each of extension_without_rationale
and decision_without_rationale, the model gives a probability p and the category is decided as
(see `classifier.Combination`):

    reported = (a rule fired and p >= confirm) or p >= add

- A rule's finding stands unless the model strongly disagrees (p below `confirm`); then it is
  withdrawn. With `confirm` at 0 the model never overrules a rule.
- How far the model may withdraw a rule's finding is set per category (`evaluation.MAX_CONFIRM`):
  for the action categories only when it is at least 85% sure the weakness is absent (`confirm`
  at most 0.15); for the decision categories in `evaluation.MODEL_DECIDES` (both, for model
  1.3) the model decides (`confirm` equals `add`), because there the rules joining did worse on
  the written parts left out in turn; otherwise as far as the chosen thresholds say.
- Where the rules are silent, the model adds a finding when it is confident (p at least `add`).
  The added finding carries the category's rule (its message, suggestion and citation), says in
  its message that the model found it, with its probability and the words that pushed it, and
  its source is `model:NAME@VERSION`.

The thresholds are chosen per category on the dev split and out-of-fold predictions for the
train split (`auditor train`), and `auditor evaluate` reports this exact combination on the
test split.

Records are predicted in batches: one scikit-learn call per batch, not per record.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import zip_longest

import numpy as np
from spacy.tokens import Doc

from auditor.classifier import ACTION_TARGETS, DECISION_TARGETS, Scorer, TrainedModels, decision_categories
from auditor.decisions import has_decision_language
from auditor.features import Words, keys_touching
from auditor.findings import Category, Finding
from auditor.pipeline import facts, folded_text_of, tasks_of, text_of
from auditor.records import Record, RecordType
from auditor.rulebook import RuleBook
from auditor.segment import SectionKind, paragraphs

# The rules whose words a model finding of each category carries: the first that applies to the
# record (PEP targets have their own vague-action rule; OW003, "names nobody", is the general one).
PRIMARY_RULES = {
    "missing_timescale": ("TS001",),
    "vague_timescale": ("TS002",),
    "missing_owner": ("OW003",),
    "vague_action": ("VA001", "VA002"),
    "extension_without_rationale": ("DC001",),
    "decision_without_rationale": ("DC002",),
}
# The action categories the model judges on every action line of a plan, contingencies and
# prohibitions included ("If Mum does not engage, continue to monitor" is as vague as any action);
# the others it judges only on tasks, as the rules do (a contingency's timing is CT001's, and a
# prohibition has no owner to chase or deadline to meet). Chosen on train (out-of-fold) and dev:
# reading every line lifted vague_action's combined F1 from 0.846 to 0.872 and vague_timescale's
# from 0.960 to 0.977; for missing_timescale and missing_owner it changed nothing.
EVERY_ACTION_LINE = frozenset({"vague_action", "vague_timescale"})
_DECISION_RECORDS = frozenset({RecordType.decision, RecordType.supervision, RecordType.review, RecordType.case_note})


@dataclass(frozen=True)
class _Span:
    record: int
    start: int
    end: int
    task: bool = True


class _RuleFindings:
    """A record's rule findings by category, sorted by start, for finding those inside a span."""

    def __init__(self, findings: list[Finding]) -> None:
        self.by_category: dict[str, list[Finding]] = {}
        for finding in sorted(findings, key=lambda f: f.start):
            if finding.source.startswith("rule:"):
                self.by_category.setdefault(finding.category.value, []).append(finding)
        self.starts = {c: [f.start for f in found] for c, found in self.by_category.items()}
        self.withdrawn: set[int] = set()

    def inside(self, category: str, start: int, end: int) -> list[Finding]:
        found = self.by_category.get(category, [])
        first = bisect.bisect_left(self.starts.get(category, []), start)
        return (
            [f for f in found[first : bisect.bisect_left(self.starts[category], end, first)] if f.end <= end]
            if found
            else []
        )


def combine(
    models: TrainedModels, rules: RuleBook, batch: Sequence[tuple[Record, Doc, list[Finding]]]
) -> list[list[Finding]]:
    """The batch's findings after combining each rule-judged category with the model."""
    indexes = [_RuleFindings(findings) for _record, _doc, findings in batch]
    added: list[list[Finding]] = [[] for _ in batch]
    action_spans: list[_Span] = []
    decision_spans: list[_Span] = []
    for number, (record, doc, _findings) in enumerate(batch):
        action_spans.extend(_Span(number, start, end, task) for start, end, task in model_actions(doc))
        decision_spans.extend(_Span(number, start, end) for start, end in model_paragraphs(record, doc))
    hidden: list[frozenset[int]] | None = None
    for spans, targets, name in (
        (action_spans, ACTION_TARGETS, "actions"),
        (decision_spans, DECISION_TARGETS, "decisions"),
    ):
        if not spans:
            continue
        words = _words(batch, spans)
        if hidden is None:
            # Personal data is never named in an explanation, even with --show-personal-data: the
            # finding's own text shows the words; the explanation needs none of them.
            hidden = [keys_touching(doc, [(p.start, p.end) for p in facts(doc).personal_data]) for _r, doc, _f in batch]
        probability, explain = _scored(models, name, words)
        source = f"model:{name}@{models.version}"
        for column, category in enumerate(targets):
            combination = models.combinations[category]
            every_line = category in EVERY_ACTION_LINE
            for row, (span, p) in enumerate(zip(spans, probability[:, column].tolist(), strict=True)):
                if not (span.task or every_line):
                    continue
                index = indexes[span.record]
                # Where no rule of the category fired in the record, only a confident model speaks.
                inside = index.inside(category, span.start, span.end) if category in index.by_category else []
                if not combination.decide(bool(inside), p):
                    index.withdrawn.update(id(f) for f in inside)
                elif not inside:
                    finding = _model_finding(
                        rules,
                        batch[span.record][0],
                        span,
                        category,
                        p,
                        source,
                        text_of(batch[span.record][1])[span.start : span.end],
                        partial(explain, column, row, hidden[span.record]),
                    )
                    if finding is not None:
                        added[span.record].append(finding)
    return [
        sorted([f for f in findings if id(f) not in index.withdrawn] + extra, key=lambda f: (f.start, f.end, f.rule_id))
        for (_record, _doc, findings), index, extra in zip(batch, indexes, added, strict=True)
    ]


Explain = Callable[[int, int, frozenset[int]], list[str]]


def _scored(models: TrainedModels, name: str, words: list[Words]) -> tuple[np.ndarray, Explain]:
    """The probability of each of the kind's categories for each span's words (rows), and how
    to name the words that pushed a (column, row) towards its category."""
    if name == "actions":
        scorer = Scorer.of(models.actions)
        matrix = scorer.features(words)

        def explain_action(column: int, row: int, hidden: frozenset[int]) -> list[str]:
            return scorer.explain(words[row], column, matrix=matrix, row=row, hidden=hidden)

        return scorer.probabilities(matrix), explain_action
    # The decision categories come from two models' factors (`classifier.DECISION_FACTORS`),
    # which hash alike (`classifier.load` checks), so each span is hashed once.
    decision, rationale = Scorer.of(models.decisions), Scorer.of(models.rationale)
    counts = decision.counts(words)
    decided = decision.weigh(counts)
    reasons = rationale.weigh(counts, copy=False)
    probability = decision_categories(decision.probabilities(decided), rationale.probabilities(reasons))

    def explain_decision(column: int, row: int, hidden: frozenset[int]) -> list[str]:
        # Up to three words that made it an extension (or a decision), alternating with words
        # that told against a recorded reason.
        factor = 1 if column == 0 else 0
        kind = decision.explain(words[row], factor, top=3, matrix=decided, row=row, hidden=hidden)
        unreasoned = rationale.explain(words[row], 0, matrix=reasons, row=row, hidden=hidden, against=True)
        shown: list[str] = []
        for pair in zip_longest(kind, unreasoned):
            shown.extend(w for w in pair if w is not None and w not in shown)
        return shown[:5]

    return probability, explain_decision


def model_actions(doc: Doc) -> list[tuple[int, int, bool]]:
    """The spans the action model reads, each with whether it is a task: every action line of a
    plan (an action, or a line of an actions section) that is not history. Tasks, actions someone
    can be held to now, are judged in every category; the other lines (contingencies,
    prohibitions) only in `EVERY_ACTION_LINE`."""
    units = facts(doc).units
    if units is None:
        return []
    tasks = {id(unit) for unit in tasks_of(doc)}
    return [
        (unit.start, unit.end, id(unit) in tasks)
        for unit in units
        if id(unit) in tasks
        or (
            (unit.is_action or unit.section is SectionKind.actions)
            and (unit.context is None or unit.context.historical is None)
        )
    ]


def model_paragraphs(record: Record, doc: Doc) -> list[tuple[int, int]]:
    """The paragraphs of a decision, supervision, review or case note record the decision model
    reads. It learnt from decision, supervision and review entries, so it reads every paragraph
    of those (it finds decisions the rules' grammar misses: "Adjourn - reconvene 2 weeks", "RHA
    deadline extnded"); case notes are mostly narrative it never saw, so there it reads only
    paragraphs with decision language."""
    if record.record_type not in _DECISION_RECORDS:
        return []
    if record.record_type is RecordType.case_note:
        return decision_paragraphs(doc)
    return paragraphs(text_of(doc))


def decision_paragraphs(doc: Doc) -> list[tuple[int, int]]:
    """The paragraphs of a record with decision language in them, as the decision component
    found them (or, if it did not run, found here)."""
    found = facts(doc).decision_language
    if found is not None:
        return list(found)
    folded = folded_text_of(doc)
    return [(s, e) for s, e in paragraphs(text_of(doc)) if has_decision_language(folded, s, e)]


def _words(batch: Sequence[tuple[Record, Doc, list[Finding]]], spans: list[_Span]) -> list[Words]:
    """Each span's tokens, taken from its record's Doc (each Doc read once)."""
    out: list[Words] = []
    first = 0
    while first < len(spans):
        last = first
        while last < len(spans) and spans[last].record == spans[first].record:
            last += 1
        doc = batch[spans[first].record][1]
        out.extend(Words.from_doc(doc, [(s.start, s.end) for s in spans[first:last]]))
        first = last
    return out


def _model_finding(
    rules: RuleBook,
    record: Record,
    span: _Span,
    category: str,
    p: float,
    source: str,
    text: str,
    pushed_words: Callable[[], list[str]],
) -> Finding | None:
    candidates = (rules.by_id.get(rule_id) for rule_id in PRIMARY_RULES[category])
    rule = next((r for r in candidates if r is not None and r.applies(record.record_type, record.plan_type)), None)
    if rule is None:
        return None
    pushed = pushed_words()
    said = ", ".join(f"'{w}'" for w in pushed) or "its overall wording"
    return Finding(
        rule_id=rule.id,
        category=Category(category),
        severity=rule.severity,
        start=span.start,
        end=span.end,
        text=text,
        message=f"{rule.message} (Found by {source}, probability {p:.2f}; the words that pushed it: {said}.)",
        suggestion=rule.suggestion,
        citation=str(rule.citation),
        source=source,
        confidence=round(p, 3),
        explanation=f"probability {p:.3f}; words: {said}",
    )
