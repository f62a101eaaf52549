"""The pandera schemas of the two variants, and the message for each error of a row.

``validate_table`` turns a ``SheetTable`` into one ``ParsedRow`` per data row: cells
are coerced column by column with the parsers of ``coerce`` (amounts, currencies,
yes/no, ids, tracking numbers); what cannot be coerced becomes a ``RowError`` at once.
The typed frame is then validated once for all rows (tracking numbers) and once per
variant (required columns, cross-column rules) with ``lazy=True``, and pandera's
failure cases become ``RowError`` values too. Every problem of a row is reported
together. An amount's currency may be said by the cell, its number format, its header
and the currency columns: all that say one must agree. Values read otherwise than
written (an id written as ``123.0``, a tracking number spaced as on its label) are
kept per row (``ParsedRow.readings``) and told once per column (``reading_notices``).

Amount texts such as ``1,234`` are ambiguous on their own. ``decimal_convention``
settles them per file: when the file's other amount texts all show one decimal mark
(``10,55``, ``1.234,56`` → comma; ``12.50``, ``1,234.56`` → point), the ambiguous ones
are read that way and a notice says so; a file showing both keeps them errors.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from batch_claims.columns import (
    BY_NAME,
    CARRIER_CONTRACT_ID,
    COLUMNS,
    CONTRACT_TYPE,
    DOCUMENT_COLUMNS,
    IS_PORTAL_CLAIM,
    SHARED_CURRENCY,
    TRACKING_NUMBER,
    Column,
    Kind,
    Variant,
    required_columns,
)
from batch_claims.outcome import Money, RowError
from batch_claims.read.headers import header_currency
from batch_claims.read.table import SheetTable
from batch_claims.validate.coerce import (
    CENT,
    MAX_AMOUNT,
    PARSERS,
    TRACKING_LENGTH,
    Coerced,
    ParsedAmount,
    Problem,
    check_amount,
    is_float_text,
    is_placeholder,
    parse_amount,
    show_plain,
    shown_decimal_mark,
)

_CONTRACT_GIVEN = "__contract_given"  # internal frame column: contract id cell not blank
# Column kinds where a placeholder such as "-" or "n/a" means the cell is blank (in text
# columns it stays what the user wrote).
_BLANK_PLACEHOLDERS = frozenset(
    {Kind.CONTRACT_TYPE, Kind.INTEGER, Kind.BOOLEAN, Kind.AMOUNT, Kind.CURRENCY}
)


@dataclass(frozen=True)
class Reading:
    """A value read otherwise than written, for a notice: "123456789012.0" as 123456789012
    (``kind`` "float"), "9400 1000 0000" as "940010000000" (``kind`` "grouped": the
    spaces a label prints between groups left out)."""

    column: str
    kind: str
    written: str
    read: str


@dataclass(frozen=True)
class ParsedRow:
    row: int
    tracking_number: str | None
    variant: Variant | None
    is_portal_claim: bool
    # api_field columns other than tracking_number and documents; blank values absent.
    fields: dict[str, str | int | Money]
    documents: dict[str, str]  # document column -> the path as typed
    errors: tuple[RowError, ...]
    readings: tuple[Reading, ...] = ()  # values read otherwise than written (notices)


@dataclass(frozen=True)
class DecimalConvention:
    """How ambiguous amount texts of one table are read.

    ``decimal_comma``: True reads ``1,234`` as 1.234 and ``1.234`` as 1234; False the
    other way round; None leaves them errors. Unambiguous texts (``10,55``,
    ``1,234.56``) read the same whatever it is.
    """

    decimal_comma: bool | None
    inferred: bool  # read from the table's own amounts, not given by the caller
    evidence: tuple[tuple[int, str], ...] = ()  # (row, text) showing each mark seen
    settled: tuple[tuple[int, str], ...] = ()  # ambiguous texts, (row, text)

    @property
    def name(self) -> str:
        """For the run summary: "decimal comma (inferred from the file)" and the like."""
        if self.decimal_comma is None:
            if len(self.evidence) > 1:
                return "not settled: the file shows both a decimal comma and a decimal point"
            return "not needed" if not self.settled else "not settled: nothing in the file shows it"
        mark = "decimal comma" if self.decimal_comma else "decimal point"
        return f"{mark} ({'inferred from the file' if self.inferred else 'given'})"

    @property
    def notice(self) -> str | None:
        """What the user should be told, when the inference changed or blocked a reading."""
        if not self.settled:
            return None
        row, text = self.settled[0]
        if self.decimal_comma is None:
            if len(self.evidence) < 2:
                return None
            (row_a, text_a), (row_b, text_b) = self.evidence[:2]
            return (
                f'amounts in this file show both decimal marks (row {row_a}: "{text_a}", '
                f'row {row_b}: "{text_b}"), so amounts such as "{text}" on row {row} are '
                "not guessed"
            )
        if not self.inferred:
            return None
        number, _ = parse_amount(text, self.decimal_comma)
        shown = f"{number.price:f}" if isinstance(number, ParsedAmount) else text
        mark, other = ("comma", "point") if self.decimal_comma else ("point", "comma")
        count = len(self.settled)
        first_row, first_text = self.evidence[0]
        return (
            f"amounts read with a decimal {mark}, inferred from the file (row {first_row}: "
            f'"{first_text}"); so "{text}" on row {row} is {shown} '
            f"({count} amount{'s' if count > 1 else ''} read this way; "
            f"pass --decimal-{other} if that is wrong)"
        )


def decimal_convention(table: SheetTable, decimal_comma: bool | None = None) -> DecimalConvention:
    """The decimal convention for the table's amount texts: given, or inferred from them.

    Evidence is an amount text that reads the same under both conventions and shows a
    decimal mark (``10,55``, ``1.234,56``, ``12.5``) or a thousands mark used more than
    once (``1.234.567``). Numeric cells show nothing.
    """
    evidence: dict[str, tuple[int, str]] = {}
    settled: list[tuple[int, str]] = []
    seen: dict[str, str | None] = {}  # text -> "," / "." / "?" (ambiguous) / None
    indexes = [
        table.mapping[c.name] for c in COLUMNS if c.kind is Kind.AMOUNT and c.name in table.mapping
    ]
    for source in table.rows:
        for index in indexes:
            value = source.cells[index]
            if not isinstance(value, str):
                continue
            if value not in seen:
                seen[value] = shown_decimal_mark(value)
            mark = seen[value]
            if mark == "?":
                settled.append((source.row, value))
            elif mark is not None and mark not in evidence:
                evidence[mark] = (source.row, value)
    shown = tuple(sorted(evidence.values()))
    if decimal_comma is not None:
        return DecimalConvention(decimal_comma, False, shown, tuple(settled))
    if len(evidence) == 1:
        return DecimalConvention("," in evidence, True, shown, tuple(settled))
    return DecimalConvention(None, False, shown, tuple(settled))


# --- messages -------------------------------------------------------------------------

_AMOUNT_HINT = "expected a number such as 12.50"
_TRACKING_HINT = (
    f"expected {TRACKING_LENGTH[0]} to {TRACKING_LENGTH[1]} letters and digits as on the "
    "label, such as 3SABCD0123456789"
)
_TEXT_ADVICE = "format the column as Text and re-type the number"


def show(value: object) -> str:
    """A cell for a message: text in quotes (shortened, on one line, a control character
    as "�"), numbers as the user sees them."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:39] + "…"
        text = _CONTROL.sub(lambda m: " " if m.group().isspace() else "\ufffd", text)
        return f'"{text}"'
    return show_plain(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def message(
    table: SheetTable,
    row: int,
    column: str,
    code: str,
    value: object,
    detail: str = "",
    variant: Variant | None = None,
) -> str:
    """The one-line message for an error code: row, header, what is wrong, what is expected."""
    where = f'row {row}, "{table.header_of(column)}": '
    shown = show(value)
    contract_header = table.header_of(CARRIER_CONTRACT_ID)
    texts = {
        "required": _required_text(table, column, variant),
        "excel_error": (
            f"{shown} is an Excel error, not a value (fix the formula, or type the value itself)"
        ),
        "uncalculated_formula": (
            f"{shown} was never calculated: the program that wrote this file stores formulas "
            "without their results (open the file in Excel and save it, or type the value "
            "itself)"
        ),
        "internal_error": (
            f"this cell could not be read because of an unexpected error ({detail}); the row "
            "was not sent and the other rows are not affected — please report this"
        ),
        "not_a_tracking_number": _tracking_text(shown, detail),
        "not_text": f"{shown} is not text (expected the tracking number as text; {_TEXT_ADVICE})",
        "untrustworthy_number": (
            f"{shown} is a number Excel has shortened ({_TEXT_ADVICE})"
            if detail == "scientific"
            else f"{shown} was stored by Excel as a number and may have lost digits "
            f"({_TEXT_ADVICE})"
        ),
        "duplicate_tracking_number": (
            f"{shown} is already on row {detail} (one claim per parcel: remove one of the rows)"
        ),
        "bad_contract_type": (
            f"{shown} is not a contract type (expected own_contract or sendcloud_rates)"
        ),
        "not_an_integer": f"{shown} is not a whole number (expected a contract ID such as 12345)",
        "not_positive": f"{shown} is not a contract ID (expected a whole number above 0)",
        "contract_id_not_allowed": (
            f"{shown} is only for own_contract claims (this row is sendcloud_rates: "
            "clear the cell or set the contract type to own_contract)"
        ),
        "not_a_boolean": (
            f"{shown} is not yes or no (expected yes/no, true/false or 1/0; blank means no)"
        ),
        "portal_claim_needs_contract": (
            "a portal claim needs an own_contract claim with a carrier contract ID "
            f'(fill in "{contract_header}" or set this cell to no)'
        ),
        "not_an_amount": f"{shown} is not an amount ({_AMOUNT_HINT})",
        "ambiguous_amount": _ambiguous_text(shown, detail),
        "negative_amount": f"{shown} is negative (expected an amount of 0 or more)",
        "zero_amount": (
            f"{shown} is zero (a {variant or 'sendcloud_rates'} claim needs the sales value "
            "of the contents, above 0)"
        ),
        "amount_too_large": (
            f"{shown} is more than {MAX_AMOUNT:,} (expected the value of one parcel's "
            "contents; check the cell)"
        ),
        "too_many_decimals": f"{shown} has more than 2 decimals ({_AMOUNT_HINT})",
        "bad_currency": (
            f"{shown} is not a supported currency (expected EUR, GBP or USD)"
            if not detail
            else f"{shown} has an unsupported currency {detail} (expected EUR, GBP or USD)"
        ),
        "currency_mismatch": f"{shown}{detail} (make the currencies agree)",
        "missing_currency": (
            f"{shown} needs a currency (add a currency column or write e.g. € 12.50)"
        ),
    }
    return where + texts[code]


def _required_text(table: SheetTable, column: str, variant: Variant | None) -> str:
    why = "every row needs a tracking number"
    if column != TRACKING_NUMBER:
        why = f"required for {variant or 'these'} claims"
    if column not in table.mapping:
        return f"missing: the sheet has no such column ({why})"
    return f"missing ({why})"


def _tracking_text(shown: str, detail: str) -> str:
    why, _, what = detail.partition("|")
    if why == "placeholder":
        return (
            f"{shown} is a placeholder, not a tracking number (fill in the parcel's "
            "tracking number as on its label, or remove the row)"
        )
    if why == "characters":
        verb = "is" if "," not in what else "are"
        return (
            f"{shown} is not a tracking number: {what} {verb} never part of one ({_TRACKING_HINT})"
        )
    if why == "length":
        return f"{shown} is not a tracking number: {what} characters ({_TRACKING_HINT})"
    return f"{shown} is not a tracking number: it has no digit ({_TRACKING_HINT})"


def _ambiguous_text(shown: str, detail: str) -> str:
    thousands, decimal = detail.split("|") if "|" in detail else ("?", "?")
    return (
        f"{shown} is ambiguous, {thousands} or {decimal}? "
        "(write the amount with its cents, such as 1234.00 or 1.23)"
    )


# --- the pandera schemas ----------------------------------------------------------------


def _later_duplicates(series: pd.Series[Any]) -> pd.Series[bool]:
    return ~series.duplicated(keep="first")


def _never(series: pd.Series[Any]) -> pd.Series[bool]:
    return pd.Series(False, index=series.index, dtype=bool)


def _above_zero(series: pd.Series[Any]) -> pd.Series[bool]:
    return series.map(lambda price: price > 0).astype(bool)


def _positive(series: pd.Series[Any]) -> pd.Series[bool]:
    return series.map(lambda number: number > 0).astype(bool)


def _not_portal(series: pd.Series[Any]) -> pd.Series[bool]:
    return ~series.astype(bool)


def _portal_has_contract(frame: pd.DataFrame) -> pd.Series[bool]:
    return ~frame[IS_PORTAL_CLAIM].astype(bool) | frame[_CONTRACT_GIVEN].astype(bool)


# A DataFrame-level check reports every column of a failing row: say which one it is.
_WIDE_CHECK_COLUMN = {"portal_claim_needs_contract": IS_PORTAL_CLAIM}


@cache
def tracking_schema() -> pa.DataFrameSchema:
    """Checks across all rows, whatever their variant."""
    return pa.DataFrameSchema(
        {
            TRACKING_NUMBER: pa.Column(
                None,
                nullable=False,
                checks=pa.Check(_later_duplicates, name="duplicate_tracking_number"),
            )
        },
        strict=False,
    )


@cache
def variant_schema(variant: Variant) -> pa.DataFrameSchema:
    """The rows of one variant: required columns, ranges and cross-column rules."""
    required = {c.name for c in required_columns(variant)}
    columns: dict[str, pa.Column] = {}
    for column in _frame_columns():
        if column.name == TRACKING_NUMBER:
            continue
        checks: list[pa.Check] = []
        # Amounts are checked cell by cell (``check_amount``); a required one is above 0.
        if column.kind is Kind.AMOUNT and column.name in required:
            checks = [pa.Check(_above_zero, name="zero_amount")]
        elif column.name == CARRIER_CONTRACT_ID:
            checks = [pa.Check(_positive, name="not_positive")]
            if variant is Variant.SENDCLOUD_RATES:
                checks.append(pa.Check(_never, name="contract_id_not_allowed"))
        elif column.name == IS_PORTAL_CLAIM and variant is Variant.SENDCLOUD_RATES:
            checks = [pa.Check(_not_portal, name="portal_claim_needs_contract")]
        columns[column.name] = pa.Column(None, nullable=column.name not in required, checks=checks)
    wide = []
    if variant is Variant.OWN_CONTRACT:
        wide = [pa.Check(_portal_has_contract, name="portal_claim_needs_contract")]
    return pa.DataFrameSchema(columns, checks=wide, strict=False)


def _frame_columns() -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if not c.is_document and c.name != CONTRACT_TYPE)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> Iterable[tuple[int, str, str]]:
    """(row, column, code) for every failure case of a lazy validation."""
    if frame.empty:
        return []
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        found = []
        for index, column, check in zip(
            cases["index"], cases["column"], cases["check"], strict=True
        ):
            if index is None or (isinstance(index, float) and math.isnan(index)):
                continue
            code = "required" if check == "not_nullable" else str(check)
            found.append((int(index), _WIDE_CHECK_COLUMN.get(code, str(column)), code))
        return found
    return []


