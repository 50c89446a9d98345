"""The event ledger, on SQLite and on PostgreSQL: storage, idempotency, projections, atomicity."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itvrules import InputError, ItvRulesError
from itvrules.lifecycle._events import Event, EventKind
from itvrules.store import AppendResult, Ledger, StoreError, open_ledger
from itvrules.store._open import sqlite_path
from store_targets import Target, expected_order, full, open_target, postgres_dsn


def ev(account: str, kind: str, on: date, source_row: int = 0, **data: str) -> Event:
    return Event(account_id=account, kind=EventKind(kind), on=on, data=data, source="feed.csv",
                 source_row=source_row)


def summary(account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
    """A projector that depends on every event and on their order."""
    return {
        "account": account_id,
        "count": len(events),
        "ids": [e.event_id for e in events],
        "kinds": [e.kind.value for e in events],
        "last_on": events[-1].on.isoformat(),
    }


D = date(2025, 4, 1)

SAMPLE = [
    ev("3301001", "accepted", D, 1, channel="营业厅", phone="13800000001"),
    ev("3301001", "installed", D + timedelta(3), 2, note='引号"、反斜杠\\、制表\t与换行\n'),
    ev("3301002", "accepted", D, 3, channel="社区经理", name="𠮷䶮"),
    ev("3301001", "usage", D + timedelta(30), 4, month="2025-04", hours="12.5"),
    ev("3301002", "returned", D + timedelta(2), 5, reason="线路不通，需线路优化"),
    ev("depot:城关", "stock_received", date(1, 1, 1), 6, depot="城关", quantity="3"),
    ev("3301003", "cancel_requested", date(9999, 12, 31), 7),
]


# -- storing and reading -----------------------------------------------------------------------


def test_append_and_read_back_equal_events(ledger: Ledger) -> None:
    result = ledger.append(SAMPLE)
    assert result == AppendResult(added=len(SAMPLE), duplicates=0)
    assert ledger.count() == len(SAMPLE)
    stored = list(ledger.events())
    assert [full(e) for e in stored] == [full(e) for e in expected_order(SAMPLE)]
    assert all(type(e.on) is date for e in stored)
    assert stored[0].data == {"channel": "营业厅", "phone": "13800000001"}
    assert list(ledger.accounts()) == ["3301001", "3301002", "3301003", "depot:城关"]
    assert [full(e) for e in ledger.events("3301002")] == [full(SAMPLE[2]), full(SAMPLE[4])]
    assert list(ledger.events("no-such-account")) == []


def test_same_day_events_follow_the_policy_order_then_insertion(ledger: Ledger) -> None:
    day = date(2025, 5, 6)
    stream = [
        ev("A", "cancel_requested", day),
        ev("A", "usage", day, month="2025-05", hours="3"),
        ev("A", "installed", day),
        ev("A", "usage", day, month="2025-04", hours="9"),
        ev("A", "accepted", day - timedelta(1)),
    ]
    ledger.append(stream)
    kinds = [(e.kind.value, e.data.get("month")) for e in ledger.events("A")]
    assert kinds == [("accepted", None), ("installed", None), ("cancel_requested", None),
                     ("usage", "2025-05"), ("usage", "2025-04")]


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
def test_pages_of_any_size_give_the_same_streams(ledger: Ledger, page_size: int) -> None:
    stream = [ev(f"A{i % 4}", "usage", D, i, month=f"2025-{i % 12 + 1:02d}", hours=str(i)) for i in range(11)]
    ledger.append([*stream, *SAMPLE], projector=summary)
    ledger.page_size = page_size  # type: ignore[attr-defined]
    assert [full(e) for e in ledger.events()] == [full(e) for e in expected_order([*stream, *SAMPLE])]
    accounts = sorted({e.account_id for e in [*stream, *SAMPLE]})
    assert list(ledger.accounts()) == accounts
    assert [a for a, _ in ledger.projections()] == accounts


_TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_RAW_EVENTS = st.lists(st.tuples(
    st.text(_TEXT, min_size=1, max_size=12),
    st.sampled_from(list(EventKind)),
    st.dates(),
    st.dictionaries(st.text(_TEXT, max_size=8), st.text(_TEXT, max_size=20), max_size=3),
), min_size=1, max_size=8)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=_RAW_EVENTS)
def test_any_text_and_date_round_trip(
    ledger: Ledger, raw: list[tuple[str, EventKind, date, dict[str, str]]]
) -> None:
    nonce = uuid.uuid4().hex[:8]  # examples share the ledger; each has its own accounts
    stream = [Event(account_id=f"{nonce}{account}", kind=kind, on=on, data=data)
              for account, kind, on, data in raw]
    assert ledger.append(stream).added == len({e.event_id for e in stream})
    for account in {e.account_id for e in stream}:
        firsts: dict[str, Event] = {}
        for event in stream:
            if event.account_id == account:
                firsts.setdefault(event.event_id, event)
        expected = expected_order(list(firsts.values()))
        assert [full(e) for e in ledger.events(account)] == [full(e) for e in expected]


def test_text_no_backend_can_store_is_refused_before_anything_is_written(ledger: Ledger) -> None:
    bad = ev("A", "accepted", D, note="nul\x00inside")
    with pytest.raises(StoreError, match="NUL"):
        ledger.append([ev("B", "accepted", D), bad])
    with pytest.raises(InputError, match="surrogate"):  # the event itself refuses it
        ledger.append([ev("A\ud800", "accepted", D)])
    with pytest.raises(StoreError, match="Event objects"):
        ledger.append([("A", "accepted")])  # type: ignore[list-item]
    assert ledger.count() == 0


# -- idempotency -------------------------------------------------------------------------------


def test_ingesting_the_same_events_twice_changes_nothing(target: Target) -> None:
    url = target.new_url()
    stream = [*SAMPLE, *(ev(f"C{i:03d}", "accepted", D + timedelta(i % 9), i) for i in range(40))]
    with open_ledger(url) as ledger:
        first = ledger.append(stream, projector=summary, batch_size=7)
        ids = [e.event_id for e in ledger.events()]
        projections = dict(ledger.projections())
    with open_ledger(url) as ledger:
        second = ledger.append(stream, projector=summary, batch_size=5)
        assert first == AppendResult(added=len(stream), duplicates=0)
        assert second == AppendResult(added=0, duplicates=len(stream))
        assert ledger.count() == len(stream)
        assert [e.event_id for e in ledger.events()] == ids
        assert dict(ledger.projections()) == projections
    seqs = target.raw(url, "SELECT seq, event_id FROM ledger_events ORDER BY seq")
    assert [str(event_id) for _seq, event_id in seqs] == [e.event_id for e in stream]


def test_duplicates_inside_one_batch_count_once_and_the_first_source_wins(ledger: Ledger) -> None:
    first = ev("A", "accepted", D, 10, channel="营业厅")
    again = Event(account_id="A", kind=EventKind.ACCEPTED, on=D, data={"channel": "营业厅"},
                  source="other.xlsx", source_row=99)
    assert ledger.append([first, again, first]) == AppendResult(added=1, duplicates=2)
    (stored,) = ledger.events()
    assert (stored.source, stored.source_row) == ("feed.csv", 10)


# -- projections -------------------------------------------------------------------------------


def test_projections_follow_every_batch(ledger: Ledger) -> None:
    ledger.append(SAMPLE[:3], projector=summary)
    assert ledger.projection("3301001") == summary("3301001", list(ledger.events("3301001")))
    assert ledger.projection("3301002") is not None
    assert ledger.projection("3301002")["count"] == 1  # type: ignore[index]
    ledger.append(SAMPLE[3:], projector=summary, batch_size=2)
    for account in ledger.accounts():
        assert ledger.projection(account) == summary(account, list(ledger.events(account)))
    assert ledger.projection("3301002")["count"] == 2  # type: ignore[index]
    assert ledger.projection("nobody") is None


def test_projection_is_computed_inside_the_batch_transaction(target: Target) -> None:
    url = target.new_url()
    seen: list[tuple[str, int, int]] = []
    with open_ledger(url) as ledger, open_ledger(url) as other:

        def spy(account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
            # The projector sees the batch's events; another connection does not yet.
            seen.append((account_id, len(events), other.count()))
            return {"count": len(events)}

        ledger.append(SAMPLE[:2], projector=spy, batch_size=2)
        ledger.append(SAMPLE[2:5], projector=spy, batch_size=3)
        assert other.count() == 5
        assert other.projection("3301001") == {"count": 3}
    assert seen == [("3301001", 2, 0), ("3301001", 3, 2), ("3301002", 2, 2)]


def test_rebuild_equals_incremental(ledger: Ledger) -> None:
    stream = [ev(f"R{i % 13:02d}", "usage", D + timedelta(i % 5), i, month="2025-04", hours=str(i))
              for i in range(100)]
    ledger.append([*SAMPLE, *stream], projector=summary, batch_size=9)
    incremental = dict(ledger.projections())
    assert len(incremental) == len(list(ledger.accounts()))
    assert ledger.rebuild_projections(summary) == len(incremental)
    assert dict(ledger.projections()) == incremental


def test_rebuild_replaces_projections_of_another_projector(ledger: Ledger) -> None:
    ledger.append(SAMPLE)
    assert list(ledger.projections()) == []
    assert ledger.rebuild_projections(lambda a, es: {"n": len(es)}) == 4
    assert ledger.projection("3301001") == {"n": 3}
    assert ledger.rebuild_projections(summary) == 4
    assert ledger.projection("3301001") == summary("3301001", list(ledger.events("3301001")))


class Boom(Exception):
    pass


def test_a_failing_projector_rolls_back_its_whole_batch_only(ledger: Ledger) -> None:
    stream = [ev(f"A{i}", "accepted", D, i) for i in range(10)]

    def fussy(account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
        if account_id == "A6":
            raise Boom(account_id)
        return summary(account_id, events)

    with pytest.raises(Boom):
        ledger.append(stream, projector=fussy, batch_size=4)
    assert ledger.count() == 4
    assert list(ledger.accounts()) == ["A0", "A1", "A2", "A3"]
    assert [a for a, _ in ledger.projections()] == ["A0", "A1", "A2", "A3"]
    assert ledger.append(stream, projector=summary, batch_size=4) == AppendResult(added=6, duplicates=4)
    assert [a for a, _ in ledger.projections()] == [f"A{i}" for i in range(10)]


def test_a_projection_that_is_not_json_is_a_store_error_and_rolls_back(ledger: Ledger) -> None:
    ledger.append(SAMPLE[:1], projector=summary)
    with pytest.raises(StoreError, match="not JSON"):
        ledger.append(SAMPLE[1:3], projector=lambda a, es: {"on": es[0].on})
    with pytest.raises(StoreError, match="expected a mapping"):
        ledger.append(SAMPLE[1:3], projector=lambda a, es: [1, 2])  # type: ignore[arg-type,return-value]
    assert ledger.count() == 1
    assert ledger.projection("3301001") == summary("3301001", SAMPLE[:1])


def test_concurrent_appends_to_the_same_accounts_keep_projections_true(target: Target) -> None:
    url = target.new_url()

    def slow(account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
        time.sleep(0.01)  # widen the window between reading events and writing the projection
        return summary(account_id, events)

    def writer(name: str) -> None:
        stream = [ev(f"K{i % 4}", "usage", D + timedelta(i), i, month="2025-04", hours=name)
                  for i in range(40)]
        with open_ledger(url) as ledger:
            ledger.append(stream, projector=slow, batch_size=3)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open_ledger(url) as ledger:
        assert ledger.count() == 80
        truth = {a: summary(a, list(ledger.events(a))) for a in ledger.accounts()}
        assert dict(ledger.projections()) == truth


# -- streaming ---------------------------------------------------------------------------------


def test_events_of_many_accounts_stream_without_loading_all(ledger: Ledger) -> None:
    stream = [ev(f"S{i // 3:05d}", "usage", D + timedelta(i % 3), i, month="2025-04", hours=str(i))
              for i in range(6000)]
    ledger.append(stream, batch_size=2000)
    ledger.page_size = 200  # type: ignore[attr-defined]

    tracemalloc.start()
    try:
        streamed = 0
        first: Event | None = None
        for event in ledger.events():
            first = first or event
            streamed += 1
        _now, streaming_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        everything = list(ledger.events())
        _now, list_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streamed == len(everything) == 6000
    assert first == everything[0] == stream[0]
    assert streaming_peak * 5 < list_peak, (streaming_peak, list_peak)


def test_a_stream_is_lazy_and_sees_later_accounts(ledger: Ledger) -> None:
    ledger.append([ev(f"L{i:03d}", "accepted", D) for i in range(5)])
    ledger.page_size = 2  # type: ignore[attr-defined]
    accounts = ledger.accounts()
    assert next(accounts) == "L000"
    ledger.append([ev("Z999", "accepted", D)])
    assert list(accounts) == ["L001", "L002", "L003", "L004", "Z999"]


# -- append-only -------------------------------------------------------------------------------


def _tamper_statements(kind: str) -> list[str]:
    common = [
        "UPDATE ledger_events SET kind = 'installed'",
        "UPDATE ledger_events SET data = '{}' WHERE seq = 1",
        "DELETE FROM ledger_events",
        "DELETE FROM ledger_events WHERE seq = 1",
    ]
    if kind == "sqlite":
        return [*common,
                "INSERT OR REPLACE INTO ledger_events (seq, event_id, account_id, kind, on_date, data, "
                "source, source_row) VALUES (1, 'x', 'A', 'accepted', '2025-01-01', '{}', '', 0)"]
    return [*common,
            "TRUNCATE ledger_events",
            "INSERT INTO ledger_events (event_id, account_id, kind, on_date, data, source, source_row) "
            "SELECT event_id, account_id, 'installed', on_date, data, source, source_row "
            "FROM ledger_events ON CONFLICT (event_id) DO UPDATE SET kind = EXCLUDED.kind"]


def test_the_events_table_only_takes_inserts(target: Target) -> None:
    url = target.new_url()
    with open_ledger(url) as ledger:
        ledger.append(SAMPLE, projector=summary)
        before = [full(e) for e in ledger.events()]
    for statement in _tamper_statements(target.name):
        with pytest.raises(Exception, match="append-only"):
            target.raw(url, statement)
    with open_ledger(url) as ledger:
        assert [full(e) for e in ledger.events()] == before
        # Projections are derived data: they may be cleared and rebuilt.
        target.raw(url, "DELETE FROM ledger_projections")
        assert ledger.rebuild_projections(summary) == 4


def test_a_tampered_event_is_reported_not_returned(tmp_path: Path) -> None:
    path = tmp_path / "tampered.db"
    with open_ledger(path) as ledger:
        ledger.append(SAMPLE[:2])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER ledger_events_no_update")
    conn.execute("UPDATE ledger_events SET on_date = '2025-04-02' WHERE seq = 1")
    conn.close()
    with open_ledger(path) as ledger, pytest.raises(StoreError, match="seq 1 is corrupt"):
        list(ledger.events())


# -- both backends agree -----------------------------------------------------------------------


def test_sqlite_and_postgresql_agree(tmp_path: Path) -> None:
    with open_target("postgresql", tmp_path) as pg, open_ledger(tmp_path / "l.db") as lite, \
            open_ledger(pg.new_url()) as server:
        stream = [*SAMPLE, *(ev(f"P{i % 7}", "usage", D + timedelta(i % 4), i, month="2025-04",
                                 hours=str(i), 备注="中文") for i in range(50))]
        assert lite.append(stream, projector=summary, batch_size=6) == \
            server.append(stream, projector=summary, batch_size=11)
        assert [full(e) for e in lite.events()] == [full(e) for e in server.events()]
        assert list(lite.accounts()) == list(server.accounts())
        assert list(lite.projections()) == list(server.projections())
        assert lite.count() == server.count() == len(stream)


# -- opening -----------------------------------------------------------------------------------


def test_urls_name_the_backend_and_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_ledger() as ledger:
        ledger.append(SAMPLE[:1])
    assert (tmp_path / "itvrules.db").is_file()
    with open_ledger("sqlite:///itvrules.db") as same, open_ledger(tmp_path / "itvrules.db") as path, \
            open_ledger(f"sqlite:///{tmp_path / 'itvrules.db'}") as absolute, \
            open_ledger("itvrules.db") as plain:
        assert same.count() == path.count() == absolute.count() == plain.count() == 1
    with open_ledger("sqlite://:memory:") as memory:
        assert memory.count() == 0
        memory.append(SAMPLE)
        assert memory.count() == len(SAMPLE)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["itvrules.db"]
    assert sqlite_path("sqlite://") == sqlite_path("sqlite:///:memory:") == ":memory:"
    assert sqlite_path("sqlite:////var/x.db") == "/var/x.db"


@pytest.mark.parametrize("url, problem", [
    ("mysql://localhost/db", "unknown ledger URL scheme"),
    ("sqlite://relative.db", "cannot read SQLite URL"),
    ("", "empty ledger URL"),
])
def test_bad_urls_are_store_errors(url: str, problem: str) -> None:
    with pytest.raises(StoreError, match=problem):
        open_ledger(url)


def test_store_error_is_an_itvrules_error() -> None:
    assert issubclass(StoreError, ItvRulesError)


def test_a_missing_driver_is_a_clear_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "itvrules.store._postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"needs psycopg 3: pip install 'itvrules\[postgres\]'"):
        open_ledger("postgresql://nobody@127.0.0.1:1/none")


def test_files_that_are_not_ledgers_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable itvrules ledger"):
        open_ledger(junk)
    with pytest.raises(StoreError, match=r"cannot open SQLite ledger|not a usable"):
        open_ledger(tmp_path / "no" / "such" / "dir.db")


def test_a_newer_schema_version_is_refused(target: Target) -> None:
    url = target.new_url()
    open_ledger(url).close()
    target.raw(url, "UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        open_ledger(url)


def test_a_closed_ledger_says_so(ledger: Ledger) -> None:
    ledger.close()
    ledger.close()
    with pytest.raises(StoreError, match="closed"):
        ledger.count()
    with pytest.raises(StoreError, match="closed"):
        ledger.append(SAMPLE)


@pytest.mark.parametrize("size", [0, -1, 1.5, True])
def test_batch_size_must_be_a_positive_integer(ledger: Ledger, size: Any) -> None:
    with pytest.raises(StoreError, match="batch_size"):
        ledger.append(SAMPLE, batch_size=size)


def test_postgres_connection_failure_is_a_store_error_without_the_password() -> None:
    postgres_dsn()  # the driver is there when PostgreSQL is tested
    with pytest.raises(StoreError, match="cannot connect") as raised:
        open_ledger("postgresql://someone:s3cret@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "s3cret" not in str(raised.value)


def test_several_writers_can_open_one_new_sqlite_ledger_at_once(tmp_path: Path) -> None:
    """Switching a new database to WAL takes an exclusive lock SQLite does not wait for."""

    def opener(url: str, errors: list[BaseException]) -> None:
        try:
            with open_ledger(url) as ledger:
                ledger.count()
        except BaseException as exc:
            errors.append(exc)

    for attempt in range(15):
        url = str(tmp_path / f"new-{attempt}.db")
        errors: list[BaseException] = []
        threads = [threading.Thread(target=opener, args=(url, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
