"""Sphinx configuration of the skpref documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(warnings are errors). The build runs every example of ``examples/`` through
sphinx-gallery, so it needs no network: intersphinx stays off and the examples use
synthetic data, the offline MiniLM package and the local data home only.
"""

import os
import sys
from pathlib import Path

import skpref

HERE = Path(__file__).resolve().parent
# The test suite copies docs/ to a temporary folder and points here at the
# repository's examples, so that a build never writes into the source tree.
EXAMPLES_DIR = Path(os.environ.get("SKPREF_EXAMPLES_DIR", HERE.parent / "examples"))
sys.path.insert(0, str(HERE))

project = "skpref"
author = "the skpref developers"
copyright = "2025, the skpref developers"  # noqa: A001 - Sphinx's name
version = release = skpref.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "sg_execution_times.rst"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc -------------------------------------------------

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
# numpydoc renders the class members from the docstrings; letting it also build a
# member table would need a stub page per method.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_sklearn_plumbing(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated metadata-routing methods (set_fit_request...).

    They are created per class by scikit-learn, documented in its own docs, and
    their docstrings point at pages of scikit-learn's site.
    """
    if name == "get_metadata_routing" or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    return skip


# The guides in reading order; any other top-level page (one that lands later) is
# appended, so that a new page is never left out of the toctree.
GUIDE_ORDER = [
    "data_format",
    "models",
    "embeddings",
    "causal",
    "invariance",
    "rewrite_effects",
    "datasets",
    "metrics",
    "evaluation",
    "experiments",
    "scaling",
]
NOT_GUIDES = {"index", "install", "user_guide", "api", "sg_execution_times"}


def guide_pages():
    """Top-level pages listed under "Guides" in the index, in reading order."""
    present = {path.stem for path in HERE.glob("*.rst")} - NOT_GUIDES
    ordered = [name for name in GUIDE_ORDER if name in present]
    return ordered + sorted(present - set(ordered))


def _fill_guides(app, docname, source):
    if docname == "index":
        source[0] = source[0].replace("{{ guides }}", "\n   ".join(guide_pages()))


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
    app.connect("source-read", _fill_guides)


# -- sphinx-gallery -------------------------------------------------------------------


sphinx_gallery_conf = {
    "examples_dirs": str(EXAMPLES_DIR),
    "gallery_dirs": "auto_examples",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skpref",),
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "plot_gallery": "True",
    "write_computation_times": True,
}

# -- HTML -----------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"skpref {release}"
html_static_path = []
html_theme_options = {
    "description": "Causal preference learning with scikit-learn reward models",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
