"""Files that cannot be read or written: one line naming the path as given, and what to do.

Every command that reads or writes a file is run with an output in a folder
that does not exist, a folder where a file should be, and a path beneath a
file (which fails for everyone, root included). Each must exit 1 with exactly
one line on stderr that names the path the person typed (never a hidden part
file) and says what to do, and no traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from itvrules.cli import main

FEED = ("account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on,"
        "cancel_effective_on,switched_to\n"
        "A001,brand,2025-03-25,2025-03-31,,,,,\n")
#: Words of advice; each message carries one.
ADVICE = ("check the path", "create it first", "name a file", "name a folder", "check that you may",
          "check the name", "check its permissions", "choose another path")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A folder with a feed, a ledger holding it, an eligibility file, a plain file and a folder."""
    monkeypatch.chdir(tmp_path)
    Path("feed.csv").write_text(FEED, encoding="utf-8")
    assert main(["ingest", "feed.csv", "--db", "ledger.db", "--as-of", "2025-06-30"]) == 0
    Path("targets.csv").write_text("account_id,eligible,reason,rule\nA001,true,new_install,r\n",
                                   encoding="utf-8")
    Path("afile").write_text("not a folder", encoding="utf-8")
    Path("out.csv").mkdir()  # folders named like files
    Path("out.xlsx").mkdir()
    Path("out.html").mkdir()
    Path("out.db").mkdir()
    capsys.readouterr()
    return tmp_path


