"""A worksheet's rows of cells, from one parse of its XML (read once, whole, by
``Book.sheet_xml``; its merged ranges are ``merged``' concern).

Each cell comes out as what the Excel reader hands on (``cells.excel_value`` makes it
what the user sees): text (shared, inline or a formula's text result), a number (a
``FormattedNumber`` when its format is not General), a date or duration when its format
shows one, a boolean, an ``ExcelError``, or None. Rows come numbered from 1 with the
gaps as empty rows; a row as wide as its last cell; a row out of order or repeated is
skipped (as Excel drops it when it repairs such a file).

Formulas: the same parse sees a cell's formula and its stored result. In a workbook
that asks to be calculated on opening (``Book.asks_to_calculate``) a formula cell whose
stored result is none, blank or XlsxWriter's 0 becomes an ``UncalculatedFormula``: its
writer never calculated it. A cell sharing another's formula shows it moved to its own
place (openpyxl's public ``Translator``), or as written when that fails.

A sheet whose rows run on far past what a claims sheet holds — beyond
``MAX_SHEET_ROWS`` rows, empty ones included, or ``MAX_SHEET_CELLS`` cells — is
refused as it streams (``SheetTooLarge``), before it costs minutes or memory.
"""

from __future__ import annotations

from collections.abc import Generator

from openpyxl.utils.datetime import from_excel, from_ISO8601

from batch_claims.read.archive import xml_parser
from batch_claims.read.book import Book
from batch_claims.read.cells import GENERAL, ExcelError, FormattedNumber, UncalculatedFormula
from batch_claims.read.merged import MAX_EXCEL_COLUMN, column_letter, column_number
from batch_claims.read.table import HEADER_SCAN_ROWS, MAX_ROWS

MAX_SHEET_ROWS = MAX_ROWS + HEADER_SCAN_ROWS  # rows streamed, empty ones too
MAX_SHEET_CELLS = 20_000_000  # cells streamed: 200,000 rows of 100 columns
CHUNK = 64 * 1024  # bytes parsed before the rows they finish are handed on
Row = tuple[int, tuple[object, ...]]


class SheetTooLarge(Exception):
    """A sheet streamed past the bounds; its message names the sheet, not the file."""


def sheet_rows(xml: bytes, title: str, book: Book) -> Generator[Row]:
    """The sheet's rows of cells, numbered from 1 (see the module's docstring)."""
    cells = _CellParser(book)
    parser = xml_parser()
    parser.StartElementHandler = cells.start
    parser.EndElementHandler = cells.end
    parser.CharacterDataHandler = cells.characters
    view = memoryview(xml)
    expected, cells_seen = 1, 0
    for offset in range(0, len(xml) + 1, CHUNK):
        final = offset + CHUNK >= len(xml)
        parser.Parse(view[offset : offset + CHUNK], final)
        done, cells.done = cells.done, []
        for number, row in done:
            while expected <= number:  # a row below one already read is skipped
                values = _values(row) if expected == number else ()
                cells_seen += len(values)
                if expected > MAX_SHEET_ROWS or cells_seen > MAX_SHEET_CELLS:
                    raise SheetTooLarge(_too_large(title, expected, cells_seen))
                yield expected, values
                expected += 1
        if final:
            break


def _values(row: dict[int, object]) -> tuple[object, ...]:
    if not row:
        return ()
    values: list[object] = [None] * max(row)
    for column, value in row.items():
        values[column - 1] = value
    return tuple(values)


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

    def __init__(self, book: Book) -> None:
        self.book = book
        self.done: list[tuple[int, dict[int, object]]] = []
        self.in_data = False  # inside sheetData (an ``f`` elsewhere is no cell's)
        self.row_number = 0
        self.column = 0
        self.row: dict[int, object] = {}
        self.text: str | None = None  # the characters being collected
        self.shared: dict[str, tuple[str, str]] = {}  # shared formula → text, its cell
        self.columns: dict[str, int] = {}  # a reference's letters → its column
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
            letters = self.ref.rstrip("0123456789")
            column = self.columns.get(letters)
            if column is None:
                column = self.columns[letters] = column_number(letters)
            self.column = column
        elif self.column < MAX_EXCEL_COLUMN:
            self.column += 1
        else:
            raise ValueError(f"row {self.row_number} has cells past column XFD")
        kind, raw = self.kind, self.value
        if kind == "s" and raw:
            value: object = self.book.strings[int(raw)]
        else:
            value = self._value()
        if self.formula is not None:
            shared = self.formula.get("t") == "shared"
            if shared and self.formula_text:
                self.shared[self.formula.get("si", "")] = (self.formula_text, self._where())
            calculate = self.book.asks_to_calculate
            if calculate and (value is None or value == "" or _is_zero(value)):
                value = UncalculatedFormula(self._formula_of_cell(shared))
        self.row[self.column] = value

    def _value(self) -> object:
        kind, raw = self.kind, self.value or None
        if kind == "inlineStr":
            return None if self.inline is None else "".join(self.inline)
        if raw is None:
            return None
        if kind == "n":
            return self._number(raw)
        if kind == "s":
            return self.book.strings[int(raw)]
        if kind == "b":
            return raw.strip().lower() in ("1", "true")
        if kind == "e":
            return ExcelError(raw.strip())
        if kind == "d":
            try:
                return from_ISO8601(raw)  # type: ignore[no-untyped-call]
            except ValueError:
                return raw
        return raw  # "str": a formula's text result

    def _number(self, raw: str) -> object:
        try:
            number: int | float = float(raw) if "." in raw or "e" in raw.lower() else int(raw)
        except ValueError:
            return raw  # no number: the text as the file holds it
        formats = self.book.formats
        fmt = formats[self.style] if self.style < len(formats) else GENERAL
        if fmt.date:
            try:
                return from_excel(number, self.book.epoch, timedelta=fmt.duration)
            except (OverflowError, ValueError):
                return ExcelError("#VALUE!")  # no date Excel can show
        if fmt.code == "General":
            return number
        return FormattedNumber(number, fmt)

    def _where(self) -> str:
        return self.ref or f"{column_letter(self.column)}{self.row_number}"

    def _formula_of_cell(self, shared: bool) -> str:
        """The cell's formula as written; a cell sharing another's, moved to its place."""
        key = self.formula.get("si", "") if self.formula is not None else ""
        if not shared or self.formula_text or key not in self.shared:
            return f"={self.formula_text}"
        text, origin = self.shared[key]
        try:
            from openpyxl.formula.translate import Translator

            return str(Translator(f"={text}", origin).translate_formula(self._where()))
        except Exception:  # a formula it cannot move: shown as written
            return f"={text}"


def _is_zero(value: object) -> bool:
    """A stored number 0 (XlsxWriter's stand-in result), never False or a date."""
    number = value.number if isinstance(value, FormattedNumber) else value
    return type(number) in (int, float) and number == 0


def _row_number(text: str) -> int:
    number = float(text)
    if not number.is_integer() or number < 1:
        raise ValueError(f"{text} is no row number")
    return int(number)
