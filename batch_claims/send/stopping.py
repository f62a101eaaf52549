"""How a run stops and what the rows it did not reach say: the ``StopSignal`` a signal
handler or the ``--max-minutes`` deadline sets, the reasons told in the not_attempted
rows, and the reason a run-stopping error gives them."""

from __future__ import annotations

from dataclasses import dataclass

from batch_claims.errors import (
    AuthRefused,
    JournalFailed,
    NotSent,
    NotTheApi,
    RunAborted,
    TlsFailed,
    Unreachable,
)
from batch_claims.outcome import Claim, RowOutcome, Status

SLOT_ENDED = "the --max-minutes slot ended"
TOO_LATE_TICKET = "the --max-minutes slot ends before the rate limits allow this ticket"
TOO_LATE_UPLOADS = "the --max-minutes slot ends before the rate limits allow this row's uploads"
STILL_GOING = "not attempted yet: the run is still going (this workbook is refreshed as it goes)"


@dataclass
class StopSignal:
    """Set by a signal handler or the deadline; checked between steps, so the request in
    progress finishes and is recorded before the run stops."""

    reason: str | None = None
    timed_out: bool = False

    def request(self, reason: str, timed_out: bool = False) -> None:
        if self.reason is None:
            self.reason = reason
            self.timed_out = timed_out


def stop_reason(exc: RunAborted) -> str:
    """The not_attempted detail of the rows a run-stopping error left."""
    if isinstance(exc, AuthRefused):
        return "the credentials were refused"
    if isinstance(exc, NotTheApi | Unreachable | TlsFailed | JournalFailed | NotSent):
        return exc.message
    return str(exc)


def not_attempted(claim: Claim, reason: str, prefix: bool = True) -> RowOutcome:
    """The row was not sent, for ``reason`` (prefixed "not attempted: " unless the
    caller says it is a sentence of its own, as a hold-back's is)."""
    detail = f"not attempted: {reason}" if prefix else reason
    return claim.outcome(Status.NOT_ATTEMPTED, error_detail=detail)
