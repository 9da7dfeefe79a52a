"""Integer coordinate search that moves one column of values until printed statistics hold.

The reconstructed cohort must reproduce every printed mean, SD and p-value of Sharma 2017
(Tables 1-3) within its printed rounding. A column (say age at onset, or FVC at the index
assessment) is first drawn from a plausible distribution, patient by patient; this module then
nudges the integer values, within per-patient bounds that keep them plausible, until every
constraint on that column holds. The search is a seeded stochastic hill-climb: a proposal moves
one value by a step, or two values of the same cell by opposite steps (which keeps every group
mean and moves only spread and ranks); it is accepted when the loss does not grow. The loss
counts how far each statistic lies outside its printed window, so it is zero exactly when every
constraint holds. Everything is deterministic under the generator passed in.

Statistics are computed exactly as the referees compute them: sample SD (``ddof=1``); Student's
pooled-variance t test (``scipy.stats.ttest_ind(equal_var=True)``); Mann-Whitney with the normal
approximation, tie correction and no continuity correction, two-sided (Stata ``ranksum``,
``scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=False)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.special
import scipy.stats

from analysis.errors import AnalysisError

__all__ = ["Constraint", "FitError", "printed_window", "statistic", "loss", "solve",
           "mann_whitney_p", "student_t_p"]

#: Share of a printed window kept free at each edge, so that float noise never decides rounding.
EDGE = 0.005


class FitError(AnalysisError):
    """The search ended without meeting every constraint."""


def printed_window(value: float, decimals: int) -> tuple[float, float]:
    """Values that round half-up to ``value`` at ``decimals``: ``[low, high)``.

    >>> printed_window(44.9, 1)
    (44.85, 44.95)
    >>> printed_window(0.01, 3)
    (0.0095, 0.0105)
    """
    half = 0.5 * 10.0 ** (-decimals)
    return (round(value - half, decimals + 2), round(value + half, decimals + 2))


@dataclass(frozen=True)
class Constraint:
    """One printed statistic of a column.

    Attributes
    ----------
    key : the published key it reproduces (``"t2.age.p"``).
    stat : ``"mean"``, ``"sd"`` (sample, ddof 1) or ``"p"`` (two-sample test).
    members : positions in the column: one array for mean and sd, two for p.
    low, high : the printed window ``[low, high)``.
    test : for ``"p"``: ``"t"`` (pooled Student), ``"welch"`` or ``"mannwhitney"``.
    """

    key: str
    stat: str
    members: tuple[np.ndarray, ...]
    low: float
    high: float
    test: str = ""


def mann_whitney_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Mann-Whitney p, normal approximation, tie-corrected, no continuity correction.

    Equal to ``scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False)``.

    >>> a, b = np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6, 7])
    >>> ref = scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
    >>> bool(abs(mann_whitney_p(a, b) - ref) < 1e-12)
    True
    """
    n1, n2 = len(a), len(b)
    u1 = (np.sign(a[:, None] - b[None, :]).sum() + n1 * n2) / 2.0
    both = np.concatenate([a, b])
    _, counts = np.unique(both, return_counts=True)
    n = n1 + n2
    ties = float((counts.astype(float) ** 3 - counts).sum())
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = abs(u1 - n1 * n2 / 2.0) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2.0)))


def student_t_p(a: np.ndarray, b: np.ndarray, equal_var: bool = True) -> float:
    """Two-sided two-sample t-test p (pooled Student by default, else Welch)."""
    n1, n2 = len(a), len(b)
    v1, v2 = a.var(ddof=1), b.var(ddof=1)
    diff = a.mean() - b.mean()
    if equal_var:
        df = n1 + n2 - 2
        se = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / df * (1 / n1 + 1 / n2))
    else:
        q1, q2 = v1 / n1, v2 / n2
        se = math.sqrt(q1 + q2)
        df = (q1 + q2) ** 2 / (q1 ** 2 / (n1 - 1) + q2 ** 2 / (n2 - 1))
    if se == 0:
        return 1.0
    return float(2.0 * scipy.special.stdtr(df, -abs(diff / se)))


