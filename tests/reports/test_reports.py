"""The Monday extract and the KPI report (§四(五), SPEC §8): lists, files, figures, pages."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from python_calamine import CalamineWorkbook

import itvrules
from itvrules.formats import display_width as width
from itvrules.lifecycle import EnrollmentState, Event, events_from_enrollment, replay
from itvrules.policy._resources import default_policy_path
from itvrules.reports import (
    KpiReport,
    enrollment_from_state,
    kpi,
    parse_iso_week,
    previous_week,
    render_html,
    render_text,
    weekly_extract,
    write_weekly_csv,
    write_weekly_xlsx,
)
from paths import ROOT

POLICY = itvrules.load_policy()
DOCS = ROOT / "docs" / "reports.md"


def enrol(account: str, accepted: date, completed: date | None = None, **fields: object
          ) -> itvrules.Enrollment:
    values: dict[str, object] = {"product": "brand", "channel": "营业厅", "contact_phone": "13800000000",
                                 "prior_modem": "ordinary"}
    values.update(fields)
    return itvrules.Enrollment(account_id=account, accepted_on=accepted, completed_on=completed,
                               **values)  # type: ignore[arg-type]


def state(enr: itvrules.Enrollment, as_of: date, *extra: Event) -> EnrollmentState:
    return replay(POLICY, [*events_from_enrollment(enr), *extra], as_of=as_of)


def ev(account: str, kind: str, on: date, **data: str) -> Event:
    return Event(account_id=account, kind=kind, on=on, data=data)  # type: ignore[arg-type]


# -- ISO weeks ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("week", "monday"), [
    ("2025-W14", date(2025, 3, 31)),
    ("2025-W01", date(2024, 12, 30)),
    ("2026-W01", date(2025, 12, 29)),
    ("2026-W53", date(2026, 12, 28)),
    ("2020-W53", date(2020, 12, 28)),
    ("2025-W52", date(2025, 12, 22)),
])
def test_parse_iso_week(week: str, monday: date) -> None:
    assert parse_iso_week(week) == (monday, monday + timedelta(days=6))
    assert monday.weekday() == 0


@pytest.mark.parametrize("bad", ["2025-W00", "2025-W53", "2025-W54", "2025-14", "2025W14", "2025-w14",
                                 " 2025-W14", "2025-W1", "２０２５-W14", "", 202514, None])
def test_bad_iso_week_is_named(bad: object) -> None:
    with pytest.raises(itvrules.InputError) as err:
        parse_iso_week(bad)
    assert err.value.field == "week"
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(("run_day", "week"), [
    (date(2025, 4, 7), "2025-W14"),   # a Monday run extracts the week before
    (date(2025, 4, 13), "2025-W14"),  # any day of W15 extracts W14
    (date(2026, 1, 5), "2026-W01"),   # W01 of 2026 began in 2025
    (date(2025, 12, 29), "2025-W52"),
])
def test_previous_week(run_day: date, week: str) -> None:
    assert previous_week(run_day) == week


# -- the Monday extract ------------------------------------------------------------------------

RUN_DAY = date(2025, 4, 10)  # states replayed a few days after the week's Sunday
WEEK = "2025-W14"  # 2025-03-31 .. 2025-04-06


def week_enrolments() -> list[itvrules.Enrollment]:
    return [
        enrol("SUN-BEFORE", date(2025, 3, 24), date(2025, 3, 30)),
        enrol("MON", date(2025, 3, 28), date(2025, 3, 31)),
        enrol("SUN", date(2025, 3, 25), date(2025, 4, 6), channel="客服中心"),  # installed late
        enrol("MON-AFTER", date(2025, 4, 1), date(2025, 4, 7)),  # waiting on Sunday
        enrol("WAITING", date(2025, 4, 2)),
        enrol("OVERDUE", date(2025, 3, 20)),
        enrol("LATER", date(2025, 4, 8)),  # accepted after the week
        enrol("RETURNED", date(2025, 4, 1), returned=True, return_reason="线路不具备"),
        enrol("WITHDRAWN", date(2025, 4, 1), cancel_requested_on=date(2025, 4, 3)),
        enrol("WITHDRAWN-AFTER", date(2025, 4, 1), cancel_requested_on=date(2025, 4, 8)),
    ]


def week_states() -> list[EnrollmentState]:
    return [state(e, RUN_DAY) for e in week_enrolments()]


def test_extract_picks_monday_to_sunday_by_completion() -> None:
    extract = weekly_extract(POLICY, week_states(), WEEK)
    assert (extract.monday, extract.sunday) == (date(2025, 3, 31), date(2025, 4, 6))
    assert [r.account_id for r in extract.new_trials] == ["MON", "SUN"]
    late = extract.new_trials[1]
    assert late.completed_on == date(2025, 4, 6)
    assert late.trial_end == date(2025, 6, 30)
    assert late.install_due == date(2025, 4, 1) and late.install_overdue
    assert late.channel == "客服中心" and late.contact_phone == "13800000000"
    assert not extract.new_trials[0].install_overdue


def test_extract_lists_orders_waiting_on_sunday() -> None:
    extract = weekly_extract(POLICY, week_states(), WEEK)
    assert [r.account_id for r in extract.not_installed] == [
        "OVERDUE", "MON-AFTER", "WITHDRAWN-AFTER", "WAITING"]
    # the same accounts a replay as of Sunday finds in state `accepted`
    sunday = date(2025, 4, 6)
    on_sunday = {e.account_id for e in week_enrolments() if e.accepted_on <= sunday and replay(
        POLICY, [x for x in events_from_enrollment(e) if x.on <= sunday], as_of=sunday).state == "accepted"}
    assert {r.account_id for r in extract.not_installed} == on_sunday
    rows = {r.account_id: r for r in extract.not_installed}
    assert rows["OVERDUE"].install_overdue and rows["OVERDUE"].install_due == date(2025, 3, 27)
    assert not rows["WAITING"].install_overdue
    assert rows["MON-AFTER"].completed_on is None and rows["MON-AFTER"].trial_end is None


def test_extract_recipients_come_from_the_policy(tmp_path: Path) -> None:
    assert weekly_extract(POLICY, [], WEEK).recipients == ("客服中心 孙建", "市场部")
    text = default_policy_path().read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("weekly_extract: [客服中心 孙建, 市场部]",
                                    "weekly_extract: [客服中心 张三]"), encoding="utf-8")
    assert weekly_extract(itvrules.load_policy(changed), [], WEEK).recipients == ("客服中心 张三",)
    missing = tmp_path / "missing.yaml"
    missing.write_text(text.replace("    weekly_extract: [客服中心 孙建, 市场部]\n", ""), encoding="utf-8")
    with pytest.raises(itvrules.PolicyError, match="weekly_extract"):
        weekly_extract(itvrules.load_policy(missing), [], WEEK)


def test_extract_refuses_states_replayed_before_sunday_and_duplicates() -> None:
    early = state(enrol("A1", date(2025, 4, 1)), date(2025, 4, 5))
    with pytest.raises(itvrules.InputError, match="A1") as err:
        weekly_extract(POLICY, [early], WEEK)
    assert err.value.field == "as_of"
    twice = state(enrol("A1", date(2025, 4, 1)), RUN_DAY)
    with pytest.raises(itvrules.InputError, match="twice"):
        weekly_extract(POLICY, [twice, twice], WEEK)
    with pytest.raises(itvrules.InputError) as bad_week:
        weekly_extract(POLICY, [twice], "2025-W99")
    assert bad_week.value.field == "week"


HEADERS = ["清单", "周次", "宽带账号", "受理渠道", "联系电话", "产品类型", "受理日期", "竣工日期",
           "体验到期日", "应装日期", "安装超期"]


def test_weekly_csv_has_bom_chinese_headers_and_both_lists(tmp_path: Path) -> None:
    states = [*week_states(), state(enrol("0012", date(2025, 4, 3), date(2025, 4, 4),
                                           channel="=HYPERLINK(\"x\")", contact_phone="+8613800000000"),
                                     RUN_DAY)]
    extract = weekly_extract(POLICY, states, WEEK)
    path = tmp_path / "extract.csv"
    write_weekly_csv(extract, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    body = rows[1:]
    assert [(r[0], r[2]) for r in body] == (
        [("新增体验用户", a) for a in ("MON", "0012", "SUN")]
        + [("已受理未安装", a) for a in ("OVERDUE", "MON-AFTER", "WITHDRAWN-AFTER", "WAITING")])
    assert all(r[1] == WEEK for r in body)
    guarded = body[1]
    assert guarded[2] == "0012"  # leading zeros kept
    assert guarded[3] == "'=HYPERLINK(\"x\")" and guarded[4] == "'+8613800000000"
    assert guarded[5] == "品牌" and guarded[7] == "2025-04-04" and guarded[8] == "2025-06-30"
    assert body[0][10] == "否" and body[2][10] == "是"


def test_weekly_csv_gb18030_on_request(tmp_path: Path) -> None:
    extract = weekly_extract(POLICY, week_states(), WEEK)
    path = tmp_path / "extract.csv"
    write_weekly_csv(extract, path, encoding="gb18030")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("gb18030").splitlines()[0] == ",".join(HEADERS)
    with pytest.raises(itvrules.InputError) as err:
        write_weekly_csv(extract, path, encoding="gbk")
    assert err.value.field == "encoding"


def test_weekly_xlsx_has_a_sheet_per_list_under_a_title(tmp_path: Path) -> None:
    states = [*week_states(), state(enrol("0012", date(2025, 4, 3), date(2025, 4, 4), channel="=1+1"),
                                    RUN_DAY)]
    extract = weekly_extract(POLICY, states, WEEK)
    path = tmp_path / "extract.xlsx"
    write_weekly_xlsx(extract, path)
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["新增体验用户", "已受理未安装"]
    trials = book.get_sheet_by_name("新增体验用户").to_python()
    title = trials[0][0]
    assert WEEK in title and "2025-03-31" in title and "2025-04-06" in title
    assert "客服中心 孙建" in title and "市场部" in title and "共 3 户" in title
    assert trials[1] == HEADERS[2:]
    assert [r[0] for r in trials[2:]] == ["MON", "0012", "SUN"]
    assert trials[3][1] == "=1+1"  # text stays text, never a formula
    assert trials[3][5] == date(2025, 4, 4) and trials[3][6] == date(2025, 6, 30)
    waiting = book.get_sheet_by_name("已受理未安装").to_python()
    assert "共 4 户" in waiting[0][0]
    assert [r[0] for r in waiting[2:]] == ["OVERDUE", "MON-AFTER", "WITHDRAWN-AFTER", "WAITING"]
    assert waiting[2][5] == "" and waiting[2][8] == "是"


def test_weekly_xlsx_is_laid_out_to_read_and_print_and_rewrites_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl
    from openpyxl.utils import get_column_letter

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    states = [*week_states(), state(enrol("07930000000000000012", date(2025, 4, 3), date(2025, 4, 4),
                                          channel="伊山营业厅提速现场营销组"), RUN_DAY)]
    extract = weekly_extract(POLICY, states, WEEK)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_weekly_xlsx(extract, first)
    write_weekly_xlsx(extract, second)
    assert first.read_bytes() == second.read_bytes()
    book = openpyxl.load_workbook(first)
    assert book.properties.created == datetime(2025, 4, 6)  # the week's Sunday
    for sheet in book.worksheets:
        last = get_column_letter(sheet.max_column)
        assert sheet.auto_filter.ref == f"A2:{last}{max(sheet.max_row, 2)}"  # the header, row 2
        assert sheet.freeze_panes == "A3"  # title and header stay in view
        assert sheet.print_title_rows == "$1:$2"
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        widths = {c: dim.width for dim in sheet.column_dimensions.values() if dim.min
                  for c in range(dim.min, dim.max + 1)}  # a run of equal widths is kept once
        for column in range(1, sheet.max_column + 1):
            fitted = widths[column]
            for row in range(2, sheet.max_row + 1):
                value = sheet.cell(row, column).value
                shown = 11 if isinstance(value, datetime) else width(str(value or ""))
                assert fitted >= shown, (sheet.title, row, column, value, fitted)
    trials = book["新增体验用户"]
    ids = [trials.cell(r, 1).value for r in range(3, trials.max_row + 1)]
    assert "07930000000000000012" in ids
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1751328000")
    write_weekly_xlsx(extract, second)
    assert openpyxl.load_workbook(second).properties.created == datetime(2025, 7, 1)


# -- KPI -----------------------------------------------------------------------------------------

AS_OF = date(2025, 7, 10)
MONTH = "2025-07"


def kpi_states() -> list[EnrollmentState]:
    """A hand-built campaign on 2025-07-10; the comments give each account's July fee."""
    usage = {  # viewing hours of the months of the first 30 days from completion
        "N1": [("2025-05", "30"), ("2025-06", "30")],  # 30 x 7/31 + 30 x 23/30 = 29.77 h
        "T1": [("2025-06", "0")],                      # silent
        "T2": [("2025-06", "4.5")],                    # 4.5 x 21/30 = 3.15 h: low usage
        "T3": [("2025-07", "12")],                     # 12 x 30/31 = 11.61 h
    }
    enrolments = [
        enrol("N1", date(2025, 5, 20), date(2025, 5, 25)),                      # trial, month 3
        enrol("N2", date(2025, 3, 25), date(2025, 3, 28)),                      # default_paid 35
        enrol("N3", date(2025, 4, 1), date(2025, 4, 2), switched_to="basic"),   # switched 20
        enrol("C1", date(2025, 4, 8), date(2025, 4, 10), channel="客服中心",
              cancel_requested_on=date(2025, 6, 28)),                           # late waiver 35
        enrol("C2", date(2025, 3, 25), date(2025, 3, 30), channel="客服中心",
              cancel_requested_on=date(2025, 5, 20), cancel_effective_on=date(2025, 5, 28)),
        enrol("C3", date(2025, 4, 1), date(2025, 4, 5), channel="客服中心",
              cancel_requested_on=date(2025, 6, 20), cancel_effective_on=date(2025, 7, 3)),
        enrol("T1", date(2025, 6, 1), date(2025, 6, 5), channel="伊山一分局"),   # silent
        enrol("T2", date(2025, 6, 8), date(2025, 6, 10), channel="伊山一分局"),  # low usage
        enrol("T3", date(2025, 6, 30), date(2025, 7, 2), channel="伊山一分局"),
        enrol("T4", date(2025, 6, 12), date(2025, 6, 15), channel="伊山一分局"),  # no usage: silent
        enrol("W1", date(2025, 6, 25)),                                          # overdue install
        enrol("W2", date(2025, 7, 8)),
        enrol("R1", date(2025, 4, 1), returned=True, return_reason="线路不具备"),
    ]
    out = []
    for enr in enrolments:
        extra = []
        for month, hours in usage.get(enr.account_id, []):
            extra.append(ev(enr.account_id, "usage", AS_OF, month=month, hours=hours))
        if enr.account_id == "C2":
            extra.append(ev("C2", "terminals_recovered", date(2025, 6, 2), terminals="stb,e8b"))
        out.append(state(enr, AS_OF, *extra))
    return out


