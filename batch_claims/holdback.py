"""Learning from a refusal: when Sendcloud refuses a row for a reason later rows share,
hold those rows back instead of spending their uploads and ticket to hear it again.

Two reasons are shared by construction:
- 422 "Carrier support contact is required …": every row of that carrier contract;
- 400 "Validation Error …" about missing fields or JSON types: every row of the same
  variant whose body has the same fields (the refusal is about the shape they share).
A refusal about one parcel ("Parcel not found", "already delivered") teaches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from batch_claims.columns import CARRIER_CONTRACT_ID, TRACKING_NUMBER
from batch_claims.errors import Rejected
from batch_claims.outcome import Claim

CARRIER_CONTACT_MISSING = "carrier support contact is required"
VALIDATION_ERROR = "validation error"
# Pydantic error types about which fields a body has and their JSON types, not values.
SHAPE_ERROR = re.compile(r"'type': '(missing|extra_forbidden|[a-z_]+_type)'")


def _shape(claim: Claim) -> tuple[str, frozenset[str]]:
    """The variant and the set of body fields a claim sends."""
    names = set(claim.fields) | set(claim.attachments)
    return claim.variant.value, frozenset(names - {TRACKING_NUMBER})


@dataclass
class HoldBack:
    """The reasons learned so far in this run, and which later rows they cover."""

    enabled: bool = True
    _contracts: dict[int, tuple[int, str]] = field(default_factory=dict)
    _shapes: dict[tuple[str, frozenset[str]], tuple[int, str]] = field(default_factory=dict)

    def learn(self, claim: Claim, refusal: Rejected) -> None:
        if not self.enabled:
            return
        detail = refusal.detail.lower()
        contract = claim.fields.get(CARRIER_CONTRACT_ID)
        if CARRIER_CONTACT_MISSING in detail and isinstance(contract, int):
            self._contracts.setdefault(contract, (claim.row, refusal.detail))
        elif refusal.http_status == 400 and detail.startswith(VALIDATION_ERROR):
            if SHAPE_ERROR.search(refusal.detail):
                self._shapes.setdefault(_shape(claim), (claim.row, refusal.detail))

    def reason_for(self, claim: Claim) -> str | None:
        """Why this row is held back, or None to send it."""
        if not self.enabled:
            return None
        contract = claim.fields.get(CARRIER_CONTRACT_ID)
        learned = self._contracts.get(contract) if isinstance(contract, int) else None
        if learned is None:
            learned = self._shapes.get(_shape(claim))
        if learned is None:
            return None
        row, detail = learned
        return (
            f"held back: row {row} was refused for a reason this row shares: {detail} "
            "(fix the cause and run again; --no-hold-back sends such rows anyway)"
        )
