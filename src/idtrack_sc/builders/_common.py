"""Helpers shared by the source parsers: opening files, finding columns, shaping observations."""

from __future__ import annotations

import gzip
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._source import OBSERVATION_COLUMNS

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Sequence

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"

#: String dtype for parsed text: Arrow-backed, fast string operations on pandas 2 and 3.
STRING = pd.StringDtype("pyarrow")

#: A gene ID with an optional version suffix and an optional GENCODE ``_PAR_Y`` suffix.
GENE_ID_PATTERN = r"^(?P<base>[^.]+?)(?:\.(?P<version>\d+))?(?P<par>_PAR_Y)?$"


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether a file starts with the gzip magic bytes (independent of its name)."""
    with Path(path).open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def compression(path: str | os.PathLike) -> str | None:
    """Return the ``compression`` argument for :func:`pandas.read_csv`, from the file's content."""
    return "gzip" if is_gzip(path) else None


def open_text(path: str | os.PathLike) -> io.TextIOBase:
    """Open a plain or gzipped text file for reading (UTF-8, undecoded bytes replaced)."""
    path = Path(path)
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return path.open(encoding="utf-8", errors="replace", newline="")


def check_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, or raise a clear error if it is not a file."""
    path = Path(path)
    if not path.exists():
        msg = f"{what} file not found: {path}"
        raise FileNotFoundError(msg)
    if not path.is_file():
        msg = f"{what} path is not a file: {path}"
        raise ValueError(msg)
    return path


def first_line(path: str | os.PathLike) -> str:
    """Return the first line of a (possibly gzipped) text file, without its line ending."""
    with open_text(path) as fh:
        return fh.readline().rstrip("\r\n")


def read_text_table(path: str | os.PathLike, *, sep: str, **options: Any) -> pd.DataFrame:
    """Read a delimited text file (plain or gzipped) with every cell a string, empty cells kept empty.

    ``options`` go to :func:`pandas.read_csv` (``usecols``, ``quoting``, ``chunksize``, …).
    """
    return pd.read_csv(
        path, sep=sep, dtype=str, keep_default_na=False, na_filter=False, compression=compression(path), **options
    )


def sniff_separator(header: str) -> str:
    """The separator of a table from its header line: tab, comma or semicolon, whichever is most frequent."""
    counts = {sep: header.count(sep) for sep in ("\t", ",", ";")}
    sep = max(counts, key=lambda s: counts[s])
    return sep if counts[sep] else "\t"


def read_header_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table with a header line, separated by tabs, commas or semicolons (sniffed from the header)."""
    return read_text_table(path, sep=sniff_separator(first_line(path)), skipinitialspace=True)


def find_column(columns: Sequence[str], candidates: Iterable[str]) -> str | None:
    """Return the first of ``candidates`` present in ``columns`` (compared case-insensitively)."""
    lookup: dict[str, str] = {}
    for col in columns:
        lookup.setdefault(str(col).strip().lower(), col)
    for cand in candidates:
        hit = lookup.get(cand.lower())
        if hit is not None:
            return hit
    return None


def require_column(path: str | os.PathLike, columns: Sequence[str], what: str, candidates: Sequence[str]) -> str:
    """Return the first of ``candidates`` present in ``columns``, or raise :func:`missing_column`'s error."""
    found = find_column(columns, candidates)
    if found is None:
        raise missing_column(path, what, candidates, columns)
    return found


def missing_column(path: str | os.PathLike, what: str, candidates: Sequence[str], found: Sequence[str]) -> ValueError:
    """Build the error for a required column that is absent, listing the columns found."""
    accepted = ", ".join(repr(c) for c in candidates)
    msg = f"{Path(path).name}: no {what} column (accepted names: {accepted}). Columns found: {list(found)}."
    return ValueError(msg)


def blank_to_na(series: pd.Series) -> pd.Series:
    """Strip whitespace and turn empty strings into missing values."""
    series = series.astype(STRING).str.strip()
    return series.mask(series == "")


def to_int(series: pd.Series, *, path: str | os.PathLike, column: str, line_offset: int = 2) -> pd.Series:
    """Parse a column of integers (missing allowed) into ``Int64``.

    A value that is not an integer is an error naming the file, line and column.
    ``line_offset`` converts the frame's row position into a 1-based file line number.
    """
    text = blank_to_na(series)
    # "5.0" is how a float round trip writes an integer
    text = text.str.replace(r"\.0+$", "", regex=True)
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & text.notna()
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        msg = (
            f"{Path(path).name}, line {pos + line_offset}, column {column!r}: expected an integer, "
            f"found {text.iloc[pos]!r} ({int(bad.sum())} such values)."
        )
        raise ValueError(msg)
    return values.astype("Int64")


