"""The Excel side of reading the input sheet (.xlsx/.xlsm): opening the workbook,
choosing the sheet, its merged ranges, and streaming its rows.

Which sheet, without ``--sheet``: hidden and very hidden sheets are never read. Of the
visible sheets whose header row ``sheet.find_header`` finds, one with data rows beats
one without; then a claims table (a header that names a known column besides the
tracking number) beats a lone tracking-number column, whose rows count as data only
where they do not name a column (a legend listing the columns is no data). Among the
best the workbook's active sheet wins, else the only one; two or more with data and
none active stop the run with a request for ``--sheet`` (never a guess); without data
the first is read. One notice says which sheet was read and why each other one was
passed over. ``--sheet NAME`` reads that sheet, hidden or not (with a notice).

Merged cells: openpyxl's read-only mode does not load merged ranges, so
``_scan_xml`` finds them in the sheet's XML. In the header they name the columns
(``sheet._merged_header``); below it a value merged down belongs to every row it
covers, and a value merged across belongs to its first column only.

Workbooks come from outside the team, so before openpyxl opens one its zip directory is
checked: no part may expand past ``MAX_PART_BYTES``, all of them past
``MAX_ARCHIVE_BYTES``, or a large part by more than ``MAX_RATIO`` times its compressed
size (a zip bomb). Python's zipfile never streams more than a part's declared size (a
part that expands further fails its CRC check), so the directory bounds what is read.
A sheet whose rows run on far past what a claims sheet holds — beyond
``MAX_SHEET_ROWS`` rows, empty ones included, or ``MAX_SHEET_CELLS`` cells — is
refused as it streams, before it costs minutes or memory.

Formulas: a workbook that asks Excel to calculate every formula on opening
(``calcPr fullCalcOnLoad``, as openpyxl and XlsxWriter write it) was not calculated by
its writer; on such a sheet with formulas, a formula cell whose stored result is none,
blank or XlsxWriter's 0 becomes an ``UncalculatedFormula`` (``_with_uncalculated``).
Whether a sheet holds a formula is found by the same byte pass as its merged ranges.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from batch_claims.columns import TRACKING_NUMBER, normalise_header
from batch_claims.errors import InputError
from batch_claims.read.cells import UncalculatedFormula, _excel_value
from batch_claims.read.headers import near_miss
from batch_claims.read.table import (
    HEADER_SCAN_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    CellRange,
    SheetTable,
    assemble,
    find_header,
    match_headers,
    names_other_columns,
    no_header,
    scanned_to_the_limit,
)

_MERGE_REF = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)"'
)
Rows = Iterator[tuple[int, tuple[Any, ...]]]
MIB = 1024 * 1024
MAX_PART_BYTES = 256 * MIB  # one part (a sheet's XML, the shared strings) expanded
MAX_ARCHIVE_BYTES = 512 * MIB  # all parts expanded
MAX_PARTS = 10_000  # a workbook has tens, with pictures hundreds
MAX_RATIO = 200  # expanded / compressed: XML reaches 10-30, a zip bomb about 1,000
RATIO_FROM_BYTES = 1 * MIB  # a small part may compress as well as it likes
MAX_SHEET_ROWS = MAX_ROWS + HEADER_SCAN_ROWS  # rows streamed, empty ones too
MAX_SHEET_CELLS = 20_000_000  # cells streamed: 200,000 rows of 100 columns


class _SheetTooLarge(Exception):
    """A sheet streamed past the bounds; its message names the sheet, not the file."""


_FULL_CALC_ON_LOAD = re.compile(rb'<(?:\w+:)?calcPr\b[^>]*?\bfullCalcOnLoad="(?:1|true)"')
_WORKBOOK_PART = re.compile(
    rb'PartName="([^"]+)"\s+ContentType="application/vnd\.(?:ms-excel\.sheet\.macroEnabled'
    rb'|openxmlformats-officedocument\.spreadsheetml\.sheet)\.main\+xml"'
)
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def read_workbook(path: Path, sheet_name: str | None, lookup: Mapping[str, str]) -> SheetTable:
    """Read a workbook (``read_sheet`` has checked its name and that it is not empty)."""
    import openpyxl

    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{path.name}: is an old .xls or a password-protected workbook; "
            "save it as .xlsx without a password"
        )
    if not magic.startswith(b"PK"):
        raise InputError(
            f"{path.name}: is not an Excel workbook (the file is not an .xlsx archive)"
        )
    _check_archive(path)
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation, styles); not ours.
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a corrupt archive raises many different types
            raise InputError(
                f"{path.name}: cannot be read as an Excel workbook ({_reason(exc)})"
            ) from exc
        try:
            return _read_worksheets(path, workbook, sheet_name, lookup)
        except InputError:
            raise
        except _SheetTooLarge as exc:
            raise InputError(f"{path.name}, {exc}") from None
        except Exception as exc:
            raise InputError(
                f"{path.name}: cannot be read as an Excel workbook ({_reason(exc)})"
            ) from exc
        finally:
            workbook.close()


def _check_archive(path: Path) -> None:
    """Refuse a workbook whose parts would expand past a sane bound, from the zip's
    central directory alone (nothing is decompressed)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name}: cannot be read as an Excel workbook ({_reason(exc)})"
        ) from None
    refuse = f"{path.name}: is refused as a workbook that would expand past a sane size"
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


