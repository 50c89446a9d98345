"""The embedded ledger: one SQLite file (or memory), WAL journal, full fsync per commit.

Dates are stored as ISO text and converted explicitly both ways (the
``sqlite3`` module's default date adapters are deprecated since Python 3.12
and never used here); data and projections are JSON text. One connection per
ledger, in autocommit mode, so every transaction is an explicit
``BEGIN IMMEDIATE`` ... ``COMMIT`` that takes the write lock up front.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any
from urllib.parse import quote

from .._words import quoted
from ..lifecycle._events import Event
from ._base import SqlLedger
from ._codec import StoredRow, data_json, unreadable_row
from ._protocol import StoreError

SCHEMA_VERSION = "1"
#: How long a writer waits for another's transaction (an ingest holds one for its whole run).
BUSY_SECONDS = 60.0

#: Idempotent; the triggers make the events table insert-only (an INSERT OR
#: REPLACE would delete without firing delete triggers, hence the insert guard).
SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_events (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL CHECK (account_id <> ''),
    kind       TEXT NOT NULL,
    on_date    TEXT NOT NULL CHECK (on_date = date(on_date)),
    data       TEXT NOT NULL CHECK (json_valid(data)),
    source     TEXT NOT NULL,
    source_row INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_events_by_account ON ledger_events (account_id, seq);
CREATE TABLE IF NOT EXISTS ledger_projections (
    account_id TEXT PRIMARY KEY,
    projection TEXT NOT NULL CHECK (json_valid(projection))
);
CREATE TRIGGER IF NOT EXISTS ledger_events_no_update BEFORE UPDATE ON ledger_events
BEGIN
    SELECT RAISE(ABORT, 'ledger_events is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN
    SELECT RAISE(ABORT, 'ledger_events is append-only: DELETE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS ledger_events_no_replace BEFORE INSERT ON ledger_events
WHEN EXISTS (SELECT 1 FROM ledger_events WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'ledger_events is append-only: an insert may not replace a stored event');
END;
CREATE TRIGGER IF NOT EXISTS ledger_events_known_id BEFORE INSERT ON ledger_events
WHEN EXISTS (SELECT 1 FROM ledger_events WHERE event_id = NEW.event_id)
BEGIN
    SELECT RAISE(IGNORE);
END;
"""

_COLUMNS = "seq, event_id, account_id, kind, on_date, data, source, source_row"
_INSERT = (
    "INSERT INTO ledger_events (event_id, account_id, kind, on_date, data, source, source_row) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
)
_UPSERT_PROJECTION = (
    "INSERT INTO ledger_projections (account_id, projection) VALUES (?, ?) "
    "ON CONFLICT (account_id) DO UPDATE SET projection = excluded.projection"
)


def _date_to_sql(day: date) -> str:
    return day.isoformat()


def _date_from_sql(text: str) -> date:
    return date.fromisoformat(text)


def _row(raw: tuple[Any, ...], where: str) -> StoredRow:
    """A stored row decoded; a value no writer of this library stores is a StoreError naming it."""
    seq, event_id, account_id, kind, on_date, data, source, source_row = raw
    try:
        on = _date_from_sql(on_date)
    except (TypeError, ValueError):
        raise unreadable_row(where, seq, account_id, "on_date", on_date, "not a date") from None
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError):
        raise unreadable_row(where, seq, account_id, "data", data, "not JSON") from None
    return StoredRow(seq, event_id, account_id, kind, on, decoded, source, source_row)


def _connect(path: str, mode: str) -> sqlite3.Connection:
    """A connection in autocommit mode; ``mode`` ro or rw opens through a URI, so nothing is
    created and a read-only file needs no write access."""
    if path == ":memory:" or mode == "rwc":
        return sqlite3.connect(path, isolation_level=None, timeout=BUSY_SECONDS)
    uri = f"file:{quote(os.path.abspath(path))}?mode={mode}"
    return sqlite3.connect(uri, isolation_level=None, timeout=BUSY_SECONDS, uri=True)


