"""Streaming on-disk concatenation: equal to ``anndata.concat`` on small files, in bounded blocks."""

from __future__ import annotations

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp._concat._stream import write_concat

# the inputs share cell names on purpose (index_unique); anndata warns about that when reading them
pytestmark = pytest.mark.filterwarnings("ignore:Observation names are not unique")


def make(var_names, n_obs, *, seed, prefix, fmt="csr", dtype=np.float32, layer=True, obsm_width=None):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.7, (n_obs, len(var_names))).astype(dtype)
    x = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[fmt](dense)
    adata = ad.AnnData(
        x,
        obs=pd.DataFrame(
            {"batch": pd.Categorical([prefix] * n_obs), "depth": rng.integers(1, 100, n_obs)},
            index=pd.Index([f"c{i}" for i in range(n_obs)], dtype=object),
        ),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=object)),
    )
    if layer:
        adata.layers["counts"] = sparse.csr_matrix(dense * 2)
    if obsm_width:
        adata.obsm["X_pca"] = rng.normal(size=(n_obs, obsm_width)).astype(np.float32)
    return adata


def write_all(tmp_path, adatas):
    paths = []
    for i, adata in enumerate(adatas):
        path = tmp_path / f"in{i}.h5ad"
        adata.write_h5ad(path)
        paths.append(path)
    return paths


def dense_of(x):
    return np.asarray(x.toarray() if sparse.issparse(x) else x)


def assert_matrix_equal(got, ref, where):
    assert sparse.issparse(got) == sparse.issparse(ref), where
    assert got.dtype == ref.dtype, (where, got.dtype, ref.dtype)
    assert got.shape == ref.shape, where
    if sparse.issparse(got):
        assert got.format == "csr", where
        assert got.has_sorted_indices, where
    np.testing.assert_array_equal(dense_of(got), dense_of(ref), err_msg=where)


def check(tmp_path, paths, *, max_elems=7, **kwargs):
    """write_concat equals anndata.concat of the same files read in memory, also backed."""
    out = write_concat(paths, tmp_path / "out.h5ad", max_elems=max_elems, **kwargs)
    got = ad.read_h5ad(out)
    ref = ad.concat([ad.read_h5ad(p) for p in paths], **kwargs)
    ref.strings_to_categoricals()  # as write_h5ad would
    assert got.obs_names.tolist() == ref.obs_names.tolist()
    pd.testing.assert_frame_equal(got.obs, ref.obs, check_index_type=False)
    assert got.var_names.tolist() == ref.var_names.tolist()
    pd.testing.assert_frame_equal(got.var, ref.var, check_index_type=False)
    assert_matrix_equal(got.X, ref.X, "X")
    layers = [k for k in ref.layers if k is not None]  # anndata 0.13 lists X as layers[None]
    assert sorted(k for k in got.layers if k is not None) == sorted(layers)
    for key in layers:
        assert_matrix_equal(got.layers[key], ref.layers[key], f"layers/{key}")
    assert sorted(got.obsm) == sorted(ref.obsm)
    for key in ref.obsm:
        assert_matrix_equal(got.obsm[key], ref.obsm[key], f"obsm/{key}")
    backed = ad.read_h5ad(out, backed="r")
    assert backed.shape == ref.shape
    tail = slice(max(0, ref.n_obs - 3), ref.n_obs)
    np.testing.assert_array_equal(dense_of(backed.X[tail]), dense_of(ref.X[tail]))
    backed.file.close()
    return got


@pytest.mark.parametrize("join", ["outer", "inner"])
def test_csr_with_layer_and_shuffled_columns(tmp_path, join):
    a = make(["g1", "g2", "g3", "g4"], 9, seed=0, prefix="a", obsm_width=3)
    b = make(["g4", "g9", "g2", "g1"], 6, seed=1, prefix="b", obsm_width=3)  # another column order
    c = make(["g2", "g3", "g5", "g1", "g4"], 11, seed=2, prefix="c", obsm_width=3)
    paths = write_all(tmp_path, [a, b, c])
    got = check(tmp_path, paths, join=join, label="dataset", keys=["A", "B", "C"], index_unique="-")
    assert got.obs_names[0] == "c0-A"
    assert got.obs["dataset"].cat.categories.tolist() == ["A", "B", "C"]
    assert got.n_vars == (6 if join == "outer" else 3)


