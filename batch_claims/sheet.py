"""Reading the input sheet (.xlsx/.xlsm/.csv) into a table of cells with the row
numbers the user sees: finding the header row, reading cells, and leaving out what is
not a claim. Which column a header means is ``headers``' concern; the CSV specifics
(encoding, delimiter) are ``csvfile``'s, the Excel ones (which sheet, merged ranges)
``xlsxfile``'s.

Only the reader sees a cell's number format, so it is the reader that turns a
numeric tracking-number cell into exact text (leading zeros restored from a
``0000000000`` format); a number Excel cannot hold exactly becomes an
``UntrustworthyNumber`` that the schema reports. A number shown as a percentage
becomes the text the user sees ("50%"), so it is never read as an amount of 0.50; a
number whose format shows a currency (``£#,##0.00``, ``[$€-407] #,##0.00``) becomes a
``CurrencyNumber`` carrying it. An Excel error value (``#REF!``, a formula's cached
result, a typed error or the same text in a CSV) becomes an ``ExcelError``; a formula
the writing program never calculated, an ``UncalculatedFormula``.
Everything else is kept as read: text stripped, numbers, booleans and datetimes as
they are, ``None`` for blank.

The header row is searched for in the first ``HEADER_SCAN_ROWS`` rows, below any
title or instruction lines: the first row naming the tracking-number column and
another known column, else the first naming the tracking-number column alone.

Structural clean-up also happens here, each told once in ``SheetTable.notices``:
fully empty rows are dropped silently; rows labelled as totals or notes ("Subtotal",
"Totaal: 12", "Notes: …", see ``totals_label``) wherever they stand, rows after the
last row with a tracking number that hold only amounts, currencies or one note, the
template's example row and header lines repeated below the header are dropped with a
notice; values under a blank header cell are named in one. A header cell merged across columns
or rows (Excel) is read as the text it shows; a header row whose merged cells reach into
the rows below makes those rows part of the header (their sub-headers name the columns).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from batch_claims.columns import (
    BY_NAME,
    EXAMPLE_TRACKING_NUMBER,
    TRACKING_NUMBER,
    Kind,
    normalise_header,
)
from batch_claims.errors import InputError
from batch_claims.headers import (
    column_mapping,
    header_lookup,
    looked_for,
    shown_header,
    unknown_columns,
)

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)
HEADER_SCAN_ROWS = 1_000  # title or instruction lines above the header, and the header
MAX_HEADER_ROWS = 4  # a header made of merged cells may span this many rows
LISTED_ROWS = 10  # row numbers listed in one notice before "and N more"
MAX_ROWS = 200_000
MAX_COLUMNS = 1_000
# Excel keeps 15 significant digits: a whole number from 10**15 up may have lost digits.
EXACT_DIGITS_LIMIT = 10**15
# Surrounding characters that are never part of a value (str.strip() already covers
# Unicode spaces such as the non-breaking space).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_FORMAT = re.compile(r'((?:"[^"]*"|\\.)*)(0+)((?:"[^"]*"|\\.)*)')
# How a workbook stores a control character (XML cannot hold one): _x000D_ for "\r".
_XML_ESCAPE = re.compile(r"_x(00[01][0-9A-Fa-f]|007[Ff])_")
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


@dataclass(frozen=True)
class SourceRow:
    row: int  # the row number the user sees in Excel (1-based)
    cells: tuple[object, ...]  # one value per header, aligned with SheetTable.headers


@dataclass(frozen=True)
class SheetTable:
    source: Path
    sheet_name: str | None  # None for CSV
    header_row: int  # the row number of the header row as the user sees it
    headers: tuple[str, ...]  # as the user wrote them
    mapping: Mapping[str, int]  # canonical column name -> index into headers
    # Data rows in input order: without fully empty rows, totals and notes rows,
    # trailing rows without a tracking number, and the template's example row (see
    # ``skipped_rows``).
    rows: tuple[SourceRow, ...]
    notices: tuple[str, ...] = ()  # things the run should tell the user
    encoding: str | None = None  # CSV only
    extra: Mapping[str, object] = field(default_factory=dict)  # CSV: "delimiter"
    # Rows with content that are not claims and were left out of ``rows`` (the notices
    # say why): totals and notes rows, trailing rows and the template's example row.
    skipped_rows: tuple[int, ...] = ()

    def header_of(self, column: str) -> str:
        """The header as the user wrote it for a canonical column (or the name itself),
        on one line for messages (``shown_header``)."""
        index = self.mapping.get(column)
        return shown_header(self.headers[index]) if index is not None else column


def read_sheet(
    path: Path, sheet_name: str | None = None, aliases: Mapping[str, str] | None = None
) -> SheetTable:
    """Read the input sheet; raise ``InputError`` (one sentence) when it cannot be used."""
    lookup = header_lookup(aliases)
    suffix = path.suffix.lower()
    if suffix not in EXCEL_SUFFIXES + CSV_SUFFIXES:
        raise InputError(
            f"{path.name}: unsupported file type {suffix or '(no extension)'} "
            "(expected .xlsx, .xlsm or .csv; save the sheet in one of those formats)"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise InputError(f"{path.name}: the file is empty")
    if suffix in CSV_SUFFIXES:
        # csvfile and xlsxfile build on this module's table assembly: imported when needed.
        from batch_claims.csvfile import read_csv

        return read_csv(path, lookup)
    from batch_claims.xlsxfile import read_workbook

    return read_workbook(path, sheet_name, lookup)


# --- cells -----------------------------------------------------------------------


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


def _excel_value(cell: Any, tracking: bool) -> object:
    if isinstance(cell, UncalculatedFormula):
        return cell
    value = cell.value
    if value is None:
        return None
    if getattr(cell, "data_type", None) == "e":
        return ExcelError(str(value).strip())
    if isinstance(value, str):
        return cell_text(_unescaped(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        number_format = cell.number_format or "General"
        if tracking:
            return tracking_text(value, number_format)
        if _is_percent_format(number_format):
            return percent_text(value)
        style = getattr(cell, "style_array", None)
        if getattr(style, "numFmtId", None) not in _LOCALE_CURRENCY_FORMATS:
            symbol = format_currency(number_format, value)
            if symbol is not None:
                return CurrencyNumber(value, symbol)
    return value


def _unescaped(text: str) -> str:
    """Workbook text as Excel reads it: the file stores a control character, which XML
    cannot hold, as ``_xHHHH_`` (Excel writes the carriage return of pasted text as
    ``_x000D_``), and openpyxl leaves it so."""
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


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value)) or ""


# --- table assembly --------------------------------------------------------------


@dataclass(frozen=True)
class HeaderRow:
    """The header row found: its row number, its texts, and (once matched) the columns."""

    row: int
    headers: tuple[str, ...]
    mapping: dict[str, int]


@dataclass(frozen=True)
class CellRange:
    """A merged range of cells, 1-based and inclusive, as Excel numbers rows."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def holds(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


