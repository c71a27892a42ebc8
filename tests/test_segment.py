"""Segmentation of plans into sections and units (list items, lines, table rows, prose sentences).

What a practitioner expects: each action in a list, on its own line or in a table row is one unit;
a prose paragraph is split into its sentences (not at line wraps or at "Dr." / "e.g." / dates);
headed sections ("What needs to change", "Contingency plan") label the units under them; and every
unit's text is exactly the record's own words at its offsets.
"""

from __future__ import annotations

import pytest

from auditor.engine import Auditor
from auditor.records import Record
from auditor.segment import Layout, SectionKind, Segmentation, heading_kind, segment


def _texts(text: str) -> list[str]:
    return [u.text for u in segment(text).units]


def _assert_offsets(text: str) -> None:
    result = segment(text)
    previous_end = 0
    for unit in result.units:
        assert unit.text == text[unit.start : unit.end]
        assert unit.text == unit.text.strip() and unit.text
        assert unit.start >= previous_end, "units overlap or are out of order"
        previous_end = unit.end
        for cell in unit.cells:
            assert unit.start <= cell.start <= cell.end <= unit.end
            assert text[cell.start : cell.end] == text[cell.start : cell.end].strip()
    for section in result.sections:
        assert section.heading_start <= section.heading_end <= section.start <= section.end <= len(text)


# ---------------------------------------------------------------------------------------------
# Lists and lines: one unit per action, without its marker.

LIST_CASES = [
    pytest.param(
        "1. SW to visit Child A at home fortnightly.\n2. Mum to attend the Freedom Programme weekly.\n3. HV to weigh Baby B at each visit.",
        [
            "SW to visit Child A at home fortnightly.",
            "Mum to attend the Freedom Programme weekly.",
            "HV to weigh Baby B at each visit.",
        ],
        Layout.list,
        id="numbered-dot",
    ),
    pytest.param(
        "1) FSW to help Mum set up a bedtime routine by 12.3.21\n2) Dad to complete a hair strand test within 4 weeks",
        [
            "FSW to help Mum set up a bedtime routine by 12.3.21",
            "Dad to complete a hair strand test within 4 weeks",
        ],
        Layout.list,
        id="numbered-paren",
    ),
    pytest.param(
        "(a) School to report attendance to the SW weekly\n(b) Mum to take Child A to the dentist by 31.3.21",
        [
            "School to report attendance to the SW weekly",
            "Mum to take Child A to the dentist by 31.3.21",
        ],
        Layout.list,
        id="lettered",
    ),
    pytest.param(
        "- SW to complete direct work with Child A\n- HV to visit weekly\n- Mum to keep the kitchen clean",
        [
            "SW to complete direct work with Child A",
            "HV to visit weekly",
            "Mum to keep the kitchen clean",
        ],
        Layout.list,
        id="dash-bullets",
    ),
    pytest.param(
        "• SW to visit fortnightly\n• FSW to support Mum with budgeting\n• Dad to attend Caring Dads",
        [
            "SW to visit fortnightly",
            "FSW to support Mum with budgeting",
            "Dad to attend Caring Dads",
        ],
        Layout.list,
        id="bullet-dots",
    ),
    pytest.param(
        "* IRO to review contact at the next LAC review\n* Carers to keep a sleep diary",
        ["IRO to review contact at the next LAC review", "Carers to keep a sleep diary"],
        Layout.list,
        id="star-bullets",
    ),
    pytest.param(
        "SW to visit Child A at home every two weeks\nMum to attend all of Baby B's health appointments\nFSW to help Mum set up a bedtime routine",
        [
            "SW to visit Child A at home every two weeks",
            "Mum to attend all of Baby B's health appointments",
            "FSW to help Mum set up a bedtime routine",
        ],
        Layout.line,
        id="one-action-per-line",
    ),
    pytest.param(
        # Bare imperatives with owner tags: the first line is an action, not the record's title.
        "Book the boiler repair - FSW\nRefer Child A to CAMHS - SW\nChase the hair strand results - SW",
        [
            "Book the boiler repair - FSW",
            "Refer Child A to CAMHS - SW",
            "Chase the hair strand results - SW",
        ],
        Layout.line,
        id="one-imperative-per-line",
    ),
    pytest.param(
        "1. SW to visit weekly.\r\n2. Mum to attend all appointments.\r\n",
        ["SW to visit weekly.", "Mum to attend all appointments."],
        Layout.list,
        id="crlf",
    ),
    pytest.param(
        "1. SW to complete the parenting assessment\n   with Mum and Dad by 31.3.21.\n2. HV to visit weekly.",
        [
            "SW to complete the parenting assessment\n   with Mum and Dad by 31.3.21.",
            "HV to visit weekly.",
        ],
        Layout.list,
        id="wrapped-list-item",
    ),
]


