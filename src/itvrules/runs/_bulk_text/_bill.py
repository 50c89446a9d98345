"""A bill run, a batch at a time: check in bulk, decide each distinct case once, write in bulk.

For each batch of a feed: the readers' groups are checked by ``_validate``;
every row it is unsure of, every duplicate account and every irregular row is
handed to the row path's own ``_Run._accept`` in reading order, which rejects
it exactly as a rows run would or returns its enrolment. Accepted rows are
keyed as ``Policy.fees`` keys them (``_facts.fee_key``: what a fee depends on
at month resolution); each key new to the run is decided once by
``Policy.fee`` on a representative enrolment, and its export cells by the row
path's ``_Run.bill_row``. The rows are then rendered and written in bulk.

Rejects of a batch (the row path's, and a decision the engine refuses) wait
in a ``_Deferred`` spool and are spooled in reading order when the batch is
done, so the rejects file lists them as a rows run does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from typing import IO, TYPE_CHECKING, Any

import attrs
import numpy as np
import polars as pl

from ..._errors import InputError
from ...hookspecs import FeedReader, RawRow, TextBatchReader, TextColumnsSink, TextColumnsWriter
from ...model._inputs import Enrollment
from .._common import RECORD_SEPARATOR, STDIN_SOURCE, RunSummary, billing_cycle, record_tail
from .._common import account_of as _account
from .._files import STDIN, open_source, open_target
from .._record_ids import RecordIds
from .._rejects import RejectSpool
from .._rows import ColumnsError, NearMissError
from ._batch import ENGINE, ROW, SEQ, Batch
from ._raw_rows import raw_row_batches
from ._text_batches import text_batches
from ._validate import EPOCH, TextBatchChecker, day_number

if TYPE_CHECKING:
    from ...model._results import FeeDecision
    from .._pipeline import _Run

#: The columns of an accepted row, fast or slow, before it is decided.
ACCEPTED = pl.Schema({SEQ: pl.Int64, ROW: pl.Int64, "_group": pl.Int32, "_pos": pl.Int64,
                      "source": pl.String, "account": pl.String, "product": pl.String,
                      "returned": pl.Boolean, "acc": pl.Int32, "comp": pl.Int32, "req": pl.Int32,
                      "eff": pl.Int32, "switched": pl.String, "k_comp": pl.Int32, "k_req": pl.Int32,
                      "k_eff": pl.Int32, "k_switched": pl.String})
#: The fee key, as columns: returned, the completion, request and effective months (-1: none),
#: the package switched to ("": none) and the product.
KEY = ("returned", "k_comp", "k_req", "k_eff", "k_switched", "product")
#: Cells that differ from row to row; the rest of a line depends on the decision only.
SLOTS = ("record_id", "account_id", "source", "source_row")


def bill_columnar(run: _Run, month: str, progress_every: int) -> RunSummary:
    """Run ``run`` (a bill run the columnar path can serve) for ``month``; the row path's summary.

    The writer declares ``TextColumnsWriter`` (``obstacle`` saw to it); progress
    is reported every ``progress_every`` rows, as the row path reports it.
    """
    writer = run.writer
    assert isinstance(writer, TextColumnsWriter)
    with run.spool, open_target(run.output, run._stdout) as stream:
        export = writer.open_text_columns(stream, run.columns, kind=run.kind, encoding=run.out_encoding)
        _Biller(run, month, export, progress_every).bill()
        export.close()
        written_rejects = run.write_rejects()
    if run.progress is not None:
        run.progress(run.rows_in)
    return run.summary(written_rejects)


class _Biller:
    """The state of one columnar bill run: accounts seen, cases decided, lines rendered."""

    def __init__(self, run: _Run, month: str, export: TextColumnsSink, progress_every: int) -> None:
        self.run = run
        self.month = month
        self.export = export
        self.every = progress_every
        self.cycle = billing_cycle(month, run.pm)
        self.reader = run.reader  # the run's explicit column map, and its log of header maps
        self.seen: set[str] = set()
        self.cases: dict[tuple[Any, ...], _Case] = {}  # fee key -> its cells, decided once a run
        # Batches of a few thousand rows: hashlib here costs less than a query per batch.
        self.ids = RecordIds(run.policy.id, run.policy.version, background=False)
        self.checker = TextBatchChecker(run.policy)

    def bill(self) -> None:
        run = self.run
        # Rows the row path decides must not report progress out of turn: it is reported here.
        progress, run.progress = run.progress, None
        try:
            for feed, feed_reader in run.feeds:
                source = STDIN_SOURCE if feed == STDIN else os.path.basename(feed)
                with open_source(feed, run.stdin) as stream:
                    for batch in self._batches(feed_reader, stream, source):
                        before = run.rows_in
                        self._batch(batch)
                        if progress is not None:
                            _report(progress, before, run.rows_in, self.every)
        finally:
            run.progress = progress
            self.ids.close()

    def _batches(self, feed_reader: FeedReader, stream: IO[bytes], source: str) -> Iterator[Batch]:
        note = self.run.spool.note_columns
        if isinstance(feed_reader, TextBatchReader):
            read = feed_reader.read_text_batches(stream, source, encoding=self.run.encoding)
            return text_batches(read, self.reader, note)
        return raw_row_batches(feed_reader, stream, source, self.run.encoding, self.reader, note)

    # -- one batch ---------------------------------------------------------------------------
    def _batch(self, batch: Batch) -> None:
        run = self.run
        spool, deferred = run.spool, _Deferred(run.spool)
        run.spool = deferred  # type: ignore[assignment] # rejects are spooled in reading order below
        try:
            frames = [self.checker.check(group, index) for index, group in enumerate(batch.groups)]
            if batch.irregular:
                frames.append(pl.DataFrame({
                    SEQ: [seq for seq, _raw in batch.irregular],
                    "dupkey": [self._dupkey(raw) for _seq, raw in batch.irregular],
                    "ok": [False] * len(batch.irregular),
                    "_group": [-1] * len(batch.irregular),
                    "_pos": list(range(len(batch.irregular))),
                }, schema_overrides={SEQ: pl.Int64, "dupkey": pl.String, "_group": pl.Int32,
                                     "_pos": pl.Int64}))
            if len(frames) == 1 and not batch.irregular:
                rows = frames[0]  # one header, no odd rows: already in reading order
            else:
                rows = pl.concat(frames, how="diagonal_relaxed").sort(SEQ)
            rows = self._duplicates(rows)
            fast = rows.filter(pl.col("_fast"))
            slow = self._slow(batch, rows.filter(~pl.col("_fast")) if fast.height < rows.height
                              else rows.clear(), deferred)
            run.rows_in += fast.height
            if not fast.height:
                accepted = slow  # (in reading order already)
            elif not slow.height:
                accepted = fast.select(list(ACCEPTED))
            else:
                accepted = pl.concat([fast.select(list(ACCEPTED)).cast(ACCEPTED), slow]).sort(SEQ)
            if accepted.height:
                run.decided += self._write(batch, accepted, deferred)
        finally:
            run.spool = spool
            deferred.flush()

    def _dupkey(self, raw: RawRow) -> str | None:
        """The account a row registers as seen, as ``_Run._accept`` finds it, or None."""
        if raw.error is not None:
            return None
        mapped = self.reader.column_map(raw) if raw.columns is not None else None
        if self.reader.skip(raw, mapped) is not None:
            return None  # a blank or total row claims no account, and maps no header of its own
        try:
            columns = mapped if mapped is not None else self.reader.column_map(raw)
        except ColumnsError as exc:
            if raw.columns is not None or isinstance(exc, NearMissError):
                raise
            return None
        try:
            return _account(raw, columns)
        except InputError:
            return None

    def _duplicates(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` with ``dup`` (the account was seen before in this run: first one wins) and
        ``_fast`` (checked and not a duplicate: no need for the row path)."""
        key = pl.col("dupkey")
        first = key.is_first_distinct() & key.is_not_null()
        marked = rows.with_columns(first.alias("_first"))
        fresh = marked.get_column("dupkey").filter(marked.get_column("_first")).to_list()
        again = self.seen.intersection(fresh)
        self.seen.update(fresh)
        dup = key.is_not_null() & ~pl.col("_first")
        if again:
            dup = dup | key.is_in(pl.lit(pl.Series(list(again), dtype=pl.String)).implode())
        return marked.lazy().with_columns(dup.alias("dup")) \
            .with_columns((pl.col("ok") & ~pl.col("dup")).alias("_fast")).collect(engine=ENGINE)

    def _slow(self, batch: Batch, rows: pl.DataFrame, deferred: _Deferred) -> pl.DataFrame:
        """The row path's verdict on ``rows``, in order: rejects spooled, enrolments returned."""
        run, reader = self.run, self.reader
        accepted: dict[str, list[Any]] = {name: [] for name in ACCEPTED}
        if not rows.height:
            return pl.DataFrame(accepted, schema=ACCEPTED)
        for seq, group, pos, key, dup in rows.select(SEQ, "_group", "_pos", "dupkey", "dup").iter_rows():
            raw = _raw(batch, group, pos)
            deferred.seq = seq
            record = run._accept(reader, raw, {key} if dup else set())
            if record is None:
                continue
            assert isinstance(record, Enrollment)
            for name, value in zip(ACCEPTED, _accepted_row(seq, group, pos, raw, record), strict=True):
                accepted[name].append(value)
        return pl.DataFrame(accepted, schema=ACCEPTED)

    # -- deciding and writing -------------------------------------------------------------------
    def _write(self, batch: Batch, accepted: pl.DataFrame, deferred: _Deferred) -> int:
        """Decide and write ``accepted``; return how many rows were written."""
        keyed = accepted
        firsts = keyed.unique(subset=list(KEY), keep="first", maintain_order=True)
        cases: list[_Case] = []
        index: list[int | None] = []
        for first in firsts.iter_rows(named=True):
            key = tuple(first[k] for k in KEY)
            case = self.cases.get(key)
            if case is None:
                try:
                    fee = self.run.policy.fee(_representative(first), self.month,
                                              engine=self.run.engine)
                    case = self.cases[key] = self._case(fee, first["product"])
                except InputError:
                    index.append(None)  # the engine refused this row: its key is decided row by row
                    continue
            index.append(len(cases))
            cases.append(case)
        table = firsts.select(KEY).with_columns(pl.Series("_case", index, dtype=pl.Int32))
        keyed = keyed.join(table, on=list(KEY), how="left", maintain_order="left")
        if None in index:
            keyed = self._one_by_one(batch, keyed, cases, deferred)

        def per_case(values: list[str]) -> pl.Expr:
            if len(set(values)) == 1:
                return pl.lit(values[0], pl.String)
            return pl.lit(pl.Series(values, dtype=pl.String)).gather(pl.col("_case"))

        if not keyed.height:
            return 0
        # A case is one fee key, so one product: its rows are counted by case number.
        rows = np.bincount(keyed.get_column("_case").to_numpy(), minlength=len(cases))
        for case, count in zip(cases, rows.tolist(), strict=True):
            self.run.placeholders.add(case.cells["package"], case.product, case.cells["amount"], count)
        cased = keyed.lazy().select(
            "account", "source", ROW, "_case",
            pl.concat_str(pl.col("account"), per_case([c.tail for c in cases])).cast(pl.Binary)
            .alias("_tail")).collect(engine=ENGINE)
        ids = pl.Series("_id", self.ids.submit_names(cased.get_column("_tail")).result())
        cells = {"record_id": self.export.id_cells(pl.col("_id")),
                 "account_id": self.export.text_cells(pl.col("account")),
                 "source": self.export.text_cells(pl.col("source")),
                 "source_row": self.export.number_cells(pl.col(ROW))}
        parts: list[pl.Expr] = []
        for i, slot in enumerate(SLOTS):
            parts += [per_case([c.template[i] for c in cases]), cells[slot]]
        parts.append(per_case([c.template[-1] for c in cases]))
        self.export.write_lines(cased.lazy().with_columns(ids.alias("_id")).select(pl.concat_str(parts)))
        return keyed.height

    def _one_by_one(self, batch: Batch, keyed: pl.DataFrame, cases: list[_Case],
                    deferred: _Deferred) -> pl.DataFrame:
        """Rows of keys the engine refused, decided as ``Policy.fees`` does after a refusal: each on
        its own; a row it refuses again is rejected, as the row path rejects it."""
        run = self.run
        solo: dict[int, int] = {}
        for seq, group, pos in keyed.filter(pl.col("_case").is_null()).select(SEQ, "_group", "_pos") \
                .iter_rows():
            raw = _raw(batch, group, pos)
            try:
                record = self.reader.read(raw, self.reader.column_map(raw))
                assert isinstance(record, Enrollment)
                enrollment = run._known_package(record)
                case = self._case(run.policy.fee(enrollment, self.month, engine=run.engine),
                                  enrollment.product.value)
            except InputError as exc:
                deferred.seq = seq
                run.reject(raw, exc)
                continue
            solo[seq] = len(cases)
            cases.append(case)
        return keyed.with_columns(pl.coalesce(
            "_case", pl.col(SEQ).replace_strict(list(solo), list(solo.values()), default=None,
                                                return_dtype=pl.Int32))) \
            .filter(pl.col("_case").is_not_null())

    def _case(self, fee: FeeDecision, product: str) -> _Case:
        """The export cells of one decision, as the row path fills them, and its line template;
        ``product`` is the broadband product of its rows (part of the fee key)."""
        cells = self.run.bill_row(RawRow("", 0, {}), fee, self.cycle)
        tail = RECORD_SEPARATOR + record_tail(fee.month)
        return _Case(cells, tail, self.export.template(cells, SLOTS), product)


