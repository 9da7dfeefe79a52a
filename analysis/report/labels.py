"""Reader-facing names of parameters, their values and the tables' rows (issue 25).

A reader of the report is a clinician, not the code's author: no field name (``ck_uln``,
``categorical_tests.t2.race``) or column code (``mi2``) appears before the appendices. The
words live where the things are declared: a parameter's label and its values in words in
:data:`analysis.params.LABELS` and :data:`analysis.params.VALUE_WORDS` (beside its meaning and
allowed values), a row of Tables 1-3 in :mod:`analysis.paper.rows`, a column of the export in
the codebook. This module only looks them up and prints a value the way the report does
(a fraction as a percentage, a CK limit in U/l).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from analysis.paper.rows import BY_KEY
from analysis.params import LABELS, MAPPINGS, VALUE_WORDS, Params

__all__ = ["parameter_label", "parameter_value", "parameter_change", "row_label",
           "words_in_text", "dose_label", "DOSE_COHORTS", "DOSE_POINTS", "DOSE_STATS",
           "DOSE_DRUGS"]

_TABLES = {"t1": "Table 1", "t2": "Table 2", "t3": "Table 3"}

#: The parts of a dose key (``dose.<cohort>.<drug>.<time point>.<statistic>``, the dose
#: tapers of the Results) in words: the provenance cards and a variant's changed numbers.
DOSE_COHORTS = {"conv_resp": "patients who responded to conventional treatment",
                "conv_fail": "patients who failed conventional treatment",
                "conv": "patients given conventional treatment",
                "tac": "patients analysed for tacrolimus"}
DOSE_POINTS = {"baseline": "baseline", "m6_12": "6-12 months", "start": "tacrolimus start",
               "m3_6": "3-6 months", "y1": "1 year"}
DOSE_STATS = {"mean": "mean daily dose (mg)", "sd": "SD of the daily dose (mg)",
              "n": "patients with a dose", "pct_change": "percent decrease of the mean dose "
              "from the first time point", "p": "p-value of the paired t test against the "
              "first time point", "change": "mean paired change (mg)",
              "change_low": "mean paired change, 95% CI low (mg)",
              "change_high": "mean paired change, 95% CI high (mg)",
              "resp_mean": "mean daily dose of the responders (mg)",
              "resp_n": "responders with a dose",
              "fail_mean": "mean daily dose of the failures (mg)",
              "fail_n": "failures with a dose",
              "p_between": "p-value of responders against failures",
              "discontinued": "patients who stopped the drug",
              "started": "patients who started the drug",
              "modal_dose": "most common daily dose (mg)",
              "modal_n": "patients on the most common dose"}
DOSE_DRUGS = {"prednisone": "Prednisone", "aza": "Azathioprine", "mtx": "Methotrexate",
              "mmf": "Mycophenolate mofetil"}


def dose_label(key: str) -> str:
    """A dose key in words (the key itself when it is not one).

    >>> dose_label("dose.tac.aza.m3_6.mean")
    'Azathioprine, patients analysed for tacrolimus, 3–6 months: mean daily dose (mg)'
    >>> dose_label("dose.tac.aza.discontinued")
    'Azathioprine, patients analysed for tacrolimus: patients who stopped the drug'
    """
    from analysis.format import en_dash_ranges

    parts = key.split(".")
    if parts[0] != "dose" or len(parts) < 4 or parts[1] not in DOSE_COHORTS:
        return key
    drug = DOSE_DRUGS.get(parts[2], parts[2])
    stat = DOSE_STATS.get(parts[-1], parts[-1])
    where = f", {DOSE_POINTS.get(parts[3], parts[3])}" if len(parts) > 4 else ""
    return en_dash_ranges(f"{drug}, {DOSE_COHORTS[parts[1]]}{where}: {stat}")
_UNITS = {f.name: f.metadata["unit"] for f in dataclasses.fields(Params)}


def row_label(key: str, table: str = "t2") -> str:
    """A row of Tables 1-3 by its key, as the table prints it (Tables 2 and 3 where their
    label differs from Table 1's).

    >>> row_label("mi2"), row_label("age"), row_label("age", "t1")
    ('Mi-2', 'Age at onset of myositis, yrs', 'Age at onset, yrs')
    """
    spec = BY_KEY.get(key)
    if spec is None:
        return key
    return spec.t2_label if table != "t1" and spec.t2_label else spec.label


def parameter_label(name: str) -> str:
    """A parameter (or one entry of a mapping parameter, ``categorical_tests.t2.race``) in
    words.

    >>> parameter_label("fvc_decline"), parameter_label("categorical_tests.t2.race")
    ('FVC decline', 'Test of the Race row of Table 2')
    >>> parameter_label("sensitivity_grid.ck_uln"), parameter_label("ck_missing_baseline")
    ('Grid of the sensitivity analysis: CK upper limit of normal', 'A missing baseline CK')
    """
    field, _, entry = name.partition(".")
    if field not in LABELS:
        return name
    if not entry:
        return LABELS[field]
    if field == "sensitivity_grid":
        return f"{LABELS[field]}: {parameter_label(entry)}"
    table, _, row = entry.partition(".")
    if field in ("categorical_tests", "continuous_tests") and table in _TABLES:
        return f"Test of the {row_label(row, table)} row of {_TABLES[table]}"
    return f"{LABELS[field]}, {entry}"


def parameter_value(name: str, value: Any) -> str:
    """A parameter's value as the report prints it: coded values in words, fractions as
    percentages, units where the parameter has one.

    >>> parameter_value("fvc_decline", 0.05), parameter_value("ck_uln", 200.0)
    ('5%', '200 U/l')
    >>> parameter_value("ck_missing_baseline", "not_met"), parameter_value("age_rule", ">")
    ('meeting no criterion', 'older than the minimum age')
    >>> parameter_value("categorical_tests.t2.race", "chi2"), parameter_value("alpha", 0.05)
    ('Pearson chi-square', '0.05')
    >>> parameter_value("ild_criteria_required", 3), parameter_value("pft_missing", "met")
    ('3 of 4', 'counted as a decline')
    >>> parameter_value("ck_uln", 150.0)
    '150 U/l'
    """
    field = name.partition(".")[0]
    words = VALUE_WORDS.get(field, {})
    if isinstance(value, (list, tuple)):
        return ", ".join(parameter_value(name.partition(".")[2] or name, v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value in words:
        return words[value]
    if field in MAPPINGS or not isinstance(value, (int, float)):
        return str(value)
    unit = _UNITS.get(field, "")
    if unit == "fraction":
        return f"{100 * float(value):g}%"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit and unit != "fraction" else text


def parameter_change(name: str, old: Any, new: Any) -> str:
    """A changed parameter in words, as the variant report's heading lines print it.

    >>> parameter_change("fvc_decline", 0.10, 0.05)
    'FVC decline 10% → 5%'
    """
    return f"{parameter_label(name)} {parameter_value(name, old)} → {parameter_value(name, new)}"


def words_in_text(name: str, text: str) -> str:
    """A sentence written for the parameter's documentation (which quotes coded values:
    ``'not_met'``) with each quoted value of ``name`` in words.

    >>> words_in_text("pft_missing", "not in the paper; 'not_met': a missing value meets no "
    ...               "criterion")
    'not in the paper; “meeting no criterion”: a missing value meets no criterion'
    """
    for code, words in VALUE_WORDS.get(name.partition(".")[0], {}).items():
        text = text.replace(f"'{code}'", f"“{words}”")
    return text
