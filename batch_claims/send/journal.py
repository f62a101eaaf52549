"""The SQLite journal: which claims have tickets, every attempt, the file-token cache
and the run lock.

A ticket attempt is written ``in_flight`` and committed *before* the request is sent,
and its answer right after; a leftover ``in_flight`` is therefore a request whose
outcome nobody knows, reported ``unconfirmed`` and never resent automatically. Each
attempt keeps the hash of the request it sent and the API's answer, so a row refused
for what it contains is not sent again while it is unchanged (``holdback``).

The file holds an account's claim history: it is created readable by the user only
(0600, its -wal/-shm files too; a folder we create 0700). A problem found when the
journal is opened is an ``InputError`` (nothing was sent); any SQLite failure later —
a corrupt page, a read-only file, a full disk — is a ``JournalFailed`` naming the
file, never a bare ``sqlite3`` error. So is a journal (or its -wal/-shm file) deleted
or replaced while it is open: every write first checks that the path still names the
file opened, since SQLite would go on writing to the orphaned one.

The run lock is an operating-system lock (``flock``) on ``<journal>.lock``, held for
the whole run: it ends with the process that holds it, whatever became of its pid or
host name. The lock file records who holds it, for the message a second run shows;
the ``lock`` table keeps the same for older versions and is never what decides.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import os
import socket
import sqlite3
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from batch_claims.clock import Clock, iso_utc
from batch_claims.errors import InputError, JournalFailed, JournalLocked

P = ParamSpec("P")
R = TypeVar("R")
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_QUERY_CHUNK = 500  # tracking numbers per IN (…) query, well below SQLite's variable limit


# Claim states.
class ClaimState(StrEnum):
    """What the journal knows of a claim (and of each ticket attempt)."""

    IN_FLIGHT = "in_flight"  # request being sent; outcome unknown until recorded
    CREATED = "created"  # Sendcloud answered with a ticket id (or the user resolved it so)
    NOT_CREATED = "not_created"  # refused or never processed; may be sent again
    UNCONFIRMED = "unconfirmed"  # may or may not exist; the user must check the panel


IN_FLIGHT = ClaimState.IN_FLIGHT
CREATED = ClaimState.CREATED
NOT_CREATED = ClaimState.NOT_CREATED
UNCONFIRMED = ClaimState.UNCONFIRMED


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Statements one by one: ``executescript`` would commit the open transaction."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _step_1_initial(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE claims (
            tracking_number TEXT NOT NULL,
            ticket_type TEXT NOT NULL,
            state TEXT NOT NULL,
            ticket_id TEXT,
            payload_hash TEXT,
            fingerprint TEXT,
            claim_json TEXT,
            run_id TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tracking_number, ticket_type)
        );
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            tracking_number TEXT NOT NULL,
            ticket_type TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            http_status INTEGER,
            error_code TEXT,
            detail TEXT,
            ticket_id TEXT
        );
        CREATE INDEX attempts_by_claim ON attempts (tracking_number, ticket_type);
        CREATE TABLE file_tokens (
            sha256 TEXT NOT NULL,
            content_type TEXT NOT NULL,
            file_token TEXT NOT NULL,
            uploaded_at TEXT NOT NULL,
            PRIMARY KEY (sha256, content_type)
        );
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            input_name TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL
        );
        CREATE TABLE lock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            run_id TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL
        );
        """,
    )


def _step_2_token_index(db: sqlite3.Connection) -> None:
    """``forget_token`` looks tokens up by value: index them."""
    db.execute("CREATE INDEX file_tokens_by_token ON file_tokens (file_token)")


def _step_3_posts(db: sqlite3.Connection) -> None:
    """Every POST sent and when it was answered, so rate-limit windows outlive a run."""
    db.execute(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, scopes TEXT NOT NULL, "
        "sent_at REAL NOT NULL, answered_at REAL)"
    )
    db.execute("CREATE INDEX posts_by_time ON posts (sent_at)")


# Named, ordered schema steps; the journal's user_version is the number applied.
MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("initial", _step_1_initial),
    ("index file tokens by token", _step_2_token_index),
    ("posts for rate-limit windows", _step_3_posts),
)


