"""One row's journey: sheet → validated Claim → uploaded files → ticket → RowOutcome.

``prepare`` reads and checks everything offline; ``validate`` turns that into
outcomes; ``Submitter`` sends the valid rows one after another through the journal
and the API client. Nothing here prints: progress goes through a callback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_claims.attachments import resolve_documents
from batch_claims.columns import DOCUMENT_COLUMNS, TRACKING_NUMBER, Variant, required_columns
from batch_claims.journal import CREATED, IN_FLIGHT, UNCONFIRMED, Journal
from batch_claims.outcome import Attachment, Claim, RowError, RowOutcome, Status
from batch_claims.payload import TICKET_TYPE, changed_fields, normalised
from batch_claims.schema import decimal_convention, reading_notices, validate_table
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
    facts: Mapping[str, str] = field(default_factory=dict)  # how the input was read

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
    amounts = decimal_convention(table, settings.decimal_comma)
    items: list[Item] = []
    tracking_index = table.mapping.get(TRACKING_NUMBER)
    parsed_rows = validate_table(table, settings.default_variant, amounts.decimal_comma)
    for source, parsed in zip(table.rows, parsed_rows, strict=True):
        errors: list[RowError] = list(parsed.errors)
        attachments: dict[str, Attachment] = {}
        evidence = ""
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
            evidence = evidence_checklist(parsed.variant, attachments, problems, photos)
        variant = parsed.variant.value if parsed.variant is not None else ""
        if errors or parsed.tracking_number is None or parsed.variant is None:
            items.append(
                RowOutcome(
                    row=parsed.row,
                    # An unusable tracking number is still shown as the sheet has it.
                    tracking_number=parsed.tracking_number or _shown(source.cells, tracking_index),
                    contract_type=variant,
                    status=Status.INVALID,
                    error_code="invalid",
                    error_detail="\n".join(e.message for e in errors),
                    errors=tuple(errors),
                    evidence=evidence,
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
                evidence=evidence,
            )
        )
    warnings = (
        *_shared_evidence_warnings(items),
        *([amounts.notice] if amounts.notice else []),
        *reading_notices(table, parsed_rows),
    )
    facts = {"decimal_convention": amounts.name}
    if table.encoding:
        facts["csv_encoding"] = table.encoding
    return Prepared(table, tuple(items), warnings, facts)


def _shown(cells: tuple[object, ...], index: int | None) -> str:
    if index is None or index >= len(cells) or cells[index] is None:
        return ""
    return str(cells[index])


def evidence_checklist(
    variant: Variant,
    attachments: Mapping[str, Attachment],
    problems: Iterable[RowError],
    photos: Path | None,
) -> str:
    """One readable cell: the document slots the variant requires, which file matched
    each and how, and what is missing — so whoever collects photos sees what to add."""
    required = {c.name for c in required_columns(variant) if c.is_document}
    troubled = {problem.column for problem in problems}
    found = sum(1 for name in required if name in attachments)
    if required:
        head = f"{variant.value} needs {len(required)} documents: {found} found"
        if found < len(required):
            head += f", {len(required) - found} to add or fix"
    else:
        head = f"{variant.value} needs no documents; {len(attachments)} attached"
    lines = [head]
    base = photos.resolve() if photos is not None else None
    for column in DOCUMENT_COLUMNS:
        attachment = attachments.get(column.name)
        if attachment is not None:
            shown = attachment.path
            if base is not None and shown.is_relative_to(base):
                shown = shown.relative_to(base)
            lines.append(f"✓ {column.name}: {shown.as_posix()} ({attachment.how})")
        elif column.name in troubled:
            state = "missing" if column.name in required else "not usable"
            lines.append(f"✗ {column.name}: {state} (see error_detail)")
        elif column.name in required:
            lines.append(f"✗ {column.name}: missing")
    return "\n".join(lines)


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
        item if isinstance(item, RowOutcome) else item.outcome(Status.VALID)
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
        known = known_outcome(journal, claim, force, resubmit_unconfirmed)
        if known is not None:
            done += known.status is Status.ALREADY_SUBMITTED
            unconfirmed += known.status is Status.UNCONFIRMED
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


def known_outcome(
    journal: Journal, claim: Claim, force: bool = False, resubmit_unconfirmed: bool = False
) -> RowOutcome | None:
    """What the journal already knows of this claim (a ticket, or a request whose
    outcome is unknown), or None when it is to be sent. Reads only."""
    record = journal.claim(claim.tracking_number, TICKET_TYPE)
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
            error_code="unconfirmed",
            error_detail=unconfirmed_hint(claim.tracking_number, record.updated_at),
        )
    return None


def dry_run_outcomes(
    prepared: Prepared, journal: Journal, force: bool = False, resubmit_unconfirmed: bool = False
) -> list[RowOutcome]:
    """Outcomes of ``submit --dry-run``: what the journal knows, else ``valid``."""
    return [
        item
        if isinstance(item, RowOutcome)
        else known_outcome(journal, item, force, resubmit_unconfirmed) or item.outcome(Status.VALID)
        for item in prepared.items
    ]


def json_roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from JSON (tuples become lists, keys sorted)."""
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return result


def unconfirmed_hint(tracking_number: str, since: str | None) -> str:
    when = f" on {since}" if since else ""
    return (
        f"a ticket request for {tracking_number} may have reached Sendcloud{when} and its "
        "outcome is unknown; look the parcel up in the Sendcloud panel, then run "
        f"`batch-claims resolve {tracking_number} --ticket-id ID` or `--not-created` "
        "(or submit with --resubmit-unconfirmed)"
    )