class SqliteLedger(SqlLedger):
    """A ledger in one SQLite database; ``":memory:"`` for a throw-away one."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False,
                 must_exist: bool = False) -> None:
        self._where = os.fspath(path)
        self._name = quoted(self._where)
        self._conn: sqlite3.Connection | None = None
        self._savepoints = 0
        mode = "ro" if read_only else "rw" if must_exist else "rwc"
        try:
            conn = _connect(self._where, mode)
        except sqlite3.Error as exc:
            missing = mode != "rwc" and not os.path.exists(self._where)
            raise StoreError(f"cannot open SQLite ledger {self._name}: "
                             f"{'no such file' if missing else exc}") from exc
        try:
            if read_only:
                conn, version = self._open_read_only(conn)
            else:
                version = self._set_up(conn)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.rollback()
            conn.close()
            if read_only and not os.path.exists(self._where):
                raise StoreError(f"cannot open SQLite ledger {self._name}: no such file") from exc
            raise StoreError(f"{self._name} is not a usable itvrules ledger: {exc}") from exc
        if version != SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{self._name} has ledger schema version {version}, "
                             f"this itvrules reads version {SCHEMA_VERSION}")
        self._conn = conn

    def _open_read_only(self, conn: sqlite3.Connection) -> tuple[sqlite3.Connection, str]:
        """The connection and schema version of a ledger opened read only.

        A WAL ledger read without write access to its folder cannot make the
        shared-memory file SQLite reads through; when no write-ahead log is
        pending (every transaction checkpointed into the file), the file is
        read as immutable instead, which needs neither.
        """
        try:
            return conn, self._read_version(conn)
        except sqlite3.OperationalError:
            wal = self._where + "-wal"
            if not os.path.isfile(self._where) or (os.path.exists(wal) and os.path.getsize(wal)):
                raise
            conn.close()
            conn = _connect(self._where, "ro&immutable=1")
            return conn, self._read_version(conn)

    @staticmethod
    def _read_version(conn: sqlite3.Connection) -> str:
        """The schema version of a ledger opened read only (nothing is created or switched)."""
        found = conn.execute(
            "SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchone()
        return "" if found is None else str(found[0])

    @staticmethod
    def _set_up(conn: sqlite3.Connection) -> str:
        """WAL mode and the schema; the schema version found.

        Switching a new database to WAL needs an exclusive lock and SQLite does
        not wait for it (no busy handler), so two processes opening the same new
        ledger retry for a while instead of failing with "database is locked".
        """
        for attempt in range(100):
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.05)
        conn.execute("PRAGMA synchronous = FULL")
        conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\n"
                           "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', "
                           f"'{SCHEMA_VERSION}') ON CONFLICT (key) DO NOTHING;\nCOMMIT;")
        (version,) = conn.execute(
            "SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchone()
        return str(version)

    def __repr__(self) -> str:
        return f"SqliteLedger({self._where!r})"

    @property
    def name(self) -> str:
        return self._name

    # -- primitives --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the ledger {self._name} is closed")
        return self._conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, UnicodeError) as exc:
            raise StoreError(f"SQLite ledger {self._name}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` (the write lock, taken up front); inside one, a savepoint."""
        conn = self._connection()
        if conn.in_transaction:
            with self._savepoint(conn):
                yield
            return
        with self._guard():
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                # The original error says more than a failed rollback would.
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        with self._guard():
            conn.execute("COMMIT")

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A nested transaction: rolled back alone on an exception, kept with the outer one."""
        self._savepoints += 1
        name = f"itvrules_{self._savepoints}"
        try:
            with self._guard():
                conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            with self._guard():
                conn.execute(f"RELEASE {name}")
        finally:
            self._savepoints -= 1

    def _insert(self, batch: Sequence[Event]) -> int:
        conn = self._connection()
        before = conn.total_changes
        with self._guard():
            conn.executemany(_INSERT, [
                (e.event_id, e.account_id, e.kind.value, _date_to_sql(e.on), data_json(e.data),
                 e.source, e.source_row)
                for e in batch
            ])
        return conn.total_changes - before

    def _rows_of(self, account_ids: Sequence[str]) -> list[StoredRow]:
        with self._guard():
            cursor = self._connection().execute(
                f"SELECT {_COLUMNS} FROM ledger_events "
                "WHERE account_id IN (SELECT value FROM json_each(?)) ORDER BY account_id, seq",
                (json.dumps(list(account_ids)),),
            )
            return [_row(raw, self._name) for raw in cursor]

    def _rows_after(self, account_id: str, seq: int, limit: int) -> list[StoredRow]:
        cursor = self._connection().execute(
            f"SELECT {_COLUMNS} FROM ledger_events WHERE (account_id, seq) > (?, ?) "
            "ORDER BY account_id, seq LIMIT ?",
            (account_id, seq, limit),
        )
        return [_row(raw, self._name) for raw in cursor]

    def _accounts_after(self, account_id: str, limit: int) -> list[str]:
        cursor = self._connection().execute(
            "SELECT DISTINCT account_id FROM ledger_events WHERE account_id > ? "
            "ORDER BY account_id LIMIT ?",
            (account_id, limit),
        )
        return [account for (account,) in cursor]

    def _projections_after(self, account_id: str, limit: int) -> list[tuple[str, Mapping[str, Any]]]:
        cursor = self._connection().execute(
            "SELECT account_id, projection FROM ledger_projections WHERE account_id > ? "
            "ORDER BY account_id LIMIT ?",
            (account_id, limit),
        )
        return [(account, json.loads(text)) for account, text in cursor]

    def _projection_of(self, account_id: str) -> Mapping[str, Any] | None:
        found = self._connection().execute(
            "SELECT projection FROM ledger_projections WHERE account_id = ?", (account_id,)
        ).fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def _upsert_projections(self, items: Sequence[tuple[str, str]]) -> None:
        with self._guard():
            self._connection().executemany(_UPSERT_PROJECTION, items)

    def _delete_projections(self) -> None:
        with self._guard():
            self._connection().execute("DELETE FROM ledger_projections")

    def _lock_accounts(self, account_ids: Sequence[str]) -> None:
        """Nothing to do: BEGIN IMMEDIATE already admits one writer at a time."""

    def _lock_writers(self) -> None:
        """Nothing to do: BEGIN IMMEDIATE already admits one writer at a time."""

    def _last_day(self) -> date | None:
        (text,) = self._connection().execute("SELECT max(on_date) FROM ledger_events").fetchone()
        if text is None:
            return None
        try:
            return _date_from_sql(text)
        except (TypeError, ValueError):
            seq, account = self._connection().execute(
                "SELECT seq, account_id FROM ledger_events WHERE on_date = ?", (text,)).fetchone()
            raise unreadable_row(self._name, seq, account, "on_date", text, "not a date") from None

    def _lock_for_rebuild(self) -> None:
        """Nothing to do: BEGIN IMMEDIATE already admits one writer at a time."""

    def _count(self) -> int:
        (count,) = self._connection().execute("SELECT count(*) FROM ledger_events").fetchone()
        return int(count)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
