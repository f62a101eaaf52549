"""The results workbook: ``Summary``, ``Results`` and ``Failed rows``, written atomically.

``Failed rows`` has the input's own headers on its first row (plus ``error``), so that
``retry`` reads it back as an input sheet. Text is always stored as text: a value such
as ``=HYPERLINK(...)`` never becomes a formula.

The workbook is written by XlsxWriter, row after row, in a cost linear in the rows and
in ``constant_memory`` mode (each row goes to disk as the next one starts, text as inline
strings), so memory does not grow with the rows: no row asks the sheet for its size,
column widths come from the first 500 rows as they are written, and the fingerprint
(``fingerprint``) is fed the very values written, so the workbook is never read back to
stamp it. Each sheet keeps its frozen, filtered header;
``Failed rows`` highlights the offending cells with their messages as comments and
formats the tracking-number column as Text; ``Summary`` has its chart and notices.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from batch_claims.clock import iso_utc
from batch_claims.columns import TRACKING_NUMBER
from batch_claims.errors import InputError
from batch_claims.outcome import RowOutcome, Status
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.redact import redact
from batch_claims.report.fingerprint import PROPERTY, Fingerprint
from batch_claims.results_layout import (
    ERROR_HEADER,
    EVIDENCE_COLUMN,
    FAILED_SHEET,
    RESULT_COLUMNS,
    RESULTS_SHEET,
    SOURCE_ROW_HEADER,
    SUMMARY_SHEET,
)

if TYPE_CHECKING:
    from openpyxl import Workbook


MAX_CELL_TEXT = 32_767  # Excel's limit per cell, in UTF-16 code units
ERROR_COLOR = "#FFC7CE"
_COMMENT_AUTHOR = "batch-claims"
WIDTH_SAMPLE_ROWS = 500  # column widths are sized to the first rows' content
# Characters XML 1.0 cannot hold: openpyxl's ILLEGAL_CHARACTERS_RE, and U+FFFE, U+FFFF.
_ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]|[\ufffe\uffff]")
# Number formats of dates and times, as openpyxl gives them.
_DATE_FORMATS: dict[type, str] = {
    datetime: "yyyy-mm-dd h:mm:ss",
    date: "yyyy-mm-dd",
    time: "h:mm:ss",
    timedelta: "[hh]:mm:ss",
}

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

    def write(tmp: Path) -> None:
        book = _Book(tmp)
        _write_summary(book.sheet(SUMMARY_SHEET), info, ordered)
        _write_results(book.sheet(RESULTS_SHEET), table, ordered)
        _write_failed(book.sheet(FAILED_SHEET), table, ordered)
        book.close()

    _atomic(path, write)


class ResultsFile:
    """Where one run writes its results workbook, maybe several times (a long run
    refreshes it): never over a person's edits.

    A file this run wrote and nobody touched since (same size, time and inode) is
    replaced at once; any other is checked by its fingerprint (``outputs.free_path``),
    and one a person changed is kept, the results going to ``<stem> (2).xlsx``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: tuple[int, int, int] | None = None

    def target(self) -> Path:
        """The path to write to now."""
        if self._written is not None and _stat_key(self.path) == self._written:
            return self.path
        from batch_claims.report.outputs import free_path

        self.path = free_path(self.path)
        return self.path

    def write(self, info: RunInfo, table: SheetTable, outcomes: Sequence[RowOutcome]) -> Path:
        """Write the workbook (atomically) to ``target()``; returns where it went."""
        target = self.target()
        write_results(target, info, table, outcomes)
        self._written = _stat_key(target)
        return target


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


def atomic_save(workbook: Workbook, path: Path) -> None:
    """Save an openpyxl workbook to a temporary file beside ``path``, then rename it over
    ``path``."""
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
    if text.isprintable():  # no control character, no line break: nothing to clean
        text = redact(text)
    else:  # line breaks as every XML reader reads them back (a bare \r would be escaped)
        text = redact(_ILLEGAL_CHARACTERS.sub("", text)).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CELL_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_CELL_TEXT:
        # Cut to Excel's limit in UTF-16 units, never inside a surrogate pair.
        kept = text.encode("utf-16-le")[: 2 * (MAX_CELL_TEXT - 1)]
        text = kept.decode("utf-16-le", errors="ignore") + "…"
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


