"""What one cell of the input sheet holds, as the reader hands it on.

Only the reader sees a cell's number format (the Excel reader hands a numeric cell with
a format other than General on as a ``FormattedNumber``; ``excel_value`` makes each
workbook cell what the user sees), so it is here that a numeric tracking-number cell
becomes exact text (leading zeros restored from a ``0000000000`` format); a number
Excel cannot hold exactly becomes an ``UntrustworthyNumber`` that the schema reports.
A number shown as a percentage becomes the text the user sees ("50%"), so it is never
read as an amount of 0.50; a number whose format shows a currency (``£#,##0.00``,
``[$€-407] #,##0.00``) becomes a ``CurrencyNumber`` carrying it. An Excel error value
(``#REF!``, a formula's cached result, a typed error or the same text in a CSV) becomes
an ``ExcelError``; a formula the writing program never calculated, an
``UncalculatedFormula``. Workbook text is unescaped as Excel reads it (``_x000D_`` is a
carriage return, ``_x005F_`` an underscore). Everything else is kept as read: text
stripped, numbers, booleans and datetimes as they are, ``None`` for blank.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

# Excel keeps 15 significant digits: a whole number from 10**15 up may have lost digits.
EXACT_DIGITS_LIMIT = 10**15
# Surrounding characters that are never part of a value (str.strip() already covers
# Unicode spaces such as the non-breaking space).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_FORMAT = re.compile(r'((?:"[^"]*"|\\.)*)(0+)((?:"[^"]*"|\\.)*)')
# How a workbook stores a control character (XML cannot hold one): _x000D_ for "\r";
# _x005F_ for an underscore that would otherwise start such an escape.
_XML_ESCAPE = re.compile(r"_x(00[01][0-9A-Fa-f]|007[Ff]|005[Ff])_")
# Excel's error values, as Excel (and a CSV it saved) shows them; "#ERROR!" is Google
# Sheets'.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
    | {"#SPILL!", "#CALC!", "#BLOCKED!", "#CONNECT!", "#FIELD!", "#UNKNOWN!", "#BUSY!"}
    | {"#PYTHON!", "#EXTERNAL!", "#ERROR!"}
)
# Built-in formats whose currency symbol follows the reading computer's region (the
# file stores no symbol): they name no currency.
_LOCALE_CURRENCY_FORMATS = frozenset({5, 6, 7, 8, 42, 44})
# The pieces of a number format section: quoted text, an escaped character, a [...]
# code, a padding/fill character (_x, *x), or one character.
_FORMAT_PART = re.compile(
    r'"(?P<quoted>[^"]*)"?|\\(?P<escaped>.)|\[(?P<bracket>[^\]]*)\]|[_*].|(?P<char>.)', re.S
)
# Characters of a number format that are code, not shown text.
_FORMAT_CODE = frozenset("0#?.,%Ee+-/@ ()")
# Currency words formats use that are no currency symbol (Sc) or 3-letter code.
_CURRENCY_FORMAT_WORDS = frozenset(
    {"kr", "kr.", "zł", "kč", "ft", "lei", "fr", "fr.", "sfr", "sfr.", "lv", "лв", "руб", "р."}
)


@dataclass(frozen=True)
class UntrustworthyNumber:
    """A tracking number Excel stored as a number too long to be exact (16+ digits)."""

    shown: str  # the digits Excel shows, e.g. "123456789012346000"

    def __str__(self) -> str:
        return self.shown


@dataclass(frozen=True)
class ExcelError:
    """An Excel error value (``#REF!``, ``#N/A``, ...): a formula's cached result, an
    error typed into a cell, or the same text in a CSV file. It is never a value."""

    shown: str  # as Excel shows it, e.g. "#REF!"

    def __str__(self) -> str:
        return self.shown


@dataclass(frozen=True)
class UncalculatedFormula:
    """A formula whose result the program that wrote the workbook never calculated
    (openpyxl stores no result, XlsxWriter a 0, and both ask Excel to calculate on
    opening): what Excel will show is unknown here, so it is never a value."""

    formula: str  # as written, e.g. "=D2*0.5"

    def __str__(self) -> str:
        return self.formula


@dataclass(frozen=True)
class UnreadableCell:
    """A cell whose reading failed unexpectedly: it is no value, and only its row pays
    (every parser refuses it with the code ``internal_error``)."""

    reason: str  # the exception's type and words, for a bug report

    def __str__(self) -> str:
        return "(unreadable cell)"


def safely(convert: Callable[[Any, bool], object]) -> Callable[[Any, bool], object]:
    """``convert``, turning an unexpected error on one cell into an ``UnreadableCell``."""

    def convert_cell(cell: Any, tracking: bool) -> object:
        try:
            return convert(cell, tracking)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return UnreadableCell(reason[:200])

    return convert_cell


@dataclass(frozen=True)
class CurrencyNumber:
    """A numeric cell whose number format shows a currency (``£#,##0.00``,
    ``[$€-407] #,##0.00``): the number, and the currency symbol or code as the format
    shows it ("€", "EUR", "$"; "$ (locale C09)" for a dollar of another locale)."""

    number: int | float
    symbol: str

    def __str__(self) -> str:
        # As if typed in the cell (the Results sheet copies it; a retry reads it back).
        return f"{_number_text(self.number)} {self.symbol}"


def clean_text(text: str) -> str | None:
    """Text without surrounding (non-breaking, zero-width) spaces; None when blank."""
    stripped = text.strip().strip(_INVISIBLE).strip()
    return stripped or None


def tracking_text(value: int | float, number_format: str = "General") -> str | UntrustworthyNumber:
    """A numeric tracking-number cell as the exact text the user sees in Excel."""
    if isinstance(value, float) and not math.isfinite(value):
        return UntrustworthyNumber(repr(value))
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    number = int(value)
    if abs(number) >= EXACT_DIGITS_LIMIT:
        if isinstance(value, float):  # as Excel shows it: 15 significant digits
            number = int(Decimal(f"{value:.15g}"))
        return UntrustworthyNumber(str(number))
    digits = str(number)
    section = number_format.split(";", 1)[0]
    match = _ZERO_FORMAT.fullmatch(section)
    if match is None or number < 0:
        return digits
    prefix, zeros, suffix = match.groups()
    return _format_literal(prefix) + digits.zfill(len(zeros)) + _format_literal(suffix)


def _format_literal(part: str) -> str:
    return re.sub(r'"([^"]*)"|\\(.)', lambda m: m.group(1) or m.group(2) or "", part)


class NumberFormat(NamedTuple):
    """A cell style's number format: its id (Excel's built-in ids below 164, which a
    custom format repeating a built-in one takes too) and its code; whether it shows a
    date or a duration."""

    id: int
    code: str
    date: bool = False
    duration: bool = False


GENERAL = NumberFormat(0, "General")


class FormattedNumber(NamedTuple):
    """A workbook's numeric cell whose number format is not General, as the Excel
    reader hands it on (``excel_value`` makes it what the user sees)."""

    number: int | float
    format: NumberFormat


def excel_value(cell: object, tracking: bool) -> object:
    """A workbook cell as the Excel reader hands it on (text, a number, a
    ``FormattedNumber``, a date, a boolean, an ``ExcelError``, an
    ``UncalculatedFormula`` or None), as the user sees it in Excel."""
    if isinstance(cell, str):
        return cell_text(_unescaped(cell))
    if isinstance(cell, FormattedNumber):
        value, number_format = cell.number, cell.format.code
        if tracking:
            return tracking_text(value, number_format)
        if _is_percent_format(number_format):
            return percent_text(value)
        if cell.format.id not in _LOCALE_CURRENCY_FORMATS:
            symbol = format_currency(number_format, value)
            if symbol is not None:
                return CurrencyNumber(value, symbol)
        return value
    if tracking and isinstance(cell, int | float) and not isinstance(cell, bool):
        return tracking_text(cell)
    return cell


def _unescaped(text: str) -> str:
    """Workbook text as Excel reads it: the file stores a control character, which XML
    cannot hold, as ``_xHHHH_`` (Excel writes the carriage return of pasted text as
    ``_x000D_``), and an underscore that would start such an escape as ``_x005F_``."""
    if "_x" not in text:
        return text
    return _XML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def cell_text(text: str) -> str | ExcelError | None:
    """A text cell: ``clean_text``, or an ``ExcelError`` when it is one ("#REF!")."""
    cleaned = clean_text(text)
    if cleaned is not None and cleaned in EXCEL_ERRORS:
        return ExcelError(cleaned)
    return cleaned


def format_currency(number_format: str, value: int | float = 1) -> str | None:
    """The currency a number format shows for ``value``, as it shows it ("€", "EUR",
    "$"), or None. Only the section that formats the value counts (positive; negative;
    zero). ``[$€-407]`` is a currency code; a dollar of a locale other than the US one
    (``[$$-C09]``) is "$ (locale C09)", which no one should read as USD."""
    if number_format.strip().casefold() in ("", "general"):
        return None
    sections = _format_sections(number_format)
    index = 0
    if value < 0 and len(sections) > 1:
        index = 1
    elif value == 0 and len(sections) > 2:
        index = 2
    shown: list[str] = []
    for part in _FORMAT_PART.finditer(sections[index]):
        bracket = part["bracket"]
        if bracket is not None:
            if bracket.startswith("$"):
                symbol, _, locale = bracket[1:].partition("-")
                if symbol == "$" and locale.upper() not in ("", "409", "EN-US"):
                    return f"$ (locale {locale})"
                if symbol.strip():
                    return symbol.strip()
            continue
        text = part["quoted"] if part["quoted"] is not None else part["escaped"]
        if text is None and part["char"] is not None and part["char"] not in _FORMAT_CODE:
            text = part["char"]
        shown.append(text or " ")
    return _currency_token("".join(shown))


def _format_sections(number_format: str) -> list[str]:
    """A number format's ``;``-separated sections (a quoted or escaped ``;`` is text)."""
    sections, start = [], 0
    for part in _FORMAT_PART.finditer(number_format):
        if part["char"] == ";":
            sections.append(number_format[start : part.start()])
            start = part.end()
    sections.append(number_format[start:])
    return sections


def _currency_token(text: str) -> str | None:
    """The first currency in a format's shown text: a currency sign with the letters
    before it ("€", "US$", "A$"), a three-letter code, or a currency word ("kr")."""
    token: str
    for token in re.findall(r"[^\W\d_]*[^\w\s]|[^\W\d_]+\.?", text):
        if unicodedata.category(token[-1]) == "Sc":
            return token
        word = token.rstrip(".")
        if len(word) == 3 and word.isascii() and word.isalpha() and word.isupper():
            return word
        if token.casefold() in _CURRENCY_FORMAT_WORDS:
            return token
    return None


def _number_text(value: int | float) -> str:
    """A number as Excel's General format shows it (at most 15 significant digits)."""
    if isinstance(value, int):
        return str(value)
    return f"{value:.15g}"


def _is_percent_format(number_format: str) -> bool:
    """A number format that shows a percentage (a ``%`` outside quotes and escapes)."""
    section = number_format.split(";", 1)[0]
    return "%" in re.sub(r'"[^"]*"|\\.', "", section)


def percent_text(value: int | float) -> str:
    """A percentage cell as the user sees it (0.5 → "50%"): it is no amount or count."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    shown = (Decimal(repr(value)) * 100).normalize()
    return f"{shown:f}%"


def header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value)) or ""
