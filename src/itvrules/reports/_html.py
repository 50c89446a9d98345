"""The KPI report as one self-contained HTML page: inline CSS, charts as data: PNGs.

The page leads with the key figures against their targets (one card each),
then their week-by-week trend, then every figure in a table and the
channels. Names are Chinese with the English code in small print; a figure
whose input was not given says so, and a chart with nothing to draw says
"暂无数据 no data" instead of drawing empty axes.

The page is mailed and opened offline, so it loads nothing: no external CSS,
script, font or image, and a Content-Security-Policy that forbids them if a
name ever smuggled one in. Every text from data is escaped.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from html import escape

import attrs

from ..operations._names import chinese_name
from ._kpi import KpiReport
from ._table import NO_ELIGIBILITY, NO_USAGE, NOT_GIVEN, lines, money, percent
from ._text import CHANNEL_HEADERS, NO_CHANNEL

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei",
       sans-serif; margin: 2em auto; padding: 0 1.5em; color: #222; max-width: 64em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
small, .en { color: #666; font-size: .8em; font-weight: normal; }
p.meta { color: #555; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(18em, 1fr)); gap: 1em; }
.card { border: 1px solid #d5dbe3; border-radius: 6px; padding: .8em 1em; background: #fafbfd; }
.card h3 { margin: 0 0 .4em; font-size: 1em; }
.card .value { font-size: 2.1em; font-weight: bold; line-height: 1.2; }
.card .value.text { font-size: 1.05em; color: #666; font-weight: normal; }
.card .detail, .card .target { color: #444; font-size: .9em; margin: .3em 0 0; }
.status { display: inline-block; border-radius: 3px; padding: .05em .5em; font-size: .85em;
          margin-top: .5em; }
.status.pass { background: #e3f1e4; color: #2e7d32; }
.status.fail { background: #fbe4e4; color: #c62828; }
.status.none { background: #eceff3; color: #555; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(30em, 1fr)); gap: 1em; }
figure { margin: 0; }
figcaption { font-weight: bold; margin-bottom: .3em; }
.nodata { border: 1px dashed #bbb; color: #777; padding: 2.5em 1em; text-align: center;
          border-radius: 4px; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .7em; text-align: left; }
th { background: #e8eef6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.section th { background: #f4f6f9; font-weight: bold; }
td.pass { color: #2e7d32; font-weight: bold; }
td.fail { color: #c62828; font-weight: bold; }
"""
NO_DATA = "暂无数据 no data"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _names(chinese: str, english: str) -> str:
    """``转正缴费 <small>converted_paid</small>``: Chinese first, the English code small."""
    return f"{_e(chinese)} <small>{_e(english)}</small>"


@attrs.frozen
class Card:
    """One key figure: its name, the value, what it is measured against, and the verdict."""

    chinese: str
    english: str
    value: str
    detail: str
    target: str
    #: (text, css class): "pass", "fail" or "none"
    status: tuple[str, str]


def _verdict(met: bool | None, missing: str = "n/a 无法判断") -> tuple[str, str]:
    if met is None:
        return missing, "none"
    return ("达标 met", "pass") if met else ("未达标 not met", "fail")


