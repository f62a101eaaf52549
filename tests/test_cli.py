"""The CLI end to end: real sheets, real files, real HTTP to the sandbox on 127.0.0.1,
a real SQLite journal and real workbooks."""

from __future__ import annotations

import atexit
import os
import re
import subprocess
import sys
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import openpyxl
import pytest
import requests

from batch_claims.send.journal import Journal
from tests.helpers import (
    EXPECTED,
    SCALED_FLAGS,
    results_rows,
    run,
    sha,
    submit_once,
    tickets,
    write_sheet,
)


def test_submit_sample_week_creates_one_ticket_per_valid_row(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    result = run("submit", week, "--journal", journal, "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    out = week.with_name("damage_claims_week47.results.xlsx")
    rows = results_rows(out)
    assert [r["row"] for r in rows] == list(range(2, 16))
    statuses = {r["tracking_number"]: r["status"] for r in rows[:-2]}
    statuses[rows[-1]["tracking_number"]] = rows[-1]["status"]
    assert statuses == EXPECTED
    assert rows[-2]["tracking_number"] == "3SSCL0000000101"
    assert rows[-2]["status"] == "invalid"  # the duplicate

    created = tickets(api_env)
    by_tn = {t["body"]["tracking_number"]: t for t in created}
    assert len(created) == 7 == len(by_tn)
    submitted = {r["tracking_number"]: r for r in rows if r["status"] == "submitted"}
    assert {tn: r["ticket_id"] for tn, r in submitted.items()} == {
        tn: t["ticket_id"] for tn, t in by_tn.items()
    }

    # Field by field, file by file, as the sheet says.
    photos = week.parent / "photos"
    first = by_tn["3SSCL0000000101"]["body"]
    assert first["contents_sales_price"] == {"price": 49.95, "currency": "EUR"}
    assert first["contents_purchase_price"] == {"price": 21.5, "currency": "EUR"}
    assert first["contents_description"] == "2 ceramic mugs, 1 teapot"
    assert "carrier_contract_id" not in first
    files = by_tn["3SSCL0000000101"]["files"]
    assert files["damage_photo_1"]["sha256"] == sha(photos / "3SSCL0000000101/damage_photo_1.jpg")
    assert files["damage_photo_1"]["content_type"] == "image/jpeg"
    assert files["package_photo"]["content_type"] == "image/png"
    assert files["sales_invoice"]["content_type"] == "application/pdf"
    assert len(files) == 9

    third = by_tn["3SSCL0000000103"]
    assert third["body"]["contents_sales_price"] == {"price": 1234.56, "currency": "EUR"}
    assert third["body"]["additional_remarks"] == "-- customer sent photos the same day"
    shared = sha(photos / "invoices/purchase-invoice-week-47.pdf")
    assert third["files"]["purchase_invoice"]["sha256"] == shared
    assert by_tn["3SSCL0000000102"]["files"]["purchase_invoice"]["sha256"] == shared
    assert third["files"]["exterior_photo"]["sha256"] == sha(
        photos / "3SSCL0000000103_exterior_photo.jpg"
    )
    assert by_tn["3SSCL0000000114"]["body"]["contents_sales_price"] == {
        "price": 12.5,
        "currency": "GBP",
    }

    own = by_tn["JJD000390007812345"]
    assert own["body"]["carrier_contract_id"] == 4711
    assert own["body"]["contents_sales_price"] == {"price": 120, "currency": "GBP"}
    assert set(own["files"]) == {"damage_photo_1", "sales_invoice"}
    assert own["is_portal_claim"] is False
    portal = by_tn["1234567890123"]
    assert portal["is_portal_claim"] is True
    assert portal["body"]["carrier_contract_id"] == 5120
    assert by_tn["00340434161094015"]["body"] == {
        "tracking_number": "00340434161094015",
        "contents_description": "Garden lamp",
        "damage_photo_1": {
            "file_token": by_tn["00340434161094015"]["body"]["damage_photo_1"]["file_token"]
        },
    }

    # The shared purchase invoice went up once.
    uploads = requests.get(f"{api_env.root_url}/sandbox/files", timeout=5).json()
    assert [u["sha256"] for u in uploads].count(shared) == 1

    rejected = {r["tracking_number"]: r for r in rows if r["status"] == "rejected"}
    assert rejected["NOTFOUND-9981"]["http_status"] == 400
    assert rejected["NOTFOUND-9981"]["error_detail"] == "Parcel not found."
    assert rejected["DELIVERED-4410"]["http_status"] == 422
    assert "already delivered" in rejected["DELIVERED-4410"]["error_detail"]
    assert "Carrier support contact" in rejected["3SOWN0000000999"]["error_detail"]


def test_second_run_sends_nothing_and_reports_already_submitted(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    run("submit", week, "--journal", journal, "--quiet", *SCALED_FLAGS)
    before = requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json()
    result = run("submit", week, "--journal", journal, "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1
    after = requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json()
    rows = results_rows(week.with_name("damage_claims_week47.results.xlsx"))
    assert sum(r["status"] == "already_submitted" for r in rows) == 7
    assert sum(r["status"] == "submitted" for r in rows) == 0
    # The rows refused for what they contain are unchanged: held back, nothing is sent.
    assert after[len(before) :] == []
    assert sum(r["error_code"] == "unchanged_since_refused" for r in rows) == 3
    # The second run knew the first one's windows from the journal: no 429.
    assert [r for r in after if r["status"] == 429] == []
    assert len(tickets(api_env)) == 7


def test_results_workbook_layout_and_failed_rows(api_env: Any, week: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    run("submit", week, "--journal", tmp_path / "j.sqlite3", "--out", out, "--quiet", *SCALED_FLAGS)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Summary", "Results", "Failed rows"]
    header = [c.value for c in workbook["Results"][1]]
    assert header[:11] == [
        "row",
        "tracking_number",
        "contract_type",
        "ticket_type",
        "status",
        "ticket_id",
        "http_status",
        "error_code",
        "error_detail",
        "attempts",
        "submitted_at",
    ]
    assert header[11:-1] == [c.value for c in openpyxl.load_workbook(week).active[1]]
    assert header[-1] == "evidence"
    failed = workbook["Failed rows"]
    failed_header = [c.value for c in failed[1]]
    assert failed_header[-2:] == ["error", "row"]
    failed_rows = list(failed.iter_rows(min_row=2, values_only=True))
    assert len(failed_rows) == 7  # 3 rejected + 4 invalid
    # Each failed row names its row in the original sheet, as Results does.
    results_by_row = {
        row[0]: row[4] for row in workbook["Results"].iter_rows(min_row=2, values_only=True)
    }
    assert all(results_by_row[row[-1]] in ("rejected", "invalid") for row in failed_rows)
    # Formula-like text stays text.
    remark = next(
        c
        for row in failed.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
    )
    assert remark.data_type == "s"
    summary_text = " ".join(
        str(v) for row in workbook["Summary"].iter_rows(values_only=True) for v in row if v
    )
    assert "test-secret-do-not-leak" not in summary_text
    assert api_env.base_url in summary_text


def test_bad_credentials_stop_the_run_with_exit_3(
    api_env: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "bad")
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 3
    assert "SENDCLOUD_PUBLIC_KEY" in result.output
    assert "test-secret-do-not-leak" not in result.output
    rows = results_rows(week.with_name("damage_claims_week47.results.xlsx"))
    assert not any(r["status"] == "failed" for r in rows)
    assert {r["status"] for r in rows} == {"not_attempted", "invalid"}
    assert tickets(api_env) == []


def test_validate_is_offline_and_marks_valid_and_invalid(week: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.xlsx"
    result = run("validate", week, "--out", out)
    assert result.exit_code == 1
    rows = results_rows(out)
    statuses = [r["status"] for r in rows]
    assert statuses.count("invalid") == 4
    assert statuses.count("valid") == 10
    invalid = {r["tracking_number"]: r["error_detail"] for r in rows if r["status"] == "invalid"}
    assert 'row 11, "Sales value"' in invalid["3SSCL0000000110"]
    assert "Contents description" in invalid["3SSCL0000000110"]
    assert "JPY" in invalid["3SSCL0000000111"]
    assert "row 11" in result.output
    evidence = {r["tracking_number"]: r["evidence"] for r in rows}
    assert evidence["3SSCL0000000103"].splitlines() == [
        "sendcloud_rates needs 9 documents: 9 found",
        "✓ customer_confirmation: 3SSCL0000000103_customer_confirmation.pdf (folder convention)",
        "✓ sales_invoice: 3SSCL0000000103_sales_invoice.pdf (folder convention)",
        "✓ purchase_invoice: invoices/purchase-invoice-week-47.pdf (typed path)",
        "✓ exterior_photo: 3SSCL0000000103_exterior_photo.jpg (folder convention)",
        "✓ interior_photo: 3SSCL0000000103_interior_photo.jpg (folder convention)",
        "✓ damage_photo_1: 3SSCL0000000103_damage_photo_1.jpg (folder convention)",
        "✓ damage_photo_2: 3SSCL0000000103_damage_photo_2.jpg (folder convention)",
        "✓ package_photo: 3SSCL0000000103_package_photo.png (folder convention)",
        "✓ entire_product_photo: 3SSCL0000000103_entire_product_photo.jpg (folder convention)",
    ]
    assert evidence["3SSCL0000000112"].startswith(
        "sendcloud_rates needs 9 documents: 0 found, 9 to add or fix\n✗ customer_confirmation: "
    )
    assert evidence["JJD000390007812345"].splitlines()[0] == (
        "own_contract needs no documents; 2 attached"
    )


def test_submit_with_builtin_sandbox(week: Path, tmp_path: Path) -> None:
    result = run("submit", week, "--sandbox", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    rows = results_rows(week.with_name("damage_claims_week47.results.xlsx"))
    assert sum(r["status"] == "submitted" for r in rows) == 7


def test_dry_run_prints_the_plan_and_sends_nothing(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    result = run("submit", week, "--dry-run", "--journal", tmp_path / "j.sqlite3", *SCALED_FLAGS)
    assert "plan: 10 ticket POSTs and 41 file uploads" in result.output
    assert "no less than 0.03s" in result.output  # three bursts of 15/0.01
    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == []


@pytest.mark.parametrize("value", ["15/0", "abc", "-3/60", "0/60"])
def test_bad_limit_is_a_usage_error(week: Path, value: str) -> None:
    result = run("submit", week, "--ticket-limit", value)
    assert result.exit_code == 2
    assert "Invalid value for '--ticket-limit'" in result.output
    assert "N/SECONDS" in result.output  # says what a limit looks like
    assert not week.with_name("damage_claims_week47.results.xlsx").exists()  # nothing ran


def test_unreadable_input_exits_2_with_one_sentence(tmp_path: Path) -> None:
    bogus = tmp_path / "claims.xlsx"
    bogus.write_bytes(b"this is not a workbook")
    result = run("validate", bogus)
    assert result.exit_code == 2
    assert result.output == (
        "Error: claims.xlsx: is not an Excel workbook (the file is not an .xlsx archive)\n"
    )


def test_out_never_overwrites_the_input(week: Path) -> None:
    before = week.read_bytes()
    result = run("validate", week, "--out", week)
    assert result.exit_code == 2
    assert f"--out {week} is the input sheet; choose another file" in result.output
    assert week.read_bytes() == before


def test_retry_sends_the_corrected_failed_rows(api_env: Any, week: Path, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    first = tmp_path / "first.xlsx"
    run("submit", week, "--journal", journal, "--out", first, "--quiet", *SCALED_FLAGS)
    workbook = openpyxl.load_workbook(first)
    failed = workbook["Failed rows"]
    header = [c.value for c in failed[1]]
    currency = header.index("Currency") + 1
    for row in failed.iter_rows(min_row=2):
        if row[0].value == "3SSCL0000000111":
            row[currency - 1].value = "EUR"
    workbook.save(first)
    second = tmp_path / "second.xlsx"
    result = run(
        "retry",
        first,
        "--photos",
        week.parent / "photos",
        "--journal",
        journal,
        "--out",
        second,
        "--quiet",
        *SCALED_FLAGS,
    )
    assert result.exit_code == 1, result.output
    rows = {r["tracking_number"]: r["status"] for r in results_rows(second)}
    assert rows["3SSCL0000000111"] == "submitted"
    assert len(tickets(api_env)) == 8


def test_template_command_writes_the_input_workbook(tmp_path: Path) -> None:
    target = tmp_path / "blank.xlsx"
    result = run("template", target)
    assert result.exit_code == 0
    headers = [c.value for c in openpyxl.load_workbook(target).worksheets[0][1]]
    assert headers[0] == "tracking_number"


def test_journal_on_a_disk_that_refuses_writes_exits_2_before_sending(
    api_env: Any, week: Path
) -> None:
    result = run("submit", week, "--journal", "/proc/self/journal.sqlite3", "--quiet")
    assert result.exit_code == 2
    assert "not writable" in result.output
    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == []


def test_retry_refuses_a_workbook_from_another_account(
    api_env: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = submit_once(week, tmp_path)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "another-account")
    result = run(
        "retry",
        first,
        "--photos",
        week.parent / "photos",
        "--journal",
        tmp_path / "j2.sqlite3",
        "--quiet",
        *SCALED_FLAGS,
    )
    assert result.exit_code == 2
    assert "another API account" in result.output


def test_retry_of_a_workbook_from_another_tool_exits_2_naming_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With keys: without them, the run asks for them before reading anything.
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "pk")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk")
    other = tmp_path / "other.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Sheet1"  # type: ignore[union-attr]
    workbook.save(other)
    result = run("retry", other)
    assert result.exit_code == 2
    assert "not a batch-claims results workbook" in result.output
    assert "'Failed rows'" in result.output


def test_second_concurrent_run_on_one_journal_exits_3(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    holder = Journal(journal, lambda: datetime.now(UTC))  # another live run (this pid)
    holder.acquire_lock("other-run", "submit", "week.xlsx")
    out = tmp_path / "locked.xlsx"
    result = run("submit", week, "--journal", journal, "--out", out, "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 3
    assert "another batch-claims run holds the journal" in result.output
    statuses = [r["status"] for r in results_rows(out)]
    assert statuses.count("not_attempted") == 10 and statuses.count("invalid") == 4
    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == []
    holder.close()


def test_oauth2_client_credentials_with_expiring_tokens(
    sandbox_factory: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory({"TOKEN_EXPIRES_IN": 0.3, "LATENCY": 0.01})
    monkeypatch.setenv("SENDCLOUD_AUTH", "oauth2")
    monkeypatch.setenv("SENDCLOUD_BASE_URL", server.base_url)
    monkeypatch.setenv("SENDCLOUD_TOKEN_URL", server.token_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "client-id")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "client-secret")
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    assert len(tickets(server)) == 7
    posts = requests.get(f"{server.root_url}/sandbox/requests", timeout=5).json()
    assert not any(p["status"] == 401 for p in posts)


def test_oauth2_refused_client_stops_with_exit_3_naming_the_variables(
    sandbox: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDCLOUD_AUTH", "oauth2")
    monkeypatch.setenv("SENDCLOUD_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("SENDCLOUD_TOKEN_URL", sandbox.token_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "bad")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "client-secret")
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 3
    assert "SENDCLOUD_TOKEN_URL" in result.output
    assert "client-secret" not in result.output
    assert tickets(sandbox) == []


def test_plain_http_base_url_is_refused_unless_loopback(
    week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDCLOUD_BASE_URL", "http://panel.example.com/api/v3")
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "pk")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk")
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet")
    assert result.exit_code == 2
    assert "SENDCLOUD_BASE_URL uses plain http:// for panel.example.com" in result.output
    assert "use https://" in result.output  # says what to use instead
    assert not (tmp_path / "j.sqlite3").exists()  # refused before anything was opened


def test_cron_output_is_timestamped_lines_ending_with_the_summary(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    result = run(
        "submit", week, "--journal", tmp_path / "j.sqlite3", "--log-file", log, *SCALED_FLAGS
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
    assert any(
        re.match(stamp + r"row 2 3SSCL0000000101: submitted ticket ", line) for line in lines
    )
    assert lines[-1].startswith("14 rows: 4 invalid, 7 submitted, 3 rejected; results in ")
    logged = log.read_text(encoding="utf-8")
    assert "row 8 NOTFOUND-9981: rejected — Parcel not found." in logged
    assert logged.strip().splitlines()[-1].endswith(lines[-1])
    assert "test-secret-do-not-leak" not in logged + result.output


def test_quiet_prints_only_the_summary(api_env: Any, week: Path, tmp_path: Path) -> None:
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.output.strip().splitlines() == [result.output.strip().splitlines()[-1]]
    assert result.output.startswith("14 rows: ")


def test_history_lists_tickets_and_attempts(api_env: Any, week: Path, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    run("submit", week, "--journal", journal, "--quiet", *SCALED_FLAGS)
    listing = run("history", "--journal", journal)
    assert listing.exit_code == 0
    assert listing.stderr.startswith(f"journal {journal} (account key ")
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["tracking_number", "state", "ticket_id", "updated"]
    assert sum(" created " in line for line in lines) == 7
    one = run("history", "DELIVERED-4410", "--journal", journal)
    assert "not_created" in one.output
    assert "http=422 Cannot create ticket. Reason: Parcel is already delivered" in one.output
    unknown = run("history", "NOPE", "--journal", journal)
    assert unknown.exit_code == 2


def test_every_ticket_body_is_valid_against_sendcloud_openapi_document(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    import jsonschema
    import yaml

    document = yaml.safe_load(
        (
            Path(__file__).resolve().parent.parent
            / "batch_claims/sandbox/support-damage-openapi.yaml"
        ).read_text(encoding="utf-8")
    )
    schemas = document["components"]["schemas"]
    run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    for ticket in tickets(api_env):
        body = ticket["body"]
        variant = "CreateDamagedOwnContract"
        if "carrier_contract_id" not in body and "sales_invoice" in body:
            variant = "CreateDamagedTransactional"
        # The refs read "#/components/schemas/…": resolve them against this root.
        schema = {**schemas[variant], "components": {"schemas": schemas}}
        jsonschema.validate(body, schema)
        if variant == "CreateDamagedTransactional":
            assert set(schemas[variant]["required"]) <= set(body)


def test_a_results_workbook_given_to_submit_points_at_retry(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    first = submit_once(week, tmp_path)
    for command in ("submit", "validate"):
        extra = ["--journal", str(tmp_path / "j.sqlite3")] if command == "submit" else []
        result = run(command, first, *extra, "--quiet")
        assert result.exit_code == 2
        assert "run `batch-claims retry first.xlsx`" in result.output


def test_dry_run_after_a_run_shows_what_the_journal_knows(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    run("submit", week, "--journal", journal, "--quiet", *SCALED_FLAGS)
    out = tmp_path / "dry.xlsx"
    result = run("submit", week, "--dry-run", "--journal", journal, "--out", out, *SCALED_FLAGS)
    assert "plan: 0 ticket POSTs and 0 file uploads" in result.output
    statuses = [r["status"] for r in results_rows(out)]
    assert statuses.count("already_submitted") == 7
    # The rows the API refused for what they hold: unchanged, they would not go again.
    assert statuses.count("not_attempted") == 3


def test_ctrl_c_while_reading_exits_3_and_sends_nothing(
    api_env: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_claims.validate import prepare as pipeline

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    # The command imports its stages when it runs (cli imports nothing heavy).
    monkeypatch.setattr(pipeline, "prepare", interrupted)
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet")
    assert result.exit_code == 3
    assert "nothing was sent" in result.output
    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == []


def test_an_input_column_named_error_survives_retry(api_env: Any, tmp_path: Path) -> None:
    sheet = tmp_path / "week.csv"
    sheet.write_text(
        "tracking_number,contract_type,error\nNOTFOUND-1,own_contract,my own note\n",
        encoding="utf-8",
    )
    first = tmp_path / "first.xlsx"
    run(
        "submit",
        sheet,
        "--journal",
        tmp_path / "j.sqlite3",
        "--out",
        first,
        "--quiet",
        *SCALED_FLAGS,
    )
    workbook = openpyxl.load_workbook(first)
    failed = workbook["Failed rows"]
    failed.cell(2, 1).value = "3SOK00000001"  # the user fixes the tracking number
    workbook.save(first)
    second = tmp_path / "second.xlsx"
    result = run(
        "retry",
        first,
        "--journal",
        tmp_path / "j.sqlite3",
        "--out",
        second,
        "--quiet",
        *SCALED_FLAGS,
    )
    assert result.exit_code == 0, result.output
    [row] = results_rows(second)
    assert row["status"] == "submitted"
    header = [c.value for c in openpyxl.load_workbook(second)["Results"][1]]
    assert header[11:] == ["tracking_number", "contract_type", "error", "evidence"]
    assert [c.value for c in openpyxl.load_workbook(second)["Results"][2]][13] == "my own note"


def test_sandbox_on_a_port_in_use_exits_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("sandbox", "--port", str(port))
    assert result.exit_code == 2
    assert f"cannot serve the sandbox on 127.0.0.1:{port}" in result.output


def test_retry_reads_failed_rows_with_the_configs_own_headers(api_env: Any, tmp_path: Path) -> None:
    config = tmp_path / "claims.toml"
    config.write_text('[columns]\n"Pakketcode" = "tracking_number"\n', encoding="utf-8")
    sheet = tmp_path / "week.csv"
    sheet.write_text(
        "Pakketcode,contract_type,Behandelaar\nNOTFOUND-2,own_contract,Anna\n", encoding="utf-8"
    )
    first = tmp_path / "first.xlsx"
    flags = ["--config", str(config), "--journal", str(tmp_path / "j.sqlite3"), *SCALED_FLAGS]
    run("submit", sheet, "--out", first, "--quiet", *flags)
    workbook = openpyxl.load_workbook(first)
    workbook["Failed rows"].cell(2, 1).value = "3SCFG0000001"
    workbook.save(first)
    second = tmp_path / "second.xlsx"
    result = run("retry", first, "--out", second, *flags)
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in results_rows(second)] == ["submitted"]
    assert 'columns not recognised, carried along unchanged: "Behandelaar"' in result.output
    assert '"error"' not in result.output


RETRY_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ticket request: server error \(503\), "
    r"retrying in (\d+(?:\.\d)?) s \(attempt ([2-5])/5\)$",
    re.M,
)


@pytest.mark.parametrize("quiet", [False, True])
def test_the_console_tells_each_retry_of_the_client_with_its_attempt(
    sandbox_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet: bool
) -> None:
    """A server that answers half its POSTs 500/503 (seeded): each back-off before a
    503'd ticket is tried again is a timestamped line without a terminal (and in the
    log file), nothing on screen with --quiet. The back-offs pass on the injected clock."""
    from batch_claims.clock import FakeClock

    monkeypatch.setattr("batch_claims.cli.send_commands.SystemClock", FakeClock)
    roomy = {name: (1000, 1.0) for name in ("TICKET_LIMIT", "REQUEST_LIMIT", "BURST_LIMIT")}
    server = sandbox_factory({"ERROR_RATE": 0.5, "SEED": 3, **roomy})
    monkeypatch.setenv("SENDCLOUD_BASE_URL", server.base_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "test-public")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "test-secret-do-not-leak")
    sheet = write_sheet(
        tmp_path,
        [[f"3SRETRY{n:05d}", "own_contract"] for n in range(8)],
        ["tracking_number", "contract_type"],
    )
    log = tmp_path / "run.log"
    flags = ["--journal", tmp_path / "j.sqlite3", "--log-file", log]
    result = run("submit", sheet, *flags, *(["--quiet"] if quiet else []))
    assert result.exit_code in (0, 1), result.output
    logged = RETRY_LINE.findall(log.read_text(encoding="utf-8"))
    assert logged, "the seeded faults should have made a ticket request be retried"
    assert all(float(wait) <= 30 for wait, _ in logged)
    shown = RETRY_LINE.findall(result.output)
    assert shown == ([] if quiet else logged)
    if not quiet:  # the retried requests end as the workbook says, after their retries
        rows = results_rows(sheet.with_suffix(".results.xlsx"))
        assert sum(r["status"] == "submitted" for r in rows) >= 1


def test_a_retry_line_names_the_request_the_cause_the_wait_and_the_next_attempt() -> None:
    from batch_claims.api.client import ClientEvent
    from batch_claims.cli.console import retry_line

    refused = "cannot connect to 127.0.0.1:9: connection refused"
    assert retry_line(ClientEvent("retry", 1, None, 12.3, refused, 5, False)) == (
        f"file upload: {refused}, retrying in 12 s (attempt 2/5)"
    )
    assert retry_line(ClientEvent("retry", 3, 429, 7.0, "Rate limit", 5, True)) == (
        "ticket request: rate limited (429), retrying in 7.0 s (attempt 4/5)"
    )


# ---------------------------------------------------------------- the process's exit


class _Ended(Exception):
    """``os._exit`` called (in this test process, where it must not end anything)."""


@pytest.mark.parametrize(
    ("args", "status"),
    [(["--version"], 0), (["validate"], 2), (["validate", "WEEK"], 1)],
)
def test_main_ends_the_process_with_the_commands_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    week: Path,
    tmp_path: Path,
    args: list[str],
    status: int,
) -> None:
    """The console script ends with the command's exit code, once the handlers that run
    at exit have run: without the interpreter's teardown, not without what it owes."""
    from batch_claims import cli as cli_module

    args = [str(week) if arg == "WEEK" else arg for arg in args]
    extra = ["--out", str(tmp_path / "out.xlsx")] if len(args) > 1 else []
    monkeypatch.setattr(sys, "argv", ["batch-claims", *args, *extra])
    steps: list[object] = []
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: steps.append("atexit"))

    def ended(code: int) -> NoReturn:
        steps.append(code)
        raise _Ended

    monkeypatch.setattr(os, "_exit", ended)
    with pytest.raises(_Ended):
        cli_module.main()
    assert steps == ["atexit", status]
    assert capsys.readouterr().out or status == 2


@pytest.mark.parametrize("command", [["validate"], ["submit", "--dry-run"]])
def test_what_the_run_prepared_goes_with_the_process(
    monkeypatch: pytest.MonkeyPatch, week: Path, tmp_path: Path, command: list[str]
) -> None:
    """The rows a command prepared are still held when the process ends: the system
    takes their memory back at once, rather than the process freeing them object by
    object as the command returns (0.2 s at 50,000 rows)."""
    from batch_claims import cli as cli_module
    from batch_claims.validate import prepare as prepare_module

    made: list[weakref.ref[Any]] = []
    real = prepare_module.prepare

    def recording(*args: Any, **kwargs: Any) -> Any:
        prepared = real(*args, **kwargs)
        made.append(weakref.ref(prepared))
        return prepared

    monkeypatch.setattr(prepare_module, "prepare", recording)
    journal = ["--journal", str(tmp_path / "journal.sqlite3")] if command[0] == "submit" else []
    monkeypatch.setattr(
        sys,
        "argv",
        ["batch-claims", *command, str(week), "--out", str(tmp_path / "out.xlsx"), *journal],
    )
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: None)
    alive: list[bool] = []

    def ended(code: int) -> NoReturn:
        alive.extend(ref() is not None for ref in made)
        raise _Ended

    monkeypatch.setattr(os, "_exit", ended)
    with pytest.raises(_Ended):
        cli_module.main()
    assert alive == [True]


def test_an_exit_with_a_message_says_it_and_ends_with_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from batch_claims.cli import exit_now

    codes: list[int] = []
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: None)

    def ended(code: int) -> NoReturn:
        codes.append(code)
        raise _Ended

    monkeypatch.setattr(os, "_exit", ended)
    with pytest.raises(_Ended):
        exit_now("the run cannot go on")
    assert codes == [1] and capsys.readouterr().err == "the run cannot go on\n"


def test_the_process_flushes_its_output_and_runs_its_exit_handlers(
    week: Path, tmp_path: Path
) -> None:
    """As a real process, its output going to a pipe (buffered): the summary line is
    there, the handlers registered for the exit ran, the exit code is the command's."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handlers ran'))\n"
        "from batch_claims.cli import main\n"
        f"sys.argv = ['batch-claims', 'validate', {str(week)!r}, "
        f"'--out', {str(tmp_path / 'out.xlsx')!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert "14 rows:" in done.stdout and done.stdout.endswith("exit handlers ran\n")
    assert (tmp_path / "out.xlsx").exists()
