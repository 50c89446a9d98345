"""``run_bill`` on Parquet: which path serves a run, and the two paths agreeing row for row.

A Parquet feed to a Parquet export goes to ``_parquet.bill_parquet`` (``auto``
and ``columnar``) unless a plug-in works on single rows; ``rows`` reads the same
feed through the Parquet reader adapter and writes through the Parquet writer.
Both must give the same export rows and reject the same rows for the same field.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
import polars as pl
import pyarrow.parquet as pq
import pytest

import itvrules
import itvrules._parquet as parquet
from itvrules._parquet import EXPORT_SCHEMA
from itvrules._pipeline import RunSummary, UsageError, run_bill

ROOT = Path(__file__).resolve().parent.parent
POLICY = itvrules.load_policy()
MONTH = "2025-07"
#: The export columns the paths are compared on (the others are constants of the run).
COMPARED = ("record_id", "account_id", "code", "gross", "waived", "amount", "amount_fen", "package",
            "follow_up", "rule", "clause", "source_row")


def _bench_scale() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    """3,000 enrolments of every kind, one row in 100 made bad (ten kinds of bad): date32, bool."""
    bench = _bench_scale()
    return bench.spoil(bench.make_frame(3000, POLICY, seed=5), 100)  # type: ignore[no-any-return]


@pytest.fixture
def generated(frame: pl.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "feed.parquet"
    frame.write_parquet(path, row_group_size=700)
    return path


def text_feed(path: Path) -> Path:
    """Chinese headers, every cell text as a CRM writes it: good rows and one of each bad kind."""
    rows = [
        ("G01", "品牌", "2025/3/25", "20250331", "否", "", "", "", ""),
        ("G02", " Annual ", "2025-04-01", "2025年4月2日", "", "", "", "", "HD"),
        ("ｇ０３", "单宽月租", "2025.4.3", "", "Y", "线路不具备安装条件", "", "", ""),
        ("B01", "gold", "2025-03-25", "", "", "", "", "", ""),
        ("B02", "brand", "2025-03-25", "soon", "", "", "", "", ""),
        ("B03", "brand", "2025-03-25", "", "maybe", "", "", "", ""),
        ("B04", "brand", "2025-03-25", "", "是", "", "", "", ""),
        ("B05", "brand", "2025-03-25", "2025-03-26", "", "", "31/12/2025", "", ""),
        ("B06", "brand", "2025-03-25", "2025-03-26", "", "", "", "", "platinum"),
        ("B07", "brand", "2025-03-25", "2025-03-26", "", "", "2025-05-01", "2025-04-30", ""),
        ("B08", "brand", "2025-03-25", "", "", "", "", "2025-03-20", ""),
        ("G01", "brand", "2025-03-30", "", "", "", "", "", ""),
    ]
    headers = ("宽带账号", "产品类型", "受理日期", "竣工日期", "是否退单", "退单原因", "拆机申请日期",
               "拆机生效日期", "转换套餐")
    pl.DataFrame(rows, schema=dict.fromkeys(headers, pl.String), orient="row").write_parquet(path)
    return path


def both(feed: Path, tmp_path: Path) -> tuple[RunSummary, RunSummary, pl.DataFrame, pl.DataFrame,
                                              pl.DataFrame, pl.DataFrame]:
    """The feed billed by ``auto`` (the Parquet path) and by ``rows``: summaries, exports, rejects."""
    pm = itvrules.plugin_manager(autoload=False)
    fast = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "fast.parquet"),
                    rejects=str(tmp_path / "fast.rejects.parquet"), pm=pm)
    rows = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "rows.parquet"),
                    rejects=str(tmp_path / "rows.rejects.parquet"), pm=pm, backend="rows")
    return (fast, rows, pl.read_parquet(tmp_path / "fast.parquet"),
            pl.read_parquet(tmp_path / "rows.parquet"),
            pl.read_parquet(tmp_path / "fast.rejects.parquet"),
            pl.read_parquet(tmp_path / "rows.rejects.parquet"))


#: Where ``_parquet_checks`` words a reject otherwise than the row path (which words it as for a
#: CSV feed): same row, same field, another sentence. Every other error must be the same text.
_DATE = r"datetime\.date\((\d+), (\d+), (\d+)\)"
WORDED_APART: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (r"missing required field\(s\): account_id", lambda m: "expected non-empty text"),
    (r"missing required field\(s\): product",
     lambda m: "expected one of: brand, annual, single_monthly; got ''"),
    (r"missing required field\(s\): accepted_on",
     lambda m: "expected a date: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; got ''"),
    (r"not a calendar date: .*; got ('.*')",
     lambda m: f"expected a date: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; got {m[1]}"),
    (rf"(a returned order was never installed, so it has no such date); got {_DATE}",
     lambda m: f"{m[1]}; got '{date(int(m[2]), int(m[3]), int(m[4])).isoformat()}'"),
    (rf"(.* \(\d{{4}}-\d\d-\d\d\)); got {_DATE}", lambda m: m[1]),
    (r"(.*: one trial per account); got '.*'", lambda m: m[1]),
]


def parquet_wording(error: str) -> str:
    """The Parquet path's words for the row path's ``error``.

    The row path also names the column when its header is not the field's name
    (``(column '产品类型')``); the Parquet path never does.
    """
    error = re.sub(r" \(column '[^']*'\)", "", error, count=1)
    for pattern, words in WORDED_APART:
        match = re.fullmatch(pattern, error)
        if match:
            return words(match)
    return error


def test_wordings_map_as_documented() -> None:
    assert parquet_wording("completion is before acceptance (2025-03-22); got datetime.date(2025, 3, 21)") \
        == "completion is before acceptance (2025-03-22)"
    assert parquet_wording("a returned order was never installed, so it has no such date; "
                           "got datetime.date(2025, 4, 3)") == \
        "a returned order was never installed, so it has no such date; got '2025-04-03'"
    assert parquet_wording("expected one of: brand, annual, single_monthly; got 'gold'") == \
        "expected one of: brand, annual, single_monthly; got 'gold'"
    assert parquet_wording("unknown iTV package (column '转换套餐'); got 'platinum'") == \
        "unknown iTV package; got 'platinum'"


def same_rejects(fast: pl.DataFrame, rows: pl.DataFrame) -> None:
    """Same rows and fields; the same words but for the known ``WORDED_APART``."""
    assert fast.select("source_row", "field").rows() == rows.select("source_row", "field").rows()
    assert fast.columns == rows.columns
    assert fast["error"].to_list() == [parquet_wording(error) for error in rows["error"]]


def test_generated_feed_same_exports_and_rejects(generated: Path, tmp_path: Path) -> None:
    fast, rows, fast_out, rows_out, fast_bad, rows_bad = both(generated, tmp_path)
    assert (fast.rows_in, fast.decided, fast.rejected) == (rows.rows_in, rows.decided, rows.rejected)
    assert fast.rows_in == 3000 == fast.decided + fast.rejected
    assert fast.rejected == 30
    assert pq.read_schema(tmp_path / "fast.parquet") == pq.read_schema(tmp_path / "rows.parquet") \
        == EXPORT_SCHEMA
    assert fast_out.select(COMPARED).equals(rows_out.select(COMPARED))
    assert fast_out.equals(rows_out)
    assert fast_out["code"].n_unique() >= 7
    assert set(fast_bad["field"]) == {"account_id", "product", "accepted_on", "completed_on",
                                      "return_reason", "cancel_requested_on", "cancel_effective_on",
                                      "switched_to"}
    same_rejects(fast_bad, rows_bad)
    # The raw cells of the rejects are the same text on both paths; the row path spools them as
    # text (``_rejects.raw_text``), where a missing cell is "", the Parquet path keeps it null.
    assert fast_bad.drop("error").fill_null("").equals(rows_bad.drop("error"))


def test_zoned_timestamps_are_shanghai_days_on_both_paths(frame: pl.DataFrame, tmp_path: Path) -> None:
    """Completion timestamps in UTC, 30 minutes after midnight in Shanghai: the day is Shanghai's."""
    zoned = frame.with_columns(
        (pl.col("completed_on").cast(pl.Datetime("us")) + pl.duration(minutes=30))
        .dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC"),
        (pl.col("cancel_requested_on").cast(pl.Datetime("ms"))))  # a naive timestamp: its own day
    assert zoned.schema["completed_on"] == pl.Datetime("us", "UTC")
    feed = tmp_path / "zoned.parquet"
    zoned.write_parquet(feed)
    fast, rows, fast_out, rows_out, fast_bad, rows_bad = both(feed, tmp_path)
    assert (fast.rows_in, fast.decided, fast.rejected) == (rows.rows_in, rows.decided, rows.rejected)
    assert fast_out.equals(rows_out)
    assert fast_bad.select("source_row", "field").equals(rows_bad.select("source_row", "field"))
    # ... and the same days as the feed with plain dates.
    frame.write_parquet(tmp_path / "plain.parquet")
    run_bill(POLICY, MONTH, [str(tmp_path / "plain.parquet")], str(tmp_path / "plain-bill.parquet"),
             pm=itvrules.plugin_manager(autoload=False))
    plain = pl.read_parquet(tmp_path / "plain-bill.parquet")
    assert fast_out.drop("source").equals(plain.drop("source"))


