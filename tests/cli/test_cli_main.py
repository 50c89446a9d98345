"""The command line as a whole: version, help with examples, usage errors, signals, pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import itvrules
from itvrules.cli import _trial, main

COMMANDS = (["bill"], ["eligibility"], ["trial"], ["policy"], ["policy", "validate"], ["policy", "show"],
            ["plugins"], ["demo"])


def run_module(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m itvrules ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "itvrules", *args], capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False, cwd=cwd)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"itvrules {itvrules.__version__}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_shows_examples(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    # the epilog is shown as written: one example a line, each starting with the command
    examples = out.split("examples:", 1)[1].strip().splitlines()
    assert examples[0].lstrip().startswith(f"itvrules {command[0]}")


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("bill", "eligibility", "trial", "policy", "plugins", "demo"):
        assert f"    {name}" in out
    assert "exit status: 0 every row decided; 3 some rows rejected" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["bill", "2025-6", "feed.csv", "-o", "out.csv"], "'2025-6' is not a billing month"),
        (["bill", "2025-07-01", "feed.csv", "-o", "out.csv"], "is not a billing month"),
        (["bill", "2025-07", "feed.csv"], "the following arguments are required: -o/--output"),
        (["bill", "2025-07", "-o", "out.csv"], "the following arguments are required: FEED"),
        (["eligibility", "feed.csv", "-o", "x.csv", "--engine", "drools"], "invalid choice: 'drools'"),
        (["eligibility", "feed.csv", "-o", "x.csv", "--encoding", "klingon"], "unknown encoding"),
        (["eligibility", "feed.csv", "-o", "x.csv", "--out-encoding", "gbk"], "use gb18030"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "usage: itvrules" in err
    assert "Traceback" not in err


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(_trial, "load_policy_arg", interrupted)
    assert main(["trial", "2025-04-01"]) == 130
    err = capsys.readouterr().err
    assert "itvrules: interrupted" in err
    assert "Traceback" not in err


def test_python_dash_m(tmp_path: Path) -> None:
    result = run_module("trial", "2025-03-31", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "trial ends          2025-05-31" in result.stdout


def test_python_dash_m_usage_error_status() -> None:
    result = run_module("bill", "2025-6", "feed.csv", "-o", "out.csv")
    assert result.returncode == 2
    assert "itvrules bill: error: argument MONTH" in result.stderr


def test_a_closed_output_pipe_is_quiet() -> None:
    """``itvrules policy show --json | head -c0``: no traceback, status 141 like a SIGPIPE'd tool."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, "-m", "itvrules", "policy", "show", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first byte is written
    err = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=120) == 141
    assert err == ""
