"""The limits that keep hostile input in bounded memory and time, as one documented table.

Every reader checks its input against a ``Limit`` before it builds anything
big, and a breach is one ``LimitExceeded`` naming the limit, the value found
and the environment variable that raises it. The table is data so the docs, the
error words and the tests read the same numbers.
"""

from __future__ import annotations

import os

import attrs

from ._errors import ItvRulesError
from ._words import quoted

_ENV_PREFIX = "ITVRULES_LIMIT_"


@attrs.frozen
class Limit:
    """One bound on input: its name, default, unit and what it protects against."""

    name: str
    default: int
    unit: str
    what: str

    @property
    def env(self) -> str:
        """The environment variable that overrides the default (a positive integer)."""
        return _ENV_PREFIX + self.name.upper()

    def value(self) -> int:
        """The limit in force: the environment's override, else the default."""
        raw = os.environ.get(self.env)
        if raw is None or not raw.strip():
            return self.default
        try:
            number = int(raw.strip().replace("_", ""))
        except ValueError:
            raise LimitSettingError(self, raw) from None
        if number <= 0:
            raise LimitSettingError(self, raw)
        return number

    def check(self, found: int, where: str) -> None:
        """Raise ``LimitExceeded`` when ``found`` is over the limit in force."""
        allowed = self.value()
        if found > allowed:
            raise LimitExceeded(self, found, allowed, where)


class LimitExceeded(ItvRulesError, ValueError):
    """An input is bigger or deeper than a limit allows; the words say how to raise it."""

    def __init__(self, limit: Limit, found: int, allowed: int, where: str) -> None:
        self.limit = limit
        self.found = found
        self.allowed = allowed
        self.where = where
        super().__init__(
            f"{where}: {limit.what} is over the limit {limit.name} "
            f"({found:,} {limit.unit} found, at most {allowed:,}); "
            f"raise it with {limit.env}=N if the input is genuine"
        )


class LimitSettingError(ItvRulesError, ValueError):
    """A limit's environment variable is not a positive integer."""

    def __init__(self, limit: Limit, raw: str) -> None:
        self.limit = limit
        super().__init__(f"{limit.env}: must be a positive integer (got {quoted(raw)})")


POLICY_FILE_BYTES = Limit(
    "policy_file_bytes", 4 * 1024 * 1024, "bytes",
    "the size of a policy, contract or case file")
YAML_NODES = Limit(
    "yaml_nodes", 200_000, "nodes",
    "the number of YAML nodes once aliases are expanded")
YAML_DEPTH = Limit(
    "yaml_depth", 64, "levels",
    "the nesting depth of a YAML document")
JSONL_LINE_BYTES = Limit(
    "jsonl_line_bytes", 1024 * 1024, "bytes",
    "the length of one JSONL line")
JSONL_DEPTH = Limit(
    "jsonl_depth", 32, "levels",
    "the nesting depth of one JSONL record")
FIELD_BYTES = Limit(
    "field_bytes", 128 * 1024, "bytes",
    "the size of one feed cell")
XLSX_ROWS = Limit(
    "xlsx_rows", 1_048_576, "rows",
    "the rows a sheet declares")
XLSX_COLUMNS = Limit(
    "xlsx_columns", 256, "columns",
    "the columns a sheet declares")
XLSX_UNPACKED_BYTES = Limit(
    "xlsx_unpacked_bytes", 2 * 1024 * 1024 * 1024, "bytes",
    "the unpacked size of a workbook")
XLSX_RATIO = Limit(
    "xlsx_ratio", 250, "times",
    "how far one part of a workbook unpacks from its packed size")
AS_OF_DAYS = Limit(
    "as_of_days", 400, "days",
    "how far a replay day (--as-of) lies past the later of today and the ledger's last event")

#: Every limit, in the order the docs list them.
LIMITS: tuple[Limit, ...] = (
    POLICY_FILE_BYTES, YAML_NODES, YAML_DEPTH, JSONL_LINE_BYTES, JSONL_DEPTH, FIELD_BYTES,
    XLSX_ROWS, XLSX_COLUMNS, XLSX_UNPACKED_BYTES, XLSX_RATIO, AS_OF_DAYS,
)
