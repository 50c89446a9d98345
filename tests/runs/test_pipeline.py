"""Feeds through the pipeline: every bad row rejected with source, row, field and error;
good rows decided; rows in = decided + rejected; unreadable files stop the run cleanly."""

from __future__ import annotations

import codecs
import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

import itvrules
from feeds.forms import write_registration_form
from itvrules import InputError, Policy
from itvrules.runs._pipeline import (
    BILL_COLUMNS,
    ELIGIBILITY_COLUMNS,
    REJECT_COLUMNS,
    RunSummary,
    UsageError,
    record_id,
    run_bill,
    run_eligibility,
)
from paths import FEEDS

MONTH = "2025-06"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return itvrules.load_policy()


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return itvrules.plugin_manager(autoload=False)


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def check_counts(summary: RunSummary, rows_in: int, decided: int, rejected: int,
                 skipped: int = 0) -> None:
    assert (summary.rows_in, summary.decided, summary.rejected, summary.skipped) == \
        (rows_in, decided, rejected, skipped)
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# -- every bad row of SPEC §9 ---------------------------------------------------------------------

@pytest.fixture
def bad_rows_run(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path) -> RunSummary:
    return run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "bill.csv"),
                    pm=pm)


def test_each_bad_row_is_rejected_with_source_row_field_and_error(
        bad_rows_run: RunSummary, tmp_path: Path) -> None:
    check_counts(bad_rows_run, rows_in=11, decided=4, rejected=7)
    assert bad_rows_run.rejects == str(tmp_path / "bill.rejects.csv")
    rejects = read_csv(tmp_path / "bill.rejects.csv")
    found = {(r["source"], int(r["source_row"])): r for r in rejects}
    expected = {
        4: ("return_reason", "detailed reason"),       # a returned order without a reason
        5: ("accepted_on", "not a calendar date"),     # 2025-04-31
        6: ("product", "expected one of"),             # gold
        7: ("returned", "expected a boolean"),         # maybe
        8: ("completed_on", "before acceptance"),      # completed before accepted
        9: ("account_id", "one trial per account"),    # A001 again
        11: ("switched_to", "unknown iTV package"),    # platinum
    }
    assert set(found) == {("bill_bad_rows.csv", row) for row in expected}
    for row, (field, words) in expected.items():
        reject = found[("bill_bad_rows.csv", row)]
        assert reject["field"] == field
        assert words in reject["error"]
    assert found[("bill_bad_rows.csv", 5)]["accepted_on"] == "2025-04-31"  # raw values kept
    assert found[("bill_bad_rows.csv", 6)]["remark"] == "unknown product"  # unknown columns too


def test_the_good_rows_are_still_decided(bad_rows_run: RunSummary, tmp_path: Path) -> None:
    decided = read_csv(tmp_path / "bill.csv")
    assert [(r["account_id"], r["code"], r["source_row"]) for r in decided] == [
        ("A001", "default_paid", "2"), ("A002", "trial", "3"),
        ("A008", "trial", "10"), ("A010", "not_installed", "12")]
    assert list(decided[0]) == list(BILL_COLUMNS)
    first = decided[0]
    assert (first["gross"], first["waived"], first["amount"], first["amount_fen"]) == \
        ("35.00", "0.00", "35.00", "3500")
    assert first["billing_cycle"] == "202506" and first["billing_month"] == MONTH
    assert first["rule"] == "fee.default_paid" and first["clause"]
    assert first["policy_id"] == "itv-trial" and len(first["policy_hash"]) == 12
    # A002 switched to hd at the trial's end, but June is still a trial month of 全能包.
    assert (decided[1]["package"], decided[1]["waived"], decided[1]["amount"]) == \
        ("quanneng", "35.00", "0.00")


