"""docs/adapters.md documents every hook and every capability in hookspecs.py, each in its own section
(as datasette does)."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from itvrules import hookspecs
from paths import ROOT

DOC = ROOT / "docs" / "adapters.md"
HEADING = re.compile(r"^### `(itvrules_\w+)`\s*$", re.MULTILINE)
CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)

HOOKS = sorted(name for name, value in vars(hookspecs).items()
               if name.startswith("itvrules_") and hasattr(value, f"{hookspecs.PROJECT}_spec"))


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    marks = list(HEADING.finditer(text))
    found = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else text.find("\n## ", mark.end())
        found[mark.group(1)] = text[mark.end(): end if end != -1 else len(text)]
    return found


def test_the_hooks_are_found() -> None:
    assert "itvrules_feed_readers" in HOOKS and "itvrules_billing_cycle" in HOOKS
    assert len(HOOKS) == 6


def test_every_documented_hook_exists() -> None:
    assert sorted(sections()) == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_has_a_section_with_signature_and_a_working_example(hook: str) -> None:
    section = sections().get(hook)
    assert section is not None, f"docs/adapters.md has no '### `{hook}`' section"
    parameters = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    signature = re.search(rf"^def {hook}\(.*$", section, re.MULTILINE)
    assert signature is not None, f"the {hook} section shows no signature"
    (shown,) = ast.parse(signature.group(0) + ": ...").body
    assert isinstance(shown, ast.FunctionDef)
    assert [a.arg for a in shown.args.args] == parameters
    for word in ("**When:**", "**Arguments:**", "**Return:**", "**Example:**"):
        assert word in section, f"the {hook} section has no {word}"
    examples = CODE.findall(section)
    assert len(examples) >= 2  # the signature and an example
    example = examples[-1]
    assert "@hookimpl" in example and f"def {hook}(" in example
    namespace: dict[str, object] = {}
    exec(compile(example, f"{hook} example", "exec"), namespace)
    assert callable(namespace[hook])


# -- capabilities ------------------------------------------------------------------------------------

CAPABILITY_HEADING = re.compile(r"^### `([A-Z]\w+)`\s*$", re.MULTILINE)
CAPABILITIES = sorted(c.__name__ for c in hookspecs.CAPABILITIES)


def capability_sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    marks = list(CAPABILITY_HEADING.finditer(text))
    found = {}
    for mark in marks:
        ends = [e for e in (text.find("\n### ", mark.end()), text.find("\n## ", mark.end())) if e != -1]
        found[mark.group(1)] = text[mark.end(): min(ends) if ends else len(text)]
    return found


def test_the_capabilities_are_found() -> None:
    assert "TextBatchReader" in CAPABILITIES and "ArrowTableWriter" in CAPABILITIES
    assert len(CAPABILITIES) == 6


@pytest.mark.parametrize("name", CAPABILITIES)
def test_each_capability_is_a_runtime_protocol_with_a_docstring(name: str) -> None:
    capability = getattr(hookspecs, name)
    assert getattr(capability, "_is_runtime_protocol", False), f"{name} is not runtime_checkable"
    doc = inspect.getdoc(capability) or ""
    assert "Capability of a" in doc and "Declared by" in doc, f"{name}'s docstring says not how to declare it"


@pytest.mark.parametrize("name", CAPABILITIES)
def test_each_capability_has_a_section_with_its_declaration(name: str) -> None:
    section = capability_sections().get(name)
    assert section is not None, f"docs/adapters.md has no '### `{name}`' section"
    for word in ("**What it says:**", "**Built-in:**"):
        assert word in section, f"the {name} section has no {word}"
    (shown,) = CODE.findall(section)[:1]
    members = [m for m in vars(getattr(hookspecs, name)) if not m.startswith("_")]
    members += list(getattr(getattr(hookspecs, name), "__annotations__", {}))
    assert any(re.search(rf"\b{member}\b", shown) for member in members), \
        f"the {name} section does not show its method or attribute"


def test_every_documented_capability_exists() -> None:
    assert sorted(capability_sections()) == CAPABILITIES
