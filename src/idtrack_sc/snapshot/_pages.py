"""Which text columns of a Parquet member hold only PLAIN pages, and how large those pages decode.

A text column whose pages are all PLAIN decodes to at most the sum of its pages' uncompressed
sizes (each value is stored as its length and its bytes) plus its offsets and validity bits:
it can be read as plain text without first reading it dictionary-encoded to sum its lengths,
which for a column of distinct values (the key table's keys) costs most of the read.

The bound must come from the pages the reader will decode, not from the file's metadata
(which could claim PLAIN over a dictionary page whose one long value every row repeats). So
the column chunk's page headers are walked here exactly as Arrow's reader walks them (from
the chunk's first data page, for the chunk's compressed length, until the chunk's values are
read), decoding the Thrift compact protocol of each header. Any page that is not a PLAIN data
page, any chunk with a dictionary page, and anything unexpected or malformed gives ``None``:
the column is then read dictionary-encoded and bounded as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow.parquet as pq

# Thrift compact protocol types
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
# parquet.thrift: PageType and Encoding
_DATA_PAGE, _DATA_PAGE_V2 = 0, 3
_PLAIN = 0
_MAX_DEPTH = 8
_MAX_PAGES = 1 << 20


class _Malformed(Exception):
    """The bytes are no page header this module understands."""


class _Reader:
    def __init__(self, data: memoryview, at: int, end: int) -> None:
        self.data, self.at, self.end = data, at, end

    def byte(self) -> int:
        if self.at >= self.end:
            raise _Malformed
        value = self.data[self.at]
        self.at += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise _Malformed

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, n: int) -> None:
        if n < 0 or self.at + n > self.end:
            raise _Malformed
        self.at += n

    def skip_value(self, kind: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _Malformed
        if kind in (_TRUE, _FALSE):
            return
        if kind == _BYTE:
            self.skip(1)
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _DOUBLE:
            self.skip(8)
        elif kind == _BINARY:
            self.skip(self.varint())
        elif kind in (_LIST, _SET):
            head = self.byte()
            size, element = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            for _ in range(size):
                if element in (_TRUE, _FALSE):
                    self.skip(1)  # booleans in a list take a byte each
                else:
                    self.skip_value(element, depth + 1)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip_value(types >> 4, depth + 1)
                    self.skip_value(types & 0x0F, depth + 1)
        elif kind == _STRUCT:
            self.struct(depth + 1, {})
        else:
            raise _Malformed

    def struct(self, depth: int, wanted: dict[int, object]) -> dict[int, object]:
        """Read a struct; the i32 fields and nested structs listed in ``wanted`` are returned, the rest skipped.

        ``wanted`` maps a field id to ``int`` (an i32 field) or to a dict (a nested struct and
        the fields wanted in it).
        """
        if depth > _MAX_DEPTH:
            raise _Malformed
        out: dict[int, object] = {}
        field = 0
        while True:
            head = self.byte()
            kind = head & 0x0F
            if kind == _STOP:
                return out
            delta = head >> 4
            field = field + delta if delta else self.zigzag()
            want = wanted.get(field)
            if want is int and kind == _I32:
                out[field] = self.zigzag()
            elif isinstance(want, dict) and kind == _STRUCT:
                out[field] = self.struct(depth + 1, want)
            else:
                self.skip_value(kind, depth)


# PageHeader: 1 type, 2 uncompressed_page_size, 3 compressed_page_size, 5 data_page_header
# (1 num_values, 2 encoding), 8 data_page_header_v2 (1 num_values, 4 encoding)
_HEADER = {1: int, 2: int, 3: int, 5: {1: int, 2: int}, 8: {1: int, 4: int}}


def plain_text_bytes(data: bytes | memoryview, chunk: pq.ColumnChunkMetaData) -> int | None:
    """The uncompressed size of a column chunk's pages if they are all PLAIN data pages, else ``None``.

    Parameters
    ----------
    data
        The whole Parquet file.
    chunk
        One column chunk of it (``metadata.row_group(i).column(j)``).
    """
    if chunk.has_dictionary_page or (chunk.dictionary_page_offset or 0) > 0:
        return None
    start, length, values = chunk.data_page_offset, chunk.total_compressed_size, chunk.num_values
    view = memoryview(data)
    if start is None or start < 4 or length <= 0 or start + length > len(view) or values < 0:
        return None
    reader = _Reader(view, start, start + length)
    total = seen = 0
    try:
        for _ in range(_MAX_PAGES):
            if seen >= values:
                return total
            header = reader.struct(0, _HEADER)
            kind, size, stored = header.get(1), header.get(2), header.get(3)
            page = header.get(5) if kind == _DATA_PAGE else header.get(8) if kind == _DATA_PAGE_V2 else None
            encoding = None if page is None else page.get(2 if kind == _DATA_PAGE else 4)
            count = None if page is None else page.get(1)
            if encoding != _PLAIN or not isinstance(size, int) or not isinstance(stored, int) or not count:
                return None
            if size < 0 or count < 0:
                return None
            reader.skip(stored)
            total += size
            seen += count
    except _Malformed:
        return None
    return None
