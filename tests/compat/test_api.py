"""The reference tool's API on the embedded default snapshot."""

from __future__ import annotations

import logging
import shutil

import pytest

import idtrack_sc as its
from idtrack_sc.compat import API, CLASSIFICATION_BINS
from idtrack_sc.datasets import default_snapshot_path

TP53, BRCA1, BRCA2 = "ENSG00000141510", "ENSG00000012048", "ENSG00000139618"
# their versions in Ensembl 114 (GENCODE 48), as the reference tool returns them
TP53_V, BRCA1_V, BRCA2_V = f"{TP53}.19", f"{BRCA1}.26", f"{BRCA2}.19"
LEGACY = ["TP53", "P53", TP53, BRCA2, "BRCA1", "NOT_A_REAL_GENE"]
RESULT_KEYS = {
    "target_id",
    "last_node",
    "final_database",
    "graph_id",
    "query_id",
    "no_corresponding",
    "no_conversion",
    "no_target",
    "outcome",
    "reason",
}


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    api = API(local_repository=str(tmp_path / "repo"))
    api.build_graph(snapshot=default_snapshot_path())
    return api


def test_lazy_export_and_repr(api):
    assert its.API is API
    assert "homo_sapiens" in repr(api)
    assert "build_graph" in repr(API("x"))


@pytest.mark.parametrize(
    ("name", "instead"), [("TheGraph", "history_graph"), ("DatabaseManager", "get_database_manager")]
)
def test_reference_only_classes_say_what_to_use(name, instead):
    with pytest.raises(AttributeError, match=f"reference tool.*{instead}"):
        getattr(its, name)


def test_legacy_rescue_to_ensembl(api):
    results = api.convert_identifier_multiple(LEGACY, verbose=False)
    assert [r["query_id"] for r in results] == LEGACY
    assert [r["target_id"] for r in results] == [[TP53_V], [TP53_V], [TP53_V], [BRCA2_V], [BRCA1_V], []]
    assert all(set(r) == RESULT_KEYS for r in results)
    assert [r["outcome"] for r in results] == ["1:1"] * 5 + ["1:0"]
    assert results[1]["reason"] == "alias"
    assert results[0]["final_database"] == "ensembl_gene"
    assert results[0]["last_node"] == [(TP53_V, TP53_V)]
    gone = results[-1]
    assert gone["no_corresponding"] is True
    assert (gone["no_conversion"], gone["no_target"]) == (False, False)
    assert (gone["graph_id"], gone["final_database"], gone["last_node"], gone["reason"]) == (
        None,
        None,
        [],
        "not_found",
    )


def test_legacy_rescue_to_hgnc_symbol(api):
    results = api.convert_identifier_multiple(LEGACY, final_database="HGNC Symbol", verbose=False)
    assert [r["target_id"] for r in results] == [["TP53"], ["TP53"], ["TP53"], ["BRCA2"], ["BRCA1"], []]
    assert results[1]["last_node"] == [(TP53_V, "TP53")]
    assert results[1]["graph_id"] == "P53"
    assert {r["final_database"] for r in results[:5]} == {"HGNC Symbol"}


def test_single_identifier_matches_batch(api):
    one = api.convert_identifier("ENSG00000141510.18", final_database="symbol")
    assert one["target_id"] == ["TP53"]
    assert one["reason"] == "version_stripped"
    assert one == api.convert_identifier_multiple(["ENSG00000141510.18"], final_database="symbol", verbose=False)[0]


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("HGNC Symbol", "TP53"),
        ("synonym_id::HGNC Symbol", "TP53"),
        ("Ensembl Gene", TP53_V),
        ("ensembl_gene", TP53_V),
        (None, TP53_V),
        ("base_ensembl_gene", TP53),
        ("hgnc_id", "HGNC:11998"),
    ],
)
def test_reference_database_names(api, name, first):
    assert api.convert_identifier("TP53", final_database=name)["target_id"] == [first]


