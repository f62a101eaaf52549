"""The shortcuts validation takes at scale give the answers of the long way round: the
usual tracking number read by pattern, a repeated cell parsed once, an amount worked
out once per distinct cell and currency context, columns every row's type uses not
looked at per row, no dimension parts in the sheet, the frame holding only what the
schemas check, the cycle collector paused while a sheet is validated."""

from __future__ import annotations

import gc
from dataclasses import FrozenInstanceError, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.columns import COLUMNS, DIMENSION_PARTS, Variant
from batch_claims.outcome import Claim, Dimensions, ErrorCode, RowOutcome, Status, WindowState
from batch_claims.ticket_types import TicketType
from batch_claims.validate.coerce import parse_all, parse_tracking_number, tracking_text
from batch_claims.validate.money import StatedCurrency, amount_column
from batch_claims.validate.prepare import _validated
from batch_claims.validate.rows import ParsedRow, validate_table
from batch_claims.validate.type_checks import dimensions
from tests.sheet_fixtures import table

# --- tracking numbers -----------------------------------------------------------------

_TRACKING_TEXT = st.one_of(
    st.from_regex(r"[A-Za-z0-9]{6,42}", fullmatch=True),
    st.from_regex(r"[0-9]{1,6}[eE][0-9]{1,4}", fullmatch=True),
    st.from_regex(r"([A-Za-z0-9])\1{7,12}", fullmatch=True),
    st.text(alphabet="0123456789aAzZeE.,- \u00a0!éß٣", max_size=44),
    st.text(max_size=44),
)


@given(_TRACKING_TEXT)
def test_the_plain_tracking_number_shortcut_answers_as_the_full_check(text: str) -> None:
    assert parse_tracking_number(text) == tracking_text(text)


@pytest.mark.parametrize(
    "text", ["3SABCD0123456789", "1234E567", "11111111", "abcdefgh", "AB12", "X" * 40 + "1"]
)
def test_tracking_numbers_at_the_edges_of_the_shortcut(text: str) -> None:
    assert parse_tracking_number(text) == tracking_text(text)


# --- parsing a column -------------------------------------------------------------------

_CELLS = st.lists(
    st.sampled_from(
        [None, 1, 1.0, True, 0, 0.0, False, "1", "x", " x", Decimal("1"), Decimal("sNaN")]
    ),
    max_size=30,
)


def _describe(value: object) -> tuple[tuple[str, str], None]:
    return (type(value).__name__, str(value)), None


@given(_CELLS)
def test_a_column_is_parsed_as_each_cell_alone(cells: list[object]) -> None:
    expected = [None if cell is None else _describe(cell) for cell in cells]
    assert parse_all(_describe, cells) == expected


def test_repeated_texts_share_one_answer() -> None:
    calls: list[object] = []

    def parse(value: object) -> tuple[object, None]:
        calls.append(value)
        return value, None

    first, _, third = parse_all(parse, ["EUR", "GBP", "EUR"])
    assert first is third
    assert calls == ["EUR", "GBP"]


# --- amounts ------------------------------------------------------------------------------

_AMOUNT_CELLS = st.sampled_from(
    [None, 12.5, 12, "12,50", "1,234", "€ 12.50", "12 GBP", "12 JPY", -3, 0, 12.345, "abc"]
)
_CURRENCY_CELLS = st.sampled_from([None, "EUR", "GBP", "xx"])
_READ = {"EUR": "EUR", "GBP": "GBP"}
_PRICE = next(c for c in COLUMNS if c.name == "contents_sales_price")


@given(st.lists(st.tuples(_AMOUNT_CELLS, _CURRENCY_CELLS), max_size=25), st.booleans())
def test_an_amount_column_answers_each_cell_as_alone(
    cells: list[tuple[object, object]], comma: bool
) -> None:
    sheet = table(["contents_sales_price", "currency"], [list(pair) for pair in cells])

    def column(pairs: list[tuple[object, object]]) -> tuple[list[object], ...]:
        amounts = [amount for amount, _ in pairs]
        currencies = [currency for _, currency in pairs]
        stated = {
            "currency": StatedCurrency(
                "currency", currencies, [_READ.get(str(c)) for c in currencies]
            )
        }
        found = amount_column(sheet, _PRICE, amounts, stated, comma)
        problems = [found.problems.get(i) for i in range(len(pairs))]
        return found.prices, found.money, problems

    whole = column(cells)
    alone = [column([pair]) for pair in cells]
    for part in range(3):
        assert whole[part] == [one[part][0] for one in alone]


# --- a whole table ------------------------------------------------------------------------

