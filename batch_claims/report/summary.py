"""The ``Summary`` sheet: rows per status with a bar chart of them (and per ticket type),
then the run's details (never secrets: an API address loses any ``user:password@``),
the rows close to or past their claim window (the most urgent first, to be filed
first), notices and stats."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from batch_claims.clock import iso_utc
from batch_claims.outcome import RowOutcome, Status, WindowState
from batch_claims.report.book import Sheet
from batch_claims.results_layout import SUMMARY_SHEET
from batch_claims.send.interfaces import RunInfo


def write_summary(sheet: Sheet, info: RunInfo, outcomes: Sequence[RowOutcome]) -> None:
    # One pass over the rows: how many of each ticket type and status.
    per_type = Counter((outcome.ticket_type, outcome.status) for outcome in outcomes)
    counts: Counter[Status] = Counter()
    for (_, status), count in per_type.items():
        counts[status] += count
    sheet.append_values(["status", "rows"], bold=True)
    for status in Status:
        sheet.append_values([status.value, counts[status]])
    last_count_row = sheet.append_values(["total", len(outcomes)], bold=True) - 1

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

    _per_type(sheet, per_type)
    sheet.skip()
    sheet.append_values(["run", ""], bold=True)
    details: list[tuple[str, object]] = [
        ("command", info.command),
        ("started_at", iso_utc(info.started_at)),
        ("finished_at", iso_utc(info.finished_at)),
        ("duration_seconds", round((info.finished_at - info.started_at).total_seconds(), 1)),
        ("input_file", info.input_name),
        ("input_sha256", info.input_sha256),
        ("sheet", info.sheet_name),
        ("source_results", info.source_results),
        ("api_base_url", without_userinfo(info.base_url)),
        ("account", info.account),
        ("journal", info.journal),
        ("tool_version", info.tool_version),
        ("run_id", info.run_id),
    ]
    for key, value in details:
        sheet.append_values([key, value])
    _urgent(sheet, outcomes)  # below the chart, which covers D2 to about row 16
    if info.notices:
        sheet.skip()
        sheet.append_values(["notices", ""], bold=True)
        for notice in info.notices:
            sheet.append_values(["", notice])
    if info.stats:
        sheet.skip()
        sheet.append_values(["stats", ""], bold=True)
        for key, stat in info.stats.items():
            sheet.append_values([key, stat])
    sheet.worksheet.set_column(0, 0, 20)
    sheet.worksheet.set_column(1, 1, 70)
    sheet.worksheet.set_column(2, 5, 16)


def without_userinfo(url: str | None) -> str | None:
    """A URL with any ``user:password@`` removed."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _per_type(sheet: Sheet, counts: Counter[tuple[str, Status]]) -> None:
    """Rows per ticket type and status (``counts``), when the sheet holds more than one
    type."""
    types = sorted({ticket_type for ticket_type, _ in counts if ticket_type})
    if len(types) < 2:
        return
    shown = [status for status in Status if any(counts[t, status] for t in types)]
    sheet.skip()
    sheet.append_values(["ticket_type", *(status.value for status in shown), "total"], bold=True)
    for ticket_type in types:
        numbers = [counts[ticket_type, status] for status in shown]
        sheet.append_values([ticket_type, *numbers, sum(numbers)])


WINDOW_HEADERS = ("row", "tracking_number", "ticket_type", "deadline", "window", "status")
_URGENT = frozenset({WindowState.PAST, WindowState.CLOSE})


def _urgent(sheet: Sheet, outcomes: Sequence[RowOutcome]) -> None:
    """The rows close to or past the window Sendcloud recommends, the earliest deadline
    first (then by row): the ones to file first."""
    urgent = sorted(
        (o for o in outcomes if o.window in _URGENT),
        key=lambda o: (o.deadline or datetime.max.date(), o.row),
    )
    if not urgent:
        return
    sheet.skip()
    sheet.append_values(["close to or past the claim window: file these first"], bold=True)
    sheet.append_values(WINDOW_HEADERS, bold=True)
    for o in urgent:
        state = o.window.value if o.window is not None else ""
        sheet.append_values(
            [o.row, o.tracking_number, o.ticket_type, o.deadline, state, o.status.value]
        )
