"""Claims and their ticket attempts: the journal's record of what was sent.

A ticket attempt is written ``in_flight`` and committed *before* the request is sent
(``begin_attempt``), and its answer right after (``finish_attempt``); a leftover
``in_flight`` is therefore a request whose outcome nobody knows, reported
``unconfirmed`` and never resent automatically. Each attempt keeps the hash of the
request it sent and the API's answer, so a row refused for what it contains is not
sent again while it is unchanged (``holdback``); each claim keeps what it sent
(``claim_json``), so a later sheet that differs from it is pointed out.

Two rules no sequence of calls can break: a claim that once had a ticket never
becomes sendable (``not_created``) again, and a claim whose earlier request may have
reached Sendcloud stays ``unconfirmed`` until the user resolves it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from batch_claims.errors import InputError
from batch_claims.send.journal.core import JournalCore, guarded
from batch_claims.send.journal.integrity import stored
from batch_claims.send.journal.schema import (
    CREATED,
    IN_FLIGHT,
    NOT_CREATED,
    UNCONFIRMED,
    ClaimState,
)

_QUERY_CHUNK = 500  # tracking numbers per IN (…) query, well below SQLite's variable limit


@dataclass(frozen=True)
class ClaimRecord:
    tracking_number: str
    ticket_type: str
    state: ClaimState
    ticket_id: str | None
    claim: dict[str, Any] | None  # the claim as last sent (normalised, from JSON)
    run_id: str | None
    updated_at: str


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    run_id: str
    tracking_number: str
    state: ClaimState
    started_at: str
    finished_at: str | None
    http_status: int | None
    error_code: str | None
    detail: str | None
    ticket_id: str | None
    payload_hash: str | None = None  # payload.request_hash of what the attempt sent


class Claims(JournalCore):
    """Reading and recording claims and their attempts."""

    @guarded
    def claim(self, tracking_number: str, ticket_type: str) -> ClaimRecord | None:
        row = self.db.execute(
            "SELECT * FROM claims WHERE tracking_number = ? AND ticket_type = ?",
            (tracking_number, ticket_type),
        ).fetchone()
        return None if row is None else _claim_record(row)

    @guarded
    def claims_of(
        self, tracking_numbers: Sequence[str], ticket_type: str
    ) -> dict[str, ClaimRecord]:
        """The records of many claims at once, by tracking number (those the journal
        knows): a few indexed queries for a whole sheet instead of one per row."""
        wanted = list(dict.fromkeys(tracking_numbers))
        found: dict[str, ClaimRecord] = {}
        for start in range(0, len(wanted), _QUERY_CHUNK):
            chunk = wanted[start : start + _QUERY_CHUNK]
            rows = self.db.execute(
                f"SELECT * FROM claims WHERE ticket_type = ? AND tracking_number IN "
                f"({', '.join('?' * len(chunk))})",
                (ticket_type, *chunk),
            )
            found.update((row["tracking_number"], _claim_record(row)) for row in rows)
        return found

    @guarded
    def claims(self, tracking_number: str | None = None) -> list[ClaimRecord]:
        if tracking_number is None:
            rows = self.db.execute("SELECT * FROM claims ORDER BY updated_at, tracking_number")
        else:
            rows = self.db.execute(
                "SELECT * FROM claims WHERE tracking_number = ? ORDER BY ticket_type",
                (tracking_number,),
            )
        return [_claim_record(row) for row in rows]

    @guarded
    def unconfirmed(self) -> Sequence[ClaimRecord]:
        rows = self.db.execute(
            "SELECT * FROM claims WHERE state IN (?, ?) ORDER BY updated_at",
            (IN_FLIGHT, UNCONFIRMED),
        )
        return [_claim_record(row) for row in rows]

    @guarded
    def attempts(self, tracking_number: str) -> list[AttemptRecord]:
        rows = self.db.execute(
            "SELECT * FROM attempts WHERE tracking_number = ? ORDER BY id", (tracking_number,)
        )
        return [_attempt_record(r) for r in rows]

    @guarded
    def last_attempts(
        self, tracking_numbers: Sequence[str], ticket_type: str
    ) -> dict[str, AttemptRecord]:
        """The latest attempt of each of these claims that has one, by tracking number
        (a few queries for any number of claims)."""
        latest: dict[str, AttemptRecord] = {}
        numbers = list(dict.fromkeys(tracking_numbers))
        for start in range(0, len(numbers), _QUERY_CHUNK):
            chunk = numbers[start : start + _QUERY_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT * FROM attempts WHERE id IN (SELECT max(id) FROM attempts "
                f"WHERE ticket_type = ? AND tracking_number IN ({marks}) "
                "GROUP BY tracking_number)",
                (ticket_type, *chunk),
            )
            latest.update((r["tracking_number"], _attempt_record(r)) for r in rows)
        return latest

    @guarded
    def begin_attempt(
        self,
        run_id: str,
        tracking_number: str,
        ticket_type: str,
        payload_hash: str,
        claim: dict[str, Any],
    ) -> int:
        """Record the attempt ``in_flight`` and commit, before the request is sent."""
        stamp = self._stamp()
        with self.atomic():
            cursor = self.db.execute(
                "INSERT INTO attempts (run_id, tracking_number, ticket_type, payload_hash, "
                "state, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, tracking_number, ticket_type, payload_hash, IN_FLIGHT, stamp),
            )
            self.db.execute(
                "INSERT INTO claims (tracking_number, ticket_type, state, claim_json, "
                "run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tracking_number, ticket_type) DO UPDATE SET "
                "state = excluded.state, claim_json = excluded.claim_json, "
                "run_id = excluded.run_id, updated_at = excluded.updated_at, ticket_id = NULL",
                (
                    tracking_number,
                    ticket_type,
                    IN_FLIGHT,
                    json.dumps(claim, sort_keys=True),
                    run_id,
                    stamp,
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @guarded
    def finish_attempt(
        self,
        attempt_id: int,
        state: ClaimState,
        *,
        ticket_id: str | None = None,
        http_status: int | None = None,
        error_code: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record the answer of an attempt (state CREATED, NOT_CREATED or UNCONFIRMED)."""
        stamp = self._stamp()
        with self.atomic():
            row = self.db.execute(
                "SELECT tracking_number, ticket_type FROM attempts WHERE id = ?", (attempt_id,)
            ).fetchone()
            self.db.execute(
                "UPDATE attempts SET state = ?, finished_at = ?, http_status = ?, "
                "error_code = ?, detail = ?, ticket_id = ? WHERE id = ?",
                (state, stamp, http_status, error_code, detail, ticket_id, attempt_id),
            )
            if state == NOT_CREATED:  # a resend refused: what came before still stands
                earlier = self._earlier_ticket(row["tracking_number"], row["ticket_type"])
                if earlier is not None:
                    state, ticket_id = CREATED, earlier
                elif self._earlier_unknown(row["tracking_number"], row["ticket_type"]):
                    state = UNCONFIRMED
            self.db.execute(
                "UPDATE claims SET state = ?, ticket_id = ?, updated_at = ? "
                "WHERE tracking_number = ? AND ticket_type = ?",
                (state, ticket_id, stamp, row["tracking_number"], row["ticket_type"]),
            )

    def _earlier_ticket(self, tracking_number: str, ticket_type: str) -> str | None:
        """The newest ticket an earlier attempt created for this claim, if any: a claim
        that once had a ticket never becomes sendable again (``not_created``)."""
        row = self.db.execute(
            "SELECT ticket_id FROM attempts WHERE tracking_number = ? AND ticket_type = ? "
            "AND state = ? AND ticket_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (tracking_number, ticket_type, CREATED),
        ).fetchone()
        return None if row is None else str(row["ticket_id"])

    def _earlier_unknown(self, tracking_number: str, ticket_type: str) -> bool:
        """Whether an earlier attempt's outcome is still unknown (never resolved)."""
        row = self.db.execute(
            "SELECT 1 FROM attempts WHERE tracking_number = ? AND ticket_type = ? "
            "AND state IN (?, ?) LIMIT 1",
            (tracking_number, ticket_type, IN_FLIGHT, UNCONFIRMED),
        ).fetchone()
        return row is not None

    @guarded
    def resolve(self, tracking_number: str, ticket_type: str, ticket_id: str | None) -> None:
        """Close an unconfirmed claim with what the user found in the Sendcloud panel."""
        record = self.claim(tracking_number, ticket_type)
        if record is None:
            raise InputError(f"the journal has no claim for tracking number {tracking_number}")
        if record.state not in (IN_FLIGHT, UNCONFIRMED):
            raise InputError(
                f"{tracking_number} is {record.state}, not unconfirmed; nothing to resolve"
            )
        state = CREATED if ticket_id else NOT_CREATED
        # "Not created" for a forced resend: the claim keeps the ticket it had before.
        claim_state, claim_ticket = state, ticket_id
        if state == NOT_CREATED:
            earlier = self._earlier_ticket(tracking_number, ticket_type)
            if earlier is not None:
                claim_state, claim_ticket = CREATED, earlier
        with self.atomic():
            self.db.execute(
                "UPDATE claims SET state = ?, ticket_id = ?, updated_at = ? "
                "WHERE tracking_number = ? AND ticket_type = ?",
                (claim_state, claim_ticket, self._stamp(), tracking_number, ticket_type),
            )
            self.db.execute(
                "UPDATE attempts SET state = ?, ticket_id = ?, detail = "
                "coalesce(detail || '; ', '') || 'resolved by the user' "
                "WHERE tracking_number = ? AND ticket_type = ? AND state IN (?, ?)",
                (state, ticket_id, tracking_number, ticket_type, IN_FLIGHT, UNCONFIRMED),
            )

    @guarded
    def resolve_in_flight_as_unconfirmed(self, tracking_number: str, ticket_type: str) -> None:
        """A leftover ``in_flight`` (a run died mid-request) becomes ``unconfirmed``."""
        with self.atomic():
            self.db.execute(
                "UPDATE claims SET state = ? WHERE tracking_number = ? AND ticket_type = ? "
                "AND state = ?",
                (UNCONFIRMED, tracking_number, ticket_type, IN_FLIGHT),
            )
            self.db.execute(
                "UPDATE attempts SET state = ?, detail = 'outcome unknown: the run stopped "
                "before the answer was recorded' WHERE tracking_number = ? AND ticket_type = ? "
                "AND state = ?",
                (UNCONFIRMED, tracking_number, ticket_type, IN_FLIGHT),
            )


def _attempt_record(row: sqlite3.Row) -> AttemptRecord:
    return AttemptRecord(
        row["id"],
        row["run_id"],
        row["tracking_number"],
        stored(ClaimState, row["state"]),
        row["started_at"],
        row["finished_at"],
        row["http_status"],
        row["error_code"],
        row["detail"],
        row["ticket_id"],
        row["payload_hash"],
    )


def _claim_record(row: sqlite3.Row) -> ClaimRecord:
    claim_json = row["claim_json"]
    return ClaimRecord(
        tracking_number=row["tracking_number"],
        ticket_type=row["ticket_type"],
        state=stored(ClaimState, row["state"]),
        ticket_id=row["ticket_id"],
        claim=stored(json.loads, claim_json) if claim_json else None,
        run_id=row["run_id"],
        updated_at=row["updated_at"],
    )
