"""A big sheet's rows converted in two halves at once (``worksheet.SheetRows.later``,
``totals.assemble``): the later half by a forked child while the earlier one is
converted here. The table is the same as read in one go — rows, numbers, notices, rows
left out, errors — for any sheet, any cut, and a child that fails."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims import forked
from batch_claims.errors import InputError
from batch_claims.read import sheetdata, totals, worksheet, xlsxfile
from batch_claims.read import table as table_module
from batch_claims.read.book import Book
from batch_claims.read.cells import UncalculatedFormula
from batch_claims.read.sheet import read_sheet
from batch_claims.read.stored import StoredCells
from tests.sheet_fixtures import write_xlsx
from tests.test_sheet_fast import HEAD, TAIL, hand_written_sheets, plain_book  # noqa: F401

MAX = worksheet.MAX_SHEET_ROWS
pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="forks on Linux only")


def _listed(rows: Any) -> list[Any] | str:
    try:
        return list(rows)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    xml=hand_written_sheets(),
    before=st.integers(0, 6),
    share=st.floats(0, 1),
    halves=st.sampled_from([10**9, 0, 60]),
)
def test_the_later_rows_read_apart_follow_on_the_earlier_ones(
    plain_book: Book,  # noqa: F811
    xml: bytes,
    before: int,
    share: float,
    halves: int,
) -> None:
    """Whatever rows were read before the cut, whatever share is taken, and the later
    half of the rows checked before the first row is read or only where it is read
    (``halves`` bytes on, ``sheetdata.DEFERRED_BYTES``): the rows read here, then those
    the job reads, are the rows read in one go — numbered alike, gaps as empty rows, a
    row numbered below one before it skipped. A sheet the fast path reads is never
    refused half way."""
    whole = _listed(worksheet.sheet_rows(xml, "Claims", plain_book))
    understood = sheetdata.fast_rows(xml, StoredCells(plain_book), MAX) is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sheetdata, "DEFERRED_BYTES", halves)
        _read_apart(plain_book, xml, before, share, whole, understood)


def _read_apart(
    book: Book, xml: bytes, before: int, share: float, whole: Any, understood: bool
) -> None:
    rows = worksheet.sheet_rows(xml, "Claims", book)
    first = []
    try:
        for _ in range(before):
            first.append(next(rows))
    except StopIteration:
        pass
    except Exception as exc:
        first = [f"{type(exc).__name__}: {exc}"]
    job = rows.later(share, 1)
    if job is None:
        here, apart = _listed(rows), []
    else:  # in a forked child, as ``totals.assemble`` reads them: it sees only its rows
        here, done = forked.beside(lambda: _listed(job()), lambda: _listed(rows))
        assert done is not None
        apart = done.value
    refused = [part for part in (here, apart, *first) if isinstance(part, str)]
    if understood and not isinstance(whole, str):
        assert not any("NotUnderstood" in part for part in refused)
    if refused or isinstance(whole, str):
        return  # a sheet past the bounds or not read: not what a cut is for
    assert first + here + apart == whole


@pytest.mark.parametrize("halves", [10**9, 0])
def test_rows_read_apart_know_the_shared_formulas_defined_before_them(
    plain_book: Book,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    halves: int,
) -> None:
    """A formula filled down (Excel shares it: defined once, used below) and never
    calculated: the later rows, read by a child, show it moved to their cells, as when
    the sheet is read in one go — not an empty formula."""
    monkeypatch.setattr(sheetdata, "DEFERRED_BYTES", halves)
    defined = b'<row r="1"><c r="A1"><f t="shared" ref="A1:A6" si="0">B1*2</f><v>0</v></c></row>'
    used = b'<row r="%d"><c r="A%d"><f t="shared" si="0"/><v>0</v></c></row>'
    redefined = b'<row r="3"><c r="A3"><f t="shared" ref="A3:A6" si="0">C3</f><v>0</v></c></row>'
    rows = defined + used % (2, 2) + redefined + b"".join(used % (n, n) for n in range(4, 7))
    xml = HEAD + rows + TAIL
    whole = list(worksheet.sheet_rows(xml, "Claims", plain_book))
    assert whole[5] == (6, (UncalculatedFormula("=C6"),))
    split = worksheet.sheet_rows(xml, "Claims", plain_book)
    job = split.later(0.5, 1)
    assert job is not None
    here, done = forked.beside(lambda: list(job()), lambda: list(split))
    assert done is not None
    assert here + done.value == whole


def test_no_rows_are_taken_when_too_few_are_left_or_expat_reads(
    plain_book: Book,  # noqa: F811
) -> None:
    row = b'<row r="%d"><c r="A%d"><v>%d</v></c></row>'
    rows_xml = b"".join(row % (n, n, n) for n in range(1, 11))
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + rows_xml + b"</sheetData></worksheet>"
    )
    assert worksheet.sheet_rows(xml, "Claims", plain_book).later(0.5, 11) is None
    assert worksheet.sheet_rows(xml, "Claims", plain_book).later(0.5, 10) is not None
    spaced = xml.replace(b"</row><row", b"</row>\n<row")  # left to expat
    assert worksheet.sheet_rows(spaced, "Claims", plain_book).later(0.5, 1) is None


HEADERS = ["Tracking number", "Contract type", "Sales value", "Remarks"]
TRACKING = st.one_of(
    st.from_regex(r"\A3S[A-Z]{4}[0-9]{6}\Z"),
    st.sampled_from(["Tracking number", "3SABCD1234567", "Total", "Subtotal:", ""]),
)
ROW = st.lists(
    st.one_of(st.none(), st.text(max_size=6), st.integers(0, 500), st.floats(0, 100)),
    max_size=3,
)
LINES = st.lists(st.one_of(st.none(), st.tuples(TRACKING, ROW, st.booleans())), max_size=40)


def _sheet(folder: Path, lines: list[Any]) -> Path:
    rows: list[list[Any]] = [HEADERS]
    for line in lines:
        if line is None:
            rows.append([])  # an empty row
            continue
        tracking, rest, wide = line
        row = [tracking or None, *rest]
        if wide:  # a value right of the last header
            row += [None] * (len(HEADERS) - len(row)) + ["stray"]
        rows.append(row)
    return write_xlsx(folder / "claims.xlsx", rows)


def _read(sheet: Path, shared: bool) -> SheetTableOrError:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(totals, "SHARED_ROWS", 1 if shared else 10**9)
        try:
            return read_sheet(sheet)
        except InputError as exc:
            return str(exc)


SheetTableOrError = Any


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=LINES, limit=st.sampled_from([None, 3, 10]))
def test_a_sheet_read_in_halves_is_the_sheet_read_in_one_go(
    tmp_path_factory: pytest.TempPathFactory, lines: list[Any], limit: int | None
) -> None:
    """Any rows (empty ones, totals and notes, the example row, the header repeated,
    values right of the last header) and a bound on the rows that may be exceeded in
    either half or only by both: the same table, notices and rows left out, or the
    same error."""
    sheet = _sheet(tmp_path_factory.mktemp("halves"), lines)
    with pytest.MonkeyPatch.context() as patch:
        if limit is not None:
            patch.setattr(table_module, "MAX_ROWS", limit)
        assert _read(sheet, shared=True) == _read(sheet, shared=False)


@pytest.mark.parametrize("how", ["raises", "killed"])
def test_a_child_that_fails_leaves_the_later_rows_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    lines = [(f"3SHALF{n:06d}", ["own_contract", n], n % 7 == 0) for n in range(60)]
    sheet = _sheet(tmp_path, lines)
    whole = _read(sheet, shared=False)
    parent = os.getpid()
    converted = totals._converted

    def failing(*args: Any) -> Any:
        if os.getpid() != parent:
            if how == "raises":
                raise RuntimeError("child broke")
            os.kill(os.getpid(), 9)
        return converted(*args)

    monkeypatch.setattr(totals, "_converted", failing)
    assert _read(sheet, shared=True) == whole


def test_a_big_sheet_has_its_later_rows_converted_by_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The split is taken (one row of the later half converted in a child), and the
    table is the one read in one go."""
    lines = [(f"3SHALF{n:06d}", ["own_contract", n], False) for n in range(40)]
    sheet = _sheet(tmp_path, lines)
    whole = _read(sheet, shared=False)
    parent = os.getpid()
    marks = tmp_path / "child"
    converted = totals._converted

    def marking(*args: Any) -> Any:
        if os.getpid() != parent:
            marks.write_text("converted")
        return converted(*args)

    monkeypatch.setattr(totals, "_converted", marking)
    table = _read(sheet, shared=True)
    assert marks.read_text() == "converted"
    assert table == whole
    assert [row.row for row in table.rows] == list(range(2, 42))


