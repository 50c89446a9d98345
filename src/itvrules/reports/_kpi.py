"""The campaign's key figures on a run date, computed from replayed states and the policy.

Each figure answers a line of the notice: the trial rate of new installs
against its target (§二(三)), conversions and cancellations (§四(二)2,
§四(五)2), what the free months cost (§三, §四(五)2), who the first-month
calls must reach first (§四(五)1), late installs (§四(四)1) and terminals
still to collect (§四(六)3). Formulas are in docs/reports.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal

import attrs

from .._errors import InputError
from ..lifecycle import EnrollmentState
from ..model._money import ZERO
from ..model._months import month_index, month_text, parse_month
from ..model._results import Eligibility
from ..operations import first_month_viewing
from ..policy._policy import Policy
from ._states import check_day, checked_states, enrollment_from_state

#: The fee codes whose waived amount is a campaign cost, always reported (even at zero).
WAIVER_CODES = ("trial", "late_cancel_waiver")
NEW_INSTALL = "new_install"


@attrs.frozen
class ChannelKpi:
    """Enrolments and outcomes of one accepting channel (it reminds and cancels, §四(五)2)."""

    channel: str
    enrolments: int
    installed: int
    in_trial: int
    converted: int
    cancel_requested: int


@attrs.frozen
class WeekKpi:
    """What happened in one campaign week, Monday to Sunday: the trend behind each figure."""

    week: str
    monday: date
    sunday: date
    #: orders accepted (受理) this week
    accepted: int
    #: installs completed (竣工) this week, and of them those within install_days of acceptance
    installed: int
    installed_on_time: int
    #: trials that became paid or switched this week
    converted: int
    #: cancellations requested this week
    cancel_requested: int

    @property
    def install_rate(self) -> Decimal | None:
        """Installs this week done within install_days; None when none was done."""
        return Decimal(self.installed_on_time) / Decimal(self.installed) if self.installed else None


@attrs.frozen
class KpiReport:
    """The key figures on ``as_of``, with fees of billing month ``month``."""

    policy_id: str
    policy_version: str
    as_of: date
    month: str
    #: §二(三): eligible new installs (distinct accounts) and those of them enrolled
    eligible_new_installs: int
    enrolled_new_installs: int
    #: enrolled / eligible as an exact Decimal; None when no new install was eligible
    trial_rate: Decimal | None
    trial_rate_target: Decimal
    #: trial_rate >= target; None when there is no rate to judge
    trial_rate_met: bool | None
    enrolments: int
    #: lifecycle state -> accounts in it, in the policy's state order (zeros included)
    states: Mapping[str, int]
    #: lifecycle state -> the notice clause the policy gives it
    state_clauses: Mapping[str, str]
    converted_paid: int
    converted_switched: int
    #: installed enrolments whose trial ended before as_of
    trials_ended: int
    #: (converted_paid + converted_switched) / trials_ended; None when no trial has ended
    conversion_rate: Decimal | None
    cancel_requested: int
    cancel_effective: int
    #: registered by the trial end, not effective by then (the support centre waives "次月")
    late_cancellations: tuple[str, ...]
    #: fee code -> sum of ``waived`` for ``month`` (trial and late_cancel_waiver always present)
    waivers: Mapping[str, Decimal]
    waived_total: Decimal
    #: sum of ``amount`` for ``month``: what the enrolments pay
    billed: Decimal
    #: fee code -> enrolments decided with it for ``month``
    fee_codes: Mapping[str, int]
    low_usage_hours: Decimal
    #: in trial, zero viewing hours in the first ``first_month_days`` days from completion
    silent_users: tuple[str, ...]
    #: in trial, more than zero but fewer than low_usage_hours in those days
    low_usage_users: tuple[str, ...]
    #: accepted, not installed and past the install due date
    overdue_installs: tuple[str, ...]
    #: cancelled enrolments with terminals still at the customer's / all taken back
    recoveries_open: tuple[str, ...]
    recoveries_done: tuple[str, ...]
    by_channel: tuple[ChannelKpi, ...]
    #: whether eligibility results were given at all; without them the trial rate is not known
    eligibility_given: bool
    #: whether any viewing hours (monthly or daily) were recorded; without them silent users are not known
    usage_given: bool
    #: §四(四)1: installs within install_days of acceptance, of all installs done
    install_days: int
    installed: int
    installed_on_time: int
    #: installed_on_time / installed; None when nothing is installed yet
    install_rate: Decimal | None
    #: every campaign week from the window's first Monday to as_of's week
    weeks: tuple[WeekKpi, ...]
    #: billing month -> Σ waived, from the campaign's first month to ``month``
    waived_by_month: Mapping[str, Decimal]


def kpi(policy: Policy, states: Iterable[EnrollmentState],
        eligibility_results: Iterable[Eligibility] | None, *, as_of: date, month: str) -> KpiReport:
    """The key figures of the campaign on ``as_of``, billing figures for ``month``.

    ``states`` are the enrolments replayed as of ``as_of`` (one per account);
    ``eligibility_results`` are the decisions of the subscribers the
    channels assessed: an eligible new install counts as enrolled when its
    account is among the states. None says they were not given, so the
    report can say so instead of showing a rate of nothing.
    """
    check_day("as_of", as_of)
    parse_month(month)
    checked = checked_states(states)
    for state in checked:
        if state.as_of != as_of:
            raise InputError("as_of", state.as_of, f"account {state.account_id} is replayed to "
                             f"{state.as_of}, the report is as of {as_of}: replay every state to "
                             f"the report's date")
    accounts = {s.account_id for s in checked}
    eligible = _eligible_new_installs(eligibility_results or ())
    enrolled = len(eligible & accounts)
    target = Decimal(str(policy.parameters["trial_rate_target"]))
    rate = Decimal(enrolled) / Decimal(len(eligible)) if eligible else None

    counts = Counter(s.state for s in checked)
    order = list(policy.document.lifecycle_states) + sorted(set(counts) - set(
        policy.document.lifecycle_states))
    ended = [s for s in checked if s.completed_on is not None
             and policy.trial_window(s.completed_on).end < as_of]
    converted = counts["converted_paid"] + counts["converted_switched"]
    waivers, billed, codes = _fees(policy, checked, month)
    low = Decimal(str(policy.parameters["low_usage_hours"]))
    viewings = [first_month_viewing(policy, s) for s in checked if s.state == "trial"]
    recovery = [s for s in checked if any(c.recovery_order for c in s.terminal_changes)]
    installed = [s for s in checked if s.completed_on is not None]
    on_time = sum(_on_time(s) for s in installed)

    return KpiReport(
        policy_id=policy.id, policy_version=policy.version, as_of=as_of, month=month,
        eligible_new_installs=len(eligible), enrolled_new_installs=enrolled,
        trial_rate=rate, trial_rate_target=target,
        trial_rate_met=None if rate is None else rate >= target,
        enrolments=len(checked), states={name: counts[name] for name in order},
        state_clauses={name: s.clause for name, s in policy.document.lifecycle_states.items()},
        converted_paid=counts["converted_paid"], converted_switched=counts["converted_switched"],
        trials_ended=len(ended),
        conversion_rate=Decimal(converted) / Decimal(len(ended)) if ended else None,
        cancel_requested=sum(s.cancel_requested_on is not None for s in checked),
        cancel_effective=sum(s.cancel_effective_on is not None for s in checked),
        late_cancellations=_sorted(s.account_id for s in ended if _late(policy, s)),
        waivers=waivers, waived_total=sum(waivers.values(), ZERO), billed=billed, fee_codes=codes,
        low_usage_hours=low,
        silent_users=_sorted(v.account_id for v in viewings if v.silent),
        low_usage_users=_sorted(v.account_id for v in viewings if v.low_usage),
        overdue_installs=_sorted(s.account_id for s in checked if s.install_overdue),
        recoveries_open=_sorted(s.account_id for s in recovery if _terminals_out(s)),
        recoveries_done=_sorted(s.account_id for s in recovery if not _terminals_out(s)),
        by_channel=_by_channel(checked),
        eligibility_given=eligibility_results is not None,
        usage_given=any(s.usage_hours or s.daily_usage for s in checked),
        install_days=int(policy.parameters["install_days"]),
        installed=len(installed), installed_on_time=on_time,
        install_rate=Decimal(on_time) / Decimal(len(installed)) if installed else None,
        weeks=_weeks(policy, checked, as_of),
        waived_by_month=_waived_by_month(policy, checked, month, waivers),
    )


def _on_time(state: EnrollmentState) -> bool:
    """Installed by the install due date: acceptance + install_days (§四(四)1)."""
    return state.completed_on is not None and state.completed_on <= state.install_due


def _converted_on(state: EnrollmentState) -> date | None:
    """The day the trial became a paid or switched subscription, if it did."""
    return next((t.on for t in state.transitions
                 if t.to_state in ("converted_paid", "converted_switched")), None)


def _weeks(policy: Policy, states: tuple[EnrollmentState, ...], as_of: date) -> tuple[WeekKpi, ...]:
    """Monday–Sunday weeks from the campaign window's first week to ``as_of``'s week."""
    first = policy.campaign_window[0]
    monday = first - timedelta(days=first.weekday())
    last = as_of - timedelta(days=as_of.weekday())
    accepted: Counter[date] = Counter()
    installed: Counter[date] = Counter()
    on_time: Counter[date] = Counter()
    converted: Counter[date] = Counter()
    cancelled: Counter[date] = Counter()

    def week_of(day: date) -> date:
        return day - timedelta(days=day.weekday())

    for s in states:
        accepted[week_of(s.accepted_on)] += 1
        if s.completed_on is not None:
            installed[week_of(s.completed_on)] += 1
            on_time[week_of(s.completed_on)] += _on_time(s)
        converted_on = _converted_on(s)
        if converted_on is not None:
            converted[week_of(converted_on)] += 1
        if s.cancel_requested_on is not None:
            cancelled[week_of(s.cancel_requested_on)] += 1
    weeks = []
    while monday <= last:
        year, number, _ = monday.isocalendar()
        weeks.append(WeekKpi(
            week=f"{year:04d}-W{number:02d}", monday=monday, sunday=monday + timedelta(days=6),
            accepted=accepted[monday], installed=installed[monday], installed_on_time=on_time[monday],
            converted=converted[monday], cancel_requested=cancelled[monday]))
        monday += timedelta(days=7)
    return tuple(weeks)


def _waived_by_month(policy: Policy, states: tuple[EnrollmentState, ...], month: str,
                     waivers: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Σ waived per billing month, the campaign's first month to ``month`` (``month`` reused)."""
    first = month_index(policy.campaign_window[0])
    last = parse_month(month)
    out: dict[str, Decimal] = {}
    for index in range(min(first, last), last):
        month_waivers, _billed, _codes = _fees(policy, states, month_text(index))
        out[month_text(index)] = sum(month_waivers.values(), ZERO)
    out[month] = sum(waivers.values(), ZERO)
    return out


