"""The pandera schemas per ticket type and variant: the checks that see a whole typed
frame.

Rows arrive here already coerced (``coerce``, ``amounts``), indexed by row number, one
frame column per canonical column the schemas check (``checked_columns``: a column
that is neither required nor checked has nothing to fail, so no schema lists it).
``tracking_schema`` checks all rows together (a tracking number on two rows);
``variant_schema`` checks the rows of one ticket type and variant (its required
columns, a contract ID above 0 and only on own_contract rows, a portal claim only with a
contract where the type has portal claims, a required amount above 0). ``failures``
validates lazily and turns pandera's failure cases into ``(row, column, ErrorCode)``,
every one of them. The check names are error codes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from batch_claims.columns import (
    CARRIER_CONTRACT_ID,
    COLUMNS,
    CONTRACT_TYPE,
    IS_PORTAL_CLAIM,
    TRACKING_NUMBER,
    Column,
    Kind,
    Variant,
)
from batch_claims.outcome import ErrorCode
from batch_claims.ticket_types import TYPES, TicketType, required_columns

# Frame columns beside the canonical ones: the row's contract id cell is not blank; the
# claim a row makes (its tracking number and ticket type: one claim per parcel and type).
CONTRACT_GIVEN = "__contract_given"
CLAIM_KEY = "__claim_key"
# A failure case: (row, canonical column, code).
Failure = tuple[int, str, ErrorCode]


def frame_columns() -> tuple[Column, ...]:
    """The canonical columns the frame holds: all but the documents and the contract type."""
    return tuple(c for c in COLUMNS if not c.is_document and c.name != CONTRACT_TYPE)


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
    return ~frame[IS_PORTAL_CLAIM].astype(bool) | frame[CONTRACT_GIVEN].astype(bool)


# A DataFrame-level check reports every column of a failing row: say which one it is.
_WIDE_CHECK_COLUMN = {ErrorCode.PORTAL_CLAIM_NEEDS_CONTRACT: IS_PORTAL_CLAIM}
# A check on a frame column of ours is told on the sheet's column it stands for.
_FRAME_COLUMN = {CLAIM_KEY: TRACKING_NUMBER}


@cache
def tracking_schema() -> pa.DataFrameSchema:
    """Checks across all rows, whatever their type and variant: a tracking number on
    every row, and on two rows only for two ticket types."""
    return pa.DataFrameSchema(
        {
            TRACKING_NUMBER: pa.Column(None, nullable=False),
            CLAIM_KEY: pa.Column(
                None,
                checks=pa.Check(_later_duplicates, name=ErrorCode.DUPLICATE_TRACKING_NUMBER),
            ),
        },
        strict=False,
    )


@cache
def variant_schema(
    variant: Variant, ticket_type: TicketType = TicketType.DAMAGE
) -> pa.DataFrameSchema:
    """The rows of one ticket type and variant: required columns, ranges and
    cross-column rules."""
    required = {c.name for c in required_columns(variant, ticket_type)}
    portal = TYPES[ticket_type].portal_claim
    columns: dict[str, pa.Column] = {}
    for column in frame_columns():
        if column.name == TRACKING_NUMBER:
            continue
        checks: list[pa.Check] = []
        # Amounts are checked cell by cell (``check_amount``); a required one is above 0.
        if column.kind is Kind.AMOUNT and column.name in required:
            checks = [pa.Check(_above_zero, name=ErrorCode.ZERO_AMOUNT)]
        elif column.name == CARRIER_CONTRACT_ID:
            checks = [pa.Check(_positive, name=ErrorCode.NOT_POSITIVE)]
            if variant is Variant.SENDCLOUD_RATES:
                checks.append(pa.Check(_never, name=ErrorCode.CONTRACT_ID_NOT_ALLOWED))
        elif column.name == IS_PORTAL_CLAIM and portal and variant is Variant.SENDCLOUD_RATES:
            checks = [pa.Check(_not_portal, name=ErrorCode.PORTAL_CLAIM_NEEDS_CONTRACT)]
        if checks or column.name in required:  # a column with neither has nothing to check
            columns[column.name] = pa.Column(
                None, nullable=column.name not in required, checks=checks
            )
    wide = []
    if variant is Variant.OWN_CONTRACT and portal:
        wide = [pa.Check(_portal_has_contract, name=ErrorCode.PORTAL_CLAIM_NEEDS_CONTRACT)]
    return pa.DataFrameSchema(columns, checks=wide, strict=False)


def checked_columns(
    kinds: Sequence[tuple[TicketType | None, Variant | None]],
) -> frozenset[str]:
    """The frame columns the schemas ``failures`` runs for these rows look at: the frame
    need hold no others."""
    names = set(tracking_schema().columns) | {IS_PORTAL_CLAIM, CONTRACT_GIVEN}
    for ticket_type, variant in _kinds(kinds):
        names.update(variant_schema(variant, ticket_type).columns)
    return frozenset(names)


def load_backends() -> None:
    """Load what pandera loads on its first validation (its pandas backends and their
    checks: a sixth of a second), as ``read_meanwhile`` loads the rest while a big
    sheet is read, rather than after it."""
    check = pa.Check(lambda series: series.notna(), name="warm")
    pa.DataFrameSchema({"x": pa.Column(None, check)}).validate(pd.DataFrame({"x": [1]}))


def _kinds(
    kinds: Sequence[tuple[TicketType | None, Variant | None]],
) -> list[tuple[TicketType, Variant]]:
    """Each ticket type and variant the rows have, in order; an unreadable contract type
    is checked as own_contract, an unreadable ticket type by no variant schema."""
    return sorted({(t, v or Variant.OWN_CONTRACT) for t, v in kinds if t is not None})


def failures(
    frame: pd.DataFrame, kinds: Sequence[tuple[TicketType | None, Variant | None]]
) -> list[Failure]:
    """Every failure of the frame's rows: across all rows, then per ticket type and
    variant (``kinds`` in the frame's row order). A row whose contract type is
    unreadable is checked with the lighter own_contract rules; one whose ticket type is
    unreadable only across all rows."""
    found = _failures(tracking_schema(), frame)
    positions: dict[tuple[TicketType, Variant], list[int]] = {}
    for position, (ticket_type, variant) in enumerate(kinds):
        if ticket_type is not None:
            positions.setdefault((ticket_type, variant or Variant.OWN_CONTRACT), []).append(
                position
            )
    for ticket_type, variant in _kinds(kinds):
        members = frame.iloc[positions[ticket_type, variant]]
        found += _failures(variant_schema(variant, ticket_type), members)
    return found


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[Failure]:
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
            code = ErrorCode.REQUIRED if check == "not_nullable" else ErrorCode(str(check))
            column = _FRAME_COLUMN.get(str(column), str(column))
            found.append((int(index), _WIDE_CHECK_COLUMN.get(code, column), code))
        return found
    return []