def _size(count: int) -> str:
    return f"{count / MIB:,.0f} MB" if count >= MIB else f"{count:,} bytes"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


def _read_worksheets(
    path: Path, workbook: Any, sheet_name: str | None, lookup: Mapping[str, str]
) -> SheetTable:
    sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
    if sheet_name is not None:
        return _read_named(path, sheets, sheet_name, lookup)
    return _choose(path, sheets, getattr(workbook.active, "title", None), lookup)


# --- one sheet ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    """What one worksheet holds, as far as choosing a sheet goes."""

    title: str
    table: SheetTable | None = None  # None: no header row, or ``error``
    error: InputError | None = None  # a header row was found but cannot be used
    strong: bool = False  # its header names a known column besides the tracking number
    seen: dict[int, list[str]] = field(default_factory=dict)  # the rows scanned

    def has_data(self, lookup: Mapping[str, str]) -> bool:
        """Rows to validate; under a lone tracking-number column, rows whose tracking
        cell holds something other than a column name (a legend lists those)."""
        if self.table is None:
            return False
        if self.strong:
            return bool(self.table.rows)
        index = self.table.mapping[TRACKING_NUMBER]
        return any(_is_data(row.cells[index], lookup) for row in self.table.rows)

    def rank(self, lookup: Mapping[str, str]) -> int:
        """3: claims table with data; 2: lone tracking column with data; 1, 0: without."""
        return 2 * self.has_data(lookup) + self.strong


def _is_data(value: object, lookup: Mapping[str, str]) -> bool:
    if value is None:
        return False
    return not (isinstance(value, str) and normalise_header(value) in lookup)


def _examine(path: Path, worksheet: Any, lookup: Mapping[str, str]) -> _Sheet:
    """Find a sheet's header and read its table; what cannot be used is kept as the
    error it raises."""
    title = worksheet.title
    merged, has_formulas = _scan_xml(worksheet, _asks_to_calculate(worksheet.parent))
    seen: dict[int, list[str]] = {}
    with closing(_worksheet_rows(path, worksheet, has_formulas)) as rows:
        header, rest = find_header(rows, _excel_value, lookup, merged, seen)
        if header is None:
            return _Sheet(title, seen=seen)
        strong = names_other_columns(header.headers, lookup)
        where = f'sheet "{title}"'
        try:
            header = match_headers(f"{path.name}, {where}", header, lookup)
            data, notices, skipped = assemble(
                path, where, header, _merged_values(rest, merged), _excel_value, lookup
            )
        except InputError as exc:
            return _Sheet(title, error=exc, strong=strong)
    table = SheetTable(
        source=path,
        sheet_name=title,
        header_row=header.row,
        headers=header.headers,
        mapping=header.mapping,
        rows=data,
        notices=tuple(notices),
        skipped_rows=skipped,
    )
    return _Sheet(title, table=table, strong=strong)


