"""Export text in bulk (``TextColumnsSink``), byte for byte what the CSV and JSON Lines sinks write.

Most cells of a bill row depend only on its fee decision (code, amounts,
rule, clause, policy), so each distinct decision's line is rendered once by
the writers' own cell functions, with markers in the few per-row cells
(record id, account, source, row number). The line is cut at the
markers into segments, and each row's line is the segments with its own
cells, rendered by column expressions that follow the writers' rules: the
formula guard and minimal quoting of ``csv.writer`` for CSV, ``json.dumps``
escapes for JSON Lines. The tests hold these expressions to the writers.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final

import polars as pl

from . import _cells
from ._encoding import output_encoding

#: The lines of a batch of a few thousand rows: polars' in-memory engine starts fastest.
ENGINE: Final = "in-memory"

#: Every character ``json.dumps(..., ensure_ascii=False)`` escapes, and how.
_JSON_ESCAPED = [chr(c) for c in range(0x20)] + ['"', "\\"]
_JSON_ESCAPES = [json.dumps(c, ensure_ascii=False)[1:-1] for c in _JSON_ESCAPED]
#: A cell holding one of these is quoted by csv.writer (delimiter, quote char, line terminator).
_CSV_SPECIAL = r'[,"\r\n]'
_FORMULA = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in _cells.FORMULA_START) + "]"


class _Lines:
    """What the CSV and JSON Lines exports share: templates cut at markers, lines written in bulk."""

    def __init__(self, stream: IO[bytes], encoding: str, newline: str, columns: Sequence[str]) -> None:
        self._stream = stream
        self._text = io.TextIOWrapper(stream, encoding=encoding, newline=newline)
        self._utf8 = encoding in ("utf-8", "utf-8-sig")
        self._columns = tuple(columns)

    def _line(self, row: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _slot_text(self, marker: str) -> str:
        raise NotImplementedError

    def template(self, row: Mapping[str, Any], slots: Sequence[str]) -> list[str]:
        token = uuid.uuid4().hex
        markers = {slot: f"ITVRULESSLOT{i}X{token}" for i, slot in enumerate(slots)}
        line = self._line({**row, **markers})
        segments = []
        for slot in slots:
            mark = self._slot_text(markers[slot])
            if line.count(mark) != 1:
                raise RuntimeError(f"cannot place the {slot} cell in {line!r}")
            head, line = line.split(mark)
            segments.append(head)
        segments.append(line)
        return segments

    def number_cells(self, values: pl.Expr) -> pl.Expr:
        return values.cast(pl.String)

    def write_lines(self, lines: pl.LazyFrame) -> None:
        text = pl.all().str.join("")
        if self._utf8:
            # polars holds UTF-8 already: the bytes go straight out, after what the text layer holds.
            self._text.flush()
            self._stream.write(lines.select(text.cast(pl.Binary)).collect(engine=ENGINE).item())
        else:
            self._text.write(lines.select(text).collect(engine=ENGINE).item())

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


class CsvLines(_Lines):
    """As ``csv_io.CsvSink``: UTF-8 with BOM unless told, header and text cells formula-guarded."""

    def __init__(self, stream: IO[bytes], columns: Sequence[str], encoding: str | None) -> None:
        super().__init__(stream, output_encoding(encoding), "", columns)
        csv.writer(self._text).writerow([_cells.guarded(c) for c in self._columns])

    def _line(self, row: Mapping[str, Any]) -> str:
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerow([_cells.guarded(row.get(c)) for c in self._columns])
        return buffer.getvalue()

    def _slot_text(self, marker: str) -> str:
        return marker

    def id_cells(self, values: pl.Expr) -> pl.Expr:
        return values

    def text_cells(self, values: pl.Expr) -> pl.Expr:
        guarded = pl.when(values.str.contains(_FORMULA)).then(pl.lit("'") + values).otherwise(values)
        return (pl.when(guarded.str.contains(_CSV_SPECIAL))
                .then(pl.lit('"') + guarded.str.replace_all('"', '""', literal=True) + pl.lit('"'))
                .otherwise(guarded))


class JsonlLines(_Lines):
    """As ``jsonl_io.JsonlSink``: one ``json.dumps`` object per line, keys in column order."""

    def __init__(self, stream: IO[bytes], columns: Sequence[str]) -> None:
        super().__init__(stream, "utf-8", "\n", columns)

    def _line(self, row: Mapping[str, Any]) -> str:
        value = _cells.json_value
        return json.dumps({c: value(row.get(c)) for c in self._columns}, ensure_ascii=False) + "\n"

    def _slot_text(self, marker: str) -> str:
        return json.dumps(marker)

    def id_cells(self, values: pl.Expr) -> pl.Expr:
        return pl.lit('"') + values + pl.lit('"')

    def text_cells(self, values: pl.Expr) -> pl.Expr:
        return pl.lit('"') + values.str.replace_many(_JSON_ESCAPED, _JSON_ESCAPES) + pl.lit('"')

