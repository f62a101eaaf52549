"""The sandbox's eight ticket types, through Flask's test client and over real HTTP.

What each type takes is restated here as a specification (``SPEC``), not read from the
sandbox, so a slip in the sandbox's schemas shows up as a failing test. Every app runs
on a ``FakeClock``."""

from __future__ import annotations

import ast
import base64
import functools
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

import batch_claims.sandbox
from batch_claims.clock import FakeClock
from batch_claims.sandbox import create_app
from batch_claims.validate.coerce import parse_tracking_number

BASIC = {"Authorization": "Basic " + base64.b64encode(b"public:secret").decode()}
FILES = "/api/v3/dsf/files"
NO_LIMITS: dict[str, object] = {
    "TICKET_LIMIT": (1000, 1.0),
    "REQUEST_LIMIT": (1000, 1.0),
    "BURST_LIMIT": (1000, 1.0),
}
OWN, RATES = "own_contract", "sendcloud_rates"
TYPES = (
    "damage",
    "lost",
    "delivered-but-not-received",
    "delay",
    "late-delivery",
    "unjust-return",
    "address-change",
    "other",
)
CLOSED_TYPES = TYPES[1:]  # damage keeps the published, open schema
PORTAL_TYPES = ("damage", "lost", "delay", "late-delivery", "unjust-return")
CONTRACT_ID_TYPES = ("damage", "lost", "late-delivery", "unjust-return")

DAMAGE_DOCUMENTS = (
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
DOCUMENTS = frozenset(
    {*DAMAGE_DOCUMENTS, "carrier_claim_form"},
)
VALUES: dict[str, object] = {
    "carrier_contract_id": 4711,
    "contents_sales_price": {"price": 12.5, "currency": "EUR"},
    "contents_purchase_price": {"price": 8, "currency": "GBP"},
    "contents_description": "Two pairs of shoes",
    "parcel_exterior_description": "Brown box, our logo",
    "parcel_dimensions": {"length": 40, "width": 30, "height": 20.5},
    "additional_remarks": "Last scan at the depot",
    "is_parcel_returned": True,
    "additional_details": "Returned as refused, the customer never refused it",
    "new_address": "Stadhuisplein 10, 5611 EM Eindhoven",
    "subject": "Pickup missed",
    "question": "Can the driver come again tomorrow?",
}
_LOST_RATES = (
    "tracking_number",
    "contents_sales_price",
    "contents_description",
    "parcel_exterior_description",
    "parcel_dimensions",
    "additional_remarks",
    "customer_confirmation",
    "sales_invoice",
    "purchase_invoice",
    "carrier_claim_form",
)
_NOT_RECEIVED_RATES = tuple(f for f in _LOST_RATES if f != "customer_confirmation")
_DAMAGE_RATES = (
    "tracking_number",
    "contents_sales_price",
    "contents_description",
    "parcel_exterior_description",
    "additional_remarks",
    *DAMAGE_DOCUMENTS,
)
# type -> contract -> (required fields, optional fields): what the shared notes say.
SPEC: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "damage": {
        OWN: (("tracking_number",), ("carrier_contract_id", *_DAMAGE_RATES[1:])),
        RATES: (_DAMAGE_RATES, ("contents_purchase_price",)),
    },
    "lost": {
        OWN: (
            ("tracking_number",),
            ("carrier_contract_id", "contents_purchase_price", *_LOST_RATES[1:]),
        ),
        RATES: (_LOST_RATES, ("contents_purchase_price",)),
    },
    "delivered-but-not-received": {
        OWN: (("tracking_number",), ("contents_purchase_price", *_NOT_RECEIVED_RATES[1:])),
        RATES: (_NOT_RECEIVED_RATES, ("contents_purchase_price",)),
    },
    "delay": {
        RATES: (
            (
                "tracking_number",
                "contents_sales_price",
                "contents_description",
                "parcel_exterior_description",
                "sales_invoice",
                "purchase_invoice",
            ),
            ("contents_purchase_price",),
        ),
    },
    "late-delivery": {
        OWN: (("tracking_number",), ("carrier_contract_id", "additional_remarks")),
    },
    "unjust-return": {
        OWN: (
            ("tracking_number",),
            ("carrier_contract_id", "is_parcel_returned", "additional_details"),
        ),
        RATES: (("tracking_number", "is_parcel_returned", "additional_details"), ()),
    },
    "address-change": {
        OWN: (("tracking_number", "new_address"), ("additional_details",)),
        RATES: (("tracking_number",), ("new_address", "additional_details")),
    },
    "other": {
        OWN: (("tracking_number",), ("subject", "question")),
        RATES: (("tracking_number", "subject", "question"), ()),
    },
}
VARIANTS = [(kind, contract) for kind in TYPES for contract in SPEC[kind]]
# Prefixes that tell the sandbox the parcel's contract, so it judges that variant.
CONTRACT_TRACKING = {OWN: "OWN-3S0000001", RATES: "RATES-3S0000001"}


