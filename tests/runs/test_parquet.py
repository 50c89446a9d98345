"""A Parquet feed billed to a Parquet export: types, counts, every reject kind, the CSV path's answers.

``bill_parquet`` must decide as ``Policy.fee`` row by row, give each row the
record id of the CSV export, reject exactly the rows the row-at-a-time CSV path
rejects (same field, in the same order of checks, in the same words), and never
lose a row.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pluggy
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import itvrules
import itvrules.frames._cases as fee_cases
import itvrules.runs._record_ids as record_ids
from itvrules.frames._fees import ENROLLMENT_COLUMNS
from itvrules.runs._bulk_arrow import EXPORT_SCHEMA, bill_parquet
from itvrules.runs._pipeline import BILL_COLUMNS, REJECT_COLUMNS, UsageError, record_id, run_bill

POLICY = itvrules.load_policy()
MONTH = "2025-07"
D = date

#: One valid row per situation of SPEC §5 (billed for 2025-07), as typed Parquet cells.
GOOD: list[dict[str, Any]] = [
    {"account_id": "0700000001", "product": "brand", "accepted_on": D(2025, 3, 25),
     "completed_on": D(2025, 3, 31)},
    {"account_id": "0700000002", "product": "annual", "accepted_on": D(2025, 5, 2),
     "completed_on": D(2025, 5, 9)},
    {"account_id": "0700000003", "product": "single_monthly", "accepted_on": D(2025, 4, 1),
     "returned": True, "return_reason": "线路不具备安装条件"},
    {"account_id": "0700000004", "product": "brand", "accepted_on": D(2025, 5, 30)},
    {"account_id": "0700000005", "product": "brand", "accepted_on": D(2025, 3, 20),
     "completed_on": D(2025, 3, 22), "cancel_requested_on": D(2025, 5, 28)},
    {"account_id": "0700000006", "product": "brand", "accepted_on": D(2025, 4, 3),
     "completed_on": D(2025, 4, 8), "cancel_requested_on": D(2025, 6, 30),
     "cancel_effective_on": D(2025, 7, 2)},
    {"account_id": "0700000007", "product": "annual", "accepted_on": D(2025, 3, 21),
     "completed_on": D(2025, 3, 21), "cancel_requested_on": D(2025, 4, 1),
     "cancel_effective_on": D(2025, 4, 2)},
    {"account_id": "0700000008", "product": "brand", "accepted_on": D(2025, 3, 28),
     "completed_on": D(2025, 4, 1), "switched_to": "hd"},
]


def feed(rows: list[dict[str, Any]], path: Path, schema: dict[str, Any] | None = None) -> str:
    schema = schema or {**ENROLLMENT_COLUMNS, "return_reason": pl.String}
    pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema,
                 orient="row").write_parquet(path)
    return str(path)


def enrolment(row: dict[str, Any]) -> itvrules.Enrollment:
    return itvrules.Enrollment(**{k: v for k, v in row.items() if v is not None})


def test_round_trip_types_counts_record_ids_and_fee(tmp_path: Path) -> None:
    out = tmp_path / "bill.parquet"
    summary = bill_parquet(POLICY, MONTH, feed(GOOD, tmp_path / "feed.parquet"), str(out))
    assert (summary.rows_in, summary.decided, summary.rejected) == (len(GOOD), len(GOOD), 0)
    assert summary.rejects == str(tmp_path / "bill.rejects.parquet")  # written, with no rows
    assert pq.read_table(summary.rejects).num_rows == 0
    assert pq.read_schema(out) == EXPORT_SCHEMA
    assert tuple(EXPORT_SCHEMA.names) == BILL_COLUMNS
    assert EXPORT_SCHEMA.field("amount").type == pa.decimal128(12, 2)
    assert EXPORT_SCHEMA.field("amount_fen").type == pa.int64()
    rows = pq.read_table(out).to_pylist()
    codes = set()
    for number, (row, given) in enumerate(zip(rows, GOOD, strict=True), start=1):
        fee = POLICY.fee(enrolment(given), MONTH)
        assert (row["account_id"], row["billing_month"], row["billing_cycle"], row["code"],
                row["gross"], row["waived"], row["amount"], row["amount_fen"], row["package"],
                row["follow_up"], row["rule"], row["clause"]) == (
            fee.account_id, MONTH, "202507", fee.code, fee.gross, fee.waived, fee.amount,
            fee.amount_fen, fee.package, fee.follow_up, fee.rule, fee.clause)
        assert row["record_id"] == record_id(POLICY.id, POLICY.version, fee.account_id, MONTH)
        assert (row["policy_id"], row["policy_version"], row["policy_hash"]) == (
            fee.policy_id, fee.policy_version, fee.policy_hash)
        assert (row["source"], row["source_row"]) == ("feed.parquet", number)
        codes.add(fee.code)
    assert codes == {"trial", "not_installed", "not_started", "late_cancel_waiver", "cancelled",
                     "cancellation_overdue", "switched", "default_paid"}


def random_rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    first = POLICY.campaign_window[0]
    rows = []
    for i in range(count):
        accepted = first + timedelta(days=rng.randrange(73))
        row: dict[str, Any] = {"account_id": f"A{i:05d}", "product": rng.choice(["brand", "annual"]),
                               "accepted_on": accepted}
        if rng.random() < 0.9:
            row["completed_on"] = accepted + timedelta(days=rng.randrange(15))
            if rng.random() < 0.4:
                row["cancel_requested_on"] = row["completed_on"] + timedelta(days=rng.randrange(120))
                if rng.random() < 0.6:
                    row["cancel_effective_on"] = row["cancel_requested_on"] + timedelta(
                        days=rng.randrange(60))
            if rng.random() < 0.2:
                row["switched_to"] = rng.choice(["basic", "hd", "quanneng"])
        rows.append(row)
    return rows


def test_random_feed_in_small_batches_equals_fee_row_by_row(tmp_path: Path) -> None:
    rows = random_rows(3000, seed=7)
    source = feed(rows, tmp_path / "feed.parquet")
    one = bill_parquet(POLICY, MONTH, source, str(tmp_path / "one.parquet"))
    many = bill_parquet(POLICY, MONTH, source, str(tmp_path / "many.parquet"), batch_rows=257)
    assert one.decided == many.decided == len(rows)
    whole = pl.read_parquet(tmp_path / "one.parquet")
    assert whole.equals(pl.read_parquet(tmp_path / "many.parquet"))
    for index in random.Random(1).sample(range(len(rows)), 500):
        fee = POLICY.fee(enrolment(rows[index]), MONTH)
        got = whole.row(index, named=True)
        assert (got["code"], got["gross"], got["waived"], got["amount"], got["rule"]) == (
            fee.code, fee.gross, fee.waived, fee.amount, fee.rule), rows[index]
    assert whole.get_column("rule").n_unique() >= 6


def test_cases_without_packed_keys_or_month_table_decide_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The general paths, taken for dates spread over centuries, give the fast paths' export."""
    source = feed(random_rows(2000, seed=11), tmp_path / "feed.parquet")
    bill_parquet(POLICY, MONTH, source, str(tmp_path / "fast.parquet"))
    monkeypatch.setattr(fee_cases, "_PACKED_LIMIT", 1)
    monkeypatch.setattr(fee_cases, "_LOOKUP_DAYS", 0)
    bill_parquet(POLICY, MONTH, source, str(tmp_path / "general.parquet"), batch_rows=300)
    assert pl.read_parquet(tmp_path / "fast.parquet").equals(pl.read_parquet(tmp_path / "general.parquet"))


