"""The weekly call report as files marketing opens: CSV of the figures, an XLSX workbook, text.

Every figure has a Chinese name and an English code. The CSV holds the
figures, one a row; the workbook adds the week's calls, the silent and
low-usage users still waiting, and the work orders opened for operations.
Text from the public (notes) never becomes a formula: the CSV holds no
notes, and workbook cells are written as strings with formula conversion off.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from .._errors import InputError
from .._extras import require
from .._sheets import display_width
from ._calls import GROUPS, CallReport, CallRow
from ._text import pad

CSV_ENCODINGS = ("utf-8-sig", "gb18030", "utf-8")
FIGURE_HEADERS = ("周次", "类别", "代码", "名称", "数值")
CALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("called_on", "外呼日期"), ("account_id", "宽带账号"), ("group", "用户类别"),
    ("hours", "首月收视时长"), ("reached", "是否接通"), ("outcome", "外呼结果"),
    ("problem", "反映问题"), ("note", "备注"), ("channel", "受理渠道"), ("contact_phone", "联系电话"),
)
ORDER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("order_id", "工单号"), ("account_id", "宽带账号"), ("called_on", "外呼日期"),
    ("problem", "反映问题"), ("due", "处理期限"), ("assignee", "处理部门"), ("status", "状态"),
    ("clause", "条款"),
)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def figures(report: CallReport) -> list[tuple[str, str, str, str]]:
    """(category, code, Chinese name, value) of every figure, in report order."""
    words = report.vocabulary
    out = [
        ("外呼 calls", "calls_due", "本周到期应呼", str(report.calls_due)),
        ("外呼 calls", "calls_due_reached", "其中已接通", str(report.calls_due_reached)),
        ("外呼 calls", "calls_made", "本周外呼次数", str(report.calls_made)),
        ("外呼 calls", "calls_reached", "其中接通次数", str(report.calls_reached)),
        ("外呼 calls", "accounts_called", "外呼用户数", str(report.accounts_called)),
        ("外呼 calls", "accounts_reached", "接通用户数", str(report.accounts_reached)),
    ]
    for group, name in GROUPS.items():
        out.append(("重点用户 priority", f"{group}_called", f"{name} 外呼",
                    str(report.called_by_group[group])))
        out.append(("重点用户 priority", f"{group}_reached", f"{name} 接通",
                    str(report.reached_by_group[group])))
    out += [
        ("重点用户 priority", "priority_waiting", "重点用户未接通待呼", str(len(report.priority_waiting))),
        ("重点用户 priority", "others_before_priority", "重点用户未呼时外呼其他用户次数",
         str(report.others_before_priority)),
        ("重点用户 priority", "priority_first", "重点用户优先外呼", _yes(report.priority_first)),
    ]
    out += [("外呼结果 outcomes", f"outcome.{code}", words.outcome_name(code), str(n))
            for code, n in report.outcomes.items()]
    out += [("反映问题 problems", f"problem.{code}", words.problem_name(code), str(n))
            for code, n in report.problems.items()]
    out.append(("运维工单 operations", "playback_orders", "转运维部工单", str(len(report.playback_orders))))
    return out


def title(report: CallReport) -> str:
    return (f"ITV 体验用户外呼回访周报 {report.week}({report.monday.isoformat()} 至 "
            f"{report.sunday.isoformat()})  报送:{'、'.join(report.recipients)}")


def _call_cells(report: CallReport, row: CallRow) -> list[Any]:
    words = report.vocabulary
    return [row.called_on, row.account_id, f"{GROUPS[row.group]} {row.group}", f"{row.hours:.2f}",
            _yes(row.reached), f"{words.outcome_name(row.outcome)} {row.outcome}",
            f"{words.problem_name(row.problem)} {row.problem}" if row.problem else "", row.note,
            row.channel, row.contact_phone]


def _order_cells(report: CallReport) -> list[list[Any]]:
    return [[o.order_id, o.account_id, o.details["called_on"],
             f"{o.details['problem_name']} {o.details['problem']}", o.due, o.assignee, o.status,
             o.clause] for o in report.playback_orders]


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else "" if value is None else str(value)


def write_calls_csv(report: CallReport, path: str | os.PathLike[str], *,
                    encoding: str = "utf-8-sig") -> None:
    """The figures, one a row: UTF-8 with BOM (Excel opens it), GB18030 on request."""
    if encoding not in CSV_ENCODINGS:
        raise InputError("encoding", encoding, f"expected one of: {', '.join(CSV_ENCODINGS)}")
    with open(path, "w", encoding=encoding, newline="") as handle:
        out = csv.writer(handle)
        out.writerow(FIGURE_HEADERS)
        for figure in figures(report):
            out.writerow([report.week, *figure])


def write_calls_xlsx(report: CallReport, path: str | os.PathLike[str]) -> None:
    """Sheets 汇总 (figures), 外呼明细 (calls), 重点待呼 (waiting) and 运维工单 (orders)."""
    require("writing the calls workbook", "xlsxwriter")
    import xlsxwriter  # type: ignore[import-untyped]

    book = xlsxwriter.Workbook(os.fspath(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    try:
        formats = {
            "title": book.add_format({"bold": True, "font_size": 12}),
            "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        }
        _sheet(book, formats, title(report), "汇总", FIGURE_HEADERS[1:],
               [list(f) for f in figures(report)])
        _sheet(book, formats, f"{title(report)}  外呼 {report.calls_made} 次", "外呼明细",
               [h for _k, h in CALL_COLUMNS], [_call_cells(report, r) for r in report.calls])
        _sheet(book, formats, f"{title(report)}  重点用户未接通 {len(report.priority_waiting)} 户",
               "重点待呼", ["宽带账号"], [[a] for a in report.priority_waiting])
        _sheet(book, formats, f"{title(report)}  转运维部 {len(report.playback_orders)} 单", "运维工单",
               [h for _k, h in ORDER_COLUMNS], _order_cells(report))
    finally:
        book.close()


def _sheet(book: Any, formats: dict[str, Any], heading: str, name: str, headers: Sequence[str],
           rows: Sequence[Sequence[Any]]) -> None:
    sheet = book.add_worksheet(name)
    sheet.merge_range(0, 0, 0, max(len(headers) - 1, 1), heading, formats["title"])
    for col, header in enumerate(headers):
        sheet.write_string(1, col, header, formats["header"])
        sheet.set_column(col, col, 16)
    sheet.freeze_panes(2, 0)
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, col, datetime.combine(value, time()), formats["date"])
            elif value not in (None, ""):
                sheet.write_string(r, col, str(value))


def render_calls_text(report: CallReport) -> str:
    """Aligned text: the figures, then the week's calls and the orders for operations."""
    lines = [title(report), f"policy {report.policy_id} {report.policy_version}", ""]
    width = max(display_width(f"{name} {code}") for _c, code, name, _v in figures(report)) + 2
    category = ""
    for cat, code, name, value in figures(report):
        if cat != category:
            lines.append(f"[{cat}]")
            category = cat
        lines.append(f"  {pad(f'{name} {code}', width)} {value:>6}")
    lines += ["", f"[外呼明细 calls] {report.calls_made}"]
    lines += ["  " + "  ".join(_plain(v) for v in _call_cells(report, r) if v != "")
              for r in report.calls]
    lines += ["", f"[重点待呼 priority waiting] {len(report.priority_waiting)}"]
    lines += [f"  {a}" for a in report.priority_waiting]
    lines += ["", f"[运维工单 playback orders] {len(report.playback_orders)}"]
    lines += ["  " + "  ".join(_plain(v) for v in cells) for cells in _order_cells(report)]
    return "\n".join(lines) + "\n"
