"""A Parquet feed in, a Parquet bill export out, a batch of rows at a time (SPEC §9, §11).

``bill_parquet`` reads the feed with pyarrow's ``iter_batches``, checks each
batch in bulk (``_parquet_checks``: the checks of the row path, in its order),
decides the valid rows with the columnar backend (``Policy.fees_frame``) and
appends them to the export as one row group per batch: yuan as
``decimal128(12, 2)``, fen as ``int64``, and the same ``record_id`` as the CSV
export (CONVENTIONS "Storage"; ``_record_ids``). Rows that cannot be decided go
to a rejects file with their source, row, field, error and raw cells; rows in =
decided + rejected + skipped is checked before the run reports (blank rows and
total rows are skipped and counted, by ``_rows``' rule, in bulk: ``_skipped``). Memory holds about two
batches, plus the feed's account ids during a first pass that finds repeated
accounts (one trial per account, SPEC §8).

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
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pluggy
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._errors import InputError, UsageError
from ._months import parse_month
from ._parquet_checks import ROW, Checker, repeated_rows
from ._pipeline import RunSummary
from ._plugins import plugin_manager, writer_for
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
from ._run_files import STDIN, check_feed, check_usage, open_target
from .hookspecs import RawRow

if TYPE_CHECKING:
    from ._policy import Policy

_MONEY = pa.decimal128(12, 2)
#: The export's columns (``_pipeline.BILL_COLUMNS``) and their Parquet types.
EXPORT_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("account_id", pa.string()), ("billing_month", pa.string()),
    ("billing_cycle", pa.string()), ("code", pa.string()), ("gross", _MONEY),
    ("waived", _MONEY), ("amount", _MONEY), ("amount_fen", pa.int64()), ("package", pa.string()),
    ("follow_up", pa.bool_()), ("rule", pa.string()), ("clause", pa.string()),
    ("policy_id", pa.string()), ("policy_version", pa.string()), ("policy_hash", pa.string()),
    ("source", pa.string()), ("source_row", pa.int64()),
])
#: Columns that repeat a handful of values: dictionary-encoded in the file.
_DICTIONARY = ["billing_month", "billing_cycle", "code", "package", "rule", "clause", "policy_id",
               "policy_version", "policy_hash", "source"]
#: Columns given to the writer as dictionaries (one value per run); readers still see strings.
_CONSTANT = ("billing_month", "billing_cycle", "policy_id", "policy_version", "policy_hash", "source")
#: zstd, but for the record ids: hex text halves under zstd at four times the cost of storing it.
_COMPRESSION = {f.name: "none" if f.name == "record_id" else "zstd" for f in EXPORT_SCHEMA}
#: Text decided once per case: given to the writer as dictionaries too.
_PER_CASE_TEXT = ("code", "package", "rule", "clause")
#: The schema written. No Arrow schema is stored in the file, so readers see ``EXPORT_SCHEMA``.
_WRITTEN = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                      if f.name in _CONSTANT + _PER_CASE_TEXT else f for f in EXPORT_SCHEMA])
#: Keys are packed into one integer while all their combinations number fewer than this.
_PACKED_LIMIT = 2**62
#: Day spans up to this many days turn into months by table lookup, longer ones by calendar.
_LOOKUP_DAYS = 100_000


def bill_parquet(policy: Policy, month: str, source: str, target: str, *,
                 rejects: str | None = None, batch_rows: int = 1_000_000,
                 pm: pluggy.PluginManager | None = None, background: bool = True,
                 progress: Callable[[int], None] | None = None,
                 columns: Mapping[str, str] | None = None) -> RunSummary:
    """Decide billing ``month`` for every enrolment of the Parquet feed ``source``; write ``target``.

    ``rejects`` (default ``<target stem>.rejects.parquet``, written only when a
    row is rejected) is Parquet when its name ends in ``.parquet``, else any
    format the export writers know (CSV, XLSX, JSON Lines). ``source_row``
    counts the feed's rows from 1. ``background=False`` hashes record ids in
    the calling thread (``_record_ids``). ``progress`` is called with the number of
    rows read after every batch. A feed that cannot be read or lacks a
    required column raises :class:`InputError` before any output is written.
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
    try:
        feed = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise InputError("(file)", source, f"not a readable Parquet file: {exc}", source=name) from None
    headers = tuple(feed.schema_arrow.names)
    mapped = map_columns(BILL, headers, source=name, explicit=explicit)
    fields = {field: header for header, field in mapped.pairs}
    header_map = HeaderMap(name, tuple((field, header) for header, field in mapped.pairs),
                           mapped.extras)
    pm = pm if pm is not None else plugin_manager()
    cycle = pm.hook.itvrules_billing_cycle(month=month) or month.replace("-", "")
    with ExitStack() as stack:
        ids = stack.enter_context(RecordIds(policy.id, policy.version, background=background))
        checker = Checker(policy, fields, repeated_rows(feed, fields["account_id"], batch_rows))
        out = stack.enter_context(_Rejects(rejects if rejects is not None else _default_rejects(target),
                                           headers, name, pm))
        stream = stack.enter_context(open_target(target, sys.stdout.buffer))
        writer = stack.enter_context(pq.ParquetWriter(
            stream, _WRITTEN, compression=_COMPRESSION, use_dictionary=_DICTIONARY,
            column_encoding={"source_row": "DELTA_BINARY_PACKED"},  # 1, 2, 3...: a quarter the cost
            write_statistics=["account_id", "amount_fen", "source_row"], store_schema=False))
        rows_in, decided, skipped = _bill(feed, batch_rows, checker, out,
                                          _Export(policy, month, cycle, name), ids, writer, progress,
                                          fields["account_id"])
        writer.close()
        written = out.finish(named=rejects is not None)
    if rows_in != decided + out.count + skipped:
        raise RuntimeError(f"lost rows: {rows_in} read, {decided} decided, {out.count} rejected, "
                           f"{skipped} skipped")
    return RunSummary(rows_in, decided, out.count, target, written, skipped, (header_map,))


