"""A sheet per ticket type whose name says it ("Lost", "Verloren", "Damage"): its rows
with a blank ticket_type are of that type; one run reads one sheet, so a workbook with
claims on several such sheets stops (exit 2) and says how to file them, and each
``--sheet`` run writes its own results workbook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]

from batch_claims.errors import InputError
from batch_claims.read.sheet import read_sheet
from batch_claims.report.outputs import default_results_path
from batch_claims.ticket_types import TicketType
from tests.helpers import SCALED_FLAGS, results_rows, run, tickets

Rows = list[list[Any]]
HEADER: list[Any] = ["tracking_number", "contract_type", "carrier_contract_id"]
DAMAGE: Rows = [
    HEADER,
    ["3SDMG00000001", "own_contract", 4711],
    ["3SDMG00000002", "own_contract", 4711],
]
LOST: Rows = [HEADER, ["3SLST00000001", "own_contract", 4711]]
WEEK: Rows = [HEADER, ["3SWEEK0000001", "own_contract", 4711]]


def write_book(path: Path, sheets: Mapping[str, Sequence[Sequence[Any]]], active: int = 0) -> Path:
    """A workbook written by openpyxl with ``sheets`` in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(list(row))
    workbook.active = active
    workbook.save(path)
    return path


def message(path: Path, sheet_name: str | None = None) -> str:
    with pytest.raises(InputError) as caught:
        read_sheet(path, sheet_name)
    assert caught.value.exit_code == 2
    return caught.value.message


# --- the sheet's name says the type ----------------------------------------------------


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Lost", TicketType.LOST),
        ("Verloren", TicketType.LOST),
        ("Damage", TicketType.DAMAGE),
        ("Adreswijziging", TicketType.ADDRESS_CHANGE),
        ("Livré non reçu", TicketType.DELIVERED_NOT_RECEIVED),
    ],
)
def test_a_sheet_named_by_a_type_says_its_rows_type(tmp_path: Path, title: str, kind: str) -> None:
    path = write_book(tmp_path / "book.xlsx", {title: DAMAGE})
    table = read_sheet(path)
    assert table.ticket_type is kind
    assert table.notices == (
        f'2 rows of sheet "{title}" have no ticket_type: taken as {kind} claims, '
        "as the sheet's name says",
    )


def test_a_sheet_with_another_name_says_no_type(tmp_path: Path) -> None:
    table = read_sheet(write_book(tmp_path / "book.xlsx", {"Week 47": DAMAGE}))
    assert table.ticket_type is None
    assert table.notices == ()


def test_no_notice_when_every_row_says_its_type(tmp_path: Path) -> None:
    rows: Rows = [["tracking_number", "ticket_type"], ["3SLST00000001", "lost"]]
    table = read_sheet(write_book(tmp_path / "book.xlsx", {"Lost": rows}))
    assert table.ticket_type is TicketType.LOST
    assert table.notices == ()


def test_a_row_that_says_its_type_keeps_it_on_a_type_sheet(tmp_path: Path) -> None:
    rows: Rows = [
        ["tracking_number", "ticket_type", "contract_type", "carrier_contract_id"],
        ["3SLST00000001", None, "own_contract", 4711],
        ["3SLST00000002", "damage", "own_contract", 4711],
    ]
    path = write_book(tmp_path / "book.xlsx", {"Verloren": rows})
    result = run("validate", path)
    assert result.exit_code == 0, result.output
    assert "1 row of sheet" in result.output
    sheet = openpyxl.load_workbook(path.with_name("book.results.xlsx"))["Results"]
    header = [cell.value for cell in sheet[1]]
    assert header.count("ticket_type") == 2  # ours after contract_type, then the input's
    ours = header.index("ticket_type")
    assert [line[ours] for line in sheet.iter_rows(min_row=2, values_only=True)] == [
        "lost",  # row 2: blank, the sheet's type
        "damage",  # row 3: its own
    ]


