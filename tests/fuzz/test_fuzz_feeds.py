"""Fuzz: hostile feed rows in every format end in decisions, rejects or one library error.

Hypothesis writes feeds of random Unicode, huge cells, wrong types, deep JSON, huge
integers, bad dates, missing and extra columns, byte-order marks and mixed encodings,
as CSV, JSON Lines, Excel (raw sheet XML, so cells Excel would never write) and
Parquet, and runs ``bill`` and ``eligibility`` on them through the public API. Each
run must end in a summary whose counts lose no row (rows in = decided + rejected +
skipped) or in an ``ItvRulesError``; anything else is a bug. A few fixed hostile files
(the XFD bomb, a gigabyte cell in a small zip, a 256 MiB JSON line) run through the
command line in a child process whose peak memory is measured.
"""

from __future__ import annotations

import codecs
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import itvrules
from hostile import (
    HEADER,
    baseline_rss_kib,
    column_name,
    far_cell_workbook,
    huge_cell_workbook,
    peak_rss_kib,
    sheet_xml,
    workbook,
)

POLICY = itvrules.load_policy()
COLUMNS = ["account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
           "cancel_requested_on", "cancel_effective_on", "switched_to", "备注"]
#: Cells that sit on the edges the readers must hold.
HOSTILE_TEXT = ["", " ", "合计", "小计：12户", "=cmd|' /C calc'!A0", "\ufeff8410950407", "84109\u200b50407",
                "2025-02-30", "0000-01-01", "9999-12-31", "10000-01-01", "2025年3月31日", "１２３",
                "x" * (200 * 1024), "€" * 50_000, "line\nbreak", 'quote"d', "\x00nul", "true", "是",
                "brand", "品牌", "annual", "hd", "ｑｕａｎｎｅｎｇ", "8410950407", "1e309", "-0", "NaN"]
text = st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE_TEXT))
plain_text = text.map(lambda t: t.encode("utf-8", "replace").decode("utf-8", "replace"))
fuzz = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)


def fewer(share: float) -> settings:
    """``fuzz`` with a share of the profile's examples, for a format slow to write and read
    (the ``deep`` profile scales it up alike)."""
    return settings(fuzz, max_examples=max(10, int(settings.default.max_examples * share)))


def run(path: Path, kind: str, backend: str) -> None:
    """One run of ``kind`` on ``path``: a summary that loses no row, or a library error."""
    out = str(path.parent / "out.csv")
    try:
        if kind == "bill":
            summary = itvrules.run_bill(POLICY, "2025-07", [str(path)], out, backend=backend)
        else:
            summary = itvrules.run_eligibility(POLICY, [str(path)], out)
    except itvrules.ItvRulesError:
        return
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped


kinds = st.sampled_from([("bill", "rows"), ("bill", "columnar"), ("eligibility", "rows")])


@fewer(0.5)
@given(header=st.lists(st.sampled_from(COLUMNS) | text, min_size=1, max_size=10),
       rows=st.lists(st.lists(plain_text, max_size=12), max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "mixed"]),
       delimiter=st.sampled_from([",", "\t"]), kind=kinds)
def test_csv_feeds_end_in_counts_or_a_library_error(header: list[str], rows: list[list[str]],
                                                    encoding: str, delimiter: str,
                                                    kind: tuple[str, str]) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    body = buffer.getvalue()
    if encoding == "mixed":  # UTF-8 first, GB18030 further down
        half = len(body) // 2
        data = body[:half].encode("utf-8", "replace") + body[half:].encode("gb18030", "replace")
    else:
        data = body.encode(encoding, "replace")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "feed.csv")
        path.write_bytes(data)
        run(path, *kind)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | text,
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(text, inner, max_size=3), max_leaves=8)
json_lines = st.one_of(
    st.dictionaries(st.sampled_from(COLUMNS) | text, json_values | text, max_size=10)
    .map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.integers(1, 5_000).map(lambda n: '{"a":' * n + "1" + "}" * n),  # deep
    st.integers(4_000, 6_000).map(lambda n: '{"account_id": ' + "7" * n + "}"),  # huge integer
    st.sampled_from(["", "[]", "null", "{", '{"account_id": "\\ud800"}', "\ufeff{}", '{"x": 1e999}']),
    text.map(lambda t: t.replace("\n", " ")),
)


@fewer(0.5)
@given(lines=st.lists(json_lines, max_size=8), bom=st.booleans(), kind=kinds)
def test_jsonl_feeds_end_in_counts_or_a_library_error(lines: list[str], bom: bool,
                                                      kind: tuple[str, str]) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "feed.jsonl")
        path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
        run(path, *kind)


xlsx_cells = st.one_of(text, st.integers(-10**12, 10**12), st.floats(allow_nan=False), st.none(),
                       st.sampled_from([1e10, -1, 0, 45747, 2958465, 2958466, 45747.5]))


@fewer(0.4)
@given(header=st.lists(st.sampled_from(list(HEADER)) | text, min_size=1, max_size=8),
       rows=st.lists(st.lists(xlsx_cells, max_size=8), max_size=6),
       title_rows=st.integers(0, 12),
       far=st.none() | st.tuples(st.integers(1, 20_000), st.integers(1, 1_100_000)),
       dimension=st.none() | st.sampled_from(["A1", "A1:F20", "A1:XFD1048576", "B2:IV70000"]),
       kind=kinds)
