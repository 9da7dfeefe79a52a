"""The report's figures in one place: style and saving, Figure 1 (study flow), dose tapers.

Sharma 2017, Figure 1 (study design) and Results, *Change in the doses of DMARD*. Each figure
is a pure function (frames in, a new Figure out); only :func:`save_figure` writes. The code
lives in :mod:`analysis.report.style`, :mod:`analysis.report.flow` and
:mod:`analysis.report.tapers`; this module gathers their public names.
"""

from analysis.report.flow import FLOW_FONTSIZE, plot_flow
from analysis.report.style import PNG_DPI, STYLE_RC, new_figure, palette, save_figure, style_context
from analysis.report.tapers import (
    COHORTS,
    DRUGS,
    TIMEPOINTS,
    plot_taper,
    plot_taper_conventional,
    plot_taper_tacrolimus,
)

__all__ = ["COHORTS", "DRUGS", "TIMEPOINTS", "STYLE_RC", "PNG_DPI", "FLOW_FONTSIZE", "palette",
           "new_figure", "style_context", "save_figure", "plot_flow", "plot_taper",
           "plot_taper_conventional", "plot_taper_tacrolimus"]