def test_the_sheet_name_beats_the_run_default(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Lost": LOST})
    result = run("validate", path, "--ticket-type", "delay")
    assert result.exit_code == 0, result.output
    (line,) = results_rows(path.with_name("book.results.xlsx"))
    assert line["ticket_type"] == "lost"
    assert (
        'sheet "Lost" names lost claims: its rows without a ticket_type are lost claims, '
        "not delay (--ticket-type and [defaults] ticket_type apply to sheets whose name "
        "names no type)"
    ) in " ".join(result.output.split())


def test_a_hidden_type_sheet_named_by_sheet_says_its_type(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    claims = workbook.active
    assert claims is not None
    claims.title = "Claims"
    for row in WEEK:
        claims.append(row)
    lost = workbook.create_sheet("Lost")
    for row in LOST:
        lost.append(row)
    lost.sheet_state = "hidden"
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    assert read_sheet(path).sheet_name == "Claims"  # hidden: never read unasked
    named = read_sheet(path, "lost")
    assert (named.sheet_name, named.ticket_type) == ("Lost", TicketType.LOST)
    assert named.notices[0] == 'read hidden sheet "Lost" (named by --sheet)'


# --- several sheets: one run reads one ---------------------------------------------------


def test_two_type_sheets_with_claims_stop_and_say_how(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Damage": DAMAGE, "Lost": LOST})
    assert message(path) == (
        'book.xlsx: 2 sheets hold claims ("Damage", "Lost"), and "Damage" (damage) and '
        '"Lost" (lost) are named by a ticket type; one run reads one sheet — run once per '
        'sheet with --sheet NAME (e.g. --sheet "Damage"; each run writes its own results '
        "workbook), or put the claims on one sheet with a ticket_type column"
    )
    result = run("validate", path)
    assert result.exit_code == 2
    assert "--sheet NAME" in result.output
    assert not path.with_name("book.results.xlsx").exists()


def test_type_sheets_beside_an_active_read_me_stop_the_run(tmp_path: Path) -> None:
    read_me: Rows = [["How to fill in this workbook"], ["One sheet per kind of claim."]]
    path = write_book(tmp_path / "book.xlsx", {"Read me": read_me, "Lost": LOST, "Damage": DAMAGE})
    assert message(path).startswith(
        'book.xlsx: 2 sheets hold claims ("Lost", "Damage"), and "Lost" (lost) and "Damage" '
        "(damage) are named by a ticket type; one run reads one sheet"
    )


def test_an_active_claims_sheet_does_not_pass_over_a_type_sheet(tmp_path: Path) -> None:
    # The active sheet holds claims, which alone would make it the one read: a type
    # sheet with claims beside it is looked at all the same, and stops the run.
    path = write_book(tmp_path / "book.xlsx", {"Claims": WEEK, "Verloren": LOST})
    assert message(path).startswith(
        'book.xlsx: 2 sheets hold claims ("Claims", "Verloren"), and "Verloren" (lost) is '
        "named by a ticket type; one run reads one sheet"
    )


def test_the_active_type_sheet_beats_an_older_week_as_before(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Week 46": WEEK, "Lost": LOST}, active=1)
    table = read_sheet(path)
    assert (table.sheet_name, table.ticket_type) == ("Lost", TicketType.LOST)
    assert table.notices[0] == (
        'read sheet "Lost" (the active sheet); passed over "Week 46" (not the active sheet)'
    )


def test_an_empty_type_sheet_is_passed_over(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Damage": [HEADER], "Lost": LOST})
    table = read_sheet(path)
    assert (table.sheet_name, table.ticket_type) == ("Lost", TicketType.LOST)
    assert table.notices[0] == (
        'read sheet "Lost" (the only sheet with claims); passed over "Damage" (no data rows)'
    )


def test_a_workbook_written_by_xlsxwriter(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    for title, rows in (("Schade", DAMAGE), ("Verloren", LOST)):
        worksheet = workbook.add_worksheet(title)
        for number, row in enumerate(rows):
            worksheet.write_row(number, 0, row)
    workbook.close()
    assert '"Schade" (damage) and "Verloren" (lost)' in message(path)
    table = read_sheet(path, "Verloren")
    assert (table.ticket_type, [row.row for row in table.rows]) == (TicketType.LOST, [2])


# --- one results workbook per type sheet ------------------------------------------------


def test_results_names_carry_a_type_sheets_name(tmp_path: Path) -> None:
    sheet = tmp_path / "week48.xlsx"
    assert default_results_path(sheet, retry=False).name == "week48.results.xlsx"
    assert default_results_path(sheet, False, "Week 48").name == "week48.results.xlsx"
    assert default_results_path(sheet, False, "Lost").name == "week48.Lost.results.xlsx"
    assert default_results_path(sheet, False, "Livré non reçu").name == (
        "week48.Livré non reçu.results.xlsx"
    )
    assert default_results_path(sheet, False, "../Lost").name == "week48.Lost.results.xlsx"
    first = tmp_path / "week48.Lost.results.xlsx"
    assert default_results_path(first, True, "Lost").name == "week48.Lost.results-2.xlsx"


def test_a_run_per_type_sheet_files_each_at_its_type(api_env: Any, tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Damage": DAMAGE, "Verloren": LOST})
    journal = tmp_path / "j.sqlite3"
    for name in ("Damage", "Verloren"):
        result = run("submit", path, "--sheet", name, "--journal", journal, *SCALED_FLAGS)
        assert result.exit_code == 0, result.output
    damage = results_rows(tmp_path / "book.Damage.results.xlsx")
    lost = results_rows(tmp_path / "book.Verloren.results.xlsx")
    assert [(line["row"], line["ticket_type"], line["status"]) for line in damage] == [
        (2, "damage", "submitted"),
        (3, "damage", "submitted"),
    ]
    assert [(line["row"], line["ticket_type"], line["status"]) for line in lost] == [
        (2, "lost", "submitted")
    ]
    assert sorted((t["type"], t["body"]["tracking_number"]) for t in tickets(api_env)) == [
        ("damage", "3SDMG00000001"),
        ("damage", "3SDMG00000002"),
        ("lost", "3SLST00000001"),
    ]


def test_retry_of_a_type_sheets_results_keeps_its_type(api_env: Any, tmp_path: Path) -> None:
    rows: Rows = [[*HEADER, "new_address"], ["3SLST00000009", "own_contract", 4711, "Main St 1"]]
    path = write_book(tmp_path / "book.xlsx", {"Lost": rows, "Damage": [HEADER]})
    journal = tmp_path / "j.sqlite3"
    result = run("submit", path, "--sheet", "Lost", "--journal", journal, *SCALED_FLAGS)
    assert result.exit_code == 1, result.output  # a lost claim has no new_address
    results = tmp_path / "book.Lost.results.xlsx"
    book = openpyxl.load_workbook(results)
    failed = book["Failed rows"]
    header = [cell.value for cell in failed[1]]
    failed.cell(2, header.index("new_address") + 1).value = None
    book.save(results)
    again = run("retry", results, "--journal", journal, *SCALED_FLAGS)
    assert again.exit_code == 0, again.output
    (line,) = results_rows(tmp_path / "book.Lost.results-2.xlsx")
    assert (line["ticket_type"], line["status"]) == ("lost", "submitted")
    assert [t["type"] for t in tickets(api_env)] == ["lost"]