def test_xlsx_feeds_end_in_counts_or_a_library_error(header: list[Any], rows: list[list[Any]],
                                                     title_rows: int, far: tuple[int, int] | None,
                                                     dimension: str | None,
                                                     kind: tuple[str, str]) -> None:
    cells = [["title"]] * title_rows + [header, *rows]
    extra = ""
    if far is not None:  # one cell far off, named only by its reference
        ref = f"{column_name(far[0])}{far[1]}"
        extra = f'<row r="{far[1]}"><c r="{ref}"><v>1</v></c></row>'
    sheet = sheet_xml([[c.replace("\x00", "") if isinstance(c, str) else c for c in row] for row in cells],
                      dimension=dimension, extra_cells=extra)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "form.xlsx")
        path.write_bytes(workbook(sheet))
        run(path, *kind)


def parquet_column(kind: str, values: Any) -> pa.Array:
    types = {"text": pa.string(), "binary": pa.binary(), "date": pa.date32(), "int": pa.int64(),
             "float": pa.float64(), "bool": pa.bool_(), "stamp": pa.timestamp("us"),
             "zoned": pa.timestamp("ms", tz="UTC")}
    return pa.array(values, type=types[kind])


column_kinds = st.sampled_from(["text", "binary", "date", "int", "float", "bool", "stamp", "zoned"])


@st.composite
def parquet_feeds(draw: st.DrawFn) -> pa.Table:
    height = draw(st.integers(0, 6))
    names = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=9, unique=True))
    columns = {}
    for name in names:
        kind = draw(column_kinds)
        as_bytes = text.map(lambda t: t.encode("utf-8", "replace"))
        cell = {"text": text, "binary": st.binary(max_size=12) | as_bytes,
                "date": st.integers(-(2**31) + 1, 2**31 - 1), "int": st.integers(-(2**63), 2**63 - 1),
                "float": st.floats(), "bool": st.booleans(),
                "stamp": st.integers(-(2**62), 2**62), "zoned": st.integers(-(2**62), 2**62)}[kind]
        columns[name] = parquet_column(kind, draw(st.lists(st.none() | cell, min_size=height,
                                                             max_size=height)))
    return pa.table(columns)


@fewer(0.5)
@given(table=parquet_feeds(), kind=kinds, out=st.sampled_from(["out.csv", "out.parquet"]))
def test_parquet_feeds_end_in_counts_or_a_library_error(table: pa.Table, kind: tuple[str, str],
                                                        out: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "feed.parquet")
        pq.write_table(table, path)
        try:
            if kind[0] == "bill":
                summary = itvrules.run_bill(POLICY, "2025-07", [str(path)], str(Path(folder, out)),
                                            backend=kind[1])
            else:
                summary = itvrules.run_eligibility(POLICY, [str(path)], str(Path(folder, out)))
        except itvrules.ItvRulesError:
            return
        assert summary.rows_in == table.num_rows == summary.decided + summary.rejected + summary.skipped


def test_fixed_hostile_files_end_in_one_line_each_in_bounded_memory(tmp_path: Path) -> None:
    """The worst of each kind through the command line, in one child whose peak memory is read."""
    (tmp_path / "xfd.xlsx").write_bytes(far_cell_workbook())
    (tmp_path / "gig.xlsx").write_bytes(huge_cell_workbook(1 << 30))  # 1 GiB of text, ~1 MB packed
    with (tmp_path / "long.jsonl").open("w", encoding="utf-8") as out:
        out.write('{"account_id": "')
        for _ in range(256):
            out.write("1" * (1 << 20))
        out.write('"}\n')
    (tmp_path / "cell.csv").write_text("account_id,product,accepted_on\n1," + "x" * (9 << 20) + ",x\n",
                                       encoding="utf-8")
    names = ["xfd.xlsx", "gig.xlsx", "long.jsonl", "cell.csv"]
    code = ("import contextlib, io, json, sys\nfrom itvrules.cli import main\nresults = []\n"
            f"for name in {names!r}:\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stderr(err):\n"
            f"        status = main(['bill', '2025-07', {str(tmp_path)!r} + '/' + name, '-o', "
            f"{str(tmp_path)!r} + '/out.csv'])\n"
            "    results.append([name, status, err.getvalue()])\n"
            "print(json.dumps(results))\n")
    peak, done = peak_rss_kib(code, timeout=300)
    assert done.returncode == 0, done.stderr
    for name, status, stderr in json.loads(done.stdout):
        assert status in (1, 3), (name, stderr)
        assert "Traceback" not in stderr, name
        errors = [line for line in stderr.splitlines() if line.startswith("itvrules: error:")]
        assert len(errors) == (1 if status == 1 else 0), (name, stderr)
    # 4.2 GB and a SIGABRT before. The CSV line is the most of it: a physical line is held
    # whole (about 12 bytes a byte on the columnar path), cells over the limit or not.
    # Measured: about 165 MiB here, 206 MiB in a new environment (its first imports cost more).
    assert peak - baseline_rss_kib() < 400 * 1024
