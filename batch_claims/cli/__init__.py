"""The click commands: parse, build Settings, call the pipeline, render, map to an exit
code. No business logic lives here."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from batch_claims import __version__
from batch_claims.cli.console import Console, summary_line
from batch_claims.clock import SystemClock
from batch_claims.errors import InputError, Interrupted, JournalFailed, JournalLocked
from batch_claims.limits import Limit
from batch_claims.outcome import RowOutcome, Status
from batch_claims.redact import shown
from batch_claims.settings import Settings, build_settings, load_config

# The stages that load pandas, pandera, openpyxl or Flask are imported inside the
# commands that need them, so that --help, --version, history and resolve start at once.
if TYPE_CHECKING:
    from batch_claims.read.results import PreviousRun
    from batch_claims.read.table import SheetTable
    from batch_claims.report.workbook import ResultsFile, RunInfo
    from batch_claims.send.journal import Journal
    from batch_claims.send.submitter import StopSignal
    from batch_claims.validate.prepare import Prepared

F = TypeVar("F", bound=Callable[..., Any])
RUN_STILL_GOING = (
    "the run is still going: this workbook is refreshed every few minutes and replaced "
    "by the final one when the run ends"
)


class LimitType(click.ParamType):  # type: ignore[type-arg]
    """``N/SECONDS``; a bad value is a usage error (exit 2) before anything runs."""

    name = "N/SECONDS"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Limit:
        if isinstance(value, Limit):
            return value
        try:
            return Limit.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


LIMIT = LimitType()
CONFIG_HELP = "TOML config (default: batch-claims.toml in the working directory)."
JOURNAL_HELP = (
    "SQLite journal (default: the one of the API account whose key is in "
    "SENDCLOUD_PUBLIC_KEY, in the user data folder)."
)
SHARE = click.FloatRange(0, 1)
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def sheet_name_option(func: F) -> F:
    """--sheet: which worksheet holds the claims (not for retry: it reads 'Failed rows')."""
    decorator = click.option(
        "--sheet",
        "sheet_name",
        help="Worksheet name (default: the active sheet if it holds claims, else the one "
        "visible sheet that does).",
    )
    return decorator(func)


def sheet_options(func: F) -> F:
    """--photos, --decimal-comma, --out: where the files come from and the results go."""
    for decorator in reversed(
        [
            click.option(
                "--photos",
                type=click.Path(exists=True, file_okay=False, path_type=Path),
                help="Folder with the photos and documents (default: a 'photos' folder "
                "beside the sheet, if there is one).",
            ),
            click.option(
                "--decimal-comma/--decimal-point",
                "decimal_comma",
                default=None,
                help="How to read amounts like 1,234 (default: by their shape and the file).",
            ),
            click.option(
                "--out",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Results workbook, in a folder that exists (default: <sheet>.results.xlsx "
                "beside the input; for retry, the next <sheet>.results-N.xlsx).",
            ),
        ]
    ):
        func = decorator(func)
    return func


def config_options(func: F) -> F:
    """--config, --journal and the three rate limits."""
    for decorator in reversed(
        [
            click.option(
                "--config",
                "config_file",
                type=EXISTING_FILE,
                help="TOML config (default: batch-claims.toml in the working directory).",
            ),
            click.option(
                "--journal",
                type=click.Path(dir_okay=False, path_type=Path),
                help="SQLite journal (default: one per API account in the user data folder).",
            ),
            click.option("--ticket-limit", type=LIMIT, help="Ticket POSTs per window [15/60]."),
            click.option("--request-limit", type=LIMIT, help="All POSTs per window [100/60]."),
            click.option("--burst-limit", type=LIMIT, help="All POSTs per short window [15/1]."),
        ]
    ):
        func = decorator(func)
    return func


def run_options(func: F) -> F:
    """The options of the commands that send: submit and retry."""
    for decorator in reversed(
        [
            click.option(
                "--sandbox",
                is_flag=True,
                help="Start the local sandbox API in this process and send to it.",
            ),
            click.option(
                "--force",
                is_flag=True,
                help="Send rows the journal says already have a ticket (files a second "
                "claim), and rows held back as unchanged since the API refused them.",
            ),
            click.option(
                "--resubmit-unconfirmed",
                is_flag=True,
                help="Send rows whose earlier ticket request has an unknown outcome.",
            ),
            click.option(
                "--max-minutes",
                type=click.FloatRange(min=0, min_open=True),
                help="A hard slot for cron: no row or wait starts that could not end "
                "within this many minutes of the start; the rest stay not_attempted.",
            ),
            click.option(
                "--hold-back/--no-hold-back",
                "hold_back",
                default=None,
                help="Hold back rows refused earlier in the run for a reason they share "
                "(default), or send them anyway.",
            ),
            click.option(
                "--token-max-age",
                help="Reuse file tokens uploaded this long ago at most (default 24h).",
            ),
            click.option(
                "--limit-margin",
                type=click.FloatRange(min=0),
                help="Seconds added to every rate-limit window (clock/latency skew).",
            ),
            click.option(
                "--log-file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Also append the run's timestamped lines to this file.",
            ),
            click.option("--quiet", is_flag=True, help="No progress; only the summary line."),
        ]
    ):
        func = decorator(func)
    return func


EXAMPLES = """\b
Examples:
  # try it on the built-in sandbox (no account, no keys needed)
  batch-claims submit week48.xlsx --photos photos/ --sandbox
