"""How a sheet is laid out around its claims: title and instruction lines above the
header, totals and notes rows among the data, and merged cells in the data area."""

from __future__ import annotations

import string
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.columns import Variant
from batch_claims.errors import InputError
from batch_claims.read.sheet import read_sheet
from batch_claims.read.table import HEADER_SCAN_ROWS, SheetTable
from batch_claims.read.totals import NOTES_WORDS, TOTALS_WORDS, totals_label
from batch_claims.validate.rows import validate_table
from tests.sheet_fixtures import write_bytes, write_xlsx

FILES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def column(table: SheetTable, name: str) -> list[object]:
    index = table.mapping[name]
    return [row.cells[index] for row in table.rows]


# --- totals and notes rows ----------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "Total (4 parcels)",
        "Totaal: 12",
        "Totalen",
        "Summe",
        "Gesamt",
        "Gesamtsumme",
        "Sous-total",
        "Total général",
        "Subtotal",
        "Sub-total",
        "SUB TOTAL:",
        "Grand total",
        "Suma",
        "Subtotaal",
        "Totale",
        "TOTAL",
        "total.",
        "Total 35,00",
        "Total € 35",
        "Total EUR 35",
        "Zwischensumme = 3",
        "Notes: see e-mail",
        "N.B. rows 4-6 were sent twice",
        "Opmerking: zie mail",
    ],
)
def test_totals_and_notes_labels(label: str) -> None:
    assert totals_label(label)


@pytest.mark.parametrize(
    "text",
    ["Total loss", "Totalschaden", "Totals for week 12", "Summary", "Notebook", "TOTAL12"],
)
def test_words_that_go_on_are_no_labels(text: str) -> None:
    assert not totals_label(text)


@given(
    st.sampled_from(TOTALS_WORDS + NOTES_WORDS),
    st.sampled_from(["", ":", ": 12", " (3 parcels)", " 35,00", " = 7", "!"]),
    st.sampled_from([str.upper, str.lower, str.title, str.capitalize]),
)
def test_every_word_is_a_label_in_any_case_with_what_follows_it(
    word: str, tail: str, case: object
) -> None:
    assert callable(case)
    assert totals_label(case(word) + tail)


TRACKING_LIKE = st.from_regex(r"[A-Za-z0-9]{0,8}[0-9][A-Za-z0-9\-./_]{2,30}", fullmatch=True)


@given(TRACKING_LIKE)
def test_a_tracking_number_is_never_a_totals_label(tracking: str) -> None:
    assert not totals_label(tracking)


@given(
    st.sampled_from(TOTALS_WORDS + NOTES_WORDS),
    st.from_regex(r"[0-9][A-Z0-9]{3,20}", fullmatch=True),
)
def test_a_tracking_number_that_starts_like_a_word_is_never_a_label(word: str, digits: str) -> None:
    tracking = word.replace(" ", "").upper() + digits
    assert not totals_label(tracking)


def test_subtotals_between_groups_and_a_labelled_total_are_ignored(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "groups.xlsx",
        [
            ["Tracking", "Sales value", "Currency"],
            ["3SABC0000001", 10, "EUR"],
            ["Subtotal", 10, None],
            ["3SABC0000002", 20, "EUR"],
            [None, None, None],
            ["Sub-total (1 parcel)", 20, None],
            ["Totaal: 12", 30, None],
        ],
    )
    table = read_sheet(path)
    assert column(table, "tracking_number") == ["3SABC0000001", "3SABC0000002"]
    assert table.skipped_rows == (3, 6, 7)
    assert table.notices == (
        'rows 3, 6 and 7 are totals or notes rows ("Subtotal", "Sub-total (1 parcel)", '
        '"Totaal: 12") and were ignored',
    )
    assert all(outcome.errors == () for outcome in validate_table(table, Variant.OWN_CONTRACT))


