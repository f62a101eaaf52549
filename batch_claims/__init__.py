"""batch-claims: file Sendcloud claims (every Support API ticket type) in bulk from a
spreadsheet."""

import os
from importlib.metadata import PackageNotFoundError, version

# numpy (under pandas) would start a pool of BLAS threads as it loads, which batch-claims
# never uses; a process with one thread can share its work with a forked child
# (``forked``). A value the user set is kept (then no child is forked).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

try:
    __version__ = version("batch-claims")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
