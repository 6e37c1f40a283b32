"""The layout of the harmonization record: ``var`` columns, ``uns`` keys and the outcome vocabulary.

Everything here is a fact shared by the writer (:mod:`idtrack_sc.pp`) and every reader
(:mod:`idtrack_sc.get`, :mod:`idtrack_sc.pl`, the compatibility layer, the command line).
The outcome and reason vocabulary is the resolver's (:mod:`idtrack_sc.resolve`), not a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..resolve import REASON_OUTCOMES

if TYPE_CHECKING:
    from anndata import AnnData

#: Outcomes in the order they are reported: mapped, ambiguous, failed.
OUTCOME_ORDER = ("1:1", "1:n", "1:0")
#: Reasons that only occur with outcome ``1:0``; every other reason is a success (``1:1``/``1:n``).
FAILURE_REASONS = tuple(reason for reason, outcome in REASON_OUTCOMES.items() if outcome == "1:0")
#: Reason written for each copy of an ambiguous feature kept under every candidate (``ambiguous="all"``).
AMBIGUOUS_EXPANDED = "ambiguous_expanded"
#: Reason of a feature whose two identifier columns name different genes, kept as a tie of both
#: (``pair_conflict="tie"`` of :func:`~idtrack_sc.pp.harmonize_var_names`; outcome ``1:n``).
PAIR_CONFLICT = "pair_conflict"
#: Appended by :func:`~idtrack_sc.concat_harmonized` to the name of a feature kept unmapped whose
#: identifier is a valid target name of another gene (``SOD2`` read in release 75 names a retired
#: gene; today's ``SOD2`` is another): the two are kept as separate features.
KEPT_APART_SUFFIX = "~unmapped"

#: pandas' default dtype for text (``str`` under pandas 3, ``object`` before): what ``read_h5ad`` returns.
TEXT = pd.Series(["x"]).dtype
#: Categories of ``var['{key_added}_outcome']``.
OUTCOMES = pd.Index(list(OUTCOME_ORDER), dtype=TEXT)

#: Keys of a :func:`~idtrack_sc.concat_harmonized` record beyond those of every record.
CONCAT_KEYS = (
    "datasets",
    "sources",
    "provenance",
    "failed",
    "failed_consistent",
    "ambiguous",
    "collapsed",
    "n_vars",
    "kept_apart",
    "not_concatenated",
)


def var_columns(key_added: str) -> dict[str, str]:
    """Names of the ``var`` columns written by :func:`~idtrack_sc.pp.harmonize_var_names`."""
    return {
        "original": f"{key_added}_original",
        "outcome": f"{key_added}_outcome",
        "reason": f"{key_added}_reason",
        "targets": f"{key_added}_targets",
        "gene_id": f"{key_added}_gene_id",
        "n_merged": f"{key_added}_n_merged",
        "pair": f"{key_added}_pair",
        "pair_gene_id": f"{key_added}_pair_gene_id",
        "original_var_name": f"{key_added}_original_var_name",
    }


def n_datasets_column(key_added: str) -> str:
    """The ``var`` column of a :func:`~idtrack_sc.concat_harmonized` result counting the datasets with the feature."""
    return f"{key_added}_n_datasets"


def presence_key(key_added: str) -> str:
    """The ``varm`` key of a :func:`~idtrack_sc.concat_harmonized` result's presence matrix.

    Features × datasets, boolean, one column per dataset (named by :func:`uns_key`): whether
    the dataset measured the feature. An outer join fills a feature a dataset lacks with
    zeros; this matrix tells those apart from measured zeros.
    """
    return f"{key_added}_presence"


def is_harmonized(adata: AnnData, key_added: str = "idtrack") -> bool:
    """Whether ``adata`` was already harmonized under ``key_added``."""
    return key_added in adata.uns and var_columns(key_added)["original"] in adata.var.columns


def uns_key(name: object) -> str:
    """A name usable as an ``uns`` key: ``/`` (a group separator in ``.h5ad``/zarr) becomes ``_``, empty ``_``.

    Dataset names of a concatenation are stored under this key in the record's
    ``provenance``, ``failed`` and ``collapsed`` mappings.
    """
    return str(name).replace("/", "_") or "_"
