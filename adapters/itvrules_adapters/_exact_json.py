"""JSON text with exact ``Decimal`` numbers: money reaches the file as written, never via a float.

The standard library's encoder writes no ``Decimal``; turning one into a
float first would write ``35.07`` only by luck of rounding. Here a Decimal is
written from its own digits (``Decimal("35.00")`` as ``35.00``) and a float is
refused, so no amount can pass through binary floating point on its way out.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_encode_text = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """``value`` (dicts with text keys, lists, text, bool, None, int, Decimal) as compact JSON."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def number(value: Decimal) -> str:
    """The JSON number of a finite Decimal, in positional notation (``0.06``, ``35.00``)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    return format(value, "f")


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_text(value))
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(number(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(", ")
            out.append(_encode_text(str(key)))
            out.append(": ")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(", ")
            _write(item, out)
        out.append("]")
    else:  # a float above all: it would carry binary rounding into a bill
        raise TypeError(f"cannot write a {type(value).__name__} as exact JSON")
