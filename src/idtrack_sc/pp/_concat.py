"""``concat_harmonized``: harmonize many datasets with one snapshot and one policy, then concatenate.

Two paths share every step except the last:

* in memory: each dataset is harmonized (on a copy) and :func:`anndata.concat` joins them;
* out of core (``out_file=`` given): each dataset is read, harmonized and written to a temporary
  ``.h5ad`` one at a time, :func:`_concat_files` joins the files on disk (an ``.h5ad`` result
  is streamed by :func:`idtrack_sc.pp._ondisk.write_concat` in row blocks, a ``.zarr`` one is
  written by :func:`anndata.experimental.concat_on_disk`), and the feature annotations and diagnostics are written into it
  with anndata's element API. Peak memory is that of the largest single dataset, whatever
  their number.

The per-dataset work is :func:`idtrack_sc.pp._harmonize._harmonize_anndata` (the engine of
:func:`~idtrack_sc.pp.harmonize_var_names`); this module adds the cross-dataset rule for
failed identifiers, the feature annotations of the union and the diagnostics.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from .._provenance import clean, environment_report, package_versions, snapshot_record
from ..resolve import convert
from ..resolve._convert import check_from_release
from ..resolve._index import DEFAULT_MIN_EVIDENCE, check_min_evidence
from ..snapshot import resolve_organism
from ._harmonize import OUTCOMES, TEXT, _check_policies, _harmonize_anndata, _identifiers, is_harmonized, var_columns
from ._snapshot_arg import resolve_snapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ..snapshot import Snapshot
    from ._harmonize import Ambiguous, Duplicates
    from ._snapshot_arg import SnapshotLike

logger = logging.getLogger(__name__)

UnmappedConcat = Literal["consistent", "keep", "drop"]
DatasetLike = AnnData | str | os.PathLike

#: ``uns`` keys and ``obs`` columns that may say which organism a dataset is from.
ORGANISM_UNS_KEYS = ("organism", "species")
ORGANISM_OBS_COLUMNS = ("organism", "species", "organism_ontology_term_id")
#: How the idtrack ``var`` columns of the result are assembled (recorded in the params).
VAR_MERGE = "first_non_missing (originals: union, '|'-joined)"
#: Out of core: the most stored values read at once (see :func:`idtrack_sc.pp._ondisk.write_concat`).
MAX_LOADED_ELEMS = 2_000_000


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
@dataclass
class _Dataset:
    """One input: its name (the concat key), and an AnnData or an ``.h5ad`` path."""

    name: str
    source: AnnData | Path

    @property
    def label(self) -> str:
        where = f" ({self.source})" if isinstance(self.source, Path) else ""
        return f"dataset {self.name!r}{where}"


def _datasets(adatas: Any, keys: Collection | None) -> tuple[list[_Dataset], list | None]:
    """Named inputs, and the ``keys`` to give anndata (``None``: its default 0, 1, …)."""
    if isinstance(adatas, AnnData | str | os.PathLike):
        msg = (
            f"adatas must be a mapping (name -> dataset) or a sequence of datasets, got a single "
            f"{type(adatas).__name__}. Wrap it: concat_harmonized([adata, ...]) or {{'name': adata, ...}}."
        )
        raise TypeError(msg)
    if isinstance(adatas, Mapping):
        if keys is not None:
            msg = "keys= cannot be combined with a mapping: the mapping's keys already name the datasets."
            raise ValueError(msg)
        concat_keys: list | None = list(adatas.keys())
        items = list(adatas.values())
        names = [str(k) for k in concat_keys]
    elif isinstance(adatas, Collection):
        items = list(adatas)
        if keys is not None:
            concat_keys = list(keys)
            if len(concat_keys) != len(items):
                msg = f"keys= has {len(concat_keys)} names for {len(items)} datasets."
                raise ValueError(msg)
            names = [str(k) for k in concat_keys]
        else:
            concat_keys = None
            names = [str(i) for i in range(len(items))]
    else:
        msg = f"adatas must be a mapping or a sequence of AnnData objects or .h5ad paths, got {type(adatas).__name__}."
        raise TypeError(msg)
    if not items:
        msg = "adatas is empty: give at least one dataset."
        raise ValueError(msg)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"Dataset names must be unique; repeated: {dup}."
        raise ValueError(msg)

    out = []
    for name, item in zip(names, items, strict=True):
        if isinstance(item, AnnData):
            out.append(_Dataset(name, item))
        elif isinstance(item, str | os.PathLike):
            path = Path(item)
            if path.suffix.lower() != ".h5ad":
                msg = f"dataset {name!r}: {path} is not an .h5ad file (only .h5ad paths are read here)."
                raise ValueError(msg)
            if not path.is_file():
                msg = f"dataset {name!r}: file {path} does not exist."
                raise FileNotFoundError(msg)
            out.append(_Dataset(name, path))
        else:
            msg = f"dataset {name!r} is a {type(item).__name__}; give an AnnData or the path of an .h5ad file."
            raise TypeError(msg)
    return out, concat_keys


@dataclass
class _Survey:
    """What is known about a dataset before loading its matrices."""

    identifiers: np.ndarray
    n_obs: int
    n_vars: int
    harmonized: bool
    organism_hints: list[tuple[str, str]] = field(default_factory=list)  # (where, value)


def _hints_from(uns: Mapping, obs_columns: Mapping[str, Any]) -> list[tuple[str, str]]:
    hints = []
    for key in ORGANISM_UNS_KEYS:
        value = uns.get(key)
        if isinstance(value, str | np.str_) and str(value).strip():
            hints.append((f"uns[{key!r}]", str(value)))
    for col, values in obs_columns.items():
        unique = pd.unique(pd.Series(np.asarray(values, dtype=object)).dropna().astype(str))
        if len(unique) == 1:
            hints.append((f"obs[{col!r}]", str(unique[0])))
        elif len(unique) > 1:
            hints.append((f"obs[{col!r}]", "|".join(sorted(unique))))
    return hints


def _survey(ds: _Dataset, *, id_key: str | None, key_added: str) -> _Survey:
    """Identifiers, shape, harmonization state and organism hints, without loading ``X``."""
    if isinstance(ds.source, AnnData):
        adata = ds.source
        obs_cols = {c: adata.obs[c] for c in ORGANISM_OBS_COLUMNS if c in adata.obs.columns}
        return _Survey(
            identifiers=_identifiers(adata, id_key, ds.label) if adata.n_vars else np.array([], dtype=object),
            n_obs=adata.n_obs,
            n_vars=adata.n_vars,
            harmonized=is_harmonized(adata, key_added),
            organism_hints=_hints_from(adata.uns, obs_cols),
        )
    import h5py

    read_elem = _read_elem()
    try:
        with h5py.File(ds.source, "r") as f:
            var = read_elem(f["var"])
            obs = f["obs"]
            index_key = obs.attrs.get("_index", "_index")
            n_obs = _n_rows(obs[index_key]) if index_key in obs else 0
            obs_cols = {c: read_elem(obs[c]) for c in ORGANISM_OBS_COLUMNS if c in obs}
            uns = f.get("uns", {})
            uns_hints = {k: read_elem(uns[k]) for k in ORGANISM_UNS_KEYS if k in uns}
            harmonized = key_added in uns
    except (OSError, KeyError) as err:
        msg = f"{ds.label} could not be read as an .h5ad file: {err}"
        raise ValueError(msg) from err
    shell = AnnData(obs=pd.DataFrame(index=pd.RangeIndex(0).astype(str)), var=var)
    return _Survey(
        identifiers=_identifiers(shell, id_key, ds.label) if shell.n_vars else np.array([], dtype=object),
        n_obs=n_obs,
        n_vars=shell.n_vars,
        harmonized=harmonized and var_columns(key_added)["original"] in var.columns,
        organism_hints=_hints_from(uns_hints, obs_cols),
    )


def _n_rows(elem: Any) -> int:
    """Length of an on-disk array element without reading it (plain, nullable or categorical)."""
    import h5py

    if isinstance(elem, h5py.Dataset):
        return int(elem.shape[0])
    for part in ("values", "codes"):  # nullable arrays and strings, categoricals
        if part in elem:
            return int(elem[part].shape[0])
    return len(_read_elem()(elem))


def _check_dataset(ds: _Dataset, survey: _Survey, snap: Snapshot, key_added: str) -> None:
    if survey.n_vars == 0:
        msg = f"{ds.label} has no features (n_vars == 0): nothing to harmonize or concatenate."
        raise ValueError(msg)
    if survey.n_obs == 0:
        msg = f"{ds.label} has no cells (n_obs == 0); remove it from the datasets to concatenate."
        raise ValueError(msg)
    if survey.harmonized:
        msg = (
            f"{ds.label} was already harmonized (uns[{key_added!r}] exists). Give the original dataset, or "
            f"convert again from its original identifiers with id_key='{key_added}_original' and another key_added."
        )
        raise ValueError(msg)
    for where, value in survey.organism_hints:
        raw = value.removeprefix("NCBITaxon:").strip()
        try:
            organism = resolve_organism(raw)
        except ValueError:
            logger.warning("%s: %s = %r is not an organism idtrack-sc knows; not checked.", ds.label, where, value)
            continue
        if organism != snap.organism:
            msg = (
                f"{ds.label} is from {organism} ({where} = {value!r}), but the snapshot is for {snap.organism}. "
                "Datasets of different organisms cannot share one gene namespace: harmonize and concatenate "
                "them separately (or map orthologs first)."
            )
            raise ValueError(msg)


def _read_elem() -> Callable:
    try:
        from anndata.io import read_elem
    except ImportError:  # pragma: no cover - anndata < 0.11
        from anndata.experimental import read_elem
    return read_elem


def _write_elem() -> Callable:
    try:
        from anndata.io import write_elem
    except ImportError:  # pragma: no cover - anndata < 0.11
        from anndata.experimental import write_elem
    return write_elem


# ---------------------------------------------------------------------------------------------
# what the result's var and diagnostics are made of
# ---------------------------------------------------------------------------------------------
class _FeatureUnion:
    """The idtrack ``var`` columns of the union of features, built one dataset at a time.

    Memory is bounded by the number of distinct features, not of datasets. Per feature, each
    column takes the value of the first dataset that has the feature (they agree across
    datasets: one snapshot, one release), except the original identifiers (every distinct
    one, ``|``-joined), the number of merged features (the largest) and the number of
    datasets holding the feature (a new column, ``{key_added}_n_datasets``).
    """

    def __init__(self, *, key_added: str, symbol_key: str) -> None:
        cols = var_columns(key_added)
        self.original = cols["original"]
        self.n_merged = cols["n_merged"]
        self.n_datasets = f"{key_added}_n_datasets"
        self.outcome = cols["outcome"]
        self.columns = [
            symbol_key,
            cols["gene_id"],
            cols["outcome"],
            cols["reason"],
            cols["targets"],
            cols["original"],
            cols["n_merged"],
        ]
        self.frame: pd.DataFrame | None = None
        self.intersection: pd.Index | None = None

    def add(self, var: pd.DataFrame) -> None:
        part = pd.DataFrame(
            {c: var[c].astype(str).to_numpy(dtype=object) for c in self.columns if c != self.n_merged},
            index=pd.Index(var.index.astype(str), dtype=object),
        )
        part[self.n_merged] = var[self.n_merged].to_numpy(dtype=np.int64)
        part[self.n_datasets] = np.ones(len(part), dtype=np.int64)
        self.intersection = part.index if self.intersection is None else self.intersection.intersection(part.index)
        if self.frame is None:
            self.frame = part
            return
        frame = self.frame
        seen = part.index.isin(frame.index)
        common = part.index[seen]
        if len(common):
            old = frame.loc[common, self.original].to_numpy(dtype=object)
            new = part.loc[common, self.original].to_numpy(dtype=object)
            differ = old != new
            if differ.any():
                frame.loc[common[differ], self.original] = [
                    _join_unique(a, b) for a, b in zip(old[differ], new[differ], strict=True)
                ]
            frame.loc[common, self.n_datasets] = frame.loc[common, self.n_datasets].to_numpy() + 1
            frame.loc[common, self.n_merged] = np.maximum(
                frame.loc[common, self.n_merged].to_numpy(), part.loc[common, self.n_merged].to_numpy()
            )
        self.frame = pd.concat([frame, part[~seen]])

    def var(self, index: pd.Index) -> pd.DataFrame:
        """The idtrack columns for the result's features ``index``."""
        assert self.frame is not None
        frame = self.frame.reindex(pd.Index(index.astype(str), dtype=object))
        frame[self.outcome] = pd.Categorical(frame[self.outcome], categories=OUTCOMES)
        for col in self.columns:
            if col not in (self.outcome, self.n_merged):
                frame[col] = frame[col].astype(TEXT)
        for col in (self.n_merged, self.n_datasets):
            frame[col] = frame[col].fillna(0).astype(np.int64)
        frame.index = index
        return frame


