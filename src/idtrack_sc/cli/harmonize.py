"""``idtrack-sc harmonize``: harmonize the features of one or several ``.h5ad`` files."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import (
    UsageError,
    add_command,
    add_out_option,
    add_release_option,
    add_snapshot_options,
    check_suffix,
    check_target,
    snapshot_from_args,
)

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

_EPILOG = """\
one file is harmonized (idtrack_sc.pp.harmonize_var_names); several are harmonized consistently
and concatenated (idtrack_sc.concat_harmonized), with --out-of-core on disk in bounded memory.

examples:
  idtrack-sc harmonize pbmc.h5ad -o pbmc.harmonized.h5ad --snapshot default --release 114
  idtrack-sc harmonize A.h5ad B.h5ad -o merged.zarr --organism human --to symbol --join inner --report report/
  idtrack-sc harmonize atlas/*.h5ad -o atlas.h5ad --organism human --out-of-core --label dataset
"""


def add_parser(subparsers: Any) -> None:
    """Register ``harmonize``.

    Parameters
    ----------
    subparsers
        The top-level parser's subparsers.
    """
    parser = add_command(
        subparsers,
        "harmonize",
        help="harmonize the gene identifiers of .h5ad files (and concatenate several)",
        description=(
            "Resolve every feature identifier of one or several .h5ad files to one namespace at one Ensembl "
            "release, record what happened to each (1:1, 1:n, 1:0 and why) in var and uns['idtrack'], and write "
            "the result. Several files are harmonized consistently and concatenated."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help=".h5ad files (or .zarr folders)")
    add_out_option(parser, required=True, help="output .h5ad file (or .zarr folder)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    add_snapshot_options(parser)
    conv = parser.add_argument_group("conversion")
    conv.add_argument("--to", default="ensembl_gene", metavar="NS", help="target namespace (default: ensembl_gene)")
    add_release_option(conv, help="target Ensembl release (default: the snapshot's newest)")
    conv.add_argument("--id-key", metavar="COL", help="var column with the identifiers (default: var_names)")
    conv.add_argument(
        "--ambiguous", choices=("best", "drop", "all"), default="best", help="1:n features (default: best)"
    )
    conv.add_argument(
        "--min-evidence",
        choices=("high", "medium", "low", "none"),
        default="medium",
        help="weakest evidence tier of inferred history links to follow: high, medium (default), low, "
        "none (Ensembl's own history only)",
    )
    conv.add_argument(
        "--unmapped",
        choices=("keep", "drop", "consistent"),
        help="1:0 features: keep, drop, or (several files) keep those failing in every dataset "
        "(default: keep for one file, consistent for several)",
    )
    conv.add_argument(
        "--duplicates",
        choices=("sum", "first", "make_unique"),
        default="sum",
        help="features meeting under one name (default: sum)",
    )
    conv.add_argument(
        "--from-release",
        default="auto",
        metavar="REL",
        help="release the data were annotated with: auto (default, inferred per file), a release number, "
        "or target (read names in the target release's meaning)",
    )
    conv.add_argument(
        "--pair-key",
        default="auto",
        metavar="COL",
        help="second identifier column used with the first (IDs beside symbols): auto (default), a var column, or none",
    )
    conv.add_argument(
        "--pair-conflict",
        choices=("tie", "id", "symbol"),
        default="tie",
        help="an ID and a symbol naming different genes: a tie of both, handled by --ambiguous (default), "
        "or the ID's or the symbol's gene",
    )
    conv.add_argument(
        "--no-check-organism",
        action="store_true",
        help="convert names that fit another organism far better (e.g. mouse symbols under --organism human) "
        "anyway; by default they are refused",
    )
    conv.add_argument("--key-added", default="idtrack", metavar="KEY", help="uns key and var column prefix")
    merge = parser.add_argument_group("several files")
    merge.add_argument(
        "--join",
        choices=("inner", "outer"),
        default="inner",
        help="intersection (default, as concat_harmonized and anndata.concat) or union of features",
    )
    merge.add_argument("--label", metavar="COL", help="obs column recording each cell's dataset")
    merge.add_argument(
        "--keys", nargs="+", metavar="NAME", help="dataset names (default: the file names without suffix)"
    )
    merge.add_argument("--out-of-core", action="store_true", help="concatenate on disk in bounded memory")
    output = parser.add_argument_group("output")
    output.add_argument("--report", type=Path, metavar="DIR", help="also write a harmonization report into DIR")
    output.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_harmonize)


def dataset_names(paths: list[Path], keys: list[str] | None) -> list[str]:
    """Dataset names: ``keys``, or the file names without suffix, made unique."""
    if keys is not None:
        if len(keys) != len(paths):
            msg = f"--keys gives {len(keys)} names for {len(paths)} files"
            raise UsageError(msg)
        if len(set(keys)) != len(keys):
            msg = f"--keys has duplicate names: {keys}"
            raise UsageError(msg)
        return list(keys)
    names: list[str] = []
    for path in paths:
        stem = path.name.removesuffix(".zarr").removesuffix(".h5ad")
        name, i = stem, 1
        while name in names:
            i += 1
            name = f"{stem}-{i}"
        names.append(name)
    return names


def read(path: Path) -> Any:
    """Read an ``.h5ad`` file or a ``.zarr`` folder."""
    import anndata as ad

    if not path.exists():
        msg = f"{path} does not exist"
        raise FileNotFoundError(msg)
    return ad.read_zarr(path) if path.is_dir() or path.suffix == ".zarr" else ad.read_h5ad(path)


def write(adata: Any, path: Path) -> None:
    """Write an AnnData as ``.zarr`` (by suffix) or ``.h5ad``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zarr":
        adata.write_zarr(path)
    else:
        adata.write_h5ad(path)


def progress(iterable: Any, *, total: int, desc: str, disable: bool) -> Any:
    """A tqdm progress bar on stderr (off when stderr is not a terminal or ``disable``)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="dataset", file=sys.stderr, disable=True if disable else None)


class _DatasetProgress:
    """A progress bar advanced by :func:`idtrack_sc.pp.on_harmonized` once per dataset."""

    def __init__(self, total: int, *, disable: bool) -> None:
        self.bar = progress(None, total=total, desc="harmonizing", disable=disable)
        self.seen = 0

    def __call__(self, label: str, counts: dict[str, Any]) -> None:
        self.seen += 1
        self.bar.update(1)

    def __enter__(self) -> _DatasetProgress:
        from idtrack_sc.pp import on_harmonized

        self._context = on_harmonized(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)
        self.bar.close()


def _harmonizing(total: int, *, disable: bool) -> _DatasetProgress:
    return _DatasetProgress(total, disable=disable)


def _policies(args: argparse.Namespace, *, several: bool = False) -> dict[str, Any]:
    unmapped = args.unmapped or ("consistent" if several else "keep")
    if unmapped == "consistent" and not several:
        msg = "--unmapped consistent needs several files; use keep or drop for one"
        raise UsageError(msg)
    return {
        "release": args.release,
        "to": args.to,
        "id_key": args.id_key,
        "ambiguous": args.ambiguous,
        "min_evidence": args.min_evidence,
        "unmapped": unmapped,
        "duplicates": args.duplicates,
        "key_added": args.key_added,
        "from_release": _from_release(args.from_release),
        "pair_key": None if args.pair_key == "none" else args.pair_key,
        "pair_conflict": args.pair_conflict,
        "check_organism": not args.no_check_organism,
    }


def _from_release(value: str) -> int | str | None:
    """``--from-release``: ``auto``, ``target`` or a release number."""
    if value in ("auto", "target"):
        return None if value == "target" else value
    try:
        return int(value)
    except ValueError:
        msg = f"--from-release must be auto, target or a release number, not {value!r}"
        raise UsageError(msg) from None


def _harmonize(args: argparse.Namespace) -> int:
    out = args.out = check_suffix(args.out, (".h5ad", ".zarr"), what="harmonized dataset")
    missing = [str(p) for p in args.inputs if not p.exists()]
    if missing:
        msg = f"{', '.join(missing)}: no such file"
        raise FileNotFoundError(msg)
    if out.exists() and not args.force:
        msg = f"{out} exists; pass --force to overwrite it"
        raise FileExistsError(msg)
    resolved_inputs = {p.resolve() for p in args.inputs}
    if out.resolve() in resolved_inputs:
        msg = f"--out {out} is one of the inputs; write the result to a new file"
        raise UsageError(msg)
    names = dataset_names(list(args.inputs), args.keys)
    snapshot = {"snapshot": snapshot_from_args(args)}
    check_target(snapshot["snapshot"], release=args.release, to=args.to)  # what the snapshot lacks is bad usage
    several = len(args.inputs) > 1
    if not several and (args.label or args.keys or args.out_of_core):
        logger.warning("--label, --keys and --out-of-core only apply to several files; ignored")

    from idtrack_sc.pp import harmonize_var_names

    if not several:
        adata = read(args.inputs[0])
        with _harmonizing(1, disable=args.no_progress):
            harmonize_var_names(adata, **snapshot, **_policies(args))
        write(adata, out)
        result = adata
        report_data: Any = adata
    else:
        result, report_data = _concat(args, names, snapshot)
    _print_result(result, names, args.key_added, out)
    try:
        if args.report is not None:
            from idtrack_sc.report import write_report

            folder = write_report(report_data, args.report, key=args.key_added)
            print(f"report: {folder / 'index.html'}")
    finally:
        if getattr(result, "isbacked", False):
            result.file.close()
    return 0


def _concat(args: argparse.Namespace, names: list[str], snapshot: dict[str, Any]) -> tuple[Any, Any]:
    import idtrack_sc

    try:
        concat_harmonized = idtrack_sc.concat_harmonized
    except AttributeError:
        msg = "this idtrack-sc has no concat_harmonized yet; harmonize one file at a time"
        raise RuntimeError(msg) from None
    kwargs = {"join": args.join, **_policies(args, several=True), **snapshot}
    if args.label:
        kwargs["label"] = args.label
    if args.out_of_core:
        paths = dict(zip(names, args.inputs, strict=True))
        for path in paths.values():
            if not path.exists():
                msg = f"{path} does not exist"
                raise FileNotFoundError(msg)
        logger.info("concatenating %d files on disk into %s", len(paths), args.out)
        with _harmonizing(len(paths), disable=args.no_progress):
            concat_harmonized(paths, out_file=args.out, **kwargs)
        import anndata as ad

        result = ad.read_h5ad(args.out, backed="r")
        return result, result
    datasets = {}
    for name, path in progress(
        zip(names, args.inputs, strict=True), total=len(names), desc="reading", disable=args.no_progress
    ):
        datasets[name] = read(path)
    with _harmonizing(len(datasets), disable=args.no_progress):
        result = concat_harmonized(datasets, copy_inputs=False, **kwargs)
    write(result, args.out)
    return result, result


def _print_result(result: Any, names: list[str], key: str, out: Path) -> None:
    from idtrack_sc.record import collect

    found = collect(result, key)
    for ds in found.datasets:
        counts = ds.counts
        o = counts.get("outcome", {})
        label = ds.name or names[0]
        print(
            f"{label}: {int(counts.get('n_vars_before', 0)):,} -> {int(counts.get('n_vars_after', 0)):,} features "
            f"(1:1 {int(o.get('1:1', 0)):,}, 1:n {int(o.get('1:n', 0)):,}, 1:0 {int(o.get('1:0', 0)):,})"
        )
    print(f"wrote {out}: {result.n_obs:,} cells x {result.n_vars:,} features")
