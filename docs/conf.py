"""Sphinx configuration of the idtrack-sc documentation.

Build locally, warnings as errors (what Read the Docs does)::

    pip install '.[doc]'
    python -m sphinx -E -W --keep-going -b html docs docs/_build/html

(``.ci/run docs`` does exactly that in a fresh virtual environment.)

Every cross-reference must resolve (``nitpicky = True``), and intersphinx links to the
Python, NumPy, pandas, AnnData, scanpy, … docs are always on. Offline, their inventories
cannot be fetched, so the build looks for them first in a local folder
(``$IDTRACK_SC_DOCS_INVENTORIES``, default ``docs/_build/inventories/<name>.inv``: save each
project's ``objects.inv`` there once, e.g. ``curl -o docs/_build/inventories/pandas.inv
https://pandas.pydata.org/docs/objects.inv``). A project with neither a local copy nor a
reachable server is left out of the mapping, and references *into that project only* are
exempt from the nitpicky check (listed in the build log); references inside idtrack-sc are
checked either way. On Read the Docs and in CI (network) nothing is exempt:
``IDTRACK_SC_DOCS_OFFLINE=0`` forces that locally, ``=1`` skips the reachability check.
"""

import builtins
import importlib.util
import os
import re
import socket
import sys
from datetime import datetime
from importlib.metadata import metadata
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "extensions"))

# -- Project information -------------------------------------------------------------------
info = metadata("idtrack-sc")
project = "idtrack-sc"
author = info["Author"] or "idtrack-sc developers"
copyright = f"{datetime.now():%Y}, idtrack-sc developers"
release = info["Version"]
version = ".".join(release.split(".")[:2])
urls = dict(pu.split(", ", 1) for pu in info.get_all("Project-URL") or [])
repository_url = urls.get("Source", "https://github.com/idtrack-sc/idtrack-sc")

# -- General configuration -----------------------------------------------------------------
needs_sphinx = "7.0"
extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx_autodoc_typehints",  # after napoleon
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "idtrack_docs",  # docs/extensions: reason/outcome tables generated from the code
]
for optional, module in (("sphinxarg.ext", "sphinxarg"), ("sphinx_copybutton", "sphinx_copybutton")):
    if importlib.util.find_spec(module) is not None:
        extensions.append(optional)

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "extensions"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
master_doc = "index"
default_role = "literal"
# Text shows as typed: no curly quotes and no "--" turned into a dash (command lines in the
# CLI reference, whose option help is reStructuredText, must stay copy-pasteable).
smartquotes = False
nitpicky = True

# autodoc / autosummary / napoleon (numpydoc docstrings, types only in signatures)
autosummary_generate = True
autosummary_imported_members = True
autodoc_member_order = "groupwise"
autodoc_default_options = {"show-inheritance": False}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_include_init_with_doc = False
napoleon_use_rtype = True
napoleon_use_ivar = True  # "Attributes" sections as fields; the class template documents each attribute
napoleon_use_param = True
typehints_defaults = "braces"
typehints_use_rtype = False
typehints_document_rtype = False  # the return type is in the signature; "Returns" is prose
always_document_param_types = False
# Unresolvable forward references under TYPE_CHECKING blocks are expected: the package keeps
# heavy imports out of module import time.
suppress_warnings = ["sphinx_autodoc_typehints.forward_reference", "sphinx_autodoc_typehints.guarded_import"]

# MyST / MyST-NB
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "substitution", "fieldlist"]
myst_heading_anchors = 3
myst_url_schemes = ("http", "https", "mailto")
# Nothing is executed by default. The quickstart and the tutorials (docs/quickstart.md,
# docs/tutorials/*.md, MyST-NB text notebooks) opt in per page in their front matter
# (`mystnb: execution_mode: cache`, `execution_in_temp: true`), so every output they show is
# what the code printed: they are offline (the shipped snapshots and scanpy's bundled
# pbmc68k_reduced), take seconds (atlas-scale.md about a minute: a local Dask cluster), and
# their outputs are cached next to the build folder (jupyter-cache), so only edited pages are
# re-run; `-E` with a fresh build folder (Read the Docs, .ci/run's docs leg) runs them all.
# A failing cell fails the build. tests/test_tutorials.py runs the same code cells without
# a kernel and checks that these pages hold no hand-typed output.
nb_execution_mode = "off"
nb_execution_raise_on_error = True
nb_output_stderr = "remove"
nb_merge_streams = True