def tickets_path(kind: str, query: str = "") -> str:
    return f"/api/v3/dsf/tickets/{kind}{query}"


def error_of(response: Any) -> dict[str, Any]:
    """The one error of an error body, after checking the body's shape."""
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    assert list(body) == ["errors"]
    [error] = body["errors"]
    assert set(error) == {"code", "detail", "title", "status"}
    assert error["status"] == response.status_code
    return dict(error)


def validation(*problems: dict[str, object]) -> str:
    """The detail of a 400 listing these pydantic-style problems."""
    return f"Validation Error. Errors: {list(problems)!r}"


def missing(*loc: str) -> dict[str, object]:
    return {"type": "missing", "loc": loc, "msg": "Field required"}


def extra(*loc: str) -> dict[str, object]:
    return {"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted"}


def upload(client: FlaskClient, name: str) -> str:
    data = {"file": (io.BytesIO(name.encode()), f"{name}.pdf", "application/pdf")}
    response = client.post(FILES, headers=BASIC, data=data, content_type="multipart/form-data")
    assert response.status_code == 201
    token: str = response.get_json()["file_token"]
    return token


def post(client: FlaskClient, kind: str, body: object, query: str = "") -> Any:
    return client.post(tickets_path(kind, query), headers=BASIC, json=body)


def body_of(
    client: FlaskClient, fields: tuple[str, ...], tracking_number: str
) -> dict[str, object]:
    """A body with these fields, documents uploaded to ``client``'s sandbox."""
    body: dict[str, object] = {}
    for name in fields:
        if name == "tracking_number":
            body[name] = tracking_number
        elif name in DOCUMENTS:
            body[name] = {"file_token": upload(client, name)}
        else:
            body[name] = VALUES[name]
    return body


def full_body(client: FlaskClient, kind: str, contract: str, tracking: str) -> dict[str, object]:
    required, optional = SPEC[kind][contract]
    return body_of(client, (*required, *optional), tracking)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., FlaskClient]:
    def make(**config: object) -> FlaskClient:
        return create_app({**NO_LIMITS, **config}, clock=clock).test_client()

    return make


@pytest.fixture
def client(make_client: Callable[..., FlaskClient]) -> FlaskClient:
    return make_client()


@functools.cache
def shared_client() -> FlaskClient:
    """One app for the property tests (hypothesis runs many examples per test)."""
    return create_app(NO_LIMITS, clock=FakeClock()).test_client()


def listed(client: FlaskClient) -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = client.get("/sandbox/tickets").get_json()
    return tickets


# --- routes ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TYPES)
def test_every_type_has_its_endpoint_and_tickets_name_their_type(
    client: FlaskClient, kind: str
) -> None:
    contract = next(iter(SPEC[kind]))
    body = full_body(client, kind, contract, "3SPATH00001")
    response = post(client, kind, body)
    assert response.status_code == 202, response.get_json()
    [ticket] = listed(client)
    assert ticket["ticket_id"] == response.get_json()["ticket_id"]
    assert (ticket["type"], ticket["body"]) == (kind, body)
    documents = sorted(name for name in body if name in DOCUMENTS)
    assert sorted(ticket["files"]) == documents


