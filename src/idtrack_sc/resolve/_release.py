"""Which Ensembl release a list of feature names was annotated with, inferred from the names.

Every name is looked up in the snapshot's dated tables (the genes table for Ensembl IDs and
their versions, the per-release gene tables' primary symbols for symbols) and gets the set
of covered releases it is valid in, as a bit mask. A versioned ID is valid where that exact
version was recorded (or where the gene existed and the source recorded no version); an ID
with a symbol beside it (two identifier columns) where the gene had that symbol; a symbol
where some gene had it as its primary name; a bare ID where the gene existed. The release
valid for the most names wins; the releases a sign test cannot tell apart from it form the
range that fits equally well.
"""

from __future__ import annotations

import logging
import math
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..snapshot import upper_array
from ._organism import foreign_ensembl_ids, id_kind, id_prefix, organism_of_code, species_codes
from ._parse import as_query_strings, normalize
from ._snapshot_cache import snapshot_cache

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

#: Fewer names with release evidence than this: undetermined.
MIN_EVIDENCE = 20
#: The chosen release must fit at least this fraction of the names with evidence.
MIN_FIT = 0.8
#: Evidence kinds, most specific first; each name counts once, with its most specific kind.
EVIDENCE = ("pairs", "versioned_ids", "symbols", "ids")

#: Assemblies of Ensembl releases (public Ensembl facts): (organism, first release, assembly).
_ASSEMBLIES = {
    "homo_sapiens": ((0, "NCBI36"), (55, "GRCh37"), (76, "GRCh38")),
    "mus_musculus": ((0, "NCBIM37"), (68, "GRCm38"), (103, "GRCm39")),
}
_VERSIONED = r"^(?P<id>ENS[A-Z]*G\d{11})\.(?P<v>\d+)(?:_PAR_Y)?$"
_BARE_ID = r"^(?:ENS[A-Z]*G\d{11}|FBGN\d{7}|WBGENE\d{8})$"


def assembly_of(snapshot: Snapshot, release: int) -> str | None:
    """The genome assembly of ``release`` for the snapshot's organism (its own assembly if unknown).

    Human and mouse: Ensembl's assembly history; other organisms: the assembly the snapshot's
    manifest records for the release.
    """
    table = _ASSEMBLIES.get(snapshot.organism)
    if table is None:  # the assembly the snapshot's sources name for the release (rat: mRatBN7.2 at 113)
        named = (snapshot.manifest.get("release_assemblies") or {}).get(str(int(release)))
        return named or snapshot.assembly
    name = None
    for first, assembly in table:
        if release >= first:
            name = assembly
    return name


@dataclass
class ReleaseInference:
    """What :func:`~idtrack_sc.infer_release` found.

    Attributes
    ----------
    release
        The covered release that fits the most names (the newest among equals), or ``None``
        when undetermined.
    assembly
        The genome assembly of that release.
    releases
        Covered releases that fit equally well (a sign test cannot separate them from
        ``release``); the dataset may come from any of them, or from an uncovered release
        between them.
    confidence
        Fraction of the names with release evidence that are valid at ``release`` (0–1).
    status
        ``"determined"`` or ``"undetermined"``.
    reason
        Why, in words.
    evidence
        One row per covered release: names valid there by kind of evidence (``pairs``:
        ID and symbol together; ``versioned_ids``; ``symbols``; ``ids``: bare Ensembl IDs),
        ``valid`` (each name counted once, with its most specific evidence) and ``fit``.
    n_names, n_with_evidence
        Names given, and names valid in at least one covered release.
    versions_ignored
        The versioned Ensembl IDs fit no covered release as versioned (a dataset of a release
        between or before the covered ones, whose versions no table recorded): the inference
        was made again with their versions removed, and this is its result (``reason`` says
        so).
    """

    release: int | None
    assembly: str | None
    releases: tuple[int, ...]
    confidence: float
    status: str
    reason: str
    evidence: pd.DataFrame = field(repr=False)
    n_names: int = 0
    n_with_evidence: int = 0
    versions_ignored: bool = False

    @property
    def determined(self) -> bool:
        """Whether a release was inferred."""
        return self.status == "determined"

    def to_dict(self) -> dict[str, Any]:
        """A provenance record (``uns``-safe: no lists of dicts, no ``None`` values)."""
        ev = self.evidence
        return {
            "status": self.status,
            "release": -1 if self.release is None else int(self.release),
            "assembly": self.assembly or "",
            "releases": np.asarray(self.releases, dtype=np.int64),
            "confidence": float(self.confidence),
            "reason": self.reason,
            "n_names": int(self.n_names),
            "n_with_evidence": int(self.n_with_evidence),
            "versions_ignored": bool(self.versions_ignored),
            "evidence": {
                "release": ev.index.to_numpy(dtype=np.int64),
                **{col: ev[col].to_numpy() for col in ev.columns},
            },
        }

    def __str__(self) -> str:
        if self.release is None:
            return f"release undetermined: {self.reason}"
        span = ", ".join(map(str, self.releases))
        return (
            f"Ensembl release {self.release} ({self.assembly}), fits equally well: {span}; "
            f"confidence {self.confidence:.3f} ({self.reason})"
        )


