"""idtrack-sc: reproducible gene identifier harmonization for single-cell data.

Every identifier is resolved through a versioned snapshot of the organism's identifier
history to a chosen Ensembl release and namespace, and every outcome is recorded with its
reason. Heavy submodules (``pp``, ``pl``, ``get``, the compatibility layer) load on first use.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("idtrack-sc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from ._requirements import check as _check_requirements

_check_requirements()

from .snapshot import Snapshot, load_snapshot, resolve_organism  # noqa: E402 - after the version check

_SUBMODULES = {"pp", "pl", "get", "report", "record", "datasets", "builders", "registry", "resolve", "snapshot"}
_LAZY = {
    "convert": ("resolve", "convert"),
    "convert_orthologs": ("resolve", "convert_orthologs"),
    "explain": ("resolve", "explain"),
    "history_graph": ("resolve", "history_graph"),
    "infer_release": ("resolve", "infer_release"),
    "fetch_snapshot": ("registry", "fetch_snapshot"),
    "concat_harmonized": ("pp", "concat_harmonized"),
    "API": ("compat", "API"),
    "HarmonizeFeatures": ("compat", "HarmonizeFeatures"),
}

__all__ = [
    "API",
    "HarmonizeFeatures",
    "Snapshot",
    "__version__",
    "concat_harmonized",
    "convert",
    "convert_orthologs",
    "explain",
    "fetch_snapshot",
    "history_graph",
    "infer_release",
    "load_snapshot",
    "builders",
    "datasets",
    "get",
    "pl",
    "pp",
    "record",
    "registry",
    "report",
    "resolve",
    "resolve_organism",
    "snapshot",
]


#: Classes the reference tool (idtrack) exports that have no counterpart here, and what to use.
_REFERENCE_ONLY = {
    "DatabaseManager": "API.get_database_manager(...) describes the snapshot in use; build snapshots with "
    "`idtrack-sc snapshot build` (idtrack_sc.builders)",
    "ConnectionBridge": "snapshots are built from published files, not database connections: idtrack_sc.builders",
    "DB": "the snapshot's tables (idtrack_sc.Snapshot) and idtrack_sc.resolve's vocabularies",
    "ExternalDatabases": "API.list_external_databases() and Snapshot.namespaces",
    "GraphMaker": "idtrack_sc.builders.build_snapshot builds a snapshot; idtrack_sc.history_graph shows it as a graph",
    "TheGraph": "idtrack_sc.history_graph(snapshot), also API.track.graph after API.build_graph",
    "Track": "API.track after API.build_graph (idtrack_sc.compat.Track)",
    "TrackTests": "API.track after API.build_graph (idtrack_sc.compat.Track)",
    "VerifyOrganism": "idtrack_sc.resolve_organism and API.resolve_organism",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    if name in _REFERENCE_ONLY:
        msg = f"idtrack_sc has no {name} (a class of the reference tool, idtrack); use {_REFERENCE_ONLY[name]}."
        raise AttributeError(msg)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
