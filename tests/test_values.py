"""Cell values that are no values (Excel errors), tracking numbers that must look like
one, identifiers written through a float column, the currency a number format shows,
and amounts no parcel has (issue 8)."""

from __future__ import annotations

import math
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.cli import cli
from batch_claims.columns import COLUMNS, Variant
from batch_claims.outcome import Money
from batch_claims.read.cells import EXCEL_ERRORS, CurrencyNumber, ExcelError, format_currency
from batch_claims.read.sheet import read_sheet
from batch_claims.validate.amounts import ParsedAmount, parse_amount
from batch_claims.validate.bounds import MAX_AMOUNT
from batch_claims.validate.coerce import (
    float_text_digits,
    parse_integer,
    parse_tracking_number,
)
from batch_claims.validate.messages import Message
from batch_claims.validate.parsers import PARSERS
from batch_claims.validate.rows import ParsedRow, reading_notices, validate_table
from tests.helpers import SCALED_FLAGS
from tests.sheet_fixtures import table, write_bytes


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def results(path: Path, sheet: str = "Results") -> list[dict[str, Any]]:
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def codes(row: ParsedRow) -> list[tuple[str | None, str]]:
    return [(e.column, e.code) for e in row.errors]


# --- Excel errors -----------------------------------------------------------------------


@pytest.mark.parametrize("shown", sorted(EXCEL_ERRORS))
def test_every_parser_refuses_an_excel_error_with_one_code(shown: str) -> None:
    error = ExcelError(shown)
    for parse in (*PARSERS.values(), parse_amount):
        assert parse(error) == (None, Message.EXCEL_ERROR.problem())


def test_an_excel_error_in_any_column_is_an_error_naming_the_cell() -> None:
    headers = [c.name for c in COLUMNS]
    row = [ExcelError("#REF!")] * len(headers)
    [parsed] = validate_table(table(headers, [row]))
    assert {code for _, code in codes(parsed)} == {"excel_error"}
    assert {column for column, _ in codes(parsed)} == set(headers)
    assert parsed.tracking_number is None and parsed.fields == {} and parsed.documents == {}
    assert parsed.errors[0].message == (
        'row 2, "tracking_number": #REF! is an Excel error, not a value '
        "(fix the formula, or type the value itself)"
    )


def test_csv_error_texts_are_excel_errors_and_other_hash_texts_are_not(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "claims.csv",
        b"Tracking,Remarks,Sales value\r\n#N/A,#1 seller!,#VALUE!\r\n3SABC0000001,#NAME?,12\r\n",
    )
    sheet = read_sheet(path)
    assert sheet.rows[0].cells == (ExcelError("#N/A"), "#1 seller!", ExcelError("#VALUE!"))
    assert sheet.rows[1].cells == ("3SABC0000001", ExcelError("#NAME?"), "12")


def error_workbook_xlsxwriter(path: Path) -> Path:
    """Formulas whose cached result is an error, as Excel saves them."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Claims")
    sheet.write_row(0, 0, ["Tracking", "Contract type", "Carrier contract", "Remarks"])
    sheet.write_formula(1, 0, "=VLOOKUP(B2,Orders!A:B,2,0)", None, "#REF!")
    sheet.write_row(1, 1, ["own_contract", 12345])
    sheet.write_row(2, 0, ["3SABC0000002", "own_contract", 12345])
    sheet.write_formula(2, 3, "=NA()", None, "#N/A")  # an optional text column
    sheet.write_row(3, 0, ["3SABC0000003", "own_contract"])
    sheet.write_formula(3, 2, "=1/0", None, "#DIV/0!")
    sheet.write_row(4, 0, ["3SABC0000004", "own_contract", 12345, "fine"])
    workbook.close()
    return path


def error_workbook_openpyxl(path: Path) -> Path:
    """Error values typed into cells (stored with the error type, no formula)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Tracking", "Contract type", "Remarks"])
    sheet.append([None, "own_contract", "fine"])
    sheet["A2"].value = "#NAME?"
    sheet["A2"].data_type = "e"
    sheet.append(["3SABC0000006", "own_contract", "fine"])
    workbook.save(path)
    return path


