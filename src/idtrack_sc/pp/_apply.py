"""Apply a plan to the matrices: keep the chosen columns, sum merged features, widen dtypes.

``X`` and every layer are handled alike; sparse stays sparse, dense dense and a dask array
stays lazy (its blocks are summed when computed). Integer counts are summed in a dtype that
cannot overflow (:func:`sum_dtype`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from anndata import AnnData
from scipy import sparse

if TYPE_CHECKING:
    from ._plan import FeaturePlan


def replace_contents(adata: AnnData, new: AnnData) -> None:
    """Make ``adata`` hold ``new``'s contents, in place (the object itself stays the caller's).

    anndata has no public in-place subsetting of the features; its constructor accepts an
    AnnData and takes over its elements, so re-running it on ``adata`` is the public way (and
    what anndata's own in-place subsetting does). A view becomes an actual AnnData.
    """
    AnnData.__init__(adata, new)


def _indicator(src: np.ndarray, dst: np.ndarray, n_old: int, n_new: int, dtype: np.dtype) -> sparse.csr_matrix:
    """Sparse ``n_old × n_new`` matrix with a 1 where old column ``src`` feeds new column ``dst``."""
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
        dtype = np.dtype(np.float64)
    data = np.ones(len(src), dtype=dtype)
    return sparse.csr_matrix((data, (src, dst)), shape=(n_old, n_new))


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype duplicate features are summed in: one that cannot overflow for count data.

    Integers narrower than 64 bits are promoted to ``int64`` (``uint64`` stays ``uint64``),
    booleans to ``int64`` (a count of ``True``), ``float16`` to ``float32`` (which scipy can
    multiply); wider types are kept.
    """
    dtype = np.dtype(dtype)
    if dtype == np.bool_ or (np.issubdtype(dtype, np.signedinteger) and dtype.itemsize < 8):
        return np.dtype(np.int64)
    if np.issubdtype(dtype, np.unsignedinteger):
        return np.dtype(np.uint64) if dtype.itemsize == 8 else np.dtype(np.int64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    if dtype.kind == "c" and dtype.itemsize < 8:  # pragma: no cover - complex counts do not occur
        return np.dtype(np.complex64)
    return dtype


def _is_dask(matrix: Any) -> bool:
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is optional
        return False
    return isinstance(matrix, da.Array)


def _check_summable(name: str, matrix: Any, label: str) -> None:
    """Refuse, before anything is changed, a matrix whose duplicate columns cannot be summed."""
    if matrix is None or sparse.issparse(matrix) or isinstance(matrix, np.ndarray) or _is_dask(matrix):
        dtype = getattr(matrix, "dtype", None)
        if dtype is not None and not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
            msg = (
                f"{label}: cannot sum duplicate features of {name} (dtype {dtype}); use duplicates='first'. "
                "Nothing was changed."
            )
            raise TypeError(msg)
        return
    msg = (
        f"{label}: cannot sum duplicate features of {name}, a {type(matrix).__name__}; convert it to a numpy, "
        "scipy sparse or dask array first, or use duplicates='first'. Nothing was changed."
    )
    raise TypeError(msg)


def _sum_columns(matrix: Any, indicator: sparse.csr_matrix) -> Any:
    """``matrix @ indicator`` in the indicator's dtype, keeping sparse sparse, dense dense, lazy lazy."""
    dtype = indicator.dtype
    if sparse.issparse(matrix):
        fmt = matrix.format
        out = (matrix.astype(dtype, copy=False) @ indicator).asformat(fmt)
        return out.astype(dtype, copy=False)
    if isinstance(matrix, np.ndarray):
        return np.asarray(matrix.astype(dtype, copy=False) @ indicator).astype(dtype, copy=False)
    if _is_dask(matrix):
        whole_rows = matrix.rechunk({1: -1})
        from dask.array.utils import meta_from_array

        meta = meta_from_array(whole_rows)
        dense_blocks = not sparse.issparse(meta)
        # the blocks' type, given explicitly: dask cannot infer it by calling ``block`` on an
        # empty (0, 0) block, which does not fit the indicator
        out_meta = np.empty((0, 0), dtype=dtype) if dense_blocks else meta.astype(dtype)

        def block(b: Any) -> Any:
            out = b.astype(dtype, copy=False) @ indicator
            return np.asarray(out).astype(dtype, copy=False) if dense_blocks else out.astype(dtype)

        return whole_rows.map_blocks(
            block, dtype=dtype, chunks=(whole_rows.chunks[0], (indicator.shape[1],)), meta=out_meta
        )
    msg = (  # pragma: no cover - _check_summable refuses these first
        f"Cannot sum duplicate features of a {type(matrix).__name__} matrix; convert it to a numpy, scipy "
        "sparse or dask array first, or use duplicates='first'."
    )
    raise TypeError(msg)


def matrices_to_sum(adata: AnnData, plan: FeaturePlan, label: str) -> dict[str, Any]:
    """``X`` and the layers whose merged columns must be summed (none unless the plan sums).

    Refuses, before anything is changed, a matrix whose columns cannot be summed.
    """
    if not plan.sums:
        return {}
    # anndata >= 0.13 lists X in layers under the key None: it is summed once, as "X"
    layer_names = [k for k in adata.layers if k is not None]
    matrices = {"X": adata.X, **{k: adata.layers[k] for k in layer_names}}
    for name, matrix in matrices.items():  # refuse before anything is changed
        _check_summable(name if name == "X" else f"layers[{name!r}]", matrix, label)
    return matrices


def apply_plan(
    adata: AnnData, plan: FeaturePlan, matrices: dict[str, Any]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Reduce ``adata`` to the plan's features, in place, and put the summed ``matrices`` in.

    Returns the matrices whose sums were made in a wider dtype (``{"X": "int32 -> int64"}``),
    and what became of the feature-aligned ``varm`` / ``varp`` entries when features were
    summed (``{"varm": {"loadings": "summed"}, "varp": {...}}``, see :func:`_var_aligned`).
    """
    var_aligned = {"varm": dict(adata.varm), "varp": dict(adata.varp)} if matrices else None
    if matrices:
        # Sum from the original matrices; subset only an empty stand-in, so the expensive
        # column selection of X and layers is never done for matrices about to be replaced.
        for name in [k for k in adata.layers if k is not None]:
            del adata.layers[name]
        adata.X = sparse.csr_matrix(adata.shape, dtype=np.float32) if adata.X is not None else None
    first_src = plan.first_src
    identity = len(first_src) == plan.n_old and bool((first_src == np.arange(plan.n_old)).all())
    if not identity:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # anndata warns about the temporary non-unique names
            replace_contents(adata, adata[:, first_src].copy())
    promoted: dict[str, str] = {}
    indicator_cache: dict[Any, sparse.csr_matrix] = {}
    for name, matrix in matrices.items():
        if matrix is None:
            continue
        dtype = sum_dtype(matrix.dtype)
        if dtype != matrix.dtype:
            promoted[name] = f"{np.dtype(matrix.dtype).name} -> {dtype.name}"
        if dtype not in indicator_cache:
            indicator_cache[dtype] = _indicator(plan.src, plan.group, plan.n_old, plan.n_new, dtype)
        summed = _sum_columns(matrix, indicator_cache[dtype])
        if name == "X":
            adata.X = summed
        else:
            adata.layers[name] = summed
    notes = _var_aligned(adata, plan, var_aligned) if var_aligned is not None else {}
    return promoted, notes


def _var_aligned(adata: AnnData, plan: FeaturePlan, before: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Combine the ``varm`` rows (``varp`` rows and columns) of summed features as ``X``'s columns are.

    ``before`` holds the entries as they were before the features were reduced (where
    ``adata`` now holds the first member's row of each merged feature). A numeric array
    (numpy or scipy sparse) is summed over each merged feature's members, like ``X``;
    anything else (a table, text) cannot be summed and is dropped rather than silently keeping
    the first member's row. Returns, per element, each entry's fate: ``"summed"`` or
    ``"dropped: ..."``.
    """
    notes: dict[str, dict[str, str]] = {"varm": {}, "varp": {}}
    for attr, entries in before.items():
        target = getattr(adata, attr)
        for key, value in entries.items():
            numeric = (sparse.issparse(value) or isinstance(value, np.ndarray)) and (
                np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_
            )
            if not numeric:
                del target[key]
                notes[attr][str(key)] = (
                    f"dropped: a {type(value).__name__} cannot be summed over merged features "
                    "(duplicates='sum'); use duplicates='first' to keep the first member's row"
                )
                continue
            indicator = _indicator(plan.src, plan.group, plan.n_old, plan.n_new, sum_dtype(value.dtype))
            summed = indicator.T @ value.astype(indicator.dtype, copy=False)
            if attr == "varp":
                summed = summed @ indicator
            if not sparse.issparse(value):
                summed = np.asarray(summed)
            elif sparse.issparse(summed):
                summed = summed.asformat(value.format)
            target[key] = summed
            notes[attr][str(key)] = "summed"
    return {attr: v for attr, v in notes.items() if v}