def names_other_columns(headers: Sequence[str], lookup: Mapping[str, str]) -> bool:
    """Whether a header row names a known column besides the tracking number: what makes
    it a claims table rather than a lone list of tracking numbers or a legend."""
    named = {column for text in headers if text for column in column_mapping("", (text,), lookup)}
    return len(named - {TRACKING_NUMBER}) >= 1


def find_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    convert: Callable[[Any, bool], object],
    lookup: Mapping[str, str],
    merged: Sequence[CellRange] = (),
    seen: dict[int, list[str]] | None = None,
) -> tuple[HeaderRow | None, Iterator[tuple[int, tuple[Any, ...]]]]:
    """The header row within the first ``HEADER_SCAN_ROWS`` rows, and the rows below it.

    The header is the first row that names the tracking-number column and at least one
    other known column; failing that, the first that names the tracking-number column
    alone (a sheet of bare tracking numbers), whose following rows are given back. A
    row that names the tracking number alone above a fuller one is a title or legend
    line. ``seen`` collects the texts of the rows scanned (for a suggestion when none is
    a header). When a merged cell of the header row reaches into the rows below, those
    rows complete the header.
    """
    tracking_keys = {key for key, name in lookup.items() if name == TRACKING_NUMBER}
    scanned: dict[int, list[str]] = {} if seen is None else seen
    lone: HeaderRow | None = None
    after_lone: list[tuple[int, tuple[Any, ...]]] = []
    for number, cells in itertools.islice(rows, HEADER_SCAN_ROWS):
        if lone is not None:
            after_lone.append((number, cells))
        texts = _texts(cells, convert)
        scanned[number] = texts
        if not any(normalise_header(text) in tracking_keys for text in texts if text):
            continue
        header, below = _header_block(number, texts, rows, convert, merged, scanned)
        if names_other_columns(header.headers, lookup):
            return header, rows
        if lone is None:
            lone = header
        else:
            after_lone.extend(below)
    if lone is None:
        return None, rows
    return lone, itertools.chain(after_lone, rows)


