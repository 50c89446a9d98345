"""Work orders from the replayed lifecycle (SPEC §6-8): every kind, status and priority."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import itvrules
from itvrules.lifecycle import EnrollmentState, Event, replay
from itvrules.operations import (
    DETAIL_FIELDS,
    HIGH,
    NORMAL,
    WorkOrder,
    WorkOrderKind,
    detail_fields,
    due_orders,
    is_date_detail,
    order_id,
    work_orders,
)

POLICY = itvrules.load_policy()
STEPS = list(POLICY.document.operations["cancellation_steps"])
ACCEPTED, COMPLETED = date(2025, 3, 25), date(2025, 3, 28)
TRIAL_END = date(2025, 5, 31)


def ev(kind: str, on: date, account: str = "A1", **data: str) -> Event:
    return Event(account_id=account, kind=kind, on=on, data=data)


def accept(prior: str = "ordinary", channel: str = "伊山营业厅", account: str = "A1") -> Event:
    return ev("accepted", ACCEPTED, account, prior_modem=prior, channel=channel, product="brand",
              contact_phone="13800001111")


INSTALL = ev("installed", COMPLETED)


def orders(events: list[Event], as_of: date, policy: itvrules.Policy = POLICY,
           engine: str | None = None) -> dict[str, WorkOrder]:
    found = work_orders(policy, replay(policy, events, as_of=as_of, engine=engine))
    assert len({o.kind for o in found}) == len(found), "one order per kind per enrolment"
    return {o.kind.value: o for o in found}


def variant(tmp_path: Path, old: str, new: str, base: itvrules.Policy = POLICY) -> itvrules.Policy:
    text = Path(base.source).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return itvrules.load_policy(path)


# -- install (§四(四)1) -------------------------------------------------------------------------

@pytest.mark.parametrize(("events", "as_of", "status", "priority"), [
    ([accept()], date(2025, 4, 1), "open", NORMAL),
    ([accept()], date(2025, 4, 2), "overdue", HIGH),
    ([accept(), INSTALL], date(2025, 4, 2), "done", NORMAL),
    ([accept(), ev("returned", ACCEPTED, reason="no line")], date(2025, 4, 2), "returned", NORMAL),
    ([accept(), ev("cancel_requested", date(2025, 3, 26))], date(2025, 4, 2), "closed", NORMAL),
], ids=["open", "overdue", "done", "returned", "cancelled-before-install"])
def test_install_order_status(events: list[Event], as_of: date, status: str, priority: str) -> None:
    install = orders(events, as_of)["install"]
    assert install.due == date(2025, 4, 1)  # accepted + install_days
    assert (install.status, install.priority) == (status, priority)
    assert install.clause == "§四(四)1"
    assert install.assignee == "县城装维中心 李爱明"
    assert install.contact_phone == "13800001111"
    assert install.details["accepted_on"] == "2025-03-25"


def test_returned_order_keeps_its_reason_and_nothing_else() -> None:
    found = orders([accept(), ev("returned", ACCEPTED, reason="楼道无线路")], date(2025, 6, 1))
    assert list(found) == ["install"]
    assert found["install"].details["return_reason"] == "楼道无线路"


def test_install_due_follows_the_policy(tmp_path: Path) -> None:
    policy = variant(tmp_path, "install_days: 7 ", "install_days: 3 ")
    install = orders([accept()], date(2025, 3, 29), policy)["install"]
    assert (install.due, install.status) == (date(2025, 3, 28), "overdue")


# -- modem swap at install (§四(六)4 / §四(二)1) ------------------------------------------------

@pytest.mark.parametrize(("prior", "fit", "take_back", "clause"), [
    ("ordinary", "stb,e8b", "ordinary", "§四(六)4"),
    ("e8b", "stb", "", "§四(二)1"),
    ("none", "stb,e8b", "", "§四(二)1"),
])
def test_modem_swap_from_the_install_terminal_change(prior: str, fit: str, take_back: str,
                                                     clause: str) -> None:
    swap = orders([accept(prior), INSTALL], date(2025, 4, 2))["modem_swap"]
    assert (swap.details["fit"], swap.details["take_back"]) == (fit, take_back)
    assert (swap.due, swap.status, swap.clause) == (COMPLETED, "done", clause)
    assert swap.details["rule"].startswith("term.install_")


def test_no_swap_or_call_before_install() -> None:
    assert set(orders([accept()], date(2025, 3, 30))) == {"install"}


# -- outbound call in the first 30 days (§四(五)1, SPEC §8) -----------------------------------

WINDOW_END = date(2025, 4, 26)  # completion 2025-03-28 + first_month_days - 1


def daily(day: date, hours: str, account: str = "A1") -> Event:
    """A daily usage record, dated the day after as ingest dates it."""
    return ev("daily_usage", day + timedelta(days=1), account, day=day.isoformat(), hours=hours)


@pytest.mark.parametrize(("hours", "priority", "silent"), [
    (None, HIGH, "yes"),       # no usage record: no viewing
    ("0", HIGH, "yes"),
    ("9.99", HIGH, "no"),      # under low_usage_hours
    ("10", NORMAL, "no"),
    ("42", NORMAL, "no"),
])
def test_outbound_call_priority_from_daily_usage(hours: str | None, priority: str,
                                                 silent: str) -> None:
    events = [accept(), INSTALL]
    if hours is not None:
        events.append(daily(date(2025, 4, 10), hours))
    call = orders(events, date(2025, 4, 27))["outbound_call"]
    assert (call.priority, call.details["silent"]) == (priority, silent)
    assert call.details["hours"] == f"{Decimal(hours or 0):.2f}"
    assert call.details["viewing_basis"] == ("daily" if hours is not None else "no usage record")
    assert call.details["usage_recorded"] == ("yes" if hours is not None else "no")
    assert (call.details["window_start"], call.details["window_end"]) == ("2025-03-28", "2025-04-26")
    assert call.due == WINDOW_END  # the last of the first 30 days
    assert (call.status, call.clause, call.assignee) == ("open", "§四(五)1", "客服中心 孙建")


def test_a_completion_on_the_31st_is_judged_on_its_30_days_not_its_calendar_month() -> None:
    """0.5 h in March and 30 h in April: not a low-usage user (the reported bug)."""
    start = [accept(), ev("installed", date(2025, 3, 31))]
    monthly = [ev("usage", date(2025, 4, 1), month="2025-03", hours="0.5"),
               ev("usage", date(2025, 5, 1), month="2025-04", hours="30")]
    call = orders(start + monthly, date(2025, 5, 2))["outbound_call"]
    # 0.5 x 1/31 + 30 x 29/30 = 29.016... -> 29.02
    assert (call.priority, call.details["hours"]) == (NORMAL, "29.02")
    assert call.details["viewing_basis"] == "prorated from monthly (2025-03: 1/31, 2025-04: 29/30)"
    assert call.due == date(2025, 4, 29)
    days = [daily(date(2025, 3, 31), "0.5")] + [daily(date(2025, 4, d), "1") for d in range(1, 31)]
    by_day = orders(start + days, date(2025, 5, 2))["outbound_call"]
    assert (by_day.priority, by_day.details["hours"]) == (NORMAL, "29.50")  # 30 April is outside
    assert by_day.details["viewing_basis"] == "daily"


def test_only_usage_inside_the_window_counts() -> None:
    events = [accept(), INSTALL, daily(date(2025, 3, 27), "50"), daily(date(2025, 4, 27), "50"),
              ev("usage", date(2025, 6, 1), month="2025-05", hours="300")]
    call = orders(events, date(2025, 6, 2))["outbound_call"]
    assert (call.details["hours"], call.details["silent"], call.priority) == ("0.00", "yes", HIGH)


def test_daily_months_win_and_months_without_records_are_named() -> None:
    events = [accept(), INSTALL, ev("usage", date(2025, 4, 1), month="2025-03", hours="31"),
              daily(date(2025, 4, 2), "2")]
    call = orders(events, date(2025, 4, 5))["outbound_call"]
    # March prorated 31 x 4/31 = 4, April from its daily records: 2
    assert call.details["hours"] == "6.00"
    assert call.details["viewing_basis"] == "daily 2025-04; prorated from monthly (2025-03: 4/31)"
    only_march = orders(events[:3], date(2025, 4, 5))["outbound_call"]
    assert only_march.details["viewing_basis"] == ("prorated from monthly (2025-03: 4/31); "
                                                   "no record 2025-04")


def test_outbound_call_closes_when_the_trial_is_left() -> None:
    events = [accept(), INSTALL, ev("cancel_requested", date(2025, 4, 3))]
    assert orders(events, date(2025, 4, 4))["outbound_call"].status == "closed"


def call(on: date, reached: str = "yes", outcome: str = "will_use", problem: str = "",
         note: str = "", account: str = "A1") -> Event:
    return ev("call_result", on, account, reached=reached, outcome=outcome, problem=problem, note=note)


def test_a_call_that_got_through_is_the_order_done() -> None:
    tried = orders([accept(), INSTALL, call(date(2025, 4, 1), "no", "no_answer")], date(2025, 4, 2))
    assert (tried["outbound_call"].status, tried["outbound_call"].details["calls"]) == ("open", "1")
    events = [accept(), INSTALL, call(date(2025, 4, 1), "no", "no_answer"),
              call(date(2025, 4, 3), outcome="will_cancel")]
    done = orders(events, date(2025, 4, 4))["outbound_call"]
    assert (done.status, done.details["calls"], done.details["reached_on"],
            done.details["outcome"]) == ("done", "2", "2025-04-03", "will_cancel")
    assert not done.is_open


def test_outbound_call_parameters_and_recipient_come_from_the_policy(tmp_path: Path) -> None:
    policy = variant(tmp_path, "low_usage_hours: 10 ", "low_usage_hours: 50 ")
    policy_text = Path(policy.source).read_text(encoding="utf-8")
    path = tmp_path / "second.yaml"
    path.write_text(policy_text.replace("first_month_days: 30 ", "first_month_days: 20 ").replace(
        "    outbound_call: [客服中心 孙建]", "    outbound_call: [外呼组, 客服中心]"), encoding="utf-8")
    policy = itvrules.load_policy(path)
    events = [accept(), INSTALL, daily(date(2025, 4, 1), "42"), daily(date(2025, 4, 20), "30")]
    call = orders(events, date(2025, 4, 22), policy)["outbound_call"]
    assert (call.priority, call.details["low_usage_hours"]) == (HIGH, "50")
    assert call.details["hours"] == "42.00"  # 2025-04-20 is past the 20 days
    assert call.due == date(2025, 4, 16)
    assert call.assignee == "外呼组、客服中心"


# -- playback problems a call reported go to 运维部 (§四(五)1) ---------------------------------

def test_a_reported_playback_problem_is_an_order_for_operations() -> None:
    events = [accept(), INSTALL, call(date(2025, 4, 8), problem="mosaic", note="晚上八点后"),
              call(date(2025, 4, 8), problem="stutter")]
    order = orders(events, date(2025, 4, 9))["playback_problem"]
    assert (order.assignee, order.clause, order.status) == ("运维部", "§四(五)1", "open")
    assert order.due == date(2025, 4, 9)  # playback_problem_days after the call
    assert order.details["clause_text"] == "对存在的卡/顿等问题,及时反馈运维部协调处理"
    assert (order.details["problem"], order.details["problem_name"]) == ("mosaic,stutter", "马赛克、卡顿")
    assert order.details["note"] == "晚上八点后"
    assert order.contact_phone == "13800001111"
    assert WorkOrderKind.PLAYBACK_PROBLEM in list(WorkOrderKind)


def test_each_call_day_with_a_problem_is_its_own_order_closed_by_a_later_clear_call() -> None:
    events = [accept(), INSTALL, call(date(2025, 4, 8), problem="no_signal"),
              call(date(2025, 4, 12), problem="other"), call(date(2025, 4, 20), "no", "no_answer"),
              call(date(2025, 4, 25))]
    found = work_orders(POLICY, replay(POLICY, events, as_of=date(2025, 4, 30)))
    problems = [o for o in found if o.kind == WorkOrderKind.PLAYBACK_PROBLEM]
    assert [(o.due, o.status, o.details["cleared_on"]) for o in problems] == [
        (date(2025, 4, 9), "closed", "2025-04-25"), (date(2025, 4, 13), "closed", "2025-04-25")]
    assert len({o.order_id for o in problems}) == 2
    open_still = work_orders(POLICY, replay(POLICY, events[:4], as_of=date(2025, 4, 21)))
    assert [o.status for o in open_still if o.kind == WorkOrderKind.PLAYBACK_PROBLEM] == ["open", "open"]


def test_playback_due_days_and_recipient_are_policy_data(tmp_path: Path) -> None:
    policy = variant(tmp_path, "playback_problem_days: 1 ", "playback_problem_days: 3 ")
    policy = variant(tmp_path, "    playback_problem: [运维部]", "    playback_problem: [运维部 值班]",
                     base=policy)
    order = orders([accept(), INSTALL, call(date(2025, 4, 8), problem="mosaic")], date(2025, 4, 9),
                   policy)["playback_problem"]
    assert (order.due, order.assignee) == (date(2025, 4, 11), "运维部 值班")
    nobody = variant(tmp_path, "    playback_problem: [运维部]\n", "")
    with pytest.raises(itvrules.PolicyError, match="playback_problem"):
        orders([accept(), INSTALL, call(date(2025, 4, 8), problem="mosaic")], date(2025, 4, 9), nobody)


def test_a_call_before_the_install_is_refused() -> None:
    with pytest.raises(itvrules.InputError, match="before the install") as err:
        replay(POLICY, [accept(), call(date(2025, 3, 26))], as_of=date(2025, 3, 30))
    assert err.value.field == "called_on"


@pytest.mark.parametrize("hours", ["lots", "-1", "NaN"])
def test_bad_usage_hours_are_named(hours: str) -> None:
    for bad in (ev("usage", date(2025, 4, 1), month="2025-03", hours=hours),
                daily(date(2025, 4, 1), hours)):
        state = replay(POLICY, [accept(), INSTALL, bad], as_of=date(2025, 4, 2))
        with pytest.raises(itvrules.InputError, match="A1") as err:
            work_orders(POLICY, state)
        assert err.value.field == "hours"


def test_a_policy_naming_nobody_is_a_policy_error(tmp_path: Path) -> None:
    policy = variant(tmp_path, "    recovery: [县城装维中心 李爱明]\n", "")
    policy = variant(tmp_path, "    install: [县城装维中心 李爱明]\n", "", base=policy)
    with pytest.raises(itvrules.PolicyError, match="install"):
        work_orders(policy, replay(policy, [accept()], as_of=date(2025, 3, 26)))


# -- expiry reminder in month 3 (§四(五)2) ------------------------------------------------------

@pytest.mark.parametrize(("extra", "as_of", "status"), [
    ([], date(2025, 4, 30), None),                                    # month 2: not yet
    ([], date(2025, 5, 1), "open"),                                   # month 3
    ([ev("switched", date(2025, 5, 10), package="basic")], date(2025, 5, 20), "open"),
    ([], date(2025, 6, 1), "closed"),                                 # converted
    ([ev("cancel_requested", date(2025, 5, 30))], date(2025, 6, 1), "closed"),
    ([ev("cancel_requested", date(2025, 4, 10))], date(2025, 6, 1), None),  # left in month 2
], ids=["month-2", "month-3", "switched-in-trial", "converted", "cancel-in-month-3",
        "cancel-in-month-2"])
def test_expiry_reminder(extra: list[Event], as_of: date, status: str | None) -> None:
    found = orders([accept(), INSTALL, *extra], as_of)
    if status is None:
        assert "expiry_reminder" not in found
        return
    reminder = found["expiry_reminder"]
    assert (reminder.status, reminder.due, reminder.clause) == (status, TRIAL_END, "§四(五)2")
    assert reminder.assignee == "伊山营业厅"  # the accepting channel


def test_expiry_reminder_without_a_channel_goes_to_the_channel_step_owner() -> None:
    found = orders([accept(channel=""), INSTALL], date(2025, 5, 2))
    assert found["expiry_reminder"].assignee == STEPS[0]["owner"] == "受理渠道"


# -- the cancellation list (§四(五)2) -----------------------------------------------------------

@pytest.mark.parametrize("done", range(len(STEPS) + 1))
def test_cancellation_status_is_the_next_step(done: int) -> None:
    events = [accept(), INSTALL, ev("cancel_requested", date(2025, 5, 20))]
    events += [ev("cancellation_step", date(2025, 5, 21 + i), step=s["step"])
               for i, s in enumerate(STEPS[:done])]
    order = orders(events, date(2025, 5, 30))["cancellation"]
    if done < len(STEPS):
        assert (order.status, order.assignee) == (STEPS[done]["step"], STEPS[done]["owner"])
    else:
        assert (order.status, order.assignee) == ("done", STEPS[-1]["owner"])
    assert order.is_open == (done < len(STEPS))
    steps_done = {k.removeprefix("step."): v for k, v in order.details.items() if k.startswith("step.")}
    assert steps_done == {s["step"]: date(2025, 5, 21 + i).isoformat()
                          for i, s in enumerate(STEPS[:done])}
    assert order.due == TRIAL_END  # in time: due by the trial end
    assert order.details["requested_on"] == "2025-05-20"
    assert order.clause == "§四(五)2"


@pytest.mark.parametrize(("extra", "as_of", "due", "late", "priority"), [
    # registered in time, not effective by the trial end: late, the waiver applies (SPEC §5 rule 5)
    ([ev("cancel_requested", date(2025, 5, 30))], date(2025, 6, 2), TRIAL_END, "yes", HIGH),
    ([ev("cancel_requested", date(2025, 5, 30)), ev("cancel_effective", date(2025, 6, 3))],
     date(2025, 6, 5), TRIAL_END, "yes", HIGH),
    ([ev("cancel_requested", date(2025, 5, 30)), ev("cancel_effective", date(2025, 5, 31))],
     date(2025, 6, 5), TRIAL_END, "no", NORMAL),
    ([ev("cancel_requested", date(2025, 5, 30))], date(2025, 5, 31), TRIAL_END, "no", NORMAL),
    ([ev("cancel_requested", date(2025, 7, 2))], date(2025, 7, 3), date(2025, 7, 2), "no", NORMAL),
], ids=["late-pending", "late-effective", "effective-in-time", "trial-not-over", "after-trial"])
def test_cancellation_due_and_late_priority(extra: list[Event], as_of: date, due: date, late: str,
                                            priority: str) -> None:
    order = orders([accept(), INSTALL, *extra], as_of)["cancellation"]
    assert (order.due, order.details["late"], order.priority) == (due, late, priority)


def test_late_cancellation_done_is_no_longer_urgent() -> None:
    events = [accept(), INSTALL, ev("cancel_requested", date(2025, 5, 30))]
    events += [ev("cancellation_step", date(2025, 6, 1 + i), step=s["step"]) for i, s in enumerate(STEPS)]
    order = orders(events, date(2025, 6, 10))["cancellation"]
    assert (order.status, order.details["late"], order.priority) == ("done", "yes", NORMAL)


def test_cancellation_before_install_is_due_when_requested_and_closed() -> None:
    order = orders([accept(), ev("cancel_requested", date(2025, 3, 26))], date(2025, 4, 27))
    assert order["cancellation"].due == date(2025, 3, 26)
    assert (order["cancellation"].status, order["cancellation"].is_open) == ("closed", False)
    assert order["cancellation"].priority == NORMAL  # a month on, but nothing is waiting
    assert "nothing to recover" in order["cancellation"].details["closed_reason"]
    assert "recovery" not in order


def test_cancellation_step_waiting_too_long_is_overdue_and_urgent() -> None:
    events = [accept(), INSTALL, ev("cancel_requested", date(2025, 4, 10)),
              ev("cancellation_step", date(2025, 4, 11), step="channel")]
    on_time = orders(events, date(2025, 4, 18))["cancellation"]  # 7 days: the policy's limit
    late = orders(events, date(2025, 4, 19))["cancellation"]
    assert (on_time.details["overdue"], on_time.priority) == ("no", NORMAL)
    assert (late.details["overdue"], late.priority) == ("yes", HIGH)


# -- recovery (§四(六)3) -----------------------------------------------------------------------

CANCELLED = [ev("cancel_requested", date(2025, 5, 30)), ev("cancel_effective", date(2025, 6, 3))]


@pytest.mark.parametrize(("prior", "recovered", "status", "missing"), [
    ("ordinary", None, "open", "e8b,stb"),
    ("ordinary", "stb", "open", "e8b"),
    ("ordinary", "stb,e8b", "done", ""),
    ("e8b", None, "open", "stb"),
    ("e8b", "stb", "done", ""),
])
def test_recovery_order(prior: str, recovered: str | None, status: str, missing: str) -> None:
    events = [accept(prior), INSTALL, *CANCELLED]
    if recovered:
        events.append(ev("terminals_recovered", date(2025, 6, 8), terminals=recovered, depot="伊山"))
    order = orders(events, date(2025, 6, 10))["recovery"]
    assert (order.status, order.details["missing"]) == (status, missing)
    assert order.due == date(2025, 6, 3)
    assert order.clause == "§四(六)3"
    assert order.assignee == "县城装维中心 李爱明"
    assert order.contact_phone == "13800001111"
    expected_fit = "ordinary" if prior == "ordinary" else ""
    assert order.details["fit"] == expected_fit
    assert order.details["take_back"] == ("stb,e8b" if prior == "ordinary" else "stb")


def test_no_recovery_without_a_cancelled_install() -> None:
    assert "recovery" not in orders([accept(), INSTALL, CANCELLED[0]], date(2025, 6, 1))
    assert "recovery" not in orders([accept(), INSTALL], date(2025, 8, 1))  # converted keeps them
    before = [accept(), ev("cancel_requested", date(2025, 3, 26)), ev("cancel_effective", date(2025, 3, 27))]
    assert "recovery" not in orders(before, date(2025, 4, 1))


# -- identity, order, purity -------------------------------------------------------------------

FULL = [accept(), INSTALL, ev("usage", date(2025, 4, 1), month="2025-03", hours="3"),
        ev("cancel_requested", date(2025, 5, 30)), ev("cancellation_step", date(2025, 5, 31), step="channel"),
        ev("cancel_effective", date(2025, 6, 3))]


def test_ids_are_stable_across_runs_and_days() -> None:
    early = orders(FULL[:4], date(2025, 5, 30))
    late = orders(FULL, date(2025, 7, 1))
    for kind, order in early.items():
        assert late[kind].order_id == order.order_id
        assert order.order_id == order_id("A1", kind, order.due)
    assert early["cancellation"].status != late["cancellation"].status
    other = orders([accept(account="B2"), ev("installed", COMPLETED, "B2")], date(2025, 4, 2))
    assert other["install"].order_id != early["install"].order_id
    assert len({o.order_id for o in late.values()}) == len(late)


@pytest.mark.parametrize("engine", ["compiled", "durable"])
def test_orders_are_sorted_and_independent_of_event_order(engine: str) -> None:
    state = replay(POLICY, FULL, as_of=date(2025, 7, 1), engine=engine)
    listed = work_orders(POLICY, state)
    assert listed == sorted(listed, key=lambda o: (o.due, o.account_id, list(WorkOrderKind).index(o.kind)))
    again = work_orders(POLICY, replay(POLICY, list(reversed(FULL)), as_of=date(2025, 7, 1)))
    assert again == listed
    assert len(set(listed)) == len(listed)  # hashable despite the details mapping


def test_orders_depend_on_the_state_not_the_wall_clock() -> None:
    state = replay(POLICY, [accept()], as_of=date(2025, 3, 26))
    assert work_orders(POLICY, state)[0].status == "open"
    years_later: EnrollmentState = replay(POLICY, [accept()], as_of=date(2031, 1, 1))
    assert work_orders(POLICY, years_later)[0].status == "overdue"


def test_due_orders_lists_open_orders_due_by_a_day() -> None:
    listed = work_orders(POLICY, replay(POLICY, FULL, as_of=date(2025, 6, 10)))
    by_kind = {o.kind: o for o in listed}
    assert by_kind[WorkOrderKind.INSTALL].status == "done"
    on_jun_1 = due_orders(listed, on=date(2025, 6, 1))
    assert [o.kind.value for o in on_jun_1] == ["cancellation"]
    on_jun_3 = due_orders(reversed(listed), on=date(2025, 6, 3))
    assert [o.kind.value for o in on_jun_3] == ["cancellation", "recovery"]
    assert due_orders(listed, on=date(2025, 3, 1)) == []


def test_to_dict_is_json_ready() -> None:
    import json

    order = orders(FULL, date(2025, 6, 10))["recovery"]
    data = json.loads(json.dumps(order.to_dict(), ensure_ascii=False))
    assert data["due"] == "2025-06-03" and data["kind"] == "recovery"
    assert data["details"]["take_back"] == "stb,e8b"


# -- details as export columns ---------------------------------------------------------------

EVERY_DETAIL = [  # between them, orders of every kind, with every detail filled somewhere
    ([accept(), ev("returned", ACCEPTED, reason="楼道无线路")], date(2025, 6, 1)),
    ([accept(), INSTALL, ev("usage", date(2025, 4, 1), month="2025-03", hours="3"),
      ev("cancel_requested", date(2025, 5, 30)),
      *(ev("cancellation_step", date(2025, 5, 31), step=s["step"]) for s in STEPS),
      ev("cancel_effective", date(2025, 6, 3))], date(2025, 7, 1)),
    ([accept(), INSTALL, call(date(2025, 4, 8), problem="mosaic", note="晚上八点后"),
      call(date(2025, 4, 20))], date(2025, 4, 30)),
]


def test_every_detail_has_its_export_column_and_days_read_as_dates() -> None:
    found = [o for events, as_of in EVERY_DETAIL for o in orders(events, as_of).values()]
    assert {o.kind for o in found} == set(WorkOrderKind)
    keys = {key for o in found for key in o.details}
    columns = detail_fields(POLICY)
    assert keys <= set(columns), f"details without an export column: {sorted(keys - set(columns))}"
    assert set(columns) - keys == set(), "a column no order fills is a column too many"
    assert columns[:len(DETAIL_FIELDS)] == DETAIL_FIELDS
    assert columns[len(DETAIL_FIELDS):] == tuple(f"step.{s['step']}" for s in STEPS)
    for order in found:
        for key, text in order.details.items():
            if is_date_detail(key) and text:
                assert date.fromisoformat(text), key
            elif not is_date_detail(key):
                assert not (len(text) == 10 and text[4] == "-" and text[7] == "-"), (key, text)


def test_detail_columns_follow_the_policys_cancellation_steps(tmp_path: Path) -> None:
    renamed = variant(tmp_path, "- step: marketing_review", "- step: review_by_marketing")
    assert "step.review_by_marketing" in detail_fields(renamed)
    assert "step.marketing_review" not in detail_fields(renamed)


# -- Chinese names beside the codes -----------------------------------------------------------


def test_every_work_order_kind_has_a_chinese_name() -> None:
    from itvrules.operations import WorkOrderKind, bilingual, chinese_name

    missing = [kind.value for kind in WorkOrderKind if not chinese_name("kind", kind.value)]
    assert missing == [], "add these kinds to operations/_names.py"
    assert bilingual("kind", "install") == "安装 install"


def test_every_status_the_shipped_policy_gives_has_a_chinese_name() -> None:
    from itvrules.operations import CLOSED_STATUSES, chinese_name

    policy = itvrules.load_policy()
    steps = [s["step"] for s in policy.document.operations["cancellation_steps"]]
    statuses = [*CLOSED_STATUSES, "open", "overdue", *steps]
    assert [s for s in statuses if not chinese_name("status", s)] == []


def test_every_lifecycle_state_of_the_shipped_policy_has_a_chinese_name() -> None:
    from itvrules.operations import chinese_name

    states = itvrules.load_policy().document.lifecycle_states
    assert [s for s in states if not chinese_name("state", s)] == []


def test_every_recipient_office_of_the_shipped_policy_has_an_english_name() -> None:
    from itvrules.operations import owner_in_english

    operations = itvrules.load_policy().document.operations
    owners = [*(n for names in operations["recipients"].values() for n in names),
              *(s["owner"] for s in operations["cancellation_steps"])]
    assert [o for o in owners if not owner_in_english(o)] == []
    assert owner_in_english("客服中心 孙建、市场部") == "customer service centre, marketing department"
    assert owner_in_english("城东营业厅") == ""


def test_an_unknown_name_domain_is_an_error() -> None:
    from itvrules.operations import bilingual, chinese_name

    with pytest.raises(ValueError, match="unknown name domain"):
        chinese_name("colour", "red")
    assert bilingual("kind", "not_a_kind") == "not_a_kind"
