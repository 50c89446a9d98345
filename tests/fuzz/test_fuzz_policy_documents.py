"""Fuzz the policy, contract and case files: every hostile document is read or refused cleanly.

Two kinds of input. (a) Type swaps: every value of the shipped files, one at a
time, replaced by a value of each other kind (a number, text, a list, a
mapping, deep nesting, huge text, a lone surrogate, a date...), then loaded,
linted, shown and explained through the library and the command line. (b)
Hypothesis-made documents: random bytes, the shipped files mutated with
hostile YAML (aliases, tags, brackets), other encodings, and alias bombs.

Every outcome is success or a PolicyError that names the file, a line and a
field (any other ItvRulesError for what follows a load); never another
exception, never a traceback from the command line, and a bomb is refused in
bounded memory. Under the ``ci`` and ``dev`` profiles the type swaps are a
fixed sample; ``ITVRULES_HYPOTHESIS_PROFILE=deep`` (``make fuzz``) tries them all.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import os
import re
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import itvrules
from itvrules.cli import main
from itvrules.contract import load_contract
from paths import ROOT
from words import repr_found

RULESETS = ROOT / "rulesets"
SHIPPED = {"policy": "itv-trial.yaml", "contract": "feed.contract.yaml", "cases": "itv-trial.cases.yaml"}
DEEP = os.environ.get("ITVRULES_HYPOTHESIS_PROFILE") == "deep"
#: Type-swapped documents tried per file outside the deep run (a fixed, evenly spread sample).
SAMPLE = {"policy": 60, "contract": 160, "cases": 40}
#: What reading one small hostile document may allocate at its peak.
PEAK_BOUND_MB = 64
SUBSCRIBER = '{"account_id": "A1", "plan": "e9-169", "product": "brand"}'


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


#: The value of each kind a node is swapped for.
KINDS: dict[str, Callable[[], Any]] = {
    "int": lambda: 7,
    "float": lambda: 2.5,
    "str": lambda: "x",
    "bool": lambda: True,
    "null": lambda: None,
    "list": lambda: [1, "a"],
    "dict": lambda: {"k": 1},
    "deep": lambda: _nested(200),
    "huge": lambda: "y" * 200_000,
    "surrogate": lambda: "a\udc80b",
    "date": lambda: date(2025, 3, 1),
}


class TextKeys(yaml.SafeLoader):
    """Reads a mapping's keys as written, as the library does (``on:`` is not ``true``)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        return {key.value if isinstance(key, yaml.ScalarNode) else self.construct_object(key):
                self.construct_object(value, deep=deep) for key, value in node.value}


def parsed(which: str) -> Any:
    return yaml.load((RULESETS / SHIPPED[which]).read_text(encoding="utf-8"), Loader=TextKeys)


def node_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path below the root of a parsed document, parents first."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from node_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from node_paths(item, (*path, index))


