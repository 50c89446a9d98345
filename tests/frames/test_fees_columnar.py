"""``Policy.fees`` on columns (Polars, Arrow) and its backends give what the row path gives (SPEC §5, §9).

The reference is the row path: ``fees(enrolments, backend="rows")`` over
``Enrollment`` objects, and for a frame ``backend="rows"``, which builds an
``Enrollment`` from every row. The columnar backend must give the same
``FeeDecision`` objects (compared by ``repr``, so that ``Decimal("35.00")``
and ``Decimal("35")`` differ), in the same order, and the same errors at the
same rows: on hypothesis-generated enrolments, on 100,000 random ones, on
every kind of bad row, through every input type and across batch boundaries.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import itvrules
from itvrules.frames import _stream as _fees_columnar
from itvrules.frames._fees import ENROLLMENT_COLUMNS
from itvrules.model._results import FeeDecision, trusted_fee
from samples import gap_policy, random_enrolments
from strategies import enrollments

POLICY = itvrules.load_policy()
MONTHS = ("2025-02", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-10", "2026-03")
SCHEMA = {**ENROLLMENT_COLUMNS, "return_reason": pl.String, "prior_modem": pl.String}
FIELDS = tuple(SCHEMA)

Errors = list[tuple[Any, str, str, int | None]]


def frame_of(items: list[itvrules.Enrollment]) -> pl.DataFrame:
    """Enrolments as a frame with every column ``fees()`` reads."""
    return pl.DataFrame([{name: _cell(getattr(e, name)) for name in FIELDS} for e in items],
                        schema=SCHEMA)


def _cell(value: Any) -> Any:
    return value.value if isinstance(value, itvrules.Product | itvrules.PriorModem) else value


def reprs(decisions: Any) -> list[str]:
    return [repr(d) for d in decisions]


def decide(source: Any, month: str, **options: Any) -> tuple[list[str], Errors]:
    """(decisions, errors) with on_error: each error as (item, field, message, row)."""
    seen: Errors = []

    def note(item: Any, error: itvrules.InputError) -> None:
        seen.append((item, error.field, str(error), error.row))

    return reprs(POLICY.fees(source, month, on_error=note, **options)), seen


# -- agreement on valid enrolments ----------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(st.lists(enrollments(), min_size=1, max_size=60), st.integers(1, 25))
def test_columnar_equals_rows_on_generated_enrolments(items: list[itvrules.Enrollment],
                                                       batch_rows: int) -> None:
    frame = frame_of(items)
    for month in MONTHS:
        expected = reprs(POLICY.fees(items, month, backend="rows"))
        assert expected == reprs(POLICY.fee(e, month) for e in items)
        assert reprs(POLICY.fees(frame, month)) == expected, month
        assert reprs(POLICY.fees(frame, month, batch_rows=batch_rows)) == expected, month
        assert reprs(POLICY.fees(items, month, backend="columnar", batch_rows=batch_rows)) == expected
        assert reprs(POLICY.fees(frame, month, backend="rows")) == expected


@pytest.fixture(scope="module")
def random_set() -> tuple[list[itvrules.Enrollment], pl.DataFrame]:
    items = random_enrolments(POLICY, 100_000, seed=20250320)
    return items, frame_of(items)


def test_columnar_equals_rows_on_100000_random_enrolments(
        random_set: tuple[list[itvrules.Enrollment], pl.DataFrame]) -> None:
    items, frame = random_set
    rules: set[str] = set()
    for month in ("2025-04", "2025-07", "2025-08", "2026-03"):
        rows = list(POLICY.fees(items, month, backend="rows"))
        rules.update(d.rule for d in rows)
        expected = reprs(rows)
        assert reprs(POLICY.fees(frame, month)) == expected, month
        assert reprs(POLICY.fees(frame.lazy(), month, batch_rows=30_000)) == expected, month
        assert reprs(POLICY.fees(items, month, backend="columnar", batch_rows=40_000)) == expected
    assert rules == {rule.id for rule in POLICY.rules("fees")}  # every rule fired: not vacuous


@pytest.mark.durable
def test_the_durable_engine_decides_the_cases_alike(
        random_set: tuple[list[itvrules.Enrollment], pl.DataFrame]) -> None:
    items, frame = random_set
    expected = reprs(POLICY.fees(items[:20_000], "2025-07"))
    assert reprs(POLICY.fees(frame.head(20_000), "2025-07", engine="durable")) == expected


# -- inputs ---------------------------------------------------------------------------------------


def some_enrolments() -> list[itvrules.Enrollment]:
    return random_enrolments(POLICY, 500, seed=7)


def arrow_reader(frame: pl.DataFrame, sizes: Iterator[int]) -> pa.RecordBatchReader:
    """A reader whose batches have uneven sizes (and one empty), as real readers' do."""
    table = frame.to_arrow()
    batches, at = [], 0
    while at < table.num_rows:
        size = next(sizes)
        batches.extend(table.slice(at, size).to_batches())
        at += size
    return pa.RecordBatchReader.from_batches(table.schema, batches)