def test_the_csv_export_opens_with_a_bom(bad_rows_run: RunSummary, tmp_path: Path) -> None:
    assert (tmp_path / "bill.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert (tmp_path / "bill.rejects.csv").read_bytes().startswith(codecs.BOM_UTF8)


def test_rejects_columns_are_fixed_then_every_header_read(bad_rows_run: RunSummary,
                                                          tmp_path: Path) -> None:
    header = next(csv.reader(io.StringIO((tmp_path / "bill.rejects.csv").read_text("utf-8-sig"))))
    feed_header = (FEEDS / "bill_bad_rows.csv").read_text("utf-8").splitlines()[0].split(",")
    assert header == [*REJECT_COLUMNS, *feed_header]


def test_missing_columns_stop_the_run_naming_every_one(policy: Policy, pm: pluggy.PluginManager,
                                                       tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("宽带账号,备注\nA001,x\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run_bill(policy, MONTH, [str(feed)], str(tmp_path / "bill.csv"), pm=pm)
    error = caught.value
    assert error.field == "(columns)" and error.source == "feed.csv"
    assert error.value == ["product", "accepted_on", "completed_on", "cancel_requested_on",
                           "cancel_effective_on"]
    assert "product (产品类型)" in error.problem and "accepted_on (受理日期)" in error.problem
    assert "cancel_effective_on (拆机生效日期)" in error.problem
    assert "the header has: '宽带账号', '备注'" in error.problem  # as decoded
    assert not (tmp_path / "bill.csv").exists() and leftovers(tmp_path) == []


def test_an_eligibility_run_needs_every_subscriber_field(policy: Policy, pm: pluggy.PluginManager,
                                                         tmp_path: Path) -> None:
    feed = tmp_path / "subs.csv"
    feed.write_text("account_id,套餐,channel\nS1,e8-68,x\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run_eligibility(policy, [str(feed)], str(tmp_path / "out.csv"), pm=pm)
    assert caught.value.value == ["product", "community", "new_install", "has_itv", "line_ready",
                                  "accepted_on"]


@pytest.mark.parametrize(("name", "content", "words"), [
    ("empty.csv", b"", "empty"),
    ("shift_jis.csv", (FEEDS / "shift_jis.csv").read_bytes(), "cannot be read as utf-8"),
    ("not_excel.xlsx", b"account_id\nA1\n", "not a spreadsheet"),
    ("empty.jsonl", b"", "empty"),
])
def test_an_unreadable_file_stops_the_run_and_leaves_no_output(
        policy: Policy, pm: pluggy.PluginManager, tmp_path: Path, name: str, content: bytes,
        words: str) -> None:
    good = tmp_path / "good.csv"
    shutil.copy(FEEDS / "bill_bad_rows.csv", good)
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(InputError, match=words) as caught:
        run_bill(policy, MONTH, [str(good), str(bad)], str(tmp_path / "bill.csv"), pm=pm)
    assert caught.value.source == name
    assert name in str(caught.value)
    assert not (tmp_path / "bill.csv").exists()
    assert not (tmp_path / "bill.rejects.csv").exists()
    assert leftovers(tmp_path) == []


def test_a_missing_feed_fails_before_anything_is_written(policy: Policy, pm: pluggy.PluginManager,
                                                         tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        run_bill(policy, MONTH, [str(tmp_path / "nope.csv")], str(tmp_path / "bill.csv"), pm=pm)
    assert list(tmp_path.iterdir()) == []


# -- formats ---------------------------------------------------------------------------------------------

def test_gb18030_with_chinese_headers_round_trip(policy: Policy, pm: pluggy.PluginManager,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "账单.csv"
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_zh_gb18030.csv")], str(out),
                       out_encoding="gb18030", pm=pm)
    check_counts(summary, rows_in=4, decided=4, rejected=0)
    assert summary.rejects == str(tmp_path / "账单.rejects.csv")  # written, its header only
    assert len((tmp_path / "账单.rejects.csv").read_bytes().splitlines()) == 1
    data = out.read_bytes()
    assert not data.startswith(codecs.BOM_UTF8)
    rows = read_csv(out, encoding="gb18030")
    assert [(r["account_id"], r["code"]) for r in rows] == [
        ("0571000123", "default_paid"), ("0571000124", "trial"),
        ("0571000125", "not_installed"), ("0571000126", "trial")]
    assert {r["clause"] for r in rows} >= {"§三"}
    july = tmp_path / "july.jsonl"
    run_bill(policy, "2025-07", [str(FEEDS / "bill_zh_gb18030.csv")], str(july), pm=pm)
    codes = [json.loads(line)["code"] for line in july.read_text("utf-8").splitlines()]
    assert codes == ["default_paid", "default_paid", "not_installed", "late_cancel_waiver"]


def test_the_excel_form_is_decided_and_its_bad_rows_rejected(policy: Policy, pm: pluggy.PluginManager,
                                                            tmp_path: Path) -> None:
    form = write_registration_form(tmp_path / "登记表.xlsx")
    out = tmp_path / "bill.xlsx"
    summary = run_bill(policy, MONTH, [str(form)], str(out), pm=pm)
    check_counts(summary, rows_in=9, decided=5, rejected=2, skipped=2)  # row 7 blank, row 9 合计
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("bill").to_python()
    header, rows = sheet[0], [dict(zip(sheet[0], r, strict=True)) for r in sheet[1:]]
    assert header == list(BILL_COLUMNS)
    decided = {r["account_id"]: (r["code"], r["source"], r["source_row"]) for r in rows}
    assert decided == {
        "0571000201": ("default_paid", "登记表.xlsx#第1周", 5),  # completed 2025-03-31 (date cell)
        "0571000202": ("trial", "登记表.xlsx#第1周", 6),         # serial 45748 = 2025-04-01
        "0571000203": ("not_installed", "登记表.xlsx#第2周", 4),
        "0571000204": ("trial", "登记表.xlsx#第2周", 5),
        "0571000205": ("trial", "登记表.xlsx#第3周", 4),
    }
    rejects = read_csv(tmp_path / "bill.rejects.csv")
    assert {(r["source"], r["source_row"], r["field"]) for r in rejects} == {
        ("登记表.xlsx#第1周", "8", "account_id"),  # an 18-digit id typed as a number
        ("登记表.xlsx#填表说明", "1", "(columns)"),
    }
    long_id = next(r for r in rejects if r["field"] == "account_id")
    assert "15 digits" in long_id["error"] and long_id["宽带账号"] == "1.234567890123457e+17"


def test_an_eligibility_run(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path) -> None:
    out = tmp_path / "targets.jsonl"
    summary = run_eligibility(policy, [str(FEEDS / "subscribers.csv")], str(out), pm=pm)
    check_counts(summary, rows_in=7, decided=5, rejected=2)
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert list(rows[0]) == list(ELIGIBILITY_COLUMNS)
    assert [(r["account_id"], r["eligible"], r["reason"]) for r in rows] == [
        ("S001", True, "legacy_plan"), ("S002", False, "bundled_itv"),
        ("S003", False, "single_monthly_excluded"), ("S004", True, "upgraded_community"),
        ("S005", False, "outside_campaign")]
    assert rows[0]["accepted_on"] == "2025-04-01" and rows[2]["accepted_on"] == "2025-04-01"
    rejects = read_csv(tmp_path / "targets.rejects.csv")
    assert [(r["source_row"], r["field"]) for r in rejects] == [("7", "community"),
                                                                ("8", "line_ready")]


def test_a_jsonl_feed_rejects_bad_lines_and_missing_keys(policy: Policy, pm: pluggy.PluginManager,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "bill.csv"
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill.jsonl")], str(out), pm=pm)
    # Line 2 is blank: skipped. J001 has no cancellation keys: JSON leaves out empty ones.
    check_counts(summary, rows_in=7, decided=3, rejected=3, skipped=1)
    assert [r["account_id"] for r in read_csv(out)] == ["J001", "J002", "12345"]
    rejects = read_csv(tmp_path / "bill.rejects.csv")
    assert [(r["source_row"], r["field"]) for r in rejects] == [
        ("4", "(json)"), ("5", "(columns)"), ("6", "(json)")]
    assert "product" in rejects[1]["error"]
    assert rejects[0]["(line)"].startswith('{"account_id": "J003"')
    assert rejects[2]["(line)"] == '["not", "an", "object"]'


def test_a_tmf678_bill_run(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path) -> None:
    out = tmp_path / "bill.tmf.json"
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(out), pm=pm)
    assert summary.rejects == str(tmp_path / "bill.rejects.csv")
    resources = json.loads(out.read_text("utf-8"))
    bills = [r for r in resources if r["@type"] == "CustomerBill"]
    csv_out = tmp_path / "bill.csv"
    run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(csv_out), pm=pm)
    rows = read_csv(csv_out)
    assert summary.decided == len(rows) == 4
    # A bill for every row with something charged or credited; none for the account never installed.
    assert [b["id"] for b in bills] == [r["record_id"] for r in rows if r["gross"] != "0.00"]
    assert [r["code"] for r in rows if r["gross"] == "0.00"] == ["not_installed"]
    trial = bills[1]["id"]
    assert [(r["type"], r["taxIncludedAmount"]["value"]) for r in resources
            if r.get("bill", {}).get("id") == trial] == \
        [("appliedBillingCharge", 35.0), ("appliedBillingCredit", 35.0)]


def test_tmf678_cannot_hold_eligibility(policy: Policy, pm: pluggy.PluginManager,
                                        tmp_path: Path) -> None:
    with pytest.raises(InputError, match="bills"):
        run_eligibility(policy, [str(FEEDS / "subscribers.csv")], str(tmp_path / "x.tmf.json"), pm=pm)
    assert list(tmp_path.iterdir()) == []


# -- identity, streams, destinations ------------------------------------------------------------------

def test_record_ids_are_stable_across_runs(policy: Policy, pm: pluggy.PluginManager,
                                           tmp_path: Path) -> None:
    feed = [str(FEEDS / "bill_bad_rows.csv")]
    run_bill(policy, MONTH, feed, str(tmp_path / "one.csv"), pm=pm)
    run_bill(policy, MONTH, feed, str(tmp_path / "two.jsonl"), pm=itvrules.plugin_manager(autoload=False))
    run_bill(policy, "2025-07", feed, str(tmp_path / "july.csv"), pm=pm)
    one = [r["record_id"] for r in read_csv(tmp_path / "one.csv")]
    two = [json.loads(line)["record_id"] for line in (tmp_path / "two.jsonl").read_text().splitlines()]
    july = [r["record_id"] for r in read_csv(tmp_path / "july.csv")]
    assert one == two and len(set(one)) == 4
    assert not set(one) & set(july)
    assert one[0] == record_id("itv-trial", policy.version, "A001", MONTH)


def test_stdin_to_stdout(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path) -> None:
    stdin = io.BytesIO((FEEDS / "bill_zh_gb18030.csv").read_bytes())
    stdout = io.BytesIO()
    summary = run_bill(policy, MONTH, ["-"], "-", rejects=str(tmp_path / "r.csv"), pm=pm,
                       stdin=stdin, stdout=stdout)
    assert summary.output == "-" and summary.rejects == str(tmp_path / "r.csv")
    rows = list(csv.DictReader(io.StringIO(stdout.getvalue().decode("utf-8-sig"))))
    assert [r["source"] for r in rows] == ["<stdin>"] * 4
    assert (tmp_path / "r.csv").read_text("utf-8-sig").startswith("source,source_row,field,error")


def test_stdout_output_needs_a_rejects_file(policy: Policy, pm: pluggy.PluginManager) -> None:
    with pytest.raises(UsageError, match="--rejects"):
        run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], "-", pm=pm, stdout=io.BytesIO())


@pytest.mark.parametrize(("feeds", "output", "rejects"), [
    (["-", "-"], "bill.csv", None),
    (["x.csv"], "-", "-"),
    (["x.csv"], "out/bill.csv", "out/../out/bill.csv"),
    ([], "bill.csv", None),
])
def test_usage_errors(policy: Policy, pm: pluggy.PluginManager, feeds: list[str], output: str,
                      rejects: str | None) -> None:
    with pytest.raises(UsageError):
        run_bill(policy, MONTH, feeds, output, rejects=rejects, pm=pm)


def test_a_feed_is_never_overwritten(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    shutil.copy(FEEDS / "bill_bad_rows.csv", feed)
    with pytest.raises(UsageError, match="both a feed and an output"):
        run_bill(policy, MONTH, [str(feed)], str(feed), pm=pm)
    assert feed.read_bytes() == (FEEDS / "bill_bad_rows.csv").read_bytes()


def test_named_rejects_are_written_even_when_empty(policy: Policy, pm: pluggy.PluginManager,
                                                   tmp_path: Path) -> None:
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_zh_gb18030.csv")], str(tmp_path / "b.csv"),
                       rejects=str(tmp_path / "r.jsonl"), pm=pm)
    assert summary.rejected == 0 and summary.rejects == str(tmp_path / "r.jsonl")
    assert (tmp_path / "r.jsonl").read_bytes() == b""


def test_progress_is_reported(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("itvrules.runs._pipeline.PROGRESS_EVERY", 3)
    seen: list[int] = []
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "b.csv"),
                       pm=pm, progress=seen.append)
    assert seen == [3, 6, 9, summary.rows_in]


@pytest.mark.durable
def test_the_durable_engine_writes_the_same_export(policy: Policy, pm: pluggy.PluginManager,
                                                   tmp_path: Path) -> None:
    feed = [str(FEEDS / "bill_bad_rows.csv")]
    run_bill(policy, MONTH, feed, str(tmp_path / "compiled.csv"), pm=pm)
    run_bill(policy, MONTH, feed, str(tmp_path / "durable.csv"), engine="durable", pm=pm)
    assert (tmp_path / "compiled.csv").read_bytes() == (tmp_path / "durable.csv").read_bytes()


def test_an_unknown_engine_fails_before_anything_is_written(policy: Policy, pm: pluggy.PluginManager,
                                                            tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="engine"):
        run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "b.csv"),
                 engine="drools", pm=pm)
    assert list(tmp_path.iterdir()) == []


