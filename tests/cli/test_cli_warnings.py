"""Warnings said out loud: a bill charged from a placeholder tariff, and ``--strict``.

``bill`` prints one warning per placeholder package it charged, with the rows
counted on every backend; ``eligibility`` warns when a placeholder covers a
value its decisions read; ``policy lint`` warns about every marked value. With
``--strict`` any warning makes the status 1, after the outputs are written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import itvrules
from itvrules.cli import main
from itvrules.policy._resources import default_policy_path

SHIPPED = default_policy_path().read_text(encoding="utf-8")
HEADER = "account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on," \
         "cancel_effective_on,switched_to\n"
#: Billed for 2025-08: two rows switched to basic, one to hd, one paying quanneng, one basic row
#: still in its trial (charged the default package, waived), one returned.
SWITCHED = HEADER + (
    "B001,brand,2025-03-25,2025-03-31,,,,,basic\n"
    "B002,包年,2025-04-02,2025-04-03,,,,,iTV 基础包\n"  # Chinese product, package by name
    "H001,single_monthly,2025-03-25,2025-03-28,,,,,hd\n"
    "Q001,brand,2025-03-25,2025-03-31,,,,,\n"
    "T001,brand,2025-05-30,2025-06-02,,,,,basic\n"
    "R001,brand,2025-04-02,,true,线路不具备,,,\n"
)
PLAIN = HEADER + (
    "Q001,brand,2025-03-25,2025-03-31,,,,,\n"
    "Q002,annual,2025-04-02,2025-04-03,,,,,quanneng\n"
)
BASIC = ("itvrules: warning: 2 rows charged with placeholder tariff basic (iTV 基础包) 20.00 — the "
         "policy marks it a placeholder (§三, other-packages); set the real tariff in the policy")
HD = ("itvrules: warning: 1 row charged with placeholder tariff hd (iTV 高清包) 30.00 — the "
      "policy marks it a placeholder (§三, other-packages); set the real tariff in the policy")
STRICT = "itvrules: error: strict mode: {n} warning(s) fail the command; the outputs are written"


def feed(tmp_path: Path, text: str, name: str = "feed.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("itvrules: warning: ")]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(("backend", "output"), [("rows", "bill.csv"), ("columnar", "bill.csv"),
                                                 ("auto", "bill.parquet")])
def test_bill_counts_the_rows_charged_with_each_placeholder_tariff(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str, output: str) -> None:
    source = feed(tmp_path, SWITCHED)
    if output.endswith(".parquet"):  # a Parquet feed to a Parquet export: the Arrow path
        import polars as pl

        source = tmp_path / "feed.parquet"
        pl.read_csv(feed(tmp_path, SWITCHED), infer_schema=False).write_parquet(source)
    assert main(["bill", "2025-08", str(source), "-o", str(tmp_path / output),
                 "--backend", backend]) == 0
    err = capsys.readouterr().err
    assert warnings_of(err) == [BASIC, HD]
    assert err.index("rows in: 6") < err.index(BASIC)  # after the counts


def test_the_warning_counts_what_the_export_charged(tmp_path: Path) -> None:
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-08", str(feed(tmp_path, SWITCHED)), "-o", str(out)]) == 0
    rows = {r["account_id"]: r for r in read_csv(out)}
    charged = sorted(a for a, r in rows.items() if r["package"] in ("basic", "hd")
                     and r["amount"] != "0.00")
    assert charged == ["B001", "B002", "H001"]
    assert (rows["T001"]["code"], rows["T001"]["amount"]) == ("trial", "0.00")  # not counted


def test_no_placeholder_charged_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-08", str(feed(tmp_path, PLAIN)), "-o", str(tmp_path / "b.csv")]) == 0
    assert warnings_of(capsys.readouterr().err) == []


def test_tariffs_that_differ_by_product_are_each_named(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(SHIPPED.replace('      annual: "20.00"', '      annual: "22.00"'),
                      encoding="utf-8")
    assert main(["bill", "2025-08", str(feed(tmp_path, SWITCHED)), "-o", str(tmp_path / "b.csv"),
                 "--policy", str(policy)]) == 0
    assert warnings_of(capsys.readouterr().err)[0].startswith(
        "itvrules: warning: 2 rows charged with placeholder tariff basic (iTV 基础包) brand 20.00, "
        "annual 22.00, single_monthly 20.00 — ")


def test_bill_strict_fails_after_writing_the_outputs(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bill.csv"
    assert main(["bill", "2025-08", str(feed(tmp_path, SWITCHED)), "-o", str(out), "--strict"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-3:] == [BASIC, HD, STRICT.format(n=2)]
    assert len(read_csv(out)) == 6 and (tmp_path / "bill.rejects.csv").is_file()


def test_bill_strict_without_warnings_keeps_the_status(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-08", str(feed(tmp_path, PLAIN)), "-o", str(tmp_path / "b.csv"),
                 "--strict"]) == 0
    bad = PLAIN + "X001,brand,2025-02-30,,,,,,\n"
    assert main(["bill", "2025-08", str(feed(tmp_path, bad, "bad.csv")), "-o",
                 str(tmp_path / "c.csv"), "--strict"]) == 3
    assert "strict mode" not in capsys.readouterr().err


def placeholder_window(tmp_path: Path) -> Path:
    """The shipped policy with its campaign year marked a placeholder, not an assumption."""
    old = "    kind: assumption\n    clause: §一\n"
    assert SHIPPED.count(old) == 1
    path = tmp_path / "policy.yaml"
    path.write_text(SHIPPED.replace(old, "    kind: placeholder\n    clause: §一\n"), encoding="utf-8")
    return path


def subscribers(tmp_path: Path) -> Path:
    return feed(tmp_path, "account_id,plan,product,community,new_install,has_itv,line_ready,"
                          "accepted_on\nS001,e8-68,brand,none,false,false,true,2025-04-01\n"
                          "S002,e9-99,annual,none,false,false,true,2025-04-02\n", "subscribers.csv")


def test_eligibility_warns_when_its_decisions_rest_on_a_placeholder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = subscribers(tmp_path), tmp_path / "targets.csv"
    assert main(["eligibility", str(source), "-o", str(out), "--strict"]) == 0  # shipped: none
    assert warnings_of(capsys.readouterr().err) == []
    policy = placeholder_window(tmp_path)
    assert main(["eligibility", str(source), "-o", str(out), "--policy", str(policy)]) == 0
    found = warnings_of(capsys.readouterr().err)
    assert [w.split(", which")[0] for w in found] == [
        "itvrules: warning: 2 rows decided with campaign.first_day",
        "itvrules: warning: 2 rows decided with campaign.last_day"]
    assert "the policy marks a placeholder (campaign-year, §一): campaign year:" in found[0]
    assert main(["eligibility", str(source), "-o", str(out), "--policy", str(policy),
                 "--strict"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == STRICT.format(n=2)
    assert len(read_csv(out)) == 2


def test_a_bill_warns_about_a_placeholder_window_too(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", "2025-08", str(feed(tmp_path, PLAIN)), "-o", str(tmp_path / "b.csv"),
                 "--policy", str(placeholder_window(tmp_path))]) == 0
    assert [w.split(", which")[0] for w in warnings_of(capsys.readouterr().err)] == [
        "itvrules: warning: 2 rows decided with campaign.first_day",
        "itvrules: warning: 2 rows decided with campaign.last_day"]


def test_policy_lint_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marked = sum(len(e.covers) for e in itvrules.load_policy().assumption_entries)
    assert main(["policy", "lint"]) == 0
    assert main(["policy", "lint", "--strict"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"itvrules: error: strict mode: {marked} warning(s) fail the command"]
    assert captured.out.count(" warning [placeholder] ") == 2 * 2  # both runs print them
    start, end = SHIPPED.index("assumptions:\n"), SHIPPED.index("\ncampaign:\n")
    unmarked = tmp_path / "unmarked.yaml"
    unmarked.write_text(SHIPPED[:start] + SHIPPED[end + 1:], encoding="utf-8")
    assert main(["policy", "lint", str(unmarked), "--strict"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_the_demo_says_it_billed_placeholder_tariffs(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo"), "--strict"]) == 1
    err = capsys.readouterr().err.splitlines()
    found = warnings_of("\n".join(err))
    assert [w.split(" rows charged with placeholder tariff ")[1].split(" — ")[0] for w in found] \
        == ["basic (iTV 基础包) 20.00", "hd (iTV 高清包) 30.00"]
    bill = read_csv(tmp_path / "demo" / "bill-2025-08.csv")
    charged = [r["package"] for r in bill if r["package"] in ("basic", "hd") and r["amount"] != "0.00"]
    assert [int(w.split(": warning: ")[1].split(" ")[0]) for w in found] == \
        [charged.count("basic"), charged.count("hd")]
    assert err[-1] == STRICT.format(n=2)


@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_a_placeholder_of_one_product_counts_its_rows_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str) -> None:
    old = "    covers: [packages.basic, packages.hd]"
    assert SHIPPED.count(old) == 1
    policy = tmp_path / "policy.yaml"
    policy.write_text(SHIPPED.replace(old, "    covers: [packages.basic.tariff.annual]"),
                      encoding="utf-8")
    rows = HEADER + ("A1,包年,2025-04-02,2025-04-03,,,,,basic\n"
                     "A2,annual,2025-04-02,2025-04-03,,,,,basic\n"
                     "A3,品牌,2025-04-02,2025-04-03,,,,,basic\n"
                     "A4,包年,2025-04-02,2025-04-03,,,,,hd\n")
    assert main(["bill", "2025-08", str(feed(tmp_path, rows)), "-o", str(tmp_path / "b.csv"),
                 "--policy", str(policy), "--backend", backend]) == 0
    assert [w.split(" — ")[0] for w in warnings_of(capsys.readouterr().err)] == [
        "itvrules: warning: 2 rows charged with placeholder tariff basic (iTV 基础包) 20.00"]