def test_an_unknown_type_is_a_404_like_any_unknown_route(client: FlaskClient) -> None:
    response = post(client, "broken", {"tracking_number": "3SPATH00002"})
    other = client.post("/api/v3/dsf/nothing-here", headers=BASIC, json={})
    assert response.status_code == other.status_code == 404
    assert error_of(response) == error_of(other)
    log = client.get("/sandbox/requests").get_json()
    assert [entry["scopes"] for entry in log] == [[], []]  # counted in no window
    assert listed(client) == []


@pytest.mark.parametrize("kind", TYPES)
def test_get_on_a_ticket_endpoint_is_405(client: FlaskClient, kind: str) -> None:
    response = client.get(tickets_path(kind), headers=BASIC)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize("kind", TYPES)
def test_every_type_needs_the_same_credentials(client: FlaskClient, kind: str) -> None:
    body = {"tracking_number": "3SAUTH00001"}
    assert client.post(tickets_path(kind), json=body).status_code == 401
    bad = {"Authorization": "Basic " + base64.b64encode(b"bad:secret").decode()}
    refused = client.post(tickets_path(kind), headers=bad, json=body)
    assert (refused.status_code, error_of(refused)["code"]) == (401, "authentication_failed")


@pytest.mark.parametrize("kind", TYPES)
def test_a_body_that_is_not_a_json_object_is_406(client: FlaskClient, kind: str) -> None:
    response = client.post(tickets_path(kind), headers=BASIC, data="[1]", content_type=None)
    assert (response.status_code, error_of(response)["detail"]) == (406, "Invalid JSON")


# --- bodies accepted ----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "contract"), VARIANTS)
@pytest.mark.parametrize("prefixed", [False, True], ids=["contract unknown", "contract known"])
def test_every_variant_takes_its_required_fields_alone_and_with_every_optional_one(
    client: FlaskClient, kind: str, contract: str, prefixed: bool
) -> None:
    tracking = CONTRACT_TRACKING[contract] if prefixed else "3SOK0000001"
    required, optional = SPEC[kind][contract]
    bodies = [
        body_of(client, required, tracking),
        body_of(client, (*required, *optional), tracking),
    ]
    for body in bodies:
        response = post(client, kind, body)
        assert response.status_code == 202, (body, response.get_json())
    assert [(t["type"], t["body"]) for t in listed(client)] == [(kind, b) for b in bodies]


# The types whose Sendcloud-rates variant requires more than the own-contract one.
STRICTER_ON_RATES = [
    kind
    for kind in CLOSED_TYPES
    if OWN in SPEC[kind]
    and RATES in SPEC[kind]
    and set(SPEC[kind][RATES][0]) - set(SPEC[kind][OWN][0])
]


@pytest.mark.parametrize("kind", STRICTER_ON_RATES)
def test_an_incomplete_body_is_an_own_contract_body_unless_the_parcel_is_on_rates(
    client: FlaskClient, kind: str
) -> None:
    """The sandbox has no parcel database: without a RATES… tracking number, a body
    valid against the own-contract variant is accepted (the "at least one" rule)."""
    body = body_of(client, SPEC[kind][OWN][0], "3SOWNBODY01")
    assert post(client, kind, body).status_code == 202
    on_rates = {**body, "tracking_number": "RATES-4410"}
    response = post(client, kind, on_rates)
    assert response.status_code == 400
    rates_required = SPEC[kind][RATES][0]
    absent = [name for name in rates_required if name not in on_rates]
    assert error_of(response)["detail"] == validation(*(missing(name) for name in absent))


def test_damage_keeps_the_published_open_schema(client: FlaskClient) -> None:
    body = {"tracking_number": "3SDAMAGE001", "not_in_the_document": 1}
    assert post(client, "damage", body).status_code == 202


# --- bodies refused: missing, extra, wrong --------------------------------------------------


