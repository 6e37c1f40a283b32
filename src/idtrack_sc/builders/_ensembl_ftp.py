"""Fetch an Ensembl core database dump from Ensembl's FTP site (or a mirror of its layout).

Ensembl publishes one folder per species and release::

    {base}release-{R}/mysql/{species}_core_{R}_{assembly}/
        {table}.txt.gz ...          one file per table, tab-separated, no header
        {species}_core_{R}_{assembly}.sql.gz   the schema (column order of every table)
        CHECKSUMS                   `sum` output per file: BSD checksum, 1-KiB blocks, name

and the GRCh37 archive under ``{base}grch37/release-{R}/mysql/``. This module finds the
folder for an organism and release (from the release's folder listing), downloads the tables
the builder reads with :mod:`pooch` (progress bar, cache), and verifies every file against
``CHECKSUMS`` before it is used: a file that does not match is deleted and reported, and an
interrupted transfer leaves nothing behind (pooch writes to a temporary name and moves the
file into place only once complete).
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from idtrack_sc._atomic import write_atomically
from idtrack_sc._cache import cache_dir as shared_cache_dir
from idtrack_sc.snapshot import resolve_organism

if TYPE_CHECKING:
    import os

logger = logging.getLogger(__name__)

#: Ensembl's public FTP site, over HTTPS.
ENSEMBL_FTP = "https://ftp.ensembl.org/pub/"

#: Tables the dump builder reads, and which of them it cannot do without.
DUMP_TABLES = (
    "meta",
    "mapping_session",
    "stable_id_event",
    "gene",
    "transcript",
    "translation",
    "xref",
    "object_xref",
    "external_db",
    "external_synonym",
)
REQUIRED = ("meta", "mapping_session", "stable_id_event", "gene")

#: Index pages and CHECKSUMS are small; anything larger is not what we asked for.
MAX_LISTING_BYTES = 4 << 20
TIMEOUT_S = 60

_CHECKSUM_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\S+)\s*$")
_HREF = re.compile(r"""href\s*=\s*["']?([^"' >]+)""", re.IGNORECASE)


class EnsemblDownloadError(OSError):
    """A dump file could not be listed, downloaded or verified."""


# -- checksums -----------------------------------------------------------------------------------
def bsd_sum(path: str | os.PathLike) -> tuple[int, int]:
    """The BSD ``sum`` of a file: 16-bit rotating checksum and size in 1-KiB blocks.

    This is what Ensembl's ``CHECKSUMS`` files list (the output of the Unix ``sum`` command,
    whose default algorithm is BSD's). The system's ``sum`` is used when present (fast);
    otherwise the checksum is computed here.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    ``(checksum, blocks)``.
    """
    path = Path(path)
    size = path.stat().st_size
    blocks = math.ceil(size / 1024)
    tool = shutil.which("sum")
    if tool is not None:
        try:
            done = subprocess.run([tool, "-r", str(path)], capture_output=True, text=True, check=True, timeout=3600)
            checksum, tool_blocks = (int(x) for x in done.stdout.split()[:2])
        except (OSError, ValueError, subprocess.SubprocessError) as err:
            logger.debug("system sum failed on %s (%s); computing the checksum in Python", path, err)
        else:
            if tool_blocks == blocks:
                return checksum, blocks
    checksum = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            for byte in chunk:
                checksum = ((checksum >> 1) | ((checksum & 1) << 15)) + byte
                checksum &= 0xFFFF
    return checksum, blocks


def parse_checksums(text: str) -> dict[str, tuple[int, int]]:
    """Read a ``CHECKSUMS`` file: file name -> (BSD checksum, 1-KiB blocks)."""
    out = {}
    for line in text.splitlines():
        match = _CHECKSUM_LINE.match(line)
        if match:
            out[match.group(3)] = (int(match.group(1)), int(match.group(2)))
    return out


# -- the FTP layout ------------------------------------------------------------------------------
def _read_small(url: str) -> str:
    """GET a small text resource (an index page, CHECKSUMS), bounded in size and time."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":  # a local copy of the layout: list folders like an index page would
        local = Path(urllib.request.url2pathname(parts.path))
        if local.is_dir():
            return "\n".join(f'<a href="{p.name}{"/" if p.is_dir() else ""}">' for p in sorted(local.iterdir()))
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_LISTING_BYTES + 1)
    except urllib.error.HTTPError as err:
        msg = f"{url}: the server answered {err.code} {err.reason}."
        raise EnsemblDownloadError(msg) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        msg = f"{url}: could not connect ({reason})."
        raise EnsemblDownloadError(msg) from None
    if len(body) > MAX_LISTING_BYTES:
        msg = f"{url}: more than {MAX_LISTING_BYTES >> 20} MiB; this is not an index page or a CHECKSUMS file."
        raise EnsemblDownloadError(msg)
    return body.decode("utf-8", errors="replace")


def _check_url(url: str) -> str:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "ftp", "file"):
        msg = f"Ensembl base URL must be http(s), ftp or file, got {url!r}."
        raise ValueError(msg)
    return url if url.endswith("/") else url + "/"


def release_folder_url(release: int, *, base_url: str = ENSEMBL_FTP, grch37: bool = False) -> str:
    """URL of ``release-{R}/mysql/`` (or the GRCh37 archive's) under ``base_url``."""
    if isinstance(release, bool) or not isinstance(release, int) or release < 1:
        msg = f"release must be a positive Ensembl release number, got {release!r}."
        raise ValueError(msg)
    base = _check_url(base_url)
    return f"{base}{'grch37/' if grch37 else ''}release-{release}/mysql/"


def ensembl_dump_url(organism: str, release: int, *, base_url: str = ENSEMBL_FTP, grch37: bool = False) -> str:
    """Find the core dump folder of an organism and release in Ensembl's FTP layout.

    Parameters
    ----------
    organism
        Organism name or alias (``"human"``, ``"mus_musculus"``, …).
    release
        Ensembl release number.
    base_url
        The FTP site or a mirror of its layout (``…/pub/``).
    grch37
        Look in the human GRCh37 archive (``grch37/release-R``).

    Returns
    -------
    The folder URL, e.g. ``https://ftp.ensembl.org/pub/release-115/mysql/homo_sapiens_core_115_38/``.

    Raises
    ------
    EnsemblDownloadError
        If the listing cannot be read or holds no core database for the organism.
    """
    species = resolve_organism(organism)
    folder = release_folder_url(release, base_url=base_url, grch37=grch37)
    listing = _read_small(folder)
    names = {urllib.parse.unquote(h).rstrip("/").rsplit("/", 1)[-1] for h in _HREF.findall(listing)}
    pattern = re.compile(rf"^{re.escape(species)}_core_{release}_\w+$")
    matches = sorted(n for n in names if pattern.match(n))
    if not matches:
        cores = sorted(n for n in names if f"_core_{release}_" in n)
        hint = f" It lists {len(cores)} core databases, e.g. {cores[:3]}." if cores else ""
        msg = f"{folder} has no {species}_core_{release}_* folder.{hint} Is release {release} published yet?"
        raise EnsemblDownloadError(msg)
    if len(matches) > 1:
        logger.info("several core databases for %s in %s: %s; using %s", species, folder, matches, matches[-1])
    return f"{folder}{matches[-1]}/"


# -- downloading ---------------------------------------------------------------------------------
def _verified(path: Path, expected: tuple[int, int] | None) -> bool:
    if not path.is_file():
        return False
    if expected is None:
        return True
    return bsd_sum(path) == expected


def fetch_ensembl_dump(
    url: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    progressbar: bool = True,
) -> Path:
    """Download a core dump folder's tables into the cache and verify them against CHECKSUMS.

    Only the schema and the tables the builder reads are downloaded. Files already in the
    cache are used again once they match ``CHECKSUMS``; a file that does not is deleted and
    downloaded again, and a download that still does not match is deleted and reported.

    Parameters
    ----------
    url
        The dump folder, e.g. from :func:`ensembl_dump_url`.
    cache_dir
        Cache folder; default ``$IDTRACK_SC_CACHE`` or the OS cache. Files go to
        ``<cache>/ensembl/<folder name>/``.
    progressbar
        Show download progress bars.

    Returns
    -------
    The local folder, ready for :func:`~idtrack_sc.builders.read_ensembl_dump`.

    Raises
    ------
    EnsemblDownloadError
        If ``CHECKSUMS`` or a required table is missing, a transfer fails, or a file does not
        match its checksum. Nothing unverified is left in the cache.
    """
    base = _check_url(url)
    name = urllib.parse.unquote(urllib.parse.urlsplit(base).path).rstrip("/").rsplit("/", 1)[-1]
    if not name:
        msg = f"{url} does not name a dump folder ({{species}}_core_{{release}}_{{assembly}}/)."
        raise ValueError(msg)
    schema = f"{name}.sql.gz"
    wanted = [schema] + [f"{t}.txt.gz" for t in DUMP_TABLES]
    required = {schema} | {f"{t}.txt.gz" for t in REQUIRED}
    local = shared_cache_dir(cache_dir) / "ensembl" / name
    _download_verified(base, wanted, required=required, local=local, progressbar=progressbar)
    return local


def ensembl_gtf_url(organism: str, release: int, *, base_url: str = ENSEMBL_FTP, grch37: bool = False) -> str:
    """Find the main GTF of an organism and release (``release-R/gtf/{species}/{Species}.{asm}.{R}.gtf.gz``).

    Parameters
    ----------
    organism, release, base_url, grch37
        As in :func:`ensembl_dump_url`.

    Returns
    -------
    The file's URL. The main GTF covers the chromosomes and unplaced scaffolds (not the
    patches and haplotypes of ``*.chr_patch_hapl_scaff.gtf.gz``).
    """
    species = resolve_organism(organism)
    folder = release_folder_url(release, base_url=base_url, grch37=grch37).removesuffix("mysql/")
    folder = f"{folder}gtf/{species}/"
    names = {urllib.parse.unquote(h).rsplit("/", 1)[-1] for h in _HREF.findall(_read_small(folder))}
    pattern = re.compile(rf"^{re.escape(species.capitalize())}\.[^.]+\.{release}\.gtf\.gz$")
    matches = sorted(n for n in names if pattern.match(n))
    if not matches:
        msg = f"{folder} has no {species.capitalize()}.<assembly>.{release}.gtf.gz."
        raise EnsemblDownloadError(msg)
    return folder + matches[-1]


def fetch_ensembl_gtf(url: str, *, cache_dir: str | os.PathLike | None = None, progressbar: bool = True) -> Path:
    """Download a GTF from Ensembl's FTP layout, verified against its folder's CHECKSUMS.

    Parameters
    ----------
    url
        The GTF file, e.g. from :func:`ensembl_gtf_url`.
    cache_dir, progressbar
        As in :func:`fetch_ensembl_dump`.

    Returns
    -------
    The local file.
    """
    folder, _, fname = url.rpartition("/")
    base = _check_url(folder)
    release_dir = urllib.parse.unquote(urllib.parse.urlsplit(base).path).strip("/").split("/")
    local = shared_cache_dir(cache_dir) / "ensembl" / "-".join(release_dir[-3:])
    _download_verified(base, [fname], required={fname}, local=local, progressbar=progressbar)
    return local / fname


def _download_verified(base: str, wanted: list[str], *, required: set[str], local: Path, progressbar: bool) -> None:
    """Download ``wanted`` files of the folder ``base`` into ``local``, each checked against CHECKSUMS."""
    import pooch

    kept = local / "CHECKSUMS"
    try:
        text = _read_small(base + "CHECKSUMS")
    except EnsemblDownloadError as err:
        # offline: files verified earlier against the CHECKSUMS kept beside them are still good
        if not kept.is_file():
            raise
        logger.info("%s; using the CHECKSUMS kept in %s", err, local)
        text = kept.read_text(encoding="utf-8", errors="replace")
    checksums = parse_checksums(text)
    if not checksums:
        msg = f"{base}CHECKSUMS lists no files; is {base} a folder of Ensembl's FTP site?"
        raise EnsemblDownloadError(msg)
    missing = sorted(f for f in required if f not in checksums)
    if missing:
        msg = f"{base}CHECKSUMS does not list {missing}; is {base} the right folder of Ensembl's FTP site?"
        raise EnsemblDownloadError(msg)
    local.mkdir(parents=True, exist_ok=True)
    if not kept.is_file() or kept.read_text(encoding="utf-8", errors="replace") != text:
        write_atomically(kept, lambda fh: fh.write(text.encode("utf-8")))
    scheme = urllib.parse.urlsplit(base).scheme
    for fname in wanted:
        if fname not in checksums:
            logger.info("%s%s is not published; the builder does without it", base, fname)
            continue
        target = local / fname
        expected = checksums[fname]
        if _verified(target, expected):
            logger.debug("using cached %s", target)
            continue
        target.unlink(missing_ok=True)
        logger.info("downloading %s%s", base, fname)
        if scheme == "file":
            downloader = _copy_file
        elif scheme == "ftp":
            downloader = pooch.FTPDownloader(progressbar=progressbar, timeout=TIMEOUT_S)
        else:
            downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=TIMEOUT_S)
        try:
            pooch.retrieve(base + fname, known_hash=None, fname=fname, path=local, downloader=downloader)
        except Exception as err:
            target.unlink(missing_ok=True)
            msg = f"Could not download {base}{fname}: {err}. Nothing was kept; run the command again to retry."
            raise EnsemblDownloadError(msg) from err
        got = bsd_sum(target)
        if got != expected:
            target.unlink(missing_ok=True)
            msg = (
                f"{base}{fname}: checksum {got[0]:05d} over {got[1]} blocks, but CHECKSUMS says "
                f"{expected[0]:05d} over {expected[1]} blocks. The file was deleted; the transfer was "
                "corrupted or the mirror serves another file. Run the command again to retry."
            )
            raise EnsemblDownloadError(msg)


def _copy_file(url: str, output_file: str, pooch_obj: object = None) -> None:
    """Pooch downloader for ``file:`` URLs (a local copy of the FTP layout)."""
    source = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    with source.open("rb") as src, Path(output_file).open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
