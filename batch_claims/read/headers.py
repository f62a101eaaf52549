"""Matching the sheet's headers to the canonical columns of ``columns.py``.

A header means a column when it folds (``normalise_header``) to the column's name or
one of its aliases; the config's aliases win over the built-in ones. Two headers that
mean one column are an error. A header that means no column is carried along unchanged
and listed in a notice, with a "did you mean" when it looks like a typo of a known name.
An amount header may end in the currency of its column ("Sales price (EUR)",
"Verkoopwaarde €", "Prix de vente en €"): it matches without it, and ``header_currency``
tells the schema which currency the column's bare numbers are in.
Pure functions: this module opens no files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from batch_claims.columns import BY_NAME, COLUMNS, TRACKING_NUMBER, Kind, normalise_header
from batch_claims.currency import CURRENCY_TOKENS
from batch_claims.errors import InputError

_HEADER_CURRENCY = re.compile(
    r"(?:(?:^|(?<=[\s(\[/,:-]))(?:(?:in|en)\s+)?(?P<word>eur|euro|euros|gbp|usd)"
    r"|(?:(?:^|(?<=[\s(\[/,:-]))(?:in|en)\s+)?(?P<symbol>us\$|[€£$]))\s*[)\]]?\s*$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _currency_suffix(header: str) -> tuple[str, str] | None:
    """(the header without it, the currency) when a header ends in a currency."""
    match = _HEADER_CURRENCY.search(header)
    if match is None:
        return None
    token = match["word"] or match["symbol"]
    return header[: match.start()].strip(), CURRENCY_TOKENS[token.upper()]


def header_currency(header: str) -> str | None:
    """The currency an amount header names for its column: "Sales price (EUR)" → EUR."""
    found = _currency_suffix(header)
    return found[1] if found is not None else None


def _column_of(text: str, lookup: Mapping[str, str]) -> str | None:
    """The column a header means: its folded text, or an amount header without its
    currency ("Sales price (EUR)" → contents_sales_price)."""
    canonical = lookup.get(normalise_header(text))
    if canonical is not None:
        return canonical
    found = _currency_suffix(text)
    if found is None or not found[0]:
        return None
    canonical = lookup.get(normalise_header(found[0]))
    if canonical is not None and BY_NAME[canonical].kind is Kind.AMOUNT:
        return canonical
    return None


def header_lookup(aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """Folded header -> canonical name: built-in names and aliases, then the config's."""
    lookup: dict[str, str] = {}
    for column in COLUMNS:
        for text in (column.name, *column.aliases):
            lookup[normalise_header(text)] = column.name
    # The config's aliases win over the built-in ones (the user said so), but two of its
    # own entries that match the same header and mean different columns are ambiguous.
    configured: dict[str, tuple[str, str]] = {}
    for header, canonical in (aliases or {}).items():
        if canonical not in BY_NAME:
            raise InputError(
                f'config alias "{header}" points to "{canonical}", which is not a column '
                f"(columns: {', '.join(BY_NAME)})"
            )
        key = normalise_header(header)
        earlier = configured.setdefault(key, (header, canonical))
        if earlier[1] != canonical:
            raise InputError(
                f'config aliases "{earlier[0]}" and "{header}" match the same header but mean '
                f"{earlier[1]} and {canonical}; keep one of them"
            )
        lookup[key] = canonical
    return lookup


def suggest_column(
    header: str, lookup: Mapping[str, str], exclude: frozenset[str] = frozenset()
) -> str | None:
    """The column a header most likely means when it is a typo of a known name.

    A suggestion needs a folded header of at least 4 characters and one edit from a known
    name or alias (a swap of two neighbouring letters is one edit), or, from 10
    characters, two edits and a difflib ratio of at least 0.85.
    """
    folded = normalise_header(header)
    if len(folded) < 4 or folded in lookup:
        return None
    limit = 1 if len(folded) < 10 else 2
    best: tuple[float, str] | None = None
    for key, canonical in lookup.items():
        if canonical in exclude or abs(len(key) - len(folded)) > limit:
            continue
        edits = _edits(folded, key)
        if edits > limit:
            continue
        ratio = difflib.SequenceMatcher(None, folded, key, autojunk=False).ratio()
        # One edit is a typo whatever the ratio says (a swap in a long name scores low).
        if ratio < 0.85 and edits > 1:
            continue
        if best is None or ratio > best[0]:
            best = (ratio, canonical)
    return best[1] if best is not None else None


