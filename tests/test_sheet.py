"""The reader: workbooks written by xlsxwriter and CSV bytes written by hand."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_claims.columns import COLUMNS, EXAMPLE_TRACKING_NUMBER, Variant, normalise_header
from batch_claims.errors import InputError
from batch_claims.outcome import Money
from batch_claims.read import cells as cell_values
from batch_claims.read import headers, totals
from batch_claims.read import table as sheet
from batch_claims.read.cells import UntrustworthyNumber, tracking_text
from batch_claims.read.sheet import read_sheet
from batch_claims.validate.rows import validate_table
from tests.sheet_fixtures import write_bytes, write_formula_xlsx, write_merged_xlsx, write_xlsx


def cells(table: sheet.SheetTable, column: str) -> list[object]:
    index = table.mapping[column]
    return [row.cells[index] for row in table.rows]


# --- workbooks ------------------------------------------------------------------------


def test_title_rows_aliases_unknown_columns_and_empty_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "week 12.xlsx",
        [
            ["Damage claims week 12"],
            [],
            ["Numéro de suivi", "Verkoopwaarde", "Währung", "Opmerkingen", "Intern nr", "Datum"],
            [1234567890123, 12.5, "EUR", "  dented\u00a0", "A-1", datetime(2024, 3, 1)],
            ["3SABC0001", "10,55", "€", None, None, None],
            [],
            ["3SABC0002", 8, None, "torn", 7, None],
        ],
        formats={5: "yyyy-mm-dd"},
    )
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.header_row == 3
    assert table.headers[:4] == ("Numéro de suivi", "Verkoopwaarde", "Währung", "Opmerkingen")
    assert table.mapping == {
        "tracking_number": 0,
        "contents_sales_price": 1,
        "currency": 2,
        "additional_remarks": 3,
    }
    assert [row.row for row in table.rows] == [4, 5, 7]
    assert cells(table, "tracking_number") == ["1234567890123", "3SABC0001", "3SABC0002"]
    assert cells(table, "contents_sales_price") == [12.5, "10,55", 8]
    assert cells(table, "additional_remarks") == ["dented", None, "torn"]
    assert table.rows[0].cells[5] == datetime(2024, 3, 1)
    assert table.notices == (
        'columns not recognised, carried along unchanged: "Intern nr", "Datum"',
    )
    assert table.header_of("contents_sales_price") == "Verkoopwaarde"


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (1234567890123, "General", "1234567890123"),
        (1234567890123.0, "0", "1234567890123"),
        (12345, "0000000000", "0000012345"),
        (12345, '"JVGL"00000000', "JVGL00012345"),
        (12345, "#,##0", "12345"),
        (999999999999999, "General", "999999999999999"),
    ],
)
def test_numeric_tracking_numbers_become_exact_text(
    value: float, number_format: str, expected: str
) -> None:
    assert tracking_text(value, number_format) == expected


def test_leading_zeros_format_and_long_numbers_from_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "zeros.xlsx",
        [
            ["Tracking number", "Remarks"],
            [12345, "zeros restored"],
            [123456789012345678, "18 digits"],
            [1234567890123456, "16 digits"],
        ],
        formats={0: "0000000000"},
    )
    table = read_sheet(path)
    numbers = cells(table, "tracking_number")
    assert numbers[0] == "0000012345"
    assert numbers[1] == UntrustworthyNumber("123456789012346000")
    assert isinstance(numbers[2], UntrustworthyNumber)
    assert str(numbers[1]) == "123456789012346000"


def test_formulas_give_their_cached_values(tmp_path: Path) -> None:
    table = read_sheet(write_formula_xlsx(tmp_path / "formulas.xlsx"))
    assert cells(table, "tracking_number") == ["3SABC1", "3SABC2"]
    assert cells(table, "contents_sales_price")[0] == pytest.approx(12.3)


def test_default_sheet_is_the_first_with_a_header(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "two.xlsx", [["tracking"], ["A1"]], before=["Read me"])
    table = read_sheet(path)
    assert table.sheet_name == "Claims"
    assert table.header_row == 1


def test_sheet_by_name_and_missing_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "two.xlsx", [["tracking"], ["A1"]], before=["Read me"])
    assert read_sheet(path, "claims").sheet_name == "Claims"
    with pytest.raises(InputError) as caught:
        read_sheet(path, "Week 13")
    assert (
        caught.value.message == 'two.xlsx: no sheet named "Week 13" (sheets: "Read me", "Claims")'
    )


def test_xlsm_is_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "macro.xlsx", [["tracking_number"], ["A1"]])
    table = read_sheet(path.rename(tmp_path / "macro.xlsm"))
    assert cells(table, "tracking_number") == ["A1"]


def test_wrong_stored_dimensions_do_not_lose_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "dims.xlsx",
        [["tracking_number", "remarks"], *[[f"T{i}", "x"] for i in range(5)]],
    )
    patched = tmp_path / "patched.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:B6"/>' in data
                data = data.replace(b'<dimension ref="A1:B6"/>', b'<dimension ref="A1:A2"/>')
            target.writestr(item, data)
    table = read_sheet(patched)
    assert [row.row for row in table.rows] == [2, 3, 4, 5, 6]
    assert cells(table, "additional_remarks") == ["x"] * 5


def test_config_aliases(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "nl.xlsx", [["Zendingnummer", "Omschrijving"], ["A1", "boek"]])
    table = read_sheet(
        path, aliases={"Zendingnummer": "tracking_number", "omschrijving": "contents_description"}
    )
    assert table.mapping == {"tracking_number": 0, "contents_description": 1}


def test_config_alias_to_unknown_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "nl.xlsx", [["tracking"], ["A1"]])
    with pytest.raises(InputError, match='config alias "Zending" points to "parcel"'):
        read_sheet(path, aliases={"Zending": "parcel"})


def test_header_matching_ignores_case_spaces_punctuation_and_accents() -> None:
    lookup = headers.header_lookup()
    for header in ("TRACKING-NUMBER ", "Tracking No.", "tracking_number", "Numéro de suivi"):
        assert lookup[normalise_header(header)] == "tracking_number"


@given(st.text(st.characters(max_codepoint=127)) | st.text())
def test_a_header_folds_the_same_by_the_ascii_shortcut(text: str) -> None:
    """ASCII text skips the Unicode decomposition (the tracking-number cell of every row
    is folded): the same key as the general fold gives, for any text."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert normalise_header(text) == re.sub(r"[^0-9a-z]", "", without_accents.casefold())


