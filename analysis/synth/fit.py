"""Integer coordinate search that moves one column of values until printed statistics hold.

The reconstructed cohort must reproduce every printed mean, SD and p-value of Sharma 2017
(Tables 1-3) within its printed rounding. A column (say age at onset, or FVC at the index
assessment) is first drawn from a plausible distribution, patient by patient; this module then
nudges the integer values, within per-patient bounds that keep them plausible, until every
constraint on that column holds. The search is a seeded stochastic hill-climb: a proposal moves
one value by a step, or two values of the same cell by opposite steps (which keeps every group
mean and moves only spread and ranks), or sets a value equal to another one (a tie, which some
rank-test p-values of small groups need); it is accepted when the loss does not grow. The loss
counts how far each statistic lies outside its printed window, so it is zero exactly when every
constraint holds. Everything is deterministic under the generator passed in.

Statistics are computed exactly as the referees compute them: sample SD (``ddof=1``); Student's
pooled-variance t test (``scipy.stats.ttest_ind(equal_var=True)``); Mann-Whitney with the normal
approximation, tie correction and no continuity correction, two-sided (Stata ``ranksum``,
``scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=False)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special
import scipy.stats

from analysis.errors import AnalysisError

__all__ = ["Constraint", "FitError", "descend", "statistic", "loss", "solve", "mann_whitney_p",
           "mann_whitney_variance", "student_t_p", "tie_sum"]

#: Share of a printed window kept free at each edge, so that float noise never decides rounding.
EDGE = 1e-4
#: Weight of a soft (plausibility) constraint in the loss, against 1 for a printed number.
SOFT_WEIGHT = 0.05


class FitError(AnalysisError):
    """The search ended without meeting every constraint."""


@dataclass(frozen=True)
class Constraint:
    """One printed statistic of a column.

    Attributes
    ----------
    key : the published key it reproduces (``"t2.age.p"``).
    stat : ``"mean"``, ``"sd"`` (sample, ddof 1) or ``"p"`` (two-sample test).
    members : positions in the column: one array for mean and sd, two for p.
    low, high : the printed window ``[low, high)`` (:meth:`analysis.printed.Printed.window`).
    test : for ``"p"``: ``"t"`` (pooled Student), ``"welch"`` or ``"mannwhitney"``.
    max_ties : for Mann-Whitney, the largest tie correction (sum of t^3 - t over tied
        values, 6 per tied pair) allowed; None = any. Keeps the search from reaching a p-value
        by piling up ties that a laboratory value such as CK would not have.
    soft : a plausibility preference, not a printed number: it steers the search, but a
        column that meets every other constraint is accepted without it.
    """

    key: str
    stat: str
    members: tuple[np.ndarray, ...]
    low: float
    high: float
    test: str = ""
    max_ties: int | None = None
    soft: bool = False


def mann_whitney_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Mann-Whitney p, normal approximation, tie-corrected, no continuity correction.

    Equal to ``scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False)``.

    >>> a, b = np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6, 7])
    >>> ref = scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
    >>> bool(abs(mann_whitney_p(a, b) - ref) < 1e-12)
    True
    """
    n1, n2 = len(a), len(b)
    u1 = (float(np.add.reduce(np.sign(a[:, None] - b[None, :]), axis=None)) + n1 * n2) / 2.0
    ties = float(tie_sum(np.concatenate([a, b])))
    var = mann_whitney_variance(n1, n2, ties)
    if var <= 0:
        return 1.0
    z = abs(u1 - n1 * n2 / 2.0) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2.0)))


def mann_whitney_variance(n1: int, n2: int, ties: float) -> float:
    """Variance of the Mann-Whitney U under the null hypothesis, corrected for ties.

    ``n1 n2 / 12 * ((n + 1) - T / (n (n - 1)))`` with ``n = n1 + n2`` and ``T`` the sum of
    t^3 - t over groups of tied values (:func:`tie_sum`); Stata ``ranksum``, and
    ``scipy.stats.mannwhitneyu(method="asymptotic")``.

    >>> mann_whitney_variance(4, 5, 0)
    16.666666666666668
    """
    n = n1 + n2
    return n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))


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