def test_xlsx_formula_errors_are_refused_and_cost_no_other_row(tmp_path: Path) -> None:
    sheet = error_workbook_xlsxwriter(tmp_path / "errors.xlsx")
    out = tmp_path / "out.xlsx"
    result = run("validate", sheet, "--out", out)
    assert result.exit_code == 1, result.output
    rows = results(out)
    assert [r["status"] for r in rows] == ["invalid", "invalid", "invalid", "valid"]
    assert rows[0]["tracking_number"] == "#REF!"  # shown as the sheet has it, never sent
    assert rows[0]["error_detail"] == (
        'row 2, "Tracking": #REF! is an Excel error, not a value '
        "(fix the formula, or type the value itself)"
    )
    assert rows[1]["error_detail"].startswith('row 3, "Remarks": #N/A is an Excel error')
    assert rows[2]["error_detail"].startswith('row 4, "Carrier contract": #DIV/0! is an Excel')


def test_xlsx_typed_error_values_are_refused(tmp_path: Path) -> None:
    sheet = error_workbook_openpyxl(tmp_path / "typed.xlsx")
    out = tmp_path / "out.xlsx"
    run("validate", sheet, "--out", out)
    rows = results(out)
    assert [r["status"] for r in rows] == ["invalid", "valid"]
    assert rows[0]["error_detail"].startswith('row 2, "Tracking": #NAME? is an Excel error')


# --- tracking numbers ---------------------------------------------------------------------

REAL_TRACKING_NUMBERS = [
    "3SABCD0123456789",  # PostNL
    "3SDEVC1234567",
    "RR123456789NL",  # PostNL international
    "CD123456789NL",
    "1234567890",  # DHL Express
    "123456789012",  # DHL Paket
    "00340434161094015000",
    "JJD000390007812345678",  # DHL, JJD + 18 digits
    "JVGL0612345678901234",  # DHL Parcel
    "GM2951173225174494",  # DHL eCommerce
    "01234567890123",  # DPD
    "12345678901",  # GLS
    "ZX3R4T7K",  # GLS track ID
    "1Z999AA10123456784",  # UPS
    "6A12345678901",  # Colissimo
    "8R01234567890",
    "XY123456789FR",  # Chronopost
    "AB123456789GB",  # Royal Mail
    "9400100000000000000000",  # USPS
    "420902109400111899223334445566",
    "EA123456789US",
    "123456789012345",  # FedEx
    "61299995669352455464",
    "323299999999999999999999",  # Bpost
    "CD123456789BE",
    "H00A0A0001234567",  # Hermes/Evri
    "PQ4F6P0700123450128001W",  # Correos
    "12345678",  # Mondial Relay
    "520000012345678901234567",  # InPost
    "TBA123456789012",  # Amazon
    "NOTFOUND-9981",  # a single hyphen is kept as written
]
# As printed on labels: the grouping spaces are left out.
SPACED_TRACKING_NUMBERS = {
    "9400 1000 0000 0000 0000 00": "9400100000000000000000",
    "1Z 999 AA1 01 2345 6784": "1Z999AA10123456784",
    "0123 4567 8901 23": "01234567890123",
    "3S ABCD 0123 4567 89": "3SABCD0123456789",
    "AB 1234 5678 9GB": "AB123456789GB",
}
NOT_TRACKING_NUMBERS = [
    *("-", "--", "n/a", "N/A", "TBD", "?", "???", "x", "X", "nvt", "none", "unknown"),
    *("see below", "zie onder", "siehe unten", "voir ci-dessous", "pending", "tbc"),
    *("onbekend", "unbekannt", "inconnu", "desconocido", "Total", "nog niet bekend"),
    "ABCDEFGHIJKL",  # no digit
    "1234567",  # too short
    "3SABC",
    "1" * 41,  # too long
    "3SABC/0123456",  # characters carriers never use
    "3SABC.0123456",
    "3SABC_0123456",
    "€ 123456789",
    "3SABC 0123456 ?",
    "tracking: 3SABC0123456",
    "3SABC  0123456",  # two spaces are no grouping
    "-3SABC0123456",
    "3SABC--0123456",
    "ＡＢ123456789ＧＢ",  # full-width
    "3SÄBCD0123456789",
    "=A2",
    "#REF!",
    "1.2E+13",  # a number Excel has shortened
]


@pytest.mark.parametrize("number", REAL_TRACKING_NUMBERS)
def test_real_tracking_numbers_are_accepted_as_written(number: str) -> None:
    assert parse_tracking_number(number) == (number, None)


