"""Hypothesis tests of the paper, as small pure functions over count tables and arrays.

Sharma 2017, Statistical analysis: "Continuous variables were reported as means with SD and
were compared using a paired Student t test for normally distributed values. Mann-Whitney
2-samples rank-sum test was used for nonparametric interval variables. Categorical variables
were reported as counts and percentages and compared using the Pearson chi-square test and
Fisher's exact test when n was small (< 5). All analyses were performed using Stata MP v.13."

Every test function returns a plain ``float`` p-value (``nan`` when the test is not defined for
the input); :func:`choose_categorical_test` also names the test it applied. The
paper does not say which Fisher p-value it printed (one- or two-sided) nor what "n was small"
means; :mod:`analysis.audit` infers both from the printed numbers, and the choice is a
parameter here (``rule``, ``threshold``, ``fisher_sided``, ``correction``).

Conventions shared by the categorical tests:

* A table is a 2-D array of non-negative integer counts (rows = levels, columns = groups).
* Rows and columns whose total is zero are dropped first: Stata's ``tabulate`` never shows an
  empty level (e.g. Table 3 "Asian 0 0"), so it never enters Stata's test either.
* A table that has fewer than two non-empty rows or columns is "not testable": p is ``nan``
  (Stata prints no test for it; Table 3 prints "N/A" for lung histopathology).
* Exact tests are exact and deterministic: complete enumeration, never Monte Carlo.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from fractions import Fraction
from functools import cache
from typing import NamedTuple

import numpy as np
import scipy.stats

from analysis.errors import DataValidationError, ParameterError

__all__ = [
    "TEST_LABELS", "CategoricalResult", "categorical_p", "choose_categorical_test", "compositions",
    "drop_empty", "expected_counts", "fisher_exact", "fisher_exact_rxc", "fisher_one_sided",
    "paired_t", "pearson_chi2", "select_categorical_test", "two_sample",
]  # fmt: skip

#: Human-readable name of every test id used in this module (for tables and the report).
TEST_LABELS: dict[str, str] = {
    "chi2": "Pearson chi-square",
    "chi2_yates": "Pearson chi-square with Yates continuity correction",
    "fisher_two_sided": "Fisher's exact test, two-sided",
    "fisher_one_sided": "Fisher's exact test, one-sided (Stata '1-sided Fisher's exact')",
    "fisher_rxc": "Fisher-Freeman-Halton exact test (r x c), two-sided",
    "not_testable": "not testable (fewer than two non-empty rows or columns)",
    "t": "Student t test, pooled variance",
    "welch": "Welch t test",
    "mannwhitney": "Mann-Whitney rank-sum test, normal approximation with tie correction",
    "paired_t": "paired Student t test",
}

#: Relative tolerance used by R, SciPy and this module when comparing table probabilities.
_REL_TOL = 1e-7

_RULES = ("expected", "observed", "never", "always")
_SIDES = ("two-sided", "one-sided")
_ALTERNATIVES = ("two-sided", "less", "greater")
_TWO_SAMPLE = ("t", "welch", "mannwhitney")


class CategoricalResult(NamedTuple):
    """A p-value and the id of the test that produced it (a key of :data:`TEST_LABELS`)."""

    p: float
    test: str


# --------------------------------------------------------------------------- tables


def _as_table(table: object) -> np.ndarray:
    """Validate a count table and return it as a 2-D ``int64`` array."""
    arr = np.asarray(table)
    if arr.ndim != 2:
        raise DataValidationError(
            f"a contingency table must be 2-D (rows = levels, columns = groups); got {arr.ndim}-D"
        )
    if arr.size == 0:
        raise DataValidationError("a contingency table must have at least one cell")
    try:
        as_float = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"a contingency table must hold numbers: {exc}") from exc
    if not np.all(np.isfinite(as_float)):
        raise DataValidationError("a contingency table must not contain missing or infinite counts")
    if np.any(as_float < 0):
        raise DataValidationError("a contingency table must not contain negative counts")
    if np.any(as_float != np.round(as_float)):
        raise DataValidationError("a contingency table must contain whole-number counts")
    return as_float.astype(np.int64)


def drop_empty(table: object) -> np.ndarray:
    """Drop the rows and columns of a count table whose total is zero.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
        Counts; rows are levels of the variable, columns are the compared groups.

    Returns
    -------
    numpy.ndarray of int64
        The table without empty rows and columns (possibly with fewer than 2 of either).

    Notes
    -----
    Sharma 2017, Table 3 prints "Asian 0 0" and "CADM 0 0"; Stata's ``tabulate`` omits such
    levels, so they do not count as rows of the tested table.

    Examples
    --------
    >>> drop_empty([[5, 4], [7, 1], [0, 0], [1, 0]]).tolist()
    [[5, 4], [7, 1], [1, 0]]
    """
    arr = _as_table(table)
    return arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]


def _testable(arr: np.ndarray) -> bool:
    return arr.shape[0] >= 2 and arr.shape[1] >= 2


def expected_counts(table: object) -> np.ndarray:
    """Expected cell counts under independence, ``row total * column total / n``.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
        Counts (empty rows and columns are dropped first).

    Returns
    -------
    numpy.ndarray of float
        Expected counts of the table without its empty rows and columns.

    Examples
    --------
    >>> expected_counts([[6, 10], [25, 13]]).round(2).tolist()
    [[9.19, 6.81], [21.81, 16.19]]
    """
    arr = drop_empty(table)
    n = arr.sum()
    if n == 0:
        return arr.astype(float)
    return np.outer(arr.sum(axis=1), arr.sum(axis=0)) / n


# --------------------------------------------------------------------------- chi-square


def pearson_chi2(table: object, correction: bool = False) -> float:
    """Pearson chi-square test of independence for an r x c table.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
        Counts; empty rows and columns are dropped first.
    correction : bool, default False
        Apply Yates' continuity correction. As in ``scipy.stats.chi2_contingency`` it only
        acts when the test has one degree of freedom (a 2 x 2 table); Stata's ``tabulate,
        chi2`` never applies it, so the default is off.

    Returns
    -------
    float
        p-value; ``nan`` when the table has fewer than two non-empty rows or columns.

    Notes
    -----
    Sharma 2017, Statistical analysis ("Pearson chi-square test"). Computed with
    ``scipy.stats.chi2_contingency(table, correction=correction)``.

    Examples
    --------
    Table 2, sex (male 6 vs 10, female 25 vs 13; printed p = 0.055):

    >>> round(pearson_chi2([[6, 10], [25, 13]]), 3)
    0.055
    >>> round(pearson_chi2([[6, 10], [25, 13]], correction=True), 3)
    0.106
    """
    arr = drop_empty(table)
    if not _testable(arr):
        return math.nan
    res = scipy.stats.chi2_contingency(arr, correction=bool(correction))
    return float(res.pvalue)


# --------------------------------------------------------------------------- Fisher 2 x 2


def _as_2x2(table: object) -> np.ndarray:
    arr = _as_table(table)
    if arr.shape != (2, 2):
        raise DataValidationError(f"this test needs a 2 x 2 table; got shape {arr.shape}")
    return arr


def fisher_exact(table: object, alternative: str = "two-sided") -> float:
    """Fisher's exact test for a 2 x 2 table.

    Parameters
    ----------
    table : array_like of int, shape (2, 2)
        Counts ``[[a, b], [c, d]]``.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        As in ``scipy.stats.fisher_exact``: "less" is P(X <= a), "greater" is P(X >= a), where
        X is the hypergeometric count of the top-left cell; "two-sided" sums the
        probabilities of all tables no more probable than the observed one (relative
        tolerance 1e-7, as R and SciPy).

    Returns
    -------
    float
        p-value; ``nan`` when a row or column of the table is empty (no test is defined).

    Notes
    -----
    Sharma 2017, Statistical analysis ("Fisher's exact test when n was small").

    Examples
    --------
    Fisher's tea-tasting experiment (Agresti 2002, Table 3.8; R ``fisher.test``: two-sided
    p = 0.4857, one-sided "greater" p = 0.2429):

    >>> round(fisher_exact([[3, 1], [1, 3]]), 4)
    0.4857
    >>> round(fisher_exact([[3, 1], [1, 3]], alternative="greater"), 4)
    0.2429
    """
    if alternative not in _ALTERNATIVES:
        raise ParameterError(
            f"alternative must be one of {', '.join(_ALTERNATIVES)}; got {alternative!r}"
        )
    arr = _as_2x2(table)
    if not _testable(drop_empty(arr)):
        return math.nan
    res = scipy.stats.fisher_exact(arr, alternative=alternative)
    return float(res.pvalue)


def fisher_one_sided(table: object) -> float:
    """One-sided Fisher's exact test for a 2 x 2 table, as Stata prints it.

    Stata's ``tabulate, exact`` prints, for a 2 x 2 table, "Fisher's exact" (two-sided) and
    "1-sided Fisher's exact": the probability of the observed table or one more extreme in
    the direction of the observed association. That is the smaller of the two tails
    P(X <= a) and P(X >= a) of the hypergeometric count of the top-left cell.

    Parameters
    ----------
    table : array_like of int, shape (2, 2)
        Counts ``[[a, b], [c, d]]``; the result does not depend on the orientation.

    Returns
    -------
    float
        ``min(P(X <= a), P(X >= a))``; ``nan`` when a row or column is empty.

    Notes
    -----
    Sharma 2017, Statistical analysis. The smaller tail is the tail on the side of the
    observed deviation from the expected count, unless the observed count lies between the
    mean and the median of the hypergeometric distribution; the two coincide for every 2 x 2
    table of the paper's Tables 2 and 3 (tested). Oracle: the Stata ``tabi 4 9 \\ 8 4``
    output quoted in public tutorials, "Fisher's exact = 0.115, 1-sided Fisher's exact =
    0.081".

    Examples
    --------
    >>> round(fisher_one_sided([[4, 9], [8, 4]]), 3), round(fisher_exact([[4, 9], [8, 4]]), 3)
    (0.081, 0.115)
    """
    arr = _as_2x2(table)
    if not _testable(drop_empty(arr)):
        return math.nan
    return min(fisher_exact(arr, alternative="less"), fisher_exact(arr, alternative="greater"))


# --------------------------------------------------------------------------- Fisher r x c


def compositions(total: int, caps: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """All x with sum(x) == total, 0 <= x[i] <= caps[i], in a fixed order: a column of every
    table with given margins (also used by :mod:`analysis.consistency.contingency`)."""
    k = len(caps)
    if k == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest_cap = sum(caps[1:])
    for first in range(max(0, total - rest_cap), min(caps[0], total) + 1):
        for tail in compositions(total - first, caps[1:]):
            yield (first, *tail)


def fisher_exact_rxc(table: object) -> float:
    """Exact Fisher-Freeman-Halton test for an r x c table, by complete enumeration.

    The p-value is the sum of the probabilities of all tables with the observed row and
    column totals whose probability is at most the observed table's probability times
    ``1 + 1e-7`` (the relative tolerance of R's ``fisher.test`` and SciPy). Table
    probabilities are the multivariate hypergeometric
    ``prod(row!) prod(col!) / (n! prod(cell!))``.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
        Counts; empty rows and columns are dropped first.

    Returns
    -------
    float
        Two-sided exact p-value; ``nan`` when fewer than two non-empty rows or columns remain.

    Notes
    -----
    Sharma 2017, Statistical analysis: Stata's ``tabulate, exact`` computes this test for
    r x c tables; SciPy's r x c ``fisher_exact`` is a Monte Carlo approximation and is not
    used here.

    One function of about 130 lines (half of them this docstring): the nested helpers share
    the memo caches and the factorial table of one call.

    Algorithm: the table is filled one column at a time (columns along the longer side). A
    partly filled table is a node: the multiset of remaining row totals (the remaining
    problem does not depend on their order) plus the product of the factorials of the cells
    filled so far. Nodes with the same remaining totals and the same product are merged
    (with a multiplicity), as in Mehta and Patel's network algorithm. For every node the
    smallest and largest factorial product of any completion are known exactly (memoised
    recursion), and so is the summed weight of all completions (closed form,
    ``m! / (prod rem! prod col!)``); a node whose completions all count, or none count, is
    settled at once, the others are expanded. All arithmetic is exact (Python integers and
    fractions), so the comparison with the observed table, including the ``1 + 1e-7``
    tolerance, is exact and the result is deterministic.

    Examples
    --------
    Job satisfaction by income (R ``?fisher.test``; R prints p-value = 0.7827):

    >>> job = [[1, 2, 1, 0], [3, 3, 6, 1], [10, 10, 14, 9], [6, 7, 12, 11]]
    >>> round(fisher_exact_rxc(job), 4)
    0.7827

    On a 2 x 2 table it equals the two-sided :func:`fisher_exact`:

    >>> round(fisher_exact_rxc([[3, 1], [1, 3]]), 4)
    0.4857
    """
    arr = drop_empty(table)
    if not _testable(arr):
        return math.nan
    # Column vectors run along the shorter side (fewer distinct nodes).
    if arr.shape[0] > arr.shape[1]:
        arr = arr.T
    rows = tuple(sorted(int(v) for v in arr.sum(axis=1)))
    # Larger columns first: more of the table is fixed early, so nodes settle sooner.
    cols = tuple(sorted((int(v) for v in arr.sum(axis=0)), reverse=True))
    n = sum(rows)
    fact = [math.factorial(i) for i in range(n + 1)]
    ncol = len(cols)

    def prod_fact(vec: Sequence[int]) -> int:
        out = 1
        for v in vec:
            out *= fact[v]
        return out

    # P(table) = prod(row!) prod(col!) / (n! K), with K = prod(cell!). A table counts when
    # P <= P_obs (1 + tol)  <=>  K * (1 + tol) >= K_obs  <=>  K * (den + num) >= K_obs * den.
    k_obs = prod_fact(int(v) for v in arr.ravel())
    tol = Fraction(_REL_TOL).limit_denominator(10**12)
    scale_k, scale_obs = tol.denominator + tol.numerator, k_obs * tol.denominator

    def counts(k: int) -> bool:
        return k * scale_k >= scale_obs

    @cache
    def moves(j: int, rem: tuple[int, ...]) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """(prod x!, sorted remaining totals) for every vector x of column j."""
        out = []
        for x in compositions(cols[j], rem):
            nxt = tuple(sorted(r - v for r, v in zip(rem, x, strict=True)))
            out.append((prod_fact(x), nxt))
        return tuple(out)

    @cache
    def k_range(j: int, rem: tuple[int, ...]) -> tuple[int, int]:
        """(min, max) over completions of columns j.. of prod(cell!)."""
        if j == ncol - 1:
            k = prod_fact(rem)
            return k, k
        lo = hi = None
        for kx, nxt in moves(j, rem):
            sub_lo, sub_hi = k_range(j + 1, nxt)
            lo = kx * sub_lo if lo is None else min(lo, kx * sub_lo)
            hi = kx * sub_hi if hi is None else max(hi, kx * sub_hi)
        return lo, hi

    @cache
    def mass(j: int, rem: tuple[int, ...]) -> int:
        """n! times the sum over completions of columns j.. of 1 / prod(cell!).

        An integer times ``1 / past``: summed multinomial coefficients stay integers.
        """
        return fact[n] * fact[sum(rem)] // (prod_fact(rem) * prod_fact(cols[j:]))

    # total = sum over counted tables of n! / prod(cell!) (a multinomial, an integer).
    total = 0
    level: dict[tuple[int, ...], dict[int, int]] = {rows: {1: 1}}
    for j in range(ncol):
        nxt_level: dict[tuple[int, ...], dict[int, int]] = {}
        for rem in sorted(level):
            k_lo, k_hi = k_range(j, rem)
            open_nodes = []
            for past, mult in sorted(level[rem].items()):
                if counts(past * k_lo):  # even the most probable completion counts
                    total += mult * (mass(j, rem) // past)
                elif counts(past * k_hi):  # some completions count: expand
                    open_nodes.append((past, mult))
            if not open_nodes:
                continue
            for kx, nxt in moves(j, rem):
                bucket = nxt_level.setdefault(nxt, {})
                for past, mult in open_nodes:
                    key = past * kx
                    bucket[key] = bucket.get(key, 0) + mult
        level = nxt_level
    p_value = Fraction(total * prod_fact(rows) * prod_fact(cols), fact[n] ** 2)
    return float(min(Fraction(1), p_value))


# --------------------------------------------------------------------------- selection rule


def select_categorical_test(
    table: object,
    rule: str = "expected",
    threshold: float = 5,
    fisher_sided: str = "two-sided",
    correction: bool = False,
) -> str:
    """Which test the paper's selection rule applies to a table (the decision only).

    Parameters are those of :func:`choose_categorical_test`.

    Returns
    -------
    str
        A test id, a key of :data:`TEST_LABELS`: "chi2", "chi2_yates", "fisher_two_sided",
        "fisher_one_sided", "fisher_rxc" or "not_testable".

    Examples
    --------
    >>> select_categorical_test([[6, 10], [25, 13]])
    'chi2'
    >>> select_categorical_test([[6, 0], [7, 5]], fisher_sided="one-sided")
    'fisher_one_sided'
    """
    if rule not in _RULES:
        raise ParameterError(f"rule must be one of {', '.join(_RULES)}; got {rule!r}")
    if fisher_sided not in _SIDES:
        raise ParameterError(
            f"fisher_sided must be one of {', '.join(_SIDES)}; got {fisher_sided!r}"
        )
    if rule in ("expected", "observed") and (
        isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not threshold > 0
    ):
        raise ParameterError(f"threshold must be a positive number; got {threshold!r}")
    arr = drop_empty(table)
    if not _testable(arr):
        return "not_testable"
    use_fisher = {"always": True, "never": False}.get(rule)
    if use_fisher is None:  # "expected" or "observed" counts below the threshold
        small = expected_counts(arr) if rule == "expected" else arr
        use_fisher = bool(np.any(small < threshold))
    is_2x2 = arr.shape == (2, 2)
    if not use_fisher:
        return "chi2_yates" if (correction and is_2x2) else "chi2"
    if not is_2x2:
        return "fisher_rxc"
    return "fisher_one_sided" if fisher_sided == "one-sided" else "fisher_two_sided"


def categorical_p(table: object, test: str) -> float:
    """p-value of a categorical test named by its id (a key of :data:`TEST_LABELS`).

    Parameters
    ----------
    table : array_like of int, shape (r, c)
        Counts; empty rows and columns are dropped first.
    test : {"chi2", "chi2_yates", "fisher_two_sided", "fisher_one_sided", "fisher_rxc", \
"not_testable"}
        The test. "fisher_two_sided" and "fisher_one_sided" need a 2 x 2 table (after
        dropping empty rows and columns); "not_testable" gives ``nan``.

    Returns
    -------
    float
        The p-value.

    Examples
    --------
    >>> round(categorical_p([[6, 0], [7, 5]], "fisher_one_sided"), 4)
    0.0924
    """
    arr = drop_empty(table)
    if test == "not_testable":
        return math.nan
    if test == "chi2":
        return pearson_chi2(arr)
    if test == "chi2_yates":
        return pearson_chi2(arr, correction=True)
    if test == "fisher_rxc":
        return fisher_exact_rxc(arr)
    if test in ("fisher_two_sided", "fisher_one_sided"):
        if not _testable(arr):
            return math.nan
        if arr.shape != (2, 2):
            raise DataValidationError(
                f"{test} needs a 2 x 2 table after dropping empty rows and columns; "
                f"got shape {arr.shape}"
            )
        return fisher_exact(arr) if test == "fisher_two_sided" else fisher_one_sided(arr)
    raise ParameterError(
        f"unknown categorical test {test!r}; allowed: chi2, chi2_yates, fisher_two_sided, "
        "fisher_one_sided, fisher_rxc, not_testable"
    )


def choose_categorical_test(
    table: object,
    rule: str = "expected",
    threshold: float = 5,
    fisher_sided: str = "two-sided",
    correction: bool = False,
) -> CategoricalResult:
    """Apply the paper's categorical test-selection rule to one table.

    Sharma 2017, Statistical analysis: "Pearson chi-square test and Fisher's exact test when
    n was small (< 5)". Which "n" and which Fisher p-value are parameters here.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
        Counts (rows = levels, columns = groups). Empty rows and columns are dropped first.
    rule : {"expected", "observed", "never", "always"}, default "expected"
        When to use Fisher's exact test instead of Pearson chi-square: "expected" when any
        expected count is below ``threshold``; "observed" when any observed cell is below
        ``threshold``; "never" always chi-square; "always" always Fisher.
    threshold : float, default 5
        The "small" cut-off of rules "expected" and "observed" (strictly below counts).
    fisher_sided : {"two-sided", "one-sided"}, default "two-sided"
        Which Fisher p-value to report for a 2 x 2 table (:func:`fisher_exact` two-sided, or
        :func:`fisher_one_sided`). Larger tables always get the two-sided
        :func:`fisher_exact_rxc`.
    correction : bool, default False
        Yates' continuity correction for a 2 x 2 chi-square (see :func:`pearson_chi2`).

    Returns
    -------
    CategoricalResult
        ``(p, test)``: the p-value and the test id (a key of :data:`TEST_LABELS`); for a
        table with fewer than two non-empty rows or columns ``(nan, "not_testable")``.

    Notes
    -----
    :mod:`analysis.audit` finds that the paper's printed p-values are best reproduced by
    ``rule="expected", threshold=5, fisher_sided="one-sided", correction=False``.

    Examples
    --------
    Table 2, myositis type (responders vs nonresponders; CADM 4 vs 0), printed p = 0.013:

    >>> res = choose_categorical_test([[20, 10], [7, 13], [4, 0]])
    >>> res.test, round(res.p, 3)
    ('fisher_rxc', 0.013)

    Table 3, lung histopathology (no nonresponder had a biopsy), printed "N/A":

    >>> choose_categorical_test([[2, 0], [2, 0], [2, 0], [1, 0]])
    CategoricalResult(p=nan, test='not_testable')
    """
    test = select_categorical_test(table, rule, threshold, fisher_sided, correction)
    return CategoricalResult(categorical_p(table, test), test)


# --------------------------------------------------------------------------- continuous


def _as_sample(values: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{name} must be numeric: {exc}") from exc
    return arr[~np.isnan(arr)]


def two_sample(x: object, y: object, test: str = "t") -> float:
    """Two-sample comparison of a continuous variable between two groups.

    Parameters
    ----------
    x, y : array_like of float
        The two groups' values; missing values (NaN) are dropped.
    test : {"t", "welch", "mannwhitney"}, default "t"
        "t": Student t test with pooled variance (Stata ``ttest y, by(g)``, its default);
        "welch": Welch's unequal-variance t test (``ttest ..., unequal welch``);
        "mannwhitney": Mann-Whitney rank-sum test as Stata's ``ranksum``: the normal
        approximation with the tie-corrected variance and no continuity correction, i.e.
        ``scipy.stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)``.

    Returns
    -------
    float
        Two-sided p-value; ``nan`` when a group has fewer than 2 values (t tests) or is
        empty (Mann-Whitney).

    Notes
    -----
    Sharma 2017, Statistical analysis ("Student t test", "Mann-Whitney 2-samples rank-sum
    test"). Stata's ``ranksum`` reports z = (T - n1 (n + 1) / 2) / sqrt(var), with var the
    tie-adjusted variance of the rank sum T of the first group, and p = 2 (1 - Phi(|z|)).

    Examples
    --------
    >>> round(two_sample([1, 2, 3, 4], [3, 4, 5, 6, 7]), 4)
    0.0383
    >>> round(two_sample([1, 2, 3, 4], [3, 4, 5, 6, 7], test="welch"), 4)
    0.0349
    >>> round(two_sample([1, 2, 3, 4], [3, 4, 5, 6, 7], test="mannwhitney"), 4)
    0.0481
    """
    if test not in _TWO_SAMPLE:
        raise ParameterError(f"test must be one of {', '.join(_TWO_SAMPLE)}; got {test!r}")
    a = _as_sample(x, "x")
    b = _as_sample(y, "y")
    if test == "mannwhitney":
        if a.size == 0 or b.size == 0:
            return math.nan
        res = scipy.stats.mannwhitneyu(
            a, b, alternative="two-sided", method="asymptotic", use_continuity=False
        )
        return float(res.pvalue)
    if a.size < 2 or b.size < 2:
        return math.nan
    res = scipy.stats.ttest_ind(a, b, equal_var=(test == "t"))
    return float(res.pvalue)


def paired_t(before: object, after: object) -> float:
    """Paired Student t test (e.g. a dose at baseline vs at follow-up in the same patients).

    Parameters
    ----------
    before, after : array_like of float, same length
        Paired values; a pair with either value missing (NaN) is dropped.

    Returns
    -------
    float
        Two-sided p-value of ``scipy.stats.ttest_rel``; ``nan`` with fewer than 2 complete
        pairs, or when every difference is the same (zero variance: t is undefined).

    Notes
    -----
    Sharma 2017, Statistical analysis ("paired Student t test"); Change in the doses of
    DMARD (prednisone, AZA, MTX, MMF against baseline / tacrolimus start).

    Examples
    --------
    >>> round(paired_t([40, 30, 60, 20], [10, 10, 20, 5]), 4)
    0.0179
    """
    try:
        a = np.asarray(before, dtype=float).ravel()
        b = np.asarray(after, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"paired values must be numeric: {exc}") from exc
    if a.shape != b.shape:
        raise DataValidationError(
            f"paired samples must have the same length; got {a.size} and {b.size}"
        )
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    d = a - b
    if d.size < 2 or np.all(d == d[0]):
        return math.nan
    return float(scipy.stats.ttest_rel(a, b).pvalue)
