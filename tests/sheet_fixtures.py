"""Input sheets written by other writers than our reader: xlsxwriter for workbooks,
hand-written bytes for CSV. Each helper returns the path it wrote."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

from batch_claims.sheet import SheetTable, SourceRow


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
