"""``itvrules trial DATE``: the trial window of SPEC §4 on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itvrules.cli import main
from paths import ROOT


def test_trial_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trial", "2025-03-31"]) == 0
    out = capsys.readouterr().out
    assert "2025-03, 2025-04, 2025-05 (3 free)" in out
    assert "trial ends          2025-05-31" in out
    assert "late-cancel waiver  2025-06" in out
    assert "2025-06 .. 2027-05 (24 months" in out


@pytest.mark.parametrize(
    ("spelling", "months", "end"),
    [
        ("2025/12/15", ["2025-12", "2026-01", "2026-02"], "2026-02-28"),
        ("20271201", ["2027-12", "2028-01", "2028-02"], "2028-02-29"),
        ("2025年3月31日", ["2025-03", "2025-04", "2025-05"], "2025-05-31"),
    ],
)
def test_trial_json_across_years(capsys: pytest.CaptureFixture[str], spelling: str,
                                 months: list[str], end: str) -> None:
    assert main(["trial", spelling, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["trial_months"] == months
    assert info["trial_end"] == end
    assert info["contract_months"] == 24
    assert info["policy"] == {"id": "itv-trial", "version": "2025.1"}


def test_trial_follows_the_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "rulesets" / "itv-trial.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "four-months.yaml"
    changed.write_text(text.replace("trial_months: 3 ", "trial_months: 4 ", 1), encoding="utf-8")
    assert main(["trial", "2025-03-31", "--json", "--policy", str(changed)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["trial_months"] == ["2025-03", "2025-04", "2025-05", "2025-06"]
    assert info["late_cancel_waiver_months"] == ["2025-07"]


@pytest.mark.parametrize("bad", ["2025-02-30", "yesterday", "2025-13-01"])
def test_a_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str], bad: str) -> None:
    assert main(["trial", bad]) == 2
    err = capsys.readouterr().err
    assert "itvrules trial: error: argument DATE" in err
    assert repr(bad) in err


def test_a_missing_policy_file_is_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trial", "2025-04-01", "--policy", str(tmp_path / "none.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("itvrules: error: ")
    assert "none.yaml" in err
    assert "Traceback" not in err
