"""Ties between readings: one query, several plausible readings, different genes.

A query is read one way to find its key (as written, or repaired by
:func:`~idtrack_sc.resolve._parse.reinterpret`). Other readings may be just as plausible:
the spelling without a separator (``PARP-1`` -> ``PARP1``), a uniquified copy of a name in
the same batch (a name found as written that ends in ``-N``, beside its stem), another
symbol a spreadsheet
turns into the same date (``1-Mar`` from MARCH1 and MARC1; ``3/9`` month first and day
first), the name exactly as written where case folding found another gene's name (mouse
``AGT``, an alias, beside ``Agt``), or an approved HGNC symbol of a gene without an Ensembl
gene (``AAVS1``, also an alias of PPP1R12C). When the readings reach different genes, the
answer is a tie (``1:n``) with every candidate and a reason naming the conflict;
``strategy="best"`` keeps the query's own reading only when it ranks strictly first
(:data:`STRENGTH`); a rewrite never wins over it.

Everything is vectorized over the whole batch; Python runs only over the (few) conflicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..snapshot import upper_strings
from ._parse import ends_in_number, other_readings, suffix_stems
from ._snapshot_cache import cached_per_snapshot
from ._vocab import REASON_CODE, REASONS

if TYPE_CHECKING:
    from ..snapshot import Snapshot
    from ._resolution_index import ResolutionIndex

#: How strongly a reading names its gene, from the reason of its answer (lower is stronger):
#: a current primary name or an identifier, a primary name of another release, a previous
#: symbol, an alias; anything reached only through history last. The approved symbol of a
#: gene without an Ensembl gene counts as a current primary name.
STRENGTH = {
    "unchanged": 0,
    "version_stripped": 0,
    "par_y": 0,
    "from_transcript": 0,
    "from_protein": 0,
    "renamed": 1,
    "previous_symbol": 2,
    "previous_id": 2,
    "alias": 3,
}
_WEAKEST = 4
_STRENGTH_OF_CODE = np.array([STRENGTH.get(reason, _WEAKEST) for reason in REASONS], dtype=np.int8)
_KIND_STRENGTH = {"primary": 0, "previous": 2}  # anything else: an alias
#: Conflict reason of each kind of reading.
_CONFLICT = {
    "date_repaired": "date_conflict",
    "separator_removed": "separator_conflict",
    "suffix_stripped": "suffix_conflict",
    "case": "case_conflict",
    "geneless": "geneless_symbol_conflict",
}


@cached_per_snapshot
def _spelled_several_ways(snapshot: Snapshot) -> pd.DataFrame:
    """Symbol rows (``value, gene_id, kind, last_release``) whose letters the sources write in several ways.

    The snapshot's ``spellings`` table (stored by the writer, schema 4; computed from the
    names table for older files): only such rows can differ by case.
    """
    return snapshot.spellings().to_pandas()


@cached_per_snapshot
def case_readings(snapshot: Snapshot) -> pd.DataFrame:
    """Symbols whose exact spelling names other genes than another spelling of the same letters.

    Only keys (upper case) written in several ways whose strongest genes differ: mouse
    ``Agt`` (primary) and ``AGT`` (an alias of another gene), human ``ACTL6`` (a previous
    symbol) and ``Actl6`` (an alias). Indexed by the exact spelling; columns ``gene`` (one
    row per gene) and ``strength`` (:data:`STRENGTH` of its strongest kind; a primary name
    not current at the snapshot's newest release counts as a former one).
    """
    sym = _spelled_several_ways(snapshot)
    if sym.empty:
        return pd.DataFrame({"gene": pd.Series(dtype=object), "strength": pd.Series(dtype=np.int8)})
    value = sym["value"].astype(str).to_numpy(dtype=object)
    strength = sym["kind"].map(_KIND_STRENGTH).fillna(STRENGTH["alias"]).to_numpy(dtype=np.int8)
    # a primary name no longer current at the snapshot's newest release is a former name
    last = sym["last_release"].to_numpy(dtype=float)
    former = (strength == 0) & ~np.isnan(last) & (last < snapshot.latest_release)
    strength = np.where(former, STRENGTH["renamed"], strength).astype(np.int8)
    frame = pd.DataFrame({"value": value, "gene": sym["gene_id"].to_numpy(dtype=object), "strength": strength})
    frame["upper"] = upper_strings(frame["value"])
    # the strongest reading of each exact spelling
    frame = frame[frame["strength"] == frame.groupby("value")["strength"].transform("min")]
    spellings = frame.groupby("upper")["value"].nunique()
    frame = frame[frame["upper"].isin(spellings.index[spellings > 1])]
    genes = frame.sort_values("gene").groupby("value")["gene"].agg("|".join)
    differs = frame.assign(genes=frame["value"].map(genes)).groupby("upper")["genes"].nunique()
    frame = frame[frame["upper"].isin(differs.index[differs > 1])]
    return frame.drop_duplicates(["value", "gene"]).set_index("value")[["gene", "strength"]].sort_index()


@cached_per_snapshot
def _case_values(snapshot: Snapshot) -> pa.Array:
    """The spellings of :func:`case_readings`, as an Arrow array (unique)."""
    return pa.array(pd.unique(case_readings(snapshot).index.to_numpy(dtype=object)), type=pa.string())


@cached_per_snapshot
def geneless_symbols(snapshot: Snapshot) -> pd.Series:
    """HGNC ID by upper-case approved HGNC symbol, for genes without an Ensembl gene (manifest)."""
    table = snapshot.manifest.get("geneless_symbols") or {}
    symbols = pd.Index([str(symbol).upper() for symbol in table], dtype=object)
    return pd.Series([str(hgnc_id) for hgnc_id in table.values()], index=symbols, dtype=object)


@dataclass
class Ties:
    """Conflicting readings found in a batch: the queries left ``1:n`` (``tied``), with their merged candidates."""

    tied: np.ndarray
    n_targets: np.ndarray
    targets: list[str]
    genes: list[str]
    lost: list[str]
    reason: np.ndarray


def _rows_of(index: ResolutionIndex, keys: pd.Index) -> np.ndarray:
    """A flag per index row (and the not-found row): its key is one of ``keys``."""
    flags = np.zeros(index.missing + 1, dtype=bool)
    found = index.lookup(pd.unique(keys.to_numpy(dtype=object)))
    flags[found[found >= 0]] = True
    return flags


def _previous_copy(name: str) -> str:
    """The name a uniquified copy follows: ``X-1`` -> ``X``, ``X-3`` -> ``X-2``, ``X.2`` -> ``X.1``."""
    match = re.match(r"^(.*)([.\-])(\d{1,3})$", name)
    if match is None:  # pragma: no cover - only names ending in a number get here
        return name
    stem, sep, number = match.groups()
    return stem if int(number) <= 1 else f"{stem}{sep}{int(number) - 1}"


def _trimmed(given: pa.Array, positions: np.ndarray) -> np.ndarray:
    """The queries at ``positions``, trimmed, case kept (object array)."""
    values = pc.utf8_trim_whitespace(given.take(pa.array(positions, type=pa.int64())))
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


def _split(value: str) -> list[str]:
    return value.split("|") if value else []


@dataclass
class Readings:
    """The other readings of a batch's queries, computed once (:func:`keys_to_resolve`) and read by :func:`find_ties`.

    ``live``: the batch positions of the queries they were computed for (ascending); ``at``,
    ``keys``, ``notes``: batch position, key and parse note of every rewrite (date and
    separator readings, in :func:`~idtrack_sc.resolve._parse.other_readings` order);
    ``stems`` and ``ending``: per query of ``live``, the stem of a uniquified copy (or
    ``None``) and whether the key ends in a number.
    """

    live: np.ndarray
    at: np.ndarray
    keys: np.ndarray
    notes: np.ndarray
    stems: np.ndarray
    ending: np.ndarray


def keys_to_resolve(
    snapshot: Snapshot, keys: np.ndarray, normalized: pa.Array, given: pa.Array, positions: np.ndarray | None = None
) -> tuple[np.ndarray, Readings | None]:
    """Every other key :func:`find_ties` may look up for these queries (unique; some unknown), and the readings.

    Resolution is query-driven: the answers :func:`find_ties` compares must be resolved with
    the batch's own keys, in the same pass. A superset is fine (every rewrite of every query,
    the stem of every copy, the genes of every case reading); keys the snapshot does not know
    cost nothing. ``positions``: where these queries stand in the batch (ascending); with
    it, the readings are returned for :func:`find_ties` (element-wise, so the same as
    computed there for any subset of the queries).
    """
    ending = ends_in_number(normalized)
    alt_at, alt_keys, alt_notes = other_readings(keys, normalized, ending)
    stems = suffix_stems(keys, normalized, ending)
    parts = [np.asarray(alt_keys, dtype=object), stems[stems != None].astype(object)]  # noqa: E711 - element-wise
    case = case_readings(snapshot)
    if len(case):
        # the few spellings with case readings, looked for in Arrow: only those in the batch come out
        trimmed = pc.utf8_trim_whitespace(given)
        present = trimmed.filter(pc.fill_null(pc.is_in(trimmed, value_set=_case_values(snapshot)), False))
        if len(present):
            written = pd.Index(np.asarray(pc.unique(present).to_numpy(zero_copy_only=False), dtype=object))
            genes = case.loc[case.index.intersection(written), "gene"]
            parts.append(genes.str.upper().to_numpy(dtype=object))
    wanted = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
    wanted = pd.unique(wanted[pd.notna(wanted)]).astype(object)
    if positions is None:
        return wanted, None
    return wanted, Readings(positions, positions[alt_at], np.asarray(alt_keys, dtype=object), alt_notes, stems, ending)


def find_ties(
    snapshot: Snapshot,
    index: ResolutionIndex,
    keys: np.ndarray,
    normalized: pa.Array,
    given: pa.Array,
    rows: np.ndarray,
    as_written: np.ndarray,
    strategy: str,
    readings: Readings | None = None,
) -> Ties:
    """Compare every plausible reading of the queries with the one taken (see module doc).

    Parameters
    ----------
    keys, normalized, given
        The normalized keys (as NumPy and Arrow arrays) and the queries as given (case kept),
        for all queries.
    rows
        The index row each query was answered from (``index.missing`` where not found).
    as_written
        Queries whose row is their key as written (no repair): case readings apply to those.
    readings
        The batch's other readings from :func:`keys_to_resolve` (computed here when ``None``).
    """
    n_targets = index.n_targets
    reached = np.flatnonzero((rows != index.missing) & (n_targets[rows] > 0))
    # readings as (query position, index row, strength, kind); index.missing = no Ensembl gene
    pos_parts, row_parts, strength_parts, kind_parts = [], [], [], []

    # A current name (or an identifier) found as written is read no other way: the separator
    # of MIR509-1 is part of its approved symbol, not a spelling of MIR5091.
    reached_strength = _STRENGTH_OF_CODE[index.reason[rows[reached]]]
    open_to = reached[~as_written[reached] | (reached_strength > 0)]
    open_keys = normalized.take(pa.array(open_to))
    if readings is None:
        ending = ends_in_number(open_keys)
        alt_at, alt_keys, alt_notes = other_readings(keys[open_to], open_keys, ending)
        alt_pos = open_to[alt_at]
    else:  # computed once for the batch: the readings of the queries open to them
        at_live = np.full(len(keys), -1, dtype=np.int64)
        at_live[readings.live] = np.arange(len(readings.live))
        ending = readings.ending[at_live[open_to]]
        is_open = np.zeros(len(keys), dtype=bool)
        is_open[open_to] = True
        sel = is_open[readings.at]
        alt_pos, alt_keys, alt_notes = readings.at[sel], readings.keys[sel], readings.notes[sel]
    if len(alt_pos):
        alt_rows = index.lookup(alt_keys)
        pos = alt_pos
        ok = (alt_rows >= 0) & (alt_rows != rows[pos])
        ok[ok] = n_targets[alt_rows[ok]] > 0
        pos_parts.append(pos[ok])
        row_parts.append(alt_rows[ok])
        strength_parts.append(_STRENGTH_OF_CODE[index.reason[alt_rows[ok]]])
        kind_parts.append(alt_notes[ok])

    written = reached[as_written[reached]]
    # the queries found as written among those open to other readings (a subset of open_to)
    weak_at = np.flatnonzero(as_written[open_to])
    weak = open_to[weak_at]
    if readings is None:
        stems = suffix_stems(keys[weak], open_keys.take(pa.array(weak_at)), ending[weak_at])
    else:
        stems = readings.stems[at_live[weak]]
    copies = np.flatnonzero(stems != None)  # noqa: E711 - element-wise
    if len(copies):
        # found as written, and also a uniquified copy of a name in the batch (anndata, Seurat
        # and make.unique keep the first copy's name unchanged): TBCE-1 beside TBCE
        present = np.zeros(index.missing + 1, dtype=bool)
        present[rows[written]] = True
        present[index.missing] = False
        pos = weak[copies]
        stem_rows = index.lookup(stems[copies].astype(object))
        ok = (stem_rows >= 0) & (stem_rows != rows[pos])
        ok[ok] = present[stem_rows[ok]] & (n_targets[stem_rows[ok]] > 0)
        if ok.any():
            # a copy repeats its stem exactly, case included (Bcl9-2 is no copy of BCL9), and
            # comes after the copy before it: X-2 beside X-1 (anndata, Seurat, make.unique
            # number copies in order); the few candidates are checked one by one
            copy_of = [_previous_copy(q) for q in _trimmed(given, pos[ok])]
            wanted = pa.array(copy_of, type=pa.string())
            trimmed = pc.utf8_trim_whitespace(given)
            held = set(trimmed.filter(pc.fill_null(pc.is_in(trimmed, value_set=wanted), False)).to_pylist())
            ok[ok] = np.array([c in held for c in copy_of], dtype=bool)
        pos_parts.append(pos[ok])
        row_parts.append(stem_rows[ok])
        strength_parts.append(_STRENGTH_OF_CODE[index.reason[stem_rows[ok]]])
        kind_parts.append(np.full(int(ok.sum()), "suffix_stripped", dtype=object))

    case = case_readings(snapshot)
    if len(case) and len(written):
        # a flag per index row first (few keys); only the queries on flagged rows are trimmed
        # and compared as written
        written = written[_rows_of(index, case.index.str.upper())[rows[written]]]
        asked = pd.DataFrame({"pos": written, "value": _trimmed(given, written)})
        sub = asked.merge(case.reset_index(), on="value", how="inner", sort=False)
        pos = sub["pos"].to_numpy(dtype=np.int64)
        gene_rows = index.lookup(sub["gene"].str.upper().to_numpy(dtype=object))
        ok = (gene_rows >= 0) & (gene_rows != rows[pos])
        pos_parts.append(pos[ok])
        row_parts.append(gene_rows[ok])
        strength_parts.append(sub["strength"].to_numpy(dtype=np.int8)[ok])
        kind_parts.append(np.full(int(ok.sum()), "case", dtype=object))

    geneless = geneless_symbols(snapshot)
    if len(geneless):
        # an approved symbol without an Ensembl gene contests a weaker name of another gene
        flagged = _rows_of(index, geneless.index)
        hit = reached[flagged[rows[reached]]]
        hit = hit[_STRENGTH_OF_CODE[index.reason[rows[hit]]] > 0]
        pos_parts.append(hit)
        row_parts.append(np.full(len(hit), index.missing, dtype=np.int64))
        strength_parts.append(np.zeros(len(hit), dtype=np.int8))
        kind_parts.append(np.full(len(hit), "geneless", dtype=object))

    empty = np.zeros(0, dtype=np.int64)
    if not pos_parts or not sum(len(p) for p in pos_parts):
        return Ties(empty, empty, [], [], [], empty)
    pos = np.concatenate(pos_parts)
    alt_row = np.concatenate(row_parts).astype(np.int64)
    strength = np.concatenate(strength_parts).astype(np.int8)
    kind = np.concatenate(kind_parts).astype(object)
    # only readings that reach other genes conflict (SEPT7 and SEP7 both reach SEPTIN7):
    # compared in Arrow, so that Python sees the (few) conflicting queries only
    same = pc.equal(index.genes.take(pa.array(alt_row)), index.genes.take(pa.array(rows[pos])))
    differ = (alt_row == index.missing) | ~pc.fill_null(same, False).to_numpy(zero_copy_only=False)
    pos, alt_row, strength, kind = pos[differ], alt_row[differ], strength[differ], kind[differ]
    involved = np.unique(np.concatenate([alt_row, rows[pos], [index.missing]]))
    at = dict(zip(involved.tolist(), range(len(involved)), strict=True))
    gene_of = index.genes.take(pa.array(involved)).to_pylist()
    target_of = index.targets.take(pa.array(involved)).to_pylist()
    lost_of = index.lost.take(pa.array(involved)).to_pylist()
    order = np.lexsort((strength, pos))
    pos, alt_row, strength, kind = pos[order], alt_row[order], strength[order], kind[order]

    tied, tied_n, tied_targets, tied_genes, tied_lost, tied_reason = [], [], [], [], [], []
    change = np.ones(len(pos), dtype=bool)
    change[1:] = pos[1:] != pos[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(pos)) if len(pos) else starts
    for start, end in zip(starts, ends, strict=True):  # the conflicts only
        p = int(pos[start])
        first = int(rows[p])
        readings = [(first, int(_STRENGTH_OF_CODE[index.reason[first]]), None)]
        readings += [(int(alt_row[i]), int(strength[i]), kind[i]) for i in range(start, end)]
        # a reading conflicts when it adds a gene (one whose genes are among those already
        # collected changes nothing: mouse Aip1, an alias of one of AIP1's candidates)
        collected = set(_split(gene_of[at[first]]))
        distinct = [readings[0]]
        for reading in readings[1:]:
            if reading[0] == index.missing:
                distinct.append(reading)
                continue
            found = set(_split(gene_of[at[reading[0]]]))
            if not found <= collected:
                distinct.append(reading)
                collected |= found
        if len(distinct) == 1:
            continue
        pairs: dict[str, str] = {}
        gone: list[str] = []
        for row, _, _ in distinct:
            if row == index.missing:
                gone.append(str(geneless.get(keys[p], "")))
                continue
            for target, gene in zip(_split(target_of[at[row]]), _split(gene_of[at[row]]), strict=False):
                pairs.setdefault(target, gene)
            gone += [g for g in _split(lost_of[at[row]]) if g not in gone]
        if len(pairs) == len(_split(target_of[at[first]])) and not any(r[0] == index.missing for r in distinct):
            continue  # other genes, but the same targets (two genes of one symbol): nothing to choose
        strengths = sorted(r[1] for r in distinct)
        best = min(distinct, key=lambda r: r[1])
        if (
            strategy == "best"
            and strengths[0] < strengths[1]
            # only the query's own reading is kept, and only when strictly strongest: a rewrite
            # never outranks the name as written, even as a current name (HGNC gives ADAMTS-2,
            # ABCD-1, ADH-4 as aliases of other genes than ADAMTS2, ABCD1, ADH4)
            and best is distinct[0]
            and (n_targets[first] == 1 or index.breakable[first])
        ):
            continue
        kinds = [r[2] for r in distinct[1:]]
        tied.append(p)
        tied_n.append(len(pairs))
        tied_targets.append("|".join(pairs))
        tied_genes.append("|".join(pairs.values()))
        tied_lost.append("|".join(g for g in gone if g))
        tied_reason.append(REASON_CODE[_CONFLICT[min(kinds, key=list(_CONFLICT).index)]])
    return Ties(
        np.array(tied, dtype=np.int64),
        np.array(tied_n, dtype=np.int64),
        tied_targets,
        tied_genes,
        tied_lost,
        np.array(tied_reason, dtype=np.int8),
    )


def geneless_not_found(snapshot: Snapshot, keys: np.ndarray) -> np.ndarray:
    """Which of these (not found) keys are approved HGNC symbols without an Ensembl gene."""
    geneless = geneless_symbols(snapshot)
    if not len(geneless) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    return geneless.index.get_indexer(keys) >= 0
