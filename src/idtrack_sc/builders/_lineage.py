"""Infer the successor of a replaced gene ID from loci and transcripts (a build step).

Ensembl links a retired gene ID to its successor in ``stable_id_event``, from exon and
transcript overlap between the old and new gene models. Where that table is not among the
sources, much of the same evidence is: gene loci and transcript IDs per release. This module
links an ID last seen in release *a* to an ID first seen after *a* (so the two never coexist
in a covered release) when the evidence supports it. An ID that a release places only on
patches or alternate loci (off the primary assembly, as fix patches' genes before the next
assembly takes them in) is counted as seen from the first release that places it on the
primary assembly: such a gene replaces the primary one when the fix is incorporated, it did not
coexist with it in the assembly a dataset is annotated with. Those links are ``low`` at most
unless the gene's HGNC ID, Entrez ID or non-clone symbol carries on.

========  =====================================================================================
tier      evidence
========  =====================================================================================
high      identical locus (same chromosome, strand, start and end, on the reference assembly,
          after liftOver for older assemblies), or an identical set of transcript IDs
medium    reciprocal overlap >= 0.9 on the same chromosome and strand; or a shared transcript ID
          with the HGNC ID, Entrez ID or non-clone symbol carried on; or a *handover*
low       reciprocal overlap >= 0.5 on the same chromosome and strand; shared transcripts
          without identifier continuity; any link whose evidence is *contested*
========  =====================================================================================

Named rules (:data:`RULES`, also in the manifest's build report):

- *handover*: the old ID disappears in the very release a newborn ID carries its non-clone
  symbol, the nomenclature record of that symbol (HGNC's, MGI's) or its Entrez ID, at an
  overlapping locus (half of the shorter locus inside the other). SOD2's ENSG00000112096 (gone in
  110) and ENSG00000291237 (born in 110) are one; a handover is medium evidence of its own and
  beats competitors without one.
- *contested*: the old gene's transcripts or symbol moved to one new gene while another new gene
  has its identical locus or transcript set (high evidence of its own, dropped as contradicted):
  the evidence points two ways, and the surviving link is low at most.

Identifier continuity (same HGNC ID, Entrez ID or symbol) is otherwise corroboration only:
clone-based names are reused for unrelated genes. Only one-to-one links are kept (an old ID
with one candidate, which has no other candidate predecessor); a link some evidence contradicts
(the old gene's transcripts or symbol moved to another new gene) is dropped. Chains (a -> b -> c)
are left to the resolver, which follows events release by release.

The links become rows of ``events`` with ``source="inferred_lineage"``, their ``evidence`` tier,
a ``score`` (reciprocal overlap, or the transcript sets' Jaccard index) and a ``detail`` text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

logger = logging.getLogger(__name__)

#: ``source`` of inferred events.
INFERRED_SOURCE = "inferred_lineage"
TIERS = ("high", "medium", "low")
TIER_RANK = {"high": 0, "medium": 1, "low": 2}
MEDIUM_OVERLAP = 0.9
LOW_OVERLAP = 0.5
#: A handover's loci: at least this share of the shorter one inside the other.
HANDOVER_COVER = 0.5

#: Named rules of inference beyond the tiers' locus and transcript evidence (see the module doc).
RULES = {
    "handover": (
        "the old ID disappears in the release a newborn ID carries its non-clone symbol and the symbol's "
        "HGNC/MGI record or its Entrez ID, at an overlapping locus: medium evidence of its own"
    ),
    "contested": (
        "another new ID has the old gene's identical locus or transcript set while its transcripts or symbol "
        "moved here: low at most"
    ),
    "transcripts_uncorroborated": "shared transcripts without HGNC ID, Entrez ID or non-clone symbol carried on: low",
    "off_primary_uncorroborated": (
        "successor off the primary assembly when the old ID disappeared, no identifier continuity: low at most"
    ),
}

#: UCSC names of Ensembl assemblies (chain files are named ``hg19ToHg38.over.chain.gz``).
UCSC_NAMES = {"GRCh37": "hg19", "GRCh38": "hg38", "GRCm38": "mm10", "GRCm39": "mm39"}
_CHAIN_NAME = re.compile(r"^(?P<src>[a-zA-Z]+\d+)To(?P<dst>[a-zA-Z]+\d+)\.over\.chain(?:\.gz)?$")
#: Primary-assembly sequence regions: chromosomes and unplaced / unlocalized scaffolds.
PRIMARY_REGION = r"^(?:\d+|X|Y|MT|[A-Z]{2}\d{6}\.\d+)$"
#: Clone-based and other reusable names that say nothing about identity (``AC090338.1``, ``RP11-…``).
_REUSABLE_NAME = r"^(?:[A-Z]{1,2}\d{5,6}\.\d+|RP\d+-.*|CT[ABCD]-.*|CH\d+-.*|XX[a-z]*-.*|LINC\d+|Y_RNA|.*\..*)$"


class ChainMismatchError(ValueError):
    """A liftOver chain file does not fit the assembly of the loci it is given for."""


@dataclass
class LineageReport:
    """What the inference did, for the manifest's build report."""

    status: str
    reference_assembly: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    chains: dict[str, Any] = field(default_factory=dict)
    #: every candidate pair with its evidence and what became of it (``status``: linked,
    #: contradicted, not_one_to_one); kept in memory for validation and docs, not written
    candidates: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status,
            "reference_assembly": self.reference_assembly,
            "counts": dict(sorted(self.counts.items())),
            "release_pairs": self.pairs,
            "liftover": self.chains,
            "tiers": {
                "high": "identical locus (after liftOver for older assemblies) or identical transcript set",
                "medium": (
                    f"reciprocal overlap >= {MEDIUM_OVERLAP} (same chromosome and strand), a shared transcript "
                    "with identifier continuity, or a handover"
                ),
                "low": (
                    f"reciprocal overlap >= {LOW_OVERLAP} (same chromosome and strand), shared transcripts "
                    "without identifier continuity, or contested evidence"
                ),
            },
            "rules": dict(RULES),
        }


