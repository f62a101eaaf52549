"""The reader's shortcuts give what the long way gives: a column's texts converted once,
ASCII labels folded without decomposing them, rows passed on untouched when no merged
range covers two cells, and a results workbook given as input told from the workbook's
small parts alone — the same answer openpyxl's sheet names give, with no sheet or
shared string read."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.errors import InputError
from batch_claims.read import totals
from batch_claims.read.cells import excel_value, safely
from batch_claims.read.headers import header_lookup
from batch_claims.read.merged import CellRange, merged_values
from batch_claims.read.results import refuse_results_workbook
from batch_claims.read.table import HeaderRow
from batch_claims.results_layout import FAILED_SHEET, RESULTS_SHEET, SUMMARY_SHEET

HEADERS = ("tracking_number", "contract_type", "contents_description", "notes")
cell_values = st.one_of(
    st.none(),
    st.sampled_from(["own_contract", " own_contract ", "#REF!", "_x000D_x", "", "Total", "  "]),
    st.text(max_size=8),
    st.integers(0, 10**16),
    st.floats(allow_nan=False),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(cell_values, max_size=6), max_size=12),
)
def test_a_columns_texts_converted_once_are_what_each_cell_converts_to(
    rows: list[list[object]],
) -> None:
    lookup = header_lookup()
    header = HeaderRow(1, HEADERS, {"tracking_number": 0, "contract_type": 1})
    numbered = [(number, tuple(cells)) for number, cells in enumerate(rows, start=2)]
    data, _, _ = totals.assemble(
        Path("claims.xlsx"), "sheet", header, iter(numbered), excel_value, lookup
    )
    convert = safely(excel_value)
    expected = {
        number: tuple(
            (
                convert(cell, index == 0) if cell is not None else None
                for index, cell in enumerate(cells[:4])
            )
        )
        + (None,) * max(0, 4 - len(cells))
        for number, cells in numbered
    }
    for row in data:
        assert row.cells == expected[row.row]


@given(text=st.text() | st.sampled_from(["Total", " SUBTOTAL: 3", "Summe 35,00", "Totaal\t"]))
def test_a_label_is_folded_as_its_decomposed_text_is(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text)
    slow = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()
    assert totals._fold(text) == slow


def test_rows_without_a_range_over_two_cells_are_passed_on_as_read() -> None:
    rows = iter([(2, ("a", "b")), (3, ("c",))])
    assert merged_values(rows, [CellRange(1, 1, 1, 1)], 10) is rows
    spanning = list(merged_values(iter([(2, ("a", "b")), (3, ())]), [CellRange(2, 1, 3, 2)], 10))
    assert spanning == [(2, ("a", None)), (3, ("a", None))]


# --- a results workbook given as input -------------------------------------------------


def _openpyxl_says_results(path: Path) -> bool:
    """The decision as it was made: openpyxl's sheet names, no decision when it fails."""
    try:
        names = openpyxl.load_workbook(path, read_only=True).sheetnames
    except Exception:
        return False
    return {SUMMARY_SHEET, RESULTS_SHEET, FAILED_SHEET} <= set(names)


def _refused(path: Path) -> bool:
    try:
        refuse_results_workbook(path)
    except InputError as exc:
        assert exc.message == (
            f"{path.name} is a batch-claims results workbook: to send its failed rows "
            f"again, run `batch-claims retry {path.name}`"
        )
        return True
    return False


def _workbooks(folder: Path) -> list[Path]:
    made = []
    for n, titles in enumerate(
        [
            [SUMMARY_SHEET, RESULTS_SHEET, FAILED_SHEET],
            [RESULTS_SHEET, "Notes", FAILED_SHEET, SUMMARY_SHEET],
            [SUMMARY_SHEET, RESULTS_SHEET],
            ["Claims"],
        ]
    ):
        path = folder / f"book{n}.xlsx"
        book = xlsxwriter.Workbook(str(path))
        for title in titles:
            book.add_worksheet(title).write(0, 0, "tracking_number")
        book.close()
        made.append(path)
    with_chart = folder / "chart.xlsx"
    book = xlsxwriter.Workbook(str(with_chart))
    for title in (SUMMARY_SHEET, RESULTS_SHEET):
        book.add_worksheet(title).write(0, 0, 1)
    chart = book.add_chartsheet(FAILED_SHEET)
    line = book.add_chart({"type": "line"})
    line.add_series({"values": f"='{SUMMARY_SHEET}'!$A$1:$A$1"})
    chart.set_chart(line)
    book.close()
    broken = folder / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    no_workbook = folder / "parts.xlsx"
    with zipfile.ZipFile(no_workbook, "w") as archive:
        archive.writestr("hello.txt", "no workbook here")
    return [*made, with_chart, broken, no_workbook]


def test_a_results_workbook_is_told_as_openpyxl_told_it(tmp_path: Path) -> None:
    for path in _workbooks(tmp_path):
        assert _refused(path) is _openpyxl_says_results(path), path.name


@pytest.fixture
def parts_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real_open = zipfile.ZipFile.open

    def counting_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    return read


def test_a_results_workbook_is_told_without_reading_its_sheets_or_strings(
    tmp_path: Path, parts_read: list[str]
) -> None:
    path = _workbooks(tmp_path)[0]
    parts_read.clear()  # what writing the workbooks opened
    assert _refused(path)
    assert parts_read  # the small parts
    assert not [part for part in parts_read if "worksheets/" in part or "sharedStrings" in part]
    assert "xl/workbook.xml" in parts_read
