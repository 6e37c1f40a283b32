"""The Dask engine of concat_harmonized(out_file=...) and lazy harmonize_var_names.

Every computed value is compared with the in-memory path's (values, dtype, sparse format),
on the synchronous scheduler and on a two-worker ``LocalCluster``.
"""

from __future__ import annotations

import contextlib
import warnings

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp._concat import _dask as _concat_dask
from idtrack_sc.pp._concat import _run

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask.array.utils import meta_from_array  # noqa: E402 - after the importorskip

KWARGS = {"to": "symbol", "label": "dataset", "index_unique": "-"}
# overlapping features, a duplicate (TP53 by symbol and by Ensembl ID, summed), a rename-free
# unmapped name present everywhere (kept by the consistent rule) and one present once (dropped)
GENES = {
    "A": ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS", "NOT_A_REAL_GENE"],
    "B": ["KRAS", "ENSG00000141510", "TP53", "BRCA1", "NOT_A_REAL_GENE"],
    "C": ["BRAF", "ENSG00000141510", "NOT_A_REAL_GENE", "ALSO_NOT_A_GENE", "TP53", "KRAS"],
}


def make(var_names, n_obs, *, seed, prefix, fmt="csr"):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.8, (n_obs, len(var_names))).astype(np.float32)
    x = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "dense": np.asarray}[fmt](dense)
    adata = ad.AnnData(
        x,
        obs=pd.DataFrame(
            {"batch": pd.Categorical([prefix] * n_obs), "depth": rng.integers(1, 100, n_obs)},
            index=pd.Index([f"c{i}" for i in range(n_obs)], dtype=object),
        ),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=object)),
    )
    # integer counts: duplicates are summed in int64 (sum_dtype), in memory and lazily alike
    adata.layers["counts"] = sparse.csr_matrix(dense.astype(np.int32) * 3)
    adata.obsm["X_pca"] = rng.normal(size=(n_obs, 3)).astype(np.float32)
    return adata


@pytest.fixture
def datasets():
    return {
        "A": make(GENES["A"], 23, seed=0, prefix="a"),
        "B": make(GENES["B"], 17, seed=1, prefix="b", fmt="dense"),
        "C": make(GENES["C"], 29, seed=2, prefix="c", fmt="csc"),
    }


def write_all(tmp_path, adatas):
    paths = {}
    for name, adata in adatas.items():
        paths[name] = tmp_path / f"{name}.h5ad"
        adata.write_h5ad(paths[name])
    return paths


@pytest.fixture(scope="module")
def cluster():
    """A small two-process cluster (1 thread each), shared by the module's tests."""
    distributed = pytest.importorskip("distributed")
    with (
        warnings.catch_warnings(),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB", dashboard_address=None
        ) as local,
    ):
        warnings.simplefilter("ignore")
        yield local


@contextlib.contextmanager
def scheduler(kind, cluster_fixture=None):
    if kind == "sync":
        with dask.config.set(scheduler="synchronous"):
            yield
        return
    from distributed import Client

    with Client(cluster_fixture) as client:
        yield client


def assert_matrix_equal(got, ref, where):
    assert sparse.issparse(got) == sparse.issparse(ref), where
    assert got.dtype == ref.dtype, (where, got.dtype, ref.dtype)
    assert got.shape == ref.shape, where
    if sparse.issparse(got):
        assert got.format == "csr", where
        assert got.has_sorted_indices, where
        got, ref = got.toarray(), ref.toarray()
    np.testing.assert_array_equal(np.asarray(got), np.asarray(ref), err_msg=where)


def assert_same_result(on_disk, in_memory):
    assert on_disk.obs_names.tolist() == in_memory.obs_names.tolist()
    pd.testing.assert_frame_equal(on_disk.obs, in_memory.obs)
    assert on_disk.var_names.tolist() == in_memory.var_names.tolist()
    pd.testing.assert_frame_equal(on_disk.var, in_memory.var, check_index_type=False)
    assert_matrix_equal(on_disk.X, in_memory.X, "X")
    layers = sorted(k for k in on_disk.layers if k is not None)  # anndata >= 0.13 lists X as layers[None]
    assert layers == sorted(k for k in in_memory.layers if k is not None)
    for key in layers:
        assert_matrix_equal(on_disk.layers[key], in_memory.layers[key], f"layers[{key!r}]")
    assert sorted(on_disk.obsm) == sorted(in_memory.obsm)
    for key in on_disk.obsm:
        assert_matrix_equal(on_disk.obsm[key], in_memory.obsm[key], f"obsm[{key!r}]")


def read(path):
    return ad.read_h5ad(path) if path.suffix == ".h5ad" else ad.read_zarr(path)


