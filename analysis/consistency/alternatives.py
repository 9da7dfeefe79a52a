"""The consistency verdicts under each alternative of the check assumptions (issue 22).

A verdict on a printed dose rests on the grid it is checked on: AZA in 25-mg steps, MTX at
most 30 mg a week, no more patients behind a follow-up mean than took the drug at tacrolimus
start (:mod:`analysis.paper.grids`; :class:`analysis.params.Params` ``check_aza_step``,
``check_mtx_cap``, ``check_followup_n``). :func:`alternative_verdicts` recomputes every
verdict with one of them changed and lists the printed numbers whose verdict changes; the
report's Assumptions section shows it (:func:`check_assumptions_markdown`). Pure functions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from analysis.consistency.engine import row_verdicts, verdicts
from analysis.paper.grids import DOSE_GRIDS, MIN_CORRELATION, MTX_WEEKLY_CAP
from analysis.params import Params

__all__ = ["ALTERNATIVES", "alternative_verdicts", "check_assumption_rows",
           "check_assumptions_markdown"]

#: Each check assumption, the value checked against its declared one, and both in words.
ALTERNATIVES: tuple[tuple[str, Any, str, str], ...] = (
    ("check_aza_step", 12.5, "AZA doses in 25-mg steps (whole and half 50-mg and 100-mg "
     "tablets)", "AZA doses in 12.5-mg steps (half a 75-mg tablet, 37.5 mg, allowed)"),
    ("check_mtx_cap", 0.0, f"MTX at most {MTX_WEEKLY_CAP.value:g} mg a week",
     "MTX without a weekly cap"),
    ("check_followup_n", "up_to_analysed", "n at follow-up at most n at tacrolimus start",
     "any of the patients analysed may have a follow-up dose"),
    ("check_min_correlation", -1.0, "a plausible within-patient correlation of the dose "
     "before and after (at least 0)", "any correlation from -1 to 1 (possible, however "
     "implausible)"),
)

#: Columns of :func:`alternative_verdicts`.
COLUMNS = ("parameter", "assumption", "alternative", "run_value", "alternative_value", "id",
           "class_run", "class_alternative", "condition_alternative")


def alternative_verdicts(published: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """Every printed number whose verdict changes when one check assumption changes.

    Parameters
    ----------
    published : pandas.DataFrame
        :func:`analysis.published.load_published`.
    params : analysis.params.Params, optional
        The run's parameters (default: the paper's). An assumption the run already sets to the
        alternative is compared with the declared value instead.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, one row per (assumption, printed number whose class changes),
        in the order of :data:`ALTERNATIVES`, then of id; an assumption that changes nothing
        has one row with an empty ``id``.
    """
    params = params or Params()
    base = row_verdicts(verdicts(published, params)).set_index("id")
    declared = Params()
    rows = []
    for name, alternative, run_words, alt_words in ALTERNATIVES:
        value = getattr(params, name)
        other = alternative if value != alternative else getattr(declared, name)
        if value == alternative:
            run_words, alt_words = alt_words, run_words
        alt = row_verdicts(verdicts(published, dataclasses.replace(params, **{name: other})))
        alt = alt.set_index("id")
        changed = [i for i in base.index if base.at[i, "class"] != alt.at[i, "class"]]
        head = {"parameter": name, "assumption": run_words, "alternative": alt_words,
                "run_value": value, "alternative_value": other}
        if not changed:
            rows.append({**head, "id": "", "class_run": "", "class_alternative": "",
                         "condition_alternative": ""})
        for ident in changed:
            rows.append({**head, "id": ident, "class_run": base.at[ident, "class"],
                         "class_alternative": alt.at[ident, "class"],
                         "condition_alternative": alt.at[ident, "condition"]})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def check_assumption_rows(table: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The verdicts that change under each alternative check assumption, in words (the
    Assumptions section's table; ``table``: :func:`alternative_verdicts`)."""
    labels = published.set_index("id")
    shown = []
    for rec in table.to_dict("records"):
        if not rec["id"]:
            shown.append({"Assumption → alternative": f"{rec['assumption']} → "
                          f"{rec['alternative']}", "Printed number": "no verdict changes",
                          "This run": "", "Alternative": ""})
            continue
        row = labels.loc[rec["id"]]
        alt = rec["class_alternative"] + (f" ({rec['condition_alternative']})"
                                          if rec["condition_alternative"] else "")
        shown.append({"Assumption → alternative": f"{rec['assumption']} → "
                      f"{rec['alternative']}",
                      "Printed number": f"{row['row_label']} ({row['printed']})",
                      "This run": rec["class_run"], "Alternative": alt})
    frame = pd.DataFrame(shown)
    frame["Assumption → alternative"] = frame["Assumption → alternative"].where(
        frame["Assumption → alternative"] != frame["Assumption → alternative"].shift(), "")
    return frame


def check_assumptions_markdown(table: pd.DataFrame, published: pd.DataFrame,
                               params: Params) -> str:
    """The Assumptions section's part on the consistency checks: the declared grids with their
    sources, this run's check parameters, and the verdicts that change under each
    alternative (``table``: :func:`alternative_verdicts`)."""
    from analysis.report.markdown import markdown_table

    grids = [f"- **{g.label}**: {g.unit}, multiples of {g.step:g} mg from {g.lo:g} to "
             f"{g.hi:g} mg; {g.source}." for g in DOSE_GRIDS.values()]
    grids.append(f"- **Methotrexate weekly cap**: {MTX_WEEKLY_CAP.value:g} mg a week; "
                 f"{MTX_WEEKLY_CAP.source}.")
    grids.append(f"- **Within-patient correlation of a dose before and after**: at least "
                 f"{MIN_CORRELATION.value:g} to be plausible (the printed means, SDs, percent "
                 f"decrease and p of a paired comparison together fix the correlation they "
                 f"need); {MIN_CORRELATION.source}.")
    from analysis.report.labels import parameter_label, parameter_value

    settings = ", ".join(f"{parameter_label(name).lower()}: "
                         f"{parameter_value(name, getattr(params, name))}"
                         for name, *_ in ALTERNATIVES)
    frame = check_assumption_rows(table, published)
    return "\n".join([
        "## Assumptions of the consistency checks", "",
        "The checks on the paper's printed numbers (Appendix B) ask whether a printed dose "
        "mean or SD can hold for real doses; that needs the grid the doses lie on, which the "
        "paper does not print. The grids are declared once, with their sources, and a verdict "
        "that rests on one names it (Appendix A, *impossible under an assumption*):", "",
        *grids, "",
        f"Each is a parameter (this run: {settings}). The table recomputes every verdict with "
        "one assumption changed and lists the printed numbers whose verdict changes.", "",
        markdown_table(frame, "Consistency verdicts that change under each alternative of the "
                       "check assumptions", left_columns=4).rstrip("\n"),
        "",
    ])
