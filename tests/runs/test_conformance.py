"""One conformance table: every path reads, checks and decides the same rows alike.

A single table of good and bad rows (every check of the input contract, cells
that are not dates, a feed without its optional columns, orders outside the
campaign window) is run through the row path, the columnar CSV path, the
Parquet path, the Spark backend and the frame API (``Policy.fees`` over a
Polars frame with ``on_error``). Each path must give the same decisions, the
same rejects (field and message) and the same counts (rows charged from a
placeholder tariff included), and each test proves its path ran by counting
calls to the path's entry point.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

import itvrules
from itvrules.contract import load_contract

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

POLICY = itvrules.load_policy()
MONTH = "2025-07"
CONTRACT = load_contract()
COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
           "cancel_requested_on", "cancel_effective_on", "switched_to")

#: (cells, the check that rejects the row or None, the fee code when decided). Every contract
#: check has at least one row; rows of valid cells only, so every path can hold them typed.
TABLE: list[tuple[dict[str, str], str | None, str | None]] = [
    ({"account_id": "C01", "product": "brand", "accepted_on": "2025-03-25",
      "completed_on": "2025-03-31"}, None, "default_paid"),
    ({"account_id": "C02", "product": "annual", "accepted_on": "2025-05-20",
      "completed_on": "2025-05-25"}, None, "trial"),
    ({"account_id": "C03", "product": "brand", "accepted_on": "2025-04-01", "returned": "true",
      "return_reason": "线路不具备"}, None, "not_installed"),
    ({"account_id": "C04", "product": "brand", "accepted_on": "2025-03-20",
      "completed_on": "2025-03-21", "switched_to": "hd"}, None, "switched"),
    ({"account_id": "C05", "product": "brand", "accepted_on": "2025-03-20",
      "completed_on": "2025-04-21", "cancel_requested_on": "2025-06-20"}, None, "late_cancel_waiver"),
    ({"account_id": "C06", "product": "brand", "accepted_on": "2025-05-31",
      "completed_on": "2025-06-02"}, None, "trial"),
    ({"account_id": "R01", "product": "brand", "accepted_on": "2025-04-01", "returned": "true"},
     "return.reason", None),
    ({"account_id": "R02", "product": "brand", "accepted_on": "2025-04-01", "returned": "true",
      "return_reason": "拒装", "completed_on": "2025-04-02"}, "return.completed", None),
    ({"account_id": "R03", "product": "brand", "accepted_on": "2025-04-01", "returned": "true",
      "return_reason": "拒装", "cancel_requested_on": "2025-04-02"}, "return.cancel_requested", None),
    ({"account_id": "R04", "product": "brand", "accepted_on": "2025-04-01", "returned": "true",
      "return_reason": "拒装", "cancel_effective_on": "2025-04-02"}, "return.cancel_effective", None),
    ({"account_id": "R05", "product": "brand", "accepted_on": "2025-04-10",
      "completed_on": "2025-04-09"}, "order.completed_before_accepted", None),
    ({"account_id": "R06", "product": "brand", "accepted_on": "2025-04-10",
      "completed_on": "2025-04-11", "cancel_requested_on": "2025-04-09"},
     "order.cancel_requested_before_accepted", None),
    ({"account_id": "R07", "product": "brand", "accepted_on": "2025-04-10",
      "completed_on": "2025-04-11", "cancel_requested_on": "2025-05-10",
      "cancel_effective_on": "2025-05-09"}, "order.cancel_effective_before_requested", None),
    ({"account_id": "R08", "product": "brand", "accepted_on": "2025-04-10",
      "completed_on": "2025-04-11", "cancel_effective_on": "2025-04-09"},
     "order.cancel_effective_before_accepted", None),
    ({"account_id": "R09", "product": "brand", "accepted_on": "2025-03-19",
      "completed_on": "2025-03-20"}, "campaign.window", None),
    ({"account_id": "R10", "product": "brand", "accepted_on": "2025-06-01",
      "completed_on": "2025-06-02"}, "campaign.window", None),
    ({"account_id": "C01", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.repeated", None),
    ({"account_id": "R12", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02", "switched_to": "platinum"}, "package.unknown", None),
    # account ids (SPEC §11): what a spreadsheet runs or made a number, hidden characters, and
    # the policy's pattern; the most specific words first
    ({"account_id": '=HYPERLINK("http://x.example","账单")', "product": "brand",
      "accepted_on": "2025-04-01", "completed_on": "2025-04-02"}, "account.formula", None),
    ({"account_id": "@SUM(A1)", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.formula", None),
    ({"account_id": "1E5", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.number_form", None),
    ({"account_id": "-3e2", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.number_form", None),
    ({"account_id": "1.234567890123457e+18", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.number_form", None),
    ({"account_id": "A00\n1", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.control_character", None),
    ({"account_id": "=A\r\n1", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.control_character", None),
    # one account however it is pasted or typed (the contract's normal_form): format characters
    # removed, NFKC, stripped; then one trial per account
    ({"account_id": "8410950407", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, None, "default_paid"),
    ({"account_id": "\u200b8410950407", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.repeated", None),
    ({"account_id": "８４１０９５０４０７", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.repeated", None),
    ({"account_id": " 8410950407\u202e", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.repeated", None),
    ({"account_id": "8410\u00ad\u2060950407\ufeff", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.repeated", None),
    # a package code in full width, or pasted with a format character, is the package
    ({"account_id": "C08", "product": "ｂｒａｎｄ", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02", "switched_to": "ｑｕａｎｎｅｎｇ"}, None, "switched"),
    ({"account_id": "C09", "product": "brand\u200b", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02", "switched_to": "\u200bquanneng"}, None, "switched"),
    ({"account_id": "A\x00004", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.control_character", None),
    ({"account_id": "depot:城关", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.stock_stream", None),
    ({"account_id": "账号005", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.pattern", None),
    ({"account_id": "A 006", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, "account.pattern", None),
    ({"account_id": "C07@adsl.example", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, None, "default_paid"),
    ({"account_id": "0000123", "product": "brand", "accepted_on": "2025-04-01",
      "completed_on": "2025-04-02"}, None, "default_paid"),
]


def cells(row: dict[str, str]) -> dict[str, str]:
    return {name: row.get(name, "") for name in COLUMNS}


def typed(row: dict[str, str]) -> dict[str, Any]:
    """The row as a typed frame holds it: dates as dates, a boolean, blanks as null."""
    out: dict[str, Any] = {}
    for name in COLUMNS:
        value = row.get(name, "")
        if name.endswith("_on"):
            out[name] = date.fromisoformat(value) if value else None
        elif name == "returned":
            out[name] = value == "true"
        else:
            out[name] = value or None
    return out


def expected_checks() -> list[str | None]:
    return [check for _row, check, _code in TABLE]


def test_every_contract_check_has_a_row() -> None:
    assert {c.id for c in CONTRACT.scoped("record")} | {c.id for c in CONTRACT.scoped("run", "bill")} \
        == {check for check in expected_checks() if check is not None}


def spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count calls to ``module.name``: proof that a path ran, not only that its output matched."""
    calls: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(cells(r) for r in rows)
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    if path.suffix == ".parquet":
        return [{k: "" if v is None else str(v) for k, v in r.items()}
                for r in pl.read_parquet(path).iter_rows(named=True)]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def message_of(check_id: str) -> str:
    """The first words of a check's message, before any value it fills in."""
    check = next(c for c in CONTRACT.checks if c.id == check_id)
    return check.message.split("{")[0]


