"""One concatenation: the checked datasets, the survey of their identifiers, and their harmonization.

:func:`prepare` does everything that needs no matrix (pass 1): it surveys every dataset's
identifiers, refuses what cannot be concatenated (before any dataset is harmonized), and
converts every distinct identifier once for the cross-dataset diagnostics. The :class:`Run`
it returns harmonizes the datasets one at a time for whichever path joins them
(:mod:`._in_memory`, :mod:`._on_disk`), collecting the feature union and the diagnostics as
it goes, and makes the ``uns`` record at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ...registry import resolve_snapshot
from ...resolve import check_min_evidence, convert
from ...resolve import check_organism as refuse_other_organism
from .._apply import replace_contents
from .._harmonize import _harmonize_anndata
from .._mudata import detached
from ._diagnostics import _Diagnostics, _summary
from ._inputs import _check_dataset, _from_releases, _load, _survey
from ._orthologs import to_common_organism
from ._union import VAR_MERGE, _FeatureUnion

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from anndata import AnnData

    from ...snapshot import Snapshot
    from ._inputs import _Dataset
    from ._inputs import _Survey as _DatasetSurvey
    from ._join import JoinArgs

logger = logging.getLogger(__name__)

#: How to proceed when a dataset of another organism is refused.
_OTHER_ORGANISM_HINT = (
    "Datasets of different organisms cannot share one gene namespace: harmonize this one with "
    "organism={organism!r}, or have its genes expressed as {target} orthologs first (dataset_organisms="
    "{{name: {organism!r}}}, or idtrack_sc.pp.convert_orthologs); pass check_organism=False only if these names "
    "really are {target} genes."
)


@dataclass
class Run:
    """A checked concatenation, ready to harmonize its datasets one at a time."""

    datasets: list[_Dataset]
    surveys: dict[str, _DatasetSurvey]
    snap: Snapshot
    key_added: str
    copy_inputs: bool
    from_releases: dict[str, Any]
    harmonize_kwargs: dict[str, Any]
    union: _FeatureUnion
    diag: _Diagnostics
    params: dict[str, Any]
    #: the ortholog records of datasets of other organisms (``dataset_organisms``), by dataset
    orthologs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``copy_inputs=False``: (input, harmonized twin, record), applied once everything succeeded
    pending: list[tuple[AnnData, AnnData, dict[str, Any]]] = field(default_factory=list)

    @property
    def sparse_elements(self) -> frozenset[str]:
        """The matrices (``"X"``, ``"layers/<name>"``) some dataset stores sparse."""
        return frozenset().union(*(s.sparse_elements for s in self.surveys.values()))

    def harmonized(
        self, load: Callable[[_Dataset], AnnData] | None = None
    ) -> Iterator[tuple[_Dataset, AnnData, dict[str, Any]]]:
        """Each dataset loaded (by ``load``, default: in memory) and harmonized, in order.

        The union of features and the diagnostics take each one in as it is yielded.
        """
        for ds in self.datasets:
            adata = load(ds) if load is not None else _load(ds, copy_inputs=self.copy_inputs)
            in_place = adata is ds.source
            if in_place:
                adata = detached(adata)
                adata.uns = _dict_tree(adata.uns)  # gene-keyed uns entries are renamed in place
            _harmonize_anndata(adata, label=ds.label, from_release=self.from_releases[ds.name], **self.harmonize_kwargs)
            rec = adata.uns.pop(self.key_added)
            if in_place:  # the engines may strip what they stage: they get a stand-in of the twin
                self.pending.append((ds.source, adata, rec))
                adata = detached(adata)
            self.diag.add(ds, adata, rec, self.surveys[ds.name].identifiers)
            self.union.add(adata.var)
            yield ds, adata, rec

    def record(self, n_result: int, *, not_concatenated: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The ``uns[key_added]`` record of the result (``not_concatenated``: elements left out, and why)."""
        rec = _summary(self.diag, self.union, n_result, snap=self.snap, params=self.params)
        rec["not_concatenated"] = dict(not_concatenated or {})
        if self.orthologs:
            rec["orthologs"] = self.orthologs
        for element, why in rec["not_concatenated"].items():
            logger.warning("%s is not in the result: %s", element, why)
        return rec

    def replace_inputs(self) -> None:
        """``copy_inputs=False``, once everything succeeded: each input takes its harmonized twin and record."""
        for source, twin, rec in self.pending:
            replace_contents(source, twin)
            source.uns[self.key_added] = rec


def prepare(
    datasets: list[_Dataset],
    *,
    snapshot: Any,
    organism: str | None,
    release: int | None,
    to: str,
    id_key: str | None,
    ambiguous: str,
    min_evidence: str,
    unmapped: str,
    duplicates: str,
    symbol_key: str,
    key_added: str,
    from_release: Any,
    pair_key: str | None,
    pair_conflict: str,
    check_organism: bool,
    dataset_organisms: Mapping[str, Any] | None,
    copy_inputs: bool,
    join_args: JoinArgs,
    out_of_core: bool,
    engine: str,
    writer: str,
) -> Run:
    """Pass 1 (no matrix is read): every check, the survey of identifiers, one conversion for the diagnostics."""
    snap = resolve_snapshot(snapshot, organism)
    release = snap.check_release(release)
    min_evidence = check_min_evidence(min_evidence)
    if dataset_organisms and out_of_core:
        msg = (
            "dataset_organisms works in memory only: convert those datasets with idtrack_sc.pp.convert_orthologs "
            "first (and write them), then concatenate out of core."
        )
        raise ValueError(msg)
    datasets, ortholog_records = to_common_organism(
        datasets,
        dataset_organisms,
        snap=snap,
        release=release,
        to=to,
        ambiguous=ambiguous,
        duplicates=duplicates,
        key_added=key_added,
    )
    from_releases = _from_releases(from_release, datasets, snap)

    # pass 1: identifiers only (no matrices): checks, the identifiers in every dataset, and
    # one conversion of every distinct identifier for the diagnostics
    common: set[str] | None = None
    distinct: set[str] = set()
    surveys = {}
    for ds in datasets:
        survey = _survey(ds, id_key=id_key, key_added=key_added)
        if ds.name in ortholog_records:  # its features are the common organism's orthologs now
            survey.organism_hints = []
        _check_dataset(ds, survey, snap, key_added)
        if check_organism and ds.name not in ortholog_records:
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
        **join_args.record(),
        "var_merge": VAR_MERGE,
        "out_of_core": out_of_core,
        "engine": engine,
        "writer": writer,
        "copy_inputs": bool(copy_inputs),
        "from_release": {
            ds.name: "" if v is None else str(v) for ds, v in zip(datasets, from_releases.values(), strict=True)
        }
        if isinstance(from_release, Mapping)
        else ("" if from_release is None else str(from_release)),
        "pair_key": pair_key or "",
        "pair_conflict": pair_conflict,
    }
    return Run(
        datasets=datasets,
        surveys=surveys,
        snap=snap,
        key_added=key_added,
        copy_inputs=copy_inputs,
        from_releases=from_releases,
        harmonize_kwargs=harmonize_kwargs,
        union=_FeatureUnion(key_added=key_added, symbol_key=symbol_key),
        diag=_Diagnostics(key_added=key_added, table=table),
        params=params,
        orthologs=ortholog_records,
    )


def _dict_tree(mapping: Mapping) -> dict:
    """A copy of the nested dicts of ``mapping`` (the values in them are shared, not copied)."""
    return {k: _dict_tree(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}
