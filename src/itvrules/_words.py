"""Values as people read them in messages, reports and reject files: never Python's ``repr``.

A message that says ``got datetime.date(2025, 4, 20)`` or ``Decimal('35.00')``
makes a billing clerk read Python. Every human-facing text puts a value into
words here: dates ISO (``2025-04-20``), money as written (``35.00``),
booleans ``true``/``false`` (as policy files and feeds write them), lists
joined with ``, ``, text in quotes so blanks and look-alikes show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

#: The kind of a Python value in words, for "expected text, got a number".
_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true/false"),
    (int, "a number"),
    (float, "a number"),
    (Decimal, "a number"),
    (datetime, "a date and time"),
    (date, "a date"),
    (time, "a time of day"),
    (timedelta, "a duration"),
    (str, "text"),
    (list, "a list"),
    (tuple, "a list"),
    (dict, "an object"),
)


def plain(value: Any) -> str:
    """A value without quotes: ``2025-04-20``, ``35.00``, ``true``, ``a, b``; nothing is ``none``."""
    if value is None:
        return "none"
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, Mapping):
        return json.dumps({str(k): _jsonable(v) for k, v in value.items()}, ensure_ascii=False)
    if isinstance(value, (list, tuple, set, frozenset)):
        return joined(value, plain)
    return str(value)


def quoted(value: Any, *, text: Callable[[str], str] = repr) -> str:
    """A value as a message quotes what it found: text in quotes (escapes showing), the rest plain.

    Text is quoted by ``text``: Python's quoting of a string by default
    (``'2025-02-30'``, ``"it's"``, ``'a\\tb'``), which shows a stray blank or tab;
    reject files pass ``contract.quoted``, which also writes control and
    invisible characters as ``<U+XXXX>``, as every backend does. A list
    quotes each item.
    """
    if isinstance(value, str):
        return text(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return joined(value, lambda item: quoted(item, text=text))
    return plain(value)


def kind_of(value: Any) -> str:
    """What sort of value this is, in words: ``a number``, ``a list``, ``text``."""
    for python_type, words in _KINDS:
        if isinstance(value, python_type):
            return words
    return "a value of another kind"


def joined(values: Iterable[Any], say: Any = None) -> str:
    """Items joined with ``, ``, each put into words by ``say`` (default ``plain``)."""
    say = say or plain
    items = sorted(values, key=str) if isinstance(values, (set, frozenset)) else values
    return ", ".join(say(item) for item in items)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return plain(value)