def outcome(bill: list[dict[str, str]], rejects: list[dict[str, str]],
            first_row: int) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """(account, code) decided and (row, field, error) rejected, row numbers from 1."""
    decided = [(r["account_id"], r["code"]) for r in bill]
    rejected = [(int(r["source_row"]) - first_row + 1, r["field"], r["error"]) for r in rejects]
    return decided, rejected


def placeholder_rows(bill: list[dict[str, str]]) -> dict[str, int]:
    """Rows of an export charged (amount above 0) from a package the policy marks a placeholder
    (the shipped policy marks whole packages, so the package column tells)."""
    counts: dict[str, int] = {}
    for row in bill:
        package = row["package"]
        if package and Decimal(row["amount"]) > 0 and POLICY.placeholder_tariff(package, "brand"):
            counts[package] = counts.get(package, 0) + 1
    return counts


def check_table(decided: list[tuple[str, str]], rejected: list[tuple[int, str, str]]) -> None:
    """Decisions and rejects as the table says: each rejected row by its check's field and words."""
    assert decided == [(row["account_id"], code) for row, check, code in TABLE if check is None]
    expected = [(at, check) for at, (_row, check, _code) in enumerate(TABLE, start=1) if check]
    assert [at for at, _f, _e in rejected] == [at for at, _c in expected]
    for (_at, field, error), (_, check) in zip(rejected, expected, strict=True):
        rule = next(c for c in CONTRACT.checks if c.id == check)
        assert field == rule.field, check
        assert error.startswith(message_of(check)), (check, error)
    assert len(decided) + len(rejected) == len(TABLE)  # rows in = decided + rejected