# Variants that require more than the tracking number (which carries the contract).
DEMANDING = [(k, c) for k, c in VARIANTS if len(SPEC[k][c][0]) > 1]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_body_missing_required_fields_is_refused_naming_each_of_them(data: st.DataObject) -> None:
    client = shared_client()
    kind, contract = data.draw(st.sampled_from(DEMANDING))
    required, optional = SPEC[kind][contract]
    dropped = data.draw(st.sets(st.sampled_from(required[1:]), min_size=1))
    kept = tuple(name for name in (*required, *optional) if name not in dropped)
    body = body_of(client, kept, CONTRACT_TRACKING[contract])
    response = post(client, kind, body)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["title"]) == ("bad_request", "Bad Request")
    order = (*required, *optional)  # the spec lists fields in the variant's order
    expected = [missing(name) for name in sorted(dropped, key=order.index)]
    if kind == "damage":  # the published document orders damage's fields its own way
        assert sorted(eval_problems(error["detail"]), key=repr) == sorted(expected, key=repr)
    else:
        assert error["detail"] == validation(*expected)


@pytest.mark.parametrize(("kind", "contract"), VARIANTS)
def test_a_body_without_tracking_number_is_refused_naming_it(
    client: FlaskClient, kind: str, contract: str
) -> None:
    required, optional = SPEC[kind][contract]
    body = body_of(client, (*required, *optional), "unused")
    del body["tracking_number"]
    response = post(client, kind, body)
    assert response.status_code == 400
    assert error_of(response)["detail"] == validation(missing("tracking_number"))


def eval_problems(detail: str) -> list[dict[str, Any]]:
    """The problems of a Validation Error detail, read back with ``ast.literal_eval``."""
    prefix = "Validation Error. Errors: "
    assert detail.startswith(prefix)
    problems: list[dict[str, Any]] = ast.literal_eval(detail[len(prefix) :])
    return problems


_NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), names=st.sets(_NAMES, min_size=1, max_size=3))
def test_a_field_the_variant_does_not_define_is_refused_naming_it(
    data: st.DataObject, names: set[str]
) -> None:
    client = shared_client()
    kind, contract = data.draw(st.sampled_from([v for v in VARIANTS if v[0] != "damage"]))
    required, optional = SPEC[kind][contract]
    unknown = [name for name in names if name not in (*required, *optional)]
    body: dict[str, object] = body_of(client, required, CONTRACT_TRACKING[contract])
    body.update(dict.fromkeys(unknown, "x"))
    response = post(client, kind, body)
    if not unknown:
        assert response.status_code == 202
        return
    assert response.status_code == 400
    # Flask's test client sends the keys sorted; the sandbox names them in body order.
    problems = eval_problems(error_of(response)["detail"])
    assert sorted(problems, key=repr) == sorted((extra(name) for name in unknown), key=repr)


@pytest.mark.parametrize(
    ("kind", "body", "problems"),
    [
        # carrier_contract_id is defined only on own-contract damage, lost,
        # late-delivery and unjust-return: elsewhere it is a field too many
        (
            "delivered-but-not-received",
            {"carrier_contract_id": 4711},
            [extra("carrier_contract_id")],
        ),
        (
            "address-change",
            {"carrier_contract_id": 4711, "new_address": "Markt 1, Delft"},
            [extra("carrier_contract_id")],
        ),
        ("other", {"carrier_contract_id": 4711}, [extra("carrier_contract_id")]),
        # the published address-change fault: is_parcel_returned is no field of it
        ("address-change", {"is_parcel_returned": True}, [extra("is_parcel_returned")]),
        # another type's documents
        ("lost", {"damage_photo_1": {"file_token": "t"}}, [extra("damage_photo_1")]),
        (
            "delivered-but-not-received",
            {"customer_confirmation": {"file_token": "t"}},
            [extra("customer_confirmation")],
        ),
        (
            "late-delivery",
            {"contents_sales_price": {"price": 1, "currency": "EUR"}},
            [extra("contents_sales_price")],
        ),
    ],
)
def test_fields_of_other_types_or_variants_are_refused(
    client: FlaskClient, kind: str, body: dict[str, object], problems: list[dict[str, object]]
) -> None:
    response = post(client, kind, {"tracking_number": "3SEXTRA0001", **body})
    assert response.status_code == 400
    assert error_of(response)["detail"] == validation(*problems)
    assert listed(client) == []