def _spaced(sheet: Path, before_row: int) -> Path:
    """The sheet with a line break before one of its rows: the grammar refuses it."""
    with zipfile.ZipFile(sheet) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    name = "xl/worksheets/sheet1.xml"
    marker = b'<row r="%d"' % before_row
    assert marker in parts[name]
    parts[name] = parts[name].replace(marker, b"\n" + marker)
    spaced = sheet.with_name("spaced.xlsx")
    with zipfile.ZipFile(spaced, "w") as target:
        for part, data in parts.items():
            target.writestr(part, data)
    return spaced


@pytest.mark.parametrize("where", [5, 55])
def test_later_rows_not_understood_are_read_again_by_expat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: int
) -> None:
    """A big sheet checked in halves, its later rows read by a child: when markup the
    fast path refuses stands only among the later rows, the whole sheet is read again
    by expat — the same table as read by expat from the start; when it stands among the
    earlier ones, expat reads it from the start."""
    lines = [(f"3SHALF{n:06d}", ["own_contract", n], n % 7 == 0) for n in range(60)]
    sheet = _spaced(_sheet(tmp_path, lines), where)
    with monkeypatch.context() as patch:
        patch.setattr(sheetdata, "fast_rows", lambda *args, **kwargs: None)
        by_expat = _read(sheet, shared=False)
    again: list[bool] = []
    examined = xlsxfile._examined

    def spy(*args: Any, fast: bool) -> Any:
        again.append(not fast)
        return examined(*args, fast=fast)

    monkeypatch.setattr(xlsxfile, "_examined", spy)
    monkeypatch.setattr(sheetdata, "DEFERRED_BYTES", 0)
    assert _read(sheet, shared=True) == by_expat
    assert again == ([False, True] if where > 30 else [False])
