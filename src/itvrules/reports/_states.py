"""What every report checks about its input states, and the enrolment a state stands for."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .._errors import InputError
from ..lifecycle import EnrollmentState
from ..model._inputs import Enrollment


def checked_states(states: Iterable[EnrollmentState]) -> tuple[EnrollmentState, ...]:
    """The states as a tuple, refusing non-states and a second state of one account.

    One trial per account: a duplicate would be counted twice in
    every list and figure, so it is bad input rather than something to merge.
    """
    out: list[EnrollmentState] = []
    seen: set[str] = set()
    for state in states:
        if not isinstance(state, EnrollmentState):
            raise InputError("states", state, "expected itvrules.lifecycle.EnrollmentState values")
        if state.account_id in seen:
            raise InputError("account_id", state.account_id,
                             "the same account appears twice among the states (one trial per account)")
        seen.add(state.account_id)
        out.append(state)
    return tuple(out)


def check_day(field: str, value: object) -> date:
    """``value`` if it is a plain date; reports never guess a run date."""
    if type(value) is not date:  # a datetime is a date too, but carries a clock time
        raise InputError(field, value, "expected a datetime.date")
    return value


def enrollment_from_state(state: EnrollmentState) -> Enrollment:
    """The enrolment record a replayed state stands for, so ``Policy.fee`` can bill it.

    The state carries every date the fee table reads (completion, return,
    cancellation request and effect, switch), so the fee of the rebuilt
    record is the fee of the enrolment as known on the state's ``as_of``.
    """
    try:
        return Enrollment(
            account_id=state.account_id, product=state.product, accepted_on=state.accepted_on,
            completed_on=state.completed_on, returned=state.returned_on is not None,
            return_reason=state.return_reason or None,
            cancel_requested_on=state.cancel_requested_on,
            cancel_effective_on=state.cancel_effective_on, switched_to=state.switched_to,
            channel=state.channel or None, contact_phone=state.contact_phone or None,
            prior_modem=state.prior_modem or None,
        )
    except InputError as exc:
        raise InputError(exc.field, exc.value, f"{exc.problem} (account {state.account_id})",
                         source=exc.source, row=exc.row) from None