def _texts(cells: Sequence[Any], convert: Callable[[Any, bool], object]) -> list[str]:
    convert = safely(convert)
    return [_header_text(convert(cell, False)) for cell in cells[: MAX_COLUMNS + 1]]


def _header_block(
    number: int,
    texts: list[str],
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    convert: Callable[[Any, bool], object],
    merged: Sequence[CellRange],
    scanned: dict[int, list[str]],
) -> tuple[HeaderRow, list[tuple[int, tuple[Any, ...]]]]:
    """The header starting on row ``number``, and the rows below it that its merged
    cells reach into (consumed from ``rows``)."""
    below: list[tuple[int, tuple[Any, ...]]] = []
    if merged:
        last = max((r.max_row for r in merged if r.min_row <= number <= r.max_row), default=number)
        last = min(last, number + MAX_HEADER_ROWS - 1)
        below = list(itertools.islice(rows, last - number))
        for row, more in below:
            scanned[row] = _texts(more, convert)
        texts = _merged_header(number, last, scanned, merged)
    texts = list(texts)
    while texts and not texts[-1]:
        texts.pop()
    return HeaderRow(number, tuple(texts), {}), below


def _merged_header(
    first: int, last: int, scanned: Mapping[int, list[str]], merged: Sequence[CellRange]
) -> list[str]:
    """The header texts of rows ``first``..``last`` as the user sees them.

    Per column the lowest text wins (a sub-header under a group cell); a cell covered by
    a merged range shows the range's text; a column that only continues a merged cell
    to its left is named after it: "Photos", "Photos (2)", ...
    """
    block = range(last, first - 1, -1)
    ranges = [r for r in merged if r.min_row <= last and r.max_row >= first]
    width = max(
        [len(scanned.get(row, ())) for row in block] + [r.max_col for r in ranges], default=0
    )

    def text_at(row: int, col: int) -> str:
        texts = scanned.get(row, [])
        return texts[col - 1] if col - 1 < len(texts) else ""

    def owner(row: int, col: int) -> CellRange | None:
        return next((r for r in ranges if r.holds(row, col)), None)

    headers = []
    for col in range(1, min(width, MAX_COLUMNS + 1) + 1):
        chosen = ""
        for row in block:
            chosen = text_at(row, col)
            cover = owner(row, col)
            if not chosen and cover is not None and cover.min_col == col:
                chosen = text_at(cover.min_row, col)
            if chosen:
                break
        if not chosen:
            for row in block:
                cover = owner(row, col)
                if cover is not None and cover.min_col < col:
                    base = text_at(cover.min_row, cover.min_col)
                    if base:
                        chosen = f"{base} ({col - cover.min_col + 1})"
                        break
        headers.append(chosen)
    return headers


def no_header(
    source: str,
    place: str,
    lookup: Mapping[str, str],
    near: tuple[int, str] | None,
    near_where: str = "",
    limited: bool = False,
) -> InputError:
    """The error for a sheet without a header row. ``place`` names where it was looked
    for ('sheet "Claims"', or "" for a CSV file); ``limited``: the scan stopped at
    ``HEADER_SCAN_ROWS`` rows before the end of the sheet."""
    head = f"{source}: no header row with a tracking number column found"
    if limited:
        head += f" in the first {HEADER_SCAN_ROWS:,} rows" + (f" of {place}" if place else "")
    elif place:
        head += f" in {place}"
    if near is not None:
        row, text = near
        return InputError(
            f'{head}; "{text}" on row {row}{near_where} — did you mean {TRACKING_NUMBER}?'
        )
    return InputError(f"{head} (looked for: {looked_for(lookup)})")


