"""Turn the ``snapshot=`` / ``organism=`` arguments of the single-cell layer into a Snapshot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..snapshot import Snapshot, load_snapshot, resolve_organism

if TYPE_CHECKING:
    SnapshotLike = Snapshot | str | os.PathLike

#: Names that select the small snapshot embedded in the package (only when asked for by name).
EMBEDDED_NAMES = ("default", "embedded")


def resolve_snapshot(snapshot: SnapshotLike | None, organism: str | None) -> Snapshot:
    """The snapshot to use, from a Snapshot, a file, the embedded name, or an organism.

    ``organism=`` alone looks for the newest cached (or downloadable) snapshot of that
    organism in the registry; the embedded subset is never used as a silent fallback.
    """
    if isinstance(snapshot, Snapshot):
        snap = snapshot
    elif isinstance(snapshot, str) and snapshot.lower() in EMBEDDED_NAMES:
        from ..datasets import default_snapshot

        snap = default_snapshot()
    elif isinstance(snapshot, str | os.PathLike):
        snap = load_snapshot(Path(snapshot))
    elif snapshot is None and organism is not None:
        from ..registry import fetch_snapshot

        try:
            snap = fetch_snapshot(organism)
        except (OSError, ValueError) as err:
            msg = (
                f"No snapshot for organism {organism!r} is cached, and none could be fetched ({err}). "
                "Fetch one with `idtrack-sc snapshot fetch ORGANISM` (or idtrack_sc.fetch_snapshot) on a "
                "machine with network access, build one with `idtrack-sc snapshot build`, or pass "
                "snapshot=PATH. For demos and tests, snapshot='default' selects the small embedded human subset."
            )
            raise ValueError(msg) from err
    elif snapshot is None:
        msg = "Give snapshot= (a Snapshot, a snapshot file, or 'default' for the embedded demo subset) or organism=."
        raise ValueError(msg)
    else:
        msg = f"snapshot must be a Snapshot, a path or 'default', got {type(snapshot).__name__}."
        raise TypeError(msg)
    if organism is not None and resolve_organism(organism) != snap.organism:
        msg = f"organism={organism!r} does not match the snapshot, which is for {snap.organism}."
        raise ValueError(msg)
    return snap
