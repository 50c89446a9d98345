"""The KPI report as rows of (section, label, value, clause): one table both renderers print."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import attrs

from ._kpi import KpiReport

_TENTH = Decimal("0.1")
_CENT = Decimal("0.01")


@attrs.frozen
class Line:
    """One figure of the report, with the notice clause it answers."""

    section: str
    label: str
    value: str
    clause: str
    #: "pass", "fail" or "" — lets a renderer colour the verdict
    mark: str = ""


def percent(rate: Decimal | None) -> str:
    """``85.0%``; ``n/a`` when there is nothing to divide by."""
    if rate is None:
        return "n/a"
    return f"{(rate * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)}%"


def money(amount: Decimal) -> str:
    """Yuan with two decimals, never through a float."""
    return f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP)} CNY"


def verdict(met: bool | None) -> tuple[str, str]:
    """The text and mark of the target comparison."""
    if met is None:
        return "n/a", ""
    return ("met 达标", "pass") if met else ("not met 未达标", "fail")


def lines(report: KpiReport) -> list[Line]:
    """Every figure in print order."""
    text, mark = verdict(report.trial_rate_met)
    rate = "体验率 trial rate"
    out = [
        Line(rate, "eligible new installs 符合条件的新装", str(report.eligible_new_installs), "§二(三)"),
        Line(rate, "of them enrolled 已参加体验", str(report.enrolled_new_installs), "§二(三)"),
        Line(rate, "trial rate 体验率", percent(report.trial_rate), "§二(三)"),
        Line(rate, "target 目标", f">= {percent(report.trial_rate_target)}", "§二(三)"),
        Line(rate, "result 结果", text, "§二(三)", mark),
        Line("状态 lifecycle", "enrolments 体验登记", str(report.enrolments), "§四(二)"),
    ]
    out += [Line("状态 lifecycle", f"state {name}", str(count), report.state_clauses.get(name, ""))
            for name, count in report.states.items()]
    out += [
        Line("转化 conversion", "trials ended 体验到期", str(report.trials_ended), "§三"),
        Line("转化 conversion", "converted, default paid 续用全能包", str(report.converted_paid), "§四(二)2"),
        Line("转化 conversion", "converted, switched 变更套餐", str(report.converted_switched), "§三"),
        Line("转化 conversion", "conversion rate 转化率", percent(report.conversion_rate), "§四(二)2"),
        Line("注销 cancellation", "requested 申请注销", str(report.cancel_requested), "§四(五)2"),
        Line("注销 cancellation", "effective 注销生效", str(report.cancel_effective), "§四(六)3"),
        Line("注销 cancellation", "late (waiver next month) 逾期未生效", str(len(report.late_cancellations)),
             "§四(五)2"),
    ]
    out += [Line(f"减免 waivers {report.month}", f"waived {code}", money(amount), _waiver_clause(code))
            for code, amount in report.waivers.items()]
    out += [
        Line(f"减免 waivers {report.month}", "waived total 减免合计", money(report.waived_total), "§三"),
        Line(f"减免 waivers {report.month}", "billed 应收", money(report.billed), "§四(二)2"),
        Line("外呼 first-month calls", "in trial 体验中", str(report.states.get("trial", 0)), "§四(五)1"),
        Line("外呼 first-month calls", "silent (0 h) 沉默用户", str(len(report.silent_users)), "§四(五)1"),
        Line("外呼 first-month calls", f"low usage (< {report.low_usage_hours} h) 低使用量",
             str(len(report.low_usage_users)), "§四(五)1"),
        Line("装维 installs", "overdue installs 超期未装", str(len(report.overdue_installs)), "§四(四)1"),
        Line("终端 terminals", "recoveries open 待回收", str(len(report.recoveries_open)), "§四(六)3"),
        Line("终端 terminals", "recoveries done 已回收", str(len(report.recoveries_done)), "§四(六)4"),
    ]
    return out


def _waiver_clause(code: str) -> str:
    return {"trial": "§三", "late_cancel_waiver": "§四(五)2"}.get(code, "")
