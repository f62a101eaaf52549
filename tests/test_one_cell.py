"""One cell never costs the run: arbitrary cell values through read → validate → results
workbook, as the user runs it (`batch-claims validate`), from workbooks written by
XlsxWriter and from raw CSV bytes. No exception escapes, the workbook is always
written, and every data row gets exactly one status."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.cli import cli
from batch_claims.columns import COLUMNS
from batch_claims.outcome import Status
from batch_claims.read.sheet import read_sheet
from batch_claims.settings import Settings
from batch_claims.validate.prepare import internal_error, prepare

HEADERS = [column.name for column in COLUMNS]
ERRORS = ["#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!"]

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=60
) | st.sampled_from(
    ["-", "n/a", "€ 12,50", "1,234", "=1+1", "@x", "../../etc/passwd", "x" * 40_000, "\x1b]52;c;"]
)
numbers = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.sampled_from([1e30, -1e30, 1e-30, 5e-324, 1.7976931348623157e308, 0.1 + 0.2])
)
cells: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    texts,
    numbers,
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
    st.dates(min_value=date(1900, 3, 1)),
    st.times(),
    st.sampled_from([("error", code) for code in ERRORS]),
)
rows_strategy = st.lists(
    st.lists(cells, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=4
)


def _tracking_first(rows: list[list[Any]]) -> list[list[Any]]:
    """Every row starts with a plausible tracking number so the rows stay claims
    (trailing rows without one are notes by design); the other cells are arbitrary."""
    return [[f"3SABC{index:08d}", *row[1:]] for index, row in enumerate(rows, start=1)]


def _write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    workbook = xlsxwriter.Workbook(
        str(path), {"nan_inf_to_errors": True, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet("Claims")
    dated = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, tuple):
                sheet.write_formula(r, c, "=1/0", None, value[1])
            elif isinstance(value, str):
                sheet.write_string(r, c, value[:32_767])
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, datetime | date | time):
                sheet.write_datetime(r, c, value, dated)
            elif isinstance(value, int) and abs(value) > 2**53:
                sheet.write_number(r, c, float(value))
            else:
                sheet.write_number(r, c, value)
    workbook.close()


def _write_csv(path: Path, rows: list[list[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(
            [
                ""
                if value is None
                else value[1]
                if isinstance(value, tuple)
                else value.isoformat()
                if isinstance(value, datetime | date | time)
                else str(value)
                for value in row
            ]
        )
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))


def _check_run(sheet: Path, out: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(sheet), "--out", str(out), "--quiet"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    table = read_sheet(sheet)
    if not table.rows:  # a header and no claim rows: said plainly, exit 2
        assert result.exit_code == 2, result.output
        assert "there are no claim rows below it" in result.output
        return
    assert result.exit_code in (0, 1), result.output
    rows = list(openpyxl.load_workbook(out)["Results"].iter_rows(values_only=True))
    statuses = {str(row[0]): row[4] for row in rows[1:]}
    assert len(statuses) == len(rows) - 1  # one line per row
    assert sorted(statuses, key=int) == [str(source.row) for source in table.rows]
    assert set(statuses.values()) <= {Status.VALID.value, Status.INVALID.value}


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows_strategy, keep_tracking=st.booleans())
def test_arbitrary_cells_never_cost_the_run(
    tmp_path: Path, kind: str, rows: list[list[Any]], keep_tracking: bool
) -> None:
    if keep_tracking:
        rows = _tracking_first(rows)
    sheet = tmp_path / f"any.{kind}"
    if kind == "xlsx":
        _write_xlsx(sheet, rows)
    else:
        _write_csv(sheet, rows)
    try:
        read_sheet(sheet)
    except Exception as exc:  # a sheet refused as a whole must say why, never crash
        from batch_claims.errors import InputError

        assert isinstance(exc, InputError), repr(exc)
        return
    _check_run(sheet, tmp_path / f"any.{kind}.results.xlsx")


def test_a_row_whose_check_fails_unexpectedly_is_invalid_with_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a real sheet cannot trigger on demand (a bug in a check) is simulated: the
    check of one row raises; that row is internal_error, the others are checked."""
    from batch_claims.validate import prepare as pipeline

    sheet = tmp_path / "three.csv"
    sheet.write_text(
        "tracking_number,contract_type,carrier_contract_id\n"
        "3SABC00000001,own_contract,1\n3SABC00000002,own_contract,2\n"
        "3SABC00000003,own_contract,3\n"
    )
    real = pipeline.validate_table

    def flaky(table: Any, *args: Any) -> Any:
        if any(source.row == 3 for source in table.rows):
            raise OverflowError("cannot convert Infinity")
        return real(table, *args)

    monkeypatch.setattr(pipeline, "validate_table", flaky)
    prepared = prepare(sheet, None, Settings())
    first, second, third = prepared.items
    assert [getattr(item, "status", None) for item in (second,)] == [Status.INVALID]
    assert second == internal_error(3, "3SABC00000002", OverflowError("cannot convert Infinity"))
    assert second.error_code == "internal_error"
    assert "OverflowError: cannot convert Infinity" in (second.error_detail or "")
    assert [claim.row for claim in prepared.claims] == [2, 4]
    assert first.tracking_number == "3SABC00000001" and third.tracking_number == "3SABC00000003"


