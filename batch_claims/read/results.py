"""Reading an earlier results workbook back for ``retry``: its ``Failed rows`` sheet, as
the user corrected it, becomes the input table (without our ``error`` and ``row``
columns, numbered as the original sheet); its ``Results`` sheet gives every other row
with its status and ticket (``PreviousRun``), so the new workbook tells the whole week."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from batch_claims.columns import CONTRACT_TYPE, TICKET_TYPE, TRACKING_NUMBER
from batch_claims.errors import InputError
from batch_claims.outcome import Item, RowOutcome, Status
from batch_claims.read.archive import open_archive
from batch_claims.read.book import sheet_titles
from batch_claims.read.headers import header_lookup, unknown_columns
from batch_claims.read.sheet import read_sheet
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.results_layout import (
    ERROR_HEADER,
    EVIDENCE_COLUMN,
    FAILED_SHEET,
    RESULT_COLUMNS,
    RESULTS_SHEET,
    SOURCE_ROW_HEADER,
    SUMMARY_SHEET,
)
from batch_claims.ticket_types import TicketType


def summary_value(results: Path, key: str) -> str | None:
    """A value of the results workbook's Summary sheet (its "key | value" rows)."""
    import openpyxl  # here: the input check before a run needs none of it

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


def _sheet_titles(path: Path) -> set[str]:
    """The workbook's sheet titles, from its small parts through the reader's bounded
    archive (no shared strings or sheet is read)."""
    try:
        with open_archive(path) as archive:
            return set(sheet_titles(archive))
    except InputError:  # a bomb, not a zip
        raise
    except Exception as exc:  # a broken part: many types
        raise InputError(f"{path.name} is not a readable .xlsx workbook ({exc})") from None


def refuse_results_workbook(sheet: Path) -> None:
    """A results workbook given as input: point at ``retry`` instead of failing on its
    Results sheet (whose headers repeat the input's)."""
    if sheet.suffix.lower() not in (".xlsx", ".xlsm"):
        return
    try:
        names = _sheet_titles(sheet)
    except InputError:
        return  # the reader gives the precise message
    if {SUMMARY_SHEET, RESULTS_SHEET, FAILED_SHEET} <= names:
        raise InputError(
            f"{sheet.name} is a batch-claims results workbook: to send its failed rows "
            f"again, run `batch-claims retry {sheet.name}`"
        )


def read_failed_rows(results: Path, aliases: Mapping[str, str] | None = None) -> SheetTable:
    """The ``Failed rows`` of a results workbook as an input table (headers matched with
    the config's aliases, as the original sheet was), numbered as the original sheet.

    Our own ``error`` and ``row`` columns are dropped (they are the last two; an input
    column of the same name before them is the user's). A row added in ``Failed rows``
    (its ``row`` blank) is numbered after the original sheet's last row.
    """
    names = _sheet_titles(results)
    missing = [s for s in (SUMMARY_SHEET, RESULTS_SHEET, FAILED_SHEET) if s not in names]
    if missing:
        raise InputError(
            f"{results.name} is not a batch-claims results workbook: it has no "
            + ", ".join(f"'{name}'" for name in missing)
            + " sheet"
            + ("s" if len(missing) > 1 else "")
        )
    table = read_sheet(results, FAILED_SHEET, aliases)
    headers = list(table.headers)
    source_row = _ours(headers, SOURCE_ROW_HEADER, last=True)
    error = _ours(headers, ERROR_HEADER, last=source_row is None)
    if source_row is not None and error != source_row - 1:
        source_row = None  # "row" without our "error" before it is the user's column
    drop = {i for i in (error, source_row) if i is not None}
    if not drop:
        return table
    keep = [i for i in range(len(headers)) if i not in drop]
    reindex = {old: new for new, old in enumerate(keep)}
    kept_headers = tuple(headers[i] for i in keep)
    mapping = {name: reindex[i] for name, i in table.mapping.items() if i not in drop}
    # Our own columns are no unknown columns of the user's: list the rest again.
    before = unknown_columns(table.headers, table.mapping, header_lookup(aliases))
    after = unknown_columns(kept_headers, mapping, header_lookup(aliases))
    replaced = (after if notice == before else notice for notice in table.notices)
    notices = tuple(notice for notice in replaced if notice is not None)
    numbers = _original_numbers(results, table, source_row)
    return replace(
        table,
        headers=kept_headers,
        mapping=mapping,
        rows=tuple(
            SourceRow(numbers[row.row], tuple(row.cells[i] for i in keep if i < len(row.cells)))
            for row in table.rows
        ),
        notices=notices,
        header_row=1,
        skipped_rows=(),
    )


def _ours(headers: list[str], name: str, last: bool) -> int | None:
    """The index of our column ``name``: the last header, or the one before it."""
    index = len(headers) - (1 if last else 2)
    return index if 0 <= index < len(headers) and headers[index] == name else None


