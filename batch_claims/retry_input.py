"""Reading an earlier results workbook back for ``retry``: its ``Failed rows`` sheet, as
the user corrected it, becomes the input table (without the ``error`` column)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import openpyxl

from batch_claims.errors import InputError
from batch_claims.headers import header_lookup, unknown_columns
from batch_claims.report import ERROR_HEADER, FAILED_SHEET, RESULTS_SHEET, SUMMARY_SHEET
from batch_claims.sheet import SheetTable, read_sheet


def summary_value(results: Path, key: str) -> str | None:
    """A value of the results workbook's Summary sheet (its "key | value" rows)."""
    workbook = openpyxl.load_workbook(results, read_only=True)
    try:
        for row in workbook[SUMMARY_SHEET].iter_rows(values_only=True):
            if row and row[0] == key:
                return None if len(row) < 2 or row[1] is None else str(row[1])
    finally:
        workbook.close()
    return None


def check_account(results: Path, account: str) -> None:
    """Refuse a workbook written for another API account's journal."""
    written_for = summary_value(results, "account")
    if written_for is not None and written_for != account:
        raise InputError(
            f"{results.name} was written by a run for another API account ({written_for}); "
            f"this run uses {account} — retry it with that account's keys"
        )


def _sheet_names(path: Path) -> list[str]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a non-workbook
        raise InputError(f"{path.name} is not a readable .xlsx workbook ({exc})") from None
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def refuse_results_workbook(sheet: Path) -> None:
    """A results workbook given as input: point at ``retry`` instead of failing on its
    Results sheet (whose headers repeat the input's)."""
    if sheet.suffix.lower() not in (".xlsx", ".xlsm"):
        return
    try:
        names = _sheet_names(sheet)
    except InputError:
        return  # the reader gives the precise message
    if {SUMMARY_SHEET, RESULTS_SHEET, FAILED_SHEET} <= set(names):
        raise InputError(
            f"{sheet.name} is a batch-claims results workbook: to send its failed rows "
            f"again, run `batch-claims retry {sheet.name}`"
        )


def read_failed_rows(results: Path, aliases: Mapping[str, str] | None = None) -> SheetTable:
    """The ``Failed rows`` of a results workbook as an input table (headers matched with
    the config's aliases, as the original sheet was)."""
    names = _sheet_names(results)
    missing = [s for s in (SUMMARY_SHEET, RESULTS_SHEET, FAILED_SHEET) if s not in names]
    if missing:
        raise InputError(
            f"{results.name} is not a batch-claims results workbook: it has no "
            + ", ".join(f"'{name}'" for name in missing)
            + " sheet"
            + ("s" if len(missing) > 1 else "")
        )
    table = read_sheet(results, FAILED_SHEET, aliases)
    if ERROR_HEADER not in table.headers:
        return table
    drop = len(table.headers) - 1 - table.headers[::-1].index(ERROR_HEADER)  # ours is last
    keep = [i for i in range(len(table.headers)) if i != drop]
    reindex = {old: new for new, old in enumerate(keep)}
    headers = tuple(table.headers[i] for i in keep)
    mapping = {name: reindex[i] for name, i in table.mapping.items() if i != drop}
    # Our own ``error`` column is no unknown column of the user's: list the rest again.
    before = unknown_columns(table.headers, table.mapping, header_lookup(aliases))
    after = unknown_columns(headers, mapping, header_lookup(aliases))
    replaced = (after if notice == before else notice for notice in table.notices)
    notices = tuple(notice for notice in replaced if notice is not None)
    return replace(
        table,
        headers=headers,
        mapping=mapping,
        rows=tuple(
            replace(row, cells=tuple(row.cells[i] for i in keep if i < len(row.cells)))
            for row in table.rows
        ),
        notices=notices,
    )
