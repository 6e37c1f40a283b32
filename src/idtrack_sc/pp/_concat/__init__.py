"""``concat_harmonized`` and its parts, one file per reason to change.

- :mod:`._core`: the public function (checks the arguments, then dispatches);
- :mod:`._inputs`: naming, surveying, checking and loading the datasets;
- :mod:`._join`: the join arguments, one value carried to every path;
- :mod:`._run`: pass 1 (every check, one conversion for the diagnostics) and the
  per-dataset harmonization shared by both paths;
- :mod:`._union`: the idtrack ``var`` columns and the presence matrix of the union of features;
- :mod:`._diagnostics`: cross-dataset diagnostics and the ``uns`` record;
- :mod:`._in_memory`: the in-memory path (:func:`anndata.concat`);
- :mod:`._on_disk`: the out-of-core skeleton and the table of engines (chosen in one place);
- :mod:`._files`: the run directory beside the target, its lock and cleanup, staging,
  the atomic replace, memory release;
- :mod:`._stream`: the streaming ``.h5ad`` writer of the ``stream`` engine;
- :mod:`._dask`: the ``dask`` engine (lazy reading, Dask arrays, any scheduler).
"""

from ._core import concat_harmonized
from ._inputs import check_inputs

__all__ = ["check_inputs", "concat_harmonized"]
