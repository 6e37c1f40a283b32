"""The key table: every identifier a snapshot knows, upper-cased, with the gene(s) it names.

It is a pure function of the other tables, the same for every query and every target
release, and the costly part of answering a first query. Builders therefore store it in the
snapshot (``keys.parquet``, schema version 3, see ``docs/snapshot-format.md``), where the
snapshot's own checksum covers it like every other table; a file without it (schema 1 or 2,
or written by hand) gets it computed when it is first needed.

One row per (key, anchor): the key (upper case), the namespace it is an identifier in, the
gene it names, how (``kind``), the release span where the source says so, how the key was
read (``note``: ``version_stripped`` for ``ENSG….18``) and which table it comes from. Rows are
sorted by key (UTF-8 byte order); rows of one key keep the order of their tables (genes,
versioned genes, IDs only in the history, features, names), which the resolver's ranking
relies on for its tie-break.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

logger = logging.getLogger(__name__)

_release = pa.int32()

#: keys (schema 3): derived from the other tables; see the module doc.
KEYS = pa.schema(
    [
        ("key", pa.string()),
        ("namespace", pa.string()),
        ("gene_id", pa.string()),
        ("kind", pa.string()),  # "id" (gene IDs), the feature type, or the name's kind
        ("first_release", _release),
        ("last_release", _release),
        ("note", pa.string()),  # "as_is" or "version_stripped"
        ("from_table", pa.string()),  # "genes", "events", "features" or "names"
    ]
)


#: spellings (schema 4): derived from ``names``; see :func:`build_spellings`.
SPELLINGS = pa.schema(
    [
        ("value", pa.string()),
        ("gene_id", pa.string()),
        ("kind", pa.string()),
        ("last_release", _release),
    ]
)


#: Columns of the key table with few distinct values (kept as Arrow dictionaries once read).
KEYS_DICTIONARY_COLUMNS = ("namespace", "gene_id", "kind", "note", "from_table")


#: Letters that matching ignores the case of: ASCII and the Greek small letters (``α`` to
#: ``ω``, final ``ς`` included), which gene names use (``RORα``, ``CaMKIIβ``). Any other
#: character keeps its case: Unicode case mapping would read the Turkish dotless ``ı`` as
#: ``I`` and the long ``ſ`` as ``S`` (``ıl6`` would answer IL6, ``ſox2`` SOX2).
_GREEK_SMALL = "".join(chr(c) for c in range(0x3B1, 0x3CA))
_FOLD = str.maketrans(_GREEK_SMALL, _GREEK_SMALL.upper())


def fold_case(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Upper-case a string :class:`pyarrow.Array` the way matching does (see ``_GREEK_SMALL``); nulls stay null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    out = pc.ascii_upper(values)
    other = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(values), True).to_numpy(zero_copy_only=False))
    if not len(other):
        return out
    folded = out.to_numpy(zero_copy_only=False).astype(object)
    folded[other] = [s.translate(_FOLD) for s in folded[other]]
    return pa.array(folded, type=values.type)


def upper_strings(values: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Upper-cased strings as an object array, as matching folds case (:func:`fold_case`; nulls stay null)."""
    arr = values.to_numpy(dtype=object, na_value=None) if not isinstance(values, np.ndarray) else values
    return fold_case(pa.array(arr, type=pa.string(), from_pandas=True)).to_numpy(zero_copy_only=False)