@pytest.mark.parametrize(
    ("field", "value", "problems"),
    [
        (
            "parcel_dimensions",
            {"length": 40, "width": 30},
            [missing("parcel_dimensions", "height")],
        ),
        (
            "parcel_dimensions",
            {"length": 0, "width": -1, "height": "20"},
            [
                {
                    "type": "greater_than",
                    "loc": ("parcel_dimensions", "length"),
                    "msg": "Input should be greater than 0",
                },
                {
                    "type": "greater_than",
                    "loc": ("parcel_dimensions", "width"),
                    "msg": "Input should be greater than 0",
                },
                {
                    "type": "float_type",
                    "loc": ("parcel_dimensions", "height"),
                    "msg": "Input should be a valid number",
                },
            ],
        ),
        (
            "parcel_dimensions",
            {"length": 1, "width": 1, "height": 1, "depth": 1},
            [extra("parcel_dimensions", "depth")],
        ),
        (
            "parcel_dimensions",
            "40x30x20",
            [
                {
                    "type": "dict_type",
                    "loc": ("parcel_dimensions",),
                    "msg": "Input should be a valid dictionary",
                }
            ],
        ),
        (
            "contents_sales_price",
            {"price": 10, "currency": "CHF"},
            [
                {
                    "type": "enum",
                    "loc": ("contents_sales_price", "currency"),
                    "msg": "Input should be 'EUR', 'GBP' or 'USD'",
                }
            ],
        ),
        ("contents_sales_price", {"price": 10}, [missing("contents_sales_price", "currency")]),
        (
            "contents_sales_price",
            {"price": -1, "currency": "EUR"},
            [
                {
                    "type": "greater_than_equal",
                    "loc": ("contents_sales_price", "price"),
                    "msg": "Input should be greater than or equal to 0",
                }
            ],
        ),
        (
            "carrier_contract_id",
            "4711",
            [
                {
                    "type": "int_type",
                    "loc": ("carrier_contract_id",),
                    "msg": "Input should be a valid integer",
                }
            ],
        ),
        (
            "carrier_contract_id",
            True,
            [
                {
                    "type": "int_type",
                    "loc": ("carrier_contract_id",),
                    "msg": "Input should be a valid integer",
                }
            ],
        ),
        (
            "contents_description",
            "",
            [
                {
                    "type": "string_too_short",
                    "loc": ("contents_description",),
                    "msg": "String should have at least 1 character",
                }
            ],
        ),
        ("sales_invoice", {}, [missing("sales_invoice", "file_token")]),
        ("sales_invoice", {"file_token": "t", "name": "x"}, [extra("sales_invoice", "name")]),
    ],
)
def test_lost_field_values_in_pydantic_words(
    client: FlaskClient, field: str, value: object, problems: list[dict[str, object]]
) -> None:
    body = {"tracking_number": "OWN-3SVALUE1", field: value}
    response = post(client, "lost", body)
    assert response.status_code == 400
    assert error_of(response)["detail"] == validation(*problems)


@pytest.mark.parametrize("kind", ["unjust-return"])
def test_is_parcel_returned_is_a_boolean(client: FlaskClient, kind: str) -> None:
    body = {
        "tracking_number": "RATES-3S0002",
        "is_parcel_returned": "yes",
        "additional_details": "x",
    }
    response = post(client, kind, body)
    assert error_of(response)["detail"] == validation(
        {
            "type": "bool_type",
            "loc": ("is_parcel_returned",),
            "msg": "Input should be a valid boolean",
        }
    )


