"""A gene with two primary names at one release is refused, whatever the spans and sources look like."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idtrack_sc.snapshot import SnapshotFormatError
from idtrack_sc.snapshot._io import check_table_contents
from idtrack_sc.snapshot._schema import NAMES

RELEASES = (84, 93, 100, 104, 110, 114)

row = st.tuples(
    st.sampled_from(["ENSG00000141510", "ENSG00000139618"]),
    st.sampled_from(["symbol", "hgnc_id", "entrez"]),
    st.sampled_from(["TP53", "P53", "BRCA2"]),
    st.sampled_from(["primary", "alias"]),
    st.integers(0, len(RELEASES) - 1),
    st.integers(0, len(RELEASES) - 1),
    st.booleans(),  # dated
    st.sampled_from(["gtf", "hgnc"]),
)


def _table(rows) -> pa.Table:
    columns = {name: [] for name in NAMES.names}
    for gene, namespace, value, kind, a, b, dated, source in rows:
        first, last = sorted((a, b))
        for name, v in zip(
            NAMES.names,
            (
                gene,
                namespace,
                value,
                kind,
                RELEASES[first] if dated else None,
                RELEASES[last] if dated else None,
                source,
            ),
            strict=True,
        ):
            columns[name].append(v)
    return pa.table(columns, schema=NAMES)


def _two_names_somewhere(rows) -> bool:
    """The rule, release by release: a gene with two dated primary values in a single-name namespace."""
    for release in RELEASES:
        seen: dict[tuple[str, str], set[str]] = {}
        for gene, namespace, value, kind, a, b, dated, _ in rows:
            first, last = sorted((a, b))
            if dated and kind == "primary" and namespace != "entrez" and RELEASES[first] <= release <= RELEASES[last]:
                seen.setdefault((gene, namespace), set()).add(value)
        if any(len(values) > 1 for values in seen.values()):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.lists(row, min_size=1, max_size=12))
def test_refused_exactly_when_a_gene_has_two_primary_names_at_a_release(rows):
    table = _table(rows)
    if _two_names_somewhere(rows):
        with pytest.raises(SnapshotFormatError, match="primary .* names at release"):
            check_table_contents(table, "names", RELEASES, None)
    else:
        check_table_contents(table, "names", RELEASES, None)
