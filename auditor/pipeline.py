"""The spaCy pipeline: one Doc per record, and every matcher a registered component over it.

The default pipeline is `spacy.blank("en")` plus our components; it needs no downloaded model.
If a pretrained English pipeline is installed and named (AUDITOR_SPACY_MODEL or `model=`), it runs
first and its PERSON entities add to the personal-data finder; nothing else depends on it.

Components write to Doc extensions (`doc._.units`, `doc._.timescales`, ...); the record's own
metadata (`doc._.record`) is set on the Doc before the components run (see `make_doc`).
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from auditor import actions, casefold, context, decisions, owners, personal_data, segment, timescales, vagueness

if TYPE_CHECKING:
    from auditor.records import Record

COMPONENTS = (
    "auditor_segmenter",
    "auditor_context",
    "auditor_timescales",
    "auditor_owners",
    "auditor_vagueness",
    "auditor_decisions",
    "auditor_personal_data",
)


@dataclass
class Facts:
    """What the components found in one record's Doc. Kept in `doc.user_data` and read through
    `facts(doc)`: spaCy's `doc._` builds an accessor object on every use, which cost the engine
    about 6% of its time (measured). Every field is also a Doc extension (`doc._.units`...)."""

    record: Any = None
    text: str | None = None  # the record's text; spaCy rebuilds doc.text from tokens on every access
    folded: str | None = None  # the text lower-cased with offsets kept (auditor.casefold)
    words: Any = None  # where each word of the folded text starts (auditor.casefold.WordIndex)
    sections: Any = None
    units: Any = None
    timescales: Any = None
    decisions: Any = None
    escalations: Any = None
    decision_language: Any = None  # paragraphs with decision language, for the classifier
    tasks: Any = None  # the actions someone can be held to (`tasks_of`), found on first use
    personal_data: Any = None


_FACTS = "auditor"


def facts(doc: Doc) -> Facts:
    """The record's facts on this Doc (created empty on first use)."""
    found: Facts | None = doc.user_data.get(_FACTS)
    if found is None:
        found = doc.user_data[_FACTS] = Facts()
    return found


def _getter(name: str) -> Callable[[Doc], Any]:
    def get(doc: Doc) -> Any:
        return getattr(facts(doc), name)

    return get


for _name in Facts.__dataclass_fields__:
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, getter=_getter(_name))


def text_of(doc: Doc) -> str:
    """The Doc's text, computed once (spaCy's doc.text joins every token on each access)."""
    found = facts(doc)
    text = found.text
    if text is None:
        text = found.text = doc.text
    return text


def folded_text_of(doc: Doc) -> str:
    """The Doc's text case-folded once, offsets unchanged, for the case-insensitive patterns."""
    found = facts(doc)
    folded = found.folded
    if folded is None:
        folded = found.folded = casefold.fold(text_of(doc))
    return folded


def tasks_of(doc: Doc) -> list[Any]:
    """The units that are actions someone can be held to now: not contingencies, prohibitions or
    history. Read by most checks and by the classifier, so found once per Doc (callers must not
    change the list)."""
    found = facts(doc)
    if found.tasks is None:
        found.tasks = [
            unit for unit in found.units if unit.is_action and unit.context is not None and unit.context.is_task
        ]
    return found.tasks  # type: ignore[no-any-return]


def word_index_of(doc: Doc) -> casefold.WordIndex:
    """The folded text's word index, built once and shared by every anchored pattern."""
    found = facts(doc)
    index: casefold.WordIndex | None = found.words
    if index is None:
        index = found.words = casefold.WordIndex.from_text(folded_text_of(doc))
    return index


def _recorded_at(doc: Doc) -> Any:
    record = facts(doc).record
    return getattr(record, "recorded_at", None)


@Language.component("auditor_segmenter", requires=[], assigns=["doc._.sections", "doc._.units"])
def segmenter(doc: Doc) -> Doc:
    """Sections, and units (list items, lines, table rows, prose sentences) with their offsets."""
    result = segment.segment(text_of(doc))
    found = facts(doc)
    found.sections = result.sections
    found.units = result.units
    return doc


@Language.component("auditor_context", requires=["doc._.units"], assigns=["doc._.context"])
def context_marker(doc: Doc) -> Doc:
    """Conditional, prohibited, negated, hypothetical and historical marks on every unit."""
    units = facts(doc).units
    spans = [(u.start, u.end) for u in units]
    for unit, marks in zip(units, context.mark_all(folded_text_of(doc), spans, word_index_of(doc)), strict=True):
        unit.context = marks
    return doc


@Language.component("auditor_timescales", requires=["doc._.units", "doc._.sections"], assigns=["doc._.timescales"])
def timescale_finder(doc: Doc) -> Doc:
    """Every timescale in the record, assigned to the units that contain it."""
    found = timescales.find_timescales(text_of(doc), _recorded_at(doc), folded_text_of(doc), word_index_of(doc))
    facts(doc).timescales = found
    units = facts(doc).units
    position = 0
    for unit in units:
        unit.timescales = []
        while position < len(found) and found[position].end <= unit.start:
            position += 1
        cursor = position
        while cursor < len(found) and found[cursor].start < unit.end:
            if found[cursor].end <= unit.end:
                unit.timescales.append(found[cursor])
            cursor += 1
    # A heading that carries a timescale ("By the next core group:") gives it to its section.
    starts = [t.start for t in found]
    unit_starts = [u.start for u in units]
    for section in facts(doc).sections:
        first = bisect.bisect_left(starts, section.heading_start)
        heading = [
            t for t in found[first : bisect.bisect_left(starts, section.heading_end)] if t.end <= section.heading_end
        ]
        if heading:
            for unit in units[
                bisect.bisect_left(unit_starts, section.start) : bisect.bisect_left(unit_starts, section.end)
            ]:
                unit.inherited_timescales = heading
    return doc


