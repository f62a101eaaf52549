"""The CSV side of reading the input sheet: size and binary checks, the encoding
(UTF-8, UTF-16 with its byte order mark as Excel's "Unicode text" writes it, else
Windows-1252 with a notice), Excel's ``sep=`` hint line, and the
delimiter, sniffed as the one whose header row has the most recognised columns.

Files come from outside the team: one larger than ``MAX_CSV_BYTES`` is refused before it
is read, and a field longer than ``MAX_FIELD_CHARS`` (an unclosed quote swallowing the
rest of the file, or not a claims sheet at all) is refused naming its row.

Finding the header row and assembling the table are ``sheet``'s, as for a workbook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from batch_claims.columns import normalise_header
from batch_claims.errors import InputError
from batch_claims.read.cells import cell_text
from batch_claims.read.headers import near_miss
from batch_claims.read.table import (
    HEADER_SCAN_ROWS,
    SheetTable,
    find_header,
    match_headers,
    no_header,
)
from batch_claims.read.totals import assemble

MAX_CSV_BYTES = 64 * 1024 * 1024  # 200,000 claim rows of 330 bytes each
# Four times what an Excel cell holds (32,767 characters); csv's own default.
MAX_FIELD_CHARS = 131_072
CSV_DELIMITERS = (",", ";", "\t", "|")


class FieldTooLong(csv.Error):
    """A field past ``MAX_FIELD_CHARS``; a ``csv.Error``, so sniffing moves on to the
    next delimiter."""

    def __init__(self, row: int) -> None:
        super().__init__(f"row {row}")
        self.row = row


def read_csv(path: Path, lookup: Mapping[str, str]) -> SheetTable:
    """Read a CSV file (``read_sheet`` has checked its name and that it is not empty)."""
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InputError(
            f"{path.name}: is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB, far more than "
            "a claims sheet; split it into smaller files"
        )
    csv.field_size_limit(MAX_FIELD_CHARS)  # csv's default, whatever changed it
    raw = path.read_bytes()
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))  # has NULs, but is text
    if utf16:
        raw = _from_utf16(path, raw)
    if b"\x00" in raw[:65536]:
        raise InputError(
            f"{path.name}: is not a CSV text file (it contains binary data; "
            "an Excel workbook needs the .xlsx extension)"
        )
    text, encoding = _decode(path, raw)
    if utf16:
        encoding = "utf-16"
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
            raise no_header(
                path.name, "", lookup, _csv_near_miss(text, lookup), limited=_long(text)
            )
        header, rows = find_header(_csv_rows(text, delimiter), _csv_value, lookup)
        if header is None:  # only with a "sep=" hint naming the wrong delimiter
            raise no_header(path.name, "", lookup, None, limited=_long(text))
        header = match_headers(path.name, header, lookup)
        data, more, skipped = assemble(path, "the file", header, rows, _csv_value, lookup)
    except FieldTooLong as exc:
        raise InputError(
            f"{path.name}: row {exc.row} has a field longer than {MAX_FIELD_CHARS:,} "
            "characters (an Excel cell holds at most 32,767): an unclosed quote, or not a "
            "claims sheet"
        ) from None
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
        skipped_rows=skipped,
    )


def _from_utf16(path: Path, raw: bytes) -> bytes:
    try:
        return raw.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: starts like UTF-16 text but cannot be read as it; save it as UTF-8 CSV"
        ) from exc


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
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FieldTooLong(number + 1) from None
            raise
        number += 1
        yield number, tuple(record)


def _long(text: str) -> bool:
    """Whether the text has more lines than the header search reads."""
    return text.count("\n") >= HEADER_SCAN_ROWS


def _csv_near_miss(text: str, lookup: Mapping[str, str]) -> tuple[int, str] | None:
    for delimiter in CSV_DELIMITERS:
        seen: dict[int, list[str]] = {}
        try:
            find_header(_csv_rows(text, delimiter), _csv_value, lookup, seen=seen)
        except csv.Error:
            continue
        near = near_miss(seen, lookup)
        if near is not None:
            return near
    return None


def _sniff_delimiter(text: str, lookup: Mapping[str, str]) -> str | None:
    """The delimiter whose header row has the most recognised columns."""
    best: tuple[int, int, str] | None = None
    too_long: FieldTooLong | None = None
    for delimiter in CSV_DELIMITERS:
        try:
            header, _ = find_header(_csv_rows(text, delimiter), _csv_value, lookup)
        except FieldTooLong as exc:
            too_long = too_long or exc
            continue
        except csv.Error:
            continue
        if header is None:
            continue
        known = sum(1 for text in header.headers if normalise_header(text) in lookup)
        score = (known, -CSV_DELIMITERS.index(delimiter), delimiter)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None and too_long is not None:
        raise too_long
    return best[2] if best is not None else None


def _csv_value(cell: str, tracking: bool) -> object:
    return cell_text(cell)
