"""concat_harmonized: the toy harmonization, the consistent-failure rule, anndata passthrough, out of core."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp import var_columns

COLS = var_columns("idtrack")
TOY_A = ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"]
TOY_B = ["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"]


def make(var_names, n_obs, *, seed, prefix):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(2, (n_obs, len(var_names))).astype(np.float32)
    adata = ad.AnnData(
        sparse.csr_matrix(dense),
        obs=pd.DataFrame({"batch": [prefix] * n_obs}, index=[f"{prefix}{i}" for i in range(n_obs)]),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=object)),
    )
    return adata, dense


@pytest.fixture
def toy():
    a, dense_a = make(TOY_A, 50, seed=0, prefix="a")
    b, dense_b = make(TOY_B, 60, seed=1, prefix="b")
    return {"A": a, "B": b}, {"A": dense_a, "B": dense_b}


def x_of(adata, obs_names, var_name):
    col = adata[obs_names, var_name].X
    return np.asarray(col.toarray() if sparse.issparse(col) else col).ravel()


# ---------------------------------------------------------------------------------------------
# the seed's toy harmonization
# ---------------------------------------------------------------------------------------------
def test_toy_union(snapshot_default, toy):
    adatas, dense = toy
    merged = its.concat_harmonized(adatas, snapshot=snapshot_default, to="symbol", join="outer", label="dataset")
    assert merged.n_obs == 110
    assert sorted(merged.var_names) == sorted(TOY_A)
    assert merged.obs["dataset"].value_counts().to_dict() == {"A": 50, "B": 60}
    b_cells = merged.obs_names[merged.obs["dataset"] == "B"]
    # in B, the TP53 and ENSG00000141510 columns are summed; absent genes are zero
    np.testing.assert_array_equal(x_of(merged, b_cells, "TP53"), dense["B"][:, 0] + dense["B"][:, 1])
    np.testing.assert_array_equal(x_of(merged, b_cells, "BRCA1"), dense["B"][:, 2])
    np.testing.assert_array_equal(x_of(merged, b_cells, "KRAS"), 0)
    a_cells = merged.obs_names[merged.obs["dataset"] == "A"]
    np.testing.assert_array_equal(x_of(merged, a_cells, "TP53"), dense["A"][:, 0])
    # the input objects were not touched
    assert adatas["B"].var_names.tolist() == TOY_B
    assert "idtrack" not in adatas["B"].uns

    uns = merged.uns["idtrack"]
    assert uns["failed"]["B"]["id"].tolist() == ["NOT_A_REAL_GENE"]
    assert uns["failed"]["B"]["reason"].tolist() == ["not_found"]
    assert uns["failed"]["A"]["id"].tolist() == []
    assert uns["failed_consistent"]["id"].tolist() == []
    assert uns["collapsed"]["B"]["name"].tolist() == ["TP53"]
    assert uns["collapsed"]["B"]["originals"].tolist() == ["TP53|ENSG00000141510"]
    assert uns["n_vars"] == {"union": 5, "intersection": 2, "result": 5}
    counts = pd.DataFrame(uns["counts"], index=uns["datasets"])
    assert counts.loc["B", ["n_obs", "n_vars_before", "n_vars_after", "dropped", "n_1to0"]].tolist() == [60, 4, 2, 1, 1]
    assert counts.loc["A", ["n_vars_before", "n_vars_after", "dropped"]].tolist() == [5, 5, 0]
    assert uns["params"]["unmapped"] == "consistent"
    assert uns["snapshot"]["sha256"] == snapshot_default.sha256
    assert set(uns["provenance"]) == {"A", "B"}
    assert "environment" not in uns["provenance"]["B"]
    assert isinstance(uns["environment"], str)

    var = merged.var
    assert var.loc["TP53", COLS["original"]] == "TP53|ENSG00000141510"
    assert var.loc["TP53", COLS["gene_id"]] == "ENSG00000141510"
    assert var["symbol"].tolist() == var_names_list(merged)
    assert var["idtrack_n_datasets"].to_dict() == {"BRAF": 1, "BRCA1": 2, "BRCA2": 1, "KRAS": 1, "TP53": 2}


def var_names_list(adata):
    return adata.var_names.tolist()


def test_toy_intersection(snapshot_default, toy):
    adatas, dense = toy
    merged = its.concat_harmonized(adatas, snapshot=snapshot_default, to="symbol", join="inner")
    assert merged.n_obs == 110
    assert sorted(merged.var_names) == ["BRCA1", "TP53"]
    assert merged.uns["idtrack"]["n_vars"] == {"union": 5, "intersection": 2, "result": 2}
    assert merged.var["symbol"].to_dict() == {"TP53": "TP53", "BRCA1": "BRCA1"}
    np.testing.assert_array_equal(x_of(merged, merged.obs_names[50:], "TP53"), dense["B"][:, 0] + dense["B"][:, 1])


def test_ensembl_target_keeps_symbols(snapshot_default, toy):
    adatas, _ = toy
    merged = its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", release=114)
    assert "ENSG00000141510" in merged.var_names
    assert merged.var.loc["ENSG00000141510", "symbol"] == "TP53"
    assert merged.uns["idtrack"]["params"]["to"] == "ensembl_gene"


# ---------------------------------------------------------------------------------------------
# the consistent-failure rule
# ---------------------------------------------------------------------------------------------
def test_consistent_failures(snapshot_default):
    a, _ = make(["TP53", "NOT_A_REAL_GENE", "ONLY_IN_A", "P40"], 10, seed=0, prefix="a")
    b, _ = make(["TP53", "NOT_A_REAL_GENE", "P40", "BRCA1"], 12, seed=1, prefix="b")
    c, _ = make(["NOT_A_REAL_GENE", "TP53", "P40", "ONLY_IN_C"], 8, seed=2, prefix="c")
    adatas = {"a": a, "b": b, "c": c}

    merged = its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", to="symbol")
    # failing in every dataset: kept under the original name; failing in some: dropped
    assert sorted(merged.var_names) == ["BRCA1", "NOT_A_REAL_GENE", "P40", "TP53"]
    uns = merged.uns["idtrack"]
    assert uns["failed_consistent"]["id"].tolist() == ["NOT_A_REAL_GENE", "P40"]
    # the resolver's outcome and reason (P40 is an alias of ten genes), not a word of their own
    assert uns["failed_consistent"]["outcome"].tolist() == ["1:0", "1:n"]
    assert uns["failed_consistent"]["reason"].tolist() == ["not_found", "alias"]
    assert uns["failed"]["a"]["id"].tolist() == ["ONLY_IN_A"]
    assert uns["failed"]["c"]["id"].tolist() == ["ONLY_IN_C"]
    assert uns["failed"]["b"]["id"].tolist() == []
    assert merged.var.loc["NOT_A_REAL_GENE", COLS["outcome"]] == "1:0"
    amb = pd.DataFrame(uns["ambiguous"]).set_index("id")
    assert amb.loc["P40", "handling"] == "kept_unresolved"
    assert amb.loc["P40", "datasets"] == "a|b|c"
    assert amb.loc["P40", "n_candidates"] > 1

    kept = its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", to="symbol", unmapped="keep")
    assert {"ONLY_IN_A", "ONLY_IN_C", "NOT_A_REAL_GENE"} <= set(kept.var_names)
    dropped = its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", to="symbol", unmapped="drop")
    assert sorted(dropped.var_names) == ["BRCA1", "TP53"]
    assert sorted(dropped.uns["idtrack"]["failed"]["a"]["id"]) == ["NOT_A_REAL_GENE", "ONLY_IN_A", "P40"]
    amb = pd.DataFrame(dropped.uns["idtrack"]["ambiguous"]).set_index("id")
    assert amb.loc["P40", "handling"] == "dropped"


def test_consistent_rule_with_id_key(snapshot_default):
    a, _ = make(["g1", "g2"], 5, seed=0, prefix="a")
    b, _ = make(["g1", "g3"], 5, seed=1, prefix="b")
    a.var["gene"] = ["TP53", "WEIRD"]
    b.var["gene"] = ["TP53", "WEIRD"]
    merged = its.concat_harmonized([a, b], snapshot=snapshot_default, join="outer", to="symbol", id_key="gene")
    assert sorted(merged.var_names) == ["TP53", "WEIRD"]


# ---------------------------------------------------------------------------------------------
# anndata.concat passthrough
# ---------------------------------------------------------------------------------------------
def test_label_keys_index_unique_like_anndata(snapshot_default, toy):
    adatas, _ = toy
    # the same names in both datasets: index_unique makes them unique with the keys
    adatas["B"].obs_names = [f"a{i}" for i in range(60)]
    seq = [adatas["A"], adatas["B"]]
    merged = its.concat_harmonized(
        seq, snapshot=snapshot_default, to="symbol", join="outer", label="sample", keys=["s1", "s2"], index_unique="-"
    )
    ref_inputs = [its.pp.harmonize_var_names(x, snapshot=snapshot_default, to="symbol", copy=True) for x in seq]
    ref = ad.concat(ref_inputs, join="outer", label="sample", keys=["s1", "s2"], index_unique="-")
    pd.testing.assert_frame_equal(merged.obs, ref.obs)
    assert merged.obs_names[0] == "a0-s1"
    assert merged.obs_names[-1] == "a59-s2"
    assert merged.uns["idtrack"]["datasets"].tolist() == ["s1", "s2"]
    ref = ref[:, merged.var_names]
    np.testing.assert_array_equal(merged.X.toarray(), ref.X.toarray())


def test_sequence_without_keys_uses_anndata_default(snapshot_default, toy):
    adatas, _ = toy
    merged = its.concat_harmonized(
        list(adatas.values()), snapshot=snapshot_default, join="outer", to="symbol", label="batch_id"
    )
    assert merged.obs["batch_id"].cat.categories.tolist() == ["0", "1"]
    assert merged.uns["idtrack"]["datasets"].tolist() == ["0", "1"]


def test_merge_uns_merge_and_fill_value(snapshot_default, toy):
    adatas, _ = toy
    for name, x in adatas.items():
        x.var["note"] = "shared"
        x.uns["study"] = "S"
        x.uns["name"] = name
        x.X = x.X.toarray()
    merged = its.concat_harmonized(
        adatas, snapshot=snapshot_default, to="symbol", join="outer", merge="first", uns_merge="same", fill_value=-1
    )
    assert "note" in merged.var.columns
    assert merged.uns["study"] == "S"
    assert "name" not in merged.uns
    assert np.all(merged[merged.obs_names[50:], "KRAS"].X == -1)
    # the idtrack columns are assembled by idtrack-sc whatever the strategy
    assert merged.var["symbol"].notna().all()


def test_copy_inputs_false_harmonizes_in_place(snapshot_default, toy):
    adatas, _ = toy
    its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", to="symbol", copy_inputs=False)
    assert adatas["B"].var_names.tolist() == ["TP53", "BRCA1"]
    assert "idtrack" in adatas["B"].uns


# ---------------------------------------------------------------------------------------------
# round trips and out of core
# ---------------------------------------------------------------------------------------------
def _assert_same_diagnostics(left, right):
    for key in ("datasets", "failed", "failed_consistent", "ambiguous", "collapsed", "n_vars", "counts"):
        _assert_nested_equal(left[key], right[key], key)
    assert left["snapshot"] == right["snapshot"]


def _assert_nested_equal(a, b, where):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _assert_nested_equal(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.asarray(a).tolist() == np.asarray(b).tolist(), where
    else:
        assert a == b, where


@pytest.mark.parametrize("fmt", ["h5ad", "zarr"])
def test_round_trip_keeps_diagnostics(snapshot_default, toy, tmp_path, fmt):
    adatas, _ = toy
    merged = its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", to="symbol", label="dataset")
    path = tmp_path / f"merged.{fmt}"
    if fmt == "h5ad":
        merged.write_h5ad(path)
        back = ad.read_h5ad(path)
    else:
        pytest.importorskip("zarr")
        merged.write_zarr(path)
        back = ad.read_zarr(path)
    _assert_same_diagnostics(merged.uns["idtrack"], back.uns["idtrack"])
    assert back.uns["idtrack"]["provenance"]["B"]["counts"]["outcome"] == {"1:1": 3, "1:n": 0, "1:0": 1}
    pd.testing.assert_frame_equal(back.var, merged.var, check_index_type=False)
    ambiguous = pd.DataFrame(back.uns["idtrack"]["ambiguous"])
    assert set(ambiguous.columns) == {"id", "n_candidates", "candidates", "chosen", "handling", "datasets"}


@pytest.mark.parametrize(
    ("join", "engine", "suffix"),
    [
        ("outer", "stream", ".h5ad"),
        ("inner", "stream", ".h5ad"),
        ("outer", "stream", ".zarr"),  # a .zarr result is written by anndata's concat_on_disk
        ("outer", "dask", ".h5ad"),
        ("inner", "dask", ".zarr"),
    ],
)
def test_out_of_core_equals_in_memory(snapshot_default, toy, tmp_path, join, engine, suffix):
    if engine == "dask":
        pytest.importorskip("dask.array")
    adatas, _ = toy
    paths = {}
    for name, x in adatas.items():
        paths[name] = tmp_path / f"{name}.h5ad"
        x.write_h5ad(paths[name])
    kwargs = {"snapshot": snapshot_default, "to": "symbol", "join": join, "label": "dataset", "index_unique": "_"}
    in_memory = its.concat_harmonized(adatas, **kwargs)
    out = tmp_path / f"merged{suffix}"
    assert its.concat_harmonized(paths, out_file=out, engine=engine, **kwargs) is None  # as anndata's concat_on_disk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.h5ad", "B.h5ad", out.name]  # no temp files left
    on_disk = ad.read_h5ad(out) if suffix == ".h5ad" else ad.read_zarr(out)
    assert on_disk.obs_names.tolist() == in_memory.obs_names.tolist()
    pd.testing.assert_frame_equal(on_disk.obs, in_memory.obs)
    assert on_disk.var_names.tolist() == in_memory.var_names.tolist()
    pd.testing.assert_frame_equal(on_disk.var, in_memory.var, check_index_type=False)
    np.testing.assert_array_equal(on_disk.X.toarray(), in_memory.X.toarray())
    _assert_same_diagnostics(on_disk.uns["idtrack"], in_memory.uns["idtrack"])
    assert (
        on_disk.uns["idtrack"]["params"]["out_of_core"] is np.True_ or on_disk.uns["idtrack"]["params"]["out_of_core"]
    )
    assert on_disk.uns["idtrack"]["sources"].tolist() == [str(paths["A"]), str(paths["B"])]
    params = on_disk.uns["idtrack"]["params"]
    assert params["engine"] == engine  # the engine asked for, and what wrote the result
    assert params["writer"] == {("stream", ".h5ad"): "stream", ("stream", ".zarr"): "anndata"}.get(
        (engine, suffix), "dask"
    )
    assert in_memory.uns["idtrack"]["params"]["engine"] == in_memory.uns["idtrack"]["params"]["writer"] == ""


def test_out_of_core_single_dataset_and_anndata_inputs(snapshot_default, toy, tmp_path):
    adatas, dense = toy
    out = tmp_path / "one.h5ad"
    its.concat_harmonized({"B": adatas["B"]}, snapshot=snapshot_default, to="symbol", label="dataset", out_file=out)
    back = ad.read_h5ad(out)
    # one dataset: every identifier is in every dataset, so its failures are kept (consistent rule)
    assert back.var_names.tolist() == ["TP53", "BRCA1", "NOT_A_REAL_GENE"]
    assert back.uns["idtrack"]["failed_consistent"]["id"].tolist() == ["NOT_A_REAL_GENE"]
    assert back.obs["dataset"].unique().tolist() == ["B"]
    np.testing.assert_array_equal(back.X.toarray()[:, 0], dense["B"][:, 0] + dense["B"][:, 1])
    assert back.uns["idtrack"]["failed"]["B"]["id"].tolist() == []


def test_out_of_core_cleans_up_on_error(snapshot_default, toy, tmp_path):
    adatas, _ = toy
    bad, _ = make(["NOPE1", "NOPE2"], 5, seed=3, prefix="z")
    paths = {}
    for name, x in {**adatas, "Z": bad}.items():
        paths[name] = tmp_path / f"{name}.h5ad"
        x.write_h5ad(paths[name])
    out = tmp_path / "merged.h5ad"
    with pytest.raises(ValueError, match="dataset 'Z'.*no feature would remain"):
        its.concat_harmonized(paths, snapshot=snapshot_default, to="symbol", unmapped="drop", out_file=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.h5ad", "B.h5ad", "Z.h5ad"]


# ---------------------------------------------------------------------------------------------
# bad input: clear messages naming the dataset
# ---------------------------------------------------------------------------------------------
def test_other_organism_is_refused(snapshot_default, toy):
    adatas, _ = toy
    adatas["B"].uns["organism"] = "Mus musculus"
    with pytest.raises(ValueError, match=r"dataset 'B' is from mus_musculus .*snapshot is for homo_sapiens"):
        its.concat_harmonized(adatas, snapshot=snapshot_default)
    adatas["B"].uns["organism"] = "Homo sapiens"
    adatas["A"].obs["organism_ontology_term_id"] = "NCBITaxon:10090"
    with pytest.raises(ValueError, match=r"dataset 'A' is from mus_musculus"):
        its.concat_harmonized(adatas, snapshot=snapshot_default)
    adatas["A"].obs["organism_ontology_term_id"] = "NCBITaxon:9606"
    its.concat_harmonized(adatas, snapshot=snapshot_default)


def test_empty_datasets_are_refused(snapshot_default, toy):
    adatas, _ = toy
    with pytest.raises(ValueError, match="dataset 'E' has no features"):
        its.concat_harmonized({**adatas, "E": adatas["A"][:, []].copy()}, snapshot=snapshot_default)
    with pytest.raises(ValueError, match="dataset 'E' has no cells"):
        its.concat_harmonized({**adatas, "E": adatas["A"][[]].copy()}, snapshot=snapshot_default)
    with pytest.raises(ValueError, match="adatas is empty"):
        its.concat_harmonized({}, snapshot=snapshot_default)


def test_bad_types_and_arguments(snapshot_default, toy, tmp_path):
    adatas, _ = toy
    with pytest.raises(TypeError, match="dataset 'B' is a list"):
        its.concat_harmonized({"A": adatas["A"], "B": [1, 2]}, snapshot=snapshot_default)
    with pytest.raises(TypeError, match="single AnnData"):
        its.concat_harmonized(adatas["A"], snapshot=snapshot_default)
    with pytest.raises(ValueError, match="keys= cannot be combined with a mapping"):
        its.concat_harmonized(adatas, snapshot=snapshot_default, keys=["x", "y"])
    with pytest.raises(ValueError, match="unmapped='sometimes'"):
        its.concat_harmonized(adatas, snapshot=snapshot_default, unmapped="sometimes")
    with pytest.raises(FileNotFoundError, match="dataset 'A': file"):
        its.concat_harmonized({"A": tmp_path / "missing.h5ad"}, snapshot=snapshot_default)
    with pytest.raises(KeyError, match="dataset 'A'.*no column 'gene'"):
        its.concat_harmonized(adatas, snapshot=snapshot_default, id_key="gene")
    harmonized = its.pp.harmonize_var_names(adatas["A"], snapshot=snapshot_default, copy=True)
    with pytest.raises(ValueError, match="dataset 'A' was already harmonized"):
        its.concat_harmonized({"A": harmonized, "B": adatas["B"]}, snapshot=snapshot_default)


def test_top_level_alias():
    assert its.concat_harmonized is its.pp.concat_harmonized


def test_reads_like_anndata_concat(snapshot_default, toy, tmp_path):
    """join='inner' by default, as anndata.concat; out= is the deprecated name of out_file=."""
    adatas, _ = toy
    merged = its.concat_harmonized(adatas, snapshot=snapshot_default, to="symbol")
    assert sorted(merged.var_names) == ["BRCA1", "TP53"]
    assert merged.uns["idtrack"]["params"]["join"] == "inner"
    with pytest.warns(FutureWarning, match="use out_file="):
        its.concat_harmonized(adatas, snapshot=snapshot_default, to="symbol", out=tmp_path / "m.h5ad")
    assert ad.read_h5ad(tmp_path / "m.h5ad").n_obs == 110
    with pytest.raises(ValueError, match=r"out_file must end in .h5ad or .zarr"):
        its.concat_harmonized(adatas, snapshot=snapshot_default, out_file=tmp_path / "m.loom")
    with pytest.raises(TypeError, match="out_file only"):
        its.concat_harmonized(adatas, snapshot=snapshot_default, out_file=tmp_path / "a.h5ad", out=tmp_path / "b.h5ad")
