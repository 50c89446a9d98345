"""The inputs: a broadband subscriber and a trial enrolment (SPEC §3, §5, §10).

Validators turn every bad value into an :class:`InputError` that names the
field, so a caller (or a feed's reject file) learns exactly what to fix.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

from ._enums import Community, PriorModem, Product
from ._errors import InputError
from ._parse import parse_enum

PRODUCT_ALIASES = {"品牌": "brand", "包年": "annual", "单宽月租": "single_monthly"}
COMMUNITY_ALIASES = {"未提速": "none", "正在提速": "upgrading", "已提速": "upgraded"}
PRIOR_MODEM_ALIASES = {"普通猫": "ordinary", "无": "none", "E8-B": "e8b", "e8-b": "e8b"}


def _read_enum(kind: Any, aliases: dict[str, str], value: Any) -> Any:
    try:
        return parse_enum(kind, value, aliases)
    except ValueError:
        return _Bad(value)


def _to_product(value: Any) -> Any:
    return _read_enum(Product, PRODUCT_ALIASES, value)


def _to_community(value: Any) -> Any:
    return _read_enum(Community, COMMUNITY_ALIASES, value)


def _to_prior_modem(value: Any) -> Any:
    return None if value is None else _read_enum(PriorModem, PRIOR_MODEM_ALIASES, value)


class _Bad:
    """A value a converter could not read, kept so the validator can name it."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _check_enum(kind: Any) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, _Bad) or not isinstance(value, kind):
            bad = value.value if isinstance(value, _Bad) else value
            allowed = ", ".join(str(m.value) for m in kind)
            raise InputError(attribute.name, bad, f"expected one of: {allowed}")

    return check


def _check_optional_enum(kind: Any) -> Any:
    check = _check_enum(kind)

    def optional(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(inst, attribute, value)

    return optional


def _check_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError(attribute.name, value, "expected non-empty text")


def _check_plan(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # Any text is a plan: unknown or malformed codes are decided as unknown_plan.
    if not isinstance(value, str):
        raise InputError(attribute.name, value, "expected a plan code as text, e.g. 'e8-68'")


def _check_optional_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InputError(attribute.name, value, "expected text or nothing")


def _check_bool(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InputError(attribute.name, value, "expected True or False")


def _check_date(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InputError(attribute.name, value, "expected a datetime.date")


def _check_optional_date(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _check_date(inst, attribute, value)


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


@attrs.frozen(slots=True)
class Subscriber:
    """A broadband subscriber as the eligibility rules see them (SPEC §3)."""

    account_id: str = attrs.field(validator=_check_text)
    plan: str = attrs.field(validator=_check_plan)
    product: Product = attrs.field(
        converter=_to_product, validator=_check_enum(Product)
    )
    community: Community = attrs.field(
        default=Community.NONE,
        converter=_to_community,
        validator=_check_enum(Community),
    )
    new_install: bool = attrs.field(default=False, validator=_check_bool)
    has_itv: bool = attrs.field(default=False, validator=_check_bool)
    line_ready: bool = attrs.field(default=True, validator=_check_bool)


@attrs.frozen(slots=True)
class Enrollment:
    """One trial order: accepted, maybe completed, returned, cancelled or switched (SPEC §5).

    A cancellation with an effective date and no request date is taken as
    requested on its effective date (SPEC §5).
    """

    account_id: str = attrs.field(validator=_check_text)
    product: Product = attrs.field(
        converter=_to_product, validator=_check_enum(Product)
    )
    accepted_on: date = attrs.field(validator=_check_date)
    completed_on: date | None = attrs.field(default=None, validator=_check_optional_date)
    returned: bool = attrs.field(default=False, validator=_check_bool)
    cancel_requested_on: date | None = attrs.field(default=None, validator=_check_optional_date)
    cancel_effective_on: date | None = attrs.field(default=None, validator=_check_optional_date)
    switched_to: str | None = attrs.field(
        default=None, converter=_blank_to_none, validator=_check_optional_text
    )
    return_reason: str | None = attrs.field(
        default=None, converter=_blank_to_none, validator=_check_optional_text
    )
    channel: str | None = attrs.field(
        default=None, converter=_blank_to_none, validator=_check_optional_text
    )
    contact_phone: str | None = attrs.field(
        default=None, converter=_blank_to_none, validator=_check_optional_text
    )
    prior_modem: PriorModem | None = attrs.field(
        default=None,
        converter=_to_prior_modem,
        validator=_check_optional_enum(PriorModem),
    )

    def __attrs_post_init__(self) -> None:
        self._check_consistency()
        if self.cancel_requested_on is None and self.cancel_effective_on is not None:
            object.__setattr__(self, "cancel_requested_on", self.cancel_effective_on)

    def _check_consistency(self) -> None:
        """The cross-field rules of SPEC §9."""
        if self.returned:
            if not self.return_reason:
                raise InputError("return_reason", self.return_reason,
                                 "a returned order needs a detailed reason (§四(四)1)")
            for name in ("completed_on", "cancel_requested_on", "cancel_effective_on"):
                if getattr(self, name) is not None:
                    raise InputError(name, getattr(self, name),
                                     "a returned order was never installed, so it has no such date")
        if self.completed_on is not None and self.completed_on < self.accepted_on:
            raise InputError("completed_on", self.completed_on,
                             f"completion is before acceptance ({self.accepted_on})")
        requested = self.cancel_requested_on
        if requested is not None and requested < self.accepted_on:
            raise InputError("cancel_requested_on", requested,
                             f"a cancellation cannot be requested before acceptance "
                             f"({self.accepted_on})")
        effective = self.cancel_effective_on
        if effective is not None:
            if requested is not None and effective < requested:
                raise InputError("cancel_effective_on", effective,
                                 f"a cancellation cannot take effect before it was requested "
                                 f"({requested})")
            if requested is None and effective < self.accepted_on:
                raise InputError("cancel_effective_on", effective,
                                 f"a cancellation cannot take effect before acceptance "
                                 f"({self.accepted_on})")
