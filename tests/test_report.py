"""The results workbook, written to tmp_path and read back with openpyxl."""

from __future__ import annotations

import gc
import hashlib
import struct
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from batch_claims.clock import iso_utc
from batch_claims.errors import InputError
from batch_claims.outcome import RowError, RowOutcome, Status
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.report.atomic import atomic_save
from batch_claims.report.fingerprint import (
    CUSTOM_PART,
    PARTS,
    PROPERTY,
    STORED,
    changed_since_written,
    digest_of,
    parts_as_written,
    parts_digest,
)
from batch_claims.report.workbook import write_results
from batch_claims.results_layout import RESULT_COLUMNS
from batch_claims.send.interfaces import RunInfo

HEADERS = ("Tracking No", "Contract", "Sales price", "Remarks", "Our ref")
STARTED = datetime(2026, 11, 27, 9, 15, 2, tzinfo=UTC)


def make_table(tmp_path: Path, rows: Sequence[Sequence[object]]) -> SheetTable:
    source = tmp_path / "claims.xlsx"
    source.write_bytes(b"input bytes")
    return SheetTable(
        source=source,
        sheet_name="Sheet1",
        header_row=1,
        headers=HEADERS,
        mapping={
            "tracking_number": 0,
            "contract_type": 1,
            "contents_sales_price": 2,
            "additional_remarks": 3,
        },
        rows=tuple(SourceRow(row=i + 2, cells=tuple(cells)) for i, cells in enumerate(rows)),
    )


def make_info(**changes: object) -> RunInfo:
    values: dict[str, object] = {
        "command": "submit",
        "started_at": STARTED,
        "finished_at": STARTED + timedelta(minutes=3, seconds=1),
        "input_name": "claims.xlsx",
        "input_sha256": "ab" * 32,
        "base_url": "https://panel.sendcloud.sc/api/v3",
        "tool_version": "0.1.0",
        "run_id": "run-1",
        "account": "acme",
        "journal": "/data/journal.sqlite",
        "sheet_name": "Sheet1",
        "notices": ("header 'Foo' was not recognised and is carried as is",),
        "stats": {"uploads": 9, "seconds_waited": 12.5},
    }
    values.update(changes)
    return RunInfo(**values)  # type: ignore[arg-type]


ROWS: list[list[object]] = [
    ["3SABC001", "sendcloud_rates", 10.5, "fine", "A-1"],
    ["3SABC002", "own_contract", "ten", '=HYPERLINK("http://evil","x")', "A-2"],
    ["3SABC003", "sendcloud_rates", -5, "+1 remark", "@ref"],
    ["DELIVERED4", "sendcloud_rates", 3, "-dash", "A-4"],
    ["3SABC005", "own_contract", 1, "x", "A-5"],
    ["3SABC006", "own_contract", 1, "y", "A-6"],
]


NOT_AN_AMOUNT = 'row 3, "Sales price": "ten" is not an amount'


def make_outcomes() -> list[RowOutcome]:
    when = datetime(2026, 11, 27, 10, 15, 2, 123456, tzinfo=timezone(timedelta(hours=1)))
    return [
        # Deliberately not in input order.
        RowOutcome(3, "3SABC002", "own_contract", Status.INVALID, errors=(
            RowError(3, "contents_sales_price", "amount", NOT_AN_AMOUNT),
            RowError(3, "contents_sales_price", "required", 'row 3, "Sales price": second problem'),
            RowError(3, "damage_photo_1", "missing_document", 'row 3, "damage_photo_1": no file'),
            RowError(3, None, "other", "row 3: something about the row"),
        )),
        RowOutcome(2, "3SABC001", "sendcloud_rates", Status.SUBMITTED, ticket_id="t-1",
                   http_status=202, attempts=1, submitted_at=when),
        RowOutcome(4, "3SABC003", "sendcloud_rates", Status.ALREADY_SUBMITTED, ticket_id="t-0",
                   evidence="✓ damage_photo_1: x.jpg (typed path)"),
        RowOutcome(5, "DELIVERED4", "sendcloud_rates", Status.REJECTED, http_status=422,
                   error_code="unprocessable_content",
                   error_detail="Cannot create ticket. Reason: Parcel is already delivered",
                   attempts=1),
        RowOutcome(6, "", "own_contract", Status.UNCONFIRMED, error_detail="read timeout",
                   attempts=1),
        RowOutcome(7, "3SABC006", "own_contract", Status.NOT_ATTEMPTED),
    ]  # fmt: skip


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, SheetTable]:
    table = make_table(tmp_path, ROWS)
    out = tmp_path / "claims.results.xlsx"
    write_results(out, make_info(), table, make_outcomes())
    return out, table


