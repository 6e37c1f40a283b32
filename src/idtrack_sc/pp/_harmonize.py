"""``harmonize_var_names``: convert an AnnData's (or MuData's) features in place.

The public function validates its arguments and hands each AnnData to
:func:`_harmonize_anndata`, which runs the three steps: plan (:mod:`._plan`: resolve the
identifiers, decide the new features), apply (:mod:`._apply`: the matrices) and write
(:mod:`._write`: ``var`` columns, the ``uns`` record, ``.raw`` and ``uns`` renames). The
MuData path is in :mod:`._mudata`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from anndata import AnnData

from .._userwarn import warn
from ..record import already_harmonized, is_harmonized
from ..registry import resolve_snapshot
from ..resolve import DEFAULT_MIN_EVIDENCE, check_from_release, check_min_evidence
from ._apply import apply_plan, matrices_to_sum, replace_contents
from ._docs import (
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
from ._mudata import detached, gene_modalities, replace_modalities
from ._plan import plan_features
from ._write import (
    check_key_added,
    check_symbol_key,
    check_var_columns,
    follow_features,
    plan_counts,
    plan_record,
    record_var_aligned,
    write_var,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Collection, Iterator, Sequence

    from mudata import MuData

    from ..snapshot import Snapshot

    SnapshotLike = Snapshot | str | os.PathLike

logger = logging.getLogger(__name__)

Ambiguous = Literal["best", "drop", "all"]
Unmapped = Literal["keep", "drop"]
Duplicates = Literal["sum", "first", "make_unique"]

_POLICIES = {
    "ambiguous": ("best", "drop", "all"),
    "unmapped": ("keep", "drop"),
    "duplicates": ("sum", "first", "make_unique"),
    "unmapped_concat": ("consistent", "keep", "drop"),  # concat_harmonized's `unmapped`
    "join": ("inner", "outer"),
    "pair_conflict": ("tie", "id", "symbol"),
}
PairConflict = Literal["tie", "id", "symbol"]


#: Called as ``callback(label, counts)`` after each dataset is harmonized (see :func:`on_harmonized`).
_ON_HARMONIZED: ContextVar[Callable[[str, dict[str, Any]], None] | None] = ContextVar(
    "idtrack_sc_on_harmonized", default=None
)


@contextmanager
def on_harmonized(callback: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    """Call ``callback(label, counts)`` each time a dataset has been harmonized, within the block.

    For progress bars (the command line's): every harmonization, by
    :func:`harmonize_var_names` or inside :func:`~idtrack_sc.concat_harmonized` (in memory
    or on disk), reports here, in the thread and context that started it.

    Parameters
    ----------
    callback
        Gets the dataset's label and its ``counts`` (as in ``uns[key_added]["counts"]``).
    """
    token = _ON_HARMONIZED.set(callback)
    try:
        yield
    finally:
        _ON_HARMONIZED.reset(token)


def _check_policies(key_added: str, **policies: str) -> None:
    """Refuse unknown policy values and a ``key_added`` that cannot be an ``uns`` key."""
    for name, value in policies.items():
        if value not in _POLICIES[name]:
            allowed = ", ".join(repr(v) for v in _POLICIES[name])
            shown = name.removesuffix("_concat")
            msg = f"{shown}={value!r} is not a policy; choose one of {allowed}."
            raise ValueError(msg)
    check_key_added(key_added)


def _check_types(
    *, to: object, id_key: object, symbol_key: object, copy: object, check_organism: object = True
) -> None:
    """Clear messages for arguments of the wrong type (instead of an error deep inside)."""
    if not isinstance(to, str):
        msg = f"to must be a namespace name such as 'ensembl_gene' or 'symbol', got {type(to).__name__} {to!r}."
        raise TypeError(msg)
    if id_key is not None and not isinstance(id_key, str):
        msg = f"id_key must be a var column name or None (var_names), got {type(id_key).__name__} {id_key!r}."
        raise TypeError(msg)
    if not isinstance(symbol_key, str) or not symbol_key:
        msg = f"symbol_key must be a non-empty var column name, got {symbol_key!r}."
        raise TypeError(msg)
    for name, value in (("copy", copy), ("check_organism", check_organism)):
        if not isinstance(value, bool | np.bool_):
            msg = f"{name} must be True or False, got {type(value).__name__} {value!r}."
            raise TypeError(msg)


def _harmonize_anndata(
    adata: AnnData,
    *,
    snap: Any,
    release: int | None,
    to: str,
    id_key: str | None,
    ambiguous: str,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
    unmapped: str,
    duplicates: str,
    symbol_key: str,
    key_added: str,
    label: str,
    environment: bool = True,
    keep_only: Collection[str] | None = None,
    follow: bool = True,
    from_release: int | str | None = None,
    pair_key: str | None = None,
    positions: dict[str, np.ndarray] | None = None,
    pair_conflict: str = "tie",
    reserved: Collection[str] | None = None,
    check_organism: bool = True,
) -> dict[str, Any]:
    """Harmonize one AnnData in place (plan, apply, write); return its counts.

    ``keep_only`` restricts ``unmapped="keep"`` to these original identifiers (used by
    :func:`~idtrack_sc.concat_harmonized` to keep only identifiers that fail consistently).
    With ``follow``, ``.raw`` is harmonized the same way and gene-keyed ``uns`` entries are
    renamed (:func:`~idtrack_sc.pp._write.follow_features`).
    ``positions``, if given, receives ``"kept"``: for each new feature, the position of the
    old feature that represents it. ``reserved``: see :func:`~idtrack_sc.pp._plan.plan_features`.
    Everything that can fail runs before ``adata`` is changed.
    """
    if adata.isbacked:
        msg = (
            f"{label} is backed (opened with backed='r'): harmonize_var_names rewrites X and needs it in memory. "
            "Load it with adata.to_memory(), or harmonize files on disk with concat_harmonized(paths, out_file=...)."
        )
        raise ValueError(msg)
    if adata.n_vars == 0:
        msg = f"{label} has no features (n_vars == 0): nothing to harmonize."
        raise ValueError(msg)
    check_var_columns(adata.var, key_added=key_added, symbol_key=symbol_key, label=label)
    plan = plan_features(
        adata,
        snap=snap,
        release=release,
        to=to,
        id_key=id_key,
        ambiguous=ambiguous,
        min_evidence=min_evidence,
        unmapped=unmapped,
        duplicates=duplicates,
        label=label,
        keep_only=keep_only,
        from_release=from_release,
        pair_key=pair_key,
        pair_conflict=pair_conflict,
        reserved=reserved,
        organism_check=check_organism,
    )
    matrices = matrices_to_sum(adata, plan, label)  # refuses, before anything changes, what cannot be summed

    if positions is not None:
        positions["kept"] = plan.first_src
    promoted, var_aligned = apply_plan(adata, plan, matrices)
    write_var(adata, plan, key_added=key_added, symbol_key=symbol_key, id_key=id_key, label=label)

    counts = plan_counts(plan, n_vars_after=adata.n_vars, duplicates=duplicates)
    params = {
        "to": plan.namespace,
        "release": plan.release,
        "id_key": id_key or "",
        "ambiguous": ambiguous,
        "unmapped": unmapped,
        "duplicates": duplicates,
        "symbol_key": symbol_key,
        "strategy": plan.strategy,
        "min_evidence": min_evidence,
        "from_release": "" if from_release is None else str(from_release),
        "pair_key": plan.pair_col or "",
        "pair_conflict": pair_conflict,
    }
    rec = plan_record(plan, counts, promoted, snap=snap, params=params, environment=environment, label=label)
    record_var_aligned(rec, var_aligned, label=label, key_added=key_added)
    if follow:
        rec.update(
            follow_features(
                adata,
                plan.renames(),
                harmonize=_harmonize_anndata,
                label=label,
                snap=snap,
                release=plan.release,
                to=to,
                id_key=id_key,
                ambiguous=ambiguous,
                unmapped=unmapped,
                duplicates=duplicates,
                symbol_key=symbol_key,
                key_added=key_added,
                keep_only=keep_only,
                from_release=from_release,
                pair_conflict=pair_conflict,
                reserved=reserved,
            )
        )
    adata.uns[key_added] = rec
    logger.info(
        "%s: %d -> %d features (1:1 %d, 1:n %d, 1:0 %d; %d dropped, %d duplicate groups)",
        label,
        counts["n_vars_before"],
        counts["n_vars_after"],
        counts["outcome"]["1:1"],
        counts["outcome"]["1:n"],
        counts["outcome"]["1:0"],
        counts["dropped"],
        counts["collapsed_groups"],
    )
    callback = _ON_HARMONIZED.get()
    if callback is not None and follow:  # once per dataset: not again for its .raw
        callback(label, counts)
    return counts


@doc_params(
    doc_snapshot=doc_snapshot,
    doc_organism=doc_organism,
    doc_release=doc_release,
    doc_to=doc_to,
    doc_min_evidence=doc_min_evidence,
    doc_ambiguous=doc_ambiguous,
    doc_duplicates=doc_duplicates,
    doc_symbol_key=doc_symbol_key,
    doc_key_added=doc_key_added,
    doc_pair_key=doc_pair_key,
    doc_pair_conflict=doc_pair_conflict,
    doc_check_organism=doc_check_organism,
)
def harmonize_var_names(
    data: AnnData | MuData,
    *,
    snapshot: SnapshotLike | None = None,
    organism: str | None = None,
    release: int | None = None,
    to: str = "ensembl_gene",
    id_key: str | None = None,
    ambiguous: Ambiguous = "best",
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
    unmapped: Unmapped = "keep",
    duplicates: Duplicates = "sum",
    symbol_key: str = "symbol",
    mod: str | Sequence[str] | None = None,
    key_added: str = "idtrack",
    from_release: int | Literal["auto"] | None = "auto",
    pair_key: str | None = "auto",
    pair_conflict: PairConflict = "tie",
    check_organism: bool = True,
    copy: bool = False,
) -> AnnData | MuData | None:
    """Convert feature identifiers to one namespace at one Ensembl release, in place.

    Every feature's identifier is resolved through the snapshot (see
    :func:`idtrack_sc.convert`); ``var_names`` become the target identifiers, features that
    meet under one name are merged, and what happened to each feature is written to ``var``.
    The recommended practice is Ensembl gene IDs as names (stable, unique) and symbols for
    display (``var[symbol_key]``).

    Data already harmonized under ``key_added`` (an AnnData, or any modality ``mod`` names)
    are refused with an error that changes nothing, as :func:`~idtrack_sc.concat_harmonized`
    refuses them: convert again from ``var['{key_added}_original']`` with ``id_key`` and
    another ``key_added``, or treat other data as a saved record says with
    :func:`~idtrack_sc.pp.apply_record`.

    Parameters
    ----------
    data
        AnnData, or MuData (then the modalities ``mod`` are harmonized and the container
        updated).
    {doc_snapshot}
    {doc_organism}
    {doc_release}
    {doc_to}
    id_key
        ``var`` column holding the identifiers; ``None`` uses ``var_names``.
    {doc_min_evidence}
    {doc_ambiguous}
    unmapped
        Features with no target (``1:0``): ``"keep"`` them under their original identifier
        (never merged with a mapped feature), or ``"drop"`` them (their identifiers are
        listed in ``uns[key_added]["dropped_ids"]``).
    {doc_duplicates}
    {doc_symbol_key}
    mod
        MuData only: modality name(s); default the modalities whose features are genes
        (``var["feature_types"]`` says so, or the modality is called ``rna``/``gex``).
        Every modality is converted before the container is changed: an error leaves it as
        it was. The harmonized modalities replace the old ones in ``mdata.mod``, and the
        container's ``var``, ``varm`` and ``varp`` follow them.
    {doc_key_added}
    from_release
        The Ensembl release the dataset was annotated with: a symbol means what it meant
        then (clone-based names such as ``AC007364.1`` were reused for other genes; symbols
        moved between genes). ``"auto"`` (default) infers it from the dataset's own names
        (:func:`idtrack_sc.infer_release`); an undetermined inference, or one that fits the
        target release as well, reads names in the target release's meaning. A release
        number pins it (outside the snapshot's range: an error); ``None`` always reads names
        in the target release's meaning. Recorded in ``uns[key_added]["release"]``.
    {doc_pair_key}
    {doc_pair_conflict}
    {doc_check_organism}
    copy
        Return a harmonized copy instead of modifying ``data``.

    Returns
    -------
    ``None``, or the harmonized copy if ``copy=True``. Sets

    ``var_names``
        Identifiers in the target namespace (original identifiers for kept unmapped features).
    ``var['{key_added}_original']``
        The original identifier(s), ``|``-joined when features were merged.
    ``var['{key_added}_original_var_name']``
        With ``id_key``: the old ``var_names``, ``|``-joined like the originals.
    ``var['{key_added}_outcome']``, ``var['{key_added}_reason']``, ``var['{key_added}_targets']``
        Outcome, reason and all candidates (see :data:`idtrack_sc.resolve.REASONS`); a
        merged feature's are its first member's.
    ``var['{key_added}_original_reason']``
        Each original identifier's own reason, ``|``-joined like the originals
        (``unchanged|version_stripped`` for ``TP53|ENSG00000141510.19``).
    ``var['{key_added}_gene_id']``, ``var['{key_added}_n_merged']``, ``var[symbol_key]``
        Ensembl gene, number of merged features, display symbol.
    ``var['{key_added}_pair']``, ``var['{key_added}_pair_gene_id']``
        With two identifier columns: their agreement (one status per original feature,
        ``|``-joined like the originals), and the gene(s) named by the column whose answer
        was not used (for a conflict kept as a tie, the symbol column's).
        ``uns[key_added]["pair_disagreements"]`` lists every feature whose two columns name
        different genes (see ``pair_conflict``).
    ``var['{symbol_key}_before_{key_added}']``
        A ``var[symbol_key]`` the dataset had, if its values differ from the new symbols.
    ``uns['{key_added}']``
        Parameters, snapshot identity (organism, releases, sha256, schema version), counts
        per outcome and reason, package versions, a session-info environment report, the
        identifiers of dropped features (``dropped_ids``) with their outcome, reason, candidates
        (``dropped_targets``) and the policy that dropped them (``dropped_by``: ambiguous,
        unmapped or duplicates), and ``release``: how names were read (the inferred annotation
        release with its evidence, and the release whose meaning was used).

    Examples
    --------
    >>> import idtrack_sc as its
    >>> import scanpy as sc
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> its.pp.harmonize_var_names(adata, snapshot="default", release=114)  # doctest: +SKIP
    >>> adata.var[["idtrack_original", "symbol", "idtrack_reason"]].head()  # doctest: +SKIP
    """
    _check_policies(
        key_added, ambiguous=ambiguous, unmapped=unmapped, duplicates=duplicates, pair_conflict=pair_conflict
    )
    _check_types(to=to, id_key=id_key, symbol_key=symbol_key, copy=copy, check_organism=check_organism)
    check_symbol_key(symbol_key, key_added)
    if mod is not None and not isinstance(mod, str):
        mod = list(mod)  # any iterable of names, a generator too
        if not all(isinstance(m, str) for m in mod):
            msg = f"mod must be a modality name or names (strings), got {mod!r}."
            raise TypeError(msg)
    snap = resolve_snapshot(snapshot, organism)
    snap.check_release(release)
    min_evidence = check_min_evidence(min_evidence)
    if not (from_release is None or (isinstance(from_release, str) and from_release == "auto")):
        check_from_release(snap, from_release)
    kwargs = {
        "snap": snap,
        "release": release,
        "min_evidence": min_evidence,
        "to": to,
        "id_key": id_key,
        "ambiguous": ambiguous,
        "unmapped": unmapped,
        "duplicates": duplicates,
        "symbol_key": symbol_key,
        "key_added": key_added,
        "from_release": from_release,
        "pair_key": pair_key,
        "pair_conflict": pair_conflict,
        "check_organism": check_organism,
    }

    return run_on_data(
        data,
        mod=mod,
        copy=copy,
        key_added=key_added,
        run=lambda adata, **kw: _harmonize_anndata(adata, **kw, **kwargs),
    )


def run_on_data(
    data: AnnData | MuData,
    *,
    mod: str | Sequence[str] | None,
    copy: bool,
    key_added: str,
    run: Callable[..., dict[str, Any]],
) -> AnnData | MuData | None:
    """Run a per-AnnData step on an AnnData, or on a MuData's modalities, as scanpy's ``pp`` do.

    ``run(adata, label=..., positions=...)`` changes one AnnData in place and returns its
    counts (``positions`` as for :func:`_harmonize_anndata`). An AnnData view is copied (with
    a warning); an AnnData or modality already done under ``key_added`` is refused before
    anything is changed (:func:`~idtrack_sc.record.already_harmonized`). A MuData's modalities (``mod``, default
    those holding genes) are each done on a detached twin first, so an error in any of them
    leaves the container as it was; then the container is updated.
    """
    if isinstance(data, AnnData):
        if mod is not None:
            msg = "mod= is for MuData; an AnnData has no modalities."
            raise ValueError(msg)
        if is_harmonized(data, key_added):
            label = "The AnnData"
            raise already_harmonized(label, key_added)
        adata = data.copy() if copy else data
        if adata.is_view:
            warn("Received a view of an AnnData; making a copy.", UserWarning)
            replace_contents(adata, adata.copy())
        run(adata, label="AnnData")
        return adata if copy else None

    from mudata import MuData

    if not isinstance(data, MuData):
        msg = f"data must be an AnnData or MuData, got {type(data).__name__}."
        raise TypeError(msg)
    mods = [mod] if isinstance(mod, str) else list(mod) if mod is not None else gene_modalities(data)
    unknown = [m for m in mods if m not in data.mod]
    if unknown or not mods:
        msg = (
            f"MuData modalities {unknown} do not exist; it has {list(data.mod)}."
            if unknown
            else f"No modality of this MuData holds genes; choose with mod= among {list(data.mod)}."
        )
        raise ValueError(msg)
    for name in dict.fromkeys(mods):  # before anything (a copy too) is made
        if is_harmonized(data.mod[name], key_added):
            label = f"Modality {name!r}"
            raise already_harmonized(label, key_added)
    mdata = data.copy() if copy else data
    # Every modality is harmonized on a detached twin first (sharing its arrays, no copy), so
    # an error in any of them leaves the container exactly as it was; only then is it changed.
    done: dict[str, tuple[AnnData, np.ndarray]] = {}
    per_mod = {}
    for name in dict.fromkeys(mods):
        twin = detached(mdata.mod[name])
        positions: dict[str, np.ndarray] = {}
        per_mod[name] = run(twin, label=f"modality {name!r}", positions=positions)
        done[name] = (twin, positions["kept"])
    if done:
        replace_modalities(mdata, done)
    # modalities harmonized by an earlier call (mod="rna", then mod="atac") stay listed
    earlier = mdata.uns.get(key_added)
    earlier = earlier if hasattr(earlier, "get") else {}
    listed = [str(m) for m in earlier.get("modalities", []) if str(m) not in per_mod and str(m) in mdata.mod]
    counts = {m: earlier.get("counts", {})[m] for m in listed if m in earlier.get("counts", {})}
    mdata.uns[key_added] = {"modalities": [*listed, *per_mod], "counts": {**counts, **per_mod}}
    return mdata if copy else None