@pytest.mark.parametrize("kind", ["lost", "delivered-but-not-received", "delay"])
def test_documents_must_be_tokens_this_sandbox_issued(client: FlaskClient, kind: str) -> None:
    body = {
        **full_body(client, kind, RATES, "RATES-3S0003"),
        "sales_invoice": {"file_token": "elsewhere"},
    }
    response = post(client, kind, body)
    assert error_of(response)["detail"] == validation(
        {"type": "value_error", "loc": ("sales_invoice", "file_token"), "msg": "Unknown file token"}
    )


# --- contract rules -------------------------------------------------------------------------

DELAY_ON_OWN = (
    "Cannot create ticket. Reason: Delay tickets can only be created for parcels shipped "
    "with Sendcloud rates; this parcel was shipped with your own contract"
)
LATE_ON_RATES = (
    "Cannot create ticket. Reason: Late delivery tickets can only be created for parcels "
    "shipped with your own contract; this parcel was shipped with Sendcloud rates"
)


@pytest.mark.parametrize(
    ("kind", "contract", "change", "detail"),
    [
        ("delay", RATES, {"carrier_contract_id": 4711}, DELAY_ON_OWN),
        ("delay", RATES, {"tracking_number": "OWN-3S0000002"}, DELAY_ON_OWN),
        ("late-delivery", OWN, {"tracking_number": "RATES-3S0000002"}, LATE_ON_RATES),
    ],
)
def test_a_type_the_parcels_contract_cannot_use_is_refused_422(
    client: FlaskClient, kind: str, contract: str, change: dict[str, object], detail: str
) -> None:
    body = {**full_body(client, kind, contract, "3SCONTRACT1"), **change}
    response = post(client, kind, body)
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["title"], error["detail"]) == (
        "unprocessable_content",
        "Unprocessable Content",
        detail,
    )
    assert listed(client) == []


def test_a_rates_body_without_a_rates_parcel_is_refused_field_by_field_on_late_delivery(
    client: FlaskClient,
) -> None:
    body = {"tracking_number": "3SLATE00001", "contents_description": "Shoes"}
    response = post(client, "late-delivery", body)
    assert error_of(response)["detail"] == validation(extra("contents_description"))


def test_the_parcels_contract_beats_a_carrier_contract_id(client: FlaskClient) -> None:
    """A RATES… parcel is judged against the rates variant, which has no contract id."""
    body = {**full_body(client, "lost", RATES, "RATES-3S0000003"), "carrier_contract_id": 4711}
    response = post(client, "lost", body)
    assert error_of(response)["detail"] == validation(extra("carrier_contract_id"))


# --- deterministic refusals -----------------------------------------------------------------

NOT_FOUND = (400, "bad_request", "Parcel not found.")


def deflected(reason: str) -> tuple[int, str, str]:
    return (422, "unprocessable_content", f"Cannot create ticket. Reason: {reason}")


DELIVERED = deflected("Parcel is already delivered")
IN_TRANSIT = deflected("Parcel is still in transit")
NO_SCAN = deflected("Parcel has no delivered scan")
NOT_RETURNED = deflected("Parcel has not been returned to the sender")
NOT_DELAYED = deflected("Parcel is not delayed: it is within its delivery time")
ON_TIME = deflected("Parcel was delivered on time")
# The README's table: prefix -> the types that refuse it, and how.
REFUSALS: dict[str, dict[str, tuple[int, str, str]]] = {
    "NOTFOUND-9981": dict.fromkeys(TYPES, NOT_FOUND),
    "DELIVERED-4410": dict.fromkeys(
        ("damage", "lost", "delay", "unjust-return", "address-change"), DELIVERED
    ),
    "INTRANSIT-5520": dict.fromkeys(("lost", "delivered-but-not-received"), IN_TRANSIT),
    "NOTDELIVERED-6630": dict.fromkeys(("delivered-but-not-received", "late-delivery"), NO_SCAN),
    "NOTRETURNED-7740": {"unjust-return": NOT_RETURNED},
    "ONTIME-8850": {"delay": NOT_DELAYED, "late-delivery": ON_TIME},
}
REFUSAL_CASES = [
    (tracking, kind, REFUSALS[tracking].get(kind)) for tracking in REFUSALS for kind in TYPES
]