def _sorted(accounts: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(accounts))


def _eligible_new_installs(results: Iterable[Eligibility]) -> set[str]:
    eligible: set[str] = set()
    for result in results:
        if not isinstance(result, Eligibility):
            raise InputError("eligibility_results", result, "expected itvrules.Eligibility values")
        if result.eligible and result.segment == NEW_INSTALL:
            eligible.add(result.account_id)
    return eligible


def _late(policy: Policy, state: EnrollmentState) -> bool:
    """Registered on or before the trial end, not effective by then: the waiver list."""
    assert state.completed_on is not None
    end = policy.trial_window(state.completed_on).end
    requested, effective = state.cancel_requested_on, state.cancel_effective_on
    return requested is not None and requested <= end and (effective is None or effective > end)


def _fees(policy: Policy, states: tuple[EnrollmentState, ...],
          month: str) -> tuple[dict[str, Decimal], Decimal, dict[str, int]]:
    waivers = dict.fromkeys(WAIVER_CODES, ZERO)
    billed = ZERO
    codes: Counter[str] = Counter()
    for fee in policy.fees((enrollment_from_state(s) for s in states), month):
        codes[fee.code] += 1
        billed += fee.amount
        if fee.waived or fee.code in waivers:
            waivers[fee.code] = waivers.get(fee.code, ZERO) + fee.waived
    return waivers, billed, dict(sorted(codes.items()))


def _terminals_out(state: EnrollmentState) -> bool:
    """Does a terminal the cancellation asked back still sit at the customer's?"""
    asked = {t for c in state.terminal_changes if c.recovery_order for t in c.take_back}
    return bool(asked & set(state.fitted))


def _by_channel(states: tuple[EnrollmentState, ...]) -> tuple[ChannelKpi, ...]:
    groups: dict[str, list[EnrollmentState]] = {}
    for state in states:
        groups.setdefault(state.channel.strip(), []).append(state)
    rows = [ChannelKpi(
        channel=channel, enrolments=len(group),
        installed=sum(s.completed_on is not None for s in group),
        in_trial=sum(s.state == "trial" for s in group),
        converted=sum(s.state in ("converted_paid", "converted_switched") for s in group),
        cancel_requested=sum(s.cancel_requested_on is not None for s in group),
    ) for channel, group in groups.items()]
    return tuple(sorted(rows, key=lambda r: (-r.enrolments, r.channel)))
