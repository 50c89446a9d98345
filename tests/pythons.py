"""Which engines run on this Python: durable-rules does not import on 3.13.

Decided by the version, not by whether the import works: on 3.11 and 3.12 a missing
durable-rules must fail the durable tests, never quietly narrow them.
"""

from __future__ import annotations

import sys

DURABLE_RUNS = sys.version_info < (3, 13)
#: The engines a test may compare here; the compiled engine is always the reference.
ENGINES_HERE: tuple[str, ...] = ("compiled", "durable") if DURABLE_RUNS else ("compiled",)
