"""Find the files shipped with the package: the default policy and the JSON Schema.

An installed wheel carries them in ``itvrules/rulesets``; a source checkout
keeps them in the top-level ``rulesets/`` folder.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_POLICY = "itv-trial.yaml"
SCHEMA = "policy.schema.json"


def rulesets_dir() -> Path:
    """The folder holding the shipped policy files."""
    here = Path(__file__).resolve().parent.parent  # the itvrules package
    for candidate in (here / "rulesets", here.parent.parent / "rulesets"):
        if (candidate / DEFAULT_POLICY).is_file():
            return candidate
    raise FileNotFoundError("the shipped rulesets folder is missing from this installation")


def default_policy_path() -> Path:
    return rulesets_dir() / DEFAULT_POLICY


def schema_path() -> Path:
    return rulesets_dir() / SCHEMA