def upper_array(values: pd.Series | np.ndarray | pa.Array | pa.ChunkedArray) -> pa.Array:
    """Upper-cased strings as an Arrow array, as matching folds case (:func:`fold_case`; nulls stay null)."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return fold_case(values)
    arr = values.to_numpy(dtype=object, na_value=None) if not isinstance(values, np.ndarray) else values
    return fold_case(pa.array(arr, type=pa.string(), from_pandas=True))


def fake_names(names: pa.Table) -> np.ndarray:
    """Rows of a names table whose value is its gene's own ID (with or without version).

    Builders leave such rows out; snapshots built before they did may still hold them, for
    example gene tables that fill the name column of an unnamed gene with its ID.
    """
    values = pc.replace_substring_regex(upper_array(names["value"]), r"\.\d+$", "")
    return pc.fill_null(pc.equal(values, upper_array(names["gene_id"])), False).to_numpy(zero_copy_only=False)


def build_key_table(tables: Mapping[str, pa.Table]) -> pa.Table:
    """The key table of a snapshot's ``genes``, ``events``, ``features`` and ``names`` tables."""
    genes = tables["genes"].to_pandas()
    events = tables["events"].select(["old_id", "new_id"]).to_pandas()
    feats = tables["features"].select(["feature_id", "feature_type", "gene_id", "first_release", "last_release"])
    feats = feats.to_pandas()
    names_arrow = tables["names"]
    fake = fake_names(names_arrow)
    if fake.any():
        names_arrow = names_arrow.filter(pa.array(~fake))
    names = names_arrow.to_pandas()

    import pandas as pd

    spans = genes.groupby("gene_id", sort=True).agg(first=("first_release", "min"), last=("last_release", "max"))
    versioned = genes.dropna(subset=["version"])
    version = pc.cast(pa.array(versioned["version"].to_numpy(dtype="int64")), pa.string())
    event_ids = pd.Index(pd.concat([events["old_id"], events["new_id"]]).dropna().unique()).difference(spans.index)
    fqns = feats["feature_type"].map({"transcript": "ensembl_transcript", "translation": "ensembl_protein"})
    sizes = [len(spans), len(versioned), len(event_ids), len(feats), len(names)]
    parts = {
        "key": [
            upper_strings(spans.index),
            upper_strings(
                pc.binary_join_element_wise(
                    pa.array(versioned["gene_id"].to_numpy(dtype=object), type=pa.string()), version, "."
                ).to_numpy(zero_copy_only=False)
            ),
            upper_strings(event_ids),
            upper_strings(feats["feature_id"]),
            upper_strings(names["value"]),
        ],
        "namespace": [
            np.full(sizes[0] + sizes[1] + sizes[2], "ensembl_gene", dtype=object),
            fqns.fillna("ensembl_transcript").to_numpy(dtype=object),
            names["namespace"].to_numpy(dtype=object),
        ],
        "gene_id": [
            spans.index.to_numpy(dtype=object),
            versioned["gene_id"].to_numpy(dtype=object),
            event_ids.to_numpy(dtype=object),
            feats["gene_id"].to_numpy(dtype=object),
            names["gene_id"].to_numpy(dtype=object),
        ],
        "kind": [
            np.full(sizes[0] + sizes[1] + sizes[2], "id", dtype=object),
            feats["feature_type"].to_numpy(dtype=object),
            names["kind"].to_numpy(dtype=object),
        ],
        **{
            f"{end}_release": [
                spans[end].to_numpy(dtype=float),
                versioned[f"{end}_release"].to_numpy(dtype=float),
                np.full(sizes[2], np.nan),
                feats[f"{end}_release"].to_numpy(dtype=float),
                names[f"{end}_release"].to_numpy(dtype=float),
            ]
            for end in ("first", "last")
        },
        "note": [
            np.full(sizes[0], "as_is", dtype=object),
            np.full(sizes[1], "version_stripped", dtype=object),
            np.full(sizes[2] + sizes[3] + sizes[4], "as_is", dtype=object),
        ],
        "from_table": [
            np.full(sizes[0] + sizes[1], "genes", dtype=object),
            np.full(sizes[2], "events", dtype=object),
            np.full(sizes[3], "features", dtype=object),
            np.full(sizes[4], "names", dtype=object),
        ],
    }
    arrays = []
    for field in KEYS:
        values = np.concatenate(parts[field.name])
        if pa.types.is_integer(field.type):
            arrays.append(pa.array(values, type=pa.float64(), from_pandas=True).cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type, from_pandas=True))
    table = pa.Table.from_arrays(arrays, schema=KEYS)
    # rows sorted by key, rows of one key in table order (a stable sort of the key codes)
    uniques = pc.unique(table["key"])
    uniques = uniques.take(pc.array_sort_indices(uniques))
    codes = pc.index_in(table["key"], value_set=uniques).to_numpy(zero_copy_only=False)
    return table.take(pa.array(np.argsort(codes, kind="stable")))


def build_spellings(names: pa.Table) -> pa.Table:
    """The symbol rows (``value, gene_id, kind, last_release``) whose letters the sources write in several ways.

    Only such symbols can name other genes when the case of a query is kept (mouse ``Agt``
    and ``AGT``): the resolver's case readings start from them. Fake names (a value equal to
    its gene's own ID) are left out, as everywhere; rows keep the order of ``names``.
    """
    sym = names.filter(pc.equal(names["namespace"], "symbol")).select(["value", "gene_id", "kind", "last_release"])
    sym = sym.filter(pa.array(~fake_names(sym)))
    upper = upper_array(sym["value"])
    pairs = pa.table({"upper": upper, "value": sym["value"]}).group_by(["upper", "value"]).aggregate([])
    counts = pairs.group_by("upper").aggregate([("value", "count")])
    several = counts.filter(pc.greater(counts["value_count"], 1))["upper"]
    out = sym.filter(pc.fill_null(pc.is_in(upper, value_set=several), False))
    return pa.Table.from_arrays([out[f.name].combine_chunks().cast(f.type) for f in SPELLINGS], schema=SPELLINGS)