# --- the table -----------------------------------------------------------------------------


_ORDER = {column.name: index for index, column in enumerate(COLUMNS)}


class _Errors:
    """Collects errors per (row, column, code), first one wins."""

    def __init__(self) -> None:
        self.by_row: dict[int, dict[tuple[str, str], RowError]] = {}

    def add(self, row: int, column: str, code: str, text: str) -> None:
        self.by_row.setdefault(row, {}).setdefault(
            (column, code), RowError(row, column, code, text)
        )

    def has(self, row: int, column: str) -> bool:
        return any(key[0] == column for key in self.by_row.get(row, {}))

    def of(self, row: int) -> tuple[RowError, ...]:
        found = self.by_row.get(row)
        if not found:
            return ()
        return tuple(sorted(found.values(), key=lambda e: _ORDER.get(e.column or "", len(_ORDER))))


def validate_table(
    table: SheetTable,
    default_variant: Variant = Variant.SENDCLOUD_RATES,
    decimal_comma: bool | None = None,
) -> list[ParsedRow]:
    """One ``ParsedRow`` per data row of the table, in order, with all its errors.

    ``decimal_comma``: True or False reads ambiguous amount texts such as ``1,234`` with
    that convention; None (default) infers it from the table (``decimal_convention``).
    """
    rows = [source.row for source in table.rows]
    if not rows:
        return []
    if decimal_comma is None:
        decimal_comma = decimal_convention(table).decimal_comma
    errors = _Errors()
    readings: dict[int, list[Reading]] = {}

    def raw(name: str) -> list[object]:
        index = table.mapping.get(name)
        if index is None:
            return [None] * len(rows)
        cells = [source.cells[index] for source in table.rows]
        if BY_NAME[name].kind in _BLANK_PLACEHOLDERS:  # "-", "n/a", "€ -": nothing given
            return [None if is_placeholder(cell) else cell for cell in cells]
        return cells

    def coerce(name: str, parse: Callable[[object], Coerced]) -> list[Any]:
        if name not in table.mapping:
            return [None] * len(rows)
        values: list[Any] = []
        seen: dict[tuple[type, object], Coerced] = {}  # columns repeat their values a lot
        for row, value in zip(rows, raw(name), strict=True):
            if value is None:
                values.append(None)
                continue
            key = _cache_key(value)
            result = seen.get(key) if key is not None else None
            if result is None:
                result = parse(value)
                if key is not None:
                    seen[key] = result
            typed, problem = result
            if problem is not None:
                text = message(table, row, name, problem.code, value, problem.detail)
                errors.add(row, name, problem.code, text)
            elif isinstance(value, str) and name in _READ_AS_DIGITS:
                reading = _reading(name, value, typed)
                if reading is not None:
                    readings.setdefault(row, []).append(reading)
            values.append(typed)
        return values

    typed: dict[str, list[Any]] = {}
    for column in COLUMNS:
        if column.kind is not Kind.AMOUNT:
            typed[column.name] = coerce(column.name, PARSERS[column.kind])
    contract_given = [value is not None for value in raw(CARRIER_CONTRACT_ID)]
    variants: list[Variant | None] = [
        given_type
        if given_type is not None or raw_type is not None
        else (Variant.OWN_CONTRACT if given_id else default_variant)
        for given_type, raw_type, given_id in zip(
            typed[CONTRACT_TYPE], raw(CONTRACT_TYPE), contract_given, strict=True
        )
    ]
    money: dict[str, list[Money | None]] = {}
    for column in COLUMNS:
        if column.kind is Kind.AMOUNT:
            prices, money[column.name] = _amounts(
                table, column, rows, raw, typed, errors, decimal_comma
            )
            typed[column.name] = prices

    frame = pd.DataFrame(
        {c.name: pd.Series(typed[c.name], index=rows, dtype=object) for c in _frame_columns()}
    )
    frame[IS_PORTAL_CLAIM] = [bool(v) for v in typed[IS_PORTAL_CLAIM]]
    frame[_CONTRACT_GIVEN] = contract_given
    failures = list(_failures(tracking_schema(), frame))
    variant_of = dict(zip(rows, variants, strict=True))
    for variant in Variant:
        # A row whose contract type is unreadable is checked with the lighter own_contract rules.
        members = [
            v is variant or (v is None and variant is Variant.OWN_CONTRACT) for v in variants
        ]
        failures += _failures(variant_schema(variant), frame[members])
    raw_by_column: dict[str, dict[int, object]] = {}
    first_row: dict[str, int] = {}
    for row, number in zip(rows, typed[TRACKING_NUMBER], strict=True):
        if number is not None:
            first_row.setdefault(number, row)
    for row, name, code in failures:
        if errors.has(row, name):
            continue  # already reported when the cell could not be coerced
        if name not in raw_by_column:
            raw_by_column[name] = dict(zip(rows, raw(name), strict=True))
        value = raw_by_column[name][row]
        detail = ""
        if code == "duplicate_tracking_number":
            value = frame.at[row, TRACKING_NUMBER]
            detail = str(first_row[str(value)])
        text = message(
            table, row, name, code, value, detail, variant_of[row] or Variant.OWN_CONTRACT
        )
        errors.add(row, name, code, text)
    body: list[tuple[str, list[Any]]] = [
        (c.name, money[c.name] if c.kind is Kind.AMOUNT else typed[c.name])
        for c in COLUMNS
        if c.api_field
        and not c.is_document
        and c.name != TRACKING_NUMBER
        and c.name in table.mapping
    ]
    files = [(c.name, typed[c.name]) for c in DOCUMENT_COLUMNS if c.name in table.mapping]
    return [
        ParsedRow(
            row=row,
            tracking_number=typed[TRACKING_NUMBER][i],
            variant=variants[i],
            is_portal_claim=bool(typed[IS_PORTAL_CLAIM][i]),
            fields={name: values[i] for name, values in body if values[i] is not None},
            documents={name: values[i] for name, values in files if values[i] is not None},
            errors=errors.of(row),
            readings=tuple(readings.get(row, ())),
        )
        for i, row in enumerate(rows)
    ]