@pytest.fixture(scope="module")
def csv_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("feed") / "crm.csv", [r for r, _c, _k in TABLE])


def run_csv(feed: Path, out: Path, backend: str) -> tuple[list[Any], list[Any], itvrules.RunSummary]:
    summary = itvrules.run_bill(POLICY, MONTH, [str(feed)], str(out / "bill.csv"),
                                rejects=str(out / "rejects.csv"), backend=backend,
                                pm=itvrules.plugin_manager(autoload=False))
    decided, rejected = outcome(read_rows(out / "bill.csv"), read_rows(out / "rejects.csv"), 2)
    return decided, rejected, summary


def test_row_path(csv_feed: Path, tmp_path: Path) -> None:
    decided, rejected, summary = run_csv(csv_feed, tmp_path, "rows")
    check_table(decided, rejected)
    assert (summary.rows_in, summary.decided, summary.rejected) == \
        (len(TABLE), len(decided), len(rejected))
    assert summary.placeholder_charges == placeholder_rows(read_rows(tmp_path / "bill.csv")) \
        == {"hd": 1}  # C04, switched to hd


def test_columnar_csv_path_agrees_with_the_row_path(csv_feed: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from itvrules.runs import _bulk_text as _columnar

    ran = spy(monkeypatch, _columnar._bill, "bill_columnar")
    monkeypatch.setattr(_columnar, "bill_columnar", _columnar._bill.bill_columnar)
    (tmp_path / "rows").mkdir()
    (tmp_path / "columnar").mkdir()
    reference = run_csv(csv_feed, tmp_path / "rows", "rows")
    found = run_csv(csv_feed, tmp_path / "columnar", "columnar")
    assert ran, "the columnar CSV path did not run"
    assert found[:2] == reference[:2]
    assert found[2].placeholder_charges == reference[2].placeholder_charges == {"hd": 1}
    assert (tmp_path / "columnar" / "bill.csv").read_bytes() == \
        (tmp_path / "rows" / "bill.csv").read_bytes()
    assert (tmp_path / "columnar" / "rejects.csv").read_bytes() == \
        (tmp_path / "rows" / "rejects.csv").read_bytes()


def test_parquet_path_agrees_with_the_row_path(csv_feed: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from itvrules.runs import _bulk_arrow as _parquet

    ran = spy(monkeypatch, _parquet, "bill_parquet")
    feed = tmp_path / "crm.parquet"
    pl.DataFrame([cells(r) for r, _c, _k in TABLE], schema=dict.fromkeys(COLUMNS, pl.String)) \
        .write_parquet(feed)
    summary = itvrules.run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "bill.parquet"),
                                backend="columnar", pm=itvrules.plugin_manager(autoload=False))
    assert ran, "the Parquet path did not run"
    decided, rejected = outcome(read_rows(tmp_path / "bill.parquet"),
                                read_rows(tmp_path / "bill.rejects.parquet"), 1)
    check_table(decided, rejected)
    (tmp_path / "rows").mkdir()
    reference = run_csv(csv_feed, tmp_path / "rows", "rows")
    assert (decided, rejected) == reference[:2]
    assert (summary.rows_in, summary.decided, summary.rejected) == \
        (reference[2].rows_in, reference[2].decided, reference[2].rejected)
    assert summary.placeholder_charges == reference[2].placeholder_charges == {"hd": 1}


