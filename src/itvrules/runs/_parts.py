"""Outputs written whole or not at all, even when a run is stopped or killed.

An output ``NAME`` is written to a hidden part file beside it,
``.NAME.HOST-PID-RANDOM.part`` (HOST a short hash of the machine's name, PID
the writing process), flushed to the disk (fsync) and renamed onto ``NAME``;
on POSIX the folder is flushed too, so the rename survives a crash right
after the run reports success. A run that stops (an error, Ctrl-C, or SIGTERM
and SIGHUP, which the command line turns into the same interruption) removes
its part file. A killed run (``kill -9``, a power cut) cannot, so writing an
output first removes the part files of that same output left by writers that
are gone: written on this machine by a process that no longer runs. The part
file of a run still writing the same output (another process, now) is left
alone, and so is any file not named like a part file of this output.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import IO

#: This machine, in the names of the part files it writes (a folder may be shared).
HOST = hashlib.sha1(socket.gethostname().encode("utf-8")).hexdigest()[:6]
#: The part files this process is writing now; a part file of this pid not in here is stale
#: (a killed process whose pid this one was given again, as happens in containers).
_WRITING: set[str] = set()
#: Errors of a write that names no file: the disk (or the person's quota) is full.
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def part_path(path: str, suffix: str = "") -> str:
    """A new hidden part file beside ``path``, named for this output, machine and process.

    ``suffix`` is kept at the end for writers that pick a format by extension.
    """
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}.part{suffix}")


def _pattern(name: str) -> re.Pattern[str]:
    """Part files of the output ``name``: host, pid and the extension a writer may add."""
    return re.compile(rf"\.{re.escape(name)}\.([0-9a-f]{{6}})-([0-9]+)-[0-9a-f]{{8}}\.part(\.[^.]*)?")


def stale_parts(path: str) -> list[str]:
    """The part files of output ``path`` whose writer is gone (see the module's docstring)."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = _pattern(name)
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for entry in entries:
        matched = pattern.fullmatch(entry)
        if matched is None or matched.group(1) != HOST:
            continue
        part = os.path.join(folder, entry)
        pid = int(matched.group(2))
        if pid == os.getpid():
            if part not in _WRITING:
                stale.append(part)
        elif not process_alive(pid):
            stale.append(part)
    return sorted(stale)


def remove_stale_parts(path: str) -> list[str]:
    """Remove the stale part files of output ``path``; the ones removed."""
    removed = []
    for part in stale_parts(path):
        try:
            os.unlink(part)
        except OSError:
            continue  # gone already, or not ours to remove: it is not this run's output
        removed.append(part)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (when in doubt, it does)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, and belongs to someone else
    return True


if sys.platform == "win32":  # pragma: no cover - tested on Windows only
    def _windows_process_alive(pid: int) -> bool:
        import ctypes

        kernel = ctypes.windll.kernel32
        handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel.GetLastError() == 5)  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            if not kernel.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel.CloseHandle(handle)


@contextmanager
def part_stream(path: str) -> Iterator[IO[bytes]]:
    """A binary stream whose bytes become ``path`` when the block ends without error.

    Any failure names ``path``, never the part file, so the person sees the file they named.
    """
    with _part(path, "") as part, open(part, "xb") as stream:  # "x": never clobber
        yield stream
        stream.flush()
        os.fsync(stream.fileno())


def write_through_part(path: str, write: Callable[[str], None]) -> None:
    """``write(part)`` for a writer that needs a file name; its file becomes ``path`` when whole."""
    with _part(path, os.path.splitext(path)[1]) as part:
        write(part)
        with open(part, "rb+") as written:  # writable: Windows flushes only a handle it may write
            os.fsync(written.fileno())


@contextmanager
def _part(path: str, suffix: str) -> Iterator[str]:
    """A part file's name; renamed onto ``path`` on success, removed otherwise."""
    remove_stale_parts(path)
    part = part_path(path, suffix)
    _WRITING.add(part)
    try:
        try:
            yield part
            os.replace(part, path)
        except Exception as exc:
            located = _at(exc, part, path)
            if located is None:
                raise
            raise located from exc
        sync_folder(os.path.dirname(os.path.abspath(path)))
    finally:
        _WRITING.discard(part)
        with suppress(OSError):  # never hide why the run stopped behind a failed clean-up
            os.unlink(part)


def _at(exc: Exception, part: str, path: str) -> OSError | None:
    """``exc`` as an ``OSError`` naming ``path`` when it is about the part file; None otherwise.

    About the part file: an ``OSError`` naming it (or naming no file: a write
    that found the disk full), or an error a writer library raised while
    handling one that names it (xlsxwriter wraps its ``OSError``). An error
    about another file (an input) keeps its own name.
    """
    if isinstance(exc, OSError):
        if part in (exc.filename, exc.filename2) or path in (exc.filename, exc.filename2):
            return _renamed(exc, path)
        if exc.filename is None and exc.errno in _DISK_FULL:
            return _renamed(exc, path)
        return None
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, OSError) and part in (cause.filename, cause.filename2):
            return _renamed(cause, path)
        cause = cause.__cause__ or cause.__context__
    return None


def _renamed(exc: OSError, path: str) -> OSError:
    if exc.errno is None:
        return OSError(f"{path}: {exc.strerror or exc}")
    return OSError(exc.errno, exc.strerror, path)


def sync_folder(folder: str) -> None:
    """Flush a folder's entries to the disk (POSIX), so a rename in it survives a crash."""
    if os.name != "posix":
        return  # Windows has no handle on a folder to flush; NTFS journals the rename
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot flush a folder (EINVAL); the file itself is flushed
    finally:
        os.close(fd)
