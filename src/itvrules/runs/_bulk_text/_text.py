"""Python's notion of whitespace, spelled for polars, so bulk string checks agree with ``str.strip``.

Rust and Python disagree on a few characters (``\\x1c``-``\\x1f`` are
whitespace only to Python), so the bulk checks never use polars' own idea of
whitespace: they strip or match exactly the characters ``str.isspace`` names.
The list is written out (scanning every code point costs a tenth of a second
per run); a test holds it to ``str.isspace`` on the running Python.
"""

from __future__ import annotations


def char_class(chars: str) -> str:
    """The characters of ``chars`` as the body of a regex character class (Rust syntax)."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)
