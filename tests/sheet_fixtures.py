"""Input sheets written by other writers than our reader: xlsxwriter for workbooks,
hand-written bytes for CSV. Each helper returns the path it wrote."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

from batch_claims.read.table import SheetTable, SourceRow


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    sheet: str = "Claims",
    formats: dict[int, str] | None = None,
    before: Sequence[str] = (),
) -> Path:
    """A workbook whose sheet ``sheet`` holds ``rows`` from A1; ``formats`` maps a column
    index to a number format; ``before`` names empty sheets placed in front."""
    workbook = xlsxwriter.Workbook(str(path))
    for name in before:
        workbook.add_worksheet(name).write(0, 0, "nothing here")
    worksheet = workbook.add_worksheet(sheet)
    styles = {
        index: workbook.add_format({"num_format": fmt}) for index, fmt in (formats or {}).items()
    }
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            style = styles.get(c)
            if value is None:
                continue
            if isinstance(value, str) and value.startswith("="):
                continue  # use write_formula explicitly
            if isinstance(value, str):
                worksheet.write_string(r, c, value, style)
            else:
                worksheet.write(r, c, value, style)
    workbook.close()
    return path


def write_formula_xlsx(path: Path) -> Path:
    """A header and one row whose amount is a formula with a cached result."""
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet("Claims")
    worksheet.write_row(0, 0, ["Tracking", "Sales value", "Currency", "Tracking copy"])
    worksheet.write_string(1, 0, "3SABC1")
    worksheet.write_formula(1, 1, "=10.1+2.2", None, 12.299999999999999)
    worksheet.write_string(1, 2, "EUR")
    worksheet.write_formula(2, 0, '="3SA"&"BC2"', None, "3SABC2")
    workbook.close()
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    mapping: dict[str, int] | None = None,
    first_row: int = 2,
) -> SheetTable:
    """A SheetTable built in memory; headers are canonical names unless ``mapping``."""
    if mapping is None:
        mapping = {name: index for index, name in enumerate(headers)}
    return SheetTable(
        source=Path("claims.xlsx"),
        sheet_name="Claims",
        header_row=first_row - 1,
        headers=tuple(headers),
        mapping=mapping,
        rows=tuple(SourceRow(first_row + index, tuple(cells)) for index, cells in enumerate(rows)),
    )


def write_merged_xlsx(path: Path, layout: str) -> Path:
    """Workbooks with merged header cells, as finance teams make them.

    ``group``: a two-row header: "Tracking number" and "Remarks" merged down over both
    rows, "Amounts" merged across two columns above "Sales value" and "Currency".
    ``across``: one header row whose "Photos" cell is merged across two columns, under a
    merged title row.
    """
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Claims")
    bold = workbook.add_format({"bold": True, "align": "center"})
    if layout == "group":
        sheet.merge_range("A1:A2", "Tracking number", bold)
        sheet.merge_range("B1:C1", "Amounts", bold)
        sheet.merge_range("D1:D2", "Remarks", bold)
        sheet.write_string("B2", "Sales value", bold)
        sheet.write_string("C2", "Currency", bold)
        sheet.write_row("A3", ["3SABC1", "12,50", "EUR", "dented"])
        sheet.write_row("A4", ["3SABC2", 8, "GBP", "torn"])
    else:
        sheet.merge_range("A1:E1", "Damage claims, week 12", bold)
        sheet.write_string("A3", "Tracking", bold)
        sheet.merge_range("B3:C3", "Photos", bold)
        sheet.write_row("D3", ["Remarks", "Sales value"], bold)
        sheet.write_row("A4", ["3SABC1", "a/front.jpg", "a/back.jpg", "dented", 12])
    workbook.close()
    return path
