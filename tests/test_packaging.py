"""The wheel carries the shipped policy: an installed package needs no source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from paths import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)],
        check=True,
    )
    (found,) = out.glob("itvrules-*.whl")
    return found


def test_wheel_contains_policy_schema_and_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "itvrules/rulesets/itv-trial.yaml" in names
    assert "itvrules/rulesets/policy.schema.json" in names
    assert "itvrules/py.typed" in names
    assert "itvrules_adapters/tmf678.schema.json" in names  # the TMF678 export's JSON Schema


def test_installed_wheel_loads_its_default_policy(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True,
    )
    script = (
        "import itvrules, itvrules.policy._resources as r;"
        "p = itvrules.load_policy();"
        "print(p.id, r.default_policy_path())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=True)
    policy_id, path = result.stdout.split()
    assert policy_id == "itv-trial"
    assert Path(path).is_relative_to(target), "the policy must come from inside the installed package"