_HEADERS = [
    "tracking_number",
    "ticket_type",
    "contract_type",
    "carrier_contract_id",
    "is_portal_claim",
    "contents_sales_price",
    "currency",
    "contents_description",
    "parcel_length",
    "parcel_width",
    "parcel_height",
    "parcel_dimensions",
    "shipped_at",
]
_POOLS: list[list[object]] = [
    ["3SABCD0123456789", "9400 1000 0000 1234", "123456789012.0", "TBD", 123456789012, "ab"],
    [None, "damage", "lost", "delay", "late delivery", "bogus", "address change"],
    [None, "own_contract", "sendcloud_rates", "weird", "-"],
    [None, 12345, "12345", -5, 0, "abc", "1.2E+3"],
    [None, "yes", "no", "maybe", 1, "-"],
    [None, 12.5, "12,50", "1,234", "€ 12.50", -3, 0, "12 JPY", "n/a"],
    [None, "EUR", "GBP", "xx", "-"],
    [None, "a mug", 5, True, "-"],
    [None, 40, "12,5", 0, "abc"],
    [None, 30, "30 cm"],
    [None, 20, 2000],
    [None, "40x30x20", "40x30", 5],
    [None, datetime(2026, 11, 20), date(2026, 11, 1), "2026-11-23", "03/04/2026", "yes"],
]
_ROWS = st.lists(
    st.tuples(*(st.sampled_from(pool) for pool in _POOLS)).map(list), min_size=1, max_size=8
)


def _without_duplicates(row: ParsedRow) -> ParsedRow:
    """The row without the one cross-row check, which a row alone cannot fail."""
    kept = tuple(e for e in row.errors if e.code != ErrorCode.DUPLICATE_TRACKING_NUMBER)
    return replace(row, errors=kept)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_ROWS, st.booleans(), st.sampled_from(list(Variant)), st.sampled_from(list(TicketType)))
def test_a_table_validates_each_row_as_alone(
    rows: list[list[object]], comma: bool, variant: Variant, ticket_type: TicketType
) -> None:
    sheet = table(_HEADERS, rows)
    whole = validate_table(sheet, variant, comma, ticket_type)
    alone = [
        validate_table(replace(sheet, rows=(source,)), variant, comma, ticket_type)[0]
        for source in sheet.rows
    ]
    assert [_without_duplicates(row) for row in whole] == alone


def test_a_parsed_row_holds_every_field_as_its_constructor_would() -> None:
    sheet = table(_HEADERS, [[pool[1] for pool in _POOLS], [pool[2] for pool in _POOLS]])
    for parsed in validate_table(sheet, Variant.OWN_CONTRACT, False, TicketType.DAMAGE):
        names = [f.name for f in fields(ParsedRow)]
        assert list(vars(parsed)) == names  # none left to a class default
        assert parsed == ParsedRow(**{name: getattr(parsed, name) for name in names})
        with pytest.raises(FrozenInstanceError):
            parsed.row = 1  # type: ignore[misc]


def test_without_dimension_parts_each_row_keeps_its_own_cell() -> None:
    own = [Dimensions(Decimal(40), Decimal(30), Decimal(20)), None]
    parts: dict[str, list[object]] = {name: [None, None] for name in DIMENSION_PARTS}
    values, found = dimensions([2, 3], own, ["40x30x20", None], parts, {"parcel_width": {3}})
    assert (values, found) == (own, [])


# --- the cycle collector --------------------------------------------------------------------


def test_validation_restores_the_collector() -> None:
    sheet = table(["tracking_number"], [["3SABCD0123456789"]])
    _validated(sheet, Variant.OWN_CONTRACT, None, TicketType.DAMAGE)
    assert gc.isenabled()


@given(
    status=st.sampled_from(list(Status)),
    values=st.fixed_dictionaries(
        {},
        optional={
            "ticket_id": st.text(max_size=5),
            "http_status": st.integers(100, 599),
            "error_code": st.sampled_from(list(ErrorCode)),
            "error_detail": st.text(max_size=5),
            "attempts": st.integers(0, 9),
            "submitted_at": st.datetimes(),
        },
    ),
    deadline=st.none() | st.dates(),
    window=st.none() | st.sampled_from(list(WindowState)),
)
def test_a_claims_outcome_is_the_one_its_constructor_makes(
    status: Status, values: dict[str, object], deadline: date | None, window: Any
) -> None:
    """``Claim.outcome``, made without ``RowOutcome.__init__``: every field set, equal
    to the constructor's, still frozen; an unknown field is refused as it would be."""
    claim = Claim(
        row=7,
        tracking_number="3SOUTCOME01",
        variant=Variant.OWN_CONTRACT,
        is_portal_claim=False,
        fields={},
        evidence="✓ all",
        ticket_type=TicketType.LOST,
        deadline=deadline,
        window=window,
    )
    made = claim.outcome(status, **values)
    expected = RowOutcome(
        row=7,
        tracking_number="3SOUTCOME01",
        contract_type="own_contract",
        ticket_type="lost",
        status=status,
        evidence="✓ all",
        deadline=deadline,
        window=window,
        **values,  # type: ignore[arg-type]
    )
    assert made == expected
    assert {f.name for f in fields(RowOutcome)} == set(vars(made))
    with pytest.raises(FrozenInstanceError):
        made.attempts = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        claim.outcome(status, tiket_id="1")
