"""Granularity checks (GRIM-style): percentages, means and percent changes against their n.

Brown and Heathers' GRIM test (Soc Psychol Personal Sci 2017;8:363-9): a mean of ``n`` values
on a grid of step ``g`` is ``k * g / n`` for a whole ``k``; a percentage of ``n`` is
``100 k / n``. The checks below ask whether any such value lies in the closed rounding
interval of the printed number (:func:`analysis.consistency.core.interval`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    UNDECIDABLE,
    Grid,
    Verdict,
    end_only,
    end_only_range,
    fmt,
    in_interval,
    make_verdict,
    mark_end,
    runs_text,
)
from analysis.printed import Printed

__all__ = [
    "attainable_sums",
    "grim_mean",
    "pct_change",
    "pct_change_on_grid",
    "percent_of_count",
    "pooled_mean",
]


def percent_of_count(
    count: int, denominator: int, pct: Printed, check: str = "percent_granularity"
) -> Verdict:
    """Can ``count / denominator`` print as ``pct`` percent?

    Parameters
    ----------
    count, denominator : int
        Printed counts (``count`` may be a sum of printed counts, e.g. Table 2's two columns).
    pct : Printed
        The printed percentage.
    check : str
        Name recorded in the verdict (``"percent_vs_table2"`` for a cross-source use).

    Returns
    -------
    Verdict
        Evidence: ``count``, ``denominator``, ``exact`` (100 count / denominator), ``lo``/``hi``
        (the printed interval) and ``counts_fitting`` (every k of the denominator whose
        percentage fits).

    Examples
    --------
    Table 1, Black 26 (48.2%) of 54: 26/54 = 48.148%, below 48.15.

    >>> percent_of_count(26, 54, Printed(48.2, 1)).verdict
    'inconsistent'
    """
    exact = 100.0 * count / denominator
    fitting = tuple(k for k in range(denominator + 1)
                    if in_interval(100.0 * k / denominator, pct.lo, pct.hi))
    ok = in_interval(exact, pct.lo, pct.hi)
    return mark_end(make_verdict(
        check, CONSISTENT if ok else INCONSISTENT,
        "{count}/{denominator} = {exact_txt}%; printed {printed}% stands for [{lo}, {hi}]: "
        "{verdict} (counts that fit: {fit_txt})",
        count=int(count), denominator=int(denominator), exact=exact,
        exact_txt=f"{exact:.3f}", printed=str(pct), lo=pct.lo, hi=pct.hi,
        counts_fitting=fitting, fit_txt=", ".join(map(str, fitting)) or "none",
    ), end_only([exact], pct), pct)


def attainable_sums(mean: Printed, n: int, step: float) -> range:
    """Whole ``k`` with ``k * step / n`` in the printed interval of ``mean``."""
    lo = math.ceil(mean.lo * n / step - 1e-9)
    hi = math.floor(mean.hi * n / step + 1e-9)
    return range(lo, hi + 1)


def grim_mean(mean: Printed, ns: Sequence[int], grid: Grid, reading: str = "") -> Verdict:
    """Can ``n`` values on ``grid`` have the printed mean, for some ``n`` in ``ns``?

    Parameters
    ----------
    mean : Printed
        The printed mean.
    ns : sequence of int
        Admissible numbers of values: the printed n, or ``1..N`` when only a group size ``N``
        is printed (values may be missing); the first is the natural reading.
    grid : Grid
        Values are multiples of ``grid.step`` (``GRIDS["whole"]`` for whole numbers).
    reading : str
        Words for the sentence, e.g. "the 11 patients taking AZA, or fewer".

    Returns
    -------
    Verdict
        Evidence: ``ns_fitting`` (every n that works), ``nearest`` (the attainable means next to
        the printed interval at the first n), ``step``.

    Examples
    --------
    Table 3, CK of the 5 tacrolimus failures 1975.7: 5 whole numbers average to a multiple of
    0.2; 3 measured values can.

    >>> from analysis.consistency.core import GRIDS
    >>> grim_mean(Printed(1975.7, 1), [5], GRIDS["whole"]).verdict
    'inconsistent'
    """
    fitting = tuple(n for n in ns if len(attainable_sums(mean, n, grid.step)) > 0)
    n0 = ns[0]
    k_lo = math.floor(mean.value * n0 / grid.step)
    nearest = tuple(round(k * grid.step / n0, 4) for k in (k_lo, k_lo + 1))
    end = end_only(_grid_means(mean, fitting, grid), mean)
    return mark_end(make_verdict(
        "grim_mean", CONSISTENT if fitting else INCONSISTENT,
        "a mean of n values on the grid ({grid_name}) printed as {printed} [{lo}, {hi}]: "
        "n that fit: {fit_txt} of {ns_txt}{reading_txt}; at n = {n0} the nearest attainable "
        "means are {near_txt}: {verdict}",
        requires=_other_n(fitting, n0, "values behind the mean"),
        printed=str(mean), lo=mean.lo, hi=mean.hi, grid_name=grid.name, step=grid.step,
        ns=tuple(ns), ns_txt=runs_text(ns), ns_fitting=fitting,
        fit_txt=runs_text(fitting) or "none", n0=n0, nearest=nearest,
        near_txt=" and ".join(fmt(x) for x in nearest),
        reading_txt=f" ({reading})" if reading else "",
    ), end, mean)


def pooled_mean(
    pooled: Printed,
    groups: Sequence[tuple[Printed, int]],
    grid: Grid | None = None,
) -> Verdict:
    """Is a pooled mean the weighted mean of two printed group means?

    With all ``N1 + N2`` values measured the pooled mean is ``(N1 m1 + N2 m2) / (N1 + N2)``.
    When that fails, the check asks which numbers measured ``n1 <= N1``, ``n2 <= N2`` make
    all three printed means hold (missing data), exactly when ``grid`` is given (group sums
    are then whole multiples of its step).

    Parameters
    ----------
    pooled : Printed
        Table 1's mean.
    groups : sequence of (Printed, int)
        Two group means and their group sizes (Table 2's columns).
    grid : Grid, optional
        The values' grid (CK in whole U/l); without it values are continuous.

    Returns
    -------
    Verdict
        ``consistent`` when some (n1, n2) works; evidence ``complete_lo``/``complete_hi`` (the
        pooled range with every value measured), ``complete_ok``, ``min_missing`` and
        ``pairs`` (the (n1, n2) with the fewest missing).
    """
    (m1, big1), (m2, big2) = groups
    total = big1 + big2
    lo_full = (big1 * m1.lo + big2 * m2.lo) / total
    hi_full = (big1 * m1.hi + big2 * m2.hi) / total
    full_ok = lo_full <= pooled.hi + 1e-9 and hi_full >= pooled.lo - 1e-9
    pairs: list[tuple[int, int]] = []
    if grid is None:
        # continuous values: any weights between the two means (Nothing to enumerate.)
        if full_ok:
            pairs = [(big1, big2)]
        else:
            pairs = [(a, b) for a in range(1, big1 + 1) for b in range(1, big2 + 1)
                     if (a * m1.lo + b * m2.lo) / (a + b) <= pooled.hi + 1e-9
                     and (a * m1.hi + b * m2.hi) / (a + b) >= pooled.lo - 1e-9]
    else:
        for a in range(1, big1 + 1):
            s1 = attainable_sums(m1, a, grid.step)
            if not s1:
                continue
            for b in range(1, big2 + 1):
                s2 = attainable_sums(m2, b, grid.step)
                if not s2:
                    continue
                need = attainable_sums(pooled, a + b, grid.step)
                if need and s1.start + s2.start <= need.stop - 1 \
                        and s1.stop - 1 + s2.stop - 1 >= need.start:
                    pairs.append((a, b))
    if pairs:
        missing = min(total - a - b for a, b in pairs)
        best = tuple(p for p in pairs if total - sum(p) == missing)
    else:
        missing, best = -1, ()
    verdict = CONSISTENT if pairs else INCONSISTENT
    return make_verdict(
        "pooled_mean", verdict,
        "pooled {printed} vs group means {m1} (N = {big1}) and {m2} (N = {big2}): with all "
        "{total} measured the pooled mean is {clo}-{chi}{grid_txt}; {missing_txt}: {verdict}",
        requires=(f"at least {missing} of the {total} values "
                  f"{'is' if missing == 1 else 'are'} missing (measured: "
                  + " or ".join(f"{a} and {b}" for a, b in best[:3]) + ")"
                  if pairs and missing > 0 else ""),
        printed=str(pooled), m1=str(m1), m2=str(m2), big1=big1, big2=big2, total=total,
        complete_lo=lo_full, complete_hi=hi_full, clo=f"{lo_full:.2f}", chi=f"{hi_full:.2f}",
        complete_ok=bool(full_ok and (grid is None or (big1, big2) in pairs)),
        min_missing=missing, pairs=best,
        grid_txt=f" (values: {grid.name})" if grid else "",
        missing_txt=(
            "no numbers measured make all three means hold" if not pairs
            else "holds with every value measured" if missing == 0
            else f"holds only if at least {missing} values are missing, e.g. (n1, n2) = "
                 + ", ".join(f"({a}, {b})" for a, b in best[:4])
        ),
    )


def _decrease_range(start: Printed, end: Printed) -> tuple[float, float]:
    """Smallest and largest 100 (a - b) / a over the two closed intervals (a > 0, b >= 0)."""
    lo = 100.0 * (start.lo - end.hi) / start.lo
    hi = 100.0 * (start.hi - max(end.lo, 0.0)) / start.hi
    return lo, hi


def pct_change(start: Printed, end: Printed, pct: Printed) -> Verdict:
    """Can a printed "% decrease" follow from the printed start and end means?

    The decrease ``100 (a - b) / a`` rises with ``a`` and falls with ``b``, so its range over
    the two closed rounding intervals is reached at their corners.

    Examples
    --------
    MMF 2166.7 -> 1333.3 mg "38.4% decrease": the smallest decrease is 38.460%.

    >>> pct_change(Printed(2166.7, 1), Printed(1333.3, 1), Printed(38.4, 1)).verdict
    'inconsistent'
    """
    lo, hi = _decrease_range(start, end)
    ok = hi >= pct.lo - 1e-9 and lo <= pct.hi + 1e-9
    return mark_end(make_verdict(
        "pct_change", CONSISTENT if ok else INCONSISTENT,
        "{a} -> {b}: the decrease lies in [{lo_txt}%, {hi_txt}%] for means anywhere in their "
        "rounding intervals; printed {printed}% stands for [{plo}, {phi}]: {verdict}",
        a=str(start), b=str(end), lo=lo, hi=hi, lo_txt=f"{lo:.3f}", hi_txt=f"{hi:.3f}",
        printed=str(pct), plo=pct.lo, phi=pct.hi,
    ), end_only_range(lo, hi, pct), pct)


def pct_change_on_grid(
    start: Printed, end: Printed, pct: Printed,
    ns_start: Sequence[int], ns_end: Sequence[int], grid: Grid,
) -> Verdict:
    """As :func:`pct_change`, with both means on a dose grid and their n.

    Each mean must be ``k * step / n`` (``n`` from ``ns_start`` / ``ns_end``) inside its
    rounding interval; the decrease is computed from those exact means.

    Returns
    -------
    Verdict
        ``undecidable`` when one of the means is itself unattainable on the grid (its own
        :func:`grim_mean` verdict says so); evidence ``decreases`` (every attainable decrease,
        rounded to 4 decimals).
    """
    means_a = _grid_means(start, ns_start, grid)
    by_n = {n: _grid_means(end, [n], grid) for n in ns_end}
    means_b = set().union(*by_n.values()) if by_n else set()
    decreases = sorted({round(100.0 * (a - b) / a, 4) for a in means_a for b in means_b if a})
    fitting = tuple(n for n, bs in by_n.items()
                    if any(a and in_interval(round(100.0 * (a - b) / a, 4), pct.lo, pct.hi)
                           for a in means_a for b in bs))
    if not decreases:
        verdict = UNDECIDABLE
    else:
        verdict = CONSISTENT if fitting else INCONSISTENT
    return mark_end(make_verdict(
        "pct_change_on_grid", verdict,
        "{a} (n in {na}) -> {b} (n in {nb}) on the grid ({grid_name}): attainable decreases "
        "{dec_txt}; printed {printed}% stands for [{plo}, {phi}]: {verdict}",
        requires=_other_n(fitting, ns_end[0], "follow-up doses behind the decrease"),
        a=str(start), b=str(end), na=runs_text(ns_start), nb=runs_text(ns_end),
        grid_name=grid.name, decreases=tuple(decreases),
        dec_txt=", ".join(f"{d:.3f}%" for d in decreases[:6]) or "none (a mean is unattainable)",
        printed=str(pct), plo=pct.lo, phi=pct.hi,
    ), end_only(decreases, pct), pct)


def _other_n(fitting: Sequence[int], n0: int, what: str) -> str:
    """The :attr:`~analysis.consistency.core.Verdict.requires` of a check that holds for the
    ``fitting`` n but not for the paper's ``n0``: "" when ``n0`` fits (or nothing does).

    >>> _other_n((4, 3), 5, "values behind the mean")
    'there are 3, 4 values behind the mean, not 5'
    """
    if not fitting or n0 in fitting:
        return ""
    return f"there are {runs_text(fitting)} {what}, not {n0}"


def _grid_means(mean: Printed, ns: Iterable[int], grid: Grid) -> set[float]:
    return {k * grid.step / n for n in ns for k in attainable_sums(mean, n, grid.step)}
