"""What a worksheet cell stores, made what the Excel reader hands on: one place for both
ways a sheet's XML is read (``worksheet``'s expat parse and ``sheetdata``'s strict fast
path), so they cannot differ in what a cell becomes.

A cell comes out as text (shared, inline or a formula's text result), a number (a
``FormattedNumber`` when its format is not General), a date or duration when its format
shows one, a boolean, an ``ExcelError``, or None.

Formulas: in a workbook that asks to be calculated on opening (``Book.asks_to_calculate``)
a formula cell whose stored result is none, blank or XlsxWriter's 0 becomes an
``UncalculatedFormula``: its writer never calculated it. A cell sharing another's
formula shows it moved to its own place (openpyxl's public ``Translator``), or as
written when that fails.
"""

from __future__ import annotations

from collections.abc import Mapping

from openpyxl.utils.datetime import from_excel, from_ISO8601

from batch_claims.read.book import Book
from batch_claims.read.cells import GENERAL, ExcelError, FormattedNumber, UncalculatedFormula
from batch_claims.read.merged import column_number

Row = tuple[int, tuple[object, ...]]  # a row's number and its cells from column A


def row_values(row: dict[int, object]) -> tuple[object, ...]:
    """A row's cells by column (a later cell of a column wins), from column A to its
    last cell."""
    if not row:
        return ()
    values: list[object] = [None] * max(row)
    for column, value in row.items():
        values[column - 1] = value
    return tuple(values)


class StoredCells:
    """Turns a sheet's stored cell values into values, with the workbook's shared
    strings, number formats and date system; remembers the sheet's shared formulas."""

    def __init__(self, book: Book) -> None:
        self.strings = book.strings
        self.formats = book.formats
        self.epoch = book.epoch
        self.calculate = book.asks_to_calculate
        self.shared: dict[str, tuple[str, str]] = {}  # shared formula → text, its cell
        self.columns: dict[str, int] = {}  # a reference's letters → its column

    def column(self, letters: str) -> int:
        """The column of a reference's letters (ValueError past XFD)."""
        column = self.columns.get(letters)
        if column is None:
            column = self.columns[letters] = column_number(letters)
        return column

    def value(self, kind: str, style: int, raw: str | None, inline: str | None) -> object:
        """A cell's value from its type (``t``), style (``s``), stored value (``v``, None
        when absent) and inline text (``is``, None when absent)."""
        if kind == "s" and raw:
            return self.strings[int(raw)]
        if kind == "inlineStr":
            return inline
        if not raw:
            return None
        if kind == "n":
            return self.number(raw, style)
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

    def number(self, raw: str, style: int) -> object:
        """A numeric cell's stored text, shown as its style's number format shows it."""
        try:
            number: int | float = float(raw) if "." in raw or "e" in raw.lower() else int(raw)
        except ValueError:
            return raw  # no number: the text as the file holds it
        formats = self.formats
        fmt = formats[style] if style < len(formats) else GENERAL
        if fmt.date:
            try:
                return from_excel(number, self.epoch, timedelta=fmt.duration)
            except (OverflowError, ValueError):
                return ExcelError("#VALUE!")  # no date Excel can show
        if fmt.code == "General":
            return number
        return FormattedNumber(number, fmt)

    def with_formula(
        self, value: object, formula: Mapping[str, str], text: str, where: str
    ) -> object:
        """A formula cell's value: its stored result, or an ``UncalculatedFormula`` when
        its writer never calculated it. ``formula``: the ``f`` element's attributes;
        ``text``: its text; ``where``: the cell's reference."""
        shared = formula.get("t") == "shared"
        if shared and text:
            self.shared[formula.get("si", "")] = (text, where)
        if self.calculate and (value is None or value == "" or _is_zero(value)):
            return UncalculatedFormula(self._formula_of_cell(formula, text, shared, where))
        return value

    def _formula_of_cell(
        self, formula: Mapping[str, str], text: str, shared: bool, where: str
    ) -> str:
        """The cell's formula as written; a cell sharing another's, moved to its place."""
        key = formula.get("si", "")
        if not shared or text or key not in self.shared:
            return f"={text}"
        first, origin = self.shared[key]
        try:
            from openpyxl.formula.translate import Translator

            return str(Translator(f"={first}", origin).translate_formula(where))
        except Exception:  # a formula it cannot move: shown as written
            return f"={first}"


def _is_zero(value: object) -> bool:
    """A stored number 0 (XlsxWriter's stand-in result), never False or a date."""
    number = value.number if isinstance(value, FormattedNumber) else value
    return type(number) in (int, float) and number == 0