\b
  # check offline, then send with your Sendcloud API keys
  batch-claims validate week48.xlsx --photos photos/
  export SENDCLOUD_PUBLIC_KEY=... SENDCLOUD_SECRET_KEY=...
  batch-claims submit week48.xlsx --photos photos/
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXAMPLES)
@click.version_option(__version__, prog_name="batch-claims")
def cli() -> None:
    """File Sendcloud damage claims in bulk from a spreadsheet and a folder of photos.

    submit and retry send with your Sendcloud API keys, read from the environment
    variables SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY (validate, template and
    sandbox need none). `batch-claims COMMAND --help` tells a command's options.
    """


def _settings(config_file: Path | None, **flags: Any) -> Settings:
    return build_settings(load_config(config_file), **flags)


def _default_photos(sheet: Path, photos: Path | None, settings: Settings) -> Path | None:
    if photos is not None:
        return photos
    if settings.photos is not None:
        return settings.photos
    beside = sheet.parent / "photos"
    return beside if beside.is_dir() else None


def _limits_config(ticket: Limit, request: Limit, burst: Limit) -> dict[str, object]:
    """The sandbox's config for the same limits the client keeps."""
    return {
        "TICKET_LIMIT": (ticket.count, ticket.seconds),
        "REQUEST_LIMIT": (request.count, request.seconds),
        "BURST_LIMIT": (burst.count, burst.seconds),
    }


def _report(
    console: Console,
    out: Path | ResultsFile,
    info: RunInfo,
    prepared: Prepared,
    outcomes: list[RowOutcome],
) -> None:
    from batch_claims.report.workbook import ResultsFile

    results = out if isinstance(out, ResultsFile) else ResultsFile(out)
    asked = results.path
    target = results.write(info, prepared.table, outcomes)
    if target != asked:
        console.info(f"{asked} was changed while this run went on; it is kept as it is")
    console.result(summary_line(outcomes, target))


def _refuse_no_rows(table: SheetTable) -> None:
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


