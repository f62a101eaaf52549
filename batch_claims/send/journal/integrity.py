"""Keeping the journal file whole and private, and saying in words what is wrong with it.

- Before SQLite opens it (``prepare_file``): its folder exists (0700 when created
  here), an existing file is whole pages and writable, a new one is created 0600 —
  SQLite gives the -wal and -shm files the same mode; ``tighten`` takes group and other
  bits off the files of an earlier version.
- When it is opened (``check_pages``): every page is checked before the first write,
  so a damaged journal is found then and left exactly as it is.
- While it is open (``OpenFiles``): the journal, its -wal and -shm files are the ones
  opened — one deleted or replaced would let SQLite write on to an orphaned file, and
  the next run would send every claim again.
- Whatever SQLite raises, ``failure_message`` names the file and the way on (a corrupt
  page, a read-only file, a full disk); ``stored`` turns a record that cannot be decoded
  into the same damaged-journal error, never a traceback.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from batch_claims.errors import InputError, JournalFailed

R = TypeVar("R")
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
DAMAGED = "database disk image is malformed"

# SQLite's primary result codes (the low byte of sqlite_errorcode).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = (
    10,
    11,
    13,
    14,
    26,
)


def identity(path: str | Path) -> tuple[int, int] | None:
    """The (device, inode) at ``path`` now; None when nothing is there."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_dev, info.st_ino)


def prepare_file(path: Path) -> None:
    """Before SQLite opens ``path``: its folder exists (0700 when we create it), an
    existing file is whole pages and writable, and a new one is created 0600 — SQLite
    gives the -wal and -shm files the same mode as the database file."""
    parent = path.expanduser().resolve().parent
    if not parent.exists():
        try:
            parent.mkdir(parents=True, mode=PRIVATE_FOLDER)
            os.chmod(parent, PRIVATE_FOLDER)  # mkdir's mode is cut by the umask
        except OSError as exc:
            raise InputError(
                f"cannot create the journal folder {parent} ({exc.strerror})"
            ) from None
    if path.exists():
        size = path.stat().st_size
        if size % 512 != 0 or size == 0:
            # SQLite files are whole pages: this one was cut short or emptied.
            raise InputError(
                f"the journal {path} is truncated ({size} bytes); it is left "
                "untouched — restore it from a backup or pass another --journal "
                "after checking the Sendcloud panel"
            )
        if not os.access(path, os.W_OK):
            raise InputError(
                f"the journal {path} is not writable (read-only); nothing was sent — make "
                "it writable or pass another --journal"
            )
    try:  # a real write, since access() tells root nothing about read-only disks
        tempfile.TemporaryFile(dir=parent).close()
    except OSError as exc:
        raise InputError(f"the journal folder {parent} is not writable ({exc.strerror})") from None
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        except FileExistsError:
            pass  # another run created it meanwhile
        except OSError as exc:
            raise InputError(f"cannot create the journal {path} ({exc.strerror})") from None


def tighten(path: Path) -> None:
    """An account's claim history is the user's only: take group and other bits off
    the journal and its -wal/-shm files (ours only; an earlier version made them 0644)."""
    for target in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            info = target.stat()
            if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
                os.chmod(target, stat.S_IMODE(info.st_mode) & ~0o077)
        except OSError:
            continue


def check_pages(db: sqlite3.Connection) -> None:
    """Every page read and checked (a few milliseconds for a year of claims); a damaged
    one raises SQLite's own corruption error."""
    check = db.execute("PRAGMA quick_check(1)").fetchone()
    if check is None or check[0] != "ok":
        raise sqlite3.DatabaseError(DAMAGED)


def failure_message(path: str, exc: sqlite3.Error) -> str:
    """What is wrong with the journal file, in words, naming it and the way on."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary == _SQLITE_FULL or "disk is full" in text:
        return (
            f"the journal {path} cannot be written: the disk is full — free some space, "
            "then run again"
        )
    if primary in (_SQLITE_READONLY, _SQLITE_PERM) or "readonly" in text:
        return (
            f"the journal {path} cannot be written: it is read-only — make it writable or "
            "pass another --journal"
        )
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text:
        return (
            f"the journal {path} is damaged (not a readable batch-claims journal); it is "
            "left as it is — restore it from a backup, or move it aside (or pass another "
            "--journal): the claims it recorded are then unknown to batch-claims, so check "
            "the Sendcloud panel before sending them again"
        )
    if primary == _SQLITE_IOERR:
        return f"the journal {path} cannot be read or written: a disk input/output error"
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return f"the journal {path} is busy: another program holds it open for writing"
    if primary == _SQLITE_CANTOPEN:
        return f"the journal {path} cannot be opened"
    name = getattr(exc, "sqlite_errorname", None) or "unknown"
    return f"the journal {path} cannot be used (SQLite error {name})"


def stored(decode: Callable[[str], R], text: str) -> R:
    """A value the journal stored, decoded; one that cannot be (bytes overwritten in a
    page SQLite still reads as sound) is a damaged journal, not a traceback."""
    try:
        return decode(text)
    except ValueError:
        raise sqlite3.DatabaseError(f"{DAMAGED} (a record)") from None


class OpenFiles:
    """The files SQLite has open for a journal on disk, as (device, inode) when it was
    opened (the -wal and -shm exist once the journal was read), to tell whether the
    paths still name them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._opened = {name: identity(name) for name in (path, f"{path}-wal", f"{path}-shm")}

    def check(self) -> None:
        """``JournalFailed`` when one of the files was deleted or replaced."""
        for name, opened in self._opened.items():
            now = identity(name)
            if now != opened:
                raise self.changed(name, "deleted" if now is None else "replaced")

    def changed(self, name: str, how: str) -> JournalFailed:
        """The error for a file of the run (``name``) deleted or replaced meanwhile."""
        return JournalFailed(
            f"the journal {self.path} cannot be used: {name} was {how} while this run had "
            "it open, so what the run records now would be lost and a later run would send "
            "these claims again; the run stops — put the journal back from a backup, or "
            "check the Sendcloud panel before sending these rows again"
        )
