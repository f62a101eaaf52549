"""The blank input workbook, generated from ``columns.py`` and ``ticket_types.py``
(``batch-claims template``).

Sheets: ``Claims`` (first, so it is the sheet read by default: one sheet for every
ticket type, with a ``ticket_type`` column), ``Ticket types`` (per type what it is for,
the contracts it accepts and per contract the columns to fill and the documents to
attach: ``guidance``), ``Columns`` (what each column means, which types use it and which
need it) and ``Instructions``. Each header of ``Claims`` has a note saying the same per
column. Row 2 of ``Claims`` is an example claim in italic grey (``columns.EXAMPLE_ROW``);
the reader skips it if the user leaves it in.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from batch_claims.columns import (
    COLUMNS,
    CONTRACT_TYPE,
    EXAMPLE_ROW,
    EXAMPLE_TRACKING_NUMBER,
    TRACKING_NUMBER,
    Column,
    Kind,
    Variant,
)
from batch_claims.currency import CURRENCIES
from batch_claims.report.atomic import atomic_save, atomic_write_bytes
from batch_claims.report.guidance import TYPES_HEADERS, needed_by, type_rows, used_by
from batch_claims.ticket_types import TYPES, TicketType
from batch_claims.validate.attachments import MAX_FILE_SIZE
from batch_claims.validate.filetypes import ALLOWED_CONTENT_TYPES

CLAIMS_SHEET = "Claims"
TYPES_SHEET = "Ticket types"
COLUMNS_SHEET = "Columns"
INSTRUCTIONS_SHEET = "Instructions"
LAST_INPUT_ROW = 1000
EXAMPLE_ROW_NUMBER = 2
BOOLEAN_CHOICES = ("yes", "no")

BOLD = Font(bold=True)
REQUIRED_FILL = PatternFill(fill_type="solid", start_color="FFFFF2CC", end_color="FFFFF2CC")
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
EXAMPLE_FONT = Font(italic=True, color="FF808080")
EXAMPLE_NOTE = (
    "Example row: it shows how a claim is filled in. Type your claims below it, or over "
    f"it; a row with the tracking number {EXAMPLE_TRACKING_NUMBER} is skipped when the "
    "sheet is read."
)

ACCEPTED_VALUES: dict[Kind, str] = {
    Kind.TRACKING: "text (keep leading zeros; the column is formatted as Text)",
    Kind.CONTRACT_TYPE: ", ".join(v.value for v in Variant),
    Kind.INTEGER: "a whole number",
    Kind.BOOLEAN: "yes/no, true/false, 1/0; blank = no",
    Kind.AMOUNT: "a number: 10.55, 10,55, € 1.234,56 or 1,234.56",
    Kind.CURRENCY: ", ".join(CURRENCIES) + " (€, £, $ accepted)",
    Kind.TEXT: "text",
    Kind.DOCUMENT: "a file path relative to the photos folder, or blank to look for "
    "<tracking_number>/<column>.* or <tracking_number>_<column>.*",
    Kind.TICKET_TYPE: ", ".join(t.value for t in TicketType) + "; blank = damage",
    Kind.DIMENSION: "centimetres: a number above 0, such as 40 or 12.5",
    Kind.DIMENSIONS: "length x width x height in centimetres, such as 40x30x20",
    Kind.DATE: "a date, such as 2026-11-23 or 23-11-2026",
}

WIDTHS: dict[Kind, int] = {
    Kind.TRACKING: 22,
    Kind.CONTRACT_TYPE: 18,
    Kind.INTEGER: 20,
    Kind.BOOLEAN: 16,
    Kind.AMOUNT: 22,
    Kind.CURRENCY: 24,
    Kind.TEXT: 36,
    Kind.DOCUMENT: 26,
    Kind.TICKET_TYPE: 26,
    Kind.DIMENSION: 14,
    Kind.DIMENSIONS: 18,
    Kind.DATE: 14,
}


def write_template(path: Path) -> None:
    """Write the blank input workbook to ``path`` atomically; a ``.csv`` path gets the
    header row as CSV (UTF-8 with a BOM, so Excel opens it with its accents)."""
    if path.suffix.lower() == ".csv":
        _write_csv(path)
        return
    workbook = Workbook()
    claims = workbook.active
    assert claims is not None
    claims.title = CLAIMS_SHEET
    _write_claims(claims)
    _write_types(workbook.create_sheet(TYPES_SHEET))
    _write_columns(workbook.create_sheet(COLUMNS_SHEET))
    _write_instructions(workbook.create_sheet(INSTRUCTIONS_SHEET))
    atomic_save(workbook, path)


def _write_csv(path: Path) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(column.name for column in COLUMNS)
    atomic_write_bytes(path, ("\ufeff" + buffer.getvalue()).encode("utf-8"))


def _required_anywhere(column: Column) -> bool:
    return any(
        variant in spec.contracts and column.name in (TRACKING_NUMBER, *spec.required(variant))
        for spec in TYPES.values()
        for variant in Variant
    )


def _write_claims(sheet: Worksheet) -> None:
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(1, index, column.name)
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if _required_anywhere(column) else HEADER_FILL
        comment = Comment(_header_note(column), "batch-claims")
        comment.width = 360
        comment.height = 200
        cell.comment = comment
        sheet.column_dimensions[letter].width = max(WIDTHS[column.kind], len(column.name) + 2)
        if column.name == TRACKING_NUMBER:
            sheet.column_dimensions[letter].number_format = "@"
        choices = _choices(column)
        if choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=column.name[:32],
                error=f"Expected one of: {', '.join(choices)}",
                showInputMessage=True,
                promptTitle=column.name[:32],
                prompt=_prompt(column),
            )
            validation.add(f"{letter}2:{letter}{LAST_INPUT_ROW}")
            sheet.add_data_validation(validation)
    _write_example(sheet)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}1"


def _write_example(sheet: Worksheet) -> None:
    for index, column in enumerate(COLUMNS, start=1):
        text = EXAMPLE_ROW.get(column.name, "")
        value: str | int | float | None = text or None
        if text and column.kind is Kind.AMOUNT:
            value = float(text)
        elif text and column.kind is Kind.INTEGER:
            value = int(text)
        cell = sheet.cell(EXAMPLE_ROW_NUMBER, index, value)
        cell.font = EXAMPLE_FONT
        if column.name == TRACKING_NUMBER:
            cell.number_format = "@"
            note = Comment(EXAMPLE_NOTE, "batch-claims")
            note.width = 300
            note.height = 100
            cell.comment = note


def _choices(column: Column) -> tuple[str, ...]:
    if column.name == CONTRACT_TYPE:
        return tuple(v.value for v in Variant)
    if column.kind is Kind.TICKET_TYPE:
        return tuple(t.value for t in TicketType)
    if column.kind is Kind.BOOLEAN:
        return BOOLEAN_CHOICES
    if column.kind is Kind.CURRENCY:
        return CURRENCIES
    return ()


def _header_note(column: Column) -> str:
    """The header's note: its meaning, the types that use it and those that need it."""
    return (
        f"{column.help}\n"
        f"Used by: {used_by(column.name)}.\n"
        f"{needed_by(column.name)}.\n"
        f"See the '{TYPES_SHEET}' sheet for what each type needs."
    )


