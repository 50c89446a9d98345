"""The one cattrs converter: rows and dicts in, decisions out.

Structuring accepts what feeds and JSON carry (ISO and CRM date spellings,
booleans as true/1/是/Y, enums by value or Chinese name, money as decimal
strings); unstructuring gives JSON-ready dicts (ISO dates, money as strings).
Every failure is an ``InputError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, get_args, get_type_hints

import attrs
import cattrs
from cattrs.errors import ClassValidationError

from .._errors import InputError
from ._enums import Community, FeeCode, IneligibleReason, PriorModem, Product, Segment
from ._inputs import Enrollment, Subscriber
from ._money import parse_yuan
from ._parse import CELLS, parse_bool, parse_date
from ._results import Eligibility, FeeDecision, TrialWindow

T = TypeVar("T")


def _structure_date(value: Any, _type: Any) -> date:
    return parse_date(value)


def _structure_bool(value: Any, _type: Any) -> bool:
    return parse_bool(value)


def _structure_decimal(value: Any, _type: Any) -> Decimal:
    return parse_yuan(value)


def _structure_str(value: Any, _type: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("expected text")


def _passthrough(value: Any, _type: Any) -> Any:
    # The model's own attrs converters read enum values and Chinese names.
    return value


def _enum_value(member: Enum) -> Any:
    return member.value


def make_converter() -> cattrs.Converter:
    """A converter configured for itvrules' model and results."""
    conv = cattrs.Converter(detailed_validation=True)
    conv.register_structure_hook(date, _structure_date)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_structure_hook(str, _structure_str)
    for kind in (Product, Community, PriorModem, Segment, IneligibleReason, FeeCode):
        conv.register_structure_hook(kind, _passthrough)
        conv.register_unstructure_hook(kind, _enum_value)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_unstructure_hook(Decimal, lambda d: f"{d:.2f}")
    return conv


converter = make_converter()


def _clean(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InputError("(row)", data, f"expected a mapping of {cls.__name__} fields")
    names = {a.name for a in attrs.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(unknown[0], data[unknown[0]],
                         f"unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    out = {}
    for key, value in data.items():
        if isinstance(value, str) and not value.strip():
            value = None
        if value is not None:
            out[key] = value
    return out


_NULLABLE: dict[type, frozenset[str]] = {}


def _required_but_nullable(cls: type) -> frozenset[str]:
    """Fields with no default whose type admits None (an ineligible result's ``segment``)."""
    found = _NULLABLE.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _NULLABLE[cls] = frozenset(
            a.name for a in attrs.fields(cls)
            if a.default is attrs.NOTHING and type(None) in get_args(hints[a.name]))
    return found


def structure(data: Mapping[str, Any], cls: type[T]) -> T:
    """Build ``cls`` (Subscriber, Enrollment, or a result) from a dict of its fields.

    Blank strings count as missing, so a CSV row's empty cells take defaults.
    """
    cleaned = _clean(cls, data)
    for name in _required_but_nullable(cls):
        if name in data and name not in cleaned:
            cleaned[name] = None  # given as None or blank: a value, not a missing field
    missing = [a.name for a in attrs.fields(cls)  # type: ignore[arg-type]
               if a.default is attrs.NOTHING and a.name not in cleaned]
    if missing:
        raise InputError(missing[0], None, CELLS.cell_problem("missing", fields=", ".join(missing)))
    try:
        return converter.structure(cleaned, cls)
    except ClassValidationError as group:
        raise _first_input_error(group, cleaned) from None


def _first_input_error(group: ClassValidationError, data: Mapping[str, Any]) -> InputError:
    for exc in group.exceptions:
        if isinstance(exc, InputError):
            return exc
        for note in getattr(exc, "__notes__", ()):
            name = getattr(note, "name", None)
            if name is not None:
                return InputError(name, data.get(name), str(exc))
    return InputError("(row)", dict(data), str(group))


def unstructure(obj: Any) -> Any:
    """A JSON-ready dict of a model object or decision (ISO dates, money as '35.00')."""
    return converter.unstructure(obj)


def structure_subscriber(data: Mapping[str, Any]) -> Subscriber:
    return structure(data, Subscriber)


def structure_enrollment(data: Mapping[str, Any]) -> Enrollment:
    return structure(data, Enrollment)


__all__ = ["Eligibility", "FeeDecision", "TrialWindow", "converter", "structure", "unstructure"]