class _Book:
    """An XlsxWriter workbook being written, its cell formats, and the fingerprint of
    every value written, stored in its custom properties when it is closed."""

    def __init__(self, path: Path) -> None:
        import xlsxwriter

        self.workbook: Any = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                # Each row goes to disk as the next one starts (text as inline strings),
                # so the workbook's cells are never all in memory at once.
                "constant_memory": True,
            },
        )
        self.fingerprint = Fingerprint()
        self._formats: dict[tuple[bool, bool, bool, str | None], Any] = {}

    def sheet(self, name: str) -> _Sheet:
        self.fingerprint.sheet(name)
        return _Sheet(self, self.workbook.add_worksheet(name))

    def format(self, bold: bool, wrap: bool, fill: bool, number_format: str | None) -> Any:
        """The one format object for this combination, made on first use."""
        key = (bold, wrap, fill, number_format)
        found = self._formats.get(key)
        if found is None:
            spec: dict[str, object] = {}
            if bold:
                spec["bold"] = True
            if wrap:
                spec.update(text_wrap=True, valign="top")
            if fill:
                spec.update(pattern=1, bg_color=ERROR_COLOR)
            if number_format:
                spec["num_format"] = number_format
            found = self._formats[key] = self.workbook.add_format(spec) if spec else None
        return found

    def close(self) -> None:
        self.workbook.set_custom_property(PROPERTY, self.fingerprint.hexdigest(), "text")
        self.workbook.close()


class _Sheet:
    """One worksheet written row after row; what is written is fed to the fingerprint,
    and the first rows' text sizes the columns."""

    def __init__(self, book: _Book, worksheet: Any) -> None:
        self.book = book
        self.worksheet = worksheet
        self.rows = 0  # rows written (or skipped) so far
        self._widths: dict[int, int] = {}

    def skip(self) -> None:
        """A blank row."""
        self.rows += 1

    def append(
        self,
        values: Sequence[CellValue],
        *,
        bold: bool = False,
        text_column: int | None = None,
        highlighted: Mapping[int, str] | None = None,
    ) -> int:
        """Write a row of cleaned values (text stays text, never a formula); the
        ``text_column`` is formatted as Text, ``highlighted`` cells are filled and carry
        their comment. Returns the 0-based row written."""
        row = self.rows
        written: list[CellValue] = []
        for column, value in enumerate(values):
            fill = highlighted is not None and column in highlighted
            written.append(self._write(row, column, value, bold, column == text_column, fill))
        if highlighted:
            for column, text in highlighted.items():
                self.worksheet.write_comment(
                    row,
                    column,
                    text,
                    {
                        "author": _COMMENT_AUTHOR,
                        "width": 320,
                        "height": min(60 + 40 * (text.count("\n") + 1), 400),
                    },
                )
        self.book.fingerprint.row(written)
        if row < WIDTH_SAMPLE_ROWS:
            self._measure(written)
        self.rows += 1
        return row

    def _write(
        self, row: int, column: int, value: CellValue, bold: bool, text: bool, fill: bool
    ) -> CellValue:
        """Write one cell by its type; returns the value as written."""
        sheet = self.worksheet
        if isinstance(value, str) and value:
            wrap = "\n" in value
            sheet.write_string(row, column, value, self.book.format(bold, wrap, fill, _text(text)))
            return value
        if value is None or value == "":  # an empty text is a blank cell
            if bold or text or fill:
                sheet.write_blank(
                    row, column, None, self.book.format(bold, False, fill, _text(text))
                )
            return None
        if isinstance(value, bool):
            sheet.write_boolean(
                row, column, value, self.book.format(bold, False, fill, _text(text))
            )
            return value
        if isinstance(value, date | time | timedelta):
            style = self.book.format(bold, False, fill, _DATE_FORMATS[_date_kind(value)])
            sheet.write_datetime(row, column, value, style)
            return value
        number = _finite(value)
        if number is None:  # beyond what a spreadsheet number holds: kept as text
            return self._write(row, column, str(value), bold, text, fill)
        sheet.write_number(row, column, number, self.book.format(bold, False, fill, _text(text)))
        return number

    def _measure(self, values: Sequence[CellValue]) -> None:
        for column, value in enumerate(values):
            if value is not None:
                first_line = max(str(value).splitlines() or [""], key=len)
                self._widths[column] = max(self._widths.get(column, 0), len(first_line))

    def finish_table(self, width: int) -> None:
        """Freeze and filter the header row and size the columns to their content."""
        self.worksheet.freeze_panes(1, 0)
        self.worksheet.autofilter(0, 0, max(self.rows - 1, 0), max(width, 1) - 1)
        for column in range(width):
            longest = self._widths.get(column, 0)
            self.worksheet.set_column(column, column, min(max(longest + 2, 8), 60))


