"""How an OSError about a file the person named is put into words (itvrules._paths)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from itvrules._paths import os_error_words


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("x", encoding="utf-8")
    Path("folder").mkdir()
    return tmp_path


@pytest.mark.parametrize(("code", "path", "words"), [
    (errno.ENOENT, "nowhere/x.csv", "nowhere/x.csv: the folder nowhere does not exist: create it "
                                    "first, or check the path"),
    (errno.ENOENT, "x.csv", "x.csv: no such file: check the name and the folder"),
    (errno.ENOTDIR, "afile/x.csv", "afile/x.csv: afile is a file, not a folder: check the path"),
    (errno.ENOTDIR, "afile", "afile: is a file, not a folder: name a folder"),
    (errno.EISDIR, "folder", "folder: is a folder, not a file: name a file in it"),
    (errno.EACCES, "x.csv", "x.csv: permission denied: check that you may read it, or write in its "
                            "folder"),
    (errno.EROFS, "x.csv", "x.csv: the disk is read-only: name an output on another disk"),
    (errno.ENOSPC, "x.csv", "x.csv: no space left on the disk: free some space, or name an output "
                            "on another disk"),
    (errno.ELOOP, "x.csv", f"x.csv: {os.strerror(errno.ELOOP)}"),
])
def test_the_systems_errors_in_words(here: Path, code: int, path: str, words: str) -> None:
    assert os_error_words(OSError(code, os.strerror(code), path)) == words


def test_an_error_already_in_words_is_kept() -> None:
    assert os_error_words(OSError(errno.ENOENT, "the folder x does not exist", "x/y.csv")) == \
        "x/y.csv: the folder x does not exist"


def test_an_error_about_no_file_is_its_own_words() -> None:
    assert os_error_words(OSError(errno.EIO, "Input/output error")) == "Input/output error"
