"""Response rules at and around every cutoff (Sharma 2017, Methods, Response to treatment).

Each case is a hand-built pair of assessments whose classification is worked out by hand.
"""

import pandas as pd
import pytest

from analysis.params import Params
from analysis.response import classify


def pair(fvc=(70, 70), tlc=(80, 80), dlco=(60, 60), ck=(1000, 150), weakness=False,
         symptoms=False):
    """Two assessments of one patient: index then month6."""
    rows = []
    for i, tp in enumerate(("index", "month6")):
        rows.append({"patient_id": "X", "timepoint": tp, "month": 6.0 * i, "ck": ck[i],
                     "aldolase": 10.0, "fvc": fvc[i], "tlc": tlc[i], "dlco": dlco[i],
                     "worsening_weakness": weakness and i == 1,
                     "worsening_resp_symptoms": symptoms and i == 1, "hospitalised": False})
    return pd.DataFrame(rows)


def one(frame, **params):
    return classify(frame, Params(**params), "index", "month6").iloc[0]


@pytest.mark.parametrize("after, met", [(63, True), (63.5, False), (62, True), (64, False)])
def test_fvc_relative_decline_at_ten_percent(after, met):
    # 70 -> 63 is exactly 10%: "decrease in FVC by 10%" is met at the cutoff.
    assert bool(one(pair(fvc=(70, after)))["fvc_decline"]) is met


@pytest.mark.parametrize("after, met", [(60, True), (61, False)])
def test_fvc_absolute_decline_in_points(after, met):
    # absolute: 70 -> 60 is 10 points (met); 70 -> 61 is 9 points (not met), though 12.9%.
    row = one(pair(fvc=(70, after)), decline_scale="absolute")
    assert bool(row["fvc_decline"]) is met


@pytest.mark.parametrize("after, met", [(51, True), (52, False)])
def test_dlco_fifteen_percent(after, met):
    # 60 -> 51 is exactly 15%; 60 -> 52 is 13.3%.
    assert bool(one(pair(dlco=(60, after)))["dlco_decline"]) is met


def test_two_of_four_make_ild_refractory():
    one_criterion = one(pair(fvc=(70, 60)))
    assert one_criterion["ild_criteria_met"] == 1 and not one_criterion["refractory_ild"]
    two = one(pair(fvc=(70, 60), symptoms=True))
    assert two["ild_criteria_met"] == 2 and two["refractory_ild"] and two["failure"]
    assert one(pair(fvc=(70, 60)), ild_criteria_required=1)["refractory_ild"]


def test_symptoms_can_be_left_out():
    row = one(pair(fvc=(70, 60), symptoms=True), count_symptoms=False)
    assert row["ild_criteria_met"] == 1 and not row["refractory_ild"]


@pytest.mark.parametrize("ck, refractory", [
    ((1000, 200), False),   # normalised: at the upper limit of normal
    ((1000, 201), False),   # fell by 79.9% (> 50%)
    ((1000, 500), True),    # fell by exactly 50%: not "more than 50%", not normal
    ((1000, 499), False),   # fell by 50.1%
    ((300, 250), True),     # fell 16.7%, above normal
    ((150, 180), False),    # rose, but still normal
])
def test_ck_criterion(ck, refractory):
    assert bool(one(pair(ck=ck))["refractory_myositis"]) is refractory


def test_ck_upper_limit_is_a_parameter():
    # 250 U/l is above the default limit (200) but at a limit of 250: normalised.
    assert not one(pair(ck=(300, 250)), ck_uln=250)["refractory_myositis"]


def test_worsening_weakness_alone_is_refractory_myositis():
    row = one(pair(weakness=True))
    assert row["refractory_myositis"] and row["failure"] and not row["responder"]


def test_responder_is_improvement_in_both():
    row = one(pair())
    assert row["responder"] and row["myositis_improved"] and row["ild_improved"]


def test_missing_follow_up_measurement_cannot_meet_a_criterion():
    frame = pair(fvc=(70, 60), symptoms=True)
    frame.loc[1, "fvc"] = None
    row = one(frame)
    assert row["ild_criteria_met"] == 1 and not row["refractory_ild"]


def test_input_is_not_mutated():
    frame = pair(fvc=(70, 60))
    before = frame.copy()
    classify(frame, Params(), "index", "month6")
    pd.testing.assert_frame_equal(frame, before)
