"""Calendar-month arithmetic on integer month indexes (year * 12 + month - 1).

Engines compare integers, never date strings: durable-rules would compare
"2025-10" and "2025-9" as text.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from .._errors import InputError
from ..contract import load_contract

_MONTH = re.compile(r"\A(\d{4})-(0[1-9]|1[0-2])\Z", re.ASCII)  # not full-width digits


def month_index(day: date) -> int:
    """The month index of ``day``."""
    return day.year * 12 + day.month - 1


def parse_month(text: object, field: str = "month") -> int:
    """The month index of a ``"YYYY-MM"`` string; anything else is an InputError."""
    if not isinstance(text, str):
        raise InputError(field, text, "a billing month must be a 'YYYY-MM' string")
    match = _MONTH.match(text)
    if match is None:
        raise InputError(field, text, "a billing month must be exactly 'YYYY-MM'")
    problem = load_contract().year_problem(int(match.group(1)))
    if problem is not None:
        raise InputError(field, text, problem)
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_text(index: int) -> str:
    """``"YYYY-MM"`` for a month index."""
    year, month0 = divmod(index, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def first_day(index: int) -> date:
    """The first day of the month ``index``."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def last_day(index: int) -> date:
    """The last day of the month ``index`` (leap years included)."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])