# --------------------------------------------------------------------------------------------
# liftOver
# --------------------------------------------------------------------------------------------
def check_chain_name(path: Path, source: str, target: str) -> None:
    """Refuse a chain file whose UCSC-style name says it is for other assemblies."""
    match = _CHAIN_NAME.match(path.name)
    if not match:
        return
    want = (UCSC_NAMES.get(source, "").lower(), UCSC_NAMES.get(target, "").lower())
    have = (match["src"].lower(), match["dst"].lower())
    if all(want) and have != want:
        msg = (
            f"liftOver chain {path.name} maps {match['src']} to {match['dst']}, but loci on {source} must be "
            f"lifted to {target} ({want[0]}To{want[1].capitalize()}.over.chain.gz)."
        )
        raise ChainMismatchError(msg)


def lift_loci(loci: pd.DataFrame, chain: str | os.PathLike, *, source: str, target: str) -> pd.DataFrame:
    """Lift 1-based loci from ``source`` to ``target`` with a UCSC chain file (through pyliftover).

    A locus lifts when both its ends map to the same chromosome with the same orientation and
    its length changes by at most half; others are left out. Returns the lifted loci (same
    columns, ``assembly=target``).

    Raises
    ------
    ChainMismatchError
        If the chain's name names other assemblies, or fewer than half of the loci lift (the
        chain does not belong to these loci's assembly).
    ImportError
        If pyliftover is not installed (``pip install 'idtrack-sc[lineage]'``).
    """
    try:
        from pyliftover import LiftOver
    except ImportError:  # pragma: no cover - depends on the environment
        msg = "Lifting loci between assemblies needs pyliftover: pip install 'idtrack-sc[lineage]' (or pyliftover)."
        raise ImportError(msg) from None
    path = Path(chain)
    if not path.is_file():
        msg = f"liftOver chain file not found: {path}"
        raise FileNotFoundError(msg)
    check_chain_name(path, source, target)
    lo = LiftOver(str(path))
    chrom = loci["chromosome"].astype(str).to_numpy()
    ucsc = np.where(chrom == "MT", "chrM", np.char.add("chr", chrom.astype(str)))
    starts = loci["start"].to_numpy(dtype=np.int64) - 1  # pyliftover works on 0-based positions
    ends = loci["end"].to_numpy(dtype=np.int64) - 1
    out_chrom = np.full(len(loci), None, dtype=object)
    out_start = np.zeros(len(loci), dtype=np.int64)
    out_end = np.zeros(len(loci), dtype=np.int64)
    flip = np.zeros(len(loci), dtype=bool)
    ok = np.zeros(len(loci), dtype=bool)
    for i in range(len(loci)):
        a = lo.convert_coordinate(ucsc[i], int(starts[i]))
        b = lo.convert_coordinate(ucsc[i], int(ends[i]))
        if not a or not b or len(a) != 1 or len(b) != 1:
            continue
        (ca, pa_, sa, _), (cb, pb, sb, _) = a[0], b[0]
        if ca != cb or sa != sb:
            continue
        lo_pos, hi_pos = (pa_, pb) if sa == "+" else (pb, pa_)
        old_len = ends[i] - starts[i]
        new_len = hi_pos - lo_pos
        if new_len < 0 or abs(new_len - old_len) > 0.5 * max(old_len, 1):
            continue
        out_chrom[i] = ca
        out_start[i], out_end[i] = lo_pos + 1, hi_pos + 1
        flip[i] = sa == "-"
        ok[i] = True
    if len(loci) and ok.mean() < 0.5:
        msg = (
            f"liftOver chain {path.name} lifted only {int(ok.sum())} of {len(loci)} loci from {source} to {target}: "
            "the chain does not match the assembly of these loci."
        )
        raise ChainMismatchError(msg)
    lifted = loci[ok].copy()
    names = pd.Series(out_chrom[ok], index=lifted.index, dtype=object).str.replace(r"^chr", "", regex=True)
    lifted["chromosome"] = names.where(names != "M", "MT")
    lifted["start"] = out_start[ok]
    lifted["end"] = out_end[ok]
    lifted["strand"] = np.where(flip[ok], -lifted["strand"].to_numpy(dtype=np.int64), lifted["strand"].to_numpy())
    lifted["assembly"] = target
    return lifted


