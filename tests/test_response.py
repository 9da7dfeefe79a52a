"""Response rules at and around every cutoff (Sharma 2017, Methods, Response to treatment).

Each case is a hand-built pair of assessments whose classification is worked out by hand;
the many-definition engine (:func:`analysis.response.evaluate`) is checked on hand-built
boundary cases and against ``methods_rules`` below, an independent plain-Python reading of the
Methods in exact decimal arithmetic, over many random (seeded) definitions.
"""

import random
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.params import Params
from analysis.response import (
    DEFINITION_FIELDS,
    assessment_changes,
    classify,
    definition_table,
    evaluate,
)

ROOT = paths.ROOT


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


# --------------------------------------------------------------------------- many definitions
def _tiny_assessments() -> pd.DataFrame:
    """Boundary cases of the Methods' rules, index -> month6 (CK upper limit 200)."""
    rows = [  # patient, timepoint, ck, fvc, tlc, dlco, weakness, symptoms
        ("P1", "index", 1000, 70, 100, 60, None, None),  # FVC -10% exactly, TLC -10% exactly
        ("P1", "month6", 400, 63, 90, 60, False, False),
        ("P2", "index", 1000, 70, 70, 60, None, None),  # CK down exactly 50%, above ULN
        ("P2", "month6", 500, 70, 70, 60, False, False),
        ("P3", "index", 1000, 70, 70, 60, None, None),  # no follow-up: cannot respond
        ("P4", "index", 300, 50, 50, 40, None, None),  # -12% / -6 points, -10% / -5 points
        ("P4", "month6", 200, 44, 45, 40, False, False),  # CK at the ULN exactly
        ("P5", "index", 300, 50, 50, 40, None, None),  # symptoms only; CK missing at follow-up
        ("P5", "month6", None, 50, 50, 40, False, True),
        ("P6", "index", None, 50, 50, 40, None, None),  # CK missing at baseline, 250 after
        ("P6", "month6", 250, None, 50, 40, False, False),  # FVC missing at follow-up
    ]
    frame = pd.DataFrame(rows, columns=["patient_id", "timepoint", "ck", "fvc", "tlc", "dlco",
                                        "worsening_weakness", "worsening_resp_symptoms"])
    frame["aldolase"] = 5.0
    frame["hospitalised"] = False
    frame["ck"] = frame["ck"].astype("Int64")
    for col in ("fvc", "tlc", "dlco", "aldolase"):
        frame[col] = frame[col].astype("Float64")
    for col in ("worsening_weakness", "worsening_resp_symptoms", "hospitalised"):
        frame[col] = frame[col].astype("boolean")
    for col in ("patient_id", "timepoint"):
        frame[col] = frame[col].astype("string")
    return frame


IDS = ["P1", "P2", "P3", "P4", "P5", "P6"]


def _matrices(*params):
    changes = assessment_changes(_tiny_assessments(), "index", "month6", IDS)
    return evaluate(changes, list(params))


def test_boundaries_under_several_definitions_at_once():
    paper, absolute, fall30 = Params(), Params(decline_scale="absolute"), Params(ck_fall=0.3)
    three = Params(ild_criteria_required=3)
    m = _matrices(paper, absolute, fall30, three)
    row = IDS.index
    # P1: FVC and TLC down exactly 10% count (>= cutoff): 2 criteria, refractory ILD ...
    assert m["fvc_decline"][row("P1")].tolist() == [True, False, True, True]
    assert m["ild_criteria_met"][row("P1")].tolist() == [2, 1, 2, 2]
    assert m["refractory_ild"][row("P1")].tolist() == [True, False, True, False]
    # ... CK 1000 -> 400 fell 60%: myositis improved; responder only when ILD is not refractory.
    assert m["responder"][row("P1")].tolist() == [False, True, False, True]
    # P2: a CK fall of exactly 50% is not "more than 50%"; it is more than 30%.
    assert m["refractory_myositis"][row("P2")].tolist() == [True, True, False, True]
    # P3: no follow-up assessment: never improves.
    assert not m["responder"][row("P3")].any()
    assert not m["myositis_improved"][row("P3")].any()
    # P4: CK at the upper limit of normal (200) has normalised; FVC -12% (6 points) and TLC
    # -10% (5 points): 2 criteria relative, 0 absolute.
    assert not m["refractory_myositis"][row("P4")].any()
    assert m["ild_criteria_met"][row("P4")].tolist() == [2, 0, 2, 2]
    # P5: symptoms are 1 criterion; a missing follow-up CK leaves the CK criterion met.
    assert m["resp_symptoms"][row("P5")].all()
    assert m["refractory_myositis"][row("P5")].all()
    # P6: a missing FVC meets no criterion; a missing baseline CK with 250 U/l at follow-up
    # (above the limit) leaves the CK criterion met.
    assert not m["fvc_decline"][row("P6")].any()
    assert m["refractory_myositis"][row("P6")].all()
    # A follow-up CK of 250 is normal under a limit of 250.
    assert not _matrices(Params(ck_uln=250))["refractory_myositis"][row("P6"), 0]


