"""Why a path cannot be read or written, said so that the person knows what to do.

A run checks its files before it reads a row (``_files``), and the command
line words an ``OSError`` raised later the same way, always naming the path
the person gave, never a temporary one.
"""

from __future__ import annotations

import errno
import os

#: Errors an operating system reports for "you may not".
DENIED = (errno.EACCES, errno.EPERM)


def folder_of(path: str) -> str:
    """The folder ``path`` is in, as the person would name it (``.`` for a bare name)."""
    return os.path.dirname(os.path.normpath(path)) or "."


def blocking_file(path: str) -> str | None:
    """The first of ``path``'s folders that is a file, so nothing can be beneath it, or None."""
    parts: list[str] = []
    head = os.path.normpath(path)
    while True:
        head, tail = os.path.split(head)
        if not tail:
            break
        parts.append(head)
    for folder in reversed(parts):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            return folder
    return None


def missing_folder(path: str) -> str | None:
    """The folder of ``path`` when it does not exist, or None."""
    folder = folder_of(path)
    return None if os.path.isdir(folder) else folder


def read_problem(path: str) -> str | None:
    """What stops reading ``path`` (a file), with what to do about it; None when it can be read."""
    blocker = blocking_file(path)
    if blocker is not None:
        return f"{blocker} is a file, not a folder: check the path"
    if os.path.isdir(path):
        return "is a folder, not a file: name a file in it"
    if not os.path.exists(path):
        folder = missing_folder(path)
        if folder is not None:
            return f"no such file: the folder {folder} does not exist; check the path"
        return "no such file: check the name and the folder"
    if not os.access(path, os.R_OK):
        return "permission denied: you may not read this file; check its permissions"
    return None


def write_problem(path: str) -> str | None:
    """What stops writing the file ``path``, with what to do about it; None when it can be written.

    The file is written beside itself and renamed, so what counts is its folder.
    """
    blocker = blocking_file(path)
    if blocker is not None:
        return f"{blocker} is a file, not a folder: check the path"
    if os.path.isdir(path):
        return "is a folder, not a file: name a file in it"
    folder = missing_folder(path)
    if folder is not None:
        return f"the folder {folder} does not exist: create it first, or choose another path"
    if not os.access(folder_of(path), os.W_OK | os.X_OK):
        return (f"permission denied: you may not write in the folder {folder_of(path)}; "
                "choose another path")
    return None


def folder_problem(path: str) -> str | None:
    """What stops making (or using) the folder ``path`` for outputs; None when nothing does."""
    blocker = blocking_file(path)
    if blocker is not None:
        return f"{blocker} is a file, not a folder: check the path"
    if os.path.exists(path) and not os.path.isdir(path):
        return "is a file, not a folder: name a folder"
    return None


def unwritable(path: str) -> OSError | None:
    """The ``OSError`` writing ``path`` would meet (naming ``path`` and what to do), or None."""
    problem = write_problem(path)
    if problem is None:
        return None
    return OSError(_errno_of(path, writing=True), problem, path)


def unreadable(path: str) -> OSError | None:
    """The ``OSError`` reading ``path`` would meet (naming ``path`` and what to do), or None."""
    problem = read_problem(path)
    if problem is None:
        return None
    return OSError(_errno_of(path, writing=False), problem, path)


def _errno_of(path: str, *, writing: bool) -> int:
    """The errno of the problem found, so the error is the usual ``OSError`` subclass."""
    if blocking_file(path) is not None:
        return errno.ENOTDIR
    if os.path.isdir(path):
        return errno.EISDIR
    if (writing and missing_folder(path) is not None) or (not writing and not os.path.exists(path)):
        return errno.ENOENT
    return errno.EACCES


def os_error_words(exc: OSError) -> str:
    """``PATH: what went wrong: what to do``, for an ``OSError`` of a file the person named.

    An error made here (``unwritable``, ``unreadable``) already says it; one
    from the operating system is worded from its errno and the state of the path.
    """
    path = exc.filename
    if path is None:
        return exc.strerror or str(exc)
    name = os.fsdecode(path) if isinstance(path, (str, bytes)) else str(path)
    code = exc.errno
    told = exc.strerror or str(exc)
    if code is None or told != os.strerror(code):
        return f"{name}: {told}"  # already in words (made here, or by a library)
    return f"{name}: {_worded(name, code, told)}"


def _worded(path: str, code: int, told: str) -> str:
    if code == errno.ENOENT:
        folder = missing_folder(path)
        if folder is not None:
            return f"the folder {folder} does not exist: create it first, or check the path"
        return "no such file: check the name and the folder"
    if code == errno.ENOTDIR:
        blocker = blocking_file(path)
        if blocker is not None and blocker != os.path.normpath(path):
            return f"{blocker} is a file, not a folder: check the path"
        return "is a file, not a folder: name a folder"
    if code == errno.EISDIR:
        return "is a folder, not a file: name a file in it"
    if code == errno.EEXIST:
        return "already exists and is not a folder: name a folder"
    if code in DENIED:
        return "permission denied: check that you may read it, or write in its folder"
    if code == errno.EROFS:
        return "the disk is read-only: name an output on another disk"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "no space left on the disk: free some space, or name an output on another disk"
    return told
