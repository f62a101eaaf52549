"""What one sandbox app holds, and how a request reaches it.

The state holds the app's clock: its windows, token lifetimes, request and ticket
timestamps and the latency and slow-answer pauses all read or wait on it, so a test
can run them on a ``FakeClock`` while a served sandbox keeps the ``SystemClock``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TypedDict, cast

from flask import Flask, current_app

from batch_claims.clock import Clock
from batch_claims.sandbox.config import SandboxConfig
from batch_claims.sandbox.faults import FaultDice
from batch_claims.sandbox.windows import Windows

EXTENSION = "batch_claims.sandbox"
API_PREFIX = "/api/v3"
TOKEN_PATH = "/oauth2/token/"
# Longest step a pause sleeps before it looks again whether the server is shutting down.
HALT_CHECK = 0.05


class FileSummary(TypedDict):
    filename: str
    content_type: str
    size: int
    sha256: str


class FileRecord(FileSummary):
    file_token: str
    uploaded_at: float


class TicketRecord(TypedDict):
    ticket_id: str
    type: str  # the ticket type's path name, e.g. "damage", "lost"
    body: dict[str, object]
    is_portal_claim: bool
    created_at: float
    files: dict[str, FileSummary]


class RequestRecord(TypedDict):
    method: str
    path: str
    scopes: list[str]
    arrived_at: float
    status: int | None
    user: str | None  # the Basic user name (public key) it came with; None for a token


@dataclass
class SandboxState:
    """Everything one sandbox app holds; mutate the collections under ``lock``."""

    config: SandboxConfig
    clock: Clock
    windows: Windows
    dice: FaultDice
    lock: threading.Lock = field(default_factory=threading.Lock)
    halt: threading.Event = field(default_factory=threading.Event)
    files: dict[str, FileRecord] = field(default_factory=dict)
    tickets: list[TicketRecord] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)

    def wall_time(self) -> float:
        """Seconds since the epoch, like ``time.time()``."""
        return self.clock.utcnow().timestamp()

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` on the clock, in steps of at most ``HALT_CHECK``; cut short
        when the server shuts down."""
        end = self.clock.monotonic() + seconds
        while not self.halt.is_set():
            left = end - self.clock.monotonic()
            if left <= 0:
                return
            self.clock.sleep(min(left, HALT_CHECK))

    def reset(self) -> None:
        """Forget uploads, tickets, windows and the request log; reseed the faults."""
        with self.lock:
            self.files.clear()
            self.tickets.clear()
            self.requests.clear()
        self.windows.clear()
        self.dice.reset()


def sandbox_state(app: Flask) -> SandboxState:
    """The state of a sandbox app made by ``create_app``."""
    return cast(SandboxState, app.extensions[EXTENSION])


def current_state() -> SandboxState:
    return sandbox_state(current_app)
