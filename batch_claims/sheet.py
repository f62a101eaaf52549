"""Reading the input sheet (.xlsx/.xlsm/.csv) into a table of cells with the row
numbers the user sees, and matching its headers to the canonical columns.

Only the reader sees a cell's number format, so it is the reader that turns a
numeric tracking-number cell into exact text (leading zeros restored from a
``0000000000`` format); a number Excel cannot hold exactly becomes an
``UntrustworthyNumber`` that the schema reports. Everything else is kept as read:
text stripped, numbers, booleans and datetimes as they are, ``None`` for blank.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from batch_claims.columns import BY_NAME, COLUMNS, TRACKING_NUMBER, normalise_header
from batch_claims.errors import InputError

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)
HEADER_SCAN_ROWS = 20
MAX_ROWS = 200_000
MAX_COLUMNS = 1_000
MAX_CSV_BYTES = 256 * 1024 * 1024
CSV_DELIMITERS = (",", ";", "\t", "|")
# Excel keeps 15 significant digits: a whole number from 10**15 up may have lost digits.
EXACT_DIGITS_LIMIT = 10**15
# Surrounding characters that are never part of a value (str.strip() already covers
# Unicode spaces such as the non-breaking space).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_FORMAT = re.compile(r'((?:"[^"]*"|\\.)*)(0+)((?:"[^"]*"|\\.)*)')


@dataclass(frozen=True)
class UntrustworthyNumber:
    """A tracking number Excel stored as a number too long to be exact (16+ digits)."""

    shown: str  # the digits Excel shows, e.g. "123456789012346000"

    def __str__(self) -> str:
        return self.shown


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
    rows: tuple[SourceRow, ...]  # data rows in input order (fully empty rows dropped)
    notices: tuple[str, ...] = ()  # things the run should tell the user
    encoding: str | None = None  # CSV only
    extra: Mapping[str, object] = field(default_factory=dict)  # CSV: "delimiter"

    def header_of(self, column: str) -> str:
        """The header as the user wrote it for a canonical column (or the name itself)."""
        index = self.mapping.get(column)
        return self.headers[index] if index is not None else column


def header_lookup(aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """Folded header -> canonical name: built-in names and aliases, then the config's."""
    lookup: dict[str, str] = {}
    for column in COLUMNS:
        for text in (column.name, *column.aliases):
            lookup[normalise_header(text)] = column.name
    for header, canonical in (aliases or {}).items():
        if canonical not in BY_NAME:
            raise InputError(
                f'config alias "{header}" points to "{canonical}", which is not a column '
                f"(columns: {', '.join(BY_NAME)})"
            )
        lookup[normalise_header(header)] = canonical
    return lookup


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
        return _read_csv(path, lookup)
    return _read_workbook(path, sheet_name, lookup)


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
    value = cell.value
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if tracking and isinstance(value, int | float) and not isinstance(value, bool):
        return tracking_text(value, cell.number_format or "General")
    return value


def _csv_value(cell: str, tracking: bool) -> object:
    return clean_text(cell)


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value)) or ""


# --- table assembly --------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    row: int
    headers: tuple[str, ...]
    mapping: dict[str, int]


def _find_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    convert: Callable[[Any, bool], object],
    lookup: Mapping[str, str],
) -> _Header | None:
    """Consume rows up to the header (within the first rows); None when there is none."""
    tracking_keys = {key for key, name in lookup.items() if name == TRACKING_NUMBER}
    for number, cells in itertools.islice(rows, HEADER_SCAN_ROWS):
        texts = [_header_text(convert(cell, False)) for cell in cells[: MAX_COLUMNS + 1]]
        if any(normalise_header(text) in tracking_keys for text in texts if text):
            while texts and not texts[-1]:
                texts.pop()
            return _Header(number, tuple(texts), {})
    return None


def _match_headers(source: str, header: _Header, lookup: Mapping[str, str]) -> _Header:
    if len(header.headers) > MAX_COLUMNS:
        raise InputError(
            f"{source}: the header row has more than {MAX_COLUMNS} columns; "
            "remove the unused columns"
        )
    mapping: dict[str, int] = {}
    for index, text in enumerate(header.headers):
        canonical = lookup.get(normalise_header(text)) if text else None
        if canonical is None:
            continue
        if canonical in mapping:
            first = header.headers[mapping[canonical]]
            raise InputError(
                f'{source}: the headers "{first}" and "{text}" both mean {canonical}; '
                "keep one of them or rename the other"
            )
        mapping[canonical] = index
    return _Header(header.row, header.headers, mapping)


def _assemble(
    path: Path,
    where: str,
    header: _Header,
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    convert: Callable[[Any, bool], object],
) -> tuple[tuple[SourceRow, ...], list[str]]:
    """The data rows below the header, converted; and the notices about them."""
    width = len(header.headers)
    tracking_index = header.mapping[TRACKING_NUMBER]
    flags = [index == tracking_index for index in range(width)]
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
    mapped = set(header.mapping.values())
    unknown = [text for index, text in enumerate(header.headers) if text and index not in mapped]
    if unknown:
        listed = ", ".join(f'"{text}"' for text in unknown)
        notices.append(f"columns not recognised, carried along unchanged: {listed}")
    if beyond:
        listed = ", ".join(str(number) for number in beyond)
        notices.append(
            f"values right of the last header were ignored (row {listed}); "
            "give those columns a header to keep them"
        )
    return tuple(data), notices


def _looked_for(lookup: Mapping[str, str]) -> str:
    names = [TRACKING_NUMBER, *BY_NAME[TRACKING_NUMBER].aliases]
    extra = [key for key, name in lookup.items() if name == TRACKING_NUMBER]
    known = {normalise_header(name) for name in names}
    names += [key for key in extra if key not in known]
    return ", ".join(names)


