"""``harmonize_var_names``: convert an AnnData's (or MuData's) features in place."""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import sparse

from ..record import OUTCOMES, TEXT, is_harmonized, make_record, var_columns
from ..resolve import REASONS, convert
from ..resolve._convert import check_from_release
from ..resolve._index import DEFAULT_MIN_EVIDENCE, check_min_evidence
from ._pair import choose_anchor, combine, find_pair
from ._snapshot_arg import resolve_snapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Sequence

    from mudata import MuData

    from ._snapshot_arg import SnapshotLike

logger = logging.getLogger(__name__)

Ambiguous = Literal["best", "drop", "all"]
Unmapped = Literal["keep", "drop"]
Duplicates = Literal["sum", "first", "make_unique"]

_POLICIES = {
    "ambiguous": ("best", "drop", "all"),
    "unmapped": ("keep", "drop"),
    "duplicates": ("sum", "first", "make_unique"),
    "unmapped_concat": ("consistent", "keep", "drop"),  # concat_harmonized's `unmapped`
    "join": ("inner", "outer"),
}
#: Feature types (10x ``feature_types``) and modality names that hold genes.
GENE_FEATURE_TYPES = ("gene expression", "gene", "genes", "rna", "gex", "atac")
GENE_MODALITIES = ("rna", "gex", "gene expression", "genes", "sct")
#: Rank of each reason when choosing the member that represents a merged feature.
_REASON_RANK = {reason: rank for rank, reason in enumerate(REASONS)}


#: Called as ``callback(label, counts)`` after each dataset is harmonized (see :func:`on_harmonized`).
_ON_HARMONIZED: ContextVar[Callable[[str, dict[str, Any]], None] | None] = ContextVar(
    "idtrack_sc_on_harmonized", default=None
)


