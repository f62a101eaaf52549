"""submit and retry from checked settings to the last row: read and check the input,
start the built-in sandbox, open the journal and bind it to the account, take the run
lock (or, when another run holds it, write a workbook of not_attempted rows), plan, and
either describe the plan (``--dry-run``) or connect and send through the ``Submitter``
with Ctrl-C and SIGTERM turned into a graceful stop — in sheet order, or with ``--order
deadline`` the most urgent claim window first (``send_order``; the outcomes are put back
in sheet order).

It never prints and never writes a workbook itself: what to tell the user goes to a
``RunView`` and every results workbook to a ``ResultsSink`` (both the CLI's), so this
layer knows neither the console nor the workbook's format. The stages that load pandas,
openpyxl, requests or Flask are imported inside the functions that use them, so that the
CLI's other commands can take the small helpers here without them.

A wrong set-up (credentials, base URL) is refused by ``check_setup`` before anything is
read (exit 2); a journal that fails before anything is sent is exit 2 too
(``nothing_sent_yet``); what stops the run once sending began is returned as
``SendResult.aborted`` (exit 3), the workbook written first.
"""

from __future__ import annotations

import importlib
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

from batch_claims import __version__
from batch_claims.clock import Clock
from batch_claims.errors import InputError, Interrupted, JournalFailed, JournalLocked
from batch_claims.limits import Limit
from batch_claims.outcome import ErrorCode, Item, RowOutcome, Status
from batch_claims.send.interfaces import (
    ResultsSink,
    RunHooks,
    RunInfo,
    RunView,
    SendRequest,
    SendResult,
)
from batch_claims.settings import SendOrder, Settings

if TYPE_CHECKING:
    from batch_claims.read.table import SheetTable
    from batch_claims.send.journal import Journal
    from batch_claims.send.stopping import StopSignal
    from batch_claims.validate.photo_index import PhotoIndex
    from batch_claims.validate.prepare import Prepared

# Loaded while a big sheet is read (``read_meanwhile``): what a run needs after, the
# results workbook's writer (and XlsxWriter, which it loads when it starts) for every
# command that reads a sheet; the submitter (and the HTTP client) unless a dry run.
WRITER_MODULES = ("batch_claims.report.workbook", "xlsxwriter")
_PLAN_MODULES = ("batch_claims.send.journal", "batch_claims.send.plan", *WRITER_MODULES)
_SEND_MODULES = ("batch_claims.send.submitter", *_PLAN_MODULES)

RUN_STILL_GOING = (
    "the run is still going: this workbook is refreshed every few minutes and replaced "
    "by the final one when the run ends"
)


def check_setup(settings: Settings, *, sandbox: bool, dry_run: bool) -> None:
    """Refuse a set-up that cannot send (exit 2) before the sheet is read: missing
    credentials (a dry run needs only a journal), a base URL that is not usable."""
    from batch_claims.netloc import check_base_url

    if sandbox:
        return
    if not dry_run:
        settings.require_credentials()
    else:
        settings.require_journal()
    check_base_url(settings.base_url, variable=settings.base_url_from)


