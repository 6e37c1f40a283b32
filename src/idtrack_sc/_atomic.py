"""Write a file so that it appears complete or not at all.

Every file this package writes for later reading (snapshot files, resolution indexes and their
checksum files, downloaded checksum lists) goes through :func:`write_atomically`: the content
is written to a temporary file ``.idtrack-sc.<name>.<random>.part`` in the target's folder, then renamed
onto the target in one step, so a reader never sees a half-written file and a killed process
leaves at most a temporary file behind (removed later by
:func:`idtrack_sc._cache.clean_stale_temporaries`, which knows this naming).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Callable


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` with a binary file handle and put what it wrote at ``path`` atomically.

    The folder of ``path`` must exist. The file gets the usual permissions for the umask (a
    temporary file is created private). If ``write`` raises, nothing is left behind and the
    error propagates; an existing file at ``path`` is then untouched.

    Returns
    -------
    The path written.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".idtrack-sc.{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        # mkstemp creates the file private (0600); give it the usual permissions for the umask
        umask = os.umask(0)
        os.umask(umask)
        Path(tmp).chmod(0o666 & ~umask)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
