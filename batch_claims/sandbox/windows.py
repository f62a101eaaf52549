"""The sandbox's own strict moving-window counter.

Deliberately separate from the client's limiter (``batch_claims.api``), so a bug in
one cannot hide behind the other. A window of ``count`` per ``seconds`` refuses a new
arrival at ``now`` when it already holds ``count`` arrivals with ``t > now - seconds``;
a refused arrival is not recorded. So no span of ``seconds`` ever admits more than
``count`` arrivals.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from batch_claims.clock import UNIT_SECONDS


@dataclass(frozen=True)
class Limit:
    """At most ``count`` arrivals in any ``seconds`` span, for one scope."""

    scope: str
    count: int
    seconds: float

    def describe(self) -> str:
        """The limit in the words of Sendcloud's 429, e.g. ``15 per 1 minute``."""
        for unit in ("hour", "minute", "second"):
            amount = self.seconds / UNIT_SECONDS[unit]
            if amount >= 1 and math.isclose(amount, round(amount)):
                number = round(amount)
                return f"{self.count} per {number} {unit}{'' if number == 1 else 's'}"
        return f"{self.count} per {self.seconds:g} seconds"


class MovingWindow:
    """Arrival times of one scope (not thread-safe; ``Windows`` holds the lock)."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._arrivals: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more arrival fits; ``0.0`` when it fits now."""
        horizon = now - self.limit.seconds
        while self._arrivals and self._arrivals[0] <= horizon:
            self._arrivals.popleft()
        if len(self._arrivals) < self.limit.count:
            return 0.0
        # The window frees when its count-th newest arrival leaves it.
        oldest_that_matters = self._arrivals[-self.limit.count]
        return oldest_that_matters + self.limit.seconds - now

    def record(self, now: float) -> None:
        self._arrivals.append(now)

    def __len__(self) -> int:
        return len(self._arrivals)


@dataclass(frozen=True)
class Refusal:
    """Why an arrival was refused: the limit hit and the seconds until it frees."""

    limit: Limit
    wait: float


class Windows:
    """Moving windows by scope; ``admit`` reads the clock, checks and records under one lock.

    ``clock`` returns seconds on a clock that never goes back (``time.monotonic``-like);
    reading it under the lock keeps every window's arrivals in order.
    """

    def __init__(self, limits: Iterable[Limit], clock: Callable[[], float]) -> None:
        self._windows = {limit.scope: MovingWindow(limit) for limit in limits}
        self._clock = clock
        self._lock = threading.Lock()

    def admit(self, scopes: Sequence[str]) -> Refusal | None:
        """Record an arrival now in every scope, or refuse it (recording nothing).

        When several scopes are full, the refusal names the one that frees last,
        so waiting its ``wait`` is enough for all of them.
        """
        with self._lock:
            now = self._clock()
            windows = [self._windows[scope] for scope in scopes]
            refusals = [
                Refusal(window.limit, wait) for window in windows if (wait := window.wait(now)) > 0
            ]
            if refusals:
                return max(refusals, key=lambda refusal: refusal.wait)
            for window in windows:
                window.record(now)
            return None

    def clear(self) -> None:
        with self._lock:
            for scope, window in self._windows.items():
                self._windows[scope] = MovingWindow(window.limit)
