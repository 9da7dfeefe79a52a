"""The report's section on predictors of failure (issue 16): ``tables/predictors.md`` (+ CSV)
and the forest plot ``figures/predictors_forest.png``; numbers from :mod:`analysis.predictors`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.effects import not_estimable_text
from analysis.files import write_atomic
from analysis.format import format_p, p_clause
from analysis.report.markdown import markdown_table
from analysis.report.style import new_figure, palette, save_figure, style_context

__all__ = ["METHODS", "FOREST_PADDING", "format_or", "forest_limits", "forest_plot",
           "predictor_rows", "predictors_markdown", "save_predictors"]

METHODS = {"ml": "ML, Wald CI", "firth": "Firth, profile penalised likelihood CI"}


def format_or(value: float, low: float, high: float) -> str:
    """``3.51 (1.13 to 11.74)``; infinite limits print as ∞.

    >>> format_or(3.514, 1.128, math.inf)
    '3.51 (1.13 to ∞)'
    """
    def one(v: float) -> str:
        return "∞" if math.isinf(v) else f"{v:.2f}"

    if math.isnan(value):  # no estimate; predictors_markdown prints the reason instead
        return "not estimable"
    return f"{one(value)} ({one(low)} to {one(high)})"


def _not_estimable(method: str) -> bool:
    return method.startswith("not estimable")


def _or_cell(rec: dict) -> str:
    """The odds ratio column: the estimate with its CI, or "not estimable (k events)"."""
    if _not_estimable(rec["method"]):
        return rec["method"]
    return format_or(rec["or"], rec["or_low"], rec["or_high"])


#: How far the axis of :func:`forest_plot` reaches beyond the smallest and largest odds
#: ratio (a factor), before it is widened to a 1-2-5 value; interval ends beyond it are
#: drawn to the edge with an arrow (issue 25: Firth upper limits of 830 and 1568 stretched
#: the axis to 10^3, so that every other interval was a dot).
FOREST_PADDING = 4.0


def _nice(value: float, up: bool) -> float:
    """The nearest 1, 2 or 5 times a power of ten at or beyond ``value`` (up or down).

    >>> _nice(39.2, True), _nice(0.032, False), _nice(1.0, True)
    (50.0, 0.02, 1.0)
    """
    exponent = math.floor(math.log10(value))
    steps = [m * 10.0 ** e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    return (min(s for s in steps if s >= value * (1 - 1e-9)) if up
            else max(s for s in steps if s <= value * (1 + 1e-9)))


def forest_limits(odds_ratios: Sequence[float]) -> tuple[float, float]:
    """The forest plot's axis: every finite odds ratio and 1, padded by
    :data:`FOREST_PADDING` on each side and widened to a 1-2-5 value.

    >>> forest_limits([0.129, 0.8, 9.8])
    (0.02, 50.0)
    >>> forest_limits([1.2])
    (0.2, 5.0)
    """
    finite = [v for v in odds_ratios if math.isfinite(v) and v > 0] + [1.0]
    return (_nice(min(finite) / FOREST_PADDING, up=False),
            _nice(max(finite) * FOREST_PADDING, up=True))


def _plain(value: float, _pos: object = None) -> str:
    """A tick label without exponent notation: 0.1, 1, 10 (never 10⁻¹).

    >>> [_plain(v) for v in (0.01, 0.5, 1.0, 20.0, 100.0)]
    ['0.01', '0.5', '1', '20', '100']
    """
    return f"{value:.10g}"


def forest_plot(frame: pd.DataFrame):
    """Odds ratios of failure with 95% CIs on a log axis, one line per term, method marked
    (filled circle: ML; open square: Firth), in a legend; a term with no estimate keeps its
    line, with the reason written where the estimate would be ("not estimable (1 event)").

    The axis (:func:`forest_limits`) covers every odds ratio with room on either side; an
    interval that reaches beyond it is drawn to the edge and ends in an arrowhead. Ticks are
    1-2-5 values printed plainly (0.1, 1, 10). The figure carries no title: the document's
    caption says what it shows."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    colours = palette()
    rows = frame.iloc[::-1].reset_index(drop=True)
    shown = [not _not_estimable(m) for m in rows["method"]]
    lo_clip, hi_clip = forest_limits(rows.loc[shown, "or"].astype(float).tolist())
    clipped = False
    with style_context():
        fig = new_figure((6.5, 0.26 * len(rows) + 1.3), layout="constrained")
        ax = fig.add_subplot()
        for i, rec in rows.iterrows():
            if _not_estimable(rec["method"]) or not (math.isfinite(rec["or"]) and rec["or"] > 0):
                ax.text(1.0, i, rec["method"], ha="center", va="center", fontsize=7,
                        fontstyle="italic", color="0.35", zorder=3,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
                continue
            firth = rec["method"] == "firth"
            colour = colours[1 if firth else 0]
            low = max(rec["or_low"], lo_clip) if math.isfinite(rec["or_low"]) else lo_clip
            high = min(rec["or_high"], hi_clip)
            ax.plot([low, high], [i, i], color=colour, linewidth=1.2)
            for beyond, edge, marker in ((rec["or_low"] < lo_clip, lo_clip, "<"),
                                         (rec["or_high"] > hi_clip, hi_clip, ">")):
                if beyond:
                    ax.plot([edge], [i], marker=marker, color=colour, markersize=5,
                            markeredgewidth=0, clip_on=False)
                    clipped = True
            ax.plot([rec["or"]], [i], marker="s" if firth else "o",
                    markerfacecolor="white" if firth else colour, color=colour,
                    markersize=4.5)
        ax.axvline(1.0, color="0.5", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_xlim(lo_clip, hi_clip)
        ticks = [m * 10.0 ** e for e in range(-6, 7) for m in (1, 2, 5)
                 if lo_clip <= m * 10.0 ** e <= hi_clip]
        decades = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
        ax.xaxis.set_major_locator(FixedLocator(decades if len(decades) >= 3 else ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(_plain))
        ax.xaxis.set_minor_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_formatter(FuncFormatter(_plain) if len(decades) < 3
                                     else NullFormatter())
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_yticks(np.arange(len(rows)), rows["term"].tolist())
        ax.set_xlabel("Odds ratio of failure (95% CI, log scale)")
        handles = [Line2D([], [], color=colours[0], marker="o", linewidth=1.2, markersize=4.5,
                          label="Maximum likelihood"),
                   Line2D([], [], color=colours[1], marker="s", markerfacecolor="white",
                          linewidth=1.2, markersize=4.5, label="Firth-penalised")]
        if clipped:
            handles.append(Line2D([], [], color="0.3", marker=">", linestyle="none",
                                  markersize=5, markeredgewidth=0,
                                  label="Interval continues beyond the axis"))
        fig.legend(handles=handles, loc="outside upper center", ncols=len(handles),
                   fontsize=7.5, frameon=False)
    return fig


def _method(rec: dict, terms: int = 1, min_events: int = 0) -> str:
    """The Method column; a model with no estimate says what it lacked."""
    method = rec["method"]
    if not _not_estimable(method):
        return METHODS.get(method, method)
    if method == not_estimable_text(rec["events"]) and rec["n"]:
        return f"none: fewer than {min_events * terms} events ({min_events} per term)"
    return "none: " + method.removeprefix("not estimable (").removesuffix(")")


def _dm_sentence(frame: pd.DataFrame) -> str:
    rows = frame[frame["term"] == "Dermatomyositis vs Polymyositis"]
    if rows.empty or not math.isfinite(rows["or"].iloc[0]):
        why = rows["method"].iloc[0] if len(rows) else "no patient with DM or PM"
        return f"Odds of failure, dermatomyositis vs polymyositis: {why}."
    dm = rows.iloc[0]
    interval = format_or(dm["or"], dm["or_low"], dm["or_high"]).split("(")[1].rstrip(")")
    return (f"Odds of failure, dermatomyositis vs polymyositis: odds ratio {dm['or']:.2f} "
            f"(95% CI {interval}; {_method(dm)}; {p_clause(dm['p'])}), in the model "
            "with CADM as a third category.")


def _forest_alt(frame: pd.DataFrame) -> str:
    """The forest plot's alt text (Quarto's ``fig-alt``): what :func:`forest_plot` draws, in
    words, for screen readers and Word; the numbers are in the table above it. Without it
    Quarto gives the figure no alt text at all (/work/shared/QUARTO.md, defect 6)."""
    shown = [not _not_estimable(m) for m in frame["method"]]
    low, high = forest_limits(frame.loc[shown, "or"].astype(float).tolist())
    return (f"Forest plot of {len(frame)} odds ratios of failure of conventional treatment, "
            "one row per characteristic, in the order of the table above: each a point (a "
            "filled circle for an ordinary fit, an open square for a Firth-penalised one) on a "
            "horizontal line for its 95% confidence interval, on a logarithmic axis from "
            f"{_plain(low)} to {_plain(high)} with a dashed vertical line at 1 (no "
            "association); an interval reaching beyond the axis ends in an arrowhead; points "
            "right of the line mean higher odds of failure.")


def predictor_rows(frame: pd.DataFrame, min_events: int) -> pd.DataFrame:
    """The univariable odds ratios (:func:`analysis.predictors.univariable`) as the report's
    table prints them: characteristic, method, n (failures), OR (95% CI), p; a model with
    fewer than ``min_events`` events per term reads "not estimable (k events)" (issue 21)."""
    terms = frame.groupby("variable")["term"].transform("size") if len(frame) else []
    records = frame.to_dict("records")
    return pd.DataFrame({
        "Characteristic": frame["term"],
        "Method": [_method(r, t, min_events)
                   for r, t in zip(records, terms, strict=True)],
        "n (failures)": [
            f"{n} ({f})" for n, f in zip(frame["n"], frame["failures"], strict=True)],
        "OR of failure (95% CI)": [_or_cell(r) for r in records],
        "p": [format_p(p) for p in frame["p"]]})


def predictors_markdown(frame: pd.DataFrame, exploratory: pd.DataFrame,
                        min_events: int) -> str:
    """Heading, the PM-vs-DM sentence, the table of odds ratios, the figure and the
    exploratory two-predictor model; every number from ``frame`` and ``exploratory``. A
    model with fewer than ``min_events`` events per term (``Params.min_events_per_term``), or
    that cannot be fitted (a characteristic nobody has), shows no odds ratio and no p:
    "not estimable (k events)" and what it lacked (issue 21)."""
    shown = predictor_rows(frame, min_events)
    explo = pd.DataFrame({
        "Term": exploratory["term"],
        "OR of failure (95% CI)": [_or_cell(r) for r in exploratory.to_dict("records")],
        "p": [format_p(p) for p in exploratory["p"]]})
    firth_terms = ", ".join(frame.loc[frame["method"] == "firth", "term"]) or "none"
    n_explo = int(exploratory["n"].iloc[0]) if len(exploratory) else 0
    failures_explo = int(exploratory["failures"].iloc[0]) if len(exploratory) else 0
    return "\n".join([
        "## Predictors of failure of conventional treatment", "",
        "The paper's title question, answered with odds ratios rather than p-values: a "
        "univariable logistic regression of failure of conventional treatment on each "
        "characteristic of Table 2 (included patients, complete cases). Where a cell of the "
        "characteristic's table is zero (a category in which nobody, or everybody, failed), "
        "ordinary maximum likelihood (ML) has no finite estimate; those models use Firth's "
        "penalised likelihood (Firth 1993) with profile penalised likelihood intervals and "
        "tests (Heinze & Schemper 2002), named in the table's Method column "
        f"(here: {firth_terms}). ML rows give Wald intervals and tests. A model resting on "
        f"fewer than {min_events} events per term (events: failures or responders, whichever "
        "are fewer) gives no odds ratio and no p-value, by either method: its row reads "
        "\"not estimable\" with the number of events. With so few events the estimate and "
        "its interval are unreliable (Vittinghoff & McCulloch 2007: problems frequent "
        "below 5 events per term; Peduzzi et al. 1996 ask for 10).", "",
        _dm_sentence(frame), "",
        markdown_table(shown, "Univariable odds ratios of failure of conventional treatment "
                       "(OR > 1: higher odds of failure)", "tbl-predictors", left_columns=3),
        "![Odds ratios of failure of conventional treatment with 95% CIs, one univariable "
        "model per characteristic; open squares are Firth-penalised fits (a zero cell).]"
        f'(figures/predictors_forest.png){{#fig-predictors fig-alt="{_forest_alt(frame)}"}}',
        "",
        f"*Exploratory only* ({n_explo} patients, {failures_explo} failures among the "
        "complete cases: no more than two predictors; not a validated prediction model): "
        "myositis type and FVC together, Firth-penalised.", "",
        markdown_table(explo, "EXPLORATORY two-predictor model of failure (Firth)",
                       "tbl-predictors-exploratory"),
    ])


def save_predictors(run_dir: Path, frame: pd.DataFrame, exploratory: pd.DataFrame,
                    min_events: int, figures: str = "report") -> list[Path]:
    """Write ``tables/predictors.csv``, ``tables/predictors.md`` and the forest plot;
    ``min_events``: the run's ``min_events_per_term``, stated in the section; ``figures``:
    the plot's files (:data:`analysis.report.style.FIGURE_SETS`)."""
    run_dir = Path(run_dir)
    csv_text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    paths = [write_atomic(run_dir / "tables" / "predictors.csv", csv_text),
             write_atomic(run_dir / "tables" / "predictors.md",
                          predictors_markdown(frame, exploratory, min_events))]
    return paths + save_figure(forest_plot(frame), run_dir / "figures", "predictors_forest",
                                 figures)
