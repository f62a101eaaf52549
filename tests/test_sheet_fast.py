"""The strict fast paths for a sheet's cells (``read.sheetdata``) and the shared strings
(``read.strict``) give exactly what expat gives, or step aside: on sheets and strings
written by XlsxWriter and openpyxl, on hand-written XML in the shapes other producers
use (namespace prefixes, entities, attribute orders, inline and rich text, shared
formulas, phonetic guides), and on those parts damaged byte by byte. Bytes expat
refuses (a DTD, an entity, a duplicate attribute, a character XML forbids, broken
UTF-8) never reach them, and no input makes their grammars backtrack."""

from __future__ import annotations

import time
import zipfile
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.read import book as book_module
from batch_claims.read import sheetdata, strict, worksheet
from batch_claims.read.archive import open_archive
from batch_claims.read.book import Book, open_book
from batch_claims.read.stored import StoredCells

SHEET_XML = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:C3"/><sheetData>'
)
TAIL = b'</sheetData><mergeCells count="1"><mergeCell ref="E1:F1"/></mergeCells></worksheet>'

texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
) | st.sampled_from(["a&b", "<x>", ' "q" ', "_x000D_", "line\nnext", "\r\n", "#REF!", "é"])
values = st.one_of(
    st.none(),
    texts,
    st.integers(-(10**17), 10**17),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(datetime(1901, 1, 1), datetime(2100, 1, 1)),
    st.sampled_from(["=1+2", '=A1&"x"', "=SUM(B1:B2)", "#N/A", "#DIV/0!"]),
)
FORMATS = ["General", "0000000000", "0%", "£#,##0.00", "yyyy-mm-dd", "[h]:mm", "@"]


def both(xml: bytes, book: Book) -> tuple[list[Any] | None, list[Any] | str]:
    """The fast path's rows (None when it steps aside) and expat's (or its error)."""
    fast = sheetdata.fast_rows(xml, StoredCells(book), worksheet.MAX_SHEET_ROWS)
    fast_rows = None if fast is None else _listed(fast)
    try:
        slow: list[Any] | str = _listed(worksheet.expat_rows(xml, StoredCells(book)))
    except Exception as exc:
        slow = f"{type(exc).__name__}: {exc}"
    return fast_rows, slow


def _listed(rows: Any) -> list[Any] | str:
    try:
        return list(rows)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def assert_same(xml: bytes, book: Book, fast_expected: bool | None = None) -> None:
    fast, slow = both(xml, book)
    if fast_expected is not None:
        assert (fast is not None) is fast_expected, xml[:2000]
    if fast is not None:
        assert fast == slow, xml[:2000]


def opened(path: Path) -> tuple[Book, list[bytes]]:
    with open_archive(path) as archive:
        book = open_book(archive)
        return book, [book.sheet_xml(sheet) for sheet in book.sheets]


@pytest.fixture(scope="module")
def plain_book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """A workbook with shared strings, number formats and a request to calculate."""
    path = tmp_path_factory.mktemp("fast") / "plain.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Claims")
    for n, code in enumerate(FORMATS):
        sheet.write_number(0, n, n, book.add_format({"num_format": code}))
    for n in range(12):
        sheet.write_string(1, n, f"shared {n} & more")
    book.close()
    return opened(path)[0]


