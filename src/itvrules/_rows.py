"""Feed rows to model records: header aliases, cell types, required columns (SPEC §11).

Readers hand over cells as the file holds them (text from CSV, JSON values,
typed Excel cells). This module maps the headers, English or Chinese, to model
fields, turns Excel numbers and dates into what the model reads, and builds a
:class:`Subscriber` or :class:`Enrollment` through :func:`itvrules.structure`,
so booleans, dates and enums are read by the same code as everywhere else and
the model's validators decide what a bad row is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from ._convert import structure
from ._errors import InputError
from ._model import Enrollment, Subscriber
from ._parse import CELLS, excel_serial_date, normalise_text, parse_date
from .hookspecs import RawRow

BILL = "bill"
ELIGIBILITY = "eligibility"
KINDS = (BILL, ELIGIBILITY)

#: The Chinese header of every field (SPEC §11).
CHINESE: Mapping[str, str] = {
    "account_id": "宽带账号",
    "plan": "套餐",
    "product": "产品类型",
    "community": "小区类型",
    "new_install": "是否新装",
    "has_itv": "是否已有iTV",
    "line_ready": "线路是否具备",
    "accepted_on": "受理日期",
    "completed_on": "竣工日期",
    "returned": "是否退单",
    "return_reason": "退单原因",
    "cancel_requested_on": "拆机申请日期",
    "cancel_effective_on": "拆机生效日期",
    "switched_to": "转换套餐",
    "channel": "受理渠道",
    "contact_phone": "联系电话",
    "prior_modem": "原有猫类型",
}
#: Spellings seen on real forms besides the SPEC's ("帐号" is the older character).
_VARIANTS: Mapping[str, str] = {"宽带帐号": "account_id"}

_DATES = frozenset({"accepted_on", "completed_on", "cancel_requested_on", "cancel_effective_on"})
_BOOLS = frozenset({"new_install", "has_itv", "line_ready", "returned"})
_IDS = frozenset({"account_id", "contact_phone"})
#: Excel keeps 15 significant digits: a longer number typed into a cell is already wrong.
_EXCEL_DIGITS = 15

SUBSCRIBER_FIELDS = tuple(a.name for a in attrs.fields(Subscriber))
ENROLLMENT_FIELDS = tuple(a.name for a in attrs.fields(Enrollment))
#: Fields each kind of run reads, and those it cannot do without.
FIELDS: Mapping[str, tuple[str, ...]] = {
    BILL: ENROLLMENT_FIELDS,
    ELIGIBILITY: (*SUBSCRIBER_FIELDS, "accepted_on"),
}
REQUIRED: Mapping[str, tuple[str, ...]] = {
    BILL: ("account_id", "product", "accepted_on"),
    ELIGIBILITY: (*SUBSCRIBER_FIELDS, "accepted_on"),
}


def normalise_header(header: object) -> str:
    """The comparison key of a header: NFKC, no spaces, BOM or ``*`` marks, lower case."""
    text = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "")
    return "".join(text.split()).strip("*").lower()


_ALIASES: dict[str, str] = {}
for _field, _chinese in CHINESE.items():
    _ALIASES[normalise_header(_field)] = _field
    _ALIASES[normalise_header(_chinese)] = _field
for _variant, _field in _VARIANTS.items():
    _ALIASES[normalise_header(_variant)] = _field


def field_of(header: object) -> str | None:
    """The model field a header names (any kind of run), or None for an unknown column."""
    return _ALIASES.get(normalise_header(header))


def describe(field: str) -> str:
    """``accepted_on (受理日期)``: how messages name a column."""
    chinese = CHINESE.get(field)
    return f"{field} ({chinese})" if chinese else field


class ColumnsError(InputError):
    """A header a run cannot use (a required column missing, one field twice).

    For a file with a header row this stops the run: no row of it can be decided.
    """


@attrs.frozen
class ColumnMap:
    """Which header feeds which field, for one header row."""

    pairs: tuple[tuple[str, str], ...]  # (header as read, field)
    extras: tuple[str, ...]  # headers kept only for the rejects


def map_columns(kind: str, columns: Iterable[str], *, source: str | None = None) -> ColumnMap:
    """Match ``columns`` to the fields of ``kind``; one error names every missing column."""
    wanted = FIELDS[kind]
    pairs: list[tuple[str, str]] = []
    extras: list[str] = []
    seen: dict[str, str] = {}
    for header in columns:
        field = field_of(header)
        if field is None or field not in wanted:
            extras.append(header)
            continue
        if field in seen:
            raise ColumnsError("(columns)", [seen[field], header],
                               f"columns {seen[field]!r} and {header!r} both give {describe(field)}",
                               source=source)
        seen[field] = header
        pairs.append((header, field))
    missing = [f for f in REQUIRED[kind] if f not in seen]
    if missing:
        raise ColumnsError("(columns)", missing,
                           f"missing required column(s): {', '.join(describe(f) for f in missing)}",
                           source=source)
    return ColumnMap(tuple(pairs), tuple(extras))


def cell_value(field: str, value: Any) -> Any:
    """What ``structure`` should see for one cell: Excel numbers and dates made plain.

    Text is stripped (ids and phones also NFKC'd); a date cell or Excel serial
    number in a date column becomes a ``date``; a number in a text column becomes
    its digits unless Excel has already rounded it (more than 15 digits).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return normalise_text(value) if field in _IDS else value.strip()
    if field in _DATES:
        return _date_cell(field, value)
    if field in _BOOLS:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        raise InputError(field, value, CELLS.cell_problem("bool"))
    return _text_cell(field, value)


def _date_cell(field: str, value: Any) -> date:
    if isinstance(value, datetime):
        # A spreadsheet's date-and-time cell is local (Asia/Shanghai) time: its day counts.
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return excel_serial_date(value)
        except (ValueError, OverflowError) as exc:
            raise InputError(field, value, f"not an Excel date serial: {exc}") from None
    raise InputError(field, value, "expected a date")


def _text_cell(field: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        if abs(value) >= 10 ** _EXCEL_DIGITS:
            raise InputError(field, value,
                             "a number of more than 15 digits has lost its last digits in Excel; "
                             "the cell must be typed as text")
        return str(int(value))
    raise InputError(field, value, f"expected text, got {type(value).__name__}")


class RowReader:
    """Turns the raw rows of one kind of run into model records, one at a time."""

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
        self.kind = kind
        self._columns: tuple[str, ...] | None = None
        self._map: ColumnMap | None = None

    def column_map(self, raw: RawRow) -> ColumnMap:
        """The map for ``raw``'s header; a :class:`ColumnsError` when it cannot be used.

        Rows of one file share one header tuple, so it is matched once per file.
        """
        columns = raw.columns
        if columns is None:
            return map_columns(self.kind, raw.values, source=raw.source)
        if columns is not self._columns or self._map is None:
            self._map = map_columns(self.kind, columns, source=raw.source)
            self._columns = columns
        return self._map

    def read(self, raw: RawRow, columns: ColumnMap) -> Enrollment | tuple[Subscriber, date]:
        """The record of ``raw``: an Enrollment (bill) or a Subscriber and its acceptance day.

        Raises :class:`InputError` naming the field for a row that cannot be decided.
        """
        values = raw.values
        data: dict[str, Any] = {}
        for header, field in columns.pairs:
            data[field] = cell_value(field, values.get(header))
        if self.kind == BILL:
            return structure(data, Enrollment)
        for field in REQUIRED[ELIGIBILITY]:
            value = data.get(field)
            if value is None or (isinstance(value, str) and not value):
                raise InputError(field, value, "a value is required for an eligibility run")
        accepted = data.pop("accepted_on")
        try:
            accepted_on = parse_date(accepted)
        except ValueError as exc:
            raise InputError("accepted_on", accepted, str(exc)) from None
        return structure(data, Subscriber), accepted_on


def header_of(columns: ColumnMap, field: str) -> str | None:
    """The header as read that fed ``field``, for messages."""
    for header, name in columns.pairs:
        if name == field:
            return header
    return None
