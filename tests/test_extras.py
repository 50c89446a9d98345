"""A light install: each extra's missing module gives one line naming the extra, never a traceback."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import itvrules
from itvrules.cli import main
from paths import ROOT

SAMPLE_FEED = ROOT / "src" / "itvrules" / "sample_data" / "crm-feed.csv"

ENGINE_WORDS = "does not run on Python"


@pytest.mark.parametrize(("module", "extra"), [
    ("xlsxwriter", "excel"),
    ("matplotlib", "reports"),
])
def test_demo_without_an_extra_names_it_in_one_line(module: str, extra: str, tmp_path: object,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    for name in list(sys.modules):
        if name == module or name.startswith(f"{module}.") or name.startswith("itvrules.reports._"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    status = main(["demo", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip().splitlines()[-1].endswith(f"needs the {extra} extra: pip install 'itvrules[{extra}]'")
    assert "Traceback" not in err


def test_reading_xlsx_without_the_excel_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    assert itvrules.plugin_manager(autoload=False) is not None  # the adapters still register
    from itvrules_adapters.xlsx_io import XlsxReader

    with pytest.raises(itvrules.MissingExtra) as raised:
        next(XlsxReader().read(io.BytesIO(b"PK"), "form.xlsx"))
    assert str(raised.value) == "reading .xlsx needs the excel extra: pip install 'itvrules[excel]'"
    assert isinstance(raised.value, itvrules.ItvRulesError)


@pytest.mark.parametrize(("module", "extra"), [
    ("polars", "columnar"), ("pyarrow", "columnar"), ("psycopg", "postgres"), ("pyspark", "spark"),
])
def test_missing_extra_names_the_extra(module: str, extra: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from itvrules._extras import require

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(itvrules.MissingExtra, match=rf"pip install 'itvrules\[{extra}\]'"):
        require("this feature", module)


def test_demo_bills_row_by_row_without_the_columnar_extra(tmp_path: object,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    assert main(["demo", "--out", str(tmp_path)]) == 0


def test_durable_missing_says_to_use_the_compiled_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("durable", "durable.engine", "durable_rules_engine", "itvrules.engines._durable"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(itvrules.EngineUnavailable, match=ENGINE_WORDS) as raised:
        itvrules.load_policy(engine="durable")
    assert "\n" not in str(raised.value)
    assert "compiled engine" in str(raised.value)


def test_compiled_engine_runs_without_durable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("durable", "durable.engine", "durable_rules_engine", "itvrules.engines._durable"):
        monkeypatch.setitem(sys.modules, name, None)
    policy = itvrules.load_policy()
    assert policy.default_engine == "compiled"
    assert policy.eligibility is not None and date(2025, 1, 1) < date(2025, 12, 31)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="durable-rules does not run on Python 3.13")
def test_durable_imports_below_3_13() -> None:
    """On 3.11 and 3.12 durable-rules is a dependency: its tests must never skip there."""
    import durable.engine  # noqa: F401
    import durable_rules_engine  # noqa: F401


@pytest.mark.parametrize(("call", "feature", "module", "extra"), [
    (lambda policy: policy.fees_frame(None, "2025-06"), "Policy.fees_frame", "polars", "columnar"),
    (lambda policy: policy.eligibility_frame(None), "Policy.eligibility_frame", "polars", "columnar"),
    (lambda policy: policy.fees_spark(None, "2025-06"), "Policy.fees_spark", "pyspark", "spark"),
    (lambda policy: policy.eligibility_spark(None), "Policy.eligibility_spark", "pyspark", "spark"),
])
def test_frame_entry_points_name_their_extra(call: Any, feature: str, module: str, extra: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    policy = itvrules.load_policy()
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(itvrules.MissingExtra) as raised:
        call(policy)
    assert str(raised.value) == f"{feature} needs the {extra} extra: pip install 'itvrules[{extra}]'"


@pytest.mark.parametrize("doing", ["reading", "writing"])
def test_parquet_without_the_columnar_extra_says_so_in_one_line(
        doing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / ("feed.parquet" if doing == "reading" else "feed.csv")
    if doing == "reading":
        feed.write_bytes(b"PAR1" + b"\0" * 16 + b"PAR1")
        out = tmp_path / "bill.csv"
    else:
        feed.write_bytes(SAMPLE_FEED.read_bytes())
        out = tmp_path / "bill.parquet"
    for name in ("pyarrow", "pyarrow.parquet", "polars"):
        monkeypatch.setitem(sys.modules, name, None)
    status = main(["bill", "2025-06", str(feed), "-o", str(out), "--backend", "rows"])
    err = capsys.readouterr().err
    assert status != 0
    assert f"{doing} .parquet needs the columnar extra: pip install 'itvrules[columnar]'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
