"""``itvrules bill``: statuses 0/1/2/3, stdin and stdout, encodings, engines, progress."""

from __future__ import annotations

import csv
import functools
import io
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from itvrules.cli import _progress, main

SAMPLE = resources.files("itvrules") / "sample_data"
HEADER = "account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on," \
         "cancel_effective_on,switched_to\n"
CLEAN = HEADER + (
    "A001,brand,2025-03-25,2025-03-31,,,,,\n"          # trial Mar-May: June is paid
    "0002,annual,2025-04-02,2025-04-03,,,,,basic\n"     # trial Apr-Jun: June is free
    "A003,brand,2025-04-02,,true,线路不具备,,,\n"        # returned
    "A004,brand,2025-03-25,2025-03-28,,,2025-05-30,,\n"  # late cancellation: June waived
)
BAD = CLEAN + (
    "A005,brand,2025-02-30,,,,,,\n"                      # not a date
    "A006,brand,2025-04-06,2025-03-30,,,,,\n"            # completion before acceptance
)


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def clean_feed(tmp_path: Path) -> Path:
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    return path


@pytest.fixture
def bad_feed(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_every_row_decided_is_status_0(clean_feed: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-06", str(clean_feed), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "rows in: 4  decided: 4  rejected: 0" in err
    assert f"output: {out}" in err
    assert f"rejects: {tmp_path / 'bill.rejects.csv'}" in err  # written every run, header only here
    rows = {r["account_id"]: r for r in read_csv(out)}
    assert rows["A001"]["code"] == "default_paid"
    assert (rows["A001"]["amount"], rows["A001"]["amount_fen"]) == ("35.00", "3500")
    assert rows["0002"]["code"] == "trial"  # the leading zero survives
    trial = rows["0002"]
    assert (trial["gross"], trial["waived"], trial["amount"]) == ("35.00", "35.00", "0.00")
    assert rows["A003"]["code"] == "not_installed"
    assert rows["A004"]["code"] == "late_cancel_waiver"
    assert all(r["billing_month"] == "2025-06" for r in rows.values())
    # nothing rejected: the rejects file holds its header only, so no earlier run's rejects stay
    assert (tmp_path / "bill.rejects.csv").read_text(encoding="utf-8-sig").splitlines() == \
        ["source,source_row,field,error,account_id,product,accepted_on,completed_on,returned,"
         "return_reason,cancel_requested_on,cancel_effective_on,switched_to"]


def test_rejected_rows_are_status_3_and_both_files_are_written(
        bad_feed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, rejects = tmp_path / "bill.csv", tmp_path / "bad-rows.csv"
    assert main(["bill", "2025-06", str(bad_feed), "-o", str(out), "--rejects", str(rejects)]) == 3
    err = capsys.readouterr().err
    assert "rows in: 6  decided: 4  rejected: 2" in err
    assert f"rejects: {rejects}" in err
    assert len(read_csv(out)) == 4
    bad = read_csv(rejects)
    assert [(r["source_row"], r["field"]) for r in bad] == [("6", "accepted_on"), ("7", "completed_on")]
    assert all(r["source"] == "bad.csv" for r in bad)


def test_rejects_go_beside_the_output_by_default(bad_feed: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-06", str(bad_feed), "-o", str(out)]) == 3
    assert f"rejects: {tmp_path / 'bill.rejects.csv'}" in capsys.readouterr().err
    assert len(read_csv(tmp_path / "bill.rejects.csv")) == 2


def test_the_sample_feed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GB18030 with Chinese headers: every row is decided or rejected, none lost."""
    feed = tmp_path / "crm-feed.csv"
    feed.write_bytes((SAMPLE / "crm-feed.csv").read_bytes())
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))["crm-feed.csv"]
    expected = sorted(b["row"] for b in manifest["bad_rows"] if "bill" in b["rejected_by"])
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-08", str(feed), "-o", str(out)]) == 3
    total = manifest["data_rows"]
    assert (f"rows in: {total}  decided: {total - len(expected)}  rejected: {len(expected)}"
            in capsys.readouterr().err)
    assert sorted(int(r["source_row"]) for r in read_csv(tmp_path / "bill.rejects.csv")) == expected
    assert {r["code"] for r in read_csv(out)} == {
        "not_installed", "not_started", "cancelled", "trial", "late_cancel_waiver",
        "cancellation_overdue", "switched", "default_paid"}


def test_stdin_to_stdout_in_a_subprocess(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = subprocess.run(
        [sys.executable, "-m", "itvrules", "bill", "2025-06", "-", "-o", "-", "--out-format", "jsonl",
         "--rejects", str(rejects)],
        input=BAD.encode("utf-8"), capture_output=True, timeout=120, check=False)
    assert result.returncode == 3, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [line["account_id"] for line in lines] == ["A001", "0002", "A003", "A004"]
    assert lines[0]["amount"] == "35.00"
    assert "rows in: 6  decided: 4  rejected: 2" in result.stderr.decode("utf-8")
    assert "output: stdout" in result.stderr.decode("utf-8")
    assert {r["source"] for r in read_csv(rejects)} == {"<stdin>"}


def test_stdin_and_stdout_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(CLEAN.encode("utf-8")), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    status = main(["bill", "2025-06", "-", "-o", "-", "--rejects", str(tmp_path / "r.csv")])
    assert status == 0
    buffer = stdout.buffer
    assert isinstance(buffer, io.BytesIO)
    written = buffer.getvalue().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(written)))
    assert [r["code"] for r in rows] == ["default_paid", "trial", "not_installed", "late_cancel_waiver"]


def test_stdout_without_a_rejects_file_is_a_usage_error(clean_feed: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-06", str(clean_feed), "-o", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("itvrules: error: ")
    assert "--rejects" in err


def test_an_unknown_output_extension_is_a_usage_error(clean_feed: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-06", str(clean_feed), "-o", str(tmp_path / "bill.pdf")]) == 2
    assert "no output format" in capsys.readouterr().err


def test_a_missing_feed_is_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-06", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "b.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("itvrules: error: ")
    assert "nope.csv" in err and "no such file" in err
    assert "Traceback" not in err
    assert not (tmp_path / "b.csv").exists()


def test_a_feed_missing_required_columns_is_status_1(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "thin.csv"
    feed.write_text("宽带账号,套餐\n0001,e8-68\n", encoding="utf-8")
    assert main(["bill", "2025-06", str(feed), "-o", str(tmp_path / "b.csv")]) == 1
    err = capsys.readouterr().err
    assert "missing required column(s)" in err
    assert "product" in err and "accepted_on" in err
    assert len(err.strip().splitlines()) == 1


def test_an_undecodable_feed_is_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "binary.csv"
    feed.write_bytes(HEADER.encode() + b"\x80\x81\xff\xfe\x00garbage\n")
    assert main(["bill", "2025-06", str(feed), "-o", str(tmp_path / "b.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("itvrules: error: ") and "binary.csv" in err


def test_a_broken_policy_is_status_1(clean_feed: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("id: x\nversion: 1\n", encoding="utf-8")
    assert main(["bill", "2025-06", str(clean_feed), "-o", str(tmp_path / "b.csv"),
                 "--policy", str(policy)]) == 1
    assert "problem(s) in the policy file" in capsys.readouterr().err


def test_gb18030_output(clean_feed: Path, tmp_path: Path) -> None:
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-06", str(clean_feed), "-o", str(out), "--out-encoding", "GB18030"]) == 0
    data = out.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("gb18030"))))
    assert rows[0]["clause"] == "§四(二)2"


@pytest.mark.durable
def test_both_engines_write_the_same_export(bad_feed: Path, tmp_path: Path) -> None:
    outputs = {}
    for engine in ("compiled", "durable"):
        out = tmp_path / f"{engine}.csv"
        assert main(["bill", "2025-06", str(bad_feed), "-o", str(out), "--engine", engine]) == 3
        outputs[engine] = read_csv(out)
    assert outputs["compiled"] == outputs["durable"]


def test_several_feeds_in_one_run(clean_feed: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"account_id": "B001", "product": "brand", "accepted_on": "2025-05-01",
                                 "completed_on": "2025-05-02"}) + "\n", encoding="utf-8")
    out = tmp_path / "bill.jsonl"
    assert main(["bill", "2025-06", str(clean_feed), str(other), "-o", str(out)]) == 0
    assert "rows in: 5  decided: 5  rejected: 0" in capsys.readouterr().err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(x["source"], x["account_id"]) for x in lines][-1] == ("other.jsonl", "B001")


def test_no_progress_line_when_stderr_is_not_a_terminal(bad_feed: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-06", str(bad_feed), "-o", str(tmp_path / "b.csv")]) == 3
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal(bad_feed: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    # no half-second grace and no throttle, so the short run draws its final count
    monkeypatch.setattr(_progress, "ProgressLine", functools.partial(_progress.ProgressLine,
                                                           delay=0.0, interval=0.0))
    assert main(["bill", "2025-06", str(bad_feed), "-o", str(tmp_path / "b.csv")]) == 3
    shown = terminal.getvalue()
    assert "\r6 rows" in shown
    line_end = shown.index("bad.csv: account_id ← account_id")  # the summary's first line
    assert shown[:line_end].rsplit("\r", 2)[1].strip() == ""  # erased before the summary
    assert shown[:line_end].endswith("\r")
    assert shown.index("rows in: 6") > line_end
    terminal.truncate(0)
    terminal.seek(0)
    assert main(["bill", "2025-06", str(bad_feed), "-o", str(tmp_path / "c.csv"), "--no-progress"]) == 3
    assert "\r" not in terminal.getvalue()


def test_a_rerun_with_no_rejects_leaves_no_earlier_rejects_beside_the_export(
        bad_feed: Path, clean_feed: Path, tmp_path: Path) -> None:
    """Every run writes its rejects file, its header only when nothing was rejected, so the
    folder of an export never shows the rejects of an earlier run beside it (all backends)."""
    for backend in ("rows", "columnar"):
        out = tmp_path / f"bill-{backend}.csv"
        assert main(["bill", "2025-06", str(bad_feed), "-o", str(out), "--backend", backend]) == 3
        rejects = out.with_name(f"bill-{backend}.rejects.csv")
        assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) > 1
        assert main(["bill", "2025-06", str(clean_feed), "-o", str(out), "--backend", backend]) == 0
        assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 1


@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_jsonl_stdin_to_csv_stdout(backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Standard output takes the export as it is decided, no part file; the rejects go to the
    file --rejects names."""
    lines = [json.dumps({"account_id": "A001", "product": "brand", "accepted_on": "2025-03-25",
                         "completed_on": "2025-03-31"}),
             json.dumps({"account_id": "A005", "product": "brand", "accepted_on": "2025-02-30"})]
    stdin = io.TextIOWrapper(io.BytesIO("\n".join(lines).encode("utf-8")), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    rejects = tmp_path / "rejects.csv"
    assert main(["bill", "2025-06", "-", "--format", "jsonl", "-o", "-", "--rejects", str(rejects),
                 "--backend", backend]) == 3
    buffer = stdout.buffer
    assert isinstance(buffer, io.BytesIO)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert [(r["account_id"], r["code"], r["source"]) for r in rows] == [
        ("A001", "default_paid", "<stdin>")]
    assert [(r["source_row"], r["field"]) for r in read_csv(rejects)] == [("2", "accepted_on")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.csv"]


@pytest.mark.parametrize(("month", "why"), [
    ("0000-07", "the year 0000 is outside 1900..2999"),
    ("1899-12", "the year 1899 is outside 1900..2999"),
    ("9999-12", "the year 9999 is outside 1900..2999"),
    ("2025-7", "write YYYY-MM, e.g. 2025-07"),
])
def test_a_billing_month_outside_the_contracts_years_is_a_usage_error(
        month: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = str(SAMPLE / "crm-feed.csv")
    assert main(["bill", month, feed, "-o", str(tmp_path / "bill.csv")]) == 2
    err = capsys.readouterr().err
    assert f"argument MONTH: '{month}' is not a billing month: {why}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "bill.csv").exists()


@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_a_date_outside_the_contracts_years_rejects_its_row_and_the_others_are_decided(
        backend: str, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("account_id,product,accepted_on,completed_on,cancel_requested_on,"
                    "cancel_effective_on\n"
                    "A1,brand,2025-04-01,2025-04-02,,\n"
                    "A2,brand,0000-04-01,2025-04-02,,\n"
                    "A3,brand,2025-04-01,2025-04-02,,9999-01-01\n", encoding="utf-8")
    assert main(["bill", "2025-07", str(feed), "-o", str(tmp_path / "bill.csv"), "-q",
                 "--backend", backend, "--rejects", str(tmp_path / "rejects.csv")]) == 3
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        rejects = [(r["source_row"], r["field"], r["error"]) for r in csv.DictReader(handle)]
    assert rejects == [
        ("3", "accepted_on", "the year 0000 is outside 1900..2999; got '0000-04-01'"),
        ("4", "cancel_effective_on", "the year 9999 is outside 1900..2999; got '9999-01-01'")]
    with (tmp_path / "bill.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert [r["account_id"] for r in csv.DictReader(handle)] == ["A1"]