def test_entrez_names_and_unknown_database(api):
    # the embedded snapshot has Entrez IDs up to release 100 only
    for name in ("EntrezGene", "NCBI gene (formerly Entrezgene)"):
        assert api.convert_identifier("TP53", to_release=100, final_database=name)["target_id"] == ["7157"]
    # the reference tool's databases that no snapshot holds are refused with what there is instead
    with pytest.raises(ValueError, match="do not hold.*HGNC Symbol"):
        api.convert_identifier("TP53", final_database="Uniprot/SPTREMBL")
    with pytest.raises(ValueError, match="Unknown final_database.*EntrezGene"):
        api.convert_identifier("TP53", final_database="Galaxy IDs")


def test_other_organisms_nomenclature_is_refused(api):
    with pytest.raises(ValueError, match="mus musculus's nomenclature.*Use 'HGNC Symbol'"):
        api.convert_identifier("TP53", final_database="MGI Symbol")


def test_no_target_falls_back_to_ensembl_gene(api):
    unnamed = "ENSG00000260000"  # a lncRNA with no symbol in any source
    res = api.convert_identifier(unnamed, final_database="HGNC Symbol")
    assert (res["no_target"], res["no_conversion"], res["no_corresponding"]) == (True, False, False)
    # as the reference tool: the (versioned) Ensembl gene stands in, flagged no_target
    assert (res["target_id"], res["final_database"]) == ([f"{unnamed}.4"], "ensembl_gene")
    assert res["last_node"] == [(f"{unnamed}.4", f"{unnamed}.4")]
    assert (res["outcome"], res["reason"]) == ("1:0", "no_target_name")
    bins = api.classify_multiple_conversion([res])
    assert len(bins["alternative_target_1_to_1"]) == 1
    assert not bins["matching_1_to_1"]


def test_retired_is_no_conversion(api):
    res = api.convert_identifier("ENSG00000139656")  # SMIM2's ID, retired by release 114 (no successor)
    assert (res["no_conversion"], res["no_corresponding"], res["target_id"]) == (True, False, [])
    assert res["reason"] == "retired"
    assert api.convert_identifier("ENSG00000139656", to_release=110)["target_id"] == ["ENSG00000139656.8"]
    # versions are those of the target release; releases without versions give bare IDs
    assert api.convert_identifier("TP53", to_release=110)["target_id"] == [f"{TP53}.18"]
    assert api.convert_identifier("TP53", to_release=100)["target_id"] == [TP53]


def test_strategy_and_ambiguity(api):
    best = api.convert_identifier("60B8AG", final_database="HGNC Symbol")
    assert best["outcome"] == "1:n"
    assert sorted(best["target_id"]) == ["S100A8", "S100A9"]
    assert sorted(best["last_node"]) == [("ENSG00000143546.10", "S100A8"), ("ENSG00000163220.11", "S100A9")]
    every = api.convert_identifier("60B8AG", final_database="HGNC Symbol", strategy="all")
    assert sorted(every["target_id"]) == ["S100A8", "S100A9"]
    with pytest.raises(ValueError, match="strategy"):
        api.convert_identifier("TP53", strategy="first")


def test_classify_bins_like_the_reference(api):
    ids = [*LEGACY, "60B8AG", "ENSG00000139656", TP53]
    results = api.convert_identifier_multiple(ids, final_database="ensembl_gene", verbose=False)
    bins = api.classify_multiple_conversion(results)
    assert tuple(bins) == CLASSIFICATION_BINS
    counts = {k: len(v) for k, v in bins.items()}
    assert counts == {
        "changed_only_1_to_n": 1,
        # TP53, P53, BRCA1 (symbols -> IDs) and the unversioned IDs (-> versioned), as in the reference tool
        "changed_only_1_to_1": 6,
        "alternative_target_1_to_1": 0,
        "alternative_target_1_to_n": 0,
        "matching_1_to_0": 2,
        "matching_1_to_1": 6,
        "matching_1_to_n": 1,
        "input_identifiers": 9,
    }
    assert bins["matching_1_to_0"][0]["query_id"] == "NOT_A_REAL_GENE"
    bad = {**results[0], "target_id": []}
    with pytest.raises(ValueError, match="no target_id"):
        api.classify_multiple_conversion([bad])


