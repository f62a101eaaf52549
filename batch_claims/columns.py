"""The canonical columns of the input sheet: the one list every part reads.

The reader matches headers against ``name`` and ``aliases``; the schema coerces by
``kind``; the payload builder sends the columns with ``api_field``; the template
and the README columns table are generated from ``help`` and ``required_for``.
Nothing else in the package spells a column name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Variant(StrEnum):
    """The two body variants every ticket type has (also the contract_type values): the
    server picks the one the parcel's contract calls for."""

    OWN_CONTRACT = "own_contract"
    SENDCLOUD_RATES = "sendcloud_rates"


class Kind(StrEnum):
    """How a column's cells are read and coerced."""

    TRACKING = "tracking"  # text, never a float
    CONTRACT_TYPE = "contract_type"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    AMOUNT = "amount"
    CURRENCY = "currency"
    TEXT = "text"
    DOCUMENT = "document"  # a file path relative to the photos folder
    TICKET_TYPE = "ticket_type"  # one of ticket_types.TicketType, by any of its words
    DIMENSION = "dimension"  # centimetres, above 0
    DIMENSIONS = "dimensions"  # length x width x height in centimetres, in one cell
    DATE = "date"


BOTH = frozenset({Variant.OWN_CONTRACT, Variant.SENDCLOUD_RATES})
RATES = frozenset({Variant.SENDCLOUD_RATES})
NONE: frozenset[Variant] = frozenset()


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    help: str
    aliases: tuple[str, ...] = ()
    # True when the value goes into the ticket body under ``name`` (for the ticket types
    # that define that field: ``ticket_types``).
    api_field: bool = True
    # For AMOUNT columns: the currency column that belongs to it.
    currency_column: str | None = None

    @property
    def is_document(self) -> bool:
        return self.kind is Kind.DOCUMENT


def _doc(name: str, help_text: str, *aliases: str) -> Column:
    return Column(name, Kind.DOCUMENT, help_text, aliases)


