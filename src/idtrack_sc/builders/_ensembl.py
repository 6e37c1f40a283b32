"""Ensembl core database dumps: the authoritative history of gene stable IDs."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pandas as pd

from idtrack_sc.snapshot import file_sha256

from ._common import STRING, concat_rows, isin, name_rows, normalize_entrez, normalize_hgnc
from ._mysql import read_schema, read_table
from ._source import SourceData

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Tables read, with the columns used. Required tables first.
TABLES: dict[str, list[str]] = {
    "meta": ["species_id", "meta_key", "meta_value"],
    "mapping_session": ["mapping_session_id", "old_release", "new_release", "created"],
    "stable_id_event": [
        "old_stable_id",
        "old_version",
        "new_stable_id",
        "new_version",
        "mapping_session_id",
        "type",
        "score",
    ],
    "gene": ["gene_id", "biotype", "display_xref_id", "is_current", "stable_id", "version"],
    "transcript": ["transcript_id", "gene_id", "is_current", "stable_id"],
    "translation": ["translation_id", "transcript_id", "stable_id"],
    "xref": ["xref_id", "external_db_id", "dbprimary_acc", "display_label"],
    "object_xref": ["ensembl_id", "ensembl_object_type", "xref_id"],
    "external_db": ["external_db_id", "db_name"],
    "external_synonym": ["xref_id", "synonym"],
}
REQUIRED_TABLES = ("meta", "gene", "mapping_session", "stable_id_event")

#: external_db.db_name -> (namespace of dbprimary_acc, whether display_label is the gene's symbol)
XREF_NAMESPACES: dict[str, tuple[str, bool]] = {
    "HGNC": ("hgnc_id", True),
    "HUGO": ("hgnc_id", True),  # name of the HGNC source in very old releases
    "EntrezGene": ("entrez", False),
    "NCBI_gene": ("entrez", False),
    "Uniprot_gn": ("uniprot", False),
    "Uniprot/SWISSPROT": ("uniprot", False),
    "RefSeq_mRNA": ("refseq", False),
    "RefSeq_ncRNA": ("refseq", False),
    "MGI": ("mgi_id", True),
    "RGD": ("rgd_id", True),
    "ZFIN_ID": ("zfin_id", True),
}


def _is_url(value: str | os.PathLike) -> bool:
    return isinstance(value, str) and urlparse(value).scheme in ("http", "https", "ftp")


def _find(folder: Path, table: str) -> Path | None:
    for name in (f"{table}.txt.gz", f"{table}.txt"):
        if (folder / name).is_file():
            return folder / name
    return None


def _find_schema(folder: Path) -> Path:
    candidates = sorted(p for p in folder.iterdir() if p.name.endswith((".sql.gz", ".sql")))
    if not candidates:
        msg = (
            f"{folder}: no schema file (*.sql.gz or *.sql) found. An Ensembl dump folder holds the schema "
            f"{folder.name}.sql.gz, which gives the column order of every table."
        )
        raise ValueError(msg)
    for cand in candidates:
        if cand.name in (f"{folder.name}.sql.gz", f"{folder.name}.sql"):
            return cand
    if len(candidates) > 1:
        msg = (
            f"{folder}: several schema files {[p.name for p in candidates]}; expected one, named {folder.name}.sql.gz."
        )
        raise ValueError(msg)
    return candidates[0]


def _int(series: pd.Series, table: str, column: str) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        msg = f"{table}.txt, row {pos + 1}, column {column!r}: expected an integer, found {series.iloc[pos]!r}."
        raise ValueError(msg)
    return values.astype("Int64")


def read_ensembl_dump(
    path_or_url: str | os.PathLike,
    *,
    name: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> SourceData:
    """Read an Ensembl core database dump (one species, one release).

    The folder holds ``{table}.txt.gz`` (or ``.txt``) files and the schema ``*.sql.gz``
    whose ``CREATE TABLE`` statements give each table's column order. Read are:

    - ``meta``: release (``schema_version``), organism, assembly;
    - ``stable_id_event`` with ``mapping_session``: the gene history. Rows between
      different IDs, births and retirements become events; every gene row also says in
      which releases an ID existed with which version;
    - ``gene``, ``transcript``, ``translation``: the genes of this release, and the
      transcript and protein IDs that lead to them;
    - ``xref``, ``object_xref``, ``external_db``, ``external_synonym``: names of this
      release's genes (HGNC ID and symbol, Entrez, UniProt, RefSeq, MGI, the gene's display
      name as symbol, and synonyms of symbols).

    Parameters
    ----------
    path_or_url
        A local folder, or the URL of one on the Ensembl FTP site, e.g.
        ``https://ftp.ensembl.org/pub/release-114/mysql/homo_sapiens_core_114_38/``.
        Remote files are downloaded with pooch (progress bar), verified against the folder's
        ``CHECKSUMS`` and cached (see :func:`fetch_ensembl_dump`).
    name
        Label of the source; default ``"ensembl_dump:{release}"``.
    cache_dir
        Cache folder for downloads; default ``$IDTRACK_SC_CACHE`` or the OS cache (files go
        to ``<cache>/ensembl/<folder>/``).

    Returns
    -------
    The parsed source (``kind="ensembl_dump"``).
    """
    origin = str(path_or_url)
    if _is_url(path_or_url):
        from ._ensembl_ftp import fetch_ensembl_dump

        folder = fetch_ensembl_dump(str(path_or_url), cache_dir=cache_dir)
    else:
        folder = Path(path_or_url)
        if not folder.exists():
            msg = f"Ensembl dump folder not found: {folder}"
            raise FileNotFoundError(msg)
        if not folder.is_dir():
            msg = f"Expected an Ensembl dump folder (with {{table}}.txt.gz files and the schema), got a file: {folder}"
            raise ValueError(msg)
        origin = folder.name
    schema_path = _find_schema(folder)
    schema = read_schema(schema_path)
    files: dict[str, Path] = {}
    notes: dict[str, Any] = {}
    for table, used in TABLES.items():
        path = _find(folder, table)
        if path is None:
            if table in REQUIRED_TABLES:
                found = sorted(p.name for p in folder.iterdir())
                msg = f"{folder}: table file {table}.txt.gz (or {table}.txt) not found. Files present: {found}."
                raise ValueError(msg)
            notes.setdefault("missing_tables", []).append(table)
            continue
        if table not in schema:
            msg = f"{schema_path.name}: no CREATE TABLE for {table!r}; tables in the schema: {sorted(schema)}."
            raise ValueError(msg)
        missing = [c for c in used if c not in schema[table]]
        if missing:
            msg = (
                f"{schema_path.name}: table {table!r} has no column(s) {missing}; its columns are "
                f"{schema[table]}. Dumps older than Ensembl 65 (separate *_stable_id tables) are not supported."
            )
            raise ValueError(msg)
        files[table] = path

    def load(table: str) -> pd.DataFrame:
        return read_table(files[table], schema[table], table=table, usecols=TABLES[table])

    meta = load("meta")
    info = _meta(meta, files["meta"])
    release = info["release"]
    sessions, history_releases, session_notes = _sessions(load("mapping_session"))
    notes.update(session_notes)
    events, history_genes, event_notes = _history(load("stable_id_event"), sessions)
    notes.update(event_notes)

    gene = load("gene")
    gene_int = _int(gene["gene_id"], "gene", "gene_id")
    current = gene["is_current"].fillna("1") != "0"
    if (~current).any():
        notes["genes_not_current"] = int((~current).sum())
    dump_genes = pd.DataFrame(
        {
            "gene_id": gene["stable_id"],
            "version": _int(gene["version"], "gene", "version"),
            "release": pd.array([release] * len(gene), dtype="Int64"),
            "biotype": gene["biotype"],
        }
    )[current.to_numpy()]
    genes, version_notes = _merge_presence(dump_genes, history_genes)
    notes.update(version_notes)

    gene_of = pd.Series(gene["stable_id"].to_numpy(), index=gene_int.to_numpy())
    features, transcript_gene, translation_gene = _features(
        files=files, load=load, gene_of=gene_of, release=release, notes=notes
    )
    names = _names(
        files=files,
        load=load,
        gene=gene,
        gene_of=gene_of,
        transcript_gene=transcript_gene,
        translation_gene=translation_gene,
        release=release,
    )

    dates = sessions["created"].dropna().astype(str).str.slice(0, 10)
    dates = dates[dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}") & (dates != "0000-00-00")]
    sha = hashlib.sha256()
    for path in sorted([schema_path, *files.values()], key=lambda p: p.name):
        sha.update(f"{path.name} {file_sha256(path)}\n".encode())
    data = SourceData(
        name=name or f"ensembl_dump:{release}",
        kind="ensembl_dump",
        origin=origin,
        release=release,
        sha256=sha.hexdigest(),
        date=str(dates.max()) if len(dates) else None,
        organism=info["organism"],
        assembly=info["assembly"],
        releases=sorted({*history_releases, release}),
        genes=genes,
        names=names,
        features=features,
        events=events,
        notes=notes,
    )
    logger.info(
        "%s: release %d, %d gene observations, %d events, %d names, %d features",
        origin,
        release,
        len(genes),
        len(events),
        len(names),
        len(features),
    )
    return data


def _meta(meta: pd.DataFrame, path: Path) -> dict[str, Any]:
    values: dict[str, str] = {}
    for key, value in zip(meta["meta_key"], meta["meta_value"], strict=True):
        if pd.notna(key) and pd.notna(value):
            values.setdefault(str(key), str(value))
    schema_version = values.get("schema_version", "")
    if not re.fullmatch(r"\d+", schema_version.strip()):
        msg = f"{path.name}: expected a numeric 'schema_version' row (the Ensembl release), found {schema_version!r}."
        raise ValueError(msg)
    organism = values.get("species.production_name")
    if organism is None and "species.taxonomy_id" in values:
        organism = values["species.taxonomy_id"]
    return {"release": int(schema_version), "organism": organism, "assembly": values.get("assembly.default")}


def _sessions(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int], dict[str, Any]]:
    notes: dict[str, Any] = {}
    old = pd.to_numeric(frame["old_release"].str.strip(), errors="coerce")
    new = pd.to_numeric(frame["new_release"].str.strip(), errors="coerce")
    ok = old.notna() & new.notna() & (old == old.round()) & (new == new.round())
    if (~ok).any():
        bad = frame.loc[~ok, "mapping_session_id"].astype(str).tolist()
        notes["mapping_sessions_non_numeric"] = len(bad)
        logger.info("mapping sessions with non-numeric releases skipped: %s", bad[:10])
    sessions = pd.DataFrame(
        {
            "mapping_session_id": frame["mapping_session_id"].astype(STRING),
            "old_release": old.astype("Int64"),
            "new_release": new.astype("Int64"),
            "created": frame["created"],
            "ok": ok.to_numpy(),
        }
    )
    good = sessions[sessions["ok"]]
    releases = sorted({int(r) for r in good["old_release"]} | {int(r) for r in good["new_release"]})
    return sessions, releases, notes


def _history(frame: pd.DataFrame, sessions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    notes: dict[str, Any] = {}
    frame = frame[frame["type"].str.lower() == "gene"]
    merged = frame.merge(
        sessions[["mapping_session_id", "old_release", "new_release", "ok"]],
        on="mapping_session_id",
        how="left",
    )
    unknown = merged["ok"].isna()
    if unknown.any():
        notes["gene_events_unknown_session"] = int(unknown.sum())
    skipped = merged["ok"].eq(False)
    if skipped.any():
        notes["gene_events_non_numeric_session"] = int(skipped.sum())
    merged = merged[merged["ok"].eq(True).to_numpy()]
    both_null = merged["old_stable_id"].isna() & merged["new_stable_id"].isna()
    if both_null.any():
        notes["gene_events_without_ids"] = int(both_null.sum())
        merged = merged[~both_null.to_numpy()]
    old_version = _int(merged["old_version"], "stable_id_event", "old_version")
    new_version = _int(merged["new_version"], "stable_id_event", "new_version")
    score = pd.to_numeric(merged["score"], errors="coerce")
    change = (
        merged["old_stable_id"].isna()
        | merged["new_stable_id"].isna()
        | (merged["old_stable_id"] != merged["new_stable_id"])
    ).to_numpy()
    events = pd.DataFrame(
        {
            "old_id": merged["old_stable_id"],
            "old_version": old_version.where(merged["old_stable_id"].notna()),
            "new_id": merged["new_stable_id"],
            "new_version": new_version.where(merged["new_stable_id"].notna()),
            "old_release": merged["old_release"],
            "release": merged["new_release"],
            "score": score,
        }
    )[change].reset_index(drop=True)
    # presence: the new side of a row is authoritative for its release, so it goes first
    new_side = pd.DataFrame(
        {"gene_id": merged["new_stable_id"], "version": new_version, "release": merged["new_release"], "_rank": 1}
    )
    old_side = pd.DataFrame(
        {"gene_id": merged["old_stable_id"], "version": old_version, "release": merged["old_release"], "_rank": 2}
    )
    presence = pd.concat([new_side, old_side], ignore_index=True).dropna(subset=["gene_id", "release"])
    presence["biotype"] = pd.Series(pd.NA, index=presence.index, dtype=STRING)
    return events, presence, notes


def _merge_presence(dump_genes: pd.DataFrame, history: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One version per gene and release: the dump's gene table, then new sides, then old sides."""
    notes: dict[str, Any] = {}
    dump_genes = dump_genes.assign(_rank=0)
    obs = pd.concat([dump_genes, history], ignore_index=True)
    obs = obs.dropna(subset=["gene_id", "release"]).sort_values(
        ["gene_id", "release", "_rank", "version"], kind="stable", na_position="last"
    )
    versions = obs.dropna(subset=["version"]).drop_duplicates(["gene_id", "release", "version"])
    disagree = versions.duplicated(["gene_id", "release"]).sum()
    if disagree:
        notes["history_version_disagreements"] = int(disagree)
        logger.warning("%d gene/release pairs have two versions in the history; the newest record is kept", disagree)
    best = obs.drop_duplicates(["gene_id", "release"], keep="first")
    genes = best[["gene_id", "version", "release", "biotype"]].reset_index(drop=True)
    genes["release"] = genes["release"].astype("Int64")
    genes["version"] = genes["version"].astype("Int64")
    return genes, notes


