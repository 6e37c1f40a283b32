"""The datasets given to :func:`~idtrack_sc.pp.concat_harmonized`: naming, surveying, checking, loading.

A survey reads what is needed to plan the harmonization (identifiers, shape, organism hints)
without loading any matrix, so that every dataset is checked before any work starts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from anndata import AnnData
from anndata.io import read_elem
from scipy import sparse

from ..._userwarn import warn
from ...record import already_harmonized, is_harmonized, var_columns
from ...resolve import check_from_release
from ...snapshot import resolve_organism
from .._plan import identifiers

if TYPE_CHECKING:
    from ...snapshot import Snapshot

logger = logging.getLogger(__name__)

DatasetLike = AnnData | str | os.PathLike

#: ``uns`` keys and ``obs`` columns that may say which organism a dataset is from.
ORGANISM_UNS_KEYS = ("organism", "species")
ORGANISM_OBS_COLUMNS = ("organism", "species", "organism_ontology_term_id")
#: How the idtrack ``var`` columns of the result are assembled (recorded in the params).


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


def check_inputs(adatas: Any) -> None:
    """Check datasets as :func:`~idtrack_sc.concat_harmonized` does first: names unique, AnnData or ``.h5ad`` files.

    Parameters
    ----------
    adatas
        A mapping of names to AnnData objects or ``.h5ad`` paths, or a sequence of them.

    Raises
    ------
    TypeError, ValueError, FileNotFoundError
        With the message ``concat_harmonized`` would give.
    """
    _datasets(adatas, None)


@dataclass
class _Survey:
    """What is known about a dataset before loading its matrices."""

    identifiers: np.ndarray
    n_obs: int
    n_vars: int
    harmonized: bool
    organism_hints: list[tuple[str, str]] = field(default_factory=list)  # (where, value)
    #: the matrices stored sparse (CSR or CSC): ``"X"``, ``"layers/<name>"``
    sparse_elements: frozenset[str] = frozenset()


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
            identifiers=identifiers(adata, id_key, ds.label) if adata.n_vars else np.array([], dtype=object),
            n_obs=adata.n_obs,
            n_vars=adata.n_vars,
            harmonized=is_harmonized(adata, key_added),
            organism_hints=_hints_from(adata.uns, obs_cols),
            sparse_elements=frozenset(
                path
                for path, x in (("X", adata.X), *((f"layers/{k}", v) for k, v in adata.layers.items() if k is not None))
                if sparse.issparse(x)
            ),
        )
    import h5py

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
            elements = [("X", f["X"])] if "X" in f else []
            elements += [(f"layers/{k}", v) for k, v in f["layers"].items()] if "layers" in f else []
            stored_sparse = frozenset(
                path for path, elem in elements if _attr(elem, "encoding-type") in ("csr_matrix", "csc_matrix")
            )
    except (OSError, KeyError) as err:
        msg = f"{ds.label} could not be read as an .h5ad file: {err}"
        raise ValueError(msg) from err
    shell = AnnData(obs=pd.DataFrame(index=pd.RangeIndex(0).astype(str)), var=var)
    return _Survey(
        identifiers=identifiers(shell, id_key, ds.label) if shell.n_vars else np.array([], dtype=object),
        n_obs=n_obs,
        n_vars=shell.n_vars,
        harmonized=harmonized and var_columns(key_added)["original"] in var.columns,
        organism_hints=_hints_from(uns_hints, obs_cols),
        sparse_elements=stored_sparse,
    )


def _attr(elem: Any, name: str) -> str:
    value = elem.attrs.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _n_rows(elem: Any) -> int:
    """Length of an on-disk array element without reading it (plain, nullable or categorical)."""
    import h5py

    if isinstance(elem, h5py.Dataset):
        return int(elem.shape[0])
    for part in ("values", "codes"):  # nullable arrays and strings, categoricals
        if part in elem:
            return int(elem[part].shape[0])
    return len(read_elem(elem))


def _check_dataset(ds: _Dataset, survey: _Survey, snap: Snapshot, key_added: str) -> None:
    if survey.n_vars == 0:
        msg = f"{ds.label} has no features (n_vars == 0): nothing to harmonize or concatenate."
        raise ValueError(msg)
    if survey.n_obs == 0:
        msg = f"{ds.label} has no cells (n_obs == 0); remove it from the datasets to concatenate."
        raise ValueError(msg)
    if survey.harmonized:
        raise already_harmonized(ds.label, key_added)
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
                "Datasets of different organisms cannot share one gene namespace: give "
                f"dataset_organisms={{{ds.name!r}: {organism!r}}} to have its genes expressed as {snap.organism} "
                "orthologs first, or harmonize and concatenate them separately."
            )
            raise ValueError(msg)


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


def refuse_input_as_output(datasets: list[_Dataset], out_file: Path) -> None:
    """An ``out_file`` that is one of the inputs (its path, or the file a backed input reads) is refused."""
    target = out_file.resolve()
    for ds in datasets:
        source = ds.source
        if isinstance(source, AnnData):
            if not source.isbacked or source.filename is None:
                continue
            source = Path(source.filename)
        if source.resolve() == target:
            msg = f"out_file={out_file} is the file {ds.label} is read from: write the result elsewhere."
            raise ValueError(msg)


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
            warn(f"{ds.label} is a view; harmonizing a copy of it.", UserWarning)
        return adata.copy()
    return adata
