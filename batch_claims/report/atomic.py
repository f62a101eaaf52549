"""Files written whole or not at all: each goes to a temporary file beside its path and
is renamed over it only once complete, keeping the mode of a file it replaces."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook


def atomic_save(workbook: Workbook, path: Path) -> None:
    """Save an openpyxl workbook to a temporary file beside ``path``, then rename it over
    ``path``."""
    atomic(path, workbook.save)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    atomic(path, lambda tmp: tmp.write_bytes(data))


def atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` with a temporary path beside ``path``, then rename the file over
    ``path``; on any failure the temporary file goes and ``path`` is left as it was."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _new_file_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
