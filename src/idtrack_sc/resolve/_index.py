"""Stages 2–5 of resolution, precomputed for every identifier a snapshot knows.

For one target release and namespace, :func:`build_index` resolves *every* key of the
snapshot at once with table joins (anchor → time travel → target → classify), so that
converting a batch of queries is a single hash lookup per query. The history graph is walked
once per (snapshot, release) as a frontier of joins over all retired genes together, never
once per query.

Ranking rule (documented in ``docs/concepts.md``): candidates are ordered by history score
(product of Ensembl's mapping scores along the path; 1 when the ID did not change), then by
the number of history steps, then by target value. ``strategy="best"`` keeps the first
candidate only when its score is strictly higher than the second's; otherwise the query stays
ambiguous (``1:n``).
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._vocab import PARSE_NOTES, REASON_CODE

if TYPE_CHECKING:
    from ..snapshot import Snapshot

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
#: Which source names a gene when several do at the same release (lower first).
SOURCE_PRIORITY = {"ensembl_dump": 0, "gtf": 1, "gene_table": 2, "hgnc": 3, "ncbi_gene_info": 4, "ncbi_gene_history": 5}
#: Anchor tiers: a symbol means what it meant when it was valid.
TIER_CURRENT, TIER_OTHER_RELEASE, TIER_PREVIOUS, TIER_ALIAS = 0, 1, 2, 3
MAX_HISTORY_STEPS = 64
_SCORE_EPS = 1e-6


def hash_keys(keys: np.ndarray) -> np.ndarray:
    """64-bit hashes of string keys (vectorized, platform-independent)."""
    return pd.util.hash_array(keys, categorize=False).view(np.int64)


@dataclass
class ResolutionIndex:
    """Answers for every key a snapshot knows, for one target release and namespace.

    Per-key arrays have one extra last row, the answer for a key that is not found, so a
    batch is answered by one ``take`` per column. Keys are found through 64-bit hashes in an
    integer hash table (fast and cache-friendly) and then compared as strings, so a hash
    collision can never return a wrong row.
    """

    release: int
    namespace: str
    keys: pa.Array  # upper-case identifiers, unique
    hashes: pd.Index  # int64 hashes of keys, same order
    note: np.ndarray  # int8 code into PARSE_NOTES: "version_stripped" for ENSG….18 keys
    query_namespace: np.ndarray  # int8 code into namespaces
    namespaces: list[str]
    n_targets: np.ndarray
    targets: pa.Array  # "|"-joined, ranked
    top: pa.Array  # first ranked target ("" if none)
    breakable: np.ndarray  # bool: the ranking rule separates the first from the second
    genes: pa.Array  # "|"-joined Ensembl genes behind the ranked targets
    symbol: pa.Array  # display symbol of the top target gene at the target release
    reason: np.ndarray  # int8 code into REASON_CODES
    found_first: np.ndarray  # float, NaN = unknown
    found_last: np.ndarray
    retired_in: np.ndarray
    lost: pa.Array  # anchored genes that did not survive, when others did ("|"-joined)

    @property
    def missing(self) -> int:
        """Row position of the "not found" answer."""
        return len(self.keys)

    def lookup(self, keys: np.ndarray, as_arrow: pa.Array | None = None) -> np.ndarray:
        """Positions of keys (object array of ``str``, no nulls), ``-1`` where absent.

        ``as_arrow`` may give the same keys as an Arrow array, to save a conversion.
        """
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        found = self.hashes.get_indexer(hash_keys(keys)).astype(np.int64)
        hit = np.flatnonzero(found >= 0)
        if len(hit):
            cand = self.keys.take(pa.array(found[hit]))
            hit_keys = pa.array(keys[hit], type=pa.string()) if as_arrow is None else as_arrow.take(pa.array(hit))
            same = pc.equal(cand, hit_keys).to_numpy(zero_copy_only=False)
            found[hit[~same]] = -1
        return found

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Boolean membership of keys."""
        return self.lookup(keys) >= 0


# --------------------------------------------------------------------------------------------
# helpers on the snapshot's tables
# --------------------------------------------------------------------------------------------
def _gene_spans(snapshot: Snapshot) -> pd.DataFrame:
    """Per gene ID: first and last covered release in which it exists."""
    genes = snapshot.genes
    return genes.groupby("gene_id", sort=True).agg(first=("first_release", "min"), last=("last_release", "max"))


