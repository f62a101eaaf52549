"""Request windows that outlive a run: every POST's send and answer times in the
``posts`` table (``Posts``), and ``RequestLog``, the rate limiter's recorder on them —
a rerun, or a restart after a crash, must not meet a 429 for what the last run sent.

These writes need only survive the process, not a power cut: they skip the fsync the
claims' writes make. POSTs older than a day are forgotten."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from batch_claims.clock import Clock
from batch_claims.errors import JournalFailed
from batch_claims.send.journal.core import JournalCore, guarded

DAY = 86400.0


class Posts(JournalCore):
    """Recording POSTs and reading those still in a window."""

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

    @guarded
    def post_sent(self, scopes: Sequence[str], at: float) -> int:
        with self._unsynced():
            cursor = self.db.execute(
                "INSERT INTO posts (scopes, sent_at) VALUES (?, ?)", (",".join(scopes), at)
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @guarded
    def post_answered(self, post_id: int, at: float) -> None:
        with self._unsynced():
            self.db.execute("UPDATE posts SET answered_at = ? WHERE id = ?", (at, post_id))

    @guarded
    def posts_since(self, since: float) -> list[tuple[tuple[str, ...], float, float | None]]:
        """(scopes, sent_at, answered_at) of the POSTs sent or answered after ``since``
        (epoch seconds); older ones are forgotten."""
        with self._unsynced():
            self.db.execute(
                "DELETE FROM posts WHERE coalesce(answered_at, sent_at) < ?", (since - DAY,)
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


class RequestLog:
    """The limiter's ``Recorder`` on the journal: every POST's send and answer times, and
    the earlier ones that still count when a run starts (a rerun, or a restart after a
    crash, must not meet a 429 for what the last run sent)."""

    def __init__(self, journal: Posts, clock: Clock) -> None:
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