@attrs.frozen
class _Case:
    """One decision's cells, the tail of its record ids' names and its line cut around the slots."""

    cells: dict[str, Any]
    tail: str
    template: list[str]
    product: str


class _Deferred:
    """Stands in for the reject spool during a batch: rejects wait, then go in reading order.

    The row path rejects a row the moment it reads or decides it; here the
    checks, the row path's verdicts and the decisions run a batch at a time,
    so each reject is tagged with its row's place and spooled in that order.
    """

    def __init__(self, spool: RejectSpool) -> None:
        self._spool = spool
        self._rejects: list[tuple[int, int, RawRow, str, str]] = []
        self.seq = 0

    def note_columns(self, raw: RawRow) -> None:
        self._spool.note_columns(raw)

    def add(self, raw: RawRow, field: str, error: str) -> None:
        self._rejects.append((self.seq, len(self._rejects), raw, field, error))

    def flush(self) -> None:
        for _seq, _n, raw, field, error in sorted(self._rejects, key=lambda r: (r[0], r[1])):
            self._spool.add(raw, field, error)
        self._rejects.clear()


def _raw(batch: Batch, group: int, pos: int) -> RawRow:
    """The raw row at ``pos`` of group ``group`` (-1: the irregular rows)."""
    return batch.irregular[pos][1] if group < 0 else batch.groups[group].raw_of(pos)