def tie_sum(values: np.ndarray) -> int:
    """Sum of t^3 - t over groups of tied values (the rank tests' tie correction).

    >>> tie_sum(np.array([1.0, 2.0, 2.0, 3.0, 3.0, 3.0]))
    30
    """
    ordered = np.sort(values)
    same = ordered[1:] == ordered[:-1]
    if not np.logical_or.reduce(same):
        return 0
    # Lengths of runs of equal values: boundaries where consecutive values differ.
    edges = np.flatnonzero(np.concatenate(([True], ~same, [True])))
    counts = np.diff(edges)
    return int((counts ** 3 - counts).sum())


def _excess_ties(c: Constraint, values: np.ndarray) -> float:
    if c.max_ties is None or c.stat != "p":
        return 0.0
    both = np.concatenate([values[c.members[0]], values[c.members[1]]])
    return max(0.0, (tie_sum(both) - c.max_ties) / 6.0)


def statistic(c: Constraint, values: np.ndarray) -> float:
    """The constraint's statistic on a column of float values."""
    if c.stat == "mean":
        return float(np.add.reduce(values[c.members[0]])) / len(c.members[0])
    if c.stat == "sd":
        v = values[c.members[0]]
        n, total = len(v), v.sum()
        return math.sqrt(max(0.0, (float(v @ v) - total * total / n) / (n - 1)))
    a, b = values[c.members[0]], values[c.members[1]]
    if c.test == "mannwhitney":
        return mann_whitney_p(a, b)
    return student_t_p(a, b, equal_var=(c.test == "t"))


def reference_statistic(c: Constraint, values: np.ndarray) -> float:
    """The same statistic computed by scipy itself (the final check of :func:`solve`)."""
    if c.stat == "sd":
        return float(values[c.members[0]].std(ddof=1))
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
    """Sum over constraints of the squared distance outside the printed window (in widths),
    soft constraints down-weighted by :data:`SOFT_WEIGHT`."""
    total = 0.0
    for c in constraints:
        d = _violation(c, statistic(c, values)) + _excess_ties(c, values)
        total += d * d * (SOFT_WEIGHT if c.soft else 1.0)
    return total


def descend(current: Any, propose: Callable[[], tuple[Any, Callable[[], None]] | None],
            iters: int, stop: Callable[[Any, int], bool]) -> Any:
    """Seeded descent: apply proposed moves, keep each unless the loss grows.

    The dose generator's searches (a multiset of tablet doses with a printed SD, a pairing of
    doses over time with printed paired p-values; :mod:`analysis.synth.doses`) run on it.

    Parameters
    ----------
    current : float or tuple
        The loss of the starting state (anything ordered: a tuple is compared lexicographically).
    propose : callable
        ``propose() -> None`` when the proposal drawn is infeasible (nothing changed), else the
        loss after applying the move and a function that undoes it. It draws its randomness from
        the caller's generator, so the search is deterministic under it.
    iters : int
        Proposals in all (feasible or not).
    stop : callable
        ``stop(current, stale) -> bool``, checked before each proposal; ``stale`` counts the
        feasible proposals since the loss last fell.

    Returns
    -------
    The final loss.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = [10]
    >>> def propose():
    ...     step = int(rng.integers(-3, 4))
    ...     x[0] += step
    ...     return abs(x[0] - 4), lambda: x.__setitem__(0, x[0] - step)
    >>> descend(abs(x[0] - 4), propose, 200, lambda loss, stale: loss == 0), x
    (0, [4])
    """
    stale = 0
    for _ in range(iters):
        if stop(current, stale):
            break
        move = propose()
        if move is None:
            continue
        new, undo = move
        if new <= current:
            stale = 0 if new < current else stale + 1
            current = new
        else:
            undo()
            stale += 1
    return current


