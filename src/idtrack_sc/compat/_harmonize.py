"""``HarmonizeFeatures``: the reference tool's multi-dataset harmonizer, answered by ``concat_harmonized``.

Nothing here converts or merges features itself: :meth:`HarmonizeFeatures.unify_multiple_anndatas`
is one call of :func:`idtrack_sc.concat_harmonized` (with the reference tool's rule for
failed identifiers, ``unmapped="consistent"``), and the reference tool's diagnostic
attributes are read from that call's ``uns`` record.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..pp._concat import _datasets, _survey, concat_harmonized
from ..resolve import convert
from ._api import API

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from anndata import AnnData

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
_MODES = {"union": "outer", "intersect": "inner"}


class HarmonizeFeatures:
    """The reference tool's ``HarmonizeFeatures``, on :func:`idtrack_sc.concat_harmonized`.

    Harmonizes the features of several datasets with one snapshot and the reference tool's
    rule: an identifier that fails to convert (no target, or several it cannot choose
    between) is removed, unless the same identifier occurs in every dataset, where it is
    kept under its own name.

    Differences from the reference tool, by design:

    - ``var_names`` of the result are identifiers in ``final_database`` (e.g. HGNC symbols);
      the Ensembl gene behind each is in ``var['ensembl_gene']``.
    - Cell names are made unique as ``{cell}_{dataset}`` (anndata's ``index_unique``), not
      ``{dataset}_{cell}``.
    - Per-dataset results are written as TSV and JSON under
      ``project_local_repository/project_name/`` (never pickles), and are not read back:
      conversion takes milliseconds.
    - The diagnostics are computed on first use (by a ``mode="union"`` run if
      :meth:`unify_multiple_anndatas` was not called yet).

    Parameters
    ----------
    project_name
        Name of the project; the folder for its files.
    data_h5ad_dict
        Dataset names to ``.h5ad`` paths (or :class:`~anndata.AnnData` objects).
    project_local_repository
        Folder for the project's result files (created if needed).
    idtrack_local_repository
        Snapshot cache folder, as for :class:`~idtrack_sc.API`.
    target_ensembl_release
        Ensembl release to convert to.
    final_database
        Target namespace in the reference tool's spelling (``"HGNC Symbol"``,
        ``"ensembl_gene"``, …).
    organism_name
        Organism (any accepted spelling), or ``"default"`` for the embedded human subset.
    graph_last_ensembl_release
        Newest release of the snapshot to load (``"default"`` for the embedded subset).
    verbose_level
        0 errors, 1 warnings, 2 info, 3 debug (idtrack-sc's log messages on stderr).
    snapshot
        A :class:`~idtrack_sc.Snapshot` or snapshot file to use instead of looking one up.

    Attributes
    ----------
    conversion_failed_identifiers
        Identifiers removed because they failed to convert and are not in every dataset.
    conversion_failed_but_consistent_identifiers
        Identifiers that failed to convert but are in every dataset, kept as they are.
    removed_conversion_failed_identifiers, kept_conversion_failed_identifiers
        The same, as ``{identifier: {"reason": ..., "datasets_containing": [...]}}``.
    multiple_ensembl_dict
        For every feature of the result, the Ensembl gene(s) its identifiers stand for
        (several when identifiers of different genes met under one name).
    snapshot
        The snapshot in use.

    Examples
    --------
    >>> from idtrack_sc.compat import HarmonizeFeatures
    >>> hf = HarmonizeFeatures(  # doctest: +SKIP
    ...     "toy",
    ...     {"A": "a.h5ad", "B": "b.h5ad"},
    ...     "./project",
    ...     "./idtrack_cache",
    ...     114,
    ...     organism_name="default",
    ...     graph_last_ensembl_release="default",
    ... )
    >>> adata = hf.unify_multiple_anndatas(mode="union")  # doctest: +SKIP
    >>> hf.conversion_failed_identifiers  # doctest: +SKIP
    {'NOT_A_REAL_GENE'}
    """

    def __init__(
        self,
        project_name: str,
        data_h5ad_dict: Mapping[str, str | os.PathLike | AnnData],
        project_local_repository: str | os.PathLike,
        idtrack_local_repository: str | os.PathLike,
        target_ensembl_release: int,
        final_database: str = "HGNC Symbol",
        organism_name: str = "homo_sapiens",
        graph_last_ensembl_release: int | str = 114,
        verbose_level: Literal[0, 1, 2, 3] = 2,
        *,
        snapshot: Snapshot | str | os.PathLike | None = None,
    ) -> None:
        if verbose_level not in _LEVELS:
            msg = f"verbose_level must be 0, 1, 2 or 3, got {verbose_level!r}."
            raise ValueError(msg)
        if not isinstance(project_name, str) or not project_name or "/" in project_name or "\\" in project_name:
            msg = f"project_name must be a non-empty name without path separators, got {project_name!r}."
            raise ValueError(msg)
        if not hasattr(data_h5ad_dict, "items"):
            msg = f"data_h5ad_dict must map dataset names to .h5ad paths, got {type(data_h5ad_dict).__name__}."
            raise TypeError(msg)
        self.project_name = project_name
        self.data_h5ad_dict = dict(data_h5ad_dict)
        self.project_local_repository = Path(project_local_repository)
        self.idtrack_local_repository = idtrack_local_repository
        self.target_ensembl_release = int(target_ensembl_release)
        self.final_database = final_database
        self.organism_name = organism_name
        self.graph_last_ensembl_release = graph_last_ensembl_release
        self.verbose_level = verbose_level
        self.n_datasets = len(self.data_h5ad_dict)
        self._datasets, _ = _datasets(self.data_h5ad_dict, None)  # checks names, types and paths

        self.idt = API(local_repository=idtrack_local_repository)
        self.idt.configure_logger(_LEVELS[verbose_level])
        if snapshot is not None:
            self.idt.build_graph(snapshot=snapshot)
        else:
            self.idt.build_graph(organism_name=organism_name, snapshot_release=graph_last_ensembl_release)
        self.snapshot: Snapshot = self.idt.snapshot
        self.snapshot.check_release(self.target_ensembl_release)
        self.namespace = self.idt._namespace(final_database)
        self.project_dir = self.project_local_repository / project_name
        self._records: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return (
            f"HarmonizeFeatures({self.project_name!r}, {self.n_datasets} datasets, release "
            f"{self.target_ensembl_release}, to {self.namespace!r}, {self.snapshot!r})"
        )

    # -- the work ------------------------------------------------------------------------------
    def unify_multiple_anndatas(
        self,
        mode: Literal["union", "intersect"] = "union",
        obs_columns_to_keep: Sequence[str] | None = None,
        handle_anndata_key: str = "handle_anndata",
        converted_id_column: str = "converted_id",
    ) -> AnnData:
        """Harmonize every dataset and concatenate them.

        Parameters
        ----------
        mode
            ``"union"``: every feature of any dataset (missing counts are zero) plus a
            ``var['intersection']`` column (1 if the feature is in every dataset);
            ``"intersect"``: only the features in every dataset.
        obs_columns_to_keep
            ``obs`` columns to keep (default all, as :func:`anndata.concat` does with an
            outer join).
        handle_anndata_key
            ``obs`` column naming each cell's dataset.
        converted_id_column
            ``var`` column repeating the converted identifier (the reference tool's name).

        Returns
        -------
        The concatenated AnnData, with the diagnostics of
        :func:`~idtrack_sc.concat_harmonized` in ``uns['idtrack']``.
        """
        if mode not in _MODES:
            msg = f"mode must be 'union' or 'intersect', got {mode!r}."
            raise ValueError(msg)
        result = concat_harmonized(
            self.data_h5ad_dict,
            snapshot=self.snapshot,
            release=self.target_ensembl_release,
            to=self.namespace,
            unmapped="consistent",
            join=_MODES[mode],
            label=handle_anndata_key,
            index_unique="_",
        )
        if obs_columns_to_keep is not None:
            missing = [c for c in obs_columns_to_keep if c not in result.obs.columns]
            if missing:
                msg = f"obs_columns_to_keep: {missing} are not obs columns of the concatenated data."
                raise KeyError(msg)
            result.obs = result.obs[[handle_anndata_key, *[c for c in obs_columns_to_keep if c != handle_anndata_key]]]
        result.var[converted_id_column] = result.var_names.to_numpy(dtype=object)
        result.var["ensembl_gene"] = result.var["idtrack_gene_id"].to_numpy(dtype=object)
        if mode == "union":
            result.var["intersection"] = (result.var["idtrack_n_datasets"] == self.n_datasets).astype(np.int64)
        self._records[mode] = result.uns["idtrack"]
        self._write_files(result)
        return result

    def feature_harmonizer(self, dataset_name: str) -> tuple[AnnData, int, int]:
        """One dataset, harmonized under the cross-dataset rule: ``(adata, n_vars_before, n_vars_after)``."""
        if dataset_name not in self.data_h5ad_dict:
            msg = f"No dataset {dataset_name!r}; the datasets are {list(self.data_h5ad_dict)}."
            raise KeyError(msg)
        import anndata as ad

        from ..pp._harmonize import _harmonize_anndata

        keep = set(self._record()["failed_consistent"]["id"].tolist())
        source = self.data_h5ad_dict[dataset_name]
        adata = source.copy() if not isinstance(source, str | os.PathLike) else ad.read_h5ad(source)
        n_before = adata.n_vars
        _harmonize_anndata(
            adata,
            snap=self.snapshot,
            release=self.target_ensembl_release,
            to=self.namespace,
            id_key=None,
            ambiguous="best",
            unmapped="keep",
            duplicates="sum",
            symbol_key="symbol",
            key_added="idtrack",
            label=f"dataset {dataset_name!r}",
            environment=False,
            keep_only=keep,
        )
        return adata, n_before, adata.n_vars

    # -- the reference tool's diagnostics ---------------------------------------------------------
    @property
    def conversion_failed_identifiers(self) -> set[str]:
        """The identifiers removed because they failed to convert and are not in every dataset."""
        return set(self.removed_conversion_failed_identifiers)

    @property
    def conversion_failed_but_consistent_identifiers(self) -> set[str]:
        """Identifiers that failed to convert but are in every dataset (kept as they are)."""
        return {str(i) for i in self._record()["failed_consistent"]["id"]}

    @property
    def removed_conversion_failed_identifiers(self) -> dict[str, dict[str, Any]]:
        """``{identifier: {"reason", "datasets_containing"}}`` of the removed identifiers."""
        out: dict[str, dict[str, Any]] = {}
        record = self._record()
        for name in record["datasets"]:
            table = record["failed"][str(name).replace("/", "_") or "_"]
            for ident, reason in zip(table["id"], table["reason"], strict=True):
                entry = out.setdefault(
                    str(ident), {"reason": _reference_reason(str(reason)), "datasets_containing": []}
                )
                entry["datasets_containing"].append(str(name))
        return out

    @property
    def kept_conversion_failed_identifiers(self) -> dict[str, dict[str, Any]]:
        """``{identifier: {"reason", "datasets_containing"}}`` of the consistent failures."""
        table = self._record()["failed_consistent"]
        names = [str(n) for n in self._record()["datasets"]]
        return {
            str(i): {"reason": _reference_reason(str(r)), "datasets_containing": list(names)}
            for i, r in zip(table["id"], table["reason"], strict=True)
        }

    @property
    def multiple_ensembl_dict(self) -> dict[str, list[str]]:
        """Feature name -> sorted Ensembl gene(s) its original identifiers stand for."""
        return self._ensembl_per_feature()

    # -- helpers -----------------------------------------------------------------------------
    def _record(self) -> dict[str, Any]:
        if not self._records:
            logger.info("Computing the diagnostics with unify_multiple_anndatas(mode='union').")
            self.unify_multiple_anndatas(mode="union")
        return self._records.get("union") or next(iter(self._records.values()))

    def _ensembl_per_feature(self) -> dict[str, list[str]]:
        path = self.project_dir / "features.tsv"
        if not path.is_file():
            self._record()
        features = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        return {
            row.feature: sorted(filter(None, row.ensembl_genes.split("|")))
            for row in features.itertuples(index=False)
            if row.ensembl_genes
        }

    def _write_files(self, result: AnnData) -> None:
        """Readable per-dataset results: ``<dataset>.tsv``, ``features.tsv``, ``summary.json``."""
        self.project_dir.mkdir(parents=True, exist_ok=True)
        record = result.uns["idtrack"]
        per_original: dict[str, set[str]] = {}
        for ds in self._datasets:
            survey = _survey(ds, id_key=None, key_added="idtrack")
            table = convert(
                survey.identifiers, snapshot=self.snapshot, to=self.namespace, release=self.target_ensembl_release
            )
            dropped = set(record["failed"][ds.name.replace("/", "_") or "_"]["id"].tolist())
            table.insert(1, "fate", np.where(table["query"].isin(dropped), "removed", "kept"))
            table.to_csv(self.project_dir / f"{_file_name(ds.name)}.tsv", sep="\t", index=False)
            genes = convert(survey.identifiers, snapshot=self.snapshot, to="ensembl_gene", strategy="all")
            for query, found in zip(genes["query"], genes["targets"].fillna(""), strict=True):
                per_original.setdefault(str(query), set()).update(filter(None, str(found).split("|")))
        originals = result.var["idtrack_original"].astype(str)
        features = pd.DataFrame(
            {
                "feature": result.var_names.astype(str),
                "originals": originals.to_numpy(dtype=object),
                "ensembl_genes": [
                    "|".join(sorted(set().union(*(per_original.get(o, set()) for o in joined.split("|")))))
                    for joined in originals
                ],
                "n_datasets": result.var["idtrack_n_datasets"].to_numpy(),
            }
        )
        features.to_csv(self.project_dir / "features.tsv", sep="\t", index=False)
        summary = {
            "project_name": self.project_name,
            "target_ensembl_release": self.target_ensembl_release,
            "final_database": self.final_database,
            "namespace": self.namespace,
            "snapshot": _jsonable(record["snapshot"]),
            "datasets": [str(n) for n in record["datasets"]],
            "counts": {k: np.asarray(v).tolist() for k, v in record["counts"].items()},
            "n_vars": _jsonable(record["n_vars"]),
            "conversion_failed_identifiers": sorted(
                {str(i) for t in record["failed"].values() for i in np.asarray(t["id"]).tolist()}
            ),
            "conversion_failed_but_consistent_identifiers": [str(i) for i in record["failed_consistent"]["id"]],
            "ambiguous": pd.DataFrame(record["ambiguous"]).astype(str).to_dict(orient="list"),
        }
        (self.project_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        logger.info("Wrote the per-dataset results to %s.", self.project_dir)


def _reference_reason(reason: str) -> str:
    return "1-to-n" if reason == "ambiguous" else "1-to-0"


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
