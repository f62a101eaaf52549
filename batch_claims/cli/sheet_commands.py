"""``validate`` (check a sheet offline and write its results workbook: exit 0 every
row valid, 1 some row not) and ``template`` (write the blank input workbook)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click

from batch_claims import __version__
from batch_claims.cli.console import Console
from batch_claims.cli.options import (
    EXISTING_FILE,
    NEW_FILE,
    config_option,
    output_options,
    settings_from,
    sheet_name_option,
    sheet_options,
)
from batch_claims.clock import SystemClock
from batch_claims.errors import InputError
from batch_claims.outcome import Status


@click.command("validate", short_help="Check a sheet and its files offline.")
@click.argument("sheet", type=EXISTING_FILE)
@sheet_name_option
@sheet_options
@config_option
@output_options("Also append the problems and the summary to this file.", "Only the summary line.")
def validate_command(
    sheet: Path,
    photos: Path | None,
    sheet_name: str | None,
    decimal_comma: bool | None,
    ticket_type: str | None,
    out: Path | None,
    config_file: Path | None,
    log_file: Path | None,
    quiet: bool,
) -> None:
    """Check SHEET offline and write the results workbook (valid/invalid per row)."""
    from batch_claims.cli.results import WorkbookSink
    from batch_claims.read.results import refuse_results_workbook
    from batch_claims.read.sheet import read_meanwhile
    from batch_claims.report.outputs import check_apart, results_path
    from batch_claims.send.interfaces import RunInfo
    from batch_claims.send.run import (
        WRITER_MODULES,
        checks_loaded,
        interrupt_while_reading,
        view_problems,
    )
    from batch_claims.validate.plain_files import read_ahead

    settings = settings_from(config_file, decimal_comma=decimal_comma, ticket_type=ticket_type)
    out = results_path(sheet, out, sheet_name=sheet_name)
    check_apart({"the input": sheet, "--out": out, "--log-file": log_file})
    console = Console(quiet=quiet, log_file=log_file)
    try:
        clock = SystemClock()
        started = clock.utcnow()
        if sheet_name is None:
            refuse_results_workbook(sheet)
        with interrupt_while_reading():
            # A big sheet is read meanwhile (``read_meanwhile``).
            index, table = read_meanwhile(
                sheet,
                sheet_name,
                settings.aliases,
                lambda: checks_loaded(sheet, photos, settings, *WRITER_MODULES),
                read_ahead,
            )
            from batch_claims.validate.attachments import sha256_of
            from batch_claims.validate.prepare import prepare, refuse_no_rows, validate

            prepared = prepare(sheet, index, settings, sheet_name, table, today=started.date())
            del index  # its listings weigh tens of MB at 50,000 rows: let them go
        refuse_no_rows(prepared.table)
        outcomes = validate(prepared)
        view_problems(console, prepared)
        facts = RunInfo(
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
        WorkbookSink(console, out).write(facts, prepared, outcomes)
    finally:
        console.close()
    sys.exit(0 if all(o.status is Status.VALID for o in outcomes) else 1)


@click.command("template", short_help="Write the blank input workbook.")
@click.argument("path", type=NEW_FILE, required=False)
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def template_command(path: Path | None, force: bool) -> None:
    """Write the blank input workbook to PATH (default: claims_template.xlsx); a PATH
    ending in .csv gets the header row as CSV. An existing file is never replaced without
    --force."""
    target = path or Path("claims_template.xlsx")
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
