"""The values the pipeline yields: a row's status, its errors and their codes, a valid
claim, and where a claim stands in the window Sendcloud recommends filing it in.

Plain frozen dataclasses. A bad row is data (a ``RowOutcome`` holding ``RowError``
values), never an exception. ``ErrorCode`` is every error code batch-claims itself
writes into a results workbook or the journal, whatever stage finds it; the API's own
codes pass through as the API spells them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from batch_claims.columns import Variant
from batch_claims.ticket_types import TicketType


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
        return self in _TICKETED


_TICKETED = frozenset({Status.SUBMITTED, Status.ALREADY_SUBMITTED})


class WindowState(StrEnum):
    """Where a claim stands in the window Sendcloud recommends filing it in (a warning,
    never a refusal): filed before the parcel is old enough, its deadline within a few
    days, or past it; ``open`` when it has a deadline that is neither."""

    TOO_EARLY = "too_early"
    OPEN = "open"
    CLOSE = "close"
    PAST = "past"


class ErrorCode(StrEnum):
    """The ``error_code`` values batch-claims writes (``RowError.code``,
    ``RowOutcome.error_code``). The strings are part of the results workbook's contract:
    never rename one. The messages of a cell's codes are ``validate.messages.Message``."""

    # A cell the checks refused (validate/): coerce, amounts, the pandera schemas.
    REQUIRED = "required"
    EXCEL_ERROR = "excel_error"
    UNCALCULATED_FORMULA = "uncalculated_formula"
    NOT_A_TRACKING_NUMBER = "not_a_tracking_number"
    NOT_TEXT = "not_text"
    UNTRUSTWORTHY_NUMBER = "untrustworthy_number"
    DUPLICATE_TRACKING_NUMBER = "duplicate_tracking_number"
    BAD_CONTRACT_TYPE = "bad_contract_type"
    NOT_AN_INTEGER = "not_an_integer"
    NOT_POSITIVE = "not_positive"
    CONTRACT_ID_NOT_ALLOWED = "contract_id_not_allowed"
    NOT_A_BOOLEAN = "not_a_boolean"
    PORTAL_CLAIM_NEEDS_CONTRACT = "portal_claim_needs_contract"
    NOT_AN_AMOUNT = "not_an_amount"
    AMBIGUOUS_AMOUNT = "ambiguous_amount"
    NEGATIVE_AMOUNT = "negative_amount"
    ZERO_AMOUNT = "zero_amount"
    AMOUNT_TOO_LARGE = "amount_too_large"
    TOO_MANY_DECIMALS = "too_many_decimals"
    BAD_CURRENCY = "bad_currency"
    CURRENCY_MISMATCH = "currency_mismatch"
    MISSING_CURRENCY = "missing_currency"
    BAD_TICKET_TYPE = "bad_ticket_type"
    NOT_A_DIMENSION = "not_a_dimension"
    NOT_DIMENSIONS = "not_dimensions"
    DIMENSIONS_MISMATCH = "dimensions_mismatch"
    NOT_A_DATE = "not_a_date"
    # A value in a column the row's ticket type has no field for; a ticket type the
    # row's contract type cannot use.
    NOT_FOR_TICKET_TYPE = "not_for_ticket_type"
    TICKET_TYPE_NOT_FOR_CONTRACT = "ticket_type_not_for_contract"
    # A value under a header that only looks like a column (validate/coverage.py).
    UNRECOGNISED_COLUMN = "unrecognised_column"
    # A document cell (validate/attachments.py).
    MISSING_DOCUMENT = "missing_document"
    NO_PHOTOS_FOLDER = "no_photos_folder"
    OUTSIDE_PHOTOS_FOLDER = "outside_photos_folder"
    FILE_NOT_FOUND = "file_not_found"
    NOT_A_FILE = "not_a_file"
    AMBIGUOUS_DOCUMENT = "ambiguous_document"
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"
    UNREADABLE_FILE = "unreadable_file"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    INVALID_FILE_NAME = "invalid_file_name"
    UNREADABLE_FOLDER = "unreadable_folder"
    # A row's outcome: invalid (any error above), or a check or a send that failed
    # unexpectedly (validate/prepare.py, send/submitter.py, report/workbook.py).
    INVALID = "invalid"
    INTERNAL_ERROR = "internal_error"
    # Sending (send/): the answer unknown, the run interrupted, a file changed or gone
    # since it was checked, a row held back; a refusal or failure the API gave no code.
    UNCONFIRMED = "unconfirmed"
    INTERRUPTED = "interrupted"
    FILE_UNREADABLE = "file_unreadable"
    FILE_CHANGED = "file_changed"
    UNCHANGED_SINCE_REFUSED = "unchanged_since_refused"
    REJECTED = "rejected"
    FAILED = "failed"
    # The API client (api/): a 429 without a code, an answer that is not JSON.
    HIT_RATE_LIMIT = "hit_rate_limit"
    INVALID_JSON = "invalid_json"