@pytest.mark.parametrize(("tracking", "kind", "answer"), REFUSAL_CASES)
def test_deterministic_refusals_per_type(
    client: FlaskClient, tracking: str, kind: str, answer: tuple[int, str, str] | None
) -> None:
    contract = next(iter(SPEC[kind]))
    body = full_body(client, kind, contract, tracking)
    response = post(client, kind, body)
    if answer is None:  # this prefix means nothing to this type
        assert response.status_code == 202, response.get_json()
        return
    error = error_of(response)
    assert (response.status_code, error["code"], error["detail"]) == answer
    assert listed(client) == []


@pytest.mark.parametrize("tracking", list(REFUSALS) + list(CONTRACT_TRACKING.values()))
def test_every_documented_tracking_number_passes_the_clients_rule_unchanged(tracking: str) -> None:
    assert parse_tracking_number(tracking) == (tracking, None)


@pytest.mark.parametrize("kind", CONTRACT_ID_TYPES)
def test_contract_999_has_no_carrier_support_contact(client: FlaskClient, kind: str) -> None:
    body = {**body_of(client, SPEC[kind][OWN][0], "3SCONTACT01"), "carrier_contract_id": 999}
    response = post(client, kind, body)
    assert response.status_code == 422
    assert error_of(response)["detail"] == (
        "Carrier support contact is required for own contract parcel"
    )


# --- is_portal_claim ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in PORTAL_TYPES if k in CONTRACT_ID_TYPES])
@pytest.mark.parametrize(("value", "expected"), [("true", True), ("0", False), ("FALSE", False)])
def test_is_portal_claim_where_the_type_takes_it(
    client: FlaskClient, kind: str, value: str, expected: bool
) -> None:
    body = {**body_of(client, SPEC[kind][OWN][0], "3SPORTAL001"), "carrier_contract_id": 4711}
    response = post(client, kind, body, f"?is_portal_claim={value}")
    assert response.status_code == 202
    [ticket] = listed(client)
    assert (ticket["type"], ticket["is_portal_claim"]) == (kind, expected)


@pytest.mark.parametrize("kind", PORTAL_TYPES)
def test_a_portal_claim_needs_a_carrier_contract(client: FlaskClient, kind: str) -> None:
    contract = next(iter(SPEC[kind]))
    body = body_of(client, SPEC[kind][contract][0], "3SPORTAL002")
    response = post(client, kind, body, "?is_portal_claim=true")
    assert response.status_code == 422
    assert error_of(response)["detail"] == "Portal claims require a carrier contract."


def test_delay_takes_is_portal_claim_false(client: FlaskClient) -> None:
    body = full_body(client, "delay", RATES, "3SPORTAL003")
    assert post(client, "delay", body, "?is_portal_claim=false").status_code == 202
    [ticket] = listed(client)
    assert ticket["is_portal_claim"] is False


@pytest.mark.parametrize("kind", sorted(set(TYPES) - set(PORTAL_TYPES)))
@pytest.mark.parametrize("value", ["true", "false"])
def test_is_portal_claim_is_refused_where_the_type_does_not_take_it(
    client: FlaskClient, kind: str, value: str
) -> None:
    contract = next(iter(SPEC[kind]))
    body = body_of(client, SPEC[kind][contract][0], "3SPORTAL004")
    response = post(client, kind, body, f"?is_portal_claim={value}")
    assert response.status_code == 400
    assert error_of(response)["detail"] == validation(extra("is_portal_claim"))
    assert post(client, kind, body).status_code == 202


@pytest.mark.parametrize("kind", PORTAL_TYPES)
def test_a_bad_is_portal_claim_value(client: FlaskClient, kind: str) -> None:
    response = post(client, kind, {"tracking_number": "3SPORTAL005"}, "?is_portal_claim=maybe")
    assert error_of(response)["detail"] == validation(
        {
            "type": "bool_parsing",
            "loc": ("is_portal_claim",),
            "msg": "Input should be a valid boolean, unable to interpret input",
        }
    )