# ---------------------------------------------------------------------------------------------
# concat_harmonized(out_file=..., engine="dask") equals the in-memory result
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".h5ad", ".zarr"])
@pytest.mark.parametrize("join", ["inner", "outer"])
def test_dask_out_file_equals_in_memory(snapshot_default, datasets, tmp_path, join, suffix):
    paths = write_all(tmp_path, datasets)
    in_memory = its.concat_harmonized(datasets, snapshot=snapshot_default, join=join, **KWARGS)
    out = tmp_path / f"atlas{suffix}"
    with scheduler("sync"):
        got = its.concat_harmonized(
            paths, snapshot=snapshot_default, join=join, out_file=out, engine="dask", max_loaded_elems=40, **KWARGS
        )
    assert got is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in paths.values()), out.name])
    on_disk = read(out)
    assert_same_result(on_disk, in_memory)
    # duplicates were summed in the widened dtype, in both
    assert on_disk.layers["counts"].dtype == np.int64
    rec = on_disk.uns["idtrack"]
    assert rec["params"]["engine"] == "dask"
    assert rec["counts"]["collapsed_groups"].tolist() == [0, 1, 1]
    if join == "outer":
        assert "BRCA2" in on_disk.var_names
        assert on_disk.var.loc["BRCA2", "idtrack_n_datasets"] == 1
    assert "ALSO_NOT_A_GENE" not in on_disk.var_names  # failed in one dataset only: dropped
    assert "NOT_A_REAL_GENE" in on_disk.var_names  # failed in every dataset: kept


def test_zarr_out_file_reads_no_deprecated_anndata_setting(snapshot_default, datasets, tmp_path):
    # anndata 0.13 deprecates settings.zarr_write_format (0.14 removes it: reading it would
    # fail there): the store is made in the format anndata itself writes, without the setting
    # on anndata >= 0.13, and in the setting's format before
    import warnings
    from importlib.metadata import version

    import zarr

    from idtrack_sc.pp._concat._dask import zarr_write_format

    with warnings.catch_warnings():
        # anndata 0.13's warning on reading the setting: "This setting will be removed in 0.14 …"
        warnings.filterwarnings("error", message=r".*(zarr_write_format|setting will be removed).*")
        expected = zarr_write_format()
    major, minor = (int(p) for p in version("anndata").split(".")[:2])
    if (major, minor) >= (0, 13):
        assert expected == 3
    else:
        assert expected == ad.settings.zarr_write_format
    paths = write_all(tmp_path, datasets)
    out = tmp_path / "atlas.zarr"
    with scheduler("sync"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=out, engine="dask", **KWARGS)
    if int(zarr.__version__.split(".")[0]) >= 3:
        assert zarr.open_group(str(out), mode="r").metadata.zarr_format == expected
    assert read(out).n_vars > 0


def test_dask_on_local_cluster_equals_in_memory(snapshot_default, datasets, tmp_path, cluster):
    paths = write_all(tmp_path, datasets)
    in_memory = its.concat_harmonized(datasets, snapshot=snapshot_default, join="outer", **KWARGS)
    out = tmp_path / "atlas.zarr"
    from distributed import get_task_stream

    with scheduler("cluster", cluster) as client, get_task_stream(client) as stream:
        its.concat_harmonized(
            paths, snapshot=snapshot_default, join="outer", out_file=out, max_loaded_elems=40, **KWARGS
        )
    # the blocks were read and harmonized by the cluster's workers
    assert {t["worker"] for t in stream.data} <= set(cluster.scheduler_info["workers"])
    assert len(stream.data) >= 3 * 4  # at least one block per dataset and matrix (X, counts, X_pca, ...)
    assert_same_result(read(out), in_memory)
    assert read(out).uns["idtrack"]["params"]["engine"] == "dask"


def test_dask_and_stream_write_the_same_tables_and_record(snapshot_default, datasets, tmp_path):
    paths = write_all(tmp_path, datasets)
    out = {}
    for engine in ("stream", "dask"):
        out[engine] = tmp_path / f"{engine}.h5ad"
        with scheduler("sync"):
            its.concat_harmonized(
                paths, snapshot=snapshot_default, join="outer", out_file=out[engine], engine=engine, **KWARGS
            )
    stream, lazy = read(out["stream"]), read(out["dask"])
    assert_same_result(lazy, stream)
    rec_s, rec_d = stream.uns["idtrack"], lazy.uns["idtrack"]
    assert rec_s["params"].pop("engine") == rec_s["params"].pop("writer") == "stream"
    assert rec_d["params"].pop("engine") == rec_d["params"].pop("writer") == "dask"
    for key in ("date", "environment"):
        rec_s.pop(key), rec_d.pop(key)
    for name in rec_s["provenance"]:
        for rec in (rec_s, rec_d):
            rec["provenance"][name].pop("date", None)
    _assert_nested_equal(rec_d, rec_s, "uns")
    assert sorted(lazy.uns) == sorted(stream.uns)


