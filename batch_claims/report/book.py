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

Many rows are written in two halves at once (``Book.beside``): the later half by a
forked child process (``forked``) into files of its own, taken into the book once this
process has written the first half, so the book is the same as had one process written
them all — which it does whenever the child cannot do its half.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from batch_claims import forked
from batch_claims.report.fingerprint import PROPERTY, STORED, Fingerprint, encoded, row_text
from batch_claims.report.package import PLACEHOLDER, SheetRows, assemble
from batch_claims.report.rowxml import Cell, RowXml, StyleKey

ERROR_COLOR = "#FFC7CE"
WIDTH_SAMPLE_ROWS = 500  # column widths are sized to the first rows' content
_BATCH = 500  # rows kept before they are written (and fingerprinted) together
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

    def beside(
        self, here: Callable[[], None], there: Callable[[], None], ahead: Mapping[Sheet, int]
    ) -> bool:
        """Write rows with ``here`` and, at the same time in a forked child, the rows after
        them with ``there``: ``ahead`` says how many rows ``here`` writes to each sheet
        ``there`` writes to. The book ends as had ``here`` then ``there`` run in this
        process, which is what happens when the child cannot do its part (no fork, the
        child failed, a style it made that this process did not, a count that was off).
        Returns whether the child's rows were taken."""
        for sheet in self.sheets:
            sheet.flush()
            # Nothing left in a file's buffer for the child to write a second time.
            for file in (sheet.data, sheet.held):
                if file is not None:
                    file.flush()
        expected = {sheet: sheet.rows + count for sheet, count in ahead.items()}
        halves = {sheet: _LaterHalf() for sheet in ahead}
        try:

            def child() -> tuple[list[tuple[StyleKey, int]], list[_Told]]:
                made = self.rows.record_styles()
                for sheet, half in halves.items():
                    half.take_over(sheet, expected[sheet])
                there()
                return made, [half.told(sheet) for sheet, half in halves.items()]

            _, done = forked.beside(child, here)
            for sheet in self.sheets:
                sheet.flush()
            taken = done is not None and self._take(halves, expected, *done.value)
            if not taken:
                there()
            return taken
        finally:
            for half in halves.values():
                half.close()

    def _take(
        self,
        halves: Mapping[Sheet, _LaterHalf],
        expected: Mapping[Sheet, int],
        made: Sequence[tuple[StyleKey, int]],
        told: Sequence[_Told],
    ) -> bool:
        """Take the child's rows into the book; ``False`` (nothing taken) when they do not
        fit on the rows written here."""
        if any(sheet.rows != expected[sheet] for sheet in halves):
            return False
        for key, index in made:  # the styles the child made, made here in that order
            if self.rows.style(key) != f' s="{index}"':
                return False
        for (sheet, half), (rows, width, widths, comments) in zip(
            halves.items(), told, strict=True
        ):
            half.data.seek(0)
            shutil.copyfileobj(half.data, sheet.data)
            half.kept.seek(0)
            if sheet.held is None:
                while chunk := half.kept.read(1 << 20):
                    self.fingerprint.update(chunk)
            else:
                shutil.copyfileobj(half.kept, sheet.held)
            for args, options in comments:
                sheet.worksheet.write_comment(*args, options)
            sheet.rows = rows
            sheet.width = max(sheet.width, width)
            for column, longest in widths.items():
                sheet._widths[column] = max(sheet._widths.get(column, 0), longest)
        return True

    def discard(self) -> None:
        for sheet in self.sheets:
            sheet.data.close()
            if sheet.held is not None:
                sheet.held.close()


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
        self.held.seek(0)
        while chunk := self.held.read(1 << 20):
            self.book.fingerprint.update(chunk)

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
        return SheetRows(f"A1:{last}{max(self.rows, 1)}", self.data)


# A sheet's rows written, its widest row, its columns' widths and its comments.
_Told = tuple[int, int, dict[int, int], list[tuple[tuple[int, int, str], dict[str, Any]]]]


class _LaterHalf:
    """Where a forked child writes one sheet's later rows: their XML, their fingerprint,
    and the comments of their highlighted cells (``write_comment`` calls, made again on
    the sheet by the parent)."""

    def __init__(self) -> None:
        self.data: BinaryIO = tempfile.TemporaryFile()
        self.kept: BinaryIO = tempfile.TemporaryFile()
        self.comments: list[tuple[tuple[int, int, str], dict[str, Any]]] = []

    def take_over(self, sheet: Sheet, rows: int) -> None:
        """In the child: ``sheet`` writes here from row ``rows`` on, its fingerprint held."""
        sheet.rows = rows
        sheet.data = self.data
        sheet.held = self.kept
        sheet.worksheet = self
        sheet._widths = {}
        sheet.width = 0

    def write_comment(self, row: int, column: int, text: str, options: dict[str, Any]) -> None:
        self.comments.append(((row, column, text), options))

    def told(self, sheet: Sheet) -> _Told:
        """In the child, its rows written: the files flushed, and what the parent needs
        to know of ``sheet`` besides them."""
        sheet.flush()
        self.data.flush()
        self.kept.flush()
        return sheet.rows, sheet.width, sheet._widths, self.comments

    def close(self) -> None:
        self.data.close()
        self.kept.close()
