"""``concat_harmonized``: check the arguments, then dispatch.

Everything is checked before any dataset is harmonized: the arguments here, the inputs
(:mod:`._inputs`), the output and engine (:func:`._on_disk.choose_engine`), and, in pass 1
without reading a matrix, every dataset's identifiers and organism (:func:`._run.prepare`).
Then one of two paths joins the harmonized datasets, sharing every other step
(:class:`._run.Run`):

* in memory (:mod:`._in_memory`): :func:`anndata.concat`;
* out of core (:mod:`._on_disk`, ``out_file=`` given): one skeleton, the engines as rows of
  one table.

The per-dataset work is :func:`idtrack_sc.pp._harmonize._harmonize_anndata` (the engine of
:func:`~idtrack_sc.pp.harmonize_var_names`); this package adds the cross-dataset rule for
failed identifiers, the feature annotations and presence of the union (:mod:`._union`) and
the diagnostics (:mod:`._diagnostics`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..._userwarn import warn
from ...resolve import DEFAULT_MIN_EVIDENCE
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
from .._harmonize import _check_policies
from .._write import check_symbol_key
from ._in_memory import concat_in_memory
from ._inputs import _datasets, refuse_input_as_output
from ._join import JoinArgs
from ._on_disk import ENGINE_NAMES, MAX_LOADED_ELEMS, _check_out_file, choose_engine, concat_out_of_core
from ._run import prepare

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Collection, Mapping

    from anndata import AnnData

    from .._harmonize import Ambiguous, Duplicates, PairConflict, SnapshotLike
    from ._inputs import DatasetLike

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
    dataset_organisms: Mapping[str, Any] | None = None,
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
        concatenated as :func:`anndata.concat` does (when every dataset has one), except by
        anndata's ``.zarr`` writer of the streaming engine, which leaves it out (recorded in
        ``uns['{key_added}']['not_concatenated']``, with a warning). Everything a run writes
        is in one folder beside ``out_file``, ``.idtrack-concat-<pid>-<token>``; the result is
        written there and renamed onto ``out_file`` at the end, and the folder is removed,
        also on error. A run first removes what killed runs left beside ``out_file``: such
        folders whose run is dead (the lock a live run holds on its ``run.lock`` is free),
        and those without a lock once unchanged for 24 hours; nothing else. An ``out_file``
        that is one of the inputs is refused.
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
        else ``"stream"``. Mixed CSR, dense and CSC inputs work with either. The engine used
        is recorded in ``uns['{key_added}']['params']['engine']`` (``"dask"`` or
        ``"stream"``), and what wrote the result in ``['writer']`` (``"dask"``, ``"stream"``,
        or ``"anndata"`` for :func:`anndata.experimental.concat_on_disk`).
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
        are refused, unless named in ``dataset_organisms`` (their orthologs first).
    out
        Deprecated name of ``out_file``.
    dataset_organisms
        Datasets of other organisms than the common one (``snapshot``/``organism``): a
        mapping from dataset name to its organism (``"mouse"``, ``"zebrafish"``, …) or its
        snapshot. Each is first expressed as the common organism's orthologs, on a copy, by
        :func:`~idtrack_sc.pp.convert_orthologs` (NCBI HomoloGene; ``ambiguous="all"`` copies
        one-to-many orthologs, otherwise they are dropped; ``duplicates`` merges many-to-one
        orthologs; features without an ortholog are dropped), in the namespace ``to`` at
        ``release``, then harmonized and concatenated like the others. Every pair is checked
        before any work (an organism HomoloGene has no group for is refused,
        ``no_ortholog_source``). The ortholog records are in
        ``uns[key_added]['orthologs']`` (per dataset) and the original identifiers in
        ``var['{key_added}_orthologs_original']`` of those datasets' features. In memory only
        (not with ``out_file``).

    Returns
    -------
    The concatenated :class:`~anndata.AnnData`; with ``out_file``, ``None`` (as
    :func:`anndata.experimental.concat_on_disk`: open the result with
    ``anndata.read_h5ad(out_file, backed="r")`` or :func:`anndata.read_zarr`). Besides the :func:`~idtrack_sc.pp.harmonize_var_names` columns of ``var``
    (assembled as described under ``merge``, plus ``var['{key_added}_n_datasets']``), it sets

    ``varm['{key_added}_presence']``
        Which dataset measured which feature: a boolean table, features × datasets (one
        column per dataset key, ``/`` replaced by ``_``). ``False`` where the dataset lacks
        the feature and an outer join filled its values (zeros in sparse data), which tells
        them from measured zeros.

    ``uns['{key_added}']``
        ``params``, ``snapshot`` identity, ``versions``, ``date`` and one ``environment``
        report; ``datasets`` and ``sources`` (names, and paths or ``""``); ``counts``
        (per-dataset arrays aligned with ``datasets``: cells, features before and after, per
        outcome, dropped, kept, collapsed); ``provenance`` (each dataset's harmonization
        record); ``failed`` (per dataset: ``id``, ``outcome`` and ``reason`` of every dropped
        identifier, in the resolver's vocabulary); ``failed_consistent`` (``id``, ``outcome``
        and ``reason`` of failed identifiers present in every dataset, kept under their
        original names); ``ambiguous`` (``1:n`` identifiers: candidates, the one
        chosen, how they were handled, which datasets hold them); ``collapsed`` (per dataset:
        new ``name`` and the ``originals`` merged into it); ``n_vars`` (``union``,
        ``intersection`` and ``result`` widths); ``kept_apart`` (``id``, ``name``,
        ``dataset`` and ``reason`` of every failed identifier kept apart from the gene of
        that name, see ``unmapped``); ``not_concatenated`` (elements of the datasets left out
        of the result, and why). Tables are dicts of equal-length arrays:
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
    if engine not in ENGINE_NAMES:
        msg = f"engine must be one of {ENGINE_NAMES}, got {engine!r}."
        raise ValueError(msg)
    if out is not None:
        if out_file is not None:
            msg = "Give out_file only (out is its deprecated name)."
            raise TypeError(msg)
        warn("concat_harmonized(out=...) is deprecated; use out_file=.", FutureWarning)
        out_file = out
    chosen = None
    if out_file is not None:
        out_file = _check_out_file(out_file, pairwise=pairwise, overwrite=overwrite)
        chosen = choose_engine(engine, out_file)
    datasets, concat_keys = _datasets(adatas, keys)
    if out_file is not None:
        refuse_input_as_output(datasets, out_file)
    join_args = JoinArgs(join, merge, uns_merge, label, concat_keys, index_unique, fill_value, pairwise)
    run = prepare(
        datasets,
        snapshot=snapshot,
        organism=organism,
        release=release,
        to=to,
        id_key=id_key,
        ambiguous=ambiguous,
        min_evidence=min_evidence,
        unmapped=unmapped,
        duplicates=duplicates,
        symbol_key=symbol_key,
        key_added=key_added,
        from_release=from_release,
        pair_key=pair_key,
        pair_conflict=pair_conflict,
        check_organism=check_organism,
        dataset_organisms=dataset_organisms,
        copy_inputs=copy_inputs,
        join_args=join_args,
        out_of_core=chosen is not None,
        engine=chosen.name if chosen is not None else "",
        writer=chosen.writer if chosen is not None else "",
    )
    result = None
    if chosen is None:
        result = concat_in_memory(run, join_args)
    else:
        concat_out_of_core(run, join_args, engine=chosen, out_file=out_file, max_loaded_elems=max_loaded_elems)
    run.replace_inputs()
    return result
