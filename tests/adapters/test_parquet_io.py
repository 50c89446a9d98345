"""The Parquet feed reader and export writer: typed cells in, typed columns out, streamed both ways."""

from __future__ import annotations

import gc
import io
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from itvrules_adapters import parquet_io
from itvrules_adapters.parquet_io import ParquetReader, ParquetWriter

import itvrules
from itvrules import InputError, RawRow
from itvrules.runs._bulk_arrow import EXPORT_SCHEMA
from itvrules.runs._pipeline import BILL_COLUMNS, ELIGIBILITY_COLUMNS, REJECT_COLUMNS
from itvrules.runs._plugins import reader_for, writer_for
from itvrules.runs._rows import BILL, RowReader, cell_value
from samples import Unseekable

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parquet_bytes(table: pa.Table, **options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def read(data: bytes, source: str = "feed.parquet") -> list[RawRow]:
    return list(ParquetReader().read(io.BytesIO(data), source))


def test_the_built_in_plug_in_reads_and_writes_parquet_by_extension() -> None:
    pm = itvrules.plugin_manager(autoload=False)
    assert isinstance(reader_for(pm, "CRM.PARQUET"), ParquetReader)
    assert isinstance(writer_for(pm, "bill.parquet"), ParquetWriter)
    assert isinstance(reader_for(pm, "feed.bin", "parquet"), ParquetReader)


def test_typed_cells_come_as_the_row_path_reads_them() -> None:
    """Dates stay dates, booleans booleans, numbers their digits, a zoned timestamp its Shanghai day."""
    utc = pa.timestamp("us", tz="UTC")
    table = pa.table({
        "宽带账号": pa.array(["571000123", None], pa.string()),
        "产品类型": pa.array(["品牌", "包年"]).dictionary_encode(),
        "受理日期": pa.array([date(2025, 3, 25), None], pa.date32()),
        # 17:00 UTC on 31 March is 1 April in Asia/Shanghai; a naive timestamp is its own day.
        "竣工日期": pa.array([datetime(2025, 3, 31, 17, 0), datetime(2025, 4, 2, 1, 0)], utc),
        "拆机申请日期": pa.array([datetime(2025, 5, 31, 23, 59), None], pa.timestamp("ms")),
        "拆机生效日期": pa.array([20250601, None], pa.int32()),
        "是否退单": pa.array([False, None], pa.bool_()),
        "费用": pa.array([Decimal("35.00"), None], pa.decimal128(12, 2)),
        "比例": pa.array([0.5, None], pa.float64()),
        "空列": pa.nulls(2),
    })
    rows = read(parquet_bytes(table))
    assert [row.row for row in rows] == [1, 2]  # no header line: rows count from 1
    assert all(row.columns is rows[0].columns == tuple(table.column_names) for row in rows)
    assert rows[0].values == {
        "宽带账号": "571000123", "产品类型": "品牌", "受理日期": date(2025, 3, 25),
        "竣工日期": datetime(2025, 4, 1, 1, 0, tzinfo=SHANGHAI),
        "拆机申请日期": datetime(2025, 5, 31, 23, 59),
        "拆机生效日期": "20250601", "是否退单": False, "费用": "35.00", "比例": "0.5", "空列": None,
    }
    assert rows[1].values["竣工日期"] == datetime(2025, 4, 2, 9, 0, tzinfo=SHANGHAI)
    assert rows[1].values["竣工日期"].utcoffset() == timedelta(hours=8)
    assert rows[1].values["宽带账号"] is None and rows[1].values["受理日期"] is None

    # ... and the row path turns them into the enrolment a CSV of the same table would give.
    enrolment = RowReader(BILL).read(rows[0], RowReader(BILL).column_map(rows[0]))
    assert isinstance(enrolment, itvrules.Enrollment)
    assert (enrolment.account_id, enrolment.product.value, enrolment.accepted_on,
            enrolment.completed_on, enrolment.cancel_requested_on, enrolment.cancel_effective_on,
            enrolment.returned) == ("571000123", "brand", date(2025, 3, 25), date(2025, 4, 1),
                                    date(2025, 5, 31), date(2025, 6, 1), False)
    assert cell_value("accepted_on", rows[0].values["拆机生效日期"]) == "20250601"  # YYYYMMDD, no serial


def test_rows_stream_in_batches_with_running_row_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_io, "BATCH_ROWS", 7)
    table = pa.table({"account_id": [f"A{i:03d}" for i in range(50)]})
    reader = ParquetReader().read(io.BytesIO(parquet_bytes(table, row_group_size=10)), "f.parquet")
    first = next(reader)
    assert (first.row, first.values) == (1, {"account_id": "A000"})
    rest = list(reader)
    assert [row.row for row in rest] == list(range(2, 51))
    assert rest[-1].values == {"account_id": "A049"}


def test_standard_input_is_spooled_since_the_footer_comes_last() -> None:
    data = parquet_bytes(pa.table({"account_id": ["A1", "A2"]}))
    rows = list(ParquetReader().read(Unseekable(data), "<stdin>"))  # type: ignore[arg-type]
    assert [(row.source, row.row, row.values["account_id"]) for row in rows] == [
        ("<stdin>", 1, "A1"), ("<stdin>", 2, "A2")]


