"""Sliding-window rate limits over named scopes, waiting only through the injected Clock.

A ``RateLimiter`` keeps, per scope ("ticket", "request", "burst"), the times of the
requests in its last window and grants a reservation only while every scope it names
holds fewer than N of them. It is not a token bucket: a bucket of capacity N lets 2N
requests through within one window, a sliding window never lets more than N.

A reservation counts from the moment it is granted; ``Slot.done()`` moves it to the
completion time. The server counts a request when it arrives, somewhere between send
and answer, so counting from completion keeps the server's count within the limit
whatever the latency. While another thread's reservation is still in flight it counts
as "now" in every window it belongs to.

Windows outlive a run: an optional ``Recorder`` is told of every request sent and
answered (the journal keeps them), and ``seed`` loads the requests of an earlier run
that still count, so a rerun or a restart after a crash starts where the account is.
``least_span`` plans with those same requests.

With a ``deadline``, ``reserve`` never starts a wait that ends after it: it raises
``TooLate`` at once instead (a cron slot is not overrun by a wait for a window).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType, TracebackType
from typing import Protocol

from batch_claims.clock import Clock
from batch_claims.errors import TooLate
from batch_claims.limits import Limit

# Smallest sleep: guarantees a FakeClock moves even when a wait rounds to nothing.
_MIN_SLEEP = 1e-6


class Recorder(Protocol):
    """Keeps the requests a limiter grants beyond this process (see ``seed``)."""

    def sent(self, scopes: Sequence[str]) -> object:
        """A request in these scopes is being sent; returns a handle for ``answered``."""
        ...

    def answered(self, handle: object) -> None: ...


class _Reservation:
    __slots__ = ("reserved_at", "done_at", "owner", "record")

    def __init__(self, reserved_at: float, owner: int) -> None:
        self.reserved_at = reserved_at
        self.done_at: float | None = None
        self.owner = owner
        self.record: object = None


class Slot:
    """One granted reservation; ``done()`` (or leaving the ``with`` block) completes it."""

    def __init__(
        self,
        limiter: RateLimiter,
        reservation: _Reservation,
        scopes: tuple[str, ...],
        waited: float,
    ) -> None:
        self._limiter = limiter
        self._reservation = reservation
        self.scopes = scopes
        self.waited = waited

    @property
    def reserved_at(self) -> float:
        return self._reservation.reserved_at

    @property
    def done_at(self) -> float | None:
        return self._reservation.done_at

    def done(self) -> None:
        """Count this request from now on (idempotent)."""
        self._limiter._finish(self._reservation)

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.done()

    def __repr__(self) -> str:
        return (
            f"Slot(scopes={self.scopes!r}, reserved_at={self.reserved_at}, done_at={self.done_at})"
        )


class RateLimiter:
    """Sliding-window limits per scope; thread-safe; waits only via ``clock.sleep``.

    A scope without a ``Limit`` is unlimited. ``margin`` lengthens every window (safety
    against clock differences). ``on_wait(seconds, scope)`` is called before each sleep.
    Waiting for another thread's in-flight request to finish uses a Condition, not time.
    """

    def __init__(
        self,
        clock: Clock,
        limits: Mapping[str, Limit],
        margin: float = 0.0,
        on_wait: Callable[[float, str], None] | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        if not (math.isfinite(margin) and margin >= 0):
            raise ValueError(f"margin must be a finite number ≥ 0; got {margin!r}")
        for scope, limit in limits.items():
            if not isinstance(limit, Limit):
                raise TypeError(f"limit for scope {scope!r} must be a Limit; got {limit!r}")
        self._clock = clock
        self._limits = dict(limits)
        self._margin = float(margin)
        self._on_wait = on_wait
        self._recorder = recorder
        self._events: dict[str, list[_Reservation]] = {scope: [] for scope in self._limits}
        self._blocked_until: dict[str, float] = {}
        self._cond = threading.Condition(threading.Lock())

    @property
    def limits(self) -> Mapping[str, Limit]:
        return MappingProxyType(self._limits)

    @property
    def margin(self) -> float:
        return self._margin

    def reserve(self, scopes: Sequence[str], deadline: float | None = None) -> Slot:
        """Wait until every scope has room, record the request in all of them.

        ``deadline`` (a ``clock.monotonic()`` value): raise ``TooLate`` instead of
        starting a wait that would end after it.
        """
        names = tuple(dict.fromkeys(scopes))
        me = threading.get_ident()
        start = self._clock.monotonic()
        while True:
            with self._cond:
                now = self._clock.monotonic()
                wait, scope, in_flight = self._wait_locked(names, now, me)
                if wait <= 0:
                    reservation = _Reservation(now, me)
                    for name in names:
                        if name in self._events:
                            self._events[name].append(reservation)
                    break
                if deadline is not None and now + wait > deadline:
                    raise TooLate(
                        f"the --max-minutes slot ends before the {scope} rate limit allows "
                        "this request"
                    )
                if in_flight:
                    # Another thread's request fills the window: wait for its done().
                    self._cond.wait()
                    continue
            if self._on_wait is not None:
                self._on_wait(wait, scope)
            self._clock.sleep(max(wait, _MIN_SLEEP))
        if self._recorder is not None:  # outside the lock: it may write to disk
            try:
                reservation.record = self._recorder.sent(names)
            except BaseException:
                self._finish(reservation)  # nothing is sent: never hold the window open
                raise
        return Slot(self, reservation, names, max(0.0, now - start))

    def seed(self, requests: Iterable[tuple[Sequence[str], float]]) -> None:
        """Count requests made before this limiter existed: (scopes, monotonic time they
        were answered — or, for one whose answer nobody saw, the latest it can have
        arrived)."""
        with self._cond:
            for scopes, at in requests:
                reservation = _Reservation(at, 0)
                reservation.done_at = at
                for name in dict.fromkeys(scopes):
                    if name in self._events:
                        self._events[name].append(reservation)

    def wait_time(self, scopes: Sequence[str]) -> float:
        """Seconds until ``reserve(scopes)`` could be granted (0 when free now)."""
        with self._cond:
            now = self._clock.monotonic()
            wait, _, _ = self._wait_locked(tuple(scopes), now, threading.get_ident())
        return max(0.0, wait)

    def penalise(self, scopes: Sequence[str], seconds: float) -> None:
        """Grant nothing in these scopes for ``seconds`` from now (after a 429)."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        with self._cond:
            until = self._clock.monotonic() + seconds
            for name in scopes:
                self._blocked_until[name] = max(self._blocked_until.get(name, until), until)

    def _finish(self, reservation: _Reservation) -> None:
        with self._cond:
            if reservation.done_at is not None:
                return
            reservation.done_at = self._clock.monotonic()
            self._cond.notify_all()
        if self._recorder is not None and reservation.record is not None:
            self._recorder.answered(reservation.record)

    def _wait_locked(self, names: tuple[str, ...], now: float, me: int) -> tuple[float, str, bool]:
        best, best_scope, best_in_flight = 0.0, names[0] if names else "", False
        for name in names:
            wait, in_flight = self._scope_wait(name, now, me)
            if wait > best:
                best, best_scope, best_in_flight = wait, name, in_flight
        return best, best_scope, best_in_flight

    def _scope_wait(self, name: str, now: float, me: int) -> tuple[float, bool]:
        """(seconds to wait, whether only an in-flight request of another thread frees it)."""
        penalty = self._blocked_until.get(name, now) - now
        limit = self._limits.get(name)
        if limit is None:
            return penalty, False
        window = limit.seconds + self._margin
        events = self._events[name]
        events[:] = [r for r in events if r.done_at is None or r.done_at + window > now]
        expiries: list[float] = []
        in_flight = 0
        for r in events:
            if r.done_at is not None:
                expiries.append(r.done_at + window)
            elif r.owner != me:
                in_flight += 1
            elif r.reserved_at + window > now:
                # Our own unfinished reservation: this thread is not sending it now.
                expiries.append(r.reserved_at + window)
        excess = len(expiries) + in_flight - limit.count + 1
        wait, blocked = 0.0, False
        if excess > 0:
            if excess <= len(expiries):
                expiries.sort()
                wait = expiries[excess - 1] - now
            else:
                wait, blocked = window, True
        if penalty > wait:
            return penalty, False
        return wait, blocked

    def __repr__(self) -> str:
        limits = ", ".join(f"{name}={limit}" for name, limit in self._limits.items())
        return f"RateLimiter({limits}, margin={self._margin:g})"


