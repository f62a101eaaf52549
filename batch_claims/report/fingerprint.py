"""A results workbook knows what it was when written, so a person's edits are never
overwritten.

As it writes, the writer (``report``) feeds every row of every sheet to a
``Fingerprint`` and stores the digest in the workbook's custom document properties;
``changed_since_written`` reads a workbook's cells back and compares: a cell someone
typed into (a fix in ``Failed rows``), a row added or deleted, or a file that
batch-claims did not write all count as changed, each told as a ``NotAsWritten``.
Styles, column widths and comments are not counted: only what a person can type, so a
workbook saved again unchanged (Excel rewrites every part of the file) is not changed.

Reading 50,000 rows of cells back takes longer than writing them, so the writer also
stores the digest of the package's parts as stored (``STORED``, every part but the
custom properties that hold the digests: each part's name, how it is compressed, its
CRC and sizes from the ZIP's directory, and the sha256 of its compressed bytes): a file
whose parts are still byte for byte those is as written without inflating a part or
reading a cell, in hundredths of a second at 50,000 rows (the 11 MB the file holds,
not the 138 MB of XML they inflate to). Same compressed bytes are the same XML, so this
is as strict as comparing the XML. A workbook written by an earlier batch-claims holds
the digest of its parts' inflated bytes instead (``PARTS``), checked as then. Any other file (saved
again by Excel, edited, or not a batch-claims workbook) is compared cell by cell as
above.

Values are compared in a form that survives the trip through the file: numbers as
the 16 significant digits the file keeps (``Decimal('12.50')`` reads back as 12.5),
dates as datetimes, times to the second, line breaks as ``\\n``, empty text as blank;
trailing blank cells and fully blank rows are ignored.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

PROPERTY = "batch-claims fingerprint"
STORED = "batch-claims stored parts"  # the digest of the package's parts as stored
PARTS = "batch-claims parts"  # earlier: the digest of the parts' inflated bytes
# A ZIP part's local header, its fixed fields: signature, version needed, flags, method,
# time, date, CRC, compressed and inflated sizes, name and extra field lengths.
LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
LOCAL_SIGNATURE = 0x04034B50
CUSTOM_PART = "docProps/custom.xml"  # where both are, so not among the parts digested
_CHUNK = 1 << 20


class NotAsWritten(StrEnum):
    """Why a workbook is not as batch-claims wrote it; the words follow its path."""

    NOT_A_WORKBOOK = "is not a workbook batch-claims wrote"
    NOT_WRITTEN_BY_US = "was not written by batch-claims (or by a version before 0.2)"
    CHANGED = "was changed since batch-claims wrote it"


class Fingerprint:
    """The digest of a workbook's cells, fed sheet by sheet and row by row."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def sheet(self, name: str) -> None:
        self._digest.update(b"\x00sheet\x00" + name.encode("utf-8", "surrogatepass"))

    def row(self, values: Iterable[object]) -> None:
        self.kept_row([canonical(value) for value in values])

    def kept_row(self, cells: Sequence[str]) -> None:
        """A row of cells already in their ``canonical`` form."""
        self._digest.update(encoded(row_text(cells)))

    def update(self, fed: bytes) -> None:
        """Rows' ``row_text`` joined and ``encoded``, fed in their turn."""
        self._digest.update(fed)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def row_text(cells: Sequence[str]) -> str:
    """What a row of cells in their ``canonical`` form adds to the digest, as text to
    encode ('' for a blank row)."""
    end = len(cells)
    while end and cells[end - 1] == "":
        end -= 1
    if not end:
        return ""
    return "\x00row\x00" + "\x1f".join(cells if end == len(cells) else cells[:end])


def encoded(text: str) -> bytes:
    """Text fed to the digest as bytes (rows' texts may be joined first)."""
    return text.encode("utf-8", "surrogatepass")


