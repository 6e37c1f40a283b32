"""Plan: which old feature becomes which new feature, under which name (nothing is changed yet).

:func:`plan_features` chooses the identifier column(s) and the release names are read in,
resolves every identifier (:func:`idtrack_sc.convert`), applies the ``ambiguous`` /
``unmapped`` / ``duplicates`` policies and decides each new feature's name, representative,
members and annotations. Everything that can fail on the identifiers fails here, before
the data is touched.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..record import AMBIGUOUS_EXPANDED, KEPT_APART_SUFFIX, as_str
from ..resolve import NON_NAME_REASONS, REASONS, check_organism, convert
from ._pair import choose_anchor, combine, find_pair

if TYPE_CHECKING:
    from collections.abc import Collection

    from anndata import AnnData

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

#: Rank of each reason when choosing the member that represents a merged feature.
_REASON_RANK = {reason: rank for rank, reason in enumerate(REASONS)}


def identifiers(adata: AnnData, id_key: str | None, label: str) -> np.ndarray:
    """The identifiers to convert: ``var[id_key]``, or ``var_names`` for ``id_key=None``."""
    if id_key is None:
        values = adata.var_names
    else:
        if id_key not in adata.var.columns:
            cols = ", ".join(map(repr, adata.var.columns)) or "none"
            msg = f"{label}: var has no column {id_key!r} (columns: {cols}). Use id_key=None for var_names."
            raise KeyError(msg)
        values = adata.var[id_key]
    return np.asarray(
        values.to_numpy(dtype=object, na_value=None) if hasattr(values, "to_numpy") else values, dtype=object
    )


def _join_members(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per new feature: its first member's value, or its members' values ``|``-joined when merged."""
    joined = values[starts].copy()
    for g in np.flatnonzero(sizes > 1):  # only merged features need a join
        joined[g] = "|".join(values[starts[g] : starts[g] + sizes[g]])
    return joined


@dataclass
class FeaturePlan:
    """What :func:`plan_features` decided; read by the apply and write steps.

    Old features are numbered by position (``src``); new features by ``group``. Each new
    feature is represented by one old feature (``first_src``, the first of its members in a
    canonical order), whose outcome, reason and gene it reports.
    """

    table: pd.DataFrame  #: the conversion of every old feature (:func:`idtrack_sc.convert`)
    originals: np.ndarray  #: the identifiers converted, one per old feature
    old_names: np.ndarray  #: the old ``var_names``
    namespace: str
    release: int
    strategy: str
    release_record: dict[str, Any]  #: how names were read (see :func:`~idtrack_sc.pp._pair.choose_anchor`)
    pair_col: str | None
    paired: np.ndarray | None
    pair_status: np.ndarray | None
    pair_genes: np.ndarray | None
    rows: pd.DataFrame  #: one row per (old feature, new name) kept: ``src``, ``name``, ``kind``, ``group``
    dropped_at: np.ndarray  #: positions of the old features left out
    dropped_by: np.ndarray  #: the policy that left each out
    sums: bool  #: whether merged features' columns are summed (``duplicates="sum"`` and some merge)
    n_merged: np.ndarray  #: members per new feature (1 everywhere unless summed)
    sizes: np.ndarray
    src: np.ndarray
    group: np.ndarray
    by_group: np.ndarray
    starts: np.ndarray
    first_src: np.ndarray
    orig_str: np.ndarray
    joined: np.ndarray
    outcome: np.ndarray
    reason: np.ndarray
    kinds: np.ndarray
    symbols: np.ndarray
    genes: np.ndarray
    new_names: pd.Index  #: the new ``var_names``, unique
    n_renamed: int  #: names made unique (``X-1``)
    #: new features kept unmapped under ``<original>~unmapped`` (their original is another gene's name)
    kept_apart: np.ndarray | None = None

    @property
    def n_old(self) -> int:
        return len(self.originals)

    @property
    def n_new(self) -> int:
        return len(self.sizes)

    def joined_members(self, values: np.ndarray) -> np.ndarray:
        """Per new feature, ``values`` (one per old feature) of its members, ``|``-joined."""
        return _join_members(np.asarray(values, dtype=object)[self.src][self.by_group], self.starts, self.sizes)

    def renames(self) -> dict[str, str]:
        """Every old ``var_name`` kept -> its new name (the first, for a feature copied to several)."""
        new = np.asarray(self.new_names, dtype=object)[self.group]
        return dict(zip(self.old_names[self.src][::-1], new[::-1], strict=True))


