"""The :class:`ResolutionIndex`: the answers for a set of keys of a snapshot, for one target.

Built by :mod:`idtrack_sc.resolve._index` (for every key, or for the keys a session's batches
reached) and read by :mod:`idtrack_sc.resolve._convert`; it depends on neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def hash_keys(keys: np.ndarray) -> np.ndarray:
    """64-bit hashes of string keys (vectorized, platform-independent)."""
    return pd.util.hash_array(keys, categorize=False).view(np.int64)


@dataclass
class ResolutionIndex:
    """Answers for keys of a snapshot (all of them, or those resolved so far), for one target release and namespace.

    Per-key arrays have one extra last row, the answer for a key that is not found, so a
    batch is answered by one ``take`` per column. Keys are found through 64-bit hashes in an
    integer hash table (fast and cache-friendly) and then compared as strings, so a hash
    collision can never return a wrong row.
    """

    release: int
    namespace: str
    keys: pa.Array  # upper-case identifiers, unique
    hashes: pd.Index  # int64 hashes of keys, same order
    note: np.ndarray  # int8 code into PARSE_NOTES: "version_stripped" for ENSG….18 keys
    query_namespace: np.ndarray  # int8 code into namespaces
    namespaces: list[str]
    n_targets: np.ndarray
    targets: pa.Array  # "|"-joined, ranked
    top: pa.Array  # first ranked target ("" if none)
    breakable: np.ndarray  # bool: the ranking rule separates the first from the second
    genes: pa.Array  # "|"-joined Ensembl genes behind the ranked targets
    symbol: pa.Array  # display symbol of the top target gene at the target release
    reason: np.ndarray  # int8 code into REASON_CODES
    found_first: np.ndarray  # float, NaN = unknown
    found_last: np.ndarray
    retired_in: np.ndarray
    lost: pa.Array  # anchored genes that did not survive, when others did ("|"-joined)
    anchor_release: int | None = None  # names read in this release's meaning (None: the target's)

    @property
    def missing(self) -> int:
        """Row position of the "not found" answer."""
        return len(self.keys)

    def lookup(self, keys: np.ndarray, as_arrow: pa.Array | None = None) -> np.ndarray:
        """Positions of keys (object array of ``str``, no nulls), ``-1`` where absent.

        ``as_arrow`` may give the same keys as an Arrow array, to save a conversion.
        """
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        found = self.hashes.get_indexer(hash_keys(keys)).astype(np.int64)
        hit = np.flatnonzero(found >= 0)
        if len(hit):
            cand = self.keys.take(pa.array(found[hit]))
            hit_keys = pa.array(keys[hit], type=pa.string()) if as_arrow is None else as_arrow.take(pa.array(hit))
            same = pc.equal(cand, hit_keys).to_numpy(zero_copy_only=False)
            found[hit[~same]] = -1
        return found

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Boolean membership of keys."""
        return self.lookup(keys) >= 0
