"""Coercion and validation: pure functions on in-memory tables."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_claims.columns import COLUMNS, Variant
from batch_claims.outcome import ErrorCode, Money
from batch_claims.read.cells import UntrustworthyNumber
from batch_claims.validate.amounts import ParsedAmount, parse_amount, parse_number
from batch_claims.validate.coerce import parse_boolean, parse_currency, parse_integer
from batch_claims.validate.decimals import decimal_convention
from batch_claims.validate.messages import Message, Problem
from batch_claims.validate.rows import ParsedRow, validate_table
from tests.sheet_fixtures import table

RATES_HEADERS = [
    "tracking_number",
    "contents_sales_price",
    "currency",
    "contents_description",
    "parcel_exterior_description",
    "additional_remarks",
]


def rates_row(tracking: object = "3SABC0000001", price: object = "12.50") -> list[object]:
    return [tracking, price, "EUR", "a mug", "brown box", "broken"]


def only(rows: list[ParsedRow]) -> ParsedRow:
    assert len(rows) == 1
    return rows[0]


def messages(row: ParsedRow) -> list[tuple[str | None, str, str]]:
    return [(e.column, e.code, e.message) for e in row.errors]


# --- amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "price", "currency"),
    [
        (12, "12", None),
        (12.5, "12.5", None),
        (10.55, "10.55", None),
        (12.299999999999999, "12.30", None),  # a formula's binary noise
        ("10,55", "10.55", None),
        ("1.234,56", "1234.56", None),
        ("1,234.56", "1234.56", None),
        ("€ 1.234,56", "1234.56", "EUR"),
        ("12 EUR", "12", "EUR"),
        ("12.50 £", "12.50", "GBP"),
        ("$5", "5", "USD"),
        ("12,5 euro", "12.5", "EUR"),
        ("1 234,56", "1234.56", None),
        ("1.234.567", "1234567", None),
        ("0,125", "0.125", None),
        ("-12", "-12", None),
        # a dash for the cents, as Dutch and German prices are written
        ("12,-", "12.00", None),
        ("12.-", "12.00", None),
        ("1.234,--", "1234.00", None),
        ("€ 12,-", "12.00", "EUR"),
        ("12,– EUR", "12.00", "EUR"),
    ],
)
def test_amounts(cell: object, price: str, currency: str | None) -> None:
    assert parse_amount(cell) == (ParsedAmount(Decimal(price), currency), None)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("ten", Message.NOT_AN_AMOUNT.problem()),
        ("12.", Message.NOT_AN_AMOUNT.problem()),
        ("1,2,3", Message.NOT_AN_AMOUNT.problem()),
        ("1.23.4", Message.NOT_AN_AMOUNT.problem()),
        (True, Message.NOT_AN_AMOUNT.problem()),
        (float("nan"), Message.NOT_AN_AMOUNT.problem()),
        ("CHF 12", Message.UNSUPPORTED_CURRENCY.problem(currency="CHF")),
        ("1,234", Message.AMBIGUOUS_AMOUNT.problem(thousands="1234", decimal="1.234")),
        ("1.234", Message.AMBIGUOUS_AMOUNT.problem(thousands="1234", decimal="1.234")),
        ("12,-5", Message.NOT_AN_AMOUNT.problem()),
        ("-", Message.NOT_AN_AMOUNT.problem()),  # blank in a table, see test_placeholders_are_blank
        ("50%", Message.NOT_AN_AMOUNT.problem()),
    ],
)
def test_amount_problems(cell: object, problem: Problem) -> None:
    assert parse_amount(cell) == (None, problem)


def test_decimal_comma_settles_ambiguity() -> None:
    assert parse_number("1.234", decimal_comma=True) == (Decimal("1234"), None)
    assert parse_number("1,234", decimal_comma=True) == (Decimal("1.234"), None)
    assert parse_number("1,234", decimal_comma=False) == (Decimal("1234"), None)
    assert parse_number("1.234", decimal_comma=False) == (Decimal("1.234"), None)


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)


def formatted(value: Decimal, places: int, comma: bool, grouped: bool) -> str:
    text = f"{value:,.{places}f}" if grouped else f"{value:.{places}f}"
    if comma:
        text = text.translate(str.maketrans(",.", ".,"))
    return text


@given(amounts, st.integers(0, 2), st.booleans(), st.booleans())
def test_amount_round_trip_never_silently_wrong(
    value: Decimal, places: int, comma: bool, grouped: bool
) -> None:
    value = value.quantize(Decimal(1).scaleb(-places))
    text = formatted(value, places, comma, grouped)
    assert parse_number(text, decimal_comma=comma) == (value, None), text
    guessed, problem = parse_number(text)
    if problem is None:
        assert guessed == value, text
    else:  # never a silent guess: only "1,234"-like text without decimals is refused
        assert problem.code == "ambiguous_amount", text
        assert places == 0 and grouped, text


# --- other cells ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "currency"),
    [
        ("EUR", "EUR"),
        ("eur", "EUR"),
        ("€", "EUR"),
        (" gbp ", "GBP"),
        ("£", "GBP"),
        ("$", "USD"),
        ("Euros", "EUR"),
        ("eur.", "EUR"),
        ("Dollar", "USD"),
        ("US-Dollar", "USD"),
        ("US $", "USD"),
        ("pound sterling", "GBP"),
        ("Pfund", "GBP"),
        ("livre sterling", "GBP"),
    ],
)
def test_currencies(cell: str, currency: str) -> None:
    assert parse_currency(cell) == (currency, None)


@pytest.mark.parametrize("cell", ["CHF", "euro dollars", 12, ""])
def test_bad_currencies(cell: object) -> None:
    assert parse_currency(cell) == (None, Message.BAD_CURRENCY.problem())


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        *[(word, True) for word in ["yes", "Yes", "TRUE", "1", "ja", "oui", "sí", "si", "y", "Y"]],
        *[(word, True) for word in ["vrai", "Waar", "verdadero", "WAHR", "✓"]],
        *[(word, False) for word in ["no", "false", "0", "nee", "non", "n", "N"]],
        *[(word, False) for word in ["faux", "Onwaar", "falso", "FALSCH"]],
        (True, True),
        (False, False),
        (1, True),
        (0.0, False),
    ],
)
def test_booleans(cell: object, value: bool) -> None:
    assert parse_boolean(cell) == (value, None)


@pytest.mark.parametrize(
    ("cell", "value"),
    [(123, 123), (123.0, 123), ("123", 123), (" 42 ", 42), ("42.0", 42), ("42,0", 42)],
)
def test_integers(cell: object, value: int) -> None:
    assert parse_integer(cell) == (value, None)


@pytest.mark.parametrize("cell", [12.5, "12.5", "abc", True, "1,234"])
def test_not_integers(cell: object) -> None:
    assert parse_integer(cell) == (None, Message.NOT_AN_INTEGER.problem())


# --- rows -------------------------------------------------------------------------------


def test_a_valid_sendcloud_rates_row() -> None:
    headers = [*RATES_HEADERS, "damage_photo_1", "contents_purchase_price"]
    parsed = only(validate_table(table(headers, [[*rates_row(), "A1/dmg.jpg", 8]])))
    assert parsed == ParsedRow(
        row=2,
        tracking_number="3SABC0000001",
        variant=Variant.SENDCLOUD_RATES,
        is_portal_claim=False,
        fields={
            "contents_sales_price": Money(Decimal("12.50"), "EUR"),
            "contents_purchase_price": Money(Decimal("8"), "EUR"),
            "contents_description": "a mug",
            "parcel_exterior_description": "brown box",
            "additional_remarks": "broken",
        },
        documents={"damage_photo_1": "A1/dmg.jpg"},
        errors=(),
    )


@pytest.mark.parametrize(
    ("contract_type", "contract_id", "default", "variant"),
    [
        (None, None, Variant.SENDCLOUD_RATES, Variant.SENDCLOUD_RATES),
        (None, None, Variant.OWN_CONTRACT, Variant.OWN_CONTRACT),
        (None, 77, Variant.SENDCLOUD_RATES, Variant.OWN_CONTRACT),
        ("Own contract", None, Variant.SENDCLOUD_RATES, Variant.OWN_CONTRACT),
        ("own", 77, Variant.SENDCLOUD_RATES, Variant.OWN_CONTRACT),
        ("sendcloud rates", None, Variant.OWN_CONTRACT, Variant.SENDCLOUD_RATES),
        ("Sendcloud", None, Variant.OWN_CONTRACT, Variant.SENDCLOUD_RATES),
        ("Eigener Vertrag", 77, Variant.SENDCLOUD_RATES, Variant.OWN_CONTRACT),
        ("contrat propre", 77, Variant.SENDCLOUD_RATES, Variant.OWN_CONTRACT),
        ("Contrato propio", 77, Variant.SENDCLOUD_RATES, Variant.OWN_CONTRACT),
        ("Sendcloud-Tarife", None, Variant.OWN_CONTRACT, Variant.SENDCLOUD_RATES),
        ("Sendcloud tarieven", None, Variant.OWN_CONTRACT, Variant.SENDCLOUD_RATES),
        ("-", None, Variant.SENDCLOUD_RATES, Variant.SENDCLOUD_RATES),
        ("fedex", None, Variant.OWN_CONTRACT, None),
    ],
)
def test_contract_type(
    contract_type: str | None, contract_id: int | None, default: Variant, variant: Variant | None
) -> None:
    headers = [*RATES_HEADERS, "contract_type", "carrier_contract_id"]
    rows = validate_table(table(headers, [[*rates_row(), contract_type, contract_id]]), default)
    assert only(rows).variant is variant


def test_own_contract_needs_only_a_tracking_number() -> None:
    parsed = only(
        validate_table(
            table(
                ["tracking_number", "carrier_contract_id", "is_portal_claim"],
                [["3SABC0000001", 12.0, "ja"]],
            )
        )
    )
    assert parsed.variant is Variant.OWN_CONTRACT
    assert parsed.is_portal_claim is True
    assert parsed.fields == {"carrier_contract_id": 12}
    assert parsed.errors == ()


def error_of(headers: list[str], row: list[object], **kwargs: Any) -> tuple[str | None, str, str]:
    parsed = only(validate_table(table(headers, [row]), **kwargs))
    assert len(parsed.errors) == 1, parsed.errors
    error = parsed.errors[0]
    assert error.row == 2
    return error.column, error.code, error.message


OWN = ["tracking_number", "contract_type", "carrier_contract_id", "is_portal_claim"]


@pytest.mark.parametrize(
    ("row", "column", "code", "text"),
    [
        (
            [None, "own", None, None],
            "tracking_number",
            "required",
            'row 2, "tracking_number": missing (every row needs a tracking number)',
        ),
        (
            [UntrustworthyNumber("123456789012346000"), "own", None, None],
            "tracking_number",
            "untrustworthy_number",
            'row 2, "tracking_number": 123456789012346000 was stored by Excel as a number and '
            "may have lost digits (format the column as Text and re-type the number)",
        ),
        (
            ["1.23457E+17", "own", None, None],
            "tracking_number",
            "untrustworthy_number",
            'row 2, "tracking_number": "1.23457E+17" is a number Excel has shortened '
            "(format the column as Text and re-type the number)",
        ),
        (
            ["3SABC0000001", "fedex", None, None],
            "contract_type",
            "bad_contract_type",
            'row 2, "contract_type": "fedex" is not a contract type '
            "(expected own_contract or sendcloud_rates)",
        ),
        (
            ["3SABC0000001", "own", 12.5, None],
            "carrier_contract_id",
            "not_an_integer",
            'row 2, "carrier_contract_id": 12.5 is not a whole number '
            "(expected a contract ID such as 12345)",
        ),
        (
            ["3SABC0000001", "own", 0, None],
            "carrier_contract_id",
            "not_positive",
            'row 2, "carrier_contract_id": 0 is not a contract ID '
            "(expected a whole number above 0)",
        ),
        (
            ["3SABC0000001", "own", None, "maybe"],
            "is_portal_claim",
            "not_a_boolean",
            'row 2, "is_portal_claim": "maybe" is not yes or no '
            "(expected yes/no, true/false or 1/0; blank means no)",
        ),
        (
            ["3SABC0000001", "own", None, "yes"],
            "is_portal_claim",
            "portal_claim_needs_contract",
            'row 2, "is_portal_claim": a portal claim needs an own_contract claim with a '
            'carrier contract ID (fill in "carrier_contract_id" or set this cell to no)',
        ),
    ],
)
def test_own_contract_error_messages(row: list[object], column: str, code: str, text: str) -> None:
    assert error_of(OWN, row, default_variant=Variant.OWN_CONTRACT) == (column, code, text)


def test_carrier_contract_id_with_sendcloud_rates() -> None:
    headers = [*RATES_HEADERS, "contract_type", "carrier_contract_id"]
    assert error_of(headers, [*rates_row(), "sendcloud_rates", 77]) == (
        "carrier_contract_id",
        "contract_id_not_allowed",
        'row 2, "carrier_contract_id": 77 is only for own_contract claims (this row is '
        "sendcloud_rates: clear the cell or set the contract type to own_contract)",
    )


def test_portal_claim_with_sendcloud_rates() -> None:
    headers = [*RATES_HEADERS, "is_portal_claim"]
    column, code, _ = error_of(headers, [*rates_row(), "yes"])
    assert (column, code) == ("is_portal_claim", "portal_claim_needs_contract")


@pytest.mark.parametrize(
    ("price", "currency", "code", "text"),
    [
        ("ten", "EUR", "not_an_amount", '"ten" is not an amount (expected a number such as 12.50)'),
        (
            "1,234",
            "EUR",
            "ambiguous_amount",
            '"1,234" is ambiguous, 1234 or 1.234? '
            "(write the amount with its cents, such as 1234.00 or 1.23)",
        ),
        (
            "-12,50",
            "EUR",
            "negative_amount",
            '"-12,50" is negative (expected an amount of 0 or more)',
        ),
        (
            12.555,
            "EUR",
            "too_many_decimals",
            "12.555 has more than 2 decimals (expected a number such as 12.50)",
        ),
        (
            "CHF 12",
            "EUR",
            "bad_currency",
            '"CHF 12" has an unsupported currency CHF (expected EUR, GBP or USD)',
        ),
        (
            "€ 12",
            "GBP",
            "currency_mismatch",
            '"€ 12" is in EUR but "Currency" says GBP (make the currencies agree)',
        ),
        (
            12.5,
            None,
            "missing_currency",
            "12.5 needs a currency (add a currency column or write e.g. € 12.50)",
        ),
    ],
)
def test_amount_error_messages(price: object, currency: object, code: str, text: str) -> None:
    headers = ["Tracking", "Sales value", "Currency"]
    mapping = {"tracking_number": 0, "contents_sales_price": 1, "currency": 2}
    parsed = only(
        validate_table(
            table(headers, [["3SABC0000001", price, currency]], mapping), Variant.OWN_CONTRACT
        )
    )
    assert messages(parsed) == [("contents_sales_price", code, f'row 2, "Sales value": {text}')]


def test_bad_currency_column_is_reported_once() -> None:
    headers = ["tracking_number", "contents_sales_price", "contents_sales_currency"]
    parsed = only(
        validate_table(table(headers, [["3SABC0000001", 12, "CHF"]]), Variant.OWN_CONTRACT)
    )
    assert messages(parsed) == [
        (
            "contents_sales_currency",
            "bad_currency",
            'row 2, "contents_sales_currency": "CHF" is not a supported currency '
            "(expected EUR, GBP or USD)",
        )
    ]


def test_own_and_shared_currency_columns_must_agree() -> None:
    """Issue 8: the own currency column no longer silently wins over the shared one."""
    headers = [
        "tracking_number",
        "contents_sales_price",
        "contents_sales_currency",
        "contents_purchase_price",
        "currency",
    ]
    rows = [["3SABC0000001", 3, "gbp", "4.5000", "usd"], ["3SABC0000002", 3, "usd", "4.5000", "$"]]
    first, second = validate_table(table(headers, rows), Variant.OWN_CONTRACT)
    assert messages(first) == [
        (
            "contents_sales_price",
            "currency_mismatch",
            'row 2, "contents_sales_price": 3: "contents_sales_currency" says GBP but '
            '"currency" says USD (make the currencies agree)',
        )
    ]
    assert first.fields == {"contents_purchase_price": Money(Decimal("4.50"), "USD")}
    assert second.errors == ()
    assert second.fields == {
        "contents_sales_price": Money(Decimal("3"), "USD"),
        "contents_purchase_price": Money(Decimal("4.50"), "USD"),
    }


def test_placeholders_are_blank_in_typed_columns() -> None:
    headers = [
        *RATES_HEADERS,
        "contents_purchase_price",
        "carrier_contract_id",
        "is_portal_claim",
        "contract_type",
    ]
    rows = [
        [*rates_row("3SABC0000001"), "-", "n/a", "-", "–"],
        [*rates_row("3SABC0000002"), "€ -", "nvt", "n.v.t.", None],
        [*rates_row("3SABC0000003"), " - € ", "k.A.", "N/A", "--"],
    ]
    parsed = validate_table(table(headers, rows))
    for row in parsed:
        assert row.errors == ()
        assert row.variant is Variant.SENDCLOUD_RATES
        assert row.is_portal_claim is False
        assert "contents_purchase_price" not in row.fields
        assert "carrier_contract_id" not in row.fields


def test_a_placeholder_in_a_required_amount_is_missing_and_text_is_kept() -> None:
    headers = ["Tracking", "Sales value", "Currency", "Contents", "Exterior", "Remarks"]
    mapping = {name: i for i, name in enumerate(RATES_HEADERS)}
    parsed = only(
        validate_table(table(headers, [["3SABC0000001", "n/a", "EUR", "-", "box", "n/a"]], mapping))
    )
    assert messages(parsed) == [
        (
            "contents_sales_price",
            "required",
            'row 2, "Sales value": missing (required for sendcloud_rates claims)',
        )
    ]
    assert parsed.fields["contents_description"] == "-"
    assert parsed.fields["additional_remarks"] == "n/a"


@pytest.mark.parametrize(
    ("header", "cell", "money"),
    [
        ("Sales price (EUR)", 12.5, Money(Decimal("12.5"), "EUR")),
        ("Verkoopwaarde €", "12,50", Money(Decimal("12.50"), "EUR")),
        ("Prix de vente en €", "12,50 €", Money(Decimal("12.50"), "EUR")),
        ("Sales value [GBP]", "£ 3", Money(Decimal("3"), "GBP")),
        ("Sales value in USD", 7, Money(Decimal("7"), "USD")),
    ],
)
def test_a_currency_in_the_amount_header_is_the_column_currency(
    header: str, cell: object, money: Money
) -> None:
    headers = ["Tracking", header]
    mapping = {"tracking_number": 0, "contents_sales_price": 1}
    parsed = only(
        validate_table(table(headers, [["3SABC0000001", cell]], mapping), Variant.OWN_CONTRACT)
    )
    assert parsed.errors == ()
    assert parsed.fields == {"contents_sales_price": money}


def test_the_header_the_currency_column_and_the_cell_must_agree() -> None:
    """Issue 8: a currency column no longer wins silently over the header's currency."""
    headers = ["Tracking", "Sales value (EUR)", "Purchase value (EUR)", "Purchase currency"]
    mapping = {
        "tracking_number": 0,
        "contents_sales_price": 1,
        "contents_purchase_price": 2,
        "contents_purchase_currency": 3,
    }
    parsed = only(
        validate_table(
            table(headers, [["3SABC0000001", "$12.50", 4, "GBP"]], mapping), Variant.OWN_CONTRACT
        )
    )
    assert messages(parsed) == [
        (
            "contents_sales_price",
            "currency_mismatch",
            'row 2, "Sales value (EUR)": "$12.50" is in USD but the header "Sales value (EUR)" '
            "says EUR (make the currencies agree)",
        ),
        (
            "contents_purchase_price",
            "currency_mismatch",
            'row 2, "Purchase value (EUR)": 4: the header "Purchase value (EUR)" says EUR but '
            '"Purchase currency" says GBP (make the currencies agree)',
        ),
    ]
    assert parsed.fields == {}


