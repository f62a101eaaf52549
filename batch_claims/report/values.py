"""What a cell of the results workbook may hold: ``excel_value`` turns any value into
one (text cleaned of characters XML cannot carry, redacted and capped at Excel's limit;
datetimes naive UTC; NaN, infinities and NaT blank)."""

from __future__ import annotations

import math
import numbers
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from batch_claims.redact import redact

MAX_CELL_TEXT = 32_767  # Excel's limit per cell, in UTF-16 code units
# Characters XML 1.0 cannot hold: openpyxl's ILLEGAL_CHARACTERS_RE, U+FFFE, U+FFFF, and
# lone surrogates (which no UTF-8 file can hold either).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]|[\ud800-\udfff\ufffe\uffff]")

CellValue = str | int | float | Decimal | bool | datetime | date | time | timedelta | None


def excel_value(value: object) -> CellValue:
    """A value a workbook cell can store: text cleaned and capped, datetimes naive UTC."""
    if type(value) is str:
        return clean_text(value)
    if value is None or isinstance(value, str):
        return clean_text(value) if value is not None else None
    if isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, date | time | timedelta):
        if value != value:  # pandas NaT
            return None
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, numbers.Integral):  # numpy integers
        return int(value)
    if isinstance(value, numbers.Real):  # float, numpy floats
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    return clean_text(str(value))


def clean_text(text: str) -> str:
    """Text without characters XML cannot hold, line breaks as ``\\n``, secrets redacted,
    cut to Excel's limit (never inside a surrogate pair)."""
    if text.isprintable() or ("\n" in text and text.replace("\n", "").isprintable()):
        text = redact(text)  # no control character but line breaks: nothing to clean
    else:  # line breaks as every XML reader reads them back (a bare \r would be escaped)
        text = redact(ILLEGAL_CHARACTERS.sub("", text)).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CELL_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_CELL_TEXT:
        kept = text.encode("utf-16-le")[: 2 * (MAX_CELL_TEXT - 1)]
        text = kept.decode("utf-16-le", errors="ignore") + "…"
    return text


def finite(value: int | float | Decimal) -> float | int | None:
    """``value`` as a spreadsheet number (a Decimal as a float, -0.0 as 0), or None when
    a spreadsheet cannot hold it as a number."""
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    if number == 0:
        return 0  # -0.0 reads back as 0
    return number if isinstance(value, Decimal) else value  # as the file keeps it
