"""Figures and the report section of the sensitivity analysis (beyond the paper).

The numbers come from :mod:`analysis.sensitivity` (the sweep over response definitions, the
conclusions, the bootstrap); this module only draws and writes them: the heatmaps of
conventional responders and of the PM vs DM p-value over the FVC and TLC cutoffs
(:func:`plot_heatmap`), the share of the grid where each conclusion holds
(:func:`plot_shares`), their captions, the section's Markdown (:func:`sensitivity_markdown`)
and the files of a run (:func:`save_sensitivity`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.paper.claims import CLAIMS
from analysis.response import SCALES
from analysis.sensitivity import format_count, format_value, same_value

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FIGURES", "CONCLUSION_LABELS", "plot_heatmap", "plot_shares", "sensitivity_figures",
           "figure_captions", "range_rows", "bootstrap_rows", "conclusion_rows",
           "sensitivity_markdown", "save_sensitivity"]

# --------------------------------------------------------------------------- figures
def _nearest(values: Sequence[Any], target: Any) -> Any:
    if isinstance(target, str):
        return target if target in values else values[0]
    return min(values, key=lambda v: (abs(float(v) - float(target)), float(v)))


#: Fields held fixed in the heatmaps (their axes are FVC, TLC, criteria and scale).
HELD = ("dlco_decline", "ck_fall", "ck_uln", "ck_missing_baseline", "ck_missing_followup",
        "pft_missing")


def _slice_values(sweep: pd.DataFrame) -> dict[str, Any]:
    """Values of the fields held fixed in the heatmaps: the reference's (or the nearest)."""
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    grid = sweep[sweep["in_grid"].astype(bool)]
    return {name: _nearest(list(dict.fromkeys(grid[name])), ref[name]) for name in HELD}


