"""Stages 2–5 of resolution, for the keys a batch of queries reaches.

For one target release and namespace, :func:`resolve_keys` resolves a set of keys of the
snapshot at once with table joins (anchor → time travel → target → classify), on the rows
those keys reach: their rows of the snapshot's key table, the origin genes they name and the
history links those reach. The history graph is walked as a frontier of joins over all the
batch's retired genes together, never once per query. :func:`build_index` is the same
function on every key of the snapshot (the reference the answers are pinned against);
:func:`resolved` keeps, per target and session, the keys resolved so far, so a repeated
batch is a lookup.

Ranking rule (documented in ``docs/concepts.md``): candidates are ordered by history score
(product of Ensembl's mapping scores along the path; 1 when the ID did not change), then by
the number of history steps, then by target value. ``strategy="best"`` keeps the first
candidate only when its score is strictly higher than the second's; otherwise the query stays
ambiguous (``1:n``).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..snapshot import SOURCE_PRIORITY, fake_names, upper_strings
from ._key_index import key_index
from ._resolution_index import ResolutionIndex, hash_keys
from ._snapshot_cache import cached_per_snapshot, snapshot_cache
from ._vocab import PARSE_NOTES, REASON_CODE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..snapshot import Snapshot
    from ._key_index import KeyIndex

logger = logging.getLogger(__name__)

#: When one key is an identifier in several namespaces, the most specific wins (lower first).
QUERY_NAMESPACE_PRIORITY = {
    "ensembl_gene": 0,
    "ensembl_transcript": 1,
    "ensembl_protein": 2,
    "hgnc_id": 3,
    "entrez": 4,
    "mgi_id": 5,
    "symbol": 7,
}
_OTHER_NAMESPACE = 6
#: Anchor tiers: a symbol means what it meant when it was valid.
TIER_CURRENT, TIER_OTHER_RELEASE, TIER_PREVIOUS, TIER_ALIAS = 0, 1, 2, 3
MAX_HISTORY_STEPS = 64
_SCORE_EPS = 1e-6

#: ``source`` of history links inferred by the builder from loci and transcripts.
INFERRED_SOURCE = "inferred_lineage"
#: Evidence tiers of inferred links, strongest first, and ``"none"`` (use no inferred link).
EVIDENCE_LEVELS = ("high", "medium", "low", "none")
#: Default weakest tier accepted: no wrong link on the curated cases (``docs/lineage.md``),
#: and a medium link is kept only when it is one-to-one and no evidence contradicts it.
DEFAULT_MIN_EVIDENCE = "medium"
#: Primary-assembly sequence regions (chromosomes, unplaced / unlocalized scaffolds).
_PRIMARY_REGION = r"^(?:\d+|X|Y|MT|[A-Z]{2}\d{6}\.\d+)$"


def check_min_evidence(min_evidence: str | None) -> str:
    """Validate ``min_evidence``: the weakest evidence tier of inferred history links accepted."""
    value = "none" if min_evidence is None else min_evidence
    if value not in EVIDENCE_LEVELS:
        msg = (
            f"min_evidence must be one of {EVIDENCE_LEVELS} (the weakest tier of inferred history links "
            f"accepted; 'none' uses Ensembl's own history only), got {min_evidence!r}."
        )
        raise ValueError(msg)
    return value


@cached_per_snapshot
def history_links(snapshot: Snapshot, min_evidence: str = DEFAULT_MIN_EVIDENCE) -> pd.DataFrame:
    """Events between different IDs usable at ``min_evidence``, with an ``inferred`` flag."""
    events = snapshot.events
    links = events[events["old_id"].notna() & events["new_id"].notna() & (events["old_id"] != events["new_id"])]
    inferred = (links["source"] == INFERRED_SOURCE).to_numpy()
    level = check_min_evidence(min_evidence)
    tiers = EVIDENCE_LEVELS[:-1]  # without "none"
    allowed = () if level == "none" else tiers[: tiers.index(level) + 1]
    keep = ~inferred | links["evidence"].isin(allowed).to_numpy()
    links = links[keep]
    return links.assign(score=links["score"].fillna(1.0).astype(float), inferred=inferred[keep])


# --------------------------------------------------------------------------------------------
# helpers on the snapshot's tables
# --------------------------------------------------------------------------------------------
@cached_per_snapshot
def _gene_rows(snapshot: Snapshot) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The genes table's gene IDs (Arrow), first and last releases (float), read without pandas."""
    genes = snapshot.arrow("genes")
    ids = genes["gene_id"].combine_chunks()
    first = pc.cast(genes["first_release"], pa.float64()).to_numpy(zero_copy_only=False)
    last = pc.cast(genes["last_release"], pa.float64()).to_numpy(zero_copy_only=False)
    return ids, first, last


def _unique_index(ids: pa.Array) -> pd.Index:
    """The distinct values of an Arrow string array, in order of first appearance, as an index."""
    return pd.Index(np.asarray(pc.unique(ids).to_numpy(zero_copy_only=False), dtype=object))


@cached_per_snapshot
def alive_at(snapshot: Snapshot, release: int) -> pd.Index:
    """Gene IDs that exist in ``release``.

    For a release between two covered ones, a gene exists when it exists in both neighbours
    (Ensembl never reuses a stable ID), whatever its version in each.
    """
    ids, first, last = _gene_rows(snapshot)
    covered = np.asarray(snapshot.releases)
    if release in snapshot.releases or len(covered) == 0:
        return _unique_index(ids.filter(pa.array((first <= release) & (last >= release))))
    prev = covered[covered < release].max(initial=covered[0])
    nxt = covered[covered > release].min(initial=covered[-1])
    at_prev = _unique_index(ids.filter(pa.array((first <= prev) & (last >= prev))))
    at_next = _unique_index(ids.filter(pa.array((first <= nxt) & (last >= nxt))))
    return at_prev.intersection(at_next)


