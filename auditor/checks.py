"""The logic of each rule, registered under the rule's id (the rule's words live in rules/ID.yaml).

A check reads the one Doc the pipeline built for the record (its units, timescales, owners,
vagueness, context marks, decisions and personal data) and yields hits: where the weakness is,
why it fired, and any values its rule's suggestion names ("{acronym}"). Checks never re-tokenise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spacy.tokens import Doc

from auditor.casefold import Anchored, ci
from auditor.decisions import DecisionKind
from auditor.owners import OwnerReason
from auditor.personal_data import PersonalDataKind
from auditor.pipeline import facts, folded_text_of, tasks_of, text_of, word_index_of
from auditor.segment import SectionKind, Unit
from auditor.timescales import TimescaleKind
from auditor.vagueness import is_measurable
from auditor.vocabulary import CHILD_MENTION

if TYPE_CHECKING:
    from auditor.rulebook import Rule


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    explanation: str
    values: dict[str, str] = field(default_factory=dict)


Check = Callable[[Doc, "Rule"], Iterator[Hit]]
CHECKS: dict[str, Check] = {}
# What each check reads from the Doc, so the pipeline runs only the components a record needs
# (as spaCy components declare "assigns"; see pipeline.components_for).
READS: dict[str, tuple[str, ...]] = {}

_ACTIONS = ("doc._.units", "doc._.context", "doc._.timescales", "doc._.owners")


def check(rule_id: str, reads: tuple[str, ...]) -> Callable[[Check], Check]:
    """Register a check under its rule's id, with the Doc attributes it reads."""

    def register(function: Check) -> Check:
        if rule_id in CHECKS:
            raise ValueError(f"two checks registered for {rule_id}")
        CHECKS[rule_id] = function
        READS[rule_id] = reads
        return function

    return register


_I = re.IGNORECASE


def _action_span(unit: Unit) -> tuple[int, int]:
    cell = unit.cell("action")
    return (cell.start, cell.end) if cell is not None else (unit.start, unit.end)


# ---------------------------------------------------------------------------------------------
# Timescales