def test_a_label_in_the_first_filled_cell_when_the_tracking_cell_is_blank(
    tmp_path: Path,
) -> None:
    text = (
        "Datum;Tracking;Verkoopwaarde\n"
        "1-3;3SX0000001;10\n"
        "Zwischensumme;;10\n"
        ";3SX0000002;5\n"
        ";Summe: 2;15\n"
        ";;Total loss of one mug\n"
        ";3SX0000003;7\n"
    )
    table = read_sheet(write_bytes(tmp_path / "week.csv", text.encode()))
    assert column(table, "tracking_number") == ["3SX0000001", "3SX0000002", None, "3SX0000003"]
    assert table.notices[-1] == (
        'rows 3 and 5 are totals or notes rows ("Zwischensumme", "Summe: 2") and were ignored'
    )


def test_one_totals_row_reads_as_one(tmp_path: Path) -> None:
    table = read_sheet(
        write_bytes(
            tmp_path / "t.csv", b"tracking,remarks\n3SX0000001,a\n3SX0000002,b\nGrand total,\n"
        )
    )
    assert table.notices == ('row 4 is a totals or notes row ("Grand total") and was ignored',)


# --- the header below any title or instruction lines --------------------------------------

WORDS = ["Damage", "claims", "week", "12", "please", "fill", "in", "one", "row", "per", "box"]
TITLE_TEXT = st.one_of(st.just(""), st.lists(st.sampled_from(WORDS), min_size=2).map(" ".join))


@FILES
@given(st.integers(0, 120), st.data())
def test_any_number_of_title_lines_above_the_header(
    tmp_path_factory: pytest.TempPathFactory, lines: int, data: st.DataObject
) -> None:
    titles = [[data.draw(TITLE_TEXT)] for _ in range(lines)]
    rows = [*titles, ["Tracking", "Remarks"], ["3SABC0000001", "dented"]]
    folder = tmp_path_factory.mktemp("titles")
    table = read_sheet(write_xlsx(folder / "titles.xlsx", rows))
    assert table.header_row == lines + 1
    assert [(row.row, row.cells) for row in table.rows] == [(lines + 2, ("3SABC0000001", "dented"))]
    csv_text = (
        "".join(f'"{row[0]}"\n' for row in titles) + "Tracking;Remarks\n3SABC0000001;dented\n"
    )
    table = read_sheet(write_bytes(folder / "titles.csv", csv_text.encode()))
    assert table.header_row == lines + 1
    assert column(table, "tracking_number") == ["3SABC0000001"]


def test_the_header_on_the_last_row_scanned_and_one_row_too_far(tmp_path: Path) -> None:
    titles = [[f"instruction {n}"] for n in range(HEADER_SCAN_ROWS - 1)]
    path = write_xlsx(tmp_path / "long.xlsx", [*titles, ["Tracking"], ["3SABC0000001"]])
    assert read_sheet(path).header_row == HEADER_SCAN_ROWS
    path = write_xlsx(tmp_path / "longer.xlsx", [*titles, ["x"], ["Tracking"], ["3SABC0000001"]])
    with pytest.raises(InputError) as caught:
        read_sheet(path)
    assert caught.value.message.startswith(
        "longer.xlsx: no header row with a tracking number column found in the first 1,000 "
        'rows of sheet "Claims" (looked for: tracking_number,'
    )
    text = "".join(f"line {n}\n" for n in range(HEADER_SCAN_ROWS)) + "Tracking\n3SABC0000001\n"
    with pytest.raises(InputError) as caught:
        read_sheet(write_bytes(tmp_path / "long.csv", text.encode()))
    assert caught.value.message.startswith(
        "long.csv: no header row with a tracking number column found in the first 1,000 rows "
        "(looked for: tracking_number,"
    )


def test_a_lone_tracking_column_on_row_1_keeps_its_rows(tmp_path: Path) -> None:
    rows = [["Tracking number"], *[[f"3SABC{n}"] for n in range(1, 40)]]
    table = read_sheet(write_xlsx(tmp_path / "lone.xlsx", rows))
    assert table.header_row == 1
    assert [row.row for row in table.rows] == list(range(2, 41))
    table = read_sheet(write_bytes(tmp_path / "lone.csv", b"awb\n3SX0000001\nawb\n3SX0000002\n"))
    assert table.header_row == 1
    assert column(table, "tracking_number") == ["3SX0000001", "awb", "3SX0000002"]


# --- merged cells in the data area ---------------------------------------------------------


