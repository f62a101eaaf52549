"""The eight kinds of ticket Sendcloud's Support API files, as data: one definition per
type, from which the schema, the payload, the evidence checklist, the template and the
README's columns table (``report.columns_table``) are made. Adding a ninth type is a
new entry in ``TYPES``.

A definition says the type's API path (``/dsf/tickets/<type>``), the contract types
(``Variant``) it accepts, the body fields it sends with the variants each is required
for and the variants it may be sent with (documents are fields too), whether the
``is_portal_claim`` query applies, the words a sheet may use for it (``ticket_type``
column values and sheet names, in English, Dutch, German, French and Spanish), and the
window Sendcloud recommends filing in.

What Sendcloud documents per type is summarised in the project's notes; where the
published schema is wrong (the Sendcloud-rates address-change variant lists
``is_parcel_returned`` as required without defining it) the definition follows what
the variant defines: a field a variant does not define is never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from batch_claims.columns import (
    BOTH,
    BY_NAME,
    CARRIER_CONTRACT_ID,
    COLUMNS,
    CONTRACT_TYPE,
    DELIVERED_AT,
    DIMENSION_PARTS,
    IS_PORTAL_CLAIM,
    NONE,
    PARCEL_DIMENSIONS,
    RATES,
    SHARED_CURRENCY,
    SHIPPED_AT,
    TICKET_TYPE,
    TRACKING_NUMBER,
    Column,
    Variant,
    normalise_header,
)

OWN = frozenset({Variant.OWN_CONTRACT})
# Columns every type reads (to know the row, its type and contract, and its window),
# whether or not they go into the body.
COMMON_COLUMNS = frozenset(
    {TRACKING_NUMBER, TICKET_TYPE, CONTRACT_TYPE, CARRIER_CONTRACT_ID, SHIPPED_AT, DELIVERED_AT}
)


class TicketType(StrEnum):
    """A Support API ticket type; the value is its path name (``/dsf/tickets/<value>``)."""

    DAMAGE = "damage"
    LOST = "lost"
    DELIVERED_NOT_RECEIVED = "delivered-but-not-received"
    DELAY = "delay"
    LATE_DELIVERY = "late-delivery"
    UNJUST_RETURN = "unjust-return"
    ADDRESS_CHANGE = "address-change"
    OTHER = "other"


@dataclass(frozen=True)
class Field:
    """A body field of a type: the variants it is required for and may be sent with."""

    required: frozenset[Variant] = NONE
    allowed: frozenset[Variant] = BOTH


@dataclass(frozen=True)
class ClaimWindow:
    """When Sendcloud recommends filing: not before the parcel is ``min_age_hours`` old
    (from ``shipped_at``), and within ``days_after_delivery`` of ``delivered_at`` (or the
    last scan); None where the type has no such window."""

    min_age_hours: float | None = 48.0
    days_after_delivery: float | None = 7.0


@dataclass(frozen=True)
class TicketTypeSpec:
    type: TicketType
    title: str  # as a person says it: "lost parcel"
    contracts: frozenset[Variant]
    fields: Mapping[str, Field]  # body field (a canonical column name) -> its rule
    portal_claim: bool  # whether the is_portal_claim query applies
    aliases: tuple[str, ...]  # other words for it in a ticket_type cell or a sheet name
    window: ClaimWindow = field(default_factory=ClaimWindow)

    @property
    def path(self) -> str:
        return f"/dsf/tickets/{self.type.value}"

    def required(self, variant: Variant) -> tuple[str, ...]:
        """The body fields a row of this type and variant must fill, in column order."""
        return tuple(name for name, rule in self.fields.items() if variant in rule.required)

    def sends(self, name: str, variant: Variant) -> bool:
        """Whether the field goes into this type's body for this variant."""
        rule = self.fields.get(name)
        return rule is not None and variant in rule.allowed

    def documents(self, variant: Variant | None = None) -> tuple[str, ...]:
        """Its document slots (those allowed for ``variant``, or every one)."""
        return tuple(
            name
            for name, rule in self.fields.items()
            if BY_NAME[name].is_document and (variant is None or variant in rule.allowed)
        )

    def uses(self, column: str) -> bool:
        """Whether a value in ``column`` means something for this type: a body field,
        a part of one (dimensions, an amount's currency), or a column every type reads."""
        if column in COMMON_COLUMNS or column in self.fields:
            return True
        if column == IS_PORTAL_CLAIM:
            return self.portal_claim
        if column in DIMENSION_PARTS:
            return PARCEL_DIMENSIONS in self.fields
        if column == SHARED_CURRENCY:
            return any(BY_NAME[name].currency_column for name in self.fields)
        return any(BY_NAME[name].currency_column == column for name in self.fields)


