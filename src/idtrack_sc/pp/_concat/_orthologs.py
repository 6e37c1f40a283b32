"""Datasets of other organisms in :func:`~idtrack_sc.concat_harmonized`: their orthologs first.

A preprocessing step before the engines: each dataset named in ``dataset_organisms`` is
converted (on a copy) to the common organism's orthologs by
:func:`~idtrack_sc.pp.convert_orthologs`, in the target namespace and release of the
concatenation; the harmonization that follows then finds common-organism identifiers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from anndata import AnnData, read_h5ad

from .._orthologs import convert_orthologs, resolve_pair
from ._inputs import _Dataset

if TYPE_CHECKING:
    from ...snapshot import Snapshot


def ortholog_key(key_added: str) -> str:
    """Where each converted dataset's ortholog record and ``var`` columns go."""
    return f"{key_added}_orthologs"


def to_common_organism(
    datasets: list[_Dataset],
    dataset_organisms: Mapping[str, Any] | None,
    *,
    snap: Snapshot,
    release: int,
    to: str,
    ambiguous: str,
    duplicates: str,
    key_added: str,
) -> tuple[list[_Dataset], dict[str, dict[str, Any]]]:
    """The datasets with those of other organisms converted to ``snap``'s organism; their ortholog records.

    Every pair is checked (``no_ortholog_source`` among them) before any dataset is converted.
    """
    if not dataset_organisms:
        return datasets, {}
    if not isinstance(dataset_organisms, Mapping):
        msg = "dataset_organisms must map dataset names to their organism (or snapshot), e.g. {'mouse_lung': 'mouse'}."
        raise TypeError(msg)
    names = {ds.name for ds in datasets}
    unknown = sorted(str(k) for k in dataset_organisms if str(k) not in names)
    if unknown:
        msg = f"dataset_organisms names datasets that are not given: {unknown}; the datasets are {sorted(names)}."
        raise ValueError(msg)
    wanted = {str(k): v for k, v in dataset_organisms.items()}
    sources = {}
    for name, own in wanted.items():  # every pair checked before any work
        taxon = isinstance(own, int) and not isinstance(own, bool)  # a taxonomy ID is no snapshot spec
        src, _, _, _ = resolve_pair(
            snapshot=None if taxon else own,  # an organism name, a file, "default", "sha256:…", a Snapshot
            organism=str(own) if taxon else None,
            to_organism=snap.organism,
            to_snapshot=snap,
            release=None,
            to_release=release,
        )
        sources[name] = src
    out, records = [], {}
    key = ortholog_key(key_added)
    for ds in datasets:
        if ds.name not in sources:
            out.append(ds)
            continue
        adata = ds.source if isinstance(ds.source, AnnData) else read_h5ad(ds.source)
        converted = convert_orthologs(
            adata,
            snapshot=sources[ds.name],
            to_organism=snap.organism,
            to_snapshot=snap,
            to_release=release,
            to=to,
            one_to_many="all" if ambiguous == "all" else "drop",
            many_to_one=duplicates,
            key_added=key,
            copy=True,
        )
        records[ds.name] = converted.uns.pop(key)
        for hint in ("organism", "species"):  # now the common organism's features
            converted.uns.pop(hint, None)
        out.append(_Dataset(ds.name, converted))
    return out, records
