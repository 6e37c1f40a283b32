"""Reproduce from the record alone: re-apply a saved ``uns[key_added]`` and check a result against it.

A record of :func:`~idtrack_sc.pp.harmonize_var_names` holds everything that shaped the
result: the snapshot's identity (its SHA-256), the target release and namespace and every
policy. :func:`apply_record` treats other data the same way; :func:`check_record` recomputes a
harmonized object from its own record and lists every difference.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import sparse

from .._provenance import package_versions
from .._userwarn import warn
from ..record import AMBIGUOUS_EXPANDED, MAPPING_COLUMNS, RECORD_PARAMS, Dataset, collect, identifier_table, var_columns
from ..registry import resolve_snapshot
from ._harmonize import harmonize_var_names

if TYPE_CHECKING:
    import os

    from mudata import MuData

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

#: The function whose records can be re-applied.
HARMONIZE = "idtrack_sc.pp.harmonize_var_names"
#: ``params`` of a record passed back to :func:`~idtrack_sc.pp.harmonize_var_names` (the
#: ``strategy`` follows from ``ambiguous``).
APPLIED_PARAMS = tuple(p for p in RECORD_PARAMS if p != "strategy")
#: Columns of :func:`check_record`'s table of differences (``dataset`` first for a MuData).
CHECK_COLUMNS = ("original", "field", "recorded", "recomputed")
#: Per original identifier, what :func:`check_record` compares.
CHECKED_FIELDS = ("name", "kept", "outcome", "reason", "targets", "gene_id", "symbol")


def _records_of(record: Any, key: str) -> dict[str, dict[str, Any]]:
    """``{modality or "": record}`` from a record, or from a harmonized AnnData or MuData holding one."""
    if isinstance(record, AnnData) or hasattr(record, "mod"):
        found = collect(record, key)
        if found.kind == "concat":
            record = found.record  # refused below, with the reason
        else:
            return {ds.name: dict(ds.record) for ds in found.datasets}
    if not isinstance(record, Mapping):
        msg = f"record must be a harmonization record (uns[{key!r}]) or data holding one, got {type(record).__name__}."
        raise TypeError(msg)
    if "modalities" in record and "function" not in record:
        msg = (
            "This is a MuData's container record, which lists its modalities only; pass the MuData itself, or "
            f"one modality's record (mdata.mod['rna'].uns[{key!r}])."
        )
        raise ValueError(msg)
    return {"": dict(record)}


def _check_function(record: Mapping[str, Any]) -> None:
    function = str(record.get("function", ""))
    if function == HARMONIZE:
        return
    if function.endswith("concat_harmonized"):
        msg = (
            "This is a concat_harmonized record: it combines several datasets' harmonizations. Re-apply one "
            "dataset's record (uns[key]['provenance'][name]), or concatenate again with the same snapshot "
            "and uns[key]['params']."
        )
        raise ValueError(msg)
    msg = f"Not a harmonization record (its function is {function!r}, expected {HARMONIZE!r})."
    raise ValueError(msg)


def record_snapshot(record: Mapping[str, Any], snapshot: Snapshot | str | os.PathLike | None = None) -> Snapshot:
    """The snapshot a record names, verified by its SHA-256.

    Parameters
    ----------
    record
        A harmonization record (``uns[key_added]``).
    snapshot
        A snapshot or file to use; ``None`` looks the checksum up in the registry (the shipped
        snapshots are in it, so this works offline for them).

    Returns
    -------
    The snapshot, whose SHA-256 equals the record's. A snapshot of the same release with
    another checksum is refused: it can resolve identifiers differently.
    """
    ident = record.get("snapshot", {}) if isinstance(record.get("snapshot"), Mapping) else {}
    sha = str(ident.get("sha256", "") or "")
    if not sha:
        msg = "The record names no snapshot checksum (record['snapshot']['sha256']); pass the snapshot to use."
        raise ValueError(msg)
    if snapshot is None:
        try:
            snap = resolve_snapshot(f"sha256:{sha}")
        except (ValueError, LookupError, OSError) as err:
            msg = (
                f"The record's snapshot ({ident.get('file', '?')}, sha256 {sha[:12]}…) is not in the registry: "
                f"{err} Pass the file with snapshot=."
            )
            raise ValueError(msg) from err
    else:
        snap = resolve_snapshot(snapshot)
    if snap.sha256 != sha:
        msg = (
            f"The snapshot's sha256 {str(snap.sha256)[:12]}… is not the record's {sha[:12]}… "
            f"({ident.get('file', '?')}): another snapshot can resolve identifiers differently. Pass the file the "
            "record names."
        )
        raise ValueError(msg)
    return snap


def recorded_params(record: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`~idtrack_sc.pp.harmonize_var_names` a record was made with."""
    _check_function(record)
    params = record.get("params", {})
    missing = [p for p in APPLIED_PARAMS if p not in params]
    if missing:
        msg = f"The record's params lack {missing}: it was written by an older idtrack-sc; re-apply by hand."
        raise ValueError(msg)
    out = {p: params[p] for p in APPLIED_PARAMS}
    out["release"] = int(out["release"])
    for name in ("id_key", "pair_key"):
        out[name] = str(out[name]) or None
    fr = str(out["from_release"])
    out["from_release"] = None if fr == "" else ("auto" if fr == "auto" else int(fr))
    return out