@pytest.mark.parametrize(("printed", "number"), SPACED_TRACKING_NUMBERS.items())
def test_tracking_numbers_as_printed_on_labels_lose_their_spaces(printed: str, number: str) -> None:
    assert parse_tracking_number(printed) == (number, None)


@pytest.mark.parametrize("text", NOT_TRACKING_NUMBERS)
def test_what_no_carrier_issues_is_refused(text: str) -> None:
    value, problem = parse_tracking_number(text)
    assert value is None
    assert problem is not None
    assert problem.code in ("not_a_tracking_number", "untrustworthy_number")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "TBD",
            '"TBD" is a placeholder, not a tracking number (fill in the parcel\'s tracking '
            "number as on its label, or remove the row)",
        ),
        (
            "ABCDEFGHIJ",
            '"ABCDEFGHIJ" is not a tracking number: it has no digit (expected 8 to 40 letters '
            "and digits as on the label, such as 3SABCD0123456789)",
        ),
        (
            "3SABC",
            '"3SABC" is not a tracking number: 5 characters (expected 8 to 40 letters and '
            "digits as on the label, such as 3SABCD0123456789)",
        ),
        (
            "3SABC/01.23456",
            '"3SABC/01.23456" is not a tracking number: "/", "." are never part of one '
            "(expected 8 to 40 letters and digits as on the label, such as 3SABCD0123456789)",
        ),
    ],
)
def test_tracking_number_messages(cell: str, message: str) -> None:
    [parsed] = validate_table(table(["tracking_number"], [[cell]]), Variant.OWN_CONTRACT)
    assert [e.message for e in parsed.errors] == [f'row 2, "tracking_number": {message}']
    assert parsed.tracking_number is None


ALNUM = string.ascii_letters + string.digits


@st.composite
def tracking_numbers(draw: st.DrawFn) -> str:
    """8 to 40 letters and digits with at least one digit, not a float's rendering nor
    one character repeated."""
    body = draw(st.text(ALNUM, min_size=7, max_size=39))
    digit = draw(st.sampled_from(string.digits))
    at = draw(st.integers(0, len(body)))
    number = body[:at] + digit + body[at:]
    if float_text_digits(number) != (None, None):  # "12E45678" reads as a number
        number = "X" + number[1:]
    if len(set(number.upper())) == 1:  # "00000000" is a filler, no tracking number
        number = "X" + number[1:]
    return number


@given(tracking_numbers())
def test_generated_tracking_numbers_are_accepted(number: str) -> None:
    assert parse_tracking_number(number) == (number, None)


@given(tracking_numbers(), st.data())
def test_generated_spaced_tracking_numbers_are_read_without_spaces(
    number: str, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(number) - 1), max_size=5)))
    parts = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    spaced = " ".join(parts)
    if float_text_digits(spaced.replace(" ", "")) == (None, None):
        assert parse_tracking_number(spaced) == (number, None)


@given(st.text(st.characters(blacklist_categories=("Nd", "Cs")), min_size=1, max_size=40))
def test_text_without_a_digit_is_never_a_tracking_number(text: str) -> None:
    value, problem = parse_tracking_number(text)
    assert value is None
    assert problem is not None and problem.code == "not_a_tracking_number"


FORBIDDEN = st.characters(blacklist_categories=("Cs",)).filter(
    lambda c: not (c.isascii() and c.isalnum()) and not c.isspace() and c != "-"
)


@given(tracking_numbers(), FORBIDDEN, st.data())
def test_a_forbidden_character_anywhere_is_refused(
    number: str, char: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(number)))
    value, problem = parse_tracking_number(number[:at] + char + number[at:])
    assert value is None
    assert problem is not None and problem.code == "not_a_tracking_number"


# --- identifiers written through a float column --------------------------------------


def renderings(number: int) -> list[str]:
    """How scripts and spreadsheets write an integer that went through a float."""
    as_float = float(number)
    shown = len(str(number))
    return [
        f"{number}.0",
        repr(as_float),
        f"{as_float:.{shown - 1}E}",  # every digit: 1.23456789012E+11
        f"{as_float:.{shown - 1}e}",
        f"{as_float:.5E}",  # Excel's General in a CSV: digits may be lost
        f"{as_float:.15g}",
    ]


