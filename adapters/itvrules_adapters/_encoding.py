"""Which text encoding a feed is in, decided before a single row is read.

Order: a UTF-8 BOM means ``utf-8-sig``; a UTF-16 BOM ``utf-16`` (Excel's
"Unicode text"); else strict ``utf-8``; else ``gb18030`` (a superset of GBK,
what Chinese Excel writes); else the file is rejected with the byte offset at
which each encoding failed. GB18030 accepts almost any pair of high bytes, so
Big5 or Shift-JIS text decodes as GB18030 into nonsense: a guessed GB18030 is
believed when charset-normalizer counts it among the readings that make sense,
else the file is refused naming the encoding it looks like (the fix is
``--encoding`` with that name). ``errors="replace"`` is never used: it would
turn names into question marks without a word.

Every candidate is checked over the whole file with an incremental decoder, in
bounded chunks, before the first row is handed on. So a file that is UTF-8 in
its first megabyte and GB18030 further down is read as GB18030 from the start,
not half decoded and then abandoned with rows already decided. An unseekable
stream (standard input) is first spooled to a temporary file for that.
"""

from __future__ import annotations

import codecs
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import charset_normalizer

from itvrules import InputError

_log = logging.getLogger("itvrules.adapters.encoding")

CHUNK = 1 << 20
#: How many bytes the plausibility check of a guessed GB18030 looks at.
SNIFF_BYTES = 1 << 16
#: Read GBK and its older names as GB18030, which decodes all of them and more.
_GB_FAMILY = frozenset({"gbk", "gb2312", "cp936", "ms936", "euc_cn", "gb18030"})
#: Writing GBK loses characters (€, •, 䶮, 𠮷); these are what we write.
WRITE_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
#: What charset-normalizer may call a file that decodes as GB18030 and is one.
_GB_LIKE = _GB_FAMILY | {"ascii", "utf-8", "hz", "iso2022_jp_2"}
#: How the encodings a Chinese office meets by mistake are called in a message.
_LABELS = {"big5": "Big5", "cp950": "Big5", "big5hkscs": "Big5-HKSCS", "cp932": "Shift-JIS",
           "shift_jis": "Shift-JIS", "shift_jis_2004": "Shift-JIS", "euc_jp": "EUC-JP",
           "euc_kr": "EUC-KR", "cp949": "EUC-KR", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}


@contextmanager
def seekable(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """``stream`` itself when it can seek, else a temporary copy of it (deleted after)."""
    try:
        can_seek = stream.seekable()
    except (AttributeError, ValueError, OSError):
        can_seek = False
    if can_seek:
        yield stream
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(stream, spool, CHUNK)
        spool.seek(0)
        yield spool


def codec_name(encoding: str, *, field: str = "encoding") -> str:
    """The canonical codec name of ``encoding``; an unknown name is an InputError."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(field, encoding, "unknown text encoding") from None


def output_encoding(encoding: str | None, *, default: str = "utf-8-sig") -> str:
    """The encoding an export is written in: ``utf-8-sig`` unless ``gb18030``/``utf-8`` is asked."""
    if encoding is None:
        return default
    name = codec_name(encoding)
    if name not in WRITE_ENCODINGS:
        hint = " (GBK cannot encode €, • or rare name characters; use gb18030)" \
            if name in _GB_FAMILY else ""
        raise InputError("encoding", encoding,
                         f"exports are written in {', '.join(WRITE_ENCODINGS)}{hint}")
    return name


def detect_encoding(stream: IO[bytes], source: str, *, encoding: str | None = None) -> str:
    """The codec to read ``stream`` with; the stream is left where it started.

    ``encoding`` overrides the guess (GBK names read as GB18030), but the file is
    still checked so a wrong override fails with the offset instead of mangling.
    """
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    if not head:
        raise InputError("(file)", None, "the file is empty", source=source)
    if encoding is not None:
        name = codec_name(encoding)
        if name in _GB_FAMILY:
            name = "gb18030"
        elif name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        candidates = [name]
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    failures = []
    likely = None
    for name in candidates:
        problem = _first_problem(stream, name)
        stream.seek(start)
        if problem is None and encoding is None and name == "gb18030":
            likely = _likely_encoding(stream)
            stream.seek(start)
            if likely is not None:
                problem = "decodes, but into characters that make no sense"
        if problem is None:
            _log.debug("%s: read as %s", source, name)
            return name
        failures.append(f"{name} ({problem})")
    tried = f"cannot be read as {' or '.join(failures)}"
    if likely is not None:
        raise InputError("(file)", encoding, f"looks like {_LABELS.get(likely, likely)}; give "
                         f"--encoding {likely} ({tried})", source=source)
    raise InputError("(file)", encoding, f"{tried}; save it as UTF-8 or GB18030 or name its "
                     f"encoding (--encoding)", source=source)


def _first_problem(stream: IO[bytes], name: str) -> str | None:
    """Where decoding ``stream`` as ``name`` first fails, or None if it never does."""
    decoder = codecs.getincrementaldecoder(name)("strict")
    consumed = 0
    while True:
        chunk = stream.read(CHUNK)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return f"invalid bytes at offset {consumed - pending + exc.start}: {exc.reason}"
        if not chunk:
            return None
        consumed += len(chunk)


def _likely_encoding(stream: IO[bytes]) -> str | None:
    """The encoding charset-normalizer sees in the start of ``stream``, when GB18030 is not a
    reading that makes sense of it (short Chinese text can pass for Korean too: that is kept).

    The sample ends at a line break, so a character cut in two cannot sway the guess.
    """
    sample = stream.read(SNIFF_BYTES)
    if len(sample) == SNIFF_BYTES and b"\n" in sample:
        sample = sample[:sample.rindex(b"\n") + 1]
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None or any(codec_name(match.encoding) in _GB_LIKE for match in matches):
        return None  # GB18030 is among the readings that make sense: believe it
    return codec_name(best.encoding)