def least_span(
    limits: Mapping[str, Limit],
    counts: Mapping[str, int],
    earlier: Iterable[tuple[Sequence[str], float]] = (),
    now: float = 0.0,
    margin: float = 0.0,
) -> float:
    """The least seconds from ``now`` until the last of ``counts[scope]`` new requests
    may start, when the requests in ``earlier`` ((scopes, monotonic time they count
    from), as for ``seed``) still fill the windows.

    Each scope alone bounds the span from below (its requests as early as its window
    allows, one after another); the binding scope is the largest. Without earlier
    requests this is ``floor((K - 1) / N) * W``.
    """
    earlier = list(earlier)
    span = 0.0
    for scope, count in counts.items():
        limit = limits.get(scope)
        if limit is None or count <= 0:
            continue
        window, n = limit.seconds + margin, limit.count
        times = sorted(at for scopes, at in earlier if scope in scopes and at + window > now)
        # The first 2N new requests one by one (the earlier ones bind only these); from
        # then on each is the one N before it, a window later, so the last is known
        # without the tens of thousands of steps of a big sheet.
        new: list[float] = []
        last = now
        for _ in range(min(count, 2 * n)):
            if len(times) >= n:
                last = max(last, times[-n] + window)
            times.append(last)
            new.append(last)
        if count > 2 * n:
            at = n + (count - 1 - n) % n  # the request of the second block it repeats
            last = new[at] + (count - 1 - at) // n * window
        span = max(span, last - now)
    return span
