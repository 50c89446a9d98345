"""A JSON Schema error about a policy file, in words an author of YAML reads.

jsonschema writes its messages with Python's ``repr``: ``[3] is not of type
'integer'`` reads fine, but ``{'a': 1}`` and ``'x' is not one of ['a', 'b']``
are Python. Values here are written as YAML writes them (``{a: 1}``,
``[a, b]``; text alone in quotes, so a blank shows) and types by what they
mean (``a whole number``, ``true or false``). A schema definition may word its
own message (``errorMessage``, with ``{value}`` in JSON).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from .._words import plain

#: JSON Schema type names in the words of a policy author.
TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


def schema_message(error: jsonschema.ValidationError) -> str:
    """The message of one schema error; for ``oneOf``/``anyOf`` the alternative that fits best."""
    worded_here = isinstance(error.schema, dict) and "errorMessage" in error.schema
    if error.validator in ("oneOf", "anyOf") and error.context and not worded_here:
        error = jsonschema.exceptions.best_match(error.context)
    # A definition may word its own message (``errorMessage``), for values an author often gets
    # wrong: the value is shown as written, in JSON (so ``"1"``, text, differs from ``1``).
    worded = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(worded, str):
        return worded.replace("{value}", _shortened(json.dumps(error.instance, ensure_ascii=False,
                                                               default=str)))
    found = _shortened(yaml_words(error.instance, top=True))
    expected: Any = error.validator_value
    if error.validator == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        return f"{found} is not {' or '.join(TYPE_WORDS.get(k, k) for k in kinds)}"
    if error.validator == "enum":
        return f"{found} is not one of: {', '.join(yaml_words(v) for v in expected)}"
    if error.validator == "const":
        return f"{found} must be {yaml_words(expected)}"
    if error.validator in ("minItems", "maxItems"):
        bound = "at least" if error.validator == "minItems" else "at most"
        return f"{found} needs {bound} {expected} item(s)"
    message = str(error.message)
    if isinstance(error.instance, (list, dict)):
        message = message.replace(repr(error.instance), found)
    if isinstance(expected, (list, dict)):
        message = message.replace(repr(expected), yaml_words(expected))
    return message


def yaml_words(value: Any, *, top: bool = False) -> str:
    """``value`` as YAML's flow style writes it: ``[3]``, ``{a: 1}``, ``true``; text quoted when ``top``."""
    if isinstance(value, str):
        return repr(value) if top else value
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {yaml_words(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_words(v) for v in value) + "]"
    return plain(value)


#: How much of a value a message shows: enough to find it, not a 200 KB line.
_SHOWN = 120


def _shortened(words: str) -> str:
    """``words``, cut to their first ``_SHOWN`` characters with how many more there were."""
    if len(words) <= _SHOWN:
        return words
    return f"{words[:_SHOWN]}... ({len(words) - _SHOWN:,} more characters)"
