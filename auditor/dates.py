"""Day-first date parsing, as UK practice writes dates, and the England and Wales working-day calendar."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        ("january", "jan"),
        ("february", "feb"),
        ("march", "mar"),
        ("april", "apr"),
        ("may",),
        ("june", "jun"),
        ("july", "jul"),
        ("august", "aug"),
        ("september", "sep", "sept"),
        ("october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ],
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _number

MONTH_NAME = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_WORDED = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_NAME})\.?,?\s+(\d{{2}}|\d{{4}})", re.IGNORECASE)


def month_number(name: str) -> int:
    """1-12 for a month name or its abbreviation ('Sept', 'march')."""
    key = name.lower().rstrip(".")
    return MONTHS.get(key) or MONTHS[key[:3]]


def expand_year(year: int) -> int:
    """Two-digit years are this century: practice records are recent ('31.12.20' is 2020)."""
    return 2000 + year if year < 100 else year


def parse_date(value: str) -> date:
    """Parse a whole-string date, day first ('31/12/2020', '31.12.20', '3 March 2021') or ISO.

    Raises ValueError with a message that never repeats the value (it may be record text).
    """
    text = value.strip()
    for pattern, order in ((_ISO, "ymd"), (_NUMERIC, "dmy"), (_WORDED, "dMy")):
        match = pattern.fullmatch(text)
        if not match:
            continue
        first, second, third = match.groups()
        try:
            if order == "ymd":
                return date(int(first), int(second), int(third))
            if order == "dmy":
                return date(expand_year(int(third)), int(second), int(first))
            return date(expand_year(int(third)), month_number(second), int(first))
        except ValueError:
            raise ValueError("not a real calendar date") from None
    raise ValueError("expected a day-first date such as 31/12/2020, 31.12.20 or 2020-12-31")


def coerce_date(value: object) -> date | None:
    """Accept what readers produce: None, '', a date, a datetime (from XLSX) or a string."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    return parse_date(text)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share one set of bank holidays; holidays' "ENG" subdivision is that set
    # (Wales differs from England in none of them).
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday, not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The date `count` working days after `start` (start itself is day 0, as statutory guidance counts)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
