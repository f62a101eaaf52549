"""Coercion of single cell values other than amounts: tracking numbers, contract
types, whole numbers, yes/no, currency cells and text; and what every parser shares.

Each ``parse_*`` function takes one cell as the reader left it (text, a number, a
boolean, a date, an ``UntrustworthyNumber``, a ``CurrencyNumber``, an ``ExcelError``)
and returns ``(value, None)`` or ``(None, Problem)`` (``messages``). Every parser, the
amount parser of ``amounts`` included, refuses an Excel error value (``#REF!``) with
``excel_error`` and a formula the writing program never calculated with
``uncalculated_formula`` (``refuses_excel_errors``).
A cell holding only a placeholder for "nothing" (``-``, ``n/a``, ``nvt``, an accounting
``€ -``) is blank in a typed column (``is_placeholder``). A tracking number must look
like one (``parse_tracking_number``), and an identifier a script wrote through a float
column (``123456789012.0``) is read as its digits only when they are provably exact.
The parser of each column kind is in ``parsers``.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from batch_claims.columns import Variant, normalise_header
from batch_claims.currency import CURRENCY_NAMES, CURRENCY_TOKENS
from batch_claims.outcome import ErrorCode
from batch_claims.read.cells import (
    EXACT_DIGITS_LIMIT,
    CurrencyNumber,
    ExcelError,
    UncalculatedFormula,
    UnreadableCell,
    UntrustworthyNumber,
)
from batch_claims.validate.bounds import TRACKING_LENGTH
from batch_claims.validate.messages import Coerced, Message, show_plain

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
# A number a script wrote through a float column: 123456789012.0, 1.23456789012E+11.
_FLOAT_TEXT = re.compile(
    r"(?P<whole>0|[1-9]\d*)(?:(?:[.,](?P<fraction>\d+))?[eE](?P<exponent>[+-]?\d{1,4})|[.,](?P<zeros>0+))"
)
# A tracking number's letters and digits: a single hyphen between them is kept as
# written; single spaces between groups, as labels print them, are left out.
_TRACKING_GROUPS = re.compile(r"[A-Za-z0-9-]+(?:[ \u00a0\u202f][A-Za-z0-9-]+)+")
_TRACKING_SPACES = re.compile(r"[ \u00a0\u202f]")
_TRACKING_HYPHENS = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# The usual tracking number: ASCII letters and digits only, at least one digit, of an
# allowed length; it is read as written unless it is float text or one repeated
# character (``_plain_tracking_number``), without the general checks' work.
_PLAIN_TRACKING = re.compile(
    rf"(?=[A-Za-z]*[0-9])[A-Za-z0-9]{{{TRACKING_LENGTH[0]},{TRACKING_LENGTH[1]}}}"
)
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


def refuses_excel_errors(parse: Callable[..., Coerced]) -> Callable[..., Coerced]:
    """Every parser refuses an Excel error value (``#REF!``) with the one code, a
    formula never calculated (``UncalculatedFormula``) with another, and a cell the
    reader could not read (``UnreadableCell``) as ``internal_error``."""

    @wraps(parse)
    def parse_cell(value: object, *args: Any) -> Coerced:
        if isinstance(value, ExcelError):
            return None, Message.EXCEL_ERROR.problem()
        if isinstance(value, UncalculatedFormula):
            return None, Message.UNCALCULATED_FORMULA.problem()
        if isinstance(value, UnreadableCell):
            return None, Message.UNREADABLE_CELL.problem(reason=value.reason)
        return parse(value, *args)

    return parse_cell


def is_placeholder(value: object) -> bool:
    """A cell that says "nothing": ``-``, ``n/a``, ``nvt``, an accounting ``€ -``."""
    if not isinstance(value, str) or len(value) > 16:
        return False
    text = value.strip().casefold()
    if text in _BLANK_FORMS:
        return True
    return " " in text and " ".join(text.split()) in _BLANK_FORMS


@refuses_excel_errors
def parse_currency(value: object) -> Coerced:
    """EUR/GBP/USD from a code, a symbol or the word euro; case-insensitive."""
    if isinstance(value, str):
        currency = CURRENCY_TOKENS.get(value.strip().upper())
        if currency is None:
            currency = CURRENCY_NAMES.get(normalise_header(value))
        if currency is not None:
            return currency, None
    return None, Message.BAD_CURRENCY.problem()


@refuses_excel_errors
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
    return None, Message.NOT_A_BOOLEAN.problem()


@refuses_excel_errors
def parse_integer(value: object) -> Coerced:
    """A whole number: an int, a float such as 123.0, or digits as text (also as a float
    column writes them, ``123.0`` or ``1.23E+2``, when the digits are provably exact)."""
    if isinstance(value, CurrencyNumber):
        value = value.number
    if isinstance(value, bool):
        return None, Message.NOT_AN_INTEGER.problem()
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value), None
        return None, Message.NOT_AN_INTEGER.problem()
    if isinstance(value, str):
        text = value.strip()
        sign = text[:1] if text[:1] in "+-" else ""
        if len(text) > 40:  # no contract ID is this long (and int() has a limit)
            return None, Message.NOT_AN_INTEGER.problem()
        if re.fullmatch(r"\d+", text[len(sign) :]):
            return int(text), None
        digits, problem = float_text_digits(text[len(sign) :])
        if digits is not None:
            return int(sign + digits), None
        if problem is not None and problem.code is ErrorCode.UNTRUSTWORTHY_NUMBER:
            return None, problem
    return None, Message.NOT_AN_INTEGER.problem()


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
                return None, Message.SHORTENED_NUMBER.problem()
            digits = mantissa
        elif shift > len(fraction):  # zeros Excel did not show: digits may be lost
            return None, Message.SHORTENED_NUMBER.problem()
        else:
            digits = match["whole"] + fraction
        scientific = True
    digits = digits.lstrip("0") or "0"
    if len(digits) >= len(str(EXACT_DIGITS_LIMIT)):  # 16 digits or more: not exact
        return None, (
            Message.SHORTENED_NUMBER if scientific else Message.NUMBER_MAY_HAVE_LOST_DIGITS
        ).problem()
    return digits, None


def is_float_text(value: object) -> bool:
    """A cell written as a float column writes a number (``123.0``, ``1.2E+3``)."""
    return isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()) is not None


@refuses_excel_errors
def parse_tracking_number(value: object) -> Coerced:
    """A tracking number as text: 8 to 40 letters and digits, at least one digit, single
    hyphens kept; the spaces that group it on a label are left out. Numbers Excel may
    have shortened, placeholders ("TBD", "n/a", "00000000": one character repeated) and
    what no carrier issues are refused."""
    if isinstance(value, UntrustworthyNumber):
        return None, Message.NUMBER_MAY_HAVE_LOST_DIGITS.problem()
    if isinstance(value, CurrencyNumber):
        value = value.number
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= EXACT_DIGITS_LIMIT:
            return None, Message.NUMBER_MAY_HAVE_LOST_DIGITS.problem()
        value = str(value)
    elif isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer() and abs(value) < EXACT_DIGITS_LIMIT):
            return None, Message.NUMBER_MAY_HAVE_LOST_DIGITS.problem()
        value = str(int(value))
    if not isinstance(value, str):
        return None, Message.NOT_TEXT.problem()
    if type(value) is str and _plain_tracking_number(value):
        return value, None
    return tracking_text(value)


def _plain_tracking_number(value: str) -> bool:
    """Whether ``tracking_text`` would read the text as written: ASCII letters and
    digits with a digit, of an allowed length, neither float text (``1234E567``) nor one
    character repeated. The usual case, answered with two pattern matches."""
    return (
        _PLAIN_TRACKING.fullmatch(value) is not None
        and _FLOAT_TEXT.fullmatch(value) is None
        and len(set(value.upper())) > 1
    )


def tracking_text(value: str) -> Coerced:
    """A tracking number written as text, checked in full (``parse_tracking_number``)."""
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
            return None, Message.TRACKING_PLACEHOLDER.problem()
        if not forbidden:
            return None, Message.TRACKING_NO_DIGIT.problem()
    if not forbidden and len(set(text.upper()) - {"-"}) == 1:
        # 00000000: what a zero-padded number format shows for 0 or a blank; no carrier
        # issues one character repeated
        return None, Message.TRACKING_PLACEHOLDER.problem()
    if forbidden:
        names = dict.fromkeys(_character_name(char) for char in forbidden)
        verb = "is" if len(names) == 1 else "are"
        return None, Message.TRACKING_CHARACTERS.problem(characters=", ".join(names), verb=verb)
    low, high = TRACKING_LENGTH
    length = len(text) - text.count("-")
    if not low <= length <= high:
        return None, Message.TRACKING_LENGTH.problem(length=str(length))
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


@refuses_excel_errors
def parse_contract_type(value: object) -> Coerced:
    if isinstance(value, str):
        variant = _CONTRACT_TYPES.get(normalise_header(value))
        if variant is not None:
            return variant, None
    return None, Message.BAD_CONTRACT_TYPE.problem()


@refuses_excel_errors
def parse_text(value: object) -> Coerced:
    if isinstance(value, str):
        return value, None
    return show_plain(value), None


def parse_all(parse: Callable[[object], Coerced], cells: Sequence[object]) -> list[Coerced | None]:
    """``parse`` of each cell, None for a blank one. A value a column repeats is parsed
    once, and its cells share the one answer (values of different types never do: 1,
    1.0 and True are told apart); a cell that cannot be hashed (a signalling NaN) is
    parsed on its own."""
    texts: dict[str, Coerced] = {}  # the usual cell, keyed by itself
    seen: dict[tuple[type, object], Coerced] = {}  # others with their type
    results: list[Coerced | None] = []
    for value in cells:
        if value is None:
            results.append(None)
            continue
        if type(value) is str:
            known = texts.get(value)
            if known is None:
                known = texts[value] = parse(value)
            results.append(known)
            continue
        key = (type(value), value)
        try:
            known = seen.get(key)
        except TypeError:  # cannot be hashed: parsed each time
            results.append(parse(value))
            continue
        if known is None:
            known = seen[key] = parse(value)
        results.append(known)
    return results
