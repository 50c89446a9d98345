"""``Policy.fees`` a batch at a time with the columnar backend: frames, Arrow data, Enrollment objects.

A batch is checked in bulk, reduced to its distinct fee cases
(``_fee_cases.fee_cases``: what a fee depends on at month resolution), the
cases are decided by the columnar backend (``Policy.fees_frame``), and each
row gets its case's decision as a ``FeeDecision``. (With ``engine=
"durable"``, or a gap in the fee table, the cases are decided one by one by
the engine, which raises the row path's ``EngineError`` at the row.) Those
objects are most of the cost, so they are built a slice at a time, a field at
a time for the whole slice (the member descriptors of the slotted class,
driven by ``map``): about 40 % less time than a ``trusted_fee`` call per row.

The bulk check only has to find every row that *might* be bad. Each such
row is read by the row path's own code: an ``Enrollment`` built from
its cells, decided by ``Policy._fee_outcome``. Its error is therefore the
row path's error, and a row flagged by mistake is decided as the row path
decides it. Decisions and errors come out in input order, each error at its
row: raised there, or handed to ``on_error`` there and the stream goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import chain, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import polars as pl

from .._errors import InputError
from ..contract import escaped, load_contract
from ..model._enums import Product
from ..model._inputs import Enrollment, _Bad, _to_prior_modem, _to_product
from ..model._parse import WHITESPACE
from ..model._results import FeeDecision, trusted_fee
from ..policy._facts import fee_key
from ._cases import fee_cases
from ._contract import campaign_days, first_failed, polars_normal
from ._fees import ENROLLMENT_COLUMNS, wrong_types

if TYPE_CHECKING:
    import pyarrow as pa

    from ..engines import Engine
    from ..policy._policy import Policy, _FeeOutcome

OnError = Callable[[Any, InputError], None] | None

#: Columns read besides ``ENROLLMENT_COLUMNS`` when the input has them (checked as Enrollment does).
OPTIONAL_COLUMNS = {"return_reason": pl.String, "prior_modem": pl.String}
#: What a row is called in the errors of a columnar input (``InputError.source``; ``row`` from 0).
SOURCE = "frame"
#: Decisions built at a time: small enough that the slice's new objects stay in the youngest
#: garbage-collector generation (larger slices measured slower), large enough to amortise the loop.
SLICE = 512
_DATES = ("accepted_on", "completed_on", "cancel_requested_on", "cancel_effective_on")
#: Required by Enrollment (no default): a null cell is passed as None so the validator names it.
_REQUIRED = ("account_id", "product", "accepted_on")
#: Columns put in their normal form as read (the contract's ``normal_form``).
_NORMAL = ("account_id", "switched_to")
_CASE_COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "returned",
                 "cancel_requested_on", "cancel_effective_on", "switched_to")
_OUTCOME_COLUMNS = ("code", "gross", "waived", "amount", "rule", "clause", "package", "follow_up")

_new = object.__new__
#: Runs an iterator of setter calls to its end at C speed, keeping nothing.
_drain: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend
_FIELDS = tuple(f.name for f in attrs.fields(FeeDecision))
#: One setter per FeeDecision field, in field order: account_id, month, then a _FeeOutcome's fields.
_SETTERS: tuple[Callable[[FeeDecision, Any], None], ...] = tuple(
    FeeDecision.__dict__[name].__set__ for name in _FIELDS)


def is_columnar(source: object) -> bool:
    """Is ``source`` a Polars frame or Arrow data (rather than an iterable of enrolments)?"""
    if isinstance(source, pl.DataFrame | pl.LazyFrame):
        return True
    import pyarrow as pa

    return isinstance(source, pa.Table | pa.RecordBatch | pa.RecordBatchReader)


# -- the inputs ----------------------------------------------------------------------------------


def frame_fees(policy: Policy, engine: str, run: Engine, source: Any, month: str, index: int,
               on_error: OnError, batch_rows: int, *, rows: bool = False) -> Iterator[FeeDecision]:
    """Decisions for a frame or Arrow input; its columns are checked now, its rows when iterated.

    ``rows`` decides every row by the row path (an Enrollment per row), the reference.
    """
    columns = _read_columns(_schema(source))
    batches = _rebatched(_frames(source, list(columns), batch_rows), batch_rows, columns)
    if rows:
        return _frame_rows(policy, run, batches, month, index, on_error, "return_reason" in columns)
    return chain.from_iterable(_frame_columnar(policy, engine, run, batches, month, index, on_error,
                                               columns))


def object_fees(policy: Policy, engine: str, run: Engine, enrollments: Iterable[Any], month: str,
                index: int, on_error: OnError, batch_rows: int) -> Iterator[FeeDecision]:
    """Decisions for Enrollment objects, ``batch_rows`` of them read ahead and decided at a time."""
    return chain.from_iterable(_object_slices(policy, engine, run, enrollments, month, index,
                                              on_error, batch_rows))


def _object_slices(policy: Policy, engine: str, run: Engine, enrollments: Iterable[Any],
                   month: str, index: int, on_error: OnError,
                   batch_rows: int) -> Iterator[list[FeeDecision]]:
    items = iter(enrollments)
    while True:
        batch = [item for _, item in zip(range(batch_rows), items, strict=False)]
        if not batch:
            return
        yield from _object_batch(policy, engine, run, batch, month, index, on_error)
        if len(batch) < batch_rows:
            return


def _schema(source: Any) -> pl.Schema:
    if isinstance(source, pl.DataFrame):
        return source.schema
    if isinstance(source, pl.LazyFrame):
        return source.collect_schema()
    arrow: pa.Schema = source.schema
    return pl.DataFrame(pl.from_arrow(arrow.empty_table())).schema


def _read_columns(schema: pl.Schema) -> dict[str, Any]:
    """The columns read and their types; a missing column or one of the wrong type is an error now."""
    missing = [c for c in ENROLLMENT_COLUMNS if c not in schema]
    if missing:
        raise InputError("(columns)", missing, "the enrolment input lacks these columns")
    wanted = {**ENROLLMENT_COLUMNS, **{c: t for c, t in OPTIONAL_COLUMNS.items() if c in schema}}
    wrong = wrong_types(schema, wanted)
    if wrong:
        raise InputError("(columns)", wrong, "expected text (String), Date and Boolean columns as "
                         "ENROLLMENT_COLUMNS has them")
    return wanted


def _frames(source: Any, columns: list[str], batch_rows: int) -> Iterator[pl.DataFrame]:
    """The input's rows as Polars frames of the read columns, in order, in whatever pieces it has."""
    if isinstance(source, pl.DataFrame):
        yield source.select(columns)
    elif isinstance(source, pl.LazyFrame):
        yield from source.select(columns).collect_batches(chunk_size=batch_rows, lazy=True)
    elif hasattr(source, "read_next_batch"):  # a RecordBatchReader: one batch in memory at a time
        for batch in source:
            yield pl.DataFrame(pl.from_arrow(batch.select(columns)))
    else:
        yield pl.DataFrame(pl.from_arrow(source.select(columns)))


