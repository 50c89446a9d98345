"""The KPI report as rows of (section, label, value, clause): one table both renderers print."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import attrs

from ..operations._names import chinese_name
from ._kpi import KpiReport

_TENTH = Decimal("0.1")
_CENT = Decimal("0.01")

#: What a figure says when the input it needs was not given (never a 0 that looks measured).
NOT_GIVEN = "未提供 not given"
NO_ELIGIBILITY = f"{NOT_GIVEN}: no eligibility results (--eligibility)"
NO_USAGE = f"{NOT_GIVEN}: no viewing hours (ingest --usage)"


@attrs.frozen
class Line:
    """One figure of the report, with the notice clause it answers."""

    section: str
    label: str
    value: str
    clause: str
    #: "pass", "fail" or "" — lets a renderer colour the verdict
    mark: str = ""
    #: the English code the label names (a state, a fee code), printed small beside it
    code: str = ""


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
    return [*_rate_lines(report), *_lifecycle_lines(report), *_install_lines(report),
            *_conversion_lines(report), *_waiver_lines(report), *_call_lines(report),
            *_terminal_lines(report)]


def _rate_lines(report: KpiReport) -> list[Line]:
    section = "体验率 trial rate"
    if not report.eligibility_given:
        return [Line(section, "trial rate 体验率", NO_ELIGIBILITY, "§二(三)"),
                Line(section, "target 目标", f">= {percent(report.trial_rate_target)}", "§二(三)")]
    text, mark = verdict(report.trial_rate_met)
    return [
        Line(section, "eligible new installs 符合条件的新装", str(report.eligible_new_installs),
             "§二(三)"),
        Line(section, "of them enrolled 已参加体验", str(report.enrolled_new_installs), "§二(三)"),
        Line(section, "trial rate 体验率", percent(report.trial_rate), "§二(三)"),
        Line(section, "target 目标", f">= {percent(report.trial_rate_target)}", "§二(三)"),
        Line(section, "result 结果", text, "§二(三)", mark),
    ]


def _lifecycle_lines(report: KpiReport) -> list[Line]:
    section = "状态 lifecycle"
    out = [Line(section, "enrolments 体验登记", str(report.enrolments), "§四(二)")]
    out += [Line(section, chinese_name("state", name) or name, str(count),
                 report.state_clauses.get(name, ""), code=name)
            for name, count in report.states.items()]
    return out


def _install_lines(report: KpiReport) -> list[Line]:
    section = "装维 installs"
    met = None if report.install_rate is None else (
        report.installed_on_time == report.installed and not report.overdue_installs)
    text, mark = verdict(met)
    return [
        Line(section, "installed 已竣工", str(report.installed), "§四(四)1"),
        Line(section, f"within {report.install_days} days {report.install_days}天内装机",
             str(report.installed_on_time), "§四(四)1"),
        Line(section, "on-time rate 及时率", percent(report.install_rate), "§四(四)1"),
        Line(section, "overdue installs 超期未装", str(len(report.overdue_installs)), "§四(四)1"),
        Line(section, "result 结果", text, "§四(四)1", mark),
    ]


def _conversion_lines(report: KpiReport) -> list[Line]:
    section = "转化 conversion"
    return [
        Line(section, "trials ended 体验到期", str(report.trials_ended), "§三"),
        Line(section, "converted, default paid 转正缴费", str(report.converted_paid), "§四(二)2",
             code="converted_paid"),
        Line(section, "converted, switched 转换套餐", str(report.converted_switched), "§三",
             code="converted_switched"),
        Line(section, "conversion rate 转化率", percent(report.conversion_rate), "§四(二)2"),
        Line("注销 cancellation", "requested 申请注销", str(report.cancel_requested), "§四(五)2"),
        Line("注销 cancellation", "effective 注销生效", str(report.cancel_effective), "§四(六)3"),
        Line("注销 cancellation", "late (waiver next month) 逾期未生效",
             str(len(report.late_cancellations)), "§四(五)2"),
    ]


def _waiver_lines(report: KpiReport) -> list[Line]:
    section = f"减免 waivers {report.month}"
    out = [Line(section, chinese_name("fee", code) or code, money(amount), _waiver_clause(code),
                code=code)
           for code, amount in report.waivers.items()]
    return [*out,
            Line(section, "waived total 减免合计", money(report.waived_total), "§三"),
            Line(section, "billed 应收", money(report.billed), "§四(二)2")]


def _call_lines(report: KpiReport) -> list[Line]:
    section = "外呼 first-month calls"
    silent = str(len(report.silent_users)) if report.usage_given else NO_USAGE
    low = str(len(report.low_usage_users)) if report.usage_given else NO_USAGE
    return [
        Line(section, "in trial 体验中", str(report.states.get("trial", 0)), "§四(五)1"),
        Line(section, "silent (0 h) 沉默用户", silent, "§四(五)1"),
        Line(section, f"low usage (< {report.low_usage_hours} h) 低使用量", low, "§四(五)1"),
    ]


def _terminal_lines(report: KpiReport) -> list[Line]:
    section = "终端 terminals"
    return [
        Line(section, "recoveries open 待回收", str(len(report.recoveries_open)), "§四(六)3"),
        Line(section, "recoveries done 已回收", str(len(report.recoveries_done)), "§四(六)4"),
    ]


def _waiver_clause(code: str) -> str:
    return {"trial": "§三", "late_cancel_waiver": "§四(五)2"}.get(code, "")
