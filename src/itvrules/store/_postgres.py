"""The server ledger: PostgreSQL through psycopg 3, imported only when a URL asks for it.

A batch is copied (``COPY``) into a per-connection temporary table and moved
into the events table by one ``INSERT ... ON CONFLICT DO NOTHING``, whose row
count is the exact number of new events. Tables live in the first schema of
the connection's ``search_path`` (set it in the URL with
``?options=-csearch_path%3Dname``). ``account_id`` uses the "C" collation so
accounts sort by code point, as in SQLite and Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg

from ..lifecycle._events import Event
from ._base import SqlLedger
from ._codec import StoredRow, data_json
from ._protocol import StoreError
from ._secrets import mask_secrets

SCHEMA_VERSION = "1"
#: pg_advisory_xact_lock key that serialises schema creation ("itvrules" in ASCII).
_SCHEMA_LOCK = 0x6974_7672_756C_6573
#: pg_advisory_xact_lock key that admits one atomic writer (an ingest) at a time.
_WRITERS_LOCK = _SCHEMA_LOCK + 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    account_id text COLLATE "C" NOT NULL CHECK (account_id <> ''),
    kind       text NOT NULL,
    on_date    date NOT NULL,
    data       jsonb NOT NULL,
    source     text NOT NULL,
    source_row bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_events_by_account ON ledger_events (account_id, seq);
CREATE TABLE IF NOT EXISTS ledger_projections (
    account_id text COLLATE "C" PRIMARY KEY,
    projection jsonb NOT NULL
);
CREATE OR REPLACE FUNCTION ledger_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_events is append-only: % is not allowed', TG_OP;
END
$$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_events'::regclass
                   AND tgname = 'ledger_events_append_only') THEN
        CREATE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE ON ledger_events
            FOR EACH ROW EXECUTE FUNCTION ledger_events_append_only();
        CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_append_only();
    END IF;
END
$$;
"""

