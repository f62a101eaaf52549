"""Whether a host names this machine only: the one rule for plain ``http://`` base URLs,
the proxy bypass, the sandbox's bind address and its inspection routes; and what makes a
base URL usable (``check_base_url``, checked before the sheet is read, without loading
the HTTP client)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from batch_claims.errors import InputError


def is_loopback(host: str | None) -> bool:
    """``localhost``, an address in 127.0.0.0/8, or ``::1`` (brackets allowed)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, variable: str = "SENDCLOUD_BASE_URL") -> str:
    """The URL without trailing slash; InputError unless https (or http on loopback)."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise InputError(f"{variable} is not a usable URL.") from None
    if parts.username is not None or parts.password is not None:
        raise InputError(
            f"{variable} must not contain credentials: set SENDCLOUD_PUBLIC_KEY and "
            "SENDCLOUD_SECRET_KEY instead."
        )
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InputError(
            f"{variable} must be an https:// URL such as https://panel.sendcloud.sc/api/v3; "
            f"got {text!r}."
        )
    if parts.query or parts.fragment:
        raise InputError(f"{variable} must not have a query or fragment; got {text!r}.")
    if parts.scheme.lower() == "http" and not is_loopback(host):
        raise InputError(
            f"{variable} uses plain http:// for {host}, so the credentials would cross the "
            "network unencrypted: use https:// (plain http:// is accepted only for "
            "loopback hosts: 127.0.0.0/8, ::1 and localhost)."
        )
    return text