def values(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def column(sheet: Worksheet, header: str) -> list[object]:
    headers = [c.value for c in sheet[1]]
    index = headers.index(header) + 1
    return [sheet.cell(r, index).value for r in range(2, sheet.max_row + 1)]


def test_sheets_in_order(written: tuple[Path, SheetTable]) -> None:
    book = load_workbook(written[0])
    assert book.sheetnames == ["Summary", "Results", "Failed rows"]


def test_results_columns_exactly(written: tuple[Path, SheetTable]) -> None:
    sheet = load_workbook(written[0])["Results"]
    header = [c.value for c in sheet[1]]
    assert header == [*RESULT_COLUMNS, *HEADERS, "evidence"]
    assert list(RESULT_COLUMNS) == [
        "row", "tracking_number", "contract_type", "ticket_type", "status", "ticket_id",
        "http_status",
        "error_code", "error_detail", "attempts", "submitted_at",
    ]  # fmt: skip
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None
    assert all(c.font.bold for c in sheet[1])


def test_results_one_row_per_input_row_in_input_order(
    written: tuple[Path, SheetTable],
) -> None:
    sheet = load_workbook(written[0])["Results"]
    assert column(sheet, "row") == [2, 3, 4, 5, 6, 7]
    assert column(sheet, "status") == [
        "submitted", "invalid", "already_submitted", "rejected", "unconfirmed", "not_attempted",
    ]  # fmt: skip
    # The outcome's tracking number is written even when empty.
    assert column(sheet, "tracking_number")[4] is None
    assert column(sheet, "Tracking No") == [r[0] for r in ROWS]
    assert column(sheet, "Our ref") == [r[4] for r in ROWS]
    assert column(sheet, "submitted_at")[0] == "2026-11-27T09:15:02Z"
    assert column(sheet, "ticket_id")[:3] == ["t-1", None, "t-0"]
    assert column(sheet, "http_status")[3] == 422
    assert column(sheet, "evidence")[2] == "✓ damage_photo_1: x.jpg (typed path)"
    detail = column(sheet, "error_detail")
    assert detail[1] == (
        'row 3, "Sales price": "ten" is not an amount\n'
        'row 3, "Sales price": second problem\n'
        'row 3, "damage_photo_1": no file\n'
        "row 3: something about the row"
    )


def test_failed_rows_content(written: tuple[Path, SheetTable]) -> None:
    sheet = load_workbook(written[0])["Failed rows"]
    rows = values(sheet)
    assert rows[0] == [*HEADERS, "error", "row"]
    # Submitted and already submitted rows are not in it; input order is kept.
    assert [r[:5] for r in rows[1:]] == [ROWS[1], ROWS[3], ROWS[4], ROWS[5]]
    assert [r[6] for r in rows[1:]] == [3, 5, 6, 7]  # the rows of the original sheet
    errors = [r[5] for r in rows[1:]]
    assert isinstance(errors[0], str) and "is not an amount" in errors[0]
    assert "row 3: something about the row" in errors[0]
    assert errors[1] == (
        "HTTP 422 unprocessable_content: Cannot create ticket. Reason: Parcel is already delivered"
    )
    assert str(errors[2]).startswith("unconfirmed: read timeout")
    # The outcome had no tracking number: the hint uses the input's.
    assert "batch-claims resolve 3SABC005 --ticket-id" in str(errors[2])
    assert str(errors[3]).startswith("not_attempted")
    assert sheet.freeze_panes == "A2"


def test_failed_rows_highlights_offending_cells(written: tuple[Path, SheetTable]) -> None:
    sheet = load_workbook(written[0])["Failed rows"]
    price = sheet.cell(2, 3)  # row 3's "Sales price"
    assert price.fill.fgColor.rgb == "FFFFC7CE"
    assert price.comment is not None
    assert "is not an amount" in price.comment.text
    assert "second problem" in price.comment.text
    others = [sheet.cell(2, c) for c in (1, 2, 4, 5)]
    assert all(c.comment is None for c in others)
    assert all(c.fill.fgColor.rgb != "FFFFC7CE" for c in others)


def test_failed_rows_reads_back_as_an_input_sheet(written: tuple[Path, SheetTable]) -> None:
    import pandas as pd

    frame = pd.read_excel(written[0], sheet_name="Failed rows", dtype=str, engine="openpyxl")
    assert list(frame.columns) == [*HEADERS, "error", "row"]
    assert list(frame["Tracking No"]) == ["3SABC002", "DELIVERED4", "3SABC005", "3SABC006"]


def test_text_that_looks_like_a_formula_stays_text(written: tuple[Path, SheetTable]) -> None:
    book = load_workbook(written[0])
    for name in ("Results", "Failed rows"):
        sheet = book[name]
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate, cell.value)
    failed = book["Failed rows"]
    remark = failed.cell(2, 4)
    assert remark.value == '=HYPERLINK("http://evil","x")'
    assert remark.data_type == "s"
    results = book["Results"]
    remarks = column(results, "Remarks")
    assert remarks[2:4] == ["+1 remark", "-dash"]
    assert column(results, "Our ref")[2] == "@ref"
    prices = [results.cell(r, RESULT_COLUMNS.__len__() + 3) for r in range(2, 8)]
    assert prices[2].value == -5 and prices[2].data_type == "n"
    assert prices[0].value == 10.5 and prices[0].data_type == "n"


