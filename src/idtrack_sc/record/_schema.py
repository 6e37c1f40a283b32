"""The layout of the harmonization record: ``var`` columns, ``uns`` keys and the outcome vocabulary.

Everything here is a fact shared by the writer (:mod:`idtrack_sc.pp`) and every reader
(:mod:`idtrack_sc.get`, :mod:`idtrack_sc.pl`, the compatibility layer, the command line).
The outcome and reason vocabulary is the resolver's (:mod:`idtrack_sc.resolve`), not a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..resolve import REASON_OUTCOMES

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

#: Outcomes in the order they are reported: mapped, ambiguous, failed.
OUTCOME_ORDER = ("1:1", "1:n", "1:0")
#: Reasons that only occur with outcome ``1:0``; every other reason is a success (``1:1``/``1:n``).
FAILURE_REASONS = tuple(reason for reason, outcome in REASON_OUTCOMES.items() if outcome == "1:0")
#: Reason written for each copy of an ambiguous feature kept under every candidate (``ambiguous="all"``).
AMBIGUOUS_EXPANDED = "ambiguous_expanded"
#: Reason of a feature whose two identifier columns name different genes, kept as a tie of both
#: (``pair_conflict="tie"`` of :func:`~idtrack_sc.pp.harmonize_var_names`; outcome ``1:n``).
PAIR_CONFLICT = "pair_conflict"
#: Per-feature agreement of the two columns (``var['{key_added}_pair']``).
PAIR_STATUS = {
    "agree": "both columns name the same gene(s)",
    "disagree": "both name genes, different ones: a conflict, handled by pair_conflict (default: a tie of both)",
    "tie_broken": "the ID is ambiguous; the symbol names one of its candidates, which is used",
    "id_only": "only the ID column names a gene at the target release (used); the symbol names none",
    "symbol_only": (
        "only the symbol column names a gene; used when the ID is unknown to the snapshot, "
        "otherwise the ID's failure stands"
    ),
    "symbol_missing": "the symbol column is empty for this feature; the ID's answer (or failure) is used",
    "id_missing": "the ID column is empty for this feature; the symbol's answer (or failure) is used",
    "neither": "neither column names a gene",
}
#: Appended by :func:`~idtrack_sc.concat_harmonized` to the name of a feature kept unmapped whose
#: identifier is a valid target name of another gene (``SOD2`` read in release 75 names a retired
#: gene; today's ``SOD2`` is another): the two are kept as separate features.
KEPT_APART_SUFFIX = "~unmapped"

#: pandas' default dtype for text (``str`` under pandas 3, ``object`` before): what ``read_h5ad`` returns.
TEXT = pd.Series(["x"]).dtype
#: Categories of ``var['{key_added}_outcome']``.
OUTCOMES = pd.Index(list(OUTCOME_ORDER), dtype=TEXT)

#: Keys of the record :func:`~idtrack_sc.pp.harmonize_var_names` writes to ``uns[key_added]``,
#: with their content; those marked "when" are written only then. ``tests/record`` checks a
#: real record against this table, and the docs render it (``docs/reproducibility.md``).
RECORD_KEYS: dict[str, str] = {
    "function": "the function that wrote the record: `idtrack_sc.pp.harmonize_var_names`",
    "params": "every argument that shaped the result (see the next table)",
    "snapshot": "the snapshot's identity: organism, assembly, covered releases, newest release, schema version, "
    "SHA-256, file name and the idtrack-sc version that built it",
    "counts": "features before and after; per outcome, reason and outcome-and-reason; dropped (and by which "
    "policy), kept unmapped, copies of ambiguous features, merged groups and features, names made unique; "
    "per pair status with two identifier columns",
    "versions": "versions of idtrack-sc and of the packages that shape the result",
    "date": "when the record was written (UTC, ISO 8601)",
    "environment": "a session-info report: Python, platform, packages",
    "release": "how names were read: `from_release` as given, the inferred annotation release with its "
    "evidence (`inferred`), and `anchor_release`, the release whose meaning was used",
    "dropped_ids": "the identifiers of the features left out",
    "dropped_outcomes": "their outcomes",
    "dropped_reasons": "their reasons",
    "dropped_targets": "their candidates, `|`-joined",
    "dropped_by": "the policy that left each out: `ambiguous`, `unmapped` or `duplicates`",
    "dtype_promoted": "matrices whose merged features were summed in a wider dtype (`int32 -> int64`)",
    "raw": "what became of `.raw`: `none`, `harmonized` or `unchanged`",
    "raw_counts": "when `.raw` was harmonized: its counts, as `counts`",
    "raw_dropped_ids": "when `.raw` was harmonized: its dropped identifiers",
    "uns_updated": "`uns` entries whose feature names were renamed (`entry`, `renamed`, `absent`)",
    "pair_disagreements": "with two identifier columns: every feature whose columns name different genes "
    "(`original`, `paired`, `gene_id`, `pair_gene_id`)",
    "kept_apart": "when a kept failed identifier is another gene's name: `original`, `name`, `reason`",
    "applied_record": "when written by `apply_record`: the function, date and idtrack-sc version of the record applied",
}
#: Keys of :data:`RECORD_KEYS` written only in some cases.
OPTIONAL_RECORD_KEYS = ("raw_counts", "raw_dropped_ids", "pair_disagreements", "kept_apart", "applied_record")
#: ``params`` of a record, with their meaning.
RECORD_PARAMS: dict[str, str] = {
    "to": "the target namespace",
    "release": "the target release",
    "id_key": 'the `var` column the identifiers were read from (`""`: `var_names`)',
    "ambiguous": "the policy for `1:n` features",
    "unmapped": "the policy for `1:0` features",
    "duplicates": "the policy for features meeting on one name",
    "symbol_key": "the `var` column of the display symbols",
    "strategy": "the ranking strategy that follows from `ambiguous`: `best` or `all`",
    "min_evidence": "the weakest inferred-lineage evidence followed",
    "from_release": 'the annotation release as given: `auto`, a release, or `""` (none)',
    "pair_key": 'the second identifier column used (`""`: none)',
    "pair_conflict": "the policy for features whose two columns name different genes",
}

#: Keys of a :func:`~idtrack_sc.concat_harmonized` record beyond those of every record.
CONCAT_KEYS = (
    "datasets",
    "sources",
    "provenance",
    "failed",
    "failed_consistent",
    "ambiguous",
    "collapsed",
    "n_vars",
    "kept_apart",
    "not_concatenated",
)


def var_columns(key_added: str) -> dict[str, str]:
    """Names of the ``var`` columns written by :func:`~idtrack_sc.pp.harmonize_var_names`."""
    return {
        "original": f"{key_added}_original",
        "outcome": f"{key_added}_outcome",
        "reason": f"{key_added}_reason",
        "original_reason": f"{key_added}_original_reason",
        "targets": f"{key_added}_targets",
        "gene_id": f"{key_added}_gene_id",
        "n_merged": f"{key_added}_n_merged",
        "pair": f"{key_added}_pair",
        "pair_gene_id": f"{key_added}_pair_gene_id",
        "original_var_name": f"{key_added}_original_var_name",
    }


def n_datasets_column(key_added: str) -> str:
    """The ``var`` column of a :func:`~idtrack_sc.concat_harmonized` result counting the datasets with the feature."""
    return f"{key_added}_n_datasets"


def presence_key(key_added: str) -> str:
    """The ``varm`` key of a :func:`~idtrack_sc.concat_harmonized` result's presence matrix.

    Features × datasets, boolean, one column per dataset (named by :func:`uns_key`): whether
    the dataset measured the feature. An outer join fills a feature a dataset lacks with
    zeros; this matrix tells those apart from measured zeros.
    """
    return f"{key_added}_presence"


def is_harmonized(data: AnnData | MuData, key_added: str = "idtrack") -> bool:
    """Whether ``data`` was already harmonized under ``key_added``.

    An AnnData is when it holds the record (``uns[key_added]``) and the original identifiers
    (``var['{key_added}_original']``); a MuData when its record lists harmonized modalities and
    every one of them is.
    """
    mods = getattr(data, "mod", None)
    if mods is not None:  # a MuData (not imported here)
        record = data.uns.get(key_added)
        names = [str(m) for m in record.get("modalities", [])] if hasattr(record, "get") else []
        return bool(names) and all(m in mods and is_harmonized(mods[m], key_added) for m in names)
    return key_added in data.uns and var_columns(key_added)["original"] in data.var.columns


def already_harmonized(label: str, key_added: str) -> ValueError:
    """The one error for harmonizing data again under the same ``key_added`` (every entry point raises it).

    Never a silent no-op: the new arguments (another release, namespace or policy) would be
    ignored while the data stayed as they were.
    """
    msg = (
        f"{label} was already harmonized (uns[{key_added!r}] exists); nothing was changed. To convert it "
        f"again, convert from its original identifiers with id_key='{key_added}_original' and another "
        "key_added; to treat other data the same way, use idtrack_sc.pp.apply_record with its record."
    )
    return ValueError(msg)


def uns_key(name: object) -> str:
    """A name usable as an ``uns`` key: ``/`` (a group separator in ``.h5ad``/zarr) becomes ``_``, empty ``_``.

    Dataset names of a concatenation are stored under this key in the record's
    ``provenance``, ``failed`` and ``collapsed`` mappings.
    """
    return str(name).replace("/", "_") or "_"
