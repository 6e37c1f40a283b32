"""Two identifier columns of one dataset (IDs and symbols) used together, and the dataset's release.

10x ``features.tsv`` and many ``.h5ad`` files carry each feature twice: an ID (Ensembl,
Entrez) and a symbol (``var_names`` symbols beside ``var["gene_ids"]``, or IDs beside
``var["feature_name"]``). Both are resolved; the ID decides, the symbol breaks ties among the
ID's candidates and stands in where the ID names nothing the snapshot knows, and every
feature's agreement is reported.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._userwarn import warn
from ..record import PAIR_CONFLICT, as_str
from ..resolve import MIN_EVIDENCE, as_query_strings, check_from_release, convert, infer_release

if TYPE_CHECKING:
    from anndata import AnnData

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

#: ``var`` columns looked for as the second identifier column (``pair_key="auto"``), by what the
#: first column holds.
PAIR_COLUMNS = {
    "symbols": ("gene_ids", "gene_id", "ensembl_id", "ensembl_gene_id", "ensembl_ids", "feature_id", "gene_ids-0"),
    "ids": ("gene_symbols", "feature_name", "gene_name", "gene_symbol", "gene_names", "symbols"),
}
#: What becomes of a feature whose two columns name different genes (``pair_conflict=``).
PAIR_CONFLICTS = {
    "tie": (
        f"a tie of both columns' genes (outcome 1:n, reason {PAIR_CONFLICT!r}), handled by `ambiguous`: "
        "never merged into either gene unless ambiguous='all' copies it"
    ),
    "id": "the ID column's answer is used",
    "symbol": "the symbol column's answer is used",
}
_ID_LIKE = r"^(?:ENS[A-Z]*[GTP]\d{11}(?:\.\d+)?(?:_PAR_Y)?|FB(?:GN|TR|PP)\d{7}|WBGENE\d{8}|HGNC:\d+|MGI:\d+|(?:GENEID|ENTREZ|NCBIGENE)[:_]?\d+|\d+)$"


def looks_like_ids(values: np.ndarray) -> np.ndarray:
    """Whether each value is an accession (Ensembl, FlyBase, WormBase, HGNC, MGI, Entrez ID), not a symbol."""
    arr = pa.array(as_query_strings(values), type=pa.string(), from_pandas=True)
    upper = pc.utf8_upper(pc.utf8_trim_whitespace(arr))
    return pc.fill_null(pc.match_substring_regex(upper, _ID_LIKE), False).to_numpy(zero_copy_only=False)


def _by_column(id_like: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``id_like``, with a missing value taking its column's role: an empty ID is still the ID side."""
    blank = np.char.strip(as_str(values).astype(str)) == ""  # missing values are "" here
    if not blank.any() or blank.all():
        return id_like
    return np.where(blank, bool(id_like[~blank].mean() > 0.5), id_like)


def find_pair(adata: AnnData, originals: np.ndarray, id_key: str | None, pair_key: str | None) -> str | None:
    """The ``var`` column to pair with the identifiers, or ``None``.

    ``pair_key="auto"`` looks for a column of :data:`PAIR_COLUMNS` that holds the other kind
    of identifier (IDs beside symbols, symbols beside IDs) for most features.
    """
    if pair_key is None:
        return None
    if pair_key != "auto":
        if pair_key not in adata.var.columns:
            cols = ", ".join(map(repr, adata.var.columns)) or "none"
            msg = f"var has no column {pair_key!r} to pair with the identifiers (columns: {cols})."
            raise KeyError(msg)
        if pair_key == id_key:
            msg = f"pair_key={pair_key!r} is the identifier column itself; name the other column."
            raise ValueError(msg)
        return pair_key
    if len(originals) == 0:
        return None
    first_ids = looks_like_ids(originals).mean() > 0.5
    for col in PAIR_COLUMNS["ids" if first_ids else "symbols"]:
        if col == id_key or col not in adata.var.columns:
            continue
        values = adata.var[col]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            continue
        other = np.asarray(values.astype(object).to_numpy(), dtype=object)
        if (looks_like_ids(other).mean() > 0.5) != first_ids:
            return col
    return None


