"""concat_harmonized out of core: bad input refused before any work; mixed matrix formats handled by every engine."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp._concat import _run

GENES = {
    "A": ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"],
    "B": ["KRAS", "ENSG00000141510", "TP53", "BRCA1"],
    "C": ["BRAF", "ENSG00000141510", "TP53", "KRAS"],
}
KWARGS = {"to": "symbol", "label": "dataset", "index_unique": "-"}


def make(var_names, n_obs, *, seed, fmt):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.8, (n_obs, len(var_names))).astype(np.float32)
    as_fmt = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[fmt]
    adata = ad.AnnData(
        as_fmt(dense),
        obs=pd.DataFrame(index=pd.Index([f"c{i}" for i in range(n_obs)], dtype=object)),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=object)),
    )
    adata.layers["counts"] = as_fmt(dense * 2)
    return adata


@pytest.fixture
def mixed(tmp_path):
    """A CSR, a dense and a CSC dataset (X and a layer), and their .h5ad files."""
    adatas = {
        "A": make(GENES["A"], 13, seed=0, fmt="csr"),
        "B": make(GENES["B"], 11, seed=1, fmt="dense"),
        "C": make(GENES["C"], 9, seed=2, fmt="csc"),
    }
    paths = {}
    for name, adata in adatas.items():
        paths[name] = tmp_path / f"{name}.h5ad"
        adata.write_h5ad(paths[name])
    return adatas, paths


def no_work(*args, **kwargs):  # pragma: no cover - must not be reached
    msg = "a dataset was harmonized before the argument check"
    raise AssertionError(msg)


def engines():
    rows = [("stream", ".h5ad"), ("stream", ".zarr")]
    try:
        import dask.array  # noqa: F401

        rows += [("dask", ".h5ad"), ("dask", ".zarr")]
    except ImportError:  # pragma: no cover - dask is a test dependency
        pass
    return rows


@pytest.mark.parametrize("join", ["inner", "outer"])
@pytest.mark.parametrize(("engine", "suffix"), engines())
def test_mixed_csr_dense_csc_equal_the_in_memory_result(snapshot_default, mixed, tmp_path, engine, suffix, join):
    adatas, paths = mixed
    in_memory = its.concat_harmonized(adatas, snapshot=snapshot_default, join=join, **KWARGS)
    assert sparse.issparse(in_memory.X)  # anndata: sparse as soon as one dataset is
    out = tmp_path / f"atlas{suffix}"
    its.concat_harmonized(paths, snapshot=snapshot_default, join=join, out_file=out, engine=engine, **KWARGS)
    on_disk = ad.read_h5ad(out) if suffix == ".h5ad" else ad.read_zarr(out)
    assert on_disk.var_names.tolist() == in_memory.var_names.tolist()
    assert on_disk.obs_names.tolist() == in_memory.obs_names.tolist()
    for got, ref in ((on_disk.X, in_memory.X), (on_disk.layers["counts"], in_memory.layers["counts"])):
        assert sparse.issparse(got)
        assert got.format == "csr"
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got.toarray(), ref.toarray())


@pytest.mark.parametrize("suffix", [".h5ad", ".zarr"])
def test_all_csc_inputs_to_zarr_with_the_streamer(snapshot_default, tmp_path, suffix):
    """anndata's concat_on_disk refuses CSC matrices; the staged datasets are CSR, as anndata.concat's result."""
    adatas = {n: make(GENES[n], 7, seed=i, fmt="csc") for i, n in enumerate(("A", "C"))}
    paths = {}
    for name, adata in adatas.items():
        paths[name] = tmp_path / f"{name}.h5ad"
        adata.write_h5ad(paths[name])
    in_memory = its.concat_harmonized(adatas, snapshot=snapshot_default, join="outer", **KWARGS)
    out = tmp_path / f"atlas{suffix}"
    its.concat_harmonized(paths, snapshot=snapshot_default, join="outer", out_file=out, engine="stream", **KWARGS)
    on_disk = ad.read_h5ad(out) if suffix == ".h5ad" else ad.read_zarr(out)
    np.testing.assert_array_equal(on_disk.X.toarray(), in_memory.X.toarray())
    assert on_disk.X.format == in_memory.X.format == "csr"


def test_output_that_is_an_input_is_refused_before_any_work(snapshot_default, mixed, monkeypatch):
    adatas, paths = mixed
    before = paths["B"].read_bytes()
    monkeypatch.setattr(_run, "_harmonize_anndata", no_work)
    with pytest.raises(ValueError, match=r"out_file=.*B\.h5ad is the file dataset 'B' .*is read from"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=paths["B"], overwrite=True, **KWARGS)
    # the same file by another spelling of its path
    other_spelling = paths["B"].parent / "." / "B.h5ad"
    with pytest.raises(ValueError, match="is read from"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=other_spelling, overwrite=True, **KWARGS)
    # a backed AnnData reading the target
    backed = ad.read_h5ad(paths["B"], backed="r")
    with pytest.raises(ValueError, match="is the file dataset 'b' is read from"):
        its.concat_harmonized(
            {"a": adatas["A"], "b": backed}, snapshot=snapshot_default, out_file=paths["B"], overwrite=True, **KWARGS
        )
    backed.file.close()
    assert paths["B"].read_bytes() == before


def test_other_organism_is_refused_before_any_work_out_of_core(snapshot_default, mixed, tmp_path, monkeypatch):
    adatas, _ = mixed
    adatas["C"].obs["organism_ontology_term_id"] = "NCBITaxon:10090"
    monkeypatch.setattr(_run, "_harmonize_anndata", no_work)
    out = tmp_path / "atlas.h5ad"
    with pytest.raises(ValueError, match=r"dataset 'C' is from mus_musculus"):
        its.concat_harmonized(adatas, snapshot=snapshot_default, out_file=out, **KWARGS)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.h5ad", "B.h5ad", "C.h5ad"]


# ---------------------------------------------------------------------------------------------
# what follows the features: varm / varp of summed features
# ---------------------------------------------------------------------------------------------
def with_var_aligned(names, *, seed):
    adata = make(names, 6, seed=seed, fmt="csr")
    adata.varm["loadings"] = np.arange(2 * len(names), dtype=np.float64).reshape(len(names), 2) + 10 * seed
    adata.varm["notes"] = pd.DataFrame({"text": [f"{n}!" for n in names]}, index=adata.var_names)
    return adata


@pytest.mark.parametrize(("engine", "suffix"), [(None, None), *[row for row in engines() if row[1] == ".h5ad"]])
def test_varm_of_summed_features_is_summed_or_dropped_with_a_note(snapshot_default, tmp_path, engine, suffix):
    b = with_var_aligned(["TP53", "ENSG00000141510", "BRCA1"], seed=1)  # TP53 twice: summed
    a = with_var_aligned(["TP53", "BRCA1"], seed=2)
    loadings_b = b.varm["loadings"].copy()
    adatas = {"B": b, "A": a}
    kwargs = {"snapshot": snapshot_default, "join": "outer", "merge": "first", **KWARGS}
    if engine is None:
        merged = its.concat_harmonized(adatas, **kwargs)
    else:
        paths = {}
        for name, x in adatas.items():
            paths[name] = tmp_path / f"{name}.h5ad"
            x.write_h5ad(paths[name])
        out = tmp_path / f"atlas{suffix}"
        its.concat_harmonized(paths, out_file=out, engine=engine, **kwargs)
        merged = ad.read_h5ad(out)
    # merge="first": B's rows; TP53's is the sum of its two members' rows, not the first one's
    loadings = pd.DataFrame(merged.varm["loadings"], index=merged.var_names)
    np.testing.assert_array_equal(loadings.loc["TP53"].to_numpy(), loadings_b[0] + loadings_b[1])
    np.testing.assert_array_equal(loadings.loc["BRCA1"].to_numpy(), loadings_b[2])
    # a table cannot be summed: B's is dropped, with a note in B's record (A's, unmerged, is kept)
    rec = merged.uns["idtrack"]["provenance"]
    assert rec["B"]["var_aligned"]["varm"]["loadings"] == "summed"
    assert rec["B"]["var_aligned"]["varm"]["notes"].startswith("dropped: a DataFrame cannot be summed")
    assert "var_aligned" not in rec["A"]


# ---------------------------------------------------------------------------------------------
# raw: concatenated by every writer that can, left out with a record where it cannot
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("join", ["inner", "outer"])
def test_raw_is_streamed_like_in_memory(snapshot_default, mixed, tmp_path, join):
    adatas, _ = mixed
    paths = {}
    for name, adata in adatas.items():
        adata.raw = adata.copy()
        paths[name] = tmp_path / f"{name}.h5ad"
        adata.write_h5ad(paths[name])
    in_memory = its.concat_harmonized(adatas, snapshot=snapshot_default, join=join, **KWARGS)
    assert in_memory.raw is not None
    out = tmp_path / "atlas.h5ad"
    its.concat_harmonized(paths, snapshot=snapshot_default, join=join, out_file=out, engine="stream", **KWARGS)
    on_disk = ad.read_h5ad(out)
    assert on_disk.raw is not None
    assert on_disk.raw.var_names.tolist() == in_memory.raw.var_names.tolist()
    assert on_disk.raw.X.dtype == in_memory.raw.X.dtype
    assert sparse.issparse(on_disk.raw.X) == sparse.issparse(in_memory.raw.X)
    np.testing.assert_array_equal(on_disk.raw.X.toarray(), in_memory.raw.X.toarray())
    assert on_disk.uns["idtrack"]["not_concatenated"] == {}
    assert in_memory.uns["idtrack"]["not_concatenated"] == {}


def test_raw_left_out_by_the_zarr_writer_is_recorded(snapshot_default, mixed, tmp_path):
    adatas, _ = mixed
    paths = {}
    for name, adata in adatas.items():
        adata.raw = adata.copy()
        paths[name] = tmp_path / f"{name}.h5ad"
        adata.write_h5ad(paths[name])
    out = tmp_path / "atlas.zarr"
    its.concat_harmonized(paths, snapshot=snapshot_default, join="outer", out_file=out, engine="stream", **KWARGS)
    on_disk = ad.read_zarr(out)
    assert on_disk.raw is None
    rec = on_disk.uns["idtrack"]
    assert rec["params"]["writer"] == "anndata"
    assert "does not concatenate raw" in rec["not_concatenated"]["raw"]
