"""``mapping_table``: what became of every original identifier, as one tidy table."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..record import MAPPING_COLUMNS, MAPPING_OUTCOMES, MERGED, collect, identifier_table, var_columns

if TYPE_CHECKING:
    from collections.abc import Mapping

    from anndata import AnnData
    from mudata import MuData


logger = logging.getLogger(__name__)


def mapping_table(data: AnnData | MuData | Mapping[str, AnnData], *, key: str = "idtrack") -> pd.DataFrame:
    """What became of every original identifier: one row per original identifier and new name.

    Features merged under one name (``var['{key}_original']`` is ``|``-joined) are split into
    one row per original identifier; identifiers dropped by the policies
    (``uns[key]['dropped_ids']``) are added with ``kept=False``.

    Parameters
    ----------
    data
        A harmonized AnnData (:func:`~idtrack_sc.pp.harmonize_var_names`), a MuData with
        harmonized modalities, a result of :func:`~idtrack_sc.concat_harmonized`, or a
        mapping of dataset names to harmonized AnnDatas.
    key
        The ``key_added`` used when harmonizing.

    Returns
    -------
    A frame with the columns

    ``dataset``
        Dataset (or modality) name; only when there are several datasets. For a concat
        result, the features of the merged ``var`` are listed under ``"(merged)"`` and each
        dataset's dropped identifiers under its name.
    ``original``
        The identifier as the data named it.
    ``name``
        The new ``var_name`` (``""`` for dropped identifiers).
    ``kept``
        Whether the identifier's feature is in the result.
    ``outcome``
        ``"1:1"``, ``"1:n"`` or ``"1:0"``; for dropped identifiers the outcome recorded in
        ``uns[key]['dropped_outcomes']`` if present, else the one the policies and counts
        imply, or ``"dropped"`` when several were possible.
    ``reason``
        See :data:`idtrack_sc.resolve.REASONS`; ``ambiguous_expanded`` for copies made by
        ``ambiguous="all"``. Each original identifier's own reason, also within a merged
        feature (``TP53`` ``unchanged``, ``ENSG00000141510.19`` ``version_stripped``); for
        results written before ``var['{key}_original_reason']`` existed, the reason of the
        merged feature's first member. ``""`` when not recorded.
    ``targets``, ``gene_id``, ``symbol``
        All candidates (``|``-joined), the Ensembl gene and the display symbol.
    ``n_merged``
        How many original features were merged into the new one (0 for dropped).

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> import idtrack_sc as its
    >>> adata = ad.AnnData(np.ones((2, 3)), var=pd.DataFrame(index=["TP53", "ENSG00000141510", "NOT_A_GENE"]))
    >>> its.pp.harmonize_var_names(adata, snapshot="default", to="symbol")
    >>> its.get.mapping_table(adata)[["original", "name", "outcome", "reason", "n_merged"]]
              original        name outcome     reason  n_merged
    0             TP53        TP53     1:1  unchanged         2
    1  ENSG00000141510        TP53     1:1  unchanged         2
    2       NOT_A_GENE  NOT_A_GENE     1:0  not_found         1
    """
    found = collect(data, key)
    if found.kind == "concat" and all(ds.var is None for ds in found.datasets):
        return _concat_table(found, data, key)
    frames = []
    for ds in found.datasets:
        table = identifier_table(ds, key)
        if found.several:
            table.insert(0, "dataset", ds.name)
        frames.append(table)
    return _finish(pd.concat(frames, ignore_index=True), several=found.several)


def _concat_table(found: Any, data: AnnData, key: str) -> pd.DataFrame:
    """A concat result without per-dataset ``var``: the merged ``var`` plus every dataset's dropped ids."""
    from ..record import Dataset as _Dataset

    merged = _Dataset(
        name="", record=found.record, var=data.var if var_columns(key)["original"] in data.var.columns else None
    )
    merged.record = {**found.record, "dropped_ids": None}
    frames = [identifier_table(merged, key).assign(dataset=MERGED)]
    for ds in found.datasets:
        ds.var = None
        frames.append(identifier_table(ds, key).assign(dataset=ds.name))
    table = pd.concat(frames, ignore_index=True)
    table = table[["dataset", *MAPPING_COLUMNS]]
    return _finish(table, several=True)


def _finish(table: pd.DataFrame, *, several: bool) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    table["outcome"] = pd.Categorical(table["outcome"].astype(object), categories=list(MAPPING_OUTCOMES))
    table["kept"] = table["kept"].astype(bool)
    table["n_merged"] = table["n_merged"].astype(np.int64)
    if several:
        table["dataset"] = pd.Categorical(table["dataset"].astype(object), categories=pd.unique(table["dataset"]))
    return table
