"""Reading the input sheet (.xlsx/.xlsm/.csv): the one entry point, which hands the file
to the Excel reader (``xlsxfile``: the workbook, which sheet, merged ranges) or the CSV
reader (``csvfile``: encoding, delimiter). Both build the same ``SheetTable``
(``table``, ``totals``) of cells (``cells``); which column a header means is
``headers``' concern.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from batch_claims.errors import InputError
from batch_claims.read.headers import header_lookup
from batch_claims.read.table import SheetTable

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)


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
        # Imported when needed: reading a CSV file never loads the Excel reader, which
        # imports openpyxl (for its number formats, dates and formula translation).
        from batch_claims.read.csvfile import read_csv

        return read_csv(path, lookup)
    from batch_claims.read.xlsxfile import read_workbook

    return read_workbook(path, sheet_name, lookup)
