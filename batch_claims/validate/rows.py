"""A table's data rows as ``ParsedRow`` values, with every problem of each row.

``validate_table`` coerces the cells column by column with the parsers of ``coerce``
(tracking numbers, ids, yes/no, currency cells, text) and of ``money`` (amounts and
the currencies they agree on); what cannot be coerced becomes a ``RowError`` at once.
The typed frame is then checked once for all rows and once per variant by the pandera
schemas (``schema``), and their failures become ``RowError`` values too. Every problem
of a row is reported together, one per column and code, in column order. Values read
otherwise than written (an id written as ``123.0``, a tracking number spaced as on its
label) are kept per row (``ParsedRow.readings``) and told once per column
(``reading_notices``, worded by ``readings``).
Pure functions: this module opens no files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from batch_claims.columns import (
    BY_NAME,
    CARRIER_CONTRACT_ID,
    COLUMNS,
    CONTRACT_TYPE,
    DELIVERED_AT,
    DIMENSION_PARTS,
    DOCUMENT_COLUMNS,
    IS_PORTAL_CLAIM,
    PARCEL_DIMENSIONS,
    SHIPPED_AT,
    TICKET_TYPE,
    TRACKING_NUMBER,
    Kind,
    Variant,
)
from batch_claims.outcome import ErrorCode, Money, RowError, assembled
from batch_claims.read.table import SheetTable
from batch_claims.ticket_types import TicketType
from batch_claims.validate.coerce import is_placeholder, parse_all
from batch_claims.validate.decimals import decimal_convention
from batch_claims.validate.messages import Coerced, Message, Problem, where
from batch_claims.validate.money import StatedCurrency, amount_column
from batch_claims.validate.parsers import PARSERS
from batch_claims.validate.readings import Reading, notices_of, reading_of
from batch_claims.validate.schema import (
    CLAIM_KEY,
    CONTRACT_GIVEN,
    checked_columns,
    failures,
    frame_columns,
)
from batch_claims.validate.type_checks import (
    Found,
    contract_mismatches,
    dimensions,
    not_for_type,
    row_types,
)

# Column kinds where a placeholder such as "-" or "n/a" means the cell is blank (in text
# columns it stays what the user wrote).
_BLANK_PLACEHOLDERS = frozenset(
    {Kind.CONTRACT_TYPE, Kind.INTEGER, Kind.BOOLEAN, Kind.AMOUNT, Kind.CURRENCY}
)
# Columns whose text may be read as other text: an id written through a float column
# ("123456789012.0"), a tracking number spaced as on its label ("9400 1000 0000").
_READ_AS_DIGITS = frozenset({TRACKING_NUMBER, CARRIER_CONTRACT_ID})
_ORDER = {column.name: index for index, column in enumerate(COLUMNS)}


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
    ticket_type: TicketType | None = TicketType.DAMAGE  # None when its cell is unreadable
    # shipped_at and delivered_at as read (None when blank, absent or refused).
    dates: tuple[date | None, date | None] = (None, None)


class _Errors:
    """The errors of a table's rows: one per (row, column, code), the first one wins."""

    def __init__(self, table: SheetTable) -> None:
        self.table = table
        self.by_row: dict[int, dict[tuple[str, ErrorCode], RowError]] = {}

    def add(self, row: int, column: str, problem: Problem, value: object) -> None:
        found = self.by_row.setdefault(row, {})
        if (column, problem.code) not in found:
            text = where(self.table, row, column) + problem.text(value)
            found[(column, problem.code)] = RowError(row, column, problem.code, text)

    def has(self, row: int, column: str) -> bool:
        return any(key[0] == column for key in self.by_row.get(row, {}))

    def rows_with(self, column: str) -> set[int]:
        """The rows with an error in ``column``."""
        return {row for row, found in self.by_row.items() if any(k[0] == column for k in found)}

    def of(self, row: int) -> tuple[RowError, ...]:
        found = self.by_row.get(row)
        if not found:
            return ()
        return tuple(sorted(found.values(), key=lambda e: _ORDER.get(e.column or "", len(_ORDER))))


