"""The plug-in manager: built-ins, format lookup, precedence, autoload switch, descriptions."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import IO, Any

import pluggy
import pytest
from itvrules_adapters.csv_io import CsvWriter

import itvrules
from itvrules import InputError, RawRow, hookimpl
from itvrules.runs._plugins import (
    AUTOLOAD_ENV,
    DEFAULT_PLUGINS,
    describe_plugins,
    export_writers,
    feed_readers,
    reader_for,
    writer_for,
)


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return itvrules.plugin_manager(autoload=False)


class PipeReader:
    """A third-party reader of '|'-separated text that also claims the name csv."""

    name = "csv"
    extensions = (".psv",)

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        lines = stream.read().decode(encoding or "utf-8").splitlines()
        header = tuple(lines[0].split("|"))
        for number, line in enumerate(lines[1:], 2):
            yield RawRow(source, number, dict(zip(header, line.split("|"), strict=True)), header)


class PipePlugin:
    @hookimpl
    def itvrules_feed_readers(self) -> Sequence[Any]:
        return [PipeReader()]


def test_builtins_are_registered_in_order(pm: pluggy.PluginManager) -> None:
    assert [name for name, _ in pm.list_name_plugin()] == list(DEFAULT_PLUGINS)
    assert list(feed_readers(pm)) == ["csv", "xlsx", "jsonl", "parquet"]
    assert list(export_writers(pm)) == ["csv", "xlsx", "jsonl", "tmf678", "parquet"]


@pytest.mark.parametrize(("path", "fmt", "expected"), [
    ("feed.csv", None, "csv"),
    ("FEED.CSV", None, "csv"),
    ("form.xlsx", None, "xlsx"),
    ("old.xls", None, "xlsx"),
    ("feed.jsonl", None, "jsonl"),
    ("unicode.txt", None, "csv"),
    ("feed.data", "jsonl", "jsonl"),
    ("CRM.Parquet", None, "parquet"),
    ("feed.data", "parquet", "parquet"),
    ("-", "XLSX", "xlsx"),
])
def test_readers_by_extension_or_name(pm: pluggy.PluginManager, path: str, fmt: str | None,
                                      expected: str) -> None:
    assert reader_for(pm, path, fmt).name == expected


@pytest.mark.parametrize(("path", "expected"), [
    ("bill.csv", "csv"), ("bill.xlsx", "xlsx"), ("bill.jsonl", "jsonl"), ("bill.tmf.json", "tmf678"),
    ("bill.parquet", "parquet"),
])
def test_writers_by_the_longest_matching_extension(pm: pluggy.PluginManager, path: str,
                                                   expected: str) -> None:
    assert writer_for(pm, path).name == expected


def test_an_unknown_extension_names_the_file_and_the_known_formats(pm: pluggy.PluginManager) -> None:
    with pytest.raises(InputError) as caught:
        reader_for(pm, "feeds/march.dbf")
    error = caught.value
    assert error.source == "feeds/march.dbf"
    assert "feeds/march.dbf" in str(error)
    for known in ("csv (.csv .tsv .txt)", "xlsx (", "jsonl (.jsonl .ndjson)"):
        assert known in error.problem


def test_an_unknown_format_name_lists_the_known_ones(pm: pluggy.PluginManager) -> None:
    with pytest.raises(InputError, match=r"unknown output format; known: csv .*tmf678") as caught:
        writer_for(pm, "bill.csv", "dbf")
    assert caught.value.source == "bill.csv"


def test_a_later_plugin_wins_over_a_builtin_for_the_same_name(pm: pluggy.PluginManager) -> None:
    pm.register(PipePlugin(), name="pipes")
    reader = reader_for(pm, "feed.psv")
    assert isinstance(reader, PipeReader)
    assert isinstance(reader_for(pm, "anything", "csv"), PipeReader)
    with pytest.raises(InputError):
        reader_for(pm, "feed.csv")  # the built-in csv reader is replaced, .csv with it
    rows = list(reader.read(io.BytesIO(b"a|b\n1|2\n"), "feed.psv"))
    assert rows[0].values == {"a": "1", "b": "2"}


def test_describe_plugins_says_what_and_from_where(pm: pluggy.PluginManager) -> None:
    pm.register(PipePlugin(), name="pipes")
    described = {d["name"]: d for d in describe_plugins(pm)}
    csv_io = described["itvrules_adapters.csv_io"]
    assert csv_io["origin"] == "builtin"
    assert csv_io["module"].endswith("csv_io.py")
    assert csv_io["distribution"] == f"itvrules {itvrules.__version__}"
    assert csv_io["readers"] == ["csv"] and csv_io["writers"] == ["csv"]
    assert csv_io["hooks"] == ["itvrules_export_writers", "itvrules_feed_readers"]
    assert described["itvrules_adapters.tmf678"]["readers"] == []
    pipes = described["pipes"]
    assert pipes["origin"] == "registered" and pipes["distribution"] is None
    assert pipes["module"] == __file__
    assert pipes["readers"] == ["csv"]


def test_autoload_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def load(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        calls.append(group)
        return 0

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", load)
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    itvrules.plugin_manager()
    assert calls == []
    itvrules.plugin_manager(autoload=True)
    assert calls == ["itvrules"]
    monkeypatch.delenv(AUTOLOAD_ENV)
    itvrules.plugin_manager()
    assert calls == ["itvrules", "itvrules"]
    itvrules.plugin_manager(autoload=False)
    assert calls == ["itvrules", "itvrules"]


def test_a_misspelled_hook_is_caught_when_plugins_load(monkeypatch: pytest.MonkeyPatch) -> None:
    class Typo:
        @hookimpl
        def itvrules_export_writer(self) -> list[Any]:  # missing the final "s"
            return [CsvWriter()]

    def load(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        self.register(Typo(), name="typo")
        return 1

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", load)
    with pytest.raises(pluggy.PluginValidationError, match="itvrules_export_writer"):
        itvrules.plugin_manager(autoload=True)