rows_of_values = st.lists(
    st.tuples(st.integers(1, 6), st.lists(values, max_size=6)), min_size=1, max_size=8
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_of_values, formats=st.lists(st.sampled_from(FORMATS), min_size=6, max_size=6))
def test_xlsxwriter_sheets_read_the_same_either_way(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, list[object]]],
    formats: list[str],
) -> None:
    folder = tmp_path_factory.mktemp("xw")
    for constant_memory in (False, True):
        path = folder / f"claims{constant_memory}.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
        styles = [book.add_format({"num_format": code}) for code in formats]
        sheet = book.add_worksheet("Claims")
        row_number = 0
        for gap, cells in rows:
            row_number += gap
            for column, value in enumerate(cells):
                style = styles[column]
                if isinstance(value, str) and value.startswith("="):
                    sheet.write_formula(row_number, column, value, style, "" if gap % 2 else 0)
                elif isinstance(value, str):
                    sheet.write_string(row_number, column, value, style)
                elif value is not None:
                    sheet.write(row_number, column, value, style)
            if gap == 3:
                sheet.write_rich_string(row_number, 7, "a", book.add_format({"bold": 1}), "b")
        book.close()
        workbook, sheets = opened(path)
        # Every shape XlsxWriter writes is understood; rich text only as a shared string
        # (an empty sheet's <sheetData/> is left to expat).
        understood = b"<row" in sheets[0] and not constant_memory
        assert_same(sheets[0], workbook, fast_expected=understood or None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_of_values, formats=st.lists(st.sampled_from(FORMATS), min_size=6, max_size=6))
def test_openpyxl_sheets_read_the_same_either_way(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, list[object]]],
    formats: list[str],
) -> None:
    path = tmp_path_factory.mktemp("op") / "claims.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    row_number = 0
    for gap, cells in rows:
        row_number += gap
        for column, value in enumerate(cells, start=1):
            if isinstance(value, str) and any(ch < " " and ch not in "\t\n\r" for ch in value):
                continue  # openpyxl refuses to write these
            cell = sheet.cell(row_number, column, value)
            cell.number_format = formats[column - 1]
            if value == "#N/A":
                cell.data_type = "e"
        sheet.cell(row_number, 8, clock_time(12, 30))
    book.save(path)
    workbook, sheets = opened(path)
    assert_same(sheets[0], workbook)


# --- sheetData written by hand: other producers' shapes, and what expat refuses -----------


class Choice:
    """Values a sheet is written with: ``good`` ones the fast path should read, and
    ``bad`` ones (a sheet drawn as dirty takes one of those one time in six)."""

    def __init__(self, good: list[Any], bad: list[Any]) -> None:
        self.good, self.bad = good, bad

    def draw(self, draw: st.DrawFn, dirty: bool) -> Any:
        if dirty and draw(st.integers(0, 5)) == 0:
            return draw(st.sampled_from(self.bad))
        return draw(st.sampled_from(self.good))


ATTRIBUTE_ORDERS = Choice(
    ['r="{ref}"{s}{t}'], ['r="{ref}"{t}{s}', '{s} r="{ref}"{t}', 'r="{ref}" {s}{t} ']
)
cell_bodies = Choice(
    [
        "",
        "<v>0</v>",
        "<v>1</v>",
        "<v>7</v>",
        "<v>12.5</v>",
        "<v>1e3</v>",
        "<v>45000</v>",
        "<v>-3</v>",
        "<v> 4 </v>",
        "<v/>",
        "<v />",
        "<v>#REF!</v>",
        "<v>true</v>",
        "<v>2024-01-02T03:04:05</v>",
        "<v>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</v>",
        "<v>caf\u00e9 \U0001f600\tx\ny</v>",
        "<f>A1*2</f><v>0</v>",
        '<f>A1&amp;"x"</f><v></v>',
        '<f t="shared" ref="B2:B4" si="0">A2*2</f><v>4</v>',
        '<f t="shared" si="0"/><v>0</v>',
        '<f t="shared" si="0" />',
        '<f aca="false">A1</f><v>3</v>',
        '<f t="array" ref="C1:C2">A1:A2</f>',
        "<f/>",
        "<is><t>inline &amp; text</t></is>",
        '<is><t xml:space="preserve"> spaced </t></is>',
        "<is><t/></is>",
        "<is/>",
        "<is></is>",
    ],
    [
        "<v>&#65;</v>",
        "<v>&#x0;</v>",
        "<v>&nbsp;</v>",
        "<v>x\ry</v>",
        "<v>x\x01y</v>",
        "<v>x]]>y</v>",
        "<v>\ufffe</v>",
        "<is><r><t>rich</t></r><r><rPr><b/></rPr><t> text</t></r></is>",
        '<is><t>base</t><rPh sb="0" eb="1"><t>phonetic</t></rPh></is>',
        " <v>1</v>",
        "<v>1</v><extLst/>",
        '<f t="shared" si="0" t="shared"/>',
    ],
)
kinds = Choice(["", "s", "n", "b", "e", "str", "inlineStr", "d"], ["x", "S", "inlineStrings"])
references = Choice(["A", "B", "C", "K", "AA", "XFD"], ["XFE", "ZZZ", "a", "$A", ""])
styles = Choice(["", "0", "1", "2", "3", "4", "5", "6", "99", "01"], ["x", ""])


