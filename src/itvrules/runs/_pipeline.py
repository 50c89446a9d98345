"""Feeds in, decisions and rejects out: what ``itvrules bill`` and ``eligibility`` run.

The run streams. Rows are read one at a time, parsed, checked and decided
(bills through ``Policy.fees``, which shares one engine call among equal
cases), then written; rejects are spooled to a temporary file. What stays in
memory is one row, the set of account ids seen (one trial per
account) and the names of the columns read, so a million-row feed runs in bounded
memory. No row is lost: every row read is decided or rejected, and the run
checks ``rows_in == decided + rejected + skipped`` before it reports: blank
rows and total rows (``_rows.RowReader.skip``) are counted, not decided.

A bad row never stops a run; a file that cannot be read at all (encoding, not
a spreadsheet, empty, a required column missing) does, with an
``InputError`` naming it, and leaves no half-written export behind
(``_run_files``). Rejected rows are spooled by ``_rejects``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import IO, TYPE_CHECKING, Any

import attrs
import pluggy

from .._errors import InputError, UsageError
from .._extras import installed, require
from ..contract import RunChecks
from ..hookspecs import ArrowBatchReader, ArrowTableWriter, FeedReader, RawRow, TextColumnsWriter
from ..model._inputs import Enrollment
from ..model._money import CENT
from ..model._months import parse_month
from ._common import (
    BACKENDS,
    BILL_COLUMNS,
    ELIGIBILITY_COLUMNS,
    STDIN_SOURCE,
    RunSummary,
    billing_cycle,
    record_id,
    worded,
)
from ._common import account_of as _account
from ._files import (
    STDIN,
    check_feed,
    check_target,
    check_usage,
    default_rejects,
    open_source,
    open_target,
    probe,
)
from ._placeholders import PlaceholderTally
from ._plugins import plugin_manager, reader_for, writer_for
from ._rejects import REJECT_COLUMNS, RejectSpool
from ._rows import (
    BILL,
    ELIGIBILITY,
    ColumnMap,
    ColumnsError,
    NearMissError,
    RowReader,
    header_of,
)

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ..model._results import Eligibility, FeeDecision
    from ..policy._policy import Policy

#: ``progress`` is called with the rows read so far this often, and once at the end.
PROGRESS_EVERY = 10_000
#: What the columnar bill path imports: the columnar extra.
COLUMNAR_MODULES = ("numpy", "polars")
#: The format of standard input and output when none is named.
STREAM_FORMAT = "csv"


def run_bill(policy: Policy, month: str, feeds: Sequence[str], output: str, *,
             rejects: str | None = None, engine: str | None = None, in_format: str | None = None,
             out_format: str | None = None, encoding: str | None = None,
             out_encoding: str | None = None, pm: pluggy.PluginManager | None = None,
             progress: Callable[[int], None] | None = None,
             stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None,
             backend: str = "auto", columns: Mapping[str, str] | None = None) -> RunSummary:
    """Decide billing ``month`` ("YYYY-MM") for every enrolment in ``feeds``; write the bill export.

    ``backend`` is ``"rows"`` (one row at a time), ``"columnar"`` (whole columns
    at a time, same results) or ``"auto"``: columnar when it can serve the run,
    rows otherwise. Which bulk path serves it is chosen by what its reader and
    writer declare (``itvrules.hookspecs.CAPABILITIES``), never by their class:
    one feed whose reader opens Arrow batches, to a writer that takes Arrow
    tables, is served by ``_parquet.bill_parquet``; readers and a writer of
    text columns by ``_columnar``.

    ``columns`` maps a feed's headers to fields (``{"完工日期": "completed_on"}``)
    where the known names do not; an empty field ignores the header. A header
    that resembles a known name stops the run unless it is mapped.
    """
    parse_month(month)
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}")
    run = _Run(BILL, policy, feeds, output, rejects, engine, in_format, out_format, encoding,
               out_encoding, pm, progress, stdin, stdout, columns=columns)
    if backend == "auto" and not installed(*COLUMNAR_MODULES):
        backend = "rows"  # a light install bills row by row; the columnar extra only makes it faster
    if backend != "rows":
        require("the columnar backend", *COLUMNAR_MODULES)
        from ._bulk_text import bill_columnar, obstacle

        not_arrow = _arrow_obstacle(run)
        if not_arrow is None:
            from ._bulk_arrow import bill_parquet

            reader, writer = run.feeds[0][1], run.writer
            assert isinstance(reader, ArrowBatchReader) and isinstance(writer, ArrowTableWriter)
            return bill_parquet(policy, month, run.feeds[0][0], output, rejects=rejects, pm=run.pm,
                                progress=progress, columns=columns, reader=reader,
                                writer=writer)
        # An export that takes tables but not text columns is written in bulk by the Arrow path
        # only: say why that cannot serve.
        tables_only = (isinstance(run.writer, ArrowTableWriter)
                       and not isinstance(run.writer, TextColumnsWriter))
        why = not_arrow if tables_only else obstacle(run, auto=backend == "auto")
        if why is None:
            return bill_columnar(run, month, PROGRESS_EVERY)
        if backend == "columnar":
            raise UsageError(f"the columnar backend cannot serve this run: {why}; "
                             f"use --backend rows or auto")
    return run.execute(lambda sink: run.bill(sink, month))


def _arrow_obstacle(run: _Run) -> str | None:
    """Why the Arrow bill path (``_parquet.bill_parquet``) cannot serve ``run``, or None.

    It reads one feed from a file as Arrow batches and writes the built-in bill
    columns as Arrow tables, deciding through ``Policy.fees_frame``: the reader
    must declare ``ArrowBatchReader`` and the writer ``ArrowTableWriter`` (the
    built-in Parquet ones do); plug-ins that work on single rows, and a run
    that asks for the durable engine, keep to the rows.
    """
    if not isinstance(run.writer, ArrowTableWriter):
        return f"the {run.writer.name} output format takes no Arrow tables"
    if len(run.feeds) != 1:
        return "the Arrow path reads one feed a run; this run has several"
    feed, reader = run.feeds[0]
    if not isinstance(reader, ArrowBatchReader):
        return f"{feed} is read as {reader.name}, which gives no Arrow batches"
    if STDIN in (feed, run.output, run.rejects_path):
        return "Arrow batches are read and written as files, not standard input or output"
    if run.check_row is not None or run.decision_row is not None:
        return "a plug-in checks or completes each row (itvrules_check_row, itvrules_decision_row)"
    if run.columns != BILL_COLUMNS:
        return "a plug-in adds export columns (itvrules_decision_columns)"
    if (run.engine or run.policy.default_engine) != "compiled":
        return "the durable engine decides one row at a time"
    return None


def run_eligibility(policy: Policy, feeds: Sequence[str], output: str, *,
                    rejects: str | None = None, engine: str | None = None,
                    in_format: str | None = None, out_format: str | None = None,
                    encoding: str | None = None, out_encoding: str | None = None,
                    pm: pluggy.PluginManager | None = None,
                    progress: Callable[[int], None] | None = None,
                    stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None,
                    columns: Mapping[str, str] | None = None) -> RunSummary:
    """Decide eligibility for every subscriber row in ``feeds``; write the results.

    ``columns`` maps headers to fields, as for ``run_bill``.
    """
    run = _Run(ELIGIBILITY, policy, feeds, output, rejects, engine, in_format, out_format,
               encoding, out_encoding, pm, progress, stdin, stdout, columns=columns)
    return run.execute(run.eligibility)


class _SourceFailed(Exception):
    """Carries a file-level InputError out through ``Policy.fees`` without being taken for a row's."""

    def __init__(self, error: InputError) -> None:
        super().__init__(str(error))
        self.error = error


