"""The columnar bill path gives the row path's bytes, rejects and counts (``run_bill(backend=...)``).

Every feed here is billed twice, ``backend="rows"`` and ``backend="columnar"``,
and the two runs must agree byte for byte: the export, the rejects file and
the three counts, or the same error when a feed cannot be read at all.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pluggy
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itvrules_adapters import _csv_bulk as _csv
from itvrules_adapters._lines import CsvLines as CsvExport
from itvrules_adapters._lines import JsonlLines as JsonlExport
from itvrules_adapters.csv_io import CsvWriter
from itvrules_adapters.jsonl_io import JsonlWriter

import itvrules
from itvrules import InputError, UsageError, hookimpl
from itvrules.cli import main
from itvrules.model._parse import WHITESPACE
from itvrules.runs._bulk_text import _raw_rows
from itvrules.runs._common import record_tail
from itvrules.runs._pipeline import record_id, run_bill
from itvrules.runs._plugins import plugin_manager
from itvrules.runs._record_ids import BACKGROUND_MIN_ROWS, RecordIds
from itvrules.runs._rows import CHINESE
from paths import FEEDS

SAMPLE = resources.files("itvrules") / "sample_data" / "crm-feed.csv"
POLICY = itvrules.load_policy()
#: Enough examples to mix every kind of cell, few enough to keep the suite quick.
EXAMPLES = max(25, settings.default.max_examples // 4)


def _pm() -> pluggy.PluginManager:
    return plugin_manager(autoload=False)


def bill_both(month: str, feeds: Sequence[str | Path], folder: Path, *, ext: str = "csv",
              **options: Any) -> dict[str, Any]:
    """Bill ``feeds`` with both backends; return what the two runs made, after checking it is equal."""
    results: dict[str, Any] = {}
    for backend in ("rows", "columnar"):
        out = folder / f"{backend}.{ext}"
        rejects = folder / f"{backend}.rejects.csv"
        summary = run_bill(POLICY, month, [str(f) for f in feeds], str(out), rejects=str(rejects),
                           backend=backend, pm=_pm(), **options)
        results[backend] = ((summary.rows_in, summary.decided, summary.rejected, summary.skipped),
                            out.read_bytes(), rejects.read_bytes(), summary.headers)
        assert summary.rows_in == summary.decided + summary.rejected + summary.skipped
    assert results["columnar"][0] == results["rows"][0]
    assert results["columnar"][1] == results["rows"][1]
    assert results["columnar"][2] == results["rows"][2]
    assert results["columnar"][3] == results["rows"][3]  # the same header maps
    return results


def error_both(month: str, feeds: Sequence[str | Path], folder: Path) -> str:
    """The error both backends stop with (the same one), leaving no export behind."""
    messages = []
    for backend in ("rows", "columnar"):
        out = folder / f"{backend}.csv"
        with pytest.raises(InputError) as caught:
            run_bill(POLICY, month, [str(f) for f in feeds], str(out), backend=backend, pm=_pm())
        assert not out.exists()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    return messages[0]


# -- the shipped and checked-in feeds ---------------------------------------------------------------
@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_the_sample_feed(tmp_path: Path, ext: str) -> None:
    """GB18030, Chinese headers, quoted cells and deliberate bad rows of every kind."""
    feed = tmp_path / "crm-feed.csv"
    feed.write_bytes(SAMPLE.read_bytes())
    results = bill_both("2025-08", [feed], tmp_path, ext=ext)
    counts = results["rows"][0]
    assert counts[0] == counts[1] + counts[2] + counts[3] and counts[2] > 5


def test_the_sample_feed_in_gb18030(tmp_path: Path) -> None:
    feed = tmp_path / "crm-feed.csv"
    feed.write_bytes(SAMPLE.read_bytes())
    results = bill_both("2025-07", [feed], tmp_path, out_encoding="gb18030")
    assert "宽带账号".encode("gb18030") not in results["rows"][1]  # an export: English columns
    assert "§".encode("gb18030") in results["rows"][1]


def test_the_test_feeds_in_one_run(tmp_path: Path) -> None:
    """JSONL, CSV with bad rows and Chinese GB18030 together: duplicates are looked for across feeds."""
    feeds = [FEEDS / "bill.jsonl", FEEDS / "bill_bad_rows.csv", FEEDS / "bill_zh_gb18030.csv",
             tmp_path / "again.csv"]
    (tmp_path / "again.csv").write_bytes((FEEDS / "bill_bad_rows.csv").read_bytes())
    results = bill_both("2025-07", feeds, tmp_path)
    assert b"an earlier row of this run has the same account" in results["rows"][2]
    bill_both("2025-07", feeds, tmp_path, ext="jsonl")


def test_a_large_feed_crosses_batches_and_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small pieces and batches: a quoted cell half way switches the reader, duplicates span batches."""
    monkeypatch.setattr(_csv, "PIECE_BYTES", 300)
    monkeypatch.setattr(_csv, "BATCH_ROWS", 7)
    monkeypatch.setattr(_raw_rows, "BATCH_ROWS", 7)
    lines = ["account_id,product,accepted_on,completed_on,returned,return_reason,switched_to,"
             "cancel_requested_on,cancel_effective_on"]
    for i in range(120):
        account = f"{i % 97:05d}"  # 23 duplicates, far from their first rows
        reason = '"线路不具备,撤单"' if i == 80 else "线路不具备"
        returned = "true" if i % 11 == 0 else ""
        lines.append(f"{account},brand,2025-04-{1 + i % 28:02d},{'' if returned else '2025-05-02'},"
                     f"{returned},{reason if returned or i == 80 else ''},{'hd' if i % 13 == 0 else ''},,")
        if i % 17 == 0:
            lines.append("")
            lines.append(" , ,")
    feed = tmp_path / "feed.csv"
    feed.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    results = bill_both("2025-07", [feed], tmp_path)
    assert results["rows"][0] == (136, 97, 23, 16)  # 16 blank lines: skipped and counted
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text("\n".join(json.dumps(dict(zip(lines[0].split(","), line.split(","), strict=False)),
                                          ensure_ascii=False) for line in lines[1:] if line.strip(" ,"))
                     + "\n", encoding="utf-8")
    bill_both("2025-07", [jsonl, feed], tmp_path, ext="jsonl")


