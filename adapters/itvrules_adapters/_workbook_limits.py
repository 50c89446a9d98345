"""A workbook checked against the limits from its own metadata, before python-calamine reads it.

calamine sizes a sheet from the cells it names: one cell at XFD1048576 asks
for a grid of 17 billion cells (the process aborts), and a gigabyte text cell
is held whole, several times over. So the zip is opened here first, with
``zipfile``: the sizes its parts declare are summed against
``xlsx_unpacked_bytes``, a part that unpacks past ``xlsx_ratio`` times its
packed size is refused (a zip bomb), and every sheet and the shared strings
are streamed in bounded pieces: the ``<dimension>`` a sheet declares and the
furthest cell it names (``<c r="...">``, ``<row r="...">``) against
``xlsx_rows`` and ``xlsx_columns``, and the longest run of text against
``field_bytes`` times ``READ_FACTOR`` (a cell over ``field_bytes`` but under
that is read and rejects its row, as in CSV). An OLE2 compound file holding
an ``EncryptedPackage`` is a password-protected workbook and is named so.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import IO

from itvrules import InputError, Limit, LimitExceeded

from ._csv_records import READ_FACTOR
from ._limits import FIELD_BYTES, XLSX_COLUMNS, XLSX_RATIO, XLSX_ROWS, XLSX_UNPACKED_BYTES

#: The first bytes of an OLE2 compound file: an encrypted OOXML package, or a legacy .xls.
CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
#: Bytes read at a time from a part of the workbook.
PIECE = 1 << 20
#: Bytes carried from one piece to the next, so a reference cut in two is still seen.
OVERLAP = 64
#: Parts smaller than this are never refused for their packing ratio.
RATIO_FLOOR = 1 << 20
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{0,7})([0-9]{0,12})'
                        rb'(?::([A-Z]{1,7})([0-9]{1,12}))?"')
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_NAME = re.compile(rb'\bname="([^"]*)"')
_RID = re.compile(rb'\b(?:\w+:)?id="([^"]*)"')
_REL = re.compile(rb"<Relationship\b[^>]*>")
_TARGET = re.compile(rb'\bTarget="([^"]*)"')
_ID = re.compile(rb'\bId="([^"]*)"')


def check_workbook(data: IO[bytes], source: str) -> None:
    """Refuse a workbook over a limit, or encrypted, before it is read; ``data`` is left where it was."""
    start = data.tell()
    try:
        head = data.read(8)
        if head.startswith(CFB_MAGIC):
            data.seek(start)
            if _holds(data, _ENCRYPTED):
                raise InputError("(file)", None, "the workbook is password-protected (encrypted); "
                                 "save it without a password", source=source)
            return  # a legacy .xls: calamine reads it (BIFF sheets end at 65,536 x 256)
        if not head.startswith(ZIP_MAGIC):
            return
        data.seek(start)
        try:
            book = zipfile.ZipFile(data)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InputError("(file)", None, f"not a workbook that can be read: {exc}",
                             source=source) from None
        with book:
            _check_zip(book, source)
    finally:
        data.seek(start)


def _holds(data: IO[bytes], needle: bytes) -> bool:
    tail = b""
    while piece := data.read(PIECE):
        if needle in tail + piece:
            return True
        tail = piece[-len(needle):]
    return False


def _check_zip(book: zipfile.ZipFile, source: str) -> None:
    infos = book.infolist()
    _limit(XLSX_UNPACKED_BYTES, sum(info.file_size for info in infos), source)
    for info in infos:
        if info.file_size > RATIO_FLOOR:
            _limit(XLSX_RATIO, info.file_size // max(info.compress_size, 1), f"{source}: {info.filename}")
    names = _sheet_names(book)
    for info in infos:
        lower = info.filename.lower()
        if lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
            where = f"{source}#{names.get(info.filename, info.filename)}"
            _scan(book, info, where, sheet=True)
        elif lower.endswith("sharedstrings.xml") or lower == "content.xml":
            _scan(book, info, f"{source}: {info.filename}", sheet=False)


def _limit(limit: Limit, found: int, where: str) -> None:
    """``limit`` checked; a breach is an InputError about the file, in the limit's own words."""
    try:
        limit.check(found, where)
    except LimitExceeded as exc:
        raise InputError("(file)", None, str(exc)[len(where) + 2:], source=where) from None


