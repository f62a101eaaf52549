"""The fast way to read a sheet's cells: a strict grammar for its ``sheetData``, tried
before expat (``worksheet``), for the markup XlsxWriter, openpyxl, Excel and LibreOffice
write for plain cells.

``fast_rows`` reads a sheet only when all of it is understood (``strict``: UTF-8, the
rest of the part sound XML with its one ``sheetData`` where it was cut out, no DTD, no
entity but the predefined ones); otherwise it returns None and expat parses the whole
sheet, so what a sheet yields never depends on which way it was read. Every byte of the
``sheetData`` must match the grammar, one row after the other: rows (``r`` first, other
attributes once each), cells (``r`` of columns A to XFD, then ``s`` and ``t``), a
formula (``t``, ``aca``, ``ref``, ``ca``, ``si``) and a stored value (``v``), or one
piece of inline text (``is``/``t``). Anything else — another attribute, rich text,
phonetic guides, a carriage return, whitespace between tags, single quotes — and expat
reads the sheet.

The grammar is checked for the whole sheet before the first row is handed on (a row
count past ``max_rows`` gives the sheet to expat, whose streaming bounds refuse it);
each row's cells are then cut out as it is read and made values by ``stored``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from batch_claims.read.stored import Row, StoredCells, row_values
from batch_claims.read.strict import EMPTY, TEXT, VALUE, cut_out, text

_OPEN, _CLOSE = b"<sheetData>", b"</sheetData>"
_COLUMN = rb"(?:[A-Z]{1,2}|[A-W][A-Z]{2}|X[A-E][A-Z]|XF[A-D])"  # A to XFD


def _cell(capture: bool) -> bytes:
    """A cell's grammar; with ``capture``, its groups: column letters, row digits,
    style, type, "<is", inline text, "<f", formula attributes, formula text, value."""

    def group(pattern: bytes) -> bytes:
        return (b"(" if capture else b"(?:") + pattern + b")"

    formula_attributes = (
        rb'(?: t="[A-Za-z]++")?(?: aca=' + VALUE + rb")?"
        rb'(?: ref="[A-Z0-9:$]++")?(?: ca=' + VALUE + rb')?(?: si="[0-9]++")?'
    )
    inline = (
        group(rb"<is")
        + rb"(?:"
        + EMPTY
        + rb'|>(?:<t(?: xml:space="preserve")?(?:'
        + EMPTY
        + rb"|>"
        + group(TEXT)
        + rb"</t>))?</is>)"
    )
    formula = (
        group(rb"<f")
        + group(formula_attributes)
        + rb"(?:"
        + EMPTY
        + rb"|>"
        + group(TEXT)
        + rb"</f>)"
    )
    value = rb"<v" + EMPTY + rb"|<v>" + group(TEXT) + rb"</v>"
    return (
        rb'<c r="'
        + group(_COLUMN)
        + group(rb"[0-9]++")
        + rb'"(?: s="'
        + group(rb"[0-9]{1,9}+")
        + rb'")?(?: t="'
        + group(rb"[A-Za-z]{1,9}+")
        + rb'")?(?:'
        + EMPTY
        + rb"|>(?:"
        + inline
        + rb"|(?:"
        + formula
        + rb")?(?:"
        + value
        + rb")?)</c>)"
    )


_CELL = re.compile(_cell(capture=True))
# A cell of a row without formulas or inline text (which the grammar has matched):
# column letters, style, type, value.
_PLAIN_CELL = re.compile(
    rb'<c r="([A-Z]++)[0-9]++"(?: s="([0-9]++)")?(?: t="([A-Za-z]++)")?'
    rb"(?: ?/>|>(?:<v ?/>|<v>([^<]*+)</v>)?</c>)"
)
_ROW = re.compile(
    rb'<row(?: r="([1-9][0-9]{0,6}+)")?((?: [A-Za-z_][A-Za-z0-9_.:-]*+=' + VALUE + rb")*+)"
    rb"(?:" + EMPTY + rb"|>((?:" + _cell(capture=False) + rb")*+)</row>)"
)
_ATTRIBUTE_NAME = re.compile(rb' ([^="]+)="[^"]*"')
_FORMULA_ATTRIBUTE = re.compile(rb' ([a-zA-Z]+)="([^"]*)"')

RowSpan = tuple[int, int, int]  # a row's number, and where its cells start and end


def fast_rows(xml: bytes, cells: StoredCells, max_rows: int) -> FastRows | None:
    """The sheet's rows as the XML lists them (number, cells), or None when
    the sheet is not all understood (see the module's docstring)."""
    rows = _recognised(xml, max_rows)
    if rows is None:
        return None
    return FastRows(xml, rows, cells)


class FastRows:
    """The rows of a sheet the grammar matched, each made values as it is read; the
    rows not read yet can be cut in two (``cut``), the later ones to be read apart."""

    def __init__(self, xml: bytes, spans: list[RowSpan], cells: StoredCells) -> None:
        self.xml = xml
        self.spans = spans
        self.cells = cells
        self.read = 0  # the spans read so far
        self._rows = _rows(xml, self._spans(), cells)

    def _spans(self) -> Iterator[RowSpan]:
        spans = self.spans
        while self.read < len(spans):  # ``cut`` may shorten them meanwhile
            self.read += 1
            yield spans[self.read - 1]

    def __iter__(self) -> FastRows:
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    def cut(self, share: float) -> tuple[int, FastRows] | None:
        """The later ``share`` of the rows not read yet, taken off these rows: the row
        number after the last one left here, and the rows taken (None when no row is
        left to take)."""
        left = len(self.spans) - self.read
        taken = int(left * share)
        if taken <= 0 or taken >= left:
            return None
        at = len(self.spans) - taken
        later = self.spans[at:]
        del self.spans[at:]
        # A row numbered below one before it is skipped (``worksheet``): the later rows
        # start after the highest number left here.
        following = max(number for number, _, _ in self.spans) + 1
        return following, FastRows(self.xml, later, self.cells)


def _recognised(xml: bytes, max_rows: int) -> list[RowSpan] | None:
    """The rows of the ``sheetData`` (where in ``xml`` their cells are), when the
    grammar matches all of it."""
    start, end = xml.find(_OPEN), xml.rfind(_CLOSE)
    if start < 0 or end < start or xml.count(b"sheetData") != 2:
        return None
    inside = start + len(_OPEN)
    if not cut_out(xml, "sheetData", start, inside, end, alone=False):
        return None
    rows: list[RowSpan] = []
    sound: set[bytes] = set()  # row attributes found sound
    match = _ROW.match
    position, number = inside, 0
    while position < end:
        row = match(xml, position, end)
        if row is None or len(rows) >= max_rows:
            return None
        others = row[2]
        if others and others not in sound:
            if not _distinct(others):
                return None
            sound.add(others)
        number = int(row[1]) if row[1] else number + 1
        rows.append((number, row.start(3), row.end(3)))
        position = row.end()
    return rows


def _distinct(attributes: bytes) -> bool:
    """Row attributes besides the first ``r``: no name twice (XML refuses that), and no
    second ``r``."""
    names = _ATTRIBUTE_NAME.findall(attributes)
    return len(set(names)) == len(names) and b"r" not in names


def _rows(xml: bytes, rows: Iterable[RowSpan], cells: StoredCells) -> Iterator[Row]:
    """Each row's cells cut out and made values, as the row is read."""
    strings = cells.strings
    columns: dict[bytes, int] = {}
    plain = _PLAIN_CELL.findall
    for number, start, end in rows:
        if start < 0:
            yield number, ()
            continue
        if xml.find(b"<f", start, end) >= 0 or xml.find(b"<is", start, end) >= 0:
            yield number, _formulas_or_inline(xml, start, end, cells, columns)
            continue
        values: list[object] = []  # as ``row_values`` makes them: a later cell wins
        value: object
        for letters, style, kind, raw in plain(xml, start, end):
            column = columns.get(letters)
            if column is None:
                column = columns[letters] = cells.column(letters.decode("ascii"))
            if not raw:
                value = None
            elif kind == b"s" and raw.isdigit():
                value = strings[int(raw)]
            else:
                value = cells.value(
                    kind.decode("ascii") or "n", int(style) if style else 0, text(raw), None
                )
            width = len(values)
            if column > width:
                if column > width + 1:
                    values.extend([None] * (column - width - 1))
                values.append(value)
            else:
                values[column - 1] = value
        yield number, tuple(values)


def _formulas_or_inline(
    xml: bytes, start: int, end: int, cells: StoredCells, columns: dict[bytes, int]
) -> tuple[object, ...]:
    """The cells of a row that holds a formula or inline text."""
    row: dict[int, object] = {}
    for (
        letters,
        digits,
        style,
        kind,
        inline,
        inline_text,
        formula,
        attrs,
        f_text,
        raw,
    ) in _CELL.findall(xml, start, end):
        column = columns.get(letters)
        if column is None:
            column = columns[letters] = cells.column(letters.decode("ascii"))
        value = cells.value(
            kind.decode("ascii") or "n",
            int(style) if style else 0,
            text(raw) if raw else None,
            text(inline_text) if inline else None,
        )
        if formula:
            where = (letters + digits).decode("ascii")
            value = cells.with_formula(value, _attributes(attrs), text(f_text), where)
        row[column] = value
    return row_values(row)


def _attributes(attrs: bytes) -> dict[str, str]:
    """A formula's attributes (their values hold no entity, as the grammar says)."""
    return {
        name.decode("ascii"): value.decode("utf-8")
        for name, value in _FORMULA_ATTRIBUTE.findall(attrs)
    }
