"""Batch conversion: queries in, one row per query out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._index import DEFAULT_MIN_EVIDENCE, check_min_evidence, is_exact_symbol, resolved
from ._key_index import key_index
from ._non_names import case_only_words, missing_values, positional_integers
from ._organism import foreign_ensembl_ids
from ._parse import as_query_strings, normalize, reinterpret
from ._ties import find_ties, geneless_not_found, keys_to_resolve
from ._vocab import OUTCOMES, PARSE_NOTES, REASON_CODE, REASONS, canonical_namespace

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from ..snapshot import Snapshot

Strategy = Literal["best", "all"]

#: Columns of a conversion table, in order.
COLUMNS = (
    "query",
    "target",
    "n_targets",
    "targets",
    "outcome",
    "reason",
    "parse",
    "key",
    "query_namespace",
    "gene_id",
    "symbol",
    "found_first",
    "found_last",
    "retired_in",
    "lost_genes",
)


def _check_strategy(strategy: str) -> str:
    if strategy not in ("best", "all"):
        msg = f"strategy must be 'best' (apply the ranking rule) or 'all' (keep every candidate), got {strategy!r}."
        raise ValueError(msg)
    return strategy


def convert(
    queries: Iterable[object] | str,
    *,
    snapshot: Snapshot | str | os.PathLike | None = None,
    organism: str | None = None,
    to: str = "ensembl_gene",
    release: int | None = None,
    strategy: Strategy = "best",
    from_release: int | None = None,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
) -> pd.DataFrame:
    """Convert identifiers to a target namespace at a target Ensembl release.

    Each query is parsed (whitespace, case, versions, ``_PAR_Y``, ``GeneID:`` prefixes,
    spreadsheet dates in every form, uniquifying suffixes, non-gene features), anchored to the
    gene(s) it named when it was valid, followed through Ensembl's history to ``release``, and
    expressed in ``to``. Where two plausible readings of a query name different genes
    (``PARP-1`` as written and as ``PARP1``; ``1-Mar`` from MARCH1 and MARC1), the answer is a
    tie with a reason naming the conflict (see :doc:`/concepts`).

    Parameters
    ----------
    queries
        Identifiers of any namespace, mixed freely: Ensembl gene, transcript or protein IDs
        (with or without version), symbols (current, previous, alias; any case), HGNC IDs,
        Entrez IDs (``7157`` or ``GeneID:7157``). Transcript and protein IDs are found only
        in a snapshot whose sources list them: the shipped human and mouse snapshots hold
        transcripts (of releases 75–100 and 100) but no protein IDs, so an ``ENSP…`` query
        answers ``1:0`` with reason ``no_protein_ids``. ``None``/NaN give outcome ``1:0`` with
        reason ``empty``, missing values written as text (``"nan"``, ``"NA"``, ``"nan-1"``)
        reason ``missing_value``. Bare integers (``7157``, or the integer ``7157``) are read
        as Entrez IDs when the batch's bare integers are Entrez-like as a whole (fewer than 20
        and no ``0`` among them, or at least 80 % of them Gene IDs the snapshot knows);
        otherwise, as for AnnData's positional default names ``'0'`` … ``'n-1'``, they get
        reason ``not_a_name``. Gene IDs of another organism (Ensembl's ``ENS…``, FlyBase's
        ``FBgn…``, WormBase's ``WBGene…``) get ``other_organism``.
    snapshot
        The organism's snapshot: a :class:`~idtrack_sc.Snapshot`
        (:func:`~idtrack_sc.load_snapshot`, :func:`~idtrack_sc.fetch_snapshot`), a snapshot
        file, an organism name, or ``"default"`` for the small embedded demo subset (see
        :func:`idtrack_sc.registry.resolve_snapshot`).
    organism
        Instead of ``snapshot``: the organism whose newest registered snapshot to use, by
        Latin name, common name or NCBI taxonomy ID (``"human"``, ``"zebrafish"``,
        ``"danio_rerio"``, ``7955``); the snapshots of the 14 organisms CELLxGENE pins ship
        with the package.
    to
        Target namespace: ``"ensembl_gene"``, ``"symbol"``, ``"hgnc_id"``, ``"entrez"`` or any
        other the snapshot holds (:attr:`Snapshot.namespaces`); the reference tool's names
        (``"HGNC Symbol"``, ``"EntrezGene"``) are accepted.
    release
        Target Ensembl release; default the snapshot's newest. Any release from the oldest to
        the newest covered one: between two covered releases a gene present at both is
        present; one present at only one of them answers ``1:0 presence_undetermined``.
    strategy
        ``"best"`` applies the documented ranking rule and resolves the ties it can break;
        ``"all"`` keeps every candidate (``target`` empty whenever there are several).
    from_release
        The Ensembl release the queries were annotated with, if known (see
        :func:`idtrack_sc.infer_release`): symbols are read in their meaning at that release
        (a clone-based name or a symbol that moved between genes names the gene it named
        then), then followed to ``release``. Default: symbols are read in their meaning at
        the target release. Any release from the snapshot's first to its last covered one.
    min_evidence
        Weakest evidence tier of *inferred* history links to follow (links the snapshot's
        builder inferred from loci and transcripts where Ensembl's own history was not among
        its sources, see :doc:`/lineage`): ``"high"`` (identical locus or transcript set),
        ``"medium"`` (default: also reciprocal overlap >= 0.9 or a shared transcript; no wrong
        link on the curated cases), ``"low"`` (also overlap >= 0.5), or ``"none"`` (Ensembl's
        own history only). Answers through an inferred link have reason
        ``inferred_successor`` (or ``inferred_predecessor``).

    Returns
    -------
    One row per query, in input order, with columns:

    ``query``
        The query as given.
    ``target``
        The single answer, or ``""``.
    ``n_targets``, ``targets``
        Number of candidates and all of them, ranked, ``|``-joined.
    ``outcome``
        ``"1:1"``, ``"1:n"`` (ambiguous) or ``"1:0"`` (failed).
    ``reason``
        Why (see :data:`idtrack_sc.resolve.REASONS`).
    ``parse``, ``key``
        How the query was read, and the index key it matched (upper case; an Ensembl ID
        with a version the snapshot knows matches as itself, ``parse`` then says
        ``version_stripped``).
    ``query_namespace``
        The namespace the query was found in.
    ``gene_id``, ``symbol``
        The Ensembl gene(s) behind the targets and, for a single answer, its display
        symbol at the target release (empty otherwise).
    ``found_first``, ``found_last``
        Release range in which the query was found (null for undated sources).
    ``retired_in``
        For retired genes, the first covered release without them.
    ``lost_genes``
        Genes the query named that no longer exist at the target release while others do
        (the outcome is then ``1:n``, reason ``candidates_retired``).

    ``DataFrame.attrs["idtrack"]`` records the release, namespace, strategy and snapshot.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> snap = its.datasets.default_snapshot()
    >>> its.convert(["TP53", "ENSG00000139618.17", "2-Sep", "1-Mar"], snapshot=snap, to="symbol")[
    ...     ["query", "target", "targets", "reason"]
    ... ]
                    query   target         targets            reason
    0                TP53     TP53            TP53         unchanged
    1  ENSG00000139618.17    BRCA2           BRCA2  version_stripped
    2               2-Sep  SEPTIN2         SEPTIN2           renamed
    3               1-Mar           MARCHF1|MTARC1     date_conflict
    """
    _check_strategy(strategy)
    from ..registry import resolve_snapshot

    snapshot = resolve_snapshot(snapshot, organism)
    min_evidence = check_min_evidence(min_evidence)
    release = snapshot.check_release(release)
    anchor = check_from_release(snapshot, from_release)
    namespace = canonical_namespace(to, snapshot.namespaces)
    keyset = key_index(snapshot)

    raw = as_query_strings(queries)
    n = len(raw)
    given = pa.array(raw, type=pa.string(), from_pandas=True)
    normalized = query_keys = normalize(given)  # query_keys: as given, before any rewrite
    empty = pc.fill_null(pc.equal(normalized, ""), True).to_numpy(zero_copy_only=False)
    keys = normalized.to_numpy(zero_copy_only=False)
    codes = np.full(n, -1, dtype=np.int64)  # key codes (-1: not a key)
    missing_value = ~empty & missing_values(normalized)  # "nan", "NA", "nan-1": never looked up
    live = np.flatnonzero(~empty & ~missing_value)
    codes[live] = keyset.lookup(keys[live])
    parse = np.zeros(n, dtype=np.int8)  # codes into PARSE_NOTES
    not_a_gene = np.zeros(n, dtype=bool)

    miss = live[codes[live] < 0]
    if len(miss):

        def in_batch(values: np.ndarray) -> np.ndarray:
            # only known keys are asked about, and a known key in the batch was found as it is:
            # compare key codes, not strings
            present = np.zeros(len(keyset) + 1, dtype=bool)
            present[codes[live]] = True
            present[-1] = False
            return present[keyset.lookup(values)]

        def exact(values: np.ndarray) -> np.ndarray:
            return is_exact_symbol(snapshot, values)

        trimmed = pc.utf8_trim_whitespace(given.take(pa.array(miss))).to_numpy(zero_copy_only=False)
        new_keys, notes = reinterpret(keys[miss], keyset.contains, in_batch, trimmed, exact)
        not_a_gene[miss] = notes == "not_a_gene"
        unconfirmed = np.zeros(n, dtype=bool)
        unconfirmed[miss] = notes == "suffix_unconfirmed"
        retry = np.flatnonzero(new_keys != None)  # noqa: E711 - element-wise
        if len(retry):
            where = keyset.lookup(new_keys[retry].astype(object))
            ok = where >= 0
            at = miss[retry[ok]]
            codes[at] = where[ok]
            parse[at] = [_PARSE_CODE[note] for note in notes[retry[ok]]]
            mask = np.zeros(n, dtype=bool)
            mask[at] = True
            normalized = pc.replace_with_mask(
                normalized, pa.array(mask), pa.array(new_keys[retry[ok]], type=pa.string())
            )
    # the other readings find_ties compares are resolved in the same pass as the batch's keys
    live_at = pa.array(live)
    other, readings = keys_to_resolve(snapshot, keys[live], query_keys.take(live_at), given.take(live_at), live)
    other_codes = keyset.lookup(other) if len(other) else np.zeros(0, dtype=np.int64)
    target = resolved(snapshot, release, namespace, release if anchor is None else anchor, min_evidence)
    index, rows = target.answer(snapshot, np.concatenate([codes, other_codes[other_codes >= 0]]))
    rows = rows[:n]
    # decided on the whole batch, from what its keys are: a numbering, or words in the wrong case
    not_a_name = positional_integers(query_keys, rows, index) | case_only_words(
        query_keys, given, rows, index, snapshot
    )
    rows[not_a_name] = index.missing
    found = (codes >= 0) & ~not_a_name
    parse = np.where(found & (parse == 0), index.note[rows], parse).astype(np.int8)

    # other readings of the same query that reach other genes: a tie (see _ties)
    as_written = found.copy()  # found as its own key (a versioned Ensembl ID too), not repaired
    if len(miss):
        as_written[miss] = False
    ties = find_ties(snapshot, index, keys, query_keys, given, rows, as_written, strategy, readings)

    n_targets = index.n_targets[rows]
    take = pa.array(rows)
    lost = index.lost.take(take)
    tied = np.zeros(n, dtype=bool)
    tied[ties.tied] = True
    targets = index.targets.take(take)
    genes = index.genes.take(take)
    if len(ties.tied):
        n_targets[ties.tied] = ties.n_targets
        tie_mask = pa.array(tied)
        targets = pc.replace_with_mask(targets, tie_mask, pa.array(ties.targets, type=pa.string()))
        genes = pc.replace_with_mask(genes, tie_mask, pa.array(ties.genes, type=pa.string()))
        lost = pc.replace_with_mask(lost, tie_mask, pa.array(ties.lost, type=pa.string()))
    has_lost = pc.not_equal(lost, "").to_numpy(zero_copy_only=False)
    single = n_targets == 1
    if strategy == "best":
        single |= (n_targets > 1) & index.breakable[rows]
    single &= ~has_lost & ~tied
    outcome = np.where(single, 0, np.where((n_targets > 1) | has_lost | tied, 1, 2)).astype(np.int8)

    reason = index.reason[rows].copy()
    reason[empty] = REASON_CODE["empty"]
    reason[not_a_gene] = REASON_CODE["not_a_gene"]
    reason[missing_value] = REASON_CODE["missing_value"]
    reason[not_a_name] = REASON_CODE["not_a_name"]
    unknown = np.flatnonzero(~found & ~empty)
    if len(unknown):
        foreign = foreign_ensembl_ids(normalized.take(pa.array(unknown)), snapshot)
        reason[unknown[foreign]] = REASON_CODE["other_organism"]
    if len(miss):
        reason[unconfirmed] = REASON_CODE["suffix_unconfirmed"]
        reason[_protein_ids_not_held(snapshot, normalized, ~found & ~empty & ~not_a_gene)] = REASON_CODE[
            "no_protein_ids"
        ]
    # "unchanged" says nothing more than how the query was read: report that instead
    reread = found & (reason == REASON_CODE["unchanged"]) & (parse != 0)
    reason[reread] = _PARSE_TO_REASON[parse[reread]]
    reason[ties.tied] = ties.reason
    nowhere = np.flatnonzero(~found & ~empty & ~not_a_gene & (reason == REASON_CODE["not_found"]))
    reason[nowhere[geneless_not_found(snapshot, keys[nowhere])]] = REASON_CODE["no_ensembl_gene"]

    top = index.top.take(take)
    frame = pd.DataFrame(
        {
            "query": _strings(given),
            "target": _strings(pc.if_else(pa.array(single), top, "")),
            "n_targets": n_targets,
            "targets": _strings(targets),
            "outcome": pd.Categorical.from_codes(outcome, categories=list(OUTCOMES)),
            "reason": pd.Categorical.from_codes(reason, categories=list(REASONS)),
            "parse": pd.Categorical.from_codes(parse, categories=list(PARSE_NOTES)),
            "key": _strings(pc.if_else(pa.array(found), normalized, pa.scalar(None, pa.string()))),
            "query_namespace": pd.Categorical.from_codes(index.query_namespace[rows], categories=index.namespaces),
            "gene_id": _strings(genes),
            # a display symbol only for a single answer: for 1:n the first candidate's symbol
            # would read like the answer
            "symbol": _strings(pc.if_else(pa.array(single), index.symbol.take(take), "")),
            "found_first": _ints(index.found_first[rows]),
            "found_last": _ints(index.found_last[rows]),
            "retired_in": _ints(index.retired_in[rows]),
            "lost_genes": _strings(lost),
        },
        columns=list(COLUMNS),
        copy=False,
    )
    frame.attrs["idtrack"] = {
        "release": release,
        "namespace": namespace,
        "strategy": strategy,
        "from_release": anchor,
        "min_evidence": min_evidence,
        "snapshot": snapshot.identity(),
    }
    return frame


def _protein_ids_not_held(snapshot: Snapshot, keys: pa.Array, missed: np.ndarray) -> np.ndarray:
    """Missed queries that are Ensembl protein IDs, when the snapshot holds none (nothing could find them)."""
    proteins = missed & pc.fill_null(pc.match_substring_regex(keys, _PROTEIN_ID), False).to_numpy(zero_copy_only=False)
    if proteins.any() and (snapshot.features["feature_type"] == "translation").any():
        proteins[:] = False
    return proteins


#: An Ensembl protein (translation) stable ID, any species prefix, with or without version.
_PROTEIN_ID = r"^ENS[A-Z]*P\d{11}(?:\.\d+)?$"


def check_from_release(snapshot: Snapshot, from_release: object) -> int | None:
    """``from_release`` as an int inside the snapshot's range (``None`` passes), else a clear error."""
    if from_release is None:
        return None
    if isinstance(from_release, bool) or not isinstance(from_release, int | np.integer | str):
        msg = f"from_release must be an Ensembl release number, got {from_release!r}."
        raise TypeError(msg)
    try:
        value = int(from_release)
    except ValueError:
        msg = f"from_release must be an Ensembl release number, got {from_release!r}."
        raise TypeError(msg) from None
    first, last = min(snapshot.releases), max(snapshot.releases)
    if not first <= value <= last:
        msg = (
            f"from_release={value} is outside the {snapshot.organism} snapshot, which covers Ensembl releases "
            f"{first} to {last}: names cannot be read in the meaning of a release it knows nothing about."
        )
        raise ValueError(msg)
    return value


_PARSE_CODE = {note: i for i, note in enumerate(PARSE_NOTES)}
_PARSE_TO_REASON = np.array([REASON_CODE.get(note, REASON_CODE["unchanged"]) for note in PARSE_NOTES], dtype=np.int8)


def _strings(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Wrap an Arrow string array as a pandas string column without copying."""
    return pd.arrays.ArrowStringArray(values)


def _ints(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Float release numbers with NaN -> nullable integers."""
    mask = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(mask, 0, values).astype(np.int64), mask)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Counts per outcome and reason of a conversion table.

    Returns
    -------
    A frame indexed by ``(outcome, reason)`` with ``count`` and ``fraction``, outcomes in
    the order ``1:1``, ``1:n``, ``1:0``.
    """
    missing = {"outcome", "reason"} - set(table.columns)
    if missing:
        msg = f"Not a conversion table: columns {sorted(missing)} are missing."
        raise ValueError(msg)
    counts = table.groupby(["outcome", "reason"], sort=False, observed=True).size().rename("count").reset_index()
    counts["_o"] = counts["outcome"].map({o: i for i, o in enumerate(OUTCOMES)})
    counts = counts.sort_values(["_o", "count", "reason"], ascending=[True, False, True]).drop(columns="_o")
    counts["fraction"] = counts["count"] / max(len(table), 1)
    return counts.set_index(["outcome", "reason"])