def _cache_key(value: object) -> tuple[type, object] | None:
    """The key of a cell in a column's cache of parsed values; None when it has none
    (a signalling NaN cannot be hashed)."""
    try:
        hash(value)
    except TypeError:
        return None
    return type(value), value


# Columns whose text may be read as other text: an id written through a float column
# ("123456789012.0"), a tracking number spaced as on its label ("9400 1000 0000").
_READ_AS_DIGITS = frozenset({TRACKING_NUMBER, CARRIER_CONTRACT_ID})


def _reading(column: str, written: str, read: object) -> Reading | None:
    if read is None or str(read) == written.strip():
        return None
    kind = "float" if is_float_text(written) else "grouped"
    return Reading(column, kind, written, str(read))


def reading_notices(table: SheetTable, rows: Sequence[ParsedRow]) -> tuple[str, ...]:
    """One notice per column and kind of reading, listing its rows."""
    found: dict[tuple[str, str], list[Reading | int]] = {}
    for parsed in rows:
        for reading in parsed.readings:
            found.setdefault((reading.column, reading.kind), []).extend([reading, parsed.row])
    notices = []
    for (column, kind), items in found.items():
        numbers = [item for item in items if isinstance(item, int)]
        first = next(item for item in items if isinstance(item, Reading))
        example = f'"{first.written}" → {first.read}'
        header = table.header_of(column)
        if kind == "float":
            notices.append(
                f'"{header}": numbers written as a float column writes them were read as '
                f"their digits ({_rows_listed(numbers)}, e.g. {example}); "
                "save that column as text"
            )
        else:
            notices.append(
                f'"{header}": tracking numbers were read without the spaces that group them '
                f"on the label ({_rows_listed(numbers)}, e.g. {example})"
            )
    return tuple(notices)


