"""Parsing of the spellings CRM feeds use for booleans, dates and enums."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TypeVar

from ..contract import load_contract

_TRUE = frozenset({"true", "1", "是", "y", "yes", "t"})
_FALSE = frozenset({"false", "0", "否", "n", "no", "f"})

_DATE_FORMS = (
    re.compile(r"\A(\d{4})-(\d{1,2})-(\d{1,2})\Z", re.ASCII),
    re.compile(r"\A(\d{4})/(\d{1,2})/(\d{1,2})\Z", re.ASCII),
    re.compile(r"\A(\d{4})(\d{2})(\d{2})\Z", re.ASCII),
    re.compile(r"\A(\d{4})\.(\d{1,2})\.(\d{1,2})\Z", re.ASCII),
    re.compile(r"\A(\d{4})年(\d{1,2})月(\d{1,2})日\Z", re.ASCII),
)
_EXCEL_EPOCH = date(1899, 12, 30)
#: The contract, for the words of a cell that cannot be read.
CELLS = load_contract()
#: Every character Python's ``str.strip()`` removes, for the bulk paths (Rust's idea differs:
#: ``\x1c``-``\x1f`` are whitespace only to Python); a test holds it to ``str.isspace``.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
              "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

E = TypeVar("E", bound=Enum)


def normalise_text(text: str) -> str:
    """NFKC, stripped: full-width digits and letters become ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_bool(value: object) -> bool:
    """A boolean from ``True``/``False`` or a feed spelling (true/false, 1/0, 是/否, Y/N)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = normalise_text(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(CELLS.cell_problem("bool"))


def parse_date(value: object) -> date:
    """A date from a ``date`` or from YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD (and 2025年3月31日)."""
    if isinstance(value, datetime):
        raise ValueError("expected a date, not a timestamp")
    if isinstance(value, date):
        return checked_year(value)
    if isinstance(value, str):
        text = normalise_text(value)
        for form in _DATE_FORMS:
            match = form.match(text)
            if match:
                year, month, day = (int(g) for g in match.groups())
                try:
                    found = date(year, month, day)
                except ValueError as exc:
                    if year == 0:
                        raise ValueError(str(CELLS.year_problem(year))) from None
                    raise ValueError(f"not a calendar date: {exc}") from None
                return checked_year(found)
    raise ValueError(CELLS.cell_problem("date"))


#: Excel's serial of 9999-12-31, its last day (1900 date system).
EXCEL_LAST_SERIAL = 2_958_465


def checked_year(day: date) -> date:
    """``day``, when its year is one the contract takes (``years``); else a ValueError saying so."""
    problem = CELLS.year_problem(day.year)
    if problem is not None:
        raise ValueError(problem)
    return day


def excel_serial_date(serial: float) -> date:
    """The date of an Excel serial number (1900 system, epoch 1899-12-30)."""
    if serial != serial or serial in (float("inf"), float("-inf")) or serial != int(serial) \
            or serial < 1:
        raise ValueError("an Excel date serial must be a positive whole number")
    if serial > EXCEL_LAST_SERIAL:
        raise ValueError(f"date serial out of range (Excel's last day, 9999-12-31, is "
                         f"{EXCEL_LAST_SERIAL:,})")
    return checked_year(_EXCEL_EPOCH + timedelta(days=int(serial)))


def parse_enum(kind: type[E], value: object, aliases: dict[str, str] | None = None) -> E:
    """An enum member from itself, its value, or a Chinese alias."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        text = normalise_text(value)
        key = text.lower()
        if aliases and text in aliases:
            key = aliases[text]
        try:
            return kind(key)
        except ValueError:
            pass
    raise ValueError(CELLS.cell_problem("enum", values=", ".join(str(m.value) for m in kind)))
