"""``its.pp.convert_orthologs``: a mouse dataset's features expressed as human orthologs, in place.

On the shipped mouse and human Ensembl 114 snapshots and the shipped HomoloGene (build 68) table.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.resolve import NoOrthologSourceError

# real mouse genes: Dsg1a and Dsg1b share one human ortholog (DSG1); Igll1 has two (IGLL1,
# IGLL5); Mup1's group has no human member; Gm10000 is in no group
GENES = ["Dsg1a", "Trp53", "Dsg1b", "Igll1", "Cd3e", "Mup1", "Gm10000"]


def mouse_adata(genes=GENES) -> ad.AnnData:
    rng = np.random.default_rng(0)
    X = sparse.csr_matrix(rng.integers(0, 9, size=(6, len(genes))).astype(np.int32))
    return ad.AnnData(X=X, var=pd.DataFrame(index=pd.Index(genes)), layers={"counts": X.copy()})


def column(adata: ad.AnnData, name: str, layer: str | None = None) -> np.ndarray:
    m = adata.X if layer is None else adata.layers[layer]
    return np.asarray(m[:, adata.var_names.get_loc(name)].todense()).ravel()


def test_mouse_becomes_human_with_sums():
    adata = mouse_adata()
    before = adata.copy()
    its.pp.convert_orthologs(adata, organism="mouse", to_organism="human", to="symbol")
    assert sorted(adata.var_names) == ["CD3E", "DSG1", "TP53"]
    # the two mouse genes of one human ortholog are summed, in X and in every layer
    dsg = column(before, "Dsg1a") + column(before, "Dsg1b")
    assert (column(adata, "DSG1") == dsg).all()
    assert (column(adata, "DSG1", "counts") == dsg).all()
    assert (column(adata, "TP53") == column(before, "Trp53")).all()
    var = adata.var
    assert var.loc["DSG1", "idtrack_original"] == "Dsg1a|Dsg1b"
    assert var.loc["DSG1", "idtrack_n_merged"] == 2
    assert var.loc["TP53", "idtrack_source_gene"] == "ENSMUSG00000059552"
    assert var.loc["TP53", "idtrack_gene_id"] == "ENSG00000141510"
    rec = adata.uns["idtrack"]
    # nothing lost: every original identifier is in var or among the dropped, with the policy
    dropped = dict(zip(rec["dropped_ids"], rec["dropped_by"], strict=True))
    assert dropped == {"Igll1": "one_to_many", "Mup1": "unmapped", "Gm10000": "unmapped"}
    kept = {o for joined in var["idtrack_original"] for o in joined.split("|")}
    assert kept | set(dropped) == set(GENES)
    assert rec["function"] == "idtrack_sc.pp.convert_orthologs"
    assert rec["counts"]["many_to_one"] == 2
    assert rec["counts"]["one_to_many"] == 1
    assert (rec["orthologs"]["name"], rec["orthologs"]["build"]) == ("NCBI HomoloGene", 68)
    assert (rec["orthologs"]["organism"], rec["orthologs"]["to_organism"]) == ("mus_musculus", "homo_sapiens")
    assert rec["orthologs"]["to_release"] == 114
    assert rec["snapshot"]["organism"] == "homo_sapiens"


def test_record_survives_h5ad(tmp_path):
    adata = mouse_adata()
    its.pp.convert_orthologs(adata, organism="mouse")
    adata.write_h5ad(tmp_path / "a.h5ad")
    back = ad.read_h5ad(tmp_path / "a.h5ad")
    assert back.uns["idtrack"]["orthologs"]["build"] == 68
    assert back.var.loc["ENSG00000134760", "idtrack_original"] == "Dsg1a|Dsg1b"  # DSG1


def test_one_to_many_all_copies_and_many_to_one_drop():
    adata = mouse_adata()
    out = its.pp.convert_orthologs(
        adata, organism="mouse", to="symbol", one_to_many="all", many_to_one="drop", copy=True
    )
    assert "DSG1" not in out.var_names
    assert (column(out, "IGLL1") == column(adata, "Igll1")).all()
    assert (column(out, "IGLL5") == column(adata, "Igll1")).all()
    dropped = dict(zip(out.uns["idtrack"]["dropped_ids"], out.uns["idtrack"]["dropped_by"], strict=True))
    assert dropped["Dsg1a"] == dropped["Dsg1b"] == "many_to_one"
    assert adata.var_names.tolist() == GENES  # copy=True leaves the input alone


def test_upper_casing_is_not_used():
    # Upper-casing would give CTSL, ADAM1B, ADAM5: HomoloGene links Ctsl to CTSV, and Adam1b
    # and Adam5 to no human gene (human ADAM1B and ADAM5 are not their orthologs)
    adata = mouse_adata(["Ctsl", "Adam1b", "Adam5", "Trp53"])
    its.pp.convert_orthologs(adata, organism="mouse", to="symbol", unmapped="keep")
    assert sorted(adata.var_names) == ["Adam1b", "Adam5", "CTSV", "TP53"]
    assert set(adata.var.loc[["Adam1b", "Adam5"], "idtrack_outcome"]) == {"1:0"}


def test_organism_without_source_refused_before_any_work():
    adata = mouse_adata()
    with pytest.raises(NoOrthologSourceError, match="no_ortholog_source.*rabbit"):
        its.pp.convert_orthologs(adata, organism="rabbit", to_organism="human")
    with pytest.raises(NoOrthologSourceError, match="crab-eating macaque"):
        its.pp.convert_orthologs(adata, organism="mouse", to_organism="macaca_fascicularis")
    assert adata.var_names.tolist() == GENES
    assert "idtrack" not in adata.uns


def test_bad_policy_and_earlier_harmonization():
    adata = mouse_adata()
    with pytest.raises(ValueError, match="one_to_many='best' is not a policy"):
        its.pp.convert_orthologs(adata, organism="mouse", one_to_many="best")
    its.pp.harmonize_var_names(adata, organism="mouse")
    with pytest.raises(ValueError, match="key_added='idtrack_orthologs'"):
        its.pp.convert_orthologs(adata, organism="mouse")
    its.pp.convert_orthologs(adata, organism="mouse", key_added="idtrack_orthologs", to="symbol")
    assert "DSG1" in adata.var_names
    assert adata.uns["idtrack"]["function"] == "idtrack_sc.pp.harmonize_var_names"  # the earlier record stays


def test_mudata_modality():
    mudata = pytest.importorskip("mudata")
    rna = mouse_adata()
    prot = ad.AnnData(X=np.ones((6, 2)), var=pd.DataFrame(index=["CD3", "CD4"]))
    mdata = mudata.MuData({"rna": rna, "prot": prot})
    its.pp.convert_orthologs(mdata, organism="mouse", to="symbol", mod="rna")
    assert sorted(mdata.mod["rna"].var_names) == ["CD3E", "DSG1", "TP53"]
    assert mdata.mod["prot"].var_names.tolist() == ["CD3", "CD4"]
    assert set(mdata.var_names) == {"CD3E", "DSG1", "TP53", "CD3", "CD4"}


def test_concat_datasets_of_two_organisms(snapshot_default):
    rng = np.random.default_rng(1)
    human = ad.AnnData(
        X=sparse.csr_matrix(rng.integers(0, 9, size=(4, 3)).astype(np.float32)),
        var=pd.DataFrame(index=["TP53", "CD3E", "KRAS"]),
    )
    mouse = mouse_adata()
    mouse.uns["organism"] = "Mus musculus"  # refused without dataset_organisms
    with pytest.raises(ValueError, match="mus_musculus.*dataset_organisms"):
        its.concat_harmonized({"h": human, "m": mouse}, organism="human", to="symbol")
    with pytest.raises(NoOrthologSourceError):
        its.concat_harmonized({"h": human, "m": mouse}, organism="human", dataset_organisms={"m": "pig"})
    merged = its.concat_harmonized(
        {"h": human, "m": mouse}, organism="human", to="symbol", join="outer", dataset_organisms={"m": "mouse"}
    )
    assert {"TP53", "CD3E", "KRAS", "DSG1"} <= set(merged.var_names)
    tp53 = np.asarray(merged.X[4:, merged.var_names.get_loc("TP53")].todense()).ravel()
    assert (tp53 == column(mouse, "Trp53")).all()  # the mouse cells' Trp53 counts, under TP53
    rec = merged.uns["idtrack"]["orthologs"]["m"]
    assert (rec["orthologs"]["name"], rec["orthologs"]["organism"]) == ("NCBI HomoloGene", "mus_musculus")
    assert "Gm10000" in rec["dropped_ids"]
    # any snapshot spec names the dataset's organism: here a pinned checksum (once read as an
    # organism name and refused)
    pinned = its.concat_harmonized(
        {"h": human, "m": mouse},
        organism="human",
        to="symbol",
        join="outer",
        dataset_organisms={"m": f"sha256:{its.fetch_snapshot('mouse').sha256}"},
    )
    assert pinned.var_names.tolist() == merged.var_names.tolist()


def test_an_organism_without_source_given_as_snapshot_is_refused_before_loading(monkeypatch):
    import idtrack_sc.pp._orthologs as step

    def no_loading(*args, **kwargs):
        msg = "a snapshot was loaded before the pair was checked"
        raise AssertionError(msg)

    monkeypatch.setattr(step, "resolve_snapshot", no_loading)
    with pytest.raises(NoOrthologSourceError, match="pig"):
        its.pp.convert_orthologs(mouse_adata(), snapshot="pig")


POOL = [*GENES, "Hba-a1", "Hba-a2", "Actb", "Kras", "Ctsl", "Adam1b", "ENSMUSG00000059552", "NotAGene", "Septin1"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    genes=st.lists(st.sampled_from(POOL), min_size=2, max_size=10, unique=True),
    one_to_many=st.sampled_from(["drop", "all"]),
    many_to_one=st.sampled_from(["sum", "first", "make_unique", "drop"]),
    unmapped=st.sampled_from(["drop", "keep"]),
)
def test_nothing_is_lost_and_sums_keep_the_counts(genes, one_to_many, many_to_one, unmapped):
    adata = mouse_adata(genes)
    refused = ""
    try:
        out = its.pp.convert_orthologs(
            adata, organism="mouse", to="symbol", one_to_many=one_to_many, many_to_one=many_to_one,
            unmapped=unmapped, copy=True,
        )  # fmt: skip
    except ValueError as err:
        refused = str(err)
    if refused:  # every feature dropped: said so, nothing changed
        assert "no feature would remain" in refused
        assert adata.var_names.tolist() == genes
        return
    rec = out.uns["idtrack"]
    kept = {o for joined in out.var["idtrack_original"] for o in joined.split("|")}
    assert kept | set(rec["dropped_ids"]) == set(genes)  # every original findable
    assert not kept & set(rec["dropped_ids"]) or one_to_many == "all"
    if one_to_many == "drop" and many_to_one == "sum":  # sums move counts, never make or lose them
        gone = [g for g in genes if g in set(rec["dropped_ids"])]
        expected = adata.X.sum() - sum(column(adata, g).sum() for g in gone)
        assert out.X.sum() == expected


def test_shipped_zebrafish_snapshot_to_human():
    from importlib.resources import files

    if not files("idtrack_sc").joinpath("data", "danio_rerio-114.idtrack.zip").is_file():
        pytest.skip("danio_rerio-114.idtrack.zip is not in this checkout (scripts/build_organism_snapshots.py --ship)")
    adata = mouse_adata(["TP53", "kras", "actb1", "actb2", "si:dkey-199m13.10"])
    its.pp.convert_orthologs(adata, organism="zebrafish", to_organism="human", to="symbol")
    assert sorted(adata.var_names) == ["ACTG1", "KRAS", "TP53"]
    assert adata.var.loc["ACTG1", "idtrack_original"] == "actb1|actb2"  # two zebrafish genes, summed
    assert adata.uns["idtrack"]["orthologs"]["organism"] == "danio_rerio"
