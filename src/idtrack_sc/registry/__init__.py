"""Snapshot registry: fetch checksummed snapshots into a local cache, from the project or a mirror.

.. code-block:: python

    import idtrack_sc as its

    snap = its.fetch_snapshot("human")  # newest release in the registry
    its.registry.list_snapshots()  # what the registry knows, and what is cached

Environment variables: ``IDTRACK_SC_CACHE`` (cache folder), ``IDTRACK_SC_MIRROR`` (base URL
or folder replacing the registry's URLs), ``IDTRACK_SC_REGISTRY`` (your own registry
file(s), adding to or overriding the package's).
"""

from ._registry import (
    DEFAULT_BASE_URL,
    ENV_CACHE,
    ENV_MIRROR,
    ENV_REGISTRY,
    REGISTRY_FILE,
    RegistryEntry,
    SnapshotChecksumError,
    SnapshotDownloadError,
    SnapshotSizeError,
    fetch_snapshot,
    list_snapshots,
    load_registry,
    read_registry,
    registry_line,
    select_entry,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_CACHE",
    "ENV_MIRROR",
    "ENV_REGISTRY",
    "REGISTRY_FILE",
    "RegistryEntry",
    "SnapshotChecksumError",
    "SnapshotDownloadError",
    "SnapshotSizeError",
    "fetch_snapshot",
    "list_snapshots",
    "load_registry",
    "read_registry",
    "registry_line",
    "select_entry",
]