def apply_record(
    data: AnnData | MuData,
    record: Mapping[str, Any] | AnnData | MuData,
    *,
    snapshot: Snapshot | str | os.PathLike | None = None,
    mod: str | None = None,
    key_added: str = "idtrack",
    copy: bool = False,
) -> AnnData | MuData | None:
    """Harmonize ``data`` exactly as a saved record says: same snapshot, release, namespace and policies.

    Parameters
    ----------
    data
        An AnnData or MuData not harmonized under ``key_added`` yet.
    record
        A record of :func:`~idtrack_sc.pp.harmonize_var_names` (``adata.uns["idtrack"]``, e.g.
        read back from an ``.h5ad``), or a harmonized AnnData or MuData: a MuData's modalities
        are re-applied each to the modality of the same name.
    snapshot
        The snapshot file (or object) to use; ``None`` finds the record's by its SHA-256 in the
        registry. Either way its SHA-256 must be the record's.
    mod
        With an AnnData's record and a MuData ``data``: the modality to harmonize (default the
        gene modalities).
    key_added
        Where the new record and ``var`` columns go.
    copy
        Return a harmonized copy instead of changing ``data``.

    Returns
    -------
    ``None``, or the harmonized copy if ``copy=True``. The record written is a complete
    record of its own (same ``params`` and ``snapshot``), and names the record applied under
    ``applied_record`` (its function, date and idtrack-sc version).

    Examples
    --------
    >>> import idtrack_sc as its
    >>> record = reference.uns["idtrack"]  # doctest: +SKIP
    >>> its.pp.apply_record(new_data, record)  # doctest: +SKIP
    """
    records = _records_of(record, key_added)
    is_mudata = hasattr(data, "mod") and not isinstance(data, AnnData)
    if not is_mudata and len(records) > 1:
        msg = (
            f"record holds the records of several modalities ({', '.join(records)}); pass one modality's record "
            "for an AnnData."
        )
        raise ValueError(msg)
    if not is_mudata:
        records = {"": next(iter(records.values()))}  # a MuData's one harmonized modality
    snaps = {name: record_snapshot(rec, snapshot) for name, rec in records.items()}
    params = {name: recorded_params(rec) for name, rec in records.items()}
    out = data.copy() if copy else data
    if not is_mudata:
        _apply_one(out, params[""], snaps[""], records[""], key_added=key_added)
        return out if copy else None
    if list(records) == [""]:
        harmonize_var_names(out, snapshot=snaps[""], key_added=key_added, mod=mod, **params[""])
        for name in out.uns[key_added]["modalities"]:
            out.mod[name].uns[key_added]["applied_record"] = _applied(records[""])
        return out if copy else None
    missing = [m for m in records if m not in out.mod]
    if missing:
        msg = f"The record's modalities {missing} are not in this MuData; it has {list(out.mod)}."
        raise ValueError(msg)
    # each modality with its own record: one call per modality (each verified before any runs)
    for name, rec in records.items():
        mod_params = _pair_for(out.mod[name], params[name], f"modality {name!r}")
        harmonize_var_names(out, snapshot=snaps[name], key_added=key_added, mod=name, **mod_params)
        out.mod[name].uns[key_added]["applied_record"] = _applied(rec)
    return out if copy else None