def swapped(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return out


def swaps(which: str) -> list[tuple[tuple[Any, ...], str]]:
    """Every (path, kind) of a shipped file; all under the deep run, else an even sample."""
    data = parsed(which)
    every = [(path, kind) for path in node_paths(data) for kind in KINDS]
    if DEEP:
        return every
    step = max(1, len(every) // SAMPLE[which])
    if step % len(KINDS) == 0:  # a stride of whole rows would try one kind only
        step += 1
    return every[::step]


def assert_names_file_line_and_field(error: itvrules.PolicyError, path: Path) -> None:
    """A load's PolicyError says which file, which line and which field, in words."""
    words = str(error)
    assert str(path) in words, words
    assert error.problems, words
    assert all(problem.source == str(path) and problem.field for problem in error.problems), words
    assert any(problem.line for problem in error.problems), words
    # A long word (a huge value echoed) is cut first: the repr patterns backtrack on it.
    assert not repr_found(re.sub(r"\w{100,}", "...", words)), words


def run_cli(argv: list[str]) -> tuple[int, str]:
    """The command line in this process: its status and stderr, which must hold no traceback."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    assert "Traceback" not in stderr.getvalue(), stderr.getvalue()
    assert status in (0, 1), (status, stderr.getvalue())
    return status, stderr.getvalue()


def exercise_policy(path: Path) -> None:
    """Load, lint, show and explain a policy through the library and the command line."""
    try:
        policy = itvrules.load_policy(path)
    except itvrules.PolicyError as error:
        assert_names_file_line_and_field(error, path)
        status, stderr = run_cli(["policy", "validate", str(path)])
        assert status == 1 and str(path) in stderr
        return
    policy.lint()
    for argv in (["policy", "validate", str(path)], ["policy", "lint", str(path)],
                 ["policy", "show", str(path)],
                 ["explain", "--policy", str(path), "--subscriber", SUBSCRIBER,
                  "--accepted-on", "2025-04-01"]):
        run_cli(argv)


def exercise_contract(path: Path) -> None:
    try:
        load_contract(path)
    except itvrules.PolicyError as error:
        assert_names_file_line_and_field(error, path)


@functools.cache
def shipped_policy() -> itvrules.Policy:
    """The shipped policy, which every case file is read against, loaded once."""
    return itvrules.load_policy(RULESETS / SHIPPED["policy"])


def exercise_cases(path: Path) -> None:
    policy = shipped_policy()
    try:
        cases = itvrules.load_cases(path, policy)
    except itvrules.PolicyError as error:
        assert_names_file_line_and_field(error, path)
        return
    with contextlib.suppress(itvrules.ItvRulesError):  # a case may name another policy
        itvrules.run_cases(policy, cases)


EXERCISE = {"policy": exercise_policy, "contract": exercise_contract, "cases": exercise_cases}


def document_name(which: str, number: int) -> str:
    return f"swap{number}" + {"policy": ".yaml", "contract": ".contract.yaml",
                              "cases": ".cases.yaml"}[which]


# -- (a) every value of the shipped files swapped for every other kind ------------------------
@pytest.mark.parametrize("which", list(SHIPPED))
def test_every_type_swap_of_a_shipped_file_loads_or_is_a_clear_policy_error(
        which: str, tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    data = parsed(which)
    chosen = swaps(which)
    assert chosen and {kind for _path, kind in chosen} == set(KINDS)
    for number, (node, kind) in enumerate(chosen):
        path = tmp_path / document_name(which, number)
        text = yaml.safe_dump(swapped(data, node, KINDS[kind]()), allow_unicode=True,
                              sort_keys=False)
        path.write_text(text, encoding="utf-8")
        try:
            EXERCISE[which](path)
        except AssertionError as failure:
            raise AssertionError(f"{which} with {'.'.join(map(str, node))} as {kind}: {failure}") \
                from None
    record_property("documents", len(chosen))


# -- (b) documents hypothesis makes ------------------------------------------------------------
def check_any_load(text: bytes, folder: Path) -> None:
    """Read ``text`` as each kind of file: success or an ItvRulesError, never anything else."""
    for which in SHIPPED:
        path = folder / document_name(which, 0)
        path.write_bytes(text)
        try:
            if which == "policy":
                itvrules.load_policy(path).lint()
            elif which == "contract":
                load_contract(path)
            else:
                itvrules.load_cases(path, shipped_policy())
        except itvrules.PolicyError as error:
            assert str(path) in str(error)
            assert not repr_found(re.sub(r"\w{100,}", "...", str(error))), str(error)
        except itvrules.ItvRulesError:
            pass


def peak_mb(action: Callable[[], None]) -> float:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


HOSTILE_SNIPPETS = [
    "&a ", "*a", "*b", "<<: *a\n", "!!python/object/apply:os.system ", "!!binary ", "!!set ",
    "!custom ", "!<tag:example.com,2000:x> ", "[" * 70, "{" * 70, "]", "}", "\"\\udc80\"",
    "\"\\ud800x\"", "\t", ": ", "- ", "? ", "---\n", "...\n", "%YAML 1.1\n", "\x00", "\ufeff",
    "2025-02-30", "1e999", "0x" + "f" * 40, "9" * 5000, "~", "\n  ", "'", "\"", "#", "|\n",
]


@st.composite
def mutated(draw: st.DrawFn, which: str) -> bytes:
    """A shipped file with a few hostile snippets (or random text) put in, replacing a span."""
    text = (RULESETS / SHIPPED[which]).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 40))
        snippet = draw(st.sampled_from(HOSTILE_SNIPPETS) | st.text(max_size=30))
        text = text[:at] + snippet + text[at + cut:]
    return text.encode("utf-8", "surrogatepass")


def yaml_tree() -> st.SearchStrategy[str]:
    """Flow-style YAML with anchors, aliases to them, any tag, and nesting."""
    tags = st.sampled_from(["", "!!str ", "!!int ", "!!map ", "!!seq ", "!!python/tuple ",
                            "!!python/object/apply:os.system ", "!x ", "!!timestamp ", "!!binary "])
    scalar = st.one_of(st.sampled_from(["a", "1", "2025-03-01", "true", "null", "'q'", "\"\\ud800\"",
                                        "*a0", "*a1", "*a2"]), st.from_regex(r"[a-z0-9]{1,8}",
                                                                             fullmatch=True))

    def anchored(node: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(st.sampled_from(["", "&a0 ", "&a1 ", "&a2 "]), tags, node).map("".join)

    return st.recursive(
        anchored(scalar),
        lambda inner: anchored(st.one_of(
            st.lists(inner, max_size=6).map(lambda items: "[" + ", ".join(items) + "]"),
            st.lists(st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), inner), max_size=6)
              .map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"))),
        max_leaves=40)


def fuzz(slow_max: int | None = None) -> settings:
    """The profile's settings; a slow test tries at most ``slow_max`` inputs outside the deep run."""
    fewer = {} if slow_max is None or DEEP else \
        {"max_examples": min(slow_max, settings.default.max_examples)}
    return settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow], **fewer)


