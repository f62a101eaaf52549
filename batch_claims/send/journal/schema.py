"""The journal's vocabulary and its tables: the claim states (``ClaimState``) and the
named, ordered schema steps (``MIGRATIONS``) that bring any earlier journal to this
release's tables. A journal's ``PRAGMA user_version`` is the number of steps applied;
``core.JournalCore`` applies the missing ones, each in one transaction, when it opens.

A step is never edited once released: a later release adds a step. Every step keeps
every row (claims, attempts, tokens, runs) of the journal it changes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from enum import StrEnum


class ClaimState(StrEnum):
    """What the journal knows of a claim (and of each ticket attempt)."""

    IN_FLIGHT = "in_flight"  # request being sent; outcome unknown until recorded
    CREATED = "created"  # Sendcloud answered with a ticket id (or the user resolved it so)
    NOT_CREATED = "not_created"  # refused or never processed; may be sent again
    UNCONFIRMED = "unconfirmed"  # may or may not exist; the user must check the panel


IN_FLIGHT = ClaimState.IN_FLIGHT
CREATED = ClaimState.CREATED
NOT_CREATED = ClaimState.NOT_CREATED
UNCONFIRMED = ClaimState.UNCONFIRMED


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Statements one by one: ``executescript`` would commit the open transaction."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _step_1_initial(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE claims (
            tracking_number TEXT NOT NULL,
            ticket_type TEXT NOT NULL,
            state TEXT NOT NULL,
            ticket_id TEXT,
            payload_hash TEXT,
            fingerprint TEXT,
            claim_json TEXT,
            run_id TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tracking_number, ticket_type)
        );
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            tracking_number TEXT NOT NULL,
            ticket_type TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            http_status INTEGER,
            error_code TEXT,
            detail TEXT,
            ticket_id TEXT
        );
        CREATE INDEX attempts_by_claim ON attempts (tracking_number, ticket_type);
        CREATE TABLE file_tokens (
            sha256 TEXT NOT NULL,
            content_type TEXT NOT NULL,
            file_token TEXT NOT NULL,
            uploaded_at TEXT NOT NULL,
            PRIMARY KEY (sha256, content_type)
        );
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            input_name TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL
        );
        CREATE TABLE lock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            run_id TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL
        );
        """,
    )


def _step_2_token_index(db: sqlite3.Connection) -> None:
    """``forget_token`` looks tokens up by value: index them."""
    db.execute("CREATE INDEX file_tokens_by_token ON file_tokens (file_token)")


def _step_3_posts(db: sqlite3.Connection) -> None:
    """Every POST sent and when it was answered, so rate-limit windows outlive a run."""
    db.execute(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, scopes TEXT NOT NULL, "
        "sent_at REAL NOT NULL, answered_at REAL)"
    )
    db.execute("CREATE INDEX posts_by_time ON posts (sent_at)")


def _step_4_unread_hashes(db: sqlite3.Connection) -> None:
    """``claims.payload_hash`` and ``claims.fingerprint`` were written and never read
    (what a claim sent is in ``claim_json``; the request hash that holds a refused row
    back is the attempt's): the table is rebuilt without them, every row kept.

    A rebuild rather than ``ALTER TABLE … DROP COLUMN``, which needs SQLite 3.35: the
    journal otherwise runs on any SQLite with upserts (3.24), and this is one path for
    all of them."""
    _run_script(
        db,
        """
        CREATE TABLE claims_v4 (
            tracking_number TEXT NOT NULL,
            ticket_type TEXT NOT NULL,
            state TEXT NOT NULL,
            ticket_id TEXT,
            claim_json TEXT,
            run_id TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tracking_number, ticket_type)
        );
        INSERT INTO claims_v4
            (tracking_number, ticket_type, state, ticket_id, claim_json, run_id, updated_at)
            SELECT tracking_number, ticket_type, state, ticket_id, claim_json, run_id,
                updated_at
            FROM claims;
        DROP TABLE claims;
        ALTER TABLE claims_v4 RENAME TO claims
        """,
    )


# Named, ordered schema steps; the journal's user_version is the number applied.
MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("initial", _step_1_initial),
    ("index file tokens by token", _step_2_token_index),
    ("posts for rate-limit windows", _step_3_posts),
    ("claims without the unread payload_hash and fingerprint", _step_4_unread_hashes),
)