@pytest.mark.parametrize("refused", ["A001", "A008", "A010"])
def test_a_row_the_engine_refuses_is_rejected_in_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          refused: str) -> None:
    """A decision the engine refuses is that row's reject, in reading order; the rest are billed."""
    real: Any = POLICY._fee_outcome

    def refuse(run: Any, key: Any, month: int, enrollment: Any) -> Any:
        if enrollment.account_id == refused:
            raise InputError("completed_on", None, "refused for the test")
        return real(run, key, month, enrollment)

    monkeypatch.setattr(POLICY, "_fee_outcome", refuse)
    results = bill_both("2025-07", [FEEDS / "bill_bad_rows.csv"], tmp_path)
    assert b"refused for the test" in results["rows"][2]


def test_stdin_is_read_as_a_feed(tmp_path: Path) -> None:
    data = (FEEDS / "bill_bad_rows.csv").read_bytes()
    outputs = []
    for backend in ("rows", "columnar"):
        out = tmp_path / f"{backend}.csv"
        run_bill(POLICY, "2025-07", ["-"], str(out), rejects=str(tmp_path / f"{backend}.r.csv"),
                 backend=backend, pm=_pm(), stdin=io.BytesIO(data))
        outputs.append((out.read_bytes(), (tmp_path / f"{backend}.r.csv").read_bytes()))
    assert outputs[0] == outputs[1]
    assert b"<stdin>" in outputs[0][0]


# -- files that cannot be read ----------------------------------------------------------------------------
@pytest.mark.parametrize("content", [
    b"",
    b"\n\n , \n",
    b"account_id,product\nA1,brand\n",
    "宽带账号,产品类型,受理日期,宽带帐号\nA1,品牌,2025-04-01,A2\n".encode(),
    b"account_id,product,accepted_on,product\n",
])
def test_unreadable_files_stop_both_alike(tmp_path: Path, content: bytes) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_bytes(content)
    error_both("2025-07", [FEEDS / "bill_bad_rows.csv", feed], tmp_path)


def test_a_file_in_neither_encoding_stops_both_alike(tmp_path: Path) -> None:
    assert "shift_jis.csv" in error_both("2025-07", [FEEDS / "shift_jis.csv"], tmp_path)


def test_rows_with_blank_cells_past_the_header_are_billed(tmp_path: Path) -> None:
    """Trailing blank cells make a row irregular to the bulk reader; the row path still bills it."""
    feed = tmp_path / "feed.csv"
    feed.write_text("account_id,product,accepted_on,completed_on,cancel_requested_on,cancel_effective_on\n"
                    "A1,brand,2025-03-25,,,,, \n", encoding="utf-8")
    assert bill_both("2025-07", [feed], tmp_path)["rows"][0] == (1, 1, 0, 0)