def _read_named(
    path: Path, sheets: Sequence[Any], sheet_name: str, lookup: Mapping[str, str]
) -> SheetTable:
    """The sheet ``--sheet`` names (exactly, else ignoring case), hidden or not."""
    chosen = [ws for ws in sheets if ws.title == sheet_name] or [
        ws for ws in sheets if ws.title.casefold() == sheet_name.strip().casefold()
    ]
    if not chosen:
        listed = _quoted(ws.title for ws in sheets)
        raise InputError(f'{path.name}: no sheet named "{sheet_name}" (sheets: {listed})')
    worksheet = chosen[0]
    found = _examine(path, worksheet, lookup)
    if found.error is not None:
        raise found.error
    if found.table is None:
        raise no_header(
            path.name,
            f'sheet "{found.title}"',
            lookup,
            near_miss(found.seen, lookup),
            limited=scanned_to_the_limit(found.seen),
        )
    if _state(worksheet) == "visible":
        return found.table
    notice = f'read hidden sheet "{found.title}" (named by --sheet)'
    return replace(found.table, notices=(notice, *found.table.notices))


def _state(worksheet: Any) -> str:
    return str(getattr(worksheet, "sheet_state", None) or "visible")


# --- choosing the sheet ----------------------------------------------------------------


def _choose(
    path: Path, sheets: Sequence[Any], active_title: str | None, lookup: Mapping[str, str]
) -> SheetTable:
    """The visible sheet that holds the claims (see the module's docstring)."""
    visible = [ws for ws in sheets if _state(ws) == "visible"]
    hidden = [ws.title for ws in sheets if _state(ws) != "visible"]
    if not visible:
        raise InputError(
            f"{path.name}: every sheet is hidden ({_quoted(hidden)}); "
            "name the one to read with --sheet NAME"
        )
    active = next((ws for ws in visible if ws.title == active_title), None)
    first = _examine(path, active, lookup) if active is not None else None
    if first is not None and first.table is not None and first.rank(lookup) == 3:
        others = [ws.title for ws in visible if ws is not active]
        passed = [(title, "not the active sheet") for title in others]
        return _with_choice(first.table, "the active sheet", passed, hidden)
    found = [
        first if ws is active and first is not None else _examine(path, ws, lookup)
        for ws in visible
    ]
    for sheet in found:
        if sheet.error is not None and sheet.strong:
            raise sheet.error
    tables = [sheet for sheet in found if sheet.table is not None]
    if not tables:
        _raise_no_table(path, found, hidden, lookup)
    best = max(sheet.rank(lookup) for sheet in tables)
    top = [sheet for sheet in tables if sheet.rank(lookup) == best]
    chosen = next((sheet for sheet in top if sheet is first), None)
    why = "the active sheet"
    if chosen is None and len(top) > 1 and best >= 2:
        titles = _quoted(sheet.title for sheet in top)
        activity = f'the active sheet, "{active_title}",' if active_title else "the active sheet"
        raise InputError(
            f"{path.name}: {len(top)} sheets hold claims ({titles}) and {activity} is none of "
            "them; name the one to read with --sheet NAME"
        )
    if chosen is None:
        chosen = top[0]
        why = _WHY[best] if len(top) == 1 else "the first with a header row; none has data rows"
    assert chosen.table is not None
    passed = [
        (sheet.title, _passed_reason(path, sheet, chosen, lookup))
        for sheet in found
        if sheet is not chosen
    ]
    return _with_choice(chosen.table, why, passed, hidden)


_WHY = {
    3: "the only sheet with claims",
    2: "the only sheet with data rows",
    1: "the only claims table",
    0: "the only sheet with a tracking number column",
}


def _passed_reason(path: Path, sheet: _Sheet, chosen: _Sheet, lookup: Mapping[str, str]) -> str:
    if sheet.error is not None:
        return sheet.error.message.removeprefix(f'{path.name}, sheet "{sheet.title}": ')
    if sheet.table is None:
        return "no header row with a tracking number column"
    if not sheet.has_data(lookup):
        if not sheet.strong and sheet.table.rows:
            return "a list of column names, no claims"
        return "no data rows"
    if not sheet.strong and chosen.strong:
        return "its header names no known column besides the tracking number"
    return "not the active sheet"


def _with_choice(
    table: SheetTable, why: str, passed: Sequence[tuple[str, str]], hidden: Sequence[str]
) -> SheetTable:
    """The table with a notice naming its sheet, why, and the sheets passed over."""
    reasons: dict[str, list[str]] = {}
    for title, reason in [*passed, *((title, "hidden") for title in hidden)]:
        reasons.setdefault(reason, []).append(title)
    if not reasons:
        return table
    over = "; ".join(f"{_quoted(titles)} ({reason})" for reason, titles in reasons.items())
    notice = f'read sheet "{table.sheet_name}" ({why}); passed over {over}'
    return replace(table, notices=(notice, *table.notices))


