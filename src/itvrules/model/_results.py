"""The answers: eligibility, trial window and fee decisions.

Every decision carries the id of the policy rule that made it and the notice
clause that rule encodes, so an exported line can always say why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from .._errors import InputError
from ._money import to_fen

_MONTH_LEN = 7


def _check_type(kind: type | tuple[type, ...], what: str) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise InputError(attribute.name, value, f"expected {what}")

    return check


def _check_optional(kind: type, what: str) -> Any:
    check = _check_type(kind, what)

    def optional(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(inst, attribute, value)

    return optional


def _check_month(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or len(value) != _MONTH_LEN or value[4] != "-":
        raise InputError(attribute.name, value, "expected a 'YYYY-MM' month")


def _check_money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise InputError(attribute.name, value, "expected a non-negative Decimal amount in CNY")


@attrs.frozen(slots=True)
class Eligibility:
    """Whether a subscriber is a trial target, and which rule said so."""

    account_id: str = attrs.field(validator=_check_type(str, "text"))
    eligible: bool = attrs.field(validator=_check_type(bool, "a boolean"))
    segment: str | None = attrs.field(validator=_check_optional(str, "a segment code"))
    reason: str = attrs.field(validator=_check_type(str, "a reason code"))
    rule: str = attrs.field(validator=_check_type(str, "a rule id"))
    clause: str = attrs.field(default="", validator=_check_type(str, "a clause mark"))
    review: bool = attrs.field(default=False, validator=_check_type(bool, "a boolean"))
    #: which policy decided: id, version and the first 12 hex digits of its content hash
    policy_id: str = attrs.field(default="", validator=_check_type(str, "a policy id"))
    policy_version: str = attrs.field(default="", validator=_check_type(str, "a policy version"))
    policy_hash: str = attrs.field(default="", validator=_check_type(str, "a policy hash"))

    def __attrs_post_init__(self) -> None:
        if self.eligible != (self.segment is not None):
            raise InputError("segment", self.segment, "an eligible result needs a segment, "
                             "an ineligible one none")


@attrs.frozen(slots=True)
class TrialWindow:
    """The free months of a trial completed on ``start`` and the contract after it."""

    start: date = attrs.field(validator=_check_type(date, "a date"))
    end: date = attrs.field(validator=_check_type(date, "a date"))
    months: tuple[str, ...] = attrs.field(validator=_check_type(tuple, "a tuple of months"))
    contract_start: str = attrs.field(default="", validator=_check_type(str, "a month"))
    contract_end: str = attrs.field(default="", validator=_check_type(str, "a month"))

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InputError("end", self.end, f"the trial cannot end before it starts ({self.start})")


@attrs.frozen(slots=True)
class FeeDecision:
    """What billing charges one enrolment for one month.

    ``gross`` is the tariff for the month, ``waived`` what the campaign gives
    away, ``amount`` what the user pays: always ``gross - waived``.
    """

    account_id: str = attrs.field(validator=_check_type(str, "text"))
    month: str = attrs.field(validator=_check_month)
    code: str = attrs.field(validator=_check_type(str, "a fee code"))
    gross: Decimal = attrs.field(validator=_check_money)
    waived: Decimal = attrs.field(validator=_check_money)
    amount: Decimal = attrs.field(validator=_check_money)
    rule: str = attrs.field(validator=_check_type(str, "a rule id"))
    clause: str = attrs.field(default="", validator=_check_type(str, "a clause mark"))
    package: str | None = attrs.field(default=None, validator=_check_optional(str, "a package code"))
    follow_up: bool = attrs.field(default=False, validator=_check_type(bool, "a boolean"))
    #: which policy decided: id, version and the first 12 hex digits of its content hash
    policy_id: str = attrs.field(default="", validator=_check_type(str, "a policy id"))
    policy_version: str = attrs.field(default="", validator=_check_type(str, "a policy version"))
    policy_hash: str = attrs.field(default="", validator=_check_type(str, "a policy hash"))

    def __attrs_post_init__(self) -> None:
        if self.amount != self.gross - self.waived:
            raise InputError("amount", self.amount,
                             f"amount must be gross - waived ({self.gross} - {self.waived})")

    @property
    def amount_fen(self) -> int:
        """The amount in integer fen, as billing tables store it."""
        return to_fen(self.amount)

    @property
    def gross_fen(self) -> int:
        return to_fen(self.gross)

    @property
    def waived_fen(self) -> int:
        return to_fen(self.waived)


_new = object.__new__
_set = object.__setattr__


def trusted_eligibility(
    account_id: str,
    eligible: bool,
    segment: str | None,
    reason: str,
    rule: str,
    clause: str,
    review: bool,
    policy_id: str,
    policy_version: str,
    policy_hash: str,
) -> Eligibility:
    """An Eligibility from a validated policy's rule result (the hot path; no re-validation)."""
    decision = _new(Eligibility)
    _set(decision, "account_id", account_id)
    _set(decision, "eligible", eligible)
    _set(decision, "segment", segment)
    _set(decision, "reason", reason)
    _set(decision, "rule", rule)
    _set(decision, "clause", clause)
    _set(decision, "review", review)
    _set(decision, "policy_id", policy_id)
    _set(decision, "policy_version", policy_version)
    _set(decision, "policy_hash", policy_hash)
    return decision


def trusted_fee(
    account_id: str,
    month: str,
    code: str,
    gross: Decimal,
    waived: Decimal,
    amount: Decimal,
    rule: str,
    clause: str,
    package: str | None,
    follow_up: bool,
    policy_id: str,
    policy_version: str,
    policy_hash: str,
) -> FeeDecision:
    """A FeeDecision from values the engines produced and already checked.

    The hot path of ``Policy.fees``: skips the validators the constructor runs
    for caller-built decisions, since these values come from a validated policy.
    """
    decision = _new(FeeDecision)
    _set(decision, "account_id", account_id)
    _set(decision, "month", month)
    _set(decision, "code", code)
    _set(decision, "gross", gross)
    _set(decision, "waived", waived)
    _set(decision, "amount", amount)
    _set(decision, "rule", rule)
    _set(decision, "clause", clause)
    _set(decision, "package", package)
    _set(decision, "follow_up", follow_up)
    _set(decision, "policy_id", policy_id)
    _set(decision, "policy_version", policy_version)
    _set(decision, "policy_hash", policy_hash)
    return decision
