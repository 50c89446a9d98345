"""Generate the sample data shipped in ``src/itvrules/sample_data/``.

The files are synthetic but shaped like a county back office's: a CRM feed
exported from Chinese Excel (GB18030, Chinese headers, CRLF) with a few hundred
trial orders, a channel's weekly registration form ("ITV 体验用户登记表"), and
the steps of the cancellation list done so far (§四(五)2).
Both carry some bad rows of every kind on purpose, listed in ``manifest.json``
so ``itvrules demo`` and the tests know which rejects to expect.

The output depends only on ``--seed``: re-running the script rewrites the
same bytes, so the committed files can be checked against it.

Run: ``python examples/make_sample_data.py [--seed 2025] [--rows 320] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from itvrules.runs._rows import CHINESE

FEED_NAME = "crm-feed.csv"
FORM_NAME = "registration-form.xlsx"
STEPS_NAME = "cancellation-steps.csv"
MANIFEST_NAME = "manifest.json"
FEED_ENCODING = "gb18030"

# Field name -> the Chinese header a CRM export uses.
HEADERS = CHINESE
# Extra columns a real export carries; readers keep them for the reject file.
EXTRA = ("客户名称", "备注")

CAMPAIGN_FIRST = date(2025, 3, 20)
CAMPAIGN_LAST = date(2025, 5, 31)
TRIAL_MONTHS = 3

HALLS = ("伊山营业厅", "城东营业厅", "城南营业厅")
OUTBOUND = ("伊山一分局", "伊山二分局")
UPGRADE_TEAM = "提速现场营销组"
SERVICE_CENTRE = "客服中心"
LINE_WORKER = "装维线务员"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
# Rare name characters outside GBK: GB18030 encodes them, GBK cannot.
RARE_NAMES = ("刘䶮", "吉𠮷", "陈昇")
RETURN_REASONS = (
    "线路不具备 iTV 安装条件,用户同意注销",
    "分线盒端口资源不足,已报线路优化",
    "用户家中无法布线,不愿自购机顶盒无线网卡",
    "用户改变主意,当场撤单",
)
REMARKS = ("", "", "", "", "", "外呼已接通", "用户要求周末安装", "沉默用户,需回访", "已讲解回看功能",
           "=2+3 用户留言")


class Maker:
    """Draws plausible rows from one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._accounts: set[str] = set()
        #: Rows of orders taken outside the campaign window: a bill run rejects them.
        self.outside: list[dict[str, str]] = []

    # -- small draws ------------------------------------------------------------
    def account(self) -> str:
        while True:
            if self.rng.random() < 0.6:
                text = "0793" + "".join(self.rng.choices("0123456789", k=7))  # leading zero
            else:
                text = "8" + "".join(self.rng.choices("0123456789", k=9))
            if text not in self._accounts:
                self._accounts.add(text)
                return text

    def phone(self) -> str:
        if self.rng.random() < 0.1:
            return "0793-5" + "".join(self.rng.choices("0123456789", k=6))
        return "1" + self.rng.choice("3589") + "".join(self.rng.choices("0123456789", k=9))

    def name(self) -> str:
        if self.rng.random() < 0.02:
            return self.rng.choice(RARE_NAMES)
        return self.rng.choice(SURNAMES) + "*" * self.rng.choice((1, 2))

    def day(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def date_text(self, day: date | None) -> str:
        """A date as CRM exports spell it: mostly ISO, sometimes slashes or compact."""
        if day is None:
            return ""
        roll = self.rng.random()
        if roll < 0.75:
            return day.isoformat()
        if roll < 0.9:
            return f"{day.year}/{day.month}/{day.day}"
        return day.strftime("%Y%m%d")

    def flag(self, value: bool) -> str:
        roll = self.rng.random()
        if roll < 0.85:
            return "是" if value else "否"
        if roll < 0.95:
            return "Y" if value else "N"
        return "1" if value else "0"

    def plan(self, choices: tuple[str, ...]) -> str:
        code = self.rng.choice(choices)
        roll = self.rng.random()
        if roll < 0.05:
            return " " + code.upper()  # typed by hand: case and spaces do not matter
        if roll < 0.07:
            return code.translate(str.maketrans("e0123456789-", "ｅ０１２３４５６７８９－"))
        return code

    # -- one order ----------------------------------------------------------------
    def order(self) -> dict[str, str]:
        """One trial order with a consistent subscriber, acceptance and life after it."""
        rng = self.rng
        kind = rng.choices(
            ("new_install", "upgraded", "legacy", "ineligible"), weights=(25, 30, 30, 15))[0]
        row = {field: "" for field in HEADERS}
        row["account_id"] = self.account()
        row["contact_phone"] = self.phone()
        row["new_install"] = self.flag(False)
        row["has_itv"] = self.flag(False)
        row["line_ready"] = self.flag(True)
        row["community"] = "未提速"
        row["product"] = rng.choices(("品牌", "包年", "单宽月租"), weights=(70, 22, 8))[0]
        row["prior_modem"] = rng.choices(("普通猫", "E8-B"), weights=(70, 30))[0]
        returned_reason = ""
        if kind == "new_install":
            row["new_install"] = self.flag(True)
            row["product"] = rng.choices(("品牌", "包年", "单宽月租"), weights=(65, 30, 5))[0]
            row["plan"] = self.plan(("e6-49", "e8-58", "e8-68", "e8-88", "e9-79", "e9-99"))
            row["channel"] = rng.choice((*HALLS, SERVICE_CENTRE))
            row["prior_modem"] = "无"
        elif kind == "upgraded":
            row["community"] = rng.choice(("已提速", "已提速", "正在提速"))
            row["plan"] = self.plan(("e6-49", "e8-58", "e8-68", "e8-88", "e9-79", "e9-129"))
            upgrading = row["community"] == "正在提速"
            row["channel"] = UPGRADE_TEAM if upgrading else rng.choice(OUTBOUND)
        elif kind == "legacy":
            row["plan"] = self.plan(("e8-68", "e8-88", "e9-79", "e9-99", "e9-129"))
            row["channel"] = rng.choice((*HALLS, SERVICE_CENTRE, LINE_WORKER))
        else:
            why = rng.choice(("below", "bundled", "has_itv", "no_line", "unknown_plan", "single"))
            row["plan"] = self.plan(("e8-68", "e9-79"))
            row["channel"] = rng.choice((*HALLS, SERVICE_CENTRE))
            if why == "below":
                row["plan"] = self.plan(("e6-49", "e8-58"))
                returned_reason = "套餐档次不符合体验条件,撤单"
            elif why == "bundled":
                row["plan"] = self.plan(("e9-139", "e9-169", "e9-199"))
                returned_reason = "e9-139 及以上套餐已含 iTV,撤单"
            elif why == "has_itv":
                row["has_itv"] = self.flag(True)
                returned_reason = "用户已有 iTV,撤单"
            elif why == "no_line":
                row["line_ready"] = self.flag(False)
                returned_reason = RETURN_REASONS[0]
            elif why == "unknown_plan":
                row["plan"] = rng.choice(("e7-59", "c5-30", "e8"))
            else:
                row["new_install"] = self.flag(True)
                row["product"] = "单宽月租"
                row["prior_modem"] = "无"
                returned_reason = "单产品宽带包月用户不在体验范围,撤单"
        self._life(row, returned_reason)
        row["客户名称"] = self.name()
        row["备注"] = rng.choice(REMARKS)
        return row

    def _life(self, row: dict[str, str], returned_reason: str) -> None:
        """Acceptance, install or return, then cancellation or switch at any timing."""
        rng = self.rng
        if rng.random() < 0.06:  # taken just outside the campaign window
            accepted = rng.choice((self.day(date(2025, 3, 5), date(2025, 3, 19)),
                                   self.day(date(2025, 6, 1), date(2025, 6, 15))))
            self.outside.append(row)
        else:
            accepted = self.day(CAMPAIGN_FIRST, CAMPAIGN_LAST)
        row["accepted_on"] = self.date_text(accepted)
        if returned_reason or rng.random() < 0.05:
            row["returned"] = self.flag(True)
            row["return_reason"] = returned_reason or rng.choice(RETURN_REASONS[1:])
            return
        row["returned"] = rng.choice(("", self.flag(False)))
        if rng.random() < 0.08:  # accepted, not installed yet
            return
        lag = rng.choice((0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 7, 9, 12))
        completed = accepted + timedelta(days=lag)
        row["completed_on"] = self.date_text(completed)
        trial_end = _trial_end(completed)
        roll = rng.random()
        if roll < 0.52:
            return  # continues and pays 全能包
        if roll < 0.62:
            row["switched_to"] = rng.choice(("basic", "hd"))
            return
        if roll < 0.72:  # cancelled and effective inside the trial
            requested = self.day(completed, trial_end - timedelta(days=3))
            row["cancel_requested_on"] = self.date_text(requested)
            effective = min(requested + timedelta(days=rng.randint(0, 5)), trial_end)
            row["cancel_effective_on"] = self.date_text(effective)
        elif roll < 0.80:  # registered in time, took effect after the trial end
            requested = self.day(trial_end - timedelta(days=10), trial_end)
            row["cancel_requested_on"] = self.date_text(requested)
            row["cancel_effective_on"] = self.date_text(trial_end + timedelta(days=rng.randint(1, 45)))
        elif roll < 0.86:  # registered in time, still not effective
            row["cancel_requested_on"] = self.date_text(self.day(trial_end - timedelta(days=8), trial_end))
            if rng.random() < 0.3:
                row["switched_to"] = "basic"  # the cancellation decides
        elif roll < 0.94:  # registered after the trial end: charged until effective
            requested = trial_end + timedelta(days=rng.randint(1, 40))
            row["cancel_requested_on"] = self.date_text(requested)
            if rng.random() < 0.7:
                row["cancel_effective_on"] = self.date_text(requested + timedelta(days=rng.randint(0, 20)))
        else:  # only the effective date was recorded
            row["cancel_effective_on"] = self.date_text(self.day(completed, trial_end + timedelta(days=30)))


def _trial_end(completed: date) -> date:
    month = completed.month - 1 + TRIAL_MONTHS
    year = completed.year + month // 12
    first_after = date(year, month % 12 + 1, 1)
    return first_after - timedelta(days=1)


# -- bad rows: (field, problem, runs that must reject it, how to spoil a good row) ----------------
Spoil = Callable[[dict[str, str], Maker], None]
BOTH = ("eligibility", "bill")
BILL = ("bill",)
ELIG = ("eligibility",)


def _set(**values: str) -> Spoil:
    def spoil(row: dict[str, str], _maker: Maker) -> None:
        row.update(values)

    return spoil


def _completed(row: dict[str, str], maker: Maker) -> date:
    row["returned"], row["return_reason"] = "否", ""
    accepted = date(2025, 4, maker.rng.randint(1, 20))
    row["accepted_on"] = accepted.isoformat()
    completed = accepted + timedelta(days=3)
    row["completed_on"] = completed.isoformat()
    return completed


def _completion_before_acceptance(row: dict[str, str], maker: Maker) -> None:
    _completed(row, maker)
    row["completed_on"] = "2025-03-30"
    row["accepted_on"] = "2025-04-06"


def _effective_before_requested(row: dict[str, str], maker: Maker) -> None:
    completed = _completed(row, maker)
    row["cancel_requested_on"] = (completed + timedelta(days=20)).isoformat()
    row["cancel_effective_on"] = (completed + timedelta(days=10)).isoformat()


def _unknown_package(row: dict[str, str], maker: Maker) -> None:
    _completed(row, maker)
    row["cancel_requested_on"] = row["cancel_effective_on"] = ""
    row["switched_to"] = "尊享包"


def _returned_without_reason(row: dict[str, str], _maker: Maker) -> None:
    row.update(returned="是", return_reason="", completed_on="", cancel_requested_on="",
               cancel_effective_on="", switched_to="")


BAD_ROWS: tuple[tuple[str, str, tuple[str, ...], Spoil], ...] = (
    ("accepted_on", "not a calendar date", BOTH, _set(accepted_on="2025-02-30")),
    ("accepted_on", "not a date at all", BOTH, _set(accepted_on="上周五")),
    ("product", "unknown product", BOTH, _set(product="融合套餐")),
    ("community", "unknown community status", ELIG, _set(community="提速中")),
    ("new_install", "not a boolean", ELIG, _set(new_install="待定")),
    ("line_ready", "not a boolean", ELIG, _set(line_ready="不清楚")),
    ("completed_on", "not a calendar date", BILL, _set(completed_on="2025-04-31")),
    ("returned", "not a boolean", BILL, _set(returned="未知")),
    ("return_reason", "returned without a reason", BILL, _returned_without_reason),
    ("completed_on", "completion before acceptance", BILL, _completion_before_acceptance),
    ("cancel_effective_on", "cancellation effective before it was requested", BILL,
     _effective_before_requested),
    ("switched_to", "unknown iTV package", BILL, _unknown_package),
    ("prior_modem", "unknown modem type", BILL, _set(prior_modem="光猫")),
)


def make_feed(maker: Maker, rows: int) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Good orders with the bad rows and one duplicate account mixed in at seeded places."""
    records = [maker.order() for _ in range(rows)]
    bad: list[tuple[dict[str, str], dict[str, Any]]] = []
    for field, problem, runs, spoil in BAD_ROWS:
        row = maker.order()
        while any(row is o for o in maker.outside):  # one reason to reject a row, not two
            row = maker.order()
        spoil(row, maker)
        bad.append((row, {"field": field, "problem": problem, "rejected_by": list(runs)}))
    # One trial per account: a second order of an account already in the feed.
    inside = [r for r in records[:len(records) // 3] if not any(r is o for o in maker.outside)]
    first = inside[maker.rng.randrange(len(inside))]
    dup = maker.order()
    while any(dup is o for o in maker.outside):
        dup = maker.order()
    dup["account_id"] = first["account_id"]
    bad.append((dup, {"field": "account_id", "problem": "a second trial order of the same account",
                      "rejected_by": list(BOTH)}))
    for row in records:
        if any(row is o for o in maker.outside):  # taken outside the window: not billed as a trial
            bad.append((row, {"field": "accepted_on", "problem": "accepted outside the campaign window",
                              "rejected_by": ["bill"]}))
    for row, _note in bad:
        if any(row is r for r in records):
            continue  # already in the feed
        # After the original, wherever it is: the second order of an account is the bad one.
        low = records.index(first) + 1 if row is dup else 0
        records.insert(maker.rng.randint(low, len(records)), row)
    manifest = []
    for index, row in enumerate(records):
        for candidate, note in bad:
            if candidate is row:
                manifest.append({"row": index + 2, "account_id": row["account_id"], **note})
    return records, manifest


def feed_bytes(records: list[dict[str, str]]) -> bytes:
    """The feed as Chinese Excel saves CSV: GB18030, no BOM, CRLF, Chinese headers."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([*HEADERS.values(), *EXTRA])
    for row in records:
        writer.writerow([*(row[f] for f in HEADERS), *(row[e] for e in EXTRA)])
    return text.getvalue().encode(FEED_ENCODING)


# -- the cancellation list's steps done (§四(五)2) ------------------------------------------------
STEP_HEADERS = ("宽带账号", "环节", "完成日期", "经办人", "回收仓库")
#: The list's steps by their Chinese names (the policy's), with who signs for each and how many
#: days after the previous step it is done.
STEP_PLAN = (
    ("渠道上报", HALLS, (0, 3)),
    ("支撑中心汇总", ("孙蒙蒙",), (1, 6)),
    ("市场部审核", ("董长伯",), (1, 4)),
    ("装维中心派单", ("李爱明",), (0, 3)),
    ("线务员回收", ("张建国", "刘海涛", "陈志强"), (1, 6)),
)
DEPOTS = ("伊山", "城关")
#: The day the sample was extracted: no step is dated after it.
EXTRACTED = date(2025, 10, 15)


def _parse_day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    if "/" in text:
        year, month, day = (int(part) for part in text.split("/"))
        return date(year, month, day)
    if "-" in text:
        return date.fromisoformat(text)
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def step_rows(records: list[dict[str, str]], bad_rows: list[dict[str, Any]],
              rng: random.Random) -> list[list[str]]:
    """The steps done for every good installed order with a cancellation, up to the extraction day.

    Each list moves step by step a few days apart; about one in six stalls at a
    step (the lists the report shows overdue). The line worker's recovery comes
    after the cancellation took effect and names the depot the terminals go to.
    """
    bad = {b["row"] for b in bad_rows}
    rows: list[list[str]] = []
    for index, record in enumerate(records):
        if index + 2 in bad:
            continue
        requested = _parse_day(record["cancel_requested_on"])
        completed = _parse_day(record["completed_on"])
        if requested is None or completed is None:
            continue
        effective = _parse_day(record["cancel_effective_on"])
        stall = rng.randrange(len(STEP_PLAN) * 6)  # < 5: stalls before that step
        day = requested
        for number, (name, people, (low, high)) in enumerate(STEP_PLAN):
            if number == stall:
                break
            day += timedelta(days=rng.randint(low, high))
            depot = ""
            if number == len(STEP_PLAN) - 1:
                if effective is None:
                    break  # nothing to take back until the cancellation takes effect
                day = max(day, effective + timedelta(days=rng.randint(low, high)))
                depot = rng.choice(DEPOTS)
            if day > EXTRACTED:
                break
            by = record["channel"] if number == 0 and record["channel"] else rng.choice(people)
            rows.append([record["account_id"], name, day.isoformat(), by, depot])
    rows.sort(key=lambda row: (row[2], row[0]))
    return rows


def steps_bytes(rows: list[list[str]]) -> bytes:
    """The steps as the support centre's sheet saved as CSV: GB18030, Chinese headers, CRLF."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(STEP_HEADERS)
    writer.writerows(rows)
    return text.getvalue().encode(FEED_ENCODING)


# -- the registration form ----------------------------------------------------------------------
FORM_COLUMNS = ("序号", "宽带账号", "客户名称", "联系电话", "套餐", "产品类型", "小区类型", "是否新装",
                "是否已有iTV", "线路是否具备", "受理日期", "竣工日期", "受理渠道", "原有猫类型", "备注")
FORM_WEEKS = ((date(2025, 3, 24), "伊山营业厅"), (date(2025, 3, 31), "伊山营业厅"))
EXCEL_EPOCH = date(1899, 12, 30)


def write_form(path: Path, maker: Maker) -> dict[str, Any]:
    """A channel's weekly "ITV 体验用户登记表": one sheet a week, title row, 合计 row."""
    rng = maker.rng
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False})
    workbook.set_properties({"title": "ITV 体验用户登记表", "created": datetime(2025, 4, 7, 9, 0)})
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center"})
    day_cell = workbook.add_format({"num_format": "yyyy-mm-dd", "border": 1})
    cell = workbook.add_format({"border": 1})
    sheets: dict[str, Any] = {}
    for week, (monday, channel) in enumerate(FORM_WEEKS, start=1):
        sunday = monday + timedelta(days=6)
        name = f"第{week}周 {monday.month}.{monday.day}-{sunday.month}.{sunday.day}"
        sheet = workbook.add_worksheet(name)
        sheet.merge_range(0, 0, 0, len(FORM_COLUMNS) - 1, "ITV 体验用户登记表", title)
        sheet.write_string(1, 0, f"填报单位:{channel}    统计周期:{monday:%Y年%m月%d日}至{sunday:%m月%d日}")
        for col, header in enumerate(FORM_COLUMNS):
            sheet.write_string(2, col, header, head)
        sheet.set_column(0, 0, 6)
        sheet.set_column(1, len(FORM_COLUMNS) - 1, 13)
        excel_row = 3
        notes: list[dict[str, Any]] = []
        count = 12 if week == 1 else 10
        for serial in range(1, count + 1):
            if week == 2 and serial == 6:
                excel_row += 1  # a blank row someone left between entries
                notes.append({"row": excel_row, "problem": "blank row", "rejected": False,
                              "skipped": True})
            order = maker.order()
            accepted = monday + timedelta(days=rng.randint(0, 6))
            completed = accepted + timedelta(days=rng.randint(0, 5)) if rng.random() < 0.85 else None
            values: list[Any] = [serial, order["account_id"], order["客户名称"], order["contact_phone"],
                                 order["plan"], order["product"], order["community"], order["new_install"],
                                 order["has_itv"], order["line_ready"], accepted, completed,
                                 channel, order["prior_modem"], order["备注"]]
            if week == 1 and serial == 4:
                # An id typed as a number: Excel kept 15 significant digits, the rest is lost.
                values[1] = 1234567890123456789
                notes.append({"row": excel_row + 1, "field": "account_id",
                              "problem": "an id typed as a number longer than 15 digits", "rejected": True})
            _write_form_row(sheet, excel_row, values, rng, day_cell, cell)
            excel_row += 1
        sheet.write_string(excel_row, 0, "合计", cell)
        sheet.write_string(excel_row, 1, f"{count} 户", cell)
        notes.append({"row": excel_row + 1, "problem": "total row (合计)", "rejected": False,
                      "skipped": True})
        sheets[name] = {"header_row": 3, "orders": count, "notes": notes}
    workbook.close()
    return {"title": "ITV 体验用户登记表", "sheets": sheets}


