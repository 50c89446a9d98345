"""Turn a subscriber or an enrolment and a month into flat facts every engine reads.

Facts are ints, bools and strings only: day ordinals and month indexes rather
than dates, so durable-rules (which sends messages through JSON and compares
date strings as text) and the compiled evaluator see the same values. The
field lists below are the vocabulary rule conditions may use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..model._inputs import Enrollment, Subscriber
from ..model._plans import parse_plan

#: field name -> kind ("bool", "int", "date", "str" or a tuple of allowed strings)
ELIGIBILITY_FIELDS: Mapping[str, Any] = {
    "accepted_day": "date",
    "line_ready": "bool",
    "has_itv": "bool",
    "new_install": "bool",
    "product": ("brand", "annual", "single_monthly"),
    "community": ("none", "upgrading", "upgraded"),
    "plan_known": "bool",
    "plan_family": "str",
    "plan_tier": "int",
    "plan_includes_itv": "bool",
}

FEE_FIELDS: Mapping[str, Any] = {
    "returned": "bool",
    "completed": "bool",
    "month_offset": "int",
    "cancel_requested": "bool",
    "cancel_requested_offset": "int",
    "cancel_effective": "bool",
    "cancel_effective_offset": "int",
    "months_after_effective": "int",
    "switched": "bool",
    "product": ("brand", "annual", "single_monthly"),
}

#: One enrolment event meeting its current lifecycle state. ``state``
#: values are the policy's own lifecycle states, checked when the policy loads.
LIFECYCLE_FIELDS: Mapping[str, Any] = {
    "state": "str",
    "event": ("installed", "returned", "month_started", "cancel_requested",
              "cancel_effective", "switched"),
    "has_reason": "bool",
    "switched": "bool",
    "month_offset": "int",
}

#: A lifecycle change and the modem the user had before the trial.
TERMINAL_FIELDS: Mapping[str, Any] = {
    "change": ("installed", "cancelled", "converted"),
    "prior_modem": ("ordinary", "e8b", "none"),
}

FIELDS: Mapping[str, Mapping[str, Any]] = {
    "eligibility": ELIGIBILITY_FIELDS,
    "fees": FEE_FIELDS,
    "lifecycle": LIFECYCLE_FIELDS,
    "terminals": TERMINAL_FIELDS,
}

#: Where each table sits in a policy file.
TABLE_PATHS: Mapping[str, tuple[str, ...]] = {
    "eligibility": ("eligibility",),
    "fees": ("fees",),
    "lifecycle": ("lifecycle", "transitions"),
    "terminals": ("terminals",),
}


class Catalogue:
    """The plan families a policy knows and the tier from which a family includes iTV."""

    __slots__ = ("_itv_from",)

    def __init__(self, itv_from: Mapping[str, int | None]) -> None:
        self._itv_from = dict(itv_from)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self._itv_from)

    def classify(self, plan: str) -> tuple[bool, str, int, bool]:
        """(known, family, tier, includes iTV) of a plan code; unknown codes are not errors."""
        parsed = parse_plan(plan)
        if parsed is None:
            return False, "", -1, False
        family, tier = parsed
        if family not in self._itv_from:
            return False, family, tier, False
        itv_from = self._itv_from[family]
        return True, family, tier, itv_from is not None and tier >= itv_from


def eligibility_facts(sub: Subscriber, accepted_on: date, catalogue: Catalogue) -> tuple[Any, ...]:
    """Facts in ELIGIBILITY_FIELDS order."""
    known, family, tier, includes_itv = catalogue.classify(sub.plan)
    return (
        accepted_on.toordinal(),
        sub.line_ready,
        sub.has_itv,
        sub.new_install,
        sub.product.value,
        sub.community.value,
        known,
        family,
        tier,
        includes_itv,
    )


def fee_key(enr: Enrollment) -> tuple[Any, ...]:
    """What a fee decision depends on, at month resolution: equal keys, equal decisions.

    ``(returned, completion month, request month, effective month, switched_to,
    product)``, months as indexes or None. ``Policy.fees`` builds the same tuple
    inline in its hot loop.
    """
    completed = enr.completed_on
    requested = enr.cancel_requested_on
    effective = enr.cancel_effective_on
    return (
        enr.returned,
        None if completed is None else completed.year * 12 + completed.month - 1,
        None if requested is None else requested.year * 12 + requested.month - 1,
        None if effective is None else effective.year * 12 + effective.month - 1,
        enr.switched_to,
        enr.product,
    )


def fee_facts_from_key(key: tuple[Any, ...], month: int) -> tuple[Any, ...]:
    """Facts in FEE_FIELDS order for a ``fee_key`` and a billing month index."""
    returned, completed, requested, effective, switched_to, product = key
    base = month if completed is None else completed
    return (
        returned,
        completed is not None,
        month - base,
        requested is not None,
        0 if requested is None else requested - base,
        effective is not None,
        0 if effective is None else effective - base,
        0 if effective is None else month - effective,
        switched_to is not None,
        product.value,
    )


def fee_facts(enr: Enrollment, month: int) -> tuple[Any, ...]:
    """Facts in FEE_FIELDS order for an enrolment and a billing month index."""
    return fee_facts_from_key(fee_key(enr), month)


def as_mapping(table: str, facts: tuple[Any, ...]) -> dict[str, Any]:
    """Facts as a field -> value dict (for explanations and durable-rules messages)."""
    return dict(zip(FIELDS[table], facts, strict=False))