def _rebatched(frames: Iterator[pl.DataFrame], rows: int,
               columns: dict[str, Any]) -> Iterator[tuple[int, pl.DataFrame]]:
    """(offset, batch) of exactly ``rows`` rows (the last fewer), text columns as String."""
    casts = [pl.col(name).cast(kind) for name, kind in columns.items()]
    pending: list[pl.DataFrame] = []
    held = offset = 0
    for frame in frames:
        frame = frame.with_columns(casts)
        while frame.height:
            take = min(rows - held, frame.height)
            pending.append(frame.slice(0, take))
            frame = frame.slice(take)
            held += take
            if held == rows:
                yield offset, pending[0] if len(pending) == 1 else pl.concat(pending)
                offset += held
                pending, held = [], 0
    if held:
        yield offset, pending[0] if len(pending) == 1 else pl.concat(pending)


# -- frames and Arrow ------------------------------------------------------------------------------


def _frame_columnar(policy: Policy, engine: str, run: Engine,
                    batches: Iterator[tuple[int, pl.DataFrame]], month: str, index: int,
                    on_error: OnError, columns: dict[str, Any]) -> Iterator[list[FeeDecision]]:
    """Lists of decisions in order (chained by the caller: no generator step per decision)."""
    has_reason = "return_reason" in columns
    contract = load_contract()
    normal = [polars_normal(pl.col(name), contract.steps(name)) for name in _NORMAL]
    for offset, batch in batches:
        # as Enrollment reads them: the product's value, the account and package in their normal
        # form; ``batch`` keeps the cells as given, for the rows handed to ``on_error``
        typed = batch.with_columns(_canonical(batch.get_column("product"), _to_product), *normal)
        suspect = _suspect(typed, policy, has_reason, _bad_values(batch, "prior_modem"),
                           checked=on_error is not None)
        good = typed.filter(~suspect).select(
            "account_id", "product", "accepted_on", "completed_on",
            pl.col("returned").fill_null(False), "cancel_requested_on", "cancel_effective_on",
            pl.when(~_blank("switched_to")).then(pl.col("switched_to")).alias("switched_to"))
        case = np.full(batch.height, -1, dtype=np.int64)
        outcomes: list[_FeeOutcome] = []
        errors: dict[int, tuple[Any, Exception]] = {}
        if good.height:
            found, failed = _decide(policy, engine, run, good, month, index, outcomes)
            at = np.flatnonzero(~suspect.to_numpy())
            case[at] = found
            if failed:
                first = int(at[np.isin(found, list(failed))][0])
                errors[first] = (batch.row(first, named=True), failed[int(case[first])])
        for position in suspect.arg_true().to_list():
            row = batch.row(position, named=True)
            try:
                enrolment = _enrolment(row, has_reason)
                refused = policy.run_error(enrolment) if on_error is not None else None
                if refused is not None:
                    raise refused
                outcome = policy._fee_outcome(run, fee_key(enrolment), index, enrolment)
            except InputError as error:
                errors[position] = (row, _located(error, row, offset + position))
            else:
                case[position] = len(outcomes)
                outcomes.append(outcome)
        accounts = typed.get_column("account_id").to_list()
        yield from _emit(accounts, case, outcomes, errors, month, on_error)