def _edits(a: str, b: str) -> int:
    """Edit distance counting an insertion, deletion, substitution or a swap of two
    neighbouring letters as one edit (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            cost = min(rows[-1][j] + 1, current[j - 1] + 1, rows[-1][j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, rows[-2][j - 2] + 1)
            current.append(cost)
        rows.append(current)
    return rows[-1][-1]


def column_mapping(
    source: str, headers: Sequence[str], lookup: Mapping[str, str]
) -> dict[str, int]:
    """Canonical column name -> index of the header that means it; two headers that mean
    one column raise ``InputError``."""
    mapping: dict[str, int] = {}
    for index, text in enumerate(headers):
        canonical = _column_of(text, lookup) if text else None
        if canonical is None:
            continue
        if canonical in mapping:
            first = shown_header(headers[mapping[canonical]])
            raise InputError(
                f'{source}: the headers "{first}" and "{shown_header(text)}" both mean '
                f"{canonical}; keep one of them or rename the other"
            )
        mapping[canonical] = index
    return mapping


# A header that holds a known name or alias this long is taken to mean that column
# ("Purchase price incl. VAT" holds "purchase price"); shorter names ("notes") are too
# common inside other headers to tell.
LOOKALIKE_MIN_CHARS = 10


def lookalike_columns(
    headers: Sequence[str], mapping: Mapping[str, int], lookup: Mapping[str, str]
) -> dict[int, str]:
    """Headers that mean no column but look like one the sheet lacks: index -> column.

    A header looks like a column when it is a likely typo of one of its names or aliases
    (``suggest_column``) or holds one of them of at least ``LOOKALIKE_MIN_CHARS``
    folded characters. Columns the sheet already has are never suggested.
    """
    mapped = set(mapping.values())
    taken = frozenset(mapping)
    found: dict[int, str] = {}
    for index, text in enumerate(headers):
        if not text or index in mapped:
            continue
        guess = suggest_column(text, lookup, taken) or _held_column(text, lookup, taken)
        if guess is not None:
            found[index] = guess
    return found


def _held_column(text: str, lookup: Mapping[str, str], taken: frozenset[str]) -> str | None:
    """The column whose longest name or alias the folded header holds, if long enough."""
    folded = normalise_header(text)
    best: tuple[int, str] | None = None
    for key, canonical in lookup.items():
        if canonical in taken or len(key) < LOOKALIKE_MIN_CHARS or key not in folded:
            continue
        if best is None or len(key) > best[0]:
            best = (len(key), canonical)
    return best[1] if best is not None else None


def shown_header(header: str) -> str:
    """A header on one line, for a message: the line breaks of a wrapped header cell
    ("Sales⏎value") and runs of spaces as one space. Matching ignores spaces, so a
    config line with this text maps the header as written."""
    return " ".join(header.split())


def config_line(header: str, column: str) -> str:
    """The line of the config's ``[columns]`` table that maps ``header`` to ``column``
    (valid TOML: on one line, other control characters escaped)."""
    quoted = shown_header(header).replace("\\", "\\\\").replace('"', '\\"')
    quoted = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04X}", quoted)
    return f'"{quoted}" = "{column}"'


def unknown_columns(
    headers: Sequence[str], mapping: Mapping[str, int], lookup: Mapping[str, str]
) -> str | None:
    """The notice listing the headers that are no column; one that looks like a column
    the sheet lacks says so, since its values make their rows invalid."""
    mapped = set(mapping.values())
    lookalikes = lookalike_columns(headers, mapping, lookup)
    plain: list[str] = []
    suggested: list[str] = []
    for index, text in enumerate(headers):
        if not text or index in mapped:
            continue
        guess = lookalikes.get(index)
        if guess is None:
            plain.append(f'"{shown_header(text)}"')
        else:
            suggested.append(f'"{shown_header(text)}" — did you mean {guess}?')
    if not plain and not suggested:
        return None
    listed = "; ".join(filter(None, [", ".join(plain), *suggested]))
    notice = f"columns not recognised, carried along unchanged: {listed}"
    if suggested:
        notice += (
            " (a row with a value under a header that looks like a column is invalid "
            "until the header is renamed or mapped in the config's [columns])"
        )
    return notice


def near_miss(seen: Mapping[int, list[str]], lookup: Mapping[str, str]) -> tuple[int, str] | None:
    """The first scanned cell that looks like a misspelt tracking-number header."""
    tracking = {key: name for key, name in lookup.items() if name == TRACKING_NUMBER}
    for number in sorted(seen):
        for text in seen[number]:
            if text and suggest_column(text, tracking) == TRACKING_NUMBER:
                return number, text
    return None


def looked_for(lookup: Mapping[str, str]) -> str:
    """The tracking-number headers looked for, for the message when none is found."""
    names = [TRACKING_NUMBER, *BY_NAME[TRACKING_NUMBER].aliases]
    extra = [key for key, name in lookup.items() if name == TRACKING_NUMBER]
    known = {normalise_header(name) for name in names}
    names += [key for key in extra if key not in known]
    return ", ".join(names)
