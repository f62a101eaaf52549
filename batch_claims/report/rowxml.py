"""A worksheet's rows as SpreadsheetML text, and each row's cells in the form the
fingerprint keeps.

This is the results workbook's inner loop (about two million cells at 50,000 rows), so
it writes the XML itself rather than through XlsxWriter's cell calls, which cost several
times more per cell: text as inline strings (never a formula: there is no formula
element), numbers with 16 significant digits, booleans, dates and times as Excel serial
numbers with a date format, and styled blanks. What a style index means is the
caller's (``RowXml.style``).

A value is cleaned (``values.excel_value``) and turned into a ``Cell`` once: its XML but
for the reference, its fingerprint form, and what a style needs to know of it. A row is
then its cells' XML joined, the reference put in front of each. Most cells of a sheet
repeat (a contract type, a currency, the same reason), so the cells of texts and naive
datetimes are kept, a bounded number of them, and a repeated one costs a look-up; and
whether a row's texts need cleaning at all is asked of them joined, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta

from batch_claims.redact import redact
from batch_claims.report.fingerprint import canonical
from batch_claims.report.values import MAX_CELL_TEXT, CellValue, clean_text, excel_value, finite

# (bold, wrap, fill, number format) -> the style index of that combination
StyleKey = tuple[bool, bool, bool, str | None]

# Number formats of dates and times, as openpyxl gives them.
DATE_FORMATS: dict[type, str] = {
    datetime: "yyyy-mm-dd h:mm:ss",
    date: "yyyy-mm-dd",
    time: "h:mm:ss",
    timedelta: "[hh]:mm:ss",
}
TEXT_FORMAT = "@"
# Text that reads like Excel's own escape of a character (_x0041_) is escaped in turn,
# so Excel shows it as typed.
_ESCAPE_LIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
# Characters XML cannot carry (cleaned before; dropped here should one slip through).
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1899, 12, 31)
_NO_DATES = frozenset({str, int, float, bool, type(None)})  # types that are never a date
_EXACT = 1e15  # numbers below this in size are written and kept without a special case


# A value as a cell: (its XML after ``<c r="REF`` when unstyled, '' for no element or
# None while its style has no index yet; its fingerprint form; whether it wraps; its own
# number format (a date's); its XML after the style; the cleaned value).
Cell = tuple[str | None, str, bool, str | None, str, CellValue]
BLANK: Cell = ("", "", False, None, "", None)
_KEPT_CELLS = 20_000  # the most cells kept for values seen again …
_KEPT_CHARS = 4_000_000  # … and the most characters of text among them
_SHORT_TEXT = MAX_CELL_TEXT // 2  # text no longer than this is never cut


class RowXml:
    """Rows of one workbook as ``<row>`` elements; ``style`` gives the style index of
    a (bold, wrap, fill, number format) combination, made on first use."""

    def __init__(self, style: Callable[[StyleKey], int]) -> None:
        self._style_index = style
        self._styles: dict[StyleKey, str] = {}
        self._letters: list[str] = []
        self._starts: list[str] = []  # '<c r="A', '<c r="B', …
        self._wrap = self.style((False, True, False, None))
        self._seen: dict[object, Cell] = {"": BLANK}  # cells of texts and naive datetimes
        self._seen_chars = 0

    def style(self, key: StyleKey) -> str:
        """The ``s`` attribute of a style combination ('' for the plain one)."""
        found = self._styles.get(key)
        if found is None:
            plain = key == (False, False, False, None)
            found = self._styles[key] = "" if plain else f' s="{self._style_index(key)}"'
        return found

    def record_styles(self) -> list[tuple[StyleKey, int]]:
        """From now on, each style combination made is also told, with its index, in the
        list returned (a forked child's, for its parent to check against its own:
        ``pieces.in_pieces``)."""
        made: list[tuple[StyleKey, int]] = []
        make = self._style_index

        def recorded(key: StyleKey) -> int:
            index = make(key)
            made.append((key, index))
            return index

        self._style_index = recorded
        return made

    def has_style(self, key: StyleKey) -> bool:
        """Whether the style combination is made."""
        return key in self._styles

    def date_styles(self, rows: Iterable[Sequence[object]]) -> None:
        """Make the styles of the dates, times and durations among ``rows``' values in
        the order writing them as plain cells would (``row``)."""
        left = dict(DATE_FORMATS)  # the kinds whose style is still to make
        known = set(_NO_DATES)  # types of values that need no style made
        for values in rows:
            if known.issuperset(map(type, values)):
                continue
            for value in values:
                kind = type(value)
                if kind in known:
                    continue
                if isinstance(value, date | time | timedelta):
                    if value != value:  # NaT: a blank cell
                        continue
                    number_format = left.pop(_date_kind(value), None)
                    if number_format is not None:
                        self.style((False, False, False, number_format))
                known.add(kind)
            if not left:
                return

    def cells(self, values: Sequence[object]) -> list[Cell]:
        """The cells of a row of any values (cleaned as ``values.excel_value`` does)."""
        # Most rows' texts need no cleaning: that is asked of them all at once (a
        # secret or an unprintable character in any of them is in them joined).
        joined = " ".join([value for value in values if type(value) is str])
        clean = (
            len(joined) <= _SHORT_TEXT
            and (joined.isprintable() or joined.replace("\n", "").isprintable())
            and redact(joined) == joined
        )
        seen = self._seen
        cells: list[Cell] = []
        for value in values:
            if type(value) is str:
                text = value if clean else clean_text(value)
                found = seen.get(text)
                cells.append(found if found is not None else self._text(text))
            elif value is None:
                cells.append(BLANK)
            elif (type(value) is int or type(value) is float) and -_EXACT < value < _EXACT:
                cells.append(_number(value))
            else:
                cells.append(self.cell(value))
        return cells

    def cell(self, value: object) -> Cell:
        """One value, cleaned as ``values.excel_value`` does, as a cell."""
        if type(value) is str:
            text = clean_text(value)
            found = self._seen.get(text)
            return found if found is not None else self._text(text)
        if value is None:
            return BLANK
        if type(value) is int or type(value) is float:
            if -_EXACT < value < _EXACT:  # excel_value keeps these as they are
                return _number(value)
        elif type(value) is datetime and value.tzinfo is None:
            found = self._seen.get(value)
            return found if found is not None else self._keep(value, self.encode(value))
        return self.encode(excel_value(value))

    def encode(self, value: CellValue) -> Cell:
        """A cleaned value (``values.excel_value``) as a cell."""
        if isinstance(value, str):  # a str subclass (a StrEnum) by its text
            text = value if type(value) is str else str.__str__(value)
            found = self._seen.get(text)
            return found if found is not None else self._text(text)
        if value is None:
            return BLANK
        if type(value) is float or type(value) is int:
            if -_EXACT < value < _EXACT:
                return _number(value)
        if isinstance(value, bool):
            rest = f' t="b"><v>{int(value)}</v></c>'
            return ('"' + rest, canonical(value), False, None, rest, value)
        if isinstance(value, date | time | timedelta):
            number_format = DATE_FORMATS[_date_kind(value)]
            rest = f"><v>{_serial(value):.16G}</v></c>"
            style = self._styles.get((False, False, False, number_format))
            tail = None if style is None else '"' + style + rest
            return (tail, canonical(value), False, number_format, rest, value)
        number = finite(value)
        if number is None:  # beyond what a spreadsheet number holds: kept as text
            return self._text(str(value), value)
        digits = f"{number:.16G}"
        rest = f"><v>{digits}</v></c>"
        return ('"' + rest, canonical(float(digits)), False, None, rest, value)

    def row(
        self,
        number: int,
        cells: Sequence[Cell],
        *,
        bold: bool = False,
        text_column: int | None = None,
        highlighted: Collection[int] = (),
    ) -> tuple[str, Sequence[str]]:
        """Row ``number`` (1-based) as XML ('' when it has nothing to show), and its
        cells as the fingerprint keeps them. The ``text_column`` is formatted as Text,
        ``highlighted`` cells are filled."""
        at = str(number)
        plain = [cell[0] for cell in cells]
        kept = [cell[1] for cell in cells]
        tails: Sequence[str | None] = plain
        if bold or text_column is not None or highlighted or None in plain:
            tails = self._styled_tails(cells, plain, bold, text_column, highlighted)
        starts = self._starts
        if len(starts) < len(cells):
            starts.extend(
                f'<c r="{name}' for name in self._column_letters(len(cells))[len(starts) :]
            )
        xml = "".join(
            [start + at + tail for start, tail in zip(starts, tails, strict=False) if tail]
        )
        return (f'<row r="{at}">{xml}</row>' if xml else ""), kept

    def _styled_tails(
        self,
        cells: Sequence[Cell],
        plain: Sequence[str | None],
        bold: bool,
        text_column: int | None,
        highlighted: Collection[int],
    ) -> list[str | None]:
        """The cells' XML after their references, those of the styled ones (and of
        dates whose format had no style yet) in their style."""
        tails = list(plain)
        if bold:
            styled: Iterable[int] = range(len(cells))
        else:  # only these, left to right (the order their styles are made in)
            marked = {*highlighted, *(() if text_column is None else (text_column,))}
            if None in plain:
                marked.update(column for column, tail in enumerate(plain) if tail is None)
            styled = sorted(column for column in marked if 0 <= column < len(cells))
        for column in styled:
            cell = cells[column]
            fill = column in highlighted
            if bold or fill or column == text_column:
                as_text = TEXT_FORMAT if column == text_column else None
                tails[column] = self._styled(cell, bold, fill, as_text)
            elif tails[column] is None:
                tails[column] = self._styled(cell, False, False, None)
        return tails

    def column_name(self, index: int) -> str:
        """``A`` for the 0-based column 0, ``Z``, ``AA``, …"""
        return self._column_letters(index + 1)[index]

    def _styled(self, cell: Cell, bold: bool, fill: bool, text: str | None) -> str:
        """A cell's XML after the reference, in a style of its own."""
        _, _, wrap, number_format, rest, _ = cell
        style = self.style((bold, wrap, fill, number_format or text))
        if rest:
            return '"' + style + rest
        return '"' + style + "/>" if style else ""  # a blank: an element only when styled

    def _text(self, text: str, value: CellValue = None) -> Cell:
        """Cleaned text as a cell (``value``: what it stands for, if not itself); a
        text's cell is kept."""
        if not text:  # an empty text is a blank cell
            return BLANK
        written = _writable(text)
        wrap = "\n" in written
        rest = f' t="inlineStr">{_inline(written)}</c>'
        cell = (
            '"' + (self._wrap if wrap else "") + rest,
            "s:" + written,
            wrap,
            None,
            rest,
            text if value is None else value,
        )
        return self._keep(text, cell) if value is None else cell

    def _keep(self, value: object, cell: Cell) -> Cell:
        """Remember ``cell`` as that of ``value`` (a text or a naive datetime), within
        bounds: when they are reached, those remembered are forgotten."""
        if cell[0] is None:  # not yet complete: its style gets an index on first use
            return cell
        size = len(value) if type(value) is str else 0
        if len(self._seen) >= _KEPT_CELLS or self._seen_chars + size > _KEPT_CHARS:
            self._seen = {"": BLANK}
            self._seen_chars = 0
        self._seen[value] = cell
        self._seen_chars += size
        return cell

    def _column_letters(self, width: int) -> list[str]:
        letters = self._letters
        while len(letters) < width:
            index, name = len(letters) + 1, ""
            while index:
                index, rest = divmod(index - 1, 26)
                name = chr(65 + rest) + name
            letters.append(name)
        return letters


