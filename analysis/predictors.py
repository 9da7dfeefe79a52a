"""Predictors of failure of conventional treatment (the paper's title question; issue 16).

Univariable logistic regression of failure (included patients who did not respond to
conventional treatment) on each characteristic of Table 2, odds ratios with 95% CIs:

- ordinary maximum likelihood (``statsmodels`` ``Logit``, Wald interval) where it exists;
- Firth's penalised likelihood (Firth D. Biometrika 1993;80:27-38) with profile penalised
  likelihood intervals and tests (Heinze G, Schemper M. Stat Med 2002;21:2409-19) where a cell of
  the characteristic's table is zero (e.g. CADM: 4 responders, 0 failures), so the ML estimate
  is infinite (separation), or where ML fails to converge. statsmodels has no Firth
  regression, hence :func:`firth_logit` here (numpy), checked against R ``logistf``.

The method is named on every row. A model with fewer events (its less frequent outcome)
than ``min_events_per_term`` per term (:class:`analysis.params.Params`; Vittinghoff &
McCulloch 2007) gets no odds ratio and no p: "not estimable (k events)" (issue 21; with one
failing patient, Firth's method still returns an odds ratio of 321 and p = 0.002, from one
patient). 54 patients and 23 failures allow no multivariable model beyond two predictors;
:func:`exploratory_model` fits one, labelled exploratory.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps
from scipy.special import expit

from analysis.effects import enough_events, not_estimable_text
from analysis.paper.rows import BY_KEY, ROWS, Row
from analysis.params import Params

__all__ = ["SCALES", "FirthFit", "covariate_patterns", "firth_logit", "firth_profile", "firth_ci",
           "design", "events", "not_estimable", "fit_term_table", "univariable",
           "exploratory_model"]

#: Units an odds ratio of a continuous characteristic refers to (OR per this many units): per
#: 1000 U/l of CK, per 10 units of every other continuous row (years, aldolase, % predicted).
SCALES = {row.key: 1000.0 if row.key == "ck" else 10.0 for row in ROWS
          if row.kind == "continuous"}
_CHI2_95 = sps.chi2.ppf(0.95, 1)


@dataclass(frozen=True)
class FirthFit:
    """A Firth fit: coefficients, their covariance (inverse Fisher information) and the
    penalised log-likelihood l*(beta) = l(beta) + 0.5 log det I(beta)."""

    beta: np.ndarray
    cov: np.ndarray
    loglik: float


def covariate_patterns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """The distinct rows of (design row, outcome) and how many patients share each.

    Returns ``(X_k, y_k, m_k)``: the patterns' design rows, their outcomes and their counts
    (frequency weights, as floats), in :func:`numpy.unique` order.
    """
    rows, counts = np.unique(np.column_stack([X, y]), axis=0, return_counts=True)
    return rows[:, :-1], rows[:, -1], counts.astype(float)


def _penalised(X: np.ndarray, y: np.ndarray, m: np.ndarray, eta: np.ndarray
               ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Firth's penalised log-likelihood, modified score, Fisher information and its inverse
    over covariate patterns k with m_k patients each (see :func:`firth_logit`)."""
    pi = np.clip(expit(eta), 1e-15, 1 - 1e-15)
    w = m * pi * (1 - pi)
    info = X.T @ (X * w[:, None])
    sign, logdet = np.linalg.slogdet(info)
    ll = float(np.sum(m * (y * np.log(pi) + (1 - y) * np.log1p(-pi))) + 0.5 * logdet)
    inv = np.linalg.inv(info)
    h = w * np.einsum("ij,jk,ik->i", X, inv, X)  # m_k times each patient's hat diagonal
    score = X.T @ (m * (y - pi) + h * (0.5 - pi))  # Firth's modified score
    return ll, score, info, inv