def test_required_for_sendcloud_rates() -> None:
    headers = ["Tracking", "Sales value", "Currency", "Contents", "Remarks"]
    mapping = {
        "tracking_number": 0,
        "contents_sales_price": 1,
        "currency": 2,
        "contents_description": 3,
        "additional_remarks": 4,
    }
    parsed = only(
        validate_table(table(headers, [["3SABC0000001", None, "EUR", "mug", None]], mapping))
    )
    assert messages(parsed) == [
        (
            "contents_sales_price",
            "required",
            'row 2, "Sales value": missing (required for sendcloud_rates claims)',
        ),
        (
            "parcel_exterior_description",
            "required",
            'row 2, "parcel_exterior_description": missing: the sheet has no such column '
            "(required for sendcloud_rates claims)",
        ),
        (
            "additional_remarks",
            "required",
            'row 2, "Remarks": missing (required for sendcloud_rates claims)',
        ),
    ]


def test_every_problem_of_a_row_is_reported_together() -> None:
    headers = [*RATES_HEADERS, "contract_type", "carrier_contract_id", "is_portal_claim"]
    row = ["1.2E+13", "ten", "EUR", None, "box", "x", "sendcloud", "abc", "perhaps"]
    parsed = only(validate_table(table(headers, [row])))
    assert [(e.column, e.code) for e in parsed.errors] == [
        ("tracking_number", "untrustworthy_number"),
        ("carrier_contract_id", "not_an_integer"),
        ("is_portal_claim", "not_a_boolean"),
        ("contents_sales_price", "not_an_amount"),
        ("contents_description", "required"),
    ]
    assert parsed.tracking_number is None
    assert parsed.variant is Variant.SENDCLOUD_RATES