def test_a_header_only_file_is_no_error(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("account_id,product\n", encoding="utf-8")  # required columns missing, but no rows
    assert bill_both("2025-07", [feed], tmp_path)["rows"][0] == (0, 0, 0, 0)


# -- generated feeds ------------------------------------------------------------------------------------
#: Cells the row path accepts, in the spellings feeds use (English, Chinese, odd case, padding).
GOOD: dict[str, list[str]] = {
    "account_id": ["A001", "A002", "A003", "0007", "A008", " A009 ", "Ａ００１", "=1+2", "-5", "a,b",
                   'q"x', "账号一"],
    "product": ["brand", "annual", "single_monthly", "品牌", "包年", "单宽月租", "BRAND", " annual ",
                "ｂｒａｎｄ"],
    "accepted_on": ["2025-03-25", "2025/4/2", "20250410", "2025.4.1", "2025年4月3日", " 2025-04-05 ",
                    "2025-4-6", "２０２５-04-01"],
    "completed_on": ["", "", "2025-03-31", "2025-04-20", "2025/5/1", "2025-04-03", "2025-04-04"],
    "returned": ["", "", "", "false", "否", "n", " 0 ", "true", "是", "Y", "TRUE"],
    "return_reason": ["", "线路不具备", "用户取消"],
    "cancel_requested_on": ["", "", "", "2025-05-10", "2025-04-02", "2025-06-30"],
    "cancel_effective_on": ["", "", "", "2025-05-20", "2025-05-01", "2025-07-31"],
    "switched_to": ["", "", "", "basic", "hd", "HD", " hd ", "iTV 全能包", "quanneng", "Ｈｄ"],
    "prior_modem": ["", "e8b", "普通猫", "E8-B", "none", "无"],
    "channel": ["", "客服中心", "=HYPERLINK()", "a,b"],
    "contact_phone": ["", "13800000000", "１３８"],
}
#: Cells it rejects, or that only a careful reader accepts (blank-looking, full-width, control characters).
ODD: dict[str, list[str]] = {
    "account_id": ["", "  ", "A\u3000004", "\x1fA5", "\u3000"],
    "product": ["", "gold", "brand\u3000", "\u3000"],
    "accepted_on": ["", "2025-02-30", "soon", "0000-01-01", "2025-13-01", "\u3000"],
    "completed_on": ["bad", "\u3000", "2025-03-01", "2025-13-40"],
    "returned": ["maybe", "\u3000", "\x1c"],
    "return_reason": ["  ", "\u3000", "\x1c", "\x1f"],
    "cancel_requested_on": ["2025-03-01", "x", "\u3000"],
    "cancel_effective_on": ["x", "2025-03-02", "2025-04-01"],
    "switched_to": ["gold", "\u3000", "\x1d"],
    "prior_modem": ["modem", "\u3000"],
    "channel": ["\u3000"],
    "contact_phone": ["\u3000"],
}


def _cell(field: str) -> st.SearchStrategy[str]:
    """Mostly a good cell, sometimes an odd one, now and then any text at all."""
    return st.integers(0, 15).flatmap(
        lambda k: st.text(max_size=4) if k == 0 else st.sampled_from(ODD[field] if k == 1 else GOOD[field]))


@st.composite
def feeds(draw: st.DrawFn) -> tuple[list[str], list[list[str]], bool]:
    """A header (English or Chinese names, any order, optional columns left out) and its rows."""
    chinese = draw(st.booleans())
    optional = [f for f in GOOD if f not in ("account_id", "product", "accepted_on")]
    fields = ["account_id", "product", "accepted_on",
              *draw(st.lists(st.sampled_from(optional), unique=True)), "remark"]
    fields = draw(st.permutations(fields))
    header = [CHINESE.get(f, "备注") if chinese else f for f in fields]
    cell = {f: _cell(f) for f in GOOD}
    cell["remark"] = st.text(max_size=6)
    rows = []
    for _ in range(draw(st.integers(1, 25))):
        row = [draw(cell[f]) for f in fields]
        shape = draw(st.integers(0, 30))
        if shape == 0:
            row = row[:-2]  # a short row
        elif shape == 1:
            row = [*row, "", " "]  # trailing blank cells
        elif shape == 2:
            row = [*row, "extra"]  # a long row
        elif shape == 3:
            row = ["" for _ in row]  # a blank row
        rows.append(row)
    return header, rows, chinese


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str, newline: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _writable(rows: list[list[str]], encoding: str) -> bool:
    try:
        for row in rows:
            "".join(row).encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=EXAMPLES)