def test_illegal_characters_and_odd_values(tmp_path: Path) -> None:
    table = make_table(
        tmp_path,
        [
            ["3SABC\x00001", "own\x07_contract", float("nan"), "bell\x1b", date(2026, 1, 2)],
            ["3SABC002", None, datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "=", "x" * 40_000],
        ],
    )
    outcomes = [
        RowOutcome(2, "3SABC001", "own_contract", Status.FAILED, error_detail="bad\x01 byte"),
        RowOutcome(3, "3SABC002", "own_contract", Status.VALID),
    ]
    out = tmp_path / "out.xlsx"
    write_results(out, make_info(), table, outcomes)
    sheet = load_workbook(out)["Failed rows"]
    assert [c.value for c in sheet[2]][:4] == ["3SABC001", "own_contract", None, "bell"]
    assert sheet.cell(2, 5).value == datetime(2026, 1, 2)
    assert sheet.cell(3, 3).value == datetime(2026, 1, 2, 3, 4)
    assert sheet.cell(3, 4).value == "=" and sheet.cell(3, 4).data_type == "s"
    assert len(str(sheet.cell(3, 5).value)) == 32_767
    assert "bad byte" in str(sheet.cell(2, 6).value)


def test_summary_counts_details_and_chart(written: tuple[Path, SheetTable]) -> None:
    sheet = load_workbook(written[0])["Summary"]
    rows = values(sheet)
    assert rows[0][:2] == ["status", "rows"]
    counts = {r[0]: r[1] for r in rows[1:9]}
    assert list(counts) == [s.value for s in Status]
    assert counts == {
        "valid": 0, "invalid": 1, "submitted": 1, "already_submitted": 1,
        "rejected": 1, "failed": 0, "unconfirmed": 1, "not_attempted": 1,
    }  # fmt: skip
    assert rows[9][:2] == ["total", 6]
    details = {r[0]: r[1] for r in rows if r[0]}
    assert details["started_at"] == "2026-11-27T09:15:02Z"
    assert details["finished_at"] == "2026-11-27T09:18:03Z"
    assert details["input_file"] == "claims.xlsx"
    assert details["input_sha256"] == "ab" * 32
    assert details["api_base_url"] == "https://panel.sendcloud.sc/api/v3"
    assert details["tool_version"] == "0.1.0"
    assert details["run_id"] == "run-1"
    assert details["account"] == "acme"
    assert details["sheet"] == "Sheet1"
    assert details["uploads"] == 9
    assert any("was not recognised" in str(r[1]) for r in rows)
    # Charts are not loaded back by openpyxl: look in the package.
    import zipfile

    with zipfile.ZipFile(written[0]) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        assert b"barChart" in archive.read(charts[0])


