"""Contingency tables: every table with the printed margins, and which tests give a printed p.

Sharma 2017, Statistical analysis: "Pearson chi-square test and Fisher's exact test" (Stata
``tabulate``, which also offers the likelihood-ratio chi-square and, for 2 x 2 tables, the
one-sided Fisher test). The check computes every test on the printed table and on every other
table with the same row and column totals (a transcription error in one cell keeps no margin,
so the margins enumeration tells whether *any* table of that size could print the p).

The enumeration is written here (not by calling :func:`analysis.stats.fisher_exact_rxc` once
per table) because one pass over all tables gives every table's exact
Fisher-Freeman-Halton p at once; tests compare it with ``analysis.stats`` and SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.stats

from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    UNDECIDABLE,
    Verdict,
    end_only,
    fmt,
    in_interval,
    make_verdict,
    mark_end,
)
from analysis.errors import ParameterError
from analysis.printed import Printed
from analysis.stats import compositions

__all__ = ["TESTS", "all_tables", "contingency_p", "table_tests", "which_test"]

#: Test ids and labels (2 x 2 only: Yates and one-sided Fisher).
TESTS: dict[str, str] = {
    "pearson": "Pearson chi-square",
    "yates": "Pearson chi-square with Yates correction",
    "lr": "likelihood-ratio chi-square",
    "fisher": "Fisher's exact (Freeman-Halton for r x c), two-sided",
    "fisher_one_sided": "Fisher's exact, one-sided (Stata)",
}

_REL_TOL = 1e-7  # R, SciPy and analysis.stats compare table probabilities with this tolerance


def _clean(table: Sequence[Sequence[int]]) -> np.ndarray:
    arr = np.asarray(table, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(f"a table with levels as rows and 2 groups as columns is needed; "
                             f"got shape {arr.shape}")
    return arr[arr.sum(axis=1) > 0]  # Stata drops empty levels


def all_tables(rows: Sequence[int], col0: int) -> np.ndarray:
    """Every first column x with 0 <= x_i <= rows_i and sum(x) = col0 (one table each)."""
    return np.array(list(compositions(int(col0), [int(r) for r in rows])), dtype=np.int64)


def _chi2_stats(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Pearson, Yates (2 x 2) and likelihood-ratio p for a stack of tables (first columns)."""
    n = rows.sum()
    obs = np.stack([x, rows - x], axis=-1).astype(float)  # (tables, r, 2)
    exp = np.outer(rows, cols) / n
    df = (len(rows) - 1) * (len(cols) - 1)
    dev = obs - exp
    out = {"pearson": scipy.stats.chi2.sf((dev ** 2 / exp).sum(axis=(1, 2)), df)}
    if len(rows) == 2:
        # SciPy's chi2_contingency: |O - E| reduced by min(0.5, |O - E|)
        adj = np.abs(dev) - np.minimum(0.5, np.abs(dev))
        out["yates"] = scipy.stats.chi2.sf((adj ** 2 / exp).sum(axis=(1, 2)), df)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(obs > 0, obs * np.log(obs / exp), 0.0).sum(axis=(1, 2))
    out["lr"] = scipy.stats.chi2.sf(2.0 * g, df)
    return out


def _exact_stats(x: np.ndarray, rows: np.ndarray, col0: int) -> dict[str, np.ndarray]:
    """Two-sided Fisher (Freeman-Halton) for every table, and one-sided Fisher for 2 x 2."""
    n = int(rows.sum())
    logp = np.array([sum(math.log(math.comb(int(r), int(v))) for r, v in zip(rows, xi, strict=True))
                     for xi in x]) - math.log(math.comb(n, int(col0)))
    prob = np.exp(logp)
    order = np.argsort(prob)
    cum = np.cumsum(prob[order])
    # p(table) = sum of probabilities <= its own times (1 + tol)
    idx = np.searchsorted(prob[order], prob * (1 + _REL_TOL), side="right") - 1
    out = {"fisher": np.minimum(cum[idx], 1.0)}
    if len(rows) == 2:
        a = x[:, 0]
        srt = np.argsort(a)
        cum_le = np.cumsum(prob[srt])
        cum_ge = np.cumsum(prob[srt][::-1])[::-1]
        less = np.empty_like(prob)
        greater = np.empty_like(prob)
        less[srt], greater[srt] = cum_le, cum_ge
        out["fisher_one_sided"] = np.minimum(np.minimum(less, greater), 1.0)
    return out


