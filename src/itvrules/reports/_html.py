"""The KPI report as one self-contained HTML page: inline CSS, charts as data: PNGs.

The page is mailed and opened offline, so it loads nothing: no external CSS,
script, font or image, and a Content-Security-Policy that forbids them if a
name ever smuggled one in. Every text from data is escaped.
"""

from __future__ import annotations

import base64
from html import escape

from ._kpi import KpiReport
from ._table import lines
from ._text import CHANNEL_HEADERS, NO_CHANNEL

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif;
       margin: 2em; color: #222; max-width: 60em; }
h1 { font-size: 1.4em; margin-bottom: .2em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .7em; text-align: left; }
th { background: #e8eef6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.section th { background: #f4f6f9; font-weight: bold; }
td.pass { color: #2e7d32; font-weight: bold; }
td.fail { color: #c62828; font-weight: bold; }
figure { margin: 1em 0; }
figcaption { color: #555; font-size: .9em; }
img { max-width: 100%; height: auto; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
            f"<figcaption>{_e(alt)}</figcaption></figure>")


def _kpi_table(report: KpiReport) -> str:
    rows = ['<table class="kpi"><thead><tr><th>figure</th><th>value</th><th>clause</th></tr></thead>'
            "<tbody>"]
    section = None
    for line in lines(report):
        if line.section != section:
            section = line.section
            rows.append(f'<tr class="section"><th colspan="3">{_e(section)}</th></tr>')
        css = f"num {line.mark}".strip()
        rows.append(f'<tr><td>{_e(line.label)}</td><td class="{css}">{_e(line.value)}</td>'
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
    return (f'<table class="channels"><thead><tr>{head}</tr></thead><tbody>'
            + "\n".join(body) + "</tbody></table>")


def render_html(report: KpiReport) -> str:
    """The whole report as one HTML document (UTF-8 text) that needs nothing else to display."""
    # matplotlib takes a while to import: only a page with charts pays for it.
    from ._charts import states_chart, trial_rate_chart, waivers_chart

    title = f"iTV 体验营销 KPI {report.as_of.isoformat()}"
    charts = [
        _img(states_chart(report.states), "各状态用户数 accounts by lifecycle state"),
        _img(trial_rate_chart(report.trial_rate, report.trial_rate_target),
             "新装体验率与目标 trial rate of eligible new installs vs target (§二(三))"),
        _img(waivers_chart(report.waivers, report.month),
             f"{report.month} 减免金额 waived fees by kind, CNY (§三, §四(五)2)"),
    ]
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
        f'<p class="meta">policy {_e(report.policy_id)} {_e(report.policy_version)} · as of '
        f"{_e(report.as_of.isoformat())} · billing month {_e(report.month)}</p>",
        "<h2>指标 Key figures</h2>",
        _kpi_table(report),
        "<h2>图表 Charts</h2>",
        *charts,
        "<h2>渠道 By channel</h2>",
        _channel_table(report),
        "</body>",
        "</html>",
        "",
    ])
