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


#: Temporary files of :func:`idtrack_sc._atomic.write_atomically`: ``.idtrack-sc.<name>.<random>.part``.
_TEMPORARY = re.compile(r"^\.idtrack-sc\..+\.[a-z0-9_]{8}\.part$")
#: pooch downloads to ``tmp<random>``, a name anyone could use: the package marks each download
#: it starts with a sidecar ``.<tmp name>.idtrack-sc-download`` (see :func:`download_marker`), and
#: only a ``tmp…`` file with its sidecar is deleted.
_MARKER = re.compile(r"^\.(?P<target>tmp[a-z0-9_]{6,})\.idtrack-sc-download$")
#: A temporary file untouched for this long belongs to no running process (a live download
#: or write touches its file continuously).
STALE_AFTER = 3600.0


def download_marker(temporary: str | os.PathLike) -> Path:
    """The sidecar that marks ``temporary`` (a pooch download) as this package's, for the cleaner."""
    temporary = Path(temporary)
    return temporary.with_name(f".{temporary.name}.idtrack-sc-download")


def clean_stale_temporaries(folder: str | os.PathLike, *, older_than: float = STALE_AFTER) -> list[Path]:
    """Delete temporary files left in ``folder`` by killed downloads or writes; return them.

    Only files this package made are touched: its own temporaries (``.idtrack-sc.*.part``)
    and pooch downloads it marked with a sidecar (``tmp…`` beside ``.tmp….idtrack-sc-download``),
    never another file of the folder, whatever its name. They are deleted only when not
    modified for ``older_than`` seconds, so a download or write running in another process is
    left alone. Errors (permissions, races) are ignored.
    """
    removed: list[Path] = []
    try:
        entries = [Path(e.path) for e in os.scandir(folder)]
    except OSError:
        return removed
    now = time.time()

    def stale(path: Path) -> bool:
        try:
            return path.is_file() and not path.is_symlink() and now - path.stat().st_mtime >= older_than
        except OSError:
            return False

    for path in entries:
        marker = _MARKER.match(path.name)
        if marker:
            target = path.with_name(marker["target"])
            exists = target.is_symlink() or target.exists()
            if (exists and not stale(target)) or not stale(path):
                continue  # a download still running (or the marked name is not a plain file)
            doomed = [target, path] if exists else [path]
        elif _TEMPORARY.match(path.name) and stale(path):
            doomed = [path]
        else:
            continue
        for old in doomed:
            try:
                old.unlink()
            except OSError:
                continue
            removed.append(old)
    if removed:
        logger.info("removed %d stale temporary file(s) from %s", len(removed), folder)
    return removed
