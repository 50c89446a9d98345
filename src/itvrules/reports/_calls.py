"""The weekly call report for marketing (§四(五), §四(五)1): 回访情况每周一次报市场部.

For one Monday-Sunday week: the first-month calls due, the calls made and
reached, whether the silent and low-usage users were called before the others,
what the users said, the playback problems they reported and the work orders
those opened for operations. Every enrolment is replayed to the week's Sunday;
a user's group (silent, low usage, other) is their first-month viewing as the
ledger stands on that Sunday (the same reading the work orders use).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal

import attrs

from .._errors import InputError
from ..lifecycle import EnrollmentState
from ..operations import (
    CallVocabulary,
    FirstMonthViewing,
    WorkOrder,
    WorkOrderKind,
    call_vocabulary,
    first_month_viewing,
    work_orders,
)
from ..policy._policy import Policy
from ._recipients import recipients
from ._states import check_day, checked_states
from ._weekly import parse_iso_week

SILENT = "silent"
LOW_USAGE = "low_usage"
OTHER = "other"
#: Group code -> Chinese name, in report order.
GROUPS: Mapping[str, str] = {SILENT: "沉默用户", LOW_USAGE: "低使用量用户", OTHER: "其他用户"}


def week_of(text: object) -> tuple[date, date]:
    """The Monday and Sunday of a week given as its Monday ``YYYY-MM-DD`` or as ``YYYY-Www``."""
    if isinstance(text, str) and "-W" not in text:
        try:
            monday = date.fromisoformat(text)
        except ValueError:
            raise InputError("week", text, "a week is its Monday (YYYY-MM-DD) or an ISO week "
                             "(YYYY-Www)") from None
        if monday.weekday() != 0:
            raise InputError("week", text, f"{monday.isoformat()} is a "
                             f"{monday.strftime('%A')}, not a Monday")
        return monday, monday + timedelta(days=6)
    return parse_iso_week(text)


@attrs.frozen
class CallRow:
    """One call made in the week, with the user's group as of Sunday."""

    account_id: str
    called_on: date
    group: str
    hours: Decimal
    reached: bool
    outcome: str
    problem: str
    note: str
    channel: str
    contact_phone: str


@attrs.frozen
class CallReport:
    """The call figures of one week and the lists behind them."""

    week: str
    monday: date
    sunday: date
    recipients: tuple[str, ...]
    policy_id: str
    policy_version: str
    vocabulary: CallVocabulary
    #: first-month call orders due Monday..Sunday, and how many of them got through by Sunday
    calls_due: int
    calls_due_reached: int
    #: call attempts made in the week, and those that got through
    calls_made: int
    calls_reached: int
    accounts_called: int
    accounts_reached: int
    #: group -> accounts called in the week / reached in the week (GROUPS order)
    called_by_group: Mapping[str, int]
    reached_by_group: Mapping[str, int]
    #: silent or low-usage users in their first month on Sunday, in the trial, never reached
    priority_waiting: tuple[str, ...]
    #: calls to other users made on a day when a silent or low-usage user in their first month
    #: had not been called yet
    others_before_priority: int
    #: outcome code -> calls of the week (every outcome of the policy, zeros included)
    outcomes: Mapping[str, int]
    #: problem code -> calls of the week that reported it (every problem, zeros included)
    problems: Mapping[str, int]
    #: playback-problem orders opened by this week's calls (for operations, §四(五)1)
    playback_orders: tuple[WorkOrder, ...]
    calls: tuple[CallRow, ...]

    @property
    def priority_first(self) -> bool:
        """No other user was called while a silent or low-usage user still waited for a call."""
        return self.others_before_priority == 0


def call_recipients(policy: Policy) -> tuple[str, ...]:
    """Who receives the call report: ``operations.recipients.call_results`` (市场部)."""
    return recipients(policy, "call_results", "weekly call report")


def _group(viewing: FirstMonthViewing) -> str:
    if viewing.silent:
        return SILENT
    return LOW_USAGE if viewing.low_usage else OTHER