def choose_anchor(
    snap: Snapshot,
    originals: np.ndarray,
    paired: np.ndarray | None,
    *,
    release: int,
    from_release: int | str | None,
    label: str,
) -> tuple[int | None, dict[str, Any]]:
    """The release whose meaning names are read in, and the provenance of that choice.

    ``"auto"`` infers the dataset's release; names are then read in its meaning, unless
    the inference is undetermined or the target release fits as well (then the target's
    meaning is the same answer). One log line per dataset says how its names are read: a
    warning when its names fit no release, an info line when it is too small to tell (a
    handful of names says nothing about a release) or when the inference succeeded.
    """
    if from_release is None:
        return None, {"from_release": "target"}
    if isinstance(from_release, str) and from_release == "auto":
        inference = infer_release(originals, snapshot=snap, paired=paired)
        record = {"from_release": "auto", "inferred": inference.to_dict()}
        if not inference.determined:
            record["anchor_release"] = int(release)
            if inference.n_with_evidence < MIN_EVIDENCE:
                logger.info(
                    "%s: %d names with evidence are too few to infer the annotation release (%d needed); "
                    "names are read in the meaning of release %d.",
                    label,
                    inference.n_with_evidence,
                    MIN_EVIDENCE,
                    release,
                )
            else:
                logger.warning(
                    "%s: the annotation release is undetermined (%s); names are read in the meaning of release %d.",
                    label,
                    inference.reason,
                    release,
                )
            return None, record
        anchor = None if release in inference.releases else inference.release
        anchor = _same_assembly(snap, inference, release, anchor, record, label)
        if "assembly_note" not in record:  # else the note is the line
            logger.info("%s: %s", label, inference)
        record["anchor_release"] = int(release if anchor is None else anchor)
        return anchor, record
    if isinstance(from_release, str):
        msg = f"from_release must be 'auto', None or an Ensembl release number, got {from_release!r}."
        raise ValueError(msg)
    anchor = check_from_release(snap, from_release)
    return anchor, {"from_release": int(anchor), "anchor_release": int(anchor)}


def _same_assembly(snap: Snapshot, inference: Any, release: int, anchor: int | None, record: dict, label: str):
    """Read symbol-only datasets in the target's assembly when one of its releases fits well.

    Symbols carry no assembly. A dataset inferred from symbols alone to fit an older assembly
    best (e.g. the GRCh37 gene set) is read at the best-fitting release of the target's
    assembly instead, if that release fits at least :data:`~idtrack_sc.resolve._release.MIN_FIT`
    of the names: older-assembly gene IDs reach the target only through inferred lineage,
    which (never linking IDs that coexist) misses genes whose new ID was already on a patch.
    """
    from ..resolve import MIN_FIT, assembly_of

    if anchor is None or assembly_of(snap, anchor) == assembly_of(snap, release):
        return anchor
    evidence = inference.evidence
    if "release" not in evidence:
        evidence = evidence.reset_index()
    releases = np.asarray(evidence["release"])
    best = int(np.flatnonzero(releases == anchor)[0])
    id_evidence = [int(np.asarray(evidence[k])[best]) for k in ("pairs", "versioned_ids", "ids")]
    if sum(id_evidence) > 0:
        return anchor  # gene IDs tell the assembly: keep it
    target_assembly = assembly_of(snap, release)
    same = [i for i, r in enumerate(releases) if assembly_of(snap, int(r)) == target_assembly]
    if not same:
        return anchor
    fit = np.asarray(evidence["fit"], dtype=float)
    pick = max(same, key=lambda i: (fit[i], int(releases[i])))
    if fit[pick] < MIN_FIT:
        return anchor
    chosen = int(releases[pick])
    note = (
        f"inferred release {anchor} ({inference.assembly}) from symbols alone; names read at {chosen} "
        f"({target_assembly}, {fit[pick]:.1%} of names valid), the best-fitting release of the target's assembly"
    )
    logger.info("%s: %s", label, note)
    record["assembly_note"] = note
    return None if chosen == release else chosen


