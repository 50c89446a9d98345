"""Where the ledger tests open ledgers (a SQLite file, or a fresh PostgreSQL schema), and
what they compare.

PostgreSQL runs when ``ITVRULES_TEST_POSTGRES_DSN`` is set. Without it the
PostgreSQL cases skip on a developer's machine but FAIL under CI (``CI`` set):
CI must exercise the server backend, never silently pass without it.
Each PostgreSQL ledger lives in its own uniquely named schema (selected
through the URL's ``search_path`` option), dropped when the test ends.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from itvrules.lifecycle._events import Event

BACKENDS = ["sqlite", "postgresql"]
DSN_VAR = "ITVRULES_TEST_POSTGRES_DSN"


class SqliteTarget:
    """Ledgers as files in a temporary directory."""

    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._made = 0

    def new_url(self) -> str:
        self._made += 1
        return f"sqlite:///{self._directory / f'ledger{self._made}.db'}"

    def raw(self, url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on a connection of its own (bypassing the ledger) and commit."""
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        finally:
            conn.close()

    def close(self) -> None:
        pass


class PostgresTarget:
    """Ledgers as fresh schemas in the test database."""

    name = "postgresql"

    def __init__(self, dsn: str) -> None:
        import psycopg

        self._dsn = dsn
        self._admin = psycopg.connect(dsn, autocommit=True)
        self._schemas: list[str] = []

    def new_url(self) -> str:
        schema = f"itvrules_test_{uuid.uuid4().hex[:16]}"
        self._admin.execute(f'CREATE SCHEMA "{schema}"')
        self._schemas.append(schema)
        joiner = "&" if "?" in self._dsn else "?"
        return f"{self._dsn}{joiner}options={quote(f'-csearch_path={schema}', safe='')}"

    def raw(self, url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), tuple(params))
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        for schema in self._schemas:
            self._admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._admin.close()


Target = SqliteTarget | PostgresTarget


def postgres_dsn() -> str:
    """The test DSN, or skip (developer machine) / fail (CI) without one."""
    dsn = os.environ.get(DSN_VAR)
    if dsn:
        return dsn
    message = f"{DSN_VAR} is not set: no PostgreSQL to test the server ledger against"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run these tests (.ci/run starts PostgreSQL)")
    pytest.skip(message)


@contextmanager
def open_target(kind: str, tmp_path: Path) -> Iterator[Target]:
    target: Target = SqliteTarget(tmp_path) if kind == "sqlite" else PostgresTarget(postgres_dsn())
    try:
        yield target
    finally:
        target.close()


def full(event: Event) -> tuple[Any, ...]:
    """Every field, including the source ones that Event equality leaves out."""
    return (event.account_id, event.kind, event.on, dict(event.data), event.source, event.source_row)


def expected_order(events: Sequence[Event]) -> list[Event]:
    """How a ledger returns events: by account (code point), then sort_key, insertion order on ties."""
    by_account: dict[str, list[Event]] = {}
    for event in events:
        by_account.setdefault(event.account_id, []).append(event)
    return [e for account in sorted(by_account) for e in sorted(by_account[account], key=Event.sort_key)]