# --- one ticket budget ----------------------------------------------------------------------


def test_every_type_shares_one_ticket_budget(
    make_client: Callable[..., FlaskClient], clock: FakeClock
) -> None:
    client = make_client(TICKET_LIMIT=(15, 60.0))
    statuses = []
    for n in range(14):
        kind = TYPES[n % len(TYPES)]
        body = body_of(client, SPEC[kind][next(iter(SPEC[kind]))][0], f"3SBUDGET{n:03}")
        statuses.append(post(client, kind, body).status_code)
    # a refused body spends the budget too: the window counts arrivals
    statuses.append(post(client, "lost", {"tracking_number": "3SBUDGET015", "x": 1}).status_code)
    assert statuses == [202] * 14 + [400]
    refused = post(client, "lost", {"tracking_number": "3SBUDGET016"})
    assert refused.status_code == 429
    assert error_of(refused)["detail"] == "Rate limit exceeded: 15 per 1 minute"
    assert refused.headers["Retry-After"] == "60"
    for kind in TYPES:  # every type is refused while the window is full
        assert post(client, kind, {"tracking_number": "3SBUDGET017"}).status_code == 429
    clock.advance(60.0)
    assert post(client, "other", {"tracking_number": "3SBUDGET018"}).status_code == 202
    scopes = [entry["scopes"] for entry in client.get("/sandbox/requests").get_json()]
    ticket_posts = [s for s in scopes if "ticket" in s]
    assert len(ticket_posts) == 16  # 15 + the one after the window moved


def test_uploads_do_not_spend_the_ticket_budget(make_client: Callable[..., FlaskClient]) -> None:
    client = make_client(TICKET_LIMIT=(1, 60.0))
    upload(client, "sales_invoice")
    assert post(client, "address-change", {"tracking_number": "3SBUDGET020"}).status_code == 202
    assert post(client, "damage", {"tracking_number": "3SBUDGET021"}).status_code == 429


# --- over real HTTP -------------------------------------------------------------------------


@pytest.fixture
def served(sandbox_factory: Callable[..., Any]) -> Iterator[Any]:
    yield sandbox_factory(NO_LIMITS, clock=FakeClock())


def test_every_type_over_http(served: Any) -> None:
    with requests.Session() as session:
        session.auth = ("public", "secret")
        for n, kind in enumerate(TYPES):
            contract = next(iter(SPEC[kind]))
            body: dict[str, object] = {"tracking_number": f"3SHTTP{n:05}"}
            for name in SPEC[kind][contract][0][1:]:
                if name in DOCUMENTS:
                    files = {"file": (f"{name}.pdf", name.encode(), "application/pdf")}
                    answer = session.post(f"{served.base_url}/dsf/files", files=files, timeout=5)
                    body[name] = answer.json()
                else:
                    body[name] = VALUES[name]
            answer = session.post(f"{served.base_url}/dsf/tickets/{kind}", json=body, timeout=5)
            assert answer.status_code == 202, answer.text
        listing = session.get(f"{served.root_url}/sandbox/tickets", timeout=5).json()
    assert [ticket["type"] for ticket in listing] == list(TYPES)


# --- the sandbox's definitions are its own --------------------------------------------------


def test_the_sandbox_imports_nothing_of_the_clients_ticket_definitions() -> None:
    """Only the shared vocabulary: a mistake in the client's ticket types cannot hide
    behind the sandbox's."""
    folder = Path(batch_claims.sandbox.__file__).parent
    allowed = {"batch_claims.clock", "batch_claims.netloc", "batch_claims.errors"}
    for module in folder.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                name = node.module
            elif isinstance(node, ast.Import):
                name = node.names[0].name
            else:
                continue
            if name.startswith("batch_claims") and not name.startswith("batch_claims.sandbox"):
                assert name in allowed, f"{module.name} imports {name}"