def combine(
    table: pd.DataFrame,
    originals: np.ndarray,
    paired: np.ndarray,
    *,
    snap: Snapshot,
    to: str,
    release: int,
    strategy: str,
    anchor: int | None,
    pair_conflict: str = "tie",
    label: str = "",
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Use the two identifier columns together (see module doc).

    Returns the combined conversion table (one row per feature, rows taken from either
    column's table), the per-feature status (:data:`idtrack_sc.record.PAIR_STATUS`) and the Ensembl gene(s)
    that the column whose answer was not used names (``""`` if none; for a conflict kept as
    a tie, the symbol column's). Features whose columns disagree are handled by
    ``pair_conflict`` (:data:`PAIR_CONFLICTS`), with a warning.
    """
    other = convert(paired, snapshot=snap, to=to, release=release, strategy=strategy, from_release=anchor)
    # which side is the ID: the first column where it looks like one, else the second if it does
    first_id = _by_column(looks_like_ids(originals), originals)
    second_id = _by_column(looks_like_ids(paired), paired)
    swap = ~first_id & second_id
    a = _select(table, other, swap)  # the ID side (or the first column when neither is an ID)
    s = _select(other, table, swap)

    a_out = as_str(a["outcome"])
    s_out = as_str(s["outcome"])
    a_genes = as_str(a["gene_id"])
    s_genes = as_str(s["gene_id"])
    a_named = a_out != "1:0"
    s_named = s_out != "1:0"
    # 1:0 rows carry the genes they failed on: compare only genes that reached the target
    a_set = [set(g.split("|")) if ok and g else set() for g, ok in zip(a_genes, a_named, strict=True)]
    s_set = [set(g.split("|")) if ok and g else set() for g, ok in zip(s_genes, s_named, strict=True)]
    same = np.array([x == y and bool(x) for x, y in zip(a_set, s_set, strict=True)], dtype=bool)
    s_single_in_a = np.array(
        [len(y) == 1 and y <= x and len(x) > 1 for x, y in zip(a_set, s_set, strict=True)], dtype=bool
    )
    tie = (a_out == "1:n") & (s_out == "1:1") & s_single_in_a
    a_reason = as_str(a["reason"])
    id_says_nothing = (a_out == "1:0") & np.isin(
        a_reason, ["not_found", "empty", "suffix_unconfirmed", "no_protein_ids", "missing_value", "not_a_name"]
    )

    status = np.full(len(a), "neither", dtype=object)
    status[a_named & ~s_named] = "id_only"
    status[~a_named & s_named] = "symbol_only"
    status[a_named & s_named] = "disagree"
    status[same | (a_named & s_named & _contains(a_set, s_set))] = "agree"
    status[tie] = "tie_broken"
    a_empty, s_empty = a_reason == "empty", as_str(s["reason"]) == "empty"
    status[a_empty & ~s_empty] = "id_missing"
    status[s_empty & ~a_empty] = "symbol_missing"

    conflict = status == "disagree"
    use_s = tie | (id_says_nothing & s_named) | (a_empty & ~s_empty)
    use_s |= conflict if pair_conflict == "symbol" else False
    combined = _select(a, s, use_s)
    # the reading not used: the symbol's, or the ID's where the symbol's answer was taken
    other_genes = np.where(use_s, np.where(a_named, a_genes, ""), np.where(s_named, s_genes, "")).astype(object)
    if pair_conflict == "tie":
        combined = _tie(combined, a, s, np.flatnonzero(conflict))
    combined.attrs = table.attrs
    if conflict.any():
        first = int(np.flatnonzero(conflict)[0])
        warn(
            f"{label}: {int(conflict.sum())} feature(s) whose two identifier columns name different genes "
            f"(e.g. {originals[first]!r} beside {paired[first]!r}: {a_genes[first]} vs {s_genes[first]}); "
            f"pair_conflict={pair_conflict!r}: {PAIR_CONFLICTS[pair_conflict]}. They are marked 'disagree' "
            "in var['<key_added>_pair'] and listed in uns['<key_added>']['pair_disagreements'].",
            UserWarning,
        )
    return combined, status, other_genes


def _tie(combined: pd.DataFrame, a: pd.DataFrame, s: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``combined`` with ``rows`` made ties (``1:n``) of both sides' candidates, reason :data:`PAIR_CONFLICT`."""
    if not len(rows):
        return combined

    def both(col: str) -> np.ndarray:
        first = a[col].astype(str).to_numpy(dtype=object)[rows]
        second = s[col].astype(str).to_numpy(dtype=object)[rows]
        return np.array(
            [
                "|".join(dict.fromkeys(p for p in f"{x}|{y}".split("|") if p))
                for x, y in zip(first, second, strict=True)
            ],
            dtype=object,
        )

    targets = both("targets")
    values = {
        "target": np.full(len(rows), "", dtype=object),
        "n_targets": np.array([len(t.split("|")) for t in targets], dtype=np.int64),
        "targets": targets,
        "outcome": np.full(len(rows), "1:n", dtype=object),
        "reason": np.full(len(rows), PAIR_CONFLICT, dtype=object),
        "gene_id": both("gene_id"),
        "symbol": np.full(len(rows), "", dtype=object),
    }
    out = combined.copy()
    for col, new in values.items():
        if col not in out.columns:
            continue
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            merged = out[col].astype(object).to_numpy(copy=True)
            merged[rows] = new
            categories = out[col].cat.categories.union(pd.Index(pd.unique(new)), sort=False)
            out[col] = pd.Categorical(merged, categories=categories)
        else:
            merged = out[col].to_numpy(dtype=object, na_value=None).copy()
            merged[rows] = new
            out[col] = pd.array(merged, dtype=out[col].dtype)
    return out


def _contains(a_set: list[set], s_set: list[set]) -> np.ndarray:
    """The ID side's single gene is among the symbol side's candidates."""
    return np.array([len(x) == 1 and x <= y for x, y in zip(a_set, s_set, strict=True)], dtype=bool)


def _select(first: pd.DataFrame, second: pd.DataFrame, take_second: np.ndarray) -> pd.DataFrame:
    """Rows of ``first``, replaced by ``second``'s where ``take_second``."""
    if not take_second.any():
        return first.copy()
    out = first.copy()
    rows = np.flatnonzero(take_second)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            merged = out[col].astype(object).to_numpy(copy=True)  # pandas 3: views are read-only
            merged[rows] = second[col].astype(object).to_numpy()[rows]
            out[col] = pd.Categorical(merged, categories=out[col].cat.categories)
        else:
            values = out[col].to_numpy(dtype=object, na_value=None)
            values[rows] = second[col].to_numpy(dtype=object, na_value=None)[rows]
            out[col] = pd.array(values, dtype=out[col].dtype)
    return out
