"""The ``Results`` and ``Failed rows`` sheets, row by row in input order, written in
one pass (a row's input cells are made once for both).

``Results`` has one row per input row: the result columns, the input's own cells and
the evidence checklist. ``Failed rows`` repeats the rows without a ticket under the
input's own headers (plus ``error`` and ``row``), so that ``retry`` reads it back as an
input sheet; the offending cells are highlighted with their messages as comments and
the tracking-number column is formatted as Text. One odd cell never costs the
workbook: a row whose cells cannot be cleaned is written with its reason instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from batch_claims import forked
from batch_claims.clock import iso_utc
from batch_claims.columns import TICKET_TYPE, TRACKING_NUMBER
from batch_claims.outcome import RowOutcome, Status
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.report import pieces
from batch_claims.report.book import Sheet
from batch_claims.report.rowxml import BLANK, DATE_FORMATS, TEXT_FORMAT, Cell, RowXml, StyleKey
from batch_claims.report.values import excel_value
from batch_claims.results_layout import (
    ERROR_HEADER,
    EVIDENCE_COLUMN,
    RESULT_COLUMNS,
    SOURCE_ROW_HEADER,
)
from batch_claims.ticket_types import TicketType

Paired = Sequence[tuple[RowOutcome, SourceRow | None]]
# From this many rows on, the rows are written in pieces of at least ``PIECE_ROWS``
# shared with a forked child (``pieces.in_pieces``).
BESIDE_ROWS = 2_000
PIECE_ROWS = 1_000


def in_input_order(
    table: SheetTable, outcomes: Sequence[RowOutcome]
) -> list[tuple[RowOutcome, SourceRow | None]]:
    """Pair each outcome with its input row, in input order.

    An input row without an outcome is reported ``not_attempted`` (it got no ticket from
    this run); outcomes for rows not in the table come last.
    """
    by_row = {outcome.row: outcome for outcome in outcomes}
    pairs: list[tuple[RowOutcome, SourceRow | None]] = []
    for source in table.rows:
        outcome = by_row.pop(source.row, None)
        if outcome is None:
            outcome = RowOutcome(
                row=source.row,
                tracking_number=_text_of(_input_value(table, source, TRACKING_NUMBER)),
                contract_type="",
                ticket_type="",
                status=Status.NOT_ATTEMPTED,
                error_detail="no outcome was recorded for this row",
            )
        pairs.append((outcome, source))
    pairs.extend((outcome, None) for outcome in by_row.values())
    return pairs


def write_row_sheets(results: Sheet, failed: Sheet, table: SheetTable, ordered: Paired) -> None:
    """``Results`` and ``Failed rows`` in one pass over the rows: each row's ``Results``
    row, then (without a ticket) its ``Failed rows`` row, whose input cells are those
    ``Results`` made of the same values. ``failed`` is a held sheet (``Book.sheet``).

    Every style a row may need is made first (``_styles_ahead``), so that many rows can
    be written in pieces by two processes at once (``pieces.in_pieces``) and each finds
    them made.
    """
    headers = [*RESULT_COLUMNS, *table.headers, EVIDENCE_COLUMN]
    results.append_values(headers, bold=True)
    rows = results.book.rows
    width = len(table.headers)
    _styles_ahead(rows, (source.cells[:width] for _, source in ordered if source is not None))
    layout = _FailedLayout(table, ordered)
    failed.append_values(layout.headers, bold=True)
    first = len(RESULT_COLUMNS)

    def write(part: Paired) -> None:
        for outcome, source in part:
            values = _result_values(table, outcome, source)
            try:
                cells = rows.cells(values)
            except Exception as exc:  # one odd cell must not cost the workbook
                results.append(rows.cells(_fallback_values(outcome, exc)))
                input_cells = None
            else:
                results.append(cells)
                input_cells = cells[first : first + width]
            if not outcome.status.has_ticket:
                layout.append(failed, outcome, source, input_cells)

    if len(ordered) < BESIDE_ROWS:
        write(ordered)
    else:
        size = max(PIECE_ROWS, -(-len(ordered) // forked.MAX_PIECES))
        parts = [ordered[start : start + size] for start in range(0, len(ordered), size)]
        counts = [
            {results: len(part), failed: sum(1 for o, _ in part if not o.status.has_ticket)}
            for part in parts
        ]
        pieces.in_pieces(results.book, len(parts), lambda k: write(parts[k]), counts)
    results.finish_table(len(headers))
    failed.finish_table(len(layout.headers))


def _styles_ahead(rows: RowXml, inputs: Iterable[Sequence[object]]) -> None:
    """Make, before any row is written, the styles the rows' cells may take: the input's
    dates' (in the order writing them makes them, ``RowXml.date_styles``), then those of
    ``Failed rows``: the tracking-number column as Text, highlighted cells, each plain
    or wrapped (a date keeps its own format)."""
    rows.date_styles(inputs)
    dates = [kind for kind in DATE_FORMATS.values() if rows.has_style(_plain(kind))]
    for fill, number_format in [
        (False, TEXT_FORMAT),
        (True, None),
        (True, TEXT_FORMAT),
    ]:
        for wrap in (False, True):
            rows.style((False, wrap, fill, number_format))
    for kind in dates:
        rows.style((False, False, True, kind))


def _plain(number_format: str) -> StyleKey:
    return (False, False, False, number_format)


def _result_values(
    table: SheetTable, outcome: RowOutcome, source: SourceRow | None
) -> list[object]:
    detail = outcome.error_detail
    if outcome.status is Status.INVALID and outcome.errors:
        detail = "\n".join(error.message for error in outcome.errors)
    return [
        outcome.row,
        outcome.tracking_number,
        outcome.contract_type,
        outcome.ticket_type,
        outcome.status.value,
        outcome.ticket_id,
        outcome.http_status,
        outcome.error_code,
        detail,
        outcome.attempts,
        iso_utc(outcome.submitted_at),
        *_input_cells(table, source),
        outcome.evidence,
    ]


def _fallback_values(outcome: RowOutcome, exc: Exception) -> tuple[object, ...]:
    """A ``Results`` row whose cells could not be written: its reason instead."""
    return (
        outcome.row,
        _safe_text(outcome.tracking_number),
        outcome.contract_type,
        outcome.ticket_type,
        outcome.status.value,
        outcome.ticket_id,
        outcome.http_status,
        outcome.error_code or "internal_error",
        f"this row's cells could not be written to the workbook ({type(exc).__name__})",
    )


class _FailedLayout:
    """``Failed rows``: the rows without a ticket, as the input had them, then why
    (``error``) and their row number. A row whose ticket type the input did not say in
    a column (the sheet's name, --ticket-type or the config said it) gets a
    ``ticket_type`` column before ``error``, so that a retry files it as the same type."""

    def __init__(self, table: SheetTable, ordered: Paired) -> None:
        self.table = table
        self.typed = TICKET_TYPE not in table.mapping and bool(
            {outcome.ticket_type for outcome, _ in ordered if not outcome.status.has_ticket}
            - {"", TicketType.DAMAGE}
        )
        extra = [TICKET_TYPE] if self.typed else []
        self.headers = [*table.headers, *extra, ERROR_HEADER, SOURCE_ROW_HEADER]
        self.tracking_index = table.mapping.get(TRACKING_NUMBER)

    def append(
        self,
        sheet: Sheet,
        outcome: RowOutcome,
        source: SourceRow | None,
        input_cells: Sequence[Cell] | None,
    ) -> None:
        """One row without a ticket; ``input_cells``: its input's cells, if made."""
        table, rows = self.table, sheet.book.rows
        kind: list[object] = [outcome.ticket_type or None] if self.typed else []
        tracking_number = outcome.tracking_number or _text_of(
            _input_value(table, source, TRACKING_NUMBER) if source is not None else None
        )
        reason = failure_reason(outcome, tracking_number)
        try:
            if input_cells is None:
                cells = rows.cells([*_input_cells(table, source), *kind, reason, outcome.row])
            else:
                cells = [*input_cells, *rows.cells([*kind, reason, outcome.row])]
        except Exception as exc:  # one odd cell must not cost the workbook
            cells = [
                *[BLANK] * (len(table.headers) + len(kind)),
                rows.cell(
                    f"{reason}\n(this row's cells could not be written: {type(exc).__name__})"
                ),
                rows.cell(outcome.row),
            ]
        # The tracking number is formatted as Text (a date stays a date).
        sheet.append(
            cells,
            text_column=self.tracking_index,
            highlighted=_highlights(table, outcome),
        )


def _highlights(table: SheetTable, outcome: RowOutcome) -> dict[int, str]:
    """Each offending input cell's column and the text of its comment: its errors."""
    messages: dict[int, list[str]] = {}
    for error in outcome.errors:
        index = table.mapping.get(error.column) if error.column else None
        if index is not None:
            messages.setdefault(index, []).append(error.message)
    return {index: str(excel_value("\n".join(texts))) for index, texts in messages.items()}


def failure_reason(outcome: RowOutcome, tracking_number: str | None = None) -> str:
    """Why a row has no ticket, in words a user can act on."""
    status = outcome.status
    if status is Status.VALID:  # most rows of a validate or a dry run
        return "valid: not sent (validate or dry run); run submit to create its ticket"
    tracking_number = tracking_number or outcome.tracking_number or "TRACKING_NUMBER"
    messages = "\n".join(error.message for error in outcome.errors)
    api = " ".join(
        part
        for part in (
            f"HTTP {outcome.http_status}" if outcome.http_status is not None else "",
            outcome.error_code or "",
        )
        if part
    )
    detail = outcome.error_detail or ""
    answer = f"{api}: {detail}" if api and detail else api or detail
    if status is Status.INVALID:
        return messages or detail or "invalid"
    if status is Status.REJECTED:
        return _lines(answer or "rejected by the API", messages)
    if status is Status.FAILED:
        tries = f" after {outcome.attempts} attempts" if outcome.attempts else ""
        return _lines(
            f"failed{tries}: {answer or 'no answer'}",
            messages,
            "send it again later with batch-claims retry",
        )
    if status is Status.UNCONFIRMED and "batch-claims resolve" in detail:
        return f"unconfirmed: {answer}"  # the detail already says what to do
    if status is Status.UNCONFIRMED:
        return _lines(
            f"unconfirmed: {answer}" if answer else "unconfirmed",
            "the ticket request may have reached Sendcloud; look for the parcel in the "
            f"Sendcloud panel, then run: batch-claims resolve {tracking_number} "
            "--ticket-id ID (or --not-created)",
        )
    if status is Status.NOT_ATTEMPTED:
        return _lines(
            detail or "not_attempted: the run stopped before this row",
            "send it with batch-claims retry",
        )
    return _lines(status.value, answer, messages)


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _input_cells(table: SheetTable, source: SourceRow | None) -> list[object]:
    cells = list(source.cells) if source is not None else []
    width = len(table.headers)
    return (cells + [None] * width)[:width]


def _input_value(table: SheetTable, source: SourceRow, column: str) -> object:
    index = table.mapping.get(column)
    if index is None or index >= len(source.cells):
        return None
    return source.cells[index]


def _text_of(value: object) -> str:
    return "" if value is None else str(value)


def _safe_text(value: object) -> str:
    """``str(value)``, or its type's name when even that fails."""
    try:
        return _text_of(value)
    except Exception:
        return f"<{type(value).__name__}>"
