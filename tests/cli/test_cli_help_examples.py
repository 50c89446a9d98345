"""Every example in every command's ``--help`` runs as written and does what it says.

The examples name their files by what they hold: ``crm-feed.csv``,
``week1.xlsx``, ``my-policy.yaml``, ``ledger.db`` and so on. ``examples_folder``
makes one folder that holds every file they name, from the bundled sample
(its deliberately bad rows left out, so a run decides every row and exits 0)
and the shipped policy. The examples of each ``--help`` page (an example
shown on several pages runs on the first, the program's page last) then run one after another, as
written, in a fresh copy of that folder, through bash (pipes, ``<``, ``>``,
``&&``) with ``itvrules`` on the PATH. An example passes when it exits 0 (or
141 when ``| head`` cut it off) and prints no error, or exits with the status
its comment names (``# status 1 on a placeholder tariff``) and prints no
traceback; leaves no part file; and writes every file it names (``-o``,
``--out``, ``--rejects``, ``>``), or else prints something.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import python_calamine
import xlsxwriter

from itvrules.cli import build_parser, main
from itvrules.model._parse import parse_date
from itvrules.policy._resources import default_policy_path
from pythons import DURABLE_RUNS

pytestmark = pytest.mark.skipif(shutil.which("bash") is None,
                                reason="the examples are shell command lines; bash runs them")

SAMPLE = resources.files("itvrules") / "sample_data"
#: Options whose value is a file or folder an example writes.
WRITES = ("-o", "--output", "--out", "--rejects", ">")
#: Everything a week1/week2 workbook holds happened by this day (the ingest example's --as-of).
WEEKS_AS_OF = date(2025, 6, 30)
DATE_HEADERS = ("受理日期", "竣工日期", "拆机申请日期", "拆机生效日期")


def help_pages() -> list[tuple[str, str]]:
    """(command, its ``--help`` text) for the program and every command and action."""
    pages: list[tuple[str, str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        pages.append((" ".join(["itvrules", *path]), parser.format_help()))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])

    walk(build_parser(), [])
    return pages


def examples_of(help_text: str) -> list[str]:
    """The command lines under ``examples:``; a line indented deeper continues the one above."""
    lines = help_text.split("\nexamples:\n", 1)[1].splitlines()
    examples: list[str] = []
    for line in lines:
        if not line.strip():
            break
        if line.startswith("   "):
            examples[-1] += "\n" + line.strip()
        else:
            examples.append(line.strip())
    return examples


def pages_to_run() -> list[tuple[str, list[str]]]:
    """Each page with the examples no earlier page shows (a command group repeats its actions').

    The program's own page goes last: its examples are a command's too, and run on the
    command's page, after the ones they need (``stock allocate`` after ``stock receive``).
    """
    top, *commands = help_pages()
    seen: set[str] = set()
    pages = []
    for command, text in [*commands, top]:
        new = [e for e in examples_of(text) if e not in seen]
        seen.update(new)
        if new:
            pages.append((command, new))
    return pages


def test_every_help_page_shows_examples() -> None:
    for command, text in help_pages():
        assert examples_of(text), f"{command} --help shows no examples"
        for example in examples_of(text):
            assert "itvrules" in shlex.split(example, comments=True), example


# -- the folder the examples run in -------------------------------------------------------------


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The bundled CRM feed's header and rows, without the rows that are bad on purpose."""
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))
    bad = {b["row"] for b in manifest["crm-feed.csv"]["bad_rows"]}
    text = (SAMPLE / "crm-feed.csv").read_bytes().decode("gb18030")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == manifest["crm-feed.csv"]["data_rows"]  # one line a row: row i is rows[i-2]
    return header, [row for number, row in enumerate(rows, start=2) if number not in bad]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("订单")
    for r, row in enumerate([header, *rows]):
        for c, cell in enumerate(row):
            sheet.write_string(r, c, cell)
    book.close()


def all_done_by(header: list[str], row: list[str], day: date) -> bool:
    cells = dict(zip(header, row, strict=True))
    return all(parse_date(cells[h]) <= day for h in DATE_HEADERS if cells[h].strip())


def clean_registration_form(target: Path) -> None:
    """The bundled registration form, its one deliberately bad account id (a number too long for
    an id) written as text; every other cell as it is, with its type."""
    source = python_calamine.CalamineWorkbook.from_path(str(SAMPLE / "registration-form.xlsx"))
    book = xlsxwriter.Workbook(str(target), {"strings_to_numbers": False})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for name in source.sheet_names:
        sheet = book.add_worksheet(name)
        rows = source.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if r >= 3 and c == 1 and isinstance(value, float):
                    value = f"0793{r:07d}"  # the bad id
                if isinstance(value, date):
                    sheet.write_datetime(r, c, value, day)
                elif isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                elif value != "":
                    sheet.write_string(r, c, str(value))
    book.close()


