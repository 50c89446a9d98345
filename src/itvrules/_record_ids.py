"""Record ids for whole columns: ``_pipeline.record_id``, a million rows at a time.

uuid5 is the SHA-1 of the namespace and the name, cut to 16 bytes with the
version and variant bits set. The SHA-1 state after the constant start of
every name (namespace, policy id, version) is computed once and copied for
each row; the version bits and the hex text are then set with numpy for the
whole column, which becomes an Arrow string array without a copy.

Hashing stays one Python call per row (about 0.4 µs: no library at hand has a
vectorised SHA-1), the slowest step of a Parquet bill run. So large columns go
to a helper process, a plain ``python -I -c`` child fed through pipes (no
``multiprocessing``: nothing re-imports the caller's ``__main__``, nothing
forks a threaded process), which hashes and formats one column while the
caller prepares the next: :meth:`RecordIds.submit` hands a column over and the
returned :class:`Pending` gives the ids. One column is in flight at a time, so
neither side can block the other on a full pipe. Small columns, or a helper
that cannot start or stops, are hashed in this process; the ids are the same.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa

from ._pipeline import RECORD_NAMESPACE

#: Columns shorter than this are hashed in this process only: a helper would not pay for itself.
HELPER_MIN_ROWS = 200_000
#: The two hex digits of every byte value, as one little-endian uint16.
_HEX = np.array([ord(f"{b:02x}"[0]) | ord(f"{b:02x}"[1]) << 8 for b in range(256)], dtype=np.uint16)
#: Where the five groups of hex digits go in the 36-character text: (from, to, at).
_GROUPS = ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24))

#: The helper: the SHA-1 start once, then (count, size, offsets, names) blocks, each answered
#: with count ids of 36 bytes; ``format_ids`` below is the same formatting.
_HELPER = r"""
import hashlib, sys
import numpy as np
read, out = sys.stdin.buffer.read, sys.stdout.buffer
HEX = np.array([ord(f"{b:02x}"[0]) | ord(f"{b:02x}"[1]) << 8 for b in range(256)], dtype=np.uint16)
base = hashlib.sha1(read(int.from_bytes(read(8), "little")))
while True:
    head = read(16)
    if len(head) < 16:
        break
    count, size = int.from_bytes(head[:8], "little"), int.from_bytes(head[8:], "little")
    bounds = memoryview(read(8 * (count + 1))).cast("q").tolist()
    names = memoryview(read(size))
    copy, digests = base.copy, bytearray()
    extend = digests.extend
    for i in range(count):
        digest = copy()
        digest.update(names[bounds[i]:bounds[i + 1]])
        extend(digest.digest())
    raw = np.frombuffer(bytes(digests), dtype=np.uint8).reshape(count, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = HEX[raw].view(np.uint8)
    text = np.empty((count, 36), dtype=np.uint8)
    text[:, [8, 13, 18, 23]] = ord("-")
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, at:at + stop - start] = hexed[:, start:stop]
    out.write(text.tobytes())
    out.flush()
"""


class Pending:
    """The ids of one submitted column: ready now, or being made by the helper."""

    def __init__(self, owner: RecordIds, names: pl.Series, ready: pa.Array | None) -> None:
        self._owner = owner
        self._names = names
        self._ready = ready

    def result(self) -> pa.Array:
        if self._ready is None:
            self._ready = self._owner._receive(self._names)
        return self._ready


class RecordIds:
    """The record ids of one policy; ``close()`` stops the helper process, if one was started."""

    def __init__(self, policy_id: str, policy_version: str, *, helper: bool = True) -> None:
        self._start = RECORD_NAMESPACE.bytes + "\x1f".join((policy_id, policy_version, "")).encode()
        self._base = hashlib.sha1(self._start)
        self._want_helper = helper
        self._helper: subprocess.Popen[bytes] | None = None
        self._in_flight: Pending | None = None

    def __enter__(self) -> RecordIds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            assert helper.stdin is not None and helper.stdout is not None
            helper.stdin.close()
            helper.stdout.close()
            helper.wait()

    def start(self) -> None:
        """Start the helper now rather than at the first large column (a child's peak memory
        counts its parent's size when it starts)."""
        self._helper_process()

    def column(self, accounts: pl.Series, tails: pl.Series) -> pa.Array:
        """The id of every row, named ``account + "\\x1f" + tail`` (tail: month, charge item, code)."""
        return self.submit(accounts, tails).result()

    def submit(self, accounts: pl.Series, tails: pl.Series) -> Pending:
        """Start on a column's ids; a column submitted earlier must have its result taken first."""
        if self._in_flight is not None:
            self._in_flight.result()
        names = pl.select(pl.concat_str(pl.lit(accounts), pl.lit(tails), separator="\x1f")
                          .cast(pl.Binary)).to_series()
        helper = self._helper_process() if len(names) >= HELPER_MIN_ROWS else None
        if helper is not None:
            try:
                self._send(helper, names)
                self._in_flight = Pending(self, names, None)
                return self._in_flight
            except OSError:  # the helper stopped: hash here from now on
                self._helper = None
        return Pending(self, names, format_ids(self._digests(names.to_list())))

    def _receive(self, names: pl.Series) -> pa.Array:
        self._in_flight = None
        helper = self._helper
        size = 36 * len(names)
        text = helper.stdout.read(size) if helper is not None and helper.stdout is not None else b""
        if len(text) != size:  # the helper stopped: hash this column here
            self._helper = None
            return format_ids(self._digests(names.to_list()))
        offsets = np.arange(0, size + 1, 36, dtype=np.int32)
        return pa.StringArray.from_buffers(len(names), pa.py_buffer(offsets), pa.py_buffer(text))

    def _digests(self, names: list[bytes]) -> bytes:
        copy = self._base.copy
        digests = bytearray()
        extend = digests.extend
        for name in names:
            digest = copy()
            digest.update(name)
            extend(digest.digest())
        return bytes(digests)

    def _helper_process(self) -> subprocess.Popen[bytes] | None:
        if self._helper is None and self._want_helper:
            self._want_helper = False  # one try per run
            try:
                self._helper = subprocess.Popen([sys.executable, "-I", "-c", _HELPER],
                                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                assert self._helper.stdin is not None
                _write(self._helper.stdin, len(self._start).to_bytes(8, "little"), self._start)
            except OSError:
                self._helper = None
        return self._helper

    @staticmethod
    def _send(helper: subprocess.Popen[bytes], names: pl.Series) -> None:
        array = names.to_arrow().cast(pa.large_binary())
        _validity, offsets, data = array.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int64)[array.offset:array.offset + len(array) + 1]
        first, last = int(bounds[0]), int(bounds[-1])
        body = memoryview(data)[first:last] if data is not None else b""
        assert helper.stdin is not None
        _write(helper.stdin, len(array).to_bytes(8, "little"), (last - first).to_bytes(8, "little"),
               (bounds - first).tobytes(), body)


def _write(stream: IO[bytes], *parts: bytes | memoryview) -> None:
    for part in parts:
        stream.write(part)
    stream.flush()


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
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))


__all__ = ["HELPER_MIN_ROWS", "Pending", "RecordIds", "format_ids"]
