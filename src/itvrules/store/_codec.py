"""Events and projections to and from database rows, identically for every backend.

Backends decode their own column types (ISO text or ``date``, JSON text or
``jsonb``) into a ``StoredRow``; everything after that (rebuilding the
event, checking it is intact, grouping by account, sorting) happens here, so
SQLite and PostgreSQL cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import groupby, islice
from typing import Any, NamedTuple, TypeVar

from .._words import quoted
from ..lifecycle._events import Event
from ._protocol import Projector, StoreError

T = TypeVar("T")


class StoredRow(NamedTuple):
    """One row of the events table, decoded to Python types."""

    seq: int
    event_id: str
    account_id: str
    kind: str
    on: date
    data: Mapping[str, Any]
    source: str
    source_row: int


def check_event(event: object) -> Event:
    """Refuse what no backend can store alike: non-events, NUL characters, lone surrogates.

    SQLite would keep a NUL that PostgreSQL rejects; checking here keeps the
    two backends giving the same answer.
    """
    if not isinstance(event, Event):
        raise StoreError(f"a ledger stores Event objects, got {type(event).__name__}")
    text = "".join((event.account_id, event.source, *event.data.keys(), *event.data.values()))
    if "\x00" in text:
        raise StoreError(f"{_name(event)} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(f"{_name(event)} is not valid Unicode: {exc}") from None
    return event


def _name(event: Event) -> str:
    """How an error names an event (its id cannot be computed for every bad text)."""
    where = f" ({event.source}, row {event.source_row})" if event.source else ""
    return (f"the {event.kind.value} event of {event.on.isoformat()} for account "
            f"{quoted(event.account_id)}{where}")


def unreadable_row(where: str, seq: object, account_id: object, field: str, value: object,
                   problem: str) -> StoreError:
    """The error for a stored value no writer of this library stores (a row written by hand)."""
    return StoreError(f"ledger {where}: stored event seq {seq} of account {quoted(account_id)}: "
                      f"{field} {quoted(value)} is {problem}; the row was not written by itvrules")


def data_json(data: Mapping[str, str]) -> str:
    """The JSON text of an event's data: keys sorted, Chinese kept readable."""
    return json.dumps(dict(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def projection_json(account_id: str, projection: object) -> str:
    """The JSON text of a projection; anything that is not a JSON object is a StoreError."""
    if not isinstance(projection, Mapping):
        raise StoreError(
            f"the projector returned {type(projection).__name__} for account {quoted(account_id)}, "
            "expected a mapping"
        )
    try:
        return json.dumps(dict(projection), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"the projection of account {quoted(account_id)} is not JSON: {exc}") from exc


def event_from_row(row: StoredRow, where: str = "") -> Event:
    """Rebuild an event and prove it intact: its content must hash to the stored id."""
    ledger = f"ledger {where}: " if where else ""
    try:
        event = Event(account_id=row.account_id, kind=row.kind, on=row.on, data=row.data,
                      source=row.source, source_row=row.source_row)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{ledger}stored event seq {row.seq} of account {quoted(row.account_id)} "
                         f"cannot be read: {exc}") from exc
    if event.event_id != row.event_id:
        raise StoreError(
            f"{ledger}stored event seq {row.seq} is corrupt: its content hashes to "
            f"{event.event_id}, stored as {row.event_id}"
        )
    return event


def by_account(rows: Iterable[StoredRow], where: str = "") -> Iterator[tuple[str, list[Event]]]:
    """Group rows ordered by (account, seq) into each account's events sorted by sort_key.

    The sort is stable, so same-day events of the same kind keep their
    insertion order, as ``sorted(events, key=Event.sort_key)`` would.
    """
    for account_id, group in groupby(rows, key=lambda row: row.account_id):
        events = [event_from_row(row, where) for row in group]
        events.sort(key=Event.sort_key)
        yield account_id, events


def project(projector: Projector, groups: Iterable[tuple[str, list[Event]]]) -> list[tuple[str, str]]:
    """(account, projection JSON) for every group; the projector's own errors propagate."""
    return [(account_id, projection_json(account_id, projector(account_id, events)))
            for account_id, events in groups]


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items, pulled lazily."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
