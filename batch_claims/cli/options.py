"""Every option of the commands, declared once: one decorator per group (where the sheet
is, the config and journal, the rate limits, what a sending run may do, what it tells),
reused by each command that takes it. A bad value is a usage error (exit 2) before
anything runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from batch_claims.limits import Limit
from batch_claims.settings import Settings, build_settings, load_config

F = TypeVar("F", bound=Callable[..., Any])

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
NEW_FILE = click.Path(dir_okay=False, path_type=Path)
SHARE = click.FloatRange(0, 1)


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


def _all(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """The decorators applied in the order given (the first is the first in --help)."""

    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def settings_from(config_file: Path | None, **flags: Any) -> Settings:
    """The settings of a command: the config file, then the flags given."""
    return build_settings(load_config(config_file), **flags)


sheet_name_option = click.option(
    "--sheet",
    "sheet_name",
    help="Worksheet name (default: the active sheet if it holds claims, else the one "
    "visible sheet that does).",
)

sheet_options = _all(
    click.option(
        "--photos",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Folder with the photos and documents (default: a 'photos' folder "
        "beside the sheet, if there is one).",
    ),
    click.option(
        "--ticket-type",
        "ticket_type",
        metavar="TYPE",
        help="Ticket type of the rows whose ticket_type cell is blank on a sheet whose name "
        "names no type: damage (default), lost, delivered-but-not-received, delay, "
        "late-delivery, unjust-return, address-change or other.",
    ),
    click.option(
        "--decimal-comma/--decimal-point",
        "decimal_comma",
        default=None,
        help="How to read amounts like 1,234 (default: by their shape and the file).",
    ),
    click.option(
        "--out",
        type=NEW_FILE,
        help="Results workbook, in a folder that exists (default: <sheet>.results.xlsx "
        "beside the input; for retry, the next <sheet>.results-N.xlsx).",
    ),
)

config_option = click.option(
    "--config",
    "config_file",
    type=EXISTING_FILE,
    help="TOML config (default: batch-claims.toml in the working directory).",
)

journal_option = click.option(
    "--journal",
    type=NEW_FILE,
    help="SQLite journal (default: the one of the API account whose key is in "
    "SENDCLOUD_PUBLIC_KEY, in the user data folder).",
)


def limit_options(sandbox: bool = False) -> Callable[[F], F]:
    """--ticket-limit, --request-limit, --burst-limit: the client's windows (default:
    the config's, else Sendcloud's), or with ``sandbox`` the sandbox's own (shown)."""
    windows = (
        ("--ticket-limit", "Ticket POSTs per window", "15/60"),
        ("--request-limit", "All POSTs per window", "100/60"),
        ("--burst-limit", "All POSTs per short window", "15/1"),
    )
    return _all(
        *(
            click.option(
                flag,
                type=LIMIT,
                default=default if sandbox else None,
                show_default=sandbox,
                help=f"{what}; more get 429." if sandbox else f"{what} [{default}].",
            )
            for flag, what, default in windows
        )
    )


def output_options(log_file_help: str, quiet_help: str) -> Callable[[F], F]:
    """--log-file and --quiet, told in the command's own words."""
    return _all(
        click.option("--log-file", type=NEW_FILE, help=log_file_help),
        click.option("--quiet", is_flag=True, help=quiet_help),
    )


dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Everything but the network: print the plan."
)

run_options = _all(
    config_option,
    journal_option,
    limit_options(),
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
        "--order",
        type=click.Choice(["sheet", "deadline"]),
        help="The order claims are sent in: the sheet's (default), or the earliest "
        "claim deadline (delivered_at plus the type's window) first, rows without one "
        "last; the results stay in sheet order.",
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
    output_options(
        "Also append the run's timestamped lines to this file.",
        "No progress; only the summary line.",
    ),
    dry_run_option,
)
