"""Invariants of harmonize_var_names, checked with hypothesis on the embedded real snapshot.

Whatever the identifiers, policies and column order: counts are preserved when duplicates
are summed, every original identifier can be found in ``var`` or in the dropped-identifier
record, and the result does not depend on the order of the columns.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idtrack_sc as its
from idtrack_sc.pp import var_columns

COLS = var_columns("idtrack")
#: Real identifiers of the default snapshot that meet, split, fail or are ambiguous.
POOL = [
    "TP53", "p53", "LFS1", "ENSG00000141510", "ENSG00000141510.16", "BRCA2", "FANCD1", "ENSG00000139618",
    "MARCH1", "1-Mar", "MARCHF1", "SEPT2", "SEPTIN2", "P40", "TP63", "BRCA1", "KRAS", "NOT_A_REAL_GENE",
    "ERCC-00002", "CD3_TotalSeqB", "TBCE-1", "HGNC:11998", "GeneID:7157", "7157",
]  # fmt: skip

identifiers = st.lists(st.sampled_from(POOL), min_size=1, max_size=14, unique=True)
policies = st.fixed_dictionaries(
    {
        "to": st.sampled_from(["ensembl_gene", "symbol"]),
        "ambiguous": st.sampled_from(["best", "drop", "all"]),
        "unmapped": st.sampled_from(["keep", "drop"]),
        "duplicates": st.sampled_from(["sum", "first", "make_unique"]),
    }
)
common = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _adata(names, seed):
    rng = np.random.default_rng(seed)
    adata = ad.AnnData(rng.integers(0, 50, (5, len(names))).astype(np.int32))
    adata.var_names = pd.Index(names, dtype=object)
    adata.obs_names = pd.Index([f"c{i}" for i in range(5)], dtype=object)
    return adata


def _harmonize(adata, snapshot, **policy):
    try:
        its.pp.harmonize_var_names(adata, snapshot=snapshot, **policy)
    except ValueError as err:  # every feature dropped by the policies: a clear error, nothing changed
        if "no feature would remain" not in str(err):
            raise
        return False
    return True


@common
@given(names=identifiers, policy=policies, seed=st.integers(0, 2**16))
def test_every_identifier_is_in_var_or_in_the_record(snapshot_default, names, policy, seed):
    adata = _adata(names, seed)
    if not _harmonize(adata, snapshot_default, **policy):
        assert adata.var_names.tolist() == names
        return
    rec = adata.uns["idtrack"]
    in_var = {part for joined in adata.var[COLS["original"]] for part in joined.split("|")}
    dropped = list(rec["dropped_ids"])
    assert set(names) <= in_var | set(dropped)
    assert len(dropped) == rec["counts"]["dropped"] == sum(rec["counts"]["dropped_by"].values())
    assert set(rec["dropped_by"]) <= {"ambiguous", "unmapped", "duplicates"}
    if policy["ambiguous"] != "all" and policy["duplicates"] == "sum":  # each feature in exactly one place
        assert int(adata.var[COLS["n_merged"]].sum()) + len(dropped) == len(names)


@common
@given(names=identifiers, policy=policies, seed=st.integers(0, 2**16))
def test_sum_preserves_total_counts(snapshot_default, names, policy, seed):
    if policy["ambiguous"] == "all":  # copies of an ambiguous feature count it more than once
        policy["ambiguous"] = "best"
    policy["duplicates"] = "sum"
    adata = _adata(names, seed)
    before = adata.X.astype(np.int64).copy()
    if not _harmonize(adata, snapshot_default, **policy):
        return
    kept = [i for i, n in enumerate(names) if n not in set(adata.uns["idtrack"]["dropped_ids"])]
    assert int(np.asarray(adata.X).sum()) == int(before[:, kept].sum())
    np.testing.assert_array_equal(np.asarray(adata.X).sum(axis=1), before[:, kept].sum(axis=1))


@common
@given(names=identifiers, policy=policies, seed=st.integers(0, 2**16), order_seed=st.randoms(use_true_random=False))
def test_independent_of_column_order(snapshot_default, names, policy, seed, order_seed):
    policy["duplicates"] = "sum"  # "first" and "make_unique" are defined by the order
    adata = _adata(names, seed)
    order = list(range(len(names)))
    order_seed.shuffle(order)
    shuffled = adata[:, order].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ok = _harmonize(adata, snapshot_default, **policy)
        ok_shuffled = _harmonize(shuffled, snapshot_default, **policy)
    assert ok == ok_shuffled
    if not ok:
        return
    var, var_shuffled = adata.var.sort_index(), shuffled.var.sort_index()
    pd.testing.assert_frame_equal(var, var_shuffled)
    x = pd.DataFrame(np.asarray(adata.X), columns=adata.var_names).sort_index(axis=1)
    x_shuffled = pd.DataFrame(np.asarray(shuffled.X), columns=shuffled.var_names).sort_index(axis=1)
    pd.testing.assert_frame_equal(x, x_shuffled)
    assert sorted(adata.uns["idtrack"]["dropped_ids"]) == sorted(shuffled.uns["idtrack"]["dropped_ids"])
