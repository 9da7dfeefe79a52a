"""Effect sizes and their 95% CIs (issue 16), each against a published or hand-computed value
named in the test; the wiring into Tables 2 and 3 against hand counts of the printed tables."""

import itertools
import math
import statistics

import numpy as np
import pytest

from analysis import effects
from analysis.params import Params
from analysis.tables import EFFECT_COLUMNS, analysis_dataset, table2, table3

# Hollander & Wolfe (1973), p. 69: permeability constants of the human chorioamnion at term (x)
# and at 12-26 weeks (y); R's wilcox.test help example. R prints "difference in location 0.305".
HW_X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
HW_Y = [1.15, 0.88, 0.90, 0.74, 1.21]


@pytest.mark.parametrize("counts, low, high", [
    # Newcombe RG, Stat Med 1998;17:873-90, Table II, method 10 (score, no continuity
    # correction), examples (a), (b), (d), (e), (f)
    ((56, 70, 48, 80), 0.0524, 0.3339),
    ((9, 10, 3, 10), 0.1705, 0.8090),
    ((5, 56, 0, 29), -0.0381, 0.1926),
    ((0, 10, 0, 20), -0.1611, 0.2775),
    ((10, 10, 0, 20), 0.6791, 1.0000),
])
def test_newcombe_1998_worked_examples(counts, low, high):
    est, lo, hi = effects.prop_diff_newcombe(*counts)
    assert est == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_conditional_odds_ratio_agresti_tea_tasting():
    # Agresti, Categorical Data Analysis (2nd ed. 2002), sec. 3.5.2 / 3.6.1: Fisher's tea
    # tasting [[3, 1], [1, 3]]: conditional ML estimate 6.41, exact 95% CI 0.21 to 626.17
    # (R fisher.test prints 0.2117 to 621.93: the upper limit is sensitive to root-finding).
    est, lo, hi, name = effects.odds_ratio_exact(np.array([[3, 1], [1, 3]]))
    assert name == "exact_conditional"
    assert round(est, 2) == 6.41
    assert round(lo, 2) == 0.21
    assert hi == pytest.approx(626.17, rel=0.01)


def test_odds_ratio_zero_cell_and_zero_margin():
    # Hand: a zero cell b = 0 gives an infinite estimate and an infinite upper limit
    est, lo, hi, _ = effects.odds_ratio_exact(np.array([[6, 0], [7, 5]]))
    assert math.isinf(est) and math.isinf(hi) and 0 < lo < 1
    assert all(math.isnan(v) for v in effects.odds_ratio_exact(np.array([[0, 0], [3, 5]]))[:3])


def test_large_table_odds_ratio_uses_the_woolf_interval():
    # Hand (Woolf 1955): [[1000, 500], [400, 600]]: OR = 3.0, SE of log OR =
    # sqrt(1/1000 + 1/500 + 1/400 + 1/600) = 0.08466 -> exp(log 3 +- 1.96 * 0.08466)
    est, lo, hi, name = effects.odds_ratio_exact(np.array([[1000, 500], [400, 600]]))
    se = math.sqrt(1 / 1000 + 1 / 500 + 1 / 400 + 1 / 600)
    assert name == "woolf" and est == pytest.approx(3.0)
    assert (lo, hi) == (pytest.approx(3 * math.exp(-1.959964 * se), rel=1e-6),
                        pytest.approx(3 * math.exp(1.959964 * se), rel=1e-6))


def test_cramers_v_hand_computed():
    # Hand: [[10, 0], [0, 10], [5, 5]], n = 30; expected 5 everywhere; chi2 = 4 * 25/5 + 0 = 20;
    # V = sqrt(20 / (30 * 1)) = 0.8165
    est, lo, hi = effects.cramers_v_ncp(np.array([[10, 0], [0, 10], [5, 5]]))
    assert est == pytest.approx(math.sqrt(20 / 30))
    assert 0 < lo < est < hi <= 1


def test_cramers_v_interval_statpsych_worked_example():
    # R statpsych (Bonett), ci.cramer help page (versions 1.5 on, which correct Smithson 2003
    # eq. 4.13): ci.cramer(.05, 19.21, 2, 3, 200) -> Estimate 0.3099, LL 0.1601, UL 0.4417
    lo, hi = effects.cramers_v_ncp_limits(19.21, df=2, n=200, k=1)
    assert (round(lo, 4), round(hi, 4)) == (0.1601, 0.4417)
    assert round(math.sqrt(19.21 / 200), 4) == 0.3099


