"""Checks of printed p-values against the printed summaries they were computed from.

Sharma 2017, Statistical analysis: paired Student t test; Mann-Whitney rank-sum test; Pearson
chi-square and Fisher's exact test (Stata MP 13). Each check asks whether *some* reading the
printed numbers allow (a correlation, an n, a test, a value inside every rounding interval)
gives the printed p; "inconsistent" means none does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.optimize
import scipy.stats

from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    UNDECIDABLE,
    Verdict,
    end_only_range,
    fmt,
    in_interval,
    make_verdict,
    mark_end,
    runs_text,
)
from analysis.printed import Printed

__all__ = [
    "mann_whitney_u_range",
    "mann_whitney_with_ties",
    "mw_p",
    "paired_p",
    "paired_t_range",
    "two_sample_p",
]


def paired_p(diff: float, sd_diff: float, n: int) -> float:
    """Two-sided paired t p-value from the mean difference, its SD and n (df = n - 1)."""
    if sd_diff <= 0:
        return 0.0 if diff else 1.0
    t = abs(diff) * math.sqrt(n) / sd_diff
    return float(2.0 * scipy.stats.t.sf(t, n - 1))


def _diff_bounds(a: Printed, b: Printed) -> tuple[float, float]:
    """Smallest and largest |x - y| for x, y in the two closed intervals."""
    small = max(0.0, a.lo - b.hi, b.lo - a.hi)
    large = max(a.hi - b.lo, b.hi - a.lo)
    return small, large


def _sd_diff_bounds(s1: Printed, s2: Printed, r: float) -> tuple[float, float]:
    """Min and max of sqrt(x^2 + y^2 - 2 r x y) over the SD box.

    The quadratic form is convex for |r| <= 1, so its maximum is at a corner and its minimum
    on an edge, where the 1-D minimiser is the clipped stationary point ``x = r y``.
    """
    def f(x: float, y: float) -> float:
        return max(x * x + y * y - 2.0 * r * x * y, 0.0)

    x_lo, x_hi, y_lo, y_hi = max(s1.lo, 0.0), s1.hi, max(s2.lo, 0.0), s2.hi  # an SD is >= 0
    corners = [(x, y) for x in (x_lo, x_hi) for y in (y_lo, y_hi)]
    edges = [(min(max(r * y, x_lo), x_hi), y) for y in (y_lo, y_hi)]
    edges += [(x, min(max(r * x, y_lo), y_hi)) for x in (x_lo, x_hi)]
    values = [f(x, y) for x, y in corners + edges]
    return math.sqrt(min(values)), math.sqrt(max(f(x, y) for x, y in corners))


def _r_interval(pre_m, pre_s, post_m, post_s, n, p) -> tuple[float, float, float, float]:
    """(p_min over r, p_max over r, r_lo, r_hi): the r for which the printed p is reachable.

    Both the smallest and the largest reachable p fall as r rises (the SD of the differences
    falls), so the r that fit form one interval, found by root finding; ``nan`` if empty.
    """
    dmin, dmax = _diff_bounds(pre_m, post_m)

    def p_max(r: float) -> float:
        return paired_p(dmin, _sd_diff_bounds(pre_s, post_s, r)[1], n)

    def p_min(r: float) -> float:
        return paired_p(dmax, _sd_diff_bounds(pre_s, post_s, r)[0], n)

    lo_all, hi_all = p_min(1.0), p_max(-1.0)
    if p_min(1.0) > p.hi or p_max(-1.0) < p.lo:
        return lo_all, hi_all, math.nan, math.nan
    r_lo = -1.0 if p_min(-1.0) <= p.hi else scipy.optimize.brentq(
        lambda r: p_min(r) - p.hi, -1.0, 1.0, xtol=1e-6)
    r_hi = 1.0 if p_max(1.0) >= p.lo else scipy.optimize.brentq(
        lambda r: p_max(r) - p.lo, -1.0, 1.0, xtol=1e-6)
    return lo_all, hi_all, r_lo, r_hi


def _reachable(pre: tuple[Printed, Printed], post: tuple[Printed, Printed], n: int,
               p: Printed) -> bool:
    """Whether some r in [-1, 1] and values in the intervals give p (no root finding)."""
    dmin, dmax = _diff_bounds(pre[0], post[0])
    p_lo = paired_p(dmax, _sd_diff_bounds(pre[1], post[1], 1.0)[0], n)
    p_hi = paired_p(dmin, _sd_diff_bounds(pre[1], post[1], -1.0)[1], n)
    return p_lo <= p.hi + 1e-12 and p_hi >= p.lo - 1e-12


def paired_t_range(
    pre: tuple[Printed, Printed], post: tuple[Printed, Printed], p: Printed,
    ns: Sequence[int], reading: str = "",
) -> Verdict:
    """Can a paired t test of the printed pre/post means and SDs give the printed p?

    The correlation r between pre and post values is not printed; the SD of the differences
    is ``sqrt(s1^2 + s2^2 - 2 r s1 s2)``. Over r in [-1, 1] and every value inside the
    rounding intervals the p-value covers ``[p_min, p_max]``; the printed p needs r in
    ``[r_lo, r_hi]``.

    Parameters
    ----------
    pre, post : (Printed, Printed)
        Mean and SD before and after.
    p : Printed
        The printed p ("< 0.001" allowed).
    ns : sequence of int
        Admissible numbers of pairs; the first is the reading reported in the sentence
        (e.g. 23 = every conventional failure, when the paper prints no n).
    reading : str
        Words naming where ``ns[0]`` comes from.

    Returns
    -------
    Verdict
        ``consistent`` when some n in ``ns`` and some r fit. Evidence: ``n``, ``p_min``,
        ``p_max``, ``r_lo``, ``r_hi`` at ``ns[0]``; ``ns_fitting``.
    """
    n0 = ns[0]
    lo0, hi0, r_lo, r_hi = _r_interval(pre[0], pre[1], post[0], post[1], n0, p)
    fitting = tuple(n for n in ns if n >= 2 and _reachable(pre, post, n, p))
    if math.isnan(r_lo):
        r_txt = "no r in [-1, 1] gives it"
    else:
        r_txt = f"it needs r in [{r_lo:.2f}, {r_hi:.2f}]"
    ends = [end_only_range(*_p_range(pre, post, n), p) for n in fitting]
    return mark_end(make_verdict(
        "paired_t_range", CONSISTENT if fitting else INCONSISTENT,
        "paired t, {a} +/- {sa} -> {b} +/- {sb}, n = {n}{reading_txt}: over r in [-1, 1] "
        "p lies in [{plo}, {phi}]; printed p = {printed} [{lo}, {hi}]: {r_txt}; n that fit: "
        "{fit_txt} of {ns_txt}: {verdict}",
        requires=(f"{runs_text(fitting)} pairs were analysed, not {n0}"
                  if fitting and n0 not in fitting else ""),
        a=str(pre[0]), sa=str(pre[1]), b=str(post[0]), sb=str(post[1]), n=n0,
        reading_txt=f" ({reading})" if reading else "",
        p_min=lo0, p_max=hi0, plo=fmt(lo0, 4), phi=fmt(hi0, 4), r_lo=r_lo, r_hi=r_hi,
        r_txt=r_txt, printed=str(p), lo=p.lo, hi=p.hi, ns=tuple(ns), ns_txt=runs_text(ns),
        ns_fitting=fitting, fit_txt=runs_text(fitting) or "none",
    ), ends[0] if ends and all(e is not None for e in ends) else None, p)


def _p_range(pre: tuple[Printed, Printed], post: tuple[Printed, Printed],
             n: int) -> tuple[float, float]:
    """Smallest and largest paired-t p over r in [-1, 1] and the rounding boxes."""
    dmin, dmax = _diff_bounds(pre[0], post[0])
    return (paired_p(dmax, _sd_diff_bounds(pre[1], post[1], 1.0)[0], n),
            paired_p(dmin, _sd_diff_bounds(pre[1], post[1], -1.0)[1], n))


def _t_from_total_sd(d: float, sd: float, n1: int, n2: int) -> float:
    """Pooled-variance t p-value when Table 1's SD of all n1 + n2 values is known.

    The within-group sum of squares is the total one minus the between-group one:
    ``(N - 1) sd^2 - n1 n2 / N * d^2``.
    """
    total = n1 + n2
    within = (total - 1) * sd * sd - n1 * n2 / total * d * d
    if within <= 0:
        return 0.0
    sp = math.sqrt(within / (total - 2))
    t = d / (sp * math.sqrt(1.0 / n1 + 1.0 / n2))
    return float(2.0 * scipy.stats.t.sf(t, total - 2))


def mann_whitney_u_range(p: Printed, n1: int, n2: int) -> tuple[int, int] | None:
    """The whole U (smaller side, U <= n1 n2 / 2) whose normal-approximation p fits ``p``.

    Stata's ``ranksum`` uses the normal approximation without continuity correction; without
    ties the variance is ``n1 n2 (n1 + n2 + 1) / 12``. Returns ``None`` when no whole U fits.
    """
    us = np.arange(0, math.floor(n1 * n2 / 2.0) + 1)
    ps = mw_p(us, n1, n2)
    ok = us[(ps >= p.lo - 1e-12) & (ps <= p.hi + 1e-12)]
    return (int(ok.min()), int(ok.max())) if ok.size else None


def mw_p(u: float | np.ndarray, n1: int, n2: int, tie: int = 0) -> float | np.ndarray:
    """Stata ``ranksum`` p (normal approximation, no continuity correction) for a U.

    ``tie`` is the size of one group of tied values (0 or 1: none); the variance is
    ``n1 n2 / 12 * ((N + 1) - (t^3 - t) / (N (N - 1)))``.
    """
    big = n1 + n2
    var = n1 * n2 / 12.0 * ((big + 1) - (tie ** 3 - tie) / (big * (big - 1)))
    if var <= 0:
        return np.nan
    return 2.0 * scipy.stats.norm.sf(np.abs(np.asarray(u) - n1 * n2 / 2.0) / math.sqrt(var))


def mann_whitney_with_ties(p: Printed, n1: int, n2: int) -> tuple[float, float, int] | None:
    """As :func:`mann_whitney_u_range` with one group of ``t`` tied values (t = 2..N).

    Ties make U a multiple of 1/2 and shrink Stata's variance to
    ``n1 n2 / 12 * ((N + 1) - (t^3 - t) / (N (N - 1)))``. Returns ``(U_lo, U_hi, t)`` for the
    smallest ``t`` for which some U fits, or ``None``.
    """
    big = n1 + n2
    mu = n1 * n2 / 2.0
    us = np.arange(0, 2 * math.floor(mu) + 2) / 2.0
    us = us[us <= mu]
    for t in range(2, big):
        ps = mw_p(us, n1, n2, t)
        ok = us[(ps >= p.lo - 1e-12) & (ps <= p.hi + 1e-12)]
        if ok.size:
            return float(ok.min()), float(ok.max()), t
    return None


def _mw_search(p: Printed, n1: int, n2: int, allow_missing: bool) -> tuple[tuple, str] | None:
    """First Mann-Whitney reading that fits: full n without ties, with ties, then fewer n.

    Returns ``((n1, n2, U_lo, U_hi, tie_size or 0), sentence)`` or ``None``.
    """
    pairs = [(n1, n2)]
    if allow_missing:
        pairs += sorted(((a, b) for a in range(2, n1 + 1) for b in range(2, n2 + 1)
                         if (a, b) != (n1, n2)), key=lambda ab: (-(ab[0] + ab[1]), -ab[0]))
    for a, b in pairs:
        plain = mann_whitney_u_range(p, a, b)
        if plain is not None:
            return (a, b, *plain, 0), (f"Mann-Whitney with n = {a} vs {b} needs U in "
                                       f"[{plain[0]}, {plain[1]}] of {a * b}")
        tied = mann_whitney_with_ties(p, a, b)
        if tied is not None:
            return (a, b, *tied), (f"Mann-Whitney with n = {a} vs {b} needs ties: with {tied[2]} "
                                   f"tied values, U in [{tied[0]:g}, {tied[1]:g}] of {a * b}")
    return None


def two_sample_p(
    means: tuple[Printed, Printed], ns: tuple[int, int], p: Printed,
    total_sd: Printed | None = None, allow_missing: bool = False,
) -> Verdict:
    """Can either two-sample test of the Methods give the printed p?

    t test: with Table 1's SD of all patients (``total_sd``) the pooled within-group SD is
    fixed by the group means and sizes, so the t-test p is known up to rounding: it falls
    with the mean difference and rises with the SD, so its range is reached at the corners.
    Mann-Whitney: any data could be behind the means, so only the U the printed p needs is
    reported (Stata's normal approximation): without ties first, then with one group of tied
    values (:func:`mann_whitney_with_ties`).

    With ``allow_missing`` (the number measured is not printed, only the group size) the
    Mann-Whitney search then tries every smaller (n1, n2), largest total first.

    Returns
    -------
    Verdict
        ``consistent`` if the t-test range or some U fits; ``undecidable`` when no U fits and
        no SD is printed. Evidence: ``t_p_lo``, ``t_p_hi``, ``t_fits``, ``mw_fits``,
        ``mw_reading`` ((n1, n2, U_lo, U_hi, tie group size or 0)).
    """
    n1, n2 = ns
    dmin, dmax = _diff_bounds(*means)
    if total_sd is not None:
        t_lo = _t_from_total_sd(dmax, total_sd.lo, n1, n2)
        t_hi = _t_from_total_sd(dmin, total_sd.hi, n1, n2)
        t_fits = t_hi >= p.lo - 1e-12 and t_lo <= p.hi + 1e-12
        t_txt = (f"t test with Table 1's SD {total_sd} gives p in [{fmt(t_lo)}, {fmt(t_hi)}] "
                 f"({'fits' if t_fits else 'does not fit'})")
    else:
        t_lo = t_hi = math.nan
        t_fits = False
        t_txt = "no SD printed for a t test"
    found = _mw_search(p, n1, n2, allow_missing)
    mw_fits = found is not None
    mw = found[0] if found else None
    u_txt = found[1] if found else "no U gives it, with or without ties"
    verdict = CONSISTENT if (t_fits or mw_fits) else (
        INCONSISTENT if total_sd is not None and not t_fits and _mw_impossible(p, n1, n2)
        else UNDECIDABLE)
    fewer = mw is not None and (mw[0], mw[1]) != (n1, n2) and not t_fits
    end = (end_only_range(t_lo, t_hi, p) if t_fits else None) if not mw_fits else None
    return mark_end(make_verdict(
        "two_sample_p", verdict,
        "{a} (n = {n1}) vs {b} (n = {n2}), printed p = {printed}: {t_txt}; {u_txt}: {verdict}",
        requires=(f"{mw[0]} vs {mw[1]} were measured, not {n1} vs {n2} (values missing)"
                  if fewer else ""),
        a=str(means[0]), b=str(means[1]), n1=n1, n2=n2, printed=str(p), lo=p.lo, hi=p.hi,
        t_p_lo=t_lo, t_p_hi=t_hi, t_fits=bool(t_fits), mw_fits=mw_fits, mw_reading=mw,
        t_txt=t_txt, u_txt=u_txt,
    ), end, p)


def _mw_impossible(p: Printed, n1: int, n2: int) -> bool:
    """True only when p is below the smallest Mann-Whitney p any data could give."""
    sigma = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)
    z_max = (n1 * n2 / 2.0) / sigma  # U = 0, no ties (ties cannot push |z| past this)
    return p.hi < 2.0 * scipy.stats.norm.sf(z_max)


def within(x: float, p: Printed) -> bool:
    """Whether a computed p lies in the printed p's closed interval."""
    return in_interval(x, p.lo, p.hi)
