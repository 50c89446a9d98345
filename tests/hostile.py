"""Hostile feed files built in memory: workbooks written as raw zip XML, so a test can say what
Excel never would (a cell at XFD1048576, a gigabyte cell, a lying dimension), and the peak
memory of reading a file measured in a child process.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

from paths import ROOT

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>")
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
_NO_STRINGS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
               'uniqueCount="0"/>')


#: The header of a bill feed, as the channels' form writes it, and one row that decides.
HEADER = ("宽带账号", "产品类型", "受理日期", "竣工日期", "拆机申请日期", "拆机生效日期")
GOOD_ROW = ("8410950407", "品牌", "2025-03-24", "2025-03-28", None, None)


def column_name(number: int) -> str:
    """Excel's letters for column ``number`` (1 is A, 16,384 is XFD)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(ref: str, value: object) -> str:
    """One ``<c>`` element: text inline, numbers as numbers."""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows: Sequence[Sequence[object]], *, dimension: str | None = None,
              extra_cells: str = "") -> str:
    """A worksheet of ``rows`` from A1, with an optional ``<dimension>`` and raw cells after them."""
    body = []
    for r, cells in enumerate(rows, 1):
        refs = "".join(cell_xml(f"{column_name(c)}{r}", v) for c, v in enumerate(cells, 1)
                       if v is not None)
        body.append(f'<row r="{r}">{refs}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"{_SHEET_HEAD}{dim}<sheetData>{''.join(body)}{extra_cells}</sheetData></worksheet>"


def _parts(book: zipfile.ZipFile, sheet: str) -> None:
    """The members every one-sheet workbook has, with ``sheet`` as its sheet XML."""
    book.writestr("[Content_Types].xml", _CONTENT_TYPES)
    book.writestr("_rels/.rels", _RELS)
    book.writestr("xl/workbook.xml", _WORKBOOK)
    book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
    book.writestr("xl/worksheets/sheet1.xml", sheet)


def workbook(sheet: str, *, strings: str = _NO_STRINGS) -> bytes:
    """A one-sheet .xlsx whose sheet XML is ``sheet``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        _parts(book, sheet)
        book.writestr("xl/sharedStrings.xml", strings)
    return out.getvalue()


def far_cell_workbook(ref: str = "XFD1048576", *, declare: bool = True) -> bytes:
    """The "XFD bomb": a header, one row, and one cell at ``ref`` (a few KB, a huge grid)."""
    return workbook(sheet_xml([HEADER, GOOD_ROW], dimension=f"A1:{ref}" if declare else None,
                              extra_cells=f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">'
                                          f'{cell_xml(ref, 1)}</row>'))


def huge_cell_workbook(size: int, *, declare_size: bool = True) -> bytes:
    """A workbook whose one shared string is ``size`` bytes, deflated to about a thousandth.

    ``declare_size=False`` writes the member as a stream whose local header says nothing of
    its size, as a workbook built to lie would (the central directory still tells).
    """
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
            b'uniqueCount="1"><si><t>')
    tail = b"</t></si></sst>"
    sheet = sheet_xml([HEADER],
                      extra_cells='<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        _parts(book, sheet)
        info = zipfile.ZipInfo("xl/sharedStrings.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        if declare_size:
            info.file_size = len(head) + size + len(tail)
        with book.open(info, "w", force_zip64=True) as member:
            member.write(head)
            block = b"a" * (1 << 20)
            left = size
            while left:
                piece = block if left >= len(block) else block[:left]
                member.write(piece)
                left -= len(piece)
            member.write(tail)
    return out.getvalue()


#: The start of every OLE2 compound file: an encrypted OOXML package, or a legacy .xls.
CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def compound_file(stream_name: str) -> bytes:
    """A 4 KB stand-in of a compound (OLE2) file naming ``stream_name`` in its directory."""
    name = stream_name.encode("utf-16-le")
    return CFB_MAGIC + bytes(504) + name + bytes(4096 - 512 - len(name))


def peak_rss_kib(code: str, *, env: dict[str, str] | None = None,
                 timeout: float = 120) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Run ``code`` in a fresh Python and return its peak resident memory (KiB) and the result."""
    script = ("import json, resource, subprocess, sys\n"
              "child = subprocess.run([sys.executable, '-c', sys.argv[1]], capture_output=True, "
              "text=True, env=json.loads(sys.argv[2]))\n"
              "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
              "print(json.dumps([peak, child.returncode, child.stdout, child.stderr]))\n")
    child_env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT / "adapters"), os.environ.get("PYTHONPATH", "")]), **(env or {})}
    done = subprocess.run([sys.executable, "-c", script, code, json.dumps(child_env)],
                          capture_output=True, text=True, timeout=timeout, check=True)
    peak, status, stdout, stderr = json.loads(done.stdout)
    return int(peak), subprocess.CompletedProcess([], status, stdout, stderr)


def baseline_rss_kib() -> int:
    """The peak memory of a Python that imports itvrules and its readers and reads nothing."""
    peak, _ = peak_rss_kib("import itvrules, itvrules_adapters.xlsx_io, python_calamine, polars")
    return peak


__all__ = ["CFB_MAGIC", "GOOD_ROW", "HEADER", "baseline_rss_kib", "cell_xml", "column_name", "compound_file",
           "far_cell_workbook", "huge_cell_workbook", "peak_rss_kib", "sheet_xml", "workbook"]
