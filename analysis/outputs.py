"""Compatibility names for :mod:`analysis.sensitivity` until it imports from
:mod:`analysis.report` (issue 11); new code uses :mod:`analysis.report.markdown`,
:mod:`analysis.report.results` and :func:`analysis.report.atomic.write_atomic`.
Nothing is defined here."""

from analysis.report.atomic import write_atomic as write_text
from analysis.report.markdown import markdown_table, save_table
from analysis.report.results import load_fragments, save_fragment

__all__ = ["write_text", "save_table", "save_fragment", "load_fragments", "markdown_table"]
