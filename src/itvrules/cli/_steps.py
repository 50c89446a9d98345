"""``ingest --steps FILE``: steps of the cancellation list done, read from a feed (§四(五)2).

A steps file (CSV, XLSX or JSONL, English or Chinese headers) has one row per
step done: account_id (宽带账号), step (环节: the code or the policy's Chinese
name), done_on (完成日期), optionally by (经办人) and, on the line worker's
recovery row, depot (回收仓库): the terminals still to take back then return to
that depot's stock. Rows are offered in date order whatever their order in the
file; a row the account's list refuses (out of order, already done, a
cancellation before install) is rejected with its reason, the others are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ..hookspecs import RawRow
    from ..lifecycle import Event
    from ..policy._policy import Policy
    from ._ingest import _Batch
    from ._records import FeedRecords

#: Where a recovery recorded through a steps feed says it came from.
SOURCE = "itvrules cancellations"


@attrs.frozen
class StepRow:
    """One row of a steps file, read and checked on its own."""

    raw: RawRow
    account_id: str
    step: str
    done_on: date
    by: str
    depot: str


@attrs.frozen
class StepsCount:
    """Rows of a steps file: read, stored, refused."""

    rows_in: int = 0
    ingested: int = 0
    rejected: int = 0


def ingest_steps(policy: Policy, path: str, records: FeedRecords, batch: _Batch, *,
                 encoding: str | None) -> StepsCount:
    """Offer every row of the steps file ``path`` to ``batch``; rejects go to ``records``."""
    from .._errors import InputError

    before = records.rejected
    rows: list[StepRow] = []
    rows_in = 0
    for _raw, row in _read(policy, path, records, encoding):
        rows_in += 1
        if row is not None:
            rows.append(row)
    rank = {s["step"]: i for i, s in enumerate(policy.document.operations["cancellation_steps"])}
    rows.sort(key=lambda r: (r.done_on, rank[r.step], r.raw.source, r.raw.row))
    ingested = 0
    for row in rows:
        try:
            events = _events(policy, row, batch)
        except InputError as exc:
            records.reject(row.raw, exc)
            continue
        ingested += batch.offer(row.raw, events)
    return StepsCount(rows_in, ingested, records.rejected - before)


def _read(policy: Policy, path: str, records: FeedRecords,
          encoding: str | None) -> Iterator[tuple[RawRow, StepRow | None]]:
    """(raw row, the row read, or None when it was rejected) for every row of ``path``."""
    from .._errors import InputError
    from ._tables import read_table

    fmt = "csv" if path == "-" else None
    for raw, values in read_table(path, "steps", in_format=fmt, encoding=encoding):
        if isinstance(values, InputError):
            records.reject(raw, values)
            yield raw, None
            continue
        try:
            row = step_row(policy, raw, values)
        except InputError as exc:
            records.reject(raw, exc)
            yield raw, None
            continue
        yield raw, row


def step_row(policy: Policy, raw: RawRow, values: Mapping[str, Any]) -> StepRow:
    """A steps file's row as fields: the step named by code or Chinese name, the day parsed."""
    from .._errors import InputError
    from ..model._parse import parse_date
    from ..operations import step_code
    from ._tables import _text as text_cell

    account = text_cell("account_id", values.get("account_id"))
    step = step_code(policy, text_cell("step", values.get("step")))
    cell = values.get("done_on")
    try:
        done_on = parse_date(cell.strip() if isinstance(cell, str) else cell)
    except ValueError as exc:
        raise InputError("done_on", cell, str(exc)) from None
    return StepRow(raw, account, step, done_on, text_cell("by", values.get("by"), required=False),
                   text_cell("depot", values.get("depot"), required=False))


def _events(policy: Policy, row: StepRow, batch: _Batch) -> list[Event]:
    """The step's event, and on a recovery row with a depot, the terminals it takes back."""
    from ..operations import step_event

    event = step_event(policy, row.account_id, row.step, row.done_on, by=row.by,
                       source=row.raw.source, source_row=row.raw.row)
    if not row.depot:
        return [event]
    recovered = recovery_event(policy, batch.events_of(row.account_id), row.step, row.depot,
                               account_id=row.account_id, on=row.done_on, source=row.raw.source,
                               source_row=row.raw.row)
    return [event] if recovered is None else [event, recovered]


def recovery_event(policy: Policy, events: list[Event], step: str, depot: str, *, account_id: str,
                   on: date, source: str = SOURCE,
                   source_row: int = 0) -> Event | None:
    """The terminals the line worker's step takes back into ``depot``; None when none are left.

    Raises ``InputError`` (field ``depot``) for a depot on another step
    than the list's last, or a cancellation that has not taken effect by ``on``.
    """
    from .._errors import InputError
    from ..lifecycle import replay
    from ..operations import Stock, cancellation_list, cancellation_steps

    last = cancellation_steps(policy)[-1]
    if step != last.step:
        raise InputError("depot", depot, f"only the last step, {last.step} ({last.name}), returns "
                         "terminals to a depot")
    known = [e for e in events if e.on <= on]
    state = replay(policy, known, as_of=on) if known else None
    listed = cancellation_list(policy, state) if state is not None else None
    if state is None or listed is None:
        raise InputError("depot", depot, f"account {account_id} has no cancellation by {on}")
    if not any(c.change == "cancelled" for c in state.terminal_changes):
        raise InputError("depot", depot, f"the cancellation of account {account_id} has not taken "
                         f"effect by {on}: no terminals to take back yet")
    if not listed.missing:
        return None
    return Stock(policy).recover(depot, *listed.missing, account_id=account_id, on=on,
                                 source=source, source_row=source_row)
