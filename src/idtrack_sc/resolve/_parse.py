"""Stage 1 of resolution: read real-world feature names into lookup keys.

Everything here works on whole arrays. :func:`normalize` turns any input into trimmed,
upper-cased keys (the hot path); :func:`reinterpret` is applied only to the queries whose key
was not found, and proposes another key with a note saying how it was read.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..snapshot import fold_case

if TYPE_CHECKING:
    from collections.abc import Callable

#: An Ensembl stable ID (any species prefix) with optional version and GENCODE PAR_Y suffix.
_ENSEMBL_ID_VEC = r"^(?P<base>ENS[A-Z]*[GTPE]\d{11})(?:\.(?P<version>\d+))?(?P<par>_PAR_Y)?$"
#: A RefSeq accession with its version: ``NM_000546.6``.
_REFSEQ_VERSION = r"^(?P<base>[ANXWY][MRP]_\d+)\.(?P<version>\d+)$"
#: ``GeneID:7157``, ``Entrez:7157``, ``NCBIGene:7157``.
_ENTREZ_PREFIX = r"^(?:GENEID|ENTREZ|ENTREZGENE|NCBIGENE|NCBI)[:_](?P<id>\d+)$"
#: A symbol made unique with an Ensembl ID: ``DDX11L2_ENSG00000290825``.
_SYMBOL_WITH_ID = r"^.+?[_\-\.|](?P<id>ENS[A-Z]*G\d{11})(?:\.\d+)?$"
#: A symbol made unique by anndata / Seurat (``TBCE-1``) or R's make.unique (``TBCE.1``).
_UNIQUE_SUFFIX = r"^(?P<base>.*[A-Z].*?)[\-\.](?P<n>\d{1,3})$"

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: How spreadsheets write a month: abbreviated or in full (never another word: MARLIN-1 is no date).
_MONTH_SPELLINGS = (
    "JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|SEPT|OCTOBER|NOVEMBER|DECEMBER|" + "|".join(_MONTHS)
)
_YEAR = r"(?:[-/ ](?:\d{2}|\d{4}))?"
#: Every form a spreadsheet writes a date in, with a month name (``1-Mar``, ``01-Mar-24``,
#: ``Mar-01``, ``1 March``) or in digits: month or day first (``3/1``, ``03/01``, ``03-1``,
#: ``1/3/2024``: month-first in US locales, day-first in most others), ``1.3.2024`` (day first,
#: as German locales write it) and ISO ``2024-03-01``. A separator is required: ``MAR1`` is a
#: name, not a date.
_DATE = re.compile(
    r"^(?:(?P<d1>\d{1,2})[-/ ](?P<m1>"
    + _MONTH_SPELLINGS
    + r")"
    + _YEAR
    + r"|(?P<m2>"
    + _MONTH_SPELLINGS
    + r")[-/ ](?P<d2>\d{1,2})"
    + r"|(?P<a>\d{1,2})[-/](?P<b>\d{1,2})(?:[-/](?:\d{2}|\d{4}))?"
    + r"|(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.\d{4}"
    + r"|\d{4}-(?P<im>\d{1,2})-(?P<id>\d{1,2}))$"
)
#: Symbol families that spreadsheets turn into dates, most likely first (Zeeberg et al. 2004;
#: Ziemann et al. 2016): MARCH1 -> 1-Mar, SEPT2 -> 2-Sep, DEC1 -> 1-Dec, OCT4 -> 4-Oct.
DATE_PREFIXES = {
    "JAN": ("JAN",),
    "FEB": ("FEB",),
    "MAR": ("MARCH", "MARC", "MAR"),
    "APR": ("APR",),
    "MAY": ("MAY",),
    "JUN": ("JUN",),
    "JUL": ("JUL",),
    "AUG": ("AUG",),
    "SEP": ("SEPT", "SEP"),
    "OCT": ("OCT",),
    "NOV": ("NOV",),
    "DEC": ("DEC",),
}


#: Month number of every spelling a spreadsheet writes (``MARCH``, ``MAR``, ``SEPT``, ...).
_MONTH_NUMBER = {spelling: _MONTHS.index(spelling[:3]) + 1 for spelling in _MONTH_SPELLINGS.split("|")}
#: Candidate symbol prefixes per month number, as a (12 + 1) x 3 table ("" = none).
_PREFIX_TABLE = np.array([["", "", ""]] + [[*DATE_PREFIXES[m], "", "", ""][:3] for m in _MONTHS], dtype=object)


def _numbers(values: np.ndarray) -> np.ndarray:
    """Digit strings as integers; ``""`` (a group that did not take part) as 0."""
    out = np.zeros(len(values), dtype=np.int64)
    has = values != ""
    if has.any():
        out[has] = values[has].astype(np.int64)
    return out


def _month_days(groups: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (month, day) readings of the date strings, in order of preference, as arrays.

    A numeric date is read month first and then day first: ``3/9`` is 9 March in US locales
    (MARCH9) and 3 September elsewhere (SEPT3). HGNChelper's map (``mog_map.csv``) holds the
    month-first reading only; both are kept here, since a spreadsheet's locale is not known
    from the string, so such a string from two symbols is a tie, not a guess. Impossible
    readings have month 0.
    """
    named = np.where(groups["m1"] != "", groups["m1"], groups["m2"])
    month = pd.Series(named, dtype=object).map(_MONTH_NUMBER).fillna(0).to_numpy(dtype=np.int64)
    day = _numbers(groups["d1"]) + _numbers(groups["d2"])
    first, second = _numbers(groups["a"]), _numbers(groups["b"])
    numeric = groups["a"] != ""
    month = np.where(numeric, first, month) + _numbers(groups["dm"]) + _numbers(groups["im"])
    day = np.where(numeric, second, day) + _numbers(groups["dd"]) + _numbers(groups["id"])
    day_first_month = np.where(numeric, second, 0)  # the second reading exists for numeric dates only
    return [(month, day), (day_first_month, np.where(numeric, first, 0))]