def _bill(feed: pq.ParquetFile, batch_rows: int, checker: Checker, out: _Rejects, export: _Export,
          ids: RecordIds, writer: pq.ParquetWriter, progress: Callable[[int], None] | None,
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
        self.constants = {"billing_month": month, "billing_cycle": cycle, "policy_id": policy.id,
                          "policy_version": policy.version,
                          "policy_hash": policy.content_hash[:12], "source": source}

    def decide(self, good: pl.DataFrame) -> _Decided:
        cases, index = fee_cases(good)
        return _Decided(self, good, self.policy.fees_frame(cases, self.month), index)


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
        tails = self.decided.select(pl.concat_str(pl.lit(self.export.month),
                                                  pl.col("package").fill_null(""), "code",
                                                  separator="\x1f")).to_series()
        self.ids = ids.submit(self.good.get_column("account_id"), tails.gather(self.index))

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


#: What a fee depends on (``_facts.fee_key``): the month indexes of the dates, and the rest.
_KEY = ("returned", "_completed", "_requested", "_effective", "switched_to", "product")
_CASE_COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "returned",
                 "cancel_requested_on", "cancel_effective_on", "switched_to")


def fee_cases(good: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """One enrolment per distinct fee case, and the case number of every row of ``good``.

    Fees depend on months only (SPEC §5; ``_facts.fee_key``): the returned flag,
    the months of completion, of the request (an effective date stands in for a
    missing one, as ``Enrollment`` has it) and of the effective date, the package
    switched to and the product. These are packed into one integer per row when
    they fit (they do unless dates span centuries), so finding the cases is one
    hash of an integer column; the first row of each case stands for it.
    """
    keys = pl.DataFrame([
        good.get_column("returned"),
        _months(good.get_column("completed_on")).alias("_completed"),
        _months(good.get_column("cancel_requested_on").fill_null(
            good.get_column("cancel_effective_on"))).alias("_requested"),
        _months(good.get_column("cancel_effective_on")).alias("_effective"),
        good.get_column("switched_to"), good.get_column("product"),
    ])
    packed = _packed(keys)
    if packed is None:
        distinct = keys.unique().with_row_index("_case")
        index = keys.join(distinct, on=list(_KEY), how="left", nulls_equal=True,
                          maintain_order="left").get_column("_case")
        first = keys.with_row_index("_at").join(distinct, on=list(_KEY), nulls_equal=True) \
            .group_by("_case").agg(pl.col("_at").min()).sort("_case").get_column("_at")
    else:
        first = packed.arg_unique()
        index = packed.replace_strict(packed.gather(first),
                                      pl.int_range(0, len(first), dtype=pl.UInt32, eager=True))
    cases = good.select(_CASE_COLUMNS).gather(first)
    return cases.cast({name: pl.String for name in ("product", "switched_to")}), index


def _packed(keys: pl.DataFrame) -> pl.Series | None:
    """The key columns as one Int64 per row, one to one; None when they would not fit."""
    parts: list[tuple[pl.Series, int]] = [(keys.get_column("returned").cast(pl.Int64), 2)]
    for name in ("product", "switched_to"):
        column = keys.get_column(name)
        kind = column.dtype
        if not isinstance(kind, pl.Enum):
            kind = pl.Enum(column.drop_nulls().unique())
            column = column.cast(kind)
        codes = column.to_physical().cast(pl.Int64) + 1
        parts.append((codes.fill_null(0), len(kind.categories) + 1))
    months = [keys.get_column(name) for name in ("_completed", "_requested", "_effective")]
    dated = [m for m in months if m.null_count() < len(m)]
    low = min(int(cast(int, m.min())) for m in dated) if dated else 0
    span = (max(int(cast(int, m.max())) for m in dated) if dated else 0) - low + 2  # 0: no date
    for month in months:
        parts.append(((month.cast(pl.Int64) - low + 1).fill_null(0), span))
    size = 1
    for _codes, count in parts:
        size *= count
    if size >= _PACKED_LIMIT:
        return None
    packed, scale = parts[0][0], 1
    for codes, count in parts:
        if scale > 1:
            packed = packed + codes * scale
        scale *= count
    return packed


def _months(days: pl.Series) -> pl.Series:
    """The month index (``year * 12 + month - 1``) of every date; a table lookup for short spans."""
    numbers = days.cast(pl.Int32)
    low, high = numbers.min(), numbers.max()
    if low is None or high is None:
        return pl.repeat(None, len(days), dtype=pl.Int32, eager=True)
    assert isinstance(low, int) and isinstance(high, int)
    if high - low > _LOOKUP_DAYS:
        return pl.select(pl.lit(days).dt.year().cast(pl.Int32) * 12
                         + pl.lit(days).dt.month().cast(pl.Int32) - 1).to_series()
    months = np.arange(low, high + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return pl.Series(months + 1970 * 12).gather(numbers - low)


# -- rejects -----------------------------------------------------------------------------------


def _default_rejects(target: str) -> str:
    lowered = target.lower()
    stem = target[: -len(".parquet")] if lowered.endswith(".parquet") else os.path.splitext(target)[0]
    return f"{stem}.rejects.parquet"


class _Rejects:
    """A run's rejects: Parquet written a batch at a time; other formats spooled, written last."""

    def __init__(self, path: str, headers: tuple[str, ...], source: str,
                 pm: pluggy.PluginManager) -> None:
        self.path = path
        self.source = source
        self.count = 0
        self.headers = headers
        self.names = [f"{h} (input)" if h in REJECT_COLUMNS else h for h in headers]
        self.parquet = path.lower().endswith(".parquet")
        self.schema = pa.schema([("source", pa.string()), ("source_row", pa.int64()),
                                 ("field", pa.string()), ("error", pa.string()),
                                 *((name, pa.string()) for name in self.names)])
        self.writer = None if self.parquet else writer_for(pm, path)
        self.stack = ExitStack()
        self.spool = self.stack.enter_context(RejectSpool())
        self.file: pq.ParquetWriter | None = None

    def __enter__(self) -> _Rejects:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stack.__exit__(*exc)

    def add(self, rows: pa.RecordBatch, failed: pl.DataFrame) -> None:
        """Reject the feed's ``rows``, with ``failed``'s ``_row``, ``field`` and ``error``.

        Cells are read and spelled as the row path spools them (``parquet_io.cells``,
        ``_rejects.raw_text``: a missing cell is ""), so both write the same rejects.
        """
        from itvrules_adapters.parquet_io import cells

        from ._rejects import raw_text

        self.count += rows.num_rows
        columns = [cells(rows.column(i)) for i in range(rows.num_columns)]
        if not self.parquet:
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
        self._parquet().write_table(frame.to_arrow().cast(self.schema))

    def _parquet(self) -> pq.ParquetWriter:
        if self.file is None:
            stream = self.stack.enter_context(open_target(self.path, sys.stdout.buffer))
            self.file = self.stack.enter_context(pq.ParquetWriter(stream, self.schema,
                                                                  compression="zstd"))
        return self.file

    def finish(self, *, named: bool) -> str | None:
        """Write what is pending; the path written, or None when there was nothing to write."""
        if not (self.count or named):
            return None
        if self.parquet:
            self._parquet().close()
        else:
            assert self.writer is not None
            with open_target(self.path, sys.stdout.buffer) as stream:
                self.spool.write_to(self.writer, stream, None)
        return self.path


__all__ = ["EXPORT_SCHEMA", "bill_parquet", "fee_cases"]
