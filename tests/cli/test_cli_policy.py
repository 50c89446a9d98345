"""``itvrules policy validate|show``: every problem with its line; the policy in words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import itvrules
from itvrules.cli import main
from paths import ROOT

SHIPPED = ROOT / "rulesets" / "itv-trial.yaml"


def _broken(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """The shipped policy with two mistakes; returns the file and the line of each."""
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    where = {}
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("trial_months: 3"):
            lines[number - 1] = line.replace("trial_months: 3", "trial_months: three")
            where["trial_months"] = number
        if "charge: switched_to}" in line:
            lines[number - 1] = line.replace("charge: switched_to}", "charge: switched_to, waive: maybe}")
            where["waive"] = number
    assert len(where) == 2
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, where


def test_validate_the_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate"]) == 0
    out = capsys.readouterr().out
    assert "itv-trial.yaml: ok (itv-trial 2025.1" in out


def test_validate_a_broken_policy_prints_every_problem_with_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, where = _broken(tmp_path)
    assert main(["policy", "validate", str(SHIPPED), str(path)]) == 1
    captured = capsys.readouterr()
    assert "itv-trial.yaml: ok" in captured.out
    assert f"{path}: invalid, 2 problem(s):" in captured.err
    assert f"{path}:{where['trial_months']}: parameters.trial_months:" in captured.err
    assert re.search(rf"{re.escape(str(path))}:{where['waive']}: fees\[\d+\]\.then\.waive:", captured.err)


def test_validate_a_file_that_is_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_text("id: [unclosed\n  version: 1\n", encoding="utf-8")
    assert main(["policy", "validate", str(path)]) == 1
    assert re.search(rf"{re.escape(str(path))}:\d+: \(syntax\)", capsys.readouterr().err)


def test_a_broken_policy_stops_a_command_with_status_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, where = _broken(tmp_path)
    assert main(["trial", "2025-04-01", "--policy", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"itvrules: error: {path}: 2 problem(s)")
    assert f":{where['trial_months']}: parameters.trial_months" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _broken(tmp_path)
    assert main(["--debug", "trial", "2025-04-01", "--policy", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "itvrules: error:" in err


def test_show_text_lists_every_rule_with_its_condition(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show"]) == 0
    out = capsys.readouterr().out
    policy = itvrules.load_policy()
    assert out.startswith("itv-trial 2025.1")
    assert f"sha256   {policy.content_hash}" in out
    assert "campaign 2025-03-20 .. 2025-05-31" in out
    assert "quanneng  iTV 全能包 [§三]: brand 35.00" in out
    for assumption in policy.assumptions:
        assert assumption in out
    assert "  - placeholder other-packages, §三: other iTV packages" in out
    assert "      covers packages.basic, packages.hd" in out
    for table in ("eligibility", "fees"):
        for rule in policy.rules(table):
            assert f"{rule.id}  [{rule.clause}]" in out
            assert f"when  {rule.when.describe()}" in out
    assert "then  eligible: new_install" in out
    assert "then  not eligible: unknown_plan (flag for review)" in out
    assert "then  late_cancel_waiver, charge default_package, waived in full" in out
    assert "then  not_installed, no charge" in out


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show", str(SHIPPED), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["id"] == "itv-trial"
    assert info["campaign_window"] == {"first_day": "2025-03-20", "last_day": "2025-05-31", "clause": "§一"}
    assert info["parameters"]["trial_rate_target"] == "0.85"
    assert info["packages"]["quanneng"]["tariff"]["brand"] == "35.00"
    assert info["catalogue"]["families"]["e9"] == {"includes_itv_from_tier": 139}
    fees = info["rules"]["fees"]
    assert [r["id"] for r in fees][:2] == ["fee.not_installed", "fee.not_started"]
    assert fees[0]["result"] == {"code": "not_installed", "charge": "none"}
    assert fees[0]["condition"] == "returned == true"  # as the policy file writes it
    assert all(isinstance(r["line"], int) for r in fees)
    assert info["assumptions"][2] == {
        "id": "other-packages", "kind": "placeholder", "clause": "§三",
        "text": itvrules.load_policy().assumptions[2], "covers": ["packages.basic", "packages.hd"]}


def test_show_a_broken_policy_is_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _broken(tmp_path)
    assert main(["policy", "show", str(path)]) == 1
    assert "2 problem(s)" in capsys.readouterr().err


def test_policy_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy"]) == 2
    assert "required" in capsys.readouterr().err
