from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.get import MAPPING_COLUMNS, mapping_table

A = ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"]
B = ["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"]


def make(names, n_obs=4):
    rng = np.random.default_rng(0)
    return ad.AnnData(rng.poisson(2, (n_obs, len(names))).astype(np.float32), var=pd.DataFrame(index=names))


def harmonized(names, **kw):
    adata = make(names)
    its.pp.harmonize_var_names(adata, snapshot="default", to="symbol", **kw)
    return adata


def test_merged_features_explode_to_one_row_per_original():
    table = mapping_table(harmonized(B))
    assert list(table.columns) == list(MAPPING_COLUMNS)
    assert list(table["original"]) == B
    rows = table.set_index("original")
    assert rows.loc["TP53", "name"] == rows.loc["ENSG00000141510", "name"] == "TP53"
    assert rows.loc["TP53", "n_merged"] == rows.loc["ENSG00000141510", "n_merged"] == 2
    assert rows.loc["NOT_A_REAL_GENE", "outcome"] == "1:0"
    assert rows.loc["NOT_A_REAL_GENE", "reason"] == "not_found"
    assert rows.loc["NOT_A_REAL_GENE", "kept"]
    assert isinstance(table["outcome"].dtype, pd.CategoricalDtype)
    assert table["n_merged"].dtype == np.int64


def test_dropped_ids_outcome_implied_by_policies():
    table = mapping_table(harmonized(B, unmapped="drop", ambiguous="all"))
    row = table.set_index("original").loc["NOT_A_REAL_GENE"]
    assert not row["kept"]
    assert row["name"] == ""
    assert row["outcome"] == "1:0"
    assert row["n_merged"] == 0


def test_dropped_ids_reason_implied_by_counts():
    row = mapping_table(harmonized(B, unmapped="drop", ambiguous="all")).set_index("original").loc["NOT_A_REAL_GENE"]
    assert row["reason"] == "not_found"  # the only failure reason, and no failed feature was kept


def test_dropped_ids_outcome_unknown_when_policies_allow_several():
    adata = harmonized(B, unmapped="drop", ambiguous="drop")
    assert mapping_table(adata).set_index("original").loc["NOT_A_REAL_GENE", "outcome"] == "1:0"  # no 1:n at all
    # a record without per-identifier outcomes (older releases), where an ambiguous feature was dropped too
    del adata.uns["idtrack"]["dropped_outcomes"], adata.uns["idtrack"]["dropped_reasons"]
    adata.uns["idtrack"]["counts"]["outcome"]["1:n"] = 1
    table = mapping_table(adata)
    assert table.set_index("original").loc["NOT_A_REAL_GENE", "outcome"] == "dropped"
    assert table.set_index("original").loc["NOT_A_REAL_GENE", "reason"] == ""


def test_recorded_dropped_outcomes_are_used():
    adata = harmonized(B, unmapped="drop", ambiguous="drop")
    adata.uns["idtrack"]["dropped_outcomes"] = np.array(["1:0"], dtype=object)
    adata.uns["idtrack"]["dropped_reasons"] = np.array(["not_found"], dtype=object)
    row = mapping_table(adata).set_index("original").loc["NOT_A_REAL_GENE"]
    assert (row["outcome"], row["reason"]) == ("1:0", "not_found")


def test_several_datasets_get_a_dataset_column():
    table = mapping_table({"A": harmonized(A), "B": harmonized(B)})
    assert table.columns[0] == "dataset"
    assert list(table["dataset"].cat.categories) == ["A", "B"]
    assert (table["dataset"] == "A").sum() == len(A)
    assert (table["dataset"] == "B").sum() == len(B)


def test_survives_h5ad_round_trip(tmp_path):
    adata = harmonized(B, unmapped="drop")
    adata.write_h5ad(tmp_path / "b.h5ad")
    back = ad.read_h5ad(tmp_path / "b.h5ad")
    pd.testing.assert_frame_equal(mapping_table(adata), mapping_table(back), check_dtype=False)


def test_custom_key():
    adata = make(B)
    its.pp.harmonize_var_names(adata, snapshot="default", to="symbol", key_added="ids")
    assert len(mapping_table(adata, key="ids")) == len(B)
    with pytest.raises(ValueError, match=r"not harmonized under key 'idtrack'.*harmonize_var_names"):
        mapping_table(adata)


def test_clear_errors():
    with pytest.raises(ValueError, match="harmonize_var_names"):
        mapping_table(make(A))
    with pytest.raises(ValueError, match="Dataset 'X'"):
        mapping_table({"A": harmonized(A), "X": make(A)})
    with pytest.raises(TypeError, match="AnnData"):
        mapping_table(pd.DataFrame())
    with pytest.raises(ValueError, match="empty"):
        mapping_table({})


def test_mudata_modalities():
    mudata = pytest.importorskip("mudata")
    rna = make(B)
    prot = ad.AnnData(np.ones((4, 2), dtype=np.float32), var=pd.DataFrame(index=["CD3", "CD4"]))
    mdata = mudata.MuData({"rna": rna, "prot": prot})
    its.pp.harmonize_var_names(mdata, snapshot="default", to="symbol")
    table = mapping_table(mdata)
    assert set(table["dataset"]) == {"rna"}
    assert len(table) == len(B)


@pytest.mark.skipif(not hasattr(its.pp, "concat_harmonized"), reason="concat_harmonized has not landed")
def test_concat_result():
    merged = its.concat_harmonized({"A": make(A), "B": make(B)}, snapshot="default", to="symbol", join="outer")
    table = mapping_table(merged)
    assert table.columns[0] == "dataset"
    assert list(table["dataset"].cat.categories) == ["(merged)", "B"]
    dropped = table[~table["kept"]]
    assert list(dropped["original"]) == ["NOT_A_REAL_GENE"]
    assert (dropped["outcome"].iloc[0], dropped["reason"].iloc[0]) == ("1:0", "not_found")
    assert set(table.loc[table["kept"], "name"]) == {"TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"}

    from idtrack_sc.record import collect

    found = collect(merged)
    assert [d.name for d in found.datasets] == ["A", "B"]
    assert found.widths == {"union": 5, "intersection": 2}
    assert found.diagnostics["failed"] == ["NOT_A_REAL_GENE"]
    assert found.diagnostics["collapsed"] == ["ENSG00000141510", "TP53"]
    assert found.datasets[1].counts["outcome"] == {"1:1": 3, "1:n": 0, "1:0": 1}