def frame_errors(frame: pl.DataFrame) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    errors: list[tuple[int, str, str]] = []

    def keep(_row: Any, error: itvrules.InputError) -> None:
        assert error.row is not None
        errors.append((error.row + 1, error.field, error.problem))

    decisions = [(d.account_id, d.code) for d in POLICY.fees(frame, MONTH, on_error=keep)]
    return decisions, errors


def test_frame_api_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    from itvrules.frames import _stream as _fees_columnar

    ran = spy(monkeypatch, _fees_columnar, "frame_fees")
    rows = [typed(r) for r, check, _k in TABLE if check != "account.repeated"]  # fees() reads no run
    frame = pl.DataFrame(rows, schema={
        "account_id": pl.String, "product": pl.String, "accepted_on": pl.Date,
        "completed_on": pl.Date, "returned": pl.Boolean, "return_reason": pl.String,
        "cancel_requested_on": pl.Date, "cancel_effective_on": pl.Date, "switched_to": pl.String})
    decided, rejected = frame_errors(frame)
    assert ran, "the frame API did not take the columnar backend"
    table = [(r, c, k) for r, c, k in TABLE if c != "account.repeated"]
    assert decided == [(row["account_id"], code) for row, check, code in table if check is None]
    expected = [(at, check) for at, (_r, check, _k) in enumerate(table, start=1) if check]
    assert [(at, field) for at, field, _e in rejected] == \
        [(at, next(c.field for c in CONTRACT.checks if c.id == check)) for at, check in expected]
    for (_at, _field, error), (_, check) in zip(rejected, expected, strict=True):
        assert error.startswith(message_of(check)), (check, error)


def test_spark_agrees_with_the_row_path(spark: SparkSession, csv_feed: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from itvrules.spark import _bill

    ran = spy(monkeypatch, _bill, "bill_spark")
    rows = [(i, *typed(r).values()) for i, (r, _c, _k) in enumerate(TABLE, start=1)]
    frame = spark.createDataFrame(rows, schema=(
        "source_row int, account_id string, product string, accepted_on date, completed_on date, "
        "returned boolean, return_reason string, cancel_requested_on date, "
        "cancel_effective_on date, switched_to string"))
    bill = POLICY.fees_spark(frame, MONTH, rejects=True)
    assert ran, "the Spark backend did not run"
    decided = sorted((r["account_id"], r["code"]) for r in bill.decided.collect())
    rejected = sorted((r["source_row"], r["field"], r["error"]) for r in bill.rejected.collect())
    reference = run_csv(csv_feed, tmp_path, "rows")
    assert decided == sorted(reference[0])
    assert rejected == sorted(reference[1])
    # Spark bills outside run_bill: its export gives the row path's placeholder count.
    spark_bill = [{k: "" if v is None else str(v) for k, v in r.asDict().items()}
                  for r in bill.decided.collect()]
    assert placeholder_rows(spark_bill) == reference[2].placeholder_charges == {"hd": 1}


#: A feed with none of the optional columns (returned, return_reason, switched_to may be absent,
#: SPEC §11) but a returned flag: its return has no reason on every path.
BARE = ("account_id", "product", "accepted_on", "completed_on", "cancel_requested_on",
        "cancel_effective_on", "returned")
BARE_ROWS = [
    {"account_id": "N1", "product": "brand", "accepted_on": "2025-04-01", "completed_on": "2025-04-02"},
    {"account_id": "N2", "product": "brand", "accepted_on": "2025-04-01", "returned": "true"},
]


def test_a_feed_without_the_optional_columns_is_read_alike_everywhere(
        spark: SparkSession, tmp_path: Path) -> None:
    rows = [{name: r.get(name, "") for name in BARE} for r in BARE_ROWS]
    feed = tmp_path / "bare.csv"
    with feed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, BARE)
        writer.writeheader()
        writer.writerows(rows)
    seen = []
    for backend in ("rows", "columnar"):
        out = tmp_path / backend
        out.mkdir()
        summary = itvrules.run_bill(POLICY, MONTH, [str(feed)], str(out / "bill.csv"),
                                    backend=backend, pm=itvrules.plugin_manager(autoload=False))
        rejects = read_rows(out / "bill.rejects.csv")
        seen.append((summary.decided, [(r["account_id"], r["field"]) for r in rejects]))
    parquet = tmp_path / "bare.parquet"
    pl.DataFrame(rows, schema=dict.fromkeys(BARE, pl.String)).write_parquet(parquet)
    summary = itvrules.run_bill(POLICY, MONTH, [str(parquet)], str(tmp_path / "bill.parquet"),
                                pm=itvrules.plugin_manager(autoload=False))
    rejects = read_rows(tmp_path / "bill.rejects.parquet")
    seen.append((summary.decided, [(r["account_id"], r["field"]) for r in rejects]))
    typed_rows = [{**typed(r), "returned": r.get("returned") == "true"} for r in BARE_ROWS]
    frame = pl.DataFrame([{k: v for k, v in r.items() if k in BARE or k == "switched_to"}
                          for r in typed_rows])
    frame = frame.with_columns(pl.col("switched_to").cast(pl.String))
    refused: list[tuple[str, str]] = []
    decided = list(POLICY.fees(frame, MONTH, on_error=lambda row, e: refused.append(
        (row["account_id"], e.field))))
    seen.append((len(decided), refused))
    spark_rows = spark.createDataFrame(
        [tuple(r[name] for name in (*BARE[:-1], "returned", "switched_to")) for r in typed_rows],
        schema="account_id string, product string, accepted_on date, completed_on date, "
               "cancel_requested_on date, cancel_effective_on date, returned boolean, "
               "switched_to string")
    bill = POLICY.fees_spark(spark_rows, MONTH, rejects=True)
    seen.append((bill.decided.count(), [(r["account_id"], r["field"])
                                        for r in bill.rejected.collect()]))
    assert seen == [(1, [("N2", "return_reason")])] * 5


