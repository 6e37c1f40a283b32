"""Lineage inference from loci and transcripts, on real rows of the public tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.builders import build_snapshot, read_gene_table, read_hgnc, read_transcript_table
from idtrack_sc.builders._lineage import ChainMismatchError

DATA = Path(__file__).resolve().parents[1] / "data" / "lineage"
CHAIN = DATA / "hg19ToHg38.excerpt.chain.gz"
ASSEMBLY = {75: "GRCh37"}


def _sources(*, loci: bool = True, transcripts: bool = True, hgnc: bool = True) -> list:
    sources = []
    for release in (75, 84, 93, 100, 104, 110, 114):
        path = DATA / f"genes_e{release}.tsv"
        has_loci = "start" in pd.read_csv(path, sep="\t", nrows=0).columns
        sources.append(
            read_gene_table(
                path,
                release=release,
                assembly=ASSEMBLY.get(release, "GRCh38"),
                coordinates="0-based" if (loci and has_loci) else None,
                scope="full" if release <= 100 else "primary_assembly",
            )
        )
        tx = DATA / f"transcripts_e{release}.tsv"
        if transcripts and tx.exists():
            sources.append(read_transcript_table(tx, release=release, assembly=ASSEMBLY.get(release, "GRCh38")))
    if hgnc:
        sources.append(read_hgnc(DATA / "hgnc_excerpt.tsv"))
    return sources


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    out = tmp_path_factory.mktemp("lineage") / "homo_sapiens-lineage.idtrack.zip"
    return build_snapshot(_sources(), organism="human", assembly="GRCh38", out=out, liftover={"GRCh37": CHAIN})


def _curated() -> pd.DataFrame:
    cur = pd.read_csv(DATA / "curated_gencode_maps.tsv", sep="\t", comment="#")
    return cur[cur["organism"] == "homo_sapiens"]


def test_inferred_links_are_right_and_labelled(snap):
    ev = snap.events
    inferred = ev[ev["source"] == "inferred_lineage"]
    assert len(inferred)
    assert (ev["source"] == "inferred_lineage").all()
    assert set(inferred["evidence"]) <= {"high", "medium", "low"}
    assert inferred["detail"].str.len().gt(0).all()
    # never a wrong link on the curated cases: every curated old ID that is linked goes to its new ID
    truth = dict(zip(_curated()["old_id"], _curated()["new_id"], strict=True))
    linked = inferred[inferred["old_id"].isin(truth)]
    assert (linked["new_id"] == linked["old_id"].map(truth)).all()
    assert len(linked) >= 10  # recall on the curated pairs (12 of 14 in the full build)
    paxx = inferred[inferred["old_id"] == "ENSG00000148362"].iloc[0]
    assert (paxx["new_id"], paxx["evidence"], paxx["old_release"], paxx["release"]) == (
        "ENSG00000310560",
        "high",
        110,
        114,
    )
    assert "identical locus" in paxx["detail"]


def test_merges_stay_unlinked_unless_one_competitor_keeps_the_identifiers(snap):
    ev = snap.events.set_index("old_id")
    # ENSG00000225932 and ENSG00000256178 both overlap ENSG00000288784; only the first keeps its symbol
    assert ev.loc["ENSG00000225932", "new_id"] == "ENSG00000288784"
    assert "ENSG00000256178" not in ev.index
    # SOD2's second model (93-100) overlaps SOD2's new ID too, but is no handover: it was gone
    # two releases before the new ID was born
    assert "ENSG00000285441" not in ev.index


@pytest.mark.parametrize(
    ("old", "new", "symbol", "gone"),
    [
        # SOD2: an Ensembl annotation fault in 108; cellxgene-schema 5.0.0 remaps it by hand
        ("ENSG00000112096", "ENSG00000291237", "SOD2", 110),
        ("ENSG00000183729", "ENSG00000288611", "NPBWR1", 104),  # loci overlap 0.43 only
        ("ENSG00000277203", "ENSG00000288722", "F8A1", 104),  # GRCh37's F8A1 ID also overlaps the new ID
    ],
)
def test_a_handover_links_the_id_a_newborn_id_takes_the_gene_from(snap, old, new, symbol, gone):
    link = snap.events.set_index("old_id").loc[old]
    assert (link["new_id"], link["release"], link["evidence"]) == (new, gone, "medium")
    assert "handover" in link["detail"]
    assert "HGNC ID" in link["detail"]
    # followed at the default min_evidence, forward and back
    res = its.convert([old], snapshot=snap, release=114)
    assert (res["target"].iloc[0], res["reason"].iloc[0]) == (new, "inferred_successor")
    assert its.convert([old], snapshot=snap, release=114, to="symbol")["target"].iloc[0] == symbol
    back = its.convert([new], snapshot=snap, release=int(link["old_release"]))
    assert (back["target"].iloc[0], back["reason"].iloc[0]) == (old, "inferred_predecessor")
    assert "handover" in str(its.explain(old, snapshot=snap))


def test_old_and_new_sod2_datasets_merge_into_one_gene(snap):
    import anndata as ad
    import numpy as np

    old = ad.AnnData(np.ones((2, 2), dtype=np.float32))
    old.var_names = ["ENSG00000112096", "ENSG00000141510"]  # SOD2, TP53 as a release-104 dataset has them
    new = ad.AnnData(np.ones((3, 2), dtype=np.float32))
    new.var_names = ["ENSG00000291237", "ENSG00000141510"]  # the same genes in release 114
    merged = its.concat_harmonized({"old": old, "new": new}, snapshot=snap, release=114)
    assert sorted(merged.var_names) == ["ENSG00000141510", "ENSG00000291237"]
    assert merged.n_obs == 5


@pytest.mark.parametrize(
    ("old", "wrong", "rival"),
    [
        # NXF2B's GRCh37 ID: overlap 0.92 and one transcript with the GRCh38 NXF2B ID (off the primary
        # assembly in 75), but its lifted locus is identical to ENSG00000284800's
        ("ENSG00000185945", "ENSG00000269437", "ENSG00000284800"),
        # FAM169B: two transcripts moved to ENSG00000283597 (overlap 0.70), but the locus is identical
        # to ENSG00000293555's (FAM169BP in 114)
        ("ENSG00000185087", "ENSG00000283597", "ENSG00000293555"),
    ],
)
def test_a_link_whose_evidence_is_contested_is_low(snap, old, wrong, rival):
    link = snap.events.set_index("old_id").loc[old]
    assert (link["new_id"], link["evidence"]) == (wrong, "low")
    assert f"contested by {rival}" in link["detail"]
    # the default min_evidence follows no contested link: no successor rather than a doubtful one
    res = its.convert([old], snapshot=snap, release=114)
    assert (res["outcome"].iloc[0], res["reason"].iloc[0]) == ("1:0", "retired")
    assert its.convert([old], snapshot=snap, release=114, min_evidence="low")["target"].iloc[0] == wrong


def test_shared_transcripts_without_identifier_continuity_are_low(snap):
    # RP11-311H10.4 (a clone-based name, reused) shares one of its transcripts with ENSG00000286322;
    # the loci overlap 0.78
    link = snap.events.set_index("old_id").loc["ENSG00000223678"]
    assert (link["new_id"], link["evidence"]) == ("ENSG00000286322", "low")
    assert "shared transcripts without identifier continuity" in link["detail"]
    assert its.convert(["ENSG00000223678"], snapshot=snap, release=114)["outcome"].iloc[0] == "1:0"


def test_manifest_reports_lineage_scope_and_assemblies(snap):
    m = snap.manifest
    lineage = m["lineage"]
    assert lineage["status"] == "inferred"
    assert lineage["reference_assembly"] == "GRCh38"
    counts = lineage["counts"]
    assert counts["linked"] == counts["linked_high"] + counts["linked_medium"] + counts["linked_low"]
    assert counts["linked"] == (snap.events["source"] == "inferred_lineage").sum()
    assert counts["loci_lifted:GRCh37"] > 0
    assert {"handover", "contested"} <= set(lineage["rules"])
    assert counts["contested"] >= 2  # NXF2B's and FAM169B's old IDs
    assert counts["handover_pairs"] >= 3  # SOD2, NPBWR1, F8A1 among them
    assert lineage["liftover"]["GRCh37"]["chain"] == CHAIN.name
    assert sorted(lineage["sources_without_loci"]) == ["gene_table:104", "gene_table:110"]
    pairs = {(p["from"], p["to"]): p for p in lineage["release_pairs"]}
    assert pairs[110, 114]["high"] >= 1  # PAXX
    assert m["release_assemblies"]["75"] == "GRCh37"
    assert m["release_assemblies"]["114"] == "GRCh38"
    assert m["release_scopes"]["100"] == "full"
    assert m["release_scopes"]["104"] == "primary_assembly"


def test_loci_are_one_based_on_their_assembly(snap):
    loci = snap.loci.set_index(["gene_id", "first_release"])
    # PAXX in 114: gene_coordinates says chr9 136992421 (0-based) .. 136993984
    row = loci.loc[("ENSG00000310560", 114)]
    assert (row["assembly"], row["chromosome"], row["start"], row["end"], row["strand"]) == (
        "GRCh38",
        "9",
        136992422,
        136993984,
        1,
    )
    assert loci.loc[("ENSG00000148362", 75), "assembly"] == "GRCh37"


def test_resolver_follows_inferred_links_with_its_own_reason(snap):
    table = its.convert(["ENSG00000148362", "C9orf142", "ENSG00000148362.11"], snapshot=snap)
    assert table["target"].tolist() == ["ENSG00000310560"] * 3
    assert set(table["reason"]) == {"inferred_successor"}
    # Ensembl's own history only: the old ID is retired
    strict = its.convert(["ENSG00000148362"], snapshot=snap, min_evidence="none")
    assert (strict["outcome"].iloc[0], strict["reason"].iloc[0], strict["retired_in"].iloc[0]) == (
        "1:0",
        "retired",
        114,
    )
    # backwards: the new ID at an old release
    back = its.convert(["ENSG00000310560"], snapshot=snap, release=100)
    assert (back["target"].iloc[0], back["reason"].iloc[0]) == ("ENSG00000148362", "inferred_predecessor")


def test_min_evidence_chooses_the_weakest_tier(snap):
    ev = snap.events
    low = ev[ev["evidence"] == "low"]
    assert len(low)
    old = low["old_id"].iloc[0]
    assert its.convert([old], snapshot=snap, min_evidence="low")["reason"].iloc[0] == "inferred_successor"
    assert its.convert([old], snapshot=snap)["outcome"].iloc[0] == "1:0"  # default: medium
    with pytest.raises(ValueError, match="min_evidence must be one of"):
        its.convert([old], snapshot=snap, min_evidence="strong")


@pytest.mark.parametrize(
    ("old", "new", "symbol"),
    [("ENSG00000117289", "ENSG00000265972", "TXNIP"), ("ENSG00000187145", "ENSG00000266472", "MRPS21")],
)
def test_a_fix_patch_gene_that_became_primary_succeeds_the_gene_it_replaced(snap, old, new, symbol):
    # release 75 (GRCh37) has the new ID only on the fix patch HG1287_PATCH, beside the old
    # primary one; GRCh38 (84) has only the new ID, on chromosome 1
    res = its.convert([old], snapshot=snap, release=114, to="symbol")
    assert (res["target"].iloc[0], res["reason"].iloc[0]) == (symbol, "inferred_successor")
    link = snap.events.set_index("old_id").loc[old]
    assert (link["new_id"], link["old_release"], link["release"]) == (new, 75, 84)
    assert link["evidence"] in ("high", "medium")  # kept: the symbol, HGNC and Entrez IDs carry on
    assert "off the primary assembly" in link["detail"]
    assert "off the primary assembly" in str(its.explain(old, snapshot=snap))
    # the patch gene itself is unchanged: it is no new gene of 84 for a dataset of 75
    assert its.convert([new], snapshot=snap, release=114)["target"].iloc[0] == new


def test_a_patch_gene_without_identifier_continuity_is_a_low_link(snap):
    # PNMA6D's GRCh37 ID overlaps PNMA6B's, a patch gene in 75: a neighbouring family member,
    # not a proven successor, so the link is low and the default min_evidence does not follow it
    link = snap.events.set_index("old_id").loc["ENSG00000257088"]
    assert (link["new_id"], link["evidence"]) == ("ENSG00000268883", "low")
    assert "no identifier continuity" in link["detail"]
    assert its.convert(["ENSG00000257088"], snapshot=snap, release=114)["reason"].iloc[0] == "retired"
    low = its.convert(["ENSG00000257088"], snapshot=snap, release=114, min_evidence="low")
    assert low["target"].iloc[0] == "ENSG00000268883"


def test_haplotype_genes_never_on_the_primary_assembly_link_nothing(snap):
    ev = snap.events
    assert "ENSG00000096150" not in set(ev["old_id"]) | set(ev["new_id"])


def test_explain_shows_the_evidence(snap):
    text = str(its.explain("ENSG00000148362", snapshot=snap))
    assert "inferred" in text
    assert "high" in text
    assert "identical locus" in text


def test_transcripts_resolve_with_and_without_version(snap):
    tx = snap.features[snap.features["gene_id"] == "ENSG00000141510"]["feature_id"].iloc[0]
    table = its.convert([tx, f"{tx}.3"], snapshot=snap, release=100)
    assert table["target"].tolist() == ["ENSG00000141510"] * 2
    assert table["reason"].tolist() == ["from_transcript"] * 2


def test_uniprot_and_refseq_are_namespaces(snap):
    assert {"uniprot", "refseq"} <= set(snap.namespaces)
    table = its.convert(["P04637", "NM_000546", "NM_000546.6"], snapshot=snap, release=100)
    assert table["target"].tolist() == ["ENSG00000141510"] * 3
    assert table["parse"].tolist() == ["as_is", "as_is", "version_stripped"]
    out = its.convert(["TP53"], snapshot=snap, release=100, to="uniprot")
    names = snap.names
    tp53 = names[(names["gene_id"] == "ENSG00000141510") & (names["namespace"] == "uniprot")]["value"]
    assert out["target"].iloc[0] in set(tp53)
    assert len(out["target"].iloc[0]) == 6  # a 6-character accession before the 10-character ones


def test_grch37_era_ids_resolve_into_grch38_releases(snap):
    # an ID of the GRCh37 gene set only (gone in 84), linked through its lifted locus
    ev = snap.events
    first = ev[ev["old_release"] == 75]
    assert len(first)
    row = first.iloc[0]
    out = its.convert([row["old_id"]], snapshot=snap, release=int(row["release"]))
    assert out["target"].iloc[0] == row["new_id"]


def test_any_release_in_range_and_undetermined_presence(snap):
    # TP53 is in 104 and 110: present in 105
    assert its.convert(["TP53"], snapshot=snap, release=105)["target"].iloc[0] == "ENSG00000141510"
    # SOD2's old ID is in 104, not 110: at 105 nobody knows
    out = its.convert(["ENSG00000112096"], snapshot=snap, release=105)
    assert (out["outcome"].iloc[0], out["reason"].iloc[0]) == ("1:0", "presence_undetermined")
    with pytest.raises(ValueError, match="release 120 is outside the range .* releases 75 to 114"):
        its.convert(["TP53"], snapshot=snap, release=120)


def test_absence_outside_a_tables_scope_is_not_retirement(snap):
    out = its.convert(["ENSG00000096150"], snapshot=snap, release=114)
    assert (out["outcome"].iloc[0], out["reason"].iloc[0]) == ("1:0", "outside_table_scope")
    assert pd.isna(out["retired_in"].iloc[0])
    assert its.convert(["ENSG00000096150"], snapshot=snap, release=100)["outcome"].iloc[0] == "1:1"


def test_between_covered_releases_a_new_version_is_still_the_same_gene(snap):
    # DDX11L1 has version 5 in 104 and version 6 in 110: it exists in 105
    assert its.convert(["ENSG00000223972"], snapshot=snap, release=105)["reason"].iloc[0] == "unchanged"


def test_without_loci_or_transcripts_nothing_is_inferred():
    snap = build_snapshot(_sources(loci=False, transcripts=False, hgnc=False), organism="human", assembly="GRCh38")
    assert snap.manifest["lineage"]["status"].startswith("not inferred")
    assert len(snap.events) == 0
    assert len(snap.loci) == 0


def test_undeclared_coordinates_are_left_out_not_guessed(caplog):
    src = read_gene_table(DATA / "genes_e100.tsv", release=100)
    assert len(src.loci) == 0
    assert "not declared" in src.notes["loci"]
    assert "coordinate convention" in caplog.text
    with pytest.raises(ValueError, match="no coordinate convention"):
        read_gene_table(DATA / "genes_e100.tsv", release=100, coordinates="2-based")


def test_biomart_columns_are_one_based(tmp_path):
    path = tmp_path / "mart_export.txt"
    path.write_text(
        "Gene stable ID\tGene name\tChromosome/scaffold name\tGene start (bp)\tGene end (bp)\tStrand\n"
        "ENSG00000141510\tTP53\t17\t7661779\t7687538\t-1\n"
    )
    src = read_gene_table(path, release=114, assembly="GRCh38")
    assert src.loci[["chromosome", "start", "end", "strand"]].iloc[0].tolist() == ["17", 7661779, 7687538, -1]


def test_chain_of_other_assemblies_is_refused(tmp_path):
    wrong = tmp_path / "mm10ToMm39.over.chain.gz"
    shutil.copy(CHAIN, wrong)
    with pytest.raises(ChainMismatchError, match="maps mm10 to Mm39"):
        build_snapshot(_sources(), organism="human", assembly="GRCh38", liftover={"GRCh37": wrong})
    # a chain that does not fit the loci (named neutrally): too few loci lift
    neutral = tmp_path / "excerpt.chain.gz"
    shutil.copy(CHAIN, neutral)
    sources = _sources()
    grch37 = sources[0]
    grch37.loci = grch37.loci.assign(chromosome="22")  # loci moved onto a chromosome the excerpt lacks
    with pytest.raises(ChainMismatchError, match="does not match the assembly"):
        build_snapshot(sources, organism="human", assembly="GRCh38", liftover={"GRCh37": neutral})


def test_failed_build_leaves_nothing_behind(tmp_path):
    out = tmp_path / "x.idtrack.zip"
    chain = _renamed(tmp_path, "hg18ToHg38.over.chain.gz")
    with pytest.raises(ChainMismatchError):
        build_snapshot(_sources(), organism="human", assembly="GRCh38", out=out, liftover={"GRCh37": chain})
    assert list(tmp_path.iterdir()) == [tmp_path / "hg18ToHg38.over.chain.gz"]


def _renamed(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    shutil.copy(CHAIN, path)
    return path


def test_build_is_deterministic(tmp_path):
    a = build_snapshot(
        _sources(), organism="human", assembly="GRCh38", out=tmp_path / "a.zip", liftover={"GRCh37": CHAIN}
    )
    b = build_snapshot(
        _sources(), organism="human", assembly="GRCh38", out=tmp_path / "b.zip", liftover={"GRCh37": CHAIN}
    )
    assert a.sha256 == b.sha256


def test_compat_genome_assembly_37_targets_the_grch37_gene_set(snap, tmp_path):
    from idtrack_sc.compat import API

    api = API(local_repository=tmp_path)
    api.build_graph(snapshot=snap, genome_assembly=37, calculate_caches=False)
    assert api.default_release == 75
    # a GRCh38-era ID taken back to the GRCh37 gene set through its inferred predecessor
    res = api.convert_identifier("ENSG00000278311")
    assert res["target_id"] == ["ENSG00000005955"]
    api.build_graph(snapshot=snap, genome_assembly=38, calculate_caches=False)
    assert api.default_release == api.snapshot_release == 114
    with pytest.raises(ValueError, match="genome_assembly=19 is not in"):
        api.build_graph(snapshot=snap, genome_assembly=19, calculate_caches=False)
