"""The release a list of names was annotated with, and names read in that release's meaning.

On the embedded default snapshot (a real subset of the human gene tables of Ensembl 84–114
and HGNC) and on pbmc68k_reduced, a real 10x dataset aligned to Cell Ranger's GRCh38-1.2.0
reference, which is Ensembl 84.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its


def _versioned_ids(snap, release: int) -> list[str]:
    g = snap.genes
    rows = g[(g["first_release"] <= release) & (g["last_release"] >= release) & g["version"].notna()]
    return (rows["gene_id"] + "." + rows["version"].astype(int).astype(str)).tolist()


def _symbols_only_at(snap, release: int, other: int) -> list[str]:
    """Primary symbols valid at ``release`` that no gene has as primary symbol at ``other``."""
    n = snap.names
    p = n[(n["namespace"] == "symbol") & (n["kind"] == "primary") & n["first_release"].notna()]
    at = set(p.loc[(p["first_release"] <= release) & (p["last_release"] >= release), "value"])
    not_at = set(p.loc[(p["first_release"] <= other) & (p["last_release"] >= other), "value"])
    return sorted(at - not_at)


def test_pbmc68k_was_annotated_with_ensembl_84(snapshot_default):
    sc = pytest.importorskip("scanpy")
    names = sc.datasets.pbmc68k_reduced().var_names
    result = its.infer_release(names, snapshot=snapshot_default)
    assert result.status == "determined"
    assert result.confidence > 0.99
    ev = result.evidence
    assert list(ev.index) == list(snapshot_default.releases)
    assert ev.loc[84, "symbols"] > ev.loc[114, "symbols"]
    if 75 in snapshot_default.releases:
        # with the GRCh37 gene set (release 75) in the snapshot, its clone-based names
        # (RP11-277L2.3, RP11-782C8.1: 68k PBMCs were processed on hg19) make 75 fit best
        assert (result.release, result.assembly) == (75, "GRCh37")
        assert ev.loc[75, "valid"] == ev["valid"].max() > ev.loc[84, "valid"]
    else:
        assert (result.release, result.assembly, result.releases) == (84, "GRCh38", (84,))
        assert ev.loc[84, "valid"] == ev["valid"].max()


def test_versioned_ids_pin_the_release(snapshot_default):
    result = its.infer_release(_versioned_ids(snapshot_default, 114), snapshot=snapshot_default)
    assert result.release == 114
    assert result.releases == (114,)
    # 104 is the oldest release whose table records versions: the releases before it cannot
    # refute a version and fit as well
    older = its.infer_release(_versioned_ids(snapshot_default, 104), snapshot=snapshot_default)
    assert older.release == 104
    assert 104 in older.releases
    assert 114 not in older.releases


def test_id_and_symbol_pairs(snapshot_default):
    g = snapshot_default.genes
    ids = pd.Series(g.loc[(g["first_release"] <= 84) & (g["last_release"] >= 84), "gene_id"].unique())
    symbols = ids.map(its.resolve.names_at(snapshot_default, "symbol", 84))
    ids, symbols = ids[symbols.notna()].to_numpy(), symbols[symbols.notna()].to_numpy()
    result = its.infer_release(symbols, snapshot=snapshot_default, paired=ids)
    assert result.release == 84
    assert result.evidence.loc[84, "pairs"] == len(symbols)
    assert result.evidence.loc[114, "pairs"] < len(symbols)
    swapped = its.infer_release(ids, snapshot=snapshot_default, paired=symbols)
    assert swapped.evidence["pairs"].tolist() == result.evidence["pairs"].tolist()


def test_too_short_is_undetermined_with_evidence(snapshot_default):
    result = its.infer_release(["TP53", "BRCA2", "NOT_A_GENE"], snapshot=snapshot_default)
    assert (result.status, result.release, result.releases) == ("undetermined", None, ())
    assert "only 2 of 3" in result.reason
    assert result.evidence.loc[114, "symbols"] == 2
    assert not result.determined


def test_mixed_list_is_undetermined(snapshot_default):
    old = _symbols_only_at(snapshot_default, 84, 114)
    new = _symbols_only_at(snapshot_default, 114, 84)
    k = min(len(old), len(new))
    assert k >= 20
    result = its.infer_release(old[:k] + new[:k], snapshot=snapshot_default)
    assert result.status == "undetermined"
    assert result.reason.startswith("mixed")


def test_paired_must_be_aligned(snapshot_default):
    with pytest.raises(ValueError, match="aligned"):
        its.infer_release(["TP53", "BRCA2"], snapshot=snapshot_default, paired=["ENSG00000141510"])


def test_provenance_record_is_uns_safe(snapshot_default):
    record = its.infer_release(["TP53"], snapshot=snapshot_default).to_dict()
    assert record["release"] == -1
    assert record["status"] == "undetermined"
    assert isinstance(record["evidence"]["release"], np.ndarray)


# -- names read in the meaning of the dataset's release --------------------------------------
def test_a_symbol_means_what_it_meant_in_the_dataset_release(snapshot_default):
    # CAST named one gene in release 84; since 114 a second gene has the symbol too
    today = its.convert(["CAST"], snapshot=snapshot_default).iloc[0]
    assert today["outcome"] == "1:n"
    then = its.convert(["CAST"], snapshot=snapshot_default, from_release=84).iloc[0]
    assert (then["outcome"], then["target"]) == ("1:1", "ENSG00000153113")
    # MYH16 moved to a new gene ID in 114: the 84 gene's ID is handed over (inferred lineage)
    myh16 = its.convert(["MYH16"], snapshot=snapshot_default, from_release=84).iloc[0]
    assert (myh16["outcome"], myh16["reason"], myh16["target"]) == ("1:1", "inferred_successor", "ENSG00000293560")
    assert its.convert(["MYH16"], snapshot=snapshot_default).iloc[0]["target"] == "ENSG00000293560"


def test_renamed_symbol_read_in_its_release(snapshot_default):
    row = its.convert(["MARCH1"], snapshot=snapshot_default, to="symbol", from_release=84).iloc[0]
    assert (row["target"], row["reason"]) == ("MARCHF1", "renamed")


@pytest.mark.parametrize("bad", [60, 200])
def test_from_release_outside_the_snapshot(snapshot_default, bad):
    with pytest.raises(ValueError, match="outside the homo_sapiens snapshot"):
        its.convert(["TP53"], snapshot=snapshot_default, from_release=bad)


def test_from_release_not_a_number(snapshot_default):
    with pytest.raises(TypeError, match="release number"):
        its.convert(["TP53"], snapshot=snapshot_default, from_release="recent")


def test_explain_reads_names_in_the_dataset_release(snapshot_default):
    steps = str(its.explain("SOD2", snapshot=snapshot_default, from_release=84))
    assert "meaning at release 84" in steps
    assert "of gene ENSG00000112096" in steps
    assert "handover" in steps
    assert steps.endswith("Outcome 1:1 (inferred_successor): 'ENSG00000291237'.")
    today = str(its.explain("SOD2", snapshot=snapshot_default))
    assert "meaning at release" not in today


def _snapshot_without(snap, releases: tuple[int, ...], out) -> its.Snapshot:
    """A snapshot of ``snap``'s own gene tables (IDs, versions, symbols) at ``releases`` only."""
    from idtrack_sc.builders import build_snapshot, read_gene_table

    g = snap.genes
    sources = []
    for release in releases:
        rows = g[(g["first_release"] <= release) & (g["last_release"] >= release)].drop_duplicates("gene_id")
        symbol = its.resolve.names_at(snap, "symbol", release)
        table = pd.DataFrame(
            {
                "gene_id": rows["gene_id"],
                "gene_version": rows["version"].astype("Int64"),
                "gene_name": rows["gene_id"].map(symbol).fillna(""),
                "gene_biotype": rows["biotype"],
            }
        )
        path = out / f"genes_{release}.tsv"
        table.to_csv(path, sep="\t", index=False)
        sources.append(read_gene_table(path, release=release))
    build_snapshot(sources, organism="human", out=out / "subset.idtrack.zip")
    return its.load_snapshot(out / "subset.idtrack.zip")


