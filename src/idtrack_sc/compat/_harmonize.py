"""``HarmonizeFeatures``: the reference tool's multi-dataset harmonizer, on idtrack-sc conversions.

Every identifier is converted by :meth:`~idtrack_sc.API.convert_identifier_multiple` (one vectorized
:func:`idtrack_sc.convert` call per dataset). What is kept, dropped or merged then follows the
reference tool's rules by default (``method="idtrack"``): an identifier that fails to convert
(1→0, 1→n) or that meets other identifiers of its dataset on one target (n→1) is removed unless
it does so in every dataset, where it is kept under its own name; within an n→1 group, an
identifier equal to the target is kept and the others removed (counts are not summed). With
``method="idtrack_sc"``, :meth:`~idtrack_sc.HarmonizeFeatures.unify_multiple_anndatas` is one call of
:func:`idtrack_sc.concat_harmonized` instead (duplicates summed, ``var_names`` in the target
namespace, idtrack-sc's provenance).
"""

from __future__ import annotations

import logging
import warnings
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..record import n_datasets_column, spreadsheet_safe
from ._api import API, BACKBONE

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

    from anndata import AnnData

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
_MODES = {"union": "outer", "intersect": "inner"}
_METHODS = ("idtrack", "idtrack_sc")

#: What the reference tool writes into string columns of the merged object for a missing value.
PLACEHOLDER_NA = "_PLACEHOLDER_NA_"
#: Spellings of a missing value that the merged object's string columns turn into ``PLACEHOLDER_NA``.
MISSING_VALUES = frozenset(
    {
        *(f"{a}{s}" for a in ("na", "NA", "Na", "n/a", "N/A", "n.a.", "N.A.") for s in ("",)),
        *(f"{a}{s}" for a in ("na", "Na", "NA") for s in (".", "-", "_")),
        "n-a",
        "N-A",
        "n_a",
        "N_A",
        *("none", "None", "NONE", "non", "Non", "NON", "void", "Void", "VOID", "blank", "Blank", "BLANK"),
        *("omitted", "Omitted", "OMITTED", "NaN", "nan", "Nan", "NAN", "-", "_", "--", "__", "---", "___"),
        *("null", "Null", "NULL", "nil", "Nil", "NIL", "undefined", "Undefined", "UnDefined", "UNDEFINED"),
        *("unassigned", "Unassigned", "UnAssigned", "", "<NA>"),
    }
)


