"""The reference tool's API on the embedded default snapshot."""

from __future__ import annotations

import logging
import shutil

import pytest

import idtrack_sc as its
from idtrack_sc.compat import API, CLASSIFICATION_BINS
from idtrack_sc.datasets import default_snapshot_path

TP53, BRCA1, BRCA2 = "ENSG00000141510", "ENSG00000012048", "ENSG00000139618"
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


def test_legacy_rescue_to_ensembl(api):
    results = api.convert_identifier_multiple(LEGACY, verbose=False)
    assert [r["query_id"] for r in results] == LEGACY
    assert [r["target_id"] for r in results] == [[TP53], [TP53], [TP53], [BRCA2], [BRCA1], []]
    assert all(set(r) == RESULT_KEYS for r in results)
    assert [r["outcome"] for r in results] == ["1:1"] * 5 + ["1:0"]
    assert results[1]["reason"] == "alias"
    assert results[0]["final_database"] == "ensembl_gene"
    assert results[0]["last_node"] == [(TP53, TP53)]
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
    assert results[1]["last_node"] == [(TP53, "TP53")]
    assert results[1]["graph_id"] == "P53"
    assert {r["final_database"] for r in results[:5]} == {"HGNC Symbol"}


def test_single_identifier_matches_batch(api):
    one = api.convert_identifier("ENSG00000141510.18", final_database="symbol")
    assert one["target_id"] == ["TP53"]
    assert one["reason"] == "version_stripped"
    assert one == api.convert_identifier_multiple(["ENSG00000141510.18"], final_database="symbol", verbose=False)[0]


@pytest.mark.parametrize(
    ("name", "first"),
    [("HGNC Symbol", "TP53"), ("Ensembl Gene", TP53), ("ensembl_gene", TP53), (None, TP53), ("hgnc_id", "HGNC:11998")],
)
def test_reference_database_names(api, name, first):
    assert api.convert_identifier("TP53", final_database=name)["target_id"] == [first]


def test_entrez_names_and_unknown_database(api):
    # the embedded snapshot has Entrez IDs up to release 100 only
    for name in ("EntrezGene", "NCBI gene (formerly Entrezgene)"):
        assert api.convert_identifier("TP53", to_release=100, final_database=name)["target_id"] == ["7157"]
    with pytest.raises(ValueError, match="can convert to"):
        api.convert_identifier("TP53", final_database="Uniprot/SPTREMBL")


def test_no_target_falls_back_to_ensembl_gene(api):
    unnamed = "ENSG00000260000"  # a lncRNA with no symbol in any source
    res = api.convert_identifier(unnamed, final_database="HGNC Symbol")
    assert (res["no_target"], res["no_conversion"], res["no_corresponding"]) == (True, False, False)
    assert (res["target_id"], res["final_database"]) == ([unnamed], "ensembl_gene")
    assert (res["outcome"], res["reason"]) == ("1:0", "no_target_name")
    bins = api.classify_multiple_conversion([res])
    assert len(bins["alternative_target_1_to_1"]) == 1
    assert not bins["matching_1_to_1"]


def test_retired_is_no_conversion(api):
    res = api.convert_identifier("ENSG00000002079")  # retired by release 114
    assert (res["no_conversion"], res["no_corresponding"], res["target_id"]) == (True, False, [])
    assert res["reason"] == "retired"
    assert api.convert_identifier("ENSG00000002079", to_release=110)["target_id"] == ["ENSG00000002079"]


def test_strategy_and_ambiguity(api):
    best = api.convert_identifier("60B8AG", final_database="HGNC Symbol")
    assert best["outcome"] == "1:n"
    assert sorted(best["target_id"]) == ["S100A8", "S100A9"]
    assert sorted(best["last_node"]) == [("ENSG00000143546", "S100A8"), ("ENSG00000163220", "S100A9")]
    every = api.convert_identifier("60B8AG", final_database="HGNC Symbol", strategy="all")
    assert sorted(every["target_id"]) == ["S100A8", "S100A9"]
    with pytest.raises(ValueError, match="strategy"):
        api.convert_identifier("TP53", strategy="first")


