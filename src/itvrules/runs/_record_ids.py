"""Record ids for whole columns: ``_run_common.record_id``, a million rows at a time.

uuid5 is the SHA-1 of the namespace's bytes and the UTF-8 name, cut to 16
bytes with the version and variant bits set. Python's hashlib costs about
0.5 µs a row (one call per row, no vectorised SHA-1 in it), the slowest step
of a Parquet bill run. DuckDB's ``sha1`` hashes a whole column for about a
third of that and lets go of the GIL, so a column is hashed on a background
thread while the caller checks and decides the next batch. The 40 hex digits
it returns become uuid text with numpy (version digit, variant digit, dashes)
with no Python object per row. Small columns, and callers that ask for it,
are hashed with hashlib in this thread; the ids are the same, and a test
holds both to ``_run_common.record_id``.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ._common import RECORD_NAMESPACE

#: Columns shorter than this are hashed with hashlib here: a query would not pay for itself.
BACKGROUND_MIN_ROWS = 4096
#: The two hex digits of every byte value, as one little-endian uint16.
_HEX = np.array([ord(f"{b:02x}"[0]) | ord(f"{b:02x}"[1]) << 8 for b in range(256)], dtype=np.uint16)
#: Where the five groups of 32 hex digits go in the 36-character text: (from, to, at).
_GROUPS = ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24))
#: A hex digit's character -> the variant digit's character ((value & 3) | 8: 8, 9, a or b).
_VARIANT = np.zeros(256, dtype=np.uint8)
for _digit in "0123456789abcdef":
    _VARIANT[ord(_digit)] = ord("0123456789abcdef"[(int(_digit, 16) & 3) | 8])
_SEPARATOR = "\x1f"


class Pending:
    """The ids of one submitted column: ready now, or being hashed on the background thread."""

    def __init__(self, ready: pa.Array | None = None, future: Future[pa.Array] | None = None) -> None:
        self._ready = ready
        self._future = future

    def result(self) -> pa.Array:
        if self._ready is None:
            assert self._future is not None
            self._ready = self._future.result()
        return self._ready


class RecordIds:
    """The record ids of one policy; ``close()`` stops the background thread, if one was started.

    ``background=False`` hashes every column with hashlib in the calling thread.
    """

    def __init__(self, policy_id: str, policy_version: str, *, background: bool = True) -> None:
        self._start = RECORD_NAMESPACE.bytes + _SEPARATOR.join((policy_id, policy_version, "")).encode()
        self._base = hashlib.sha1(self._start)
        self._background = background
        self._worker: ThreadPoolExecutor | None = None
        self._connection: Any = None

    def __enter__(self) -> RecordIds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True)
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def column(self, accounts: pl.Series, tails: pl.Series) -> pa.Array:
        """The id of every row, named ``account + "\\x1f" + tail`` (tail: ``_common.record_tail``)."""
        return self.submit(accounts, tails).result()

    def submit(self, accounts: pl.Series, tails: pl.Series) -> Pending:
        """Start on a column's ids; the returned ``Pending`` gives them."""
        return self.submit_names(pl.select(pl.concat_str(pl.lit(accounts), pl.lit(tails),
                                                         separator=_SEPARATOR)).to_series())

    def submit_names(self, names: pl.Series) -> Pending:
        """Start on the ids of ``names``: account, month and charge item joined by ``\x1f``."""
        names = names.cast(pl.Binary)
        if not self._background or len(names) < BACKGROUND_MIN_ROWS:
            return Pending(ready=format_ids(self._digests(names.to_list())))
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="itvrules-record-ids")
        return Pending(future=self._worker.submit(self._hash_column, names))

    def _digests(self, names: list[bytes]) -> bytes:
        copy = self._base.copy
        digests = bytearray()
        extend = digests.extend
        for name in names:
            digest = copy()
            digest.update(name)
            extend(digest.digest())
        return bytes(digests)

    def _hash_column(self, names: pl.Series) -> pa.Array:
        """On the background thread: DuckDB's sha1 over the column, as uuid text."""
        if self._connection is None:
            import duckdb

            threads = max(1, (os.cpu_count() or 2) - 1)  # one core stays with the caller
            self._connection = duckdb.connect(config={"threads": threads})
        table = pa.table({"name": names.to_arrow(compat_level=pl.CompatLevel.newest())})  # no copy
        self._connection.register("itvrules_names", table)
        try:
            hexed = self._connection.sql(
                f"SELECT sha1(unhex('{self._start.hex()}') || name) AS h FROM itvrules_names"
            ).to_arrow_table().column(0)
        finally:
            self._connection.unregister("itvrules_names")
        return hex_ids(hexed.combine_chunks())


def hex_ids(hexed: pa.Array) -> pa.Array:
    """SHA-1 digests as 40 hex digits each as uuid5 text (8-4-4-4-12 lower-case hex)."""
    hexed = hexed.cast(pa.string())
    count = len(hexed)
    if count == 0:
        return pa.array([], type=pa.string())
    _validity, offsets, data = hexed.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[hexed.offset:hexed.offset + count + 1]
    first = int(bounds[0])
    if data is None or int(bounds[-1]) - first != 40 * count or hexed.null_count:
        raise RuntimeError("sha1 did not return 40 hex digits for every name")
    digits = np.frombuffer(data, dtype=np.uint8, count=40 * count, offset=first).reshape(count, 40)
    text = np.empty((count, 36), dtype=np.uint8)
    text[:, [8, 13, 18, 23]] = ord("-")
    for start, stop, at in _GROUPS:
        text[:, at:at + stop - start] = digits[:, start:stop]
    text[:, 14] = ord("5")  # version 5
    text[:, 19] = _VARIANT[digits[:, 16]]  # RFC 4122 variant
    return _as_strings(text)


def format_ids(digests: bytes) -> pa.Array:
    """SHA-1 digests, back to back, as uuid5 text (8-4-4-4-12 lower-case hex)."""
    count = len(digests) // 20
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(count, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = _HEX[raw].view(np.uint8)  # (count, 32)
    text = np.empty((count, 36), dtype=np.uint8)
    text[:, [8, 13, 18, 23]] = ord("-")
    for start, stop, at in _GROUPS:
        text[:, at:at + stop - start] = hexed[:, start:stop]
    return _as_strings(text)


def _as_strings(text: np.ndarray) -> pa.Array:
    """Rows of 36 ASCII bytes as an Arrow string array, without a copy."""
    count = text.shape[0]
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))


__all__ = ["BACKGROUND_MIN_ROWS", "Pending", "RecordIds", "format_ids", "hex_ids"]
