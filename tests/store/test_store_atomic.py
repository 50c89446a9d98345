"""``Ledger.atomic()``, ``last_day()``, read-only opening and what a hand-written row says, on
every backend."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest

from itvrules.lifecycle import Event, EventKind
from itvrules.store import Ledger, StoreError, open_ledger
from itvrules.store._open import display_url, mask_secrets, sqlite_target
from store_targets import Target


def accepted(account: str, day: date = date(2025, 4, 1)) -> Event:
    return Event(account_id=account, kind=EventKind.ACCEPTED, on=day,
                 data={"product": "brand"}, source="feed.csv", source_row=2)


def project(account_id: str, events: object) -> dict[str, object]:
    return {"account_id": account_id, "events": len(list(events))}  # type: ignore[call-overload]


def test_an_atomic_block_that_fails_leaves_nothing_of_its_appends(ledger: Ledger) -> None:
    ledger.append([accepted("K0")], projector=project)
    before = (ledger.count(), list(ledger.projections()))
    with pytest.raises(RuntimeError, match="late"), ledger.atomic():
        ledger.append([accepted(f"A{n}") for n in range(5)], projector=project)
        ledger.append([accepted(f"B{n}") for n in range(5)], projector=project)
        assert ledger.count() == 11  # the block sees its own appends
        raise RuntimeError("late failure")
    assert (ledger.count(), list(ledger.projections())) == before


def test_an_atomic_block_commits_all_its_appends_at_its_end(target: Target) -> None:
    url = target.new_url()
    with open_ledger(url) as ledger, open_ledger(url) as other:
        with ledger.atomic():
            ledger.append([accepted("A1")], projector=project)
            ledger.append([accepted("A2")], projector=project)
            assert other.count() == 0  # nothing is visible before the block ends
        assert other.count() == 2
        assert dict(other.projections())["A2"] == {"account_id": "A2", "events": 1}


def test_a_failed_append_inside_a_block_is_undone_alone(ledger: Ledger) -> None:
    def refuse_b(account_id: str, events: object) -> dict[str, object]:
        if account_id.startswith("B"):
            raise ValueError("no B")
        return project(account_id, events)

    with ledger.atomic():
        ledger.append([accepted("A1")], projector=refuse_b)
        with pytest.raises(ValueError, match="no B"):
            ledger.append([accepted("B1"), accepted("A2")], projector=refuse_b)
    assert sorted(ledger.accounts()) == ["A1"]


def test_atomic_blocks_take_turns_and_the_second_sees_the_first(target: Target) -> None:
    url = target.new_url()
    open_ledger(url).close()
    order: list[str] = []
    seen: list[int] = []
    started = threading.Event()

    def first() -> None:
        with open_ledger(url) as ledger, ledger.atomic():
            started.set()
            ledger.append([accepted("F1")], projector=project)
            time.sleep(0.5)
            order.append("first done")

    def second() -> None:
        started.wait()
        with open_ledger(url) as ledger, ledger.atomic():
            order.append("second in")
            seen.append(ledger.count())
            ledger.append([accepted("S1")], projector=project)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert order == ["first done", "second in"]
    assert seen == [1]
    with open_ledger(url) as ledger:
        assert ledger.count() == 2


def test_last_day_is_the_latest_stored_event(ledger: Ledger) -> None:
    assert ledger.last_day() is None
    ledger.append([accepted("A1", date(2025, 4, 1)), accepted("A2", date(2025, 6, 9)),
                   accepted("A3", date(2025, 5, 1))])
    assert ledger.last_day() == date(2025, 6, 9)


def test_a_read_only_ledger_reads_and_refuses_writes(target: Target) -> None:
    url = target.new_url()
    with open_ledger(url) as ledger:
        ledger.append([accepted("A1")])
    with open_ledger(url, read_only=True) as reader:
        assert reader.count() == 1
        if target.name == "sqlite":
            with pytest.raises(StoreError, match="readonly"):
                reader.append([accepted("A2")])


def test_a_reader_creates_no_ledger(target: Target, tmp_path: Path) -> None:
    url = target.new_url()  # a fresh schema or file name: no tables yet
    with pytest.raises(StoreError, match=r"no ledger at|no such file"):
        open_ledger(url, read_only=True)
    if target.name == "sqlite":
        assert not list(tmp_path.glob("*.db*"))


def test_a_hand_written_impossible_date_is_named_with_ledger_seq_account_and_field(
        tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "ledger.db"
    with open_ledger(db) as ledger:
        ledger.append([accepted("A1")])
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("INSERT INTO ledger_events (event_id, account_id, kind, on_date, data, source, "
                 "source_row) VALUES ('x', 'A2', 'accepted', '2025-02-30', '{}', 'hand', 1)")
    conn.execute("INSERT INTO ledger_events (event_id, account_id, kind, on_date, data, source, "
                 "source_row) VALUES ('y', 'A3', 'accepted', '2025-02-01', '{', 'hand', 2)")
    conn.close()
    with open_ledger(db) as ledger:
        with pytest.raises(StoreError) as raised:
            list(ledger.events("A2"))
        assert str(raised.value) == (
            f"ledger '{db}': stored event seq 2 of account 'A2': on_date '2025-02-30' is not a "
            "date; the row was not written by itvrules")
        with pytest.raises(StoreError, match=r"seq 3 of account 'A3': data '\{' is not JSON"):
            list(ledger.events("A3"))


@pytest.mark.parametrize("url, path, mode", [
    ("sqlite:///x.db", "x.db", "rwc"),
    ("sqlite:///x.db?mode=ro", "x.db", "ro"),
    ("sqlite:///x.db?mode=rw", "x.db", "rw"),
    ("sqlite:////var/a%20b.db?mode=ro", "/var/a b.db", "ro"),
    ("sqlite://", ":memory:", "rwc"),
])
def test_sqlite_urls_are_read_with_their_mode(url: str, path: str, mode: str) -> None:
    target = sqlite_target(url)
    assert (target.path, target.mode) == (path, mode)


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:p%40ss@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgresql://u:p@ss/w@h/db?x=1", "postgresql://u:***@h/db?x=1"),
    ("postgres://h/db?password=zz&sslmode=require", "postgres://h/db?password=***&sslmode=require"),
    ("host=h user=u password='a b' dbname=d", "host=h user=u password=*** dbname=d"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
    ("ledger.db", "ledger.db"),
])
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_a_drivers_message_loses_the_password_in_either_spelling() -> None:
    url = "postgresql://u:s3cr%2Ft@h/db"
    assert mask_secrets("auth failed for s3cr/t (s3cr%2Ft)", url) == "auth failed for *** (***)"