_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS ledger_staging (
    ord        integer NOT NULL,
    event_id   uuid NOT NULL,
    account_id text NOT NULL,
    kind       text NOT NULL,
    on_date    date NOT NULL,
    data       jsonb NOT NULL,
    source     text NOT NULL,
    source_row bigint NOT NULL
) ON COMMIT DELETE ROWS
"""

_COPY = ("COPY ledger_staging (ord, event_id, account_id, kind, on_date, data, source, source_row) "
         "FROM STDIN")
#: The first copy of an id within the batch wins; new rows keep the input order.
_MOVE = """
INSERT INTO ledger_events (event_id, account_id, kind, on_date, data, source, source_row)
SELECT event_id, account_id, kind, on_date, data, source, source_row
FROM (SELECT DISTINCT ON (event_id) * FROM ledger_staging ORDER BY event_id, ord) AS firsts
ORDER BY ord
ON CONFLICT (event_id) DO NOTHING
"""
_COLUMNS = "seq, event_id::text, account_id, kind, on_date, data, source, source_row"
_UPSERT_PROJECTION = (
    "INSERT INTO ledger_projections (account_id, projection) VALUES (%s, %s::jsonb) "
    "ON CONFLICT (account_id) DO UPDATE SET projection = EXCLUDED.projection"
)


def _row(raw: tuple[Any, ...]) -> StoredRow:
    return StoredRow(*raw)


class PostgresLedger(SqlLedger):
    """A ledger in a PostgreSQL schema; one autocommit connection, explicit transactions."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self._url_secret = url  # only ever used to mask the password out of driver messages
        self._where = self._mask(_redact(url))
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        try:
            conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL ledger {self._where}: "
                             f"{self._mask(str(exc))}") from None
        try:
            if read_only:
                version = self._read_version(conn)
            else:
                version = self._create_schema(conn)
                conn.execute(_STAGING)
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"{self._where} is not a usable itvrules ledger: "
                             f"{self._mask(str(exc))}") from None
        if version != SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{self._where} has ledger schema version {version}, "
                             f"this itvrules reads version {SCHEMA_VERSION}")
        self._conn = conn

    @staticmethod
    def _create_schema(conn: psycopg.Connection[tuple[Any, ...]]) -> str:
        """Create the tables once, under a lock so concurrent first opens do not race."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            if conn.execute("SELECT to_regclass('ledger_meta')").fetchone() == (None,):
                conn.execute(SCHEMA)
                conn.execute("INSERT INTO ledger_meta (key, value) VALUES ('schema_version', %s)",
                             (SCHEMA_VERSION,))
            found = conn.execute(
                "SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchone()
        return "" if found is None else str(found[0])

    def _read_version(self, conn: psycopg.Connection[tuple[Any, ...]]) -> str:
        """The schema version, creating nothing: a reader never starts a ledger."""
        if conn.execute("SELECT to_regclass('ledger_meta')").fetchone() == (None,):
            raise StoreError(f"no ledger at {self._where}: run `itvrules ingest FEED --db URL` "
                             "first to create one")
        found = conn.execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchone()
        return "" if found is None else str(found[0])

    def _mask(self, text: str) -> str:
        """``text`` without the URL's password, which a driver message may quote."""
        return mask_secrets(text, self._url_secret)

    def __repr__(self) -> str:
        return f"PostgresLedger({self._where!r})"

    @property
    def name(self) -> str:
        return self._where

    # -- primitives --------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is None:
            raise StoreError(f"the ledger {self._where} is closed")
        return self._conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL ledger {self._where}: {self._mask(str(exc))}") from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        conn = self._connection()
        with self._guard(), conn.transaction():
            yield

    def _insert(self, batch: Sequence[Event]) -> int:
        with self._guard(), self._connection().cursor() as cursor:
            with cursor.copy(_COPY) as copy:
                for ord_, e in enumerate(batch):
                    copy.write_row((ord_, e.event_id, e.account_id, e.kind.value, e.on,
                                    data_json(e.data), e.source, e.source_row))
            cursor.execute(_MOVE)
            return cursor.rowcount

    def _rows_of(self, account_ids: Sequence[str]) -> list[StoredRow]:
        with self._guard():
            cursor = self._connection().execute(
                f"SELECT {_COLUMNS} FROM ledger_events WHERE account_id = ANY(%s) "
                "ORDER BY account_id, seq",
                (list(account_ids),),
            )
            return [_row(raw) for raw in cursor]

    def _rows_after(self, account_id: str, seq: int, limit: int) -> list[StoredRow]:
        cursor = self._connection().execute(
            f"SELECT {_COLUMNS} FROM ledger_events WHERE (account_id, seq) > (%s, %s) "
            "ORDER BY account_id, seq LIMIT %s",
            (account_id, seq, limit),
        )
        return [_row(raw) for raw in cursor]

    def _accounts_after(self, account_id: str, limit: int) -> list[str]:
        cursor = self._connection().execute(
            "SELECT DISTINCT account_id FROM ledger_events WHERE account_id > %s "
            "ORDER BY account_id LIMIT %s",
            (account_id, limit),
        )
        return [str(account) for (account,) in cursor]

    def _projections_after(self, account_id: str, limit: int) -> list[tuple[str, Mapping[str, Any]]]:
        cursor = self._connection().execute(
            "SELECT account_id, projection FROM ledger_projections WHERE account_id > %s "
            "ORDER BY account_id LIMIT %s",
            (account_id, limit),
        )
        return [(str(account), projection) for account, projection in cursor]

    def _projection_of(self, account_id: str) -> Mapping[str, Any] | None:
        found = self._connection().execute(
            "SELECT projection FROM ledger_projections WHERE account_id = %s", (account_id,)
        ).fetchone()
        return None if found is None else dict(found[0])

    def _upsert_projections(self, items: Sequence[tuple[str, str]]) -> None:
        with self._guard(), self._connection().cursor() as cursor:
            cursor.executemany(_UPSERT_PROJECTION, items)

    def _delete_projections(self) -> None:
        with self._guard():
            self._connection().execute("DELETE FROM ledger_projections")

    def _lock_accounts(self, account_ids: Sequence[str]) -> None:
        # Transaction-scoped advisory locks, taken in key order so two batches cannot deadlock.
        keys = sorted({_lock_key(account) for account in account_ids})
        with self._guard():
            self._connection().execute(
                "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", (keys,))

    def _lock_for_rebuild(self) -> None:
        with self._guard():
            self._connection().execute("LOCK TABLE ledger_events IN SHARE MODE")

    def _lock_writers(self) -> None:
        with self._guard():
            self._connection().execute("SELECT pg_advisory_xact_lock(%s)", (_WRITERS_LOCK,))

    def _last_day(self) -> date | None:
        found = self._connection().execute("SELECT max(on_date) FROM ledger_events").fetchone()
        return None if found is None or found[0] is None else found[0]

    def _count(self) -> int:
        found = self._connection().execute("SELECT count(*) FROM ledger_events").fetchone()
        return 0 if found is None else int(found[0])

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _lock_key(account_id: str) -> int:
    """A stable signed 64-bit advisory-lock key for an account."""
    digest = hashlib.blake2b(account_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _redact(url: str) -> str:
    """The URL without its password, fit for an error message."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "<unparsable PostgreSQL URL>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})
