"""Claim → the JSON body of the damage-ticket endpoint, in the right variant.

Pure functions: the file tokens come in as a mapping from document column to token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from batch_claims.columns import BY_NAME, DOCUMENT_COLUMNS, TRACKING_NUMBER, Kind, Variant
from batch_claims.outcome import Claim, Money

TICKET_TYPE = "damage"


def _price(value: Decimal) -> int | float:
    """A JSON number for an amount: 12 stays 12, 10.55 is 10.55 (never 10.550000001)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def build_payload(claim: Claim, file_tokens: Mapping[str, str]) -> dict[str, Any]:
    """The ticket body for ``claim``.

    Own-contract bodies carry whatever the row has; Sendcloud-rates bodies never carry
    ``carrier_contract_id`` (it is not in that variant's schema).
    """
    body: dict[str, Any] = {TRACKING_NUMBER: claim.tracking_number}
    for name, value in claim.fields.items():
        column = BY_NAME[name]
        if not column.api_field or column.is_document:
            continue
        if column.kind is Kind.INTEGER and claim.variant is Variant.SENDCLOUD_RATES:
            continue
        if isinstance(value, Money):
            body[name] = {"price": _price(value.price), "currency": value.currency}
        else:
            body[name] = value
    for column in DOCUMENT_COLUMNS:
        token = file_tokens.get(column.name)
        if token is not None:
            body[column.name] = {"file_token": token}
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
        else:
            data[name] = value
    for name, attachment in claim.attachments.items():
        data[name] = {"sha256": attachment.sha256}
    return data


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of the fields whose normalised values differ between two claims."""
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