def test_no_built_in_alias_means_two_columns() -> None:
    seen: dict[str, str] = {}
    for column in COLUMNS:
        for text in (column.name, *column.aliases):
            key = normalise_header(text)
            assert seen.setdefault(key, column.name) == column.name, text


def test_values_right_of_the_last_header_are_noticed(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "wide.xlsx", [["tracking", "remarks"], ["A1", "x", "stray"]])
    table = read_sheet(path)
    assert table.rows[0].cells == ("A1", "x")
    assert table.notices == (
        "values right of the last header were ignored (row 2); "
        "give those columns a header to keep them",
    )


# --- bad workbooks -------------------------------------------------------------------


def test_no_tracking_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "sample.xlsx", [["Parcel", "Remarks"], ["A1", "x"]])
    with pytest.raises(InputError) as caught:
        read_sheet(path)
    assert caught.value.message.startswith(
        'sample.xlsx: no header row with a tracking number column found in sheet "Claims" '
        "(looked for: tracking_number, tracking, tracking no,"
    )
    assert "\n" not in caught.value.message
    assert caught.value.exit_code == 2


def test_two_headers_for_one_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "dup.xlsx", [["Tracking", "Tracking number"], ["A", "B"]])
    with pytest.raises(InputError) as caught:
        read_sheet(path)
    assert caught.value.message == (
        'dup.xlsx, sheet "Claims": the headers "Tracking" and "Tracking number" both mean '
        "tracking_number; keep one of them or rename the other"
    )


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.xlsx", b"", "empty.xlsx: the file is empty"),
        ("empty.csv", b"", "empty.csv: the file is empty"),
        (
            "text.xlsx",
            b"tracking_number\nA1\n",
            "text.xlsx: is not an Excel workbook (the file is not an .xlsx archive)",
        ),
        (
            "old.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "old.xlsx: is an old .xls or a password-protected workbook; "
            "save it as .xlsx without a password",
        ),
        (
            "broken.xlsx",
            b"PK\x03\x04" + b"garbage" * 10,
            "broken.xlsx: cannot be read as an Excel workbook (File is not a zip file)",
        ),
        (
            "sheet.xls",
            b"whatever",
            "sheet.xls: unsupported file type .xls (expected .xlsx, .xlsm or .csv; "
            "save the sheet in one of those formats)",
        ),
        (
            "binary.csv",
            b"PK\x03\x04\x00\x00",
            "binary.csv: is not a CSV text file (it contains binary data; "
            "an Excel workbook needs the .xlsx extension)",
        ),
    ],
)
def test_unusable_files(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        read_sheet(write_bytes(tmp_path / name, data))
    assert caught.value.message == expected


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^nope.xlsx: cannot be read \("):
        read_sheet(tmp_path / "nope.xlsx")


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "not a workbook")
    with pytest.raises(InputError, match=r"^photos.xlsx: cannot be read as an Excel workbook \("):
        read_sheet(path)


def test_row_and_column_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xlsx(
        tmp_path / "big.xlsx", [["tracking", "a", "b"], *[[f"T{i}"] for i in range(4)]]
    )
    monkeypatch.setattr(sheet, "MAX_ROWS", 3)
    with pytest.raises(InputError) as caught:
        read_sheet(path)
    assert caught.value.message == (
        'big.xlsx: sheet "Claims" has more than 3 data rows; split it into smaller sheets'
    )
    monkeypatch.setattr(sheet, "MAX_ROWS", 10)
    monkeypatch.setattr(sheet, "MAX_COLUMNS", 2)
    with pytest.raises(InputError, match="the header row has more than 2 columns"):
        read_sheet(path)


# --- CSV ------------------------------------------------------------------------------


def test_csv_utf8_with_bom(tmp_path: Path) -> None:
    data = '\ufefftracking_number,sales value,currency\r\n003SABC,"10,55",€\r\n'.encode()
    table = read_sheet(write_bytes(tmp_path / "bom.csv", data))
    assert table.encoding == "utf-8-sig"
    assert table.sheet_name is None
    assert table.extra == {"delimiter": ","}
    assert table.headers == ("tracking_number", "sales value", "currency")
    assert table.rows[0].cells == ("003SABC", "10,55", "€")
    assert table.rows[0].row == 2


def test_csv_cp1252_semicolons_and_quoted_newline(tmp_path: Path) -> None:
    text = (
        "Claims export;;\r\n"
        "Trackingnummer;Verkoopwaarde;Opmerkingen\r\n"
        '3SABC1;€ 1.234,56;"two\r\nlines"\r\n'
        ";;\r\n"
        "3SABC2;12;ok\r\n"
    )
    table = read_sheet(write_bytes(tmp_path / "nl.csv", text.encode("cp1252")))
    assert table.encoding == "cp1252"
    assert table.extra == {"delimiter": ";"}
    assert table.header_row == 2
    assert [row.row for row in table.rows] == [3, 5]
    assert table.rows[0].cells == ("3SABC1", "€ 1.234,56", "two\r\nlines")
    assert table.notices == ("nl.csv is not UTF-8; it was read as Windows-1252 text",)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["tracking", "remarks", "currency"]) + "\n"
    text += delimiter.join(["A1", "x, y; z", "EUR"]).replace("x, y; z", '"x, y; z"') + "\n"
    table = read_sheet(write_bytes(tmp_path / "d.csv", text.encode()))
    assert table.extra == {"delimiter": delimiter}
    assert table.rows[0].cells == ("A1", "x, y; z", "EUR")


