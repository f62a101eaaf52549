"""Claim → the JSON body of its ticket type's endpoint, in the right variant: only the
fields the type's variant defines (``ticket_types``), money as ``{price, currency}``,
a parcel's size as ``{length, width, height}``, documents as ``{file_token}``.

Pure functions: the file tokens come in as a mapping from document column to token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import astuple
from decimal import Decimal
from typing import Any

from batch_claims.columns import BY_NAME, TRACKING_NUMBER
from batch_claims.outcome import Claim, Dimensions, Money
from batch_claims.ticket_types import TYPES


def _price(value: Decimal) -> int | float:
    """A JSON number for an amount: 12 stays 12, 10.55 is 10.55 (never 10.550000001)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def build_payload(claim: Claim, file_tokens: Mapping[str, str]) -> dict[str, Any]:
    """The ticket body for ``claim``: the fields its ticket type sends for its variant
    (a Sendcloud-rates body never carries ``carrier_contract_id``: that variant does not
    define it), each as the API spells it."""
    spec = TYPES[claim.ticket_type]
    body: dict[str, Any] = {TRACKING_NUMBER: claim.tracking_number}
    for name, value in claim.fields.items():
        column = BY_NAME[name]
        if not column.api_field or column.is_document or not spec.sends(name, claim.variant):
            continue
        if isinstance(value, Money):
            body[name] = {"price": _price(value.price), "currency": value.currency}
        elif isinstance(value, Dimensions):
            body[name] = {
                "length": _price(value.length),
                "width": _price(value.width),
                "height": _price(value.height),
            }
        else:
            body[name] = value
    for name in spec.documents(claim.variant):
        token = file_tokens.get(name)
        if token is not None:
            body[name] = {"file_token": token}
    return body


def request_hash(claim: Claim) -> str:
    """A hash of the ticket request the claim makes: its body with every document by the
    SHA-256 of its bytes instead of its file token (a new one per upload), and the portal
    flag. The same hash is the same request — and, from the API, the same answer."""
    documents = {name: f"sha256:{doc.sha256}" for name, doc in claim.attachments.items()}
    request = {"body": build_payload(claim, documents), "is_portal_claim": claim.is_portal_claim}
    return hashlib.sha256(
        json.dumps(request, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def normalised(claim: Claim) -> dict[str, Any]:
    """The claim as plain JSON values, documents by content hash."""
    data: dict[str, Any] = {
        TRACKING_NUMBER: claim.tracking_number,
        "variant": claim.variant.value,
        "is_portal_claim": claim.is_portal_claim,
    }
    for name, value in claim.fields.items():
        if isinstance(value, Money):
            data[name] = {"price": str(value.price.normalize()), "currency": value.currency}
        elif isinstance(value, Dimensions):
            data[name] = [str(size.normalize()) for size in astuple(value)]
        else:
            data[name] = value
    for name, attachment in claim.attachments.items():
        data[name] = {"sha256": attachment.sha256}
    return data


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of the fields whose normalised values differ between two claims."""
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