def test_duplicate_tracking_numbers_are_errors_on_later_rows() -> None:
    rows = [
        rates_row("3SABC0000001"),
        rates_row("3SABC0000002"),
        rates_row("3SABC0000001"),
        rates_row("3SABC0000001"),
    ]
    parsed = validate_table(table(RATES_HEADERS, rows))
    assert [p.errors for p in parsed[:2]] == [(), ()]
    assert messages(parsed[2]) == [
        (
            "tracking_number",
            "duplicate_tracking_number",
            'row 4, "tracking_number": "3SABC0000001" is already on row 2 '
            "(one claim per parcel: remove one of the rows)",
        )
    ]
    assert (
        parsed[3]
        .errors[0]
        .message.startswith('row 5, "tracking_number": "3SABC0000001" is already on row 2')
    )


def test_numeric_tracking_numbers_from_a_hand_built_table() -> None:
    parsed = validate_table(
        table(OWN, [[1234567890123.0, None, None, None], [12345678, None, None, None]])
    )
    assert [p.tracking_number for p in parsed] == ["1234567890123", "12345678"]


def test_empty_table() -> None:
    assert validate_table(table(RATES_HEADERS, [])) == []


def test_only_api_fields_are_in_fields() -> None:
    api = {c.name for c in COLUMNS if c.api_field and not c.is_document}
    headers = [*RATES_HEADERS, "contract_type", "is_portal_claim", "sales_invoice"]
    parsed = only(validate_table(table(headers, [[*rates_row(), "sendcloud", "no", "inv.pdf"]])))
    assert set(parsed.fields) <= api - {"tracking_number"}
    assert parsed.documents == {"sales_invoice": "inv.pdf"}


