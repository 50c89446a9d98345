"""A Parquet feed in, a Parquet bill export out, a batch of rows at a time.

``bill_parquet`` reads the feed with pyarrow's ``iter_batches``, checks each
batch in bulk (``_parquet_checks``: the checks of the row path, in its order),
decides the valid rows with the columnar backend (``Policy.fees_frame``) and
appends them to the export as one row group per batch: yuan as
``decimal128(12, 2)``, fen as ``int64``, and the same ``record_id`` as the CSV
export (``_record_ids``). Rows that cannot be decided go
to a rejects file with their source, row, field, error and raw cells; rows in =
decided + rejected + skipped is checked before the run reports (blank rows and
total rows are skipped and counted, by ``_rows``' rule, in bulk: ``_skipped``). Memory holds about two
batches, plus the feed's account ids during a first pass that finds repeated
accounts (one trial per account).

A fee depends on months only (``_facts.fee_key``), so each batch is decided
once per distinct case (a few thousand in a million rows) and the decisions
are spread over the rows by case number; the export is written by a
background thread while the next batch is read and decided.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import numpy as np
import pluggy
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from .._errors import UsageError
from ..frames._cases import fee_cases
from ..hookspecs import ArrowBatchReader, ArrowFeed, ArrowTableWriter, RawRow, TableSink
from ..model._months import parse_month
from ._arrow import EXPORT_SCHEMA, refuse_untyped_ids
from ._bulk_arrow_checks import ROW, ArrowBatchChecker, repeated_rows
from ._common import RunSummary, billing_cycle, record_tail
from ._files import STDIN, check_feed, check_usage, open_target
from ._placeholders import PlaceholderTally
from ._plugins import plugin_manager, reader_for, writer_for
from ._record_ids import Pending, RecordIds
from ._rejects import REJECT_COLUMNS, RejectSpool
from ._rows import (
    BILL,
    SKIP_BLANK,
    TOTAL_CELL_PATTERN,
    TOTAL_COUNT_PATTERN,
    HeaderMap,
    explicit_columns,
    map_columns,
)

if TYPE_CHECKING:
    from ..policy._policy import Policy

#: Columns given to the writer as dictionaries (one value per run); readers still see strings.
_CONSTANT = ("billing_month", "billing_cycle", "policy_id", "policy_version", "policy_hash", "source")
#: Text decided once per case: given to the writer as dictionaries too.
_PER_CASE_TEXT = ("code", "package", "rule", "clause")
#: The schema of the tables handed to the writer (the Parquet writer stores no Arrow schema in the
#: file, so readers see ``EXPORT_SCHEMA``).
_WRITTEN = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                      if f.name in _CONSTANT + _PER_CASE_TEXT else f for f in EXPORT_SCHEMA])


def bill_parquet(policy: Policy, month: str, source: str, target: str, *,
                 rejects: str | None = None, batch_rows: int = 1_000_000,
                 pm: pluggy.PluginManager | None = None, background: bool = True,
                 progress: Callable[[int], None] | None = None,
                 columns: Mapping[str, str] | None = None,
                 reader: ArrowBatchReader | None = None,
                 writer: ArrowTableWriter | None = None) -> RunSummary:
    """Decide billing ``month`` for every enrolment of the Parquet feed ``source``; write ``target``.

    ``reader`` opens the feed as Arrow batches and ``writer`` takes the export's
    Arrow tables (``itvrules.hookspecs``: the capabilities that choose this
    path); by default the plug-ins' ``parquet`` reader and writer.

    ``rejects`` (default ``<target stem>.rejects.parquet``, written only when a
    row is rejected) is Parquet when its name ends in ``.parquet``, else any
    format the export writers know (CSV, XLSX, JSON Lines). ``source_row``
    counts the feed's rows from 1. ``background=False`` hashes record ids in
    the calling thread (``_record_ids``). ``progress`` is called with the number of
    rows read after every batch. A feed that cannot be read or lacks a
    required column raises ``InputError`` before any output is written.
    ``columns`` maps headers to fields, as for ``run_bill``.
    """
    parse_month(month)
    explicit = explicit_columns(BILL, columns)
    if batch_rows < 1:
        raise UsageError(f"batch_rows must be at least 1, got {batch_rows}")
    if STDIN in (source, target, rejects):
        raise UsageError("Parquet is read and written as files, not standard input or output")
    check_usage([source], target, rejects)
    check_feed(source)
    name = os.path.basename(source)
    pm = pm if pm is not None else plugin_manager()
    if reader is None:
        found = reader_for(pm, source, "parquet")
        if not isinstance(found, ArrowBatchReader):
            raise UsageError(f"the {found.name} reader gives no Arrow batches (ArrowBatchReader)")
        reader = found
    if writer is None:
        made = writer_for(pm, target, "parquet", policy=policy)
        if not isinstance(made, ArrowTableWriter):
            raise UsageError(f"the {made.name} writer takes no Arrow tables (ArrowTableWriter)")
        writer = made
    feed = reader.open_arrow(source, name)
    headers = tuple(feed.schema_arrow.names)
    mapped = map_columns(BILL, headers, source=name, explicit=explicit)
    fields = {field: header for header, field in mapped.pairs}
    refuse_untyped_ids(feed.schema_arrow, [fields["account_id"]], name)
    header_map = HeaderMap(name, tuple((field, header) for header, field in mapped.pairs),
                           mapped.extras)
    cycle = billing_cycle(month, pm)
    with ExitStack() as stack:
        stack.callback(feed.close)
        ids = stack.enter_context(RecordIds(policy.id, policy.version, background=background))
        checker = ArrowBatchChecker(policy, fields, repeated_rows(feed, fields["account_id"], batch_rows))
        out = stack.enter_context(_Rejects(rejects if rejects is not None else _default_rejects(target),
                                           headers, name, pm, policy))
        stream = stack.enter_context(open_target(target, sys.stdout.buffer))
        sink = writer.open_table(stream, _WRITTEN, kind="bill")
        stack.callback(sink.close)  # on the way out, before the stream is closed
        export = _Export(policy, month, cycle, name)
        rows_in, decided, skipped = _bill(feed, batch_rows, checker, out, export, ids, sink,
                                          progress, fields["account_id"])
        written = out.finish()
    return RunSummary(rows_in, decided, out.count, target, written, skipped, (header_map,),
                      export.placeholders.counts())


def _bill(feed: ArrowFeed, batch_rows: int, checker: ArrowBatchChecker, out: _Rejects, export: _Export,
          ids: RecordIds, writer: TableSink, progress: Callable[[int], None] | None,
          account: str) -> tuple[int, int, int]:
    """Every batch checked and decided; (rows read, rows decided, rows skipped).

    Three things overlap: while this thread checks and decides a batch, DuckDB
    hashes the previous one's record ids on one thread and pyarrow encodes the
    one before that on another (both let go of the GIL).
    """
    rows_in = decided = skipped = 0
    with ThreadPoolExecutor(1, thread_name_prefix="itvrules-parquet") as background:
        writing: Future[None] | None = None

        def write(ready: _Decided) -> int:
            nonlocal writing
            table = ready.table()
            if writing is not None:
                writing.result()
            writing = background.submit(writer.write_table, table)
            return int(table.num_rows)

        waiting: _Decided | None = None
        for batch in feed.iter_batches(batch_size=batch_rows):
            raw = pl.DataFrame(pl.from_arrow(batch))
            typed = checker.typed(raw, rows_in)  # row numbers count every row, skipped ones too
            rows_in += raw.height
            skip = _skipped(raw, account)
            if skip.any():
                skipped += int(skip.sum())
                keep = ~skip
                raw, typed, batch = raw.filter(keep), typed.filter(keep), batch.filter(keep.to_arrow())
            ok = checker.passes(typed)
            good = checker.enrolments(typed.filter(ok) if not ok.all() else typed)
            if good.height < raw.height:
                rejected = batch.filter((~ok).to_arrow())
                out.add(rejected, checker.explain(raw.filter(~ok), typed.filter(~ok), rejected))
            if good.height:
                ready, waiting = waiting, export.decide(good)
                waiting.submit(ids)  # hashed in the background while the previous batch is written
                if ready is not None:
                    decided += write(ready)
            if progress is not None:
                progress(rows_in)
        if waiting is not None:
            decided += write(waiting)
        if writing is not None:
            writing.result()
    return rows_in, decided, skipped


def _skipped(raw: pl.DataFrame, account: str) -> pl.Series:
    """Blank rows and total rows of a batch, by the row path's rule (``_rows.RowReader.skip``).

    A cell is empty when null or only whitespace (text); a total row has a cell
    whose text, whitespace removed, is labelled with a total mark, and no account (an empty
    cell or a household count, ``_rows.no_account``).
    """
    empties: list[pl.Expr] = []
    marks: list[pl.Expr] = []
    for name, dtype in raw.schema.items():
        cell = pl.col(name)
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            text = cell.cast(pl.String)
            empties.append(text.is_null() | text.str.contains(r"^\s*$"))
            marks.append(text.str.replace_all(r"\s", "").str.contains(TOTAL_CELL_PATTERN)
                         .fill_null(False))
        else:
            empties.append(cell.is_null())
    id_cell = pl.col(account)
    if raw.schema[account] in (pl.String, pl.Categorical) or isinstance(raw.schema[account], pl.Enum):
        text = id_cell.cast(pl.String)
        no_account = id_cell.is_null() | text.str.contains(r"^\s*$") \
            | text.str.contains(TOTAL_COUNT_PATTERN) \
            | text.str.replace_all(r"\s", "").str.contains(TOTAL_CELL_PATTERN)
    else:
        no_account = id_cell.is_null()
    total = (pl.any_horizontal(marks) & no_account) if marks else pl.lit(False)
    blank = pl.all_horizontal(empties) if SKIP_BLANK else pl.lit(False)
    return raw.select((blank | total).alias("_skip")).to_series()


class _Export:
    """Export rows for the enrolments that passed: decided once per case, spread by case number."""

    def __init__(self, policy: Policy, month: str, cycle: str, source: str) -> None:
        self.policy = policy
        self.month = month
        self.placeholders = PlaceholderTally(policy)
        self.constants = {"billing_month": month, "billing_cycle": cycle, "policy_id": policy.id,
                          "policy_version": policy.version,
                          "policy_hash": policy.content_hash[:12], "source": source}

    def decide(self, good: pl.DataFrame) -> _Decided:
        """A batch decided once per case; every row of it is written, so its placeholder
        charges are counted here, a case at a time."""
        cases, index = fee_cases(good)
        decided = self.policy.fees_frame(cases, self.month)
        rows = np.bincount(index.to_numpy(), minlength=cases.height)
        for count, product, package, fen in zip(
                rows.tolist(), cases.get_column("product").to_list(),
                decided.get_column("package").to_list(),
                decided.get_column("amount_fen").to_list(), strict=True):
            self.placeholders.add(package, product, fen, count)
        return _Decided(self, good, decided, index)


class _Decided:
    """One batch decided per case; its record ids are asked for, then its table is built."""

    def __init__(self, export: _Export, good: pl.DataFrame, decided: pl.DataFrame,
                 index: pl.Series) -> None:
        self.export = export
        self.good = good
        self.decided = decided
        self.index = index
        self.ids: Pending | None = None

    def submit(self, ids: RecordIds) -> None:
        tails = pl.repeat(record_tail(self.export.month), self.good.height, dtype=pl.String, eager=True)
        self.ids = ids.submit(self.good.get_column("account_id"), tails)

    def table(self) -> pa.Table:
        assert self.ids is not None
        good, decided = self.good, self.decided
        take = pa.array(self.index.to_numpy())
        zeros = np.zeros(good.height, dtype=np.int32)

        def per_case(name: str) -> pa.Array:
            return decided.get_column(name).to_arrow().cast(EXPORT_SCHEMA.field(name).type).take(take)

        def per_case_text(name: str) -> pa.Array:
            # The case's dictionary and row indexes into it: no text copied per row.
            cases = pc.dictionary_encode(decided.get_column(name).to_arrow().cast(pa.string()))
            return pa.DictionaryArray.from_arrays(cases.indices.take(take), cases.dictionary)

        columns: dict[str, pa.Array] = {
            "record_id": self.ids.result(),
            "account_id": good.get_column("account_id").to_arrow().cast(pa.string()),
            **{name: per_case(name) for name in ("gross", "waived", "amount", "amount_fen",
                                                 "follow_up")},
            **{name: per_case_text(name) for name in _PER_CASE_TEXT},
            **{name: pa.DictionaryArray.from_arrays(zeros, pa.array([value]))
               for name, value in self.export.constants.items()},
            "source_row": good.get_column(ROW).to_arrow(),
        }
        return pa.Table.from_arrays([columns[f.name] for f in _WRITTEN], schema=_WRITTEN)


# -- rejects -----------------------------------------------------------------------------------


def _default_rejects(target: str) -> str:
    lowered = target.lower()
    stem = target[: -len(".parquet")] if lowered.endswith(".parquet") else os.path.splitext(target)[0]
    return f"{stem}.rejects.parquet"


class _Rejects:
    """A run's rejects: Parquet written a batch at a time; other formats spooled, written last."""

    def __init__(self, path: str, headers: tuple[str, ...], source: str,
                 pm: pluggy.PluginManager, policy: Policy) -> None:
        self.path = path
        self.source = source
        self.count = 0
        self.headers = headers
        self.names = [f"{h} (input)" if h in REJECT_COLUMNS else h for h in headers]
        writer = writer_for(pm, path, policy=policy)
        #: Rejects go out a batch at a time when the writer takes tables (Parquet does).
        self.tables = writer if isinstance(writer, ArrowTableWriter) else None
        self.schema = pa.schema([("source", pa.string()), ("source_row", pa.int64()),
                                 ("field", pa.string()), ("error", pa.string()),
                                 *((name, pa.string()) for name in self.names)])
        self.writer = writer
        self.stack = ExitStack()
        self.spool = self.stack.enter_context(RejectSpool())
        self.file: TableSink | None = None

    def __enter__(self) -> _Rejects:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stack.__exit__(*exc)

    def add(self, rows: pa.RecordBatch, failed: pl.DataFrame) -> None:
        """Reject the feed's ``rows``, with ``failed``'s ``_row``, ``field`` and ``error``.

        Cells are read and spelled as the row path spools them (``_arrow.cells``,
        ``_rejects.raw_text``: a missing cell is ""), so both write the same rejects.
        """
        from ._arrow import cells
        from ._rejects import raw_text

        self.count += rows.num_rows
        columns = [cells(rows.column(i)) for i in range(rows.num_columns)]
        if self.tables is None:
            self.spool.note_columns(RawRow(self.source, 0, {}, self.headers))
            for values, (row, field, error) in zip(zip(*columns, strict=True), failed.iter_rows(),
                                                    strict=True):
                self.spool.add(RawRow(self.source, row, dict(zip(self.headers, values, strict=True)),
                                      self.headers), field, error)
            return
        frame = pl.DataFrame([
            pl.Series("source", [self.source] * rows.num_rows, dtype=pl.String),
            failed.get_column(ROW).alias("source_row"),
            failed.get_column("field"), failed.get_column("error"),
            *(pl.Series(n, [raw_text(v) for v in column], dtype=pl.String)
              for column, n in zip(columns, self.names, strict=True)),
        ])
        self._table_sink().write_table(frame.to_arrow().cast(self.schema))

    def _table_sink(self) -> TableSink:
        if self.file is None:
            assert self.tables is not None
            stream = self.stack.enter_context(open_target(self.path, sys.stdout.buffer))
            self.file = self.tables.open_table(stream, self.schema, kind="rejects")
            self.stack.callback(self.file.close)  # before the stream is closed
        return self.file

    def finish(self) -> str:
        """Write what is pending, also when nothing was rejected (the header only), so the folder
        of an export never holds an earlier run's rejects beside it; the path written."""
        if self.tables is not None:
            self._table_sink()  # finished on the way out
        else:
            with open_target(self.path, sys.stdout.buffer) as stream:
                self.spool.write_to(self.writer, stream, None)
        return self.path


__all__ = ["EXPORT_SCHEMA", "bill_parquet", "fee_cases"]
