"""The weekly call report (§四(五)1) on hand-built enrolments with known answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import itvrules
from itvrules.lifecycle import Event, replay
from itvrules.operations import call_event, call_vocabulary
from itvrules.reports import call_report, week_of

POLICY = itvrules.load_policy()
MONDAY, SUNDAY = date(2025, 4, 7), date(2025, 4, 13)


def enrolment(account: str, completed: date, *extra: Event) -> list[Event]:
    return [Event(account_id=account, kind="accepted", on=completed - timedelta(days=2),
                  data={"product": "brand"}),
            Event(account_id=account, kind="installed", on=completed), *extra]


def called(account: str, on: date, reached: bool = True, outcome: str = "will_use",
           problem: str = "") -> Event:
    return Event(account_id=account, kind="call_result", on=on,
                 data={"reached": "yes" if reached else "no", "outcome": outcome, "problem": problem})


def watched(account: str, day: date, hours: str) -> Event:
    return Event(account_id=account, kind="daily_usage", on=day + timedelta(days=1),
                 data={"day": day.isoformat(), "hours": hours})


def states(*streams: list[Event], as_of: date = SUNDAY) -> list[itvrules.lifecycle.EnrollmentState]:
    return [replay(POLICY, s, as_of=as_of) for s in streams]


def test_priority_users_called_first_is_priority_first() -> None:
    report = call_report(POLICY, states(
        enrolment("S", date(2025, 4, 1), called("S", date(2025, 4, 7), reached=False,
                                                outcome="no_answer"), called("S", date(2025, 4, 9))),
        enrolment("L", date(2025, 4, 1), watched("L", date(2025, 4, 2), "3"),
                  called("L", date(2025, 4, 8), problem="no_signal")),
        enrolment("O", date(2025, 4, 1), watched("O", date(2025, 4, 2), "12"),
                  called("O", date(2025, 4, 8))),
    ), "2025-04-07")
    assert report.week == "2025-W15"
    assert (report.calls_made, report.calls_reached, report.accounts_called, report.accounts_reached) \
        == (4, 3, 3, 3)
    assert dict(report.called_by_group) == {"silent": 1, "low_usage": 1, "other": 1}
    assert report.others_before_priority == 0 and report.priority_first
    assert report.priority_waiting == ()
    assert report.problems["no_signal"] == 1
    assert [o.account_id for o in report.playback_orders] == ["L"]
    assert report.playback_orders[0].due == date(2025, 4, 9)


def test_another_user_called_while_a_silent_one_waits_counts_against_priority() -> None:
    report = call_report(POLICY, states(
        enrolment("S", date(2025, 4, 1), called("S", date(2025, 4, 10))),
        enrolment("O", date(2025, 4, 1), watched("O", date(2025, 4, 2), "12"),
                  called("O", date(2025, 4, 8)), called("O", date(2025, 4, 10))),
        enrolment("N", date(2025, 4, 9)),  # silent, but installed after O's first call
    ), "2025-W15")
    assert report.others_before_priority == 2  # 8 April (S waited), 10 April (N waited)
    assert not report.priority_first
    assert report.priority_waiting == ("N",)


def test_calls_due_are_the_first_month_ends_in_the_week() -> None:
    report = call_report(POLICY, states(
        enrolment("A", date(2025, 3, 10)),  # window ends 2025-04-08
        enrolment("B", date(2025, 3, 14), called("B", date(2025, 4, 1))),  # ends 2025-04-12, done
        enrolment("C", date(2025, 3, 15)),  # ends 2025-04-13
        enrolment("D", date(2025, 3, 16)),  # ends 2025-04-14: next week
    ), "2025-04-07")
    assert (report.calls_due, report.calls_due_reached) == (3, 1)


@pytest.mark.parametrize(("week", "problem"), [
    ("2025-04-08", "not a Monday"), ("2025-4-7", "its Monday"), ("2025-W54", "no week 54")])
def test_a_week_is_a_monday_or_an_iso_week(week: str, problem: str) -> None:
    with pytest.raises(itvrules.InputError, match=problem):
        week_of(week)
    assert week_of("2025-04-07") == week_of("2025-W15") == (MONDAY, SUNDAY)


def test_states_of_another_day_are_refused() -> None:
    with pytest.raises(itvrules.InputError, match="A") as err:
        call_report(POLICY, states(enrolment("A", date(2025, 4, 1)), as_of=date(2025, 4, 14)),
                    "2025-04-07")
    assert err.value.field == "as_of"


@pytest.mark.parametrize(("values", "field"), [
    ({"account_id": "", "called_on": "2025-04-07", "reached": "是", "outcome": "继续使用"}, "account_id"),
    ({"account_id": "A", "called_on": "", "reached": "是", "outcome": "继续使用"}, "called_on"),
    ({"account_id": "A", "called_on": "2025-04-07", "reached": "", "outcome": "继续使用"}, "reached"),
    ({"account_id": "A", "called_on": "2025-04-07", "reached": "是", "outcome": ""}, "outcome"),
    ({"account_id": "A", "called_on": "2025-04-07", "reached": "是", "outcome": "未接通"}, "outcome"),
    ({"account_id": "A", "called_on": "2025-04-07", "reached": "是", "outcome": "继续使用",
      "problem": "雪花"}, "problem"),
])
def test_call_rows_that_cannot_be_read_name_the_field(values: dict[str, str], field: str) -> None:
    with pytest.raises(itvrules.InputError) as err:
        call_event(call_vocabulary(POLICY), values)
    assert err.value.field == field


def test_call_rows_take_codes_or_chinese_names() -> None:
    words = call_vocabulary(POLICY)
    by_name = call_event(words, {"account_id": " A1 ", "called_on": "2025年4月7日", "reached": "是",
                                 "outcome": "拟退订", "problem": "马赛克", "note": "晚间"})
    by_code = call_event(words, {"account_id": "A1", "called_on": date(2025, 4, 7), "reached": True,
                                 "outcome": "WILL_CANCEL", "problem": "mosaic", "note": "晚间"})
    assert by_name == by_code
    assert (by_name.on, dict(by_name.data)) == (date(2025, 4, 7), {
        "reached": "yes", "outcome": "will_cancel", "problem": "mosaic", "note": "晚间"})


def test_a_policy_without_call_results_is_a_policy_error(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    text = Path(POLICY.source).read_text(encoding="utf-8")
    start = text.index("\n  call_results:") + 1
    end = text.index("\n", text.index("    problem_order:"))
    end = text.index("\n", text.index("      text:", end)) + 1
    path = Path(str(tmp_path)) / "no-calls.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(itvrules.PolicyError, match="call_results"):
        call_vocabulary(itvrules.load_policy(path))
