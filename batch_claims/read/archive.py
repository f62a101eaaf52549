"""A workbook's zip archive and the XML inside it, opened as what they are: files from
outside the team.

Before any part is read, the zip's central directory is checked (``open_archive``): no
part may expand past ``MAX_PART_BYTES``, all of them past ``MAX_ARCHIVE_BYTES``, or a
large part by more than ``MAX_RATIO`` times its compressed size (a zip bomb). Python's
zipfile never streams more than a part's declared size (a part that expands further
fails its CRC check), so the directory bounds what is read. Each part is then read once,
whole (``read_part``).

Every XML part is parsed by expat with document type declarations refused
(``xml_parser``): no entity is ever declared, so none expands (a "billion laughs") or
reaches outside the file (XXE). Workbooks never carry a DTD.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.parsers import expat

from batch_claims.errors import InputError

MIB = 1024 * 1024
MAX_PART_BYTES = 256 * MIB  # one part (a sheet's XML, the shared strings) expanded
MAX_ARCHIVE_BYTES = 512 * MIB  # all parts expanded
MAX_PARTS = 10_000  # a workbook has tens, with pictures hundreds
MAX_RATIO = 200  # expanded / compressed: XML reaches 10-30, a zip bomb about 1,000
RATIO_FROM_BYTES = 1 * MIB  # a small part may compress as well as it likes


class RefusedXml(ValueError):
    """An XML part declares a document type (entities): refused, never expanded."""


def open_archive(path: Path) -> zipfile.ZipFile:
    """The workbook's archive, once its directory shows nothing expands past a sane
    bound (nothing is decompressed to find out). The caller closes it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name}: cannot be read as an Excel workbook ({reason(exc)})"
        ) from None
    try:
        check_parts(path.name, archive.infolist())
    except InputError:
        archive.close()
        raise
    return archive


def check_parts(name: str, parts: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive whose parts would expand past a sane bound."""
    refuse = f"{name}: is refused as a workbook that would expand past a sane size"
    if len(parts) > MAX_PARTS:
        raise InputError(f"{refuse}: it has {len(parts):,} parts (at most {MAX_PARTS:,})")
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > MAX_PART_BYTES:
            raise InputError(
                f"{refuse}: its part {part.filename} expands to {_size(part.file_size)} "
                f"(at most {_size(MAX_PART_BYTES)})"
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise InputError(
                f"{refuse}: its part {part.filename} expands {ratio:,.0f} times, to "
                f"{_size(part.file_size)} (a zip bomb?)"
            )
    if total > MAX_ARCHIVE_BYTES:
        raise InputError(
            f"{refuse}: its parts expand to {_size(total)} (at most {_size(MAX_ARCHIVE_BYTES)})"
        )


def read_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """A part's bytes, read once (None when the archive has no such part)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    with archive.open(info) as stream:
        return stream.read()


def xml_parser() -> Any:
    """An expat parser (no namespace processing: names keep their prefix) that refuses
    a document type declaration, and so every entity and external reference."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.buffer_text = True
    return parser


def _refuse_doctype(*_: object) -> None:
    raise RefusedXml("refused: an XML part declares a document type, which no workbook has")


def _refuse_entity(*_: object) -> int:
    raise RefusedXml("an XML part declares an entity (refused)")


def local(name: str) -> str:
    """An element or attribute name without its prefix: "x:row" → "row"."""
    return name[name.find(":") + 1 :]


def _size(count: int) -> str:
    return f"{count / MIB:,.0f} MB" if count >= MIB else f"{count:,} bytes"


def reason(exc: BaseException) -> str:
    """The first line of an error's words, else its type's name."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__