def _raise_no_table(
    path: Path, found: Sequence[_Sheet], hidden: Sequence[str], lookup: Mapping[str, str]
) -> None:
    errors = [sheet.error for sheet in found if sheet.error is not None]
    if errors:
        raise errors[0]
    if len(found) == 1:
        place = f'sheet "{found[0].title}"'
    else:
        place = f"any sheet ({_quoted(sheet.title for sheet in found)})"
    if hidden:
        place += f" (hidden sheets are read only with --sheet: {_quoted(hidden)})"
    near, near_where = None, ""
    for sheet in found:
        near = near_miss(sheet.seen, lookup)
        if near is not None:
            near_where = f' of sheet "{sheet.title}"' if len(found) > 1 else ""
            break
    limited = any(scanned_to_the_limit(sheet.seen) for sheet in found)
    raise no_header(path.name, place, lookup, near, near_where, limited)


def _quoted(titles: Iterable[str]) -> str:
    return ", ".join(f'"{title}"' for title in titles)


# --- rows and merged cells --------------------------------------------------------------


def _scan_xml(worksheet: Any, look_for_formulas: bool) -> tuple[tuple[CellRange, ...], bool]:
    """The merged ranges of a sheet, found in its XML, and (when ``look_for_formulas``)
    whether it holds a formula.

    openpyxl's read-only mode does not load merged ranges (they follow all the rows in
    the file), and the header needs them before its rows are read, so the sheet's XML is
    streamed once before openpyxl reads it: a fast byte search, no XML parsing of the
    rows (about 1% of openpyxl's reading; the zip's deflate stream cannot be entered at
    its end without inflating what comes before). The same pass finds a formula tag.
    This is the one place that uses openpyxl's private ``_archive`` and
    ``_worksheet_path``.
    """
    archive = getattr(worksheet.parent, "_archive", None)
    member = getattr(worksheet, "_worksheet_path", None)
    if archive is None or member is None:
        return (), False
    tail = b""
    found = b""
    has_formulas = False
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if look_for_formulas and not has_formulas:
                has_formulas = _FORMULA_TAG.search(window) is not None
            start = window.find(b"mergeCells")
            if start != -1:  # mergeCells follows sheetData: no formula after it
                found = window[start:] + stream.read()
                break
            tail = window[-16:]
    ranges = []
    for match in _MERGE_REF.finditer(found):
        first_col, first_row, last_col, last_row = match.groups()
        ranges.append(
            CellRange(
                int(first_row), _column_number(first_col), int(last_row), _column_number(last_col)
            )
        )
    return tuple(ranges), has_formulas


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _worksheet_rows(
    path: Path, worksheet: Any, uncalculated: bool
) -> Generator[tuple[int, tuple[Any, ...]]]:
    """The sheet's rows of cells, numbered; when ``uncalculated`` (the workbook asks to
    be calculated and the sheet holds formulas), a formula whose writer never calculated
    it is an ``UncalculatedFormula`` in place of its cell."""
    rows = _cell_rows(worksheet)
    if not uncalculated:
        return rows
    return _with_uncalculated(path, worksheet.title, rows)


def _cell_rows(worksheet: Any) -> Generator[tuple[int, tuple[Any, ...]]]:
    # The stored dimensions can be wrong (too small); forget them and read every row.
    worksheet.reset_dimensions()
    source = worksheet.iter_rows()
    cells_seen = 0
    try:
        for number, cells in enumerate(source, start=1):
            cells_seen += len(cells)
            if number > MAX_SHEET_ROWS or cells_seen > MAX_SHEET_CELLS:
                raise _SheetTooLarge(_too_large(worksheet.title, number, cells_seen))
            yield number, tuple(cells)
    finally:
        source.close()  # the sheet's XML stays open until its generator is closed


def _too_large(title: str, number: int, cells: int) -> str:
    extent = (
        f"runs on past row {MAX_SHEET_ROWS:,}"
        if number > MAX_SHEET_ROWS
        else f"holds more than {MAX_SHEET_CELLS:,} cells by row {number:,}"
    )
    return (
        f'sheet "{title}": {extent}, far more than a claims sheet (at most {MAX_ROWS:,} '
        "claim rows); delete the rows and columns beyond your claims (even empty ones that "
        "were once formatted), or split the sheet"
    )


