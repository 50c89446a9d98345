"""The state of one enrolment as of a day, as replay derives it from its events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs


@attrs.frozen
class Transition:
    """One step of the lifecycle: an event moved (or kept) the enrolment in a state."""

    on: date
    event: str
    from_state: str
    to_state: str
    rule: str
    clause: str


@attrs.frozen
class TerminalChange:
    """What the terminal rules did at install, cancellation or conversion."""

    on: date
    change: str
    rule: str
    clause: str
    scheme_add: tuple[str, ...] = ()
    scheme_remove: tuple[str, ...] = ()
    scheme_change: Mapping[str, str] = attrs.field(factory=dict)
    fit: tuple[str, ...] = ()
    take_back: tuple[str, ...] = ()
    recovery_order: bool = False


@attrs.frozen
class CallResult:
    """One outbound call to a trial user and what came of it (§四(五)1)."""

    on: date
    reached: bool
    #: a code of the policy's ``operations.call_results.outcomes``
    outcome: str
    #: a code of ``operations.call_results.problems``, or "" when none was reported
    problem: str = ""
    note: str = ""


@attrs.frozen
class EnrollmentState:
    """Where an enrolment stands on ``as_of``, and how it got there."""

    account_id: str
    as_of: date
    state: str
    accepted_on: date
    product: str
    channel: str
    contact_phone: str
    prior_modem: str
    install_due: date
    completed_on: date | None = None
    returned_on: date | None = None
    return_reason: str = ""
    cancel_requested_on: date | None = None
    cancel_effective_on: date | None = None
    switched_to: str | None = None
    #: 1..trial_months while in the trial, else None
    trial_month: int | None = None
    #: accepted, not installed and past its install due date
    install_overdue: bool = False
    item_scheme: tuple[str, ...] = ()
    transitions: tuple[Transition, ...] = ()
    terminal_changes: tuple[TerminalChange, ...] = ()
    #: cancellation-list steps done, in order, with their dates
    cancellation_steps: tuple[tuple[str, date], ...] = ()
    #: who did a step, where the step record said (step -> name)
    cancellation_step_by: Mapping[str, str] = attrs.field(factory=dict)
    #: viewing hours per month "YYYY-MM" (from a usage feed)
    usage_hours: Mapping[str, str] = attrs.field(factory=dict)
    #: viewing hours per day "YYYY-MM-DD" (from a daily usage feed)
    daily_usage: Mapping[str, str] = attrs.field(factory=dict)
    #: outbound calls made, in date order (from a call-result feed)
    calls: tuple[CallResult, ...] = ()
    #: terminals still at the customer's that the trial fitted
    fitted: tuple[str, ...] = ()
    recovered: tuple[str, ...] = ()
    #: the day of the latest terminal recovery, if any
    recovered_on: date | None = None
    #: terminals taken from stock: (terminal, condition, depot)
    allocations: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO dates) for projections and exports."""
        from ..model._convert import unstructure

        return dict(unstructure(self))
