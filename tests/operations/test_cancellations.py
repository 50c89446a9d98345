"""The cancellation list (§四(五)2, SPEC §8): current step, owner, age, overdue, and closing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

import itvrules
from itvrules.lifecycle import Event, replay
from itvrules.operations import (
    BEFORE_INSTALL,
    STEPS_DONE,
    TERMINALS_RECOVERED,
    CancellationList,
    Stock,
    cancellation_list,
    cancellation_steps,
    step_code,
    step_event,
    work_orders,
)

POLICY = itvrules.load_policy()
STEPS = cancellation_steps(POLICY)
LIMIT = int(POLICY.parameters["cancellation_step_days"])
REQUESTED = date(2025, 5, 20)


def ev(kind: str, on: date, **data: str) -> Event:
    return Event(account_id="A1", kind=kind, on=on, data=data)


def base(prior: str = "ordinary", *, installed: bool = True, effective: date | None = None) -> list[Event]:
    events = [ev("accepted", date(2025, 3, 25), prior_modem=prior, channel="伊山营业厅", product="brand",
                 contact_phone="13800001111")]
    if installed:
        events.append(ev("installed", date(2025, 3, 28)))
    events.append(ev("cancel_requested", REQUESTED))
    if effective is not None:
        events.append(ev("cancel_effective", effective))
    return events


def listed(events: list[Event], on: date) -> CancellationList:
    found = cancellation_list(POLICY, replay(POLICY, events, as_of=on))
    assert found is not None
    return found


def steps_done(count: int, first: date = date(2025, 5, 22)) -> list[Event]:
    return [ev("cancellation_step", first + timedelta(days=i), step=s.step)
            for i, s in enumerate(STEPS[:count])]


def test_the_policy_names_five_steps_with_owners_and_chinese_names() -> None:
    assert [s.step for s in STEPS] == ["channel", "support_centre", "marketing_review", "install_centre",
                                       "line_worker_recovery"]
    assert [s.owner for s in STEPS] == ["受理渠道", "业务支撑中心", "市场部", "县城装维中心", "线务员"]
    assert all(s.name and s.name != s.step for s in STEPS)
    assert {s.clause for s in STEPS} <= {"§四(五)2", "§四(六)3"}


def test_no_request_no_list() -> None:
    state = replay(POLICY, base()[:2], as_of=date(2025, 6, 1))
    assert cancellation_list(POLICY, state) is None


@pytest.mark.parametrize("done", range(len(STEPS)))
def test_an_open_list_waits_at_the_next_step_aged_from_the_previous_one(done: int) -> None:
    on = date(2025, 6, 10)
    found = listed(base() + steps_done(done), on)
    assert found.is_open and found.step == STEPS[done]
    assert found.owner == STEPS[done].owner
    since = REQUESTED if done == 0 else date(2025, 5, 22) + timedelta(days=done - 1)
    assert found.step_since == since
    assert found.step_age_days == (on - since).days
    assert found.open_days == (on - REQUESTED).days
    assert [s for s, _ in found.steps_done] == [s.step for s in STEPS[:done]]


@pytest.mark.parametrize(("age", "overdue"), [(0, False), (LIMIT, False), (LIMIT + 1, True)])
def test_a_step_is_overdue_once_it_waited_longer_than_the_policy_allows(age: int, overdue: bool) -> None:
    found = listed(base() + steps_done(2), date(2025, 5, 23) + timedelta(days=age))
    assert (found.step_age_days, found.overdue) == (age, overdue)


def test_the_day_limit_is_policy_data(tmp_path: Path) -> None:
    text = Path(POLICY.source).read_text(encoding="utf-8")
    path = tmp_path / "short.yaml"
    path.write_text(text.replace("cancellation_step_days: 7", "cancellation_step_days: 2"), encoding="utf-8")
    short = itvrules.load_policy(path)
    state = replay(short, base(), as_of=REQUESTED + timedelta(days=3))
    found = cancellation_list(short, state)
    assert found is not None and found.overdue
    assert not listed(base(), REQUESTED + timedelta(days=3)).overdue


def test_every_step_done_closes_the_list() -> None:
    found = listed(base(effective=date(2025, 5, 31)) + steps_done(len(STEPS)), date(2025, 6, 30))
    assert not found.is_open and found.step is None and not found.overdue
    assert (found.closed_by, found.closed_on) == (STEPS_DONE, date(2025, 5, 26))
    assert STEPS[-1].name in found.closed_reason
    assert found.open_days == 6


def test_terminals_recovered_into_stock_close_the_list_whatever_step_it_was_at() -> None:
    events = base(effective=date(2025, 5, 31)) + steps_done(2)
    partly = listed([*events, ev("terminals_recovered", date(2025, 6, 5), terminals="stb", depot="伊山")],
                    date(2025, 6, 10))
    assert partly.is_open and partly.missing == ("e8b",)
    both = [*events, ev("terminals_recovered", date(2025, 6, 5), terminals="stb", depot="伊山"),
            ev("terminals_recovered", date(2025, 6, 7), terminals="e8b", depot="伊山")]
    found = listed(both, date(2025, 6, 10))
    assert (found.is_open, found.closed_by, found.closed_on) == (False, TERMINALS_RECOVERED, date(2025, 6, 7))
    assert found.missing == () and "recovered into stock on 2025-06-07" in found.closed_reason
    assert [o.status for o in work_orders(POLICY, replay(POLICY, both, as_of=date(2025, 6, 10)))
            if o.kind.value in ("cancellation", "recovery")] == ["done", "done"]


def test_a_cancellation_before_install_is_closed_with_nothing_to_recover() -> None:
    events = base(installed=False, effective=date(2025, 5, 25))
    state = replay(POLICY, events, as_of=date(2025, 8, 1))
    found = cancellation_list(POLICY, state)
    assert found is not None and not found.is_open
    assert (found.closed_by, found.closed_on, found.missing) == (BEFORE_INSTALL, REQUESTED, ())
    assert found.closed_reason == "cancelled before install: no terminals were fitted, nothing to recover"
    orders = {o.kind.value: o for o in work_orders(POLICY, state)}
    assert "recovery" not in orders
    assert orders["cancellation"].status == "closed"
    assert Stock.from_events(POLICY, events).counts() == {}  # no stock movement


def test_a_step_on_a_cancellation_before_install_is_refused() -> None:
    with pytest.raises(itvrules.InputError, match="cancelled before install") as err:
        replay(POLICY, [*base(installed=False), ev("cancellation_step", date(2025, 5, 21), step="channel")],
               as_of=date(2025, 6, 1))
    assert err.value.field == "step"


@pytest.mark.parametrize(("extra", "says"), [
    ([ev("cancellation_step", date(2025, 5, 21), step="support_centre")],
     "out of order: asked support_centre, the next step is channel"),
    ([ev("cancellation_step", date(2025, 5, 21), step="channel"),
      ev("cancellation_step", date(2025, 5, 22), step="channel", by="王芳")],
     "channel was already done on 2025-05-21; the next step is support_centre"),
    ([*steps_done(len(STEPS)), ev("cancellation_step", date(2025, 6, 1), step="channel", by="x")],
     "the list is complete"),
])
def test_steps_out_of_order_name_the_step_asked_and_expected(extra: list[Event], says: str) -> None:
    with pytest.raises(itvrules.InputError, match=says) as err:
        replay(POLICY, [*base(), *extra], as_of=date(2025, 7, 1))
    assert "account A1" in str(err.value)


@pytest.mark.parametrize(("text", "code"), [
    ("support_centre", "support_centre"), (" 支撑中心汇总 ", "support_centre"),
    ("LINE_WORKER_RECOVERY", "line_worker_recovery"), ("线务员回收", "line_worker_recovery")])
def test_a_step_is_named_by_code_or_chinese_name(text: str, code: str) -> None:
    assert step_code(POLICY, text) == code


def test_an_unknown_step_names_every_step() -> None:
    with pytest.raises(itvrules.InputError, match="channel \\(渠道上报\\), support_centre") as err:
        step_code(POLICY, "回访")
    assert err.value.field == "step"


def test_a_step_event_keeps_who_did_it_and_the_list_shows_it() -> None:
    event = step_event(POLICY, "A1", "渠道上报", date(2025, 5, 21), by="王芳")
    assert dict(event.data) == {"step": "channel", "by": "王芳"}
    found = listed([*base(), event], date(2025, 5, 22))
    assert found.done_by == {"channel": "王芳"}
    assert found.to_dict()["steps_done"] == [{"step": "channel", "on": "2025-05-21", "by": "王芳"}]


def test_late_follows_the_waiver_rule() -> None:
    late = listed(base(), date(2025, 6, 2))  # requested in time, not effective by the trial end 05-31
    assert late.late
    assert not listed(base(effective=date(2025, 5, 31)), date(2025, 6, 2)).late