def test_classify_bins_like_the_reference(api):
    ids = [*LEGACY, "60B8AG", "ENSG00000002079", TP53]
    results = api.convert_identifier_multiple(ids, final_database="ensembl_gene", verbose=False)
    bins = api.classify_multiple_conversion(results)
    assert tuple(bins) == CLASSIFICATION_BINS
    counts = {k: len(v) for k, v in bins.items()}
    assert counts == {
        "changed_only_1_to_n": 1,
        "changed_only_1_to_1": 3,  # TP53, P53, BRCA1 (symbols -> IDs)
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
    assert res["the_path"] == {("TP53", TP53): ((TP53, None),)}
    assert any("alias" in step for step in res["explanation"])


def test_from_release_is_ignored_with_a_warning(api, caplog):
    with caplog.at_level(logging.WARNING, logger="idtrack_sc.compat"):
        res = api.convert_identifier("TP53", from_release=93)
    assert res["target_id"] == [TP53]
    assert "from_release" in caplog.text


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
    if 75 in api.snapshot.releases:  # the default subset with the GRCh37 gene set, UniProt and RefSeq
        assert api.list_ensembl_releases() == [75, 84, 93, 100, 104, 110, 114]
        assert api.list_external_databases() == {"entrez", "hgnc_id", "refseq", "symbol", "uniprot"}
        assert api.list_genome_assemblies() == {37, 38}
    else:
        assert api.list_ensembl_releases() == [84, 93, 100, 104, 110, 114]
        assert api.list_external_databases() == {"entrez", "hgnc_id", "symbol"}
        assert api.list_genome_assemblies() == {38}
    assert api.infer_identifier_source(["TP53", "BRCA1", TP53]) == (38, 114)
    assert api.infer_identifier_source(["TP53"], mode="ensembl_release") == 114
    assert api.infer_identifier_source(["TP53"], mode="assembly") == 38
    assert api.infer_identifier_source([TP53, BRCA2], mode="complete") == ("ensembl_gene", 38, 114)
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
    assert api.convert_identifier("P53")["target_id"] == [TP53]


def test_build_graph_refuses_mismatches(tmp_path):
    api = API(tmp_path)
    with pytest.raises(ValueError, match="does not match"):
        api.build_graph(organism_name="mouse", snapshot="default")
    with pytest.raises(ValueError, match="assembl"):
        api.build_graph(organism_name="default", genome_assembly=36)
    with pytest.raises(ValueError, match="not both"):
        api.build_graph(organism_name="human", organism="mouse")
    with pytest.raises(ValueError, match="organism_name"):
        api.build_graph()


def test_embedded_snapshot_is_never_a_silent_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    api = API(tmp_path)
    with pytest.raises(ValueError, match="idtrack.zip"):
        api.build_graph(organism_name="human")
    assert api.snapshot is None
    name, release = api.resolve_organism("human")
    assert (name, release) == ("homo_sapiens", None)


def test_local_repository_files_are_found(tmp_path, monkeypatch):
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(default_snapshot_path(), repo / "homo_sapiens-114.idtrack.zip")
    api = API(repo)
    assert api.resolve_organism("hsapiens") == ("homo_sapiens", 114)
    api.build_graph(organism_name="homo_sapiens", snapshot_release=114)
    assert api.snapshot.path == repo / "homo_sapiens-114.idtrack.zip"
    api.build_graph(organism_name="human")  # newest local file
    assert api.convert_identifier("BRCA1", final_database="HGNC Symbol")["target_id"] == ["BRCA1"]
    with pytest.raises(ValueError, match="homo_sapiens-110"):
        api.build_graph(organism_name="human", snapshot_release=110)


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
        assert logging.getLogger().handlers == root_handlers
    finally:
        package.removeHandler(api._handler)
        package.setLevel(level)
