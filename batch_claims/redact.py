"""Secrets never leave, whatever the other side sends back; text from outside is shown
safely.

``register`` is called by the credentials (``api.auth``) with every form a secret can
take on the wire — the keys, the Basic credentials in base64, each bearer token — and in
the forms a server may echo them (percent-, HTML- and JSON-escaped). ``redact`` replaces
each with ``***``. The places where text leaves the process call it: the client's error
details (from where they reach the journal and the workbook), the console and the log
file, and the results workbook's cells.

``printable`` makes text from a sheet or a server safe for a terminal or a log line:
control characters (escape sequences such as ``\\x1b]52;…`` that write to the clipboard,
carriage returns that overwrite a line, bidi overrides that reorder it) are shown as
visible ``\\xNN``/``\\uNNNN`` escapes instead of being obeyed. Line breaks are kept.

Pure functions over one process-wide set; this module opens no files.
"""

from __future__ import annotations

import html
import json
import threading
import unicodedata
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 6  # shorter values are no real keys and would mask ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()


def register(*values: str | None) -> None:
    """Remember secrets (and their escaped forms) to mask wherever text leaves."""
    global _ordered
    forms: set[str] = set()
    for value in values:
        if not value or len(value) < MIN_SECRET:
            continue
        forms |= {
            value,
            quote(value, safe=""),
            quote_plus(value),
            html.escape(value),
            json.dumps(value)[1:-1],
        }
    with _lock:
        if forms - _secrets:
            _secrets.update(forms)
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def printable(text: str) -> str:
    """Text safe to show on a terminal or in a log line (line breaks and tabs kept)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char in "\n\t" or char.isprintable():
            out.append(char)
        elif unicodedata.category(char) in ("Zs",):
            out.append(" ")
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)


def shown(text: str) -> str:
    """Text fit for a terminal and a log: secrets masked, control characters and escape
    sequences from a sheet or a server made visible instead of obeyed."""
    return printable(redact(text))