def _number(value: float) -> Cell:
    """A number of less than ``_EXACT`` in size as a cell."""
    digits = f"{value:.16G}" if value else "0"  # -0.0 reads back as 0
    rest = f"><v>{digits}</v></c>"
    return ('"' + rest, "n:" + repr(float(digits) + 0.0), False, None, rest, value)


def _writable(text: str) -> str:
    """``text`` as an XML reader gives it back: no unwritable character, ``\\n`` breaks."""
    if text.isprintable() or ("\n" in text and text.replace("\n", "").isprintable()):
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWRITABLE.sub("", text)


def _inline(text: str) -> str:
    """The ``<is>`` element of an inline string."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F\1", text)
    if text[0].isspace() or text[-1].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


def _date_kind(value: date | time | timedelta) -> type:
    if isinstance(value, datetime):
        return datetime
    if isinstance(value, date):
        return date
    return time if isinstance(value, time) else timedelta


def _serial(value: date | time | timedelta) -> float:
    """Excel's serial number of a date or time (days since 1900-01-00, counting the
    29 February 1900 that Excel believes in; a time is a fraction of a day)."""
    if isinstance(value, timedelta):
        return value.days + (value.seconds + value.microseconds / 1e6) / 86_400
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = datetime.combine(_EPOCH, value.replace(tzinfo=None))
    delta = moment - _EPOCH
    days = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86_400
    if isinstance(value, datetime) and moment.date() == date(1900, 1, 1):
        days -= 1  # as XlsxWriter: that day reads back as a time of day
    return days + 1 if days > 59 else days
