"""Write and read snapshot files.

A snapshot file is a ZIP archive whose members are stored uncompressed (the Parquet members
are compressed themselves) with fixed timestamps and a fixed member order:

- ``manifest.json``: UTF-8 JSON, keys sorted;
- ``genes.parquet``, ``events.parquet``, ``names.parquet``, ``features.parquet``,
  ``loci.parquet`` (schema 2; a schema-1 file has no loci and reads as if the table were empty);
- ``keys.parquet`` (schema 3): the derived key table (:mod:`idtrack_sc.snapshot._keys`),
  written from the tables above; older files have none and get it computed when needed;
- ``spellings.parquet`` (schema 4): the derived table of symbols written in several ways
  (:func:`~idtrack_sc.snapshot._keys.build_spellings`), the same.

Any ZIP tool and any Parquet reader open it; no code of this package is needed.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from .._atomic import write_atomically
from ._keys import KEYS_DICTIONARY_COLUMNS, build_key_table, build_spellings
from ._pages import plain_text_bytes
from ._schema import ADDED_IN_2, DERIVED_TABLES, FORMAT_NAME, OPTIONAL_TABLES, SCHEMA_VERSION, SORT_KEYS, TABLES

#: Every member table: the snapshot's own, then the derived ones.
ALL_TABLES: dict[str, pa.Schema] = {**TABLES, **DERIVED_TABLES}

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import pandas as pd

MANIFEST = "manifest.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # earliest date ZIP can store: no build time leaks in
#: Largest manifest read (bytes); real manifests are a few kilobytes.
MAX_MANIFEST_BYTES = 16 << 20
#: A member may declare at most this many times its compressed size (ZIP) when the manifest
#: does not declare its size; Parquet pages at most ``MAX_PARQUET_RATIO`` times (real
#: snapshots: about 5), plus a fixed allowance for small tables.
MAX_ZIP_RATIO = 16
MAX_PARQUET_RATIO = 64
_SLACK = 16 << 20
#: A table may hold at most this many times its member's size once decoded (Arrow buffers,
#: each text cell counted as 16 bytes more for what it costs once read into pandas): real
#: snapshots hold 5 to 30 times. Checked from the Parquet metadata (row counts × type
#: widths) and, for text, from the dictionary-encoded read, before any text is expanded.
MAX_DECODED_RATIO = 128
_DECODED_SLACK = 32 << 20
#: Nesting depth allowed in a manifest (real manifests: 4).
MAX_MANIFEST_DEPTH = 32
_TOO_DEEP = object()
#: Tables a snapshot cannot do without: a file where one is empty is refused.
CORE_TABLES = ("genes", "names")
#: Namespaces where a gene has one primary name at a release (``refseq``, ``uniprot`` and
#: ``entrez`` legitimately list several): a file giving one gene two at a release is refused.
SINGLE_NAME_NAMESPACES = ("symbol", "hgnc_id", "mgi_id")


class SnapshotFormatError(ValueError):
    """A file is not a readable snapshot (wrong format, newer schema, damaged member)."""


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """Convert one table to Arrow with the schema's types and canonical row order.

    Parameters
    ----------
    name
        Table name, one of :data:`~idtrack_sc.snapshot._schema.TABLES`.
    frame
        The table; extra columns are an error, missing nullable ones are filled with nulls.
    """
    schema = TABLES[name]
    extra = sorted(set(frame.columns) - set(schema.names))
    if extra:
        msg = f"Snapshot table {name!r} has unexpected columns {extra}; expected {schema.names}."
        raise ValueError(msg)
    arrays = []
    for field in schema:
        if field.name in frame.columns:
            col = frame[field.name]
            values = col.astype("object").where(col.notna(), None).tolist()
            arrays.append(pa.array(values, type=field.type, from_pandas=True))
        else:
            arrays.append(pa.nulls(len(frame), type=field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    table = table.sort_by([(key, "ascending") for key in SORT_KEYS[name]])
    return table


def with_optional_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``tables`` with an empty frame for each table added after schema 1 that is absent."""
    import pandas as pd

    out = dict(tables)
    for name, columns in ADDED_IN_2.items():
        if columns is None and name not in out:
            out[name] = pd.DataFrame(columns=TABLES[name].names)
    return out