def merged_book(path: Path, rows: list[list[object]], merges: list[str]) -> Path:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = "Claims"
    for row in rows:
        worksheet.append(row)
    for ref in merges:
        worksheet.merge_cells(ref)
    workbook.save(path)
    return path


def test_values_merged_down_belong_to_every_row(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Tracking", "Contract type", "Description", "Remarks"],
        ["3SABC0000001", "sendcloud_rates", "Mugs, set of 6", "dented"],
        ["3SABC0000002", None, None, "torn"],
        ["3SABC0000003", None, None, None],
        ["3SABC0000004", "own_contract", "Books", None],
    ]
    path = merged_book(tmp_path / "m.xlsx", rows, ["B2:B4", "C2:C4"])
    table = read_sheet(path)
    assert column(table, "contract_type") == ["sendcloud_rates"] * 3 + ["own_contract"]
    assert column(table, "contents_description") == ["Mugs, set of 6"] * 3 + ["Books"]
    assert column(table, "additional_remarks") == ["dented", "torn", None, None]


def test_a_value_merged_across_belongs_to_its_first_column(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Tracking", "Description", "Remarks", "Extra"],
        ["3SABC0000001", "Mugs and plates, all broken", "hidden", None],
        ["3SABC0000002", "Books", "x", None],
    ]
    path = merged_book(tmp_path / "m.xlsx", rows, ["B2:C2"])
    table = read_sheet(path)
    assert column(table, "contents_description") == ["Mugs and plates, all broken", "Books"]
    assert column(table, "additional_remarks") == [None, "x"]


def test_a_block_merged_down_and_across_and_a_merged_totals_label(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Tracking", "Description", "Remarks", "Sales value"],
        ["3SABC0000001", "Same box", None, 5],
        ["3SABC0000002", None, None, 6],
        ["Total", None, None, 11],
    ]
    path = merged_book(tmp_path / "m.xlsx", rows, ["B2:C3", "A4:C4"])
    table = read_sheet(path)
    assert [row.cells for row in table.rows] == [
        ("3SABC0000001", "Same box", None, 5),
        ("3SABC0000002", "Same box", None, 6),
    ]
    assert table.notices == ('row 4 is a totals or notes row ("Total") and was ignored',)


@FILES
@given(st.integers(2, 5), st.integers(1, 6), st.integers(0, 2), st.data())
def test_any_vertical_merge_span(
    tmp_path_factory: pytest.TempPathFactory,
    first: int,
    span: int,
    across: int,
    data: st.DataObject,
) -> None:
    """A description merged over ``span`` rows from row ``first`` (and ``across`` more
    columns) reaches exactly those rows, in its own column only."""
    parcels = 10
    rows: list[list[object]] = [["Tracking", "Description", "Remarks", "Extra"]]
    rows += [[f"3SABC{n}", None, None, None] for n in range(1, parcels + 1)]
    text = data.draw(st.text(alphabet=string.ascii_letters + " ", min_size=1).map(str.strip))
    text = text or "box"
    rows[first - 1][1] = text
    last = first + span - 1
    ref = f"B{first}:{'BCD'[across]}{last}"
    folder = tmp_path_factory.mktemp("merge")
    table = read_sheet(merged_book(folder / "span.xlsx", rows, [ref]))
    expected = [text if first <= row.row <= last else None for row in table.rows]
    assert column(table, "contents_description") == expected
    assert column(table, "additional_remarks") == [None] * parcels
    assert [row.row for row in table.rows] == list(range(2, parcels + 2))


def test_a_merged_header_block_stays_the_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Tracking number", "Amounts", None, "Remarks"],
        [None, "Sales value", "Currency", None],
        ["3SABC0000001", 10, "EUR", "dented"],
        ["3SABC0000002", 20, None, None],
    ]
    path = merged_book(tmp_path / "m.xlsx", rows, ["A1:A2", "B1:C1", "D1:D2", "C3:C4"])
    table = read_sheet(path)
    assert table.headers == ("Tracking number", "Sales value", "Currency", "Remarks")
    assert column(table, "currency") == ["EUR", "EUR"]
    assert column(table, "additional_remarks") == ["dented", None]