def new_install(account: str) -> itvrules.Eligibility:
    sub = itvrules.Subscriber(account_id=account, plan="e8-68", product="brand", new_install=True)
    return POLICY.eligibility(sub, accepted_on=date(2025, 4, 1))


def kpi_eligibility() -> list[itvrules.Eligibility]:
    legacy = [POLICY.eligibility(itvrules.Subscriber(account_id=a, plan="e8-68", product="brand"),
                                 accepted_on=date(2025, 4, 1)) for a in ("T1", "T2", "T3", "T4")]
    excluded = POLICY.eligibility(itvrules.Subscriber(account_id="Z1", plan="e8-68",
                                                      product="single_monthly", new_install=True),
                                  accepted_on=date(2025, 4, 1))
    enrolled = [new_install(a) for a in ("N1", "N2", "N3", "C1", "C2", "C3")]
    return [*enrolled, new_install("N1"), new_install("X1"), new_install("X2"), *legacy, excluded]


@pytest.fixture(scope="module")
def report() -> KpiReport:
    return kpi(POLICY, kpi_states(), kpi_eligibility(), as_of=AS_OF, month=MONTH)


def test_kpi_trial_rate_against_target(report: KpiReport) -> None:
    assert (report.eligible_new_installs, report.enrolled_new_installs) == (8, 6)
    assert report.trial_rate == Decimal("0.75")
    assert report.trial_rate_target == Decimal("0.85")
    assert report.trial_rate_met is False


