"""The contract's checks compiled to Python: one generated function per scope, for the row path.

The function tests the checks in the contract's order and returns the index of
the first that holds, or -1, as the compiled engine does for a decision table;
the message is filled in only for the row that fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from operator import attrgetter, itemgetter
from typing import Any

from .._errors import InputError
from ..policy import _patterns
from ..policy._conditions import PATTERN_OPERATORS, AllOf, AnyOf, Compare, Condition, FieldRef, is_empty
from ._document import Check

_PY_OP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
          "in": "in", "not_in": "not in"}


def shown(value: object) -> str:
    """A fact's value as messages write it: dates ISO, lists joined, nothing as ``none``."""
    if value is None:
        return "none"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(v) for v in value)
    return str(value)


def render(message: str, facts: Mapping[str, Any]) -> str:
    """``message`` with every ``{name}`` replaced by that fact's value."""
    return re.sub(r"\{(\w+)\}", lambda m: shown(facts.get(m.group(1))), message)


def python_condition(cond: Condition, kind: Callable[[str], str] = lambda _name: "text") -> str:
    """Python source for ``cond`` over local names equal to the fields; an empty side is false.

    ``kind`` says which names hold text (empty when blank) rather than dates or booleans (empty
    when None), so the common tests compile to ``is None``.
    """
    def empty(name: str) -> str:
        return f"_empty({name})" if kind(name) == "text" else f"({name} is None)"

    def filled(name: str) -> str:
        return f"(not _empty({name}))" if kind(name) == "text" else f"({name} is not None)"

    if isinstance(cond, AllOf):
        return "(" + " and ".join(python_condition(p, kind) for p in cond.parts) + ")" \
            if cond.parts else "True"
    if isinstance(cond, AnyOf):
        return "(" + " or ".join(python_condition(p, kind) for p in cond.parts) + ")" \
            if cond.parts else "False"
    assert isinstance(cond, Compare)
    name = cond.field
    if cond.op == "empty":
        return empty(name) if cond.value else filled(name)
    if isinstance(cond.value, FieldRef):
        other = cond.value.field
        return f"({filled(name)} and {filled(other)} and {name} {_PY_OP[cond.op]} {other})"
    if isinstance(cond.value, bool):
        return f"({name} is {cond.value!r})" if cond.op == "eq" else f"({name} is not {cond.value!r})"
    if cond.op in PATTERN_OPERATORS:
        if not isinstance(cond.value, str):
            raise ValueError(f"{cond.describe()}: bind the check to a policy's parameters first")
        found = f"_fullmatch[{cond.value!r}]({name})"
        return f"({filled(name)} and {found} is {'not ' if cond.op == 'matches' else ''}None)"
    return f"({filled(name)} and {name} {_PY_OP[cond.op]} {cond.value!r})"


class PythonChecks:
    """Checks (of one scope, in order) as one generated function over their fields and facts."""

    def __init__(self, checks: Sequence[Check], name: str = "checks",
                 kind: Callable[[str], str] = lambda _name: "text") -> None:
        self.checks = tuple(checks)
        self.names = tuple(sorted(set().union(*(c.reads() for c in self.checks)))) if checks else ()
        lines = [f"def first_failed_{name}({', '.join(self.names)}):"]
        for index, check in enumerate(self.checks):
            lines.append(f"    if {python_condition(check.when, kind)}:  # {check.id} {check.clause}")
            lines.append(f"        return {index}")
        lines.append("    return -1")
        namespace: dict[str, Any] = {"_empty": is_empty, "_fullmatch": _FullMatch()}
        exec(compile("\n".join(lines), f"<itvrules contract {name}>", "exec"), namespace)
        self._first: Callable[..., int] = namespace[f"first_failed_{name}"]
        self.source = "\n".join(lines)
        # (fact values in ``names`` order) from a mapping or an object, at C speed
        self._values = _getter(itemgetter, self.names)
        self._attributes = _getter(attrgetter, self.names)

    def first_failed(self, facts: Mapping[str, Any]) -> Check | None:
        """The first check that holds for ``facts`` (every name of ``self.names``), or None."""
        index = self._first(*self._values(facts))
        return None if index < 0 else self.checks[index]

    def error(self, facts: Mapping[str, Any]) -> InputError | None:
        """The ``InputError`` the first failing check gives, naming its field; None if none."""
        check = self.first_failed(facts)
        if check is None:
            return None
        return InputError(check.field, facts.get(check.field), render(check.message, facts))

    def object_error(self, record: object) -> InputError | None:
        """``error`` of the facts held as attributes of ``record`` (a model object)."""
        if self._first(*self._attributes(record)) < 0:
            return None  # the common case: no mapping built
        return self.error({name: getattr(record, name) for name in self.names})


class _FullMatch(dict[str, Callable[[str], Any]]):
    """A pattern's ``fullmatch``, by the pattern, compiled the first time it is asked for."""

    def __missing__(self, pattern: str) -> Callable[[str], Any]:
        self[pattern] = found = _patterns.python(pattern).fullmatch
        return found


def _getter(kind: Callable[..., Callable[[Any], Any]],
            names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """``kind`` (itemgetter or attrgetter) of ``names`` that always returns a tuple."""
    if not names:
        return lambda _source: ()
    if len(names) == 1:
        one = kind(names[0])
        return lambda source: (one(source),)
    return kind(*names)
