"""Coercion of single cell values: amounts, currencies, yes/no, whole numbers,
tracking numbers, contract types and text.

Each ``parse_*`` function takes one cell as the reader left it (text, a number, a
boolean, a date, an ``UntrustworthyNumber``, a ``CurrencyNumber``, an ``ExcelError``)
and returns ``(value, None)`` or ``(None, Problem)``. A ``Problem`` is an error code with
an optional detail; ``schema`` turns it into the message a person reads. Every parser
refuses an Excel error value (``#REF!``) with ``excel_error`` and a formula the
writing program never calculated with ``uncalculated_formula``. Nothing is guessed: an
amount text such as ``1,234`` is ``ambiguous_amount`` unless the caller says which
decimal mark to read; ``check_amount`` refuses amounts no parcel has (negative, not
finite, above ``MAX_AMOUNT``, finer than cents).
A cell holding only a placeholder for "nothing" (``-``, ``n/a``, ``nvt``, an accounting
``€ -``) is blank in a typed column (``is_placeholder``); a price written with a dash
for its cents (``12,-``) is a whole amount. A tracking number must look like one
(``parse_tracking_number``), and an identifier a script wrote through a float column
(``123456789012.0``) is read as its digits only when they are provably exact.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from batch_claims.columns import Kind, Variant, normalise_header
from batch_claims.read.cells import (
    EXACT_DIGITS_LIMIT,
    CurrencyNumber,
    ExcelError,
    UncalculatedFormula,
    UnreadableCell,
    UntrustworthyNumber,
)

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
_TOKEN = r"(?:US\$|[^\W\d_]+|[€£$¥₹])"
_AMOUNT = re.compile(
    rf"(?P<sign1>[-+−])?\s*(?P<pre>{_TOKEN})?\s*(?P<sign2>[-+−])?\s*"
    r"(?P<number>\d[\d.,'’ \u00a0\u202f]*?)"
    rf"\s*(?P<post>{_TOKEN})?"
)
_GROUP_SPACES = re.compile(r"['’ \u00a0\u202f]")
CENT = Decimal("0.01")
# No parcel's contents are worth more; a bigger amount is a typo or a wrong column.
MAX_AMOUNT = Decimal(1_000_000)
# A number a script wrote through a float column: 123456789012.0, 1.23456789012E+11.
_FLOAT_TEXT = re.compile(
    r"(?P<whole>0|[1-9]\d*)(?:(?:[.,](?P<fraction>\d+))?[eE](?P<exponent>[+-]?\d{1,4})|[.,](?P<zeros>0+))"
)
# A tracking number: 8 to 40 letters and digits, at least one digit; a single hyphen
# between them is kept as written. Single spaces between groups, as labels print them,
# are left out (a space is never part of a tracking number).
TRACKING_LENGTH = (8, 40)
_TRACKING_GROUPS = re.compile(r"[A-Za-z0-9-]+(?:[ \u00a0\u202f][A-Za-z0-9-]+)+")
_TRACKING_SPACES = re.compile(r"[ \u00a0\u202f]")
_TRACKING_HYPHENS = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# What people write for "no tracking number yet", folded like headers.
_TRACKING_PLACEHOLDERS = frozenset(
    normalise_header(word)
    for word in (
        *("tbd", "tba", "tbc", "x", "xx", "xxx", "none", "nil", "null", "unknown", "pending"),
        *("see below", "see above", "follows", "to follow", "missing", "empty", "todo"),
        *("zie onder", "zie boven", "volgt", "onbekend", "nog niet", "geen", "leeg"),
        *("siehe unten", "siehe oben", "unbekannt", "folgt", "keine", "fehlt"),
        *("voir ci dessous", "voir ci dessus", "inconnu", "aucun", "a venir"),
        *("ver abajo", "desconocido", "ninguno", "pendiente"),
    )
)


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str = ""  # extra words some messages need (a currency, a reading)


Coerced = tuple[Any, Problem | None]


@dataclass(frozen=True)
class ParsedAmount:
    price: Decimal
    currency: str | None  # a currency written in the amount cell itself
    from_format: bool = False  # the currency is the one the cell's number format shows


def _refuses_excel_errors(parse: Callable[..., Coerced]) -> Callable[..., Coerced]:
    """Every parser refuses an Excel error value (``#REF!``) with the one code, a
    formula never calculated (``UncalculatedFormula``) with another, and a cell the
    reader could not read (``UnreadableCell``) as ``internal_error``."""

    @wraps(parse)
    def parse_cell(value: object, *args: Any) -> Coerced:
        if isinstance(value, ExcelError):
            return None, Problem("excel_error")
        if isinstance(value, UncalculatedFormula):
            return None, Problem("uncalculated_formula")
        if isinstance(value, UnreadableCell):
            return None, Problem("internal_error", value.reason)
        return parse(value, *args)

    return parse_cell


def check_amount(price: Decimal) -> Problem | None:
    """An amount a parcel can have: finite, not negative, at most ``MAX_AMOUNT``, cents."""
    if not price.is_finite():
        return Problem("not_an_amount")
    if price < 0:
        return Problem("negative_amount")
    if price > MAX_AMOUNT:
        return Problem("amount_too_large")
    if price != price.quantize(CENT):
        return Problem("too_many_decimals")
    return None


@_refuses_excel_errors
def parse_amount(value: object, decimal_comma: bool | None = None) -> Coerced:
    """A cell as ``ParsedAmount``; text such as ``10,55``, ``€ 1.234,56``, ``12 EUR``; a
    number whose format shows a currency (``CurrencyNumber``) with that currency."""
    if isinstance(value, CurrencyNumber):
        return _formatted_amount(value, decimal_comma)
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


def _formatted_amount(value: CurrencyNumber, decimal_comma: bool | None) -> Coerced:
    currency = _CURRENCY_WORDS.get(value.symbol.upper())
    if currency is None:
        return None, Problem("bad_currency", f"{value.symbol} in its number format")
    parsed, problem = parse_amount(value.number, decimal_comma)
    if problem is not None or not isinstance(parsed, ParsedAmount):
        return parsed, problem
    return ParsedAmount(parsed.price, currency, from_format=True), None


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


@_refuses_excel_errors
def parse_currency(value: object) -> Coerced:
    """EUR/GBP/USD from a code, a symbol or the word euro; case-insensitive."""
    if isinstance(value, str):
        currency = _CURRENCY_WORDS.get(value.strip().upper())
        if currency is None:
            currency = _CURRENCY_NAMES.get(normalise_header(value))
        if currency is not None:
            return currency, None
    return None, Problem("bad_currency")


@_refuses_excel_errors
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


@_refuses_excel_errors
def parse_integer(value: object) -> Coerced:
    """A whole number: an int, a float such as 123.0, or digits as text (also as a float
    column writes them, ``123.0`` or ``1.23E+2``, when the digits are provably exact)."""
    if isinstance(value, CurrencyNumber):
        value = value.number
    if isinstance(value, bool):
        return None, Problem("not_an_integer")
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value), None
        return None, Problem("not_an_integer")
    if isinstance(value, str):
        text = value.strip()
        sign = text[:1] if text[:1] in "+-" else ""
        if len(text) > 40:  # no contract ID is this long (and int() has a limit)
            return None, Problem("not_an_integer")
        if re.fullmatch(r"\d+", text[len(sign) :]):
            return int(text), None
        digits, problem = float_text_digits(text[len(sign) :])
        if digits is not None:
            return int(sign + digits), None
        if problem is not None and problem.code == "untrustworthy_number":
            return None, problem
    return None, Problem("not_an_integer")


def float_text_digits(text: str) -> Coerced:
    """An identifier a script wrote through a float column (``123456789012.0``,
    ``1.23456789012E+11``) as its digits, when they are provably exact: a whole number
    below 10**15 whose every digit is written out (``1.2E+3`` may stand for 1234).
    ``(None, None)`` when the text is no such number; ``untrustworthy_number`` when it
    is one that may have lost digits."""
    match = _FLOAT_TEXT.fullmatch(text.strip())
    if match is None:
        return None, None
    if match["zeros"] is not None:
        digits = match["whole"]
        scientific = False
    else:
        fraction = match["fraction"] or ""
        shift = int(match["exponent"])
        if shift < len(fraction):  # 1.2345E+2 is 123.45
            mantissa = (match["whole"] + fraction)[: len(match["whole"]) + max(shift, 0)]
            rest = (match["whole"] + fraction)[len(mantissa) :]
            if shift < 0 or rest.strip("0"):
                return None, Problem("untrustworthy_number", "scientific")
            digits = mantissa
        elif shift > len(fraction):  # zeros Excel did not show: digits may be lost
            return None, Problem("untrustworthy_number", "scientific")
        else:
            digits = match["whole"] + fraction
        scientific = True
    digits = digits.lstrip("0") or "0"
    if len(digits) >= len(str(EXACT_DIGITS_LIMIT)):  # 16 digits or more: not exact
        return None, Problem("untrustworthy_number", "scientific" if scientific else "")
    return digits, None


def is_float_text(value: object) -> bool:
    """A cell written as a float column writes a number (``123.0``, ``1.2E+3``)."""
    return isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()) is not None


@_refuses_excel_errors
def parse_tracking_number(value: object) -> Coerced:
    """A tracking number as text: 8 to 40 letters and digits, at least one digit, single
    hyphens kept; the spaces that group it on a label are left out. Numbers Excel may
    have shortened, placeholders ("TBD", "n/a", "00000000": one character repeated) and
    what no carrier issues are refused."""
    if isinstance(value, UntrustworthyNumber):
        return None, Problem("untrustworthy_number")
    if isinstance(value, CurrencyNumber):
        value = value.number
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= EXACT_DIGITS_LIMIT:
            return None, Problem("untrustworthy_number")
        value = str(value)
    elif isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer() and abs(value) < EXACT_DIGITS_LIMIT):
            return None, Problem("untrustworthy_number")
        value = str(int(value))
    if not isinstance(value, str):
        return None, Problem("not_text")
    text = value.strip()
    digits, problem = float_text_digits(text)
    if problem is not None:
        return None, problem
    if digits is not None:
        text = digits
    elif _TRACKING_GROUPS.fullmatch(text):
        text = _TRACKING_SPACES.sub("", text)
    return _tracking_problem(value, text)


def _tracking_problem(value: str, text: str) -> Coerced:
    forbidden = [char for char in text if not (char.isascii() and char.isalnum() or char == "-")]
    if not forbidden and not _TRACKING_HYPHENS.fullmatch(text):
        forbidden = ["a hyphen at either end or doubled"]  # single, between letters/digits
    if not any(char in "0123456789" for char in text):
        placeholder = is_placeholder(value) or normalise_header(value) in _TRACKING_PLACEHOLDERS
        if placeholder or not text.strip("?!.…-–— "):
            return None, Problem("not_a_tracking_number", "placeholder")
        if not forbidden:
            return None, Problem("not_a_tracking_number", "no_digit")
    if not forbidden and len(set(text.upper()) - {"-"}) == 1:
        # 00000000: what a zero-padded number format shows for 0 or a blank; no carrier
        # issues one character repeated
        return None, Problem("not_a_tracking_number", "placeholder")
    if forbidden:
        names = dict.fromkeys(_character_name(char) for char in forbidden)
        return None, Problem("not_a_tracking_number", f"characters|{', '.join(names)}")
    low, high = TRACKING_LENGTH
    length = len(text) - text.count("-")
    if not low <= length <= high:
        return None, Problem("not_a_tracking_number", f"length|{length}")
    return text, None


def _character_name(char: str) -> str:
    """A character for a message: quoted, or described when it would not show."""
    if len(char) != 1:
        return char
    if char.isspace():
        return "a space"
    if unicodedata.category(char).startswith("C"):  # control, format: invisible
        return f"an invisible character (U+{ord(char):04X})"
    return f'"{char}"'


@_refuses_excel_errors
def parse_contract_type(value: object) -> Coerced:
    if isinstance(value, str):
        variant = _CONTRACT_TYPES.get(normalise_header(value))
        if variant is not None:
            return variant, None
    return None, Problem("bad_contract_type")


@_refuses_excel_errors
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