def test_csv_excel_sep_hint_and_short_rows(tmp_path: Path) -> None:
    text = "sep=;\ntracking;remarks;currency\nA1;x\n"
    table = read_sheet(write_bytes(tmp_path / "hint.csv", text.encode()))
    assert table.header_row == 1
    assert table.rows[0] == sheet.SourceRow(2, ("A1", "x", None))


def test_csv_without_tracking_column(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_sheet(write_bytes(tmp_path / "x.csv", b"a,b\n1,2\n"))
    assert caught.value.message.startswith(
        "x.csv: no header row with a tracking number column found "
        "(looked for: tracking_number, tracking,"
    )


def test_csv_duplicate_headers(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_sheet(write_bytes(tmp_path / "x.csv", b"Tracking,Remarks,Notes\nA,b,c\n"))
    assert caught.value.message == (
        'x.csv: the headers "Remarks" and "Notes" both mean additional_remarks; '
        "keep one of them or rename the other"
    )


# --- trailing totals / notes rows and the template's example row -------------------------


def test_trailing_totals_row_is_ignored_with_one_notice(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "totals.xlsx",
        [
            ["Tracking", "Sales value", "Currency"],
            ["3SABC1", 10, "EUR"],
            [None, 5, "EUR"],  # forgotten in the middle: stays a row
            ["3SABC2", 20, "EUR"],
            [],
            [None, 35, None],  # the totals row
        ],
    )
    table = read_sheet(path)
    assert [row.row for row in table.rows] == [2, 3, 4]
    assert table.skipped_rows == (6,)
    assert table.notices == (
        "row 6 has no tracking number and was ignored (a totals or notes row?)",
    )
    middle = validate_table(table, Variant.OWN_CONTRACT)[1]
    assert [(e.code, e.message) for e in middle.errors] == [
        ("required", 'row 3, "Tracking": missing (every row needs a tracking number)')
    ]


def test_several_trailing_rows_are_listed_in_one_notice(tmp_path: Path) -> None:
    text = "tracking;sales value\nA1;1\nA2;2\n;3\n;\n;checked by Anna\n"
    table = read_sheet(write_bytes(tmp_path / "notes.csv", text.encode()))
    assert [row.row for row in table.rows] == [2, 3]
    assert table.skipped_rows == (4, 6)
    assert table.notices == (
        "rows 4 and 6 have no tracking number and were ignored (totals or notes rows?)",
    )


def test_rows_without_any_tracking_number_stay_rows(tmp_path: Path) -> None:
    table = read_sheet(write_bytes(tmp_path / "none.csv", b"tracking,remarks\n,a\n,b\n"))
    assert [row.row for row in table.rows] == [2, 3]
    assert table.notices == ()


def test_many_trailing_rows_are_listed_briefly() -> None:
    assert totals._rows_phrase(list(range(2, 15))) == (
        "rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 3 more have"
    )
    assert totals._rows_phrase([4, 5, 6]) == "rows 4, 5 and 6 have"


def test_template_example_row_is_skipped(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "filled.xlsx",
        [
            ["tracking_number", "additional_remarks"],
            [EXAMPLE_TRACKING_NUMBER, "one mug arrived in pieces"],
            ["3SABC1", "dented"],
        ],
    )
    table = read_sheet(path)
    assert [row.row for row in table.rows] == [3]
    assert table.skipped_rows == (2,)
    assert table.notices == ("row 2 is the template's example row and was skipped",)


# --- header typos and ambiguity -----------------------------------------------------------


def test_unknown_header_close_to_a_column_gets_a_suggestion(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "typo.xlsx",
        [["Tracking", "Verkoopwarde", "Intern nr", "Curency"], ["A1", 1, "x", "EUR"]],
    )
    table = read_sheet(path)
    assert table.mapping == {"tracking_number": 0}
    assert table.notices == (
        'columns not recognised, carried along unchanged: "Intern nr"; '
        '"Verkoopwarde" — did you mean contents_sales_price?; '
        '"Curency" — did you mean currency? (a row with a value under a header that looks '
        "like a column is invalid until the header is renamed or mapped in the config's "
        "[columns])",
    )


def test_no_suggestion_for_a_column_already_present(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [["Tracking number", "Trackng nr"], ["A1", "x"]])
    assert read_sheet(path).notices == (
        'columns not recognised, carried along unchanged: "Trackng nr"',
    )


def test_missing_tracking_column_with_a_typo_gets_a_suggestion(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "typo.xlsx", [["Week 12"], ["Trackng number", "Remarks"]])
    with pytest.raises(InputError) as caught:
        read_sheet(path)
    assert caught.value.message == (
        'typo.xlsx: no header row with a tracking number column found in sheet "Claims"; '
        '"Trackng number" on row 2 — did you mean tracking_number?'
    )
    with pytest.raises(InputError) as caught:
        read_sheet(write_bytes(tmp_path / "typo.csv", b"Trakcing number;Remarks\nA1;x\n"))
    assert caught.value.message == (
        "typo.csv: no header row with a tracking number column found; "
        '"Trakcing number" on row 1 — did you mean tracking_number?'
    )


def test_missing_tracking_column_typo_names_the_sheet_when_several(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "two.xlsx", [["Sendungsnumer"]], before=["Read me"])
    with pytest.raises(InputError) as caught:
        read_sheet(path)
    assert caught.value.message == (
        "two.xlsx: no header row with a tracking number column found in any sheet "
        '("Read me", "Claims"); "Sendungsnumer" on row 1 of sheet "Claims" '
        "— did you mean tracking_number?"
    )


def test_ambiguous_config_aliases_name_both_columns(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["tracking", "Notes"], ["A1", "x"]])
    with pytest.raises(InputError) as caught:
        read_sheet(path, aliases={"Notes": "contents_description", "notes ": "additional_remarks"})
    assert caught.value.message == (
        'config aliases "Notes" and "notes " match the same header but mean '
        "contents_description and additional_remarks; keep one of them"
    )


def test_config_alias_wins_over_a_built_in_one(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["tracking", "Notes"], ["A1", "x"]])
    table = read_sheet(path, aliases={"Notes": "contents_description"})
    assert table.mapping == {"tracking_number": 0, "contents_description": 1}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Trackng number", "tracking_number"),
        ("Tracking numbr", "tracking_number"),
        ("sendungsnumer", "tracking_number"),
        ("Remars", "additional_remarks"),
        ("damage foto 1", "damage_photo_1"),
        ("Invoice nr", None),  # an invoice number is not the invoice file
        ("Datum", None),
        ("Intern nr", None),
        ("Typ", None),  # too short to guess
        ("tracking", None),  # known: no suggestion
    ],
)
def test_suggestions(header: str, expected: str | None) -> None:
    assert headers.suggest_column(header, headers.header_lookup()) == expected


