"""Feed rows to model records: header aliases, cell types, required columns.

Readers hand over cells as the file holds them (text from CSV, JSON values,
typed Excel cells). This module maps the headers, English or Chinese, to model
fields, turns Excel numbers and dates into what the model reads, and builds a
``Subscriber`` or ``Enrollment`` through ``itvrules.structure``,
so booleans, dates and enums are read by the same code as everywhere else and
the model's validators decide what a bad row is.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from .._errors import InputError, UsageError
from .._words import kind_of
from ..contract import normaliser
from ..hookspecs import RawRow
from ..model._convert import structure
from ..model._inputs import Enrollment, Subscriber
from ..model._parse import CELLS, checked_year, excel_serial_date, parse_date

BILL = "bill"
ELIGIBILITY = "eligibility"
KINDS = (BILL, ELIGIBILITY)

#: The Chinese header of every field, and other spellings seen on real forms
#: ("帐号" is the older character): both from the input contract's ``columns``.
CHINESE: Mapping[str, str] = {c.field: c.header for c in CELLS.columns}
_VARIANTS: Mapping[str, str] = {other: c.field for c in CELLS.columns for other in c.also}

_DATES = frozenset(c.field for c in CELLS.columns if c.type == "date")
_BOOLS = frozenset(c.field for c in CELLS.columns if c.type == "bool")
#: How each column's text is put in its normal form (the contract's ``normal_form``): ids and
#: codes without format characters, NFKC, stripped; other text stripped.
_NORMAL = {c.field: normaliser(c.field) for c in CELLS.columns}
#: Excel keeps 15 significant digits: a longer number typed into a cell is already wrong.
_EXCEL_DIGITS = 15

SUBSCRIBER_FIELDS = tuple(a.name for a in attrs.fields(Subscriber))
ENROLLMENT_FIELDS = tuple(a.name for a in attrs.fields(Enrollment))
#: Fields each kind of run reads, and those it cannot do without.
FIELDS: Mapping[str, tuple[str, ...]] = {
    BILL: ENROLLMENT_FIELDS,
    ELIGIBILITY: (*SUBSCRIBER_FIELDS, "accepted_on"),
}
#: The columns each kind of run cannot do without, as the input contract lists them
#: (``rulesets/feed.contract.yaml``, ``required:``): a bill needs every column that changes a
#: fee, even when its cells are empty, so a renamed or dropped completion or
#: cancellation column stops the run instead of billing in full; ``returned``,
#: ``return_reason`` and ``switched_to`` may be absent (read as empty).
REQUIRED: Mapping[str, tuple[str, ...]] = {kind: CELLS.required(kind) for kind in KINDS}

#: Of the required columns, those whose cells may be empty. A JSON object has no header row
#: and JSON writers leave out null keys, so an object may omit these (read as empty); a file
#: with a header row must have them. A renamed key is still caught as a near miss.
MAY_BE_EMPTY: Mapping[str, frozenset[str]] = {
    BILL: frozenset({"completed_on", "cancel_requested_on", "cancel_effective_on"}),
    ELIGIBILITY: frozenset(),
}

#: Whether blank rows are skipped, and what marks a total row on a registration form: the
#: input contract's ``skip:``. A total row has a cell that starts or ends with a
#: marker (spaces ignored: forms write "合  计") and no account id.
SKIP_BLANK: bool = CELLS.skip.blank
TOTAL_MARKS: tuple[str, ...] = CELLS.skip.total_markers
_NEVER = "(?!)"  # a pattern that matches nothing: a contract without markers skips no total row
#: A regular expression that finds every cell a total mark could be in (and a few more):
#: bulk readers send the rows it matches to ``RowReader.skip``, which decides.
TOTAL_MARK_PATTERN = "|".join(r"\s*".join(map(re.escape, mark)) for mark in TOTAL_MARKS) or _NEVER
_MARK_CHOICE = "|".join(map(re.escape, TOTAL_MARKS)) or _NEVER
#: A total row's label, whitespace removed: a mark at its start or its end ("本周合计").
TOTAL_CELL_PATTERN = rf"^(?:{_MARK_CHOICE})|(?:{_MARK_CHOICE})[:：]?$"
_TOTAL_CELL = re.compile(TOTAL_CELL_PATTERN)
_MARK_ENDS = frozenset(mark[-1] for mark in TOTAL_MARKS)  # a cheap first test
_MARK_END_SEARCH = re.compile("|".join(map(re.escape, sorted(_MARK_ENDS))) or _NEVER).search
#: What a form's total row may hold in the account column instead of an id: a count of
#: households ("12 户", "共12户"). No account id ends in 户, so the row still has no account id.
TOTAL_COUNT_PATTERN = r"^\s*[共计]?\s*\d+\s*户\s*$"
_TOTAL_COUNT = re.compile(TOTAL_COUNT_PATTERN)
#: Why a row is not a record (``RowReader.skip``).
BLANK_ROW = "blank row"
TOTAL_ROW = "total row"

#: A header that is no known name counts as a near miss of a known name when difflib's
#: ratio on the two (normalised, ``_`` and ``-`` dropped) is at least two thirds and they
#: share at least three characters. Two thirds catches a Chinese name with two of six
#: characters changed (拆机生效时间 for 拆机生效日期: 0.67) or one of four (完工日期 for
#: 竣工日期: 0.75), and English ``completed_date`` for ``completed_on`` (0.75); three
#: characters keep two-character extras (电话, 原因, 渠道) that are half of a four-character
#: name from stopping runs. Only fields no header of the feed gives are compared, so
#: ``account_name`` beside ``account_id`` is an ordinary extra column.
NEAR_MISS_RATIO = 2 / 3
NEAR_MISS_CHARS = 3


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


def _loose(text: str) -> str:
    """A normalised header without word separators, for resemblance only."""
    return text.replace("_", "").replace("-", "")


#: The known names of every field, as near misses are measured against them.
_NAMES: dict[str, tuple[str, ...]] = {}
for _key, _field in _ALIASES.items():
    _NAMES[_field] = (*_NAMES.get(_field, ()), _loose(_key))


def near_miss(header: str, fields: Iterable[str]) -> str | None:
    """The field of ``fields`` whose known name ``header`` closely resembles, or None.

    See ``NEAR_MISS_RATIO`` for the measure and why.
    """
    key = _loose(normalise_header(header))
    best: tuple[float, str] | None = None
    for field in fields:
        for name in _NAMES.get(field, ()):
            matcher = difflib.SequenceMatcher(None, key, name, autojunk=False)
            shared = sum(block.size for block in matcher.get_matching_blocks())
            ratio = 2 * shared / (len(key) + len(name)) if key or name else 0.0
            if shared >= NEAR_MISS_CHARS and ratio >= NEAR_MISS_RATIO and (
                    best is None or ratio > best[0]):
                best = (ratio, field)
    return None if best is None else best[1]


def explicit_columns(kind: str, columns: Mapping[str, str] | None) -> dict[str, str]:
    """A user's header → field map, checked; keys normalised as headers are compared.

    An empty field ignores the header (a column that resembles a known name but is
    something else). A field the run does not read is a ``UsageError``.
    """
    if not columns:
        return {}
    wanted = FIELDS[kind]
    checked: dict[str, str] = {}
    for header, field in columns.items():
        name = field.strip()
        if name and name not in wanted:
            raise UsageError(f"column {header!r} is mapped to {name!r}, which a {kind} run does "
                             f"not read; it reads: {', '.join(wanted)}")
        key = normalise_header(header)
        if not key:
            raise UsageError(f"an empty header cannot be mapped (to {name!r})")
        checked[key] = name
    return checked


def describe(field: str) -> str:
    """``accepted_on (受理日期)``: how messages name a column."""
    chinese = CHINESE.get(field)
    return f"{field} ({chinese})" if chinese else field


class ColumnsError(InputError):
    """A header a run cannot use (a required column missing, one field twice).

    For a file with a header row this stops the run: no row of it can be decided. The
    message names the headers; ``value`` holds them as a list for callers.
    """

    message_names_value = True


class NearMissError(ColumnsError):
    """A header that resembles a known name without being one: it stops every run, any format,
    because reading on would bill as if that column were absent."""


@attrs.frozen
class ColumnMap:
    """Which header feeds which field, for one header row."""

    pairs: tuple[tuple[str, str], ...]  # (header as read, field)
    extras: tuple[str, ...]  # headers kept only for the rejects


@attrs.frozen
class HeaderMap:
    """How a run read one source's headers: ``pairs`` (field, header), and the headers ignored.

    Printed by every run, so a renamed column shows before anyone reads a bill.
    """

    source: str
    pairs: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]

    def __str__(self) -> str:
        mapped = ", ".join(f"{field} ← {header}" for field, header in self.pairs)
        ignored = ", ".join(self.ignored) if self.ignored else "none"
        return f"{self.source}: {mapped or '(no column mapped)'}; ignored: {ignored}"


def map_columns(kind: str, columns: Iterable[str], *, source: str | None = None,
                explicit: Mapping[str, str] | None = None, fixed: bool = True) -> ColumnMap:
    """Match ``columns`` to the fields of ``kind``; one error names every missing column.

    ``explicit`` (from ``explicit_columns``) maps headers first; with ``fixed``
    (a file's header row, not one JSON object's keys) each of its headers must be
    there. A header resembling the name of a field no header gives stops the run
    (``NearMissError``), unless ``explicit`` maps it.
    """
    wanted = FIELDS[kind]
    explicit = explicit or {}
    columns = tuple(columns)
    pairs: list[tuple[str, str]] = []
    extras: list[str] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    if fixed and explicit:
        present = {normalise_header(h) for h in columns}
        absent = [h for h in explicit if h not in present]
        if absent:
            raise UsageError(f"{source or 'the feed'}: no column {', '.join(map(repr, absent))} to "
                             f"map; the header has: {_found(columns)}")
    for header in columns:
        key = normalise_header(header)
        if key in explicit:
            field: str | None = explicit[key] or None
            if field is None:
                extras.append(header)
                continue
        else:
            field = _ALIASES.get(key)
            if field is None:
                unknown.append(header)
        if field is None or field not in wanted:
            extras.append(header)
            continue
        if field in seen:
            raise ColumnsError("(columns)", [seen[field], header],
                               f"columns {seen[field]!r} and {header!r} both give {describe(field)}",
                               source=source)
        seen[field] = header
        pairs.append((header, field))
    absent_fields = [f for f in wanted if f not in seen]
    misses = [(h, f) for h in unknown if (f := near_miss(h, absent_fields)) is not None]
    if misses:
        raise NearMissError("(columns)", [h for h, _f in misses], "; ".join(
            f"column {h!r} is not a known name but resembles {describe(f)}: rename it, or map it "
            f"explicitly (--column {h}={f}; to ignore it, --column {h}=)" for h, f in misses),
            source=source)
    missing = [f for f in REQUIRED[kind] if f not in seen and (fixed or f not in MAY_BE_EMPTY[kind])]
    if missing:
        raise ColumnsError("(columns)", missing,
                           f"missing required column(s): {', '.join(describe(f) for f in missing)}; "
                           f"the header has: {_found(columns)}", source=source)
    return ColumnMap(tuple(pairs), tuple(extras))


def _found(columns: tuple[str, ...]) -> str:
    """The headers found, as decoded (so a wrong encoding shows), for messages."""
    return ", ".join(repr(h) for h in columns) if columns else "(no columns)"


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def no_account(value: Any) -> bool:
    """Whether an account cell holds no account id: empty, a total row's household count, or
    the total label itself (a CSV export whose first column is the account)."""
    if isinstance(value, str):
        return (not value.strip() or _TOTAL_COUNT.match(unicodedata.normalize("NFKC", value)) is not None
                or total_cell(value))
    return value is None


def total_cell(value: Any) -> bool:
    """Whether ``value`` is a total row's label (合计, 小计: ``TOTAL_MARKS``)."""
    if not isinstance(value, str) or not any(end in value for end in _MARK_ENDS):
        return False
    text = "".join(unicodedata.normalize("NFKC", value).split())
    return _TOTAL_CELL.search(text) is not None


