"""Hostile policy, contract and case files: refused with file, line and field, in bounded memory.

A few hundred bytes of YAML aliases expand to billions of nodes, brackets nest
past Python's stack, a device never ends, a tag asks for Python objects. Each
is one PolicyError (or a LimitExceeded's words inside one) before anything big
is built, and the command line prints one line for it, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import itvrules
from itvrules.cli import main
from itvrules.contract import load_contract
from paths import ROOT
from words import repr_found

RULESETS = ROOT / "rulesets"
POLICY = RULESETS / "itv-trial.yaml"
#: What the command line may take to refuse a hostile file: Python, itvrules and a margin.
MEMORY_BOUND_MB = 150


def alias_bomb(levels: int, fan_out: int = 9) -> str:
    """The billion laughs: each level a list of ``fan_out`` aliases of the level below."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * fan_out)}]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * fan_out)}]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "title: " + "[" * depth + "]" * depth + "\n"


def measured_cli(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, float, float]:
    """Run the command line in a child process: its status, stderr, seconds and peak MiB."""
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE, text=True)\n"
             "sys.stdout.write(r.stderr)\n"
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "itvrules", *argv],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    *stderr, last = done.stdout.splitlines()
    status, maxrss_kb = (int(part) for part in last.split())
    return status, "\n".join(stderr), seconds, maxrss_kb / 1024


def written(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    bomb = written(tmp_path, alias_bomb(10))
    assert len(bomb.read_bytes()) < 600
    status, stderr, seconds, peak_mb = measured_cli("policy", "validate", str(bomb))
    assert status == 1
    assert "yaml_nodes" in stderr and "ITVRULES_LIMIT_YAML_NODES=N" in stderr
    assert "Traceback" not in stderr
    assert seconds < 10
    assert peak_mb < MEMORY_BOUND_MB, f"{peak_mb:.0f} MiB to refuse a {len(alias_bomb(10))}-byte file"


def test_an_alias_bomb_names_its_file_and_the_line_where_the_count_goes_over(tmp_path: Path) -> None:
    bomb = written(tmp_path, alias_bomb(7))
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(bomb)
    (problem,) = caught.value.problems
    assert problem.source == str(bomb)
    assert problem.line == 6  # a5, whose aliases first take the count over 200,000
    assert isinstance(caught.value.__cause__, itvrules.LimitExceeded)
    assert caught.value.__cause__.limit.name == "yaml_nodes"


@pytest.mark.parametrize("name", ["feed.contract.yaml", "itv-trial.cases.yaml"])
def test_an_alias_bomb_in_a_contract_or_case_file_is_refused_too(tmp_path: Path, name: str) -> None:
    bomb = written(tmp_path, alias_bomb(9), name)
    with pytest.raises(itvrules.PolicyError, match="yaml_nodes"):
        if name.endswith(".contract.yaml"):
            load_contract(bomb)
        else:
            itvrules.load_cases(bomb, itvrules.load_policy())


def test_a_genuine_document_over_the_default_passes_with_the_limit_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = written(tmp_path, alias_bomb(6))  # about 600,000 nodes once expanded
    with pytest.raises(itvrules.PolicyError, match="yaml_nodes"):
        itvrules.load_policy(bomb)
    monkeypatch.setenv("ITVRULES_LIMIT_YAML_NODES", "1000000")
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(bomb)
    assert "yaml_nodes" not in str(caught.value)  # read whole: now only the schema objects


def test_nesting_deeper_than_the_limit_is_a_policy_error_not_a_recursion_error(tmp_path: Path) -> None:
    deep = written(tmp_path, nested(5000))
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(deep)
    (problem,) = caught.value.problems
    assert (problem.source, problem.line) == (str(deep), 1)
    assert "yaml_depth" in problem.message and "ITVRULES_LIMIT_YAML_DEPTH=N" in problem.message


def test_nesting_at_the_limit_is_read(tmp_path: Path) -> None:
    depth = next(limit for limit in itvrules.LIMITS if limit.name == "yaml_depth").default
    at_limit = written(tmp_path, nested(depth - 1))  # the mapping is the first level
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(at_limit)
    assert "yaml_depth" not in str(caught.value)


def test_an_alias_counts_as_deep_as_the_node_it_names(tmp_path: Path) -> None:
    # Each level is two deep as written, one more each time it is expanded.
    chain = ["a0: &a0 [x]"] + [f"a{n}: &a{n} [*a{n - 1}]" for n in range(1, 80)]
    path = written(tmp_path, "\n".join(chain) + "\n")
    with pytest.raises(itvrules.PolicyError, match="yaml_depth"):
        itvrules.load_policy(path)


def test_an_alias_inside_the_node_it_names_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path, "title: &loop [a, *loop]\n")
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    (problem,) = caught.value.problems
    assert problem.line == 1
    assert "*loop sits inside the node it names" in problem.message


def test_an_endless_file_is_refused_after_reading_the_limit() -> None:
    status, stderr, seconds, peak_mb = measured_cli("policy", "validate", "/dev/zero")
    assert status == 1
    assert "policy_file_bytes" in stderr and "ITVRULES_LIMIT_POLICY_FILE_BYTES=N" in stderr
    assert "Traceback" not in stderr
    assert seconds < 10
    assert peak_mb < MEMORY_BOUND_MB


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITVRULES_LIMIT_POLICY_FILE_BYTES", "1000")
    big = written(tmp_path, "# " + "x" * 2000 + "\n")
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(big)
    assert "2,003 bytes found, at most 1,000" in str(caught.value)
    with pytest.raises(itvrules.PolicyError, match="policy_file_bytes"):
        itvrules.load_cases(written(tmp_path, "# " + "x" * 2000, "big.cases.yaml"),
                            itvrules.load_policy(POLICY))


