"""``API``: the reference tool's façade, answered by :func:`idtrack_sc.convert`.

Nothing in this module resolves identifiers. Each method turns the reference tool's
arguments into one call of :func:`idtrack_sc.convert` (or :func:`idtrack_sc.explain`) on a
snapshot and reshapes the conversion table into the reference tool's result dictionaries.
"""

from __future__ import annotations

import logging
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..registry import EMBEDDED_NAMES
from ..resolve import assembly_number, canonical_namespace, convert, history_graph, snapshot_cache
from ..resolve import explain as _explain
from ..snapshot import load_snapshot
from ..snapshot import resolve_organism as _production_name

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence

    import networkx as nx

    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

#: The reference tool's classification bins (:meth:`~idtrack_sc.API.classify_multiple_conversion`), in its order.
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

#: How the reference tool labels results that stay on the Ensembl gene backbone (versioned IDs).
BACKBONE = "ensembl_gene"
#: The reference tool's name for unversioned Ensembl gene IDs.
BASE_BACKBONE = "base_ensembl_gene"

#: The reference tool's database names for idtrack-sc namespaces (symbols: per organism).
REFERENCE_DATABASES = {"entrez": "EntrezGene", "uniprot": "Uniprot/SWISSPROT", "refseq": "RefSeq_mRNA"}
SYMBOL_DATABASES = {"homo_sapiens": "HGNC Symbol", "mus_musculus": "MGI Symbol"}

#: Reference-tool database names that stand for the same identifiers as one of ours (lowercased).
_EXTRA_DATABASE_NAMES = {
    "ncbi gene (formerly entrezgene)": "entrez",
    "ncbi gene (formerly entrez gene)": "entrez",
    "ncbi gene": "entrez",
    "synonym_id::entrezgene": "entrez",
    "synonym_id::hgnc symbol": "hgnc symbol",
    "synonym_id::mgi symbol": "mgi symbol",
}

#: Databases of the reference tool that no idtrack-sc snapshot holds.
_REFERENCE_ONLY = {
    "ccds",
    "uniprot/sptrembl",
    "refseq_peptide",
    "refseq_peptide_predicted",
    "refseq_mrna_predicted",
    "refseq_ncrna",
    "refseq_ncrna_predicted",
    "havana gene",
    "havana transcript",
    "havana translation",
    "vega gene",
    "vega_gene",
    "clone_based_ensembl_gene",
    "clone_based_vega_gene",
    "uniprotkb gene name",
    "rfam",
    "ensembl_transcript",
    "ensembl_translation",
    "base_ensembl_transcript",
    "base_ensembl_translation",
}

#: Ensembl's assembly changes (release -> assembly number from that release on), for snapshots
#: whose manifest records only the newest assembly.
_ASSEMBLY_HISTORY = {
    "homo_sapiens": ((0, 36), (55, 37), (76, 38)),
    "mus_musculus": ((0, 37), (68, 38), (103, 39)),
}

_SNAPSHOT_FILE = re.compile(r"^(?P<organism>[a-z][a-z0-9_]*)-(?P<release>[0-9]+)\.idtrack\.zip$")

#: Marks the one handler :meth:`~idtrack_sc.API.configure_logger` attaches, whatever the instance.
_HANDLER_MARK = "_idtrack_sc_compat_handler"


