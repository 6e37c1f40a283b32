"""harmonize_var_names on AnnData and MuData with the embedded default snapshot."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp import var_columns

COLS = var_columns("idtrack")


def make(var_names, n_obs=30, *, fmt="csr", dtype=np.float32, seed=0, layers=True):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(2, (n_obs, len(var_names))).astype(dtype)
    x = dense if fmt == "dense" else sparse.csr_matrix(dense) if fmt == "csr" else sparse.csc_matrix(dense)
    adata = ad.AnnData(x, var=pd.DataFrame(index=pd.Index(var_names, dtype=object)))
    # object dtype: anndata releases that accept pandas 3 cannot write its default str index
    adata.obs_names = pd.Index([f"cell{i}" for i in range(n_obs)], dtype=object)
    if layers:
        adata.layers["counts"] = x.copy() * 2
    return adata, dense


def test_toy_dataset_b_sums_tp53(snapshot_default):
    adata, dense = make(["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, to="symbol")
    assert adata.var_names.tolist() == ["TP53", "BRCA1", "NOT_A_REAL_GENE"]
    np.testing.assert_array_equal(adata.X.toarray()[:, 0], dense[:, 0] + dense[:, 1])
    np.testing.assert_array_equal(adata.layers["counts"].toarray()[:, 0], 2 * (dense[:, 0] + dense[:, 1]))
    np.testing.assert_array_equal(adata.X.toarray()[:, 1:], dense[:, 2:])
    assert sparse.isspmatrix_csr(adata.X)
    assert adata.X.dtype == np.float32
    var = adata.var
    assert var[COLS["original"]].tolist() == ["TP53|ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"]
    assert var[COLS["n_merged"]].tolist() == [2, 1, 1]
    assert var[COLS["outcome"]].astype(str).tolist() == ["1:1", "1:1", "1:0"]
    assert var[COLS["reason"]].tolist() == ["unchanged", "unchanged", "not_found"]
    counts = adata.uns["idtrack"]["counts"]
    assert counts["outcome"] == {"1:1": 3, "1:n": 0, "1:0": 1}
    assert (counts["collapsed_groups"], counts["collapsed_features"], counts["kept_unmapped"]) == (1, 2, 1)


def test_ensembl_names_with_symbols_for_display(snapshot_default):
    adata, _ = make(["TP53", "MARCH1", "SEPT2", "2-Sep", "BRCA2"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, release=114)
    assert adata.var_names.tolist() == ["ENSG00000141510", "ENSG00000145416", "ENSG00000168385", "ENSG00000139618"]
    assert adata.var["symbol"].tolist() == ["TP53", "MARCHF1", "SEPTIN2", "BRCA2"]
    assert adata.var[COLS["original"]].tolist()[2] == "2-Sep|SEPT2"  # canonical order, not column order
    assert adata.var[COLS["gene_id"]].tolist() == adata.var_names.tolist()


@pytest.mark.parametrize("duplicates", ["first", "make_unique"])
def test_duplicate_policies(snapshot_default, duplicates):
    adata, dense = make(["TP53", "ENSG00000141510", "BRCA1"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, to="symbol", duplicates=duplicates)
    if duplicates == "first":
        assert adata.var_names.tolist() == ["TP53", "BRCA1"]
        np.testing.assert_array_equal(adata.X.toarray(), dense[:, [0, 2]])
    else:
        assert adata.var_names.tolist() == ["TP53", "TP53-1", "BRCA1"]
        np.testing.assert_array_equal(adata.X.toarray(), dense)


def test_ambiguous_policies(snapshot_default):
    names = ["P40", "TP53", "NOT_A_REAL_GENE"]
    best, _ = make(names)
    its.pp.harmonize_var_names(best, snapshot=snapshot_default, to="symbol")
    assert best.var_names.tolist() == ["P40", "TP53", "NOT_A_REAL_GENE"]
    assert best.var[COLS["outcome"]].astype(str).tolist()[0] == "1:n"

    drop, _ = make(names)
    its.pp.harmonize_var_names(drop, snapshot=snapshot_default, to="symbol", ambiguous="drop", unmapped="drop")
    assert drop.var_names.tolist() == ["TP53"]
    assert sorted(drop.uns["idtrack"]["dropped_ids"]) == ["NOT_A_REAL_GENE", "P40"]

    expand, dense = make(names)
    its.pp.harmonize_var_names(expand, snapshot=snapshot_default, to="symbol", ambiguous="all", unmapped="drop")
    candidates = its.convert(["P40"], snapshot=snapshot_default, to="symbol")["targets"][0].split("|")
    assert len(candidates) > 2
    assert expand.var_names.tolist()[: len(candidates)] == candidates
    assert (expand.var[COLS["reason"]][: len(candidates)] == "ambiguous_expanded").all()
    x = expand.X.toarray()
    for j in range(len(candidates)):
        np.testing.assert_array_equal(x[:, j], dense[:, 0])
    assert expand.var["symbol"].tolist()[: len(candidates)] == candidates

    # a copy never stands in for a candidate the dataset measured itself
    measured, dense = make(["P40", "TP63"])
    its.pp.harmonize_var_names(measured, snapshot=snapshot_default, ambiguous="all")
    tp63 = its.convert(["TP63"], snapshot=snapshot_default)["target"][0]
    assert measured.var_names.tolist().count(tp63) == 1
    np.testing.assert_array_equal(measured[:, tp63].X.toarray().ravel(), dense[:, 1])
    assert measured.n_vars == len(candidates)
    assert (measured.var[COLS["n_merged"]] == 1).all()
    copies = measured.var[COLS["reason"]] == "ambiguous_expanded"
    assert measured.var.loc[copies, "symbol"].tolist() == [
        its.convert([g], snapshot=snapshot_default, to="symbol")["target"][0] for g in measured.var_names[copies]
    ]


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_matrix_kind_and_dtype_are_kept(snapshot_default, fmt, dtype):
    adata, dense = make(["TP53", "ENSG00000141510", "BRCA1"], fmt=fmt, dtype=dtype)
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, to="symbol")
    x = adata.X
    assert x.dtype == (np.int64 if dtype == np.int32 else dtype)  # summed integers are widened
    if fmt == "dense":
        assert isinstance(x, np.ndarray)
    else:
        assert x.format == fmt
    x = x if fmt == "dense" else x.toarray()
    np.testing.assert_array_equal(x, np.c_[dense[:, 0] + dense[:, 1], dense[:, 2]])


def test_dask_stays_lazy(snapshot_default):
    da = pytest.importorskip("dask.array")
    eager, dense = make(["TP53", "ENSG00000141510", "BRCA1", "KRAS"], n_obs=40, fmt="dense", layers=False)
    lazy = eager.copy()
    lazy.X = da.from_array(dense, chunks=(10, 2))
    its.pp.harmonize_var_names(eager, snapshot=snapshot_default, to="symbol")
    its.pp.harmonize_var_names(lazy, snapshot=snapshot_default, to="symbol")
    assert isinstance(lazy.X, da.Array)
    np.testing.assert_array_equal(lazy.X.compute(), eager.X)


def test_view_is_actualized_with_warning(snapshot_default):
    adata, dense = make(["TP53", "ENSG00000141510", "BRCA1", "KRAS"])
    view = adata[:10, :3]
    with pytest.warns(UserWarning, match="view"):
        its.pp.harmonize_var_names(view, snapshot=snapshot_default, to="symbol")
    assert not view.is_view
    assert view.var_names.tolist() == ["TP53", "BRCA1"]
    assert adata.var_names.tolist() == ["TP53", "ENSG00000141510", "BRCA1", "KRAS"]  # parent untouched


def test_copy_leaves_input_untouched(snapshot_default):
    adata, _ = make(["TP53", "ENSG00000141510"])
    out = its.pp.harmonize_var_names(adata, snapshot=snapshot_default, copy=True)
    assert adata.var_names.tolist() == ["TP53", "ENSG00000141510"]
    assert "idtrack" not in adata.uns
    assert out.var_names.tolist() == ["ENSG00000141510"]


def test_already_harmonized_input_is_refused_everywhere(snapshot_default):
    # one behaviour for every entry point: an error that changes nothing (a warning with a
    # no-op would let release=110 pass silently on data harmonized at 114)
    mudata = pytest.importorskip("mudata")
    adata, _ = make(["TP53", "BRCA1"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, release=114)
    before = adata.var_names.tolist()
    with pytest.raises(ValueError, match="already harmonized.*nothing was changed"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, release=110)
    assert adata.var_names.tolist() == before
    assert adata.uns["idtrack"]["params"]["release"] == 114
    with pytest.raises(ValueError, match="already harmonized.*nothing was changed"):
        its.concat_harmonized({"A": adata, "B": make(["TP53"])[0]}, snapshot=snapshot_default)

    rna, _ = make(["TP53", "BRCA1"])
    rna.var["feature_types"] = "Gene Expression"
    prot, _ = make(["CD3_TotalSeqB"])
    prot.var["feature_types"] = "Antibody Capture"
    mdata = mudata.MuData({"rna": rna, "prot": prot})
    assert not its.pp.is_harmonized(mdata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default)
        assert its.pp.is_harmonized(mdata)
        assert its.pp.is_harmonized(mdata.mod["rna"])
        with pytest.raises(ValueError, match="Modality 'rna' was already harmonized"):
            its.pp.harmonize_var_names(mdata, snapshot=snapshot_default)
        with pytest.raises(ValueError, match="already harmonized"):
            its.pp.harmonize_var_names(mdata, snapshot=snapshot_default, copy=True)
        # another modality later: both stay listed
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default, mod="prot", unmapped="keep")
    assert list(mdata.uns["idtrack"]["modalities"]) == ["rna", "prot"]
    assert its.pp.is_harmonized(mdata)


def test_id_key_reads_a_var_column(snapshot_default):
    adata, _ = make(["a", "b", "c"])
    adata.var["gene_ids"] = ["ENSG00000141510.18", "ENSG00000139618", "ENSG99999999999"]
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, id_key="gene_ids", to="symbol")
    assert adata.var_names.tolist() == ["TP53", "BRCA2", "ENSG99999999999"]
    assert adata.var["gene_ids"].tolist() == ["ENSG00000141510.18", "ENSG00000139618", "ENSG99999999999"]


def test_bad_input_messages(snapshot_default, tmp_path):
    adata, _ = make(["TP53", "BRCA1"])
    with pytest.raises(KeyError, match="no column 'gene_ids'"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, id_key="gene_ids")
    with pytest.raises(ValueError, match="duplicates='average' is not a policy"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, duplicates="average")
    with pytest.raises(ValueError, match="release 60 is outside the range"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, release=60)
    with pytest.raises(ValueError, match="does not match the snapshot"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, organism="mouse")
    with pytest.raises(ValueError, match="Give snapshot="):
        its.pp.harmonize_var_names(adata)
    with pytest.raises(ValueError, match="no features"):
        its.pp.harmonize_var_names(adata[:, []].copy(), snapshot=snapshot_default)
    junk, _ = make(["NOT_A_REAL_GENE"])
    with pytest.raises(ValueError, match="no feature would remain"):
        its.pp.harmonize_var_names(junk, snapshot=snapshot_default, unmapped="drop")
    adata.write_h5ad(tmp_path / "x.h5ad")
    backed = ad.read_h5ad(tmp_path / "x.h5ad", backed="r")
    with pytest.raises(ValueError, match="backed"):
        its.pp.harmonize_var_names(backed, snapshot=snapshot_default)
    backed.file.close()


def test_non_string_var_names_get_explicit_outcomes(snapshot_default):
    adata, _ = make(["x", "y", "z"])
    adata.var["entrez"] = pd.array([7157, 675, pd.NA], dtype="Int64")
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, id_key="entrez", to="symbol")
    assert adata.var_names.tolist() == ["TP53", "BRCA2", "z"]
    assert adata.var[COLS["reason"]].tolist()[2] == "empty"


@pytest.mark.parametrize("fmt", ["h5ad", "zarr"])
def test_provenance_survives_round_trip(snapshot_default, tmp_path, fmt):
    adata, _ = make(["TP53", "ENSG00000141510", "NOT_A_REAL_GENE", "P40"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, unmapped="drop")
    path = tmp_path / f"a.{fmt}"
    if fmt == "h5ad":
        adata.write_h5ad(path)
        back = ad.read_h5ad(path)
    else:
        pytest.importorskip("zarr")
        adata.write_zarr(path)
        back = ad.read_zarr(path)
    rec = back.uns["idtrack"]
    assert rec["snapshot"]["sha256"] == snapshot_default.sha256
    assert rec["params"]["unmapped"] == "drop"
    assert rec["counts"]["outcome"]["1:0"] == 1
    assert list(rec["dropped_ids"]) == ["NOT_A_REAL_GENE", "P40"]
    assert "anndata" in rec["versions"]
    assert "Python" in rec["environment"]
    assert back.var[COLS["original"]].tolist() == adata.var[COLS["original"]].tolist()


def test_mudata_gene_modality(snapshot_default, tmp_path):
    mudata = pytest.importorskip("mudata")
    rna, _ = make(["TP53", "ENSG00000141510", "BRCA1"])
    rna.var["feature_types"] = "Gene Expression"
    prot, _ = make(["CD3_TotalSeqB", "CD4_TotalSeqB"])
    prot.var["feature_types"] = "Antibody Capture"
    mdata = mudata.MuData({"rna": rna, "prot": prot})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default, to="symbol")
    assert mdata.mod["rna"].var_names.tolist() == ["TP53", "BRCA1"]
    assert mdata.mod["prot"].var_names.tolist() == ["CD3_TotalSeqB", "CD4_TotalSeqB"]
    assert mdata.n_vars == 4
    assert mdata.uns["idtrack"]["modalities"] == ["rna"]
    with pytest.raises(ValueError, match="do not exist"):
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default, mod="atac")
    path = tmp_path / "m.h5mu"
    mdata.write(path)
    back = mudata.read_h5mu(path)
    assert back.mod["rna"].uns["idtrack"]["snapshot"]["sha256"] == snapshot_default.sha256


def test_pbmc68k_legacy_rescue(snapshot_default):
    sc = pytest.importorskip("scanpy")
    adata = sc.datasets.pbmc68k_reduced()
    n_before = adata.n_vars
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, release=114)
    counts = adata.uns["idtrack"]["counts"]
    assert counts["n_vars_before"] == n_before == 765
    assert counts["outcome"]["1:1"] >= 740
    # every resolved feature is named by an Ensembl gene ID of release 114
    mapped = adata.var[COLS["outcome"]] == "1:1"
    assert adata.var_names[mapped.to_numpy()].str.match(r"^ENSG\d{11}$").all()
    assert adata.var[COLS["original"]].str.len().gt(0).all()


def test_raw_is_harmonized_like_x(snapshot_default):
    """.raw (the full gene set, X a selection of it) follows: same names, duplicates summed, symbols."""
    full, dense = make(["TP53", "ENSG00000141510", "BRCA1", "KRAS", "NOT_A_REAL_GENE"], layers=False)
    adata = full[:, ["TP53", "BRCA1"]].copy()
    adata.raw = full
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, release=114)
    raw = adata.raw
    assert raw.var_names.tolist()[:3] == ["ENSG00000141510", "ENSG00000012048", "ENSG00000133703"]
    assert raw.var_names[-1] == "NOT_A_REAL_GENE"  # kept under its name, as in X
    assert set(raw.var.loc["ENSG00000141510", COLS["original"]].split("|")) == {"TP53", "ENSG00000141510"}
    assert raw.var.loc["ENSG00000141510", "symbol"] == "TP53"
    np.testing.assert_array_equal(raw.X.toarray()[:, 0], dense[:, 0] + dense[:, 1])
    assert set(adata.var_names) <= set(raw.var_names)
    rec = adata.uns["idtrack"]
    assert rec["raw"] == "harmonized"
    assert rec["raw_counts"]["n_vars_before"] == 5
    assert rec["raw_counts"]["n_vars_after"] == 4


def test_raw_without_the_id_column_warns_and_stays(snapshot_default):
    adata, _ = make(["TP53", "BRCA1"], layers=False)
    adata.raw = adata.copy()
    adata.var["ids"] = ["TP53", "BRCA1"]
    with pytest.warns(UserWarning, match=r"\.raw was left unchanged: its var has no column 'ids'"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, id_key="ids", to="symbol", release=114)
    assert adata.uns["idtrack"]["raw"] == "unchanged"
    assert adata.raw.var_names.tolist() == ["TP53", "BRCA1"]


def test_gene_keyed_uns_entries_are_renamed(snapshot_default, tmp_path):
    """scanpy's rank_genes_groups names (a structured array) and plain name arrays follow the features."""
    adata, _ = make(["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE", "KRAS"], layers=False)
    names = np.rec.fromarrays(
        [np.array(["TP53", "BRCA1"]), np.array(["NOT_A_REAL_GENE", "ENSG00000141510"])], names=["g0", "g1"]
    )
    adata.uns["rank_genes_groups"] = {
        "names": names,
        "scores": np.rec.fromarrays([np.ones(2), np.ones(2)], names=["g0", "g1"]),
    }
    adata.uns["markers"] = np.array(["KRAS", "TP53"], dtype=object)
    adata.uns["colors"] = np.array(["#1f77b4", "#ff7f0e"], dtype=object)
    with pytest.warns(UserWarning, match=r"uns\['rank_genes_groups/names'\] \(2 renamed, 1 no longer in the data\)"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, unmapped="drop", release=114)
    got = adata.uns["rank_genes_groups"]["names"]
    assert got["g0"].tolist() == ["ENSG00000141510", "ENSG00000012048"]
    assert got["g1"].tolist() == ["NOT_A_REAL_GENE", "ENSG00000141510"]  # dropped: flagged, left as it was
    assert adata.uns["markers"].tolist() == ["ENSG00000133703", "ENSG00000141510"]
    assert adata.uns["colors"].tolist() == ["#1f77b4", "#ff7f0e"]  # not feature names: untouched
    updated = adata.uns["idtrack"]["uns_updated"]
    assert sorted(updated["entry"]) == ["markers", "rank_genes_groups/names"]
    adata.write_h5ad(tmp_path / "a.h5ad")  # the record and the renamed entries serialize
    back = ad.read_h5ad(tmp_path / "a.h5ad")
    assert back.uns["rank_genes_groups"]["names"]["g0"].tolist() == ["ENSG00000141510", "ENSG00000012048"]


