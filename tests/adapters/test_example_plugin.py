"""Plug-ins for real: the example package installed with pip and found by its entry point,
and a plug-in registered in-process that adds a column, a cycle id and rejects rows."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pluggy
import pytest

import itvrules
from itvrules import InputError, Policy, RawRow, hookimpl
from itvrules.runs._pipeline import BILL_COLUMNS, ELIGIBILITY_COLUMNS, run_bill, run_eligibility
from itvrules.runs._plugins import AUTOLOAD_ENV, describe_plugins, export_writers
from paths import FEEDS, ROOT

EXAMPLE = ROOT / "examples" / "fixedwidth_plugin"
MONTH = "2025-06"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return itvrules.load_policy()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package installed by pip into a folder of its own, as a user installs it."""
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-input",
               "--disable-pip-version-check", "--target", str(target), str(EXAMPLE)]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")  # the build backend is here: no download needed
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return target


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The installed plug-in on sys.path for one test (entry points are read from sys.path)."""
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    return site


def test_pip_installed_the_package_with_its_entry_point(site: Path) -> None:
    (dist_info,) = site.glob("itvrules_fixedwidth-0.1.0.dist-info")
    assert "[itvrules]\nfixedwidth = itvrules_fixedwidth" in (dist_info / "entry_points.txt").read_text()
    assert (site / "itvrules_fixedwidth" / "__init__.py").is_file()


def test_the_entry_point_is_loaded_and_described(installed: Path) -> None:
    pm = itvrules.plugin_manager()
    assert "fixedwidth" in export_writers(pm)
    (plugin,) = [d for d in describe_plugins(pm) if d["name"] == "fixedwidth"]
    assert plugin["origin"] == "entry point"
    assert plugin["distribution"] == "itvrules-fixedwidth 0.1.0"
    assert plugin["module"].startswith(str(installed))
    assert plugin["writers"] == ["fixedwidth"] and plugin["readers"] == ["fixedwidth"]


def test_the_environment_variable_keeps_it_out(installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    assert "fixedwidth" not in export_writers(itvrules.plugin_manager())


def test_a_bill_run_writes_the_fixed_width_layout(installed: Path, policy: Policy,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "bill.dat"
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(out),
                       out_format="fixedwidth", pm=itvrules.plugin_manager())
    assert (summary.decided, summary.rejected) == (4, 7)
    lines = out.read_bytes().split(b"\r\n")
    assert lines[-1] == b""
    details, trailer = lines[:-2], lines[-2]
    assert details[0] == (b"D" + b"A001".ljust(20) + b"202506" + b"default_paid".ljust(24)
                          + b"0000003500" + b"0000000000" + b"N")
    assert details[1] == (b"D" + b"A002".ljust(20) + b"202506" + b"trial".ljust(24)
                          + b"0000000000" + b"0000003500" + b"N")
    assert [d[1:21].strip() for d in details] == [b"A001", b"A002", b"A008", b"A010"]
    assert {len(d) for d in details} == {72}
    assert trailer == b"T" + b"0000000004" + b"000000003500"


def test_the_extension_picks_it_and_an_unfit_row_is_rejected(installed: Path, policy: Policy,
                                                             tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("account_id,product,accepted_on,completed_on,cancel_requested_on,cancel_effective_on\n"
                    "A001,brand,2025-03-25,2025-03-31,,\n"
                    "A0000000000000000000000002,brand,2025-03-25,2025-03-31,,\n", encoding="utf-8")
    out = tmp_path / "bill.fw"
    summary = run_bill(policy, MONTH, [str(feed)], str(out), pm=itvrules.plugin_manager())
    assert (summary.rows_in, summary.decided, summary.rejected) == (2, 1, 1)
    assert out.read_bytes().count(b"\r\n") == 2  # one detail and the trailer
    with (tmp_path / "bill.rejects.csv").open(encoding="utf-8-sig") as handle:
        (reject,) = csv.DictReader(handle)
    assert (reject["source_row"], reject["field"]) == ("3", "account_id")
    assert "fixed-width" in reject["error"]


def test_the_fixed_width_layout_holds_bills_only(installed: Path, policy: Policy,
                                                 tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds bills"):
        run_eligibility(policy, [str(FEEDS / "subscribers.csv")], str(tmp_path / "x.fw"),
                        pm=itvrules.plugin_manager())


# -- a plug-in registered in-process -----------------------------------------------------------------

class RegionPlugin:
    """Adds a region column, names billing cycles and refuses some rows."""

    def __init__(self) -> None:
        self.checked: list[tuple[str, str, int]] = []

    @hookimpl
    def itvrules_decision_columns(self, kind: str) -> Sequence[str]:
        return ["region", "account_id"] if kind == "bill" else []

    @hookimpl
    def itvrules_decision_row(self, kind: str, row: dict[str, Any], decision: Any,
                              policy: Policy) -> None:
        if decision.account_id == "A008":
            raise InputError("account_id", decision.account_id, "on the region's stop list")
        row["region"] = "伊山" if kind == "bill" else None

    @hookimpl
    def itvrules_check_row(self, kind: str, raw: RawRow, record: Any) -> None:
        self.checked.append((kind, record.account_id, raw.row))
        if record.account_id == "A010":
            raise InputError("channel", None, "the form names no accepting channel")

    @hookimpl
    def itvrules_billing_cycle(self, month: str) -> str:
        return "C" + month.replace("-", "")


@pytest.fixture
def region() -> tuple[pluggy.PluginManager, RegionPlugin]:
    pm = itvrules.plugin_manager(autoload=False)
    plugin = RegionPlugin()
    pm.register(plugin, name="region")
    return pm, plugin


def test_an_in_process_plugin_adds_a_column_and_rejects_rows(
        region: tuple[pluggy.PluginManager, RegionPlugin], policy: Policy, tmp_path: Path) -> None:
    pm, plugin = region
    out = tmp_path / "bill.csv"
    summary = run_bill(policy, MONTH, [str(FEEDS / "bill_bad_rows.csv")], str(out), pm=pm)
    assert (summary.rows_in, summary.decided, summary.rejected) == (11, 2, 9)
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [*BILL_COLUMNS, "region"]  # account_id is not added twice
    assert [(r["account_id"], r["region"], r["billing_cycle"]) for r in rows] == [
        ("A001", "伊山", "C202506"), ("A002", "伊山", "C202506")]
    with (tmp_path / "bill.rejects.csv").open(encoding="utf-8-sig") as handle:
        rejects = {r["source_row"]: r for r in csv.DictReader(handle)}
    assert (rejects["10"]["field"], rejects["10"]["error"]) == \
        ("account_id", "on the region's stop list; got 'A008'")
    assert (rejects["12"]["field"], rejects["12"]["error"]) == \
        ("channel", "the form names no accepting channel")
    # only rows that parsed and passed the built-in checks are shown to the plug-in, each once
    assert [c[1] for c in plugin.checked] == ["A001", "A002", "A008", "A010"]
    assert {c[0] for c in plugin.checked} == {"bill"}


def test_the_plugin_sees_the_subscriber_in_an_eligibility_run(
        region: tuple[pluggy.PluginManager, RegionPlugin], policy: Policy, tmp_path: Path) -> None:
    pm, plugin = region
    out = tmp_path / "targets.csv"
    run_eligibility(policy, [str(FEEDS / "subscribers.csv")], str(out), pm=pm)
    with out.open(encoding="utf-8-sig") as handle:
        assert list(next(csv.DictReader(handle))) == list(ELIGIBILITY_COLUMNS)
    assert plugin.checked[0] == ("eligibility", "S001", 2)


# -- the example's reader declares a capability and gets the bulk path ---------------------------------


def fixed_width_feed(path: Path) -> Path:
    """A legacy CRM extract: good rows, a repeated account, a bad date, a cut line, a blank line."""
    def line(account: str, product: str, accepted: str, completed: str = "", requested: str = "",
             effective: str = "") -> str:
        return f"{account:<20}{product:<12}{accepted:<10}{completed:<10}{requested:<10}{effective:<10}\r\n"

    path.write_text("".join([
        line("A001", "brand", "2025-03-25", "2025-03-31"),
        line("A002", "brand", "2025-04-01", "2025-04-02", "2025-06-05", "2025-06-10"),
        "\r\n",
        line("A001", "brand", "2025-03-25", "2025-03-31"),
        line("A003", "brand", "2025-13-01"),
        "A004      brand\r\n",
        *(line(f"B{i:03d}", "brand", "2025-04-0" + str(1 + i % 9), "2025-04-20") for i in range(40)),
    ]), encoding="utf-8")
    return path


def test_the_example_reader_declares_text_batches(installed: Path) -> None:
    from itvrules_fixedwidth import FixedWidthReader, FixedWidthWriter

    from itvrules.hookspecs import TextBatchReader, TextColumnsWriter

    assert isinstance(FixedWidthReader(), TextBatchReader)
    assert not isinstance(FixedWidthWriter(), TextColumnsWriter)  # its trailer needs every row


def test_the_example_reader_gets_the_columnar_path_and_the_row_paths_answer(
        installed: Path, policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import itvrules_fixedwidth

    import itvrules.runs._bulk_text as columnar

    feed = fixed_width_feed(tmp_path / "crm.fwf")
    runs: dict[str, tuple[Any, bytes, bytes]] = {}
    rows = run_bill(policy, MONTH, [str(feed)], str(tmp_path / "rows.csv"),
                    rejects=str(tmp_path / "rows.rejects.csv"), backend="rows",
                    pm=itvrules.plugin_manager())
    runs["rows"] = (rows, (tmp_path / "rows.csv").read_bytes(),
                    (tmp_path / "rows.rejects.csv").read_bytes())

    bulk_runs: list[str] = []
    batch_reads: list[str] = []
    real_bill, real_batches = columnar.bill_columnar, itvrules_fixedwidth.FixedWidthReader.read_text_batches

    def bill_spy(run: Any, month: str, every: int) -> Any:
        bulk_runs.append(month)
        return real_bill(run, month, every)

    def batches_spy(self: Any, stream: Any, source: str, *, encoding: str | None = None) -> Any:
        batch_reads.append(source)
        return real_batches(self, stream, source, encoding=encoding)

    def no_rows(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the bulk path read the feed row by row")

    monkeypatch.setattr(columnar, "bill_columnar", bill_spy)
    monkeypatch.setattr(itvrules_fixedwidth.FixedWidthReader, "read_text_batches", batches_spy)
    monkeypatch.setattr(itvrules_fixedwidth.FixedWidthReader, "read", no_rows)
    auto = run_bill(policy, MONTH, [str(feed)], str(tmp_path / "auto.csv"),
                    rejects=str(tmp_path / "auto.rejects.csv"), pm=itvrules.plugin_manager())
    assert bulk_runs == [MONTH] and batch_reads == ["crm.fwf"]
    assert (auto.rows_in, auto.decided, auto.rejected) == (rows.rows_in, rows.decided, rows.rejected)
    assert (rows.rows_in, rows.rejected) == (45, 3)  # the blank line is no row
    assert (tmp_path / "auto.csv").read_bytes() == runs["rows"][1]
    assert (tmp_path / "auto.rejects.csv").read_bytes() == runs["rows"][2]
    with (tmp_path / "auto.rejects.csv").open(encoding="utf-8-sig") as handle:
        rejects = {r["source_row"]: r["field"] for r in csv.DictReader(handle)}
    assert rejects == {"4": "account_id", "5": "accepted_on", "6": "(row)"}