def _search(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, partners: list[np.ndarray],
            constraints: Sequence[Constraint], steps: np.ndarray, rng: np.random.Generator,
            unit: float, budget: int, patience: int) -> tuple[np.ndarray, float, int]:
    """One hill-climb from ``x`` (modified in place); returns it, its loss, proposals used.

    Not :func:`descend`: proposals are drawn in batches, a stalled search takes a few moves
    whatever they cost, and a search whose printed constraints hold stops early; the bytes of
    ``data/raw/assessments.csv`` follow this exact sequence of draws.
    """
    n = len(x)
    current = loss(constraints, x * unit)
    batch = 4096
    it = 0
    stall = 0
    kick = 0
    while current > 0 and it < budget:
        pick = rng.integers(0, n, size=batch)
        step = steps[rng.integers(0, len(steps), size=batch)] * rng.choice([-1, 1], size=batch)
        kind = rng.random(batch)  # < 0.45 single, < 0.9 paired, else copy another value
        other = rng.random(batch)
        for k in range(batch):
            it += 1
            stall += 1
            # Out of a local minimum (a tie or a rank that no single move can undo without
            # breaking a mean): after `patience` proposals without progress, take the next
            # few feasible moves whatever they cost.
            if stall > patience:
                kick, stall = 6, 0
            i, s = int(pick[k]), int(step[k])
            if kind[k] >= 0.9:  # a tie: take another patient's value (rank tests need them)
                s = int(x[int(other[k] * n)] - x[i])
                if s == 0:
                    continue
            xi = x[i] + s
            if xi < lower[i] or xi > upper[i]:
                continue
            j = -1
            if 0.45 <= kind[k] < 0.9:
                pool = partners[i]
                if len(pool) > 1:
                    j = int(pool[int(other[k] * len(pool))])
                    if j == i or x[j] - s < lower[j] or x[j] - s > upper[j]:
                        continue
            old_i = x[i]
            x[i] = xi
            if j >= 0:
                x[j] -= s
            new = loss(constraints, x * unit)
            if new < current:
                stall = 0
            elif stall == patience and loss([c for c in constraints if not c.soft],
                                             x * unit) == 0:
                break  # every printed number holds; only soft preferences are left
            if new <= current or kick > 0:
                kick = max(0, kick - 1)
                current = new
                if current == 0:
                    break
            else:
                x[i] = old_i
                if j >= 0:
                    x[j] += s
    return x, current, it


def _unmet(constraints: Sequence[Constraint], values: np.ndarray) -> list[str]:
    """Constraints that fail when checked with scipy's own functions."""
    out = []
    for c in constraints:
        if c.soft:
            continue
        stat = reference_statistic(c, values)
        if _violation(c, stat) > 0 or _excess_ties(c, values) > 0:
            out.append(f"{c.key} = {stat:.6g} (needs [{c.low}, {c.high}))")
    return out


def solve(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, cells: np.ndarray,
          constraints: Sequence[Constraint], steps: Sequence[int], rng: np.random.Generator,
          unit: float = 1.0, max_iter: int = 200_000, name: str = "column",
          patience: int = 3000, restarts: int = 4) -> np.ndarray:
    """Move integer values within bounds until every constraint holds.

    Parameters
    ----------
    x : int array, the starting values (in units of ``unit``: aldolase in tenths).
    lower, upper : int arrays, per-value bounds (inclusive); ``x`` is clipped into them.
    cells : labels of the finest groups; paired moves stay inside a cell.
    constraints : what must hold, on ``x * unit``.
    steps : step sizes tried (integers, in units).
    rng : the generator; the search is deterministic under it.
    max_iter : proposals in all, shared by the restarts.
    patience : proposals without progress before a few moves are taken regardless of cost.
    restarts : searches tried, the first from ``x``, the others from ``x`` jittered by one
        random step per value.

    Returns
    -------
    numpy.ndarray of int64: the solved column (checked with scipy's functions).

    Raises
    ------
    FitError
        If no search meets every constraint, naming those the best one missed.
    """
    x0 = np.clip(np.asarray(x, dtype=np.int64), lower, upper)
    for c in constraints:
        members = c.members[0]
        if c.stat == "mean" and not c.soft and (
                upper[members].mean() * unit < c.low or lower[members].mean() * unit >= c.high):
            raise FitError(f"{name}: {c.key} cannot reach [{c.low}, {c.high}) within the bounds")
    steps = np.asarray(steps, dtype=np.int64)
    by_cell = {c: np.flatnonzero(cells == c) for c in np.unique(cells)}
    partners = [by_cell[c] for c in cells]
    best: tuple[float, np.ndarray] | None = None
    used = 0
    for attempt in range(restarts):
        start = x0.copy()
        if attempt:
            jitter = steps[rng.integers(0, len(steps), size=len(start))]
            start = np.clip(start + jitter * rng.choice([-1, 1], size=len(start)), lower, upper)
        found, value, it = _search(start, lower, upper, partners, constraints, steps, rng,
                                   unit, max_iter // restarts, patience)
        used += it
        if not _unmet(constraints, found * unit):
            return found
        if best is None or value < best[0]:
            best = (value, found)
    assert best is not None
    error = FitError(f"{name}: could not meet {'; '.join(_unmet(constraints, best[1] * unit))} "
                     f"after {used} proposals in {restarts} searches")
    error.values = best[1]
    raise error
