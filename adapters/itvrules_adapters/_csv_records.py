"""How a CSV record becomes a row, shared by ``CsvReader.read`` and its bulk reading."""

from __future__ import annotations

from collections.abc import Sequence

from itvrules import InputError, RawRow


def header_of(cells: Sequence[str], source: str, row: int) -> tuple[str, ...]:
    """The header row's names (a blank one named by its position); a name twice is an InputError."""
    names = tuple(cell.strip() or f"(column {i})" for i, cell in enumerate(cells, 1))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError("(columns)", name, f"column {name!r} appears twice in the header "
                             f"(row {row})", source=source)
        seen.add(name)
    return names


def record(header: tuple[str, ...], cells: list[str], source: str, row: int) -> RawRow:
    """The row of one record; a shifted or cut record is a row with ``error`` set."""
    width = len(header)
    if not any(cell.strip() for cell in cells):
        # A blank record, however many separators it has: every cell empty, skipped downstream.
        return RawRow(source, row, dict.fromkeys(header, ""), header)
    if len(cells) == width:
        return RawRow(source, row, dict(zip(header, cells, strict=True)), header)
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        # Trailing empty cells (a formatted but empty column) carry nothing.
        return RawRow(source, row, dict(zip(header, cells[:width], strict=True)), header)
    values = dict(zip(header, cells, strict=False))
    for i, extra in enumerate(cells[width:], width + 1):
        values[f"(column {i})"] = extra
    error = InputError("(row)", len(cells), f"the row has {len(cells)} cells but the header has "
                       f"{width}: a shifted or cut row cannot be read safely")
    return RawRow(source, row, values, header, error)
