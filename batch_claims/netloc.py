"""Whether a host names this machine only: the one rule for plain ``http://`` base URLs,
the proxy bypass, the sandbox's bind address and its inspection routes."""

from __future__ import annotations

import ipaddress


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