@given(st.integers(0, 10**18))
def test_float_renderings_read_as_their_digits_only_when_exact(number: int) -> None:
    for text in renderings(number):
        for parse, expected in ((parse_tracking_number, str(number)), (parse_integer, number)):
            value, problem = parse(text)
            if problem is None:
                assert value == expected, text  # never another number
            else:
                assert problem.code in ("untrustworthy_number", "not_a_tracking_number")
        if number < 10**15 and number >= 10**7 and len(set(str(number))) > 1:
            # (one digit repeated, 99999999, is a placeholder, never a tracking number)
            assert parse_tracking_number(f"{number}.0") == (str(number), None)
            assert parse_tracking_number(f"{float(number):.{len(str(number)) - 1}E}") == (
                str(number),
                None,
            )
        if number >= 10**15:
            lost = Message.NUMBER_MAY_HAVE_LOST_DIGITS.problem()
            assert parse_tracking_number(f"{number}.0")[1] == lost


def test_float_column_ids_in_a_csv_are_read_as_digits_with_one_notice(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "script.csv",
        b"tracking_number,contract_type,carrier_contract_id\r\n"
        b"123456789012.0,own_contract,12345.0\r\n"
        b"1.23456789013E+11,own_contract,1.2345E+4\r\n"
        b"3SABC0000003,own_contract,12345\r\n"
        b"1.23457E+14,own_contract,1.2E+4\r\n"
        b"9400 1000 0000 0000 0000 00,own_contract,12345\r\n",
    )
    sheet = read_sheet(path)
    parsed = validate_table(sheet)
    assert [p.tracking_number for p in parsed] == [
        "123456789012",
        "123456789013",
        "3SABC0000003",
        None,
        "9400100000000000000000",
    ]
    assert [p.fields.get("carrier_contract_id") for p in parsed] == [12345] * 3 + [None, 12345]
    assert codes(parsed[3]) == [
        ("tracking_number", "untrustworthy_number"),
        ("carrier_contract_id", "untrustworthy_number"),
    ]
    assert reading_notices(sheet, parsed) == (
        '"tracking_number": numbers written as a float column writes them were read as their '
        'digits (rows 2 and 3, e.g. "123456789012.0" → 123456789012); save that column as text',
        '"carrier_contract_id": numbers written as a float column writes them were read as '
        'their digits (rows 2 and 3, e.g. "12345.0" → 12345); save that column as text',
        '"tracking_number": tracking numbers were read without the spaces that group them on '
        'the label (row 6, e.g. "9400 1000 0000 0000 0000 00" → 9400100000000000000000)',
    )
    out = tmp_path / "out.xlsx"
    result = run("validate", path, "--out", out)
    assert "numbers written as a float column writes them" in result.output
    assert [r["status"] for r in results(out)] == ["valid", "valid", "valid", "invalid", "valid"]


# --- the currency of a number format ------------------------------------------------------


@pytest.mark.parametrize(
    ("number_format", "symbol"),
    [
        ("£#,##0.00", "£"),
        ("[$€-407] #,##0.00", "€"),
        ('"$"#,##0.00', "$"),
        ("#,##0.00 [$€-1]", "€"),
        ("[$EUR] #,##0.00", "EUR"),
        ("[$£-809]#,##0.00", "£"),
        ('_-[$€-2] * #,##0.00_-;-[$€-2] * #,##0.00_-;_-[$€-2] * "-"??_-;_-@_-', "€"),
        ('_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)', "$"),
        ('#,##0.00\\ "€"', "€"),
        ("\\$#,##0.00", "$"),
        ("[$US$-409]#,##0", "US$"),
        ("[$¥-411]#,##0", "¥"),
        ('"CHF" #,##0.00', "CHF"),
        ('#,##0.00 "kr"', "kr"),
        ("[$$-C09]#,##0.00", "$ (locale C09)"),  # an Australian dollar is no USD
        ("#,##0.00", None),
        ("General", None),
        ("[$-409]#,##0.00", None),
        ("[Red]#,##0.00", None),
        ('#,##0.00 "kg"', None),
        ("0.00E+00", None),
    ],
)
def test_format_currency(number_format: str, symbol: str | None) -> None:
    assert format_currency(number_format, 12.5) == symbol


def test_the_section_that_formats_the_value_counts() -> None:
    assert format_currency('#,##0;[Red]-"£"#,##0', 5) is None
    assert format_currency('#,##0;[Red]-"£"#,##0', -5) == "£"


