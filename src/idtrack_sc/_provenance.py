"""Facts about the environment a result was computed in: package versions and a session-info report.

The record that holds them (``adata.uns[key_added]``) is written by :mod:`idtrack_sc.record`.
"""

from __future__ import annotations

import contextlib
import io
import platform
import sys
import warnings
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

#: Packages whose versions every record lists.
TRACKED_PACKAGES = ("idtrack-sc", "anndata", "mudata", "scanpy", "pandas", "numpy", "scipy", "pyarrow", "pooch")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the result."""
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name.replace("-", "_")] = version(name)
        except PackageNotFoundError:
            out[name.replace("-", "_")] = ""
    return out


@lru_cache(maxsize=1)
def environment_report() -> str:
    """A session-info report of the Python environment (text, cached per process)."""
    import session_info

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session_info.show(html=False, dependencies=True, na=False, std_lib=False, cpu=True)
        text = buffer.getvalue().strip()
    except Exception as err:  # noqa: BLE001 - a report must never break the analysis
        text = f"session-info failed: {err!r}"
    header = f"Python {sys.version.split()[0]} on {platform.platform()}"
    return f"{header}\n{text}"