@pytest.mark.parametrize(("enrolled", "eligible", "rate", "met"), [
    (17, 20, Decimal("0.85"), True),    # exactly the target passes (不低于 85%)
    (16, 19, Decimal(16) / Decimal(19), False),
    (3, 3, Decimal(1), True),
    (0, 0, None, None),
])
def test_kpi_trial_rate_boundaries(enrolled: int, eligible: int, rate: Decimal | None,
                                   met: bool | None) -> None:
    accounts = [f"E{i:02d}" for i in range(eligible)]
    states = [state(enrol(a, date(2025, 4, 1)), date(2025, 4, 2)) for a in accounts[:enrolled]]
    result = kpi(POLICY, states, [new_install(a) for a in accounts], as_of=date(2025, 4, 2),
                 month="2025-04")
    assert result.trial_rate == rate
    assert result.trial_rate_met is met


def test_kpi_counts_states_conversions_and_cancellations(report: KpiReport) -> None:
    assert report.enrolments == 13
    assert report.states == {"accepted": 2, "returned": 1, "trial": 5, "converted_paid": 1,
                             "converted_switched": 1, "cancelling": 1, "closed": 2}
    assert list(report.states) == list(POLICY.document.lifecycle_states)
    assert (report.converted_paid, report.converted_switched) == (1, 1)
    assert report.trials_ended == 5
    assert report.conversion_rate == Decimal("0.4")
    assert (report.cancel_requested, report.cancel_effective) == (3, 2)
    assert report.late_cancellations == ("C1", "C3")


