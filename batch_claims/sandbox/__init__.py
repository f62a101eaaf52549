"""A local stand-in for Sendcloud's Support API, for demos and tests.

It serves uploads, OAuth2 tokens and ``POST /api/v3/dsf/tickets/<type>`` for all eight
ticket types (``ticket_types.py``), which share one ticket budget. Damage bodies are
judged against Sendcloud's vendored OpenAPI document, the other types against the
sandbox's own schemas (``schemas.py``), never the client's definitions.

``create_app(config)`` builds the Flask app; ``serve(config)`` runs one over real
HTTP in a background thread (``server.run_forever`` serves until Ctrl-C). Both take a
``clock=`` (the system clock by default) that the app's windows, tokens, timestamps and
pauses run on. See ``NOTICE.md`` for the rules and the config keys.
"""

from batch_claims.sandbox.app import create_app
from batch_claims.sandbox.server import serve

__all__ = ["create_app", "serve"]
