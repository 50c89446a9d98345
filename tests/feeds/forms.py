"""Builds an "ITV 体验用户登记表" workbook the way channels fill it in.

Three weekly sheets with title rows (or empty rows) above the header, a merged group header above the real
header, blank rows, a 合计 total row; dates as date cells, as Excel serial
numbers and as text; an 18-digit account typed as a number (already rounded
by Excel); a phone typed as a number; plus a notes sheet without a header.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]

HEADER = ["序号", "宽带账号", "产品类型", "受理日期", "竣工日期", "是否退单", "退单原因",
          "联系电话", "受理渠道", "拆机申请日期", "拆机生效日期"]  # the cancellation columns left empty
#: (sheet, Excel row number) of every record the form holds, and what it is.
RECORDS = {
    ("第1周", 5): "0571000201: date cells, phone typed as a number",
    ("第1周", 6): "0571000202: Excel serial dates (45747 = 2025-03-31)",
    ("第1周", 8): "an 18-digit account typed as a number: rounded, must be rejected",
    ("第1周", 9): "合计 total row: skipped and counted",
    ("第2周", 4): "0571000203: text dates, returned with a reason",
    ("第2周", 5): "0571000204: date-and-time cell",
    ("第3周", 4): "0571000205: a sheet whose first rows and column are empty",
}


def write_registration_form(path: Path, *, notes_sheet: bool = True) -> Path:
    """Write the form to ``path`` and return it."""
    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    week1 = book.add_worksheet("第1周")
    week1.merge_range(0, 0, 0, len(HEADER) - 1, "ITV 体验用户登记表(第1周)")
    week1.write_string(1, 0, "填报单位:伊山一分局")
    week1.merge_range(2, 1, 2, 4, "用户信息")  # a merged group header above the header row
    week1.write_row(3, 0, HEADER)  # Excel row 4
    week1.write_row(4, 0, [1, "0571000201", "品牌"])  # row 5
    week1.write_datetime(4, 3, datetime(2025, 3, 25), day)
    week1.write_datetime(4, 4, datetime(2025, 3, 31), day)
    week1.write_string(4, 5, "否")
    week1.write_number(4, 7, 13812345678)  # a phone typed as a number
    week1.write_string(4, 8, "伊山一分局")
    week1.write_row(5, 0, [2, "0571000202", "包年", 45747, 45748, "否"])  # row 6: serial dates
    # row 7 left blank on purpose
    week1.write_row(7, 0, [3])  # row 8
    week1.write_number(7, 1, 123456789012345678)  # 18 digits typed as a number
    week1.write_row(7, 2, ["品牌", "2025-04-01"])
    week1.write_row(8, 0, ["合计", "", "", "", "", "", "", "", "2户"])  # row 9: a total row

    week2 = book.add_worksheet("第2周")
    week2.write_string(0, 0, "ITV 体验用户登记表(第2周)")
    week2.write_row(2, 0, HEADER)  # Excel row 3
    week2.write_row(3, 0, [1, "0571000203", "单宽月租", "2025/4/2", "", "是", "线路不具备",
                           "13912345678", "装维中心"])  # row 4
    week2.write_row(4, 0, [2, "0571000204", "品牌"])  # row 5
    week2.write_datetime(4, 3, datetime(2025, 4, 3, 10, 30), day)
    week2.write_row(4, 4, ["2025年4月5日", "否"])
    week3 = book.add_worksheet("第3周")  # nothing in rows 1-2 or column A
    week3.write_row(2, 1, HEADER)  # Excel row 3, from column B
    week3.write_row(3, 1, [1, "0571000205", "品牌", "2025-04-07", "2025-04-08", "否"])  # row 4
    if notes_sheet:
        notes = book.add_worksheet("填表说明")
        notes.write_string(0, 0, "每周一上报上周新增体验用户。")
    book.close()
    return path
