"""The journal's connection: opening the file (prepared and checked by ``integrity``),
bringing its tables up to date (``schema.MIGRATIONS``), one committed transaction at a
time (``atomic``), the account it belongs to (``meta``), and the rule that no SQLite
error leaves a journal method bare (``guarded``).

A problem found while the journal is opened is an ``InputError`` (nothing was sent);
any SQLite failure later — a corrupt page, a read-only file, a full disk — is a
``JournalFailed`` naming the file. Every write first checks that the journal, its
-wal/-shm files and the run's lock file are still the ones opened.

The claims, the lock, the file tokens and the POST times are ``JournalCore``'s
subclasses in ``claims``, ``lock``, ``tokens`` and ``posts``; ``Journal`` is all of them."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from batch_claims.clock import iso_utc
from batch_claims.errors import InputError, JournalFailed
from batch_claims.send.journal.filelock import FileLock
from batch_claims.send.journal.integrity import (
    OpenFiles,
    check_pages,
    failure_message,
    prepare_file,
    tighten,
)
from batch_claims.send.journal.schema import MIGRATIONS

P = ParamSpec("P")
R = TypeVar("R")
J = TypeVar("J", bound="JournalCore")
WHEN_OPENING = " (found when opening it; nothing was sent)"


def guarded(method: Callable[Concatenate[J, P], R]) -> Callable[Concatenate[J, P], R]:
    """Every SQLite failure of a journal method becomes ``JournalFailed`` naming the file."""

    @functools.wraps(method)
    def wrapper(self: J, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise JournalFailed(failure_message(self.path, exc)) from None

    return wrapper


class JournalCore:
    """The journal on a file path, ``":memory:"`` or an open connection."""

    def __init__(self, target: str | Path | sqlite3.Connection, now: Callable[[], datetime]):
        self._now = now
        self._lock = threading.RLock()
        self.file_lock: FileLock | None = None
        self._files: OpenFiles | None = None
        self.path: str
        if isinstance(target, sqlite3.Connection):
            self.db = target
            self.path = ":connection:"
        else:
            self.path = str(target)
            self.db = self._open(self.path)
        self.db.row_factory = sqlite3.Row
        self._migrate()
        if self.on_disk:
            self._files = OpenFiles(self.path)

    @property
    def on_disk(self) -> bool:
        return self.path not in (":memory:", ":connection:")

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        if path != ":memory:":
            prepare_file(Path(path))
        try:
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise InputError(failure_message(path, exc) + WHEN_OPENING) from None
        if path != ":memory:":
            tighten(Path(path))
        return db

    def _migrate(self) -> None:
        """Every page checked, then the missing schema steps applied, each committed
        with its number: a damaged journal is found here and left exactly as it is."""
        try:
            check_pages(self.db)
            version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise InputError(
                    f"the journal {self.path} was written by a newer batch-claims "
                    f"(schema {version}); upgrade batch-claims"
                )
            for number, (_name, step) in enumerate(MIGRATIONS, start=1):
                if number <= version:
                    continue
                with self.atomic():
                    step(self.db)
                    self.db.execute(f"PRAGMA user_version = {number}")
            self.db.execute("SELECT count(*) FROM claims").fetchone()
        except sqlite3.Error as exc:
            raise InputError(failure_message(self.path, exc) + WHEN_OPENING) from None

    @property
    @guarded
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One committed transaction (nested use joins the outer one); one thread at a
        time, since upload workers share the connection."""
        with self._lock:
            if self.db.in_transaction:
                yield self.db
                return
            self._check_files()
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self._check_files()
                self.db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk, a corrupt page); a
                # transaction left open would make every later atomic() a nested one.
                if self.db.in_transaction:
                    try:
                        self.db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise

    def _check_files(self) -> None:
        """Stop before a write that would be lost: the journal, its -wal or -shm file
        or the run's lock file was deleted or replaced since it was opened (SQLite would
        write on to the orphaned file, and the next run would send every claim again)."""
        if self._files is None:
            return
        self._files.check()
        if self.file_lock is not None and not self.file_lock.still_ours():
            raise self._files.changed(str(self.file_lock.path), "deleted or replaced")

    def release_file_lock(self) -> None:
        if self.file_lock is not None:
            self.file_lock.release()
            self.file_lock = None

    def close(self) -> None:
        self.release_file_lock()
        self.db.close()

    def _stamp(self) -> str:
        stamp = iso_utc(self._now())
        assert stamp is not None
        return stamp

    # --- meta ----------------------------------------------------------------------

    @guarded
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    @guarded
    def set_meta(self, key: str, value: str) -> None:
        with self.atomic():
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @guarded
    def bind_account(self, account: str) -> None:
        """Record the account the journal belongs to; refuse another account's journal."""
        known = self.get_meta("account")
        if known is None:
            self.set_meta("account", account)
        elif known != account:
            raise InputError(
                f"the journal {self.path} belongs to another API account ({known}); "
                f"this run uses {account} — pass the right --journal"
            )
