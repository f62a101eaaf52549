"""What the sheet's columns mean for its rows, told once for the whole sheet.

Two things a header row can get wrong that would otherwise be told row by row, or not
at all:

- a required column the sheet lacks: one notice at the top of the run (and in the
  Summary) naming the missing columns, how many rows need them, the headers that were
  not recognised, and the exact config line that maps one (``missing_columns_notice``);
- a header that looks like a column but cannot be matched to it (a typo such as
  ``contents_purchace_price``, or ``Purchase price incl. VAT``): its values would not be
  sent, so a row with a value there is invalid, naming the header and the fix
  (``lookalike_errors``). Rows with that cell empty are unaffected.

Pure functions: this module opens no files.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping

from batch_claims.columns import (
    BY_NAME,
    COLUMNS,
    DIMENSION_PARTS,
    PARCEL_DIMENSIONS,
    Variant,
    normalise_header,
)
from batch_claims.outcome import RowError
from batch_claims.read.headers import config_line, lookalike_columns, shown_header
from batch_claims.read.table import SheetTable
from batch_claims.settings import DEFAULT_CONFIG_NAME
from batch_claims.ticket_types import TicketType, required_for
from batch_claims.validate.messages import Message


def lookalike_errors(table: SheetTable, lookup: Mapping[str, str]) -> dict[int, list[RowError]]:
    """Per row number: an error for each value under a header that looks like a column."""
    lookalikes = lookalike_columns(table.headers, table.mapping, lookup)
    errors: dict[int, list[RowError]] = {}
    if not lookalikes:
        return errors
    for source in table.rows:
        for index, column in lookalikes.items():
            value = source.cells[index] if index < len(source.cells) else None
            if value is None:
                continue
            header = shown_header(table.headers[index])
            problem = Message.UNRECOGNISED_COLUMN.problem(
                column=column, config_line=config_line(header, column)
            )
            text = f'row {source.row}, "{header}": {problem.text(value)}'
            errors.setdefault(source.row, []).append(RowError(source.row, None, problem.code, text))
    return errors


def missing_columns_notice(
    table: SheetTable,
    kinds: Iterable[tuple[TicketType, Variant] | None],
    lookup: Mapping[str, str],
) -> str | None:
    """One notice for the required columns the sheet lacks, or None when it has them.

    ``kinds`` holds each row's ticket type and variant (None when unreadable). Document
    columns are not counted: their files are found by the folder convention without a
    column; nor are the dimension columns, which one ``parcel_dimensions`` cell may
    replace.
    """
    per_kind = Counter(kind for kind in kinds if kind is not None)
    missing: dict[str, set[tuple[TicketType, Variant]]] = {}
    for column in COLUMNS:
        if column.is_document or column.name in table.mapping:
            continue
        if column.name == PARCEL_DIMENSIONS and any(p in table.mapping for p in DIMENSION_PARTS):
            continue
        needing = {kind for kind in per_kind if kind[1] in required_for(column.name, kind[0])}
        if needing:
            missing[column.name] = needing
    if not missing:
        return None
    needed_by = set().union(*missing.values())
    rows = sum(per_kind[kind] for kind in needed_by)
    kinds_text = " and ".join(sorted({_kind_name(*kind) for kind in needed_by}))
    names = ", ".join(missing)
    plural = "columns" if len(missing) > 1 else "column"
    head = (
        f"the sheet has no {plural} for {names} (required for {kinds_text} claims: "
        f"{rows} row{'s' if rows != 1 else ''}; those rows are invalid)"
    )
    mapped = set(table.mapping.values())
    unrecognised = [
        text for index, text in enumerate(table.headers) if text and index not in mapped
    ]
    if not unrecognised:
        return (
            f"{head}; add the {plural} to the sheet, or map your own header in "
            f'{DEFAULT_CONFIG_NAME}: [columns] "Your header" = "{next(iter(missing))}"'
        )
    header, meant = _likeliest_pair(table, unrecognised, list(missing), lookup)
    listed = ", ".join(f'"{shown_header(text)}"' for text in unrecognised[:10])
    if len(unrecognised) > 10:
        listed += f" and {len(unrecognised) - 10} more"
    return (
        f"{head}; not recognised: {listed} — if one of them is such a column, map it in "
        f"{DEFAULT_CONFIG_NAME}, e.g. [columns] {config_line(header, meant)}"
    )


def _likeliest_pair(
    table: SheetTable, headers: list[str], columns: list[str], lookup: Mapping[str, str]
) -> tuple[str, str]:
    """The unrecognised header and missing column most likely meant for each other."""
    lookalikes = lookalike_columns(table.headers, table.mapping, lookup)
    for index, column in lookalikes.items():
        if column in columns:
            return table.headers[index], column
    best = (-1.0, headers[0], columns[0])
    for header in headers:
        folded = normalise_header(header)
        for column in columns:
            for name in (column, *BY_NAME[column].aliases):
                ratio = difflib.SequenceMatcher(
                    None, folded, normalise_header(name), autojunk=False
                ).ratio()
                if ratio > best[0]:
                    best = (ratio, header, column)
    return best[1], best[2]


def _kind_name(ticket_type: TicketType, variant: Variant) -> str:
    """ "sendcloud_rates" for damage (the first type), "sendcloud_rates lost" otherwise."""
    if ticket_type is TicketType.DAMAGE:
        return variant.value
    return f"{variant.value} {ticket_type.value}"