def test_cramers_v_lower_limit_is_zero_exactly_where_the_chi_square_test_does_not_reject():
    # scipy's Pearson chi-square test (an independent implementation): the 95% interval's
    # lower limit is 0 iff p >= 0.025, and a positive limit makes the test's p at that
    # noncentrality 0.975 (scipy.stats.ncx2, lambda = n k V^2)
    from scipy.stats import chi2_contingency, ncx2

    rng = np.random.default_rng(21)
    seen = set()
    for _ in range(60):
        table = rng.integers(0, 15, size=(3, 2)) + np.array([[0, 0], [3, 0], [0, 3]])
        chi2, p, df, _ = chi2_contingency(table, correction=False)
        est, lo, hi = effects.cramers_v_ncp(table)
        assert (lo == 0) == (p >= 0.025), (table.tolist(), p, lo)
        if lo > 0:
            assert ncx2.cdf(chi2, df, table.sum() * lo ** 2) == pytest.approx(0.975, abs=1e-6)
        assert lo <= est <= hi <= 1
        seen.add(lo == 0)
    assert seen == {True, False}  # both cases drawn


def test_cramers_v_interval_covers_zero_under_independence():
    # Monte Carlo, no association (V = 0): 400 tables of 31 vs 23 patients (Table 2's group
    # sizes) over three levels with the same proportions in both groups. An interval that
    # excludes 0 is wrong; it may do so only where scipy's chi-square test gives p < 0.025
    # (2.5% of tables, asymptotically), at most 5% here. Where chi-square p > 0.975 the
    # inversion is empty and no interval is shown (never wrong). The percentile bootstrap
    # it replaces excluded 0 every time (V's resamples are all above 0).
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(2017)
    probs = [0.5, 0.35, 0.15]
    wrong = empty = 0
    for _ in range(400):
        table = np.column_stack([rng.multinomial(31, probs), rng.multinomial(23, probs)])
        _, lo, _ = effects.cramers_v_ncp(table)
        p = chi2_contingency(table[table.sum(axis=1) > 0], correction=False)[1]
        assert math.isnan(lo) == (p > 0.975)
        wrong += lo > 0
        empty += math.isnan(lo)
    assert wrong / 400 <= 0.05 and empty / 400 <= 0.05


def test_cramers_v_of_a_table_fitting_independence_exactly_has_no_interval():
    # Hand: [[5, 5], [5, 5], [5, 5]]: chi2 = 0, V = 0; P(chi2 <= 0) = 0 < 0.025 for every
    # noncentrality, so the inverted test is empty: the estimate is shown alone
    est, lo, hi = effects.cramers_v_ncp(np.array([[5, 5], [5, 5], [5, 5]]))
    assert est == 0 and math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("m, n, critical", [(5, 5, 2), (8, 8, 13), (10, 10, 23), (5, 10, 8),
                                            (20, 20, 127)])
def test_moses_rank_is_mann_whitney_table_critical_value_plus_one(m, n, critical):
    # Published Mann-Whitney U critical values, two-tailed alpha = 0.05 (e.g. Zar, Biostatistical
    # Analysis, Table B.11): reject if U <= critical; the interval is D(critical + 1) ..
    assert effects.moses_rank(m, n) == critical + 1


def test_u_null_counts_hand_enumerated():
    # Hand: m = n = 3, C(6, 3) = 20 orderings; U = 0..9 counts 1 1 2 3 3 3 3 2 1 1
    assert effects.u_null_counts(3, 3).tolist() == [1, 1, 2, 3, 3, 3, 3, 2, 1, 1]
    assert effects.u_null_counts(5, 7).sum() == math.comb(12, 5)


def test_hodges_lehmann_hollander_wolfe_permeability():
    est, lo, hi = effects.hodges_lehmann(HW_X, HW_Y)
    assert round(est, 3) == 0.305  # R wilcox.test: difference in location 0.305
    # Hand enumeration (plain Python): the 50 differences sorted; critical value 8 for
    # m = 10, n = 5 (two-tailed 0.05) gives D(9) and D(50 + 1 - 9) = D(42)
    diffs = sorted(a - b for a, b in itertools.product(HW_X, HW_Y))
    assert est == pytest.approx(statistics.median(diffs))
    assert (lo, hi) == (pytest.approx(diffs[8]), pytest.approx(diffs[41]))
    assert (round(lo, 2), round(hi, 2)) == (-0.15, 0.76)


def test_hodges_lehmann_bisection_matches_enumeration(monkeypatch):
    # The large-sample path (bisection on the count of differences <= d) against plain
    # enumeration, forced on the Hollander & Wolfe data
    monkeypatch.setattr(effects, "_ENUMERATE_LIMIT", 0)
    est, lo, hi = effects.hodges_lehmann(HW_X, HW_Y)
    assert (est, lo, hi) == (pytest.approx(0.305), pytest.approx(-0.15), pytest.approx(0.76))


