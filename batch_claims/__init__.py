"""batch-claims: file Sendcloud claims (every Support API ticket type) in bulk from a
spreadsheet."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("batch-claims")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
