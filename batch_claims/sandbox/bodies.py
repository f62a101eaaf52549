"""How a ticket body is judged, in the order the endpoint applies the checks.

1. ``check_contract``: the parcel's contract, when the sandbox can know it, must be one
   the ticket type takes (``parcel_contract``: a tracking number starting ``OWN`` or
   ``RATES``, else a body with ``carrier_contract_id`` is an own-contract parcel).
2. ``check_schema``: against that contract's variant when known, else a body valid
   against **at least one** of the type's variants is accepted; otherwise a 400
   ``Validation Error`` lists, in pydantic's words, every problem of the variant with
   the fewest (ties: own contract), in the variant's field order.
3. ``check_file_tokens``: every document field holds a ``file_token`` this sandbox issued.
4. ``check_refusals``: the type's tracking-number refusals (``NOTFOUND`` first), then
   portal claims without a carrier contract, then carrier contract ``999``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from batch_claims.sandbox.rules import Problem, SandboxError, validation_error
from batch_claims.sandbox.schemas import OWN_CONTRACT
from batch_claims.sandbox.ticket_types import CONTRACT_PREFIXES, TicketType, Variant

_TYPE_WORDS = {
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
}
# The carrier contract the sandbox has no carrier support contact for.
NO_SUPPORT_CONTACT = 999


def _problems(error: Any) -> list[Problem]:
    """One jsonschema error in pydantic's words (an object's extra fields: one each)."""
    loc = tuple(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        return [{"type": "missing", "loc": (*loc, missing), "msg": "Field required"}]
    if kind == "additionalProperties":
        defined = error.schema.get("properties", {})
        return [
            {"type": "extra_forbidden", "loc": (*loc, key), "msg": "Extra inputs are not permitted"}
            for key in error.instance
            if key not in defined
        ]
    if kind == "type":
        type_, msg = _TYPE_WORDS.get(error.validator_value, ("type_error", error.message))
        return [{"type": type_, "loc": loc, "msg": msg}]
    if kind == "enum":
        *rest, last = [f"'{option}'" for option in error.validator_value]
        listed = f"{', '.join(rest)} or {last}" if rest else last
        return [{"type": "enum", "loc": loc, "msg": f"Input should be {listed}"}]
    if kind == "exclusiveMinimum":
        msg = f"Input should be greater than {error.validator_value}"
        return [{"type": "greater_than", "loc": loc, "msg": msg}]
    if kind == "minimum":
        msg = f"Input should be greater than or equal to {error.validator_value}"
        return [{"type": "greater_than_equal", "loc": loc, "msg": msg}]
    if kind == "minLength":
        msg = f"String should have at least {error.validator_value} character"
        return [{"type": "string_too_short", "loc": loc, "msg": msg}]
    return [{"type": "value_error", "loc": loc, "msg": error.message}]


def schema_problems(body: Mapping[str, object], variant: Variant) -> list[Problem]:
    """Every problem of ``body`` against one variant, in the variant's field order
    (fields it does not define last)."""
    problems: list[Problem] = []
    for error in variant.validator.iter_errors(body):
        for problem in _problems(error):
            if problem not in problems:
                problems.append(problem)

    def field_index(problem: Problem) -> int:
        loc = problem["loc"]
        assert isinstance(loc, tuple)
        first = loc[0] if loc else ""
        return variant.fields.index(first) if first in variant.fields else len(variant.fields)

    return sorted(problems, key=field_index)  # stable: nested problems keep schema order


def parcel_contract(body: Mapping[str, object]) -> str | None:
    """The contract the parcel was shipped with, when the sandbox can tell; else None."""
    tracking_number = body.get("tracking_number")
    if isinstance(tracking_number, str):
        for prefix, contract in CONTRACT_PREFIXES.items():
            if tracking_number.startswith(prefix):
                return contract
    if "carrier_contract_id" in body:
        return OWN_CONTRACT
    return None


def check_contract(ticket_type: TicketType, contract: str | None) -> None:
    """422 when the parcel's (known) contract is not one this type takes."""
    if contract is not None and ticket_type.variant(contract) is None:
        raise SandboxError(422, "unprocessable_content", ticket_type.contract_refusal(contract))


def check_schema(
    body: Mapping[str, object], ticket_type: TicketType, contract: str | None = None
) -> None:
    """Accept a body valid against the parcel's variant, or when the contract is not
    known against at least one; else report the variant with the fewest problems."""
    chosen = ticket_type.variant(contract) if contract is not None else None
    variants: Sequence[Variant] = (chosen,) if chosen is not None else ticket_type.variants
    candidates = [schema_problems(body, variant) for variant in variants]
    if any(not problems for problems in candidates):
        return
    raise validation_error(min(candidates, key=len))


def check_file_tokens(
    body: Mapping[str, object], fields: Sequence[str], known: Mapping[str, object]
) -> None:
    """Every document field among ``fields`` must carry a ``file_token`` this sandbox
    issued."""
    problems: list[Problem] = []
    for field in fields:
        document = body.get(field)
        if not isinstance(document, Mapping):
            continue
        token = document.get("file_token")
        if token is None:
            problems.append(
                {"type": "missing", "loc": (field, "file_token"), "msg": "Field required"}
            )
        elif token not in known:
            problems.append(
                {"type": "value_error", "loc": (field, "file_token"), "msg": "Unknown file token"}
            )
    if problems:
        raise validation_error(problems)


def check_refusals(
    ticket_type: TicketType, body: Mapping[str, object], *, is_portal_claim: bool
) -> None:
    """The sandbox's deterministic bad cases, checked after the body is valid."""
    tracking_number = str(body.get("tracking_number", ""))
    for refusal in ticket_type.refusals:
        if tracking_number.startswith(refusal.prefix):
            raise SandboxError(refusal.status, refusal.code, refusal.detail)
    contract = body.get("carrier_contract_id")
    if is_portal_claim and contract is None:
        raise SandboxError(
            422, "unprocessable_content", "Portal claims require a carrier contract."
        )
    if contract == NO_SUPPORT_CONTACT and not isinstance(contract, bool):
        raise SandboxError(
            422,
            "unprocessable_content",
            "Carrier support contact is required for own contract parcel",
        )
