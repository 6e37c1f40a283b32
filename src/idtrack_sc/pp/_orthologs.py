"""``convert_orthologs``: a dataset's features expressed as another organism's orthologs, in place.

The conversion table is :func:`idtrack_sc.convert_orthologs`'s (NCBI HomoloGene groups,
each side resolved in its own organism's snapshot); the plan, the matrices and the record
are :func:`~idtrack_sc.pp.harmonize_var_names`'s machinery (:func:`._plan.plan_from_table`,
:mod:`._apply`, :mod:`._write`): one-to-many orthologs are the ``ambiguous`` policy's copies,
many-to-one orthologs its ``duplicates`` merges, so sums, ``.raw``, gene-keyed ``uns``
entries and MuData modalities are handled exactly as there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from ..record import TEXT, as_str, clean
from ..registry import resolve_snapshot
from ..resolve import DEFAULT_MIN_EVIDENCE, canonical_namespace, check_ortholog_pair, convert
from ..resolve import check_organism as refuse_other_organism
from ..resolve import convert_orthologs as ortholog_table
from ..snapshot import resolve_organism
from ._apply import apply_plan, matrices_to_sum
from ._docs import doc_key_added, doc_params, doc_symbol_key
from ._harmonize import _check_types, run_on_data
from ._plan import identifiers, plan_from_table
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
    from collections.abc import Sequence

    from mudata import MuData

    from ..snapshot import Snapshot

    SnapshotLike = Snapshot | str | os.PathLike

logger = logging.getLogger(__name__)

OneToMany = Literal["drop", "all"]
ManyToOne = Literal["sum", "first", "make_unique", "drop"]
_POLICIES = {
    "one_to_many": ("drop", "all"),
    "many_to_one": ("sum", "first", "make_unique", "drop"),
    "unmapped": ("drop", "keep"),
}
#: How the harmonization plan's policy names read in an ortholog record.
_DROPPED_BY = {"ambiguous": "one_to_many", "duplicates": "many_to_one", "unmapped": "unmapped"}
FUNCTION = "idtrack_sc.pp.convert_orthologs"


def ortholog_columns(key_added: str) -> dict[str, str]:
    """The ``var`` columns the ortholog step writes beyond :func:`~idtrack_sc.record.var_columns`."""
    return {
        "source_gene": f"{key_added}_source_gene",
        "homology_id": f"{key_added}_homology_id",
    }


def _check_policies(**policies: str) -> None:
    for name, value in policies.items():
        if value not in _POLICIES[name]:
            allowed = ", ".join(repr(v) for v in _POLICIES[name])
            msg = f"{name}={value!r} is not a policy; choose one of {allowed}."
            raise ValueError(msg)


def _with_symbols(table: pd.DataFrame, target_snap: Snapshot, to: str, to_release: int) -> pd.DataFrame:
    """The ortholog table with the display ``symbol`` of each single answer (what the plan reads)."""
    out = table.copy()
    one = (out["outcome"].astype(str) == "1:1").to_numpy()
    symbols = np.full(len(out), "", dtype=object)
    if one.any():
        if canonical_namespace(to) == "symbol":
            symbols[one] = out.loc[one, "target"].to_numpy(dtype=object)
        else:
            genes = out.loc[one, "gene_id"].to_numpy(dtype=object)
            symbols[one] = convert(genes, snapshot=target_snap, to="symbol", release=to_release)["target"].to_numpy(
                dtype=object
            )
    out["symbol"] = symbols
    return out


def _orthologs_anndata(
    adata: AnnData,
    *,
    label: str,
    positions: dict[str, np.ndarray] | None = None,
    environment: bool = True,
    follow: bool = True,
    key_added: str,
    src_snap: Snapshot,
    dst_snap: Snapshot,
    release: int,
    to_release: int,
    to: str,
    id_key: str | None,
    one_to_many: str,
    many_to_one: str,
    unmapped: str,
    symbol_key: str,
    check_organism: bool,
) -> dict[str, Any]:
    """Express one AnnData's features as the target organism's orthologs, in place; return its counts."""
    if adata.isbacked:
        msg = f"{label} is backed (opened with backed='r'): convert_orthologs rewrites X and needs it in memory."
        raise ValueError(msg)
    if adata.n_vars == 0:
        msg = f"{label} has no features (n_vars == 0): nothing to convert."
        raise ValueError(msg)
    check_var_columns(adata.var, key_added=key_added, symbol_key=symbol_key, label=label)
    extra = [c for c in ortholog_columns(key_added).values() if c in adata.var.columns]
    if extra:
        msg = (
            f"{label}: var already has {extra}, columns convert_orthologs writes; rename them or use another key_added."
        )
        raise ValueError(msg)
    originals = identifiers(adata, id_key, label)
    if check_organism:
        refuse_other_organism(originals, src_snap, label=label)
    table = ortholog_table(
        originals, snapshot=src_snap, to_organism=dst_snap.organism, to_snapshot=dst_snap, to=to,
        release=release, to_release=to_release,
    )  # fmt: skip
    table = _with_symbols(table, dst_snap, to, to_release)
    info = table.attrs["idtrack"]
    outcome = table["outcome"].astype(str).to_numpy()
    mapped_names = table.loc[outcome == "1:1", "target"].astype(str)
    n_many_to_one = int(mapped_names.duplicated(keep=False).sum())
    plan = plan_from_table(
        table,
        originals,
        adata.var_names.to_numpy(dtype=object),
        snap=dst_snap,
        release=to_release,
        namespace=canonical_namespace(to),
        strategy="all",
        release_record={"from_release": str(release), "anchor_release": int(release), "to_release": int(to_release)},
        ambiguous="all" if one_to_many == "all" else "drop",
        min_evidence=DEFAULT_MIN_EVIDENCE,
        unmapped="keep" if unmapped == "keep" else "drop",
        duplicates=many_to_one,
        label=label,
        # a feature kept under its own name never takes a target gene's name
        reserved=frozenset(table.loc[outcome != "1:0", "targets"].astype(str).str.split("|").explode()),
        policy_text=f"one_to_many={one_to_many!r}, many_to_one={many_to_one!r}, unmapped={unmapped!r}",
    )
    matrices = matrices_to_sum(adata, plan, label)  # refuses, before anything changes, what cannot be summed
    if positions is not None:
        positions["kept"] = plan.first_src
    promoted, var_aligned = apply_plan(adata, plan, matrices)
    write_var(adata, plan, key_added=key_added, symbol_key=symbol_key, id_key=id_key, label=label)
    cols = ortholog_columns(key_added)
    var = adata.var
    for column, name in (("source_gene", cols["source_gene"]), ("homology_id", cols["homology_id"])):
        values = plan.joined_members(as_str(table[column]))
        var[name] = pd.Series(np.asarray(values, dtype=object).tolist(), index=var.index, dtype=TEXT)
    adata.var = var

    counts = plan_counts(plan, n_vars_after=adata.n_vars, duplicates=many_to_one)
    counts["dropped_by"] = {_DROPPED_BY[k]: v for k, v in counts["dropped_by"].items()}
    counts["one_to_many"] = int((outcome == "1:n").sum())
    counts["many_to_one"] = n_many_to_one
    params = {
        "organism": src_snap.organism,
        "to_organism": dst_snap.organism,
        "to": plan.namespace,
        "release": int(release),
        "to_release": int(to_release),
        "id_key": id_key or "",
        "one_to_many": one_to_many,
        "many_to_one": many_to_one,
        "unmapped": unmapped,
        "symbol_key": symbol_key,
    }
    rec = plan_record(
        plan, counts, promoted, snap=dst_snap, params=params, environment=environment, label=label, function=FUNCTION
    )
    record_var_aligned(rec, var_aligned, label=label, key_added=key_added)
    rec["dropped_by"] = np.array([_DROPPED_BY[str(v)] for v in rec["dropped_by"]], dtype=object)
    rec["orthologs"] = clean(
        {
            **{k: v for k, v in info["orthologs"].items() if k != "taxa"},
            "organism": src_snap.organism,
            "to_organism": dst_snap.organism,
            "release": int(release),
            "to_release": int(to_release),
            "from_snapshot": info["snapshot"],
        }
    )
    if follow:
        rec.update(
            follow_features(
                adata,
                plan.renames(),
                harmonize=_orthologs_anndata,
                label=label,
                key_added=key_added,
                src_snap=src_snap,
                dst_snap=dst_snap,
                release=release,
                to_release=to_release,
                to=to,
                id_key=id_key,
                one_to_many=one_to_many,
                many_to_one=many_to_one,
                unmapped=unmapped,
                symbol_key=symbol_key,
                check_organism=False,
            )
        )
    adata.uns[key_added] = rec
    logger.info(
        "%s: %d %s features -> %d %s orthologs (1:1 %d, 1:n %d, none %d; %d dropped, %d merged groups)",
        label,
        counts["n_vars_before"],
        src_snap.organism,
        counts["n_vars_after"],
        dst_snap.organism,
        counts["outcome"]["1:1"],
        counts["outcome"]["1:n"],
        counts["outcome"]["1:0"],
        counts["dropped"],
        counts["collapsed_groups"],
    )
    return counts


def _organism_named(snapshot: object) -> str | None:
    """``snapshot`` when it is an organism name (as ``snapshot="mouse"``), else ``None`` (a file, ``"default"``, …)."""
    if not isinstance(snapshot, str):
        return None
    try:
        resolve_organism(snapshot)
    except ValueError:  # no organism, or several: resolve_snapshot says which
        return None
    return snapshot


def resolve_pair(
    *,
    snapshot: SnapshotLike | None,
    organism: str | None,
    to_organism: str | int,
    to_snapshot: SnapshotLike | None,
    release: int | None,
    to_release: int | None,
) -> tuple[Snapshot, Snapshot, int, int]:
    """Both snapshots and releases of an ortholog step, the pair checked before anything is loaded where possible."""
    named = organism if snapshot is None else _organism_named(snapshot)
    if named is not None:
        check_ortholog_pair(named, to_organism)  # no_ortholog_source: before any snapshot is loaded
    src_snap = resolve_snapshot(snapshot, organism)
    _, target = check_ortholog_pair(src_snap.organism, to_organism)
    dst_snap = resolve_snapshot(organism=target) if to_snapshot is None else resolve_snapshot(to_snapshot)
    if dst_snap.organism != target:
        msg = f"to_snapshot is a {dst_snap.organism} snapshot, not one of {target} (to_organism={to_organism!r})."
        raise ValueError(msg)
    return src_snap, dst_snap, src_snap.check_release(release), dst_snap.check_release(to_release)


@doc_params(doc_symbol_key=doc_symbol_key, doc_key_added=doc_key_added)
def convert_orthologs(
    data: AnnData | MuData,
    *,
    to_organism: str | int = "human",
    snapshot: SnapshotLike | None = None,
    organism: str | None = None,
    release: int | None = None,
    to_snapshot: SnapshotLike | None = None,
    to_release: int | None = None,
    to: str = "ensembl_gene",
    id_key: str | None = None,
    one_to_many: OneToMany = "drop",
    many_to_one: ManyToOne = "sum",
    unmapped: Literal["drop", "keep"] = "drop",
    symbol_key: str = "symbol",
    mod: str | Sequence[str] | None = None,
    key_added: str = "idtrack",
    check_organism: bool = True,
    copy: bool = False,
) -> AnnData | MuData | None:
    """Express a dataset's features as another organism's orthologs (mouse → human), in place.

    Each feature's identifier (any namespace, any release of its own organism) is resolved in
    its organism's snapshot, linked to NCBI HomoloGene's ortholog groups (by NCBI gene ID,
    by symbol where the snapshot has none; see :func:`idtrack_sc.convert_orthologs`), and
    the target organism's members of its group become the new features, named in ``to`` at
    ``to_release``. HomoloGene does not rank a group's members: several orthologs are a
    one-to-many (handled by ``one_to_many``, never a pick), several features reaching one
    ortholog a many-to-one (``many_to_one``). No ortholog is ever inferred from a symbol's
    spelling (upper-casing mouse symbols invents human genes). Organisms HomoloGene has no
    group for (pig, gorilla, marmoset, mouse lemur, rabbit, crab-eating macaque) are refused
    before any work (:class:`~idtrack_sc.resolve.NoOrthologSourceError`, reason
    ``no_ortholog_source``).

    Parameters
    ----------
    data
        AnnData, or MuData (then the modalities ``mod`` are converted and the container
        updated, as by :func:`~idtrack_sc.pp.harmonize_var_names`).
    to_organism
        The organism to express the features in: ``"human"`` (default), ``"mouse"``, or any
        organism HomoloGene links (rat, zebrafish, fruit fly, C. elegans, chimpanzee, rhesus
        macaque), by any accepted name or taxonomy ID.
    snapshot
        The data's own organism's snapshot (a :class:`~idtrack_sc.Snapshot` or file).
    organism
        Instead of ``snapshot``: the data's organism, whose newest snapshot is used.
    release
        Release at which the data's identifiers are read in its snapshot (default its newest).
    to_snapshot
        The target organism's snapshot (default its newest registered one; ``"default"``: the
        small human snapshot embedded in the package).
    to_release
        Release of the target names (default the target snapshot's newest).
    to
        Namespace of the new ``var_names`` in the target organism (``"ensembl_gene"``
        default, ``"symbol"``, ``"entrez"``, …).
    id_key
        ``var`` column holding the identifiers; ``None`` uses ``var_names``.
    one_to_many
        A feature with several orthologs (``1:n``, e.g. mouse ``Igll1`` → ``IGLL1``,
        ``IGLL5``): ``"drop"`` it (default; orthogene's ``drop_both_species``), or ``"all"``:
        copy it to every ortholog (mousipy's behaviour; a copy never stands in for a feature
        the dataset maps directly to that ortholog).
    many_to_one
        Several features with one ortholog: ``"sum"`` their counts in ``X`` and every layer
        (default, as mousipy and orthogene's ``sum``; the summing of
        :func:`~idtrack_sc.pp.harmonize_var_names`' ``duplicates="sum"``, with its dtype
        widening), keep the ``"first"`` in a fixed order, keep all under unique names
        (``"make_unique"``: ``TP53``, ``TP53-1``), or ``"drop"`` them all.
    unmapped
        Features without an ortholog (no group, no member in the target organism, or the
        member absent from the target snapshot): ``"drop"`` (default; the data is then in the
        target organism's namespace only) or ``"keep"`` them under their own identifier
        (never under a target gene's name: such a one is kept as ``<id>~unmapped``).
    {doc_symbol_key}
    mod
        MuData only: modality name(s); default the modalities holding genes.
    {doc_key_added}
        Data already harmonized under ``key_added`` in its own organism is refused: give
        another ``key_added`` for the ortholog step.
    check_organism
        Refuse, before anything changes, identifiers that fit another organism far better
        than the source snapshot's (see :func:`idtrack_sc.resolve.check_organism`).
    copy
        Return a converted copy instead of modifying ``data``.

    Returns
    -------
    ``None``, or the converted copy if ``copy=True``. As :func:`~idtrack_sc.pp.harmonize_var_names`
    does, sets ``var_names`` (the orthologs in ``to``), ``var['{key_added}_original']`` (every
    original identifier, ``|``-joined when features were summed), ``_outcome``, ``_reason``
    (:data:`~idtrack_sc.resolve.ORTHOLOG_REASONS`), ``_targets`` (every ortholog),
    ``_gene_id`` (target gene), ``_n_merged`` and ``var[symbol_key]``; beyond them
    ``var['{key_added}_source_gene']`` (the features' genes in their own organism) and
    ``var['{key_added}_homology_id']`` (HomoloGene groups). ``uns['{key_added}']`` records the
    parameters, the target snapshot (``snapshot``), counts (with ``one_to_many`` and
    ``many_to_one``), every dropped identifier with its reason and the policy that dropped it
    (``dropped_by``: ``one_to_many``, ``many_to_one`` or ``unmapped``), and ``orthologs``: the
    source (NCBI HomoloGene, build 68 of 2014, the table's SHA-256), both organisms, both
    releases and the source snapshot's identity.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> its.pp.convert_orthologs(mouse_adata, organism="mouse", to_organism="human")  # doctest: +SKIP
    >>> mouse_adata.var[["idtrack_original", "symbol", "idtrack_n_merged"]].head()  # doctest: +SKIP
    """
    _check_policies(one_to_many=one_to_many, many_to_one=many_to_one, unmapped=unmapped)
    _check_types(to=to, id_key=id_key, symbol_key=symbol_key, copy=copy, check_organism=check_organism)
    check_key_added(key_added)
    check_symbol_key(symbol_key, key_added)
    if mod is not None and not isinstance(mod, str):
        mod = list(mod)
    src_snap, dst_snap, release, to_release = resolve_pair(
        snapshot=snapshot,
        organism=organism,
        to_organism=to_organism,
        to_snapshot=to_snapshot,
        release=release,
        to_release=to_release,
    )
    if isinstance(data, AnnData) and key_added in data.uns:
        earlier = data.uns[key_added]
        if not (hasattr(earlier, "get") and earlier.get("function") == FUNCTION):
            msg = (
                f"The data already has uns[{key_added!r}] (an earlier harmonization in its own organism?): give the "
                f"ortholog step another key_added (e.g. key_added='{key_added}_orthologs'); the earlier record and its "
                "var columns stay."
            )
            raise ValueError(msg)
    kwargs = {
        "key_added": key_added,
        "src_snap": src_snap,
        "dst_snap": dst_snap,
        "release": release,
        "to_release": to_release,
        "to": to,
        "id_key": id_key,
        "one_to_many": one_to_many,
        "many_to_one": many_to_one,
        "unmapped": unmapped,
        "symbol_key": symbol_key,
        "check_organism": check_organism,
    }
    return run_on_data(
        data,
        mod=mod,
        copy=copy,
        key_added=key_added,
        run=lambda adata, **kw: _orthologs_anndata(adata, **kw, **kwargs),
    )