def isin(series: pd.Series, values: pd.Series | Sequence[str]) -> np.ndarray:
    """Boolean mask of the elements of a string series found in ``values`` (missing: ``False``).

    Arrow's hash lookup; pandas 2's ``isin`` on Arrow strings is slow for large value sets.
    """
    left = pa.array(pd.Series(series).astype(STRING))
    right = pa.array(pd.Series(values, dtype="object").astype(STRING).dropna().drop_duplicates())
    mask = pc.fill_null(pc.is_in(left, value_set=right), False)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def split_gene_ids(ids: pd.Series) -> pd.DataFrame:
    """Split ``ENSG….18`` / ``ENSG….18_PAR_Y`` into base ID, version (``Int64``) and a PAR_Y flag."""
    arr = pa.array(ids.astype(STRING))
    if not pc.any(pc.match_substring(arr, ".")).as_py() and not pc.any(pc.ends_with(arr, "_PAR_Y")).as_py():
        # nothing to split (unversioned IDs, as most transcript tables have): skip the regex
        return pd.DataFrame(
            {
                "gene_id": pd.Series(pd.arrays.ArrowStringArray(pc.cast(arr, pa.string())), index=ids.index),
                "version": pd.Series(pd.array([pd.NA] * len(ids), dtype="Int64"), index=ids.index),
                "par_y": np.zeros(len(ids), dtype=bool),
            },
            index=ids.index,
        )
    parts = pc.extract_regex(arr, GENE_ID_PATTERN)  # RE2, vectorized
    base = pc.struct_field(parts, "base")
    # IDs the pattern does not match (more than one dot) are kept whole, unversioned
    base = pc.if_else(pc.is_null(base), arr, base)
    version_text = pc.struct_field(parts, "version")
    version_text = pc.if_else(pc.equal(version_text, ""), pa.scalar(None, pa.string()), version_text)
    version = pd.array(pc.cast(version_text, pa.int64()).to_pandas(), dtype="Int64")
    par = pc.fill_null(pc.equal(pc.struct_field(parts, "par"), "_PAR_Y"), False)
    return pd.DataFrame(
        {
            "gene_id": pd.Series(pd.arrays.ArrowStringArray(pc.cast(base, pa.string())), index=ids.index),
            "version": pd.Series(version, index=ids.index),
            "par_y": par.to_numpy(zero_copy_only=False),
        },
        index=ids.index,
    )


def normalize_hgnc(values: pd.Series) -> pd.Series:
    """Write HGNC IDs as ``HGNC:n`` whether given as ``n`` or ``HGNC:n``."""
    values = blank_to_na(values)
    return values.where(values.isna() | values.str.upper().str.startswith("HGNC:"), "HGNC:" + values).str.replace(
        r"^hgnc:", "HGNC:", case=False, regex=True
    )


def normalize_entrez(values: pd.Series) -> pd.Series:
    """Write Entrez gene IDs as plain digits (drop a float's ``.0`` and a ``GeneID:`` prefix)."""
    values = blank_to_na(values)
    return values.str.replace(r"^GeneID:", "", case=False, regex=True).str.replace(r"\.0+$", "", regex=True)


def is_fake_name(gene_ids: pd.Series, values: pd.Series) -> np.ndarray:
    """Whether each value is no real name of its gene: the gene's own ID, with or without a version."""
    ids = gene_ids.astype(str).str.upper().to_numpy(dtype=object)
    vals = values.astype(str).str.upper().str.replace(r"\.\d+$", "", regex=True).to_numpy(dtype=object)
    return ids == vals


def name_rows(
    gene_ids: pd.Series,
    values: pd.Series,
    *,
    namespace: str,
    kind: str,
    release: int | pd.Series | None,
    sep: str | None = None,
    normalize: Callable[[pd.Series], pd.Series] | None = None,
) -> pd.DataFrame:
    """Observation rows of the ``names`` table for aligned gene IDs and values.

    Parameters
    ----------
    gene_ids, values
        Aligned series; rows where either is missing or empty are left out.
    namespace, kind
        Namespace and kind of every row.
    release
        One release for all rows, a series aligned with ``values``, or ``None`` (undated).
    sep
        If given, ``values`` are multi-valued strings split on this separator.
    normalize
        Applied to the (split) values, e.g. :func:`normalize_hgnc`.
    """
    frame = pd.DataFrame({"gene_id": blank_to_na(gene_ids), "value": values.astype(STRING)})
    frame["release"] = release if isinstance(release, pd.Series) else pd.Series(release, index=frame.index)
    if sep is not None:
        frame["value"] = frame["value"].str.strip('"').str.split(sep, regex=False)
        frame = frame.explode("value", ignore_index=True)
    frame["value"] = blank_to_na(frame["value"].astype(STRING).str.strip('"'))
    if normalize is not None:
        frame["value"] = normalize(frame["value"])
    frame = frame.dropna(subset=["gene_id", "value"])
    # A name equal to the gene's own ID (with or without a version) is no name: gene tables
    # fill the name column of unnamed genes with the ID.
    fake = is_fake_name(frame["gene_id"], frame["value"])
    if fake.any():
        frame = frame[~fake]
    out = pd.DataFrame(
        {
            "gene_id": frame["gene_id"].to_numpy(),
            "namespace": namespace,
            "value": frame["value"].to_numpy(),
            "kind": kind,
            "release": pd.array(frame["release"].to_numpy(), dtype="Int64"),
        }
    )
    return out


