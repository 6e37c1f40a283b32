"""The Dask engine of the out-of-core :func:`~idtrack_sc.concat_harmonized`.

Each ``.h5ad`` input is opened lazily: ``obs``, ``var`` and ``uns`` are read (small), ``X``,
the ``layers``, the array ``obsm`` entries and ``raw.X`` become Dask arrays by
:func:`anndata.experimental.read_elem_lazy` (each task opens the file by its path, so the
graph runs on any scheduler, a ``dask.distributed.Client``'s workers included). The
features of each dataset are harmonized on the driver by the same function as in memory
(:func:`~idtrack_sc.pp._harmonize._harmonize_anndata`), which keeps Dask arrays lazy: the
duplicate features are summed per row block by the sparse old → new indicator matrix, in
the widened :func:`~idtrack_sc.pp._harmonize.sum_dtype`. :func:`anndata.concat` then joins
the lazy datasets (column reindexing to the union or intersection and
:func:`dask.array.concatenate`, with anndata's own ``join`` / ``fill_value`` / dtype rules),
and the result is written row block by row block with anndata's element API:

* sparse matrices: the blocks are computed a few at a time in parallel on the active
  scheduler (:func:`dask.compute`) and appended in order
  (:func:`anndata.io.sparse_dataset` ``.append``), so the driver holds at most
  ``parallelism`` blocks;
* dense arrays (``obsm`` embeddings): anndata's :func:`~anndata.io.write_elem` of the Dask
  array.

In-memory :class:`~anndata.AnnData` inputs are harmonized on the driver and staged to a
temporary ``.h5ad`` in the run directory first (as the streaming engine does), then read back
lazily. The result is written in the run directory and renamed onto ``out_file`` by the
skeleton (:func:`~idtrack_sc.pp._concat._on_disk.concat_out_of_core`): a failure (a worker
dying, a corrupt input) leaves nothing under the final name.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._files import release_memory, stage

if TYPE_CHECKING:
    from collections.abc import Iterator

    from anndata import AnnData

    from ._join import JoinArgs
    from ._union import _FeatureUnion

logger = logging.getLogger(__name__)

#: Encodings read as Dask arrays (anything else is read into memory).
LAZY_ENCODINGS = ("csr_matrix", "csc_matrix", "array")


# ---------------------------------------------------------------------------------------------
# availability (the engine is chosen in _on_disk.choose_engine)
# ---------------------------------------------------------------------------------------------
def dask_available() -> bool:
    """Whether ``dask.array`` can be imported (without importing it when it cannot)."""
    import importlib.util

    try:
        if importlib.util.find_spec("dask") is None:
            return False
        import dask.array  # noqa: F401
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False
    return True


# ---------------------------------------------------------------------------------------------
# lazy reading
# ---------------------------------------------------------------------------------------------
def _encoding(obj: Any) -> str:
    value = obj.attrs.get("encoding-type", "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _rows_per_chunk(elem: Any, max_loaded_elems: int) -> int:
    """Rows per block so that one block holds about ``max_loaded_elems`` stored values."""
    encoding = _encoding(elem)
    shape = tuple(int(s) for s in (elem.attrs["shape"] if encoding in ("csr_matrix", "csc_matrix") else elem.shape))
    n_rows = shape[0]
    if n_rows == 0:
        return 1
    if encoding in ("csr_matrix", "csc_matrix"):
        indptr = elem["indptr"]
        nnz = int(indptr[-1]) if indptr.shape[0] else 0
        per_row = max(nnz / n_rows, 1.0)
    else:
        per_row = float(max(int(np.prod(shape[1:])), 1))
    return int(max(1, min(n_rows, max_loaded_elems // per_row)))


def _lazy(elem: Any, max_loaded_elems: int) -> Any:
    """A Dask array of ``elem`` in row blocks (CSC matrices: converted to CSR row blocks)."""
    from anndata.experimental import read_elem_lazy

    encoding = _encoding(elem)
    rows = _rows_per_chunk(elem, max_loaded_elems)
    if encoding == "csc_matrix":
        # a CSC matrix cannot be cut into rows on disk: read it whole, cut in memory (as the
        # streaming engine does for this one dataset)
        from scipy import sparse

        arr = read_elem_lazy(elem, chunks=(-1, -1))
        return arr.map_blocks(sparse.csr_matrix, dtype=arr.dtype, meta=sparse.csr_matrix((0, 0), dtype=arr.dtype))
    if encoding == "csr_matrix":
        return read_elem_lazy(elem, chunks=(rows, -1))
    return read_elem_lazy(elem, chunks=(rows, *(-1 for _ in elem.shape[1:])))


def _is_lazy_elem(elem: Any) -> bool:
    import h5py

    encoding = _encoding(elem)
    if encoding in ("csr_matrix", "csc_matrix"):
        return True
    return encoding == "array" and isinstance(elem, h5py.Dataset) and elem.ndim >= 1 and elem.dtype.kind in "biufc"


def read_lazy_h5ad(path: Path, *, max_loaded_elems: int) -> AnnData:
    """An AnnData of ``path`` whose matrices are Dask arrays (tables and ``uns`` in memory)."""
    import h5py
    import pandas as pd
    from anndata import AnnData
    from anndata.io import read_elem

    def mapping(group: Any) -> dict[str, Any]:
        out = {}
        for key in group:
            elem = group[key]
            out[key] = _lazy(elem, max_loaded_elems) if _is_lazy_elem(elem) else read_elem(elem)
        return out

    with h5py.File(path, "r") as f:
        obs = read_elem(f["obs"])
        var = read_elem(f["var"])
        uns = read_elem(f["uns"]) if "uns" in f else {}
        x = _lazy(f["X"], max_loaded_elems) if "X" in f else None
        layers = mapping(f["layers"]) if "layers" in f else {}
        obsm = mapping(f["obsm"]) if "obsm" in f else {}
        varm = {k: read_elem(v) for k, v in f["varm"].items()} if "varm" in f else {}
        raw = None
        if "raw" in f:
            g = f["raw"]
            raw = {
                "X": _lazy(g["X"], max_loaded_elems),
                "var": read_elem(g["var"]),
                "varm": {k: read_elem(v) for k, v in g["varm"].items()} if "varm" in g else {},
            }
        # obsp / varp are not concatenated out of core (pairwise=False): not read
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-unique names are reported by harmonization
        adata = AnnData(X=x, obs=obs, var=var, uns=uns, layers=layers, obsm=obsm, varm=varm)
        if raw is not None:
            adata.raw = AnnData(X=raw["X"], obs=pd.DataFrame(index=obs.index), var=raw["var"], varm=raw["varm"])
    return adata


def load_lazy(ds: Any, *, copy_inputs: bool, max_loaded_elems: int) -> AnnData:
    """The loader of the Dask engine: ``.h5ad`` paths lazily, AnnData inputs as the streaming engine does."""
    from ._inputs import _load

    if isinstance(ds.source, Path):
        return read_lazy_h5ad(ds.source, max_loaded_elems=max_loaded_elems)
    return _load(ds, copy_inputs=copy_inputs)


def _has_memory_matrices(adata: AnnData) -> bool:
    import dask.array as da

    matrices = [adata.X, *(adata.layers[k] for k in adata.layers if k is not None)]
    if adata.raw is not None:
        matrices.append(adata.raw.X)
    return any(m is not None and not isinstance(m, da.Array) for m in matrices)


def _sparse_blocks(arr: Any) -> bool:
    """Whether a Dask array's blocks are scipy sparse matrices (dask's public ``meta_from_array``)."""
    from dask.array.utils import meta_from_array
    from scipy import sparse

    return sparse.issparse(meta_from_array(arr))


def _as_sparse(arr: Any) -> Any:
    """A dense Dask array as CSR blocks (as anndata.concat's ``as_sparse``, lazily)."""
    import dask.array as da
    from scipy import sparse

    if not isinstance(arr, da.Array) or _sparse_blocks(arr) or arr.ndim != 2:
        return arr
    return arr.map_blocks(sparse.csr_matrix, dtype=arr.dtype, meta=sparse.csr_matrix((0, 0), dtype=arr.dtype))


def _placeholder(n_obs: int, width: int, *, sparse_result: bool, fill_value: Any, rows: int) -> Any:
    """A lazy stand-in for a matrix a dataset lacks (outer join), valued as anndata.concat fills it.

    In memory, :func:`anndata.concat` puts an ``(n, 0)`` boolean array in its place and its
    reindexing fills every column: 0 (as ``float64``) in a sparse result, ``fill_value``
    (default NaN) in a dense one.
    """
    import dask.array as da
    from scipy import sparse

    if sparse_result:
        if fill_value not in (None, 0):
            msg = (
                f"fill_value={fill_value!r} for a sparse matrix missing from some datasets is not supported out of "
                "core; use fill_value=None (0), or join='inner'."
            )
            raise NotImplementedError(msg)
        zeros = da.zeros((n_obs, width), dtype=np.float64, chunks=(rows, -1))
        return zeros.map_blocks(sparse.csr_matrix, dtype=np.float64, meta=sparse.csr_matrix((0, 0), dtype=np.float64))
    fill = np.nan if fill_value is None else fill_value
    return da.full((n_obs, width), fill, chunks=(rows, -1), dtype=np.asarray(fill).dtype)


def _align_matrices(adatas: list[AnnData], *, join: str, fill_value: Any, rows: int) -> None:
    """Give the lazy datasets' matrices the form :func:`anndata.concat` gives them in memory.

    Where one dataset's matrix is sparse, the others' are made sparse too (in memory,
    anndata stacks a sparse result as soon as one input is sparse; on Dask arrays it would
    concatenate dense and sparse blocks as they are); with ``join="outer"``, a layer or
    ``obsm`` array that some datasets lack is filled as in memory (:func:`_placeholder`).
    """
    import dask.array as da

    def is_sparse(arr: Any) -> bool:
        return isinstance(arr, da.Array) and _sparse_blocks(arr)

    if any(is_sparse(a.X) for a in adatas):
        for a in adatas:
            a.X = _as_sparse(a.X)
    if all(a.raw is not None for a in adatas) and any(is_sparse(a.raw.X) for a in adatas):
        import pandas as pd
        from anndata import AnnData

        for a in adatas:
            if not is_sparse(a.raw.X):
                raw = a.raw
                a.raw = AnnData(
                    X=_as_sparse(raw.X), obs=pd.DataFrame(index=a.obs_names), var=raw.var, varm=dict(raw.varm)
                )
    for attr in ("layers", "obsm"):
        keys = sorted({k for a in adatas for k in getattr(a, attr) if k is not None})
        for key in keys:
            present = [getattr(a, attr)[key] for a in adatas if key in getattr(a, attr)]
            if not all(isinstance(p, da.Array) for p in present):
                continue  # obsm tables and the like: anndata's rules, in memory
            sparse_result = any(is_sparse(p) for p in present)
            if join == "outer" and len(present) < len(adatas):
                for a in adatas:
                    if key not in getattr(a, attr):
                        width = a.n_vars if attr == "layers" else max(p.shape[1] for p in present)
                        getattr(a, attr)[key] = _placeholder(
                            a.n_obs, width, sparse_result=sparse_result, fill_value=fill_value, rows=rows
                        )
            if sparse_result:
                for a in adatas:
                    if key in getattr(a, attr):
                        getattr(a, attr)[key] = _as_sparse(getattr(a, attr)[key])


def _obsm_dtypes_as_in_memory(result: AnnData, adatas: list[AnnData], *, join: str, fill_value: Any) -> None:
    """Cast lazily joined ``obsm`` arrays to the dtype :func:`anndata.concat` gives in memory.

    Padding embeddings of different widths (outer join) promotes ``float32`` to ``float64``
    in memory on some anndata versions but not on Dask arrays; the in-memory rule is read
    off :func:`anndata.concat` on one-row stand-ins of the same dtypes and widths.
    """
    import dask.array as da
    import pandas as pd
    from anndata import AnnData
    from scipy import sparse

    lazy_keys = [k for k, v in result.obsm.items() if isinstance(v, da.Array)]
    if not lazy_keys:
        return

    def stand_in(arr: Any) -> Any:
        if _sparse_blocks(arr):
            return sparse.csr_matrix((1, arr.shape[1]), dtype=arr.dtype)
        return np.zeros((1, *arr.shape[1:]), dtype=arr.dtype)

    shells = []
    for i, a in enumerate(adatas):
        obsm = {k: stand_in(a.obsm[k]) for k in lazy_keys if k in a.obsm and isinstance(a.obsm[k], da.Array)}
        shells.append(AnnData(obs=pd.DataFrame(index=[str(i)]), obsm=obsm))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = ad_concat(shells, join=join, fill_value=fill_value)
    for key in lazy_keys:
        if key in probe.obsm and probe.obsm[key].dtype != result.obsm[key].dtype:
            result.obsm[key] = result.obsm[key].astype(probe.obsm[key].dtype)


def ad_concat(*args: Any, **kwargs: Any) -> AnnData:
    import anndata as ad

    return ad.concat(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _parallelism() -> int:
    """How many blocks to compute at once: the threads of the active scheduler."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        workers = client.scheduler_info().get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
    import dask

    n = dask.config.get("num_workers", None)
    return max(1, int(n) if n else (os.cpu_count() or 1))


def _write_sparse(group: Any, key: str, arr: Any, *, parallelism: int) -> None:
    """Write a CSR Dask array row block by row block, ``parallelism`` blocks computed at once."""
    import dask
    from anndata.io import sparse_dataset, write_elem
    from scipy import sparse

    offsets = np.concatenate([[0], np.cumsum(arr.chunks[0])])
    blocks = [arr[int(a) : int(b)] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    if not blocks:  # no rows
        write_elem(group, key, sparse.csr_matrix(arr.shape, dtype=arr.dtype))
        return
    disk = None
    for start in range(0, len(blocks), parallelism):
        for computed in dask.compute(*blocks[start : start + parallelism]):
            block = sparse.csr_matrix(computed, dtype=arr.dtype)
            if not block.has_sorted_indices:  # as anndata.concat's sparse.vstack leaves them
                block.sort_indices()
            if disk is None:
                write_elem(group, key, block)
                disk = sparse_dataset(group[key])
            else:
                disk.append(block)
            del block
        release_memory()


def _write_matrix(group: Any, key: str, arr: Any, *, parallelism: int) -> None:
    import dask.array as da
    from anndata.io import write_elem

    if isinstance(arr, da.Array) and _sparse_blocks(arr):
        _write_sparse(group, key, arr, parallelism=parallelism)
    else:  # dense Dask arrays (embeddings) and anything in memory: anndata's writer
        write_elem(group, key, arr)


def zarr_write_format() -> int:
    """The zarr format of a new store: anndata's own choice, without its deprecated setting.

    anndata 0.13 deprecates ``anndata.settings.zarr_write_format`` (0.14 removes it and writes
    zarr v3 only); its default there is 3. Before 0.13 the setting is read, as anndata's own
    writers do (its default, 2, is what those versions write).
    """
    from importlib.metadata import version

    from ..._requirements import _release

    if _release(version("anndata")) >= _release("0.13"):
        return 3
    import anndata as ad

    return int(ad.settings.zarr_write_format)


@contextlib.contextmanager
def _create_store(path: Path) -> Iterator[Any]:
    """A new ``.h5ad`` file (h5py) or ``.zarr`` store (zarr) at ``path``, open for writing."""
    if path.suffix.lower() == ".zarr":
        import zarr

        kwargs: dict[str, Any] = {}
        if int(zarr.__version__.split(".")[0]) >= 3:
            kwargs["zarr_format"] = zarr_write_format()
        yield zarr.open_group(str(path), mode="w", **kwargs)
        return
    import h5py

    with h5py.File(path, "w") as f:
        yield f


def write_lazy(result: AnnData, path: Path) -> None:
    """Write a lazily concatenated AnnData to ``path`` (``.h5ad`` or ``.zarr``), block by block."""
    import dask.array as da
    from anndata import AnnData
    from anndata.io import write_elem

    parallelism = _parallelism()
    lazy_obsm = {k: v for k, v in result.obsm.items() if isinstance(v, da.Array)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shell = AnnData(
            obs=result.obs,
            var=result.var,
            obsm={k: v for k, v in result.obsm.items() if k not in lazy_obsm},
            varm=dict(result.varm),
            varp=dict(result.varp),
        )
    with _create_store(path) as f:
        write_elem(f, "/", shell)  # obs, var, in-memory obsm, varm, varp, empty layers/obsp/uns
        for key, value in lazy_obsm.items():
            _write_matrix(f["obsm"], key, value, parallelism=parallelism)
            logger.info("obsm[%r] written.", key)
        for key in [k for k in result.layers if k is not None]:
            _write_matrix(f["layers"], key, result.layers[key], parallelism=parallelism)
            logger.info("layers[%r] written.", key)
        if result.X is not None:
            _write_matrix(f, "X", result.X, parallelism=parallelism)
            logger.info("X written.")
        if result.raw is not None:
            if "raw" in f:  # an empty placeholder of the shell (anndata >= 0.12 writes None as "null")
                del f["raw"]
            raw = f.require_group("raw")
            raw.attrs["encoding-type"] = "raw"
            raw.attrs["encoding-version"] = "0.1.0"
            _write_matrix(raw, "X", result.raw.X, parallelism=parallelism)
            write_elem(raw, "var", result.raw.var)
            write_elem(raw, "varm", dict(result.raw.varm))
            logger.info("raw written.")


# ---------------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------------
def concat_dask(
    items: Iterator[tuple[Any, AnnData, dict[str, Any]]],
    *,
    result_file: Path,
    workdir: Path,
    union: _FeatureUnion,
    join_args: JoinArgs,
    max_loaded_elems: int,
) -> list[dict]:
    """Concatenate the harmonized (lazy) datasets of ``items`` and write them to ``result_file``, block by block.

    ``workdir`` is the run's directory (:func:`~idtrack_sc.pp._concat._files.run_directory`):
    in-memory inputs are staged there. Returns the datasets' own ``uns`` (for ``uns_merge``);
    the caller finishes the result and renames it.
    """
    import anndata as ad
    import pandas as pd

    join, merge, uns_merge, fill_value = join_args.join, join_args.merge, join_args.uns_merge, join_args.fill_value
    lazy, user_uns = [], []
    names: dict[str, str] = {}  # one string object per feature name, shared by all datasets
    for i, (ds, adata, _rec) in enumerate(items):
        full_var = adata.var
        keep = union.staged_columns(full_var, merge)
        if _has_memory_matrices(adata):
            # an in-memory input: stage its harmonized matrices to disk, read them back lazily
            path = workdir / f"{i:06d}.h5ad"
            stage(adata, path, keep)
            if uns_merge is not None:
                user_uns.append(dict(adata.uns))
            staged = read_lazy_h5ad(path, max_loaded_elems=max_loaded_elems)
        else:
            if uns_merge is not None:
                user_uns.append(dict(adata.uns))
            adata.var = full_var[keep]
            adata.uns = {}
            staged = adata
        index = staged.var_names.to_numpy(dtype=object)
        staged.var_names = pd.Index([names.setdefault(str(n), str(n)) for n in index], dtype=object)
        lazy.append(staged)
        del adata, staged, full_var, index
        # the per-dataset harmonization's temporaries: freed, and their pages returned to the
        # system, so the driver's memory does not creep up with the number of datasets
        gc.collect()
        release_memory()
        logger.info("%s harmonized (lazily; %d so far).", ds.label, i + 1)
    if join == "inner" and len(lazy) > 1:
        common = lazy[0].var_names
        for adata in lazy[1:]:
            common = common.intersection(adata.var_names)
        if len(common) == 0:
            msg = (
                f"join='inner': no feature is present in all {len(lazy)} datasets, so the result would have no "
                "features. Use join='outer', or concatenate datasets that share features."
            )
            raise ValueError(msg)
    _align_matrices(lazy, join=join, fill_value=fill_value, rows=max(1, max_loaded_elems // max(lazy[0].n_vars, 1)))
    if any(a.raw is not None for a in lazy) and not all(a.raw is not None for a in lazy):
        logger.warning("raw is present in some datasets only; as anndata.concat, the result has no raw.")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not unique.*")
        result = ad.concat(lazy, **join_args.files())
    _obsm_dtypes_as_in_memory(result, lazy, join=join, fill_value=fill_value)
    del lazy
    # as AnnData.write_h5ad and the streaming engine do: string columns become categoricals
    result.strings_to_categoricals()
    logger.info(
        "Writing %d cells x %d features to %s with Dask (%s).",
        result.n_obs,
        result.n_vars,
        result_file,
        ", ".join(["X", *[f"layers[{k!r}]" for k in result.layers if k is not None]]),
    )
    write_lazy(result, result_file)
    return user_uns