def plan_features(
    adata: AnnData,
    *,
    snap: Snapshot,
    release: int | None,
    to: str,
    id_key: str | None,
    ambiguous: str,
    min_evidence: str,
    unmapped: str,
    duplicates: str,
    label: str,
    keep_only: Collection[str] | None = None,
    from_release: int | str | None = None,
    pair_key: str | None = None,
    pair_conflict: str = "tie",
    reserved: Collection[str] | None = None,
    organism_check: bool = True,
) -> FeaturePlan:
    """Resolve ``adata``'s features and decide what becomes of each; ``adata`` is not changed.

    ``keep_only`` restricts ``unmapped="keep"`` to these original identifiers (used by
    :func:`~idtrack_sc.concat_harmonized` to keep only identifiers that fail consistently).
    A feature kept unmapped whose original identifier is in ``reserved`` (names of other
    genes in the target namespace) is kept apart, as ``<original>~unmapped``.
    With ``organism_check``, identifiers that fit another organism far better than the
    snapshot's are refused (:func:`idtrack_sc.resolve.check_organism`).
    """
    originals = identifiers(adata, id_key, label)
    if organism_check:
        check_organism(originals, snap, label=label)
    var_names = adata.var_names.to_numpy(dtype=object)
    if not adata.var_names.is_unique:
        n_dup = int(adata.var_names.duplicated().sum())
        logger.warning("%s: %d var_names are duplicated; each feature is converted on its own.", label, n_dup)

    strategy = "all" if ambiguous in ("drop", "all") else "best"
    release = snap.check_release(release)
    pair_col = find_pair(adata, originals, id_key, pair_key)
    paired = identifiers(adata, pair_col, label) if pair_col is not None else None
    anchor, release_record = choose_anchor(
        snap, originals, paired, release=release, from_release=from_release, label=label
    )
    table = convert(
        originals,
        snapshot=snap,
        to=to,
        release=release,
        strategy=strategy,
        from_release=anchor,
        min_evidence=min_evidence,
    )
    namespace = table.attrs["idtrack"]["namespace"]
    pair_status = pair_genes = None
    if paired is not None:
        table, pair_status, pair_genes = combine(
            table,
            originals,
            paired,
            snap=snap,
            to=to,
            release=release,
            strategy=strategy,
            anchor=anchor,
            pair_conflict=pair_conflict,
            label=label,
        )
    return plan_from_table(
        table,
        originals,
        var_names,
        snap=snap,
        release=int(release),
        namespace=namespace,
        strategy=strategy,
        release_record=release_record,
        ambiguous=ambiguous,
        min_evidence=min_evidence,
        unmapped=unmapped,
        duplicates=duplicates,
        label=label,
        keep_only=keep_only,
        reserved=reserved,
        pair=(pair_col, paired, pair_status, pair_genes),
    )