def _pair_for(adata: AnnData, params: dict[str, Any], label: str = "this AnnData") -> dict[str, Any]:
    """``params``, without the record's second identifier column if ``adata`` does not have it (with a warning)."""
    pair = params.get("pair_key")
    if pair is None or pair in adata.var.columns:
        return params
    warn(
        f"The record paired the identifiers with var[{pair!r}], which {label} does not have: its identifiers are "
        "resolved alone (pair_key=None); every other parameter is the record's.",
        UserWarning,
    )
    return dict(params, pair_key=None)


def _applied(record: Mapping[str, Any]) -> dict[str, str]:
    versions = record.get("versions", {}) if isinstance(record.get("versions"), Mapping) else {}
    return {
        "function": str(record.get("function", "")),
        "date": str(record.get("date", "")),
        "idtrack_sc": str(versions.get("idtrack_sc", "")),
    }


def _apply_one(
    adata: AnnData, params: dict[str, Any], snap: Snapshot, record: Mapping[str, Any], *, key_added: str
) -> None:
    harmonize_var_names(adata, snapshot=snap, key_added=key_added, **_pair_for(adata, params))
    adata.uns[key_added]["applied_record"] = _applied(record)


# ---------------------------------------------------------------------------------------------
# check_record
# ---------------------------------------------------------------------------------------------
def _stand_in(ds: Dataset, key: str, params: dict[str, Any]) -> tuple[AnnData, dict[str, Any]]:
    """An AnnData of the dataset's original identifiers (kept and dropped), and the params to harmonize it with.

    The identifiers go to a column, so repeated ones stay apart as they were; the paired
    column (two identifier columns) is taken from ``var`` where it still is (a merged
    feature's row gives its value to every member).
    """
    rows = identifier_table(ds, key)
    # ambiguous="all" copied a feature to each candidate: one original feature, not several
    copy = rows["reason"].astype(str).to_numpy() == AMBIGUOUS_EXPANDED
    originals = rows["original"].astype(str)
    plain = set(originals[~copy])
    first_copy = copy & ~originals.duplicated().to_numpy() & ~originals.isin(plain).to_numpy()
    rows = rows[~copy | first_copy].reset_index(drop=True)
    n = len(rows)
    column = "__idtrack_original__"
    var = pd.DataFrame({column: rows["original"].astype(object).to_numpy()}, index=[f"f{i}" for i in range(n)])
    params = dict(params, id_key=column)
    pair = params.get("pair_key")
    if pair is not None:
        if ds.var is not None and pair in ds.var.columns:
            by_name = ds.var[pair].astype(object)
            values = by_name.reindex(pd.Index(rows["name"].astype(object))).to_numpy(dtype=object)
            var[pair] = pd.array(np.where(rows["kept"].to_numpy(), values, None), dtype=object)
        else:
            params["pair_key"] = None
    adata = AnnData(X=sparse.csr_matrix((1, n), dtype=np.float32), var=var)
    adata.obs_names = ["cell"]
    return adata, params


def _compare(recorded: pd.DataFrame, recomputed: pd.DataFrame) -> pd.DataFrame:
    """Rows of differences between two identifier tables, matched by original identifier."""

    def keyed(table: pd.DataFrame) -> pd.DataFrame:
        table = table.astype(dict.fromkeys(table.columns, object)).copy()
        for col in CHECKED_FIELDS:
            table[col] = table[col].map(str)
        table = table.sort_values(["original", "name", "reason"], kind="stable")
        table["_n"] = table.groupby("original").cumcount()
        return table.set_index(["original", "_n"])[list(CHECKED_FIELDS)]

    left, right = keyed(recorded), keyed(recomputed)
    both = left.add_suffix("_rec").join(right.add_suffix("_new"), how="outer")
    out = []
    for field in CHECKED_FIELDS:
        a = both[f"{field}_rec"].fillna("(absent)")
        b = both[f"{field}_new"].fillna("(absent)")
        diff = a != b
        for (original, _), ra, rb in zip(both.index[diff], a[diff], b[diff], strict=True):
            out.append((original, field, ra, rb))
    return pd.DataFrame(out, columns=list(CHECK_COLUMNS))


