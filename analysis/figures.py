"""Figures of the report: the study flow (Figure 1) and the dose tapers.

Sharma 2017, Figure 1 (study design) and Results, *Change in the doses of DMARD*.

Every function here is pure: it takes frames and returns a new
:class:`matplotlib.figure.Figure` attached to an explicit Agg canvas, never touching pyplot's
global figure manager or the global ``rcParams`` (styles are applied with
:func:`matplotlib.rc_context`). The only function that writes is :func:`save_figure`, which saves
PNG (200 dpi) and SVG with the metadata that would vary between runs removed, so a re-run gives
identical bytes. seaborn is imported lazily (only for its colour-blind palette and style
dictionaries), so importing :mod:`analysis` never imports it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError, ParameterError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from collections.abc import Iterator

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COHORTS",
    "DRUGS",
    "TIMEPOINTS",
    "STYLE_RC",
    "format_p",
    "palette",
    "plot_flow",
    "plot_taper",
    "plot_taper_conventional",
    "plot_taper_tacrolimus",
    "save_figure",
    "style_context",
]

# --------------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------------

#: rc settings laid over seaborn's ``"ticks"`` style and ``"paper"`` context. The font is pinned
#: to DejaVu Sans (shipped with matplotlib) so that the output does not depend on which fonts a
#: machine has; ``svg.hashsalt`` makes the SVG's generated ids reproducible.
STYLE_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.5,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.title_fontsize": 8.0,
    "figure.titlesize": 9.0,
    "figure.labelsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "0.9",
    "svg.hashsalt": "sharma-2017-ma-ild",
    "svg.fonttype": "path",
    "savefig.facecolor": "white",
}

#: Resolution of the PNG files written by :func:`save_figure`.
PNG_DPI = 200

#: Font size (points) of the flow diagram's box texts.
FLOW_FONTSIZE = 9.0


def palette() -> list[tuple[float, float, float]]:
    """seaborn's ``"colorblind"`` palette (10 RGB tuples), imported lazily."""
    import seaborn as sns

    return [tuple(c) for c in sns.color_palette("colorblind")]


def _style_rc() -> dict[str, Any]:
    import seaborn as sns
    from cycler import cycler

    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("ticks"))
    rc.update(sns.plotting_context("paper"))
    rc.update(STYLE_RC)
    rc["axes.prop_cycle"] = cycler(color=palette())
    return rc


@contextmanager
def style_context() -> Iterator[None]:
    """Apply the project style for the duration of a ``with`` block only.

    Uses :func:`matplotlib.rc_context`, so the global ``rcParams`` are restored afterwards
    (unlike ``seaborn.set_theme``).
    """
    import matplotlib

    with matplotlib.rc_context(_style_rc()):
        yield