def _original_numbers(results: Path, table: SheetTable, source_row: int | None) -> dict[int, int]:
    """Failed-rows sheet row -> the row's number in the original sheet."""
    if source_row is None:  # written before the row column existed: as the sheet has it
        return {row.row: row.row for row in table.rows}
    given: dict[int, int] = {}
    for row in table.rows:
        value = row.cells[source_row] if source_row < len(row.cells) else None
        number = _whole(value)
        if number is not None and number not in given.values():
            given[row.row] = number
    if all(row.row in given for row in table.rows):
        return given
    # A row added in Failed rows: numbered after every row of the original sheet.
    last = max([*given.values(), *_result_rows(results)], default=0)
    numbers = {}
    for row in table.rows:
        if row.row not in given:
            last += 1
            given[row.row] = last
        numbers[row.row] = given[row.row]
    return numbers


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


def _result_rows(results: Path) -> list[int]:
    return [number for number, _, _ in _results_sheet(results)[1]]


ResultsLine = tuple[int, dict[str, object], tuple[object, ...]]


def _results_sheet(results: Path) -> tuple[tuple[str, ...], list[ResultsLine]]:
    """The Results sheet, read once: its header, and per line the original row number,
    the line by header, and the cells after our own columns (the input's, then evidence)."""
    import openpyxl

    workbook = openpyxl.load_workbook(results, read_only=True)
    try:
        values_of = workbook[RESULTS_SHEET].iter_rows(values_only=True)
        header = tuple("" if v is None else str(v) for v in next(values_of, ()))
        found: list[ResultsLine] = []
        for values in values_of:
            line: dict[str, object] = dict(zip(header, values, strict=False))
            number = _whole(line.get("row"))
            if number is not None:
                found.append((number, line, tuple(values[len(RESULT_COLUMNS) :])))
        return header, found
    finally:
        workbook.close()


@dataclass(frozen=True)
class PreviousRun:
    """The rows of an earlier results workbook that a retry does not send: they keep
    their status and ticket in the new workbook (a ticket created by an earlier run is
    ``already_submitted`` in this one), so the newest one tells the week."""

    name: str
    headers: tuple[str, ...]  # the input's own headers in its Results sheet
    lines: tuple[tuple[SourceRow, RowOutcome], ...]

    def combined(
        self, table: SheetTable, items: tuple[Item, ...]
    ) -> tuple[SheetTable, tuple[Item, ...]]:
        """``table`` and ``items`` (the retried rows) with every other row of the
        earlier run, in row order."""
        sent = {row.row for row in table.rows}
        width = len(table.headers)
        position = _aligned(self.headers, table.headers)
        carried = []
        for source, outcome in self.lines:
            if source.row in sent:
                continue
            cells: list[object] = [None] * width
            for old, new in position.items():
                if old < len(source.cells):
                    cells[new] = source.cells[old]
            if outcome.status is Status.SUBMITTED:  # for this run: a ticket from before
                outcome = replace(outcome, status=Status.ALREADY_SUBMITTED)
            carried.append((SourceRow(source.row, tuple(cells)), outcome))
        if not carried:
            return table, items
        rows = [*table.rows, *(row for row, _ in carried)]
        every = [*items, *(outcome for _, outcome in carried)]
        order = sorted(range(len(rows)), key=lambda i: rows[i].row)
        return replace(table, rows=tuple(rows[i] for i in order)), tuple(every[i] for i in order)


def _aligned(old: tuple[str, ...], new: tuple[str, ...]) -> dict[int, int]:
    """Old column index -> new one: by header text, else by place when the widths agree."""
    by_text = {text: index for index, text in enumerate(new) if text}
    position = {i: by_text[text] for i, text in enumerate(old) if text in by_text}
    if len(old) == len(new):
        for i in range(len(old)):
            if i not in position and i not in position.values():
                position[i] = i
    return position


def read_previous_run(results: Path) -> PreviousRun:
    """Every line of an earlier results workbook's Results sheet, as source row and
    outcome (a row that is retried is replaced by its new outcome)."""
    header, found = _results_sheet(results)
    own = header[len(RESULT_COLUMNS) :]
    if own and own[-1] == EVIDENCE_COLUMN:
        own = own[:-1]
    lines = [
        (SourceRow(number, cells[: len(own)]), _outcome(number, line, cells))
        for number, line, cells in found
    ]
    return PreviousRun(results.name, own, tuple(lines))


def _outcome(number: int, line: Mapping[str, object], cells: tuple[object, ...]) -> RowOutcome:
    def text(key: str) -> str | None:
        value = line.get(key)
        return None if value is None else str(value)

    try:
        status = Status(text("status") or "")
    except ValueError:
        status = Status.NOT_ATTEMPTED
    submitted = text("submitted_at")
    http = line.get("http_status")
    return RowOutcome(
        row=number,
        tracking_number=text(TRACKING_NUMBER) or "",
        contract_type=text(CONTRACT_TYPE) or "",
        # A workbook of a release before ticket types has no such column: damage.
        ticket_type=text(TICKET_TYPE) or TicketType.DAMAGE.value,
        status=status,
        ticket_id=text("ticket_id"),
        http_status=http if isinstance(http, int) else None,
        error_code=text("error_code"),
        error_detail=text("error_detail"),
        attempts=line["attempts"] if isinstance(line.get("attempts"), int) else 0,  # type: ignore[arg-type]
        submitted_at=_parse_time(submitted),
        evidence=str(cells[-1]) if cells and cells[-1] is not None else "",
    )


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
