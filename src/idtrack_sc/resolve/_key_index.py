"""The snapshot's keys as a hash index: which key a query is, and the key table rows it has.

Built once per snapshot and session from the snapshot's key table
(:meth:`idtrack_sc.Snapshot.key_table`, stored in schema-3 files): the unique keys in sorted
order, their 64-bit hashes in an integer hash table, and where each key's rows start. Key
membership (the ``reinterpret`` retry path of :func:`~idtrack_sc.convert`) and the rows a batch
of queries reaches are read from here, so no query waits for any target to be resolved.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._resolution_index import hash_keys
from ._snapshot_cache import cached_per_snapshot

if TYPE_CHECKING:
    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

_SLICE = 1 << 16


class KeyIndex:
    """Unique keys of a snapshot (sorted), their hashes and their rows in the key table."""

    def __init__(self, table: pa.Table) -> None:
        key = table["key"].combine_chunks()
        n = len(key)
        change = np.ones(n, dtype=bool)
        if n > 1:
            change[1:] = pc.not_equal(key.slice(1), key.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        self.starts = np.flatnonzero(change)
        self.counts = np.diff(np.append(self.starts, n))
        self.table = table
        self.keys_arrow = key.take(pa.array(self.starts))
        # 64-bit hashes in an integer hash table: hashing a batch of new query strings and
        # looking the integers up is several times faster than a hash table of Python strings.
        # Hashed in slices: the keys as Python strings are never all in memory at once.
        hashes = np.empty(len(self.keys_arrow), dtype=np.int64)
        for at in range(0, len(hashes), _SLICE):
            part = self.keys_arrow.slice(at, _SLICE).to_numpy(zero_copy_only=False)
            hashes[at : at + len(part)] = hash_keys(np.asarray(part, dtype=object))
        self.hashes = pd.Index(hashes)
        if not self.hashes.is_unique:  # pragma: no cover - a 64-bit collision between two keys
            msg = "Two snapshot keys share a 64-bit hash; please report this snapshot."
            raise RuntimeError(msg)
        self.namespaces = sorted(str(v) for v in pc.unique(table["namespace"]).to_pylist() if v is not None)

    def __len__(self) -> int:
        return len(self.keys_arrow)

    def key_strings(self, codes: np.ndarray) -> np.ndarray:
        """The keys of ``codes`` as an object array of ``str``."""
        return np.asarray(self.keys_arrow.take(pa.array(codes)).to_numpy(zero_copy_only=False), dtype=object)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Key codes (positions in the sorted keys) of ``keys`` (object array of ``str``), ``-1`` where absent.

        Found through the 64-bit hashes, then compared as strings, so a hash collision can
        never return a wrong key.
        """
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        found = self.hashes.get_indexer(hash_keys(keys)).astype(np.int64, copy=False)
        hit = np.flatnonzero(found >= 0)
        if len(hit):
            same = pc.equal(self.keys_arrow.take(pa.array(found[hit])), pa.array(keys[hit], type=pa.string()))
            found[hit[~same.to_numpy(zero_copy_only=False)]] = -1
        return found

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Boolean membership of keys."""
        return self.lookup(keys) >= 0

    def rows(self, codes: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The key-table rows of the keys ``codes`` (sorted, unique) as columns, and each row's local code.

        The local code of a row is the position of its key in ``codes``.
        """
        counts = self.counts[codes]
        total = int(counts.sum())
        local = np.repeat(np.arange(len(codes), dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        positions = self.starts[codes][local] + within
        sub = self.table if total == self.table.num_rows else self.table.take(pa.array(positions))
        columns = {}
        for name in sub.column_names:
            values = sub[name]
            if pa.types.is_integer(values.type):
                columns[name] = values.to_numpy().astype(float) if values.null_count == 0 else _floats(values)
            else:
                if pa.types.is_dictionary(values.type):
                    values = values.cast(values.type.value_type)
                columns[name] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        return columns, local


def _floats(values: pa.ChunkedArray) -> np.ndarray:
    """Integers with nulls as a float array with NaN."""
    return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False).astype(float)


@cached_per_snapshot
def key_index(snapshot: Snapshot) -> KeyIndex:
    """The :class:`KeyIndex` of a snapshot (once per session)."""
    start = time.perf_counter()
    out = KeyIndex(snapshot.key_table())
    logger.debug("key index of %d keys in %.2f s", len(out), time.perf_counter() - start)
    return out
