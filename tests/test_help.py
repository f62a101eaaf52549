"""Help that stands on its own, and set-up mistakes told in the user's own terms: every
option explained, the API-key variables and examples up front, a config error naming
the file and the key, a busy port told once, an empty sheet told plainly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import openpyxl
import pytest
import requests
from click.testing import CliRunner

from batch_claims.cli import cli
from batch_claims.report.outputs import default_results_path
from tests.helpers import SCALED_FLAGS, results_rows, run


def commands(command: click.Command, path: str = "batch-claims") -> Iterator[tuple[str, Any]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from commands(sub, f"{path} {name}")


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {param.opts[0]}"
        for path, command in commands(cli)
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == []


def test_every_command_has_a_summary_and_a_description() -> None:
    for path, command in commands(cli):
        assert (command.help or "").strip(), path
        if path != "batch-claims":
            assert command.short_help, path


def test_the_top_level_help_names_the_key_variables_and_shows_examples() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "SENDCLOUD_PUBLIC_KEY" in result.output
    assert "SENDCLOUD_SECRET_KEY" in result.output
    examples = result.output.split("Examples:", 1)[1]
    lines = [line.strip() for line in examples.splitlines()]
    assert sum(line.startswith("batch-claims ") for line in lines) >= 2
    assert "batch-claims submit week48.xlsx --photos photos/ --sandbox" in lines


def test_retry_help_lists_only_what_applies() -> None:
    output = run("retry", "--help").output
    assert "--sheet" not in output
    assert "--dry-run" in output
    assert "--photos" in output


def test_retry_dry_run_checks_the_fixed_rows_and_sends_nothing(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    first = tmp_path / "week.results.xlsx"
    run("submit", week, "--journal", journal, "--out", first, "--quiet", *SCALED_FLAGS)
    workbook = openpyxl.load_workbook(first)
    failed = workbook["Failed rows"]
    names = [c.value for c in failed[1]]
    for row in failed.iter_rows(min_row=2):
        if row[0].value == "3SSCL0000000111":
            row[names.index("Currency")].value = "EUR"
    workbook.save(first)
    log = requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json()

    photos = ["--photos", week.parent / "photos"]
    result = run("retry", first, "--dry-run", *photos, "--journal", journal, *SCALED_FLAGS)

    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == log
    assert "plan: " in result.output
    assert result.exit_code == 1, result.output  # some rows are still invalid
    second = tmp_path / "week.results-2.xlsx"
    status = {r["row"]: r["status"] for r in results_rows(second)}  # the original rows
    assert status[12] == "valid"  # 3SSCL0000000111, fixed: ready to send
    assert status[2] == "already_submitted"  # its ticket, from the first run
    assert status[11] == "invalid"  # 3SSCL0000000110, not fixed


# --- the config file: its name and the key, never a flag ------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[limits]\nticket = "abc"\n', "[limits] ticket"),
        ('[limits]\nrequest = "100"\n', "[limits] request"),
        ('[limits]\nburst = "0/1"\n', "[limits] burst"),
        ("[limits]\nmargin = -1\n", "[limits] margin"),
        ('[limits]\ntiket = "10/60"\n', "[limits] tiket"),
        ('[limit]\nticket = "10/60"\n', "'limit'"),
        ('limits = "15/60"\n', "[limits]"),
        ('[defaults]\ntoken_max_age = "forever"\n', "[defaults] token_max_age"),
        ('[defaults]\ndecimal_comma = "yes"\n', "[defaults] decimal_comma"),
        ('[defaults]\ncontract_type = "own"\n', "[defaults] contract_type"),
        ('[sendcloud]\nauth = "token"\n', "[sendcloud] auth"),
        ('[sendcloud]\nbase_url = "ftp://example.com/api/v3"\n', "[sendcloud] base_url"),
        ('[columns]\n"Pakket" = "parcel"\n', "[columns] 'Pakket'"),
    ],
)
def test_a_config_error_names_the_file_and_the_key(
    week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, key: str
) -> None:
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "test-public")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "test-secret")
    config = tmp_path / "claims.toml"
    config.write_text(text, encoding="utf-8")
    result = run("submit", week, "--config", config, "--journal", tmp_path / "j.sqlite3")
    assert result.exit_code == 2
    (message,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert f"{config}, {key}" in message or f"{config}: unknown key {key}" in message
    assert "--" not in message.split(key, 1)[0]  # never a flag the user did not type
    assert "Traceback" not in result.output


def test_an_environment_variable_error_names_the_variable(
    week: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_CLAIMS_TICKET_LIMIT", "lots")
    result = run("validate", week)
    assert result.exit_code == 2
    assert "Error: BATCH_CLAIMS_TICKET_LIMIT: expected N/SECONDS" in result.output


def test_a_flag_beats_a_bad_file_value_only_for_its_own_key(week: Path, tmp_path: Path) -> None:
    config = tmp_path / "claims.toml"
    config.write_text('[limits]\nticket = "abc"\n', encoding="utf-8")
    result = run("validate", week, "--config", config, "--out", tmp_path / "out.xlsx")
    assert result.exit_code == 2
    good = tmp_path / "good.toml"
    good.write_text('[limits]\nticket = "10/60"\nmargin = 0.5\n', encoding="utf-8")
    result = run("validate", week, "--config", good, "--out", tmp_path / "out.xlsx")
    assert result.exit_code == 1, result.output  # the sample week has invalid rows


# --- a busy port, once ------------------------------------------------------------------------


def test_a_port_in_use_is_reported_once() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["sandbox", "--port", str(port)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: cannot serve the sandbox on 127.0.0.1:{port}: the port is in use "
        "(try another --port)\n"
    )


# --- a header and no rows ---------------------------------------------------------------------


def header_only_xlsx(folder: Path, example_row: bool = False) -> Path:
    sheet = folder / "week49.xlsx"
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "Claims"
    ws.append(["Tracking number", "Contract type", "Contents description"])
    ws.append([None, None, None])
    ws.append(["Total (0 parcels)", None, None])
    workbook.save(sheet)
    return sheet


@pytest.mark.parametrize("command", [["validate"], ["submit", "--sandbox"]])
def test_a_sheet_with_a_header_and_no_rows_says_so(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = header_only_xlsx(tmp_path)
    result = run(*command, sheet)
    assert result.exit_code == 2, result.output
    assert (
        'Error: week49.xlsx, sheet "Claims": the header is on row 1 but there are no claim '
        "rows below it (row 3 holds totals, notes or the template's example, no claims)"
    ) in result.output
    assert not default_results_path(sheet, retry=False).exists()


def test_a_csv_with_a_header_and_no_rows_says_so(tmp_path: Path) -> None:
    sheet = tmp_path / "week49.csv"
    sheet.write_bytes(b"tracking_number;contract_type\r\n;\r\n")
    result = run("validate", sheet)
    assert result.exit_code == 2
    assert (
        "Error: week49.csv: the header is on row 1 but there are no claim rows below it;"
        in result.output
    )


def test_the_blank_template_has_no_claim_rows(tmp_path: Path) -> None:
    template = tmp_path / "blank.xlsx"
    assert run("template", template).exit_code == 0
    result = run("validate", template)
    assert result.exit_code == 2
    assert "there are no claim rows below it" in result.output