@Language.component(
    "auditor_owners", requires=["doc._.units", "doc._.context", "doc._.timescales"], assigns=["doc._.owners"]
)
def owner_finder(doc: Doc) -> Doc:
    """Which units are actions, and for each action who owns it or why nobody does."""
    folded = folded_text_of(doc)
    for unit in facts(doc).units:
        unit.is_action = actions.is_action(unit, folded)
        if unit.is_action:
            unit.owner = owners.find_owner(folded, unit)
    actions.attach_follow_up_timescales(facts(doc).units, folded)
    return doc


@Language.component("auditor_vagueness", requires=["doc._.owners"], assigns=["doc._.vagueness"])
def vagueness_finder(doc: Doc) -> Doc:
    """The vague phrase in each action, if any, and whether the action names something observable."""
    folded = folded_text_of(doc)
    for unit in facts(doc).units:
        if unit.is_action:
            cell = unit.cell("action")
            start, end = (cell.start, cell.end) if cell else (unit.start, unit.end)
            unit.vagueness = vagueness.find_vagueness(folded, start, end)
    return doc


@Language.component("auditor_decisions", requires=[], assigns=["doc._.decisions", "doc._.escalations"])
def decision_finder(doc: Doc) -> Doc:
    """Decisions with their rationale, and escalations with their outcome."""
    found = facts(doc)
    found.decision_language = []
    found.decisions, found.escalations = decisions.find_decisions(
        text_of(doc), folded_text_of(doc), found.decision_language
    )
    return doc


@Language.component("auditor_personal_data", requires=[], assigns=["doc._.personal_data"])
def personal_data_finder(doc: Doc) -> Doc:
    """Names, addresses, postcodes, phones, emails, dates of birth, NHS and NI numbers."""
    found = personal_data.find_personal_data(text_of(doc), folded_text_of(doc))
    if doc.has_annotation("ENT_IOB"):
        taken = [(p.start, p.end) for p in found]
        for ent in doc.ents:
            if ent.label_ == "PERSON" and not any(s < ent.end_char and ent.start_char < e for s, e in taken):
                found.append(
                    personal_data.PersonalData(personal_data.PersonalDataKind.name, ent.start_char, ent.end_char)
                )
        found.sort(key=lambda p: p.start)
    facts(doc).personal_data = found
    return doc


def components_for(nlp: Language, needs: Iterable[str]) -> list[str]:
    """The pipeline's components that assign what `needs` names, and what those require, in order."""
    wanted = set(needs)
    chosen: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in nlp.pipe_names:
            meta = nlp.get_pipe_meta(name)
            if name not in chosen and wanted & set(meta.assigns):
                chosen.add(name)
                wanted |= set(meta.requires)
                changed = True
    return [name for name in nlp.pipe_names if name in chosen or not name.startswith("auditor_")]


def build(model: str | None = None) -> Language:
    """The audit pipeline: blank English, or the named pretrained pipeline, plus our components."""
    name = model if model is not None else os.environ.get("AUDITOR_SPACY_MODEL") or None
    if name:
        try:
            nlp = spacy.load(name, exclude=["lemmatizer", "textcat", "textcat_multilabel"])
        except OSError:
            raise ValueError(
                f"spaCy pipeline {name!r} is not installed; unset AUDITOR_SPACY_MODEL to use the default"
            ) from None
    else:
        nlp = spacy.blank("en")
    _drop_whitespace_special_cases(nlp)
    for component in COMPONENTS:
        nlp.add_pipe(component)
    # Plans can be long single lines; the blank tokenizer handles any length.
    nlp.max_length = 10_000_000
    return nlp


WHITESPACE_SPECIAL_CASES = ("\n", "\t", " ")


def _drop_whitespace_special_cases(nlp: Language) -> None:
    """English declares a lone newline, tab and space as tokenizer special cases. spaCy's
    tokenizer caches no more of a text once a special case has matched in it, so nearly every
    record (a newline ends its first line) was tokenized word by word from scratch, every time.
    Without those three cases the tokens are the same (a whitespace run is one token either way;
    tests/test_scoring_and_pipeline.py checks every sample and corpus text) and tokenizing the
    sample records again is about 2.5 times faster. Contractions ("don't") still stop the cache."""
    tokenizer = nlp.tokenizer
    if isinstance(tokenizer, Tokenizer) and any(case in tokenizer.rules for case in WHITESPACE_SPECIAL_CASES):
        tokenizer.rules = {
            case: tokens for case, tokens in tokenizer.rules.items() if case not in WHITESPACE_SPECIAL_CASES
        }


def make_doc(nlp: Language, record: Record, components: Iterable[str] | None = None) -> Doc:
    """Tokenize a record, attach its metadata, and run the components (all, or those named):
    one Doc per record. `components_for` names only what the applicable rules read."""
    doc = nlp.make_doc(record.text)
    doc.user_data[_FACTS] = Facts(record=record, text=record.text)
    names = set(components) if components is not None else None
    for name, component in nlp.pipeline:
        if names is None or name in names:
            doc = component(doc)
    return doc
