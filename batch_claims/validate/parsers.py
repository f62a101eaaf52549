"""The parser of each column kind but amounts (which need the sheet's decimal
convention: ``amounts.parse_amount``)."""

from __future__ import annotations

from collections.abc import Callable

from batch_claims.columns import Kind
from batch_claims.validate.coerce import (
    parse_boolean,
    parse_contract_type,
    parse_currency,
    parse_integer,
    parse_text,
    parse_tracking_number,
)
from batch_claims.validate.messages import Coerced
from batch_claims.validate.type_values import (
    parse_date,
    parse_dimension,
    parse_dimensions,
    parse_ticket_type,
)

PARSERS: dict[Kind, Callable[[object], Coerced]] = {
    Kind.TRACKING: parse_tracking_number,
    Kind.CONTRACT_TYPE: parse_contract_type,
    Kind.INTEGER: parse_integer,
    Kind.BOOLEAN: parse_boolean,
    Kind.CURRENCY: parse_currency,
    Kind.TEXT: parse_text,
    Kind.DOCUMENT: parse_text,
    Kind.TICKET_TYPE: parse_ticket_type,
    Kind.DIMENSION: parse_dimension,
    Kind.DIMENSIONS: parse_dimensions,
    Kind.DATE: parse_date,
}
