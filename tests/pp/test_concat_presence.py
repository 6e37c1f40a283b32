"""varm['idtrack_presence']: which dataset measured which feature, in every concatenated result.

An outer join fills a feature a dataset lacks with zeros; the presence matrix tells that zero
from a measured one (as CELLxGENE Census's dataset x feature presence matrix), in memory and
out of core, with every engine and output format.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its

A = ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"]
B = ["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"]  # B lacks BRCA2, BRAF, KRAS after harmonization
KWARGS = {"to": "symbol", "label": "dataset"}


def make(var_names, n_obs, *, seed, prefix):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(2, (n_obs, len(var_names))).astype(np.float32) + 1
    return ad.AnnData(
        sparse.csr_matrix(dense),
        obs=pd.DataFrame(index=[f"{prefix}{i}" for i in range(n_obs)]),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=object)),
    )


@pytest.fixture
def toy():
    a = make(A, 20, seed=0, prefix="a")
    b = make(B, 30, seed=1, prefix="b")
    x = b.X.toarray()
    x[:, 2] = 0  # BRCA1 measured in B, and zero in every cell of B
    b.X = sparse.csr_matrix(x)
    return {"A": a, "B": b}


def engines():
    rows = [(None, None), ("stream", ".h5ad"), ("stream", ".zarr")]
    try:
        import dask.array  # noqa: F401

        rows += [("dask", ".h5ad"), ("dask", ".zarr")]
    except ImportError:  # pragma: no cover - dask is a test dependency
        pass
    return rows


def run(adatas, tmp_path, engine, suffix, **kwargs):
    if engine is None:
        return its.concat_harmonized(adatas, **kwargs)
    paths = {}
    for name, x in adatas.items():
        paths[name] = tmp_path / f"{name.replace('/', '_')}.h5ad"
        x.write_h5ad(paths[name])
    out = tmp_path / f"atlas{suffix}"
    assert its.concat_harmonized(paths, out_file=out, engine=engine, **kwargs) is None
    return ad.read_h5ad(out) if suffix == ".h5ad" else ad.read_zarr(out)


@pytest.mark.parametrize(("engine", "suffix"), engines())
def test_presence_tells_a_missing_feature_from_a_measured_zero(snapshot_default, toy, tmp_path, engine, suffix):
    merged = run(toy, tmp_path, engine, suffix, snapshot=snapshot_default, join="outer", **KWARGS)
    presence = merged.varm["idtrack_presence"]
    assert isinstance(presence, pd.DataFrame)
    assert presence.columns.tolist() == ["A", "B"]
    assert presence.index.tolist() == merged.var_names.tolist()
    assert all(presence[c].dtype == bool for c in presence.columns)
    assert presence["A"].all()
    assert sorted(presence.index[presence["B"]]) == ["BRCA1", "TP53"]
    assert sorted(presence.index[~presence["B"]]) == ["BRAF", "BRCA2", "KRAS"]
    # in B's cells, KRAS (never measured) and BRCA1 (measured, all zero) hold the same zeros:
    # only the presence matrix tells them apart
    b_cells = merged.obs_names[merged.obs["dataset"] == "B"]
    for gene in ("KRAS", "BRCA1"):
        assert merged[b_cells, gene].X.sum() == 0
    # it agrees with the per-feature count of datasets
    np.testing.assert_array_equal(presence.sum(axis=1).to_numpy(), merged.var["idtrack_n_datasets"].to_numpy())


@pytest.mark.parametrize(("engine", "suffix"), engines())
def test_presence_of_an_inner_join_is_all_true(snapshot_default, toy, tmp_path, engine, suffix):
    merged = run(toy, tmp_path, engine, suffix, snapshot=snapshot_default, join="inner", **KWARGS)
    presence = merged.varm["idtrack_presence"]
    assert sorted(presence.index) == ["BRCA1", "TP53"]
    assert presence.to_numpy().all()


@pytest.mark.parametrize(("engine", "suffix"), [(None, None), ("stream", ".h5ad"), ("stream", ".zarr")])
def test_presence_columns_are_the_dataset_keys_and_user_varm_is_kept(snapshot_default, toy, tmp_path, engine, suffix):
    """Keys of a sequence (as anndata's keys=), a ``/`` made storable; the datasets' own varm merged beside it."""
    for x in toy.values():
        x.varm["loadings"] = np.arange(2 * x.n_vars, dtype=np.float64).reshape(x.n_vars, 2)
    adatas = {"lab/1": toy["A"], "lab/2": toy["B"]}
    merged = run(adatas, tmp_path, engine, suffix, snapshot=snapshot_default, join="inner", merge="first", **KWARGS)
    assert merged.varm["idtrack_presence"].columns.tolist() == ["lab_1", "lab_2"]
    assert merged.uns["idtrack"]["datasets"].tolist() == ["lab/1", "lab/2"]
    assert "loadings" in merged.varm


def test_presence_of_one_dataset_and_of_a_sequence(snapshot_default, toy):
    merged = its.concat_harmonized([toy["A"], toy["B"]], snapshot=snapshot_default, join="outer", **KWARGS)
    assert merged.varm["idtrack_presence"].columns.tolist() == ["0", "1"]
    one = its.concat_harmonized({"B": toy["B"]}, snapshot=snapshot_default, join="outer", **KWARGS)
    assert one.varm["idtrack_presence"]["B"].all()
