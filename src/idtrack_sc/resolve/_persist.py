"""Keep resolution indexes on disk, so a new session does not build them again.

An index is a pure function of the snapshot file (its sha256), the target release and
namespace, and the resolver's code (the package version). It is stored as one Arrow IPC file
in ``<cache>/index/`` (see :func:`idtrack_sc._cache.cache_dir`), written atomically, with
a small JSON file beside it (``<name>.sha256.json``) holding the index file's own SHA-256
and size. The index records the full SHA-256 of the snapshot it was built from, its release
and namespace. On reading, all of these are verified; an index that fails (edited,
truncated, from another snapshot) is rebuilt with a warning, since a cache shared by a group
must not change answers. Any problem writing it only costs a rebuild next time. Set
``IDTRACK_SC_INDEX_CACHE=0`` to switch it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import __version__
from .._atomic import write_atomically
from .._cache import cache_dir, clean_stale_temporaries
from ._resolution_index import ResolutionIndex

if TYPE_CHECKING:
    from pathlib import Path

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

ENV_INDEX_CACHE = "IDTRACK_SC_INDEX_CACHE"
_FORMAT = 7
_ARRAYS = ("note", "query_namespace", "n_targets", "breakable", "reason", "found_first", "found_last", "retired_in")
_STRINGS = ("targets", "top", "genes", "symbol", "lost")


def _enabled() -> bool:
    return os.environ.get(ENV_INDEX_CACHE, "1").strip().lower() not in ("0", "false", "no", "off")


def index_path(
    snapshot: Snapshot, release: int, namespace: str, anchor: int | None = None, min_evidence: str = "medium"
) -> Path | None:
    """Where the index of ``snapshot`` for ``release`` and ``namespace`` is kept, if anywhere.

    ``anchor``: the release whose meaning names are read in, when not ``release``;
    ``min_evidence``: the weakest tier of inferred history links followed.
    """
    if snapshot.path is None or not _enabled():
        return None
    safe_ns = "".join(c if c.isalnum() or c in "-_" else "_" for c in namespace)
    reread = "" if anchor is None or int(anchor) == release else f"-a{int(anchor)}"
    name = f"{snapshot.sha256[:24]}-{release}{reread}-{safe_ns}-{min_evidence}-{__version__}-f{_FORMAT}.arrow"
    return cache_dir() / "index" / name


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256.json")


def save_index(index: ResolutionIndex, path: Path, snapshot_sha256: str) -> None:
    """Write an index and its checksum file atomically; failures are logged and ignored."""
    n = len(index.keys)
    columns = {"key": index.keys, "hash": pa.array(index.hashes.to_numpy())}
    for name in _ARRAYS:
        columns[name] = pa.array(getattr(index, name)[:n])
    for name in _STRINGS:
        columns[name] = getattr(index, name).slice(0, n)
    meta = {
        "namespaces": index.namespaces,
        "release": index.release,
        "namespace": index.namespace,
        "anchor_release": index.anchor_release,
        "snapshot_sha256": snapshot_sha256,
        "version": __version__,
    }
    table = pa.table(columns).replace_schema_metadata({"idtrack_sc": json.dumps(meta)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue()
    check = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": data.size}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(path.parent)
        write_atomically(path, lambda fh: fh.write(data))
        write_atomically(_sidecar(path), lambda fh: fh.write(json.dumps(check).encode()))
    except OSError as err:
        logger.debug("could not keep the resolution index in %s: %s", path, err)


def _verify(
    path: Path, snapshot_sha256: str, release: int, namespace: str, anchor: int | None = None
) -> tuple[pa.Table | None, str]:
    """The index table if the file is intact and belongs to this snapshot, else why not."""
    try:
        check = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        expected, size = str(check["sha256"]), int(check["bytes"])
    except FileNotFoundError:
        return None, "its checksum file is missing"
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"its checksum file is unreadable ({err})"
    try:
        data = path.read_bytes()
    except OSError as err:
        return None, f"it is unreadable ({err})"
    if len(data) != size:
        return None, f"it has {len(data)} bytes instead of {size} (truncated or replaced)"
    if hashlib.sha256(data).hexdigest() != expected:
        return None, "its content does not match its SHA-256 (edited or damaged)"
    try:
        table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
        meta = json.loads(table.schema.metadata[b"idtrack_sc"])
    except (OSError, pa.ArrowInvalid, KeyError, ValueError, TypeError) as err:
        return None, f"it is not a readable index ({err})"
    if meta.get("snapshot_sha256") != snapshot_sha256:
        return None, "it was built from another snapshot file"
    if meta.get("release") != release or meta.get("namespace") != namespace or meta.get("version") != __version__:
        return None, "it was built for another release, namespace or package version"
    if meta.get("anchor_release", release) != (release if anchor is None else anchor):
        return None, "it reads names in the meaning of another release"
    missing = [c for c in ("key", "hash", *_ARRAYS, *_STRINGS) if c not in table.column_names]
    if missing:
        return None, f"it lacks columns {missing}"
    return table, ""


def load_index(
    path: Path, snapshot_sha256: str, release: int, namespace: str, anchor: int | None = None
) -> ResolutionIndex | None:
    """Read and verify an index written by :func:`save_index`.

    ``None`` if there is none; ``None`` with a warning if there is one that fails
    verification (it is then rebuilt and replaced by the caller).
    """
    if not path.is_file():
        return None
    table, problem = _verify(path, snapshot_sha256, release, namespace, anchor)
    if table is None:
        warnings.warn(
            f"Ignoring the cached resolution index {path}: {problem}. It is rebuilt from the snapshot.",
            UserWarning,
            stacklevel=4,
        )
        logger.warning("ignoring resolution index %s: %s; rebuilding it", path, problem)
        return None
    meta = json.loads(table.schema.metadata[b"idtrack_sc"])
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
        anchor_release=meta.get("anchor_release"),
        **values,
    )


def _not_found_code() -> int:
    from ._vocab import REASON_CODE

    return REASON_CODE["not_found"]
