"""The built-in feed readers: encodings, the Excel registration form, JSON Lines."""

from __future__ import annotations

import codecs
import io
import random
from datetime import date, datetime
from importlib import resources

import pytest
from itvrules_adapters._encoding import CHUNK, detect_encoding
from itvrules_adapters.csv_io import CsvReader
from itvrules_adapters.jsonl_io import LINE_KEY, JsonlReader
from itvrules_adapters.xlsx_io import XlsxReader

from feeds.forms import RECORDS, write_registration_form
from itvrules import InputError, RawRow
from itvrules.runs._rows import cell_value
from paths import FEEDS
from samples import Unseekable

HEADER = "宽带账号,产品类型,受理日期,备注\r\n"
ROW = "0571000123,品牌,2025-03-25,王䶮\r\n"


def read_csv(data: bytes, *, encoding: str | None = None) -> list[RawRow]:
    return list(CsvReader().read(io.BytesIO(data), "feed.csv", encoding=encoding))


# -- CSV encodings -------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "expected"), [
    ((HEADER + ROW).encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + (HEADER + ROW).encode("utf-8"), "utf-8-sig"),
    ((HEADER + ROW).encode("gb18030"), "gb18030"),
    ((HEADER + ROW).replace(",", "\t").encode("utf-16"), "utf-16"),
])
def test_csv_encodings_are_detected_and_decoded(data: bytes, expected: str) -> None:
    assert detect_encoding(io.BytesIO(data), "feed.csv") == expected
    rows = read_csv(data)
    assert len(rows) == 1
    assert rows[0].values == {"宽带账号": "0571000123", "产品类型": "品牌", "受理日期": "2025-03-25",
                              "备注": "王䶮"}
    assert rows[0].row == 2
    assert rows[0].columns == ("宽带账号", "产品类型", "受理日期", "备注")


