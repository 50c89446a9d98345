"""The lifecycle and terminal tables (SPEC §6-8): every rule, both engines, bad events."""

from __future__ import annotations

from datetime import date

import pytest

import itvrules
from itvrules.lifecycle import Event, EventKind, events_from_enrollment, replay, statechart_mermaid
from paths import ROOT

POLICY = itvrules.load_policy()
ENGINES = ["compiled", "durable"]


def ev(kind: str, on: date, account: str = "A1", **data: str) -> Event:
    return Event(account_id=account, kind=kind, on=on, data=data)  # type: ignore[arg-type]


ACCEPT = ev("accepted", date(2025, 3, 25), prior_modem="ordinary", channel="营业厅", product="brand")
INSTALL = ev("installed", date(2025, 3, 28))

#: (id, events, as_of, expected state, rule ids that must appear in the transitions)
LIFECYCLE_CASES = [
    ("accepted-waiting", [ACCEPT], date(2025, 3, 30), "accepted", set()),
    ("accepted-next-month", [ACCEPT], date(2025, 4, 2), "accepted", {"life.waiting_install"}),
    ("install", [ACCEPT, INSTALL], date(2025, 3, 29), "trial", {"life.install"}),
    ("trial-month-3", [ACCEPT, INSTALL], date(2025, 5, 31), "trial", {"life.trial_month"}),
    ("return", [ACCEPT, ev("returned", date(2025, 3, 25), reason="no line")], date(2025, 4, 3),
     "returned", {"life.return", "life.final_month"}),
    ("cancel-before-install", [ACCEPT, ev("cancel_requested", date(2025, 3, 26))],
     date(2025, 3, 27), "cancelling", {"life.cancel_before_install"}),
    ("convert-paid", [ACCEPT, INSTALL], date(2025, 6, 1), "converted_paid", {"life.convert_paid"}),
    ("converted-months", [ACCEPT, INSTALL], date(2025, 8, 1), "converted_paid",
     {"life.converted_month"}),
    ("switch-in-trial-then-convert",
     [ACCEPT, INSTALL, ev("switched", date(2025, 4, 10), package="basic")], date(2025, 6, 1),
     "converted_switched", {"life.switch_in_trial", "life.convert_switched"}),
    ("switch-after-trial", [ACCEPT, INSTALL, ev("switched", date(2025, 7, 2), package="hd")],
     date(2025, 7, 3), "converted_switched", {"life.switch_after_trial"}),
    ("cancel-in-trial", [ACCEPT, INSTALL, ev("cancel_requested", date(2025, 5, 30))],
     date(2025, 6, 15), "cancelling", {"life.cancel_in_trial", "life.cancelling_month"}),
    ("cancel-after-trial", [ACCEPT, INSTALL, ev("cancel_requested", date(2025, 7, 5))],
     date(2025, 7, 6), "cancelling", {"life.cancel_after_trial"}),
    ("cancel-effective", [ACCEPT, INSTALL, ev("cancel_requested", date(2025, 5, 30)),
                          ev("cancel_effective", date(2025, 6, 3))],
     date(2025, 7, 1), "closed", {"life.cancel_effective", "life.final_month"}),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("events", "as_of", "state", "rules"),
                         [c[1:] for c in LIFECYCLE_CASES], ids=[c[0] for c in LIFECYCLE_CASES])
def test_lifecycle_rule(engine: str, events: list[Event], as_of: date, state: str,
                        rules: set[str]) -> None:
    result = replay(POLICY, events, as_of=as_of, engine=engine)
    assert result.state == state
    assert rules <= {t.rule for t in result.transitions}


def test_every_lifecycle_rule_has_a_case() -> None:
    covered = set().union(*(c[4] for c in LIFECYCLE_CASES))
    assert covered == {r.id for r in POLICY.rules("lifecycle")}


def test_trial_month_and_overdue_install() -> None:
    assert replay(POLICY, [ACCEPT, INSTALL], as_of=date(2025, 4, 1)).trial_month == 2
    waiting = replay(POLICY, [ACCEPT], as_of=date(2025, 4, 1))
    assert waiting.install_due == date(2025, 4, 1) and not waiting.install_overdue
    assert replay(POLICY, [ACCEPT], as_of=date(2025, 4, 2)).install_overdue


@pytest.mark.durable
def test_replay_is_deterministic_and_order_free() -> None:
    events = events_from_enrollment(itvrules.Enrollment(
        account_id="A9", product="annual", accepted_on=date(2025, 4, 1),
        completed_on=date(2025, 4, 30), cancel_requested_on=date(2025, 6, 30),
        cancel_effective_on=date(2025, 7, 20), prior_modem="e8b"))
    first = replay(POLICY, events, as_of=date(2025, 9, 1))
    assert replay(POLICY, list(reversed(events)), as_of=date(2025, 9, 1)) == first
    assert replay(POLICY, events, as_of=date(2025, 9, 1), engine="durable") == first


#: (id, prior modem, cancelled?, rule ids expected, final item scheme, fitted)
TERMINAL_CASES = [
    ("existing-ordinary", "ordinary", False, ["term.install_existing_ordinary"],
     ("trial_stb", "leased_e8b"), ("stb", "e8b")),
    ("has-e8b", "e8b", False, ["term.install_has_e8b"], ("leased_e8b", "trial_stb"), ("stb",)),
    ("new-install", "none", False, ["term.install_new"], ("trial_stb", "leased_e8b"), ("stb", "e8b")),
    ("cancel-own-e8b", "e8b", True, ["term.install_has_e8b", "term.cancel_kept_own_e8b"],
     ("leased_e8b",), ("stb",)),
    ("cancel-recover", "ordinary", True, ["term.install_existing_ordinary", "term.cancel_recover"],
     ("ordinary_modem",), ("stb", "e8b")),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("prior", "cancelled", "rules", "scheme", "fitted"),
                         [c[1:] for c in TERMINAL_CASES], ids=[c[0] for c in TERMINAL_CASES])