def _show_problems(console: Console, prepared: Prepared, limit: int = 20) -> None:
    table = prepared.table
    where = (
        f'sheet "{table.sheet_name}"'
        if table.sheet_name is not None
        else f"CSV ({table.encoding or 'utf-8'})"
    )
    console.info(
        f"read {table.source.name}, {where}: header on row {table.header_row}, "
        f"{len(table.rows)} data rows"
    )
    for notice in prepared.notices:
        console.info(notice)
    # A required column the sheet lacks is told once above, not once per row.
    problems = [
        error.message
        for item in prepared.items
        if isinstance(item, RowOutcome)
        for error in item.errors
        if not (error.code == "required" and error.column not in table.mapping)
    ]
    for message in problems[:limit]:
        console.info(message)
    if len(problems) > limit:
        console.info(f"… and {len(problems) - limit} more problems: see the results workbook")


@cli.command("validate", short_help="Check a sheet and its files offline.")
@click.argument("sheet", type=EXISTING_FILE)
@sheet_name_option
@sheet_options
@click.option(
    "--config",
    "config_file",
    type=EXISTING_FILE,
    help="TOML config (default: batch-claims.toml in the working directory).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append the problems and the summary to this file.",
)
@click.option("--quiet", is_flag=True, help="Only the summary line.")
def validate_command(
    sheet: Path,
    photos: Path | None,
    sheet_name: str | None,
    decimal_comma: bool | None,
    out: Path | None,
    config_file: Path | None,
    log_file: Path | None,
    quiet: bool,
) -> None:
    """Check SHEET offline and write the results workbook (valid/invalid per row)."""
    from batch_claims.read.results import refuse_results_workbook
    from batch_claims.report.outputs import check_apart, results_path
    from batch_claims.report.workbook import RunInfo
    from batch_claims.validate.attachments import sha256_of
    from batch_claims.validate.prepare import prepare, validate

    settings = _settings(config_file, decimal_comma=decimal_comma)
    out = results_path(sheet, out)
    check_apart({"the input": sheet, "--out": out, "--log-file": log_file})
    console = Console(quiet=quiet, log_file=log_file)
    clock = SystemClock()
    started = clock.utcnow()
    if sheet_name is None:
        refuse_results_workbook(sheet)
    with _interrupt_while_reading():
        prepared = prepare(sheet, _default_photos(sheet, photos, settings), settings, sheet_name)
    _refuse_no_rows(prepared.table)
    outcomes = validate(prepared)
    _show_problems(console, prepared)
    info = RunInfo(
        command="validate",
        started_at=started,
        finished_at=clock.utcnow(),
        input_name=sheet.name,
        input_sha256=sha256_of(sheet),
        base_url=None,
        tool_version=__version__,
        run_id=uuid.uuid4().hex,
        sheet_name=prepared.table.sheet_name,
        notices=prepared.notices,
        stats=dict(prepared.facts),
    )
    _report(console, out, info, prepared, outcomes)
    sys.exit(0 if all(o.status is Status.VALID for o in outcomes) else 1)


@cli.command("submit", short_help="Validate, upload files and create tickets.")
@click.argument("sheet", type=EXISTING_FILE)
@sheet_name_option
@sheet_options
@config_options
@run_options
@click.option("--dry-run", is_flag=True, help="Everything but the network: print the plan.")
def submit_command(sheet: Path, **options: Any) -> None:
    """Validate SHEET, then upload files and create a ticket for each valid row."""
    from batch_claims.read.results import refuse_results_workbook

    if options.get("sheet_name") is None:
        refuse_results_workbook(sheet)
    _submit(sheet, None, None, **options)


@cli.command("retry", short_help="Send again the corrected failed rows of a results workbook.")
@click.argument("results", type=EXISTING_FILE)
@sheet_options
@config_options
@run_options
@click.option("--dry-run", is_flag=True, help="Everything but the network: print the plan.")
def retry_command(results: Path, **options: Any) -> None:
    """Submit again the rows of RESULTS' 'Failed rows' sheet (as you corrected them).

    The new workbook (RESULTS' name with the next number: week48.results-2.xlsx, …)
    shows every row of the original sheet with its latest status and ticket."""
    from batch_claims.read.results import read_failed_rows, read_previous_run

    _submit(
        results,
        lambda settings: read_failed_rows(results, settings.aliases),
        results.name,
        previous=lambda: read_previous_run(results),
        sheet_name=None,
        **options,
    )