def _prompt(column: Column) -> str:
    """The dropdown's prompt (Excel allows 255 characters)."""
    text = f"{column.help} See the '{TYPES_SHEET}' sheet."
    return text if len(text) <= 255 else column.help[:254] + "…"


def _write_types(sheet: Worksheet) -> None:
    """One row per ticket type (``guidance.type_rows``) and how a row's type is known."""
    sheet.append(TYPES_HEADERS)
    for cell in sheet[1]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for values in type_rows():
        sheet.append(values)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = WRAP
        cells[0].font = BOLD
    notes = (
        "A row's type is its ticket_type cell (any word in the last column works too); "
        "when blank, the type the sheet's name says (a sheet named Lost holds lost "
        "claims), else the run's --ticket-type or configured default, else damage.",
        "Fill: the row is invalid without these. Attach: the documents it must have (a "
        "path in the cell, or a file named by the convention in Instructions). Optional: "
        "filled or blank; a value in a column the type does not use is an error.",
        "Any type may also fill shipped_at and delivered_at (optional dates): they tell "
        "whether a claim is filed within the window Sendcloud recommends for its type.",
    )
    sheet.append(())
    for note in notes:
        sheet.append((note,))
        sheet.merge_cells(
            start_row=sheet.max_row,
            end_row=sheet.max_row,
            start_column=1,
            end_column=len(TYPES_HEADERS),
        )
        sheet.cell(sheet.max_row, 1).alignment = WRAP
        sheet.row_dimensions[sheet.max_row].height = 32
    for letter, width in zip("ABCDEF", (26, 40, 22, 55, 55, 45), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "B2"


def _write_columns(sheet: Worksheet) -> None:
    headers = (
        "column",
        "used by",
        "required for",
        "meaning",
        "accepted values",
        "also recognised as header",
    )
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = BOLD
    for column in COLUMNS:
        sheet.append(
            (
                column.name,
                used_by(column.name),
                needed_by(column.name),
                column.help,
                ACCEPTED_VALUES[column.kind],
                ", ".join(column.aliases),
            )
        )
    for letter, width in zip("ABCDEF", (28, 30, 40, 60, 45, 45), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
    sheet.freeze_panes = "A2"


def _write_instructions(sheet: Worksheet) -> None:
    limit_mb = MAX_FILE_SIZE // (1024 * 1024)
    types = ", ".join(t.value for t in TicketType)
    lines = (
        ("How to fill in this workbook", True),
        (
            "1. One row per claim in the Claims sheet, whatever its kind; keep the header "
            "row. Row 2 (italic, grey) is an example: type over it or below it; it is "
            "never filed.",
            False,
        ),
        (
            f"2. ticket_type: what the claim is ({types}). Blank means damage. The "
            f"'{TYPES_SHEET}' sheet says when to choose each type, which contract types "
            "it accepts, and per contract type the columns to fill and the documents to "
            "attach. One parcel may have claims of two types (an address change, later "
            "damage), on two rows; never two of one type.",
            False,
        ),
        (
            "3. contract_type: own_contract (your own carrier contract) or sendcloud_rates "
            "(shipped with Sendcloud rates). Blank: own_contract when carrier_contract_id "
            "is set, else the configured default. Some types take one contract type only "
            "(delay: Sendcloud rates; late-delivery: own contract).",
            False,
        ),
        (
            "4. Leave a column blank when the row's type does not use it: a value there is "
            "an error naming the type (the note on each header says which types use it "
            "and which need it).",
            False,
        ),
        (
            "5. Type tracking numbers as text: the column is formatted as Text so leading "
            "zeros are kept.",
            False,
        ),
        ("", False),
        ("Why one sheet for every type", True),
        (
            "All claims go on the one Claims sheet with a ticket_type column: one sheet is "
            "easier to fill, sort and filter (by ticket_type, by date), is checked and "
            "filed in one run with one results workbook, and keeps a parcel's claims side "
            "by side. A sheet per type works too: name each sheet by its type (Damage, "
            "Lost, Verloren, ...): its rows with a blank ticket_type take that type. One "
            "run reads one sheet, so run batch-claims once per sheet with --sheet NAME; "
            "each run writes <workbook>.<sheet>.results.xlsx.",
            False,
        ),
        ("", False),
        ("Documents and photos", True),
        (
            "Put the files in one photos folder and pass it with --photos DIR. For each "
            "document column, either type the file's path relative to that folder in the "
            "cell, or leave the cell blank and name the file by the convention:",
            False,
        ),
        ("    <tracking_number>/<column>.*   e.g. 3SABC123/damage_photo_1.jpg", False),
        ("    <tracking_number>_<column>.*   e.g. 3SABC123_damage_photo_1.jpg", False),
        (
            f"Each file must be inside the photos folder, at most {limit_mb} MB, and one of "
            "the file types the Sendcloud upload accepts (judged from its contents, not "
            "its name):",
            False,
        ),
        ("    " + ", ".join(ALLOWED_CONTENT_TYPES), False),
        (
            "That is: photos (JPEG, PNG, GIF, WEBP, HEIC, ...), videos, PDF, text, Word, "
            "Excel, PowerPoint and OpenDocument files. ZIP archives and programs are refused.",
            False,
        ),
        ("", False),
        ("Checking and sending", True),
        (
            "batch-claims validate CLAIMS.xlsx --photos DIR   (checks everything, sends nothing)",
            False,
        ),
        ("batch-claims submit CLAIMS.xlsx --photos DIR     (creates the tickets)", False),
        (
            "The results workbook lists each row's ticket or why it has none; fix the cells "
            "in its 'Failed rows' sheet and run: batch-claims retry RESULTS.xlsx --photos DIR",
            False,
        ),
    )
    for text, heading in lines:
        sheet.append((text,))
        cell = sheet.cell(sheet.max_row, 1)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if heading:
            cell.font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 110
