"""Provenance records for ``adata.uns``: what was done, with which snapshot, in which environment.

Records hold only strings, numbers, booleans and nested dicts of them, so they survive
``write_h5ad``/``read_h5ad``, zarr and ``.h5mu`` round trips (no ``/`` in keys, no lists of
dicts, no ``None``: missing values are written as empty strings).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import platform
import sys
import warnings
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .snapshot import Snapshot

#: Packages whose versions every record lists.
TRACKED_PACKAGES = ("idtrack-sc", "anndata", "mudata", "scanpy", "pandas", "numpy", "scipy", "pyarrow", "pooch")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the result."""
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name.replace("-", "_")] = version(name)
        except PackageNotFoundError:
            out[name.replace("-", "_")] = ""
    return out


@lru_cache(maxsize=1)
def environment_report() -> str:
    """A session-info report of the Python environment (text, cached per process)."""
    import session_info

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session_info.show(html=False, dependencies=True, na=False, std_lib=False, cpu=True)
        text = buffer.getvalue().strip()
    except Exception as err:  # noqa: BLE001 - a report must never break the analysis
        text = f"session-info failed: {err!r}"
    header = f"Python {sys.version.split()[0]} on {platform.platform()}"
    return f"{header}\n{text}"


def clean(value: Any) -> Any:
    """Make a value storable in ``uns``: ``None`` -> ``""``, tuples -> lists, keys without ``/``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {str(k).replace("/", "_"): clean(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value  # arrays are stored as they are
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value.item()
    return value


def snapshot_record(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's identity for a provenance record."""
    return clean(snapshot.identity())


def record(
    *, function: str, params: dict[str, Any], snapshot: Snapshot, counts: dict[str, Any], environment: bool = True
) -> dict[str, Any]:
    """A provenance record: function, parameters, snapshot identity, counts, versions, environment."""
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
