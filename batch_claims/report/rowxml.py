"""A worksheet's rows as SpreadsheetML text, and each row's cells in the form the
fingerprint keeps, in one pass over the values.

This is the results workbook's inner loop (about two million cells at 50,000 rows), so
it writes the XML itself rather than through XlsxWriter's cell calls, which cost several
times more per cell: text as inline strings (never a formula: there is no formula
element), numbers with 16 significant digits, booleans, dates and times as Excel serial
numbers with a date format, and styled blanks. The values come cleaned by
``values.excel_value``; what a style index means is the caller's (``RowXml.style``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, time, timedelta
from typing import cast

from batch_claims.report.fingerprint import canonical
from batch_claims.report.values import CellValue, finite

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
_EXACT = 1e15  # numbers below this in size are written and kept without a special case


class RowXml:
    """Rows of one workbook as ``<row>`` elements; ``style`` gives the style index of
    a (bold, wrap, fill, number format) combination, made on first use."""

    def __init__(self, style: Callable[[StyleKey], int]) -> None:
        self._style_index = style
        self._styles: dict[StyleKey, str] = {}
        self._letters: list[str] = []
        self._wrap = self.style((False, True, False, None))

    def style(self, key: StyleKey) -> str:
        """The ``s`` attribute of a style combination ('' for the plain one)."""
        found = self._styles.get(key)
        if found is None:
            plain = key == (False, False, False, None)
            found = self._styles[key] = "" if plain else f' s="{self._style_index(key)}"'
        return found

    def row(
        self,
        number: int,
        values: Sequence[CellValue],
        *,
        bold: bool = False,
        text_column: int | None = None,
        highlighted: Collection[int] = (),
    ) -> tuple[str, list[str]]:
        """Row ``number`` (1-based) as XML, and its cells as the fingerprint keeps them.
        The ``text_column`` is formatted as Text, ``highlighted`` cells are filled."""
        letters = self._column_letters(len(values))
        at = str(number)
        cells = [f'<row r="{at}">']
        kept: list[str] = []
        styled = {text_column, *highlighted} if text_column is not None else set(highlighted)
        for column, value in enumerate(values):
            kind = type(value)
            if bold or column in styled:
                pass
            elif value is None:  # most cells are one of these four kinds, unstyled
                kept.append("")
                continue
            elif kind is str:
                if value:
                    text = _writable(cast(str, value))
                    style = self._wrap if "\n" in text else ""
                    cells.append(
                        f'<c r="{letters[column]}{at}"{style} t="inlineStr">{_inline(text)}</c>'
                    )
                    kept.append("s:" + text)
                else:
                    kept.append("")
                continue
            elif (kind is float or kind is int) and -_EXACT < cast(float, value) < _EXACT:
                digits = f"{value:.16G}" if value else "0"  # -0.0 reads back as 0
                cells.append(f'<c r="{letters[column]}{at}"><v>{digits}</v></c>')
                kept.append("n:" + repr(float(digits) + 0.0))
                continue
            fill = column in highlighted
            as_text = TEXT_FORMAT if column == text_column else None
            cell, form = self._cell(f"{letters[column]}{at}", value, bold, fill, as_text)
            if cell:
                cells.append(cell)
            kept.append(form)
        if len(cells) == 1:  # nothing but plain blanks: no row element
            return "", kept
        cells.append("</row>")
        return "".join(cells), kept

    def column_name(self, index: int) -> str:
        """``A`` for the 0-based column 0, ``Z``, ``AA``, …"""
        return self._column_letters(index + 1)[index]

    def _cell(
        self, ref: str, value: CellValue, bold: bool, fill: bool, text: str | None
    ) -> tuple[str, str]:
        """One cell of any kind: its XML ('' for a plain blank) and its kept form."""
        if isinstance(value, str) and value:
            value = _writable(value)
            style = self.style((bold, "\n" in value, fill, text))
            return f'<c r="{ref}"{style} t="inlineStr">{_inline(value)}</c>', "s:" + value
        if value is None or value == "":  # an empty text is a blank cell
            style = self.style((bold, False, fill, text))
            return (f'<c r="{ref}"{style}/>' if style else ""), ""
        if isinstance(value, bool):
            style = self.style((bold, False, fill, text))
            return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>', canonical(value)
        if isinstance(value, date | time | timedelta):
            style = self.style((bold, False, fill, DATE_FORMATS[_date_kind(value)]))
            return f'<c r="{ref}"{style}><v>{_serial(value):.16G}</v></c>', canonical(value)
        number = finite(value)
        if number is None:  # beyond what a spreadsheet number holds: kept as text
            return self._cell(ref, str(value), bold, fill, text)
        style = self.style((bold, False, fill, text))
        digits = f"{number:.16G}"
        return f'<c r="{ref}"{style}><v>{digits}</v></c>', canonical(float(digits))

    def _column_letters(self, width: int) -> list[str]:
        letters = self._letters
        while len(letters) < width:
            index, name = len(letters) + 1, ""
            while index:
                index, rest = divmod(index - 1, 26)
                name = chr(65 + rest) + name
            letters.append(name)
        return letters


def _writable(text: str) -> str:
    """``text`` as an XML reader gives it back: no unwritable character, ``\\n`` breaks."""
    if text.isprintable():
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
