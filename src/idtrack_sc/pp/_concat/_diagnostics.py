"""Cross-dataset diagnostics of a concatenation, and the ``uns[key_added]`` record they make."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._userwarn import warn
from ...record import make_record, uns_key, var_columns

if TYPE_CHECKING:
    from anndata import AnnData

    from ...snapshot import Snapshot
    from ._inputs import _Dataset
    from ._union import _FeatureUnion

logger = logging.getLogger(__name__)


def _strings(values: Any) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=object)


@dataclass
class _Diagnostics:
    """Cross-dataset diagnostics, collected one dataset at a time."""

    key_added: str
    table: pd.DataFrame  # conversion of every distinct identifier, indexed by query
    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    n_obs: list[int] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    collapsed: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    kept_failed: dict[str, set[str]] = field(default_factory=dict)
    expanded: set[str] = field(default_factory=set)
    ambiguous_in: dict[str, list[str]] = field(default_factory=dict)
    ambiguous_info: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    kept_reason: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (outcome, reason)
    kept_apart: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, name, dataset, reason)

    def add(self, ds: _Dataset, adata: AnnData, rec: dict[str, Any], identifiers: np.ndarray) -> None:
        cols = var_columns(self.key_added)
        name = ds.name
        self.names.append(name)
        self.sources.append(str(ds.source) if isinstance(ds.source, Path) else "")
        self.n_obs.append(int(adata.n_obs))
        self.counts.append(rec["counts"])
        self.provenance[uns_key(name)] = {
            k: v
            for k, v in rec.items()
            if k
            not in (
                "environment",
                "dropped_ids",
                "dropped_outcomes",
                "dropped_reasons",
                "dropped_by",
                "dropped_targets",
            )
        }

        all_dropped = np.asarray(rec.get("dropped_ids", []), dtype=object)
        dropped_by = np.asarray(rec.get("dropped_by", np.full(len(all_dropped), "")), dtype=object)
        duplicate = dropped_by == "duplicates"  # mapped, but left out by duplicates="first": not failed
        self.provenance[uns_key(name)]["dropped_duplicates"] = _strings(all_dropped[duplicate])
        dropped = all_dropped[~duplicate]
        if "dropped_reasons" in rec and len(rec["dropped_reasons"]) == len(all_dropped):
            # the dataset's own reasons: its names may have been read in its own release
            outcomes = np.asarray(rec.get("dropped_outcomes", []), dtype=object)
            reasons = np.asarray(rec["dropped_reasons"], dtype=object)
            if len(outcomes) != len(reasons):
                outcomes = np.full(len(reasons), "", dtype=object)
            self.failed[uns_key(name)] = {
                "id": _strings(dropped),
                "outcome": _strings(outcomes[~duplicate]),
                "reason": _strings(reasons[~duplicate]),
            }
        else:
            self.failed[uns_key(name)] = {"id": _strings(dropped), **self._reasons(dropped)}

        var = adata.var
        n_merged = var[cols["n_merged"]].to_numpy()
        many = n_merged > 1
        self.collapsed[uns_key(name)] = {
            "name": _strings(var.index[many]),
            "originals": _strings(var[cols["original"]].to_numpy(dtype=object)[many]),
        }
        outcome = var[cols["outcome"]].astype(str).to_numpy(dtype=object)
        reason = var[cols["reason"]].astype(str).to_numpy(dtype=object)
        originals = var[cols["original"]].astype(str).to_numpy(dtype=object)
        kept = (outcome != "1:1") & (reason != "ambiguous_expanded")
        self.kept_failed[name] = {o for joined in originals[kept] for o in joined.split("|")}
        for joined, why, out in zip(originals[kept], reason[kept], outcome[kept], strict=True):
            for o in joined.split("|"):  # the first dataset's own reason
                self.kept_reason.setdefault(o, (out, why))
        self.expanded |= {o for joined in originals[reason == "ambiguous_expanded"] for o in joined.split("|")}
        self._note_kept_apart(ds, rec.get("kept_apart"))

        # ambiguity as this dataset resolved it (its names may have been read in its own
        # release, or with a second identifier column): from its var and dropped features
        targets = var[cols["targets"]].astype(str).to_numpy(dtype=object)
        several = np.array(["|" in t for t in targets], dtype=bool)
        for i in np.flatnonzero((outcome == "1:n") | ((outcome == "1:1") & several)):
            if outcome[i] == "1:1":
                handling, chosen = "best", targets[i].split("|")[0]
            else:
                handling, chosen = ("expanded" if reason[i] == "ambiguous_expanded" else "kept_unresolved"), ""
            self._note_ambiguous(name, originals[i].split("|")[0], targets[i], chosen, handling)
        dropped_outcomes = np.asarray(rec.get("dropped_outcomes", []), dtype=object)
        dropped_targets = np.asarray(rec.get("dropped_targets", [""] * len(all_dropped)), dtype=object)
        for query, out, cands in zip(all_dropped, dropped_outcomes, dropped_targets, strict=False):
            if out == "1:n":
                self._note_ambiguous(name, "" if query is None else str(query), str(cands), "", "dropped")

    def _note_kept_apart(self, ds: _Dataset, apart: dict[str, np.ndarray] | None) -> None:
        """Failed identifiers of one dataset kept apart from the gene of that name, with a warning."""
        if not apart or not len(apart["name"]):
            return
        rows = list(zip(_strings(apart["original"]), _strings(apart["name"]), _strings(apart["reason"]), strict=True))
        self.kept_apart += [(o, n, ds.name, r) for o, n, r in rows]
        o, n, r = rows[0]
        warn(
            f"{ds.label}: {len(rows)} identifier(s) failing here are another gene's name at the target release "
            f"(e.g. {o!r}: {r} in this dataset's reading); kept apart as {n!r}, never joined with that gene. "
            f"Listed in uns[{self.key_added!r}]['kept_apart'].",
            UserWarning,
        )

    def _note_ambiguous(self, name: str, query: str, candidates: str, chosen: str, handling: str) -> None:
        """One ambiguous identifier of one dataset (the first dataset's reading is reported)."""
        if query not in self.ambiguous_info:
            self.ambiguous_info[query] = (candidates, chosen, handling)
        datasets = self.ambiguous_in.setdefault(query, [])
        if name not in datasets:
            datasets.append(name)

    def _reasons(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """``outcome`` and ``reason`` of identifiers, as the shared conversion table has them."""
        if not len(ids):
            return {"outcome": np.array([], dtype=object), "reason": np.array([], dtype=object)}
        rows = self.table.reindex(pd.Index(_strings(ids)))
        missing = pd.isna(rows["outcome"]).to_numpy()
        return {
            key: np.where(missing, "", rows[key].astype(str).to_numpy(dtype=object)).astype(object)
            for key in ("outcome", "reason")
        }

    def ambiguous(self) -> dict[str, np.ndarray]:
        queries = sorted(self.ambiguous_in)
        info = [self.ambiguous_info[q] for q in queries]
        return {
            "id": _strings(queries),
            "n_candidates": np.array([len(c.split("|")) if c else 0 for c, _, _ in info], dtype=np.int64),
            "candidates": _strings(c for c, _, _ in info),
            "chosen": _strings(chosen for _, chosen, _ in info),
            "handling": _strings(h for _, _, h in info),
            "datasets": _strings("|".join(self.ambiguous_in[q]) for q in queries),
        }

    def failed_consistent(self) -> dict[str, np.ndarray]:
        sets = list(self.kept_failed.values())
        common = sorted(set.intersection(*sets)) if sets else []
        ids = np.array(common, dtype=object)
        kept = [self.kept_reason.get(i, ("", "")) for i in ids]
        return {"id": _strings(ids), "outcome": _strings(o for o, _ in kept), "reason": _strings(r for _, r in kept)}

    def counts_table(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"n_obs": np.array(self.n_obs, dtype=np.int64)}
        flat_keys = (
            "n_vars_before",
            "n_vars_after",
            "dropped",
            "kept_unmapped",
            "expanded_ambiguous",
            "collapsed_groups",
            "collapsed_features",
            "renamed_unique",
        )
        for key in flat_keys:
            out[key] = np.array([int(c.get(key, 0)) for c in self.counts], dtype=np.int64)
        for outcome, key in (("1:1", "n_1to1"), ("1:n", "n_1ton"), ("1:0", "n_1to0")):
            out[key] = np.array([int(c["outcome"].get(outcome, 0)) for c in self.counts], dtype=np.int64)
        return out


def _summary(
    diag: _Diagnostics, union: _FeatureUnion, n_result: int, *, snap: Snapshot, params: dict[str, Any]
) -> dict[str, Any]:
    """The ``uns[key_added]`` record of a concatenation: every record's fields and the concat's own.

    ``counts`` holds one array per count, one value per dataset; :data:`idtrack_sc.record.CONCAT_KEYS`
    are the fields beyond those of :func:`idtrack_sc.record.make_record`.
    """
    rec = make_record(
        function="idtrack_sc.concat_harmonized",
        params=params,
        snapshot=snap,
        counts=diag.counts_table(),
        environment=True,
    )
    return rec | {
        "datasets": _strings(diag.names),
        "sources": _strings(diag.sources),
        "provenance": diag.provenance,
        "failed": diag.failed,
        "failed_consistent": diag.failed_consistent(),
        "ambiguous": diag.ambiguous(),
        "collapsed": diag.collapsed,
        "n_vars": {
            "union": len(union.frame) if union.frame is not None else 0,
            "intersection": len(union.intersection) if union.intersection is not None else 0,
            "result": int(n_result),
        },
        "kept_apart": {
            key: _strings(row[i] for row in diag.kept_apart)
            for i, key in enumerate(("id", "name", "dataset", "reason"))
        },
    }


def _log_summary(summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    logger.info(
        "concat_harmonized: %d datasets, %d cells, %d features (union %d, intersection %d); "
        "%d identifiers dropped, %d failed in every dataset and kept, %d ambiguous",
        len(summary["datasets"]),
        int(counts["n_obs"].sum()),
        summary["n_vars"]["result"],
        summary["n_vars"]["union"],
        summary["n_vars"]["intersection"],
        int(counts["dropped"].sum()),
        len(summary["failed_consistent"]["id"]),
        len(summary["ambiguous"]["id"]),
    )
