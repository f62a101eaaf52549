"""The ``batch-claims`` command line: the group, its commands and ``main``.

A command parses its options (``options.py``), builds the Settings, calls one function
of the layer below, renders what it returns (``console.py``, ``results.py``) and maps it
to an exit code: 0 all done, 1 some rows not, 2 unusable input or set-up, 3 the run
stopped (``exit_now``: without freeing what the run made, which the system takes back).
The stages that load pandas, pandera, openpyxl, requests or Flask are imported inside
the commands that need them, so that --help, --version, history and resolve start at
once.

``send_commands.py``    submit, retry
``sheet_commands.py``   validate, template
``journal_commands.py`` history, resolve, unlock
``sandbox_command.py``  sandbox
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn

import click

from batch_claims import __version__
from batch_claims.cli.journal_commands import history_command, resolve_command, unlock_command
from batch_claims.cli.sandbox_command import sandbox_command
from batch_claims.cli.send_commands import retry_command, submit_command
from batch_claims.cli.sheet_commands import template_command, validate_command

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
    """File Sendcloud claims (every ticket type) in bulk from a spreadsheet and photos.

    submit and retry send with your Sendcloud API keys, read from the environment
    variables SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY (validate, template and
    sandbox need none). `batch-claims COMMAND --help` tells a command's options.
    """


for _command in (
    validate_command,
    submit_command,
    retry_command,
    history_command,
    resolve_command,
    unlock_command,
    template_command,
    sandbox_command,
):
    cli.add_command(_command)


def main() -> None:
    """The console script (and ``python -m batch_claims``): a command, then its exit."""
    try:
        cli(prog_name="batch-claims")
    except SystemExit as done:
        exit_now(done.code)


def exit_now(code: object) -> NoReturn:
    """End the process with ``code`` as ``sys.exit`` would, without first freeing what
    the run made: at 50,000 rows that is hundreds of megabytes of objects, a third of a
    second spent on memory the system takes back at once. What an exit must do is done:
    the handlers registered to run at exit (files flushed and closed, temporary folders
    removed) and the output flushed."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # a message, as sys.exit prints it
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # what the interpreter runs at its exit, before its teardown
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader gone: nothing more to say
            pass
    os._exit(status)