@pytest.mark.parametrize("kind", ["DataFrame", "LazyFrame", "Table", "RecordBatch", "RecordBatchReader"])
def test_every_columnar_input_kind(kind: str) -> None:
    items = some_enrolments()
    frame = frame_of(items)
    source: Any = {
        "DataFrame": lambda: frame,
        "LazyFrame": lambda: frame.lazy().filter(pl.lit(True)),
        "Table": lambda: frame.to_arrow(),
        "RecordBatch": lambda: frame.to_arrow().combine_chunks().to_batches()[0],
        "RecordBatchReader": lambda: arrow_reader(frame, itertools.cycle([0, 1, 37, 120])),
    }[kind]()
    expected = reprs(POLICY.fees(items, "2025-07"))
    assert reprs(POLICY.fees(source, "2025-07", batch_rows=64)) == expected


def test_text_columns_may_be_categorical_and_optional_columns_absent() -> None:
    items = [e for e in some_enrolments() if not e.returned]
    frame = frame_of(items).drop("return_reason", "prior_modem").with_columns(
        pl.col("product").cast(pl.Categorical), pl.col("switched_to").cast(pl.Categorical))
    assert reprs(POLICY.fees(frame.to_arrow(), "2025-08")) == reprs(POLICY.fees(items, "2025-08"))


def test_a_frame_without_return_reason_refuses_returns_as_every_path_does() -> None:
    frame = pl.DataFrame([{"account_id": "R1", "product": "brand", "accepted_on": date(2025, 4, 1),
                           "returned": True}], schema=ENROLLMENT_COLUMNS)
    for backend in ("columnar", "rows"):
        with pytest.raises(itvrules.InputError) as caught:
            list(POLICY.fees(frame, "2025-05", backend=backend))
        assert caught.value.field == "return_reason"
        assert caught.value.problem.startswith("a returned order needs a detailed reason")


def test_product_aliases_and_blank_switches_read_as_enrollment_reads_them() -> None:
    frame = pl.DataFrame([
        {"account_id": " A1 ", "product": "品牌", "accepted_on": date(2025, 4, 1),
         "completed_on": date(2025, 4, 2), "switched_to": "  "},
        {"account_id": "A2", "product": " Annual ", "accepted_on": date(2025, 4, 1),
         "completed_on": date(2025, 4, 2), "switched_to": "hd"},
    ], schema=ENROLLMENT_COLUMNS)
    expected = reprs(POLICY.fees([
        itvrules.Enrollment(account_id=" A1 ", product="品牌", accepted_on=date(2025, 4, 1),
                            completed_on=date(2025, 4, 2), switched_to="  "),
        itvrules.Enrollment(account_id="A2", product=" Annual ", accepted_on=date(2025, 4, 1),
                            completed_on=date(2025, 4, 2), switched_to="hd")], "2025-08"))
    assert reprs(POLICY.fees(frame, "2025-08")) == expected
    # the id in its normal form (the input contract's normal_form), whoever built the record
    assert "account_id='A1'" in expected[0] and "package='hd'" in expected[1]


def test_an_empty_input_decides_nothing() -> None:
    empty = pl.DataFrame(schema=SCHEMA)
    assert list(POLICY.fees(empty, "2025-07")) == []
    assert list(POLICY.fees(empty.lazy(), "2025-07")) == []
    assert list(POLICY.fees(empty.to_arrow(), "2025-07")) == []
    assert list(POLICY.fees([], "2025-07", backend="columnar")) == []


def test_columns_that_cannot_be_read_are_refused_before_any_row() -> None:
    frame = frame_of(some_enrolments()[:5])
    with pytest.raises(itvrules.InputError, match="lacks these columns") as missing:
        POLICY.fees(frame.drop("switched_to"), "2025-07")  # not iterated: refused at the call
    assert missing.value.value == ["switched_to"]
    as_text = frame.with_columns(pl.col("accepted_on").cast(pl.String))
    stamped = frame.with_columns(pl.col("completed_on").cast(pl.Datetime))
    for wrong, column in ((as_text, "accepted_on"), (stamped, "completed_on")):
        with pytest.raises(itvrules.InputError, match="expected text") as caught:
            POLICY.fees(wrong.lazy(), "2025-07")
        assert column in caught.value.value


