"""The run lock as the journal keeps it: taking it for a run (the OS lock on
``<journal>.lock``, ``filelock.FileLock``, held until the run releases it or its
process ends), the ``runs`` table (one line per run: command, input, start, finish)
and the ``lock`` table, which records the holder for older versions and for
``batch-claims unlock`` but never decides who holds the lock on a journal on disk.

An in-memory journal has no lock file: there the ``lock`` table is all there is, and
a record left by a live process on this host refuses a second run."""

from __future__ import annotations

import os
import socket

from batch_claims.errors import JournalLocked
from batch_claims.send.journal.core import JournalCore, guarded
from batch_claims.send.journal.filelock import FileLock, LockHolder


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LockTable(JournalCore):
    """Taking, recording and releasing a journal's run lock."""

    @guarded
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

    @guarded
    def release_lock(self, run_id: str) -> None:
        try:
            with self.atomic():
                self.db.execute("DELETE FROM lock WHERE id = 1 AND run_id = ?", (run_id,))
                self.db.execute(
                    "UPDATE runs SET finished_at = ? WHERE run_id = ?", (self._stamp(), run_id)
                )
        finally:
            self.release_file_lock()

    @guarded
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

    @guarded
    def clear_lock_record(self) -> None:
        with self.atomic():
            self.db.execute("DELETE FROM lock WHERE id = 1")
