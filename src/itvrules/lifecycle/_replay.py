"""Replay an enrolment's events through the policy's lifecycle and terminal tables.

The state lives in the events (the ledger), not in an engine session: each
event is one short-lived decision of the ``lifecycle`` table, so any number
of enrolments can be open and replaying the same events gives the same state.
A calendar event ``month_started`` is replayed at the first day of every
month, which is what moves a trial from month to month and converts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from .._errors import EngineError, InputError
from ..engines import NoRuleMatched
from ..model._months import first_day, month_index
from ..policy._policy import Policy
from ._events import LIFECYCLE_KINDS, Event, EventKind
from ._state import CallResult, EnrollmentState, TerminalChange, Transition

_INITIAL_SCHEME = {"ordinary": ("ordinary_modem",), "e8b": ("leased_e8b",), "none": ()}


class _Replay:
    """Mutable working state while one account's events are replayed."""

    def __init__(self, policy: Policy, accepted: Event, as_of: date, engine: str | None) -> None:
        self.policy = policy
        self.run = policy.engine(engine)
        self.rules = policy.rules("lifecycle")
        self.terminal_rules = policy.rules("terminals")
        self.as_of = as_of
        data = accepted.data
        self.prior_modem = data.get("prior_modem") or "none"
        if self.prior_modem not in _INITIAL_SCHEME:
            raise _located(InputError("prior_modem", self.prior_modem,
                                      "expected one of: ordinary, e8b, none"), accepted)
        self.fields: dict[str, Any] = {
            "account_id": accepted.account_id,
            "as_of": as_of,
            "accepted_on": accepted.on,
            "product": data.get("product", ""),
            "channel": data.get("channel", ""),
            "contact_phone": data.get("contact_phone", ""),
            "prior_modem": self.prior_modem,
            "install_due": accepted.on + timedelta(days=int(policy.parameters["install_days"])),
        }
        self.state = policy.document.lifecycle_initial
        self.completed_month: int | None = None
        self.switched = False
        self.scheme = list(_INITIAL_SCHEME[self.prior_modem])
        self.transitions: list[Transition] = []
        self.changes: list[TerminalChange] = []
        self.steps: list[tuple[str, date]] = []
        self.step_by: dict[str, str] = {}
        self.usage: dict[str, str] = {}
        self.daily_usage: dict[str, str] = {}
        self.calls: list[CallResult] = []
        self.fitted: list[str] = []
        #: the user's own terminals the install takes back (the old ordinary modem, §四(六)4)
        self.old_terminals: list[str] = []
        self.recovered: list[str] = []
        self.recovered_on: date | None = None
        self.allocations: list[tuple[str, str, str]] = []

    # -- the lifecycle table ---------------------------------------------------------
    def step(self, kind: str, on: date, event: Event | None) -> None:
        offset = 0 if self.completed_month is None else month_index(on) - self.completed_month
        has_reason = bool(event and event.data.get("reason", "").strip())
        facts = (self.state, kind, has_reason, self.switched, offset)
        try:
            index = self.run.decide("lifecycle", facts)
        except NoRuleMatched:
            error = InputError("kind", kind, f"event out of order: {kind} on {on} is not allowed "
                                             f"in state {self.state!r}")
            raise error if event is None else _located(error, event) from None
        rule = self.rules[index]
        target = str(rule.then.get("to", self.state))
        self.transitions.append(Transition(on, kind, self.state, target, rule.id, rule.clause))
        self._apply(kind, on, event, self.state, target)
        self.state = target

    def _apply(self, kind: str, on: date, event: Event | None, before: str, after: str) -> None:
        data = event.data if event is not None else {}
        if kind == EventKind.INSTALLED:
            self.fields["completed_on"] = on
            self.completed_month = month_index(on)
            self.terminals("installed", on)
        elif kind == EventKind.RETURNED:
            self.fields["returned_on"] = on
            self.fields["return_reason"] = data.get("reason", "")
        elif kind == EventKind.SWITCHED:
            self.switched = True
            self.fields["switched_to"] = data.get("package") or None
        elif kind == EventKind.CANCEL_REQUESTED:
            self.fields["cancel_requested_on"] = on
        elif kind == EventKind.CANCEL_EFFECTIVE:
            self.fields["cancel_effective_on"] = on
        if before != after and after in ("converted_paid", "converted_switched"):
            self.terminals("converted", on)
        if before == "cancelling" and after == "closed" and self.completed_month is not None:
            self.terminals("cancelled", on)

    # -- the terminals table ---------------------------------------------------------
    def terminals(self, change: str, on: date) -> None:
        try:
            index = self.run.decide("terminals", (change, self.prior_modem))
        except NoRuleMatched as exc:
            raise EngineError(f"the terminals table decides nothing for {change} with prior modem "
                              f"{self.prior_modem}: {exc}") from None
        rule = self.terminal_rules[index]
        then = rule.then
        outcome = TerminalChange(
            on=on, change=change, rule=rule.id, clause=rule.clause,
            scheme_add=tuple(then.get("scheme_add", ())),
            scheme_remove=tuple(then.get("scheme_remove", ())),
            scheme_change=dict(then.get("scheme_change", {})),
            fit=tuple(then.get("fit", ())), take_back=tuple(then.get("take_back", ())),
            recovery_order=bool(then.get("recovery_order", False)),
        )
        self.changes.append(outcome)
        scheme = [outcome.scheme_change.get(item, item) for item in self.scheme
                  if item not in outcome.scheme_remove]
        self.scheme = scheme + [item for item in outcome.scheme_add if item not in scheme]
        if change == "installed":
            self.fitted.extend(outcome.fit)
            self.old_terminals.extend(outcome.take_back)

    # -- operations events -----------------------------------------------------------
    def operation(self, event: Event) -> None:
        data = event.data
        if event.kind == EventKind.USAGE:
            self.usage[data.get("month", "")] = data.get("hours", "0")
        elif event.kind == EventKind.DAILY_USAGE:
            self.daily_usage[data.get("day", "")] = data.get("hours", "0")
        elif event.kind == EventKind.CALL_RESULT:
            self._call(event)
        elif event.kind == EventKind.CANCELLATION_STEP:
            self._cancellation_step(event)
        elif event.kind == EventKind.TERMINALS_RECOVERED:
            for terminal in filter(None, (t.strip() for t in data.get("terminals", "").split(","))):
                if terminal in self.old_terminals:
                    self.old_terminals.remove(terminal)
                elif terminal in self.fitted:
                    self.fitted.remove(terminal)
                else:
                    raise _located(InputError("terminals", terminal,
                                              "recovery of a terminal the trial never fitted"), event)
                self.recovered.append(terminal)
            self.recovered_on = event.on
        elif event.kind == EventKind.TERMINAL_ALLOCATED:
            self.allocations.append((data.get("terminal", ""), data.get("condition", ""),
                                     data.get("depot", "")))

    def _call(self, event: Event) -> None:
        """A call is made to a trial user: never before the install it follows up (§四(五)1)."""
        if self.fields.get("completed_on") is None:
            raise _located(InputError("called_on", event.on.isoformat(),
                                      "a call result before the install was completed"), event)
        data = event.data
        self.calls.append(CallResult(on=event.on, reached=data.get("reached") == "yes",
                                     outcome=data.get("outcome", ""), problem=data.get("problem", ""),
                                     note=data.get("note", "")))

    def _cancellation_step(self, event: Event) -> None:
        steps = [s["step"] for s in self.policy.document.operations["cancellation_steps"]]
        step = event.data.get("step", "")
        problem = step_problem(steps, self.steps, step, on=event.on,
                               requested=self.fields.get("cancel_requested_on"),
                               installed=self.completed_month is not None)
        if problem is not None:
            raise _located(InputError("step", step, problem), event)
        self.steps.append((step, event.on))
        if event.data.get("by"):
            self.step_by[step] = event.data["by"]

    def finish(self) -> EnrollmentState:
        as_of = self.as_of
        trial_month = None
        if self.state == "trial" and self.completed_month is not None:
            trial_month = month_index(as_of) - self.completed_month + 1
        overdue = self.state == self.policy.document.lifecycle_initial and \
            as_of > self.fields["install_due"]
        return EnrollmentState(
            **self.fields, state=self.state, trial_month=trial_month, install_overdue=overdue,
            item_scheme=tuple(self.scheme), transitions=tuple(self.transitions),
            terminal_changes=tuple(self.changes), cancellation_steps=tuple(self.steps),
            cancellation_step_by=dict(self.step_by), recovered_on=self.recovered_on,
            usage_hours=dict(self.usage), daily_usage=dict(self.daily_usage),
            calls=tuple(self.calls), fitted=tuple(self.fitted),
            recovered=tuple(self.recovered), allocations=tuple(self.allocations),
        )


