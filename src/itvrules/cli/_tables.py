"""Small side tables the commands read: viewing hours, call results, cancellation steps done,
eligibility results read back.

They come in any format a feed comes in (a reader plug-in picks it by
extension or ``--format``) and with English or Chinese headers. A file
without a required column stops the command (status 1), naming every missing
column; a bad row is handed back with its error so the caller can reject it.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .._errors import InputError
from ..hookspecs import RawRow
from ..model._months import parse_month
from ..model._parse import normalise_text, parse_bool
from ..model._results import Eligibility
from ..operations import CALL_FIELDS
from ..operations._calls import CALL_REQUIRED, day_cell

#: Viewing hours of a month (a usage feed), field -> header spellings besides the field's name.
USAGE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "account_id": ("宽带账号", "宽带帐号"),
    "month": ("月份", "收视月份"),
    "day": ("日期", "收视日期"),
    "hours": ("收视时长", "观看时长", "收视小时数"),
}
#: What ``itvrules eligibility`` writes and ``report kpi`` reads back.
ELIGIBILITY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "account_id": ("宽带账号",),
    "eligible": (),
    "segment": (),
    "reason": (),
    "rule": (),
    "clause": (),
    "review": (),
}
#: Steps of the cancellation list done (``ingest --steps``): field -> header spellings.
STEPS_FIELDS: Mapping[str, tuple[str, ...]] = {
    "account_id": ("宽带账号", "宽带帐号"),
    "step": ("环节", "注销环节"),
    "done_on": ("完成日期", "办理日期"),
    "by": ("经办人",),
    "depot": ("回收仓库", "仓库"),
}
_REQUIRED = {"usage": ("account_id", "hours"),
             "eligibility": ("account_id", "eligible", "reason", "rule"),
             "calls": CALL_REQUIRED,
             "steps": ("account_id", "step", "done_on")}
#: Of each tuple a table needs at least one column (a usage file is daily, monthly or both).
_ONE_OF = {"usage": (("month", "day"),)}


def _key(header: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").split()).lower()


def read_table(path: str, table: str, *, in_format: str | None = None,
               encoding: str | None = None) -> Iterator[tuple[RawRow, dict[str, Any] | InputError]]:
    """(raw row, {field: cell}) for every row of ``path``; (raw row, error) for a row that cannot be read.

    ``table`` is ``"usage"``, ``"eligibility"``, ``"calls"`` or ``"steps"``. Raises
    ``InputError`` for a file that cannot be read at all or lacks a required column.
    """
    from ..runs._files import check_feed, open_source
    from ..runs._plugins import plugin_manager, reader_for

    fields = {"usage": USAGE_FIELDS, "calls": CALL_FIELDS, "steps": STEPS_FIELDS}.get(
        table, ELIGIBILITY_FIELDS)
    aliases = {_key(name): field for field, names in fields.items() for name in (field, *names)}
    check_feed(path)
    reader = reader_for(plugin_manager(), path, in_format)
    source = "<stdin>" if path == "-" else os.path.basename(path)
    with open_source(path, getattr(sys.stdin, "buffer", None)) as stream:
        for raw in reader.read(stream, source, encoding=encoding):
            if raw.error is not None:
                yield raw, raw.error
                continue
            headers = raw.columns if raw.columns is not None else tuple(raw.values)
            found = {aliases[_key(h)]: h for h in headers if _key(h) in aliases}
            missing = [f for f in _REQUIRED[table] if f not in found]
            missing += [" or ".join(group) for group in _ONE_OF.get(table, ())
                        if not any(f in found for f in group)]
            if missing:
                error = InputError("(columns)", missing, f"missing required column(s): "
                                   f"{', '.join(missing)}", source=source)
                if raw.columns is not None:
                    raise error  # a header without them: no row of this file can be read
                yield raw, error
                continue
            yield raw, {field: raw.values.get(header) for field, header in found.items()}


def _text(field: str, value: object, *, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(field, value, "a value is required")
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalise_text(str(value))


def usage_row(values: Mapping[str, Any]) -> tuple[str, str, date | None, str]:
    """(account_id, month "YYYY-MM", the day or None, hours as plain decimal text) of one usage row.

    A row with a day is a daily record (its month, if given too, must be the
    day's); a row with only a month is a monthly record.
    """
    account = _text("account_id", values.get("account_id"))
    month = _text("month", values.get("month"), required=False)
    day_value = values.get("day")
    day = None if _blank(day_value) else day_cell("day", day_value)
    if day is not None:
        if month and month != day.strftime("%Y-%m"):
            raise InputError("month", month, f"the day {day.isoformat()} is not in this month")
        month = day.strftime("%Y-%m")
    elif not month:
        raise InputError("month", values.get("month"), "a month (or a day) is required")
    parse_month(month)
    raw_hours = values.get("hours")
    try:
        hours = Decimal(_text("hours", raw_hours)) if not isinstance(raw_hours, (int, float)) \
            else Decimal(str(raw_hours))
    except InvalidOperation:
        raise InputError("hours", raw_hours, "viewing hours must be a number ≥ 0") from None
    if not hours.is_finite() or hours < 0:
        raise InputError("hours", raw_hours, "viewing hours must be a number ≥ 0")
    if day is not None and hours > 24:
        raise InputError("hours", raw_hours, "a day has at most 24 hours of viewing")
    return account, month, day, format(hours.normalize(), "f")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def eligibility_row(values: Mapping[str, Any]) -> Eligibility:
    """An ``Eligibility`` read back from a results file written by ``itvrules eligibility``."""
    eligible_cell = values.get("eligible")
    try:
        eligible = parse_bool(eligible_cell)
    except ValueError as exc:
        raise InputError("eligible", eligible_cell, str(exc)) from None
    review_cell = values.get("review")
    try:
        review = parse_bool(review_cell) if _text("review", review_cell, required=False) else False
    except ValueError as exc:
        raise InputError("review", review_cell, str(exc)) from None
    segment = _text("segment", values.get("segment"), required=False) or None
    return Eligibility(account_id=_text("account_id", values.get("account_id")), eligible=eligible,
                       segment=segment, reason=_text("reason", values.get("reason")),
                       rule=_text("rule", values.get("rule")),
                       clause=_text("clause", values.get("clause"), required=False), review=review)
