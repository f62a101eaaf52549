"""Throughput at the rate limits: the real pipeline against a strict sandbox.

Run: ``python benchmarks/throughput.py [--quick] [--latency MS ...] [--serial]``.

Writes a workload in a temporary folder (an xlsx sheet written with openpyxl and
small hand-made JPEG/PNG/PDF files): Sendcloud-rates rows with nine documents each,
whose purchase invoices are shared in groups (the same bytes), interleaved with
own-contract rows with zero to two documents. Every window is Sendcloud's divided by
20 (ticket 15 per 3 s, POSTs 100 per 3 s, burst 15 per 0.05 s), and the sandbox,
served in a child process, enforces the same limits strictly at arrival.

For each injected sandbox latency it runs, side by side, each against a fresh sandbox:

- ``pipeline``: ``prepare`` + ``Submitter`` wired as ``cli._submit`` wires them (a new
  journal per run, so no token is cached from an earlier run);
- ``naive``: the "sleep 4 s per ticket" script, scaled: for each row upload its files
  (no dedupe), post the ticket, sleep W/N of the ticket window; plain ``requests``;
  after a 429 it waits the Retry-After and sends the same request again.

and prints, from the sandbox's own arrival log (``/sandbox/requests``): the span from
first to last POST, the least span the limits allow for the least work the workload
needs, their ratio (least / achieved, 1.0 = at the ceiling), and the number of 429s.
Targets (issue 5): the pipeline at ratio ≥ 0.95 with no 429 at 0 and 50 ms latency,
≥ 0.90 at 150 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import struct
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import openpyxl
import requests

from batch_claims.clock import SystemClock
from batch_claims.limits import Limit
from batch_claims.outcome import RowOutcome, Status
from batch_claims.send.journal import Journal
from batch_claims.send.payload import build_payload
from batch_claims.send.plan import plan
from batch_claims.send.submitter import Submitter, connect
from batch_claims.settings import Settings
from batch_claims.validate.prepare import Prepared, prepare

# Sendcloud's limits (15 tickets/min, 100 POSTs/min, 15 POSTs/s) with every window / 20.
TICKET_LIMIT = Limit(15, 3.0)
REQUEST_LIMIT = Limit(100, 3.0)
BURST_LIMIT = Limit(15, 0.05)
LATENCIES_MS = (0, 50, 150)
TARGETS = {0: 0.95, 50: 0.95, 150: 0.90}  # least ratio by latency (ms), with zero 429s

PUBLIC_KEY, SECRET_KEY = "bench-public", "bench-secret"
API_PREFIX = "/api/v3"
TICKET_PATH = "/dsf/tickets/damage"
FILE_SIZE = 4096  # bytes per generated document

RATES_DOCUMENTS = (
    ("customer_confirmation", "pdf"),
    ("sales_invoice", "pdf"),
    ("purchase_invoice", "pdf"),  # shared: one invoice for a group of rows
    ("exterior_photo", "jpg"),
    ("interior_photo", "jpg"),
    ("damage_photo_1", "jpg"),
    ("damage_photo_2", "jpg"),
    ("package_photo", "png"),
    ("entire_product_photo", "jpg"),
)
HEADERS = (
    "tracking_number",
    "contract_type",
    "carrier_contract_id",
    "contents_sales_price",
    "contents_sales_currency",
    "contents_description",
    "parcel_exterior_description",
    "additional_remarks",
    "purchase_invoice",
    "sales_invoice",
)


# --- small valid files, made by hand ------------------------------------------------


def jpeg_bytes(tag: str, size: int = FILE_SIZE) -> bytes:
    """SOI, a JFIF APP0 segment, a comment segment carrying ``tag`` (padded), EOI."""
    app0 = b"JFIF\x00" + bytes([1, 1, 0]) + struct.pack(">HH", 1, 1) + b"\x00\x00"
    comment = tag.encode().ljust(max(size - 30, len(tag)), b".")[:65000]
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(tag: str, size: int = FILE_SIZE) -> bytes:
    """A 1×1 grey PNG whose tEXt chunk carries ``tag`` (padded)."""
    text = b"Comment\x00" + tag.encode().ljust(max(size - 120, len(tag)), b".")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + _png_chunk(b"tEXt", text)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


def pdf_bytes(tag: str, size: int = FILE_SIZE) -> bytes:
    """A one-page PDF whose leading comment carries ``tag`` (padded)."""
    body = (
        b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    comment = b"% " + tag.encode().ljust(max(size - len(body) - 20, len(tag)), b".") + b"\n"
    return b"%PDF-1.4\n" + comment + body


MAKERS: dict[str, Callable[[str, int], bytes]] = {
    "jpg": jpeg_bytes,
    "png": png_bytes,
    "pdf": pdf_bytes,
}


# --- the workload -------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A sheet and its photos folder, and what the least work for them is."""

    sheet: Path
    photos: Path
    tracking_numbers: tuple[str, ...]
    rates_rows: int
    own_rows: int
    document_cells: int  # documents over all rows: what a loop without dedupe uploads
    distinct_files: int  # distinct contents: what needs uploading at least once

    @property
    def tickets(self) -> int:
        return len(self.tracking_numbers)


