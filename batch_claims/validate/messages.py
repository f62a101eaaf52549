"""What a cell check says: every message a refused cell can get, each with its error
code and its template, and how a cell is shown inside one (and how a notice lists rows).

A check that refuses a cell returns a ``Problem``: a ``Message`` member and the words its
template needs (a currency, a row number). ``Problem.text`` fills the template in with
the cell as the user sees it (``show``); ``where`` puts the row and the header before it.
A code may have several messages (``not_a_tracking_number``: a placeholder, a character
no carrier uses, a wrong length, no digit): the check picks the member, so no message is
chosen by looking at another message's words. A ``Problem`` whose words do not fit its
template is refused when it is made, never when it is shown.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from functools import cached_property
from typing import Any

from batch_claims.columns import Variant
from batch_claims.currency import CURRENCIES
from batch_claims.outcome import ErrorCode
from batch_claims.read.table import SheetTable
from batch_claims.settings import DEFAULT_CONFIG_NAME
from batch_claims.ticket_types import TicketType
from batch_claims.validate.bounds import MAX_AMOUNT, TRACKING_LENGTH

_AMOUNT_HINT = "expected a number such as 12.50"
_TRACKING_HINT = (
    f"expected {TRACKING_LENGTH[0]} to {TRACKING_LENGTH[1]} letters and digits as on the "
    "label, such as 3SABCD0123456789"
)
_TEXT_ADVICE = "format the column as Text and re-type the number"
_CURRENCY_HINT = f"expected {', '.join(CURRENCIES[:-1])} or {CURRENCIES[-1]}"
_CONTRACT_TYPES = " or ".join(variant.value for variant in Variant)
_TICKET_TYPES = ", ".join(ticket_type.value for ticket_type in TicketType)
_NOT_TRACKING = "{value} is not a tracking number"


class Message(Enum):
    """Each message a refused cell can get: (its error code, its template). A template
    names its words in braces; ``{value}`` is the cell as shown."""

    REQUIRED = (ErrorCode.REQUIRED, "missing ({why})")
    REQUIRED_NO_COLUMN = (ErrorCode.REQUIRED, "missing: the sheet has no such column ({why})")
    EXCEL_ERROR = (
        ErrorCode.EXCEL_ERROR,
        "{value} is an Excel error, not a value (fix the formula, or type the value itself)",
    )
    UNCALCULATED_FORMULA = (
        ErrorCode.UNCALCULATED_FORMULA,
        "{value} was never calculated: the program that wrote this file stores formulas "
        "without their results (open the file in Excel and save it, or type the value "
        "itself)",
    )
    UNREADABLE_CELL = (
        ErrorCode.INTERNAL_ERROR,
        "this cell could not be read because of an unexpected error ({reason}); the row "
        "was not sent and the other rows are not affected — please report this",
    )
    TRACKING_PLACEHOLDER = (
        ErrorCode.NOT_A_TRACKING_NUMBER,
        "{value} is a placeholder, not a tracking number (fill in the parcel's tracking "
        "number as on its label, or remove the row)",
    )
    TRACKING_CHARACTERS = (
        ErrorCode.NOT_A_TRACKING_NUMBER,
        f"{_NOT_TRACKING}: {{characters}} {{verb}} never part of one ({_TRACKING_HINT})",
    )
    TRACKING_LENGTH = (
        ErrorCode.NOT_A_TRACKING_NUMBER,
        f"{_NOT_TRACKING}: {{length}} characters ({_TRACKING_HINT})",
    )
    TRACKING_NO_DIGIT = (
        ErrorCode.NOT_A_TRACKING_NUMBER,
        f"{_NOT_TRACKING}: it has no digit ({_TRACKING_HINT})",
    )
    NOT_TEXT = (
        ErrorCode.NOT_TEXT,
        f"{{value}} is not text (expected the tracking number as text; {_TEXT_ADVICE})",
    )
    SHORTENED_NUMBER = (
        ErrorCode.UNTRUSTWORTHY_NUMBER,
        f"{{value}} is a number Excel has shortened ({_TEXT_ADVICE})",
    )
    NUMBER_MAY_HAVE_LOST_DIGITS = (
        ErrorCode.UNTRUSTWORTHY_NUMBER,
        f"{{value}} was stored by Excel as a number and may have lost digits ({_TEXT_ADVICE})",
    )
    DUPLICATE_TRACKING_NUMBER = (
        ErrorCode.DUPLICATE_TRACKING_NUMBER,
        "{value} is already on row {first_row} (one claim per parcel: remove one of the rows)",
    )
    BAD_CONTRACT_TYPE = (
        ErrorCode.BAD_CONTRACT_TYPE,
        f"{{value}} is not a contract type (expected {_CONTRACT_TYPES})",
    )
    NOT_AN_INTEGER = (
        ErrorCode.NOT_AN_INTEGER,
        "{value} is not a whole number (expected a contract ID such as 12345)",
    )
    NOT_POSITIVE = (
        ErrorCode.NOT_POSITIVE,
        "{value} is not a contract ID (expected a whole number above 0)",
    )
    CONTRACT_ID_NOT_ALLOWED = (
        ErrorCode.CONTRACT_ID_NOT_ALLOWED,
        f"{{value}} is only for {Variant.OWN_CONTRACT} claims (this row is "
        f"{Variant.SENDCLOUD_RATES}: clear the cell or set the contract type to "
        f"{Variant.OWN_CONTRACT})",
    )
    NOT_A_BOOLEAN = (
        ErrorCode.NOT_A_BOOLEAN,
        "{value} is not yes or no (expected yes/no, true/false or 1/0; blank means no)",
    )
    PORTAL_CLAIM_NEEDS_CONTRACT = (
        ErrorCode.PORTAL_CLAIM_NEEDS_CONTRACT,
        f"a portal claim needs an {Variant.OWN_CONTRACT} claim with a carrier contract ID "
        '(fill in "{contract_header}" or set this cell to no)',
    )
    NOT_AN_AMOUNT = (ErrorCode.NOT_AN_AMOUNT, f"{{value}} is not an amount ({_AMOUNT_HINT})")
    AMBIGUOUS_AMOUNT = (
        ErrorCode.AMBIGUOUS_AMOUNT,
        "{value} is ambiguous, {thousands} or {decimal}? "
        "(write the amount with its cents, such as 1234.00 or 1.23)",
    )
    NEGATIVE_AMOUNT = (
        ErrorCode.NEGATIVE_AMOUNT,
        "{value} is negative (expected an amount of 0 or more)",
    )
    ZERO_AMOUNT = (
        ErrorCode.ZERO_AMOUNT,
        "{value} is zero (a {variant} claim needs the sales value of the contents, above 0)",
    )
    AMOUNT_TOO_LARGE = (
        ErrorCode.AMOUNT_TOO_LARGE,
        f"{{value}} is more than {MAX_AMOUNT:,} (expected the value of one parcel's "
        "contents; check the cell)",
    )
    TOO_MANY_DECIMALS = (
        ErrorCode.TOO_MANY_DECIMALS,
        f"{{value}} has more than 2 decimals ({_AMOUNT_HINT})",
    )
    BAD_CURRENCY = (
        ErrorCode.BAD_CURRENCY,
        f"{{value}} is not a supported currency ({_CURRENCY_HINT})",
    )
    UNSUPPORTED_CURRENCY = (
        ErrorCode.BAD_CURRENCY,
        f"{{value}} has an unsupported currency {{currency}} ({_CURRENCY_HINT})",
    )
    # The amount cell itself names one currency, and a header or column another.
    CURRENCY_MISMATCH = (
        ErrorCode.CURRENCY_MISMATCH,
        "{value} is in {currency} but {other_source} {other} (make the currencies agree)",
    )
    # Two of the number format, the header and the currency columns disagree.
    CURRENCY_SOURCES_DISAGREE = (
        ErrorCode.CURRENCY_MISMATCH,
        "{value}: {source} {currency} but {other_source} {other} (make the currencies agree)",
    )
    MISSING_CURRENCY = (
        ErrorCode.MISSING_CURRENCY,
        "{value} needs a currency (add a currency column or write e.g. € 12.50)",
    )
    BAD_TICKET_TYPE = (
        ErrorCode.BAD_TICKET_TYPE,
        f"{{value}} is not a ticket type (expected {_TICKET_TYPES}, or the same words in "
        "Dutch, German, French or Spanish)",
    )
    NOT_A_DIMENSION = (
        ErrorCode.NOT_A_DIMENSION,
        "{value} is not a size in cm (expected a number above 0 and up to 1000, such as "
        "40 or 12.5)",
    )
    NOT_DIMENSIONS = (
        ErrorCode.NOT_DIMENSIONS,
        "{value} is not length x width x height in cm (expected three numbers above 0, "
        "such as 40x30x20)",
    )
    DIMENSIONS_MISMATCH = (
        ErrorCode.DIMENSIONS_MISMATCH,
        "{value} says other sizes than the length, width and height columns ({parts}); "
        "fill in one or the other",
    )
    DIMENSION_PART_MISSING = (
        ErrorCode.REQUIRED,
        "missing: the parcel's length, width and height go together ({given} given)",
    )
    NOT_A_DATE = (
        ErrorCode.NOT_A_DATE,
        "{value} is not a date (expected a date cell, or text such as 2026-11-23 or 23-11-2026)",
    )
    AMBIGUOUS_DATE = (
        ErrorCode.NOT_A_DATE,
        "{value} is ambiguous, {first} or {second}? (write it as a date cell, or as "
        "year-month-day such as {first})",
    )
    NOT_FOR_TICKET_TYPE = (
        ErrorCode.NOT_FOR_TICKET_TYPE,
        "{value} is not part of a {ticket_type} claim ({title} tickets have no such field): "
        'clear the cell, or set the row\'s "{type_header}" to the claim it is',
    )
    TICKET_TYPE_NOT_FOR_CONTRACT = (
        ErrorCode.TICKET_TYPE_NOT_FOR_CONTRACT,
        "{ticket_type} tickets are for {allowed} parcels only, and this row is {variant} ({why})",
    )
    UNRECOGNISED_COLUMN = (
        ErrorCode.UNRECOGNISED_COLUMN,
        "{value} would not be sent — the header is not a column batch-claims knows (did "
        "you mean {column}?); rename the header to {column}, or map it in "
        f"{DEFAULT_CONFIG_NAME}: [columns] {{config_line}}",
    )

    def __init__(self, code: ErrorCode, template: str) -> None:
        self.code = code
        self.template = template

    @cached_property
    def words(self) -> frozenset[str]:
        """The words the template needs besides ``value``."""
        names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        return frozenset(names - {"value"})

    def problem(self, **words: str) -> Problem:
        """This message as a cell's problem, with the words its template needs."""
        return Problem(self, words)