@st.composite
def hand_written_cells(draw: st.DrawFn, row: int, dirty: bool) -> str:
    letters = references.draw(draw, dirty)
    ref = f"{letters}{Choice([row, row + 1], [0]).draw(draw, dirty)}" if letters else ""
    kind = kinds.draw(draw, dirty)
    style = styles.draw(draw, dirty)
    attributes = ATTRIBUTE_ORDERS.draw(draw, dirty).format(
        ref=ref, s=f' s="{style}"' if style else "", t=f' t="{kind}"' if kind else ""
    )
    if not ref and draw(st.booleans()):
        attributes = attributes.replace('r=""', "")
    body = cell_bodies.draw(draw, dirty)
    prefix = Choice([""], ["x:"]).draw(draw, dirty)
    if not body and draw(st.booleans()):
        return f"<{prefix}c {attributes.strip()}/>"
    return f"<{prefix}c {attributes.strip()}>{body}</{prefix}c>"


ROW_NUMBERS = Choice(["{n}", "{n}", "{next}", ""], ["0", "1.0", "01", "9", "x"])
ROW_ATTRIBUTES = Choice(
    ["", ' spans="1:3"', ' spans="1:3" x14ac:dyDescent="0.25"'],
    [' ht="15" ht="15"', ' r="3"', " spans='1:3'"],
)
HEADS = Choice(
    [HEAD, b"\xef\xbb\xbf" + HEAD, HEAD.replace(b"UTF-8", b"utf-8")],
    [
        HEAD.replace(b"UTF-8", b"ISO-8859-1"),
        HEAD.replace(b"<dimension", b'<!DOCTYPE worksheet [<!ENTITY e "x">]><dimension'),
        HEAD.replace(b"<worksheet", b"<!-- <sheetData> --><worksheet"),
        HEAD.replace(b"<sheetData>", b"<x:sheetData>"),
    ],
)


@st.composite
def hand_written_sheets(draw: st.DrawFn) -> bytes:
    dirty = draw(st.booleans())
    rows = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        shown = ROW_NUMBERS.draw(draw, dirty).format(n=number, next=number + 1)
        extra = ROW_ATTRIBUTES.draw(draw, dirty)
        r = f' r="{shown}"' if shown else ""
        cells = "".join(draw(st.lists(hand_written_cells(number, dirty), max_size=4)))
        rows.append(f"<row{r}{extra}/>" if not cells else f"<row{r}{extra}>{cells}</row>")
    joiner = Choice([""], ["\n", " "]).draw(draw, dirty)
    head = HEADS.draw(draw, dirty)
    return head + joiner.join(rows).encode("utf-8") + TAIL


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xml=hand_written_sheets())
def test_hand_written_sheets_read_the_same_either_way(plain_book: Book, xml: bytes) -> None:
    fast, slow = both(xml, plain_book)
    if fast is not None:
        assert not isinstance(slow, str) or slow == fast, slow  # expat read it too
        assert fast == slow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    xml=hand_written_sheets(),
    damage=st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=3), st.integers(0, 3)),
)
def test_a_damaged_sheet_is_read_the_same_either_way(
    plain_book: Book, xml: bytes, damage: tuple[float, bytes, int]
) -> None:
    """Bytes inserted or removed anywhere: the fast path never reads what expat refuses
    or reads differently."""
    where, inserted, removed = damage
    at = int(where * len(xml))
    damaged = xml[:at] + inserted + xml[at + removed :]
    assert_same(damaged, plain_book)