def _own_positions(total: int, own: int) -> set[int]:
    """Spread ``own`` rows evenly among ``total``."""
    return {int((j + 0.5) * total / own) for j in range(own)} if own else set()


def write_workload(
    folder: Path,
    rates_rows: int = 40,
    own_rows: int = 20,
    shared_invoices: int = 4,
    file_size: int = FILE_SIZE,
) -> Workload:
    """Write ``claims.xlsx`` and ``photos/`` in ``folder``; rows of both variants.

    Sendcloud-rates rows have nine documents: eight of their own (found by the folder
    convention ``photos/<tracking number>/<column>.<ext>``) and a purchase invoice typed
    as a path, one of ``shared_invoices`` files (row i takes invoice i mod n). Own-contract
    rows have zero, one (a damage photo) or two documents (and a sales invoice, one of
    two shared files), in turn.
    """
    photos = folder / "photos"
    (photos / "invoices").mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes] = {}  # sha256 → bytes, to count distinct files

    def write(path: Path, kind: str, tag: str) -> None:
        if not path.exists():
            data = MAKERS[kind](tag, file_size)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        data = path.read_bytes()
        contents[hashlib.sha256(data).hexdigest()] = data

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Claims"
    sheet.append(list(HEADERS))
    total = rates_rows + own_rows
    own_at = _own_positions(total, own_rows)
    tracking_numbers: list[str] = []
    cells = rates_seen = own_seen = 0
    for index in range(total):
        if index in own_at:
            tracking = f"JJDBENCH{index:05d}"
            documents = own_seen % 3
            own_seen += 1
            sales_invoice = None
            if documents >= 1:
                write(photos / tracking / "damage_photo_1.jpg", "jpg", f"{tracking} damage 1")
            if documents >= 2:
                sales_invoice = f"invoices/sales-{own_seen % 2}.pdf"
                write(photos / sales_invoice, "pdf", f"shared sales invoice {own_seen % 2}")
            cells += documents
            row: list[object] = [tracking, "own_contract", 4711, None, None]
            row += [f"Glassware, row {index + 2}", None, None, None, sales_invoice]
        else:
            tracking = f"3SBENCH{index:05d}"
            invoice = f"invoices/purchase-{rates_seen % shared_invoices}.pdf"
            rates_seen += 1
            for column, kind in RATES_DOCUMENTS:
                if column == "purchase_invoice":
                    write(photos / invoice, "pdf", f"shared purchase invoice {invoice}")
                else:
                    write(photos / tracking / f"{column}.{kind}", kind, f"{tracking} {column}")
            cells += len(RATES_DOCUMENTS)
            row = [tracking, "sendcloud_rates", None, "49.95", "EUR", "2 mugs, 1 teapot"]
            row += ["White box, blue tape", f"Spout broken, row {index + 2}", invoice, None]
        tracking_numbers.append(tracking)
        sheet.append(row)
    path = folder / "claims.xlsx"
    workbook.save(path)
    return Workload(
        path, photos, tuple(tracking_numbers), rates_rows, own_rows, cells, len(contents)
    )


