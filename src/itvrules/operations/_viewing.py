"""Viewing in the first 30 days from completion: whom the first-month calls reach first (§四(五)1).

The library reads "the first month" of the calls as ``first_month_days`` days from
completion, [C, C + first_month_days - 1], not the calendar month (a
completion on the 31st would otherwise have a one-day month). Work orders and
the KPI report both ask ``first_month_viewing``, so they never disagree.

Per calendar month the window touches, a daily feed wins over a monthly one:
a month with a daily record in the window sums the window's daily records; a
month without one but with a monthly figure is prorated, hours x days of the
month in the window / days of the month; any other month counts as no viewing
(from the daily feed, when the account has daily records in the window, else
named as a month without any record). The sum is rounded to 0.01 h, half up, and that rounded figure is
what is compared: silent is 0.00 h, low usage more than 0 and fewer than
``low_usage_hours``. A window with no record at all is silent.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

import attrs

from .._errors import InputError
from ..lifecycle import EnrollmentState
from ..policy._policy import Policy

HUNDREDTH = Decimal("0.01")
DAILY = "daily"
NO_RECORD = "no usage record"


@attrs.frozen
class FirstMonthViewing:
    """What an account viewed in its first ``first_month_days`` days, and how that was measured."""

    account_id: str
    start: date
    end: date
    #: viewing hours in [start, end], rounded to 0.01 h half up
    hours: Decimal
    #: ``daily``, ``prorated from monthly (2025-03: 1/31, 2025-04: 29/30)``, a mix of both, or
    #: ``no usage record``; months of the window without any record are named at the end
    basis: str
    #: some usage record (daily or monthly) touched the window
    recorded: bool
    low_usage_hours: Decimal

    @property
    def silent(self) -> bool:
        """No viewing at all in the window (沉默用户)."""
        return self.hours == 0

    @property
    def low_usage(self) -> bool:
        """Some viewing, but fewer hours than ``low_usage_hours`` (月使用量低于 10 小时)."""
        return 0 < self.hours < self.low_usage_hours

    @property
    def priority(self) -> bool:
        """Called first: silent or low usage (重点关注)."""
        return self.silent or self.low_usage


def first_month_window(policy: Policy, completed_on: date) -> tuple[date, date]:
    """[C, C + first_month_days - 1]: the first day and the last day of the calls' first month."""
    days = int(policy.parameters["first_month_days"])
    return completed_on, completed_on + timedelta(days=days - 1)


def first_month_viewing(policy: Policy, state: EnrollmentState) -> FirstMonthViewing:
    """The viewing of an installed enrolment in its first month, from the usage its state holds.

    Raises ``InputError`` (field ``hours``) naming the account and the
    day or month for recorded hours that are not a number ≥ 0.
    """
    if state.completed_on is None:
        raise InputError("completed_on", None, f"account {state.account_id} is not installed: "
                         "it has no first month")
    start, end = first_month_window(policy, state.completed_on)
    daily = {day: _hours(state.account_id, day, text) for day, text in state.daily_usage.items()
             if start.isoformat() <= day <= end.isoformat()}
    total = Decimal(0)
    daily_months: list[str] = []
    prorated: list[str] = []
    missing: list[str] = []
    with localcontext() as exact:
        exact.prec = 50
        for month, first, last in _months(start, end):
            in_month = [h for d, h in daily.items() if first.isoformat() <= d <= last.isoformat()]
            monthly = state.usage_hours.get(month)
            if not in_month and monthly is not None and monthly.strip():
                length = calendar.monthrange(first.year, first.month)[1]
                overlap = (last - first).days + 1
                total += _hours(state.account_id, month, monthly) * overlap / length
                prorated.append(f"{month}: {overlap}/{length}")
            elif daily:
                total += sum(in_month, Decimal(0))
                daily_months.append(month)
            else:
                missing.append(month)
    hours = total.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
    return FirstMonthViewing(
        account_id=state.account_id, start=start, end=end, hours=hours,
        basis=_basis(daily_months, prorated, missing), recorded=bool(daily_months or prorated),
        low_usage_hours=Decimal(str(policy.parameters["low_usage_hours"])))


def _months(start: date, end: date) -> list[tuple[str, date, date]]:
    """("YYYY-MM", first day in the window, last day in the window) of each month [start, end] touches."""
    out = []
    first = start
    while first <= end:
        last_of_month = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        last = min(last_of_month, end)
        out.append((f"{first.year:04d}-{first.month:02d}", first, last))
        first = last + timedelta(days=1)
    return out


def _basis(daily_months: list[str], prorated: list[str], missing: list[str]) -> str:
    if not daily_months and not prorated:
        return NO_RECORD
    parts = []
    if daily_months:
        parts.append(DAILY if not prorated and not missing else f"{DAILY} {', '.join(daily_months)}")
    if prorated:
        parts.append(f"prorated from monthly ({', '.join(prorated)})")
    if missing:
        parts.append(f"no record {', '.join(missing)}")
    return "; ".join(parts)


def _hours(account_id: str, when: str, text: str) -> Decimal:
    """Recorded hours as a Decimal; anything but a number ≥ 0 is an error naming where."""
    try:
        hours = Decimal(text.strip() or "0")
    except InvalidOperation:
        hours = Decimal("NaN")
    if not hours.is_finite() or hours < 0:
        raise InputError("hours", text, f"viewing hours of {when} must be a number ≥ 0",
                         source=f"account {account_id}")
    return hours

