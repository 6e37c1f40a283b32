"""Combine parsed sources into the snapshot's tables and manifest.

Sources report *observations* ("gene X had version 5 in release 104", "symbol TP53 named
gene X in release 110"); this module turns them into release *spans* over the releases the
snapshot covers, checks the sources agree, and writes one file.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import __version__
from ..snapshot import SOURCE_PRIORITY, Snapshot, resolve_organism, write_snapshot
from ._common import isin
from ._lineage import infer_lineage
from ._source import OBSERVATION_COLUMNS

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from ._source import SourceData

logger = logging.getLogger(__name__)


class SourceConflictError(ValueError):
    """Two sources disagree on a fact that cannot have two values."""


def _observations(sources: Sequence[SourceData], kind: str) -> pd.DataFrame:
    frames = []
    for src in sources:
        frame = getattr(src, kind)
        if len(frame) == 0:
            continue
        frame = frame.reindex(columns=OBSERVATION_COLUMNS[kind]).copy()
        # Tables record the kind of source, so spans run across one kind's per-release files;
        # the manifest lists the files themselves.
        frame["source"] = src.kind
        frame["_file"] = src.name
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*OBSERVATION_COLUMNS[kind], "source", "_file"])
    return pd.concat(frames, ignore_index=True)


def _spans(obs: pd.DataFrame, keys: list[str], covered: np.ndarray) -> pd.DataFrame:
    """Collapse per-release observations into runs of consecutive covered releases.

    Rows with equal ``keys`` whose releases are neighbours in ``covered`` form one span.
    """
    if len(obs) == 0:
        return pd.DataFrame(columns=[*keys, "first_release", "last_release"])
    obs = obs.drop_duplicates([*keys, "release"])
    pos = np.searchsorted(covered, obs["release"].to_numpy(dtype=np.int64))
    obs = obs.assign(_pos=pos)
    # pandas sorts object columns containing None/NaN consistently via na_position
    obs = obs.sort_values([*keys, "_pos"], na_position="last", kind="stable").reset_index(drop=True)
    same_key = np.ones(len(obs), dtype=bool)
    same_key[0] = False
    for key in keys:
        col = obs[key].astype("object").where(obs[key].notna(), "\x00<NA>")
        values = col.to_numpy()
        same_key[1:] &= values[1:] == values[:-1]
    pos = obs["_pos"].to_numpy()
    contiguous = np.zeros(len(obs), dtype=bool)
    contiguous[1:] = same_key[1:] & (pos[1:] == pos[:-1] + 1)
    run = np.cumsum(~contiguous)
    grouped = obs.groupby(run, sort=False)
    out = grouped[keys].first()
    out["first_release"] = covered[grouped["_pos"].min().to_numpy()]
    out["last_release"] = covered[grouped["_pos"].max().to_numpy()]
    return out.reset_index(drop=True)


def _check_versions(genes: pd.DataFrame) -> None:
    versioned = genes.dropna(subset=["version"]).drop_duplicates(["gene_id", "release", "version"])
    clash = versioned[versioned.duplicated(["gene_id", "release"], keep=False)]
    if len(clash):
        first = clash.sort_values(["gene_id", "release", "_file"]).head(2)
        (gene, release), rows = next(iter(first.groupby(["gene_id", "release"])))
        detail = "; ".join(
            f"{file} says version {int(version)}"
            for file, version in rows[["_file", "version"]].itertuples(index=False)
        )
        msg = (
            f"Sources disagree on the version of {gene} in release {int(release)}: {detail}. "
            f"({clash[['gene_id', 'release']].drop_duplicates().shape[0]} gene/release pairs disagree.) "
            "Check that each file is given for the release it belongs to."
        )
        raise SourceConflictError(msg)


def assemble(
    sources: Sequence[SourceData],
    *,
    organism: str,
    assembly: str | None = None,
    liftover: Mapping[str, str | os.PathLike] | None = None,
    infer: bool = True,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Combine parsed sources into snapshot tables and a manifest.

    Parameters
    ----------
    sources
        Parsed sources; names must be unique.
    organism
        Organism of the snapshot (any accepted name); sources that name another are refused.
    assembly
        Assembly to record; by default the one the newest dated source reports.
    liftover
        liftOver chain file per older assembly, to compare its loci on ``assembly``
        (e.g. ``{"GRCh37": "hg19ToHg38.over.chain.gz"}``).
    infer
        Infer lineage links from loci and transcripts (``idtrack_sc.builders._lineage``).

    Returns
    -------
    ``(tables, manifest)`` ready for :func:`~idtrack_sc.snapshot.write_snapshot`.
    """
    if not sources:
        msg = "No sources given: a snapshot needs at least one gene table, GTF or Ensembl dump."
        raise ValueError(msg)
    organism = resolve_organism(organism)
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"Source names must be unique; repeated: {dupes}."
        raise ValueError(msg)
    for src in sources:
        if src.organism is not None and resolve_organism(src.organism) != organism:
            msg = f"Source {src.name} ({src.origin}) is for {src.organism}, but the snapshot is for {organism}."
            raise SourceConflictError(msg)

    genes = _observations(sources, "genes")
    if len(genes) == 0:
        msg = "The sources hold no gene of any release: give a gene table, GTF or Ensembl dump."
        raise ValueError(msg)
    dated_names = _observations(sources, "names")
    features = _observations(sources, "features")
    events = _observations(sources, "events")

    covered_set = {int(r) for r in genes["release"].dropna()}
    for src in sources:
        covered_set.update(int(r) for r in src.releases)
    covered = np.array(sorted(covered_set), dtype=np.int64)

    genes["release"] = genes["release"].astype("int64")
    genes["version"] = pd.to_numeric(genes["version"], errors="raise").astype("Int64")
    _check_versions(genes)
    # One biotype per gene and release: the highest-priority source that has one.
    genes["_prio"] = genes["source"].map(lambda kind: SOURCE_PRIORITY.get(kind, 9))
    genes = genes.sort_values(["gene_id", "release", "_prio"], kind="stable")
    best = genes.groupby(["gene_id", "release"], sort=False).agg(
        version=("version", "first"), biotype=("biotype", "first"), source=("source", "first")
    )
    best = best.reset_index().sort_values(["gene_id", "release"], kind="stable")
    # A source without biotypes says nothing about them: take the biotype of the nearest
    # release that has one, so a missing value does not cut a gene's span in two.
    by_gene = best.groupby("gene_id", sort=False)["biotype"]
    best["biotype"] = by_gene.ffill()
    best["biotype"] = best["biotype"].fillna(best.groupby("gene_id", sort=False)["biotype"].bfill())
    gene_spans = _spans(best, ["gene_id", "version", "biotype", "source"], covered)

    dated_names, entrez_report = _entrez_links(dated_names)
    names_dated = dated_names[dated_names["release"].notna()].copy()
    names_undated = dated_names[dated_names["release"].isna()].copy()
    if len(names_dated):
        names_dated["release"] = names_dated["release"].astype("int64")
    name_keys = ["gene_id", "namespace", "value", "kind", "source"]
    name_spans = _spans(names_dated, name_keys, covered)
    names_undated = names_undated.drop(columns=["release", "_file"]).drop_duplicates(name_keys)
    names_undated = names_undated.assign(first_release=pd.NA, last_release=pd.NA)
    names_table = pd.concat([name_spans, names_undated[name_spans.columns]], ignore_index=True)
    names_table = names_table.dropna(subset=["gene_id", "value"])
    names_table = names_table[names_table["value"].astype(str).str.len() > 0]

    if len(features):
        features = features.dropna(subset=["release"])
        features["release"] = features["release"].astype("int64")
    feature_spans = _spans(features, ["feature_id", "feature_type", "gene_id", "source"], covered)

    events = events.drop(columns="_file").drop_duplicates(
        ["old_id", "old_version", "new_id", "new_version", "release", "source"]
    )

    dated = [s for s in sources if s.release is not None]
    if assembly is None:
        newest = sorted(dated, key=lambda s: (s.release, -SOURCE_PRIORITY.get(s.kind, 9)))
        assembly = next((s.assembly for s in reversed(newest) if s.assembly), None)
    release_assembly, release_scope = _release_facts(sources, covered, assembly)

    loci = _observations(sources, "loci")
    loci_spans = pd.DataFrame(columns=["gene_id", "assembly", "chromosome", "start", "end", "strand", "source"])
    if len(loci):
        loci["release"] = loci["release"].astype("int64")
        loci["assembly"] = loci["assembly"].fillna(loci["release"].map(release_assembly))
        loci["_prio"] = loci["source"].map(lambda kind: SOURCE_PRIORITY.get(kind, 9))
        loci = loci.sort_values(["gene_id", "release", "_prio"], kind="stable")
        loci = loci.drop_duplicates(["gene_id", "release", "assembly"]).drop(columns="_prio")
        loci_spans = _spans(loci, ["gene_id", "assembly", "chromosome", "start", "end", "strand", "source"], covered)

    lineage_report: dict[str, Any]
    ensembl_history = bool(len(events)) and bool((events["source"] == "ensembl_dump").any())
    if infer and not ensembl_history:
        inferred, report = infer_lineage(
            best[["gene_id", "release"]],
            loci,
            features,
            dated_names,
            covered=covered,
            release_assembly=release_assembly,
            release_scope=release_scope,
            reference_assembly=assembly,
            liftover=liftover,
        )
        lineage_report = report.as_dict()
        if len(inferred):
            events = pd.concat([events, inferred], ignore_index=True) if len(events) else inferred
    else:
        status = "not inferred: disabled" if not infer else "not inferred: Ensembl's own history is among the sources"
        lineage_report = {"status": status}
    lineage_report["sources_without_loci"] = sorted(s.name for s in sources if len(s.genes) and not len(s.loci))

    tables = {
        "genes": gene_spans,
        "events": events,
        "names": names_table,
        "features": feature_spans,
        "loci": loci_spans,
    }
    manifest = {
        "organism": organism,
        "assembly": assembly,
        "releases": [int(r) for r in covered],
        "namespaces": sorted(names_table["namespace"].dropna().astype(str).unique().tolist()),
        "release_assemblies": {str(r): release_assembly.get(int(r)) for r in covered},
        "release_scopes": {str(r): release_scope[int(r)] for r in covered},
        "lineage": lineage_report,
        "entrez_links": entrez_report,
        "sources": [s.manifest_entry() for s in sorted(sources, key=lambda s: s.name)],
        "builder": {"name": "idtrack-sc", "version": __version__},
        "counts": {
            "genes": int(gene_spans["gene_id"].nunique()),
            "gene_spans": len(gene_spans),
            "events": len(events),
            "names": len(names_table),
            "features": len(feature_spans),
            "loci": len(loci_spans),
            "inferred_events": int((events["source"] == "inferred_lineage").sum()),
        },
    }
    geneless = {symbol: hgnc for s in sources for symbol, hgnc in s.geneless_symbols.items()}
    if geneless:
        manifest["geneless_symbols"] = dict(sorted(geneless.items()))
    return tables, manifest