def send(
    settings: Settings,
    request: SendRequest,
    view: RunView,
    sink: ResultsSink,
    clock: Clock,
    *,
    slot_start: float | None = None,
    hooks: RunHooks | None = None,
) -> SendResult:
    """Run submit or retry to its end; ``slot_start`` (``clock.monotonic()``) is when
    the command started, which ``--max-minutes`` counts from."""
    from batch_claims.read.results import check_account, read_failed_rows, read_previous_run
    from batch_claims.read.sheet import read_meanwhile
    from batch_claims.validate.plain_files import read_ahead

    slot_start = clock.monotonic() if slot_start is None else slot_start
    started = clock.utcnow()
    run_id = uuid.uuid4().hex
    sheet, loaded = request.sheet, _PLAN_MODULES if request.dry_run else _SEND_MODULES
    with ExitStack() as stack:
        with interrupt_while_reading():
            table: SheetTable | None
            if request.retry:
                photos = checks_loaded(sheet, request.photos, settings)
                table = read_failed_rows(sheet, settings.aliases)
            else:  # a big sheet is read meanwhile (``read_meanwhile``)
                photos, table = read_meanwhile(
                    sheet,
                    request.sheet_name,
                    settings.aliases,
                    lambda: checks_loaded(sheet, request.photos, settings, *loaded),
                    read_ahead,
                )
            from batch_claims.send.journal import Journal
            from batch_claims.send.plan import dry_run_outcomes, least_seconds_now, plan
            from batch_claims.validate.attachments import sha256_of
            from batch_claims.validate.prepare import prepare, refuse_no_rows

            input_sha256 = sha256_of(sheet)
            prepared = prepare(
                sheet, photos, settings, request.sheet_name, table, today=started.date()
            )
            del photos  # its listings weigh tens of MB at 50,000 rows: let them go
        if not request.retry:  # a retry may have nothing left to send; a sheet must
            refuse_no_rows(prepared.table)
        else:  # the rows not retried keep their status: one week, one workbook
            prepared = prepared.with_earlier(read_previous_run(sheet))
        view_problems(view, prepared)
        if request.sandbox:
            settings = _start_sandbox(stack, settings, request.temp_journal)
            view.info(f"sandbox API at {settings.base_url}")
        if request.retry:  # its Failed rows sheet is known good by now
            check_account(sheet, settings.account)
        with nothing_sent_yet():
            book = Journal(settings.journal_path(), clock.utcnow)
            stack.callback(book.close)
            account = _bind_account(book, settings)
        view.info(f"journal {book.path} (account {account})")

        def facts(outcomes: Sequence[RowOutcome], **stats: int) -> RunInfo:
            return RunInfo(
                command=request.command,
                started_at=started,
                finished_at=clock.utcnow(),
                input_name=sheet.name,
                input_sha256=input_sha256,
                run_id=run_id,
                base_url=settings.base_url,
                tool_version=__version__,
                account=account,
                journal=str(settings.journal_path()),
                sheet_name=prepared.table.sheet_name,
                source_results=sheet.name if request.retry else None,
                notices=prepared.notices,
                stats={**prepared.facts, **stats},
            )

        try:
            with nothing_sent_yet():
                notice = book.acquire_lock(
                    run_id, "retry" if request.retry else "submit", sheet.name
                )
        except JournalLocked as exc:
            # Exit 3 still leaves a workbook: every row to send is not_attempted.
            reason = f"not attempted: {exc.message}"
            outcomes = [
                item
                if isinstance(item, RowOutcome)
                else item.outcome(Status.NOT_ATTEMPTED, error_detail=reason)
                for item in prepared.items
            ]
            sink.write(facts(outcomes), prepared, outcomes)
            raise
        stack.push(_lock_release(book, run_id, view))
        if notice:
            view.info(notice)
        force, again = request.force, request.resubmit_unconfirmed
        with nothing_sent_yet():
            the_plan = plan(prepared, book, settings, force, again)
            # The least time counts the POSTs of earlier runs still in the windows.
            least = least_seconds_now(settings, book, clock, the_plan.tickets, the_plan.uploads)
            the_plan = replace(the_plan, least_seconds=least)
        if request.dry_run:
            view.show_plan(the_plan.describe())
            outcomes = dry_run_outcomes(prepared, the_plan)
            sink.write(facts(outcomes), prepared, outcomes)
            return SendResult(outcomes, dry_run=True, kept=prepared)

        view.info(the_plan.describe())
        from batch_claims.send.holdback import HoldBack
        from batch_claims.send.submitter import Submitter, connect

        with nothing_sent_yet():
            client = stack.enter_context(
                connect(settings, clock, book, view.waiting, view.retrying)
            )

        order = send_order(prepared.items, settings.order)
        if settings.order is SendOrder.DEADLINE:
            view.info(
                "order: the earliest claim deadline first, rows without a deadline last "
                "(the results stay in sheet order)"
            )

        def refresh(outcomes: list[RowOutcome]) -> None:
            outcomes = in_sheet_order(outcomes, order)
            running = replace(facts(outcomes), notices=(RUN_STILL_GOING, *prepared.notices))
            sink.write(running, prepared, outcomes, running=True)

        minutes = request.max_minutes
        submitter = Submitter(
            client,
            book,
            settings,
            clock,
            run_id,
            force=force,
            resubmit_unconfirmed=again,
            deadline=None if minutes is None else slot_start + minutes * 60,
            on_progress=view.row_done,
            fault=(hooks or RunHooks()).fault,
            hold_back=HoldBack(enabled=settings.hold_back),
            refresh=refresh,
        )
        view.start(len(prepared.items), "submitting")
        with graceful_stop(submitter.stop, view):
            sent, aborted = submitter.run([prepared.items[i] for i in order])
        outcomes = in_sheet_order(sent, order)
        view.stop()
        stats = client.stats
        counted = facts(
            outcomes,
            rate_limited_429=stats.rate_limited,
            retries=stats.retries,
            files_uploaded=stats.uploads,
            tickets_created=stats.tickets,
        )
        sink.write(counted, prepared, outcomes)
    return SendResult(outcomes, aborted, kept=prepared)


def send_order(items: Sequence[Item], order: SendOrder) -> list[int]:
    """The positions of ``items`` in the order they are handed to the ``Submitter``: the
    sheet's, or the most urgent claim deadline first (``--order deadline``). Only the
    order changes: the journal, the hold-back and the plan see the same claims."""
    if order is SendOrder.SHEET:
        return list(range(len(items)))
    from batch_claims.validate.windows import deadline_order

    return deadline_order(items)