#: A text column is dictionary-encoded when it has at most this fraction of distinct values
#: (namespaces, kinds, sources, a gene ID repeated over its names); a column of mostly
#: distinct values (keys, feature IDs, names) is written PLAIN: read as it is, bounded by its
#: pages (:mod:`._pages`), without building a dictionary of every value on load.
DICTIONARY_MAX_DISTINCT = 0.25
#: Dictionary pages may hold a whole column's distinct values: a column that falls back to
#: PLAIN half way would be read dictionary-encoded value by value.
_DICTIONARY_PAGE_LIMIT = 256 << 20


def dictionary_columns(table: pa.Table) -> list[str]:
    """The columns :func:`write_snapshot` dictionary-encodes: text with few distinct values, and every non-text column."""
    import pyarrow.compute as pc

    out = []
    for field in table.schema:
        distinct = pa.types.is_string(field.type) and table.num_rows
        if distinct and pc.count_distinct(table[field.name]).as_py() > DICTIONARY_MAX_DISTINCT * table.num_rows:
            continue
        out.append(field.name)
    return out


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=9,
        use_dictionary=dictionary_columns(table),
        dictionary_pagesize_limit=_DICTIONARY_PAGE_LIMIT,
        write_statistics=False,
        store_schema=True,
    )
    return sink.getvalue()