def test_record_ids_are_the_same_hashed_in_the_background(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**row, "account_id": f"{row['account_id']}-{k}"} for k in range(40) for row in GOOD]
    source = feed(rows, tmp_path / "feed.parquet")
    bill_parquet(POLICY, MONTH, source, str(tmp_path / "alone.parquet"), background=False)
    monkeypatch.setattr(record_ids, "BACKGROUND_MIN_ROWS", 10)
    bill_parquet(POLICY, MONTH, source, str(tmp_path / "helped.parquet"), batch_rows=100)
    alone = pl.read_parquet(tmp_path / "alone.parquet")
    assert alone.equals(pl.read_parquet(tmp_path / "helped.parquet"))
    expected = [record_id(POLICY.id, POLICY.version, r["account_id"], MONTH)
                for r in alone.iter_rows(named=True)]
    assert alone.get_column("record_id").to_list() == expected


#: (cells as a CRM export writes them, the field the row is rejected for). Text columns, so
#: that dates and booleans can be wrong too.
BAD: list[tuple[dict[str, str], str]] = [
    ({"account_id": "", "product": "brand", "accepted_on": "2025-03-25"}, "account_id"),
    ({"account_id": "B02", "product": "", "accepted_on": "2025-03-25"}, "product"),
    ({"account_id": "B03", "product": "gold", "accepted_on": "2025-03-25"}, "product"),
    ({"account_id": "B04", "product": "brand", "accepted_on": ""}, "accepted_on"),
    ({"account_id": "B05", "product": "brand", "accepted_on": "2025-13-01"}, "accepted_on"),
    ({"account_id": "B06", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "soon"}, "completed_on"),
    ({"account_id": "B07", "product": "brand", "accepted_on": "2025-03-25", "returned": "maybe"},
     "returned"),
    ({"account_id": "B08", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "2025-03-26", "cancel_requested_on": "31/12/2025"}, "cancel_requested_on"),
    ({"account_id": "B09", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "2025-03-26", "cancel_effective_on": "x"}, "cancel_effective_on"),
    ({"account_id": "B10", "product": "brand", "accepted_on": "2025-03-25",
      "prior_modem": "fibre"}, "prior_modem"),
    ({"account_id": "B11", "product": "brand", "accepted_on": "2025-03-25", "returned": "是"},
     "return_reason"),
    ({"account_id": "B12", "product": "brand", "accepted_on": "2025-03-25", "returned": "true",
      "return_reason": "用户拒绝安装", "completed_on": "2025-03-26"}, "completed_on"),
    ({"account_id": "B13", "product": "brand", "accepted_on": "2025-03-25", "returned": "1",
      "return_reason": "地址错误", "cancel_requested_on": "2025-04-01"}, "cancel_requested_on"),
    ({"account_id": "B14", "product": "brand", "accepted_on": "2025-03-25", "returned": "Y",
      "return_reason": "地址错误", "cancel_effective_on": "2025-04-01"}, "cancel_effective_on"),
    ({"account_id": "B15", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "2025-03-24"}, "completed_on"),
    ({"account_id": "B16", "product": "brand", "accepted_on": "2025-03-25",
      "cancel_requested_on": "2025-03-01"}, "cancel_requested_on"),
    ({"account_id": "B17", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "2025-03-26", "cancel_requested_on": "2025-05-01",
      "cancel_effective_on": "2025-04-30"}, "cancel_effective_on"),
    ({"account_id": "B18", "product": "brand", "accepted_on": "2025-03-25",
      "cancel_effective_on": "2025-03-20"}, "cancel_effective_on"),
    ({"account_id": "B19", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "2025-03-26", "switched_to": "platinum"}, "switched_to"),
    ({"account_id": " G01 ", "product": "brand", "accepted_on": "2025-03-30"}, "account_id"),
]
#: Valid text rows: Chinese enum spellings, other date forms, a package by name and case.
GOOD_TEXT: list[dict[str, str]] = [
    {"account_id": "G01", "product": "品牌", "accepted_on": "2025/3/25", "completed_on": "20250331",
     "returned": "否"},
    {"account_id": "G02", "product": " Annual ", "accepted_on": "2025-04-01",
     "completed_on": "2025年4月2日", "switched_to": "HD", "prior_modem": "普通猫"},
    {"account_id": "ｇ０３", "product": "单宽月租", "accepted_on": "2025.4.3", "returned": "Y",
     "return_reason": "线路不具备安装条件"},
]
TEXT_COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
                "cancel_requested_on", "cancel_effective_on", "switched_to", "prior_modem", "note")


