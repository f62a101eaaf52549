"""Which sheet of a workbook is read.

Without ``--sheet``: hidden and very hidden sheets are never read. Of the visible
sheets whose header row ``table.find_header`` finds, one with data rows beats one
without; then a claims table (a header that names a known column besides the tracking
number) beats a lone tracking-number column, whose rows count as data only where they
do not name a column (a legend listing the columns is no data). Among the best the
workbook's active sheet wins, else the only one; two or more with data and none active
stop the run with a request for ``--sheet`` (never a guess); without data the first is
read. One notice says which sheet was read and why each other one was passed over. The
active sheet is examined first, and when it holds claims no other sheet is read but
those named by a ticket type.

A sheet named by a ticket type ("Lost", "Verloren", "Damage", ``ticket_type_of``) says
the type of its rows whose ``ticket_type`` cell is blank (``SheetTable.ticket_type``,
with a notice). Such a sheet is a kind of claims of its own, never an older week: when
it holds claims and another visible sheet does too, the run stops (exit 2) listing them
and saying to run once per sheet with ``--sheet NAME`` or to put the claims on one
sheet with a ``ticket_type`` column, rather than file one sheet and leave the others.

``--sheet NAME`` reads that sheet (exactly, else ignoring case), hidden or not (with a
notice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from batch_claims.columns import TICKET_TYPE, TRACKING_NUMBER, normalise_header
from batch_claims.errors import InputError
from batch_claims.read.book import SheetPart
from batch_claims.read.headers import near_miss
from batch_claims.read.table import SheetTable, no_header, scanned_to_the_limit
from batch_claims.ticket_types import ticket_type_of


@dataclass(frozen=True)
class Examined:
    """What one worksheet holds, as far as choosing a sheet goes (``xlsxfile.examine``)."""

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


Examine = Callable[[SheetPart], Examined]


def read_named(
    path: Path,
    sheets: Sequence[SheetPart],
    sheet_name: str,
    lookup: Mapping[str, str],
    examine: Examine,
) -> SheetTable:
    """The sheet ``--sheet`` names (exactly, else ignoring case), hidden or not."""
    chosen = [ws for ws in sheets if ws.title == sheet_name] or [
        ws for ws in sheets if ws.title.casefold() == sheet_name.strip().casefold()
    ]
    if not chosen:
        listed = _quoted(ws.title for ws in sheets)
        raise InputError(f'{path.name}: no sheet named "{sheet_name}" (sheets: {listed})')
    worksheet = chosen[0]
    found = examine(worksheet)
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
    table = with_sheet_type(found.table)
    if worksheet.state == "visible":
        return table
    notice = f'read hidden sheet "{found.title}" (named by --sheet)'
    return replace(table, notices=(notice, *table.notices))


def choose(
    path: Path,
    sheets: Sequence[SheetPart],
    active_title: str | None,
    lookup: Mapping[str, str],
    examine: Examine,
) -> SheetTable:
    """The visible sheet that holds the claims (see the module's docstring)."""
    visible = [ws for ws in sheets if ws.state == "visible"]
    hidden = [ws.title for ws in sheets if ws.state != "visible"]
    if not visible:
        raise InputError(
            f"{path.name}: every sheet is hidden ({_quoted(hidden)}); "
            "name the one to read with --sheet NAME"
        )
    active = next((ws for ws in visible if ws.title == active_title), None)
    first = examine(active) if active is not None else None
    if first is not None and first.table is not None and first.rank(lookup) == 3:
        typed = [examine(ws) for ws in visible if ws is not active and _typed(ws.title)]
        _refuse_type_sheets(path, [first, *typed], lookup)
        others = [ws.title for ws in visible if ws is not active]
        passed = [(title, "not the active sheet") for title in others]
        return _with_choice(with_sheet_type(first.table), "the active sheet", passed, hidden)
    found = [first if ws is active and first is not None else examine(ws) for ws in visible]
    for sheet in found:
        if sheet.error is not None and sheet.strong:
            raise sheet.error
    tables = [sheet for sheet in found if sheet.table is not None]
    if not tables:
        _raise_no_table(path, found, hidden, lookup)
    _refuse_type_sheets(path, tables, lookup)
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
    return _with_choice(with_sheet_type(chosen.table), why, passed, hidden)


def _typed(title: str) -> bool:
    return ticket_type_of(title) is not None


def _refuse_type_sheets(path: Path, sheets: Sequence[Examined], lookup: Mapping[str, str]) -> None:
    """Stop when sheets named by a ticket type hold claims beside another sheet with
    claims: one run reads one sheet, and none of them may be passed over unsaid."""
    holding = [sheet for sheet in sheets if sheet.has_data(lookup)]
    typed = [(sheet.title, ticket_type_of(sheet.title)) for sheet in holding]
    named = [(title, kind) for title, kind in typed if kind is not None]
    if len(holding) < 2 or not named:
        return
    which = " and ".join(f'"{title}" ({kind})' for title, kind in named)
    verb = "is" if len(named) == 1 else "are"
    raise InputError(
        f"{path.name}: {len(holding)} sheets hold claims ({_quoted(t for t, _ in typed)}), "
        f"and {which} {verb} named by a ticket type; one run reads one sheet — run once per "
        f'sheet with --sheet NAME (e.g. --sheet "{named[0][0]}"; each run writes its own '
        "results workbook), or put the claims on one sheet with a ticket_type column"
    )


def with_sheet_type(table: SheetTable) -> SheetTable:
    """The table with the ticket type its sheet's name says, if any, and a notice when
    rows rely on it (their ``ticket_type`` cell is blank or there is no such column)."""
    kind = ticket_type_of(table.sheet_name or "")
    if kind is None:
        return table
    table = replace(table, ticket_type=kind)
    index = table.mapping.get(TICKET_TYPE)
    blank = sum(1 for row in table.rows if index is None or _blank(row.cells[index]))
    if not blank:
        return table
    rows = "1 row" if blank == 1 else f"{blank} rows"
    where = "has no ticket_type" if blank == 1 else "have no ticket_type"
    notice = (
        f'{rows} of sheet "{table.sheet_name}" {where}: taken as {kind} claims, '
        "as the sheet's name says"
    )
    return replace(table, notices=(*table.notices, notice))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_WHY = {
    3: "the only sheet with claims",
    2: "the only sheet with data rows",
    1: "the only claims table",
    0: "the only sheet with a tracking number column",
}


def _passed_reason(path: Path, sheet: Examined, chosen: Examined, lookup: Mapping[str, str]) -> str:
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
    path: Path, found: Sequence[Examined], hidden: Sequence[str], lookup: Mapping[str, str]
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