def test_hodges_lehmann_small_hand_example():
    # Hand: x = (5, 7, 9), y = (1, 2); differences 4 3 6 5 8 7 -> median (5 + 6) / 2 = 5.5
    assert effects.hodges_lehmann([5, 7, 9], [1, 2])[0] == 5.5


def test_paired_change_hand_computed():
    # Hand: changes 1..5: mean 3, SD sqrt(2.5), SE 0.7071, t(0.975, 4) = 2.7764 -> 3 +- 1.9632
    est, lo, hi = effects.paired_change_t([10, 10, 10, 10, 10], [11, 12, 13, 14, 15])
    assert (est, round(lo, 4), round(hi, 4)) == (3.0, 1.0368, 4.9632)


def test_mean_diff_pooled_hand_computed():
    # Hand: x = (1, 2, 3), y = (4, 5, 6, 7): diff -3.5; pooled var (2 + 5) / 5 = 1.4;
    # SE sqrt(1.4 (1/3 + 1/4)) = 0.903696; t(0.975, 5) = 2.570582 -> -3.5 +- 2.32302
    est, lo, hi = effects.mean_diff_t([1, 2, 3], [4, 5, 6, 7])
    assert (est, round(lo, 4), round(hi, 4)) == (-3.5, -5.8230, -1.1770)


# ------------------------------------------------------------------ wiring into Tables 2-3
@pytest.fixture(scope="module")
def tables(cohort):
    from analysis.cohort import analysis_groups

    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    at_index = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    at_tac = analysis_dataset(cohort.patients, groups, cohort.assessments, "tac_start")
    return table2(at_index, Params()), table3(at_tac, Params())


def _row(frame, variable, level=""):
    return frame[(frame["variable"] == variable) & (frame["level"] == level)].iloc[0]


def test_effect_columns_appended_after_the_existing_ones(tables):
    for frame in tables:
        assert tuple(frame.columns[-len(EFFECT_COLUMNS):]) == EFFECT_COLUMNS
        assert frame.columns[len(frame.columns) - len(EFFECT_COLUMNS) - 1] == "test_two_sided"


def test_table2_sex_row_is_newcombe_on_the_printed_counts(tables):
    # Table 2 prints male 6 of 31 responders, 10 of 23 failures: 6/31 - 10/23 = -0.2412
    sex = _row(tables[0], "sex", "male")
    assert sex["effect_measure"] == "prop_diff" and sex["effect_ci"] == "newcombe_wilson"
    assert sex["effect"] == pytest.approx(6 / 31 - 10 / 23)
    assert sex["odds_ratio"] == pytest.approx(
        effects.odds_ratio_exact(np.array([[6, 25], [10, 13]]))[0])
    assert sex["or_ci"] == "exact_conditional"


def test_table2_myositis_row_is_cramers_v_of_the_3x2_table(tables):
    # Table 2 prints PM 20/10, DM 7/13, CADM 4/0; hand chi2 of that 3 x 2 table:
    obs = np.array([[20, 10], [7, 13], [4, 0]])
    exp = obs.sum(1, keepdims=True) * obs.sum(0) / obs.sum()
    v = math.sqrt(((obs - exp) ** 2 / exp).sum() / 54)
    myo = _row(tables[0], "myositis", "pm")
    assert myo["effect_measure"] == "cramers_v" and myo["effect"] == pytest.approx(v)
    assert myo["effect_ci"] == "noncentral_chi2"
    assert 0 < myo["effect_low"] < myo["effect"] < myo["effect_high"]


def test_no_cramers_v_interval_excludes_zero_beside_a_non_significant_p(tables):
    # Issue 21: "Lung histopathology 0.46 (0.28 to 0.89) ... p 0.66" (bootstrap). Table 2
    # prints histology COP 3/2, UIP 1/2, NSIP 0/3, others 1/2: scipy's chi-square p = 0.40,
    # so the interval starts at 0; every V row of Tables 2-3 of the paper run excludes 0 only
    # beside p < 0.05 (here only myositis, p = 0.013)
    hist = _row(tables[0], "histology", "op")
    assert hist["effect_low"] == 0 and hist["p"] > 0.05
    for frame in tables:
        rows = frame[(frame["effect_measure"] == "cramers_v") & frame["effect_low"].notna()]
        assert len(rows) >= 2
        for rec in rows.to_dict("records"):
            assert rec["effect_low"] == 0 or rec["p"] < 0.05, rec["variable"]


