"""``itvrules ingest FEED...``: enrolment feeds into the ledger, as dated events.

Each row is read as ``bill`` reads it, turned into its events, and replayed
with what the ledger already holds for the account, as of ``--as-of``: a row
whose events the lifecycle refuses (out of order, dated after the run day, a
second acceptance, a usage record of an unknown enrolment) is rejected with
its source, row, field and error, and nothing of it is stored. The rest is
appended with a projector that stores each touched account's replayed state.
Events are identified by their content, so ingesting a feed again adds nothing.

A run is one ledger transaction: its feeds are stored whole (bad rows in the
rejects file) or, when anything fails part-way, not at all. Two runs on one
ledger take turns: the second waits, then checks its rows against what the
first stored.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from ._common import (
    OK,
    REJECTED,
    UsageError,
    add_column_option,
    as_of_option,
    columns_of,
    command_parser,
    debug_option,
    encoding_arg,
    load_policy_arg,
    note,
    out_encoding_arg,
    policy_options,
)
from ._ledger import (
    as_of,
    checked_day,
    db_name,
    db_url,
    ledger_option,
    lifecycle_projector,
    new_ledger_removed_on_failure,
    open_db,
)
from ._progress import progress_for
from ._records import FeedRecords

if TYPE_CHECKING:
    from ..hookspecs import RawRow
    from ..lifecycle import Event
    from ..policy._policy import Policy
    from ..runs._rows import HeaderMap
    from ..store import Ledger
    from ._steps import StepsCount

#: Events appended per transaction (rows are never split between two).
CHUNK_EVENTS = 2000
REJECTS_SUFFIX = ".rejects.csv"
SERVER_REJECTS = "ingest.rejects.csv"

EPILOG = """\
examples:
  itvrules ingest crm-feed.csv                         # into itvrules.db, as of today
  itvrules ingest week1.xlsx week2.xlsx --db ledger.db --as-of 2025-06-30
  itvrules ingest crm-feed.csv --usage viewing-hours.csv --rejects bad-rows.csv
  itvrules ingest crm-feed.csv --usage daily-viewing.csv --calls call-results.csv
  itvrules ingest crm-feed.csv --steps cancellation-steps.csv
  itvrules ingest crm-feed.csv && itvrules ingest crm-feed.csv   # the second adds nothing

--db postgresql://user@host/db keeps the ledger on a PostgreSQL server
(pip install 'itvrules[postgres]').

A usage file (CSV, XLSX or JSONL) has the columns account_id (宽带账号), hours
(收视时长) and month (月份, YYYY-MM) for monthly figures or day (日期) for daily
ones (a file may hold both kinds of rows); a month's hours are dated the first
day of the next month, a day's the day after, when the figure is known.

A call-result file has account_id (宽带账号), called_on (外呼日期), reached
(是否接通, 是/否), outcome (外呼结果, a code or the Chinese name of the policy's
operations.call_results.outcomes), and optionally problem (反映问题) and note
(备注).

A steps file has account_id (宽带账号), step (环节: the code, e.g.
support_centre, or its Chinese name, e.g. 支撑中心汇总) and done_on (完成日期),
optionally by (经办人) and, on the line worker's recovery row, depot (回收仓库):
the terminals still to take back return to that depot's stock. A step out of
order is rejected with the step expected; the other rows are still stored.

A run stores its feeds whole or not at all: a failure part-way (an unreadable
file, a full disk, a ledger that cannot be written) rolls everything back and
says so; run it again once the cause is fixed. Two runs on one ledger take
turns. --as-of may lie at most 400 days (ITVRULES_LIMIT_AS_OF_DAYS) past the
later of today and the ledger's last event.