def text_rows() -> list[dict[str, str]]:
    rows = GOOD_TEXT + [row for row, _field in BAD]
    return [{name: row.get(name, "") for name in TEXT_COLUMNS} | {"note": f"n{i}"}
            for i, row in enumerate(rows)]


def test_every_reject_kind_is_named_as_the_csv_row_path_names_it(tmp_path: Path) -> None:
    rows = text_rows()
    source = feed(rows, tmp_path / "crm.parquet", dict.fromkeys(TEXT_COLUMNS, pl.String))
    rejects = tmp_path / "rejects.parquet"
    summary = bill_parquet(POLICY, MONTH, source, str(tmp_path / "bill.parquet"), rejects=str(rejects))
    assert (summary.rows_in, summary.decided, summary.rejected) == (len(rows), 3, len(BAD))
    assert summary.rejects == str(rejects)
    found = pl.read_parquet(rejects)
    assert found.columns == [*REJECT_COLUMNS, *TEXT_COLUMNS]
    expected = [(len(GOOD_TEXT) + i + 1, field) for i, (_row, field) in enumerate(BAD)]
    assert list(zip(found["source_row"], found["field"], strict=True)) == expected
    assert set(found["source"]) == {"crm.parquet"}
    assert found["note"].to_list() == [row["note"] for row in rows[len(GOOD_TEXT):]]
    errors = dict(zip(found["account_id"], found["error"], strict=True))
    assert "one trial per account" in errors[" G01 "]
    assert "got 'gold'" in errors["B03"] and "not a" not in errors["B03"]
    assert "detailed reason" in errors["B11"]
    assert "before acceptance (2025-03-25)" in errors["B15"]
    assert "unknown iTV package" in errors["B19"] and "got 'platinum'" in errors["B19"]
    decided = pl.read_parquet(tmp_path / "bill.parquet")
    assert decided["account_id"].to_list() == ["G01", "G02", "g03"]
    assert decided["code"].to_list() == ["default_paid", "switched", "not_installed"]
    assert decided["package"].to_list() == ["quanneng", "hd", None]

    # The same rows as a CSV feed through the row-at-a-time path: the same rows, fields and words.
    csv_feed = tmp_path / "crm.csv"
    with csv_feed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, TEXT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    csv_summary = run_bill(POLICY, MONTH, [str(csv_feed)], str(tmp_path / "bill.csv"),
                           rejects=str(tmp_path / "rejects.csv"),
                           pm=itvrules.plugin_manager(autoload=False))
    assert (csv_summary.decided, csv_summary.rejected) == (summary.decided, summary.rejected)
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        row_path = list(csv.DictReader(handle))
    # CSV rows count the header line
    assert [(int(r["source_row"]) - 1, r["field"]) for r in row_path] == expected
    assert found["error"].to_list() == [r["error"] for r in row_path]
    assert found.drop("source", "source_row").rows() == [
        tuple(r[name] for name in found.columns[2:]) for r in row_path]
    assert errors["B02"] == "missing required field(s): product"
    assert errors["B05"] == "not a calendar date: month must be in 1..12; got '2025-13-01'"
    assert errors["B15"] == "completion is before acceptance (2025-03-25); got 2025-03-24"
    assert errors[" G01 "] == \
        "an earlier row of this run has the same account: one trial per account; got 'G01'"
    with (tmp_path / "bill.csv").open(encoding="utf-8-sig", newline="") as handle:
        csv_ids = [r["record_id"] for r in csv.DictReader(handle)]
    assert decided["record_id"].to_list() == csv_ids