def _assert_nested_equal(a, b, where):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _assert_nested_equal(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.asarray(a).tolist() == np.asarray(b).tolist(), where
    else:
        assert a == b, where


def test_dask_anndata_inputs_raw_and_uns_merge(snapshot_default, datasets, tmp_path):
    """In-memory inputs are staged and read back lazily; raw is concatenated as anndata.concat does."""
    for name, adata in datasets.items():
        adata.raw = adata.copy()
        adata.uns["source"] = {"lab": "same"}
        adata.uns["only"] = name
    in_memory = its.concat_harmonized(datasets, snapshot=snapshot_default, join="outer", uns_merge="same", **KWARGS)
    out = tmp_path / "atlas.h5ad"
    with scheduler("sync"):
        its.concat_harmonized(
            datasets, snapshot=snapshot_default, join="outer", uns_merge="same", out_file=out, engine="dask", **KWARGS
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.h5ad"]  # staged inputs removed
    on_disk = read(out)
    assert_same_result(on_disk, in_memory)
    assert on_disk.raw is not None
    assert on_disk.raw.var_names.tolist() == in_memory.raw.var_names.tolist()
    assert_matrix_equal(on_disk.raw.X, in_memory.raw.X, "raw.X")
    assert on_disk.uns["source"] == {"lab": "same"}
    assert "only" not in on_disk.uns
    assert "idtrack" not in datasets["A"].uns  # inputs untouched (copy_inputs=True)


# ---------------------------------------------------------------------------------------------
# bad input, engine choice and the atomic write
# ---------------------------------------------------------------------------------------------
def test_existing_target_and_unknown_suffix_are_refused_before_any_work(
    snapshot_default, datasets, tmp_path, monkeypatch
):
    paths = write_all(tmp_path, datasets)
    out = tmp_path / "atlas.zarr"
    out.mkdir()
    (out / "marker").write_text("keep me")

    def no_work(*args, **kwargs):  # pragma: no cover - must not be reached
        msg = "a dataset was harmonized before the argument check"
        raise AssertionError(msg)

    monkeypatch.setattr(_run, "_harmonize_anndata", no_work)
    with pytest.raises(FileExistsError, match="already exists; give overwrite=True"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=out, **KWARGS)
    assert (out / "marker").read_text() == "keep me"
    with pytest.raises(ValueError, match=r"out_file must end in .h5ad or .zarr"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=tmp_path / "atlas.loom", **KWARGS)
    with pytest.raises(ValueError, match="engine must be one of"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=tmp_path / "x.h5ad", engine="spark", **KWARGS)
    monkeypatch.setattr(_concat_dask, "dask_available", lambda: False)
    with pytest.raises(ImportError, match=r"idtrack-sc\[dask\]"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=tmp_path / "x.h5ad", engine="dask", **KWARGS)


def test_auto_engine_falls_back_to_the_streamer_without_dask(snapshot_default, datasets, tmp_path, monkeypatch):
    paths = write_all(tmp_path, datasets)
    monkeypatch.setattr(_concat_dask, "dask_available", lambda: False)
    out = tmp_path / "atlas.h5ad"
    its.concat_harmonized(paths, snapshot=snapshot_default, out_file=out, **KWARGS)
    assert read(out).uns["idtrack"]["params"]["engine"] == "stream"


def _corrupt_x(path):
    """Cut ``X/data`` short: the file opens and its features read, but its last rows do not."""
    with h5py.File(path, "r+") as f:
        data = f["X/data"][:]
        del f["X/data"]
        f["X"].create_dataset("data", data=data[: len(data) // 2])


@pytest.mark.parametrize("suffix", [".h5ad", ".zarr"])
def test_failure_mid_write_leaves_the_target_untouched(snapshot_default, datasets, tmp_path, suffix):
    paths = write_all(tmp_path, datasets)
    out = tmp_path / f"atlas{suffix}"
    with scheduler("sync"):
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=out, max_loaded_elems=40, **KWARGS)
    before = read(out)
    _corrupt_x(paths["C"])  # the last dataset: earlier blocks are written before it fails
    with scheduler("sync"), pytest.raises(Exception):  # noqa: B017, PT011 - whatever h5py/scipy raise
        its.concat_harmonized(
            paths, snapshot=snapshot_default, out_file=out, overwrite=True, max_loaded_elems=40, **KWARGS
        )
    # no temporary store left beside the target, and the previous result is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in paths.values()), out.name])
    after = read(out)
    assert_matrix_equal(after.X, before.X, "X")
    assert after.obs_names.tolist() == before.obs_names.tolist()


def test_overwrite_replaces_the_target(snapshot_default, datasets, tmp_path):
    paths = write_all(tmp_path, datasets)
    out = tmp_path / "atlas.zarr"
    with scheduler("sync"):
        its.concat_harmonized({"A": paths["A"]}, snapshot=snapshot_default, out_file=out, **KWARGS)
        its.concat_harmonized(paths, snapshot=snapshot_default, out_file=out, overwrite=True, **KWARGS)
    assert read(out).n_obs == sum(a.n_obs for a in datasets.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in paths.values()), out.name])


def test_import_does_not_import_dask():
    """idtrack_sc imports no Dask of its own (anndata may), and works where Dask is absent."""
    import subprocess
    import sys

    added = (
        "import sys, anndata; before = set(sys.modules); import idtrack_sc, idtrack_sc.pp; "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ('dask', 'distributed')))"
    )
    blocked = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; import idtrack_sc; "
        "from pathlib import Path; from idtrack_sc.pp._concat import _on_disk; "
        "print(_on_disk.choose_engine('auto', Path('x.h5ad')).name)"
    )
    run = [sys.executable, "-W", "ignore", "-c"]
    assert subprocess.run([*run, added], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    assert subprocess.run([*run, blocked], capture_output=True, text=True, check=True).stdout.strip() == "stream"


# ---------------------------------------------------------------------------------------------
# harmonize_var_names on Dask-backed AnnData: X, layers and raw stay lazy, values exact
# ---------------------------------------------------------------------------------------------
def lazy_copy(adata, *, chunks=7):
    lazy = adata.copy()
    lazy.X = da.from_array(adata.X, chunks=(chunks, -1), asarray=False)
    for key in [k for k in adata.layers if k is not None]:
        lazy.layers[key] = da.from_array(adata.layers[key], chunks=(chunks, -1), asarray=False)
    if adata.raw is not None:
        lazy.raw = ad.AnnData(
            X=da.from_array(adata.raw.X, chunks=(chunks, -1), asarray=False), obs=adata.obs[[]], var=adata.raw.var
        )
    return lazy


@pytest.mark.parametrize("kind", ["sync", "cluster"])
@pytest.mark.parametrize("fmt", ["csr", "dense"])
def test_harmonize_var_names_keeps_dask_lazy_and_exact(snapshot_default, request, kind, fmt):
    eager = make(GENES["C"], 31, seed=5, prefix="c", fmt=fmt)
    eager.raw = eager.copy()
    lazy = lazy_copy(eager)
    its.pp.harmonize_var_names(eager, snapshot=snapshot_default, to="symbol", unmapped="keep")
    its.pp.harmonize_var_names(lazy, snapshot=snapshot_default, to="symbol", unmapped="keep")
    assert isinstance(lazy.X, da.Array)
    assert isinstance(lazy.layers["counts"], da.Array)
    assert isinstance(lazy.raw.X, da.Array)
    assert sparse.issparse(meta_from_array(lazy.X)) == (fmt == "csr")  # the block type is known without computing
    assert lazy.var_names.tolist() == eager.var_names.tolist()
    pd.testing.assert_frame_equal(lazy.var, eager.var)
    context = scheduler(kind, request.getfixturevalue("cluster") if kind == "cluster" else None)
    with context:
        x, counts, raw_x = dask.compute(lazy.X, lazy.layers["counts"], lazy.raw.X)
    for got, ref, where in ((x, eager.X, "X"), (counts, eager.layers["counts"], "counts"), (raw_x, eager.raw.X, "raw")):
        assert got.dtype == ref.dtype, where
        np.testing.assert_array_equal(
            got.toarray() if sparse.issparse(got) else got,
            ref.toarray() if sparse.issparse(ref) else ref,
            err_msg=where,
        )
    assert counts.dtype == np.int64  # TP53 + ENSG00000141510 summed in the widened dtype


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_dask_matrices_missing_from_some_datasets_are_filled_as_in_memory(snapshot_default, datasets, tmp_path, join):
    """A layer or embedding only some datasets have: dropped (inner) or filled (outer) as anndata.concat does."""
    datasets["A"].layers["spliced"] = datasets["A"].X.copy()
    datasets["A"].obsm["X_umap"] = np.ones((datasets["A"].n_obs, 2), dtype=np.float32)
    datasets["B"].obsm["X_pca"] = datasets["B"].obsm["X_pca"][:, :2]  # a narrower embedding
    paths = write_all(tmp_path, datasets)
    in_memory = its.concat_harmonized(datasets, snapshot=snapshot_default, join=join, **KWARGS)
    out = tmp_path / "atlas.h5ad"
    with scheduler("sync"):
        its.concat_harmonized(paths, snapshot=snapshot_default, join=join, out_file=out, engine="dask", **KWARGS)
    on_disk = read(out)
    assert_same_result(on_disk, in_memory)
    assert ("spliced" in on_disk.layers) == (join == "outer")