def test_missing_data_rules_under_their_alternatives():
    m = _matrices(Params(), Params(ck_missing_followup="not_met"),
                  Params(ck_missing_baseline="not_met"), Params(pft_missing="met"))
    row = IDS.index
    # P5: follow-up CK missing; counts as refractory only under the default.
    assert m["refractory_myositis"][row("P5")].tolist() == [True, False, True, True]
    # P6: baseline CK missing, follow-up 250 (above the limit).
    assert m["refractory_myositis"][row("P6")].tolist() == [True, True, False, True]
    # P6: FVC missing at follow-up; a decline only when a missing PFT counts as met.
    assert m["fvc_decline"][row("P6")].tolist() == [False, False, False, True]
    # P3 (no follow-up assessment) never improves, whatever the missing-data rules.
    assert not m["myositis_improved"][row("P3")].any()
    assert not m["responder"][row("P3")].any()


def test_a_missing_ck_with_a_normal_follow_up_has_normalised():
    frame = pair(ck=(None, 150))
    assert not one(frame)["refractory_myositis"]
    assert one(pair(ck=(None, 250)))["refractory_myositis"]
    assert not one(pair(ck=(None, 250)), ck_missing_baseline="not_met")["refractory_myositis"]


def test_classify_is_the_one_definition_case_of_evaluate():
    frame = _tiny_assessments()
    out = classify(frame, Params(ild_criteria_required=3), "index", "month6")
    assert out.index.tolist() == ["P1", "P2", "P4", "P5", "P6"]  # P3 has no follow-up
    assert out["responder"].tolist() == [True, False, True, False, False]
    assert out["ild_criteria_met"].tolist() == [2, 0, 2, 1, 0]


def test_definition_table_refuses_a_frame_without_a_field():
    with pytest.raises(KeyError, match="ck_uln"):
        definition_table(pd.DataFrame({"fvc_decline": [0.1]}))


# --------------------------------------------------------------------------- independent
def _exact(value) -> Fraction | None:
    """A measurement or cutoff as the exact decimal it was written as (None if missing)."""
    if value is None or pd.isna(value):
        return None
    return Fraction(str(float(value)))


