"""``itvrules bill`` and ``eligibility`` with Parquet feeds and exports: statuses 0/1/2/3, formats, paths."""

from __future__ import annotations

import csv
import functools
import io
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from itvrules.cli import main
from itvrules.runs._bulk_arrow import EXPORT_SCHEMA

FEED = pl.DataFrame({
    "宽带账号": ["A001", "0002", "A003", "A004", "A005", "A001"],
    "产品类型": ["品牌", "包年", "品牌", "品牌", "gold", "品牌"],
    "受理日期": [date(2025, 3, 25), date(2025, 5, 2), date(2025, 4, 2), date(2025, 3, 25),
             date(2025, 3, 25), date(2025, 4, 1)],
    "竣工日期": [date(2025, 3, 31), date(2025, 5, 3), None, date(2025, 3, 28), None, None],
    "是否退单": [None, None, True, None, None, None],
    "退单原因": [None, None, "线路不具备", None, None, None],
    "拆机申请日期": [None, None, None, date(2025, 5, 31), None, None],
    "拆机生效日期": [None, None, None, date(2025, 6, 5), None, None],
})
#: account -> code for July 2025; A005 (unknown product) and the second A001 are rejected.
CODES = {"A001": "default_paid", "0002": "trial", "A003": "not_installed", "A004": "cancelled"}
CSV_HEADER = "account_id,product,accepted_on,completed_on,cancel_requested_on,cancel_effective_on\n"


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.parquet"
    FEED.write_parquet(path)
    return path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    path = tmp_path / "clean.parquet"
    FEED.head(4).write_parquet(path)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_parquet_to_parquet_status_3_and_typed_export(feed: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bill.parquet"
    assert main(["bill", "2025-07", str(feed), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "rows in: 6  decided: 4  rejected: 2" in err
    assert f"output: {out}" in err and f"rejects: {tmp_path / 'bill.rejects.parquet'}" in err
    assert pq.read_schema(out) == EXPORT_SCHEMA
    bill = pl.read_parquet(out)
    assert dict(zip(bill["account_id"], bill["code"], strict=True)) == CODES
    assert bill.filter(pl.col("account_id") == "A001")["amount"].item() == Decimal("35.00")
    assert bill["source_row"].to_list() == [1, 2, 3, 4]
    rejects = pl.read_parquet(tmp_path / "bill.rejects.parquet")
    assert rejects.select("source_row", "field").rows() == [(5, "product"), (6, "account_id")]
    assert rejects["宽带账号"].to_list() == ["A005", "A001"]


def test_every_row_decided_is_status_0_whichever_backend(clean: Path, tmp_path: Path) -> None:
    bills = {}
    for backend in ("auto", "columnar", "rows"):
        out = tmp_path / f"{backend}.parquet"
        assert main(["bill", "2025-07", str(clean), "-o", str(out), "--backend", backend,
                     "--no-progress"]) == 0
        bills[backend] = pl.read_parquet(out)
    assert bills["auto"].equals(bills["columnar"]) and bills["auto"].equals(bills["rows"])
    # every run writes its rejects, with no rows when nothing was rejected, on every backend
    rejects = sorted(tmp_path.glob("*.rejects.*"))
    assert [p.name for p in rejects] == [f"{b}.rejects.parquet" for b in ("auto", "columnar", "rows")]
    assert all(pl.read_parquet(p).height == 0 for p in rejects)


def test_parquet_feed_to_csv_export(feed: Path, tmp_path: Path) -> None:
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-07", str(feed), "-o", str(out)]) == 3
    rows = read_csv(out)
    assert {r["account_id"]: r["code"] for r in rows} == CODES
    assert rows[0]["amount"] == "35.00" and rows[0]["source"] == "feed.parquet"
    rejects = read_csv(tmp_path / "bill.rejects.csv")
    assert [(r["source_row"], r["field"]) for r in rejects] == [("5", "product"), ("6", "account_id")]
    assert rejects[0]["受理日期"] == "2025-03-25"
    # --backend columnar reads it through the Parquet reader into the columnar CSV path: same bytes.
    assert main(["bill", "2025-07", str(feed), "-o", str(tmp_path / "col.csv"), "--backend",
                 "columnar"]) == 3
    assert (tmp_path / "col.csv").read_bytes() == out.read_bytes()
    assert (tmp_path / "col.rejects.csv").read_bytes() == (tmp_path / "bill.rejects.csv").read_bytes()


def test_csv_feed_to_parquet_export(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(CSV_HEADER + "A001,brand,2025-03-25,2025-03-31,,\n0002,annual,2025-05-02,2025-05-03,,\n"
                    "A005,gold,2025-03-25,,,\n", encoding="utf-8")
    out = tmp_path / "bill.parquet"
    assert main(["bill", "2025-07", str(feed), "-o", str(out)]) == 3
    assert pq.read_schema(out) == EXPORT_SCHEMA
    bill = pl.read_parquet(out)
    assert bill.select("account_id", "code", "amount_fen", "source_row").rows() == [
        ("A001", "default_paid", 3500, 2), ("0002", "trial", 0, 3)]  # CSV rows count the header
    rejects = pl.read_parquet(tmp_path / "bill.rejects.parquet")  # the export's format, as ever
    assert rejects.select("source", "source_row", "field").rows() == [("feed.csv", 4, "product")]


def test_format_names_override_the_file_names(clean: Path, tmp_path: Path) -> None:
    feed = tmp_path / "crm-export.bin"
    feed.write_bytes(clean.read_bytes())
    out = tmp_path / "bill.out"
    assert main(["bill", "2025-07", str(feed), "--format", "parquet", "-o", str(out),
                 "--out-format", "parquet"]) == 0
    assert dict(pl.read_parquet(out).select("account_id", "code").rows()) == CODES


def test_parquet_to_stdout_is_a_usage_error(feed: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    csv_feed = tmp_path / "feed.csv"
    csv_feed.write_text(CSV_HEADER + "A001,brand,2025-03-25,2025-03-31,,\n", encoding="utf-8")
    for args in ([str(feed), "-o", "-", "--out-format", "parquet"],
                 [str(csv_feed), "-o", "-", "--out-format", "parquet"],
                 [str(feed), "-o", "-", "--out-format", "parquet", "--backend", "rows"]):
        status = main(["bill", "2025-07", *args, "--rejects", str(tmp_path / "r.csv")])
        captured = capsys.readouterr()
        assert status == 2, captured.err
        assert captured.err.startswith("itvrules: error: ")
        assert "standard output" in captured.err
        assert captured.out == ""
    assert not (tmp_path / "r.csv").exists()


def test_parquet_to_stdout_in_a_subprocess_writes_nothing(feed: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "itvrules", "bill", "2025-07", str(feed), "-o", "-", "--out-format",
         "parquet", "--rejects", str(tmp_path / "r.parquet")],
        capture_output=True, timeout=120, check=False,
        env={**os.environ, "ITVRULES_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"standard output" in result.stderr


def test_the_command_in_a_subprocess(feed: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "itvrules", "bill", "2025-07", "feed.parquet", "-o", "bill.parquet"],
        capture_output=True, timeout=120, check=False, cwd=tmp_path,
        env={**os.environ, "ITVRULES_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.returncode == 3, result.stderr
    assert "rows in: 6  decided: 4  rejected: 2" in result.stderr.decode("utf-8")
    assert pl.read_parquet(tmp_path / "bill.parquet").height == 4
    assert pl.read_parquet(tmp_path / "bill.rejects.parquet").height == 2


def test_a_parquet_feed_on_standard_input(clean: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "itvrules", "bill", "2025-07", "-", "--format", "parquet", "-o",
         str(tmp_path / "bill.csv")],
        input=clean.read_bytes(), capture_output=True, timeout=120, check=False,
        env={**os.environ, "ITVRULES_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.returncode == 0, result.stderr
    rows = read_csv(tmp_path / "bill.csv")
    assert {r["account_id"]: r["code"] for r in rows} == CODES
    assert {r["source"] for r in rows} == {"<stdin>"}


def test_unreadable_parquet_feeds_are_status_1(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    thin = tmp_path / "thin.parquet"
    pl.DataFrame({"宽带账号": ["A1"], "套餐": ["e8-68"]}).write_parquet(thin)
    not_parquet = tmp_path / "fake.parquet"
    not_parquet.write_text(CSV_HEADER, encoding="utf-8")
    for feed, words in ((thin, "missing required column(s)"), (not_parquet, "Parquet"),
                        (tmp_path / "missing.parquet", "no such file")):
        for backend in ("auto", "rows"):
            out = tmp_path / "bill.parquet"
            assert main(["bill", "2025-07", str(feed), "-o", str(out), "--backend", backend]) == 1
            err = capsys.readouterr().err
            assert err.startswith("itvrules: error: ") and words in err, err
            assert "Traceback" not in err
            assert not out.exists()


@pytest.mark.durable
def test_columnar_says_why_it_cannot_serve(clean: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bill.parquet"
    assert main(["bill", "2025-07", str(clean), str(clean), "-o", str(out), "--backend",
                 "columnar"]) == 2
    err = capsys.readouterr().err
    assert "columnar backend cannot serve this run" in err and "one feed" in err
    assert main(["bill", "2025-07", str(clean), "-o", str(out), "--backend", "columnar",
                 "--engine", "durable"]) == 2
    assert "durable engine" in capsys.readouterr().err
    assert main(["bill", "2025-07", str(clean), "-o", str(out), "--engine", "durable"]) == 0
    assert dict(pl.read_parquet(out).select("account_id", "code").rows()) == CODES


def test_eligibility_reads_and_writes_parquet(tmp_path: Path) -> None:
    feed = tmp_path / "subscribers.parquet"
    pl.DataFrame({"宽带账号": ["S1", "S2"], "套餐": ["e8-68", "e8-68"], "产品类型": ["品牌", "品牌"],
                  "小区类型": ["未提速", "未提速"], "是否新装": ["否", "待定"], "是否已有iTV": [False, False],
                  "线路是否具备": [True, True], "受理日期": [date(2025, 4, 1)] * 2}).write_parquet(feed)
    out = tmp_path / "targets.parquet"
    status = main(["eligibility", str(feed), "-o", str(out)])
    table = pq.read_table(out)
    rejects = pl.read_parquet(tmp_path / "targets.rejects.parquet")
    assert status == 3
    assert table.schema.field("eligible").type == table.schema.field("review").type
    assert str(table.schema.field("accepted_on").type) == "date32[day]"
    assert table.to_pylist()[0]["account_id"] == "S1", rejects["error"].to_list()
    assert table.to_pylist()[0]["accepted_on"] == date(2025, 4, 1)
    assert rejects.select("source_row", "field").rows() == [(2, "new_install")]


def test_help_shows_parquet_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "itvrules bill 2025-07 feed.parquet -o bill.parquet" in shown
    assert "Parquet" in shown and "exit status: 0 every row decided" in shown


def test_progress_reaches_the_terminal_from_the_parquet_path(clean: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from itvrules.cli import _progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(_progress, "ProgressLine", functools.partial(_progress.ProgressLine,
                                                           delay=0.0, interval=0.0))
    assert main(["bill", "2025-07", str(clean), "-o", str(tmp_path / "bill.parquet")]) == 0
    assert "\r4 rows" in terminal.getvalue()
