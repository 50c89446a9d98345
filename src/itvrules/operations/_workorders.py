"""Work orders derived from an enrolment's replayed state (notice §四(四)-(六)).

An order is a pure function of the state: the run date is ``state.as_of``,
never the wall clock, and an order's id is a uuid5 over (account, kind, due),
so a re-run on a later day finds the same orders with their new statuses and a
store can upsert on the id.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import attrs

from .._errors import PolicyError
from ..lifecycle import CallResult, EnrollmentState, TerminalChange
from ..model._enums import _StrEnum
from ..model._months import month_index
from ..policy._policy import Policy
from ._calls import call_vocabulary
from ._cancellations import BEFORE_INSTALL, cancellation_list
from ._viewing import first_month_viewing

#: Namespace of every work-order id (uuid5).
WORK_ORDER_NAMESPACE = uuid.UUID("0b6f3c52-9d1e-5a47-8c2e-4f7a1d9b3e60")

HIGH = "high"
NORMAL = "normal"

#: Statuses after which an order needs nothing more; every other status is open.
CLOSED_STATUSES = frozenset({"done", "closed", "returned"})


class WorkOrderKind(_StrEnum):
    """What an order asks someone to do; the order of the members is the sort order."""

    INSTALL = "install"
    MODEM_SWAP = "modem_swap"
    OUTBOUND_CALL = "outbound_call"
    EXPIRY_REMINDER = "expiry_reminder"
    CANCELLATION = "cancellation"
    RECOVERY = "recovery"
    #: 播放问题: a call reported a playback problem; 运维部 sorts it out (§四(五)1)
    PLAYBACK_PROBLEM = "playback_problem"


_RANK = {kind: rank for rank, kind in enumerate(WorkOrderKind)}

#: Notice sections of the kinds whose clause is not carried by a policy rule.
_CLAUSES = {
    WorkOrderKind.INSTALL: "§四(四)1",
    WorkOrderKind.OUTBOUND_CALL: "§四(五)1",
    WorkOrderKind.EXPIRY_REMINDER: "§四(五)2",
    WorkOrderKind.CANCELLATION: "§四(五)2",
}


#: Every key an order's ``details`` may hold, all kinds', in the order exports give them
#: columns: install, terminals (swap and recovery), call, reminder, cancellation.
DETAIL_FIELDS = (
    "accepted_on", "completed_on", "return_reason",
    "fit", "take_back", "recovered", "missing", "rule",
    "window_start", "window_end", "hours", "viewing_basis", "usage_recorded", "silent",
    "low_usage_hours", "calls", "reached_on", "outcome",
    "trial_end", "state",
    "requested_on", "effective_on", "channel", "late", "overdue", "closed_reason",
    "called_on", "problem", "problem_name", "note", "clause_text", "cleared_on",
)
#: A cancellation's details name each step done as ``step.<name>`` (its day).
STEP_PREFIX = "step."
#: The details that hold a day (ISO text); exports write them as dates, as ``due``.
DATE_DETAILS = frozenset({"accepted_on", "completed_on", "trial_end", "requested_on", "effective_on",
                          "window_start", "window_end", "reached_on", "called_on", "cleared_on"})


def detail_fields(policy: Policy) -> tuple[str, ...]:
    """Every key the details of ``policy``'s orders may hold, in export order.

    ``DETAIL_FIELDS``, then ``step.<name>`` for each of the policy's
    cancellation steps in the policy's order, so an export knows all its
    columns before the first order (a work-order file has one column a detail).
    """
    steps = policy.document.operations["cancellation_steps"]
    return (*DETAIL_FIELDS, *(f"{STEP_PREFIX}{step['step']}" for step in steps))


def is_date_detail(key: str) -> bool:
    """Whether the detail ``key`` holds a day (ISO text, or empty)."""
    return key in DATE_DETAILS or key.startswith(STEP_PREFIX)


def _to_details(value: Mapping[str, Any]) -> Mapping[str, str]:
    return {str(k): str(v) for k, v in sorted(value.items())}


@attrs.frozen
class WorkOrder:
    """One thing the operator's people must do for one account, and by when."""

    order_id: str
    account_id: str
    kind: WorkOrderKind
    due: date
    assignee: str
    priority: str
    status: str
    clause: str
    contact_phone: str = ""
    details: Mapping[str, str] = attrs.field(factory=dict, converter=_to_details, hash=False)

    @property
    def is_open(self) -> bool:
        """Whether someone still has to act on the order."""
        return self.status not in CLOSED_STATUSES

    def sort_key(self) -> tuple[date, str, int, str]:
        return self.due, self.account_id, _RANK[self.kind], self.order_id

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO due date) for lists and exports."""
        return {
            "order_id": self.order_id, "account_id": self.account_id, "kind": self.kind.value,
            "due": self.due.isoformat(), "assignee": self.assignee, "priority": self.priority,
            "status": self.status, "clause": self.clause, "contact_phone": self.contact_phone,
            "details": dict(self.details),
        }


def order_id(account_id: str, kind: WorkOrderKind | str, due: date) -> str:
    """The stable id of the order of ``kind`` due on ``due`` for ``account_id``."""
    return str(uuid.uuid5(WORK_ORDER_NAMESPACE, f"{account_id}|{kind}|{due.isoformat()}"))


class _Builder:
    """The policy data every order of one state needs, read once."""

    def __init__(self, policy: Policy, state: EnrollmentState) -> None:
        self.policy = policy
        self.state = state
        operations = policy.document.operations
        self.recipients: Mapping[str, Sequence[str]] = operations.get("recipients", {})
        self.steps: Sequence[Mapping[str, str]] = operations["cancellation_steps"]
        self.end: date | None = None
        if state.completed_on is not None:
            self.end = policy.trial_window(state.completed_on).end

    def order(self, kind: WorkOrderKind, due: date, *, assignee: str, status: str,
              clause: str | None = None, priority: str = NORMAL,
              details: Mapping[str, Any] | None = None) -> WorkOrder:
        state = self.state
        return WorkOrder(
            order_id=order_id(state.account_id, kind, due), account_id=state.account_id,
            kind=kind, due=due, assignee=assignee, priority=priority, status=status,
            clause=clause or _CLAUSES[kind], contact_phone=state.contact_phone,
            details=details or {},
        )

    def recipient(self, kind: WorkOrderKind, fallback: str) -> str:
        """``recipients.<kind>`` if the policy names one, else the first of ``recipients.<fallback>``."""
        names = self.recipients.get(kind.value)
        if names:
            return "、".join(names)
        names = self.recipients.get(fallback)
        if not names:
            raise PolicyError(f"operations.recipients names neither {kind.value} nor {fallback}: "
                              f"nobody to assign {kind.value} orders to")
        return names[0]

    # -- §四(四)1 install within install_days --------------------------------------------
    def install(self) -> WorkOrder:
        state = self.state
        details: dict[str, Any] = {"accepted_on": state.accepted_on.isoformat()}
        if state.completed_on is not None:
            status = "done"
            details["completed_on"] = state.completed_on.isoformat()
        elif state.returned_on is not None:
            status = "returned"
            details["return_reason"] = state.return_reason
        elif state.state != self.policy.document.lifecycle_initial:
            status = "closed"  # cancelled before it could be installed (§四(二)2)
        elif state.install_overdue:
            status = "overdue"
        else:
            status = "open"
        return self.order(WorkOrderKind.INSTALL, state.install_due, status=status,
                          assignee=self.recipient(WorkOrderKind.INSTALL, "recovery"),
                          priority=HIGH if status == "overdue" else NORMAL, details=details)

    # -- §四(六)4 / §四(二)1 terminals fitted and taken back at install ---------------------
    def modem_swap(self, change: TerminalChange) -> WorkOrder:
        return self.order(WorkOrderKind.MODEM_SWAP, change.on, status="done", clause=change.clause,
                          assignee=self.recipient(WorkOrderKind.MODEM_SWAP, "recovery"),
                          details={"fit": ",".join(change.fit), "take_back": ",".join(change.take_back),
                                   "rule": change.rule})

    # -- §四(五)1 first-month outbound call -----------------------------------------------
    def outbound_call(self) -> WorkOrder:
        """Due by the last of the first ``first_month_days`` days; silent and low-usage users first."""
        state = self.state
        viewing = first_month_viewing(self.policy, state)
        reached = next((c for c in state.calls if c.reached), None)
        if reached is not None:
            status = "done"
        elif state.state == "trial":
            status = "open"
        else:
            status = "closed"
        details: dict[str, Any] = {
            "window_start": viewing.start.isoformat(), "window_end": viewing.end.isoformat(),
            "hours": viewing.hours, "viewing_basis": viewing.basis,
            "usage_recorded": _yes(viewing.recorded), "silent": _yes(viewing.silent),
            "low_usage_hours": viewing.low_usage_hours, "calls": len(state.calls),
        }
        if reached is not None:
            details.update(reached_on=reached.on.isoformat(), outcome=reached.outcome)
        return self.order(
            WorkOrderKind.OUTBOUND_CALL, viewing.end, status=status,
            assignee=self.recipient(WorkOrderKind.OUTBOUND_CALL, "weekly_extract"),
            priority=HIGH if viewing.priority else NORMAL, details=details)

    # -- §四(五)1 playback problems a call reported go to 运维部 ----------------------------
    def playback_problems(self) -> list[WorkOrder]:
        """One order per call day that reported a problem; closed once a later call reached the
        user and heard of none."""
        state = self.state
        reported = [c for c in state.calls if c.problem]
        if not reported:
            return []
        vocabulary = call_vocabulary(self.policy)
        names = self.recipients.get(WorkOrderKind.PLAYBACK_PROBLEM.value)
        if not names:
            raise PolicyError("operations.recipients names nobody for playback_problem: nobody to "
                              "send the playback problems a call reported to (§四(五)1)")
        days = timedelta(days=int(self.policy.parameters["playback_problem_days"]))
        by_day: dict[date, list[CallResult]] = {}
        for call in reported:
            by_day.setdefault(call.on, []).append(call)
        orders = []
        for day, calls in sorted(by_day.items()):
            cleared = next((c for c in state.calls if c.on > day and c.reached and not c.problem),
                           None)
            problems = list(dict.fromkeys(c.problem for c in calls))
            details: dict[str, Any] = {
                "called_on": day.isoformat(), "problem": ",".join(problems),
                "problem_name": "、".join(vocabulary.problem_name(p) for p in problems),
                "note": "; ".join(c.note for c in calls if c.note),
                "clause_text": vocabulary.problem_text,
            }
            if cleared is not None:
                details["cleared_on"] = cleared.on.isoformat()
            orders.append(self.order(
                WorkOrderKind.PLAYBACK_PROBLEM, day + days, assignee="、".join(names),
                status="closed" if cleared is not None else "open",
                clause=vocabulary.problem_clause, details=details))
        return orders

    # -- §四(五)2 trial month 3: the accepting channel reminds --------------------------------
    def expiry_reminder(self, end: date) -> WorkOrder | None:
        state = self.state
        left_trial = next((t.on for t in state.transitions
                           if t.from_state == "trial" and t.to_state != "trial"), None)
        last_in_trial = left_trial if left_trial is not None else state.as_of
        if month_index(last_in_trial) < month_index(end):
            return None  # the trial never reached its last month
        return self.order(WorkOrderKind.EXPIRY_REMINDER, end,
                          status="open" if state.state == "trial" else "closed",
                          assignee=state.channel or self.steps[0]["owner"],
                          details={"trial_end": end.isoformat(), "state": state.state})

    # -- §四(五)2 the cancellation list ------------------------------------------------------
    def cancellation(self, requested: date) -> WorkOrder:
        listed = cancellation_list(self.policy, self.state)
        assert listed is not None
        end = self.end
        if listed.step is not None:
            status, owner = listed.step.step, listed.step.owner
        elif listed.closed_by == BEFORE_INSTALL:
            status, owner = "closed", self.steps[0]["owner"]
        else:
            status, owner = "done", self.steps[-1]["owner"]
        details: dict[str, Any] = {
            "requested_on": requested.isoformat(),
            "effective_on": listed.effective_on.isoformat() if listed.effective_on else "",
            "channel": listed.channel, "late": _yes(listed.late), "overdue": _yes(listed.overdue),
            **{f"{STEP_PREFIX}{step}": on.isoformat() for step, on in listed.steps_done},
        }
        if listed.closed_reason:
            details["closed_reason"] = listed.closed_reason
        urgent = listed.is_open and (listed.late or listed.overdue)
        return self.order(WorkOrderKind.CANCELLATION, max(requested, end) if end else requested,
                          status=status, assignee=owner, priority=HIGH if urgent else NORMAL,
                          details=details)

    # -- §四(六)3 the line worker takes the terminals back ------------------------------------
    def recovery(self, change: TerminalChange) -> WorkOrder:
        missing = Counter(change.take_back) - Counter(self.state.recovered)
        return self.order(WorkOrderKind.RECOVERY, change.on, clause=change.clause,
                          status="open" if missing else "done",
                          assignee=self.recipient(WorkOrderKind.RECOVERY, "recovery"),
                          details={"take_back": ",".join(change.take_back), "fit": ",".join(change.fit),
                                   "recovered": ",".join(self.state.recovered),
                                   "missing": ",".join(sorted(missing.elements())), "rule": change.rule})


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def work_orders(policy: Policy, state: EnrollmentState) -> list[WorkOrder]:
    """Every work order the enrolment's state implies on ``state.as_of``, sorted.

    Raises ``InputError`` for usage hours that are not a number and
    ``PolicyError`` when the policy names nobody for a kind of order, or
    has no ``operations.call_results`` while a call reported a problem.
    """
    build = _Builder(policy, state)
    orders = [build.install()]
    for change in state.terminal_changes:
        if change.change == "installed" and (change.fit or change.take_back):
            orders.append(build.modem_swap(change))
        elif change.change == "cancelled" and change.recovery_order:
            orders.append(build.recovery(change))
    if state.completed_on is not None and build.end is not None:
        orders.append(build.outbound_call())
        orders.extend(build.playback_problems())
        reminder = build.expiry_reminder(build.end)
        if reminder is not None:
            orders.append(reminder)
    if state.cancel_requested_on is not None:
        orders.append(build.cancellation(state.cancel_requested_on))
    return sorted(orders, key=WorkOrder.sort_key)


def due_orders(orders: Iterable[WorkOrder], *, on: date) -> list[WorkOrder]:
    """The open orders due on or before ``on``, sorted: the day's to-do list."""
    return sorted((o for o in orders if o.is_open and o.due <= on), key=WorkOrder.sort_key)
