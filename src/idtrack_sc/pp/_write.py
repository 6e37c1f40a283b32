"""Write a plan's outcome back: the ``var`` columns, the ``uns`` record, and what follows the features.

The layout (column names, record fields) is :mod:`idtrack_sc.record`'s; this module fills it
in. What follows the features: ``.raw`` is harmonized the same way, and feature names held
in ``uns`` arrays (scanpy's ``rank_genes_groups`` names, …) are renamed.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from anndata import AnnData

from .._userwarn import warn
from ..record import OUTCOME_ORDER, OUTCOMES, TEXT, as_str, make_record, n_datasets_column, uns_key, var_columns

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..snapshot import Snapshot
    from ._plan import FeaturePlan

logger = logging.getLogger(__name__)


def check_key_added(key_added: object) -> None:
    """Refuse a ``key_added`` that cannot be an ``uns`` key and a ``var`` column prefix in ``.h5ad``/zarr."""
    if not isinstance(key_added, str) or not key_added.strip() or "/" in key_added or not key_added.strip("."):
        msg = (
            f"key_added must be a non-empty string without '/' and not made of dots only (an .h5ad or zarr "
            f"group name), got {key_added!r}."
        )
        raise ValueError(msg)


def written_columns(key_added: str) -> list[str]:
    """The ``var`` columns harmonization writes under ``key_added`` (besides ``symbol_key``)."""
    return [*var_columns(key_added).values(), n_datasets_column(key_added)]


def kept_symbol_column(symbol_key: str, key_added: str) -> str:
    """Where a ``var[symbol_key]`` the dataset had (with other values) is kept: ``{symbol_key}_before_{key_added}``."""
    return f"{symbol_key}_before_{key_added}"


def check_symbol_key(symbol_key: str, key_added: str) -> None:
    """Refuse a ``symbol_key`` that would overwrite another record column or cannot be stored."""
    if "/" in symbol_key or not symbol_key.strip("."):
        msg = f"symbol_key must be a var column name without '/' and not made of dots only, got {symbol_key!r}."
        raise ValueError(msg)
    if symbol_key in written_columns(key_added):
        msg = (
            f"symbol_key={symbol_key!r} is a column harmonization writes itself (key_added={key_added!r}): the "
            "symbols would overwrite the record (the original identifiers among it). Choose another name."
        )
        raise ValueError(msg)


def check_var_columns(var: pd.DataFrame, *, key_added: str, symbol_key: str, label: str) -> None:
    """Refuse, before anything changes, ``var`` columns that writing the record would overwrite and lose.

    The ``{key_added}_*`` columns are harmonization's own: present without the ``uns`` record,
    they are an earlier harmonization whose record was lost, and hold the true original
    identifiers. A ``var[symbol_key]`` of the dataset's own is kept (see :func:`write_var`).
    """
    found = [c for c in written_columns(key_added) if c in var.columns]
    if found:
        msg = (
            f"{label}: var already has {found}, columns harmonization writes under key_added={key_added!r}, but "
            f"uns[{key_added!r}] is missing (a harmonization whose record was lost?). Overwriting them would lose "
            f"the identifiers they hold: convert from them with id_key='{key_added}_original' and another "
            "key_added, or rename or delete these columns."
        )
        raise ValueError(msg)
    kept = kept_symbol_column(symbol_key, key_added)
    if symbol_key in var.columns and kept in var.columns:
        msg = (
            f"{label}: var has both {symbol_key!r} and {kept!r}, where a var[{symbol_key!r}] of the dataset's own "
            "would be kept: choose another symbol_key, or rename one of them."
        )
        raise ValueError(msg)


def write_var(
    adata: AnnData, plan: FeaturePlan, *, key_added: str, symbol_key: str, id_key: str | None = None, label: str = ""
) -> None:
    """Set ``var_names`` to the new names and write the record's ``var`` columns.

    Nothing the dataset had is lost: with ``id_key``, the old ``var_names`` are kept in
    ``var['{key_added}_original_var_name']``; a ``var[symbol_key]`` of the dataset's own whose
    values differ from the new symbols is kept as ``var['{symbol_key}_before_{key_added}']``
    (unless it is ``id_key``, whose values are in ``var['{key_added}_original']``).
    """
    cols = var_columns(key_added)
    var = adata.var.copy()

    def text(values: np.ndarray) -> pd.Series:
        # pandas' own string dtype (str under pandas 3, which needs anndata>=0.13 to write it):
        # what read_h5ad gives back, so a round trip changes nothing
        return pd.Series(np.asarray(values, dtype=object).tolist(), index=var.index, dtype=TEXT)

    table = plan.table
    var[cols["original"]] = text(plan.joined)
    var[cols["outcome"]] = pd.Categorical(plan.outcome, categories=OUTCOMES)
    var[cols["reason"]] = text(plan.reason)
    # each original identifier's own reason, aligned with the joined originals (a merged
    # feature's reason is its first member's: ``TP53|ENSG00000141510.19`` is unchanged|version_stripped)
    var[cols["original_reason"]] = text(plan.joined_members(as_str(table["reason"])))
    var[cols["targets"]] = text(as_str(table["targets"])[plan.first_src])
    var[cols["gene_id"]] = text(plan.genes)
    var[cols["n_merged"]] = plan.n_merged
    if id_key is not None:
        var[cols["original_var_name"]] = text(plan.joined_members(plan.old_names))
    if symbol_key in var.columns and symbol_key != id_key:
        old = var[symbol_key].astype(object).where(var[symbol_key].notna(), "").astype(str).to_numpy(dtype=object)
        if (old != plan.symbols).any():
            kept = kept_symbol_column(symbol_key, key_added)
            var[kept] = var.pop(symbol_key)
            warn(
                f"{label}: var already had a column {symbol_key!r} (symbol_key) with other values than the new "
                f"symbols; it is kept as var[{kept!r}].",
                UserWarning,
            )
    var[symbol_key] = text(plan.symbols)
    if plan.pair_status is not None:
        # one status per original feature, aligned with the joined originals
        var[cols["pair"]] = text(plan.joined_members(plan.pair_status))
        var[cols["pair_gene_id"]] = text(plan.pair_genes[plan.first_src])
    var.index = plan.new_names
    adata.var = var


def plan_counts(plan: FeaturePlan, *, n_vars_after: int, duplicates: str) -> dict[str, Any]:
    """The ``counts`` of the record: outcomes and reasons before, what was dropped, merged, renamed."""
    table = plan.table
    sizes = plan.sizes
    dropped_by = plan.dropped_by
    n_collapsed_groups = int((sizes > 1).sum()) if duplicates != "make_unique" else 0
    before = Counter(table["outcome"].astype(str))
    counts = {
        "n_vars_before": plan.n_old,
        "n_vars_after": n_vars_after,
        "outcome": {k: int(before.get(k, 0)) for k in OUTCOME_ORDER},
        "reason": {str(k): int(v) for k, v in table["reason"].astype(str).value_counts().sort_index().items()},
        "outcome_reason": {
            str(o): {str(r): int(n) for r, n in group.value_counts().sort_index().items()}
            for o, group in table["reason"].astype(str).groupby(table["outcome"].astype(str).to_numpy(), sort=True)
        },
        "dropped": len(plan.dropped_at),
        "dropped_by": {k: int((dropped_by == k).sum()) for k in ("ambiguous", "unmapped", "duplicates")},
        "kept_unmapped": int((plan.kinds == "kept").sum()),
        "expanded_ambiguous": int((plan.rows["kind"] == "expanded").sum()),
        "collapsed_groups": n_collapsed_groups,
        "collapsed_features": int(sizes[sizes > 1].sum()) if n_collapsed_groups else 0,
        "renamed_unique": plan.n_renamed,
    }
    if plan.pair_status is not None:
        counts["pair"] = {str(k): int(v) for k, v in sorted(Counter(plan.pair_status).items())}
    return counts


def plan_record(
    plan: FeaturePlan,
    counts: dict[str, Any],
    promoted: dict[str, str],
    *,
    snap: Snapshot,
    params: dict[str, Any],
    environment: bool,
    label: str,
    function: str = "idtrack_sc.pp.harmonize_var_names",
) -> dict[str, Any]:
    """The ``uns[key_added]`` record of :func:`~idtrack_sc.pp.harmonize_var_names` (without ``.raw``/``uns`` renames)."""
    table = plan.table
    rec = make_record(
        function=function,
        params=params,
        snapshot=snap,
        counts=counts,
        environment=environment,
    )
    rec["release"] = plan.release_record
    if plan.kept_apart is not None:
        apart = plan.kept_apart
        rec["kept_apart"] = {
            "original": np.asarray(plan.joined, dtype=object)[apart],
            "name": plan.new_names.to_numpy(dtype=object)[apart],
            "reason": np.asarray(plan.reason, dtype=object)[apart],
        }
    if plan.pair_status is not None:
        dis = np.flatnonzero(plan.pair_status == "disagree")
        rec["pair_disagreements"] = {
            "original": plan.orig_str[dis],
            "paired": np.array(["" if v is None else str(v) for v in plan.paired[dis]], dtype=object),
            "gene_id": as_str(table["gene_id"])[dis],
            "pair_gene_id": np.asarray(plan.pair_genes, dtype=object)[dis],
        }
    dropped_at = plan.dropped_at
    rec["dropped_ids"] = np.array(["" if d is None else str(d) for d in plan.originals[dropped_at]], dtype=object)
    rec["dropped_outcomes"] = as_str(table["outcome"])[dropped_at]
    rec["dropped_reasons"] = as_str(table["reason"])[dropped_at]
    rec["dropped_targets"] = as_str(table["targets"])[dropped_at]
    rec["dropped_by"] = np.asarray(plan.dropped_by, dtype=object)
    # matrices whose duplicate features were summed in a wider dtype, so no sum can overflow
    rec["dtype_promoted"] = promoted
    if promoted:
        logger.warning("%s: duplicate features summed in a wider dtype: %s", label, promoted)
    return rec


def record_var_aligned(
    rec: dict[str, Any], var_aligned: dict[str, dict[str, str]], *, label: str, key_added: str
) -> None:
    """Note in ``rec["var_aligned"]`` what became of each ``varm``/``varp`` entry of merged features.

    Summed entries are only noted; the ones that cannot be summed were dropped, which is also
    logged (never silently the first member's row).
    """
    if not var_aligned:
        return
    rec["var_aligned"] = {attr: {uns_key(k): v for k, v in notes.items()} for attr, notes in var_aligned.items()}
    dropped = [f"{attr}[{k!r}]" for attr, notes in var_aligned.items() for k, v in notes.items() if v != "summed"]
    if dropped:
        logger.warning(
            "%s: %s dropped: they cannot be summed over merged features (uns[%r]['var_aligned']).",
            label,
            ", ".join(dropped),
            key_added,
        )


# ---------------------------------------------------------------------------------------------
# what follows the features: .raw and gene-keyed uns entries
# ---------------------------------------------------------------------------------------------
#: Share of an ``uns`` array's strings that must be old feature names for it to count as gene-keyed.
GENE_KEYED_SHARE = 0.5


def follow_features(
    adata: AnnData,
    renames: dict[str, str],
    *,
    harmonize: Callable[..., dict[str, Any]],
    label: str,
    key_added: str,
    **kwargs: Any,
) -> dict[str, Any]:
    """Harmonize ``adata.raw`` like ``adata`` and rename gene-keyed ``uns`` entries; return the record.

    ``renames`` maps every old ``var_name`` that survived to its new name (the first, for a
    feature copied to several candidates). ``harmonize`` is the per-AnnData harmonization
    (``idtrack_sc.pp._harmonize._harmonize_anndata``), run on ``.raw`` with ``kwargs``.
    """
    record: dict[str, Any] = {"raw": "none"}
    present = set(adata.var_names)
    if adata.raw is not None:
        raw_var = adata.raw.var
        id_key = kwargs["id_key"]
        if id_key is not None and id_key not in raw_var.columns:
            record["raw"] = "unchanged"
            warn(
                f"{label}: .raw was left unchanged: its var has no column {id_key!r} to read identifiers from, so "
                f".raw keeps the original feature names while var_names changed. Convert it separately, or drop it "
                "(del adata.raw).",
                UserWarning,
            )
        else:
            raw = AnnData(
                X=adata.raw.X,
                obs=pd.DataFrame(index=adata.obs_names),
                var=raw_var.copy(),
                varm=dict(adata.raw.varm),
            )
            try:
                raw_counts = harmonize(
                    raw, label=f"{label} .raw", environment=False, follow=False, key_added=key_added, **kwargs
                )
            except ValueError as err:  # X is already harmonized: leave .raw as it was, and say so
                warn(f"{label}: .raw was left unchanged: {err}", UserWarning)
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
        warn(
            f"{label}: feature names in {detail} were renamed to the new var_names; names of dropped features "
            "were left as they were, so these entries name features the data no longer has. Recompute them on "
            "the harmonized data where that matters.",
            UserWarning,
        )
    return {
        "entry": np.array(paths, dtype=object),
        "renamed": np.array(renamed, dtype=np.int64),
        "absent": np.array(absent, dtype=np.int64),
    }