def plan_from_table(
    table: pd.DataFrame,
    originals: np.ndarray,
    var_names: np.ndarray,
    *,
    snap: Snapshot,
    release: int,
    namespace: str,
    strategy: str,
    release_record: dict[str, Any],
    ambiguous: str,
    min_evidence: str,
    unmapped: str,
    duplicates: str,
    label: str,
    keep_only: Collection[str] | None = None,
    reserved: Collection[str] | None = None,
    pair: tuple[Any, Any, Any, Any] = (None, None, None, None),
    policy_text: str | None = None,
) -> FeaturePlan:
    """The plan for features whose conversion ``table`` is made (the policies applied, names decided).

    ``table`` has one row per old feature, with the columns of :func:`idtrack_sc.convert`
    that the policies read (``outcome``, ``target``, ``targets``, ``reason``, ``symbol``,
    ``gene_id``); its targets are names in ``namespace`` of ``snap`` at ``release``. Shared
    by :func:`plan_features` and the ortholog step (whose table comes from
    :func:`idtrack_sc.convert_orthologs`). ``duplicates`` may also be ``"drop"`` (every
    feature of a merge is left out), which only the ortholog step offers; ``policy_text``
    names its policies in the error raised when no feature would remain.
    """
    pair_col, paired, pair_status, pair_genes = pair
    plan, dropped_at, dropped_by = _policy_rows(
        table,
        originals,
        var_names,
        ambiguous=ambiguous,
        unmapped=unmapped,
        duplicates=duplicates,
        keep_only=keep_only,
        reserved=reserved,
    )
    if len(plan) == 0:
        policies = policy_text or f"ambiguous={ambiguous!r}, unmapped={unmapped!r}"
        msg = (
            f"{label}: no feature would remain ({len(dropped_at)} dropped by {policies}). "
            "Check the organism, the id_key, or use unmapped='keep'."
        )
        raise ValueError(msg)

    group = plan["group"].to_numpy()
    n_new = int(group.max()) + 1
    sizes = np.bincount(group, minlength=n_new)

    # Members of a merged feature in a canonical order (the one already named as the result,
    # then the best reason, then the original identifier), so its metadata does not depend on
    # the order of the input columns; the first member represents it (var columns, outcome,
    # reason, gene).
    orig_str = pd.Series(originals, dtype=object).where(pd.notna(originals), "").astype(str).to_numpy(dtype=object)
    src = plan["src"].to_numpy()
    reason_rank = pd.Series(as_str(table["reason"])).map(_REASON_RANK)
    reason_rank = reason_rank.fillna(len(_REASON_RANK)).to_numpy(dtype=np.int64)
    renamed = orig_str[src] != as_str(plan["name"])
    by_group = np.lexsort((src, orig_str[src], reason_rank[src], renamed, group))
    starts = np.searchsorted(group[by_group], np.arange(n_new))
    first_src = src[by_group][starts]
    joined = _join_members(orig_str[src][by_group], starts, sizes)
    outcome = as_str(table["outcome"])[first_src]
    reason = as_str(table["reason"])[first_src]
    kinds = plan["kind"].to_numpy(dtype=object)[by_group][starts]
    reason = np.where(kinds == "expanded", AMBIGUOUS_EXPANDED, reason).astype(object)
    names = plan["name"].to_numpy(dtype=object)[by_group][starts]
    symbols = as_str(table["symbol"])[first_src]
    genes = as_str(table["gene_id"])[first_src]
    copies = np.flatnonzero(kinds == "expanded")
    if len(copies):  # each copy of an ambiguous feature is its candidate: look that up
        symbols[copies] = convert(
            names[copies], snapshot=snap, to="symbol", release=release, min_evidence=min_evidence
        )["target"].to_numpy(dtype=object)
        genes[copies] = convert(names[copies], snapshot=snap, release=release, min_evidence=min_evidence)[
            "target"
        ].to_numpy(dtype=object)
    if namespace == "symbol":
        symbols = np.where(kinds == "kept", symbols, names)
    symbols = np.where((kinds == "kept") | (symbols == ""), names, symbols).astype(object)
    new_index, n_renamed = _unique_names(pd.Index(as_str(names), dtype=object))
    if n_renamed:
        logger.warning("%s: %d feature names were made unique (e.g. 'X-1').", label, n_renamed)

    return FeaturePlan(
        table=table,
        originals=originals,
        old_names=var_names,
        namespace=namespace,
        release=int(release),
        strategy=strategy,
        release_record=release_record,
        pair_col=pair_col,
        paired=paired,
        pair_status=pair_status,
        pair_genes=pair_genes,
        rows=plan,
        dropped_at=dropped_at,
        dropped_by=dropped_by,
        sums=duplicates == "sum" and bool((sizes > 1).any()),
        n_merged=sizes if duplicates == "sum" else np.ones(n_new, dtype=np.int64),
        sizes=sizes,
        src=src,
        group=group,
        by_group=by_group,
        starts=starts,
        first_src=first_src,
        orig_str=orig_str,
        joined=joined,
        outcome=outcome,
        reason=reason,
        kinds=kinds,
        symbols=symbols,
        genes=genes,
        new_names=pd.Index(new_index.to_numpy(dtype=object), dtype=object),
        n_renamed=n_renamed,
        kept_apart=np.flatnonzero((kinds == "kept") & (names == orig_str[first_src] + KEPT_APART_SUFFIX))
        if reserved is not None
        else None,
    )


