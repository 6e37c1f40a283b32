"""The in-memory path: harmonized datasets joined by :func:`anndata.concat`."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ..._userwarn import attributed_to_caller

if TYPE_CHECKING:
    from collections.abc import Iterator

    from anndata import AnnData

    from ._inputs import _Dataset


def _concat_in_memory(items: Iterator[tuple[_Dataset, AnnData, dict[str, Any]]], **concat_kwargs) -> AnnData:
    """The harmonized datasets of ``items`` joined by :func:`anndata.concat` (inputs are never the user's objects)."""
    import anndata as ad

    adatas = [adata for _ds, adata, _rec in items]
    with attributed_to_caller():  # anndata's warnings point at the user's line, not this one
        warnings.filterwarnings("ignore", message=".*not unique.*")
        return ad.concat(adatas, **concat_kwargs)
