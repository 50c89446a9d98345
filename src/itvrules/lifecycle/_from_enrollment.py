"""Turn a CRM enrolment row into the dated events the ledger keeps."""

from __future__ import annotations

from ..model._inputs import Enrollment
from ._events import Event, EventKind


def events_from_enrollment(enr: Enrollment, *, source: str = "", source_row: int = 0) -> list[Event]:
    """The events an enrolment record implies, each dated by the record itself.

    A return has no date of its own in a CRM row: it is dated on acceptance.
    A package switch is dated on completion: the choice is recorded with the
    order and takes effect at the trial's end (the lifecycle table decides when).
    """

    def event(kind: EventKind, on: object, **data: str) -> Event:
        return Event(account_id=enr.account_id, kind=kind, on=on, data=data,  # type: ignore[arg-type]
                     source=source, source_row=source_row)

    out = [event(EventKind.ACCEPTED, enr.accepted_on, product=enr.product.value,
                 channel=enr.channel or "", contact_phone=enr.contact_phone or "",
                 prior_modem=enr.prior_modem.value if enr.prior_modem else "none")]
    if enr.returned:
        out.append(event(EventKind.RETURNED, enr.accepted_on, reason=enr.return_reason or ""))
    if enr.completed_on is not None:
        out.append(event(EventKind.INSTALLED, enr.completed_on))
        if enr.switched_to is not None:
            out.append(event(EventKind.SWITCHED, enr.completed_on, package=enr.switched_to))
    if enr.cancel_requested_on is not None:
        out.append(event(EventKind.CANCEL_REQUESTED, enr.cancel_requested_on))
    if enr.cancel_effective_on is not None:
        out.append(event(EventKind.CANCEL_EFFECTIVE, enr.cancel_effective_on))
    return out
