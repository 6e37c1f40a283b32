"""The resolver's per-snapshot caches: tables, graphs and indexes derived from one snapshot.

Everything the resolver derives from a :class:`~idtrack_sc.Snapshot` (the key index, valid
names, the keys resolved so far per target, history graphs, release masks) is a pure function of the snapshot and
its parameters, so it is computed once per snapshot and session and kept here, keyed by the
snapshot object. The snapshot is held weakly: its caches go when it does. A cached value must
therefore not hold a strong reference to its snapshot (it would keep it alive forever).

Nothing of it is kept on disk: answers come from the snapshot file alone.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..snapshot import Snapshot

_T = TypeVar("_T")

_CACHES: weakref.WeakKeyDictionary[Snapshot, dict[Any, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def snapshot_cache(snapshot: Snapshot) -> dict[Any, Any]:
    """The cache of values derived from ``snapshot``, keyed by what derived them (one per snapshot)."""
    with _LOCK:
        cache = _CACHES.get(snapshot)
        if cache is None:
            cache = _CACHES[snapshot] = {}
    return cache


def cached_per_snapshot(func: Callable[..., _T]) -> Callable[..., _T]:
    """Compute ``func(snapshot, *args)`` once per snapshot and arguments (defaults filled in).

    The arguments after the snapshot must be hashable; the result is shared by every caller,
    so callers must not modify it.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(snapshot: Snapshot, *args: Any, **kwargs: Any) -> _T:
        bound = signature.bind(snapshot, *args, **kwargs)
        bound.apply_defaults()
        key = (func.__qualname__, *list(bound.arguments.values())[1:])
        cache = snapshot_cache(snapshot)
        if key not in cache:
            cache[key] = func(snapshot, *args, **kwargs)
        return cache[key]

    return wrapper
