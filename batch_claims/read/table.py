"""The input sheet as a table of cells with the row numbers the user sees, and finding
its header row.

The header row is searched for in the first ``HEADER_SCAN_ROWS`` rows, below any
title or instruction lines: the first row naming the tracking-number column and
another known column, else the first naming the tracking-number column alone. A
header cell merged across columns or rows (Excel) is read as the text it shows; a
header row whose merged cells reach into the rows below makes those rows part of the
header (their sub-headers name the columns). Which column a header text means is
``headers``' concern; the rows below the header are assembled by ``totals``. The CSV
and Excel readers (``csvfile``, ``xlsxfile``) feed both.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_claims.columns import TRACKING_NUMBER, normalise_header
from batch_claims.errors import InputError
from batch_claims.read.cells import header_text, safely
from batch_claims.read.headers import column_mapping, looked_for, shown_header
from batch_claims.read.merged import CellRange
from batch_claims.ticket_types import TicketType

HEADER_SCAN_ROWS = 1_000  # title or instruction lines above the header, and the header
MAX_HEADER_ROWS = 4  # a header made of merged cells may span this many rows
MAX_ROWS = 200_000
MAX_COLUMNS = 1_000


@dataclass(frozen=True)
class SourceRow:
    row: int  # the row number the user sees in Excel (1-based)
    cells: tuple[object, ...]  # one value per header, aligned with SheetTable.headers


# Rows as a forked child sends them (``forked``): their numbers and their cells, plain
# lists and tuples, which pickle in half the time tens of thousands of ``SourceRow`` do.
SentRows = tuple[list[int], list[tuple[object, ...]]]


def sent_rows(rows: Sequence[SourceRow]) -> SentRows:
    return [row.row for row in rows], [row.cells for row in rows]


def received_rows(sent: SentRows) -> list[SourceRow]:
    numbers, cells = sent
    return list(map(SourceRow, numbers, cells))


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
    # The ticket type the sheet's name says ("Lost", "Verloren"): its rows' type when
    # their ticket_type cell is blank.
    ticket_type: TicketType | None = None

    def header_of(self, column: str) -> str:
        """The header as the user wrote it for a canonical column (or the name itself),
        on one line for messages (``shown_header``)."""
        index = self.mapping.get(column)
        return shown_header(self.headers[index]) if index is not None else column


@dataclass(frozen=True)
class HeaderRow:
    """The header row found: its row number, its texts, and (once matched) the columns."""

    row: int
    headers: tuple[str, ...]
    mapping: dict[str, int]


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
    return [header_text(convert(cell, False)) for cell in cells[: MAX_COLUMNS + 1]]


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