def scanned_to_the_limit(seen: Mapping[int, object]) -> bool:
    """Whether a header search stopped at ``HEADER_SCAN_ROWS`` rather than at the end."""
    return len(seen) >= HEADER_SCAN_ROWS


def match_headers(source: str, header: HeaderRow, lookup: Mapping[str, str]) -> HeaderRow:
    """The header row with its columns matched (``headers``); too wide a row is refused."""
    if len(header.headers) > MAX_COLUMNS:
        raise InputError(
            f"{source}: the header row has more than {MAX_COLUMNS} columns; "
            "remove the unused columns"
        )
    return HeaderRow(header.row, header.headers, column_mapping(source, header.headers, lookup))


def assemble(
    path: Path,
    where: str,
    header: HeaderRow,
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    convert: Callable[[Any, bool], object],
    lookup: Mapping[str, str],
) -> tuple[tuple[SourceRow, ...], list[str], tuple[int, ...]]:
    """The data rows below the header, converted; the notices about them; the rows
    with content that were left out."""
    width = len(header.headers)
    tracking_index = header.mapping[TRACKING_NUMBER]
    flags = [index == tracking_index for index in range(width)]
    convert = safely(convert)  # one odd cell costs its row, never the sheet
    padding = (None,) * width
    data: list[SourceRow] = []
    beyond: list[int] = []
    for number, cells in rows:
        values = tuple(
            convert(cell, flag) if cell is not None else None
            for cell, flag in zip(cells, flags, strict=False)
        )
        if len(values) < width:
            values = (values + padding)[:width]
        if len(cells) > width and len(beyond) < 3:
            if any(convert(cell, False) is not None for cell in cells[width:] if cell is not None):
                beyond.append(number)
        if all(value is None for value in values):
            continue
        if len(data) >= MAX_ROWS:
            raise InputError(
                f"{path.name}: {where} has more than {MAX_ROWS:,} data rows; "
                "split it into smaller sheets"
            )
        data.append(SourceRow(number, values))
    notices = []
    unknown = unknown_columns(header.headers, header.mapping, lookup)
    if unknown:
        notices.append(unknown)
    data, totals = _without_totals_rows(data, tracking_index)
    data, trailing = _without_trailing_rows(data, tracking_index, header.mapping)
    data, examples = _without_example_rows(data, tracking_index)
    data, repeats = _without_header_repeats(data, tracking_index, lookup)
    unnamed = _unnamed_columns_notice(header.headers, data)
    if unnamed:
        notices.append(unnamed)
    if beyond:
        listed = ", ".join(str(number) for number in beyond)
        notices.append(
            f"values right of the last header were ignored (row {listed}); "
            "give those columns a header to keep them"
        )
    if totals:
        notices.append(_totals_notice(totals))
    if trailing:
        notices.append(
            f"{_rows_phrase(trailing)} no tracking number and "
            + (
                "was ignored (a totals or notes row?)"
                if len(trailing) == 1
                else "were ignored (totals or notes rows?)"
            )
        )
    if examples:
        notices.append(
            f"{_rows_phrase(examples, 'is', 'are')} the template's example row and "
            + ("was skipped" if len(examples) == 1 else "were skipped")
        )
    if repeats:
        notices.append(
            f"{_rows_phrase(repeats, 'repeats', 'repeat')} the header (its tracking-number "
            "cell names the column) and " + ("was skipped" if len(repeats) == 1 else "were skipped")
        )
    skipped = [row for row, _ in totals] + trailing + examples + repeats
    return tuple(data), notices, tuple(sorted(skipped))


