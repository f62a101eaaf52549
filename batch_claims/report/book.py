"""The results workbook being written: its sheets' rows, formats, comments and
fingerprint.

Rows are written one after another to a temporary file as SpreadsheetML (``rowxml``),
a batch of a few hundred at a time, so memory does not grow with the rows and no row
asks a sheet for its size; the cells written are fed to the ``Fingerprint`` as they go
(a batch at a time), so the workbook is never read back to stamp it. XlsxWriter
holds everything else, and never a cell: the formats (one per combination of bold,
wrap, fill and number format), highlighted cells' comments, frozen and filtered
headers, column widths (from the first 500 rows, as written), the Summary's chart, and
the custom properties. ``Book.close`` puts the two together (``package``).

Two sheets may be written side by side, a row of one then a row of the other: the later
one is ``held``, its rows' fingerprint set aside in a temporary file and fed in its turn
when the book closes, so the digest is the same as had they been written one after the
other.

Many rows are written in pieces shared with a forked child (``pieces.in_pieces``,
``forked.shared``): each piece numbered from where the pieces before it end, written
into files of the process that took it, and taken into the book in order (its rows'
XML as a span of that file, its fingerprint fed in turn), so the book is the same as
had one process written them all — which it does whenever the child cannot do its
pieces.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from batch_claims.forked import read_at
from batch_claims.report.fingerprint import PROPERTY, STORED, Fingerprint, encoded, row_text
from batch_claims.report.package import PLACEHOLDER, SheetRows, Span, assemble
from batch_claims.report.rowxml import Cell, RowXml, StyleKey

ERROR_COLOR = "#FFC7CE"
WIDTH_SAMPLE_ROWS = 500  # column widths are sized to the first rows' content
_BATCH = 500  # rows kept before they are written (and fingerprinted) together
_CHUNK = 1 << 20  # bytes of a file read at a time
_COMMENT_AUTHOR = "batch-claims"


class Book:
    """A results workbook being written; ``close`` writes it to a path."""

    def __init__(self) -> None:
        import xlsxwriter

        self._package = io.BytesIO()
        self.workbook: Any = xlsxwriter.Workbook(
            self._package,
            {
                "in_memory": True,
                # No cell goes through XlsxWriter; the options say so all the same.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.fingerprint = Fingerprint()
        self.rows = RowXml(self._style_index)
        self.sheets: list[Sheet] = []
        self._files: list[BinaryIO] = []  # files of rows written in pieces (``pieces``)

    def sheet(self, name: str, *, held: bool = False) -> Sheet:
        """A new sheet, after the others. A ``held`` one may be written alongside the
        sheet before it (its fingerprint is fed when the book closes); every sheet after
        a held one is held too."""
        held = held or any(sheet.held is not None for sheet in self.sheets)
        for before in self.sheets:
            before.flush()
        if not held:
            self.fingerprint.sheet(name)
        worksheet = self.workbook.add_worksheet(name)
        sheet = Sheet(self, name, worksheet, len(self.sheets) + 1, held=held)
        self.sheets.append(sheet)
        return sheet

    def _style_index(self, key: StyleKey) -> int:
        bold, wrap, fill, number_format = key
        spec: dict[str, object] = {}
        if bold:
            spec["bold"] = True
        if wrap:
            spec.update(text_wrap=True, valign="top")
        if fill:
            spec.update(pattern=1, bg_color=ERROR_COLOR)
        if number_format:
            spec["num_format"] = number_format
        # The index XlsxWriter gives the format in styles.xml (as it does when a cell
        # uses it); the tests read every kind of styled cell back.
        return int(self.workbook.add_format(spec)._get_xf_index())

    def close(self, path: Path) -> None:
        """Write the workbook to ``path`` and let go of the sheets' temporary files."""
        try:
            for sheet in self.sheets:
                sheet.flush()
            for sheet in self.sheets:
                sheet.feed_held()
            self.workbook.set_custom_property(PROPERTY, self.fingerprint.hexdigest(), "text")
            self.workbook.set_custom_property(STORED, PLACEHOLDER, "text")
            self.workbook.close()
            rows = {sheet.part: sheet.rows_xml() for sheet in self.sheets}
            assemble(self._package.getvalue(), rows, path)
        finally:
            self.discard()

    def keep_open(self, files: Iterable[BinaryIO]) -> None:
        """Files the book's rows are read from as it closes (``Sheet.take``)."""
        self._files.extend(files)

    def discard(self) -> None:
        for sheet in self.sheets:
            sheet.discard()
        for file in self._files:
            file.close()