def test_utf8_for_a_megabyte_then_gb18030_is_read_as_gb18030_from_the_start() -> None:
    filler = "A{:07d},brand,2025-04-01,plain ascii\r\n"
    lines = [filler.format(i) for i in range(CHUNK // 30 + 10)]
    late = "B0000001,品牌,2025-04-01,张三\r\n"
    data = ("account_id,product,accepted_on,remark\r\n" + "".join(lines) + late).encode("gb18030")
    assert len(data) > CHUNK and data[:CHUNK].decode("utf-8")  # the first megabyte is UTF-8
    rows = read_csv(data)
    assert rows[-1].values["product"] == "品牌"
    assert rows[-1].values["remark"] == "张三"
    assert len(rows) == len(lines) + 1


def test_a_wrong_encoding_override_fails_with_the_offset_never_mangles() -> None:
    data = (HEADER + ROW).encode("gb18030")
    with pytest.raises(InputError) as caught:
        read_csv(data, encoding="utf-8")
    message = str(caught.value)
    assert "feed.csv" in message and "utf-8" in message
    assert f"offset {data.index('宽'.encode('gb18030'))}" in message


def test_the_encoding_override_is_used() -> None:
    data = (HEADER + ROW).encode("gb18030")
    assert read_csv(data, encoding="gbk")[0].values["备注"] == "王䶮"


def test_shift_jis_is_refused_naming_the_file_and_encodings_tried() -> None:
    with pytest.raises(InputError) as caught:
        list(CsvReader().read(io.BytesIO((FEEDS / "shift_jis.csv").read_bytes()), "shift_jis.csv"))
    error = caught.value
    assert error.field == "(file)"
    assert error.source == "shift_jis.csv"
    assert "utf-8" in error.problem and "gb18030" in error.problem
    assert "offset 0" in error.problem  # where UTF-8 failed
    assert "Shift-JIS" in error.problem


def test_random_bytes_are_refused() -> None:
    noise = random.Random(7).randbytes(4096)
    with pytest.raises(InputError, match=r"feed\.csv.*cannot be read as utf-8 \(invalid bytes at offset \d+"):
        read_csv(noise)


@pytest.mark.parametrize("data", [b"", b"\r\n  \r\n"])
def test_an_empty_csv_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError, match="empty") as caught:
        read_csv(data)
    assert caught.value.source == "feed.csv"


def test_a_header_only_csv_has_no_rows() -> None:
    assert read_csv(HEADER.encode()) == []


def test_unseekable_stdin_is_read() -> None:
    data = (HEADER + ROW + ROW.replace("123", "124")).encode("gb18030")
    rows = list(CsvReader().read(Unseekable(data), "<stdin>"))  # type: ignore[arg-type]
    assert [r.values["宽带账号"] for r in rows] == ["0571000123", "0571000124"]


def test_every_csv_cell_stays_text() -> None:
    rows = read_csv(b"account_id,amount\r\n000123,35.00\r\n")
    assert rows[0].values == {"account_id": "000123", "amount": "35.00"}


def test_rows_count_as_excel_shows_them() -> None:
    data = b'\r\na,b\r\n1,"two\nlines"\r\n\r\n3,4\r\n,\r\n'
    rows = read_csv(data)
    # A blank line above the header is no row; blank records below it are yielded, cells empty,
    # for the pipeline to skip and count, and no error: a blank record is not a shifted one.
    assert [(r.row, r.values["a"]) for r in rows] == [(3, "1"), (4, ""), (5, "3"), (6, "")]
    assert [r.error for r in rows] == [None] * 4


def test_a_row_with_more_or_fewer_cells_is_a_row_error() -> None:
    rows = read_csv(b"a,b,c\r\n1,2\r\n1,2,3,4\r\n1,2,3,,\r\n")
    short, long, padded = rows
    assert short.error is not None and short.error.field == "(row)"
    assert long.error is not None and long.values["(column 4)"] == "4"
    assert padded.error is None and padded.values == {"a": "1", "b": "2", "c": "3"}


def test_a_repeated_header_stops_reading() -> None:
    with pytest.raises(InputError, match="appears twice"):
        read_csv(b"a,b,a\r\n1,2,3\r\n")


# -- Excel registration form ----------------------------------------------------------------

@pytest.fixture(scope="module")
def form_rows(tmp_path_factory: pytest.TempPathFactory) -> list[RawRow]:
    path = write_registration_form(tmp_path_factory.mktemp("form") / "登记表.xlsx")
    with path.open("rb") as stream:
        return list(XlsxReader().read(stream, path.name))


def test_the_form_is_read_sheet_by_sheet_keeping_file_sheet_and_row(form_rows: list[RawRow]) -> None:
    records = {(r.source.split("#")[1], r.row) for r in form_rows if r.error is None}
    assert records == {*RECORDS, ("第1周", 7)}  # and the blank row 7, for the pipeline to skip
    assert all(r.source.startswith("登记表.xlsx#") for r in form_rows)


def test_title_rows_are_not_rows_blank_rows_are_handed_on(form_rows: list[RawRow]) -> None:
    week1 = [r for r in form_rows if r.source.endswith("#第1周")]
    assert [r.row for r in week1] == [5, 6, 7, 8, 9]  # header on row 4, row 7 blank
    assert week1[0].columns is not None and week1[0].columns[1] == "宽带账号"
    assert all(v is None or v == "" for v in week1[2].values.values())


def test_a_total_row_is_handed_on_as_read_for_the_pipeline_to_skip(form_rows: list[RawRow]) -> None:
    (total,) = [r for r in form_rows if "合计" in r.values.values()]
    assert (total.row, total.error) == (9, None)
    assert total.values["受理渠道"] == "2户"


def test_excel_cells_keep_their_types(form_rows: list[RawRow]) -> None:
    by_key = {(r.source.split("#")[1], r.row): r.values for r in form_rows}
    assert by_key[("第1周", 5)]["受理日期"] == date(2025, 3, 25)
    assert by_key[("第1周", 5)]["联系电话"] == 13812345678.0
    assert by_key[("第1周", 6)]["受理日期"] == 45747.0
    assert by_key[("第1周", 8)]["宽带账号"] == pytest.approx(1.234567890123457e17)
    assert by_key[("第2周", 5)]["受理日期"] == datetime(2025, 4, 3, 10, 30)
    assert by_key[("第1周", 5)]["宽带账号"] == "0571000201"


def test_a_sheet_without_a_header_is_one_rejected_row_not_silence(form_rows: list[RawRow]) -> None:
    (notes,) = [r for r in form_rows if r.source.endswith("#填表说明")]
    assert notes.error is not None and notes.error.field == "(columns)"
    assert "not read" in notes.error.problem


def test_xlsx_reader_streams_rows() -> None:
    path_rows = XlsxReader().read(io.BytesIO(b"x"), "f.xlsx")
    assert iter(path_rows) is path_rows  # a generator, not a list


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "empty"),
    (b"account_id,product\r\nA1,brand\r\n", "not a spreadsheet"),
])
def test_a_file_that_is_not_a_workbook_is_an_input_error(data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as caught:
        list(XlsxReader().read(io.BytesIO(data), "feed.xlsx"))
    assert caught.value.source == "feed.xlsx"
    assert caught.value.field == "(file)"


# -- JSON Lines ----------------------------------------------------------------------------------

def test_jsonl_rows_bad_lines_and_blank_lines() -> None:
    with (FEEDS / "bill.jsonl").open("rb") as stream:
        rows = list(JsonlReader().read(stream, "bill.jsonl"))
    assert [r.row for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert rows[1].values == {} and rows[1].error is None  # line 2 is blank: skipped downstream
    good = [r for r in rows if r.error is None and r.values]
    assert [r.values["account_id"] for r in good] == ["J001", "J002", "J004", 12345]
    bad = {r.row: r for r in rows if r.error is not None}
    assert set(bad) == {4, 6}
    assert bad[4].error is not None and "not JSON" in bad[4].error.problem
    assert bad[4].values[LINE_KEY].startswith('{"account_id": "J003"')
    assert bad[6].error is not None and "JSON object" in bad[6].error.problem
    assert all(r.columns is None for r in rows)


def test_an_empty_jsonl_is_an_input_error() -> None:
    with pytest.raises(InputError, match="empty"):
        list(JsonlReader().read(io.BytesIO(b"\n\n"), "bill.jsonl"))


class Recording(io.BytesIO):
    """A file that remembers how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(size)
        return super().read(size)

    def read1(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(size)
        return super().read1(size)


def test_a_large_file_is_read_in_bounded_chunks_never_whole() -> None:
    data = ("account_id,product\r\n" + "A0000001,品牌\r\n" * 200_000).encode("gb18030")
    stream = Recording(data)
    rows = CsvReader().read(stream, "big.csv")
    assert next(rows).values == {"account_id": "A0000001", "product": "品牌"}
    assert sum(1 for _ in rows) == 199_999
    assert len(data) > 2 * CHUNK
    assert all(size is not None and 0 < size <= CHUNK for size in stream.sizes)


# -- cells to model fields (itvrules.runs._rows) --------------------------------------------------------

@pytest.mark.parametrize(("field", "cell", "expected"), [
    ("contact_phone", 13812345678.0, "13812345678"),
    ("account_id", 571000123, "571000123"),
    ("account_id", " ０５７１０００１２３ ", "0571000123"),
    ("accepted_on", 45747.0, date(2025, 3, 31)),
    ("accepted_on", datetime(2025, 3, 31, 10, 30), date(2025, 3, 31)),
    ("accepted_on", date(2025, 3, 31), date(2025, 3, 31)),
    ("accepted_on", "2025年3月31日", "2025年3月31日"),  # text is left to itvrules.structure
    ("returned", 1.0, True),
    ("returned", False, False),
    ("plan", "  e8-68 ", "e8-68"),
    ("channel", None, None),
])
def test_cells_become_what_the_model_reads(field: str, cell: object, expected: object) -> None:
    assert cell_value(field, cell) == expected


@pytest.mark.parametrize(("field", "cell", "words"), [
    ("account_id", 1.234567890123457e18, "15 digits"),
    ("account_id", 12.5, "expected text"),
    ("accepted_on", 45747.5, "Excel date serial"),
    ("returned", 2.0, "boolean"),
    ("channel", True, "expected text"),
])
def test_cells_that_cannot_be_read_name_the_field(field: str, cell: object, words: str) -> None:
    with pytest.raises(InputError, match=words) as caught:
        cell_value(field, cell)
    assert caught.value.field == field


# -- a file in another encoding than the GB18030 it decodes as (charset-normalizer names it) --------

SAMPLE = resources.files("itvrules") / "sample_data"
#: Traditional forms of the simplified characters in the sample feed, so its text has a Big5 copy.
TRADITIONAL = str.maketrans(dict(zip(
    "业东产刘务区单厅变号吴员围场备孙宽带张当户报换无条杨档猫现电称类线组维罗联营装讲访话请账购资赵转销陈顶马验黄𠮷",
    "業東產劉務區單廳變號吳員圍場備孫寬帶張當戶報換無條楊檔貓現電稱類線組維羅聯營裝講訪話請賬購資趙轉銷陳頂馬驗黃吉",
    strict=True)))


def sample_feed_text(lines: int = 30) -> str:
    """The header and first rows of the shipped sample feed, as text."""
    text = (SAMPLE / "crm-feed.csv").read_bytes().decode("gb18030")
    return "".join(text.splitlines(keepends=True)[:lines])


def test_a_big5_feed_is_refused_naming_big5_not_reported_as_missing_columns() -> None:
    data = sample_feed_text().translate(TRADITIONAL).encode("big5")
    data.decode("gb18030")  # the trap: it decodes, into nonsense
    with pytest.raises(InputError) as caught:
        read_csv(data)
    assert caught.value.source == "feed.csv" and caught.value.field == "(file)"
    assert "looks like Big5; give --encoding big5" in caught.value.problem
    assert "missing" not in caught.value.problem


def test_the_big5_feed_reads_with_the_encoding_it_names() -> None:
    text = sample_feed_text().translate(TRADITIONAL)
    rows = read_csv(text.encode("big5"), encoding="big5")
    assert rows[0].values["寬帶賬號"] == text.splitlines()[1].split(",")[0]


def test_a_shift_jis_feed_is_refused_naming_shift_jis() -> None:
    data = "顧客番号,商品,受付日\r\n0571000123,光回線,2025-03-25\r\n".encode("shift_jis") * 20
    with pytest.raises(InputError) as caught:
        read_csv(data)
    assert "looks like Shift-JIS; give --encoding cp932" in caught.value.problem


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
def test_the_sample_feed_is_read_in_gb18030_and_utf8_without_a_word(
        encoding: str, recwarn: pytest.WarningsRecorder, caplog: pytest.LogCaptureFixture) -> None:
    text = sample_feed_text(lines=400)
    rows = read_csv(text.encode(encoding))
    assert [r.values["宽带账号"] for r in rows] == [line.split(",")[0] for line in text.splitlines()[1:]]
    assert not recwarn.list and not caplog.records
