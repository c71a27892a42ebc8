"""The spaCy pipeline: one Doc per record, and every matcher a registered component over it.

The default pipeline is `spacy.blank("en")` plus our components; it needs no downloaded model.
If a pretrained English pipeline is installed and named (AUDITOR_SPACY_MODEL or `model=`), it runs
first and its PERSON entities add to the personal-data finder; nothing else depends on it.

Components write to Doc extensions (`doc._.units`, `doc._.timescales`, ...); the record's own
metadata (`doc._.record`) is set on the Doc before the components run (see `make_doc`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from auditor import actions, context, decisions, owners, personal_data, segment, timescales, vagueness

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

_EXTENSIONS: dict[str, Any] = {
    "record": None,
    "text": None,  # the record's text; spaCy rebuilds doc.text from tokens on every access
    "sections": None,
    "units": None,
    "timescales": None,
    "decisions": None,
    "escalations": None,
    "personal_data": None,
}
for _name, _default in _EXTENSIONS.items():
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def text_of(doc: Doc) -> str:
    """The Doc's text, computed once (spaCy's doc.text joins every token on each access)."""
    text: str | None = doc._.text
    if text is None:
        text = doc._.text = doc.text
    return text


def _recorded_at(doc: Doc) -> Any:
    record = doc._.record
    return getattr(record, "recorded_at", None)


@Language.component("auditor_segmenter")
def segmenter(doc: Doc) -> Doc:
    """Sections, and units (list items, lines, table rows, prose sentences) with their offsets."""
    result = segment.segment(text_of(doc))
    doc._.sections = result.sections
    doc._.units = result.units
    return doc


@Language.component("auditor_context")
def context_marker(doc: Doc) -> Doc:
    """Conditional, prohibited, negated, hypothetical and historical marks on every unit."""
    text = text_of(doc)
    for unit in doc._.units:
        unit.context = context.mark(text, unit.start, unit.end)
    return doc


@Language.component("auditor_timescales")
def timescale_finder(doc: Doc) -> Doc:
    """Every timescale in the record, assigned to the units that contain it."""
    found = timescales.find_timescales(text_of(doc), _recorded_at(doc))
    doc._.timescales = found
    units = doc._.units
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
    for section in doc._.sections:
        heading = [t for t in found if section.heading_start <= t.start and t.end <= section.heading_end]
        if heading:
            for unit in units:
                if section.start <= unit.start < section.end:
                    unit.inherited_timescales = heading
    return doc


@Language.component("auditor_owners")
def owner_finder(doc: Doc) -> Doc:
    """Which units are actions, and for each action who owns it or why nobody does."""
    text = text_of(doc)
    for unit in doc._.units:
        unit.is_action = actions.is_action(unit)
        if unit.is_action:
            unit.owner = owners.find_owner(text, unit)
    actions.attach_follow_up_timescales(doc._.units)
    return doc


@Language.component("auditor_vagueness")
def vagueness_finder(doc: Doc) -> Doc:
    """The vague phrase in each action, if any, and whether the action names something observable."""
    text = text_of(doc)
    for unit in doc._.units:
        if unit.is_action:
            cell = unit.cell("action")
            start, end = (cell.start, cell.end) if cell else (unit.start, unit.end)
            unit.vagueness = vagueness.find_vagueness(text, start, end)
    return doc


@Language.component("auditor_decisions")
def decision_finder(doc: Doc) -> Doc:
    """Decisions with their rationale, and escalations with their outcome."""
    doc._.decisions, doc._.escalations = decisions.find_decisions(text_of(doc))
    return doc


@Language.component("auditor_personal_data")
def personal_data_finder(doc: Doc) -> Doc:
    """Names, addresses, postcodes, phones, emails, dates of birth, NHS and NI numbers."""
    found = personal_data.find_personal_data(text_of(doc))
    if doc.has_annotation("ENT_IOB"):
        taken = [(p.start, p.end) for p in found]
        for ent in doc.ents:
            if ent.label_ == "PERSON" and not any(s < ent.end_char and ent.start_char < e for s, e in taken):
                found.append(personal_data.PersonalData(personal_data.PersonalDataKind.name, ent.start_char, ent.end_char))
        found.sort(key=lambda p: p.start)
    doc._.personal_data = found
    return doc


def build(model: str | None = None) -> Language:
    """The audit pipeline: blank English, or the named pretrained pipeline, plus our components."""
    name = model if model is not None else os.environ.get("AUDITOR_SPACY_MODEL") or None
    if name:
        try:
            nlp = spacy.load(name, exclude=["lemmatizer", "textcat", "textcat_multilabel"])
        except OSError:
            raise ValueError(f"spaCy pipeline {name!r} is not installed; unset AUDITOR_SPACY_MODEL to use the default") from None
    else:
        nlp = spacy.blank("en")
    for component in COMPONENTS:
        nlp.add_pipe(component)
    # Plans can be long single lines; the blank tokenizer handles any length.
    nlp.max_length = 10_000_000
    return nlp


def make_doc(nlp: Language, record: Record) -> Doc:
    """Tokenize a record, attach its metadata, and run every component: one Doc per record."""
    doc = nlp.make_doc(record.text)
    doc._.record = record
    doc._.text = record.text
    for _name, component in nlp.pipeline:
        doc = component(doc)
    return doc
