"""``run_bill`` on Parquet: which path serves a run, and the two paths agreeing row for row.

A Parquet feed to a Parquet export goes to ``_parquet.bill_parquet`` (``auto``
and ``columnar``) unless a plug-in works on single rows; ``rows`` reads the same
feed through the Parquet reader adapter and writes through the Parquet writer.
Both must give the same export rows and the same rejects file: the same rows, for the same field,
in the same words (``(column '产品类型')`` notes and ``datetime.date`` values included), with the
same raw cells.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
import polars as pl
import pyarrow.parquet as pq
import pytest

import itvrules
import itvrules.runs._bulk_arrow as parquet
from itvrules.runs._bulk_arrow import EXPORT_SCHEMA
from itvrules.runs._bulk_arrow_checks import ArrowBatchChecker
from itvrules.runs._pipeline import RunSummary, UsageError, run_bill
from paths import ROOT

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


def same_rejects(fast: pl.DataFrame, rows: pl.DataFrame) -> None:
    """The same rejects file: rows, fields, the words of each error and the raw cells as text."""
    assert fast.select("source_row", "field").rows() == rows.select("source_row", "field").rows()
    assert fast.columns == rows.columns
    assert fast["error"].to_list() == rows["error"].to_list()
    assert fast.schema == rows.schema
    assert fast.equals(rows)


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
    assert "missing required field(s): accepted_on" in fast_bad["error"].to_list()
    assert fast_bad.filter(pl.col("field") == "accepted_on")["accepted_on"].to_list() == [""] * 3


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
    same_rejects(fast_bad, rows_bad)
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
    assert fast_bad["error"][0] == \
        "expected one of: brand, annual, single_monthly (column '产品类型'); got 'gold'"


def test_a_feed_without_return_reason_rejects_its_returns_on_both_paths(
        frame: pl.DataFrame, tmp_path: Path) -> None:
    """No column can give a return its reason (§四(四)1): every returned row is rejected, alike."""
    feed = tmp_path / "no-reason.parquet"
    part = frame.head(2000).drop("return_reason")
    part.write_parquet(feed)
    fast, rows, fast_out, rows_out, fast_bad, rows_bad = both(feed, tmp_path)
    returned = int(part.get_column("returned").sum())
    assert returned > 0
    assert fast.rejected == rows.rejected
    assert fast.rows_in == fast.decided + fast.rejected == 2000
    assert fast_bad.filter(pl.col("field") == "return_reason").height == returned
    assert fast_out.equals(rows_out)
    same_rejects(fast_bad, rows_bad)


def typed_feed(path: Path) -> Path:
    """Chinese headers over typed columns: text accounts, a dictionary of products, text dates
    (one not in the calendar), UTC timestamps, booleans with gaps and ``date32`` dates."""
    pl.DataFrame({
        "宽带账号": pl.Series(["7001", "7002", "7001", "7003", "7004", "7005", "7006", None, "7008",
                           "7009"], dtype=pl.String),
        "产品类型": pl.Series(["品牌", "包年", "品牌", "gold", "brand", "brand", "brand", "brand",
                               "brand", "brand"], dtype=pl.Categorical),
        "受理日期": ["2025-03-25", "2025-04-02", "2025-04-02", "2025-03-25", "2025-02-30",
                     "2025-03-25", "2025-03-25", "2025-03-25", "2025-03-25", "2025-03-25"],
        # 15:00 UTC on 24 March is still the 24th in Shanghai, 17:00 UTC already the 25th.
        "竣工日期": pl.Series([datetime(2025, 3, 31, 9), None, None, None, None,
                               datetime(2025, 3, 24, 15), None, None, None,
                               datetime(2025, 3, 24, 17)]).dt.replace_time_zone("UTC"),
        "是否退单": [False, None, None, None, None, None, True, None, True, None],
        "退单原因": [None, None, None, None, None, None, None, None, "地址错误", None],
        "拆机申请日期": [None, None, None, None, None, None, None, None, date(2025, 4, 1), None],
        "拆机生效日期": pl.Series([None] * 10, dtype=pl.Date),  # required, may be empty
    }).write_parquet(path)
    assert pq.read_schema(path).field("竣工日期").type.tz == "UTC"
    assert pq.read_schema(path).field("产品类型").type.value_type == "string"  # a dictionary
    return path


def test_typed_feed_with_chinese_headers_same_rejects_word_for_word(tmp_path: Path) -> None:
    feed = typed_feed(tmp_path / "typed.parquet")
    fast, rows, fast_out, rows_out, fast_bad, rows_bad = both(feed, tmp_path)
    assert (fast.rows_in, fast.decided, fast.rejected) == (rows.rows_in, rows.decided, rows.rejected) \
        == (10, 3, 7)
    assert fast_out.select(COMPARED).equals(rows_out.select(COMPARED))
    same_rejects(fast_bad, rows_bad)
    # Raw cells as the row path spells them: digits, ISO days, a Shanghai time, "" for nothing.
    assert fast_bad.row(3, named=True)["竣工日期"] == "2025-03-24T23:00:00+08:00"
    assert fast_bad.row(4, named=True)["是否退单"] == "true"
    assert fast_bad.row(5, named=True)["宽带账号"] == ""
    assert fast_bad.select("source_row", "error").rows() == [
        (3, "an earlier row of this run has the same account: one trial per account "
            "(column '宽带账号'); got '7001'"),
        (4, "expected one of: brand, annual, single_monthly (column '产品类型'); got 'gold'"),
        (5, "not a calendar date: day is out of range for month (column '受理日期'); got '2025-02-30'"),
        (6, "completion is before acceptance (2025-03-25) (column '竣工日期'); "
            "got 2025-03-24"),
        (7, "a returned order needs a detailed reason (§四(四)1) (column '退单原因')"),
        (8, "missing required field(s): account_id (column '宽带账号')"),
        (9, "a returned order was never installed, so it has no such date (column '拆机申请日期'); "
            "got 2025-04-01"),
    ]


def test_a_row_only_the_checks_reject_keeps_their_words(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the row path ever take a row the checks reject, the row is still rejected, for the
    field of the first check it fails, in that check's words."""
    monkeypatch.setattr(ArrowBatchChecker, "row_error", lambda self, values, *, repeated: None)
    feed = text_feed(tmp_path / "feed.parquet")
    run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "bill.parquet"),
             pm=itvrules.plugin_manager(autoload=False))
    rejects = pl.read_parquet(tmp_path / "bill.rejects.parquet")
    assert rejects.select("source_row", "field").rows()[:2] == [(4, "product"), (5, "completed_on")]
    assert rejects["error"][0] == "expected one of: brand, annual, single_monthly; got 'gold'"


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
                  "completed_on": [datetime(2025, 3, 31, 9), None, None],
                  "cancel_requested_on": pl.Series([None] * 3, dtype=pl.Date),
                  "cancel_effective_on": pl.Series([None] * 3, dtype=pl.Date)}).write_parquet(path)
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
    same_rejects(pl.read_parquet(tmp_path / "auto.rejects.parquet"),
                 pl.read_parquet(tmp_path / "rows.rejects.parquet"))


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
    ("csv feed", "read as csv, which gives no Arrow batches"),
    ("durable", "durable engine"),
])
def test_columnar_says_why_it_cannot_serve(tmp_path: Path, calls: list[dict[str, Any]], how: str,
                                           reason: str) -> None:
    feed = small_feed(tmp_path / "feed.parquet")
    feeds, engine = [str(feed)], None
    if how == "two feeds":
        feeds.append(str(small_feed(tmp_path / "other.parquet")))
    elif how == "csv feed":
        (tmp_path / "feed.csv").write_text(
            "account_id,product,accepted_on,completed_on,cancel_requested_on,cancel_effective_on\n"
            "A1,brand,2025-03-25,,,\n", encoding="utf-8")
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
