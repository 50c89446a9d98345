"""Every human-facing output of the command line reads as words, never as a Python repr.

The commands run on the bundled demo and on feeds built to hold every kind of
bad cell (JSON lists and objects, Excel numbers, booleans and timestamps,
Parquet decimals and timestamps): their stdout, stderr, reject reasons and
work-order cells must not contain ``datetime.date(...)``, ``Decimal('...')``,
``Name(field=...``, ``['...']`` or ``{'...``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter  # type: ignore[import-untyped]

from itvrules.cli import main
from paths import ROOT
from words import REPR, repr_found

POLICY = ROOT / "rulesets" / "itv-trial.yaml"
FORM_HEADERS = ["宽带账号", "产品类型", "受理日期", "竣工日期", "是否退单", "退单原因", "拆机申请日期",
                "拆机生效日期", "转换套餐"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def said(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    return out + err


def assert_words(text: str, what: str) -> None:
    assert text.strip(), f"{what}: printed nothing, so nothing was checked"
    found = repr_found(text)
    assert not found, f"{what} prints Python reprs:\n" + "\n".join(found)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    yield out


@pytest.fixture(scope="module")
def bad_feeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One feed a format, each with rows whose bad cells are not text."""
    folder = tmp_path_factory.mktemp("bad")
    jsonl = folder / "bad.jsonl"
    rows = [
        {"account_id": "J1", "product": "brand", "accepted_on": "2025-03-25", "completed_on": "2025-03-31"},
        {"account_id": "J2", "product": ["brand"], "accepted_on": "2025-03-25"},
        {"account_id": "J3", "product": "brand", "accepted_on": {"y": 2025}},
        {"account_id": "J4", "product": "brand", "accepted_on": True},
        {"account_id": "J5", "product": "brand", "accepted_on": "2025-03-25", "returned": 2.5},
        {"account_id": "J6", "product": "brand", "accepted_on": "2025-03-25", "completed_on": "2025-03-20"},
        {"account_id": {"id": 7}, "product": "brand", "accepted_on": "2025-03-25"},
    ]
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n[1, 2]\n",
                     encoding="utf-8")
    xlsx = folder / "bad.xlsx"
    book = xlsxwriter.Workbook(str(xlsx))
    sheet = book.add_worksheet("s")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, FORM_HEADERS)
    cells: list[list[object]] = [
        ["X1", "品牌", datetime(2025, 3, 25), datetime(2025, 3, 20)],
        [1.5, "品牌", datetime(2025, 3, 25)],
        ["X3", "品牌", datetime(2025, 3, 25, 10, 30), None, 7],
        ["X4", "品牌", True],
        ["X5", "品牌", datetime(2025, 3, 25), None, None, None, None, None, 12.25],
        ["X6", "品牌", datetime(2025, 3, 25), None, None, None, datetime(2025, 5, 1), datetime(2025, 4, 1)],
    ]
    for r, values in enumerate(cells, 1):
        for c, value in enumerate(values):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, day)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = folder / "bad.parquet"
    pq.write_table(pa.table({
        "account_id": ["P1", "P2", "P3"],
        "product": ["brand", "brand", "brand"],
        "accepted_on": pa.array([date(2025, 3, 25), date(2025, 3, 25), date(2025, 3, 1)]),
        "completed_on": pa.array([date(2025, 3, 20), None, None]),
        "cancel_requested_on": pa.array([None, datetime(2025, 5, 1, 12), None], pa.timestamp("s")),
        "cancel_effective_on": pa.array([None, datetime(2025, 4, 1, 12), None], pa.timestamp("s")),
        "switched_to": pa.array([None, None, Decimal("1.50")], pa.decimal128(5, 2)),
    }), parquet)
    return {"jsonl": jsonl, "xlsx": xlsx, "parquet": parquet}


def test_the_pattern_finds_what_it_is_for() -> None:
    for text in ("got datetime.date(2025, 4, 20)", "Decimal('35.00')", "FeeDecision(account_id='A'",
                 "(got ['完工日期'])", "{'when': 'x'}", "datetime.datetime(2025, 1, 1, 0, 0)"):
        assert REPR.search(text), text
    for text in ("got 2025-04-20", "gross = 35.00", "(got '完工日期')", "when: a -> b",
                 "--column 完工日期=completed_on", "fit=stb, take_back=ordinary"):
        assert not REPR.search(text), text