def _words(text: str) -> tuple[str, ...]:
    """A type's other words, written ``"lost parcel|verloren|…"`` to keep the table short."""
    return tuple(text.split("|"))


_AMOUNTS = {
    "contents_sales_price": Field(RATES),
    "contents_purchase_price": Field(),
}
_DESCRIPTIONS = {
    "contents_description": Field(RATES),
    "parcel_exterior_description": Field(RATES),
}
_DAMAGE_DOCUMENTS = (
    "customer_confirmation",
    "sales_invoice",
    "purchase_invoice",
    "exterior_photo",
    "interior_photo",
    "damage_photo_1",
    "damage_photo_2",
    "package_photo",
    "entire_product_photo",
)
_CONTRACT_ID = {CARRIER_CONTRACT_ID: Field(NONE, OWN)}

TYPES: Mapping[TicketType, TicketTypeSpec] = {
    spec.type: spec
    for spec in (
        TicketTypeSpec(
            TicketType.DAMAGE,
            "damaged parcel",
            BOTH,
            {
                **_CONTRACT_ID,
                **_AMOUNTS,
                **_DESCRIPTIONS,
                "additional_remarks": Field(RATES),
                **{name: Field(RATES) for name in _DAMAGE_DOCUMENTS},
            },
            portal_claim=True,
            aliases=_words(
                "damaged|damaged parcel|schade|beschadigd|beschädigt|beschaedigt|schaden|"
                "dommage|endommagé|endommage|colis endommagé|daño|dano|dañado|danado"
            ),
        ),
        TicketTypeSpec(
            TicketType.LOST,
            "lost parcel",
            BOTH,
            {
                **_CONTRACT_ID,
                **_AMOUNTS,
                **_DESCRIPTIONS,
                PARCEL_DIMENSIONS: Field(RATES),
                "additional_remarks": Field(RATES),
                "sales_invoice": Field(RATES),
                "purchase_invoice": Field(RATES),
                "customer_confirmation": Field(RATES),
                "carrier_claim_form": Field(RATES),
            },
            portal_claim=True,
            aliases=_words(
                "lost parcel|verloren|zoek|kwijt|verlust|verlorene sendung|perdu|"
                "colis perdu|perdido|paquete perdido|extraviado"
            ),
        ),
        TicketTypeSpec(
            TicketType.DELIVERED_NOT_RECEIVED,
            "parcel delivered but not received",
            BOTH,
            {
                **_AMOUNTS,
                **_DESCRIPTIONS,
                PARCEL_DIMENSIONS: Field(RATES),
                "additional_remarks": Field(RATES),
                "sales_invoice": Field(RATES),
                "purchase_invoice": Field(RATES),
                "carrier_claim_form": Field(RATES),
            },
            portal_claim=False,
            aliases=_words(
                "delivered not received|delivered but not received|not received|dbnr|"
                "bezorgd niet ontvangen|afgeleverd niet ontvangen|niet ontvangen|"
                "zugestellt nicht erhalten|zugestellt aber nicht erhalten|nicht erhalten|"
                "livré non reçu|livre non recu|livré mais non reçu|non reçu|"
                "entregado no recibido|entregado pero no recibido|no recibido"
            ),
        ),
        TicketTypeSpec(
            TicketType.DELAY,
            "delayed parcel",
            RATES,
            {
                **_AMOUNTS,
                **_DESCRIPTIONS,
                "sales_invoice": Field(RATES),
                "purchase_invoice": Field(RATES),
            },
            portal_claim=True,
            aliases=_words(
                "delayed|vertraging|vertraagd|verspätung|verspaetung|verzögerung|"
                "verzoegerung|retard|en retard|retraso|retrasado"
            ),
            window=ClaimWindow(days_after_delivery=None),
        ),
        TicketTypeSpec(
            TicketType.LATE_DELIVERY,
            "late delivery",
            OWN,
            {**_CONTRACT_ID, "additional_remarks": Field()},
            portal_claim=True,
            aliases=_words(
                "late|te laat|late levering|te late levering|late bezorging|"
                "verspätete zustellung|verspaetete zustellung|späte zustellung|"
                "livraison tardive|livraison en retard|entrega tardía|entrega tardia|"
                "entrega con retraso"
            ),
        ),
        TicketTypeSpec(
            TicketType.UNJUST_RETURN,
            "unjust return",
            BOTH,
            {
                **_CONTRACT_ID,
                "is_parcel_returned": Field(RATES),
                "additional_details": Field(RATES),
            },
            portal_claim=True,
            aliases=_words(
                "unjustified return|wrongful return|onterechte retour|onterecht retour|"
                "ten onrechte retour|ungerechtfertigte rücksendung|"
                "ungerechtfertigte ruecksendung|unberechtigte rücksendung|"
                "retour injustifié|retour injustifie|devolución injustificada|"
                "devolucion injustificada"
            ),
        ),
        TicketTypeSpec(
            TicketType.ADDRESS_CHANGE,
            "address change",
            BOTH,
            {
                "new_address": Field(OWN),
                "additional_details": Field(),
            },
            portal_claim=False,
            aliases=_words(
                "change of address|new address|adreswijziging|adres wijzigen|"
                "adresswijziging|adressänderung|adressaenderung|changement d'adresse|"
                "changement adresse|cambio de dirección|cambio de direccion"
            ),
            window=ClaimWindow(min_age_hours=None, days_after_delivery=None),
        ),
        TicketTypeSpec(
            TicketType.OTHER,
            "other question",
            BOTH,
            {"subject": Field(BOTH), "question": Field(BOTH)},
            portal_claim=False,
            aliases=_words(
                "other question|question|overig|overige|anders|vraag|sonstiges|andere|"
                "frage|autre|autres|otro|otros|pregunta"
            ),
            window=ClaimWindow(min_age_hours=None, days_after_delivery=None),
        ),
    )
}