def test_print_binned_conversion_logs_and_returns(api, caplog, capsys):
    results = api.convert_identifier_multiple(LEGACY, verbose=False)
    with caplog.at_level(logging.INFO, logger="idtrack_sc.compat"):
        text = api.print_binned_conversion(api.classify_multiple_conversion(results))
    assert capsys.readouterr().out == ""  # it does not print
    assert "Total processed: 6" in text
    assert "1→0: 1 (16.7%)" in text
    assert "1→1: 5 (83.3%)" in text
    assert "no_corresponding: 1" in text
    assert text in caplog.text
    assert repr(text) == str(text)
    assert api.print_binned_conversion(results) == text  # the results themselves are accepted


def test_explain_adds_paths_and_steps(api):
    res = api.convert_identifier("P53", final_database="HGNC Symbol", explain=True)
    assert res["the_path"] == {("TP53", TP53_V): ((TP53_V, None),)}
    assert any("alias" in step for step in res["explanation"])


def test_from_release_reads_names_in_that_release(api):
    # as in the reference tool, from_release is the release the identifier comes from: CAST named
    # one gene in Ensembl 84, two genes carry the symbol since 114
    assert api.convert_identifier("CAST", from_release=84)["target_id"] == ["ENSG00000153113.25"]
    assert api.convert_identifier("CAST")["outcome"] == "1:n"
    assert api.convert_identifier("TP53", from_release=93)["target_id"] == [TP53_V]
    with pytest.raises(ValueError, match="from_release=50"):
        api.convert_identifier("TP53", from_release=50)


def test_verbose_logs_counts(api, caplog):
    with caplog.at_level(logging.INFO, logger="idtrack_sc.compat"):
        api.convert_identifier_multiple(LEGACY, pbar_prefix="batch")
    assert "batch: 6 identifiers -> ensembl_gene at release 114" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="idtrack_sc.compat"):
        api.convert_identifier_multiple(LEGACY, pbar=False)
    assert "identifiers" not in caplog.text


def test_conversion_table_is_ours(api):
    table = api.conversion_table(LEGACY, final_database="HGNC Symbol")
    assert table["target"].tolist()[:5] == ["TP53", "TP53", "TP53", "BRCA2", "BRCA1"]
    assert table.attrs["idtrack"]["namespace"] == "symbol"


def test_introspection(api):
    releases = api.list_ensembl_releases()
    assert releases == sorted(releases)
    assert [r for r in releases if r >= 84] == [84, 93, 100, 104, 110, 114]
    # the reference tool's names where it has the database, ours where it has none
    databases = api.list_external_databases()
    assert databases >= {"EntrezGene", "hgnc_id", "HGNC Symbol"}
    assert not databases & {"symbol", "entrez", "ensembl_gene"}
    assert api.list_external_databases_by_assembly()[38] >= {"EntrezGene", "hgnc_id", "HGNC Symbol"}
    assert api.external_database_forms() == dict.fromkeys(databases, "gene")
    assert 38 in api.list_genome_assemblies()
    assert api.infer_identifier_source(["TP53", "BRCA1", TP53]) == (38, 114)
    assert api.infer_identifier_source(["TP53"], mode="ensembl_release") == 114
    assert api.infer_identifier_source(["TP53"], mode="assembly") == 38
    # TP53 has one symbol in both gene sets the snapshot covers (GRCh37 as release 75, and GRCh38)
    assemblies = [(38, 1), (37, 1)] if 75 in api.snapshot.releases else [(38, 1)]
    assert api.infer_identifier_source(["TP53"], mode="assembly", report_only_winner=False) == assemblies
    assert api.infer_identifier_source([TP53, BRCA2], mode="complete") == ("ensembl_gene", 38, 114)
    assert api.infer_identifier_source(["TP53", "BRCA1"], mode="complete") == ("HGNC Symbol", 38, 114)
    # ENSG00000002079 was retired after 110: identifiers seen together last in 110
    ranked = api.infer_identifier_source(["ENSG00000002079", TP53], report_only_winner=False)
    assert ranked[0] == ((38, 110), 2)
    with pytest.raises(ValueError, match="mode"):
        api.infer_identifier_source(["TP53"], mode="galaxy")


