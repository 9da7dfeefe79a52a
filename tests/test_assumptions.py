"""The reconstruction's assumptions (issue 12): the registry, and the headline counts under each
alternative checked against ``plain_flow`` below, an INDEPENDENT plain-Python reading of the
Methods (eligibility, response, Figure 1) over the validated tables, which shares no code with
``analysis.response`` or ``analysis.cohort``.

Issue 12 states: with "a missing value meets no criterion" the conventional split becomes 33/21
and the tacrolimus one 15/2 of 17; with a CK upper limit of 150 U/l the split is 28/26.
"""

from fractions import Fraction

import pandas as pd
import pytest

from analysis import assumptions
from analysis.params import Params


def _value(x):
    return None if x is None or pd.isna(x) else Fraction(str(float(x)))


def _refractory(before: dict, after: dict, ck_uln: float, missing_ck: str) -> bool:
    """Sharma 2017, Methods: refractory myositis (weakness, or CK neither <= ULN nor fallen by
    more than 50%) or refractory ILD (2 of: FVC -10%, TLC -10%, DLCO -15% relative,
    symptoms). A missing PFT value meets nothing; a missing CK counts as ``missing_ck`` says
    ("refractory" or "not_met")."""
    met = 0
    for test, cutoff in (("fvc", "0.10"), ("tlc", "0.10"), ("dlco", "0.15")):
        b, a = _value(before[test]), _value(after[test])
        met += b is not None and a is not None and (b - a) / b >= Fraction(cutoff)
    met += after["worsening_resp_symptoms"] is True
    b, a = _value(before["ck"]), _value(after["ck"])
    if a is not None and a <= Fraction(str(ck_uln)):
        ck = False
    elif a is None or b is None:
        ck = missing_ck == "refractory"
    else:
        ck = not (b - a) / b > Fraction("0.5")
    return met >= 2 or ck or after["worsening_weakness"] is True


def plain_flow(cohort, ck_uln: float = 200.0, missing_ck: str = "refractory") -> dict:
    """INDEPENDENT IMPLEMENTATION of Figure 1 (Sharma 2017, Methods, Patients and Response)."""
    def records(timepoint):
        frame = cohort.assessments[cohort.assessments["timepoint"] == timepoint]
        return {r["patient_id"]: {k: (None if v is pd.NA else v) for k, v in r.items()}
                for r in frame.to_dict("records")}

    index, month6 = records("index"), records("month6")
    start, month12 = records("tac_start"), records("tac_month12")
    included = conv_resp = tac_n = tac_resp = 0
    for p in cohort.patients.to_dict("records"):
        dmard = any(p[f"{d}_conventional"] is True for d in ("aza", "mtx", "mmf"))
        if (p["age_at_index"] < 18 or p["myositis_type"] in ("overlap", "IBM", "other_myopathy")
                or p["cancer_chemo_before_conventional"] is True
                or not (p["prednisone_conventional"] is True and dmard)):
            continue
        included += 1
        pid = p["patient_id"]
        if pid in index and pid in month6 and not _refractory(index[pid], month6[pid], ck_uln,
                                                               missing_ck):
            conv_resp += 1
            continue
        if p["second_line"] == "tacrolimus" and p["tacrolimus_data_sufficient"] is True:
            tac_n += 1
            tac_resp += (pid in start and pid in month12
                         and not _refractory(start[pid], month12[pid], ck_uln, missing_ck))
    return {"included": included, "conv_responders": conv_resp,
            "conv_failures": included - conv_resp, "tac_analysed": tac_n,
            "tac_responders": tac_resp}


@pytest.fixture(scope="module")
def table(cohort):
    return assumptions.assumption_table(cohort.patients, cohort.assessments)


def _row(table, name, alternative):
    rows = table[(table["name"] == name) & (table["alternative"] == alternative)]
    assert len(rows) == 1, (name, alternative)
    return rows.iloc[0]


def _alt_counts(row) -> dict:
    return {q: int(row[f"{q}_alt"]) for q in assumptions.HEADLINE}


def test_the_independent_reading_gives_figure_1_under_the_defaults(cohort, table):
    # Sharma 2017, Figure 1: 54 included, 31 responders / 23 failures, 13 of 18 on tacrolimus.
    expected = {"included": 54, "conv_responders": 31, "conv_failures": 23,
                "tac_analysed": 18, "tac_responders": 13}
    assert plain_flow(cohort) == expected
    assert {q: int(table[q].iloc[0]) for q in assumptions.HEADLINE} == expected


