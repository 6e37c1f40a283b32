"""Where idtrack-sc caches files: fetched snapshots (nothing derived from them is kept on disk)."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

logger = logging.getLogger(__name__)

#: Environment variable that moves the whole cache.
ENV_CACHE = "IDTRACK_SC_CACHE"


def cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``cache_dir`` if given, else ``$IDTRACK_SC_CACHE``, else the OS cache."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("idtrack-sc"))


#: Temporary files this package (``.<name>.<random>.part``, see :mod:`idtrack_sc._atomic`) and
#: pooch (``tmp<random>``) write next to their targets while downloading or writing; a killed process leaves them behind.
_TEMPORARY = re.compile(r"^(\..+\.part|tmp[a-z0-9_]{6,})$")
#: A temporary file untouched for this long belongs to no running process (a live download
#: or write touches its file continuously).
STALE_AFTER = 3600.0


def clean_stale_temporaries(folder: str | os.PathLike, *, older_than: float = STALE_AFTER) -> list[Path]:
    """Delete temporary files left in ``folder`` by killed downloads or writes; return them.

    Only names this package and pooch use for temporary files are touched, and only when
    they were not modified for ``older_than`` seconds, so a download running in another
    process is left alone. Errors (permissions, races) are ignored.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not _TEMPORARY.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat().st_mtime < older_than:
                continue
            Path(entry.path).unlink()
        except OSError:
            continue
        removed.append(Path(entry.path))
    if removed:
        logger.info("removed %d stale temporary file(s) from %s", len(removed), folder)
    return removed
