"""Which units of a record are actions: tasks someone can be held to.

A list item or table row in a plan's actions is an action even as a bare noun phrase
("Parenting assessment."), since that is how practitioners write tasks. Elsewhere a unit must read
like a task: an owner with a modal ("Mum to", "SW will", "I will"), a future passive ("to be
completed") or a bare imperative ("Attend all appointments"). Statements of fact ("Mum has been
struggling") and units under headings such as "What we are worried about" are not actions.
"""

from __future__ import annotations

import itertools
import re

from auditor.casefold import ci
from auditor.segment import Layout, SectionKind, Unit
from auditor.vocabulary import MODAL, OWNER_ADVERBS, OWNER_OR_PRONOUN, STATEMENT, imperative_verb

_I = re.IGNORECASE
_LIST_SECTIONS = frozenset({None, SectionKind.other})
_NOT_ACTION_SECTIONS = frozenset(
    {
        SectionKind.worries,
        SectionKind.strengths,
        SectionKind.voice,
        SectionKind.background,
        SectionKind.change,
        SectionKind.decision,
    }
)
# Cheap cues first: a modal or a future passive makes a task whoever is named.
_MODAL_CUE = ci(
    r"\b(?:to\s+be|will\s+be|is\s+to\s+be|are\s+to\s+be|needs?\s+to\s+be|should\s+be|must\s+be)\s+(?:\w+ly\s+)?\w+(?:ed|en|de|ne|wn|pt|nt|ld|un|ught)\b"
    r"|\b(?:will|shall|must|should|to\s+continue)\b",
    _I,
)
# Then the costly one, an owner followed by "to", "is to", "has agreed to"...: "Mum to attend".
_OWNER_TASK = ci(
    rf"(?:^|[\s(,;:])(?:{OWNER_OR_PRONOUN})\s+{OWNER_ADVERBS}{MODAL}\s+\w",
    _I,
)


def starts_with_action_verb(text: str) -> bool:
    return imperative_verb(text) is not None


_INFINITIVE_END = ci(r"\s+to\s+\w$")


# "we need to plan" reads as a task unless a statement came first ("...is not an option, so we need to").
_OWNER_OR_NEED = ci(rf"{_OWNER_TASK.pattern}|\bneeds?\s+to\s+\w")
# Every cue _OWNER_OR_NEED can find that _MODAL_CUE has not: "to", "can" or "need" between
# spaces or line breaks, or "responsible". A cheap test that skips the costly pattern.
_TASK_WORD = ci(r"\s(?:to|can)\s|need|responsible")


def _has_task_cue(body: str) -> bool:
    if _MODAL_CUE.search(body):
        return True
    if _TASK_WORD.search(body) is None:
        return False
    for match in _OWNER_OR_NEED.finditer(body):
        # "Mum says she wants the children to feel safe": an infinitive after a reporting verb.
        if _INFINITIVE_END.search(match.group()) and STATEMENT.search(body, 0, match.start()):
            continue
        return True
    return False


def is_action(unit: Unit, folded: str) -> bool:
    """Whether the unit is a task (see the module docstring); `folded` is the record's folded text."""
    if unit.section in _NOT_ACTION_SECTIONS or unit.section is SectionKind.contingency:
        return False
    if unit.layout is Layout.table:
        return True
    body = folded[unit.start : unit.end]
    if unit.cells:
        return True
    if starts_with_action_verb(body) or _has_task_cue(body):
        return True
    if unit.layout is Layout.prose:
        return False
    if STATEMENT.search(body):
        return False
    # A bare list item or line is a task where the plan lists tasks, or in a list with no heading.
    if unit.section is SectionKind.actions:
        return True
    return unit.layout is Layout.list and unit.section in _LIST_SECTIONS


# "Mum to attend the course. This will be weekly." The second sentence times the first.
_BACK_REFERENCE = ci(
    r"^\W*(?:this|these|that|it|they|both|timescales?|when|by\s+when|frequency|to\s+be\s+(?:done|completed|reviewed))\b",
    _I,
)


def attach_follow_up_timescales(units: list[Unit], folded: str) -> None:
    """Give an action the timescales of a following non-action sentence that refers back to it."""
    for previous, unit in itertools.pairwise(units):
        if (
            previous.is_action
            and not unit.is_action
            and unit.timescales
            and unit.section == previous.section
            and _BACK_REFERENCE.match(folded, unit.start, unit.end)
        ):
            previous.inherited_timescales = previous.inherited_timescales + unit.timescales