def maybe_skipped(values: Mapping[str, Any]) -> bool:
    """Whether ``RowReader.skip`` could skip a row with ``values``: cheap, for bulk readers."""
    return all(_empty(v) for v in values.values()) or any(total_cell(v) for v in values.values())


def cell_value(field: str, value: Any) -> Any:
    """What ``structure`` should see for one cell: Excel numbers and dates made plain.

    Text is put in its column's normal form (the contract's ``normal_form``: ids, enums and
    package codes also lose format characters and are NFKC'd); a date cell or Excel serial
    number in a date column becomes a ``date``; a number in a text column becomes
    its digits unless Excel has already rounded it (more than 15 digits).
    """
    if value is None:
        return None
    if isinstance(value, str):
        normal = _NORMAL.get(field)
        return normal(value) if normal is not None else value.strip()
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
    if isinstance(value, date):
        # A spreadsheet's date-and-time cell is local (Asia/Shanghai) time: its day counts.
        day = value.date() if isinstance(value, datetime) else value
        try:
            return checked_year(day)
        except ValueError as exc:
            raise InputError(field, day, str(exc)) from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return excel_serial_date(value)
        except (ValueError, OverflowError) as exc:
            raise InputError(field, value, f"not an Excel date serial: {exc}") from None
    raise InputError(field, value, f"expected a date, not {kind_of(value)}")


