"""Reading the input sheet (.xlsx/.xlsm/.csv): the one entry point, which hands the file
to the Excel reader (``xlsxfile``: the workbook, which sheet, merged ranges) or the CSV
reader (``csvfile``: encoding, delimiter). Both build the same ``SheetTable``
(``table``, ``totals``) of cells (``cells``); which column a header means is
``headers``' concern.

A big sheet is read by a forked child while the process loads what checking it needs
(``read_meanwhile``: pandas and pandera take most of a second to import), then reads the
photos folder's files ahead while the child reads on (``plain_files.read_ahead``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from batch_claims import forked
from batch_claims.errors import InputError
from batch_claims.heap import set_aside
from batch_claims.read.headers import header_lookup
from batch_claims.read.table import SentRows, SheetTable, received_rows, sent_rows

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)
# From this size on (about 5,000 rows), a sheet is read while the process loads.
AHEAD_BYTES = 256 * 1024

T = TypeVar("T")


def read_meanwhile(
    path: Path,
    sheet_name: str | None,
    aliases: Mapping[str, str] | None,
    meanwhile: Callable[[], T],
    then: Callable[[T, Callable[[], bool]], object] | None = None,
) -> tuple[T, SheetTable | None]:
    """``meanwhile()`` in this process and, for a sheet of ``AHEAD_BYTES`` or more,
    ``read_sheet`` at the same time in a forked child (``forked``); returns what
    ``meanwhile`` returned and the table read, or None when it was not (a small sheet,
    no child, or a sheet that cannot be used): the caller then reads it as ever, and
    meets the same ``InputError`` itself. ``then`` fills the time the child still reads
    once ``meanwhile`` is done (``forked.beside``)."""
    try:
        big = path.stat().st_size >= AHEAD_BYTES
    except (OSError, ValueError):
        big = False
    if not big:
        return meanwhile(), None
    result, done = forked.beside(
        lambda: _sent(read_sheet(path, sheet_name, aliases)), meanwhile, then
    )
    if done is None:
        return result, None
    table = _received(done.value)
    set_aside()  # kept for the run: the collector's passes need not walk its cells
    return result, table


# A table as the child sends it: without its rows, then its rows (``sent_rows``).
_Sent = tuple[SheetTable, SentRows]


def _sent(table: SheetTable) -> _Sent:
    return replace(table, rows=()), sent_rows(table.rows)


def _received(sent: _Sent) -> SheetTable:
    table, rows = sent
    return replace(table, rows=tuple(received_rows(rows)))


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
