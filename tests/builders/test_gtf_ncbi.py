from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from idtrack_sc.builders import (
    build_snapshot,
    read_gene_table,
    read_gtf,
    read_hgnc,
    read_ncbi_gene_history,
    read_ncbi_gene_info,
)

DATA = Path(__file__).parents[1] / "data" / "builders"
ENSEMBL_GTF = DATA / "Homo_sapiens.GRCh38.114.gtf.gz"
GENCODE_GTF = DATA / "gencode.v44.annotation.gtf.gz"


def _names(src, gene, namespace, kind=None):
    n = src.names
    sel = (n["gene_id"] == gene) & (n["namespace"] == namespace)
    if kind is not None:
        sel &= n["kind"] == kind
    return sorted(n.loc[sel, "value"].astype(str))


def test_ensembl_gtf():
    src = read_gtf(ENSEMBL_GTF)
    assert (src.kind, src.name, src.release, src.assembly, src.organism) == (
        "gtf",
        "gtf:114",
        114,
        "GRCh38",
        "homo_sapiens",
    )
    genes = src.genes.set_index("gene_id")
    assert genes.loc["ENSG00000141510", "version"] == 18
    assert genes.loc["ENSG00000139618", "biotype"] == "protein_coding"
    f = src.features.set_index("feature_id")
    assert f.loc["ENST00000269305", "gene_id"] == "ENSG00000141510"
    assert f.loc["ENSP00000269305", "feature_type"] == "translation"
    assert f.loc["ENSP00000369497", "gene_id"] == "ENSG00000139618"
    assert f.index.is_unique  # several CDS lines, one protein
    assert _names(src, "ENSG00000141510", "symbol") == ["TP53"]


def test_gencode_gtf_release_from_header_and_par_y():
    src = read_gtf(GENCODE_GTF)
    assert src.release == 110
    assert src.assembly == "GRCh38"
    assert src.date == "2023-03-28"
    genes = src.genes.set_index("gene_id")
    assert genes.loc["ENSG00000141510", "version"] == 17
    assert genes.loc["ENSG00000002586", "version"] == 20
    assert genes.index.is_unique
    assert not genes.index.str.contains("PAR_Y").any()
    assert src.notes["par_y_genes"] == 1
    f = src.features.set_index("feature_id")
    assert f.loc["ENST00000381192", "gene_id"] == "ENSG00000002586"
    assert f.loc["ENSP00000269305", "gene_id"] == "ENSG00000141510"
    assert not f.index.str.contains("_PAR_Y|\\.", regex=True).any()
    assert _names(src, "ENSG00000141510", "hgnc_id") == ["HGNC:11998"]


def test_gencode_release_from_file_name(tmp_path):
    text = gzip.decompress(GENCODE_GTF.read_bytes()).decode()
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    plain = tmp_path / "gencode.v48.annotation.gtf"
    plain.write_text(body)
    assert read_gtf(plain).release == 114
    unnamed = tmp_path / "genes.gtf"
    unnamed.write_text(body)
    with pytest.raises(ValueError, match=r"genes\.gtf: cannot tell which Ensembl release.*release="):
        read_gtf(unnamed)
    assert read_gtf(unnamed, release=98).release == 98
    with pytest.raises(ValueError, match="release=110 was given.*114"):
        read_gtf(plain, release=110)


def test_gtf_without_genes(tmp_path):
    path = tmp_path / "Homo_sapiens.GRCh38.114.gtf"
    path.write_text('#!genome-build GRCh38.p14\n1\thavana\texon\t1\t2\t.\t+\t.\tgene_id "ENSG00000000001";\n')
    with pytest.raises(ValueError, match=r"Homo_sapiens\.GRCh38\.114\.gtf: no 'gene' lines"):
        read_gtf(path)


