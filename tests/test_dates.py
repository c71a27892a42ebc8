"""Day-first date parsing and the England and Wales working-day calendar.

Expected values were worked out by hand from the calendar and the published England and Wales
bank holidays (gov.uk/bank-holidays), not from the code. Working days are counted as statutory
guidance (Working Together) counts them: the start date is day 0, weekends and England and Wales
bank holidays are skipped.

Calendar facts used below:
- Christmas 2020: Fri 25 Dec (Christmas Day), Mon 28 Dec (Boxing Day, substitute for Sat 26),
  Fri 1 Jan 2021 (New Year's Day).
- Easter 2021: Fri 2 Apr (Good Friday), Mon 5 Apr (Easter Monday).
- May 2021: Mon 3 May (early May), Mon 31 May (spring).
- Christmas 2021: Mon 27 Dec and Tue 28 Dec (substitutes for Sat 25 and Sun 26), Mon 3 Jan 2022
  (substitute for Sat 1 Jan).
- One-off: Fri 8 May 2020 (VE Day, early May holiday moved), Thu 2 and Fri 3 Jun 2022 (Platinum
  Jubilee), Mon 19 Sep 2022 (state funeral), Mon 8 May 2023 (coronation).
"""

from __future__ import annotations

from datetime import date

import pytest

from auditor.dates import add_working_days, is_working_day, parse_date

# ---------------------------------------------------------------------------------------------
# parse_date: UK practice writes the day first.


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("31.12.20", date(2020, 12, 31), id="dd.mm.yy"),
        pytest.param("31/12/2020", date(2020, 12, 31), id="dd/mm/yyyy"),
        pytest.param("3/9/21", date(2021, 9, 3), id="d/m/yy-is-3-september-not-9-march"),
        pytest.param("03/04/2012", date(2012, 4, 3), id="dob-3-april-2012"),
        pytest.param("05.01.21", date(2021, 1, 5), id="5-january-not-1-may"),
        pytest.param("3 March 2021", date(2021, 3, 3), id="worded"),
        pytest.param("14th March 2021", date(2021, 3, 14), id="worded-ordinal"),
        pytest.param("2020-12-31", date(2020, 12, 31), id="iso"),
        pytest.param("2021-02-03 00:00:00", date(2021, 2, 3), id="iso-with-midnight-time-from-a-spreadsheet"),
        pytest.param("1 Sept 2021", date(2021, 9, 1), id="worded-sept"),
    ],
)
def test_parse_date_day_first(value: str, expected: date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("31.02.21", id="31-february"),
        pytest.param("29/02/2021", id="29-february-not-a-leap-year"),
        pytest.param("31/02/2021", id="31-february-four-digit-year"),
        pytest.param("12/31/2020", id="month-first-us-order"),
        pytest.param("2021", id="year-only"),
        pytest.param("next Tuesday", id="words"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_date_rejects_non_dates(value: str) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_parse_date_error_never_repeats_the_value() -> None:
    # Record text is about children at risk: an error message must not echo it back.
    secret = "Child A disclosed 31.02.21"
    with pytest.raises(ValueError) as raised:
        parse_date(secret)
    assert "disclosed" not in str(raised.value)
    with pytest.raises(ValueError) as raised:
        parse_date("31.02.21")
    assert "31.02.21" not in str(raised.value)


# ---------------------------------------------------------------------------------------------
# is_working_day: Monday to Friday, not an England and Wales bank holiday.


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2020, 12, 24), True, id="christmas-eve-2020-thu-is-working"),
        pytest.param(date(2020, 12, 25), False, id="christmas-day-2020"),
        pytest.param(date(2020, 12, 28), False, id="boxing-day-substitute-mon-28-12-20"),
        pytest.param(date(2021, 1, 1), False, id="new-years-day-2021"),
        pytest.param(date(2021, 1, 4), True, id="mon-4-1-21-scottish-only-holiday-is-working"),
        pytest.param(date(2021, 4, 2), False, id="good-friday-2021"),
        pytest.param(date(2021, 4, 5), False, id="easter-monday-2021"),
        pytest.param(date(2021, 7, 12), True, id="battle-of-the-boyne-ni-only-is-working"),
        pytest.param(date(2021, 5, 3), False, id="early-may-2021"),
        pytest.param(date(2021, 12, 27), False, id="christmas-substitute-2021"),
        pytest.param(date(2022, 1, 3), False, id="new-year-substitute-2022"),
        pytest.param(date(2020, 5, 8), False, id="ve-day-2020"),
        pytest.param(date(2022, 6, 2), False, id="platinum-jubilee-thu"),
        pytest.param(date(2022, 9, 19), False, id="state-funeral-2022"),
        pytest.param(date(2023, 5, 8), False, id="coronation-2023"),
        pytest.param(date(2021, 3, 6), False, id="saturday"),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


# ---------------------------------------------------------------------------------------------
# add_working_days: the start date is day 0.


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # Thu 24.12.20 + 10: 29, 30, 31 Dec, 4, 5, 6, 7, 8, 11, 12 Jan (25, 28 Dec and 1 Jan are
        # bank holidays).
        pytest.param(date(2020, 12, 24), 10, date(2021, 1, 12), id="christmas-2020-10-working-days"),
        # Fri 18.12.20 + 5: 21, 22, 23, 24, 29 Dec.
        pytest.param(date(2020, 12, 18), 5, date(2020, 12, 29), id="christmas-2020-5-working-days"),
        # Sat 26.12.20 + 1: Sun 27 and Mon 28 (bank holiday) skipped.
        pytest.param(date(2020, 12, 26), 1, date(2020, 12, 29), id="from-a-saturday-over-boxing-day"),
        # Mon 29.3.21 + 10: 30, 31 Mar, 1, 6, 7, 8, 9, 12, 13, 14 Apr (2 and 5 Apr bank holidays).
        pytest.param(date(2021, 3, 29), 10, date(2021, 4, 14), id="easter-2021-10-working-days"),
        pytest.param(date(2021, 4, 1), 1, date(2021, 4, 6), id="maundy-thursday-next-working-day"),
        # Thu 1.4.21 + 15: 6-9 Apr (4), 12-16 (9), 19-23 (14), 26 (15).
        pytest.param(date(2021, 4, 1), 15, date(2021, 4, 26), id="easter-2021-15-working-days"),
        # Fri 30.4.21 + 5: 4, 5, 6, 7, 10 May (3 May bank holiday).
        pytest.param(date(2021, 4, 30), 5, date(2021, 5, 10), id="early-may-2021"),
        # Mon 20.12.21 + 20: 21-24 Dec (4), 29-31 Dec (7), 4-7 Jan (11), 10-14 (16), 17-20 (20).
        pytest.param(date(2021, 12, 20), 20, date(2022, 1, 20), id="christmas-2021-20-working-days"),
        pytest.param(date(2021, 3, 5), 1, date(2021, 3, 8), id="friday-plus-one-is-monday"),
        pytest.param(date(2021, 3, 8), 0, date(2021, 3, 8), id="zero-is-the-start-date"),
    ],
)
def test_add_working_days(start: date, count: int, expected: date) -> None:
    assert add_working_days(start, count) == expected


@pytest.mark.parametrize(
    ("start", "count"),
    [
        (date(2020, 12, 24), 10),
        (date(2021, 3, 29), 10),
        (date(2021, 12, 20), 20),
        (date(2021, 3, 6), 3),
    ],
)
def test_add_working_days_lands_on_a_working_day(start: date, count: int) -> None:
    assert is_working_day(add_working_days(start, count))