def _rows_listed(numbers: Sequence[int], limit: int = 10) -> str:
    """row 7 / rows 7 and 9 / rows 1, 2, ... and 12 more"""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    shown = [str(n) for n in numbers[:limit]]
    if len(numbers) > limit:
        return f"rows {', '.join(shown)} and {len(numbers) - limit} more"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"


def _amounts(
    table: SheetTable,
    column: Column,
    rows: Sequence[int],
    raw: Callable[[str], list[object]],
    typed: dict[str, list[Any]],
    errors: _Errors,
    decimal_comma: bool | None,
) -> tuple[list[Decimal | None], list[Money | None]]:
    """The prices of an amount column, and each as Money when its currency is known.

    A price is checked on its own (``check_amount``); its currency may come from the
    amount cell (its text or its number format), the amount header ("Sales price
    (EUR)"), the column's own currency column and the shared one: all that are given
    must agree.
    """
    name = column.name
    # "Sales price (EUR)": the header's currency, for every cell of the column.
    header = table.header_of(name)
    implied = header_currency(header) if name in table.mapping else None
    stated_columns = [c for c in (column.currency_column, SHARED_CURRENCY) if c]
    stated_raw = {c: raw(c) for c in stated_columns}
    prices: list[Decimal | None] = []
    money: list[Money | None] = []
    seen: dict[tuple[type, object], Coerced] = {}
    for position, (row, value) in enumerate(zip(rows, raw(name), strict=True)):
        prices.append(None)
        money.append(None)
        if value is None:
            continue
        key = _cache_key(value)
        result = seen.get(key) if key is not None else None
        if result is None:
            result = parse_amount(value, decimal_comma)
            if key is not None:
                seen[key] = result
        parsed, problem = result
        if problem is None and isinstance(parsed, ParsedAmount):
            problem = check_amount(parsed.price)
        if problem is not None or not isinstance(parsed, ParsedAmount):
            problem = problem or Problem("not_an_amount")
            text = message(table, row, name, problem.code, value, problem.detail)
            errors.add(row, name, problem.code, text)
            continue
        price = parsed.price
        exponent = price.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            price = price.quantize(CENT)  # 12.5000 is 12.50 (check_amount saw no cents more)
        prices[-1] = price
        sources: list[tuple[str, str]] = []  # (currency, where it is said)
        if parsed.currency is not None:
            where = "its number format shows" if parsed.from_format else "is in"
            sources.append((parsed.currency, where))
        if implied is not None:
            sources.append((implied, f'the header "{header}" says'))
        unreadable = False
        for stated_column in stated_columns:
            if stated_raw[stated_column][position] is None:
                continue
            stated = typed[stated_column][position]
            if stated is None:
                unreadable = True  # the currency cell itself is reported as bad_currency
                continue
            sources.append((stated, f'"{table.header_of(stated_column)}" says'))
        if unreadable:
            continue
        conflict = next((other for other in sources[1:] if other[0] != sources[0][0]), None)
        if conflict is not None:
            first = sources[0]
            lead = " " if first[1] == "is in" else ": "
            detail = f"{lead}{first[1]} {first[0]} but {conflict[1]} {conflict[0]}"
            text = message(table, row, name, "currency_mismatch", value, detail)
            errors.add(row, name, "currency_mismatch", text)
            continue
        if not sources:
            text = message(table, row, name, "missing_currency", value)
            errors.add(row, name, "missing_currency", text)
            continue
        money[-1] = Money(price, sources[0][0])
    return prices, money