exit status: 0 every row ingested; 3 some rows rejected (the rest stored, the
rejects file written); 2 usage error; 1 policy error, unreadable input or a
ledger that cannot be opened or written (then nothing of the run is stored).
"""


@attrs.frozen
class IngestSummary:
    """What one ingest did, row by row and event by event."""

    rows_in: int
    ingested: int
    rejected: int
    skipped: int  # blank rows and total rows: counted, not records
    headers: tuple[HeaderMap, ...]  # how each feed's headers were mapped
    usage_in: int
    usage_ingested: int
    usage_rejected: int
    added: int
    present: int
    rejects: str | None  # where the rejects went; None when none were written
    calls_in: int = 0
    calls_ingested: int = 0
    calls_rejected: int = 0
    steps_in: int = 0  # rows of the --steps file
    steps_ingested: int = 0
    steps_rejected: int = 0


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "ingest", help="store enrolment feeds in the ledger as dated events",
        description="Read the FEEDs (CSV, XLSX or JSONL, as for bill) into the event ledger: "
                    "every order becomes its dated events (accepted, installed, returned, "
                    "switched, cancellation requested and effective), checked by replaying the "
                    "account's lifecycle as of --as-of. Rows the lifecycle refuses go to the "
                    "rejects file; the others are stored with each account's replayed state. "
                    "Ingesting the same feed again adds nothing.",
        epilog=EPILOG,
        parents=[ledger_option(), as_of_option("the day the lifecycle is replayed to; events "
                                               "after it are rejected"),
                 policy_options(), debug_option()])
    parser.add_argument("feeds", metavar="FEED", nargs="+", help="CRM feed files; - reads stdin")
    parser.add_argument("--usage", metavar="FILE",
                        help="viewing hours per account and month (account_id, month, hours)")
    parser.add_argument("--calls", metavar="FILE",
                        help="outbound-call results (account_id, called_on, reached, outcome, "
                             "problem, note)")
    parser.add_argument("--steps", metavar="FILE",
                        help="cancellation-list steps done (account_id, step, done_on; optional by "
                             "and, on the line worker's recovery, depot)")
    parser.add_argument("--rejects", metavar="FILE",
                        help="where refused rows go, written every run (the header only when none were; "
                             "default: beside the ledger, "
                             f"itvrules.db -> itvrules{REJECTS_SUFFIX})")
    parser.add_argument("--format", dest="in_format", metavar="F",
                        help="read every feed as this format (csv, xlsx, jsonl) whatever its name")
    parser.add_argument("--encoding", type=encoding_arg, metavar="E",
                        help="encoding of CSV feeds (default: detected)")
    parser.add_argument("--out-format", metavar="F",
                        help="write the rejects in this format whatever the file name")
    parser.add_argument("--out-encoding", type=out_encoding_arg, metavar="E",
                        help="encoding of a CSV rejects file (default utf-8-sig)")
    parser.add_argument("--no-progress", action="store_true",
                        help="never show the progress line (it shows only on a terminal anyway)")
    add_column_option(parser)
    parser.set_defaults(handler=run)


def default_rejects(db: str | None) -> str:
    """``ledger.rejects.csv`` beside a SQLite ledger file; ``ingest.rejects.csv`` for a server."""
    from ..store import DEFAULT_PATH
    from ..store._open import MEMORY, is_conninfo, sqlite_path

    name = db if db is not None else DEFAULT_PATH
    if is_conninfo(name):
        return SERVER_REJECTS
    if name.startswith("sqlite://"):
        name = sqlite_path(name)
    elif "://" in name:
        return SERVER_REJECTS
    if name == MEMORY:
        return SERVER_REJECTS
    return os.path.splitext(name)[0] + REJECTS_SUFFIX


def run(args: argparse.Namespace) -> int:
    if args.rejects == "-":
        raise UsageError("ingest writes its rejects to a file: name one with --rejects FILE")
    if [args.usage, args.calls, args.steps, *args.feeds].count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    policy = load_policy_arg(args)
    progress = progress_for(sys.stderr, enabled=not args.no_progress)
    rejects = args.rejects if args.rejects is not None else default_rejects(db_url(args))
    try:
        with new_ledger_removed_on_failure(args), open_db(args, create=True) as ledger:
            day = checked_day(ledger, as_of(args))
            summary = ingest(policy, list(args.feeds), ledger, as_of=day, rejects=rejects,
                             usage=args.usage,
                             calls=args.calls, steps=args.steps,
                             in_format=args.in_format, encoding=args.encoding,
                             out_format=args.out_format, out_encoding=args.out_encoding,
                             engine=args.engine, progress=progress, columns=columns_of(args))
            events, accounts = ledger.count(), sum(1 for _ in ledger.accounts())
    finally:
        if progress is not None:
            progress.close()
    report(summary, db_name(args), as_of(args), events, accounts)
    return REJECTED if (summary.rejected or summary.usage_rejected or summary.calls_rejected
                        or summary.steps_rejected) else OK


def report(summary: IngestSummary, ledger: str, day: date, events: int, accounts: int) -> None:
    """The header maps, the counts (rows in = ingested + rejected + skipped), and events added
    or already there."""
    for header_map in summary.headers:
        note(str(header_map))
    note(f"rows in: {summary.rows_in}  ingested: {summary.ingested}  rejected: {summary.rejected}  "
         f"skipped: {summary.skipped}")
    if summary.usage_in:
        note(f"usage rows in: {summary.usage_in}  ingested: {summary.usage_ingested}  "
             f"rejected: {summary.usage_rejected}")
    if summary.calls_in:
        note(f"call rows in: {summary.calls_in}  ingested: {summary.calls_ingested}  "
             f"rejected: {summary.calls_rejected}")
    if summary.steps_in:
        note(f"step rows in: {summary.steps_in}  ingested: {summary.steps_ingested}  "
             f"rejected: {summary.steps_rejected}")
    note(f"events added: {summary.added}  already present: {summary.present}")
    note(f"ledger: {ledger} ({events} events, {accounts} accounts; states as of {day})")
    if summary.rejects is not None:
        note(f"rejects: {summary.rejects}")


def ingest(policy: Policy, feeds: Sequence[str], ledger: Ledger, *, as_of: date,
           rejects: str | None, usage: str | None = None,
           calls: str | None = None, steps: str | None = None,
           in_format: str | None = None, encoding: str | None = None,
           out_format: str | None = None, out_encoding: str | None = None,
           engine: str | None = None, progress: Callable[[int], None] | None = None,
           columns: Mapping[str, str] | None = None) -> IngestSummary:
    """Read ``feeds`` (and ``usage``, ``calls`` and ``steps`` files) into ``ledger``, replaying
    each account to ``as_of``: all in one transaction, so nothing is stored unless all is."""
    from .._errors import ItvRulesError, UsageError
    from .._paths import os_error_words
    from ..store import StoreError

    inputs = [*feeds, *(path for path in (usage, calls, steps) if path is not None)]
    stage = _Stage()
    try:
        with ledger.atomic():
            stage.locked = True
            return _ingest_all(policy, feeds, ledger, as_of=as_of, rejects=rejects, usage=usage,
                               calls=calls, steps=steps, in_format=in_format, encoding=encoding,
                               out_format=out_format, out_encoding=out_encoding, engine=engine,
                               progress=progress, columns=columns, stage=stage)
    except UsageError:
        raise
    except (ItvRulesError, OSError) as exc:
        if stage.locked and not stage.storing:
            raise  # found before anything was stored (an output path, a header): said as it is
        cause = os_error_words(exc) if isinstance(exc, OSError) else str(exc)
        raise StoreError(f"{', '.join('stdin' if p == '-' else p for p in inputs)}: nothing "
                         f"stored, the ingest was rolled back: {cause}") from exc


def _ingest_all(policy: Policy, feeds: Sequence[str], ledger: Ledger, *, as_of: date,
                rejects: str | None, usage: str | None, calls: str | None, steps: str | None,
                in_format: str | None, encoding: str | None, out_format: str | None,
                out_encoding: str | None, engine: str | None,
                progress: Callable[[int], None] | None,
                columns: Mapping[str, str] | None, stage: _Stage) -> IngestSummary:
    """The ingest itself, inside the caller's transaction."""
    from ..lifecycle import events_from_enrollment

    with FeedRecords(policy, feeds, target=rejects, in_format=in_format, encoding=encoding,
                     out_format=out_format, out_encoding=out_encoding, engine=engine,
                     progress=progress, columns=columns) as records:
        batch = _Batch(policy, ledger, as_of, engine, records, stage)
        ingested = 0
        for raw, enrollment in records.records():
            events = events_from_enrollment(enrollment, source=raw.source, source_row=raw.row)
            ingested += batch.offer(raw, events)
        rows_in, rejected = records.rows_in, records.rejected
        usage_in = usage_ingested = 0
        if usage is not None:
            batch.flush()  # usage rows may be of accounts this run enrolled
            for raw, event in _usage_events(usage, records, encoding):
                usage_in += 1
                if event is not None:
                    usage_ingested += batch.offer(raw, [event])
        usage_rejected = records.rejected - rejected
        calls_in, calls_ingested = _ingest_calls(policy, calls, batch, records, encoding)
        calls_rejected = records.rejected - rejected - usage_rejected
        steps_count = _steps(policy, steps, records, batch, encoding)
        batch.flush()
        # Every run writes its rejects (the header only when none), so the file beside the
        # ledger is never an earlier run's.
        written = records.write_rejects(always=True)
        return IngestSummary(rows_in, ingested, rejected, records.skipped, records.headers,
                             usage_in, usage_ingested, usage_rejected, batch.added, batch.present,
                             written, calls_in, calls_ingested, calls_rejected,
                             steps_count.rows_in, steps_count.ingested, steps_count.rejected)