def test_terminal_rule(engine: str, prior: str, cancelled: bool, rules: list[str],
                       scheme: tuple[str, ...], fitted: tuple[str, ...]) -> None:
    events = [ev("accepted", date(2025, 4, 1), prior_modem=prior), ev("installed", date(2025, 4, 2))]
    if cancelled:
        events += [ev("cancel_requested", date(2025, 6, 1)), ev("cancel_effective", date(2025, 6, 5))]
    state = replay(POLICY, events, as_of=date(2025, 6, 10), engine=engine)
    assert [c.rule for c in state.terminal_changes] == rules
    assert state.item_scheme == scheme
    assert state.fitted == fitted
    if cancelled:
        last = state.terminal_changes[-1]
        assert last.recovery_order and set(last.take_back) == set(fitted)


def test_converted_user_keeps_terminals() -> None:
    state = replay(POLICY, [ACCEPT, INSTALL], as_of=date(2025, 6, 2))
    assert [c.rule for c in state.terminal_changes] == ["term.install_existing_ordinary",
                                                         "term.converted_keep"]
    assert state.item_scheme == ("trial_stb", "leased_e8b")


def test_every_terminal_rule_has_a_case() -> None:
    covered = {r for c in TERMINAL_CASES for r in c[3]} | {"term.converted_keep"}
    assert covered == {r.id for r in POLICY.rules("terminals")}


def test_recovery_returns_fitted_terminals_only() -> None:
    events = [ACCEPT, INSTALL, ev("cancel_requested", date(2025, 5, 30)),
              ev("cancel_effective", date(2025, 6, 3)),
              ev("terminals_recovered", date(2025, 6, 4), terminals="stb,e8b", depot="伊山")]
    state = replay(POLICY, events, as_of=date(2025, 6, 5))
    assert state.fitted == () and state.recovered == ("stb", "e8b")
    bad = [*events[:2], ev("terminals_recovered", date(2025, 4, 4), terminals="stb,stb")]
    with pytest.raises(itvrules.InputError, match="never fitted") as err:
        replay(POLICY, bad, as_of=date(2025, 6, 5))
    assert err.value.field == "terminals"


@pytest.mark.parametrize(("events", "field", "says"), [
    ([ACCEPT, ev("cancel_effective", date(2025, 3, 27))], "kind", "out of order"),
    ([ACCEPT, INSTALL, ev("installed", date(2025, 4, 2))], "kind", "out of order"),
    ([INSTALL], "kind", "unknown enrolment"),
    ([ACCEPT, ev("installed", date(2025, 3, 20))], "on", "before the order was accepted"),
    ([ACCEPT, ev("installed", date(2026, 1, 1))], "on", "after the run date"),
    ([ACCEPT, ev("accepted", date(2025, 4, 1))], "kind", "one trial per account"),
    ([ACCEPT, ev("installed", date(2025, 3, 28), account="B2")], "account_id", "several accounts"),
    ([ACCEPT, INSTALL, ev("cancellation_step", date(2025, 4, 1), step="channel")], "step",
     "no cancellation"),
    ([ACCEPT, INSTALL, ev("cancel_requested", date(2025, 4, 1)),
      ev("cancellation_step", date(2025, 4, 2), step="marketing_review")], "step", "out of order"),
])
def test_bad_events_are_named(events: list[Event], field: str, says: str) -> None:
    with pytest.raises(itvrules.InputError, match=says) as err:
        replay(POLICY, events, as_of=date(2025, 7, 1))
    assert err.value.field == field
    assert "A1" in str(err.value)


def test_cancellation_steps_in_policy_order() -> None:
    steps = [s["step"] for s in POLICY.document.operations["cancellation_steps"]]
    events = [ACCEPT, INSTALL, ev("cancel_requested", date(2025, 5, 2))]
    events += [ev("cancellation_step", date(2025, 5, 3 + i), step=s) for i, s in enumerate(steps)]
    state = replay(POLICY, events, as_of=date(2025, 6, 1))
    assert [s for s, _ in state.cancellation_steps] == steps


def test_event_ids_are_stable_and_content_based() -> None:
    a = ev("installed", date(2025, 3, 28))
    b = Event(account_id="A1", kind=EventKind.INSTALLED, on=date(2025, 3, 28), source="x.csv",
              source_row=7)
    assert a.event_id == b.event_id
    assert a.event_id != ev("installed", date(2025, 3, 29)).event_id


def test_statechart_draws_every_transition() -> None:
    chart = statechart_mermaid(POLICY)
    assert chart.startswith("stateDiagram-v2")
    for rule in POLICY.rules("lifecycle"):
        assert f"({rule.id})" in chart


def test_docs_statechart_matches_the_policy() -> None:

    doc = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{statechart_mermaid(POLICY)}```" in doc


def test_install_takes_back_the_old_ordinary_modem() -> None:
    events = [ACCEPT, INSTALL, ev("terminals_recovered", date(2025, 3, 28), terminals="ordinary")]
    state = replay(POLICY, events, as_of=date(2025, 4, 1))
    assert state.recovered == ("ordinary",) and state.fitted == ("stb", "e8b")


def test_events_refuse_text_utf8_cannot_carry() -> None:
    with pytest.raises(itvrules.InputError) as err:
        Event(account_id="A\ud800", kind="accepted", on=date(2025, 4, 1))  # type: ignore[arg-type]
    assert err.value.field == "account_id"
    with pytest.raises(itvrules.InputError) as err:
        ev("accepted", date(2025, 4, 1), channel="x\udc00")
    assert err.value.field == "data"