@given(feed=feeds(), more=feeds(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       newline=st.sampled_from(["\n", "\r\n"]),
       month=st.sampled_from(["2025-04", "2025-05", "2025-06", "2025-07", "2025-09"]),
       ext=st.sampled_from(["csv", "jsonl"]))
def test_generated_feeds(feed: tuple[list[str], list[list[str]], bool],
                         more: tuple[list[str], list[list[str]], bool], encoding: str, newline: str,
                         month: str, ext: str) -> None:
    """Good rows mixed with bad dates, enums, booleans, reasons, orders, duplicates and blanks."""
    header, rows, _chinese = feed
    if not _writable(rows, encoding):
        encoding = "utf-8"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        first = path / "first.csv"
        first.write_bytes(_csv_bytes(header, rows, encoding, newline))
        second = path / "second.jsonl"
        more_header, more_rows, _ = more
        second.write_text("".join(
            json.dumps(dict(zip(more_header, row, strict=False)), ensure_ascii=False) + "\n"
            for row in more_rows), encoding="utf-8")
        try:
            bill_both(month, [first, second], path, ext=ext)
        except InputError:  # a file the row path cannot read: the columnar path must stop alike
            error_both(month, [first, second], path)


def test_the_whitespace_is_pythons() -> None:
    """The characters the bulk checks strip are exactly those ``str.strip`` strips."""
    python = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert python == WHITESPACE == _csv.WHITESPACE  # the core's checks and the CSV reader's blank rows


def test_the_fast_csv_reader_is_exercised() -> None:
    """Quote-free pieces are cut in bulk; anything with quotes, NULs or a lone CR is not."""
    assert _csv._lines(b"a,b\r\n1,2\n") is not None
    for odd in (b'a,"b"\n', b"a\rb\n", b"a\x00\n", b"a\n\xef\xbb\xbfb\n"):
        assert _csv._lines(odd) is None


# -- the bulk renderers against the writers -----------------------------------------------------------
def _sink_text(writer: Any, values: list[str], encoding: str | None = None) -> bytes:
    stream = io.BytesIO()
    sink = writer.open(stream, ["a", "b"], kind="bill", encoding=encoding)
    for value in values:
        sink.write({"a": value, "b": 1})
    sink.close()
    return stream.getvalue()


def _bulk_text(export_type: type, values: list[str]) -> bytes:
    stream = io.BytesIO()
    export = (CsvExport(stream, ["a", "b"], None) if export_type is CsvExport
              else JsonlExport(stream, ["a", "b"]))
    template = export.template({"a": "", "b": 1}, ["a"])
    lines = pl.LazyFrame({"a": values}).select(
        pl.concat_str(pl.lit(template[0]), export.text_cells(pl.col("a")), pl.lit(template[1])))
    export.write_lines(lines)
    export.close()
    return stream.getvalue()


@given(st.lists(st.text(min_size=1), min_size=1, max_size=8))
def test_text_cells_are_rendered_as_the_writers_render_them(values: list[str]) -> None:
    values = [v for v in values if not any(0xD800 <= ord(c) <= 0xDFFF for c in v)] or ["x"]
    assert _bulk_text(CsvExport, values) == _sink_text(CsvWriter(), values)
    assert _bulk_text(JsonlExport, values) == _sink_text(JsonlWriter(), values)


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5))
def test_record_ids_are_the_row_paths(accounts: list[str]) -> None:
    accounts = [a for a in accounts if not any(0xD800 <= ord(c) <= 0xDFFF for c in a)] or ["A1"]
    names = pl.Series([f"{a}\x1f{record_tail('2025-07')}" for a in accounts])
    expected = [record_id("itv-trial", "2025.1", a, "2025-07") for a in accounts]
    with RecordIds("itv-trial", "2025.1") as ids:
        assert ids.submit_names(names).result().to_pylist() == expected


