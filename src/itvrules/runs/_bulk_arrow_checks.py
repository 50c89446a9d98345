"""The rows of a Parquet feed checked a batch at a time, as the row path would check them.

Cells are read by the library's own parsers (``parse_date``, ``parse_bool``,
``parse_enum``), once per distinct value and spread over the column, so ten
million rows with a few hundred distinct dates cost a few hundred parses;
typed Parquet columns (``date32``, ``bool``) need no parsing. The checks of
``Enrollment`` (field by field, then across fields) and of the bill run (one
trial per account, a known ``switched_to`` package) then run as column
expressions, which tell the rows that pass from those that do not.

A rejected row's field and words are the row path's own (``ArrowBatchChecker.explain``):
its cells are read as the Parquet reader hands them to the row path and put
through the row path's readers and validators, so ``--backend rows`` and the
Parquet path write the same rejects, error text included. Rejects are few, so
that is done a row at a time; the rows that pass never leave the columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .._errors import InputError
from ..contract import RunChecks, load_contract, normaliser
from ..frames._contract import campaign_days, first_failed, message, polars_normal
from ..hookspecs import RawRow
from ..model._enums import PriorModem, Product
from ..model._inputs import CELL_ORDER, PRIOR_MODEM_ALIASES, PRODUCT_ALIASES, Enrollment
from ..model._parse import CELLS, WHITESPACE, parse_bool, parse_date, parse_enum
from ._common import worded
from ._rows import BILL, ColumnMap, RowReader, header_of

if TYPE_CHECKING:
    from ..policy._policy import Policy

#: The feed's row number, from 1.
ROW = "_row"
DATES = ("accepted_on", "completed_on", "cancel_requested_on", "cancel_effective_on")
#: Dates are held as days since 1970-01-01 (a Polars Date); this marks a cell that is not a date.
BAD_DAY = -(2**31) + 1
_EPOCH = 719163  # date(1970, 1, 1).toordinal()
#: Python's first and last day, as days since 1970-01-01.
_FIRST_DAY, _LAST_DAY = 1 - _EPOCH, 3652059 - _EPOCH
#: What a text reader returns for a value it does not know (an enum, a package).
_UNKNOWN = "\x00"


def repeated_rows(feed: pq.ParquetFile, account: str, batch_rows: int) -> pl.Series:
    """Row numbers of every row whose account an earlier row already has.

    As in the row path, an earlier row claims its account even when it is itself
    rejected, and rows without an account are left to the other checks. The
    account column is read a batch at a time and kept as 64-bit hashes only;
    hashes that repeat are found by sorting (a hash table over ten million rows
    costs five times as much), and the rows carrying them are read again and
    compared as text, so memory stays at eight bytes a row and a hash collision
    never rejects a row.
    """
    hashes = np.empty(feed.metadata.num_rows, dtype=np.uint64)
    blank = np.zeros(feed.metadata.num_rows, dtype=np.bool_)
    at = 0
    for cells in _account_cells(feed, account, batch_rows):
        ids = _account(pl.Series(cells))
        hashes[at:at + len(ids)] = ids.hash().to_numpy()
        blank[at:at + len(ids)] = ids.is_null().to_numpy()
        at += len(ids)
    ordered = pl.Series(hashes).sort().to_numpy()
    repeats = ordered[1:][ordered[1:] == ordered[:-1]]
    shared = pl.Series(hashes).is_in(pl.Series(np.unique(repeats)).implode()).to_numpy() & ~blank
    candidates = np.flatnonzero(shared)
    if not len(candidates):
        return pl.Series(ROW, [], dtype=pl.Int64)
    texts: list[pl.Series] = []
    at = 0
    for cells in _account_cells(feed, account, batch_rows):
        inside = candidates[(candidates >= at) & (candidates < at + len(cells))]
        if len(inside):
            texts.append(_account(pl.Series(cells.take(pa.array(inside - at)))))
        at += len(cells)
    found = pl.DataFrame({ROW: candidates + 1, "a": pl.concat(texts)})
    return found.filter(~pl.col("a").is_first_distinct()).get_column(ROW).cast(pl.Int64)


def _account_cells(feed: pq.ParquetFile, account: str, batch_rows: int) -> Iterator[pa.Array]:
    for batch in feed.iter_batches(batch_size=batch_rows, columns=[account]):
        yield batch.column(0)


class ArrowBatchChecker:
    """Types a batch's cells, tells which rows pass every check and why the others fail."""

    def __init__(self, policy: Policy, fields: dict[str, str], repeated: pl.Series) -> None:
        self.headers = fields  # field -> header in the feed
        self.repeated = repeated
        lookup = {p.name.strip().lower(): code for code, p in policy.packages.items()}
        lookup.update({code.lower(): code for code in policy.packages})
        self.packages = lookup
        self.policy = policy
        self.checks = self._checks()
        self.run_checks = RunChecks(policy, BILL)
        contract = load_contract()
        self.contract = (*contract.scoped("record"),
                         *contract.scoped("run", BILL, policy.parameters))
        self.failed = first_failed(self.contract, contract.kind)
        self.constants = {"known_packages": ", ".join(policy.packages),
                          **contract.constants(policy.parameters)}
        # The row path's view of the header: the same pairs, in the same order.
        self.columns = ColumnMap(tuple((header, field) for field, header in fields.items()), ())
        self.reader = RowReader(BILL)
        # Enums, so that finding the distinct fee cases (``_parquet.fee_cases``) needs no hashing.
        self.product_type = pl.Enum([p.value for p in Product] + [_UNKNOWN])
        self.package_type = pl.Enum([*policy.packages, _UNKNOWN])

    def column(self, raw: pl.DataFrame, field: str) -> pl.Series:
        header = self.headers.get(field)
        if header is None:
            return pl.repeat(None, raw.height, eager=True)  # a column the feed lacks: all blank
        return raw.get_column(header)

    def typed(self, raw: pl.DataFrame, offset: int) -> pl.DataFrame:
        """The batch's cells read: days as Int32 (``BAD_DAY``: not a date), enums checked.

        ``_repeated`` marks the rows whose account an earlier row has.
        """
        column = self.column
        rows = pl.int_range(offset + 1, offset + raw.height + 1, dtype=pl.Int64, eager=True)
        repeated = self.repeated.filter((self.repeated > offset) & (self.repeated <= offset + raw.height))
        return pl.DataFrame([
            rows.alias(ROW),
            rows.is_in(repeated.implode()).alias("_repeated"),
            _account(column(raw, "account_id")).alias("account_id"),
            _by_value(column(raw, "product"), _product, self.product_type, "product").alias("product"),
            *(_day(column(raw, field)).alias(field) for field in DATES),
            _returned(column(raw, "returned")).alias("returned"),
            _by_value(column(raw, "switched_to"), self._package, self.package_type, "switched_to")
            .alias("switched_to"),
            _present(column(raw, "return_reason")).alias("_reason"),
            _by_value(column(raw, "prior_modem"), _prior_modem, pl.String, "prior_modem")
            .alias("_modem"),
        ])

    def passes(self, typed: pl.DataFrame) -> pl.Series:
        """True for every row no check fails: its cells read, then the contract's checks."""
        return self._named(typed).select((pl.col("_cells") < 0) & (self.failed < 0)).collect().to_series()

    def _named(self, typed: pl.DataFrame) -> pl.LazyFrame:
        """``typed`` with the contract's fields and facts as its checks read them."""
        day = {c: pl.when(pl.col(c) != BAD_DAY).then(pl.col(c)) for c in DATES}
        first, last = campaign_days(self.policy.windows, day["accepted_on"],
                                    lambda d: d.toordinal() - _EPOCH)
        switched = pl.col("switched_to").cast(pl.String)
        cells: Any = pl
        for index, (fails, _field, _message) in enumerate(self.checks):
            cells = cells.when(fails.fill_null(False)).then(pl.lit(index))
        return typed.lazy().with_columns(cells.otherwise(pl.lit(-1)).alias("_cells")).with_columns(
            *(expr.alias(c) for c, expr in day.items()),
            pl.col("_repeated").alias("account_repeated"),
            (pl.col("returned") == 1).alias("returned"),
            pl.when(pl.col("_reason")).then(pl.lit("given")).alias("return_reason"),
            switched.alias("switched_to"),
            (switched != _UNKNOWN).alias("switched_known"),
            first.alias("campaign_first_day"), last.alias("campaign_last_day"))

    @staticmethod
    def enrolments(typed: pl.DataFrame) -> pl.DataFrame:
        """Rows that passed, as ``_frames.ENROLLMENT_COLUMNS`` plus ``_row``.

        ``product`` and ``switched_to`` are Polars Enums (text to every comparison).
        """
        return typed.select(
            ROW, "account_id", "product", *(pl.col(c).cast(pl.Date) for c in DATES),
            (pl.col("returned") == 1).alias("returned"), "switched_to")

    def explain(self, raw: pl.DataFrame, failed: pl.DataFrame, batch: pa.RecordBatch) -> pl.DataFrame:
        """``_row``, ``field`` and ``error`` of failed rows (``raw``, ``failed``, ``batch`` row for row).

        The field and words are those the row path gives the row (``row_error``),
        read from the feed's own cells (``batch``). The first failed check's field
        and words (``first_failed``) stand only for a row the row path would
        take, which the tests of the two paths rule out.
        """
        from ._arrow import cells

        headers = [header for header, _field in self.columns.pairs]
        columns = [cells(batch.column(header)) for header in headers]
        found = [self.row_error(dict(zip(headers, values, strict=True)), repeated=repeated)
                 for values, repeated in zip(zip(*columns, strict=True),
                                             failed.get_column("_repeated"), strict=True)]
        own = self.first_failed(raw, failed).select("field", "error").rows() if None in found else []
        said = [words if words is not None else own[at] for at, words in enumerate(found)]
        return pl.DataFrame([failed.get_column(ROW),
                             pl.Series("field", [field for field, _error in said], dtype=pl.String),
                             pl.Series("error", [error for _field, error in said], dtype=pl.String)])

    def first_failed(self, raw: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
        """``_row``, and the field and words of the first check each failed row fails, in bulk."""
        cells = {f"_raw_{field}": raw.get_column(header).cast(pl.String).fill_null("")
                 for field, header in self.headers.items()}
        field: Any = pl
        words: Any = pl
        for index, (_fails, name, text) in enumerate(self.checks):
            hit = pl.col("_cells") == index
            field = field.when(hit).then(pl.lit(name))
            words = words.when(hit).then(text)
        for index, check in enumerate(self.contract):
            hit = self.failed == index
            field = field.when(hit).then(pl.lit(check.field))
            words = words.when(hit).then(message(check, self.constants))
        return self._named(failed.with_columns(**cells)) \
            .select(ROW, field.alias("field"), words.alias("error")).collect()

    def row_error(self, values: dict[str, Any], *, repeated: bool) -> tuple[str, str] | None:
        """(field, error) the row path (``_pipeline._Run._accept``) rejects a row for; None if none.

        ``values`` are the row's cells by header, as ``parquet_io.cells`` reads
        them; ``repeated`` says an earlier row has the row's account (what the
        row path's set of accounts seen would say, ``repeated_rows``).
        """
        raw = RawRow("", 0, values, tuple(values))
        try:
            record = self.reader.read(raw, self.columns)
            assert isinstance(record, Enrollment)
            error = self.run_checks.error(account_id=record.account_id, repeated=repeated,
                                          accepted_on=record.accepted_on,
                                          switched_to=record.switched_to)
            if error is not None:
                raise error
        except InputError as error:
            return error.field, worded(error, header_of(self.columns, error.field))
        return None

    def _package(self, value: str) -> str | None:
        return self.packages.get(value.lower(), _UNKNOWN) if value else None

    def _checks(self) -> list[tuple[pl.Expr, str, pl.Expr]]:
        """(fails, field, message) of reading the cells, in the row path's order (``Enrollment``'s
        fields); the contract's checks follow them (``passes``)."""
        def say(text: str, field: str | None = None) -> pl.Expr:
            if field is None:
                return pl.lit(text)
            value = pl.col(f"_raw_{field}") if field in self.headers else pl.lit("")
            return pl.concat_str(pl.lit(f"{text}; got '"), value, pl.lit("'"))

        acc, comp, req, eff = (pl.col(c) for c in DATES)
        bad_date, bad_bool = CELLS.cell_problem("date"), CELLS.cell_problem("bool")
        checks = [
            (pl.col("account_id").is_null(), "account_id", say(CELLS.cell_problem("text"))),
            (pl.col("product").is_null() | (pl.col("product") == _UNKNOWN), "product",
             say(CELLS.cell_problem("enum", values=", ".join(p.value for p in Product)), "product")),
            (acc.is_null() | (acc == BAD_DAY), "accepted_on", say(bad_date, "accepted_on")),
            (comp == BAD_DAY, "completed_on", say(bad_date, "completed_on")),
            (pl.col("returned") == 2, "returned", say(bad_bool, "returned")),
            (req == BAD_DAY, "cancel_requested_on", say(bad_date, "cancel_requested_on")),
            (eff == BAD_DAY, "cancel_effective_on", say(bad_date, "cancel_effective_on")),
            (pl.col("_modem") == _UNKNOWN, "prior_modem",
             say(CELLS.cell_problem("enum", values=", ".join(p.value for p in PriorModem)),
                 "prior_modem")),
        ]
        return sorted(checks, key=lambda check: CELL_ORDER[check[1]])  # the model's order


# -- cells -------------------------------------------------------------------------------------


def _by_value(cells: pl.Series, read: Callable[[str], Any], dtype: Any,
              field: str | None = None) -> pl.Series:
    """``read`` of each distinct cell once, in ``field``'s normal form (the contract's
    ``normal_form``; without a field, stripped); a blank or null cell: ``read("")``.

    A column ``read`` leaves as it is (codes already canonical) is returned as it is.
    """
    if cells.dtype == pl.Null:
        return pl.repeat(read(""), len(cells), dtype=dtype, eager=True)
    normal = normaliser(field) if field is not None else _strip
    distinct = cells.unique()
    raw = distinct.to_list()
    values = [read("" if cell is None else normal(str(cell))) for cell in raw]
    if cells.dtype == pl.String and values == raw:
        return cells if dtype == pl.String else cells.cast(dtype)
    return cells.replace_strict(distinct, pl.Series(values, dtype=dtype), return_dtype=dtype)


def _present(cells: pl.Series) -> pl.Series:
    """True where a text cell holds more than whitespace."""
    if cells.dtype == pl.Null:
        return pl.repeat(False, len(cells), eager=True)
    text = cells.cast(pl.String).str.strip_chars(WHITESPACE)
    return (text.str.len_bytes() > 0).fill_null(False)


def _strip(text: str) -> str:
    return text.strip(WHITESPACE)


#: An account id's normal form (the contract's ``normal_form``), compiled to Polars once.
_ACCOUNT = polars_normal(pl.col("account_id"), load_contract().steps("account_id"))


def _account(cells: pl.Series) -> pl.Series:
    """Ids as the row path reads them, in their normal form; null if blank."""
    text = pl.DataFrame({"account_id": cells.cast(pl.String)}).select(_ACCOUNT).to_series()
    return pl.select(pl.when(text != "").then(text)).to_series()


def _day(cells: pl.Series) -> pl.Series:
    """Days since 1970-01-01 (Int32); ``BAD_DAY`` for a cell that is not a date."""
    if cells.dtype == pl.Date:
        return _in_years(_within_python(cells.cast(pl.Int32)))
    if isinstance(cells.dtype, pl.Datetime):
        # A moment outside Python's years is taken out before polars converts it (it would
        # panic), by the rough day ``_arrow.cells`` tells it by, and marked not a date.
        zoned = cells.dtype.time_zone is not None
        rough = (cells.dt.epoch("s") + (8 * 3600 if zoned else 0)) // 86_400
        outside = rough.is_not_null() & ~rough.is_between(_FIRST_DAY, _LAST_DAY)
        if outside.any():
            cells = pl.select(pl.when(outside).then(None).otherwise(cells)).to_series()
        if zoned:  # CRM timestamps are days in Asia/Shanghai
            cells = cells.dt.convert_time_zone("Asia/Shanghai")
        days = cells.dt.date().cast(pl.Int32)
        if outside.any():
            days = pl.select(pl.when(outside).then(BAD_DAY).otherwise(days)).to_series()
        return _in_years(_within_python(days))
    return _by_value(cells, _day_number, pl.Int32)


def _within_python(days: pl.Series) -> pl.Series:
    """``days`` with a day outside Python's dates (years 1 to 9999) marked ``BAD_DAY``, as the
    row path rejects it (``_arrow.cells`` hands it on as text that is no date)."""
    inside = days.is_null() | days.is_between(_FIRST_DAY, _LAST_DAY)
    if inside.all():
        return days
    return pl.select(pl.when(inside).then(days).otherwise(BAD_DAY)).to_series().alias(days.name)


def _in_years(days: pl.Series) -> pl.Series:
    """Day numbers, ``BAD_DAY`` for a day outside the contract's years (as ``checked_year``)."""
    first, last = CELLS.years
    low = date(first, 1, 1).toordinal() - _EPOCH
    high = date(last, 12, 31).toordinal() - _EPOCH
    return pl.select(pl.when(days.is_between(low, high) | days.is_null()).then(days)
                     .otherwise(BAD_DAY)).to_series()


def _day_number(text: str) -> int | None:
    if not text:
        return None
    try:
        return parse_date(text).toordinal() - _EPOCH
    except ValueError:
        return BAD_DAY


def _returned(cells: pl.Series) -> pl.Series:
    """1 returned, 0 not (a blank cell too), 2 a cell that is not a boolean."""
    if cells.dtype == pl.Boolean:
        return cells.fill_null(False).cast(pl.Int8)

    def read(text: str) -> int:
        try:
            return int(parse_bool(text)) if text else 0
        except ValueError:
            return 2

    return _by_value(cells, read, pl.Int8)


def _product(text: str) -> str | None:
    if not text:
        return None
    try:
        return parse_enum(Product, text, PRODUCT_ALIASES).value
    except ValueError:
        return _UNKNOWN


def _prior_modem(text: str) -> str | None:
    if not text:
        return None
    try:
        return parse_enum(PriorModem, text, PRIOR_MODEM_ALIASES).value
    except ValueError:
        return _UNKNOWN


__all__ = ["BAD_DAY", "DATES", "ROW", "WHITESPACE", "ArrowBatchChecker", "repeated_rows"]