def _pieces(book: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> Iterator[bytes]:
    try:
        with book.open(info) as part:
            while piece := part.read(PIECE):
                yield piece
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise InputError("(file)", None, f"the part {info.filename} cannot be read: {exc}",
                         source=where) from None


def _scan(book: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, *, sheet: bool) -> None:
    """One part streamed: its furthest cell (a sheet) and its longest run of text."""
    longest_allowed = FIELD_BYTES.value() * READ_FACTOR
    # A cell reference (``<c r="AB12">``) or row number (``<row r="12">``) with at least as many
    # letters or digits as the largest allowed one.
    most_letters, most_digits = len(_letters(XLSX_COLUMNS.value())), len(str(XLSX_ROWS.value()))
    wide = re.compile(rb'r="([A-Z]{%d,})[0-9]' % most_letters)  # a literal start: the fast search
    far = re.compile(rb'r="[A-Z]*([0-9]{%d,})"' % most_digits)
    run = longest = rows = columns = 0
    tail = b""
    inside = re.compile(rb"[^<]{%d,}" % (longest_allowed + 1)) if longest_allowed < PIECE else None
    for piece in _pieces(book, info, where):
        first = piece.find(b"<")
        if first < 0:
            run += len(piece)
        else:  # a run of text ends at the first "<"; the next starts after the last
            longest = max(longest, run + first)
            run = len(piece) - piece.rfind(b"<") - 1
            if inside is not None and inside.search(piece):
                longest = longest_allowed + 1
        longest = max(longest, run)
        if longest > longest_allowed:
            raise InputError("(file)", None, f"a cell is over the limit {FIELD_BYTES.name} (more "
                             f"than {longest_allowed:,} {FIELD_BYTES.unit}, too big to read); raise "
                             f"it with {FIELD_BYTES.env}=N if the input is genuine", source=where)
        if sheet:
            text = tail + piece
            for match in _DIMENSION.finditer(text):
                for letters, digits in ((match.group(1), match.group(2)), (match.group(3), match.group(4))):
                    if letters:
                        columns = max(columns, _column(letters))
                    if digits:
                        rows = max(rows, int(digits))
            # Only references as long as the limits' own can be over them: in a feed they are rare.
            for letters in wide.findall(text):
                columns = max(columns, _column(letters))
            for digits in far.findall(text):
                rows = max(rows, int(digits))
            _limit(XLSX_ROWS, rows, where)
            _limit(XLSX_COLUMNS, columns, where)
            tail = text[-OVERLAP:]


def _letters(number: int) -> str:
    """Excel's letters for column ``number`` (1 is A, 16,384 is XFD)."""
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _sheet_names(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet part → the sheet's name, for the words of an error (empty when it cannot tell)."""
    try:
        workbook = _small(book, "xl/workbook.xml")
        rels = _small(book, "xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return {}
    targets = {}
    for rel in _REL.findall(rels):
        rid, target = _ID.search(rel), _TARGET.search(rel)
        if rid and target:
            path = target.group(1).decode("utf-8", "replace").lstrip("/")
            targets[rid.group(1)] = path if path.startswith("xl/") else "xl/" + path
    names = {}
    for sheet in _SHEET.findall(workbook):
        name, rid = _NAME.search(sheet), _RID.search(sheet.replace(b"sheetId=", b""))
        if name and rid and rid.group(1) in targets:
            names[targets[rid.group(1)]] = name.group(1).decode("utf-8", "replace")
    return names


def _small(book: zipfile.ZipFile, name: str) -> bytes:
    """A part known to be small (the workbook's index): at most a few MB are read."""
    with book.open(name) as part:
        return part.read(4 << 20)