def cards(report: KpiReport) -> list[Card]:
    """The figures the page leads with, each against its target where the notice sets one."""
    target = f"目标 target ≥ {percent(report.trial_rate_target)} · §二(三)"
    if not report.eligibility_given:
        rate = Card("新装体验率", "trial rate of new installs", NO_ELIGIBILITY, "", target,
                    ("未提供 not given", "none"))
    else:
        rate = Card("新装体验率", "trial rate of new installs", percent(report.trial_rate),
                    f"{report.enrolled_new_installs} / {report.eligible_new_installs} 符合条件的新装已参加 "
                    "eligible new installs enrolled", target,
                    _verdict(report.trial_rate_met, "无符合条件的新装 no eligible new install"))
    days = report.install_days
    install_met = None if report.install_rate is None else (
        report.installed_on_time == report.installed and not report.overdue_installs)
    installs = Card(f"{days}天内装机", f"installed within {days} days", percent(report.install_rate),
                    f"{report.installed_on_time} / {report.installed} 已竣工 installs · "
                    f"{len(report.overdue_installs)} 超期未装 overdue",
                    f"目标 target: 全部 {days} 天内 all within {days} days · §四(四)1",
                    _verdict(install_met, "暂无竣工 no install yet"))
    converted = report.converted_paid + report.converted_switched
    conversions = Card("转正", "conversions", str(converted),
                       f"转正缴费 converted_paid {report.converted_paid} · 转换套餐 converted_switched "
                       f"{report.converted_switched} · 转化率 rate {percent(report.conversion_rate)} "
                       f"of {report.trials_ended} 体验到期 trials ended",
                       "通知未设目标 no target in the notice · §四(二)2", ("— no target", "none"))
    cancellations = Card("注销", "cancellations", str(report.cancel_requested),
                         f"申请 requested {report.cancel_requested} · 生效 effective "
                         f"{report.cancel_effective} · 逾期未生效 late {len(report.late_cancellations)}",
                         "通知未设目标 no target in the notice · §四(五)2", ("— no target", "none"))
    waived = Card("减免金额", f"waived fees {report.month}", money(report.waived_total),
                  " · ".join(f"{chinese_name('fee', code) or code} {code} {money(amount)}"
                             for code, amount in report.waivers.items()),
                  f"应收 billed {money(report.billed)} · §三, §四(五)2", ("— cost", "none"))
    if report.usage_given:
        calls = Card("首月外呼优先", "first-month call priority",
                     str(len(report.silent_users) + len(report.low_usage_users)),
                     f"沉默用户 silent {len(report.silent_users)} · 低使用量 under "
                     f"{report.low_usage_hours} h {len(report.low_usage_users)} · 体验中 in trial "
                     f"{report.states.get('trial', 0)}", "§四(五)1", ("— to call first", "none"))
    else:
        calls = Card("首月外呼优先", "first-month call priority", NO_USAGE, "", "§四(五)1",
                     ("未提供 not given", "none"))
    return [rate, installs, conversions, cancellations, waived, calls]


def _card(card: Card) -> str:
    numeric = not card.value.startswith(NOT_GIVEN)
    value_css = "value" if numeric else "value text"
    detail = f'<p class="detail">{_e(card.detail)}</p>' if card.detail else ""
    text, css = card.status
    return (f'<section class="card"><h3>{_names(card.chinese, card.english)}</h3>'
            f'<div class="{value_css}">{_e(card.value)}</div>{detail}'
            f'<p class="target">{_e(card.target)}</p>'
            f'<span class="status {css}">{_e(text)}</span></section>')


def _img(png: bytes, caption: str, english: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><figcaption>{_names(caption, english)}</figcaption>"
            f'<img src="data:image/png;base64,{data}" alt="{_e(caption)} {_e(english)}"></figure>')


def _no_data(caption: str, english: str) -> str:
    return (f"<figure><figcaption>{_names(caption, english)}</figcaption>"
            f'<div class="nodata">{_e(NO_DATA)}</div></figure>')


