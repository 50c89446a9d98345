"""``itvrules eligibility``: CSV, XLSX and JSONL feeds, Chinese headers, rejects, stdin/stdout."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from itvrules.cli import main

SAMPLE = resources.files("itvrules") / "sample_data"
# Chinese headers, in an order of their own, with an extra column kept for the rejects.
FEED = (
    "受理日期,宽带账号,套餐,产品类型,小区类型,是否新装,是否已有iTV,线路是否具备,备注\n"
    "2025-04-01,0001,e8-68,品牌,未提速,否,否,是,\n"
    "2025/4/2,0002,e9-169,品牌,未提速,否,否,是,\n"
    "20250403,0003,e6-49,单宽月租,已提速,是,否,是,\n"
    "2025-04-04,0004,e6-49,包年,正在提速,否,否,是,\n"
    "2025-06-01,0005,e8-68,品牌,未提速,否,否,是,\n"
    "2025-04-05,0006,e8-68,品牌,未提速,Y,否,N,\n"
)
EXPECTED = {"0001": "legacy_plan", "0002": "bundled_itv", "0003": "single_monthly_excluded",
            "0004": "upgraded_community", "0005": "outside_campaign", "0006": "no_line"}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_decides_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_bytes(FEED.encode("gb18030"))
    out = tmp_path / "targets.csv"
    assert main(["eligibility", str(feed), "-o", str(out)]) == 0
    assert "rows in: 6  decided: 6  rejected: 0" in capsys.readouterr().err
    rows = read_csv(out)
    assert {r["account_id"]: r["reason"] for r in rows} == EXPECTED
    first = rows[0]
    assert (first["eligible"], first["segment"], first["rule"], first["clause"]) == (
        "true", "legacy_plan", "elig.legacy_plan", "§二(二)")
    assert first["accepted_on"] == "2025-04-01"


def test_bad_rows_are_rejected_with_their_extra_columns(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(FEED + "2025-04-06,0007,e8-68,融合,未提速,否,否,是,看这里\n"
                           "2025-04-07,0001,e8-88,品牌,未提速,否,否,是,\n", encoding="utf-8")
    out, rejects = tmp_path / "targets.xlsx", tmp_path / "rejects.csv"
    assert main(["eligibility", str(feed), "-o", str(out), "--rejects", str(rejects)]) == 3
    assert "rows in: 8  decided: 6  rejected: 2" in capsys.readouterr().err
    assert out.read_bytes().startswith(b"PK")  # the extension chose XLSX
    bad = read_csv(rejects)
    assert [(r["source_row"], r["field"]) for r in bad] == [("8", "product"), ("9", "account_id")]
    assert bad[0]["备注"] == "看这里"


def test_the_registration_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Title row, 合计 rows, a blank row, date cells and serial numbers, two sheets."""
    form = tmp_path / "registration-form.xlsx"
    form.write_bytes((SAMPLE / "registration-form.xlsx").read_bytes())
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))["registration-form.xlsx"]
    orders = sum(sheet["orders"] for sheet in manifest["sheets"].values())
    expected = sorted((name, note["row"]) for name, sheet in manifest["sheets"].items()
                      for note in sheet["notes"] if note["rejected"])
    out = tmp_path / "form.csv"
    assert main(["eligibility", str(form), "-o", str(out)]) == 3
    skipped = sum(1 for sheet in manifest["sheets"].values() for n in sheet["notes"]
                  if n.get("skipped"))
    assert skipped == 3  # two 合计 rows and a blank row: not records, but counted
    rejected = len(expected)
    decided = orders - rejected
    err = capsys.readouterr().err
    assert (f"rows in: {decided + rejected + skipped}  decided: {decided}  rejected: {rejected}  "
            f"skipped: {skipped}") in err
    assert "registration-form.xlsx#第1周 3.24-3.30: account_id ← 宽带账号, plan ← 套餐" in err
    bad = read_csv(tmp_path / "form.rejects.csv")
    assert sorted((r["source"].split("#", 1)[1], int(r["source_row"])) for r in bad) == expected
    rows = read_csv(out)
    assert all(r["accepted_on"].startswith("2025-") for r in rows)
    assert any(r["account_id"].startswith("0") for r in rows)


def test_jsonl_stdin_to_stdout(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps({"account_id": f"J{i}", "plan": plan, "product": "brand",
                                  "community": "none", "new_install": False, "has_itv": False,
                                  "line_ready": True, "accepted_on": "2025-04-01"})
                      for i, plan in enumerate(("e8-68", "e8-58", "x-1")))
    result = subprocess.run(
        [sys.executable, "-m", "itvrules", "eligibility", "-", "--format", "jsonl", "-o", "-",
         "--rejects", str(tmp_path / "r.csv")],
        input=(lines + "\nnot json\n").encode("utf-8"), capture_output=True, timeout=120, check=False)
    assert result.returncode == 3, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    assert [r["reason"] for r in rows] == ["legacy_plan", "plan_below_threshold", "unknown_plan"]
    assert "rows in: 4  decided: 3  rejected: 1" in result.stderr.decode("utf-8")


def test_a_feed_without_subscriber_columns_is_status_1(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "enrolments.csv"
    feed.write_text("account_id,product,accepted_on\nA1,brand,2025-04-01\n", encoding="utf-8")
    assert main(["eligibility", str(feed), "-o", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert "missing required column(s)" in err
    for column in ("plan", "community", "new_install", "has_itv", "line_ready"):
        assert column in err


def test_a_rerun_with_no_rejects_replaces_the_earlier_rejects_with_a_header(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed, out = tmp_path / "feed.csv", tmp_path / "targets.csv"
    feed.write_text(FEED + "2025-04-06,0007,e8-68,融合,未提速,否,否,是,\n", encoding="utf-8")
    assert main(["eligibility", str(feed), "-o", str(out)]) == 3
    rejects = tmp_path / "targets.rejects.csv"
    assert [r["source_row"] for r in read_csv(rejects)] == ["8"]
    feed.write_text(FEED, encoding="utf-8")
    assert main(["eligibility", str(feed), "-o", str(out)]) == 0
    assert read_csv(rejects) == []
    assert rejects.read_text(encoding="utf-8-sig").startswith("source,source_row,field,error")
