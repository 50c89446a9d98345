"""One exception hierarchy so callers can catch everything the library raises."""

from __future__ import annotations

from typing import Any

from ._words import quoted


class ItvRulesError(Exception):
    """Root of every error raised by itvrules."""


class PolicyError(ItvRulesError, ValueError):
    """A policy file is invalid.

    ``problems`` lists every problem found, each a ``PolicyProblem``, so an
    author fixes them all in one pass instead of one per run.
    """

    def __init__(self, message: str, problems: tuple[PolicyProblem, ...] = ()) -> None:
        self.problems = problems
        if problems:
            lines = "\n".join(f"  {p}" for p in problems)
            message = f"{message}\n{lines}"
        super().__init__(message)


class PolicyProblem:
    """One problem in a policy file: where it is, which field, what is wrong."""

    __slots__ = ("field", "line", "message", "source")

    def __init__(self, source: str, line: int | None, field: str, message: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.field}: {self.message}"

    def __repr__(self) -> str:
        return f"PolicyProblem({self.source!r}, {self.line!r}, {self.field!r}, {self.message!r})"


class InputError(ItvRulesError, ValueError):
    """A subscriber, enrolment, month or feed row cannot be decided.

    Carries the ``field`` and the bad ``value``; feed readers add ``source`` and
    ``row`` so a reject file can point at the input line.
    """

    #: True for errors whose message already names the value (the headers of a column error):
    #: the message then does not end in "(got ...)" as well.
    message_names_value = False

    def __init__(
        self,
        field: str,
        value: Any,
        problem: str,
        *,
        source: str | None = None,
        row: int | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        self.source = source
        self.row = row
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.source is not None:
            where = f"{self.source}"
            if self.row is not None:
                where += f", row {self.row}"
            where += ": "
        got = "" if self.value is None or self.message_names_value else f" (got {quoted(self.value)})"
        return f"{where}{self.field}: {self.problem}{got}"

    def at(self, source: str, row: int | None) -> InputError:
        """The same error located in a feed: ``source`` file and ``row`` number."""
        return type(self)(self.field, self.value, self.problem, source=source, row=row)


class EngineError(ItvRulesError):
    """An engine could not decide: a gap in a decision table or an engine fault."""


class UsageError(ItvRulesError, ValueError):
    """A call or command line that cannot work (both outputs on stdout, stdin twice, an unknown
    backend): the caller must change what it asks, not the data."""


class MissingExtra(ItvRulesError):
    """A feature needs an optional extra that is not installed.

    The core installs light; polars, xlsx and chart libraries come with extras, so the
    error names the extra to install instead of an import failure deep in a call.
    """

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs the {extra} extra: pip install 'itvrules[{extra}]'")


class EngineUnavailable(ItvRulesError):
    """An engine that cannot run on this Python (durable-rules does not import on 3.13)."""


__all__ = [
    "EngineError",
    "EngineUnavailable",
    "InputError",
    "ItvRulesError",
    "MissingExtra",
    "PolicyError",
    "PolicyProblem",
    "UsageError",
]
