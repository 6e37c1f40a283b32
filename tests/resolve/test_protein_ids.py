"""An Ensembl protein ID in a snapshot without protein IDs says so, instead of 'not found'."""

from __future__ import annotations

from pathlib import Path

import pytest

import idtrack_sc as its
from idtrack_sc.builders import build_snapshot, read_gene_table, read_gtf

BUILDERS = Path(__file__).parents[1] / "data" / "builders"
TP53_PROTEIN = "ENSP00000269305"  # TP53's canonical translation, in the Ensembl 114 GTF excerpt


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, its.Snapshot]:
    tmp = tmp_path_factory.mktemp("proteins")
    table = read_gene_table(BUILDERS / "mart_export_114.txt", release=114)
    return {
        "gene_table": build_snapshot([table], organism="human", out=tmp / "a.zip", infer_lineage=False),
        "gtf": build_snapshot(
            [read_gtf(BUILDERS / "Homo_sapiens.GRCh38.114.gtf.gz")], organism="human", out=tmp / "b.zip"
        ),
    }


@pytest.mark.parametrize("query", [TP53_PROTEIN, f"{TP53_PROTEIN}.4", "ensmusp00000000001"])
def test_protein_id_without_protein_ids_in_the_snapshot(snapshots: dict, query: str) -> None:
    result = its.convert([query, "NOT_A_REAL_GENE"], snapshot=snapshots["gene_table"])
    assert list(result["outcome"]) == ["1:0", "1:0"]
    assert list(result["reason"]) == ["no_protein_ids", "not_found"]


def test_protein_id_resolves_where_the_snapshot_has_them(snapshots: dict) -> None:
    queries = [TP53_PROTEIN, "ENSP00000000000"]
    held = its.convert(queries, snapshot=snapshots["gtf"], to="symbol")
    assert list(held["target"]) == ["TP53", ""]
    # an unknown protein ID in a snapshot that has protein IDs is simply not found
    assert list(held["reason"]) == ["from_protein", "not_found"]
    # the same queries where no source lists proteins: nothing could have found them
    assert list(its.convert(queries, snapshot=snapshots["gene_table"])["reason"]) == ["no_protein_ids"] * 2
