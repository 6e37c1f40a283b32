"""Write ``docs/lineage.md``: how inferred lineage links are made, and how well they do.

Reads the snapshots ``build_real_snapshots.py`` writes (``scripts/work/{organism}-114.idtrack.zip``)
and the truth sets ``tests/data/lineage/curated_gencode_maps.tsv`` (the hand-made GENCODE ID
maps of cellxgene-schema's ``migrate.py``) and ``ncbi_gene2ensembl_pairs.tsv`` (NCBI Gene's
Entrez -> Ensembl links of 2022), and writes the page with:

- per organism and pair of consecutive covered releases: IDs that disappeared, and links per
  evidence tier (from each snapshot's manifest, the build report);
- precision and recall on the curated pairs, per tier of the link and per ``min_evidence``
  setting of the resolver (a wrong link is one to another new ID than the curated one);
- worked examples (PAXX among them) with their evidence, as ``explain()`` prints it.

Usage::

    python scripts/lineage_report.py [--work DIR] [--out docs/lineage.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
CURATED = ROOT / "tests" / "data" / "lineage" / "curated_gencode_maps.tsv"
#: A second truth set: NCBI Gene's Entrez -> Ensembl links of 2022 for IDs with an Entrez ID of their own.
NCBI_PAIRS = ROOT / "tests" / "data" / "lineage" / "ncbi_gene2ensembl_pairs.tsv"
ORGANISMS = {"homo_sapiens": "human", "mus_musculus": "mouse"}
EXAMPLES = {
    "homo_sapiens": [
        ("ENSG00000148362", 114, "symbol", "C9orf142 / PAXX: a new ID for the same locus in 114"),
        ("ENSG00000005955", 114, "symbol", "a GRCh37-set ID replaced in 84, found through its lifted locus"),
        ("ENSG00000117289", 114, "symbol", "TXNIP: replaced in 84 by the gene of a GRCh37 fix patch"),
        ("ENSG00000244693", 114, "symbol", "reciprocal overlap above 0.9 (medium)"),
        ("ENSG00000256178", 114, "ensembl_gene", "a merge seen from one side: the competitor keeps the symbol"),
        (
            "ENSG00000112096",
            114,
            "symbol",
            "SOD2: a handover, gone in 110 as ENSG00000291237 is born with its identifiers",
        ),
        ("ENSG00000183729", 114, "symbol", "NPBWR1: a handover whose loci overlap too little for a locus link"),
        ("ENSG00000185945", 114, "ensembl_gene", "NXF2B's GRCh37 ID: contested evidence, low, not followed by default"),
    ],
    "mus_musculus": [
        ("ENSMUSG00000100257", 114, "ensembl_gene", "the curated mouse pair (110 -> 114)"),
    ],
}


def _pairs_table(manifest: dict) -> str:
    rows = [
        "| from | to | disappeared | high | medium | low | unlinked |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = dict.fromkeys(("disappeared", "high", "medium", "low", "unlinked"), 0)
    for pair in manifest["lineage"]["release_pairs"]:
        rows.append(
            f"| {pair['from']} | {pair['to']} | {pair['disappeared']:,} | {pair['high']:,} | {pair['medium']:,} | "
            f"{pair['low']:,} | {pair['unlinked']:,} |"
        )
        for key in total:
            total[key] += pair[key]
    rows.append(
        f"| all | | {total['disappeared']:,} | {total['high']:,} | {total['medium']:,} | {total['low']:,} | "
        f"{total['unlinked']:,} |"
    )
    return "\n".join(rows)


def _validate(snap, curated: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    from idtrack_sc.resolve._index import travel

    ev = snap.events
    inferred = ev[ev["source"] == "inferred_lineage"].set_index("old_id")
    # the resolver's time travel for every curated old ID, per release and min_evidence
    moves = {}
    for release, part in curated.groupby("to_release"):
        for level in ("high", "medium", "low", "none"):
            hops = travel(snap, int(release), pd.Index(part["old_id"].unique()), level)
            hops = hops.dropna(subset=["target"]).groupby("origin")["target"].agg(list)
            moves[int(release), level] = hops
    rows = []
    for pair in curated.itertuples(index=False):
        link = inferred.loc[[pair.old_id]] if pair.old_id in inferred.index else None
        tier = "" if link is None else str(link["evidence"].iloc[0])
        new = "" if link is None else str(link["new_id"].iloc[0])
        answers = {}
        for level in ("high", "medium", "low", "none"):
            targets = moves[int(pair.to_release), level].get(pair.old_id, [])
            answers[level] = targets[0] if len(targets) == 1 else ("|".join(targets) if targets else "")
        rows.append(
            {
                "old_id": pair.old_id,
                "curated_new_id": pair.new_id,
                "releases": f"{pair.from_release} -> {pair.to_release}",
                "inferred_new_id": new,
                "tier": tier or "not linked",
                "correct": (new == pair.new_id) if new else None,
                **{f"answer_{k}": v for k, v in answers.items()},
            }
        )
    table = pd.DataFrame(rows)
    lines = ["| min_evidence | curated pairs | right answer | wrong answer | no answer | precision | recall |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    n = len(table)
    for level in ("high", "medium", "low", "none"):
        ans = table[f"answer_{level}"]
        right = int((ans == table["curated_new_id"]).sum())
        answered = int((ans != "").sum())
        wrong = answered - right
        precision = f"{right / answered:.2f}" if answered else "–"
        lines.append(f"| `{level}` | {n} | {right} | {wrong} | {n - answered} | {precision} | {right / n:.2f} |")
    return "\n".join(lines), table


def _markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _per_tier(tables: list[pd.DataFrame]) -> str:
    both = pd.concat(tables, ignore_index=True)
    lines = ["| tier of the link | links to a curated old ID | right | wrong |", "| --- | ---: | ---: | ---: |"]
    for tier in ("high", "medium", "low"):
        sel = both[both["tier"] == tier]
        lines.append(f"| {tier} | {len(sel)} | {int(sel['correct'].sum())} | {int((sel['correct'] == False).sum())} |")  # noqa: E712
    lines.append(f"| not linked | {int((both['tier'] == 'not linked').sum())} | | |")
    return "\n".join(lines)


def _examples(snap, organism: str) -> str:
    import idtrack_sc as its

    out = []
    for gene, release, to, title in EXAMPLES[organism]:
        if gene not in set(snap.genes["gene_id"]):
            continue
        text = str(its.explain(gene, snapshot=snap, release=release, to=to))
        out.append(f"**{gene}** ({title}), to `{to}` at release {release}:\n\n```text\n{text}\n```\n")
    cand = snap.events[snap.events["source"] == "inferred_lineage"]
    sample = cand.groupby("evidence", sort=False).head(2).sort_values(["evidence", "release", "old_id"])
    rows = [
        "| old ID | last seen | new ID | first seen | tier | score | evidence |",
        "| --- | ---: | --- | ---: | --- | ---: | --- |",
    ]
    rows += [
        f"| {r.old_id} | {r.old_release} | {r.new_id} | {r.release} | {r.evidence} | {r.score:.3f} | {r.detail} |"
        for r in sample.itertuples(index=False)
    ]
    return "\n".join(out) + "\nA few links of each tier, as stored in `events`:\n\n" + "\n".join(rows) + "\n"


#: Links reported as going to the wrong successor at the default tier (issue #19): old ID, successor.
REPORTED_WRONG = (("ENSG00000185945", "ENSG00000269437"), ("ENSG00000185087", "ENSG00000283597"))


def _reported(snap) -> str:
    import idtrack_sc as its

    ev = snap.events[snap.events["source"] == "inferred_lineage"].set_index("old_id")
    lines = [
        "Links reported to go to the wrong successor at the default tier (on public replacement lists), "
        "as they stand now:\n",
        "| old ID | reported successor | tier now | default answer at 114 | evidence |",
        "| --- | --- | --- | --- | --- |",
    ]
    for old, new in REPORTED_WRONG:
        link = ev.loc[old] if old in ev.index else None
        tier = "" if link is None or link["new_id"] != new else str(link["evidence"])
        res = its.convert([old], snapshot=snap, release=114)
        answer = f"{res['outcome'].iloc[0]} {res['reason'].iloc[0]} {res['target'].iloc[0]}".strip()
        detail = "" if link is None else str(link["detail"])
        lines.append(f"| {old} | {new} | {tier or 'not linked'} | {answer} | {detail} |")
    return "\n".join(lines) + "\n"


def _counts(manifest: dict) -> str:
    counts = manifest["lineage"]["counts"]
    keep = [
        ("disappeared", "IDs that disappeared (absent from the next covered release, inside its table's scope)"),
        (
            "absent_outside_table_scope",
            "IDs absent from a table that does not cover their region (not counted as gone)",
        ),
        ("arrived_from_patches", "genes first placed only on patches or alternate loci, later on the primary assembly"),
        ("candidate_pairs", "candidate pairs with evidence"),
        (
            "capped_off_primary_uncorroborated",
            "of which capped at low: successor off the primary assembly, no identifier continuity",
        ),
        (
            "capped_transcripts_uncorroborated",
            "of which capped at low: shared transcripts only, no identifier continuity",
        ),
        ("handover_pairs", "handovers (symbol and HGNC/MGI record or Entrez ID taken over by a newborn ID)"),
        ("raised_by_handover", "of which raised to medium by the handover"),
        ("contradicted", "candidates dropped because other evidence points elsewhere"),
        ("contested", "links capped at low: a contradicted competitor had an identical locus or transcript set"),
        ("competitors_dropped_by_handover:new", "merges seen from one side, resolved by a handover"),
        ("competitors_dropped_by_handover:old", "splits seen from one side, resolved by a handover"),
        ("competitors_dropped_by_identifiers:new", "merges seen from one side, resolved by kept identifiers"),
        ("competitors_dropped_by_identifiers:old", "splits seen from one side, resolved by kept identifiers"),
        ("not_one_to_one", "candidates dropped as not one-to-one"),
        ("linked", "links kept"),
    ]
    lines = ["| | count |", "| --- | ---: |"]
    lines += [f"| {label} | {counts[key]:,} |" for key, label in keep if key in counts]
    for key in sorted(counts):
        if key.startswith(("loci_lifted:", "loci_not_lifted:", "loci_without_chain:")):
            lines.append(f"| {key.replace(':', ' from ').replace('_', ' ')} | {counts[key]:,} |")
    return "\n".join(lines)


INTRO = """# Inferred lineage: successors of replaced gene IDs

