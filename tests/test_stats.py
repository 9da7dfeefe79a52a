"""Tests of analysis.stats: every test against SciPy called directly, hand formulas, and
published reference values (R documentation, Agresti, a Stata output)."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import DataValidationError, ParameterError
from analysis.stats import (
    TEST_LABELS,
    CategoricalResult,
    categorical_p,
    choose_categorical_test,
    drop_empty,
    expected_counts,
    fisher_exact,
    fisher_exact_rxc,
    fisher_one_sided,
    paired_t,
    pearson_chi2,
    select_categorical_test,
    two_sample,
)

# --------------------------------------------------------------------------- helpers


def brute_force_ffh(table: list[list[int]]) -> float:
    """Fisher-Freeman-Halton p by listing every table with the margins (exact fractions)."""
    arr = np.asarray(table)
    rows, cols = arr.sum(axis=1).tolist(), arr.sum(axis=0).tolist()
    n = int(arr.sum())
    r, c = arr.shape
    const = Fraction(
        math.prod(math.factorial(v) for v in rows) * math.prod(math.factorial(v) for v in cols),
        math.factorial(n),
    )

    def prob(cells: list[int]) -> Fraction:
        return const / math.prod(math.factorial(v) for v in cells)

    p_obs = prob(arr.ravel().tolist())
    total = Fraction(0)
    # free cells: the first (r-1) x (c-1) block; the rest follows from the margins
    ranges = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for free in itertools.product(*ranges):
        block = np.array(free, dtype=np.int64).reshape(r - 1, c - 1)
        last_col = np.array(rows[:-1]) - block.sum(axis=1)
        top = np.column_stack([block, last_col])
        last_row = np.array(cols) - top.sum(axis=0)
        full = np.vstack([top, last_row])
        if (full < 0).any():
            continue
        p = prob(full.ravel().tolist())
        if p <= p_obs * Fraction(10**7 + 1, 10**7):
            total += p
    return float(total)


def direction_tail(table: list[list[int]]) -> float:
    """One-sided Fisher in the direction of the observed deviation of the top-left cell."""
    arr = np.asarray(table)
    expected = arr.sum(axis=1)[0] * arr.sum(axis=0)[0] / arr.sum()
    alternative = "greater" if arr[0, 0] >= expected else "less"
    return float(scipy.stats.fisher_exact(arr, alternative=alternative).pvalue)


# Every 2 x 2 table of Sharma 2017 Tables 2 and 3 (printed counts; serology/DMARD rows are
# positive vs negative against group sizes 31/23 and 13/5), and the text's PM vs DM table.
PAPER_2X2 = [
    [[6, 10], [25, 13]],  # Table 2 sex
    [[16, 16], [15, 7]],  # Table 2 ANA
    [[18, 9], [13, 14]],  # Table 2 anti-Jo1
    [[13, 9], [18, 14]],  # Table 2 SSA
    [[1, 2], [30, 21]],  # Table 2 Mi-2
    [[0, 1], [31, 22]],  # Table 2 PL-7
    [[1, 1], [30, 22]],  # Table 2 SRP
    [[21, 17], [10, 6]],  # Table 2 honeycombing
    [[19, 16], [12, 7]],  # Table 2 AZA
    [[8, 9], [23, 14]],  # Table 2 MTX
    [[6, 5], [25, 18]],  # Table 2 MMF
    [[6, 2], [7, 3]],  # Table 3 sex
    [[6, 3], [7, 2]],  # Table 3 myositis (CADM 0/0 dropped)
    [[10, 2], [3, 3]],  # Table 3 ANA
    [[6, 0], [7, 5]],  # Table 3 anti-Jo1
    [[5, 2], [8, 3]],  # Table 3 SSA
    [[2, 0], [11, 5]],  # Table 3 Mi-2
    [[0, 1], [13, 4]],  # Table 3 PL-7
    [[1, 0], [12, 5]],  # Table 3 SRP
    [[9, 5], [4, 0]],  # Table 3 honeycombing
    [[8, 5], [5, 0]],  # Table 3 AZA
    [[4, 4], [9, 1]],  # Table 3 MTX
    [[3, 1], [10, 4]],  # Table 3 MMF
    [[20, 10], [7, 13]],  # Results text, PM vs DM
]


# --------------------------------------------------------------------------- tables


def test_drop_empty_removes_zero_rows_and_columns():
    assert drop_empty([[5, 4, 0], [0, 0, 0], [1, 0, 0]]).tolist() == [[5, 4], [1, 0]]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([[1, -1], [2, 3]], "negative"),
        ([[1.5, 1], [2, 3]], "whole-number"),
        ([[1, np.nan], [2, 3]], "missing"),
        ([1, 2, 3], "2-D"),
        ([["a", "b"], ["c", "d"]], "numbers"),
    ],
)
def test_bad_tables_are_rejected(bad, message):
    with pytest.raises(DataValidationError, match=message):
        pearson_chi2(bad)


def test_expected_counts_hand():
    # row totals 16, 38; column totals 31, 23; n = 54
    exp = expected_counts([[6, 10], [25, 13]])
    assert exp[0, 0] == pytest.approx(16 * 31 / 54)
    assert exp[1, 1] == pytest.approx(38 * 23 / 54)


# --------------------------------------------------------------------------- chi-square


@pytest.mark.parametrize(
    "table",
    [[[6, 10], [25, 13]], [[20, 10], [7, 13], [4, 0]], [[14, 12], [13, 9], [4, 0], [0, 2]]],
)
def test_pearson_chi2_hand_formula_and_scipy(table):
    arr = np.asarray(table, dtype=float)
    exp = arr.sum(axis=1, keepdims=True) * arr.sum(axis=0, keepdims=True) / arr.sum()
    stat = ((arr - exp) ** 2 / exp).sum()
    dof = (arr.shape[0] - 1) * (arr.shape[1] - 1)
    hand = scipy.stats.chi2.sf(stat, dof)
    assert pearson_chi2(table) == pytest.approx(hand, rel=1e-12)
    assert pearson_chi2(table) == scipy.stats.chi2_contingency(table, correction=False).pvalue


def test_pearson_chi2_is_uncorrected_by_default_and_yates_on_request():
    table = [[6, 10], [25, 13]]
    arr = np.asarray(table, dtype=float)
    exp = arr.sum(axis=1, keepdims=True) * arr.sum(axis=0, keepdims=True) / arr.sum()
    yates_stat = ((np.abs(arr - exp) - 0.5) ** 2 / exp).sum()
    assert pearson_chi2(table, correction=True) == pytest.approx(
        scipy.stats.chi2.sf(yates_stat, 1), rel=1e-12
    )
    # Table 2, sex: printed p = 0.055 is the uncorrected Pearson chi-square
    assert round(pearson_chi2(table), 3) == 0.055
    assert round(pearson_chi2(table, correction=True), 3) == 0.106


def test_yates_has_no_effect_beyond_2x2():
    table = [[20, 10], [7, 13], [4, 0]]
    assert pearson_chi2(table, correction=True) == pearson_chi2(table)


def test_chi2_drops_empty_levels_and_nan_when_degenerate():
    # Table 3 race prints "Asian 0 0": the level does not enter the test
    with_empty = [[5, 4], [7, 1], [0, 0], [1, 0]]
    assert pearson_chi2(with_empty) == pearson_chi2([[5, 4], [7, 1], [1, 0]])
    assert math.isnan(pearson_chi2([[2, 0], [2, 0], [2, 0], [1, 0]]))


# --------------------------------------------------------------------------- Fisher 2 x 2


@pytest.mark.parametrize("table", PAPER_2X2)
def test_fisher_tails_from_the_hypergeometric_distribution(table):
    # Independent implementation: the top-left count X of a 2 x 2 table with fixed margins is
    # hypergeometric (scipy.stats.hypergeom, not the fisher_exact that analysis.stats wraps).
    # "less" = P(X <= a), "greater" = P(X >= a), two-sided = sum of the probabilities of the
    # tables no more probable than the observed one (relative tolerance 1e-7, as R).
    (a, b), (c, d) = table
    dist = scipy.stats.hypergeom(a + b + c + d, a + b, a + c)
    support = np.arange(max(0, a + c - (c + d)), min(a + b, a + c) + 1)
    pmf = dist.pmf(support)
    two_sided = pmf[pmf <= dist.pmf(a) * (1 + 1e-7)].sum()
    assert fisher_exact(table, alternative="less") == pytest.approx(dist.cdf(a), rel=1e-9)
    assert fisher_exact(table, alternative="greater") == pytest.approx(dist.sf(a - 1), rel=1e-9)
    assert fisher_exact(table) == pytest.approx(min(1.0, two_sided), rel=1e-9)
    assert fisher_one_sided(table) == pytest.approx(min(dist.cdf(a), dist.sf(a - 1)), rel=1e-9)


def test_fisher_tea_tasting_agresti():
    # Agresti (2002) Table 3.8, R fisher.test(TeaTasting): two-sided 0.4857,
    # alternative = "greater" 0.2429 (= 17/70)
    tea = [[3, 1], [1, 3]]
    assert fisher_exact(tea) == pytest.approx(34 / 70, abs=1e-12)
    assert fisher_exact(tea, alternative="greater") == pytest.approx(17 / 70, abs=1e-12)
    assert fisher_exact(tea, alternative="less") == pytest.approx(69 / 70, abs=1e-12)


def test_fisher_tails_hand_hypergeometric():
    # Table 3 anti-Jo1: 6 positive responders, 0 positive nonresponders (13 vs 5).
    # X = positives among nonresponders ~ Hypergeom(18, 6 positives, 5 drawn).
    # P(X = 0) = C(12, 5) / C(18, 5) = 792 / 8568; the other tail adds X = 4, 5.
    table = [[6, 0], [7, 5]]
    p0 = Fraction(math.comb(12, 5), math.comb(18, 5))
    p4 = Fraction(math.comb(6, 4) * math.comb(12, 1), math.comb(18, 5))
    p5 = Fraction(math.comb(6, 5), math.comb(18, 5))
    assert fisher_one_sided(table) == pytest.approx(float(p0), rel=1e-12)
    assert fisher_exact(table) == pytest.approx(float(p0 + p4 + p5), rel=1e-12)
    assert round(fisher_one_sided(table), 2) == 0.09  # Table 3 prints 0.09
    assert round(fisher_exact(table), 2) == 0.11


def test_fisher_one_sided_matches_stata_output():
    # Stata `tabi 4 9 \ 8 4`: "Fisher's exact = 0.115", "1-sided Fisher's exact = 0.081"
    assert round(fisher_exact([[4, 9], [8, 4]]), 3) == 0.115
    assert round(fisher_one_sided([[4, 9], [8, 4]]), 3) == 0.081


@pytest.mark.parametrize("table", PAPER_2X2)
def test_one_sided_is_the_smaller_tail_in_the_observed_direction(table):
    less = scipy.stats.fisher_exact(table, alternative="less").pvalue
    greater = scipy.stats.fisher_exact(table, alternative="greater").pvalue
    assert fisher_one_sided(table) == min(less, greater)
    assert fisher_one_sided(table) == direction_tail(table)
    # orientation does not matter
    flipped = [table[1], table[0]]
    assert fisher_one_sided(flipped) == pytest.approx(fisher_one_sided(table), rel=1e-12)


def test_fisher_2x2_rejects_other_shapes_and_bad_alternative():
    with pytest.raises(DataValidationError, match="2 x 2"):
        fisher_exact([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ParameterError, match="alternative"):
        fisher_exact([[1, 2], [3, 4]], alternative="left")


def test_fisher_2x2_with_an_empty_row_is_not_testable():
    assert math.isnan(fisher_exact([[0, 0], [3, 4]]))
    assert math.isnan(fisher_one_sided([[0, 3], [0, 4]]))


# --------------------------------------------------------------------------- Fisher r x c


def test_ffh_job_satisfaction_r_documentation():
    # R ?fisher.test, Job satisfaction by income (Agresti 2002, Table 2.8): p-value = 0.7827
    job = [[1, 2, 1, 0], [3, 3, 6, 1], [10, 10, 14, 9], [6, 7, 12, 11]]
    assert round(fisher_exact_rxc(job), 4) == 0.7827


@pytest.mark.parametrize(
    "table",
    [
        [[3, 2], [1, 2], [0, 3], [1, 2]],  # Table 2 histology
        [[5, 4], [7, 1], [1, 0]],  # Table 3 race without Asian
        [[10, 4], [2, 0], [1, 1]],  # Table 3 smoking
        [[2, 0, 3], [1, 4, 0], [3, 1, 2]],
        [[1, 2, 3, 0], [3, 1, 0, 2]],
        [[0, 5], [5, 0], [2, 2]],
        [[4, 0], [0, 4]],
        [[1, 1], [1, 1]],
    ],
)
def test_ffh_equals_brute_force_enumeration(table):
    assert fisher_exact_rxc(table) == pytest.approx(brute_force_ffh(table), rel=1e-12, abs=1e-15)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda r: st.integers(2, 3).flatmap(
            lambda c: st.lists(
                st.lists(st.integers(0, 4), min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    )
)
def test_ffh_equals_brute_force_on_random_small_tables(table):
    arr = drop_empty(table)
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        assert math.isnan(fisher_exact_rxc(table))
        return
    assert fisher_exact_rxc(table) == pytest.approx(
        brute_force_ffh(arr.tolist()), rel=1e-12, abs=1e-15
    )


@pytest.mark.parametrize("table", PAPER_2X2)
def test_ffh_on_2x2_equals_scipy_two_sided(table):
    assert fisher_exact_rxc(table) == pytest.approx(
        scipy.stats.fisher_exact(table).pvalue, rel=1e-12
    )


def test_ffh_table2_myositis_and_race_values():
    # Table 2 myositis, printed 0.013; race, printed 0.12 (matches chi-square instead)
    assert round(fisher_exact_rxc([[20, 10], [7, 13], [4, 0]]), 3) == 0.013
    assert round(fisher_exact_rxc([[14, 12], [13, 9], [4, 0], [0, 2]]), 4) == 0.1347


def test_ffh_is_deterministic_and_invariant_to_layout():
    table = [[14, 12], [13, 9], [4, 0], [0, 2]]
    first = fisher_exact_rxc(table)
    assert fisher_exact_rxc(table) == first
    assert fisher_exact_rxc([table[2], table[0], table[3], table[1]]) == first
    assert fisher_exact_rxc(np.asarray(table).T) == first
    assert fisher_exact_rxc([[r[1], r[0]] for r in table]) == first


def test_ffh_observed_most_probable_gives_one_and_degenerate_gives_nan():
    assert fisher_exact_rxc([[6, 6, 6], [6, 6, 6], [6, 6, 6]]) == 1.0
    assert math.isnan(fisher_exact_rxc([[2, 0], [2, 0], [2, 0], [1, 0]]))
    assert math.isnan(fisher_exact_rxc([[3, 4]]))


# --------------------------------------------------------------------------- selection rule


def test_rule_expected_threshold_is_strict():
    # expected counts exactly 5: not "< 5", so chi-square
    table = [[5, 5], [5, 5]]
    assert expected_counts(table).min() == 5
    assert select_categorical_test(table, rule="expected", threshold=5) == "chi2"
    assert select_categorical_test(table, rule="expected", threshold=5.01) == "fisher_two_sided"


def test_rule_observed_vs_expected():
    # Table 2 MMF: min expected 4.69, min observed 5
    mmf = [[6, 5], [25, 18]]
    assert select_categorical_test(mmf, rule="expected", threshold=5) == "fisher_two_sided"
    assert select_categorical_test(mmf, rule="observed", threshold=5) == "chi2"
    assert select_categorical_test(mmf, rule="observed", threshold=6) == "fisher_two_sided"


def test_rule_never_always_sidedness_and_correction():
    sex = [[6, 10], [25, 13]]
    assert choose_categorical_test(sex, rule="never") == CategoricalResult(
        pearson_chi2(sex), "chi2"
    )
    assert choose_categorical_test(sex, rule="never", correction=True) == CategoricalResult(
        pearson_chi2(sex, correction=True), "chi2_yates"
    )
    assert choose_categorical_test(sex, rule="always") == (fisher_exact(sex), "fisher_two_sided")
    assert choose_categorical_test(sex, rule="always", fisher_sided="one-sided") == (
        fisher_one_sided(sex),
        "fisher_one_sided",
    )


def test_rxc_stays_exact_two_sided_when_one_sided_asked():
    myositis = [[20, 10], [7, 13], [4, 0]]
    res = choose_categorical_test(myositis, fisher_sided="one-sided")
    assert res.test == "fisher_rxc"
    assert res.p == fisher_exact_rxc(myositis)
    # r x c with correction asked is still uncorrected Pearson (Yates is 2 x 2 only)
    assert choose_categorical_test(myositis, rule="never", correction=True).test == "chi2"


def test_empty_level_makes_a_2x2_and_degenerate_is_not_testable():
    # Table 3 myositis "CADM 0 0": tested as PM vs DM 2 x 2; printed 0.50 = one-sided
    res = choose_categorical_test([[6, 3], [7, 2], [0, 0]], fisher_sided="one-sided")
    assert res.test == "fisher_one_sided"
    assert round(res.p, 2) == 0.50
    # Table 3 histology: no nonresponder had a biopsy; printed "N/A"
    res = choose_categorical_test([[2, 0], [2, 0], [2, 0], [1, 0]])
    assert res.test == "not_testable" and math.isnan(res.p)


def test_every_test_id_has_a_label_and_categorical_p_dispatches():
    table = [[6, 0], [7, 5]]
    expected = {
        "chi2": pearson_chi2(table),
        "chi2_yates": pearson_chi2(table, correction=True),
        "fisher_two_sided": fisher_exact(table),
        "fisher_one_sided": fisher_one_sided(table),
        "fisher_rxc": fisher_exact_rxc(table),
    }
    for test, value in expected.items():
        assert test in TEST_LABELS
        assert categorical_p(table, test) == value
    assert "not_testable" in TEST_LABELS and math.isnan(categorical_p(table, "not_testable"))
    assert expected["fisher_rxc"] == pytest.approx(expected["fisher_two_sided"], rel=1e-12)
    with pytest.raises(ParameterError, match="unknown categorical test"):
        categorical_p(table, "g_test")
    with pytest.raises(DataValidationError, match="2 x 2"):
        categorical_p([[1, 2], [3, 4], [5, 6]], "fisher_one_sided")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rule": "sometimes"}, "rule"),
        ({"fisher_sided": "left"}, "fisher_sided"),
        ({"threshold": 0}, "threshold"),
        ({"threshold": "5"}, "threshold"),
        ({"threshold": True}, "threshold"),
    ],
)
def test_bad_rule_parameters_are_rejected(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        choose_categorical_test([[1, 2], [3, 4]], **kwargs)


# --------------------------------------------------------------------------- continuous

X = [46.0, 52.0, 38.0, 61.0, 44.0, 50.0, 39.0, 58.0]
Y = [40.0, 35.0, 47.0, 33.0, 44.0, 29.0, 42.0]


def test_student_t_pooled_hand_formula_and_scipy():
    x, y = np.array(X), np.array(Y)
    n1, n2 = len(x), len(y)
    sp2 = ((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / (n1 + n2 - 2)
    t = (x.mean() - y.mean()) / math.sqrt(sp2 * (1 / n1 + 1 / n2))
    hand = 2 * scipy.stats.t.sf(abs(t), n1 + n2 - 2)
    assert two_sample(X, Y, test="t") == pytest.approx(hand, rel=1e-10)
    assert two_sample(X, Y) == scipy.stats.ttest_ind(X, Y).pvalue


def test_welch_hand_formula_and_scipy():
    x, y = np.array(X), np.array(Y)
    v1, v2 = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    t = (x.mean() - y.mean()) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (len(x) - 1) + v2**2 / (len(y) - 1))
    hand = 2 * scipy.stats.t.sf(abs(t), df)
    assert two_sample(X, Y, test="welch") == pytest.approx(hand, rel=1e-10)
    assert two_sample(X, Y, test="welch") == scipy.stats.ttest_ind(X, Y, equal_var=False).pvalue


def test_mann_whitney_hand_z_with_ties_no_continuity():
    # x = 1, 2, 3, 4; y = 3, 4, 5, 6, 7. Midranks: x gets 1, 2, 3.5, 5.5 -> T = 12.
    # E(T) = n1 (n + 1) / 2 = 20; two tie groups of size 2: sum(t^3 - t) = 12;
    # Var(T) = n1 n2 / 12 * ((n + 1) - 12 / (n (n - 1))) = 20/12 * (10 - 1/6)
    # z = (12 - 20) / sqrt(Var) (Stata ranksum, no continuity correction)
    var = 20 / 12 * (10 - 12 / (9 * 8))
    z = (12 - 20) / math.sqrt(var)
    assert z == pytest.approx(-1.97613, abs=1e-5)
    hand = 2 * scipy.stats.norm.sf(abs(z))
    assert two_sample([1, 2, 3, 4], [3, 4, 5, 6, 7], test="mannwhitney") == pytest.approx(
        hand, rel=1e-12
    )
    assert round(hand, 4) == 0.0481


def test_mann_whitney_equals_scipy_asymptotic_without_continuity():
    expected = scipy.stats.mannwhitneyu(
        X, Y, alternative="two-sided", method="asymptotic", use_continuity=False
    ).pvalue
    assert two_sample(X, Y, test="mannwhitney") == expected
    # and differs from the continuity-corrected variant
    corrected = scipy.stats.mannwhitneyu(X, Y, method="asymptotic", use_continuity=True).pvalue
    assert two_sample(X, Y, test="mannwhitney") != corrected


def test_two_sample_drops_missing_and_handles_tiny_groups():
    assert two_sample([*X, np.nan], Y) == two_sample(X, Y)
    assert math.isnan(two_sample([1.0], Y))
    assert math.isnan(two_sample([], Y, test="mannwhitney"))
    with pytest.raises(ParameterError, match="test"):
        two_sample(X, Y, test="wilcoxon")


def test_paired_t_hand_formula_and_scipy_with_missing_pair_dropped():
    before = [40.0, 30.0, 60.0, 20.0, np.nan, 35.0]
    after = [10.0, 10.0, 20.0, 5.0, 12.5, np.nan]
    d = np.array([30.0, 20.0, 40.0, 15.0])
    t = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    hand = 2 * scipy.stats.t.sf(abs(t), len(d) - 1)
    assert paired_t(before, after) == pytest.approx(hand, rel=1e-12)
    assert (
        paired_t(before, after) == scipy.stats.ttest_rel([40, 30, 60, 20], [10, 10, 20, 5]).pvalue
    )


def test_paired_t_degenerate_and_bad_input():
    assert math.isnan(paired_t([10.0], [5.0]))
    assert math.isnan(paired_t([10.0, 20.0, 30.0], [5.0, 15.0, 25.0]))  # constant difference
    with pytest.raises(DataValidationError, match="same length"):
        paired_t([1.0, 2.0], [1.0])
