"""The results workbook's package written by ``report/package.py``: worksheet parts
deflated in segments by two threads and joined as one deflate stream, the ZIP structure
written by ``_Zip``. Every part reads back as ``zipfile`` writes it (CRC checked), at any
size and any cut into segments; a package that would need ZIP64 goes through ``zipfile``
itself."""

from __future__ import annotations

import functools
import io
import itertools
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.report import package
from batch_claims.report.fingerprint import CUSTOM_PART, PROPERTY, STORED, parts_as_written
from batch_claims.report.package import PLACEHOLDER, SheetRows, Span, assemble

SHEET = "xl/worksheets/sheet1.xml"
HEAD = b'<?xml version="1.0"?><worksheet><dimension ref="A1"/><sheetViews/>'
TAIL = b"<pageMargins/></worksheet>"
CUSTOM = (
    f'<Properties><property name="{PROPERTY}"><vt:lpwstr>ab</vt:lpwstr></property>'
    f'<property name="{STORED}"><vt:lpwstr>{PLACEHOLDER}</vt:lpwstr></property></Properties>'
).encode()


def _package(extra: dict[str, bytes] | None = None) -> bytes:
    """A package as XlsxWriter leaves it for ``assemble``: no rows in its sheet."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("[Content_Types].xml", b"<Types/>")
        out.writestr(SHEET, HEAD + b"<sheetData/>" + TAIL)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
        out.writestr(CUSTOM_PART, CUSTOM)
    return buffer.getvalue()


def _assemble(extra: dict[str, bytes], data: bytes, target: Path, cuts: Sequence[int] = ()) -> None:
    """The rows ``data`` as spans of files (cut at ``cuts``: each piece in a file of its
    own, or after the one before in the same file, behind bytes that are not part)."""
    with tempfile.TemporaryFile() as first, tempfile.TemporaryFile() as second:
        spans: list[Span] = []
        edges = [0, *sorted(min(cut, len(data)) for cut in cuts), len(data)]
        for number, (start, end) in enumerate(itertools.pairwise(edges)):
            file = (first, second)[number % 2]
            file.write(b"<not/>" if number % 3 == 2 else b"")
            spans.append((file, file.tell(), file.tell() + end - start))
            file.write(data[start:end])
        assemble(_package(extra), {SHEET: SheetRows("A1:C9", spans)}, target)


def _parts(path: Path) -> dict[str, bytes]:
    """Every part but the custom properties, whose digest is of the compressed bytes
    (which differ from one compressor to the other)."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every part's CRC as stored
        return {
            info.filename: archive.read(info)
            for info in archive.infolist()
            if info.filename != CUSTOM_PART
        }


def _both(
    tmp_path: Path, data: bytes, cuts: Sequence[int] = (), **extra: bytes
) -> tuple[Path, Path]:
    """The package written by threads and ``_Zip``, and by ``zipfile`` alone."""
    threads, alone = tmp_path / "threads.xlsx", tmp_path / "zipfile.xlsx"
    _assemble(extra, data, threads, cuts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(package, "_ZIP32", 0)  # as if every size needed ZIP64
        _assemble(extra, data, alone, cuts)
    return threads, alone


@settings(max_examples=40, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=3_000),
        st.builds(lambda n, text: text * n, st.integers(0, 400), st.binary(max_size=40)),
    ),
    segment=st.integers(1, 700),
    cuts=st.lists(st.integers(0, 3_000), max_size=6),
)
def test_a_part_in_any_segments_reads_back_as_zipfile_writes_it(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, segment: int, cuts: list[int]
) -> None:
    """Rows in any spans of files (``pieces``), cut in any segments."""
    tmp_path = tmp_path_factory.mktemp("package")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(package, "SEGMENT", segment)
        threads, alone = _both(tmp_path, data, cuts)
    written = _parts(threads)
    assert written == _parts(alone)
    assert written[SHEET] == HEAD.replace(b"A1", b"A1:C9") + b"<sheetData>" + data + (
        b"</sheetData>" + TAIL
    )
    assert parts_as_written(threads) and parts_as_written(alone)


def test_the_parts_keep_their_order_names_and_dates(tmp_path: Path) -> None:
    """The same names in the same order as zipfile gives them, a name in UTF-8 marked
    as such, and today's date on each."""
    threads, alone = _both(tmp_path, b"<row/>" * 1000, **{"xl/media/é.png": b"\x89PNG"})
    with zipfile.ZipFile(threads) as ours, zipfile.ZipFile(alone) as theirs:
        assert [i.filename for i in ours.infolist()] == [i.filename for i in theirs.infolist()]
        assert "xl/media/é.png" in ours.namelist()
        for info in ours.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert abs(info.date_time[0] - theirs.getinfo(info.filename).date_time[0]) <= 1


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip not installed")
def test_another_zip_reader_accepts_the_package(tmp_path: Path) -> None:
    """Info-ZIP's ``unzip -t`` tests every part of the file as another program reads it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(package, "SEGMENT", 4096)
        threads, _ = _both(tmp_path, b'<row r="1"><c r="A1"><v>1</v></c></row>' * 5000)
    tested = subprocess.run(["unzip", "-t", str(threads)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout


def test_segments_are_deflated_at_most_a_few_ahead_of_the_one_written() -> None:
    """However many segments a part has, only ``depth`` are given to the threads ahead
    of the one being written (each holds its deflated bytes until then)."""
    started: list[int] = []

    def job(number: int) -> bytes:
        started.append(number)
        return bytes([number])

    jobs = (functools.partial(job, n) for n in range(50))
    with ThreadPoolExecutor(2) as pool:
        taken = []
        for data in package._Ahead(pool, jobs, depth=3):
            assert len(started) <= len(taken) + 3 + 1
            taken.append(data[0])
    assert taken == list(range(50))
