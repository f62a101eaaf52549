"""Fault injection: which POSTs fail, and how a connection is dropped.

Every POST to the API that passes authentication rolls one ``FaultPlan`` from a
``random.Random(SEED)``, always drawing the same six numbers in the same order, so a
given sequence of requests meets the same faults on every run whatever shares are set.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from batch_claims.sandbox.config import SandboxConfig

# Status a dropped answer gets where there is no socket to close (Flask's test client);
# the real server never sends it. Borrowed from nginx's "444 No Response".
NO_RESPONSE = 444


class ConnectionDropped(Exception):
    """Raised by a view to hang up on the client without an answer."""


@dataclass(frozen=True)
class FaultPlan:
    """The faults one POST meets; at most one of the pre-processing faults applies."""

    spurious_429: bool = False
    drop: bool = False
    error_status: int | None = None
    lose_response: bool = False
    slow: bool = False


class FaultDice:
    """Rolls ``FaultPlan`` values deterministically from a seed; thread-safe."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()

    def roll(self, *, is_ticket: bool) -> FaultPlan:
        """The faults of the next POST (lost/slow answers only for ticket POSTs)."""
        with self._lock:
            burst, drop, error, kind, lost, slow = (self._rng.random() for _ in range(6))
        c = self._config
        if burst < c.rate_limit_burst_rate:
            return FaultPlan(spurious_429=True)
        if drop < c.drop_rate:
            return FaultPlan(drop=True)
        if error < c.error_rate:
            return FaultPlan(error_status=503 if kind < 0.5 else 500)
        if is_ticket and lost < c.lost_response_rate:
            return FaultPlan(lose_response=True)
        if is_ticket and slow < c.slow_rate:
            return FaultPlan(slow=True)
        return FaultPlan()

    def reset(self) -> None:
        """Start the sequence again from the seed."""
        with self._lock:
            self._rng = random.Random(self._config.seed)


def drop_connection(environ: Mapping[str, object]) -> bool:
    """Hang up on the client without an answer; False when there is no socket.

    Werkzeug's development server exposes the connection as ``werkzeug.socket``.
    After the shutdown, the server's attempt to write the response fails with a
    ``BrokenPipeError``, which it treats as a client that went away, silently.
    """
    connection = environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket):
        return False
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:  # already gone
        pass
    return True