# --- the least span ------------------------------------------------------------------


def least_span(tickets: int, posts: int) -> tuple[float, str]:
    """The least first-to-last POST span the limits allow at their sustained rates.

    K requests in a scope limited to N per W seconds go out at no more than N/W a second
    sustained, so the first and the last are at least (K - 1)·W/N apart. K is the least
    work: tickets for the ticket scope, distinct files + tickets for the request and burst
    scopes. The binding scope is the one with the largest span:

        least = max((K_ticket - 1)·W_ticket/N_ticket,
                    (K_post - 1)·W_request/N_request,
                    (K_post - 1)·W_burst/N_burst)

    (A strict window lets the first N through at once, so a run can beat this by up to
    one window's worth of the remainder; a ratio slightly above 1.0 is possible.)
    """
    spans = {
        "ticket": max(tickets - 1, 0) * TICKET_LIMIT.seconds / TICKET_LIMIT.count,
        "request": max(posts - 1, 0) * REQUEST_LIMIT.seconds / REQUEST_LIMIT.count,
        "burst": max(posts - 1, 0) * BURST_LIMIT.seconds / BURST_LIMIT.count,
    }
    scope = max(spans, key=lambda name: spans[name])
    return spans[scope], scope


# --- the sandbox, in a child process ---------------------------------------------------


def sandbox_config(latency: float) -> dict[str, object]:
    return {
        "TICKET_LIMIT": (TICKET_LIMIT.count, TICKET_LIMIT.seconds),
        "REQUEST_LIMIT": (REQUEST_LIMIT.count, REQUEST_LIMIT.seconds),
        "BURST_LIMIT": (BURST_LIMIT.count, BURST_LIMIT.seconds),
        # Whole-second Retry-After would be 20 "minutes" at this scale: send it scaled too.
        "RETRY_AFTER_FLOAT": True,
        "LATENCY": latency,
    }


def _serve_in_child(config: dict[str, object], conn: Connection) -> None:
    from batch_claims.sandbox import serve

    with serve(config) as server:
        conn.send(server.root_url)
        try:
            conn.recv()  # "stop", or EOF when the parent is gone
        except EOFError:
            pass


@contextmanager
def sandbox_process(config: dict[str, object]) -> Iterator[str]:
    """A sandbox served in a child process (its own GIL, as a real server); its root URL."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_in_child, args=(config, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(60):
            raise RuntimeError("the sandbox did not start within 60 s")
        root_url: str = parent.recv()
        yield root_url
    finally:
        try:
            parent.send("stop")
        except OSError:
            pass
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join()


def _get(root_url: str, route: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{root_url}{route}", timeout=30)
    answer.raise_for_status()
    data: list[dict[str, Any]] = answer.json()
    return data


# --- the two contenders --------------------------------------------------------------


def run_pipeline(prepared: Prepared, root_url: str, folder: Path) -> dict[str, int]:
    """The real pipeline, wired as ``cli._submit`` wires it; returns the client's stats."""
    settings = Settings(
        base_url=f"{root_url}{API_PREFIX}",
        public_key=PUBLIC_KEY,
        secret_key=SECRET_KEY,
        ticket_limit=TICKET_LIMIT,
        request_limit=REQUEST_LIMIT,
        burst_limit=BURST_LIMIT,
        journal=folder / f"journal-{uuid.uuid4().hex}.sqlite3",
    )
    clock = SystemClock()
    book = Journal(settings.journal_path(), clock.utcnow)
    try:
        book.bind_account(settings.account)
        with connect(settings, clock, book) as client:
            submitter = Submitter(client, book, settings, clock, uuid.uuid4().hex)
            outcomes, aborted = submitter.run(prepared.items)
    finally:
        book.close()
    if aborted is not None:
        raise aborted
    return {
        "submitted": sum(o.status is Status.SUBMITTED for o in outcomes),
        "rate_limited": client.stats.rate_limited,
        "retries": client.stats.retries,
    }