def _in_trial_on(state: EnrollmentState, day: date) -> bool:
    if state.completed_on is None or state.completed_on > day:
        return False
    return not any(t.from_state == "trial" and t.to_state != "trial" and t.on <= day
                   for t in state.transitions)


def call_report(policy: Policy, states: Iterable[EnrollmentState], week: str) -> CallReport:
    """The call report of ``week`` (its Monday ``YYYY-MM-DD`` or ``YYYY-Www``).

    Every state must be replayed to the week's Sunday exactly, so the report
    reads what was known that Sunday and nothing later.
    """
    monday, sunday = week_of(week)
    iso_year, iso_week, _ = monday.isocalendar()
    vocabulary = call_vocabulary(policy)
    recipients = call_recipients(policy)
    checked = checked_states(states)
    for state in checked:
        if state.as_of != sunday:
            raise InputError("as_of", state.as_of.isoformat(),
                             f"account {state.account_id} is replayed to {state.as_of}; the call "
                             f"report of the week of {monday} needs every state as of {sunday}")
    installed = [s for s in checked if s.completed_on is not None]
    viewing = {s.account_id: first_month_viewing(policy, s) for s in installed}
    groups = {account: _group(v) for account, v in viewing.items()}
    orders = {s.account_id: work_orders(policy, s) for s in installed}

    def in_week(day: date) -> bool:
        return monday <= day <= sunday

    due = [o for found in orders.values() for o in found
           if o.kind == WorkOrderKind.OUTBOUND_CALL and in_week(o.due)]
    rows = sorted((CallRow(account_id=s.account_id, called_on=c.on, group=groups[s.account_id],
                           hours=viewing[s.account_id].hours, reached=c.reached, outcome=c.outcome,
                           problem=c.problem, note=c.note, channel=s.channel,
                           contact_phone=s.contact_phone)
                   for s in installed for c in s.calls if in_week(c.on)),
                  key=lambda r: (r.called_on, r.account_id))
    called = {r.account_id: r.group for r in rows}
    reached = {r.account_id: r.group for r in rows if r.reached}
    priority = [s for s in installed if viewing[s.account_id].priority]
    waiting = tuple(sorted(
        s.account_id for s in priority
        if s.state == "trial" and viewing[s.account_id].start <= sunday <= viewing[s.account_id].end
        and not any(c.reached for c in s.calls)))
    outcomes = Counter(r.outcome for r in rows)
    problems = Counter(r.problem for r in rows if r.problem)
    playback = tuple(sorted(
        (o for found in orders.values() for o in found
         if o.kind == WorkOrderKind.PLAYBACK_PROBLEM and in_week(date.fromisoformat(o.details["called_on"]))),
        key=WorkOrder.sort_key))
    return CallReport(
        week=f"{iso_year:04d}-W{iso_week:02d}", monday=monday, sunday=sunday, recipients=recipients,
        policy_id=policy.id, policy_version=policy.version, vocabulary=vocabulary,
        calls_due=len(due), calls_due_reached=sum(o.status == "done" for o in due),
        calls_made=len(rows), calls_reached=sum(r.reached for r in rows),
        accounts_called=len(called), accounts_reached=len(reached),
        called_by_group={g: sum(v == g for v in called.values()) for g in GROUPS},
        reached_by_group={g: sum(v == g for v in reached.values()) for g in GROUPS},
        priority_waiting=waiting,
        others_before_priority=_others_before_priority(rows, priority, viewing),
        outcomes={code: outcomes[code] for code in vocabulary.outcomes},
        problems={code: problems[code] for code in vocabulary.problems},
        playback_orders=playback, calls=tuple(rows))


def _others_before_priority(rows: list[CallRow], priority: list[EnrollmentState],
                            viewing: Mapping[str, FirstMonthViewing]) -> int:
    """Calls to other users on a day a priority user in their first month had no call yet."""
    count = 0
    for row in rows:
        if row.group != OTHER:
            continue
        day = check_day("called_on", row.called_on)
        count += any(
            viewing[p.account_id].start <= day <= viewing[p.account_id].end
            and _in_trial_on(p, day) and not any(c.on <= day for c in p.calls)
            for p in priority)
    return count