@contextmanager
def on_harmonized(callback: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    """Call ``callback(label, counts)`` each time a dataset has been harmonized, within the block.

    For progress bars (the command line's): every harmonization, by
    :func:`harmonize_var_names` or inside :func:`~idtrack_sc.concat_harmonized` (in memory
    or on disk), reports here, in the thread and context that started it.

    Parameters
    ----------
    callback
        Gets the dataset's label and its ``counts`` (as in ``uns[key_added]["counts"]``).
    """
    token = _ON_HARMONIZED.set(callback)
    try:
        yield
    finally:
        _ON_HARMONIZED.reset(token)


def _check_policies(key_added: str, **policies: str) -> None:
    """Refuse unknown policy values and a ``key_added`` that cannot be an ``uns`` key."""
    for name, value in policies.items():
        if value not in _POLICIES[name]:
            allowed = ", ".join(repr(v) for v in _POLICIES[name])
            shown = name.removesuffix("_concat")
            msg = f"{shown}={value!r} is not a policy; choose one of {allowed}."
            raise ValueError(msg)
    if not isinstance(key_added, str) or not key_added or "/" in key_added:
        msg = f"key_added must be a non-empty string without '/', got {key_added!r}."
        raise ValueError(msg)


def _check_types(*, to: object, id_key: object, symbol_key: object, copy: object) -> None:
    """Clear messages for arguments of the wrong type (instead of an error deep inside)."""
    if not isinstance(to, str):
        msg = f"to must be a namespace name such as 'ensembl_gene' or 'symbol', got {type(to).__name__} {to!r}."
        raise TypeError(msg)
    if id_key is not None and not isinstance(id_key, str):
        msg = f"id_key must be a var column name or None (var_names), got {type(id_key).__name__} {id_key!r}."
        raise TypeError(msg)
    if not isinstance(symbol_key, str) or not symbol_key:
        msg = f"symbol_key must be a non-empty var column name, got {symbol_key!r}."
        raise TypeError(msg)
    if not isinstance(copy, bool | np.bool_):
        msg = f"copy must be True or False, got {type(copy).__name__} {copy!r}."
        raise TypeError(msg)


# ---------------------------------------------------------------------------------------------
# matrices
# ---------------------------------------------------------------------------------------------
def _indicator(src: np.ndarray, dst: np.ndarray, n_old: int, n_new: int, dtype: np.dtype) -> sparse.csr_matrix:
    """Sparse ``n_old × n_new`` matrix with a 1 where old column ``src`` feeds new column ``dst``."""
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
        dtype = np.dtype(np.float64)
    data = np.ones(len(src), dtype=dtype)
    return sparse.csr_matrix((data, (src, dst)), shape=(n_old, n_new))


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype duplicate features are summed in: one that cannot overflow for count data.

    Integers narrower than 64 bits are promoted to ``int64`` (``uint64`` stays ``uint64``),
    booleans to ``int64`` (a count of ``True``), ``float16`` to ``float32`` (which scipy can
    multiply); wider types are kept.
    """
    dtype = np.dtype(dtype)
    if dtype == np.bool_ or (np.issubdtype(dtype, np.signedinteger) and dtype.itemsize < 8):
        return np.dtype(np.int64)
    if np.issubdtype(dtype, np.unsignedinteger):
        return np.dtype(np.uint64) if dtype.itemsize == 8 else np.dtype(np.int64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    if dtype.kind == "c" and dtype.itemsize < 8:  # pragma: no cover - complex counts do not occur
        return np.dtype(np.complex64)
    return dtype


def _is_dask(matrix: Any) -> bool:
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is optional
        return False
    return isinstance(matrix, da.Array)


def _check_summable(name: str, matrix: Any, label: str) -> None:
    """Refuse, before anything is changed, a matrix whose duplicate columns cannot be summed."""
    if matrix is None or sparse.issparse(matrix) or isinstance(matrix, np.ndarray) or _is_dask(matrix):
        dtype = getattr(matrix, "dtype", None)
        if dtype is not None and not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
            msg = (
                f"{label}: cannot sum duplicate features of {name} (dtype {dtype}); use duplicates='first'. "
                "Nothing was changed."
            )
            raise TypeError(msg)
        return
    msg = (
        f"{label}: cannot sum duplicate features of {name}, a {type(matrix).__name__}; convert it to a numpy, "
        "scipy sparse or dask array first, or use duplicates='first'. Nothing was changed."
    )
    raise TypeError(msg)


def _sum_columns(matrix: Any, indicator: sparse.csr_matrix) -> Any:
    """``matrix @ indicator`` in the indicator's dtype, keeping sparse sparse, dense dense, lazy lazy."""
    dtype = indicator.dtype
    if sparse.issparse(matrix):
        fmt = matrix.format
        out = (matrix.astype(dtype, copy=False) @ indicator).asformat(fmt)
        return out.astype(dtype, copy=False)
    if isinstance(matrix, np.ndarray):
        return np.asarray(matrix.astype(dtype, copy=False) @ indicator).astype(dtype, copy=False)
    if _is_dask(matrix):
        whole_rows = matrix.rechunk({1: -1})
        from dask.array.utils import meta_from_array

        dense_blocks = not sparse.issparse(meta_from_array(whole_rows))

        def block(b: Any) -> Any:
            out = b.astype(dtype, copy=False) @ indicator
            return np.asarray(out).astype(dtype, copy=False) if dense_blocks else out.astype(dtype)

        return whole_rows.map_blocks(block, dtype=dtype, chunks=(whole_rows.chunks[0], (indicator.shape[1],)))
    msg = (  # pragma: no cover - _check_summable refuses these first
        f"Cannot sum duplicate features of a {type(matrix).__name__} matrix; convert it to a numpy, scipy "
        "sparse or dask array first, or use duplicates='first'."
    )
    raise TypeError(msg)


# ---------------------------------------------------------------------------------------------
# the plan: which old feature becomes which new feature
# ---------------------------------------------------------------------------------------------
def _plan(
    table: pd.DataFrame,
    originals: np.ndarray,
    fallback_names: np.ndarray,
    *,
    ambiguous: str,
    unmapped: str,
    duplicates: str,
    keep_only: Collection[str] | None = None,
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
    if keep_unmapped and keep_only is not None and len(leftover):
        # only the unmapped identifiers named (e.g. those failing in every dataset of a concat)
        allowed = np.array([o in keep_only for o in originals[leftover]], dtype=bool)
        leftover = leftover[allowed]
    if keep_unmapped and len(leftover):
        names = originals[leftover].astype(object)
        empty = np.array([not isinstance(v, str) or not v.strip() for v in names], dtype=bool)
        names[empty] = fallback_names[leftover][empty]
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
        plan["group"] = pd.factorize(key, sort=False)[0]
        if duplicates == "first":
            plan = plan[~plan["group"].duplicated()].copy()
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


# ---------------------------------------------------------------------------------------------
# AnnData
# ---------------------------------------------------------------------------------------------
def _replace_contents(adata: AnnData, new: AnnData) -> None:
    """Make ``adata`` hold ``new``'s contents, in place (the object itself stays the caller's).

    anndata has no public in-place subsetting of the features; its constructor accepts an
    AnnData and takes over its elements, so re-running it on ``adata`` is the public way (and
    what anndata's own in-place subsetting does). A view becomes an actual AnnData.
    """
    AnnData.__init__(adata, new)


def _identifiers(adata: AnnData, id_key: str | None, label: str) -> np.ndarray:
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


def _harmonize_anndata(
    adata: AnnData,
    *,
    snap: Any,
    release: int | None,
    to: str,
    id_key: str | None,
    ambiguous: str,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
    unmapped: str,
    duplicates: str,
    symbol_key: str,
    key_added: str,
    label: str,
    environment: bool = True,
    keep_only: Collection[str] | None = None,
    follow: bool = True,
    from_release: int | str | None = None,
    pair_key: str | None = None,
    positions: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Harmonize one AnnData in place; return its counts.

    ``keep_only`` restricts ``unmapped="keep"`` to these original identifiers (used by
    :func:`~idtrack_sc.concat_harmonized` to keep only identifiers that fail consistently).
    With ``follow``, ``.raw`` is harmonized the same way and gene-keyed ``uns`` entries are
    renamed (:func:`_follow`).
    ``positions``, if given, receives ``"kept"``: for each new feature, the position of the
    old feature that represents it. Everything that can fail runs before ``adata`` is changed.
    """
    if adata.isbacked:
        msg = (
            f"{label} is backed (opened with backed='r'): harmonize_var_names rewrites X and needs it in memory. "
            "Load it with adata.to_memory(), or harmonize files on disk with concat_harmonized(paths, out_file=...)."
        )
        raise ValueError(msg)
    if adata.n_vars == 0:
        msg = f"{label} has no features (n_vars == 0): nothing to harmonize."
        raise ValueError(msg)
    originals = _identifiers(adata, id_key, label)
    var_names = adata.var_names.to_numpy(dtype=object)
    if not adata.var_names.is_unique:
        n_dup = int(adata.var_names.duplicated().sum())
        logger.warning("%s: %d var_names are duplicated; each feature is converted on its own.", label, n_dup)

    strategy = "all" if ambiguous in ("drop", "all") else "best"
    release = snap.check_release(release)
    pair_col = find_pair(adata, originals, id_key, pair_key)
    paired = _identifiers(adata, pair_col, label) if pair_col is not None else None
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
            table, originals, paired, snap=snap, to=to, release=release, strategy=strategy, anchor=anchor
        )
    plan, dropped_at, dropped_by = _plan(
        table, originals, var_names, ambiguous=ambiguous, unmapped=unmapped, duplicates=duplicates, keep_only=keep_only
    )
    dropped = originals[dropped_at]
    if len(plan) == 0:
        msg = (
            f"{label}: no feature would remain ({len(dropped)} dropped by ambiguous={ambiguous!r}, "
            f"unmapped={unmapped!r}). Check the organism, the id_key, or use unmapped='keep'."
        )
        raise ValueError(msg)

    group = plan["group"].to_numpy()
    n_new = int(group.max()) + 1
    sizes = np.bincount(group, minlength=n_new)
    needs_sum = duplicates == "sum" and bool((sizes > 1).any())
    # anndata >= 0.13 lists X in layers under the key None: it is summed once, as "X"
    layer_names = [k for k in adata.layers if k is not None]
    matrices = {"X": adata.X, **{k: adata.layers[k] for k in layer_names}} if needs_sum else {}
    for name, matrix in matrices.items():  # refuse before anything is changed
        _check_summable(name if name == "X" else f"layers[{name!r}]", matrix, label)

    # Members of a merged feature in a canonical order (the one already named as the result,
    # then the best reason, then the original identifier), so its metadata does not depend on
    # the order of the input columns; the first member represents it (var columns, outcome,
    # reason, gene).
    orig_str = pd.Series(originals, dtype=object).where(pd.notna(originals), "").astype(str).to_numpy(dtype=object)
    src = plan["src"].to_numpy()
    reason_rank = pd.Series(table["reason"].astype(str).to_numpy(dtype=object)).map(_REASON_RANK)
    reason_rank = reason_rank.fillna(len(_REASON_RANK)).to_numpy(dtype=np.int64)
    renamed = orig_str[src] != plan["name"].astype(str).to_numpy(dtype=object)
    by_group = np.lexsort((src, orig_str[src], reason_rank[src], renamed, group))
    starts = np.searchsorted(group[by_group], np.arange(n_new))
    first_src = src[by_group][starts]
    members = orig_str[src][by_group]
    joined = members[starts].copy()
    for g in np.flatnonzero(sizes > 1):  # only merged features need a join
        joined[g] = "|".join(members[starts[g] : starts[g] + sizes[g]])
    outcome = table["outcome"].astype(str).to_numpy(dtype=object)[first_src]
    reason = table["reason"].astype(str).to_numpy(dtype=object)[first_src]
    kinds = plan["kind"].to_numpy(dtype=object)[by_group][starts]
    reason = np.where(kinds == "expanded", "ambiguous_expanded", reason).astype(object)
    names = plan["name"].to_numpy(dtype=object)[by_group][starts]
    symbols = table["symbol"].astype(str).to_numpy(dtype=object)[first_src]
    genes = table["gene_id"].astype(str).to_numpy(dtype=object)[first_src]
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

    if needs_sum:
        # Sum from the original matrices; subset only an empty stand-in, so the expensive
        # column selection of X and layers is never done for matrices about to be replaced.
        for name in layer_names:
            del adata.layers[name]
        adata.X = sparse.csr_matrix(adata.shape, dtype=np.float32) if adata.X is not None else None
    if positions is not None:
        positions["kept"] = first_src
    identity = len(first_src) == len(originals) and bool((first_src == np.arange(len(originals))).all())
    if not identity:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # anndata warns about the temporary non-unique names
            _replace_contents(adata, adata[:, first_src].copy())
    promoted: dict[str, str] = {}
    if needs_sum:
        indicator_cache: dict[Any, sparse.csr_matrix] = {}
        for name, matrix in matrices.items():
            if matrix is None:
                continue
            dtype = sum_dtype(matrix.dtype)
            if dtype != matrix.dtype:
                promoted[name] = f"{np.dtype(matrix.dtype).name} -> {dtype.name}"
            if dtype not in indicator_cache:
                indicator_cache[dtype] = _indicator(src, group, len(originals), n_new, dtype)
            summed = _sum_columns(matrix, indicator_cache[dtype])
            if name == "X":
                adata.X = summed
            else:
                adata.layers[name] = summed

    cols = var_columns(key_added)
    var = adata.var.copy()

    def text(values: np.ndarray) -> pd.Series:
        # pandas' own string dtype (str under pandas 3, which needs anndata>=0.13 to write it):
        # what read_h5ad gives back, so a round trip changes nothing
        return pd.Series(np.asarray(values, dtype=object).tolist(), index=var.index, dtype=TEXT)

    var[cols["original"]] = text(joined)
    var[cols["outcome"]] = pd.Categorical(outcome, categories=OUTCOMES)
    var[cols["reason"]] = text(reason)
    var[cols["targets"]] = text(table["targets"].astype(str).to_numpy(dtype=object)[first_src])
    var[cols["gene_id"]] = text(genes)
    var[cols["n_merged"]] = sizes if duplicates == "sum" else np.ones(n_new, dtype=np.int64)
    var[symbol_key] = text(symbols)
    if pair_status is not None:
        # one status per original feature, aligned with the joined originals
        member_status = pair_status[src][by_group]
        joined_status = member_status[starts].copy()
        for g in np.flatnonzero(sizes > 1):
            joined_status[g] = "|".join(member_status[starts[g] : starts[g] + sizes[g]])
        var[cols["pair"]] = text(joined_status)
        var[cols["pair_gene_id"]] = text(pair_genes[first_src])
    new_index, n_renamed = _unique_names(pd.Index(names.astype(str)))
    if n_renamed:
        logger.warning("%s: %d feature names were made unique (e.g. 'X-1').", label, n_renamed)
    var.index = pd.Index(new_index.to_numpy(dtype=object), dtype=object)
    adata.var = var

    n_collapsed_groups = int((sizes > 1).sum()) if duplicates != "make_unique" else 0
    before = Counter(table["outcome"].astype(str))
    counts = {
        "n_vars_before": len(originals),
        "n_vars_after": adata.n_vars,
        "outcome": {k: int(before.get(k, 0)) for k in ("1:1", "1:n", "1:0")},
        "reason": {str(k): int(v) for k, v in table["reason"].astype(str).value_counts().sort_index().items()},
        "outcome_reason": {
            str(o): {str(r): int(n) for r, n in group.value_counts().sort_index().items()}
            for o, group in table["reason"].astype(str).groupby(table["outcome"].astype(str).to_numpy(), sort=True)
        },
        "dropped": len(dropped),
        "dropped_by": {k: int((dropped_by == k).sum()) for k in ("ambiguous", "unmapped", "duplicates")},
        "kept_unmapped": int((kinds == "kept").sum()),
        "expanded_ambiguous": int((plan["kind"] == "expanded").sum()),
        "collapsed_groups": n_collapsed_groups,
        "collapsed_features": int(sizes[sizes > 1].sum()) if n_collapsed_groups else 0,
        "renamed_unique": n_renamed,
    }
    if pair_status is not None:
        counts["pair"] = {str(k): int(v) for k, v in sorted(Counter(pair_status).items())}
    params = {
        "to": namespace,
        "release": int(release),
        "id_key": id_key or "",
        "ambiguous": ambiguous,
        "unmapped": unmapped,
        "duplicates": duplicates,
        "symbol_key": symbol_key,
        "strategy": strategy,
        "min_evidence": min_evidence,
        "from_release": "" if from_release is None else str(from_release),
        "pair_key": pair_col or "",
    }
    rec = make_record(
        function="idtrack_sc.pp.harmonize_var_names",
        params=params,
        snapshot=snap,
        counts=counts,
        environment=environment,
    )
    rec["release"] = release_record
    if pair_status is not None:
        dis = np.flatnonzero(pair_status == "disagree")
        rec["pair_disagreements"] = {
            "original": orig_str[dis],
            "paired": np.array(["" if v is None else str(v) for v in paired[dis]], dtype=object),
            "gene_id": table["gene_id"].astype(str).to_numpy(dtype=object)[dis],
            "pair_gene_id": np.asarray(pair_genes, dtype=object)[dis],
        }
    rec["dropped_ids"] = np.array(["" if d is None else str(d) for d in dropped], dtype=object)
    rec["dropped_outcomes"] = table["outcome"].astype(str).to_numpy(dtype=object)[dropped_at]
    rec["dropped_reasons"] = table["reason"].astype(str).to_numpy(dtype=object)[dropped_at]
    rec["dropped_targets"] = table["targets"].astype(str).to_numpy(dtype=object)[dropped_at]
    rec["dropped_by"] = np.asarray(dropped_by, dtype=object)
    # matrices whose duplicate features were summed in a wider dtype, so no sum can overflow
    rec["dtype_promoted"] = promoted
    if promoted:
        logger.warning("%s: duplicate features summed in a wider dtype: %s", label, promoted)
    if follow:
        renames = dict(zip(var_names[src][::-1], np.asarray(new_index, dtype=object)[group][::-1], strict=True))
        rec.update(
            _follow(
                adata,
                renames,
                label=label,
                snap=snap,
                release=release,
                to=to,
                id_key=id_key,
                ambiguous=ambiguous,
                unmapped=unmapped,
                duplicates=duplicates,
                symbol_key=symbol_key,
                key_added=key_added,
                keep_only=keep_only,
                from_release=from_release,
            )
        )
    adata.uns[key_added] = rec
    logger.info(
        "%s: %d -> %d features (1:1 %d, 1:n %d, 1:0 %d; %d dropped, %d duplicate groups)",
        label,
        counts["n_vars_before"],
        counts["n_vars_after"],
        counts["outcome"]["1:1"],
        counts["outcome"]["1:n"],
        counts["outcome"]["1:0"],
        counts["dropped"],
        n_collapsed_groups,
    )
    callback = _ON_HARMONIZED.get()
    if callback is not None and follow:  # once per dataset: not again for its .raw
        callback(label, counts)
    return counts


# ---------------------------------------------------------------------------------------------
# what follows the features: .raw and gene-keyed uns entries
# ---------------------------------------------------------------------------------------------
#: Share of an ``uns`` array's strings that must be old feature names for it to count as gene-keyed.
GENE_KEYED_SHARE = 0.5


def _follow(adata: AnnData, renames: dict[str, str], *, label: str, key_added: str, **kwargs: Any) -> dict[str, Any]:
    """Harmonize ``adata.raw`` like ``adata`` and rename gene-keyed ``uns`` entries; return the record.

    ``renames`` maps every old ``var_name`` that survived to its new name (the first, for a
    feature copied to several candidates).
    """
    record: dict[str, Any] = {"raw": "none"}
    present = set(adata.var_names)
    if adata.raw is not None:
        raw_var = adata.raw.var
        id_key = kwargs["id_key"]
        if id_key is not None and id_key not in raw_var.columns:
            record["raw"] = "unchanged"
            warnings.warn(
                f"{label}: .raw was left unchanged: its var has no column {id_key!r} to read identifiers from, so "
                f".raw keeps the original feature names while var_names changed. Convert it separately, or drop it "
                "(del adata.raw).",
                UserWarning,
                stacklevel=4,
            )
        else:
            raw = AnnData(
                X=adata.raw.X,
                obs=pd.DataFrame(index=adata.obs_names),
                var=raw_var.copy(),
                varm=dict(adata.raw.varm),
            )
            try:
                raw_counts = _harmonize_anndata(
                    raw, label=f"{label} .raw", environment=False, follow=False, key_added=key_added, **kwargs
                )
            except ValueError as err:  # X is already harmonized: leave .raw as it was, and say so
                warnings.warn(f"{label}: .raw was left unchanged: {err}", UserWarning, stacklevel=4)
                record["raw"] = "unchanged"
                record["uns_updated"] = _rename_uns(adata.uns, renames, present, skip=key_added, label=label)
                return record
            raw_rec = raw.uns.pop(key_added)
            adata.raw = raw
            record["raw"] = "harmonized"
            record["raw_counts"] = raw_counts
            record["raw_dropped_ids"] = raw_rec["dropped_ids"]
            if id_key is None:  # results computed on .raw (scanpy's use_raw default) name raw's features
                originals = raw.var[var_columns(key_added)["original"]].to_numpy(dtype=object)
                raw_renames: dict[str, str] = {}
                for new, joined in zip(raw.var_names.to_numpy(dtype=object), originals, strict=True):
                    for old in str(joined).split("|"):
                        raw_renames.setdefault(old, new)
                renames = {**raw_renames, **renames}
            present |= set(raw.var_names)
    record["uns_updated"] = _rename_uns(adata.uns, renames, present, skip=key_added, label=label)
    return record


def _string_values(value: Any) -> np.ndarray | None:
    """The strings of an ``uns`` value that could hold feature names, as an object array (else ``None``)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "OU" and value.size:
        flat = value.ravel()
        if value.dtype.kind == "O" and not all(isinstance(v, str) for v in flat[:100]):
            return None
        return flat.astype(object)
    return None


def _rename_strings(values: np.ndarray, renames: dict[str, str]) -> tuple[np.ndarray, int] | None:
    known = np.fromiter((v in renames for v in values), dtype=bool, count=len(values))
    nonempty = values != ""
    if not nonempty.any() or known[nonempty].mean() < GENE_KEYED_SHARE:
        return None
    new = np.array([renames.get(v, v) for v in values], dtype=object)
    return new, int((new != values).sum())


def _rename_uns(
    uns: Any, renames: dict[str, str], present: set[str], *, skip: str, label: str
) -> dict[str, np.ndarray]:
    """Rename feature names held in ``uns`` arrays (e.g. ``rank_genes_groups['names']``), in place.

    An array (or a field of a structured array, as scanpy's ``rank_genes_groups`` stores its
    names) counts as gene-keyed when at least :data:`GENE_KEYED_SHARE` of its strings are old
    feature names. Names that no longer exist (dropped features) stay as they were and are
    counted as ``absent``; a warning names every entry changed or holding absent names.
    """
    paths, renamed, absent = [], [], []

    def visit(mapping: Any, prefix: str) -> None:
        for key in list(mapping.keys()):
            if not prefix and key == skip:
                continue
            value = mapping[key]
            path = f"{prefix}{key}"
            if hasattr(value, "keys") and not isinstance(value, pd.DataFrame):
                visit(value, f"{path}/")
                continue
            if isinstance(value, np.ndarray) and value.dtype.names:
                fields, changed, n_renamed, n_absent = {}, False, 0, 0
                for name in value.dtype.names:
                    col = _string_values(value[name])
                    result = _rename_strings(col, renames) if col is not None else None
                    if result is None:
                        fields[name] = value[name]
                        continue
                    new, n = result
                    changed, n_renamed = True, n_renamed + n
                    n_absent += int(sum(v not in present for v in new if v != ""))
                    width = max((len(v) for v in new), default=1)
                    fields[name] = new.astype(f"<U{max(width, 1)}").reshape(value[name].shape)
                if changed:
                    mapping[key] = np.rec.fromarrays(list(fields.values()), names=list(value.dtype.names))
                    paths.append(path)
                    renamed.append(n_renamed)
                    absent.append(n_absent)
                continue
            col = _string_values(value)
            result = _rename_strings(col, renames) if col is not None else None
            if result is None:
                continue
            new, n = result
            mapping[key] = new.reshape(value.shape).astype(value.dtype if value.dtype.kind == "O" else str)
            paths.append(path)
            renamed.append(n)
            absent.append(int(sum(v not in present for v in new if v != "")))

    visit(uns, "")
    if paths:
        logger.info("%s: feature names renamed in uns entries %s.", label, ", ".join(paths))
    if any(absent):
        detail = ", ".join(
            f"uns[{p!r}] ({r} renamed" + (f", {a} no longer in the data" if a else "") + ")"
            for p, r, a in zip(paths, renamed, absent, strict=True)
        )
        warnings.warn(
            f"{label}: feature names in {detail} were renamed to the new var_names; names of dropped features "
            "were left as they were, so these entries name features the data no longer has. Recompute them on "
            "the harmonized data where that matters.",
            UserWarning,
            stacklevel=5,
        )
    return {
        "entry": np.array(paths, dtype=object),
        "renamed": np.array(renamed, dtype=np.int64),
        "absent": np.array(absent, dtype=np.int64),
    }


def _gene_modalities(mdata: MuData) -> list[str]:
    chosen = []
    for name, mod_adata in mdata.mod.items():
        ftypes = mod_adata.var.get("feature_types")
        if ftypes is not None and len(ftypes):
            if pd.Series(ftypes).astype(str).str.lower().isin(GENE_FEATURE_TYPES).mean() > 0.5:
                chosen.append(name)
        elif name.lower() in GENE_MODALITIES:
            chosen.append(name)
    return chosen


def harmonize_var_names(
    data: AnnData | MuData,
    *,
    snapshot: SnapshotLike | None = None,
    organism: str | None = None,
    release: int | None = None,
    to: str = "ensembl_gene",
    id_key: str | None = None,
    ambiguous: Ambiguous = "best",
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
    unmapped: Unmapped = "keep",
    duplicates: Duplicates = "sum",
    symbol_key: str = "symbol",
    mod: str | Sequence[str] | None = None,
    key_added: str = "idtrack",
    from_release: int | Literal["auto"] | None = "auto",
    pair_key: str | None = "auto",
    copy: bool = False,
) -> AnnData | MuData | None:
    """Convert feature identifiers to one namespace at one Ensembl release, in place.

    Every feature's identifier is resolved through the snapshot (see
    :func:`idtrack_sc.convert`); ``var_names`` become the target identifiers, features that
    meet under one name are merged, and what happened to each feature is written to ``var``.
    The recommended practice is Ensembl gene IDs as names (stable, unique) and symbols for
    display (``var[symbol_key]``).

    Parameters
    ----------
    data
        AnnData, or MuData (then the modalities ``mod`` are harmonized and the container
        updated).
    snapshot
        A :class:`~idtrack_sc.Snapshot`, a snapshot file, or ``"default"`` for the small
        human subset embedded in the package (demos, tests).
    organism
        With ``snapshot=None``: use the newest cached snapshot of this organism from the
        registry (see :func:`~idtrack_sc.fetch_snapshot`). With a snapshot: checked against it.
    release
        Target Ensembl release (default: the snapshot's newest). Pin it for reproducibility.
    to
        Target namespace: ``"ensembl_gene"`` (default), ``"symbol"``, ``"hgnc_id"``, ``"entrez"``, …
    id_key
        ``var`` column holding the identifiers; ``None`` uses ``var_names``.
    min_evidence
        Weakest evidence tier of inferred history links followed (see
        :func:`~idtrack_sc.convert`): ``"high"``, ``"medium"`` (default), ``"low"`` or ``"none"``
        (Ensembl's own history only).
    ambiguous
        Features whose identifier has several candidates (``1:n``): ``"best"`` applies the
        documented ranking rule and treats ties it cannot break like unmapped features;
        ``"drop"`` removes every ambiguous feature; ``"all"`` copies the feature to every
        candidate.
    unmapped
        Features with no target (``1:0``): ``"keep"`` them under their original identifier
        (never merged with a mapped feature), or ``"drop"`` them (their identifiers are
        listed in ``uns[key_added]["dropped_ids"]``).
    duplicates
        Several features that become one (n→1): ``"sum"`` their counts in ``X`` and every
        layer (sparse stays sparse, dask stays lazy; integers narrower than 64 bits and
        ``float16`` are summed in ``int64`` / ``float32`` so no sum can overflow, recorded in
        ``uns[key_added]["dtype_promoted"]``), keep the ``"first"`` (the others are listed
        with the dropped identifiers), or ``"make_unique"`` their names (``X``, ``X-1``, …).
        The members of a merged feature are listed in a fixed order (the one already named
        as the result, then by reason and identifier), whatever the order of the columns.
    symbol_key
        ``var`` column for the display symbol at the target release.
    mod
        MuData only: modality name(s); default the modalities whose features are genes
        (``var["feature_types"]`` says so, or the modality is called ``rna``/``gex``).
        Every modality is converted before the container is changed: an error leaves it as
        it was. The harmonized modalities replace the old ones in ``mdata.mod``, and the
        container's ``var``, ``varm`` and ``varp`` follow them.
    key_added
        Key in ``uns`` and prefix of the ``var`` columns.
    from_release
        The Ensembl release the dataset was annotated with: a symbol means what it meant
        then (clone-based names such as ``AC007364.1`` were reused for other genes; symbols
        moved between genes). ``"auto"`` (default) infers it from the dataset's own names
        (:func:`idtrack_sc.infer_release`); an undetermined inference, or one that fits the
        target release as well, reads names in the target release's meaning. A release
        number pins it (outside the snapshot's range: an error); ``None`` always reads names
        in the target release's meaning. Recorded in ``uns[key_added]["release"]``.
    pair_key
        A second identifier column of ``var`` (Ensembl IDs beside symbol ``var_names``, as
        10x ``features.tsv`` gives, or symbols beside IDs). ``"auto"`` (default) uses the
        first of ``gene_ids``, ``gene_id``, ``ensembl_id``, … (beside symbols) or
        ``gene_symbols``, ``feature_name``, ``gene_name``, … (beside IDs) that holds the
        other kind of identifier; ``None`` uses one column only. Both columns are resolved:
        the ID decides, the symbol breaks ties among the ID's candidates and stands in where
        the ID is unknown to the snapshot, and each feature's agreement is written to
        ``var['{key_added}_pair']`` (``agree``, ``disagree``, ``tie_broken``, ``id_only``,
        ``symbol_only``, ``neither``).
    copy
        Return a harmonized copy instead of modifying ``data``.

    Returns
    -------
    ``None``, or the harmonized copy if ``copy=True``. Sets

    ``var_names``
        Identifiers in the target namespace (original identifiers for kept unmapped features).
    ``var['{key_added}_original']``
        The original identifier(s), ``|``-joined when features were merged.
    ``var['{key_added}_outcome']``, ``var['{key_added}_reason']``, ``var['{key_added}_targets']``
        Outcome, reason and all candidates (see :data:`idtrack_sc.resolve.REASONS`).
    ``var['{key_added}_gene_id']``, ``var['{key_added}_n_merged']``, ``var[symbol_key]``
        Ensembl gene, number of merged features, display symbol.
    ``var['{key_added}_pair']``, ``var['{key_added}_pair_gene_id']``
        With two identifier columns: their agreement (one status per original feature,
        ``|``-joined like the originals), and the gene(s) named by the column whose answer
        was not used. ``uns[key_added]["pair_disagreements"]`` lists every feature whose two
        columns name different genes.
    ``uns['{key_added}']``
        Parameters, snapshot identity (organism, releases, sha256, schema version), counts
        per outcome and reason, package versions, a session-info environment report, the
        identifiers of dropped features (``dropped_ids``) with their outcome, reason, candidates
        (``dropped_targets``) and the policy that dropped them (``dropped_by``: ambiguous,
        unmapped or duplicates), and ``release``: how names were read (the inferred annotation
        release with its evidence, and the release whose meaning was used).

    Examples
    --------
    >>> import idtrack_sc as its
    >>> import scanpy as sc
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> its.pp.harmonize_var_names(adata, snapshot="default", release=114)  # doctest: +SKIP
    >>> adata.var[["idtrack_original", "symbol", "idtrack_reason"]].head()  # doctest: +SKIP
    """
    _check_policies(key_added, ambiguous=ambiguous, unmapped=unmapped, duplicates=duplicates)
    _check_types(to=to, id_key=id_key, symbol_key=symbol_key, copy=copy)
    if mod is not None and not isinstance(mod, str):
        mod = list(mod)  # any iterable of names, a generator too
        if not all(isinstance(m, str) for m in mod):
            msg = f"mod must be a modality name or names (strings), got {mod!r}."
            raise TypeError(msg)
    snap = resolve_snapshot(snapshot, organism)
    snap.check_release(release)
    min_evidence = check_min_evidence(min_evidence)
    if not (from_release is None or (isinstance(from_release, str) and from_release == "auto")):
        check_from_release(snap, from_release)
    kwargs = {
        "snap": snap,
        "release": release,
        "min_evidence": min_evidence,
        "to": to,
        "id_key": id_key,
        "ambiguous": ambiguous,
        "unmapped": unmapped,
        "duplicates": duplicates,
        "symbol_key": symbol_key,
        "key_added": key_added,
        "from_release": from_release,
        "pair_key": pair_key,
    }

    if isinstance(data, AnnData):
        if mod is not None:
            msg = "mod= is for MuData; an AnnData has no modalities."
            raise ValueError(msg)
        adata = data.copy() if copy else data
        if adata.is_view:
            warnings.warn("Received a view of an AnnData; making a copy.", UserWarning, stacklevel=2)
            _replace_contents(adata, adata.copy())
        if is_harmonized(adata, key_added):
            warnings.warn(
                f"The features were already harmonized (uns[{key_added!r}] exists); nothing done. "
                "Use another key_added to convert again, from var[f'{key_added}_original'] via id_key.",
                UserWarning,
                stacklevel=2,
            )
            return adata if copy else None
        _harmonize_anndata(adata, label="AnnData", **kwargs)
        return adata if copy else None

    from mudata import MuData

    if not isinstance(data, MuData):
        msg = f"data must be an AnnData or MuData, got {type(data).__name__}."
        raise TypeError(msg)
    mdata = data.copy() if copy else data
    mods = [mod] if isinstance(mod, str) else list(mod) if mod is not None else _gene_modalities(mdata)
    unknown = [m for m in mods if m not in mdata.mod]
    if unknown or not mods:
        msg = (
            f"MuData modalities {unknown} do not exist; it has {list(mdata.mod)}."
            if unknown
            else f"No modality of this MuData holds genes; choose with mod= among {list(mdata.mod)}."
        )
        raise ValueError(msg)
    # Every modality is harmonized on a detached twin first (sharing its arrays, no copy), so
    # an error in any of them leaves the container exactly as it was; only then is it changed.
    done: dict[str, tuple[AnnData, np.ndarray]] = {}
    per_mod = {}
    for name in dict.fromkeys(mods):
        if is_harmonized(mdata.mod[name], key_added):
            warnings.warn(f"Modality {name!r} was already harmonized; skipped.", UserWarning, stacklevel=2)
            continue
        twin = _detached(mdata.mod[name])
        positions: dict[str, np.ndarray] = {}
        per_mod[name] = _harmonize_anndata(twin, label=f"modality {name!r}", positions=positions, **kwargs)
        done[name] = (twin, positions["kept"])
    if done:
        _replace_modalities(mdata, done)
    mdata.uns[key_added] = {"modalities": list(per_mod), "counts": per_mod}
    return mdata if copy else None


def _detached(adata: AnnData) -> AnnData:
    """A new AnnData with ``adata``'s arrays (not copied): harmonizing it leaves ``adata`` as it is."""
    twin = AnnData(
        X=adata.X,
        obs=adata.obs.copy(),
        var=adata.var.copy(),
        uns=dict(adata.uns),
        obsm=dict(adata.obsm),
        varm=dict(adata.varm),
        layers={k: v for k, v in adata.layers.items() if k is not None},
        obsp=dict(adata.obsp),
        varp=dict(adata.varp),
    )
    if adata.raw is not None:
        twin.raw = adata.raw.to_adata()
    return twin


def _replace_modalities(mdata: MuData, done: dict[str, tuple[AnnData, np.ndarray]]) -> None:
    """Put harmonized modalities into ``mdata`` and bring its ``var``, ``varm``, ``varp`` along.

    :meth:`mudata.MuData.update` cannot follow features that are renamed and removed at once
    (it raises, leaving the container stale), so the change is made in steps it can follow,
    with public API only, on stand-ins of the modalities (the user's AnnData objects are not
    touched): rename every feature to a unique temporary name; reduce each modality to the
    features that remain; add the copies of ambiguous features (``ambiguous="all"``) as new
    features; rename to the final names; put the harmonized modalities in. Global ``var``
    columns, ``varm`` and ``varp`` rows of the remaining features are kept, whatever the
    mudata release and whether ``update`` pulls columns or not.
    """

    def temporary(mod: str, position: int) -> str:
        return f"\x00idtrack\x00{mod}\x00{position}"

    def positions(mod: str) -> tuple[np.ndarray, np.ndarray]:
        pos = np.asarray(mdata.varmap[mod]).ravel().astype(np.int64)
        return pos > 0, pos - 1

    def standin(mod: str, names: Any) -> AnnData:
        return AnnData(
            obs=pd.DataFrame(index=mdata.mod[mod].obs_names), var=pd.DataFrame(index=pd.Index(names, dtype=object))
        )

    def rename(new_names: Callable[[str, np.ndarray], np.ndarray]) -> None:
        # the container's names and its modalities' together: a pure rename update() follows
        names = mdata.var_names.to_numpy(dtype=object).copy()
        for mod in done:
            inside, at = positions(mod)
            names[inside] = new_names(mod, at[inside])
            renamed = mdata.mod[mod].var_names.to_numpy(dtype=object).copy()
            renamed[at[inside]] = names[inside]
            mdata.mod[mod].var_names = pd.Index(renamed, dtype=object)
        # object dtype keeps the container's names writable by every anndata release (pandas 3 infers `str`)
        mdata.var.index = pd.Index(names, dtype=object)
        mdata.update()

    for mod in done:
        mdata.mod[mod] = standin(mod, mdata.mod[mod].var_names.to_numpy(dtype=object))
    rename(lambda mod, at: np.array([temporary(mod, p) for p in at], dtype=object))

    final: dict[str, list[str]] = {}
    for mod, (_, kept) in done.items():
        first = ~pd.Series(kept).duplicated().to_numpy()
        mdata.mod[mod] = standin(mod, [temporary(mod, p) for p in kept[first]])
        final[mod] = [
            temporary(mod, p) if f else f"{temporary(mod, p)}\x00{j}"
            for j, (p, f) in enumerate(zip(kept, first, strict=True))
        ]
    mdata.update()
    if any(len(names) != mdata.mod[mod].n_vars for mod, names in final.items()):
        for mod, names in final.items():
            mdata.mod[mod] = standin(mod, names)
        mdata.update()

    rename(lambda mod, at: done[mod][0].var_names.to_numpy(dtype=object)[at])
    for mod, (twin, _) in done.items():
        mdata.mod[mod] = twin
    mdata.update()
