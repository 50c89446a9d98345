"""What a Python repr looks like in text meant for people, for tests that read such text.

Human-facing output (command output, reject reasons, error messages, reports)
puts values into words: dates ISO, money ``35.00``, lists joined. These
patterns are the tell-tales of a value printed with Python's ``repr``.
"""

from __future__ import annotations

import re

#: ``datetime.date(2025, 4, 20)``, ``Decimal('35.00')``, ``FeeDecision(code=...``, ``['a']``, ``{'a': 1}``.
#: A bracket inside quotes (``got '['``, a YAML parser naming the character it found) is not one.
REPR = re.compile(r"datetime\.\w+\(|Decimal\(|\w+\(\w+=|(?<!')\[\'|(?<!')\{\'")


def repr_found(text: str) -> list[str]:
    """Each line of ``text`` holding a repr, for an assertion message that shows where."""
    return [line for line in text.splitlines() if REPR.search(line)]
