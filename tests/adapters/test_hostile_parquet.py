"""Hostile Parquet cells: days outside Python's calendar and binary columns end in a reject or
one clear error, alike on every path, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import itvrules

POLICY = itvrules.load_policy()
NULL_DAYS = pa.array([None, None, None], pa.date32())


def feed(tmp_path: Path, accepted: pa.Array, completed: pa.Array) -> Path:
    path = tmp_path / "feed.parquet"
    pq.write_table(pa.table({"account_id": ["A1", "A2", "A3"], "product": ["brand"] * 3,
                             "accepted_on": accepted, "completed_on": completed,
                             "cancel_requested_on": NULL_DAYS, "cancel_effective_on": NULL_DAYS}),
                   path)
    return path


def rejects_of(path: Path) -> list[tuple[str, str, str]]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [(r["source_row"], r["field"], r["error"]) for r in csv.DictReader(handle)]


@pytest.mark.parametrize("out", ["rows.csv", "columnar.csv", "columnar.parquet"])
def test_a_parquet_day_outside_pythons_calendar_rejects_its_row_naming_the_field(
        tmp_path: Path, out: str) -> None:
    accepted = pa.array([2_932_897, -800_000, 20_170], pa.date32())  # 10000-01-01, year -221, 2025
    completed = pa.array([None, None, 253_402_300_800_000_000], pa.timestamp("us", tz="UTC"))
    source = feed(tmp_path, accepted, completed)
    backend, _, suffix = out.partition(".")
    summary = itvrules.run_bill(POLICY, "2025-07", [str(source)], str(tmp_path / f"bill.{suffix}"),
                                rejects=str(tmp_path / "rejects.csv"), backend=backend)
    assert (summary.rows_in, summary.decided, summary.rejected) == (3, 0, 3)
    assert rejects_of(tmp_path / "rejects.csv") == [
        ("1", "accepted_on", "expected a date: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; got '10000-01-01'"),
        ("2", "accepted_on", "expected a date: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; got '-0221-09-04'"),
        ("3", "completed_on", "expected a date: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; got '10000-01-01'"),
    ]


@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_a_binary_column_of_utf8_text_is_read_as_text(tmp_path: Path, backend: str) -> None:
    days = pa.array([b"2025-03-24"] * 3, pa.binary())
    source = feed(tmp_path, days, pa.array([b"2025-03-28"] * 3, pa.large_binary()))
    summary = itvrules.run_bill(POLICY, "2025-07", [str(source)], str(tmp_path / "bill.parquet"),
                                backend=backend)
    assert (summary.rows_in, summary.decided, summary.rejected) == (3, 3, 0)


@pytest.mark.parametrize("out", ["rows.csv", "columnar.csv", "columnar.parquet"])
def test_a_binary_column_that_is_not_text_is_one_error_naming_column_and_row(
        tmp_path: Path, out: str) -> None:
    source = feed(tmp_path, pa.array([b"2025-03-24", b"2025-03-24", b"\xff\xfe"], pa.binary()),
                  pa.array([None, None, None], pa.date32()))
    backend, _, suffix = out.partition(".")
    with pytest.raises(itvrules.InputError) as caught:
        itvrules.run_bill(POLICY, "2025-07", [str(source)], str(tmp_path / f"bill.{suffix}"),
                          backend=backend)
    assert str(caught.value) == ("feed.parquet: accepted_on: the column holds bytes that are not "
                                 "UTF-8 text (row 3): save it as a text (string) column")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.parquet"]  # nothing half-written