@fuzz()
@given(text=st.binary(max_size=3000))
def test_random_bytes_load_or_are_refused_cleanly(text: bytes, tmp_path: Path) -> None:
    check_any_load(text, tmp_path)


@fuzz(slow_max=50)
@given(data=st.data())
def test_shipped_files_with_hostile_yaml_put_in_load_or_are_refused_cleanly(
        data: st.DataObject, tmp_path: Path) -> None:
    which = data.draw(st.sampled_from(list(SHIPPED)))
    text = data.draw(mutated(which))
    path = tmp_path / document_name(which, 0)
    path.write_bytes(text)
    try:
        if which == "policy":
            exercise_policy(path)
        else:
            EXERCISE[which](path)
    except itvrules.PolicyError as error:  # a case file's policy could not be found or read
        assert which == "cases" and str(path) in str(error)


@fuzz()
@given(tree=yaml_tree())
def test_generated_yaml_with_aliases_tags_and_nesting_is_read_or_refused_cleanly(
        tree: str, tmp_path: Path) -> None:
    document = f"title: {tree}\n".encode("utf-8", "surrogatepass")
    assert peak_mb(lambda: check_any_load(document, tmp_path)) < PEAK_BOUND_MB


@fuzz()
@given(encoding=st.sampled_from(["utf-16", "utf-16-be", "utf-32", "gb18030", "latin-1", "cp1252",
                                 "utf-8-sig", "shift_jis", "big5"]),
       which=st.sampled_from(list(SHIPPED)))
def test_a_shipped_file_in_another_encoding_loads_or_is_refused_cleanly(
        encoding: str, which: str, tmp_path: Path) -> None:
    text = (RULESETS / SHIPPED[which]).read_text(encoding="utf-8")
    check_any_load(text.encode(encoding, "replace"), tmp_path)


@fuzz(slow_max=60)
@given(levels=st.integers(2, 30), fan_out=st.integers(2, 40), merge=st.booleans(),
       where=st.sampled_from(list(SHIPPED)))
def test_an_alias_bomb_of_any_shape_is_refused_in_bounded_memory(
        levels: int, fan_out: int, merge: bool, where: str, tmp_path: Path) -> None:
    if merge:  # merge keys: each level a mapping merging the one below under fan_out keys
        lines = ["l0: &l0 {a: lol, b: lol}"] + [
            f"l{n}: &l{n} {{{', '.join(f'k{i}: {{<<: *l{n - 1}}}' for i in range(fan_out))}}}"
            for n in range(1, levels)]
    else:
        lines = [f"l0: &l0 [{', '.join(['lol'] * fan_out)}]"] + [
            f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * fan_out)}]" for n in range(1, levels)]
    text = ("\n".join(lines) + "\n").encode("utf-8")
    assert peak_mb(lambda: check_any_load(text, tmp_path)) < PEAK_BOUND_MB


def test_the_type_swaps_cover_every_node_of_the_shipped_files() -> None:
    for which in SHIPPED:
        data = parsed(which)
        paths = list(node_paths(data))
        assert len(paths) == len(set(paths)) > 50
        if DEEP:
            assert len(swaps(which)) == len(paths) * len(KINDS)
        else:
            assert 0 < len(swaps(which)) <= 2 * SAMPLE[which]
