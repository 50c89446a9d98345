"""Compare two versions of a policy: what changed, and what it does to a real feed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import PolicyError
from .._words import plain
from ..model._inputs import Enrollment
from ..policy._facts import FIELDS

if TYPE_CHECKING:
    from ..policy._policy import Policy


@attrs.frozen
class Change:
    """One difference: ``what`` is rule, parameter, campaign, catalogue, package or lifecycle."""

    what: str
    key: str
    change: str  # added, removed, changed, moved
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        if self.change == "added":
            return f"+ {self.what} {self.key}: {_words(self.new)}"
        if self.change == "removed":
            return f"- {self.what} {self.key}: {_words(self.old)}"
        if isinstance(self.old, Mapping) and isinstance(self.new, Mapping):  # a rule's or tariff's parts
            parts = (*self.old, *(p for p in self.new if p not in self.old))
            return f"~ {self.what} {self.key} {self.change}: " + "; ".join(
                f"{part}: {_words(self.old.get(part), nested=True)} -> "
                f"{_words(self.new.get(part), nested=True)}"
                for part in parts if self.old.get(part) != self.new.get(part))
        return f"~ {self.what} {self.key} {self.change}: {_words(self.old)} -> {_words(self.new)}"


def _words(value: Any, *, nested: bool = False) -> str:
    """A changed value in words: a rule as ``when: ...; then: code=trial, charge=none``, a tariff
    as ``brand=35.00``, a rule order as ``a, b``, dates ISO; never a dict or list repr."""
    if isinstance(value, Mapping):
        if nested:
            return ", ".join(f"{k}={plain(v)}" for k, v in value.items())
        return "; ".join(f"{k}: {_words(v, nested=True)}" for k, v in value.items())
    return plain(value)


@attrs.frozen
class DecisionChange:
    """One account whose bill changes between the versions."""

    account_id: str
    old_code: str
    old_amount: Decimal
    new_code: str
    new_amount: Decimal
    old_rule: str
    new_rule: str


@attrs.frozen
class Impact:
    """What the new version does to the bills of a feed for one month."""

    month: str
    accounts: int
    changed: int
    billed_old: Decimal
    billed_new: Decimal
    examples: tuple[DecisionChange, ...]

    @property
    def delta(self) -> Decimal:
        return self.billed_new - self.billed_old


@attrs.frozen
class PolicyDiff:
    """Everything that differs between two versions of one policy."""

    policy_id: str
    old_version: str
    new_version: str
    changes: tuple[Change, ...]
    impact: Impact | None = None

    def render(self) -> str:
        lines = [f"policy {self.policy_id}: {self.old_version} -> {self.new_version}",
                 f"{len(self.changes)} change(s)"]
        lines += [f"  {c}" for c in self.changes]
        if self.impact is not None:
            i = self.impact
            lines += [f"impact on {i.accounts} account(s) billed for {i.month}:",
                      f"  {i.changed} change decision (code or amount)",
                      f"  billed {i.billed_old:.2f} -> {i.billed_new:.2f} CNY (change {i.delta:+.2f})"]
            lines += [f"  {e.account_id}: {e.old_code} {e.old_amount:.2f} ({e.old_rule}) -> "
                      f"{e.new_code} {e.new_amount:.2f} ({e.new_rule})" for e in i.examples]
        return "\n".join(lines)


def _mapping_changes(what: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            out.append(Change(what, key, "removed", old=old[key]))
        elif key not in old:
            out.append(Change(what, key, "added", new=new[key]))
        elif old[key] != new[key]:
            out.append(Change(what, key, "changed", old[key], new[key]))
    return out


def _tariff(tariff: Mapping[str, Decimal]) -> dict[str, str]:
    return {product: f"{amount:.2f}" for product, amount in tariff.items()}


def _rule_view(rule: Any) -> dict[str, Any]:
    return {"when": rule.when.describe(), "then": dict(rule.then), "clause": rule.clause,
            "text": rule.text}


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """The structural differences between two versions of the same policy."""
    if old.id != new.id:
        raise PolicyError(f"{new.source}: cannot compare policy {new.id!r} with policy "
                          f"{old.id!r} ({old.source}); a diff compares versions of one policy")
    a, b = old.document, new.document
    changes = _mapping_changes("campaign", {"first_day": a.campaign_first_day,
                                            "last_day": a.campaign_last_day},
                               {"first_day": b.campaign_first_day, "last_day": b.campaign_last_day})
    changes += _mapping_changes("parameter", a.parameters, b.parameters)
    changes += _mapping_changes("catalogue", a.families, b.families)
    changes += _mapping_changes("package", {k: _tariff(p.tariff) for k, p in a.packages.items()},
                                {k: _tariff(p.tariff) for k, p in b.packages.items()})
    changes += _mapping_changes("lifecycle state", {k: s.clause for k, s in a.lifecycle_states.items()},
                                {k: s.clause for k, s in b.lifecycle_states.items()})
    for table in FIELDS:
        old_rules = {r.id: (i, _rule_view(r)) for i, r in enumerate(a.table(table))}
        new_rules = {r.id: (i, _rule_view(r)) for i, r in enumerate(b.table(table))}
        for change in _mapping_changes(f"{table} rule", {k: v[1] for k, v in old_rules.items()},
                                       {k: v[1] for k, v in new_rules.items()}):
            if change.change == "changed":
                fields = [f for f in change.old if change.old[f] != change.new[f]]
                change = Change(change.what, change.key, "changed",
                                {f: change.old[f] for f in fields}, {f: change.new[f] for f in fields})
            changes.append(change)
        moved = [(k, old_rules[k][0], new_rules[k][0]) for k in old_rules if k in new_rules]
        order_old = [k for k, _, _ in sorted(moved, key=lambda m: m[1])]
        order_new = [k for k, _, _ in sorted(moved, key=lambda m: m[2])]
        if order_old != order_new:
            changes.append(Change(f"{table} rule", "(order)", "moved", order_old, order_new))
    return PolicyDiff(a.id, a.version, b.version, tuple(changes))


def diff_impact(old: Policy, new: Policy, enrollments: Iterable[Enrollment], month: str, *,
                examples: int = 5) -> Impact:
    """Bill ``month`` for every enrolment under both versions and count what changes."""
    accounts = changed = 0
    billed_old = billed_new = Decimal("0.00")
    shown: list[DecisionChange] = []
    for enr in enrollments:
        before, after = old.fee(enr, month), new.fee(enr, month)
        accounts += 1
        billed_old += before.amount
        billed_new += after.amount
        if (before.code, before.amount) != (after.code, after.amount):
            changed += 1
            if len(shown) < examples:
                shown.append(DecisionChange(enr.account_id, before.code, before.amount, after.code,
                                            after.amount, before.rule, after.rule))
    return Impact(month, accounts, changed, billed_old, billed_new, tuple(shown))