@dataclass(frozen=True)
class RowError:
    """One problem of one row: ``column`` is the canonical column name (or None)."""

    row: int
    column: str | None
    code: ErrorCode
    message: str


@dataclass(frozen=True)
class Money:
    price: Decimal
    currency: str  # EUR, GBP or USD


@dataclass(frozen=True)
class Dimensions:
    """A parcel's size in centimetres (``parcel_dimensions``)."""

    length: Decimal
    width: Decimal
    height: Decimal


# A body field's value: text, an id or a yes/no, an amount, a parcel's size.
FieldValue = str | int | bool | Money | Dimensions


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


_Made = TypeVar("_Made")


def assembled(kind: type[_Made], fields: Mapping[str, object]) -> _Made:
    """``kind(**fields)`` for a frozen dataclass given every one of its fields, made
    without its ``__init__``, which sets each field on its own through
    ``object.__setattr__`` (the costly part when one is made per file or per row, tens
    of thousands of times): the same value, still frozen. The callers' tests check that
    every field is set."""
    made = object.__new__(kind)
    made.__dict__.update(fields)
    return made


def attachment(
    column: str, path: Path, filename: str, content_type: str, size: int, sha256: str, how: str
) -> Attachment:
    """``Attachment(column, path, …)`` made the cheap way (``assembled``), one per file
    found."""
    return assembled(
        Attachment,
        {
            "column": column,
            "path": path,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "how": how,
        },
    )


@dataclass(frozen=True)
class Claim:
    """A valid row: everything needed to build the ticket body."""

    row: int
    tracking_number: str
    variant: Variant
    is_portal_claim: bool
    # Body fields other than tracking_number and documents, keyed by column name:
    # str for text, int for ids, bool for yes/no, Money for amounts, Dimensions for a
    # parcel's size. Absent when blank.
    fields: Mapping[str, FieldValue]
    attachments: Mapping[str, Attachment] = field(default_factory=dict)
    evidence: str = ""
    ticket_type: TicketType = TicketType.DAMAGE
    # The claim window (from shipped_at / delivered_at): the last day Sendcloud
    # recommends filing by, and where the claim stands; None when the row has no date
    # that says.
    deadline: date | None = None
    window: WindowState | None = None

    def outcome(self, status: Status, **values: Any) -> RowOutcome:
        """This row's outcome with ``status`` (and ticket id, error, … as given), made
        the cheap way (``assembled``: one per row of a validate or a dry run)."""
        if values and not values.keys() <= _OUTCOME_DEFAULTS.keys():
            unknown = sorted(values.keys() - _OUTCOME_DEFAULTS.keys())
            raise TypeError(f"RowOutcome has no field {unknown[0]!r}")
        made = {
            **_OUTCOME_DEFAULTS,
            "row": self.row,
            "tracking_number": self.tracking_number,
            "contract_type": self.variant._value_,  # ``value``, without enum's descriptor
            "ticket_type": self.ticket_type._value_,
            "status": status,
            "evidence": self.evidence,
            "deadline": self.deadline,
            "window": self.window,
        }
        if values:
            made.update(values)
        return assembled(RowOutcome, made)


@dataclass(frozen=True)
class RowOutcome:
    row: int
    tracking_number: str
    contract_type: str
    status: Status
    ticket_id: str | None = None
    http_status: int | None = None
    error_code: str | None = None  # an ErrorCode, or the API's own code as it sent it
    error_detail: str | None = None
    attempts: int = 0
    submitted_at: datetime | None = None
    errors: tuple[RowError, ...] = ()
    # Which document slots the row's variant needs, which file matched each and how.
    evidence: str = ""
    ticket_type: str = TicketType.DAMAGE.value  # blank when the row's type is unreadable
    deadline: date | None = None  # as on the Claim
    window: WindowState | None = None


# RowOutcome's fields with their defaults (the others, with none, are the Claim's).
_OUTCOME_DEFAULTS: dict[str, object] = {
    f.name: f.default for f in fields(RowOutcome) if f.default is not MISSING
}

# One row of a run as the stages hand it on: a valid claim still to send, or its outcome.
Item = Claim | RowOutcome
# Told each row's outcome as the run reaches it (the console's progress bar).
ProgressCallback = Callable[[RowOutcome], None]
