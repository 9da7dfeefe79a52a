"""Dose tapers: prednisone after conventional treatment, prednisone and DMARDs after tacrolimus.

Sharma 2017, Results, *Change in the doses of DMARD*: mean (SD) daily doses at conventional
baseline and 6-12 months in responders and failures, compared with a paired t test and, at
6-12 months, between the groups; in the patients treated with tacrolimus, mean (SD) doses at
tacrolimus start, 3-6 months and 1 year, the percent decrease from the start and a paired t
test against the start, the commonest starting dose, the patients who stopped AZA and those who
started MMF. Statistical analysis: "paired Student t test".

Who is summarised (the paper prints no n for prednisone, so these are the readings chosen):

* Conventional cohorts (``conv_resp``, ``conv_fail``): included patients grouped by their
  conventional response, with a prednisone dose recorded at both ``conv_baseline`` and
  ``conv_6_12m`` (the paired test needs both; the paper's failures' p = 0.08 with a 13.5 mg
  fall is only possible with a few patients, so not every failure had both doses recorded).
* Tacrolimus cohort (``tac``): the analysed patients (``tac_analysed``) who were *taking* the
  drug at tacrolimus start (dose > 0), e.g. "11 patients were taking AZA". At each later time
  point n counts the patients with a recorded dose; a stopped drug is recorded as 0 mg and
  counts as 0 ("4 patients able to discontinue AZA entirely"; MMF "0 mg at 1 year").

All functions are pure: frames in, new frames or numbers out, inputs unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError, ParameterError
from analysis.params import Params
from analysis.stats import paired_t, two_sample

__all__ = [
    "COHORTS",
    "DRUGS",
    "SUMMARY_COLUMNS",
    "TIMEPOINTS",
    "between_groups",
    "check_doses",
    "cohort_wide",
    "discontinued",
    "dose_results",
    "modal_dose",
    "started",
    "taper_summary",
    "to_results",
]

#: Drug as spelled in ``doses.csv`` -> as spelled in keys and summaries.
DRUGS: dict[str, str] = {"prednisone": "prednisone", "AZA": "aza", "MTX": "mtx", "MMF": "mmf"}
#: Summary time point -> ``doses.csv`` time point, per cohort family (first = reference).
TIMEPOINTS: dict[str, dict[str, str]] = {
    "conv": {"baseline": "conv_baseline", "m6_12": "conv_6_12m"},
    "tac": {"start": "tac_start", "m3_6": "tac_3_6m", "y1": "tac_1y"},
}
#: Cohort -> (time point family, drugs summarised).
COHORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "conv_resp": ("conv", ("prednisone",)),
    "conv_fail": ("conv", ("prednisone",)),
    "tac": ("tac", ("prednisone", "aza", "mtx", "mmf")),
}
#: Columns of :func:`taper_summary`.
SUMMARY_COLUMNS = ("cohort", "drug", "timepoint", "n", "mean", "sd", "pct_change", "p", "key")
_STATS = ("n", "mean", "sd", "pct_change", "p")
_DOSE_COLUMNS = ("patient_id", "drug", "timepoint", "dose_mg")
_GROUP_COLUMNS = ("patient_id", "included", "conv_responder", "tac_analysed")
_ALL_TIMEPOINTS = tuple(tp for family in TIMEPOINTS.values() for tp in family.values())


# ------------------------------------------------------------------ validation and reshaping
def check_doses(doses: pd.DataFrame) -> None:
    """Refuse a dose table without the codebook's columns or with an unknown drug or time
    point (a clear error, not a wrong mean)."""
    missing = [c for c in _DOSE_COLUMNS if c not in doses.columns]
    if missing:
        raise DataValidationError(f"doses: missing column(s) {missing}; expected "
                                  f"{list(_DOSE_COLUMNS)}")
    bad_drug = ~doses["drug"].isin(list(DRUGS))
    if bad_drug.any():
        row = doses.index[bad_drug][0]
        raise DataValidationError(f"doses, row {row}, column 'drug': "
                                  f"{doses.at[row, 'drug']!r} not in {list(DRUGS)}")
    bad_tp = ~doses["timepoint"].isin(list(_ALL_TIMEPOINTS))
    if bad_tp.any():
        row = doses.index[bad_tp][0]
        raise DataValidationError(f"doses, row {row}, column 'timepoint': "
                                  f"{doses.at[row, 'timepoint']!r} not in "
                                  f"{list(_ALL_TIMEPOINTS)}")
    dose = pd.to_numeric(doses["dose_mg"], errors="coerce")
    bad_dose = dose.isna() | (dose < 0)
    if bad_dose.any():
        row = doses.index[bad_dose][0]
        raise DataValidationError(f"doses, row {row}, column 'dose_mg': "
                                  f"{doses.at[row, 'dose_mg']!r} is not a number >= 0 "
                                  "(a dose not recorded has no row)")
    dup = doses.duplicated(["patient_id", "drug", "timepoint"])
    if dup.any():
        row = doses.index[dup][0]
        raise DataValidationError(f"doses, row {row}: a second dose for patient "
                                  f"{doses.at[row, 'patient_id']!r}, {doses.at[row, 'drug']}, "
                                  f"{doses.at[row, 'timepoint']}")


def _members(groups: pd.DataFrame) -> dict[str, pd.Index]:
    """Patient ids of the conventional responders, failures and the tacrolimus analysis."""
    missing = [c for c in _GROUP_COLUMNS if c not in groups.columns]
    if missing:
        raise DataValidationError(f"groups: missing column(s) {missing} "
                                  "(analysis.cohort.analysis_groups)")
    ids = groups["patient_id"].astype(str)
    included = groups["included"].astype("boolean").fillna(False).astype(bool).to_numpy()
    resp = groups["conv_responder"].astype("boolean")
    analysed = groups["tac_analysed"].astype("boolean").fillna(False).astype(bool).to_numpy()
    return {
        "conv_resp": pd.Index(ids[included & resp.fillna(False).to_numpy(bool)]),
        "conv_fail": pd.Index(ids[included & ~resp.fillna(True).to_numpy(bool)]),
        "tac": pd.Index(ids[analysed]),
    }


def _wide(doses: pd.DataFrame, drug: str, family: str) -> pd.DataFrame:
    """Doses of one drug, one row per patient, columns = summary time points (NaN = none)."""
    data_drug = {v: k for k, v in DRUGS.items()}[drug]
    mapping = TIMEPOINTS[family]
    sub = doses[(doses["drug"] == data_drug) & doses["timepoint"].isin(list(mapping.values()))]
    wide = sub.assign(dose_mg=pd.to_numeric(sub["dose_mg"]),
                      patient_id=sub["patient_id"].astype(str)).pivot(
        index="patient_id", columns="timepoint", values="dose_mg")
    wide = wide.reindex(columns=list(mapping.values())).astype("float64")
    wide.columns = list(mapping)
    wide.columns.name = None
    return wide


def cohort_wide(doses: pd.DataFrame, groups: pd.DataFrame, cohort: str,
                 drug: str) -> pd.DataFrame:
    """The members of one (cohort, drug) summary and their doses (rows sorted by patient)."""
    family, _ = COHORTS[cohort]
    wide = _wide(doses, drug, family)
    wide = wide[wide.index.isin(_members(groups)[cohort])]
    reference = next(iter(TIMEPOINTS[family]))
    if family == "conv":
        keep = wide.notna().all(axis=1)
    else:
        keep = wide[reference] > 0
    return wide[keep].sort_index()


def _summarise(wide: pd.DataFrame, cohort: str, drug: str) -> list[dict]:
    family, _ = COHORTS[cohort]
    points = list(TIMEPOINTS[family])
    reference = points[0]
    base = wide[reference]
    base_mean = float(base.mean()) if base.notna().any() else math.nan
    rows = []
    for tp in points:
        values = wide[tp].dropna()
        n = int(values.size)
        mean = float(values.mean()) if n else math.nan
        sd = float(values.std(ddof=1)) if n > 1 else math.nan
        if tp == reference:
            pct, p = math.nan, math.nan
        else:
            pct = (100.0 * (base_mean - mean) / base_mean
                   if n and base_mean and not math.isnan(base_mean) else math.nan)
            p = paired_t(base.to_numpy(), wide[tp].to_numpy())
        rows.append({"cohort": cohort, "drug": drug, "timepoint": tp, "n": n, "mean": mean,
                     "sd": sd, "pct_change": pct, "p": p,
                     "key": f"dose.{cohort}.{drug}.{tp}"})
    return rows


# ------------------------------------------------------------------ public functions
def taper_summary(doses: pd.DataFrame, groups: pd.DataFrame,
                  params: Params | None = None) -> pd.DataFrame:
    """Mean dose per cohort, drug and time point, with percent decrease and paired t test.

    Parameters
    ----------
    doses : DataFrame
        ``doses.csv``: columns ``patient_id``, ``drug`` (prednisone, AZA, MTX, MMF),
        ``timepoint`` (conv_baseline, conv_6_12m, tac_start, tac_3_6m, tac_1y), ``dose_mg``
        (>= 0; 0 = not taking or stopped; no row = not recorded).
    groups : DataFrame
        :func:`analysis.cohort.analysis_groups`: at least ``patient_id``, ``included``,
        ``conv_responder``, ``tac_analysed``.
    params : Params, optional
        Accepted for a uniform step signature; no dose rule is a parameter yet.

    Returns
    -------
    DataFrame
        One row per (cohort, drug, time point), in the order of :data:`COHORTS` and
        :data:`TIMEPOINTS`; columns :data:`SUMMARY_COLUMNS`:

        - ``cohort``: ``conv_resp``, ``conv_fail`` (prednisone only) or ``tac``;
        - ``drug``: ``prednisone``, ``aza``, ``mtx``, ``mmf``;
        - ``timepoint``: ``baseline``, ``m6_12`` (conventional) or ``start``, ``m3_6``, ``y1``;
        - ``n`` (int): patients of the summary with a recorded dose at that time point;
        - ``mean``, ``sd`` (mg; SD with n - 1; NaN below 2 patients);
        - ``pct_change``: percent *decrease* of the mean from the first time point,
          ``100 * (mean_first - mean) / mean_first`` (positive = lower dose; NaN at the first);
        - ``p``: two-sided paired Student t test against the first time point, on the patients
          with both doses (``scipy.stats.ttest_rel``; NaN at the first time point);
        - ``key``: the published key prefix, ``dose.<cohort>.<drug>.<timepoint>``.

    Notes
    -----
    Sharma 2017, Results, Change in the doses of DMARD; Statistical analysis ("paired Student
    t test"). Membership is described in the module docstring: conventional summaries need both
    doses; tacrolimus summaries take the analysed patients taking the drug at tacrolimus start.

    Examples
    --------
    >>> doses = pd.DataFrame({"patient_id": ["A", "A", "A", "B", "B", "B"],
    ...     "drug": ["AZA"] * 6, "timepoint": ["tac_start", "tac_3_6m", "tac_1y"] * 2,
    ...     "dose_mg": [150.0, 100, 0, 100, 100, 50]})
    >>> groups = pd.DataFrame({"patient_id": ["A", "B"], "included": [True, True],
    ...     "conv_responder": [False, False], "tac_analysed": [True, True]})
    >>> s = taper_summary(doses, groups).set_index("key")
    >>> y1 = s.loc["dose.tac.aza.y1"]
    >>> int(y1["n"]), float(y1["mean"]), float(y1["pct_change"])
    (2, 25.0, 80.0)
    """
    if params is not None and not isinstance(params, Params):
        raise ParameterError(f"params must be an analysis.params.Params, got "
                             f"{type(params).__name__}")
    check_doses(doses)
    rows: list[dict] = []
    for cohort, (_, drugs) in COHORTS.items():
        for drug in drugs:
            rows += _summarise(cohort_wide(doses, groups, cohort, drug), cohort, drug)
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    out["n"] = out["n"].astype("int64")
    for col in ("mean", "sd", "pct_change", "p"):
        out[col] = out[col].astype("float64")
    return out


def between_groups(doses: pd.DataFrame, groups: pd.DataFrame, params: Params | None = None,
                   sample: str = "recorded") -> pd.DataFrame:
    """Prednisone at 6-12 months, conventional responders vs failures (pooled Student t test).

    Parameters
    ----------
    doses, groups, params : as in :func:`taper_summary`.
    sample : {"recorded", "paired"}, default "recorded"
        ``"recorded"``: every included patient with a 6-12 month prednisone dose (what
        Stata's ``ttest dose, by(group)`` uses: only missing values are dropped);
        ``"paired"``: the members of the paired summaries (doses at both time points).

    Returns
    -------
    DataFrame
        Two rows (``group`` = ``conv_resp``, ``conv_fail``), columns ``group``, ``n``,
        ``mean``, ``sd`` and ``p`` (the same two-sided p on both rows).

    Notes
    -----
    Sharma 2017, Results, Change in the doses of DMARD: "Those who responded ... were being
    treated with a significantly lower dose of prednisone at 6-12 months than those who failed
    (11.4 mg vs 31.6 mg, p < 0.001)". The failures' mean is 31.2 one sentence earlier (with the
    paired test); both hold if the comparison used every recorded 6-12 month dose and the
    paired summary only the patients with both doses, hence the default ``"recorded"``.
    """
    if sample not in ("recorded", "paired"):
        raise ParameterError(f"sample must be 'recorded' or 'paired', got {sample!r}")
    check_doses(doses)
    members = _members(groups)
    values = {}
    for group in ("conv_resp", "conv_fail"):
        if sample == "paired":
            wide = cohort_wide(doses, groups, group, "prednisone")
        else:
            wide = _wide(doses, "prednisone", "conv")
            wide = wide[wide.index.isin(members[group])]
        values[group] = wide["m6_12"].dropna().to_numpy()
    p = two_sample(values["conv_resp"], values["conv_fail"], test="t")
    rows = [{"group": g, "n": int(v.size), "mean": float(v.mean()) if v.size else math.nan,
             "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan, "p": p}
            for g, v in values.items()]
    return pd.DataFrame(rows, columns=["group", "n", "mean", "sd", "p"])


def discontinued(doses: pd.DataFrame, groups: pd.DataFrame, drug: str) -> int:
    """Patients of the tacrolimus summary who had stopped the drug (0 mg) at 1 year.

    Sharma 2017, Results, Change in the doses of DMARD: "4 patients able to discontinue AZA
    entirely". Counted among the analysed patients taking the drug at tacrolimus start.

    >>> doses = pd.DataFrame({"patient_id": ["A", "A", "B", "B"], "drug": ["AZA"] * 4,
    ...     "timepoint": ["tac_start", "tac_1y"] * 2, "dose_mg": [150.0, 0, 100, 50]})
    >>> groups = pd.DataFrame({"patient_id": ["A", "B"], "included": [True, True],
    ...     "conv_responder": [False, False], "tac_analysed": [True, True]})
    >>> discontinued(doses, groups, "aza")
    1
    """
    _check_drug(drug)
    check_doses(doses)
    wide = cohort_wide(doses, groups, "tac", drug)
    return int((wide["y1"] == 0).sum())


def started(doses: pd.DataFrame, groups: pd.DataFrame, drug: str) -> int:
    """Analysed patients not taking the drug at tacrolimus start (0 mg or no record) but at 1 year.

    Sharma 2017, Results, Change in the doses of DMARD: "At 1 year, 2 patients had initiated
    treatment with MMF".

    >>> doses = pd.DataFrame({"patient_id": ["A", "A", "B"], "drug": ["MMF"] * 3,
    ...     "timepoint": ["tac_start", "tac_1y", "tac_1y"], "dose_mg": [0.0, 1000, 2000]})
    >>> groups = pd.DataFrame({"patient_id": ["A", "B", "C"], "included": [True] * 3,
    ...     "conv_responder": [False] * 3, "tac_analysed": [True, True, False]})
    >>> started(doses, groups, "mmf")
    2
    """
    _check_drug(drug)
    check_doses(doses)
    wide = _wide(doses, drug, "tac")
    wide = wide[wide.index.isin(_members(groups)["tac"])]
    off_at_start = wide["start"].fillna(0) == 0
    return int((off_at_start & (wide["y1"] > 0)).sum())


def modal_dose(doses: pd.DataFrame, groups: pd.DataFrame, drug: str) -> tuple[float, int]:
    """Commonest starting dose among the patients taking the drug at tacrolimus start.

    Returns ``(dose_mg, n)``; on a tie the lowest dose; ``(nan, 0)`` if nobody takes it.
    Sharma 2017, Results: AZA "most commonly at a dose of 150 mg (n = 7)", MTX "25 mg (n = 3)".

    >>> doses = pd.DataFrame({"patient_id": ["A", "B", "C"], "drug": ["MTX"] * 3,
    ...     "timepoint": ["tac_start"] * 3, "dose_mg": [25.0, 25, 20]})
    >>> groups = pd.DataFrame({"patient_id": ["A", "B", "C"], "included": [True] * 3,
    ...     "conv_responder": [False] * 3, "tac_analysed": [True] * 3})
    >>> modal_dose(doses, groups, "mtx")
    (25.0, 2)
    """
    _check_drug(drug)
    check_doses(doses)
    start = cohort_wide(doses, groups, "tac", drug)["start"]
    if start.empty:
        return math.nan, 0
    counts = start.value_counts()
    top = int(counts.max())
    return float(counts[counts == top].index.min()), top


def _check_drug(drug: str) -> None:
    if drug not in DRUGS.values():
        raise ParameterError(f"drug must be one of {list(DRUGS.values())}, got {drug!r}")


def to_results(summary: pd.DataFrame) -> dict[str, float]:
    """Flatten a :func:`taper_summary` frame to published keys.

    Keys are ``dose.<cohort>.<drug>.<timepoint>.<stat>`` for ``stat`` in n, mean, sd,
    pct_change (percent decrease, positive when the dose fell) and p; NaN values (the first
    time point's pct_change and p, an SD of one patient) are left out.

    >>> s = pd.DataFrame({"key": ["dose.tac.mmf.y1"], "n": [3], "mean": [0.0], "sd": [0.0],
    ...     "pct_change": [100.0], "p": [0.0059]})
    >>> to_results(s)["dose.tac.mmf.y1.p"]
    0.0059
    """
    missing = [c for c in ("key", *_STATS) if c not in summary.columns]
    if missing:
        raise DataValidationError(f"dose summary: missing column(s) {missing}")
    out: dict[str, float] = {}
    for row in summary.to_dict("records"):
        for stat in _STATS:
            value = float(row[stat])
            if not math.isnan(value):
                out[f"{row['key']}.{stat}"] = value
    return out


def dose_results(doses: pd.DataFrame, groups: pd.DataFrame,
                 params: Params | None = None) -> dict[str, float]:
    """Every dose number of the paper, keyed as in ``data/published``.

    :func:`to_results` of :func:`taper_summary`, plus ``dose.conv.prednisone.m6_12.p_between``
    (and the compared groups' ``resp_n``, ``resp_mean``, ``fail_n``, ``fail_mean`` under the
    same prefix, see :func:`between_groups`), ``dose.tac.<drug>.discontinued``,
    ``dose.tac.<drug>.started`` and ``dose.tac.<drug>.start.modal_dose`` / ``modal_n`` for
    AZA, MTX and MMF.
    """
    out = to_results(taper_summary(doses, groups, params))
    between = between_groups(doses, groups, params).set_index("group")
    prefix = "dose.conv.prednisone.m6_12"
    out[f"{prefix}.p_between"] = float(between.at["conv_resp", "p"])
    for group, short in (("conv_resp", "resp"), ("conv_fail", "fail")):
        out[f"{prefix}.{short}_n"] = float(between.at[group, "n"])
        out[f"{prefix}.{short}_mean"] = float(between.at[group, "mean"])
    for drug in ("aza", "mtx", "mmf"):
        out[f"dose.tac.{drug}.discontinued"] = float(discontinued(doses, groups, drug))
        out[f"dose.tac.{drug}.started"] = float(started(doses, groups, drug))
        dose, n = modal_dose(doses, groups, drug)
        if n:
            out[f"dose.tac.{drug}.start.modal_dose"] = dose
            out[f"dose.tac.{drug}.start.modal_n"] = float(n)
    return {k: v for k, v in out.items() if not (isinstance(v, float) and np.isnan(v))}
