"""Timescales in plan text: explicit dates, relative deadlines, frequencies, meeting-anchored
deadlines and the indefinite words inspectors do not accept as timescales.

Expected due dates were worked out by hand with the calendar. Assumptions, as UK practice and
statutory guidance count:
- dates are day first ("3/9/21" is 3 September 2021), two-digit years are 20xx;
- a yearless date means its next occurrence on or after the record date;
- the record date is day 0; "within N working days" skips weekends and England and Wales bank
  holidays (Christmas 2020: 25 and 28 Dec, 1 Jan; Easter 2021: 2 and 5 Apr);
- "within N weeks" is N x 7 calendar days; "within N months" is the same day N months on;
- "w/c 12 April" is the week commencing Monday 12 April: due that week (by Friday 16 April);
- the spring term ends with the Easter holidays (about the end of March / start of April).
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from auditor.timescales import Timescale, TimescaleKind, find_timescales

D, R, F, M, IND = (
    TimescaleKind.date,
    TimescaleKind.relative,
    TimescaleKind.frequency,
    TimescaleKind.meeting,
    TimescaleKind.indefinite,
)


def _covering(text: str, found: list[Timescale], phrase: str) -> Timescale:
    """The one timescale whose span covers `phrase` in `text`."""
    start = text.index(phrase)
    end = start + len(phrase)
    covering = [t for t in found if t.start <= start and end <= t.end]
    assert covering, f"no timescale covers {phrase!r}; found {[(t.kind.value, t.text) for t in found]}"
    assert len(covering) == 1
    return covering[0]


# ---------------------------------------------------------------------------------------------
# Explicit dates, day first.

DATE_CASES = [
    pytest.param(
        "SW to complete the assessment by 31.12.20.",
        date(2020, 12, 1),
        "31.12.20",
        date(2020, 12, 31),
        id="dd.mm.yy",
    ),
    pytest.param(
        "Core group to review progress on 3/9/21.",
        date(2021, 6, 1),
        "3/9/21",
        date(2021, 9, 3),
        id="d/m/yy-3-september",
    ),
    pytest.param(
        "HV to visit on 05/01/2021 to weigh Baby B.",
        date(2020, 12, 1),
        "05/01/2021",
        date(2021, 1, 5),
        id="5-january-not-1-may",
    ),
    pytest.param(
        "HV to complete the developmental check on 14th March.",
        date(2021, 1, 10),
        "14th March",
        date(2021, 3, 14),
        id="ordinal-month-no-year",
    ),
    pytest.param(
        "FSW to book the boiler repair by 12/3.",
        date(2021, 1, 10),
        "12/3",
        date(2021, 3, 12),
        id="yearless-slash-day-first",
    ),
    pytest.param(
        "Dad to provide a hair strand sample by 14th January.",
        date(2021, 3, 1),
        "14th January",
        date(2022, 1, 14),
        id="yearless-rolls-to-next-year",
    ),
    pytest.param(
        "SW to share the assessment with Mum by end of March.",
        date(2021, 1, 10),
        "end of March",
        date(2021, 3, 31),
        id="by-end-of-month-name",
    ),
    # "by the 14th" in a plan written on 1 March means 14 March.
    pytest.param(
        "Mum to return the signed safety plan by the 14th.",
        date(2021, 3, 1),
        "14th",
        date(2021, 3, 14),
        id="day-of-this-month",
    ),
]


@pytest.mark.parametrize(("text", "recorded_at", "phrase", "due"), DATE_CASES)
def test_explicit_dates(text: str, recorded_at: date, phrase: str, due: date) -> None:
    found = find_timescales(text, recorded_at)
    timescale = _covering(text, found, phrase)
    assert timescale.kind is D
    assert timescale.due == due


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        pytest.param("FSW to start the Solihull sessions w/c 12 April.", "w/c 12 April", id="w/c-worded"),
        pytest.param("FSW to start the Solihull sessions w/c 12.4.21.", "w/c 12.4.21", id="w/c-numeric"),
    ],
)
def test_week_commencing(text: str, phrase: str) -> None:
    timescale = _covering(text, find_timescales(text, date(2021, 3, 1)), phrase)
    assert timescale.kind is D
    assert timescale.text.lower().startswith("w/c")
    # Monday 12 April 2021; an action due "w/c" is due within that working week.
    assert timescale.due is not None and date(2021, 4, 12) <= timescale.due <= date(2021, 4, 16)


# ---------------------------------------------------------------------------------------------
# Relative deadlines.

RELATIVE_CASES = [
    # Thu 24.12.20 + 10 working days: 29, 30, 31 Dec, 4-8 Jan, 11, 12 Jan.
    pytest.param(
        "Assessment to be completed within 10 working days.",
        date(2020, 12, 24),
        "within 10 working days",
        date(2021, 1, 12),
        id="10-working-days-over-christmas-2020",
    ),
    # Mon 29.3.21 + 10 working days: 30, 31 Mar, 1, 6-9, 12-14 Apr (2 and 5 Apr are bank holidays).
    pytest.param(
        "SW to see Child A alone within 10 working days.",
        date(2021, 3, 29),
        "within 10 working days",
        date(2021, 4, 14),
        id="10-working-days-over-easter-2021",
    ),
    # Thu 1.4.21 + 5 working days: 6, 7, 8, 9, 12 Apr.
    pytest.param(
        "FSW to visit within 5 working days.",
        date(2021, 4, 1),
        "within 5 working days",
        date(2021, 4, 12),
        id="5-working-days-from-maundy-thursday",
    ),
    # Counted from the date the text names, not the record date.
    pytest.param(
        "Assessment to be completed within 10 working days of 24.12.20.",
        date(2020, 12, 20),
        "within 10 working days of 24.12.20",
        date(2021, 1, 12),
        id="working-days-of-a-named-date",
    ),
    pytest.param(
        "SW to complete the parenting assessment within 6 weeks.",
        date(2021, 3, 1),
        "within 6 weeks",
        date(2021, 4, 12),
        id="within-6-weeks",
    ),
    pytest.param(
        "Mum to register with a dentist within 3 months.",
        date(2021, 1, 31),
        "within 3 months",
        date(2021, 4, 30),
        id="within-3-months-clipped-to-month-end",
    ),
    pytest.param(
        "Mum to send the SW her tenancy agreement by Friday.",
        date(2021, 3, 8),
        "by Friday",
        date(2021, 3, 12),
        id="by-friday-from-monday",
    ),
    pytest.param(
        "FSW to help Mum make a cleaning rota by the end of the month.",
        date(2021, 2, 10),
        "by the end of the month",
        date(2021, 2, 28),
        id="end-of-the-month",
    ),
    # A 24-hour deadline set on 8 March runs out on 9 March.
    pytest.param(
        "Strategy discussion to be held within 24 hours.",
        date(2021, 3, 8),
        "within 24 hours",
        date(2021, 3, 9),
        id="within-24-hours-is-next-day",
    ),
    # Recorded Monday 1 March 2021: next week ends Friday 12 March.
    pytest.param(
        "Mum to bring the tenancy papers to the office by the end of next week.",
        date(2021, 3, 1),
        "by the end of next week",
        date(2021, 3, 12),
        id="end-of-next-week",
    ),
    # A fortnight is 14 days.
    pytest.param(
        "SW to see Child A alone in the next fortnight.",
        date(2021, 3, 1),
        "in the next fortnight",
        date(2021, 3, 15),
        id="in-the-next-fortnight",
    ),
]


@pytest.mark.parametrize(("text", "recorded_at", "phrase", "due"), RELATIVE_CASES)
def test_relative_deadlines(text: str, recorded_at: date, phrase: str, due: date) -> None:
    found = find_timescales(text, recorded_at)
    timescale = _covering(text, found, phrase)
    assert timescale.kind is R
    assert timescale.due == due


# Councils set their own school term dates, so these are checked against a window.
APPROXIMATE_CASES = [
    # Spring term 2021 ended with the Easter holidays (Thu 1 April in most English councils).
    pytest.param(
        "Designated teacher to put phonics support in place by the end of the spring term.",
        date(2021, 1, 15),
        "by the end of the spring term",
        R,
        date(2021, 3, 26),
        date(2021, 4, 9),
        id="end-of-spring-term",
    ),
    # Written on 1 March 2021, after the February half term: the next half term is the May one
    # (week of the spring bank holiday, 31 May 2021), not the end of the spring term.
    pytest.param(
        "Mum to complete the Freedom Programme by half term.",
        date(2021, 3, 1),
        "by half term",
        R,
        date(2021, 5, 21),
        date(2021, 5, 31),
        id="by-half-term-is-may",
    ),
    # Mid March is about the 15th, not the end of the month.
    pytest.param(
        "SW to complete the chronology by mid March.",
        date(2021, 3, 1),
        "by mid March",
        D,
        date(2021, 3, 12),
        date(2021, 3, 19),
        id="by-mid-march",
    ),
]


@pytest.mark.parametrize(("text", "recorded_at", "phrase", "kind", "earliest", "latest"), APPROXIMATE_CASES)
def test_approximate_due_dates(
    text: str, recorded_at: date, phrase: str, kind: TimescaleKind, earliest: date, latest: date
) -> None:
    timescale = _covering(text, find_timescales(text, recorded_at), phrase)
    assert timescale.kind is kind
    assert timescale.due is not None and earliest <= timescale.due <= latest, timescale.due


def test_relative_to_a_meeting_is_not_counted_from_the_record_date() -> None:
    # "within 2 weeks of the RCPC": the RCPC's date is not in the text, so the due date cannot be
    # the record date plus 14 days.
    text = "SW to share the updated plan with Mum within 2 weeks of the RCPC."
    timescale = _covering(text, find_timescales(text, date(2021, 3, 1)), "within 2 weeks of the RCPC")
    assert timescale.due is None


def test_relative_without_record_date_has_no_due_date() -> None:
    text = "SW to complete the parenting assessment within 6 weeks."
    timescale = _covering(text, find_timescales(text, None), "within 6 weeks")
    assert timescale.kind is R
    assert timescale.due is None


# ---------------------------------------------------------------------------------------------
# Frequencies.

FREQUENCY_CASES = [
    pytest.param("HV to visit weekly to weigh Baby B.", "weekly", id="weekly"),
    pytest.param("SW to see Child A alone fortnightly.", "fortnightly", id="fortnightly"),
    pytest.param(
        "FSW to visit every Tuesday to support the morning routine.",
        "every Tuesday",
        id="every-tuesday",
    ),
    pytest.param("Contact with Dad twice a week at the contact centre.", "twice a week", id="twice-a-week"),
    pytest.param("SW to check the home conditions at each visit.", "at each visit", id="at-each-visit"),
    pytest.param("Mum to take Child A to swimming on Tuesdays after school.", "Tuesdays", id="on-tuesdays"),
    pytest.param("Contact with Dad 3x a week.", "3x a week", id="3x-a-week"),
    pytest.param("Reviewing officer to visit every 4-6 weeks.", "every 4-6 weeks", id="every-4-6-weeks"),
]


@pytest.mark.parametrize(("text", "phrase"), FREQUENCY_CASES)
def test_frequencies(text: str, phrase: str) -> None:
    timescale = _covering(text, find_timescales(text, date(2021, 3, 1)), phrase)
    assert timescale.kind is F


# ---------------------------------------------------------------------------------------------
# Deadlines tied to a meeting.

MEETING_CASES = [
    pytest.param(
        "SW to share the parenting assessment with Mum by the next core group.",
        "by the next core group",
        "core group",
        id="next-core-group",
    ),
    pytest.param(
        "Dad to complete a hair strand test before the RCPC.",
        "before the RCPC",
        "rcpc",
        id="before-the-rcpc",
    ),
    pytest.param(
        "IRO to review contact arrangements at the next LAC review.",
        "at the next LAC review",
        "lac review",
        id="next-lac-review",
    ),
]


@pytest.mark.parametrize(("text", "phrase", "anchor"), MEETING_CASES)
def test_meeting_anchored(text: str, phrase: str, anchor: str) -> None:
    timescale = _covering(text, find_timescales(text, date(2021, 1, 10)), phrase)
    assert timescale.kind is M
    assert timescale.anchor is not None and anchor in timescale.anchor.lower()


def test_meeting_with_a_month_is_due_that_month() -> None:
    text = "Designated teacher to set literacy targets by the February PEP meeting."
    timescale = _covering(text, find_timescales(text, date(2021, 1, 10)), "by the February PEP meeting")
    assert timescale.kind is M
    assert timescale.anchor is not None and "pep" in timescale.anchor.lower()
    # Recorded in January 2021: the February PEP meeting is in February 2021, so the latest it
    # can be due is 28 February 2021.
    assert timescale.due is not None and date(2021, 2, 1) <= timescale.due <= date(2021, 2, 28)


# ---------------------------------------------------------------------------------------------
# Indefinite words: found, and the only timescale in the action.

INDEFINITE_CASES = [
    pytest.param("SW to make a referral to CAMHS ASAP.", "ASAP", id="asap"),
    pytest.param("Mum to attend counselling - ongoing.", "ongoing", id="ongoing"),
    pytest.param(
        "FSW to support Mum with budgeting as and when required.",
        "as and when required",
        id="as-and-when-required",
    ),
    pytest.param(
        "Referral to adult mental health services in due course.",
        "in due course",
        id="in-due-course",
    ),
    pytest.param("Respite to be offered to the carers when needed.", "when needed", id="when-needed"),
    pytest.param("HV to visit regularly.", "regularly", id="regularly"),
]


@pytest.mark.parametrize(("text", "phrase"), INDEFINITE_CASES)
def test_indefinite(text: str, phrase: str) -> None:
    found = find_timescales(text, date(2021, 3, 1))
    timescale = _covering(text, found, phrase)
    assert timescale.kind is IND
    assert not timescale.is_definite
    assert all(t.kind is IND for t in found), [(t.kind.value, t.text) for t in found]


# ---------------------------------------------------------------------------------------------
# No timescale at all: scores, scales and attendance are not dates.

NO_TIMESCALE_CASES = [
    pytest.param("SW to review the plan.", id="sw-to-review-the-plan"),
    pytest.param("Mum scaled her mood 5/10.", id="scaled-5-out-of-10"),
    pytest.param("Child A attended 3/4 sessions.", id="attended-3-of-4"),
    pytest.param("Child A put herself at 7/10 on the worry scale.", id="worry-scale-7-out-of-10"),
    pytest.param("Mum to attend the Freedom Programme.", id="action-without-timescale"),
]


@pytest.mark.parametrize("text", NO_TIMESCALE_CASES)
def test_no_timescale(text: str) -> None:
    found = find_timescales(text, date(2021, 3, 1))
    assert found == [], [(t.kind.value, t.text) for t in found]


# ---------------------------------------------------------------------------------------------
# Every match's text is the record's own words at its offsets.

ALL_TEXTS = [p.values[0] for p in DATE_CASES + RELATIVE_CASES + FREQUENCY_CASES + MEETING_CASES + INDEFINITE_CASES] + [
    "FSW to start the Solihull sessions w/c 12 April.",
    "Designated teacher to set literacy targets by the February PEP meeting.",
    "1. SW to visit weekly from 3.3.21 until the RCPC.\n2. Mum to attend all appointments - ongoing.\n3. HV to review within 10 working days of 24.12.20.",
]


def test_match_text_equals_slice() -> None:
    for text in ALL_TEXTS:
        for timescale in find_timescales(text, date(2021, 3, 1)):
            assert timescale.text == text[timescale.start : timescale.end], text
        spans = [(t.start, t.end) for t in find_timescales(text, date(2021, 3, 1))]
        assert spans == sorted(spans)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(spans))


def test_an_event_deadline_that_opens_with_a_number_is_found() -> None:
    # The event family was anchored on words only, so "7 days later" at a sentence start was missed.
    found = find_timescales("Weigh Baby B at clinic. 7 days later, SW to review the weight chart.")
    assert [(t.kind, t.text) for t in found] == [(TimescaleKind.event, "7 days later")]