def test_every_run_ends_in_one_count_that_loses_no_row() -> None:
    assert itvrules.RunSummary(5, 2, 2, "-", None, skipped=1).rows_in == 5
    with pytest.raises(RuntimeError, match="lost rows: 5 read, 2 decided, 2 rejected, 0 skipped"):
        itvrules.RunSummary(5, 2, 2, "-", None)


def test_a_corrected_feed_keeps_its_record_ids_with_the_new_decisions(
        spark: SparkSession, tmp_path: Path) -> None:
    """A cancellation registered late: a re-run gives the same ids (SPEC §11), so a billing system
    that upserts on the id replaces the old charge, on every path."""
    first = [{"account_id": "U1", "product": "brand", "accepted_on": "2025-04-01",
              "completed_on": "2025-04-02"},
             {"account_id": "U2", "product": "annual", "accepted_on": "2025-04-03",
              "completed_on": "2025-04-05", "switched_to": "hd"}]
    corrected = [{**first[0], "cancel_requested_on": "2025-06-20"}, first[1]]

    def bills(rows: list[dict[str, str]], out: Path) -> dict[str, list[tuple[str, str, str]]]:
        out.mkdir()
        feed = write_csv(out / "crm.csv", rows)
        found = {}
        for backend in ("rows", "columnar"):
            itvrules.run_bill(POLICY, MONTH, [str(feed)], str(out / f"{backend}.csv"), backend=backend,
                              pm=itvrules.plugin_manager(autoload=False))
            found[backend] = [(r["account_id"], r["record_id"], r["code"])
                              for r in read_rows(out / f"{backend}.csv")]
        parquet = out / "crm.parquet"
        pl.DataFrame([cells(r) for r in rows],
                     schema=dict.fromkeys(COLUMNS, pl.String)).write_parquet(parquet)
        itvrules.run_bill(POLICY, MONTH, [str(parquet)], str(out / "bill.parquet"),
                          pm=itvrules.plugin_manager(autoload=False))
        found["parquet"] = [(r["account_id"], r["record_id"], r["code"])
                            for r in read_rows(out / "bill.parquet")]
        frame = spark.createDataFrame([tuple(typed(r).values()) for r in rows], schema=(
            "account_id string, product string, accepted_on date, completed_on date, returned boolean, "
            "return_reason string, cancel_requested_on date, cancel_effective_on date, switched_to string"))
        found["spark"] = sorted((r["account_id"], r["record_id"], r["code"])
                                for r in POLICY.fees_spark(frame, MONTH, rejects=True).decided.collect())
        return found

    before, after = bills(first, tmp_path / "first"), bills(corrected, tmp_path / "corrected")
    for path in before:
        assert [(a, i) for a, i, _c in before[path]] == [(a, i) for a, i, _c in after[path]], path
        assert [c for *_, c in before[path]] == ["default_paid", "switched"], path
        assert [c for *_, c in after[path]] == ["late_cancel_waiver", "switched"], path
    assert len({tuple(found) for found in before.values()}) == 1  # every path, the same ids