# -- building the "graph" -------------------------------------------------------------------------
def test_nothing_works_before_build_graph():
    with pytest.raises(RuntimeError, match="build_graph"):
        API("repo").convert_identifier("TP53")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"organism_name": "default"},
        {"organism": "embedded"},
        {"organism_name": "human", "snapshot_release": "default"},
        {"organism": "Homo sapiens", "ensembl_release": "default", "genome_assembly": 38},
        {"snapshot": "default", "organism_name": "homo_sapiens"},
    ],
)
def test_build_graph_spellings(tmp_path, monkeypatch, kwargs):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    api = API(tmp_path)
    api.build_graph(**kwargs, calculate_caches=False)
    assert api.snapshot.path.name == "homo_sapiens-default.idtrack.zip"
    assert api.convert_identifier("P53")["target_id"] == [TP53_V]


def test_build_graph_refuses_mismatches(tmp_path):
    api = API(tmp_path)
    with pytest.raises(ValueError, match="does not match"):
        api.build_graph(organism_name="mouse", snapshot="default")
    with pytest.raises(ValueError, match="genome_assembly=36"):
        api.build_graph(organism_name="default", genome_assembly=36)
    with pytest.raises(ValueError, match="not both"):
        api.build_graph(organism_name="human", organism="mouse")
    with pytest.raises(ValueError, match="organism_name"):
        api.build_graph()


def test_embedded_snapshot_is_never_a_silent_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    api = API(tmp_path)
    with pytest.raises(ValueError, match="gallus_gallus"):
        api.build_graph(organism_name="chicken")
    assert api.snapshot is None
    # never a release of None: a clear error that says how to get a snapshot
    with pytest.raises(ValueError, match="No snapshot of gallus_gallus.*snapshot build"):
        api.resolve_organism("chicken")


def test_local_repository_files_are_found(tmp_path, monkeypatch):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(default_snapshot_path(), repo / "homo_sapiens-114.idtrack.zip")
    api = API(repo)
    assert api.resolve_organism("hsapiens") == ("homo_sapiens", 114)
    api.build_graph(organism_name="homo_sapiens", snapshot_release=114)
    assert api.snapshot.path == repo / "homo_sapiens-114.idtrack.zip"
    api.build_graph(organism_name="human")  # newest
    assert api.convert_identifier("BRCA1", final_database="HGNC Symbol")["target_id"] == ["BRCA1"]


def test_snapshot_release_is_an_upper_bound(tmp_path, monkeypatch):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(default_snapshot_path(), repo / "homo_sapiens-114.idtrack.zip")
    api = API(repo)
    # the snapshot up to 114 holds 110: it is used, and 110 is the newest release conversions see
    api.build_graph(organism_name="human", snapshot_release=110, calculate_caches=False)
    assert api.snapshot.path.name == "homo_sapiens-114.idtrack.zip"
    assert api.snapshot_release == 110
    assert [r for r in api.list_ensembl_releases() if r >= 84] == [84, 93, 100, 104, 110]
    assert api.convert_identifier("TP53")["target_id"] == [f"{TP53}.18"]
    assert api.convert_identifier("ENSG00000002079")["reason"] != "retired"  # retired only after 110
    assert api.convert_identifier("TP53", to_release=100)["target_id"] == [TP53]  # no versions in 100
    with pytest.raises(ValueError, match="newer than the graph's newest release 110"):
        api.convert_identifier("TP53", to_release=114)
    assert max(api.track.db_manager.available_releases) == 110
    # beyond every snapshot, and before the first covered release: clear errors
    with pytest.raises(ValueError, match="No snapshot of homo_sapiens covers release 120"):
        api.build_graph(organism_name="human", snapshot_release=120)
    with pytest.raises(ValueError, match="outside the releases"):
        api.build_graph(organism_name="human", snapshot_release=50)


