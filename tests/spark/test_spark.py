"""The Spark backend decides exactly as Policy.fee row by row, and as the Polars backend in bulk;
with rejects, it sets aside the rows the Parquet path rejects, for the same fields and words,
and writes the bill export the CSV and Parquet exports write, cell for cell, record ids included.

One local Spark session (``local[2]``) serves the whole module: starting the
JVM takes seconds. Spark needs Java; without it these tests fail under CI
(``CI`` set: CI must run them) and are skipped elsewhere with the reason.
"""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
from datetime import date, timedelta
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import itvrules
from itvrules import Product
from itvrules.frames._fees import DECISION_COLUMNS
from itvrules.frames._fees import ENROLLMENT_COLUMNS as POLARS_COLUMNS
from itvrules.model._inputs import PRODUCT_ALIASES
from itvrules.model._parse import normalise_text, parse_enum
from itvrules.runs import _common as _run_common
from itvrules.runs._bulk_arrow import bill_parquet
from itvrules.runs._common import BILL_COLUMNS, RECORD_ID_PARTS, record_id
from itvrules.schema import (
    BILL_EXPORT_SPARK,
    ENROLLMENT_DDL,
    FEE_DECISION_SPARK,
    REJECT_FIELDS,
    REJECT_SOURCE,
)
from itvrules.spark._bill import SparkBill, bill_spark, record_digest, uuid_text
from itvrules.spark._fees import decide_fees_spark
from samples import gap_policy
from strategies import enrollments

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

POLICY = itvrules.load_policy()
MONTHS = ("2025-02", "2025-04", "2025-06", "2025-07", "2025-08", "2025-10", "2026-03")


def spark_frame(spark: SparkSession, items: list[itvrules.Enrollment]) -> DataFrame:
    rows = [(e.account_id, e.product.value, e.accepted_on, e.completed_on, e.returned,
             e.cancel_requested_on, e.cancel_effective_on, e.switched_to) for e in items]
    return spark.createDataFrame(rows, schema=ENROLLMENT_DDL)


def test_decision_schema_is_the_polars_one(spark: SparkSession) -> None:
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31))
    decided = decide_fees_spark(POLICY, spark_frame(spark, [enr]), "2025-07")
    assert tuple(decided.columns) == DECISION_COLUMNS
    assert {f.name: f.dataType.simpleString() for f in decided.schema.fields} == dict(FEE_DECISION_SPARK)
    (row,) = decided.collect()
    fee = POLICY.fee(enr, "2025-07")
    assert (row["code"], row["amount"], row["amount_fen"]) == (fee.code, fee.amount, fee.amount_fen)
    assert str(row["amount"]) == "35.00"


# Each decided month costs a Spark job whatever the row count (about a second
# here), so the examples are few and each decides seven months in one collect.
@settings(max_examples=6)
@given(st.lists(enrollments(), min_size=50, max_size=50))
def test_spark_agrees_with_fee(spark: SparkSession, items: list[itvrules.Enrollment]) -> None:
    frame = spark_frame(spark, items)
    decided = reduce(lambda a, b: a.unionAll(b), [decide_fees_spark(POLICY, frame, m) for m in MONTHS])
    rows = decided.collect()
    assert len(rows) == len(items) * len(MONTHS)
    expected = [(enr, month) for month in MONTHS for enr in items]
    for row, (enr, month) in zip(rows, expected, strict=True):
        fee = POLICY.fee(enr, month)
        assert (row["account_id"], row["month"], row["code"], row["gross"], row["waived"],
                row["amount"], row["rule"], row["clause"], row["package"], row["follow_up"]) == (
            enr.account_id, month, fee.code, fee.gross, fee.waived, fee.amount, fee.rule,
            fee.clause, fee.package, fee.follow_up), (enr, month)
        assert row["amount_fen"] == fee.amount_fen
        assert (row["policy_id"], row["policy_version"], row["policy_hash"]) == (
            fee.policy_id, fee.policy_version, fee.policy_hash)


