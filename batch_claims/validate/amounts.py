"""Amount cells: a price as the sheet writes it, with the currency it may carry.

``parse_amount`` reads text such as ``10,55``, ``€ 1.234,56``, ``12 EUR`` or ``12,-`` (a
dash for no cents), a number, or a number whose format shows a currency
(``CurrencyNumber``) as a ``ParsedAmount``; ``check_amount`` refuses amounts no parcel
has (negative, not finite, above ``MAX_AMOUNT``, finer than cents). Nothing is guessed:
an amount text such as ``1,234`` is ``ambiguous_amount`` unless the caller says which
decimal mark to read; ``shown_decimal_mark`` tells which mark a text shows, for the
file's decimal convention (``decimals``). A cell's currency is checked against its
header and the currency columns in ``rows``.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from batch_claims.currency import CURRENCY_TOKENS
from batch_claims.read.cells import CurrencyNumber
from batch_claims.validate.bounds import CENT, MAX_AMOUNT
from batch_claims.validate.coerce import refuses_excel_errors
from batch_claims.validate.messages import Coerced, Message, Problem

# A price with a dash for its cents, as Dutch and German price tags write it: 12,- 1.234,--
_DASH_CENTS = re.compile(r"(?<=\d)([.,])(?:--?|[–—])(?![\d-])")
_TOKEN = r"(?:US\$|[^\W\d_]+|[€£$¥₹])"
_AMOUNT = re.compile(
    rf"(?P<sign1>[-+−])?\s*(?P<pre>{_TOKEN})?\s*(?P<sign2>[-+−])?\s*"
    r"(?P<number>\d[\d.,'’ \u00a0\u202f]*?)"
    rf"\s*(?P<post>{_TOKEN})?"
)
_GROUP_SPACES = re.compile(r"['’ \u00a0\u202f]")


@dataclass(frozen=True)
class ParsedAmount:
    price: Decimal
    currency: str | None  # a currency written in the amount cell itself
    from_format: bool = False  # the currency is the one the cell's number format shows


def check_amount(price: Decimal) -> Problem | None:
    """An amount a parcel can have: finite, not negative, at most ``MAX_AMOUNT``, cents."""
    if not price.is_finite():
        return Message.NOT_AN_AMOUNT.problem()
    if price < 0:
        return Message.NEGATIVE_AMOUNT.problem()
    if price > MAX_AMOUNT:
        return Message.AMOUNT_TOO_LARGE.problem()
    if price != price.quantize(CENT):
        return Message.TOO_MANY_DECIMALS.problem()
    return None


@refuses_excel_errors
def parse_amount(value: object, decimal_comma: bool | None = None) -> Coerced:
    """A cell as ``ParsedAmount``; text such as ``10,55``, ``€ 1.234,56``, ``12 EUR``; a
    number whose format shows a currency (``CurrencyNumber``) with that currency."""
    if isinstance(value, CurrencyNumber):
        return _formatted_amount(value, decimal_comma)
    if isinstance(value, bool) or value is None:
        return None, Message.NOT_AN_AMOUNT.problem()
    if isinstance(value, int):
        return ParsedAmount(Decimal(value), None), None
    if isinstance(value, float):
        return _float_amount(value)
    if isinstance(value, Decimal):
        return ParsedAmount(value, None), None
    if not isinstance(value, str):
        return None, Message.NOT_AN_AMOUNT.problem()
    match = _AMOUNT.fullmatch(_without_dash_cents(value))
    if match is None:
        return None, Message.NOT_AN_AMOUNT.problem()
    signs = [s for s in (match["sign1"], match["sign2"]) if s]
    tokens = [t for t in (match["pre"], match["post"]) if t]
    if len(signs) > 1 or len(tokens) > 1:
        return None, Message.NOT_AN_AMOUNT.problem()
    currency = None
    if tokens:
        token = tokens[0]
        currency = CURRENCY_TOKENS.get(token.upper())
        if currency is None:
            if len(token) == 3 or not token.isalpha():
                return None, Message.UNSUPPORTED_CURRENCY.problem(currency=token)
            return None, Message.NOT_AN_AMOUNT.problem()
    number, problem = parse_number(match["number"].strip(), decimal_comma)
    if number is None:
        return None, problem
    if signs and signs[0] in "-−":
        number = -number
    return ParsedAmount(number, currency), None


def _formatted_amount(value: CurrencyNumber, decimal_comma: bool | None) -> Coerced:
    currency = CURRENCY_TOKENS.get(value.symbol.upper())
    if currency is None:
        return None, Message.UNSUPPORTED_CURRENCY.problem(
            currency=f"{value.symbol} in its number format"
        )
    parsed, problem = parse_amount(value.number, decimal_comma)
    if problem is not None or not isinstance(parsed, ParsedAmount):
        return parsed, problem
    return ParsedAmount(parsed.price, currency, from_format=True), None


def _without_dash_cents(text: str) -> str:
    """``12,-`` → ``12,00``: the dash stands for no cents."""
    return _DASH_CENTS.sub(r"\g<1>00", text.strip())


def _float_amount(value: float) -> Coerced:
    if not math.isfinite(value):
        return None, Message.NOT_AN_AMOUNT.problem()
    number = Decimal(repr(value))
    if abs(number) > MAX_AMOUNT:
        return ParsedAmount(number, None), None  # too large to hold cents: check_amount says so
    cents = number.quantize(CENT)
    # A computed cell (=A1*B1) can carry binary noise such as 12.299999999999999:
    # that is 12.30, while a typed 12.305 stays an error.
    if number != cents and abs(number - cents) <= Decimal("1e-12") * max(Decimal(1), abs(number)):
        number = cents
    return ParsedAmount(number, None), None


def parse_number(text: str, decimal_comma: bool | None = None) -> Coerced:
    """Digits with thousands and decimal separators as ``Decimal``, never a guess."""
    spaced = _GROUP_SPACES.search(text) is not None
    text = _GROUP_SPACES.sub("_", text)
    dots, commas = text.count("."), text.count(",")
    decimal_mark: str | None
    if dots and commas:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        if text.count(decimal_mark) > 1 or spaced:
            return None, Message.NOT_AN_AMOUNT.problem()
        thousands = "," if decimal_mark == "." else "."
    elif dots or commas:
        mark = "." if dots else ","
        if text.count(mark) > 1:
            decimal_mark, thousands = None, mark
        elif spaced:
            decimal_mark, thousands = mark, "_"
        else:
            whole, fraction = text.split(mark)
            if len(fraction) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0"):
                if decimal_comma is None:
                    return None, Message.AMBIGUOUS_AMOUNT.problem(
                        thousands=f"{whole}{fraction}", decimal=f"{whole}.{fraction}"
                    )
                decimal_mark = mark if (mark == ",") == decimal_comma else None
            else:
                decimal_mark = mark
            thousands = mark if decimal_mark is None else "_"
    else:
        decimal_mark, thousands = None, "_"
    whole, _, fraction = text.partition(decimal_mark) if decimal_mark else (text, "", "")
    if spaced and thousands != "_":
        return None, Message.NOT_AN_AMOUNT.problem()
    groups = whole.split(thousands)
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:])
    ):
        return None, Message.NOT_AN_AMOUNT.problem()
    digits = "".join(groups)
    if not digits.isdigit() or (decimal_mark and not fraction.isdigit()):
        return None, Message.NOT_AN_AMOUNT.problem()
    try:
        return Decimal(f"{digits}.{fraction}" if fraction else digits), None
    except InvalidOperation:
        return None, Message.NOT_AN_AMOUNT.problem()


def shown_decimal_mark(text: str) -> str | None:
    """The decimal mark an amount text shows: ",", ".", "?" when ambiguous, None if none."""
    parsed, problem = parse_amount(text)
    if problem is not None:
        return "?" if problem.message is Message.AMBIGUOUS_AMOUNT else None
    match = _AMOUNT.fullmatch(_without_dash_cents(text))
    if match is None or not isinstance(parsed, ParsedAmount):
        return None
    number = match["number"]
    dots, commas = number.count("."), number.count(",")
    if dots and commas:
        return "." if number.rfind(".") > number.rfind(",") else ","
    if dots > 1:
        return ","
    if commas > 1:
        return "."
    if dots:
        return "."
    if commas:
        return ","
    return None
