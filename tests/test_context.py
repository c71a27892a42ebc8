"""Context marks (in the manner of medspaCy's ConText): conditional, prohibition, negated,
hypothetical and historical statements.

What a practitioner reads: "If Mum does not attend, the LA will consider PLO" is a contingency, not
a failed action; "Dad not to have unsupervised contact" is a prohibition, not a task to chase;
"SW visited on 3.3.21" is history, not a plan; "Mum may need support" is a possibility.

`mark` works on the record's case-folded text (auditor.casefold.fold keeps every offset; the
pipeline passes it that way); spans are read back from the original text.
"""

from __future__ import annotations

import pytest

from auditor.casefold import fold
from auditor.context import mark

MARKS = ("conditional", "prohibition", "negated", "hypothetical", "historical")

C, P, N, Y, H = MARKS

CASES = [
    # Conditionals (contingency triggers).
    pytest.param("If Mum does not attend, the LA will consider PLO.", {C, N}, {P, H}, id="if-does-not-attend"),
    pytest.param("Should Dad fail to attend, contact will be suspended.", {C}, {P, H}, id="should-dad-fail"),
    pytest.param(
        "Unless Mum engages with the recovery service, contact will remain supervised.",
        {C},
        {P, H},
        id="unless",
    ),
    pytest.param(
        "In the event that Child A goes missing, carers to call the police.",
        {C},
        {P, H},
        id="in-the-event-that",
    ),
    pytest.param(
        "Mum to attend the GP; otherwise the SW will make the appointment.",
        {C},
        {P, H},
        id="otherwise",
    ),
    pytest.param(
        "Provided Dad stays sober, contact will increase to twice a week.",
        {C},
        {P, H},
        id="provided",
    ),
    pytest.param(
        "As long as Mum keeps to the safety plan, the children can stay overnight.",
        {C},
        {P, H},
        id="as-long-as",
    ),
    # Prohibitions.
    pytest.param("Dad not to have unsupervised contact with Child A.", {P}, {C, H}, id="dad-not-to"),
    pytest.param("Mum must not allow Dad into the family home.", {P}, {C, H}, id="must-not"),
    pytest.param(
        "No unsupervised contact between Dad and the children.",
        {P},
        {C, H},
        id="no-unsupervised-contact",
    ),
    pytest.param("Dad is not to collect Child A from school.", {P}, {C, H}, id="is-not-to"),
    pytest.param(
        "Mum should not drink alcohol when caring for Child A.",
        {P},
        {C, H},
        id="should-not-is-not-conditional",
    ),
    pytest.param("Dad is not allowed to stay overnight at the family home.", {P}, {C, H}, id="not-allowed"),
    # Negated, and history.
    pytest.param(
        "Mum will not be able to attend on Tuesdays.",
        {N},
        {P, C},
        id="will-not-is-not-a-prohibition",
    ),
    pytest.param(
        "Mum did not attend the appointment on 3.3.21.",
        {N, H},
        {P, C},
        id="did-not-attend-is-history",
    ),
    pytest.param("SW visited on 3.3.21 and saw Child A alone.", {H}, {C, P, N}, id="sw-visited"),
    pytest.param("Child A previously lived with his nan.", {H}, {C, P, N}, id="previously"),
    pytest.param("Child A was seen alone at school.", {H}, {C, P, N}, id="was-seen"),
    # Hypothetical.
    pytest.param("Mum may need support with housing.", {Y}, {C, P, H}, id="may-need"),
    pytest.param("It is hoped that Dad will complete the course.", {Y}, {C, P, H}, id="it-is-hoped"),
    pytest.param(
        "Dad would benefit from a referral to the recovery service.",
        {Y},
        {C, P, H},
        id="would-benefit",
    ),
    pytest.param(
        "Maternal aunt could be considered as a kinship carer.",
        {Y},
        {C, P, H},
        id="could-be-considered",
    ),
    # Plain tasks: nothing marked.
    pytest.param("SW to visit weekly.", set(), set(MARKS), id="plain-task"),
    pytest.param(
        "SW to visit within 5 working days of the strategy meeting.",
        set(),
        set(MARKS),
        id="plain-task-with-deadline",
    ),
    pytest.param(
        "Mum to attend the Life Skills course at the Gift Centre.",
        set(),
        set(MARKS),
        id="if-inside-words",
    ),
]


@pytest.mark.parametrize(("text", "present", "absent"), CASES)
def test_marks(text: str, present: set[str], absent: set[str]) -> None:
    marks = mark(fold(text), 0, len(text))
    got = {name for name in MARKS if getattr(marks, name) is not None}
    assert present <= got, f"missing {present - got}; got {got}"
    assert not (absent & got), f"unexpected {absent & got}"
    for name in got:
        start, end = getattr(marks, name)
        assert 0 <= start < end <= len(text)


@pytest.mark.parametrize(
    ("text", "is_task"),
    [
        ("SW to visit weekly.", True),
        ("Mum to attend all appointments.", True),
        ("If Mum does not attend, the SW will call a legal planning meeting.", False),
        ("Dad not to have unsupervised contact with Child A.", False),
        ("SW visited on 3.3.21 and saw Child A alone.", False),
    ],
)
def test_is_task(text: str, is_task: bool) -> None:
    assert mark(fold(text), 0, len(text)).is_task is is_task


def test_offsets_are_absolute_and_limited_to_the_statement() -> None:
    text = "SW to visit weekly. If Mum does not attend, the LA will consider PLO."
    second = text.index("If")
    first = mark(fold(text), 0, second - 1)
    assert first.conditional is None and first.negated is None
    marks = mark(fold(text), second, len(text))
    assert marks.conditional is not None
    assert text[marks.conditional[0] : marks.conditional[1]] == "If"
    assert marks.negated is not None
    assert text[marks.negated[0] : marks.negated[1]] == "does not"
