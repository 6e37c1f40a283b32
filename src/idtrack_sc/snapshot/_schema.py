"""The snapshot's tables: names, column types and vocabularies, in one place.

Builders produce these tables, :mod:`idtrack_sc.snapshot._io` writes and reads them, and the
resolver consumes them. The format is documented for people in ``docs/snapshot-format.md``;
keep the two in step and bump :data:`SCHEMA_VERSION` on any incompatible change.
"""

from __future__ import annotations

import pyarrow as pa

from ._keys import KEYS, SPELLINGS

#: Version of the on-disk layout. Readers refuse files with a newer version. Version 2 added
#: the ``loci`` table and the ``evidence`` and ``detail`` columns of ``events``; version 1
#: files still load (no loci, every event Ensembl's own). Version 3 added the derived ``keys``
#: table (:mod:`idtrack_sc.snapshot._keys`); older files get it computed when first needed.
#: Version 4 added the derived ``spellings`` table (symbols written in several ways), the same.
SCHEMA_VERSION = 4

#: Magic string in ``manifest.json`` that identifies a snapshot file.
FORMAT_NAME = "idtrack-sc snapshot"

#: Evidence tiers of inferred history links, strongest first (see ``docs/lineage.md``).
EVIDENCE_TIERS = ("high", "medium", "low")

#: Which source wins when several describe the same gene, or name it, in the same release
#: (lower first; a source kind not listed comes after all of these). Builders use it to pick
#: a gene's version, biotype and locus; the resolver, to pick a gene's name.
SOURCE_PRIORITY = {
    "ensembl_dump": 0,
    "gtf": 1,
    "gene_table": 2,
    "transcript_table": 3,
    "hgnc": 4,
    "ncbi_gene_info": 5,
    "ncbi_gene_history": 6,
    "ncbi_gene2ensembl": 7,
}

#: Kinds of external name, best first (a symbol means what it meant when it was valid).
NAME_KINDS = ("primary", "previous", "alias", "synonym")

_release = pa.int32()

#: genes: one row per contiguous span of covered releases in which a gene ID had one version.
GENES = pa.schema(
    [
        ("gene_id", pa.string()),
        ("version", pa.int32()),  # null when the source carries no version
        ("first_release", _release),
        ("last_release", _release),
        ("biotype", pa.string()),
        ("source", pa.string()),
    ]
)

#: events: Ensembl's own history between different IDs, plus births and retirements.
#: ``old_id`` null = birth; ``new_id`` null = retirement. ``release`` is the release in
#: which the new side exists (the mapping session's new release), ``old_release`` the one
#: the old side comes from.
EVENTS = pa.schema(
    [
        ("old_id", pa.string()),
        ("old_version", pa.int32()),
        ("new_id", pa.string()),
        ("new_version", pa.int32()),
        ("old_release", _release),
        ("release", _release),
        ("score", pa.float32()),
        ("source", pa.string()),
        # schema 2: inferred links (source ``inferred_lineage``) carry their evidence tier and
        # what supports it; both null for Ensembl's own events
        ("evidence", pa.string()),
        ("detail", pa.string()),
    ]
)

#: loci (schema 2): where a gene lies, per span of covered releases. Coordinates are
#: Ensembl's: 1-based, both ends included, on the named assembly (a release of another
#: assembly, e.g. GRCh37, keeps its own coordinates).
LOCI = pa.schema(
    [
        ("gene_id", pa.string()),
        ("assembly", pa.string()),
        ("chromosome", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("strand", pa.int8()),  # 1 or -1
        ("first_release", _release),
        ("last_release", _release),
        ("source", pa.string()),
    ]
)

#: names: an external name attached to a gene. Release range null = undated source
#: (HGNC, NCBI): valid "as of the source's date", see the manifest.
NAMES = pa.schema(
    [
        ("gene_id", pa.string()),
        ("namespace", pa.string()),
        ("value", pa.string()),
        ("kind", pa.string()),
        ("first_release", _release),
        ("last_release", _release),
        ("source", pa.string()),
    ]
)

#: features: transcript and translation (protein) stable IDs and the gene they belong to.
FEATURES = pa.schema(
    [
        ("feature_id", pa.string()),
        ("feature_type", pa.string()),
        ("gene_id", pa.string()),
        ("first_release", _release),
        ("last_release", _release),
        ("source", pa.string()),
    ]
)

#: Table name -> schema, in the order they are written.
TABLES: dict[str, pa.Schema] = {
    "genes": GENES,
    "events": EVENTS,
    "names": NAMES,
    "features": FEATURES,
    "loci": LOCI,
}

#: Derived tables (schema 3 and 4): computed from the tables above by the writer, stored beside them
#: and covered by the same checksum; a file without them gets them computed on first use.
DERIVED_TABLES: dict[str, pa.Schema] = {"keys": KEYS, "spellings": SPELLINGS}

#: Tables and columns added after schema version 1: files without them read as empty / null.
ADDED_IN_2 = {"loci": None, "events": ("evidence", "detail")}

#: Tables a file may lack because it was written before they existed; they read as empty.
#: ``loci`` came with schema version 2: a version-1 file has no such member.
OPTIONAL_TABLES: frozenset[str] = frozenset(name for name, columns in ADDED_IN_2.items() if columns is None)

#: Sort keys that make a table's row order canonical (byte-identical builds).
SORT_KEYS: dict[str, list[str]] = {
    "genes": ["gene_id", "first_release", "version", "source"],
    "events": ["release", "old_id", "new_id", "old_version", "new_version", "source"],
    "names": ["gene_id", "namespace", "kind", "value", "first_release", "source"],
    "features": ["feature_id", "first_release", "gene_id", "source"],
    "loci": ["gene_id", "first_release", "assembly", "chromosome", "start", "end", "strand", "source"],
}
