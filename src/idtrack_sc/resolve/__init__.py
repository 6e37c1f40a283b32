"""The resolver: any identifier, any release, any namespace — whole batches, explained.

Stages (``docs/architecture.md``): :mod:`._parse` reads query strings into keys;
:mod:`._key_index` finds the rows of the snapshot's key table a batch reaches;
:mod:`._index` resolves those rows, per release and namespace (anchor → time travel → target
→ classify; its ``build_index`` does the same for every key, as a reference);
:mod:`._ties` and :mod:`._non_names` turn conflicting readings into ties and non-names into
explicit failures; :mod:`._convert` answers a batch; :mod:`._explain` shows the path behind
one answer.

Besides the public functions, this is what the layers above use (``pp``, ``compat``, the
command line; see ``docs/architecture.md``): argument checks (``check_from_release``,
``check_min_evidence``, ``DEFAULT_MIN_EVIDENCE``), query parsing
(``as_query_strings``), the organism check (``check_organism``, ``organism_fit``,
``OrganismMismatchError``), the reasons of non-names (``NON_NAME_REASONS``), assembly facts (``assembly_of``, ``assembly_number``,
``MIN_FIT``, ``MIN_EVIDENCE``), ``versioned_ids`` and the per-snapshot cache (``snapshot_cache``).
"""

from ._convert import COLUMNS, check_from_release, convert, summarize
from ._explain import Explanation, explain
from ._graph import assembly_number, history_graph, versioned_ids
from ._index import DEFAULT_MIN_EVIDENCE, ResolutionIndex, check_min_evidence, get_index, names_at
from ._organism import OrganismMismatchError, check_organism, organism_fit
from ._orthologs import (
    HOMOLOGENE_TAXA,
    NO_ORTHOLOG_SOURCE,
    ORTHOLOG_REASONS,
    NoOrthologSourceError,
    check_ortholog_pair,
    convert_orthologs,
    homologene,
)
from ._parse import as_query_strings
from ._release import MIN_EVIDENCE, MIN_FIT, ReleaseInference, assembly_of, infer_release
from ._snapshot_cache import snapshot_cache
from ._vocab import NON_NAME_REASONS, OUTCOMES, PARSE_NOTES, REASON_OUTCOMES, REASONS, canonical_namespace

__all__ = [
    "COLUMNS",
    "DEFAULT_MIN_EVIDENCE",
    "HOMOLOGENE_TAXA",
    "MIN_EVIDENCE",
    "MIN_FIT",
    "NO_ORTHOLOG_SOURCE",
    "NON_NAME_REASONS",
    "ORTHOLOG_REASONS",
    "OUTCOMES",
    "PARSE_NOTES",
    "REASONS",
    "REASON_OUTCOMES",
    "Explanation",
    "NoOrthologSourceError",
    "OrganismMismatchError",
    "ReleaseInference",
    "ResolutionIndex",
    "as_query_strings",
    "assembly_number",
    "assembly_of",
    "canonical_namespace",
    "check_from_release",
    "check_min_evidence",
    "check_ortholog_pair",
    "check_organism",
    "convert",
    "convert_orthologs",
    "explain",
    "get_index",
    "history_graph",
    "homologene",
    "infer_release",
    "names_at",
    "organism_fit",
    "snapshot_cache",
    "summarize",
    "versioned_ids",
]
