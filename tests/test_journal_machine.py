"""The never-twice invariants of the journal protocol, as a state machine.

Hypothesis drives any sequence of runs over a few parcels, each claimable as two ticket
types (a damage ticket and an address change are two claims), against a model of
Sendcloud:
a ticket request may be answered (ticket created, or refused), lose its answer after the
ticket was created, or die before it left; runs may be forced or resubmit unconfirmed
rows; the user resolves unconfirmed rows truthfully from the panel; the journal file is
closed and opened again between runs. Whatever the order:

- a parcel never gets a second ticket of one type unless a person asked for one
  (``--force``, or ``--resubmit-unconfirmed`` for a request whose ticket existed), and a
  ticket of one type never stands for the other;
- a claim the journal says is ``created`` has a ticket at Sendcloud, with that id;
- a parcel with a ticket is never ``not_created`` in the journal (it could be resent).

Each run decides exactly as the Submitter does: a leftover ``in_flight`` becomes
``unconfirmed``, then ``outcome_of_record`` says whether to send.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from batch_claims.columns import Variant
from batch_claims.outcome import Claim
from batch_claims.send.journal import CREATED, IN_FLIGHT, NOT_CREATED, UNCONFIRMED, Journal
from batch_claims.send.payload import normalised
from batch_claims.send.record import json_roundtrip, outcome_of_record
from batch_claims.ticket_types import TicketType

TICKET_TYPE = TicketType.DAMAGE
PARCELS = ("3SMACHINE0001", "3SMACHINE0002", "3SMACHINE0003")
TYPES = (TicketType.DAMAGE, TicketType.ADDRESS_CHANGE)
CLAIMS = tuple((parcel, kind) for parcel in PARCELS for kind in TYPES)
Key = tuple[str, TicketType]
ANSWERS = ("created", "refused", "answer_lost", "died_before_sending")


def now() -> datetime:
    return datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def claim(tracking_number: str, remark: str, kind: TicketType = TICKET_TYPE) -> Claim:
    return Claim(
        row=2,
        tracking_number=tracking_number,
        variant=Variant.OWN_CONTRACT,
        is_portal_claim=False,
        fields={"carrier_contract_id": 4711, "additional_remarks": remark},
        ticket_type=kind,
    )


class JournalProtocol(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = TemporaryDirectory()
        self.path = Path(self.folder.name) / "journal.sqlite3"
        self.journal = Journal(self.path, now)
        self.journal.bind_account("machine")
        self.tickets: dict[Key, list[str]] = {key: [] for key in CLAIMS}
        self.allowed_extra: Counter[Key] = Counter()
        self.runs = 0

    def teardown(self) -> None:
        self.journal.close()
        self.folder.cleanup()

    def _run(self, key: Key, answer: str, remark: str, force: bool, resubmit: bool) -> None:
        """One run with one row, deciding as the Submitter does."""
        parcel, kind = key
        self.runs += 1
        run_id = f"run-{self.runs}"
        record = self.journal.claim(parcel, kind)
        if record is not None and record.state == IN_FLIGHT:
            self.journal.resolve_in_flight_as_unconfirmed(parcel, kind)
        the_claim = claim(parcel, remark, kind)
        record = self.journal.claim(parcel, kind)
        if outcome_of_record(record, the_claim, force, resubmit) is not None:
            return  # already_submitted or unconfirmed: nothing is sent
        had_ticket = bool(self.tickets[key])
        state_before = record.state if record is not None else None
        if had_ticket and (force or (resubmit and state_before in (IN_FLIGHT, UNCONFIRMED))):
            self.allowed_extra[key] += 1  # a person asked for this one
        attempt = self.journal.begin_attempt(
            run_id,
            parcel,
            kind,
            "hash-" + remark,
            json_roundtrip(normalised(the_claim)),
        )
        if answer == "died_before_sending":
            self._crash()
            return
        if answer == "refused":
            self.journal.finish_attempt(attempt, NOT_CREATED, http_status=422, detail="no")
            return
        ticket_id = f"T{self.runs}"
        self.tickets[key].append(ticket_id)
        if answer == "answer_lost":
            self._crash()
            return
        self.journal.finish_attempt(attempt, CREATED, ticket_id=ticket_id, http_status=201)

    def _crash(self) -> None:
        """kill -9: the journal file is left as the last commit made it."""
        self.journal.close()
        self.journal = Journal(self.path, now)

    @rule(
        key=st.sampled_from(CLAIMS),
        answer=st.sampled_from(ANSWERS),
        remark=st.sampled_from(["dented", "torn"]),
    )
    def submit(self, key: Key, answer: str, remark: str) -> None:
        self._run(key, answer, remark, force=False, resubmit=False)

    @rule(key=st.sampled_from(CLAIMS), answer=st.sampled_from(ANSWERS))
    def submit_force(self, key: Key, answer: str) -> None:
        self._run(key, answer, "dented", force=True, resubmit=False)

    @rule(key=st.sampled_from(CLAIMS), answer=st.sampled_from(ANSWERS))
    def submit_resubmit_unconfirmed(self, key: Key, answer: str) -> None:
        self._run(key, answer, "dented", force=False, resubmit=True)

    @precondition(lambda self: True)
    @rule(key=st.sampled_from(CLAIMS))
    def resolve_from_the_panel(self, key: Key) -> None:
        """The user looks the parcel up in the panel and tells the journal the truth."""
        parcel, kind = key
        record = self.journal.claim(parcel, kind)
        if record is None or record.state not in (IN_FLIGHT, UNCONFIRMED):
            return
        found = self.tickets[key][-1] if self.tickets[key] else None
        self.journal.resolve(parcel, kind, found)

    @rule()
    def reopen(self) -> None:
        self.journal.close()
        self.journal = Journal(self.path, now)

    @invariant()
    def never_a_second_ticket_nobody_asked_for(self) -> None:
        for key in CLAIMS:
            assert len(self.tickets[key]) <= 1 + self.allowed_extra[key], key

    @invariant()
    def created_means_a_ticket_of_that_type_with_that_id(self) -> None:
        for parcel, kind in CLAIMS:
            record = self.journal.claim(parcel, kind)
            if record is not None and record.state == CREATED:
                assert record.ticket_id in self.tickets[parcel, kind]

    @invariant()
    def a_ticketed_claim_is_never_sendable_again(self) -> None:
        for parcel, kind in CLAIMS:
            record = self.journal.claim(parcel, kind)
            if self.tickets[parcel, kind]:
                assert record is not None and record.state != NOT_CREATED, (parcel, kind)
                assert outcome_of_record(record, claim(parcel, "torn", kind)) is not None


JournalProtocol.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestJournalProtocol = JournalProtocol.TestCase


def test_a_refused_forced_resend_keeps_the_first_ticket(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", now)
    first = journal.begin_attempt("r1", PARCELS[0], TICKET_TYPE, "h", {})
    journal.finish_attempt(first, CREATED, ticket_id="T1")
    forced = journal.begin_attempt("r2", PARCELS[0], TICKET_TYPE, "h", {})
    journal.finish_attempt(forced, NOT_CREATED, http_status=422, detail="refused")
    record = journal.claim(PARCELS[0], TICKET_TYPE)
    assert record is not None and (record.state, record.ticket_id) == (CREATED, "T1")
    assert journal.attempts(PARCELS[0])[-1].state == NOT_CREATED  # the history is true
    journal.close()


def test_a_refused_resubmission_leaves_the_unknown_first_request_unconfirmed(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite3", now)
    journal.begin_attempt("r1", PARCELS[0], TICKET_TYPE, "h", {})  # answer lost
    journal.resolve_in_flight_as_unconfirmed(PARCELS[0], TICKET_TYPE)
    again = journal.begin_attempt("r2", PARCELS[0], TICKET_TYPE, "h", {})
    journal.finish_attempt(again, NOT_CREATED, http_status=400, detail="refused")
    record = journal.claim(PARCELS[0], TICKET_TYPE)
    assert record is not None and record.state == UNCONFIRMED
    journal.resolve(PARCELS[0], TICKET_TYPE, None)  # the panel shows no ticket
    record = journal.claim(PARCELS[0], TICKET_TYPE)
    assert record is not None and record.state == NOT_CREATED
    journal.close()
