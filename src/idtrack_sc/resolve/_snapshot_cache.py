"""The resolver's per-snapshot caches: tables, graphs and indexes derived from one snapshot.

Everything the resolver derives from a :class:`~idtrack_sc.Snapshot` (valid names, anchors,
resolution indexes, history graphs, release masks) is a pure function of the snapshot and
its parameters, so it is computed once per snapshot and session and kept here, keyed by the
snapshot object. The snapshot is held weakly: its caches go when it does. A cached value must
therefore not hold a strong reference to its snapshot (it would keep it alive forever).

Resolution indexes are also kept on disk (:mod:`idtrack_sc.resolve._persist`); this cache is
the in-memory layer in front of that.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..snapshot import Snapshot

_CACHES: weakref.WeakKeyDictionary[Snapshot, dict[Any, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def snapshot_cache(snapshot: Snapshot) -> dict[Any, Any]:
    """The cache of values derived from ``snapshot``, keyed by what derived them (one per snapshot)."""
    with _LOCK:
        cache = _CACHES.get(snapshot)
        if cache is None:
            cache = _CACHES[snapshot] = {}
    return cache
