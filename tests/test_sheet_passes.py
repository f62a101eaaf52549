"""A workbook is parsed once, not twice: the sheet's XML is inflated once for its merged
ranges and formula tags (a byte search) and parsed once by openpyxl; only a sheet with
formulas in a workbook that asks to be calculated is parsed a second time, for them.

Counted with a spy on ``zipfile.ZipExtFile.read`` (the real method still runs), reading
real workbooks written by openpyxl, which asks Excel to calculate on opening."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from batch_claims.read import xlsxfile
from batch_claims.read.cells import UncalculatedFormula
from batch_claims.read.headers import header_lookup

SHEET_XML = "xl/worksheets/sheet1.xml"


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many times the sheet's XML was read through to its end (openpyxl's peeks at
    its first bytes for the sheet's dimensions are not passes)."""
    read: dict[int, int] = {}
    sizes: dict[int, int] = {}
    real_read = zipfile.ZipExtFile.read

    def counting_read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = real_read(self, n)
        if self.name == SHEET_XML:
            read[id(self)] = read.get(id(self), 0) + len(data)
            sizes[id(self)] = self._orig_file_size  # type: ignore[attr-defined]
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    return lambda: sum(1 for key, total in read.items() if total >= sizes[key])


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


def test_a_sheet_without_formulas_is_inflated_twice_and_parsed_once(
    tmp_path: Path, passes: Callable[[], int]
) -> None:
    path = workbook(tmp_path, formula=False)

    table = xlsxfile.read_workbook(path, None, header_lookup())

    assert len(table.rows) == 50
    # openpyxl's peek for the dimensions (a sheet this small is read whole by it), one
    # byte pass (merged ranges and formula tags), one openpyxl parse; before: a second
    # byte pass, for formula tags.
    assert passes() == 3


def test_a_sheet_with_a_formula_is_parsed_a_second_time_only_for_it(
    tmp_path: Path, passes: Callable[[], int]
) -> None:
    path = workbook(tmp_path, formula=True)

    table = xlsxfile.read_workbook(path, None, header_lookup())

    assert isinstance(table.rows[0].cells[3], UncalculatedFormula)
    # The same three, and the second workbook's peek and its parse of the formulas.
    assert passes() == 5