def _submit(
    sheet: Path,
    read_table: Callable[[Settings], SheetTable] | None,
    source_results: str | None,
    *,
    previous: Callable[[], PreviousRun] | None = None,
    photos: Path | None,
    sheet_name: str | None,
    decimal_comma: bool | None,
    out: Path | None,
    config_file: Path | None,
    journal: Path | None,
    ticket_limit: Limit | None,
    request_limit: Limit | None,
    burst_limit: Limit | None,
    sandbox: bool,
    force: bool,
    resubmit_unconfirmed: bool,
    max_minutes: float | None,
    hold_back: bool | None,
    token_max_age: str | None,
    limit_margin: float | None,
    log_file: Path | None,
    quiet: bool,
    dry_run: bool,
) -> None:
    """submit and retry share this: one implementation, two ways to get the rows.

    A wrong set-up (config, limits, credentials, base URL) stops here before the sheet
    is read (exit 2); a journal that fails before anything is sent is exit 2 too; what
    stops the run once sending began is exit 3, with the workbook written.
    """
    from batch_claims.api.client import check_base_url
    from batch_claims.read.results import check_account
    from batch_claims.report.outputs import check_apart, results_path
    from batch_claims.report.workbook import ResultsFile, RunInfo
    from batch_claims.send.holdback import HoldBack
    from batch_claims.send.journal import Journal
    from batch_claims.send.plan import dry_run_outcomes, plan
    from batch_claims.send.submitter import Submitter, connect, least_seconds_now
    from batch_claims.validate.attachments import sha256_of
    from batch_claims.validate.prepare import prepare

    clock = SystemClock()
    slot_start = clock.monotonic()  # --max-minutes counts from the command's start
    settings = _settings(
        config_file,
        journal=journal,
        ticket_limit=ticket_limit,
        request_limit=request_limit,
        burst_limit=burst_limit,
        decimal_comma=decimal_comma,
        hold_back=hold_back,
        token_max_age=token_max_age,
        limit_margin=limit_margin,
    )
    if not sandbox:
        if not dry_run:
            settings.require_credentials()
        else:
            settings.require_journal()
        check_base_url(settings.base_url, variable=settings.base_url_from)
    started = clock.utcnow()
    run_id = uuid.uuid4().hex
    out = results_path(sheet, out, retry=source_results is not None)
    check_apart(
        {"the input": sheet, "--out": out, "--journal": settings.journal, "--log-file": log_file}
    )
    console = Console(quiet=quiet, log_file=log_file)
    with ExitStack() as stack:
        stack.callback(console.close)
        input_sha256 = sha256_of(sheet)
        with _interrupt_while_reading():
            prepared = prepare(
                sheet,
                _default_photos(sheet, photos, settings),
                settings,
                sheet_name,
                read_table(settings) if read_table is not None else None,
            )
        if read_table is None:  # a retry may have nothing left to send; a sheet must
            _refuse_no_rows(prepared.table)
        if previous is not None:  # the rows not retried keep their status: one week
            prepared = prepared.with_earlier(previous())
        _show_problems(console, prepared)
        if sandbox:
            settings = _start_sandbox(stack, settings, journal is None)
            console.info(f"sandbox API at {settings.base_url}")
        if source_results is not None:  # its Failed rows sheet is known good by now
            check_account(sheet, settings.account)
        with _nothing_sent_yet():
            book = Journal(settings.journal_path(), clock.utcnow)
            stack.callback(book.close)
            account = _bind_account(book, settings)
        console.info(f"journal {book.path} (account {account})")

        def info(outcomes: list[RowOutcome], **extra: Any) -> RunInfo:
            return RunInfo(
                command="submit --dry-run"
                if dry_run
                else ("retry" if source_results else "submit"),
                started_at=started,
                finished_at=clock.utcnow(),
                input_name=sheet.name,
                input_sha256=input_sha256,
                base_url=settings.base_url,
                tool_version=__version__,
                run_id=run_id,
                account=account,
                journal=str(settings.journal_path()),
                sheet_name=prepared.table.sheet_name,
                source_results=source_results,
                notices=prepared.notices,
                stats={**prepared.facts, **extra},
            )

        try:
            with _nothing_sent_yet():
                notice = book.acquire_lock(
                    run_id, "retry" if source_results else "submit", sheet.name
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
            _report(console, out, info(outcomes), prepared, outcomes)
            raise
        stack.callback(_release_lock, book, run_id, console)
        if notice:
            console.info(notice)
        with _nothing_sent_yet():
            the_plan = plan(prepared, book, settings, force, resubmit_unconfirmed)
            # The least time counts the POSTs of earlier runs still in the windows.
            the_plan = replace(
                the_plan,
                least_seconds=least_seconds_now(
                    settings, book, clock, the_plan.tickets, the_plan.uploads
                ),
            )
        if dry_run:
            click.echo(the_plan.describe())
            with _nothing_sent_yet():
                outcomes = dry_run_outcomes(prepared, book, force, resubmit_unconfirmed)
            _report(console, out, info(outcomes), prepared, outcomes)
            ready = (Status.VALID, Status.ALREADY_SUBMITTED)
            sys.exit(0 if all(o.status in ready for o in outcomes) else 1)

        console.info(the_plan.describe())
        with _nothing_sent_yet():
            client = stack.enter_context(connect(settings, clock, book, console.waiting))
        results = ResultsFile(out)  # a long run refreshes it as it goes

        def refresh(outcomes: list[RowOutcome]) -> None:
            running = replace(info(outcomes), notices=(RUN_STILL_GOING, *prepared.notices))
            results.write(running, prepared.table, outcomes)

        submitter = Submitter(
            client,
            book,
            settings,
            clock,
            run_id,
            force=force,
            resubmit_unconfirmed=resubmit_unconfirmed,
            deadline=None if max_minutes is None else slot_start + max_minutes * 60,
            on_progress=console.row_done,
            fault=_crash_hook(os.environ.get("BATCH_CLAIMS_CRASH_AT")),
            hold_back=HoldBack(enabled=settings.hold_back),
            refresh=refresh,
        )
        console.start(len(prepared.items), "submitting")
        with _graceful_stop(submitter.stop, console):
            outcomes, aborted = submitter.run(prepared.items)
        console.stop()
        stats = {
            "rate_limited_429": client.stats.rate_limited,
            "retries": client.stats.retries,
            "files_uploaded": client.stats.uploads,
            "tickets_created": client.stats.tickets,
        }
        _report(console, results, info(outcomes, **stats), prepared, outcomes)
    if aborted is not None:
        raise aborted
    sys.exit(0 if all(o.status.has_ticket for o in outcomes) else 1)


@contextmanager
def _nothing_sent_yet(note: str = "; nothing was sent") -> Iterator[None]:
    """A journal failure before the first request: exit 2 (nothing was sent)."""
    try:
        yield
    except JournalFailed as exc:
        raise InputError(f"{exc.message}{note}") from None


def _bind_account(book: Journal, settings: Settings) -> str:
    """The account the journal serves: this run's, when its keys are known (a dry run
    without keys reads the journal it was given, and binds it to nothing)."""
    if settings.public_key or settings.sandbox:
        book.bind_account(settings.account)
        return settings.account
    return book.get_meta("account") or "unknown: SENDCLOUD_PUBLIC_KEY is not set"


def _release_lock(book: Journal, run_id: str, console: Console) -> None:
    try:
        book.release_lock(run_id)
    except JournalFailed as exc:
        console.info(f"{exc.message}; the next run takes its lock over")


def _start_sandbox(stack: ExitStack, settings: Settings, temp_journal: bool) -> Settings:
    from batch_claims.sandbox import serve

    server = stack.enter_context(
        serve(_limits_config(settings.ticket_limit, settings.request_limit, settings.burst_limit))
    )
    settings = settings.with_sandbox(server.base_url, server.token_url)
    if temp_journal:
        # The sandbox forgets its tickets when it stops, so its journal must too.
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="batch-claims-")))
        settings = replace(settings, journal=folder / "sandbox-journal.sqlite3")
    return settings


