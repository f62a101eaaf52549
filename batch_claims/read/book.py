"""A workbook's small parts, read once each: which part is the workbook, its sheets
(title, hidden or not, which part holds each), the active sheet, its date system,
whether it asks to be calculated on opening, its shared strings and the number format
of each cell style (the shared strings by ``strict``'s grammar when it understands
them, else by expat). The sheets' own XML is ``worksheet``'s concern. ``sheet_titles``
answers which sheets there are from the workbook part and its relationships alone.

A workbook that asks Excel to calculate every formula on opening (``calcPr
fullCalcOnLoad``, as openpyxl and XlsxWriter write it, and pandas through them) was not
calculated by its writer; Excel and LibreOffice store each formula's result and do not
ask (``Book.asks_to_calculate``).

Number formats as Excel keeps them: a style's format is a built-in one (ids below 164)
or the file's own; a custom format whose code repeats a built-in one counts as that
built-in (its id decides whether a currency format follows the reader's region). Dates
and durations are told by openpyxl's public ``is_date_format``/``is_timedelta_format``.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from batch_claims.read.archive import local, read_part, xml_parser
from batch_claims.read.cells import GENERAL, NumberFormat
from batch_claims.read.strict import shared_strings

# The dates a workbook's day numbers count from (openpyxl's ``WINDOWS_EPOCH`` and
# ``CALENDAR_MAC_1904``; the same values, so that ``from_excel`` knows them).
WINDOWS_EPOCH = datetime(1899, 12, 30)
MAC_EPOCH = datetime(1904, 1, 1)

_WORKBOOK_TYPES = tuple(
    f"application/vnd.{kind}.main+xml"
    for kind in (
        "openxmlformats-officedocument.spreadsheetml.sheet",
        "openxmlformats-officedocument.spreadsheetml.template",
        "ms-excel.sheet.macroEnabled",
        "ms-excel.template.macroEnabled",
    )
)
_TRUE = ("1", "true")


@dataclass(frozen=True)
class SheetPart:
    """One worksheet as the workbook lists it."""

    title: str
    state: str  # "visible", "hidden" or "veryHidden"
    part: str  # its XML in the archive


@dataclass
class Book:
    """What the workbook's small parts say; ``sheet_xml`` reads a sheet's part (once)."""

    archive: zipfile.ZipFile
    sheets: tuple[SheetPart, ...]  # the worksheets, in the workbook's order
    active: str | None  # the title of the sheet Excel opens on
    epoch: datetime = WINDOWS_EPOCH
    asks_to_calculate: bool = False
    strings: list[str] = field(default_factory=list)  # the shared strings, by index
    formats: tuple[NumberFormat, ...] = (GENERAL,)  # by cell style index

    def sheet_xml(self, sheet: SheetPart) -> bytes:
        return read_part(self.archive, sheet.part) or b""


def open_book(archive: zipfile.ZipFile) -> Book:
    """The workbook in ``archive`` (its parts' bounds checked): ValueError, KeyError or
    an expat error when a part it needs is missing or broken."""
    listing = _listing(archive)
    present = listing.present
    active_tab = listing.active_tab
    active = present[active_tab][0] if 0 <= active_tab < len(present) else None
    sheets = tuple(
        SheetPart(title, state, part)
        for title, state, part, kind in present
        if kind.endswith("/worksheet")
    )
    kinds = {kind.rsplit("/", 1)[-1]: target for target, kind in listing.relations.values()}
    strings = read_part(archive, kinds.get("sharedStrings", "xl/sharedStrings.xml"))
    styles = read_part(archive, kinds.get("styles", "xl/styles.xml"))
    return Book(
        archive=archive,
        sheets=sheets,
        active=active,
        epoch=listing.epoch,
        asks_to_calculate=listing.calculate,
        strings=_strings(strings) if strings else [],
        formats=_number_formats(styles) if styles else (GENERAL,),
    )


def sheet_titles(archive: zipfile.ZipFile) -> tuple[str, ...]:
    """The titles of the workbook's sheets of every kind, from its small parts alone
    (no shared strings, styles or sheet is read); errors as ``open_book``'s."""
    return tuple(title for title, _, _, _ in _listing(archive).present)


@dataclass(frozen=True)
class _Listing:
    """What the workbook part says: its sheets whose parts exist (title, state, part,
    relation type), the active tab, the date system, whether to calculate on opening;
    and the workbook's relationships."""

    present: list[tuple[str, str, str, str]]
    active_tab: int
    epoch: datetime
    calculate: bool
    relations: dict[str, tuple[str, str]]


def _listing(archive: zipfile.ZipFile) -> _Listing:
    names = set(archive.namelist())
    workbook = _workbook_part(archive, names)
    data = read_part(archive, workbook)
    if data is None:
        raise ValueError("the archive holds no workbook part")
    relations = _relations(archive, workbook)
    listed: list[tuple[str, str, str, str]] = []  # title, state, part, relation type
    active_tab, epoch, calculate = 0, WINDOWS_EPOCH, False
    seen_view = False
    for _, name, attrs in _elements(data):
        if name == "sheet":
            target, kind = relations.get(attrs.get("id", ""), ("", ""))
            listed.append((attrs.get("name", ""), attrs.get("state") or "visible", target, kind))
        elif name == "workbookView" and not seen_view:
            seen_view = True
            active_tab = int(attrs.get("activeTab", "0") or 0)
        elif name == "workbookPr" and attrs.get("date1904", "").lower() in _TRUE:
            epoch = MAC_EPOCH
        elif name == "calcPr" and attrs.get("fullCalcOnLoad", "").lower() in _TRUE:
            calculate = True
    present = [entry for entry in listed if entry[2] in names]
    return _Listing(present, active_tab, epoch, calculate, relations)


def _workbook_part(archive: zipfile.ZipFile, names: set[str]) -> str:
    """The workbook's part as the content types name it, else as the package's
    relationships do, else where Excel puts it."""
    types = read_part(archive, "[Content_Types].xml")
    for _, name, attrs in _elements(types or b""):
        if name == "Override" and attrs.get("ContentType") in _WORKBOOK_TYPES:
            part = attrs.get("PartName", "").lstrip("/")
            if part in names:
                return part
    for target, kind in _relations(archive, "").values():
        if kind.endswith("/officeDocument") and target in names:
            return target
    return "xl/workbook.xml"


def _relations(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships ("" for the package's): id → (target part, type)."""
    folder, name = posixpath.split(part)
    data = read_part(archive, posixpath.join(folder, "_rels", f"{name}.rels"))
    found = {}
    for _, element, attrs in _elements(data or b""):
        if element != "Relationship" or attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        if target.startswith("/"):
            target = target.lstrip("/")
        else:
            target = posixpath.normpath(posixpath.join(folder, target))
        found[attrs.get("Id", "")] = (target, attrs.get("Type", ""))
    return found


def _elements(data: bytes) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Each element of a small XML part: its parent's name, its name and its attributes
    (names without prefixes)."""
    found: list[tuple[str, str, dict[str, str]]] = []
    path = [""]

    def start(name: str, attrs: dict[str, str]) -> None:
        found.append((path[-1], local(name), {local(k): v for k, v in attrs.items()}))
        path.append(local(name))

    parser = xml_parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: path.pop()
    if data:
        parser.Parse(data, True)
    return iter(found)


def _number_formats(data: bytes) -> tuple[NumberFormat, ...]:
    """Each cell style's number format (``cellXfs``, by index)."""
    # Here, not at the top: which sheets a workbook has is asked before a run without it.
    from openpyxl.styles.numbers import (
        BUILTIN_FORMATS,
        BUILTIN_FORMATS_MAX_SIZE,
        BUILTIN_FORMATS_REVERSE,
        is_date_format,
        is_timedelta_format,
    )

    custom: dict[int, str] = {}
    style_ids: list[int] = []
    for parent, name, attrs in _elements(data):
        if name == "numFmt" and parent == "numFmts":
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif name == "xf" and parent == "cellXfs":
            style_ids.append(int(attrs.get("numFmtId", "0") or 0))
    made: dict[int, NumberFormat] = {}
    for number in set(style_ids):
        if number in custom:
            code = custom[number]
            shown_as = BUILTIN_FORMATS_REVERSE.get(code, max(number, BUILTIN_FORMATS_MAX_SIZE))
        else:
            code, shown_as = BUILTIN_FORMATS.get(number, "General"), number
        made[number] = NumberFormat(
            shown_as, code, bool(is_date_format(code)), bool(is_timedelta_format(code))
        )
    return tuple(made[number] for number in style_ids) or (GENERAL,)


def _strings(data: bytes) -> list[str]:
    """The shared strings: by ``strict``'s grammar when it understands them all, else
    by expat."""
    fast = shared_strings(data)
    return fast if fast is not None else _shared_strings(data)


def _shared_strings(data: bytes) -> list[str]:
    """The shared strings: each item's text and rich-text runs, without the phonetic
    guides (``rPh``) East Asian text carries."""
    strings: list[str] = []
    parts: list[str] = []
    text: list[str] | None = None
    phonetic = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal text, phonetic
        tag = local(name)
        if tag == "si":
            parts.clear()
        elif tag == "t" and not phonetic:
            text = []
        elif tag == "rPh":
            phonetic += 1

    def end(name: str) -> None:
        nonlocal text, phonetic
        tag = local(name)
        if tag == "t" and text is not None:
            parts.append("".join(text))
            text = None
        elif tag == "rPh":
            phonetic -= 1
        elif tag == "si":
            strings.append("".join(parts))

    def characters(data: str) -> None:
        if text is not None:
            text.append(data)

    _parse(data, start, end, characters)
    return strings


def _parse(
    data: bytes,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    characters: Callable[[str], None],
) -> None:
    parser = xml_parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.Parse(data, True)
