"""``itvrules plugins``: what is loaded and from where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itvrules.cli import main
from itvrules.cli._plugins_cmd import table


def test_plugins_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ITVRULES_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "origin", "distribution", "readers", "writers", "module"]
    csv_line = next(line for line in lines if line.startswith("itvrules_adapters.csv_io "))
    assert "builtin" in csv_line
    assert csv_line.rstrip().endswith("csv_io.py")


def test_plugins_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ITVRULES_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert main(["plugins", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)
    readers = {r for p in plugins for r in p["readers"]}
    writers = {w for p in plugins for w in p["writers"]}
    assert {"csv", "xlsx", "jsonl"} <= readers
    assert {"csv", "xlsx", "jsonl"} <= writers
    assert all(p["origin"] == "builtin" for p in plugins)
    assert all(Path(p["module"]).name.endswith(".py") for p in plugins)
    assert all("itvrules_feed_readers" in p["hooks"] or "itvrules_export_writers" in p["hooks"]
               for p in plugins)


def test_table_layout() -> None:
    rows: list[dict[str, object]] = [{"name": "a", "readers": ["csv", "tsv"], "extra": None},
                                     {"name": "longer-name", "readers": [], "extra": 3}]
    assert table(rows, ("name", "readers")).splitlines() == [
        "name         readers",
        "a            csv, tsv",
        "longer-name  -",
    ]
    assert table(rows).splitlines()[0].split() == ["name", "readers", "extra"]
    assert table([]) == "no plug-ins loaded"
