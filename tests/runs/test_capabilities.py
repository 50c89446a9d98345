"""Bulk paths are chosen by what a reader or writer declares (``itvrules.hookspecs``), never by class.

A plug-in that replaces a built-in format keeps the fast path if it declares
the capability, and gets the row path (and the same answer) if it does not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pluggy
import pyarrow.parquet as pq
import pytest
from itvrules_adapters.csv_io import CsvReader, CsvWriter
from itvrules_adapters.jsonl_io import JsonlReader, JsonlWriter
from itvrules_adapters.parquet_io import ParquetReader, ParquetWriter
from itvrules_adapters.tmf678 import Tmf678Writer
from itvrules_adapters.xlsx_io import XlsxReader, XlsxWriter

import itvrules
import itvrules.runs._bulk_arrow as parquet
import itvrules.runs._bulk_text as columnar
import itvrules.runs._plugins as plugins
from itvrules import RawRow, hookimpl, run_bill
from itvrules.hookspecs import (
    CAPABILITIES,
    ArrowBatchReader,
    ArrowTableWriter,
    PolicyBoundWriter,
    TextBatchReader,
    TextColumnsWriter,
    TextRowsReader,
)
from paths import FEEDS

POLICY = itvrules.load_policy()
MONTH = "2025-06"


def test_the_built_ins_declare_what_their_bulk_paths_need() -> None:
    declared = {type(item).__name__: sorted(c.__name__ for c in CAPABILITIES if isinstance(item, c))
                for item in (CsvReader(), JsonlReader(), ParquetReader(), XlsxReader(), CsvWriter(),
                             JsonlWriter(), ParquetWriter(), XlsxWriter(), Tmf678Writer())}
    assert declared == {
        "CsvReader": ["TextBatchReader"], "JsonlReader": ["TextRowsReader"],
        "ParquetReader": ["ArrowBatchReader"], "XlsxReader": [],
        "CsvWriter": ["TextColumnsWriter"], "JsonlWriter": ["TextColumnsWriter"],
        "ParquetWriter": ["ArrowTableWriter"], "XlsxWriter": [], "Tmf678Writer": ["PolicyBoundWriter"],
    }


# -- a replaced CSV reader ------------------------------------------------------------------------------


class WrappedCsvReader:
    """Replaces the CSV reader by wrapping its ``read``: it declares nothing."""

    name = "csv"
    extensions = (".csv",)

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        return CsvReader().read(stream, source, encoding=encoding)


class SubclassedCsvReader(CsvReader):
    """Replaces the CSV reader by subclassing it: it inherits ``read_text_batches``, so it declares it."""


class OptedOutCsvReader(CsvReader):
    """A subclass that reads differently and says so: its bulk method is None, so it declares nothing."""

    read_text_batches = None  # type: ignore[assignment]


class RowsOnlyCsvWriter(CsvWriter):
    """A CSV writer that takes rows only."""

    open_text_columns = None  # type: ignore[assignment]


class Formats:
    """Registers one replacement reader or writer under a built-in's name."""

    def __init__(self, reader: Any = None, writer: Any = None) -> None:
        self.reader, self.writer = reader, writer

    @hookimpl
    def itvrules_feed_readers(self) -> Sequence[Any]:
        return [self.reader] if self.reader is not None else []

    @hookimpl
    def itvrules_export_writers(self) -> Sequence[Any]:
        return [self.writer] if self.writer is not None else []


def manager(**replaced: Any) -> pluggy.PluginManager:
    pm = itvrules.plugin_manager(autoload=False)
    if replaced:
        pm.register(Formats(**replaced), name="replacement")
    return pm