def random_enrolments(n: int, seed: int) -> pl.DataFrame:
    """``n`` enrolments with every fee rule reachable: returned, pending, cancelled, switched."""
    rng = random.Random(seed)
    packages = sorted(POLICY.packages)
    products = [p.value for p in itvrules.Product]
    start = date(2025, 3, 20)
    rows: dict[str, list[Any]] = {name: [] for name in POLARS_COLUMNS}
    for i in range(n):
        accepted = start + timedelta(days=rng.randint(-30, 100))
        returned = rng.random() < 0.05
        completed = None if returned or rng.random() < 0.15 else accepted + timedelta(rng.randint(0, 40))
        requested = effective = None
        if completed is not None and rng.random() < 0.45:
            requested = completed + timedelta(days=rng.randint(-3, 200))
            if rng.random() < 0.7:
                effective = requested + timedelta(days=rng.randint(0, 70))
            if effective is not None and rng.random() < 0.2:
                requested = None
        rows["account_id"].append(f"{i:08d}")
        rows["product"].append(rng.choice(products))
        rows["accepted_on"].append(accepted)
        rows["completed_on"].append(completed)
        rows["returned"].append(returned)
        rows["cancel_requested_on"].append(requested)
        rows["cancel_effective_on"].append(effective)
        rows["switched_to"].append(rng.choice(packages) if rng.random() < 0.3 else None)
    return pl.DataFrame(rows, schema=POLARS_COLUMNS)


def test_100k_rows_agree_with_polars_through_parquet(spark: SparkSession, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    frame = random_enrolments(100_000, seed=20250320)
    frame.write_parquet(tmp_path / "enrolments.parquet")
    enrolments = spark.read.parquet(str(tmp_path / "enrolments.parquet"))
    for month in ("2025-07", "2025-08", "2025-09"):
        out = tmp_path / f"decided-{month}"
        decided = decide_fees_spark(POLICY, enrolments, month)
        # Plain Catalyst expressions: no Python UDF node, so executors never start Python.
        capsys.readouterr()
        decided.explain(mode="extended")
        plan = capsys.readouterr().out
        assert "CASE WHEN" in plan
        assert "python" not in plan.lower()
        decided.write.parquet(str(out))
        spark_decided = pl.read_parquet(out / "*.parquet").sort("account_id")
        polars_decided = POLICY.fees_frame(frame, month).sort("account_id")
        assert spark_decided.height == frame.height
        assert spark_decided.schema == polars_decided.schema
        assert_frame_equal(spark_decided, polars_decided)
        # Not a vacuous match: every fee rule decides some rows of each month.
        assert spark_decided["rule"].n_unique() == len(POLICY.rules("fees")), month


def test_unknown_package_product_and_bad_frames_are_input_errors(spark: SparkSession) -> None:
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31), switched_to="platinum")
    with pytest.raises(itvrules.InputError, match=r"switched_to.*A1.*platinum"):
        decide_fees_spark(POLICY, spark_frame(spark, [enr]), "2025-07")
    # Every row is checked; the smallest offending account id is named, with the count.
    ok = attrs.evolve(enr, account_id="A0", switched_to="hd")
    two = [attrs.evolve(enr, account_id="Z9"), ok, enr]
    with pytest.raises(itvrules.InputError, match=r"account A1 \(2 rows in all\)"):
        decide_fees_spark(POLICY, spark_frame(spark, two), "2025-07")
    gold = spark.createDataFrame(
        [("B2", "gold", date(2025, 3, 25), date(2025, 3, 31), False, None, None, None)],
        schema=ENROLLMENT_DDL)
    with pytest.raises(itvrules.InputError, match=r"product.*B2.*gold"):
        decide_fees_spark(POLICY, gold, "2025-07")
    with pytest.raises(itvrules.InputError, match=r"columns.*product"):
        decide_fees_spark(POLICY, spark.createDataFrame([("A1",)], "account_id string"), "2025-07")
    frame = spark_frame(spark, [enr])
    as_text = frame.withColumn("completed_on", frame["completed_on"].cast("string"))
    with pytest.raises(itvrules.InputError, match=r"completed_on is string, not date"):
        decide_fees_spark(POLICY, as_text, "2025-07")
    with pytest.raises(itvrules.InputError, match="month"):
        decide_fees_spark(POLICY, spark_frame(spark, [enr]), "2025-7")