# intersphinx: always on (see the module docstring for the offline rules)
_INTERSPHINX = {
    # name: (documentation URL, top-level modules documented there)
    "python": ("https://docs.python.org/3", ()),
    "numpy": ("https://numpy.org/doc/stable/", ("numpy", "np")),
    "scipy": ("https://docs.scipy.org/doc/scipy/", ("scipy",)),
    "pandas": ("https://pandas.pydata.org/pandas-docs/stable/", ("pandas", "pd")),
    "pyarrow": ("https://arrow.apache.org/docs/", ("pyarrow", "pa")),
    "anndata": ("https://anndata.readthedocs.io/en/stable/", ("anndata", "ad")),
    "mudata": ("https://mudata.readthedocs.io/en/latest/", ("mudata", "md")),
    "scanpy": ("https://scanpy.readthedocs.io/en/stable/", ("scanpy", "sc")),
    "matplotlib": ("https://matplotlib.org/stable/", ("matplotlib", "mpl", "plt")),
    "networkx": ("https://networkx.org/documentation/stable/", ("networkx", "nx")),
    "pooch": ("https://www.fatiando.org/pooch/latest/", ("pooch",)),
    "dask": ("https://docs.dask.org/en/stable/", ("dask", "da")),
}
_INVENTORIES = Path(os.environ.get("IDTRACK_SC_DOCS_INVENTORIES", HERE / "_build" / "inventories"))


def _reachable(url: str) -> bool:
    """Whether the host of ``url`` accepts a connection within 3 seconds."""
    host = url.split("/")[2]
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        return False
    return True


_offline = os.environ.get("IDTRACK_SC_DOCS_OFFLINE")
intersphinx_mapping = {}
_exempt: list[str] = []  # projects whose inventory is neither cached nor reachable
for _name, (_url, _modules) in _INTERSPHINX.items():
    _local = _INVENTORIES / f"{_name}.inv"
    if _local.is_file():
        intersphinx_mapping[_name] = (_url, str(_local))
    elif _offline == "0" or (_offline != "1" and _reachable(_url)):
        intersphinx_mapping[_name] = (_url, None)
    else:
        _exempt.append(_name)

# Offline only: references into projects without an inventory cannot resolve; exempt those
# (and only those) from the nitpicky check. Everything of idtrack-sc is still checked.
nitpick_ignore_regex = []
if _exempt:
    _python = "python" in _exempt
    _modules = sorted(m for name in _exempt for m in _INTERSPHINX[name][1])
    if _python:
        _modules += sorted(m for m in sys.stdlib_module_names if not m.startswith("_"))
        _modules += ["typing_extensions", "NoneType", "Ellipsis"]
        _builtins = sorted(n for n in dir(builtins) if not n.startswith("_"))
        nitpick_ignore_regex.append((r"py:.*", rf"({'|'.join(_builtins)})"))
    if _modules:
        nitpick_ignore_regex.append((r"py:.*", rf"({'|'.join(map(re.escape, _modules))})(\..*)?"))
    sys.stderr.write(
        f"intersphinx offline: no inventory for {', '.join(_exempt)}; references into them are not checked\n"
    )

# -- HTML output ---------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "idtrack-sc"
html_static_path = ["_static"]
html_theme_options = {
    "repository_url": repository_url,
    "repository_branch": "main",
    "use_repository_button": True,
    "path_to_docs": "docs/",
    "navigation_with_keys": False,
}
html_show_sourcelink = True
pygments_style = "default"

# sphinx-autodoc-typehints calls Sphinx APIs deprecated for Sphinx 10: not our warnings
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=r".*_RstSnippetParser\.set_application.*")
