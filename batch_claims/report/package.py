"""The results workbook's package put together: XlsxWriter's parts (styles, comments,
chart, frozen and filtered headers, column widths, document properties) around the rows
``rowxml`` wrote, and the digest of the parts as stored (``fingerprint.STORED``) beside
the cells' fingerprint.

XlsxWriter writes the workbook with no cells into memory; each worksheet part then gets
its ``<sheetData>`` (the rows, from the stretches of temporary files they were written
to, in order) and its ``<dimension>``, and every part is compressed into the target
file, its compressed bytes hashed on the way. The
custom properties part, written last, gets the digest in place of ``PLACEHOLDER``.

Compressing the rows is most of the time it takes (133 MB of XML at 50,000 rows), so the
worksheet parts are cut into segments of ``SEGMENT`` bytes, deflated by two threads at
once (zlib lets go of the interpreter while it works), each segment but the last ended
by a sync flush (byte-aligned, not final) so that they follow one another as one deflate
stream, as pigz does. Python's ``zipfile`` takes one part at a time and never data
already deflated, so ``_Zip`` writes the ZIP structure itself: each part's local header,
its data, the central directory. A package that would need ZIP64 (a part or the file
from 4 GiB on) is written by ``zipfile`` instead, one part at a time.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import re
import struct
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from batch_claims.forked import read_at
from batch_claims.report.fingerprint import (
    CUSTOM_PART,
    LOCAL_HEADER,
    LOCAL_SIGNATURE,
    stored_digest,
    stored_entries,
    stored_entry,
)

PLACEHOLDER = "batch-claims-parts-digest-to-come"
_SHEET_DATA = re.compile(rb"<sheetData/>|<sheetData>.*?</sheetData>", re.DOTALL)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_CHUNK = 1 << 20
# zlib's level 3 compresses the rows in half the time of its default (6), about 0.1 s
# per 10,000 rows, for a file about 12% larger; level 1 is no faster, and 20% larger.
COMPRESS_LEVEL = 3
# Bytes of a worksheet part deflated by one thread at a time. Each segment given out is
# held read and deflated until it is written (three ahead, ``_Ahead``): 4 MB segments
# hold about 20 MB at the peak of a run, where 8 MB ones held 45, in the same time.
SEGMENT = 4 << 20
_ZIP32 = 0xFFFFFFFF  # sizes and offsets from here on need ZIP64


# Bytes of a file: the file, and where they start and end in it.
Span = tuple[BinaryIO, int, int]


@dataclass(frozen=True)
class SheetRows:
    """A worksheet part's rows: the ``<row>`` elements in the ``spans`` of files, one
    after the other, and the range they cover (``A1:Y50001``)."""

    dimension: str
    spans: Sequence[Span]


def assemble(package: bytes, rows: Mapping[str, SheetRows], target: Path) -> None:
    """Write ``package`` (an xlsx with no cells) to ``target`` with each part named in
    ``rows`` given its rows, and the digest of the parts in the custom properties."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        names = [info.filename for info in source.infolist()]
        missing = set(rows) - set(names)
        if missing or CUSTOM_PART not in names:
            raise RuntimeError(f"the workbook package lacks {sorted(missing) or CUSTOM_PART}")
        parts = {name: source.read(name) for name in names}
    if PLACEHOLDER.encode() not in parts[CUSTOM_PART]:
        raise RuntimeError("the workbook's custom properties lack the parts digest")
    sheets = {name: _Sheet(name, parts[name], rows[name]) for name in rows}
    size = sum(map(len, parts.values())) + sum(sheet.size for sheet in sheets.values())
    if size >= _ZIP32 or len(names) >= 0xFFFF:
        _assemble_one_by_one(parts, sheets, target)
        return
    entries: list[str] = []
    with target.open("wb") as file, ThreadPoolExecutor(2) as pool:
        out = _Zip(file)
        for name in names:
            if name == CUSTOM_PART:
                continue
            if name in sheets:
                entries.append(out.add(name, _Ahead(pool, sheets[name].segments())))
            else:
                entries.append(out.add(name, [_deflated(parts[name])]))
        custom = parts[CUSTOM_PART].replace(PLACEHOLDER.encode(), stored_digest(entries).encode())
        out.add(CUSTOM_PART, [_deflated(custom)])
        out.close()


