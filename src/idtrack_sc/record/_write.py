"""The one writer of ``uns[key_added]``: what was done, with which snapshot, in which environment.

Records hold only strings, numbers, booleans, arrays and nested dicts of them, so they
survive ``write_h5ad``/``read_h5ad``, zarr and ``.h5mu`` round trips (no ``/`` in keys, no
lists of dicts, no ``None``: missing values are written as empty strings).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from .._provenance import environment_report, package_versions
from ._schema import uns_key

if TYPE_CHECKING:
    from ..snapshot import Snapshot


def clean(value: Any) -> Any:
    """Make a value storable in ``uns``: ``None`` -> ``""``, tuples -> lists, keys without ``/``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {uns_key(k): clean(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value  # arrays are stored as they are
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value.item()
    return value


def snapshot_record(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's identity for a record."""
    return clean(snapshot.identity())


def make_record(
    *, function: str, params: dict[str, Any], snapshot: Snapshot, counts: dict[str, Any], environment: bool = True
) -> dict[str, Any]:
    """A record for ``uns[key_added]``: function, parameters, snapshot identity, counts, versions, environment.

    :func:`~idtrack_sc.pp.harmonize_var_names` adds what happened to the dropped features and
    how names were read; :func:`~idtrack_sc.concat_harmonized` adds the per-dataset records and
    diagnostics (:data:`CONCAT_KEYS`).
    """
    rec = {
        "function": function,
        "params": clean(params),
        "snapshot": snapshot_record(snapshot),
        "counts": clean(counts),
        "versions": package_versions(),
        "date": dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if environment:
        rec["environment"] = environment_report()
    return rec
