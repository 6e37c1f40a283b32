"""Reproduce from the record alone: apply_record re-applies a saved record, check_record recomputes one."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its

GENES = ["TP53", "ENSG00000141510.19", "MARCH1", "P40", "1-Mar", "NOT_A_REAL_GENE", "BRCA2", "SEPT2"]


def make(names, seed=0):
    rng = np.random.default_rng(seed)
    x = sparse.csr_matrix(rng.poisson(1, (5, len(names))).astype(np.float32))
    adata = ad.AnnData(x, var=pd.DataFrame(index=pd.Index(names, dtype=object)))
    adata.obs_names = [f"c{i}" for i in range(5)]
    return adata


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@pytest.fixture
def reference(tmp_path):
    adata = make(GENES)
    quiet(its.pp.harmonize_var_names, adata, snapshot="default", release=110, to="symbol", ambiguous="drop")
    adata.write_h5ad(tmp_path / "ref.h5ad")
    return ad.read_h5ad(tmp_path / "ref.h5ad")  # the record as a user has it: read back from a file


def test_apply_record_treats_other_data_as_the_record_says(reference):
    other = make(["SEPT2", "MARCH1", "KRAS", "P40", "TP53"], seed=1)
    direct = other.copy()
    quiet(its.pp.apply_record, other, reference.uns["idtrack"])
    quiet(its.pp.harmonize_var_names, direct, snapshot="default", release=110, to="symbol", ambiguous="drop")
    assert other.var_names.tolist() == direct.var_names.tolist() == ["SEPTIN2", "MARCHF1", "KRAS", "TP53"]
    pd.testing.assert_frame_equal(other.var, direct.var)
    rec = other.uns["idtrack"]
    assert rec["params"] == reference.uns["idtrack"]["params"]
    assert rec["snapshot"]["sha256"] == reference.uns["idtrack"]["snapshot"]["sha256"]
    assert rec["applied_record"]["date"] == reference.uns["idtrack"]["date"]
    # a harmonized AnnData can stand for its record
    third = make(["SEPT2"])
    quiet(its.pp.apply_record, third, reference)
    assert third.var_names.tolist() == ["SEPTIN2"]


def test_apply_record_refuses_another_snapshot_and_other_records(reference):
    record = dict(reference.uns["idtrack"])
    other = make(["TP53"])
    with pytest.raises(ValueError, match="sha256 .* is not the record's"):
        its.pp.apply_record(other, record, snapshot="human")
    assert "idtrack" not in other.uns
    forged = {**record, "snapshot": {**record["snapshot"], "sha256": "0" * 64}}
    with pytest.raises(ValueError, match="not in the registry"):
        its.pp.apply_record(other, forged)
    a, b = make(["TP53", "BRCA2"]), make(["TP53", "KRAS"], seed=1)
    merged = quiet(its.concat_harmonized, {"a": a, "b": b}, snapshot="default")
    with pytest.raises(ValueError, match="concat_harmonized record"):
        its.pp.apply_record(other, merged.uns["idtrack"])
    with pytest.raises(ValueError, match="already harmonized"):
        its.pp.apply_record(reference, record)


def test_check_record_reproduces_and_finds_every_difference(reference):
    diff = its.pp.check_record(reference)
    assert diff.empty
    assert list(diff.columns) == ["original", "field", "recorded", "recomputed"]
    summary = diff.attrs["idtrack_check"][""]
    assert summary["n_identifiers"] == len(GENES)
    assert summary["snapshot_sha256"] == reference.uns["idtrack"]["snapshot"]["sha256"]

    # an edited answer is found
    edited = reference.copy()
    reasons = edited.var["idtrack_original_reason"].astype(str).to_numpy(dtype=object)
    at = edited.var["idtrack_original"].astype(str).tolist().index("MARCH1")
    reasons[at] = "alias"
    edited.var["idtrack_original_reason"] = reasons
    diff = its.pp.check_record(edited)
    assert diff.to_dict("records") == [
        {"original": "MARCH1", "field": "reason", "recorded": "alias", "recomputed": "renamed"}
    ]
    # a record whose release was edited no longer describes the data: every name that moved shows
    moved = reference.copy()
    moved.uns["idtrack"]["params"]["release"] = 93
    diff = quiet(its.pp.check_record, moved)
    names = diff[diff["field"] == "name"].set_index("original")
    assert names.loc["MARCH1", "recorded"] == "MARCHF1"
    assert names.loc["MARCH1", "recomputed"] == "MARCH1"


def test_mudata_records_apply_and_check_per_modality(tmp_path):
    mudata = pytest.importorskip("mudata")

    def mdata_of(names, seed):
        rna = make(names, seed)
        rna.var["feature_types"] = "Gene Expression"
        prot = make(["CD3_TotalSeqB", "CD4_TotalSeqB"], seed)
        prot.var["feature_types"] = "Antibody Capture"
        return mudata.MuData({"rna": rna, "prot": prot})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mdata_of(GENES, 0)
        its.pp.harmonize_var_names(ref, snapshot="default", release=114, to="symbol")
        ref.write(tmp_path / "ref.h5mu")
        back = mudata.read_h5mu(tmp_path / "ref.h5mu")
        diff = its.pp.check_record(back)
        assert diff.empty
        assert "dataset" in diff.columns
        other = mdata_of(["SEPT2", "TP53", "ENSG00000141510"], 1)
        its.pp.apply_record(other, back)
    assert its.pp.is_harmonized(other)
    assert other.mod["rna"].var_names.tolist() == ["SEPTIN2", "TP53"]
    assert other.mod["prot"].var_names.tolist() == ["CD3_TotalSeqB", "CD4_TotalSeqB"]
    assert other.mod["rna"].uns["idtrack"]["params"] == back.mod["rna"].uns["idtrack"]["params"]


@pytest.mark.parametrize(
    ("ambiguous", "unmapped", "duplicates", "to"),
    [
        ("all", "keep", "sum", "symbol"),  # copies of a tie: one original feature each
        ("best", "drop", "first", "ensembl_gene"),
        ("drop", "keep", "make_unique", "symbol"),
    ],
)
def test_check_record_reproduces_every_policy(ambiguous, unmapped, duplicates, to):
    adata = make([*GENES, "TP53", "MARCH1"])
    quiet(
        its.pp.harmonize_var_names,
        adata,
        snapshot="default",
        release=114,
        to=to,
        ambiguous=ambiguous,
        unmapped=unmapped,
        duplicates=duplicates,
    )
    diff = quiet(its.pp.check_record, adata)
    assert diff.empty, diff
