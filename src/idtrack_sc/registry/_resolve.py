"""One place that turns what a user passes as ``snapshot=`` / ``organism=`` into a Snapshot.

Every caller (``convert``, ``pp``, the compatibility layer, the command line) goes through
:func:`resolve_snapshot`, so "human", "default", a path and a :class:`~idtrack_sc.Snapshot`
mean the same everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from idtrack_sc.snapshot import AmbiguousOrganismError, Snapshot, resolve_organism

from ._registry import _cache_dir, _fetch_file, _load_once, _mirror, entry_by_checksum, select_entry

if TYPE_CHECKING:
    from collections.abc import Iterable

    SnapshotLike = Snapshot | str | os.PathLike

#: Names that select the small 860-gene human subset embedded for demos and quick tests.
EMBEDDED_NAMES = ("default", "embedded", "demo")


def _looks_like_path(name: str) -> bool:
    return os.sep in name or "/" in name or name.endswith((".zip", ".idtrack"))


def _is_organism(name: str) -> bool:
    try:
        resolve_organism(name)
    except AmbiguousOrganismError:  # an organism name, but of several: say so
        raise
    except ValueError:
        return False
    return True


def _from_registry(organism: str, **registry_kw) -> Snapshot:
    if organism.strip().lower().startswith("sha256:"):
        entry = entry_by_checksum(organism, registry=registry_kw.get("registry"))
    else:
        entry = select_entry(organism, None, registry=registry_kw.get("registry"))
    path = _fetch_file(
        entry,
        cache=_cache_dir(registry_kw.get("cache_dir")),
        mirror=_mirror(registry_kw.get("mirror")),
        progressbar=registry_kw.get("progressbar", True),
    )
    return _load_once(path)


def resolve_snapshot(
    snapshot: SnapshotLike | None = None,
    organism: str | int | None = None,
    *,
    registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    mirror: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    progressbar: bool = True,
) -> Snapshot:
    """The snapshot a ``snapshot=`` / ``organism=`` pair stands for.

    Parameters
    ----------
    snapshot
        A :class:`~idtrack_sc.Snapshot`; a snapshot file; an organism name (``"human"``,
        ``"mouse"``, ``"homo_sapiens"``, …) for that organism's newest snapshot in the
        registry (the snapshots of the 14 organisms CELLxGENE pins ship inside the package, so
        these work offline); ``"sha256:<hex>"`` for the registered file with that checksum (this pins a
        snapshot: the shipped one even when your registry replaces it, or yours); or
        ``"default"`` for the small human subset embedded for demos and tests.
    organism
        With ``snapshot=None``: the organism whose newest registered snapshot to use. With a
        snapshot: checked against it.
    registry, mirror, cache_dir, progressbar
        As in :func:`~idtrack_sc.fetch_snapshot`, for snapshots that come from the registry.

    Returns
    -------
    The snapshot. Snapshots read from a file are kept for the session, so asking again for the
    same organism or file returns the same object (and its resolution indexes).

    Raises
    ------
    ValueError
        If neither argument is given, the organism is unknown or has no registered snapshot
        (the message lists what exists and how to build one), or the two disagree.
    """
    registry_kw = {"registry": registry, "mirror": mirror, "cache_dir": cache_dir, "progressbar": progressbar}
    if isinstance(snapshot, Snapshot):
        snap = snapshot
    elif isinstance(snapshot, str) and snapshot.strip().lower() in EMBEDDED_NAMES:
        from idtrack_sc.datasets import default_snapshot

        snap = default_snapshot()
    elif isinstance(snapshot, str) and (
        snapshot.strip().lower().startswith("sha256:") or (not Path(snapshot).exists() and _is_organism(snapshot))
    ):
        snap = _from_registry(snapshot, **registry_kw)
    elif isinstance(snapshot, str | os.PathLike):
        path = Path(snapshot).expanduser()
        if not path.exists() and (not isinstance(snapshot, str) or _looks_like_path(snapshot)):
            msg = f"Snapshot file {path} does not exist."
            raise FileNotFoundError(msg)
        if not path.exists():
            msg = (
                f"Snapshot {os.fspath(snapshot)!r} is neither a file nor an organism name. Pass a snapshot file, "
                "an organism ('human', 'mouse', …), or 'default' for the small embedded human subset."
            )
            raise ValueError(msg)
        snap = _load_once(path)
    elif snapshot is None and organism is not None:
        snap = _from_registry(str(organism), **registry_kw)
    elif snapshot is None:
        msg = (
            "Give snapshot= (a Snapshot, a snapshot file, an organism such as 'human', or 'default' for the "
            "embedded demo subset) or organism= ('human', 'mouse', …)."
        )
        raise ValueError(msg)
    else:
        msg = f"snapshot must be a Snapshot, a path, an organism name or 'default', got {type(snapshot).__name__}."
        raise TypeError(msg)
    if organism is not None and resolve_organism(str(organism)) != snap.organism:
        msg = f"organism={organism!r} does not match the snapshot, which is for {snap.organism}."
        raise ValueError(msg)
    return snap
