"""The in-memory path: harmonized datasets joined by :func:`anndata.concat`."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from anndata import AnnData

    from ._inputs import _Dataset


def _concat_in_memory(
    items: Iterator[tuple[_Dataset, AnnData, dict[str, Any]]], *, key_added: str, copy_inputs: bool, **concat_kwargs
) -> AnnData:
    import anndata as ad

    adatas, restore = [], []
    for ds, adata, rec in items:
        adatas.append(adata)
        if not copy_inputs and adata is ds.source:
            restore.append((adata, rec))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not unique.*")
        result = ad.concat(adatas, **concat_kwargs)
    for adata, rec in restore:  # in-place inputs keep their own harmonization record
        adata.uns[key_added] = rec
    return result