def test_many_rows_validate_quickly() -> None:
    rows = [rates_row(f"3SABC{i:06d}", f"{i % 900 + 1},50") for i in range(5000)]
    rows[4000][1] = "oops"
    started = time.perf_counter()
    parsed = validate_table(table(RATES_HEADERS, rows))
    elapsed = time.perf_counter() - started
    assert [p.row for p in parsed if p.errors] == [4002]
    assert elapsed < 2.0


# --- the decimal convention of a file ---------------------------------------------------

AMOUNT_HEADERS = ["tracking_number", "contents_sales_price", "contents_purchase_price", "currency"]


def amount_table(*prices: tuple[object, object]) -> Any:
    rows = [[f"3SABC{i:08d}", sales, purchase, "EUR"] for i, (sales, purchase) in enumerate(prices)]
    return table(AMOUNT_HEADERS, rows)


def prices_of(rows: list[ParsedRow]) -> list[object]:
    return [row.fields.get("contents_sales_price") for row in rows]


def test_decimal_comma_inferred_from_the_other_amounts() -> None:
    sheet = amount_table(("10,55", None), ("1.234", "3,5"), (12, "1,234"))
    convention = decimal_convention(sheet)
    assert (convention.decimal_comma, convention.inferred) == (True, True)
    assert convention.name == "decimal comma (inferred from the file)"
    assert convention.notice == (
        'amounts read with a decimal comma, inferred from the file (row 2: "10,55"); '
        'so "1.234" on row 3 is 1234 (2 amounts read this way; '
        "pass --decimal-point if that is wrong)"
    )
    parsed = validate_table(sheet, Variant.OWN_CONTRACT)
    assert prices_of(parsed)[1] == Money(Decimal("1234"), "EUR")
    assert parsed[1].fields["contents_purchase_price"] == Money(Decimal("3.5"), "EUR")
    # "1,234" with a decimal comma is 1.234: three decimals, an error, never 1234.
    assert [e.code for e in parsed[2].errors] == ["too_many_decimals"]