def _frame_rows(policy: Policy, run: Engine, batches: Iterator[tuple[int, pl.DataFrame]], month: str,
                index: int, on_error: OnError, has_reason: bool) -> Iterator[FeeDecision]:
    """The reference: an Enrollment per row, decided by the row path (one decision per case)."""
    seen: dict[tuple[Any, ...], _FeeOutcome] = {}
    for offset, batch in batches:
        for position, row in enumerate(batch.iter_rows(named=True), offset):
            try:
                enrolment = _enrolment(row, has_reason)
                refused = policy.run_error(enrolment) if on_error is not None else None
                if refused is not None:
                    raise refused
                key = fee_key(enrolment)
                outcome = seen.get(key)
                if outcome is None:
                    outcome = seen[key] = policy._fee_outcome(run, key, index, enrolment)
            except InputError as error:
                located = _located(error, row, position)
                if on_error is None:
                    raise located from None
                on_error(row, located)
                continue
            yield trusted_fee(enrolment.account_id, month, *outcome)


def _blank(column: str) -> pl.Expr:
    """Null, or text ``str.strip()`` empties."""
    return pl.col(column).is_null() | (pl.col(column).str.strip_chars(WHITESPACE) == "")


def _canonical(cells: pl.Series, read: Callable[[Any], Any]) -> pl.Series:
    """Each distinct cell read once by the model's converter: the enum's value, or null if unreadable."""
    distinct = cells.unique().drop_nulls().to_list()
    values = [read(cell) for cell in distinct]
    canonical = [None if isinstance(v, _Bad) else str(v.value) for v in values]
    if canonical == distinct:
        return cells
    return cells.replace_strict(distinct, canonical, default=None, return_dtype=pl.String)


def _bad_values(batch: pl.DataFrame, column: str) -> list[str]:
    """The distinct cells of an optional enum column the model's converter refuses."""
    if column not in batch.columns:
        return []
    return [cell for cell in batch.get_column(column).unique().drop_nulls().to_list()
            if isinstance(_to_prior_modem(cell), _Bad)]


def _suspect(frame: pl.DataFrame, policy: Policy, has_reason: bool, bad_modems: list[str], *,
             checked: bool) -> pl.Series:
    """True for every row Enrollment or fees() might refuse (never false for one they refuse).

    The contract's record checks, and with ``checked`` (``on_error`` given: a feed run) its run
    checks of ``fees``, compiled to one expression; a package named other than by its code is
    left to the row path, which reads names.
    """
    contract = load_contract()
    rules = (*contract.scoped("record"),
             *(contract.scoped("run", "fees", policy.parameters) if checked else ()))
    switched = pl.when(~_blank("switched_to")).then(pl.col("switched_to"))  # as Enrollment keeps it
    known = switched.is_in(list(policy.document.packages))
    first, last = campaign_days(policy.windows, pl.col("accepted_on"), lambda day: day)
    named = {
        "returned": pl.col("returned").fill_null(False),
        # without the column a returned order has no reason: refused, as on every path
        "return_reason": pl.col("return_reason").str.strip_chars(WHITESPACE) if has_reason
        else pl.lit(None, pl.String),
        "switched_to": switched,
        "switched_known": known,
        "campaign_first_day": first,
        "campaign_last_day": last,
    }
    flagged = (
        _blank("account_id") | pl.col("product").is_null() | pl.col("accepted_on").is_null()
        | (switched.is_not_null() & ~known)  # decided by the fee outcome, which raises
    ).fill_null(False)
    if bad_modems:
        flagged = flagged | pl.col("prior_modem").is_in(bad_modems).fill_null(False)
    return frame.with_columns(flagged.alias("_flagged")).with_columns(**named) \
        .select(pl.col("_flagged") | (first_failed(rules, contract.kind) >= 0)).to_series()