def _fit_patterns(X: np.ndarray, y: np.ndarray, m: np.ndarray, fixed: dict[int, float],
                  tol: float, max_iter: int) -> FirthFit:
    free = np.array([j for j in range(X.shape[1]) if j not in fixed], dtype=int)
    beta = np.zeros(X.shape[1])
    for j, value in fixed.items():
        beta[j] = value
    ll, score, info, inv = _penalised(X, y, m, X @ beta)
    for _ in range(max_iter):
        step = np.linalg.solve(info[np.ix_(free, free)], score[free]) if free.size else free
        if not free.size or np.max(np.abs(step)) < tol:
            break
        for _ in range(50):  # step halving until the penalised likelihood does not fall
            trial = beta.copy()
            trial[free] += step
            new = _penalised(X, y, m, X @ trial)
            if new[0] >= ll - 1e-12:
                break
            step = step / 2
        beta, (ll, score, info, inv) = trial, new
    return FirthFit(beta=beta, cov=inv, loglik=ll)


def firth_logit(X: np.ndarray, y: np.ndarray, fixed: dict[int, float] | None = None,
                tol: float = 1e-10, max_iter: int = 200) -> FirthFit:
    """Firth-penalised logistic regression by Newton-Raphson with step halving.

    The fit runs on the covariate patterns (:func:`covariate_patterns`: distinct rows of
    (x_i, y_i), pattern k shared by m_k patients), for every cohort size. Every quantity of
    Firth's method (Firth 1993; Heinze & Schemper 2002) is a sum over patients of terms that
    depend on the patient only through (x_i, y_i), so summing over patterns with weights m_k
    is the same sum, regrouped:

    - log-likelihood l(beta) = sum_k m_k [y_k log pi_k + (1 - y_k) log(1 - pi_k)];
    - Fisher information I(beta) = X'WX with W = diag(m_k pi_k (1 - pi_k));
    - penalised l*(beta) = l(beta) + 1/2 log det I(beta);
    - hat diagonal of patient i, h_i = pi_i (1 - pi_i) x_i' I^-1 x_i, equal within a
      pattern, so its patients contribute H_k = m_k h_k;
    - modified score U*(beta) = sum_k x_k [m_k (y_k - pi_k) + H_k (1/2 - pi_k)].

    Only the order of floating-point summation differs from a per-patient fit (numbers agree
    to rounding; tests/test_predictors.py checks 1e-9). A 100,000-patient registry has a few
    hundred patterns per characteristic, so each Newton step costs that, not the cohort.

    Parameters
    ----------
    X : design matrix with the intercept column (one row per patient).
    y : 0/1 outcome.
    fixed : coefficients held at given values (index -> value), for the profile likelihood;
        the penalty still uses the full model's information (as ``logistf``).
    """
    Xk, yk, m = covariate_patterns(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    return _fit_patterns(Xk, yk, m, fixed or {}, tol, max_iter)


def firth_profile(X: np.ndarray, y: np.ndarray, j: int, value: float) -> float:
    """Penalised likelihood ratio statistic 2 (l*(beta_hat) - max l* with beta_j = value)."""
    full = firth_logit(X, y)
    return 2 * (full.loglik - firth_logit(X, y, fixed={j: value}).loglik)


def firth_ci(X: np.ndarray, y: np.ndarray, j: int,
             confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Coefficient j of a Firth fit, its profile penalised likelihood interval (Heinze &
    Schemper 2002) and the penalised likelihood ratio test p of beta_j = 0.

    All fits run on the covariate patterns, found once (see :func:`firth_logit`).
    Returns ``(beta_j, low, high, p)``; a limit not reached within 40 log-odds units is inf.
    """
    Xk, yk, m = covariate_patterns(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    full = _fit_patterns(Xk, yk, m, {}, 1e-10, 200)
    est = float(full.beta[j])
    crit = sps.chi2.ppf(confidence, 1)

    def excess(b: float) -> float:
        return 2 * (full.loglik - _fit_patterns(Xk, yk, m, {j: b}, 1e-10, 200).loglik) - crit

    se = math.sqrt(max(full.cov[j, j], 1e-8))
    limits = []
    for direction in (-1, 1):
        step, far = max(se, 0.5), est
        while excess(far) < 0:
            far = far + direction * step
            step *= 1.6
            if abs(far - est) > 40:
                limits.append(direction * math.inf)
                break
        else:
            limits.append(optimize.brentq(excess, *sorted((est, far)), xtol=1e-8))
    p = float(sps.chi2.sf(excess(0.0) + crit, 1))
    return est, limits[0], limits[1], p


def design(data: pd.DataFrame, row: Row) -> tuple[pd.DataFrame, list[str]]:
    """The columns of one characteristic: continuous per :data:`SCALES` units, binary
    positive vs not, categorical levels vs the first level of Table 2 (the reference).

    Returns the term columns (complete cases only) and their labels.
    """
    if row.kind == "continuous":
        values = data[row.column].astype("Float64")
        frame = pd.DataFrame({row.key: values / SCALES[row.key]}).dropna()
        unit = SCALES[row.key]
        return frame.astype(float), [f"{row.t2_label or row.label} (per {unit:g})"]
    known = data[row.column].notna()
    if row.denominator == "biopsied":
        known &= data[row.column] != "none"
    if row.kind == "binary":
        frame = pd.DataFrame({row.key: data.loc[known, row.column].astype(bool).astype(float)})
        return frame, [row.label]
    sub = data.loc[known, row.column]
    levels = [lv for lv in row.levels if (sub == lv[1]).any()]
    frame = pd.DataFrame({f"{row.key}.{k}": (sub == v).astype(float) for k, v, _ in levels[1:]})
    if row.key == "honeycomb":
        return frame, ["Honeycombing present vs absent"]
    return frame, [f"{label} vs {levels[0][2]}" for _, _, label in levels[1:]]


def _zero_cell(terms: pd.DataFrame, y: np.ndarray, continuous: bool) -> bool:
    if continuous:
        return False
    reference = (terms.sum(axis=1) == 0).to_numpy()
    groups = [reference] + [terms[c].to_numpy() == 1 for c in terms.columns]
    return any(y[g].sum() in (0, g.sum()) for g in groups)


def events(y: np.ndarray) -> int:
    """The events of a binary outcome: the number of its less frequent value (failures or
    responders), the limiting sample size of a logistic regression (Peduzzi et al. J Clin
    Epidemiol 1996;49:1373-9; Harrell, Regression Modeling Strategies, 2nd ed. 2015, 4.4).

    >>> events(np.array([1, 0, 0, 0, 1]))
    2
    """
    y = np.asarray(y, dtype=float)
    failures = int(y.sum())
    return min(failures, len(y) - failures)


def not_estimable(terms: pd.DataFrame, y: np.ndarray, min_events_per_term: int) -> str:
    """Why no odds ratio is shown for these terms and outcomes ("" when one is).

    - fewer events (:func:`events`) than ``min_events_per_term`` per term
      (:func:`analysis.effects.enough_events`): "k events" (an outcome of one value has 0).
      Few events give biased, unstable coefficients and intervals of poor coverage, Firth's
      method included;
    - a term that does not vary (e.g. nobody has the characteristic): no method identifies
      its coefficient (Firth 1993 removes separation, not a constant column).

    >>> not_estimable(pd.DataFrame({"ku": [1.0, 0, 0, 0]}), np.array([1, 0, 0, 0]), 5)
    '1 event'
    """
    if len(y) == 0:
        return "no patients"
    k = events(y)
    if not enough_events(k, terms.shape[1], min_events_per_term):
        return not_estimable_text(k).removeprefix("not estimable (").removesuffix(")")
    constant = [str(c) for c in terms.columns if terms[c].nunique(dropna=True) < 2]
    if constant:
        return f"no variation in {', '.join(constant)}"
    return ""


def _not_estimable(labels: list[str], y: np.ndarray, reason: str) -> list[dict]:
    nan = float("nan")
    return [{"term": label, "n": len(y), "failures": int(np.sum(y)), "events": events(y),
             "or": nan, "or_low": nan, "or_high": nan, "p": nan,
             "method": f"not estimable ({reason})"} for label in labels]


def fit_term_table(terms: pd.DataFrame, y: np.ndarray, labels: list[str],
                   min_events_per_term: int, continuous: bool = False) -> list[dict]:
    """Odds ratios of each term column of one model: ML (Wald CI) unless a cell is zero or ML
    fails, then Firth (profile penalised likelihood CI); none where :func:`not_estimable`
    gives a reason."""
    import statsmodels.api as sm

    reason = not_estimable(terms, y, min_events_per_term)
    if reason:
        return _not_estimable(labels, y, reason)
    X = sm.add_constant(terms.to_numpy(dtype=float), has_constant="add")
    method = "firth" if _zero_cell(terms, y, continuous) else "ml"
    if method == "ml":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                fit = sm.Logit(y, X).fit(disp=0, maxiter=100)
            ci = fit.conf_int(0.05)
            rows = [(fit.params[j], ci[j, 0], ci[j, 1], fit.pvalues[j])
                    for j in range(1, X.shape[1])]
        except Exception:  # separation or non-convergence: ML does not exist
            method = "firth"
    if method == "firth":
        try:
            rows = [firth_ci(X, y, j) for j in range(1, X.shape[1])]
        except np.linalg.LinAlgError:  # collinear terms: no estimate under any method
            return _not_estimable(labels, y, "the terms are collinear")
    return [{"term": label, "n": len(y), "failures": int(y.sum()), "events": events(y),
             "or": math.exp(b),
             "or_low": math.exp(lo) if lo > -700 else 0.0,
             "or_high": math.exp(hi) if hi < 700 else math.inf, "p": p,
             "method": method} for label, (b, lo, hi, p) in zip(labels, rows, strict=True)]


def _outcome(data: pd.DataFrame) -> pd.DataFrame:
    included = data[data["included"].fillna(False).astype(bool)]
    return included.assign(failure=~included["conv_responder"].fillna(False).astype(bool))


def univariable(data: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Univariable logistic regression of failure of conventional treatment on each Table 2
    characteristic, among the included patients (complete cases per characteristic).

    Parameters
    ----------
    data : the analysis dataset at the index assessment (:func:`analysis.tables.analysis_dataset`).
    params : the run's parameters (``min_events_per_term``).

    Returns
    -------
    One row per term: ``variable``, ``term``, ``n``, ``failures``, ``events`` (the less
    frequent outcome), ``or``, ``or_low``, ``or_high`` (95% CI), ``p`` (Wald for ML,
    penalised likelihood ratio for Firth), ``method`` ("ml", "firth" or "not estimable
    (reason)", e.g. "not estimable (1 event)", with NaN numbers).
    """
    base = _outcome(data)
    records = []
    for row in ROWS:
        terms, labels = design(base, row)
        y = base.loc[terms.index, "failure"].to_numpy(dtype=float)
        for rec in fit_term_table(terms, y, labels, params.min_events_per_term,
                                  continuous=row.kind == "continuous"):
            records.append({"variable": row.key, **rec})
    return pd.DataFrame.from_records(records)


def exploratory_model(data: pd.DataFrame, params: Params,
                      keys: tuple[str, str] = ("myositis", "fvc")) -> pd.DataFrame:
    """EXPLORATORY two-predictor model of failure (54 patients, 23 failures: no more than two
    predictors), Firth-penalised throughout so that a zero cell (CADM) does not break it;
    not a validated prediction model. Columns as :func:`univariable` without ``variable``;
    not estimable below ``params.min_events_per_term`` events per term."""
    base = _outcome(data)
    parts = [design(base, BY_KEY[k]) for k in keys]
    terms = pd.concat([p[0] for p in parts], axis=1, join="inner")
    labels = [label for p in parts for label in p[1]]
    y = base.loc[terms.index, "failure"].to_numpy(dtype=float)
    reason = not_estimable(terms, y, params.min_events_per_term)
    if reason:
        return pd.DataFrame(_not_estimable(labels, y, reason))
    X = np.column_stack([np.ones(len(y)), terms.to_numpy(dtype=float)])
    try:
        rows = [firth_ci(X, y, j) for j in range(1, X.shape[1])]
    except np.linalg.LinAlgError:
        return pd.DataFrame(_not_estimable(labels, y, "the terms are collinear"))
    return pd.DataFrame([{"term": label, "n": len(y), "failures": int(y.sum()),
                          "events": events(y), "or": math.exp(b), "or_low": math.exp(lo),
                          "or_high": math.exp(hi),
                          "p": p, "method": "firth"}
                         for label, (b, lo, hi, p) in zip(labels, rows, strict=True)])