def test_decimal_point_inferred_from_the_other_amounts() -> None:
    sheet = amount_table(("€ 1,234.56", None), ("1,234", None))
    convention = decimal_convention(sheet)
    assert convention.decimal_comma is False
    assert convention.notice == (
        'amounts read with a decimal point, inferred from the file (row 2: "€ 1,234.56"); '
        'so "1,234" on row 3 is 1234 (1 amount read this way; '
        "pass --decimal-comma if that is wrong)"
    )
    assert prices_of(validate_table(sheet, Variant.OWN_CONTRACT))[1] == Money(
        Decimal("1234"), "EUR"
    )


def test_both_conventions_in_one_file_keep_ambiguous_amounts_errors() -> None:
    sheet = amount_table(("10,55", None), ("12.50", None), ("1,234", None))
    convention = decimal_convention(sheet)
    assert convention.decimal_comma is None
    assert convention.name == (
        "not settled: the file shows both a decimal comma and a decimal point"
    )
    assert convention.notice == (
        'amounts in this file show both decimal marks (row 2: "10,55", row 3: "12.50"), '
        'so amounts such as "1,234" on row 4 are not guessed'
    )
    parsed = validate_table(sheet, Variant.OWN_CONTRACT)
    assert [e.code for e in parsed[2].errors] == ["ambiguous_amount"]


