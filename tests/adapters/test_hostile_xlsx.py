"""Hostile workbooks: refused from their own metadata before python-calamine reads them, in
bounded memory; encrypted ones named so; bad cells rejected by row; a full disk one error."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest
from itvrules_adapters.xlsx_io import XlsxReader

import itvrules
from hostile import (
    GOOD_ROW,
    HEADER,
    baseline_rss_kib,
    compound_file,
    far_cell_workbook,
    huge_cell_workbook,
    peak_rss_kib,
    sheet_xml,
    workbook,
)
from itvrules.cli import main

POLICY = itvrules.load_policy()


def read(data: bytes, source: str = "form.xlsx") -> list[itvrules.RawRow]:
    return list(XlsxReader().read(io.BytesIO(data), source))


def bill(tmp_path: Path, data: bytes) -> itvrules.RunSummary:
    feed = tmp_path / "form.xlsx"
    feed.write_bytes(data)
    return itvrules.run_bill(POLICY, "2025-07", [str(feed)], str(tmp_path / "bill.csv"))


@pytest.mark.parametrize("declare", [True, False], ids=["dimension", "cell-refs-only"])
def test_a_cell_at_xfd1048576_is_refused_before_calamine_allocates_its_grid(declare: bool) -> None:
    with pytest.raises(itvrules.InputError) as caught:
        read(far_cell_workbook(declare=declare))
    words = str(caught.value)
    assert words.startswith("form.xlsx#Sheet1: ")
    assert "xlsx_columns (16,384 columns found, at most 256)" in words
    assert "ITVRULES_LIMIT_XLSX_COLUMNS=N" in words


def test_a_row_past_xlsx_rows_is_refused_naming_the_limit() -> None:
    with pytest.raises(itvrules.InputError, match=r"xlsx_rows \(1,048,577 rows found"):
        read(far_cell_workbook("A1048577", declare=False))


def test_the_xfd_bomb_ends_in_one_line_and_baseline_memory(tmp_path: Path) -> None:
    feed = tmp_path / "bomb.xlsx"
    feed.write_bytes(far_cell_workbook())
    code = ("import sys\nfrom itvrules.cli import main\n"
            f"sys.exit(main(['bill', '2025-07', {str(feed)!r}, '-o', {str(tmp_path / 'b.csv')!r}]))\n")
    peak, done = peak_rss_kib(code)
    assert done.returncode == 1
    assert done.stderr.startswith("itvrules: error: bomb.xlsx#Sheet1: ") and "Traceback" not in done.stderr
    # The bound leaves room for the command's own imports (polars, pyarrow: about 80 MiB in a
    # new environment); the input costs next to nothing.
    assert peak - baseline_rss_kib() < 160 * 1024  # was a 512 GB allocation and SIGABRT


@pytest.mark.parametrize("ratio", [None, "5000"], ids=["refused-by-ratio", "refused-by-cell-size"])
def test_a_huge_cell_in_a_small_zip_is_refused_in_bounded_memory(tmp_path: Path, ratio: str | None) -> None:
    feed = tmp_path / "big.xlsx"
    feed.write_bytes(huge_cell_workbook(256 << 20))  # 256 MiB of text in about 250 KB
    assert feed.stat().st_size < 1 << 20
    code = ("import itvrules_adapters.xlsx_io as x\n"
            f"try:\n    list(x.XlsxReader().read(open({str(feed)!r}, 'rb'), 'big.xlsx'))\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    peak, done = peak_rss_kib(code, env={"ITVRULES_LIMIT_XLSX_RATIO": ratio} if ratio else None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("InputError big.xlsx: xl/sharedStrings.xml: ")
    assert ("xlsx_ratio" if ratio is None else "field_bytes") in done.stdout
    assert peak - baseline_rss_kib() < 160 * 1024  # a gigabyte cell took 5.3 GB, then a traceback


def test_an_encrypted_workbook_says_it_is_password_protected() -> None:
    with pytest.raises(itvrules.InputError) as caught:
        read(compound_file("EncryptedPackage"), "locked.xlsx")
    assert str(caught.value) == ("locked.xlsx: (file): the workbook is password-protected "
                                 "(encrypted); save it without a password")


def test_a_compound_file_calamine_cannot_read_is_named_a_legacy_or_encrypted_workbook() -> None:
    with pytest.raises(itvrules.InputError, match=r"a legacy \.xls or an encrypted workbook .* save "
                                                  r"it as \.xlsx"):
        read(compound_file("Workbook"), "old.xls")


def test_an_excel_serial_of_1e10_rejects_its_row_as_a_date_serial_out_of_range(tmp_path: Path) -> None:
    rows: list[Any] = [HEADER, GOOD_ROW, ("8410950408", "品牌", 1e10, 45000, None, None)]
    summary = bill(tmp_path, workbook(sheet_xml(rows)))
    assert (summary.rows_in, summary.decided, summary.rejected) == (2, 1, 1)
    rejects = (tmp_path / "bill.rejects.csv").read_text(encoding="utf-8-sig")
    assert "accepted_on" in rejects and "date serial out of range" in rejects
    assert "10000000000" in rejects and "C int" not in rejects


def test_a_sheet_without_a_header_in_its_first_rows_counts_every_row(tmp_path: Path) -> None:
    rows: list[Any] = [["title"]] * 12 + [[], HEADER, GOOD_ROW, GOOD_ROW]
    summary = bill(tmp_path, workbook(sheet_xml(rows)))
    assert summary.rows_in == 16
    assert (summary.decided, summary.rejected, summary.skipped) == (0, 15, 1)  # the blank row skipped
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped


def test_a_cell_over_field_bytes_rejects_its_row_as_in_csv(tmp_path: Path) -> None:
    rows: list[Any] = [HEADER, GOOD_ROW, ("8410950408", "品牌", "2025-03-24", "2025-03-28",
                                          "x" * (200 * 1024), None)]
    summary = bill(tmp_path, workbook(sheet_xml(rows)))
    assert (summary.rows_in, summary.decided, summary.rejected) == (2, 1, 1)
    rejects = (tmp_path / "bill.rejects.csv").read_text(encoding="utf-8-sig")
    assert "拆机申请日期" in rejects.splitlines()[0] and "over the limit field_bytes" in rejects


class _FullDisk(io.FileIO):
    """A file on a disk that fills up after a few kilobytes."""

    room = 4096

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def test_a_full_disk_while_writing_xlsx_is_one_error_line_and_leaves_no_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from itvrules.runs import _parts

    monkeypatch.setattr(_parts, "open", lambda path, mode: _FullDisk(path, mode), raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    feed = tmp_path / "feed.csv"
    feed.write_text("account_id,product,accepted_on,completed_on,cancel_requested_on,"
                    "cancel_effective_on\n" + "".join(f"A{i:05d},brand,2025-03-25,2025-03-31,,\n"
                                                      for i in range(3000)), encoding="utf-8")
    out = tmp_path / "bill.xlsx"
    status = main(["bill", "2025-07", str(feed), "-o", str(out), "--rejects", str(tmp_path / "r.csv")])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.strip().splitlines()[-1] == (
        f"itvrules: error: {out}: no space left on the disk: free some space, or name an output "
        "on another disk")
    assert "Traceback" not in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.csv", "scratch"]
    assert list((tmp_path / "scratch").iterdir()) == []  # xlsxwriter's temporary files are gone
