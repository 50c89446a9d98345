"""The inputs: a broadband subscriber and a trial enrolment.

Validators turn every bad value into an ``InputError`` that names the
field, so a caller (or a feed's reject file) learns exactly what to fix.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

from .._errors import InputError
from ..contract import PythonChecks, load_contract, normaliser
from ._enums import Community, PriorModem, Product
from ._parse import parse_enum

_CONTRACT = load_contract()


def _aliases(field: str) -> dict[str, str]:
    """The Chinese names of an enum column's values (and their lower case), from the contract."""
    names = _CONTRACT.column(field).values
    return {**{name: value for value, name in names.items()},
            **{name.lower(): value for value, name in names.items()}}


PRODUCT_ALIASES = _aliases("product")
COMMUNITY_ALIASES = _aliases("community")
PRIOR_MODEM_ALIASES = _aliases("prior_modem")
#: The contract's record checks: every Enrollment passes them, whoever builds it.
RECORD_CHECKS = PythonChecks(_CONTRACT.scoped("record"), "record", _CONTRACT.kind)


_account_normal = normaliser("account_id")


def _to_account(value: Any) -> Any:
    """An account id in its normal form (the contract's ``normal_form``), whoever builds the
    record: a feed, a frame or a caller. Text with nothing left is kept as given, and anything
    else left as it is, for the validator to name."""
    return (_account_normal(value) or value) if isinstance(value, str) else value


_package_normal = normaliser("switched_to")


def _read_enum(kind: Any, aliases: dict[str, str], value: Any, field: str) -> Any:
    try:
        return parse_enum(kind, normaliser(field)(value) if isinstance(value, str) else value, aliases)
    except ValueError:
        return _Bad(value)


def _to_product(value: Any) -> Any:
    return _read_enum(Product, PRODUCT_ALIASES, value, "product")


def _to_community(value: Any) -> Any:
    return _read_enum(Community, COMMUNITY_ALIASES, value, "community")


def _to_prior_modem(value: Any) -> Any:
    return None if value is None else _read_enum(PriorModem, PRIOR_MODEM_ALIASES, value, "prior_modem")


def _to_package_or_none(value: object) -> object:
    """A blank ``switched_to`` is none; a package's name or code in its normal form."""
    return _blank_to_none(_package_normal(value) if isinstance(value, str) else value)


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
            raise InputError(attribute.name, bad, _CONTRACT.cell_problem("enum", values=allowed))

    return check


def _check_optional_enum(kind: Any) -> Any:
    check = _check_enum(kind)

    def optional(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(inst, attribute, value)

    return optional


def _check_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _account_normal(value):
        raise InputError(attribute.name, value, _CONTRACT.cell_problem("text"))


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
    """A broadband subscriber as the eligibility rules see them."""

    account_id: str = attrs.field(converter=_to_account, validator=_check_text)
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
    """One trial order: accepted, maybe completed, returned, cancelled or switched.

    A cancellation with an effective date and no request date is taken as
    requested on its effective date.
    """

    account_id: str = attrs.field(converter=_to_account, validator=_check_text)
    product: Product = attrs.field(
        converter=_to_product, validator=_check_enum(Product)
    )
    accepted_on: date = attrs.field(validator=_check_date)
    completed_on: date | None = attrs.field(default=None, validator=_check_optional_date)
    returned: bool = attrs.field(default=False, validator=_check_bool)
    cancel_requested_on: date | None = attrs.field(default=None, validator=_check_optional_date)
    cancel_effective_on: date | None = attrs.field(default=None, validator=_check_optional_date)
    switched_to: str | None = attrs.field(
        default=None, converter=_to_package_or_none, validator=_check_optional_text
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
        """The contract's record checks, in its order: the first that fails raises."""
        error = RECORD_CHECKS.object_error(self)
        if error is not None:
            raise error


#: The order the model reads an enrolment's cells in (its fields' order): a cell that cannot be
#: read is reported for the first such field, and the bulk paths sort their cell checks by it.
CELL_ORDER: dict[str, int] = {name: at for at, name in enumerate(attrs.fields_dict(Enrollment))}
