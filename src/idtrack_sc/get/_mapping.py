"""``mapping_table``: what became of every original identifier, as one tidy table."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..record import AMBIGUOUS_EXPANDED, FAILURE_REASONS, OUTCOME_ORDER, as_str, collect, var_columns

if TYPE_CHECKING:
    from collections.abc import Mapping

    from anndata import AnnData
    from mudata import MuData

    from ..record import Dataset

logger = logging.getLogger(__name__)

#: Columns of :func:`mapping_table` (``dataset`` comes first when there are several datasets).
MAPPING_COLUMNS = ("original", "name", "kept", "outcome", "reason", "targets", "gene_id", "symbol", "n_merged")
#: ``dataset`` of the rows a concat result's merged ``var`` gives.
MERGED = "(merged)"
#: Outcome categories of the table: the resolver's three and ``dropped`` when it is not known.
MAPPING_OUTCOMES = (*OUTCOME_ORDER, "dropped")


def _dropped_outcome(record: dict[str, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and reason of dropped identifiers: recorded, implied by the policies, or unknown."""
    outcomes = record.get("dropped_outcomes")
    reasons = record.get("dropped_reasons")
    if outcomes is not None and len(outcomes) == n:
        out = as_str(outcomes)
        why = as_str(reasons) if reasons is not None and len(reasons) == n else np.full(n, "", dtype=object)
        return out, why
    params = record.get("params", {}) or {}
    ambiguous, unmapped = params.get("ambiguous"), params.get("unmapped")
    # which outcomes a policy combination can drop: one outcome means we know it
    dropped_kinds = set()
    if ambiguous == "drop":
        dropped_kinds.add("1:n")
    if unmapped == "drop":
        dropped_kinds.add("1:0")
        if ambiguous == "best":
            dropped_kinds.add("1:n")  # ties the rule could not break are treated as unmapped
    counts = record.get("counts", {}) or {}
    by_outcome = counts.get("outcome", {}) or {}
    # an outcome no feature had cannot have been dropped
    dropped_kinds = {k for k in dropped_kinds if int(by_outcome.get(k, 1))}
    outcome = dropped_kinds.pop() if len(dropped_kinds) == 1 else "dropped"
    reason = ""
    if outcome == "1:0" and not int(counts.get("kept_unmapped", 1)):
        # every failed feature was dropped: with a single failure reason, it is theirs
        failing = {r for r, k in (counts.get("reason", {}) or {}).items() if r in FAILURE_REASONS and int(k)}
        if len(failing) == 1:
            reason = failing.pop()
    return np.full(n, outcome, dtype=object), np.full(n, reason, dtype=object)


def _dataset_table(ds: Dataset, key: str) -> pd.DataFrame:
    record = ds.record
    symbol_key = str(ds.params.get("symbol_key", "symbol") or "symbol")
    parts = []
    if ds.var is not None:
        cols = var_columns(key)
        var = ds.var
        n = len(var)
        originals = as_str(var[cols["original"]])

        def column(name: str, default: Any = "") -> np.ndarray:
            return as_str(var[name]) if name in var.columns else np.full(n, default, dtype=object)

        n_merged = (
            pd.to_numeric(var[cols["n_merged"]], errors="coerce").fillna(1).astype(np.int64).to_numpy()
            if cols["n_merged"] in var.columns
            else np.ones(n, dtype=np.int64)
        )
        split = [o.split("|") if o else [""] for o in originals]
        repeats = np.array([len(s) for s in split], dtype=np.int64)
        rows = np.repeat(np.arange(n), repeats)
        reason = column(cols["reason"])[rows]
        if cols["original_reason"] in var.columns:  # each original's own reason, where recorded
            own = [r.split("|") for r in as_str(var[cols["original_reason"]])]
            own_flat = np.array(
                [w for s, o in zip(split, own, strict=True) for w in (o if len(o) == len(s) else [""] * len(s))],
                dtype=object,
            )
            expanded = reason == AMBIGUOUS_EXPANDED
            reason = np.where((own_flat != "") & ~expanded, own_flat, reason)
        parts.append(
            pd.DataFrame(
                {
                    "original": np.array([o for s in split for o in s], dtype=object),
                    "name": as_str(var.index)[rows],
                    "kept": np.ones(len(rows), dtype=bool),
                    "outcome": column(cols["outcome"])[rows],
                    "reason": reason,
                    "targets": column(cols["targets"])[rows],
                    "gene_id": column(cols["gene_id"])[rows],
                    "symbol": column(symbol_key)[rows],
                    "n_merged": n_merged[rows],
                }
            )
        )
    dropped = record.get("dropped_ids")
    dropped = as_str(dropped) if dropped is not None else np.array([], dtype=object)
    if len(dropped):
        outcome, reason = _dropped_outcome(record, len(dropped))
        empty = np.full(len(dropped), "", dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "original": dropped,
                    "name": empty,
                    "kept": np.zeros(len(dropped), dtype=bool),
                    "outcome": outcome,
                    "reason": reason,
                    "targets": empty,
                    "gene_id": empty,
                    "symbol": empty,
                    "n_merged": np.zeros(len(dropped), dtype=np.int64),
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: [] for c in MAPPING_COLUMNS})
    return pd.concat(parts, ignore_index=True)


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
        table = _dataset_table(ds, key)
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
    frames = [_dataset_table(merged, key).assign(dataset=MERGED)]
    for ds in found.datasets:
        ds.var = None
        frames.append(_dataset_table(ds, key).assign(dataset=ds.name))
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