def test_base_url_credentials_are_dropped(tmp_path: Path) -> None:
    table = make_table(tmp_path, ROWS[:1])
    out = tmp_path / "out.xlsx"
    info = make_info(base_url="https://key:secret@panel.example/api/v3")
    write_results(out, info, table, [RowOutcome(2, "3SABC001", "own_contract", Status.VALID)])
    assert b"secret" not in b"".join(_package_parts(out))


def _package_parts(path: Path) -> list[bytes]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return [archive.read(name) for name in archive.namelist()]


def test_missing_outcome_is_reported_not_attempted(tmp_path: Path) -> None:
    table = make_table(tmp_path, ROWS[:2])
    out = tmp_path / "out.xlsx"
    write_results(out, make_info(), table, [RowOutcome(2, "3SABC001", "x", Status.SUBMITTED)])
    sheet = load_workbook(out)["Results"]
    assert column(sheet, "status") == ["submitted", "not_attempted"]
    assert column(sheet, "tracking_number") == ["3SABC001", "3SABC002"]


def test_written_atomically(tmp_path: Path) -> None:
    table = make_table(tmp_path, ROWS)
    before = table.source.read_bytes()
    out = tmp_path / "claims.results.xlsx"
    out.write_bytes(b"old results")
    write_results(out, make_info(), table, make_outcomes())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.results.xlsx", "claims.xlsx"]
    assert table.source.read_bytes() == before
    assert load_workbook(out).sheetnames[0] == "Summary"


def test_failed_save_leaves_no_temp_file_and_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"old results")

    class Boom(Workbook):
        def save(self, filename: object) -> None:
            Path(str(filename)).write_bytes(b"partial")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_save(Boom(), out)
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
    assert out.read_bytes() == b"old results"


def test_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    from batch_claims.errors import InputError

    table = make_table(tmp_path, ROWS[:1])
    with pytest.raises(InputError):
        write_results(table.source, make_info(), table, [])
    assert table.source.read_bytes() == b"input bytes"


def test_iso_utc() -> None:
    assert iso_utc(None) is None
    assert iso_utc(datetime(2026, 11, 27, 9, 15, 2, 999)) == "2026-11-27T09:15:02Z"
    cet = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2026, 11, 27, 10, 15, 2, tzinfo=cet)) == "2026-11-27T09:15:02Z"


# --- the fingerprint of what is written ----------------------------------------------------

ODD_VALUES: list[object] = [
    "  leading and trailing  ",
    "a & b < c > d",
    "tab\there",
    "line one\r\nline two\rthree",
    "=SUM(A1:A2)",
    "",
    None,
    True,
    False,
    0,
    -0.0,
    12,
    10**15,
    10**20,
    -1234567.125,
    1 / 3,
    1.7976931348623157e308,
    Decimal("12.50"),
    datetime(2026, 1, 2, 3, 4, 5, 600_000),
    date(1900, 2, 28),
    date(2026, 11, 27),
    time(23, 59, 58, 999_999),
    timedelta(hours=30, seconds=1),
]


def _stored(path: Path, name: str) -> str:
    book = load_workbook(path, read_only=True)
    try:
        return next(str(p.value) for p in book.custom_doc_props.props if p.name == name)
    finally:
        book.close()


