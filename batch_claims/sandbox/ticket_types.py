"""The eight ticket types the sandbox serves, as one table of data.

Each type names its path (``POST /api/v3/dsf/tickets/<name>``), its body variants
(own contract and/or Sendcloud rates, each a compiled JSON Schema), whether it takes
the ``is_portal_claim`` query parameter, and the deterministic refusals its parcels
can meet. Damage's variants come from the vendored OpenAPI document (``damage.py``),
the others from the sandbox's own schemas (``schemas.py``). Nothing here is shared
with the client's definitions (``batch_claims.ticket_types``).

The deterministic refusals are tracking-number prefixes (upper case, as written):
``NOTFOUND`` is every type's "Parcel not found.", the rest are 422s that mirror
Sendcloud's deflection rules for the types where they make sense (see ``NOTICE.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from batch_claims.sandbox import damage, schemas
from batch_claims.sandbox.schemas import OWN_CONTRACT, SENDCLOUD_RATES

# What a contract is called in a refusal's detail.
CONTRACT_WORDS = {OWN_CONTRACT: "your own contract", SENDCLOUD_RATES: "Sendcloud rates"}
# Tracking-number prefixes that say which contract a parcel was shipped with.
CONTRACT_PREFIXES = {"OWN": OWN_CONTRACT, "RATES": SENDCLOUD_RATES}


@dataclass(frozen=True, eq=False)
class Variant:
    """One body variant of one ticket type, ready to validate bodies."""

    name: str
    contract: str
    fields: tuple[str, ...]
    document_fields: tuple[str, ...]
    validator: Any  # a jsonschema Draft202012Validator


@dataclass(frozen=True)
class ParcelRefusal:
    """A 4xx answer for a parcel whose tracking number starts with ``prefix``."""

    prefix: str
    status: int
    detail: str

    @property
    def code(self) -> str:
        return "bad_request" if self.status == 400 else "unprocessable_content"


NOT_FOUND = ParcelRefusal("NOTFOUND", 400, "Parcel not found.")


def _deflection(prefix: str, reason: str) -> ParcelRefusal:
    """A 422 in the words of the damage document's deflection example."""
    return ParcelRefusal(prefix, 422, f"Cannot create ticket. Reason: {reason}")


ALREADY_DELIVERED = _deflection("DELIVERED", "Parcel is already delivered")
IN_TRANSIT = _deflection("INTRANSIT", "Parcel is still in transit")
NO_DELIVERED_SCAN = _deflection("NOTDELIVERED", "Parcel has no delivered scan")
NOT_RETURNED = _deflection("NOTRETURNED", "Parcel has not been returned to the sender")
NOT_DELAYED = _deflection("ONTIME", "Parcel is not delayed: it is within its delivery time")
DELIVERED_ON_TIME = _deflection("ONTIME", "Parcel was delivered on time")


@dataclass(frozen=True, eq=False)
class TicketType:
    """A ticket type: its path name, variants (own contract first), query and refusals."""

    name: str
    title: str
    variants: tuple[Variant, ...]
    portal_claims: bool
    refusals: tuple[ParcelRefusal, ...]

    @property
    def contracts(self) -> tuple[str, ...]:
        return tuple(variant.contract for variant in self.variants)

    def variant(self, contract: str) -> Variant | None:
        return next((v for v in self.variants if v.contract == contract), None)

    @property
    def document_fields(self) -> tuple[str, ...]:
        """Every field of any variant that carries an uploaded file, in order."""
        names = (name for variant in self.variants for name in variant.document_fields)
        return tuple(dict.fromkeys(names))

    def contract_refusal(self, contract: str) -> str:
        """Why a parcel shipped with ``contract`` cannot have this type of ticket."""
        allowed = " or ".join(CONTRACT_WORDS[c] for c in self.contracts)
        return (
            f"Cannot create ticket. Reason: {self.title} tickets can only be created for "
            f"parcels shipped with {allowed}; this parcel was shipped with "
            f"{CONTRACT_WORDS[contract]}"
        )


def _damage_variants() -> tuple[Variant, ...]:
    return tuple(
        Variant(
            name=name,
            contract=contract,
            fields=damage.variant_fields(name),
            document_fields=damage.document_fields(),
            validator=Draft202012Validator(damage.variant_schema(name)),
        )
        for name, contract in (
            (damage.OWN_CONTRACT, OWN_CONTRACT),
            (damage.SENDCLOUD_RATES, SENDCLOUD_RATES),
        )
    )


def _written_variants(type_name: str) -> tuple[Variant, ...]:
    return tuple(
        Variant(
            name=f"{type_name} ({spec.contract})",
            contract=spec.contract,
            fields=spec.fields,
            document_fields=spec.document_fields(),
            validator=Draft202012Validator(spec.schema()),
        )
        for spec in schemas.VARIANTS[type_name]
    )


def _table() -> dict[str, TicketType]:
    # name: (title, takes is_portal_claim, refusals after NOTFOUND)
    rows: dict[str, tuple[str, bool, tuple[ParcelRefusal, ...]]] = {
        "damage": ("Damage", True, (ALREADY_DELIVERED,)),
        "lost": ("Lost parcel", True, (ALREADY_DELIVERED, IN_TRANSIT)),
        "delivered-but-not-received": (
            "Delivered but not received",
            False,
            (IN_TRANSIT, NO_DELIVERED_SCAN),
        ),
        "delay": ("Delay", True, (ALREADY_DELIVERED, NOT_DELAYED)),
        "late-delivery": ("Late delivery", True, (NO_DELIVERED_SCAN, DELIVERED_ON_TIME)),
        "unjust-return": ("Unjust return", True, (ALREADY_DELIVERED, NOT_RETURNED)),
        "address-change": ("Address change", False, (ALREADY_DELIVERED,)),
        "other": ("Other", False, ()),
    }
    return {
        name: TicketType(
            name=name,
            title=title,
            variants=_damage_variants() if name == "damage" else _written_variants(name),
            portal_claims=portal,
            refusals=(NOT_FOUND, *refusals),
        )
        for name, (title, portal, refusals) in rows.items()
    }


TICKET_TYPES: Mapping[str, TicketType] = _table()