def test_text_feed_with_chinese_headers_same_exports_and_rejects(tmp_path: Path) -> None:
    feed = text_feed(tmp_path / "登记表.parquet")
    fast, rows, fast_out, rows_out, fast_bad, rows_bad = both(feed, tmp_path)
    assert (fast.rows_in, fast.decided, fast.rejected) == (rows.rows_in, rows.decided, rows.rejected) \
        == (12, 3, 9)
    assert fast_out.select(COMPARED).equals(rows_out.select(COMPARED))
    assert fast_out["account_id"].to_list() == ["G01", "G02", "g03"]
    assert fast_out["source"].to_list() == ["登记表.parquet"] * 3
    assert rows_bad["source_row"].to_list() == list(range(4, 13))  # Parquet rows count from 1
    same_rejects(fast_bad, rows_bad)
    assert "(column '产品类型')" in rows_bad["error"][0]  # the row path names the Chinese header


# -- which path serves a run ---------------------------------------------------------------------


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every call of ``bill_parquet``, which then runs as usual."""
    seen: list[dict[str, Any]] = []
    real = parquet.bill_parquet

    def spy(*args: Any, **kwargs: Any) -> RunSummary:
        seen.append({"args": args, **kwargs})
        return real(*args, **kwargs)

    monkeypatch.setattr(parquet, "bill_parquet", spy)
    return seen


def small_feed(path: Path) -> Path:
    pl.DataFrame({"account_id": ["A1", "A2", "A1"], "product": ["brand", "annual", "brand"],
                  "accepted_on": [date(2025, 3, 25), date(2025, 4, 2), date(2025, 4, 2)],
                  "completed_on": [datetime(2025, 3, 31, 9), None, None]}).write_parquet(path)
    return path


def test_auto_and_columnar_route_to_the_parquet_path_with_progress(
        tmp_path: Path, calls: list[dict[str, Any]]) -> None:
    feed = small_feed(tmp_path / "feed.parquet")
    seen: list[int] = []
    for backend in ("auto", "columnar"):
        out = tmp_path / f"{backend}.parquet"
        summary = run_bill(POLICY, MONTH, [str(feed)], str(out), backend=backend,
                           pm=itvrules.plugin_manager(autoload=False), progress=seen.append)
        assert (summary.rows_in, summary.decided, summary.rejected) == (3, 2, 1)
        assert summary.rejects == str(tmp_path / f"{backend}.rejects.parquet")
    assert len(calls) == 2 and calls[0]["progress"] is not None
    assert seen and seen[-1] == 3
    run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "rows.parquet"), backend="rows",
             pm=itvrules.plugin_manager(autoload=False))
    assert len(calls) == 2
    assert pl.read_parquet(tmp_path / "auto.parquet").equals(pl.read_parquet(tmp_path / "rows.parquet"))
    assert pl.read_parquet(tmp_path / "auto.rejects.parquet").select("source_row", "field").equals(
        pl.read_parquet(tmp_path / "rows.rejects.parquet").select("source_row", "field"))


class RowChecker:
    @itvrules.hookimpl
    def itvrules_check_row(self, kind: str, raw: Any, record: Any) -> None:
        if record.account_id == "A2":
            raise itvrules.InputError("account_id", record.account_id, "blocked by the plug-in")


def test_a_plug_in_on_rows_keeps_the_run_on_the_rows(tmp_path: Path,
                                                     calls: list[dict[str, Any]]) -> None:
    feed = small_feed(tmp_path / "feed.parquet")
    pm: pluggy.PluginManager = itvrules.plugin_manager(autoload=False)
    pm.register(RowChecker())
    summary = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "bill.parquet"), pm=pm)
    assert (summary.decided, summary.rejected) == (1, 2) and not calls
    rejects = pl.read_parquet(tmp_path / "bill.rejects.parquet")
    assert "blocked by the plug-in" in rejects["error"].to_list()[0]
    with pytest.raises(UsageError, match=r"columnar backend cannot serve.*itvrules_check_row"):
        run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "again.parquet"), pm=pm,
                 backend="columnar")


@pytest.mark.parametrize(("how", "reason"), [
    ("two feeds", "one feed a run"),
    ("csv feed", "read as csv, not Parquet"),
    ("durable", "durable engine"),
])
def test_columnar_says_why_it_cannot_serve(tmp_path: Path, calls: list[dict[str, Any]], how: str,
                                           reason: str) -> None:
    feed = small_feed(tmp_path / "feed.parquet")
    feeds, engine = [str(feed)], None
    if how == "two feeds":
        feeds.append(str(small_feed(tmp_path / "other.parquet")))
    elif how == "csv feed":
        (tmp_path / "feed.csv").write_text("account_id,product,accepted_on\nA1,brand,2025-03-25\n",
                                           encoding="utf-8")
        feeds = [str(tmp_path / "feed.csv")]
    else:
        engine = "durable"
    with pytest.raises(UsageError, match=reason):
        run_bill(POLICY, MONTH, feeds, str(tmp_path / "bill.parquet"), backend="columnar",
                 engine=engine, pm=itvrules.plugin_manager(autoload=False))
    summary = run_bill(POLICY, MONTH, feeds, str(tmp_path / "bill.parquet"), engine=engine,
                       pm=itvrules.plugin_manager(autoload=False))
    assert summary.rows_in == summary.decided + summary.rejected and not calls
    assert pq.read_schema(tmp_path / "bill.parquet") == EXPORT_SCHEMA