@pytest.mark.parametrize(("edit", "tag"), [
    ("catalogue: !!python/object/apply:os.system", "!!python/object/apply:os.system"),
    ("catalogue: !!set", "!!set"),
    ("catalogue: !custom", "!custom"),
])
def test_a_tag_other_than_yamls_own_is_refused_with_its_line(tmp_path: Path, edit: str, tag: str) -> None:
    text = POLICY.read_text(encoding="utf-8").replace("\ncatalogue:", "\n" + edit, 1)
    path = written(tmp_path, text)
    line = text.splitlines().index(edit) + 1
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    (problem,) = caught.value.problems
    assert (problem.source, problem.line, problem.field) == (str(path), line, "catalogue")
    assert f"the tag {tag} is not allowed" in problem.message


def test_a_tagged_scalar_or_key_is_refused_too(tmp_path: Path) -> None:
    path = written(tmp_path, "title: !!python/name:os.system x\n!!binary aGk=: 1\n")
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(1, "title"), (2, "(document)")]


def test_yamls_own_tags_are_still_read(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: !!str ", 1)
    assert itvrules.load_policy(written(tmp_path, text)).title.startswith("iTV")


def test_a_lone_surrogate_in_the_title_is_a_policy_error(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = POLICY.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    path = written(tmp_path, text.replace(title, 'title: "bad \\udc80 title"', 1))
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    (problem,) = caught.value.problems
    assert problem.field == "title" and "lone surrogate" in problem.message
    assert main(["policy", "validate", str(path)]) == 1
    assert "lone surrogate" in capsys.readouterr().err


def test_an_explanation_naming_a_lone_surrogate_is_printed_escaped(
        capsys: pytest.CaptureFixture[str]) -> None:
    subscriber = '{"account_id": "\\ud800", "plan": "e9-169", "product": "brand"}'
    assert main(["explain", "--subscriber", subscriber, "--accepted-on", "2025-04-01"]) == 0
    assert "decision for \\ud800 accepted on 2025-04-01" in capsys.readouterr().out


@pytest.mark.parametrize(("old", "new", "field"), [
    ("\ncatalogue:", "\ncatalogue: 5\nunused:", "catalogue"),
    ("\neligibility:", "\neligibility: 5\nunused:", "eligibility"),
    ("\npackages:", "\npackages: [a]\nunused:", "packages"),
])
def test_a_section_of_the_wrong_type_is_a_policy_error(tmp_path: Path, old: str, new: str,
                                                       field: str) -> None:
    path = written(tmp_path, POLICY.read_text(encoding="utf-8").replace(old, new, 1))
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    assert field in {p.field for p in caught.value.problems}
    assert all(p.line for p in caught.value.problems)


def test_an_unquoted_date_where_text_is_expected_is_a_policy_error(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    path = written(tmp_path, text.replace(title, "title: 2025-03-01", 1))
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    (problem,) = caught.value.problems
    assert problem.field == "title"
    assert problem.message.startswith("2025-03-01 is a date where text is expected")


@pytest.mark.parametrize(("old", "new", "field"), [
    ("\ncells:", "\ncells: 5\nunused:", "cells"),
    ("    required: [bill, eligibility]", "    required: 5", "columns.0.required"),
    ("when: {completed_on: {lt: {field: accepted_on}}}",
     "when: {completed_on: {lt: {field: [accepted_on]}}}", "checks.4.when.completed_on"),
])
def test_a_contract_value_of_the_wrong_type_is_a_policy_error(tmp_path: Path, old: str, new: str,
                                                              field: str) -> None:
    text = (RULESETS / "feed.contract.yaml").read_text(encoding="utf-8")
    assert old in text
    path = written(tmp_path, text.replace(old, new, 1), "feed.contract.yaml")
    with pytest.raises(itvrules.PolicyError) as caught:
        load_contract(path)
    assert field in {p.field for p in caught.value.problems}
    assert not repr_found(str(caught.value))


def test_a_case_naming_its_rule_by_a_list_is_a_policy_error(tmp_path: Path) -> None:
    text = (RULESETS / "itv-trial.cases.yaml").read_text(encoding="utf-8")
    cases = yaml.safe_load(text)
    rule = cases["cases"][0]["expect"]["rule"]
    path = written(tmp_path, text.replace(f"rule: {rule}", f"rule: [{rule}]", 1), "x.cases.yaml")
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_cases(path, itvrules.load_policy(POLICY))
    assert any("a rule id is text, not a list" in p.message for p in caught.value.problems)


def test_a_policy_that_is_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"format: 1\nid: itv\ntitle: \xff\n")
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "(encoding)")
    assert "byte 0xff is not UTF-8" in problem.message


@pytest.mark.parametrize("ref", ["2025-03-01", "5", "{a: 1}", "[2025-03-01]"])
def test_a_param_reference_that_is_not_a_name_is_a_policy_error(tmp_path: Path, ref: str) -> None:
    shipped = (ROOT / "rulesets" / "itv-trial.yaml").read_text(encoding="utf-8")
    text = shipped.replace("{lt: {param: campaign.first_day}}", f"{{lt: {{param: {ref}}}}}", 1)
    assert text != shipped
    with pytest.raises(itvrules.PolicyError, match="param"):
        itvrules.load_policy(written(tmp_path, text))