def test_unknown_backend_and_bad_batch_size_are_usage_errors() -> None:
    for options in ({"backend": "fast"}, {"batch_rows": 0}, {"batch_rows": True}):
        with pytest.raises(itvrules.ItvRulesError) as caught:
            POLICY.fees(some_enrolments(), "2025-07", **options)
        assert isinstance(caught.value, ValueError)
        assert type(caught.value).__name__ == "UsageError"


def test_auto_keeps_the_streaming_row_path_for_objects() -> None:
    produced = 0

    def endless() -> Iterator[itvrules.Enrollment]:
        nonlocal produced
        for n in itertools.count():
            assert n < 10_000, "fees() read ahead of what was asked"
            produced += 1
            yield itvrules.Enrollment(account_id=f"G{n}", product="brand",
                                      accepted_on=date(2025, 4, 1), completed_on=date(2025, 4, 2))

    assert len(list(itertools.islice(POLICY.fees(endless(), "2025-06"), 3))) == 3
    assert produced <= 4


def test_columnar_backend_over_objects_reads_one_batch_ahead() -> None:
    pulled = 0

    def counted() -> Iterator[itvrules.Enrollment]:
        nonlocal pulled
        for e in some_enrolments():
            pulled += 1
            yield e

    stream = POLICY.fees(counted(), "2025-06", backend="columnar", batch_rows=100)
    assert pulled == 0  # lazy until asked
    next(stream)
    assert pulled == 100


# -- bad rows -------------------------------------------------------------------------------------

GOOD: dict[str, Any] = {"account_id": "G", "product": "brand", "accepted_on": date(2025, 4, 1),
                        "completed_on": date(2025, 4, 3), "returned": False,
                        "cancel_requested_on": None, "cancel_effective_on": None,
                        "switched_to": None, "return_reason": None, "prior_modem": None}
#: One row per way a row is not a valid enrolment (SPEC §9) or cannot be billed, and its field.
BAD: list[tuple[dict[str, Any], str]] = [
    ({"account_id": None}, "account_id"),
    ({"account_id": " \u3000"}, "account_id"),
    ({"product": None}, "product"),
    ({"product": "gold"}, "product"),
    ({"accepted_on": None}, "accepted_on"),
    ({"completed_on": date(2025, 3, 31)}, "completed_on"),
    ({"returned": True}, "return_reason"),
    ({"returned": True, "return_reason": "  "}, "return_reason"),
    ({"returned": True, "return_reason": "用户拒绝安装"}, "completed_on"),
    ({"cancel_requested_on": date(2025, 3, 30)}, "cancel_requested_on"),
    ({"cancel_requested_on": date(2025, 5, 2), "cancel_effective_on": date(2025, 5, 1)},
     "cancel_effective_on"),
    ({"cancel_effective_on": date(2025, 3, 30)}, "cancel_effective_on"),
    ({"switched_to": "platinum"}, "switched_to"),
    ({"switched_to": "HD"}, "switched_to"),  # " hd" is hd: a code in its normal form
    ({"prior_modem": "fibre"}, "prior_modem"),
]


def spoiled_frame() -> tuple[pl.DataFrame, list[int]]:
    """Good rows with each kind of bad row among them; the bad rows' positions."""
    rows, bad_at = [], []
    for number, (change, _field) in enumerate(BAD):
        rows.append({**GOOD, "account_id": f"G{number}"})
        bad_at.append(len(rows))
        rows.append({**GOOD, "account_id": f"B{number}", **change})
    rows.append({**GOOD, "account_id": "LAST"})
    return pl.DataFrame(rows, schema=SCHEMA), bad_at


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 5, 1_000_000])
def test_bad_rows_go_to_on_error_in_order_as_the_row_path_hands_them(batch_rows: int) -> None:
    frame, bad_at = spoiled_frame()
    for source in (frame, frame.lazy(), frame.to_arrow()):
        decisions, errors = decide(source, "2025-06", batch_rows=batch_rows)
        assert (decisions, errors) == decide(frame, "2025-06", backend="rows"), batch_rows
        assert len(decisions) + len(errors) == frame.height  # rows in = decided + errors
        assert [row for *_, row in errors] == bad_at
        assert [field for _, field, _, _ in errors] == [field for _, field in BAD]
        assert [item for item, *_ in errors] == [frame.row(p, named=True) for p in bad_at]
        for (item, _, message, row), (change, _) in zip(errors, BAD, strict=True):
            assert message.startswith(f"frame, row {row}: ")
            if change.get("account_id", "B") not in (None, " \u3000"):
                assert str(item["account_id"]) in message  # the error names the account
        assert [d.split("'")[1] for d in decisions] == \
            [a for a in frame.get_column("account_id").to_list() if a and a.startswith(("G", "L"))]