def _new_figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """A Figure on an explicit Agg canvas, unknown to pyplot (no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, folder: str | Path, stem: str) -> list[Path]:
    """Write ``fig`` as ``<folder>/<stem>.png`` (200 dpi) and ``<folder>/<stem>.svg``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure made by this module (or any Figure).
    folder : str or pathlib.Path
        Output folder; created if missing.
    stem : str
        File name without extension.

    Returns
    -------
    list of pathlib.Path
        The PNG and the SVG path, in that order.

    Notes
    -----
    The output is byte-identical across re-runs: the PNG is written without the ``Software``
    tag, the SVG without the ``Date`` and with a fixed ``svg.hashsalt`` (ids of clip paths and
    glyphs), and both are drawn under the project style with the Agg-based canvases.
    """
    if not stem or Path(stem).name != stem:
        raise ParameterError(f"figure stem must be a plain file name, got {stem!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{stem}.png"
    svg = folder / f"{stem}.svg"
    with style_context():
        fig.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return [png, svg]


# --------------------------------------------------------------------------------------------
# p-value formatting
# --------------------------------------------------------------------------------------------


def format_p(p: float) -> str:
    """Format a p-value for a figure annotation.

    Rule: below 0.001 print ``"< 0.001"``; otherwise round to two significant digits and print
    with two decimals at least and three at most (``0.0996`` rounds to ``0.10``). This gives the
    paper's 0.002, 0.006, 0.010, 0.013, 0.042, 0.055, 0.30 and 1.00; the paper's "0.04" and
    "0.08" print as ``0.040`` and ``0.080`` (Sharma 2017 is not consistent: it also prints 0.010).
    A missing p-value prints ``"n/a"``.

    >>> [format_p(p) for p in (0.0004, 0.001, 0.002, 0.006, 0.0100, 0.013, 0.04)]
    ['< 0.001', '0.001', '0.002', '0.006', '0.010', '0.013', '0.040']
    >>> [format_p(p) for p in (0.0996, 0.30, 0.7, 0.55, 0.999, 1.0, float("nan"))]
    ['0.10', '0.30', '0.70', '0.55', '1.00', '1.00', 'n/a']
    """
    if p is None or pd.isna(p):
        return "n/a"
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise DataValidationError(f"p-value must lie in [0, 1], got {p}")
    if p < 0.001:
        return "< 0.001"
    rounded = float(f"{p:.2g}")
    decimals = min(3, max(2, 1 - math.floor(math.log10(rounded))))
    return f"{rounded:.{decimals}f}"


def _p_label(p: float) -> str:
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


# --------------------------------------------------------------------------------------------
# Figure 1: study flow
# --------------------------------------------------------------------------------------------

_FLOW_COLUMNS = ("key", "label", "n", "parent")
_FLOW_MAIN = (
    "flow.identified",
    "flow.excluded",
    "flow.included",
    "flow.conv_responders",
    "flow.conv_failures",
    "flow.tac_analysed",
    "flow.second_line_other",
    "flow.tac_responders",
    "flow.tac_failures",
)

# Layout in inches: (centre x, width) of each main box; (left x, width) of the side boxes.
_FLOW_WIDTH = 7.0
_FLOW_MARGIN = 0.12
_FLOW_PAD_X = 0.10
_FLOW_PAD_Y = 0.08
_FLOW_SPLIT_GAP = 0.55
_FLOW_SIDE_GAP = 0.18
_FLOW_BOXES: dict[str, tuple[float, float]] = {
    "flow.identified": (2.27, 3.0),
    "flow.included": (2.27, 3.0),
    "flow.conv_responders": (1.15, 2.1),
    "flow.conv_failures": (3.40, 2.1),
    "flow.tac_analysed": (3.40, 2.1),
    "flow.tac_responders": (2.20, 1.9),
    "flow.tac_failures": (4.60, 1.9),
}
_FLOW_SIDE: dict[str, tuple[float, float]] = {
    "flow.excluded": (4.00, 2.88),
    "flow.second_line_other": (4.68, 2.20),
}
_FLOW_EDGE = "0.25"
_FLOW_FILL = "#F7F7F7"


def _validate_flow(flow: pd.DataFrame) -> dict[str, tuple[str, int, str]]:
    missing_cols = [c for c in _FLOW_COLUMNS if c not in flow.columns]
    if missing_cols:
        raise DataValidationError(f"flow table: missing column(s) {missing_cols}; "
                                  f"expected {list(_FLOW_COLUMNS)} (analysis.cohort.flow_table)")
    keys = flow["key"].astype(str)
    if keys.duplicated().any():
        raise DataValidationError(
            f"flow table: duplicated key(s) {sorted(set(keys[keys.duplicated()]))}")
    missing = [k for k in _FLOW_MAIN if k not in set(keys)]
    if missing:
        raise DataValidationError(f"flow table: missing row(s) {missing}")
    rows: dict[str, tuple[str, int, str]] = {}
    for key, label, n, parent in zip(keys, flow["label"], flow["n"], flow["parent"],
                                     strict=True):
        if pd.isna(n) or float(n) != int(n) or int(n) < 0:
            raise DataValidationError(
                f"flow table: row {key!r}, column 'n' must be a count >= 0, got {n!r}")
        rows[key] = (str(label), int(n), "" if pd.isna(parent) else str(parent))
    return rows


def _count(n: int) -> str:
    # non-breaking spaces keep "(n = 3)" on one line when wrapped
    return f"(n\u00a0=\u00a0{n})"


def _wrap(text: str, width: int, bullet: str = "") -> str:
    wrapped = textwrap.fill(text, width=max(width, 8), initial_indent=bullet,
                            subsequent_indent="   " if bullet else "",
                            break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\u00a0", " ")


def _flow_texts(rows: dict[str, tuple[str, int, str]], chars: int, key: str) -> str:
    """The text of one box, wrapped at ``chars`` characters."""
    label, n, _ = rows[key]
    if key in _FLOW_SIDE:
        items = [k for k, (_, _, parent) in rows.items() if parent == key]
        lines = [_wrap(f"{label} {_count(n)}", chars)]
        lines += [_wrap(f"{rows[k][0]} {_count(rows[k][1])}", chars, bullet="\u2022 ")
                  for k in items]
        return "\n".join(lines)
    return f"{_wrap(label, chars)}\nn = {n}"


def plot_flow(flow: pd.DataFrame) -> Figure:
    """CONSORT-style study flow diagram (Sharma 2017, Figure 1).

    Parameters
    ----------
    flow : DataFrame
        The output of :func:`analysis.cohort.flow_table`: columns ``key``, ``label``, ``n``,
        ``parent``. Rows used: ``flow.identified``, ``flow.excluded`` (side box listing every
        ``flow.excluded.<reason>`` row, i.e. every row whose parent is ``flow.excluded``, with its
        label and count), ``flow.included``, ``flow.conv_responders``, ``flow.conv_failures``,
        ``flow.tac_analysed``, ``flow.second_line_other`` (side box listing its children, e.g.
        ``flow.second_line.cyclophosphamide`` and ``flow.second_line.tacrolimus_insufficient``),
        ``flow.tac_responders`` and ``flow.tac_failures``.

    Returns
    -------
    matplotlib.figure.Figure
        About 7 x 8 inches (the height follows the wrapped texts). Every box is a
        ``FancyBboxPatch`` with gid ``"<key>.box"`` holding one Text with gid ``"<key>.text"``;
        each text shows the row's label and ``n = <count>`` read from the table.

    Raises
    ------
    DataValidationError
        Missing columns or rows, duplicated keys, or a count that is not an integer >= 0.

    Notes
    -----
    Labels and counts come only from the table, so a variant run (other counts, zero counts,
    other exclusion reasons) draws its own numbers. Text is 9 pt and wrapped with
    :func:`textwrap.fill` to the width of its box; box heights are measured from the rendered
    text, so boxes never overlap.
    """
    rows = _validate_flow(flow)
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch

    with style_context():
        fig = _new_figure((_FLOW_WIDTH, 8.0))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        renderer = fig.canvas.get_renderer()
        char_w = FLOW_FONTSIZE / 72.0 * 0.56  # rough mean glyph width of DejaVu Sans, inches

        # 1. create the texts, wrapped to their box width, and measure them
        texts: dict[str, Any] = {}
        sizes: dict[str, tuple[float, float]] = {}
        for key in _FLOW_MAIN:
            side = key in _FLOW_SIDE
            width = (_FLOW_SIDE if side else _FLOW_BOXES)[key][1]
            inner = width - 2 * _FLOW_PAD_X
            chars = int(inner / char_w)
            while True:
                text = ax.text(0, 0, _flow_texts(rows, chars, key), fontsize=FLOW_FONTSIZE,
                               ha="left" if side else "center", va="center",
                               multialignment="left" if side else "center",
                               gid=f"{key}.text", zorder=3)
                bbox = text.get_window_extent(renderer)
                w_in, h_in = bbox.width / fig.dpi, bbox.height / fig.dpi
                if w_in <= inner or chars <= 10:
                    break
                text.remove()
                chars -= 2
            texts[key] = text
            sizes[key] = (w_in, h_in)

        def box_h(*keys: str) -> float:
            return max(sizes[k][1] for k in keys) + 2 * _FLOW_PAD_Y

        # 2. vertical layout, top down (y measured downwards from the top edge for now)
        side_gap = {k: box_h(k) + 2 * _FLOW_SIDE_GAP for k in _FLOW_SIDE}
        rows_spec = [  # (keys in the row, gap below it, side box in that gap)
            (("flow.identified",), max(side_gap["flow.excluded"], _FLOW_SPLIT_GAP),
             "flow.excluded"),
            (("flow.included",), _FLOW_SPLIT_GAP, None),
            (("flow.conv_responders", "flow.conv_failures"),
             max(side_gap["flow.second_line_other"], _FLOW_SPLIT_GAP), "flow.second_line_other"),
            (("flow.tac_analysed",), _FLOW_SPLIT_GAP, None),
            (("flow.tac_responders", "flow.tac_failures"), 0.0, None),
        ]
        top = _FLOW_MARGIN
        layout: dict[str, tuple[float, float, float, float]] = {}  # x0, top, w, h
        gaps: list[tuple[float, float]] = []
        for keys, gap, side in rows_spec:
            h = box_h(*keys)
            for key in keys:
                cx, w = _FLOW_BOXES[key]
                layout[key] = (cx - w / 2, top, w, h)
            gaps.append((top + h, top + h + gap))
            if side is not None:
                sh = box_h(side)
                x0, w = _FLOW_SIDE[side]
                layout[side] = (x0, top + h + (gap - sh) / 2, w, sh)
            top += h + gap
        height = top + _FLOW_MARGIN
        fig.set_size_inches(_FLOW_WIDTH, height)
        ax.set_xlim(0, _FLOW_WIDTH)
        ax.set_ylim(0, height)

        def y(down: float) -> float:
            return height - down

        # 3. boxes and texts
        for key, (x0, t, w, h) in layout.items():
            ax.add_patch(FancyBboxPatch(
                (x0, y(t + h)), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=_FLOW_FILL, edgecolor=_FLOW_EDGE, linewidth=0.9, zorder=2,
                gid=f"{key}.box"))
            if key in _FLOW_SIDE:
                texts[key].set_position((x0 + _FLOW_PAD_X, y(t + h / 2)))
            else:
                texts[key].set_position((x0 + w / 2, y(t + h / 2)))

        # 4. connectors
        line_kw = {"color": _FLOW_EDGE, "linewidth": 0.9, "solid_capstyle": "butt",
                   "zorder": 1}
        arrow_kw = {"arrowstyle": "-|>", "color": _FLOW_EDGE, "linewidth": 0.9,
                    "shrinkA": 0, "shrinkB": 0, "mutation_scale": 9}

        def cx(key: str) -> float:
            return layout[key][0] + layout[key][2] / 2

        def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow_kw, zorder=1)

        def straight(parent: str, child: str, side: str) -> None:
            x = cx(parent)
            arrow(x, y(layout[parent][1] + layout[parent][3]), x, y(layout[child][1]))
            sx0, st, _, sh = layout[side]
            arrow(x, y(st + sh / 2), sx0, y(st + sh / 2))

        def split(parent: str, children: Sequence[str]) -> None:
            bottom = layout[parent][1] + layout[parent][3]
            child_top = min(layout[c][1] for c in children)
            mid = (bottom + child_top) / 2
            xs = [cx(c) for c in children]
            ax.add_line(Line2D([cx(parent)] * 2, [y(bottom), y(mid)], **line_kw))
            ax.add_line(Line2D([min(xs + [cx(parent)]), max(xs + [cx(parent)])],
                               [y(mid)] * 2, **line_kw))
            for c in children:
                arrow(cx(c), y(mid), cx(c), y(layout[c][1]))

        straight("flow.identified", "flow.included", "flow.excluded")
        split("flow.included", ("flow.conv_responders", "flow.conv_failures"))
        straight("flow.conv_failures", "flow.tac_analysed", "flow.second_line_other")
        split("flow.tac_analysed", ("flow.tac_responders", "flow.tac_failures"))
    return fig


# --------------------------------------------------------------------------------------------
# Dose tapers
# --------------------------------------------------------------------------------------------

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
            ax.annotate(prefix + "n = " + ("n/a" if pd.isna(n) else str(int(n))),
                        xy=(xpos[t], 0.0), xycoords=("data", "axes fraction"),
                        xytext=(0.0, -_N_OFFSET - _N_LINE * i), textcoords="offset points",
                        ha="center", va="top", fontsize=8, color=colour,
                        gid=f"n.{cohort}.{drug}.{t}", annotation_clip=False)
            if j > 0:
                p_lines.setdefault(t, []).append((prefix + _p_label(sub["p"].iloc[j]), colour))
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
        above each later time point (formatted by :func:`format_p`). Colours: seaborn
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
        fig = _new_figure((width, height), layout="constrained")
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