def _policy_rows(
    table: pd.DataFrame,
    originals: np.ndarray,
    fallback_names: np.ndarray,
    *,
    ambiguous: str,
    unmapped: str,
    duplicates: str,
    keep_only: Collection[str] | None = None,
    reserved: Collection[str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per (old feature, new name) pair kept, with its group; the dropped originals and why.

    Mapped features that meet under one name are merged by the ``duplicates`` policy. A
    feature kept under its original name never merges with a mapped one. Every feature left
    out is returned with the policy that left it out (``"ambiguous"``, ``"unmapped"`` or
    ``"duplicates"``).
    """
    outcome = table["outcome"].to_numpy(dtype=object)
    target = table["target"].to_numpy(dtype=object)
    targets = table["targets"].to_numpy(dtype=object)
    n = len(table)
    rows_src: list[np.ndarray] = []
    rows_name: list[np.ndarray] = []
    rows_kind: list[np.ndarray] = []

    mapped = np.flatnonzero(outcome == "1:1")
    rows_src.append(mapped)
    rows_name.append(target[mapped])
    rows_kind.append(np.full(len(mapped), "mapped", dtype=object))

    amb = np.flatnonzero(outcome == "1:n")
    keep_unmapped = unmapped == "keep"
    if ambiguous == "all" and len(amb):
        split = [t.split("|") for t in targets[amb]]
        counts = np.array([len(s) for s in split])
        rows_src.append(np.repeat(amb, counts))
        rows_name.append(np.array([t for s in split for t in s], dtype=object))
        rows_kind.append(np.full(counts.sum(), "expanded", dtype=object))
        amb = amb[:0]
    failed = np.flatnonzero(outcome == "1:0")
    # ambiguous features the policy did not resolve are handled like unmapped ones, unless dropped
    leftover = np.concatenate([amb if ambiguous == "best" else amb[:0], failed])
    # no names at all (missing values, positional names): each is its own feature, never
    # merged with another, and never matched across datasets by its "name"
    non_name = table["reason"].astype(str).isin(NON_NAME_REASONS).to_numpy()
    if keep_unmapped and keep_only is not None and len(leftover):
        # only the unmapped identifiers named (e.g. those failing in every dataset of a concat)
        allowed = np.array([o in keep_only for o in originals[leftover]], dtype=bool)
        leftover = leftover[allowed & ~non_name[leftover]]
    if keep_unmapped and len(leftover):
        names = originals[leftover].astype(object)
        empty = np.array([not isinstance(v, str) or not v.strip() for v in names], dtype=bool)
        names[empty] = fallback_names[leftover][empty]
        # a var_name that is missing too: "nan", as anndata writes it (made unique below)
        names[[not isinstance(v, str) for v in names]] = "nan"
        if reserved:  # another gene's name: never joined with that gene (in another dataset)
            apart = np.array([v in reserved for v in names], dtype=bool)
            names[apart] = [f"{v}{KEPT_APART_SUFFIX}" for v in names[apart]]
        rows_src.append(leftover)
        rows_name.append(names)
        rows_kind.append(np.full(len(leftover), "kept", dtype=object))

    src = np.concatenate(rows_src).astype(np.int64)
    plan = pd.DataFrame(
        {"src": src, "name": np.concatenate(rows_name).astype(object), "kind": np.concatenate(rows_kind)}
    )
    plan = plan.sort_values("src", kind="stable").reset_index(drop=True)
    # A copy of an ambiguous feature never stands in for a feature the dataset measured
    # itself: copies under a name that a directly mapped feature has are left out.
    expanded = (plan["kind"] == "expanded").to_numpy()
    if expanded.any():
        taken = set(plan.loc[plan["kind"] == "mapped", "name"])
        redundant = expanded & plan["name"].isin(taken).to_numpy()
        plan = plan[~redundant].reset_index(drop=True)
    dropped_by = np.where(outcome == "1:n", "ambiguous", "unmapped").astype(object)
    if ambiguous == "best":  # ties the rule could not break are handled like unmapped features
        dropped_by[:] = "unmapped"
    before_duplicates = np.zeros(n, dtype=bool)
    before_duplicates[plan["src"].to_numpy()] = True

    merge_class = np.where(plan["kind"] == "kept", "kept", np.where(plan["kind"] == "expanded", "expanded", "mapped"))
    if duplicates == "make_unique":
        plan["group"] = np.arange(len(plan))
    else:
        # groups: same name within the same class, in order of first appearance
        key = pd.Series(merge_class, dtype=object) + "\x00" + plan["name"].astype(str)
        alone = non_name[plan["src"].to_numpy()]
        key[alone] = key[alone] + "\x00" + plan["src"][alone].astype(str)
        plan["group"] = pd.factorize(key, sort=False)[0]
        if duplicates in ("first", "drop"):
            plan = plan[~plan["group"].duplicated(keep="first" if duplicates == "first" else False)].copy()
            plan["group"] = pd.factorize(plan["group"], sort=False)[0]
    kept = np.zeros(n, dtype=bool)
    kept[plan["src"].to_numpy()] = True
    dropped_by[before_duplicates & ~kept] = "duplicates"
    dropped_at = np.flatnonzero(~kept)
    return plan, dropped_at, dropped_by[dropped_at]


def _unique_names(names: pd.Index) -> tuple[pd.Index, int]:
    """Make names unique the way anndata does (``X``, ``X-1``, ``X-2``); count renamed."""
    if names.is_unique:
        return names, 0
    from anndata.utils import make_index_unique

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unique = make_index_unique(pd.Index(names.astype(str)))
    return unique, int((unique != names).sum())
