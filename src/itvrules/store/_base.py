"""The ledger's behaviour, written once over a few SQL primitives each backend supplies.

Batching, projection recompute, streaming by keyset pages and the
rebuild all live here; a backend only says how to run a transaction, insert
a batch, and fetch pages of rows. Pages are keyed by (account_id, seq), so
a reader never holds a cursor open across a caller's work and never loads
the whole ledger.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from types import TracebackType
from typing import Any, Self

from .._words import quoted
from ..lifecycle._events import Event
from ._codec import StoredRow, batches, by_account, check_event, project
from ._protocol import AppendResult, Projector, StoreError

#: Rows fetched per query when streaming; small enough to bound memory.
PAGE_SIZE = 1000
#: Projections written per statement during a rebuild.
_REBUILD_CHUNK = 500


class SqlLedger(abc.ABC):
    """A ledger over one database connection; subclasses supply the SQL."""

    page_size: int = PAGE_SIZE

    # -- primitives a backend supplies ------------------------------------------------------

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """Commit on success, roll back on any exception, translate driver errors."""

    @abc.abstractmethod
    def _guard(self) -> AbstractContextManager[None]:
        """Translate driver errors into StoreError outside a transaction."""

    @abc.abstractmethod
    def _insert(self, batch: Sequence[Event]) -> int:
        """Insert the batch, skipping known event ids; return how many were new."""

    @abc.abstractmethod
    def _rows_of(self, account_ids: Sequence[str]) -> list[StoredRow]:
        """All rows of these accounts, ordered by (account_id, seq)."""

    @abc.abstractmethod
    def _rows_after(self, account_id: str, seq: int, limit: int) -> list[StoredRow]:
        """Up to ``limit`` rows after (account_id, seq), ordered by (account_id, seq)."""

    @abc.abstractmethod
    def _accounts_after(self, account_id: str, limit: int) -> list[str]:
        """Up to ``limit`` distinct accounts after ``account_id``."""

    @abc.abstractmethod
    def _projections_after(self, account_id: str, limit: int) -> list[tuple[str, Mapping[str, Any]]]:
        """Up to ``limit`` projections after ``account_id``."""

    @abc.abstractmethod
    def _projection_of(self, account_id: str) -> Mapping[str, Any] | None: ...

    @abc.abstractmethod
    def _upsert_projections(self, items: Sequence[tuple[str, str]]) -> None:
        """Insert or replace (account_id, projection JSON) pairs."""

    @abc.abstractmethod
    def _delete_projections(self) -> None: ...

    @abc.abstractmethod
    def _count(self) -> int: ...

    @abc.abstractmethod
    def _lock_accounts(self, account_ids: Sequence[str]) -> None:
        """Serialise concurrent batches that project the same accounts, so that no batch
        projects from a view that misses another's events."""

    @abc.abstractmethod
    def _lock_for_rebuild(self) -> None:
        """Keep appends out while a rebuild reads every event."""

    @abc.abstractmethod
    def _lock_writers(self) -> None:
        """Admit one ``atomic`` writer at a time, until its transaction ends."""

    @abc.abstractmethod
    def _last_day(self) -> date | None:
        """The latest ``on_date`` stored, or None for an empty ledger."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """How messages name this ledger (a server URL without its password)."""

    @abc.abstractmethod
    def _close(self) -> None: ...

    # -- the Ledger API ----------------------------------------------------------------------

    def append(
        self,
        events: Iterable[Event],
        *,
        projector: Projector | None = None,
        batch_size: int = 1000,
    ) -> AppendResult:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise StoreError(f"batch_size must be a positive integer, got {quoted(batch_size)}")
        added = duplicates = 0
        for batch in batches(events, batch_size):
            checked = [check_event(event) for event in batch]
            touched = sorted({event.account_id for event in checked})
            with self._transaction():
                if projector is not None:
                    self._lock_accounts(touched)
                new = self._insert(checked)
                if projector is not None:
                    rows = self._rows_of(touched)
                    self._upsert_projections(project(projector, by_account(rows, self.name)))
            added += new
            duplicates += len(checked) - new
        return AppendResult(added=added, duplicates=duplicates)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction around everything written inside: whole, or nothing at all.

        Writers are serialised: a second ``atomic`` block waits for the first to
        end before it reads anything, so what it checks is what it appends to.
        """
        with self._transaction():
            self._lock_writers()
            yield

    def last_day(self) -> date | None:
        with self._guard():
            return self._last_day()

    def events(self, account_id: str | None = None) -> Iterator[Event]:
        if account_id is not None:
            with self._guard():
                rows = self._rows_of([account_id])
            for _account, events in by_account(rows, self.name):
                yield from events
            return
        for _account, events in by_account(self._all_rows(), self.name):
            yield from events

    def accounts(self) -> Iterator[str]:
        last = ""
        while True:
            with self._guard():
                page = self._accounts_after(last, self.page_size)
            yield from page
            if len(page) < self.page_size:
                return
            last = page[-1]

    def projection(self, account_id: str) -> Mapping[str, Any] | None:
        with self._guard():
            return self._projection_of(account_id)

    def projections(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        last = ""
        while True:
            with self._guard():
                page = self._projections_after(last, self.page_size)
            yield from page
            if len(page) < self.page_size:
                return
            last = page[-1][0]

    def rebuild_projections(self, projector: Projector) -> int:
        written = 0
        with self._transaction():
            self._lock_for_rebuild()
            self._delete_projections()
            for chunk in batches(by_account(self._all_rows(), self.name), _REBUILD_CHUNK):
                self._upsert_projections(project(projector, chunk))
                written += len(chunk)
        return written

    def count(self) -> int:
        with self._guard():
            return self._count()

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------

    def _all_rows(self) -> Iterator[StoredRow]:
        """Every row by (account_id, seq), one keyset page at a time."""
        account_id, seq = "", 0
        while True:
            with self._guard():
                page = self._rows_after(account_id, seq, self.page_size)
            yield from page
            if len(page) < self.page_size:
                return
            account_id, seq = page[-1].account_id, page[-1].seq