class _Columns:
    """The cells of each column of a table (``_cells``), taken from its rows once."""

    def __init__(self, table: SheetTable) -> None:
        self.table = table
        self.taken: dict[str, list[object]] = {}

    def __call__(self, name: str) -> list[object]:
        cells = self.taken.get(name)
        if cells is None:
            cells = self.taken[name] = _cells(self.table, name)
        return cells


def validate_table(
    table: SheetTable,
    default_variant: Variant = Variant.SENDCLOUD_RATES,
    decimal_comma: bool | None = None,
    default_type: TicketType = TicketType.DAMAGE,
) -> list[ParsedRow]:
    """One ``ParsedRow`` per data row of the table, in order, with all its errors.

    ``decimal_comma``: True or False reads ambiguous amount texts such as ``1,234`` with
    that convention; None (default) infers it from the table (``decimal_convention``).
    A row with a blank ``ticket_type`` is of the sheet's type (a sheet named "Lost"),
    else of ``default_type``.
    """
    rows = [source.row for source in table.rows]
    if not rows:
        return []
    if decimal_comma is None:
        decimal_comma = decimal_convention(table).decimal_comma
    errors = _Errors(table)
    readings: dict[int, list[Reading]] = {}
    columns = _Columns(table)
    typed: dict[str, list[Any]] = {
        column.name: _typed(table, columns, column.name, PARSERS[column.kind], errors, readings)
        for column in COLUMNS
        if column.kind is not Kind.AMOUNT
    }
    contract_given = [value is not None for value in columns(CARRIER_CONTRACT_ID)]
    variants = _variants(
        columns(CONTRACT_TYPE), typed[CONTRACT_TYPE], contract_given, default_variant
    )
    stated = {
        name: StatedCurrency(table.header_of(name), columns(name), typed[name])
        for name in (c.name for c in COLUMNS if c.kind is Kind.CURRENCY)
        if name in table.mapping
    }
    money: dict[str, list[Money | None]] = {}
    for column in COLUMNS:
        if column.kind is Kind.AMOUNT:
            cells = columns(column.name)
            amounts = amount_column(table, column, cells, stated, decimal_comma)
            for position, problem in amounts.problems.items():
                errors.add(rows[position], column.name, problem, cells[position])
            typed[column.name], money[column.name] = amounts.prices, amounts.money
    types = row_types(typed[TICKET_TYPE], columns(TICKET_TYPE), table.ticket_type or default_type)
    for found in _type_problems(table, columns, rows, typed, types, variants, errors):
        errors.add(found.row, found.column, found.problem, found.value)
    kinds = list(zip(types, variants, strict=True))
    checked = checked_columns(kinds)
    index = pd.Index(rows)  # one index for every column: none is aligned with another
    frame = pd.DataFrame(
        {
            c.name: pd.Series(typed[c.name], index=index, dtype=object)
            for c in frame_columns()
            if c.name in checked
        }
    )
    frame[IS_PORTAL_CLAIM] = [bool(v) for v in typed[IS_PORTAL_CLAIM]]
    frame[CONTRACT_GIVEN] = contract_given
    frame[CLAIM_KEY] = _claim_keys(rows, typed[TRACKING_NUMBER], types)
    _add_schema_errors(table, columns, frame, kinds, errors)
    body: list[tuple[str, list[Any]]] = [
        (c.name, money[c.name] if c.kind is Kind.AMOUNT else typed[c.name])
        for c in COLUMNS
        if c.api_field
        and not c.is_document
        and c.name != TRACKING_NUMBER
        and (c.name in table.mapping or c.name == PARCEL_DIMENSIONS)
    ]
    files = [(c.name, typed[c.name]) for c in DOCUMENT_COLUMNS if c.name in table.mapping]
    numbers, shipped, delivered = typed[TRACKING_NUMBER], typed[SHIPPED_AT], typed[DELIVERED_AT]
    portal = typed[IS_PORTAL_CLAIM]
    return [
        _parsed_row(
            {
                "row": row,
                "tracking_number": numbers[i],
                "variant": variants[i],
                "is_portal_claim": bool(portal[i]),
                "fields": {name: values[i] for name, values in body if values[i] is not None},
                "documents": {name: values[i] for name, values in files if values[i] is not None},
                "errors": errors.of(row),
                "readings": tuple(readings.get(row, ())),
                "ticket_type": types[i],
                "dates": (shipped[i], delivered[i]),
            }
        )
        for i, row in enumerate(rows)
    ]


