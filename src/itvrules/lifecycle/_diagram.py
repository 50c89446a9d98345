"""Draw the lifecycle statechart from the policy (Mermaid), so the picture never drifts."""

from __future__ import annotations

from ..policy._conditions import AllOf, AnyOf, Compare, Condition
from ..policy._policy import Policy


def _guard(cond: Condition) -> str:
    """The transition's guard without the state and event tests the arrow already shows."""
    if isinstance(cond, Compare):
        return "" if cond.field in ("state", "event") else cond.describe()
    parts = [g for g in (_guard(p) for p in cond.parts) if g]
    joiner = " and " if isinstance(cond, AllOf) else " or "
    return joiner.join(parts) if not isinstance(cond, AnyOf) or len(parts) == len(cond.parts) else ""


def _values(cond: Condition, field: str) -> list[str]:
    if isinstance(cond, Compare):
        if cond.field != field:
            return []
        return list(cond.value) if cond.op == "in" else [str(cond.value)] if cond.op == "eq" else []
    out: list[str] = []
    for part in cond.parts:
        out.extend(_values(part, field))
    return out


def statechart_mermaid(policy: Policy) -> str:
    """A Mermaid ``stateDiagram-v2`` of the lifecycle table: states, events, guards, rule ids."""
    document = policy.document
    lines = ["stateDiagram-v2", f"    [*] --> {document.lifecycle_initial}: accepted"]
    for rule in policy.rules("lifecycle"):
        events = _values(rule.when, "event") or ["any event"]
        guard = _guard(rule.when)
        for source in _values(rule.when, "state") or list(document.lifecycle_states):
            target = str(rule.then.get("to", source))
            label = ", ".join(events) + (f" [{guard}]" if guard else "") + f" ({rule.id})"
            lines.append(f"    {source} --> {target}: {label}")
    for name, state in document.lifecycle_states.items():
        lines.append(f"    {name}: {name} {state.clause}")
        if state.final:
            lines.append(f"    {name} --> [*]")
    return "\n".join(lines) + "\n"
