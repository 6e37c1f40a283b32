"""Data shipped with idtrack-sc: the small demo snapshot.

The full snapshots of the 14 organisms CELLxGENE pins ship with the package too (``organism="human"``,
:func:`idtrack_sc.fetch_snapshot`). Beside them, one small, real subset makes examples,
tutorials and tests fast: ``homo_sapiens-default.idtrack.zip``, every row of 875 human genes
taken unchanged from the full human snapshot built from public tables (the GRCh37 gene set
as release 75, Ensembl releases 84, 93, 100, 104, 110 and 114, plus the HGNC complete set). The genes are those the bundled examples
need: the toy datasets' genes (TP53, BRCA1, BRCA2, BRAF, KRAS), every gene of scanpy's
``pbmc68k_reduced`` and a curated set of renamed, moved, retired, new and ambiguous symbols.
Its manifest records the sources and how the subset was chosen (``manifest["subset"]``).

It is a subset: identifiers outside it resolve as unknown. For real data, use the full
snapshot of the organism (``organism="human"``, :func:`idtrack_sc.fetch_snapshot`, or build
one with :mod:`idtrack_sc.builders`).

.. autosummary::
   :toctree: generated

   default_snapshot_path
   default_snapshot
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from idtrack_sc.snapshot import load_snapshot

if TYPE_CHECKING:
    from idtrack_sc.snapshot import Snapshot

__all__ = ["default_snapshot", "default_snapshot_path"]

#: File name of the embedded snapshot inside ``idtrack_sc/data``.
DEFAULT_SNAPSHOT_FILE = "homo_sapiens-default.idtrack.zip"


@lru_cache(maxsize=1)
def default_snapshot_path() -> Path:
    """Path of the embedded default human snapshot file.

    Returns
    -------
    The file inside the installed package (or, if the package is imported from a zip
    archive, a copy of it in the temporary directory).

    Examples
    --------
    >>> from idtrack_sc import datasets
    >>> datasets.default_snapshot_path().name
    'homo_sapiens-default.idtrack.zip'
    """
    resource = files("idtrack_sc").joinpath("data", DEFAULT_SNAPSHOT_FILE)
    if isinstance(resource, Path):
        return resource
    # imported from a zip archive: the file needs a real path for the ZIP reader
    copy = Path(tempfile.mkdtemp(prefix="idtrack-sc-")) / DEFAULT_SNAPSHOT_FILE
    copy.write_bytes(resource.read_bytes())
    return copy


@lru_cache(maxsize=1)
def default_snapshot() -> Snapshot:
    """Load the embedded default human snapshot.

    Tables are read on first use. The same :class:`~idtrack_sc.Snapshot` object is returned
    on every call, so indexes the resolver builds on it are reused; do not modify it.

    Returns
    -------
    A subset of the real human snapshot covering the GRCh37 gene set (as 75) and Ensembl
    releases 84-114; see the module description for which genes it holds.

    Examples
    --------
    >>> from idtrack_sc import datasets
    >>> snap = datasets.default_snapshot()
    >>> snap.releases
    (75, 84, 93, 100, 104, 110, 114)
    >>> snap.manifest["subset"]["genes"]
    875
    """
    return load_snapshot(default_snapshot_path())
