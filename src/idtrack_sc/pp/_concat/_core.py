"""``concat_harmonized``: harmonize many datasets with one snapshot and one policy, then concatenate.

Two paths share every step except the last:

* in memory (:mod:`._in_memory`): each dataset is harmonized (on a copy) and
  :func:`anndata.concat` joins them;
* out of core (:mod:`._on_disk`, ``out_file=`` given): each dataset is read, harmonized and
  staged on disk one at a time, then the files are joined on disk.

The per-dataset work is :func:`idtrack_sc.pp._harmonize._harmonize_anndata` (the engine of
:func:`~idtrack_sc.pp.harmonize_var_names`); this package adds the inputs (:mod:`._inputs`),
the cross-dataset rule for failed identifiers, the feature annotations of the union
(:mod:`._union`) and the diagnostics (:mod:`._diagnostics`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...record import presence_key
from ...registry import resolve_snapshot
from ...resolve import DEFAULT_MIN_EVIDENCE, check_min_evidence, convert
from ...resolve import check_organism as refuse_other_organism
from .._apply import replace_contents
from .._docs import (
    doc_ambiguous,
    doc_check_organism,
    doc_duplicates,
    doc_key_added,
    doc_min_evidence,
    doc_organism,
    doc_pair_conflict,
    doc_pair_key,
    doc_params,
    doc_release,
    doc_snapshot,
    doc_symbol_key,
    doc_to,
)
from .._harmonize import _check_policies, _harmonize_anndata
from .._mudata import detached
from .._write import check_symbol_key
from . import _on_disk
from ._diagnostics import _Diagnostics, _log_summary, _summary
from ._in_memory import _concat_in_memory
from ._inputs import _check_dataset, _datasets, _from_releases, _load, _survey, refuse_input_as_output
from ._on_disk import MAX_LOADED_ELEMS, _check_out_file
from ._union import VAR_MERGE, _FeatureUnion, _with_columns

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Collection, Iterator

    from anndata import AnnData

    from .._harmonize import Ambiguous, Duplicates, PairConflict, SnapshotLike
    from ._inputs import DatasetLike, _Dataset

logger = logging.getLogger(__name__)

UnmappedConcat = Literal["consistent", "keep", "drop"]


@doc_params(
    doc_snapshot=doc_snapshot,
    doc_organism=doc_organism,
    doc_release=doc_release,
    doc_to=doc_to,
    doc_ambiguous=doc_ambiguous,
    doc_min_evidence=doc_min_evidence,
    doc_duplicates=doc_duplicates,
    doc_symbol_key=doc_symbol_key,
    doc_key_added=doc_key_added,
    doc_pair_key=doc_pair_key,
    doc_pair_conflict=doc_pair_conflict,
    doc_check_organism=doc_check_organism,
)
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
    pair_conflict: PairConflict = "tie",
    check_organism: bool = True,
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
    {doc_snapshot}
    {doc_organism}
        Datasets annotated with another organism (``uns['organism']``, ``obs['organism']``,
        cellxgene's ``obs['organism_ontology_term_id']``) are refused.
    {doc_release}
    {doc_to}
    id_key
        ``var`` column holding the identifiers in every dataset; ``None`` uses ``var_names``.
    {doc_ambiguous}
    {doc_min_evidence}
    unmapped
        Identifiers that fail (``1:0``, or ``1:n`` left unresolved): ``"consistent"`` (the
        reference tool's rule) drops them unless the same original identifier occurs in every
        dataset, where it is kept under its original name, so that no dataset loses a
        feature the others keep; ``"keep"`` keeps them all; ``"drop"`` drops them all.
        A failed identifier that is itself a valid target name of a gene (``SOD2`` read in
        release 75 names a gene retired since; today's ``SOD2`` is another gene) is kept
        apart, as ``SOD2~unmapped``: it is never joined with the gene of that name mapped in
        another dataset. Such features are listed in ``uns[key_added]["kept_apart"]``, with
        a warning.
    {doc_duplicates}
        Features are merged within each dataset, before the concatenation.
    {doc_symbol_key}
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
    {doc_key_added}
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
        ``dask.distributed.Client``'s workers, if one is running; the workers must see
        the input and output paths). ``"stream"`` stages every dataset as a harmonized
        ``.h5ad`` and joins the files in one process (``.h5ad``: idtrack-sc's streaming
        writer; ``.zarr``: :func:`anndata.experimental.concat_on_disk`). ``"auto"``
        (default): ``"dask"`` if Dask is installed (``pip install 'idtrack-sc[dask]'``),
        else ``"stream"``. The engine used is recorded in
        ``uns['{key_added}']['params']['engine']`` (``"dask"``, ``"stream"`` or
        ``"anndata"``).
    copy_inputs
        In-memory AnnData inputs are harmonized on copies (default). ``False`` harmonizes
        them in place, saving one copy of each: each is harmonized on a twin sharing its
        arrays, and the inputs are changed (each with its own ``uns[key_added]`` record) only
        once every dataset is harmonized and the result is made. An error leaves every
        input as it was.
    from_release
        The Ensembl release each dataset was annotated with, so that its names are read in
        that release's meaning: ``"auto"`` (default) infers it per dataset from the
        dataset's own names; a release number applies to every dataset; a mapping from
        dataset name to ``"auto"``, a release or ``None`` sets it per dataset; ``None``
        reads every name in the target release's meaning. See
        :func:`~idtrack_sc.pp.harmonize_var_names`. The cross-dataset ``ambiguous`` table is
        computed in the target release's meaning.
    {doc_pair_key}
        With ``"auto"``, each dataset's column is found on its own, where it has one.
    {doc_pair_conflict}
    {doc_check_organism}
        Every dataset is checked before any is harmonized: datasets of different organisms
        are refused (concatenating them needs their genes mapped to one organism first,
        with :func:`~idtrack_sc.convert_orthologs`).
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
        ``intersection`` and ``result`` widths); ``kept_apart`` (``id``, ``name``,
        ``dataset`` and ``reason`` of every failed identifier kept apart from the gene of
        that name, see ``unmapped``). Tables are dicts of equal-length arrays:
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
    _check_policies(
        key_added,
        ambiguous=ambiguous,
        unmapped_concat=unmapped,
        duplicates=duplicates,
        join=join,
        pair_conflict=pair_conflict,
    )
    if not isinstance(symbol_key, str) or not symbol_key:
        msg = f"symbol_key must be a non-empty var column name, got {symbol_key!r}."
        raise TypeError(msg)
    check_symbol_key(symbol_key, key_added)
    if out is not None:
        if out_file is not None:
            msg = "Give out_file only (out is its deprecated name)."
            raise TypeError(msg)
        warnings.warn("concat_harmonized(out=...) is deprecated; use out_file=.", FutureWarning, stacklevel=2)
        out_file = out
    used_engine = None
    if out_file is not None:
        out_file = _check_out_file(out_file, pairwise=pairwise, overwrite=overwrite)
        used_engine = _on_disk.engine_for(out_file, engine)
    datasets, concat_keys = _datasets(adatas, keys)
    if out_file is not None:
        refuse_input_as_output(datasets, out_file)
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
        if check_organism:
            refuse_other_organism(survey.identifiers, snap, label=ds.label, hint=_OTHER_ORGANISM_HINT)
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
    # identifiers that are themselves a gene's name in the target namespace: failing in a
    # dataset (read in another release's meaning), they are another gene, kept apart
    reserved = frozenset(
        q
        for q, t in zip(table.index, table["targets"].astype(str).to_numpy(dtype=object), strict=True)
        if q in t.split("|")
    )

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
        "pair_conflict": pair_conflict,
        "reserved": reserved,
        "check_organism": False,  # every dataset was checked above
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
        "pair_conflict": pair_conflict,
    }
    # copy_inputs=False: inputs are harmonized on twins sharing their arrays, and changed
    # only once everything succeeded (all or nothing)
    pending: list[tuple[AnnData, AnnData, dict[str, Any]]] = []

    def harmonized(
        load: Callable[[_Dataset], AnnData] | None = None,
    ) -> Iterator[tuple[_Dataset, AnnData, dict[str, Any]]]:
        for ds in datasets:
            adata = load(ds) if load is not None else _load(ds, copy_inputs=copy_inputs)
            in_place = adata is ds.source
            if in_place:
                adata = detached(adata)
                adata.uns = _dict_tree(adata.uns)  # gene-keyed uns entries are renamed in place
            _harmonize_anndata(adata, label=ds.label, from_release=from_releases[ds.name], **harmonize_kwargs)
            rec = adata.uns.pop(key_added)
            if in_place:  # the engines may strip what they stage: they get a stand-in of the twin
                pending.append((ds.source, adata, rec))
                adata = detached(adata)
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
        result = _concat_in_memory(harmonized(), **concat_kwargs)
        idtrack_var = union.var(result.var_names)
        result.var = _with_columns(result.var, idtrack_var)
        result.varm[presence_key(key_added)] = union.presence(result.var_names, diag.names)
        result.uns[key_added] = _summary(diag, union, result.n_vars, snap=snap, params=params)
        _log_summary(result.uns[key_added])
        _replace_inputs(pending, key_added)
        return result
    if used_engine == "dask":
        _on_disk._concat_out_of_core_dask(
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
        _replace_inputs(pending, key_added)
        return None
    _on_disk._concat_out_of_core(
        harmonized(),
        sparse_elements=frozenset().union(*(survey.sparse_elements for survey in surveys.values())),
        out_file=out_file,
        union=union,
        diag=diag,
        snap=snap,
        params=params,
        key_added=key_added,
        max_loaded_elems=max_loaded_elems,
        **concat_kwargs,
    )
    _replace_inputs(pending, key_added)
    return None


def _dict_tree(mapping: Mapping) -> dict:
    """A copy of the nested dicts of ``mapping`` (the values in them are shared, not copied)."""
    return {k: _dict_tree(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}


def _replace_inputs(pending: list[tuple[AnnData, AnnData, dict[str, Any]]], key_added: str) -> None:
    """``copy_inputs=False``, once everything succeeded: each input takes its harmonized twin and record."""
    for source, twin, rec in pending:
        replace_contents(source, twin)
        source.uns[key_added] = rec


#: How to proceed when a dataset of another organism is refused (concat has no ortholog option).
_OTHER_ORGANISM_HINT = (
    "Datasets of different organisms cannot share one gene namespace: harmonize this one with "
    "organism={organism!r}, or map its genes to {target} first (idtrack_sc.convert_orthologs; concat_harmonized "
    "has no ortholog option) and concatenate the results; pass check_organism=False only if these names really "
    "are {target} genes."
)


def _describe(strategy: Any) -> str:
    if strategy is None:
        return ""
    if isinstance(strategy, str):
        return strategy
    return getattr(strategy, "__qualname__", type(strategy).__name__)