def _heatmap_part(grid: pd.DataFrame, fixed: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of the grid drawn in the heatmaps: every held field at its fixed value."""
    keep = np.ones(len(grid), dtype=bool)
    for name, value in fixed.items():
        column = grid[name]
        keep &= (column.astype(str) == value).to_numpy() if isinstance(value, str) else \
            np.isclose(column.astype(float), float(value))
    return grid[keep]


def _pct_label(value: float) -> str:
    return f"{100 * value:.0f}"


def _reference_shown(sweep: pd.DataFrame) -> bool:
    """Whether the heatmaps contain the reference definition (it is on the grid)."""
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    fixed = _slice_values(sweep)
    return bool(ref["in_grid"]) and all(same_value(fixed[k], ref[k]) for k in fixed)


def _missing_text(rule: str) -> str:
    return "counted as refractory" if rule == "refractory" else "meeting no criterion"


def _held_text(fixed: Mapping[str, Any]) -> str:
    """The fields held fixed in the heatmaps, in words."""
    dlco = _pct_label(fixed["dlco_decline"])
    pft = "meeting no criterion" if fixed["pft_missing"] == "not_met" else "counted as a decline"
    return (f"DLCO decline {dlco}% if relative, {dlco} points if absolute; "
            f"CK fall more than {_pct_label(fixed['ck_fall'])}%; CK upper limit "
            f"{fixed['ck_uln']:g} U/l; a missing baseline CK "
            f"{_missing_text(fixed['ck_missing_baseline'])}, a missing follow-up CK "
            f"{_missing_text(fixed['ck_missing_followup'])}, a missing PFT value {pft}")


def _any_reversed(frame: pd.DataFrame) -> bool:
    """Whether DM-ILD responded at least as often as PM-ILD in any row."""
    return bool((~(frame["pm_pct"] > frame["dm_pct"])).any())



#: Bins of the p-value heatmap: three below 0.05 in red and three at or above it in blue, each
#: paler the larger the p-value, so that the significance threshold is a change of hue, not
#: of shade (issue 25: 0.043 and 0.048 were greys near-identical to 0.074 and 0.085), and
#: the large p-values that fill most of the grid stay light.
P_BOUNDS = (0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 1.0)
#: Positions on matplotlib's diverging "RdBu" map (0 dark red, 0.5 white, 1 dark blue) of
#: the bins of P_BOUNDS.
_P_SHADES = (0.0, 0.1, 0.2, 0.72, 0.65, 0.58)


def _colour_scale(grid: pd.DataFrame, value: str):
    """Colour map, norm and colour-bar label of a heatmap of ``value``.

    Responders: viridis (colour-blind safe), spanning the grid's range, not 0 to n, so small
    differences stay visible. p-values: a thresholded diverging scale (:data:`P_BOUNDS`,
    "RdBu", which stays distinguishable in the common colour-vision deficiencies): red below
    the significance level 0.05, blue at or above it.
    """
    import matplotlib
    from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize

    if value == "conv_responders":
        cmap = matplotlib.colormaps["viridis"]
        norm = Normalize(vmin=float(grid[value].min()), vmax=float(grid[value].max()))
        bar_label = "Conventional responders (of the {} included)".format(
            int(grid["n_included"].iloc[0]))
        return cmap, norm, bar_label
    base = matplotlib.colormaps["RdBu"]
    cmap = ListedColormap([base(x) for x in _P_SHADES])
    return (cmap, BoundaryNorm(list(P_BOUNDS), cmap.N),
            "PM vs DM, two-sided Fisher p\n(red: p < 0.05; blue: p \u2265 0.05)")


def _cell_text(value: str, v: float, cell: pd.DataFrame, tlc: float, fvc: float) -> str:
    """A heatmap cell's annotation: the count, or the p-value with a dagger where DM-ILD
    responded at least as often as PM-ILD."""
    from analysis.format import format_p

    if value == "conv_responders":
        return format_count(v)
    text = format_p(v)
    row = cell[np.isclose(cell["tlc_decline"], tlc) & np.isclose(cell["fvc_decline"], fvc)]
    if len(row) and not (row["pm_pct"].iloc[0] > row["dm_pct"].iloc[0]):
        text += "\u2020"
    return text


def _draw_panel(ax: Axes, cell: pd.DataFrame, value: str, fvcs: list, tlcs: list, cmap,
                norm):
    """One panel: the FVC x TLC matrix of ``value``, each cell annotated; returns the image."""
    mat = (cell.pivot_table(index="tlc_decline", columns="fvc_decline", values=value,
                            aggfunc="first", dropna=False)
           .reindex(index=tlcs, columns=fvcs))
    data = mat.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=norm, origin="lower",
                      aspect="auto")
    ax.grid(False)
    for (r, c), v in np.ndenumerate(data):
        shade = cmap(norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
        lum = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
        ax.text(c, r, _cell_text(value, v, cell, tlcs[r], fvcs[c]), ha="center",
                va="center", fontsize=7, color="black" if lum > 0.5 else "white")
    ax.set_xticks(range(len(fvcs)), [_pct_label(f) for f in fvcs])
    ax.set_yticks(range(len(tlcs)), [_pct_label(t) for t in tlcs])
    ax.tick_params(length=0)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    return image


def _mark_reference(ax: Axes, ref: pd.Series, fixed: Mapping[str, Any], scale: str, req: int,
                    fvcs: list, tlcs: list) -> bool:
    """Box the reference definition's cell if this panel holds it; whether it did."""
    from matplotlib.patches import Rectangle

    if not (scale == ref["decline_scale"] and req == ref["ild_criteria_required"]
            and all(same_value(value, ref[name]) for name, value in fixed.items())):
        return False
    hits_c = [k for k, f in enumerate(fvcs) if same_value(f, ref["fvc_decline"])]
    hits_r = [k for k, t in enumerate(tlcs) if same_value(t, ref["tlc_decline"])]
    if not (hits_c and hits_r):
        return False
    ax.add_patch(Rectangle((hits_c[0] - 0.5, hits_r[0] - 0.5), 1, 1, fill=False,
                           edgecolor="black", linewidth=2.2, gid="reference"))
    return True


def _label_panel(ax: Axes, i: int, j: int, nrows: int, scale: str, req: int) -> None:
    """Titles on the top row, scale labels on the left column, FVC on the bottom row."""
    if i == 0:
        ax.set_title(f"{req} of 4 ILD criteria", fontsize=8.5)
    if j == 0:
        unit = "%" if scale == "relative" else "points"
        ax.set_ylabel(f"{scale.capitalize()} declines ({unit})\nTLC decline")
    if i == nrows - 1:
        ax.set_xlabel("FVC decline")


def plot_heatmap(sweep: pd.DataFrame, value: str, label: str = "paper's definition") -> Figure:
    """Small multiples of FVC x TLC decline cutoffs: rows = decline scale, columns = ILD
    criteria required; DLCO decline and CK fall at the reference's values.

    Parameters
    ----------
    sweep : from :func:`analysis.sensitivity.sweep`.
    value : ``"conv_responders"`` (number of conventional responders, each cell annotated)
        or ``"pm_dm_p"`` (two-sided Fisher p of PM vs DM, binned at :data:`P_BOUNDS`; a cell
        where DM did at least as well as PM is marked with a dagger).
    label : name of the reference definition (boxed in black); the caption names it, the
        image carries no caption text (:func:`figure_captions`).

    Returns
    -------
    matplotlib.figure.Figure
        Colour maps: viridis (responders) and a thresholded red/blue scale (p), both
        colour-blind safe (:func:`_colour_scale`).
    """
    from analysis.report.style import new_figure, style_context

    if value not in ("conv_responders", "pm_dm_p"):
        raise ParameterError(f"value must be 'conv_responders' or 'pm_dm_p', got {value!r}")
    grid = sweep[sweep["in_grid"].astype(bool)]
    fixed = _slice_values(sweep)
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    part = _heatmap_part(grid, fixed)
    fvcs = sorted(part["fvc_decline"].unique())
    tlcs = sorted(part["tlc_decline"].unique())
    required = sorted(part["ild_criteria_required"].unique())
    scales = [s for s in SCALES if s in set(part["decline_scale"])]
    cmap, norm, bar_label = _colour_scale(grid, value)
    ncols, nrows = len(required), len(scales)
    width = 1.2 + 1.75 * ncols
    height = 1.2 + 1.7 * nrows
    with style_context():
        fig = new_figure((width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        image = None
        for i, scale in enumerate(scales):
            for j, req in enumerate(required):
                ax = axes[i, j]
                cell = part[(part["decline_scale"] == scale)
                            & (part["ild_criteria_required"] == req)]
                image = _draw_panel(ax, cell, value, fvcs, tlcs, cmap, norm)
                _mark_reference(ax, ref, fixed, scale, req, fvcs, tlcs)
                _label_panel(ax, i, j, nrows, scale, req)
        bar = fig.colorbar(image, ax=axes, shrink=0.9, aspect=25)
        bar.set_label(bar_label)
        if value == "pm_dm_p":
            bar.set_ticks(list(P_BOUNDS), labels=[f"{b:g}" for b in P_BOUNDS])
            bar.ax.axhline(0.05, color="black", linewidth=1.5)
        # No note under the panels: the held values, the box and the dagger are in the
        # document's caption (figure_captions), which the image does not repeat (issue 25).
    return fig


#: Each conclusion's short name, as the share plot labels its bar (line breaks included); the
#: exercises' check accepts it as an answer.
CONCLUSION_LABELS: dict[str, str] = {claim.id: claim.short for claim in CLAIMS if claim.swept}


def plot_shares(claims: pd.DataFrame, label: str = "paper's definition") -> Figure:
    """Horizontal bars: share of the grid where each conclusion is supported (from
    :func:`analysis.sensitivity.conclusions`), with its verdict under the reference
    definition."""
    from analysis.report.style import new_figure, palette, style_context

    short = CONCLUSION_LABELS
    n = len(claims)
    with style_context():
        colours = palette()
        fig = new_figure((6.0, 0.55 * n + 1.1), layout="constrained")
        ax = fig.subplots()
        y = np.arange(n)[::-1]
        shares = 100 * claims["share"].to_numpy(dtype=float)
        ax.barh(y, shares, color=colours[0], height=0.6)
        ax.barh(y, 100 - shares, left=shares, color="0.88", height=0.6)
        for yy, share, verdict, k, total in zip(y, shares, claims["reference_verdict"],
                                                claims["n_holds"], claims["n_definitions"],
                                                strict=True):
            ax.text(101.5, yy, f"{share:.0f}% ({k}/{total}); {label}: {verdict}",
                    va="center", fontsize=7.5)
        ax.set_yticks(y, [short.get(c, c) for c in claims["conclusion"]])
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("Share of the grid of definitions where the conclusion is supported, %")
        ax.tick_params(axis="y", length=0)
        ax.grid(False)
        ax.spines["left"].set_visible(False)
    return fig


#: Figures of the section: stem -> (value drawn, report label).
FIGURES: dict[str, tuple[str, str]] = {
    "sensitivity_responders": ("conv_responders", "fig-sens-responders"),
    "sensitivity_pm_dm": ("pm_dm_p", "fig-sens-pm-dm"),
    "sensitivity_shares": ("shares", "fig-sens-shares"),
}


def sensitivity_figures(sweep: pd.DataFrame, claims: pd.DataFrame,
                        label: str = "paper's definition") -> dict[str, Figure]:
    """The section's figures by file stem (see :data:`FIGURES`)."""
    out = {}
    for stem, (value, _) in FIGURES.items():
        out[stem] = (plot_shares(claims, label) if value == "shares"
                     else plot_heatmap(sweep, value, label))
    return out


#: Alt text of :data:`FIGURES` (what a reader who cannot see the figure needs: its layout).
FIGURE_ALT: dict[str, str] = {
    "sensitivity_responders": (
        "Heatmaps in two rows (relative and absolute declines) and four columns (1 to 4 ILD "
        "criteria required); in each, TLC decline cutoffs down and FVC decline cutoffs across, "
        "each cell coloured and labelled with the number of conventional responders, the "
        "reference definition outlined"),
    "sensitivity_pm_dm": (
        "Heatmaps laid out as the previous figure; each cell coloured and labelled with the "
        "two-sided Fisher p-value of PM against DM response, the reference definition "
        "outlined"),
    "sensitivity_shares": (
        "Horizontal bar chart, one bar per conclusion of the paper, of the percentage of the "
        "grid's definitions in which it is supported (holds, or established), each labelled "
        "with the count and with its verdict under the reference definition"),
}


def _the(label: str) -> str:
    """"the paper's definition" but "this run's definition" (never "the this run's")."""
    return label if label.startswith("this ") else f"the {label}"


def figure_captions(sweep: pd.DataFrame, label: str) -> dict[str, str]:
    """The captions of :data:`FIGURES` by stem, with the held values and the reference."""
    fixed = _slice_values(sweep)
    held = _held_text(fixed)
    grid = sweep[sweep["in_grid"].astype(bool)]
    part = _heatmap_part(grid, fixed)
    dagger = ("; a dagger marks definitions where DM-ILD responded at least as often as "
              "PM-ILD" if _any_reversed(part) else "")
    box = (f"The box marks {_the(label)}" if _reference_shown(sweep)
           else f"{_the(label).capitalize()} is not on the grid")
    return {
        "sensitivity_responders": (
            "Number of conventional responders by the FVC and TLC decline cutoffs (relative "
            "declines in %, absolute in points of predicted), the number of ILD criteria "
            f"required and the decline scale; {held}. {box}"),
        "sensitivity_pm_dm": (
            "PM vs DM response to conventional treatment: two-sided Fisher exact p-value by "
            f"the same cutoffs; {held}{dagger}. {box}"),
        "sensitivity_shares": (
            "Share of the grid of definitions in which each conclusion of the paper is "
            "supported (verdict holds or established, by the rule stated in the Methods)"),
    }


# --------------------------------------------------------------------------- report
def _grid_description(sweep: pd.DataFrame) -> str:
    grid = sweep[sweep["in_grid"].astype(bool)]

    def levels(name, fmt=_pct_label, joiner=", "):
        return joiner.join(fmt(v) for v in dict.fromkeys(grid[name]))

    def pft(rule):
        return "meeting no criterion" if rule == "not_met" else "counted as a decline"

    return (f"declines of FVC by {levels('fvc_decline')}, TLC by {levels('tlc_decline')} and "
            f"DLCO by {levels('dlco_decline')} (percent of baseline when relative, "
            f"percentage points of predicted when absolute); "
            f"{levels('ild_criteria_required', str)} of the 4 ILD criteria required; a CK "
            f"fall of more than {levels('ck_fall')}%; declines "
            f"{levels('decline_scale', str, ' or ')}; a CK upper limit of normal of "
            f"{levels('ck_uln', lambda v: f'{v:g}')} U/l (assumed: the paper prints none); a "
            f"missing baseline CK (with an abnormal follow-up CK) "
            f"{levels('ck_missing_baseline', _missing_text, ' or ')}; a missing follow-up CK "
            f"{levels('ck_missing_followup', _missing_text, ' or ')}; a missing FVC, TLC or "
            f"DLCO {levels('pft_missing', pft, ' or ')}")


def range_rows(sweep: pd.DataFrame) -> pd.DataFrame:
    grid = sweep[sweep["in_grid"].astype(bool)]
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    rows = [("Conventional responders", "conv_responders", 0),
            ("Conventional response, %", "conv_pct", 1),
            ("PM-ILD response, %", "pm_pct", 1), ("DM-ILD response, %", "dm_pct", 1),
            ("PM minus DM, percentage points", "pm_dm_diff", 1),
            ("PM vs DM, two-sided Fisher p", "pm_dm_p", 3),
            ("Myositis type (Table 2), its test of the row, p", "myositis_p", 3),
            ("Patients analysed for tacrolimus", "tac_n", 0),
            ("Response to tacrolimus, %", "tac_pct", 1),
            ("FVC at tacrolimus start, responders minus non-responders", "fvc_diff", 1),
            ("FVC, Table 3 test p", "fvc_p", 3),
            ("TLC at tacrolimus start, responders minus non-responders", "tlc_diff", 1),
            ("TLC, Table 3 test p", "tlc_p", 3)]
    out = []
    for label, column, digits in rows:
        values = grid[column].astype(float)
        out.append({"Result": label, "Reference": format_value(ref[column], digits),
                    "Minimum": format_value(values.min(), digits),
                    "Median": format_value(values.median(), digits),
                    "Maximum": format_value(values.max(), digits)})
    return pd.DataFrame(out)


def bootstrap_rows(boot: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for rec in boot.to_dict("records"):
        if rec["quantity"].endswith("_pct") and not pd.isna(rec["denominator"]):
            estimate = (f"{format_value(rec['estimate'])} ({int(rec['numerator'])}/"
                        f"{int(rec['denominator'])})")
        elif rec["quantity"] in ("fvc_diff", "tlc_diff") and not pd.isna(rec["numerator"]):
            estimate = (f"{format_value(rec['estimate'])} (n = {int(rec['numerator'])} vs "
                        f"{int(rec['denominator'])})")
        else:
            estimate = format_value(rec["estimate"])
        rows.append({"Quantity": rec["label"], "Estimate": estimate,
                     "95% CI": f"{format_value(rec['ci_low'])} to {format_value(rec['ci_high'])}",
                     "Resampled": rec["resampling"]})
    return pd.DataFrame(rows)


def conclusion_rows(claims: pd.DataFrame, label: str = "paper's definition") -> pd.DataFrame:
    """The conclusions (:func:`analysis.sensitivity.conclusions`) as a table: the share plot's
    name, where the paper states it, the share of the grid where it holds, and whether it holds
    under the reference definition, with its numbers (as the section's sentences say them)."""
    from analysis.sensitivity import _share_text as share_text  # the sentences' rule

    return pd.DataFrame({
        "Conclusion": [CONCLUSION_LABELS.get(c, c).replace("\n", " ")
                       for c in claims["conclusion"]],
        "Where the paper states it": claims["source"],
        "Supported in": [f"{share_text(int(k), int(n))} ({int(k):,} of {int(n):,})" for k, n in
                         zip(claims["n_holds"], claims["n_definitions"], strict=True)],
        f"Under {_the(label)}": [f"{v}: {d}" for v, d in zip(
            claims["reference_verdict"], claims["reference_detail"], strict=True)]})


def sensitivity_markdown(sweep: pd.DataFrame, claims: pd.DataFrame, boot: pd.DataFrame,
                         label: str = "paper's definition", alpha: float = 0.05) -> str:
    """The report section (``tables/sensitivity.md``), every number generated.

    Parameters
    ----------
    sweep, claims, boot : from :mod:`analysis.sensitivity`'s ``sweep``, ``conclusions`` and
        ``bootstrap``.
    label : how the reference definition is named (``analysis.sensitivity.reference_label``).
    alpha : the significance level of :func:`analysis.sensitivity.conclusions` (for the prose).

    Returns
    -------
    str
        Markdown: a level-1 heading, prose, one bullet per conclusion, a table of ranges
        (``{#tbl-sens-range}``), the bootstrap table (``{#tbl-bootstrap}``) and the figures
        (``![...](figures/<stem>.png){#fig-sens-...}``, paths relative to the run folder).
    """
    from analysis.report.markdown import markdown_table

    grid = sweep[sweep["in_grid"].astype(bool)]
    n = len(grid)
    resamples = int(boot["n_resamples"].iloc[0]) if len(boot) else 0
    seed = int(boot["seed"].iloc[0]) if len(boot) else 0
    captions = figure_captions(sweep, label)
    parts = [
        "# Sensitivity of the conclusions to the definitions",
        "",
        f"The paper fixes one definition of response. This section recomputes the numbers "
        f"behind its conclusions under each of {n} definitions: every combination of "
        f"{_grid_description(sweep)}. Everything else (eligibility, time points, tests) is "
        f"as in this run. The tacrolimus group changes with the definition: it is the "
        f"patients who failed conventional treatment under that definition and received "
        f"tacrolimus with sufficient data. Each conclusion is judged in each definition by "
        f"the rule stated in the Methods (significance level {alpha:g}), the same rule as "
        f"the table of conclusions; the conclusions that rest on every row of Table 2 or on "
        f"the dose tapers are judged by a run, not over the grid. The data are synthetic: "
        f"the shares describe how much the conclusions depend on the definitions, not how "
        f"real patients would respond.",
        "",
        *[f"- {s}" for s in claims["sentence"]],
        "",
        markdown_table(range_rows(sweep),
                       f"Results across the {n} definitions of the grid, and under "
                       f"{_the(label)} (Reference)", "tbl-sens-range").rstrip("\n"),
        "",
        markdown_table(bootstrap_rows(boot),
                       f"Bootstrap 95% confidence intervals under {_the(label)} (percentile "
                       f"method, {resamples} resamples, seed {seed}); rates in %, differences in "
                       "percentage points or % predicted", "tbl-bootstrap",
                       text_columns=("Resampled",)).rstrip("\n"),
        "",
    ]
    for stem, (_, fig_label) in FIGURES.items():
        parts += [f"![{captions[stem]}.](figures/{stem}.png){{#{fig_label} "
                  f'fig-alt="{FIGURE_ALT[stem]}."}}', ""]
    return "\n".join(parts)




def save_sensitivity(run_dir: str | Path, sweep: pd.DataFrame, claims: pd.DataFrame,
                     boot: pd.DataFrame, label: str = "paper's definition",
                     alpha: float = 0.05, figures: str = "report") -> list[Path]:
    """Write ``tables/sensitivity.csv`` (the full grid, numeric), ``tables/sensitivity.md``
    (the report section), ``tables/sensitivity_conclusions.csv``,
    ``tables/sensitivity_bootstrap.csv`` and ``figures/sensitivity_*.png`` (``figures``:
    which files of each figure, :data:`analysis.report.style.FIGURE_SETS`)."""
    from analysis.files import write_atomic as write_text
    from analysis.report.style import save_figure

    run_dir = Path(run_dir)
    tables = run_dir / "tables"

    def csv(frame: pd.DataFrame) -> str:
        return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")

    paths = [write_text(tables / "sensitivity.csv", csv(sweep)),
             write_text(tables / "sensitivity_conclusions.csv", csv(claims)),
             write_text(tables / "sensitivity_bootstrap.csv", csv(boot)),
             write_text(tables / "sensitivity.md",
                        sensitivity_markdown(sweep, claims, boot, label, alpha))]
    for stem, figure in sensitivity_figures(sweep, claims, label).items():
        paths += save_figure(figure, run_dir / "figures", stem, figures)
    return paths
