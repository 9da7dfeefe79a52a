"""The reconstruction's assumptions (issue 12): the registry, and the headline counts under each
alternative checked against ``plain_flow`` (tests/conftest.py), an INDEPENDENT plain-Python
reading of the Methods (eligibility, response, Figure 1) over the validated tables, which
shares no code with ``analysis.response`` or ``analysis.cohort``.

Issue 12 states: with "a missing value meets no criterion" the conventional split becomes 33/21
and the tacrolimus one 15/2 of 17; with a CK upper limit of 150 U/l the split is 28/26.
"""

import pytest

from analysis import assumptions
from analysis.params import Params


@pytest.fixture(scope="module")
def table(cohort):
    return assumptions.assumption_table(cohort.patients, cohort.assessments)


def _row(table, name, alternative):
    rows = table[(table["name"] == name) & (table["alternative"] == alternative)]
    assert len(rows) == 1, (name, alternative)
    return rows.iloc[0]


def _alt_counts(row) -> dict:
    return {q: int(row[f"{q}_alt"]) for q in assumptions.HEADLINE}


def test_the_independent_reading_gives_figure_1_under_the_defaults(cohort, table, plain_flow):
    # Sharma 2017, Figure 1: 54 included, 31 responders / 23 failures, 13 of 18 on tacrolimus.
    expected = {"included": 54, "conv_responders": 31, "conv_failures": 23,
                "tac_analysed": 18, "tac_responders": 13}
    assert plain_flow(cohort) == expected
    assert {q: int(table[q].iloc[0]) for q in assumptions.HEADLINE} == expected


def test_a_missing_value_meeting_no_criterion_gives_33_21_and_15_of_17(cohort, table, plain_flow):
    independent = plain_flow(cohort, missing_ck="not_met")
    # Issue 12's numbers, confirmed by the independent reading.
    assert (independent["conv_responders"], independent["conv_failures"]) == (33, 21)
    assert (independent["tac_responders"], independent["tac_analysed"]) == (15, 17)
    assert _alt_counts(_row(table, "missing_meets_no_criterion", "not_met")) == independent
    # In data/raw only baseline CKs are missing (10 at index, 9 at tacrolimus start), so the
    # baseline rule alone makes the whole difference and the follow-up rule none.
    assert _alt_counts(_row(table, "ck_missing_baseline", "not_met")) == independent
    assert _alt_counts(_row(table, "ck_missing_followup", "not_met")) == plain_flow(cohort)


def test_a_ck_limit_of_150_gives_28_26(cohort, table, plain_flow):
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
                      "pft_missing", "missing_visit"}
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
    assert values["assume.n_assumptions"] == 9  # issue 23 added missing_visit
    assert all(key.startswith("assume.") for key in values)


@pytest.mark.slow
def test_the_alternative_missing_data_reading_runs_from_the_command_line(paper_run, cohort,
                                                                         plain_flow):
    # Issue 12, Done when: `-p` with the alternative missing-data reading runs end to end, and
    # its variant report shows the changed counts. Expected counts: the independent reading of
    # the Methods in tests/conftest.py with a missing CK meeting no criterion.
    from analysis.cli import main

    name = "missing-not-met"
    code = main(["run", "--name", name, "-p", "ck_missing_baseline=not_met",
                 "-p", "ck_missing_followup=not_met", "--runs-dir", str(paper_run.parent),
                 "--to", "none"])
    assert code == 0
    variant = (paper_run.parent / name / "tables" / "variant.md").read_text(encoding="utf-8")
    paper, alternative = plain_flow(cohort), plain_flow(cohort, missing_ck="not_met")
    for label, key in (("Responded to conventional treatment", "conv_responders"),
                       ("Failed conventional treatment", "conv_failures"),
                       ("Received tacrolimus, sufficient data", "tac_analysed"),
                       ("Responded to tacrolimus", "tac_responders")):
        row = next(line for line in variant.splitlines() if line.startswith(f"| {label} "))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1:3] == [str(paper[key]), str(alternative[key])], row