FORMATS = [
    # (format, currency column, expected fields or error code)
    ("£#,##0.00", None, Money(Decimal("12.5"), "GBP")),
    ("[$€-407] #,##0.00", "EUR", Money(Decimal("12.5"), "EUR")),
    ('"$"#,##0.00', "EUR", "currency_mismatch"),
    ("[$¥-411]#,##0", None, "bad_currency"),
    ('"CHF" #,##0.00', None, "bad_currency"),
    ('_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)', None, "USD"),
    ('_-[$€-2] * #,##0.00_-;-[$€-2] * #,##0.00_-;_-[$€-2] * "-"??_-;_-@_-', None, "EUR"),
    (7, "GBP", Money(Decimal("12.5"), "GBP")),  # built-in: its $ follows the locale
    (7, None, "missing_currency"),
]


def currency_workbook(path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Claims")
    sheet.write_row(0, 0, ["Tracking", "Contract type", "Sales value", "Currency"])
    for index, (number_format, currency, _) in enumerate(FORMATS, start=1):
        style = workbook.add_format({"num_format": number_format})
        sheet.write_row(index, 0, [f"3SABC{index:07d}", "own_contract"])
        sheet.write_number(index, 2, 12.5, style)
        if currency:
            sheet.write_string(index, 3, currency)
    workbook.close()
    return path


def test_a_number_formats_currency_is_the_cells_currency(tmp_path: Path) -> None:
    sheet = read_sheet(currency_workbook(tmp_path / "formats.xlsx"))
    assert sheet.rows[0].cells[2] == CurrencyNumber(12.5, "£")
    assert sheet.rows[7].cells[2] == 12.5  # built-in format 7 names no currency
    parsed = validate_table(sheet)
    for row, (_, _, expected) in zip(parsed, FORMATS, strict=True):
        if isinstance(expected, Money):
            assert row.fields["contents_sales_price"] == expected, row.errors
        elif expected in ("USD", "EUR"):
            assert row.fields["contents_sales_price"] == Money(Decimal("12.5"), expected)
        else:
            assert codes(row) == [("contents_sales_price", expected)]
    assert parsed[2].errors[0].message == (
        'row 4, "Sales value": 12.5 $: its number format shows USD but "Currency" says EUR '
        "(make the currencies agree)"
    )
    assert parsed[3].errors[0].message == (
        'row 5, "Sales value": 12.5 ¥ has an unsupported currency ¥ in its number format '
        "(expected EUR, GBP or USD)"
    )


def test_formatted_amounts_through_validate_and_the_results_sheet(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    run("validate", currency_workbook(tmp_path / "formats.xlsx"), "--out", out)
    rows = results(out)
    assert [r["status"] for r in rows] == [
        *("valid", "valid", "invalid", "invalid", "invalid", "valid", "valid", "valid"),
        "invalid",
    ]
    # The Results sheet shows the amount as the cell did, so a retry reads its currency.
    assert rows[0]["Sales value"] == "12.5 £"


# --- every currency source agrees -----------------------------------------------------------


def test_a_header_currency_and_a_currency_column_must_agree(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "claims.csv",
        "Tracking,Contract type,Sales price (EUR),Currency\r\n"
        "3SABC0000001,own_contract,20,GBP\r\n"
        "3SABC0000002,own_contract,20,EUR\r\n"
        "3SABC0000003,own_contract,£ 20,EUR\r\n".encode(),
    )
    first, second, third = validate_table(read_sheet(path))
    assert [e.message for e in first.errors] == [
        'row 2, "Sales price (EUR)": "20": the header "Sales price (EUR)" says EUR but '
        '"Currency" says GBP (make the currencies agree)'
    ]
    assert second.fields["contents_sales_price"] == Money(Decimal("20"), "EUR")
    assert [e.message for e in third.errors] == [
        'row 4, "Sales price (EUR)": "£ 20" is in GBP but the header "Sales price (EUR)" says '
        "EUR (make the currencies agree)"
    ]


# --- amounts no parcel has ------------------------------------------------------------------

AMOUNT_HEADERS = ["tracking_number", "contents_sales_price", "currency"]


def amount_row(cell: object, variant: Variant = Variant.OWN_CONTRACT) -> ParsedRow:
    [parsed] = validate_table(table(AMOUNT_HEADERS, [["3SABC0000001", cell, "EUR"]]), variant)
    return parsed


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        (1e30, "amount_too_large"),
        ("1" * 40, "amount_too_large"),
        (1_000_000.01, "amount_too_large"),
        (-1e30, "negative_amount"),
        (-0.01, "negative_amount"),
        (math.inf, "not_an_amount"),
        (math.nan, "not_an_amount"),
        ("inf", "not_an_amount"),
        ("NaN", "not_an_amount"),
        (Decimal("NaN"), "not_an_amount"),
        (Decimal("sNaN"), "not_an_amount"),
        (Decimal("-Infinity"), "not_an_amount"),
        (Decimal("1E+999999"), "amount_too_large"),
        (Decimal("1E-999999"), "too_many_decimals"),
        (12.345, "too_many_decimals"),
    ],
)
def test_amounts_no_parcel_has_are_one_error(cell: object, code: str) -> None:
    assert codes(amount_row(cell)) == [("contents_sales_price", code)]


