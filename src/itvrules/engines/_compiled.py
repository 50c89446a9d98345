"""The compiled engine: each decision table becomes one generated Python function.

The generated code is a straight chain of ``if`` tests over the facts in table
order (first hit wins), so it runs as fast as a hand-written evaluator while
the rules stay data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..policy._conditions import AllOf, AnyOf, Compare, Condition
from ..policy._document import PolicyDocument, Rule
from ..policy._facts import FIELDS
from ._protocol import NoRuleMatched

_PY_OP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
          "in": "in", "not_in": "not in"}


def python_expression(cond: Condition) -> str:
    """Python source for ``cond`` over local names equal to the fact fields."""
    if isinstance(cond, Compare):
        if isinstance(cond.value, bool):
            # `is` for booleans: facts carry real bools, and `1 == True` must not match.
            return f"({cond.field} is {cond.value!r})" if cond.op == "eq" else \
                f"({cond.field} is not {cond.value!r})"
        return f"({cond.field} {_PY_OP[cond.op]} {cond.value!r})"
    if isinstance(cond, AllOf):
        return "(" + " and ".join(python_expression(p) for p in cond.parts) + ")" if cond.parts else "True"
    if isinstance(cond, AnyOf):
        return "(" + " or ".join(python_expression(p) for p in cond.parts) + ")" if cond.parts else "False"
    raise TypeError(cond)


def compile_table(name: str, fields: Sequence[str], rules: Sequence[Rule]) -> Callable[..., int]:
    """One function ``decide(*facts) -> rule index`` (``-1`` on a gap)."""
    lines = [f"def decide_{name}({', '.join(fields)}):"]
    for index, rule in enumerate(rules):
        lines.append(f"    if {python_expression(rule.when)}:  # {rule.id}")
        lines.append(f"        return {index}")
    lines.append("    return -1")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<itvrules {name} table>", "exec"), namespace)
    func: Callable[..., int] = namespace[f"decide_{name}"]
    func.__doc__ = "\n".join(lines)
    return func


class CompiledEngine:
    """Runs a policy's tables as generated Python functions."""

    name = "compiled"

    def __init__(self, document: PolicyDocument) -> None:
        self._tables: Mapping[str, Callable[..., int]] = {
            table: compile_table(table, list(FIELDS[table]), document.table(table))
            for table in FIELDS
        }

    def decide(self, table: str, facts: tuple[Any, ...]) -> int:
        index = self._tables[table](*facts)
        if index < 0:
            raise NoRuleMatched(table, dict(zip(FIELDS[table], facts, strict=False)))
        return index

    def function(self, table: str) -> Callable[..., int]:
        """The raw generated function, for hot loops that handle ``-1`` themselves."""
        return self._tables[table]