def _crash_hook(spec: str | None) -> Callable[[str], None]:
    """Test hook: ``BATCH_CLAIMS_CRASH_AT=POINT[:N]`` kills this process (SIGKILL, as a
    power cut would) the Nth time a row reaches POINT; see ``Submitter.fault``."""
    if not spec:
        return lambda point: None
    target, _, nth = spec.partition(":")
    remaining = [int(nth or 1)]

    def hook(point: str) -> None:
        if point == target:
            remaining[0] -= 1
            if remaining[0] == 0:
                os.kill(os.getpid(), signal.SIGKILL)

    return hook


@contextmanager
def _interrupt_while_reading() -> Iterator[None]:
    """Ctrl-C while the sheet and files are read: exit 3, nothing was sent."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted while reading the sheet; nothing was sent") from None


@contextmanager
def _graceful_stop(stop: StopSignal, console: Console) -> Iterator[None]:
    """Ctrl-C or SIGTERM: finish (and record) the request under way, mark the rest
    not_attempted, write the workbook, exit 3. A second signal stops at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.reason is not None:
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        stop.request(f"stopped by {name}")
        console.info(f"{name}: stopping after the request under way (again to stop now)")

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


@cli.command("history", short_help="What the journal knows: tickets, attempts.")
@click.argument("tracking_number", required=False)
@click.option("--config", "config_file", type=EXISTING_FILE, help=CONFIG_HELP)
@click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), help=JOURNAL_HELP)
def history_command(
    tracking_number: str | None, config_file: Path | None, journal: Path | None
) -> None:
    """What the journal knows: tickets, attempts, unconfirmed rows."""
    settings = _settings(config_file, journal=journal)
    path = settings.require_journal()
    if not path.exists():
        whose = f" (account {settings.account})" if settings.public_key else ""
        raise InputError(f"no journal at {path}{whose}: nothing was submitted with it")
    from batch_claims.send.journal import Journal

    book = Journal(path, SystemClock().utcnow)
    try:
        with _nothing_sent_yet(note=""):
            _history(book, path, tracking_number)
    finally:
        book.close()


