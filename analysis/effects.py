"""Effect sizes with 95% confidence intervals for Tables 2 and 3 and the dose changes (issue 16).

Sharma 2017 prints p-values only; a reader also needs how large each difference is and how sure
we are. One function per measure, each from a well-kept library where it has the method:

- 2 x 2 rows: difference in proportions with the Newcombe (1998, method 10) hybrid Wilson score
  interval (``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``) and
  the conditional maximum-likelihood odds ratio with its exact (Cornfield) interval
  (``scipy.stats.contingency.odds_ratio(kind="conditional")``), as R's ``fisher.test``;
- larger tables: Cramér's V (``scipy.stats.contingency.association``) with the noncentral
  chi-square interval (Smithson 2003), whose lower limit is 0 wherever the chi-square test
  of independence does not reject (see :func:`cramers_v_ncp` for why not a bootstrap);
- continuous rows: the Hodges-Lehmann shift (median of all responder - nonresponder
  differences) with the Moses (1953) / Bauer (1972) distribution-free interval from the exact
  Mann-Whitney null distribution (normal approximation for large samples), as R's
  ``wilcox.test(conf.int = TRUE)``; neither scipy nor statsmodels has it, hence written here;
  and, where the row uses a t test, the mean difference with its t interval (statsmodels
  ``CompareMeans``);
- dose changes: mean paired change with its t interval (statsmodels ``DescrStatsW``).

Every function returns ``(estimate, low, high)`` as floats; NaN where not estimable.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = ["CONFIDENCE", "EXACT_OR_LIMIT", "enough_events", "not_estimable_text",
           "prop_diff_newcombe", "odds_ratio_exact",
           "cramers_v_ncp", "cramers_v_ncp_limits",
           "u_null_counts", "moses_rank", "hodges_lehmann", "mean_diff_t", "paired_change_t",
           "proportion_exact", "pm_vs_dm", "dose_changes", "change_results"]

CONFIDENCE = 0.95
NAN3 = (math.nan, math.nan, math.nan)
#: Above this many pairwise differences the k-th one is found by bisection, not enumeration.
_ENUMERATE_LIMIT = 4_000_000
#: Above this m * n the Mann-Whitney null distribution is replaced by its normal approximation.
_EXACT_LIMIT = 10_000
#: Above this many patients a 2 x 2 odds ratio gets the Woolf, not the exact, interval.
EXACT_OR_LIMIT = 2_000


def prop_diff_newcombe(x1: int, n1: int, x2: int, n2: int,
                       confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Difference ``x1/n1 - x2/n2`` with the Newcombe hybrid score interval.

    Newcombe RG. Stat Med 1998;17:873-90, method 10 (Wilson score limits of each proportion,
    combined); ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``.

    >>> [round(v, 4) for v in prop_diff_newcombe(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    if n1 <= 0 or n2 <= 0:
        return NAN3
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff",
                                           alpha=1 - confidence)
    return x1 / n1 - x2 / n2, float(low), float(high)


def odds_ratio_exact(table: np.ndarray, confidence: float = CONFIDENCE
                     ) -> tuple[float, float, float, str]:
    """Odds ratio ``(a d)/(b c)`` of ``[[a, b], [c, d]]`` with its 95% CI and the CI's name.

    Up to :data:`EXACT_OR_LIMIT` patients: the conditional maximum-likelihood estimate and its
    exact conditional (Cornfield 1956) interval (Agresti, Categorical Data Analysis, 3.6),
    ``scipy.stats.contingency.odds_ratio(kind="conditional")``, as R's ``fisher.test``
    (``"exact_conditional"``); a zero cell gives 0 or inf and a one-sided infinite limit.
    Above (the exact interval takes minutes at 100 000 patients): the sample odds ratio with
    the Woolf logit interval, ``statsmodels`` ``Table2x2`` (``"woolf"``; with 1/2 added to
    every cell if one is zero, ``"woolf_haldane"``). A zero margin is not
    estimable (NaN, ``"not_estimable"``).
    """
    from scipy.stats.contingency import odds_ratio

    table = np.asarray(table, dtype=int)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return (*NAN3, "not_estimable")
    if table.sum() > EXACT_OR_LIMIT:
        from statsmodels.stats.contingency_tables import Table2x2

        t = Table2x2(table, shift_zeros=True)  # a zero cell: 1/2 added to every cell
        low, high = t.oddsratio_confint(alpha=1 - confidence)
        name = "woolf" if (table > 0).all() else "woolf_haldane"
        return float(t.oddsratio), float(low), float(high), name
    res = odds_ratio(table, kind="conditional")
    ci = res.confidence_interval(confidence_level=confidence)
    return float(res.statistic), float(ci.low), float(ci.high), "exact_conditional"


def enough_events(events: int, terms: int, per_term: int) -> bool:
    """The one small-numbers rule (issue 21): an odds ratio, from a logistic regression or a
    2 x 2 table, is shown only with at least ``per_term`` events (the less frequent outcome)
    per estimated term (``Params.min_events_per_term``; Vittinghoff E, McCulloch CE. Am J
    Epidemiol 2007;165:710-8: problems fairly frequent at 2-4 events per variable,
    uncommon at 5-9; Peduzzi P et al. J Clin Epidemiol 1996;49:1373-9: 10).

    >>> enough_events(23, 3, 5), enough_events(5, 3, 5), enough_events(1, 1, 3)
    (True, False, False)
    """
    return events >= per_term * max(terms, 1)


def not_estimable_text(events: int) -> str:
    """What an odds ratio from too few events prints: ``not estimable (1 event)``."""
    return f"not estimable ({events} event{'' if events == 1 else 's'})"


def _nonempty(table: np.ndarray) -> np.ndarray:
    table = np.asarray(table)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def cramers_v_ncp(table: np.ndarray, confidence: float = CONFIDENCE
                  ) -> tuple[float, float, float]:
    """Cramér's V of an r x c table (levels x groups) with the noncentral chi-square interval.

    V = sqrt(X2 / (n k)), k = min(r, c) - 1, X2 Pearson chi-square without continuity
    correction (``scipy.stats.contingency.association(method="cramer")``; Cramér 1946, 21.9),
    on the non-empty rows and columns. The interval inverts the chi-square test: X2 is
    approximately noncentral chi-square with df = (r - 1)(c - 1) and noncentrality
    lambda = n k V^2, so the limits lambda_L, lambda_U solve F(X2; df, lambda) = 1 - alpha/2 and
    alpha/2 (F the noncentral chi-square distribution function, ``scipy.stats.ncx2``,
    decreasing in lambda), lambda_L = 0 where F(X2; df, 0) <= 1 - alpha/2, and V's limits are
    sqrt(lambda / (n k)), at most 1 (Smithson M. Confidence Intervals. Sage 2003, ch. 4, eq.
    4.13 as corrected in R ``statpsych::ci.cramer`` 1.5; Steiger JH. Psychol Methods
    2004;9:164-82). Written here because neither scipy nor statsmodels has it.

    Why not a bootstrap (the percentile bootstrap was used before, issue 21): V is never
    negative and its resamples are almost never 0, so a percentile interval excludes 0 whatever
    the data (Table 2's histopathology row, Fisher p = 0.66, got V 0.46, 0.28 to 0.89) and its
    coverage fails exactly near V = 0, where a reader needs it. The inverted test's lower limit
    is 0 exactly where the chi-square test of independence gives p >= alpha/2, so at V = 0
    the interval covers with probability at least 1 - alpha/2 (asymptotically). It rests on the
    chi-square approximation, rough where expected counts are small (where Tables 2 and 3 use
    Fisher's exact test), so near alpha its lower limit and the table's exact p can disagree.

    Where F(X2; df, 0) < alpha/2 (the table fits independence more closely than chance would
    give 2.5% of the time), no noncentrality makes X2 typical and the inversion is empty:
    the limits are NaN (the estimate is shown alone).

    >>> [round(v, 4) for v in cramers_v_ncp(np.array([[10, 0], [0, 10], [5, 5]]))]
    [0.8165, 0.4306, 1.0]
    """
    from scipy.stats.contingency import association

    table = _nonempty(table)
    if min(table.shape) < 2:
        return NAN3
    estimate = float(association(table, method="cramer", correction=False))
    n, k = int(table.sum()), min(table.shape) - 1
    df = (table.shape[0] - 1) * (table.shape[1] - 1)
    return (estimate, *cramers_v_ncp_limits(estimate ** 2 * n * k, df, n, k, confidence))


def cramers_v_ncp_limits(chi2: float, df: int, n: int, k: int,
                         confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The noncentral chi-square limits of Cramér's V from the Pearson statistic ``chi2`` of
    an r x c table with ``df`` = (r - 1)(c - 1), ``n`` patients and ``k`` = min(r, c) - 1
    (:func:`cramers_v_ncp` says how and why). ``(nan, nan)`` where the inversion is empty.

    >>> [round(v, 4) for v in cramers_v_ncp_limits(19.21, 2, 200, 1)]  # statpsych ci.cramer
    [0.1601, 0.4417]
    """
    from scipy import optimize

    tail = (1 - confidence) / 2

    def cdf(lam: float) -> float:
        return float(sps.ncx2.cdf(chi2, df, lam) if lam > 0 else sps.chi2.cdf(chi2, df))

    if cdf(0.0) < tail:
        return math.nan, math.nan

    def solve(target: float) -> float:
        if cdf(0.0) <= target:  # the chi-square test does not reject: the limit is 0
            return 0.0
        high = max(chi2, 1.0)
        while cdf(high) > target:
            high *= 2
        return optimize.brentq(lambda lam: cdf(lam) - target, 0.0, high, xtol=1e-10)

    low, high = (min(1.0, math.sqrt(solve(t) / (n * k))) for t in (1 - tail, tail))
    return low, high


def u_null_counts(m: int, n: int) -> np.ndarray:
    """Number of arrangements giving each Mann-Whitney U = 0 .. m n under H0 (no ties).

    The coefficients of the Gaussian binomial [m + n choose m]_q = prod_{i=1..m}
    (1 - q^(n+i)) / (1 - q^i) (Mann & Whitney 1947); written here because scipy keeps its
    exact distribution private. Returned as floats (exact up to 2^53).

    >>> u_null_counts(2, 2).tolist()  # U of {x1, x2} vs {y1, y2}: 6 orderings
    [1.0, 1.0, 2.0, 1.0, 1.0]
    """
    size = m * n + 1
    coef = np.zeros(size)
    coef[0] = 1.0
    for i in range(1, m + 1):
        shift = n + i
        if shift < size:  # multiply by (1 - q^(n+i))
            coef[shift:] = coef[shift:] - coef[:size - shift].copy()
        for r in range(i):  # divide by (1 - q^i): running sums along each residue class
            coef[r::i] = np.cumsum(coef[r::i])
    return np.rint(coef)


def moses_rank(m: int, n: int, confidence: float = CONFIDENCE) -> int:
    """The order statistic k of the m n pairwise differences whose k-th smallest and k-th
    largest bound the Moses interval: the largest k with P(U <= k - 1) <= alpha/2 under H0.

    As R's ``wilcox.test`` (``qwilcox(alpha/2, m, n)``, at least 1); exact for m n up to
    10 000, else the normal approximation of Hollander & Wolfe (1999, eq. 4.41),
    k = floor(m n / 2 - z sqrt(m n (m + n + 1) / 12)).

    >>> moses_rank(5, 5)  # Mann-Whitney critical value 2 (two-tailed 0.05): D(3) .. D(23)
    3
    """
    alpha = 1 - confidence
    if m * n <= _EXACT_LIMIT:
        cdf = np.cumsum(u_null_counts(m, n)) / math.comb(m + n, m)
        k = int(np.searchsorted(cdf, alpha / 2 - 1e-12, side="left"))  # qwilcox(alpha/2)
    else:
        z = sps.norm.ppf(1 - alpha / 2)
        k = int(math.floor(m * n / 2 - z * math.sqrt(m * n * (m + n + 1) / 12)))
    return max(k, 1)


def _kth_difference(x: np.ndarray, y: np.ndarray, k: int,
                    distinct: tuple[np.ndarray, ...] | None = None) -> float:
    """The k-th smallest (1-based) of the differences x_i - y_j.

    Enumerated over the distinct values, each difference weighted by how many pairs give it
    (exact; fast on tied data such as integer % predicted), when there are at most 4 million
    distinct pairs; above, found by bisection on the count #{x_i - y_j <= d} (sorted y,
    ``searchsorted``), to machine precision. ``distinct``: ``np.unique(.., return_counts=True)``
    of x and of y when the caller has them (one sort per sample for several k).
    """
    ux, cx, uy, cy = distinct or (*np.unique(x, return_counts=True),
                                  *np.unique(y, return_counts=True))
    if ux.size * uy.size <= _ENUMERATE_LIMIT:
        diffs = np.subtract.outer(ux, uy).ravel()
        order = np.argsort(diffs, kind="stable")
        cumulative = np.cumsum(np.outer(cx, cy).ravel()[order])
        return float(diffs[order][np.searchsorted(cumulative, k, side="left")])
    y = np.sort(y)

    def count_le(d: float) -> int:
        return int((y.size - np.searchsorted(y, x - d, side="left")).sum())

    lo, hi = float(x.min() - y.max()), float(x.max() - y.min())
    for _ in range(100):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if count_le(mid) >= k:
            hi = mid
        else:
            lo = mid
    return hi


def hodges_lehmann(x: np.ndarray, y: np.ndarray,
                   confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Hodges-Lehmann shift of x over y (median of the m n differences x_i - y_j) and the
    Moses distribution-free interval [D(k), D(m n + 1 - k)], k from :func:`moses_rank`.

    Hodges JL, Lehmann EL. Ann Math Stat 1963;34:598-611; Moses LE in Walker & Lev 1953;
    Bauer DF. JASA 1972;67:687-90. Ties are not adjusted for (the exact no-ties
    distribution is used), so the coverage is approximately, not exactly, 95%.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    m, n = x.size, y.size
    if m == 0 or n == 0:
        return NAN3
    total = m * n
    distinct = (*np.unique(x, return_counts=True), *np.unique(y, return_counts=True))

    def kth(k: int) -> float:
        return _kth_difference(x, y, k, distinct)

    if total % 2:
        estimate = kth(total // 2 + 1)
    else:
        estimate = (kth(total // 2) + kth(total // 2 + 1)) / 2
    k = moses_rank(m, n, confidence)
    if total < 2 or k > total + 1 - k:
        return estimate, math.nan, math.nan
    return estimate, kth(k), kth(total + 1 - k)


def mean_diff_t(x: np.ndarray, y: np.ndarray, pooled: bool = True,
                confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of x minus mean of y with the Student (pooled) or Welch t interval
    (``statsmodels.stats.weightstats.CompareMeans.tconfint_diff``)."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2 or y.size < 2:
        return NAN3
    low, high = CompareMeans(DescrStatsW(x), DescrStatsW(y)).tconfint_diff(
        alpha=1 - confidence, usevar="pooled" if pooled else "unequal")
    return float(x.mean() - y.mean()), float(low), float(high)


def paired_change_t(before: np.ndarray, after: np.ndarray,
                    confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean paired change ``after - before`` over the pairs with both values, with its t
    interval (``DescrStatsW(after - before).tconfint_mean``), the interval of the paired
    Student t test the paper uses for the dose tapers (Statistical analysis).

    >>> [round(v, 4) for v in paired_change_t([0, 0, 0, 0, 0], [1, 2, 3, 4, 5])]
    [3.0, 1.0368, 4.9632]
    """
    from statsmodels.stats.weightstats import DescrStatsW

    change = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    change = change[~np.isnan(change)]
    if change.size < 2:
        return NAN3
    low, high = DescrStatsW(change).tconfint_mean(alpha=1 - confidence)
    return float(change.mean()), float(low), float(high)


def proportion_exact(k: int, n: int, confidence: float = CONFIDENCE
                     ) -> tuple[float, float, float, float]:
    """A proportion ``k/n`` with its exact (Clopper-Pearson) interval and the two-sided exact
    binomial test against 1/2 (``scipy.stats.binomtest``): the measure of a descriptive claim
    such as the Conclusion's "a majority ... improved while receiving tacrolimus".

    Clopper CJ, Pearson ES. Biometrika 1934;26:404-13. Returns ``(k/n, low, high, p)``.

    >>> [round(v, 4) for v in proportion_exact(13, 18)]
    [0.7222, 0.4652, 0.9031, 0.0963]
    """
    return _proportion_exact(int(k), int(n), float(confidence))


@functools.lru_cache(maxsize=4096)
def _proportion_exact(k: int, n: int, confidence: float) -> tuple[float, float, float, float]:
    # The Clopper-Pearson limits in closed form, as beta quantiles (Brown, Cai, DasGupta,
    # Stat Sci 2001;16:101-33, eq. 5): the values scipy's binomtest(...).proportion_ci(
    # method="exact") finds by root search (checked equal in tests/test_effects.py), ~50x
    # faster; the sensitivity grid asks for hundreds of them.
    from scipy.stats import beta, binomtest

    if n < 1:
        return (math.nan,) * 4
    tail = (1 - confidence) / 2
    low = float(beta.ppf(tail, k, n - k + 1)) if k > 0 else 0.0
    high = float(beta.ppf(1 - tail, k + 1, n - k)) if k < n else 1.0
    return k / n, low, high, float(binomtest(k, n, 0.5, alternative="two-sided").pvalue)


def pm_vs_dm(table2: pd.DataFrame) -> dict[str, float]:
    """Response to conventional treatment, PM vs DM (the Results' "PM-ILD responded more often
    than DM-ILD", 67% vs 35%): the response rates, their difference (Newcombe interval) and
    the odds ratio (exact conditional), from Table 2's myositis counts.

    Returns keys ``pm_n``, ``pm_resp``, ``dm_n``, ``dm_resp``, ``diff``, ``diff_low``,
    ``diff_high``, ``or``, ``or_low``, ``or_high`` (proportions as fractions).
    """
    myo = table2[table2["variable"] == "myositis"].set_index("level")
    (pm_r, pm_f), (dm_r, dm_f) = (myo.loc[k, ["resp", "nonresp"]].astype(int) for k in ("pm", "dm"))
    diff = prop_diff_newcombe(pm_r, pm_r + pm_f, dm_r, dm_r + dm_f)
    odds = odds_ratio_exact(np.array([[pm_r, pm_f], [dm_r, dm_f]]))[:3]
    return {"pm_n": pm_r + pm_f, "pm_resp": pm_r, "dm_n": dm_r + dm_f, "dm_resp": dm_r,
            "diff": diff[0], "diff_low": diff[1], "diff_high": diff[2],
            "or": odds[0], "or_low": odds[1], "or_high": odds[2]}


def dose_changes(doses: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Mean paired dose change from the first time point, with its t 95% CI, for every
    (cohort, drug, later time point) of :func:`analysis.doses.taper_summary` (same patients,
    same pairs as its paired t test).

    Returns columns ``cohort``, ``drug``, ``timepoint``, ``n_pairs``, ``change``,
    ``change_low``, ``change_high`` (mg; negative = the dose fell).
    """
    # the members of each summary are decided once, in analysis.doses (not repeated here)
    from analysis.doses import COHORTS, TIMEPOINTS, check_doses, cohort_wide

    check_doses(doses)
    rows = []
    for cohort, (family, drugs) in COHORTS.items():
        first, *later = TIMEPOINTS[family]
        for drug in drugs:
            wide = cohort_wide(doses, groups, cohort, drug)
            for tp in later:
                both = wide[[first, tp]].dropna()
                est = paired_change_t(both[first].to_numpy(), both[tp].to_numpy())
                rows.append({"cohort": cohort, "drug": drug, "timepoint": tp,
                             "n_pairs": len(both), "change": est[0], "change_low": est[1],
                             "change_high": est[2]})
    return pd.DataFrame(rows)


def change_results(changes: pd.DataFrame) -> dict[str, float]:
    """:func:`dose_changes` keyed as ``results.json``: ``dose.<cohort>.<drug>.<time point>.``
    ``change``, ``change_low``, ``change_high`` (mg; the interval of the paired t test that
    the dose claims of :mod:`analysis.paper.claims` rest on). Missing estimates are left out.

    >>> f = pd.DataFrame({"cohort": ["tac"], "drug": ["aza"], "timepoint": ["y1"],
    ...     "n_pairs": [11], "change": [-59.1], "change_low": [-98.0], "change_high": [-20.2]})
    >>> sorted(change_results(f).items())  # doctest: +NORMALIZE_WHITESPACE
    [('dose.tac.aza.y1.change', -59.1), ('dose.tac.aza.y1.change_high', -20.2),
     ('dose.tac.aza.y1.change_low', -98.0)]
    """
    out: dict[str, float] = {}
    for rec in changes.to_dict("records"):
        stem = f"dose.{rec['cohort']}.{rec['drug']}.{rec['timepoint']}"
        for stat in ("change", "change_low", "change_high"):
            if not pd.isna(rec[stat]):
                out[f"{stem}.{stat}"] = float(rec[stat])
    return out
