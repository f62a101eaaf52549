"""The SQLite journal: which claims have tickets, every attempt, the file-token cache,
the POST times of the rate-limit windows and the run lock — one file per account.

``Journal`` is the one object the rest of the tool uses; its concerns live apart:

- ``schema``: the claim states (``ClaimState``) and the schema steps (``MIGRATIONS``);
- ``core``: opening the file, migrating it, transactions, the account (``meta``), and
  every SQLite failure turned into a message naming the file;
- ``integrity``: a private, whole file; damaged pages and records; the journal or its
  -wal/-shm files deleted or replaced while a run has them open;
- ``claims``: claims and their ticket attempts (``ClaimRecord``, ``AttemptRecord``);
- ``tokens``: the file-token cache;
- ``posts``: POST times for the rate limiter across runs (``RequestLog``);
- ``filelock`` and ``lock``: the run lock — an OS lock on ``<journal>.lock`` that ends
  with its process, and the journal's record of runs and of the lock's holder.

The file holds an account's claim history: it is created readable by the user only
(0600, its -wal/-shm files too; a folder we create 0700)."""

from __future__ import annotations

from batch_claims.send.journal.claims import AttemptRecord, ClaimRecord, Claims
from batch_claims.send.journal.filelock import FileLock, LockHolder, lock_path
from batch_claims.send.journal.lock import LockTable
from batch_claims.send.journal.posts import Posts, RequestLog
from batch_claims.send.journal.schema import (
    CREATED,
    IN_FLIGHT,
    MIGRATIONS,
    NOT_CREATED,
    UNCONFIRMED,
    ClaimState,
)
from batch_claims.send.journal.tokens import FileTokens


class Journal(Claims, LockTable, FileTokens, Posts):
    """The journal on a file path, ``":memory:"`` or an open connection: claims and
    attempts, the run lock, file tokens and POST times over one SQLite connection."""


__all__ = [
    "CREATED",
    "IN_FLIGHT",
    "MIGRATIONS",
    "NOT_CREATED",
    "UNCONFIRMED",
    "AttemptRecord",
    "ClaimRecord",
    "ClaimState",
    "FileLock",
    "Journal",
    "LockHolder",
    "RequestLog",
    "lock_path",
]
