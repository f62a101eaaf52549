"""Sending the valid rows: tickets strictly one after another in sheet order, while the
files of the next few rows upload in the background within the same rate limits.

Every ticket goes through the journal: recorded ``in_flight`` and committed before the
request, its answer right after, so a run killed at any moment can neither send a
claim twice nor forget one. A row the API refused for what it contains is not sent
again while its request would be the same (``holdback``), unless ``--force``.

What makes every later row fail the same way stops the run at once (exit 3), the rest
``not_attempted``: refused credentials, a base URL that is not the Support API, an API
that cannot be reached, a TLS failure, a journal that cannot be written. A
``--max-minutes`` deadline is a hard slot: no row, wait or request starts that the
rate limits would let start only after it.

A long run stays visible: every five minutes on its clock, between rows, it hands the
outcomes so far to ``refresh`` (the CLI rewrites the results workbook with them). One
ticket request through the journal is ``ticket.py``; how a run stops, ``stopping.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from batch_claims.api.answers import about_a_file_token
from batch_claims.api.client import TICKET_SCOPES, ClientEvent, SupportClient
from batch_claims.api.connect import connect as connect_api
from batch_claims.clock import Clock
from batch_claims.errors import (
    GaveUp,
    Interrupted,
    JournalFailed,
    Rejected,
    RunAborted,
    TooLate,
)
from batch_claims.outcome import Claim, ErrorCode, Item, ProgressCallback, RowOutcome, Status
from batch_claims.send.holdback import HoldBack, refused_unchanged_outcomes
from batch_claims.send.journal import (
    IN_FLIGHT,
    Journal,
    RequestLog,
)
from batch_claims.send.plan import known_outcomes, records_of
from batch_claims.send.record import outcome_of_this_run
from batch_claims.send.stopping import (
    SLOT_ENDED,
    STILL_GOING,
    TOO_LATE_TICKET,
    TOO_LATE_UPLOADS,
    StopSignal,
    not_attempted,
    stop_reason,
)
from batch_claims.send.ticket import api_failure, create_ticket
from batch_claims.send.uploads import Uploader
from batch_claims.settings import Settings

LOOKAHEAD_ROWS = 4  # rows whose files may upload while an earlier ticket waits
UPLOAD_WORKERS = 6
REFRESH_SECONDS = 300.0  # a long run rewrites its results workbook this often


@dataclass
class Submitter:
    """Sends claims; the journal makes every step resumable."""

    client: SupportClient
    journal: Journal
    settings: Settings
    clock: Clock
    run_id: str
    force: bool = False
    resubmit_unconfirmed: bool = False
    deadline: float | None = None  # clock.monotonic() value after which no row starts
    on_progress: ProgressCallback = field(default=lambda outcome: None)
    stop: StopSignal = field(default_factory=lambda: StopSignal())
    hold_back: HoldBack = field(default_factory=lambda: HoldBack())
    lookahead: int = LOOKAHEAD_ROWS
    upload_workers: int = UPLOAD_WORKERS
    # Test hook: called at each step of a row ("before_upload", "after_upload",
    # "before_ticket", "after_ticket", "after_record") so tests can kill the process there.
    fault: Callable[[str], None] = field(default=lambda point: None)
    # Called between rows every ``refresh_every`` seconds on the clock with an outcome for
    # every item (rows not reached yet: not_attempted), so that the CLI can rewrite the
    # results workbook of a long run while it goes on.
    refresh: Callable[[list[RowOutcome]], None] | None = None
    refresh_every: float = REFRESH_SECONDS

    def __post_init__(self) -> None:
        self.client.deadline = self.deadline  # no request starts after it
        # A journal write that failed after its request was answered: the run stops.
        self.journal_failure: JournalFailed | None = None

    def run(self, items: Sequence[Item]) -> tuple[list[RowOutcome], RunAborted | None]:
        """One outcome per item, in order; the error that aborted the run, if any.

        A stopped run still yields an outcome for every row: rows not reached are
        ``not_attempted``. ``--max-minutes`` stops cleanly without aborting.
        """
        try:
            known = self._journal_outcomes([item for item in items if isinstance(item, Claim)])
            unsent = [item for item in items if _unknown(item, known)]
            known.update(refused_unchanged_outcomes(self.journal, unsent, self.force))
        except JournalFailed as exc:
            why = stop_reason(exc)
            return [
                item if isinstance(item, RowOutcome) else not_attempted(item, why) for item in items
            ], exc
        to_send = [item for item in items if isinstance(item, Claim) and known[item.row] is None]
        position = {claim.row: index for index, claim in enumerate(to_send)}
        outcomes: list[RowOutcome] = []
        aborted: RunAborted | None = None
        uploader = Uploader(
            self.client, self.journal, self.settings.token_max_age, self.upload_workers
        )
        refreshed_at = self.clock.monotonic()
        try:
            for item in items:
                if isinstance(item, RowOutcome):
                    outcome = item
                elif (earlier := known[item.row]) is not None:
                    outcome = earlier
                elif (stop := self.why_stop()) is not None:
                    outcome = not_attempted(item, stop)
                elif (held := self.hold_back.reason_for(item)) is not None:
                    outcome = not_attempted(item, held, prefix=False)  # its own sentence
                elif (late := self._too_late_for_a_ticket()) is not None:
                    outcome = not_attempted(item, late)
                else:
                    start = position[item.row]
                    for ahead in to_send[start : start + 1 + self.lookahead]:
                        if self.hold_back.reason_for(ahead) is None:
                            uploader.prefetch(ahead)
                    try:
                        outcome = self.send(item, uploader)
                    except RunAborted as exc:  # nothing later can succeed
                        aborted = exc
                        self.stop.request(str(exc))
                        outcome = not_attempted(item, stop_reason(exc))
                    except KeyboardInterrupt:
                        self.stop.request("the run was interrupted")
                        outcome = self._this_runs_attempt(item) or not_attempted(
                            item, "the run was interrupted"
                        )
                    except Exception as exc:  # a bug must not cost the other rows
                        outcome = self._unexpected(item, exc)
                    if self.journal_failure is not None and aborted is None:
                        aborted = self.journal_failure
                        self.stop.request(stop_reason(aborted))
                outcomes.append(outcome)
                self.on_progress(outcome)
                if self.clock.monotonic() - refreshed_at >= self.refresh_every:
                    self._refresh(items, outcomes, known)
                    refreshed_at = self.clock.monotonic()
        except KeyboardInterrupt:  # a second signal between rows: stop at once
            self.stop.request("the run was interrupted")
        finally:
            try:
                uploader.close()
            except KeyboardInterrupt:
                self.stop.request("the run was interrupted")
        for item in items[len(outcomes) :]:  # rows an interrupt left without an outcome
            if isinstance(item, RowOutcome):
                outcomes.append(item)
            else:
                reason = self.stop.reason or "the run was interrupted"
                outcomes.append(
                    known[item.row] or self._this_runs_attempt(item) or not_attempted(item, reason)
                )
        if aborted is None and self.stop.reason is not None and not self.stop.timed_out:
            aborted = Interrupted(
                f"{self.stop.reason}: rows not reached are not_attempted in the workbook"
            )
        return outcomes, aborted

    def _refresh(
        self,
        items: Sequence[Item],
        outcomes: list[RowOutcome],
        known: dict[int, RowOutcome | None],
    ) -> None:
        """Hand the outcomes so far, and the rows still to come, to ``refresh``; one that
        fails (a full disk) is not tried again, and never costs the run."""
        if self.refresh is None or len(outcomes) == len(items):
            return
        pending = [
            item
            if isinstance(item, RowOutcome)
            else known[item.row] or not_attempted(item, STILL_GOING, prefix=False)
            for item in items[len(outcomes) :]
        ]
        try:
            self.refresh([*outcomes, *pending])
        except Exception:
            self.refresh = None

    def _too_late_for_a_ticket(self) -> str | None:
        """With a deadline: the reason a row must not start because the ticket windows
        let its ticket start only after the deadline (then no later row can either)."""
        if self.deadline is None:
            return None
        if self.clock.monotonic() + self.client.limiter.wait_time(TICKET_SCOPES) > self.deadline:
            self.stop.request(SLOT_ENDED, timed_out=True)
            return TOO_LATE_TICKET
        return None

    def _unexpected(self, claim: Claim, exc: Exception) -> RowOutcome:
        """An error nobody planned for: the journal tells whether this run's ticket
        request got a ticket or may have; else the row failed. The run goes on."""
        detail = f"internal error: {type(exc).__name__}: {exc}"
        known = self._this_runs_attempt(claim, detail)
        if known is not None:
            return known
        return claim.outcome(
            Status.FAILED, error_code=ErrorCode.INTERNAL_ERROR, error_detail=detail
        )

    def _this_runs_attempt(self, claim: Claim, why: str | None = None) -> RowOutcome | None:
        """After an interruption or an error mid-row: what this run's ticket attempt for
        the claim came to, as the journal has it (a ticket, or an unknown outcome)."""
        try:
            record = self.journal.claim(claim.tracking_number, claim.ticket_type)
        except JournalFailed as exc:
            self.journal_failure = self.journal_failure or exc
            return None
        if record is None or record.run_id != self.run_id:
            return None
        if record.state == IN_FLIGHT:
            try:
                self.journal.resolve_in_flight_as_unconfirmed(
                    claim.tracking_number, claim.ticket_type
                )
            except JournalFailed as exc:  # it stays in_flight: the next run says unconfirmed
                self.journal_failure = self.journal_failure or exc
        return outcome_of_this_run(record, claim, why)

    def why_stop(self) -> str | None:
        """Why the run is stopping (the deadline passed sets it), or None."""
        if self.stop.reason is None and self.deadline is not None:
            if self.clock.monotonic() >= self.deadline:
                self.stop.request(SLOT_ENDED, timed_out=True)
        return self.stop.reason

    # --- one claim -----------------------------------------------------------------

    def _journal_outcomes(self, claims: list[Claim]) -> dict[int, RowOutcome | None]:
        """What the journal already knows of each claim (None: send it), by row, from
        one batch look-up; an attempt left in_flight by a run that died mid-request is
        recorded unconfirmed first."""
        records = records_of(self.journal, claims)
        for claim in claims:
            record = records[claim.row]
            if record is not None and record.state == IN_FLIGHT:
                self.journal.resolve_in_flight_as_unconfirmed(
                    claim.tracking_number, claim.ticket_type
                )
        return known_outcomes(self.journal, claims, self.force, self.resubmit_unconfirmed)

    def send(self, claim: Claim, uploader: Uploader) -> RowOutcome:
        """Upload the claim's files (or take them from the cache), then its ticket."""
        self.fault("before_upload")
        try:
            tokens = uploader.tokens(claim)
        except Rejected as exc:
            return api_failure(claim, Status.REJECTED, exc)
        except GaveUp as exc:
            return api_failure(claim, Status.FAILED, exc)
        except TooLate:
            self.stop.request(SLOT_ENDED, timed_out=True)
            return not_attempted(claim, TOO_LATE_UPLOADS)
        self.fault("after_upload")
        if self.stop.reason is not None:
            return not_attempted(claim, self.stop.reason)
        outcome, refusal = create_ticket(self, claim, tokens)
        if refusal is None:
            return outcome
        stale = {name: t for name, t in tokens.items() if uploader.is_cached(t)}
        if stale and about_a_file_token(refusal.detail):
            # Tokens from an earlier run were refused (expired?): upload again, once.
            uploader.forget(stale)
            try:
                tokens = uploader.tokens(claim)
            except (Rejected, GaveUp) as exc:
                return api_failure(claim, _status_of(exc), exc)
            except TooLate:
                self.stop.request(SLOT_ENDED, timed_out=True)
                return not_attempted(claim, TOO_LATE_UPLOADS)
            outcome, refusal = create_ticket(self, claim, tokens)
        if refusal is not None:
            self.hold_back.learn(claim, refusal)
        return outcome


def connect(
    settings: Settings,
    clock: Clock,
    journal: Journal,
    on_wait: Callable[[float, str], None] | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> SupportClient:
    """The run's API client (``api.connect``), its limiter counting through the journal
    the POSTs of earlier runs and its own."""
    return connect_api(
        settings, clock, RequestLog(journal, clock), on_wait=on_wait, on_event=on_event
    )


def _unknown(item: Item, known: dict[int, RowOutcome | None]) -> TypeGuard[Claim]:
    """A claim the journal knows no outcome of (yet)."""
    return isinstance(item, Claim) and known[item.row] is None


def _status_of(exc: Rejected | GaveUp) -> Status:
    return Status.REJECTED if isinstance(exc, Rejected) else Status.FAILED