def test_track_graph_and_convert(api):
    graph = api.track.graph
    assert type(graph).__name__ == "MultiDiGraph"
    assert (graph.graph["organism"], graph.graph["ensembl_release"], graph.graph["genome_assembly"]) == (
        "homo_sapiens",
        114,
        38,
    )
    assert graph.number_of_nodes() > 860
    assert graph.has_edge("TP53", TP53_V)
    assert api.track.graph is graph  # built once
    converted = api.track.convert("P53", final_database="HGNC Symbol", prioritize_to_one_filter=True)
    assert converted == {
        TP53_V: {
            "final_conversion": {
                "final_conversion_confidence": 0,
                "final_database": "HGNC Symbol",
                "final_elements": {"TP53": {}},
            }
        }
    }
    unnamed = api.track.convert("ENSG00000260000", final_database="HGNC Symbol")
    assert unnamed["ENSG00000260000.4"]["final_conversion"]["final_conversion_confidence"] == float("inf")
    assert api.track.convert("NOT_A_REAL_GENE") is None
    path = api.track.convert("TP53", return_path=True)[TP53_V]["final_conversion"]["final_elements"][TP53_V]
    assert path["the_path"] == ((TP53_V, None),)


def test_database_manager_says_what_it_is(api):
    manager = api.get_database_manager("human", 104, ignore_before=84)
    assert manager.available_releases == [84, 93, 100, 104]
    assert api.get_database_manager("human", 114, ignore_before=100).available_releases == [100, 104, 110, 114]
    with pytest.raises(AttributeError, match="no Ensembl database connection"):
        manager.download_table  # noqa: B018 - the reference tool's manager method


def test_configure_logger_is_idempotent_and_local(api, caplog):
    package = logging.getLogger("idtrack_sc")
    root_handlers = list(logging.getLogger().handlers)
    before, level = list(package.handlers), package.level
    try:
        api.configure_logger("DEBUG")
        assert api.logger_configured
        assert len(package.handlers) == len(before) + 1
        assert package.level == logging.DEBUG
        with caplog.at_level(logging.INFO, logger="idtrack_sc"):
            api.configure_logger()
        assert "already configured" in caplog.text
        assert len(package.handlers) == len(before) + 1
        # once per process, as the reference tool's: more API objects print each line once
        for _ in range(3):
            API("elsewhere").configure_logger()
        API("elsewhere").configure_logger(logging.WARNING)
        assert len(package.handlers) == len(before) + 1
        assert package.level == logging.WARNING
        assert logging.getLogger().handlers == root_handlers
    finally:
        package.removeHandler(api._handler)
        package.setLevel(level)


def test_mouse_snapshot_spans_two_assemblies(tmp_path):
    from pathlib import Path

    from idtrack_sc.builders import build_snapshot, read_gene_table

    data = Path(__file__).resolve().parents[1] / "data" / "orthologs"
    sources = [read_gene_table(data / f"mouse_genes_e{r}.tsv", release=r) for r in (100, 114)]
    mouse = build_snapshot(sources, organism="mouse", out=tmp_path / "mus_musculus-114.idtrack.zip")
    api = API(tmp_path)
    api.build_graph(snapshot=mouse, calculate_caches=False)
    # Ensembl 100 is GRCm38, 114 GRCm39
    assert api.list_genome_assemblies() == {38, 39}
    assert api.infer_identifier_source(["Trp53"], mode="assembly", report_only_winner=False) == [(39, 1), (38, 1)]
    assert api.list_external_databases() == {"MGI Symbol", "EntrezGene"}
    # the reference tool's genome_assembly picks the default target: the newest release of it
    api.build_graph(snapshot=mouse, genome_assembly=38, calculate_caches=False)
    assert (api.snapshot_release, api.default_release) == (114, 100)
    assert api.convert_identifier("Trp53")["target_id"] == ["ENSMUSG00000059552"]  # release 100: no versions
    api.build_graph(snapshot=mouse, calculate_caches=False)
    assert api.convert_identifier("Trp53", final_database="MGI Symbol")["target_id"] == ["Trp53"]
    with pytest.raises(ValueError, match="homo sapiens's nomenclature.*Use 'MGI Symbol'"):
        api.convert_identifier("Trp53", final_database="HGNC Symbol")
    with pytest.raises(ValueError, match="genome_assembly=37"):
        api.build_graph(snapshot=mouse, genome_assembly=37)
