"""Eligibility order and the flow table (Sharma 2017, Methods, Patients; Figure 1)."""

import pandas as pd

from analysis.cohort import EXCLUSIONS, apply_eligibility
from analysis.params import Params


def candidate(**changes):
    base = {"patient_id": "X", "age_at_index": 40, "myositis_type": "PM",
            "cancer_chemo_before_conventional": False, "prednisone_conventional": True,
            "aza_conventional": True, "mtx_conventional": False, "mmf_conventional": False}
    return {**base, **changes}


def test_each_criterion_alone():
    frame = pd.DataFrame([
        candidate(),
        candidate(age_at_index=17),
        candidate(myositis_type="overlap"),
        candidate(myositis_type="IBM"),
        candidate(cancer_chemo_before_conventional=True),
        candidate(myositis_type="other_myopathy"),
        candidate(aza_conventional=False),           # prednisone without a DMARD
        candidate(prednisone_conventional=False),    # a DMARD without prednisone
    ])
    out = apply_eligibility(frame, Params())
    assert out["excluded_by"].fillna("").tolist() == [
        "", "under_age", "overlap", "ibm", "cancer_chemo", "other_myopathy", "no_conventional",
        "no_conventional"]
    assert out["included"].tolist() == [True] + [False] * 7


def test_first_criterion_in_the_methods_order_wins():
    # Overlap myositis, treated with chemotherapy and never given conventional treatment:
    # counted once, under overlap (the first in the Methods' list).
    frame = pd.DataFrame([candidate(myositis_type="overlap",
                                    cancer_chemo_before_conventional=True,
                                    prednisone_conventional=False)])
    assert apply_eligibility(frame, Params())["excluded_by"].tolist() == ["overlap"]
    assert list(EXCLUSIONS)[:2] == ["under_age", "overlap"]


def test_minimum_age_is_inclusive_and_a_parameter():
    frame = pd.DataFrame([candidate(age_at_index=18), candidate(age_at_index=20)])
    assert apply_eligibility(frame, Params())["included"].tolist() == [True, True]
    assert apply_eligibility(frame, Params(min_age=21))["included"].tolist() == [False, False]


def test_input_not_mutated():
    frame = pd.DataFrame([candidate()])
    before = frame.copy()
    apply_eligibility(frame, Params())
    pd.testing.assert_frame_equal(frame, before)