def test_explain_speaks_in_words(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = str(demo / "crm-feed.csv")
    assert main(["explain", "--account", "8410950407", feed, "--month", "2025-08"]) == 0
    text = said(capsys)
    assert_words(text, "explain (fees)")
    assert "  gross = 35.00\n" in text and "  follow_up = false\n" in text
    assert main(["explain", "--account", "8410950407", feed]) == 0
    text = said(capsys)
    assert_words(text, "explain (eligibility)")
    assert "community in ('upgraded', 'upgrading')" in text and "  eligible = true\n" in text


def test_policy_diff_between_two_versions_speaks_in_words(demo: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = POLICY.read_text(encoding="utf-8")
    edits = [('version: "2025.1"', 'version: "2025.2"'), ("  trial_months: 3 ", "  trial_months: 4 "),
             ("  first_day: 2025-03-20", "  first_day: 2025-03-21"),
             ("when: {returned: true}", "when: {returned: true, completed: false}"),
             ("  - id: fee.switched\n", "  - id: fee.switched_to_another\n"),
             ('      brand: "20.00"', '      brand: "22.00"')]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    new_policy = tmp_path / "new.yaml"
    new_policy.write_text(text, encoding="utf-8")
    assert main(["policy", "diff", str(POLICY), str(new_policy), "--feed", str(demo / "crm-feed.csv"),
                 "--month", "2025-06"]) == 0
    out = said(capsys)
    assert_words(out, "policy diff")
    assert "~ parameter trial_months changed: 3 -> 4" in out
    assert "~ campaign first_day changed: 2025-03-20 -> 2025-03-21" in out
    assert "~ fees rule fee.not_installed changed: when: returned == true -> returned == true and " \
           "completed == false" in out
    assert "~ package basic changed: brand: 20.00 -> 22.00\n" in out  # only what changed
    assert "+ fees rule fee.switched_to_another: when: switched == true; then: code=switched" in out


def test_policy_lint_and_a_broken_policy_speak_in_words(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "lint", "--verbose"]) == 0
    text = said(capsys)
    assert_words(text, "policy lint")
    assert "witness: accepted_on=2025-03-19, line_ready=false" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(POLICY.read_text(encoding="utf-8").replace("  install_days: 7 ",
                                                                 "  install_days: {days: 7} "),
                      encoding="utf-8")
    assert main(["policy", "validate", str(broken)]) == 1
    assert_words(said(capsys), "policy validate")


@pytest.mark.parametrize("backend", ["rows", "columnar"])
@pytest.mark.parametrize("kind", ["jsonl", "xlsx", "parquet"])
def test_bill_rejects_say_what_they_found_in_words(bad_feeds: dict[str, Path], tmp_path: Path, kind: str,
                                                   backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    rejects = tmp_path / "rejects.csv"
    status = main(["bill", "2025-06", str(bad_feeds[kind]), "-o", str(tmp_path / "bill.csv"),
                   "--rejects", str(rejects), "--backend", backend])
    assert status == 3
    assert_words(said(capsys), f"bill of a bad {kind} feed")
    reasons = [row["error"] for row in read_csv(rejects)]
    assert len(reasons) >= 3
    assert_words("\n".join(reasons), f"the rejects of a bad {kind} feed")
    assert not any("datetime" in r or "Decimal" in r or "True" in r for r in reasons), reasons


def test_json_and_excel_cells_are_put_into_words(bad_feeds: dict[str, Path], tmp_path: Path) -> None:
    found = {}
    for kind in ("jsonl", "xlsx"):
        rejects = tmp_path / f"{kind}.rejects.csv"
        assert main(["bill", "2025-06", str(bad_feeds[kind]), "-o", str(tmp_path / f"{kind}.csv"),
                     "--rejects", str(rejects)]) == 3
        found.update({(kind, int(row["source_row"])): row["error"] for row in read_csv(rejects)})
    assert found["jsonl", 2] == "expected text, not a list; got 'brand'"
    assert found["jsonl", 3] == 'expected a date, not an object; got {"y": 2025}'
    assert found["jsonl", 4] == "expected a date, not true/false; got true"
    assert found["jsonl", 6] == "completion is before acceptance (2025-03-25); got 2025-03-20"
    assert found["jsonl", 8] == "expected a JSON object, not an array"
    assert found["xlsx", 3] == "expected text, not a number (column '宽带账号'); got 1.5"
    assert found["xlsx", 4].endswith("(column '是否退单'); got 7")  # a 7 typed in Excel, not 7.0


def test_eligibility_and_ingest_speak_in_words(bad_feeds: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rejects = tmp_path / "rejects.csv"
    assert main(["eligibility", str(bad_feeds["jsonl"]), "-o", str(tmp_path / "out.csv"),
                 "--rejects", str(rejects)]) == 3
    assert_words(said(capsys) + "\n".join(r["error"] for r in read_csv(rejects)), "eligibility")
    assert main(["ingest", str(bad_feeds["jsonl"]), str(bad_feeds["xlsx"]), "--db", str(tmp_path / "l.db"),
                 "--as-of", "2025-07-01", "--rejects", str(rejects)]) == 3
    assert_words(said(capsys) + "\n".join(r["error"] for r in read_csv(rejects)), "ingest")


def test_a_header_that_resembles_a_known_one_is_named_once(demo: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "renamed.csv"
    text = (demo / "crm-feed.csv").read_bytes().decode("gb18030")
    feed.write_text(text.replace("竣工日期", "完工日期", 1), encoding="utf-8")
    assert main(["bill", "2025-08", str(feed), "-o", str(tmp_path / "bill.csv")]) == 1
    err = said(capsys)
    assert_words(err, "a near-miss header")
    assert "column '完工日期' is not a known name but resembles completed_on (竣工日期)" in err
    assert "(got" not in err  # the message names the header already


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_workorders_speak_in_words_and_columns(demo: Path, tmp_path: Path, suffix: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"orders{suffix}"
    assert main(["workorders", "--db", str(demo / "ledger.db"), "--as-of", "2025-10-31",
                 "-o", str(out)]) == 0
    assert_words(said(capsys), "workorders")
    if suffix == ".csv":
        rows = read_csv(out)
        cells = [cell for row in rows for cell in row.values()]
    else:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        cells = [cell for row in rows for cell in row.values() if isinstance(cell, str)]
        assert not any(isinstance(c, (dict, list)) for row in rows for c in row.values())
    assert rows and "details" not in rows[0]
    assert not any(cell.startswith(("{", "[")) for cell in cells)
    assert_words("\n".join(cells), "work-order cells")
