"""What a row's ticket type asks of it, beyond the pandera schemas: which type each row
is, the parcel's size from one cell or three, a value in a column the type has no field
for, and a type the row's contract cannot use.

Pure functions over a table's columns (one list per column, one value per row); every
problem comes back as a ``Found`` (row, column, problem, the cell) for ``rows`` to
report with the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batch_claims.columns import (
    BY_NAME,
    COLUMNS,
    DIMENSION_PARTS,
    PARCEL_DIMENSIONS,
    TICKET_TYPE,
    Kind,
    Variant,
)
from batch_claims.outcome import Dimensions
from batch_claims.ticket_types import TYPES, TicketType
from batch_claims.validate.messages import Message, Problem


@dataclass(frozen=True)
class Found:
    """A problem of one cell: its row, its canonical column, what is wrong, the cell."""

    row: int
    column: str
    problem: Problem
    value: object


def row_types(
    typed: Sequence[TicketType | None],
    cells: Sequence[object],
    default: TicketType,
) -> list[TicketType | None]:
    """Each row's ticket type: its ``ticket_type`` cell, else ``default`` (the sheet's
    type, the configured one, or damage). None when the cell cannot be read."""
    return [
        given if given is not None else (None if cell is not None else default)
        for given, cell in zip(typed, cells, strict=True)
    ]


def dimensions(
    rows: Sequence[int],
    single: Sequence[Dimensions | None],
    single_cells: Sequence[object],
    parts: Mapping[str, Sequence[Any]],
    refused: Mapping[str, set[int]],
) -> tuple[list[Dimensions | None], list[Found]]:
    """Each row's ``parcel_dimensions``: its one cell, else its three dimension cells
    (all three or none); the three and the one cell must agree when both are given.
    ``refused`` holds, per column, the rows whose cell was already refused."""
    if all(value is None for name in DIMENSION_PARTS for value in parts[name]):
        return list(single), []  # no part given: each row's own cell, as below
    values: list[Dimensions | None] = []
    found: list[Found] = []
    for i, row in enumerate(rows):
        given = {name: parts[name][i] for name in DIMENSION_PARTS if parts[name][i] is not None}
        own = single[i]
        if any(row in refused.get(name, set()) for name in DIMENSION_PARTS):
            values.append(own)
            continue
        if 0 < len(given) < len(DIMENSION_PARTS):
            missing = next(name for name in DIMENSION_PARTS if name not in given)
            names = " and ".join(name.removeprefix("parcel_") for name in given)
            found.append(
                Found(row, missing, Message.DIMENSION_PART_MISSING.problem(given=names), None)
            )
            values.append(own)
            continue
        if len(given) == len(DIMENSION_PARTS):
            three = Dimensions(*(given[name] for name in DIMENSION_PARTS))
            if own is not None and own != three:
                shown = f"{three.length}x{three.width}x{three.height}"
                problem = Message.DIMENSIONS_MISMATCH.problem(parts=shown)
                found.append(Found(row, PARCEL_DIMENSIONS, problem, single_cells[i]))
            values.append(own or three)
            continue
        values.append(own)
    return values, found


def _blank(column: str, value: object) -> bool:
    """A cell that says nothing for this purpose: blank, or "no" in a yes/no column."""
    return value is None or (BY_NAME[column].kind is Kind.BOOLEAN and value is False)


def not_for_type(
    rows: Sequence[int],
    types: Sequence[TicketType | None],
    present: Mapping[str, Sequence[object]],
    typed: Mapping[str, Sequence[Any]],
    type_header: str = TICKET_TYPE,
) -> list[Found]:
    """A value in a column the row's ticket type does not use: never silently dropped.
    ``present`` holds the cells of the columns the sheet has; ``typed`` their values;
    ``type_header`` is how the sheet calls its ticket_type column (the advice names it)."""
    found = []
    kinds = [TYPES[ticket_type] for ticket_type in set(types) if ticket_type is not None]
    for column in COLUMNS:
        if column.name not in present or all(spec.uses(column.name) for spec in kinds):
            continue  # no row of a type that does not use it
        cells, values = present[column.name], typed[column.name]
        for i, row in enumerate(rows):
            ticket_type = types[i]
            if ticket_type is None or cells[i] is None or _blank(column.name, values[i]):
                continue
            spec = TYPES[ticket_type]
            if not spec.uses(column.name):
                problem = Message.NOT_FOR_TICKET_TYPE.problem(
                    ticket_type=ticket_type.value, title=spec.title, type_header=type_header
                )
                found.append(Found(row, column.name, problem, cells[i]))
    return found


def contract_mismatches(
    rows: Sequence[int],
    types: Sequence[TicketType | None],
    variants: Sequence[Variant | None],
    cells: Sequence[object],
) -> list[Found]:
    """A ticket type the row's contract type cannot use (delay on an own contract,
    late delivery on Sendcloud rates): refused here, with the reason, never sent."""
    found = []
    for row, ticket_type, variant, cell in zip(rows, types, variants, cells, strict=True):
        if ticket_type is None or variant is None:
            continue
        spec = TYPES[ticket_type]
        if variant in spec.contracts:
            continue
        allowed = " or ".join(sorted(v.value for v in spec.contracts))
        why = (
            "Sendcloud files these only for parcels shipped on Sendcloud rates; for your own "
            "contract, claim with the carrier"
            if variant is Variant.OWN_CONTRACT
            else "Sendcloud files these only for parcels on your own carrier contract"
        )
        problem = Message.TICKET_TYPE_NOT_FOR_CONTRACT.problem(
            ticket_type=ticket_type.value, allowed=allowed, variant=variant.value, why=why
        )
        found.append(
            Found(row, TICKET_TYPE, problem, cell if cell is not None else ticket_type.value)
        )
    return found


def sheet_type_notice(
    sheet_name: str | None, sheet_type: TicketType | None, default: TicketType
) -> str | None:
    """Told when the run was given a default type (``--ticket-type``, the config) that a
    sheet named by another type overrides for its rows without a ticket_type."""
    if sheet_type is None or default in (TicketType.DAMAGE, sheet_type):
        return None
    return (
        f'sheet "{sheet_name}" names {sheet_type} claims: its rows without a ticket_type are '
        f"{sheet_type} claims, not {default} (--ticket-type and [defaults] ticket_type apply "
        "to sheets whose name names no type)"
    )