# --------------------------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------------------------
def _presence(genes: pd.DataFrame, covered: np.ndarray) -> pd.DataFrame:
    """Per gene: first and last covered release, from per-release observations."""
    return genes.groupby("gene_id", sort=True)["release"].agg(first="min", last="max")


def _arrival(genes: pd.DataFrame, loci: pd.DataFrame, presence: pd.DataFrame) -> pd.Series:
    """Per gene: the first release it is on the primary assembly (see the module doc).

    A release counts against a gene only if it gives the gene's loci and all are off the primary
    assembly; releases without loci count as presence. A gene never on the primary assembly
    keeps its first release.
    """
    if len(loci) == 0:
        return presence["first"].copy()
    primary = loci["chromosome"].astype(str).str.match(PRIMARY_REGION).to_numpy()
    per_release = (
        pd.Series(primary, index=pd.MultiIndex.from_frame(loci[["gene_id", "release"]])).groupby(level=[0, 1]).max()
    )
    off_primary = per_release.index[~per_release.to_numpy()]
    seen = genes.set_index(["gene_id", "release"]).index
    on = genes[~seen.isin(off_primary)]
    arrival = on.groupby("gene_id")["release"].min().reindex(presence.index)
    return arrival.fillna(presence["first"]).astype(np.int64)


