"""The KPI page for people: figures against targets first, weekly trends, Chinese names with the
codes, "not given" instead of a made-up 0, "no data" instead of empty charts, Chinese that draws."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from test_reports import AS_OF, MONTH, POLICY, enrol, kpi_eligibility, kpi_states, state

from itvrules.reports import KpiReport, kpi, render_html, render_text

NOT_GIVEN = "未提供 not given"


@pytest.fixture(scope="module")
def report() -> KpiReport:
    return kpi(POLICY, kpi_states(), kpi_eligibility(), as_of=AS_OF, month=MONTH)


def installs_report() -> KpiReport:
    """Two installs: one within 7 days of acceptance, one after; as of the third campaign week."""
    states = [
        state(enrol("A1", date(2025, 3, 20), date(2025, 3, 31)), date(2025, 4, 2)),  # due 03-27: late
        state(enrol("A2", date(2025, 3, 23), date(2025, 3, 24)), date(2025, 4, 2)),  # on time
    ]
    return kpi(POLICY, states, None, as_of=date(2025, 4, 2), month="2025-04")


# -- figures ---------------------------------------------------------------------------------------


def test_installs_within_install_days(report: KpiReport) -> None:
    assert (report.install_days, report.installed, report.installed_on_time) == (7, 10, 10)
    assert report.install_rate == Decimal(1)
    late = installs_report()
    assert (late.installed, late.installed_on_time, late.install_rate) == (2, 1, Decimal("0.5"))


def test_weeks_run_monday_to_sunday_from_the_campaign_start_to_as_of() -> None:
    weeks = installs_report().weeks
    assert POLICY.campaign_window[0] == date(2025, 3, 20)  # a Thursday, in week 2025-W12
    assert [(w.week, w.monday, w.sunday) for w in weeks] == [
        ("2025-W12", date(2025, 3, 17), date(2025, 3, 23)),
        ("2025-W13", date(2025, 3, 24), date(2025, 3, 30)),
        ("2025-W14", date(2025, 3, 31), date(2025, 4, 6)),
    ]
    assert [w.accepted for w in weeks] == [2, 0, 0]  # Thursday and Sunday of W12
    assert [(w.installed, w.installed_on_time) for w in weeks] == [(0, 0), (1, 1), (1, 0)]
    assert [w.install_rate for w in weeks] == [None, Decimal(1), Decimal(0)]


def test_the_weeks_add_up_to_the_totals(report: KpiReport) -> None:
    assert report.weeks[0].monday <= POLICY.campaign_window[0] <= report.weeks[0].sunday
    assert report.weeks[-1].monday <= AS_OF <= report.weeks[-1].sunday
    assert sum(w.accepted for w in report.weeks) == report.enrolments == 13
    assert sum(w.installed for w in report.weeks) == report.installed
    assert sum(w.converted for w in report.weeks) == report.converted_paid + report.converted_switched
    assert sum(w.cancel_requested for w in report.weeks) == report.cancel_requested == 3


def test_waived_fees_by_month_end_with_the_report_month(report: KpiReport) -> None:
    months = report.waived_by_month
    assert list(months) == ["2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    assert months["2025-07"] == report.waived_total == Decimal("245.00")
    for month in ("2025-03", "2025-05"):
        other = kpi(POLICY, kpi_states(), None, as_of=AS_OF, month=month)
        assert months[month] == other.waived_total
    assert months["2025-03"] > 0


# -- not given, no data ----------------------------------------------------------------------------


def test_a_figure_without_its_input_says_not_given() -> None:
    report = installs_report()  # no eligibility results, no viewing hours
    assert report.eligibility_given is False and report.usage_given is False
    text = render_text(report)
    assert "trial rate 体验率" in text
    assert f"{NOT_GIVEN}: no eligibility results (--eligibility)" in text
    assert f"{NOT_GIVEN}: no viewing hours (ingest --usage)" in text
    assert not re.search(r"silent \(0 h\) 沉默用户\s+0\b", text)
    page = render_html(report)
    assert page.count(f"{NOT_GIVEN}: no eligibility results (--eligibility)") == 2  # card and table


def test_given_but_empty_eligibility_is_no_rate_not_not_given() -> None:
    report = kpi(POLICY, [], [], as_of=AS_OF, month=MONTH)
    assert report.eligibility_given is True
    assert NOT_GIVEN not in render_text(report).split("状态 lifecycle")[0]


def test_a_chart_without_data_says_no_data() -> None:
    page = render_html(kpi(POLICY, [], None, as_of=AS_OF, month=MONTH))
    assert page.count('<div class="nodata">暂无数据 no data</div>') == 4
    assert "<img" not in page


def test_only_the_empty_charts_say_no_data() -> None:
    page = render_html(installs_report())  # installs but no conversion or cancellation yet
    assert page.count('<div class="nodata">') == 1
    assert "每周转正与注销申请 <small>conversions and cancellation requests per week</small>" \
        "</figcaption><div class=\"nodata\">" in page
    assert page.count("<img") == 3


# -- the page ----------------------------------------------------------------------------------------


def test_the_page_leads_with_the_figures_then_trends_then_the_table(report: KpiReport) -> None:
    page = render_html(report)
    cards = page.index('<div class="cards">')
    charts = page.index('<div class="charts">')
    table = page.index('<table class="kpi">')
    assert cards < charts < table
    lead = page[cards:charts]
    for name in ("新装体验率", "7天内装机", "转正", "注销", "减免金额"):
        assert name in lead
    assert "目标 target ≥ 85.0%" in lead and "75.0%" in lead and "未达标 not met" in lead
    # every install done was within 7 days, but W1 waits past its due date: not met
    assert "10 / 10 已竣工 installs · 1 超期未装 overdue" in lead
    assert lead.count("未达标 not met") == 2
    assert "245.00 CNY" in lead


def test_names_are_chinese_with_the_code_in_small_print(report: KpiReport) -> None:
    page = render_html(report)
    assert "转正缴费 <small>converted_paid</small>" in page
    assert "逾期注销减免 <small>late_cancel_waiver</small>" in page
    text = render_text(report)
    assert "转正缴费 converted_paid" in text and "state converted_paid" not in text


# -- Chinese in the charts ---------------------------------------------------------------------------


def chart_pages() -> list[KpiReport]:
    return [kpi(POLICY, kpi_states(), kpi_eligibility(), as_of=AS_OF, month=MONTH), installs_report()]


def test_chart_labels_never_draw_as_empty_boxes() -> None:
    from itvrules.reports import _charts, _fonts

    labels: list[str] = []
    real = (_charts.weekly_bars, _charts.weekly_rate, _charts.monthly_amounts)

    def spy(draw):  # type: ignore[no-untyped-def]
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            labels.extend(a for a in args if isinstance(a, str))
            labels.extend(name for arg in args if isinstance(arg, list)
                          for name, *_ in (x if isinstance(x, tuple) else (x,) for x in arg)
                          if isinstance(name, str))
            return draw(*args, **kwargs)
        return wrapped

    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" when it would draw a box: fail instead
        warnings.filterwarnings("error", message=".*missing from.*font")
        for draw in real:
            patch.setattr(_charts, draw.__name__, spy(draw))
        for report in chart_pages():
            render_html(report)
    assert any(re.search(r"[\u4e00-\u9fff]", text) for text in labels) == (_fonts.cjk_font() is not None)
    assert _fonts.missing_glyphs(labels) == set()


def test_a_font_that_draws_chinese_is_found() -> None:
    from itvrules.reports import _fonts

    found = _fonts.cjk_font()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have a CJK font (.ci/run installs fonts-wqy-zenhei)")
        pytest.skip("no font on this machine draws Chinese: the charts fall back to English labels")
    assert _fonts.missing_glyphs([_fonts.SAMPLE, "每周受理与竣工 及时率 目标 元 户"]) == set()
    assert _fonts.label("受理", "accepted") == "受理 accepted"


# -- in a browser ------------------------------------------------------------------------------------


def _chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome")
                 if (path := shutil.which(name))), None)


def test_the_page_in_headless_chromium(report: KpiReport, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium) to render the page")
    page = tmp_path / "kpi.html"
    page.write_text(render_html(report), encoding="utf-8")
    shot = tmp_path / "kpi.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1280,2000",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], check=True,
                         capture_output=True, timeout=120).stdout.decode("utf-8")
    for name in ("新装体验率", "7天内装机", "每周趋势", "转正缴费"):
        assert name in dom

    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert float(pixels[..., :3].std()) > 0.05  # not a blank page
    top = pixels[:700, :, :3]  # the cards: dark text on a light page
    assert float((top.mean(axis=2) < 0.4).mean()) > 0.005
