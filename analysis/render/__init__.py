"""Render a run's ``report.qmd`` to self-contained HTML, PDF and Word (DESIGN.md section 7).

A separate tool from the analysis: it knows nothing about the study. Two engines write
``report.html``, ``report.pdf`` and ``report.docx`` in a run folder: the real Quarto CLI when it
is installed (:mod:`analysis.render.quarto`), else a small pip-only stand-in for Quarto built
on pandoc and Typst (:mod:`analysis.render.pandoc`), which supports only the Quarto features
the report uses.
README.md in this folder lists them and says why the stand-in exists.

==================  ============================================================================
``engine``          :func:`render_report`, :func:`describe_renderer`: the engine and version
``quarto``          the Quarto CLI: :func:`find_quarto`, ``quarto render``
``quarto_markdown`` :func:`resolve_quarto_markdown`: Quarto Markdown to pandoc Markdown
``source``          source lines with file and line, code blocks, front matter
``shortcodes``      include, var, pagebreak
``crossref``        figure and table numbering, ``@fig-``/``@tbl-`` references
``callouts``        ``.callout-*`` divs
``config``          ``_variables.yml``, ``_quarto.yml`` and front-matter options
``pandoc``          pandoc (HTML, Typst source, docx) and Typst (PDF) driving
``docx_reference``  the Word reference document (page, type sizes) from ``_quarto.yml``
==================  ============================================================================
"""

from analysis.render.config import load_variables
from analysis.render.engine import ENGINES, FORMATS, describe_renderer, render_report
from analysis.render.quarto import find_quarto
from analysis.render.quarto_markdown import resolve_quarto_markdown
from analysis.render.source import (
    PROJECT_FILES,
    PROJECT_NAME,
    REPORT_NAME,
    VARIABLES_NAME,
    RenderError,
)

__all__ = [
    "ENGINES",
    "FORMATS",
    "PROJECT_FILES",
    "PROJECT_NAME",
    "REPORT_NAME",
    "VARIABLES_NAME",
    "RenderError",
    "describe_renderer",
    "find_quarto",
    "load_variables",
    "render_report",
    "resolve_quarto_markdown",
]
