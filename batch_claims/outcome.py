"""The values the pipeline yields: a row's status, its errors, and a valid claim.

Plain frozen dataclasses. A bad row is data (a ``RowOutcome`` holding ``RowError``
values), never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from batch_claims.columns import Variant


class Status(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    SUBMITTED = "submitted"
    ALREADY_SUBMITTED = "already_submitted"
    REJECTED = "rejected"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    NOT_ATTEMPTED = "not_attempted"

    @property
    def has_ticket(self) -> bool:
        return self in (Status.SUBMITTED, Status.ALREADY_SUBMITTED)


@dataclass(frozen=True)
class RowError:
    """One problem of one row: ``column`` is the canonical column name (or None)."""

    row: int
    column: str | None
    code: str
    message: str


@dataclass(frozen=True)
class Money:
    price: Decimal
    currency: str  # EUR, GBP or USD


@dataclass(frozen=True)
class Attachment:
    """A checked file inside the photos folder, ready to upload."""

    column: str
    path: Path
    filename: str
    content_type: str
    size: int
    sha256: str
    how: str = "typed path"  # or "folder convention"


@dataclass(frozen=True)
class Claim:
    """A valid row: everything needed to build the ticket body."""

    row: int
    tracking_number: str
    variant: Variant
    is_portal_claim: bool
    # Body fields other than tracking_number and documents, keyed by column name:
    # str for text, int for ids, Money for amounts. Absent when blank.
    fields: Mapping[str, str | int | Money]
    attachments: Mapping[str, Attachment] = field(default_factory=dict)
    evidence: str = ""

    def outcome(self, status: Status, **values: Any) -> RowOutcome:
        """This row's outcome with ``status`` (and ticket id, error, … as given)."""
        return RowOutcome(
            row=self.row,
            tracking_number=self.tracking_number,
            contract_type=self.variant.value,
            status=status,
            evidence=self.evidence,
            **values,
        )


@dataclass(frozen=True)
class RowOutcome:
    row: int
    tracking_number: str
    contract_type: str
    status: Status
    ticket_id: str | None = None
    http_status: int | None = None
    error_code: str | None = None
    error_detail: str | None = None
    attempts: int = 0
    submitted_at: datetime | None = None
    errors: tuple[RowError, ...] = ()
    # Which document slots the row's variant needs, which file matched each and how.
    evidence: str = ""


# One row of a run as the stages hand it on: a valid claim still to send, or its outcome.
Item = Claim | RowOutcome
# Told each row's outcome as the run reaches it (the console's progress bar).
ProgressCallback = Callable[[RowOutcome], None]