def _echo(message: str, err: bool = False) -> None:
    """A line of the journal's text (tracking numbers from sheets, answers from the
    API): secrets masked, control characters made visible."""
    click.echo(shown(message), err=err)


def _history(book: Journal, path: Path, tracking_number: str | None) -> None:
    """Which journal and account, then its claims (and one claim's attempts)."""
    _echo(f"journal {path} (account {book.get_meta('account') or 'unknown'})", err=True)
    records = book.claims(tracking_number)
    if tracking_number is not None and not records:
        raise InputError(f"the journal {path} knows nothing of {tracking_number}")
    width = max([len("tracking_number"), *(len(r.tracking_number) for r in records)])
    if records:
        _echo(f"{'tracking_number':<{width}}  {'state':<11}  {'ticket_id':<36}  updated")
    for record in records:
        _echo(
            f"{record.tracking_number:<{width}}  {record.state:<11}  "
            f"{record.ticket_id or '-':<36}  {record.updated_at}"
        )
        if tracking_number is not None:
            for attempt in book.attempts(record.tracking_number):
                _echo(
                    f"  attempt {attempt.id} run {attempt.run_id[:8]} {attempt.started_at}"
                    f" {attempt.state} http={attempt.http_status or '-'}"
                    f" {attempt.detail or ''}".rstrip()
                )
    pending = book.unconfirmed()
    if pending and tracking_number is None:
        _echo(
            f"{len(pending)} unconfirmed: check them in the Sendcloud panel, then "
            "`batch-claims resolve TRACKING_NUMBER --ticket-id ID` or `--not-created`"
        )