@given(st.sampled_from([(c.name, a) for c in COLUMNS for a in (c.name, *c.aliases)]), st.data())
def test_headers_match_whatever_the_case_and_punctuation(
    pair: tuple[str, str], data: st.DataObject
) -> None:
    name, alias = pair
    styled = "".join(
        data.draw(st.sampled_from([ch.upper(), ch.lower(), f"{ch}-", f" {ch}", f"{ch}."]))
        for ch in alias
    )
    assert headers.header_lookup()[normalise_header(styled)] == name


@given(
    st.sampled_from([a for c in COLUMNS for a in (c.name, *c.aliases) if len(a) >= 8]), st.data()
)
def test_a_dropped_letter_is_suggested_back(alias: str, data: st.DataObject) -> None:
    lookup = headers.header_lookup()
    folded = normalise_header(alias)
    position = data.draw(st.integers(1, len(folded) - 2))
    typo = folded[:position] + folded[position + 1 :]
    guess = headers.suggest_column(typo, lookup)
    if typo in lookup:
        assert guess is None
    else:
        assert guess is not None
        assert any(headers._edits(typo, key) <= 1 for key, n in lookup.items() if n == guess)


# --- merged header cells --------------------------------------------------------------------


def test_two_row_header_with_merged_cells(tmp_path: Path) -> None:
    table = read_sheet(write_merged_xlsx(tmp_path / "group.xlsx", "group"))
    assert table.header_row == 1
    assert table.headers == ("Tracking number", "Sales value", "Currency", "Remarks")
    assert table.mapping == {
        "tracking_number": 0,
        "contents_sales_price": 1,
        "currency": 2,
        "additional_remarks": 3,
    }
    assert [row.row for row in table.rows] == [3, 4]
    assert table.rows[0].cells == ("3SABC1", "12,50", "EUR", "dented")
    assert table.notices == ()


