"""``itvrules demo``: the sample run writes its files, checks its rejects, works from a wheel."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from itvrules.cli import _demo, main
from paths import ROOT

MONTH = _demo.MONTH


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_demo_writes_its_files_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    names = ["crm-feed.csv", "registration-form.xlsx", "manifest.json", "eligibility.csv",
             "eligibility-rejects.csv", f"bill-{MONTH}.csv", f"bill-{MONTH}-rejects.csv"]
    for name in names:
        assert (out / name).is_file(), name
        assert f"  {out / name}" in text
    manifest = _demo.sample_manifest()["crm-feed.csv"]
    for kind, output, rejects in (("eligibility", "eligibility.csv", "eligibility-rejects.csv"),
                                  ("bill", f"bill-{MONTH}.csv", f"bill-{MONTH}-rejects.csv")):
        expected = sorted(b["row"] for b in manifest["bad_rows"] if kind in b["rejected_by"])
        assert sorted(int(r["source_row"]) for r in read_csv(out / rejects)) == expected
        decided = manifest["data_rows"] - len(expected)
        assert len(read_csv(out / output)) == decided
        assert (f"rows in: {manifest['data_rows']}  decided: {decided}  rejected: {len(expected)}  "
                "skipped: 0" in text)
        # Every header of the sample is a known name or ignored, and the map says which.
        assert "  crm-feed.csv: account_id ← 宽带账号, plan ← 套餐" in text
        assert "线路是否具备, 客户名称, 备注\n" in text  # the extras, ignored
        assert f"the {len(expected)} rejected rows are the sample's deliberate bad rows" in text
    bill = read_csv(out / f"bill-{MONTH}.csv")
    billed = sum((Decimal(r["amount"]) for r in bill), Decimal(0))
    waived = sum((Decimal(r["waived"]) for r in bill), Decimal(0))
    assert re.search(rf"total billed +{billed:.2f} CNY +total waived +{waived:.2f} CNY", text)
    assert billed > 0 and waived > 0
    trial = sum(1 for r in bill if r["code"] == "trial")
    assert re.search(rf"\n  trial +{trial}\n", text)
    assert "UNEXPECTED" not in text


def test_demo_reports_rejects_that_are_not_the_intended_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _demo.sample_manifest()
    manifest["crm-feed.csv"]["bad_rows"] = manifest["crm-feed.csv"]["bad_rows"][1:]
    monkeypatch.setattr(_demo, "sample_manifest", lambda: manifest)
    assert main(["demo", "--out", str(tmp_path)]) == 3
    assert "UNEXPECTED: rows rejected that are not bad on purpose" in capsys.readouterr().out


def test_demo_default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert (tmp_path / "out" / "demo" / f"bill-{MONTH}.csv").is_file()


def test_sample_data_is_a_package_resource() -> None:
    folder = resources.files("itvrules") / "sample_data"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 2025
    assert (folder / "crm-feed.csv").read_bytes()[:8].decode("gb18030") == "宽带账号"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a bare folder: no source tree on the path."""
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("itvrules-*.whl")
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True)
    return target


def test_demo_from_an_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed), "ITVRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    script = "import itvrules.cli._demo as d; print(d.sample_file('x'))"
    where = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(installed)
    result = subprocess.run([sys.executable, "-m", "itvrules", "demo", "--out", "here"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, encoding="utf-8", check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "here" / f"bill-{MONTH}.csv").is_file()
    assert "deliberate bad rows" in result.stdout