def date_candidates(keys: np.ndarray, arr: pa.Array | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every symbol a spreadsheet may have turned into each date-like key (vectorized).

    Returns ``(rows, candidates)``: positions into ``keys`` and the candidate symbols, every
    reading of a key in order of preference (``1-MAR`` -> ``MARCH1``, ``MARC1``, ``MAR1``).
    ``arr``: the same keys as an Arrow array, if at hand.
    """
    arr = pa.array(keys, type=pa.string()) if arr is None else arr
    dates = np.flatnonzero(_matches(arr, _DATE.pattern))
    if not len(dates):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    matched = pc.extract_regex(arr.take(pa.array(dates)), _DATE.pattern)
    groups = {
        # a group that did not take part matches "" in RE2 (null in other engines)
        name: np.asarray(pc.fill_null(pc.struct_field(matched, name), "").to_numpy(zero_copy_only=False), dtype=object)
        for name in _DATE.groupindex
    }
    rows, names, ranks = [], [], []
    for reading, (month, day) in enumerate(_month_days(groups)):
        ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
        for k in range(3):
            prefix = _PREFIX_TABLE[np.where(ok, month, 0), k]
            has = ok & (prefix != "")
            if has.any():
                rows.append(dates[has])
                names.append(prefix[has] + day[has].astype(str).astype(object))
                ranks.append(np.full(int(has.sum()), reading * 3 + k))
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    table = pd.DataFrame({"row": np.concatenate(rows), "name": np.concatenate(names), "rank": np.concatenate(ranks)})
    table = table.sort_values(["row", "rank"], kind="stable").drop_duplicates(["row", "name"])
    return table["row"].to_numpy(dtype=np.int64), table["name"].to_numpy(dtype=object)


_SEPARATOR_NUMBER = r"[.\-]([0-9]{1,3})$"


def ends_in_number(arr: pa.Array) -> np.ndarray:
    """Which keys end in a separator and a number of up to three digits (``TBCE-1``, ``PARP.2``)."""
    return _matches(arr, _SEPARATOR_NUMBER)


def separator_free(keys: np.ndarray, arr: pa.Array | None = None, ending: np.ndarray | None = None) -> np.ndarray:
    """Each key with the separator before a final number removed (``PARP-1`` -> ``PARP1``); ``None`` where none.

    ``arr``: the keys as an Arrow array, ``ending``: :func:`ends_in_number` of them, if at hand.
    """
    arr = pa.array(keys, type=pa.string()) if arr is None else arr
    out = np.full(len(keys), None, dtype=object)
    hit = np.flatnonzero(ends_in_number(arr) if ending is None else ending)
    if len(hit):
        # a name (a letter before the separator), not a number or a date; no versioned Ensembl ID
        sub = arr.take(pa.array(hit))
        hit = hit[_matches(sub, "[A-Z]") & ~_matches(sub, r"^ENS[A-Z]*[GTPE][0-9]{11}\.")]
    if len(hit):
        out[hit] = pc.replace_substring_regex(arr.take(pa.array(hit)), _SEPARATOR_NUMBER, r"\1").to_numpy(
            zero_copy_only=False
        )
    return out


def suffix_stems(keys: np.ndarray, arr: pa.Array | None = None, ending: np.ndarray | None = None) -> np.ndarray:
    """The stem of each key ending in a uniquifying ``-N`` / ``.N`` (``TBCE-1`` -> ``TBCE``); ``None`` where none.

    The stem must hold a letter (as :data:`_UNIQUE_SUFFIX` requires). ``arr``, ``ending``: as
    for :func:`separator_free`.
    """
    arr = pa.array(keys, type=pa.string()) if arr is None else arr
    out = np.full(len(keys), None, dtype=object)
    maybe = np.flatnonzero(ends_in_number(arr) if ending is None else ending)
    if len(maybe):
        stems = pc.replace_substring_regex(arr.take(pa.array(maybe)), _SEPARATOR_NUMBER, "")
        named = _matches(stems, "[A-Z]")
        out[maybe[named]] = stems.filter(pa.array(named)).to_numpy(zero_copy_only=False)
    return out


def other_readings(
    keys: np.ndarray, arr: pa.Array | None = None, ending: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rewrites of keys that may name another gene than the key as written (vectorized).

    Every spreadsheet-date reading (:func:`date_candidates`) and the spelling without a
    separator before a final number (``PARP-1`` -> ``PARP1``). The converter compares the
    genes each reading reaches with those of the reading it took: readings that disagree
    make a tie.

    ``arr``, ``ending``: as for :func:`separator_free`.

    Returns
    -------
    ``(rows, keys, notes)``: positions into ``keys``, the rewritten keys and their parse notes.
    """
    arr = pa.array(keys, type=pa.string()) if arr is None else arr
    rows, candidates = date_candidates(keys, arr)
    joined = separator_free(keys, arr, ending)
    at = np.flatnonzero(joined != None)  # noqa: E711 - element-wise
    return (
        np.concatenate([rows, at]),
        np.concatenate([candidates, joined[at]]).astype(object),
        np.array(["date_repaired"] * len(rows) + ["separator_removed"] * len(at), dtype=object),
    )


#: Non-gene features: ERCC spike-ins, antibody capture (CITE-seq / TotalSeq), hashtags, CMOs.
NOT_A_GENE = re.compile(
    r"^(?:ERCC-\d{5}|.*TOTALSEQ.*|(?:ADT|HTO|CMO|HASHTAG|ANTIBODY)[_\-:]?.*|.*[_\-](?:ADT|HTO)|HASHTAG\d+|CMO\d{3})$"
)


def _as_object_array(values: object) -> np.ndarray:
    if isinstance(values, str | bytes):
        values = [values]
    if isinstance(values, pd.Series | pd.Index):
        arr = values.to_numpy(dtype=object, na_value=None)
    elif isinstance(values, Set | Mapping):
        msg = (
            f"Queries must be an ordered collection of identifiers, got a {type(values).__name__}: its order "
            "depends on hashing, so results would too. Pass a list, e.g. sorted(queries)."
        )
        raise TypeError(msg)
    else:
        if isinstance(values, Iterator) or (isinstance(values, Iterable) and not hasattr(values, "__len__")):
            values = list(values)  # generators and other one-pass iterables
        try:
            arr = np.asarray(values, dtype=object)
        except (TypeError, ValueError) as err:
            msg = f"Queries must be a sequence of identifiers (strings), got {type(values).__name__}: {err}"
            raise TypeError(msg) from None
    if arr.ndim != 1:
        if arr.ndim == 0:
            arr = arr.reshape(1)
        else:
            msg = f"Queries must be one-dimensional, got an array of shape {arr.shape}."
            raise ValueError(msg)
    return arr


def _coerce(value: object, position: int) -> str | None:
    """One non-string query: a missing value, a number (read as Entrez ID) or an error."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, bool | np.bool_):
        msg = f"Query at position {position} is a boolean ({value!r}), not an identifier."
        raise TypeError(msg)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return str(value)  # "inf": a missing value written as a number (reason missing_value)
        if value.is_integer():
            return str(int(value))
        msg = f"Query at position {position} is the number {value!r}, which is no identifier."
        raise TypeError(msg)
    if isinstance(value, str):
        return value
    msg = f"Query at position {position} has type {type(value).__name__} ({value!r:.60}); identifiers must be strings."
    raise TypeError(msg)


def as_query_strings(values: object) -> np.ndarray:
    """Check and convert any sequence of queries to an object array of ``str`` or ``None``.

    Strings pass unchanged; ``None``/NaN become ``None``; integers (and integral floats) are
    read as their decimal text (Entrez IDs, when the batch is Entrez-like); infinities become
    ``"inf"`` (a missing value); anything else is a :class:`TypeError` that names
    the position.
    """
    arr = _as_object_array(values)
    if len(arr) and pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr
    out = np.empty(len(arr), dtype=object)
    for i, value in enumerate(arr):
        out[i] = value if type(value) is str else _coerce(value, i)
    return out


def normalize(queries: pa.Array) -> pa.Array:
    """Trim whitespace and upper-case every query as matching does (:func:`fold_case`); nulls stay null."""
    return fold_case(pc.utf8_trim_whitespace(queries))


def _extract(keys: pa.Array, pattern: str, field: str) -> np.ndarray:
    """One named group of a regex over all keys (RE2, vectorized); ``None`` where no match."""
    matched = pc.extract_regex(keys, pattern)
    return pc.struct_field(matched, field).to_numpy(zero_copy_only=False)


def _matches(keys: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(keys, pattern), False).to_numpy(zero_copy_only=False)


def reinterpret(
    keys: np.ndarray,
    known: Callable[[np.ndarray], np.ndarray],
    in_batch: Callable[[np.ndarray], np.ndarray] | None = None,
    given: np.ndarray | None = None,
    exact: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Propose another key for queries not found as they are.

    Rules, first applicable wins: non-gene feature; Ensembl ID with version / ``_PAR_Y``;
    RefSeq accession with version (``NM_000546.6``); ``GeneID:``-style Entrez; spreadsheet date; symbol with an appended Ensembl ID;
    ``-N`` / ``.N`` ending (see below).

    A name ending in ``-N`` or ``.N`` that is not found as it is has two possible readings:
    a uniquified copy of its stem (``TBCE-1`` of ``TBCE``: anndata, Seurat and R's
    ``make.unique`` keep the first copy's name unchanged, so a copy comes with its stem in
    the same batch), or the name itself written with a separator the sources leave out
    (``ALK-3`` is ``ALK3``, an alias of BMPR1A, not a copy of ALK). Exactly one reading must
    hold: the stem in the batch and no such separator-less name -> copy
    (``suffix_stripped``); a separator-less name and no stem in the batch -> that name
    (``separator_removed``); both -> ``"suffix_unconfirmed"``, not resolved. With neither,
    the query is still read as a copy when its stem, exactly as written (case included), is
    a name as the sources write it (``TMBIM4-1`` from a dataset whose ``TMBIM4`` was
    filtered out later); anything else is ``"suffix_unconfirmed"`` (``Arc-1`` in a human
    list: no source writes a human symbol ``Arc``).

    Parameters
    ----------
    keys
        Normalized keys (upper case, trimmed) that were not found: an object array of ``str``.
    known
        Vectorized membership test against the index: array of keys -> bool array.
    in_batch
        Vectorized membership test against the normalized queries of the whole batch;
        ``None``: no stem is taken as present.
    given, exact
        The queries as given (trimmed, original case), aligned with ``keys``, and a
        vectorized test whether strings are names exactly as the snapshot's sources write
        them.

    Returns
    -------
    ``(new_keys, notes)``: the key to look up instead (``None`` = nothing better) and the
    parse note (``"not_a_gene"`` marks non-gene features, ``"suffix_unconfirmed"`` names
    whose ``-N`` ending could not be read safely).
    """
    n = len(keys)
    new = np.full(n, None, dtype=object)
    notes = np.full(n, "as_is", dtype=object)
    if n == 0:
        return new, notes
    arr = pa.array(keys, type=pa.string())
    todo = np.ones(n, dtype=bool)

    def assign(hit: np.ndarray, values: np.ndarray, note: str | np.ndarray) -> None:
        new[hit] = values[hit]
        notes[hit] = note if isinstance(note, str) else note[hit]
        todo[hit] = False

    not_gene = _matches(arr, NOT_A_GENE.pattern)
    notes[not_gene] = "not_a_gene"
    todo &= ~not_gene

    base = _extract(arr, _ENSEMBL_ID_VEC, "base")
    hit = todo & (base != None)  # noqa: E711 - element-wise on an object array
    if hit.any():
        par = _extract(arr, _ENSEMBL_ID_VEC, "par")
        # an optional group that did not take part matches "" in RE2, not null
        assign(hit, base, np.where(par == "_PAR_Y", "par_y", "version_stripped"))

    refseq = _extract(arr, _REFSEQ_VERSION, "base")
    hit = todo & (refseq != None)  # noqa: E711
    if hit.any():
        assign(hit, refseq, "version_stripped")

    entrez = _extract(arr, _ENTREZ_PREFIX, "id")
    hit = todo & (entrez != None)  # noqa: E711
    if hit.any():
        assign(hit, entrez, "as_is")  # GeneID:7157 *is* Entrez 7157: nothing was repaired

    todo_at = np.flatnonzero(todo)
    rows_arr, cand_arr = date_candidates(keys[todo_at])
    if len(rows_arr):
        # every candidate symbol of every date in one lookup; the first known one per date is
        # the key (the converter compares the others: a string from two symbols is a tie)
        rows_arr = todo_at[rows_arr]
        hit = known(cand_arr)
        first = np.unique(rows_arr[hit], return_index=True)[1]  # candidates are in preference order
        chosen = np.flatnonzero(hit)[first]
        at = rows_arr[chosen]
        new[at], notes[at], todo[at] = cand_arr[chosen], "date_repaired", False

    # the last two rules need slower regexes: run them only where a cheap test says they may apply
    maybe = np.flatnonzero(todo & _matches(arr, "ENS[A-Z]*G[0-9]{11}"))
    if len(maybe):
        with_id = np.full(n, None, dtype=object)
        with_id[maybe] = _extract(arr.take(pa.array(maybe)), _SYMBOL_WITH_ID, "id")
        hit = todo & (with_id != None)  # noqa: E711
        assign(hit, with_id, "suffix_stripped")

    maybe = np.flatnonzero(todo & _matches(arr, r"[.\-][0-9]{1,3}$"))
    if len(maybe):
        stem = np.full(n, None, dtype=object)
        stem[maybe] = _extract(arr.take(pa.array(maybe)), _UNIQUE_SUFFIX, "base")
        idx = np.flatnonzero(todo & (stem != None))  # noqa: E711
        if len(idx):
            stems = stem[idx].astype(object)
            stem_known = np.zeros(n, dtype=bool)
            stem_known[idx] = known(stems)
            # the ending as part of the name, written with a separator (ALK-3 for ALK3)
            joined = separator_free(keys[idx])
            is_name = known(joined)
            # a copy of a name that is in the batch
            copy = stem_known[idx].copy()
            if in_batch is not None and copy.any():
                copy[copy] = in_batch(stems[copy])
            else:
                copy[:] = False
            # both readings possible: not guessed
            both = idx[copy & is_name]
            notes[both] = "suffix_unconfirmed"
            todo[both] = False
            hit = np.zeros(n, dtype=bool)
            hit[idx[copy & ~is_name]] = True
            assign(hit, stem, "suffix_stripped")
            hit = np.zeros(n, dtype=bool)
            hit[idx[is_name & ~copy]] = True
            spelled = np.full(n, None, dtype=object)
            spelled[idx] = joined
            assign(hit, spelled, "separator_removed")
            rest = idx[~copy & ~is_name & stem_known[idx]]
            if len(rest) and given is not None and exact is not None:
                # the stem as written, case and all, is a name the sources spell that way
                # (TMBIM4-1 of a dataset whose TMBIM4 was filtered out; not Arc-1 in human data)
                written = np.array([re.sub(r"[.\-]\d{1,3}$", "", g) for g in given[rest]], dtype=object)
                ok = exact(written)
                hit = np.zeros(n, dtype=bool)
                hit[rest[ok]] = True
                assign(hit, stem, "suffix_stripped")
                rest = rest[~ok]
            # a known stem, but nothing confirms the reading: not guessed
            notes[rest] = "suffix_unconfirmed"
    return new, notes
