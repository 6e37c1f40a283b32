"""Streaming concatenation of ``.h5ad`` files along the cells, with memory independent of their number.

:func:`write_concat` is the last step of the out-of-core
:func:`~idtrack_sc.pp.concat_harmonized`: it joins harmonized ``.h5ad`` files into one, with
:func:`anndata.concat`'s semantics (``join``, ``merge``, ``label``, ``keys``,
``index_unique``, ``fill_value``), without holding more than one block of one matrix at a
time.

* Pass 1 (cheap) reads the ``var`` index, ``obs`` and the layout of the matrices of every
  file: it computes the features of the result (anndata's reduction of
  :meth:`pandas.Index.union` / :meth:`pandas.Index.intersection`, one file at a time), the
  concatenated ``obs`` (by :func:`anndata.concat` on matrix-free shells, so that ``label``,
  ``keys`` and ``index_unique`` behave exactly as anndata's), and the format, width and dtype
  of every matrix of the result.
* Pass 2 creates the output with :mod:`h5py` following anndata's on-disk specification and,
  for each file in order, reads ``X``, the ``layers`` and the array ``obsm`` entries in row
  blocks of bounded size, moves their columns to the positions of the result, and appends
  them; then closes the file.

Peak memory is one block (``max_elems`` stored values) plus the ``obs`` table of the result
and the feature index, whatever the number of files.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from anndata.io import read_elem, write_elem

from ._files import release_memory

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import h5py

logger = logging.getLogger(__name__)

__all__ = ["MAX_ELEMS", "write_concat"]

#: Default bound on the stored values (non-zeros of sparse matrices, elements of dense ones)
#: read at once: about 24 MB for float32 CSR blocks with int64 column indices after remapping.
MAX_ELEMS = 2_000_000
#: The most stored values int32 ``indptr`` / ``indices`` can count; beyond, both are int64.
MAX_INT32_NNZ = int(np.iinfo(np.int32).max)
#: Length of the HDF5 chunks of the growing ``data`` and ``indices`` datasets.
CHUNK = 1 << 17
SPARSE = ("csr_matrix", "csc_matrix")


def _encoding(obj: Any) -> str:
    value = obj.attrs.get("encoding-type", "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _index_of(group: h5py.Group) -> pd.Index:
    """The index of an on-disk dataframe, without its columns."""
    key = group.attrs.get("_index", "_index")
    key = key.decode() if isinstance(key, bytes) else str(key)
    return pd.Index(read_elem(group[key]))


# ---------------------------------------------------------------------------------------------
# pass 1: what the result is made of
# ---------------------------------------------------------------------------------------------
@dataclass
class _Element:
    """One matrix of one input file: where it is and how it is laid out (``None``: missing)."""

    kind: str  # "sparse" (csr / csc), "dense", or "missing"
    encoding: str = ""
    shape: tuple[int, ...] = (0, 0)
    dtype: np.dtype | None = None


@dataclass
class _Plan:
    """How to write one matrix of the result (``X``, a layer, or an ``obsm`` array)."""

    path: str  # "X", "layers/<name>", "obsm/<name>"
    per_file: list[_Element]
    by_var: bool  # columns are the features (X, layers) or plain positions (obsm)
    n_cols: int = 0
    sparse: bool = False
    fill: Any = None
    dtype: np.dtype | None = None

    def indexer(self, i: int, var_index: pd.Index, features: pd.Index) -> np.ndarray:
        """For file ``i``: the old column of every new column (-1: missing, to fill)."""
        element = self.per_file[i]
        if element.kind == "missing":
            return np.full(self.n_cols, -1, dtype=np.intp)
        if self.by_var:
            return var_index.get_indexer(features)
        idx = np.arange(self.n_cols, dtype=np.intp)
        idx[idx >= element.shape[1]] = -1
        return idx


@dataclass
class _Survey:
    n_obs: list[int] = field(default_factory=list)
    elements: dict[str, list[_Element | None]] = field(default_factory=dict)  # path -> per file
    shells: list[Any] = field(default_factory=list)  # AnnData with obs (+ obsm kept in memory)
    var_shells: list[Any] = field(default_factory=list)  # AnnData with var, varm, varp (merge only)
    features: pd.Index | None = None
    obsm_in_memory: set[str] = field(default_factory=set)
    has_raw: list[bool] = field(default_factory=list)


def _element(obj: Any) -> _Element:
    import h5py

    encoding = _encoding(obj)
    if isinstance(obj, h5py.Dataset) and obj.ndim == 2:
        return _Element("dense", encoding or "array", tuple(obj.shape), obj.dtype)
    if isinstance(obj, h5py.Group) and encoding in SPARSE:
        return _Element("sparse", encoding, tuple(int(s) for s in obj.attrs["shape"]), obj["data"].dtype)
    return _Element("other", encoding)


def _survey(files: Sequence[Path], *, join: str, merge: Any) -> _Survey:
    import h5py
    from anndata import AnnData

    survey = _Survey()
    n = len(files)
    for i, path in enumerate(files):
        with h5py.File(path, "r") as f:
            obs = read_elem(f["obs"])
            survey.n_obs.append(len(obs))
            if "var" in f:
                var_index = _index_of(f["var"])
            else:  # pragma: no cover - not an AnnData file
                msg = f"{path} has no var: it is not an AnnData .h5ad file."
                raise ValueError(msg)
            # the features of the result: anndata's reduction, one file at a time
            feats = survey.features
            if feats is None:
                survey.features = var_index
            else:
                survey.features = feats.union(var_index) if join == "outer" else feats.intersection(var_index)
            if merge is not None:
                survey.var_shells.append(
                    AnnData(
                        obs=pd.DataFrame(index=pd.Index([], dtype=object)),
                        var=read_elem(f["var"]),
                        varm=read_elem(f["varm"]) if "varm" in f else None,
                        varp=read_elem(f["varp"]) if "varp" in f else None,
                    )
                )
            # X, layers and obsm
            if "X" in f:
                survey.elements.setdefault("X", [None] * n)[i] = _element(f["X"])
            for group in ("layers", "obsm"):
                for key in f.get(group, {}):
                    survey.elements.setdefault(f"{group}/{key}", [None] * n)[i] = _element(f[group][key])
            obsm = {}
            for key in f.get("obsm", {}):
                if _element(f["obsm"][key]).kind == "other":
                    obsm[key] = read_elem(f["obsm"][key])
                    survey.obsm_in_memory.add(key)
            survey.has_raw.append("raw" in f)
            empty_var = pd.DataFrame(index=pd.Index([], dtype=object))
            survey.shells.append(AnnData(obs=obs, var=empty_var, obsm=obsm or None))
        logger.debug("%s surveyed (%d/%d).", path, i + 1, n)
    return survey


def _dense_dtype(dtype: np.dtype, fill: Any, *, needs_fill: bool) -> np.dtype:
    """The dtype :func:`pandas.api.extensions.take` gives (anndata's dense reindexing)."""
    if not needs_fill:
        return np.dtype(dtype)
    probe = pd.api.extensions.take(
        np.zeros((1, 1), dtype=dtype), np.array([-1]), axis=1, allow_fill=True, fill_value=fill
    )
    return probe.dtype


def _plan(
    path: str,
    elements: list[_Element | None],
    *,
    features: pd.Index,
    var_indexes: Iterator[pd.Index],
    join: str,
    fill_value: Any,
) -> _Plan:
    """Format, width and dtype of one matrix of the result (anndata's rules)."""
    by_var = not path.startswith("obsm/")
    per_file = [e if e is not None else _Element("missing") for e in elements]
    present = [e for e in per_file if e.kind != "missing"]
    if any(e.kind == "other" for e in present):
        kinds = sorted({e.encoding for e in present if e.kind == "other"})
        msg = f"{path}: cannot stream elements encoded as {kinds} out of core (only dense arrays and CSR/CSC matrices)."
        raise NotImplementedError(msg)
    plan = _Plan(path=path, per_file=per_file, by_var=by_var)
    plan.sparse = any(e.kind == "sparse" for e in present)
    fill = fill_value
    if fill is None:
        fill = 0 if plan.sparse else np.nan
    plan.fill = fill
    if by_var:
        plan.n_cols = len(features)
    else:
        widths = [e.shape[1] for e in present]
        plan.n_cols = max(widths) if join == "outer" else min(widths)
    fill_dtype = np.asarray(fill).dtype
    dtypes = []
    for i, (e, var_index) in enumerate(zip(per_file, var_indexes, strict=True)):
        if e.kind == "missing":
            # anndata: a (n, 0) boolean placeholder, broadcast to the fill value
            dtypes.append(np.dtype(np.float64) if plan.sparse and fill == 0 else fill_dtype)
            continue
        same = features.equals(var_index) if by_var else e.shape[1] == plan.n_cols
        needs_fill = not same and bool((plan.indexer(i, var_index, features) < 0).any())
        if plan.sparse:
            dtypes.append(np.promote_types(e.dtype, fill_dtype) if needs_fill and fill != 0 else np.dtype(e.dtype))
        else:
            dtypes.append(_dense_dtype(e.dtype, fill, needs_fill=needs_fill))
    plan.dtype = np.result_type(*dtypes)
    return plan


# ---------------------------------------------------------------------------------------------
# pass 2: streaming
# ---------------------------------------------------------------------------------------------
class _SparseOut:
    """A CSR matrix written block by block: growing ``data`` / ``indices``, ``indptr`` written at the end."""

    def __init__(
        self, group: h5py.Group, *, n_rows: int, n_cols: int, dtype: np.dtype, compression: str | None
    ) -> None:
        group.attrs["encoding-type"] = "csr_matrix"
        group.attrs["encoding-version"] = "0.1.0"
        group.attrs["shape"] = np.array([n_rows, n_cols], dtype=np.int64)
        index_dtype = np.int32 if n_cols < np.iinfo(np.int32).max else np.int64
        kw = {"chunks": (CHUNK,), "maxshape": (None,), "compression": compression}
        self.data = group.create_dataset("data", shape=(0,), dtype=dtype, **kw)
        self.indices = group.create_dataset("indices", shape=(0,), dtype=index_dtype, **kw)
        # kept in memory (8 bytes a row) and written by finish() in the dtype of ``indices``:
        # scipy's CSR wants one index dtype (scipy < 1.13 cannot slice rows of mixed ones)
        self.indptr = np.zeros(n_rows + 1, dtype=np.int64)
        self.group, self.kw = group, kw
        self.dtype, self.index_dtype = np.dtype(dtype), index_dtype
        self.row = 0
        self.nnz = 0

    def append(self, block: Any) -> None:
        """Append a CSR block (sorted indices) of the result's width."""
        n = int(block.nnz)
        if n:
            self.data.resize((self.nnz + n,))
            self.indices.resize((self.nnz + n,))
            self.data[self.nnz : self.nnz + n] = np.asarray(block.data, dtype=self.dtype)
            self.indices[self.nnz : self.nnz + n] = np.asarray(block.indices, dtype=self.index_dtype)
        rows = block.shape[0]
        if rows:
            self.indptr[self.row + 1 : self.row + rows + 1] = np.asarray(block.indptr[1:], dtype=np.int64) + self.nnz
        self.row += rows
        self.nnz += n

    def finish(self) -> None:
        """Write ``indptr``, in the dtype of ``indices`` (both int64 when the stored values outgrow int32)."""
        if self.nnz > MAX_INT32_NNZ and self.index_dtype != np.int64:
            narrow = self.indices
            wide = self.group.create_dataset("indices_int64", shape=(self.nnz,), dtype=np.int64, **self.kw)
            for start in range(0, self.nnz, CHUNK * 64):
                wide[start : start + CHUNK * 64] = narrow[start : start + CHUNK * 64]
            del self.group["indices"]
            self.group.move("indices_int64", "indices")
            self.indices, self.index_dtype = self.group["indices"], np.int64
        self.group.create_dataset("indptr", data=self.indptr.astype(self.index_dtype))


class _DenseOut:
    def __init__(
        self, parent: h5py.Group, name: str, *, n_rows: int, n_cols: int, dtype: np.dtype, compression: str | None
    ) -> None:
        rows = max(1, min(n_rows, (1 << 20) // max(np.dtype(dtype).itemsize * n_cols, 1)))
        chunks = (rows, max(1, n_cols)) if n_rows and n_cols else None
        self.ds = parent.create_dataset(
            name, shape=(n_rows, n_cols), dtype=dtype, chunks=chunks, compression=compression if chunks else None
        )
        self.ds.attrs["encoding-type"] = "array"
        self.ds.attrs["encoding-version"] = "0.2.0"
        self.dtype = np.dtype(dtype)
        self.row = 0

    def append(self, block: np.ndarray) -> None:
        rows = block.shape[0]
        if rows and block.shape[1]:
            self.ds[self.row : self.row + rows] = np.asarray(block, dtype=self.dtype)
        self.row += rows


def _row_blocks(cost: np.ndarray, max_elems: int) -> Iterator[tuple[int, int]]:
    """Row ranges whose summed ``cost`` stays within ``max_elems`` (at least one row each)."""
    n = len(cost)
    cum = np.concatenate([[0], np.cumsum(cost, dtype=np.int64)])
    r0 = 0
    while r0 < n:
        r1 = int(np.searchsorted(cum, cum[r0] + max_elems, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n)
        yield r0, r1
        r0 = r1


def _sparse_blocks(obj: Any, element: _Element, n_rows: int, *, extra_per_row: int, max_elems: int) -> Iterator[Any]:
    """CSR row blocks of one input matrix (CSC and dense inputs are converted)."""
    from scipy import sparse

    if element.kind == "dense":
        rows = max(1, max_elems // max(element.shape[1], 1, extra_per_row))
        for r0 in range(0, n_rows, rows):
            yield sparse.csr_matrix(obj[r0 : r0 + rows])
        return
    if element.encoding == "csc_matrix":
        # a CSC matrix cannot be read by rows: this one dataset is converted in memory
        whole = read_elem(obj).tocsr()
        for r0, r1 in _row_blocks(np.diff(whole.indptr) + extra_per_row, max_elems):
            yield whole[r0:r1]
        return
    indptr = obj["indptr"][:].astype(np.int64)
    data, indices = obj["data"], obj["indices"]
    n_cols = element.shape[1]
    for r0, r1 in _row_blocks(np.diff(indptr) + extra_per_row, max_elems):
        a, b = int(indptr[r0]), int(indptr[r1])
        yield sparse.csr_matrix((data[a:b], indices[a:b], indptr[r0 : r1 + 1] - a), shape=(r1 - r0, n_cols))


def _stream_sparse(
    out: _SparseOut, plan: _Plan, element: _Element, indexer: np.ndarray, obj: Any, n_rows: int, max_elems: int
) -> None:
    n_cols, fill = plan.n_cols, plan.fill
    to_fill = np.flatnonzero(indexer < 0)
    fill_cols = to_fill if (fill != 0 and len(to_fill)) else np.array([], dtype=np.int64)
    if element.kind == "missing":
        step = max(1, max_elems // max(len(fill_cols), 1))
        for r0 in range(0, n_rows, step):
            out.append(_fill_block(min(n_rows, r0 + step) - r0, n_cols, fill_cols, fill, plan.dtype))
        return
    identity = len(to_fill) == 0 and element.shape[1] == n_cols and np.array_equal(indexer, np.arange(n_cols))
    # old column -> new column (-1: not in the result)
    colmap = np.full(element.shape[1], -1, dtype=np.int64)
    kept = indexer >= 0
    colmap[indexer[kept]] = np.flatnonzero(kept)
    for raw in _sparse_blocks(obj, element, n_rows, extra_per_row=len(fill_cols), max_elems=max_elems):
        block = raw if identity else _remap(raw, colmap, n_cols)
        if len(fill_cols):
            block = block + _fill_block(block.shape[0], n_cols, fill_cols, fill, plan.dtype)
        if not block.has_sorted_indices:
            block.sort_indices()
        out.append(block)


def _remap(block: Any, colmap: np.ndarray, n_cols: int) -> Any:
    """``block`` with its columns moved by ``colmap`` (-1: dropped); stored zeros dropped as anndata does."""
    from scipy import sparse

    new = colmap[block.indices]
    keep = (new >= 0) & (block.data != 0)
    if keep.all():
        return sparse.csr_matrix((block.data, new, block.indptr), shape=(block.shape[0], n_cols))
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    counts = np.bincount(rows[keep], minlength=block.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sparse.csr_matrix((block.data[keep], new[keep], indptr), shape=(block.shape[0], n_cols))


def _fill_block(rows: int, n_cols: int, cols: np.ndarray, fill: Any, dtype: np.dtype) -> Any:
    from scipy import sparse

    k = len(cols)
    return sparse.csr_matrix(
        (np.full(rows * k, fill, dtype=dtype), np.tile(cols, rows), np.arange(rows + 1, dtype=np.int64) * k),
        shape=(rows, n_cols),
    )


def _stream_dense(
    out: _DenseOut, plan: _Plan, element: _Element, indexer: np.ndarray, obj: Any, n_rows: int, max_elems: int
) -> None:
    rows = max(1, max_elems // max(plan.n_cols, element.shape[1] if element.kind != "missing" else 0, 1))
    identity = (
        element.kind != "missing"
        and element.shape[1] == plan.n_cols
        and np.array_equal(indexer, np.arange(plan.n_cols))
    )
    for r0 in range(0, n_rows, rows):
        r1 = min(n_rows, r0 + rows)
        if element.kind == "missing":
            out.append(np.broadcast_to(np.asarray(plan.fill), (r1 - r0, plan.n_cols)))
            continue
        block = obj[r0:r1]
        if not identity:
            block = pd.api.extensions.take(block, indexer, axis=1, allow_fill=True, fill_value=plan.fill)
        out.append(block)


# ---------------------------------------------------------------------------------------------
# the public entry
# ---------------------------------------------------------------------------------------------
def write_concat(
    files: Sequence[str | Path],
    out: str | Path,
    *,
    join: Literal["inner", "outer"] = "outer",
    merge: Any = None,
    label: str | None = None,
    keys: Sequence | None = None,
    index_unique: str | None = None,
    fill_value: Any = None,
    max_elems: int = MAX_ELEMS,
    compression: str | None = None,
) -> Path:
    """Concatenate ``.h5ad`` files along the cells into ``out``, streaming the matrices.

    The result equals ``anndata.concat([read_h5ad(f) for f in files], ...)`` written to
    ``out`` for ``X``, ``layers``, ``obs``, ``obsm``, ``var`` (and, with ``merge``, the merged
    ``var`` columns, ``varm`` and ``varp``) and ``raw`` (when every file has one: ``raw.X``
    streamed like ``X``, ``raw.var``'s index); ``obsp`` (``pairwise=False``) and ``uns`` are
    not concatenated (``uns`` is written empty).

    Parameters
    ----------
    files
        The ``.h5ad`` files, in order.
    out
        The file to write (overwritten). Writing it under a temporary name and renaming it is
        the caller's business.
    join
        ``"outer"``: the union of the features, in :func:`anndata.concat`'s order;
        ``"inner"``: the features present in every file.
    merge
        :func:`anndata.concat`'s strategy for ``var`` columns, ``varm`` and ``varp``. With a
        strategy, the ``var`` tables of all files are held in memory at once (as anndata does);
        with ``None`` only the running union of feature names is.
    label, keys, index_unique, fill_value
        As in :func:`anndata.concat`. Missing values of an outer join are ``fill_value``, or
        0 in sparse results and NaN in dense ones; a layer or ``obsm`` array missing from a
        file is filled the same way (outer join) or left out (inner join).
    max_elems
        Most stored values (non-zeros of a sparse matrix, elements of a dense one) read and
        written at once. Peak memory is about ``max_elems`` × (item size + 8) bytes on top of
        the ``obs`` table of the result and the feature index.
    compression
        HDF5 filter of the matrices (``"gzip"``, ``"lzf"``, or ``None`` as anndata's default).

    Returns
    -------
    ``out``, as a :class:`~pathlib.Path`.

    Raises
    ------
    ValueError
        For ``join="inner"`` with no feature common to every file, an ``X`` present in some
        files only, or an empty list of files.
    NotImplementedError
        For matrices stored neither as dense arrays nor as CSR/CSC (e.g. awkward arrays in
        ``layers``).
    """
    import h5py
    from anndata import concat as ad_concat

    files = [Path(f) for f in files]
    out = Path(out)
    if not files:
        msg = "write_concat needs at least one file."
        raise ValueError(msg)
    if join not in ("inner", "outer"):
        msg = f"join must be 'inner' or 'outer', got {join!r}."
        raise ValueError(msg)
    if max_elems < 1:
        msg = f"max_elems must be positive, got {max_elems}."
        raise ValueError(msg)

    survey = _survey(files, join=join, merge=merge)
    features = survey.features
    assert features is not None
    if join == "inner" and len(features) == 0:
        msg = (
            f"join='inner': no feature is present in all {len(files)} datasets, so the result would have no "
            "features. Use join='outer', or concatenate datasets that share features."
        )
        raise ValueError(msg)
    x_present = survey.elements.get("X", [None] * len(files))
    if any(e is None for e in x_present) and not all(e is None for e in x_present):
        missing = [str(f) for f, e in zip(files, x_present, strict=True) if e is None]
        msg = f"X is missing from some datasets only ({missing}); anndata cannot concatenate that either."
        raise ValueError(msg)
    if any(survey.has_raw) and not all(survey.has_raw):
        logger.warning("raw is present in some datasets only; as anndata.concat, the result has no raw.")

    # obs (and obsm entries that are not arrays) exactly as anndata.concat makes them
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not unique.*")
        obs_result = ad_concat(
            survey.shells, join=join, label=label, keys=keys, index_unique=index_unique, fill_value=fill_value
        )
        var_result = None
        if merge is not None:
            var_result = ad_concat(survey.var_shells, join=join, merge=merge, fill_value=fill_value)
    survey.shells.clear()
    survey.var_shells.clear()
    # as AnnData.write_h5ad does: string columns (with missing values) become categoricals
    obs_result.strings_to_categoricals()
    if var_result is not None:
        var_result.strings_to_categoricals()
    if var_result is not None:
        var = var_result.var
        varm, varp = dict(var_result.varm), dict(var_result.varp)
    else:
        var = pd.DataFrame(index=features)
        varm, varp = {}, {}
    n_total = sum(survey.n_obs)

    # which matrices the result has: anndata's union (outer) or intersection (inner) of keys
    paths = []
    for path, per_file in survey.elements.items():
        if path.startswith("obsm/") and path.removeprefix("obsm/") in survey.obsm_in_memory:
            continue
        if join == "inner" and any(e is None for e in per_file):
            continue
        paths.append(path)

    def var_indexes() -> Iterator[pd.Index]:
        for path in files:
            with h5py.File(path, "r") as f:
                yield _index_of(f["var"])

    def no_index() -> Iterator[pd.Index]:
        for _ in files:
            yield pd.Index([])

    plans = {}
    for path in paths:
        by_var = not path.startswith("obsm/")
        plans[path] = _plan(
            path,
            survey.elements[path],
            features=features,
            var_indexes=var_indexes() if by_var else no_index(),
            join=join,
            fill_value=fill_value,
        )

    logger.info(
        "Writing %d datasets (%d cells x %d features; %s) to %s.",
        len(files),
        n_total,
        len(features),
        ", ".join(plans) or "no matrices",
        out,
    )
    with h5py.File(out, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        write_elem(f, "obs", obs_result.obs)
        write_elem(f, "var", var)
        obsm_mem = {k: v for k, v in obs_result.obsm.items() if k in survey.obsm_in_memory}
        for name, value in (
            ("obsm", obsm_mem),
            ("varm", varm),
            ("varp", varp),
            ("obsp", {}),
            ("layers", {}),
            ("uns", {}),
        ):
            write_elem(f, name, value)
        del obs_result
        writers = {}
        for path, plan in plans.items():
            parent, _, name = path.rpartition("/")
            group = f[parent] if parent else f
            if plan.sparse:
                writers[path] = _SparseOut(
                    group.create_group(name),
                    n_rows=n_total,
                    n_cols=plan.n_cols,
                    dtype=plan.dtype,
                    compression=compression,
                )
            else:
                writers[path] = _DenseOut(
                    group, name, n_rows=n_total, n_cols=plan.n_cols, dtype=plan.dtype, compression=compression
                )
        for i, path in enumerate(files):
            with h5py.File(path, "r") as src:
                var_index = _index_of(src["var"])
                for key, plan in plans.items():
                    element = plan.per_file[i]
                    obj = src[key] if element.kind != "missing" else None
                    indexer = plan.indexer(i, var_index, features)
                    stream = _stream_sparse if plan.sparse else _stream_dense
                    stream(writers[key], plan, element, indexer, obj, survey.n_obs[i], max_elems)
                del var_index
            release_memory()
            logger.info("%s appended (%d/%d).", path, i + 1, len(files))
        for key, w in writers.items():
            if w.row != n_total:  # pragma: no cover - a bug, not a user error
                msg = f"{key}: wrote {w.row} rows, expected {n_total}."
                raise RuntimeError(msg)
            if isinstance(w, _SparseOut):
                w.finish()
        if survey.has_raw and all(survey.has_raw):
            _write_raw(
                files,
                f,
                n_obs=survey.n_obs,
                join=join,
                fill_value=fill_value,
                max_elems=max_elems,
                compression=compression,
            )
    return out


def _write_raw(
    files: Sequence[Path],
    f: h5py.File,
    *,
    n_obs: list[int],
    join: str,
    fill_value: Any,
    max_elems: int,
    compression: str | None,
) -> None:
    """``raw`` as :func:`anndata.concat` makes it (every file has one): ``raw.X`` streamed, ``raw.var``'s index.

    As in memory, the raw features are joined like the main ones (``join``) and no ``merge``
    applies to them: ``raw.var`` holds the index only, ``raw.varm`` is empty.
    """
    import h5py

    features: pd.Index | None = None
    elements = []
    for path in files:
        with h5py.File(path, "r") as src:
            index = _index_of(src["raw/var"])
            features = (
                index
                if features is None
                else (features.union(index) if join == "outer" else features.intersection(index))
            )
            elements.append(_element(src["raw/X"]))
    assert features is not None

    def raw_indexes() -> Iterator[pd.Index]:
        for path in files:
            with h5py.File(path, "r") as src:
                yield _index_of(src["raw/var"])

    plan = _plan(
        "raw/X", list(elements), features=features, var_indexes=raw_indexes(), join=join, fill_value=fill_value
    )
    raw = f.create_group("raw")
    raw.attrs["encoding-type"] = "raw"
    raw.attrs["encoding-version"] = "0.1.0"
    write_elem(raw, "var", pd.DataFrame(index=features))
    write_elem(raw, "varm", {})
    n_total = sum(n_obs)
    writer: _SparseOut | _DenseOut
    if plan.sparse:
        writer = _SparseOut(
            raw.create_group("X"), n_rows=n_total, n_cols=plan.n_cols, dtype=plan.dtype, compression=compression
        )
    else:
        writer = _DenseOut(raw, "X", n_rows=n_total, n_cols=plan.n_cols, dtype=plan.dtype, compression=compression)
    stream = _stream_sparse if plan.sparse else _stream_dense
    for i, path in enumerate(files):
        with h5py.File(path, "r") as src:
            indexer = plan.indexer(i, _index_of(src["raw/var"]), features)
            stream(writer, plan, plan.per_file[i], indexer, src["raw/X"], n_obs[i], max_elems)
        release_memory()
    if isinstance(writer, _SparseOut):
        writer.finish()
    logger.info("raw written (%d features).", len(features))