def _overlap_pairs(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Pairs of (old, new) loci that overlap on the same chromosome and strand, with their overlap.

    Sort-and-search per chromosome/strand: every new interval overlapping an old one starts
    within ``[old.start - longest new, old.end]``; those windows are expanded and filtered.
    """
    frames = []
    old = old.assign(_key=old["chromosome"].astype(str) + ":" + old["strand"].astype(str))
    new = new.assign(_key=new["chromosome"].astype(str) + ":" + new["strand"].astype(str))
    new_groups = dict(tuple(new.groupby("_key", sort=True)))
    for key, o in old.groupby("_key", sort=True):
        n = new_groups.get(key)
        if n is None:
            continue
        n = n.sort_values("start", kind="stable")
        ns = n["start"].to_numpy(dtype=np.int64)
        ne = n["end"].to_numpy(dtype=np.int64)
        longest = int((ne - ns).max()) + 1
        os_ = o["start"].to_numpy(dtype=np.int64)
        oe = o["end"].to_numpy(dtype=np.int64)
        lo = np.searchsorted(ns, os_ - longest, side="left")
        hi = np.searchsorted(ns, oe, side="right")
        counts = hi - lo
        if counts.sum() == 0:
            continue
        oi = np.repeat(np.arange(len(o)), counts)
        # lo[i], lo[i] + 1, …, hi[i] - 1 for every old interval, without a Python loop
        offsets = np.repeat(np.cumsum(counts) - counts, counts)
        ni = np.repeat(lo, counts) + np.arange(int(counts.sum())) - offsets
        inter = np.minimum(oe[oi], ne[ni]) - np.maximum(os_[oi], ns[ni]) + 1
        keep = inter > 0
        oi, ni, inter = oi[keep], ni[keep], inter[keep]
        len_o = oe[oi] - os_[oi] + 1
        len_n = ne[ni] - ns[ni] + 1
        frames.append(
            pd.DataFrame(
                {
                    "old_id": o["gene_id"].to_numpy()[oi],
                    "new_id": n["gene_id"].to_numpy()[ni],
                    "overlap": inter / np.maximum(len_o, len_n),
                    "cover": inter / np.minimum(len_o, len_n),
                    "identical": (os_[oi] == ns[ni]) & (oe[oi] == ne[ni]),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "old_id": pd.Series(dtype=object),
                "new_id": pd.Series(dtype=object),
                "overlap": pd.Series(dtype=float),
                "cover": pd.Series(dtype=float),
                "identical": pd.Series(dtype=bool),
            }
        )
    return pd.concat(frames, ignore_index=True)


def _nearest_locus(loci: pd.DataFrame, presence: pd.DataFrame, side: str) -> pd.DataFrame:
    """One locus per gene, the one nearest its end of life (``side="old"``) or birth (``"new"``).

    The latest locus at or before the gene's last release for old genes, the earliest at or
    after its first release for new ones; else the nearest one.
    """
    loci = loci.merge(presence.rename_axis("gene_id").reset_index(), on="gene_id", how="inner")
    if side == "old":
        loci = loci.assign(_d=np.where(loci["release"] <= loci["last"], loci["last"] - loci["release"], 10_000))
    else:
        loci = loci.assign(_d=np.where(loci["release"] >= loci["first"], loci["release"] - loci["first"], 10_000))
    loci = loci.sort_values(["gene_id", "_d", "release"], kind="stable")
    return loci.drop_duplicates("gene_id")[["gene_id", "chromosome", "start", "end", "strand", "release"]]


def infer_lineage(
    genes: pd.DataFrame,
    loci: pd.DataFrame,
    features: pd.DataFrame,
    names: pd.DataFrame,
    *,
    covered: np.ndarray,
    release_assembly: Mapping[int, str | None],
    release_scope: Mapping[int, str],
    reference_assembly: str | None,
    liftover: Mapping[str, str | os.PathLike] | None = None,
) -> tuple[pd.DataFrame, LineageReport]:
    """Link disappearing gene IDs to later-appearing ones (see the module doc).

    Parameters
    ----------
    genes
        Per-release observations ``gene_id, release`` (the genes each release has).
    loci
        Per-release observations ``gene_id, assembly, chromosome, start, end, strand, release``
        (1-based).
    features
        Per-release observations ``feature_id, feature_type, gene_id, release``.
    names
        Dated name observations ``gene_id, namespace, value, kind, release`` (corroboration).
    covered
        The covered releases, ascending.
    release_assembly
        Assembly of each covered release (``None`` where unknown).
    release_scope
        Scope of each covered release (``full`` or ``primary_assembly``).
    reference_assembly
        Assembly all loci are compared on (the snapshot's, normally the newest).
    liftover
        Chain file per older assembly, e.g. ``{"GRCh37": "hg19ToHg38.over.chain.gz"}``.

    Returns
    -------
    ``(events, report)``: inferred events (columns of the snapshot's ``events`` table) and what
    was done.
    """
    liftover = dict(liftover or {})
    report = LineageReport(status="inferred", reference_assembly=reference_assembly)
    counts = report.counts
    transcripts = features[features["feature_type"] == "transcript"][["feature_id", "gene_id", "release"]]
    if len(loci) == 0 and len(transcripts) == 0:
        report.status = "not inferred: the sources carry no loci and no transcripts"
        return _empty_events(), report

    genes = genes[["gene_id", "release"]].drop_duplicates()
    presence = _presence(genes, covered)
    arrival = _arrival(genes, loci, presence)
    counts["arrived_from_patches"] = int((arrival > presence["first"]).sum())
    last_covered = int(covered[-1])

    # -- loci on the reference assembly ------------------------------------------------------
    loci = loci.copy()
    loci["assembly"] = loci["assembly"].fillna(loci["release"].map(release_assembly))
    if reference_assembly is None:
        reference_assembly = loci["assembly"].dropna().iloc[-1] if loci["assembly"].notna().any() else None
        report.reference_assembly = reference_assembly
    ref = loci[loci["assembly"] == reference_assembly]
    usable = [ref]
    counts["loci_reference_assembly"] = len(ref)
    for assembly, part in loci[loci["assembly"] != reference_assembly].groupby("assembly", dropna=False, sort=True):
        chain = liftover.get(assembly) if isinstance(assembly, str) else None
        if chain is None:
            counts[f"loci_without_chain:{assembly}"] = len(part)
            report.chains[str(assembly)] = "no chain file given: these loci are not compared"
            logger.warning("%d loci on %s left out of lineage inference: no liftOver chain", len(part), assembly)
            continue
        # lift only what the comparison needs: genes that disappear
        need = presence.index[presence["last"] < last_covered]
        todo = part[part["gene_id"].isin(need)]
        lifted = lift_loci(todo, chain, source=str(assembly), target=str(reference_assembly))
        counts[f"loci_lifted:{assembly}"] = len(lifted)
        counts[f"loci_not_lifted:{assembly}"] = len(todo) - len(lifted)
        report.chains[str(assembly)] = {
            "chain": Path(chain).name,
            "lifted": len(lifted),
            "not_lifted": len(todo) - len(lifted),
        }
        usable.append(lifted)
    loci = pd.concat(usable, ignore_index=True)

    # -- candidates ----------------------------------------------------------------------------
    # an old ID: absent from the next covered release although that release's table covers
    # its sequence region (absence outside a table's scope is not disappearance)
    region = _nearest_locus(loci, presence, "old").set_index("gene_id")["chromosome"] if len(loci) else pd.Series()
    nxt_pos = np.searchsorted(covered, presence["last"].to_numpy(), side="right")
    gone = nxt_pos < len(covered)
    nxt = np.where(gone, covered[np.minimum(nxt_pos, len(covered) - 1)], -1)
    next_scope = pd.Series(nxt).map(release_scope).fillna("full").to_numpy()
    chrom = region.reindex(presence.index).fillna("").astype(str).to_numpy()
    outside = (
        (next_scope == "primary_assembly") & (chrom != "") & ~pd.Series(chrom).str.match(PRIMARY_REGION).to_numpy()
    )
    old_ids = presence.index[gone & ~outside]
    counts["disappeared"] = len(old_ids)
    counts["absent_outside_table_scope"] = int((gone & outside).sum())
    new_ids = presence.index[arrival > covered[0]]

    old_loci = _nearest_locus(loci[loci["gene_id"].isin(old_ids)], presence, "old")
    new_loci = _nearest_locus(loci[loci["gene_id"].isin(new_ids)], presence.assign(first=arrival), "new")
    pairs = _overlap_pairs(old_loci, new_loci)
    first = arrival
    last = presence["last"]
    if len(pairs):
        pairs = pairs[first.reindex(pairs["new_id"]).to_numpy() > last.reindex(pairs["old_id"]).to_numpy()]
    # one locus mostly inside the other: the locus evidence of a handover (see _handovers)
    touching = pairs[pairs["cover"] >= HANDOVER_COVER]
    pairs = pairs[pairs["overlap"] >= LOW_OVERLAP].drop(columns="cover")

    # -- transcripts ---------------------------------------------------------------------------
    tx = transcripts.drop_duplicates(["feature_id", "gene_id"])
    tx_sets = tx.groupby("gene_id").size()
    shared = tx[tx["gene_id"].isin(old_ids)].merge(
        tx[tx["gene_id"].isin(new_ids)], on="feature_id", suffixes=("_old", "_new")
    )
    shared = shared[shared["gene_id_old"] != shared["gene_id_new"]]
    tpairs = shared.groupby(["gene_id_old", "gene_id_new"], sort=True).size().rename("shared").reset_index()
    tpairs = tpairs.rename(columns={"gene_id_old": "old_id", "gene_id_new": "new_id"})
    tpairs = tpairs.astype({"old_id": object, "new_id": object})
    pairs = pairs.astype({"old_id": object, "new_id": object})
    if len(tpairs):
        tpairs = tpairs[first.reindex(tpairs["new_id"]).to_numpy() > last.reindex(tpairs["old_id"]).to_numpy()]
    n_old = tx_sets.reindex(tpairs["old_id"]).to_numpy()
    n_new = tx_sets.reindex(tpairs["new_id"]).to_numpy()
    tpairs = tpairs.assign(
        jaccard=tpairs["shared"] / (n_old + n_new - tpairs["shared"]),
        same_set=(tpairs["shared"].to_numpy() == n_old) & (n_old == n_new),
    )

    handover = _handovers(names, touching, presence, arrival, covered, old_ids)
    counts["handover_pairs"] = len(handover)
    cand = pairs.merge(tpairs, on=["old_id", "new_id"], how="outer")
    cand = cand.merge(handover, on=["old_id", "new_id"], how="outer")
    if cand.empty:
        report.counts.update(linked=0)
        return _empty_events(), report
    cand["overlap"] = cand["overlap"].fillna(0.0)
    cand["identical"] = cand["identical"].astype("boolean").fillna(False).astype(bool)
    cand["shared"] = cand["shared"].fillna(0).astype(int)
    cand["same_set"] = cand["same_set"].astype("boolean").fillna(False).astype(bool)
    cand["jaccard"] = cand["jaccard"].fillna(0.0)
    cand["handover"] = cand["handover"].astype("boolean").fillna(False).astype(bool)
    # the overlap of a handover below LOW_OVERLAP (its own locus evidence)
    cand["overlap"] = np.maximum(cand["overlap"], cand["handover_overlap"].fillna(0.0))
    cand = cand.drop(columns="handover_overlap")
    high = cand["identical"] | cand["same_set"]
    medium = (cand["overlap"] >= MEDIUM_OVERLAP) | (cand["shared"] > 0)
    cand["tier"] = np.where(high, "high", np.where(medium, "medium", "low"))
    cand["score"] = np.maximum(cand["overlap"], cand["jaccard"])
    counts["candidate_pairs"] = len(cand)

    # -- corroboration and contradiction ------------------------------------------------------
    ident = _identifiers(names, presence)
    old_names = ident.rename(columns={"gene_id": "old_id"})
    new_names = ident.rename(columns={"gene_id": "new_id"})
    agree = (
        cand[["old_id", "new_id"]].merge(old_names, on="old_id").merge(new_names, on=["new_id", "namespace", "value"])
    )
    strong = agree[(agree["namespace"] != "symbol") | ~agree["value"].str.match(_REUSABLE_NAME)]
    strong = strong.drop_duplicates(["old_id", "new_id"]).assign(strong=True).set_index(["old_id", "new_id"])["strong"]
    agree = agree.groupby(["old_id", "new_id"])["namespace"].agg(lambda s: ",".join(sorted(set(s))))
    cand = cand.merge(agree.rename("same_ids"), left_on=["old_id", "new_id"], right_index=True, how="left")
    cand = cand.merge(strong.rename("strong_ids"), left_on=["old_id", "new_id"], right_index=True, how="left")
    cand["same_ids"] = cand["same_ids"].fillna("")
    cand["strong_ids"] = cand["strong_ids"].astype("boolean").fillna(False).astype(bool)
    # a successor that coexisted off the primary assembly keeps its tier only when the gene's
    # HGNC ID, Entrez ID or non-clone symbol carries on: patches and alternate loci repeat
    # neighbouring copies of duplicated families at the same locus
    arrived_late = (arrival > presence["first"]).reindex(cand["new_id"]).to_numpy()
    capped = arrived_late & ~cand["strong_ids"].to_numpy() & (cand["tier"] != "low").to_numpy()
    cand.loc[capped, "tier"] = "low"
    counts["capped_off_primary_uncorroborated"] = int(capped.sum())
    # shared transcripts alone (the loci overlap less than MEDIUM_OVERLAP) are medium only when
    # the gene's HGNC ID, Entrez ID or non-clone symbol carries on: a transcript ID moves with
    # a merge into a neighbour, a readthrough or a pseudogene model as well
    tx_only = (cand["tier"] == "medium").to_numpy() & (cand["overlap"] < MEDIUM_OVERLAP).to_numpy()
    tx_capped = tx_only & ~cand["strong_ids"].to_numpy()
    cand.loc[tx_capped, "tier"] = "low"
    cand["capped_transcripts"] = tx_capped
    counts["capped_transcripts_uncorroborated"] = int(tx_capped.sum())
    # a handover is medium evidence of its own (see _handovers)
    raised = cand["handover"].to_numpy() & (cand["tier"] == "low").to_numpy()
    cand.loc[raised, "tier"] = "medium"
    counts["raised_by_handover"] = int(raised.sum())

    # transcripts of the old gene moved to another new gene than this one
    moved_tx = tpairs.groupby("old_id")["new_id"].agg(set)
    tx_other = np.array(
        [bool(moved_tx.get(o, set()) - {n}) for o, n in zip(cand["old_id"], cand["new_id"], strict=True)], dtype=bool
    )
    # the old gene's (non-reusable) symbol is carried on by another new gene than this one
    sym = ident[(ident["namespace"] == "symbol") & ~ident["value"].str.match(_REUSABLE_NAME)]
    sym_pairs = sym.rename(columns={"gene_id": "old_id"}).merge(
        sym.rename(columns={"gene_id": "new_id"}), on=["namespace", "value"]
    )
    sym_pairs = sym_pairs[sym_pairs["old_id"].isin(old_ids) & sym_pairs["new_id"].isin(new_ids)]
    sym_pairs = sym_pairs[first.reindex(sym_pairs["new_id"]).to_numpy() > last.reindex(sym_pairs["old_id"]).to_numpy()]
    moved_sym = sym_pairs.groupby("old_id")["new_id"].agg(set)
    sym_other = np.array(
        [
            bool(moved_sym.get(o, set())) and n not in moved_sym.get(o, set())
            for o, n in zip(cand["old_id"], cand["new_id"], strict=True)
        ],
        dtype=bool,
    )
    contradicted = tx_other | sym_other
    counts["contradicted"] = int(contradicted.sum())
    cand["status"] = np.where(tx_other, "contradicted: transcripts moved elsewhere", "")
    cand.loc[sym_other & ~tx_other, "status"] = "contradicted: symbol moved elsewhere"
    # the evidence contradicting a candidate is itself contested when that candidate had high
    # evidence of its own (an identical locus or transcript set): the old gene's evidence points
    # two ways, and the link that survives is low at most
    strong_loser = cand.loc[contradicted & (cand["tier"] == "high").to_numpy()]
    contest = strong_loser.groupby("old_id")["new_id"].min()
    rival = cand["old_id"].map(contest)
    contested = (~contradicted & rival.notna().to_numpy()) & (cand["tier"] != "low").to_numpy()
    cand["contested_by"] = np.where(contested, rival.fillna("").to_numpy(), "")
    cand.loc[contested, "tier"] = "low"
    counts["contested"] = int(contested.sum())
    report.candidates = cand
    cand = cand[~contradicted]

    # -- one-to-one ------------------------------------------------------------------------------
    # A merge or split seen from one side (one new gene overlapping two old ones): when exactly
    # one of the competitors also keeps the gene's HGNC ID, Entrez ID or (non-clone) symbol,
    # the others are no successor of the same gene and drop out; otherwise all stay ambiguous.
    for side in ("new_id", "old_id"):
        size = cand.groupby(side)[side].transform("size")
        # a handover (the old ID disappears in the very release the new one is born with its
        # HGNC ID and symbol) beats competitors without one
        n_hand = cand.groupby(side)["handover"].transform("sum")
        loser = (size > 1) & (n_hand == 1) & ~cand["handover"]
        report.candidates.loc[loser[loser].index, "status"] = "not one-to-one: a competitor is a handover"
        counts[f"competitors_dropped_by_handover:{side.split('_')[0]}"] = int(loser.sum())
        # ... but a competitor with an identical locus or transcript set contests a handover without one
        other = "old_id" if side == "new_id" else "new_id"
        strong_losers = cand[loser & (cand["identical"] | cand["same_set"])]
        rival = cand[side].map(strong_losers.groupby(side)[other].min())
        contested = cand["handover"] & rival.notna() & ~(cand["identical"] | cand["same_set"])
        cand.loc[contested, "tier"] = "low"
        cand.loc[contested, "contested_by"] = rival[contested]
        report.candidates.loc[contested[contested].index, ["tier", "contested_by"]] = cand.loc[
            contested, ["tier", "contested_by"]
        ]
        counts["contested"] += int(contested.sum())
        cand = cand[~loser]
        size = cand.groupby(side)[side].transform("size")
        n_strong = cand.groupby(side)["strong_ids"].transform("sum")
        loser = (size > 1) & (n_strong == 1) & ~cand["strong_ids"]
        report.candidates.loc[loser[loser].index, "status"] = "not one-to-one: a competitor keeps the identifiers"
        counts[f"competitors_dropped_by_identifiers:{side.split('_')[0]}"] = int(loser.sum())
        cand = cand[~loser]
    per_old = cand.groupby("old_id")["new_id"].transform("size")
    per_new = cand.groupby("new_id")["old_id"].transform("size")
    one = (per_old == 1) & (per_new == 1)
    counts["not_one_to_one"] = int((~one).sum())
    report.candidates.loc[one[one].index, "status"] = "linked"
    report.candidates.loc[one[~one].index, "status"] = "not one-to-one"
    links = cand[one].copy()
    for tier in TIERS:
        counts[f"linked_{tier}"] = int((links["tier"] == tier).sum())
    counts["linked"] = len(links)

    links["old_release"] = last.reindex(links["old_id"]).to_numpy()
    links["release"] = first.reindex(links["new_id"]).to_numpy()
    seen_first = presence["first"].reindex(links["new_id"]).to_numpy()
    links["off_primary_from"] = np.where(seen_first < links["release"].to_numpy(), seen_first, 0)
    links["detail"] = [_detail(row) for row in links.itertuples(index=False)]
    events = pd.DataFrame(
        {
            "old_id": links["old_id"].to_numpy(),
            "old_version": pd.array([pd.NA] * len(links), dtype="Int64"),
            "new_id": links["new_id"].to_numpy(),
            "new_version": pd.array([pd.NA] * len(links), dtype="Int64"),
            "old_release": links["old_release"].astype("int64").to_numpy(),
            "release": links["release"].astype("int64").to_numpy(),
            "score": links["score"].round(4).to_numpy(),
            "source": INFERRED_SOURCE,
            "evidence": links["tier"].to_numpy(),
            "detail": links["detail"].to_numpy(),
        }
    )
    events = events.sort_values(["release", "old_id", "new_id"], kind="stable").reset_index(drop=True)
    report.pairs = _pair_table(old_ids, presence, covered, links)
    logger.info(
        "lineage: %d disappeared IDs, %d linked (%d high, %d medium, %d low)",
        counts["disappeared"],
        counts["linked"],
        counts["linked_high"],
        counts["linked_medium"],
        counts["linked_low"],
    )
    return events, report


def _handovers(
    names: pd.DataFrame,
    touching: pd.DataFrame,
    presence: pd.DataFrame,
    arrival: pd.Series,
    covered: np.ndarray,
    old_ids: pd.Index,
) -> pd.DataFrame:
    """Handovers: an old ID that disappears in the release a newborn ID takes over the gene.

    The pair ``(old, new)`` is a handover when the old ID is last seen in release *a*, the new
    one first seen (on the primary assembly) in the next covered release *b*, the old ID's
    non-clone symbol at *a* is the new ID's symbol at *b*, the nomenclature authority's record
    of that symbol (HGNC's, MGI's) names the new ID, or the two share an Entrez ID, and their
    loci overlap on the same chromosome and strand (at least half of the shorter one inside the
    other: a model extended or cut back keeps its place). Only pairs unique on both
    sides are kept. The pattern is an annotation fault or a model rebuilt under a new ID
    (SOD2's ENSG00000112096 gone in 110, ENSG00000291237 born in 110), which locus overlap alone
    leaves unlinked or ambiguous. Returns ``old_id, new_id, handover, handover_overlap,
    handover_ids``.
    """
    empty = pd.DataFrame(
        {
            "old_id": pd.Series(dtype=object),
            "new_id": pd.Series(dtype=object),
            "handover": pd.Series(dtype=bool),
            "handover_overlap": pd.Series(dtype=float),
            "handover_ids": pd.Series(dtype=object),
        }
    )
    if len(touching) == 0:
        return empty
    last = presence["last"]
    pos = np.searchsorted(covered, last.reindex(touching["old_id"]).to_numpy(), side="right")
    nxt = covered[np.minimum(pos, len(covered) - 1)]
    pairs = touching[(pos < len(covered)) & (arrival.reindex(touching["new_id"]).to_numpy() == nxt)]
    pairs = pairs[pairs["old_id"].isin(old_ids)][["old_id", "new_id", "overlap"]]
    dated = names[(names["kind"] == "primary") & names["release"].notna()]
    symbols = dated[dated["namespace"] == "symbol"][["gene_id", "value", "release"]].astype({"release": "int64"})
    symbols = symbols[~symbols["value"].str.match(_REUSABLE_NAME)]
    old_sym = symbols.rename(columns={"gene_id": "old_id", "release": "old_release"})
    new_sym = symbols.rename(columns={"gene_id": "new_id", "release": "new_release"})
    pairs = pairs.assign(old_release=last.reindex(pairs["old_id"]).to_numpy())
    pairs = pairs.assign(new_release=arrival.reindex(pairs["new_id"]).to_numpy())
    pairs = pairs.merge(old_sym, on=["old_id", "old_release"]).merge(new_sym, on=["new_id", "new_release", "value"])
    # the authority's record of the symbol (approved or previous) names the new ID, and no other gene
    authority = names[
        names["release"].isna() & (names["namespace"] == "symbol") & names["kind"].isin(["primary", "previous"])
    ]
    authority = authority[
        authority["gene_id"].isin(names.loc[names["namespace"].isin(["hgnc_id", "mgi_id"]), "gene_id"])
    ]
    authority = authority[["gene_id", "value"]].drop_duplicates()
    authority = authority[authority.groupby("value")["gene_id"].transform("size") == 1]
    by_authority = pairs.merge(authority.rename(columns={"gene_id": "new_id"}), on=["new_id", "value"])
    hgnc = set(names.loc[names["namespace"] == "hgnc_id", "gene_id"])
    label = np.where(by_authority["new_id"].isin(hgnc), "HGNC ID", "MGI ID")
    entrez = names[(names["namespace"] == "entrez") & (names["kind"] == "primary")][["gene_id", "value"]]
    entrez = entrez.drop_duplicates()
    old_ez = entrez[entrez["gene_id"].isin(pairs["old_id"])].rename(columns={"gene_id": "old_id"})
    new_ez = entrez[entrez["gene_id"].isin(pairs["new_id"])].rename(columns={"gene_id": "new_id"})
    by_entrez = pairs[["old_id", "new_id"]].merge(old_ez, on="old_id").merge(new_ez, on=["new_id", "value"])
    kept = pd.concat(
        [
            by_authority[["old_id", "new_id"]].assign(handover_ids=label),
            by_entrez[["old_id", "new_id"]].assign(handover_ids="Entrez ID"),
        ]
    )
    if kept.empty:
        return empty
    kept = kept.groupby(["old_id", "new_id"], sort=True)["handover_ids"].agg(lambda s: ",".join(sorted(set(s))))
    kept = kept.reset_index()
    kept = kept[
        (kept.groupby("old_id")["new_id"].transform("size") == 1)
        & (kept.groupby("new_id")["old_id"].transform("size") == 1)
    ]
    overlap = pairs.drop_duplicates(["old_id", "new_id"]).set_index(["old_id", "new_id"])["overlap"]
    kept["handover_overlap"] = overlap.reindex(pd.MultiIndex.from_frame(kept[["old_id", "new_id"]])).to_numpy()
    kept["handover"] = True
    return (
        kept[["old_id", "new_id", "handover", "handover_overlap", "handover_ids"]]
        .astype({"old_id": object, "new_id": object})
        .reset_index(drop=True)
    )


def _identifiers(names: pd.DataFrame, presence: pd.DataFrame) -> pd.DataFrame:
    """Dated primary symbols, HGNC and Entrez IDs of each gene (any release)."""
    sel = names[
        names["namespace"].isin(["symbol", "hgnc_id", "entrez"])
        & (names["kind"] == "primary")
        & names["release"].notna()
    ]
    out = sel[["gene_id", "namespace", "value"]].drop_duplicates()
    return out[out["gene_id"].isin(presence.index)].reset_index(drop=True)


def _detail(row: Any) -> str:
    parts = []
    if row.identical:
        parts.append("identical locus")
    elif row.overlap > 0:
        parts.append(f"reciprocal overlap {row.overlap:.3f}")
    if row.same_set:
        parts.append(f"identical transcript set ({int(row.shared)})")
    elif row.shared:
        parts.append(f"{int(row.shared)} shared transcripts (Jaccard {row.jaccard:.2f})")
    if row.same_ids:
        parts.append(f"same {row.same_ids.replace(',', ', ')}")
    if row.off_primary_from:
        parts.append(
            f"successor off the primary assembly (patch or alternate locus) from release {row.off_primary_from}"
        )
        if not row.strong_ids:
            parts.append("low at most: no identifier continuity")
    if row.capped_transcripts:
        parts.append("low at most: shared transcripts without identifier continuity")
    if row.contested_by:
        parts.append(f"low at most: contested by {row.contested_by} (identical locus or transcript set)")
    if row.handover:
        ids = row.handover_ids.replace(",", " and ")
        parts.append(f"handover: born in release {row.release} with the old ID's symbol, {ids} and locus")
    return "; ".join(parts)


def _pair_table(old_ids: pd.Index, presence: pd.DataFrame, covered: np.ndarray, links: pd.DataFrame) -> list[dict]:
    """Per pair of consecutive covered releases: IDs that disappeared and links by tier."""
    last = presence["last"].reindex(old_ids).to_numpy()
    out = []
    linked = links.set_index("old_id")["tier"]
    for i in range(len(covered) - 1):
        a, b = int(covered[i]), int(covered[i + 1])
        ids = old_ids[last == a]
        tiers = linked.reindex(ids).dropna()
        row = {"from": a, "to": b, "disappeared": len(ids)}
        for tier in TIERS:
            row[tier] = int((tiers == tier).sum())
        row["unlinked"] = len(ids) - len(tiers)
        out.append(row)
    return out


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "old_id",
            "old_version",
            "new_id",
            "new_version",
            "old_release",
            "release",
            "score",
            "source",
            "evidence",
            "detail",
        ]
    )
