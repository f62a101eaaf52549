"""``Results`` and ``Failed rows`` written in one pass: the dates' styles made ahead
(``RowXml.date_styles``) are those, in that order, that writing the rows makes; a held
sheet (``Book.sheet(held=True)``) written alongside another is fingerprinted as if
written after it; and a ``Failed rows`` row's input cells, made once for ``Results``,
read back as the ``Results`` row's (same value, same look)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from batch_claims.outcome import RowError, RowOutcome, Status
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.redact import register
from batch_claims.report.book import Book
from batch_claims.report.fingerprint import PROPERTY, changed_since_written, digest_of
from batch_claims.report.rowxml import RowXml, StyleKey
from batch_claims.report.workbook import write_results
from batch_claims.send.interfaces import RunInfo

SECRET = "row-sheets-secret-4Kd8"
register(SECRET)

values: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 1, 1)),
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(9998, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]),
    ),
    st.dates(min_value=date(1900, 1, 2)),
    st.times(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=999)),
    st.sampled_from([pd.NaT, pd.Timestamp("2024-03-01 10:00"), f"key {SECRET}", "a\x01b"]),
)


def _recorder() -> tuple[Callable[[StyleKey], int], list[StyleKey]]:
    made: list[StyleKey] = []

    def style(key: StyleKey) -> int:
        made.append(key)
        return len(made) + 10

    return style, made


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(values, max_size=6), max_size=8))
def test_date_styles_are_made_as_writing_the_rows_makes_them(rows: list[list[Any]]) -> None:
    """Styles made ahead, then the rows written, give the same styles in the same order
    and the same XML as the rows written with no styles made ahead."""
    ahead_style, ahead_made = _recorder()
    plain_style, plain_made = _recorder()
    ahead, plain = RowXml(ahead_style), RowXml(plain_style)
    ahead.date_styles(rows)
    made_ahead = list(ahead_made)
    for number, row in enumerate(rows, start=1):
        assert ahead.row(number, ahead.cells(row)) == plain.row(number, plain.cells(row))
    assert ahead_made == plain_made == made_ahead


def _digest(book: Book, path: Path) -> str:
    book.close(path)
    with zipfile.ZipFile(path) as archive:
        custom = archive.read("docProps/custom.xml").decode()
    return custom.split(f'name="{PROPERTY}"')[1].split("<vt:lpwstr>")[1].split("<")[0]


def test_a_held_sheet_is_fingerprinted_as_if_written_after_the_one_before(
    tmp_path: Path,
) -> None:
    """Rows written alternately to two sheets (more than are written at once), the
    second held, and a third sheet after it: the same digest as the sheets written one
    after the other, and that of the cells read back."""
    first = [[f"a{n}", n, None if n % 5 else "x"] for n in range(1_234)]
    second = [
        [n * 0.5, f"b{n}\nline", datetime(2024, 1, 1) + timedelta(days=n)] for n in range(777)
    ]
    apart = Book()
    for name, rows in (("One", first), ("Two", second), ("Three", [["end"]])):
        sheet = apart.sheet(name)
        for row in rows:
            sheet.append_values(row)
    together = Book()
    one, two = together.sheet("One"), together.sheet("Two", held=True)
    for n in range(max(len(first), len(second))):
        if n < len(first):
            one.append_values(first[n])
        if n < len(second):
            two.append_values(second[n])
    three = together.sheet("Three")
    assert three.held is not None  # every sheet after a held one is held
    three.append_values(["end"])
    digest = _digest(together, tmp_path / "together.xlsx")
    assert digest == _digest(apart, tmp_path / "apart.xlsx")
    assert digest == digest_of(load_workbook(tmp_path / "together.xlsx"))


HEADERS = ("Tracking No", "Contract", "When", "Time", "Took", "Day", "Note")


def _look(cell: Any) -> tuple[object, ...]:
    return (
        cell.value,
        cell.number_format,
        cell.font.bold,
        cell.fill.fgColor.rgb if cell.fill.fill_type else None,
        bool(cell.alignment.wrap_text),
    )


def test_failed_rows_input_cells_look_as_in_results(tmp_path: Path) -> None:
    """Every row fails (as in a validate): each ``Failed rows`` input cell holds what
    the ``Results`` row's does, in the same format, but the tracking number (Text) and
    the offending cells (filled); the workbook is as written."""
    source = tmp_path / "claims.xlsx"
    source.write_bytes(b"input")
    cells: list[tuple[object, ...]] = []
    for n in range(40):
        cells.append(
            (
                f"3STRACK{n:04d}" if n % 7 else datetime(2024, 5, n % 28 + 1),
                "own_contract" if n % 2 else f"key {SECRET}",
                datetime(2024, 1, 1, 9) + timedelta(hours=n) if n % 3 else pd.NaT,
                time(10, n % 60),
                timedelta(minutes=n),
                date(2023, 1, n % 28 + 1),
                "two\r\nlines\x01" if n % 4 == 0 else n * 1.25,
            )
        )
    table = SheetTable(
        source=source,
        sheet_name="Sheet1",
        header_row=1,
        headers=HEADERS,
        mapping={"tracking_number": 0, "contract_type": 1, "additional_remarks": 6},
        rows=tuple(SourceRow(row=n + 2, cells=row) for n, row in enumerate(cells)),
    )
    outcomes = [
        RowOutcome(
            n + 2,
            str(row[0]),
            "own_contract",
            Status.INVALID if n % 3 == 0 else Status.VALID,
            errors=(RowError(n + 2, "contract_type", "bad", "bad contract"),) if n % 3 == 0 else (),
        )
        for n, row in enumerate(cells)
    ]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    info = RunInfo(
        "validate", now, now, "claims.xlsx", "ab" * 32, None, "0", "r", sheet_name="Sheet1"
    )
    out = tmp_path / "out.xlsx"
    write_results(out, info, table, outcomes)
    book = load_workbook(out)
    results, failed = book["Results"], book["Failed rows"]
    first = [c.value for c in results[1]].index(HEADERS[0])
    for row in range(2, len(cells) + 2):
        for column in range(len(HEADERS)):
            written = _look(results.cell(row, first + column + 1))
            again = _look(failed.cell(row, column + 1))
            if column == 0 and not isinstance(written[0], datetime):
                written = (written[0], "@", *written[2:])
            if column == 1 and (row - 2) % 3 == 0:
                assert again[3] is not None  # the offending cell is filled
                again = (*again[:3], None, again[4])
            assert again == written, (row, column)
    assert SECRET not in str([c.value for line in failed.iter_rows() for c in line])
    assert changed_since_written(out) is None