@pytest.fixture
def bulk_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every run the columnar path serves (its entry point, spied on)."""
    calls: list[str] = []
    real = columnar.bill_columnar

    def spy(run: Any, month: str, every: int) -> Any:
        calls.append(type(run.feeds[0][1]).__name__)
        return real(run, month, every)

    monkeypatch.setattr(columnar, "bill_columnar", spy)
    return calls


def bill(tmp_path: Path, name: str, pm: pluggy.PluginManager) -> tuple[Any, bytes, bytes]:
    out, rejects = tmp_path / f"{name}.csv", tmp_path / f"{name}.rejects.csv"
    summary = run_bill(POLICY, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(out),
                       rejects=str(rejects), pm=pm)
    return (summary.rows_in, summary.decided, summary.rejected), out.read_bytes(), rejects.read_bytes()


@pytest.mark.parametrize(("reader", "bulk"), [
    (WrappedCsvReader(), False), (SubclassedCsvReader(), True), (OptedOutCsvReader(), False),
])
def test_a_replaced_csv_reader_gets_the_path_it_declares_and_the_same_answer(
        tmp_path: Path, bulk_runs: list[str], reader: Any, bulk: bool) -> None:
    built_in = bill(tmp_path, "built-in", manager())
    assert bulk_runs == ["CsvReader"]
    assert isinstance(reader, TextBatchReader) is bulk
    replaced = bill(tmp_path, "replaced", manager(reader=reader))
    assert bulk_runs[1:] == ([type(reader).__name__] if bulk else [])
    assert replaced == built_in


def test_a_declared_reader_is_read_in_bulk_and_never_row_by_row(
        tmp_path: Path, bulk_runs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[str] = []
    real = CsvReader.read_text_batches

    def counted(self: Any, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Any:
        batches.append(source)
        return real(self, stream, source, encoding=encoding)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("read row by row")

    expected = bill(tmp_path, "rows-first", manager(reader=WrappedCsvReader()))
    monkeypatch.setattr(SubclassedCsvReader, "read_text_batches", counted)
    monkeypatch.setattr(SubclassedCsvReader, "read", refused)
    assert bill(tmp_path, "bulk", manager(reader=SubclassedCsvReader())) == expected
    assert batches == ["bill_bad_rows.csv"] and bulk_runs == ["SubclassedCsvReader"]


def test_a_writer_without_text_columns_gets_the_row_path(tmp_path: Path, bulk_runs: list[str]) -> None:
    built_in = bill(tmp_path, "built-in", manager())
    rows_only = bill(tmp_path, "rows-only", manager(writer=RowsOnlyCsvWriter()))
    assert bulk_runs == ["CsvReader"] and rows_only == built_in
    with pytest.raises(itvrules.UsageError, match="csv output format is written row by row"):
        run_bill(POLICY, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(tmp_path / "x.csv"),
                 backend="columnar", pm=manager(writer=RowsOnlyCsvWriter()))


def test_a_reader_of_text_rows_is_taken_by_auto_once_it_says_so(tmp_path: Path,
                                                               bulk_runs: list[str]) -> None:
    class Undeclared:
        name = "jsonl"
        extensions = (".jsonl",)

        def read(self, stream: IO[bytes], source: str, *,
                 encoding: str | None = None) -> Iterator[RawRow]:
            return JsonlReader().read(stream, source, encoding=encoding)

    class Declared(Undeclared):
        text_rows = True

    outputs = []
    for reader in (Undeclared(), Declared()):
        out = tmp_path / f"{type(reader).__name__}.csv"
        run_bill(POLICY, MONTH, [str(FEEDS / "bill.jsonl")], str(out), pm=manager(reader=reader))
        outputs.append(out.read_bytes())
    assert isinstance(Declared(), TextRowsReader) and not isinstance(Undeclared(), TextRowsReader)
    assert bulk_runs == ["Declared"] and outputs[0] == outputs[1]


# -- Arrow batches and tables ----------------------------------------------------------------------------


class RowsOnlyParquetReader(ParquetReader):
    open_arrow = None  # type: ignore[assignment]


class RowsOnlyParquetWriter(ParquetWriter):
    open_table = None  # type: ignore[assignment]


@pytest.mark.parametrize("replaced", [{}, {"reader": RowsOnlyParquetReader()},
                                      {"writer": RowsOnlyParquetWriter()}])
def test_the_arrow_path_needs_both_declarations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                replaced: dict[str, Any]) -> None:
    import polars as pl

    arrow_runs: list[str] = []
    real = parquet.bill_parquet

    def spy(*args: Any, **kwargs: Any) -> Any:
        arrow_runs.append(type(kwargs["reader"]).__name__)
        return real(*args, **kwargs)

    monkeypatch.setattr(parquet, "bill_parquet", spy)
    feed = tmp_path / "feed.parquet"
    pl.read_csv(FEEDS / "bill_bad_rows.csv", infer_schema=False).write_parquet(feed)
    out = tmp_path / "bill.parquet"
    summary = run_bill(POLICY, MONTH, [str(feed)], str(out), pm=manager(**replaced))
    assert arrow_runs == ([] if replaced else ["ParquetReader"])
    reference = tmp_path / "rows.parquet"
    run_bill(POLICY, MONTH, [str(feed)], str(reference), pm=manager(), backend="rows")
    assert pq.read_table(out).to_pylist() == pq.read_table(reference).to_pylist()
    assert summary.rows_in == summary.decided + summary.rejected > summary.decided > 0
    assert isinstance(ParquetReader(), ArrowBatchReader) and isinstance(ParquetWriter(), ArrowTableWriter)
    assert not isinstance(RowsOnlyParquetWriter(), ArrowTableWriter)
    assert not isinstance(RowsOnlyCsvWriter(), TextColumnsWriter)


# -- a writer bound to the run's policy ------------------------------------------------------------------


class PolicyCsvWriter(CsvWriter):
    """A CSV writer that must be bound to the run's policy before it writes anything."""

    def __init__(self, policy: itvrules.Policy | None = None) -> None:
        self.policy = policy

    def for_policy(self, policy: itvrules.Policy) -> PolicyCsvWriter:
        return PolicyCsvWriter(policy)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> Any:
        assert self.policy is POLICY, "opened without the run's policy"
        return super().open(stream, columns, kind=kind, encoding=encoding)

    def open_text_columns(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
                          encoding: str | None = None) -> Any:
        assert self.policy is POLICY, "opened in bulk without the run's policy"
        return super().open_text_columns(stream, columns, kind=kind, encoding=encoding)


