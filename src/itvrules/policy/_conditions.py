"""The condition language of decision-table rules: parse, negate, print.

A ``when`` block is a small tree: comparisons of one fact field with a value,
joined by ``all``/``any``. Parameters are resolved at load time, so engines
see only constants; the tree keeps the parameter names for explanations.

The input contract (``itvrules.contract``) writes its row checks in the same
language, with three additions: a comparison with another field of the row
(``{lt: {field: accepted_on}}``, a ``FieldRef`` value), ``empty``
(``{empty: true}``: no value, or only whitespace) and ``matches`` /
``not_matches`` (a portable regular expression, ``_patterns``, over the whole
value; a policy parameter's as ``{param: name}``, a ``ParamRef`` until
``bind`` puts the policy's pattern in its place). A comparison with an empty
side never holds, as in SQL, so every target evaluates a check alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._words import joined, quoted
from . import _patterns

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in")
#: Operators of a text and a portable regular expression that must match it as a whole.
PATTERN_OPERATORS = ("matches", "not_matches")
_NEGATED = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt",
            "in": "not_in", "not_in": "in"}
_SYMBOL = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
           "in": "in", "not_in": "not in", "empty": "is empty:", "matches": "matches",
           "not_matches": "does not match"}


@attrs.frozen
class FieldRef:
    """The value of another field of the same row, as the right side of a comparison."""

    field: str

    def __repr__(self) -> str:
        return self.field


@attrs.frozen
class ParamRef:
    """A policy parameter, as the right side of a contract's comparison, until ``bind``."""

    name: str

    def __repr__(self) -> str:
        return f"parameters.{self.name}"


@attrs.frozen
class Compare:
    """``field <op> value``; ``source`` says where the value came from (a literal or parameters)."""

    field: str
    op: str
    value: Any
    source: str = ""

    def describe(self) -> str:
        if self.op == "empty":
            return f"{self.field} is {'' if self.value else 'not '}empty"
        shown = self.source or (str(self.value) if self.op in PATTERN_OPERATORS else literal(self.value))
        return f"{self.field} {_SYMBOL[self.op]} {shown}"


def literal(value: Any) -> str:
    """A condition's value as an explanation writes it: ``'e9'``, ``true``, ``('a', 'b')``, ``accepted_on``.

    Text is quoted (it is a literal, not a parameter or field name); booleans
    read as the policy file writes them; a list of values is put in brackets.
    """
    if isinstance(value, FieldRef):
        return value.field
    if isinstance(value, ParamRef):
        return f"parameters.{value.name}"
    if isinstance(value, (list, tuple, frozenset, set)):
        return f"({joined(value, quoted)})"
    return quoted(value)


@attrs.frozen
class AllOf:
    """Every part holds. ``AllOf(())`` always holds."""

    parts: tuple[Condition, ...]

    def describe(self) -> str:
        if not self.parts:
            return "always"
        return " and ".join(_wrap(p) for p in self.parts)


@attrs.frozen
class AnyOf:
    """At least one part holds. ``AnyOf(())`` never holds."""

    parts: tuple[Condition, ...]

    def describe(self) -> str:
        if not self.parts:
            return "never"
        return " or ".join(_wrap(p) for p in self.parts)


Condition = Compare | AllOf | AnyOf

ALWAYS = AllOf(())


def _wrap(cond: Condition) -> str:
    text = cond.describe()
    return f"({text})" if isinstance(cond, (AllOf, AnyOf)) and len(cond.parts) > 1 else text


def negate(cond: Condition) -> Condition:
    """The condition that holds exactly when ``cond`` does not (De Morgan)."""
    if isinstance(cond, Compare):
        if cond.op == "empty":
            return Compare(cond.field, "empty", not cond.value, cond.source)
        if isinstance(cond.value, FieldRef) or cond.op in PATTERN_OPERATORS:
            raise ValueError(f"cannot negate {cond.describe()}: an empty side makes both false")
        return Compare(cond.field, _NEGATED[cond.op], cond.value, cond.source)
    if isinstance(cond, AllOf):
        return AnyOf(tuple(negate(p) for p in cond.parts))
    return AllOf(tuple(negate(p) for p in cond.parts))


def holds(cond: Condition, facts: Mapping[str, Any]) -> bool:
    """Evaluate ``cond`` on a facts mapping (the slow, obvious way: for explain and tests)."""
    if isinstance(cond, AllOf):
        return all(holds(p, facts) for p in cond.parts)
    if isinstance(cond, AnyOf):
        return any(holds(p, facts) for p in cond.parts)
    left = facts[cond.field]
    right = cond.value
    if cond.op == "empty":
        return is_empty(left) is cond.value
    if isinstance(right, FieldRef):
        right = facts[right.field]
        if is_empty(left) or is_empty(right):
            return False
    if cond.op in PATTERN_OPERATORS:
        if isinstance(right, ParamRef):
            raise ValueError(f"{cond.describe()}: the parameter is not bound to a policy's value")
        if is_empty(left):
            return False
        found = _patterns.python(right).fullmatch(left) is not None
        return found if cond.op == "matches" else not found
    if cond.op == "eq":
        return bool(left == right)
    if cond.op == "ne":
        return bool(left != right)
    if cond.op == "lt":
        return bool(left < right)
    if cond.op == "le":
        return bool(left <= right)
    if cond.op == "gt":
        return bool(left > right)
    if cond.op == "ge":
        return bool(left >= right)
    if cond.op == "in":
        return left in right
    return left not in right


def is_empty(value: object) -> bool:
    """No value: None, or text of whitespace only (what a blank cell reads as)."""
    return value is None or (isinstance(value, str) and not value.strip())


def bind(cond: Condition, parameters: Mapping[str, Any]) -> Condition:
    """``cond`` with every ``ParamRef`` replaced by that parameter's value in ``parameters``
    (a ``KeyError`` names one the policy lacks)."""
    if isinstance(cond, Compare):
        if not isinstance(cond.value, ParamRef):
            return cond
        name = cond.value.name
        return Compare(cond.field, cond.op, parameters[name], f"parameters.{name}")
    bound = tuple(bind(part, parameters) for part in cond.parts)
    return AllOf(bound) if isinstance(cond, AllOf) else AnyOf(bound)


def params_of(cond: Condition) -> set[str]:
    """The policy parameters ``cond`` reads (``ParamRef`` values)."""
    if isinstance(cond, Compare):
        return {cond.value.name} if isinstance(cond.value, ParamRef) else set()
    out: set[str] = set()
    for part in cond.parts:
        out |= params_of(part)
    return out


def fields_of(cond: Condition) -> set[str]:
    """Every fact field ``cond`` reads (a field it compares with included)."""
    if isinstance(cond, Compare):
        if isinstance(cond.value, FieldRef):
            return {cond.field, cond.value.field}
        return {cond.field}
    out: set[str] = set()
    for part in cond.parts:
        out |= fields_of(part)
    return out
