"""Build snapshots from public sources: Ensembl dumps, GTF, gene tables, HGNC, NCBI.

Each ``read_*`` function parses one source into a :class:`SourceData`;
:func:`build_snapshot` combines any number of them into one snapshot file.

.. code-block:: python

    from idtrack_sc import builders

    sources = [
        builders.read_gene_table("genes_110.tsv", release=110),
        builders.read_gene_table("mart_export.txt", release=114),
        builders.read_hgnc("hgnc_complete_set.txt"),
    ]
    builders.build_snapshot(sources, organism="human", out="human_114.idtrack")

    # or straight from a new Ensembl release, with Ensembl's own ID history (needs network):
    builders.build_from_ensembl("human", 115, out="homo_sapiens-115.idtrack.zip")
"""

from ._assemble import SourceConflictError, assemble, build_snapshot
from ._cellxgene import read_cellxgene_gene_table
from ._ensembl import read_ensembl_dump
from ._ensembl_ftp import (
    ENSEMBL_FTP,
    EnsemblDownloadError,
    ensembl_dump_url,
    ensembl_gtf_url,
    fetch_ensembl_dump,
    fetch_ensembl_gtf,
)
from ._from_ensembl import build_from_ensembl
from ._gene_table import read_gene_table
from ._gtf import read_gtf
from ._hgnc import read_hgnc
from ._mgi import read_mgi
from ._ncbi import read_ncbi_gene2ensembl, read_ncbi_gene_history, read_ncbi_gene_info
from ._source import SourceData, describe_file
from ._transcripts import read_transcript_table

__all__ = [
    "ENSEMBL_FTP",
    "EnsemblDownloadError",
    "build_from_ensembl",
    "ensembl_dump_url",
    "ensembl_gtf_url",
    "fetch_ensembl_dump",
    "fetch_ensembl_gtf",
    "SourceConflictError",
    "SourceData",
    "assemble",
    "build_snapshot",
    "describe_file",
    "read_cellxgene_gene_table",
    "read_ensembl_dump",
    "read_gene_table",
    "read_gtf",
    "read_hgnc",
    "read_mgi",
    "read_ncbi_gene2ensembl",
    "read_ncbi_gene_history",
    "read_ncbi_gene_info",
    "read_transcript_table",
]