class Sheet:
    """One worksheet written row after row."""

    def __init__(
        self, book: Book, name: str, worksheet: Any, number: int, *, held: bool = False
    ) -> None:
        self.book = book
        self.name = name
        self.worksheet = worksheet
        self.part = f"xl/worksheets/sheet{number}.xml"  # as XlsxWriter names it
        self.data: BinaryIO = tempfile.TemporaryFile()
        # The rows' fingerprint while the sheet before is still being written.
        self.held: BinaryIO | None = tempfile.TemporaryFile() if held else None
        self.rows = 0  # rows written (or skipped) so far
        self.width = 0  # the widest row's cells
        self._widths: dict[int, int] = {}
        # What was written before ``data`` (and ``held``), as spans of earlier files.
        self._spans: list[Span] = []
        self._held_spans: list[Span] = []
        self._files: list[BinaryIO] = []  # files of earlier rows, open until discarded
        self._xml: list[str] = []  # rows not yet written …
        self._kept: list[str] = []  # … and their fingerprint

    def skip(self) -> None:
        """A blank row."""
        self.rows += 1

    def append(
        self,
        cells: Sequence[Cell],
        *,
        bold: bool = False,
        text_column: int | None = None,
        highlighted: Mapping[int, str] | None = None,
    ) -> int:
        """Write a row of cells (``RowXml.cells``: cleaned, text stays text, never a
        formula); the ``text_column`` is formatted as Text, ``highlighted`` cells are
        filled and carry their comment. Returns the 0-based row written."""
        row = self.rows
        xml, kept = self.book.rows.row(
            row + 1, cells, bold=bold, text_column=text_column, highlighted=highlighted or ()
        )
        self._xml.append(xml)
        self._kept.append(row_text(kept))
        if len(self._xml) >= _BATCH:
            self.flush()
        if highlighted:
            for column, text in highlighted.items():
                self.worksheet.write_comment(
                    row,
                    column,
                    text,
                    {
                        "author": _COMMENT_AUTHOR,
                        "width": 320,
                        "height": min(60 + 40 * (text.count("\n") + 1), 400),
                    },
                )
        if row < WIDTH_SAMPLE_ROWS:
            self._measure(cells)
        if len(cells) > self.width:
            self.width = len(cells)
        self.rows += 1
        return row

    def append_values(self, values: Sequence[object], *, bold: bool = False) -> int:
        """Append a row of any values, cleaned; returns its 0-based row."""
        return self.append(self.book.rows.cells(values), bold=bold)

    def _measure(self, cells: Sequence[Cell]) -> None:
        for column, cell in enumerate(cells):
            value = cell[5]  # the cleaned value
            if value is not None:
                first_line = max(str(value).splitlines() or [""], key=len)
                self._widths[column] = max(self._widths.get(column, 0), len(first_line))

    def flush(self) -> None:
        """Write the rows kept so far, and feed their fingerprint (or hold it)."""
        if not self._xml:
            return
        self.data.write("".join(self._xml).encode("utf-8"))
        fed = encoded("".join(self._kept))
        self._xml.clear()
        self._kept.clear()
        if self.held is None:
            self.book.fingerprint.update(fed)
        else:
            self.held.write(fed)

    def feed_held(self) -> None:
        """Feed a held sheet's name and rows to the book's fingerprint."""
        if self.held is None:
            return
        self.book.fingerprint.sheet(self.name)
        for file, start, end in [*self._held_spans, (self.held, 0, self.held.seek(0, io.SEEK_END))]:
            self._feed(file, start, end)

    def _feed(self, file: BinaryIO, start: int, end: int) -> None:
        """Feed bytes ``start`` to ``end`` of a file of rows' fingerprint to the book's."""
        file.flush()
        for at in range(start, end, _CHUNK):
            self.book.fingerprint.update(read_at(file.fileno(), at, min(at + _CHUNK, end)))

    def finish_table(self, width: int) -> None:
        """Freeze and filter the header row and size the columns to their content."""
        self.worksheet.freeze_panes(1, 0)
        self.worksheet.autofilter(0, 0, max(self.rows - 1, 0), max(width, 1) - 1)
        for column in range(width):
            longest = self._widths.get(column, 0)
            self.worksheet.set_column(column, column, min(max(longest + 2, 8), 60))

    def rows_xml(self) -> SheetRows:
        """The rows written, and the range they cover."""
        self.flush()
        last = self.book.rows.column_name(max(self.width, 1) - 1)
        spans = [*self._spans, (self.data, 0, self.data.seek(0, io.SEEK_END))]
        return SheetRows(f"A1:{last}{max(self.rows, 1)}", spans)

    def roll(self) -> None:
        """What was written so far kept as spans of its files, later rows written to new
        ones (so that rows written elsewhere can be taken in between: ``take``)."""
        self.flush()
        self._spans.append((self.data, 0, self.data.seek(0, io.SEEK_END)))
        self._files.append(self.data)
        self.data = tempfile.TemporaryFile()
        if self.held is not None:
            self._held_spans.append((self.held, 0, self.held.seek(0, io.SEEK_END)))
            self._files.append(self.held)
            self.held = tempfile.TemporaryFile()

    @contextmanager
    def piece(self, start: int, data: BinaryIO, kept: BinaryIO) -> Iterator[list[Told]]:
        """The rows written within the block (a piece of them, ``pieces``) numbered from
        row ``start`` on, written to the end of ``data``, their fingerprint to ``kept``,
        their comments and widths kept apart; once the block ends, what they wrote is in
        the list yielded, and the sheet is as it was found."""
        saved = (self.rows, self.data, self.held, self.worksheet, self._widths, self.width)
        told: list[Told] = []
        begun = (data.tell(), kept.tell())
        self.rows, self.data, self.held = start, data, kept
        self.worksheet, self._widths, self.width = _Comments(), {}, 0
        try:
            yield told
            self.flush()
            data.flush()
            kept.flush()
            comments = self.worksheet.comments
            told.append(
                (
                    self.rows,
                    self.width,
                    self._widths,
                    comments,
                    (begun[0], data.tell()),
                    (begun[1], kept.tell()),
                )
            )
        finally:
            self._xml.clear()
            self._kept.clear()
            self.rows, self.data, self.held, self.worksheet, self._widths, self.width = saved

    def take(self, data: BinaryIO, kept: BinaryIO, told: Told) -> None:
        """Rows written into ``data`` (and their fingerprint into ``kept``) by a piece
        (``piece``), after the rows so far; the sheet was rolled before."""
        rows, width, widths, comments, (start, end), (kept_start, kept_end) = told
        self._spans.append((data, start, end))
        if self.held is None:
            self._feed(kept, kept_start, kept_end)
        else:
            self._held_spans.append((kept, kept_start, kept_end))
        for args, options in comments:
            self.worksheet.write_comment(*args, options)
        self.rows = rows
        self.width = max(self.width, width)
        for column, longest in widths.items():
            self._widths[column] = max(self._widths.get(column, 0), longest)

    def discard(self) -> None:
        for file in (self.data, self.held, *self._files):
            if file is not None:
                file.close()


# What a piece of rows wrote to one sheet (``pieces``): the sheet's rows after it, its
# widest row, its columns' widths, its comments (``write_comment``'s arguments) and
# where its rows' XML and their fingerprint are in the files it wrote them to.
Told = tuple[
    int,
    int,
    dict[int, int],
    list[tuple[tuple[int, int, str], dict[str, Any]]],
    tuple[int, int],
    tuple[int, int],
]


class _Comments:
    """A piece's comments (``write_comment`` calls, made again on the sheet when the
    piece is taken)."""

    def __init__(self) -> None:
        self.comments: list[tuple[tuple[int, int, str], dict[str, Any]]] = []

    def write_comment(self, row: int, column: int, text: str, options: dict[str, Any]) -> None:
        self.comments.append(((row, column, text), options))