def test_rejects_in_csv_and_default_rejects_name(tmp_path: Path) -> None:
    rows = text_rows()
    source = feed(rows, tmp_path / "crm.parquet", dict.fromkeys(TEXT_COLUMNS, pl.String))
    summary = bill_parquet(POLICY, MONTH, source, str(tmp_path / "bill.parquet"),
                           rejects=str(tmp_path / "rejects.csv"),
                           pm=itvrules.plugin_manager(autoload=False))
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["field"] for line in lines] == [field for _row, field in BAD]
    # The same text as the rejects the row path writes for the same rows as CSV.
    with (tmp_path / "crm.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, TEXT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    run_bill(POLICY, MONTH, [str(tmp_path / "crm.csv")], str(tmp_path / "bill.csv"),
             rejects=str(tmp_path / "row-path.csv"), pm=itvrules.plugin_manager(autoload=False))
    with (tmp_path / "row-path.csv").open(encoding="utf-8-sig", newline="") as handle:
        row_path = list(csv.DictReader(handle))
    assert [{**line, "source": "", "source_row": ""} for line in lines] == \
        [{**line, "source": "", "source_row": ""} for line in row_path]
    assert lines[2]["product"] == "gold" and lines[2]["source_row"] == str(len(GOOD_TEXT) + 3)
    assert summary.rejected == len(lines)
    again = bill_parquet(POLICY, MONTH, source, str(tmp_path / "again.parquet"))
    assert again.rejects == str(tmp_path / "again.rejects.parquet")
    assert pl.read_parquet(again.rejects).height == len(BAD)