def run_naive(prepared: Prepared, root_url: str) -> dict[str, int]:
    """For each row: upload its files, post the ticket, sleep W/N of the ticket window."""
    clock = SystemClock()
    pause = TICKET_LIMIT.seconds / TICKET_LIMIT.count
    base = f"{root_url}{API_PREFIX}"
    seen_429 = 0

    def post(session: requests.Session, path: str, key: str, **kwargs: Any) -> str:
        nonlocal seen_429
        while True:
            answer = session.post(f"{base}{path}", timeout=60, **kwargs)
            if answer.status_code != 429:
                answer.raise_for_status()
                value: str = answer.json()[key]
                return value
            seen_429 += 1
            clock.sleep(float(answer.headers.get("Retry-After", pause)))

    with requests.Session() as session:
        session.auth = (PUBLIC_KEY, SECRET_KEY)
        for claim in prepared.claims:
            tokens = {
                name: post(
                    session,
                    "/dsf/files",
                    "file_token",
                    files={"file": (a.filename, a.path.read_bytes(), a.content_type)},
                )
                for name, a in claim.attachments.items()
            }
            post(session, TICKET_PATH, "ticket_id", json=build_payload(claim, tokens))
            clock.sleep(pause)
    return {"rate_limited": seen_429}


# --- one measured run ----------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What one run achieved, read from the sandbox's own logs."""

    run: str
    latency_ms: int
    posts: int
    span: float
    least: float
    rejected_429: int  # in the sandbox's arrival log
    client_429: int | None  # counted by the client (pipeline only)
    tickets_ok: bool  # every row exactly one ticket
    uploads: int
    distinct_uploads: int
    wall: float

    @property
    def ratio(self) -> float:
        return self.least / self.span if self.span > 0 else float("inf")


def measure(
    run: str,
    latency_ms: int,
    workload: Workload,
    contender: Callable[[str], dict[str, int]],
) -> Figures:
    """Run ``contender`` against a fresh sandbox; read the figures from its logs."""
    with sandbox_process(sandbox_config(latency_ms / 1000)) as root_url:
        started = time.monotonic()
        stats = contender(root_url)
        wall = time.monotonic() - started
        arrivals = _get(root_url, "/sandbox/requests")
        tickets = _get(root_url, "/sandbox/tickets")
        files = _get(root_url, "/sandbox/files")
    times = sorted(float(entry["arrived_at"]) for entry in arrivals)
    per_row = Counter(str(t["body"]["tracking_number"]) for t in tickets)
    least, _ = least_span(workload.tickets, workload.distinct_files + workload.tickets)
    return Figures(
        run=run,
        latency_ms=latency_ms,
        posts=len(times),
        span=times[-1] - times[0] if times else 0.0,
        least=least,
        rejected_429=sum(entry["status"] == 429 for entry in arrivals),
        client_429=stats.get("rate_limited") if run == "pipeline" else None,
        tickets_ok=per_row == Counter(workload.tracking_numbers),
        uploads=len(files),
        distinct_uploads=len({(f["sha256"], f["content_type"]) for f in files}),
        wall=wall,
    )


# --- the report ----------------------------------------------------------------------


def describe(workload: Workload, prepared: Prepared, settings: Settings) -> list[str]:
    posts = workload.distinct_files + workload.tickets
    least, scope = least_span(workload.tickets, posts)
    the_plan = plan(prepared, Journal(":memory:", SystemClock().utcnow), settings)
    return [
        f"workload: {workload.tickets} rows ({workload.rates_rows} Sendcloud rates, "
        f"{workload.own_rows} own contract), {workload.document_cells} documents, "
        f"{workload.distinct_files} distinct files",
        f"limits: ticket {TICKET_LIMIT}, request {REQUEST_LIMIT}, burst {BURST_LIMIT} "
        "(Sendcloud's, every window / 20), enforced strictly by the sandbox",
        f"least work: {workload.tickets} tickets + {workload.distinct_files} uploads = "
        f"{posts} POSTs; least span max((K-1)·W/N) = {least:.2f} s ({scope} window)",
        f"pipeline.plan: {the_plan.tickets} tickets + {the_plan.uploads} uploads, "
        f"least {the_plan.least_seconds:.2f} s (its strict-window bound, floor((K-1)/N)·W)",
    ]