class ConversionSummary(str):
    """The text of :meth:`~idtrack_sc.API.print_binned_conversion`; shown as text (not quoted) in notebooks."""

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
    ``track`` holds the reference tool's tracker: ``api.track.graph`` is the history as
    a :class:`networkx.MultiDiGraph`, ``api.track.convert(...)`` one conversion in the
    tracker's shape.

    Differences from the reference tool, by design (see the documentation page for users of
    the reference tool for the whole table):

    - :meth:`configure_logger` attaches one handler to the ``idtrack_sc`` logger (once per
      process) instead of configuring the root logger.
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
    snapshot_release
        The newest release conversions may target (``snapshot_release`` of :meth:`build_graph`).
    default_release
        The release conversions target by default: ``snapshot_release``, or the newest release
        of the ``genome_assembly`` given to :meth:`build_graph`.
    track
        The tracker after :meth:`build_graph` (:class:`~idtrack_sc.compat.Track`), else ``None``.
    local_repository
        The folder given.
    logger_configured
        Whether :meth:`configure_logger` ran on this instance.

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
        self.snapshot_release: int | None = None
        self.default_release: int | None = None
        self.track: Track | None = None
        self.logger_configured = False
        self._handler: logging.Handler | None = None

    def __repr__(self) -> str:
        if self.snapshot is None:
            return f"API(local_repository={str(self.local_repository)!r}, no snapshot (call build_graph))"
        return (
            f"API(local_repository={str(self.local_repository)!r}, {self.snapshot!r}, "
            f"snapshot_release={self.snapshot_release})"
        )

    # -- setup -------------------------------------------------------------------------------
    def configure_logger(self, level: int | str | None = None) -> None:
        """Show idtrack-sc's log messages on stderr.

        Unlike the reference tool, this leaves the root logger alone (configuring it would
        change logging for the whole process): it attaches one time-stamped stream handler
        to the ``idtrack_sc`` logger. Like the reference tool's, it sets logging up once per
        process: later calls, from this or any other :class:`~idtrack_sc.API` or
        :class:`~idtrack_sc.HarmonizeFeatures`, add no handler (so no line is printed
        twice); a later call with a ``level`` changes the level.

        Parameters
        ----------
        level
            Logging level (``logging.INFO``, ``"DEBUG"``, …); default INFO for the first call,
            unchanged for later ones.
        """
        package = logging.getLogger("idtrack_sc")
        existing = [h for h in package.handlers if getattr(h, _HANDLER_MARK, False)]
        if existing:
            if level is not None:
                package.setLevel(level)
            if self.logger_configured:
                logger.info("The logger is already configured.")
            self.logger_configured = True
            self._handler = existing[0]
            return
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s:%(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
        )
        setattr(handler, _HANDLER_MARK, True)
        package.addHandler(handler)
        package.setLevel(logging.INFO if level is None else level)
        self._handler = handler
        self.logger_configured = True

    def resolve_organism(self, tentative_organism_name: str | int) -> tuple[str, int]:
        """Production name of an organism and the newest snapshot release available for it.

        Parameters
        ----------
        tentative_organism_name
            Any accepted spelling: ``"human"``, ``"Homo sapiens"``, ``"hsapiens"``, ``9606``, …

        Returns
        -------
        ``(production_name, latest_release)``. The release is the newest numbered snapshot
        the registry lists (including those shipped with the package) or
        ``local_repository`` holds; not Ensembl's newest release, which needs the network.

        Raises
        ------
        ValueError
            If the organism is unknown, or no snapshot of it is available (the message says
            how to get one).
        """
        name = _production_name(tentative_organism_name)
        releases = self._available_releases(name)
        if not releases:
            msg = (
                f"No snapshot of {name} is in the snapshot registry or in {self.local_repository}. "
                "Build one (`idtrack-sc snapshot build`, idtrack_sc.builders) and put it there as "
                f"{name}-<release>.idtrack.zip, or add a registry file listing it (IDTRACK_SC_REGISTRY). "
                "build_graph(organism_name='default') loads the small human subset embedded in the package."
            )
            raise ValueError(msg)
        return name, max(releases)

    def get_database_manager(
        self,
        organism_name: str,
        snapshot_release: int,
        genome_assembly: int | None = None,
        ignore_before: int | None = None,
    ) -> SnapshotManager:
        """Where this organism's data come from, bounded by ``snapshot_release``.

        The reference tool returns a manager of Ensembl database downloads here; idtrack-sc
        reads prebuilt snapshot files instead, so this returns a :class:`~idtrack_sc.compat.SnapshotManager`
        with the same bounds and the same ``available_releases``. It has no database
        connection: build snapshots with ``idtrack-sc snapshot build`` or
        :mod:`idtrack_sc.builders`.

        Parameters
        ----------
        organism_name
            Organism (any accepted spelling).
        snapshot_release
            Newest release to use.
        genome_assembly
            Assembly number the releases must belong to (``38``), or ``None`` for all.
        ignore_before
            Oldest release to use (default: the snapshot's oldest).
        """
        organism = _production_name(organism_name)
        loaded = self.snapshot
        usable = loaded is not None and loaded.organism == organism and int(snapshot_release) <= loaded.latest_release
        return SnapshotManager(
            self,
            organism=organism,
            snapshot_release=snapshot_release,
            genome_assembly=genome_assembly,
            ignore_before=ignore_before,
            snapshot=loaded if usable else None,
        )

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

        ``snapshot_release`` is, as in the reference tool, the newest release the "graph"
        holds: the oldest snapshot that covers it is used — a file
        ``<organism>-<release>.idtrack.zip`` in ``local_repository`` as it is, else one
        from :func:`~idtrack_sc.fetch_snapshot` with ``cache_dir=local_repository`` (the
        registry includes the snapshots shipped with the package) — and conversions may
        target any covered release up to it (the default target).

        Parameters
        ----------
        organism_name
            Organism (any accepted spelling). ``"default"`` selects the small human subset
            embedded in the package.
        snapshot_release
            Newest release conversions may target; default the newest available. A variant
            name (``"default"``) selects that snapshot file.
        genome_assembly
            If given, an assembly the snapshot holds up to ``snapshot_release`` (``38`` for
            GRCh38; ``37`` where a snapshot carries a GRCh37 gene set); conversions then default
            to the newest release of that assembly, as in the reference tool, whose graph's
            primary assembly this selects.
        return_test
            Ignored (the reference tool's test tracker).
        calculate_caches
            Read the snapshot's key table now rather than on first use (conversions resolve the
            identifiers they are asked about, so there is nothing else to build ahead).
        organism, ensembl_release
            Other spellings of ``organism_name`` and ``snapshot_release``.
        snapshot
            A :class:`~idtrack_sc.Snapshot`, a snapshot file, or ``"default"``; replaces the
            organism and the choice of file.
        registry, mirror, progressbar
            As in :func:`~idtrack_sc.fetch_snapshot`.
        """
        organism_name = _one_of("organism_name", organism_name, "organism", organism)
        snapshot_release = _one_of("snapshot_release", snapshot_release, "ensembl_release", ensembl_release)
        if return_test:
            logger.info("return_test is ignored: idtrack-sc has no separate test tracker.")
        release = _release_number(snapshot_release)

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
        elif str(organism_name).strip().lower() in EMBEDDED_NAMES or (
            isinstance(snapshot_release, str) and snapshot_release.strip().lower() in EMBEDDED_NAMES
        ):
            wanted = None if str(organism_name).strip().lower() in EMBEDDED_NAMES else _production_name(organism_name)
            snap = self._snapshot_from("default")
            if wanted is not None and wanted != snap.organism:
                msg = f"organism_name={organism_name!r} does not match the embedded snapshot, which is for {snap.organism}."
                raise ValueError(msg)
        elif isinstance(snapshot_release, str) and release is None:
            snap = self._fetch(
                organism_name, snapshot_release, registry=registry, mirror=mirror, progressbar=progressbar
            )
        else:
            snap = self._fetch(
                organism_name,
                self._file_release(organism_name, release, registry=registry),
                registry=registry,
                mirror=mirror,
                progressbar=progressbar,
            )

        cap = snap.latest_release if release is None else release
        if not snap.releases or not snap.releases[0] <= cap <= snap.latest_release:
            msg = (
                f"snapshot_release={cap} is outside the releases of {snap!r}; "
                f"give one from {snap.releases[0]} to {snap.latest_release}."
            )
            raise ValueError(msg)
        default = cap
        if genome_assembly is not None:
            held = _release_assemblies(snap)
            of_assembly = [r for r, a in held.items() if a == int(genome_assembly) and r <= cap]
            if not of_assembly:
                have = sorted({a for r, a in held.items() if a is not None and r <= cap})
                msg = (
                    f"genome_assembly={genome_assembly} is not in {snap!r} up to release {cap}, which holds "
                    f"{have or 'no known assembly'}."
                )
                raise ValueError(msg)
            default = max(of_assembly)
        self.snapshot, self.snapshot_release, self.default_release = snap, cap, default
        self.track = Track(self)
        logger.info("Using %r up to release %d.", snap, cap)
        if calculate_caches:
            self.calculate_graph_caches()

    def calculate_graph_caches(self, for_test: bool = False) -> None:
        """Read the snapshot's key table now (what the reference tool's graph caches stand for).

        Parameters
        ----------
        for_test
            Also build ``graph`` (the reference tool computes its test-only caches).
        """
        snap = self._require_snapshot()
        for namespace in ("ensembl_gene", "symbol"):
            if namespace in snap.namespaces:
                convert([], snapshot=snap, to=namespace, release=self.default_release)
        if for_test:
            _ = self._require_track().graph

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
            The release the identifier comes from, as in the reference tool: a symbol is read
            in its meaning at that release (see :func:`idtrack_sc.convert`); default its
            meaning at the target release.
        to_release
            Target Ensembl release, up to ``snapshot_release`` (default ``default_release``).
        final_database
            Target database in the reference tool's spelling (``"HGNC Symbol"`` on human,
            ``"MGI Symbol"`` on mouse, ``"EntrezGene"``, ``"ensembl_gene"``,
            ``"base_ensembl_gene"``) or idtrack-sc's (``"symbol"``, ``"entrez"``, ``"hgnc_id"``);
            ``None`` for versioned Ensembl gene IDs. :meth:`list_external_databases` lists them.
        strategy
            ``"best"`` applies the ranking rule; ``"all"`` keeps every candidate.
        explain
            Add ``"the_path"`` and ``"explanation"`` (see below).

        Returns
        -------
        A dictionary with

        ``target_id``
            Targets (list; one for 1→1, several for 1→n, none for 1→0 — except the
            ``no_target`` fallback below). Ensembl gene IDs carry their version at the
            target release (``ENSG00000141510.19``), as in the reference tool;
            ``final_database="base_ensembl_gene"`` gives them without.
        ``last_node``
            ``(ensembl_gene_id, target_id)`` pairs, the Ensembl gene versioned.
        ``final_database``
            The database the targets are from: ``final_database`` as given (or
            ``"ensembl_gene"``), ``"ensembl_gene"`` for the ``no_target`` fallback, ``None``
            if the query was not found.
        ``graph_id``
            The key the query was found under (``None`` if not found).
        ``query_id``
            The query as given.
        ``no_corresponding``
            Not found in the snapshot (reasons ``not_found``, ``not_a_gene``, ``empty``,
            ``missing_value``, ``not_a_name``, ``other_organism``).
        ``no_conversion``
            Found, but no gene at the target release (``retired``, ``not_yet_created``, …).
        ``no_target``
            The gene exists but has no name in ``final_database`` (``no_target_name``);
            as in the reference tool, ``target_id`` then holds the Ensembl gene(s) and
            ``final_database`` is ``"ensembl_gene"``.
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
        queries = list(identifier_list)
        to, label, versioned = self._database(final_database)
        release = self._target_release(to_release)
        table = convert(queries, snapshot=snap, to=to, release=release, strategy=strategy, from_release=from_release)
        results = _records(table, queries, label, _version_map(snap, release), version_targets=versioned)
        if explain:
            for res in results:
                exp = _explain(
                    res["query_id"], snapshot=snap, to=to, release=release, strategy=strategy, from_release=from_release
                )
                res["the_path"] = _the_path(res, exp.paths)
                res["explanation"] = list(exp.steps)
        if verbose if pbar is None else pbar:
            logger.info(
                "%s%d identifiers -> %s at release %d: %s",
                f"{pbar_prefix}: " if pbar_prefix else "",
                len(table),
                label,
                release,
                _bin_counts(self.classify_multiple_conversion(results)),
            )
        return results

    def conversion_table(
        self,
        identifier_list: Sequence[Any],
        *,
        from_release: int | None = None,
        to_release: int | None = None,
        final_database: str | None = None,
        strategy: Literal["best", "all"] = "best",
    ) -> pd.DataFrame:
        """The idtrack-sc conversion table behind :meth:`~idtrack_sc.API.convert_identifier_multiple`.

        Parameters
        ----------
        identifier_list
            Identifiers.
        from_release, to_release, final_database, strategy
            As in :meth:`convert_identifier`.

        Returns
        -------
        The table of :func:`idtrack_sc.convert`: one row per identifier with target,
        outcome, reason and evidence (Ensembl IDs without version).
        """
        snap = self._require_snapshot()
        to, _, _ = self._database(final_database)
        return convert(
            list(identifier_list),
            snapshot=snap,
            to=to,
            release=self._target_release(to_release),
            strategy=strategy,
            from_release=from_release,
        )

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
        self, classified: dict[str, list[dict[str, Any]]] | Sequence[dict[str, Any]], *, title: str | None = None
    ) -> ConversionSummary:
        """Summarize binned results; logged at INFO level and returned (this does not print).

        Parameters
        ----------
        classified
            Output of :meth:`classify_multiple_conversion`, or the results themselves.
        title
            What was converted (a dataset's name), shown in the summary's first line.

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
            f"IDTrack conversion summary of {title}:" if title else "IDTrack conversion summary:",
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
        """Guess where a list of identifiers comes from: database, assembly and release.

        As in the reference tool, every identifier found votes once for each origin it is
        valid in (the releases of its ``found_first``–``found_last`` range up to
        ``snapshot_release``, with the assembly of each release), and origins are
        ranked by votes. Identifiers from undated sources (e.g. HGNC-only aliases) vote for
        the newest release.

        Parameters
        ----------
        id_list
            Identifiers.
        mode
            ``"complete"`` (database, assembly, release), ``"ensembl_release"`` (release),
            ``"assembly"`` (assembly number) or ``"assembly_ensembl_release"`` (assembly,
            release).
        report_only_winner
            Return the best origin only; else ``(origin, count)`` pairs, best first (ties:
            newer first).

        Returns
        -------
        The origin(s) in the shape ``mode`` asks for. Database names are the reference
        tool's (``"ensembl_gene"``, ``"HGNC Symbol"``, ``"EntrezGene"``, …).
        """
        modes = ("complete", "ensembl_release", "assembly", "assembly_ensembl_release")
        if mode not in modes:
            msg = f"mode must be one of {', '.join(modes)}, got {mode!r}."
            raise ValueError(msg)
        snap = self._require_snapshot()
        table = convert(list(id_list), snapshot=snap, release=self.snapshot_release)
        found = table["key"].notna().to_numpy()
        if not found.all():
            logger.warning("Number of unfound IDs: %d.", int((~found).sum()))
        assemblies = _release_assemblies(snap)
        releases = [r for r in snap.releases if r <= self.snapshot_release]
        first = table["found_first"].to_numpy(dtype="float64", na_value=np.nan)[found]
        last = table["found_last"].to_numpy(dtype="float64", na_value=np.nan)[found]
        undated = np.isnan(first)
        first, last = np.where(undated, releases[-1], first), np.where(undated, releases[-1], last)
        names = self._database_names()
        database = np.array(
            [names.get(str(ns), str(ns)) for ns in table.loc[found, "query_namespace"].astype(str)], dtype=object
        )
        votes: dict[Any, int] = {}
        for r in releases:
            inside = (first <= r) & (r <= last)
            asm = assemblies.get(r)
            if mode == "ensembl_release":
                votes[r] = votes.get(r, 0) + int(inside.sum())
            elif mode == "assembly_ensembl_release":
                votes[(asm, r)] = int(inside.sum())
            elif mode == "complete":
                for db, count in zip(*np.unique(database[inside].astype(str), return_counts=True), strict=True):
                    votes[(str(db), asm, r)] = int(count)
        if mode == "assembly":  # one vote per identifier and assembly it is valid in
            for asm in sorted(set(assemblies.values()), key=lambda a: (a is None, a)):
                rs = [r for r in releases if assemblies.get(r) == asm]
                inside = np.zeros(len(first), dtype=bool)
                for r in rs:
                    inside |= (first <= r) & (r <= last)
                votes[asm] = int(inside.sum())
        ranked = sorted(votes.items(), key=lambda oc: (-oc[1], _newest_first(oc[0])))
        ranked = [(o, c) for o, c in ranked if c > 0] or ranked[:1]
        if report_only_winner:
            return ranked[0][0] if ranked else None
        return ranked

    def list_external_databases(self) -> set[str]:
        """Databases other than Ensembl genes the snapshot can convert to, by the reference tool's names."""
        return set(self._database_names(backbone=False).values())

    def list_genome_assemblies(self) -> set[int]:
        """Assembly numbers of the releases the snapshot covers up to ``snapshot_release`` (``{38}``)."""
        self._require_snapshot()
        return {
            a for r, a in _release_assemblies(self.snapshot).items() if r <= self.snapshot_release and a is not None
        }

    def list_external_databases_by_assembly(self) -> dict[int, set[str]]:
        """For each assembly, the databases with names in its releases (undated sources: the newest)."""
        snap = self._require_snapshot()
        assemblies = {r: a for r, a in _release_assemblies(snap).items() if r <= self.snapshot_release}
        names = snap.names[["namespace", "first_release", "last_release"]]
        newest = assemblies[max(assemblies)]
        labels = self._database_names(backbone=False)
        out: dict[int, set[str]] = {a: set() for a in assemblies.values() if a is not None}
        undated = names["first_release"].isna()
        if undated.any() and newest is not None:
            out[newest] |= {labels[ns] for ns in names.loc[undated, "namespace"].unique() if ns in labels}
        dated = names.loc[~undated]
        for r, asm in assemblies.items():
            if asm is None:
                continue
            inside = (dated["first_release"] <= r) & (r <= dated["last_release"])
            out[asm] |= {labels[ns] for ns in dated.loc[inside, "namespace"].unique() if ns in labels}
        return out

    def external_database_forms(self) -> dict[str, str]:
        """The Ensembl form each database attaches to: ``"gene"`` for every one (snapshots name genes)."""
        return dict.fromkeys(self.list_external_databases(), "gene")

    def list_ensembl_releases(self) -> list[int]:
        """Ensembl releases the snapshot covers up to ``snapshot_release``, ascending."""
        snap = self._require_snapshot()
        return [r for r in snap.releases if r <= self.snapshot_release]

    # -- helpers -----------------------------------------------------------------------------
    def _require_snapshot(self) -> Snapshot:
        if self.snapshot is None:
            msg = "No snapshot is attached to this API instance. Call `API.build_graph(...)` first."
            raise RuntimeError(msg)
        return self.snapshot

    def _require_track(self) -> Track:
        self._require_snapshot()
        return self.track

    def _target_release(self, to_release: int | None) -> int:
        snap = self._require_snapshot()
        if to_release is None:
            return self.default_release
        release = _release_number(to_release)
        if release is None:
            msg = f"to_release must be an Ensembl release number, got {to_release!r}."
            raise TypeError(msg)
        if release > self.snapshot_release:
            msg = (
                f"to_release={release} is newer than the graph's newest release {self.snapshot_release}; "
                f"call build_graph(snapshot_release={release}) to include it"
                + ("." if release <= snap.latest_release else f" (this snapshot ends at {snap.latest_release}).")
            )
            raise ValueError(msg)
        return release

    def _database_names(self, *, backbone: bool = True) -> dict[str, str]:
        """Our namespace -> the reference tool's database name, for this snapshot."""
        snap = self._require_snapshot()
        out = {}
        for ns in snap.namespaces:
            if ns == "ensembl_gene":
                if backbone:
                    out[ns] = BACKBONE
            elif ns == "symbol":
                out[ns] = SYMBOL_DATABASES.get(snap.organism, "symbol")
            else:
                out[ns] = REFERENCE_DATABASES.get(ns, ns)
        return out

    def _database(self, final_database: str | None) -> tuple[str, str, bool]:
        """``(namespace, label, versioned)`` for a ``final_database`` in either tool's spelling."""
        snap = self._require_snapshot()
        if final_database is None:
            return "ensembl_gene", BACKBONE, True
        if not isinstance(final_database, str):
            msg = f"final_database must be a database name such as 'HGNC Symbol', got {final_database!r}."
            raise TypeError(msg)
        key = " ".join(final_database.lower().split())
        if key == BASE_BACKBONE:
            return "ensembl_gene", final_database, False
        if key in (BACKBONE, "ensembl gene"):
            return "ensembl_gene", final_database, True
        names = self._database_names()
        offered = ", ".join(sorted({*names.values(), BASE_BACKBONE}))
        symbol_name = names.get("symbol")
        for foreign, owner in (("hgnc symbol", "homo_sapiens"), ("mgi symbol", "mus_musculus")):
            if key in (foreign, f"synonym_id::{foreign}") and snap.organism != owner:
                msg = (
                    f"final_database={final_database!r} is {owner.replace('_', ' ')}'s nomenclature; this snapshot is "
                    f"{snap.organism}. Use {symbol_name or 'a database it holds'!r} (it converts to: {offered})."
                )
                raise ValueError(msg)
        if key in _REFERENCE_ONLY:
            msg = (
                f"final_database={final_database!r} is a database of the reference tool that idtrack-sc snapshots do "
                f"not hold. This snapshot converts to: {offered}."
            )
            raise ValueError(msg)
        name = _EXTRA_DATABASE_NAMES.get(key, final_database)
        try:
            namespace = canonical_namespace(name, snap.namespaces)
        except ValueError:
            msg = f"Unknown final_database {final_database!r}. This snapshot converts to: {offered}."
            raise ValueError(msg) from None
        return namespace, final_database, False

    def _snapshot_from(self, snapshot: Snapshot | str | os.PathLike) -> Snapshot:
        from ..registry import resolve_snapshot

        return resolve_snapshot(snapshot)

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

    def _available_releases(
        self, organism: str, registry: str | os.PathLike | Iterable[str | os.PathLike] | None = None
    ) -> set[int]:
        from ..registry import load_registry

        releases = set(self._local_files(organism))
        try:
            entries = load_registry(registry)
        except (OSError, ValueError) as err:
            logger.warning("Cannot read the snapshot registry: %s", err)
            entries = {}
        releases |= {e.release for e in entries.values() if e.organism == organism and e.release is not None}
        return releases

    def _file_release(
        self, organism: str, release: int | None, *, registry: str | os.PathLike | Iterable[str | os.PathLike] | None
    ) -> int | None:
        """The snapshot file to use for ``snapshot_release=release``: the oldest that covers it."""
        if release is None:
            return None
        name = _production_name(organism)
        available = self._available_releases(name, registry)
        newer = sorted(r for r in available if r >= release)
        if not newer:
            listed = ", ".join(str(r) for r in sorted(available)) or "none"
            msg = (
                f"No snapshot of {name} covers release {release}: the registry and {self.local_repository} have "
                f"snapshots up to releases {listed} (no file {name}-{release}.idtrack.zip). Build one "
                "(`idtrack-sc snapshot build`) or give an older snapshot_release."
            )
            raise ValueError(msg)
        return newer[0]

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
        local = self._local_files(name)
        if isinstance(release, int) and release in local:
            # a file in local_repository is used as it is (a registry's copy cached there is the same file)
            return load_snapshot(local[release])
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
            if isinstance(release, str) and release.strip().isdigit():
                release = int(release)
            if release is None and local:
                release = max(local)
            if isinstance(release, int) and release in local:
                logger.info("Snapshot %s is not in the registry; using the file in local_repository.", local[release])
                return load_snapshot(local[release])
            msg = f"{err} No file {name}-{release if release is not None else '<release>'}.idtrack.zip in {self.local_repository} either."
            raise ValueError(msg) from err


class Track:
    """The reference tool's tracker (``api.track``), on the snapshot :class:`~idtrack_sc.API` loaded.

    Attributes
    ----------
    api
        The :class:`~idtrack_sc.API` it belongs to.
    db_manager
        A :class:`~idtrack_sc.compat.SnapshotManager` for the loaded snapshot (``available_releases``, …).
    """

    def __init__(self, api: API) -> None:
        self.api = api
        self.db_manager = SnapshotManager(
            api,
            organism=api.snapshot.organism,
            snapshot_release=api.snapshot_release,
            snapshot=api.snapshot,
        )

    def __repr__(self) -> str:
        return f"Track({self.api.snapshot!r}, up to release {self.api.snapshot_release})"

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The history as a :class:`networkx.MultiDiGraph` (:func:`idtrack_sc.history_graph`).

        Its ``graph`` attributes hold ``organism``, ``ensembl_release`` (the
        ``snapshot_release``), ``genome_assembly`` and more. Built on first access.
        """
        return history_graph(self.api.snapshot, release=self.api.snapshot_release)

    def convert(
        self,
        from_id: str,
        from_release: int | None = None,
        to_release: int | None = None,
        final_database: str | None = None,
        prioritize_to_one_filter: bool = False,
        return_path: bool = False,
        **kwargs: Any,
    ) -> dict[str, dict[str, Any]] | None:
        """One conversion in the reference tracker's shape.

        Parameters
        ----------
        from_id
            The identifier.
        from_release, to_release, final_database
            As in :meth:`~idtrack_sc.API.convert_identifier`.
        prioritize_to_one_filter
            Keep only the best target (``strategy="best"``); else every candidate.
        return_path
            Add each target's ``the_path``.
        **kwargs
            The reference tracker's scoring options (``reduction``, ``remove_na``,
            ``go_external``, …); accepted and ignored: idtrack-sc ranks by its documented rule.

        Returns
        -------
        ``None`` when nothing is found at the target release, else
        ``{ensembl_gene_id: {"final_conversion": {"final_conversion_confidence": 0 (or inf
        for the Ensembl fallback of a gene with no name), "final_database": …,
        "final_elements": {target: {...}}}}}``.
        """
        if kwargs:
            logger.info("Track.convert ignores %s: idtrack-sc ranks candidates by its documented rule.", sorted(kwargs))
        res = self.api.convert_identifier(
            from_id,
            from_release=from_release,
            to_release=to_release,
            final_database=final_database,
            strategy="best" if prioritize_to_one_filter else "all",
            explain=return_path,
        )
        if res["no_corresponding"] or res["no_conversion"]:
            return None
        out: dict[str, dict[str, Any]] = {}
        for gene, target in res["last_node"]:
            entry = out.setdefault(
                gene,
                {
                    "final_conversion": {
                        "final_conversion_confidence": np.inf if res["no_target"] else 0,
                        "final_database": res["final_database"],
                        "final_elements": {},
                    }
                },
            )
            element: dict[str, Any] = {}
            if return_path:
                element["the_path"] = res["the_path"].get((target, gene), ())
            entry["final_conversion"]["final_elements"][target] = element
        return out or None


class SnapshotManager:
    """What :meth:`~idtrack_sc.API.get_database_manager` returns: the snapshot behind a "graph", bounded.

    The reference tool's manager downloads Ensembl databases; idtrack-sc has no database
    connection (snapshots are built by ``idtrack-sc snapshot build`` or
    :mod:`idtrack_sc.builders`), so other attributes of the reference tool's manager raise
    an :class:`AttributeError` that says so.

    Attributes
    ----------
    organism
        Ensembl production name.
    snapshot_release
        Newest release to use.
    ignore_before
        Oldest release to use (``None``: the snapshot's oldest).
    genome_assembly
        Assembly number the releases must belong to, or ``None``.
    local_repository
        The snapshot folder.
    """

    def __init__(
        self,
        api: API,
        *,
        organism: str,
        snapshot_release: int,
        genome_assembly: int | None = None,
        ignore_before: int | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        self._api = api
        self.organism = organism
        self.snapshot_release = int(snapshot_release)
        self.genome_assembly = None if genome_assembly is None else int(genome_assembly)
        self.ignore_before = ignore_before
        self.local_repository = api.local_repository
        self._snapshot = snapshot

    def __repr__(self) -> str:
        return f"SnapshotManager({self.organism}, releases up to {self.snapshot_release})"

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot (fetched or read from ``local_repository`` on first use)."""
        if self._snapshot is None:
            release = self._api._file_release(self.organism, self.snapshot_release, registry=None)
            self._snapshot = self._api._fetch(self.organism, release, registry=None, mirror=None, progressbar=True)
        return self._snapshot

    @property
    def ensembl_release(self) -> int:
        """The newest release to use (the reference manager's name for it)."""
        return self.snapshot_release

    @property
    def available_releases(self) -> list[int]:
        """Covered releases from ``ignore_before`` to ``snapshot_release`` (of ``genome_assembly``)."""
        snap = self.snapshot
        assemblies = _release_assemblies(snap)
        low = -1 if self.ignore_before is None else int(self.ignore_before)
        return [
            r
            for r in snap.releases
            if low <= r <= self.snapshot_release
            and (self.genome_assembly is None or assemblies.get(r) == self.genome_assembly)
        ]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        msg = (
            f"SnapshotManager has no {name!r}: idtrack-sc reads prebuilt snapshot files and has no Ensembl database "
            "connection. Build snapshots with `idtrack-sc snapshot build` (idtrack_sc.builders); inspect one with "
            "`.snapshot` (tables genes, events, names, features)."
        )
        raise AttributeError(msg)


def _bin_counts(bins: dict[str, list[dict[str, Any]]]) -> str:
    """One line of the reference tool's bins, as :meth:`API.print_binned_conversion` counts them.

    An identifier whose gene has no name in the target namespace is ``1→1`` with its Ensembl
    gene standing in (``no_target``; idtrack-sc's outcome ``1:0 no_target_name``), as in the
    binned summary, so the two never disagree.
    """
    one_one = len(bins["matching_1_to_1"]) + len(bins["alternative_target_1_to_1"])
    one_n = len(bins["matching_1_to_n"]) + len(bins["alternative_target_1_to_n"])
    stand_in = len(bins["alternative_target_1_to_1"]) + len(bins["alternative_target_1_to_n"])
    line = f"1→1 {one_one}, 1→n {one_n}, 1→0 {len(bins['matching_1_to_0'])}"
    if stand_in:
        line += f" ({stand_in} without a name at the target release: their Ensembl gene stands in, no_target)"
    return line


def _release_number(value: Any) -> int | None:
    """An Ensembl release number from an int or a numeric string; ``None`` otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _release_assemblies(snapshot: Snapshot) -> dict[int, int | None]:
    """Assembly number of every covered release.

    From the manifest's ``release_assemblies`` or its sources' ``assembly`` where recorded,
    else from Ensembl's known assembly changes for the organism, else the manifest's
    assembly for every release.
    """
    key = ("release_assemblies",)
    if key in snapshot_cache(snapshot):
        return snapshot_cache(snapshot)[key]
    out: dict[int, int | None] = {}
    listed = snapshot.manifest.get("release_assemblies") or {}
    for source in snapshot.manifest.get("sources", []):
        if source.get("release") is not None and source.get("assembly"):
            out[int(source["release"])] = assembly_number(source["assembly"])
    history = _ASSEMBLY_HISTORY.get(snapshot.organism)
    newest = assembly_number(snapshot.assembly)
    for r in snapshot.releases:
        if assembly_number(listed.get(str(r))) is not None:
            out[r] = assembly_number(listed[str(r)])
        elif r not in out:
            if history is not None:
                out[r] = [a for start, a in history if start <= r][-1]
            else:
                out[r] = newest
    if newest is not None and snapshot.releases and history is not None:
        out[snapshot.latest_release] = out.get(snapshot.latest_release) or newest
    snapshot_cache(snapshot)[key] = out
    return out


def _newest_first(origin: Any) -> tuple:
    """Sort key that puts newer releases / assemblies first among ties."""
    parts = origin if isinstance(origin, tuple) else (origin,)
    return tuple(-p if isinstance(p, int) else 0 for p in reversed(parts))


def _version_map(snapshot: Snapshot, release: int) -> dict[str, str]:
    """Gene ID -> ``ID.version`` at ``release`` (the newest span that started by then)."""
    key = ("versioned_ids", release)
    if key not in snapshot_cache(snapshot):
        from ..resolve import versioned_ids

        genes = snapshot.genes
        spans = genes.loc[(genes["first_release"] <= release) & genes["version"].notna()]
        spans = spans.sort_values(["gene_id", "first_release"], kind="stable").drop_duplicates("gene_id", keep="last")
        snapshot_cache(snapshot)[key] = dict(
            zip(spans["gene_id"], versioned_ids(spans["gene_id"], spans["version"]), strict=True)
        )
    return snapshot_cache(snapshot)[key]


def _one_of(name: str, value: Any, other_name: str, other: Any) -> Any:
    """One value given under either of two argument names."""
    if value is not None and other is not None and value != other:
        msg = f"Give {name}= or {other_name}=, not both ({value!r} vs {other!r})."
        raise ValueError(msg)
    return value if value is not None else other


def _pylist(column: pd.Series) -> list[Any]:
    """Column values as Python objects, missing values as ``None``."""
    return [None if pd.isna(v) else v for v in column.astype(object).tolist()]


def _records(
    table: pd.DataFrame, queries: list[Any], label: str, versions: dict[str, str], *, version_targets: bool
) -> list[dict[str, Any]]:
    """Reshape a conversion table into the reference tool's result dictionaries.

    ``versions`` maps gene IDs to ``ID.version`` at the target release: Ensembl genes in
    ``last_node`` and in the ``no_target`` fallback carry it, and Ensembl gene targets too
    when ``version_targets`` (``final_database`` ``ensembl_gene``, not ``base_ensembl_gene``).
    """
    out = []
    namespace = table.attrs["idtrack"]["namespace"]
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
        elif no_target:  # the reference tool's fallback: the (versioned) Ensembl genes stand in
            database = BACKBONE
            targets_out = [versions.get(g, g) for g in gene_list]
            pairs = [(t, t) for t in targets_out]
        else:
            pairs = list(zip(gene_list, target_list, strict=True)) if len(gene_list) == len(target_list) else []
            if outcome == "1:1":
                targets_out = [target]
                pairs = [p for p in pairs if p[1] == target] or [(g, target) for g in gene_list[:1]]
            else:
                targets_out = target_list
            if namespace == "ensembl_gene" and version_targets:
                targets_out = [versions.get(t, t) for t in targets_out]
                pairs = [(versions.get(g, g), versions.get(t, t)) for g, t in pairs]
            else:
                pairs = [(versions.get(g, g), t) for g, t in pairs]
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
    return {(target, gene): walked.get(gene.split(".")[0], ((gene, None),)) for gene, target in result["last_node"]}