class HarmonizeFeatures:
    """The reference tool's ``HarmonizeFeatures``, on idtrack-sc's conversions.

    Converts the features (``var_names``) of every dataset to ``final_database`` at
    ``target_ensembl_release`` and merges the datasets with the reference tool's rules; the
    diagnostics are computed when the object is made, and kept in memory.

    By default (``method="idtrack"``) the result is the reference tool's: an identifier
    that fails to convert (1→0, or 1→n) or that meets other identifiers of its dataset on one
    target (n→1) is removed, unless it does so in every dataset, where it is kept under its
    own name; in an n→1 group the identifier equal to the target is kept (e.g. ``TP53``
    beside ``ENSG00000141510``) and the others are removed, without summing counts. The
    merged object's ``var_names`` are the versioned Ensembl genes, with the converted names
    in ``var[converted_id_column]``. ``method="idtrack_sc"`` merges with
    :func:`idtrack_sc.concat_harmonized` instead: counts of identifiers that meet on one
    target are summed, ``var_names`` are the converted names and ``uns['idtrack']`` holds
    idtrack-sc's provenance.

    Parameters
    ----------
    project_name
        Name of the project (used in file names).
    data_h5ad_dict
        Dataset names to ``.h5ad`` paths (or :class:`~anndata.AnnData` objects). May be
        empty: the diagnostics are then empty and the merged object has no cells.
    project_local_repository
        Folder for the per-dataset conversion tables (TSV; created if needed).
    idtrack_local_repository
        Snapshot cache folder, as for :class:`~idtrack_sc.API`.
    target_ensembl_release
        Ensembl release to convert to; at most ``graph_last_ensembl_release``.
    final_database
        Target database in the reference tool's spelling (``"HGNC Symbol"``,
        ``"ensembl_gene"``, …).
    organism_name
        Organism (any accepted spelling), or ``"default"`` for the embedded human subset.
    graph_last_ensembl_release
        Newest release of the "graph" (the ``snapshot_release`` of :meth:`~idtrack_sc.API.build_graph`).
    verbose_level
        0 errors, 1 warnings, 2 info, 3 debug (idtrack-sc's log messages on stderr).
    debugging_variables
        Also fill ``dict_n_to_1_with_query``, ``dict_n_to_1_with_query_reverse`` and
        ``dict_n_to_1_without_query``.
    converted_id_column
        ``var`` column of the merged object holding the converted identifier (and prefix
        of the per-dataset columns ``{converted_id_column}_{dataset}``).
    snapshot
        A :class:`~idtrack_sc.Snapshot` or snapshot file to use instead of looking one up.
    method
        ``"idtrack"`` (the reference tool's rules, default) or ``"idtrack_sc"``
        (:func:`~idtrack_sc.concat_harmonized`).

    Attributes
    ----------
    conversion_failed_identifiers
        Identifiers removed: they failed to convert (1→0, 1→n) or were part of an n→1
        group, and not in every dataset.
    conversion_failed_but_consistent_identifiers
        Identifiers that failed (or were n→1) in every dataset, kept under their own name.
    multiple_ensembl_dict
        Converted identifier → the Ensembl gene(s) behind it (versioned, sorted), for every
        identifier not kept under its own name, in order of first appearance.
    unified_matching_dict
        Identifier → ``{"matching": result of API.convert_identifier, "datasets_containing": [...]}``.
    dict_n_to_1
        Identifier → datasets in which it met other identifiers on one target and was not
        the one kept.
    removed_conversion_failed_identifiers
        ``{identifier: {"reason": "1-to-0" / "1-to-n" / "n-to-1" (joined by "_"), "datasets_containing": [...]}}``
        of the removed identifiers.
    kept_conversion_failed_identifiers
        The same, of the identifiers kept under their own name.
    removed_inconsistent_identifier_matching
        The same, of identifiers removed because their Ensembl gene got two names across the project.
    removed_final_database_duplicates
        The same, of identifiers removed because their name went to another Ensembl gene across the project.
    idt
        The :class:`~idtrack_sc.API` used.

    Examples
    --------
    >>> from idtrack_sc.compat import HarmonizeFeatures
    >>> hf = HarmonizeFeatures(  # doctest: +SKIP
    ...     "toy",
    ...     {"A": "a.h5ad", "B": "b.h5ad"},
    ...     "./project",
    ...     "./idtrack_cache",
    ...     114,
    ...     organism_name="human",
    ...     graph_last_ensembl_release=114,
    ... )
    >>> hf.conversion_failed_identifiers  # doctest: +SKIP
    {'ENSG00000141510', 'NOT_A_REAL_GENE'}
    >>> adata = hf.unify_multiple_anndatas(mode="union")  # doctest: +SKIP
    """

    #: Suffix added to identifiers kept under their own name (none, as in the reference tool).
    nonmatching_but_consistent_suffix = ""
    _ENSEMBL_GENE_COLUMN = "matching_ensembl_gene"

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
        debugging_variables: bool = False,
        converted_id_column: str = "converted_id",
        *,
        snapshot: Snapshot | str | os.PathLike | None = None,
        method: Literal["idtrack", "idtrack_sc"] = "idtrack",
    ) -> None:
        if verbose_level not in _LEVELS:
            msg = f"verbose_level must be 0, 1, 2 or 3, got {verbose_level!r}."
            raise ValueError(msg)
        if method not in _METHODS:
            msg = f"method must be 'idtrack' (the reference tool's rules) or 'idtrack_sc', got {method!r}."
            raise ValueError(msg)
        if not isinstance(project_name, str) or not project_name or "/" in project_name or "\\" in project_name:
            msg = f"project_name must be a non-empty name without path separators, got {project_name!r}."
            raise ValueError(msg)
        if not hasattr(data_h5ad_dict, "items"):
            msg = f"data_h5ad_dict must map dataset names to .h5ad paths, got {type(data_h5ad_dict).__name__}."
            raise TypeError(msg)
        if not isinstance(converted_id_column, str) or not converted_id_column:
            msg = f"converted_id_column must be a non-empty column name, got {converted_id_column!r}."
            raise ValueError(msg)
        try:
            target = int(target_ensembl_release)
        except (TypeError, ValueError):
            msg = f"target_ensembl_release must be an Ensembl release number, got {target_ensembl_release!r}."
            raise TypeError(msg) from None
        self.project_name = project_name
        self.data_h5ad_dict = dict(data_h5ad_dict)
        self.project_local_repository = project_local_repository
        self.idtrack_local_repository = idtrack_local_repository
        self.target_ensembl_release = target
        self.final_database = final_database
        self.organism_name = organism_name
        self.graph_last_ensembl_release = graph_last_ensembl_release
        self.verbose_level = verbose_level
        self.debugging_variables = debugging_variables
        self.converted_id_column = converted_id_column
        self.method = method
        self.n_datasets = len(self.data_h5ad_dict)
        if self.data_h5ad_dict:
            from ..pp import check_concat_inputs

            check_concat_inputs(self.data_h5ad_dict)  # checks names, types and paths

        self.idt = API(local_repository=idtrack_local_repository)
        self.idt.configure_logger(_LEVELS[verbose_level])
        self.idt_initialized = False
        self._snapshot_arg = snapshot
        self._matchings: dict[str, list[dict[str, Any]]] | None = None

        self.dict_n_to_1: dict[str, list[str]] = {}
        self.multiple_ensembl_list: list[list[tuple[str, str]]] = []
        self.dict_n_to_1_with_query: dict[str, dict[tuple, list]] = {}
        self.dict_n_to_1_with_query_reverse: dict[str, dict[str, list[str]]] = {}
        self.dict_n_to_1_without_query: dict[tuple, list] = {}
        self.multiple_ensembl_dict: dict[str, list[str]] = {}
        self.removed_conversion_failed_identifiers: dict[str, dict[str, Any]] = {}
        self.kept_conversion_failed_identifiers: dict[str, dict[str, Any]] = {}
        self.removed_inconsistent_identifier_matching: dict[str, dict[str, Any]] = {}
        self.removed_final_database_duplicates: dict[str, dict[str, Any]] = {}
        self._initialize()

    def __repr__(self) -> str:
        snap = self.idt.snapshot if self.idt_initialized else "no snapshot loaded yet"
        return (
            f"HarmonizeFeatures({self.project_name!r}, {self.n_datasets} datasets, release "
            f"{self.target_ensembl_release}, to {self.final_database!r}, method={self.method!r}, {snap!r})"
        )

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot in use (loaded on first use)."""
        self._initialize_idt()
        return self.idt.snapshot

    # -- the reference tool's pipeline -----------------------------------------------------------
    def _initialize(self) -> None:
        """Convert every dataset and fill the diagnostic attributes."""
        for dataset_name, dataset in self.data_h5ad_dict.items():
            gene_list = self.extract_source_identifiers_from_anndata(dataset)
            present = set(gene_list)
            issues = self.datataset_conversion_dataframe_issues
            for the_dict, the_set in (
                (self.removed_conversion_failed_identifiers, present & self.conversion_failed_identifiers),
                (self.kept_conversion_failed_identifiers, present & self.conversion_failed_but_consistent_identifiers),
                (self.removed_inconsistent_identifier_matching, present & issues["gene_names_inconsistency"]),
                (self.removed_final_database_duplicates, present & issues["final_database_duplicate_source_ids"]),
            ):
                self.reporter_dict_creator(the_dict=the_dict, the_set=the_set, dataset_name=dataset_name)
            consistent = self.conversion_failed_but_consistent_identifiers
            for the_id in gene_list:
                if the_id not in consistent:
                    self.multiple_ensembl_list.append(self.unified_matching_dict[the_id]["matching"]["last_node"])
        self.multiple_ensembl_dict = self.create_multiple_ensembl_dict()

    def _initialize_idt(self) -> None:
        """Load the snapshot on first use."""
        if self.idt_initialized:
            return
        if self._snapshot_arg is not None:
            release = self.graph_last_ensembl_release
            self.idt.build_graph(
                snapshot=self._snapshot_arg,
                snapshot_release=release if isinstance(release, int) else None,
                calculate_caches=False,
            )
        else:
            self.idt.build_graph(
                organism_name=self.organism_name,
                snapshot_release=self.graph_last_ensembl_release,
                calculate_caches=False,
            )
        self.idt._target_release(self.target_ensembl_release)  # refuse a target beyond the graph now
        self.idt_initialized = True

    def extract_source_identifiers_from_anndata(self, dataset_path: str | os.PathLike | AnnData) -> list[str]:
        """A dataset's feature identifiers (its ``var_names``), in file order."""
        import anndata as ad

        if isinstance(dataset_path, ad.AnnData):
            return [str(v) for v in dataset_path.var_names]
        adata = ad.read_h5ad(dataset_path, backed="r")
        try:
            return [str(v) for v in adata.var_names]
        finally:
            adata.file.close()

    def run_idtrack_for_single_dataset(
        self, dataset_name: str, dataset_path: str | os.PathLike | AnnData
    ) -> list[dict[str, Any]]:
        """Convert one dataset's identifiers: :meth:`~idtrack_sc.API.convert_identifier_multiple` results."""
        self._initialize_idt()
        gene_list = self.extract_source_identifiers_from_anndata(dataset_path)
        return self.idt.convert_identifier_multiple(
            gene_list,
            final_database=self.final_database,
            to_release=self.target_ensembl_release,
            pbar_prefix=dataset_name,
            verbose=self.verbose_level > 0,
        )

    def get_idtrack_matchings_for_all_datasets(self) -> dict[str, list[dict[str, Any]]]:
        """Every dataset's conversion results (``{dataset: [result, …]}``), computed once.

        The first call converts each dataset, logs its binned summary (``verbose_level``
        2 or more), finds its n→1 groups (:meth:`n_to_1_within_individual_dataset`) and
        writes a readable table ``idtrack_result_{project}_{dataset}.tsv`` to
        ``project_local_repository`` (the reference tool writes pickles there and reads them
        back; nothing is read back here). Later calls return the same results.
        """
        if self._matchings is not None:
            return self._matchings
        result: dict[str, list[dict[str, Any]]] = {}
        for dataset_name, dataset_path in self.data_h5ad_dict.items():
            matching_list = self.run_idtrack_for_single_dataset(dataset_name, dataset_path)
            result[dataset_name] = matching_list
            if self.verbose_level > 1:
                self.idt.print_binned_conversion(
                    self.idt.classify_multiple_conversion(matching_list), title=f"dataset {dataset_name!r}"
                )
            self.n_to_1_within_individual_dataset(dataset_name=dataset_name, dataset_matching_list=matching_list)
            self._write_matchings(dataset_name, matching_list)
        self._matchings = result
        return result

    def n_to_1_within_individual_dataset(self, dataset_name: str, dataset_matching_list: list[dict[str, Any]]) -> None:
        """Find the identifiers of one dataset that meet others on one target (n→1).

        Targets in ``final_database`` and, for the ``no_target`` fallback, Ensembl genes are
        grouped; in a group of several identifiers, every identifier other than the target
        itself is recorded in ``dict_n_to_1`` for this dataset.
        """
        by_target: dict[str, list[str]] = {}
        by_gene: dict[str, list[str]] = {}
        for entry in dataset_matching_list:
            query = entry["query_id"]
            if entry["final_database"] == self.final_database:
                for _, target in entry["last_node"]:
                    by_target.setdefault(target, []).append(query)
            elif entry["final_database"] == BACKBONE:
                for gene, _ in entry["last_node"]:
                    by_gene.setdefault(gene, []).append(query)
        n_to_1: set[str] = set()
        for groups in (by_target, by_gene):
            for matched, queries in groups.items():
                if len(queries) < 2:
                    continue
                n_to_1.update(q for q in queries if q != matched)
                if self.debugging_variables:
                    group = tuple(sorted(queries))
                    if matched in group:
                        self.dict_n_to_1_with_query.setdefault(matched, {}).setdefault(group, []).append(dataset_name)
                        for q in group:
                            self.dict_n_to_1_with_query_reverse.setdefault(q, {}).setdefault(matched, []).append(
                                dataset_name
                            )
                    else:
                        self.dict_n_to_1_without_query.setdefault(group, []).append(dataset_name)
        for query in sorted(n_to_1):
            self.dict_n_to_1.setdefault(query, []).append(dataset_name)

    @cached_property
    def unified_matching_dict(self) -> dict[str, dict[str, Any]]:
        """Identifier → ``{"matching": its result, "datasets_containing": [datasets]}``."""
        unified: dict[str, dict[str, Any]] = {}
        for dataset_name, matching in self.get_idtrack_matchings_for_all_datasets().items():
            for m in matching:
                entry = unified.setdefault(m["query_id"], {"matching": m, "datasets_containing": []})
                entry["datasets_containing"].append(dataset_name)
        return unified

    @cached_property
    def dict_1_to_not_1(self) -> dict[str, list[str]]:
        """Identifiers whose conversion is not one target (1→0 or 1→n) → datasets containing them."""
        return {
            query: value["datasets_containing"]
            for query, value in self.unified_matching_dict.items()
            if len(value["matching"]["target_id"]) != 1
        }

    @cached_property
    def conversion_failed_identifiers(self) -> set[str]:
        """The identifiers removed, being 1→0, 1→n or n→1 in some datasets but not in every one."""
        failed = {q for q, ds in self.dict_1_to_not_1.items() if len(ds) != self.n_datasets}
        failed |= {q for q, ds in self.dict_n_to_1.items() if len(ds) != self.n_datasets}
        return failed

    @cached_property
    def conversion_failed_but_consistent_identifiers(self) -> set[str]:
        """The identifiers kept under their own name, being 1→0, 1→n or n→1 in every dataset."""
        return (set(self.dict_n_to_1) | set(self.dict_1_to_not_1)) - self.conversion_failed_identifiers

    @cached_property
    def datataset_conversion_dataframe_issues(self) -> dict[str, Any]:
        """Conflicts across the project (the reference tool's name, spelling included).

        ``gene_names_inconsistency``: identifiers whose Ensembl gene is named differently by
        other identifiers; ``final_database_chosen_single_ensembl_dict``: for a name that
        several Ensembl genes carry, the one kept (the first in sort order);
        ``final_database_duplicate_source_ids``: identifiers that led to another of those genes.
        """
        gene_list = [q for q in self.unified_matching_dict if q not in self.conversion_failed_identifiers]
        ens, final = self._ENSEMBL_GENE_COLUMN, self.final_database
        empty = {
            "gene_names_inconsistency": set(),
            "final_database_chosen_single_ensembl_dict": {},
            "final_database_duplicate_source_ids": set(),
        }
        if not gene_list:
            return empty
        df = self.create_dataset_conversion_dataframe(gene_list=gene_list, initialization_run=True)
        pairs = df.drop_duplicates(subset=[ens, final], keep="first")
        two_names = pairs.loc[pairs[ens].duplicated(keep=False), final].unique()
        inconsistent = set(df.loc[df[final].isin(two_names), "Query ID"])
        chosen: dict[str, str] = {}
        duplicates: set[str] = set()
        shared = pairs.loc[pairs[final].duplicated(keep=False)]
        for name, rows in shared.groupby(final, sort=True):
            keep = sorted(rows[ens])[0]
            chosen[name] = keep
            duplicates.update(rows.loc[rows[ens] != keep, "Query ID"])
        return {
            "gene_names_inconsistency": inconsistent,
            "final_database_chosen_single_ensembl_dict": chosen,
            "final_database_duplicate_source_ids": duplicates,
        }

    @property
    def dataset_conversion_dataframe_issues(self) -> dict[str, Any]:
        """``datataset_conversion_dataframe_issues``, spelled correctly."""
        return self.datataset_conversion_dataframe_issues

    def create_multiple_ensembl_dict(self) -> dict[str, list[str]]:
        """Converted identifier → sorted Ensembl genes behind it, from ``multiple_ensembl_list``."""
        out: dict[str, set[str]] = {}
        for pairs in self.multiple_ensembl_list:
            for gene, target in pairs:
                out.setdefault(target, set()).add(gene)
        return {k: sorted(v) for k, v in out.items()}

    def reporter_dict_creator_helper_reason_finder(self, the_id: str) -> str:
        """Why an identifier is reported: ``"n-to-1"``, ``"1-to-0"``, ``"1-to-n"``, joined by ``_``."""
        reason = []
        n_targets = len(self.unified_matching_dict[the_id]["matching"]["target_id"])
        if the_id in self.dict_n_to_1:
            reason.append("n-to-1")
        if n_targets == 0:
            reason.append("1-to-0")
        if n_targets > 1:
            reason.append("1-to-n")
        return "_".join(reason)

    def reporter_dict_creator(self, the_dict: dict[str, dict], the_set: set[str], dataset_name: str) -> None:
        """Add ``dataset_name`` to the entries of ``the_set`` in ``the_dict`` (made as needed)."""
        for the_id in sorted(the_set):
            if the_id not in the_dict:
                the_dict[the_id] = {
                    "reason": self.reporter_dict_creator_helper_reason_finder(the_id),
                    "datasets_containing": [],
                }
            the_dict[the_id]["datasets_containing"].append(dataset_name)

    def create_dataset_conversion_dataframe(self, gene_list: Sequence[str], initialization_run: bool) -> pd.DataFrame:
        """Rows ``[Ensembl gene, converted name, identifier]`` for ``gene_list``.

        Identifiers kept under their own name get themselves in both columns; others their
        first ``(gene, name)`` pair (and, after initialization, the project's one gene for
        a name several genes carry).
        """
        consistent = self.conversion_failed_but_consistent_identifiers
        chosen = (
            {}
            if initialization_run
            else self.datataset_conversion_dataframe_issues["final_database_chosen_single_ensembl_dict"]
        )
        rows = []
        for the_id in gene_list:
            if the_id in consistent:
                rows.append([f"{the_id}{self.nonmatching_but_consistent_suffix}", the_id, the_id])
                continue
            pairs = self.unified_matching_dict[the_id]["matching"]["last_node"]
            if not pairs:
                msg = f"{the_id!r} has no conversion and is not kept as it is; it should have been removed."
                raise ValueError(msg)
            gene, name = pairs[0]
            rows.append([chosen.get(name, gene), name, the_id])
        return pd.DataFrame(rows, columns=[self._ENSEMBL_GENE_COLUMN, self.final_database, "Query ID"], dtype=object)

    def feature_harmonizer(self, dataset_name: str) -> tuple[AnnData, int, int]:
        """One dataset with its kept features, indexed by Ensembl gene: ``(adata, n_vars_before, n_vars_after)``."""
        if dataset_name not in self.data_h5ad_dict:
            msg = f"No dataset {dataset_name!r}; the datasets are {list(self.data_h5ad_dict)}."
            raise KeyError(msg)
        import anndata as ad

        source = self.data_h5ad_dict[dataset_name]
        adata = source if isinstance(source, ad.AnnData) else ad.read_h5ad(source)
        n_before = adata.n_vars
        issues = self.datataset_conversion_dataframe_issues
        names = adata.var_names.astype(str)
        drop = (
            names.isin(self.conversion_failed_identifiers)
            | names.isin(issues["gene_names_inconsistency"])
            | names.isin(issues["final_database_duplicate_source_ids"])
        )
        kept = adata[:, ~drop]
        df = self.create_dataset_conversion_dataframe(kept.var_names.astype(str), initialization_run=False)
        for column in (self._ENSEMBL_GENE_COLUMN, self.final_database):
            dup = df.loc[df[column].duplicated(keep=False), column]
            if len(dup):
                msg = (
                    f"dataset {dataset_name!r}: features {sorted(set(df.loc[dup.index, 'Query ID']))[:10]} all lead to "
                    f"{column} {sorted(set(dup))[:5]}; give each feature a unique name (var_names_make_unique) first."
                )
                raise ValueError(msg)
        df.index = pd.Index(df.pop(self._ENSEMBL_GENE_COLUMN).astype(str), name=self._ENSEMBL_GENE_COLUMN)
        # anndata 0.13 lists X as layers[None]: pass the named layers only
        layers = {key: value for key, value in kept.layers.items() if key is not None}
        result = ad.AnnData(X=kept.X, obs=kept.obs.copy(), var=df, layers=layers)
        return result, n_before, result.n_vars

    def unify_multiple_anndatas(
        self,
        mode: Literal["union", "intersect"] = "union",
        obs_columns_to_keep: Sequence[str] | None = None,
        numeric_var_columns: set[str] | None = None,
        numeric_obs_columns: set[str] | None = None,
        handle_anndata_key: str = "handle_anndata",
    ) -> AnnData:
        """Harmonize every dataset and concatenate them.

        Parameters
        ----------
        mode
            ``"union"``: every feature of any dataset (missing counts are zero), with a
            ``var['intersection']`` column (1 if the feature is in every dataset);
            ``"intersect"``: only the features in every dataset.
        obs_columns_to_keep
            ``obs`` columns to keep beside ``handle_anndata_key`` (default none, as in the
            reference tool; they must exist in every dataset).
        numeric_var_columns, numeric_obs_columns
            Columns kept as numbers; the other ``var`` and ``obs`` columns become categorical
            strings with missing values written as ``"_PLACEHOLDER_NA_"``.
        handle_anndata_key
            ``obs`` column naming each cell's dataset.

        Returns
        -------
        With ``method="idtrack"``, the reference tool's layout: cells named
        ``{dataset}_{cell}`` in dataset order; ``var_names`` the versioned Ensembl genes
        (identifiers kept under their own name: themselves), ordered as
        :func:`anndata.concat` orders them; ``var[converted_id_column]`` the converted name
        and, for ``"union"``, ``var[f"{converted_id_column}_{dataset}"]`` per dataset.
        Layers are concatenated like ``X``. With ``method="idtrack_sc"``: the result of
        :func:`~idtrack_sc.concat_harmonized` (``var_names`` the converted names, counts
        of features that meet on one name summed, ``uns['idtrack']`` its provenance) with
        the same ``obs`` column, ``var[converted_id_column]`` and ``var['intersection']``;
        ``numeric_*_columns`` are not used (its columns keep their types).
        """
        if mode not in _MODES:
            msg = f"mode must be 'union' or 'intersect', got {mode!r}."
            raise ValueError(msg)
        obs_columns = list(obs_columns_to_keep or [])
        numeric_var_columns = set(numeric_var_columns or ())
        numeric_obs_columns = set(numeric_obs_columns or ())
        if self.method == "idtrack_sc":
            adata = self._unify_idtrack_sc(mode, obs_columns, handle_anndata_key)
            if mode == "union":
                present = adata.var[n_datasets_column("idtrack")].to_numpy() == self.n_datasets
                adata.var["intersection"] = present.astype(np.int64)
            return adata
        adata = self._unify_reference(mode, obs_columns, handle_anndata_key)
        _as_categories(adata.obs, numeric_obs_columns, "obs")
        _as_categories(adata.var, numeric_var_columns, "var")
        if mode == "union":
            columns = [c for c in adata.var.columns if c.startswith(f"{self.converted_id_column}_")]
            present = (adata.var[columns].astype(str) != PLACEHOLDER_NA).sum(axis=1) == len(columns)
            adata.var["intersection"] = present.astype(np.int64).to_numpy()
        return adata

    def _unify_reference(self, mode: str, obs_columns: list[str], handle_key: str) -> AnnData:
        import anndata as ad
        from scipy import sparse

        seed_obs = pd.DataFrame(columns=[handle_key, *obs_columns], index=pd.Index([], dtype=str))
        adata = ad.AnnData(X=sparse.csr_matrix((0, 0), dtype=np.float32), obs=seed_obs, var=pd.DataFrame(index=[]))
        studies = []
        for handle in self.data_h5ad_dict:
            study, n_before, n_after = self.feature_harmonizer(dataset_name=handle)
            missing = [c for c in obs_columns if c not in study.obs.columns]
            if missing:
                msg = f"obs_columns_to_keep: {missing} are not obs columns of dataset {handle!r}."
                raise KeyError(msg)
            obs = study.obs[obs_columns].copy()
            obs[handle_key] = handle
            obs.index = f"{handle}_" + study.obs_names.astype(str)
            study.obs = obs
            study.var = study.var.drop(columns=["Query ID"]).rename(
                columns={self.final_database: f"{self.converted_id_column}_{handle}"}
            )
            logger.info(
                "%s: %d -> %d features (%d removed by the harmonizer)", handle, n_before, n_after, n_before - n_after
            )
            studies.append(study)
        if self.final_database != "HGNC Symbol":
            logger.info(
                "final_database=%r: the reference tool tested its harmonizer with 'HGNC Symbol' only.",
                self.final_database,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if studies:
                # the reference tool's order of concatenation, so var_names come out in its order
                adata = ad.concat([adata, studies[0]], join="outer", fill_value=0.0)
                if len(studies) > 1:
                    adata = ad.concat([adata, *studies[1:]], join=_MODES[mode], fill_value=0.0)
            var = pd.concat([s.var for s in studies], axis=1, join="outer") if studies else pd.DataFrame(index=[])
            var = var.reindex(adata.var_names)
        per_dataset = var.to_numpy(dtype=object)
        unified = []
        for i, row in enumerate(per_dataset):
            values = {v for v in row if isinstance(v, str)}
            if len(values) != 1:
                msg = f"Feature {adata.var_names[i]!r} has different names across datasets: {sorted(values)}."
                raise ValueError(msg)
            unified.append(values.pop())
        if mode == "intersect":
            var = pd.DataFrame(index=var.index)
        var[self.converted_id_column] = np.asarray(unified, dtype=object)
        adata.var = var
        return adata

    def _unify_idtrack_sc(self, mode: str, obs_columns: list[str], handle_key: str) -> AnnData:
        from ..pp import concat_harmonized

        self._initialize_idt()
        result = concat_harmonized(
            self.data_h5ad_dict,
            snapshot=self.idt.snapshot,
            release=self.target_ensembl_release,
            to=self.idt._database(self.final_database)[0],
            unmapped="consistent",
            join=_MODES[mode],
            label=handle_key,
            index_unique="_",
        )
        missing = [c for c in obs_columns if c not in result.obs.columns]
        if missing:
            msg = f"obs_columns_to_keep: {missing} are not obs columns of the concatenated data."
            raise KeyError(msg)
        result.obs = result.obs[[handle_key, *[c for c in obs_columns if c != handle_key]]]
        result.var[self.converted_id_column] = result.var_names.to_numpy(dtype=object)
        return result

    # -- files -----------------------------------------------------------------------------------
    def _write_matchings(self, dataset_name: str, matchings: list[dict[str, Any]]) -> None:
        """``idtrack_result_{project}_{dataset}.tsv``: one row per identifier, for people to read."""
        folder = Path(self.project_local_repository)
        folder.mkdir(parents=True, exist_ok=True)
        table = pd.DataFrame(
            {
                "query_id": [m["query_id"] for m in matchings],
                "target_id": ["|".join(map(str, m["target_id"])) for m in matchings],
                "ensembl_gene": ["|".join(sorted({g for g, _ in m["last_node"]})) for m in matchings],
                "final_database": [m["final_database"] for m in matchings],
                "graph_id": [m["graph_id"] for m in matchings],
                "no_corresponding": [m["no_corresponding"] for m in matchings],
                "no_conversion": [m["no_conversion"] for m in matchings],
                "no_target": [m["no_target"] for m in matchings],
                "outcome": [m["outcome"] for m in matchings],
                "reason": [m["reason"] for m in matchings],
                "n_to_1": [m["query_id"] in self.dict_n_to_1 for m in matchings],
            }
        )
        path = folder / f"idtrack_result_{self.project_name}_{_file_name(dataset_name)}.tsv"
        spreadsheet_safe(table).to_csv(path, sep="\t", index=False)
        logger.debug("Wrote %s.", path)


def _as_categories(frame: pd.DataFrame, numeric: set[str], where: str) -> None:
    """The reference tool's column types: numbers where asked, else categorical strings."""
    for column in frame.columns:
        if column in numeric:
            values = pd.to_numeric(frame[column], errors="coerce")
            if values.isna().any():
                msg = f"Non-numeric value in {where} column {column!r}."
                raise ValueError(msg)
            frame[column] = values.astype(float)
            continue
        text = frame[column].astype(object).where(frame[column].notna(), PLACEHOLDER_NA).astype(str)
        frame[column] = text.where(~text.isin(MISSING_VALUES), PLACEHOLDER_NA).astype("category")
    missing = sorted(numeric - set(frame.columns))
    if missing:
        msg = f"numeric_{where}_columns: {missing} are not {where} columns of the merged data."
        raise KeyError(msg)


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"
