"""One row's journey: sheet → validated Claim → uploaded files → ticket → RowOutcome.

``prepare`` reads and checks everything offline; ``validate`` turns that into
outcomes; ``Submitter`` sends the valid rows one after another through the journal
and the API client. Nothing here prints: progress goes through a callback.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_claims.api.client import SupportClient
from batch_claims.attachments import resolve_documents
from batch_claims.clock import Clock
from batch_claims.columns import DOCUMENT_COLUMNS, required_columns
from batch_claims.errors import (
    AuthRefused,
    GaveUp,
    Interrupted,
    Rejected,
    RunAborted,
    Unconfirmed,
)
from batch_claims.journal import CREATED, IN_FLIGHT, NOT_CREATED, UNCONFIRMED, Journal
from batch_claims.outcome import Attachment, Claim, RowError, RowOutcome, Status
from batch_claims.payload import TICKET_TYPE, build_payload, changed_fields, fingerprint, normalised
from batch_claims.schema import validate_table
from batch_claims.settings import Settings
from batch_claims.sheet import SheetTable, read_sheet

Item = Claim | RowOutcome
ProgressCallback = Callable[[RowOutcome], None]


@dataclass(frozen=True)
class Prepared:
    """The sheet, and per data row (in order) either a valid Claim or an invalid outcome."""

    table: SheetTable
    items: tuple[Item, ...]
    warnings: tuple[str, ...] = ()

    @property
    def claims(self) -> list[Claim]:
        return [item for item in self.items if isinstance(item, Claim)]


def prepare(
    sheet: Path,
    photos: Path | None,
    settings: Settings,
    sheet_name: str | None = None,
    table: SheetTable | None = None,
) -> Prepared:
    """Read, validate and resolve attachments; no network."""
    if table is None:
        table = read_sheet(sheet, sheet_name, settings.aliases)
    items: list[Item] = []
    for parsed in validate_table(table, settings.default_variant):
        errors: list[RowError] = list(parsed.errors)
        attachments: dict[str, Attachment] = {}
        if parsed.tracking_number and parsed.variant is not None:
            required = [c.name for c in required_columns(parsed.variant) if c.is_document]
            attachments, problems = resolve_documents(
                photos,
                parsed.tracking_number,
                parsed.documents,
                required,
                parsed.row,
                table.header_of,
            )
            errors.extend(problems)
        variant = parsed.variant.value if parsed.variant is not None else ""
        if errors or parsed.tracking_number is None or parsed.variant is None:
            items.append(
                RowOutcome(
                    row=parsed.row,
                    tracking_number=parsed.tracking_number or "",
                    contract_type=variant,
                    status=Status.INVALID,
                    error_code="invalid",
                    error_detail="\n".join(e.message for e in errors),
                    errors=tuple(errors),
                )
            )
            continue
        items.append(
            Claim(
                row=parsed.row,
                tracking_number=parsed.tracking_number,
                variant=parsed.variant,
                is_portal_claim=parsed.is_portal_claim,
                fields=dict(parsed.fields),
                attachments=attachments,
            )
        )
    return Prepared(table, tuple(items), _shared_evidence_warnings(items))


def _shared_evidence_warnings(items: Iterable[Item]) -> tuple[str, ...]:
    """The same photo bytes as damage evidence for two parcels is usually the wrong file."""
    seen: dict[str, tuple[int, str]] = {}
    warnings = []
    for item in items:
        if not isinstance(item, Claim):
            continue
        for name, attachment in item.attachments.items():
            if not attachment.content_type.startswith(("image/", "video/")):
                continue
            first = seen.setdefault(attachment.sha256, (item.row, item.tracking_number))
            if first[1] != item.tracking_number:
                warnings.append(
                    f"row {item.row}: {name} ({attachment.filename}) is the very same file as "
                    f"a photo of row {first[0]} ({first[1]}) — check it is the right photo"
                )
    return tuple(warnings)


def validate(prepared: Prepared) -> list[RowOutcome]:
    """Outcomes of an offline check: ``valid`` or ``invalid`` per row."""
    return [
        item
        if isinstance(item, RowOutcome)
        else RowOutcome(
            row=item.row,
            tracking_number=item.tracking_number,
            contract_type=item.variant.value,
            status=Status.VALID,
        )
        for item in prepared.items
    ]


@dataclass(frozen=True)
class Plan:
    """What a submit will send and the least time the limits allow for it."""

    tickets: int
    uploads: int
    already_submitted: int
    unconfirmed: int
    least_seconds: float

    def describe(self) -> str:
        return (
            f"plan: {self.tickets} ticket POSTs and {self.uploads} file uploads "
            f"({self.tickets + self.uploads} POSTs); {self.already_submitted} rows already "
            f"have a ticket, {self.unconfirmed} are unconfirmed; the rate limits allow this "
            f"in no less than {duration(self.least_seconds)}"
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
    tickets = uploads = done = unconfirmed = 0
    files: set[tuple[str, str]] = set()
    for claim in prepared.claims:
        record = journal.claim(claim.tracking_number, TICKET_TYPE)
        if record is not None and record.state == CREATED and not force:
            done += 1
            continue
        if record is not None and record.state in (IN_FLIGHT, UNCONFIRMED):
            if not resubmit_unconfirmed:
                unconfirmed += 1
                continue
        tickets += 1
        for attachment in claim.attachments.values():
            key = (attachment.sha256, attachment.content_type)
            if key in files:
                continue
            files.add(key)
            if journal.cached_token(*key, settings.token_max_age) is None:
                uploads += 1
    return Plan(tickets, uploads, done, unconfirmed, least_seconds(settings, tickets, uploads))


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


@dataclass
class Submitter:
    """Sends claims one after another; the journal makes every step resumable."""

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
    # Test hook: called at each step of a row ("before_upload", "after_upload",
    # "before_ticket", "after_ticket", "after_record") so tests can kill the process there.
    fault: Callable[[str], None] = field(default=lambda point: None)
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    _cached: set[str] = field(default_factory=set)

    def run(self, items: Sequence[Item]) -> tuple[list[RowOutcome], RunAborted | None]:
        """One outcome per item, in order; the error that aborted the run, if any.

        A stopped run still yields an outcome for every row: rows not reached are
        ``not_attempted``. ``--max-minutes`` stops cleanly without aborting.
        """
        outcomes: list[RowOutcome] = []
        aborted: RunAborted | None = None
        for item in items:
            if isinstance(item, RowOutcome):
                outcomes.append(item)
            elif (reason := self._why_stop()) is not None:
                outcomes.append(_not_attempted(item, reason))
            else:
                try:
                    outcome = self.submit_claim(item)
                except AuthRefused as exc:
                    aborted = exc
                    self.stop.request(str(exc))
                    outcome = _not_attempted(item, "the credentials were refused")
                except KeyboardInterrupt:
                    self.stop.request("the run was interrupted")
                    outcome = _not_attempted(item, "the run was interrupted")
                outcomes.append(outcome)
            self.on_progress(outcomes[-1])
        if aborted is None and self.stop.reason is not None and not self.stop.timed_out:
            aborted = Interrupted(
                f"{self.stop.reason}: rows not reached are not_attempted in the workbook"
            )
        return outcomes, aborted

    def _why_stop(self) -> str | None:
        if self.stop.reason is None and self.deadline is not None:
            if self.clock.monotonic() >= self.deadline:
                self.stop.request("--max-minutes reached", timed_out=True)
        return self.stop.reason

    # --- one claim -----------------------------------------------------------------

    def submit_claim(self, claim: Claim) -> RowOutcome:
        record = self.journal.claim(claim.tracking_number, TICKET_TYPE)
        if record is not None and record.state == CREATED and not self.force:
            notes: tuple[str, ...] = ()
            if record.claim is not None:
                changed = changed_fields(record.claim, _json_roundtrip(normalised(claim)))
                if changed:
                    notes = (
                        "the sheet differs from what was sent in: "
                        + ", ".join(changed)
                        + " (the ticket holds the earlier values)",
                    )
            return self._outcome(
                claim,
                Status.ALREADY_SUBMITTED,
                ticket_id=record.ticket_id,
                notes=notes,
                error_detail=notes[0] if notes else None,
            )
        if record is not None and record.state in (IN_FLIGHT, UNCONFIRMED):
            if record.state == IN_FLIGHT:
                self.journal.resolve_in_flight_as_unconfirmed(claim.tracking_number, TICKET_TYPE)
            if not self.resubmit_unconfirmed:
                return self._outcome(
                    claim,
                    Status.UNCONFIRMED,
                    error_code="unconfirmed",
                    error_detail=_unconfirmed_hint(claim.tracking_number, record.updated_at),
                )
        self.fault("before_upload")
        try:
            tokens = self._upload_all(claim)
        except Rejected as exc:
            return self._api_failure(claim, Status.REJECTED, exc)
        except GaveUp as exc:
            return self._api_failure(claim, Status.FAILED, exc)
        self.fault("after_upload")
        if self.stop.reason is not None:
            return _not_attempted(claim, self.stop.reason)
        return self._create_ticket(claim, tokens, retry_stale_tokens=True)

    def _create_ticket(
        self, claim: Claim, tokens: dict[str, str], retry_stale_tokens: bool
    ) -> RowOutcome:
        payload = build_payload(claim, tokens)
        payload_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        attempt = self.journal.begin_attempt(
            self.run_id,
            claim.tracking_number,
            TICKET_TYPE,
            payload_hash,
            fingerprint(claim),
            _json_roundtrip(normalised(claim)),
        )
        self.fault("before_ticket")
        try:
            result = self.client.create_damage_ticket(payload, claim.is_portal_claim)
        except Rejected as exc:
            self.journal.finish_attempt(
                attempt,
                NOT_CREATED,
                http_status=exc.http_status,
                error_code=exc.error_code,
                detail=exc.detail,
            )
            stale = [t for t in tokens.values() if t in self._cached]
            if retry_stale_tokens and stale and _mentions_file_token(exc.detail):
                for token in stale:
                    self.journal.forget_token(token)
                    self._cached.discard(token)
                self._tokens.clear()
                try:
                    fresh = self._upload_all(claim)
                except (Rejected, GaveUp) as upload_exc:
                    return self._api_failure(claim, _status_of(upload_exc), upload_exc)
                return self._create_ticket(claim, fresh, retry_stale_tokens=False)
            return self._api_failure(claim, Status.REJECTED, exc)
        except GaveUp as exc:
            self.journal.finish_attempt(
                attempt,
                NOT_CREATED,
                http_status=exc.http_status,
                error_code=exc.error_code,
                detail=exc.detail,
            )
            return self._api_failure(claim, Status.FAILED, exc)
        except Unconfirmed as exc:
            self.journal.finish_attempt(
                attempt,
                UNCONFIRMED,
                http_status=exc.http_status,
                error_code=exc.error_code,
                detail=exc.detail,
            )
            return self._api_failure(
                claim,
                Status.UNCONFIRMED,
                exc,
                hint=_unconfirmed_hint(claim.tracking_number, None),
            )
        except AuthRefused:
            self.journal.finish_attempt(
                attempt, NOT_CREATED, http_status=401, detail="credentials refused"
            )
            raise
        except KeyboardInterrupt:
            # Interrupted mid-request: the request may have gone out.
            self.journal.finish_attempt(attempt, UNCONFIRMED, detail="run interrupted")
            self.stop.request("the run was interrupted")
            return self._outcome(
                claim,
                Status.UNCONFIRMED,
                error_code="interrupted",
                error_detail="the run was interrupted while the ticket request was under way — "
                + _unconfirmed_hint(claim.tracking_number, None),
            )
        self.fault("after_ticket")
        self.journal.finish_attempt(
            attempt, CREATED, ticket_id=result.ticket_id, http_status=result.http_status
        )
        self.fault("after_record")
        return self._outcome(
            claim,
            Status.SUBMITTED,
            ticket_id=result.ticket_id,
            http_status=result.http_status,
            attempts=result.attempts,
            submitted_at=self.clock.utcnow(),
        )

    def _upload_all(self, claim: Claim) -> dict[str, str]:
        tokens: dict[str, str] = {}
        for column in DOCUMENT_COLUMNS:
            attachment = claim.attachments.get(column.name)
            if attachment is not None:
                tokens[column.name] = self._token_for(attachment)
        return tokens

    def _token_for(self, attachment: Attachment) -> str:
        key = (attachment.sha256, attachment.content_type)
        token = self._tokens.get(key)
        if token is None:
            token = self.journal.cached_token(*key, self.settings.token_max_age)
            if token is not None:
                self._cached.add(token)
        if token is None:
            data = attachment.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != attachment.sha256:
                raise Rejected(
                    f"{attachment.filename} changed on disk after it was checked; run again",
                    error_code="file_changed",
                )
            try:
                token = self.client.upload_file(
                    attachment.filename, data, attachment.content_type
                ).file_token
            except (Rejected, GaveUp) as exc:
                exc.detail = f"{attachment.column} file {attachment.filename}: {exc.detail}"
                raise
            self.journal.store_token(attachment.sha256, attachment.content_type, token)
        self._tokens[key] = token
        return token

    def _api_failure(
        self,
        claim: Claim,
        status: Status,
        exc: Rejected | GaveUp | Unconfirmed,
        hint: str | None = None,
    ) -> RowOutcome:
        detail = exc.detail if hint is None else f"{exc.detail} — {hint}"
        return self._outcome(
            claim,
            status,
            http_status=exc.http_status,
            error_code=exc.error_code,
            error_detail=detail,
            attempts=exc.attempts,
        )

    def _outcome(self, claim: Claim, status: Status, **values: Any) -> RowOutcome:
        return RowOutcome(
            row=claim.row,
            tracking_number=claim.tracking_number,
            contract_type=claim.variant.value,
            status=status,
            **values,
        )


def _status_of(exc: Rejected | GaveUp) -> Status:
    return Status.REJECTED if isinstance(exc, Rejected) else Status.FAILED


def _mentions_file_token(detail: str) -> bool:
    return "file_token" in detail or "file token" in detail.lower()


def _json_roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return result


def _not_attempted(claim: Claim, reason: str) -> RowOutcome:
    return RowOutcome(
        row=claim.row,
        tracking_number=claim.tracking_number,
        contract_type=claim.variant.value,
        status=Status.NOT_ATTEMPTED,
        error_detail=f"not attempted: {reason}",
    )


def _unconfirmed_hint(tracking_number: str, since: str | None) -> str:
    when = f" on {since}" if since else ""
    return (
        f"a ticket request for {tracking_number} may have reached Sendcloud{when} and its "
        "outcome is unknown; look the parcel up in the Sendcloud panel, then run "
        f"`batch-claims resolve {tracking_number} --ticket-id ID` or `--not-created` "
        "(or submit with --resubmit-unconfirmed)"
    )
