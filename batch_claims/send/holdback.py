"""Learning from a refusal: when Sendcloud refuses a row for a reason later rows share,
hold those rows back instead of spending their uploads and ticket to hear it again.

Two reasons are shared by construction:
- 422 "Carrier support contact is required …": every row of that carrier contract;
- 400 "Validation Error …" about missing fields or JSON types: every row of the same
  variant whose body has the same fields (the refusal is about the shape they share).
A refusal about one parcel ("Parcel not found", "already delivered") teaches nothing
about other rows — but across runs it is that row's answer: a row the API refused for
what it contains (400, 404, 422) is not sent again while its request would be the same
(the same body and the same file bytes, by ``payload.request_hash``); ``--force``
sends it. Refusals of the credentials, rate limits, server errors and network failures
say nothing about the row and never hold it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from batch_claims.api.answers import about_a_file_token
from batch_claims.columns import CARRIER_CONTRACT_ID, TRACKING_NUMBER
from batch_claims.errors import Rejected
from batch_claims.outcome import Claim, ErrorCode, RowOutcome, Status
from batch_claims.send.journal import NOT_CREATED, AttemptRecord, Journal
from batch_claims.send.payload import request_hash

CARRIER_CONTACT_MISSING = "carrier support contact is required"
VALIDATION_ERROR = "validation error"
# Pydantic error types about which fields a body has and their JSON types, not values.
SHAPE_ERROR = re.compile(r"'type': '(missing|extra_forbidden|[a-z_]+_type)'")
# Answers about what the request contains: the same request hears the same answer.
CONTENT_REFUSALS = frozenset({400, 404, 422})


def _shape(claim: Claim) -> tuple[str, frozenset[str]]:
    """The variant and the set of body fields a claim sends."""
    names = set(claim.fields) | set(claim.attachments)
    return claim.variant.value, frozenset(names - {TRACKING_NUMBER})


@dataclass
class HoldBack:
    """The reasons learned so far in this run, and which later rows they cover."""

    enabled: bool = True
    _contracts: dict[int, tuple[int, str]] = field(default_factory=dict)
    _shapes: dict[tuple[str, frozenset[str]], tuple[int, str]] = field(default_factory=dict)

    def learn(self, claim: Claim, refusal: Rejected) -> None:
        if not self.enabled:
            return
        detail = refusal.detail.lower()
        contract = claim.fields.get(CARRIER_CONTRACT_ID)
        if CARRIER_CONTACT_MISSING in detail and isinstance(contract, int):
            self._contracts.setdefault(contract, (claim.row, refusal.detail))
        elif refusal.http_status == 400 and detail.startswith(VALIDATION_ERROR):
            if SHAPE_ERROR.search(refusal.detail):
                self._shapes.setdefault(_shape(claim), (claim.row, refusal.detail))

    def reason_for(self, claim: Claim) -> str | None:
        """Why this row is held back, or None to send it."""
        if not self.enabled:
            return None
        contract = claim.fields.get(CARRIER_CONTRACT_ID)
        learned = self._contracts.get(contract) if isinstance(contract, int) else None
        if learned is None:
            learned = self._shapes.get(_shape(claim))
        if learned is None:
            return None
        row, detail = learned
        return (
            f"held back: row {row} was refused for a reason this row shares: {detail} "
            "(fix the cause and run again; --no-hold-back sends such rows anyway)"
        )


def refused_unchanged_outcomes(
    journal: Journal, claims: Sequence[Claim], force: bool = False
) -> dict[int, RowOutcome]:
    """By row: the claims the API refused for what they contain whose request would be
    the same again, ``not_attempted`` with that answer (``--force``: none). Reads only."""
    if force or not claims:
        return {}
    latest: dict[tuple[str, str], AttemptRecord] = {}
    for ticket_type in {claim.ticket_type for claim in claims}:
        numbers = [c.tracking_number for c in claims if c.ticket_type is ticket_type]
        found = journal.last_attempts(numbers, ticket_type)
        latest.update(((number, ticket_type), record) for number, record in found.items())
    if not latest:  # no claim was tried before: nothing to compare
        return {}
    held: dict[int, RowOutcome] = {}
    for claim in claims:
        last = latest.get((claim.tracking_number, claim.ticket_type))
        if last is None or last.state != NOT_CREATED:
            continue  # nothing refused to compare with: the request is not built
        reason = refused_unchanged(last, request_hash(claim))
        if reason is not None:
            held[claim.row] = claim.outcome(
                Status.NOT_ATTEMPTED,
                error_code=ErrorCode.UNCHANGED_SINCE_REFUSED,
                error_detail=reason,
            )
    return held


def refused_unchanged(latest: AttemptRecord | None, request_hash: str) -> str | None:
    """Why a row is not sent again: its latest ticket attempt was refused for what it
    contained, and this request would be the same; None to send it."""
    if latest is None or latest.state != NOT_CREATED:
        return None
    if latest.http_status not in CONTENT_REFUSALS or latest.payload_hash != request_hash:
        return None
    detail = latest.detail or f"HTTP {latest.http_status}"
    if about_a_file_token(detail):
        return None  # about an uploaded file's token, which a new upload replaces
    return f"unchanged since refused on {_when(latest)}: {detail} — fix the row, or --force"


def _when(attempt: AttemptRecord) -> str:
    """``2026-11-27 09:15 UTC`` from the journal's ISO stamp."""
    stamp = attempt.finished_at or attempt.started_at
    return f"{stamp[:10]} {stamp[11:16]} UTC" if len(stamp) >= 16 else stamp
