"""The ledger contract every backend keeps: the API the CLI and reports use.

A ledger is append-only: events go in, never change and never leave. Each
account may also have a *projection* (a JSON document derived from all its
events by a caller's projector); projections live in their own table and can
always be rebuilt from the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from types import TracebackType
from typing import Any, Protocol, Self

import attrs

from .._errors import ItvRulesError
from ..lifecycle._events import Event

#: account_id and all of its stored events (sorted) -> a JSON-able projection.
Projector = Callable[[str, Sequence[Event]], Mapping[str, Any]]


class StoreError(ItvRulesError):
    """The ledger cannot be opened, read or written (including a missing driver)."""


@attrs.frozen
class AppendResult:
    """What one ``Ledger.append`` did: every event given is counted once."""

    added: int
    """Events newly stored."""
    duplicates: int
    """Events already in the ledger (same ``event_id``, or twice in the input), ignored."""


class Ledger(Protocol):
    """An append-only store of ``Event`` with per-account projections."""

    def append(
        self,
        events: Iterable[Event],
        *,
        projector: Projector | None = None,
        batch_size: int = 1000,
    ) -> AppendResult:
        """Store ``events`` in batches, each batch one transaction.

        A batch inserts its new events (duplicates by ``event_id`` are ignored)
        and, with a ``projector``, recomputes the projection of every account
        the batch touched from all of that account's stored events, in the same
        transaction. A crash keeps every committed batch whole and no part of
        the batch in flight; an exception from the projector rolls its batch
        back and propagates, leaving earlier batches committed (inside
        ``atomic``, nothing of the block is committed).
        """
        ...

    def atomic(self) -> AbstractContextManager[None]:
        """A block whose appends commit together at its end, or not at all.

        An exception inside rolls back everything the block wrote; a crash
        leaves none of it. Blocks are serialised: a second one waits until the
        first ends, and then sees what it wrote. ``ingest`` runs in one, so a
        feed is stored whole or not at all.
        """
        ...

    def last_day(self) -> date | None:
        """The date of the latest stored event, or None when the ledger is empty."""
        ...

    @property
    def name(self) -> str:
        """How messages name the ledger: its file, or its server URL without the password."""
        ...

    def events(self, account_id: str | None = None) -> Iterator[Event]:
        """Stored events by account (code-point order), then ``Event.sort_key``.

        Streams page by page; events of the same sort key keep their insertion
        order.
        """
        ...

    def accounts(self) -> Iterator[str]:
        """Every account with at least one event, in code-point order."""
        ...

    def projection(self, account_id: str) -> Mapping[str, Any] | None:
        """The stored projection of one account, or None."""
        ...

    def projections(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """Every stored projection, by account."""
        ...

    def rebuild_projections(self, projector: Projector) -> int:
        """Replace all projections by ``projector`` over the events, in one transaction.

        Returns the number of projections written (one per account).
        """
        ...

    def count(self) -> int:
        """Number of stored events."""
        ...

    def close(self) -> None:
        """Release the connection; closing twice is harmless."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
