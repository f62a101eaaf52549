"""The journal commands that send nothing: ``history`` (what the journal knows),
``resolve`` (close an unconfirmed row with what the Sendcloud panel shows) and
``unlock`` (clear a run lock its run left behind). They return what they found; the CLI
renders it. A journal failure here is exit 2 (``nothing_sent_yet``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from batch_claims.clock import SystemClock
from batch_claims.errors import InputError, JournalLocked
from batch_claims.send.journal import (
    AttemptRecord,
    ClaimRecord,
    FileLock,
    Journal,
    LockHolder,
    lock_path,
)
from batch_claims.send.run import nothing_sent_yet
from batch_claims.settings import Settings
from batch_claims.ticket_types import TicketType


@dataclass(frozen=True)
class History:
    """A journal's claims (one claim's with its attempts), and how many are unconfirmed."""

    path: Path
    account: str
    claims: Sequence[ClaimRecord]
    attempts: Mapping[str, Sequence[AttemptRecord]]  # only when one claim was asked for
    unconfirmed: int


def existing_journal(settings: Settings, missing: str = "") -> Path:
    """The journal the settings name; InputError (exit 2) when there is none."""
    path = settings.require_journal()
    if not path.exists():
        whose = f" (account {settings.account})" if settings.public_key else ""
        raise InputError(f"no journal at {path}{whose}{missing}")
    return path


def history(settings: Settings, tracking_number: str | None) -> History:
    """Every claim of the journal, or one claim with its attempts."""
    path = existing_journal(settings, ": nothing was submitted with it")
    book = Journal(path, SystemClock().utcnow)
    try:
        with nothing_sent_yet(note=""):
            account = book.get_meta("account") or "unknown"
            records = book.claims(tracking_number)
            if tracking_number is not None and not records:
                raise InputError(f"the journal {path} knows nothing of {tracking_number}")
            attempts = (
                {r.tracking_number: book.attempts(r.tracking_number) for r in records}
                if tracking_number is not None
                else {}
            )
            pending = len(book.unconfirmed())
    finally:
        book.close()
    return History(path, account, records, attempts, pending)


def resolve(
    settings: Settings,
    tracking_number: str,
    ticket_id: str | None,
    opened: Callable[[Path, str], None],
    ticket_type: TicketType | None = None,
) -> TicketType:
    """Record the ticket found in the panel (``ticket_id``), or that none exists (None):
    the row may be sent again. ``opened(path, account)`` is told first. Without
    ``ticket_type``, the one type the parcel has an unconfirmed request for (damage when
    it has none); two such types must be told apart. The type resolved is returned."""
    path = existing_journal(settings)
    book = Journal(path, SystemClock().utcnow)
    try:
        with nothing_sent_yet(note=""):
            opened(path, book.get_meta("account") or "unknown")
            if ticket_type is None:
                ticket_type = _pending_type(book, tracking_number)
            book.resolve(tracking_number, ticket_type, ticket_id)
            return ticket_type
    finally:
        book.close()


def _pending_type(book: Journal, tracking_number: str) -> TicketType:
    pending = sorted(
        {r.ticket_type for r in book.unconfirmed() if r.tracking_number == tracking_number}
    )
    if len(pending) > 1:
        raise InputError(
            f"{tracking_number} has unconfirmed requests for {', '.join(pending)} tickets: "
            "say which one you checked with --ticket-type"
        )
    return TicketType(pending[0]) if pending else TicketType.DAMAGE


def unlock(settings: Settings) -> tuple[Path, list[LockHolder]]:
    """Remove the record of a run lock its run left behind (it died, or its container is
    gone); the runs whose lock was removed. Refused (exit 3) while a live process holds
    the lock: that run is still going."""
    path = settings.require_journal()
    if not path.exists() and not lock_path(path).exists():
        raise InputError(f"no journal at {path}: nothing to unlock")
    lock = FileLock(str(path))
    with nothing_sent_yet(note=""):
        holder = lock.try_take()
    if holder is not None:
        raise JournalLocked(
            f"the journal {path} is locked by a live run: {holder.describe()}; it is not "
            "unlocked — wait for that run to finish, or stop it (Ctrl-C) first"
        )
    try:
        left = [lock.holder()]
        if path.exists():
            book = Journal(path, SystemClock().utcnow)
            try:
                with nothing_sent_yet(note=""):
                    left.append(book.lock_record())
                    book.clear_lock_record()
            finally:
                book.close()
    finally:
        lock.release(remove=True)
    runs: dict[str, LockHolder] = {}
    for held in left:  # the lock file's record first: it names the command and input
        if held is not None:
            runs.setdefault(held.run_id, held)
    return path, list(runs.values())