@pytest.mark.parametrize("batch_rows", [1, 4, 1_000_000])
def test_without_on_error_the_first_bad_row_raises_after_the_rows_before_it(batch_rows: int) -> None:
    frame, bad_at = spoiled_frame()
    for backend in ("rows", "columnar"):
        stream = POLICY.fees(frame.to_arrow(), "2025-06", backend=backend, batch_rows=batch_rows)
        taken = list(itertools.islice(stream, bad_at[0]))
        assert [d.account_id for d in taken] == ["G0"]
        with pytest.raises(itvrules.InputError) as caught:
            next(stream)
        assert (caught.value.field, caught.value.source, caught.value.row) == \
            ("account_id", "frame", bad_at[0])


def test_bad_objects_in_the_columnar_backend_are_handed_on_as_the_row_path_hands_them() -> None:
    good = itvrules.Enrollment(account_id="G1", product="brand", accepted_on=date(2025, 3, 25),
                               completed_on=date(2025, 3, 31))
    bad = attrs.evolve(good, account_id="B1", switched_to="platinum")
    items: list[Any] = [bad, good, "not an enrolment", good, None, bad, good]
    expected = decide(items, "2025-07", backend="rows")
    assert [field for _, field, _, _ in expected[1]] == \
        ["switched_to", "enrollment", "enrollment", "switched_to"]
    for batch_rows in (1, 2, 3, 100):
        assert decide(items, "2025-07", backend="columnar", batch_rows=batch_rows) == expected
    with pytest.raises(itvrules.InputError, match="switched_to"):
        list(POLICY.fees([good, bad], "2025-07", backend="columnar"))




@pytest.mark.durable
def test_a_gap_in_the_fee_table_raises_the_engine_error_at_its_row(tmp_path: Path) -> None:
    gap = gap_policy(tmp_path)
    trial = {**GOOD, "completed_on": date(2025, 6, 3)}
    frame = pl.DataFrame([{**trial, "account_id": "T1"}, {**GOOD, "account_id": "PAYS"},
                          {**trial, "account_id": "T2"}], schema=SCHEMA)
    seen: list[Any] = []
    for backend, engine in itertools.product(("rows", "columnar"), ("compiled", "durable")):
        stream = gap.fees(frame, "2025-07", backend=backend, engine=engine,
                          on_error=lambda item, error: seen.append(item))
        assert next(stream).account_id == "T1"
        with pytest.raises(itvrules.EngineError):  # not an input error: on_error does not take it
            next(stream)
    assert seen == []


# -- the bulk builder -----------------------------------------------------------------------------


def test_bulk_built_decisions_are_what_trusted_fee_builds() -> None:
    assert tuple(f.name for f in attrs.fields(FeeDecision)) == _fees_columnar._FIELDS
    made = list(POLICY.fees(frame_of(some_enrolments()), "2025-05"))
    again = [trusted_fee(*attrs.astuple(d, recurse=False)) for d in made]
    assert made == again
    assert [hash(d) for d in made] == [hash(d) for d in again]
    assert all(FeeDecision(**attrs.asdict(d, recurse=False)) == d for d in made)  # passes validation


def test_the_row_path_imports_neither_polars_nor_pyarrow() -> None:
    script = ("import sys, datetime, itvrules\n"
              "e = itvrules.Enrollment(account_id='A', product='brand',"
              " accepted_on=datetime.date(2025, 4, 1))\n"
              "assert len(list(itvrules.load_policy().fees([e], '2025-06'))) == 1\n"
              "print(sorted({'polars', 'pyarrow'} & set(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_is_columnar_tells_frames_from_iterables() -> None:
    frame = frame_of(some_enrolments()[:2])
    yes: list[Any] = [frame, frame.lazy(), frame.to_arrow()]
    no: list[Any] = [[], some_enrolments(), iter([]), frame.to_dicts(), "text"]
    assert all(_fees_columnar.is_columnar(x) for x in yes)
    assert not any(_fees_columnar.is_columnar(x) for x in no)
