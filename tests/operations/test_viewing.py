"""The first month of the calls is the 30 days from completion (SPEC §8), whatever the feed.

Properties over completion days 1..31 of months of every length: the window
is [C, C+29], only usage inside it counts, and a monthly feed prorated over
the window agrees with the uniform daily feed it sums.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import itvrules
from itvrules.lifecycle import Event, replay
from itvrules.operations import HIGH, NORMAL, first_month_viewing, first_month_window, work_orders
from itvrules.reports import kpi
from strategies import completions_on_every_day, viewing_hours

POLICY = itvrules.load_policy()
CENT = Decimal("0.01")


def ev(kind: str, on: date, **data: str) -> Event:
    return Event(account_id="A1", kind=kind, on=on, data=data)


def enrolment(completed: date) -> list[Event]:
    return [ev("accepted", completed - timedelta(days=3), product="brand"),
            ev("installed", completed)]


def daily(day: date, hours: Decimal) -> Event:
    return ev("daily_usage", day + timedelta(days=1), day=day.isoformat(), hours=str(hours))


def monthly(year: int, month: int, hours: Decimal) -> Event:
    length = calendar.monthrange(year, month)[1]
    return ev("usage", date(year, month, length) + timedelta(days=1), month=f"{year:04d}-{month:02d}",
              hours=str(hours))


def months_touched(first: date, last: date) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    day = first
    while day <= last:
        if (day.year, day.month) not in out:
            out.append((day.year, day.month))
        day += timedelta(days=1)
    return out


@given(completions_on_every_day())
def test_the_window_is_the_30_days_from_completion(completed: date) -> None:
    start, end = first_month_window(POLICY, completed)
    assert (start, end) == (completed, completed + timedelta(days=29))
    assert (end - start).days + 1 == POLICY.parameters["first_month_days"] == 30


@given(completions_on_every_day(), st.lists(st.tuples(st.integers(-10, 45), viewing_hours()),
                                            max_size=25, unique_by=lambda t: t[0]))
def test_only_daily_usage_inside_the_window_counts(completed: date,
                                                   days: list[tuple[int, Decimal]]) -> None:
    as_of = completed + timedelta(days=50)
    usage = [daily(completed + timedelta(days=k), h) for k, h in days
             if completed + timedelta(days=k + 1) >= completed - timedelta(days=3)]
    state = replay(POLICY, enrolment(completed) + usage, as_of=as_of)
    viewing = first_month_viewing(POLICY, state)
    inside = sum((h for k, h in days if 0 <= k <= 29), Decimal(0))
    assert viewing.hours == inside.quantize(CENT, rounding=ROUND_HALF_UP)
    assert viewing.silent == (inside == 0)
    call = {o.kind.value: o for o in work_orders(POLICY, state)}["outbound_call"]
    assert call.priority == (HIGH if inside < 10 else NORMAL)
    assert call.due == completed + timedelta(days=29)


@given(completions_on_every_day(), viewing_hours())
def test_monthly_prorated_agrees_with_the_uniform_daily_feed_it_sums(completed: date,
                                                                      per_day: Decimal) -> None:
    start, end = first_month_window(POLICY, completed)
    touched = months_touched(start, end)
    by_day, by_month = [], []
    for year, month in touched:
        length = calendar.monthrange(year, month)[1]
        by_month.append(monthly(year, month, per_day * length))
        by_day += [daily(date(year, month, d), per_day) for d in range(1, length + 1)
                   if date(year, month, d) >= start - timedelta(days=2)]
    as_of = date(*touched[-1], 1) + timedelta(days=40)
    from_days = first_month_viewing(POLICY, replay(POLICY, enrolment(completed) + by_day, as_of=as_of))
    from_months = first_month_viewing(POLICY, replay(POLICY, enrolment(completed) + by_month,
                                                     as_of=as_of))
    assert abs(from_days.hours - from_months.hours) <= CENT
    assert from_days.hours == (per_day * 30).quantize(CENT, rounding=ROUND_HALF_UP)
    assert from_days.basis == "daily"
    assert from_months.basis.startswith("prorated from monthly (")
    shares = [part.split(": ")[1] for part in from_months.basis[len("prorated from monthly ("):-1]
              .split(", ")]
    assert sum(int(s.split("/")[0]) for s in shares) == 30  # the window's 30 days, month by month


def test_kpi_lists_and_work_orders_use_the_same_reading() -> None:
    """A user completed on 31 March with 0.5 h in March and 30 h in April is no low-usage user."""
    as_of = date(2025, 5, 2)
    events = [*enrolment(date(2025, 3, 31)), monthly(2025, 3, Decimal("0.5")),
              monthly(2025, 4, Decimal(30))]
    busy = replay(POLICY, events, as_of=as_of)
    quiet = replay(POLICY, [Event(account_id="B2", kind=e.kind, on=e.on, data=e.data)
                            for e in enrolment(date(2025, 4, 20))], as_of=as_of)
    report = kpi(POLICY, [busy, quiet], [], as_of=as_of, month="2025-05")
    assert (report.silent_users, report.low_usage_users) == (("B2",), ())
    assert first_month_viewing(POLICY, busy).hours == Decimal("29.02")


def test_an_enrolment_not_installed_has_no_first_month() -> None:
    state = replay(POLICY, enrolment(date(2025, 4, 1))[:1], as_of=date(2025, 4, 2))
    with pytest.raises(itvrules.InputError) as err:
        first_month_viewing(POLICY, state)
    assert err.value.field == "completed_on"
