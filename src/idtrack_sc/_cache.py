"""Where idtrack-sc caches files: fetched snapshots and precomputed resolution indexes."""

from __future__ import annotations

import os
from pathlib import Path

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
