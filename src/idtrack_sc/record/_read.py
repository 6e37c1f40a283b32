"""The one reader of the record: what was harmonized in an AnnData, MuData, concat result or mapping.

The getters, plots, reports, the compatibility layer and the command line all start here: :func:`collect` turns any of those into a
:class:`Harmonized` — a list of datasets (each with its provenance record and, when it is
still at hand, its ``var``) and, for several datasets, the union and intersection widths.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from anndata import AnnData

from ._schema import FAILURE_REASONS, OUTCOME_ORDER, presence_key, uns_key, var_columns

logger = logging.getLogger(__name__)


@dataclass
class Dataset:
    """One harmonized dataset: its name, provenance record and (if available) ``var``."""

    name: str
    record: dict[str, Any]
    var: pd.DataFrame | None = None
    var_names: pd.Index | None = None

    @property
    def counts(self) -> dict[str, Any]:
        """The ``counts`` of the record (empty if there are none)."""
        counts = self.record.get("counts", {})
        return counts if isinstance(counts, Mapping) else {}

    @property
    def params(self) -> dict[str, Any]:
        """The ``params`` of the record (empty if there are none)."""
        params = self.record.get("params", {})
        return params if isinstance(params, Mapping) else {}


@dataclass
class Harmonized:
    """What :func:`~idtrack_sc.record.collect` found."""

    kind: str  # "anndata", "mudata", "mapping" or "concat"
    datasets: list[Dataset]
    record: dict[str, Any] = field(default_factory=dict)
    widths: dict[str, int] | None = None  # union / intersection, for several datasets
    diagnostics: dict[str, list[str]] = field(default_factory=dict)
    #: a concat result's ``varm['{key}_presence']`` (features x datasets, boolean), if it has one
    presence: pd.DataFrame | None = None

    def lacking(self) -> dict[str, pd.Index]:
        """Per dataset (by name), the features of the result it did not measure (from ``presence``)."""
        if self.presence is None:
            return {}
        out = {}
        for ds in self.datasets:
            column = uns_key(ds.name)
            if column in self.presence.columns:
                measured = self.presence[column].to_numpy(dtype=bool)
                out[ds.name] = self.presence.index[~measured]
        return out

    @property
    def several(self) -> bool:
        """Whether there is more than one dataset."""
        return len(self.datasets) > 1 or self.kind in ("mapping", "concat", "mudata")


def _not_harmonized(what: str, key: str, available: Any = ()) -> ValueError:
    hint = f" It has uns keys {sorted(map(str, available))}." if len(available) else ""
    msg = (
        f"{what} was not harmonized under key {key!r}: uns[{key!r}] is missing.{hint} "
        "Run idtrack_sc.pp.harmonize_var_names (or idtrack_sc.concat_harmonized) first, "
        "or pass the key_added you used as key=."
    )
    return ValueError(msg)


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _anndata_dataset(adata: AnnData, key: str, name: str) -> Dataset:
    if key not in adata.uns:
        raise _not_harmonized(f"Dataset {name!r}" if name else "The AnnData", key, adata.uns.keys())
    record = _as_dict(adata.uns[key])
    cols = var_columns(key)
    var = adata.var if cols["original"] in adata.var.columns else None
    if var is None:
        logger.info("%s: no %r column in var; only the counts of uns[%r] are used.", name, cols["original"], key)
    return Dataset(name=name, record=record, var=var, var_names=adata.var_names)


def _concat_datasets(record: dict[str, Any]) -> list[Dataset]:
    """Per-dataset records of a :func:`~idtrack_sc.concat_harmonized` result.

    The record lists the ``datasets``, each one's harmonization record under
    ``provenance[name]`` and its dropped identifiers with their reasons under ``failed[name]``.
    """
    names = [str(n) for n in np.asarray(record.get("datasets", []), dtype=object).ravel()]
    provenance = _as_dict(record.get("provenance"))
    failed = _as_dict(record.get("failed"))
    out = []
    for name in names:
        key = uns_key(name)
        sub = dict(_as_dict(provenance.get(key, provenance.get(name))))
        sub.setdefault("params", record.get("params", {}))
        sub.setdefault("snapshot", record.get("snapshot", {}))
        dropped = _as_dict(failed.get(key, failed.get(name)))
        ids = np.asarray(dropped.get("id", []), dtype=object).ravel()

        def column(name: str, dropped: dict[str, Any] = dropped, ids: np.ndarray = ids) -> np.ndarray:
            values = np.asarray(dropped.get(name, [""] * len(ids)), dtype=object).ravel()
            values = values if len(values) == len(ids) else np.full(len(ids), "", dtype=object)
            return np.array(["" if v is None else str(v) for v in values], dtype=object)

        reasons, outcomes = column("reason"), column("outcome")
        # older records wrote no outcome and "ambiguous" as the reason of a dropped 1:n
        legacy = np.where(reasons == "ambiguous", "1:n", np.where(reasons == "", "dropped", "1:0"))
        sub["dropped_ids"] = ids
        sub["dropped_outcomes"] = np.where(outcomes != "", outcomes, legacy)
        sub["dropped_reasons"] = np.where(reasons == "ambiguous", "", reasons)
        out.append(Dataset(name=name, record=sub))
    return out


def _is_concat(record: dict[str, Any]) -> bool:
    return "provenance" in record and "datasets" in record


def _widths(datasets: list[Dataset]) -> dict[str, int] | None:
    names = [d.var_names for d in datasets if d.var_names is not None]
    if len(names) < 2 or len(names) != len(datasets):
        return None
    union = names[0]
    inter = names[0]
    for idx in names[1:]:
        union = union.union(idx, sort=False)
        inter = inter.intersection(idx, sort=False)
    return {"union": len(union), "intersection": len(inter)}


def _diagnostic_lists(record: dict[str, Any]) -> dict[str, list[str]]:
    """Cross-dataset diagnostics of a concat record, as sorted lists of identifiers."""

    def ids(table: Any, column: str = "id") -> list[str]:
        table = _as_dict(table)
        return [str(v) for v in np.asarray(table.get(column, []), dtype=object).ravel()]

    failed = sorted({i for t in _as_dict(record.get("failed")).values() for i in ids(t)})
    collapsed = sorted(
        {
            o
            for t in _as_dict(record.get("collapsed")).values()
            for joined in ids(t, "originals")
            for o in joined.split("|")
        }
    )
    return {
        "failed": failed,
        "failed_consistent": ids(record.get("failed_consistent")),
        "ambiguous": ids(record.get("ambiguous")),
        "collapsed": collapsed,
    }


def collect(data: Any, key: str = "idtrack") -> Harmonized:
    """Find the harmonized datasets in ``data``.

    Parameters
    ----------
    data
        A harmonized AnnData, a MuData with harmonized modalities, a result of
        :func:`~idtrack_sc.concat_harmonized`, or a mapping of names to harmonized AnnDatas.
    key
        The ``key_added`` used when harmonizing.

    Returns
    -------
    The datasets, their records and (for several) the union/intersection widths.
    """
    if isinstance(data, Mapping) and not isinstance(data, AnnData):
        if not data:
            msg = "The mapping of datasets is empty."
            raise ValueError(msg)
        datasets = []
        for name, adata in data.items():
            if not isinstance(adata, AnnData):
                msg = f"Dataset {name!r} is a {type(adata).__name__}, not an AnnData."
                raise TypeError(msg)
            datasets.append(_anndata_dataset(adata, key, str(name)))
        first = datasets[0].record
        return Harmonized(kind="mapping", datasets=datasets, record=first, widths=_widths(datasets))

    if isinstance(data, AnnData):
        if key not in data.uns:
            msg_0 = "The AnnData"
            raise _not_harmonized(msg_0, key, data.uns.keys())
        record = _as_dict(data.uns[key])
        if _is_concat(record):
            n_vars = _as_dict(record.get("n_vars"))
            widths = {k: int(n_vars[k]) for k in ("union", "intersection") if k in n_vars} or None
            presence = data.varm.get(presence_key(key)) if presence_key(key) in data.varm else None
            return Harmonized(
                kind="concat",
                datasets=_concat_datasets(record),
                record=record,
                widths=widths,
                diagnostics=_diagnostic_lists(record),
                presence=presence if isinstance(presence, pd.DataFrame) else None,
            )
        return Harmonized(kind="anndata", datasets=[_anndata_dataset(data, key, "")], record=record)

    try:
        from mudata import MuData
    except ImportError:  # pragma: no cover - mudata is a dependency
        MuData = ()
    if isinstance(data, MuData):
        record = _as_dict(data.uns.get(key))
        mods = [str(m) for m in record.get("modalities", [])] or [m for m, a in data.mod.items() if key in a.uns and m]
        if not mods:
            msg_0 = "The MuData"
            raise _not_harmonized(msg_0, key, data.uns.keys())
        datasets = [_anndata_dataset(data.mod[m], key, m) for m in mods]
        return Harmonized(kind="mudata", datasets=datasets, record=datasets[0].record)

    msg = f"Expected a harmonized AnnData, MuData or a mapping of AnnDatas, got {type(data).__name__}."
    raise TypeError(msg)


def as_str(values: Any) -> np.ndarray:
    """Strings of a column or array; missing values become ``""``."""
    series = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values)
    series = series.astype(object)
    return series.where(series.notna(), "").astype(str).to_numpy(dtype=object)


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with text cells that a spreadsheet would run as a formula prefixed with ``'``.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written as
    ``'=1+1``: spreadsheets show it as text, and removing the leading quote gives the value
    back. Numbers (``-1``, ``+2.5e3``) are left as they are: a spreadsheet reads them as
    numbers, which they are. Gene IDs and symbols never start with these characters; the
    user's own identifiers (a query such as ``=HYPERLINK(…)``) may. Only text columns are
    touched, on a copy.
    """
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)
        ):
            continue
        text = values.astype(object)
        is_str = text.map(lambda v: isinstance(v, str)).astype(bool)
        starts = is_str & text.where(is_str, "").str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        risky = starts & ~text.where(starts, "").str.match(_NUMBER).fillna(False).astype(bool)
        if risky.any():
            out[column] = text.where(~risky, "'" + text.where(risky, "").astype(str))
    return out