def test_library_imports_without_pyspark() -> None:
    """The extra is optional: importing never loads pyspark; deciding without it says what to install."""
    code = (
        "import sys\n"
        "import itvrules, itvrules.spark._fees as s, itvrules.schema\n"
        "assert 'pyspark' not in sys.modules, 'pyspark imported eagerly'\n"
        "sys.modules['pyspark'] = None\n"
        "try:\n"
        "    s.decide_fees_spark(itvrules.load_policy(), None, '2025-07')\n"
        "except itvrules.EngineError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'itvrules[spark]'" in done.stdout


# -- bad rows: rejected with why, the others decided (bill_spark) ---------------------------------

D = date
#: note, account_id, product, accepted_on, completed_on, returned, cancel_requested_on,
#: cancel_effective_on, switched_to, return_reason, prior_modem; each kind of bad row once or more.
BAD_ROWS: list[tuple[Any, ...]] = [
    ("good", "A01", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, None, None, None, None),
    ("repeated", "A01", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, None, None, None, None),
    ("blank account", " \t", "brand", D(2025, 3, 25), None, False, None, None, None, None, None),
    ("nothing", None, None, None, None, None, None, None, None, None, None),
    ("no product", "A04", "  ", D(2025, 3, 25), None, False, None, None, None, None, None),
    ("unknown product", "A05", " gold ", D(2025, 3, 25), None, False, None, None, None, None, None),
    ("no acceptance", "A06", "gold", None, None, False, None, None, None, None, None),
    ("returned, installed", "A07", "brand", D(2025, 3, 25), D(2025, 3, 31), True, None, None, None,
     "moved", None),
    ("returned, requested", "A08", "brand", D(2025, 3, 25), None, True, D(2025, 4, 2), None, None,
     "moved", None),
    ("returned, effective", "A09", "brand", D(2025, 3, 25), None, True, None, D(2025, 4, 2), None,
     "moved", None),
    ("returned, no reason", "A10", "annual", D(2025, 3, 25), None, True, None, None, None, " ", None),
    ("completed early", "A11", "brand", D(2025, 3, 25), D(2025, 3, 20), False, None, None, None,
     None, None),
    ("requested early", "A12", "brand", D(2025, 3, 25), D(2025, 3, 31), False, D(2025, 3, 1), None,
     None, None, None),
    ("effective before request", "A13", "brand", D(2025, 3, 25), D(2025, 3, 31), False,
     D(2025, 5, 1), D(2025, 4, 1), None, None, None),
    ("effective early", "A14", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, D(2025, 3, 1),
     None, None, None),
    ("unknown package", "A15", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, None,
     "platinum", None, None),
    ("unknown modem", "A16", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, None, None, None,
     "pentium"),
    ("padded, by name", "\u3000A17\xa0", "BRAND", D(2025, 3, 25), D(2025, 3, 31), False, None, None,
     " HD ", None, "E8-B"),
    ("chinese", "A18", "品牌", D(2025, 4, 1), D(2025, 4, 3), False, None, None,
     "ITV 基础包", None, "普通猫"),
    ("repeated once stripped", "A17", "annual", D(2025, 3, 25), None, False, None, None, None, None,
     None),
    ("cancelled", "A20", "single_monthly", D(2025, 3, 26), D(2025, 4, 2), False, D(2025, 5, 3),
     D(2025, 6, 1), None, None, None),
    ("returned", "A21", "brand", D(2025, 3, 25), None, True, None, None, None, "no signal", None),
    ("effective only", "A22", "annual", D(2025, 3, 25), D(2025, 3, 28), None, None, D(2025, 7, 9),
     None, None, "none"),
    # an id outside the policy's pattern (parameters.account_id_pattern), its words quoted
    ("quoted", "O'Brien", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, None, None, None,
     None),
    ("quoted, repeated", "O'Brien", "brand", D(2025, 3, 25), D(2025, 3, 31), False, None, None, None,
     None, None),
]
BAD_SCHEMA = {"note": pl.String, **POLARS_COLUMNS, "return_reason": pl.String,
              "prior_modem": pl.String}
#: The Spark frame's schema: the enrolment columns, the optional ones and two the checks never read.
BAD_DDL = ("source_row bigint, note string, " + ENROLLMENT_DDL
           + ", return_reason string, prior_modem string")


def _parquet_rejects(policy: itvrules.Policy, tmp_path: Path) -> pl.DataFrame:
    """The Parquet path's rejects of ``BAD_ROWS`` (the reference): source_row, note, field, error."""
    feed = tmp_path / "bad.parquet"
    pl.DataFrame(BAD_ROWS, schema=BAD_SCHEMA, orient="row").write_parquet(feed)
    summary = bill_parquet(policy, "2025-07", str(feed), str(tmp_path / "bill.parquet"),
                           rejects=str(tmp_path / "rejects.parquet"))
    assert (summary.rows_in, summary.decided, summary.rejected) == (25, 6, 19)
    return pl.read_parquet(tmp_path / "rejects.parquet").select("source_row", "note", "field", "error")


def _good_rows(rejected: set[int]) -> pl.DataFrame:
    """The rows not rejected, read by the row path's own readers (stripped, codes for names)."""
    good = [row[1:9] for at, row in enumerate(BAD_ROWS, start=1) if at not in rejected]
    return pl.DataFrame([
        (normalise_text(account), parse_enum(Product, product, PRODUCT_ALIASES).value, accepted,
         completed, bool(returned), requested, effective,
         POLICY.package_code(switched.strip()) if switched else None)
        for account, product, accepted, completed, returned, requested, effective, switched in good
    ], schema=POLARS_COLUMNS, orient="row")


def test_bad_rows_are_rejected_as_the_parquet_path_rejects_them(
        spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pyspark.sql import functions as F

    expected = _parquet_rejects(POLICY, tmp_path)
    rows = [(at, *row) for at, row in enumerate(BAD_ROWS, start=1)]
    # Last row first: "earlier" must come from source_row, not from the frame's order.
    frame = spark.createDataFrame(rows, schema=BAD_DDL).orderBy(F.desc("source_row"))
    bill = POLICY.fees_spark(frame, "2025-07", rejects=True)
    assert isinstance(bill, SparkBill)

    # source and source_row first (the frame's own source_row), then the other input columns.
    assert bill.rejected.columns == ["source", *frame.columns, "field", "error"]
    rejected = bill.rejected.collect()
    # The same rows, for the same fields, in the same words.
    assert sorted((r["source_row"], r["field"], r["error"]) for r in rejected) == sorted(
        expected.select("source_row", "field", "error").rows())
    assert {r["field"] for r in rejected} == {
        "account_id", "product", "accepted_on", "completed_on", "cancel_requested_on",
        "cancel_effective_on", "return_reason", "switched_to", "prior_modem"}
    # A rejected row keeps its source row, cell for cell.
    assert all(r["source"] == "spark" and tuple(r)[1:-2] == rows[r["source_row"] - 1]
               for r in rejected)

    good = _good_rows(set(expected["source_row"]))
    decided_rows = bill.decided.collect()
    assert bill.decided.columns == list(BILL_COLUMNS)
    decided = pl.DataFrame([{"month": r["billing_month"], **r.asDict()} for r in decided_rows]) \
        .select(DECISION_COLUMNS).cast(dict(POLICY.fees_frame(good, "2025-07").schema))
    assert_frame_equal(decided.sort("account_id"), POLICY.fees_frame(good, "2025-07").sort("account_id"))
    assert decided["code"].n_unique() >= 4  # trial, switched, cancelled, not_installed...

    # Rows in = decided + rejected, each counted by its own Spark job.
    assert frame.count() == bill.decided.count() + bill.rejected.count() == len(BAD_ROWS)
    for result in (bill.decided, bill.rejected):
        capsys.readouterr()
        result.explain(mode="extended")
        assert "python" not in capsys.readouterr().out.lower()


def test_rejects_follow_input_order_without_source_row_and_policy_errors_still_raise(
        spark: SparkSession, tmp_path: Path) -> None:
    expected = _parquet_rejects(POLICY, tmp_path)
    frame = spark.read.parquet(str(tmp_path / "bad.parquet"))  # file order: the feed's
    bill = bill_spark(POLICY, frame, "2025-07")
    rejected = bill.rejected.collect()
    assert sorted((r["note"], r["field"], r["error"]) for r in rejected) == sorted(
        expected.select("note", "field", "error").rows())
    assert bill.decided.count() == len(BAD_ROWS) - len(rejected)

    # A gap in the fee table is the policy's fault, not a row's: it raises, as without rejects.
    with pytest.raises(itvrules.InputError, match="no fee rule matches"):
        bill_spark(gap_policy(tmp_path), frame, "2025-07")
    with pytest.raises(itvrules.InputError, match=r"columns.*field"):
        bill_spark(POLICY, frame.withColumnRenamed("note", "field"), "2025-07")
    with pytest.raises(itvrules.InputError, match=r"source_row is string, not an integer type"):
        bill_spark(POLICY, frame.withColumn("source_row", frame["note"]), "2025-07")




# -- the bill export: the same lines as the CSV and Parquet exports --------------------------------

#: The export's feed: every kind of bad row, then rows that reach every fee rule.
FEED_GOOD_ROWS = 400


def _feed_rows() -> list[tuple[Any, ...]]:
    """``BAD_ROWS`` and generated good rows, as (note, enrolment columns, return_reason, prior_modem)."""
    good = random_enrolments(FEED_GOOD_ROWS, seed=7).with_columns(
        pl.concat_str(pl.lit("G"), "account_id").alias("account_id"))
    return [*BAD_ROWS, *(("generated", *row, None, None) for row in good.iter_rows())]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, date) else str(value)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def _as_csv(rows: list[Any], columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Spark rows as the CSV export's writer spells them (``Decimal`` yuan, ``true``, ``''``...)."""
    from itvrules_adapters.csv_io import CsvWriter

    out = io.BytesIO()
    sink = CsvWriter().open(out, columns, kind="bill")
    for row in rows:
        sink.write(row.asDict())
    sink.close()
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))


