"""Coercion of the cells the ticket types beyond damage brought: the ticket type itself,
a parcel's size (one dimension per cell, or ``40x30x20`` in one), and dates.

Each parser takes one non-blank cell and answers ``(value, None)`` or ``(None,
Problem)``, as ``coerce``'s do; an Excel error value, an uncalculated formula or an
unreadable cell is refused the same way (``refuses_excel_errors``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from batch_claims.outcome import Dimensions
from batch_claims.read.cells import CurrencyNumber
from batch_claims.ticket_types import ticket_type_of
from batch_claims.validate.coerce import refuses_excel_errors
from batch_claims.validate.messages import Coerced, Message

MAX_DIMENSION = Decimal(1000)  # centimetres: no parcel is ten metres long
_CM = re.compile(r"\s*(?:cm|centimet(?:er|re)s?|centimètres?|zentimeter)\.?\s*$", re.IGNORECASE)
# "40x30x20", "40 x 30 x 20 cm", "40*30*20", "40×30×20", "40 X 30 X 20", "40,5x30x20"
_SEPARATOR = re.compile(r"\s*[x×*]\s*", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})([-./])(\d{1,2})\2(\d{4})")


@refuses_excel_errors
def parse_ticket_type(value: object) -> Coerced:
    """Any word ``ticket_types`` knows for a type, in any case or spelling of spaces."""
    if isinstance(value, str):
        found = ticket_type_of(value)
        if found is not None:
            return found, None
    return None, Message.BAD_TICKET_TYPE.problem()


def _size(text: str) -> Decimal | None:
    """A size in cm from text ("40", "12.5", "12,5", "40 cm"), or None."""
    text = _CM.sub("", text).strip().replace(",", ".")
    if not re.fullmatch(r"\d+(?:\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def _in_range(size: Decimal | None) -> Decimal | None:
    if size is None or not size.is_finite() or size <= 0 or size > MAX_DIMENSION:
        return None
    return size.normalize() if size == size.to_integral_value() else size


@refuses_excel_errors
def parse_dimension(value: object) -> Coerced:
    """One dimension in centimetres: a number above 0 and up to 1000."""
    if isinstance(value, CurrencyNumber):
        value = value.number
    size: Decimal | None = None
    if isinstance(value, bool):
        size = None
    elif isinstance(value, int):
        size = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        size = Decimal(repr(value))
    elif isinstance(value, str):
        size = _size(value)
    found = _in_range(size)
    if found is None:
        return None, Message.NOT_A_DIMENSION.problem()
    return found, None


@refuses_excel_errors
def parse_dimensions(value: object) -> Coerced:
    """Length x width x height in centimetres in one cell: ``40x30x20`` and its usual
    spellings (``40 x 30 x 20 cm``, ``40*30*20``, ``40×30×20``)."""
    if isinstance(value, str):
        parts = _SEPARATOR.split(_CM.sub("", value).strip())
        if len(parts) == 3:
            sizes = [_in_range(_size(part)) for part in parts]
            if all(size is not None for size in sizes):
                length, width, height = (size for size in sizes if size is not None)
                return Dimensions(length, width, height), None
    return None, Message.NOT_DIMENSIONS.problem()


@refuses_excel_errors
def parse_date(value: object) -> Coerced:
    """A date cell, or text as year-month-day or day-month-year (``23-11-2026``,
    ``23/11/2026``, ``23.11.2026``); a day-month order that could be read both ways
    (``03/04/2026``) is refused rather than guessed."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, str):
        text = value.strip()
        iso = _ISO_DATE.fullmatch(text)
        if iso is not None:
            return _date(int(iso[1]), int(iso[2]), int(iso[3]))
        day_first = _DAY_FIRST.fullmatch(text)
        if day_first is not None:
            first, second, year = int(day_first[1]), int(day_first[3]), int(day_first[4])
            if first <= 12 and second <= 12 and first != second and day_first[2] == "/":
                # 03/04/2026: the 3rd of April in Europe, March 4th in the US.
                options = [_date(year, second, first)[0], _date(year, first, second)[0]]
                if all(options):
                    shown = [str(option) for option in options]
                    return None, Message.AMBIGUOUS_DATE.problem(first=shown[0], second=shown[1])
            return _date(year, second, first)
    return None, Message.NOT_A_DATE.problem()


def _date(year: int, month: int, day: int) -> Coerced:
    try:
        return date(year, month, day), None
    except ValueError:
        return None, Message.NOT_A_DATE.problem()
