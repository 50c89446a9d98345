"""The contract's checks compiled to Python: one generated function per scope, for the row path.

The function tests the checks in the contract's order and returns the index of
the first that holds, or -1, as the compiled engine does for a decision table;
the message is filled in only for the row that fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from .._errors import InputError
from ..policy._conditions import AllOf, AnyOf, Compare, Condition, FieldRef, is_empty
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


def python_condition(cond: Condition) -> str:
    """Python source for ``cond`` over local names equal to the fields; an empty side is false."""
    if isinstance(cond, AllOf):
        return "(" + " and ".join(python_condition(p) for p in cond.parts) + ")" if cond.parts else "True"
    if isinstance(cond, AnyOf):
        return "(" + " or ".join(python_condition(p) for p in cond.parts) + ")" if cond.parts else "False"
    assert isinstance(cond, Compare)
    name = cond.field
    if cond.op == "empty":
        return f"_empty({name})" if cond.value else f"(not _empty({name}))"
    if isinstance(cond.value, FieldRef):
        other = cond.value.field
        return f"(not _empty({name}) and not _empty({other}) and {name} {_PY_OP[cond.op]} {other})"
    if isinstance(cond.value, bool):
        return f"({name} is {cond.value!r})" if cond.op == "eq" else f"({name} is not {cond.value!r})"
    return f"(not _empty({name}) and {name} {_PY_OP[cond.op]} {cond.value!r})"


class PythonChecks:
    """Checks (of one scope, in order) as one generated function over their fields and facts."""

    def __init__(self, checks: Sequence[Check], name: str = "checks") -> None:
        self.checks = tuple(checks)
        self.names = tuple(sorted(set().union(*(c.reads() for c in self.checks)))) if checks else ()
        lines = [f"def first_failed_{name}({', '.join(self.names)}):"]
        for index, check in enumerate(self.checks):
            lines.append(f"    if {python_condition(check.when)}:  # {check.id} {check.clause}")
            lines.append(f"        return {index}")
        lines.append("    return -1")
        namespace: dict[str, Any] = {"_empty": is_empty}
        exec(compile("\n".join(lines), f"<itvrules contract {name}>", "exec"), namespace)
        self._first: Callable[..., int] = namespace[f"first_failed_{name}"]
        self.source = "\n".join(lines)

    def first_failed(self, facts: Mapping[str, Any]) -> Check | None:
        """The first check that holds for ``facts`` (every name of ``self.names``), or None."""
        index = self._first(*(facts.get(n) for n in self.names))
        return None if index < 0 else self.checks[index]

    def error(self, facts: Mapping[str, Any]) -> InputError | None:
        """The :class:`InputError` the first failing check gives, naming its field; None if none."""
        check = self.first_failed(facts)
        if check is None:
            return None
        return InputError(check.field, facts.get(check.field), render(check.message, facts))