def _representative(first: dict[str, Any]) -> Enrollment:
    """An enrolment with the fee key of ``first`` (a checked row), to decide that key once.

    It is rebuilt from the row's checked values; a returned one gets a
    placeholder reason, which no fee depends on.
    """
    return Enrollment(
        account_id=first["account"], product=first["product"],
        accepted_on=date.fromordinal(first["acc"] + EPOCH),
        completed_on=_date(first["comp"]), returned=first["returned"],
        return_reason="(returned)" if first["returned"] else None,
        cancel_requested_on=_date(first["req"]), cancel_effective_on=_date(first["eff"]),
        switched_to=first["switched"])

def _date(number: int | None) -> date | None:
    return None if number is None else date.fromordinal(number + EPOCH)


def _accepted_row(seq: int, group: int, pos: int, raw: RawRow,
                  enrollment: Enrollment) -> tuple[Any, ...]:
    """An enrolment the row path accepted, as the columns of ``ACCEPTED``."""
    def day(value: date | None) -> int | None:
        return None if value is None else day_number(value)

    def month(value: date | None) -> int:
        return -1 if value is None else value.year * 12 + value.month - 1

    return (seq, raw.row, group, pos, raw.source, enrollment.account_id, enrollment.product.value,
            enrollment.returned,
            day_number(enrollment.accepted_on), day(enrollment.completed_on),
            day(enrollment.cancel_requested_on), day(enrollment.cancel_effective_on),
            enrollment.switched_to, month(enrollment.completed_on),
            month(enrollment.cancel_requested_on), month(enrollment.cancel_effective_on),
            enrollment.switched_to or "")


def _report(progress: Callable[[int], None], before: int, after: int, every: int) -> None:
    """Progress as the row path reports it: at every ``every`` rows read."""
    for done in range(before // every + 1, after // every + 1):
        progress(done * every)
