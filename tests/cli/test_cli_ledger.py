"""Ledger safety on the command line: no empty ledger from a typo, none left by a failed ingest,
``ITVRULES_DB`` as the default ledger, passwords never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from itvrules.cli import main
from itvrules.store import open_ledger
from store_targets import open_target

AS_OF = "2025-06-30"
HEADER = ("account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on,"
          "cancel_effective_on,switched_to,channel,contact_phone,prior_modem\n")
ROWS = ("A001,brand,2025-03-25,2025-03-31,,,,,,城东营业厅,13800000001,ordinary\n"
        "A002,annual,2025-04-02,2025-04-03,,,,,basic,客服中心,13800000002,e8b\n")

#: Every command that only reads the ledger, with the arguments it needs besides --db.
READERS = [
    ["workorders", "--as-of", AS_OF, "-o", "orders.csv"],
    ["report", "kpi", "--month", "2025-06", "--as-of", AS_OF],
    ["report", "kpi", "--month", "2025-06", "--as-of", AS_OF, "-o", "kpi.html"],
    ["report", "weekly", "--week", "2025-W14", "-o", "extract.csv"],
    ["report", "calls", "--week", "2025-W14"],
    ["cancellations", "list", "--on", AS_OF],
    ["cancellations", "advance", "A001", "channel", "--on", AS_OF, "--as-of", AS_OF],
    ["stock", "show", "--as-of", AS_OF],
    ["stock", "allocate", "城关", "stb", "--account", "A001", "--on", "2025-03-30", "--as-of", AS_OF],
    ["stock", "recover", "城关", "stb", "--account", "A001", "--on", "2025-06-20", "--as-of", AS_OF],
]


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_ledger_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts without ITVRULES_DB, in its own folder (where the default ledger goes)."""
    monkeypatch.delenv("ITVRULES_DB", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("argv", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_reader_refuses_a_ledger_that_does_not_exist(argv: list[str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "ledgr.db"
    assert main([*argv, "--db", str(typo)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"no ledger at {typo}" in err[0]
    assert f"itvrules ingest FEED --db {typo}" in err[0]
    assert not typo.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_default_ledger_is_refused_too_when_missing(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workorders", "--as-of", AS_OF, "-o", "orders.csv"]) == 1
    assert "no ledger at itvrules.db" in capsys.readouterr().err
    assert not (tmp_path / "itvrules.db").exists()


def test_a_sqlite_url_to_a_missing_file_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stock", "show", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 1
    assert f"no ledger at {tmp_path / 'x.db'}" in capsys.readouterr().err


def test_readers_work_on_a_ledger_that_exists(feed: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ledger.db"
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", AS_OF]) == 0
    assert main(["workorders", "--db", str(db), "--as-of", AS_OF, "-o", "orders.csv"]) == 0
    assert "accounts: 2" in capsys.readouterr().err


def test_a_failed_first_ingest_leaves_no_ledger(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short.csv"
    short.write_text("account_id,accepted_on\nA1,2025-04-01\n", encoding="utf-8")
    db = tmp_path / "new.db"
    assert main(["ingest", str(short), "--db", str(db), "--as-of", AS_OF]) == 1
    assert "missing required column(s)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.csv"]  # no db, -wal, -shm


def test_a_failed_first_ingest_of_an_unreadable_feed_leaves_no_ledger(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "new.db"
    assert main(["ingest", str(tmp_path / "absent.csv"), "--db", str(db), "--as-of", AS_OF]) == 1
    assert "absent.csv" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_policy_error_creates_no_ledger(feed: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n", encoding="utf-8")
    assert main(["ingest", str(feed), "--db", "new.db", "--policy", str(broken)]) == 1
    assert capsys.readouterr().err.startswith("itvrules: error:")
    assert not (tmp_path / "new.db").exists()


def test_a_failed_ingest_into_an_existing_ledger_keeps_it(feed: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ledger.db"
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", AS_OF]) == 0
    assert main(["ingest", str(tmp_path / "absent.csv"), "--db", str(db), "--as-of", AS_OF]) == 1
    with open_ledger(db) as ledger:
        assert ledger.count() > 0


def test_itvrules_db_names_the_default_ledger(feed: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ITVRULES_DB", str(tmp_path / "env.db"))
    assert main(["ingest", str(feed), "--as-of", AS_OF]) == 0
    err = capsys.readouterr().err
    assert f"ledger: {tmp_path / 'env.db'}" in err
    assert (tmp_path / "env.db").exists() and not (tmp_path / "itvrules.db").exists()
    assert main(["workorders", "--as-of", AS_OF, "-o", "orders.csv"]) == 0
    assert "accounts: 2" in capsys.readouterr().err


def test_the_db_flag_wins_over_itvrules_db(feed: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ITVRULES_DB", str(tmp_path / "env.db"))
    assert main(["ingest", str(feed), "--db", str(tmp_path / "flag.db"), "--as-of", AS_OF]) == 0
    assert (tmp_path / "flag.db").exists() and not (tmp_path / "env.db").exists()
    capsys.readouterr()
    assert main(["report", "kpi", "--month", "2025-06", "--as-of", AS_OF]) == 1
    assert f"no ledger at {tmp_path / 'env.db'} (from ITVRULES_DB)" in capsys.readouterr().err


def test_a_password_in_itvrules_db_is_never_printed(feed: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ITVRULES_DB", "postgresql://itv:s3cret-pw@127.0.0.1:1/itv")
    assert main(["ingest", str(feed), "--as-of", AS_OF]) == 1
    err = capsys.readouterr().err
    assert "s3cret-pw" not in err and "itvrules: error:" in err
    monkeypatch.setenv("ITVRULES_DB", "mongodb://itv:s3cret-pw@db/itv")
    assert main(["workorders", "--as-of", AS_OF, "-o", "orders.csv"]) == 1
    err = capsys.readouterr().err
    assert "s3cret-pw" not in err and "unknown ledger URL scheme mongodb" in err


def test_itvrules_db_may_name_a_postgresql_ledger(feed: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with open_target("postgresql", tmp_path) as target:
        url = target.new_url()
        monkeypatch.setenv("ITVRULES_DB", url)
        assert main(["ingest", str(feed), "--as-of", AS_OF]) == 0
        err = capsys.readouterr().err
        assert "ledger: postgresql://" in err and "2 accounts" in err
        assert main(["workorders", "--as-of", AS_OF, "-o", "orders.csv"]) == 0
        assert "accounts: 2" in capsys.readouterr().err