def test_kpi_waivers_are_the_policy_fees_of_the_month(report: KpiReport) -> None:
    assert report.waivers == {"trial": Decimal("175.00"), "late_cancel_waiver": Decimal("70.00")}
    assert all(isinstance(v, Decimal) for v in report.waivers.values())
    assert report.waived_total == Decimal("245.00")
    assert report.billed == Decimal("55.00")
    assert report.fee_codes == {"cancelled": 1, "default_paid": 1, "late_cancel_waiver": 2,
                                "not_installed": 1, "not_started": 2, "switched": 1, "trial": 5}


def test_kpi_usage_installs_and_recoveries(report: KpiReport) -> None:
    assert report.silent_users == ("T1", "T4")
    assert report.low_usage_users == ("T2",)
    assert report.low_usage_hours == Decimal(10)
    assert report.overdue_installs == ("W1",)
    assert report.recoveries_open == ("C3",)
    assert report.recoveries_done == ("C2",)
    channels = {c.channel: c for c in report.by_channel}
    assert report.by_channel[0].channel == "营业厅"
    assert attrs.astuple(channels["客服中心"])[1:] == (3, 3, 0, 0, 3)
    assert attrs.astuple(channels["营业厅"])[1:] == (6, 3, 1, 2, 0)


def test_kpi_refuses_states_of_another_day_and_bad_input() -> None:
    states = kpi_states()
    with pytest.raises(itvrules.InputError, match="N1") as err:
        kpi(POLICY, states, [], as_of=AS_OF + timedelta(days=1), month=MONTH)
    assert err.value.field == "as_of"
    with pytest.raises(itvrules.InputError) as month:
        kpi(POLICY, states, [], as_of=AS_OF, month="2025-7")
    assert month.value.field == "month"
    with pytest.raises(itvrules.InputError) as results:
        kpi(POLICY, states, ["N1"], as_of=AS_OF, month=MONTH)  # type: ignore[list-item]
    assert results.value.field == "eligibility_results"
    bad_usage = state(enrol("U1", date(2025, 7, 1), date(2025, 7, 2)), AS_OF,
                      ev("U1", "usage", date(2025, 7, 3), month="2025-07", hours="lots"))
    with pytest.raises(itvrules.InputError, match="U1") as usage:
        kpi(POLICY, [bad_usage], [], as_of=AS_OF, month=MONTH)
    assert usage.value.field == "hours"