def table_tests(table: Sequence[Sequence[int]]) -> dict[str, float]:
    """Every test of :data:`TESTS` that applies, on one table (empty levels dropped)."""
    arr = _clean(table)
    rows, cols = arr.sum(axis=1), arr.sum(axis=0)
    if len(rows) < 2 or (cols == 0).any():
        return {}
    tables = all_tables(rows, cols[0])
    hit = int(np.flatnonzero((tables == arr[:, 0]).all(axis=1))[0])
    stats = {**_chi2_stats(tables, rows, cols), **_exact_stats(tables, rows, int(cols[0]))}
    return {k: float(v[hit]) for k, v in stats.items()}


def contingency_p(table: Sequence[Sequence[int]], p: Printed) -> Verdict:
    """Which tests give the printed p on the printed table, and on any table with its margins.

    Parameters
    ----------
    table : array_like of int, shape (r, 2)
        Printed counts, levels as rows, the two groups as columns.
    p : Printed
        The printed p.

    Returns
    -------
    Verdict
        ``consistent`` if some test on the printed table gives p; ``inconsistent`` if none
        does; ``undecidable`` if no test applies (fewer than two non-empty levels). Evidence:
        ``p_by_test`` (test id -> p on the printed table), ``tests_fitting``, ``n_tables``
        (tables with these margins), ``margin_fits`` (how many (table, test) pairs give p).
    """
    arr = _clean(table)
    rows, cols = arr.sum(axis=1), arr.sum(axis=0)
    if len(rows) < 2 or (cols == 0).any():
        return make_verdict("contingency_p", UNDECIDABLE,
                            "fewer than two non-empty levels: no test applies to p = {printed}",
                            printed=str(p), p_by_test={}, tests_fitting=(), n_tables=0,
                            margin_fits=0)
    tables = all_tables(rows, cols[0])
    stats = {**_chi2_stats(tables, rows, cols), **_exact_stats(tables, rows, int(cols[0]))}
    hit = int(np.flatnonzero((tables == arr[:, 0]).all(axis=1))[0])
    p_by_test = {k: float(v[hit]) for k, v in stats.items()}
    fitting = tuple(k for k, v in p_by_test.items() if in_interval(v, p.lo, p.hi))
    margin_hits = [(tuple(int(c) for c in tables[i]), k) for k, v in stats.items()
                   for i in np.flatnonzero((v >= p.lo - 1e-9) & (v <= p.hi + 1e-9))]
    return mark_end(make_verdict(
        "contingency_p", CONSISTENT if fitting else INCONSISTENT,
        "table {tab} (rows {rows}, columns {cols}), printed p = {printed} [{lo}, {hi}]: "
        "{tests_txt}; fits: {fit_txt}; of the {n_tables} tables with these margins, "
        "{margin_txt}: {verdict}",
        tab=[list(map(int, r)) for r in arr], rows=tuple(map(int, rows)),
        cols=tuple(map(int, cols)), printed=str(p), lo=p.lo, hi=p.hi,
        p_by_test=p_by_test, tests_fitting=fitting, n_tables=len(tables),
        margin_fits=len(margin_hits), margin_examples=tuple(margin_hits[:5]),
        tests_txt=", ".join(f"{k} {fmt(v, 4)}" for k, v in p_by_test.items()),
        fit_txt=", ".join(fitting) or "none",
        margin_txt=(f"{len(margin_hits)} (table, test) pairs give it" if margin_hits
                    else "none gives it under any test"),
    ), end_only(p_by_test.values(), p), p)


def which_test(readings: dict[str, Sequence[Sequence[int]]], p: Printed) -> Verdict:
    """Which table (reading of a sentence) and test give a printed p.

    Example: the abstract's "PM ... more likely to respond ... than DM (67% vs 35%,
    p = 0.013)": the 3-category myositis row of Table 2 or a 2 x 2 PM-vs-DM table.

    Returns
    -------
    Verdict
        ``consistent`` if some reading and test give p. Evidence ``p_by_reading`` (reading ->
        test -> p) and ``fitting`` ((reading, test) pairs).
    """
    by_reading = {name: table_tests(t) for name, t in readings.items()}
    fitting = tuple((name, k) for name, tests in by_reading.items()
                    for k, v in tests.items() if in_interval(v, p.lo, p.hi))
    return make_verdict(
        "which_test", CONSISTENT if fitting else INCONSISTENT,
        "printed p = {printed} [{lo}, {hi}]: {by_txt}; it is {fit_txt}: {verdict}",
        printed=str(p), lo=p.lo, hi=p.hi, p_by_reading=by_reading, fitting=fitting,
        by_txt="; ".join(f"{name}: " + ", ".join(f"{k} {fmt(v, 4)}" for k, v in t.items())
                         for name, t in by_reading.items()),
        fit_txt=" or ".join(f"{k} on {name}" for name, k in fitting) or "none of them",
    )
