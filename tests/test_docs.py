"""The README and the command surface stay true to the code."""

from __future__ import annotations

import re

import pytest

import batch_claims
from batch_claims.cli import cli
from batch_claims.report.columns_table import markdown_table
from tests.helpers import ROOT, run

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_columns_table_is_generated_from_columns_py() -> None:
    match = re.search(r"<!-- columns:start -->\n(.*)\n<!-- columns:end -->", README, re.S)
    assert match, "README lacks the columns markers"
    assert match.group(1).strip() == markdown_table().strip(), (
        "README columns table is stale: regenerate it with "
        "python -c 'from batch_claims.report.columns_table import markdown_table; "
        "print(markdown_table())'"
    )


USAGE = README.split("## Usage", 1)[1].split("\n### ", 1)[0]
# The first cell of each row of the commands table: `validate SHEET`, `unlock`, ...
COMMAND_ROWS = re.findall(r"^\| `([^`]+)` \|", USAGE, re.M)


def test_the_commands_table_has_one_row_per_command() -> None:
    assert sorted(row.split()[0] for row in COMMAND_ROWS) == sorted(cli.commands)


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    usage, blank, description = result.output.splitlines()[:3]
    command = cli.commands[name]
    assert command.help is not None
    assert (blank, description) == ("", f"  {command.help.splitlines()[0]}")
    # The table names the command with the arguments its usage line shows
    # (`retry RESULTS.xlsx` for `retry [OPTIONS] RESULTS`).
    [row] = [row for row in COMMAND_ROWS if row.split()[0] == name]
    assert usage.replace(" [OPTIONS]", "") == f"Usage: cli {re.sub(r'[.]xlsx', '', row)}"
    # ... and the usage block shows it as a person types it.
    assert re.search(rf"^batch-claims {name}\b", USAGE, re.M), f"no `batch-claims {name}` line"


def test_readme_has_exactly_two_setup_commands() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", setup, re.S)
    assert blocks == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
        "batch-claims submit sample_data/damage_claims_week47.xlsx --sandbox\n",
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && '
        "ruff check . && ruff format --check . && mypy && pytest -q -p no:cacheprovider\n",
    ]


def test_exported_members() -> None:
    assert batch_claims.__all__ == ["__version__"]
