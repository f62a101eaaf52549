"""The currencies claims are filed in, and every way a sheet writes one.

``CURRENCIES`` are the codes the Support API takes. ``CURRENCY_TOKENS`` maps a code, a
symbol or a short word as it stands beside an amount or at the end of a header
(upper-cased: "€", "US$", "EUROS") to its code; ``CURRENCY_NAMES`` maps a currency's
name as finance teams write it in a currency cell, folded like a header
(``columns.normalise_header``: "pound sterling" → "poundsterling"). The one table of
each, for the header matcher (``read.headers``), the cell parsers
(``validate.amounts``) and the template (``report.template``).
"""

from __future__ import annotations

from collections.abc import Mapping

CURRENCIES = ("EUR", "GBP", "USD")

CURRENCY_TOKENS: Mapping[str, str] = {
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

CURRENCY_NAMES: Mapping[str, str] = {
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
