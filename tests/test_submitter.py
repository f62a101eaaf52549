"""Sending rows: hold-back of shared refusals, refused cached tokens, --max-minutes,
uploads ahead of the ticket — against the sandbox over real HTTP."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from batch_claims.clock import SystemClock
from batch_claims.columns import Variant
from batch_claims.errors import Rejected, RunAborted
from batch_claims.limits import Limit
from batch_claims.outcome import Claim, RowOutcome
from batch_claims.send.holdback import HoldBack
from batch_claims.send.journal import Journal
from batch_claims.send.submitter import Submitter, connect
from batch_claims.settings import Settings
from batch_claims.validate.prepare import prepare
from tests.helpers import SCALED_FLAGS, photo, results_rows, run, tickets, write_sheet


def test_rows_sharing_a_refused_carrier_contract_are_held_back(
    api_env: Any, tmp_path: Path
) -> None:
    sheet = write_sheet(
        tmp_path,
        [
            ["3SAPQRS01", "own_contract", 999],
            ["3SAPQRS02", "own_contract", 999],
            ["3SAPQRS03", "own_contract", 7],
        ],
        ["tracking_number", "contract_type", "carrier_contract_id"],
    )
    result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1
    rows = {r["tracking_number"]: r for r in results_rows(sheet.with_suffix(".results.xlsx"))}
    assert rows["3SAPQRS01"]["status"] == "rejected"
    assert rows["3SAPQRS02"]["status"] == "not_attempted"
    assert rows["3SAPQRS02"]["error_detail"].startswith("held back: row 2 was refused")
    failed = results_rows(sheet.with_suffix(".results.xlsx"), "Failed rows")
    assert next(r for r in failed if r["tracking_number"] == "3SAPQRS02")["error"].startswith(
        "held back: row 2 was refused for a reason this row shares: Carrier support contact"
    )
    assert rows["3SAPQRS03"]["status"] == "submitted"
    posts = requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json()
    assert sum(p["path"].endswith("/tickets/damage") for p in posts) == 2

    again = run(
        "submit",
        sheet,
        "--journal",
        tmp_path / "j.sqlite3",
        "--quiet",
        "--no-hold-back",
        *SCALED_FLAGS,
    )
    assert again.exit_code == 1
    rows = {r["tracking_number"]: r for r in results_rows(sheet.with_suffix(".results.xlsx"))}
    assert rows["3SAPQRS02"]["status"] == "rejected"


def test_hold_back_learns_only_shared_reasons() -> None:
    def claim(row: int, contract: int | None, description: str = "x") -> Claim:
        fields: dict[str, Any] = {"contents_description": description}
        if contract is not None:
            fields["carrier_contract_id"] = contract
        return Claim(row, f"3S{row}", Variant.OWN_CONTRACT, False, fields)

    hold = HoldBack()
    hold.learn(claim(2, 5), Rejected("Parcel not found.", http_status=400))
    assert hold.reason_for(claim(3, 5)) is None
    shape = (
        "Validation Error. Errors: [{'type': 'missing', 'loc': ('x',), 'msg': 'Field required'}]"
    )
    hold.learn(claim(4, None), Rejected(shape, http_status=400))
    assert hold.reason_for(claim(5, None, "other text")) is not None  # same fields
    assert hold.reason_for(claim(6, 9)) is None  # different fields
    value = "Validation Error. Errors: [{'type': 'value_error', 'loc': ('x',), 'msg': 'bad'}]"
    fresh = HoldBack()
    fresh.learn(claim(4, None), Rejected(value, http_status=400))
    assert fresh.reason_for(claim(5, None)) is None  # a value problem is this row's own
    off = HoldBack(enabled=False)
    off.learn(claim(2, 5), Rejected("Carrier support contact is required", http_status=422))
    assert off.reason_for(claim(3, 5)) is None


def test_a_refused_cached_token_is_uploaded_again_once(api_env: Any, tmp_path: Path) -> None:
    data = photo(tmp_path, "3SBPQRS01/damage_photo_1.png")
    sheet = write_sheet(
        tmp_path, [["3SBPQRS01", "own_contract"]], ["tracking_number", "contract_type"]
    )
    journal = tmp_path / "j.sqlite3"
    book = Journal(journal, lambda: datetime.now(UTC))
    book.store_token(hashlib.sha256(data).hexdigest(), "image/png", "expired-token")
    book.close()
    result = run("submit", sheet, "--journal", journal, "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 0, result.output
    [ticket] = tickets(api_env)
    assert ticket["files"]["damage_photo_1"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert ticket["body"]["damage_photo_1"]["file_token"] != "expired-token"


def test_identical_files_upload_once_even_when_uploaded_ahead(api_env: Any, tmp_path: Path) -> None:
    rows = []
    for n in range(8):
        photo(tmp_path, f"3SCPQRS0{n}/damage_photo_1.png", salt=bytes([n]))
        photo(tmp_path, f"3SCPQRS0{n}/sales_invoice.png", salt=b"same invoice")
        rows.append([f"3SCPQRS0{n}", "own_contract"])
    sheet = write_sheet(tmp_path, rows, ["tracking_number", "contract_type"])
    result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 0, result.output
    uploads = requests.get(f"{api_env.root_url}/sandbox/files", timeout=5).json()
    assert len(uploads) == 9  # 8 distinct photos + one shared invoice
    created = tickets(api_env)
    assert Counter(t["body"]["tracking_number"] for t in created) == {
        f"3SCPQRS0{n}": 1 for n in range(8)
    }
    # Tickets went out in sheet order.
    assert [t["body"]["tracking_number"] for t in created] == [f"3SCPQRS0{n}" for n in range(8)]


def test_max_minutes_stops_cleanly_leaving_the_rest_not_attempted(
    sandbox_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory({"LATENCY": 0.2})
    monkeypatch.setenv("SENDCLOUD_BASE_URL", server.base_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "pk")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk")
    sheet = write_sheet(
        tmp_path,
        [[f"3SDPQRS0{n}", "own_contract"] for n in range(6)],
        ["tracking_number", "contract_type"],
    )
    # 0.005 minutes = 0.3 s: the first ticket (0.2 s latency) fits, not all six.
    result = run(
        "submit",
        sheet,
        "--journal",
        tmp_path / "j.sqlite3",
        "--quiet",
        "--max-minutes",
        "0.005",
        *SCALED_FLAGS,
    )
    assert result.exit_code == 1
    statuses = [r["status"] for r in results_rows(sheet.with_suffix(".results.xlsx"))]
    assert statuses[0] == "submitted"
    assert "not_attempted" in statuses
    assert statuses.count("submitted") == len(tickets(server))


def test_the_same_photo_for_two_parcels_is_a_warning_not_an_error(tmp_path: Path) -> None:
    photo(tmp_path, "shared.png", salt=b"one photo")
    sheet = write_sheet(
        tmp_path,
        [["3SEPQRS01", "own_contract", "shared.png"], ["3SEPQRS02", "own_contract", "shared.png"]],
        ["tracking_number", "contract_type", "damage_photo_1"],
    )
    result = run("validate", sheet)
    assert result.exit_code == 0
    assert (
        "row 3: damage_photo_1 (shared.png) is the very same file as a photo of row 2 (3SEPQRS01)"
        in result.output
    )


def test_refused_credentials_stop_the_uploads_queued_behind(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDCLOUD_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "bad")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk")
    rows = []
    for n in range(6):
        for name in ("damage_photo_1", "exterior_photo", "sales_invoice"):
            photo(tmp_path, f"3SFPQRS0{n}/{name}.png", salt=f"{n}{name}".encode())
        rows.append([f"3SFPQRS0{n}", "own_contract"])
    sheet = write_sheet(tmp_path, rows, ["tracking_number", "contract_type"])
    result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 3
    posts = requests.get(f"{sandbox.root_url}/sandbox/requests", timeout=5).json()
    # Only the uploads already under way when the first 401 came back (at most one per
    # worker), not the 18 the sheet needs.
    assert 1 <= len(posts) <= 6


def test_an_unusable_tracking_number_is_still_shown_in_results(tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path, [[340434161094015200, "own_contract"]], ["tracking_number", "contract_type"]
    )
    out = tmp_path / "out.xlsx"
    result = run("validate", sheet, "--out", out)
    assert result.exit_code == 1
    [row] = results_rows(out)
    assert row["status"] == "invalid"
    assert row["tracking_number"] == "340434161094015000"  # as Excel shows it
    assert "format the column as Text" in row["error_detail"]


def test_an_unexpected_error_costs_only_its_own_row(
    api_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_claims.api.client import SupportClient
    from batch_claims.send import ticket

    sheet = write_sheet(
        tmp_path,
        [
            ["3SGPQRS01", "own_contract"],
            ["3SGPQRS02", "own_contract"],
            ["3SGPQRS03", "own_contract"],
        ],
        ["tracking_number", "contract_type"],
    )
    real_build = ticket.build_payload
    real_create = SupportClient.create_ticket

    def build(claim: Claim, tokens: dict[str, str]) -> dict[str, Any]:
        if claim.tracking_number == "3SGPQRS01":
            raise RuntimeError("bug before the request")
        return real_build(claim, tokens)

    def create(
        self: SupportClient,
        payload: Any,
        is_portal_claim: bool = False,
        before_send: Any = None,
        ticket_type: str = "damage",
    ) -> Any:
        if payload["tracking_number"] == "3SGPQRS02":
            before_send()  # granted by the limits and recorded: the request is under way
            raise RuntimeError("bug while the request was under way")
        return real_create(self, payload, is_portal_claim, before_send, ticket_type)

    monkeypatch.setattr(ticket, "build_payload", build)
    monkeypatch.setattr(SupportClient, "create_ticket", create)
    journal = tmp_path / "j.sqlite3"
    result = run("submit", sheet, "--journal", journal, "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1
    rows = {r["tracking_number"]: r for r in results_rows(sheet.with_suffix(".results.xlsx"))}
    assert rows["3SGPQRS01"]["status"] == "failed"
    assert (
        rows["3SGPQRS01"]["error_detail"] == "internal error: RuntimeError: bug before the request"
    )
    assert rows["3SGPQRS02"]["status"] == "unconfirmed"  # the request may have gone out
    assert rows["3SGPQRS03"]["status"] == "submitted"
    book = Journal(journal, lambda: datetime.now(UTC))
    record = book.claim("3SGPQRS02", "damage")
    assert record is not None and record.state == "unconfirmed"


def test_a_file_that_vanished_after_checking_rejects_its_row_only(
    api_env: Any, tmp_path: Path
) -> None:
    from batch_claims.api.client import SupportClient
    from batch_claims.clock import SystemClock
    from batch_claims.send.uploads import Uploader
    from batch_claims.settings import Settings

    photo(tmp_path, "3SHPQRS01/damage_photo_1.png", salt=b"gone soon")
    sheet = write_sheet(
        tmp_path, [["3SHPQRS01", "own_contract"]], ["tracking_number", "contract_type"]
    )
    from batch_claims.validate.prepare import prepare

    settings = Settings(base_url=api_env.base_url, public_key="pk", secret_key="sk")
    [claim] = prepare(sheet, tmp_path / "photos", settings).claims
    (tmp_path / "photos/3SHPQRS01/damage_photo_1.png").unlink()
    book = Journal(":memory:", lambda: datetime.now(UTC))
    from batch_claims.send.submitter import connect

    with connect(settings, SystemClock(), book) as client:
        assert isinstance(client, SupportClient)
        uploader = Uploader(client, book, settings.token_max_age)
        with pytest.raises(Rejected, match="cannot be read any more"):
            uploader.tokens(claim)
        uploader.close()


def submit_rows(
    api_env: Any,
    tmp_path: Path,
    prefix: str,
    count: int,
    *,
    ticket_limit: Limit | None = None,
    on_wait: Callable[[Submitter], None] | None = None,
    **options: Any,
) -> tuple[list[RowOutcome], RunAborted | None, Journal]:
    """Own-contract rows PREFIX0, PREFIX1, … through prepare + Submitter directly (not the
    CLI), so a test can reach into the run; ``on_wait`` runs when a window makes it wait."""
    sheet = write_sheet(
        tmp_path,
        [[f"{prefix}{n}", "own_contract"] for n in range(count)],
        ["tracking_number", "contract_type"],
    )
    limits = {"ticket_limit": ticket_limit} if ticket_limit is not None else {}
    settings = Settings(base_url=api_env.base_url, public_key="pk", secret_key="sk", **limits)
    prepared = prepare(sheet, None, settings)
    book = Journal(tmp_path / "j.sqlite3", lambda: datetime.now(UTC))
    clock = SystemClock()
    running: list[Submitter] = []
    waited = None if on_wait is None else (lambda seconds, scope: on_wait(running[0]))
    with connect(settings, clock, book, waited) as client:
        running.append(Submitter(client, book, settings, clock, f"run-{prefix}", **options))
        outcomes, aborted = running[0].run(prepared.items)
    return outcomes, aborted, book


@pytest.mark.parametrize(
    ("where", "second"),
    [("after_record", "submitted"), ("after_ticket", "unconfirmed"), ("before_upload", "n/a")],
)
def test_an_interrupt_at_any_step_leaves_every_row_with_its_true_status(
    api_env: Any, tmp_path: Path, where: str, second: str
) -> None:
    reached = Counter[str]()

    def fault(point: str) -> None:
        reached[point] += 1
        if point == where and reached[point] == 2:
            raise KeyboardInterrupt

    outcomes, aborted, _ = submit_rows(api_env, tmp_path, "3SIPQRS0", 4, fault=fault)
    assert aborted is not None and "interrupted" in str(aborted)
    statuses = [o.status.value for o in outcomes]
    assert statuses[0] == "submitted"
    assert statuses[1] == (second if second != "n/a" else "not_attempted")
    assert statuses[2:] == ["not_attempted", "not_attempted"]
    sent = {t["body"]["tracking_number"] for t in tickets(api_env)}
    assert {o.tracking_number for o in outcomes if o.status.value == "submitted"} <= sent
    assert ("3SIPQRS01" in sent) == (where in ("after_record", "after_ticket"))


def test_a_second_interrupt_between_rows_still_gives_every_row_an_outcome(
    api_env: Any, tmp_path: Path
) -> None:
    def progress(outcome: RowOutcome) -> None:
        if outcome.row == 2:
            raise KeyboardInterrupt  # lands outside any row's handling

    outcomes, aborted, _ = submit_rows(api_env, tmp_path, "3SJPQRS0", 3, on_progress=progress)
    assert aborted is not None
    assert [o.status.value for o in outcomes] == ["submitted", "not_attempted", "not_attempted"]


def test_stopping_while_a_ticket_waits_for_its_window_sends_nothing_more(
    api_env: Any, tmp_path: Path
) -> None:
    """A signal while the next ticket waits for the ticket window: that ticket is not
    sent and not recorded in flight — it is not_attempted, never unconfirmed."""

    def signal_during_the_wait(submitter: Submitter) -> None:
        submitter.stop.request("stopped by SIGTERM")

    outcomes, aborted, book = submit_rows(
        api_env, tmp_path, "3SKPQRS0", 3, ticket_limit=Limit(1, 0.5), on_wait=signal_during_the_wait
    )
    assert [o.status.value for o in outcomes] == ["submitted", "not_attempted", "not_attempted"]
    assert [t["body"]["tracking_number"] for t in tickets(api_env)] == ["3SKPQRS00"]
    record = book.claim("3SKPQRS01", "damage")
    assert record is None or record.state == "not_created"
    assert book.unconfirmed() == []