def one_line_naming(path: str, capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert path in lines[0], err
    assert ".part" not in err and "Traceback" not in err
    assert any(words in lines[0] for words in ADVICE), err
    return lines[0]


#: Every command that writes a file, with {out} where the file goes.
WRITERS = {
    "bill": ["bill", "2025-06", "feed.csv", "-o", "{out}.csv"],
    "bill --rejects": ["bill", "2025-06", "feed.csv", "-o", "b.csv", "--rejects", "{out}.csv"],
    "eligibility": ["eligibility", "feed.csv", "-o", "{out}.csv"],
    "ingest --rejects": ["ingest", "feed.csv", "--db", "ledger.db", "--rejects", "{out}.csv",
                         "--as-of", "2025-06-30"],
    "ingest --db": ["ingest", "feed.csv", "--db", "{out}.db"],
    "workorders": ["workorders", "--db", "ledger.db", "-o", "{out}.csv"],
    "report weekly xlsx": ["report", "weekly", "--db", "ledger.db", "-o", "{out}.xlsx"],
    "report weekly csv": ["report", "weekly", "--db", "ledger.db", "-o", "{out}.csv"],
    "report kpi": ["report", "kpi", "--month", "2025-06", "--db", "ledger.db", "-o", "{out}.html"],
    "stock show": ["stock", "show", "--db", "{out}.db"],
    "stock receive": ["stock", "receive", "城关", "stb", "new", "1", "--on", "2025-03-20",
                      "--db", "{out}.db"],
}


def argv_for(template: list[str], path: str) -> tuple[list[str], str]:
    """The command line with ``path`` for {out} or {in}, and the path as it stands in it."""
    argv = [a.replace("{out}", path).replace("{in}", path) for a in template]
    return argv, next(a for a in argv if a.startswith(path))


@pytest.mark.parametrize("command", WRITERS)
def test_an_output_in_a_folder_that_does_not_exist(command: str, here: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    argv, path = argv_for(WRITERS[command], os.path.join("nowhere", "out"))
    assert main(argv) == 1
    line = one_line_naming(path, capsys)
    assert line.startswith(f"itvrules: error: {path}: the folder nowhere does not exist")
    assert not Path("nowhere").exists()


@pytest.mark.parametrize("command", WRITERS)
def test_a_folder_given_as_the_output_file(command: str, here: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    argv, path = argv_for(WRITERS[command], "out")
    assert main(argv) == 1
    line = one_line_naming(path, capsys)
    assert line == f"itvrules: error: {path}: is a folder, not a file: name a file in it"


@pytest.mark.parametrize("command", WRITERS)
def test_an_output_beneath_a_file(command: str, here: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv, path = argv_for(WRITERS[command], os.path.join("afile", "out"))
    assert main(argv) == 1
    line = one_line_naming(path, capsys)
    assert line == f"itvrules: error: {path}: afile is a file, not a folder: check the path"


def test_demo_in_a_file_or_beneath_one(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", "afile"]) == 1
    assert one_line_naming("afile", capsys) == \
        "itvrules: error: afile: is a file, not a folder: name a folder"
    below = os.path.join("afile", "demo")
    assert main(["demo", "--out", below]) == 1
    assert one_line_naming(below, capsys) == \
        f"itvrules: error: {below}: afile is a file, not a folder: check the path"


#: Every command that reads a file, with {in} for it.
READERS = {
    "bill": ["bill", "2025-06", "{in}.csv", "-o", "b.csv"],
    "bill --policy": ["bill", "2025-06", "feed.csv", "-o", "b.csv", "--policy", "{in}.yaml"],
    "eligibility": ["eligibility", "{in}.csv", "-o", "e.csv"],
    "ingest": ["ingest", "{in}.csv", "--db", "ledger.db"],
    "ingest --usage": ["ingest", "feed.csv", "--db", "ledger.db", "--usage", "{in}.csv",
                       "--as-of", "2025-06-30"],
    "explain": ["explain", "--account", "A001", "{in}.csv"],
    "report kpi --eligibility": ["report", "kpi", "--month", "2025-06", "--db", "ledger.db",
                                 "--eligibility", "{in}.csv"],
    "trial --policy": ["trial", "2025-03-31", "--policy", "{in}.yaml"],
    "workorders --policy": ["workorders", "--db", "ledger.db", "-o", "w.csv", "--policy", "{in}.yaml"],
    "policy validate": ["policy", "validate", "{in}.yaml"],
    "policy show": ["policy", "show", "{in}.yaml"],
    "policy lint": ["policy", "lint", "{in}.yaml"],
    "policy diff": ["policy", "diff", "{in}.yaml", "{in}.yaml"],
    "policy diff --feed": ["policy", "diff", "old.yaml", "old.yaml", "--feed", "{in}.csv",
                           "--month", "2025-06"],
    "policy test": ["policy", "test", "{in}.yaml"],
    "policy test --cases": ["policy", "test", "--cases", "{in}.yaml"],
    "policy chart": ["policy", "chart", "{in}.yaml"],
}


@pytest.fixture
def old_policy(here: Path) -> None:
    from itvrules.policy._resources import default_policy_path

    Path("old.yaml").write_bytes(default_policy_path().read_bytes())


@pytest.mark.parametrize("command", READERS)
@pytest.mark.parametrize("where", ["nowhere", "afile"])
def test_an_input_that_cannot_be_there(command: str, where: str, here: Path, old_policy: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    argv, path = argv_for(READERS[command], os.path.join(where, "in"))
    assert main(argv) == 1
    line = one_line_naming(path, capsys)
    reason = ("the folder nowhere does not exist" if where == "nowhere"
              else "afile is a file, not a folder")
    assert reason in line


@pytest.mark.parametrize("command", [c for c in READERS if "{in}.csv" in READERS[c]])
def test_a_folder_given_as_an_input_file(command: str, here: Path, old_policy: None,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv, path = argv_for(READERS[command], "out")
    assert main(argv) == 1
    assert "is a folder, not a file: name a file in it" in one_line_naming(path, capsys)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="file permissions do not stop root (nor work this way on Windows); "
                           "test_an_input_that_cannot_be_there covers what fails for everyone")
def test_no_permission_to_read_an_input_or_write_an_output(here: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    Path("secret.csv").write_text(FEED, encoding="utf-8")
    Path("secret.csv").chmod(0)
    assert main(["bill", "2025-06", "secret.csv", "-o", "b.csv"]) == 1
    assert "permission denied: you may not read this file" in one_line_naming("secret.csv", capsys)
    Path("locked").mkdir()
    Path("locked").chmod(0o555)
    target = os.path.join("locked", "b.csv")
    try:
        assert main(["bill", "2025-06", "feed.csv", "-o", target]) == 1
        assert "you may not write in the folder locked" in one_line_naming(target, capsys)
    finally:
        Path("locked").chmod(0o755)


def test_permission_words_where_the_system_says_no(here: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The same refusals as above, with the system's answer stood in for, so they run as root."""
    real_access = os.access
    denied = {os.path.abspath("feed.csv"), os.path.abspath("locked")}
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        os.path.abspath(path) not in denied and real_access(path, mode, **kw)))
    assert main(["bill", "2025-06", "feed.csv", "-o", "b.csv"]) == 1
    assert one_line_naming("feed.csv", capsys) == ("itvrules: error: feed.csv: (file): permission "
                                                   "denied: you may not read this file; check its "
                                                   "permissions")
    Path("locked").mkdir()
    target = os.path.join("locked", "b.csv")
    Path("feed2.csv").write_text(FEED, encoding="utf-8")
    assert main(["bill", "2025-06", "feed2.csv", "-o", target]) == 1
    assert one_line_naming(target, capsys) == (
        f"itvrules: error: {target}: permission denied: you may not write in the folder locked; "
        "choose another path")


def test_a_refusal_met_while_writing_names_the_output(here: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A refusal no check could foresee (the system says no to the rename) names the output the
    person gave, never the part file, and leaves no part file behind."""
    real_replace = os.replace

    def refuse(src: str, dst: str) -> None:
        if os.path.basename(dst) == "b.csv":
            raise PermissionError(13, os.strerror(13), src, None, dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    assert main(["bill", "2025-06", "feed.csv", "-o", "b.csv"]) == 1
    assert one_line_naming("b.csv", capsys) == (
        "itvrules: error: b.csv: permission denied: check that you may read it, or write in its "
        "folder")
    assert not Path("b.csv").exists()
    assert not [p for p in Path().iterdir() if ".part" in p.name]
