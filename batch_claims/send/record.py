"""What the journal says about a claim, as a row outcome: the one mapping from a
claim's record (a ticket, a request whose outcome is unknown) to what a run does with
the row. The plan, the dry run and the Submitter all ask it: ``outcome_of_record`` for
what earlier runs left, ``outcome_of_this_run`` for this run's own attempt after an
interruption or an error mid-row."""

from __future__ import annotations

import json
from typing import Any

from batch_claims.outcome import Claim, ErrorCode, RowOutcome, Status
from batch_claims.send.journal import CREATED, IN_FLIGHT, UNCONFIRMED, ClaimRecord
from batch_claims.send.payload import changed_fields, normalised
from batch_claims.ticket_types import TicketType


def outcome_of_record(
    record: ClaimRecord | None,
    claim: Claim,
    force: bool = False,
    resubmit_unconfirmed: bool = False,
) -> RowOutcome | None:
    """What the journal's ``record`` of this claim says: a ticket, a request whose
    outcome is unknown, or None when it is to be sent."""
    if record is None:
        return None
    if record.state == CREATED and not force:
        detail = None
        if record.claim is not None:
            changed = changed_fields(record.claim, json_roundtrip(normalised(claim)))
            if changed:
                detail = (
                    "the sheet differs from what was sent in: "
                    + ", ".join(changed)
                    + " (the ticket holds the earlier values)"
                )
        return claim.outcome(
            Status.ALREADY_SUBMITTED, ticket_id=record.ticket_id, error_detail=detail
        )
    if record.state in (IN_FLIGHT, UNCONFIRMED) and not resubmit_unconfirmed:
        return claim.outcome(
            Status.UNCONFIRMED,
            error_code=Status.UNCONFIRMED.value,
            error_detail=unconfirmed_hint(
                claim.tracking_number, record.updated_at, claim.ticket_type
            ),
        )
    return None


def json_roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from JSON (tuples become lists, keys sorted)."""
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return result


def unconfirmed_hint(
    tracking_number: str, since: str | None, ticket_type: TicketType = TicketType.DAMAGE
) -> str:
    when = f" on {since}" if since else ""
    kind = "" if ticket_type is TicketType.DAMAGE else f" --ticket-type {ticket_type}"
    what = "a ticket" if ticket_type is TicketType.DAMAGE else f"a {ticket_type} ticket"
    return (
        f"{what} request for {tracking_number} may have reached Sendcloud{when} and its "
        "outcome is unknown; look the parcel up in the Sendcloud panel, then run "
        f"`batch-claims resolve {tracking_number}{kind} --ticket-id ID` or `--not-created` "
        "(or submit with --resubmit-unconfirmed)"
    )


def outcome_of_this_run(record: ClaimRecord, claim: Claim, why: str | None) -> RowOutcome | None:
    """What this run's own ticket attempt came to, as its journal ``record`` has it after
    an interruption (``why`` None) or an error mid-row (``why`` says which): a ticket, or
    a request whose outcome is unknown; None when it never reached the ticket step."""
    if record.state == CREATED:
        return claim.outcome(Status.SUBMITTED, ticket_id=record.ticket_id)
    if record.state in (IN_FLIGHT, UNCONFIRMED):
        hint = unconfirmed_hint(claim.tracking_number, None, claim.ticket_type)
        return claim.outcome(
            Status.UNCONFIRMED,
            error_code=ErrorCode.INTERRUPTED if why is None else ErrorCode.INTERNAL_ERROR,
            error_detail=hint if why is None else f"{why} — {hint}",
        )
    return None