def _steps(policy: Policy, path: str | None, records: FeedRecords, batch: _Batch,
           encoding: str | None) -> StepsCount:
    """The steps file, after the enrolments and usage it may refer to are stored."""
    from ._steps import StepsCount, ingest_steps

    if path is None:
        return StepsCount()
    batch.flush()
    return ingest_steps(policy, path, records, batch, encoding=encoding)


def _usage_events(path: str, records: FeedRecords,
                  encoding: str | None) -> Iterator[tuple[RawRow, Event | None]]:
    """(raw row, usage event or None when the row was rejected) for each row of the usage file.

    A monthly row is a ``usage`` event dated the first day of the next month;
    a daily row a ``daily_usage`` event dated the day after.
    """
    from datetime import timedelta

    from .._errors import InputError
    from ..lifecycle import Event, EventKind
    from ..model._months import first_day, parse_month
    from ._tables import read_table, usage_row

    fmt = "csv" if path == "-" else None
    for raw, values in read_table(path, "usage", in_format=fmt, encoding=encoding):
        if isinstance(values, InputError):
            records.reject(raw, values)
            yield raw, None
            continue
        try:
            account, month, day, hours = usage_row(values)
            if day is None:
                event = Event(account_id=account, kind=EventKind.USAGE,
                              on=first_day(parse_month(month) + 1),
                              data={"month": month, "hours": hours},
                              source=raw.source, source_row=raw.row)
            else:
                event = Event(account_id=account, kind=EventKind.DAILY_USAGE,
                              on=day + timedelta(days=1), data={"day": day.isoformat(), "hours": hours},
                              source=raw.source, source_row=raw.row)
        except InputError as exc:
            records.reject(raw, exc)
            yield raw, None
            continue
        yield raw, event


