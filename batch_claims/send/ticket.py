"""One ticket request through the journal, write-ahead: the attempt is recorded
``in_flight`` (committed) once the rate limits grant it and right before it goes out,
and its answer right after; what it came to is the row's outcome.

A request never sent (the run stopped, or the ``--max-minutes`` slot ends first) is
``not_created``; one whose answer is unknown (a dropped connection, a lost answer, an
interruption mid-request) is ``unconfirmed`` and never sent again by itself. The
``fault`` hook of the run is called at ``before_ticket``, ``after_ticket`` and
``after_record``.
"""

from __future__ import annotations

from typing import Any, Protocol

from batch_claims.api.client import SupportClient
from batch_claims.clock import Clock
from batch_claims.errors import (
    NOTHING_SENT,
    AuthRefused,
    GaveUp,
    JournalFailed,
    Rejected,
    TooLate,
    Unconfirmed,
)
from batch_claims.outcome import Claim, ErrorCode, RowOutcome, Status
from batch_claims.send.journal import CREATED, NOT_CREATED, UNCONFIRMED, ClaimState, Journal
from batch_claims.send.payload import (
    build_payload,
    normalised,
    request_hash,
)
from batch_claims.send.record import json_roundtrip, unconfirmed_hint
from batch_claims.send.stopping import (
    SLOT_ENDED,
    TOO_LATE_TICKET,
    StopSignal,
    not_attempted,
    stop_reason,
)


class TicketRun(Protocol):
    """What a ticket request needs of the run sending it (the ``Submitter``)."""

    client: SupportClient
    journal: Journal
    clock: Clock
    run_id: str
    stop: StopSignal
    journal_failure: JournalFailed | None

    def fault(self, point: str) -> None: ...

    def why_stop(self) -> str | None: ...


class _NotSent(Exception):
    """The run stopped while a ticket waited for its window: it is not sent."""


def create_ticket(
    run: TicketRun, claim: Claim, tokens: dict[str, str]
) -> tuple[RowOutcome, Rejected | None]:
    """Request the claim's ticket through the journal; the outcome, and the refusal the
    hold-back learns from (None unless the API refused the row)."""
    payload = build_payload(claim, tokens)
    attempts: list[int] = []  # the journal's attempt, once the request is to go out

    def before_send() -> None:
        """Granted by the rate limits: stop here if the run is stopping, else record
        the attempt in_flight (committed) right before the request goes out."""
        if run.why_stop() is not None:
            raise _NotSent
        if not attempts:
            attempts.append(
                run.journal.begin_attempt(
                    run.run_id,
                    claim.tracking_number,
                    claim.ticket_type,
                    request_hash(claim),
                    json_roundtrip(normalised(claim)),
                )
            )
            run.fault("before_ticket")

    def finish(state: ClaimState, **answer: Any) -> bool:
        """Record the answer; False when the journal cannot (the run then stops,
        and the attempt stays in_flight: the next run reports it unconfirmed)."""
        if attempts:
            try:
                run.journal.finish_attempt(attempts[0], state, **answer)
            except JournalFailed as exc:
                run.journal_failure = run.journal_failure or exc
                return False
        return True

    try:
        result = run.client.create_ticket(
            payload,
            claim.is_portal_claim,
            before_send=before_send,
            ticket_type=claim.ticket_type.value,
        )
    except _NotSent:
        # Stopped while waiting for a window: nothing of this attempt reached Sendcloud
        # (an earlier try of it was certainly not processed, or it would not be retried).
        finish(NOT_CREATED, detail="the run stopped before the request was sent")
        return not_attempted(claim, run.stop.reason or "the run stopped"), None
    except TooLate:
        # The deadline comes before the windows (or a back-off) allow the request: as
        # above, nothing of this attempt reached Sendcloud.
        finish(NOT_CREATED, detail="not sent: " + TOO_LATE_TICKET)
        run.stop.request(SLOT_ENDED, timed_out=True)
        return not_attempted(claim, TOO_LATE_TICKET), None
    except (Rejected, GaveUp, Unconfirmed) as exc:
        state = UNCONFIRMED if isinstance(exc, Unconfirmed) else NOT_CREATED
        finish(state, http_status=exc.http_status, error_code=exc.error_code, detail=exc.detail)
        if isinstance(exc, Rejected):
            return api_failure(claim, Status.REJECTED, exc), exc
        if isinstance(exc, GaveUp):
            return api_failure(claim, Status.FAILED, exc), None
        hint = unconfirmed_hint(claim.tracking_number, None, claim.ticket_type)
        return api_failure(claim, Status.UNCONFIRMED, exc, hint), None
    except NOTHING_SENT as exc:
        # Refused credentials, not the Support API, unreachable, TLS: certainly no
        # ticket; the run stops.
        status = 401 if isinstance(exc, AuthRefused) else None
        finish(NOT_CREATED, http_status=status, detail=stop_reason(exc))
        raise
    except KeyboardInterrupt:
        run.stop.request("the run was interrupted")
        if not attempts:  # still waiting for a window: nothing went out
            return not_attempted(claim, "the run was interrupted"), None
        # Interrupted mid-request: the request may have gone out.
        finish(UNCONFIRMED, detail="run interrupted")
        detail = "the run was interrupted while the ticket request was under way — "
        return claim.outcome(
            Status.UNCONFIRMED,
            error_code=ErrorCode.INTERRUPTED,
            error_detail=detail + unconfirmed_hint(claim.tracking_number, None, claim.ticket_type),
        ), None
    run.fault("after_ticket")
    recorded = finish(CREATED, ticket_id=result.ticket_id, http_status=result.http_status)
    run.fault("after_record")
    return claim.outcome(
        Status.SUBMITTED,
        ticket_id=result.ticket_id,
        http_status=result.http_status,
        attempts=result.attempts,
        submitted_at=run.clock.utcnow(),
        error_detail=None
        if recorded
        else (
            "the ticket was created, but the journal could not record it; once the "
            f"journal works, run `batch-claims resolve {claim.tracking_number} "
            f"--ticket-id {result.ticket_id}`"
        ),
    ), None


def api_failure(
    claim: Claim,
    status: Status,
    exc: Rejected | GaveUp | Unconfirmed,
    hint: str | None = None,
) -> RowOutcome:
    """The row's outcome for an API error: its status, code, detail and attempts."""
    detail = exc.detail if hint is None else f"{exc.detail} — {hint}"
    return claim.outcome(
        status,
        http_status=exc.http_status,
        error_code=exc.error_code or ErrorCode(status.value),
        error_detail=detail,
        attempts=exc.attempts,
    )