@pytest.mark.parametrize(("big", "field"), [
    ("x" * (200 * 1024), "return_reason"),  # over the default limit: read, named, rejected
    ('"' + "线\n路" * 300 + '"', "return_reason"),  # quoted over lines, over a lowered limit
    ("€" * 30, "return_reason"),  # under the limit in characters, over it in UTF-8 bytes
    ('"' + "y\n" * (5 << 20) + '"', "(record)"),  # too big to read at all: passed over whole
], ids=["unquoted-200KiB", "quoted-multiline", "multibyte", "quoted-10MiB"])
def test_a_cell_over_the_field_limit_rejects_its_row_alike_on_the_row_and_columnar_paths(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big: str, field: str) -> None:
    if len(big) < 1024:
        monkeypatch.setenv("ITVRULES_LIMIT_FIELD_BYTES", "64")
    feed = tmp_path / "crm.csv"
    good = "C01,brand,2025-03-25,2025-03-31,,,,,"
    feed.write_text(",".join(COLUMNS) + "\n" + good + "\n" + f"C02,brand,2025-03-25,2025-03-31,,{big},,,\n"
                    + good.replace("C01", "C03") + "\n", encoding="utf-8")
    found = {}
    for backend in ("rows", "columnar"):
        (tmp_path / backend).mkdir()
        decided, rejected, summary = run_csv(feed, tmp_path / backend, backend)
        assert decided == [("C01", "default_paid"), ("C03", "default_paid")]
        assert [(at, name) for at, name, _error in rejected] == [(2, field)]
        assert "over the limit field_bytes" in rejected[0][2]
        assert "ITVRULES_LIMIT_FIELD_BYTES=N" in rejected[0][2]
        assert (summary.rows_in, summary.decided, summary.rejected, summary.skipped) == (3, 2, 1, 0)
        found[backend] = (tmp_path / backend / "rejects.csv").read_bytes()
    assert found["rows"] == found["columnar"]


def test_ingest_keeps_one_enrolment_for_an_account_pasted_four_ways(tmp_path: Path) -> None:
    """The ledger reads a feed as bill does: the variants of one account are one enrolment, the
    rest of them rejected as repeats, and a NUL in an id is a reject, not a stored account."""
    from itvrules.cli import main
    from itvrules.store import open_ledger

    variants = ["8410950407", "\u200b8410950407", "８４１０９５０４０７", " 8410950407\u202e"]
    rows = [{"account_id": a, "product": "brand", "accepted_on": "2025-04-01",
             "completed_on": "2025-04-02"} for a in [*variants, "A\x00B", "C10"]]
    feed = write_csv(tmp_path / "crm.csv", rows)
    db = tmp_path / "ledger.db"
    status = main(["ingest", str(feed), "--db", str(db), "--as-of", "2025-07-31", "-q",
                   "--rejects", str(tmp_path / "crm.rejects.csv")])
    assert status == 3  # some rows rejected
    with open_ledger(str(db)) as ledger:
        assert sorted(ledger.accounts()) == ["8410950407", "C10"]
    rejects = read_rows(tmp_path / "crm.rejects.csv")
    assert [(r["source_row"], r["field"]) for r in rejects] == [(str(n), "account_id") for n in (3, 4, 5, 6)]
    assert rejects[-1]["error"].endswith("; got 'A<U+0000>B'")