@pytest.mark.parametrize("join", ["outer", "inner"])
@pytest.mark.parametrize("fill_value", [None, -1])
def test_dense_x(tmp_path, join, fill_value):
    a = make(["g1", "g2", "g3"], 5, seed=0, prefix="a", fmt="dense", layer=False)
    b = make(["g3", "g1", "g7"], 4, seed=1, prefix="b", fmt="dense", dtype=np.int32, layer=False)
    got = check(tmp_path, write_all(tmp_path, [a, b]), join=join, fill_value=fill_value)
    assert isinstance(got.X, np.ndarray)


@pytest.mark.parametrize("fill_value", [None, 0, 7])
def test_mixed_formats_and_sparse_fill(tmp_path, fill_value):
    a = make(["g1", "g2", "g3"], 5, seed=0, prefix="a", fmt="dense")
    b = make(["g3", "g1", "g8"], 4, seed=1, prefix="b", fmt="csc", dtype=np.float64)
    c = make(["g1", "g2", "g3"], 3, seed=2, prefix="c")
    got = check(tmp_path, write_all(tmp_path, [a, b, c]), join="outer", fill_value=fill_value)
    assert sparse.issparse(got.X)


@pytest.mark.parametrize("join", ["outer", "inner"])
def test_missing_layer_and_obsm(tmp_path, join):
    a = make(["g1", "g2"], 5, seed=0, prefix="a", obsm_width=2)
    b = make(["g2", "g1"], 4, seed=1, prefix="b", layer=False, obsm_width=4)
    c = make(["g1", "g2"], 3, seed=2, prefix="c")
    c.layers["dense"] = np.ones((3, 2), dtype=np.float32)
    got = check(tmp_path, write_all(tmp_path, [a, b, c]), join=join, label="batch_of")
    if join == "inner":
        assert not [k for k in got.layers if k is not None]
        assert not got.obsm


def test_merge_var_columns(tmp_path):
    a = make(["g1", "g2"], 5, seed=0, prefix="a")
    b = make(["g2", "g3"], 4, seed=1, prefix="b")
    a.var["kind"] = ["x", "y"]
    b.var["kind"] = ["y", "z"]
    a.var["only_a"] = [1, 2]
    for merge in ("same", "first", "unique"):
        got = check(tmp_path, write_all(tmp_path, [a, b]), join="outer", merge=merge)
        assert ("kind" in got.var.columns) == (merge == "first")  # the same as anndata.concat (checked)


def test_block_size_does_not_change_the_result(tmp_path):
    adatas = [make([f"g{j}" for j in range(i, i + 30)], 40, seed=i, prefix=f"d{i}") for i in range(4)]
    paths = write_all(tmp_path, adatas)
    small = ad.read_h5ad(write_concat(paths, tmp_path / "small.h5ad", max_elems=1))
    large = ad.read_h5ad(write_concat(paths, tmp_path / "large.h5ad", max_elems=10**9))
    assert (small.X != large.X).nnz == 0
    with h5py.File(tmp_path / "small.h5ad", "r") as f:
        assert f["X"].attrs["encoding-type"] == "csr_matrix"
        # one index dtype, as scipy expects (scipy < 1.13 cannot slice rows of mixed ones)
        assert f["X"]["indptr"].dtype == f["X"]["indices"].dtype == np.int32
        assert f["X"]["indptr"][-1] == f["X"]["data"].shape[0]
    rows = np.arange(40, 80)  # fancy row selection: the path scipy < 1.13 refused on mixed dtypes
    assert small.X[rows].sum() == large.X[rows].sum()