def test_table3_fvc_hodges_lehmann_between_the_means(tables):
    fvc = _row(tables[1], "fvc")
    assert fvc["effect_measure"] == "hl_shift" and fvc["effect_ci"] == "moses_mann_whitney"
    # Table 3's FVC p = 0.010 < 0.05: the interval should exclude 0 (it does: 5 to 37)
    assert 0 < fvc["effect_low"] < fvc["effect"] < fvc["effect_high"]


def test_table3_honeycomb_effect_on_present_row_and_histology_not_estimable(tables):
    # Table 3: honeycombing present 4/13 vs 0/5; histology has no nonresponder biopsied
    honey = _row(tables[1], "honeycomb", "present")
    assert honey["effect"] == pytest.approx(4 / 13) and math.isinf(honey["odds_ratio"])
    assert _row(tables[1], "histology", "op")["effect_ci"] == "not_estimable"


# ------------------------------------------------------------------ the report's section
def test_pm_vs_dm_sentence_states_effect_and_ci(tables):
    from analysis.report.effects import pm_dm_sentence

    pm_dm = effects.pm_vs_dm(tables[0])
    # Sharma 2017, Results / Table 2: PM 20 of 30 responded, DM 7 of 20 (67% vs 35%)
    assert (pm_dm["pm_resp"], pm_dm["pm_n"], pm_dm["dm_resp"], pm_dm["dm_n"]) == (20, 30, 7, 20)
    # Hand: 20/30 - 7/20 = 0.3167; sample OR (20 * 13) / (10 * 7) = 3.71 (the conditional MLE
    # is shrunk towards 1: 3.61)
    assert pm_dm["diff"] == pytest.approx(20 / 30 - 7 / 20)
    assert 1 < pm_dm["or"] < 260 / 70
    text = pm_dm_sentence(pm_dm, 0.0434, Params().min_events_per_term)
    assert "20 of 30 (67%) vs 7 of 20 (35%)" in text
    assert "difference of 31.7 percentage points (95% CI 3.5 to 53.7" in text
    assert "p = 0.043" in text


def test_effects_markdown_has_a_row_per_p_value(tables, cohort):
    from analysis.cohort import analysis_groups
    from analysis.report.effects import effect_rows

    for frame in tables:
        shown = effect_rows(frame, Params().min_events_per_term)
        # one effect per row of the table that prints a p (or N/A): 22 variables
        assert len(shown) == frame["variable"].nunique() == 22
    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    changes = effects.dose_changes(cohort.doses, groups)
    # The paired t interval excludes 0 exactly where the paper's paired t test gives p < 0.05
    # (doses.csv: conventional responders p = 2.5e-6, failures p = 0.08)
    conv = changes.set_index("cohort").loc[["conv_resp", "conv_fail"]]
    assert (conv["change_high"] < 0).tolist() == [True, False]


def test_odds_ratio_of_a_two_by_two_row_needs_the_minimum_events(tables):
    # Table 3 prints 13 tacrolimus responders and 5 nonresponders: 5 events (the fewer). At
    # the default minimum of 5 the odds ratios are shown; at 6 none is, and no row of Table 3
    # shows a number in the odds-ratio column
    from analysis.report.effects import MEASURE_NAMES, effect_rows

    assert Params().min_events_per_term == 5
    shown = effect_rows(tables[1], 5)
    ors = shown.loc[shown["Measure"] == MEASURE_NAMES["prop_diff"], "Odds ratio (exact 95% CI)"]
    assert len(ors) and not ors.str.startswith("not estimable").any()
    hidden = effect_rows(tables[1], 6)
    ors = hidden.loc[hidden["Measure"] == MEASURE_NAMES["prop_diff"],
                 "Odds ratio (exact 95% CI)"]
    assert set(ors) == {"not estimable (5 events)"}


def test_pm_dm_sentence_with_one_event_has_no_odds_ratio():
    # Hand: PM 10 of 10 responded, DM 4 of 5: one failure in all, one event
    from analysis.report.effects import pm_dm_sentence

    pm_dm = {"pm_n": 10, "pm_resp": 10, "dm_n": 5, "dm_resp": 4,
             **dict(zip(("diff", "diff_low", "diff_high"),
                        effects.prop_diff_newcombe(10, 10, 4, 5), strict=True)),
             **dict(zip(("or", "or_low", "or_high"),
                        effects.odds_ratio_exact(np.array([[10, 0], [4, 1]]))[:3], strict=True))}
    text = pm_dm_sentence(pm_dm, 0.33, 5)
    assert "10 of 10 (100%) vs 4 of 5 (80%)" in text
    assert "the odds ratio is not estimable (1 event)" in text and "odds ratio of" not in text
