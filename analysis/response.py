"""Response classification: refractory myositis, refractory ILD, failure, improvement.

Sharma 2017, Materials and Methods, *Response to treatment*: patients fail a treatment if
they have refractory myositis and/or refractory ILD between two assessments.

- Refractory myositis: at least 1 of 2 criteria: (1) any worsening muscle weakness recorded by
  the physician; (2) serum CK that failed to either normalise or decrease by > 50%.
- Refractory ILD: at least 2 of 4 criteria: FVC decrease by 10%, TLC by 10%, DLCO by 15%,
  any worsening respiratory symptoms.

Readings chosen where the paper is silent (each is a parameter, see ``analysis.params``):
declines are relative to the baseline value and count when they reach the cutoff ("decrease
by 10%" read as >= 10%); CK "normalised" means at or below the upper limit of normal; the CK
fall must be strictly more than 50%. A missing measurement cannot meet a criterion.
"""

from __future__ import annotations

import pandas as pd

from analysis.params import Params

__all__ = ["classify", "paired_assessments", "ild_criteria", "refractory_myositis"]

# Float noise (63/70 is not exactly 0.9): a decline within this of the cutoff meets it.
_TOLERANCE = 1e-9
PFT_CUTOFFS = {"fvc": "fvc_decline", "tlc": "tlc_decline", "dlco": "dlco_decline"}


def paired_assessments(assessments: pd.DataFrame, baseline: str, followup: str) -> pd.DataFrame:
    """One row per patient with the baseline (``_0``) and follow-up (``_1``) measurements.

    Patients lacking either assessment are left out.
    """
    cols = ["patient_id", "ck", "aldolase", "fvc", "tlc", "dlco", "worsening_weakness",
            "worsening_resp_symptoms", "hospitalised"]
    first = assessments.loc[assessments["timepoint"] == baseline, cols]
    second = assessments.loc[assessments["timepoint"] == followup, cols]
    return first.merge(second, on="patient_id", suffixes=("_0", "_1")).set_index("patient_id")


def decline(before: pd.Series, after: pd.Series, scale: str) -> pd.Series:
    """Decline from ``before`` to ``after``: a fraction of baseline, or points / 100.

    >>> decline(pd.Series([70.0]), pd.Series([63.0]), "relative").round(6).tolist()
    [0.1]
    >>> decline(pd.Series([70.0]), pd.Series([63.0]), "absolute").round(6).tolist()
    [0.07]
    """
    before = before.astype("Float64")
    after = after.astype("Float64")
    if scale == "relative":
        return (before - after) / before
    return (before - after) / 100.0


def ild_criteria(pairs: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The four refractory-ILD criteria as booleans, one column each.

    Columns: ``fvc_decline``, ``tlc_decline``, ``dlco_decline``, ``resp_symptoms``.
    """
    out = pd.DataFrame(index=pairs.index)
    for test, cutoff_name in PFT_CUTOFFS.items():
        change = decline(pairs[f"{test}_0"], pairs[f"{test}_1"], params.decline_scale)
        cutoff = getattr(params, cutoff_name)
        out[f"{test}_decline"] = (change >= cutoff - _TOLERANCE).fillna(False).astype(bool)
    symptoms = pairs["worsening_resp_symptoms_1"].fillna(False).astype(bool)
    out["resp_symptoms"] = symptoms if params.count_symptoms else False
    return out


def refractory_myositis(pairs: pd.DataFrame, params: Params) -> pd.Series:
    """Worsening weakness, or CK that neither normalised nor fell by more than ``ck_fall``."""
    ck0 = pairs["ck_0"].astype("Float64")
    ck1 = pairs["ck_1"].astype("Float64")
    normalised = ck1 <= params.ck_uln
    fell = (ck0 - ck1) / ck0 > params.ck_fall + _TOLERANCE
    ck_refractory = ~(normalised | fell).fillna(False).astype(bool)
    # A missing follow-up CK cannot show a response; a missing baseline with a normal
    # follow-up still counts as normalised.
    weakness = pairs["worsening_weakness_1"].fillna(False).astype(bool)
    if not params.count_weakness:
        weakness = weakness & False
    return (weakness | ck_refractory).astype(bool)


def classify(assessments: pd.DataFrame, params: Params, baseline: str,
             followup: str) -> pd.DataFrame:
    """Classify every patient with both assessments.

    Parameters
    ----------
    assessments : validated long assessments table (``analysis.schema``).
    params : the run's parameters (cutoffs).
    baseline, followup : time points, e.g. ``"index"`` and ``params.conventional_followup``.

    Returns
    -------
    DataFrame indexed by ``patient_id`` with columns: ``fvc_decline``, ``tlc_decline``,
    ``dlco_decline``, ``resp_symptoms`` (criteria met), ``ild_criteria_met`` (0-4),
    ``refractory_myositis``, ``refractory_ild``, ``failure``, ``myositis_improved``,
    ``ild_improved``, ``responder`` (= improved in both = not failure),
    ``hospitalised`` (at follow-up).

    Notes
    -----
    Sharma 2017, Methods, Response to treatment; Results, Use of tacrolimus (improvement in
    myositis, in ILD, in both: 14, 17 and 13 of 18).
    """
    pairs = paired_assessments(assessments, baseline, followup)
    criteria = ild_criteria(pairs, params)
    out = criteria.copy()
    out["ild_criteria_met"] = criteria.sum(axis=1).astype(int)
    out["refractory_myositis"] = refractory_myositis(pairs, params)
    out["refractory_ild"] = out["ild_criteria_met"] >= params.ild_criteria_required
    out["failure"] = out["refractory_myositis"] | out["refractory_ild"]
    out["myositis_improved"] = ~out["refractory_myositis"]
    out["ild_improved"] = ~out["refractory_ild"]
    out["responder"] = ~out["failure"]
    out["hospitalised"] = pairs["hospitalised_1"].fillna(False).astype(bool)
    return out