def _features(
    *,
    files: dict[str, Path],
    load: Callable[[str], pd.DataFrame],
    gene_of: pd.Series,
    release: int,
    notes: dict[str, Any],
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    frames = []
    transcript_gene = pd.Series(dtype=STRING)
    translation_gene = pd.Series(dtype=STRING)
    if "transcript" in files:
        tr = load("transcript")
        tr_int = _int(tr["transcript_id"], "transcript", "transcript_id")
        gene_int = _int(tr["gene_id"], "transcript", "gene_id")
        genes = gene_of.reindex(gene_int.to_numpy()).to_numpy()
        transcript_gene = pd.Series(genes, index=tr_int.to_numpy())
        current = (tr["is_current"].fillna("1") != "0").to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "feature_id": tr["stable_id"].to_numpy(),
                    "feature_type": "transcript",
                    "gene_id": genes,
                    "release": release,
                }
            )[current]
        )
    if "translation" in files:
        tl = load("translation")
        tl_int = _int(tl["translation_id"], "translation", "translation_id")
        tr_int = _int(tl["transcript_id"], "translation", "transcript_id")
        genes = transcript_gene.reindex(tr_int.to_numpy()).to_numpy()
        translation_gene = pd.Series(genes, index=tl_int.to_numpy())
        frames.append(
            pd.DataFrame(
                {
                    "feature_id": tl["stable_id"].to_numpy(),
                    "feature_type": "translation",
                    "gene_id": genes,
                    "release": release,
                }
            )
        )
    features = concat_rows(frames, "features")
    orphan = features["gene_id"].isna() | features["feature_id"].isna()
    if orphan.any():
        notes["features_without_gene"] = int(orphan.sum())
        features = features[~orphan.to_numpy()].reset_index(drop=True)
    features["release"] = features["release"].astype("Int64")
    return features, transcript_gene, translation_gene


