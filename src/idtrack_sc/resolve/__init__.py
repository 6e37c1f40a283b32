"""The resolver: any identifier, any release, any namespace — whole batches, explained.

Stages (DESIGN §3.3): :mod:`._parse` reads query strings into keys; :mod:`._index`
precomputes, per snapshot, release and namespace, the answer for every key the snapshot knows
(anchor → time travel → target → classify); :mod:`._convert` answers a batch by hash lookup;
:mod:`._explain` shows the path behind one answer.
"""

from ._convert import COLUMNS, convert, summarize
from ._explain import Explanation, explain
from ._graph import history_graph
from ._index import ResolutionIndex, get_index, names_at
from ._orthologs import ORTHOLOG_REASONS, convert_orthologs, homologene
from ._release import ReleaseInference, infer_release
from ._snapshot_cache import snapshot_cache
from ._vocab import OUTCOMES, PARSE_NOTES, REASON_OUTCOMES, REASONS, canonical_namespace

__all__ = [
    "COLUMNS",
    "ORTHOLOG_REASONS",
    "OUTCOMES",
    "PARSE_NOTES",
    "REASONS",
    "REASON_OUTCOMES",
    "Explanation",
    "ReleaseInference",
    "ResolutionIndex",
    "canonical_namespace",
    "convert",
    "convert_orthologs",
    "explain",
    "get_index",
    "history_graph",
    "homologene",
    "infer_release",
    "names_at",
    "snapshot_cache",
    "summarize",
]