Ensembl gives a gene a new stable ID when its model changes enough (a new locus definition, a
merge, a move between annotation pipelines, a new assembly) and records the link in its
`stable_id_event` table, derived mainly from exon and transcript overlap between the old and
new models. Snapshots built from Ensembl's core database dumps carry that history. Snapshots
built from gene tables alone (such as the shipped human and mouse snapshots, built from gene
tables inside PyPI packages) do not; without it, a replaced ID looks retired:
`C9orf142`'s `ENSG00000148362` would end in 114 with "retired, no successor", although `PAXX`'s
`ENSG00000310560` sits at exactly the same locus.

The builders therefore **infer** links from the same kind of evidence where the sources have
it: gene loci and transcript IDs per release. Inferred links are a history of their own: rows
of `events` with `source = "inferred_lineage"`, an evidence tier, a score and a `detail` text
({doc}`snapshot-format`), never mixed with Ensembl's; answers through them have reason
`inferred_successor` (or `inferred_predecessor` backwards), `explain()` shows their evidence,
and `min_evidence` chooses the weakest tier followed.

## How links are made

Candidates: an ID last present in release *a* (and absent from the next covered release,
although that release's table covers its sequence region) and an ID first present after *a*.
The two never coexist in a covered release, on the primary assembly: a release that places a
gene only on patches or alternate loci does not count as its presence. GRCh37 carried the fix
patches GRCh38 took in, with their own gene IDs beside the primary ones (TXNIP's
ENSG00000265972 on `HG1287_PATCH` in release 75, beside ENSG00000117289 on chromosome 1); such a
gene arrives, for lineage, when it reaches the primary assembly, and the link says so in its
evidence. Patches and alternate loci repeat neighbouring copies of duplicated families, so such
a link is `low` at most unless the gene's HGNC ID, Entrez ID or non-clone symbol carries on. Loci are compared on the snapshot's assembly;
loci of an older assembly (GRCh37, GRCm38) are lifted first with UCSC's liftOver chains
(through `pyliftover`: both ends must map to one chromosome, in one orientation, with the
length changed by at most half).

| tier | evidence |
| --- | --- |
| `high` | identical locus (chromosome, strand, start and end; after liftOver for older assemblies), or an identical set of transcript IDs |
| `medium` | reciprocal overlap ≥ 0.9 on the same chromosome and strand; or a shared transcript ID with the HGNC ID, Entrez ID or non-clone symbol carried on; or a **handover** |
| `low` | reciprocal overlap ≥ 0.5 on the same chromosome and strand; shared transcripts without identifier continuity; any link whose evidence is **contested** |

Two named rules (the manifest's build report lists them under `lineage.rules`, and a link's
`detail` names the one it rests on):

- **handover**: the old ID disappears in the very release a newborn ID carries its non-clone
  symbol together with the nomenclature record of that symbol (HGNC's for human, MGI's for
  mouse: the record names the new ID) or its Entrez ID, at an overlapping locus (at least half
  of the shorter locus inside the other). It is an Ensembl annotation fault or a model rebuilt
  under a new ID, and locus overlap alone misses it or finds it ambiguous: SOD2's
  `ENSG00000112096` is gone in 110, where `ENSG00000291237` is born as SOD2 with HGNC:11180
  (an annotation fault of Ensembl 108 that cellxgene-schema 5.0.0 remaps by hand); NPBWR1
  (`ENSG00000183729` → `ENSG00000288611`, loci overlap 0.43) and F8A1 (`ENSG00000277203` →
  `ENSG00000288722`) at 100 → 104. A handover is `medium` evidence of its own, must be unique
  on both sides, and beats competitors without one (SOD2's second model `ENSG00000285441`
  overlaps the new ID too, but was gone a release before it was born);
- **contested**: the old gene's transcripts or symbol moved to one new gene while another new
  gene has its identical locus or transcript set (high evidence of its own, dropped as
  contradicted). The evidence points two ways, so the link that survives is `low` at most:
  NXF2B's GRCh37 ID `ENSG00000185945` shares one transcript with `ENSG00000269437` but its
  lifted locus is identical to `ENSG00000284800`'s; FAM169B's `ENSG00000185087` shares two
  transcripts with `ENSG00000283597` (HGNC's FAM169BP) but has the locus of `ENSG00000293555`.

Then:

- the same HGNC ID, Entrez ID or symbol is otherwise **corroboration only**, recorded in
  `detail`: clone-based names (`AC090338.1`, `RP11-…`) are reused for unrelated genes. Shared
  transcripts alone (loci overlapping less than 0.9) are `medium` only with such continuity: a
  transcript ID also moves into a neighbour's merged model, a readthrough or a pseudogene;
- a candidate is **dropped when other evidence contradicts it**: the old gene's transcripts,
  or its (non-clone) symbol, moved to another new gene;
- only **one-to-one** links are kept. A merge or split seen from one side (two old IDs
  overlapping one new ID) stays unlinked, unless exactly one of the competitors is a handover,
  or else keeps the gene's HGNC ID, Entrez ID or non-clone symbol;
- chains (a → b → c) are followed by the resolver, release by release.

`min_evidence` in {func}`~idtrack_sc.convert`, {func}`~idtrack_sc.pp.harmonize_var_names`,
{func}`~idtrack_sc.concat_harmonized`, {func}`~idtrack_sc.explain` and the command line
(`--min-evidence`) chooses the weakest tier followed: `"high"`, `"medium"` (the default: no
wrong answer on the curated cases below, and medium links are one-to-one, uncontradicted and
uncontested),
`"low"`, or `"none"` (Ensembl's own history only). The setting is recorded in the provenance.

## What inference cannot give

Splits and merges (they stay unlinked), Ensembl's own mapping scores, the exact release of a
change between two covered releases (`release` of an inferred link is the first covered
release with the new ID), version-level and transcript or protein events, and IDs born and
retired between two covered releases. An unlinked ID is still `retired`: no successor is
*known*, which is not the same as "deleted". A target release between the two releases of an
inferred link answers `presence_undetermined` for both IDs.
"""


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    import idtrack_sc as its

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "lineage.md")
    args = parser.parse_args(argv)
    curated = pd.read_csv(CURATED, sep="\t", comment="#", dtype={"from_release": int, "to_release": int})
    parts = [INTRO]
    tables = []
    validation = []
    snaps = {}
    for organism, short in ORGANISMS.items():
        snap = snaps[organism] = its.load_snapshot(args.work / f"{organism}-114.idtrack.zip")
        m = snap.manifest
        parts.append(f"## {short.capitalize()}: IDs that disappeared, and links per tier\n")
        parts.append(
            f"Snapshot `{snap.path.name}` (sha256 `{snap.sha256[:16]}…`), releases "
            f"{', '.join(map(str, snap.releases))}; assemblies "
            + ", ".join(f"{r}: {a}" for r, a in sorted(m["release_assemblies"].items(), key=lambda kv: int(kv[0])))
            + ". Tables without loci: "
            + (", ".join(f"`{s}`" for s in m["lineage"].get("sources_without_loci", [])) or "none")
            + ".\n"
        )
        parts.append(_pairs_table(m) + "\n")
        parts.append("Build report:\n\n" + _counts(m) + "\n")
        cur = curated[curated["organism"] == organism]
        if len(cur):
            text, table = _validate(snap, cur)
            tables.append(table)
            validation.append((short, text, table))
        parts.append(f"### Worked examples ({short})\n\n" + _examples(snap, organism))
    parts.append(
        "## Validation on curated cases\n\n"
        "The truth set: the hand-made maps of replaced GENCODE gene IDs that cellxgene-schema ships in "
        "`migrate.py` (versions 5.0.0: GENCODE v38 → v44, Ensembl 104 → 110; and 7.0.1: v44 → v48 and "
        "vM33 → vM37, Ensembl 110 → 114), copied into `tests/data/lineage/curated_gencode_maps.tsv` "
        "(the other wheels' `migrate.py`, 3.x and 4.0.x, carry no gene map; HGNC's complete set names only "
        "a gene's current Ensembl ID, so it has no list of previous ones to test against). "
        "Each curated old ID is converted to the release of its new ID; a *wrong answer* is any other "
        "target, a *no answer* a `1:0`.\n"
    )
    for short, text, table in validation:
        parts.append(f"### {short.capitalize()}\n\n{text}\n")
        view = table[["old_id", "curated_new_id", "releases", "tier", "inferred_new_id"]]
        parts.append(_markdown(view) + "\n")
    parts.append("### By tier\n\n" + _per_tier(tables) + "\n")
    ncbi = pd.read_csv(NCBI_PAIRS, sep="\t", comment="#", dtype={"from_release": int, "to_release": int})
    text, table = _validate(snaps["homo_sapiens"], ncbi)
    parts.append(
        "### Human, a second truth set: NCBI's Entrez → Ensembl links\n\n"
        "`tests/data/lineage/ncbi_gene2ensembl_pairs.tsv`: old IDs that disappear before 110 with an Entrez ID "
        "in their own rows, and the one other Ensembl ID NCBI Gene's gene2ensembl gives that Entrez ID in "
        "2022-09 (Bioconductor's org.Hs.eg.db 3.16, Debian). Each old ID is converted to release 114.\n\n"
        + text
        + "\n\n"
        + _per_tier([table])
        + "\n"
    )
    parts.append(
        "The curated set is small (the curators mapped only the IDs their datasets used); the "
        "per-release tables above show the scale of what inference adds. One curated pair stays "
        "unlinked: `ENSG00000288546` → `ENSG00000289084` (the new ID exists only in release 110, whose "
        "table has no loci).\n\n" + _reported(snaps["homo_sapiens"]) + "\n"
        "Regenerate this page with `python scripts/lineage_report.py` after "
        "`python scripts/build_real_snapshots.py`.\n"
    )
    args.out.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
