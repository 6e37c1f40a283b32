"""HarmonizeFeatures (reference-tool compatibility) on the toy datasets."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.compat import HarmonizeFeatures


def make(var_names, n_obs, *, seed, prefix):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(2, (n_obs, len(var_names))).astype(np.float32)
    adata = ad.AnnData(
        sparse.csr_matrix(dense),
        obs=pd.DataFrame({"sample_ID": [prefix] * n_obs}, index=[f"c{i}" for i in range(n_obs)]),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=object)),
    )
    return adata, dense


@pytest.fixture
def toy_files(tmp_path):
    a, _ = make(["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS", "WEIRD_1"], 50, seed=0, prefix="a")
    b, dense_b = make(["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE", "WEIRD_1"], 60, seed=1, prefix="b")
    paths = {"A": tmp_path / "A.h5ad", "B": tmp_path / "B.h5ad"}
    a.write_h5ad(paths["A"])
    b.write_h5ad(paths["B"])
    return paths, dense_b


def harmonizer(paths, tmp_path):
    return HarmonizeFeatures(
        project_name="toy",
        data_h5ad_dict={k: str(v) for k, v in paths.items()},
        project_local_repository=tmp_path / "project",
        idtrack_local_repository=tmp_path / "cache",
        target_ensembl_release=114,
        final_database="HGNC Symbol",
        organism_name="homo_sapiens",
        graph_last_ensembl_release="default",
        verbose_level=0,
    )


def test_unify_union_and_intersect(toy_files, tmp_path):
    paths, dense_b = toy_files
    hf = harmonizer(paths, tmp_path)
    assert hf.namespace == "symbol"
    union = hf.unify_multiple_anndatas(mode="union")
    assert union.n_obs == 110
    assert sorted(union.var_names) == ["BRAF", "BRCA1", "BRCA2", "KRAS", "TP53", "WEIRD_1"]
    assert union.obs["handle_anndata"].value_counts().to_dict() == {"A": 50, "B": 60}
    assert union.obs_names[0] == "c0_A"
    assert union.var["intersection"].to_dict() == {
        "BRAF": 0,
        "BRCA1": 1,
        "BRCA2": 0,
        "KRAS": 0,
        "TP53": 1,
        "WEIRD_1": 1,
    }
    assert union.var.loc["TP53", "ensembl_gene"] == "ENSG00000141510"
    assert union.var.loc["TP53", "converted_id"] == "TP53"
    b = union[union.obs["handle_anndata"] == "B", "TP53"].X.toarray().ravel()
    np.testing.assert_array_equal(b, dense_b[:, 0] + dense_b[:, 1])

    inter = hf.unify_multiple_anndatas(mode="intersect", obs_columns_to_keep=["sample_ID"])
    assert sorted(inter.var_names) == ["BRCA1", "TP53", "WEIRD_1"]
    assert list(inter.obs.columns) == ["handle_anndata", "sample_ID"]
    with pytest.raises(ValueError, match="mode must be"):
        hf.unify_multiple_anndatas(mode="both")


def test_reference_attributes(toy_files, tmp_path):
    paths, _ = toy_files
    hf = harmonizer(paths, tmp_path)
    # computed on first use, like the reference tool's matchings
    assert hf.conversion_failed_identifiers == {"NOT_A_REAL_GENE"}
    assert hf.conversion_failed_but_consistent_identifiers == {"WEIRD_1"}
    assert hf.removed_conversion_failed_identifiers == {
        "NOT_A_REAL_GENE": {"reason": "1-to-0", "datasets_containing": ["B"]}
    }
    assert hf.kept_conversion_failed_identifiers["WEIRD_1"]["datasets_containing"] == ["A", "B"]
    assert hf.multiple_ensembl_dict["TP53"] == ["ENSG00000141510"]
    assert "WEIRD_1" not in hf.multiple_ensembl_dict
    adata, before, after = hf.feature_harmonizer("B")
    assert (before, after) == (5, 3)
    assert adata.var_names.tolist() == ["TP53", "BRCA1", "WEIRD_1"]


def test_readable_files(toy_files, tmp_path):
    paths, _ = toy_files
    hf = harmonizer(paths, tmp_path)
    hf.unify_multiple_anndatas()
    folder = tmp_path / "project" / "toy"
    assert sorted(p.name for p in folder.iterdir()) == ["A.tsv", "B.tsv", "features.tsv", "summary.json"]
    b = pd.read_csv(folder / "B.tsv", sep="\t", keep_default_na=False).set_index("query")
    assert b.loc["NOT_A_REAL_GENE", "fate"] == "removed"
    assert b.loc["ENSG00000141510", "target"] == "TP53"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["conversion_failed_identifiers"] == ["NOT_A_REAL_GENE"]
    assert summary["conversion_failed_but_consistent_identifiers"] == ["WEIRD_1"]
    assert summary["datasets"] == ["A", "B"]
    assert not list(folder.glob("*.pickle"))


def test_arguments_are_checked(toy_files, tmp_path):
    paths, _ = toy_files
    with pytest.raises(ValueError, match="verbose_level"):
        HarmonizeFeatures("toy", paths, tmp_path, tmp_path, 114, verbose_level=7)
    with pytest.raises(FileNotFoundError, match="dataset 'C'"):
        HarmonizeFeatures(
            "toy", {"C": tmp_path / "nope.h5ad"}, tmp_path, tmp_path, 114, graph_last_ensembl_release="default"
        )


def test_top_level_name():
    assert its.HarmonizeFeatures is HarmonizeFeatures
