"""A gene's own Entrez ID comes from the curated one-to-one sources (NCBI's gene2ensembl, HGNC).

Ensembl's cross-references (the Entrez column of BioMart-style gene tables) link GeneIDs to
genes many-to-many: CALM1, CALM2 and CALM3 each carry 801, 805 and 808. The rows here are real
(see ``tests/data/builders/entrez/README.md``); a snapshot is built from them and queried.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import idtrack_sc as its
from idtrack_sc.builders import build_snapshot, read_gene_table, read_hgnc, read_ncbi_gene2ensembl

DATA = Path(__file__).parents[1] / "data" / "builders" / "entrez"
CALM = {"CALM1": "ENSG00000198668", "CALM2": "ENSG00000143933", "CALM3": "ENSG00000160014"}
ST7 = "ENSG00000004866"


def _tables(organism: str, releases: tuple[int, ...] = (100, 114)) -> list:
    assemblies = {"homo_sapiens": {100: "GRCh38", 114: "GRCh38"}, "mus_musculus": {100: "GRCm38", 114: "GRCm39"}}
    return [
        read_gene_table(
            DATA / f"{organism}_genes_e{release}.tsv",
            release=release,
            assembly=assemblies[organism][release],
            coordinates="0-based",
            scope="full" if release == 100 else "primary_assembly",
        )
        for release in releases
    ]


def _build(sources: list, organism: str, out: Path) -> its.Snapshot:
    return build_snapshot(sources, organism=organism, out=out, infer_lineage=False)


@pytest.fixture(scope="module")
def human(tmp_path_factory: pytest.TempPathFactory) -> its.Snapshot:
    sources = [*_tables("homo_sapiens"), read_ncbi_gene2ensembl(DATA / "gene2ensembl", date="2022-09-12")]
    return _build(sources, "human", tmp_path_factory.mktemp("entrez") / "human.idtrack.zip")


def _answers(result) -> list[tuple[str, str, str]]:
    return list(zip(result["query"], result["targets"], result["outcome"], strict=True))


def test_each_gene_gets_its_own_entrez_id(human: its.Snapshot) -> None:
    result = its.convert(["CALM1", "CALM2", "CALM3", "DDT"], snapshot=human, to="entrez")
    assert _answers(result) == [
        ("CALM1", "801", "1:1"),
        ("CALM2", "805", "1:1"),
        ("CALM3", "808", "1:1"),
        ("DDT", "1652", "1:1"),
    ]


def test_entrez_id_names_its_own_gene(human: its.Snapshot) -> None:
    result = its.convert(["805", "808", "GeneID:801"], snapshot=human, to="symbol")
    assert _answers(result) == [("805", "CALM2", "1:1"), ("808", "CALM3", "1:1"), ("GeneID:801", "CALM1", "1:1")]


def test_entrez_id_of_two_genes_is_ambiguous(human: its.Snapshot) -> None:
    # NCBI links 1652 (DDT) to ENSG00000099977 and ENSG00000285762, both in Ensembl 100
    result = its.convert(["1652"], snapshot=human, to="ensembl_gene", release=100)
    assert _answers(result) == [("1652", "ENSG00000099977|ENSG00000285762", "1:n")]


@pytest.mark.parametrize("release", [100, 114])
def test_entrez_id_is_carried_while_the_gene_lives(human: its.Snapshot, release: int) -> None:
    # the Ensembl 114 table has no Entrez column; Ensembl 100's gives CALM2 801, 805 and 808
    result = its.convert(list(CALM.values()), snapshot=human, to="entrez", release=release)
    assert list(result["targets"]) == ["801", "805", "808"]
    assert set(result["outcome"]) == {"1:1"}


def test_gene_tables_entrez_column_gives_no_own_id_beside_curated_links(human: its.Snapshot) -> None:
    names = human.names
    entrez = names[(names["namespace"] == "entrez") & names["gene_id"].isin(list(CALM.values()))]
    assert sorted(entrez["value"]) == ["801", "805", "808"]
    assert set(entrez["source"]) == {"ncbi_gene2ensembl"}
    assert entrez["first_release"].isna().all()  # undated: valid in every release the gene lives
    assert human.manifest["entrez_links"]["dated_links_dropped_for_curated"] > 0


def test_cross_reference_unknown_to_curated_sources_still_finds_the_gene(human: its.Snapshot) -> None:
    # Ensembl 100 gives C4B 721 (NCBI's C4B) and 100293534 (C4B_2, which NCBI links to no gene)
    c4b = "ENSG00000224389"
    assert _answers(its.convert([c4b], snapshot=human, to="entrez")) == [(c4b, "721", "1:1")]
    found = its.convert(["100293534"], snapshot=human, to="symbol")
    assert _answers(found) == [("100293534", "C4B", "1:1")]
    assert list(found["reason"]) == ["alias"]


def test_two_curated_ids_for_one_gene_settled_only_by_agreement(tmp_path: Path) -> None:
    # NCBI links ST7's gene to 7982 (ST7) and 93655 (ST7-OT3); Ensembl 100's table gives 7982:
    # two sources agree on 7982
    with_xref = _build(
        [*_tables("homo_sapiens"), read_ncbi_gene2ensembl(DATA / "gene2ensembl")], "human", tmp_path / "a.zip"
    )
    assert _answers(its.convert([ST7], snapshot=with_xref, to="entrez")) == [(ST7, "7982", "1:1")]
    # NCBI alone: a tie, no guess; both GeneIDs still find the gene
    alone = _build(
        [*_tables("homo_sapiens", (114,)), read_ncbi_gene2ensembl(DATA / "gene2ensembl")], "human", tmp_path / "b.zip"
    )
    tie = its.convert([ST7], snapshot=alone, to="entrez")
    assert list(tie[["outcome", "reason"]].itertuples(index=False, name=None)) == [("1:0", "no_target_name")]
    found = its.convert(["7982", "93655"], snapshot=alone, to="ensembl_gene")
    assert list(found["targets"]) == [ST7, ST7]


def test_hgnc_and_ncbi_disagreeing_is_a_tie(tmp_path: Path) -> None:
    # HGNC's record of ST7 says 7982; a gene2ensembl holding only NCBI's other link of the gene (93655)
    g2e = tmp_path / "gene2ensembl"
    lines = (DATA / "gene2ensembl").read_text().splitlines()
    g2e.write_text("\n".join([lines[0], *[line for line in lines if "\t93655\t" in line]]) + "\n")
    hgnc = read_hgnc(DATA / "hgnc_st7.txt")
    snap = _build([*_tables("homo_sapiens", (114,)), hgnc, read_ncbi_gene2ensembl(g2e)], "human", tmp_path / "c.zip")
    tie = its.convert([ST7], snapshot=snap, to="entrez")
    assert list(tie[["outcome", "reason"]].itertuples(index=False, name=None)) == [("1:0", "no_target_name")]
    assert list(its.convert(["7982", "93655"], snapshot=snap, to="ensembl_gene")["targets"]) == [ST7, ST7]
    # agreeing, they give the gene its ID
    agree = _build([*_tables("homo_sapiens", (114,)), hgnc], "human", tmp_path / "d.zip")
    assert _answers(its.convert([ST7], snapshot=agree, to="entrez")) == [(ST7, "7982", "1:1")]


def test_many_to_many_cross_references_alone_give_no_wrong_one_to_one(tmp_path: Path) -> None:
    # mouse: no curated Entrez source; Ensembl 100 gives Calm1, Calm2 and Calm3 each 12313-12315
    mouse = _build(_tables("mus_musculus"), "mouse", tmp_path / "mouse.zip")
    calm = its.convert(["Calm1", "Calm2", "Calm3"], snapshot=mouse, to="entrez")
    assert set(calm["outcome"]) == {"1:0"}
    assert set(calm["reason"]) == {"no_target_name"}
    shared = its.convert(["12314"], snapshot=mouse, to="ensembl_gene")
    assert _answers(shared) == [("12314", "ENSMUSG00000001175|ENSMUSG00000019370|ENSMUSG00000036438", "1:n")]
    # a one-to-one cross-reference is kept
    assert _answers(its.convert(["Sod2"], snapshot=mouse, to="entrez")) == [("Sod2", "20656", "1:1")]
