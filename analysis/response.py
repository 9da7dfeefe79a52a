"""Response classification: refractory myositis, refractory ILD, failure, improvement.

Sharma 2017, Materials and Methods, *Response to treatment*: patients fail a treatment if
they have refractory myositis and/or refractory ILD between two assessments.

- Refractory myositis: at least 1 of 2 criteria: (1) any worsening muscle weakness recorded by
  the physician; (2) serum CK that failed to either normalise or decrease by > 50%.
- Refractory ILD: at least 2 of 4 criteria: FVC decrease by 10%, TLC by 10%, DLCO by 15%,
  any worsening respiratory symptoms.

The rules are written once, for any number of *definitions* at once (a definition is one row
of the fields in :data:`DEFINITION_FIELDS`): :func:`assessment_changes` extracts what the rules
need per patient, :func:`evaluate` returns patients x definitions boolean matrices. The paper
run is the one-definition case (:func:`classify`), the sensitivity sweep the many-definition
case of the same code.

Readings chosen where the paper is silent (each is a parameter, see ``analysis.params``):
declines are relative to the baseline value and count when they reach the cutoff ("decrease
by 10%" read as >= 10%); CK "normalised" means at or below the upper limit of normal
(``ck_uln``); the CK fall must be strictly more than 50%.

Missing measurements: the paper does not say how they count, so each rule is a parameter
whose default reproduces the paper's counts (``analysis.assumptions`` shows what the
alternatives change):

- a missing FVC, TLC or DLCO (baseline or follow-up) does not meet its decline criterion
  (``pft_missing="not_met"``; ``"met"`` counts it as a decline);
- a missing follow-up CK meets the CK criterion of refractory myositis: no response can be
  shown (``ck_missing_followup="refractory"``; ``"not_met"``: it meets no criterion);
- a missing baseline CK with a follow-up CK above the limit likewise meets it
  (``ck_missing_baseline="refractory"``; ``"not_met"``); with a follow-up CK at or below the
  limit the CK has normalised whatever the baseline;
- missing weakness or symptom records meet no criterion; a patient without the follow-up
  assessment is not classified (:func:`classify`) and never improves (:func:`evaluate`).

So under the defaults a missing measurement meets no criterion *except* a missing CK, which
counts against response; ``ck_missing_baseline=not_met`` and ``ck_missing_followup=not_met``
make "a missing value meets no criterion" hold throughout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from analysis.params import Params

__all__ = ["DEFINITION_FIELDS", "PFT_CUTOFFS", "SCALES", "AssessmentChanges", "classify",
           "paired_assessments", "decline", "definition_table", "assessment_changes",
           "evaluate", "ild_criteria", "refractory_ild", "refractory_myositis"]

# Float noise (63/70 is not exactly 0.9): a decline within this of the cutoff meets it.
_TOLERANCE = 1e-9
#: The PFT decline criteria: measurement -> the Params field holding its cutoff.
PFT_CUTOFFS = {"fvc": "fvc_decline", "tlc": "tlc_decline", "dlco": "dlco_decline"}
#: How declines are measured (``Params.decline_scale``).
SCALES = ("relative", "absolute")
#: The Params fields a response definition consists of (the columns of
#: :func:`definition_table`).
DEFINITION_FIELDS: tuple[str, ...] = (
    "fvc_decline", "tlc_decline", "dlco_decline", "decline_scale", "ild_criteria_required",
    "count_symptoms", "ck_fall", "ck_uln", "count_weakness", "ck_missing_baseline",
    "ck_missing_followup", "pft_missing")


def paired_assessments(assessments: pd.DataFrame, baseline: str, followup: str) -> pd.DataFrame:
    """One row per patient with the baseline (``_0``) and follow-up (``_1``) measurements.

    Patients lacking either assessment are left out.
    """
    cols = ["patient_id", "ck", "aldolase", "fvc", "tlc", "dlco", "worsening_weakness",
            "worsening_resp_symptoms", "hospitalised"]
    first = assessments.loc[assessments["timepoint"] == baseline, cols]
    second = assessments.loc[assessments["timepoint"] == followup, cols]
    return first.merge(second, on="patient_id", suffixes=("_0", "_1")).set_index("patient_id")


def decline(before: np.ndarray, after: np.ndarray, scale: str) -> np.ndarray:
    """Decline from ``before`` to ``after``: a fraction of baseline, or points / 100.

    >>> decline(np.array([70.0]), np.array([63.0]), "relative").round(6).tolist()
    [0.1]
    >>> decline(np.array([70.0]), np.array([63.0]), "absolute").round(6).tolist()
    [0.07]
    """
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    if scale == "relative":
        with np.errstate(invalid="ignore", divide="ignore"):
            return (before - after) / before
    return (before - after) / 100.0


def definition_table(definitions: Params | Sequence[Params] | pd.DataFrame) -> pd.DataFrame:
    """Response definitions as a frame with one row each and the columns
    :data:`DEFINITION_FIELDS` (a frame may carry more columns; a missing one is an error).

    >>> table = definition_table([Params(), Params(fvc_decline=0.05)])
    >>> table["fvc_decline"].tolist(), table["ild_criteria_required"].tolist()
    ([0.1, 0.05], [2, 2])
    """
    if isinstance(definitions, pd.DataFrame):
        missing = [name for name in DEFINITION_FIELDS if name not in definitions]
        if missing:
            raise KeyError(f"response definitions lack the columns {missing}")
        return definitions
    if isinstance(definitions, Params):
        definitions = [definitions]
    return pd.DataFrame([{name: getattr(p, name) for name in DEFINITION_FIELDS}
                         for p in definitions], columns=list(DEFINITION_FIELDS))


@dataclass(frozen=True)
class AssessmentChanges:
    """What the rules need about one pair of assessments, one entry per patient.

    Attributes
    ----------
    patient_ids : the patients, in the order of the rows of the matrices.
    has_pair : bool array; both assessments exist (else the patient cannot respond).
    declines : mapping ``(test, scale)`` to a float array (NaN when a value is missing),
        ``test`` in fvc, tlc, dlco and ``scale`` in :data:`SCALES` (see :func:`decline`).
    ck_0, ck_1 : float arrays, CK at baseline and follow-up (NaN when missing).
    weakness, symptoms : bool arrays, worsening weakness / respiratory symptoms recorded at
        follow-up (a missing record is False).
    hospitalised : bool array, hospitalised at follow-up (a missing record is False).
    """

    patient_ids: tuple[str, ...]
    has_pair: np.ndarray
    declines: Mapping[tuple[str, str], np.ndarray]
    ck_0: np.ndarray
    ck_1: np.ndarray
    weakness: np.ndarray
    symptoms: np.ndarray
    hospitalised: np.ndarray


def _floats(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _flags(series: pd.Series) -> np.ndarray:
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def assessment_changes(assessments: pd.DataFrame, baseline: str, followup: str,
                       patient_ids: Sequence[str] | None = None) -> AssessmentChanges:
    """Per-patient changes between two assessments, computed once for every definition.

    Parameters
    ----------
    assessments : validated long assessments table (:mod:`analysis.schema`).
    baseline, followup : time points, e.g. ``"index"`` and ``params.conventional_followup``.
    patient_ids : the patients (rows), optional; default those with both assessments, in
        the order of :func:`paired_assessments`. A listed patient without both has
        ``has_pair`` False.
    """
    found = paired_assessments(assessments, baseline, followup)
    ids = found.index if patient_ids is None else pd.Index(list(patient_ids))
    pairs = found.reindex(ids)
    declines = {(test, scale): decline(_floats(pairs[f"{test}_0"]), _floats(pairs[f"{test}_1"]),
                                       scale)
                for test in PFT_CUTOFFS for scale in SCALES}
    return AssessmentChanges(
        tuple(str(i) for i in ids), np.asarray(ids.isin(found.index), dtype=bool),
        MappingProxyType(declines), _floats(pairs["ck_0"]), _floats(pairs["ck_1"]),
        _flags(pairs["worsening_weakness_1"]), _flags(pairs["worsening_resp_symptoms_1"]),
        _flags(pairs["hospitalised_1"]))


def _column(defs: pd.DataFrame, name: str, dtype) -> np.ndarray:
    """One definition field as a row vector (1 x definitions), for broadcasting."""
    return defs[name].to_numpy(dtype=dtype)[None, :]


def ild_criteria(changes: AssessmentChanges, defs: pd.DataFrame) -> dict[str, np.ndarray]:
    """The four refractory-ILD criteria, each a patients x definitions boolean matrix.

    Keys ``fvc_decline``, ``tlc_decline``, ``dlco_decline`` (decline at least the cutoff, on
    the definition's scale; a missing value meets it only when ``pft_missing`` is "met") and
    ``resp_symptoms`` (worsening symptoms, if ``count_symptoms``).
    """
    absolute = _column(defs, "decline_scale", str) == "absolute"
    missing_met = _column(defs, "pft_missing", str) == "met"
    out = {}
    for test, cutoff_name in PFT_CUTOFFS.items():
        cutoff = _column(defs, cutoff_name, float) - _TOLERANCE
        change = np.where(absolute, changes.declines[test, "absolute"][:, None],
                          changes.declines[test, "relative"][:, None])
        with np.errstate(invalid="ignore"):
            met = change >= cutoff
        out[f"{test}_decline"] = np.where(np.isnan(change), missing_met, met)
    out["resp_symptoms"] = changes.symptoms[:, None] & _column(defs, "count_symptoms", bool)
    return out


def refractory_ild(criteria_met: np.ndarray, defs: pd.DataFrame) -> np.ndarray:
    """Refractory ILD: at least ``ild_criteria_required`` (the paper: 2) of the 4 criteria.

    ``criteria_met`` is the patients x definitions count of :func:`ild_criteria` met; returns
    the patients x definitions boolean matrix.
    """
    return criteria_met >= _column(defs, "ild_criteria_required", int)


def refractory_myositis(changes: AssessmentChanges, defs: pd.DataFrame) -> np.ndarray:
    """Refractory myositis: worsening weakness (if ``count_weakness``), or a CK that neither
    normalised (at or below ``ck_uln``) nor fell by strictly more than ``ck_fall``.

    A missing follow-up CK meets the CK criterion when ``ck_missing_followup`` is
    "refractory"; a missing baseline CK with a follow-up above the limit meets it when
    ``ck_missing_baseline`` is "refractory"; under "not_met" the missing value meets nothing.
    Returns the patients x definitions boolean matrix.
    """
    ck0, ck1 = changes.ck_0[:, None], changes.ck_1[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = ck1 <= _column(defs, "ck_uln", float)
        fell = (ck0 - ck1) / ck0 > _column(defs, "ck_fall", float) + _TOLERANCE
    ck_refractory = ~(normalised | fell)
    followup_missing = np.isnan(ck1) & np.ones_like(normalised)
    baseline_missing = np.isnan(ck0) & ~followup_missing & ~normalised
    ck_refractory = np.where(followup_missing,
                             _column(defs, "ck_missing_followup", str) == "refractory",
                             ck_refractory)
    ck_refractory = np.where(baseline_missing,
                             _column(defs, "ck_missing_baseline", str) == "refractory",
                             ck_refractory)
    weakness = changes.weakness[:, None] & _column(defs, "count_weakness", bool)
    return weakness | ck_refractory


def evaluate(changes: AssessmentChanges,
             definitions: Params | Sequence[Params] | pd.DataFrame) -> dict[str, np.ndarray]:
    """Every rule of the Methods under every definition: patients x definitions matrices.

    Parameters
    ----------
    changes : from :func:`assessment_changes`.
    definitions : one :class:`~analysis.params.Params`, several, or a frame with the columns
        :data:`DEFINITION_FIELDS` (see :func:`definition_table`).

    Returns
    -------
    dict of arrays of shape (patients, definitions): the criteria ``fvc_decline``,
    ``tlc_decline``, ``dlco_decline``, ``resp_symptoms`` (bool), ``ild_criteria_met`` (int,
    0-4), ``refractory_myositis``, ``refractory_ild``, ``failure``, and
    ``myositis_improved``, ``ild_improved``, ``responder`` (improved in both) (bool; a patient
    without both assessments never improves).

    Notes
    -----
    Sharma 2017, Methods, Response to treatment.
    """
    defs = definition_table(definitions)
    out: dict[str, np.ndarray] = dict(ild_criteria(changes, defs))
    out["ild_criteria_met"] = sum(out[k].astype(np.int64) for k in list(out))
    out["refractory_myositis"] = refractory_myositis(changes, defs)
    out["refractory_ild"] = refractory_ild(out["ild_criteria_met"], defs)
    out["failure"] = out["refractory_myositis"] | out["refractory_ild"]
    for name, failed in (("myositis_improved", "refractory_myositis"),
                         ("ild_improved", "refractory_ild"), ("responder", "failure")):
        out[name] = changes.has_pair[:, None] & ~out[failed]
    return out


def classify(assessments: pd.DataFrame, params: Params, baseline: str,
             followup: str) -> pd.DataFrame:
    """Classify every patient with both assessments under one definition (``params``).

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
    myositis, in ILD, in both: 14, 17 and 13 of 18). The one-definition case of
    :func:`evaluate`.
    """
    pairs = paired_assessments(assessments, baseline, followup)
    changes = assessment_changes(assessments, baseline, followup)
    rules = {name: matrix[:, 0] for name, matrix in evaluate(changes, params).items()}
    out = pd.DataFrame({name: rules[name] for name in (
        "fvc_decline", "tlc_decline", "dlco_decline", "resp_symptoms", "ild_criteria_met",
        "refractory_myositis", "refractory_ild", "failure", "myositis_improved", "ild_improved",
        "responder")}, index=pairs.index)
    out["hospitalised"] = changes.hospitalised
    return out
