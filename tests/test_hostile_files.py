"""Hostile or broken files fail cleanly: a workbook whose parts would expand past a sane
bound (a zip bomb, declared or real), a sheet claiming a million rows of nothing, a CSV
with a gigantic field or of an absurd size — each is exit 2 with one message, before
memory or minutes run out, and no results workbook."""

from __future__ import annotations

import os
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import Result

from batch_claims.read import worksheet
from batch_claims.read.archive import MAX_PARTS, MAX_RATIO, RATIO_FROM_BYTES, open_archive
from batch_claims.read.csvfile import MAX_CSV_BYTES, MAX_FIELD_CHARS
from batch_claims.report.outputs import default_results_path
from tests.helpers import run

SHEET_XML = "xl/worksheets/sheet1.xml"
GB = 1024**3


def workbook(folder: Path, name: str = "claims.xlsx") -> Path:
    """A real, small claims workbook."""
    path = folder / name
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Claims"
    sheet.append(["Tracking number", "Contract type", "Contents description"])
    sheet.append(["3SABC0000000001", "own_contract", "Desk lamp"])
    book.save(path)
    return path


def rewrite(source: Path, target: Path, sheet_xml: bytes | None = None) -> None:
    """``source``'s parts into ``target``, the sheet's XML replaced when given."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            data = old.read(name)
            new.writestr(name, sheet_xml if name == SHEET_XML and sheet_xml else data)


def with_rows(xml: bytes, rows: bytes) -> bytes:
    return xml.replace(b"</sheetData>", rows + b"</sheetData>")


def declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip claim ``member`` expands to ``size`` bytes: its uncompressed size in
    the local header and in the central directory, as a crafted zip bomb would."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(member).header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 22, size)
    end = data.rindex(b"PK\x05\x06")
    entries, _, offset = struct.unpack_from("<HII", data, end + 10)
    for _ in range(entries):
        assert data[offset : offset + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        name = bytes(data[offset + 46 : offset + 46 + name_len]).decode()
        if name == member:
            struct.pack_into("<I", data, offset + 24, size)
        offset += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


def refused(result: Result, sheet: Path, *words: str) -> None:
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]
    assert "Traceback" not in result.output
    assert not default_results_path(sheet, retry=False).exists()


# --- zip bombs --------------------------------------------------------------------------------


def test_a_part_declared_to_expand_past_a_gigabyte_is_refused_unread(tmp_path: Path) -> None:
    bomb = workbook(tmp_path)
    declare_size(bomb, SHEET_XML, int(1.5 * GB))
    assert bomb.stat().st_size < 10_000  # a few KB on disk
    tracemalloc.start()
    result = run("validate", bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    refused(result, bomb, "claims.xlsx: is refused", SHEET_XML, "1,536 MB", "at most 256 MB")
    assert peak < 50 * 1024 * 1024


def test_parts_that_together_expand_too_far_are_refused(tmp_path: Path) -> None:
    source = workbook(tmp_path, "plain.xlsx")
    bomb = tmp_path / "claims.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            new.writestr(name, old.read(name))
        for n in range(3):  # each stored, 1.1 MB of noise: no part's ratio is absurd
            picture = b"\x89PNG" + os.urandom(1_100_000)
            new.writestr(f"xl/media/image{n}.png", picture, zipfile.ZIP_STORED)
    for n in range(3):
        declare_size(bomb, f"xl/media/image{n}.png", 200 * 1024 * 1024)
    refused(run("validate", bomb), bomb, "its parts expand to 600 MB", "at most 512 MB")


def test_a_part_that_really_expands_a_thousand_times_is_refused(tmp_path: Path) -> None:
    """A real member: 32 MB of blanks inside the sheet's XML, about 32 KB compressed."""
    source = workbook(tmp_path, "plain.xlsx")
    bomb = tmp_path / "claims.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            if name != SHEET_XML:
                new.writestr(name, old.read(name))
                continue
            head, tail = old.read(name).split(b"</sheetData>")
            with new.open(name, "w") as member:  # streamed: never 32 MB in memory at once
                member.write(head)
                for _ in range(32):
                    member.write(b" " * (1024 * 1024))
                member.write(b"</sheetData>" + tail)
    assert bomb.stat().st_size < 200_000
    refused(run("validate", bomb), bomb, SHEET_XML, "expands 1,0", "times", "zip bomb")


def test_a_workbook_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    source = workbook(tmp_path, "plain.xlsx")
    bomb = tmp_path / "claims.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(bomb, "w") as new:
        for name in old.namelist():
            new.writestr(name, old.read(name))
        for n in range(MAX_PARTS):
            new.writestr(f"customXml/item{n}.xml", b"")
    refused(run("validate", bomb), bomb, "parts (at most 10,000)")