def test_header_merged_across_columns_keeps_every_column(tmp_path: Path) -> None:
    table = read_sheet(write_merged_xlsx(tmp_path / "across.xlsx", "across"))
    assert table.header_row == 3
    assert table.headers == ("Tracking", "Photos", "Photos (2)", "Remarks", "Sales value")
    assert table.mapping == {
        "tracking_number": 0,
        "additional_remarks": 3,
        "contents_sales_price": 4,
    }
    assert table.rows[0].cells == ("3SABC1", "a/front.jpg", "a/back.jpg", "dented", 12)
    assert table.notices == (
        'columns not recognised, carried along unchanged: "Photos", "Photos (2)"',
    )


def test_trailing_totals_row_with_a_label_in_the_tracking_column_is_ignored(
    tmp_path: Path,
) -> None:
    path = write_bytes(
        tmp_path / "week.csv",
        b"Tracking number;Sales value;Currency\r\n"
        b"3SX1;10,00;EUR\r\nTotal\r\n;;\r\nTotal;10,00;\r\nNotes: see e-mail\r\n",
    )
    table = read_sheet(path)
    assert cells(table, "tracking_number") == ["3SX1"]
    assert table.notices == (
        'rows 3, 5 and 6 are totals or notes rows ("Total", "Notes: see e-mail") and were ignored',
    )
    assert table.skipped_rows == (3, 5, 6)