def test_more_stored_values_than_int32_counts_widen_both_index_arrays(tmp_path, monkeypatch):
    from idtrack_sc.pp._concat import _stream

    adatas = [make([f"g{j}" for j in range(i, i + 30)], 40, seed=i, prefix=f"d{i}") for i in range(2)]
    paths = write_all(tmp_path, adatas)
    expected = ad.read_h5ad(write_concat(paths, tmp_path / "narrow.h5ad"))
    monkeypatch.setattr(_stream, "MAX_INT32_NNZ", 10)  # as if the result held more than 2**31 values
    wide = ad.read_h5ad(write_concat(paths, tmp_path / "wide.h5ad", max_elems=7))
    with h5py.File(tmp_path / "wide.h5ad", "r") as f:
        assert f["X"]["indptr"].dtype == f["X"]["indices"].dtype == np.int64
    assert (wide.X != expected.X).nnz == 0


def test_empty_intersection_is_a_clear_error(tmp_path):
    a = make(["g1", "g2"], 5, seed=0, prefix="a")
    b = make(["g3", "g4"], 4, seed=1, prefix="b")
    paths = write_all(tmp_path, [a, b])
    with pytest.raises(ValueError, match=r"join='inner': no feature is present in all 2 datasets"):
        write_concat(paths, tmp_path / "out.h5ad", join="inner")
    check(tmp_path, paths, join="outer")


def test_bad_arguments(tmp_path):
    a = make(["g1"], 2, seed=0, prefix="a")
    paths = write_all(tmp_path, [a])
    with pytest.raises(ValueError, match="at least one file"):
        write_concat([], tmp_path / "out.h5ad")
    with pytest.raises(ValueError, match="join must be"):
        write_concat(paths, tmp_path / "out.h5ad", join="left")
    with pytest.raises(ValueError, match="max_elems"):
        write_concat(paths, tmp_path / "out.h5ad", max_elems=0)
    b = ad.AnnData(obs=pd.DataFrame(index=["x"]), var=pd.DataFrame(index=["g1"]))
    paths = write_all(tmp_path, [a, b])
    with pytest.raises(ValueError, match="X is missing from some datasets only"):
        write_concat(paths, tmp_path / "out.h5ad")


def test_single_file_gets_label_and_index_unique(tmp_path):
    a = make(["g2", "g1"], 5, seed=0, prefix="a")
    got = check(tmp_path, write_all(tmp_path, [a]), label="ds", keys=["only"], index_unique="_")
    assert got.obs_names[0] == "c0_only"


@pytest.mark.parametrize("join", ["outer", "inner"])
def test_concat_harmonized_out_of_core_with_layer_and_dense(snapshot_default, tmp_path, join):
    a = make(["TP53", "BRCA1", "BRCA2", "KRAS"], 20, seed=0, prefix="a")
    b = make(["KRAS", "ENSG00000141510", "TP53", "BRCA1"], 15, seed=1, prefix="b", fmt="dense")
    adatas = {"A": a, "B": b}
    paths = {}
    for name, x in adatas.items():
        paths[name] = tmp_path / f"{name}.h5ad"
        x.write_h5ad(paths[name])
    kwargs = {"snapshot": snapshot_default, "to": "symbol", "join": join, "label": "dataset", "index_unique": "-"}
    in_memory = its.concat_harmonized(adatas, **kwargs)
    out = tmp_path / "merged.h5ad"
    its.concat_harmonized(paths, out_file=out, max_loaded_elems=10, engine="stream", **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.h5ad", "B.h5ad", "merged.h5ad"]
    on_disk = ad.read_h5ad(out)
    assert on_disk.var_names.tolist() == in_memory.var_names.tolist()
    pd.testing.assert_frame_equal(on_disk.obs, in_memory.obs)
    pd.testing.assert_frame_equal(on_disk.var, in_memory.var, check_index_type=False)
    assert_matrix_equal(on_disk.X, in_memory.X, "X")
    assert_matrix_equal(on_disk.layers["counts"], in_memory.layers["counts"], "counts")
