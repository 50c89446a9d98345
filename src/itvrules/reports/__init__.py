"""Reports for the people who run the campaign (§四(五)).

- The Monday extract: last week's new trial users and the orders still
  waiting for their install, as CSV or XLSX, for the recipients the policy
  names.
- The KPI report: trial rate against its target, lifecycle counts,
  conversions, cancellations, waivers, first-month call priorities, overdue
  installs and terminal recoveries, as aligned text or one self-contained
  HTML page with charts.
- The weekly call report: the first-month calls due, made and reached,
  whether silent and low-usage users were called first, outcomes, playback
  problems and the orders they opened, for marketing (CSV, XLSX or text).

Charts need matplotlib, imported only when a page is rendered.
"""

from __future__ import annotations

from ._calls import GROUPS, CallReport, CallRow, call_recipients, call_report, week_of
from ._calls_files import render_calls_text, write_calls_csv, write_calls_xlsx
from ._html import render_html
from ._kpi import WAIVER_CODES, ChannelKpi, KpiReport, WeekKpi, kpi
from ._states import enrollment_from_state
from ._text import render_text
from ._weekly import (
    ExtractRow,
    WeeklyExtract,
    iso_week,
    parse_iso_week,
    previous_week,
    weekly_extract,
    weekly_recipients,
)
from ._weekly_files import write_weekly_csv, write_weekly_xlsx

__all__ = [
    "GROUPS",
    "WAIVER_CODES",
    "CallReport",
    "CallRow",
    "ChannelKpi",
    "ExtractRow",
    "KpiReport",
    "WeekKpi",
    "WeeklyExtract",
    "call_recipients",
    "call_report",
    "enrollment_from_state",
    "iso_week",
    "kpi",
    "parse_iso_week",
    "previous_week",
    "render_calls_text",
    "render_html",
    "render_text",
    "week_of",
    "weekly_extract",
    "weekly_recipients",
    "write_calls_csv",
    "write_calls_xlsx",
    "write_weekly_csv",
    "write_weekly_xlsx",
]