def _text_cell(field: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        if abs(value) >= 10 ** _EXCEL_DIGITS:
            raise InputError(field, value,
                             "a number of more than 15 digits has lost its last digits in Excel; "
                             "the cell must be typed as text")
        return str(int(value))
    raise InputError(field, value, f"expected text, not {kind_of(value)}")


#: Key sets of JSON objects whose maps are kept (a feed has a handful; the cap bounds a pathological one).
_LOOSE_MAPS = 1024


class RowReader:
    """Turns the raw rows of one kind of run into model records, one at a time."""

    def __init__(self, kind: str, columns: Mapping[str, str] | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
        self.kind = kind
        self.explicit = explicit_columns(kind, columns)
        self._columns: tuple[str, ...] | None = None
        self._map: ColumnMap | None = None
        self._loose: dict[tuple[str, tuple[str, ...]], ColumnMap] = {}
        # source -> ({(field, header)}, {ignored header}), in the order first seen
        self._log: dict[str, tuple[dict[tuple[str, str], None], dict[str, None]]] = {}

    def column_map(self, raw: RawRow) -> ColumnMap:
        """The map for ``raw``'s header; a ``ColumnsError`` when it cannot be used.

        Rows of one file share one header tuple, so it is matched once per file;
        rows without one (JSON objects) once per distinct set of keys.
        """
        columns = raw.columns
        if columns is None:
            keys = (raw.source, tuple(raw.values))
            found = self._loose.get(keys)
            if found is None:
                found = map_columns(self.kind, keys[1], source=raw.source, explicit=self.explicit,
                                    fixed=False)
                if len(self._loose) >= _LOOSE_MAPS:
                    self._loose.clear()  # objects whose keys all differ: keep memory flat
                self._loose[keys] = found
                self._note(raw.source, found)
            return found
        if columns is not self._columns or self._map is None:
            self._map = map_columns(self.kind, columns, source=raw.source, explicit=self.explicit)
            self._columns = columns
            self._note(raw.source, self._map)
        return self._map

    def _note(self, source: str, columns: ColumnMap) -> None:
        pairs, ignored = self._log.setdefault(source, ({}, {}))
        pairs.update(((field, header), None) for header, field in columns.pairs)
        ignored.update((header, None) for header in columns.extras)

    def header_maps(self) -> tuple[HeaderMap, ...]:
        """How every source read so far mapped its headers, in reading order."""
        return tuple(HeaderMap(source, tuple(pairs), tuple(h for h in ignored
                                                           if h not in {p[1] for p in pairs}))
                     for source, (pairs, ignored) in self._log.items())

    def skip(self, raw: RawRow, columns: ColumnMap | None) -> str | None:
        """Why ``raw`` is not a record (``BLANK_ROW``, ``TOTAL_ROW``), or None.

        A blank row has every cell empty; a total row has a total mark in a cell
        and no account id (``columns`` says which header gives it; without a map,
        as for a JSON object that lacks a column, the known names do).
        """
        values = raw.values
        texts = [v for v in values.values() if type(v) is str]
        if len(texts) == len(values):  # the usual case, all text: one pass in C over the cells
            joined = "".join(texts)
            if joined and not joined.isspace() and not _MARK_END_SEARCH(joined):
                return None  # not blank, no total mark
        if all(_empty(v) for v in values.values()):
            return BLANK_ROW if SKIP_BLANK else None
        if not any(total_cell(v) for v in values.values()):
            return None
        if columns is not None:
            header = header_of(columns, "account_id")
            account = None if header is None else values.get(header)
        else:
            account = next((v for h, v in values.items()
                            if self.explicit.get(normalise_header(h), field_of(h)) == "account_id"),
                           None)
        return TOTAL_ROW if no_account(account) else None

    def read(self, raw: RawRow, columns: ColumnMap) -> Enrollment | tuple[Subscriber, date]:
        """The record of ``raw``: an Enrollment (bill) or a Subscriber and its acceptance day.

        Raises ``InputError`` naming the field for a row that cannot be decided.
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