def table(results: Sequence[Figures]) -> list[str]:
    header = "latency run POSTs uploads span_s least_s ratio 429s tickets target wall_s".split()
    widths = (7, 8, 5, 8, 7, 7, 5, 5, 7, 9, 6)
    lines = [
        "  ".join(
            f"{text.replace('_', ' '):>{width}}" for text, width in zip(header, widths, strict=True)
        )
    ]
    for fig in results:
        target = TARGETS.get(fig.latency_ms)
        verdict = "-"
        if fig.run == "pipeline" and target is not None:
            met = fig.ratio >= target and fig.rejected_429 == 0 and fig.tickets_ok
            verdict = f"{'ok' if met else 'MISS'} {target:.2f}"
        seen = str(fig.rejected_429)
        if fig.client_429 is not None and fig.client_429 != fig.rejected_429:
            seen += f"/{fig.client_429}"  # arrival log / client stats disagree
        cells = (
            f"{fig.latency_ms} ms",
            fig.run,
            str(fig.posts),
            f"{fig.uploads}/{fig.distinct_uploads}",
            f"{fig.span:.2f}",
            f"{fig.least:.2f}",
            f"{fig.ratio:.2f}",
            seen,
            "once" if fig.tickets_ok else "WRONG",
            verdict,
            f"{fig.wall:.1f}",
        )
        lines.append(
            "  ".join(f"{text:>{width}}" for text, width in zip(cells, widths, strict=True))
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="12 + 6 rows instead of 40 + 20")
    parser.add_argument(
        "--latency",
        type=int,
        action="append",
        metavar="MS",
        help="injected sandbox latency in ms (repeatable; default 0, 50, 150)",
    )
    parser.add_argument(
        "--serial", action="store_true", help="run the naive loop after the pipeline, not beside"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    args = parser.parse_args(argv)
    latencies = tuple(args.latency) if args.latency else LATENCIES_MS

    with tempfile.TemporaryDirectory(prefix="batch-claims-bench-") as name:
        folder = Path(name)
        if args.quick:
            workload = write_workload(folder, rates_rows=12, own_rows=6, shared_invoices=2)
        else:
            workload = write_workload(folder)
        settings = Settings(
            ticket_limit=TICKET_LIMIT, request_limit=REQUEST_LIMIT, burst_limit=BURST_LIMIT
        )
        prepared = prepare(workload.sheet, workload.photos, settings)
        invalid = [item for item in prepared.items if isinstance(item, RowOutcome)]
        if invalid or len(prepared.claims) != workload.tickets:
            raise SystemExit(f"the generated workload has invalid rows: {invalid[:3]}")
        for line in describe(workload, prepared, settings):
            print(line, flush=True)

        results: list[Figures] = []
        for latency in latencies:
            pipeline = (
                "pipeline",
                latency,
                workload,
                lambda url: run_pipeline(prepared, url, folder),
            )
            naive = ("naive", latency, workload, lambda url: run_naive(prepared, url))
            if args.no_naive:
                results.append(measure(*pipeline))
            elif args.serial:
                results.append(measure(*pipeline))
                results.append(measure(*naive))
            else:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    futures = [pool.submit(measure, *pipeline), pool.submit(measure, *naive)]
                    results.extend(future.result() for future in futures)
            print(f"  … {latency} ms done", file=sys.stderr, flush=True)
        print()
        for line in table(results):
            print(line)
        print(
            "\nratio = least / span (1.0 = at the ceiling); uploads = files the sandbox "
            "received / distinct contents;\n429s from the sandbox's arrival log "
            "(a/b: arrival log / client stats); pipeline and naive each had a fresh sandbox"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
