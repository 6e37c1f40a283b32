"""The snapshot's keys: which key a query is, and the key-table rows it has.

Read once per snapshot and session from the snapshot's key table
(:meth:`idtrack_sc.Snapshot.key_table`, stored in schema-3 files). A key's *code* is the row
position of its first row in the key table (rows are sorted by key), so codes sort like keys.
Key membership (the ``reinterpret`` retry path of :func:`~idtrack_sc.convert`) and the rows a
batch of queries reaches are read from here, so no query waits for any target to be resolved.

Two ways to find keys, with the same answers: the first batches of a session are matched by
one scan of the key column against the batch's distinct queries (Arrow, no per-key setup);
once a session has asked for many keys, a hash table of every key's 64-bit hash is built
(a few tenths of a second) and later batches are looked up in it, several times faster per
query.
"""

from __future__ import annotations

import logging
import threading
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
#: A session scans the key column until it has asked for this many keys, then builds the hash table.
SCAN_UNTIL = 60_000


def _runs_of(keys: pa.Array) -> np.ndarray:
    """Where each run of equal values starts in a sorted string array (boolean per row)."""
    n = len(keys)
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = pc.not_equal(keys.slice(1), keys.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    return change


class KeyIndex:
    """The key table of a snapshot, and its keys found by code (first row of the key)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.key = table["key"].combine_chunks()
        self.namespaces = sorted(str(v) for v in pc.unique(table["namespace"]).to_pylist() if v is not None)
        self._starts: np.ndarray | None = None
        self._hashes: pd.Index | None = None
        self._asked = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """The number of possible codes (rows of the key table)."""
        return len(self.key)

    def all_codes(self) -> np.ndarray:
        """The code of every key, in key order."""
        if self._starts is None:
            self._starts = np.flatnonzero(_runs_of(self.key))
        return self._starts

    def key_strings(self, codes: np.ndarray) -> np.ndarray:
        """The keys of ``codes`` as an object array of ``str``."""
        return np.asarray(self.key_array(codes).to_numpy(zero_copy_only=False), dtype=object)

    def key_array(self, codes: np.ndarray) -> pa.Array:
        """The keys of ``codes`` as an Arrow array."""
        return self.key.take(pa.array(codes, type=pa.int64()))

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Codes of ``keys`` (object array of ``str``), ``-1`` where a key is not in the snapshot."""
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        with self._lock:
            self._asked += len(keys)
            hashes = self._hashes
            if hashes is None and self._asked > SCAN_UNTIL:
                hashes = self._hashes = self._hash_table()
        return self._scan(keys) if hashes is None else self._probe(hashes, keys)

    def _scan(self, keys: np.ndarray) -> np.ndarray:
        """Codes of ``keys`` by one pass over the key column."""
        asked = pa.array(keys, type=pa.string())
        rows = np.flatnonzero(pc.is_in(self.key, value_set=pc.unique(asked)).to_numpy(zero_copy_only=False))
        found = self.key.take(pa.array(rows, type=pa.int64()))
        first = _runs_of(found)
        at = pc.fill_null(pc.index_in(asked, value_set=found.filter(pa.array(first))), -1).to_numpy()
        codes = rows[first]
        return np.where(at >= 0, codes[np.maximum(at, 0)] if len(codes) else -1, -1).astype(np.int64)

    def _hash_table(self) -> pd.Index:
        """64-bit hashes of every key in an integer hash table (hashed in slices)."""
        start = time.perf_counter()
        codes = self.all_codes()
        hashes = np.empty(len(codes), dtype=np.int64)
        for at in range(0, len(codes), _SLICE):
            hashes[at : at + _SLICE] = hash_keys(self.key_strings(codes[at : at + _SLICE]))
        table = pd.Index(hashes)
        if not table.is_unique:  # pragma: no cover - a 64-bit collision between two keys
            msg = "Two snapshot keys share a 64-bit hash; please report this snapshot."
            raise RuntimeError(msg)
        logger.debug("hash table of %d keys in %.2f s", len(codes), time.perf_counter() - start)
        return table

    def _probe(self, hashes: pd.Index, keys: np.ndarray) -> np.ndarray:
        """Codes of ``keys`` through the hash table, then compared as strings (no collision can answer)."""
        found = hashes.get_indexer(hash_keys(keys)).astype(np.int64, copy=False)
        hit = np.flatnonzero(found >= 0)
        codes = np.full(len(keys), -1, dtype=np.int64)
        if len(hit):
            cand = self.all_codes()[found[hit]]
            same = pc.equal(self.key_array(cand), pa.array(keys[hit], type=pa.string())).to_numpy(zero_copy_only=False)
            codes[hit[same]] = cand[same]
        return codes

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Boolean membership of keys."""
        return self.lookup(keys) >= 0

    def rows(self, codes: np.ndarray | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The key-table rows of the keys ``codes`` (sorted, unique; every key if ``None``) as columns.

        Also returns each row's local code: the position of its key in ``codes``.
        """
        if codes is None:
            sub = self.table
            local = np.cumsum(_runs_of(self.key)) - 1
        else:
            wanted = self.key_array(codes)
            positions = np.flatnonzero(pc.is_in(self.key, value_set=wanted).to_numpy(zero_copy_only=False))
            sub = self.table.take(pa.array(positions, type=pa.int64()))
            local = np.cumsum(_runs_of(sub["key"].combine_chunks())) - 1
        columns = {}
        for name in sub.column_names:
            values = sub[name]
            if pa.types.is_integer(values.type):
                columns[name] = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
            else:
                if pa.types.is_dictionary(values.type):
                    values = values.cast(values.type.value_type)
                columns[name] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        return columns, local.astype(np.int64)


@cached_per_snapshot
def key_index(snapshot: Snapshot) -> KeyIndex:
    """The :class:`KeyIndex` of a snapshot (once per session)."""
    start = time.perf_counter()
    out = KeyIndex(snapshot.key_table())
    logger.debug("key table of %d rows read in %.2f s", len(out), time.perf_counter() - start)
    return out