def _lookup() -> dict[str, TicketType]:
    found: dict[str, TicketType] = {}
    for spec in TYPES.values():
        for word in (spec.type.value, spec.title, *spec.aliases):
            key = normalise_header(word)
            if found.setdefault(key, spec.type) is not spec.type:
                raise ValueError(f"{word!r} names two ticket types")
    return found


_BY_WORD = _lookup()


def ticket_type_of(text: str) -> TicketType | None:
    """The ticket type a cell or a sheet name says ("Lost", "verloren", "delivered_but_
    not_received", "Livré non reçu"), or None when it names none."""
    return _BY_WORD.get(normalise_header(text))


def required_columns(
    variant: Variant, ticket_type: TicketType = TicketType.DAMAGE
) -> tuple[Column, ...]:
    """The columns a row of this type and variant must fill, in sheet order (the
    tracking number first)."""
    required = {TRACKING_NUMBER, *TYPES[ticket_type].required(variant)}
    return tuple(column for column in COLUMNS if column.name in required)


def required_for(column: str, ticket_type: TicketType = TicketType.DAMAGE) -> frozenset[Variant]:
    """The variants of this type that need ``column`` filled."""
    if column == TRACKING_NUMBER:
        return BOTH
    rule = TYPES[ticket_type].fields.get(column)
    return rule.required if rule is not None else NONE


def types_using(column: str) -> list[TicketType]:
    """The types a value in ``column`` means something for, in ``TYPES`` order."""
    return [spec.type for spec in TYPES.values() if spec.uses(column)]


def types_needing(column: str) -> dict[Variant, list[TicketType]]:
    """Per contract type (own contract first), the types whose rows must fill ``column``."""
    return {
        variant: [
            spec.type for spec in TYPES.values() if variant in required_for(column, spec.type)
        ]
        for variant in Variant
    }