def test_a_row_the_engine_refuses_is_rejected_and_the_run_goes_on(
        policy: Policy, pm: pluggy.PluginManager, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real: Callable[..., Any] = policy._fee_outcome

    def refuse_a002(run: Any, key: Any, month: int, enrollment: Any) -> Any:
        if enrollment.account_id == "A002":
            raise InputError("completed_on", None, "refused for the test")
        return real(run, key, month, enrollment)

    monkeypatch.setattr(policy, "_fee_outcome", refuse_a002)
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "b.csv"),
                       pm=pm)
    check_counts(summary, rows_in=11, decided=3, rejected=8)
    assert [r["account_id"] for r in read_csv(tmp_path / "b.csv")] == ["A001", "A008", "A010"]
    refused = [r for r in read_csv(tmp_path / "b.rejects.csv") if r["source_row"] == "3"]
    assert refused[0]["error"] == "refused for the test"


def test_a_bad_month_is_refused(policy: Policy, pm: pluggy.PluginManager, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="YYYY-MM"):
        run_bill(policy, "2025-6", [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "b.csv"), pm=pm)


def test_a_switched_package_is_billed_after_the_trial(policy: Policy, pm: pluggy.PluginManager,
                                                      tmp_path: Path) -> None:
    run_bill(policy, "2025-07", [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "july.csv"), pm=pm)
    a002 = next(r for r in read_csv(tmp_path / "july.csv") if r["account_id"] == "A002")
    assert (a002["code"], a002["package"], a002["amount"], a002["amount_fen"]) == \
        ("switched", "hd", "30.00", "3000")