@dataclass(frozen=True)
class ClaimRecord:
    tracking_number: str
    ticket_type: str
    state: ClaimState
    ticket_id: str | None
    payload_hash: str | None
    fingerprint: str | None
    claim: dict[str, Any] | None
    run_id: str | None
    updated_at: str


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    run_id: str
    tracking_number: str
    state: ClaimState
    started_at: str
    finished_at: str | None
    http_status: int | None
    error_code: str | None
    detail: str | None
    ticket_id: str | None
    payload_hash: str | None = None  # payload.request_hash of what the attempt sent


@dataclass(frozen=True)
class LockHolder:
    run_id: str
    pid: int
    host: str
    started_at: str
    command: str | None = None
    input_name: str | None = None

    def describe(self) -> str:
        what = self.command or "a run"
        if self.input_name:
            what += f" of {self.input_name}"
        return (
            f"{what} (run {self.run_id}), pid {self.pid} on {self.host}, started {self.started_at}"
        )


def lock_path(journal: str | Path) -> Path:
    """The lock file beside a journal."""
    return Path(f"{journal}.lock")


def _identity(path: str | Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_dev, info.st_ino)


def _read_holder(fd: int) -> LockHolder | None:
    """Who the lock file says holds it (None: empty, or not ours to read)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return LockHolder(
            str(data["run_id"]),
            int(data["pid"]),
            str(data["host"]),
            str(data["started_at"]),
            data.get("command"),
            data.get("input_name"),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


class FileLock:
    """An exclusive ``flock`` on ``<journal>.lock``: the kernel drops it when the
    process ends, however it ends, so a dead run's lock never blocks."""

    def __init__(self, journal: str) -> None:
        self.journal = journal
        self.path = lock_path(journal)
        self.fd: int | None = None

    def try_take(self) -> LockHolder | None:
        """Take the lock (None: taken, ``fd`` is set); else the live holder's record."""
        while True:
            try:
                fd = os.open(
                    self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE
                )
            except OSError as exc:
                raise JournalFailed(
                    f"cannot open the lock file {self.path} of the journal {self.journal} "
                    f"({exc.strerror}); nothing was sent — make its folder writable, or remove "
                    "it if it is not a file"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return holder or LockHolder("unknown", 0, "unknown", "unknown")
                raise JournalFailed(
                    f"cannot lock the journal {self.journal} ({exc.strerror}): its folder does "
                    "not support file locks — put the journal on a local disk"
                ) from None
            if self._same(fd):
                self.fd = fd
                return None
            os.close(fd)  # the file was removed (unlock) while we waited: lock the new one

    def _same(self, fd: int) -> bool:
        info = os.fstat(fd)
        return _identity(self.path) == (info.st_dev, info.st_ino)

    def holder(self) -> LockHolder | None:
        assert self.fd is not None
        return _read_holder(self.fd)

    def record(self, holder: LockHolder) -> None:
        assert self.fd is not None
        text = json.dumps(
            {
                "run_id": holder.run_id,
                "command": holder.command,
                "input_name": holder.input_name,
                "pid": holder.pid,
                "host": holder.host,
                "started_at": holder.started_at,
            }
        )
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text.encode("utf-8"), 0)

    def still_ours(self) -> bool:
        """Whether the lock file at the path is the one locked (not removed or replaced)."""
        return self.fd is None or self._same(self.fd)

    def release(self, *, remove: bool = False) -> None:
        """Let go (the file emptied; removed while still locked when ``remove``)."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            if remove:
                self.path.unlink(missing_ok=True)
            else:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prepare_file(path: Path) -> None:
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


def _tighten(path: Path) -> None:
    """An account's claim history is the user's only: take group and other bits off
    the journal and its -wal/-shm files (ours only; an earlier version made them 0644)."""
    for target in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            info = target.stat()
            if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
                os.chmod(target, stat.S_IMODE(info.st_mode) & ~0o077)
        except OSError:
            continue


# SQLite's primary result codes (the low byte of sqlite_errorcode).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = (
    10,
    11,
    13,
    14,
    26,
)


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


def _guarded(method: Callable[Concatenate[Journal, P], R]) -> Callable[Concatenate[Journal, P], R]:
    """Every SQLite failure of a journal method becomes ``JournalFailed`` naming the file."""

    @functools.wraps(method)
    def wrapper(self: Journal, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise JournalFailed(failure_message(self.path, exc)) from None

    return wrapper


class Journal:
    """The journal on a file path, ``":memory:"`` or an open connection."""

    def __init__(self, target: str | Path | sqlite3.Connection, now: Callable[[], datetime]):
        self._now = now
        self._lock = threading.RLock()
        self.file_lock: FileLock | None = None
        self._files: dict[str, tuple[int, int] | None] = {}
        self.path: str
        if isinstance(target, sqlite3.Connection):
            self.db = target
            self.path = ":connection:"
        else:
            self.path = str(target)
            self.db = self._open(self.path)
        self.db.row_factory = sqlite3.Row
        self._migrate()
        # The files SQLite has open, as (device, inode): a write checks they are still
        # the ones at their paths (the -wal and -shm exist once the journal was read).
        if self.on_disk:
            self._files = {
                name: _identity(name)
                for name in (self.path, f"{self.path}-wal", f"{self.path}-shm")
            }

    @property
    def on_disk(self) -> bool:
        return self.path not in (":memory:", ":connection:")

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        if path != ":memory:":
            _prepare_file(Path(path))
        try:
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise InputError(
                failure_message(path, exc) + " (found when opening it; nothing was sent)"
            ) from None
        if path != ":memory:":
            _tighten(Path(path))
        return db

    def _migrate(self) -> None:
        try:
            # Every page checked before the first write: a damaged journal is found here
            # and left exactly as it is (a few milliseconds for a year of claims).
            check = self.db.execute("PRAGMA quick_check(1)").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
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
            raise InputError(
                failure_message(self.path, exc) + " (found when opening it; nothing was sent)"
            ) from None

    @property
    @_guarded
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
        for name, opened in self._files.items():
            now = _identity(name)
            if now != opened:
                self._files_changed(name, "deleted" if now is None else "replaced")
        if self.file_lock is not None and not self.file_lock.still_ours():
            self._files_changed(str(self.file_lock.path), "deleted or replaced")

    def _files_changed(self, name: str, how: str) -> None:
        raise JournalFailed(
            f"the journal {self.path} cannot be used: {name} was {how} while this run had "
            "it open, so what the run records now would be lost and a later run would send "
            "these claims again; the run stops — put the journal back from a backup, or "
            "check the Sendcloud panel before sending these rows again"
        )

    def close(self) -> None:
        if self.file_lock is not None:
            self.file_lock.release()
            self.file_lock = None
        self.db.close()

    def _stamp(self) -> str:
        stamp = iso_utc(self._now())
        assert stamp is not None
        return stamp

    # --- meta ----------------------------------------------------------------------

    @_guarded
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    @_guarded
    def set_meta(self, key: str, value: str) -> None:
        with self.atomic():
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @_guarded
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

    # --- lock ----------------------------------------------------------------------

    @_guarded
    def acquire_lock(self, run_id: str, command: str, input_name: str | None) -> str | None:
        """Take the run lock (the OS lock on ``<journal>.lock``, held until
        ``release_lock`` or the process ends); a notice when a dead run's lock record
        was cleared. ``JournalLocked`` names the live holder."""
        me = LockHolder(
            run_id, os.getpid(), socket.gethostname(), self._stamp(), command, input_name
        )
        if self.on_disk:
            lock = FileLock(self.path)
            holder = lock.try_take()
            if holder is not None:
                raise JournalLocked(
                    f"another batch-claims run holds the journal {self.path}: "
                    f"{holder.describe()}; wait for it to finish"
                )
            self.file_lock = lock
        try:
            stale = self._record_lock(me)
        except BaseException:
            self.release_file_lock()
            raise
        if stale is None:
            return None
        return (
            f"took over the journal lock of run {stale.run_id} (pid {stale.pid} on "
            f"{stale.host}, started {stale.started_at}), which is no longer running"
        )

    def _record_lock(self, me: LockHolder) -> LockHolder | None:
        """Who holds the lock, in the lock file and the ``lock`` table; the earlier
        holder whose record is cleared (the OS lock proved it gone)."""
        with self.atomic():
            row = self.db.execute("SELECT * FROM lock WHERE id = 1").fetchone()
            stale = None
            if row is not None:
                stale = LockHolder(row["run_id"], row["pid"], row["host"], row["started_at"])
                if not self.on_disk and (stale.host != me.host or _pid_alive(stale.pid)):
                    # An in-memory journal has no lock file: its table is all there is.
                    raise JournalLocked(
                        f"another batch-claims run holds the journal {self.path}: "
                        f"{stale.describe()}; wait for it to finish"
                    )
                self.db.execute("DELETE FROM lock WHERE id = 1")
            self.db.execute(
                "INSERT INTO lock (id, run_id, pid, host, started_at) VALUES (1, ?, ?, ?, ?)",
                (me.run_id, me.pid, me.host, me.started_at),
            )
            self.db.execute(
                "INSERT INTO runs (run_id, command, input_name, started_at, pid, host) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (me.run_id, me.command, me.input_name, me.started_at, me.pid, me.host),
            )
            if self.file_lock is not None:
                self.file_lock.record(me)
        return stale

    @_guarded
    def release_lock(self, run_id: str) -> None:
        try:
            with self.atomic():
                self.db.execute("DELETE FROM lock WHERE id = 1 AND run_id = ?", (run_id,))
                self.db.execute(
                    "UPDATE runs SET finished_at = ? WHERE run_id = ?", (self._stamp(), run_id)
                )
        finally:
            self.release_file_lock()

    def release_file_lock(self) -> None:
        if self.file_lock is not None:
            self.file_lock.release()
            self.file_lock = None

    @_guarded
    def lock_record(self) -> LockHolder | None:
        """What the ``lock`` table says (for ``unlock``): a run that never released it."""
        row = self.db.execute(
            "SELECT lock.*, runs.command, runs.input_name FROM lock "
            "LEFT JOIN runs USING (run_id) WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return LockHolder(
            row["run_id"],
            row["pid"],
            row["host"],
            row["started_at"],
            row["command"],
            row["input_name"],
        )

    @_guarded
    def clear_lock_record(self) -> None:
        with self.atomic():
            self.db.execute("DELETE FROM lock WHERE id = 1")

    # --- claims --------------------------------------------------------------------

    @_guarded
    def claim(self, tracking_number: str, ticket_type: str) -> ClaimRecord | None:
        row = self.db.execute(
            "SELECT * FROM claims WHERE tracking_number = ? AND ticket_type = ?",
            (tracking_number, ticket_type),
        ).fetchone()
        return None if row is None else _claim_record(row)

    @_guarded
    def claims_of(
        self, tracking_numbers: Sequence[str], ticket_type: str
    ) -> dict[str, ClaimRecord]:
        """The records of many claims at once, by tracking number (those the journal
        knows): a few indexed queries for a whole sheet instead of one per row."""
        batch = 500  # tracking numbers per query, well under SQLite's variable limit
        wanted = list(dict.fromkeys(tracking_numbers))
        found: dict[str, ClaimRecord] = {}
        for start in range(0, len(wanted), batch):
            chunk = wanted[start : start + batch]
            rows = self.db.execute(
                f"SELECT * FROM claims WHERE ticket_type = ? AND tracking_number IN "
                f"({', '.join('?' * len(chunk))})",
                (ticket_type, *chunk),
            )
            found.update((row["tracking_number"], _claim_record(row)) for row in rows)
        return found

    @_guarded
    def claims(self, tracking_number: str | None = None) -> list[ClaimRecord]:
        if tracking_number is None:
            rows = self.db.execute("SELECT * FROM claims ORDER BY updated_at, tracking_number")
        else:
            rows = self.db.execute(
                "SELECT * FROM claims WHERE tracking_number = ? ORDER BY ticket_type",
                (tracking_number,),
            )
        return [_claim_record(row) for row in rows]

    @_guarded
    def attempts(self, tracking_number: str) -> list[AttemptRecord]:
        rows = self.db.execute(
            "SELECT * FROM attempts WHERE tracking_number = ? ORDER BY id", (tracking_number,)
        )
        return [_attempt_record(r) for r in rows]

    @_guarded
    def last_attempts(
        self, tracking_numbers: Sequence[str], ticket_type: str
    ) -> dict[str, AttemptRecord]:
        """The latest attempt of each of these claims that has one, by tracking number
        (a few queries for any number of claims)."""
        latest: dict[str, AttemptRecord] = {}
        numbers = list(dict.fromkeys(tracking_numbers))
        for start in range(0, len(numbers), _QUERY_CHUNK):
            chunk = numbers[start : start + _QUERY_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT * FROM attempts WHERE id IN (SELECT max(id) FROM attempts "
                f"WHERE ticket_type = ? AND tracking_number IN ({marks}) "
                "GROUP BY tracking_number)",
                (ticket_type, *chunk),
            )
            latest.update((r["tracking_number"], _attempt_record(r)) for r in rows)
        return latest

    @_guarded
    def begin_attempt(
        self,
        run_id: str,
        tracking_number: str,
        ticket_type: str,
        payload_hash: str,
        fingerprint: str,
        claim: dict[str, Any],
    ) -> int:
        """Record the attempt ``in_flight`` and commit, before the request is sent."""
        stamp = self._stamp()
        with self.atomic():
            cursor = self.db.execute(
                "INSERT INTO attempts (run_id, tracking_number, ticket_type, payload_hash, "
                "state, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, tracking_number, ticket_type, payload_hash, IN_FLIGHT, stamp),
            )
            self.db.execute(
                "INSERT INTO claims (tracking_number, ticket_type, state, payload_hash, "
                "fingerprint, claim_json, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tracking_number, ticket_type) DO UPDATE SET "
                "state = excluded.state, payload_hash = excluded.payload_hash, "
                "fingerprint = excluded.fingerprint, claim_json = excluded.claim_json, "
                "run_id = excluded.run_id, updated_at = excluded.updated_at, ticket_id = NULL",
                (
                    tracking_number,
                    ticket_type,
                    IN_FLIGHT,
                    payload_hash,
                    fingerprint,
                    json.dumps(claim, sort_keys=True),
                    run_id,
                    stamp,
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @_guarded
    def finish_attempt(
        self,
        attempt_id: int,
        state: ClaimState,
        *,
        ticket_id: str | None = None,
        http_status: int | None = None,
        error_code: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record the answer of an attempt (state CREATED, NOT_CREATED or UNCONFIRMED)."""
        stamp = self._stamp()
        with self.atomic():
            row = self.db.execute(
                "SELECT tracking_number, ticket_type FROM attempts WHERE id = ?", (attempt_id,)
            ).fetchone()
            self.db.execute(
                "UPDATE attempts SET state = ?, finished_at = ?, http_status = ?, "
                "error_code = ?, detail = ?, ticket_id = ? WHERE id = ?",
                (state, stamp, http_status, error_code, detail, ticket_id, attempt_id),
            )
            if state == NOT_CREATED:  # a resend refused: what came before still stands
                earlier = self._earlier_ticket(row["tracking_number"], row["ticket_type"])
                if earlier is not None:
                    state, ticket_id = CREATED, earlier
                elif self._earlier_unknown(row["tracking_number"], row["ticket_type"]):
                    state = UNCONFIRMED
            self.db.execute(
                "UPDATE claims SET state = ?, ticket_id = ?, updated_at = ? "
                "WHERE tracking_number = ? AND ticket_type = ?",
                (state, ticket_id, stamp, row["tracking_number"], row["ticket_type"]),
            )

    def _earlier_ticket(self, tracking_number: str, ticket_type: str) -> str | None:
        """The newest ticket an earlier attempt created for this claim, if any: a claim
        that once had a ticket never becomes sendable again (``not_created``)."""
        row = self.db.execute(
            "SELECT ticket_id FROM attempts WHERE tracking_number = ? AND ticket_type = ? "
            "AND state = ? AND ticket_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (tracking_number, ticket_type, CREATED),
        ).fetchone()
        return None if row is None else str(row["ticket_id"])

    def _earlier_unknown(self, tracking_number: str, ticket_type: str) -> bool:
        """Whether an earlier attempt's outcome is still unknown (never resolved)."""
        row = self.db.execute(
            "SELECT 1 FROM attempts WHERE tracking_number = ? AND ticket_type = ? "
            "AND state IN (?, ?) LIMIT 1",
            (tracking_number, ticket_type, IN_FLIGHT, UNCONFIRMED),
        ).fetchone()
        return row is not None

    @_guarded
    def resolve(self, tracking_number: str, ticket_type: str, ticket_id: str | None) -> None:
        """Close an unconfirmed claim with what the user found in the Sendcloud panel."""
        record = self.claim(tracking_number, ticket_type)
        if record is None:
            raise InputError(f"the journal has no claim for tracking number {tracking_number}")
        if record.state not in (IN_FLIGHT, UNCONFIRMED):
            raise InputError(
                f"{tracking_number} is {record.state}, not unconfirmed; nothing to resolve"
            )
        state = CREATED if ticket_id else NOT_CREATED
        # "Not created" for a forced resend: the claim keeps the ticket it had before.
        claim_state, claim_ticket = state, ticket_id
        if state == NOT_CREATED:
            earlier = self._earlier_ticket(tracking_number, ticket_type)
            if earlier is not None:
                claim_state, claim_ticket = CREATED, earlier
        with self.atomic():
            self.db.execute(
                "UPDATE claims SET state = ?, ticket_id = ?, updated_at = ? "
                "WHERE tracking_number = ? AND ticket_type = ?",
                (claim_state, claim_ticket, self._stamp(), tracking_number, ticket_type),
            )
            self.db.execute(
                "UPDATE attempts SET state = ?, ticket_id = ?, detail = "
                "coalesce(detail || '; ', '') || 'resolved by the user' "
                "WHERE tracking_number = ? AND ticket_type = ? AND state IN (?, ?)",
                (state, ticket_id, tracking_number, ticket_type, IN_FLIGHT, UNCONFIRMED),
            )

    @_guarded
    def resolve_in_flight_as_unconfirmed(self, tracking_number: str, ticket_type: str) -> None:
        """A leftover ``in_flight`` (a run died mid-request) becomes ``unconfirmed``."""
        with self.atomic():
            self.db.execute(
                "UPDATE claims SET state = ? WHERE tracking_number = ? AND ticket_type = ? "
                "AND state = ?",
                (UNCONFIRMED, tracking_number, ticket_type, IN_FLIGHT),
            )
            self.db.execute(
                "UPDATE attempts SET state = ?, detail = 'outcome unknown: the run stopped "
                "before the answer was recorded' WHERE tracking_number = ? AND ticket_type = ? "
                "AND state = ?",
                (UNCONFIRMED, tracking_number, ticket_type, IN_FLIGHT),
            )

    # --- file tokens ---------------------------------------------------------------

    @_guarded
    def cached_token(self, sha256: str, content_type: str, max_age: timedelta) -> str | None:
        row = self.db.execute(
            "SELECT file_token, uploaded_at FROM file_tokens WHERE sha256 = ? AND content_type = ?",
            (sha256, content_type),
        ).fetchone()
        if row is None:
            return None
        uploaded = _stored(datetime.fromisoformat, str(row["uploaded_at"]).replace("Z", "+00:00"))
        if self._now() - uploaded > max_age:
            return None
        return str(row["file_token"])

    @_guarded
    def store_token(self, sha256: str, content_type: str, file_token: str) -> None:
        with self.atomic():
            self.db.execute(
                "INSERT INTO file_tokens (sha256, content_type, file_token, uploaded_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (sha256, content_type) DO UPDATE SET "
                "file_token = excluded.file_token, uploaded_at = excluded.uploaded_at",
                (sha256, content_type, file_token, self._stamp()),
            )

    @_guarded
    def forget_token(self, file_token: str) -> None:
        with self.atomic():
            self.db.execute("DELETE FROM file_tokens WHERE file_token = ?", (file_token,))

    # --- posts (rate-limit windows across runs) ---------------------------------------

    @contextmanager
    def _unsynced(self) -> Iterator[None]:
        """A write that need not survive a power cut, only the process: no fsync."""
        with self._lock:
            self.db.execute("PRAGMA synchronous=OFF")
            try:
                with self.atomic():
                    yield
            finally:
                self.db.execute("PRAGMA synchronous=FULL")

    @_guarded
    def post_sent(self, scopes: Sequence[str], at: float) -> int:
        with self._unsynced():
            cursor = self.db.execute(
                "INSERT INTO posts (scopes, sent_at) VALUES (?, ?)", (",".join(scopes), at)
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @_guarded
    def post_answered(self, post_id: int, at: float) -> None:
        with self._unsynced():
            self.db.execute("UPDATE posts SET answered_at = ? WHERE id = ?", (at, post_id))

    @_guarded
    def posts_since(self, since: float) -> list[tuple[tuple[str, ...], float, float | None]]:
        """(scopes, sent_at, answered_at) of the POSTs sent or answered after ``since``
        (epoch seconds); older ones are forgotten."""
        with self._unsynced():
            self.db.execute(
                "DELETE FROM posts WHERE coalesce(answered_at, sent_at) < ?", (since - 86400,)
            )
        rows = self.db.execute(
            "SELECT scopes, sent_at, answered_at FROM posts "
            "WHERE coalesce(answered_at, sent_at) >= ? OR answered_at IS NULL ORDER BY id",
            (since,),
        )
        return [
            (tuple(str(r["scopes"]).split(",")), float(r["sent_at"]), r["answered_at"])
            for r in rows
        ]

    @_guarded
    def unconfirmed(self) -> Sequence[ClaimRecord]:
        rows = self.db.execute(
            "SELECT * FROM claims WHERE state IN (?, ?) ORDER BY updated_at",
            (IN_FLIGHT, UNCONFIRMED),
        )
        return [_claim_record(row) for row in rows]


def _stored(decode: Callable[[str], R], text: str) -> R:
    """A value the journal stored, decoded; one that cannot be (bytes overwritten in a
    page SQLite still reads as sound) is a damaged journal, not a traceback."""
    try:
        return decode(text)
    except ValueError:
        raise sqlite3.DatabaseError("database disk image is malformed (a record)") from None


def _attempt_record(row: sqlite3.Row) -> AttemptRecord:
    return AttemptRecord(
        row["id"],
        row["run_id"],
        row["tracking_number"],
        ClaimState(row["state"]),
        row["started_at"],
        row["finished_at"],
        row["http_status"],
        row["error_code"],
        row["detail"],
        row["ticket_id"],
        row["payload_hash"],
    )


def _claim_record(row: sqlite3.Row) -> ClaimRecord:
    claim_json = row["claim_json"]
    return ClaimRecord(
        tracking_number=row["tracking_number"],
        ticket_type=row["ticket_type"],
        state=ClaimState(row["state"]),
        ticket_id=row["ticket_id"],
        payload_hash=row["payload_hash"],
        fingerprint=row["fingerprint"],
        claim=_stored(json.loads, claim_json) if claim_json else None,
        run_id=row["run_id"],
        updated_at=row["updated_at"],
    )


class RequestLog:
    """The limiter's ``Recorder`` on the journal: every POST's send and answer times, and
    the earlier ones that still count when a run starts (a rerun, or a restart after a
    crash, must not meet a 429 for what the last run sent)."""

    def __init__(self, journal: Journal, clock: Clock) -> None:
        self._journal = journal
        self._clock = clock

    def sent(self, scopes: Sequence[str]) -> object:
        return self._journal.post_sent(scopes, self._clock.utcnow().timestamp())

    def answered(self, handle: object) -> None:
        assert isinstance(handle, int)
        try:
            self._journal.post_answered(handle, self._clock.utcnow().timestamp())
        except JournalFailed:
            # Never lose the answer under way for it: an unrecorded answer counts, in the
            # next run, as arriving at the latest possible moment (see still_counting).
            # The journal's next real write stops the run.
            pass

    def still_counting(self, window: float, patience: float) -> list[tuple[tuple[str, ...], float]]:
        """Earlier POSTs within ``window`` seconds, as (scopes, monotonic time). One
        whose answer was never recorded (the run died) arrived at the latest ``patience``
        seconds (the read timeout) after it was sent — and not after now."""
        wall = self._clock.utcnow().timestamp()
        mono = self._clock.monotonic()
        counting = []
        for scopes, sent_at, answered_at in self._journal.posts_since(wall - window):
            at = answered_at if answered_at is not None else min(sent_at + patience, wall)
            if at > wall - window:
                counting.append((scopes, mono - (wall - at)))
        return counting