def _names(
    *,
    files: dict[str, Path],
    load: Callable[[str], pd.DataFrame],
    gene: pd.DataFrame,
    gene_of: pd.Series,
    transcript_gene: pd.Series,
    translation_gene: pd.Series,
    release: int,
) -> pd.DataFrame:
    if not {"xref", "external_db"} <= files.keys():
        return concat_rows([], "names")
    xref = load("xref")
    dbs = load("external_db")
    xref = xref.merge(dbs, on="external_db_id", how="left")
    # only the databases that give names, and display names: a small part of a real xref table
    named = isin(xref["db_name"], list(XREF_NAMESPACES))
    xref = xref[named | isin(xref["xref_id"], gene["display_xref_id"].dropna())]
    xref = xref.assign(xref_id=xref["xref_id"].astype(STRING))
    frames = []
    # the gene's display name, whatever database it comes from
    display = gene[["stable_id", "display_xref_id"]].merge(
        xref[["xref_id", "display_label"]], left_on="display_xref_id", right_on="xref_id", how="inner"
    )
    frames.append(
        name_rows(display["stable_id"], display["display_label"], namespace="symbol", kind="primary", release=release)
    )
    symbol_xrefs = [display[["stable_id", "xref_id"]]]

    if "object_xref" in files:
        ox = load("object_xref")
        ox = ox[isin(ox["xref_id"], xref.loc[isin(xref["db_name"], list(XREF_NAMESPACES)), "xref_id"])]
        ox = ox.reset_index(drop=True)
        ox_int = _int(ox["ensembl_id"], "object_xref", "ensembl_id").to_numpy()
        kind = ox["ensembl_object_type"].astype(STRING)
        target = pd.Series(pd.NA, index=ox.index, dtype=STRING)
        for object_type, mapping in (
            ("Gene", gene_of),
            ("Transcript", transcript_gene),
            ("Translation", translation_gene),
        ):
            sel = (kind == object_type).to_numpy()
            if sel.any() and len(mapping):
                target[sel] = mapping.reindex(ox_int[sel]).to_numpy()
        links = pd.DataFrame({"stable_id": target, "xref_id": ox["xref_id"].astype(STRING)}).dropna()
        links = links.merge(xref, on="xref_id", how="inner")
        links = links[isin(links["db_name"], list(XREF_NAMESPACES))]
        for db_name, (namespace, has_symbol) in sorted(XREF_NAMESPACES.items()):
            sub = links[links["db_name"] == db_name]
            if not len(sub):
                continue
            values = sub["dbprimary_acc"]
            if namespace == "hgnc_id":
                values = normalize_hgnc(values)
            elif namespace == "entrez":
                values = normalize_entrez(values)
            frames.append(name_rows(sub["stable_id"], values, namespace=namespace, kind="primary", release=release))
            if has_symbol:
                frames.append(
                    name_rows(
                        sub["stable_id"], sub["display_label"], namespace="symbol", kind="primary", release=release
                    )
                )
                symbol_xrefs.append(sub[["stable_id", "xref_id"]])

    if "external_synonym" in files:
        syn = load("external_synonym")
        syn["xref_id"] = syn["xref_id"].astype(STRING)
        owners = pd.concat(symbol_xrefs, ignore_index=True).drop_duplicates()
        syn = owners.merge(syn, on="xref_id", how="inner")
        frames.append(name_rows(syn["stable_id"], syn["synonym"], namespace="symbol", kind="synonym", release=release))
    return concat_rows(frames, "names")
