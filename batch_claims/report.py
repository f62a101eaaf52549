"""The results workbook: ``Summary``, ``Results`` and ``Failed rows``, written atomically.

``Failed rows`` has the input's own headers on its first row (plus ``error``), so that
``retry`` reads it back as an input sheet. Text is always stored as text: a value such
as ``=HYPERLINK(...)`` never becomes a formula.
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from batch_claims.clock import iso_utc
from batch_claims.columns import CONTRACT_TYPE, TRACKING_NUMBER
from batch_claims.errors import InputError
from batch_claims.fingerprint import stamp
from batch_claims.outcome import RowOutcome, Status
from batch_claims.redact import redact
from batch_claims.sheet import SheetTable, SourceRow

SUMMARY_SHEET = "Summary"
RESULTS_SHEET = "Results"
FAILED_SHEET = "Failed rows"
RESULT_COLUMNS: tuple[str, ...] = (
    "row",
    TRACKING_NUMBER,
    CONTRACT_TYPE,
    "status",
    "ticket_id",
    "http_status",
    "error_code",
    "error_detail",
    "attempts",
    "submitted_at",
)
EVIDENCE_COLUMN = "evidence"  # after the input's own columns
ERROR_HEADER = "error"
# After ``error`` in Failed rows: the row's number in the original sheet, so that a
# retry numbers its messages and its workbook as the original sheet does.
SOURCE_ROW_HEADER = "row"

MAX_CELL_TEXT = 32_767  # Excel's limit per cell
BOLD = Font(bold=True)
ERROR_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
_COMMENT_AUTHOR = "batch-claims"

CellValue = str | int | float | Decimal | bool | datetime | date | time | timedelta | None


@dataclass(frozen=True)
class RunInfo:
    """What the Summary sheet says about the run (never secrets)."""

    command: str
    started_at: datetime
    finished_at: datetime
    input_name: str
    input_sha256: str
    base_url: str | None
    tool_version: str
    run_id: str
    account: str | None = None
    journal: str | None = None
    sheet_name: str | None = None
    source_results: str | None = None
    notices: tuple[str, ...] = ()
    stats: Mapping[str, int | float | str] = field(default_factory=dict)


def write_results(
    path: Path, info: RunInfo, table: SheetTable, outcomes: Sequence[RowOutcome]
) -> None:
    """Write the results workbook for ``outcomes`` of ``table`` atomically to ``path``."""
    if path.exists() and table.source.exists() and path.resolve() == table.source.resolve():
        raise InputError(f"refusing to overwrite the input {table.source} with results")
    ordered = _in_input_order(table, outcomes)
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    _write_summary(summary, info, ordered)
    _write_results(workbook.create_sheet(RESULTS_SHEET), table, ordered)
    _write_failed(workbook.create_sheet(FAILED_SHEET), table, ordered)
    stamp(workbook)
    atomic_save(workbook, path)


def atomic_save(workbook: Workbook, path: Path) -> None:
    """Save to a temporary file beside ``path``, then rename it over ``path``."""
    _atomic(path, workbook.save)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    _atomic(path, lambda tmp: tmp.write_bytes(data))


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def excel_value(value: object) -> CellValue:
    """A value openpyxl can store: text cleaned and capped, datetimes naive UTC."""
    if value is None or isinstance(value, str):
        return _clean_text(value) if value is not None else None
    if isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, date | time | timedelta):
        if value != value:  # pandas NaT
            return None
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, numbers.Integral):  # numpy integers
        return int(value)
    if isinstance(value, numbers.Real):  # float, numpy floats
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    return _clean_text(str(value))


def _clean_text(text: str) -> str:
    text = redact(ILLEGAL_CHARACTERS_RE.sub("", text))
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def _new_file_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _in_input_order(
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
                status=Status.NOT_ATTEMPTED,
                error_detail="no outcome was recorded for this row",
            )
        pairs.append((outcome, source))
    pairs.extend((outcome, None) for outcome in by_row.values())
    return pairs


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


def _write_summary(
    sheet: Worksheet, info: RunInfo, ordered: list[tuple[RowOutcome, SourceRow | None]]
) -> None:
    counts = Counter(outcome.status for outcome, _ in ordered)
    _append(sheet, ["status", "rows"], bold=True)
    for status in Status:
        _append(sheet, [status.value, counts[status]])
    _append(sheet, ["total", len(ordered)], bold=True)
    last_count_row = sheet.max_row - 1

    chart = BarChart()
    chart.type = "bar"
    chart.title = "Outcome per row"
    chart.legend = None
    chart.y_axis.title = "rows"
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=last_count_row), True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last_count_row))
    chart.height = 7.5
    chart.width = 15
    sheet.add_chart(chart, "D2")

    sheet.append([])
    _append(sheet, ["run", ""], bold=True)
    details: list[tuple[str, object]] = [
        ("command", info.command),
        ("started_at", iso_utc(info.started_at)),
        ("finished_at", iso_utc(info.finished_at)),
        ("duration_seconds", round((info.finished_at - info.started_at).total_seconds(), 1)),
        ("input_file", info.input_name),
        ("input_sha256", info.input_sha256),
        ("sheet", info.sheet_name),
        ("source_results", info.source_results),
        ("api_base_url", _without_userinfo(info.base_url)),
        ("account", info.account),
        ("journal", info.journal),
        ("tool_version", info.tool_version),
        ("run_id", info.run_id),
    ]
    for key, value in details:
        _append(sheet, [key, value])
    if info.notices:
        sheet.append([])
        _append(sheet, ["notices", ""], bold=True)
        for notice in info.notices:
            _append(sheet, ["", notice])
    if info.stats:
        sheet.append([])
        _append(sheet, ["stats", ""], bold=True)
        for key, stat in info.stats.items():
            _append(sheet, [key, stat])
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 70


def _write_results(
    sheet: Worksheet, table: SheetTable, ordered: list[tuple[RowOutcome, SourceRow | None]]
) -> None:
    headers = [*RESULT_COLUMNS, *table.headers, EVIDENCE_COLUMN]
    _append(sheet, headers, bold=True)
    for outcome, source in ordered:
        detail = outcome.error_detail
        if outcome.status is Status.INVALID and outcome.errors:
            detail = "\n".join(error.message for error in outcome.errors)
        values: list[object] = [
            outcome.row,
            outcome.tracking_number,
            outcome.contract_type,
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
        try:
            cleaned: list[CellValue] = [excel_value(value) for value in values]
        except Exception as exc:  # one odd cell must not cost the workbook
            cleaned = [
                outcome.row,
                _safe_text(outcome.tracking_number),
                outcome.contract_type,
                outcome.status.value,
                outcome.ticket_id,
                outcome.http_status,
                outcome.error_code or "internal_error",
                f"this row's cells could not be written to the workbook ({type(exc).__name__})",
            ]
        _append(sheet, cleaned)
    _finish_table(sheet, len(headers))


def _write_failed(
    sheet: Worksheet, table: SheetTable, ordered: list[tuple[RowOutcome, SourceRow | None]]
) -> None:
    _append(sheet, [*table.headers, ERROR_HEADER, SOURCE_ROW_HEADER], bold=True)
    tracking_index = table.mapping.get(TRACKING_NUMBER)
    for outcome, source in ordered:
        if outcome.status.has_ticket:
            continue
        tracking_number = outcome.tracking_number or _text_of(
            _input_value(table, source, TRACKING_NUMBER) if source is not None else None
        )
        reason = failure_reason(outcome, tracking_number)
        try:
            cleaned: list[CellValue] = [
                excel_value(value) for value in [*_input_cells(table, source), reason, outcome.row]
            ]
        except Exception as exc:  # one odd cell must not cost the workbook
            blank: list[CellValue] = [None] * len(table.headers)
            cleaned = [
                *blank,
                f"{reason}\n(this row's cells could not be written: {type(exc).__name__})",
                outcome.row,
            ]
        _append(sheet, cleaned)
        excel_row = sheet.max_row
        if tracking_index is not None:
            tracking_cell = sheet.cell(excel_row, tracking_index + 1)
            if not isinstance(tracking_cell.value, date | time):  # a date stays a date
                tracking_cell.number_format = "@"
        _highlight(sheet, excel_row, table, outcome)
    _finish_table(sheet, len(table.headers) + 2)


def _highlight(sheet: Worksheet, excel_row: int, table: SheetTable, outcome: RowOutcome) -> None:
    """Fill each offending input cell and put its errors in a comment."""
    messages: dict[int, list[str]] = {}
    for error in outcome.errors:
        index = table.mapping.get(error.column) if error.column else None
        if index is not None:
            messages.setdefault(index, []).append(error.message)
    for index, texts in messages.items():
        cell = sheet.cell(excel_row, index + 1)
        cell.fill = ERROR_FILL
        text = excel_value("\n".join(texts))
        comment = Comment(str(text), _COMMENT_AUTHOR)
        comment.width = 320
        comment.height = min(60 + 40 * len(texts), 400)
        cell.comment = comment


def failure_reason(outcome: RowOutcome, tracking_number: str | None = None) -> str:
    """Why a row has no ticket, in words a user can act on."""
    status = outcome.status
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
    if status is Status.VALID:
        return "valid: not sent (validate or dry run); run submit to create its ticket"
    return _lines(status.value, answer, messages)


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _input_cells(table: SheetTable, source: SourceRow | None) -> list[object]:
    cells = list(source.cells) if source is not None else []
    width = len(table.headers)
    return (cells + [None] * width)[:width]


def _append(sheet: Worksheet, values: Iterable[object], *, bold: bool = False) -> None:
    """Append a row; text stays text (never a formula)."""
    cleaned = [excel_value(value) for value in values]
    sheet.append(cleaned)
    if not cleaned:
        return
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = BOLD


def _finish_table(sheet: Worksheet, width: int) -> None:
    """Freeze and filter the header row and size the columns to their content."""
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(width, 1))
    sheet.auto_filter.ref = f"A1:{last}{max(sheet.max_row, 1)}"
    for index in range(1, width + 1):
        longest = 0
        for (value,) in sheet.iter_rows(
            min_row=1,
            max_row=min(sheet.max_row, 500),
            min_col=index,
            max_col=index,
            values_only=True,
        ):
            if value is not None:
                first_line = max(str(value).splitlines() or [""], key=len)
                longest = max(longest, len(first_line))
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)


def _without_userinfo(url: str | None) -> str | None:
    """A URL with any ``user:password@`` removed."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
