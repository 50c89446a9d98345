"""A PostgreSQL password never leaves the URL it was given in: not in a summary, an error, a log
line at -vv, a progress line, ``--help``, or any file a command writes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import attrs
import pytest

from itvrules.cli import main
from paths import ROOT
from store_targets import postgres_dsn

#: Distinctive, and with characters a URL must escape (so both spellings are looked for).
PASSWORD = "Zq7-secret/@:Pw%9"
ESCAPED = quote(PASSWORD, safe="")
FEED = ROOT / "src" / "itvrules" / "sample_data" / "crm-feed.csv"
AS_OF = "2025-12-31"

#: Every command that takes --db, with what it needs besides.
COMMANDS = [
    ["ingest", str(FEED), "--as-of", AS_OF],
    ["workorders", "--as-of", AS_OF, "-o", "orders.csv"],
    ["report", "kpi", "--month", "2025-06", "--as-of", AS_OF, "-o", "kpi.html"],
    ["report", "weekly", "--week", "2025-W14", "-o", "extract.csv"],
    ["report", "calls", "--week", "2025-W14", "-o", "calls.txt"],
    ["cancellations", "list", "--on", AS_OF, "-o", "lists.csv"],
    ["cancellations", "advance", "07931580897", "channel", "--on", "2025-06-01", "--as-of", AS_OF],
    ["stock", "receive", "城关", "stb", "new", "5", "--on", "2025-03-20"],
    ["stock", "allocate", "城关", "stb", "--account", "07931580897", "--on", "2025-04-01",
     "--as-of", AS_OF],
    ["stock", "recover", "城关", "stb", "--account", "07931580897", "--on", "2025-06-20",
     "--as-of", AS_OF],
    ["stock", "show", "--as-of", AS_OF],
]


def leaks(text: str) -> bool:
    return PASSWORD in text or ESCAPED in text or ESCAPED.lower() in text


@attrs.frozen
class Ran:
    """One command line run in this process: its words, status and outputs."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_everything(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> list[Ran]:
    """Every ledger command at -vv with ``--db url``, then with $ITVRULES_DB; and each --help."""
    monkeypatch.chdir(folder)
    monkeypatch.delenv("ITVRULES_LIMIT_AS_OF_DAYS", raising=False)
    runs = []

    def run(argv: list[str]) -> None:
        capsys.readouterr()
        status = main(argv)
        out, err = capsys.readouterr()
        runs.append(Ran(argv, status, out, err))

    for argv in COMMANDS:
        monkeypatch.delenv("ITVRULES_DB", raising=False)
        run(["-vv", *argv, f"--db={url}"])
        monkeypatch.setenv("ITVRULES_DB", url)
        run(["-vv", *argv])
        run([*argv[:2], "--help"])
    return runs


def assert_no_password_anywhere(runs: list[Ran], folder: Path) -> None:
    for ran in runs:
        assert "Traceback" not in ran.stderr, ran.stderr
        assert not leaks(ran.stdout) and not leaks(ran.stderr), (ran.args, ran.stdout, ran.stderr)
    written = [path for path in folder.rglob("*") if path.is_file()]
    for path in written:
        assert not leaks(path.name)
        assert not leaks(path.read_bytes().decode("utf-8", "replace")), path


@pytest.fixture
def server() -> tuple[str, int]:
    parts = urlsplit(postgres_dsn())
    return parts.hostname or "127.0.0.1", parts.port or 5432


@pytest.fixture
def role_with_the_password(server: tuple[str, int]) -> Iterator[str]:
    """A login role whose password is PASSWORD, owning a fresh schema; its URL."""
    import psycopg
    from psycopg import sql

    name = f"itvrules_secret_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(postgres_dsn(), autocommit=True)
    try:
        try:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(PASSWORD)))
        except psycopg.errors.InsufficientPrivilege:
            message = ("the test role cannot create roles (CREATEROLE): .ci/run grants it, "
                       "a developer's database may not")
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        admin.execute(f"GRANT {name} TO CURRENT_USER")
        admin.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
        host, port = server
        database = urlsplit(postgres_dsn()).path.lstrip("/")
        yield (f"postgresql://{name}:{ESCAPED}@{host}:{port}/{database}"
               f"?options={quote(f'-csearch_path={name}', safe='')}")
    finally:
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.execute(f"DROP ROLE IF EXISTS {name}")
        admin.close()


def test_no_output_or_file_holds_the_password_of_a_live_ledger(
        role_with_the_password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    runs = run_everything(role_with_the_password, tmp_path, monkeypatch, capsys)
    ingest = runs[0]
    assert ingest.returncode == 3, ingest.stderr  # the sample has rejects; the rest is stored
    assert "ledger: postgresql://" in ingest.stderr and ":***@" in ingest.stderr
    assert_no_password_anywhere(runs, tmp_path)


def test_no_output_or_file_holds_the_password_when_it_is_wrong(
        server: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    host, port = server
    database = urlsplit(postgres_dsn()).path.lstrip("/")
    user = urlsplit(postgres_dsn()).username
    runs = run_everything(f"postgresql://{user}:{ESCAPED}@{host}:{port}/{database}", tmp_path,
                          monkeypatch, capsys)
    failed = [ran for ran in runs if "--help" not in ran.args]
    assert all(ran.returncode == 1 for ran in failed), [(r.args, r.stderr) for r in failed]
    assert all("password authentication failed" in ran.stderr for ran in failed)
    assert_no_password_anywhere(runs, tmp_path)


def test_no_output_or_file_holds_the_password_of_an_unreachable_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    runs = run_everything(f"postgresql://someone:{ESCAPED}@127.0.0.1:1/nowhere?connect_timeout=2",
                          tmp_path, monkeypatch, capsys)
    failed = [ran for ran in runs if "--help" not in ran.args]
    assert all(ran.returncode == 1 for ran in failed), [(r.args, r.stderr) for r in failed]
    assert all("cannot connect to PostgreSQL ledger" in ran.stderr for ran in failed)
    assert_no_password_anywhere(runs, tmp_path)


def test_a_key_value_connection_string_is_refused_not_made_a_file_named_with_its_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    runs = run_everything(f"host=127.0.0.1 port=1 user=someone password={PASSWORD} dbname=x",
                          tmp_path, monkeypatch, capsys)
    failed = [ran for ran in runs if "--help" not in ran.args]
    assert all(ran.returncode == 1 for ran in failed), [(r.args, r.stderr) for r in failed]
    assert all("is a PostgreSQL connection string, not a ledger file" in ran.stderr
               for ran in failed)
    assert_no_password_anywhere(runs, tmp_path)