def _asks_to_calculate(workbook: Any) -> bool:
    """Whether the workbook asks Excel to calculate every formula when it opens it
    (``calcPr fullCalcOnLoad``): what programs that write formulas without calculating
    them do (openpyxl, XlsxWriter and pandas through them). Excel and LibreOffice store
    each formula's result and do not ask."""
    archive = getattr(workbook, "_archive", None)
    if archive is None:
        return False
    names = set(archive.namelist())
    part = "xl/workbook.xml"
    if part not in names and "[Content_Types].xml" in names:
        match = _WORKBOOK_PART.search(archive.read("[Content_Types].xml"))
        part = match.group(1).decode("utf-8", "replace").lstrip("/") if match else part
    if part not in names:
        return False
    return _FULL_CALC_ON_LOAD.search(archive.read(part)) is not None


def _with_uncalculated(
    path: Path, title: str, rows: Generator[tuple[int, tuple[Any, ...]]]
) -> Generator[tuple[int, tuple[Any, ...]]]:
    """``rows`` with each formula cell whose stored result is none, blank or XlsxWriter's
    0 replaced by an ``UncalculatedFormula``: the sheet is read a second time with its
    formulas (openpyxl gives a cell either its formula or its result, never both). When
    that second reading fails, the values are read as stored: it never costs the run.
    Only sheets with formulas in workbooks that ask to be calculated pay this second
    reading (it about doubles the time: 10 s to 25 s for 50,000 rows)."""
    import openpyxl

    try:
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # the values were readable: read them as stored
        yield from rows
        return
    written: Generator[tuple[int, tuple[Any, ...]]] | None = _cell_rows(formulas[title])
    try:
        for number, cells in rows:  # both readers number the same rows of the same XML
            formula_cells: tuple[Any, ...] = ()
            if written is not None:
                try:
                    _, formula_cells = next(written, (number, ()))
                except Exception:  # a formula openpyxl cannot parse: values as stored
                    written.close()
                    written = None
            yield number, _uncalculated_cells(cells, formula_cells)
    finally:
        rows.close()
        if written is not None:
            written.close()
        formulas.close()


def _uncalculated_cells(cells: tuple[Any, ...], formula_cells: tuple[Any, ...]) -> tuple[Any, ...]:
    if not any(getattr(cell, "data_type", None) == "f" for cell in formula_cells):
        return cells
    result = list(cells) + [None] * (len(formula_cells) - len(cells))
    for index, written in enumerate(formula_cells):
        if getattr(written, "data_type", None) != "f":
            continue
        value = getattr(result[index], "value", None)
        if value is None or value == "" or (type(value) in (int, float) and value == 0):
            formula = getattr(written.value, "text", written.value)
            result[index] = UncalculatedFormula(str(formula))
    return tuple(result)


def _merged_values(rows: Rows, merged: Sequence[CellRange]) -> Rows:
    """The rows with merged cells as Excel shows them: a range's value (its top-left
    cell) belongs to every row of the range, in its first column; the other cells it
    covers are blank. A range counts from the row where it starts, so the ranges of
    the header (already read) stay the header's. Linear: one pass, and per row only the
    ranges open on it."""
    starts: dict[int, list[CellRange]] = {}
    for cell_range in merged:
        if cell_range.max_row > cell_range.min_row or cell_range.max_col > cell_range.min_col:
            starts.setdefault(cell_range.min_row, []).append(cell_range)
    spanning: list[tuple[CellRange, Any]] = []
    for number, cells in rows:
        spanning = [(r, owner) for r, owner in spanning if r.max_row >= number]
        for r in starts.get(number, ()):
            index = r.min_col - 1
            spanning.append((r, cells[index] if index < len(cells) else None))
        yield number, _covered(cells, spanning) if spanning else cells


def _covered(cells: tuple[Any, ...], spanning: Sequence[tuple[CellRange, Any]]) -> tuple[Any, ...]:
    width = min(max(r.max_col for r, _ in spanning), MAX_COLUMNS + 1)
    values = list(cells) + [None] * (width - len(cells))
    for r, owner in spanning:
        for col in range(r.min_col, min(r.max_col, width) + 1):
            values[col - 1] = owner if col == r.min_col else None
    return tuple(values)