def test_spark_writes_the_csv_export_line_for_line(spark: SparkSession, tmp_path: Path) -> None:
    """The row path's CSV export and bill_spark agree on every cell (record ids too) and every reject."""
    from pyspark.sql import functions as F

    feed_rows = _feed_rows()
    names = list(BAD_SCHEMA)
    feed = tmp_path / "feed.csv"
    with feed.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(names)
        writer.writerows([_csv_cell(v) for v in row] for row in feed_rows)
    summary = itvrules.run_bill(POLICY, "2025-08", [str(feed)], str(tmp_path / "bill.csv"),
                                rejects=str(tmp_path / "rejects.csv"), backend="rows")
    # Every bad row is rejected; of the generated ones, those accepted outside the campaign
    # window or dated out of order are rejected too (both paths must agree on them), the rest decided.
    assert summary.rows_in == len(feed_rows)
    assert summary.rejected > 18 and summary.decided > FEED_GOOD_ROWS // 3
    exported = _read_csv(tmp_path / "bill.csv")
    csv_rejects = _read_csv(tmp_path / "rejects.csv")

    # The CSV reader numbers rows as Excel shows them: the header is row 1.
    frame = spark.createDataFrame([(at, *row) for at, row in enumerate(feed_rows, start=2)],
                                  schema=BAD_DDL).orderBy(F.desc("source_row"))
    bill = POLICY.fees_spark(frame, "2025-08", rejects=True, source="feed.csv")
    decided = bill.decided.collect()
    rejected = bill.rejected.collect()

    assert len(decided) == summary.decided and len(rejected) == summary.rejected
    assert len(decided) + len(rejected) == len(feed_rows)
    by_row = sorted(_as_csv(decided, BILL_COLUMNS), key=lambda r: int(r["source_row"]))
    assert by_row == sorted(exported, key=lambda r: int(r["source_row"]))
    assert len({r["record_id"] for r in exported}) == len(exported)
    assert {r["code"] for r in exported} >= {"trial", "switched", "cancelled", "not_installed",
                                             "default_paid"}
    assert sorted((r["source"], str(r["source_row"]), r["field"], r["error"]) for r in rejected) \
        == sorted((r["source"], r["source_row"], r["field"], r["error"]) for r in csv_rejects)