def _as_examined(xml: bytes, book: Book) -> list[Any] | str:
    """A sheet's rows as ``xlsxfile`` reads them: by expat, whole, after the fast path
    finds later rows it does not understand."""
    try:
        return list(worksheet.sheet_rows(xml, "Claims", book))
    except sheetdata.NotUnderstood:
        return _listed(worksheet.sheet_rows(xml, "Claims", book, fast=False))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    xml=hand_written_sheets(),
    damage=st.tuples(st.floats(0, 1), st.binary(max_size=3), st.integers(0, 3)),
    halves=st.sampled_from([0, 1, 40, 200]),
)
def test_a_sheet_checked_in_halves_reads_as_one_checked_whole(
    plain_book: Book, xml: bytes, damage: tuple[float, bytes, int], halves: int
) -> None:
    """The later half of the rows checked only when reached (a big sheet), whatever the
    sheet holds and wherever it is damaged: the rows read are those of the whole
    checked first. Where the whole is not understood, the later half is refused when
    reached (``NotUnderstood``) and expat reads the sheet again, or nothing is read fast
    at all; where it is, nothing is refused."""
    where, inserted, removed = damage
    at = int(where * len(xml))
    xml = xml[:at] + inserted + xml[at + removed :]
    most = worksheet.MAX_SHEET_ROWS  # each read with cells of its own (shared formulas)
    whole = sheetdata.fast_rows(xml, StoredCells(plain_book), most, deferred=10**9)
    split = sheetdata.fast_rows(xml, StoredCells(plain_book), most, deferred=halves)
    if whole is not None:
        assert split is not None
        assert _listed(split) == _listed(whole)
    elif split is not None:  # refused on the way (or a cell of the earlier half first)
        assert isinstance(_listed(split), str)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sheetdata, "DEFERRED_BYTES", 10**9)
        at_once = _as_examined(xml, plain_book)
        patch.setattr(sheetdata, "DEFERRED_BYTES", halves)
        assert _as_examined(xml, plain_book) == at_once


def test_a_big_sheet_is_checked_in_halves(plain_book: Book) -> None:
    """Past ``DEFERRED_BYTES`` of rows, the later half is not checked before the first
    row is read; whitespace between two of its rows (which the grammar refuses) is met
    only there."""
    rows = [b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 41)]
    spaced = b"".join(rows[:30]) + b"\n" + b"".join(rows[30:])
    xml = HEAD + spaced + TAIL
    cells = StoredCells(plain_book)
    assert sheetdata.fast_rows(xml, cells, 100, deferred=10**9) is None
    split = sheetdata.fast_rows(xml, cells, 100, deferred=len(spaced))
    assert split is not None and next(split) == (1, (1,))
    assert _listed(split) == "NotUnderstood: the later rows are not all understood"
    assert sheetdata.fast_rows(xml, cells, 100, deferred=len(spaced) + 1) is None
    assert _as_examined(xml, plain_book) == _listed(worksheet.expat_rows(xml, cells))


