"""``history``, ``resolve`` and ``unlock``: the journal commands that send nothing. The
send layer (``send/housekeeping.py``) does the work; this renders it. Every line of the
journal's text (tracking numbers from sheets, answers from the API) goes out through
``shown``: secrets masked, control characters made visible."""

from __future__ import annotations

from pathlib import Path

import click

from batch_claims.cli.options import config_option, journal_option, settings_from
from batch_claims.redact import shown


def _echo(message: str, err: bool = False) -> None:
    click.echo(shown(message), err=err)


@click.command("history", short_help="What the journal knows: tickets, attempts.")
@click.argument("tracking_number", required=False)
@config_option
@journal_option
def history_command(
    tracking_number: str | None, config_file: Path | None, journal: Path | None
) -> None:
    """What the journal knows: tickets, attempts, unconfirmed rows."""
    from batch_claims.send.housekeeping import history

    found = history(settings_from(config_file, journal=journal), tracking_number)
    _echo(f"journal {found.path} (account {found.account})", err=True)
    records = found.claims
    width = max([len("tracking_number"), *(len(r.tracking_number) for r in records)])
    if records:
        _echo(f"{'tracking_number':<{width}}  {'state':<11}  {'ticket_id':<36}  updated")
    for record in records:
        _echo(
            f"{record.tracking_number:<{width}}  {record.state:<11}  "
            f"{record.ticket_id or '-':<36}  {record.updated_at}"
        )
        for attempt in found.attempts.get(record.tracking_number, ()):
            _echo(
                f"  attempt {attempt.id} run {attempt.run_id[:8]} {attempt.started_at}"
                f" {attempt.state} http={attempt.http_status or '-'}"
                f" {attempt.detail or ''}".rstrip()
            )
    if found.unconfirmed and tracking_number is None:
        _echo(
            f"{found.unconfirmed} unconfirmed: check them in the Sendcloud panel, then "
            "`batch-claims resolve TRACKING_NUMBER --ticket-id ID` or `--not-created`"
        )


@click.command("resolve", short_help="Close an unconfirmed row after checking the panel.")
@click.argument("tracking_number")
@click.option("--ticket-id", help="The ticket you found in the Sendcloud panel.")
@click.option("--not-created", is_flag=True, help="No ticket exists: the row may be sent again.")
@click.option(
    "--ticket-type",
    "ticket_type",
    metavar="TYPE",
    help="The ticket type of the request (needed only when the parcel has unconfirmed "
    "requests of two types).",
)
@config_option
@journal_option
def resolve_command(
    tracking_number: str,
    ticket_id: str | None,
    not_created: bool,
    ticket_type: str | None,
    config_file: Path | None,
    journal: Path | None,
) -> None:
    """Close an unconfirmed row with what you found in the Sendcloud panel."""
    if bool(ticket_id) == not_created:
        raise click.UsageError("give exactly one of --ticket-id ID and --not-created")
    from batch_claims.send.housekeeping import resolve

    def opened(path: Path, account: str) -> None:
        click.echo(f"journal {path} (account {account})", err=True)

    from batch_claims.ticket_types import TicketType, ticket_type_of

    kind: TicketType | None = None
    if ticket_type is not None:
        kind = ticket_type_of(ticket_type)
        if kind is None:
            kinds = ", ".join(t.value for t in TicketType)
            raise click.BadParameter(f"expected one of {kinds}", param_hint="--ticket-type")
    settings = settings_from(config_file, journal=journal)
    resolved = resolve(settings, tracking_number, ticket_id, opened, kind)
    shown = "" if resolved is TicketType.DAMAGE else f" ({resolved} ticket)"
    click.echo(
        f"{tracking_number}{shown}: recorded "
        + (f"ticket {ticket_id}" if ticket_id else "not created (it may be sent again)")
    )


@click.command("unlock", short_help="Clear a run lock no process holds any more.")
@config_option
@journal_option
def unlock_command(config_file: Path | None, journal: Path | None) -> None:
    """Remove the record of a run lock its run left behind (it died, or its container
    is gone). Refused while a live process holds the lock: that run is still going."""
    from batch_claims.send.housekeeping import unlock

    path, removed = unlock(settings_from(config_file, journal=journal))
    if not removed:
        click.echo(f"the journal {path} was not locked: nothing to remove")
        return
    for held in removed:
        click.echo(
            f"warning: removed the lock of {held.describe()} on the journal {path}; no "
            "process held it. If that run stopped mid-request, its rows are unconfirmed: "
            "see `batch-claims history` and check the Sendcloud panel before sending "
            "them again",
            err=True,
        )