def test_files_that_cannot_be_read_name_the_file() -> None:
    with pytest.raises(InputError, match="the file is empty") as empty:
        read(b"")
    assert (empty.value.field, empty.value.source) == ("(file)", "feed.parquet")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read(b"account_id,product\nA1,brand\n")
    twice = pa.Table.from_arrays([pa.array(["A1"]), pa.array(["A2"])], names=["account_id", "account_id"])
    with pytest.raises(InputError, match="appears twice") as caught:
        read(parquet_bytes(twice))
    assert caught.value.field == "(columns)"
    unnamed = pa.Table.from_arrays([pa.array(["A1"]), pa.array(["x"])], names=["account_id", " "])
    assert read(parquet_bytes(unnamed))[0].values == {"account_id": "A1", "(column 2)": "x"}


def test_an_empty_table_has_no_rows() -> None:
    assert read(parquet_bytes(pa.table({"account_id": pa.array([], pa.string())}))) == []


# -- writing -----------------------------------------------------------------------------------


def bill_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "record_id": "5b0e3c1e-0000-5000-8000-000000000001", "account_id": "0571000123",
        "billing_month": "2025-07", "billing_cycle": "202507", "code": "trial",
        "gross": Decimal("35.00"), "waived": Decimal("35.00"), "amount": Decimal("0.00"),
        "amount_fen": 0, "package": "quanneng", "follow_up": False, "rule": "fee.trial",
        "clause": "§四(二)2", "policy_id": "itv-trial", "policy_version": "1",
        "policy_hash": "abcdef012345", "source": "feed.parquet", "source_row": 1,
    }
    row.update(changes)
    return row


def test_a_bill_export_has_the_parquet_path_types_and_plug_in_columns_as_text(tmp_path: Path) -> None:
    columns = (*BILL_COLUMNS, "region", "score")
    out = tmp_path / "bill.parquet"
    with out.open("wb") as stream:
        sink = ParquetWriter().open(stream, columns, kind="bill")
        sink.write(bill_row(region="伊山", score=Decimal("1.5")))
        sink.write(bill_row(account_id="=SUM(A1)", package=None, amount=Decimal("35.00"),
                            amount_fen=3500, region=None, score=7))
        sink.close()
        assert not stream.closed
    schema = pq.read_schema(out)
    assert schema == pa.schema([*EXPORT_SCHEMA, ("region", pa.string()), ("score", pa.string())])
    rows = pq.read_table(out).to_pylist()
    assert rows[0]["gross"] == Decimal("35.00") and rows[0]["follow_up"] is False
    assert (rows[0]["region"], rows[0]["score"]) == ("伊山", "1.5")
    assert rows[1]["account_id"] == "=SUM(A1)"  # no formula guard: Parquet is not opened by Excel
    assert (rows[1]["package"], rows[1]["amount_fen"], rows[1]["score"]) == (None, 3500, "7")


def test_eligibility_and_rejects_have_their_typed_columns() -> None:
    stream = io.BytesIO()
    sink = ParquetWriter().open(stream, ELIGIBILITY_COLUMNS, kind="eligibility")
    sink.write({"account_id": "A1", "accepted_on": date(2025, 4, 1), "eligible": True,
                "segment": "new", "reason": "ok", "review": False, "rule": "e1", "clause": "§三",
                "policy_id": "p", "policy_version": "1", "policy_hash": "h", "source": "f",
                "source_row": 2})
    sink.close()
    table = pq.read_table(io.BytesIO(stream.getvalue()))
    assert table.schema.field("accepted_on").type == pa.date32()
    assert table.schema.field("eligible").type == pa.bool_()
    assert table.to_pylist()[0]["accepted_on"] == date(2025, 4, 1)

    stream = io.BytesIO()
    sink = ParquetWriter().open(stream, (*REJECT_COLUMNS, "受理日期", "是否退单"), kind="rejects")
    sink.write({"source": "f.parquet", "source_row": 7, "field": "accepted_on", "error": "bad",
                "受理日期": date(2025, 2, 1), "是否退单": True})
    sink.close()
    table = pq.read_table(io.BytesIO(stream.getvalue()))
    assert [f.type for f in table.schema] == [pa.string(), pa.int64(), *[pa.string()] * 4]
    assert table.to_pylist()[0]["受理日期"] == "2025-02-01" and table.to_pylist()[0]["是否退单"] == "true"


def test_a_value_a_typed_column_cannot_hold_refuses_its_row_only() -> None:
    stream = io.BytesIO()
    sink = ParquetWriter().open(stream, BILL_COLUMNS, kind="bill")
    sink.write(bill_row(account_id="A1"))
    for bad in (bill_row(amount=Decimal("35.001")), bill_row(amount_fen="3500"),
                bill_row(follow_up="no"), bill_row(gross=Decimal("1e12")), bill_row(amount=0.5)):
        with pytest.raises(InputError, match="the Parquet column"):
            sink.write(bad)
    sink.write(bill_row(account_id="A2", amount=Decimal("35"), amount_fen=3500))
    sink.close()
    rows = pq.read_table(io.BytesIO(stream.getvalue())).to_pylist()
    assert [(r["account_id"], r["amount"]) for r in rows] == [("A1", Decimal("0.00")),
                                                             ("A2", Decimal("35.00"))]