def _enrolment(row: dict[str, Any], has_reason: bool) -> Enrollment:
    """The row as the row path reads it: a null cell is a missing value (its default, if any)."""
    fields = {k: v for k, v in row.items() if v is not None or k in _REQUIRED}
    return Enrollment(**fields)


def _located(error: InputError, row: dict[str, Any], position: int) -> InputError:
    """``error`` pointing at its row (from 0) and naming the row's account."""
    account = row.get("account_id")
    problem = error.problem
    if isinstance(account, str) and account.strip() and account not in problem:
        problem = f"{problem} (account {escaped(account)})"
    return InputError(error.field, error.value, problem, source=SOURCE, row=position)


# -- Enrollment objects ----------------------------------------------------------------------------


def _object_batch(policy: Policy, engine: str, run: Engine, items: list[Any], month: str,
                  index: int, on_error: OnError) -> Iterator[list[FeeDecision]]:
    packages = policy.document.packages
    errors: dict[int, tuple[Any, Exception]] = {}
    kept = [isinstance(item, Enrollment) for item in items]
    if on_error is not None:  # a feed run: the contract's run checks of fees first
        for p, item in enumerate(items):
            refused = policy.run_error(item) if kept[p] else None
            if refused is not None:
                kept[p] = False
                errors[p] = (item, refused)
    if all(kept):
        positions = None
        enrolments: list[Enrollment] = items
    else:
        positions = [p for p, ok in enumerate(kept) if ok]
        enrolments = [items[p] for p in positions]
        for p, ok in enumerate(kept):
            if not ok and p not in errors:
                errors[p] = (items[p], InputError("enrollment", items[p],
                                                  "expected an itvrules.Enrollment"))
    case = np.full(len(items), -1, dtype=np.int64)
    outcomes: list[_FeeOutcome] = []
    accounts: list[Any] = list(map(attrgetter("account_id"), enrolments))
    if enrolments:
        switched = list(map(attrgetter("switched_to"), enrolments))
        unknown = {s for s in set(switched) if s is not None and s not in packages}
        good = pl.DataFrame({
            "account_id": pl.Series(accounts, dtype=pl.String),
            "product": pl.Series(list(map(attrgetter("product"), enrolments)), dtype=pl.String),
            "accepted_on": pl.repeat(None, len(enrolments), dtype=pl.Date, eager=True),
            **{name: pl.Series(list(map(attrgetter(name), enrolments)), dtype=pl.Date)
               for name in _DATES[1:]},
            "returned": pl.Series(list(map(attrgetter("returned"), enrolments)), dtype=pl.Boolean),
            "switched_to": pl.Series(switched, dtype=pl.String),
        })
        bad = [p for p, s in enumerate(switched) if s in unknown] if unknown else []
        if bad:
            good = good.filter(~pl.col("switched_to").is_in(list(unknown)).fill_null(False))
        at = np.arange(len(enrolments))
        if bad:
            at = np.delete(at, bad)
        if positions is not None:
            at = np.asarray(positions, dtype=np.int64)[at]
        if good.height:
            found, failed = _decide(policy, engine, run, good.select(_CASE_COLUMNS), month, index,
                                    outcomes)
            case[at] = found
            if failed:
                first = int(at[np.isin(found, list(failed))][0])
                errors[first] = (items[first], failed[int(case[first])])
        for p in bad:
            enrolment = enrolments[p]
            where = p if positions is None else positions[p]
            try:
                outcome = policy._fee_outcome(run, fee_key(enrolment), index, enrolment)
            except InputError as error:
                errors[where] = (enrolment, error)
            else:  # not reached: an unknown package is always refused; kept for symmetry
                case[where] = len(outcomes)
                outcomes.append(outcome)
    if positions is not None:  # accounts by position; a position that is not an Enrollment: None
        spread: list[Any] = [None] * len(items)
        for p, account in zip(positions, accounts, strict=True):
            spread[p] = account
        accounts = spread
    yield from _emit(accounts, case, outcomes, errors, month, on_error)


