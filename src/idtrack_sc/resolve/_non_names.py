"""Names that are no gene names: missing values written as text, positional names, common words.

A feature list is not always a list of gene names. Three kinds of strings look like
identifiers to a lookup but name no gene, and reading them as genes gives a wrong gene that
nobody asked for (``"nan"`` is an alias of SCN11A, ``"1"`` is the NCBI Gene ID of A1BG):

* **missing values written as text** (reason ``missing_value``): ``nan``, ``NaN``, ``NA``,
  ``N/A``, ``#N/A``, ``<NA>``, ``None``, ``null``, ``NaT``, ``inf``, ``-inf``, ``Infinity``, in
  any case, also with the ``-1`` / ``.1`` ending that making names unique appends
  (``nan-1``, ``NA.2``). They are never looked up.
* **positional names** (reason ``not_a_name``): the default names AnnData and pandas give
  features, ``'0'``, ``'1'``, … ``'n-1'`` (or what filtering leaves of them). A bare integer
  is read as an NCBI Gene (Entrez) ID only when the batch's bare integers are *Entrez-like*
  as a whole (:func:`positional_integers`); ``GeneID:7157`` is always an Entrez ID.
* **common words in the wrong case** (reason ``not_a_name``): ``yes``, ``no``, ``true``,
  ``all``, … (:data:`COMMON_WORDS`) written in lower case, as words are and no symbol of the
  sources is, that match a symbol only when the case is ignored (``yes`` → ``Yes``, an alias
  of YES1), in a batch whose other symbols are written the way the snapshot's sources write
  them: such a word is a value of some other column, not a gene.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._index import exact_names

if TYPE_CHECKING:
    from ..snapshot import Snapshot
    from ._resolution_index import ResolutionIndex

#: Missing values as pandas, R, spreadsheets, SQL/JSON and Python write them (upper-cased
#: keys), with an optional uniquifying ending.
MISSING_VALUE = r"^(?:NAN|NA|N/A|#N/A|<NA>|NONE|NULL|NAT|[+-]?INF(?:INITY)?)(?:[-.]\d{1,3})?$"
#: A bare (unprefixed) integer key.
BARE_INTEGER = r"^\d+$"
#: Fewer bare integers than this in a batch: too few to test them; they are Entrez IDs
#: unless one of them is 0.
MIN_INTEGERS = 20
#: Entrez-like: at least this fraction of a batch's bare integers are NCBI Gene IDs the
#: snapshot knows (a real Gene ID column resolves almost entirely; of the positional names
#: 0–19,999 about 38 % happen to be human Gene IDs).
MIN_ENTREZ_FIT = 0.8
#: Words that are values of other columns (flags, categories), upper-cased. Only a word that
#: matches a symbol when the case is ignored, and not as written, is affected.
COMMON_WORDS = frozenset(
    {
        "YES",
        "NO",
        "TRUE",
        "FALSE",
        "ALL",
        "ANY",
        "NOT",
        "ON",
        "OFF",
        "ID",
        "POS",
        "NEG",
        "SEX",
        "CELL",
        "CTRL",
        "CONTROL",
        "OTHER",
        "UNKNOWN",
        "TOTAL",
        "MT",
        "X",
        "Y",
    }
)
#: The other symbols of a batch are "in the organism's case" when at least this many are
#: found and at least this fraction of them are written exactly as the sources write them.
MIN_CASED = 10
MIN_CASE_FIT = 0.8


def missing_values(keys: pa.Array) -> np.ndarray:
    """Whether each normalized key (upper case, trimmed) is a missing value written as text."""
    return pc.fill_null(pc.match_substring_regex(keys, MISSING_VALUE), False).to_numpy(zero_copy_only=False)


def _rows_in(index: ResolutionIndex, rows: np.ndarray, namespace: str) -> np.ndarray:
    """Whether each looked-up row (``-1`` or ``index.missing`` when not found) is a key of ``namespace``."""
    found = (rows >= 0) & (rows != index.missing)
    if namespace not in index.namespaces:
        return np.zeros(len(rows), dtype=bool)
    code = index.namespaces.index(namespace)
    return found & (index.query_namespace[np.where(found, rows, index.missing)] == code)


def positional_integers(keys: pa.Array, rows: np.ndarray, index: ResolutionIndex) -> np.ndarray:
    """The bare integers of a batch that are no Entrez IDs (reason ``not_a_name``).

    A batch's bare integers are *Entrez-like* (read as NCBI Gene IDs) when, with at least
    :data:`MIN_INTEGERS` of them, at least :data:`MIN_ENTREZ_FIT` (80 %) are Gene IDs the
    snapshot knows, or, with fewer, none of them is ``0``, and they are not all small enough
    to be positions in the batch (none above its length: ``["1", "nan", "NA"]`` is a
    numbering, not A1BG). Otherwise they are positional
    names (``'0'`` … ``'n-1'``, or a filtered subset) or some other numbering, and none of
    them is read as a gene. ``0`` is never an Entrez ID (NCBI's numbering starts at 1).

    Parameters
    ----------
    keys
        Normalized keys of the whole batch.
    rows
        Each key's row in ``index`` as first looked up (``-1`` not found; ``index.missing``
        not looked up).
    index
        The resolution index the batch is answered from.
    """
    ints = pc.fill_null(pc.match_substring_regex(keys, BARE_INTEGER), False).to_numpy(zero_copy_only=False)
    if not ints.any():
        return ints
    at = np.flatnonzero(ints)
    values = keys.take(at)
    zero = pc.match_substring_regex(values, r"^0+$").to_numpy(zero_copy_only=False)
    if _numbered_by_position(values, len(keys)):
        entrez_like = False
    elif len(at) < MIN_INTEGERS:
        entrez_like = not zero.any()
    else:
        entrez_like = _rows_in(index, rows[at], "entrez").mean() >= MIN_ENTREZ_FIT
    if entrez_like:
        out = np.zeros(len(ints), dtype=bool)
        out[at[zero]] = True
        return out
    return ints


def _numbered_by_position(values: pa.Array, batch_length: int) -> bool:
    """Whether every bare integer could be a position in the batch, counted from 0 or from 1.

    AnnData and pandas number unnamed features ``'0'`` … ``'n-1'``, R ``'1'`` … ``'n'``: such
    a column is a numbering even when it is short (``["1", "nan", "NA"]``), never Gene IDs.
    The test looks at the values only, not at where they stand, so that the answers do not
    depend on the order of the batch (``["TP53", "1"]`` and ``["1", "TP53"]`` agree): a batch
    of ``n`` queries whose bare integers are all at most ``n`` is a numbering. Real Gene ID
    columns of any size reach far beyond their length (NCBI's IDs run to the hundreds of
    millions), so only tiny IDs in tiny batches (``["1", "2"]``) are given up, and those are
    ambiguous anyway.
    """
    if len(values) == 0 or pc.max(pc.utf8_length(values)).as_py() > 18:  # beyond int64
        return False
    numbers = pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False)
    return bool(numbers.max() <= batch_length)


def case_only_words(
    keys: pa.Array, given: pa.Array, rows: np.ndarray, index: ResolutionIndex, snapshot: Snapshot
) -> np.ndarray:
    """Lower-case common words found only because lookups ignore case, in a batch cased as the sources.

    Parameters
    ----------
    keys
        Normalized keys of the batch.
    given
        The queries as given, aligned with ``keys``.
    rows, index
        As for :func:`positional_integers`.
    snapshot
        The snapshot whose sources' spelling of symbols is the reference.
    """
    words = pc.fill_null(pc.is_in(keys, value_set=pa.array(sorted(COMMON_WORDS))), False)
    words = words.to_numpy(zero_copy_only=False)
    none = np.zeros(len(rows), dtype=bool)
    if not words.any():
        return none
    symbols = _rows_in(index, rows, "symbol")
    names = exact_names(snapshot)

    def written_exactly(at: np.ndarray) -> np.ndarray:
        written = pc.utf8_trim_whitespace(given.take(pa.array(at))).to_numpy(zero_copy_only=False)
        return names.get_indexer(written.astype(object)) >= 0

    # written as a word (lower case), which no source writes a symbol in
    lower = pc.fill_null(pc.utf8_is_lower(given), False).to_numpy(zero_copy_only=False)
    at = np.flatnonzero(words & symbols & lower)
    at = at[~written_exactly(at)] if len(at) else at
    others = np.flatnonzero(symbols & ~words)
    if len(at) == 0 or len(others) < MIN_CASED:
        return none
    # how the other symbols are written: a sample is enough
    sample = others[np.unique(np.linspace(0, len(others) - 1, min(len(others), 1000)).astype(np.int64))]
    if written_exactly(sample).mean() < MIN_CASE_FIT:
        return none
    none[at] = True
    return none