def _write_form_row(sheet: Any, row: int, values: list[Any], rng: random.Random,
                    day_cell: Any, cell: Any) -> None:
    for col, value in enumerate(values):
        if isinstance(value, date):
            roll = rng.random()
            if roll < 0.7:
                sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), day_cell)
            elif roll < 0.85:
                sheet.write_number(row, col, (value - EXCEL_EPOCH).days, cell)  # a bare serial number
            else:
                sheet.write_string(row, col, f"{value.year}年{value.month}月{value.day}日", cell)
        elif value is None or value == "":
            sheet.write_blank(row, col, None, cell)
        elif isinstance(value, int):
            sheet.write_number(row, col, value, cell)
        elif col == 3 and value.isdigit() and rng.random() < 0.3:
            sheet.write_number(row, col, int(value), cell)  # a phone typed as a number
        else:
            sheet.write_string(row, col, value, cell)


def generate(out: Path, *, seed: int = 2025, rows: int = 320) -> dict[str, Any]:
    """Write the feed, the form and the manifest into ``out``; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    maker = Maker(seed)
    records, bad_rows = make_feed(maker, rows)
    (out / FEED_NAME).write_bytes(feed_bytes(records))
    form = write_form(out / FORM_NAME, maker)
    steps = step_rows(records, bad_rows, random.Random(seed + 1))  # its own draws: the feed stays
    (out / STEPS_NAME).write_bytes(steps_bytes(steps))
    manifest = {
        "generator": "examples/make_sample_data.py",
        "seed": seed,
        FEED_NAME: {"encoding": FEED_ENCODING, "data_rows": len(records), "bad_rows": bad_rows},
        FORM_NAME: form,
        STEPS_NAME: {"encoding": FEED_ENCODING, "data_rows": len(steps),
                     "accounts": len({row[0] for row in steps})},
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    default_out = Path(__file__).resolve().parent.parent / "src" / "itvrules" / "sample_data"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument("--rows", type=int, default=320, help="good orders in the feed (default 320)")
    parser.add_argument("--out", type=Path, default=default_out, help="output folder")
    args = parser.parse_args(argv)
    manifest = generate(args.out, seed=args.seed, rows=args.rows)
    feed = manifest[FEED_NAME]
    print(f"{args.out / FEED_NAME}: {feed['data_rows']} rows, {len(feed['bad_rows'])} bad on purpose")
    print(f"{args.out / FORM_NAME}: {len(manifest[FORM_NAME]['sheets'])} sheets")
    print(f"{args.out / STEPS_NAME}: {manifest[STEPS_NAME]['data_rows']} steps done")


if __name__ == "__main__":
    main()
