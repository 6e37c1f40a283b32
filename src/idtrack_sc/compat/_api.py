"""``API``: the reference tool's façade, answered by :func:`idtrack_sc.convert`.

Nothing in this module resolves identifiers. Each method turns the reference tool's
arguments into one call of :func:`idtrack_sc.convert` (or :func:`idtrack_sc.explain`) on a
snapshot and reshapes the conversion table into the reference tool's result dictionaries.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ..resolve import canonical_namespace, convert
from ..resolve import explain as _explain
from ..snapshot import Snapshot, load_snapshot
from ..snapshot import resolve_organism as _production_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)

#: Names that select the small snapshot embedded in the package (only when asked for by name).
EMBEDDED_NAMES = ("default", "embedded")

#: The reference tool's classification bins (:meth:`API.classify_multiple_conversion`), in its order.
CLASSIFICATION_BINS = (
    "changed_only_1_to_n",
    "changed_only_1_to_1",
    "alternative_target_1_to_1",
    "alternative_target_1_to_n",
    "matching_1_to_0",
    "matching_1_to_1",
    "matching_1_to_n",
    "input_identifiers",
)

#: How the reference tool labels results that stay on the Ensembl gene backbone.
BACKBONE = "ensembl_gene"

#: Reference-tool database names that :func:`~idtrack_sc.resolve.canonical_namespace` does not
#: spell out (lowercased). Spelling only: each stands for the same identifiers.
_EXTRA_DATABASE_NAMES = {
    "ncbi gene (formerly entrezgene)": "entrez",
    "ncbi gene (formerly entrez gene)": "entrez",
}

_SNAPSHOT_FILE = re.compile(r"^(?P<organism>[a-z][a-z0-9_]*)-(?P<release>[0-9]+)\.idtrack\.zip$")


class ConversionSummary(str):
    """The text of :meth:`API.print_binned_conversion`; shown as text (not quoted) in notebooks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class API:
    """The reference tool's ``idtrack.API``, on an idtrack-sc snapshot.

    Build the "graph" (here: load a snapshot) with :meth:`build_graph`, then convert with
    :meth:`convert_identifier` or :meth:`convert_identifier_multiple`. Results are the
    reference tool's dictionaries (``query_id``, ``target_id``, ``final_database``,
    ``graph_id``, ``last_node``, ``no_corresponding``, ``no_conversion``, ``no_target``)
    plus idtrack-sc's ``outcome`` (``"1:1"``, ``"1:n"``, ``"1:0"``) and ``reason``.

    Differences from the reference tool, by design:

    - Ensembl gene targets are unversioned (``ENSG00000141510``, not ``ENSG00000141510.20``).
    - ``from_release`` is accepted and ignored: every identifier is read in the releases it
      was valid in.
    - :meth:`print_binned_conversion` does not print: it logs the summary at INFO level on
      this module's logger and returns it as a string.
    - :meth:`configure_logger` attaches one handler to the ``idtrack_sc`` logger instead of
      configuring the root logger.
    - A whole batch is one vectorized call; there is no progress bar.

    Parameters
    ----------
    local_repository
        Folder used as the snapshot cache (the ``cache_dir`` of
        :func:`~idtrack_sc.fetch_snapshot`). Snapshot files you put there yourself, named
        ``<organism>-<release>.idtrack.zip``, are used when the registry does not list them.

    Attributes
    ----------
    snapshot
        The snapshot after :meth:`build_graph`, else ``None``.
    local_repository
        The folder given.
    logger_configured
        Whether :meth:`configure_logger` ran.

    Examples
    --------
    >>> from idtrack_sc.compat import API
    >>> api = API("./idtrack_cache")
    >>> api.build_graph(organism_name="homo_sapiens", snapshot_release="default")  # the embedded subset
    >>> api.convert_identifier("P53", final_database="HGNC Symbol")["target_id"]
    ['TP53']
    """

    def __init__(self, local_repository: str | os.PathLike) -> None:
        self.local_repository = local_repository
        self.snapshot: Snapshot | None = None
        #: default target release: the newest of the ``genome_assembly`` chosen in build_graph
        self.default_release: int | None = None
        self.logger_configured = False
        self._handler: logging.Handler | None = None

    def __repr__(self) -> str:
        graph = "no snapshot (call build_graph)" if self.snapshot is None else repr(self.snapshot)
        return f"API(local_repository={str(self.local_repository)!r}, {graph})"

    # -- setup -------------------------------------------------------------------------------
    def configure_logger(self, level: int | str | None = None) -> None:
        """Show idtrack-sc's log messages on stderr.

        Unlike the reference tool, this leaves the root logger alone (configuring it would
        change logging for the whole process): it attaches one time-stamped stream handler
        to the ``idtrack_sc`` logger. Calling it again only logs that it is done.

        Parameters
        ----------
        level
            Logging level (``logging.INFO``, ``"DEBUG"``, …); default INFO.
        """
        package = logging.getLogger("idtrack_sc")
        if self.logger_configured:
            logger.info("The logger is already configured.")
            return
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s:%(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
        )
        package.addHandler(handler)
        package.setLevel(logging.INFO if level is None else level)
        self._handler = handler
        self.logger_configured = True

    def resolve_organism(self, tentative_organism_name: str | int) -> tuple[str, int | None]:
        """Production name of an organism and the newest snapshot release available for it.

        Parameters
        ----------
        tentative_organism_name
            Any accepted spelling: ``"human"``, ``"Homo sapiens"``, ``"hsapiens"``, ``9606``, …

        Returns
        -------
        ``(production_name, latest_release)``. The release is the newest numbered snapshot
        the registry lists or ``local_repository`` holds (not Ensembl's newest release,
        which needs the network); ``None``, with a warning, if there is none.
        """
        name = _production_name(tentative_organism_name)
        releases = self._available_releases(name)
        if not releases:
            logger.warning(
                "No numbered snapshot of %s is in the registry or in %s. Fetch or build one "
                "(`idtrack-sc snapshot fetch|build`), or use build_graph(snapshot_release='default') "
                "for the small human subset embedded in the package.",
                name,
                self.local_repository,
            )
            return name, None
        return name, max(releases)

    def build_graph(
        self,
        organism_name: str | None = None,
        snapshot_release: int | str | None = None,
        genome_assembly: int | None = None,
        return_test: bool = False,
        calculate_caches: bool = True,
        *,
        organism: str | None = None,
        ensembl_release: int | str | None = None,
        snapshot: Snapshot | str | os.PathLike | None = None,
        registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
        mirror: str | os.PathLike | None = None,
        progressbar: bool = True,
    ) -> None:
        """Load the organism's snapshot (the reference tool builds its graph here).

        The snapshot comes from :func:`~idtrack_sc.fetch_snapshot` with
        ``cache_dir=local_repository`` (cached, or downloaded and verified), else from a file
        ``<organism>-<release>.idtrack.zip`` in ``local_repository``.

        Parameters
        ----------
        organism_name
            Organism (any accepted spelling). ``"default"`` selects the small human subset
            embedded in the package.
        snapshot_release
            Newest release of the snapshot, or a variant name (``"default"``); default the
            newest available.
        genome_assembly
            If given, the snapshot must cover releases of this assembly (``38`` for GRCh38,
            ``37`` for GRCh37: the GRCh37 gene set, recorded as release 75 in the shipped human
            snapshot). Conversions then default to the newest release of that assembly, so
            identifiers resolve to the GRCh37 gene set as the reference tool's GRCh37 graph
            would.
        return_test
            Ignored (the reference tool's test tracker).
        calculate_caches
            Build the resolution indexes for the newest release now rather than on first use.
        organism, ensembl_release
            Other spellings of ``organism_name`` and ``snapshot_release``.
        snapshot
            A :class:`~idtrack_sc.Snapshot`, a snapshot file, or ``"default"``; replaces the
            organism and release.
        registry, mirror, progressbar
            As in :func:`~idtrack_sc.fetch_snapshot`.
        """
        organism_name = _one_of("organism_name", organism_name, "organism", organism)
        snapshot_release = _one_of("snapshot_release", snapshot_release, "ensembl_release", ensembl_release)
        if return_test:
            logger.info("return_test is ignored: idtrack-sc has no separate test tracker.")

        if snapshot is not None:
            snap = self._snapshot_from(snapshot)
            if organism_name is not None and str(organism_name).lower() not in EMBEDDED_NAMES:
                wanted = _production_name(organism_name)
                if wanted != snap.organism:
                    msg = f"organism_name={organism_name!r} does not match the snapshot, which is for {snap.organism}."
                    raise ValueError(msg)
        elif organism_name is None:
            msg = "Give organism_name= (e.g. 'human', or 'default' for the embedded demo subset) or snapshot=."
            raise ValueError(msg)
        elif str(organism_name).strip().lower() in EMBEDDED_NAMES:
            snap = self._snapshot_from("default")
        else:
            snap = self._fetch(
                organism_name, snapshot_release, registry=registry, mirror=mirror, progressbar=progressbar
            )

        self.default_release = None
        if genome_assembly is not None:
            by_release = snap.manifest.get("release_assemblies") or dict.fromkeys(
                map(str, snap.releases), snap.assembly
            )
            matching = [
                int(r) for r, a in by_release.items() if a and re.sub(r"\D", "", a) == str(int(genome_assembly))
            ]
            if not matching:
                have = sorted({a for a in by_release.values() if a})
                msg = f"genome_assembly={genome_assembly} does not match the snapshot's assemblies {have}."
                raise ValueError(msg)
            if max(matching) != snap.latest_release:
                self.default_release = max(matching)
        self.snapshot = snap
        logger.info("Using %r.", snap)
        if calculate_caches:
            self.calculate_graph_caches()

    def calculate_graph_caches(self, for_test: bool = False) -> None:
        """Build the resolution indexes for the newest release (Ensembl genes and symbols).

        Parameters
        ----------
        for_test
            Ignored.
        """
        snap = self._require_snapshot()
        for namespace in ("ensembl_gene", "symbol"):
            if namespace in snap.namespaces:
                convert([], snapshot=snap, to=namespace)

    # -- conversion --------------------------------------------------------------------------
    def convert_identifier(
        self,
        identifier: str,
        from_release: int | None = None,
        to_release: int | None = None,
        final_database: str | None = None,
        strategy: Literal["best", "all"] = "best",
        explain: bool = False,
    ) -> dict[str, Any]:
        """Convert one identifier; the result dictionary of the reference tool.

        Parameters
        ----------
        identifier
            Any identifier: Ensembl gene/transcript/protein ID (with or without version),
            symbol (current, previous, alias), HGNC ID, Entrez ID.
        from_release
            Ignored (each identifier is read in the releases it was valid in).
        to_release
            Target Ensembl release; default the snapshot's newest.
        final_database
            Target namespace, ours or the reference tool's name (``"HGNC Symbol"``,
            ``"EntrezGene"``, ``"ensembl_gene"``); ``None`` for Ensembl gene IDs.
        strategy
            ``"best"`` applies the ranking rule; ``"all"`` keeps every candidate.
        explain
            Add ``"the_path"`` and ``"explanation"`` (see below).

        Returns
        -------
        A dictionary with

        ``target_id``
            Targets (list; one for 1→1, several for 1→n, none for 1→0 — except the
            ``no_target`` fallback below).
        ``last_node``
            ``(ensembl_gene_id, target_id)`` pairs.
        ``final_database``
            The database the targets are from: ``final_database`` as given (or
            ``"ensembl_gene"``), ``"ensembl_gene"`` for the ``no_target`` fallback, ``None``
            if the query was not found.
        ``graph_id``
            The key the query was found under (``None`` if not found).
        ``query_id``
            The query as given.
        ``no_corresponding``
            Not found in the snapshot (reasons ``not_found``, ``not_a_gene``, ``empty``).
        ``no_conversion``
            Found, but no gene at the target release (``retired``, ``not_yet_created``).
        ``no_target``
            The gene exists but has no name in ``final_database`` (``no_target_name``);
            as in the reference tool, ``target_id`` then holds the Ensembl gene(s).
        ``outcome``, ``reason``
            idtrack-sc's outcome and reason (:data:`idtrack_sc.resolve.REASONS`).
        ``the_path``, ``explanation``
            With ``explain=True``: ``{(target_id, ensembl_gene_id): ((gene, release), …)}``,
            the Ensembl history walked (the gene alone if it needed none), and the
            human-readable steps of :func:`idtrack_sc.explain`.
        """
        result = self.convert_identifier_multiple(
            [identifier],
            verbose=False,
            from_release=from_release,
            to_release=to_release,
            final_database=final_database,
            strategy=strategy,
            explain=explain,
        )
        return result[0]

    def convert_identifier_multiple(
        self,
        identifier_list: Sequence[Any],
        verbose: bool = True,
        pbar_prefix: str = "",
        *,
        from_release: int | None = None,
        to_release: int | None = None,
        final_database: str | None = None,
        strategy: Literal["best", "all"] = "best",
        explain: bool = False,
        pbar: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Convert many identifiers at once; one result dictionary per identifier, in order.

        Parameters
        ----------
        identifier_list
            Identifiers (see :meth:`convert_identifier`).
        verbose, pbar
            Log one INFO line with the counts (there is no progress bar: the batch is one
            vectorized call). ``pbar`` overrides ``verbose``.
        pbar_prefix
            Prefix of that log line.
        from_release, to_release, final_database, strategy, explain
            As in :meth:`convert_identifier`.

        Returns
        -------
        The results of :meth:`convert_identifier`, in input order.
        """
        snap = self._require_snapshot()
        if from_release is not None:
            logger.warning(
                "from_release=%r is ignored: idtrack-sc reads each identifier in the releases it was valid in.",
                from_release,
            )
        queries = list(identifier_list)
        to = self._namespace(final_database)
        table = self.conversion_table(queries, to_release=to_release, final_database=final_database, strategy=strategy)
        label = BACKBONE if final_database is None else final_database
        results = _records(table, queries, label)
        if explain:
            release = table.attrs["idtrack"]["release"]
            for res in results:
                exp = _explain(res["query_id"], snapshot=snap, to=to, release=release, strategy=strategy)
                res["the_path"] = _the_path(res, exp.paths)
                res["explanation"] = list(exp.steps)
        if verbose if pbar is None else pbar:
            counts = table["outcome"].value_counts(sort=False)
            logger.info(
                "%s%d identifiers -> %s at release %d: %s",
                f"{pbar_prefix}: " if pbar_prefix else "",
                len(table),
                table.attrs["idtrack"]["namespace"],
                table.attrs["idtrack"]["release"],
                ", ".join(f"{k} {int(v)}" for k, v in counts.items()),
            )
        return results

    def conversion_table(
        self,
        identifier_list: Sequence[Any],
        *,
        to_release: int | None = None,
        final_database: str | None = None,
        strategy: Literal["best", "all"] = "best",
    ) -> pd.DataFrame:
        """The idtrack-sc conversion table behind :meth:`~idtrack_sc.API.convert_identifier_multiple`.

        Parameters
        ----------
        identifier_list
            Identifiers.
        to_release, final_database, strategy
            As in :meth:`convert_identifier`.

        Returns
        -------
        The table of :func:`idtrack_sc.convert`: one row per identifier with target,
        outcome, reason and evidence.
        """
        snap = self._require_snapshot()
        to = self._namespace(final_database)
        release = self.default_release if to_release is None else to_release
        return convert(list(identifier_list), snapshot=snap, to=to, release=release, strategy=strategy)

    # -- reporting ---------------------------------------------------------------------------
    def classify_multiple_conversion(self, matchings: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Sort results into the reference tool's (overlapping) bins.

        Parameters
        ----------
        matchings
            Results of :meth:`convert_identifier_multiple`.

        Returns
        -------
        Results by bin (``CLASSIFICATION_BINS``): ``input_identifiers`` (all),
        ``matching_1_to_0`` (``no_corresponding`` or ``no_conversion``),
        ``matching_1_to_1`` / ``matching_1_to_n`` (one / several targets),
        ``changed_only_1_to_1`` / ``changed_only_1_to_n`` (the query is not among the
        targets), ``alternative_target_1_to_1`` / ``alternative_target_1_to_n``
        (``no_target``: Ensembl genes stand in for a missing name).
        """
        bins: dict[str, list[dict[str, Any]]] = {name: [] for name in CLASSIFICATION_BINS}
        for res in matchings:
            bins["input_identifiers"].append(res)
            if res["no_corresponding"] or res["no_conversion"]:
                bins["matching_1_to_0"].append(res)
                continue
            targets = res["target_id"]
            if not targets:
                msg = (
                    f"Result for query_id={res.get('query_id')!r} has no target_id although no_corresponding and "
                    "no_conversion are False; it is not a result of convert_identifier(_multiple)."
                )
                raise ValueError(msg)
            size = "1_to_1" if len(targets) == 1 else "1_to_n"
            if res["no_target"]:
                bins[f"alternative_target_{size}"].append(res)
                continue
            if res["query_id"] not in targets:
                bins[f"changed_only_{size}"].append(res)
            bins[f"matching_{size}"].append(res)
        return bins

    def print_binned_conversion(
        self, classified: dict[str, list[dict[str, Any]]] | Sequence[dict[str, Any]]
    ) -> ConversionSummary:
        """Summarize binned results; logged at INFO level and returned (this does not print).

        Parameters
        ----------
        classified
            Output of :meth:`classify_multiple_conversion`, or the results themselves.

        Returns
        -------
        The summary (a :class:`str`, displayed as text in notebooks): totals and percentages
        of 1→0, 1→1 and 1→n with their changed and alternative-target parts, and the
        ``no_*`` flag counts.
        """
        if not isinstance(classified, dict):
            classified = self.classify_multiple_conversion(classified)
        n = {name: len(classified.get(name, [])) for name in CLASSIFICATION_BINS}
        results = classified.get("input_identifiers", [])
        total = n["input_identifiers"]
        one_one = n["matching_1_to_1"] + n["alternative_target_1_to_1"]
        one_n = n["matching_1_to_n"] + n["alternative_target_1_to_n"]

        def part(count: int, whole: int) -> str:
            return f"{count} ({100 * count / whole if whole else 0:.1f}%)"

        lines = [
            "IDTrack conversion summary:",
            f"  Total processed: {total}",
            f"  1→0: {part(n['matching_1_to_0'], total)}",
            f"  1→1: {part(one_one, total)}",
            f"    Changed only: {part(n['changed_only_1_to_1'], one_one)}",
            f"    Alternative targets: {part(n['alternative_target_1_to_1'], one_one)}",
            f"    Rest: {part(n['matching_1_to_1'] - n['changed_only_1_to_1'], one_one)}",
            f"  1→n: {part(one_n, total)}",
            f"    Changed only: {part(n['changed_only_1_to_n'], one_n)}",
            f"    Alternative targets: {part(n['alternative_target_1_to_n'], one_n)}",
            "  Diagnostics:",
            f"    no_corresponding: {sum(bool(r['no_corresponding']) for r in results)}",
            f"    no_conversion:   {sum(bool(r['no_conversion']) for r in results)}",
            f"    no_target:       {sum(bool(r['no_target']) for r in results)}",
        ]
        text = ConversionSummary("\n".join(lines))
        logger.info("\n%s", text)
        return text

    # -- introspection -----------------------------------------------------------------------
    def infer_identifier_source(
        self, id_list: Sequence[Any], mode: str = "assembly_ensembl_release", report_only_winner: bool = True
    ) -> Any:
        """Guess where a list of identifiers comes from: namespace, assembly and release.

        Counts, for every covered release, the identifiers the snapshot saw in that release
        (columns ``found_first``/``found_last`` of the conversion table), and takes the most
        common namespace (``query_namespace``). Identifiers from undated sources count for
        no release.

        Parameters
        ----------
        id_list
            Identifiers.
        mode
            ``"complete"`` (namespace, assembly, release), ``"ensembl_release"``,
            ``"assembly"`` or ``"assembly_ensembl_release"`` (assembly, release).
        report_only_winner
            Return the best origin only; else ``(origin, count)`` pairs, best first (ties:
            newer release first).

        Returns
        -------
        The origin(s) in the shape ``mode`` asks for; the assembly is the number in the
        snapshot's assembly name (``38`` for ``GRCh38``).
        """
        modes = ("complete", "ensembl_release", "assembly", "assembly_ensembl_release")
        if mode not in modes:
            msg = f"mode must be one of {', '.join(modes)}, got {mode!r}."
            raise ValueError(msg)
        snap = self._require_snapshot()
        table = convert(list(id_list), snapshot=snap)
        found = table["key"].notna()
        if not found.all():
            logger.warning("Number of unfound IDs: %d.", int((~found).sum()))
        first = table["found_first"].to_numpy(dtype="float64", na_value=float("nan"))
        last = table["found_last"].to_numpy(dtype="float64", na_value=float("nan"))
        by_release = [(int(((first <= r) & (r <= last)).sum()), r) for r in snap.releases]
        by_release.sort(key=lambda cr: (-cr[0], -cr[1]))
        digits = re.sub(r"\D", "", snap.assembly or "")
        assembly = int(digits) if digits else snap.assembly
        namespaces = table.loc[found, "query_namespace"].astype(str).value_counts()
        database = str(namespaces.index[0]) if len(namespaces) else None
        if mode == "ensembl_release":
            ranked = [(r, c) for c, r in by_release]
        elif mode == "assembly":
            ranked = [(assembly, int(found.sum()))]
        elif mode == "assembly_ensembl_release":
            ranked = [((assembly, r), c) for c, r in by_release]
        else:
            ranked = [((database, assembly, r), c) for c, r in by_release]
        return ranked[0][0] if report_only_winner else ranked

    def list_external_databases(self) -> set[str]:
        """Namespaces other than Ensembl genes that the snapshot can convert to."""
        return set(self._require_snapshot().namespaces) - {BACKBONE}

    def list_genome_assemblies(self) -> set[int | str]:
        """The genome assemblies of the snapshot's releases (``{37, 38}`` for GRCh37 and GRCh38)."""
        snap = self._require_snapshot()
        assemblies = set((snap.manifest.get("release_assemblies") or {}).values()) | {snap.assembly}
        out: set[int | str] = set()
        for assembly in assemblies - {None}:
            digits = re.sub(r"\D", "", assembly)
            out.add(int(digits) if digits else assembly)
        return out

    def list_ensembl_releases(self) -> list[int]:
        """Ensembl releases the snapshot covers, ascending."""
        return list(self._require_snapshot().releases)

    # -- helpers -----------------------------------------------------------------------------
    def _require_snapshot(self) -> Snapshot:
        if self.snapshot is None:
            msg = "No snapshot is attached to this API instance. Call `API.build_graph(...)` first."
            raise RuntimeError(msg)
        return self.snapshot

    def _namespace(self, final_database: str | None) -> str:
        if final_database is None:
            return BACKBONE
        if not isinstance(final_database, str):
            msg = f"final_database must be a database name such as 'HGNC Symbol', got {final_database!r}."
            raise TypeError(msg)
        name = _EXTRA_DATABASE_NAMES.get(" ".join(final_database.lower().split()), final_database)
        return canonical_namespace(name, self._require_snapshot().namespaces)

    def _snapshot_from(self, snapshot: Snapshot | str | os.PathLike) -> Snapshot:
        if isinstance(snapshot, Snapshot):
            return snapshot
        if isinstance(snapshot, str) and snapshot.strip().lower() in EMBEDDED_NAMES:
            from ..datasets import default_snapshot

            return default_snapshot()
        if isinstance(snapshot, str | os.PathLike):
            return load_snapshot(Path(snapshot))
        msg = f"snapshot must be a Snapshot, a file path or 'default', got {type(snapshot).__name__}."
        raise TypeError(msg)

    def _local_files(self, organism: str) -> dict[int, Path]:
        folder = Path(self.local_repository).expanduser()
        if not folder.is_dir():
            return {}
        files = {}
        for path in folder.glob(f"{organism}-*.idtrack.zip"):
            match = _SNAPSHOT_FILE.match(path.name)
            if match is not None and match["organism"] == organism:
                files[int(match["release"])] = path
        return files

    def _available_releases(self, organism: str) -> set[int]:
        from ..registry import load_registry

        releases = set(self._local_files(organism))
        try:
            entries = load_registry()
        except (OSError, ValueError) as err:
            logger.warning("Cannot read the snapshot registry: %s", err)
            entries = {}
        releases |= {e.release for e in entries.values() if e.organism == organism and e.release is not None}
        return releases

    def _fetch(
        self,
        organism: str,
        release: int | str | None,
        *,
        registry: str | os.PathLike | Iterable[str | os.PathLike] | None,
        mirror: str | os.PathLike | None,
        progressbar: bool,
    ) -> Snapshot:
        from ..registry import SnapshotChecksumError, fetch_snapshot

        name = _production_name(organism)
        try:
            return fetch_snapshot(
                name,
                release,
                registry=registry,
                mirror=mirror,
                cache_dir=self.local_repository,
                progressbar=progressbar,
            )
        except SnapshotChecksumError:
            raise
        except ValueError as err:  # the registry does not list it: look in local_repository
            local = self._local_files(name)
            if isinstance(release, str) and release.strip().isdigit():
                release = int(release)
            if release is None and local:
                release = max(local)
            if isinstance(release, int) and release in local:
                logger.info("Snapshot %s is not in the registry; using the file in local_repository.", local[release])
                return load_snapshot(local[release])
            msg = f"{err} No file {name}-{release if release is not None else '<release>'}.idtrack.zip in {self.local_repository} either."
            raise ValueError(msg) from err


def _one_of(name: str, value: Any, other_name: str, other: Any) -> Any:
    """One value given under either of two argument names."""
    if value is not None and other is not None and value != other:
        msg = f"Give {name}= or {other_name}=, not both ({value!r} vs {other!r})."
        raise ValueError(msg)
    return value if value is not None else other


def _pylist(column: pd.Series) -> list[Any]:
    """Column values as Python objects, missing values as ``None``."""
    return [None if pd.isna(v) else v for v in column.astype(object).tolist()]


def _records(table: pd.DataFrame, queries: list[Any], label: str) -> list[dict[str, Any]]:
    """Reshape a conversion table into the reference tool's result dictionaries."""
    out = []
    columns = zip(
        queries,
        _pylist(table["target"]),
        _pylist(table["targets"]),
        _pylist(table["outcome"]),
        _pylist(table["reason"]),
        _pylist(table["key"]),
        _pylist(table["gene_id"]),
        strict=True,
    )
    for query, target, targets, outcome, reason, key, genes in columns:
        gene_list = genes.split("|") if genes else []
        target_list = targets.split("|") if targets else []
        no_corresponding = key is None
        no_target = outcome == "1:0" and reason == "no_target_name" and bool(gene_list)
        no_conversion = outcome == "1:0" and not no_corresponding and not no_target
        database: str | None = label
        if no_corresponding:
            database, targets_out, pairs = None, [], []
        elif no_conversion:
            targets_out, pairs = [], []
        elif no_target:  # the reference tool's fallback: the Ensembl genes stand in
            database, targets_out, pairs = BACKBONE, gene_list, [(g, g) for g in gene_list]
        else:
            pairs = list(zip(gene_list, target_list, strict=True)) if len(gene_list) == len(target_list) else []
            if outcome == "1:1":
                targets_out = [target]
                pairs = [p for p in pairs if p[1] == target] or [(g, target) for g in gene_list[:1]]
            else:
                targets_out = target_list
        out.append(
            {
                "target_id": targets_out,
                "last_node": pairs,
                "final_database": database,
                "graph_id": key,
                "query_id": query,
                "no_corresponding": no_corresponding,
                "no_conversion": no_conversion,
                "no_target": no_target,
                "outcome": outcome,
                "reason": reason,
            }
        )
    return out


def _the_path(result: dict[str, Any], paths: list[list[tuple[str, int | None]]]) -> dict[tuple[str, str], tuple]:
    """The reference tool's ``the_path``: history walked to each (target, gene) pair."""
    walked = {}
    for path in paths:
        walked.setdefault(path[-1][0], tuple(path))
    return {(target, gene): walked.get(gene, ((gene, None),)) for gene, target in result["last_node"]}