def trend_charts(report: KpiReport) -> list[str]:
    """The week-by-week trend of the figures (money by billing month), or "no data" for each."""
    # matplotlib takes a while to import: only a page with charts pays for it.
    from .._extras import require

    require("drawing the report's charts", "matplotlib")
    from ._charts import monthly_amounts, weekly_bars, weekly_rate
    from ._fonts import label

    weeks = [w.week for w in report.weeks]
    out = []
    caption, english = "每周受理与竣工", "orders accepted and installed per week"
    if any(w.accepted or w.installed for w in report.weeks):
        out.append(_img(weekly_bars(weeks, [
            (label("受理", "accepted"), [w.accepted for w in report.weeks]),
            (label("竣工", "installed"), [w.installed for w in report.weeks])],
            label("户", "accounts")), caption, english))
    else:
        out.append(_no_data(caption, english))
    days = report.install_days
    caption, english = f"每周{days}天内装机率", f"installs within {days} days, per week (§四(四)1)"
    if any(w.installed for w in report.weeks):
        out.append(_img(weekly_rate(weeks, [w.install_rate for w in report.weeks], Decimal(1),
                                    label("及时率", "on time"), label("目标 100%", "target 100%")),
                        caption, english))
    else:
        out.append(_no_data(caption, english))
    caption, english = "每周转正与注销申请", "conversions and cancellation requests per week"
    if any(w.converted or w.cancel_requested for w in report.weeks):
        out.append(_img(weekly_bars(weeks, [
            (label("转正", "converted"), [w.converted for w in report.weeks]),
            (label("注销申请", "cancellation requested"), [w.cancel_requested for w in report.weeks])],
            label("户", "accounts")), caption, english))
    else:
        out.append(_no_data(caption, english))
    caption, english = "每月减免金额", "waived fees per billing month, CNY (§三, §四(五)2)"
    months = report.waived_by_month
    if any(months.values()):
        out.append(_img(monthly_amounts(list(months), list(months.values()), label("元", "CNY")),
                        caption, english))
    else:
        out.append(_no_data(caption, english))
    return out


def _kpi_table(report: KpiReport) -> str:
    rows = ['<table class="kpi"><thead><tr><th>指标 figure</th><th>数值 value</th>'
            "<th>条款 clause</th></tr></thead><tbody>"]
    section = None
    for line in lines(report):
        if line.section != section:
            section = line.section
            rows.append(f'<tr class="section"><th colspan="3">{_e(section)}</th></tr>')
        css = f"num {line.mark}".strip()
        name = _names(line.label, line.code) if line.code else _e(line.label)
        rows.append(f'<tr><td>{name}</td><td class="{css}">{_e(line.value)}</td>'
                    f"<td>{_e(line.clause)}</td></tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _channel_table(report: KpiReport) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in CHANNEL_HEADERS)
    body = []
    for c in report.by_channel:
        cells = [c.enrolments, c.installed, c.in_trial, c.converted, c.cancel_requested]
        body.append(f"<tr><td>{_e(c.channel or NO_CHANNEL)}</td>"
                    + "".join(f'<td class="num">{v}</td>' for v in cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(CHANNEL_HEADERS)}">{_e(NO_DATA)}</td></tr>')
    return (f'<table class="channels"><thead><tr>{head}</tr></thead><tbody>'
            + "\n".join(body) + "</tbody></table>")


def _weeks_note(report: KpiReport) -> str:
    if not report.weeks:
        return f'<p class="meta">{_e(NO_DATA)}</p>'
    first, last = report.weeks[0], report.weeks[-1]
    return (f'<p class="meta">周一至周日 Monday–Sunday weeks, {_e(first.week)} '
            f"({_e(first.monday.isoformat())}) – {_e(last.week)} ({_e(last.sunday.isoformat())})</p>")


def render_html(report: KpiReport) -> str:
    """The whole report as one HTML document (UTF-8 text) that needs nothing else to display."""
    title = f"iTV 体验营销 KPI {report.as_of.isoformat()}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">截至 as of {_e(report.as_of.isoformat())} · 计费月 billing month '
        f"{_e(report.month)} · 体验登记 enrolments {report.enrolments} · 政策 policy "
        f"{_e(report.policy_id)} {_e(report.policy_version)}</p>",
        f"<h2>{_names('关键指标', 'key figures')}</h2>",
        '<div class="cards">',
        *(_card(c) for c in cards(report)),
        "</div>",
        f"<h2>{_names('每周趋势', 'week by week')}</h2>",
        _weeks_note(report),
        '<div class="charts">',
        *trend_charts(report),
        "</div>",
        f"<h2>{_names('明细', 'all figures')}</h2>",
        _kpi_table(report),
        f"<h2>{_names('渠道', 'by channel')}</h2>",
        _channel_table(report),
        "</body>",
        "</html>",
        "",
    ])