def step_problem(steps: Sequence[str], done: Sequence[tuple[str, date]], step: str, *, on: date,
                 requested: date | None, installed: bool) -> str | None:
    """Why ``step`` cannot be recorded as done on ``on`` after the ``done`` steps, or None.

    The list moves through ``steps`` in order, one step at a time, from the
    request on (§四(五)2); a cancellation before install has no list to move.
    """
    if step not in steps:
        return f"unknown step; the list is {', '.join(steps)}"
    if requested is None:
        return "no cancellation was requested"
    if on < requested:
        return f"dated {on}, before the cancellation was requested ({requested})"
    if not installed:
        return (f"cancelled before install: the list closed when it was requested ({requested}), "
                "no terminals were fitted, nothing to recover")
    if len(done) >= len(steps):
        last, last_on = done[-1]
        return f"the list is complete: its last step {last} was done on {last_on}"
    expected = steps[len(done)]
    earlier = dict(done)
    if step in earlier:
        return f"{step} was already done on {earlier[step]}; the next step is {expected}"
    if step != expected:
        return f"out of order: asked {step}, the next step is {expected}"
    if done and on < done[-1][1]:
        return f"dated {on}, before the previous step {done[-1][0]} ({done[-1][1]})"
    return None


def _located(error: InputError, event: Event) -> InputError:
    where = event.source or f"account {event.account_id}"
    return InputError(error.field, error.value, f"{error.problem} (account {event.account_id}, "
                      f"{event.kind.value} on {event.on})", source=where,
                      row=event.source_row or None)


