"""Build a snapshot straight from an Ensembl release: download, read, assemble.

The one place that joins the downloader (:mod:`._ensembl_ftp`), the dump and GTF readers and
the assembler, so none of them needs another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idtrack_sc._cache import cache_dir as shared_cache_dir
from idtrack_sc.snapshot import resolve_organism

from ._assemble import build_snapshot
from ._ensembl import read_ensembl_dump
from ._ensembl_ftp import (
    ENSEMBL_FTP,
    EnsemblDownloadError,
    ensembl_dump_url,
    ensembl_gtf_url,
    fetch_ensembl_dump,
    fetch_ensembl_gtf,
    release_folder_url,
)
from ._gtf import read_gtf

if TYPE_CHECKING:
    import os


def build_from_ensembl(
    organism: str,
    release: int,
    *,
    out: str | os.PathLike,
    base_url: str = ENSEMBL_FTP,
    gtf: bool = True,
    extra_sources: list | None = None,
    cache_dir: str | os.PathLike | None = None,
    progressbar: bool = True,
):
    """Build a snapshot straight from an Ensembl release: its core dump, with Ensembl's own history.

    Downloads (verified against ``CHECKSUMS``, cached) the release's core database tables and,
    with ``gtf=True``, its main GTF, then builds a snapshot: every release Ensembl's
    ``stable_id_event`` history covers (births, retirements, splits, merges, version changes),
    the genes, transcripts, proteins and names of ``release`` itself, and whatever
    ``extra_sources`` add (e.g. :func:`~idtrack_sc.builders.read_hgnc` for previous and alias
    symbols).

    Parameters
    ----------
    organism
        Organism name or alias.
    release
        Ensembl release, e.g. ``115``.
    out
        The snapshot file to write (atomically).
    base_url
        Ensembl's FTP site or a mirror of its layout.
    gtf
        Also read the release's GTF (gene versions, transcripts and proteins as Ensembl
        annotates them).
    extra_sources
        More parsed sources to include.
    cache_dir, progressbar
        As in :func:`fetch_ensembl_dump`.

    Returns
    -------
    The snapshot, read back from ``out``.
    """
    species = resolve_organism(organism)
    cache = shared_cache_dir(cache_dir) / "ensembl"
    try:
        dump_url = ensembl_dump_url(species, release, base_url=base_url)
    except EnsemblDownloadError:
        # offline: a dump of this release fetched (and verified) before is still good
        cached = sorted(cache.glob(f"{species}_core_{release}_*/CHECKSUMS"))
        if not cached:
            raise
        dump_url = release_folder_url(release, base_url=base_url) + cached[-1].parent.name + "/"
    folder = fetch_ensembl_dump(dump_url, cache_dir=cache_dir, progressbar=progressbar)
    sources = [read_ensembl_dump(folder, name=f"ensembl_dump:{release}")]
    sources[0].origin = dump_url
    if gtf:
        try:
            gtf_url = ensembl_gtf_url(species, release, base_url=base_url)
        except EnsemblDownloadError:
            cached = sorted((cache / f"release-{release}-gtf-{species}").glob(f"*.{release}.gtf.gz"))
            if not cached:
                raise
            gtf_url = release_folder_url(release, base_url=base_url).removesuffix("mysql/")
            gtf_url += f"gtf/{species}/{cached[-1].name}"
        path = fetch_ensembl_gtf(gtf_url, cache_dir=cache_dir, progressbar=progressbar)
        source = read_gtf(path, release=release)
        source.origin = gtf_url
        sources.append(source)
    sources.extend(extra_sources or [])
    return build_snapshot(sources, organism=organism, out=out)