def _ingest_calls(policy: Policy, path: str | None, batch: _Batch, records: FeedRecords,
                  encoding: str | None) -> tuple[int, int]:
    """Offer each row of the call-result file to the batch: (rows in, rows ingested)."""
    if path is None:
        return 0, 0
    from .._errors import InputError
    from ..operations import call_event, call_vocabulary
    from ._tables import read_table

    vocabulary = call_vocabulary(policy)
    batch.flush()  # calls may be of accounts this run enrolled
    rows_in = ingested = 0
    fmt = "csv" if path == "-" else None
    for raw, values in read_table(path, "calls", in_format=fmt, encoding=encoding):
        rows_in += 1
        try:
            if isinstance(values, InputError):
                raise values
            event = call_event(vocabulary, values, source=raw.source, source_row=raw.row)
        except InputError as exc:
            records.reject(raw, exc)
            continue
        ingested += batch.offer(raw, [event])
    return rows_in, ingested


@attrs.define
class _Stage:
    """How far a run got: an error before it stores anything is not worded as a rollback."""

    locked: bool = False  # the ledger's write turn was taken
    storing: bool = False  # rows were offered for storing


class _Batch:
    """Rows checked against the lifecycle and waiting to be appended, one chunk at a time."""

    def __init__(self, policy: Policy, ledger: Ledger, day: date, engine: str | None,
                 records: FeedRecords, stage: _Stage) -> None:
        self.stage = stage
        self.policy = policy
        self.ledger = ledger
        self.day = day
        self.engine = engine
        self.records = records
        self.projector = lifecycle_projector(policy, day, engine)
        self.pending: list[Event] = []
        #: each account's events as they will stand once the pending ones are stored
        self.known: dict[str, list[Event]] = {}
        self.added = 0
        self.present = 0

    def events_of(self, account: str) -> list[Event]:
        """The account's events as they will stand once the pending ones are stored."""
        known = self.known.get(account)
        return list(known) if known is not None else list(self.ledger.events(account))

    def offer(self, raw: RawRow, events: list[Event]) -> bool:
        """Queue ``events`` if the account's lifecycle accepts them; else reject ``raw``."""
        from .._errors import InputError
        from ..lifecycle import replay

        self.stage.storing = True
        account = events[0].account_id
        base = self.known.get(account)
        if base is None:
            base = list(self.ledger.events(account))
        seen = {e.event_id for e in base}
        candidate = list(base)
        for event in events:
            if event.event_id not in seen:
                seen.add(event.event_id)
                candidate.append(event)
        try:
            replay(self.policy, candidate, as_of=self.day, engine=self.engine)
        except InputError as exc:
            self.records.reject(raw, exc)
            return False
        self.known[account] = candidate
        self.pending.extend(events)
        if len(self.pending) >= CHUNK_EVENTS:
            self.flush()
        return True

    def flush(self) -> None:
        """Append what is queued, with the projector, in one transaction."""
        if not self.pending:
            return
        result = self.ledger.append(self.pending, projector=self.projector,
                                    batch_size=len(self.pending))
        self.added += result.added
        self.present += result.duplicates
        self.pending = []
        self.known = {}
