"""``concat_harmonized`` and its parts, one file per reason to change.

- :mod:`._core`: the public function (checks, one conversion for the diagnostics, the
  per-dataset harmonization, the hand-off to one of the two paths);
- :mod:`._inputs`: naming, surveying, checking and loading the datasets;
- :mod:`._union`: the idtrack ``var`` columns of the union of features;
- :mod:`._diagnostics`: cross-dataset diagnostics and the ``uns`` record;
- :mod:`._in_memory`: the in-memory path (:func:`anndata.concat`);
- :mod:`._on_disk`: the out-of-core path (staging, the on-disk engine switch, finishing);
- :mod:`._stream`: the streaming ``.h5ad`` writer used by the out-of-core path.
"""

from ._core import concat_harmonized
from ._inputs import check_inputs

__all__ = ["check_inputs", "concat_harmonized"]