def test_huge_amount_never_crashes_the_run(tmp_path: Path) -> None:
    sheet = tmp_path / "huge.csv"
    sheet.write_text(
        "tracking_number,contract_type,carrier_contract_id,contents_sales_price,currency\n"
        "3SABC00000001,own_contract,1,1E+30,EUR\n3SABC00000002,own_contract,2,12,EUR\n"
    )
    out = tmp_path / "huge.results.xlsx"
    result = CliRunner().invoke(cli, ["validate", str(sheet), "--out", str(out)])
    assert result.exit_code == 1, result.output
    rows = list(openpyxl.load_workbook(out)["Results"].iter_rows(values_only=True))
    assert [row[4] for row in rows[1:]] == ["invalid", "valid"]


class _Unprintable:
    def __str__(self) -> str:
        raise ValueError("no text")


def test_a_cell_that_cannot_be_written_costs_only_its_own_line(tmp_path: Path) -> None:
    """A value no reader makes today (its text raises) stands for any future oddity."""
    from datetime import UTC

    from batch_claims.outcome import RowOutcome
    from batch_claims.read.table import SheetTable, SourceRow
    from batch_claims.report.workbook import write_results
    from batch_claims.send.interfaces import RunInfo

    table = SheetTable(
        source=tmp_path / "in.xlsx",
        sheet_name="Claims",
        header_row=1,
        headers=("tracking_number", "note"),
        mapping={"tracking_number": 0},
        rows=(SourceRow(2, ("3SABC00000001", _Unprintable())), SourceRow(3, ("3SABC2", "ok"))),
    )
    outcomes = [
        RowOutcome(2, "3SABC00000001", "own_contract", Status.INVALID, error_code="invalid"),
        RowOutcome(3, "3SABC2", "own_contract", Status.INVALID, error_code="invalid"),
    ]
    now = datetime.now(UTC)
    info = RunInfo("validate", now, now, "in.xlsx", "0" * 64, None, "0", "run")
    out = tmp_path / "out.xlsx"
    write_results(out, info, table, outcomes)
    book = openpyxl.load_workbook(out)
    results = list(book["Results"].iter_rows(values_only=True))
    assert [row[0] for row in results[1:]] == [2, 3]
    assert "could not be written" in str(results[1][8])
    assert results[2][12] == "ok"
    failed = list(book["Failed rows"].iter_rows(values_only=True))
    assert len(failed) == 3 and "could not be written" in str(failed[1][2])


def test_a_cell_whose_reading_fails_costs_only_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader bug on one cell (simulated: no real file triggers one on demand) makes
    that row invalid with internal_error; the other rows and the workbook are fine."""
    from batch_claims.read import csvfile

    real = csvfile._csv_value

    def fragile(cell: str, tracking: bool) -> object:
        if cell == "boom":
            raise RecursionError("maximum recursion depth exceeded")
        return real(cell, tracking)

    monkeypatch.setattr(csvfile, "_csv_value", fragile)
    sheet = tmp_path / "fragile.csv"
    sheet.write_text(
        "tracking_number,contract_type,carrier_contract_id,additional_remarks\n"
        "3SABC00000001,own_contract,1,fine\n3SABC00000002,own_contract,2,boom\n"
    )
    out = tmp_path / "fragile.results.xlsx"
    result = CliRunner().invoke(cli, ["validate", str(sheet), "--out", str(out)])
    assert result.exit_code == 1, result.output
    rows = list(openpyxl.load_workbook(out)["Results"].iter_rows(values_only=True))
    assert [(row[4], row[7]) for row in rows[1:]] == [
        ("valid", None),
        ("invalid", "internal_error"),
    ]
    assert "RecursionError: maximum recursion depth exceeded" in str(rows[2][8])
    assert str(rows[2][8]).startswith('row 3, "additional_remarks": this cell could not be read')