@pytest.mark.parametrize(("text", "expected", "layout"), LIST_CASES)
def test_lists_and_lines(text: str, expected: list[str], layout: Layout) -> None:
    # A marker ("1.", "(a)", "-", "•") makes a list item; one action per line without one, a line.
    units = segment(text).units
    assert [u.text for u in units] == expected
    assert [u.layout for u in units] == [layout] * len(expected)


def test_numbered_list_layout() -> None:
    units = segment("1. SW to visit weekly.\n2. Mum to attend.").units
    assert [u.layout for u in units] == [Layout.list, Layout.list]


def test_one_action_per_line_layout() -> None:
    units = segment("SW to visit weekly\nMum to attend all appointments\nFSW to book the boiler repair").units
    assert [u.layout for u in units] == [Layout.line, Layout.line, Layout.line]


# ---------------------------------------------------------------------------------------------
# Tables: "action | who | when" rows; the header row is not a unit.

TABLE_CASES = [
    pytest.param(
        "Action | Who | When\nRefer Child A to CAMHS | SW | 31.03.21\nAttend all health appointments | Mum | ongoing",
        [
            {"action": "Refer Child A to CAMHS", "who": "SW", "when": "31.03.21"},
            {"action": "Attend all health appointments", "who": "Mum", "when": "ongoing"},
        ],
        id="pipes-with-header",
    ),
    pytest.param(
        "| What | Who | By when |\n|---|---|---|\n| Book the boiler repair | FSW | w/c 12 April |",
        [{"action": "Book the boiler repair", "who": "FSW", "when": "w/c 12 April"}],
        id="markdown-with-separator",
    ),
    pytest.param(
        "Who | What needs to happen | By when\nHV | Weigh Baby B | fortnightly\nMum | Register with a GP | 19.3.21",
        [
            {"action": "Weigh Baby B", "who": "HV", "when": "fortnightly"},
            {"action": "Register with a GP", "who": "Mum", "when": "19.3.21"},
        ],
        id="who-column-first",
    ),
    pytest.param(
        "Action\tWho\tTimescale\nRefer to CAMHS\tSW\t31.3.21",
        [{"action": "Refer to CAMHS", "who": "SW", "when": "31.3.21"}],
        id="tab-separated",
    ),
    pytest.param(
        "Refer to CAMHS | SW | 31.3.21\nArrange a dental check-up | Carers | by the next LAC review",
        [
            {"action": "Refer to CAMHS", "who": "SW", "when": "31.3.21"},
            {
                "action": "Arrange a dental check-up",
                "who": "Carers",
                "when": "by the next LAC review",
            },
        ],
        id="no-header",
    ),
]


@pytest.mark.parametrize(("text", "rows"), TABLE_CASES)
def test_table_rows(text: str, rows: list[dict[str, str]]) -> None:
    units = segment(text).units
    assert len(units) == len(rows)
    for unit, row in zip(units, rows, strict=True):
        assert unit.layout is Layout.table
        for role, words in row.items():
            cell = unit.cell(role)
            assert cell is not None, f"no {role} cell in {unit.text!r}"
            assert text[cell.start : cell.end] == words


# ---------------------------------------------------------------------------------------------
# Prose: one unit per sentence.

PROSE_CASES = [
    pytest.param(
        "Mum has been struggling with low mood since the birth of Baby B and she has told the HV that she is not "
        "sleeping at night. Dr. Khan has prescribed medication, e.g. sertraline, and will review her on 3.3.21. "
        "The SW is worried about Mum's capacity to meet Baby B's needs when Dad is working nights. "
        "Maternal grandmother has offered to help.",
        [
            "Mum has been struggling with low mood since the birth of Baby B and she has told the HV that she is not sleeping at night.",
            "Dr. Khan has prescribed medication, e.g. sertraline, and will review her on 3.3.21.",
            "The SW is worried about Mum's capacity to meet Baby B's needs when Dad is working nights.",
            "Maternal grandmother has offered to help.",
        ],
        id="one-long-paragraph",
    ),
    pytest.param(
        # Exported text often keeps hard line wraps inside a paragraph.
        "Mum has been struggling with low mood since the birth of Baby B and told the\n"
        "HV that she is not sleeping. Dr. Khan has prescribed medication and will review\n"
        "her on 3.3.21. The SW is worried about Mum's capacity to meet Baby B's needs.",
        [
            "Mum has been struggling with low mood since the birth of Baby B and told the\nHV that she is not sleeping.",
            "Dr. Khan has prescribed medication and will review\nher on 3.3.21.",
            "The SW is worried about Mum's capacity to meet Baby B's needs.",
        ],
        id="hard-wrapped-paragraph",
    ),
]


