"""A worksheet's rows of cells, from one parse of its XML (read once, whole, by
``Book.sheet_xml``; its merged ranges are ``merged``' concern).

The sheet's ``sheetData`` is read by ``sheetdata``'s strict fast path when every byte of
it is markup that path fully recognises (and the rest of the part is checked by expat);
otherwise expat parses the whole sheet here. Each cell becomes what ``stored`` makes of
its stored value, either way. Rows come numbered from 1 with the gaps as empty rows; a
row as wide as its last cell; a row out of order or repeated is skipped (as Excel drops
it when it repairs such a file).

The rows not read yet of a sheet read by the fast path can be cut in two
(``SheetRows.later``): the later ones become a job another process runs, numbered as
they would have been here.

A sheet whose rows run on far past what a claims sheet holds — beyond
``MAX_SHEET_ROWS`` rows, empty ones included, or ``MAX_SHEET_CELLS`` cells — is
refused as it streams (``SheetTooLarge``), before it costs minutes or memory.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

from batch_claims.read import sheetdata
from batch_claims.read.archive import xml_parser
from batch_claims.read.book import Book
from batch_claims.read.merged import MAX_EXCEL_COLUMN, column_letter
from batch_claims.read.stored import Row, StoredCells, row_values
from batch_claims.read.table import HEADER_SCAN_ROWS, MAX_ROWS

MAX_SHEET_ROWS = MAX_ROWS + HEADER_SCAN_ROWS  # rows streamed, empty ones too
MAX_SHEET_CELLS = 20_000_000  # cells streamed: 200,000 rows of 100 columns
CHUNK = 64 * 1024  # bytes parsed before the rows they finish are handed on


class SheetTooLarge(Exception):
    """A sheet streamed past the bounds; its message names the sheet, not the file."""


class SheetRows:
    """The sheet's rows of cells, numbered from 1 (see the module's docstring), as an
    iterator; ``later`` hands the later half of the rows not read yet to another
    reader (a forked child: ``totals.assemble``)."""

    def __init__(self, xml: bytes, title: str, book: Book, fast: bool = True) -> None:
        self.xml = xml
        self.title = title
        cells = StoredCells(book)
        self._fast = sheetdata.fast_rows(xml, cells, MAX_SHEET_ROWS) if fast else None
        self._rows = _numbered(
            self._fast if self._fast is not None else expat_rows(xml, cells), title, 1
        )

    def __iter__(self) -> SheetRows:
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    def close(self) -> None:
        self._rows.close()

    def later(self, share: float, least: int) -> Callable[[], Iterator[Row]] | None:
        """The later ``share`` of the rows not read yet, taken off these rows, as a job
        that reads them (numbered as they would have been here): when at least
        ``least`` rows are left, read by the fast path, and the sheet's cells are
        within bounds however they are counted (the bounds count the cells of the
        rows before, which the job does not see). None otherwise."""
        fast = self._fast
        if fast is None or fast.left() < least:
            return None
        if self.xml.count(b'<c r="') > MAX_SHEET_CELLS:
            return None
        cut = fast.cut(share)
        if cut is None:
            return None
        following, rows = cut
        title = self.title
        return lambda: _numbered(rows, title, following)


def sheet_rows(xml: bytes, title: str, book: Book, fast: bool = True) -> SheetRows:
    """The sheet's rows of cells, numbered from 1 (see the module's docstring); without
    ``fast``, by expat whatever the sheet holds (after ``NotUnderstood``)."""
    return SheetRows(xml, title, book, fast)


def _numbered(rows: Iterator[Row], title: str, expected: int) -> Generator[Row]:
    """The rows as the XML lists them, numbered from ``expected`` with the gaps as
    empty rows, a row numbered below one before it skipped, within the bounds."""
    cells_seen = 0
    for number, row in rows:
        while expected <= number:  # a row below one already read is skipped
            values = row if expected == number else ()
            cells_seen += len(values)
            if expected > MAX_SHEET_ROWS or cells_seen > MAX_SHEET_CELLS:
                raise SheetTooLarge(_too_large(title, expected, cells_seen))
            yield expected, values
            expected += 1


def expat_rows(xml: bytes, cells: StoredCells) -> Iterator[Row]:
    """The sheet's rows as the XML lists them (number, cells), parsed by expat
    ``CHUNK`` bytes at a time: any XML a workbook may hold."""
    handlers = _CellParser(cells)
    parser = xml_parser()
    parser.StartElementHandler = handlers.start
    parser.EndElementHandler = handlers.end
    parser.CharacterDataHandler = handlers.characters
    view = memoryview(xml)
    for offset in range(0, len(xml) + 1, CHUNK):
        final = offset + CHUNK >= len(xml)
        parser.Parse(view[offset : offset + CHUNK], final)
        done, handlers.done = handlers.done, []
        for number, row in done:
            yield number, row_values(row)
        if final:
            break


def _too_large(title: str, number: int, cells: int) -> str:
    extent = (
        f"runs on past row {MAX_SHEET_ROWS:,}"
        if number > MAX_SHEET_ROWS
        else f"holds more than {MAX_SHEET_CELLS:,} cells by row {number:,}"
    )
    return (
        f'sheet "{title}": {extent}, far more than a claims sheet (at most {MAX_ROWS:,} '
        "claim rows); delete the rows and columns beyond your claims (even empty ones that "
        "were once formatted), or split the sheet"
    )


class _CellParser:
    """expat's handlers for a sheet: each finished row goes to ``done`` as its row
    number and its cells by column."""

    def __init__(self, cells: StoredCells) -> None:
        self.cells = cells
        self.done: list[tuple[int, dict[int, object]]] = []
        self.in_data = False  # inside sheetData (an ``f`` elsewhere is no cell's)
        self.row_number = 0
        self.column = 0
        self.row: dict[int, object] = {}
        self.text: str | None = None  # the characters being collected
        self.ref: str | None = None  # the open cell's reference, type and style
        self.kind = "n"
        self.style = 0
        self.value: str | None = None  # its stored value, as the file holds it
        self.formula: dict[str, str] | None = None
        self.formula_text = ""
        self.inline: list[str] | None = None  # its inline text's pieces
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name[name.find(":") + 1 :]
        if not self.in_data:
            self.in_data = tag == "sheetData"
        elif tag == "c":
            style = attrs.get("s")
            self.ref, self.kind, self.style = attrs.get("r"), attrs.get("t", "n"), 0
            if style:
                self.style = int(style)
            self.value = self.formula = self.inline = None
        elif tag == "v":
            self.text = ""
        elif tag == "row":
            number = attrs.get("r")
            self.row_number = _row_number(number) if number else self.row_number + 1
            self.column = 0
            self.row = {}
        elif tag == "f":
            self.formula = attrs
            self.text = ""
        elif tag == "is":
            self.inline = []
            self.phonetic = 0
        elif tag == "t" and self.inline is not None and not self.phonetic:
            self.text = ""
        elif tag == "rPh":
            self.phonetic += 1

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text += data

    def end(self, name: str) -> None:
        if not self.in_data:
            return
        tag = name[name.find(":") + 1 :]
        if tag == "v":
            self.value, self.text = self.text, None
        elif tag == "c":
            self._end_cell()
        elif tag == "row":
            self.done.append((self.row_number, self.row))
            self.row = {}
        elif tag == "f":
            self.formula_text, self.text = self.text or "", None
        elif tag == "t" and self.text is not None and self.inline is not None:
            self.inline.append(self.text)
            self.text = None
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "sheetData":
            self.in_data = False

    def _end_cell(self) -> None:
        if self.ref:
            self.column = self.cells.column(self.ref.rstrip("0123456789"))
        elif self.column < MAX_EXCEL_COLUMN:
            self.column += 1
        else:
            raise ValueError(f"row {self.row_number} has cells past column XFD")
        inline = None if self.inline is None else "".join(self.inline)
        value = self.cells.value(self.kind, self.style, self.value, inline)
        if self.formula is not None:
            where = self.ref or f"{column_letter(self.column)}{self.row_number}"
            value = self.cells.with_formula(value, self.formula, self.formula_text, where)
        self.row[self.column] = value


def _row_number(text: str) -> int:
    number = float(text)
    if not number.is_integer() or number < 1:
        raise ValueError(f"{text} is no row number")
    return int(number)
