"""Hostile JSON Lines: every line over a limit rejects its row, in bounded memory, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from itvrules_adapters.jsonl_io import LINE_KEY, JsonlReader

import itvrules
from hostile import baseline_rss_kib, peak_rss_kib

GOOD = {"account_id": "8410950407", "product": "brand", "accepted_on": "2025-03-24",
        "completed_on": "2025-03-28", "cancel_requested_on": None, "cancel_effective_on": None}


def read(*lines: str) -> list[itvrules.RawRow]:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    return list(JsonlReader().read(io.BytesIO(data), "feed.jsonl"))


def test_a_deeply_nested_record_is_rejected_naming_jsonl_depth_without_recursing() -> None:
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    rows = read(json.dumps(GOOD), deep, json.dumps(GOOD))
    assert [row.error is None for row in rows] == [True, False, True]
    error = rows[1].error
    assert error is not None and error.field == "(json)"
    assert "jsonl_depth" in error.problem and "100,000 levels found, at most 32" in error.problem
    assert "ITVRULES_LIMIT_JSONL_DEPTH=N" in error.problem


def test_nesting_up_to_jsonl_depth_is_read_and_brackets_in_text_do_not_count() -> None:
    within = {**GOOD, "note": json.loads("[" * 31 + "]" * 31), "remark": "[[[[" * 20 + "{{{{" * 20}
    rows = read(json.dumps(within))
    assert rows[0].error is None and rows[0].values["remark"].startswith("[[[[")


def test_an_integer_of_5000_digits_rejects_its_row_naming_the_field() -> None:
    line = json.dumps(GOOD).replace('"8410950407"', "9" * 5000)
    rows = read(line, json.dumps(GOOD))
    error = rows[0].error
    assert error is not None and error.field == "account_id"
    assert "5,000 digits is too long to read" in error.problem
    assert rows[1].error is None


def test_a_line_over_jsonl_line_bytes_rejects_its_row_and_reading_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITVRULES_LIMIT_JSONL_LINE_BYTES", "1000")
    long = json.dumps({**GOOD, "remark": "长" * 100_000})
    rows = read(json.dumps(GOOD), long, json.dumps(GOOD))
    assert [row.row for row in rows] == [1, 2, 3]
    error = rows[1].error
    assert error is not None and error.field == "(line)"
    assert f"{len(long.encode()) + 1:,} bytes found, at most 1,000" in error.problem
    assert len(rows[1].values[LINE_KEY]) < 300  # its start only, never the whole line
    assert rows[0].error is None and rows[2].error is None


def test_a_text_cell_over_field_bytes_rejects_its_row_as_in_csv() -> None:
    rows = read(json.dumps({**GOOD, "remark": "x" * (200 * 1024)}))
    error = rows[0].error
    assert error is not None and error.field == "remark" and "field_bytes" in error.problem


def test_a_run_counts_every_hostile_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([json.dumps(GOOD), "[" * 50_000, "9" * 5000, "{}", "",
                               json.dumps(GOOD).replace('"8410950407"', "1" * 5000)]) + "\n",
                    encoding="utf-8")
    summary = itvrules.run_bill(itvrules.load_policy(), "2025-07", [str(feed)], str(tmp_path / "b.csv"))
    assert summary.rows_in == 6
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped
    assert (summary.decided, summary.skipped) == (1, 2)  # "{}" and "" hold no cell: blank rows


def test_a_long_jsonl_line_is_read_past_in_bounded_memory(tmp_path: Path) -> None:
    feed = tmp_path / "long.jsonl"
    with feed.open("w", encoding="utf-8") as out:
        out.write(json.dumps(GOOD) + '\n{"account_id": "')
        for _ in range(256):
            out.write("1" * (1 << 20))
        out.write('"}\n' + json.dumps(GOOD) + "\n")
    code = ("import itvrules_adapters.jsonl_io as j\n"
            f"rows = list(j.JsonlReader().read(open({str(feed)!r}, 'rb'), 'long.jsonl'))\n"
            "print(len(rows), rows[1].error.field)\n")
    peak, done = peak_rss_kib(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "(line)"]
    assert peak - baseline_rss_kib() < 32 * 1024  # a 256 MiB line, never held: well under 32 MiB


def test_a_lone_surrogate_escape_rejects_its_row_instead_of_breaking_the_rejects_file(
        tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(GOOD) + '\n{"account_id": "\\ud800", "product": "brand"}\n',
                    encoding="utf-8")
    summary = itvrules.run_bill(itvrules.load_policy(), "2025-07", [str(feed)], str(tmp_path / "b.csv"))
    assert (summary.rows_in, summary.decided, summary.rejected) == (2, 1, 1)
    rejects = (tmp_path / "b.rejects.csv").read_text(encoding="utf-8-sig")
    assert "account_id,a lone surrogate escape" in rejects
