r"""Reading MySQL dumps as Ensembl publishes them: ``CREATE TABLE`` schemas and tab-separated tables.

Each ``{table}.txt(.gz)`` is the output of ``SELECT … INTO OUTFILE``: tab-separated, no
header, ``\\N`` for NULL, a backslash before a tab, newline or backslash that is part of a
value (both ``\\<TAB>`` and the two-letter ``\\t`` forms are understood). Columns come in the
order of the table's ``CREATE TABLE`` statement in the same folder's schema file.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._common import STRING, is_gzip, open_text

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Sequence

logger = logging.getLogger(__name__)

#: First words of the lines of a ``CREATE TABLE`` body that are not columns.
_NOT_COLUMNS = {"key", "primary", "unique", "index", "constraint", "fulltext", "spatial", "foreign", "check"}

_CREATE = re.compile(r"create\s+(?:temporary\s+)?table\s+(?:if\s+not\s+exists\s+)?([`\"]?)([\w$.]+)\1\s*\(", re.I)

_CHUNK_BYTES = 16 * 1024 * 1024

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "0": "\x00", "Z": "\x1a", "b": "\b"}


def _strip_comments(sql: str) -> str:
    """Remove ``-- …``, ``# …`` and ``/* … */`` comments outside quoted strings."""
    out: list[str] = []
    i, n = 0, len(sql)
    quote = ""
    while i < n:
        ch = sql[i]
        if quote:
            out.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < n:
                out.append(sql[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
            out.append(ch)
            i += 1
        elif (sql.startswith("--", i) and (i + 2 == n or sql[i + 2] in " \t\r\n")) or ch == "#":
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """Characters of ``text`` outside quotes, as ``(position, character, parenthesis depth)``.

    The depth counts the parentheses open after the character; backslash escapes inside
    ``'...'`` and ``"..."`` are skipped (backtick identifiers have none).
    """
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _split_top_level(body: str) -> list[str]:
    """Split a ``CREATE TABLE`` body on commas outside parentheses and quotes."""
    parts: list[str] = []
    start = 0
    for i, ch, depth in _unquoted(body):
        if ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [p.strip() for p in parts if p.strip()]


def _matching_paren(text: str, open_pos: int) -> int:
    """Position of the parenthesis closing the one at ``open_pos`` (``-1`` if none)."""
    for i, ch, depth in _unquoted(text, open_pos):
        if ch == ")" and depth == 0:
            return i
    return -1


def parse_schema(text: str) -> dict[str, list[str]]:
    """Column names of every table, in order, from MySQL ``CREATE TABLE`` statements.

    Parameters
    ----------
    text
        The schema (``mysqldump`` output or Ensembl's ``table.sql``).

    Returns
    -------
    Table name -> column names in declaration order. Index and constraint lines
    (``KEY``, ``PRIMARY KEY``, ``UNIQUE``, …) are skipped; backticks, ``ENUM`` values with
    commas and comments are understood.
    """
    sql = _strip_comments(text)
    tables: dict[str, list[str]] = {}
    for match in _CREATE.finditer(sql):
        name = match.group(2).split(".")[-1]
        open_pos = match.end() - 1
        close = _matching_paren(sql, open_pos)
        if close < 0:
            msg = f"CREATE TABLE {name}: no closing parenthesis"
            raise ValueError(msg)
        columns = []
        for item in _split_top_level(sql[open_pos + 1 : close]):
            first = item.split(None, 1)[0]
            if first[0] not in '`"' and first.lower() in _NOT_COLUMNS:
                continue
            if first[0] in '`"':
                end = item.index(first[0], 1)
                columns.append(item[1:end])
            else:
                columns.append(first)
        tables[name] = columns
    return tables


def read_schema(path: str | os.PathLike) -> dict[str, list[str]]:
    """Parse a schema file (``.sql`` or ``.sql.gz``); see :func:`parse_schema`."""
    with open_text(path) as fh:
        text = fh.read()
    tables = parse_schema(text)
    if not tables:
        msg = f"{Path(path).name}: no CREATE TABLE statement found; expected the MySQL schema of the dump."
        raise ValueError(msg)
    return tables


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def _escaped_before(buf: bytes, pos: int) -> bool:
    """Whether the byte at ``pos`` is escaped (preceded by an odd number of backslashes)."""
    count = 0
    while pos - count - 1 >= 0 and buf[pos - count - 1] == 0x5C:
        count += 1
    return count % 2 == 1


def _records(path: Path) -> Iterator[tuple[bytes, int]]:
    """Yield chunks of whole records (escaped tabs and newlines made two-letter) and first line numbers."""
    line = 1
    rest = b""
    with _open_binary(path) as fh:
        while True:
            block = fh.read(_CHUNK_BYTES)
            buf = rest + block
            if not block:
                if buf:
                    if not buf.endswith(b"\n") or _escaped_before(buf, len(buf) - 1):
                        buf += b"\n"
                    yield _normalize_escapes(buf), line
                return
            cut = buf.rfind(b"\n")
            while cut >= 0 and _escaped_before(buf, cut):
                cut = buf.rfind(b"\n", 0, cut)
            if cut < 0:
                rest = buf
                continue
            chunk, rest = buf[: cut + 1], buf[cut + 1 :]
            yield _normalize_escapes(chunk), line
            line += chunk.count(b"\n")


_RAW_ESCAPE = re.compile(rb"\\(\\|\t|\n)")


def _normalize_escapes(chunk: bytes) -> bytes:
    if b"\\\t" not in chunk and b"\\\n" not in chunk:
        return chunk
    return _RAW_ESCAPE.sub(lambda m: {b"\\": b"\\\\", b"\t": b"\\t", b"\n": b"\\n"}[m.group(1)], chunk)


def _check_fields(chunk: bytes, expected: int, path: Path, first_line: int, table: str) -> None:
    data = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    tabs = np.flatnonzero(data == 9)
    per_line = np.diff(np.concatenate([[0], np.searchsorted(tabs, ends)])) + 1
    bad = np.flatnonzero(per_line != expected)
    if len(bad):
        k = int(bad[0])
        start = 0 if k == 0 else int(ends[k - 1]) + 1
        # physical line: records before it plus escaped newlines (now two-letter) do not shift it
        text = chunk[start : int(ends[k])].decode("utf-8", "replace")
        shown = text if len(text) <= 80 else text[:77] + "..."
        msg = (
            f"{path.name}, line {first_line + k}: expected {expected} tab-separated columns for table "
            f"{table!r} (as in the schema file), found {int(per_line[k])}: {shown!r}. "
            "The file may be truncated or belong to another schema version."
        )
        raise ValueError(msg)


def unescape(series: pd.Series) -> pd.Series:
    r"""Undo MySQL's backslash escapes (``\\t``, ``\\n``, ``\\\\``, ``\\0``) in a string column."""
    series = series.astype(STRING)
    has = series.str.contains("\\", regex=False, na=False)
    if not has.any():
        return series
    fixed = series[has].str.replace(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), regex=True)
    return series.mask(has, fixed)


def read_table(
    path: str | os.PathLike, columns: Sequence[str], *, table: str, usecols: Sequence[str] | None = None
) -> pd.DataFrame:
    r"""Read one ``{table}.txt(.gz)`` of a MySQL dump into string columns.

    Parameters
    ----------
    path
        The file.
    columns
        All column names in file order (from the schema).
    table
        Table name, for messages.
    usecols
        Columns to keep (default all).

    Returns
    -------
    A frame of nullable strings; ``\\N`` is missing, escapes are undone.

    Raises
    ------
    ValueError
        If a line has a different number of columns than the schema gives, naming the
        file, line, expected and found counts.
    """
    path = Path(path)
    columns = list(columns)
    keep = list(usecols) if usecols is not None else columns
    frames = []
    for chunk, first in _records(path):
        _check_fields(chunk, len(columns), path, first, table)
        frame = pd.read_csv(
            io.BytesIO(chunk),
            sep="\t",
            header=None,
            names=columns,
            usecols=keep,
            dtype=STRING,
            quoting=csv.QUOTE_NONE,
            keep_default_na=False,
            na_values=["\\N"],
            skip_blank_lines=False,
            encoding="utf-8",
            encoding_errors="replace",
            engine="c",
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=STRING) for c in keep})
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out = out[keep]
    return pd.DataFrame({c: unescape(out[c]) for c in keep})