def _parsed_row(values: dict[str, Any]) -> ParsedRow:
    """``ParsedRow(**values)`` given every field (``outcome.assembled``): the frozen
    ``__init__`` was a third of the time of 50,000 rows' validation."""
    return assembled(ParsedRow, values)


def _cells(table: SheetTable, name: str) -> list[object]:
    """The cells of a column, one per row (None when blank or the sheet lacks it)."""
    index = table.mapping.get(name)
    if index is None:
        return [None] * len(table.rows)
    cells = [source.cells[index] for source in table.rows]
    if BY_NAME[name].kind in _BLANK_PLACEHOLDERS:  # "-", "n/a", "€ -": nothing given
        texts = {cell for cell in cells if isinstance(cell, str)}
        blank = {text for text in texts if is_placeholder(text)}
        if blank:
            return [None if isinstance(cell, str) and cell in blank else cell for cell in cells]
    return cells


def _typed(
    table: SheetTable,
    columns: _Columns,
    name: str,
    parse: Callable[[object], Coerced],
    errors: _Errors,
    readings: dict[int, list[Reading]],
) -> list[Any]:
    """A column's values as ``parse`` reads them (None when blank or refused); what is
    refused goes to ``errors``, what is read otherwise than written to ``readings``."""
    if name not in table.mapping:
        return [None] * len(table.rows)
    cells = columns(name)
    results = parse_all(parse, cells)
    values: list[Any] = [None if result is None else result[0] for result in results]
    refused = [
        (i, result[1])
        for i, result in enumerate(results)
        if result is not None and result[1] is not None
    ]
    for i, problem in refused:
        errors.add(table.rows[i].row, name, problem, cells[i])
    if name in _READ_AS_DIGITS:  # a text read as itself (the same object) is no reading
        for i, (value, typed) in enumerate(zip(cells, values, strict=True)):
            if typed is not None and typed is not value and isinstance(value, str):
                reading = reading_of(name, value, typed)
                if reading is not None:
                    readings.setdefault(table.rows[i].row, []).append(reading)
    return values


def _variants(
    cells: Sequence[object],
    contract_types: Sequence[Variant | None],
    contract_given: Sequence[bool],
    default_variant: Variant,
) -> list[Variant | None]:
    """Each row's variant: its contract type; else own_contract when it gives a contract
    ID, else the default. None when the contract type cell cannot be read."""
    return [
        given_type
        if given_type is not None or raw_type is not None
        else (Variant.OWN_CONTRACT if given_id else default_variant)
        for given_type, raw_type, given_id in zip(
            contract_types, cells, contract_given, strict=True
        )
    ]


def _claim_keys(
    rows: Sequence[int], numbers: Sequence[str | None], types: Sequence[TicketType | None]
) -> list[str]:
    """The claim each row makes: its tracking number and ticket type (a parcel may have
    an address-change ticket and a damage ticket, never two damage tickets). A row
    without a readable tracking number makes a claim of its own."""
    return [
        f"{number}\x00{ticket_type}" if number is not None else f"\x00row {row}"
        for row, number, ticket_type in zip(rows, numbers, types, strict=True)
    ]