@check("TS001", reads=_ACTIONS)
def action_without_timescale(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for unit in tasks_of(doc):
        if not unit.timescales and not unit.inherited_timescales:
            start, end = _action_span(unit)
            yield Hit(start, end, "no date, deadline, duration or frequency in this action")


@check("TS002", reads=_ACTIONS)
def indefinite_timescale_only(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for unit in tasks_of(doc):
        timescales = unit.timescales + unit.inherited_timescales
        if timescales and all(t.kind is TimescaleKind.indefinite for t in timescales):
            first = timescales[0]
            yield Hit(first.start, first.end, "the only timescale is indefinite", {"timescale": first.text})


# ---------------------------------------------------------------------------------------------
# Owners


def _ownerless(doc: Doc, reasons: tuple[OwnerReason, ...]) -> Iterator[tuple[Unit, int, int]]:
    for unit in tasks_of(doc):
        owner = unit.owner
        if owner is not None and owner.reason in reasons:
            yield unit, owner.start, owner.end


@check("OW001", reads=_ACTIONS)
def passive_without_agent(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for _unit, start, end in _ownerless(doc, (OwnerReason.passive,)):
        yield Hit(start, end, "passive voice with no 'by whom'")


@check("OW002", reads=_ACTIONS)
def imperative_without_owner(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for _unit, start, end in _ownerless(doc, (OwnerReason.imperative,)):
        yield Hit(start, end, "an instruction with no subject: nobody is named to carry it out")


@check("OW003", reads=_ACTIONS)
def action_names_nobody(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for unit, _start, _end in _ownerless(doc, (OwnerReason.noun_phrase, OwnerReason.unnamed)):
        start, end = _action_span(unit)
        reason = (
            "a noun phrase, not a task anyone owns"
            if unit.owner and unit.owner.reason is OwnerReason.noun_phrase
            else "no person, role or agency is named"
        )
        yield Hit(start, end, reason)


# ---------------------------------------------------------------------------------------------
# Vague actions


@check("VA001", reads=(*_ACTIONS, "doc._.vagueness"))
def vague_action(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for unit in tasks_of(doc):
        if unit.vagueness is not None and unit.vagueness.is_vague:
            yield Hit(unit.vagueness.start, unit.vagueness.end, "no observable behaviour and no measurable outcome")


@check("VA002", reads=(*_ACTIONS, "doc._.vagueness"))
def pep_target_not_specific(doc: Doc, rule: Rule) -> Iterator[Hit]:
    text = folded_text_of(doc)
    for unit in facts(doc).units:
        if not unit.is_action:
            continue
        start, end = _action_span(unit)
        if is_measurable(text, start, end):
            continue
        owner = unit.owner
        vague = unit.vagueness
        if owner is not None and owner.found and not CHILD_MENTION.match(text[owner.start : owner.end].strip()):
            # A task for the adults around the pupil: only its vagueness matters, not a measure.
            if vague is not None and vague.is_vague:
                yield Hit(vague.start, vague.end, "the support for the pupil names nothing observable or measurable")
            continue
        if vague is not None:
            yield Hit(
                vague.start, vague.end, "the target names no measure of progress (a number, level, frequency or count)"
            )
        elif not _OBSERVABLE_TARGET.search(text, start, end):
            yield Hit(start, end, "the target names no measure of progress (a number, level, frequency or count)")


_OBSERVABLE_TARGET = ci(
    r"\b(?:attend|complete|read|write|spell|use|bring|hand\s+in|practise|practice|join)\w*\b.*\b(?:each|every|daily|weekly|times?|minutes?|sessions?)\b",
    _I,
)


# ---------------------------------------------------------------------------------------------
# What must change


_CHANGE = Anchored(
    r"\b(?:what\s+(?:needs|has)\s+to\s+change|needs?\s+to\s+change|we\s+(?:will|would)\s+know|(?:will|would)\s+know\s+(?:that|things|this|it|when)|"
    r"how\s+(?:we|you|i|everyone)\s+will\s+know|so\s+that|in\s+order\s+(?:that|for)|this\s+will\s+(?:mean|show|help|ensure|make)|outcomes?\s*(?:we\s+want|:|for)|"
    r"we\s+want\s+(?:to\s+see|child|[A-Z])|success\s+(?:will|would|looks)|evidenced\s+by|measured\s+by|bottom\s+lines?|goals?\s*:|"
    r"what\s+(?:good|success)\s+(?:looks|will\s+look)|things\s+will\s+be\s+better\s+when|will\s+be\s+different|my\s+goals?|i\s+want\s+to\s+(?:be|have|get|live|move|go))",
    "what needs need we will would how so in this outcome outcomes success evidenced measured bottom goal goals things my i",
)


@check("CH001", reads=("doc._.sections",))
def plan_without_change(doc: Doc, rule: Rule) -> Iterator[Hit]:
    if any(section.kind is SectionKind.change for section in facts(doc).sections):
        return
    if _CHANGE.search(folded_text_of(doc), word_index_of(doc)):
        return
    yield Hit(0, 0, "no statement of what must change for the child or how anyone will know it has")


# ---------------------------------------------------------------------------------------------
# Contingency plans


_TRIGGER = ci(
    r"\b(?:not|fails?|failure|doesn't|don't|isn't|aren't|continues?\s+to|further|again|any\s+more|breach\w*|refus\w+|declin\w+|unable|deteriorat\w+|escalat\w+|increas\w+|"
    r"worsen\w*|relapse\w*|no\s+progress|insufficient|lapse|resum\w+)\b",
    _I,
)
_CONSEQUENCE = ci(
    r"\b(?:plo|public\s+law\s+outline|pre-?proceedings|(?:care\s+)?proceedings|legal\s+(?:planning|gateway|advice)|lpm|accommodat\w+|remov\w+|"
    r"icpc|child\s+protection\s+conference|strategy\s+(?:meeting|discussion)|s\.?\s?47|escalat\w+|emergency|police\s+protection|interim\s+care|"
    r"disruption\s+meeting|placement\s+(?:stability|review)\s+meeting|mash|referral\s+(?:will\s+be\s+made\s+)?back|step\s+up|social\s+care)\b",
    _I,
)


def _is_definite(unit: Unit) -> bool:
    """A contingency needs a date, deadline, meeting or event by which it is acted on."""
    return any(
        t.kind not in (TimescaleKind.indefinite, TimescaleKind.frequency)
        for t in unit.timescales + unit.inherited_timescales
    )


@check("CT001", reads=_ACTIONS)
def contingency_without_timescale(doc: Doc, rule: Rule) -> Iterator[Hit]:
    text = folded_text_of(doc)
    units: list[Unit] = facts(doc).units
    sections = [s for s in facts(doc).sections if s.kind is SectionKind.contingency]
    in_sections: set[int] = set()
    for section in sections:
        members = [u for u in units if section.start <= u.start < section.end]
        in_sections.update(id(u) for u in members)
        if members and not any(_is_definite(u) for u in members):
            first, last = members[0], members[-1]
            yield Hit(
                first.start, last.end, "a contingency plan with no date, deadline or meeting by which it is acted on"
            )
    for unit in units:
        if id(unit) in in_sections or unit.context is None or unit.context.conditional is None:
            continue
        trigger_start = unit.context.conditional[0]
        if not (_TRIGGER.search(text, trigger_start, unit.end) and _CONSEQUENCE.search(text, unit.start, unit.end)):
            continue
        if not _is_definite(unit):
            yield Hit(unit.start, unit.end, "a trigger ('if ...') with no date or deadline for acting on it")


# ---------------------------------------------------------------------------------------------
# Jargon


@check("JG001", reads=())
def unexplained_acronym(doc: Doc, rule: Rule) -> Iterator[Hit]:
    text = text_of(doc)
    folded = folded_text_of(doc)
    glossary: dict[str, str] = rule.params["glossary"]
    seen: set[str] = set()
    for match in _glossary_pattern(glossary).finditer(text):
        acronym = match["acronym"]
        if acronym in seen:
            continue
        seen.add(acronym)
        expansion = glossary[acronym]
        if expansion.lower() in folded:
            continue
        # "DSL (designated safeguarding lead)": explained where it is used.
        if _EXPLAINED_HERE.match(text, match.end()):
            continue
        yield Hit(
            match.start(),
            match.end(),
            f"{acronym} is not explained anywhere in the plan",
            {"acronym": acronym, "expansion": expansion},
        )


_EXPLAINED_HERE = re.compile(r"\s*\(\s*[a-z]")
_GLOSSARY_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _glossary_pattern(glossary: dict[str, str]) -> re.Pattern[str]:
    """One pass for every acronym: acronyms are case-sensitive ('PA' yes, 'pa' no)."""
    key = tuple(sorted(glossary))
    pattern = _GLOSSARY_PATTERNS.get(key)
    if pattern is None:
        alternatives = "|".join(re.escape(a) for a in sorted(glossary, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w/])(?P<acronym>{alternatives})s?(?![\w/])")
        _GLOSSARY_PATTERNS[key] = pattern
    return pattern


# ---------------------------------------------------------------------------------------------
# The child's voice


_CHILD = r"(?:\[\s*name\s*\]|\b(?:child\s+[A-Z]|young\s+person\s+[A-Z]|baby\s+[A-Z]|x{2,}|the\s+(?:child|children|young\s+person|young\s+people)|he|she|they|yp))"
_VOICE = Anchored(
    rf"{_CHILD}\s+(?:has\s+|have\s+)?(?:also\s+)?(?:said|says|told|tells|shared|explained|expressed|described|stated|wrote|drew|chose|picked|pressed|"
    r"asked|wants?|wanted|would\s+like|wishes|likes?|liked|loves?|enjoys?|doesn't\s+like|does\s+not\s+like|feels|felt|is\s+(?:worried|scared|frightened|happy|sad)|"
    r"was\s+(?:worried|scared|frightened|happy|sad)|worries)\b"
    r"|\b(?:wishes\s+and\s+feelings|voice\s+of\s+the\s+child|(?:child\s+[A-Z]|the\s+child|the\s+young\s+person|his|her|their|my)(?:'s)?\s+(?:own\s+)?(?:views?|words|wishes)|in\s+(?:his|her|their|my)\s+own\s+words)\b"
    r"|\b(?:i\s+(?:want|would\s+like|feel|felt|like|don't|do\s+not|am|will|think|hope|need|wish|said)|i'm|i'd|my\s+(?:goal|plan|view|wish))\b",
    "child young baby [name [ xx xxx xxxx xxxxx the he she they yp wishes voice his her their my in i",
)


_EMPTY_SECTION = ci(
    r"\W*(?:(?:not\s+(?:yet\s+)?(?:completed|recorded|done|obtained|seen|available|gathered|captured)|n/?a|none|tbc|to\s+follow|unable\s+to\s+\w+)\W*)?",
    _I,
)


@check("CV001", reads=("doc._.sections",))
def no_child_voice(doc: Doc, rule: Rule) -> Iterator[Hit]:
    folded = folded_text_of(doc)
    for section in facts(doc).sections:
        # "Pupil voice: not completed." is a heading with no voice under it.
        if section.kind is SectionKind.voice and not _EMPTY_SECTION.fullmatch(folded, section.start, section.end):
            return
    if _VOICE.search(folded, word_index_of(doc)):
        return
    yield Hit(0, 0, "nothing records what the child said, wants or feels")


# ---------------------------------------------------------------------------------------------
# Scores without interpretation


_SCORE = ci(
    r"\b(?:sdq|strengths?\s+(?:and|&)\s+difficulties(?:\s+questionnaire)?|graded\s+care\s+profile|gcp2?|outcome\s+star|core[\s-]?10|rcads|gad[\s-]?7|phq[\s-]?9)\b"
    r"[^.\n]{0,40}?(?<!by\s)(?<!on\s)(?<!from\s)\b(?P<score>\d{1,2})(?:\s*/\s*\d{1,2}|\s+out\s+of\s+\d{1,2})?\b(?![./]\d)"
    r"|\bscored?\s+(?:of\s+)?(?P<score2>\d{1,2})(?:\s*/\s*\d{1,2}|\s+out\s+of\s+\d{1,2})?\s+(?:on|in)\s+(?:the|her|his|their|a)?\s*(?:sdq|strengths?\s+(?:and|&)\s+difficulties|graded\s+care\s+profile|gcp2?|outcome\s+star)\b",
    _I,
)
_INTERPRETATION = ci(
    r"\b(?:indicat\w*|suggest\w*|means?|meaning|show(?:s|ed|ing)?|high|very\s+high|raised|slightly\s+raised|elevated|low|close\s+to\s+average|average|normal|"
    r"borderline|abnormal|clinical\w*|concern\w*|range|band|difficult\w*|emotional|conduct|hyperactiv\w*|peer|prosocial|increas\w*|decreas\w*|"
    r"improv\w*|worse\w*|deteriorat\w*|compared|threshold|reflects?|consistent\s+with|refer\w*|likely|significant|in\s+line\s+with)\b",
    _I,
)


@check("SC001", reads=())
def score_without_interpretation(doc: Doc, rule: Rule) -> Iterator[Hit]:
    text = folded_text_of(doc)
    for match in _SCORE.finditer(text):
        # What the score means may follow in the same sentence or the next one.
        sentence_end = _sentence_end(text, match.end())
        next_end = _sentence_end(text, sentence_end + 1)
        window = text[match.start() : next_end]
        trimmed = window.replace(match.group(), " ", 1)
        if _INTERPRETATION.search(trimmed):
            continue
        yield Hit(match.start(), match.end(), "a questionnaire score with nothing about what it means for the child")


_SENTENCE_STOP = re.compile(r"[.!?\n]")


def _sentence_end(text: str, position: int) -> int:
    match = _SENTENCE_STOP.search(text, position)
    return match.end() if match else len(text)


# ---------------------------------------------------------------------------------------------
# Decisions and escalations


@check("DC001", reads=("doc._.decisions",))
def extension_without_rationale(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for decision in facts(doc).decisions:
        if decision.kind is DecisionKind.extension and decision.rationale is None:
            yield Hit(decision.start, decision.end, "a timescale is extended or postponed and no reason is recorded")


@check("DC002", reads=("doc._.decisions",))
def decision_without_rationale(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for decision in facts(doc).decisions:
        if decision.kind is not DecisionKind.extension and decision.rationale is None:
            kind = decision.kind.value.replace("_", " ")
            yield Hit(decision.start, decision.end, f"a decision ({kind}) with no recorded reason", {"kind": kind})


@check("ES001", reads=("doc._.escalations",))
def escalation_without_outcome(doc: Doc, rule: Rule) -> Iterator[Hit]:
    for escalation in facts(doc).escalations:
        if escalation.outcome is None:
            yield Hit(escalation.start, escalation.end, "an escalation with no recorded outcome or follow-up")


# ---------------------------------------------------------------------------------------------
# Personal data


def _personal_data(kind: PersonalDataKind) -> Check:
    def find(doc: Doc, rule: Rule) -> Iterator[Hit]:
        for item in facts(doc).personal_data:
            if item.kind is kind:
                yield Hit(item.start, item.end, f"looks like a {kind.value.replace('_', ' ')}")

    find.__name__ = f"personal_data_{kind.value}"
    return find


for _rule_id, _kind in (
    ("PD001", PersonalDataKind.nhs_number),
    ("PD002", PersonalDataKind.ni_number),
    ("PD003", PersonalDataKind.postcode),
    ("PD004", PersonalDataKind.phone),
    ("PD005", PersonalDataKind.email),
    ("PD006", PersonalDataKind.date_of_birth),
    ("PD007", PersonalDataKind.address),
    ("PD008", PersonalDataKind.name),
):
    check(_rule_id, reads=("doc._.personal_data",))(_personal_data(_kind))
