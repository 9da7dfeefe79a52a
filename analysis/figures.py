"""Compatibility names for :mod:`analysis.sensitivity` until its plots join
:mod:`analysis.report` (issue 11); new code imports from :mod:`analysis.report.figures`.
Nothing is defined here."""

from analysis.report.figures import *  # noqa: F403
from analysis.report.figures import __all__ as _all
from analysis.report.format import format_p
from analysis.report.style import new_figure as _new_figure

__all__ = [*_all, "format_p", "_new_figure"]
