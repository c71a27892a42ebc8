"""Cells for spreadsheets: what CSV and XLSX exports write must never run as a formula."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Neutralise a cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return)
    by prefixing an apostrophe, which spreadsheets show as text; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
