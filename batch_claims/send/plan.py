"""The plan of a submit: what the journal already knows of each claim (a ticket, an
unknown outcome, a refusal held back while unchanged), what will be sent, and the least
time the rate limits allow for it; and the outcomes of `submit --dry-run`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from batch_claims.api.ratelimit import least_span
from batch_claims.clock import Clock
from batch_claims.limits import Scope
from batch_claims.outcome import Claim, RowOutcome, Status
from batch_claims.send.holdback import refused_unchanged_outcomes
from batch_claims.send.journal import ClaimRecord, Journal, RequestLog
from batch_claims.send.record import outcome_of_record
from batch_claims.settings import Settings
from batch_claims.ticket_types import TicketType
from batch_claims.validate.prepare import Prepared


@dataclass(frozen=True)
class Plan:
    """What a submit will send and the least time the limits allow for it."""

    tickets: int
    uploads: int
    already_submitted: int
    unconfirmed: int
    least_seconds: float
    held_back: int = 0  # refused earlier for what they contain, and unchanged since
    # By row: what the journal already knows of each claim (``planned_outcomes``), so
    # that a dry run tells the same without asking the journal again.
    known: Mapping[int, RowOutcome | None] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        held = (
            f", {self.held_back} are held back (refused earlier, unchanged since)"
            if self.held_back
            else ""
        )
        return (
            f"plan: {self.tickets} ticket POSTs and {self.uploads} file uploads "
            f"({self.tickets + self.uploads} POSTs); {self.already_submitted} rows already "
            f"have a ticket, {self.unconfirmed} are unconfirmed{held}; the rate limits allow "
            f"this in no less than {duration(self.least_seconds)}"
        )


def duration(seconds: float) -> str:
    """3.25 → "3.25s", 75 → "1m15s"."""
    if seconds < 60:
        return f"{seconds:.2f}s".replace(".00s", "s")
    minutes, rest = divmod(math.ceil(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def least_seconds(settings: Settings, tickets: int, uploads: int) -> float:
    """The least span from first to last POST that strict windows allow.

    K requests under "at most N in any W seconds" need at least floor((K - 1) / N)
    full windows between the first and the last; the binding scope is the largest.
    """
    posts = tickets + uploads
    spans = [
        ((count - 1) // limit.count) * limit.seconds
        for count, limit in (
            (tickets, settings.ticket_limit),
            (posts, settings.request_limit),
            (posts, settings.burst_limit),
        )
        if count > 0
    ]
    return max(spans, default=0.0)


def plan(
    prepared: Prepared,
    journal: Journal,
    settings: Settings,
    force: bool = False,
    resubmit_unconfirmed: bool = False,
) -> Plan:
    claims = prepared.claims
    known_of = planned_outcomes(journal, claims, force, resubmit_unconfirmed)
    statuses = Counter(known.status for known in known_of.values() if known is not None)
    unsent = [claim for claim in claims if known_of[claim.row] is None]
    # Each file once, however many rows share it: one set made in one pass.
    files = {(a.sha256, a.content_type) for claim in unsent for a in claim.attachments.values()}
    uploads = len(files - journal.cached_keys(files, settings.token_max_age))
    tickets = len(unsent)
    done = statuses[Status.ALREADY_SUBMITTED]
    unconfirmed = statuses[Status.UNCONFIRMED]
    held = statuses[Status.NOT_ATTEMPTED]
    least = least_seconds(settings, tickets, uploads)
    return Plan(tickets, uploads, done, unconfirmed, least, held, known_of)


def known_outcomes(
    journal: Journal,
    claims: Sequence[Claim],
    force: bool = False,
    resubmit_unconfirmed: bool = False,
) -> dict[int, RowOutcome | None]:
    """``outcome_of_record`` of every claim by row, from one batch look-up of the journal
    per ticket type."""
    records = records_of(journal, claims)
    return {  # most claims have no record: no call for those
        claim.row: None
        if (record := records[claim.row]) is None
        else outcome_of_record(record, claim, force, resubmit_unconfirmed)
        for claim in claims
    }


def records_of(journal: Journal, claims: Sequence[Claim]) -> dict[int, ClaimRecord | None]:
    """By row: the journal's record of each claim (keyed by tracking number and ticket
    type), in one batch look-up per ticket type."""
    found: dict[int, ClaimRecord | None] = {}
    for ticket_type, group in by_type(claims).items():
        records = journal.claims_of([claim.tracking_number for claim in group], ticket_type)
        found.update((claim.row, records.get(claim.tracking_number)) for claim in group)
    return found


def by_type(claims: Sequence[Claim]) -> dict[TicketType, list[Claim]]:
    """The claims grouped by ticket type, each group in sheet order."""
    groups: dict[TicketType, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.ticket_type, []).append(claim)
    return groups


def planned_outcomes(
    journal: Journal,
    claims: Sequence[Claim],
    force: bool = False,
    resubmit_unconfirmed: bool = False,
) -> dict[int, RowOutcome | None]:
    """What a submit would do with each claim without sending it: the journal's ticket
    or unknown outcome, or a refusal it would hold back unchanged; None to send it."""
    known = known_outcomes(journal, claims, force, resubmit_unconfirmed)
    unsent = [claim for claim in claims if known[claim.row] is None]
    known.update(refused_unchanged_outcomes(journal, unsent, force))
    return known


def dry_run_outcomes(prepared: Prepared, the_plan: Plan) -> list[RowOutcome]:
    """Outcomes of ``submit --dry-run``: what the journal knows (a ticket, an unknown
    outcome, a refusal held back while unchanged, as the plan found), else ``valid``."""
    known = the_plan.known
    return [
        item if isinstance(item, RowOutcome) else known[item.row] or item.outcome(Status.VALID)
        for item in prepared.items
    ]


def least_seconds_now(
    settings: Settings, journal: Journal, clock: Clock, tickets: int, uploads: int
) -> float:
    """The least time from now the limits allow for these POSTs, counting the POSTs of
    earlier runs the journal knows to be still in the windows (as ``connect`` seeds the
    limiter with them)."""
    longest = max(limit.seconds for limit in settings.limits.values())
    earlier = RequestLog(journal, clock).still_counting(
        longest + settings.limit_margin, settings.read_timeout
    )
    posts = tickets + uploads
    counts: dict[str, int] = {Scope.TICKET: tickets, Scope.REQUEST: posts, Scope.BURST: posts}
    return least_span(settings.limits, counts, earlier, clock.monotonic(), settings.limit_margin)
