"""``sandbox``: serve the local Support API sandbox with the limits and faults asked
for, until Ctrl-C."""

from __future__ import annotations

import click

from batch_claims.cli.options import SHARE, limit_options
from batch_claims.errors import InputError
from batch_claims.limits import Limit


@click.command("sandbox", short_help="Serve the local Support API sandbox.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@limit_options(sandbox=True)
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Seconds per answer.")
@click.option("--error-rate", type=SHARE, default=0.0, help="Share of POSTs answered 500/503.")
@click.option("--rate-limit-burst-rate", type=SHARE, default=0.0, help="Share of spurious 429s.")
@click.option("--drop-rate", type=SHARE, default=0.0, help="Share of connections dropped.")
@click.option(
    "--lost-response-rate", type=SHARE, default=0.0, help="Share of tickets created, unanswered."
)
@click.option("--slow-rate", type=SHARE, default=0.0, help="Share of tickets answered late.")
@click.option(
    "--slow-seconds",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="How late a slow ticket is answered.",
)
@click.option(
    "--token-expires-in",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    help="Seconds an OAuth2 access token is valid.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the fault dice (repeatable)."
)
@click.option("--allow-remote", is_flag=True, help="Allow binding to a non-loopback host.")
def sandbox_command(
    host: str,
    port: int,
    ticket_limit: Limit,
    request_limit: Limit,
    burst_limit: Limit,
    latency: float,
    error_rate: float,
    rate_limit_burst_rate: float,
    drop_rate: float,
    lost_response_rate: float,
    slow_rate: float,
    slow_seconds: float,
    token_expires_in: float,
    seed: int,
    allow_remote: bool,
) -> None:
    """Serve the local Support API sandbox (Ctrl-C stops it)."""
    from batch_claims.sandbox.server import run_forever
    from batch_claims.send.run import sandbox_limits

    def announce(url: str) -> None:
        click.echo(f"sandbox API at {url}/api/v3 (any keys; public key 'bad' → 401); Ctrl-C stops")

    try:
        run_forever(
            {
                **sandbox_limits(ticket_limit, request_limit, burst_limit),
                "LATENCY": latency,
                "ERROR_RATE": error_rate,
                "RATE_LIMIT_BURST_RATE": rate_limit_burst_rate,
                "DROP_RATE": drop_rate,
                "LOST_RESPONSE_RATE": lost_response_rate,
                "SLOW_RATE": slow_rate,
                "SLOW_SECONDS": slow_seconds,
                "TOKEN_EXPIRES_IN": token_expires_in,
                "SEED": seed,
            },
            host=host,
            port=port,
            allow_remote=allow_remote,
            on_ready=announce,
        )
    except OSError as exc:
        raise InputError(f"cannot serve the sandbox on {host}:{port}: {exc.strerror}") from None
