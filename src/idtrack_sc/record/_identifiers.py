"""Per original identifier: what became of it, read from a harmonized dataset's ``var`` and record.

:func:`identifier_table` is the one reading shared by :func:`idtrack_sc.get.mapping_table`
(its public form) and :func:`idtrack_sc.pp.check_record` (which compares a recomputation
with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._read import as_str
from ._schema import AMBIGUOUS_EXPANDED, FAILURE_REASONS, OUTCOME_ORDER, var_columns

if TYPE_CHECKING:
    from ._read import Dataset

#: Columns of :func:`mapping_table` (``dataset`` comes first when there are several datasets).
MAPPING_COLUMNS = ("original", "name", "kept", "outcome", "reason", "targets", "gene_id", "symbol", "n_merged")
#: ``dataset`` of the rows a concat result's merged ``var`` gives.
MERGED = "(merged)"
#: Outcome categories of the table: the resolver's three and ``dropped`` when it is not known.
MAPPING_OUTCOMES = (*OUTCOME_ORDER, "dropped")


def _dropped_outcome(record: dict[str, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and reason of dropped identifiers: recorded, implied by the policies, or unknown."""
    outcomes = record.get("dropped_outcomes")
    reasons = record.get("dropped_reasons")
    if outcomes is not None and len(outcomes) == n:
        out = as_str(outcomes)
        why = as_str(reasons) if reasons is not None and len(reasons) == n else np.full(n, "", dtype=object)
        return out, why
    params = record.get("params", {}) or {}
    ambiguous, unmapped = params.get("ambiguous"), params.get("unmapped")
    # which outcomes a policy combination can drop: one outcome means we know it
    dropped_kinds = set()
    if ambiguous == "drop":
        dropped_kinds.add("1:n")
    if unmapped == "drop":
        dropped_kinds.add("1:0")
        if ambiguous == "best":
            dropped_kinds.add("1:n")  # ties the rule could not break are treated as unmapped
    counts = record.get("counts", {}) or {}
    by_outcome = counts.get("outcome", {}) or {}
    # an outcome no feature had cannot have been dropped
    dropped_kinds = {k for k in dropped_kinds if int(by_outcome.get(k, 1))}
    outcome = dropped_kinds.pop() if len(dropped_kinds) == 1 else "dropped"
    reason = ""
    if outcome == "1:0" and not int(counts.get("kept_unmapped", 1)):
        # every failed feature was dropped: with a single failure reason, it is theirs
        failing = {r for r, k in (counts.get("reason", {}) or {}).items() if r in FAILURE_REASONS and int(k)}
        if len(failing) == 1:
            reason = failing.pop()
    return np.full(n, outcome, dtype=object), np.full(n, reason, dtype=object)


def identifier_table(ds: Dataset, key: str) -> pd.DataFrame:
    """One row per original identifier of ``ds`` (columns :data:`MAPPING_COLUMNS`), dropped ones too."""
    record = ds.record
    symbol_key = str(ds.params.get("symbol_key", "symbol") or "symbol")
    parts = []
    if ds.var is not None:
        cols = var_columns(key)
        var = ds.var
        n = len(var)
        originals = as_str(var[cols["original"]])

        def column(name: str, default: Any = "") -> np.ndarray:
            return as_str(var[name]) if name in var.columns else np.full(n, default, dtype=object)

        n_merged = (
            pd.to_numeric(var[cols["n_merged"]], errors="coerce").fillna(1).astype(np.int64).to_numpy()
            if cols["n_merged"] in var.columns
            else np.ones(n, dtype=np.int64)
        )
        split = [o.split("|") if o else [""] for o in originals]
        repeats = np.array([len(s) for s in split], dtype=np.int64)
        rows = np.repeat(np.arange(n), repeats)
        reason = column(cols["reason"])[rows]
        if cols["original_reason"] in var.columns:  # each original's own reason, where recorded
            own = [r.split("|") for r in as_str(var[cols["original_reason"]])]
            own_flat = np.array(
                [w for s, o in zip(split, own, strict=True) for w in (o if len(o) == len(s) else [""] * len(s))],
                dtype=object,
            )
            expanded = reason == AMBIGUOUS_EXPANDED
            reason = np.where((own_flat != "") & ~expanded, own_flat, reason)
        parts.append(
            pd.DataFrame(
                {
                    "original": np.array([o for s in split for o in s], dtype=object),
                    "name": as_str(var.index)[rows],
                    "kept": np.ones(len(rows), dtype=bool),
                    "outcome": column(cols["outcome"])[rows],
                    "reason": reason,
                    "targets": column(cols["targets"])[rows],
                    "gene_id": column(cols["gene_id"])[rows],
                    "symbol": column(symbol_key)[rows],
                    "n_merged": n_merged[rows],
                }
            )
        )
    dropped = record.get("dropped_ids")
    dropped = as_str(dropped) if dropped is not None else np.array([], dtype=object)
    if len(dropped):
        outcome, reason = _dropped_outcome(record, len(dropped))
        empty = np.full(len(dropped), "", dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "original": dropped,
                    "name": empty,
                    "kept": np.zeros(len(dropped), dtype=bool),
                    "outcome": outcome,
                    "reason": reason,
                    "targets": empty,
                    "gene_id": empty,
                    "symbol": empty,
                    "n_merged": np.zeros(len(dropped), dtype=np.int64),
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: [] for c in MAPPING_COLUMNS})
    return pd.concat(parts, ignore_index=True)
