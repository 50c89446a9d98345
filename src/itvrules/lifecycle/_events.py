"""Dated events of an enrolment's life: what the ledger stores and replay reads.

Events carry their own dates; nothing in a decision reads the wall clock, so
replaying the same events always gives the same states. An event's id is a
UUID over its content, so ingesting the same feed twice adds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from .._errors import InputError
from ..model._enums import _StrEnum

#: Namespace of every itvrules event id (uuid5).
EVENT_NAMESPACE = uuid.UUID("6f1c0f5e-7d0c-5b7e-9a53-2b1f0c6e4a10")


class EventKind(_StrEnum):
    """What happened. The first six drive the lifecycle table; the rest are operations."""

    ACCEPTED = "accepted"
    INSTALLED = "installed"
    RETURNED = "returned"
    SWITCHED = "switched"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_EFFECTIVE = "cancel_effective"
    #: a step of the cancellation list was done (data: ``step``)
    CANCELLATION_STEP = "cancellation_step"
    #: viewing hours of one calendar month (data: ``month``, ``hours``)
    USAGE = "usage"
    #: a line worker took terminals back (data: ``terminals`` comma-separated, ``depot``)
    TERMINALS_RECOVERED = "terminals_recovered"
    #: a terminal was taken from stock for an account (data: ``depot``, ``terminal``, ``condition``)
    TERMINAL_ALLOCATED = "terminal_allocated"
    #: terminals arrived at a depot; ``account_id`` is ``depot:<name>``
    #: (data: ``depot``, ``terminal``, ``condition``, ``quantity``)
    STOCK_RECEIVED = "stock_received"
    #: viewing hours of one day (data: ``day`` YYYY-MM-DD, ``hours``), dated the day after
    DAILY_USAGE = "daily_usage"
    #: an outbound call of the customer service centre, dated the call day (§四(五)1)
    #: (data: ``reached`` yes/no, ``outcome``, ``problem``, ``note``)
    CALL_RESULT = "call_result"


LIFECYCLE_KINDS = frozenset({EventKind.INSTALLED, EventKind.RETURNED, EventKind.SWITCHED,
                             EventKind.CANCEL_REQUESTED, EventKind.CANCEL_EFFECTIVE})

#: Order of events on the same day: an install precedes a cancellation of that day.
SAME_DAY_ORDER: Mapping[str, int] = {
    kind.value: rank for rank, kind in enumerate(EventKind)
}


def _check_kind(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, EventKind):
        allowed = ", ".join(k.value for k in EventKind)
        raise InputError(attribute.name, value, f"expected one of: {allowed}")


def _to_kind(value: Any) -> Any:
    try:
        return EventKind(value)
    except ValueError:
        return value


def _check_day(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InputError(attribute.name, value, "expected a datetime.date")


def _encodable(field: str, text: str) -> str:
    """Text that UTF-8 can carry (no lone surrogates): ids and ledgers need it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(field, text, "text with an unpaired surrogate cannot be stored") from None
    return text


def _check_account(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError(attribute.name, value, "expected non-empty text")
    _encodable(attribute.name, value)


def _to_data(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise InputError("data", value, "expected a mapping of text to text")
    return {_encodable("data", str(k)): _encodable("data", "" if v is None else str(v))
            for k, v in sorted(value.items())}


@attrs.frozen(slots=True)
class Event:
    """One dated fact about an account's enrolment."""

    account_id: str = attrs.field(validator=_check_account)
    kind: EventKind = attrs.field(converter=_to_kind, validator=_check_kind)
    on: date = attrs.field(validator=_check_day)
    data: Mapping[str, str] = attrs.field(factory=dict, converter=_to_data)
    source: str = attrs.field(default="", eq=False)
    source_row: int = attrs.field(default=0, eq=False)

    @property
    def event_id(self) -> str:
        """Stable id over the content (not the source): the same fact twice is one event."""
        body = "|".join([self.account_id, self.kind.value, self.on.isoformat(),
                         *(f"{k}={v}" for k, v in self.data.items())])
        return str(uuid.uuid5(EVENT_NAMESPACE, body))

    def sort_key(self) -> tuple[date, int]:
        return self.on, SAME_DAY_ORDER[self.kind.value]