def test_gtf_and_gene_table_agree(tmp_path):
    sources = [read_gtf(GENCODE_GTF), read_gtf(ENSEMBL_GTF), read_gene_table(DATA / "genes_104.csv.gz", release=104)]
    snap = build_snapshot(sources, organism="human", out=tmp_path / "s")
    assert list(snap.releases) == [104, 110, 114]
    assert snap.assembly == "GRCh38"


def test_ncbi_gene_info():
    src = read_ncbi_gene_info(DATA / "Homo_sapiens.gene_info.gz")
    assert src.kind == "ncbi_gene_info"
    assert src.organism == "homo_sapiens"
    assert src.date == "2025-03-16"
    assert src.notes == {"genes_without_ensembl": 1}
    assert src.names["release"].isna().all()
    assert _names(src, "ENSG00000141510", "entrez") == ["7157"]
    assert _names(src, "ENSG00000141510", "symbol", "primary") == ["TP53"]
    assert "P53" in _names(src, "ENSG00000141510", "symbol", "alias")
    assert "MARCH1" in _names(src, "ENSG00000145416", "symbol", "alias")
    assert "-" not in set(src.names["value"])


def test_ncbi_gene_info_taxon_filter(tmp_path):
    text = gzip.decompress((DATA / "Homo_sapiens.gene_info.gz").read_bytes()).decode()
    mouse = "10090\t22059\tTrp53\t-\tTp53|bbl\tMGI:MGI:98834|Ensembl:ENSMUSG00000059552\t11\t-\tx\tprotein-coding\tTrp53\tx\tO\t-\t20250301\t-\n"
    path = tmp_path / "gene_info"
    path.write_text(text + mouse)
    with pytest.raises(ValueError, match="several organisms.*tax_id"):
        read_ncbi_gene_info(path)
    src = read_ncbi_gene_info(path, tax_id="mouse")
    assert src.organism == "mus_musculus"
    assert _names(src, "ENSMUSG00000059552", "symbol", "primary") == ["Trp53"]
    assert len(read_ncbi_gene_info(path, tax_id=9606).names) == len(
        read_ncbi_gene_info(DATA / "Homo_sapiens.gene_info.gz").names
    )


def test_ncbi_missing_column(tmp_path):
    path = tmp_path / "gene_info"
    path.write_text("#tax_id\tGeneID\tSymbol\n9606\t7157\tTP53\n")
    with pytest.raises(ValueError, match=r"gene_info header lacks column\(s\) \['Synonyms', 'dbXrefs'\]"):
        read_ncbi_gene_info(path)


def test_ncbi_gene_history():
    info = read_ncbi_gene_info(DATA / "Homo_sapiens.gene_info.gz")
    src = read_ncbi_gene_history(DATA / "gene_history.gz", gene_info=info)
    assert src.kind == "ncbi_gene_history"
    assert src.organism == "homo_sapiens"
    assert _names(src, "ENSG00000141510", "entrez", "previous") == ["8626"]
    assert _names(src, "ENSG00000141510", "symbol", "previous") == ["TP53P1"]
    assert src.notes == {"discontinued_without_successor": 1, "successor_without_ensembl": 1}
    assert "Gm3386" not in set(src.names["value"])  # mouse row filtered by the organism of gene_info


def test_all_undated_sources_together(tmp_path):
    info = read_ncbi_gene_info(DATA / "Homo_sapiens.gene_info.gz")
    sources = [
        read_gene_table(DATA / "mart_export_114.txt", release=114),
        read_hgnc(DATA / "hgnc_complete_set.txt"),
        info,
        read_ncbi_gene_history(DATA / "gene_history.gz", gene_info=info),
    ]
    snap = build_snapshot(sources, organism="human", out=tmp_path / "s")
    names = snap.names
    prev = names[(names["value"] == "SEPT2") & (names["kind"] == "previous")]
    assert set(prev["gene_id"]) == {"ENSG00000168385"}
    assert {s["kind"] for s in snap.manifest["sources"]} == {
        "gene_table",
        "hgnc",
        "ncbi_gene_info",
        "ncbi_gene_history",
    }
