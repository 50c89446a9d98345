"""docs/operations.md walks a week of the campaign with real commands: run them.

Every ``sh`` block of the section "A week of the campaign" is run line by line
through bash, in order, in one temporary folder, with ``itvrules`` on the
PATH. A line passes when it exits 0, or the status its ``# status N`` comment
names; ``cd`` moves the following lines as it would in a terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paths import ROOT

SECTION = "## A week of the campaign"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None,
                                reason="the walk is shell command lines; bash runs them")


def _commands() -> list[str]:
    """The section's command lines, a backslash-continued line kept whole."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        commands.extend(re.split(r"(?<!\\)\n(?=\S)", block.strip()))
    return commands


def _expected_status(command: str) -> int:
    found = re.search(r"#\s*status\s+(\d+)\s*$", command)
    return int(found.group(1)) if found else 0


def test_the_section_walks_every_part_of_the_week() -> None:
    joined = "\n".join(_commands())
    for part in ("ingest", "report weekly", "--kind install", "--kind outbound_call",
                 "--calls", "report calls", "cancellations advance", "--depot",
                 "stock show", "playback_problem", "report kpi"):
        assert part in joined, part


def test_every_command_of_the_week_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("ITVRULES_DB", None)
    folder = tmp_path
    for command in _commands():
        if command.startswith("cd "):
            folder = folder / command.split()[1]
            continue
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=folder, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == _expected_status(command), (command, result.stderr)
        assert "Traceback" not in result.stderr, command
    calls = (folder / "playback.csv").read_text(encoding="utf-8-sig")
    assert "8990457425" in calls and "§四(五)1" in calls
    assert (folder / "calls-2025-06-02.xlsx").stat().st_size > 0
