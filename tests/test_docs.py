"""The README and the command surface stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import batch_claims
from batch_claims.cli import cli
from batch_claims.columns import markdown_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_columns_table_is_generated_from_columns_py() -> None:
    match = re.search(r"<!-- columns:start -->\n(.*)\n<!-- columns:end -->", README, re.S)
    assert match, "README lacks the columns markers"
    assert match.group(1).strip() == markdown_table().strip(), (
        "README columns table is stale: regenerate it with "
        "python -c 'from batch_claims.columns import markdown_table; print(markdown_table())'"
    )


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    command = cli.commands[name]
    assert result.output.startswith(f"Usage: cli {name} ")
    assert command.help and command.help.splitlines()[0] in result.output
    assert f"batch-claims {name}" in README
    assert f"| `{name}" in README  # a row of the commands table


def test_readme_has_exactly_two_setup_commands() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", setup, re.S)
    assert len(blocks) == 2
    assert "submit sample_data/damage_claims_week47.xlsx --sandbox" in blocks[0]
    assert "pytest" in blocks[1]


def test_exported_members() -> None:
    assert batch_claims.__all__ == ["__version__"]
