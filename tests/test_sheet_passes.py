"""A workbook is parsed once, not twice (issue 13): each sheet's XML is inflated once
and parsed once, for its merged ranges, values and formulas together — also in a
workbook that asks to be calculated and holds formulas, which was read a second time
for them.

Counted with spies on ``zipfile.ZipExtFile.read`` (the real method still runs) and on
the reader's XML parser, reading real workbooks written by openpyxl (which asks Excel to
calculate on opening) and XlsxWriter."""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]

from batch_claims.read import worksheet
from batch_claims.read.cells import UncalculatedFormula
from batch_claims.read.headers import header_lookup
from batch_claims.read.sheet import read_sheet

SHEET_XML = "xl/worksheets/sheet1.xml"


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], int]:
    """How many times a part was read through to its end (each stream is kept, so
    none is counted twice)."""
    read: dict[zipfile.ZipExtFile, int] = {}
    real_read = zipfile.ZipExtFile.read

    def counting_read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = real_read(self, n)
        read[self] = read.get(self, 0) + len(data)
        return data

    def complete(stream: zipfile.ZipExtFile, total: int) -> bool:
        return total >= stream._orig_file_size  # type: ignore[attr-defined]

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    return lambda part: sum(
        1 for stream, total in read.items() if stream.name == part and complete(stream, total)
    )


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times a sheet's rows were parsed, by sheet title."""
    counted: Counter[str] = Counter()
    real = worksheet.sheet_rows

    def counting(xml: bytes, title: str, book: Any, fast: bool = True) -> Any:
        counted[title] += 1
        return real(xml, title, book, fast)

    monkeypatch.setattr(worksheet, "sheet_rows", counting)
    monkeypatch.setattr("batch_claims.read.xlsxfile.sheet_rows", counting)
    return counted


def workbook(tmp_path: Path, formula: bool) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Claims"
    sheet.append(["Tracking number", "Contract type", "Contents description", "Copy"])
    for number in range(2, 52):
        sheet.append([f"3SABC{number:010d}", "own_contract", "Desk lamp", None])
    if formula:
        sheet["D2"] = "=C2"
    sheet.merge_cells("E1:F1")
    path = tmp_path / "claims.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("formula", [False, True], ids=["values", "formulas"])
def test_a_sheet_is_inflated_once_and_parsed_once(
    tmp_path: Path, passes: Callable[[str], int], parses: Counter[str], formula: bool
) -> None:
    path = workbook(tmp_path, formula=formula)

    table = read_sheet(path, None, header_lookup())

    assert len(table.rows) == 50
    assert isinstance(table.rows[0].cells[3], UncalculatedFormula) is formula
    # Before: openpyxl's peek for the dimensions, a byte pass for merged ranges and
    # formula tags, openpyxl's parse, and with formulas a second workbook's peek and
    # parse (3 and 5).
    assert passes(SHEET_XML) == 1
    assert parses == {"Claims": 1}
    assert passes("xl/workbook.xml") == 1
    assert passes("xl/styles.xml") == 1


def test_every_sheet_of_a_workbook_is_read_at_most_once(
    tmp_path: Path, passes: Callable[[str], int], parses: Counter[str]
) -> None:
    """The active sheet holds no claims, so every visible sheet is examined to choose."""
    path = tmp_path / "claims.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write(0, 0, "read me")
    claims = book.add_worksheet("Claims")
    claims.write_row(0, 0, ["Tracking number", "Contract type"])
    claims.write_row(1, 0, ["3SABC0000000001", "own_contract"])
    claims.write_formula(2, 0, '="3SABC"&"0000000002"', None, "3SABC0000000002")
    claims.write_string(2, 1, "own_contract")
    book.add_worksheet("More notes").write(0, 0, "and me")
    book.close()

    table = read_sheet(path, None, header_lookup())

    assert table.sheet_name == "Claims"
    assert [row.cells[0] for row in table.rows] == ["3SABC0000000001", "3SABC0000000002"]
    assert parses == {"Notes": 1, "Claims": 1, "More notes": 1}
    assert [passes(f"xl/worksheets/sheet{n}.xml") for n in (1, 2, 3)] == [1, 1, 1]
    assert passes("xl/sharedStrings.xml") == 1
