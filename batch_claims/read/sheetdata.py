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
each row's cells are then cut out as it is read and made values by ``stored``. A big
sheet (``DEFERRED_BYTES`` of rows) has only its earlier half checked first: its later
half is checked where it is read — by a forked child converting those rows while this
process converts the earlier ones (``FastRows.cut``), so the check costs half the time
— and, not understood there, raises ``NotUnderstood``: the reader then reads the whole
sheet again by expat (``xlsxfile``), so what a sheet yields still never depends on which
way it was read. The halves are cut where "<row" stands: in rows the grammar matches no
text or value holds a "<", so that is where a row starts, and two halves that each match
are rows that match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

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


class NotUnderstood(Exception):
    """The later rows of a sheet whose earlier rows the grammar matched do not match it
    (``FastRows``): the sheet is to be read again, whole, by expat."""


# From this many bytes of ``sheetData`` on, only its earlier half is checked before the
# first row is handed on; the later half is checked as it is reached, or by whoever reads
# it apart (``FastRows.cut``), at the same time as the earlier half is read here.
DEFERRED_BYTES = 2 << 20
# The earlier rows' share of those bytes: their reader has checked them already, the
# later rows' reader checks them first, so it is given fewer.
_EARLIER = 0.55


class _Tail(NamedTuple):
    """Rows not checked yet: ``xml[start:end]``, at most ``allowed`` of them, the row
    before them numbered ``before``."""

    start: int
    end: int
    allowed: int
    before: int


def fast_rows(
    xml: bytes, cells: StoredCells, max_rows: int, deferred: int | None = None
) -> FastRows | None:
    """The sheet's rows as the XML lists them (number, cells), or None when the sheet
    is not all understood (see the module's docstring). Past ``deferred`` bytes of rows
    (``DEFERRED_BYTES``), the later half is checked only when reached: a sheet not
    understood there raises ``NotUnderstood`` then."""
    start, end = xml.find(_OPEN), xml.rfind(_CLOSE)
    if start < 0 or end < start or xml.count(b"sheetData") != 2:
        return None
    inside = start + len(_OPEN)
    if not cut_out(xml, "sheetData", start, inside, end, alone=False):
        return None
    middle = end
    if end - inside >= (DEFERRED_BYTES if deferred is None else deferred):
        # A row starts wherever "<row" stands in rows the grammar matches (no text or
        # value holds a "<"); cut anywhere else, one half or the other does not match.
        found = xml.find(b"<row", inside + int((end - inside) * _EARLIER), end)
        middle = end if found < 0 else found
    rows = _recognised(xml, inside, middle, 0, max_rows)
    if rows is None:
        return None
    last = rows[-1][0] if rows else 0
    tail = _Tail(middle, end, max_rows - len(rows), last) if middle < end else None
    return FastRows(xml, rows, cells, tail)


class FastRows:
    """The rows of a sheet the grammar matched, each made values as it is read; the
    rows not read yet can be cut in two (``cut``), the later ones to be read apart.
    Rows not checked yet (``tail``) are checked when reached (``NotUnderstood``)."""

    def __init__(
        self,
        xml: bytes,
        spans: list[RowSpan],
        cells: StoredCells,
        tail: _Tail | None = None,
        opens_at: int = 0,
    ) -> None:
        self.xml = xml
        self.spans = spans
        self.cells = cells
        self.tail = tail
        self.opens_at = opens_at  # where these rows start: the shared formulas before hold
        self.read = 0  # the spans read so far
        self._rows = _rows(xml, self._spans(), cells)

    def _spans(self) -> Iterator[RowSpan]:
        # Rows read apart know the shared formulas the rows before them defined.
        self.cells.shared.update(_shared_formulas(self.xml, self.opens_at))
        spans = self.spans
        while True:
            while self.read < len(spans):  # ``cut`` may shorten them meanwhile
                self.read += 1
                yield spans[self.read - 1]
            if self.tail is None:
                return
            self._check_tail()

    def _check_tail(self) -> None:
        """The rows not checked yet, checked and added to the spans."""
        assert self.tail is not None
        start, end, allowed, before = self.tail
        self.tail = None
        more = _recognised(self.xml, start, end, before, allowed)
        if more is None:
            raise NotUnderstood("the later rows are not all understood")
        self.spans.extend(more)

    def left(self) -> int:
        """How many rows are not read yet (those not checked yet as counted roughly)."""
        unchecked = 0 if self.tail is None else self.xml.count(b"<row", *self.tail[:2])
        return len(self.spans) - self.read + unchecked

    def __iter__(self) -> FastRows:
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    def cut(self, share: float) -> tuple[int, FastRows] | None:
        """The later ``share`` of the rows not read yet, taken off these rows — or, when
        some are not checked yet, those rows (to be checked where they are read): the
        row number after the last one left here, and the rows taken (None when no row
        is left to take)."""
        if self.tail is not None:  # the rows not checked yet, or none
            if share <= 0 or self.read >= len(self.spans):
                return None
            tail, self.tail = self.tail, None
            following = max(number for number, _, _ in self.spans) + 1
            return following, FastRows(self.xml, [], self.cells, tail, tail.start)
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
        return following, FastRows(self.xml, later, self.cells, opens_at=later[0][1])


def _shared_formulas(xml: bytes, end: int) -> dict[str, tuple[str, str]]:
    """The shared formulas the rows before ``end`` define (rows the grammar matched), as
    ``StoredCells`` holds them once it has read those rows: by ``si``, the text and the
    cell of the last definition."""
    found: dict[str, tuple[str, str]] = {}
    at = xml.find(b'<f t="shared"', 0, end)
    while at >= 0:
        cell = _CELL.match(xml, xml.rfind(b"<c ", 0, at), end)
        if cell is not None and cell[9]:  # a definition (a use has no text)
            key = _attributes(cell[8]).get("si", "")
            found[key] = (text(cell[9]), (cell[1] + cell[2]).decode("ascii"))
        at = xml.find(b'<f t="shared"', at + 1, end)
    return found


def _recognised(
    xml: bytes, position: int, end: int, number: int, max_rows: int
) -> list[RowSpan] | None:
    """The rows of ``xml[position:end]`` (where their cells are), the row before them
    numbered ``number``, when the grammar matches all of it and they are fewer than
    ``max_rows``."""
    rows: list[RowSpan] = []
    sound: set[bytes] = set()  # row attributes found sound
    match = _ROW.match
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