def statistic(c: Constraint, values: np.ndarray) -> float:
    """The constraint's statistic on a column of float values."""
    if c.stat == "mean":
        return float(values[c.members[0]].mean())
    if c.stat == "sd":
        return float(values[c.members[0]].std(ddof=1))
    a, b = values[c.members[0]], values[c.members[1]]
    if c.test == "mannwhitney":
        return mann_whitney_p(a, b)
    return student_t_p(a, b, equal_var=(c.test == "t"))


def reference_statistic(c: Constraint, values: np.ndarray) -> float:
    """The same statistic computed by scipy itself (the final check of :func:`solve`)."""
    if c.stat != "p":
        return statistic(c, values)
    a, b = values[c.members[0]], values[c.members[1]]
    if c.test == "mannwhitney":
        return float(scipy.stats.mannwhitneyu(a, b, alternative="two-sided",
                                              method="asymptotic",
                                              use_continuity=False).pvalue)
    return float(scipy.stats.ttest_ind(a, b, equal_var=(c.test == "t")).pvalue)


def _violation(c: Constraint, s: float) -> float:
    width = c.high - c.low
    edge = EDGE * width
    if s < c.low + edge:
        return (c.low + edge - s) / width
    if s > c.high - edge:
        return (s - c.high + edge) / width
    return 0.0


def loss(constraints: Sequence[Constraint], values: np.ndarray) -> float:
    """Sum over constraints of the squared distance outside the printed window (in widths)."""
    total = 0.0
    for c in constraints:
        d = _violation(c, statistic(c, values))
        total += d * d + (d > 0)
    return total


def solve(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, cells: np.ndarray,
          constraints: Sequence[Constraint], steps: Sequence[int], rng: np.random.Generator,
          unit: float = 1.0, max_iter: int = 200_000, name: str = "column") -> np.ndarray:
    """Move integer values within bounds until every constraint holds.

    Parameters
    ----------
    x : int array, the starting values (in units of ``unit``: aldolase in tenths).
    lower, upper : int arrays, per-value bounds (inclusive); ``x`` is clipped into them.
    cells : labels of the finest groups; paired moves stay inside a cell.
    constraints : what must hold, on ``x * unit``.
    steps : step sizes tried (integers, in units).
    rng : the generator; the search is deterministic under it.
    max_iter : proposals before giving up.

    Returns
    -------
    numpy.ndarray of int64: the solved column.

    Raises
    ------
    FitError
        If the constraints still fail after ``max_iter`` proposals, naming them.
    """
    x = np.clip(np.asarray(x, dtype=np.int64), lower, upper)
    n = len(x)
    steps = np.asarray(steps, dtype=np.int64)
    by_cell = {c: np.flatnonzero(cells == c) for c in np.unique(cells)}
    partners = [by_cell[c] for c in cells]
    values = x * unit
    current = loss(constraints, values)
    batch = 4096
    it = 0
    while current > 0 and it < max_iter:
        pick = rng.integers(0, n, size=batch)
        step = steps[rng.integers(0, len(steps), size=batch)] * rng.choice([-1, 1], size=batch)
        paired = rng.random(batch) < 0.5
        other = rng.random(batch)
        for k in range(batch):
            it += 1
            i, s = int(pick[k]), int(step[k])
            xi = x[i] + s
            if xi < lower[i] or xi > upper[i]:
                continue
            j = -1
            if paired[k]:
                pool = partners[i]
                if len(pool) > 1:
                    j = int(pool[int(other[k] * len(pool))])
                    if j == i or x[j] - s < lower[j] or x[j] - s > upper[j]:
                        continue
            old_i = x[i]
            x[i] = xi
            if j >= 0:
                x[j] -= s
            values = x * unit
            new = loss(constraints, values)
            if new <= current:
                current = new
                if current == 0:
                    break
            else:
                x[i] = old_i
                if j >= 0:
                    x[j] += s
    values = x * unit
    failed = [c.key for c in constraints
              if _violation(c, reference_statistic(c, values)) > 0]
    if failed:
        raise FitError(f"{name}: could not meet {', '.join(failed)} after {it} proposals")
    return x
