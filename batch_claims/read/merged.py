"""Merged cells of a worksheet, and Excel's cell coordinates.

A sheet's merged ranges follow all its rows in the XML, and the header needs them
before its rows are read, so ``merged_ranges`` finds them in the sheet's bytes (already
read whole) by a byte search of the part after ``</sheetData>``: no second read and no
second parse. In the header they name the columns (``table._merged_header``); below it
``merged_values`` gives a value merged down to every row it covers, and a value merged
across to its first column only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

MAX_EXCEL_COLUMN = 16_384  # XFD
Rows = Iterator[tuple[int, tuple[object, ...]]]

_MERGE_REF = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="\$?([A-Za-z]+)\$?(\d+):\$?([A-Za-z]+)\$?(\d+)"'
)
_TAG_START = re.compile(rb"</?(?:\w+:)?")


@dataclass(frozen=True)
class CellRange:
    """A merged range of cells, 1-based and inclusive, as Excel numbers rows."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def holds(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


def merged_ranges(xml: bytes) -> tuple[CellRange, ...]:
    """The merged ranges of a sheet's XML, searched for after ``sheetData`` (which
    ``mergeCells`` follows; text cannot hold a ``<``, so only markup matches)."""
    ranges = []
    for match in _MERGE_REF.finditer(xml, _after_sheet_data(xml)):
        first_col, first_row, last_col, last_row = match.groups()
        ranges.append(
            CellRange(
                int(first_row),
                column_number(first_col.decode("ascii")),
                int(last_row),
                column_number(last_col.decode("ascii")),
            )
        )
    return tuple(ranges)


def _after_sheet_data(xml: bytes) -> int:
    """Where the last ``sheetData`` tag (its end, or an empty one) stands; 0 if none."""
    position = len(xml)
    while (position := xml.rfind(b"sheetData", 0, position)) > 0:
        opening = xml.rfind(b"<", 0, position)
        if opening != -1 and _TAG_START.fullmatch(xml, opening, position):
            return position
    return 0


def column_number(letters: str) -> int:
    """The 1-based column of a cell reference's letters ("AB12" → 28; "$" skipped);
    ValueError for none or a column past XFD."""
    number = 0
    for char in letters:
        code = ord(char) | 0x20  # lower case
        if 97 <= code <= 122:
            number = number * 26 + code - 96
        elif char != "$":
            break
    if not 1 <= number <= MAX_EXCEL_COLUMN:
        raise ValueError(f"cell reference {letters!r} names no column from A to XFD")
    return number


def column_letter(number: int) -> str:
    """Excel's letters for a 1-based column number: 1 → A, 28 → AB."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def merged_values(rows: Rows, merged: Sequence[CellRange], max_columns: int) -> Rows:
    """The rows with merged cells as Excel shows them: a range's value (its top-left
    cell) belongs to every row of the range, in its first column; the other cells it
    covers are blank. A range counts from the row where it starts, so the ranges of
    the header (already read) stay the header's. Linear: one pass, and per row only the
    ranges open on it. At most ``max_columns`` + 1 columns are filled in."""
    starts: dict[int, list[CellRange]] = {}
    for cell_range in merged:
        if cell_range.max_row > cell_range.min_row or cell_range.max_col > cell_range.min_col:
            starts.setdefault(cell_range.min_row, []).append(cell_range)
    if not starts:  # no range covers a second cell: the rows are as read
        return rows
    return _filled(rows, starts, max_columns)


def _filled(rows: Rows, starts: Mapping[int, Sequence[CellRange]], max_columns: int) -> Rows:
    spanning: list[tuple[CellRange, object]] = []
    for number, cells in rows:
        spanning = [(r, owner) for r, owner in spanning if r.max_row >= number]
        for r in starts.get(number, ()):
            index = r.min_col - 1
            spanning.append((r, cells[index] if index < len(cells) else None))
        yield number, _covered(cells, spanning, max_columns) if spanning else cells


def _covered(
    cells: tuple[object, ...], spanning: Sequence[tuple[CellRange, object]], max_columns: int
) -> tuple[object, ...]:
    width = min(max(r.max_col for r, _ in spanning), max_columns + 1)
    values = list(cells) + [None] * (width - len(cells))
    for r, owner in spanning:
        for col in range(r.min_col, min(r.max_col, width) + 1):
            values[col - 1] = owner if col == r.min_col else None
    return tuple(values)