def test_bad_files_and_usage_stop_before_any_output(tmp_path: Path) -> None:
    no_product = tmp_path / "no_product.parquet"
    pl.DataFrame({"account_id": ["A1"], "accepted_on": [D(2025, 3, 25)]}).write_parquet(no_product)
    with pytest.raises(itvrules.InputError, match=r"product"):
        bill_parquet(POLICY, MONTH, str(no_product), str(tmp_path / "bill.parquet"))
    not_parquet = tmp_path / "feed.parquet"
    not_parquet.write_text("account_id,product\n", encoding="utf-8")
    with pytest.raises(itvrules.InputError, match="Parquet"):
        bill_parquet(POLICY, MONTH, str(not_parquet), str(tmp_path / "bill.parquet"))
    with pytest.raises(itvrules.InputError, match="no such file"):
        bill_parquet(POLICY, MONTH, str(tmp_path / "missing.parquet"), str(tmp_path / "bill.parquet"))
    good = feed(GOOD, tmp_path / "good.parquet")
    with pytest.raises(UsageError):
        bill_parquet(POLICY, MONTH, good, "-")
    with pytest.raises(UsageError):
        bill_parquet(POLICY, MONTH, good, good)
    with pytest.raises(itvrules.InputError, match="month"):
        bill_parquet(POLICY, "2025-7", good, str(tmp_path / "bill.parquet"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.parquet", "good.parquet",
                                                          "no_product.parquet"]


def test_a_plugin_names_the_billing_cycle(tmp_path: Path) -> None:
    class Cycles:
        @itvrules.hookimpl
        def itvrules_billing_cycle(self, month: str) -> str:
            return f"C-{month}"

    pm: pluggy.PluginManager = itvrules.plugin_manager(autoload=False)
    pm.register(Cycles())
    bill_parquet(POLICY, MONTH, feed(GOOD[:2], tmp_path / "feed.parquet"),
                 str(tmp_path / "bill.parquet"), pm=pm)
    assert set(pl.read_parquet(tmp_path / "bill.parquet")["billing_cycle"]) == {"C-2025-07"}


def test_chinese_headers_typed_columns_and_an_empty_feed(tmp_path: Path) -> None:
    source = tmp_path / "登记表.parquet"
    # A CRM timestamp is a day in Asia/Shanghai: 2025-03-31 17:00 UTC is 1 April there.
    completed = pl.Series([datetime(2025, 3, 31, 17, 0), None]).dt.replace_time_zone("UTC")
    pl.DataFrame({"宽带账号": ["7001", "7002"], "产品类型": ["品牌", "包年"],
                  "受理日期": [D(2025, 3, 25)] * 2, "竣工日期": completed,
                  "转换套餐": ["iTV 高清包", None],
                  "拆机申请日期": pl.Series([None, None], dtype=pl.Date),
                  "拆机生效日期": pl.Series([None, None], dtype=pl.Date)}).write_parquet(source)
    summary = bill_parquet(POLICY, "2025-06", str(source), str(tmp_path / "bill.parquet"))
    assert (summary.decided, summary.rejected) == (2, 0)
    decided = pl.read_parquet(tmp_path / "bill.parquet")
    assert decided.select("account_id", "code", "package").rows() == [
        ("7001", "trial", "quanneng"), ("7002", "not_started", None)]  # March would be switched
    bill_parquet(POLICY, MONTH, str(source), str(tmp_path / "july.parquet"))
    july = pl.read_parquet(tmp_path / "july.parquet")
    assert july.select("code", "package", "amount").row(0) == ("switched", "hd", Decimal("30.00"))
    empty = tmp_path / "empty.parquet"
    pl.DataFrame(schema={"account_id": pl.String, "product": pl.String, "accepted_on": pl.Date,
                         "completed_on": pl.Date, "cancel_requested_on": pl.Date,
                         "cancel_effective_on": pl.Date}).write_parquet(empty)
    nothing = bill_parquet(POLICY, MONTH, str(empty), str(tmp_path / "none.parquet"))
    assert (nothing.rows_in, nothing.decided, nothing.rejected) == (0, 0, 0)
    assert pq.read_schema(tmp_path / "none.parquet") == EXPORT_SCHEMA