@dataclass(frozen=True)
class Problem:
    """Why a cell was refused: a message, and the words its template needs."""

    message: Message
    words: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if set(self.words) != self.message.words:
            raise ValueError(
                f"{self.message.name} needs {sorted(self.message.words)}, not {sorted(self.words)}"
            )

    @property
    def code(self) -> ErrorCode:
        return self.message.code

    def text(self, value: object) -> str:
        """What is wrong and what is expected, with the cell as the user sees it."""
        return self.message.template.format(value=show(value), **self.words)


# A parser's answer: (the typed value, None) or (None, the Problem).
Coerced = tuple[Any, Problem | None]


def where(table: SheetTable, row: int, column: str) -> str:
    """What a cell's message starts with: its row and its header as the sheet has it."""
    return f'row {row}, "{table.header_of(column)}": '


def show(value: object) -> str:
    """A cell for a message: text in quotes (shortened, on one line, a control character
    as "�"), numbers as the user sees them."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:39] + "…"
        text = _CONTROL.sub(lambda m: " " if m.group().isspace() else "\ufffd", text)
        return f'"{text}"'
    return show_plain(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def show_plain(value: object) -> str:
    """A non-text cell as the text the user most likely typed."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def rows_listed(numbers: Sequence[int], limit: int = 10) -> str:
    """How a notice lists rows: row 7 / rows 7 and 9 / rows 1, 2, … and 12 more."""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    shown = [str(n) for n in numbers[:limit]]
    if len(numbers) > limit:
        return f"rows {', '.join(shown)} and {len(numbers) - limit} more"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"
