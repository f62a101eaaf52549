"""Claim → ticket body: pure functions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from batch_claims.columns import Variant
from batch_claims.outcome import Attachment, Claim, Money
from batch_claims.send.payload import build_payload, changed_fields, normalised


def claim(variant: Variant = Variant.SENDCLOUD_RATES, **fields: object) -> Claim:
    return Claim(
        row=2,
        tracking_number="3S123",
        variant=variant,
        is_portal_claim=False,
        fields=fields,  # type: ignore[arg-type]
        attachments={
            "damage_photo_1": Attachment(
                "damage_photo_1", Path("x.jpg"), "x.jpg", "image/jpeg", 10, "aa" * 32
            )
        },
    )


def test_rates_body_has_prices_as_numbers_and_documents_as_tokens() -> None:
    body = build_payload(
        claim(
            contents_sales_price=Money(Decimal("10.55"), "EUR"),
            contents_purchase_price=Money(Decimal("8.00"), "GBP"),
            contents_description="mugs",
        ),
        {"damage_photo_1": "tok-1"},
    )
    assert body == {
        "tracking_number": "3S123",
        "contents_sales_price": {"price": 10.55, "currency": "EUR"},
        "contents_purchase_price": {"price": 8, "currency": "GBP"},
        "contents_description": "mugs",
        "damage_photo_1": {"file_token": "tok-1"},
    }


def test_carrier_contract_id_only_in_own_contract_bodies() -> None:
    own = build_payload(claim(Variant.OWN_CONTRACT, carrier_contract_id=4711), {})
    assert own["carrier_contract_id"] == 4711
    rates = build_payload(claim(Variant.SENDCLOUD_RATES, carrier_contract_id=4711), {})
    assert "carrier_contract_id" not in rates


def test_changed_fields_names_what_the_data_changed() -> None:
    a = claim(contents_description="mugs")
    b = claim(contents_description="mugs and a teapot")
    assert changed_fields(normalised(a), normalised(claim(contents_description="mugs"))) == []
    assert changed_fields(normalised(a), normalised(b)) == ["contents_description"]