def _next_covered(releases: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The first covered release strictly after each value (NaN where none)."""
    pos = np.searchsorted(releases, after, side="right")
    out = np.full(len(after), np.nan)
    ok = pos < len(releases)
    out[ok] = releases[pos[ok]]
    return out


def _group_min(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per row, the minimum of its run (rows sorted by group; every run non-empty)."""
    return np.repeat(np.minimum.reduceat(values, starts), counts)


@cached_per_snapshot
def real_names(snapshot: Snapshot) -> pd.DataFrame:
    """The snapshot's names table without fake names (a value equal to its gene's own ID).

    Builders leave such rows out; snapshots built before they did may still hold them, for
    example gene tables that fill the name column of an unnamed gene with its ID.
    """
    names = snapshot.names
    fake = fake_names(snapshot.arrow("names"))
    return names[~fake] if fake.any() else names


_EXACT_CALLS = ("is_exact_symbol", "calls")
_EXACT_LOCK = threading.Lock()


def is_exact_symbol(snapshot: Snapshot, values: np.ndarray) -> np.ndarray:
    """Per value, whether it is a symbol exactly as the snapshot's sources write it (case included).

    The same as membership in :func:`exact_names`: on a session's first call read from the
    names rows of these values only (one scan, no index of every symbol); from the second
    call on, looked up in :func:`exact_names` (built then, once).
    """
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    cache = snapshot_cache(snapshot)
    with _EXACT_LOCK:
        cache[_EXACT_CALLS] = calls = cache.get(_EXACT_CALLS, 0) + 1
    if calls > 1:
        return exact_names(snapshot).get_indexer(np.asarray(values, dtype=object)) >= 0
    asked = pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
    names = snapshot.arrow("names").select(["gene_id", "namespace", "value"])
    names = names.filter(
        pc.and_(pc.is_in(names["value"], value_set=pc.unique(asked)), pc.equal(names["namespace"], "symbol"))
    )
    fake = fake_names(names)
    real = names["value"].filter(pa.array(~fake)) if fake.any() else names["value"]
    return pc.fill_null(pc.is_in(asked, value_set=pc.unique(real.drop_null())), False).to_numpy(zero_copy_only=False)


@cached_per_snapshot
def exact_names(snapshot: Snapshot) -> pd.Index:
    """Every symbol exactly as the snapshot's sources write it (case included), unique."""
    names = snapshot.arrow("names").select(["gene_id", "namespace", "value"])
    names = names.filter(pc.equal(names["namespace"], "symbol"))
    fake = fake_names(names)
    values = names["value"].filter(pa.array(~fake)) if fake.any() else names["value"]
    return pd.Index(
        np.asarray(pc.unique(values.drop_null()).to_numpy(zero_copy_only=False), dtype=object), dtype=object
    )


@cached_per_snapshot
def names_at(snapshot: Snapshot, namespace: str, release: int) -> pd.Series:
    """One name per gene in ``namespace`` at ``release`` (gene ID -> value).

    Dated primary names valid at the release come first, then undated primary names
    (HGNC, NCBI: current as of the source's date). For stable accession namespaces
    (everything but ``symbol``: an HGNC or Entrez ID does not change with the Ensembl
    release) the name of the nearest dated release comes last. Among equals the
    higher-priority source, then (UniProt) the shortest accession, then the alphabetically
    first value, so the choice is
    deterministic.
    """
    names = real_names(snapshot)
    return _pick_names(names[(names["namespace"] == namespace) & (names["kind"] == "primary")], namespace, release)


def names_of(snapshot: Snapshot, namespace: str, release: int, genes: object) -> pd.Series:
    """:func:`names_at` for the genes ``genes`` only (the same value for each of them)."""
    genes = pd.unique(pd.Series(np.asarray(genes, dtype=object)).dropna().to_numpy(dtype=object))
    names = _primary_names(snapshot, namespace)
    sel = names.filter(pc.is_in(names["gene_id"], value_set=pa.array(genes, type=pa.string())))
    fake = fake_names(sel)
    if fake.any():
        sel = sel.filter(pa.array(~fake))
    return _pick_names(sel.to_pandas(), namespace, release)


@cached_per_snapshot
def _primary_names(snapshot: Snapshot, namespace: str) -> pa.Table:
    """The primary names of ``namespace`` (Arrow), fake ones included."""
    names = snapshot.arrow("names")
    return names.filter(pc.and_(pc.equal(names["namespace"], namespace), pc.equal(names["kind"], "primary")))


def _pick_names(sel: pd.DataFrame, namespace: str, release: int) -> pd.Series:
    """One name per gene among the primary names ``sel`` of ``namespace`` (see :func:`names_at`)."""
    first = sel["first_release"].to_numpy(dtype=float)
    last = sel["last_release"].to_numpy(dtype=float)
    dated = ~np.isnan(first)
    valid = dated & (first <= release) & (last >= release)
    distance = np.where(dated, np.minimum(np.abs(first - release), np.abs(last - release)), 0.0)
    # 0: valid at the release; 1: undated; 2 + distance: another release (accessions only)
    rank = np.where(valid, 0.0, np.where(~dated, 1.0, 2.0 + distance))
    usable = rank < 2 if namespace == "symbol" else np.ones(len(sel), dtype=bool)
    pick = sel[usable].assign(_rank=rank[usable], _src=sel["source"][usable].map(SOURCE_PRIORITY).fillna(9).to_numpy())
    # UniProt: the shortest accession first (6-character accessions are the older entries,
    # typically the reviewed Swiss-Prot one; 10-character ones are newer, mostly TrEMBL)
    pick = pick.assign(_len=pick["value"].str.len() if namespace == "uniprot" else 0)
    pick = pick.sort_values(["gene_id", "_rank", "_src", "_len", "value"], kind="stable")
    return pick.drop_duplicates("gene_id").set_index("gene_id")["value"].astype(object)


# --------------------------------------------------------------------------------------------
# time travel
# --------------------------------------------------------------------------------------------
def _end_reasons(
    snapshot: Snapshot, release: int, genes: pd.Index, last: np.ndarray, first: np.ndarray, forward: bool
) -> np.ndarray:
    """Why history ends for genes not alive at ``release`` with no successor reached.

    Forward (``last`` = last covered release with the gene before ``release``): ``retired``;
    ``presence_undetermined`` when ``release`` is not covered and lies between that release
    and the next covered one (the gene may or may not still have existed); or
    ``outside_table_scope`` when the next covered release's table does not cover the gene's
    sequence region. Backward (``first`` = first covered release with it after ``release``):
    ``not_yet_created``, or ``presence_undetermined`` as above.
    """
    covered = np.asarray(snapshot.releases, dtype=float)
    uncovered = release not in snapshot.releases
    if not forward:
        prev = np.searchsorted(covered, first, side="left") - 1
        prev_rel = np.where(prev >= 0, covered[np.maximum(prev, 0)], -np.inf)
        undetermined = uncovered & (prev_rel < release) & ~np.isnan(first)
        return np.where(undetermined, "presence_undetermined", "not_yet_created")
    nxt = _next_covered(covered, np.nan_to_num(last, nan=np.inf))
    undetermined = uncovered & (nxt > release) & ~np.isnan(last)
    reasons = np.where(undetermined, "presence_undetermined", "retired").astype(object)
    scopes = snapshot.manifest.get("release_scopes") or {}
    if scopes and snapshot.arrow("loci").num_rows:
        next_scope = np.array(
            [scopes.get(str(int(r)), "full") if np.isfinite(r) else "full" for r in nxt], dtype=object
        )
        narrow = next_scope == "primary_assembly"
        if narrow.any():
            chrom = _last_region(snapshot, genes).reindex(genes).fillna("").astype(str)
            outside = (chrom != "") & ~chrom.str.match(_PRIMARY_REGION)
            reasons[narrow & outside.to_numpy() & ~undetermined] = "outside_table_scope"
    return reasons


def _last_before(snapshot: Snapshot, genes: pd.Index, release: int) -> np.ndarray:
    """Per gene, the last covered release before ``release`` in which it exists (NaN if none)."""
    ids, _, last = _gene_rows(snapshot)
    pos = _positions(ids, genes)
    sel = (pos >= 0) & (last < release)
    out = np.full(len(genes), -np.inf)
    np.maximum.at(out, pos[sel], last[sel])
    return np.where(np.isinf(out), np.nan, out)


def _first_after(snapshot: Snapshot, genes: pd.Index, release: int) -> np.ndarray:
    """Per gene, the first covered release after ``release`` in which it exists (NaN if none)."""
    ids, first, _ = _gene_rows(snapshot)
    pos = _positions(ids, genes)
    sel = (pos >= 0) & (first > release)
    out = np.full(len(genes), np.inf)
    np.minimum.at(out, pos[sel], first[sel])
    return np.where(np.isinf(out), np.nan, out)


def _positions(ids: pa.Array, genes: pd.Index) -> np.ndarray:
    """Per value of ``ids``, its position in ``genes`` (``-1`` if absent), hashed in Arrow."""
    where = pc.index_in(ids, value_set=pa.array(genes.to_numpy(dtype=object), type=pa.string()))
    return pc.fill_null(where, -1).to_numpy().astype(np.int64)


def _last_region(snapshot: Snapshot, genes: pd.Index) -> pd.Series:
    """Per gene of ``genes``, the sequence region of its last locus."""
    loci = snapshot.arrow("loci").select(["gene_id", "chromosome", "last_release"])
    loci = loci.filter(pc.is_in(loci["gene_id"], value_set=pa.array(genes.to_numpy(dtype=object), type=pa.string())))
    loci = loci.to_pandas().sort_values(["gene_id", "last_release"], kind="stable")
    return loci.drop_duplicates("gene_id", keep="last").set_index("gene_id")["chromosome"]


def travel(
    snapshot: Snapshot, release: int, origins: pd.Index, min_evidence: str = DEFAULT_MIN_EVIDENCE
) -> pd.DataFrame:
    """Follow history from each origin gene to the genes that exist at ``release``.

    Origins alive at ``release`` map to themselves. Others go forward along old→new events
    (when they ended before the release) or backward along new→old events (when they began
    after it), all origins together, one join per history step. Ensembl's own events are
    always used; links inferred from loci and transcripts down to the ``min_evidence`` tier.

    Returns
    -------
    Columns ``origin, target, score, hops, direction, inferred`` (target null where history
    ends with no living gene; ``inferred``: the path uses an inferred link), ``end_reason``
    for dead ends, and ``retired_in`` for forward dead ends.
    """
    alive = alive_at(snapshot, release)
    is_alive = alive.get_indexer(origins) >= 0  # the cached index keeps its hash table
    result = [
        pd.DataFrame(
            {
                "origin": origins[is_alive],
                "target": origins[is_alive],
                "score": 1.0,
                "hops": 0,
                "direction": "none",
                "inferred": False,
            }
        )
    ]
    dead = origins[~is_alive]
    # a gene absent at the release may exist before and after it (absent from a table that
    # does not cover its region): the spans nearest the release decide the direction
    dead_last = _last_before(snapshot, dead, release)
    dead_first = _first_after(snapshot, dead, release)
    backward = np.isnan(dead_last) & ~np.isnan(dead_first)  # began after the target release
    links = history_links(snapshot, min_evidence)

    for direction, mask in (("forward", ~backward), ("backward", backward)):
        starts = dead[mask]
        if len(starts) == 0:
            continue
        if direction == "forward":
            edges = links[links["release"] <= release][["old_id", "new_id", "release", "score", "inferred"]]
            edges = edges.set_axis(["src", "dst", "rel", "escore", "einferred"], axis=1)
            frontier_rel = -np.inf
        else:
            edges = links[links["release"] > release][["new_id", "old_id", "release", "score", "inferred"]]
            edges = edges.set_axis(["src", "dst", "rel", "escore", "einferred"], axis=1)
            frontier_rel = np.inf
        frontier = pd.DataFrame(
            {"origin": starts, "cur": starts, "cur_rel": frontier_rel, "score": 1.0, "hops": 0, "inferred": False}
        )
        seen = set()
        found = []
        for step in range(1, MAX_HISTORY_STEPS + 1):
            step_df = frontier.merge(edges, left_on="cur", right_on="src", how="inner")
            if direction == "forward":
                step_df = step_df[step_df["rel"] > step_df["cur_rel"]]
            else:
                step_df = step_df[step_df["rel"] < step_df["cur_rel"]]
            if step_df.empty:
                break
            nxt = pd.DataFrame(
                {
                    "origin": step_df["origin"].to_numpy(),
                    "cur": step_df["dst"].to_numpy(),
                    "cur_rel": step_df["rel"].to_numpy(dtype=float),
                    "score": step_df["score"].to_numpy() * step_df["escore"].to_numpy(),
                    "hops": step,
                    "inferred": step_df["inferred"].to_numpy(dtype=bool) | step_df["einferred"].to_numpy(dtype=bool),
                }
            )
            landed = alive.get_indexer(nxt["cur"].to_numpy(dtype=object)) >= 0
            found.append(nxt[landed])
            rest = nxt[~landed]
            pairs = list(zip(rest["origin"], rest["cur"], strict=True))
            keep = np.array([p not in seen for p in pairs], dtype=bool)
            seen.update(pairs)
            frontier = rest[keep] if len(rest) else rest
            if frontier.empty:
                break
        else:  # pragma: no cover - only with corrupt, cyclic history
            logger.warning("history walk stopped after %d steps", MAX_HISTORY_STEPS)
        if found:
            hits = pd.concat(found, ignore_index=True).rename(columns={"cur": "target"})
            hits = hits.sort_values(["origin", "target", "score", "hops"], ascending=[True, True, False, True])
            hits = hits.drop_duplicates(["origin", "target"])[["origin", "target", "score", "hops", "inferred"]]
            hits["direction"] = direction
            result.append(hits)
        reached = set(result[-1]["origin"]) if found else set()
        ends = starts[~starts.isin(list(reached))]
        if len(ends):
            end_frame = pd.DataFrame(
                {"origin": ends, "target": None, "score": np.nan, "hops": 0, "direction": direction, "inferred": False}
            )
            last = pd.Series(dead_last[mask], index=starts).reindex(ends).to_numpy()
            first = pd.Series(dead_first[mask], index=starts).reindex(ends).to_numpy()
            end_frame["end_reason"] = _end_reasons(snapshot, release, ends, last, first, direction == "forward")
            if direction == "forward":
                retired = _next_covered(np.asarray(snapshot.releases, dtype=float), np.nan_to_num(last, nan=-np.inf))
                end_frame["retired_in"] = np.where(
                    np.isnan(last) | (end_frame["end_reason"] != "retired").to_numpy(), np.nan, retired
                )
            result.append(end_frame)
    out = pd.concat(result, ignore_index=True)
    for column, fill in (("retired_in", np.nan), ("end_reason", None)):
        if column not in out:
            out[column] = fill
    return out


# --------------------------------------------------------------------------------------------
# anchors: which gene(s) a key names, and how
# --------------------------------------------------------------------------------------------
def anchor_rows(
    snapshot: Snapshot, codes: np.ndarray | None, release: int, keys: KeyIndex | None = None
) -> dict[str, np.ndarray]:
    """The gene(s) each key of ``codes`` names, and how (every key when ``codes`` is ``None``).

    ``codes``: sorted, unique key codes of :func:`~idtrack_sc.resolve._key_index.key_index`.
    The rows come as columns (``key, qns, gene, tier, kind, first, last, note, _distance,
    kcode, fallback``) sorted by ``kcode``, the position of the row's key in ``codes``;
    :func:`anchor_frame` makes them a frame.

    ``release`` is the *anchor* release: the release whose meaning a name is read in (the
    target release, or the release a dataset was annotated with).
    """
    keys = key_index(snapshot) if keys is None else keys
    table, codes = keys.rows(codes)
    latest = snapshot.latest_release
    first, last = table["first_release"], table["last_release"]
    is_name = table["from_table"] == "names"
    dated = ~np.isnan(first)
    covers = dated & (first <= release) & (last >= release)
    distance = np.where(
        covers,
        0.0,
        np.where(dated, np.minimum(np.abs(first - release), np.abs(last - release)), abs(latest - release) + 0.5),
    )
    kind = table["kind"]
    tier = np.select(
        [~is_name, kind == "primary", kind == "previous"],
        [TIER_CURRENT, np.where(distance == 0, TIER_CURRENT, TIER_OTHER_RELEASE), TIER_PREVIOUS],
        TIER_ALIAS,
    ).astype(np.int64)
    col = {
        "key": table["key"],
        "qns": table["namespace"],
        "gene": table["gene_id"],
        "tier": tier,
        "kind": kind,
        "first": first,
        "last": last,
        "note": table["note"],
        "_distance": np.where(is_name & (kind == "primary"), distance, 0.0),
    }
    nsprio = pd.Series(col["qns"]).map(QUERY_NAMESPACE_PRIORITY).fillna(_OTHER_NAMESPACE).to_numpy(dtype=float)
    rows = np.arange(len(codes))  # positions into col (sorted by key code), narrowed step by step below

    def runs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _runs(codes[rows])

    # Keep, per key, only the most specific namespace, then the best tier, then (primary
    # names) the release nearest the target: the symbol means what it meant then.
    rows = rows[nsprio[rows] == _group_min(nsprio[rows], *runs(rows))]
    row_tier = col["tier"][rows]
    best_tier = _group_min(row_tier, *runs(rows))
    main = row_tier == best_tier
    # A previous symbol (and, behind a primary name of another release, an alias) stays as a
    # fallback: it contests a primary name of another release (build_index), and when the gene
    # the name belonged to is gone (no recorded successor), HGNC's rename record still leads on.
    behind = ((best_tier <= TIER_OTHER_RELEASE) & (row_tier == TIER_PREVIOUS)) | (
        (best_tier == TIER_OTHER_RELEASE) & (row_tier == TIER_ALIAS)
    )
    # only the strongest such reading: an alias does not contest when a previous symbol exists
    behind_tier = _group_min(np.where(behind, row_tier, 99), *runs(rows))
    fallback = behind & (row_tier == behind_tier)
    keep = main | fallback
    rows, fallback = rows[keep], fallback[keep]
    distance = np.where(fallback, np.inf, col["_distance"][rows])
    keep = fallback | (distance == _group_min(distance, *runs(rows)))
    rows, fallback = rows[keep], fallback[keep]
    frame = {name: values[rows] for name, values in col.items()}
    frame["kcode"] = codes[rows]
    frame["fallback"] = fallback
    return frame


# --------------------------------------------------------------------------------------------
# the index
# --------------------------------------------------------------------------------------------
class _Rows:
    """Some rows of a table of columns, as positions: a selection copies a column only when it is read.

    The index build narrows its candidate table several times; a ``DataFrame`` would copy
    (and consolidate) all of its columns each time.
    """

    def __init__(self, columns: dict[str, np.ndarray], rows: np.ndarray | None = None) -> None:
        self._columns = columns
        self._rows = rows
        self._read: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._read:
            values = self._columns[name]
            self._read[name] = values if self._rows is None else values[self._rows]
        return self._read[name]

    def take(self, positions: np.ndarray) -> _Rows:
        """The rows at ``positions`` (integer positions into these rows)."""
        return _Rows(self._columns, positions if self._rows is None else self._rows[positions])

    def where(self, mask: np.ndarray) -> _Rows:
        """The rows where ``mask`` is true."""
        return self.take(np.flatnonzero(mask))


def _reason(cand: _Rows, *, reread: bool = False) -> np.ndarray:
    """Reason for each successful candidate row (vectorized).

    ``reread``: names were anchored in another release than the target one, so a current
    name there that differs from the target's name is a rename too.
    """
    kind = cand["kind"]
    moved = (pd.Series(cand["target_gene"], copy=False) != pd.Series(cand["gene"], copy=False)).to_numpy()
    direction = cand["direction"]
    tiers = (TIER_CURRENT, TIER_OTHER_RELEASE) if reread else (TIER_OTHER_RELEASE,)
    qns_symbol = cand["qns"] == "symbol"
    renamed = np.isin(cand["tier"], tiers) & qns_symbol
    renamed &= cand["key"] != cand["symbol_upper"]
    inferred = pd.Series(cand["inferred"], copy=False).fillna(False).to_numpy(dtype=bool)
    return np.select(
        [
            moved & inferred & (direction == "backward"),
            moved & inferred,
            moved & (direction == "backward"),
            moved,
            kind == "transcript",
            kind == "translation",
            (kind == "previous") & qns_symbol,
            kind == "previous",
            (kind == "alias") | (kind == "synonym"),
            renamed,
        ],
        [
            "inferred_predecessor",
            "inferred_successor",
            "history_predecessor",
            "history_successor",
            "from_transcript",
            "from_protein",
            "previous_symbol",
            "previous_id",
            "alias",
            "renamed",
        ],
        "unchanged",
    )


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal values in a sorted array."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.ones(len(keys), dtype=bool)
    change[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(change)
    return starts, np.diff(np.append(starts, len(keys)))


def _join_runs(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``"|"``-join the values of each run (only runs longer than one need Python)."""
    out = values[starts].astype(object)
    for i in np.flatnonzero(counts > 1):
        out[i] = "|".join(values[starts[i] : starts[i] + counts[i]])
    return out


def _candidates(
    snapshot: Snapshot,
    codes: np.ndarray | None,
    release: int,
    anchor: int | None = None,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Anchors of the keys ``codes`` (every key if ``None``) and the genes they reach at ``release``.

    Names are read in their meaning at ``anchor`` (default: ``release``). Returns the
    candidate rows (sorted by key code) and per-key metadata: the keys, their hashes, query
    namespace, parse note and the release range where each key was found.
    """
    anchor = release if anchor is None else anchor
    index = key_index(snapshot)
    anchors = anchor_rows(snapshot, codes, anchor, index)
    codes = index.all_codes() if codes is None else codes
    gene = anchors["gene"]
    origins = pd.Index(pd.unique(gene[pd.notna(gene)]))
    moves = travel(snapshot, release, origins, min_evidence)
    cand = _left_join(anchors, moves.rename(columns={"target": "target_gene"}), origins)
    target_gene = pd.Series(cand["target_gene"], copy=False)
    cand["symbol"] = target_gene.map(names_of(snapshot, "symbol", release, target_gene.unique())).to_numpy()
    cand["symbol_upper"] = upper_strings(cand["symbol"])
    main = ~anchors["fallback"]
    starts, _ = _runs(anchors["kcode"][main])  # sorted by key code; every key has main rows
    meta = {
        "anchors": anchors,  # for explanations (columns of anchor_frame)
        "keys": index.key_strings(codes),
        "keys_arrow": index.key_array(codes),
        "hashes": pd.Index(hash_keys(index.key_strings(codes))),
        "qns": anchors["qns"][main][starts],
        "note": anchors["note"][main][starts],
        "first": np.fmin.reduceat(anchors["first"][main], starts),
        "last": np.fmax.reduceat(anchors["last"][main], starts),
    }
    return cand, meta


def _left_join(left: dict[str, np.ndarray], right: pd.DataFrame, origins: pd.Index) -> dict[str, np.ndarray]:
    """``left`` joined with the rows of ``right`` whose ``origin`` is its ``gene``, as columns.

    Like ``DataFrame.merge(how="left", sort=False)``: the left rows in order, each repeated
    for its right rows in their order. ``origins``: the unique non-null genes of ``left``,
    which must each have a right row (:func:`travel` answers every origin).
    """
    n_origins = len(origins)
    left_code = origins.get_indexer(left["gene"])
    right_code = origins.get_indexer(right["origin"])
    if (left_code < 0).any() or (right_code < 0).any():  # pragma: no cover - null genes
        joined = pd.DataFrame(left).merge(right, left_on="gene", right_on="origin", how="left", sort=False)
        return {name: joined[name].to_numpy() for name in joined.columns}
    per_origin = np.bincount(right_code, minlength=n_origins)
    if (per_origin == 0).any():  # pragma: no cover - travel answers every origin
        msg = "History travel lost an origin gene."
        raise RuntimeError(msg)
    right_order = np.argsort(right_code, kind="stable")
    right_start = np.cumsum(per_origin) - per_origin
    repeat = per_origin[left_code]
    left_rows = np.repeat(np.arange(len(left_code)), repeat)
    within = np.arange(len(left_rows)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    right_rows = right_order[right_start[left_code][left_rows] + within]
    joined = {name: values[left_rows] for name, values in left.items()}
    for name in right.columns:
        joined[name] = right[name].to_numpy()[right_rows]
    return joined


def anchor_frame(anchors: dict[str, np.ndarray]) -> pd.DataFrame:
    """The anchor table of :func:`anchor_rows` as a frame."""
    return pd.DataFrame(anchors)


def _codes(values: np.ndarray, vocabulary: list[str] | tuple[str, ...]) -> np.ndarray:
    """``int8`` position of each value in ``vocabulary`` (every value must be in it)."""
    codes = pd.Index(vocabulary).get_indexer(np.asarray(values, dtype=object))
    if (codes < 0).any():  # pragma: no cover - a code path producing an unknown value
        msg = f"Unknown values {sorted(set(np.asarray(values, dtype=object)[codes < 0]))[:5]} (known: {vocabulary})."
        raise ValueError(msg)
    return codes.astype(np.int8)


#: Resolving this many keys takes a few seconds: a progress bar (stderr, terminals only) says so.
_BAR_KEYS = 150_000


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _stage_bar(n_keys: int, desc: str) -> Any:
    """A tqdm bar over the four stages of :func:`resolve_keys` when ``n_keys`` is large, else a no-op."""
    if n_keys < _BAR_KEYS:
        return _NoBar()
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=4, desc=desc, unit="stage", file=sys.stderr, disable=None, leave=False)


def build_index(
    snapshot: Snapshot,
    release: int,
    namespace: str,
    anchor: int | None = None,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
) -> ResolutionIndex:
    """Resolve every key of ``snapshot`` to ``namespace`` at ``release`` (see module doc).

    Names are read in their meaning at release ``anchor`` (default: ``release``); inferred
    history links are followed down to the ``min_evidence`` tier. The reference for
    :func:`resolve_keys`, which answers the same for any subset of the keys.
    """
    return resolve_keys(snapshot, None, release, namespace, anchor, min_evidence)


def resolve_keys(
    snapshot: Snapshot,
    codes: np.ndarray | None,
    release: int,
    namespace: str,
    anchor: int | None = None,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
    namespaces: list[str] | None = None,
) -> ResolutionIndex:
    """Resolve the keys ``codes`` (sorted, unique key codes; every key if ``None``) to ``namespace`` at ``release``.

    The same stages and rules as for every key: only the key-table rows of these keys, the
    genes they name and the history those reach are read. ``namespaces``: the vocabulary of
    the ``query_namespace`` codes (default: the namespaces the keys are found in).
    """
    anchor = release if anchor is None else anchor
    n_asked = len(key_index(snapshot).all_codes()) if codes is None else len(codes)
    bar = _stage_bar(n_asked, f"resolving {n_asked:,} identifiers")
    cand, meta = _candidates(snapshot, codes, release, anchor, min_evidence)
    bar.update()
    keys = meta["keys"]
    n_keys = len(keys)
    if namespace == "ensembl_gene":
        target = cand["target_gene"]
    else:
        target_gene = pd.Series(cand["target_gene"], copy=False)
        target = target_gene.map(names_of(snapshot, namespace, release, target_gene.unique()))
    tcode, tuniques = pd.factorize(target, sort=True)  # -1 = no target
    rows = _Rows(cand)
    kcode = rows["kcode"]
    ok = tcode >= 0
    fallback = rows["fallback"].astype(bool)
    main_ok = np.zeros(n_keys, dtype=bool)
    main_ok[kcode[ok & ~fallback]] = True
    # only a previous symbol leads on when the main anchors reach nothing (HGNC's record
    # of a rename); an alias only contests
    leads = fallback & (rows["tier"] == TIER_PREVIOUS)
    fallback_ok = np.zeros(n_keys, dtype=bool)
    fallback_ok[kcode[ok & leads]] = True
    contest_ok = np.zeros(n_keys, dtype=bool)
    contest_ok[kcode[ok & fallback]] = True
    # A name that was the primary name of a gene in another release and that HGNC/NCBI give
    # to another gene (previous symbol, alias) names two genes: when both exist at the target
    # release, neither source outranks the other (no release says which meaning the data
    # had), so both are candidates. A current name keeps its priority.
    main_tier = np.full(n_keys, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(main_tier, kcode[~fallback], rows["tier"].astype(np.int64)[~fallback])
    contested = main_ok & contest_ok & (main_tier == TIER_OTHER_RELEASE)
    # per key: the main anchors if any of them reaches a target, else the fallback ones if
    # they do, else the main anchors (to say why nothing was reached)
    use = np.where(main_ok[kcode], ~fallback, np.where(fallback_ok[kcode], leads, ~fallback))
    use |= contested[kcode] & fallback & ok
    rows, tcode, kcode, ok = rows.where(use), tcode[use], kcode[use], ok[use]
    any_ok = main_ok | fallback_ok

    # Several anchored genes, some of which are gone: the survivors are no confident answer
    # (the query may have meant a gene that was replaced without a recorded successor).
    lost_rows = ~ok & any_ok[kcode] & pd.isna(rows["target_gene"])
    lost = np.full(n_keys, "", dtype=object)
    if lost_rows.any():
        lost_frame = pd.DataFrame({"kcode": kcode[lost_rows], "gene": rows["gene"][lost_rows]})
        lost_frame = lost_frame.drop_duplicates().sort_values(["kcode", "gene"])
        lk = lost_frame["kcode"].to_numpy()
        lstarts, lcounts = _runs(lk)
        lost[lk[lstarts]] = _join_runs(lost_frame["gene"].to_numpy(dtype=object), lstarts, lcounts)

    bar.update()
    # -- successes: rank candidates per key, one row per (key, target) -----------------------
    success = rows.where(ok)
    s_tcode = tcode[ok]
    s_reason = _reason(success, reread=anchor != release)
    score = success["score"].astype(float)
    # main anchors before contesting ones: a gene both reach keeps the main reason
    order = np.lexsort((success["fallback"].astype(bool), s_tcode, success["hops"], -score, kcode[ok]))
    sk = kcode[ok][order]
    st = s_tcode[order]
    first_of_pair = np.ones(len(order), dtype=bool)
    first_of_pair[1:] = (sk[1:] != sk[:-1]) | (st[1:] != st[:-1])
    pick = order[first_of_pair]
    per_target = success.take(pick)
    per_target_target = np.asarray(tuniques, dtype=object)[s_tcode[pick]]
    pk = sk[first_of_pair]
    starts, counts = _runs(pk)
    pscore = per_target["score"].astype(float)
    second = np.full(len(starts), np.nan)
    multi = counts > 1
    second[multi] = pscore[starts[multi] + 1]

    n_targets = np.zeros(n_keys, dtype=np.int64)
    targets = np.full(n_keys, "", dtype=object)
    top = np.full(n_keys, "", dtype=object)
    breakable = np.zeros(n_keys, dtype=bool)
    genes = np.full(n_keys, "", dtype=object)
    symbol = np.full(n_keys, "", dtype=object)
    reason = np.full(n_keys, "not_found", dtype=object)
    retired_in = np.full(n_keys, np.nan)

    at = pk[starts]
    n_targets[at] = counts
    targets[at] = _join_runs(per_target_target, starts, counts)
    top[at] = per_target_target[starts]
    breakable[at] = np.isnan(second) | (pscore[starts] > second + _SCORE_EPS)
    genes[at] = _join_runs(per_target["target_gene"].astype(object), starts, counts)
    symbol[at] = per_target["symbol"].astype(object)[starts]
    reason[at] = s_reason[pick][starts]
    reason[lost != ""] = "candidates_retired"

    bar.update()
    # -- failures: why nothing was reached --------------------------------------------------
    failed = ~ok & ~any_ok[kcode]
    failure = rows.where(failed)
    end_reason = failure["end_reason"].astype(object)
    fail_reason = np.select(
        [
            pd.notna(failure["target_gene"]),
            pd.notna(end_reason),
            failure["direction"] == "backward",
        ],
        ["no_target_name", end_reason, "not_yet_created"],
        "retired",
    )
    # a name pointing at a gene that is in no covered release (alternate haplotypes, newer IDs)
    failed_genes = pa.array(np.asarray(failure["gene"], dtype=object), type=pa.string(), from_pandas=True)
    no_span = ~pc.fill_null(pc.is_in(failed_genes, value_set=_gene_rows(snapshot)[0]), False).to_numpy(
        zero_copy_only=False
    )
    fail_reason[no_span & (fail_reason != "no_target_name")] = "unknown_gene"
    rank = np.select(
        [
            fail_reason == "no_target_name",
            np.isin(fail_reason, ["retired", "outside_table_scope", "presence_undetermined"]),
            fail_reason == "not_yet_created",
        ],
        [0, 1, 2],
        3,
    )
    gcode = pd.factorize(failure["gene"], sort=True)[0]
    fk = kcode[failed]
    order = np.lexsort((gcode, rank, fk))
    fk, gcode = fk[order], gcode[order]
    fstarts, _ = _runs(fk)
    at = fk[fstarts]
    reason[at] = fail_reason[order][fstarts]
    symbol[at] = failure["symbol"].astype(object)[order][fstarts]
    retired = failure["retired_in"].astype(float)[order]
    if len(fstarts):
        retired_in[at] = np.fmin.reduceat(retired, fstarts)
    genes_sorted = failure["gene"].astype(object)[order]
    first_gene = np.ones(len(fk), dtype=bool)
    first_gene[1:] = (fk[1:] != fk[:-1]) | (gcode[1:] != gcode[:-1])
    gstarts, gcounts = _runs(fk[first_gene])
    genes[fk[first_gene][gstarts]] = _join_runs(genes_sorted[first_gene], gstarts, gcounts)

    # -- assemble ----------------------------------------------------------------------------
    if namespaces is None:
        namespaces = sorted({str(q) for q in pd.unique(meta["qns"])})

    def with_missing(values: np.ndarray, fill: object) -> np.ndarray:
        return np.append(values, np.array([fill], dtype=values.dtype))

    def strings(values: np.ndarray) -> pa.Array:
        """Strings with nulls (``None``, NaN) as ``""``, and the not-found row."""
        arrow = pc.fill_null(pa.array(values, type=pa.string(), from_pandas=True), "")
        return pa.concat_arrays([arrow, pa.array([""], type=pa.string())])

    index = ResolutionIndex(
        release=release,
        namespace=namespace,
        keys=meta["keys_arrow"],
        hashes=meta["hashes"],
        note=with_missing(_codes(meta["note"], PARSE_NOTES), 0),
        query_namespace=with_missing(_codes(meta["qns"], namespaces), -1),
        namespaces=namespaces,
        n_targets=with_missing(n_targets, 0),
        targets=strings(targets),
        top=strings(top),
        breakable=with_missing(breakable, False),
        genes=strings(genes),
        symbol=strings(symbol),
        reason=with_missing(_codes(reason, list(REASON_CODE)), REASON_CODE["not_found"]),
        found_first=with_missing(meta["first"], np.nan),
        found_last=with_missing(meta["last"], np.nan),
        retired_in=with_missing(retired_in, np.nan),
        lost=strings(lost),
        anchor_release=anchor,
    )
    bar.update()
    bar.close()
    logger.debug("resolved %d keys for release %s (names of %s), %s", n_keys, release, anchor, namespace)
    return index


def get_index(
    snapshot: Snapshot,
    release: int,
    namespace: str,
    anchor: int | None = None,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
) -> ResolutionIndex:
    """The :class:`~idtrack_sc.resolve.ResolutionIndex` of *every* key of a snapshot for a release and namespace.

    ``anchor``: read names in their meaning at this release (default: the target
    ``release``). Built in memory once per snapshot and session (several seconds for a full
    snapshot). :func:`~idtrack_sc.convert` does not need it: it resolves only the keys its
    queries reach (``Resolved``), with the same answers.
    """
    min_evidence = check_min_evidence(min_evidence)
    anchor = release if anchor is None else int(anchor)
    return _full_index(snapshot, release, namespace, anchor, min_evidence)


@cached_per_snapshot
def _full_index(snapshot: Snapshot, release: int, namespace: str, anchor: int, min_evidence: str) -> ResolutionIndex:
    """:func:`build_index`, with the cyclic garbage collector paused and a log line first."""
    logger.info(
        "resolving all %d keys of the %s snapshot for release %s, %s (a few seconds)",
        len(key_index(snapshot).all_codes()),
        snapshot.organism,
        release,
        namespace,
    )
    # The build allocates millions of short-lived objects; the cyclic garbage collector
    # would rescan them all again and again (it doubled the build time), and the build
    # creates no reference cycles worth collecting.
    with _gc_paused():
        return build_index(snapshot, release, namespace, anchor, min_evidence)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside a ``with`` block."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


#: Arrays of a :class:`ResolutionIndex` with one value per key (and the not-found row).
_ARRAYS = ("note", "query_namespace", "n_targets", "breakable", "reason", "found_first", "found_last", "retired_in")
_STRINGS = ("targets", "top", "genes", "symbol", "lost")


class Resolved:
    """The keys of one target resolved so far in this session, as a growing :class:`ResolutionIndex`.

    :meth:`answer` resolves the keys of a batch that are not resolved yet (one
    :func:`resolve_keys` call for all of them) and returns the index rows of the batch. Holds
    no reference to its snapshot (it is kept in the snapshot's cache).
    """

    def __init__(self, n_keys: int, release: int, namespace: str, anchor: int, min_evidence: str) -> None:
        self.target = (release, namespace, anchor, min_evidence)
        self.row_of = np.full(n_keys + 1, 0, dtype=np.int64)  # last entry: code -1 (not a key)
        self.known = np.zeros(n_keys + 1, dtype=bool)
        self.known[-1] = True
        self.index: ResolutionIndex | None = None
        self._lock = threading.Lock()

    def answer(self, snapshot: Snapshot, codes: np.ndarray) -> tuple[ResolutionIndex, np.ndarray]:
        """The index and, per code (``-1``: not a key), its row (the not-found row for ``-1``)."""
        with self._lock:
            need = codes[~self.known[codes]]  # code -1 reads the last entry, always known
            need = np.unique(need) if len(need) else need
            if len(need) or self.index is None:
                release, namespace, anchor, min_evidence = self.target
                if len(need) >= _BAR_KEYS:
                    logger.info("resolving %d identifiers for release %s, %s", len(need), release, namespace)
                keys = key_index(snapshot)
                with _gc_paused():
                    new = resolve_keys(snapshot, need, release, namespace, anchor, min_evidence, keys.namespaces)
                self._append(new, need)
            index = self.index
            rows = self.row_of[codes]
        return index, rows

    def _append(self, new: ResolutionIndex, codes: np.ndarray) -> None:
        old = self.index
        start = 0 if old is None else old.missing
        if old is not None and len(codes):
            values: dict[str, Any] = {
                "keys": pa.concat_arrays([old.keys, new.keys]),
                "hashes": old.hashes.append(new.hashes),
            }
            for name in _ARRAYS:
                values[name] = np.concatenate([getattr(old, name)[:-1], getattr(new, name)])
            for name in _STRINGS:
                values[name] = pa.concat_arrays([getattr(old, name).slice(0, start), getattr(new, name)])
            new = ResolutionIndex(
                release=new.release,
                namespace=new.namespace,
                namespaces=new.namespaces,
                anchor_release=new.anchor_release,
                **values,
            )
        elif old is not None:
            new = old
        self.index = new
        self.row_of[codes] = start + np.arange(len(codes))
        self.known[codes] = True
        self.row_of[-1] = new.missing


def resolved(snapshot: Snapshot, release: int, namespace: str, anchor: int, min_evidence: str) -> Resolved:
    """The session's :class:`Resolved` keys of ``snapshot`` for one target (created empty)."""
    return _resolved(snapshot, release, namespace, anchor, min_evidence)


@cached_per_snapshot
def _resolved(snapshot: Snapshot, release: int, namespace: str, anchor: int, min_evidence: str) -> Resolved:
    return Resolved(len(key_index(snapshot)), release, namespace, anchor, min_evidence)