def _type_problems(
    table: SheetTable,
    columns: _Columns,
    rows: Sequence[int],
    typed: dict[str, list[Any]],
    types: Sequence[TicketType | None],
    variants: Sequence[Variant | None],
    errors: _Errors,
) -> list[Found]:
    """The parcel's size from one cell or three (set in ``typed``), a value a row's
    ticket type does not use, a type its contract cannot use."""
    refused = {name: errors.rows_with(name) for name in DIMENSION_PARTS}
    parts = {name: typed[name] for name in DIMENSION_PARTS}
    single_cells = columns(PARCEL_DIMENSIONS)
    typed[PARCEL_DIMENSIONS], found = dimensions(
        rows, typed[PARCEL_DIMENSIONS], single_cells, parts, refused
    )
    present = {name: columns(name) for name in table.mapping}
    found += not_for_type(rows, types, present, typed, table.header_of(TICKET_TYPE))
    found += contract_mismatches(rows, types, variants, columns(TICKET_TYPE))
    return found


def _add_schema_errors(
    table: SheetTable,
    columns: _Columns,
    frame: pd.DataFrame,
    kinds: Sequence[tuple[TicketType | None, Variant | None]],
    errors: _Errors,
) -> None:
    """The schemas' failures as errors, for the cells not already refused when coerced."""
    rows = list(frame.index)
    kind_of = dict(zip(rows, kinds, strict=True))
    first_row: dict[str, int] = {}
    for row, key in zip(rows, frame[CLAIM_KEY], strict=True):
        first_row.setdefault(key, row)
    cells: dict[str, dict[int, object]] = {}
    for row, name, code in failures(frame, kinds):
        if errors.has(row, name):
            continue  # already reported when the cell could not be coerced
        if name not in cells:
            cells[name] = dict(zip(rows, columns(name), strict=True))
        value = cells[name][row]
        ticket_type, variant = kind_of[row]
        variant = variant or Variant.OWN_CONTRACT
        if code is ErrorCode.DUPLICATE_TRACKING_NUMBER:
            value = frame.at[row, TRACKING_NUMBER]
            first = str(first_row[str(frame.at[row, CLAIM_KEY])])
            problem = Message.DUPLICATE_TRACKING_NUMBER.problem(first_row=first)
        else:
            problem = _schema_problem(table, name, code, variant, ticket_type)
        errors.add(row, name, problem, value)


def _schema_problem(
    table: SheetTable,
    name: str,
    code: ErrorCode,
    variant: Variant,
    ticket_type: TicketType | None = None,
) -> Problem:
    """The message of a schema check's failure (all but a duplicate tracking number)."""
    if code is ErrorCode.REQUIRED:
        why = "every row needs a tracking number"
        if name != TRACKING_NUMBER:
            kind = variant.value
            if ticket_type not in (None, TicketType.DAMAGE):
                kind = f"{variant.value} {ticket_type}"
            why = f"required for {kind} claims"
        if name not in table.mapping:
            return Message.REQUIRED_NO_COLUMN.problem(why=why)
        return Message.REQUIRED.problem(why=why)
    if code is ErrorCode.ZERO_AMOUNT:
        return Message.ZERO_AMOUNT.problem(variant=str(variant))
    if code is ErrorCode.PORTAL_CLAIM_NEEDS_CONTRACT:
        contract_header = table.header_of(CARRIER_CONTRACT_ID)
        return Message.PORTAL_CLAIM_NEEDS_CONTRACT.problem(contract_header=contract_header)
    if code is ErrorCode.NOT_POSITIVE:
        return Message.NOT_POSITIVE.problem()
    if code is ErrorCode.CONTRACT_ID_NOT_ALLOWED:
        return Message.CONTRACT_ID_NOT_ALLOWED.problem()
    raise ValueError(f"no schema check has the code {code}")


def reading_notices(table: SheetTable, rows: Sequence[ParsedRow]) -> tuple[str, ...]:
    """One notice per column and kind of reading, listing its rows (``readings``)."""
    return notices_of(table, ((parsed.row, parsed.readings) for parsed in rows))