COLUMNS: tuple[Column, ...] = (
    Column(
        "tracking_number",
        Kind.TRACKING,
        "The parcel's tracking number, as text (format the column as Text in Excel).",
        (
            "tracking",
            "tracking no",
            "tracking nr",
            "tracking code",
            "track and trace",
            "parcel number",
            "trackingnummer",
            "track trace code",
            "sendungsnummer",
            "numero de suivi",
            "numero de seguimiento",
            "tracking id",
            "zendingnummer",
            "paketnummer",
            "n de suivi",
            "codigo de seguimiento",
            "track trace",
            "track trace nummer",
            "t t",
            "t t code",
            "shipment number",
            "consignment number",
            "awb",
            "verzendnummer",
            "zendingsnummer",
            "pakketnummer",
            "sendungsverfolgungsnummer",
            "sendungsnr",
            "no de suivi",
            "numero de colis",
            "numero d expedition",
            "no de seguimiento",
            "n de seguimiento",
            "numero de envio",
        ),
    ),
    Column(
        "contract_type",
        Kind.CONTRACT_TYPE,
        "own_contract or sendcloud_rates; blank: own_contract when carrier_contract_id "
        "is set, else the configured default.",
        (
            "contract",
            "type",
            "contract type",
            "contract soort",
            "vertragsart",
            "type de contrat",
            "tipo de contrato",
            "soort contract",
            "contractsoort",
            "type contract",
            "vertragstyp",
        ),
        api_field=False,
    ),
    Column(
        "ticket_type",
        Kind.TICKET_TYPE,
        "What the claim is: damage, lost, delivered-but-not-received, delay, late-delivery, "
        "unjust-return, address-change or other (in English, Dutch, German, French or "
        "Spanish); blank: the sheet's type (a sheet named Lost), else --ticket-type, else "
        "damage.",
        (
            "claim type",
            "type of claim",
            "kind of claim",
            "claim kind",
            "soort claim",
            "claimsoort",
            "type claim",
            "soort melding",
            "reklamationsart",
            "art der reklamation",
            "reklamationstyp",
            "type de reclamation",
            "type de réclamation",
            "type de ticket",
            "tipo de reclamacion",
            "tipo de reclamación",
            "tipo de reclamo",
            "tipo de ticket",
        ),
        api_field=False,
    ),
    Column(
        "carrier_contract_id",
        Kind.INTEGER,
        "Whole number: the ID of your carrier contract (own contract parcels only).",
        (
            "carrier contract",
            "contract id",
            "vervoerderscontract",
            "vertragsnummer",
            "contrat transporteur",
            "contrato transportista",
            "carrier contract number",
            "contract number",
            "contractnummer",
            "contract nr",
            "vervoerderscontract id",
            "vertrags id",
            "numero de contrat",
            "numero de contrato",
        ),
    ),
    Column(
        "is_portal_claim",
        Kind.BOOLEAN,
        "yes/no (blank = no): force a carrier portal claim (needs a carrier contract).",
        (
            "portal claim",
            "portal",
            "portaalclaim",
            "portaal",
            "portalreklamation",
            "reclamation portail",
            "reclamacion portal",
        ),
        api_field=False,
    ),
    Column(
        "contents_sales_price",
        Kind.AMOUNT,
        "Sales value of the contents, e.g. 10.55 or 10,55.",
        (
            "sales price",
            "sales value",
            "sales amount",
            "verkoopwaarde",
            "verkoopprijs",
            "verkaufswert",
            "verkaufspreis",
            "valeur de vente",
            "prix de vente",
            "valor de venta",
            "precio de venta",
            "contents value",
            "goods value",
            "item value",
            "verkoopbedrag",
            "warenwert",
            "valeur marchandise",
            "importe de venta",
        ),
        currency_column="contents_sales_currency",
    ),
    Column(
        "contents_sales_currency",
        Kind.CURRENCY,
        "EUR, GBP or USD (€, £, $ accepted) for the sales value.",
        ("sales currency",),
        api_field=False,
    ),
    Column(
        "contents_purchase_price",
        Kind.AMOUNT,
        "Purchase value of the contents, e.g. 8.00.",
        (
            "purchase price",
            "purchase value",
            "cost price",
            "inkoopwaarde",
            "inkoopprijs",
            "einkaufswert",
            "einkaufspreis",
            "valeur d achat",
            "prix d achat",
            "valor de compra",
            "precio de compra",
            "purchase amount",
            "inkoopbedrag",
            "kostprijs",
            "prix de revient",
            "importe de compra",
        ),
        currency_column="contents_purchase_currency",
    ),
    Column(
        "contents_purchase_currency",
        Kind.CURRENCY,
        "EUR, GBP or USD (€, £, $ accepted) for the purchase value.",
        ("purchase currency",),
        api_field=False,
    ),
    Column(
        "currency",
        Kind.CURRENCY,
        "One currency for both values when the two currency columns are absent.",
        (
            "valuta",
            "munt",
            "munteenheid",
            "wahrung",
            "waehrung",
            "devise",
            "monnaie",
            "moneda",
            "divisa",
        ),
        api_field=False,
    ),
    Column(
        "contents_description",
        Kind.TEXT,
        "What was in the parcel.",
        (
            "contents",
            "description",
            "product description",
            "inhoud",
            "omschrijving",
            "inhalt",
            "warenbeschreibung",
            "contenu",
            "description du contenu",
            "contenido",
            "descripcion",
            "contents description",
            "description of contents",
            "beschrijving",
            "omschrijving inhoud",
            "beschrijving inhoud",
            "inhoud pakket",
            "beschreibung",
            "inhaltsbeschreibung",
            "descripcion del contenido",
        ),
    ),
    Column(
        "parcel_exterior_description",
        Kind.TEXT,
        "What the outside of the parcel looks like (branding, tape, box type).",
        (
            "exterior description",
            "parcel exterior",
            "packaging description",
            "packaging",
            "buitenkant",
            "verpakking",
            "verpackung",
            "aussenverpackung",
            "emballage",
            "exterieur du colis",
            "embalaje",
            "exterior",
            "beschrijving buitenkant",
            "buitenverpakking",
            "omschrijving verpakking",
            "verpackungsbeschreibung",
            "description emballage",
            "description de l emballage",
            "descripcion del embalaje",
        ),
    ),
    Column(
        "additional_remarks",
        Kind.TEXT,
        "Anything else Sendcloud should know about the damage.",
        (
            "remarks",
            "comments",
            "notes",
            "opmerkingen",
            "toelichting",
            "bemerkungen",
            "anmerkungen",
            "remarques",
            "commentaires",
            "observaciones",
            "comentarios",
            "remark",
            "comment",
            "note",
            "opmerking",
            "bemerkung",
            "anmerkung",
            "kommentar",
            "remarque",
            "commentaire",
            "observacion",
            "comentario",
        ),
    ),
    Column(
        "parcel_length",
        Kind.DIMENSION,
        "Parcel length in cm (lost, delivered-but-not-received); or all three in "
        "parcel_dimensions.",
        ("length", "length cm", "lengte", "länge", "laenge", "longueur", "longitud", "largo"),
        api_field=False,
    ),
    Column(
        "parcel_width",
        Kind.DIMENSION,
        "Parcel width in cm.",
        ("width", "width cm", "breedte", "breite", "largeur", "anchura", "ancho"),
        api_field=False,
    ),
    Column(
        "parcel_height",
        Kind.DIMENSION,
        "Parcel height in cm.",
        ("height", "height cm", "hoogte", "höhe", "hoehe", "hauteur", "altura", "alto"),
        api_field=False,
    ),
    Column(
        "parcel_dimensions",
        Kind.DIMENSIONS,
        "Length x width x height in cm in one cell, e.g. 40x30x20 (instead of the three "
        "columns above).",
        (
            "dimensions",
            "parcel size",
            "size",
            "l x w x h",
            "afmetingen",
            "afmeting",
            "abmessungen",
            "masse",
            "paketmasse",
            "dimensions du colis",
            "taille du colis",
            "dimensiones",
            "medidas",
        ),
    ),
    Column(
        "is_parcel_returned",
        Kind.BOOLEAN,
        "yes/no: whether the parcel came back to you (unjust-return).",
        (
            "parcel returned",
            "returned",
            "is returned",
            "retour ontvangen",
            "teruggekomen",
            "retourniert",
            "zurückgesendet",
            "zurueckgesendet",
            "colis retourné",
            "retourné",
            "paquete devuelto",
            "devuelto",
        ),
    ),
    Column(
        "additional_details",
        Kind.TEXT,
        "What happened (unjust-return, address-change).",
        (
            "details",
            "additional details",
            "extra details",
            "aanvullende details",
            "details retour",
            "einzelheiten",
            "weitere angaben",
            "détails",
            "détails supplémentaires",
            "detalles",
            "detalles adicionales",
        ),
    ),
    Column(
        "new_address",
        Kind.TEXT,
        "The address to deliver to instead, in one cell (address-change).",
        (
            "new address",
            "changed address",
            "nieuw adres",
            "nieuwe adres",
            "neue adresse",
            "neue anschrift",
            "nouvelle adresse",
            "nueva dirección",
            "nueva direccion",
        ),
    ),
    Column(
        "subject",
        Kind.TEXT,
        "The subject of your question (other).",
        ("onderwerp", "betreff", "sujet", "objet", "asunto", "tema"),
    ),
    Column(
        "question",
        Kind.TEXT,
        "Your question to Sendcloud (other).",
        ("your question", "vraag", "uw vraag", "frage", "ihre frage", "pregunta"),
    ),
    Column(
        "shipped_at",
        Kind.DATE,
        "Date the parcel was shipped (optional): a claim filed in its first 48 hours is flagged.",
        (
            "shipped",
            "ship date",
            "shipping date",
            "shipped on",
            "date shipped",
            "verzenddatum",
            "verzonden",
            "verzonden op",
            "versanddatum",
            "versendet am",
            "date d'expédition",
            "date d'envoi",
            "expédié le",
            "fecha de envío",
            "fecha de envio",
            "enviado el",
        ),
        api_field=False,
    ),
    Column(
        "delivered_at",
        Kind.DATE,
        "Date of the delivered scan or the last scan (optional): a claim close to or past "
        "the window Sendcloud recommends is flagged.",
        (
            "delivered",
            "delivery date",
            "delivered on",
            "date delivered",
            "last scan",
            "bezorgdatum",
            "bezorgd op",
            "afleverdatum",
            "zustelldatum",
            "zugestellt am",
            "date de livraison",
            "livré le",
            "fecha de entrega",
            "entregado el",
        ),
        api_field=False,
    ),
    _doc(
        "customer_confirmation",
        "The receiver's written confirmation of the damage (file).",
        "customer confirmation file",
        "klantbevestiging",
        "kundenbestatigung",
        "confirmation client",
        "confirmacion del cliente",
        "bevestiging klant",
        "confirmation du client",
        "confirmacion cliente",
    ),
    _doc(
        "sales_invoice",
        "The sales invoice (file).",
        "invoice",
        "sales invoice file",
        "verkoopfactuur",
        "verkaufsrechnung",
        "facture de vente",
        "factura de venta",
        "factuur",
        "rechnung",
        "facture",
        "factura",
    ),
    _doc(
        "purchase_invoice",
        "The purchase invoice (file).",
        "purchase invoice file",
        "inkoopfactuur",
        "einkaufsrechnung",
        "facture d achat",
        "factura de compra",
    ),
    _doc(
        "exterior_photo",
        "Photo of the outside of the box.",
        "exterior picture",
        "photo exterior",
        "outside photo",
        "foto buitenkant",
        "foto buitenzijde",
        "foto aussen",
        "foto aussenseite",
        "photo exterieure",
        "photo exterieur",
        "foto exterior",
        "foto del exterior",
    ),
    _doc(
        "interior_photo",
        "Photo of the inside padding material.",
        "interior picture",
        "photo interior",
        "inside photo",
        "foto binnenkant",
        "foto binnenzijde",
        "foto innen",
        "foto innenseite",
        "photo interieure",
        "photo interieur",
        "foto interior",
        "foto del interior",
    ),
    _doc(
        "damage_photo_1",
        "Photo of the damaged goods.",
        "damage photo",
        "photo damage",
        "photo damage 1",
        "schadefoto",
        "schadefoto 1",
        "foto schade",
        "foto schade 1",
        "schadenfoto",
        "schadenfoto 1",
        "schadensfoto",
        "schadensfoto 1",
        "photo dommage",
        "photo dommage 1",
        "photo des degats",
        "photo des degats 1",
        "foto dano",
        "foto dano 1",
        "foto del dano",
        "foto del dano 1",
    ),
    _doc(
        "damage_photo_2",
        "Another photo of the damaged goods.",
        "damage photo 2",
        "photo damage 2",
        "schadefoto 2",
        "foto schade 2",
        "schadenfoto 2",
        "schadensfoto 2",
        "photo dommage 2",
        "photo des degats 2",
        "foto dano 2",
        "foto del dano 2",
    ),
    _doc(
        "package_photo",
        "Photo of the opened package from above.",
        "package picture",
        "photo package",
        "parcel photo",
        "foto pakket",
        "foto verpakking",
        "paketfoto",
        "foto paket",
        "photo du colis",
        "photo colis",
        "foto del paquete",
        "foto paquete",
    ),
    _doc(
        "entire_product_photo",
        "Photo showing the entire product.",
        "product photo",
        "entire product",
        "photo entire product",
        "photo product",
        "foto product",
        "foto volledig product",
        "foto hele product",
        "produktfoto",
        "foto produkt",
        "photo du produit",
        "photo produit",
        "foto del producto",
        "foto producto",
        "foto del producto completo",
    ),
    _doc(
        "carrier_claim_form",
        "The carrier's claim form, filled in (lost, delivered-but-not-received).",
        "claim form",
        "carrier form",
        "claimformulier",
        "schadeformulier vervoerder",
        "reklamationsformular",
        "schadensformular",
        "formulaire de réclamation",
        "formulaire transporteur",
        "formulario de reclamación",
        "formulario de reclamacion",
    ),
)

BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}
DOCUMENT_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.is_document)
TRACKING_NUMBER = "tracking_number"
CONTRACT_TYPE = "contract_type"
CARRIER_CONTRACT_ID = "carrier_contract_id"
IS_PORTAL_CLAIM = "is_portal_claim"
SHARED_CURRENCY = "currency"
PARCEL_DIMENSIONS = "parcel_dimensions"
# The columns that make up ``parcel_dimensions`` when it is not given in one cell.
DIMENSION_PARTS = ("parcel_length", "parcel_width", "parcel_height")
TICKET_TYPE = "ticket_type"
SHIPPED_AT = "shipped_at"
DELIVERED_AT = "delivered_at"

# The template's example row (row 2 of its Claims sheet). The reader skips a row with
# this tracking number, so an example the user forgot to delete is never filed.
EXAMPLE_TRACKING_NUMBER = "EXAMPLE-3SABCD1234567"
EXAMPLE_ROW: Mapping[str, str] = {
    "tracking_number": EXAMPLE_TRACKING_NUMBER,
    "contract_type": "sendcloud_rates",
    "ticket_type": "damage",
    "carrier_contract_id": "",  # own_contract claims only; blank for sendcloud_rates
    "is_portal_claim": "no",
    "contents_sales_price": "24.95",
    "contents_sales_currency": "EUR",
    "contents_purchase_price": "9.50",
    "contents_purchase_currency": "EUR",
    "currency": "",  # only when the two currency columns above are not used
    "contents_description": "2 ceramic coffee mugs, white",
    "parcel_exterior_description": "brown cardboard box, Sendcloud tape",
    "additional_remarks": "one mug arrived in pieces, box dented on one corner",
    # The columns of other ticket types: blank on a damage claim.
    "parcel_length": "",
    "parcel_width": "",
    "parcel_height": "",
    "parcel_dimensions": "",
    "is_parcel_returned": "",
    "additional_details": "",
    "new_address": "",
    "subject": "",
    "question": "",
    "shipped_at": "",
    "delivered_at": "",
    "customer_confirmation": "EXAMPLE-3SABCD1234567/confirmation.pdf",
    "sales_invoice": "EXAMPLE-3SABCD1234567/sales_invoice.pdf",
    "purchase_invoice": "EXAMPLE-3SABCD1234567/purchase_invoice.pdf",
    "exterior_photo": "EXAMPLE-3SABCD1234567/exterior.jpg",
    "interior_photo": "EXAMPLE-3SABCD1234567/interior.jpg",
    "damage_photo_1": "EXAMPLE-3SABCD1234567/damage_1.jpg",
    "damage_photo_2": "EXAMPLE-3SABCD1234567/damage_2.jpg",
    "package_photo": "EXAMPLE-3SABCD1234567/package.jpg",
    "entire_product_photo": "",  # blank: found by the folder convention
    "carrier_claim_form": "",  # lost and delivered-but-not-received claims only
}


_NOT_FOLDED = re.compile(r"[^0-9a-z]")


def normalise_header(text: str) -> str:
    """Fold a header for matching: no case, accents, spaces or punctuation."""
    text = str(text)
    if text.isascii():  # nothing to decompose, and casefold is lower: the same, faster
        return _NOT_FOLDED.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_FOLDED.sub("", without_accents.casefold())
