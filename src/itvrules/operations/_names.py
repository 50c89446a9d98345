"""The Chinese names of the codes people read: work-order kinds and statuses, owners, states, fees.

Exports keep the stable English code (downstream systems filter on it) and
add its Chinese name beside it; reports print both. This is the one table:
a new work-order kind, status or state joins here, and a test checks that
every kind and every status the shipped policy can give has a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: domain -> code -> Chinese name.
_NAMES: dict[str, dict[str, str]] = {
    "kind": {
        "install": "安装",
        "modem_swap": "换猫",
        "outbound_call": "首月外呼",
        "expiry_reminder": "到期提醒",
        "cancellation": "注销流转",
        "recovery": "终端回收",
        "playback_problem": "播放问题",
    },
    "status": {
        "open": "待办",
        "overdue": "已超期",
        "done": "已完成",
        "closed": "已关闭",
        "returned": "已退单",
        # the cancellation list's steps (operations.cancellation_steps): the step still to do
        "channel": "待渠道上报",
        "support_centre": "待支撑中心汇总",
        "marketing_review": "待市场部审核",
        "install_centre": "待装维中心派单",
        "line_worker_recovery": "待线务员回收",
    },
    "state": {
        "accepted": "已受理",
        "returned": "已退单",
        "trial": "体验期",
        "converted_paid": "转正缴费",
        "converted_switched": "转换套餐",
        "cancelling": "注销中",
        "closed": "已注销",
    },
    "fee": {
        "not_installed": "未安装",
        "not_started": "未开始",
        "cancelled": "已注销",
        "trial": "体验减免",
        "late_cancel_waiver": "逾期注销减免",
        "cancellation_overdue": "注销超期",
        "switched": "转换套餐",
        "default_paid": "默认续费",
    },
    "priority": {
        "high": "优先",
        "normal": "普通",
    },
}

#: The offices the policy assigns orders to, in English (an owner's first word is its office).
_OWNERS_EN: dict[str, str] = {
    "县城装维中心": "county install centre",
    "装维中心": "install centre",
    "客服中心": "customer service centre",
    "市场部": "marketing department",
    "计费中心": "billing centre",
    "业务支撑中心": "business support centre",
    "支撑中心": "business support centre",
    "受理渠道": "accepting channel",
    "线务员": "line worker",
    "运维部": "operations department",
}

NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {domain: MappingProxyType(names) for domain, names in _NAMES.items()})
DOMAINS = tuple(_NAMES)


def chinese_name(domain: str, code: str) -> str:
    """The Chinese name of ``code`` in ``domain`` (kind, status, state, fee, priority); "" if none."""
    if domain not in _NAMES:
        raise ValueError(f"unknown name domain {domain}: expected one of {', '.join(DOMAINS)}")
    return _NAMES[domain].get(code, "")


def bilingual(domain: str, code: str) -> str:
    """``安装 install``: the Chinese name then the code; the code alone when it has no name."""
    name = chinese_name(domain, code)
    return f"{name} {code}" if name else code


def owner_in_english(owner: str) -> str:
    """The English of an owner's offices (``县城装维中心 李爱明`` → county install centre).

    Several owners joined by ``、`` give several offices; an office the table
    does not know (a channel's own name) gives "" for the whole owner.
    """
    offices = []
    for one in owner.split("、"):
        words = one.split()
        english = _OWNERS_EN.get(words[0], "") if words else ""
        if not english:
            return ""
        offices.append(english)
    return ", ".join(dict.fromkeys(offices))