def test_an_ordinary_workbook_passes_the_checks(tmp_path: Path) -> None:
    """Real sheet XML compresses 10-30 times: far from the bounds."""
    path = tmp_path / "claims.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Claims")
    sheet.write_row(0, 0, ["Tracking number", "Contract type", "Contents description"])
    for n in range(1, 30_000):
        sheet.write_row(n, 0, [f"3SABC{n:010d}", "own_contract", f"Desk lamp {n % 7}"])
    book.close()
    with zipfile.ZipFile(path) as archive:
        part = archive.getinfo(SHEET_XML)
    assert part.file_size > RATIO_FROM_BYTES  # the ratio is checked
    assert part.file_size / part.compress_size < MAX_RATIO / 5
    open_archive(path).close()  # no error


# --- a sheet claiming a million rows of nothing ------------------------------------------------


def test_a_value_on_the_last_row_of_the_sheet_is_refused_quickly(tmp_path: Path) -> None:
    """openpyxl fills the gap above row 1,048,576 with a million empty rows."""
    source = workbook(tmp_path, "plain.xlsx")
    sheet = tmp_path / "claims.xlsx"
    with zipfile.ZipFile(source) as archive:
        xml = archive.read(SHEET_XML)
    far = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    rewrite(source, sheet, with_rows(xml, far))
    started = time.monotonic()
    result = run("validate", sheet)
    refused(result, sheet, 'claims.xlsx, sheet "Claims": runs on past row 201,000')
    assert time.monotonic() - started < 30


def test_a_sheet_of_empty_rows_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worksheet, "MAX_SHEET_ROWS", 5_000)
    source = workbook(tmp_path, "plain.xlsx")
    sheet = tmp_path / "claims.xlsx"
    with zipfile.ZipFile(source) as archive:
        xml = archive.read(SHEET_XML)
    empty = b"".join(b'<row r="%d"/>' % n for n in range(3, 6_000))
    rewrite(source, sheet, with_rows(xml, empty))
    refused(run("validate", sheet), sheet, "runs on past row 5,000", "delete the rows")


def test_rows_reaching_the_last_column_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row a cell in column XFD: 16,384 cells a row, for nothing."""
    monkeypatch.setattr(worksheet, "MAX_SHEET_CELLS", 1_000_000)
    source = workbook(tmp_path, "plain.xlsx")
    sheet = tmp_path / "claims.xlsx"
    with zipfile.ZipFile(source) as archive:
        xml = archive.read(SHEET_XML)
    wide = b"".join(b'<row r="%d"><c r="XFD%d" s="0"/></row>' % (n, n) for n in range(3, 200))
    rewrite(source, sheet, with_rows(xml, wide))
    refused(run("validate", sheet), sheet, "holds more than 1,000,000 cells by row 6")


# --- CSV ----------------------------------------------------------------------------------------


def test_a_csv_with_a_gigantic_field_is_refused_naming_its_row(tmp_path: Path) -> None:
    sheet = tmp_path / "claims.csv"
    sheet.write_bytes(
        b"tracking_number,contract_type,contents_description\r\n"
        b"3SABC0000000001,own_contract,Desk lamp\r\n"
        b"3SABC0000000002,own_contract," + b"x" * (2 * MAX_FIELD_CHARS) + b"\r\n"
    )
    refused(run("validate", sheet), sheet, "claims.csv: row 3 has a field longer than 131,072")


def test_an_unclosed_quote_that_swallows_the_file_is_named(tmp_path: Path) -> None:
    sheet = tmp_path / "claims.csv"
    rows = b"".join(b"3SABC%010d;own_contract;fine\n" % n for n in range(10_000))
    sheet.write_bytes(
        b'tracking_number;contract_type;contents_description\n3SABC0000099999;own;"oops\n' + rows
    )
    refused(run("validate", sheet), sheet, "row 2 has a field longer", "an unclosed quote")


def test_a_gigantic_field_in_the_header_area_is_refused_too(tmp_path: Path) -> None:
    sheet = tmp_path / "claims.csv"
    field = b'"' + b"x" * (MAX_FIELD_CHARS + 1) + b'"'
    sheet.write_bytes(field + b"\ntracking_number\n3SABC0000000001\n")
    refused(run("validate", sheet), sheet, "row 1 has a field longer")


def test_a_csv_of_an_absurd_size_is_refused_before_it_is_read(tmp_path: Path) -> None:
    sheet = tmp_path / "claims.csv"
    with sheet.open("wb") as handle:
        handle.write(b"tracking_number\n3SABC0000000001\n")
        handle.truncate(MAX_CSV_BYTES + 1)  # sparse: nothing written to disk
    refused(run("validate", sheet), sheet, "claims.csv: is larger than 64 MB")