def test_the_stored_fingerprint_is_that_of_the_cells_read_back(tmp_path: Path) -> None:
    """What the writer fingerprints as it writes is what a reader finds in the file, for
    every kind of value: so a workbook saved again unchanged by Excel (every part
    rewritten) is not taken for a person's edit."""
    table = make_table(tmp_path, [["3SODD0001", "own_contract", v, v, v] for v in ODD_VALUES])
    outcomes = [
        RowOutcome(i + 2, "3SODD0001", "own_contract", Status.INVALID, error_detail="x")
        for i in range(len(ODD_VALUES))
    ]
    out = tmp_path / "out.xlsx"
    write_results(out, make_info(), table, outcomes)
    book = load_workbook(out, read_only=True)
    try:
        assert digest_of(book) == _stored(out, PROPERTY)
    finally:
        book.close()
    again = load_workbook(out)  # saved again by another program: shared strings now
    again.save(out)
    assert not parts_as_written(out)
    assert changed_since_written(out) is None


def test_a_cell_changed_inside_the_file_is_seen_though_the_properties_stay(
    tmp_path: Path,
) -> None:
    """A tool that edits one worksheet part and leaves the rest (the stored digests
    included) byte for byte: the parts no longer match, the cells are compared, and
    the change is seen."""
    out = tmp_path / "out.xlsx"
    write_results(out, make_info(), make_table(tmp_path, ROWS), make_outcomes())
    assert parts_as_written(out)
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(edited, "w") as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet3.xml":
                assert b"3SABC005" in part
                part = part.replace(b"3SABC005", b"3SABC055")
            target.writestr(info, part)
    assert not parts_as_written(edited)
    assert changed_since_written(edited) == "was changed since batch-claims wrote it"


def _rewritten(source: Path, target: Path, custom: Callable[[bytes], bytes]) -> None:
    """``source`` copied part by part by ``zipfile`` (each part compressed anew), its
    custom properties changed by ``custom``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            part = old.read(info.filename)
            new.writestr(info.filename, custom(part) if info.filename == CUSTOM_PART else part)


def test_a_workbook_as_written_is_known_without_inflating_a_part(
    written: tuple[Path, SheetTable], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts' compressed bytes are compared, as they lie in the file: no part is
    inflated but the small one that holds the digests (at 50,000 rows the others are
    138 MB of XML, half a second each time a run checked its output), and no cell is
    read."""
    opened = zipfile.ZipFile.open

    def only_the_digests(archive: zipfile.ZipFile, name: object, *args: Any) -> Any:
        assert name == CUSTOM_PART, f"{name} was inflated"
        return opened(archive, name, *args)

    monkeypatch.setattr(zipfile.ZipFile, "open", only_the_digests)
    assert parts_as_written(written[0])
    assert changed_since_written(written[0]) is None