def _one_to_one(rows: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Whether each ``gene_id``/``value`` row is the only link of its gene and of its value within ``by``."""
    pairs = rows[[*by, "gene_id", "value"]].drop_duplicates()
    per_gene = pairs.groupby([*by, "gene_id"], dropna=False)["value"].transform("size")
    per_value = pairs.groupby([*by, "value"], dropna=False)["gene_id"].transform("size")
    single = pairs.loc[(per_gene == 1) & (per_value == 1), [*by, "gene_id", "value"]].assign(_single=True)
    flag = rows[[*by, "gene_id", "value"]].merge(single, on=[*by, "gene_id", "value"], how="left")["_single"]
    return flag.notna().to_numpy(dtype=bool)


def _best_supported(tied: pd.DataFrame, xrefs: pd.DataFrame) -> pd.Series:
    """``gene_id<TAB>value`` of each tied gene's GeneID that more sources give it than any other."""
    votes = pd.concat([tied[["gene_id", "value", "source"]], xrefs[isin(xrefs["gene_id"], tied["gene_id"])]])
    support = votes.drop_duplicates().groupby(["gene_id", "value"]).size().rename("n").reset_index()
    top = support.groupby("gene_id")["n"].transform("max")
    best = support[support["n"] == top]
    best = best[~best["gene_id"].duplicated(keep=False)]
    return best["gene_id"] + "\t" + best["value"]


def _entrez_links(names: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep as a gene's own (``primary``) Entrez ID only a link no source contradicts.

    Curated links are the undated ones (HGNC's ``entrez_id``, NCBI's ``gene_info`` and
    ``gene2ensembl``); the dated ones come from Ensembl's cross-references (gene tables, core
    dumps), which link one GeneID to several genes and back (paralogs, readthroughs). Rules:

    - when curated links exist, a dated link of a GeneID they give to a gene is dropped: it
      can only repeat or contradict them (demoted, it would still contest their answer); a
      dated link of a gene they name, to a GeneID they do not know, is kept as a ``synonym``
      (the GeneID still finds the gene, which keeps its curated ID as its own);
    - a dated link that is not one-to-one within its release becomes a ``synonym``: the
      GeneID still finds its genes (several: ``1:n``), but none of them gets it as its own;
    - a gene that the curated sources give several GeneIDs (sources disagreeing, or one
      source linking it twice) keeps them as ``synonym``: a tie, not precedence. Only when
      one of them has more sources behind it than any other (HGNC, NCBI and Ensembl's
      cross-references each counting once) is that one the gene's own, by the agreement of
      sources. A GeneID that the curated sources give to several genes stays primary for each
      (it finds them all: ``1:n``).
    """
    entrez = (names["namespace"] == "entrez").to_numpy() & (names["kind"] == "primary").to_numpy()
    report: dict[str, Any] = {}
    if not entrez.any():
        return names, report
    undated = names["release"].isna().to_numpy()
    curated = names[entrez & undated]
    dated_idx = np.flatnonzero(entrez & ~undated)
    # Ensembl's cross-references count as one source, however many tables carry them
    dated_pairs = names.iloc[dated_idx][["gene_id", "value"]].drop_duplicates().assign(source="ensembl_xref")
    if len(curated) and len(dated_idx):
        dated = names.iloc[dated_idx]
        value_curated = isin(dated["value"], curated["value"])
        gene_curated = isin(dated["gene_id"], curated["gene_id"])
        report["dated_links_dropped_for_curated"] = int(value_curated.sum())
        report["dated_links_kept_as_synonym"] = int((gene_curated & ~value_curated).sum())
        names = names.drop(index=dated.index[value_curated])
        aside = names.index.isin(dated.index[gene_curated & ~value_curated])
        names.loc[aside, "kind"] = "synonym"
        entrez = (names["namespace"] == "entrez").to_numpy() & (names["kind"] == "primary").to_numpy()
        undated = names["release"].isna().to_numpy()
    kind = names["kind"].to_numpy(dtype=object).copy()
    dated_idx = np.flatnonzero(entrez & ~undated)
    if len(dated_idx):
        shared = ~_one_to_one(names.iloc[dated_idx], ["release"])
        kind[dated_idx[shared]] = "synonym"
        report["dated_links_not_one_to_one"] = int(shared.sum())
    curated_idx = np.flatnonzero(entrez & undated)
    if len(curated_idx):
        rows = names.iloc[curated_idx]
        per_gene = rows.drop_duplicates(["gene_id", "value"]).groupby("gene_id")["value"].size()
        tied = isin(rows["gene_id"], per_gene.index[per_gene > 1].to_series())
        settled = isin(rows["gene_id"] + "\t" + rows["value"], _best_supported(rows[tied], dated_pairs))
        kind[curated_idx[tied & ~settled]] = "synonym"
        report["curated_genes_with_several_geneids"] = int((per_gene > 1).sum())
        report["curated_ties_settled_by_agreement"] = int(rows.loc[settled, "gene_id"].nunique())
        per_value = rows.drop_duplicates(["gene_id", "value"]).groupby("value")["gene_id"].size()
        report["curated_geneids_with_several_genes"] = int((per_value > 1).sum())
    return names.assign(kind=kind), dict(sorted(report.items()))


def _release_facts(
    sources: Sequence[SourceData], covered: np.ndarray, assembly: str | None
) -> tuple[dict[int, str | None], dict[int, str]]:
    """Assembly and scope of each covered release, from the sources that list its genes.

    A release is ``full`` when any of its gene sources covers every sequence region, else
    ``primary_assembly``; its assembly is its sources' (the snapshot's when none says).
    """
    release_assembly: dict[int, str | None] = {}
    release_scope: dict[int, str] = {}
    for covered_release in covered:
        release = int(covered_release)
        srcs = [s for s in sources if s.release == release and len(s.genes)]
        named = sorted({s.assembly for s in srcs if s.assembly})
        if len(named) > 1:
            msg = f"Sources of release {release} name different assemblies: {named}."
            raise SourceConflictError(msg)
        release_assembly[release] = named[0] if named else assembly
        scopes = {s.scope for s in srcs} or {"full"}
        release_scope[release] = "full" if "full" in scopes else "primary_assembly"
    return release_assembly, release_scope


def build_snapshot(
    sources: Sequence[SourceData],
    *,
    organism: str,
    out: str | os.PathLike | None = None,
    assembly: str | None = None,
    liftover: Mapping[str, str | os.PathLike] | None = None,
    infer_lineage: bool = True,
) -> Snapshot:
    """Build a snapshot from parsed sources; write it to ``out`` if given.

    A gene's own Entrez ID comes from the curated links (HGNC, NCBI ``gene_info`` and
    ``gene2ensembl``) where there are any; Ensembl's many-to-many cross-references only find
    genes, never name one's own Entrez ID when they are not one-to-one, and a gene the curated
    sources give several GeneIDs is a tie (see "Whose Entrez ID is it?" in the guide to
    building snapshots, and the manifest's ``entrez_links``).

    Parameters
    ----------
    sources
        Parsed sources, e.g. from :func:`read_gene_table`, :func:`read_gtf`,
        :func:`read_ensembl_dump`, :func:`read_hgnc`, :func:`read_ncbi_gene_info`.
    organism
        The organism (``"human"``, ``"homo_sapiens"``, …).
    out
        Output file. Written atomically: nothing is left behind on error.
    assembly
        Assembly to record, if the sources do not say.
    liftover
        liftOver chain file (UCSC format) per older assembly, so its loci can be compared on
        the snapshot's assembly, e.g. ``{"GRCh37": "hg19ToHg38.over.chain.gz"}`` (needs
        pyliftover: ``pip install 'idtrack-sc[lineage]'``). Loci of an assembly without a chain
        are left out of the inference and counted in the manifest.
    infer_lineage
        Link disappearing gene IDs to their successors from loci and transcripts (when the
        sources have them and Ensembl's own history is not among them). The links are events
        with ``source="inferred_lineage"`` and an evidence tier; the manifest's ``lineage``
        entry reports what was done.

    Returns
    -------
    The snapshot (read back from ``out`` if written).
    """
    tables, manifest = assemble(sources, organism=organism, assembly=assembly, liftover=liftover, infer=infer_lineage)
    if out is None:
        return Snapshot.from_tables(tables, manifest)
    path: Path = write_snapshot(tables, manifest, out)
    logger.info(
        "wrote snapshot %s (%d genes, %d names)", path, manifest["counts"]["genes"], manifest["counts"]["names"]
    )
    return Snapshot.from_file(path)
