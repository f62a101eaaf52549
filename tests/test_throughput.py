"""At the limits, never over them: a workload of both variants through the real pipeline
(the CLI in-process) against a sandbox with tight windows, checked from the sandbox's own
arrival log (``/sandbox/requests``), not from anything the client says about itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from benchmarks.throughput import Workload, write_workload
from tests.helpers import point_at, run, sandbox_list, statuses, summary

# Small windows so six rows (34 POSTs) meet every limit: 3 tickets and 10 POSTs per
# 0.3 s, at most 4 POSTs per 0.05 s.
TIGHT: dict[str, object] = {
    "TICKET_LIMIT": (3, 0.3),
    "REQUEST_LIMIT": (10, 0.3),
    "BURST_LIMIT": (4, 0.05),
    "RETRY_AFTER_FLOAT": True,
}
TIGHT_FLAGS = ["--ticket-limit", "3/0.3", "--request-limit", "10/0.3", "--burst-limit", "4/0.05"]
TICKET_PATH = "/api/v3/dsf/tickets/damage"
# Arrival times are wall-clock floats (~1.7e9 s): their resolution is well under 1 µs.
EPSILON = 1e-6


def crowded_spans(times: Sequence[float], count: int, seconds: float) -> list[tuple[float, float]]:
    """The spans where more than ``count`` arrivals fell within ``seconds``.

    The sandbox admits an arrival at ``now`` only while fewer than ``count`` earlier ones
    have ``t > now - seconds``: one exactly ``seconds`` after another is allowed. So in
    sorted order the arrival ``count`` places after ``times[i]`` must be at least
    ``seconds`` later; each ``(times[i], times[i + count])`` closer than that is a span
    holding ``count + 1`` arrivals.
    """
    ordered = sorted(times)
    return [
        (ordered[i], ordered[i + count])
        for i in range(len(ordered) - count)
        if ordered[i + count] - ordered[i] < seconds - EPSILON
    ]


def test_crowded_spans_follows_the_sandbox_window_rule() -> None:
    assert crowded_spans([0.0, 0.1, 0.2, 0.3], 3, 0.3) == []  # exactly W apart: allowed
    assert crowded_spans([0.3, 0.0, 0.2, 0.1], 3, 0.3) == []  # order does not matter
    assert crowded_spans([0.0, 0.1, 0.2, 0.29], 3, 0.3) == [(0.0, 0.29)]
    assert crowded_spans([0.0, 0.0, 0.0, 0.0, 0.5], 3, 0.3) == [(0.0, 0.0)]
    assert crowded_spans([1.0, 2.0], 3, 0.3) == []


def windows_overfilled(log: Sequence[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """Per scope, the spans of the arrival log holding more than the scope's limit."""
    posts = [float(entry["arrived_at"]) for entry in log]
    tickets = [float(entry["arrived_at"]) for entry in log if entry["path"] == TICKET_PATH]
    found = {
        "ticket": crowded_spans(tickets, 3, 0.3),
        "request": crowded_spans(posts, 10, 0.3),
        "burst": crowded_spans(posts, 4, 0.05),
    }
    return {scope: spans for scope, spans in found.items() if spans}


def submit(workload: Workload, out: Path, tmp_path: Path) -> Result:
    journal = tmp_path / "journal.sqlite3"
    return run(
        "submit", workload.sheet, "--out", out, "--quiet", *TIGHT_FLAGS, "--journal", journal
    )


@pytest.fixture
def workload(tmp_path: Path) -> Workload:
    """6 rows, both variants: the rates rows share one purchase invoice, the own-contract
    rows have zero, one and two documents."""
    return write_workload(tmp_path / "week", rates_rows=3, own_rows=3, shared_invoices=1)


@pytest.mark.parametrize("latency", [0.0, 0.02])
def test_no_window_ever_holds_more_than_its_limit(
    latency: float,
    workload: Workload,
    sandbox_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server = sandbox_factory({**TIGHT, "LATENCY": latency})
    point_at(monkeypatch, server.base_url)
    out = tmp_path / "results.xlsx"
    result = submit(workload, out, tmp_path)
    assert result.exit_code == 0, result.output

    log = sandbox_list(server, "requests")
    assert [e for e in log if e["status"] == 429] == []
    assert windows_overfilled(log) == {}
    # Every valid row got exactly one ticket.
    assert statuses(out) == ["submitted"] * workload.tickets
    created = Counter(t["body"]["tracking_number"] for t in sandbox_list(server, "tickets"))
    assert created == Counter(workload.tracking_numbers)
    # Identical files (the shared invoices) went up once: as many uploads as contents.
    uploads = Counter(f["sha256"] for f in sandbox_list(server, "files"))
    assert set(uploads.values()) == {1}
    assert len(uploads) == workload.distinct_files < workload.document_cells
    assert len(log) == workload.distinct_files + workload.tickets


def test_spurious_429s_are_retried_and_counted_in_the_summary(
    workload: Workload,
    sandbox_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server = sandbox_factory({**TIGHT, "RATE_LIMIT_BURST_RATE": 0.1, "SEED": 5})
    point_at(monkeypatch, server.base_url)
    out = tmp_path / "results.xlsx"
    result = submit(workload, out, tmp_path)
    assert result.exit_code == 0, result.output

    log = sandbox_list(server, "requests")
    refused = sum(e["status"] == 429 for e in log)
    assert refused > 0
    assert windows_overfilled([e for e in log if e["status"] != 429]) == {}
    assert statuses(out) == ["submitted"] * workload.tickets
    created = Counter(t["body"]["tracking_number"] for t in sandbox_list(server, "tickets"))
    assert created == Counter(workload.tracking_numbers)
    stats = summary(out)
    assert stats["rate_limited_429"] == refused
    assert isinstance(stats["retries"], int) and stats["retries"] >= refused