@pytest.mark.parametrize(("text", "expected"), PROSE_CASES)
def test_prose_sentences(text: str, expected: list[str]) -> None:
    units = segment(text).units
    assert [u.text for u in units] == expected
    assert all(u.layout is Layout.prose for u in units)


# ---------------------------------------------------------------------------------------------
# Headed sections.

PLAN = (
    "What needs to change\n"
    "Child A needs to live in a clean home with food in the cupboards.\n"
    "\n"
    "Actions\n"
    "1. FSW to help Mum make a cleaning rota by 12.3.21.\n"
    "2. Mum to use the food bank voucher weekly.\n"
    "\n"
    "Contingency plan\n"
    "If the home conditions have not improved by the RCPC, the SW will ask for a legal planning meeting.\n"
)


def test_headed_sections() -> None:
    result = segment(PLAN)
    assert [s.kind for s in result.sections] == [
        SectionKind.change,
        SectionKind.actions,
        SectionKind.contingency,
    ]
    headings = [PLAN[s.heading_start : s.heading_end].strip() for s in result.sections]
    assert headings == ["What needs to change", "Actions", "Contingency plan"]
    by_text = {u.text: u.section for u in result.units}
    assert by_text == {
        "Child A needs to live in a clean home with food in the cupboards.": SectionKind.change,
        "FSW to help Mum make a cleaning rota by 12.3.21.": SectionKind.actions,
        "Mum to use the food bank voucher weekly.": SectionKind.actions,
        "If the home conditions have not improved by the RCPC, the SW will ask for a legal planning meeting.": SectionKind.contingency,
    }


def test_upper_case_heading_with_colon() -> None:
    text = "WHAT NEEDS TO CHANGE:\nDad to stop drinking alcohol when he has the children.\n\nCONTINGENCY PLAN:\nSW to convene a PLO meeting if Dad drinks during contact."
    result = segment(text)
    assert [s.kind for s in result.sections] == [SectionKind.change, SectionKind.contingency]
    assert [u.section for u in result.units] == [SectionKind.change, SectionKind.contingency]


def test_markdown_heading() -> None:
    text = "## Actions\n- SW to visit weekly\n- HV to weigh Baby B fortnightly"
    result = segment(text)
    assert [s.kind for s in result.sections] == [SectionKind.actions]
    assert [(u.text, u.section) for u in result.units] == [
        ("SW to visit weekly", SectionKind.actions),
        ("HV to weigh Baby B fortnightly", SectionKind.actions),
    ]


def test_inline_contingency_label() -> None:
    text = "Contingency plan: if Mum does not attend the Freedom Programme, the SW will call a legal planning meeting."
    result = segment(text)
    assert [s.kind for s in result.sections] == [SectionKind.contingency]
    assert len(result.units) == 1
    unit = result.units[0]
    assert unit.section is SectionKind.contingency
    assert unit.text == "if Mum does not attend the Freedom Programme, the SW will call a legal planning meeting."


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Plan", SectionKind.actions),  # a lone word names a section; it does not instruct
        ("Support plan", SectionKind.actions),  # "support" is a noun before "plan", as the action finder reads it
        ("Support offered", SectionKind.actions),
    ],
)
def test_heading_that_starts_with_a_verb_used_as_a_noun(heading: str, kind: SectionKind) -> None:
    # Lines, not a list: above a list any short line is a heading by position (_list_heading).
    text = f"What we are worried about\nMum is not sleeping.\n\n{heading}\nFSW to visit weekly\nHV to visit fortnightly"
    result = segment(text)
    assert [s.kind for s in result.sections] == [SectionKind.worries, kind]
    assert [u.section for u in result.units] == [SectionKind.worries, kind, kind]


def test_contact_arrangements_title_line() -> None:
    # "Contact" is a noun before "arrangements" (auditor.vocabulary.imperative_verb), so the line is the title.
    result = segment("Contact arrangements\nDad sees Child A on Saturdays at the family centre.")
    assert [s.kind for s in result.sections] == [SectionKind.other]
    assert [u.text for u in result.units] == ["Dad sees Child A on Saturdays at the family centre."]


@pytest.mark.parametrize("line", ["Update assessment", "SW to complete chronology", "Review the plan with Mum"])
def test_task_lines_are_not_headings(line: str) -> None:
    result = segment(f"What we are worried about\nMum is not sleeping.\n\n{line}\nHV to visit weekly")
    assert [s.kind for s in result.sections] == [SectionKind.worries]
    assert line in [u.text for u in result.units]


