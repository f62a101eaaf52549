"""The clock the rate limiter and back-off wait on: the only module that touches ``time``;
and ``UNIT_SECONDS``, the one table of units of time a flag, a config or a server writes.

``SystemClock`` is the real one. ``FakeClock`` advances instantly when asked to sleep,
so tests run a minute of rate limiting in microseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

# Seconds in a unit of time, by each name a duration flag ("90m"), a 429's text ("per 1
# minute") or a limit's description ("15 per 1 hour") gives it.
UNIT_SECONDS: Mapping[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
}


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None: ...

    def utcnow(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that only moves when slept on or advanced; thread-safe."""

    def __init__(self, start: float = 1000.0, epoch: datetime | None = None) -> None:
        """``utcnow()`` is ``epoch`` plus the monotonic seconds."""
        self._now = start
        self._epoch = epoch or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def utcnow(self) -> datetime:
        with self._lock:
            return self._epoch + timedelta(seconds=self._now)


def iso_utc(moment: datetime | None) -> str | None:
    """``2026-11-27T09:15:02Z``; a naive datetime is taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"
