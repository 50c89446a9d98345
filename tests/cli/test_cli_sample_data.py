"""The bundled sample data: what the generator writes, byte for byte, and what it holds."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import pytest

from paths import ROOT

SHIPPED = ROOT / "src" / "itvrules" / "sample_data"


def _generator() -> ModuleType:
    path = ROOT / "examples" / "make_sample_data.py"
    spec = importlib.util.spec_from_file_location("make_sample_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    _generator().generate(out, seed=2025, rows=320)
    return out


@pytest.mark.parametrize("name", ["crm-feed.csv", "registration-form.xlsx", "cancellation-steps.csv",
                                  "manifest.json"])
def test_committed_files_are_what_the_generator_writes(generated: Path, name: str) -> None:
    assert (generated / name).read_bytes() == (SHIPPED / name).read_bytes(), (
        f"{name} is stale: run python examples/make_sample_data.py")


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    _generator().generate(tmp_path, seed=7, rows=50)
    assert (tmp_path / "crm-feed.csv").read_bytes() != (SHIPPED / "crm-feed.csv").read_bytes()


def test_files_are_small() -> None:
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 200 * 1024


def _feed() -> list[dict[str, str]]:
    data = (SHIPPED / "crm-feed.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GB18030, as Chinese Excel saves it, not UTF-8
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    return list(csv.DictReader(io.StringIO(data.decode("gb18030"), newline="")))


def test_feed_looks_like_a_crm_export() -> None:
    rows = _feed()
    assert 300 <= len(rows) <= 400
    assert list(rows[0])[:3] == ["宽带账号", "套餐", "产品类型"]
    accounts = [r["宽带账号"] for r in rows]
    assert sum(a.startswith("0") for a in accounts) > 50
    assert {r["产品类型"] for r in rows} >= {"品牌", "包年", "单宽月租"}
    assert {r["小区类型"] for r in rows} >= {"未提速", "正在提速", "已提速"}
    families = {r["套餐"].strip().lower()[:2] for r in rows}
    assert {"e6", "e8", "e9"} <= families
    channels = {r["受理渠道"] for r in rows}
    assert {"客服中心", "伊山一分局", "伊山二分局"} <= channels
    assert any(r["是否退单"] in ("是", "Y", "1") and r["退单原因"] for r in rows)
    assert any(r["转换套餐"] for r in rows)
    assert any(r["拆机申请日期"] and not r["拆机生效日期"] for r in rows)
    assert any(r["拆机生效日期"] and not r["拆机申请日期"] for r in rows)
    accepted = [r["受理日期"] for r in rows]
    assert any(d < "2025-03-20" and d.startswith("2025-03") for d in accepted)  # before the window
    assert any("/" in d for d in accepted) and any(d.isdigit() for d in accepted)
    assert all(r["联系电话"] for r in rows)


def test_manifest_lists_a_bad_row_of_every_kind() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    bad = manifest["crm-feed.csv"]["bad_rows"]
    problems = {b["problem"] for b in bad}
    assert {"not a calendar date", "unknown product", "not a boolean", "returned without a reason",
            "completion before acceptance", "a second trial order of the same account",
            "unknown iTV package"} <= problems
    rows = _feed()
    for entry in bad:
        assert rows[entry["row"] - 2]["宽带账号"] == entry["account_id"]
    duplicate = next(b for b in bad if b["field"] == "account_id")
    first = next(i for i, r in enumerate(rows, start=2) if r["宽带账号"] == duplicate["account_id"])
    assert first < duplicate["row"]
