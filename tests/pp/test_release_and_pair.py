"""harmonize_var_names / concat_harmonized: the dataset's own release, and two identifier columns."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp import var_columns

COLS = var_columns("idtrack")


def make(var_names, **columns):
    x = sparse.csr_matrix(np.arange(4 * len(var_names), dtype=np.float32).reshape(4, -1))
    var = pd.DataFrame(
        {k: pd.array(v, dtype=object) for k, v in columns.items()}, index=pd.Index(var_names, dtype=object)
    )
    adata = ad.AnnData(x, var=var)
    adata.obs_names = pd.Index([f"c{i}" for i in range(4)], dtype=object)
    return adata


@pytest.fixture(scope="module")
def pbmc():
    sc = pytest.importorskip("scanpy")
    return sc.datasets.pbmc68k_reduced()


def test_auto_infers_the_release_and_records_it(pbmc, snapshot_default, tmp_path):
    adata = pbmc.copy()
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default)
    how = adata.uns["idtrack"]["release"]
    assert how["from_release"] == "auto"
    # 84 on GRCh38 releases alone; 75 (the GRCh37 gene set, hg19 as 68k PBMCs were processed) once it is covered
    expected = 75 if 75 in snapshot_default.releases else 84
    # symbols alone carry no assembly: read in the best-fitting release of the target's (GRCh38)
    assert (how["inferred"]["status"], how["inferred"]["release"], how["anchor_release"]) == (
        "determined",
        expected,
        84,
    )
    assert adata.uns["idtrack"]["params"]["from_release"] == "auto"
    # the gene the 2016 dataset measured as SOD2 reaches today's ID through its inferred successor
    sod2 = adata.var[adata.var[COLS["original"]] == "SOD2"].iloc[0]
    assert sod2[COLS["reason"]] == "inferred_successor"
    assert sod2.name == "ENSG00000291237"
    adata.write_h5ad(tmp_path / "a.h5ad")
    back = ad.read_h5ad(tmp_path / "a.h5ad").uns["idtrack"]["release"]
    assert int(back["inferred"]["release"]) == expected
    assert list(back["inferred"]["evidence"]["release"]) == list(snapshot_default.releases)


def test_none_reads_names_at_the_target_release(pbmc, snapshot_default):
    adata = pbmc.copy()
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, from_release=None)
    assert adata.uns["idtrack"]["release"] == {"from_release": "target"}
    assert "ENSG00000291237" in adata.var_names  # today's SOD2


def test_explicit_release_and_bad_release(snapshot_default):
    adata = make(["CAST", "TP53"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, from_release=84)
    assert adata.var_names.tolist() == ["ENSG00000153113", "ENSG00000141510"]
    assert adata.uns["idtrack"]["release"]["anchor_release"] == 84
    target_meaning = make(["CAST", "TP53"])
    its.pp.harmonize_var_names(target_meaning, snapshot=snapshot_default, from_release=114)
    assert target_meaning.var[COLS["outcome"]].astype(str).tolist() == ["1:n", "1:1"]
    untouched = make(["CAST", "TP53"])
    with pytest.raises(ValueError, match="outside the homo_sapiens snapshot"):
        its.pp.harmonize_var_names(untouched, snapshot=snapshot_default, from_release=60)
    assert untouched.var_names.tolist() == ["CAST", "TP53"]
    assert "idtrack" not in untouched.uns


def test_short_list_is_undetermined_and_said_so(snapshot_default, caplog):
    adata = make(["TP53", "BRCA2"])
    with caplog.at_level(logging.INFO, logger="idtrack_sc"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default)
    how = adata.uns["idtrack"]["release"]
    assert how["inferred"]["status"] == "undetermined"
    assert how["anchor_release"] == 114
    # two names say nothing about a release: one info line, no warning
    said = [r for r in caplog.records if "annotation release" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.INFO]
    assert "2 names with evidence are too few" in said[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_inference_is_logged_once(snapshot_default, caplog):
    names = its.resolve.names_at(snapshot_default, "symbol", 114)
    adata = make(sorted(set(names.dropna().astype(str)))[:60])
    with caplog.at_level(logging.INFO, logger="idtrack_sc"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default)
    assert adata.uns["idtrack"]["release"]["inferred"]["status"] == "determined"
    said = [r.getMessage() for r in caplog.records if "release" in r.getMessage() and "AnnData" in r.getMessage()]
    about = [r.getMessage() for r in caplog.records if "inferred release" in r.getMessage()]
    assert len(said) == 1, said
    assert not [m for m in about if not m.startswith("AnnData")]


def test_an_empty_id_is_not_a_resolved_id(snapshot_default):
    # 10x style, symbols beside IDs: an empty ID cell is `id_missing` (the symbol decides, its
    # failure too), never `id_only`, which says the ID resolved and the symbol did not
    from idtrack_sc.record import PAIR_STATUS

    names = ["TP53", "BRCA2", "NOT_A_SYMBOL", "NOT_A_SYMBOL_EITHER", "KRAS"]
    ids = ["ENSG00000141510", "", "ENSG00000012048", "", "ENSG00000133703"]
    adata = make(names, gene_ids=ids)
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, to="symbol", from_release=None)
    status = dict(zip(adata.var[COLS["original"]], adata.var[COLS["pair"]], strict=True))
    assert status == {
        "TP53": "agree",
        "BRCA2": "id_missing",
        "NOT_A_SYMBOL": "id_only",
        "NOT_A_SYMBOL_EITHER": "id_missing",
        "KRAS": "agree",
    }
    reason = dict(zip(adata.var[COLS["original"]], adata.var[COLS["reason"]], strict=True))
    assert reason["NOT_A_SYMBOL_EITHER"] == "not_found"  # the symbol's failure, not "empty"
    assert "BRCA2" in adata.var_names
    assert set(status.values()) <= set(PAIR_STATUS)


def test_symbols_and_ids_used_together(snapshot_default):
    # 10x style: symbols as var_names, Ensembl IDs in var["gene_ids"]
    names = ["TP53", "BRCA2", "KRAS", "NOT_A_SYMBOL", "BRCA1"]
    ids = ["ENSG00000141510", "ENSG00000139618", "ENSG00000099999", "ENSG00000012048", "ENSG00000141510"]
    adata = make(names, gene_ids=ids)
    with pytest.warns(UserWarning, match="1 feature.*name different genes"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, to="symbol", from_release=None)
    var = adata.var
    by_original = {}
    for originals, statuses in zip(var[COLS["original"]], var[COLS["pair"]], strict=True):
        by_original.update(zip(originals.split("|"), statuses.split("|"), strict=True))
    assert by_original["TP53"] == "agree"
    assert by_original["BRCA2"] == "agree"
    # an ID no release knows: the symbol stands in
    assert by_original["KRAS"] == "symbol_only"
    assert "KRAS" in adata.var_names
    # an unknown symbol beside a good ID: the ID decides
    assert by_original["NOT_A_SYMBOL"] == "id_only"
    assert "BRCA1" in adata.var_names
    # BRCA1's symbol beside TP53's ID: a conflict, kept apart as a tie of both (pair_conflict="tie")
    assert by_original["BRCA1"] == "disagree"
    tp53 = var.loc["TP53"]
    assert tp53[COLS["n_merged"]] == 1  # not merged with the feature whose ID is TP53's
    conflict = var[var[COLS["original"]] == "BRCA1"].iloc[0]
    assert (conflict[COLS["outcome"]], conflict[COLS["reason"]]) == ("1:n", "pair_conflict")
    assert set(conflict[COLS["gene_id"]].split("|")) == {"ENSG00000141510", "ENSG00000012048"}
    assert adata.uns["idtrack"]["params"]["pair_key"] == "gene_ids"
    assert adata.uns["idtrack"]["counts"]["pair"] == {"agree": 2, "disagree": 1, "id_only": 1, "symbol_only": 1}
    dis = adata.uns["idtrack"]["pair_disagreements"]
    assert (list(dis["original"]), list(dis["paired"])) == (["BRCA1"], ["ENSG00000141510"])
    assert list(dis["gene_id"]) == ["ENSG00000141510|ENSG00000012048"]
    assert list(dis["pair_gene_id"]) == ["ENSG00000012048"]
    # pair_conflict="id": the ID decides (merged into TP53), still reported
    by_id = make(names, gene_ids=ids)
    with pytest.warns(UserWarning, match="pair_conflict='id'"):
        its.pp.harmonize_var_names(by_id, snapshot=snapshot_default, to="symbol", from_release=None, pair_conflict="id")
    assert by_id.var.loc["TP53", COLS["n_merged"]] == 2
    assert list(by_id.uns["idtrack"]["pair_disagreements"]["gene_id"]) == ["ENSG00000141510"]


def test_pair_key_none_and_missing_column(snapshot_default):
    adata = make(["TP53", "BRCA2"], gene_ids=["ENSG00000141510", "ENSG00000139618"])
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, pair_key=None, from_release=None)
    assert COLS["pair"] not in adata.var
    with pytest.raises(KeyError, match="no column 'ids'"):
        its.pp.harmonize_var_names(make(["TP53"]), snapshot=snapshot_default, pair_key="ids")


def test_concat_reads_each_dataset_in_its_own_release(pbmc, snapshot_default):
    old = pbmc[:, ["CD3D", "SOD2", "MS4A1"]].copy()
    new = make(["CD3D", "SOD2", "MS4A1"])
    merged = its.concat_harmonized({"old": old, "new": new}, snapshot=snapshot_default, join="outer")
    provenance = merged.uns["idtrack"]["provenance"]
    assert provenance["old"]["release"]["from_release"] == "auto"
    # three names are too few to infer from: both datasets say so, and use the target meaning
    assert provenance["old"]["release"]["inferred"]["status"] == "undetermined"
    pinned = its.concat_harmonized({"old": old, "new": new}, snapshot=snapshot_default, join="outer", from_release=84)
    # SOD2 of 84 and of today merge into today's ID (handover of ENSG00000112096 in 110)
    assert "ENSG00000112096" not in pinned.var_names
    assert list(pinned.var_names).count("ENSG00000291237") == 1
    assert "SOD2" not in pinned.var_names