def _text(text: bool) -> str | None:
    return "@" if text else None


def _date_kind(value: date | time | timedelta) -> type:
    if isinstance(value, datetime):
        return datetime
    if isinstance(value, date):
        return date
    return time if isinstance(value, time) else timedelta


def _finite(value: int | float | Decimal) -> float | int | Decimal | None:
    """``value`` when a spreadsheet can hold it as a number; else None."""
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    if number == 0:
        return 0  # -0.0 reads back as 0
    return number if isinstance(value, Decimal) else value  # as the file keeps it


def _write_summary(
    sheet: _Sheet, info: RunInfo, ordered: list[tuple[RowOutcome, SourceRow | None]]
) -> None:
    counts = Counter(outcome.status for outcome, _ in ordered)
    _append(sheet, ["status", "rows"], bold=True)
    for status in Status:
        _append(sheet, [status.value, counts[status]])
    last_count_row = _append(sheet, ["total", len(ordered)], bold=True) - 1

    chart = sheet.book.workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": [SUMMARY_SHEET, 0, 1],
            "categories": [SUMMARY_SHEET, 1, 0, last_count_row, 0],
            "values": [SUMMARY_SHEET, 1, 1, last_count_row, 1],
        }
    )
    chart.set_title({"name": "Outcome per row"})
    chart.set_legend({"none": True})
    chart.set_x_axis({"name": "rows"})  # a bar chart's value axis is its x axis
    chart.set_size({"width": 567, "height": 283})  # 15 cm by 7.5 cm
    sheet.worksheet.insert_chart("D2", chart)

    sheet.skip()
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
        sheet.skip()
        _append(sheet, ["notices", ""], bold=True)
        for notice in info.notices:
            _append(sheet, ["", notice])
    if info.stats:
        sheet.skip()
        _append(sheet, ["stats", ""], bold=True)
        for key, stat in info.stats.items():
            _append(sheet, [key, stat])
    sheet.worksheet.set_column(0, 0, 20)
    sheet.worksheet.set_column(1, 1, 70)


def _write_results(
    sheet: _Sheet, table: SheetTable, ordered: list[tuple[RowOutcome, SourceRow | None]]
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
        sheet.append(cleaned)
    sheet.finish_table(len(headers))


def _write_failed(
    sheet: _Sheet, table: SheetTable, ordered: list[tuple[RowOutcome, SourceRow | None]]
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
        # The tracking number is formatted as Text (a date stays a date).
        sheet.append(
            cleaned,
            text_column=tracking_index,
            highlighted=_highlights(table, outcome),
        )
    sheet.finish_table(len(table.headers) + 2)


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


def _append(sheet: _Sheet, values: Iterable[object], *, bold: bool = False) -> int:
    """Append a row of values, cleaned; returns its 0-based row."""
    return sheet.append([excel_value(value) for value in values], bold=bold)


def _without_userinfo(url: str | None) -> str | None:
    """A URL with any ``user:password@`` removed."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