def in_sheet_order(outcomes: Sequence[RowOutcome], order: Sequence[int]) -> list[RowOutcome]:
    """Outcomes given in the order ``order`` sent them, back in the sheet's order."""
    placed: dict[int, RowOutcome] = dict(zip(order, outcomes, strict=True))
    return [placed[position] for position in range(len(outcomes))]


def view_problems(view: RunView, prepared: Prepared, limit: int = 20) -> None:
    """How the sheet was read, its notices, and its first ``limit`` row problems."""
    table = prepared.table
    where = (
        f'sheet "{table.sheet_name}"'
        if table.sheet_name is not None
        else f"CSV ({table.encoding or 'utf-8'})"
    )
    view.info(
        f"read {table.source.name}, {where}: header on row {table.header_row}, "
        f"{len(table.rows)} data rows"
    )
    for notice in prepared.notices:
        view.info(notice)
    # A required column the sheet lacks is told once above, not once per row.
    problems = [
        error.message
        for item in prepared.items
        if isinstance(item, RowOutcome)
        for error in item.errors
        if not (error.code is ErrorCode.REQUIRED and error.column not in table.mapping)
    ]
    for message in problems[:limit]:
        view.info(message)
    if len(problems) > limit:
        view.info(f"… and {len(problems) - limit} more problems: see the results workbook")


def sandbox_limits(ticket: Limit, request: Limit, burst: Limit) -> dict[str, object]:
    """The sandbox's config for the same limits the client keeps."""
    return {
        "TICKET_LIMIT": (ticket.count, ticket.seconds),
        "REQUEST_LIMIT": (request.count, request.seconds),
        "BURST_LIMIT": (burst.count, burst.seconds),
    }


@contextmanager
def nothing_sent_yet(note: str = "; nothing was sent") -> Iterator[None]:
    """A journal failure before the first request: exit 2 (nothing was sent)."""
    try:
        yield
    except JournalFailed as exc:
        raise InputError(f"{exc.message}{note}") from None


def checks_loaded(sheet: Path, photos: Path | None, settings: Settings, *also: str) -> PhotoIndex:
    """The photos folder's index (``default_photos``: an ``InputError`` before any row is
    checked when one given is unusable), once what checks the rows is loaded (pandera's
    backends too) and the modules in ``also`` (what the run needs after the read)."""
    from batch_claims.validate.photo_index import PhotoIndex
    from batch_claims.validate.prepare import default_photos
    from batch_claims.validate.schema import load_backends

    for module in also:
        importlib.import_module(module)
    index = PhotoIndex(default_photos(sheet, photos, settings))
    load_backends()
    return index


@contextmanager
def interrupt_while_reading() -> Iterator[None]:
    """Ctrl-C while the sheet and files are read: exit 3, nothing was sent."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted while reading the sheet; nothing was sent") from None


@contextmanager
def graceful_stop(stop: StopSignal, view: RunView) -> Iterator[None]:
    """Ctrl-C or SIGTERM: finish (and record) the request under way, mark the rest
    not_attempted, write the workbook, exit 3. A second signal stops at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.reason is not None:
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        stop.request(f"stopped by {name}")
        view.info(f"{name}: stopping after the request under way (again to stop now)")

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread (e.g. under a test runner's thread)
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _bind_account(book: Journal, settings: Settings) -> str:
    """The account the journal serves: this run's, when its keys are known (a dry run
    without keys reads the journal it was given, and binds it to nothing)."""
    if settings.public_key or settings.sandbox:
        book.bind_account(settings.account)
        return settings.account
    return book.get_meta("account") or "unknown: SENDCLOUD_PUBLIC_KEY is not set"


def _lock_release(
    book: Journal, run_id: str, view: RunView
) -> Callable[[type[BaseException] | None, BaseException | None, TracebackType | None], bool]:
    """The run's last step: release its lock. A journal that fails here after a run that
    went well (damage only the lock's own pages hold) stops it with exit 3 like any
    journal failure; after a run that already failed, the first failure is the one told."""

    def release(
        kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        try:
            book.release_lock(run_id)
        except JournalFailed as failed:
            if exc is None:
                raise
            view.info(f"{failed.message}; the next run takes its lock over")
        return False

    return release


def _start_sandbox(stack: ExitStack, settings: Settings, temp_journal: bool) -> Settings:
    from batch_claims.sandbox import serve

    limits = sandbox_limits(settings.ticket_limit, settings.request_limit, settings.burst_limit)
    server = stack.enter_context(serve(limits))
    settings = settings.with_sandbox(server.base_url, server.token_url)
    if temp_journal:
        # The sandbox forgets its tickets when it stops, so its journal must too.
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="batch-claims-")))
        settings = replace(settings, journal=folder / "sandbox-journal.sqlite3")
    return settings