def test_no_evidence_keeps_ambiguous_amounts_errors() -> None:
    sheet = amount_table((12.5, None), ("1.234", None), ("1 000", None))
    convention = decimal_convention(sheet)
    assert (convention.decimal_comma, convention.notice) == (None, None)
    assert convention.name == "not settled: nothing in the file shows it"
    parsed = validate_table(sheet, Variant.OWN_CONTRACT)
    assert [e.code for e in parsed[1].errors] == ["ambiguous_amount"]


def test_a_given_convention_wins_over_the_file() -> None:
    sheet = amount_table(("10,55", None), ("1.234", None))
    convention = decimal_convention(sheet, decimal_comma=False)
    assert (convention.decimal_comma, convention.inferred, convention.notice) == (
        False,
        False,
        None,
    )
    assert convention.name == "decimal point (given)"
    parsed = validate_table(sheet, Variant.OWN_CONTRACT, decimal_comma=False)
    assert prices_of(parsed) == [Money(Decimal("10.55"), "EUR"), None]
    assert [e.code for e in parsed[1].errors] == ["too_many_decimals"]  # 1.234, not 1234


def test_convention_not_needed_without_ambiguous_amounts() -> None:
    convention = decimal_convention(amount_table(("10,55", 3)))
    assert (convention.decimal_comma, convention.name, convention.notice) == (
        True,
        "decimal comma (inferred from the file)",
        None,
    )


