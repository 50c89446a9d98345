"""The columnar backend (Polars) decides exactly as Policy.fee, row by row."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itvrules
from itvrules._frames import ENROLLMENT_COLUMNS
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