def test_versions_of_an_uncovered_release_fall_back_to_the_bare_ids(snapshot_default, tmp_path, caplog):
    # a dataset annotated with release 104 (its real versioned IDs), read with a snapshot
    # whose tables are those of 100 and 114 only: a quarter of the versions changed by 114
    covering = _snapshot_without(snapshot_default, (100, 114), tmp_path)
    ids = _versioned_ids(snapshot_default, 104)
    with caplog.at_level("INFO", logger="idtrack_sc.resolve"):
        result = its.infer_release(ids, snapshot=covering)
    # before: undetermined ("mixed: no covered release fits more than 72.6 % ...")
    assert result.status == "determined"
    assert result.versions_ignored
    assert result.to_dict()["versions_ignored"] is True
    assert "fit no covered release" in result.reason
    assert "without their versions" in result.reason
    assert result.release == 100  # every gene of 104 exists at 100; some are gone by 114
    assert any("without their versions" in r.getMessage() for r in caplog.records)
    # versions of a covered release are used as they are
    own = its.infer_release(ids, snapshot=snapshot_default)
    assert (own.release, own.versions_ignored) == (104, False)


def test_organism_is_enough_and_another_organisms_ids_are_named():
    from pathlib import Path

    var = pd.read_csv(Path(__file__).parents[1] / "data" / "organisms" / "squidpy_mouse_var.tsv", sep="\t", dtype=str)
    by_organism = its.infer_release(var["gene_ids"], organism="mouse")
    by_name = its.infer_release(var["gene_ids"], snapshot="mouse")
    assert by_organism.status == by_name.status == "determined"
    assert by_organism.release == by_name.release
    # mouse IDs under a human snapshot: not just "undetermined"
    wrong = its.infer_release(var["gene_ids"], organism="human")
    assert wrong.status == "undetermined"
    assert "Ensembl IDs of mus_musculus (ENSMUSG…)" in wrong.reason
    assert "homo_sapiens" in wrong.reason
    orthologs = its.convert_orthologs(["Trp53", "Cd3e"], organism="mouse", to_organism="human")
    assert orthologs["target"].tolist() == ["TP53", "CD3E"]
    same = its.convert_orthologs(["Trp53"], snapshot="mouse", to_snapshot="human")
    assert same["target"].tolist() == ["TP53"]
