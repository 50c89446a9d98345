"""Outputs through part files: flushed to disk before the rename, stale parts removed, errors
named by the output's own path."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from itvrules.cli import main
from itvrules.runs import _parts
from itvrules.runs._parts import HOST, part_stream, remove_stale_parts, write_through_part

CLEAN = ("account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on,"
         "cancel_effective_on,switched_to\n"
         "A001,brand,2025-03-25,2025-03-31,,,,,\n")


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_only_this_outputs_parts_of_writers_gone_from_this_machine_are_removed(
        tmp_path: Path, dead_pid: int) -> None:
    alive = os.getppid()  # whoever started the tests still runs
    names = {
        "dead writer": f".bill.csv.{HOST}-{dead_pid}-0123abcd.part",
        "dead writer, with an extension": f".bill.csv.{HOST}-{dead_pid}-0123abcd.part.csv",
        "this pid, no longer writing": f".bill.csv.{HOST}-{os.getpid()}-0123abcd.part",
        "live writer": f".bill.csv.{HOST}-{alive}-0123abcd.part",
        "another machine": f".bill.csv.ffffff-{dead_pid}-0123abcd.part" if HOST != "ffffff"
        else f".bill.csv.eeeeee-{dead_pid}-0123abcd.part",
        "another output": f".bill.csv.bak.{HOST}-{dead_pid}-0123abcd.part",
        "not a part file": f".bill.csv.{HOST}-{dead_pid}-0123abcd.partial",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"half")
    removed = remove_stale_parts(str(tmp_path / "bill.csv"))
    assert sorted(os.path.basename(p) for p in removed) == sorted(
        names[k] for k in ("dead writer", "dead writer, with an extension",
                           "this pid, no longer writing"))
    assert hidden(tmp_path) == sorted(
        names[k] for k in ("live writer", "another machine", "another output", "not a part file"))


def test_a_part_file_being_written_is_never_stale(tmp_path: Path) -> None:
    target = str(tmp_path / "bill.csv")
    with part_stream(target) as stream:
        stream.write(b"rows")
        [writing] = hidden(tmp_path)
        assert writing.startswith(f".bill.csv.{HOST}-{os.getpid()}-")
        assert remove_stale_parts(target) == []
        assert hidden(tmp_path) == [writing]
    assert hidden(tmp_path) == []
    assert (tmp_path / "bill.csv").read_bytes() == b"rows"


def test_a_run_flushes_its_exports_to_disk_before_the_rename_and_the_folder_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "feed.csv").write_text(CLEAN, encoding="utf-8")
    out = tmp_path / "bill.csv"
    flushed: list[tuple[int, bool]] = []  # (inode flushed, the export already renamed?)
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        inode = os.fstat(fd).st_ino
        flushed.append((inode, out.exists() and out.stat().st_ino == inode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    assert main(["bill", "2025-06", str(tmp_path / "feed.csv"), "-o", str(out)]) == 0
    export, rejects = out.stat().st_ino, (tmp_path / "bill.rejects.csv").stat().st_ino
    assert (export, False) in flushed and (rejects, False) in flushed  # under the part name
    if os.name == "posix":
        assert [inode for inode, _ in flushed].count(tmp_path.stat().st_ino) >= 2  # each rename


def test_a_writer_that_needs_a_file_name_is_flushed_too(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.fstat(fd).st_ino), real_fsync(fd)))
    target = tmp_path / "report.html"
    write_through_part(str(target), lambda part: Path(part).write_text("<p>", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "<p>"
    assert target.stat().st_ino in synced


def test_a_full_disk_is_named_by_the_output_not_the_part_file(tmp_path: Path) -> None:
    target = tmp_path / "bill.csv"

    def full(part: str) -> None:
        Path(part).write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError) as caught:
        write_through_part(str(target), full)
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, str(target))
    assert list(tmp_path.iterdir()) == []


def test_a_writer_librarys_own_error_about_the_part_file_names_the_output(tmp_path: Path) -> None:
    """xlsxwriter wraps the OSError of the file it could not create in an error of its own."""
    target = tmp_path / "gone" / "extract.xlsx"

    class WriterError(Exception):
        pass

    def wrapped(part: str) -> None:
        try:
            open(part, "wb").close()  # fails: the folder is not there
        except OSError as exc:
            raise WriterError(exc) from None

    with pytest.raises(FileNotFoundError) as caught:
        _parts.write_through_part(str(target), wrapped)
    assert caught.value.filename == str(target)


def test_an_error_about_another_file_keeps_its_own_name(tmp_path: Path) -> None:
    target = tmp_path / "bill.csv"
    elsewhere = str(tmp_path / "feed.csv")

    def reads_a_missing_feed(part: str) -> None:
        open(elsewhere, "rb").close()

    with pytest.raises(FileNotFoundError) as caught:
        write_through_part(str(target), reads_a_missing_feed)
    assert caught.value.filename == elsewhere
    assert list(tmp_path.iterdir()) == []
