"""The dose tapers: mean ± SD dose per time point, one panel per drug.

Sharma 2017, Results, *Change in the doses of DMARD*. Pure functions: frames in, a new
Figure out (see :mod:`analysis.report.style`).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError, ParameterError
from analysis.format import format_number, p_clause
from analysis.report.style import new_figure, palette, style_context

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COHORTS", "DRUGS", "TIMEPOINTS", "plot_taper", "plot_taper_conventional",
           "plot_taper_tacrolimus"]


#: Cohorts of the dose summary: label and time points in order (the first is the reference of
#: the paired t test).
COHORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "conv_resp": ("Responded to conventional treatment", ("baseline", "m6_12")),
    "conv_fail": ("Failed conventional treatment", ("baseline", "m6_12")),
    "tac": ("Tacrolimus (failed conventional treatment)", ("start", "m3_6", "y1")),
}
#: Drugs: panel title and dose unit.
DRUGS: dict[str, tuple[str, str]] = {
    "prednisone": ("Prednisone", "mg/day"),
    "aza": ("Azathioprine (AZA)", "mg/day"),
    "mtx": ("Methotrexate (MTX)", "mg/week"),
    "mmf": ("Mycophenolate mofetil (MMF)", "mg/day"),
}
#: Time point labels on the x axis.
TIMEPOINTS: dict[str, str] = {
    "baseline": "Baseline",
    "m6_12": "6\u201312 months",
    "start": "Start",
    "m3_6": "3\u20136 months",
    "y1": "1 year",
}
_SUMMARY_COLUMNS = ("cohort", "drug", "timepoint", "n", "mean", "sd", "p")
_COHORT_COLOUR = {"conv_resp": 0, "conv_fail": 1, "tac": 2}
_COHORT_SHORT = {"conv_resp": "Responders", "conv_fail": "Failures", "tac": "Tacrolimus"}
_P_LINE = 0.075  # axes fraction per line of p-value annotations
_N_OFFSET = 18.0  # points below the axes of the first row of n annotations
_N_LINE = 10.5  # points per further row


def _validate_summary(summary: pd.DataFrame, cohorts: Sequence[str],
                      drugs: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in _SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise DataValidationError(f"dose summary: missing column(s) {missing}; "
                                  f"expected at least {list(_SUMMARY_COLUMNS)}")
    bad = [c for c in cohorts if c not in COHORTS]
    if bad or not cohorts:
        raise ParameterError(f"cohort(s) {bad or '[]'} not allowed; choose from {list(COHORTS)}")
    bad = [d for d in drugs if d not in DRUGS]
    if bad or not drugs:
        raise ParameterError(f"drug(s) {bad or '[]'} not allowed; choose from {list(DRUGS)}")
    frame = summary.loc[:, list(_SUMMARY_COLUMNS)].copy()
    for col in ("cohort", "drug", "timepoint"):
        frame[col] = frame[col].astype(str).str.lower()
    for col in ("n", "mean", "sd", "p"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame = frame[frame["cohort"].isin(cohorts) & frame["drug"].isin(drugs)]
    dup = frame.duplicated(["cohort", "drug", "timepoint"])
    if dup.any():
        first = frame.loc[dup, ["cohort", "drug", "timepoint"]].iloc[0].tolist()
        raise DataValidationError(f"dose summary: duplicated row for {first}")
    p = frame["p"]
    if ((p < 0) | (p > 1)).any():
        raise DataValidationError("dose summary: column 'p' must lie in [0, 1]")
    if ((frame["sd"] < 0) | (frame["n"] < 0)).any():
        raise DataValidationError("dose summary: columns 'sd' and 'n' must be >= 0")
    return frame


def _taper_panel(ax: Axes, frame: pd.DataFrame, cohorts: Sequence[str], drug: str,
                 colours: list[tuple[float, float, float]], show_titles: bool) -> None:
    """One drug: mean +- SD per time point and cohort, n below the axis, p at the top."""
    timepoints = [t for t in TIMEPOINTS if any(t in COHORTS[c][1] for c in cohorts)]
    xpos = {t: i for i, t in enumerate(timepoints)}
    k = len(cohorts)
    dodge = 0.07 if k > 1 else 0.0
    data_top = 0.0
    p_lines: dict[str, list[tuple[str, tuple[float, float, float]]]] = {}
    for i, cohort in enumerate(cohorts):
        colour = colours[_COHORT_COLOUR[cohort]]
        prefix = f"{_COHORT_SHORT[cohort]}: " if k > 1 else ""
        order = COHORTS[cohort][1]
        sub = frame[(frame["cohort"] == cohort) & (frame["drug"] == drug)]
        sub = sub.set_index("timepoint").reindex(list(order))
        x = np.array([xpos[t] for t in order], dtype=float) + (i - (k - 1) / 2) * dodge
        mean = sub["mean"].to_numpy(dtype=float)
        sd = sub["sd"].fillna(0.0).to_numpy(dtype=float)
        lower = np.minimum(sd, np.clip(mean, 0.0, None))  # error bar clipped at 0 mg
        ax.errorbar(x, mean, yerr=np.vstack([lower, sd]), color=colour, marker="o",
                    markersize=5, capsize=3, linewidth=1.4, elinewidth=1.0,
                    label=COHORTS[cohort][0], gid=f"taper.{cohort}.{drug}", zorder=3)
        if np.isfinite(mean + sd).any():
            data_top = max(data_top, float(np.nanmax(mean + sd)))
        for j, t in enumerate(order):
            n = sub["n"].iloc[j]
            ax.annotate(prefix + "n = " + format_number(n, 0),
                        xy=(xpos[t], 0.0), xycoords=("data", "axes fraction"),
                        xytext=(0.0, -_N_OFFSET - _N_LINE * i), textcoords="offset points",
                        ha="center", va="top", fontsize=8, color=colour,
                        gid=f"n.{cohort}.{drug}.{t}", annotation_clip=False)
            if j > 0:
                p_lines.setdefault(t, []).append((prefix + p_clause(sub["p"].iloc[j]), colour))
    for t, lines in p_lines.items():
        for i, (label, colour) in enumerate(lines):
            ax.text(xpos[t], 0.98 - _P_LINE * i, label, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=8, color=colour, gid=f"p.{drug}.{t}.{i}")
    n_p = max((len(v) for v in p_lines.values()), default=0)
    headroom = 0.06 + _P_LINE * n_p
    top = data_top / (1.0 - headroom) if data_top > 0 else 1.0
    ax.set_ylim(-0.03 * top, top)
    ax.set_xlim(-0.5, len(timepoints) - 0.5)
    ax.set_xticks(range(len(timepoints)), [TIMEPOINTS[t] for t in timepoints])
    ax.tick_params(axis="x", length=0, pad=4)
    title, unit = DRUGS[drug]
    ax.set_ylabel(unit if show_titles else f"{title} ({unit})")
    if show_titles:
        ax.set_title(title, loc="left")
    if frame[(frame["drug"] == drug)]["mean"].notna().sum() == 0:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                color="0.4")


def plot_taper(summary: pd.DataFrame, cohort: str | Sequence[str],
               drugs: Sequence[str]) -> Figure:
    """Dose taper: mean +- SD dose per time point, one panel per drug.

    Sharma 2017, Results, *Change in the doses of DMARD*.

    Parameters
    ----------
    summary : DataFrame
        Long, numeric dose summary with columns ``cohort`` (``conv_resp``, ``conv_fail``,
        ``tac``), ``drug`` (``prednisone``, ``aza``, ``mtx``, ``mmf``), ``timepoint``
        (``baseline``, ``m6_12`` for the conventional cohorts; ``start``, ``m3_6``, ``y1`` for
        ``tac``), ``n``, ``mean``, ``sd``, ``pct_change`` (not drawn) and ``p`` (paired t test
        against the first time point; NaN there). Not modified.
    cohort : str or sequence of str
        One cohort, or several drawn side by side in each panel (colour = cohort).
    drugs : sequence of str
        One panel per drug, in this order (2 columns when more than one).

    Returns
    -------
    matplotlib.figure.Figure
        Each point is the mean with a ±SD error bar whose lower end is clipped at 0 mg (a dose
        cannot be negative). ``n = <count>`` is written below each time point (one row per
        cohort, in the cohort's colour); the p-value against the first time point is written
        above each later time point (:func:`analysis.format.p_clause`). Colours: seaborn
        ``"colorblind"``.

    Raises
    ------
    DataValidationError
        Missing columns, duplicated (cohort, drug, timepoint) rows, p outside [0, 1], negative
        n or SD.
    ParameterError
        Unknown cohort or drug.
    """
    cohorts = [cohort] if isinstance(cohort, str) else list(cohort)
    drugs = list(drugs)
    frame = _validate_summary(summary, cohorts, drugs)
    ncols = 1 if len(drugs) == 1 else 2
    nrows = math.ceil(len(drugs) / ncols)
    legend = len(cohorts) > 1
    width = 5.0 if ncols == 1 else 7.0
    height = 3.2 * nrows + (0.4 * len(cohorts) if legend else 0.0) + 0.4
    reference = {COHORTS[c][1][0] for c in cohorts}
    ref_label = " / ".join(TIMEPOINTS[r].lower() for r in sorted(reference))
    with style_context():
        colours = palette()
        fig = new_figure((width, height), layout="constrained")
        fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06, hspace=0.06, wspace=0.06)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, drug in zip(axes.flat, drugs, strict=False):
            _taper_panel(ax, frame, cohorts, drug, colours, show_titles=len(drugs) > 1)
        for ax in list(axes.flat)[len(drugs):]:
            ax.set_visible(False)
        if legend:
            handles, labels = axes.flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside upper center", ncols=1, frameon=False)
        if "tac" in cohorts and len(cohorts) == 1:
            when = "Time since tacrolimus start"
        else:
            when = "Time since conventional treatment baseline"
        note = (f"{when}. Mean \u00b1 SD (lower bar clipped at 0); "
                f"p: paired t test vs {ref_label}.")
        fig.supxlabel(textwrap.fill(note, width=int(width * 14)), fontsize=8)
    return fig


def plot_taper_conventional(summary: pd.DataFrame) -> Figure:
    """Prednisone taper under conventional treatment, responders vs failures.

    Sharma 2017, Results, *Change in the doses of DMARD*, first paragraph: prednisone from
    baseline to 6–12 months in the 31 responders and the 23 failures.
    See :func:`plot_taper` for the input and the drawing.
    """
    return plot_taper(summary, ["conv_resp", "conv_fail"], ["prednisone"])


def plot_taper_tacrolimus(summary: pd.DataFrame) -> Figure:
    """Doses after tacrolimus start: prednisone, AZA, MTX, MMF (small multiples).

    Sharma 2017, Results, *Change in the doses of DMARD*, second paragraph: start,
    3–6 months and 1 year after tacrolimus start in the 18 analysed patients.
    See :func:`plot_taper` for the input and the drawing.
    """
    return plot_taper(summary, "tac", ["prednisone", "aza", "mtx", "mmf"])
