"""The resolver: any identifier, any release, any namespace — whole batches, explained.

Stages (DESIGN §3.3): :mod:`._parse` reads query strings into keys; :mod:`._index`
precomputes, per snapshot, release and namespace, the answer for every key the snapshot knows
(anchor → time travel → target → classify); :mod:`._convert` answers a batch by hash lookup;
:mod:`._explain` shows the path behind one answer.
"""

from ._convert import COLUMNS, convert, summarize
from ._explain import Explanation, explain, history_graph
from ._index import ResolutionIndex, get_index, names_at
from ._release import ReleaseInference, infer_release
from ._vocab import OUTCOMES, PARSE_NOTES, REASON_OUTCOMES, REASONS, canonical_namespace

__all__ = [
    "COLUMNS",
    "OUTCOMES",
    "PARSE_NOTES",
    "REASONS",
    "REASON_OUTCOMES",
    "Explanation",
    "ReleaseInference",
    "ResolutionIndex",
    "canonical_namespace",
    "convert",
    "explain",
    "get_index",
    "history_graph",
    "infer_release",
    "names_at",
    "summarize",
]
