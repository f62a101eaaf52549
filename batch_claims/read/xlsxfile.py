"""The Excel side of reading the input sheet (.xlsx/.xlsm): the entry point that opens
the workbook and reads the sheet that holds the claims into a ``SheetTable``.

Every part of the workbook is read once and parsed once: the zip is opened with its
bounds checked (``archive``), its small parts say which sheets there are (``book``),
``sheet_choice`` decides which sheet to read, and each sheet examined is read once,
whole, for its merged ranges (``merged``, a byte search after its rows) and parsed once
for its cells and formulas (``worksheet``). The header is then found (``table``) and
the rows below it assembled (``totals``) with merged values filled in. A big sheet whose
later rows the fast path turns out not to understand, once it reaches them, is read
again, whole, by expat (``sheetdata.NotUnderstood``).

Any failure to read the workbook is one sentence naming the file, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from batch_claims.errors import InputError
from batch_claims.read.archive import open_archive, reason
from batch_claims.read.book import Book, SheetPart, open_book
from batch_claims.read.cells import excel_value
from batch_claims.read.merged import merged_ranges, merged_values
from batch_claims.read.sheet_choice import Examined, choose, read_named
from batch_claims.read.sheetdata import NotUnderstood
from batch_claims.read.table import (
    MAX_COLUMNS,
    SheetTable,
    find_header,
    match_headers,
    names_other_columns,
)
from batch_claims.read.totals import assemble
from batch_claims.read.worksheet import SheetTooLarge, sheet_rows


def read_workbook(path: Path, sheet_name: str | None, lookup: Mapping[str, str]) -> SheetTable:
    """Read a workbook (``read_sheet`` has checked its name and that it is not empty)."""
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
    with open_archive(path) as archive:
        try:
            book = open_book(archive)

            def examine(sheet: SheetPart) -> Examined:
                return _examine(path, book, sheet, lookup)

            if sheet_name is not None:
                return read_named(path, book.sheets, sheet_name, lookup, examine)
            return choose(path, book.sheets, book.active, lookup, examine)
        except InputError:
            raise
        except SheetTooLarge as exc:
            raise InputError(f"{path.name}, {exc}") from None
        except Exception as exc:  # a broken part raises many different types
            raise InputError(
                f"{path.name}: cannot be read as an Excel workbook ({reason(exc)})"
            ) from exc


def _examine(path: Path, book: Book, sheet: SheetPart, lookup: Mapping[str, str]) -> Examined:
    """Find a sheet's header and read its table; what cannot be used is kept as the
    error it raises. A big sheet whose later rows the fast path turns out not to
    understand is read again, whole, by expat (``sheetdata.NotUnderstood``)."""
    xml = book.sheet_xml(sheet)
    try:
        return _examined(path, book, sheet.title, xml, lookup, fast=True)
    except NotUnderstood:
        return _examined(path, book, sheet.title, xml, lookup, fast=False)


def _examined(
    path: Path, book: Book, title: str, xml: bytes, lookup: Mapping[str, str], fast: bool
) -> Examined:
    merged = merged_ranges(xml)
    seen: dict[int, list[str]] = {}
    with closing(sheet_rows(xml, title, book, fast)) as rows:
        header, rest = find_header(rows, excel_value, lookup, merged, seen)
        if header is None:
            return Examined(title, seen=seen)
        strong = names_other_columns(header.headers, lookup)
        where = f'sheet "{title}"'
        try:
            header = match_headers(f"{path.name}, {where}", header, lookup)
            below = merged_values(rest, merged, MAX_COLUMNS)
            # Rows as read (no merged range to fill in, header found in the usual way)
            # can have their later half converted apart (``assemble``).
            later = rows.later if below is rows else None
            data, notices, skipped = assemble(
                path, where, header, below, excel_value, lookup, later=later
            )
        except InputError as exc:
            return Examined(title, error=exc, strong=strong)
    table = SheetTable(
        source=path,
        sheet_name=title,
        header_row=header.row,
        headers=header.headers,
        mapping=header.mapping,
        rows=data,
        notices=tuple(notices),
        skipped_rows=skipped,
    )
    return Examined(title, table=table, strong=strong)
