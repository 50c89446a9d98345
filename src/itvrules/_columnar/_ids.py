"""Record ids in bulk: the same uuid5 as ``_pipeline.record_id``, without a UUID object per row.

``uuid5(namespace, name)`` is the SHA-1 of the namespace's bytes and the
UTF-8 name, cut to 16 bytes with the version and variant bits set, in hex
with dashes. The hash of the constant start (namespace, policy id and
version) is computed once and copied for each row; the bits and the hex are
set with numpy for the whole batch at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import polars as pl

from .._pipeline import RECORD_NAMESPACE

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: Where numpy.insert puts the four dashes, as indexes into the 32 hex digits.
_DASHES_AT = [8, 12, 16, 20]


class RecordIds:
    """uuid5 record ids for one policy: ``name`` is policy id, version, account, month, item, code."""

    def __init__(self, policy_id: str, policy_version: str) -> None:
        start = "\x1f".join((policy_id, policy_version, ""))
        self._base = hashlib.sha1(RECORD_NAMESPACE.bytes + start.encode("utf-8"))

    def ids(self, tails: Sequence[bytes]) -> pl.Series:
        """The ids for names ``start + tail`` (``tail``: account, month, item and code, UTF-8)."""
        copy = self._base.copy
        digests: list[bytes] = []
        append = digests.append
        for tail in tails:
            digest = copy()
            digest.update(tail)
            append(digest.digest())
        return format_ids(digests)


def format_ids(digests: list[bytes]) -> pl.Series:
    """SHA-1 digests as uuid5 text: version 5, RFC 4122 variant, 8-4-4-4-12 lower-case hex."""
    if not digests:
        return pl.Series([], dtype=pl.String)
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.empty((raw.shape[0], 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    text = np.insert(hexed, _DASHES_AT, ord("-"), axis=1)
    return pl.Series(text.view("S36").ravel()).cast(pl.String)