def outcome_reason_counts(dataset: Dataset) -> tuple[dict[str, int], dict[str, dict[str, int] | None]]:
    """Outcome counts of a dataset and, when they are known exactly, reason counts per outcome.

    Failure reasons only occur with ``1:0``; success reasons are split between ``1:1`` and
    ``1:n`` exactly when there are no ``1:n`` features (or the record says how).

    Returns
    -------
    ``(outcomes, by_outcome)``: ``{"1:1": n, ...}`` and ``{"1:1": {reason: n}, ...}``, where the
    reasons of ``1:1`` and ``1:n`` are ``None`` when their split is not known.
    """
    counts = dataset.counts
    outcomes = {o: int(_as_dict(counts.get("outcome")).get(o, 0)) for o in OUTCOME_ORDER}
    explicit = _as_dict(counts.get("outcome_reason"))
    if explicit:
        by = {o: {str(r): int(n) for r, n in _as_dict(explicit.get(o)).items() if int(n)} for o in OUTCOME_ORDER}
        return outcomes, by
    reasons = {str(r): int(n) for r, n in _as_dict(counts.get("reason")).items() if int(n)}
    failed = {r: n for r, n in reasons.items() if r in FAILURE_REASONS}
    success = {r: n for r, n in reasons.items() if r not in FAILURE_REASONS}
    if outcomes["1:n"] == 0:
        return outcomes, {"1:1": success, "1:n": {}, "1:0": failed}
    if outcomes["1:1"] == 0:
        return outcomes, {"1:1": {}, "1:n": success, "1:0": failed}
    return outcomes, {"1:1": None, "1:n": None, "1:0": failed}


def json_safe(value: Any) -> Any:
    """A value as plain JSON types (numpy scalars and arrays, pandas objects, nested dicts)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | pd.Index | pd.Series | list | tuple):
        return [json_safe(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return value if np.isfinite(value) else None
    if isinstance(value, str | int) or value is None:
        return value if not isinstance(value, str) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)
