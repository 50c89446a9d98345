"""The columnar backend (Polars) decides exactly as Policy.fee, row by row."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itvrules
from itvrules.frames._fees import ENROLLMENT_COLUMNS
from strategies import enrollments

POLICY = itvrules.load_policy()


def frame_of(items: list[itvrules.Enrollment]) -> pl.DataFrame:
    rows = [{"account_id": e.account_id, "product": e.product.value, "accepted_on": e.accepted_on,
             "completed_on": e.completed_on, "returned": e.returned,
             "cancel_requested_on": e.cancel_requested_on,
             "cancel_effective_on": e.cancel_effective_on, "switched_to": e.switched_to}
            for e in items]
    return pl.DataFrame(rows, schema=ENROLLMENT_COLUMNS)


def months_around(items: list[itvrules.Enrollment]) -> list[str]:
    return ["2025-02", "2025-04", "2025-06", "2025-07", "2025-08", "2025-10", "2026-03"]


@settings(max_examples=40)
@given(st.lists(enrollments(), min_size=50, max_size=50))
def test_frames_agree_with_fee(items: list[itvrules.Enrollment]) -> None:
    frame = frame_of(items)
    for month in months_around(items):
        decided = POLICY.fees_frame(frame, month)
        assert decided.height == len(items)
        for row, enr in zip(decided.iter_rows(named=True), items, strict=True):
            fee = POLICY.fee(enr, month)
            assert (row["account_id"], row["code"], row["gross"], row["waived"], row["amount"],
                    row["rule"], row["clause"], row["package"], row["follow_up"]) == (
                enr.account_id, fee.code, fee.gross, fee.waived, fee.amount, fee.rule, fee.clause,
                fee.package, fee.follow_up), (enr, month)
            assert row["amount_fen"] == fee.amount_fen
            assert (row["policy_id"], row["policy_version"], row["policy_hash"]) == (
                fee.policy_id, fee.policy_version, fee.policy_hash)


def test_unknown_package_and_missing_columns_are_input_errors() -> None:
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31), switched_to="platinum")
    with pytest.raises(itvrules.InputError, match=r"platinum|switched_to"):
        POLICY.fees_frame(frame_of([enr]), "2025-07")
    with pytest.raises(itvrules.InputError, match="columns"):
        POLICY.fees_frame(pl.DataFrame({"account_id": ["A1"]}), "2025-07")
    with pytest.raises(itvrules.InputError, match="month"):
        POLICY.fees_frame(frame_of([]), "2025-7")


def test_month_indexes_from_a_table_or_the_calendar_agree() -> None:
    """A frame whose days span more than ``LOOKUP_DAYS`` gets its months from the calendar."""
    from itvrules.frames._fees import LOOKUP_DAYS, month_indexes

    near = [itvrules.Enrollment(account_id=f"N{i}", product="brand", accepted_on=date(2025, 3, 25),
                                completed_on=date(2025, 3, 25 + i % 7),
                                cancel_requested_on=date(2025, 6, 1 + i % 28) if i % 2 else None)
            for i in range(40)]
    far = [*near, itvrules.Enrollment(account_id="F1", product="annual", accepted_on=date(1990, 1, 1),
                                      completed_on=date(1990, 1, 2)),
           itvrules.Enrollment(account_id="F2", product="annual", accepted_on=date(2025, 4, 1),
                               completed_on=date(2025, 4, 2), cancel_requested_on=date(2300, 1, 1))]
    for items in (near, far):
        frame = frame_of(items)
        days = frame.select(pl.col("completed_on", "cancel_requested_on").cast(pl.Int32))
        span = int(days.max_horizontal().max()) - int(days.min_horizontal().min())  # type: ignore[arg-type]
        index = month_indexes(frame)
        found = frame.select(index("completed_on"), index("cancel_requested_on").alias("r")).rows()
        assert found == [(e.completed_on.year * 12 + e.completed_on.month - 1,  # type: ignore[union-attr]
                          None if e.cancel_requested_on is None else
                          e.cancel_requested_on.year * 12 + e.cancel_requested_on.month - 1)
                         for e in items]
        assert (span > LOOKUP_DAYS) == (items is far)
        for month in ("2025-06", "2025-08"):
            decided = POLICY.fees_frame(frame, month)
            assert decided.get_column("code").to_list() == [POLICY.fee(e, month).code for e in items]