@pytest.mark.parametrize("enr", [
    enrol("F1", date(2025, 3, 25), date(2025, 3, 31)),
    enrol("F2", date(2025, 4, 1), date(2025, 4, 2), switched_to="basic"),
    enrol("F3", date(2025, 4, 1), date(2025, 4, 5), cancel_requested_on=date(2025, 6, 20),
          cancel_effective_on=date(2025, 8, 3)),
    enrol("F4", date(2025, 4, 1), cancel_effective_on=date(2025, 4, 3)),
    enrol("F5", date(2025, 4, 1), returned=True, return_reason="无线路"),
    enrol("F6", date(2025, 4, 1), date(2025, 4, 1), product="annual", prior_modem="e8b"),
], ids=lambda e: e.account_id)
def test_rebuilt_enrollment_bills_like_the_original(enr: itvrules.Enrollment) -> None:
    rebuilt = enrollment_from_state(state(enr, date(2025, 9, 30)))
    for month in ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09"):
        assert POLICY.fee(rebuilt, month) == POLICY.fee(enr, month)


# -- rendering ---------------------------------------------------------------------------------

def test_render_text_is_aligned_and_has_the_figures(report: KpiReport) -> None:
    text = render_text(report)
    assert "75.0%" in text and ">= 85.0%" in text and "not met" in text
    assert "175.00 CNY" in text and "70.00 CNY" in text and "245.00 CNY" in text
    figures = [line for line in text.splitlines() if "§" in line]
    assert len(figures) > 20
    assert len({width(line[:line.index("§")]) for line in figures}) == 1
    grid = text.split("渠道 by channel\n", 1)[1].splitlines()
    assert grid[1].split() == ["营业厅", "6", "3", "1", "2", "0"]
    assert len({width(line) for line in grid}) == 1


IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def test_render_html_is_self_contained(report: KpiReport) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page and "@import" not in page
    assert "url(" not in page
    for attribute in re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page):
        assert attribute.startswith("data:image/png;base64,")
    images = IMG.findall(page)
    assert len(images) >= 3
    for data in images:
        png = base64.b64decode(data, validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(png[16:20], "big") > 100  # IHDR width
    assert "<style>" in page and "Content-Security-Policy" in page
    for alt in ("accepted and installed per week", "installs within 7 days", "waived fees"):
        assert alt in page
    assert "75.0%" in page and "245.00 CNY" in page and 'class="num fail"' in page
    assert render_html(report) == page  # the same report renders the same page


def test_render_html_escapes_every_text() -> None:
    hostile = '<script>alert("x")</script> & co'
    states = [state(enrol("H1", date(2025, 4, 1), date(2025, 4, 2), channel=hostile), date(2025, 4, 3))]
    page = render_html(kpi(POLICY, states, [new_install("H1")], as_of=date(2025, 4, 3), month="2025-04"))
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert 'class="num pass"' in page


def test_docs_name_every_kpi_field() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    missing = [f.name for f in attrs.fields(KpiReport) if f"`{f.name}`" not in doc]
    assert not missing
