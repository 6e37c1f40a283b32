"""Sphinx configuration of the idtrack-sc documentation.

Build locally, warnings as errors (what Read the Docs does)::

    pip install -e '.[doc]'
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: intersphinx links to other projects' docs are only made on
Read the Docs, or when ``IDTRACK_SC_DOCS_INTERSPHINX=1`` is set.
"""

import importlib.util
import os
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
nitpicky = False

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
# Nothing is executed by default. The tutorials (docs/tutorials/*.md, MyST-NB text
# notebooks) opt in per page in their front matter (`mystnb: execution_mode: cache`,
# `execution_in_temp: true`): they are fast (seconds), offline (the embedded snapshot and
# scanpy's bundled pbmc68k_reduced), and their outputs are cached in the build folder
# (jupyter-cache), so only edited tutorials are re-run. tests/test_tutorials.py runs the
# same code cells in the test suite, without a kernel.
nb_execution_mode = "off"
nb_execution_raise_on_error = True
nb_output_stderr = "remove"
nb_merge_streams = True

# intersphinx: only where the network is (Read the Docs), so local builds stay offline
intersphinx_mapping = {}
if os.environ.get("READTHEDOCS") == "True" or os.environ.get("IDTRACK_SC_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "pandas": ("https://pandas.pydata.org/pandas-docs/stable/", None),
        "pyarrow": ("https://arrow.apache.org/docs/", None),
        "anndata": ("https://anndata.readthedocs.io/en/stable/", None),
        "mudata": ("https://mudata.readthedocs.io/en/latest/", None),
        "scanpy": ("https://scanpy.readthedocs.io/en/stable/", None),
        "networkx": ("https://networkx.org/documentation/stable/", None),
        "pooch": ("https://www.fatiando.org/pooch/latest/", None),
    }

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