def concat_rows(frames: Sequence[pd.DataFrame], kind: str) -> pd.DataFrame:
    """Concatenate observation frames of one table, de-duplicated, with its standard columns."""
    columns = OBSERVATION_COLUMNS[kind]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    out = pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)
    return out.drop_duplicates(ignore_index=True)


# -- loci ------------------------------------------------------------------------------------
CHROMOSOME_COLUMNS = ("chromosome", "Chromosome/scaffold name", "chromosome_name", "chrom", "seqname", "seqid")
START_COLUMNS = ("start", "Gene start (bp)", "start_position", "gene_start")
END_COLUMNS = ("end", "Gene end (bp)", "end_position", "gene_end")
STRAND_COLUMNS = ("strand", "Strand")
#: Column names whose coordinate convention is known: BioMart's are 1-based, ends included.
ONE_BASED_COLUMNS = ("gene start (bp)", "start_position")
#: Accepted spellings of a coordinate convention.
CONVENTIONS = {"0-based": 0, "bed": 0, "0": 0, "1-based": 1, "gtf": 1, "ensembl": 1, "1": 1}


def coordinate_offset(coordinates: str | int | None) -> int | None:
    """What to add to a start coordinate to make it 1-based (``None`` = not declared)."""
    if coordinates is None:
        return None
    base = CONVENTIONS.get(str(coordinates).strip().lower())
    if base is None:
        msg = (
            f"coordinates={coordinates!r} is no coordinate convention; say '1-based' (Ensembl, GTF, BioMart: "
            "start and end included) or '0-based' (BED, pyranges: start 0-based, end exclusive)."
        )
        raise ValueError(msg)
    return 1 - base


def normalize_chromosome(values: pd.Series) -> pd.Series:
    """Ensembl sequence region names: ``chr1`` -> ``1``, ``chrM`` / ``M`` -> ``MT`` (UCSC to Ensembl)."""
    values = blank_to_na(values).str.replace(r"^chr", "", regex=True)
    return values.mask(values.isin(["M", "m"]), "MT")


def parse_strand(values: pd.Series, *, path: str | os.PathLike) -> pd.Series:
    """``+``/``-``/``1``/``-1`` into ``1``/``-1`` (``Int64``); anything else is an error."""
    text = blank_to_na(values)
    out = text.map({"+": 1, "1": 1, "+1": 1, "-": -1, "-1": -1}, na_action="ignore")
    bad = out.isna() & text.notna()
    if bad.any():
        msg = f"{Path(path).name}: strand must be +, -, 1 or -1; found {text[bad].iloc[0]!r} ({int(bad.sum())} rows)."
        raise ValueError(msg)
    return out.astype("Int64")


def locus_rows(
    gene_ids: pd.Series,
    chromosome: pd.Series,
    start: pd.Series,
    end: pd.Series,
    strand: pd.Series,
    *,
    offset: int,
    release: int,
    assembly: str | None,
    path: str | os.PathLike,
    line_offset: int = 2,
) -> pd.DataFrame:
    """Observation rows of ``loci`` (1-based, ends included) from aligned columns.

    ``offset`` is added to ``start`` (1 for 0-based starts). Rows without a chromosome or
    coordinates are left out; an end before its start is an error.
    """
    starts = to_int(start, path=path, column="start", line_offset=line_offset) + offset
    ends = to_int(end, path=path, column="end", line_offset=line_offset)
    frame = pd.DataFrame(
        {
            "gene_id": gene_ids.astype(STRING).to_numpy(),
            "assembly": assembly,
            "chromosome": normalize_chromosome(chromosome).to_numpy(),
            "start": starts.to_numpy(),
            "end": ends.to_numpy(),
            "strand": parse_strand(strand, path=path).to_numpy(),
            "release": release,
        }
    )
    frame = frame.dropna(subset=["gene_id", "chromosome", "start", "end", "strand"])
    backwards = frame["end"] < frame["start"]
    if backwards.any():
        row = frame[backwards].iloc[0]
        msg = (
            f"{Path(path).name}: gene {row['gene_id']} ends ({row['end']}) before it starts ({row['start']}); "
            "check the coordinate columns and their convention."
        )
        raise ValueError(msg)
    return frame.drop_duplicates(["gene_id"], ignore_index=True)
