"""The in-memory path: harmonized datasets joined by :func:`anndata.concat`."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..._userwarn import attributed_to_caller
from ...record import presence_key
from ._diagnostics import _log_summary
from ._union import _with_columns

if TYPE_CHECKING:
    from anndata import AnnData

    from ._join import JoinArgs
    from ._run import Run

logger = logging.getLogger(__name__)


def concat_in_memory(run: Run, join_args: JoinArgs) -> AnnData:
    """The harmonized datasets joined by :func:`anndata.concat`, with the idtrack ``var`` columns, presence and record."""
    import anndata as ad

    if any(isinstance(ds.source, Path) for ds in run.datasets):
        logger.info(
            "Reading %d datasets into memory; give out_file= to concatenate them out of core.", len(run.datasets)
        )
    adatas = [adata for _ds, adata, _rec in run.harmonized()]  # never the user's objects
    with attributed_to_caller():  # anndata's warnings point at the user's line, not this one
        warnings.filterwarnings("ignore", message=".*not unique.*")
        result = ad.concat(adatas, **join_args.anndata())
    del adatas
    result.var = _with_columns(result.var, run.union.var(result.var_names))
    result.varm[presence_key(run.key_added)] = run.union.presence(result.var_names, run.diag.names)
    result.uns[run.key_added] = run.record(result.n_vars)
    _log_summary(result.uns[run.key_added])
    return result