def test_spark_numbers_rows_and_writes_the_parquet_export(spark: SparkSession, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Without a source_row column, rows are numbered from 1 in file order, across partitions,
    and the export equals the Parquet path's, cell for cell and type for type."""
    feed_rows = _feed_rows()
    feed = tmp_path / "feed.parquet"
    pl.DataFrame(feed_rows, schema=BAD_SCHEMA, orient="row").write_parquet(feed, row_group_size=50)
    summary = bill_parquet(POLICY, "2025-08", str(feed), str(tmp_path / "bill.parquet"),
                           rejects=str(tmp_path / "rejects.parquet"))
    expected = pq.read_table(tmp_path / "bill.parquet")
    expected_rejects = pl.read_parquet(tmp_path / "rejects.parquet")

    # Small file splits: the feed is read in several partitions, each numbered after the last.
    spark.conf.set("spark.sql.files.maxPartitionBytes", "8k")
    try:
        frame = spark.read.parquet(str(feed))
        assert frame.rdd.getNumPartitions() > 1
        bill = bill_spark(POLICY, frame, "2025-08", source="feed.parquet")
        decided = bill.decided.collect()
        rejected = bill.rejected.collect()
        plans = []
        for result in (bill.decided, bill.rejected):
            capsys.readouterr()
            result.explain(mode="extended")
            plans.append(capsys.readouterr().out)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")

    # The ids are hashed by Spark itself, and no Python UDF runs: executors run no Python.
    assert "sha1(" in plans[0]
    assert not any("python" in plan.lower() for plan in plans)

    assert {f.name: f.dataType.simpleString() for f in bill.decided.schema.fields} == BILL_EXPORT_SPARK
    assert tuple(BILL_EXPORT_SPARK) == BILL_COLUMNS == tuple(expected.column_names)
    assert [_spark_type(expected.schema.field(name).type) for name in BILL_COLUMNS] == list(
        BILL_EXPORT_SPARK.values())
    assert (summary.decided, summary.rejected) == (len(decided), len(rejected))
    assert len(decided) + len(rejected) == len(feed_rows)
    assert sorted((r.asDict() for r in decided), key=lambda r: r["source_row"]) == sorted(
        expected.to_pylist(), key=lambda r: r["source_row"])
    assert sorted(r["source_row"] for r in [*decided, *rejected]) == list(range(1, len(feed_rows) + 1))
    assert bill.rejected.columns == [*REJECT_SOURCE, *(n for n in BAD_SCHEMA), *REJECT_FIELDS]
    assert sorted((r["source"], r["source_row"], r["field"], r["error"]) for r in rejected) == sorted(
        expected_rejects.select("source", "source_row", "field", "error").rows())


def _spark_type(kind: pa.DataType) -> str:
    """A Parquet export column's Arrow type as Spark names it."""
    names = {pa.string(): "string", pa.int64(): "bigint", pa.bool_(): "boolean"}
    if pa.types.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    return names[kind]


def test_record_id_column_is_record_id(spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Spark expression hashes what ``record_id`` hashes: odd text, nulls, non-ASCII."""
    from pyspark.sql import functions as F

    cases = [("itv-trial", "2025.1", "A1", "2025-07", "hd", "switched"),
             ("itv-trial", "2025.1", "账号\u3000é", "2025-07", None, "not_installed"),
             ("p", "", "O'Brien\x1f", "2026-01", "", "trial"),
             ("p", "v" * 300, "\U0001f600", "1999-12", "quanneng", "default_paid")]
    frame = spark.createDataFrame(cases, schema="policy_id string, policy_version string, "
                                  "account_id string, billing_month string, package string, code string")
    cells = {name: F.col(name) for name in frame.columns}
    ids = [r[0] for r in frame.select(uuid_text(record_digest(cells))).collect()]
    assert ids == [record_id(p, v, a, m) for p, v, a, m, _c, _code in cases]
    # Every part counts: each case's id differs from the next's.
    assert len(set(ids)) == len(cases)

    # The parts are defined once: an id without the month changes both alike.
    monkeypatch.setattr(_run_common, "RECORD_ID_PARTS",
                        tuple(p for p in RECORD_ID_PARTS if p != "billing_month"))
    without = [r[0] for r in frame.select(uuid_text(record_digest(cells))).collect()]
    assert without == [record_id(p, v, a, "any month") for p, v, a, _m, _c, _ in cases]
    assert not set(without) & set(ids)


def test_billing_cycle_and_source_columns(spark: SparkSession) -> None:
    """billing_cycle: a plug-in's by default, else YYYYMM, or the argument; source: the column's."""
    import pluggy
    from pyspark.sql import functions as F

    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31))
    frame = spark_frame(spark, [enr])

    class Cycle:
        @itvrules.hookimpl
        def itvrules_billing_cycle(self, month: str) -> str:
            return f"C-{month}"

    pm: pluggy.PluginManager = itvrules.plugin_manager(autoload=False)
    pm.register(Cycle())
    (row,) = bill_spark(POLICY, frame, "2025-07", pm=pm).decided.collect()
    assert (row["billing_cycle"], row["source"], row["source_row"]) == ("C-2025-07", "spark", 1)
    with_source = frame.withColumn("source", F.lit("crm-east.csv"))
    (row,) = POLICY.fees_spark(with_source, "2025-07", rejects=True, billing_cycle="X7",
                               source="ignored").decided.collect()
    assert (row["billing_cycle"], row["source"]) == ("X7", "crm-east.csv")
    with pytest.raises(itvrules.UsageError, match="rejects=True"):
        POLICY.fees_spark(frame, "2025-07", source="crm.csv")

