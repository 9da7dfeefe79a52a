"""The report's effect-size section (issue 16): ``tables/effects.md``, included after Table 3.

Numbers come from :mod:`analysis.effects` and the effect columns of Tables 2 and 3
(:func:`analysis.tables.add_effects`); this module only lays them out: the PM-vs-DM sentence
with its effect and CI, one table row per p-value of Tables 2 and 3, and the mean paired dose
changes. The dose changes' numbers are also written as ``tables/dose_changes.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.effects import enough_events, not_estimable_text
from analysis.files import write_atomic
from analysis.format import format_number, format_p_against, not_computable, p_clause
from analysis.paper.claims import BY_ID, Measure, direction_word
from analysis.paper.rows import ROWS
from analysis.report.markdown import markdown_table

#: A categorical row's heading (Cramér's V describes the whole row, not a level).
ROW_LABELS = {row.key: row.label for row in ROWS}

__all__ = ["MEASURE_NAMES", "CI_NAMES", "effect_rows", "pm_dm_sentence", "dose_rows",
           "effects_markdown", "save_effects"]

MEASURE_NAMES = {"prop_diff": "Difference, percentage points", "cramers_v": "Cramér's V",
                 "hl_shift": "Hodges-Lehmann shift"}
CI_NAMES = {"newcombe_wilson": "Newcombe score", "noncentral_chi2": "noncentral chi-square",
            "moses_mann_whitney": "Moses (Mann-Whitney)", "exact_conditional": "exact conditional",
            "noncentral_chi2_empty": "none: counts closer to no association than chance "
            "would give", "not_estimable": "not estimable"}


def _num(value: float, decimals: int) -> str:
    if value is not None and not pd.isna(value) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return format_number(value, decimals)  # a true minus sign (report.format)


def _ci(low: float, high: float, decimals: int, scale: float = 1.0) -> str:
    return f"{_num(low * scale, decimals)} to {_num(high * scale, decimals)}"


def _with_ci(est: float, low: float, high: float, decimals: int, scale: float = 1.0) -> str:
    if pd.isna(est):
        return "N/A"
    text = _num(est * scale, decimals)
    if pd.isna(low):
        return text
    return f"{text} ({_ci(low, high, decimals, scale)})"


def _odds_ratio(rec: dict, min_events: int) -> str:
    """A 2 x 2 row's odds ratio with its exact CI, or "not estimable (k events)" where the
    smaller group (the less frequent outcome) has fewer than ``min_events`` patients
    (:func:`analysis.effects.enough_events`, one term)."""
    events = int(min(rec["n_resp"], rec["n_nonresp"]))
    if not enough_events(events, 1, min_events):
        return not_estimable_text(events)
    return _with_ci(rec["odds_ratio"], rec["or_low"], rec["or_high"], 2)


def effect_rows(frame: pd.DataFrame, min_events: int, alpha: float = 0.05) -> pd.DataFrame:
    """One row per effect of a Table 2 or 3 frame (the rows with ``effect_measure``); an odds
    ratio from fewer than ``min_events`` events prints as not estimable (issue 21); p as the
    table prints it (the digits that show which side of ``alpha`` it lies, issue 25)."""
    rows = []
    for rec in frame[frame["effect_measure"] != ""].to_dict("records"):
        measure = rec["effect_measure"]
        label = ROW_LABELS[rec["variable"]] if measure == "cramers_v" else rec["label"]
        scale, decimals = (100.0, 1) if measure == "prop_diff" else (1.0, 2 if measure ==
                                                                      "cramers_v" else 1)
        p = frame.loc[frame["variable"] == rec["variable"], "p"].iloc[0]
        rows.append({
            "Characteristic": label, "Measure": MEASURE_NAMES[measure],
            "Interval": CI_NAMES.get(rec["effect_ci"], rec["effect_ci"]),
            "Estimate (95% CI)": _with_ci(rec["effect"], rec["effect_low"], rec["effect_high"],
                                          decimals, scale),
            "Odds ratio (exact 95% CI)": (_odds_ratio(rec, min_events)
                                          if measure == "prop_diff" else ""),
            "p": format_p_against(p, alpha)})
    return pd.DataFrame(rows)


def pm_dm_sentence(pm_dm: dict[str, float], p_2x2: float, min_events: int,
                   alpha: float = 0.05) -> str:
    """The PM-vs-DM claim with its effect and CI (Sharma 2017, Results: 67% vs 35%); with no
    PM or no DM patient, the comparison is stated as not computable (issue 13); the odds
    ratio from fewer than ``min_events`` events (responders or failures among PM and DM,
    whichever are fewer) as not estimable (issue 21)."""
    if not (pm_dm["pm_n"] and pm_dm["dm_n"]):
        return ("PM vs DM response to conventional treatment: "
                f"{not_computable(pm_dm['pm_n'], pm_dm['dm_n'], need=1)}.")
    pm_pct = 100 * pm_dm["pm_resp"] / pm_dm["pm_n"]
    dm_pct = 100 * pm_dm["dm_resp"] / pm_dm["dm_n"]
    responders = pm_dm["pm_resp"] + pm_dm["dm_resp"]
    events = int(min(responders, pm_dm["pm_n"] + pm_dm["dm_n"] - responders))
    diff_excludes = pm_dm["diff_low"] > 0 or pm_dm["diff_high"] < 0
    # the direction in the words of the paper's claim, from this run's difference (issue 21)
    word = direction_word(BY_ID["pm_vs_dm"], Measure(estimate=float(pm_dm["diff"])))
    if not enough_events(events, 1, min_events):
        return (f"Patients with PM responded to conventional treatment {word} "
                f"patients with DM: {pm_dm['pm_resp']} of {pm_dm['pm_n']} ({pm_pct:.0f}%) vs "
                f"{pm_dm['dm_resp']} of {pm_dm['dm_n']} ({dm_pct:.0f}%), a difference of "
                f"{_num(100 * pm_dm['diff'], 1)} percentage points (95% CI "
                f"{_ci(pm_dm['diff_low'], pm_dm['diff_high'], 1, 100)}, Newcombe score "
                f"interval); the odds ratio is {not_estimable_text(events)}; Fisher's exact "
                f"test, two-sided, {p_clause(p_2x2, alpha)}.")
    or_excludes = pm_dm["or_low"] > 1 or pm_dm["or_high"] < 1
    text = (f"Patients with PM responded to conventional treatment {word} patients "
            f"with DM: {pm_dm['pm_resp']} of {pm_dm['pm_n']} ({pm_pct:.0f}%) vs "
            f"{pm_dm['dm_resp']} of {pm_dm['dm_n']} ({dm_pct:.0f}%), a difference of "
            f"{_num(100 * pm_dm['diff'], 1)} percentage points (95% CI "
            f"{_ci(pm_dm['diff_low'], pm_dm['diff_high'], 1, 100)}, Newcombe score interval) "
            f"and an odds ratio of {_num(pm_dm['or'], 2)} (exact conditional 95% CI "
            f"{_ci(pm_dm['or_low'], pm_dm['or_high'], 2)}); Fisher's exact test, two-sided, "
            f"{p_clause(p_2x2, alpha)}.")
    if diff_excludes != or_excludes:
        text += (" The score interval of the difference and the exact interval of the odds "
                 "ratio disagree on whether no difference is excluded: the evidence is "
                 "borderline, and the exact (conservative) interval is the safer reading.")
    elif not diff_excludes:
        text += " Both intervals include no difference."
    return text


def dose_rows(changes: pd.DataFrame) -> pd.DataFrame:
    """The mean paired dose changes (:func:`analysis.effects.dose_changes`) for display."""
    cohorts = {"conv_resp": "Conventional responders", "conv_fail": "Conventional failures",
               "tac": "Tacrolimus"}
    points = {"m6_12": "6\u201312 months", "m3_6": "3\u20136 months", "y1": "1 year"}
    drugs = {"prednisone": "Prednisone", "aza": "AZA", "mtx": "MTX", "mmf": "MMF"}
    return pd.DataFrame([{
        "Patients": cohorts[r["cohort"]], "Drug": drugs[r["drug"]],
        "From first time point to": points[r["timepoint"]], "n": str(int(r["n_pairs"])),
        "Mean change, mg (95% CI)": _with_ci(r["change"], r["change_low"], r["change_high"], 1),
    } for r in changes.to_dict("records")])


def effects_markdown(table2: pd.DataFrame, table3: pd.DataFrame, pm_dm: dict[str, float],
                     p_2x2: float, changes: pd.DataFrame, min_events: int,
                     alpha: float = 0.05) -> str:
    """The section: heading, PM-vs-DM sentence, the effects of Tables 2-3, the dose changes;
    ``min_events``: the run's ``min_events_per_term`` (odds ratios from fewer events are not
    shown)."""
    parts = ["## Effect sizes with 95% confidence intervals", "",
             "The paper prints p-values only. Beside each p-value of Tables 2 and 3, this run "
             "estimates how large the difference is, with a 95% confidence interval "
             "(responders minus nonresponders). Two-category rows: difference in the "
             "percentage with the characteristic (Newcombe 1998 hybrid score interval) and the "
             "odds ratio (conditional maximum likelihood with the exact conditional interval, "
             "as Fisher's exact test; \"not estimable\" where the smaller group has fewer than "
             f"{min_events} patients, the minimum of the predictors section); rows of three or "
             "more categories: Cramér's V (0: no association, 1: complete) with a 95% "
             "interval from the chi-square test of independence (noncentral chi-square, "
             "Smithson 2003): its lower limit is 0 wherever that test finds no association; it "
             "relies on the chi-square approximation, rough for sparse tables (whose p is "
             "Fisher's exact test), so near 0.05 the two can disagree; "
             "continuous rows: the Hodges-Lehmann shift (median of all pairwise differences) "
             "with the Moses interval from the Mann-Whitney distribution, in the row's units; "
             "dose changes: the mean paired change with its t interval. p is the table's.",
             "", pm_dm_sentence(pm_dm, p_2x2, min_events, alpha), ""]
    parts.append(markdown_table(effect_rows(table2, min_events, alpha), "Effect sizes of Table 2 "
                                "(conventional responders minus failures), with 95% CIs",
                                "tbl-effects2", left_columns=3))
    parts.append(markdown_table(effect_rows(table3, min_events, alpha), "Effect sizes of Table 3 "
                                "(tacrolimus responders minus nonresponders), with 95% CIs",
                                "tbl-effects3", left_columns=3))
    parts.append(markdown_table(dose_rows(changes), "Mean paired dose change from the first "
                                "time point (negative: the dose fell), with t 95% CIs",
                                "tbl-dose-changes", left_columns=3))
    return "\n".join(parts)


def save_effects(run_dir: Path, table2: pd.DataFrame, table3: pd.DataFrame,
                 pm_dm: dict[str, float], p_2x2: float, changes: pd.DataFrame,
                 min_events: int, alpha: float = 0.05) -> list[Path]:
    """Write ``tables/effects.md`` and ``tables/dose_changes.csv``."""
    folder = Path(run_dir) / "tables"
    text = effects_markdown(table2, table3, pm_dm, p_2x2, changes, min_events, alpha)
    csv_text = changes.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return [write_atomic(folder / "effects.md", text),
            write_atomic(folder / "dose_changes.csv", csv_text)]
