"""A local stand-in for Sendcloud's Support API, for demos and tests.

``create_app(config)`` builds the Flask app; ``serve(config)`` runs one over real
HTTP in a background thread. See ``NOTICE.md`` for the rules and config keys.
"""

from batch_claims.sandbox.app import create_app
from batch_claims.sandbox.server import SandboxServer, run_forever, serve

__all__ = ["SandboxServer", "create_app", "run_forever", "serve"]