def run_here(folder: Path, *argv: str) -> None:
    """A command run to make the folder; it must decide every row."""
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        assert main(list(argv)) == 0, argv
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def examples_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding every file the ``--help`` examples name."""
    folder = tmp_path_factory.mktemp("examples")
    header, rows = sample_rows()
    write_csv(folder / "crm-feed.csv", header, rows, "gb18030")  # as Chinese Excel saves CSV
    for name in ("feed.csv", "big-feed.csv", "gbk-export.csv"):
        shutil.copy(folder / "crm-feed.csv", folder / name)
    with (folder / "feed.jsonl").open("w", encoding="utf-8") as jsonl:
        for row in rows:
            cells = {h: v for h, v in zip(header, row, strict=True) if v}
            jsonl.write(json.dumps(cells, ensure_ascii=False) + "\n")
    pq.write_table(pa.table({h: [row[i] for row in rows] for i, h in enumerate(header)}),
                   folder / "feed.parquet")
    early = [row for row in rows if all_done_by(header, row, WEEKS_AS_OF)]
    half = len(early) // 2
    write_xlsx(folder / "week1.xlsx", header, early[:half])
    write_xlsx(folder / "week2.xlsx", header, early[half:])
    clean_registration_form(folder / "registration-form.xlsx")

    policy = default_policy_path()
    for name in ("my-policy.yaml", "a.yaml", "b.yaml", "old.yaml"):
        shutil.copy(policy, folder / name)
    text = policy.read_text(encoding="utf-8")
    version = next(line for line in text.splitlines() if line.startswith("version:"))
    (folder / "new.yaml").write_text(text.replace(version, "version: '2099.1'", 1), encoding="utf-8")
    shutil.copy(policy.with_name(policy.stem + ".cases.yaml"), folder / "my-policy.cases.yaml")
    shutil.copytree(policy.parent, folder / "rulesets")

    (folder / "enrolment.json").write_text(json.dumps(
        {"account_id": "A1", "product": "brand", "accepted_on": "2025-03-25",
         "completed_on": "2025-03-31"}), encoding="utf-8")
    installed = [dict(zip(header, row, strict=True)) for row in rows]
    installed = [r for r in installed if r["竣工日期"].strip()][:3]
    with (folder / "viewing-hours.csv").open("w", encoding="utf-8", newline="") as usage:
        usage.write("宽带账号,月份,收视时长\n")
        for r in installed:
            usage.write(f"{r['宽带账号']},{parse_date(r['竣工日期']).strftime('%Y-%m')},12.5\n")
    completed = [(r["宽带账号"], parse_date(r["竣工日期"])) for r in installed]
    write_csv(folder / "daily-viewing.csv", ["宽带账号", "日期", "收视时长"],
              [[account, day.isoformat(), "1.5"] for account, day in completed], "utf-8-sig")
    with (folder / "call-results.csv").open("w", encoding="utf-8", newline="") as calls:
        calls.write("宽带账号,外呼日期,是否接通,外呼结果,反映问题,备注\n")
        for (account, day), problem in zip(completed, ("卡顿", "", ""), strict=True):
            calls.write(f"{account},{(day + timedelta(days=2)).isoformat()},是,继续使用,{problem},\n")

    (folder / "cancellation-steps.csv").write_bytes((SAMPLE / "cancellation-steps.csv").read_bytes())

    run_here(folder, "eligibility", "crm-feed.csv", "-o", "targets.csv")
    run_here(folder, "ingest", "crm-feed.csv", "--db", "itvrules.db", "--as-of", "2025-10-31")
    run_here(folder, "ingest", "week1.xlsx", "week2.xlsx", "--db", "ledger.db",
             "--as-of", WEEKS_AS_OF.isoformat())
    for leftover in ("targets.rejects.csv", "itvrules.rejects.csv", "ledger.rejects.csv"):
        (folder / leftover).unlink()
    return folder


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment with an ``itvrules`` command that is this interpreter's ``-m itvrules``."""
    bin_dir = tmp_path_factory.mktemp("bin")
    command = bin_dir / "itvrules"
    command.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m itvrules "$@"\n',
                       encoding="utf-8")
    command.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


# -- the examples ---------------------------------------------------------------------------------


def written_by(example: str) -> list[str]:
    """The files and folders the example says it writes (``-`` is stdout, not a file)."""
    words = shlex.split(example, comments=True)
    return [after for word, after in itertools.pairwise(words) if word in WRITES and after != "-"]


def expected_statuses(example: str) -> set[int]:
    """The status the example's comment names (``# status 1 ...``); else 0, or 141 when
    ``| head`` may cut it off."""
    named = re.search(r"#\s*status (\d+)", example)
    if named is not None:
        return {int(named.group(1))}
    return {0, 141} if "| head" in example else {0}


@pytest.mark.parametrize(("command", "examples"), pages_to_run(), ids=[c for c, _ in pages_to_run()])
def test_help_examples_run_as_written(command: str, examples: list[str], examples_folder: Path,
                                      shell_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "here"
    shutil.copytree(examples_folder, folder)
    for example in examples:
        result = subprocess.run(["bash", "-o", "pipefail", "-c", example], cwd=folder,
                                env=shell_env, capture_output=True, timeout=300, check=False)
        stderr = result.stderr.decode("utf-8", "replace")
        if "--engine durable" in example and not DURABLE_RUNS:
            # durable-rules does not run here: the example must say so in one line, status 1.
            assert result.returncode == 1, f"{example}\nexit {result.returncode}\n{stderr}"
            assert stderr.strip().splitlines() == [
                "itvrules: error: the durable engine needs durable-rules, which does not run on "
                f"Python {sys.version_info.major}.{sys.version_info.minor}: use the compiled engine "
                "(the default)"], stderr
            continue
        assert result.returncode in expected_statuses(example), \
            f"{example}\nexit {result.returncode}\n{stderr}"
        assert "Traceback" not in stderr, f"{example}\n{stderr}"
        assert result.returncode != 0 or "error:" not in stderr, f"{example}\n{stderr}"
        written = written_by(example)
        for name in written:
            target = folder / name
            assert target.exists(), f"{example}: wrote no {name}"
            assert (any(target.iterdir()) if target.is_dir() else target.stat().st_size > 0), \
                f"{example}: {name} is empty"
        if not written:  # a summary goes to stderr, so stdout stays data
            assert result.stdout.strip() or stderr.strip(), f"{example}: printed nothing"
        assert not [p.name for p in folder.rglob("*.part*")], f"{example}: left a part file"
