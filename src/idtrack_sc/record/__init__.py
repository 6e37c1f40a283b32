"""The harmonization record: the contract between the writer (``pp``) and every reader.

:func:`~idtrack_sc.pp.harmonize_var_names` and :func:`~idtrack_sc.concat_harmonized` write
what happened to each feature into ``var`` columns named by :func:`var_columns` and a record
into ``uns[key_added]`` made by :func:`make_record`; :func:`collect` reads any harmonized
object back (used by :mod:`idtrack_sc.get`, :mod:`idtrack_sc.pl`, :mod:`idtrack_sc.report`,
the compatibility layer and the command line). Outcomes and reasons are the resolver's
(``idtrack_sc.resolve.REASON_OUTCOMES``).

Layering: above :mod:`idtrack_sc.resolve` (whose vocabulary it uses), below ``pp``.
"""

from ._identifiers import MAPPING_COLUMNS, MAPPING_OUTCOMES, MERGED, identifier_table
from ._read import Dataset, Harmonized, as_str, collect, json_safe, outcome_reason_counts, spreadsheet_safe
from ._schema import (
    AMBIGUOUS_EXPANDED,
    CONCAT_KEYS,
    FAILURE_REASONS,
    KEPT_APART_SUFFIX,
    OPTIONAL_RECORD_KEYS,
    OUTCOME_ORDER,
    OUTCOMES,
    PAIR_CONFLICT,
    PAIR_STATUS,
    RECORD_KEYS,
    RECORD_PARAMS,
    TEXT,
    already_harmonized,
    is_harmonized,
    n_datasets_column,
    presence_key,
    uns_key,
    var_columns,
)
from ._write import clean, make_record, snapshot_record

__all__ = [
    "AMBIGUOUS_EXPANDED",
    "CONCAT_KEYS",
    "FAILURE_REASONS",
    "KEPT_APART_SUFFIX",
    "MAPPING_COLUMNS",
    "MAPPING_OUTCOMES",
    "MERGED",
    "OUTCOMES",
    "OUTCOME_ORDER",
    "PAIR_CONFLICT",
    "OPTIONAL_RECORD_KEYS",
    "PAIR_STATUS",
    "RECORD_KEYS",
    "RECORD_PARAMS",
    "TEXT",
    "Dataset",
    "Harmonized",
    "already_harmonized",
    "as_str",
    "clean",
    "collect",
    "is_harmonized",
    "identifier_table",
    "json_safe",
    "make_record",
    "n_datasets_column",
    "presence_key",
    "outcome_reason_counts",
    "snapshot_record",
    "spreadsheet_safe",
    "uns_key",
    "var_columns",
]
