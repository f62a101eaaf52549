"""The offline half of a row's journey: the sheet read, each row checked by its ticket
type and variant, its documents found — a valid ``Claim`` or an invalid ``RowOutcome``
per row (``Prepared``), with the notices about the sheet as a whole.

``prepare`` reads and checks everything without the network; ``validate`` turns that
into outcomes; sending is ``send/``'s. Nothing here prints.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

from batch_claims import forked
from batch_claims.columns import TRACKING_NUMBER, Variant
from batch_claims.errors import InputError
from batch_claims.heap import collector_paused
from batch_claims.outcome import (
    Attachment,
    Claim,
    ErrorCode,
    Item,
    RowError,
    RowOutcome,
    Status,
)
from batch_claims.read.headers import header_lookup
from batch_claims.read.results import PreviousRun
from batch_claims.read.sheet import read_sheet
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.settings import Settings
from batch_claims.ticket_types import TicketType
from batch_claims.validate.attachments import PhotoIndex, resolve_documents
from batch_claims.validate.coverage import lookalike_errors, missing_columns_notice
from batch_claims.validate.decimals import DecimalConvention, decimal_convention
from batch_claims.validate.evidence import (
    document_slots,
    evidence_checklist,
    shared_evidence_warnings,
)
from batch_claims.validate.photo_index import check_photos_folder
from batch_claims.validate.plain_files import read_on
from batch_claims.validate.rows import ParsedRow, reading_notices, validate_table
from batch_claims.validate.type_checks import sheet_type_notice
from batch_claims.validate.windows import Judged, window_notices, with_window

# From this many rows on, the rows' items are made in pieces of at least ``PIECE_ROWS``
# rows shared with a forked child (``forked.shared``): each process takes the next piece
# as it finishes one, and reads the child's items back between its own pieces.
BESIDE_ROWS = 2_000
PIECE_ROWS = 500
# A part of the rows' items, the notices about their files, their claim windows judged.
_Made = tuple[list[Item], list[str], list[Judged]]
T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    """The sheet, and per data row (in order) either a valid Claim or an invalid outcome."""

    table: SheetTable
    items: tuple[Item, ...]
    warnings: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)  # how the input was read
    # Told once at the top of the run and first in the Summary: what is wrong with the
    # sheet as a whole (a required column it lacks).
    sheet_problems: tuple[str, ...] = ()

    @property
    def claims(self) -> list[Claim]:
        return [item for item in self.items if isinstance(item, Claim)]

    def with_earlier(self, previous: PreviousRun) -> Prepared:
        """These rows (a retry's) with every other row of the earlier run, in row order."""
        table, items = previous.combined(self.table, self.items)
        return replace(self, table=table, items=items)

    @property
    def notices(self) -> tuple[str, ...]:
        """Everything to tell about the input, the sheet's own problems first."""
        return (*self.sheet_problems, *self.table.notices, *self.warnings)


def prepare(
    sheet: Path,
    photos: Path | PhotoIndex | None,
    settings: Settings,
    sheet_name: str | None = None,
    table: SheetTable | None = None,
    today: date | None = None,
) -> Prepared:
    """Read, validate and resolve attachments; no network. With ``today``, each valid
    row's claim window is judged from its dates (``windows``) and told in the notices.
    ``photos``: the photos folder, or the run's index of it (``PhotoIndex``, with what
    was read of it ahead: ``plain_files.read_ahead``).

    An unexpected error while checking one row makes that row ``invalid`` with the
    code ``internal_error``; the other rows are checked as usual. The cycle collector
    is paused meanwhile (``heap``).
    """
    with collector_paused():
        return _prepare(sheet, photos, settings, sheet_name, table, today)


def _prepare(
    sheet: Path,
    photos: Path | PhotoIndex | None,
    settings: Settings,
    sheet_name: str | None,
    table: SheetTable | None,
    today: date | None,
) -> Prepared:
    if table is None:
        table = read_sheet(sheet, sheet_name, settings.aliases)
    try:
        amounts = decimal_convention(table, settings.decimal_comma)
    except Exception:  # one odd cell must not cost the run: read amounts as configured
        amounts = DecimalConvention(settings.decimal_comma, inferred=False)
    lookup = header_lookup(settings.aliases)
    # The photos folder is listed once for the whole sheet (the caller's index, if given).
    index = photos if isinstance(photos, PhotoIndex) else PhotoIndex(photos)

    checks = (table, settings.default_variant, amounts.decimal_comma, settings.default_ticket_type)
    if len(table.rows) < BESIDE_ROWS or index.root is None:
        parsed_rows = _validated(*checks)
    else:  # the files not read ahead yet are read by a child meanwhile
        reading_on = functools.partial(read_on, index)
        parsed_rows, read = forked.alongside(reading_on, lambda: _validated(*checks))
        index.ahead.update(read.value if read is not None else {})
    # What needs every parsed row at once is taken now, so that each parsed row can go
    # as soon as its item is made (at 50,000 rows they weigh tens of megabytes).
    readings = reading_notices(table, [p for p in parsed_rows if isinstance(p, ParsedRow)])
    kinds = [
        (p.ticket_type, p.variant)
        if isinstance(p, ParsedRow) and p.ticket_type is not None and p.variant is not None
        else None
        for p in parsed_rows
    ]
    missing = missing_columns_notice(table, kinds, lookup)
    del kinds
    if len(parsed_rows) != len(table.rows):
        raise ValueError(f"{len(parsed_rows)} rows validated of {len(table.rows)}")
    pending = deque(zip(table.rows, parsed_rows, strict=True))
    del parsed_rows
    lookalikes = lookalike_errors(table, lookup)
    tracking_index = table.mapping.get(TRACKING_NUMBER)
    header_of = functools.cache(table.header_of)  # once per column, not once per message

    def made(rows: deque[tuple[SourceRow, ParsedRow | RowOutcome]]) -> _Made:
        """The items of ``rows`` (each let go once its item is made), the notices about
        their files and their claim windows judged."""
        items: list[Item] = []
        notices: list[str] = []
        judged: list[Judged] = []
        while rows:
            source, parsed = rows.popleft()
            if isinstance(parsed, RowOutcome):
                items.append(parsed)
                continue
            try:
                item = _item(
                    source,
                    parsed,
                    index,
                    table,
                    lookalikes.get(parsed.row, []),
                    notices,
                    header_of,
                )
                if isinstance(item, Claim) and today is not None:
                    item, told = with_window(item, parsed.dates, settings.windows, today)
                    judged.extend([told] if told is not None else [])
                items.append(item)
            except Exception as exc:
                items.append(internal_error(source.row, _shown(source.cells, tracking_index), exc))
        return items, notices, judged

    if len(pending) < BESIDE_ROWS:
        items, notices, judged = made(pending)
    else:
        # The rows' documents are found in pieces shared with a forked child (``forked``).
        if index.root is not None:
            index.listing(index.root)  # listed once, before the child copies the index
        size = max(PIECE_ROWS, -(-len(pending) // forked.MAX_PIECES))
        pieces = [deque(_taken(pending, size)) for _ in range(0, len(pending), size)]
        items, notices, judged = [], [], []
        for part in forked.shared(len(pieces), lambda number: made(pieces[number])):
            items += part[0]
            notices += part[1]
            judged += part[2]
        del pieces  # the child's rows, done there
    index.ahead.clear()  # the files read ahead that no row of this process took
    warnings = (
        *notices,
        *shared_evidence_warnings(items),
        *([amounts.notice] if amounts.notice else []),
        *readings,
        *window_notices(judged),
        *filter(
            None,
            [sheet_type_notice(table.sheet_name, table.ticket_type, settings.default_ticket_type)],
        ),
    )
    facts = {"decimal_convention": amounts.name}
    if table.encoding:
        facts["csv_encoding"] = table.encoding
    return Prepared(table, tuple(items), warnings, facts, (missing,) if missing else ())


def _taken(rows: deque[T], count: int) -> Iterator[T]:
    """The first ``count`` of ``rows`` (fewer at the end), taken off it."""
    for _ in range(min(count, len(rows))):
        yield rows.popleft()


def _item(
    source: SourceRow,
    parsed: ParsedRow,
    index: PhotoIndex,
    table: SheetTable,
    extra_errors: list[RowError],
    notices: list[str],
    header_of: Callable[[str], str],
) -> Item:
    """A valid Claim for one parsed row, or its invalid outcome; notices about its
    files (a flat file passed over for the parcel folder's) go to ``notices``."""
    errors: list[RowError] = [*parsed.errors, *extra_errors]
    attachments: dict[str, Attachment] = {}
    evidence = ""
    if parsed.tracking_number and parsed.variant is not None and parsed.ticket_type is not None:
        documents = document_slots(parsed.variant, parsed.ticket_type)
        attachments, problems, found_notices = resolve_documents(
            index.root,
            parsed.tracking_number,
            parsed.documents,
            documents.required,
            parsed.row,
            header_of,
            index,
            slots=documents.slots,
        )
        errors.extend(problems)
        notices.extend(found_notices)
        evidence = evidence_checklist(
            parsed.variant, attachments, problems, index.root, _resolved(index), parsed.ticket_type
        )
    variant = parsed.variant.value if parsed.variant is not None else ""
    ticket_type = parsed.ticket_type.value if parsed.ticket_type is not None else ""
    if (
        errors
        or parsed.tracking_number is None
        or parsed.variant is None
        or parsed.ticket_type is None
    ):
        tracking_index = table.mapping.get(TRACKING_NUMBER)
        return RowOutcome(
            row=parsed.row,
            # An unusable tracking number is still shown as the sheet has it.
            tracking_number=parsed.tracking_number or _shown(source.cells, tracking_index),
            contract_type=variant,
            ticket_type=ticket_type,
            status=Status.INVALID,
            error_code=(
                ErrorCode.INTERNAL_ERROR
                if any(e.code == ErrorCode.INTERNAL_ERROR for e in errors)
                else ErrorCode.INVALID
            ),
            error_detail="\n".join(e.message for e in errors),
            errors=tuple(errors),
            evidence=evidence,
        )
    return Claim(
        row=parsed.row,
        tracking_number=parsed.tracking_number,
        variant=parsed.variant,
        is_portal_claim=parsed.is_portal_claim,
        fields=dict(parsed.fields),
        attachments=attachments,
        evidence=evidence,
        ticket_type=parsed.ticket_type,
    )


def _validated(
    table: SheetTable,
    default_variant: Variant,
    decimal_comma: bool | None,
    default_type: TicketType,
) -> list[ParsedRow | RowOutcome]:
    """``validate_table`` of the whole table; when it fails unexpectedly, each row alone,
    so that only the rows that cause the failure become ``internal_error`` and the
    others are validated together again (their cross-row checks included)."""
    try:
        return list(validate_table(table, default_variant, decimal_comma, default_type))
    except Exception:
        pass
    tracking_index = table.mapping.get(TRACKING_NUMBER)
    alone: dict[int, ParsedRow | RowOutcome] = {}
    for source in table.rows:
        try:
            (alone[source.row],) = validate_table(
                replace(table, rows=(source,)), default_variant, decimal_comma, default_type
            )
        except Exception as exc:
            alone[source.row] = internal_error(
                source.row, _shown(source.cells, tracking_index), exc
            )
    good = tuple(s for s in table.rows if isinstance(alone[s.row], ParsedRow))
    try:
        together = validate_table(
            replace(table, rows=good), default_variant, decimal_comma, default_type
        )
        alone.update((parsed.row, parsed) for parsed in together)
    except Exception:
        pass  # keep each row's own result: only the cross-row checks are lost
    return [alone[source.row] for source in table.rows]


def internal_error(row: int, tracking_number: str, exc: BaseException) -> RowOutcome:
    """The outcome of a row whose check failed unexpectedly: invalid, never sent."""
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if len(reason) > 200:
        reason = reason[:199] + "…"
    message = (
        f"row {row}: this row could not be checked because of an unexpected error "
        f"({reason}); it was not sent and the other rows are not affected — please report "
        "this with the row's cells"
    )
    return RowOutcome(
        row=row,
        tracking_number=tracking_number,
        contract_type="",
        status=Status.INVALID,
        error_code=ErrorCode.INTERNAL_ERROR,
        error_detail=message,
        errors=(RowError(row, None, ErrorCode.INTERNAL_ERROR, message),),
    )


def _shown(cells: tuple[object, ...], index: int | None) -> str:
    if index is None or index >= len(cells) or cells[index] is None:
        return ""
    return str(cells[index])


def _resolved(index: PhotoIndex) -> Path | None:
    """The photos folder resolved once per run (None when there is none)."""
    if index.root is None:
        return None
    try:
        return index.resolved_root()
    except OSError:
        return index.root.resolve()


def validate(prepared: Prepared) -> list[RowOutcome]:
    """Outcomes of an offline check: ``valid`` or ``invalid`` per row."""
    return [
        item if isinstance(item, RowOutcome) else item.outcome(Status.VALID)
        for item in prepared.items
    ]


def default_photos(sheet: Path, photos: Path | None, settings: Settings) -> Path | None:
    """The photos folder: --photos, else the config's, else a 'photos' folder beside
    the sheet (if there is one). One that was given must be a folder that can be listed
    (``InputError`` otherwise, before the sheet is read)."""
    given = photos if photos is not None else settings.photos
    if given is not None:
        check_photos_folder(given)
        return given
    beside = sheet.parent / "photos"
    return beside if beside.is_dir() else None


def refuse_no_rows(table: SheetTable) -> None:
    """A sheet with a header and no claim rows is unusable input (exit 2), told plainly
    rather than as an empty results workbook."""
    if table.rows:
        return
    where = table.source.name
    if table.sheet_name is not None:
        where += f', sheet "{table.sheet_name}"'
    skipped = ""
    if table.skipped_rows:
        numbers = ", ".join(str(n) for n in table.skipped_rows[:10])
        more = ", …" if len(table.skipped_rows) > 10 else ""
        rows = "row {} holds" if len(table.skipped_rows) == 1 else "rows {} hold"
        skipped = (
            f" ({rows.format(numbers + more)} totals, notes or the template's example, no claims)"
        )
    raise InputError(
        f"{where}: the header is on row {table.header_row} but there are no claim rows "
        f"below it{skipped}; nothing was checked or sent"
    )