def _join_unique(a: str, b: str) -> str:
    parts = a.split("|")
    parts += [p for p in b.split("|") if p not in parts]
    return "|".join(parts)


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
    kept_reason: dict[str, str] = field(default_factory=dict)

    def add(self, ds: _Dataset, adata: AnnData, rec: dict[str, Any], identifiers: np.ndarray) -> None:
        cols = var_columns(self.key_added)
        name = ds.name
        self.names.append(name)
        self.sources.append(str(ds.source) if isinstance(ds.source, Path) else "")
        self.n_obs.append(int(adata.n_obs))
        self.counts.append(rec["counts"])
        self.provenance[_uns_key(name)] = {
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
        self.provenance[_uns_key(name)]["dropped_duplicates"] = _strings(all_dropped[duplicate])
        dropped = all_dropped[~duplicate]
        if "dropped_reasons" in rec and len(rec["dropped_reasons"]) == len(all_dropped):
            # the dataset's own reasons: its names may have been read in its own release
            outcomes = np.asarray(rec.get("dropped_outcomes", []), dtype=object)
            reasons = np.asarray(rec["dropped_reasons"], dtype=object)
            if len(outcomes) == len(reasons):
                reasons = np.where(outcomes == "1:n", "ambiguous", reasons)
            self.failed[_uns_key(name)] = {"id": _strings(dropped), "reason": _strings(reasons[~duplicate])}
        else:
            self.failed[_uns_key(name)] = {"id": _strings(dropped), "reason": self._reasons(dropped)}

        var = adata.var
        n_merged = var[cols["n_merged"]].to_numpy()
        many = n_merged > 1
        self.collapsed[_uns_key(name)] = {
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
                self.kept_reason.setdefault(o, "ambiguous" if out == "1:n" else why)
        self.expanded |= {o for joined in originals[reason == "ambiguous_expanded"] for o in joined.split("|")}

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

    def _note_ambiguous(self, name: str, query: str, candidates: str, chosen: str, handling: str) -> None:
        """One ambiguous identifier of one dataset (the first dataset's reading is reported)."""
        if query not in self.ambiguous_info:
            self.ambiguous_info[query] = (candidates, chosen, handling)
        datasets = self.ambiguous_in.setdefault(query, [])
        if name not in datasets:
            datasets.append(name)

    def _reasons(self, ids: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.array([], dtype=object)
        rows = self.table.reindex(pd.Index(_strings(ids)))
        reason = rows["reason"].astype(str).to_numpy(dtype=object)
        reason = np.where(rows["outcome"].astype(str).to_numpy(dtype=object) == "1:n", "ambiguous", reason)
        return np.where(pd.isna(rows["outcome"]).to_numpy(), "", reason).astype(object)

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
        return {"id": _strings(ids), "reason": _strings(self.kept_reason.get(i, "") for i in ids)}

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


def _uns_key(name: str) -> str:
    """A dataset name usable as an ``uns`` key (no ``/``)."""
    return name.replace("/", "_") or "_"


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------
def concat_harmonized(
    adatas: Mapping[str, DatasetLike] | Collection[DatasetLike],
    *,
    snapshot: SnapshotLike | None = None,
    organism: str | None = None,
    release: int | None = None,
    to: str = "ensembl_gene",
    id_key: str | None = None,
    ambiguous: Ambiguous = "best",
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
    unmapped: UnmappedConcat = "consistent",
    duplicates: Duplicates = "sum",
    symbol_key: str = "symbol",
    join: Literal["inner", "outer"] = "inner",
    merge: str | Callable | None = None,
    uns_merge: str | Callable | None = None,
    label: str | None = None,
    keys: Collection | None = None,
    index_unique: str | None = None,
    fill_value: Any | None = None,
    pairwise: bool = False,
    key_added: str = "idtrack",
    out_file: str | os.PathLike | None = None,
    max_loaded_elems: int = MAX_LOADED_ELEMS,
    overwrite: bool = False,
    engine: Literal["auto", "dask", "stream"] = "auto",
    copy_inputs: bool = True,
    from_release: int | Literal["auto"] | Mapping[str, int | str | None] | None = "auto",
    pair_key: str | None = "auto",
    out: str | os.PathLike | None = None,
) -> AnnData | None:
    """Harmonize several datasets with one snapshot and one policy, then concatenate them.

    Every dataset's features are converted as by :func:`~idtrack_sc.pp.harmonize_var_names`
    (same snapshot, release, namespace and policies), so that feature X in one dataset is
    feature X in every other; then the datasets are concatenated along the cells with
    :func:`anndata.concat`'s semantics and arguments. What happened to each identifier in
    each dataset is reported in ``uns[key_added]``.

    Parameters
    ----------
    adatas
        A mapping from dataset names to datasets, or a sequence of datasets (as for
        :func:`anndata.concat`; with a mapping its keys are the ``keys``). A dataset is an
        :class:`~anndata.AnnData` or the path of an ``.h5ad`` file (read one at a time).
    snapshot
        A :class:`~idtrack_sc.Snapshot`, a snapshot file, or ``"default"`` for the small
        human subset embedded in the package.
    organism
        With ``snapshot=None``: use the newest cached snapshot of this organism. With a
        snapshot: checked against it. Datasets annotated with another organism
        (``uns['organism']``, ``obs['organism']``, cellxgene's
        ``obs['organism_ontology_term_id']``) are refused.
    release
        Target Ensembl release (default: the snapshot's newest).
    to
        Target namespace: ``"ensembl_gene"`` (default), ``"symbol"``, ``"hgnc_id"``, …
    id_key
        ``var`` column holding the identifiers in every dataset; ``None`` uses ``var_names``.
    ambiguous
        ``"best"``, ``"drop"`` or ``"all"``, as in :func:`~idtrack_sc.pp.harmonize_var_names`.
    min_evidence
        Weakest evidence tier of inferred history links followed (see
        :func:`~idtrack_sc.convert`): ``"high"``, ``"medium"`` (default), ``"low"`` or ``"none"``
        (Ensembl's own history only).
        Ties ``"best"`` cannot break are failures, handled by ``unmapped``.
    unmapped
        Identifiers that fail (``1:0``, or ``1:n`` left unresolved): ``"consistent"`` (the
        reference tool's rule) drops them unless the same original identifier occurs in every
        dataset, where it is kept under its original name, so that no dataset loses a
        feature the others keep; ``"keep"`` keeps them all; ``"drop"`` drops them all.
    duplicates
        Features that become one within a dataset: ``"sum"``, ``"first"`` or
        ``"make_unique"``, as in :func:`~idtrack_sc.pp.harmonize_var_names`.
    symbol_key
        ``var`` column for the display symbol at the target release.
    join
        As in :func:`anndata.concat`: ``"inner"`` (default) keeps the features present in
        every dataset; ``"outer"`` their union, missing values filled with ``fill_value``
        (default: zeros in sparse matrices, ``NaN`` in dense ones).
    merge
        :func:`anndata.concat`'s strategy for the other ``var`` columns, ``varm`` and
        ``varp`` (``None``, ``"same"``, ``"unique"``, ``"first"``, ``"only"`` or a callable).
        It does not apply to the idtrack columns (``symbol_key`` and ``{key_added}_*``):
        anndata's ``"same"`` drops any column a union leaves missing for some feature, so
        those are assembled by idtrack-sc: first non-missing value in dataset order (they
        agree across datasets: one snapshot, one release), every distinct original
        identifier ``|``-joined, and the number of datasets holding the feature.
    uns_merge
        :func:`anndata.concat`'s strategy for the datasets' own ``uns`` entries.
    label, keys, index_unique, fill_value, pairwise
        As in :func:`anndata.concat`: column of ``obs`` naming each cell's dataset, the
        dataset names (default ``"0"``, ``"1"``, …; not with a mapping), separator for
        making cell names unique with the key, fill value of an outer join, and whether
        ``obsp`` is concatenated (in memory only).
    key_added
        Key in ``uns`` for the diagnostics, and prefix of the idtrack ``var`` columns.
    out_file
        As in :func:`anndata.experimental.concat_on_disk`: the ``.h5ad`` file or ``.zarr``
        store to write the result to, out of core. Each dataset is read, harmonized and
        written to a temporary file next to ``out_file`` one at a time, then the files are
        concatenated on disk in blocks, so that peak memory is that of the largest dataset
        (plus the ``obs`` of the result), however many there are (see ``engine``). ``obsp``
        is not concatenated out of core (``pairwise=True`` is refused); ``raw`` is
        concatenated by the Dask engine (as :func:`anndata.concat`: when every dataset has
        one) and left out, with a warning, by the streaming engine. The result is written
        under a temporary name beside ``out_file`` and renamed at the end; temporary files
        are removed, also on error.
    max_loaded_elems
        Out of core only: the most stored values (non-zeros of sparse matrices, elements of
        dense ones) read and written at once (with the Dask engine: per block, and per
        thread of the scheduler).
    overwrite
        Out of core only: replace an existing ``out_file``. Without it, an existing
        ``out_file`` is an error raised before any work.
    engine
        Out of core only: ``"dask"`` reads each ``.h5ad`` input lazily with
        :func:`anndata.experimental.read_elem_lazy`, harmonizes its features on the driver,
        joins the datasets with :func:`anndata.concat` on Dask arrays and writes the result
        block by block on whatever Dask scheduler is active (a
        :class:`dask.distributed.Client`'s workers, if one is running; the workers must see
        the input and output paths). ``"stream"`` stages every dataset as a harmonized
        ``.h5ad`` and joins the files in one process (``.h5ad``: idtrack-sc's streaming
        writer; ``.zarr``: :func:`anndata.experimental.concat_on_disk`). ``"auto"``
        (default): ``"dask"`` if Dask is installed (``pip install 'idtrack-sc[dask]'``),
        else ``"stream"``. The engine used is recorded in
        ``uns['{key_added}']['params']['engine']``.
    copy_inputs
        In-memory AnnData inputs are harmonized on copies (default). ``False`` harmonizes
        them in place, saving one copy of each.
    from_release
        The Ensembl release each dataset was annotated with, so that its names are read in
        that release's meaning: ``"auto"`` (default) infers it per dataset from the
        dataset's own names; a release number applies to every dataset; a mapping from
        dataset name to ``"auto"``, a release or ``None`` sets it per dataset; ``None``
        reads every name in the target release's meaning. See
        :func:`~idtrack_sc.pp.harmonize_var_names`. The cross-dataset ``ambiguous`` table is
        computed in the target release's meaning.
    pair_key
        A second identifier column in every dataset's ``var`` (IDs beside symbols), used
        together with the first, as in :func:`~idtrack_sc.pp.harmonize_var_names`;
        ``"auto"`` (default) finds one per dataset where there is one.
    out
        Deprecated name of ``out_file``.

    Returns
    -------
    The concatenated :class:`~anndata.AnnData`; with ``out_file``, ``None`` (as
    :func:`anndata.experimental.concat_on_disk`: open the result with
    ``anndata.read_h5ad(out_file, backed="r")`` or :func:`anndata.read_zarr`). Besides the :func:`~idtrack_sc.pp.harmonize_var_names` columns of ``var``
    (assembled as described under ``merge``, plus ``var['{key_added}_n_datasets']``), it sets

    ``uns['{key_added}']``
        ``params``, ``snapshot`` identity, ``versions``, ``date`` and one ``environment``
        report; ``datasets`` and ``sources`` (names, and paths or ``""``); ``counts``
        (per-dataset arrays aligned with ``datasets``: cells, features before and after, per
        outcome, dropped, kept, collapsed); ``provenance`` (each dataset's harmonization
        record); ``failed`` (per dataset: ``id`` and ``reason`` of every dropped
        identifier); ``failed_consistent`` (failed identifiers present in every dataset, kept
        under their original names); ``ambiguous`` (``1:n`` identifiers: candidates, the one
        chosen, how they were handled, which datasets hold them); ``collapsed`` (per dataset:
        new ``name`` and the ``originals`` merged into it); ``n_vars`` (``union``,
        ``intersection`` and ``result`` widths). Tables are dicts of equal-length arrays:
        ``pd.DataFrame(uns['idtrack']['ambiguous'])``.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> merged = its.concat_harmonized(  # doctest: +SKIP
    ...     {"A": adata_a, "B": adata_b}, snapshot="default", to="symbol", label="dataset"
    ... )
    >>> pd.DataFrame(merged.uns["idtrack"]["counts"], index=merged.uns["idtrack"]["datasets"])  # doctest: +SKIP
    >>> its.concat_harmonized(paths, organism="human", join="outer", out_file="atlas.h5ad")  # doctest: +SKIP
    """
    _check_policies(key_added, ambiguous=ambiguous, unmapped_concat=unmapped, duplicates=duplicates, join=join)
    if out is not None:
        if out_file is not None:
            msg = "Give out_file only (out is its deprecated name)."
            raise TypeError(msg)
        warnings.warn("concat_harmonized(out=...) is deprecated; use out_file=.", FutureWarning, stacklevel=2)
        out_file = out
    used_engine = None
    if out_file is not None:
        out_file = _check_out_file(out_file, pairwise=pairwise, overwrite=overwrite)
        from ._concat_dask import resolve_engine

        used_engine = resolve_engine(engine)
        if used_engine == "stream":
            used_engine = "anndata" if out_file.suffix.lower() == ".zarr" else ON_DISK_ENGINE
    datasets, concat_keys = _datasets(adatas, keys)
    snap = resolve_snapshot(snapshot, organism)
    release = snap.check_release(release)
    min_evidence = check_min_evidence(min_evidence)
    from_releases = _from_releases(from_release, datasets, snap)

    # pass 1: identifiers only (no matrices): checks, the identifiers in every dataset, and
    # one conversion of every distinct identifier for the diagnostics
    common: set[str] | None = None
    distinct: set[str] = set()
    surveys = {}
    for ds in datasets:
        survey = _survey(ds, id_key=id_key, key_added=key_added)
        _check_dataset(ds, survey, snap, key_added)
        ids = {str(v) for v in survey.identifiers if v is not None and not (isinstance(v, float) and np.isnan(v))}
        common = ids if common is None else common & ids
        distinct |= ids
        surveys[ds.name] = survey
    strategy = "all" if ambiguous in ("drop", "all") else "best"
    table = convert(
        sorted(distinct), snapshot=snap, to=to, release=release, strategy=strategy, min_evidence=min_evidence
    )
    table = table.drop_duplicates("query").set_index("query")
    namespace = table.attrs.get("idtrack", {}).get("namespace", to)

    harmonize_kwargs = {
        "snap": snap,
        "release": release,
        "min_evidence": min_evidence,
        "to": to,
        "id_key": id_key,
        "ambiguous": ambiguous,
        "unmapped": "keep" if unmapped == "consistent" else unmapped,
        "duplicates": duplicates,
        "symbol_key": symbol_key,
        "key_added": key_added,
        "environment": False,
        "keep_only": frozenset(common or ()) if unmapped == "consistent" else None,
        "pair_key": pair_key,
    }
    union = _FeatureUnion(key_added=key_added, symbol_key=symbol_key)
    diag = _Diagnostics(key_added=key_added, table=table)
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
        "join": join,
        "merge": _describe(merge),
        "uns_merge": _describe(uns_merge),
        "var_merge": VAR_MERGE,
        "label": label or "",
        "index_unique": index_unique or "",
        "fill_value": "" if fill_value is None else str(fill_value),
        "pairwise": bool(pairwise),
        "out_of_core": out_file is not None,
        "engine": used_engine or "",
        "copy_inputs": bool(copy_inputs),
        "from_release": {
            ds.name: "" if v is None else str(v) for ds, v in zip(datasets, from_releases.values(), strict=True)
        }
        if isinstance(from_release, Mapping)
        else ("" if from_release is None else str(from_release)),
        "pair_key": pair_key or "",
    }

    def harmonized(
        load: Callable[[_Dataset], AnnData] | None = None,
    ) -> Iterator[tuple[_Dataset, AnnData, dict[str, Any]]]:
        for ds in datasets:
            adata = load(ds) if load is not None else _load(ds, copy_inputs=copy_inputs)
            _harmonize_anndata(adata, label=ds.label, from_release=from_releases[ds.name], **harmonize_kwargs)
            rec = adata.uns.pop(key_added)
            diag.add(ds, adata, rec, surveys[ds.name].identifiers)
            union.add(adata.var)
            yield ds, adata, rec

    concat_kwargs = {
        "join": join,
        "merge": merge,
        "uns_merge": uns_merge,
        "label": label,
        "keys": concat_keys,
        "index_unique": index_unique,
        "fill_value": fill_value,
        "pairwise": pairwise,
    }
    if out_file is None:
        if any(isinstance(ds.source, Path) for ds in datasets):
            logger.info("Reading %d datasets into memory; give out= to concatenate them out of core.", len(datasets))
        result = _concat_in_memory(harmonized(), key_added=key_added, copy_inputs=copy_inputs, **concat_kwargs)
        idtrack_var = union.var(result.var_names)
        result.var = _with_columns(result.var, idtrack_var)
        result.uns[key_added] = _summary(diag, union, result.n_vars, snap=snap, params=params)
        _log_summary(result.uns[key_added])
        return result
    if used_engine == "dask":
        return _concat_out_of_core_dask(
            harmonized,
            out_file=out_file,
            union=union,
            diag=diag,
            snap=snap,
            params=params,
            key_added=key_added,
            max_loaded_elems=max_loaded_elems,
            copy_inputs=copy_inputs,
            **concat_kwargs,
        )
    return _concat_out_of_core(
        harmonized(),
        out_file=out_file,
        union=union,
        diag=diag,
        snap=snap,
        params=params,
        key_added=key_added,
        max_loaded_elems=max_loaded_elems,
        **concat_kwargs,
    )


def _from_releases(from_release: Any, datasets: list[_Dataset], snap: Snapshot) -> dict[str, Any]:
    """Each dataset's ``from_release``, checked before any work."""
    if isinstance(from_release, Mapping):
        unknown = sorted(set(map(str, from_release)) - {ds.name for ds in datasets})
        if unknown:
            msg = (
                f"from_release names datasets that are not given: {unknown}; datasets: {[ds.name for ds in datasets]}."
            )
            raise ValueError(msg)
        chosen = {ds.name: from_release.get(ds.name, "auto") for ds in datasets}
    else:
        chosen = {ds.name: from_release for ds in datasets}
    for value in chosen.values():
        if value is None or (isinstance(value, str) and value == "auto"):
            continue
        if isinstance(value, str):
            msg = f"from_release must be 'auto', None or an Ensembl release number, got {value!r}."
            raise ValueError(msg)
        check_from_release(snap, value)
    return chosen


def _describe(strategy: Any) -> str:
    if strategy is None:
        return ""
    if isinstance(strategy, str):
        return strategy
    return getattr(strategy, "__qualname__", type(strategy).__name__)


def _load(ds: _Dataset, *, copy_inputs: bool) -> AnnData:
    if isinstance(ds.source, Path):
        import anndata as ad

        return ad.read_h5ad(ds.source)
    adata = ds.source
    if adata.isbacked:
        logger.info("%s is backed; loading it into memory.", ds.label)
        return adata.to_memory()
    if copy_inputs or adata.is_view:
        if adata.is_view and not copy_inputs:
            warnings.warn(f"{ds.label} is a view; harmonizing a copy of it.", UserWarning, stacklevel=4)
        return adata.copy()
    return adata


def _with_columns(var: pd.DataFrame, columns: pd.DataFrame) -> pd.DataFrame:
    """``var`` with the idtrack columns set (replacing any a merge strategy kept)."""
    other = var.drop(columns=[c for c in columns.columns if c in var.columns])
    return pd.concat([columns.set_axis(other.index, axis=0), other], axis=1)


def _concat_in_memory(
    items: Iterator[tuple[_Dataset, AnnData, dict[str, Any]]], *, key_added: str, copy_inputs: bool, **concat_kwargs
) -> AnnData:
    import anndata as ad

    adatas, restore = [], []
    for ds, adata, rec in items:
        adatas.append(adata)
        if not copy_inputs and adata is ds.source:
            restore.append((adata, rec))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not unique.*")
        result = ad.concat(adatas, **concat_kwargs)
    for adata, rec in restore:  # in-place inputs keep their own harmonization record
        adata.uns[key_added] = rec
    return result


#: The engine that concatenates the harmonized files on disk (see :func:`_concat_files`).
ON_DISK_ENGINE: Literal["stream", "anndata"] = "stream"
#: Suffixes of ``out_file`` (as :func:`anndata.experimental.concat_on_disk`).
OUT_SUFFIXES = (".h5ad", ".zarr")


def _check_out_file(out_file: str | os.PathLike, *, pairwise: bool, overwrite: bool = False) -> Path:
    """``out_file`` as a path, refused early (before any dataset is harmonized) if unusable."""
    path = Path(out_file)
    if path.suffix.lower() not in OUT_SUFFIXES:
        msg = f"out_file must end in .h5ad or .zarr, got {path}."
        raise ValueError(msg)
    if not path.parent.is_dir():
        msg = f"The folder of out_file={path} does not exist."
        raise FileNotFoundError(msg)
    if path.exists() and not overwrite:
        msg = f"out_file={path} already exists; give overwrite=True to replace it."
        raise FileExistsError(msg)
    if pairwise:
        msg = "pairwise=True is not supported out of core (obsp is not concatenated there)."
        raise NotImplementedError(msg)
    return path


def _concat_files(
    files: list[Path],
    out_file: Path,
    *,
    join: str,
    merge: Any,
    label: str | None,
    keys: list | None,
    index_unique: str | None,
    fill_value: Any,
    max_loaded_elems: int,
) -> None:
    """Concatenate harmonized ``.h5ad`` files along the cells into ``out_file``: the one engine switch.

    ``"stream"`` is :func:`idtrack_sc.pp._ondisk.write_concat` (``.h5ad`` output, row blocks of
    ``max_loaded_elems`` values, memory flat in the number of files); ``"anndata"`` is
    :func:`anndata.experimental.concat_on_disk`. A ``.zarr`` result is always written by
    anndata's. ``benchmarks/bench_concat.py --engine`` measures both: same time for the
    on-disk step, but anndata's peak memory grows with the number of files while the
    streaming writer's stays flat, so ``.h5ad`` results keep the streaming writer
    (docs/benchmarks/concat-engines.md).
    """
    engine = "anndata" if out_file.suffix.lower() == ".zarr" else ON_DISK_ENGINE
    logger.info("Concatenating %d files on disk into %s (engine %r).", len(files), out_file, engine)
    if engine == "stream":
        from ._ondisk import write_concat

        write_concat(
            files,
            out_file,
            join=join,
            merge=merge,
            label=label,
            keys=keys,
            index_unique=index_unique,
            fill_value=fill_value,
            max_elems=max_loaded_elems,
        )
        return
    from anndata.experimental import concat_on_disk

    if len(files) == 1:
        # concat_on_disk copies a single file unchanged (no label, keys or index_unique): one
        # dataset is small enough to go through anndata.concat in memory
        _single(files[0], out_file, label=label, key=(keys or ["0"])[0], index_unique=index_unique)
        return
    concat_on_disk(
        [str(f) for f in files],
        str(out_file),
        join=join,
        merge=merge,
        label=label,
        keys=keys,
        index_unique=index_unique,
        fill_value=fill_value,
        max_loaded_elems=max_loaded_elems,
    )


def _single(path: Path, out_file: Path, *, label: str | None, key: str, index_unique: str | None) -> None:
    """One dataset written as ``anndata.concat`` makes it (``label``, ``index_unique`` applied)."""
    import anndata as ad

    result = ad.concat({key: ad.read_h5ad(path)}, label=label, index_unique=index_unique)
    result.strings_to_categoricals()
    if out_file.suffix.lower() == ".zarr":
        result.write_zarr(out_file)
    else:
        result.write_h5ad(out_file)


def _concat_out_of_core(
    items: Iterator[tuple[_Dataset, AnnData, dict[str, Any]]],
    *,
    out_file: Path,
    union: _FeatureUnion,
    diag: _Diagnostics,
    snap: Snapshot,
    params: dict[str, Any],
    key_added: str,
    max_loaded_elems: int,
    join: str,
    merge: Any,
    uns_merge: Any,
    label: str | None,
    keys: list | None,
    index_unique: str | None,
    fill_value: Any,
    pairwise: bool,
) -> None:
    from ._ondisk import release_memory

    del pairwise  # refused by _check_out_file
    workdir = Path(tempfile.mkdtemp(prefix=".idtrack-concat-", dir=out_file.parent))
    try:
        files, user_uns = [], []
        for i, (ds, adata, _rec) in enumerate(items):
            path = workdir / f"{i:06d}.h5ad"
            # stage only the var columns a merge strategy needs (the idtrack columns are held by
            # `union` and written into the result afterwards)
            full_var = adata.var
            keep = [c for c in full_var.columns if c not in union.columns] if merge is not None else []
            adata.var = full_var[keep]
            adata.write_h5ad(path)
            adata.var = full_var
            files.append(path)
            if uns_merge is not None:
                user_uns.append(dict(adata.uns))
            if adata is ds.source:  # in place (copy_inputs=False): the input keeps its record
                ds.source.uns[key_added] = _rec
            del adata
            gc.collect()
            release_memory()
            logger.info("%s harmonized and staged (%d so far).", ds.label, i + 1)
        staged = workdir / f"result-{out_file.name}"
        _concat_files(
            files,
            staged,
            join=join,
            merge=merge,
            label=label,
            keys=keys,
            index_unique=index_unique,
            fill_value=fill_value,
            max_loaded_elems=max_loaded_elems,
        )
        _finish_file(
            staged,
            union=union,
            diag=diag,
            snap=snap,
            params=params,
            key_added=key_added,
            uns_merge=uns_merge,
            user_uns=user_uns,
        )
        if out_file.is_dir():  # an existing .zarr store is replaced, as write_zarr does
            shutil.rmtree(out_file)
        staged.replace(out_file)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _concat_out_of_core_dask(
    harmonized: Callable[..., Iterator[tuple[_Dataset, AnnData, dict[str, Any]]]],
    *,
    out_file: Path,
    union: _FeatureUnion,
    diag: _Diagnostics,
    snap: Snapshot,
    params: dict[str, Any],
    key_added: str,
    max_loaded_elems: int,
    copy_inputs: bool,
    uns_merge: Any,
    pairwise: bool,
    **concat_kwargs: Any,
) -> None:
    """The Dask engine (:mod:`idtrack_sc.pp._concat_dask`), finished as the streaming one."""
    from functools import partial

    from ._concat_dask import concat_dask, load_lazy

    del pairwise  # refused by _check_out_file
    workdir = Path(tempfile.mkdtemp(prefix=".idtrack-concat-", dir=out_file.parent))
    try:
        concat_dask(
            harmonized(partial(load_lazy, copy_inputs=copy_inputs, max_loaded_elems=max_loaded_elems)),
            out_file=out_file,
            workdir=workdir,
            finish=partial(
                _finish_file, union=union, diag=diag, snap=snap, params=params, key_added=key_added, uns_merge=uns_merge
            ),
            key_added=key_added,
            strip_columns=union.columns,
            max_loaded_elems=max_loaded_elems,
            uns_merge=uns_merge,
            **concat_kwargs,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _finish_file(
    path: Path,
    *,
    union: _FeatureUnion,
    diag: _Diagnostics,
    snap: Snapshot,
    params: dict[str, Any],
    key_added: str,
    uns_merge: Any,
    user_uns: list[dict],
) -> None:
    """Write the idtrack ``var`` columns and ``uns[key_added]`` into a concatenated ``.h5ad`` / ``.zarr``."""
    read_elem, write_elem = _read_elem(), _write_elem()
    with _open_group(path) as f:
        var = read_elem(f["var"])
        var = _with_columns(var, union.var(var.index))
        del f["var"]
        write_elem(f, "var", var)
        uns: dict[str, Any] = {}
        if "uns" in f:
            uns = read_elem(f["uns"])
            del f["uns"]
        if uns_merge is not None and user_uns:
            uns.update(_merge_uns(user_uns, uns_merge))
        uns[key_added] = _summary(diag, union, len(var), snap=snap, params=params)
        write_elem(f, "uns", uns)
        _log_summary(uns[key_added])


@contextlib.contextmanager
def _open_group(path: Path) -> Iterator[Any]:
    """The root group of an ``.h5ad`` file (h5py) or a ``.zarr`` store (zarr), open for writing."""
    if path.suffix.lower() == ".zarr":
        import zarr

        yield zarr.open_group(str(path), mode="r+")
        return
    import h5py

    with h5py.File(path, "r+") as f:
        yield f


def _merge_uns(unses: list[dict], strategy: Any) -> dict:
    """Apply anndata's ``uns_merge`` strategy to the datasets' own ``uns`` (out of core).

    :func:`anndata.concat` on empty AnnData objects that hold only the ``uns`` gives exactly
    anndata's merge, through its public API.
    """
    import anndata as ad

    empty = pd.DataFrame(index=pd.Index([], dtype=object))
    shells = [AnnData(obs=empty, var=empty, uns=uns) for uns in unses]
    return dict(ad.concat(shells, uns_merge=strategy).uns)


def _summary(
    diag: _Diagnostics, union: _FeatureUnion, n_result: int, *, snap: Snapshot, params: dict[str, Any]
) -> dict[str, Any]:
    """The ``uns[key_added]`` record of a concatenation."""
    import datetime as dt

    return {
        "function": "idtrack_sc.concat_harmonized",
        "params": clean(params),
        "snapshot": snapshot_record(snap),
        "versions": package_versions(),
        "date": dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": environment_report(),
        "datasets": _strings(diag.names),
        "sources": _strings(diag.sources),
        "counts": diag.counts_table(),
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