# --- Excel -------------------------------------------------------------------------


def _read_workbook(path: Path, sheet_name: str | None, lookup: Mapping[str, str]) -> SheetTable:
    import openpyxl

    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{path.name}: is an old .xls or a password-protected workbook; "
            "save it as .xlsx without a password"
        )
    if not magic.startswith(b"PK"):
        raise InputError(
            f"{path.name}: is not an Excel workbook (the file is not an .xlsx archive)"
        )
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation, styles); not ours.
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a corrupt archive raises many different types
            raise InputError(
                f"{path.name}: cannot be read as an Excel workbook ({_reason(exc)})"
            ) from exc
        try:
            return _read_worksheets(path, workbook, sheet_name, lookup)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                f"{path.name}: cannot be read as an Excel workbook ({_reason(exc)})"
            ) from exc
        finally:
            workbook.close()


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


def _read_worksheets(
    path: Path, workbook: Any, sheet_name: str | None, lookup: Mapping[str, str]
) -> SheetTable:
    sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
    names = [ws.title for ws in sheets]
    listed = ", ".join(f'"{name}"' for name in names)
    if sheet_name is not None:
        chosen = [ws for ws in sheets if ws.title == sheet_name] or [
            ws for ws in sheets if ws.title.casefold() == sheet_name.strip().casefold()
        ]
        if not chosen:
            raise InputError(f'{path.name}: no sheet named "{sheet_name}" (sheets: {listed})')
        candidates = chosen[:1]
    else:
        candidates = sheets
    for worksheet in candidates:
        with closing(_worksheet_rows(worksheet)) as rows:
            header = _find_header(rows, _excel_value, lookup)
            if header is None:
                continue
            where = f'sheet "{worksheet.title}"'
            header = _match_headers(f"{path.name}, {where}", header, lookup)
            data, notices = _assemble(path, where, header, rows, _excel_value)
        return SheetTable(
            source=path,
            sheet_name=worksheet.title,
            header_row=header.row,
            headers=header.headers,
            mapping=header.mapping,
            rows=data,
            notices=tuple(notices),
        )
    if len(candidates) == 1:
        where = f'sheet "{candidates[0].title}"'
    else:
        where = f"any sheet ({listed})"
    raise InputError(
        f"{path.name}: no header row with a tracking number column found in the first "
        f"{HEADER_SCAN_ROWS} rows of {where} (looked for: {_looked_for(lookup)})"
    )


def _worksheet_rows(worksheet: Any) -> Generator[tuple[int, tuple[Any, ...]]]:
    # The stored dimensions can be wrong (too small); forget them and read every row.
    worksheet.reset_dimensions()
    source = worksheet.iter_rows()
    try:
        for number, cells in enumerate(source, start=1):
            yield number, tuple(cells)
    finally:
        source.close()  # the sheet's XML stays open until its generator is closed


# --- CSV ---------------------------------------------------------------------------


def _read_csv(path: Path, lookup: Mapping[str, str]) -> SheetTable:
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InputError(
            f"{path.name}: is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; "
            "split it into smaller files"
        )
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise InputError(
            f"{path.name}: is not a CSV text file (it contains binary data; "
            "an Excel workbook needs the .xlsx extension)"
        )
    text, encoding = _decode(path, raw)
    notices = []
    if encoding == "cp1252":
        notices.append(f"{path.name} is not UTF-8; it was read as Windows-1252 text")
    delimiter = None
    first_line, _, rest = text.partition("\n")
    if re.fullmatch(r"sep=(.)\r?", first_line):  # Excel's delimiter hint line
        delimiter, text = first_line[4], rest
    try:
        if delimiter is None:
            delimiter = _sniff_delimiter(text, lookup)
        if delimiter is None:
            raise InputError(
                f"{path.name}: no header row with a tracking number column found in the "
                f"first {HEADER_SCAN_ROWS} rows (looked for: {_looked_for(lookup)})"
            )
        rows = _csv_rows(text, delimiter)
        header = _find_header(rows, _csv_value, lookup)
        assert header is not None  # the sniffer found it with this delimiter
        header = _match_headers(path.name, header, lookup)
        data, more = _assemble(path, "the file", header, rows, _csv_value)
    except csv.Error as exc:
        raise InputError(f"{path.name}: cannot be read as CSV ({exc})") from exc
    return SheetTable(
        source=path,
        sheet_name=None,
        header_row=header.row,
        headers=header.headers,
        mapping=header.mapping,
        rows=data,
        notices=tuple(notices + more),
        encoding=encoding,
        extra={"delimiter": delimiter},
    )


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    for candidate in (encoding, "cp1252"):
        try:
            return raw.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path.name}: is neither UTF-8 nor Windows-1252 text; save it as UTF-8 CSV")


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, record in enumerate(reader, start=1):
        yield number, tuple(record)


def _sniff_delimiter(text: str, lookup: Mapping[str, str]) -> str | None:
    """The delimiter whose header row has the most recognised columns."""
    best: tuple[int, int, str] | None = None
    for delimiter in CSV_DELIMITERS:
        try:
            header = _find_header(_csv_rows(text, delimiter), _csv_value, lookup)
        except csv.Error:
            continue
        if header is None:
            continue
        known = sum(1 for text in header.headers if normalise_header(text) in lookup)
        score = (known, -CSV_DELIMITERS.index(delimiter), delimiter)
        if best is None or score[:2] > best[:2]:
            best = score
    return best[2] if best is not None else None
