"""The sandbox's own JSON Schemas for every ticket type but damage.

Written here from Sendcloud's Support API pages and the January 2026 copy of its
OpenAPI description (``shared/api/sendcloud-support-api``), not copied from it, and
independent of the client's own definitions (``batch_claims.ticket_types``): a mistake
in one cannot hide behind the other. Damage keeps the vendored, unchanged
``support-damage-openapi.yaml`` (``damage.py``).

These schemas are deliberately stricter than the published ones, so a client's slip
shows up here rather than at Sendcloud:

- every object is closed (``additionalProperties: false``): a field a variant does not
  define is refused, never ignored (the published schemas are all open);
- money needs both ``price`` (a number, at least 0) and ``currency`` (EUR, GBP, USD);
- ``parcel_dimensions`` needs ``length``, ``width`` and ``height``, each a number
  above 0 (centimetres);
- text fields hold at least one character; a document is ``{file_token}`` and nothing
  else;
- the Sendcloud-rates variants require the documents the published ones list (the
  "files" of ``SENDCLOUD_TICKET_TYPES.md``);
- the published faults are read as documentation bugs: the Sendcloud-rates
  address-change variant does not define or require ``is_parcel_returned``.

``VARIANTS`` lists, per ticket type, the variants it takes: own contract first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OWN_CONTRACT = "own_contract"
SENDCLOUD_RATES = "sendcloud_rates"

Schema = dict[str, Any]

_TEXT: Schema = {"type": "string", "minLength": 1}
_MONEY: Schema = {
    "type": "object",
    "properties": {
        "price": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "GBP", "USD"]},
    },
    "required": ["price", "currency"],
    "additionalProperties": False,
}
_CENTIMETRES: Schema = {"type": "number", "exclusiveMinimum": 0}
_DIMENSIONS: Schema = {
    "type": "object",
    "properties": {"length": _CENTIMETRES, "width": _CENTIMETRES, "height": _CENTIMETRES},
    "required": ["length", "width", "height"],
    "additionalProperties": False,
}
DOCUMENT: Schema = {
    "type": "object",
    "properties": {"file_token": {"type": "string"}},
    "required": ["file_token"],
    "additionalProperties": False,
}

# Every body field a written variant may define, with its schema.
FIELDS: Mapping[str, Schema] = {
    "tracking_number": _TEXT,
    "carrier_contract_id": {"type": "integer"},
    "contents_sales_price": _MONEY,
    "contents_purchase_price": _MONEY,
    "contents_description": _TEXT,
    "parcel_exterior_description": _TEXT,
    "parcel_dimensions": _DIMENSIONS,
    "additional_remarks": _TEXT,
    "is_parcel_returned": {"type": "boolean"},
    "additional_details": _TEXT,
    "new_address": _TEXT,
    "subject": _TEXT,
    "question": _TEXT,
    "customer_confirmation": DOCUMENT,
    "sales_invoice": DOCUMENT,
    "purchase_invoice": DOCUMENT,
    "carrier_claim_form": DOCUMENT,
}


@dataclass(frozen=True)
class VariantSpec:
    """One body variant: its contract, its fields in order, the required ones."""

    contract: str
    fields: tuple[str, ...]
    required: frozenset[str]

    def schema(self) -> Schema:
        """The variant as a closed JSON Schema 2020-12 object."""
        return {
            "type": "object",
            "properties": {name: FIELDS[name] for name in self.fields},
            "required": [name for name in self.fields if name in self.required],
            "additionalProperties": False,
        }

    def document_fields(self) -> tuple[str, ...]:
        return tuple(name for name in self.fields if FIELDS[name] is DOCUMENT)


def _own(*fields: str, required: tuple[str, ...] = ()) -> VariantSpec:
    """An own-contract variant: ``tracking_number`` plus ``required`` are required."""
    return VariantSpec(OWN_CONTRACT, fields, frozenset(("tracking_number", *required)))


def _rates(*fields: str, optional: tuple[str, ...] = ()) -> VariantSpec:
    """A Sendcloud-rates variant: every field is required except ``optional``."""
    return VariantSpec(SENDCLOUD_RATES, fields, frozenset(fields) - frozenset(optional))


_PRICES = ("contents_sales_price", "contents_purchase_price")
_DESCRIPTIONS = ("contents_description", "parcel_exterior_description")
_LOST = (
    "tracking_number",
    *_PRICES,
    *_DESCRIPTIONS,
    "parcel_dimensions",
    "additional_remarks",
    "customer_confirmation",
    "sales_invoice",
    "purchase_invoice",
    "carrier_claim_form",
)
_NOT_RECEIVED = tuple(name for name in _LOST if name != "customer_confirmation")
_DELAY = ("tracking_number", *_PRICES, *_DESCRIPTIONS, "sales_invoice", "purchase_invoice")
_UNJUST_RETURN = ("tracking_number", "is_parcel_returned", "additional_details")
_ADDRESS_CHANGE = ("tracking_number", "new_address", "additional_details")
_OTHER = ("tracking_number", "subject", "question")


def _with_contract_id(fields: tuple[str, ...]) -> tuple[str, ...]:
    """``carrier_contract_id`` right after ``tracking_number``, as damage has it."""
    return (fields[0], "carrier_contract_id", *fields[1:])


VARIANTS: Mapping[str, tuple[VariantSpec, ...]] = {
    "lost": (
        _own(*_with_contract_id(_LOST)),
        _rates(*_LOST, optional=("contents_purchase_price",)),
    ),
    "delivered-but-not-received": (
        _own(*_NOT_RECEIVED),
        _rates(*_NOT_RECEIVED, optional=("contents_purchase_price",)),
    ),
    "delay": (_rates(*_DELAY, optional=("contents_purchase_price",)),),
    "late-delivery": (_own("tracking_number", "carrier_contract_id", "additional_remarks"),),
    "unjust-return": (
        _own(*_with_contract_id(_UNJUST_RETURN)),
        _rates(*_UNJUST_RETURN),
    ),
    "address-change": (
        _own(*_ADDRESS_CHANGE, required=("new_address",)),
        _rates(*_ADDRESS_CHANGE, optional=("new_address", "additional_details")),
    ),
    "other": (
        _own(*_OTHER),
        _rates(*_OTHER),
    ),
}
