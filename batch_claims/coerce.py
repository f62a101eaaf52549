"""Coercion of single cell values: amounts, currencies, yes/no, whole numbers,
tracking numbers, contract types and text.

Each ``parse_*`` function takes one cell as the reader left it (text, a number, a
boolean, a date, an ``UntrustworthyNumber``) and returns ``(value, None)`` or
``(None, Problem)``. A ``Problem`` is an error code with an optional detail; ``schema``
turns it into the message a person reads. Nothing is guessed: an amount text such as
``1,234`` is ``ambiguous_amount`` unless the caller says which decimal mark to read.
A cell holding only a placeholder for "nothing" (``-``, ``n/a``, ``nvt``, an accounting
``€ -``) is blank in a typed column (``is_placeholder``); a price written with a dash
for its cents (``12,-``) is a whole amount.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from batch_claims.columns import Kind, Variant, normalise_header
from batch_claims.sheet import EXACT_DIGITS_LIMIT, UntrustworthyNumber

CURRENCIES = ("EUR", "GBP", "USD")
_CURRENCY_WORDS = {
    "EUR": "EUR",
    "€": "EUR",
    "EURO": "EUR",
    "EUROS": "EUR",
    "GBP": "GBP",
    "£": "GBP",
    "USD": "USD",
    "$": "USD",
    "US$": "USD",
}
# Currency names as finance teams write them, folded like headers (``normalise_header``).
_CURRENCY_NAMES = {
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "poundsterling": "GBP",
    "sterling": "GBP",
    "britishpound": "GBP",
    "pfund": "GBP",
    "pfundsterling": "GBP",
    "livresterling": "GBP",
    "libraesterlina": "GBP",
    "britsepond": "GBP",
    "pondsterling": "GBP",
    "usd": "USD",
    "us": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "usdollar": "USD",
    "usdollars": "USD",
    "amerikaansedollar": "USD",
    "dollarus": "USD",
    "dolar": "USD",
    "dolares": "USD",
}
_TRUE = frozenset(
    {"yes", "true", "1", "ja", "j", "oui", "si", "sí", "y", "x", "wahr", "waar", "vrai"}
    | {"verdadero", "✓", "✔", "☑"}
)
_FALSE = frozenset(
    {"no", "false", "0", "nee", "nein", "non", "n", "falsch", "onwaar", "faux", "falso"}
)
# What people write for "nothing" in a cell; with a currency it is an accounting "€ -".
_PLACEHOLDERS = frozenset(
    {"-", "--", "–", "—", "n/a", "na", "n.a.", "nvt", "n.v.t.", "k.a.", "ka", "nb", "n.b."}
)
_BLANK_FORMS = _PLACEHOLDERS | frozenset(
    form
    for word in _PLACEHOLDERS
    for symbol in ("€", "£", "$", "us$", "eur", "gbp", "usd")
    for form in (f"{symbol}{word}", f"{symbol} {word}", f"{word}{symbol}", f"{word} {symbol}")
)
# A price with a dash for its cents, as Dutch and German price tags write it: 12,- 1.234,--
_DASH_CENTS = re.compile(r"(?<=\d)([.,])(?:--?|[–—])(?![\d-])")
_CONTRACT_TYPES = {
    "owncontract": Variant.OWN_CONTRACT,
    "own": Variant.OWN_CONTRACT,
    "eigencontract": Variant.OWN_CONTRACT,
    "owncarriercontract": Variant.OWN_CONTRACT,
    "eigenvervoerderscontract": Variant.OWN_CONTRACT,
    "eigenervertrag": Variant.OWN_CONTRACT,
    "eigenesvertrag": Variant.OWN_CONTRACT,
    "eigenerversandvertrag": Variant.OWN_CONTRACT,
    "contratpropre": Variant.OWN_CONTRACT,
    "proprecontrat": Variant.OWN_CONTRACT,
    "contratopropio": Variant.OWN_CONTRACT,
    "sendcloudrates": Variant.SENDCLOUD_RATES,
    "sendcloud": Variant.SENDCLOUD_RATES,
    "rates": Variant.SENDCLOUD_RATES,
    "sendcloudtarieven": Variant.SENDCLOUD_RATES,
    "sendcloudtarife": Variant.SENDCLOUD_RATES,
    "tarifssendcloud": Variant.SENDCLOUD_RATES,
    "tarifassendcloud": Variant.SENDCLOUD_RATES,
}
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_TOKEN = r"(?:US\$|[^\W\d_]+|[€£$¥₹])"
_AMOUNT = re.compile(
    rf"(?P<sign1>[-+−])?\s*(?P<pre>{_TOKEN})?\s*(?P<sign2>[-+−])?\s*"
    r"(?P<number>\d[\d.,'’ \u00a0\u202f]*?)"
    rf"\s*(?P<post>{_TOKEN})?"
)
_GROUP_SPACES = re.compile(r"['’ \u00a0\u202f]")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str = ""  # extra words some messages need (a currency, a reading)


Coerced = tuple[Any, Problem | None]


@dataclass(frozen=True)
class ParsedAmount:
    price: Decimal
    currency: str | None  # a currency written in the amount cell itself


def parse_amount(value: object, decimal_comma: bool | None = None) -> Coerced:
    """A cell as ``ParsedAmount``; text such as ``10,55``, ``€ 1.234,56``, ``12 EUR``."""
    if isinstance(value, bool) or value is None:
        return None, Problem("not_an_amount")
    if isinstance(value, int):
        return ParsedAmount(Decimal(value), None), None
    if isinstance(value, float):
        return _float_amount(value)
    if isinstance(value, Decimal):
        return ParsedAmount(value, None), None
    if not isinstance(value, str):
        return None, Problem("not_an_amount")
    match = _AMOUNT.fullmatch(_without_dash_cents(value))
    if match is None:
        return None, Problem("not_an_amount")
    signs = [s for s in (match["sign1"], match["sign2"]) if s]
    tokens = [t for t in (match["pre"], match["post"]) if t]
    if len(signs) > 1 or len(tokens) > 1:
        return None, Problem("not_an_amount")
    currency = None
    if tokens:
        token = tokens[0]
        currency = _CURRENCY_WORDS.get(token.upper())
        if currency is None:
            if len(token) == 3 or not token.isalpha():
                return None, Problem("bad_currency", token)
            return None, Problem("not_an_amount")
    number, problem = parse_number(match["number"].strip(), decimal_comma)
    if number is None:
        return None, problem
    if signs and signs[0] in "-−":
        number = -number
    return ParsedAmount(number, currency), None


def _without_dash_cents(text: str) -> str:
    """``12,-`` → ``12,00``: the dash stands for no cents."""
    return _DASH_CENTS.sub(r"\g<1>00", text.strip())


def is_placeholder(value: object) -> bool:
    """A cell that says "nothing": ``-``, ``n/a``, ``nvt``, an accounting ``€ -``."""
    if not isinstance(value, str) or len(value) > 16:
        return False
    text = value.strip().casefold()
    if text in _BLANK_FORMS:
        return True
    return " " in text and " ".join(text.split()) in _BLANK_FORMS


def _float_amount(value: float) -> Coerced:
    if not math.isfinite(value):
        return None, Problem("not_an_amount")
    number = Decimal(repr(value))
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
            return None, Problem("not_an_amount")
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
                    return None, Problem(
                        "ambiguous_amount", f"{whole}{fraction}|{whole}.{fraction}"
                    )
                decimal_mark = mark if (mark == ",") == decimal_comma else None
            else:
                decimal_mark = mark
            thousands = mark if decimal_mark is None else "_"
    else:
        decimal_mark, thousands = None, "_"
    whole, _, fraction = text.partition(decimal_mark) if decimal_mark else (text, "", "")
    if spaced and thousands != "_":
        return None, Problem("not_an_amount")
    groups = whole.split(thousands)
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:])
    ):
        return None, Problem("not_an_amount")
    digits = "".join(groups)
    if not digits.isdigit() or (decimal_mark and not fraction.isdigit()):
        return None, Problem("not_an_amount")
    try:
        return Decimal(f"{digits}.{fraction}" if fraction else digits), None
    except InvalidOperation:
        return None, Problem("not_an_amount")


def shown_decimal_mark(text: str) -> str | None:
    """The decimal mark an amount text shows: ",", ".", "?" when ambiguous, None if none."""
    parsed, problem = parse_amount(text)
    if problem is not None:
        return "?" if problem.code == "ambiguous_amount" else None
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


def parse_currency(value: object) -> Coerced:
    """EUR/GBP/USD from a code, a symbol or the word euro; case-insensitive."""
    if isinstance(value, str):
        currency = _CURRENCY_WORDS.get(value.strip().upper())
        if currency is None:
            currency = _CURRENCY_NAMES.get(normalise_header(value))
        if currency is not None:
            return currency, None
    return None, Problem("bad_currency")


def parse_boolean(value: object) -> Coerced:
    """yes/no in a few languages, true/false, 1/0; a real boolean cell as is."""
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value), None
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _TRUE:
            return True, None
        if word in _FALSE:
            return False, None
    return None, Problem("not_a_boolean")


def parse_integer(value: object) -> Coerced:
    """A whole number: an int, a float such as 123.0, or digits as text."""
    if isinstance(value, bool):
        return None, Problem("not_an_integer")
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value), None
        return None, Problem("not_an_integer")
    if isinstance(value, str):
        match = re.fullmatch(r"([+-]?\d+)(?:[.,]0+)?", value.strip())
        if match:
            return int(match[1]), None
    return None, Problem("not_an_integer")


def parse_tracking_number(value: object) -> Coerced:
    """Tracking numbers as text; numbers Excel may have shortened are refused."""
    if isinstance(value, UntrustworthyNumber):
        return None, Problem("untrustworthy_number")
    if isinstance(value, str):
        if _SCIENTIFIC.fullmatch(value):
            return None, Problem("untrustworthy_number", "scientific")
        return value, None
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) < EXACT_DIGITS_LIMIT:
            return str(value), None
        return None, Problem("untrustworthy_number")
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < EXACT_DIGITS_LIMIT:
            return str(int(value)), None
        return None, Problem("untrustworthy_number")
    return None, Problem("not_text")


def parse_contract_type(value: object) -> Coerced:
    if isinstance(value, str):
        variant = _CONTRACT_TYPES.get(normalise_header(value))
        if variant is not None:
            return variant, None
    return None, Problem("bad_contract_type")


def parse_text(value: object) -> Coerced:
    if isinstance(value, str):
        return value, None
    return show_plain(value), None


def show_plain(value: object) -> str:
    """A non-text cell as the text the user most likely typed."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# The parser of each column kind; amounts need the decimal convention (``parse_amount``).
PARSERS: dict[Kind, Callable[[object], Coerced]] = {
    Kind.TRACKING: parse_tracking_number,
    Kind.CONTRACT_TYPE: parse_contract_type,
    Kind.INTEGER: parse_integer,
    Kind.BOOLEAN: parse_boolean,
    Kind.CURRENCY: parse_currency,
    Kind.TEXT: parse_text,
    Kind.DOCUMENT: parse_text,
}