def methods_rules(before: dict, after: dict, d: dict) -> dict:
    """INDEPENDENT IMPLEMENTATION of Sharma 2017, Methods, *Response to treatment*, for one
    patient and one definition ``d``, in plain Python with exact decimal arithmetic (no float
    tolerance): refractory ILD is at least ``ild_criteria_required`` of FVC, TLC, DLCO
    declines reaching their cutoffs (relative to baseline, or in points / 100) and worsening
    symptoms; refractory myositis is worsening weakness or a CK neither at or below ``ck_uln``
    nor fallen by more than ``ck_fall``. A missing PFT value meets its criterion only if
    ``pft_missing`` is "met"; a missing follow-up CK, or a missing baseline CK with an abnormal
    follow-up, meets the CK one if ``ck_missing_followup`` / ``ck_missing_baseline`` is
    "refractory".
    """
    met = 0
    for test in ("fvc", "tlc", "dlco"):
        b, a = _exact(before[test]), _exact(after[test])
        if b is None or a is None:
            met += d["pft_missing"] == "met"
            continue
        change = (b - a) / b if d["decline_scale"] == "relative" else (b - a) / 100
        met += change >= _exact(d[f"{test}_decline"])
    met += bool(d["count_symptoms"] and after["worsening_resp_symptoms"] is True)
    ild = met >= d["ild_criteria_required"]
    b, a = _exact(before["ck"]), _exact(after["ck"])
    if a is None:
        ck = d["ck_missing_followup"] == "refractory"
    elif a <= _exact(d["ck_uln"]):
        ck = False
    elif b is None:
        ck = d["ck_missing_baseline"] == "refractory"
    else:
        ck = not (b - a) / b > _exact(d["ck_fall"])
    myositis = bool(d["count_weakness"] and after["worsening_weakness"] is True) or ck
    return {"ild_criteria_met": met, "refractory_ild": ild, "refractory_myositis": myositis,
            "responder": not (ild or myositis)}


def random_definitions(n: int, seed: int) -> list[dict]:
    """Seeded random definitions, values on and between the grid's steps."""
    rng = random.Random(seed)
    return [{"fvc_decline": rng.choice([0.0, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3]),
             "tlc_decline": rng.choice([0.0, 0.05, 0.1, 0.15, 0.2]),
             "dlco_decline": rng.choice([0.05, 0.1, 0.15, 0.2, 0.25]),
             "decline_scale": rng.choice(["relative", "absolute"]),
             "ild_criteria_required": rng.randint(1, 4),
             "count_symptoms": rng.random() < 0.8, "count_weakness": rng.random() < 0.8,
             "ck_fall": rng.choice([0.2, 0.3, 0.5, 0.6, 0.7]),
             "ck_uln": rng.choice([100.0, 150.0, 200.0, 250.0, 400.0]),
             "ck_missing_baseline": rng.choice(["refractory", "not_met"]),
             "ck_missing_followup": rng.choice(["refractory", "not_met"]),
             "pft_missing": rng.choice(["not_met", "met"])}
            for _ in range(n)]


def _records(frame: pd.DataFrame) -> dict[str, dict]:
    out = {}
    for rec in frame.to_dict("records"):
        out[rec["patient_id"]] = {k: (None if v is pd.NA or (isinstance(v, float) and
                                                              np.isnan(v)) else v)
                                  for k, v in rec.items()}
    return out


@pytest.mark.parametrize("baseline, followup", [("index", "month6"),
                                                ("tac_start", "tac_month12")])
def test_evaluate_agrees_with_an_independent_reading_of_the_methods(cohort, baseline,
                                                                     followup):
    defs = random_definitions(150, seed=20170) + [
        {name: getattr(Params(), name) for name in DEFINITION_FIELDS}]
    changes = assessment_changes(cohort.assessments, baseline, followup)
    matrices = evaluate(changes, pd.DataFrame(defs))
    a = cohort.assessments
    before = _records(a[a["timepoint"] == baseline])
    after = _records(a[a["timepoint"] == followup])
    assert len(changes.patient_ids) >= 18  # every patient with both assessments
    for i, pid in enumerate(changes.patient_ids):
        for j, d in enumerate(defs):
            expected = methods_rules(before[pid], after[pid], d)
            got = {name: matrices[name][i, j].item() for name in expected}
            assert got == expected, (pid, d)


def test_evaluate_agrees_with_the_independent_reading_on_the_boundary_cases():
    frame = _tiny_assessments()
    defs = random_definitions(300, seed=7)
    changes = assessment_changes(frame, "index", "month6")
    matrices = evaluate(changes, pd.DataFrame(defs))
    before = _records(frame[frame["timepoint"] == "index"])
    after = _records(frame[frame["timepoint"] == "month6"])
    for i, pid in enumerate(changes.patient_ids):
        for j, d in enumerate(defs):
            expected = methods_rules(before[pid], after[pid], d)
            assert {k: matrices[k][i, j].item() for k in expected} == expected, (pid, d)