class PolicyParquetWriter(ParquetWriter):
    """A Parquet writer that must be bound to the run's policy before it writes a table."""

    def __init__(self, policy: itvrules.Policy | None = None) -> None:
        self.policy = policy

    def for_policy(self, policy: itvrules.Policy) -> PolicyParquetWriter:
        return PolicyParquetWriter(policy)

    def open_table(self, stream: IO[bytes], schema: Any, *, kind: str) -> Any:
        assert self.policy is POLICY, "opened for tables without the run's policy"
        return super().open_table(stream, schema, kind=kind)


@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_a_policy_bound_writer_writes_every_path_bound(tmp_path: Path, bulk_runs: list[str],
                                                       backend: str) -> None:
    assert isinstance(PolicyCsvWriter(), PolicyBoundWriter)
    assert not isinstance(CsvWriter(), PolicyBoundWriter)
    built_in = bill(tmp_path, "built-in", manager())
    out = tmp_path / "bound.csv"
    run_bill(POLICY, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(out), backend=backend,
             rejects=str(tmp_path / "bound.rejects.csv"), pm=manager(writer=PolicyCsvWriter()))
    assert out.read_bytes() == built_in[1]
    assert bulk_runs == ["CsvReader"] + (["CsvReader"] if backend == "columnar" else [])


def test_a_policy_bound_writer_takes_arrow_tables_bound(tmp_path: Path) -> None:
    import polars as pl

    feed = tmp_path / "feed.parquet"
    pl.read_csv(FEEDS / "bill_bad_rows.csv", infer_schema=False).write_parquet(feed)
    bound, reference = tmp_path / "bound.parquet", tmp_path / "rows.parquet"
    run_bill(POLICY, MONTH, [str(feed)], str(bound), pm=manager(writer=PolicyParquetWriter()))
    run_bill(POLICY, MONTH, [str(feed)], str(reference), pm=manager(), backend="rows")
    assert pq.read_table(bound).to_pylist() == pq.read_table(reference).to_pylist()


# -- the built-ins are found by entry point ---------------------------------------------------------------


def test_without_the_built_ins_installed_the_plugin_manager_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "entry_points", lambda group: [])
    with pytest.raises(RuntimeError, match=r"itvrules_adapters\.csv_io.*reinstall itvrules"):
        itvrules.plugin_manager(autoload=False)
