"""The rows of ``claims_week48_all_types.xlsx`` (``make_sample_data.py all-types``):
every ticket type on one sheet, its claim type in several languages.

Rows 2-11 are filed by the sandbox (row 11 is the parcel of row 9 again, another type:
a second ticket, not a duplicate); rows 12-18 are refused by it (its deterministic
tracking-number prefixes, carrier contract 999); rows 19-23 are invalid before anything
is sent. ``DOCUMENTS`` lists the files each parcel has in ``photos/<tracking number>/``.
"""

from __future__ import annotations

ALL_TYPES_HEADERS = (
    "Tracking number",
    "Claim type",
    "Contract type",
    "Carrier contract ID",
    "Sales value",
    "Currency",
    "Contents description",
    "Parcel exterior description",
    "Remarks",
    "Dimensions",
    "Parcel returned",
    "Details",
    "New address",
    "Subject",
    "Question",
    "Handled by",
)
_KEYS = (
    "tracking",
    "kind",
    "contract",
    "carrier",
    "sales",
    "currency",
    "contents",
    "exterior",
    "remarks",
    "dimensions",
    "returned",
    "details",
    "address",
    "subject",
    "question",
    "by",
)
OWN, RATES = "own_contract", "sendcloud_rates"


def _row(tracking: str, kind: str, contract: str, **cells: object) -> tuple[object, ...]:
    values: dict[str, object] = {"tracking": tracking, "kind": kind, "contract": contract}
    values.update(cells)
    assert set(values) <= set(_KEYS), set(values) - set(_KEYS)
    return tuple(values.get(key) for key in _KEYS)


_GOODS = {"sales": 34.5, "currency": "EUR"}

ALL_TYPES_ROWS: tuple[tuple[object, ...], ...] = (
    # Filed by the sandbox.
    _row(
        "3SWK48DMG0001",
        "Damage",
        RATES,
        sales=59.9,
        currency="EUR",
        contents="Table lamp with glass shade",
        exterior="Brown box, Acme tape",
        remarks="Glass shade shattered",
        by="Anna",
    ),
    _row("3SWK48LOST001", "Verloren", OWN, carrier=4711, contents="Running shoes", by="Bram"),
    _row(
        "3SWK48LOST002",
        "lost",
        RATES,
        sales=89,
        currency="EUR",
        contents="Wireless headphones",
        exterior="Small white box",
        remarks="Tracking stuck at the hub for 12 days",
        dimensions="25x20x10",
        by="Anna",
    ),
    _row(
        "3SWK48DBNR001",
        "Delivered but not received",
        OWN,
        contents="Board game",
        remarks="The receiver asked the neighbours too",
        by="Chloé",
    ),
    _row(
        "3SWK48DELAY01",
        "Verspätung",
        RATES,
        **_GOODS,
        contents="Coffee beans, 2 kg",
        exterior="Brown box",
        by="Bram",
    ),
    _row(
        "3SWK48LATE001",
        "late delivery",
        OWN,
        carrier=5120,
        remarks="Promised next day, took five days",
        by="Bram",
    ),
    _row(
        "3SWK48RET0001",
        "Retour injustifié",
        RATES,
        returned="yes",
        details="Returned as 'address unknown'; the address is right",
        by="Chloé",
    ),
    _row(
        "3SWK48ADDR001",
        "Adreswijziging",
        OWN,
        address="Keizersgracht 123, 1015 CJ Amsterdam",
        details="The customer moved",
        by="Anna",
    ),
    _row(
        "3SWK48OTHER01",
        "Other",
        RATES,
        subject="Invoice",
        question="Why was this parcel invoiced twice?",
        by="Anna",
    ),
    _row(
        "3SWK48ADDR001",
        "damage",
        OWN,
        carrier=4711,
        contents="Vase",
        remarks="Delivered at the new address, cracked",
        by="Chloé",
    ),
    # Refused by the sandbox.
    _row("INTRANSIT4801", "lost", OWN, carrier=4711, contents="Camera bag", by="Bram"),
    _row("NOTDELIVERED4802", "late-delivery", OWN, carrier=4711, by="Bram"),
    _row("NOTRETURNED4803", "unjust-return", OWN, carrier=4711, by="Anna"),
    _row(
        "ONTIME4804",
        "delay",
        RATES,
        sales=12,
        currency="EUR",
        contents="Socks",
        exterior="Mailer bag",
        by="Chloé",
    ),
    _row("NOTFOUND4805", "delivered-but-not-received", OWN, by="Anna"),
    _row("DELIVERED4806", "address change", OWN, address="Hauptstraße 5, 10115 Berlin", by="Bram"),
    _row("3SWK48RET0999", "unjust return", OWN, carrier=999, by="Anna"),
    # Invalid: nothing is sent.
    _row("3SWK48DELAY02", "delay", OWN, carrier=4711, contents="Umbrella", by="Bram"),
    _row("3SWK48LATE002", "late-delivery", RATES, remarks="Two days late", by="Chloé"),
    _row("3SWK48LOST003", "lost", OWN, carrier=4711, address="Somewhere 1, Utrecht", by="Anna"),
    _row(
        "3SWK48DBNR002",
        "delivered but not received",
        RATES,
        sales=45,
        currency="EUR",
        contents="Rain jacket",
        exterior="Grey bag",
        remarks="Not with the neighbours either",
        dimensions="40x30x5",
        by="Bram",
    ),
    _row("3SWK48CLAIM01", "Beschwerde", OWN, by="Chloé"),
)

_DAMAGE = (
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
_INVOICES = ("sales_invoice", "purchase_invoice")
DOCUMENTS: dict[str, tuple[str, ...]] = {
    "3SWK48DMG0001": _DAMAGE,
    "3SWK48LOST002": ("customer_confirmation", *_INVOICES, "carrier_claim_form"),
    "3SWK48DELAY01": _INVOICES,
    "ONTIME4804": _INVOICES,
    # The carrier's claim form is missing: invalid for a Sendcloud-rates claim.
    "3SWK48DBNR002": _INVOICES,
}