def test_the_ceiling_and_zero() -> None:
    assert amount_row(1_000_000).fields["contents_sales_price"] == Money(Decimal(10**6), "EUR")
    assert amount_row(1e30).errors[0].message == (
        'row 2, "contents_sales_price": 1000000000000000019884624838656 is more than 1,000,000 '
        "(expected the value of one parcel's contents; check the cell)"
    )
    # Zero: fine where the price is optional (own contract), refused where it is required.
    assert amount_row(0).fields["contents_sales_price"] == Money(Decimal(0), "EUR")
    headers = [
        *AMOUNT_HEADERS,
        "contents_purchase_price",
        "contents_description",
        "parcel_exterior_description",
        "additional_remarks",
    ]
    [parsed] = validate_table(
        table(headers, [["3SABC0000001", "0,00", "EUR", 0, "mug", "box", "broken"]]),
        Variant.SENDCLOUD_RATES,
    )
    assert [e.message for e in parsed.errors if e.column != "customer_confirmation"] == [
        'row 2, "contents_sales_price": "0,00" is zero (a sendcloud_rates claim needs the '
        "sales value of the contents, above 0)"
    ]
    assert parsed.fields["contents_purchase_price"] == Money(Decimal(0), "EUR")


AMOUNTS = st.one_of(
    st.floats(),
    st.integers(),
    st.decimals(),
    st.text(max_size=30),
    st.from_regex(r"[-€$£ ]{0,2}\d{0,40}([.,]\d{0,6})?( ?(EUR|€|usd|JPY))?", fullmatch=True),
)


@settings(max_examples=300)
@given(AMOUNTS)
def test_any_amount_is_a_bounded_money_or_one_error_naming_the_cell(cell: object) -> None:
    parsed = amount_row(cell)
    money = parsed.fields.get("contents_sales_price")
    if parsed.errors:
        assert money is None
        assert len(parsed.errors) == 1
        assert parsed.errors[0].message.startswith('row 2, "contents_sales_price": ')
    elif money is not None:
        assert isinstance(money, Money)
        assert 0 <= money.price <= MAX_AMOUNT
        assert money.price == money.price.quantize(Decimal("0.01"))
    else:  # a blank or a placeholder such as "-"
        assert cell is None or isinstance(cell, str)


def test_parse_amount_never_raises_on_huge_floats() -> None:
    parsed, problem = parse_amount(1e300)
    assert problem is None and isinstance(parsed, ParsedAmount)


def test_a_huge_amount_costs_no_other_row_and_the_valid_ones_are_filed(
    api_env: Any, tmp_path: Path
) -> None:
    path = tmp_path / "huge.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Claims")
    sheet.write_row(0, 0, ["Tracking", "Contract type", "Sales value", "Currency"])
    sheet.write_row(1, 0, ["3SABC0000001", "own_contract", 1e30, "EUR"])
    sheet.write_row(2, 0, ["3SABC0000002", "own_contract", 12.5, "EUR"])
    workbook.close()
    out = tmp_path / "out.xlsx"
    result = run(
        "submit", path, "--journal", tmp_path / "j.sqlite3", "--out", out, "--quiet", *SCALED_FLAGS
    )
    assert "Traceback" not in result.output
    rows = results(out)
    assert [r["status"] for r in rows] == ["invalid", "submitted"]
    assert "is more than 1,000,000" in rows[0]["error_detail"]