def write_snapshot(tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write a snapshot file atomically.

    The file appears at ``path`` only once it is complete; an error leaves nothing behind.
    Identical tables and manifest give a byte-identical file.

    Parameters
    ----------
    tables
        ``genes``, ``events``, ``names`` and ``features`` as data frames.
    manifest
        JSON-serializable metadata; ``format`` and ``schema_version`` are set here.
    path
        Where to write.

    Returns
    -------
    The path written.
    """
    path = Path(path)
    tables = with_optional_tables(tables)
    missing = sorted(set(TABLES) - set(tables))
    if missing:
        msg = f"Cannot write snapshot {path}: tables {missing} are missing."
        raise ValueError(msg)
    arrow = {name: to_arrow(name, tables[name]) for name in TABLES}
    arrow["keys"] = build_key_table(arrow)
    arrow["spellings"] = build_spellings(arrow["names"])
    data = {name: _parquet_bytes(table) for name, table in arrow.items()}
    declared = {name: {"bytes": len(data[name]), "rows": arrow[name].num_rows} for name in ALL_TABLES}
    manifest = {**manifest, "format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "tables": declared}
    manifest_bytes = (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()
    members = [(MANIFEST, manifest_bytes)]
    members += [(f"{name}.parquet", data[name]) for name in ALL_TABLES]

    path.parent.mkdir(parents=True, exist_ok=True)

    def write(fh: BinaryIO) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            for member, data in members:
                info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
                info.external_attr = 0o644 << 16
                info.create_system = 3  # Unix, whatever platform builds it
                zf.writestr(info, data)

    write_atomically(path, write)
    return path


def check_members(zf: zipfile.ZipFile, path: Path) -> None:
    """Accept exactly the documented members: the manifest and one Parquet file per table, once each.

    Tables listed in :data:`~idtrack_sc.snapshot._schema.OPTIONAL_TABLES` and derived tables
    may be absent (files written before they existed); anything else missing, repeated or
    extra is refused.
    """
    names = [info.filename for info in zf.infolist()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        msg = f"{path}: ZIP members {repeated} appear more than once; a snapshot has each member once (damaged or tampered file)."
        raise SnapshotFormatError(msg)
    expected = [MANIFEST, *(f"{name}.parquet" for name in ALL_TABLES)]
    extra = sorted(set(names) - set(expected))
    if extra:
        msg = f"{path}: unexpected ZIP members {extra}; a snapshot holds exactly {expected}."
        raise SnapshotFormatError(msg)
    required = [MANIFEST, *(f"{name}.parquet" for name in TABLES if name not in OPTIONAL_TABLES)]
    missing = [m for m in required if m not in names]
    if missing and missing != [MANIFEST]:
        msg = f"{path}: snapshot members {missing} are missing; a snapshot holds {expected}."
        raise SnapshotFormatError(msg)


def _depth(value: object) -> int:
    """Nesting depth of parsed JSON, without recursion (lists and objects count one level each)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_MANIFEST_DEPTH:
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    """Read and validate the manifest of an open snapshot archive, and its list of members."""
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        msg = f"{path} is not an idtrack-sc snapshot: it has no {MANIFEST}."
        raise SnapshotFormatError(msg) from None
    if info.file_size > MAX_MANIFEST_BYTES:
        msg = f"{path}: {MANIFEST} declares {info.file_size} bytes; a manifest is at most {MAX_MANIFEST_BYTES}."
        raise SnapshotFormatError(msg)
    try:
        manifest = json.loads(zf.read(MANIFEST).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"{path}: {MANIFEST} is not valid UTF-8 JSON ({err})."
        raise SnapshotFormatError(msg) from None
    except RecursionError:
        manifest = _TOO_DEEP  # nested deeper than Python's parser goes: refused just below
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        msg = f"{path}: {MANIFEST} is damaged ({err})."
        raise SnapshotFormatError(msg) from None
    if manifest is _TOO_DEEP or _depth(manifest) > MAX_MANIFEST_DEPTH:
        msg = f"{path}: {MANIFEST} is nested more than {MAX_MANIFEST_DEPTH} levels deep; a manifest is a few flat records."
        raise SnapshotFormatError(msg)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        msg = f"{path} is not an idtrack-sc snapshot: its manifest does not say format={FORMAT_NAME!r}."
        raise SnapshotFormatError(msg)
    version = manifest.get("schema_version")
    if _is_int(version) and version > SCHEMA_VERSION:
        msg = (
            f"{path} has snapshot schema version {version!r}; this idtrack-sc reads versions up to "
            f"{SCHEMA_VERSION}. Upgrade idtrack-sc to read it."
        )
        raise SnapshotFormatError(msg)
    if not _is_int(version) or version < 1:
        msg = f"{path}: manifest schema_version must be an integer from 1 to {SCHEMA_VERSION}, got {version!r}."
        raise SnapshotFormatError(msg)
    check_members(zf, path)
    releases = manifest.get("releases")
    if not isinstance(releases, list) or not releases or not all(_is_int(r) and r > 0 for r in releases):
        msg = f"{path}: manifest releases must be a non-empty list of Ensembl release numbers (integers), got {releases!r:.200}."
        raise SnapshotFormatError(msg)
    if len(set(releases)) != len(releases):
        msg = f"{path}: manifest releases list a release more than once: {releases}."
        raise SnapshotFormatError(msg)
    declared = manifest.get("tables")
    if declared is not None:
        ok = isinstance(declared, dict) and all(
            name in ALL_TABLES and isinstance(d, dict) and _is_int(d.get("bytes")) and _is_int(d.get("rows"))
            for name, d in declared.items()
        )
        if not ok:
            msg = f"{path}: manifest 'tables' must map table names to {{'bytes': int, 'rows': int}}, got {declared!r:.200}."
            raise SnapshotFormatError(msg)
        empty = [name for name in CORE_TABLES if name in declared and declared[name]["rows"] <= 0]
        if empty:
            msg = f"{path}: the manifest declares table(s) {empty} empty; a snapshot without genes or names answers nothing."
            raise SnapshotFormatError(msg)
    return manifest


def _check_member_size(zf: zipfile.ZipFile, path: Path, member: str, declared: Mapping[str, int] | None) -> int:
    """The member's size, refused before reading if it is not what the file promises."""
    info = zf.getinfo(member)
    if declared is not None and info.file_size != declared["bytes"]:
        msg = (
            f"{path}: snapshot member {member} holds {info.file_size} bytes, the manifest declares "
            f"{declared['bytes']} (damaged or tampered file)."
        )
        raise SnapshotFormatError(msg)
    # what the manifest declares is no bound: it comes from the same file
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            msg = f"{path}: stored member {member} declares {info.file_size} bytes but holds {info.compress_size}."
            raise SnapshotFormatError(msg)
    elif info.file_size > MAX_ZIP_RATIO * info.compress_size + _SLACK:
        msg = (
            f"{path}: snapshot member {member} would expand from {info.compress_size} to {info.file_size} bytes, "
            f"more than {MAX_ZIP_RATIO} times; refused without reading it (damaged or malicious file)."
        )
        raise SnapshotFormatError(msg)
    return info.file_size


def _text(meta: pq.FileMetaData) -> list[str]:
    """The file's text columns."""
    schema = meta.schema.to_arrow_schema()
    return [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def _plain_text(data: bytes, meta: pq.FileMetaData, text: list[str]) -> dict[str, int]:
    """The text columns whose pages are all PLAIN, with the bytes those pages decode to (:mod:`._pages`)."""
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    out: dict[str, int] = {}
    for column in text:
        if names.count(column) != 1:
            continue
        at = names.index(column)
        sizes = [plain_text_bytes(data, meta.row_group(g).column(at)) for g in range(meta.num_row_groups)]
        if all(size is not None for size in sizes):
            out[column] = sum(sizes)
    return out


def _read_bounded(
    data: bytes, meta: pq.FileMetaData, path: Path, name: str, size: int, *, keep_dictionary: tuple[str, ...] = ()
) -> pa.Table:
    """Read a Parquet member whose decoded size stays within :data:`MAX_DECODED_RATIO` of ``size``.

    Row counts × type widths are bounded from the metadata before anything is read. A text
    column whose pages are all PLAIN (:mod:`._pages`) is bounded by what its pages hold and
    read as it is; any other text column is read dictionary-encoded (its distinct values
    only, which the encoded pages bound) and the length of every cell is summed before the
    text is expanded (columns in ``keep_dictionary`` stay dictionary-encoded).
    """
    limit = MAX_DECODED_RATIO * size + _DECODED_SLACK
    schema = meta.schema.to_arrow_schema()
    rows = meta.num_rows
    text = _text(meta)
    plain_text = _plain_text(data, meta, text)
    encoded = [c for c in text if c not in plain_text]
    plain = (pa.types.is_primitive, pa.types.is_null)
    nested = [f"{f.name} ({f.type})" for f in schema if not (any(t(f.type) for t in plain) or f.name in text)]
    if nested:  # lists, structs, binary: no snapshot column has them, and their size is unbounded here
        msg = f"{path}: table {name} has columns of types a snapshot never holds: {', '.join(nested)}."
        raise SnapshotFormatError(msg)
    widths = sum(max(f.type.bit_width // 8, 1) for f in schema if pa.types.is_primitive(f.type))
    decoded = rows * (widths + 20 * len(text))  # offsets + what each text cell costs in pandas
    decoded += sum(plain_text.values())

    def refuse(amount: int) -> None:
        msg = (
            f"{path}: table {name} would decode from {size} to {amount} bytes or more, more than {MAX_DECODED_RATIO} "
            "times; refused before expanding it (damaged or malicious file)."
        )
        raise SnapshotFormatError(msg)

    if decoded > limit:
        refuse(decoded)
    # one column at a time, on this thread: the decoding buffers of one column are reused for
    # the next (reading every column at once on the thread pool took more time and memory)
    parquet = pq.ParquetFile(pa.BufferReader(data), read_dictionary=encoded)
    columns = [parquet.read(columns=[c], use_threads=False).column(0) for c in parquet.schema_arrow.names]
    table = pa.Table.from_arrays(columns, schema=parquet.schema_arrow.remove_metadata())
    import pyarrow.compute as pc

    for column in encoded:
        for chunk in table[column].chunks:
            lengths = pc.binary_length(chunk.dictionary)
            decoded += pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0
            if decoded > limit:
                refuse(decoded)
    for column in (c for c in encoded if c not in keep_dictionary):
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, table[column].cast(table.schema.field(index).type.value_type))
    return table


def read_table(
    zf: zipfile.ZipFile, path: Path, name: str, manifest: Mapping[str, Any] | None = None
) -> pa.Table | None:
    """Read one table of an open snapshot archive as Arrow, within the sizes the file declares.

    A table listed in :data:`~idtrack_sc.snapshot._schema.OPTIONAL_TABLES` that the file
    lacks is read as an empty table; a derived table it lacks reads as ``None``.
    """
    member = f"{name}.parquet"
    declared = ((manifest or {}).get("tables") or {}).get(name)
    try:
        size = _check_member_size(zf, path, member, declared)
        data = zf.read(member)
    except KeyError:
        if name in OPTIONAL_TABLES:
            return TABLES[name].empty_table()
        if name in DERIVED_TABLES:
            return None
        msg = f"{path}: snapshot member {member} is missing."
        raise SnapshotFormatError(msg) from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        msg = f"{path}: snapshot member {member} is damaged ({err})."
        raise SnapshotFormatError(msg) from None
    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if expanded > MAX_PARQUET_RATIO * size + _SLACK:
            msg = (
                f"{path}: table {name} would expand from {size} to {expanded} bytes, more than "
                f"{MAX_PARQUET_RATIO} times; refused without decompressing it (damaged or malicious file)."
            )
            raise SnapshotFormatError(msg)
        # the key table's few-valued columns stay dictionaries: a fraction of the memory
        keep = KEYS_DICTIONARY_COLUMNS if name == "keys" else ()
        table = _read_bounded(data, meta, path, name, size, keep_dictionary=keep)
    except (pa.ArrowInvalid, OSError) as err:
        msg = f"{path}: snapshot member {member} is not valid Parquet ({err})."
        raise SnapshotFormatError(msg) from None
    expected = ALL_TABLES[name]
    added = ADDED_IN_2.get(name)
    if added and table.schema.names == [n for n in expected.names if n not in added]:
        # a schema-1 table: the columns added later are null
        for column in added:
            table = table.append_column(expected.field(column), pa.nulls(table.num_rows, expected.field(column).type))
        table = table.select(expected.names)
    if table.schema.names != expected.names:
        msg = f"{path}: table {name} has columns {table.schema.names}, expected {expected.names}."
        raise SnapshotFormatError(msg)
    wrong = [
        f"{f.name} ({f.type}, expected {e.type})"
        for f, e in zip(table.schema, expected, strict=True)
        if (f.type.value_type if pa.types.is_dictionary(f.type) else f.type) != e.type
    ]
    if wrong:
        msg = f"{path}: table {name} has columns of the wrong type: {', '.join(wrong)}."
        raise SnapshotFormatError(msg)
    if declared is not None and table.num_rows != declared["rows"]:
        msg = f"{path}: table {name} has {table.num_rows} rows, the manifest declares {declared['rows']}."
        raise SnapshotFormatError(msg)
    return table


def check_table_releases(table: pa.Table, name: str, releases: tuple[int, ...], path: Path | None) -> None:
    """Refuse a table whose release spans do not agree with the releases the manifest lists.

    Every ``first_release``/``last_release`` must be a listed release, and (``genes``) every
    listed release must have genes: a manifest that claims a release its tables do not hold
    would make every query look retired there.
    """
    import pyarrow.compute as pc

    where = path if path is not None else "snapshot"
    listed = pa.array(sorted(releases), type=pa.int32())
    for column in ("first_release", "last_release"):
        if column not in table.schema.names:
            continue
        values = pc.unique(table[column].drop_null()) if table.num_rows else pa.array([], pa.int32())
        unknown = pc.filter(values, pc.invert(pc.is_in(values, value_set=listed)))
        if len(unknown):
            shown = sorted(unknown.to_pylist())[:5]
            msg = (
                f"{where}: table {name} has {column} {shown}, which the manifest's releases {list(releases)} do not "
                "list; the manifest does not match the tables (edited or damaged file)."
            )
            raise SnapshotFormatError(msg)
    if name == "genes" and table.num_rows:
        first = table["first_release"].to_numpy(zero_copy_only=False)
        last = table["last_release"].to_numpy(zero_copy_only=False)
        empty = [r for r in sorted(releases) if not ((first <= r) & (r <= last)).any()]
        if empty:
            msg = (
                f"{where}: the manifest lists releases {empty}, but no gene exists in them in the genes table; "
                "the manifest does not match the tables (edited or damaged file)."
            )
            raise SnapshotFormatError(msg)


def check_table_contents(table: pa.Table, name: str, releases: tuple[int, ...], path: Path | None) -> None:
    """Refuse a core table that is empty, and a gene with two primary names at one release.

    The second rule holds in :data:`SINGLE_NAME_NAMESPACES`, for dated names (those the
    release's own gene table gives): one extra row would otherwise make a gene answer to
    another symbol. Two spans can only overlap at a listed release (their ends are listed),
    so the listed releases are the only ones checked.
    """
    import pyarrow.compute as pc

    where = path if path is not None else "snapshot"
    if name in CORE_TABLES and table.num_rows == 0:
        msg = f"{where}: table {name} is empty; a snapshot without genes or names answers nothing (damaged or tampered file)."
        raise SnapshotFormatError(msg)
    if name != "names":
        return
    keep = pc.and_(
        pc.and_(
            pc.is_in(table["namespace"], value_set=pa.array(SINGLE_NAME_NAMESPACES)), pc.equal(table["kind"], "primary")
        ),
        pc.is_valid(table["first_release"]),
    )
    dated = table.filter(keep).select(["gene_id", "namespace", "value", "first_release", "last_release"])
    if not _spans_overlap(dated):
        return
    # a gene has two names at a release: found again release by release, to say where
    dated = dated.to_pandas()
    first, last = dated["first_release"].to_numpy(), dated["last_release"].to_numpy()
    for release in sorted(releases):
        at = dated[(first <= release) & (last >= release)].drop_duplicates(["gene_id", "namespace", "value"])
        twice = at[at.duplicated(["gene_id", "namespace"], keep=False)]
        if len(twice):
            gene, namespace = twice.iloc[0][["gene_id", "namespace"]]
            values = sorted(twice.loc[(twice["gene_id"] == gene) & (twice["namespace"] == namespace), "value"])
            msg = (
                f"{where}: gene {gene} has {len(values)} primary {namespace} names at release {release} ({values[:5]}), "
                f"and {twice['gene_id'].nunique()} gene(s) do; a gene has one primary {namespace} per release "
                "(damaged or tampered file)."
            )
            raise SnapshotFormatError(msg)


def _spans_overlap(dated: pa.Table) -> bool:
    """Whether two spans of different values of one (gene, namespace) overlap (vectorized).

    The spans of one value are merged first (a value may come from several sources); then any
    overlap left is between different values. Spans are compared by their first release,
    sorted, against the largest last release before them in the group.
    """
    import numpy as np
    import pyarrow.compute as pc

    if dated.num_rows < 2:
        return False

    def codes(column: str) -> np.ndarray:
        encoded = pc.dictionary_encode(dated[column].combine_chunks())
        return pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    n_ns = max(int(codes("namespace").max()) + 2, 2)
    group = (codes("gene_id") + 1) * n_ns + codes("namespace") + 1
    value = codes("value")
    first = dated["first_release"].to_numpy().astype(np.int64)
    last = dated["last_release"].to_numpy().astype(np.int64)
    span = int(max(last.max(), first.max()) - min(last.min(), first.min())) + 2
    base = int(min(last.min(), first.min()))
    first, last = first - base, last - base

    def cummax_before(keys: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Per sorted row, the largest ``last`` of the rows before it with the same key (``-1`` if none)."""
        k = keys[order]
        lifted = k * span + last[order]
        before = np.empty(len(order), dtype=np.int64)
        before[0] = -1
        before[1:] = np.maximum.accumulate(lifted)[:-1]
        same = np.zeros(len(order), dtype=bool)
        same[1:] = k[1:] == k[:-1]
        return np.where(same, before - k * span, -1)

    # merge the spans of each (group, value)
    pair = group * (int(value.max()) + 2) + value + 1
    order = np.lexsort((first, pair))
    starts = first[order] > cummax_before(pair, order)
    begin = np.flatnonzero(starts)
    merged_first = first[order][begin]
    merged_last = np.maximum.reduceat(last[order], begin)
    merged_group = group[order][begin]
    # then any overlap within a group is between different values
    order = np.lexsort((merged_first, merged_group))
    first, last = merged_first, merged_last  # cummax_before reads `last`
    return bool((first[order] <= cummax_before(merged_group, order)).any())


def check_key_table(table: pa.Table, where: object) -> None:
    """Refuse a stored key table that is not sorted by key (the resolver relies on it)."""
    import pyarrow.compute as pc

    n = table.num_rows
    if n > 1:
        keys = table["key"]
        ordered = pc.all(pc.less_equal(keys.slice(0, n - 1), keys.slice(1))).as_py()
        if ordered is not True:
            msg = f"{where}: table keys is not sorted by key (damaged or tampered file)."
            raise SnapshotFormatError(msg)


def check_spellings(table: pa.Table, where: object) -> None:
    """Refuse a stored spellings table whose rows are not symbols written in several ways.

    Every row needs a value and a gene, and its value's letters (upper-cased as matching
    does) must be written in at least two ways among the table's rows: the property the case
    readings rely on (:func:`~idtrack_sc.snapshot._keys.build_spellings`).
    """
    import pyarrow.compute as pc

    from ._keys import upper_array

    if table.num_rows == 0:
        return
    if table["value"].null_count or table["gene_id"].null_count:
        msg = f"{where}: table spellings has rows without a value or a gene (damaged or tampered file)."
        raise SnapshotFormatError(msg)
    pairs = pa.table({"upper": upper_array(table["value"]), "value": table["value"]})
    ways = pairs.group_by(["upper", "value"]).aggregate([]).group_by("upper").aggregate([("value", "count")])
    if pc.min(ways["value_count"]).as_py() < 2:
        once = ways.filter(pc.less(ways["value_count"], 2))["upper"].to_pylist()[:5]
        msg = (
            f"{where}: table spellings lists {once} written in one way only; it holds symbols the sources write "
            "in several ways (damaged or tampered file)."
        )
        raise SnapshotFormatError(msg)
