"""Write and read snapshot files.

A snapshot file is a ZIP archive whose members are stored uncompressed (the Parquet members
are compressed themselves) with fixed timestamps and a fixed member order:

- ``manifest.json``: UTF-8 JSON, keys sorted;
- ``genes.parquet``, ``events.parquet``, ``names.parquet``, ``features.parquet``,
  ``loci.parquet`` (schema 2; a schema-1 file has no loci and reads as if the table were empty).

Any ZIP tool and any Parquet reader open it; no code of this package is needed.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ._schema import ADDED_IN_2, FORMAT_NAME, SCHEMA_VERSION, SORT_KEYS, TABLES

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

MANIFEST = "manifest.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # earliest date ZIP can store: no build time leaks in


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


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=9,
        use_dictionary=True,
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
    manifest = {**manifest, "format": FORMAT_NAME, "schema_version": SCHEMA_VERSION}
    manifest_bytes = (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()
    members = [(MANIFEST, manifest_bytes)]
    members += [(f"{name}.parquet", _parquet_bytes(to_arrow(name, tables[name]))) for name in TABLES]

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            for member, data in members:
                info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
                info.external_attr = 0o644 << 16
                info.create_system = 3  # Unix, whatever platform builds it
                zf.writestr(info, data)
        # mkstemp creates the file private (0600); give it the usual permissions for the umask
        umask = os.umask(0)
        os.umask(umask)
        Path(tmp).chmod(0o666 & ~umask)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    """Read and validate the manifest of an open snapshot archive."""
    try:
        manifest = json.loads(zf.read(MANIFEST).decode())
    except KeyError:
        msg = f"{path} is not an idtrack-sc snapshot: it has no {MANIFEST}."
        raise SnapshotFormatError(msg) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"{path}: {MANIFEST} is not valid UTF-8 JSON ({err})."
        raise SnapshotFormatError(msg) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        msg = f"{path} is not an idtrack-sc snapshot: its manifest does not say format={FORMAT_NAME!r}."
        raise SnapshotFormatError(msg)
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        msg = (
            f"{path} has snapshot schema version {version!r}; this idtrack-sc reads versions up to "
            f"{SCHEMA_VERSION}. Upgrade idtrack-sc to read it."
        )
        raise SnapshotFormatError(msg)
    return manifest


def read_table(zf: zipfile.ZipFile, path: Path, name: str) -> pa.Table:
    """Read one table of an open snapshot archive as Arrow."""
    member = f"{name}.parquet"
    try:
        data = zf.read(member)
    except KeyError:
        if name in ADDED_IN_2 and ADDED_IN_2[name] is None and member not in zf.namelist() and _schema_1(zf):
            return TABLES[name].empty_table()  # a schema-1 file: the table did not exist yet
        msg = f"{path}: snapshot member {member} is missing."
        raise SnapshotFormatError(msg) from None
    except zipfile.BadZipFile as err:
        msg = f"{path}: snapshot member {member} is damaged ({err})."
        raise SnapshotFormatError(msg) from None
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as err:
        msg = f"{path}: snapshot member {member} is not valid Parquet ({err})."
        raise SnapshotFormatError(msg) from None
    expected = TABLES[name]
    added = ADDED_IN_2.get(name)
    if added and table.schema.names == [n for n in expected.names if n not in added]:
        # a schema-1 table: the columns added later are null
        for column in added:
            table = table.append_column(expected.field(column), pa.nulls(table.num_rows, expected.field(column).type))
        table = table.select(expected.names)
    if table.schema.names != expected.names:
        msg = f"{path}: table {name} has columns {table.schema.names}, expected {expected.names}."
        raise SnapshotFormatError(msg)
    return table


def _schema_1(zf: zipfile.ZipFile) -> bool:
    """Whether an open snapshot archive declares schema version 1."""
    try:
        return json.loads(zf.read(MANIFEST).decode()).get("schema_version") == 1
    except (KeyError, ValueError):
        return False