class _Ahead:
    """Jobs done by a pool of threads and taken in order, at most ``depth`` of them
    given out ahead of the one taken (each holds a segment deflated, so memory stays
    flat however large the part)."""

    def __init__(
        self, pool: ThreadPoolExecutor, jobs: Iterator[Callable[[], _Segment]], depth: int = 3
    ) -> None:
        self.pool = pool
        self.jobs = jobs
        self.given = deque(pool.submit(job) for job in itertools.islice(jobs, depth))

    def __iter__(self) -> Iterator[_Segment]:
        while self.given:
            taken = self.given.popleft()
            job = next(self.jobs, None)
            if job is not None:
                self.given.append(self.pool.submit(job))
            yield taken.result()


class _Sheet:
    """A worksheet part given its rows: its head (with the rows' dimension) and tail
    around the rows' spans."""

    def __init__(self, name: str, part: bytes, rows: SheetRows) -> None:
        found = _SHEET_DATA.search(part)
        if found is None or _DIMENSION.search(part[: found.start()]) is None:
            raise RuntimeError(f"{name} has no sheetData or dimension to fill")
        self.head = _DIMENSION.sub(
            f'<dimension ref="{rows.dimension}"/>'.encode(), part[: found.start()], count=1
        )
        self.head += b"<sheetData>"
        self.tail = b"</sheetData>" + part[found.end() :]
        for file in {id(file): file for file, _, _ in rows.spans}.values():
            file.flush()  # read below by its descriptor
        # (descriptor, start, length) of each span with bytes in it, in order
        self.spans = [(file.fileno(), start, end - start) for file, start, end in rows.spans]
        self.spans = [span for span in self.spans if span[2] > 0]
        self.rows = sum(length for _, _, length in self.spans)
        self.size = len(self.head) + self.rows + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        """The part's bytes in order (for ``zipfile``)."""
        yield self.head
        for fd, start, length in self.spans:
            for at in range(start, start + length, _CHUNK):
                yield read_at(fd, at, min(at + _CHUNK, start + length))
        yield self.tail

    def segments(self) -> Iterator[Callable[[], _Segment]]:
        """The part's segments, each a job that reads and deflates it: their deflated
        data in order make one deflate stream."""
        starts = range(0, max(self.rows, 1), SEGMENT)
        last = starts[-1]
        spans = iter(self.spans)
        left: tuple[int, int, int] | None = None  # what is left of the span being cut
        for start in starts:
            wanted, pieces = min(SEGMENT, self.rows - start), []
            while wanted:
                fd, at, length = left if left is not None else next(spans)
                taken = min(length, wanted)
                pieces.append((fd, at, taken))
                wanted -= taken
                left = (fd, at + taken, length - taken) if taken < length else None
            yield functools.partial(
                _deflated_rows,
                pieces,
                self.head if start == 0 else b"",
                self.tail if start == last else b"",
                start == last,
            )


# A segment of a part: its bytes (in pieces, as read) and the same as raw deflate data.
_Segment = tuple[list[bytes], bytes]


def _deflated_rows(
    pieces: Sequence[tuple[int, int, int]], before: bytes, after: bytes, last: bool
) -> _Segment:
    """A segment of a part: ``before``, the ``pieces`` of the rows' files (descriptor,
    start, length), ``after``, read once and deflated; the stream ended after the
    ``last`` segment, else flushed to a byte boundary for the next segment to follow."""
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    plain = [before]
    for fd, start, length in pieces:
        plain.extend(
            read_at(fd, at, min(at + _CHUNK, start + length))
            for at in range(start, start + length, _CHUNK)
        )
    plain.append(after)
    deflated = [compressor.compress(piece) for piece in plain]
    deflated.append(compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH))
    return plain, b"".join(deflated)