class _Run:
    """One run: its inputs, outputs, counters and reject spool."""

    def __init__(self, kind: str, policy: Policy, feeds: Sequence[str], output: str,
                 rejects: str | None, engine: str | None, in_format: str | None,
                 out_format: str | None, encoding: str | None, out_encoding: str | None,
                 pm: pluggy.PluginManager | None, progress: Callable[[int], None] | None,
                 stdin: IO[bytes] | None, stdout: IO[bytes] | None, *,
                 columns: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.policy = policy
        self.reader = RowReader(kind, columns)  # a bad --column fails before any file is touched
        self.engine = engine
        policy.engine(engine)  # an unknown engine fails before any file is touched
        self.pm = pm if pm is not None else plugin_manager()
        self.encoding = encoding
        self.out_encoding = out_encoding
        self.progress = progress
        self.stdin = stdin
        self.stdout = stdout
        self.output = output
        check_usage(feeds, output, rejects)
        for feed in feeds:
            check_feed(feed)  # a feed not there (or a folder) is named as such, not by its format
        self.feeds: list[tuple[str, FeedReader]] = [
            (feed, reader_for(self.pm, feed, in_format or (STREAM_FORMAT if feed == STDIN else None)))
            for feed in feeds]
        self.writer = writer_for(self.pm, output, out_format or (
            STREAM_FORMAT if output == STDIN else None), policy=policy)
        self.rejects_named = rejects is not None
        self.rejects_path = rejects if rejects is not None else default_rejects(output, self.writer)
        check_target(self.rejects_path)  # a folder named like the default rejects file
        self.rejects_writer = writer_for(self.pm, self.rejects_path,
                                         STREAM_FORMAT if self.rejects_path == STDIN else None,
                                         policy=policy)
        self.columns = _columns(self.pm, kind)
        probe(self.writer, self.columns, kind, out_encoding)
        probe(self.rejects_writer, REJECT_COLUMNS, "rejects", out_encoding)
        self.spool = RejectSpool()
        self.run_checks = RunChecks(policy, kind)
        self.rows_in = 0
        self.decided = 0
        self.skipped = 0
        self.placeholders = PlaceholderTally(policy)
        self.policy_hash = policy.content_hash[:12]
        hook = self.pm.hook
        self.check_row = hook.itvrules_check_row if hook.itvrules_check_row.get_hookimpls() else None
        self.decision_row = (hook.itvrules_decision_row
                             if hook.itvrules_decision_row.get_hookimpls() else None)

    # -- the run as a whole ----------------------------------------------------------
    def execute(self, decide: Callable[[Any], None]) -> RunSummary:
        """Open the output, ``decide`` every row into it, then write the rejects; all or nothing."""
        with self.spool, open_target(self.output, self._stdout) as stream:
            sink = self.writer.open(stream, self.columns, kind=self.kind, encoding=self.out_encoding)
            try:
                decide(sink)
            except _SourceFailed as failed:
                raise failed.error from None
            sink.close()
            written_rejects = self.write_rejects()
        if self.progress is not None:
            self.progress(self.rows_in)
        return self.summary(written_rejects)

    def write_rejects(self) -> str:
        """Write the rejects file, also when nothing was rejected (its header only), so the folder
        of an export never holds the rejects of an earlier run beside it; where it went."""
        with open_target(self.rejects_path, self._stdout) as rejects_stream:
            self.spool.write_to(self.rejects_writer, rejects_stream, self.out_encoding)
        return self.rejects_path

    def summary(self, written_rejects: str | None) -> RunSummary:
        """The run's counts (``RunSummary`` checks that no row was lost)."""
        _log.info("run done: %d rows in, %d decided, %d rejected, %d skipped",
                  self.rows_in, self.decided, self.spool.count, self.skipped)
        return RunSummary(self.rows_in, self.decided, self.spool.count, self.output, written_rejects,
                          self.skipped, self.reader.header_maps(), self.placeholders.counts())

    @property
    def _stdout(self) -> IO[bytes]:
        return self.stdout if self.stdout is not None else sys.stdout.buffer

    # -- reading ------------------------------------------------------------------------
    def accepted(self) -> Iterator[tuple[RawRow, Any]]:
        """(raw row, record) for every row that parses and passes the checks; the rest are rejected."""
        reader = self.reader
        seen: set[str] = set()
        try:
            for feed, feed_reader in self.feeds:
                source = STDIN_SOURCE if feed == STDIN else os.path.basename(feed)
                _log.info("reading %s (rows so far: %d)", source, self.rows_in)
                with open_source(feed, self.stdin) as stream:
                    for raw in feed_reader.read(stream, source, encoding=self.encoding):
                        record = self._accept(reader, raw, seen)
                        if record is not None:
                            yield raw, record
        except InputError as exc:
            raise _SourceFailed(exc) from None

    def _accept(self, reader: RowReader, raw: RawRow, seen: set[str]) -> Any:
        self.rows_in += 1
        if self.progress is not None and self.rows_in % PROGRESS_EVERY == 0:
            self.progress(self.rows_in)
        self.spool.note_columns(raw)
        # A header without a required column, or with a near miss: no row of this file can be read.
        mapped = reader.column_map(raw) if raw.columns is not None else None
        if (raw.error is None or raw.columns is not None) and reader.skip(raw, mapped) is not None:
            self.skipped += 1  # a blank or total row: counted, not a record
            return None
        if raw.error is not None:
            self.reject(raw, raw.error)
            return None
        if mapped is not None:
            columns = mapped
        else:
            try:
                columns = reader.column_map(raw)
            except NearMissError:
                raise
            except ColumnsError as exc:
                self.reject(raw, exc)
                return None
        try:
            account = _account(raw, columns)
            repeated = bool(account) and account in seen
            if account:
                seen.add(account)  # claimed even when this row is rejected, on every path
            record = reader.read(raw, columns)
            if isinstance(record, Enrollment):
                checked: Any = record
                error = self.run_checks.error(
                    account_id=record.account_id, repeated=repeated,
                    accepted_on=record.accepted_on, switched_to=record.switched_to)
            else:
                checked = record[0]
                error = self.run_checks.error(account_id=checked.account_id, repeated=repeated,
                                              accepted_on=record[1])
            if error is not None:
                raise error
            if isinstance(checked, Enrollment):
                record = self._known_package(checked)
            if self.check_row is not None:
                self.check_row(kind=self.kind, raw=raw, record=checked)
        except InputError as exc:
            self.reject(raw, exc, columns)
            return None
        return record

    def _known_package(self, enrollment: Enrollment) -> Enrollment:
        """``switched_to`` as the package's code (the run checks found the package known)."""
        switched = enrollment.switched_to
        if switched is None or switched in self.policy.packages:
            return enrollment
        return attrs.evolve(enrollment, switched_to=self.policy.package_code(switched))

    def reject(self, raw: RawRow, error: InputError, columns: ColumnMap | None = None) -> None:
        header = header_of(columns, error.field) if columns is not None else None
        self.spool.add(raw, error.field, worded(error, header))

    # -- deciding and writing ---------------------------------------------------------------
    def bill(self, sink: Any, month: str) -> None:
        pending: deque[tuple[RawRow, str]] = deque()  # each row read, with its product
        cycle = billing_cycle(month, self.pm)

        def enrollments() -> Iterator[Enrollment]:
            for raw, enrollment in self.accepted():
                pending.append((raw, enrollment.product.value))
                yield enrollment

        source = enrollments()
        while True:
            try:
                for decision in self.policy.fees(source, month, engine=self.engine):
                    raw, product = pending.popleft()
                    if self.emit(sink, raw, decision, self.bill_row(raw, decision, cycle)):
                        self.placeholders.add(decision.package, product, decision.amount)
            except InputError as exc:
                if not pending:
                    raise
                # Policy.fees stopped on this row; the rest of the feed is decided by a fresh call.
                self.reject(pending.popleft()[0], exc)
                continue
            return

    def eligibility(self, sink: Any) -> None:
        for raw, (subscriber, accepted_on) in self.accepted():
            try:
                result = self.policy.eligibility(subscriber, accepted_on=accepted_on,
                                                 engine=self.engine)
            except InputError as exc:
                self.reject(raw, exc)
                continue
            self.emit(sink, raw, result, self.eligibility_row(raw, result, accepted_on))

    def emit(self, sink: Any, raw: RawRow, decision: Any, row: dict[str, Any]) -> bool:
        """Write ``row``; False when a plug-in refused it (the row is rejected instead)."""
        try:
            if self.decision_row is not None:
                self.decision_row(kind=self.kind, row=row, decision=decision, policy=self.policy)
            sink.write(row)
        except InputError as exc:
            self.reject(raw, exc)
            return False
        self.decided += 1
        return True

    def bill_row(self, raw: RawRow, fee: FeeDecision, cycle: str) -> dict[str, Any]:
        policy = self.policy
        return {
            "record_id": record_id(policy.id, policy.version, fee.account_id, fee.month),
            "account_id": fee.account_id,
            "billing_month": fee.month,
            "billing_cycle": cycle,
            "code": fee.code,
            "gross": fee.gross.quantize(CENT),
            "waived": fee.waived.quantize(CENT),
            "amount": fee.amount.quantize(CENT),
            "amount_fen": fee.amount_fen,
            "package": fee.package,
            "follow_up": fee.follow_up,
            "rule": fee.rule,
            "clause": fee.clause,
            "policy_id": policy.id,
            "policy_version": policy.version,
            "policy_hash": self.policy_hash,
            "source": raw.source,
            "source_row": raw.row,
        }

    def eligibility_row(self, raw: RawRow, result: Eligibility, accepted_on: date) -> dict[str, Any]:
        policy = self.policy
        return {
            "account_id": result.account_id,
            "accepted_on": accepted_on,
            "eligible": result.eligible,
            "segment": result.segment,
            "reason": result.reason,
            "review": result.review,
            "rule": result.rule,
            "clause": result.clause,
            "policy_id": policy.id,
            "policy_version": policy.version,
            "policy_hash": self.policy_hash,
            "source": raw.source,
            "source_row": raw.row,
        }


def _columns(pm: pluggy.PluginManager, kind: str) -> tuple[str, ...]:
    columns = dict.fromkeys(BILL_COLUMNS if kind == BILL else ELIGIBILITY_COLUMNS)
    for extra in reversed(pm.hook.itvrules_decision_columns(kind=kind)):
        for name in extra or ():
            columns.setdefault(str(name))
    return tuple(columns)


def columns_for(kind: str, pm: pluggy.PluginManager | None = None) -> tuple[str, ...]:
    """The export columns of ``kind`` runs, plug-in columns included."""
    return _columns(pm if pm is not None else plugin_manager(), kind)


__all__ = [  # REJECT_COLUMNS and UsageError are re-exported for the command line
    "BILL_COLUMNS", "ELIGIBILITY_COLUMNS", "REJECT_COLUMNS", "RunSummary", "UsageError",
    "columns_for", "record_id", "run_bill", "run_eligibility",
]