@cli.command("resolve", short_help="Close an unconfirmed row after checking the panel.")
@click.argument("tracking_number")
@click.option("--ticket-id", help="The ticket you found in the Sendcloud panel.")
@click.option("--not-created", is_flag=True, help="No ticket exists: the row may be sent again.")
@click.option("--config", "config_file", type=EXISTING_FILE, help=CONFIG_HELP)
@click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), help=JOURNAL_HELP)
def resolve_command(
    tracking_number: str,
    ticket_id: str | None,
    not_created: bool,
    config_file: Path | None,
    journal: Path | None,
) -> None:
    """Close an unconfirmed row with what you found in the Sendcloud panel."""
    if bool(ticket_id) == not_created:
        raise click.UsageError("give exactly one of --ticket-id ID and --not-created")
    settings = _settings(config_file, journal=journal)
    path = settings.require_journal()
    if not path.exists():
        whose = f" (account {settings.account})" if settings.public_key else ""
        raise InputError(f"no journal at {path}{whose}")
    from batch_claims.send.journal import Journal

    book = Journal(path, SystemClock().utcnow)
    try:
        with _nothing_sent_yet(note=""):
            click.echo(
                f"journal {path} (account {book.get_meta('account') or 'unknown'})", err=True
            )
            book.resolve(tracking_number, "damage", ticket_id)
    finally:
        book.close()
    click.echo(
        f"{tracking_number}: recorded "
        + (f"ticket {ticket_id}" if ticket_id else "not created (it may be sent again)")
    )


@cli.command("unlock", short_help="Clear a run lock no process holds any more.")
@click.option("--config", "config_file", type=EXISTING_FILE, help=CONFIG_HELP)
@click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), help=JOURNAL_HELP)
def unlock_command(config_file: Path | None, journal: Path | None) -> None:
    """Remove the record of a run lock its run left behind (it died, or its container
    is gone). Refused while a live process holds the lock: that run is still going."""
    from batch_claims.send.journal import FileLock, LockHolder, lock_path

    settings = _settings(config_file, journal=journal)
    path = settings.require_journal()
    if not path.exists() and not lock_path(path).exists():
        raise InputError(f"no journal at {path}: nothing to unlock")
    lock = FileLock(str(path))
    with _nothing_sent_yet(note=""):
        holder = lock.try_take()
    if holder is not None:
        raise JournalLocked(
            f"the journal {path} is locked by a live run: {holder.describe()}; it is not "
            "unlocked — wait for that run to finish, or stop it (Ctrl-C) first"
        )
    try:
        left = [lock.holder()]
        if path.exists():
            from batch_claims.send.journal import Journal

            book = Journal(path, SystemClock().utcnow)
            try:
                with _nothing_sent_yet(note=""):
                    left.append(book.lock_record())
                    book.clear_lock_record()
            finally:
                book.close()
    finally:
        lock.release(remove=True)
    runs: dict[str, LockHolder] = {}
    for held in left:  # the lock file's record first: it names the command and input
        if held is not None:
            runs.setdefault(held.run_id, held)
    if not runs:
        click.echo(f"the journal {path} was not locked: nothing to remove")
        return
    for held in runs.values():
        click.echo(
            f"warning: removed the lock of {held.describe()} on the journal {path}; no "
            "process held it. If that run stopped mid-request, its rows are unconfirmed: "
            "see `batch-claims history` and check the Sendcloud panel before sending "
            "them again",
            err=True,
        )


