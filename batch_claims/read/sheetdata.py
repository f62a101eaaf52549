"""The fast way to read a sheet's cells: a strict grammar for its ``sheetData``, tried
before expat (``worksheet``), for the markup XlsxWriter, openpyxl, Excel and LibreOffice
write for plain cells.

``fast_rows`` reads a sheet only when all of it is understood; otherwise it returns
None and expat parses the whole sheet, so what a sheet yields never depends on which
way it was read. "Understood" means:

- the part outside ``sheetData`` (its prolog, views, merged ranges, ...) is parsed by
  expat as a document of its own, with document types refused (``archive.xml_parser``)
  and exactly one ``sheetData`` element, where the fast path cut it out;
- the part declares no encoding but UTF-8, and the ``sheetData`` is valid UTF-8;
- every byte of the ``sheetData`` is matched by the grammar below, one row after the
  other: rows (``r`` first, other attributes once each), cells (``r`` of columns A to
  XFD, then ``s`` and ``t``), a formula (``t``, ``aca``, ``ref``, ``ca``, ``si``) and a
  stored value (``v``), or one piece of inline text (``is``/``t``). Text holds no
  markup, no character XML refuses, no carriage return (XML reads it as a line feed)
  and only the five predefined entities (no character references).

Anything else — another attribute, rich text, phonetic guides, whitespace between
tags, single quotes — and expat reads the sheet. No DTD or entity ever reaches this
path, and the grammar never backtracks (possessive repeats), so no input makes it slow.

The grammar is checked for the whole sheet before the first row is handed on (a row
count past ``max_rows`` gives the sheet to expat, whose streaming bounds refuse it);
each row's cells are then cut out as it is read and made values by ``stored``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from batch_claims.read.archive import local, xml_parser
from batch_claims.read.stored import Row, StoredCells, row_values

_OPEN, _CLOSE = b"<sheetData>", b"</sheetData>"
# Text of an element: no markup, no character XML refuses, no carriage return; the five
# predefined entities only. U+FFFE and U+FFFF (which XML refuses too) are looked for
# separately: a byte class cannot exclude them.
_CHAR = rb"[^<>&\x00-\x08\x0b\x0c\x0d\x0e-\x1f]"
_TEXT = _CHAR + rb"*+(?:&(?:amp|lt|gt|quot|apos);" + _CHAR + rb"*+)*+"
_VALUE = rb'"[^"<>&\x00-\x1f]*+"'  # an attribute's value, used as written
_COLUMN = rb"(?:[A-Z]{1,2}|[A-W][A-Z]{2}|X[A-E][A-Z]|XF[A-D])"  # A to XFD
_EMPTY = rb" ?/>"
_SLICE = 1024 * 1024  # bytes decoded at a time to check the text is UTF-8
_NOT_XML = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF in UTF-8
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\b[^>]*?\?>")
_ENCODING = re.compile(rb"""\bencoding\s*=\s*["']([^"']*)["']""")


def _cell(capture: bool) -> bytes:
    """A cell's grammar; with ``capture``, its groups: column letters, row digits,
    style, type, "<is", inline text, "<f", formula attributes, formula text, value."""

    def group(pattern: bytes) -> bytes:
        return (b"(" if capture else b"(?:") + pattern + b")"

    formula_attributes = (
        rb'(?: t="[A-Za-z]++")?(?: aca=' + _VALUE + rb")?"
        rb'(?: ref="[A-Z0-9:$]++")?(?: ca=' + _VALUE + rb')?(?: si="[0-9]++")?'
    )
    inline = (
        group(rb"<is")
        + rb"(?:"
        + _EMPTY
        + rb'|>(?:<t(?: xml:space="preserve")?(?:'
        + _EMPTY
        + rb"|>"
        + group(_TEXT)
        + rb"</t>))?</is>)"
    )
    formula = (
        group(rb"<f")
        + group(formula_attributes)
        + rb"(?:"
        + _EMPTY
        + rb"|>"
        + group(_TEXT)
        + rb"</f>)"
    )
    value = rb"<v" + _EMPTY + rb"|<v>" + group(_TEXT) + rb"</v>"
    return (
        rb'<c r="'
        + group(_COLUMN)
        + group(rb"[0-9]++")
        + rb'"(?: s="'
        + group(rb"[0-9]{1,9}+")
        + rb'")?(?: t="'
        + group(rb"[A-Za-z]{1,9}+")
        + rb'")?(?:'
        + _EMPTY
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
    rb'<row(?: r="([1-9][0-9]{0,6}+)")?((?: [A-Za-z_][A-Za-z0-9_.:-]*+=' + _VALUE + rb")*+)"
    rb"(?:" + _EMPTY + rb"|>((?:" + _cell(capture=False) + rb")*+)</row>)"
)
_ATTRIBUTE_NAME = re.compile(rb' ([^="]+)="[^"]*"')
_FORMULA_ATTRIBUTE = re.compile(rb' ([a-zA-Z]+)="([^"]*)"')
_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"))

RowSpan = tuple[int, int, int]  # a row's number, and where its cells start and end


def fast_rows(xml: bytes, cells: StoredCells, max_rows: int) -> Iterator[Row] | None:
    """The sheet's rows as the XML lists them (number, cells), or None when
    the sheet is not all understood (see the module's docstring)."""
    rows = _recognised(xml, max_rows)
    if rows is None:
        return None
    return _rows(xml, rows, cells)


def _recognised(xml: bytes, max_rows: int) -> list[RowSpan] | None:
    """The rows of the ``sheetData`` (where in ``xml`` their cells are), when the
    grammar matches all of it."""
    start, end = xml.find(_OPEN), xml.rfind(_CLOSE)
    if start < 0 or end < start or xml.count(b"sheetData") != 2:
        return None
    if not _utf8_declared(xml) or any(bad in xml for bad in _NOT_XML):
        return None
    inside = start + len(_OPEN)
    if not _sound_outside(xml[:inside] + xml[end:], start) or not _utf8(xml, inside, end):
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


def _utf8(xml: bytes, start: int, end: int) -> bool:
    """Whether ``xml[start:end]`` is UTF-8 (decoded a slice at a time, and dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(xml)
    try:
        for offset in range(start, end, _SLICE):
            decoder.decode(view[offset : min(offset + _SLICE, end)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf8_declared(xml: bytes) -> bool:
    declaration = _DECLARATION.match(xml)
    if declaration is None:
        return b"<?xml" not in xml[:8]
    encoding = _ENCODING.search(declaration[0])
    return encoding is None or encoding[1].lower() in (b"utf-8", b"utf8")


def _sound_outside(outside: bytes, start: int) -> bool:
    """Whether the part without its rows is sound XML whose one ``sheetData`` element
    stands where the rows were cut out."""
    opened: list[int] = []
    closed: list[int] = []
    parser = xml_parser()

    def begin(name: str, attrs: object) -> None:
        if local(name) == "sheetData":
            opened.append(parser.CurrentByteIndex)

    def finish(name: str) -> None:
        if local(name) == "sheetData":
            closed.append(parser.CurrentByteIndex)

    parser.StartElementHandler = begin
    parser.EndElementHandler = finish
    try:
        parser.Parse(outside, True)
    except Exception:  # expat's error, a refused DTD: expat reads it and says so
        return False
    return opened == [start] and closed == [start + len(_OPEN)]


def _distinct(attributes: bytes) -> bool:
    """Row attributes besides the first ``r``: no name twice (XML refuses that), and no
    second ``r``."""
    names = _ATTRIBUTE_NAME.findall(attributes)
    return len(set(names)) == len(names) and b"r" not in names


def _rows(xml: bytes, rows: list[RowSpan], cells: StoredCells) -> Iterator[Row]:
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
                    kind.decode("ascii") or "n", int(style) if style else 0, _text(raw), None
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
    for letters, digits, style, kind, inline, text, formula, attrs, f_text, raw in _CELL.findall(
        xml, start, end
    ):
        column = columns.get(letters)
        if column is None:
            column = columns[letters] = cells.column(letters.decode("ascii"))
        value = cells.value(
            kind.decode("ascii") or "n",
            int(style) if style else 0,
            _text(raw) if raw else None,
            _text(text) if inline else None,
        )
        if formula:
            where = (letters + digits).decode("ascii")
            value = cells.with_formula(value, _attributes(attrs), _text(f_text), where)
        row[column] = value
    return row_values(row)


def _text(raw: bytes) -> str:
    """An element's text as XML reads it: UTF-8, the predefined entities replaced."""
    if b"&" in raw:
        for entity, char in _ENTITIES:
            raw = raw.replace(entity, char)
        raw = raw.replace(b"&amp;", b"&")
    return raw.decode("utf-8")


def _attributes(attrs: bytes) -> dict[str, str]:
    """A formula's attributes (their values hold no entity, as the grammar says)."""
    return {
        name.decode("ascii"): value.decode("utf-8")
        for name, value in _FORMULA_ATTRIBUTE.findall(attrs)
    }
