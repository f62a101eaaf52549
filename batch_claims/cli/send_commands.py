"""``submit`` and ``retry``: their options become Settings and a ``SendRequest``, the
send layer's ``send`` runs it with the console and the results workbook, and its result
becomes the exit code (0 every row has a ticket, 1 some row has not, 3 the run stopped).

The crash points of a row (``Submitter.fault``) are a no-op here; only a test installs
another hook, as the ``RunHooks`` context object (``tests/crash_entry.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from batch_claims.cli.console import Console
from batch_claims.cli.options import (
    EXISTING_FILE,
    run_options,
    settings_from,
    sheet_name_option,
    sheet_options,
)
from batch_claims.clock import SystemClock
from batch_claims.limits import Limit


@click.command("submit", short_help="Validate, upload files and create tickets.")
@click.argument("sheet", type=EXISTING_FILE)
@sheet_name_option
@sheet_options
@run_options
def submit_command(sheet: Path, **options: Any) -> None:
    """Validate SHEET, then upload files and create a ticket for each valid row."""
    from batch_claims.read.results import refuse_results_workbook

    if options.get("sheet_name") is None:
        refuse_results_workbook(sheet)
    _send(sheet, retry=False, **options)


@click.command("retry", short_help="Send again the corrected failed rows of a results workbook.")
@click.argument("results", type=EXISTING_FILE)
@sheet_options
@run_options
def retry_command(results: Path, **options: Any) -> None:
    """Submit again the rows of RESULTS' 'Failed rows' sheet (as you corrected them).

    The new workbook (RESULTS' name with the next number: week48.results-2.xlsx, …)
    shows every row of the original sheet with its latest status and ticket."""
    _send(results, retry=True, sheet_name=None, **options)


def _send(
    sheet: Path,
    *,
    retry: bool,
    photos: Path | None,
    sheet_name: str | None,
    decimal_comma: bool | None,
    ticket_type: str | None,
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
    order: str | None,
    hold_back: bool | None,
    token_max_age: str | None,
    limit_margin: float | None,
    log_file: Path | None,
    quiet: bool,
    dry_run: bool,
) -> None:
    """submit and retry share this: one run, two ways to get the rows."""
    from batch_claims.cli.results import WorkbookSink
    from batch_claims.report.outputs import check_apart, results_path
    from batch_claims.send.interfaces import RunHooks, SendRequest
    from batch_claims.send.run import check_setup, send

    clock = SystemClock()
    slot_start = clock.monotonic()  # --max-minutes counts from the command's start
    settings = settings_from(
        config_file,
        journal=journal,
        ticket_limit=ticket_limit,
        request_limit=request_limit,
        burst_limit=burst_limit,
        decimal_comma=decimal_comma,
        ticket_type=ticket_type,
        hold_back=hold_back,
        order=order,
        token_max_age=token_max_age,
        limit_margin=limit_margin,
    )
    check_setup(settings, sandbox=sandbox, dry_run=dry_run)
    out = results_path(sheet, out, retry=retry, sheet_name=sheet_name)
    check_apart(
        {"the input": sheet, "--out": out, "--journal": settings.journal, "--log-file": log_file}
    )
    request = SendRequest(
        sheet=sheet,
        out=out,
        photos=photos,
        sheet_name=sheet_name,
        retry=retry,
        sandbox=sandbox,
        temp_journal=sandbox and journal is None,
        force=force,
        resubmit_unconfirmed=resubmit_unconfirmed,
        dry_run=dry_run,
        max_minutes=max_minutes,
    )
    hooks = click.get_current_context().find_object(RunHooks)
    console = Console(quiet=quiet, log_file=log_file)
    try:
        result = send(
            settings,
            request,
            console,
            WorkbookSink(console, out),
            clock,
            slot_start=slot_start,
            hooks=hooks,
        )
    finally:
        console.close()
    if result.aborted is not None:
        raise result.aborted
    sys.exit(0 if result.all_done else 1)
