"""Which sheet of a workbook is read without --sheet: hidden sheets never, the active
sheet first, legends and empty tables passed over, never a guess between two."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from click.testing import CliRunner, Result

from batch_claims.cli import cli
from batch_claims.columns import COLUMNS
from batch_claims.errors import InputError
from batch_claims.read.sheet import read_sheet

CLAIMS = [["Tracking number", "Remarks"], ["3SABC0000001", "dented"], ["3SABC0000002", "torn"]]
OTHER_CLAIMS = [["Tracking", "Sales value", "Currency"], ["3SXYZ9", 12, "EUR"]]
READ_ME = [["How to fill in this workbook"], ["One row per damaged parcel."]]


def write_book(
    path: Path,
    sheets: Mapping[str, Sequence[Sequence[Any]]],
    *,
    active: int = 0,
    states: Mapping[str, str] | None = None,
) -> Path:
    """A workbook written by openpyxl: ``sheets`` in order, ``states`` maps a sheet to
    "hidden" or "veryHidden", ``active`` is the index of the active sheet."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(list(row))
        worksheet.sheet_state = (states or {}).get(title, "visible")  # type: ignore[assignment]
    workbook.active = active
    workbook.save(path)
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def message(path: Path, sheet_name: str | None = None) -> str:
    with pytest.raises(InputError) as caught:
        read_sheet(path, sheet_name)
    assert caught.value.exit_code == 2
    assert "\n" not in caught.value.message
    return caught.value.message


# --- hidden sheets -------------------------------------------------------------------


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_sheets_are_never_read(tmp_path: Path, state: str) -> None:
    path = write_book(
        tmp_path / "book.xlsx",
        {"Old": OTHER_CLAIMS, "Claims": CLAIMS},
        active=1,
        states={"Old": state},
    )
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.notices == ('read sheet "Claims" (the active sheet); passed over "Old" (hidden)',)


def test_a_hidden_sheet_is_read_when_named(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "book.xlsx",
        {"Claims": CLAIMS, "Lists": OTHER_CLAIMS},
        states={"Lists": "veryHidden"},
    )
    table = read_sheet(path, "Lists")
    assert table.sheet_name == "Lists"
    assert [row.cells[0] for row in table.rows] == ["3SXYZ9"]
    assert table.notices == ('read hidden sheet "Lists" (named by --sheet)',)


def test_a_header_only_on_a_hidden_sheet_is_no_header(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "book.xlsx",
        {"Read me": READ_ME, "Data": CLAIMS},
        states={"Data": "hidden"},
    )
    assert message(path).startswith(
        'book.xlsx: no header row with a tracking number column found in sheet "Read me" '
        '(hidden sheets are read only with --sheet: "Data") (looked for: tracking_number,'
    )


def test_hidden_and_active_sheets_written_by_xlsxwriter(tmp_path: Path) -> None:
    path = tmp_path / "xw.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    for title, rows in {"Week 12": OTHER_CLAIMS, "Week 13": CLAIMS, "Codes": CLAIMS}.items():
        worksheet = workbook.add_worksheet(title)
        for r, row in enumerate(rows):
            worksheet.write_row(r, 0, row)
        if title == "Week 13":
            worksheet.activate()
        if title == "Codes":
            worksheet.hide()
    workbook.close()
    table = read_sheet(path)
    assert table.sheet_name == "Week 13"
    assert table.notices == (
        'read sheet "Week 13" (the active sheet); passed over "Week 12" (not the active '
        'sheet); "Codes" (hidden)',
    )


# --- the active sheet, and never a guess ------------------------------------------------


def test_the_active_sheet_is_preferred(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "book.xlsx", {"Week 12": OTHER_CLAIMS, "Week 13": CLAIMS}, active=1
    )
    assert read_sheet(path).sheet_name == "Week 13"
    path = write_book(
        tmp_path / "book.xlsx", {"Week 12": OTHER_CLAIMS, "Week 13": CLAIMS}, active=0
    )
    assert read_sheet(path).sheet_name == "Week 12"


def test_two_sheets_with_claims_and_neither_active_stop_the_run(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "book.xlsx",
        {"Instructions": READ_ME, "Week 12": OTHER_CLAIMS, "Week 13": CLAIMS},
        active=0,
    )
    assert message(path) == (
        'book.xlsx: 2 sheets hold claims ("Week 12", "Week 13") and the active sheet, '
        '"Instructions", is none of them; name the one to read with --sheet NAME'
    )
    assert read_sheet(path, "Week 13").sheet_name == "Week 13"