def check_record(
    data: AnnData | MuData,
    *,
    snapshot: Snapshot | str | os.PathLike | None = None,
    key: str = "idtrack",
) -> pd.DataFrame:
    """Recompute a harmonized object from its record alone and list every difference.

    The original identifiers (``var['{key}_original']`` and the record's ``dropped_ids``) are
    harmonized again with the record's snapshot (verified by its SHA-256; ``snapshot=None``
    finds it in the registry) and parameters, and what became of each is compared with what
    the object says: its new name, whether it was kept, outcome, reason, candidates, gene and
    symbol.

    Parameters
    ----------
    data
        A harmonized AnnData, or a MuData with harmonized modalities.
    snapshot
        The snapshot file (or object) to use; ``None`` finds the record's by its SHA-256.
    key
        The ``key_added`` used when harmonizing.

    Returns
    -------
    One row per difference (columns ``original``, ``field``, ``recorded``, ``recomputed``;
    ``dataset`` first for a MuData's modalities); empty when the object is reproduced.
    ``.attrs["idtrack_check"]`` holds, per dataset, the snapshot checksum, how many
    identifiers were compared and differ, and the package versions of the record and of now.
    The order of the original features is not recorded: choices that depend on it
    (``duplicates="first"``, the numbering of ``make_unique``) are compared as sets.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> diff = its.pp.check_record(adata)  # doctest: +SKIP
    >>> diff.empty  # doctest: +SKIP
    True
    """
    found = collect(data, key)
    if found.kind == "concat":
        msg = (
            "check_record checks a harmonize_var_names result; a concat_harmonized result keeps no per-dataset var to "
            "recompute from. Check each dataset before concatenating."
        )
        raise ValueError(msg)
    frames, summary = [], {}
    for ds in found.datasets:
        if ds.var is None:
            msg = f"{ds.name or 'The AnnData'}: var has no {var_columns(key)['original']!r} column to recompute from."
            raise ValueError(msg)
        snap = record_snapshot(ds.record, snapshot)
        params = recorded_params(ds.record)
        stand_in, stand_params = _stand_in(ds, key, params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the recomputation's warnings were the original run's
            harmonize_var_names(stand_in, snapshot=snap, key_added=key, **stand_params)
        recomputed = identifier_table(Dataset(name=ds.name, record=stand_in.uns[key], var=stand_in.var), key)
        recorded = identifier_table(ds, key)
        diff = _compare(recorded[list(MAPPING_COLUMNS)], recomputed[list(MAPPING_COLUMNS)])
        anchor = (ds.record.get("release", {}) or {}).get("anchor_release", "")
        new_anchor = (stand_in.uns[key].get("release", {}) or {}).get("anchor_release", "")
        if str(anchor) != str(new_anchor):
            diff.loc[len(diff)] = ["(names read in release)", "anchor_release", str(anchor), str(new_anchor)]
        if found.several:
            diff.insert(0, "dataset", ds.name)
        frames.append(diff)
        versions = ds.record.get("versions", {})
        summary[ds.name] = {
            "snapshot_sha256": snap.sha256,
            "n_identifiers": len(recorded),
            "n_different": int(diff["original"].nunique()) if len(diff) else 0,
            "versions_recorded": dict(versions) if isinstance(versions, Mapping) else {},
            "versions_now": package_versions(),
        }
        logger.info(
            "%s: %d identifiers recomputed from the record, %d differ.",
            ds.name or "AnnData",
            len(recorded),
            summary[ds.name]["n_different"],
        )
    table = pd.concat(frames, ignore_index=True)
    table.attrs["idtrack_check"] = summary
    return table