def replay(policy: Policy, events: Iterable[Event], *, as_of: date,
           engine: str | None = None) -> EnrollmentState:
    """The state on ``as_of`` of the enrolment whose events these are.

    Raises ``InputError`` for an event out of order, an account with no
    ``accepted`` event (an unknown enrolment), events of several accounts, an
    event dated after ``as_of`` or before acceptance, and a recovery of a
    terminal never fitted.
    """
    ordered = sorted(events, key=Event.sort_key)
    if not ordered:
        raise InputError("events", [], "no events to replay")
    account = ordered[0].account_id
    for event in ordered:
        if event.account_id != account:
            raise _located(InputError("account_id", event.account_id,
                                      f"events of several accounts ({account}) in one replay"), event)
        if event.on > as_of:
            raise _located(InputError("on", event.on, f"dated after the run date {as_of}"), event)
    accepted = [e for e in ordered if e.kind == EventKind.ACCEPTED]
    if not accepted:
        raise _located(InputError("kind", ordered[0].kind.value,
                                  "an event for an unknown enrolment: no 'accepted' event"), ordered[0])
    if len(accepted) > 1:
        raise _located(InputError("kind", "accepted",
                                  "one trial per account: a second acceptance"), accepted[1])
    work = _Replay(policy, accepted[0], as_of, engine)
    cursor = month_index(accepted[0].on)
    for event in ordered:
        if event.on < accepted[0].on:
            raise _located(InputError("on", event.on,
                                      f"before the order was accepted ({accepted[0].on})"), event)
        if event.kind == EventKind.ACCEPTED:
            continue
        while cursor < month_index(event.on):
            cursor += 1
            work.step("month_started", first_day(cursor), None)
        if event.kind in LIFECYCLE_KINDS:
            work.step(event.kind.value, event.on, event)
        else:
            work.operation(event)
    while cursor < month_index(as_of):
        cursor += 1
        work.step("month_started", first_day(cursor), None)
    return work.finish()
