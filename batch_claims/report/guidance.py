"""What the blank input workbook tells a person per ticket type, generated from
``ticket_types.TYPES`` and ``columns.COLUMNS`` (``template`` writes it): the rows of the
``Ticket types`` sheet (what each type is for, the contracts it accepts, per contract
the columns to fill, the documents to attach and the optional columns) and, per column,
which types use it and which need it filled. Only ``PURPOSE`` (one sentence per type
saying when to choose it) is written here; a test keeps it covering every type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from batch_claims.columns import (
    BY_NAME,
    COLUMNS,
    DIMENSION_PARTS,
    IS_PORTAL_CLAIM,
    PARCEL_DIMENSIONS,
    SHARED_CURRENCY,
    TRACKING_NUMBER,
    Variant,
)
from batch_claims.ticket_types import TYPES, TicketType, TicketTypeSpec, types_needing, types_using

PURPOSE: Mapping[TicketType, str] = {
    TicketType.DAMAGE: "The parcel arrived damaged: its contents or its packaging are broken.",
    TicketType.LOST: "The parcel never arrived and its tracking shows no delivery: it is lost.",
    TicketType.DELIVERED_NOT_RECEIVED: (
        "The tracking says the parcel was delivered, but the receiver says it never came."
    ),
    TicketType.DELAY: "The parcel is still on its way, later than its expected delivery.",
    TicketType.LATE_DELIVERY: "The parcel was delivered, but later than the carrier promised.",
    TicketType.UNJUST_RETURN: (
        "The parcel was sent back to you without a good reason (the address was right)."
    ),
    TicketType.ADDRESS_CHANGE: (
        "The parcel must go to another address than its label's: file before it is delivered."
    ),
    TicketType.OTHER: "Any other question about a parcel for Sendcloud's support team.",
}

TYPES_HEADERS = (
    "ticket_type",
    "what it is for",
    "contract types it accepts",
    "own_contract parcels",
    "sendcloud_rates parcels",
    "also written as (in the ticket_type column, or as a sheet's name)",
)
# The headers of the columns per contract, in ``TYPES_HEADERS``' order.
VARIANT_ORDER = (Variant.OWN_CONTRACT, Variant.SENDCLOUD_RATES)
NOT_ACCEPTED = "Not accepted"


def column_phrase(name: str) -> str:
    """A column as the guidance names it, with the other ways to fill it: an amount
    with its currency, the dimensions as three columns."""
    if name == PARCEL_DIMENSIONS:
        return f"{name} (or {' + '.join(DIMENSION_PARTS)})"
    currency = BY_NAME[name].currency_column
    if currency is not None:
        return f"{name} (+ {currency} or {SHARED_CURRENCY})"
    return name


def _listed(names: Iterable[str]) -> str:
    return ", ".join(column_phrase(name) for name in names) or "nothing"


def variant_guidance(spec: TicketTypeSpec, variant: Variant) -> str:
    """What a row of this type and contract fills, attaches and may add (one line each),
    or why the type does not take the contract."""
    if variant not in spec.contracts:
        allowed = " or ".join(v.value for v in VARIANT_ORDER if v in spec.contracts)
        return f"{NOT_ACCEPTED}: {spec.type} tickets are for {allowed} parcels only"
    required = {TRACKING_NUMBER, *spec.required(variant)}
    fill = [c.name for c in COLUMNS if c.name in required and not c.is_document]
    attach = [c.name for c in COLUMNS if c.name in required and c.is_document]
    may_attach = [name for name in spec.documents(variant) if name not in required]
    optional = [
        c.name
        for c in COLUMNS
        if not c.is_document
        and c.name not in required
        and (spec.sends(c.name, variant) or (c.name == IS_PORTAL_CLAIM and spec.portal_claim))
    ]
    lines = [f"Fill: {_listed(fill)}", f"Attach: {_listed(attach)}"]
    if may_attach:
        lines.append(f"May attach: {_listed(may_attach)}")
    if optional:
        lines.append(f"Optional: {_listed(optional)}")
    return "\n".join(lines)


def type_rows() -> list[tuple[str, ...]]:
    """One row per ticket type for the ``Ticket types`` sheet (``TYPES_HEADERS``)."""
    return [
        (
            spec.type.value,
            PURPOSE[spec.type],
            ", ".join(v.value for v in VARIANT_ORDER if v in spec.contracts),
            *(variant_guidance(spec, variant) for variant in VARIANT_ORDER),
            ", ".join(spec.aliases),
        )
        for spec in TYPES.values()
    ]


def _types_phrase(types: list[TicketType]) -> str:
    return "every type" if len(types) == len(TYPES) else ", ".join(t.value for t in types)


def used_by(name: str) -> str:
    """The types a value in this column means something for."""
    return _types_phrase(types_using(name))


def needed_by(name: str) -> str:
    """Which types need the column filled, per contract type: "Required with
    sendcloud_rates for damage, lost", "Required for other (both contracts)", "Never
    required"."""
    needing = types_needing(name)
    own, rates = (needing[variant] for variant in VARIANT_ORDER)
    if own and own == rates:
        return f"Required for {_types_phrase(own)} (both contracts)"
    parts = [
        f"with {variant.value} for {_types_phrase(types)}"
        for variant, types in needing.items()
        if types
    ]
    return "Required " + "; ".join(parts) if parts else "Never required"
