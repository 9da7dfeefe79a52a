"""Parameters: the paper's defaults, YAML and -p overrides, and clear refusals."""

import pytest

from analysis.errors import ParameterError
from analysis.params import Params, parse_assignment


def test_defaults_are_the_papers_methods():
    p = Params()
    # Sharma 2017, Methods: CK fall > 50%; FVC 10%, TLC 10%, DLCO 15%; 2 of 4; > 18 years.
    assert (p.ck_fall, p.fvc_decline, p.tlc_decline, p.dlco_decline) == (0.5, 0.1, 0.1, 0.15)
    assert p.ild_criteria_required == 2 and p.min_age == 18
    assert p.conventional_followup == "month6"


def test_assumptions_are_named_fields_with_paper_reproducing_defaults():
    p = Params()
    assert (p.ck_missing_baseline, p.ck_missing_followup, p.pft_missing, p.age_rule) == (
        "refractory", "refractory", "not_met", ">=")
    described = {spec["name"]: spec for spec in Params.describe()}
    for name, alternatives in (("ck_missing_baseline", ("not_met",)),
                               ("ck_missing_followup", ("not_met",)),
                               ("pft_missing", ("met",)), ("age_rule", (">",)),
                               ("ck_uln", (150.0, 250.0))):
        spec = described[name]
        assert spec["assumption"] and spec["source"], name
        assert spec["alternatives"] == alternatives
    assert described["ck_uln"]["assumption"] == "assumed laboratory ULN"
    assert "fitted to the printed value" in described["categorical_tests"]["assumption"]
    assert described["fvc_decline"]["assumption"] == ""  # printed in the Methods
    with pytest.raises(ParameterError, match="refractory | not_met".replace("|", r"\|")):
        Params.load(overrides=["ck_missing_followup=maybe"])
    assert Params.load(overrides=["ck_missing_followup=not_met"]).differences() == {
        "ck_missing_followup": ("refractory", "not_met")}


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("fvc_decline: 0.05\nild_criteria_required: 3\n")
    p = Params.load(path, ["ild_criteria_required=1", "decline_scale=absolute"])
    assert (p.fvc_decline, p.ild_criteria_required, p.decline_scale) == (0.05, 1, "absolute")
    assert set(p.differences()) == {"fvc_decline", "ild_criteria_required", "decline_scale"}


def test_round_trip_through_dict():
    p = Params.load(overrides=["continuous_tests.t2.age=mannwhitney"])
    assert Params.from_dict(p.to_dict()) == p
    assert p.continuous_test("t2.age") == "mannwhitney"


@pytest.mark.parametrize("item, message", [
    ("fvc_dcline=0.05", "did you mean 'fvc_decline'"),
    ("fvc_decline=2", "between 0 and 1"),
    ("fvc_decline=abc", "must be a number"),
    ("ild_criteria_required=2.5", "whole number"),
    ("ild_criteria_required=5", "between 1 and 4"),
    ("decline_scale=log", "relative | absolute"),
    ("count_symptoms=maybe", "true or false"),
    ("continuous_tests.t2.age=wilcoxon", "t | welch | mannwhitney"),
    ("continuous_tests.t9.age=t", "unknown row"),
    ("fvc_decline", "expected name=value"),
    ("=3", "expected name=value"),
])
def test_bad_parameters_are_refused_with_what_is_allowed(item, message):
    with pytest.raises(ParameterError, match=message.replace("|", r"\|")):
        Params.load(overrides=[item])


def test_bad_yaml_files(tmp_path):
    missing = tmp_path / "none.yaml"
    with pytest.raises(ParameterError, match="not found"):
        Params.load(missing)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    # a list is not parameters: the message names the line and what a line should hold
    with pytest.raises(ParameterError, match=r"line 1: expected lines of 'name: value'"):
        Params.load(listed)
    unknown = tmp_path / "u.yaml"
    unknown.write_text("fvc: 0.1\n")
    with pytest.raises(ParameterError, match=str(unknown).replace("\\", "\\\\")):
        Params.load(unknown)


def test_parse_assignment_types():
    assert parse_assignment("count_symptoms=false") == ("count_symptoms", False)
    assert parse_assignment("min_age=21") == ("min_age", 21)


def test_params_are_frozen():
    with pytest.raises(AttributeError):
        Params().fvc_decline = 0.2
