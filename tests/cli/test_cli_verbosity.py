"""How much the command line says (-v, -vv, -q), the library's log, and $ITVRULES_POLICY."""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

import pytest

import itvrules
from itvrules.cli import main
from paths import ROOT

FEED = Path(str(resources.files("itvrules") / "sample_data" / "crm-feed.csv"))  # GB18030
POLICY = ROOT / "rulesets" / "itv-trial.yaml"
SUMMARY = "rows in: "


def bill(tmp_path: Path, *options: str) -> list[str]:
    return ["bill", "2025-09", str(FEED), "-o", str(tmp_path / "bill.csv"), *options]


def test_by_default_the_summary_shows_and_the_log_does_not(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(bill(tmp_path))
    err = capsys.readouterr().err
    assert SUMMARY in err
    assert "itvrules: info:" not in err and "itvrules: debug:" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_the_policy_and_the_run_at_info(
        where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-v", *bill(tmp_path)] if where == "before" else bill(tmp_path, "--verbose")
    main(argv)
    err = capsys.readouterr().err
    assert "itvrules: info: policy itv-trial" in err
    assert "itvrules: info: run done:" in err
    assert "itvrules: debug:" not in err
    assert SUMMARY in err


def test_twice_verbose_shows_debug_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["-vv", *bill(tmp_path)])
    assert f"itvrules: debug: {FEED.name}: read as gb18030" in capsys.readouterr().err


def test_quiet_keeps_warnings_and_outputs_drops_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loud = main(bill(tmp_path))
    loud_err = capsys.readouterr().err
    (tmp_path / "bill.csv").unlink()
    assert main(bill(tmp_path, "-q")) == loud
    quiet = capsys.readouterr()
    assert (tmp_path / "bill.csv").exists()
    assert SUMMARY not in quiet.err and "output:" not in quiet.err
    warnings = [line for line in loud_err.splitlines() if line.startswith("itvrules: warning:")]
    assert warnings, "the September bill of the sample charges placeholder tariffs"
    assert quiet.err.splitlines() == warnings


def test_quiet_still_shows_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "bill", "2025-09", str(tmp_path / "absent.csv"), "-o", str(tmp_path / "b.csv")]) == 1
    assert "absent.csv" in capsys.readouterr().err


def test_verbose_and_quiet_together_are_a_usage_error(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(bill(tmp_path, "-v", "-q")) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_policy_lint_shows_the_infos_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    main(["policy", "lint"])
    plain = capsys.readouterr().out
    main(["policy", "lint", "-v"])
    verbose = capsys.readouterr().out
    assert "info" in verbose and len(verbose.splitlines()) > len(plain.splitlines())


def test_the_library_logs_under_itvrules_through_a_null_handler_and_never_prints() -> None:
    handlers = logging.getLogger("itvrules").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    library = Path(itvrules.__file__).parent
    printing = [str(path.relative_to(library)) for path in library.rglob("*.py")
                if "cli" not in path.relative_to(library).parts and "print(" in path.read_text("utf-8")]
    assert printing == []


# -- $ITVRULES_POLICY: the default for --policy, the flag wins -----------------------------------------

def test_the_policy_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "from-env.yaml"
    shutil.copy(POLICY, copy)
    monkeypatch.setenv("ITVRULES_POLICY", str(copy))
    main(["-v", *bill(tmp_path)])
    assert f"from {copy}" in capsys.readouterr().err


def test_the_policy_flag_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ITVRULES_POLICY", str(tmp_path / "absent.yaml"))
    assert main(bill(tmp_path)) == 1  # the environment's policy is used, and it is not there
    assert "absent.yaml" in capsys.readouterr().err
    assert main(bill(tmp_path, "--policy", str(POLICY))) != 1
    assert "absent.yaml" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["bill"], ["ingest"], ["cancellations", "list"], ["stock", "show"]],
                         ids=" ".join)
def test_help_names_the_environment_variables(command: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "$ITVRULES_POLICY" in out
    if command[0] != "bill":
        assert "$ITVRULES_DB" in out
    assert "-v, --verbose" in out and "-q, --quiet" in out
