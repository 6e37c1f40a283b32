"""Keep resolution indexes on disk, so a new session does not build them again.

An index is a pure function of the snapshot file (its sha256), the target release and
namespace, and the resolver's code (the package version). It is stored as one Arrow IPC file
in ``<cache>/index/`` (see :func:`idtrack_sc._cache.cache_dir`), written atomically; any
problem reading or writing it only costs a rebuild. Set ``IDTRACK_SC_INDEX_CACHE=0`` to
switch it off.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import __version__
from .._cache import cache_dir
from ._index import ResolutionIndex

if TYPE_CHECKING:
    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

ENV_INDEX_CACHE = "IDTRACK_SC_INDEX_CACHE"
_FORMAT = 3
_ARRAYS = ("note", "query_namespace", "n_targets", "breakable", "reason", "found_first", "found_last", "retired_in")
_STRINGS = ("targets", "top", "genes", "symbol", "lost")


def _enabled() -> bool:
    return os.environ.get(ENV_INDEX_CACHE, "1").strip().lower() not in ("0", "false", "no", "off")


def index_path(snapshot: Snapshot, release: int, namespace: str, min_evidence: str = "medium") -> Path | None:
    """Where the index of ``snapshot`` for ``release``, ``namespace`` and ``min_evidence`` is kept, if anywhere."""
    if snapshot.path is None or not _enabled():
        return None
    safe_ns = "".join(c if c.isalnum() or c in "-_" else "_" for c in namespace)
    name = f"{snapshot.sha256[:24]}-{release}-{safe_ns}-{min_evidence}-{__version__}-f{_FORMAT}.arrow"
    return cache_dir() / "index" / name


def save_index(index: ResolutionIndex, path: Path) -> None:
    """Write an index atomically; failures are logged and ignored."""
    n = len(index.keys)
    columns = {"key": index.keys, "hash": pa.array(index.hashes.to_numpy())}
    for name in _ARRAYS:
        columns[name] = pa.array(getattr(index, name)[:n])
    for name in _STRINGS:
        columns[name] = getattr(index, name).slice(0, n)
    meta = {"namespaces": index.namespaces, "release": index.release, "namespace": index.namespace}
    table = pa.table(columns).replace_schema_metadata({"idtrack_sc": json.dumps(meta)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh, pa.ipc.new_file(fh, table.schema) as writer:
                writer.write_table(table)
            umask = os.umask(0)
            os.umask(umask)
            Path(tmp).chmod(0o666 & ~umask)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        logger.debug("could not keep the resolution index in %s: %s", path, err)


def load_index(path: Path) -> ResolutionIndex | None:
    """Read an index written by :func:`save_index`; ``None`` if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        meta = json.loads(table.schema.metadata[b"idtrack_sc"])
    except (OSError, pa.ArrowInvalid, KeyError, ValueError) as err:
        logger.debug("ignoring unreadable resolution index %s: %s", path, err)
        return None
    keys = table["key"].combine_chunks()
    values = {}
    for name in _ARRAYS:
        arr = table[name].to_numpy()
        fill = {"note": 0, "query_namespace": -1, "n_targets": 0, "breakable": False, "reason": -1}.get(name, np.nan)
        values[name] = np.append(arr, np.array([fill], dtype=arr.dtype))
    not_found = _not_found_code()
    values["reason"][-1] = not_found
    for name in _STRINGS:
        values[name] = pa.concat_arrays([table[name].combine_chunks(), pa.array([""], type=pa.string())])
    return ResolutionIndex(
        release=int(meta["release"]),
        namespace=str(meta["namespace"]),
        keys=keys,
        hashes=pd.Index(table["hash"].to_numpy()),  # as computed by hash_keys when the index was built
        namespaces=list(meta["namespaces"]),
        **values,
    )


def _not_found_code() -> int:
    from ._vocab import REASON_CODE

    return REASON_CODE["not_found"]
