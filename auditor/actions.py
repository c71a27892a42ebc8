"""Which units of a record are actions: tasks someone can be held to.

A list item or table row in a plan's actions is an action even as a bare noun phrase
("Parenting assessment."), since that is how practitioners write tasks. Elsewhere a unit must read
like a task: an owner with a modal ("Mum to", "SW will", "I will"), a future passive ("to be
completed") or a bare imperative ("Attend all appointments"). Statements of fact ("Mum has been
struggling") and units under headings such as "What we are worried about" are not actions.
"""

from __future__ import annotations

import re

from auditor.segment import Layout, SectionKind, Unit
from auditor.vocabulary import ACTION_VERBS, MODAL, OWNER_OR_PRONOUN, STATEMENT

_I = re.IGNORECASE
_NOT_ACTION_SECTIONS = frozenset(
    {SectionKind.worries, SectionKind.strengths, SectionKind.voice, SectionKind.background, SectionKind.change, SectionKind.decision}
)
_TASK_CUE = re.compile(
    rf"(?:^|[\s(,;:])(?:{OWNER_OR_PRONOUN})\s+(?:(?:also|will|both|all|each|then|now|not)\s+)?{MODAL}\s+\w"
    r"|\b(?:to\s+be|will\s+be|is\s+to\s+be|are\s+to\s+be|needs?\s+to\s+be|should\s+be|must\s+be)\s+(?:\w+ly\s+)?\w+(?:ed|en|de|ne|wn|pt|nt|ld|un|ught)\b"
    r"|\b(?:will|shall|must|should|needs?\s+to|to\s+continue)\b",
    _I,
)
_FIRST_WORD = re.compile(r"^[^A-Za-z]*(?P<word>[A-Za-z][A-Za-z-]*)")


def starts_with_action_verb(text: str) -> bool:
    match = _FIRST_WORD.match(text)
    return match is not None and match["word"].lower() in ACTION_VERBS


def is_action(unit: Unit) -> bool:
    """Whether the unit is a task (see the module docstring)."""
    if unit.section in _NOT_ACTION_SECTIONS or unit.section is SectionKind.contingency:
        return False
    if unit.layout is Layout.table:
        return True
    body = unit.text
    if unit.cells:
        return True
    cue = _TASK_CUE.search(body) is not None or starts_with_action_verb(body)
    if cue:
        return True
    if unit.layout is Layout.prose:
        return False
    if STATEMENT.search(body):
        return False
    # A bare list item or line is a task where the plan lists tasks, or in a list with no heading.
    if unit.section is SectionKind.actions:
        return True
    return unit.layout is Layout.list and unit.section is None
