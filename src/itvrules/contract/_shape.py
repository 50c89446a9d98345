"""The shape of a contract file as a JSON Schema: each value of the type its reader expects.

The reader checks what a contract means (a known type, a known field); this
schema checks first that each value is of the kind the reader reads (a list
of columns, a mapping of facts, text for a field name), so a value of the
wrong type is one problem naming its file, line and field, never a reader
that meets a number where it expected a list.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema

from .._errors import PolicyProblem
from ..policy._schema_words import schema_message
from ..policy._yaml_lines import LinedYaml

_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_OPERAND_REF = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "anyOf": [{"required": ["field"]}, {"required": ["param"]}],
    "properties": {"field": _TEXT, "param": _TEXT},
}
#: A value compared with: anything but a mapping (text, a number, a date, a list), or a
#: ``{field: NAME}`` / ``{param: NAME}`` reference.
_OPERAND = {"anyOf": [{"not": {"type": "object"}}, _OPERAND_REF]}
#: What a field is tested by: one operand, or a mapping of operators to operands.
_TESTS = {
    "anyOf": [_OPERAND, {"type": "object", "additionalProperties": _OPERAND}],
    "errorMessage": "{value} is not a test of a field: write a value, a list, {field: NAME}, "
                    "{param: NAME}, or operators mapped to those (lt: {field: accepted_on})",
}
_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "condition": {
            "type": "object",
            "properties": {
                "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
                "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
            },
            "additionalProperties": _TESTS,
        },
    },
    "type": "object",
    "properties": {
        "id": {"type": ["string", "number"]},
        "columns": {"type": "array", "items": {
            "type": "object",
            "properties": {"field": _TEXT, "header": _TEXT, "also": _TEXTS, "type": _TEXT,
                           "values": {"type": "object", "additionalProperties": _TEXT},
                           "required": _TEXTS},
        }},
        "cells": {"type": "object", "additionalProperties": _TEXT},
        "skip": {"type": "object", "properties": {"blank": {"type": "boolean"},
                                                  "total_markers": _TEXTS}},
        "facts": {"type": "object", "additionalProperties": {
            "type": "object",
            "properties": {"kind": _TEXT, "of": _TEXT, "parameter": _TEXT},
        }},
        "checks": {"type": "array", "items": {
            "type": "object",
            "properties": {"id": _TEXT, "scope": _TEXT, "clause": _TEXT, "text": _TEXT,
                           "field": _TEXT, "when": {"$ref": "#/$defs/condition"},
                           "message": _TEXT, "runs": _TEXTS},
        }},
    },
}


@cache
def _validator() -> Any:
    cls = jsonschema.validators.validator_for(_SCHEMA)
    cls.check_schema(_SCHEMA)
    return cls(_SCHEMA)


def shape_problems(source: str, lined: LinedYaml) -> list[PolicyProblem]:
    """Every value of the contract at ``source`` whose type its reader does not read."""
    problems = []
    for error in _validator().iter_errors(lined.data):
        worded = isinstance(error.schema, dict) and "errorMessage" in error.schema
        if error.validator in ("anyOf", "oneOf") and error.context and not worded:
            error = jsonschema.exceptions.best_match(error.context)  # the value that is wrong
        path = tuple(error.absolute_path)
        field = ".".join(str(p) for p in path) or "(file)"
        problems.append(PolicyProblem(source, lined.line(path), field, schema_message(error)))
    return problems