def _masks(first: np.ndarray, last: np.ndarray, releases: np.ndarray) -> np.ndarray:
    """Bit mask of the covered releases in ``[first, last]`` (bit i = ``releases[i]``)."""
    lo = np.searchsorted(releases, first, side="left").astype(np.int64)
    hi = np.searchsorted(releases, last, side="right").astype(np.int64)
    one = np.int64(1)
    return ((one << hi) - 1) ^ ((one << lo) - 1)


def _or_by_key(keys: np.ndarray, masks: np.ndarray) -> tuple[pd.Index, np.ndarray]:
    """Unique keys and the OR of their masks."""
    codes, uniques = pd.factorize(keys, sort=False)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) if len(codes) else np.zeros(0, int)
    out = np.bitwise_or.reduceat(masks[order], starts) if len(codes) else np.zeros(0, dtype=np.int64)
    return pd.Index(uniques, dtype=object), out


def _np(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(object)


class _Masks:
    """Per-snapshot lookup tables of validity masks, each built on first use (cached per snapshot).

    The snapshot is held weakly, so that the cache entry does not keep its own key alive.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = weakref.ref(snapshot)
        self.releases = np.asarray(snapshot.releases, dtype=np.int64)
        self._built: dict[str, Any] = {}

    def __getitem__(self, kind: str) -> Any:
        if kind == "releases":
            return self.releases
        if kind not in self._built:
            if kind in ("ids", "versioned", "unversioned"):
                self._genes()
            elif kind == "symbols":
                sym, upper, smask = self._symbol_rows()
                self._built["symbols"] = _or_by_key(_np(upper), smask)
            elif kind == "pairs":
                sym, upper, smask = self._symbol_rows()
                keys = _np(pc.binary_join_element_wise(upper_array(sym["gene_id"]), upper, "\t"))
                self._built["pairs"] = _or_by_key(keys, smask)
            else:
                raise KeyError(kind)
        return self._built[kind]

    def _genes(self) -> None:
        genes = self._snapshot().genes
        gid = _np(upper_array(genes["gene_id"]))
        gmask = _masks(genes["first_release"].to_numpy(), genes["last_release"].to_numpy(), self.releases)
        self._built["ids"] = _or_by_key(gid, gmask)
        version = genes["version"].to_numpy(dtype=float)
        has_version = ~np.isnan(version)
        vkeys = gid[has_version] + "." + version[has_version].astype(np.int64).astype(str).astype(object)
        self._built["versioned"] = _or_by_key(vkeys, gmask[has_version])
        # releases where the gene existed but no version was recorded: a version cannot be refuted there
        self._built["unversioned"] = _or_by_key(gid[~has_version], gmask[~has_version])

    def _symbol_rows(self) -> tuple[pd.DataFrame, pa.Array, np.ndarray]:
        """Dated primary symbols (no fake names), their upper-case values and masks."""
        if "_symbol_rows" not in self._built:
            names = self._snapshot().names
            sel = (names["namespace"] == "symbol") & (names["kind"] == "primary") & names["first_release"].notna()
            sym = names[sel]
            upper = upper_array(sym["value"])
            stripped = pc.replace_substring_regex(upper, r"\.\d+$", "")
            real = ~pc.fill_null(pc.equal(stripped, upper_array(sym["gene_id"])), False).to_numpy(zero_copy_only=False)
            sym, upper = sym[real], upper.filter(pa.array(real))
            smask = _masks(
                sym["first_release"].to_numpy(dtype=float), sym["last_release"].to_numpy(dtype=float), self.releases
            )
            self._built["_symbol_rows"] = (sym, upper, smask)
        return self._built["_symbol_rows"]


def _tables(snapshot: Snapshot) -> _Masks:
    """The snapshot's :class:`_Masks` (one per snapshot and session)."""
    cached = snapshot_cache(snapshot).get("release_masks")
    if cached is None:
        cached = snapshot_cache(snapshot)["release_masks"] = _Masks(snapshot)
    return cached


def _lookup(table: tuple[pd.Index, np.ndarray], keys: np.ndarray) -> np.ndarray:
    index, masks = table
    pos = index.get_indexer(keys)
    out = np.zeros(len(keys), dtype=np.int64)
    ok = pos >= 0
    out[ok] = masks[pos[ok]]
    return out


def _read(values: object, strip_versions: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-case keys, the Ensembl gene ID of each (``""`` if none) and its version key.

    ``strip_versions``: versioned IDs are read as bare IDs (no version key).
    """
    arr = pa.array(as_query_strings(values), type=pa.string(), from_pandas=True)
    keys = pc.fill_null(normalize(arr), "")
    vid = pc.struct_field(pc.extract_regex(keys, _VERSIONED), "id")
    vver = pc.struct_field(pc.extract_regex(keys, _VERSIONED), "v")
    versioned = pc.fill_null(pc.binary_join_element_wise(vid, vver, "."), "")
    bare = pc.fill_null(pc.match_substring_regex(keys, _BARE_ID), False)
    gene = pc.if_else(bare, keys, pc.fill_null(vid, ""))
    versioned = versioned.to_numpy(zero_copy_only=False).astype(object)
    if strip_versions:
        versioned[:] = ""
    return (
        keys.to_numpy(zero_copy_only=False).astype(object),
        gene.to_numpy(zero_copy_only=False).astype(object),
        versioned,
    )


def infer_release(
    identifiers: Iterable[object],
    *,
    snapshot: Snapshot | str | os.PathLike | None = None,
    organism: str | None = None,
    paired: Iterable[object] | None = None,
) -> ReleaseInference:
    """Infer the Ensembl release (and assembly) a list of feature names was annotated with.

    Parameters
    ----------
    identifiers
        Feature names as a dataset holds them: Ensembl gene IDs (versioned IDs say the
        most), symbols, or a mix.
    snapshot
        The organism's snapshot (a :class:`~idtrack_sc.Snapshot`, a snapshot file, an
        organism name such as ``"mouse"``, or ``"default"``, as for
        :func:`~idtrack_sc.convert`); only its covered releases can be told apart.
    organism
        Instead of ``snapshot``: the organism (``"human"``, ``"mouse"``, …) whose newest
        registered snapshot to use.
    paired
        A second identifier column aligned with ``identifiers`` (10x ``features.tsv``,
        ``var["gene_ids"]`` beside symbol ``var_names``): each ID and symbol of the same
        feature are used together, which is the strongest evidence.

    Returns
    -------
    A :class:`~idtrack_sc.resolve.ReleaseInference`: the release, its assembly, the range of covered releases
    that fit equally well, a confidence and the evidence per release. With fewer than
    ``MIN_EVIDENCE`` (20) names that are valid in any covered release, or when no release
    fits at least ``MIN_FIT`` (80%) of them (a mixed list), the status is
    ``"undetermined"`` and ``release`` is ``None``; the evidence is there all the same.
    When versioned Ensembl IDs leave the release undetermined (their versions are from a
    release no table covers, or recorded by none), the IDs are read again without versions;
    if that determines a release, it is the result, with ``versions_ignored=True``, a reason
    saying so and a log line. Ensembl IDs of another organism are named in the reason.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> snap = its.datasets.default_snapshot()
    >>> result = its.infer_release(["MARCH1", "SEPT2", "TP53"] * 10, snapshot=snap)
    >>> result.status, result.releases  # doctest: +SKIP
    """
    from ..registry import resolve_snapshot

    snapshot = resolve_snapshot(snapshot, organism)
    identifiers = as_query_strings(identifiers)
    paired = None if paired is None else as_query_strings(paired)
    result = _infer(identifiers, snapshot, paired)
    if result.determined or not any(_has_versions(values) for values in (identifiers, paired)):
        return _with_foreign_ids(result, identifiers, snapshot)
    plain = _infer(identifiers, snapshot, paired, strip_versions=True)
    if not plain.determined:
        result.reason += f"; without versions, also undetermined ({plain.reason})"
        return _with_foreign_ids(result, identifiers, snapshot)
    plain.versions_ignored = True
    plain.reason = (
        f"the versioned IDs fit no covered release ({result.reason}); read without their versions: {plain.reason}"
    )
    logger.info("inferred release from the IDs without their versions (the versions fit no covered release)")
    logger.info("inferred release: %s", plain)
    return plain


def _has_versions(values: np.ndarray | None) -> bool:
    """Whether any value is a versioned Ensembl gene ID."""
    if values is None or len(values) == 0:
        return False
    keys = normalize(pa.array(values, type=pa.string(), from_pandas=True))
    return bool(pc.any(pc.match_substring_regex(keys, _VERSIONED)).as_py())


def _with_foreign_ids(result: ReleaseInference, identifiers: np.ndarray, snapshot: Snapshot) -> ReleaseInference:
    """An undetermined result whose names are mostly another organism's Ensembl IDs says so."""
    if result.determined or len(identifiers) == 0:
        return result
    keys = normalize(pa.array(identifiers, type=pa.string(), from_pandas=True))
    foreign = foreign_ensembl_ids(keys, snapshot)
    if foreign.sum() * 2 < len(identifiers):
        return result
    code = pd.Series(species_codes(keys)[foreign]).value_counts().index[0]
    result.reason = (
        f"{int(foreign.sum())} of {len(identifiers)} names are {id_kind(code)} of {organism_of_code(code)} "
        f"({id_prefix(code)}), not of the snapshot's organism ({snapshot.organism}): use that organism's snapshot "
        f"({result.reason})"
    )
    return result


def _infer(
    identifiers: np.ndarray, snapshot: Snapshot, paired: np.ndarray | None, strip_versions: bool = False
) -> ReleaseInference:
    """:func:`infer_release` on query strings, with the versions of Ensembl IDs or without."""
    tables = _tables(snapshot)
    releases = tables["releases"]
    keys, gene, versioned = _read(identifiers, strip_versions)
    n = len(keys)
    masks = {kind: np.zeros(n, dtype=np.int64) for kind in EVIDENCE}
    is_versioned = versioned != ""
    # releases that recorded no gene versions cannot refute a version: used only where the
    # version is recorded nowhere, and to widen the range of releases that fit equally well
    possible = np.zeros(n, dtype=np.int64)
    if is_versioned.any():
        at = np.flatnonzero(is_versioned)
        exact = _lookup(tables["versioned"], versioned[at])
        possible[at] = _lookup(tables["unversioned"], gene[at])
        masks["versioned_ids"][at] = np.where(exact != 0, exact, possible[at])
    bare = (gene != "") & ~is_versioned
    if bare.any():
        masks["ids"][bare] = _lookup(tables["ids"], gene[bare])
    symbolic = (gene == "") & (keys != "")
    if symbolic.any():
        masks["symbols"][symbolic] = _lookup(tables["symbols"], keys[symbolic])
    if paired is not None:
        other_keys, other_gene, other_versioned = _read(paired, strip_versions)
        if len(other_keys) != n:
            msg = f"paired has {len(other_keys)} values for {n} identifiers; they must be aligned."
            raise ValueError(msg)
        # the ID of each feature from whichever column holds one, the symbol from the other
        first_is_id = gene != ""
        pair_gene = np.where(first_is_id, gene, other_gene)
        pair_symbol = np.where(first_is_id, np.where(other_gene == "", other_keys, ""), keys)
        ok = (pair_gene != "") & (pair_symbol != "")
        if ok.any():
            masks["pairs"][ok] = _lookup(tables["pairs"], (pair_gene[ok] + "\t" + pair_symbol[ok]).astype(object))
        # the other column's own evidence where the first column had none
        other_versioned_at = (masks["versioned_ids"] == 0) & (other_versioned != "")
        if other_versioned_at.any():
            at = np.flatnonzero(other_versioned_at)
            exact = _lookup(tables["versioned"], other_versioned[at])
            possible[at] = _lookup(tables["unversioned"], other_gene[at])
            masks["versioned_ids"][at] = np.where(exact != 0, exact, possible[at])
        other_symbol_at = (masks["symbols"] == 0) & (other_gene == "") & (other_keys != "")
        if other_symbol_at.any():
            masks["symbols"][other_symbol_at] = _lookup(tables["symbols"], other_keys[other_symbol_at])

    # each name counts once, with its most specific evidence
    combined = np.zeros(n, dtype=np.int64)
    for kind in EVIDENCE:
        combined = np.where(combined == 0, masks[kind], combined)
    bits = np.arange(len(releases), dtype=np.int64)

    def per_release(m: np.ndarray) -> np.ndarray:
        return ((m[:, None] >> bits[None, :]) & 1).sum(axis=0) if len(m) else np.zeros(len(bits), dtype=np.int64)

    with_evidence = combined != 0
    n_evidence = int(with_evidence.sum())
    valid = per_release(combined)
    evidence = pd.DataFrame(
        {**{kind: per_release(masks[kind]) for kind in EVIDENCE}, "valid": valid},
        index=pd.Index(releases, name="release"),
    )
    evidence["fit"] = valid / n_evidence if n_evidence else 0.0

    def undetermined(reason: str) -> ReleaseInference:
        return ReleaseInference(None, None, (), 0.0, "undetermined", reason, evidence, n, n_evidence)

    if n_evidence < MIN_EVIDENCE:
        return undetermined(
            f"only {n_evidence} of {n} names are valid in any covered release (at least {MIN_EVIDENCE} needed)"
        )
    top = valid.max()
    best = int(np.flatnonzero(valid == top)[-1])  # the newest among equals
    fit = top / n_evidence
    if fit < MIN_FIT:
        return undetermined(
            f"mixed: no covered release fits more than {fit:.1%} of the {n_evidence} names with evidence "
            f"(release {int(releases[best])} fits best; at least {MIN_FIT:.0%} needed)"
        )
    # a release fits equally well when a sign test on the names that tell the two apart
    # (valid at one and not the other) cannot separate it from the best (two-sided, ~95%);
    # a release without recorded versions does not contradict a versioned ID of a gene it has
    consistent = combined | np.where(combined == masks["versioned_ids"], possible, 0)
    at_best = ((consistent >> best) & 1).astype(bool)
    equal = []
    for i in range(len(releases)):
        at_i = ((consistent >> i) & 1).astype(bool)
        only_best = int((at_best & ~at_i).sum())
        only_i = int((at_i & ~at_best).sum())
        if only_best - only_i <= 2 * math.sqrt(only_best + only_i):
            equal.append(int(releases[i]))
    release = int(releases[best])
    span = ", ".join(map(str, equal))
    reason = f"{top} of {n_evidence} names with evidence are valid at {release}" + (
        f"; releases {span} fit as well" if len(equal) > 1 else "; no other covered release fits as well"
    )
    result = ReleaseInference(
        release,
        assembly_of(snapshot, release),
        tuple(equal),
        float(fit),
        "determined",
        reason,
        evidence,
        n,
        n_evidence,
    )
    if not strip_versions:  # debug: harmonize_var_names logs it once, with the dataset's name
        logger.debug("inferred release: %s", result)
    return result