def test_a_missing_value_meeting_no_criterion_gives_33_21_and_15_of_17(cohort, table):
    independent = plain_flow(cohort, missing_ck="not_met")
    # Issue 12's numbers, confirmed by the independent reading.
    assert (independent["conv_responders"], independent["conv_failures"]) == (33, 21)
    assert (independent["tac_responders"], independent["tac_analysed"]) == (15, 17)
    assert _alt_counts(_row(table, "missing_meets_no_criterion", "not_met")) == independent
    # In data/raw only baseline CKs are missing (10 at index, 9 at tacrolimus start), so the
    # baseline rule alone makes the whole difference and the follow-up rule none.
    assert _alt_counts(_row(table, "ck_missing_baseline", "not_met")) == independent
    assert _alt_counts(_row(table, "ck_missing_followup", "not_met")) == plain_flow(cohort)


def test_a_ck_limit_of_150_gives_28_26(cohort, table):
    independent = plain_flow(cohort, ck_uln=150.0)
    assert (independent["conv_responders"], independent["conv_failures"]) == (28, 26)
    assert _alt_counts(_row(table, "ck_uln", "150")) == independent
    assert _alt_counts(_row(table, "ck_uln", "250")) == plain_flow(cohort, ck_uln=250.0)


def test_the_printed_numbers_force_the_defaults(table):
    missing = _row(table, "ck_missing_baseline", "not_met")
    for printed in ("fig1.conv_responders (31)", "fig1.conv_failures (23)",
                    "fig1.tac_analysed (18)", "fig1.tac_responders (13)"):
        assert printed in missing["forced"]
    assert missing["n_gained"] == 0
    assert "fig1.conv_responders (31)" in _row(table, "ck_uln", "150")["forced"]
    # "> 18" or ">= 18": no patient is exactly 18, so no printed number tells them apart.
    age = _row(table, "age_rule", ">")
    assert (age["n_forced"], age["n_gained"], age["n_changed"]) == (0, 0, 0)


@pytest.mark.parametrize("row, printed", [("t2.race", "0.12"), ("t2.smoking", "0.068")])
def test_test_overrides_are_fitted_to_their_printed_p(table, row, printed):
    override = _row(table, f"categorical_tests.{row}", "rule")
    assert override["kind"] == "fitted to the printed value"
    assert override["p_key"] == f"{row}.p"
    # The override reproduces the printed p; following fisher_rule does not (and nothing else
    # in the flow moves).
    decimals = len(printed.split(".")[1])
    assert round(override["p"], decimals) == float(printed)
    assert round(override["p_alt"], decimals) != float(printed)
    assert override["forced"] == f"{row}.p ({printed})"
    assert override["n_changed"] == 1


def test_registry_covers_every_params_assumption():
    names = {a.name for a in assumptions.registry()}
    marked = {spec["name"] for spec in Params.describe()
              if spec["assumption"] and not isinstance(spec["default"], dict)}
    assert marked == {"age_rule", "ck_uln", "ck_missing_baseline", "ck_missing_followup",
                      "pft_missing"}
    assert marked | {"categorical_tests.t2.race", "categorical_tests.t2.smoking",
                     "missing_meets_no_criterion"} == names
    kinds = {spec["name"]: spec["assumption"] for spec in Params.describe()}
    assert kinds["ck_uln"] == "assumed laboratory ULN"
    assert "fitted to the printed value" in kinds["categorical_tests"]


def test_a_run_under_an_alternative_is_compared_with_the_default(cohort):
    params = Params(ck_missing_baseline="not_met")
    out = assumptions.assumption_table(cohort.patients, cohort.assessments, params)
    row = _row(out, "ck_missing_baseline", "paper")
    assert (row["value"], row["alternative_values"]) == ("ck_missing_baseline=not_met",
                                                         "ck_missing_baseline=refractory")
    assert (row["conv_responders"], row["conv_responders_alt"]) == (33, 31)
    assert row["n_gained"] > 0 and "fig1.conv_responders (31)" in row["gained"]


def test_results_keys(table):
    values = assumptions.assumption_results(table)
    assert values["assume.ck_missing_baseline.not_met.conv_responders"] == 33
    assert values["assume.ck_uln.150.conv_failures"] == 26
    assert values["assume.missing_meets_no_criterion.not_met.tac_analysed"] == 17
    assert values["assume.age_rule.gt.n_forced"] == 0
    assert round(values["assume.categorical_tests.t2.race.rule.p"], 2) == 0.13
    assert values["assume.n_assumptions"] == 8
    assert all(key.startswith("assume.") for key in values)
