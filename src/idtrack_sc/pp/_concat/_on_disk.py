"""The out-of-core path: one skeleton, the engines as rows of one table (:data:`ENGINES`).

:func:`choose_engine` picks the row (before any work); :func:`concat_out_of_core` runs the
skeleton in one run directory beside ``out_file``: each dataset is harmonized and staged as an
``.h5ad`` (``stream``) or read lazily (``dask``), the datasets are joined, the result is
finished (the idtrack ``var`` columns, ``varm['{key_added}_presence']`` and the record,
written with anndata's element API) and renamed onto ``out_file``. With the streaming engine
peak memory is that of the largest single dataset, whatever their number.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from anndata import AnnData
from anndata.io import read_elem, write_elem

from ...record import presence_key
from ._diagnostics import _log_summary
from ._files import release_memory, replace_atomically, result_path, run_directory, stage
from ._stream import write_concat
from ._union import _with_columns

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator

    from ._join import JoinArgs
    from ._run import Run

logger = logging.getLogger(__name__)

#: Out of core: the most stored values read at once (see :func:`~idtrack_sc.pp._concat._stream.write_concat`).
MAX_LOADED_ELEMS = 2_000_000
#: Suffixes of ``out_file`` (as :func:`anndata.experimental.concat_on_disk`).
OUT_SUFFIXES = (".h5ad", ".zarr")
#: Values of ``concat_harmonized(engine=...)``.
ENGINE_NAMES = ("auto", "dask", "stream")


@dataclass(frozen=True)
class Engine:
    """One row of :data:`ENGINES`: the engine and what writes its result."""

    name: Literal["stream", "dask"]
    #: ``"stream"``: idtrack-sc's streaming ``.h5ad`` writer (:mod:`._stream`); ``"anndata"``:
    #: :func:`anndata.experimental.concat_on_disk`; ``"dask"``: the Dask graph's blocks (:mod:`._dask`)
    writer: Literal["stream", "anndata", "dask"]


#: The out-of-core engines, by (engine, suffix of ``out_file``): the one table of who writes what.
#: Both stage or read each dataset, harmonize it, join, finish the result and rename it in one
#: run directory (:func:`concat_out_of_core`). ``benchmarks/bench_concat.py`` measures the rows
#: side by side with :func:`anndata.experimental.concat_on_disk` on the raw inputs.
ENGINES: dict[tuple[str, str], Engine] = {
    # streaming: row blocks of max_loaded_elems values, memory flat in the number of files
    ("stream", ".h5ad"): Engine("stream", "stream"),
    # anndata's on-disk concatenation (the streaming writer writes .h5ad only)
    ("stream", ".zarr"): Engine("stream", "anndata"),
    ("dask", ".h5ad"): Engine("dask", "dask"),
    ("dask", ".zarr"): Engine("dask", "dask"),
}


def choose_engine(engine: str, out_file: Path) -> Engine:
    """The row of :data:`ENGINES` that writes ``out_file`` (``"auto"``: Dask when it is installed), before any work."""
    from . import _dask

    if engine not in ENGINE_NAMES:
        msg = f"engine must be one of {ENGINE_NAMES}, got {engine!r}."
        raise ValueError(msg)
    if engine == "auto":
        engine = "dask" if _dask.dask_available() else "stream"
    elif engine == "dask" and not _dask.dask_available():
        msg = (
            "engine='dask' needs dask[array] (and, for a cluster, distributed): "
            "pip install 'idtrack-sc[dask]'; or use engine='stream'."
        )
        raise ImportError(msg)
    return ENGINES[engine, out_file.suffix.lower()]


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


def concat_out_of_core(run: Run, join_args: JoinArgs, *, engine: Engine, out_file: Path, max_loaded_elems: int) -> None:
    """The out-of-core skeleton: stage (or read lazily) each dataset, join, finish, replace atomically.

    Everything is done in one run directory beside ``out_file``
    (:func:`~idtrack_sc.pp._concat._files.run_directory`), removed at the end, also on error.
    """
    with run_directory(out_file) as workdir:
        staged = result_path(workdir, out_file)
        if engine.name == "dask":
            from ._dask import concat_dask, load_lazy

            items = run.harmonized(partial(load_lazy, copy_inputs=run.copy_inputs, max_loaded_elems=max_loaded_elems))
            user_uns = concat_dask(
                items,
                result_file=staged,
                workdir=workdir,
                union=run.union,
                join_args=join_args,
                max_loaded_elems=max_loaded_elems,
            )
            notes: dict[str, str] = {}
        else:
            files, user_uns, with_raw = _stage(run, workdir, join_args)
            logger.info("Concatenating %d files on disk into %s (writer %r).", len(files), out_file, engine.writer)
            _concat_files(files, staged, writer=engine.writer, join_args=join_args, max_loaded_elems=max_loaded_elems)
            notes = {}
            if engine.writer == "anndata" and with_raw and len(files) > 1:
                notes["raw"] = (
                    "anndata.experimental.concat_on_disk (which writes a .zarr result with engine='stream') does not "
                    "concatenate raw; use engine='dask', or an .h5ad out_file"
                )
        _finish_file(staged, run, uns_merge=join_args.uns_merge, user_uns=user_uns, not_concatenated=notes)
        replace_atomically(staged, out_file, workdir)


def _stage(run: Run, workdir: Path, join_args: JoinArgs) -> tuple[list[Path], list[dict], bool]:
    """Each dataset harmonized and written to ``workdir`` in turn; returns the files, their ``uns``, whether all have raw."""
    files, user_uns, raws = [], [], []
    sparse_elements = run.sparse_elements
    for i, (ds, adata, _rec) in enumerate(run.harmonized()):
        path = workdir / f"{i:06d}.h5ad"
        _as_csr(adata, sparse_elements)
        stage(adata, path, run.union.staged_columns(adata.var, join_args.merge))
        files.append(path)
        raws.append(adata.raw is not None)
        if join_args.uns_merge is not None:
            user_uns.append(dict(adata.uns))
        del adata
        gc.collect()
        release_memory()
        logger.info("%s harmonized and staged (%d so far).", ds.label, i + 1)
    return files, user_uns, all(raws)


def _concat_files(
    files: list[Path], out_file: Path, *, writer: str, join_args: JoinArgs, max_loaded_elems: int
) -> None:
    """Concatenate harmonized ``.h5ad`` files along the cells into ``out_file`` with ``writer`` (see :data:`ENGINES`)."""
    kwargs = join_args.files()
    if writer == "stream":
        write_concat(files, out_file, max_elems=max_loaded_elems, **kwargs)
        return
    from anndata.experimental import concat_on_disk

    if len(files) == 1:
        # concat_on_disk copies a single file unchanged (no label, keys or index_unique): one
        # dataset is small enough to go through anndata.concat in memory
        keys = kwargs["keys"]
        _single(files[0], out_file, label=kwargs["label"], key=(keys or ["0"])[0], index_unique=kwargs["index_unique"])
        return
    concat_on_disk([str(f) for f in files], str(out_file), max_loaded_elems=max_loaded_elems, **kwargs)


def _single(path: Path, out_file: Path, *, label: str | None, key: str, index_unique: str | None) -> None:
    """One dataset written as ``anndata.concat`` makes it (``label``, ``index_unique`` applied)."""
    import anndata as ad

    result = ad.concat({key: ad.read_h5ad(path)}, label=label, index_unique=index_unique)
    result.strings_to_categoricals()
    if out_file.suffix.lower() == ".zarr":
        result.write_zarr(out_file)
    else:
        result.write_h5ad(out_file)


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
    path: Path, run: Run, *, uns_merge: Any, user_uns: list[dict], not_concatenated: dict[str, str]
) -> None:
    """Write the idtrack ``var`` columns, the presence ``varm`` and ``uns[key_added]`` into a concatenated store."""
    with _open_group(path) as f:
        var = read_elem(f["var"])
        var = _with_columns(var, run.union.var(var.index))
        del f["var"]
        write_elem(f, "var", var)
        presence = run.union.presence(var.index, run.diag.names)
        key = presence_key(run.key_added)
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
        uns[run.key_added] = run.record(len(var), not_concatenated=not_concatenated)
        write_elem(f, "uns", uns)
        _log_summary(uns[run.key_added])


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
