"""Turn the ``snapshot=`` / ``organism=`` arguments of the single-cell layer into a Snapshot.

The rules live in :func:`idtrack_sc.registry.resolve_snapshot`, shared by every caller.
"""

from __future__ import annotations

from ..registry import EMBEDDED_NAMES, resolve_snapshot

__all__ = ["EMBEDDED_NAMES", "resolve_snapshot"]