def test_a_digitless_tracking_cell_in_the_middle_stays_a_row(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "week.csv", b"tracking_number;currency\r\nTBD;EUR\r\n3SX2;EUR\r\n"
    )
    assert cells(read_sheet(path), "tracking_number") == ["TBD", "3SX2"]


@pytest.mark.parametrize(
    ("headers_line", "expected"),
    [
        (
            "Zendingnummer;Verkoopprijs;Munt;Omschrijving;Buitenkant;Toelichting;Inkoopfactuur",
            [
                "tracking_number",
                "contents_sales_price",
                "currency",
                "contents_description",
                "parcel_exterior_description",
                "additional_remarks",
                "purchase_invoice",
            ],
        ),
        (
            "Sendungsnummer;Verkaufspreis;Währung;Inhalt;Außenverpackung;Bemerkungen;"
            "Einkaufsrechnung",
            [
                "tracking_number",
                "contents_sales_price",
                "currency",
                "contents_description",
                "parcel_exterior_description",
                "additional_remarks",
                "purchase_invoice",
            ],
        ),
        (
            "Numéro de suivi;Prix de vente;Devise;Contenu;Emballage;Remarques;Facture d'achat",
            [
                "tracking_number",
                "contents_sales_price",
                "currency",
                "contents_description",
                "parcel_exterior_description",
                "additional_remarks",
                "purchase_invoice",
            ],
        ),
        (
            "Número de seguimiento;Precio de venta;Moneda;Contenido;Embalaje;Observaciones;"
            "Factura de compra",
            [
                "tracking_number",
                "contents_sales_price",
                "currency",
                "contents_description",
                "parcel_exterior_description",
                "additional_remarks",
                "purchase_invoice",
            ],
        ),
    ],
)
def test_headers_in_four_languages(tmp_path: Path, headers_line: str, expected: list[str]) -> None:
    path = write_bytes(tmp_path / "week.csv", (headers_line + "\r\n3SX1;1;EUR;a;b;c;\r\n").encode())
    table = read_sheet(path)
    assert [name for name, _ in sorted(table.mapping.items(), key=lambda kv: kv[1])] == expected


@pytest.mark.parametrize(
    ("headers_line", "expected"),
    [
        (
            "Track & Trace;Foto buitenkant;Foto binnenkant;Schadefoto 1;Schadefoto 2;"
            "Foto verpakking;Foto volledig product;Klantbevestiging;Verkoopfactuur",
            [
                "tracking_number",
                "exterior_photo",
                "interior_photo",
                "damage_photo_1",
                "damage_photo_2",
                "package_photo",
                "entire_product_photo",
                "customer_confirmation",
                "sales_invoice",
            ],
        ),
        (
            "Sendungsverfolgungsnummer;Foto außen;Foto innen;Schadensfoto 1;Schadensfoto 2;"
            "Paketfoto;Produktfoto;Kundenbestätigung;Rechnung",
            [
                "tracking_number",
                "exterior_photo",
                "interior_photo",
                "damage_photo_1",
                "damage_photo_2",
                "package_photo",
                "entire_product_photo",
                "customer_confirmation",
                "sales_invoice",
            ],
        ),
        (
            "N° de suivi;Photo extérieure;Photo intérieure;Photo des dégâts 1;"
            "Photo des dégâts 2;Photo du colis;Photo du produit;Confirmation du client;Facture",
            [
                "tracking_number",
                "exterior_photo",
                "interior_photo",
                "damage_photo_1",
                "damage_photo_2",
                "package_photo",
                "entire_product_photo",
                "customer_confirmation",
                "sales_invoice",
            ],
        ),
        (
            "Nº de seguimiento;Foto exterior;Foto interior;Foto del daño 1;Foto del daño 2;"
            "Foto del paquete;Foto del producto completo;Confirmación del cliente;Factura",
            [
                "tracking_number",
                "exterior_photo",
                "interior_photo",
                "damage_photo_1",
                "damage_photo_2",
                "package_photo",
                "entire_product_photo",
                "customer_confirmation",
                "sales_invoice",
            ],
        ),
        (
            "Tracking #;Photo exterior;Photo interior;Photo damage 1;Photo damage 2;"
            "Photo package;Photo entire product;Description of contents;Exterior",
            [
                "tracking_number",
                "exterior_photo",
                "interior_photo",
                "damage_photo_1",
                "damage_photo_2",
                "package_photo",
                "entire_product_photo",
                "contents_description",
                "parcel_exterior_description",
            ],
        ),
    ],
)
def test_document_headers_in_five_languages(
    tmp_path: Path, headers_line: str, expected: list[str]
) -> None:
    path = write_bytes(tmp_path / "week.csv", (headers_line + "\r\n3SX1;;;;;;;;\r\n").encode())
    table = read_sheet(path)
    assert [name for name, _ in sorted(table.mapping.items(), key=lambda kv: kv[1])] == expected
    assert table.notices == ()