def test_a_workbook_as_written_is_known_without_loading_openpyxl(
    written: tuple[Path, SheetTable],
) -> None:
    """openpyxl (a quarter of a second to import) is loaded only to compare cells."""
    code = (
        "import sys; from pathlib import Path\n"
        "from batch_claims.report.fingerprint import changed_since_written\n"
        "assert changed_since_written(Path(sys.argv[1])) is None\n"
        "assert 'openpyxl' not in sys.modules, 'openpyxl loaded'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(written[0])], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _data_spans(path: Path) -> list[tuple[str, int, int]]:
    """Where each part's compressed bytes lie in the file (but the custom properties)."""
    spans = []
    with zipfile.ZipFile(path) as archive, path.open("rb") as file:
        for info in archive.infolist():
            if info.filename == CUSTOM_PART:
                continue
            file.seek(info.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", file.read(4))
            start = info.header_offset + 30 + name_length + extra_length
            spans.append((info.filename, start, info.compress_size))
    return spans


# The workbook is written once for all examples; each changes a copy of it.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_byte_of_any_part_changed_is_not_as_written(
    written: tuple[Path, SheetTable], tmp_path: Path, data: st.DataObject
) -> None:
    """Whatever byte of whichever part's compressed data changes (to any other value),
    the parts are no longer as written, and the cells decide."""
    spans = _data_spans(written[0])
    name, start, length = data.draw(st.sampled_from([s for s in spans if s[2]]), label="part")
    offset = data.draw(st.integers(0, length - 1), label="offset")
    raw = bytearray(written[0].read_bytes())
    raw[start + offset] ^= data.draw(st.integers(1, 255), label="xor")
    changed = tmp_path / "changed.xlsx"
    changed.write_bytes(bytes(raw))
    assert not parts_as_written(changed)


def test_a_part_named_twice_or_cut_short_is_not_as_written(
    written: tuple[Path, SheetTable], tmp_path: Path
) -> None:
    out = written[0]
    twice = tmp_path / "twice.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        with zipfile.ZipFile(out) as old, zipfile.ZipFile(twice, "w") as new:
            for info in old.infolist():
                new.writestr(info, old.read(info.filename))
            new.writestr("xl/styles.xml", b"<styleSheet/>")
    assert not parts_as_written(twice)
    name, start, length = max(_data_spans(out), key=lambda span: span[2])
    short = tmp_path / "short.xlsx"
    short.write_bytes(out.read_bytes()[: start + length // 2])
    assert not parts_as_written(short)


def test_a_workbook_from_an_earlier_batch_claims_is_checked_by_its_inflated_parts(
    written: tuple[Path, SheetTable], tmp_path: Path
) -> None:
    """A workbook an earlier batch-claims wrote keeps the digest of its parts' inflated
    bytes (``PARTS``): still known as written, and an edit in it still seen."""
    with zipfile.ZipFile(written[0]) as archive:
        inflated = {
            info.filename: hashlib.sha256(archive.read(info)).hexdigest()
            for info in archive.infolist()
            if info.filename != CUSTOM_PART
        }
    stored = _stored(written[0], STORED)

    def earlier(custom: bytes) -> bytes:
        return custom.replace(STORED.encode(), PARTS.encode()).replace(
            stored.encode(), parts_digest(inflated).encode()
        )

    before = tmp_path / "earlier.xlsx"
    _rewritten(written[0], before, earlier)
    assert parts_as_written(before)
    assert changed_since_written(before) is None
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(before) as old, zipfile.ZipFile(edited, "w") as new:
        for info in old.infolist():
            part = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet3.xml":
                part = part.replace(b"3SABC005", b"3SABC055")
            new.writestr(info, part)
    assert not parts_as_written(edited)
    assert changed_since_written(edited) == "was changed since batch-claims wrote it"


def test_every_styled_cell_keeps_its_format(written: tuple[Path, SheetTable]) -> None:
    book = load_workbook(written[0])
    results, failed = book["Results"], book["Failed rows"]
    assert all(cell.font.bold for cell in results[1]) and all(c.font.bold for c in failed[1])
    assert results.freeze_panes == "A2" and failed.freeze_panes == "A2"
    assert results.auto_filter.ref == f"A1:{results.cell(1, results.max_column).column_letter}7"
    assert failed["A2"].number_format == "@"  # the tracking number is Text
    error = failed.cell(2, len(HEADERS) + 1)
    assert "\n" in str(error.value) and error.alignment.wrap_text
    assert results.column_dimensions["B"].width > 8
    assert book["Summary"]["A1"].font.bold


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_left_as_it_was_found(tmp_path: Path, enabled: bool) -> None:
    """The writer pauses the collector while it writes (its passes over the run's other
    objects cost seconds at 50,000 rows); afterwards, and after a write that fails, it
    is as it was."""
    table = make_table(tmp_path, ROWS)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        write_results(tmp_path / "out.xlsx", make_info(), table, make_outcomes())
        assert gc.isenabled() is enabled
        with pytest.raises(InputError):
            write_results(table.source, make_info(), table, make_outcomes())
        assert gc.isenabled() is enabled
        (tmp_path / "folder.xlsx").mkdir()
        with pytest.raises(OSError):
            write_results(tmp_path / "folder.xlsx", make_info(), table, make_outcomes())
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