# Labels of totals and notes rows, folded (lower case, no accents); a space stands for
# any run of spaces, hyphens or dots ("Sub-total", "Sous total", "N.B.").
TOTALS_WORDS = (
    # English
    "total", "totals", "sub total", "sub totals", "grand total", "sum", "sum total",
    # Dutch
    "totaal", "totalen", "sub totaal", "sub totalen", "eind totaal", "som", "totaal bedrag",
    # German
    "summe", "summen", "gesamt", "gesamtsumme", "gesamtbetrag", "zwischensumme",
    "endsumme", "insgesamt", "teilsumme",
    # French
    "sous total", "sous totaux", "total general", "totaux", "somme", "montant total",
    # Spanish and Italian
    "suma", "suma total", "totales", "sub totales", "totale", "totali",
    "sub totale",
)  # fmt: skip
NOTES_WORDS = (
    "note", "notes", "nb", "n b", "remark", "remarks", "comment", "comments",
    "opmerking", "opmerkingen", "notitie", "notities", "let op",
    "anmerkung", "anmerkungen", "hinweis", "bemerkung", "bemerkungen", "achtung",
    "remarque", "remarques", "commentaire", "commentaires", "nota", "notas",
    "observacion", "observaciones", "comentario", "comentarios",
)  # fmt: skip
_TOTALS_LABEL = re.compile(
    r"(?:"
    + "|".join(
        r"[\s.\-]*".join(map(re.escape, word.split()))
        for word in sorted({*TOTALS_WORDS, *NOTES_WORDS}, key=len, reverse=True)
    )
    + r")\.?"
    # then nothing, a number, a currency or punctuation, never a letter or a digit that
    # continues the word (a tracking number has no space or ":" after its letters)
    + r"(?=\s*$|\s*[:=(\[;,*!?€£$–—]|\s+[-+]?\d|\s+-\s|\s+(?:eur|gbp|usd)\b)"
    + r"|n\.\s*b\.(?=\s|$)"  # "N.B." with its dots: anything may follow
)


def totals_label(text: str) -> bool:
    """Whether a cell's text is a totals or notes label: it starts with one of
    ``TOTALS_WORDS`` or ``NOTES_WORDS`` (any case and accents), followed by nothing, a
    number, a currency, or punctuation such as ":" or "(" ("Total", "Totaal: 12",
    "Total (4 parcels)", "Summe 35,00", "NB: …"). A word or letters right after it
    ("Total loss", "TOTAL12") make it no label, so a tracking number never is one."""
    return _TOTALS_LABEL.match(_fold(text)) is not None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def _label_of(row: SourceRow, tracking_index: int) -> str | None:
    """The text that names what a row is: its tracking-number cell, or when that is
    blank its first non-blank cell."""
    value = row.cells[tracking_index]
    if value is None:
        value = next((cell for cell in row.cells if cell is not None), None)
    return value if isinstance(value, str) else None


def _without_totals_rows(
    data: list[SourceRow], tracking_index: int
) -> tuple[list[SourceRow], list[tuple[int, str]]]:
    """Rows labelled as totals or notes ("Subtotal", "Totaal: 12", "Notes: …"), wherever
    they stand; with their labels."""
    kept: list[SourceRow] = []
    totals: list[tuple[int, str]] = []
    for row in data:
        label = _label_of(row, tracking_index)
        if label is not None and totals_label(label):
            totals.append((row.row, label))
        else:
            kept.append(row)
    return kept, totals


def _totals_notice(totals: Sequence[tuple[int, str]]) -> str:
    labels = list(dict.fromkeys(label for _, label in totals))
    shown = ", ".join(f'"{_shortened(label)}"' for label in labels[:3])
    if len(labels) > 3:
        shown += ", …"
    one = len(totals) == 1
    return (
        f"{_rows_phrase([row for row, _ in totals], 'is', 'are')} "
        + ("a totals or notes row" if one else "totals or notes rows")
        + f" ({shown}) and "
        + ("was ignored" if one else "were ignored")
    )