@cli.command("template", short_help="Write the blank input workbook.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def template_command(path: Path | None, force: bool) -> None:
    """Write the blank input workbook to PATH (default: damage_claims_template.xlsx);
    a PATH ending in .csv gets the header row as CSV. An existing file is never replaced
    without --force."""
    target = path or Path("damage_claims_template.xlsx")
    if target.suffix.lower() not in (".xlsx", ".csv"):
        raise InputError(f"{target}: the template is written as .xlsx or .csv")
    if not target.parent.is_dir():
        raise InputError(f"{target}: the folder {target.parent} does not exist")
    if target.exists() and not force:
        raise InputError(
            f"{target} already exists and may hold your claims; it is not replaced — "
            "choose another name, or pass --force to replace it"
        )
    from batch_claims.report.template import write_template

    write_template(target)
    click.echo(f"template written to {target}")


@cli.command("sandbox", short_help="Serve the local Support API sandbox.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--ticket-limit",
    type=LIMIT,
    default="15/60",
    show_default=True,
    help="Ticket POSTs per window; more get 429.",
)
@click.option(
    "--request-limit",
    type=LIMIT,
    default="100/60",
    show_default=True,
    help="All POSTs per window; more get 429.",
)
@click.option(
    "--burst-limit",
    type=LIMIT,
    default="15/1",
    show_default=True,
    help="All POSTs per short window; more get 429.",
)
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Seconds per answer.")
@click.option("--error-rate", type=SHARE, default=0.0, help="Share of POSTs answered 500/503.")
@click.option("--rate-limit-burst-rate", type=SHARE, default=0.0, help="Share of spurious 429s.")
@click.option("--drop-rate", type=SHARE, default=0.0, help="Share of connections dropped.")
@click.option(
    "--lost-response-rate", type=SHARE, default=0.0, help="Share of tickets created, unanswered."
)
@click.option("--slow-rate", type=SHARE, default=0.0, help="Share of tickets answered late.")
@click.option(
    "--slow-seconds",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="How late a slow ticket is answered.",
)
@click.option(
    "--token-expires-in",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    help="Seconds an OAuth2 access token is valid.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the fault dice (repeatable)."
)
@click.option("--allow-remote", is_flag=True, help="Allow binding to a non-loopback host.")
def sandbox_command(
    host: str,
    port: int,
    ticket_limit: Limit,
    request_limit: Limit,
    burst_limit: Limit,
    latency: float,
    error_rate: float,
    rate_limit_burst_rate: float,
    drop_rate: float,
    lost_response_rate: float,
    slow_rate: float,
    slow_seconds: float,
    token_expires_in: float,
    seed: int,
    allow_remote: bool,
) -> None:
    """Serve the local Support API sandbox (Ctrl-C stops it)."""
    from batch_claims.sandbox.server import run_forever

    def announce(url: str) -> None:
        click.echo(f"sandbox API at {url}/api/v3 (any keys; public key 'bad' → 401); Ctrl-C stops")

    try:
        run_forever(
            {
                **_limits_config(ticket_limit, request_limit, burst_limit),
                "LATENCY": latency,
                "ERROR_RATE": error_rate,
                "RATE_LIMIT_BURST_RATE": rate_limit_burst_rate,
                "DROP_RATE": drop_rate,
                "LOST_RESPONSE_RATE": lost_response_rate,
                "SLOW_RATE": slow_rate,
                "SLOW_SECONDS": slow_seconds,
                "TOKEN_EXPIRES_IN": token_expires_in,
                "SEED": seed,
            },
            host=host,
            port=port,
            allow_remote=allow_remote,
            on_ready=announce,
        )
    except OSError as exc:
        raise InputError(f"cannot serve the sandbox on {host}:{port}: {exc.strerror}") from None


def main() -> None:
    cli(prog_name="batch-claims")
