"""HarmonizeFeatures: the reference tool's rules and layout, on the embedded snapshot."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.compat import HarmonizeFeatures

TP53, BRCA1, BRCA2 = "ENSG00000141510.19", "ENSG00000012048.26", "ENSG00000139618.19"  # Ensembl 114
BRAF, KRAS = "ENSG00000157764.14", "ENSG00000133703.14"


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


def harmonizer(paths, tmp_path, **kwargs):
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
        **kwargs,
    )


def test_diagnostics_follow_the_reference_rules(toy_files, tmp_path):
    paths, _ = toy_files
    hf = harmonizer(paths, tmp_path, debugging_variables=True)
    # B has TP53 and its Ensembl ID: the one equal to the target (TP53) is kept, the other
    # removed (n-to-1); a gene failing in one dataset is removed, in every dataset kept
    assert hf.dict_n_to_1 == {"ENSG00000141510": ["B"]}
    assert hf.dict_n_to_1_with_query == {"TP53": {("ENSG00000141510", "TP53"): ["B"]}}
    assert hf.conversion_failed_identifiers == {"ENSG00000141510", "NOT_A_REAL_GENE"}
    assert hf.conversion_failed_but_consistent_identifiers == {"WEIRD_1"}
    assert hf.removed_conversion_failed_identifiers == {
        "ENSG00000141510": {"reason": "n-to-1", "datasets_containing": ["B"]},
        "NOT_A_REAL_GENE": {"reason": "1-to-0", "datasets_containing": ["B"]},
    }
    assert hf.kept_conversion_failed_identifiers == {"WEIRD_1": {"reason": "1-to-0", "datasets_containing": ["A", "B"]}}
    # converted name -> its Ensembl gene(s), in order of first appearance, for every converted identifier
    assert hf.multiple_ensembl_dict == {
        "TP53": [TP53],
        "BRCA1": [BRCA1],
        "BRCA2": [BRCA2],
        "BRAF": [BRAF],
        "KRAS": [KRAS],
    }
    unified = hf.unified_matching_dict
    assert unified["TP53"]["datasets_containing"] == ["A", "B"]
    assert unified["ENSG00000141510"]["matching"]["target_id"] == ["TP53"]
    assert set(hf.get_idtrack_matchings_for_all_datasets()) == {"A", "B"}
    assert hf.get_idtrack_matchings_for_all_datasets() is hf.get_idtrack_matchings_for_all_datasets()
    assert hf.datataset_conversion_dataframe_issues["gene_names_inconsistency"] == set()


def test_union_and_intersect_have_the_reference_layout(toy_files, tmp_path):
    paths, dense_b = toy_files
    hf = harmonizer(paths, tmp_path)
    before = dict(hf.multiple_ensembl_dict)
    union = hf.unify_multiple_anndatas(mode="union")
    assert union.shape == (110, 6)
    assert union.var_names.tolist() == sorted([TP53, BRCA1, BRCA2, BRAF, KRAS, "WEIRD_1"])
    assert union.obs_names[:2].tolist() == ["A_c0", "A_c1"]
    assert union.obs_names[50] == "B_c0"
    assert list(union.obs.columns) == ["handle_anndata"]
    assert union.obs["handle_anndata"].value_counts().to_dict() == {"B": 60, "A": 50}
    var = union.var.astype(str)
    assert var.loc[TP53].to_dict() == {
        "converted_id_A": "TP53",
        "converted_id_B": "TP53",
        "converted_id": "TP53",
        "intersection": "1",
    }
    assert var.loc[BRAF, "converted_id_B"] == "_PLACEHOLDER_NA_"
    assert var.loc["WEIRD_1", "converted_id"] == "WEIRD_1"
    assert union.var["intersection"].to_dict() == {
        BRAF: 0,
        BRCA1: 1,
        BRCA2: 0,
        KRAS: 0,
        TP53: 1,
        "WEIRD_1": 1,
    }
    # within B, TP53 keeps its own counts: the Ensembl ID's column is dropped, not added
    b_tp53 = union[union.obs["handle_anndata"] == "B", TP53].X.toarray().ravel()
    np.testing.assert_array_equal(b_tp53, dense_b[:, 0])

    inter = hf.unify_multiple_anndatas(mode="intersect", obs_columns_to_keep=["sample_ID"])
    assert inter.var_names.tolist() == [TP53, BRCA1, "WEIRD_1"]  # the first dataset's order
    assert list(inter.var.columns) == ["converted_id"]
    assert list(inter.obs.columns) == ["handle_anndata", "sample_ID"]
    # the diagnostics live in memory: unifying again changes none of them
    assert hf.multiple_ensembl_dict == before
    with pytest.raises(ValueError, match="mode must be"):
        hf.unify_multiple_anndatas(mode="both")
    with pytest.raises(KeyError, match="donor"):
        hf.unify_multiple_anndatas(obs_columns_to_keep=["donor"])


def test_feature_harmonizer_and_files(toy_files, tmp_path):
    paths, _ = toy_files
    hf = harmonizer(paths, tmp_path)
    adata, before, after = hf.feature_harmonizer("B")
    assert (before, after) == (5, 3)
    assert adata.var_names.tolist() == [TP53, BRCA1, "WEIRD_1"]
    assert adata.var["Query ID"].tolist() == ["TP53", "BRCA1", "WEIRD_1"]
    folder = tmp_path / "project"
    assert sorted(p.name for p in folder.iterdir()) == ["idtrack_result_toy_A.tsv", "idtrack_result_toy_B.tsv"]
    b = pd.read_csv(folder / "idtrack_result_toy_B.tsv", sep="\t", keep_default_na=False).set_index("query_id")
    assert b.loc["ENSG00000141510", "target_id"] == "TP53"
    assert b.loc["ENSG00000141510", "n_to_1"]
    assert b.loc["NOT_A_REAL_GENE", "reason"] == "not_found"
    with pytest.raises(KeyError, match="'C'"):
        hf.feature_harmonizer("C")


def test_n_to_1_without_the_target_removes_every_member(tmp_path):
    a, _ = make(["P53", "ENSG00000141510", "BRCA1"], 10, seed=2, prefix="a")
    b, _ = make(["BRCA1", "KRAS"], 10, seed=3, prefix="b")
    hf = HarmonizeFeatures(
        "nto1", {"A": a, "B": b}, tmp_path, tmp_path, 114, graph_last_ensembl_release="default", verbose_level=0
    )
    assert hf.dict_n_to_1 == {"ENSG00000141510": ["A"], "P53": ["A"]}
    assert hf.conversion_failed_identifiers == {"ENSG00000141510", "P53"}
    union = hf.unify_multiple_anndatas()
    assert sorted(union.var["converted_id"].astype(str)) == ["BRCA1", "KRAS"]


def test_idtrack_sc_method_sums_and_names_by_target(toy_files, tmp_path):
    paths, dense_b = toy_files
    hf = harmonizer(paths, tmp_path, method="idtrack_sc")
    union = hf.unify_multiple_anndatas(mode="union")
    assert sorted(union.var_names) == ["BRAF", "BRCA1", "BRCA2", "KRAS", "TP53", "WEIRD_1"]
    assert union.var.loc["TP53", "intersection"] == 1
    b = union[union.obs["handle_anndata"] == "B", "TP53"].X.toarray().ravel()
    np.testing.assert_array_equal(b, dense_b[:, 0] + dense_b[:, 1])
    assert "idtrack" in union.uns


def test_no_datasets_means_nothing_to_do(tmp_path):
    hf = HarmonizeFeatures("empty", {}, tmp_path, tmp_path, 114, organism_name="rat", verbose_level=0)
    assert hf.conversion_failed_identifiers == set()
    assert hf.conversion_failed_but_consistent_identifiers == set()
    assert hf.multiple_ensembl_dict == {}
    assert not hf.idt_initialized  # no snapshot needed, none looked for
    assert hf.unify_multiple_anndatas(mode="union").shape == (0, 0)
    assert hf.unify_multiple_anndatas(mode="intersect").shape == (0, 0)


def test_arguments_are_checked(toy_files, tmp_path):
    paths, _ = toy_files
    with pytest.raises(ValueError, match="verbose_level"):
        HarmonizeFeatures("toy", paths, tmp_path, tmp_path, 114, verbose_level=7)
    with pytest.raises(ValueError, match="method"):
        HarmonizeFeatures("toy", paths, tmp_path, tmp_path, 114, method="sum")
    with pytest.raises(FileNotFoundError, match="dataset 'C'"):
        HarmonizeFeatures(
            "toy", {"C": tmp_path / "nope.h5ad"}, tmp_path, tmp_path, 114, graph_last_ensembl_release="default"
        )
    with pytest.raises(ValueError, match="newer than the graph's newest release 110"):
        HarmonizeFeatures("toy", paths, tmp_path, tmp_path, 114, snapshot="default", graph_last_ensembl_release=110)


def test_top_level_name():
    assert its.HarmonizeFeatures is HarmonizeFeatures


def test_repeated_feature_names_are_a_clear_error(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata warns about the repeated name itself
        a, _ = make(["TP53", "TP53", "KRAS"], 5, seed=4, prefix="a")
    hf = HarmonizeFeatures(
        "dup", {"A": a}, tmp_path, tmp_path, 114, graph_last_ensembl_release="default", verbose_level=0
    )
    with pytest.raises(ValueError, match=r"dataset 'A': features \['TP53'\].*var_names_make_unique"):
        hf.unify_multiple_anndatas()


def test_verbose_summaries_agree_and_name_their_dataset(tmp_path, caplog):
    # a gene without a symbol at 114 (ENSG00000260000) is the reference tool's 1→1 with its
    # Ensembl gene standing in: the one-line count and the binned summary say the same
    import logging
    import re

    a, _ = make(["TP53", "ENSG00000260000", "NOT_A_REAL_GENE"], 20, seed=0, prefix="a")
    path = tmp_path / "a.h5ad"
    a.write_h5ad(path)
    with caplog.at_level(logging.INFO, logger="idtrack_sc"):
        HarmonizeFeatures("toy", {"a": str(path)}, tmp_path / "p", tmp_path / "c", 114, verbose_level=2)
    text = caplog.text
    line = re.search(r"a: 3 identifiers -> HGNC Symbol at release 114: 1→1 (\d+), 1→n (\d+), 1→0 (\d+)", text)
    binned = re.search(r"summary of dataset 'a':\n.*\n  1→0: (\d+) .*\n  1→1: (\d+) ", text)
    assert line
    assert binned
    assert (line[3], line[1]) == (binned[1], binned[2]) == ("1", "2")
    assert not any(r.getMessage() == "a" for r in caplog.records)  # no bare dataset-name line
