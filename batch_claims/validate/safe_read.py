"""Reading a document safely, hashing it, and saying in words what a path is.

A document is opened without blocking (and without taking a terminal) and read only when
the open file is a regular file, so a named pipe, a socket or a device put where a photo
should be is refused, never waited on; at most a little over ``MAX_FILE_SIZE`` (the upload
API's 6 MB) is read, in one read when the file is as large as its size says.
``read_document`` is the check's read (bytes, SHA-256 and size, or what the path turned
out to be); ``read_plain`` the same for a file its listing showed as a regular file, that
must not have become a link since (opened without following one); ``read_regular`` the
upload's read again of a checked file; ``sha256_of`` a whole file's digest (the input
sheet's). The small helpers below put operating-system answers into the words a row's
message uses ("a broken link", "a named pipe (FIFO)", "Permission denied").
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

MAX_FILE_SIZE = 6 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024

# Open a document without waiting on a named pipe and without taking a terminal.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# Open a file without following a link in its last name (0 where there is no such flag).
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_document(path: Path) -> BinaryIO:
    """``path`` opened for reading without blocking, whatever it is."""
    return open(os.open(path, _OPEN_FLAGS), "rb", closefd=True)


def read_regular(path: Path, limit: int = MAX_FILE_SIZE) -> bytes:
    """A document's bytes (at most ``limit + 1``), read only if it is a regular file
    (opened without blocking, so a named pipe put in its place can never hang the run);
    ``OSError`` otherwise."""
    with _open_document(path) as fp:
        status = os.fstat(fp.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, f"it is now {mode_words(status.st_mode)}")
        return fp.read(limit + 1)


def read_document(path: Path | str) -> tuple[bytes, str, int] | str:
    """A regular file's bytes (at most a little over ``MAX_FILE_SIZE``), their SHA-256 and
    the file's size; or, when what is opened is not a regular file, what it is. An empty
    file or one over the limit by its size is not read: its bytes and digest are empty."""
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        return _read_open(descriptor)
    finally:
        os.close(descriptor)


def read_plain(path: str) -> tuple[bytes, str, int] | None:
    """As ``read_document``, for a file its folder's listing showed as a regular file with
    no link: opened without following a link in its own name (where the system can say
    so), read only if it is a regular file still. None when it is not (a link, a pipe or
    a folder now), cannot be opened or read: then the full check decides, and says why."""
    try:
        if not _NO_FOLLOW and not stat.S_ISREG(os.lstat(path).st_mode):
            return None  # no such flag here: the name is looked at first instead
        descriptor = os.open(path, _OPEN_FLAGS | _NO_FOLLOW)
    except (OSError, ValueError):
        return None
    try:
        read = _read_open(descriptor)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return None if isinstance(read, str) else read


def _read_open(descriptor: int) -> tuple[bytes, str, int] | str:
    """``read_document`` of an open file: one read when the file is as large as it says."""
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        return mode_words(status.st_mode)
    size = status.st_size
    if size > MAX_FILE_SIZE or size == 0:
        return b"", "", size
    content = os.read(descriptor, size + 1)
    if len(content) != size:  # it changed since: read on to its end, or past the limit
        chunks = [content]
        total = len(content)
        while total <= MAX_FILE_SIZE and (chunk := os.read(descriptor, CHUNK_SIZE)):
            chunks.append(chunk)
            total += len(chunk)
        content = b"".join(chunks)
    return content, hashlib.sha256(content).hexdigest(), size


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def what_is(path: Path) -> str:
    """What ``path`` is, in words for a message: "a file", "a folder", "a broken link",
    "a link loop", "a named pipe (FIFO)", "a socket", "a device"; or why it cannot be
    examined."""
    try:
        status = os.stat(path)
    except ValueError:
        return "not a possible name (it holds a NUL character)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a link loop"
        if exc.errno == errno.ENOENT and lexists(path):
            return "a broken link"
        return f"unreadable ({reason(exc)})"
    return mode_words(status.st_mode)


def mode_words(mode: int) -> str:
    """A file mode's kind in words: "a file", "a folder", "a named pipe (FIFO)"…"""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def reason(exc: BaseException) -> str:
    """An operating-system error in a few words: its text without the path."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, RuntimeError):  # Path.resolve on a symlink loop (3.11)
        return "a link loop"
    return str(exc) or type(exc).__name__


def is_folder(path: Path) -> bool:
    """True when ``path`` is a folder (through links); False for anything else, a name
    the system refuses included."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def lexists(path: Path) -> bool:
    """True when ``path`` names something (a broken link too); False for any name the
    system refuses (too long, a NUL in it)."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True