def test_record_ids_hashed_in_the_background_are_the_row_paths() -> None:
    """Columns from BACKGROUND_MIN_ROWS rows on are hashed by DuckDB: the same uuid5 text."""
    accounts = pl.Series([f"账户{i:07d}" if i % 3 else f" A{i} " for i in range(5000)])
    tails = pl.Series([record_tail("2025-07")] * len(accounts))
    with RecordIds("itv-trial", "2025.1") as ids:
        background = ids.column(accounts, tails).to_pylist()
    with RecordIds("itv-trial", "2025.1", background=False) as ids:
        here = ids.column(accounts, tails).to_pylist()
    assert len(accounts) >= BACKGROUND_MIN_ROWS
    assert background == here == [record_id("itv-trial", "2025.1", a, "2025-07")
                                  for a in accounts.to_list()]


# -- choosing the backend -----------------------------------------------------------------------------
class _Audit:
    """A plug-in that adds a column to every bill row: a per-row hook."""

    @hookimpl
    def itvrules_decision_columns(self, kind: str) -> Sequence[str]:
        return ["audited"] if kind == "bill" else []

    @hookimpl
    def itvrules_decision_row(self, kind: str, row: dict[str, Any], decision: Any, policy: Any) -> None:
        row["audited"] = "yes"


@pytest.fixture
def columnar_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records each run the columnar path serves."""
    import itvrules.runs._bulk_text as columnar

    calls: list[str] = []
    real = columnar.bill_columnar

    def spy(run: Any, month: str, progress_every: int) -> Any:
        calls.append(month)
        return real(run, month, progress_every)

    monkeypatch.setattr(columnar, "bill_columnar", spy)
    yield calls


def test_auto_bills_csv_and_jsonl_columnar(tmp_path: Path, columnar_calls: list[str]) -> None:
    for ext in ("csv", "jsonl"):
        run_bill(POLICY, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / f"b.{ext}"),
                 pm=_pm())
    assert columnar_calls == ["2025-07", "2025-07"]


def test_auto_falls_back_to_rows_for_a_plugin_that_adds_columns(tmp_path: Path,
                                                                columnar_calls: list[str]) -> None:
    pm = _pm()
    pm.register(_Audit(), name="audit")
    out = tmp_path / "bill.csv"
    run_bill(POLICY, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(out), pm=pm)
    assert columnar_calls == []
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows and all(r["audited"] == "yes" for r in rows)
    with pytest.raises(UsageError, match="itvrules_decision_row"):
        run_bill(POLICY, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(out), pm=pm,
                 backend="columnar")


def test_auto_keeps_other_formats_on_rows(tmp_path: Path, columnar_calls: list[str]) -> None:
    run_bill(POLICY, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "b.xlsx"), pm=_pm())
    with pytest.raises(UsageError, match="xlsx output"):
        run_bill(POLICY, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "c.xlsx"),
                 pm=_pm(), backend="columnar")
    assert columnar_calls == []


def test_an_unknown_backend_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown backend"):
        run_bill(POLICY, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "b.csv"),
                 backend="vector")


def test_the_backend_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            columnar_calls: list[str]) -> None:
    feed = str(FEEDS / "bill_bad_rows.csv")
    outputs = {}
    for backend in ("rows", "columnar", "auto"):
        out = tmp_path / f"{backend}.csv"
        assert main(["bill", "2025-07", feed, "-o", str(out), "--backend", backend]) == 3
        outputs[backend] = (out.read_bytes(), (tmp_path / f"{backend}.rejects.csv").read_bytes())
    assert outputs["rows"] == outputs["columnar"] == outputs["auto"]
    assert columnar_calls == ["2025-07", "2025-07"]  # columnar and auto
    assert "rows in: 11  decided: 4  rejected: 7" in capsys.readouterr().err
    assert main(["bill", "2025-07", feed, "-o", str(tmp_path / "x.xlsx"), "--backend", "columnar"]) == 2
    assert "columnar backend cannot serve" in capsys.readouterr().err
    assert main(["bill", "2025-07", feed, "-o", str(tmp_path / "y.csv"), "--backend", "vector"]) == 2
    assert "invalid choice: 'vector'" in capsys.readouterr().err


def test_outputs_are_renamed_into_place(tmp_path: Path) -> None:
    """No temporary name is left beside the outputs (the writing is all or nothing)."""
    bill_both("2025-07", [FEEDS / "bill_bad_rows.csv"], tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["columnar.csv", "columnar.rejects.csv", "rows.csv",
                                            "rows.rejects.csv"]
    assert (tmp_path / "columnar.csv").read_bytes().startswith(codecs.BOM_UTF8)
