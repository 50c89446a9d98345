"""Characters no human-facing text shows as they are: controls, line breaks, invisible marks.

A rejected value is written into the words of its reject; a line break there
splits a line of the rejects file, a right-to-left mark reverses what follows
and a zero-width space hides. Every path writes each such character as
``<U+000A>`` instead (``escaped``), and quotes a rejected text alike
(``quoted``), so the row path and Spark say the same words. The contract's
``account.control_character`` check rejects an account id holding any of
them; a test holds the two sets equal.
"""

from __future__ import annotations

import re

#: Unicode categories Cc (controls, line feed and tab included), Cf (format: zero-width
#: spaces, direction marks, the byte order mark, tag characters) and Zl, Zp (line and
#: paragraph separators), as a portable class (``policy._patterns``), fixed here rather than
#: read from one engine's Unicode tables, so every engine escapes the same characters.
UNSAFE_CLASS = (
    "[\\x00-\\x1f\\x7f-\\x9f\\xad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2"
    "\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
    "\\U000110bd\\U000110cd\\U00013430-\\U0001343f\\U0001bca0-\\U0001bca3\\U0001d173-\\U0001d17a"
    "\\U000e0001\\U000e0020-\\U000e007f]"
)
_UNSAFE = re.compile(UNSAFE_CLASS)


def escaped(text: str) -> str:
    """``text`` with each unsafe character written as ``<U+XXXX>`` (four hex digits or more)."""
    return _UNSAFE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text)


def quoted(text: str) -> str:
    """``text`` in quotes for a reject's words: unsafe characters escaped, then quoted as Python
    writes a string (single quotes, double when the text holds only single ones; a backslash
    doubled)."""
    body = escaped(text).replace("\\", "\\\\")
    if "'" in body and '"' not in body:
        return f'"{body}"'
    return "'" + body.replace("'", "\\'") + "'"
