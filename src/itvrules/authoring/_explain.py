"""Explain a decision: every rule tried in order, why each did not match, which decided.

Uses the plain reference evaluator (``_conditions.holds``) over the same facts
the engines read, and checks it agrees with the engine's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from .._errors import EngineError
from .._words import plain
from ..policy._conditions import AllOf, AnyOf, Compare, Condition, holds, literal
from ..policy._document import Rule
from ..policy._facts import FIELDS


@attrs.frozen
class RuleCheck:
    """One rule as tried: did it match, and if not, which tests failed."""

    rule: str
    clause: str
    text: str
    condition: str
    outcome: str  # "decided", "did not match" or "not reached"
    failed: tuple[str, ...] = ()


@attrs.frozen
class Explanation:
    """Why a decision came out as it did, rule by rule, with the notice's words."""

    table: str
    subject: str
    facts: Mapping[str, Any]
    checks: tuple[RuleCheck, ...]
    decided_by: str
    decision: Any

    def render(self) -> str:
        """Plain text for a terminal: the facts, then each rule in order."""
        lines = [f"{self.table} decision for {self.subject}", "facts:"]
        lines += [f"  {name} = {plain(value)}" for name, value in self.facts.items()]
        lines.append("rules, first match decides:")
        for number, check in enumerate(self.checks, 1):
            mark = {"decided": "=>", "did not match": "  ", "not reached": " ."}[check.outcome]
            lines.append(f"{mark} {number}. {check.rule} [{check.clause}] {check.outcome}")
            if check.outcome != "not reached":
                lines.append(f"       when: {check.condition}")
            lines += [f"       failed: {reason}" for reason in check.failed]
            if check.outcome == "decided":
                lines.append(f"       notice: {check.text}")
        lines += ["decision:", *(f"  {name} = {value}" for name, value in decision_fields(self.decision))]
        return "\n".join(lines)


def decision_fields(decision: Any) -> list[tuple[str, str]]:
    """(name, value in words) of each field of a decision: ``gross = 35.00``, never its repr."""
    if attrs.has(type(decision)):
        return [(name, plain(value)) for name, value in attrs.asdict(decision, recurse=False).items()]
    return [("result", plain(decision))]


def _show(field: str, value: Any, kind: Any) -> Any:
    return date.fromordinal(value).isoformat() if kind == "date" else value


def _why_not(cond: Condition, facts: Mapping[str, Any], kinds: Mapping[str, Any]) -> list[str]:
    if holds(cond, facts):
        return []
    if isinstance(cond, Compare):
        value = _show(cond.field, facts[cond.field], kinds[cond.field])
        shown = cond.describe()
        if kinds[cond.field] == "date":
            target = date.fromordinal(cond.value).isoformat()
            shown = shown if cond.source else f"{cond.field} {cond.op} {target}"
        found = plain(value) if kinds[cond.field] == "date" else literal(value)
        return [f"{shown}, but {cond.field} is {found}"]
    if isinstance(cond, AllOf):
        return [reason for part in cond.parts for reason in _why_not(part, facts, kinds)]
    assert isinstance(cond, AnyOf)
    if not cond.parts:
        return ["never holds"]
    return ["none of: " + "; ".join("; ".join(_why_not(p, facts, kinds)) for p in cond.parts)]


def explain_table(table: str, rules: tuple[Rule, ...], facts_tuple: tuple[Any, ...],
                  decided: int, subject: str, decision: Any) -> Explanation:
    """The explanation of rule ``decided`` of ``table`` for these facts."""
    kinds = FIELDS[table]
    facts = dict(zip(kinds, facts_tuple, strict=True))
    first = next((i for i, rule in enumerate(rules) if holds(rule.when, facts)), -1)
    if first != decided:
        raise EngineError(f"explanation disagrees with the engine: rule {first} vs {decided}")
    checks = []
    for index, rule in enumerate(rules):
        if index < decided:
            checks.append(RuleCheck(rule.id, rule.clause, rule.text, rule.when.describe(),
                                    "did not match", tuple(_why_not(rule.when, facts, kinds))))
        elif index == decided:
            checks.append(RuleCheck(rule.id, rule.clause, rule.text, rule.when.describe(), "decided"))
        else:
            checks.append(RuleCheck(rule.id, rule.clause, rule.text, rule.when.describe(),
                                    "not reached"))
    shown = {name: _show(name, value, kinds[name]) for name, value in facts.items()}
    return Explanation(table, subject, shown, tuple(checks), rules[decided].id, decision)