@pytest.mark.parametrize("duplicates", ["sum", "first"])
def test_varm_and_varp_of_merged_features_follow_the_duplicates_policy(snapshot_default, tmp_path, duplicates):
    """sum: numeric varm rows (varp rows and columns) are summed like X's columns; a table is dropped with a note."""
    names = ["TP53", "ENSG00000141510", "BRCA1", "KRAS"]  # TP53 twice
    adata = ad.AnnData(
        sparse.csr_matrix(np.ones((3, 4), dtype=np.float32)), var=pd.DataFrame(index=pd.Index(names, dtype=object))
    )
    loadings = np.arange(8, dtype=np.int32).reshape(4, 2)
    graph = np.arange(16, dtype=np.float64).reshape(4, 4)
    adata.varm["loadings"] = loadings
    adata.varm["notes"] = pd.DataFrame({"text": list("abcd")}, index=adata.var_names)
    adata.varp["graph"] = sparse.csr_matrix(graph)
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, to="symbol", duplicates=duplicates)
    assert adata.var_names.tolist() == ["TP53", "BRCA1", "KRAS"]
    if duplicates == "first":  # the policy keeps the first member, rows and all
        np.testing.assert_array_equal(adata.varm["loadings"], loadings[[0, 2, 3]])
        assert "notes" in adata.varm
        assert "var_aligned" not in adata.uns["idtrack"]
        return
    np.testing.assert_array_equal(adata.varm["loadings"], [loadings[0] + loadings[1], loadings[2], loadings[3]])
    assert adata.varm["loadings"].dtype == np.int64  # summed in the widened dtype, as X would be
    groups = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)
    assert sparse.issparse(adata.varp["graph"])
    np.testing.assert_array_equal(adata.varp["graph"].toarray(), groups @ graph @ groups.T)
    assert "notes" not in adata.varm
    notes = adata.uns["idtrack"]["var_aligned"]
    assert notes["varm"]["loadings"] == notes["varp"]["graph"] == "summed"
    assert notes["varm"]["notes"].startswith("dropped")
    adata.write_h5ad(tmp_path / "a.h5ad")  # the note serializes
    assert ad.read_h5ad(tmp_path / "a.h5ad").uns["idtrack"]["var_aligned"]["varm"]["loadings"] == "summed"