def _deflated(data: bytes) -> _Segment:
    """A whole part as one segment."""
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return [data], compressor.compress(data) + compressor.flush()


class _Zip:
    """A ZIP file written part after part, deflated: each part's local header, then its
    data, then (``close``) the central directory. The header is written first and its
    CRC and sizes filled in once the data is written, so no data descriptor follows
    it. No ZIP64: the caller keeps every size and offset below 4 GiB."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.directory: list[bytes] = []
        moment = time.localtime()
        self.time = moment.tm_hour << 11 | moment.tm_min << 5 | moment.tm_sec // 2
        self.date = (moment.tm_year - 1980) << 9 | moment.tm_mon << 5 | moment.tm_mday

    def add(self, name: str, segments: Iterable[_Segment]) -> str:
        """One part, segment after segment (its bytes and the same deflated, written
        and hashed); returns its ``stored_entry``."""
        encoded = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # the name in UTF-8
        offset = self.file.tell()
        self.file.write(self._header(encoded, flags, 0, 0, 0))
        digest, crc, size, written = hashlib.sha256(), 0, 0, 0
        for plain, deflated in segments:
            for piece in plain:
                crc = zlib.crc32(piece, crc)
                size += len(piece)
            digest.update(deflated)
            self.file.write(deflated)
            written += len(deflated)
        end = self.file.tell()
        self.file.seek(offset)
        self.file.write(self._header(encoded, flags, crc, written, size))
        self.file.seek(end)
        self.directory.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,  # central directory file header
                3 << 8 | 20,  # made by: Unix, ZIP 2.0
                20,  # needed: 2.0 (deflate)
                flags,
                zipfile.ZIP_DEFLATED,
                self.time,
                self.date,
                crc,
                written,
                size,
                len(encoded),
                0,  # extra field
                0,  # comment
                0,  # disk
                0,  # internal attributes
                0o600 << 16,  # external attributes: rw-------
                offset,
            )
            + encoded
        )
        listed = (zipfile.ZIP_DEFLATED, crc, written, size)
        return stored_entry(name, listed, digest.hexdigest())

    def _header(self, name: bytes, flags: int, crc: int, deflated: int, size: int) -> bytes:
        return (
            LOCAL_HEADER.pack(
                LOCAL_SIGNATURE,
                20,
                flags,
                zipfile.ZIP_DEFLATED,
                self.time,
                self.date,
                crc,
                deflated,
                size,
                len(name),
                0,
            )
            + name
        )

    def close(self) -> None:
        """The central directory and its end record."""
        start = self.file.tell()
        for entry in self.directory:
            self.file.write(entry)
        count = len(self.directory)
        length = self.file.tell() - start
        self.file.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, length, start, 0))


def _assemble_one_by_one(
    parts: Mapping[str, bytes], sheets: Mapping[str, _Sheet], target: Path
) -> None:
    """``assemble`` by Python's ``zipfile`` (ZIP64 where a size needs it), one part at
    a time; the parts' compressed bytes are hashed from the file once written."""
    with zipfile.ZipFile(
        target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as out:
        for name, part in parts.items():
            if name == CUSTOM_PART:
                continue
            if name in sheets:
                _write_sheet(out, name, sheets[name])
            else:
                out.writestr(name, part)
        if out.fp is not None:
            out.fp.flush()
        with target.open("rb") as written:
            entries = stored_entries(written, out.infolist())
        if entries is None:
            raise RuntimeError(f"{target} does not read back as it was written")
        custom = parts[CUSTOM_PART].replace(PLACEHOLDER.encode(), stored_digest(entries).encode())
        out.writestr(CUSTOM_PART, custom)


def _write_sheet(out: zipfile.ZipFile, name: str, sheet: _Sheet) -> None:
    """Write one worksheet part with its rows."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]  # as writestr sets it
    info.file_size = sheet.size  # known ahead, so the part gets ZIP64 sizes if it needs them
    with out.open(info, "w") as part:
        for chunk in sheet.chunks():
            part.write(chunk)