def alive_at(snapshot: Snapshot, release: int) -> pd.Index:
    """Gene IDs that exist in ``release``."""
    genes = snapshot.genes
    mask = (genes["first_release"] <= release) & (genes["last_release"] >= release)
    return pd.Index(genes.loc[mask, "gene_id"].unique())


def _next_covered(releases: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The first covered release strictly after each value (NaN where none)."""
    pos = np.searchsorted(releases, after, side="right")
    out = np.full(len(after), np.nan)
    ok = pos < len(releases)
    out[ok] = releases[pos[ok]]
    return out


def names_at(snapshot: Snapshot, namespace: str, release: int) -> pd.Series:
    """One name per gene in ``namespace`` at ``release`` (gene ID -> value).

    Dated primary names valid at the release come first, then undated primary names
    (HGNC, NCBI: current as of the source's date). For stable accession namespaces
    (everything but ``symbol``: an HGNC or Entrez ID does not change with the Ensembl
    release) the name of the nearest dated release comes last. Among equals the
    higher-priority source, then the alphabetically first value, so the choice is
    deterministic.
    """
    cached = snapshot._derived.get(("names_at", namespace, release))
    if cached is not None:
        return cached
    names = snapshot.names
    sel = names[(names["namespace"] == namespace) & (names["kind"] == "primary")]
    first = sel["first_release"].to_numpy(dtype=float)
    last = sel["last_release"].to_numpy(dtype=float)
    dated = ~np.isnan(first)
    valid = dated & (first <= release) & (last >= release)
    distance = np.where(dated, np.minimum(np.abs(first - release), np.abs(last - release)), 0.0)
    # 0: valid at the release; 1: undated; 2 + distance: another release (accessions only)
    rank = np.where(valid, 0.0, np.where(~dated, 1.0, 2.0 + distance))
    usable = rank < 2 if namespace == "symbol" else np.ones(len(sel), dtype=bool)
    pick = sel[usable].assign(_rank=rank[usable], _src=sel["source"][usable].map(SOURCE_PRIORITY).fillna(9).to_numpy())
    pick = pick.sort_values(["gene_id", "_rank", "_src", "value"], kind="stable")
    out = pick.drop_duplicates("gene_id").set_index("gene_id")["value"].astype(object)
    snapshot._derived[("names_at", namespace, release)] = out
    return out


# --------------------------------------------------------------------------------------------
# time travel
# --------------------------------------------------------------------------------------------
def travel(snapshot: Snapshot, release: int, origins: pd.Index) -> pd.DataFrame:
    """Follow history from each origin gene to the genes that exist at ``release``.

    Origins alive at ``release`` map to themselves. Others go forward along Ensembl's
    old→new events (when they ended before the release) or backward along new→old events
    (when they began after it), all origins together, one join per history step.

    Returns
    -------
    Columns ``origin, target, score, hops, direction`` (target null where history ends with
    no living gene) plus ``retired_in`` for forward dead ends.
    """
    alive = alive_at(snapshot, release)
    spans = _gene_spans(snapshot).reindex(origins)
    is_alive = origins.isin(alive)
    result = [
        pd.DataFrame(
            {
                "origin": origins[is_alive],
                "target": origins[is_alive],
                "score": 1.0,
                "hops": 0,
                "direction": "none",
            }
        )
    ]
    dead = origins[~is_alive]
    dead_last = spans["last"].to_numpy(dtype=float)[~is_alive]
    dead_first = spans["first"].to_numpy(dtype=float)[~is_alive]
    backward = dead_first > release  # began after the target release
    events = snapshot.events
    links = events[events["old_id"].notna() & events["new_id"].notna() & (events["old_id"] != events["new_id"])]
    links = links.assign(score=links["score"].fillna(1.0).astype(float))

    for direction, mask in (("forward", ~backward), ("backward", backward)):
        starts = dead[mask]
        if len(starts) == 0:
            continue
        if direction == "forward":
            edges = links[links["release"] <= release][["old_id", "new_id", "release", "score"]]
            edges = edges.set_axis(["src", "dst", "rel", "escore"], axis=1)
            frontier_rel = -np.inf
        else:
            edges = links[links["release"] > release][["new_id", "old_id", "release", "score"]]
            edges = edges.set_axis(["src", "dst", "rel", "escore"], axis=1)
            frontier_rel = np.inf
        frontier = pd.DataFrame({"origin": starts, "cur": starts, "cur_rel": frontier_rel, "score": 1.0, "hops": 0})
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
                }
            )
            landed = nxt["cur"].isin(alive).to_numpy()
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
            hits = hits.drop_duplicates(["origin", "target"])[["origin", "target", "score", "hops"]]
            hits["direction"] = direction
            result.append(hits)
        reached = set(result[-1]["origin"]) if found else set()
        ends = starts[~starts.isin(list(reached))]
        if len(ends):
            end_frame = pd.DataFrame(
                {"origin": ends, "target": None, "score": np.nan, "hops": 0, "direction": direction}
            )
            if direction == "forward":
                last = pd.Series(dead_last[mask], index=starts).reindex(ends).to_numpy()
                retired = _next_covered(np.asarray(snapshot.releases, dtype=float), np.nan_to_num(last, nan=-np.inf))
                end_frame["retired_in"] = np.where(np.isnan(last), np.nan, retired)
            result.append(end_frame)
    out = pd.concat(result, ignore_index=True)
    if "retired_in" not in out:
        out["retired_in"] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# anchors: which gene(s) a key names, and how
# --------------------------------------------------------------------------------------------
def _anchor_table(snapshot: Snapshot, release: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Every key with the gene(s) it names (``key, qns, gene, tier, kind, first, last, note``), and the sorted keys.

    The keys are returned beside the table, not in ``DataFrame.attrs``: pandas copies
    ``attrs`` on every operation.
    """
    latest = snapshot.latest_release
    genes = snapshot.genes
    spans = _gene_spans(snapshot)
    ids = pd.DataFrame(
        {
            "key": spans.index.str.upper(),
            "qns": "ensembl_gene",
            "gene": spans.index,
            "tier": TIER_CURRENT,
            "kind": "id",
            "first": spans["first"].to_numpy(dtype=float),
            "last": spans["last"].to_numpy(dtype=float),
            "note": "as_is",
        }
    )
    versioned = genes.dropna(subset=["version"])
    vkeys = pd.DataFrame(
        {
            "key": (versioned["gene_id"] + "." + versioned["version"].astype("int64").astype(str)).str.upper(),
            "qns": "ensembl_gene",
            "gene": versioned["gene_id"].to_numpy(),
            "tier": TIER_CURRENT,
            "kind": "id",
            "first": versioned["first_release"].to_numpy(dtype=float),
            "last": versioned["last_release"].to_numpy(dtype=float),
            "note": "version_stripped",
        }
    )
    ev = snapshot.events
    event_ids = pd.Index(pd.concat([ev["old_id"], ev["new_id"]]).dropna().unique()).difference(spans.index)
    only_events = pd.DataFrame(
        {
            "key": event_ids.str.upper(),
            "qns": "ensembl_gene",
            "gene": event_ids,
            "tier": TIER_CURRENT,
            "kind": "id",
            "first": np.nan,
            "last": np.nan,
            "note": "as_is",
        }
    )
    feats = snapshot.features
    fqns = feats["feature_type"].map({"transcript": "ensembl_transcript", "translation": "ensembl_protein"})
    features = pd.DataFrame(
        {
            "key": feats["feature_id"].str.upper(),
            "qns": fqns.fillna("ensembl_transcript").to_numpy(),
            "gene": feats["gene_id"].to_numpy(),
            "tier": TIER_CURRENT,
            "kind": feats["feature_type"].to_numpy(),
            "first": feats["first_release"].to_numpy(dtype=float),
            "last": feats["last_release"].to_numpy(dtype=float),
            "note": "as_is",
        }
    )

    names = snapshot.names
    first = names["first_release"].to_numpy(dtype=float)
    last = names["last_release"].to_numpy(dtype=float)
    dated = ~np.isnan(first)
    covers = dated & (first <= release) & (last >= release)
    distance = np.where(
        covers,
        0.0,
        np.where(dated, np.minimum(np.abs(first - release), np.abs(last - release)), abs(latest - release) + 0.5),
    )
    kind = names["kind"].to_numpy(dtype=object)
    tier = np.select(
        [kind == "primary", kind == "previous"],
        [np.where(distance == 0, TIER_CURRENT, TIER_OTHER_RELEASE), TIER_PREVIOUS],
        TIER_ALIAS,
    )
    named = pd.DataFrame(
        {
            "key": names["value"].str.upper().to_numpy(),
            "qns": names["namespace"].to_numpy(),
            "gene": names["gene_id"].to_numpy(),
            "tier": tier,
            "kind": kind,
            "first": first,
            "last": last,
            "note": "as_is",
            "_distance": np.where(kind == "primary", distance, 0.0),
        }
    )
    anchors = pd.concat([ids, vkeys, only_events, features, named], ignore_index=True)
    anchors["_distance"] = anchors["_distance"].fillna(0.0)
    anchors["_nsprio"] = anchors["qns"].map(QUERY_NAMESPACE_PRIORITY).fillna(_OTHER_NAMESPACE)
    # Integer key codes in sorted key order: every later sort and group works on integers.
    # factorize in Arrow: sorting 400k Python strings in numpy is several times slower
    key_arrow = pa.array(anchors["key"].to_numpy(dtype=object), type=pa.string())
    uniques = pc.unique(key_arrow)
    uniques = uniques.take(pc.array_sort_indices(uniques))
    codes = pc.index_in(key_arrow, value_set=uniques).to_numpy(zero_copy_only=False).astype(np.int64)
    uniques = uniques.to_numpy(zero_copy_only=False)
    anchors["kcode"] = codes
    anchors = anchors.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
    # Keep, per key, only the most specific namespace, then the best tier, then (primary
    # names) the release nearest the target: the symbol means what it meant then.
    best = anchors.groupby("kcode", sort=False)["_nsprio"].transform("min")
    anchors = anchors[anchors["_nsprio"] == best]
    best_tier = anchors.groupby("kcode", sort=False)["tier"].transform("min")
    main = anchors["tier"] == best_tier
    # A previous symbol stays as a fallback behind a primary name: when the gene the name
    # belonged to is gone (no recorded successor), HGNC's rename record still leads on.
    fallback = (best_tier <= TIER_OTHER_RELEASE) & (anchors["tier"] == TIER_PREVIOUS)
    anchors = anchors[main | fallback].assign(fallback=fallback[main | fallback])
    distance = anchors["_distance"].where(~anchors["fallback"], np.inf)
    nearest = distance.groupby(anchors["kcode"], sort=False).transform("min")
    anchors = anchors[anchors["fallback"] | (distance == nearest)]
    anchors = anchors.drop(columns=["_nsprio"]).reset_index(drop=True)
    return anchors, np.asarray(uniques, dtype=object)


# --------------------------------------------------------------------------------------------
# the index
# --------------------------------------------------------------------------------------------
def _reason(cand: pd.DataFrame) -> np.ndarray:
    """Reason for each successful candidate row (vectorized)."""
    kind = cand["kind"].to_numpy(dtype=object)
    moved = (cand["target_gene"] != cand["gene"]).to_numpy()
    direction = cand["direction"].to_numpy(dtype=object)
    renamed = (cand["tier"] == TIER_OTHER_RELEASE).to_numpy() & (cand["qns"] == "symbol").to_numpy()
    renamed &= cand["key"].to_numpy(dtype=object) != cand["symbol_upper"].to_numpy(dtype=object)
    return np.select(
        [
            moved & (direction == "backward"),
            moved,
            kind == "transcript",
            kind == "translation",
            (kind == "previous") & (cand["qns"] == "symbol").to_numpy(),
            kind == "previous",
            (kind == "alias") | (kind == "synonym"),
            renamed,
        ],
        [
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


def _candidates(snapshot: Snapshot, release: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Anchors of every key and the genes they reach at ``release`` (shared by namespaces).

    Returns the candidate rows (sorted by key code) and per-key metadata: the keys, their
    hashes, query namespace, parse note and the release range where each key was found.
    """
    cache_key = ("candidates", release)
    if cache_key not in snapshot._derived:
        anchors, keys = _anchor_table(snapshot, release)
        origins = pd.Index(anchors["gene"].dropna().unique())
        moves = travel(snapshot, release, origins)
        cand = anchors.merge(moves, left_on="gene", right_on="origin", how="left", sort=False)
        cand = cand.rename(columns={"target": "target_gene"})
        cand["symbol"] = cand["target_gene"].map(names_at(snapshot, "symbol", release))
        cand["symbol_upper"] = cand["symbol"].str.upper()
        main = anchors[~anchors["fallback"]]
        starts, _ = _runs(main["kcode"].to_numpy())  # sorted by key code; every key has main rows
        hashes = pd.Index(hash_keys(keys))
        if not hashes.is_unique:  # pragma: no cover - a 64-bit collision between two keys
            msg = "Two snapshot keys share a 64-bit hash; please report this snapshot."
            raise RuntimeError(msg)
        meta = {
            "anchors": anchors,  # for explanations
            "keys": keys,
            "keys_arrow": pa.array(keys, type=pa.string()),
            "hashes": hashes,
            "qns": main["qns"].to_numpy(dtype=object)[starts],
            "note": main["note"].to_numpy(dtype=object)[starts],
            "first": np.fmin.reduceat(main["first"].to_numpy(dtype=float), starts),
            "last": np.fmax.reduceat(main["last"].to_numpy(dtype=float), starts),
        }
        snapshot._derived[cache_key] = (cand, meta)
    return snapshot._derived[cache_key]


def build_index(snapshot: Snapshot, release: int, namespace: str) -> ResolutionIndex:
    """Resolve every key of ``snapshot`` to ``namespace`` at ``release`` (see module doc)."""
    cand, meta = _candidates(snapshot, release)
    keys = meta["keys"]
    n_keys = len(keys)
    if namespace == "ensembl_gene":
        target = cand["target_gene"]
    else:
        target = cand["target_gene"].map(names_at(snapshot, namespace, release))
    tcode, tuniques = pd.factorize(target, sort=True)  # -1 = no target
    kcode = cand["kcode"].to_numpy()
    ok = tcode >= 0
    fallback = cand["fallback"].to_numpy(dtype=bool)
    main_ok = np.zeros(n_keys, dtype=bool)
    main_ok[kcode[ok & ~fallback]] = True
    fallback_ok = np.zeros(n_keys, dtype=bool)
    fallback_ok[kcode[ok & fallback]] = True
    # per key: the main anchors if any of them reaches a target, else the fallback ones if
    # they do, else the main anchors (to say why nothing was reached)
    use = np.where(main_ok[kcode], ~fallback, np.where(fallback_ok[kcode], fallback, ~fallback))
    cand, tcode, kcode, ok = cand[use], tcode[use], kcode[use], ok[use]
    any_ok = main_ok | fallback_ok

    # Several anchored genes, some of which are gone: the survivors are no confident answer
    # (the query may have meant a gene that was replaced without a recorded successor).
    lost_rows = ~ok & any_ok[kcode] & cand["target_gene"].isna().to_numpy()
    lost = np.full(n_keys, "", dtype=object)
    if lost_rows.any():
        lost_frame = cand.loc[lost_rows, ["kcode", "gene"]].drop_duplicates().sort_values(["kcode", "gene"])
        lk = lost_frame["kcode"].to_numpy()
        lstarts, lcounts = _runs(lk)
        lost[lk[lstarts]] = _join_runs(lost_frame["gene"].to_numpy(dtype=object), lstarts, lcounts)

    # -- successes: rank candidates per key, one row per (key, target) -----------------------
    success = cand[ok].assign(target=np.asarray(tuniques, dtype=object)[tcode[ok]], tcode=tcode[ok])
    success["reason"] = _reason(success)
    score = success["score"].to_numpy(dtype=float)
    order = np.lexsort((success["tcode"].to_numpy(), success["hops"].to_numpy(), -score, success["kcode"].to_numpy()))
    success = success.iloc[order]
    sk = success["kcode"].to_numpy()
    st = success["tcode"].to_numpy()
    first_of_pair = np.ones(len(success), dtype=bool)
    first_of_pair[1:] = (sk[1:] != sk[:-1]) | (st[1:] != st[:-1])
    per_target = success[first_of_pair]
    pk = per_target["kcode"].to_numpy()
    starts, counts = _runs(pk)
    pscore = per_target["score"].to_numpy(dtype=float)
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
    targets[at] = _join_runs(per_target["target"].to_numpy(dtype=object), starts, counts)
    top[at] = per_target["target"].to_numpy(dtype=object)[starts]
    breakable[at] = np.isnan(second) | (pscore[starts] > second + _SCORE_EPS)
    genes[at] = _join_runs(per_target["target_gene"].to_numpy(dtype=object), starts, counts)
    symbol[at] = per_target["symbol"].to_numpy(dtype=object)[starts]
    reason[at] = per_target["reason"].to_numpy(dtype=object)[starts]
    reason[lost != ""] = "candidates_retired"

    # -- failures: why nothing was reached --------------------------------------------------
    failure = cand[~ok & ~any_ok[kcode]]
    fail_reason = np.select(
        [failure["target_gene"].notna().to_numpy(), (failure["direction"] == "backward").to_numpy()],
        ["no_target_name", "not_yet_created"],
        "retired",
    )
    # a name pointing at a gene that is in no covered release (alternate haplotypes, newer IDs)
    no_span = ~failure["gene"].isin(snapshot.genes["gene_id"]).to_numpy()
    fail_reason[no_span & (fail_reason != "no_target_name")] = "unknown_gene"
    rank = np.select(
        [fail_reason == "no_target_name", fail_reason == "retired", fail_reason == "not_yet_created"], [0, 1, 2], 3
    )
    gcode = pd.factorize(failure["gene"], sort=True)[0]
    fk = failure["kcode"].to_numpy()
    order = np.lexsort((gcode, rank, fk))
    fk, gcode = fk[order], gcode[order]
    fstarts, _ = _runs(fk)
    at = fk[fstarts]
    reason[at] = fail_reason[order][fstarts]
    symbol[at] = failure["symbol"].to_numpy(dtype=object)[order][fstarts]
    retired = failure["retired_in"].to_numpy(dtype=float)[order]
    if len(fstarts):
        retired_in[at] = np.fmin.reduceat(retired, fstarts)
    genes_sorted = failure["gene"].to_numpy(dtype=object)[order]
    first_gene = np.ones(len(fk), dtype=bool)
    first_gene[1:] = (fk[1:] != fk[:-1]) | (gcode[1:] != gcode[:-1])
    gstarts, gcounts = _runs(fk[first_gene])
    genes[fk[first_gene][gstarts]] = _join_runs(genes_sorted[first_gene], gstarts, gcounts)

    # -- assemble ----------------------------------------------------------------------------
    namespaces = sorted({str(q) for q in meta["qns"]})
    ns_code = {n: i for i, n in enumerate(namespaces)}
    note_code = {n: i for i, n in enumerate(PARSE_NOTES)}

    def with_missing(values: np.ndarray, fill: object) -> np.ndarray:
        return np.append(values, np.array([fill], dtype=values.dtype))

    def strings(values: np.ndarray) -> pa.Array:
        values = np.where(pd.isna(values), "", values)
        return pa.array([*values.tolist(), ""], type=pa.string())

    index = ResolutionIndex(
        release=release,
        namespace=namespace,
        keys=meta["keys_arrow"],
        hashes=meta["hashes"],
        note=with_missing(np.array([note_code[n] for n in meta["note"]], dtype=np.int8), 0),
        query_namespace=with_missing(np.array([ns_code[str(q)] for q in meta["qns"]], dtype=np.int8), -1),
        namespaces=namespaces,
        n_targets=with_missing(n_targets, 0),
        targets=strings(targets),
        top=strings(top),
        breakable=with_missing(breakable, False),
        genes=strings(genes),
        symbol=strings(symbol),
        reason=with_missing(np.array([REASON_CODE[r] for r in reason], dtype=np.int8), REASON_CODE["not_found"]),
        found_first=with_missing(meta["first"], np.nan),
        found_last=with_missing(meta["last"], np.nan),
        retired_in=with_missing(retired_in, np.nan),
        lost=strings(lost),
    )
    logger.info("resolution index for release %s, %s: %d keys", release, namespace, n_keys)
    return index


def get_index(snapshot: Snapshot, release: int, namespace: str) -> ResolutionIndex:
    """The :class:`~idtrack_sc.resolve.ResolutionIndex` of a snapshot for a release and namespace.

    Kept on the snapshot for the session and, for snapshot files, on disk in the cache
    (``idtrack_sc.resolve._persist``), so it is built once per snapshot, release,
    namespace and package version.
    """
    key = ("index", release, namespace)
    if key not in snapshot._derived:
        from ._persist import index_path, load_index, save_index

        path = index_path(snapshot, release, namespace)
        index = load_index(path, snapshot.sha256, release, namespace) if path is not None else None
        if index is None:
            # The build allocates millions of short-lived objects; the cyclic garbage collector
            # would rescan them all again and again (it doubled the build time), and the build
            # creates no reference cycles worth collecting.
            collecting = gc.isenabled()
            gc.disable()
            try:
                index = build_index(snapshot, release, namespace)
            finally:
                if collecting:
                    gc.enable()
            if path is not None:
                save_index(index, path, snapshot.sha256)
        snapshot._derived[key] = index
    return snapshot._derived[key]