# --- error codes and their messages ------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("message", list(Message), ids=lambda m: m.name)
def test_every_message_has_a_code_and_fills_its_whole_template(message: Message) -> None:
    assert isinstance(message.code, ErrorCode)
    problem = message.problem(**{word: f"<{word}>" for word in message.words})
    text = problem.text("3SABC{0}")  # braces in a cell are shown, never formatted
    for word in message.words:
        assert f"<{word}>" in text
    assert "{" not in text.replace("3SABC{0}", "")
    assert problem.code is message.code


def test_a_problem_refuses_words_its_template_does_not_take() -> None:
    with pytest.raises(ValueError, match="AMBIGUOUS_AMOUNT needs"):
        Message.AMBIGUOUS_AMOUNT.problem(thousands="1234")
    with pytest.raises(ValueError, match="NOT_AN_AMOUNT needs"):
        Message.NOT_AN_AMOUNT.problem(currency="EUR")


def test_every_code_a_cell_check_gives_has_its_messages() -> None:
    cell_codes = {
        *("required", "excel_error", "uncalculated_formula", "internal_error"),
        *("not_a_tracking_number", "not_text", "untrustworthy_number"),
        *("duplicate_tracking_number", "bad_contract_type", "not_an_integer", "not_positive"),
        *("contract_id_not_allowed", "not_a_boolean", "portal_claim_needs_contract"),
        *("not_an_amount", "ambiguous_amount", "negative_amount", "zero_amount"),
        *("amount_too_large", "too_many_decimals", "bad_currency", "currency_mismatch"),
        *("missing_currency", "unrecognised_column"),
        # the columns of the other ticket types, and the type's own rules
        *("bad_ticket_type", "not_a_dimension", "not_dimensions", "dimensions_mismatch"),
        *("not_a_date", "not_for_ticket_type", "ticket_type_not_for_contract"),
    }
    assert {message.code for message in Message} == cell_codes


def test_every_error_code_the_docs_name_exists() -> None:
    docs = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`error_code` `([a-z_]+)`", docs))
    assert named >= {"internal_error", "unchanged_since_refused"}
    attachments = (ROOT / "batch_claims" / "validate" / "attachments.py").read_text("utf-8")
    listed = attachments.split("Error codes of the ``RowError`` values made here:")[1]
    named |= set(re.findall(r"``([a-z_]+)``", listed.split('"""')[0]))
    assert len(named) > 10
    assert named <= {code.value for code in ErrorCode}


def test_error_codes_keep_their_spelling() -> None:
    # Written into results workbooks and the journal: never renamed.
    for code in ErrorCode:
        assert code.value == code.name.lower()


def test_a_single_forbidden_character_is_named_in_the_singular() -> None:
    parsed = validate_table(table(RATES_HEADERS, [rates_row("3SABC,0123456")]))
    (error,) = parsed[0].errors
    assert error.code == "not_a_tracking_number"
    assert '"," is never part of one' in error.message
