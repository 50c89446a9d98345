"""Terminal stock (SPEC §6, §四(六)): 利旧 first, never negative, the same from events."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

import itvrules
from itvrules.lifecycle import Event, EventKind
from itvrules.operations import Stock, StockError

POLICY = itvrules.load_policy()
DAY = date(2025, 4, 1)


def stocked() -> Stock:
    stock = Stock(POLICY)
    stock.receive("伊山", "stb", "new", 2, on=DAY)
    stock.recover("伊山", "stb", account_id="A1", on=DAY)
    return stock


def test_refurbished_first_then_new_then_stock_error() -> None:
    stock = stocked()
    taken = [stock.allocate("伊山", "stb", account_id=f"A{i}", on=DAY).data["condition"]
             for i in range(3)]
    assert taken == ["refurbished", "new", "new"]
    with pytest.raises(StockError, match="伊山") as err:
        stock.allocate("伊山", "stb", account_id="A9", on=DAY)
    assert (err.value.depot, err.value.terminal) == ("伊山", "stb")
    assert isinstance(err.value, itvrules.ItvRulesError)
    assert stock.available("伊山", "stb") == 0
    assert all(n > 0 for n in stock.counts().values())


def test_allocation_returns_the_event_to_record() -> None:
    event = stocked().allocate("伊山", "stb", account_id="A7", on=DAY, source="orders.csv", source_row=4)
    assert (event.kind, event.account_id, event.on) == (EventKind.TERMINAL_ALLOCATED, "A7", DAY)
    assert dict(event.data) == {"condition": "refurbished", "depot": "伊山", "terminal": "stb"}
    assert (event.source, event.source_row) == ("orders.csv", 4)


def test_recover_adds_refurbished_stock() -> None:
    stock = Stock(POLICY)
    event = stock.recover("城关", "stb", "e8b", account_id="A1", on=DAY)
    assert event.kind == EventKind.TERMINALS_RECOVERED and event.data["terminals"] == "stb,e8b"
    assert stock.counts() == {("城关", "e8b", "refurbished"): 1, ("城关", "stb", "refurbished"): 1}
    stock.recover("城关", "e8b", account_id="A2", on=DAY)
    assert stock.available("城关", "e8b", "refurbished") == 2
    assert stock.available("城关", "e8b", "new") == 0


def test_counts_are_per_depot() -> None:
    stock = Stock(POLICY)
    stock.receive("伊山", "e8b", "new", 5, on=DAY)
    stock.receive("城关", "e8b", "new", 1, on=DAY)
    stock.receive("城关", "ordinary", "refurbished", 3, on=DAY)
    stock.allocate("城关", "e8b", account_id="A1", on=DAY)
    with pytest.raises(StockError, match="城关"):
        stock.allocate("城关", "e8b", account_id="A2", on=DAY)  # 伊山's stock is not 城关's
    assert stock.counts() == {("伊山", "e8b", "new"): 5, ("城关", "ordinary", "refurbished"): 3}
    assert stock.by_depot() == {"伊山": {("e8b", "new"): 5}, "城关": {("ordinary", "refurbished"): 3}}


@pytest.mark.parametrize(("order", "expected"), [
    ("[new, refurbished]", ["new", "new", "refurbished", None]),
    ("[new]", ["new", "new", None, None]),  # a policy may forbid reuse: refurbished stays put
])
def test_the_allocation_order_is_the_policys(tmp_path: Path, order: str, expected: list[str | None]) -> None:
    text = Path(POLICY.source).read_text(encoding="utf-8")
    old = "allocation_order: [refurbished, new]"
    assert old in text
    path = tmp_path / "p.yaml"
    path.write_text(text.replace(old, f"allocation_order: {order}"), encoding="utf-8")
    stock = Stock(itvrules.load_policy(path))
    stock.receive("伊山", "stb", "new", 2, on=DAY)
    stock.recover("伊山", "stb", account_id="A1", on=DAY)
    taken: list[str | None] = []
    for i in range(4):
        try:
            taken.append(stock.allocate("伊山", "stb", account_id=f"A{i}", on=DAY).data["condition"])
        except StockError:
            taken.append(None)
    assert taken == expected


# -- replaying recorded events -------------------------------------------------------------------

def recorded() -> list[Event]:
    stock = Stock(POLICY)
    events = [stock.receive("伊山", "stb", "new", 2, on=date(2025, 3, 20)),
              stock.receive("伊山", "e8b", "new", 1, on=date(2025, 3, 20)),
              stock.allocate("伊山", "stb", account_id="A1", on=date(2025, 3, 28)),
              stock.allocate("伊山", "e8b", account_id="A1", on=date(2025, 3, 28)),
              stock.recover("伊山", "stb", "e8b", account_id="A1", on=date(2025, 6, 8)),
              stock.allocate("伊山", "stb", account_id="A2", on=date(2025, 6, 9))]
    assert stock.counts() == {("伊山", "e8b", "refurbished"): 1, ("伊山", "stb", "new"): 1}
    return events


def test_replaying_the_events_gives_the_same_counts() -> None:
    events = recorded()
    assert events[-1].data["condition"] == "refurbished"
    expected = {("伊山", "e8b", "refurbished"): 1, ("伊山", "stb", "new"): 1}
    assert Stock.from_events(POLICY, events).counts() == expected
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    assert Stock.from_events(POLICY, shuffled).counts() == expected


def test_replay_ignores_lifecycle_events_and_takes_a_days_arrivals_first() -> None:
    events = [Event(account_id="A1", kind="installed", on=DAY),
              Event(account_id="A1", kind="terminal_allocated", on=DAY,
                    data={"depot": "伊山", "terminal": "stb", "condition": "new"}),
              Event(account_id="depot:伊山", kind="stock_received", on=DAY,
                    data={"depot": "伊山", "terminal": "stb", "condition": "new", "quantity": "1"})]
    assert Stock.from_events(POLICY, events).counts() == {}


def test_replay_rejects_an_allocation_that_would_go_negative() -> None:
    events = recorded()
    bad = Event(account_id="A3", kind=EventKind.TERMINAL_ALLOCATED, on=date(2025, 6, 10),
                data={"depot": "伊山", "terminal": "e8b", "condition": "new"},
                source="ledger.jsonl", source_row=12)
    with pytest.raises(StockError, match=r"ledger\.jsonl, row 12") as err:
        Stock.from_events(POLICY, [*events, bad])
    assert (err.value.depot, err.value.terminal) == ("伊山", "e8b")
    assert (err.value.source, err.value.row) == ("ledger.jsonl", 12)
    assert "A3" in str(err.value)


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "field"), [
    (lambda s: s.receive("伊山", "tv", "new", 1, on=DAY), "terminal"),
    (lambda s: s.receive("伊山", "stb", "used", 1, on=DAY), "condition"),
    (lambda s: s.receive("伊山", "stb", "new", 0, on=DAY), "quantity"),
    (lambda s: s.receive("伊山", "stb", "new", -2, on=DAY), "quantity"),
    (lambda s: s.receive("伊山", "stb", "new", True, on=DAY), "quantity"),
    (lambda s: s.receive(" ", "stb", "new", 1, on=DAY), "depot"),
    (lambda s: s.receive("伊山", "stb", "new", 1, on="2025-04-01"), "on"),
    (lambda s: s.allocate("伊山", "STB", account_id="A1", on=DAY), "terminal"),
    (lambda s: s.allocate("", "stb", account_id="A1", on=DAY), "depot"),
    (lambda s: s.recover("伊山", "remote", account_id="A1", on=DAY), "terminals"),
    (lambda s: s.recover("伊山", account_id="A1", on=DAY), "terminals"),
    (lambda s: s.available("伊山", "stb", "old"), "condition"),
], ids=["terminal", "condition", "zero", "negative", "bool", "depot", "date", "case", "no-depot",
        "recover-unknown", "recover-nothing", "available-condition"])
def test_bad_values_are_input_errors(call: object, field: str) -> None:
    stock = stocked()
    before = stock.counts()
    with pytest.raises(itvrules.InputError) as err:
        call(stock)  # type: ignore[operator]
    assert err.value.field == field
    assert stock.counts() == before


@pytest.mark.parametrize(("account", "data", "field"), [
    ("depot:城关", {"depot": "伊山", "terminal": "stb", "condition": "new", "quantity": "1"}, "account_id"),
    ("depot:伊山", {"depot": "伊山", "terminal": "stb", "condition": "new", "quantity": "x"}, "quantity"),
    ("depot:伊山", {"depot": "伊山", "terminal": "stb", "condition": "new", "quantity": "２"}, "quantity"),
    ("depot:伊山", {"depot": "伊山", "terminal": "stb", "quantity": "1"}, "condition"),
    ("depot:伊山", {"terminal": "stb", "condition": "new", "quantity": "1"}, "depot"),
])
def test_bad_stock_events_are_named(account: str, data: dict[str, str], field: str) -> None:
    event = Event(account_id=account, kind=EventKind.STOCK_RECEIVED, on=DAY, data=data,
                  source="stock.csv", source_row=3)
    with pytest.raises(itvrules.InputError, match=r"stock\.csv, row 3") as err:
        Stock.from_events(POLICY, [event])
    assert err.value.field == field
