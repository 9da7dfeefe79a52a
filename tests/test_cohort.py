"""Eligibility order and the flow table (Sharma 2017, Methods, Patients; Figure 1)."""

import pandas as pd

from analysis.cohort import EXCLUSIONS, analysis_groups, apply_eligibility, group_matrices
from analysis.params import Params
from analysis.response import classify


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


def test_age_rule_reads_older_than_18_strictly_when_asked():
    # Methods: "> 18 years". Default ">=": 18 is included; ">" excludes exactly 18 only.
    frame = pd.DataFrame([candidate(age_at_index=17), candidate(age_at_index=18),
                          candidate(age_at_index=19)])
    assert apply_eligibility(frame, Params(age_rule=">"))["excluded_by"].fillna("").tolist() == [
        "under_age", "under_age", ""]


def test_input_not_mutated():
    frame = pd.DataFrame([candidate()])
    before = frame.copy()
    apply_eligibility(frame, Params())
    pd.testing.assert_frame_equal(frame, before)


# --------------------------------------------------------------------------- response groups
SAMPLED = [Params(), Params(fvc_decline=0.05), Params(ild_criteria_required=1, ck_fall=0.7),
           Params(decline_scale="absolute", ck_uln=150.0), Params(ild_criteria_required=4),
           Params(count_weakness=False, count_symptoms=False, dlco_decline=0.2)]


def plain_groups(patients: pd.DataFrame, assessments: pd.DataFrame, params: Params) -> dict:
    """INDEPENDENT IMPLEMENTATION of the grouping of Figure 1 (Sharma 2017, Results), patient
    by patient in plain Python from the one-definition classification: conventional
    responder = included and responded (no follow-up: not); tacrolimus analysed = included,
    not a conventional responder, second-line tacrolimus with sufficient data; tacrolimus
    responder = analysed and responded."""
    eligible = apply_eligibility(patients, params).set_index("patient_id")
    conv = classify(assessments, params, "index", params.conventional_followup)["responder"]
    tac = classify(assessments, params, "tac_start", params.tacrolimus_followup)["responder"]
    out = {}
    for pid, row in eligible.iterrows():
        included = bool(row["included"])
        responder = included and bool(conv.get(pid, False))
        sufficient = row["tacrolimus_data_sufficient"]
        sufficient = False if pd.isna(sufficient) else bool(sufficient)
        analysed = (included and not responder and row["second_line"] == "tacrolimus"
                    and sufficient)
        out[pid] = (responder, analysed, analysed and bool(tac.get(pid, False)))
    return out


def test_group_matrices_agree_with_a_plain_grouping_for_every_definition(cohort):
    g = group_matrices(cohort.patients, cohort.assessments, SAMPLED, Params())
    assert g["conv_responder"].shape == (len(cohort.patients), len(SAMPLED))
    for j, params in enumerate(SAMPLED):
        expected = plain_groups(cohort.patients, cohort.assessments, params)
        got = {pid: (bool(g["conv_responder"][i, j]), bool(g["tac_analysed"][i, j]),
                     bool(g["tac_responder"][i, j])) for i, pid in enumerate(g["ids"])}
        assert got == expected, params.differences()


def test_analysis_groups_is_the_one_definition_case_with_na_outside_each_group(cohort):
    groups = analysis_groups(cohort.patients, cohort.assessments, Params()).set_index(
        "patient_id")
    expected = plain_groups(cohort.patients, cohort.assessments, Params())
    assert groups["conv_responder"].isna().tolist() == (~groups["included"]).tolist()
    analysed = groups["tac_analysed"].astype(bool)
    assert groups["tac_responder"].isna().tolist() == (~analysed).tolist()
    for pid, (responder, was_analysed, tac_responder) in expected.items():
        assert bool(groups["conv_responder"].fillna(False)[pid]) == responder
        assert bool(analysed[pid]) == was_analysed
        assert bool(groups["tac_responder"].fillna(False)[pid]) == tac_responder
    # Sharma 2017, Figure 1: 31 of 54 responded; 13 of the 18 analysed for tacrolimus.
    assert (sum(r for r, _, _ in expected.values()), sum(a for _, a, _ in expected.values()),
            sum(t for _, _, t in expected.values())) == (31, 18, 13)
