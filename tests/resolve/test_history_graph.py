"""history_graph: the snapshot as a networkx MultiDiGraph."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import pytest

import idtrack_sc as its

TP53 = "ENSG00000141510"


def test_gene_versions_names_and_graph_attributes(snapshot_default):
    g = its.history_graph(snapshot_default)
    assert isinstance(g, nx.MultiDiGraph)
    assert g.graph["organism"] == "homo_sapiens"
    assert (g.graph["ensembl_release"], g.graph["genome_assembly"], g.graph["assembly"]) == (114, 38, "GRCh38")
    assert g.graph["releases"][-6:] == [84, 93, 100, 104, 110, 114]
    # one node per gene version, in time order, linked by "version" edges
    assert g.nodes[f"{TP53}.19"] == {
        "gene_id": TP53,
        "version": 19,
        "first_release": 114,
        "last_release": 114,
        "biotype": "protein_coding",
        "source": "gene_table",
        "node_type": "ensembl_gene",
    }
    versions = [(u, v, d["release"]) for u, v, d in g.edges(data=True) if d["kind"] == "version" and d["source"]]
    assert (TP53, f"{TP53}.18", 104) in versions
    assert (f"{TP53}.18", f"{TP53}.19", 114) in versions
    # names point at the gene version they name; undated (HGNC) names at the newest one
    named = {(v, d["namespace"], d["name_kind"], d["source"]) for _, v, d in g.out_edges("p53", data=True)}
    assert named == {(f"{TP53}.19", "symbol", "alias", "hgnc")}
    assert g.nodes["p53"]["node_type"] == "symbol"
    dated = {(v, d["first_release"], d["last_release"]) for _, v, d in g.out_edges("7157", data=True)}
    if "ncbi_gene2ensembl" in {s["kind"] for s in snapshot_default.manifest["sources"]}:
        # NCBI's own link (undated) names the gene's newest version; Ensembl's cross-references
        # of the same GeneID are not kept beside it
        assert dated == {(f"{TP53}.19", None, None)}
    else:
        # Entrez IDs known for the releases whose tables carry them (the GRCh37 set as 75, and
        # 84-100), when the gene had no version
        first = 75 if 75 in snapshot_default.releases else 84
        assert dated == {(TP53, first, 100)}
    assert g.nodes["HGNC:11998"]["node_type"] == "hgnc_id"
    assert its.history_graph(snapshot_default) is g  # cached


def test_history_events_are_edges(resolver_snapshot):
    g = its.history_graph(resolver_snapshot)
    chain = nx.shortest_path(g, "ENSG00000260001.1", "ENSG00000260003.1")
    assert chain == ["ENSG00000260001.1", "ENSG00000260002.1", "ENSG00000260003.1"]
    (first,) = g.get_edge_data("ENSG00000260001.1", "ENSG00000260002.1").values()
    expected = {"old_release": 102, "release": 103, "score": 0.97, "source": "ensembl_dump", "kind": "event"}
    assert {k: first[k] for k in expected} == expected  # plus any other column of the events table
    split = sorted((v, d["score"]) for _, v, d in g.out_edges("ENSG00000270001.4", data=True) if d["kind"] == "event")
    assert split == [("ENSG00000290002.1", 0.8), ("ENSG00000290003.1", 0.4)]
    # retirements and births are no edges: the retired gene has no successor
    assert not [e for e in g.out_edges("ENSG00000230202.1", data=True) if e[2]["kind"] == "event"]


def test_release_bound_and_names_off(resolver_snapshot):
    g = its.history_graph(resolver_snapshot, release=110, names=False)
    assert g.graph["ensembl_release"] == 110
    assert max(g.graph["releases"]) == 110
    assert "ENSG00000290002.1" not in g  # born in 112
    assert not [e for e in g.out_edges("ENSG00000270001.4", data=True) if e[2]["kind"] == "event"]
    assert all(d["node_type"] == "ensembl_gene" for _, d in g.nodes(data=True))
    assert all(d["last_release"] <= 110 for _, d in g.nodes(data=True) if "last_release" in d)
    with pytest.raises(ValueError, match="outside the releases"):
        its.history_graph(resolver_snapshot, release=99)


def test_networkx_is_imported_only_for_the_graph():
    code = (
        "import sys, idtrack_sc as its\n"
        "snap = its.datasets.default_snapshot()\n"
        "its.convert(['TP53'], snapshot=snap)\n"
        "assert 'networkx' not in sys.modules\n"
        "its.history_graph(snap, names=False)\n"
        "assert 'networkx' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