def _section_at(result: Segmentation, position: int) -> SectionKind | None:
    kinds = [s.kind for s in result.sections if s.start <= position < s.end]
    assert len(kinds) <= 1, "sections overlap"
    return kinds[0] if kinds else None


def _assert_sections_agree(text: str) -> None:
    """Each unit's section is the kind of the section span it lies in (None: in no section)."""
    result = segment(text)
    for unit in result.units:
        assert unit.section == _section_at(result, unit.start), unit.text


SECTION_TEXTS = [
    # An inline label's paragraph ends; the heading's section resumes for what follows.
    "Contingency plan\nBottom line: if Mum drinks during contact, the SW will call a meeting.\n\n"
    "If Dad does not attend, the LA will consider PLO.\n",
    "Actions\nPlan B: SW to call a legal planning meeting.\n\n- HV to visit weekly\n\nCore group: 4 weekly.\n\nMum to attend",
    # Prose after a list leaves the list's section, and a later inline label must not stretch it back.
    "Actions\n- SW to visit weekly\n\nMum was given a copy of the plan.\n\nContingency: if Mum drinks, PLO.",
    "Child in Need Plan\n\nWhat Child A told us: he wants more outings.\n\n1) SW to visit\n2) HV to visit\n\n"
    "How we will know it is working: fewer incidents.",
    PLAN,
]


@pytest.mark.parametrize("text", SECTION_TEXTS)
def test_units_lie_in_their_sections(text: str) -> None:
    _assert_sections_agree(text)


def test_inline_label_then_more_of_the_headed_section() -> None:
    text = SECTION_TEXTS[0]
    result = segment(text)
    last = result.units[-1]
    assert last.text == "If Dad does not attend, the LA will consider PLO."
    assert last.section is SectionKind.contingency
    resumed = result.sections[-1]
    assert resumed.kind is SectionKind.contingency and resumed.start <= last.start < resumed.end
    # The resumed section keeps its heading, so a timescale there still reaches these units.
    assert text[resumed.heading_start : resumed.heading_end] == "Contingency plan"


def test_heading_timescale_reaches_units_after_an_inline_label(auditor: Auditor) -> None:
    text = (
        "Contingency plan by 31.3.21\n"
        "Bottom line: if Mum drinks during contact, the SW will call a legal planning meeting.\n\n"
        "If Dad does not attend, the LA will consider PLO.\n"
    )
    result = auditor.audit(Record(id="r", record_type="plan", text=text))
    flagged = [text[f.start : f.end] for f in result.findings if f.rule_id == "CT001"]
    assert "If Dad does not attend, the LA will consider PLO." not in flagged


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("What needs to change", SectionKind.change),
        ("How will we know things are better?", SectionKind.change),
        ("Contingency plan", SectionKind.contingency),
        ("Plan B", SectionKind.contingency),
        ("Child A's views", SectionKind.voice),
        ("What we are worried about", SectionKind.worries),
        ("What is working well", SectionKind.strengths),
        ("Actions", SectionKind.actions),
        ("Who will do what", SectionKind.actions),
        ("Management decision", SectionKind.decision),
    ],
)
def test_heading_kind(label: str, kind: SectionKind) -> None:
    assert heading_kind(label) is kind


# ---------------------------------------------------------------------------------------------
# Offsets: every unit is the original text sliced by its offsets.


OFFSET_TEXTS = [p.values[0] for p in LIST_CASES + TABLE_CASES + PROSE_CASES] + [
    PLAN,
    "  \n\n   1. SW to visit weekly.   \n\n\tMum to attend.  \n",
    "Contingency plan: if Mum does not attend, SW to call a legal planning meeting.\n\nActions\n- HV to visit",
]


def test_unit_offsets() -> None:
    for text in OFFSET_TEXTS + SECTION_TEXTS:
        _assert_offsets(text)
        _assert_sections_agree(text)


def test_a_bulleted_table_row_starts_at_its_action_not_its_bullet() -> None:
    # The classifier reads the unit as the corpus writes a row ("action | who | when"); a bullet
    # in front of a pasted row is layout, not part of the action.
    text = "Actions\n- Book dental check-ups | Mum | by 30.4.21\n1. Hair strap test | Dad | "
    units = segment(text).units
    assert [u.text for u in units] == ["Book dental check-ups | Mum | by 30.4.21", "Hair strap test | Dad |"]
    assert [text[c.start : c.end] for c in units[0].cells] == ["Book dental check-ups", "Mum", "by 30.4.21"]