# -- deciding the cases, building the decisions ---------------------------------------------------


#: Stands in for a case the engine could not decide; its rows are errors, never built.
_NO_OUTCOME: Any = ("", None, None, None, "", "", None, False, "", "", "")


def _decide(policy: Policy, engine: str, run: Engine, good: pl.DataFrame, month: str, index: int,
            outcomes: list[_FeeOutcome]) -> tuple[np.ndarray, dict[int, Exception]]:
    """Each row's case number (into ``outcomes``, which the cases are appended to) and the cases
    the engine refused, with the error the row path raises for them."""
    cases, row_case = fee_cases(good)
    first = len(outcomes)
    failed: dict[int, Exception] = {}
    decided = None
    if engine == "compiled":
        try:
            decided = policy.fees_frame(cases, month)
        except InputError:  # a gap in the fee table: the engine says it as the row path does
            decided = None
    if decided is not None:
        provenance = policy._provenance
        outcomes.extend((*row, *provenance)
                        for row in decided.select(_OUTCOME_COLUMNS).iter_rows())
    else:
        for number, case in enumerate(cases.iter_rows(named=True)):
            try:
                outcomes.append(policy._case_outcome(run, _key(case), index, case["account_id"]))
            except Exception as error:  # an EngineError, raised where the row path raises it
                failed[first + number] = error
                outcomes.append(_NO_OUTCOME)
    return row_case.to_numpy().astype(np.int64) + first, failed


def _key(case: dict[str, Any]) -> tuple[Any, ...]:
    """``_facts.fee_key`` of a case row (an effective date stands in for a missing request)."""
    def month_of(day: date | None) -> int | None:
        return None if day is None else day.year * 12 + day.month - 1

    requested = case["cancel_requested_on"] or case["cancel_effective_on"]
    return (case["returned"], month_of(case["completed_on"]), month_of(requested),
            month_of(case["cancel_effective_on"]), case["switched_to"], Product(case["product"]))


def _emit(accounts: list[Any], case: np.ndarray, outcomes: list[_FeeOutcome],
          errors: dict[int, tuple[Any, Exception]], month: str,
          on_error: OnError) -> Iterator[list[FeeDecision]]:
    """The decisions of a batch in order, a slice at a time, each error at its row (raised, or
    handed to on_error) once the decisions before it are taken."""
    columns = _columns(outcomes)
    start = 0
    count = len(accounts)
    for stop in [*sorted(errors), count]:
        for low in range(start, stop, SLICE):
            yield _build(accounts, case, columns, month, low, min(stop, low + SLICE))
        if stop < count:
            item, error = errors[stop]
            if on_error is None or not isinstance(error, InputError):
                raise error
            on_error(item, error)
        start = stop + 1


def _columns(outcomes: list[_FeeOutcome]) -> list[Any]:
    """Per outcome field: one value shared by every case, or an object array indexed by case."""
    columns: list[Any] = []
    for values in zip(*outcomes, strict=True) if outcomes else ():
        if all(v is values[0] for v in values):
            columns.append(values[0])
            continue
        array = np.empty(len(values), dtype=object)
        array[:] = values
        columns.append(array)
    return columns


def _build(accounts: list[Any], case: np.ndarray, columns: list[Any], month: str, low: int,
           high: int) -> list[FeeDecision]:
    """The decisions of rows ``low`` to ``high``: what ``trusted_fee`` makes, a field at a time."""
    count = high - low
    made = list(map(_new, repeat(FeeDecision, count)))
    drain = _drain
    set_account, set_month, *set_outcome = _SETTERS
    drain(map(set_account, made, accounts[low:high]))
    drain(map(set_month, made, repeat(month, count)))
    which = case[low:high]
    for setter, column in zip(set_outcome, columns, strict=True):
        values = column[which].tolist() if isinstance(column, np.ndarray) else repeat(column, count)
        drain(map(setter, made, values))
    return made


__all__ = ["OPTIONAL_COLUMNS", "SLICE", "frame_fees", "is_columnar", "object_fees"]