def test_the_shapes_producers_write_are_read_fast(plain_book: Book) -> None:
    """Excel's and LibreOffice's shapes too, not only the generators' above."""
    rows = (
        b'<row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" s="1" t="s"><v>3</v></c>'
        b'<c r="B1" s="2"><v>0.5</v></c><c r="C1" s="4" t="str"><f>A1&amp;"x"</f>'
        b"<v>a&amp;x</v></c></row>"
        b'<row r="2" customFormat="false" ht="12.8" hidden="false"><c r="A2" s="0" t="n">'
        b'<f aca="false">B1*2</f><v>1</v></c><c r="B2" t="e"><v>#REF!</v></c>'
        b'<c r="C2" t="inlineStr"><is><t xml:space="preserve"> x </t></is></c></row>'
        b'<row r="4"><c r="A4"><f t="shared" ref="A4:A5" si="0">B1*2</f><v>0</v></c></row>'
        b'<row r="5"><c r="A5"><f t="shared" si="0"/><v>0</v></c><c r="B5" t="b"><v>1</v></c>'
        b'<c r="C5" /></row><row r="7"/>'
    )
    assert_same(HEAD + rows + TAIL, plain_book, fast_expected=True)
    fast = sheetdata.fast_rows(HEAD + rows + TAIL, StoredCells(plain_book), 100)
    assert fast is not None
    listed = dict(fast)
    assert listed[1][0] == "shared 3 & more" and listed[1][2] == "a&x"
    assert str(listed[5][0]) == "=B2*2"  # the shared formula, moved, never calculated


@pytest.mark.parametrize(
    "xml",
    [
        HEAD.replace(b"<dimension", b'<!DOCTYPE worksheet [<!ENTITY e "x">]><dimension')
        + b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        + TAIL,
        HEAD + b'<row r="1" ht="1" ht="1"><c r="A1"><v>1</v></c></row>' + TAIL,
        HEAD + b'<row r="1"><c r="A1"><v>\xff</v></c></row>' + TAIL,
        HEAD + b'<row r="1"><c r="A1"><v>&#1;</v></c></row>' + TAIL,
        HEAD + b'<row r="1"><c r="A1"><v>\x0b</v></c></row>' + TAIL,
        HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row>' + TAIL.replace(b"</worksheet>", b""),
        HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData><sheetData>' + TAIL,
    ],
    ids=["dtd", "duplicate", "utf8", "char-reference", "control", "unclosed", "two"],
)
def test_what_expat_refuses_or_reads_otherwise_never_takes_the_fast_path(
    plain_book: Book, xml: bytes
) -> None:
    assert sheetdata.fast_rows(xml, StoredCells(plain_book), 100) is None


@pytest.mark.parametrize(
    "middle",
    [
        b'<row r="1">' + b'<c r="A1"><v>' + b"a" * 400_000 + b"</row>",
        b'<row r="1">' + b'<c r="A1"><v>' + b"&amp;" * 100_000 + b"&amp</v></c></row>",
        b'<row r="1">' + b'<c r="A1" s="1"/>' * 100_000 + b"<c>",
        b'<row r="1"' + b' a="1"' * 100_000 + b">",
    ],
    ids=["unclosed-text", "entities", "cells", "attributes"],
)
def test_the_grammar_never_backtracks(plain_book: Book, middle: bytes) -> None:
    """Near-misses that a backtracking grammar would take minutes over (generous bound:
    linear work here takes milliseconds)."""
    started = time.process_time()
    assert sheetdata.fast_rows(HEAD + middle + TAIL, StoredCells(plain_book), 100) is None
    assert time.process_time() - started < 2


def test_a_sheet_past_the_row_bound_is_left_to_expat_which_refuses_it(plain_book: Book) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(1, 30))
    assert sheetdata.fast_rows(HEAD + rows + TAIL, StoredCells(plain_book), 28) is None
    assert sheetdata.fast_rows(HEAD + rows + TAIL, StoredCells(plain_book), 29) is not None