@pytest.mark.parametrize(
    ("header", "column", "currency"),
    [
        ("Sales Price (EUR)", "contents_sales_price", "EUR"),
        ("Verkoopwaarde (€)", "contents_sales_price", "EUR"),
        ("Verkaufswert in EUR", "contents_sales_price", "EUR"),
        ("Prix de vente en €", "contents_sales_price", "EUR"),
        ("Purchase price [GBP]", "contents_purchase_price", "GBP"),
        ("Valor de compra US$", "contents_purchase_price", "USD"),
        ("Sales value", "contents_sales_price", None),
    ],
)
def test_amount_headers_may_name_their_currency(
    header: str, column: str, currency: str | None
) -> None:
    lookup = headers.header_lookup()
    assert headers.column_mapping("x.csv", ["Tracking", header], lookup)[column] == 1
    assert headers.header_currency(header) == currency


def test_only_amount_headers_lose_a_currency_to_match() -> None:
    lookup = headers.header_lookup()
    assert headers.column_mapping("x.csv", ["Tracking", "Remarks (EUR)"], lookup) == {
        "tracking_number": 0
    }
    assert headers.header_currency("Europe") is None


def test_dutch_workbook_with_track_and_trace_and_a_currency_header(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "schade.xlsx",
        [
            ["Schadeclaims week 47"],
            [],
            ["Track & Trace", "Verkoopprijs (€)", "Schadefoto 1", "Schadefoto 2", "Marge"],
            ["3SNL00000001", 24.95, "3SNL1\\foto 1.JPG", "3SNL1/foto 2", 0.25],
        ],
        formats={1: "€ #,##0.00", 4: "0%"},
    )
    table = read_sheet(path)
    assert table.header_row == 3
    assert table.mapping == {
        "tracking_number": 0,
        "contents_sales_price": 1,
        "damage_photo_1": 2,
        "damage_photo_2": 3,
    }
    assert table.rows[0].cells == (
        "3SNL00000001",
        cell_values.CurrencyNumber(24.95, "€"),  # the format's currency travels with the number
        "3SNL1\\foto 1.JPG",
        "3SNL1/foto 2",
        "25%",
    )
    [parsed] = validate_table(table, Variant.OWN_CONTRACT)
    assert parsed.errors == ()
    assert parsed.fields["contents_sales_price"] == Money(Decimal("24.95"), "EUR")


def test_percentage_cells_are_read_as_shown_never_as_an_amount(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "pct.xlsx",
        [["Tracking", "Sales value", "Currency", "Remarks"], ["3SABC0000001", 0.125, "EUR", 1]],
        formats={1: "0.0%", 3: '0" %"'},
    )
    table = read_sheet(path)
    assert table.rows[0].cells == ("3SABC0000001", "12.5%", "EUR", 1)
    [parsed] = validate_table(table, Variant.OWN_CONTRACT)
    assert [e.message for e in parsed.errors] == [
        'row 2, "Sales value": "12.5%" is not an amount (expected a number such as 12.50)'
    ]


def test_csv_utf16_tab_separated_as_excel_unicode_text(tmp_path: Path) -> None:
    text = "Tracking number\tSales value\tCurrency\r\n003SABC\t10,55\t€\r\n"
    for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):
        table = read_sheet(write_bytes(tmp_path / "unicode.csv", data))
        assert table.encoding == "utf-16"
        assert table.extra == {"delimiter": "\t"}
        assert table.rows[0].cells == ("003SABC", "10,55", "€")


def test_csv_broken_utf16_is_one_sentence(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "bad.csv", b"\xff\xfeT\x00r\x00\x00\xd8")
    with pytest.raises(InputError, match="starts like UTF-16 text but cannot be read as it"):
        read_sheet(path)
