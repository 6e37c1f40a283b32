"""The out-of-core path: each harmonized dataset staged as an ``.h5ad``, then joined on disk.

Peak memory is that of the largest single dataset, whatever their number. The join is
:func:`_concat_files`, the one engine switch: an ``.h5ad`` result is streamed by
:func:`~idtrack_sc.pp._concat._stream.write_concat` in row blocks, a ``.zarr`` one is written
by :func:`anndata.experimental.concat_on_disk`. The feature annotations and diagnostics are
then written into the result with anndata's element API.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from anndata import AnnData
from anndata.io import read_elem, write_elem

from ...record import presence_key
from ._diagnostics import _log_summary, _summary
from ._files import release_memory, replace_atomically, result_path, run_directory
from ._stream import write_concat
from ._union import _with_columns

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterator

    from ...snapshot import Snapshot
    from ._diagnostics import _Diagnostics
    from ._inputs import _Dataset
    from ._union import _FeatureUnion

logger = logging.getLogger(__name__)

#: Out of core: the most stored values read at once (see :func:`~idtrack_sc.pp._concat._stream.write_concat`).
MAX_LOADED_ELEMS = 2_000_000
#: The engine that concatenates the harmonized files on disk (see :func:`_concat_files`).
ON_DISK_ENGINE: Literal["stream", "anndata"] = "stream"
#: Suffixes of ``out_file`` (as :func:`anndata.experimental.concat_on_disk`).
OUT_SUFFIXES = (".h5ad", ".zarr")


def _check_out_file(out_file: str | os.PathLike, *, pairwise: bool, overwrite: bool = False) -> Path:
    """``out_file`` as a path, refused early (before any dataset is harmonized) if unusable."""
    path = Path(out_file)
    if path.suffix.lower() not in OUT_SUFFIXES:
        msg = f"out_file must end in .h5ad or .zarr, got {path}."
        raise ValueError(msg)
    if not path.parent.is_dir():
        msg = f"The folder of out_file={path} does not exist."
        raise FileNotFoundError(msg)
    if path.exists() and not overwrite:
        msg = f"out_file={path} already exists; give overwrite=True to replace it."
        raise FileExistsError(msg)
    if pairwise:
        msg = "pairwise=True is not supported out of core (obsp is not concatenated there)."
        raise NotImplementedError(msg)
    return path


def engine_for(out_file: Path, engine: str) -> str:
    """The engine that writes ``out_file``: ``"dask"``, ``"stream"`` or ``"anndata"`` (checked before any work)."""
    from ._dask import resolve_engine

    if resolve_engine(engine) == "dask":
        return "dask"
    return "anndata" if out_file.suffix.lower() == ".zarr" else ON_DISK_ENGINE


def _concat_files(
    files: list[Path],
    out_file: Path,
    *,
    join: str,
    merge: Any,
    label: str | None,
    keys: list | None,
    index_unique: str | None,
    fill_value: Any,
    max_loaded_elems: int,
) -> None:
    """Concatenate harmonized ``.h5ad`` files along the cells into ``out_file``: the one engine switch.

    ``"stream"`` is :func:`~idtrack_sc.pp._concat._stream.write_concat` (``.h5ad`` output, row blocks of
    ``max_loaded_elems`` values, memory flat in the number of files); ``"anndata"`` is
    :func:`anndata.experimental.concat_on_disk`. A ``.zarr`` result is always written by
    anndata's. ``benchmarks/bench_concat.py --engine`` measures both: same time for the
    on-disk step, but anndata's peak memory grows with the number of files while the
    streaming writer's stays flat, so ``.h5ad`` results keep the streaming writer
    (docs/benchmarks/concat-engines.md).
    """
    engine = "anndata" if out_file.suffix.lower() == ".zarr" else ON_DISK_ENGINE
    logger.info("Concatenating %d files on disk into %s (engine %r).", len(files), out_file, engine)
    if engine == "stream":
        write_concat(
            files,
            out_file,
            join=join,
            merge=merge,
            label=label,
            keys=keys,
            index_unique=index_unique,
            fill_value=fill_value,
            max_elems=max_loaded_elems,
        )
        return
    from anndata.experimental import concat_on_disk

    if len(files) == 1:
        # concat_on_disk copies a single file unchanged (no label, keys or index_unique): one
        # dataset is small enough to go through anndata.concat in memory
        _single(files[0], out_file, label=label, key=(keys or ["0"])[0], index_unique=index_unique)
        return
    concat_on_disk(
        [str(f) for f in files],
        str(out_file),
        join=join,
        merge=merge,
        label=label,
        keys=keys,
        index_unique=index_unique,
        fill_value=fill_value,
        max_loaded_elems=max_loaded_elems,
    )


def _single(path: Path, out_file: Path, *, label: str | None, key: str, index_unique: str | None) -> None:
    """One dataset written as ``anndata.concat`` makes it (``label``, ``index_unique`` applied)."""
    import anndata as ad

    result = ad.concat({key: ad.read_h5ad(path)}, label=label, index_unique=index_unique)
    result.strings_to_categoricals()
    if out_file.suffix.lower() == ".zarr":
        result.write_zarr(out_file)
    else:
        result.write_h5ad(out_file)


def _concat_out_of_core(
    items: Iterator[tuple[_Dataset, AnnData, dict[str, Any]]],
    *,
    sparse_elements: frozenset[str],
    out_file: Path,
    union: _FeatureUnion,
    diag: _Diagnostics,
    snap: Snapshot,
    params: dict[str, Any],
    key_added: str,
    max_loaded_elems: int,
    join: str,
    merge: Any,
    uns_merge: Any,
    label: str | None,
    keys: list | None,
    index_unique: str | None,
    fill_value: Any,
    pairwise: bool,
) -> None:

    del pairwise  # refused by _check_out_file
    with run_directory(out_file) as workdir:
        files, user_uns = [], []
        for i, (ds, adata, _rec) in enumerate(items):
            path = workdir / f"{i:06d}.h5ad"
            full_var = adata.var
            adata.var = full_var[union.staged_columns(full_var, merge)]
            _as_csr(adata, sparse_elements)
            adata.write_h5ad(path)
            adata.var = full_var
            files.append(path)
            if uns_merge is not None:
                user_uns.append(dict(adata.uns))
            del adata
            gc.collect()
            release_memory()
            logger.info("%s harmonized and staged (%d so far).", ds.label, i + 1)
        staged = result_path(workdir, out_file)
        _concat_files(
            files,
            staged,
            join=join,
            merge=merge,
            label=label,
            keys=keys,
            index_unique=index_unique,
            fill_value=fill_value,
            max_loaded_elems=max_loaded_elems,
        )
        _finish_file(
            staged,
            union=union,
            diag=diag,
            snap=snap,
            params=params,
            key_added=key_added,
            uns_merge=uns_merge,
            user_uns=user_uns,
        )
        replace_atomically(staged, out_file, workdir)


def _concat_out_of_core_dask(
    harmonized: Callable[..., Iterator[tuple[_Dataset, AnnData, dict[str, Any]]]],
    *,
    out_file: Path,
    union: _FeatureUnion,
    diag: _Diagnostics,
    snap: Snapshot,
    params: dict[str, Any],
    key_added: str,
    max_loaded_elems: int,
    copy_inputs: bool,
    uns_merge: Any,
    pairwise: bool,
    **concat_kwargs: Any,
) -> None:
    """The Dask engine (:mod:`._dask`), finished as the staged path: same ``var`` columns and record."""
    from functools import partial

    from ._dask import concat_dask, load_lazy

    del pairwise  # refused by _check_out_file
    with run_directory(out_file) as workdir:
        concat_dask(
            harmonized(partial(load_lazy, copy_inputs=copy_inputs, max_loaded_elems=max_loaded_elems)),
            out_file=out_file,
            workdir=workdir,
            finish=partial(
                _finish_file, union=union, diag=diag, snap=snap, params=params, key_added=key_added, uns_merge=uns_merge
            ),
            key_added=key_added,
            union=union,
            max_loaded_elems=max_loaded_elems,
            uns_merge=uns_merge,
            **concat_kwargs,
        )


def _as_csr(adata: AnnData, paths: frozenset[str]) -> None:
    """Stage the matrices some dataset stores sparse as CSR in every dataset (``adata``: a stand-in).

    :func:`anndata.concat` makes a matrix CSR as soon as one dataset has it sparse (CSC or
    CSR), and dense only when all are dense; staging every dataset in that format lets both
    on-disk writers join them by rows (:func:`anndata.experimental.concat_on_disk` refuses
    mixed formats, and CSC matrices altogether).
    """
    from scipy import sparse

    def csr(x: Any) -> Any:
        if x is None or (sparse.issparse(x) and x.format == "csr"):
            return x
        return sparse.csr_matrix(x)

    for path in sorted(paths):
        if path == "X":
            adata.X = csr(adata.X)
        elif path.startswith("layers/") and path.removeprefix("layers/") in adata.layers:
            key = path.removeprefix("layers/")
            adata.layers[key] = csr(adata.layers[key])


def _finish_file(
    path: Path,
    *,
    union: _FeatureUnion,
    diag: _Diagnostics,
    snap: Snapshot,
    params: dict[str, Any],
    key_added: str,
    uns_merge: Any,
    user_uns: list[dict],
) -> None:
    """Write the idtrack ``var`` columns, the presence ``varm`` and ``uns[key_added]`` into a concatenated store."""
    with _open_group(path) as f:
        var = read_elem(f["var"])
        var = _with_columns(var, union.var(var.index))
        del f["var"]
        write_elem(f, "var", var)
        presence = union.presence(var.index, diag.names)
        key = presence_key(key_added)
        if "varm" not in f:
            write_elem(f, "varm", {key: presence})
        else:
            if key in f["varm"]:
                del f["varm"][key]
            write_elem(f["varm"], key, presence)
        uns: dict[str, Any] = {}
        if "uns" in f:
            uns = read_elem(f["uns"])
            del f["uns"]
        if uns_merge is not None and user_uns:
            uns.update(_merge_uns(user_uns, uns_merge))
        uns[key_added] = _summary(diag, union, len(var), snap=snap, params=params)
        write_elem(f, "uns", uns)
        _log_summary(uns[key_added])


@contextlib.contextmanager
def _open_group(path: Path) -> Iterator[Any]:
    """The root group of an ``.h5ad`` file (h5py) or a ``.zarr`` store (zarr), open for writing."""
    if path.suffix.lower() == ".zarr":
        import zarr

        yield zarr.open_group(str(path), mode="r+")
        return
    import h5py

    with h5py.File(path, "r+") as f:
        yield f


def _merge_uns(unses: list[dict], strategy: Any) -> dict:
    """Apply anndata's ``uns_merge`` strategy to the datasets' own ``uns`` (out of core).

    :func:`anndata.concat` on empty AnnData objects that hold only the ``uns`` gives exactly
    anndata's merge, through its public API.
    """
    import anndata as ad

    empty = pd.DataFrame(index=pd.Index([], dtype=object))
    shells = [AnnData(obs=empty, var=empty, uns=uns) for uns in unses]
    return dict(ad.concat(shells, uns_merge=strategy).uns)
