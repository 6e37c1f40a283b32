"""harmonize_var_names / concat_harmonized: another organism is refused, non-names are no genes.

Real names: squidpy's mouse test dataset (MGI symbols, Ensembl mouse IDs;
``tests/data/organisms``) and pbmc68k_reduced (human symbols), on the shipped snapshots.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp import var_columns
from idtrack_sc.resolve import OrganismMismatchError

COLS = var_columns("idtrack")
MOUSE_VAR = Path(__file__).parents[1] / "data" / "organisms" / "squidpy_mouse_var.tsv"


def _adata(var: pd.DataFrame, n_obs: int = 3) -> ad.AnnData:
    x = sparse.csr_matrix(np.arange(1, n_obs * len(var) + 1, dtype=np.float32).reshape(n_obs, -1))
    adata = ad.AnnData(x, var=var)
    adata.obs_names = pd.Index([f"c{i}" for i in range(n_obs)], dtype=object)
    return adata


@pytest.fixture(scope="module")
def mouse_var() -> pd.DataFrame:
    return pd.read_csv(MOUSE_VAR, sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture
def mouse(mouse_var) -> ad.AnnData:
    var = pd.DataFrame({"gene_ids": mouse_var["gene_ids"].to_numpy(dtype=object)}, index=mouse_var["symbol"])
    return _adata(var)


@pytest.fixture(scope="module")
def pbmc() -> ad.AnnData:
    sc = pytest.importorskip("scanpy")
    return sc.datasets.pbmc68k_reduced()


def test_mouse_data_under_human_is_refused_before_anything_is_written(mouse):
    before = mouse.copy()
    for id_key, match in ((None, "look like mus_musculus genes"), ("gene_ids", r"IDs of mus_musculus \(ENSMUSG")):
        with pytest.raises(OrganismMismatchError, match=match):
            its.pp.harmonize_var_names(mouse, organism="human", id_key=id_key)
        assert mouse.var_names.equals(before.var_names)
        assert list(mouse.var.columns) == ["gene_ids"]
        assert "idtrack" not in mouse.uns
    # the override keeps the old behaviour: converted as human identifiers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        its.pp.harmonize_var_names(mouse, organism="human", check_organism=False, pair_key=None, to="symbol")
    assert {"ST18", "CSPP1", "SULF1"} <= set(mouse.var_names)  # St18, Cspp1, Sulf1 read as human
    # under its own organism nothing is refused
    again = before.copy()
    its.pp.harmonize_var_names(again, organism="mouse", to="symbol")
    assert (again.var[COLS["outcome"]] == "1:1").mean() > 0.95


def test_concat_refuses_datasets_of_another_organism(mouse, pbmc, tmp_path):
    out = tmp_path / "atlas.h5ad"
    with pytest.raises(OrganismMismatchError) as err:
        its.concat_harmonized({"pbmc": pbmc, "brain": mouse}, organism="human", out_file=out)
    message = str(err.value)
    assert message.startswith("dataset 'brain'")
    assert "organism='mus_musculus'" in message
    assert "convert_orthologs" in message
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # nothing staged either
    with pytest.raises(OrganismMismatchError, match="dataset 'pbmc'.*homo_sapiens"):
        its.concat_harmonized({"pbmc": pbmc, "brain": mouse}, organism="mouse")


def test_missing_values_are_never_summed_into_a_gene():
    # BRCA1, EGFR and PTEN whose symbols were lost: written as text by a CSV round trip
    var = pd.DataFrame(
        {"symbol_col": pd.array(["TP53", "nan", "nan", "nan", "NA", "CD3E"], dtype=object)},
        index=pd.Index(["ENSG00000141510", "ENSG00000012048", "ENSG00000146648", "ENSG00000171862", "x", "y"]),
    )
    adata = _adata(var)
    x = adata.X.toarray()
    its.pp.harmonize_var_names(adata, organism="human", id_key="symbol_col", to="symbol", pair_key=None)
    var_out = adata.var
    # before: the three nan became one feature SCN11A with their counts added
    assert "SCN11A" not in adata.var_names
    assert "XK" not in adata.var_names
    gone = var_out[var_out[COLS["reason"]] == "missing_value"]
    assert len(gone) == 4
    assert (gone[COLS["n_merged"]] == 1).all()
    assert sorted(gone[COLS["original"]]) == ["NA", "nan", "nan", "nan"]
    # each keeps its own counts
    got = adata[:, gone.index].X.toarray()
    assert sorted(got.sum(axis=0).tolist()) == sorted(x[:, 1:5].sum(axis=0).tolist())


@pytest.mark.parametrize("infer_string", [False, True])  # True: pandas 3's string dtype
def test_real_missing_values_in_the_var_index_do_not_crash(infer_string):
    with pd.option_context("future.infer_string", infer_string):
        names = pd.Index(["TP53", np.nan, "CD3E", np.nan, None], dtype=object)
        adata = _adata(pd.DataFrame(index=names))
        x = adata.X.toarray()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # before: ValueError: 'list' argument must have no negative elements (np.bincount)
            # with pandas 3's strings, and the missing names summed into one feature "nan" without
            its.pp.harmonize_var_names(adata, organism="human", to="symbol")
        assert adata.n_vars == 5  # nothing merged, nothing lost
        assert adata.var_names.is_unique
        empty = adata.var[adata.var[COLS["reason"]] == "empty"]
        assert len(empty) == 3
        assert (empty[COLS["n_merged"]] == 1).all()
        assert {"TP53", "CD3E"} <= set(adata.var_names)
        assert np.array_equal(np.sort(adata.X.toarray().sum(axis=0)), np.sort(x.sum(axis=0)))


def test_positional_names_are_no_genes():
    adata = _adata(pd.DataFrame(index=[str(i) for i in range(2000)]))  # AnnData's default var_names
    its.pp.harmonize_var_names(adata, organism="human")
    # before: '1' became A1BG, '2' A2M, ...
    assert (adata.var[COLS["outcome"]] == "1:0").all()
    assert set(adata.var[COLS["reason"]]) == {"not_a_name"}
    assert adata.var[COLS["original"]].tolist() == [str(i) for i in range(2000)]


def test_concat_never_matches_positional_names_across_datasets(pbmc):
    a = _adata(pd.DataFrame(index=[*pbmc.var_names[:50], *map(str, range(30))]))
    b = _adata(pd.DataFrame(index=[*pbmc.var_names[:50], *map(str, range(30))]))
    merged = its.concat_harmonized({"a": a, "b": b}, organism="human", to="symbol")
    # before: '1' was A1BG in both; as names the positions would line up unrelated features
    assert not set(map(str, range(30))) & set(merged.var_names)
    assert "A1BG" not in merged.var_names
    assert merged.n_vars >= 45