def test_the_only_sheet_with_claims_is_read_whatever_the_active_sheet(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Instructions": READ_ME, "Claims": CLAIMS})
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.notices == (
        'read sheet "Claims" (the only sheet with claims); passed over "Instructions" '
        "(no header row with a tracking number column)",
    )


def test_a_sheet_with_a_broken_header_is_never_skipped_for_another(tmp_path: Path) -> None:
    broken = [["Tracking", "Tracking number", "Remarks"], ["3SABC0000001", "3SABC0000001", "x"]]
    path = write_book(
        tmp_path / "book.xlsx", {"Read me": READ_ME, "Week 13": broken, "Week 12": CLAIMS}
    )
    assert message(path) == (
        'book.xlsx, sheet "Week 13": the headers "Tracking" and "Tracking number" both mean '
        "tracking_number; keep one of them or rename the other"
    )


# --- legends, lone tracking-number columns and empty tables --------------------------------


def test_a_legend_listing_the_columns_one_per_row_is_no_claims_table(tmp_path: Path) -> None:
    legend = [["Column", "Meaning"], *[[c.name, c.help] for c in COLUMNS]]
    path = write_book(tmp_path / "book.xlsx", {"Columns": legend, "Claims": CLAIMS})
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.notices == (
        'read sheet "Claims" (the only sheet with claims); passed over "Columns" '
        "(a list of column names, no claims)",
    )


def test_a_legend_with_a_few_words_per_row_is_no_claims_table(tmp_path: Path) -> None:
    legend = [
        ["Tracking number", "required", "the parcel's tracking number"],
        ["Sales value", "optional", "e.g. 12.50"],
        ["Currency", "optional", "EUR, GBP or USD"],
    ]
    lone = [["Tracking"], ["3SABC0000007"], ["3SABC0000008"]]
    path = write_book(tmp_path / "book.xlsx", {"Legend": legend, "Parcels": lone})
    table = read_sheet(path)
    assert table.sheet_name == "Parcels"
    assert [row.cells[0] for row in table.rows] == ["3SABC0000007", "3SABC0000008"]
    assert table.notices == (
        'read sheet "Parcels" (the only sheet with data rows); passed over "Legend" '
        "(a list of column names, no claims)",
    )


def test_a_legend_above_the_header_on_the_same_sheet_is_skipped(tmp_path: Path) -> None:
    rows = [
        ["Fill in one row per parcel. Columns:"],
        ["Tracking number", "the parcel's tracking number, as text"],
        ["Remarks", "what happened"],
        [],
        ["Tracking number", "Remarks"],
        ["3SABC0000001", "dented"],
    ]
    path = write_book(tmp_path / "book.xlsx", {"Claims": rows})
    table = read_sheet(path)
    assert table.header_row == 5
    assert [(row.row, row.cells) for row in table.rows] == [(6, ("3SABC0000001", "dented"))]


def test_a_lone_tracking_number_column_gives_way_to_a_claims_table(tmp_path: Path) -> None:
    lone = [["AWB"], ["00340434161094015"]]
    path = write_book(
        tmp_path / "book.xlsx", {"Read me": READ_ME, "Parcels": lone, "Claims": CLAIMS}
    )
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.notices == (
        'read sheet "Claims" (the only sheet with claims); passed over "Read me" (no header '
        'row with a tracking number column); "Parcels" (its header names no known column '
        "besides the tracking number)",
    )


def test_a_legend_row_naming_the_tracking_column_twice_is_passed_over(tmp_path: Path) -> None:
    legend = [["Tracking", "AWB", "Track & Trace"], ["all three mean the tracking number"]]
    path = write_book(tmp_path / "book.xlsx", {"Aliases": legend, "Claims": CLAIMS})
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.notices[0].startswith(
        'read sheet "Claims" (the only sheet with claims); passed over "Aliases" '
        '(the headers "Tracking" and "AWB" both mean tracking_number'
    )


def test_a_table_without_data_rows_is_passed_over(tmp_path: Path) -> None:
    template = [["tracking_number", "contents_description", "currency"]]
    path = write_book(tmp_path / "book.xlsx", {"Template": template, "Week 12": OTHER_CLAIMS})
    table = read_sheet(path)
    assert table.sheet_name == "Week 12"
    assert table.notices == (
        'read sheet "Week 12" (the only sheet with claims); passed over "Template" (no data rows)',
    )


def test_empty_tables_only_the_active_one_is_read(tmp_path: Path) -> None:
    empty = [["Tracking", "Remarks"]]
    path = write_book(tmp_path / "book.xlsx", {"A": empty, "B": empty}, active=1)
    table = read_sheet(path)
    assert (table.sheet_name, table.rows) == ("B", ())


# --- through the CLI ------------------------------------------------------------------------


def test_validate_asks_for_sheet_when_two_sheets_hold_claims(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "book.xlsx",
        {"Instructions": READ_ME, "Week 12": OTHER_CLAIMS, "Week 13": CLAIMS},
    )
    result = run("validate", path, "--photos", tmp_path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert '2 sheets hold claims ("Week 12", "Week 13")' in result.output
    assert "--sheet NAME" in result.output
    assert not (tmp_path / "book.results.xlsx").exists()


def test_validate_says_which_sheet_it_read_and_keeps_it_in_the_summary(tmp_path: Path) -> None:
    own = [["Tracking number", "Contract type"], ["3SABC0000001", "own_contract"]]
    path = write_book(
        tmp_path / "book.xlsx",
        {"Columns": [["tracking_number"], ["contract_type"]], "Claims": own, "Old": own},
        active=1,
        states={"Old": "hidden"},
    )
    out = tmp_path / "out.xlsx"
    result = run("validate", path, "--photos", tmp_path, "--out", out)
    notice = (
        'read sheet "Claims" (the active sheet); passed over "Columns" (not the active '
        'sheet); "Old" (hidden)'
    )
    assert result.exit_code == 0, result.output
    assert 'read book.xlsx, sheet "Claims": header on row 1, 1 data rows' in result.output
    assert notice in result.output
    summary = openpyxl.load_workbook(out)["Summary"]
    assert notice in [row[1] for row in summary.iter_rows(values_only=True)]
