"""How an export cell becomes text, and the formula guard for files Excel opens.

Rows reach writers as Python values (str, int, bool, Decimal yuan, date,
None); text formats render them here so every writer spells them alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

#: A cell starting with one of these is a formula to Excel; tab and
#: carriage return are on OWASP's list for the same reason.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text(value: Any) -> str:
    """The text of one cell: '' for None, true/false, ISO dates, Decimal as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Decimal, int)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def guarded(value: Any) -> str:
    """The text of a cell for a file Excel opens: free text that looks like a formula gets a ``'``.

    Only text is guarded: numbers and dates the library renders itself are left as they are.
    """
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    return text(value)


def json_value(value: Any) -> Any:
    """A JSON-ready cell: money stays an exact decimal string, dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
