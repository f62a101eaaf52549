"""The run lock's operating-system half: an exclusive ``flock`` on ``<journal>.lock``
(``FileLock``), which the kernel drops when the process that holds it ends, however it
ends — whatever became of its pid or host name. The lock file also records who holds it
(``LockHolder``), for the message a second run shows and for ``batch-claims unlock``.

The journal's side of the lock (its ``lock`` and ``runs`` tables) is ``lock.LockTable``."""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from batch_claims.errors import JournalFailed
from batch_claims.send.journal.integrity import PRIVATE_FILE, identity


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a journal's run lock."""

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
        return identity(self.path) == (info.st_dev, info.st_ino)

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