def canonical(value: object) -> str:
    """A cell value in the form it has after a save and a load."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "b:1" if value else "b:0"
    if isinstance(value, str):  # an XML reader reads every line break as \n
        return "s:" + value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, datetime):
        return "d:" + _to_second(value).isoformat()
    if isinstance(value, date):
        return "d:" + datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, time):
        moment = _to_second(datetime.combine(date(2000, 1, 1), value))
        return "t:" + moment.time().isoformat()
    if isinstance(value, timedelta):
        return "n:" + repr(round(value.total_seconds()))
    if isinstance(value, numbers.Real):
        number = float(value)
        # As read back: openpyxl writes a float with 16 significant digits (which can
        # round the largest floats up to infinity).
        stored = float(f"{number:.16g}") + 0.0  # -0.0 reads back as 0
        return "" if math.isnan(stored) or math.isinf(stored) else "n:" + repr(stored)
    return "s:" + str(value)


def _to_second(moment: datetime) -> datetime:
    rounded = moment.replace(tzinfo=None, microsecond=0)
    return rounded + timedelta(seconds=1) if moment.microsecond >= 500_000 else rounded


def digest_of(workbook: Any) -> str:
    """The digest of every cell of every sheet of an openpyxl workbook."""
    fingerprint = Fingerprint()
    for sheet in workbook.worksheets:
        fingerprint.sheet(sheet.title)
        for values in sheet.iter_rows(values_only=True):
            fingerprint.row(values)
    return fingerprint.hexdigest()


def parts_digest(parts: Mapping[str, str]) -> str:
    """The digest of a package from each part's name and the sha256 of its bytes."""
    digest = hashlib.sha256()
    for name in sorted(parts):
        digest.update(f"{name}\x00{parts[name]}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def stored_entry(name: str, info: tuple[int, int, int, int], compressed_sha256: str) -> str:
    """What one part adds to the ``STORED`` digest: its name; its compression method,
    CRC, compressed and inflated sizes as the ZIP's directory gives them; and the
    sha256 of its compressed bytes."""
    return "\x00".join([name, *map(str, info), compressed_sha256])


def stored_digest(entries: Iterable[str]) -> str:
    """The ``STORED`` digest of a package from its parts' ``stored_entry``."""
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def stored_entries(file: IO[bytes], infos: Iterable[zipfile.ZipInfo]) -> list[str] | None:
    """The ``stored_entry`` of every part of a ZIP opened as ``file`` but the custom
    properties, its compressed bytes found from each local header; None when a part is
    named twice or its bytes are not all there."""
    entries: list[str] = []
    names: set[str] = set()
    for info in infos:
        if info.filename == CUSTOM_PART or info.is_dir():
            continue
        if info.filename in names:  # a name twice: not as the writer made it
            return None
        names.add(info.filename)
        file.seek(info.header_offset)
        header = file.read(LOCAL_HEADER.size)
        if len(header) < LOCAL_HEADER.size or LOCAL_HEADER.unpack(header)[0] != LOCAL_SIGNATURE:
            return None
        name_length, extra_length = LOCAL_HEADER.unpack(header)[-2:]
        file.seek(info.header_offset + LOCAL_HEADER.size + name_length + extra_length)
        digest, left = hashlib.sha256(), info.compress_size
        while left:
            chunk = file.read(min(_CHUNK, left))
            if not chunk:
                return None
            digest.update(chunk)
            left -= len(chunk)
        listed = (info.compress_type, info.CRC, info.compress_size, info.file_size)
        entries.append(stored_entry(info.filename, listed, digest.hexdigest()))
    return entries


def _stored_property(archive: zipfile.ZipFile, name: str) -> str | None:
    """The digest a batch-claims workbook keeps under ``name`` in its custom properties."""
    try:
        custom = archive.read(CUSTOM_PART).decode("utf-8")
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None
    if f'name="{PROPERTY}"' not in custom:
        return None
    found = re.search(rf'name="{name}"[^>]*>\s*<vt:lpwstr>([0-9a-f]{{64}})</vt:lpwstr>', custom)
    return found[1] if found else None


def parts_as_written(path: Path) -> bool:
    """The workbook's parts are byte for byte those the writer stored the digest of
    (``STORED``; ``PARTS`` in a workbook an earlier batch-claims wrote)."""
    try:
        with path.open("rb") as file, zipfile.ZipFile(file) as archive:
            stored = _stored_property(archive, STORED)
            if stored is not None:
                entries = stored_entries(file, archive.infolist())
                return entries is not None and stored_digest(entries) == stored
            return _inflated_as_written(archive)
    except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError):
        return False


def _inflated_as_written(archive: zipfile.ZipFile) -> bool:
    """The parts, inflated, are those whose digest a workbook an earlier batch-claims
    wrote keeps (``PARTS``)."""
    stored = _stored_property(archive, PARTS)
    if stored is None:
        return False
    parts: dict[str, str] = {}
    for info in archive.infolist():
        if info.filename == CUSTOM_PART or info.is_dir():
            continue
        if info.filename in parts:  # a name twice: not as the writer made it
            return False
        digest = hashlib.sha256()
        with archive.open(info) as part:
            while chunk := part.read(_CHUNK):
                digest.update(chunk)
        parts[info.filename] = digest.hexdigest()
    return parts_digest(parts) == stored


def changed_since_written(path: Path) -> NotAsWritten | None:
    """None when the workbook at ``path`` is as batch-claims wrote it; else why not."""
    if parts_as_written(path):
        return None
    import openpyxl  # only to compare cells: a workbook as written never loads it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook: Any = openpyxl.load_workbook(path, read_only=True)
    except Exception:
        return NotAsWritten.NOT_A_WORKBOOK
    try:
        stored = next(
            (str(p.value) for p in workbook.custom_doc_props.props if p.name == PROPERTY), None
        )
        if stored is None:
            return NotAsWritten.NOT_WRITTEN_BY_US
        if digest_of(workbook) != stored:
            return NotAsWritten.CHANGED
        return None
    finally:
        workbook.close()
