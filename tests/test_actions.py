"""Which units are actions, and how that agrees with who owns them.

A practitioner reads "Mum to attend", "Mum and Dad together to attend" and "Dad needs to book"
as tasks wherever they are written, also when an export has hard-wrapped the line between the
owner's "to" and the verb.
"""

from __future__ import annotations

import pytest

from auditor.actions import is_action
from auditor.casefold import fold
from auditor.owners import find_owner
from auditor.segment import Layout, segment


def _only_unit(text: str):  # type: ignore[no-untyped-def]
    units = segment(text).units
    assert len(units) == 1, [u.text for u in units]
    return units[0]


_AGREED = "Mum agreed the plan at the core group on Tuesday and signed it in front of the SW."


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{_AGREED} Mum to\nattend the Freedom Programme from April.", id="to-then-newline"),
        pytest.param(f"{_AGREED} Mum\nto attend the Freedom Programme from April.", id="newline-then-to"),
        pytest.param(f"{_AGREED} Dad\ncan drive Child A on Fridays.", id="newline-then-can"),
    ],
)
def test_hard_wrapped_owner_task_is_an_action(text: str) -> None:
    units = segment(text).units
    assert [u.layout for u in units] == [Layout.prose, Layout.prose]
    assert is_action(units[1], fold(text))


# The words that may stand between an owner and its modal are one list (auditor.vocabulary.OWNER_ADVERBS):
# wherever the owner finder names the owner, the action finder sees a task.
@pytest.mark.parametrize(
    "text",
    [
        "Mum and Dad together to attend the parenting course on Tuesdays.",
        "Mum and Dad jointly to attend the parenting course on Tuesdays.",
        "Mum and Dad both to attend the parenting course on Tuesdays.",
        "Mum also to attend the parenting course on Tuesdays.",
    ],
)
def test_owner_with_an_adverb_is_an_action(text: str) -> None:
    unit = _only_unit(text)
    owner = find_owner(fold(text), unit)
    assert owner.found and text[owner.start : owner.end].startswith("Mum")
    assert is_action(unit, fold(text))


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Mum has been struggling with low mood since the birth of Baby B.", False),
        ("Mum says she wants the children to feel safe at home.", False),
        ("Staying Put is not an option, so we need to plan for her move at 18.", False),
        ("We need to plan for her move at 18.", True),
        ("The SW needs to\nbook the interpreter for the next visit.", True),
    ],
)
def test_statements_and_needs(text: str, action: bool) -> None:
    unit = _only_unit(text)
    assert is_action(unit, fold(text)) is action
