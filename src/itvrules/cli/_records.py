"""Feed rows as model records, read exactly as ``bill`` and ``eligibility`` read them.

``ingest``, ``explain`` and ``policy diff --feed`` must see the same
enrolments a bill sees: the same header aliases, cell parsing, one trial per
account, package names mapped to codes and plug-in row checks. So they do not
read feeds themselves: they take the pipeline's run object and use its
reading half only (its rejects spool and counters), and write its rejects
with its rejects writer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..runs._rows import BILL
from ._common import UsageError, stdout_bytes

if TYPE_CHECKING:
    from .._errors import InputError
    from ..hookspecs import RawRow
    from ..policy._policy import Policy
    from ..runs._pipeline import _Run
    from ..runs._rows import HeaderMap


class FeedRecords:
    """The accepted records of some feeds; rejected rows are kept for a rejects file.

    ``target`` is where the rejects go (``None``: nowhere, the caller needs only
    the records). Iterate ``records`` once.
    """

    def __init__(self, policy: Policy, feeds: Sequence[str], *, kind: str = BILL,
                 target: str | None = None, in_format: str | None = None,
                 encoding: str | None = None, out_format: str | None = None,
                 out_encoding: str | None = None,
                 engine: str | None = None, progress: Callable[[int], None] | None = None,
                 watch: Callable[[RawRow, InputError], None] | None = None,
                 columns: Mapping[str, str] | None = None) -> None:
        from .._errors import InputError
        from ..runs._pipeline import _Run

        self.target = target
        self.out_encoding = out_encoding
        # The run's "output" is where its rejects go; os.devnull (as CSV) when they go nowhere.
        output = target if target is not None else os.devnull
        try:
            self._run: _Run = _Run(kind, policy, feeds, output, None, engine, in_format,
                                   "csv" if target is None else out_format, encoding, out_encoding,
                                   None, progress, getattr(sys.stdin, "buffer", None),
                                   getattr(sys.stdout, "buffer", None), columns=columns)
        except InputError as exc:
            if exc.field == "format":  # a file name no format claims, an unknown --format
                raise UsageError(str(exc)) from exc
            raise
        if watch is not None:  # see each rejected row as it is rejected, e.g. to explain it
            keep = self._run.reject

            def reject(raw: RawRow, error: InputError, columns: Any = None) -> None:
                watch(raw, error)
                keep(raw, error, columns)

            self._run.reject = reject  # type: ignore[method-assign]

    def records(self) -> Iterator[tuple[RawRow, Any]]:
        """(raw row, Enrollment or (Subscriber, accepted_on)) for every row that reads."""
        from ..runs._pipeline import _SourceFailed

        try:
            yield from self._run.accepted()
        except _SourceFailed as failed:
            raise failed.error from None

    def reject(self, raw: RawRow, error: InputError) -> None:
        """Send a row read well but refused later (say, by the lifecycle) to the rejects."""
        self._run.spool.note_columns(raw)
        self._run.reject(raw, error)

    @property
    def rows_in(self) -> int:
        return self._run.rows_in

    @property
    def rejected(self) -> int:
        return self._run.spool.count

    @property
    def skipped(self) -> int:
        """Blank rows and total rows: read and counted, not records."""
        return self._run.skipped

    @property
    def headers(self) -> tuple[HeaderMap, ...]:
        """How each source's headers were mapped (field ← header), for the person running it."""
        return self._run.reader.header_maps()

    def write_rejects(self, *, always: bool = False) -> str | None:
        """Write the rejects file (when there are rejects, or ``always``); where it went."""
        from ..runs._files import open_target

        run = self._run
        if self.target is None or not (run.spool.count or always):
            return None
        with open_target(self.target, stdout_bytes()) as stream:
            run.spool.write_to(run.writer, stream, self.out_encoding)
        return self.target

    def close(self) -> None:
        self._run.spool.__exit__(None, None, None)

    def __enter__(self) -> FeedRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
