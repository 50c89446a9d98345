"""Rejected rows, kept on disk until a run ends and then written in any export format.

The rejects file has a column for every header read, and those are only all
known at the end of a run (JSON lines may each bring new keys), so rejected
rows are spooled to a temporary file as they come and written out last. Memory
holds the column names, never the rows.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from typing import IO, Any

from ..hookspecs import ExportWriter, RawRow

#: The first columns of every rejects file; the raw cells follow.
REJECT_COLUMNS = ("source", "source_row", "field", "error")


class RejectSpool:
    """Rejected rows on disk until the run ends, when every column read is known."""

    def __init__(self) -> None:
        self.count = 0
        self._file: IO[str] | None = None
        self._columns: dict[str, None] = {}
        self._last: tuple[str, ...] | None = None

    def __enter__(self) -> RejectSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def note_columns(self, raw: RawRow) -> None:
        """Remember the headers read, so the rejects file has a column for each."""
        if raw.columns is not None:
            if raw.columns is not self._last:
                self._last = raw.columns
                self._columns.update(dict.fromkeys(raw.columns))
            return
        columns = self._columns
        for key in raw.values:
            if key not in columns:
                columns[key] = None

    def add(self, raw: RawRow, field: str, error: str) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by __exit__
        for key in raw.values:  # a row can hold a key no header named (a JSON line, a long row)
            if key not in self._columns:
                self._columns[key] = None
        values = {str(k): raw_text(v) for k, v in raw.values.items()}
        self._file.write(json.dumps([raw.source, raw.row, field, error, values],
                                    ensure_ascii=False))
        self._file.write("\n")
        self.count += 1

    def write_to(self, writer: ExportWriter, stream: IO[bytes], encoding: str | None) -> None:
        names = {c: (f"{c} (input)" if c in REJECT_COLUMNS else c) for c in self._columns}
        sink = writer.open(stream, (*REJECT_COLUMNS, *names.values()), kind="rejects",
                           encoding=encoding)
        if self._file is not None:
            self._file.seek(0)
            for line in self._file:
                source, row, field, error, values = json.loads(line)
                record: dict[str, Any] = {"source": source, "source_row": row, "field": field,
                                          "error": error}
                for key, value in values.items():
                    record[names.get(key, key)] = value
                sink.write(record)
        sink.close()


def raw_text(value: Any) -> str:
    """A raw cell as text for the rejects, as close to what was read as text allows."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)