def test_the_scale_sheet_and_the_templates_are_read_fast(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    for path in [*root.glob("templates/*.xlsx"), *root.glob("sample_data/*.xlsx")]:
        book, sheets = opened(path)
        for xml in sheets:
            assert_same(xml, book, fast_expected=True)
    assert zipfile.is_zipfile(path)


# --- shared strings -------------------------------------------------------------------

SST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="9">'
)
ITEMS = Choice(
    [
        "<si><t>plain</t></si>",
        '<si><t xml:space="preserve"> spaced </t></si>',
        "<si><t>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</t></si>",
        "<si><t>caf\u00e9 \U0001f600\tx\ny</t></si>",
        "<si><t/></si>",
        "<si/>",
        "<si></si>",
        "<si><t>_x000D_ #REF!</t></si>",
    ],
    [
        "<si><r><t>rich</t></r><r><rPr><b/></rPr><t> text</t></r></si>",
        '<si><t>base</t><rPh sb="0" eb="1"><t>phonetic</t></rPh></si>',
        "<si><t>&#65;</t></si>",
        "<si><t>x\ry</t></si>",
        "<x:si><x:t>prefixed</x:t></x:si>",
        "<si> <t>x</t></si>",
        "<si><t>x</t><t>y</t></si>",
    ],
)
SST_HEADS = Choice(
    [SST_HEAD, b"\xef\xbb\xbf" + SST_HEAD],
    [
        SST_HEAD.replace(b"UTF-8", b"ISO-8859-1"),
        SST_HEAD.replace(b"<sst", b'<!DOCTYPE sst [<!ENTITY e "x">]><sst'),
        SST_HEAD.replace(b"<sst", b"<x:sst"),
        SST_HEAD + b"<extra/>",
    ],
)


@st.composite
def shared_string_parts(draw: st.DrawFn) -> bytes:
    dirty = draw(st.booleans())
    items = [ITEMS.draw(draw, dirty) for _ in range(draw(st.integers(0, 6)))]
    return SST_HEADS.draw(draw, dirty) + "".join(items).encode("utf-8") + b"</sst>"


def both_strings(xml: bytes) -> tuple[list[str] | None, list[str] | str]:
    try:
        slow: list[str] | str = book_module._shared_strings(xml)
    except Exception as exc:
        slow = f"{type(exc).__name__}: {exc}"
    return strict.shared_strings(xml), slow


@settings(max_examples=300, deadline=None)
@given(
    xml=shared_string_parts(),
    damage=st.tuples(st.floats(0, 1), st.binary(max_size=3), st.integers(0, 3)),
)
def test_shared_strings_read_the_same_either_way(
    xml: bytes, damage: tuple[float, bytes, int]
) -> None:
    for part in (xml, _damaged(xml, damage)):
        fast, slow = both_strings(part)
        if fast is not None:
            assert fast == slow, part


def _damaged(xml: bytes, damage: tuple[float, bytes, int]) -> bytes:
    where, inserted, removed = damage
    at = int(where * len(xml))
    return xml[:at] + inserted + xml[at + removed :]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strings=st.lists(texts, min_size=1, max_size=8), rich=st.booleans())
def test_xlsxwriter_shared_strings_read_the_same_either_way(
    tmp_path_factory: pytest.TempPathFactory, strings: list[str], rich: bool
) -> None:
    path = tmp_path_factory.mktemp("sst") / "claims.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Claims")
    for row, value in enumerate(strings):
        sheet.write_string(row, 0, value)
    if rich:
        sheet.write_rich_string(0, 1, "a", book.add_format({"bold": 1}), "b")
    book.close()
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/sharedStrings.xml")
    fast, slow = both_strings(xml)
    assert (fast is None) is (rich or b"\r" in xml)
    if fast is not None:
        assert fast == slow


def test_the_scale_sheets_shared_strings_are_read_fast() -> None:
    xml = SST_HEAD + b"".join(b"<si><t>3SABC%010d</t></si>" % n for n in range(1000)) + b"</sst>"
    fast, slow = both_strings(xml)
    assert fast is not None and fast == slow and len(fast) == 1000


@pytest.mark.parametrize(
    "middle",
    [
        b"<si><t>" + b"a" * 400_000 + b"</si>",
        b"<si><t>x</t></si>" * 50_000 + b"<si><t>&amp",
        b"<si><t>" + b"&amp;" * 100_000 + b"</t>",
    ],
    ids=["unclosed-text", "items", "entities"],
)
def test_the_shared_strings_grammar_never_backtracks(middle: bytes) -> None:
    started = time.process_time()
    assert strict.shared_strings(SST_HEAD + middle + b"</sst>") is None
    assert time.process_time() - started < 2