def _shortened(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _without_trailing_rows(
    data: list[SourceRow], tracking_index: int, mapping: Mapping[str, int]
) -> tuple[list[SourceRow], list[int]]:
    """Rows after the last one with a tracking number are totals or notes, not claims.

    A tracking cell without a single digit ("Total", "Totaal", "Notes: …") does not
    count as a tracking number here: real ones always carry digits. A sheet where no
    row has a tracking number keeps its rows (each is then reported as missing one):
    there is no "last row" to go by. A trailing row that says what only a claim says
    (``_says_claim``) stays a row, reported for its tracking number, never lost.
    """

    def has_tracking_number(row: SourceRow) -> bool:
        value = row.cells[tracking_index]
        if isinstance(value, str):
            return any(ch.isdigit() for ch in value)
        return value is not None

    last = next((i for i in range(len(data) - 1, -1, -1) if has_tracking_number(data[i])), None)
    if last is None or last == len(data) - 1:
        return data, []
    claim_indexes = [
        index for name, index in mapping.items() if BY_NAME[name].kind not in _TOTALS_KINDS
    ]
    kept, trailing = data[: last + 1], []
    for row in data[last + 1 :]:
        if _says_claim(row, claim_indexes):
            kept.append(row)
        else:
            trailing.append(row.row)
    return kept, trailing


# What a totals row holds besides its label: amounts and their currency.
_TOTALS_KINDS = frozenset({Kind.AMOUNT, Kind.CURRENCY})


def _says_claim(row: SourceRow, claim_indexes: Sequence[int]) -> bool:
    """Whether a row without a tracking number is a claim that lacks one rather than a
    totals or notes row: more than one filled cell, one of them in a column other than
    an amount or a currency (a contract type, a description, a file, a placeholder
    typed for the tracking number: "TBD")."""
    filled = sum(1 for value in row.cells if value is not None)
    return filled > 1 and any(
        index < len(row.cells) and row.cells[index] is not None for index in claim_indexes
    )


def _without_example_rows(
    data: list[SourceRow], tracking_index: int
) -> tuple[list[SourceRow], list[int]]:
    example = EXAMPLE_TRACKING_NUMBER.casefold()

    def is_example(row: SourceRow) -> bool:
        value = row.cells[tracking_index]
        return isinstance(value, str) and value.casefold() == example

    examples = [row.row for row in data if is_example(row)]
    if not examples:
        return data, []
    return [row for row in data if not is_example(row)], examples


def _without_header_repeats(
    data: list[SourceRow], tracking_index: int, lookup: Mapping[str, str]
) -> tuple[list[SourceRow], list[int]]:
    """Header lines below the header: the header repeated where two sheets were pasted
    together, or a line of translated column names. Their tracking-number cell names
    that column ("Tracking number", "Trackingnummer"), which no tracking number does,
    and another cell names a column too (a lone cell may be a typo, and is reported)."""

    def names(value: object) -> str | None:
        return lookup.get(normalise_header(value)) if isinstance(value, str) else None

    def is_header(row: SourceRow) -> bool:
        if names(row.cells[tracking_index]) != TRACKING_NUMBER:
            return False
        return any(names(value) for i, value in enumerate(row.cells) if i != tracking_index)

    repeats = [row.row for row in data if is_header(row)]
    if not repeats:
        return data, []
    return [row for row in data if not is_header(row)], repeats


def _unnamed_columns_notice(headers: Sequence[str], data: Sequence[SourceRow]) -> str | None:
    """The notice for values under a blank header cell between named ones (a column
    whose header was forgotten, pandas' index): they are never read, so say so."""
    parts = []
    for index, text in enumerate(headers):
        if text:
            continue
        filled = [row for row in data if row.cells[index] is not None]
        if not filled:
            continue
        example = filled[0].cells[index]
        shown = f'"{_shortened(example)}"' if isinstance(example, str) else str(example)
        rows = _rows_phrase([row.row for row in filled], "", "").strip()
        parts.append(f"column {column_letter(index + 1)} ({rows}, e.g. {shown})")
    if not parts:
        return None
    return (
        f"values under no header were not read: {'; '.join(parts)} — give the column a "
        "header (a column name, or one mapped in the config's [columns]) to have them "
        "checked and sent"
    )


def column_letter(number: int) -> str:
    """Excel's letters for a 1-based column number: 1 → A, 28 → AB."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _rows_phrase(numbers: Sequence[int], one: str = "has", many: str = "have") -> str:
    """row 7 has / rows 7 and 9 have / rows 1, 2, ... and 12 more have"""
    if len(numbers) == 1:
        return f"row {numbers[0]} {one}"
    shown = [str(n) for n in numbers[:LISTED_ROWS]]
    if len(numbers) > LISTED_ROWS:
        listed = f"{', '.join(shown)} and {len(numbers) - LISTED_ROWS} more"
    else:
        listed = f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"rows {listed} {many}"