def test_headers_are_matched_loosely_but_never_twice(policy: Policy, pm: pluggy.PluginManager,
                                                     tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("*宽带帐号, 产品 类型 ,ＡＣＣＥＰＴＥＤ_ＯＮ,竣工日期,拆机申请日期,拆机生效日期\n"
                    "０５７１,品牌,２０２５-０４-０１,,,\n", encoding="utf-8")
    summary = run_bill(policy, MONTH, [str(feed)], str(tmp_path / "b.csv"), pm=pm)
    check_counts(summary, rows_in=1, decided=1, rejected=0)
    assert read_csv(tmp_path / "b.csv")[0]["account_id"] == "0571"  # NFKC: full-width digits
    feed.write_text("宽带账号,account_id,product,accepted_on,completed_on,cancel_requested_on,"
                    "cancel_effective_on\nA1,A1,brand,2025-04-01,,,\n", encoding="utf-8")
    with pytest.raises(InputError, match="both give account_id") as caught:
        run_bill(policy, MONTH, [str(feed)], str(tmp_path / "c.csv"), pm=pm)
    assert caught.value.field == "(columns)"


@given(st.text(max_size=20), st.sampled_from(["2025-06", "2026-01"]))
def test_a_record_id_is_the_uuid5_of_its_parts(account: str, month: str) -> None:
    import uuid

    from itvrules.runs._common import CHARGE_ITEM, RECORD_NAMESPACE, record_id

    name = "\x1f".join(("itv-trial", "2025.1", account, month, CHARGE_ITEM))
    assert record_id("itv-trial", "2025.1", account, month) == str(uuid.uuid5(RECORD_NAMESPACE, name))
