"""The Spark backend decides exactly as Policy.fee row by row, and as the Polars backend in bulk.

One local Spark session (``local[2]``) serves the whole module: starting the
JVM takes seconds. Spark needs Java; without it these tests fail under CI
(``CI`` set: CI must run them) and are skipped elsewhere with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import itvrules
from itvrules._frames import DECISION_COLUMNS
from itvrules._frames import ENROLLMENT_COLUMNS as POLARS_COLUMNS
from itvrules._spark_frames import DECISION_TYPES, ENROLLMENT_DDL, decide_fees_spark
from strategies import enrollments

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

POLICY = itvrules.load_policy()
MONTHS = ("2025-02", "2025-04", "2025-06", "2025-07", "2025-08", "2025-10", "2026-03")


def _missing_requirement() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[dev]' or '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        return "Java is missing: Spark needs a JRE (apt-get install default-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    problem = _missing_requirement()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark tests must run in CI: {problem}")
        pytest.skip(problem)
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as env:
        # Spark binds to loopback only (and stops warning about the host name).
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = (
            SparkSession.builder.master("local[2]")
            .appName("itvrules-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            # Rows built from Python lists are unpickled by Python workers: use this
            # interpreter, not whichever python3 is first on PATH.
            .config("spark.pyspark.python", sys.executable)
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_frame(spark: SparkSession, items: list[itvrules.Enrollment]) -> DataFrame:
    rows = [(e.account_id, e.product.value, e.accepted_on, e.completed_on, e.returned,
             e.cancel_requested_on, e.cancel_effective_on, e.switched_to) for e in items]
    return spark.createDataFrame(rows, schema=ENROLLMENT_DDL)


def test_decision_schema_is_the_polars_one(spark: SparkSession) -> None:
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31))
    decided = decide_fees_spark(POLICY, spark_frame(spark, [enr]), "2025-07")
    assert tuple(decided.columns) == DECISION_COLUMNS
    assert {f.name: f.dataType.simpleString() for f in decided.schema.fields} == dict(DECISION_TYPES)
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
        "import itvrules, itvrules._spark_frames as s\n"
        "assert 'pyspark' not in sys.modules, 'pyspark imported eagerly'\n"
        "sys.modules['pyspark'] = None\n"
        "try:\n"
        "    s.decide_fees_spark(itvrules.load_policy(), None, '2025-07')\n"
        "except itvrules.EngineError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'itvrules[spark]'" in done.stdout