def test_rows_are_written_a_row_group_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_io, "ROW_GROUP_ROWS", 4)
    stream = io.BytesIO()
    sink = ParquetWriter().open(stream, BILL_COLUMNS, kind="bill")
    for i in range(10):
        sink.write(bill_row(account_id=f"A{i}", source_row=i + 1))
    sink.close()
    meta = pq.ParquetFile(io.BytesIO(stream.getvalue())).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 2]
    assert pl.read_parquet(io.BytesIO(stream.getvalue()))["source_row"].to_list() == list(range(1, 11))


def test_an_empty_export_is_a_valid_file_with_the_schema() -> None:
    stream = io.BytesIO()
    ParquetWriter().open(stream, BILL_COLUMNS, kind="bill").close()
    table = pq.read_table(io.BytesIO(stream.getvalue()))
    assert table.num_rows == 0 and table.schema == EXPORT_SCHEMA


def test_standard_output_and_text_encodings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    with pytest.raises(InputError, match="not to standard output") as caught:
        ParquetWriter().open(stdout.buffer, BILL_COLUMNS, kind="bill")
    assert caught.value.field == "format"
    assert stdout.buffer.getvalue() == b""  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="always UTF-8"):
        ParquetWriter().open(io.BytesIO(), BILL_COLUMNS, kind="bill", encoding="gb18030")
    ParquetWriter().open(io.BytesIO(), BILL_COLUMNS, kind="bill", encoding="utf-8").close()


def test_a_sink_left_open_by_a_stopped_run_goes_quietly(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that stops closes and deletes its output under the open sink: collecting it says nothing."""
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    stream = (tmp_path / "bill.parquet").open("wb")
    sink = ParquetWriter().open(stream, BILL_COLUMNS, kind="bill")
    sink.write(bill_row())
    stream.close()
    del sink
    gc.collect()
    assert unraisable == []


# -- an account column that is not text ----------------------------------------------------------

NUMBER_IDS = [
    (pa.array([8410950407.0, float("nan"), 1e20, float("inf")], pa.float64()), "double"),
    (pa.array([8410950407, 571000123, None, 7], pa.int64()), "int64"),
]


def number_feed(path: Path, ids: pa.Array) -> Path:
    pq.write_table(pa.table({
        "account_id": ids, "product": ["brand"] * 4, "accepted_on": ["2025-04-01"] * 4,
        "completed_on": ["2025-04-02"] * 4, "cancel_requested_on": pa.nulls(4, pa.string()),
        "cancel_effective_on": pa.nulls(4, pa.string())}), path)
    return path


@pytest.mark.parametrize(("ids", "kind"), NUMBER_IDS, ids=[k for _i, k in NUMBER_IDS])
@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_an_account_column_that_is_not_text_is_refused_with_its_type_named(
        tmp_path: Path, ids: pa.Array, kind: str, backend: str) -> None:
    feed = number_feed(tmp_path / "feed.parquet", ids)
    with pytest.raises(InputError) as caught:
        itvrules.run_bill(itvrules.load_policy(), "2025-07", [str(feed)], str(tmp_path / "bill.csv"),
                          backend=backend, pm=itvrules.plugin_manager(autoload=False))
    assert str(caught.value) == (f"feed.parquet: account_id: column 'account_id' is {kind}; account "
                                 f"ids must be text (cast the column to string before writing)")
    assert not (tmp_path / "bill.csv").exists()  # refused before anything was written


def test_no_export_writes_nan_for_an_account(tmp_path: Path) -> None:
    """Text ids with the words a float column would have given are ids like any other: the
    export holds what the feed holds, on the CSV and the Parquet export alike."""
    feed = tmp_path / "feed.parquet"
    pq.write_table(pa.table({
        "account_id": ["nan", "8410950407", None], "product": ["brand"] * 3,
        "accepted_on": ["2025-04-01"] * 3, "completed_on": ["2025-04-02"] * 3,
        "cancel_requested_on": pa.nulls(3, pa.string()), "cancel_effective_on": pa.nulls(3, pa.string())}),
        feed)
    pm = itvrules.plugin_manager(autoload=False)
    policy = itvrules.load_policy()
    itvrules.run_bill(policy, "2025-07", [str(feed)], str(tmp_path / "bill.parquet"), pm=pm)
    itvrules.run_bill(policy, "2025-07", [str(feed)], str(tmp_path / "bill.csv"), backend="rows", pm=pm)
    parquet = pl.read_parquet(tmp_path / "bill.parquet")["account_id"].to_list()
    text = (tmp_path / "bill.csv").read_text(encoding="utf-8-sig")
    assert parquet == ["nan", "8410950407"]
    assert "NaN" not in text and "NaN" not in parquet
    rejects = pl.read_parquet(tmp_path / "bill.rejects.parquet")
    assert rejects.select("source_row", "field").rows() == [(3, "account_id")]
