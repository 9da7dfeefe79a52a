"""Everything the paper prints about one paired comparison, checked together.

Sharma 2017, Results, "Change in the doses of DMARD": for each drug the paper prints the mean
and SD before and after, the number of patients (AZA, MTX, MMF; not for prednisone), the
percent decrease and the paired-t p-value. One unknown ties them together: the within-patient
correlation ``r`` between a patient's dose before and after. The SD of the differences is
``sqrt(s1^2 + s2^2 - 2 r s1 s2)``, and the paired t statistic is ``d sqrt(n) / sd_diff``, so

    r = (s1^2 + s2^2 - n d^2 / t^2) / (2 s1 s2)

for the mean decrease ``d``, the SDs ``s1``, ``s2`` and the ``t`` whose two-sided p is the
printed p. :func:`paired_joint` finds the range of ``r`` that every printed value allows at
once (each anywhere in its rounding interval, the decrease also inside the printed percent
decrease) and judges it: *possible* when the range meets [-1, 1], *plausible* when it meets
[r_min, 1], ``r_min`` being the run's ``check_min_correlation``
(:data:`analysis.paper.grids.MIN_CORRELATION`, with its source).

:func:`analysis.consistency.pvalues.paired_t_range` asks the same question of the means, SDs
and p alone over r in [-1, 1]; this check adds the percent decrease, reports the r the numbers
need, and weighs it against the plausibility bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import scipy.stats

from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    Verdict,
    make_verdict,
    runs_text,
    with_assumptions,
)
from analysis.consistency.pvalues import _diff_bounds
from analysis.errors import ParameterError
from analysis.printed import Printed

__all__ = ["correlation_range", "decrease_bounds", "paired_joint"]


def decrease_bounds(pre: Printed, post: Printed,
                    pct: Printed | None = None) -> tuple[float, float] | None:
    """Smallest and largest mean decrease ``d = a - b`` over the printed means, and the
    printed percent decrease ``100 d / a`` when given (all closed intervals).

    With ``pct`` the feasible ``(a, b)`` are the mean box cut by the two lines
    ``b = a (1 - c / 100)`` for the ends ``c`` of the percent interval; ``d`` is linear, so its
    extremes lie at the ends of the feasible range of ``a`` or where ``b``'s bounds switch from
    the box to a line (computed exactly, no search). Without ``pct``: the smallest and largest
    ``|a - b|``. Returns ``None`` when no means give the printed percent decrease.

    Examples
    --------
    AZA 143.2 -> 84.1 mg, "41.2% decrease": 84.1 / 143.2 is a 41.27% decrease, so only the
    largest b and smallest a fit: d runs from 143.15 - 84.15 = 59.0 to 0.4125 x 143.234 (a at
    its largest, 84.15 / 0.5875, with b at 58.75% of it).

    >>> lo, hi = decrease_bounds(Printed(143.2, 1), Printed(84.1, 1), Printed(41.2, 1))
    >>> round(lo, 3), round(hi, 3)
    (59.0, 59.084)
    """
    if pct is None:
        return _diff_bounds(pre, post)
    k_lo, k_hi = 1.0 - pct.hi / 100.0, 1.0 - pct.lo / 100.0  # b / a lies in [k_lo, k_hi]
    a_lo, a_hi = max(pre.lo, 0.0), pre.hi
    if k_hi > 0:
        a_lo = max(a_lo, post.lo / k_hi)
    if k_lo > 0:
        a_hi = min(a_hi, post.hi / k_lo)
    if a_lo > a_hi + 1e-12:
        return None
    candidates = {a_lo, a_hi}
    for k, b in ((k_lo, post.lo), (k_hi, post.hi)):
        if k > 0 and a_lo <= b / k <= a_hi:
            candidates.add(b / k)
    small, large = math.inf, -math.inf
    for a in candidates:
        b_low, b_high = max(post.lo, a * k_lo, 0.0), min(post.hi, a * k_hi)
        if b_low > b_high + 1e-12:
            continue
        small, large = min(small, a - b_high), max(large, a - b_low)
    return (small, large) if small <= large else None


def _r_of(x: float, y: float, v: float) -> float:
    """r that gives the SD of the differences ``sqrt(v)`` with SDs ``x`` and ``y``."""
    return (x * x + y * y - v) / (2.0 * x * y)


def _r_extreme(box: tuple[float, float, float, float], v: float, lowest: bool) -> float:
    """Smallest (``lowest``) or largest r over the SD box for a fixed variance of the
    differences ``v``.

    Along an edge with ``x`` fixed, ``r`` falls while ``y^2 < x^2 - v`` and rises after (the
    sign of its derivative is that of ``y^2 - x^2 + v``), and alike in ``x``; two interior zeros
    of the gradient need ``v = 0`` and ``x = y``. So the largest r is at a corner and the
    smallest at a corner, at an edge's turning point ``sqrt(x^2 - v)``, or (``v = 0``) on the
    diagonal.
    """
    x_lo, x_hi, y_lo, y_hi = box
    points = [(x, y) for x in (x_lo, x_hi) for y in (y_lo, y_hi)]
    if lowest:
        for x in (x_lo, x_hi):
            points.append((x, min(max(math.sqrt(max(x * x - v, 0.0)), y_lo), y_hi)))
        for y in (y_lo, y_hi):
            points.append((min(max(math.sqrt(max(y * y - v, 0.0)), x_lo), x_hi), y))
        if v == 0 and max(x_lo, y_lo) <= min(x_hi, y_hi):
            points.append((max(x_lo, y_lo), max(x_lo, y_lo)))
    values = [_r_of(x, y, v) for x, y in points]
    return min(values) if lowest else max(values)


def correlation_range(pre: tuple[Printed, Printed], post: tuple[Printed, Printed], p: Printed,
                      n: int, pct: Printed | None = None) -> tuple[float, float] | None:
    """The range of r that all printed values of a paired comparison allow together.

    Parameters
    ----------
    pre, post : (Printed, Printed)
        Mean and SD before and after (both SDs printed, above 0).
    p : Printed
        The printed two-sided paired-t p ("< 0.001" allowed).
    n : int
        Number of pairs (at least 2).
    pct : Printed, optional
        The printed percent decrease.

    Returns
    -------
    (float, float) or None
        ``(r_lo, r_hi)``, not clipped to [-1, 1] (a range wholly below -1 shows how far the
        numbers are from possible); ``None`` when no means give the printed percent decrease.
        ``r_lo`` takes the largest decrease and the largest p (smallest |t|), ``r_hi`` the
        smallest decrease and the smallest p; the SDs then take their extremes
        (:func:`_r_extreme`).
    """
    if n < 2:
        raise ParameterError(f"a paired t test needs at least 2 pairs; got n = {n}")
    box = (max(pre[1].lo, 0.0), pre[1].hi, max(post[1].lo, 0.0), post[1].hi)
    if box[0] <= 0 or box[2] <= 0:
        raise ParameterError("the correlation is defined only when both SDs are above 0; got "
                             f"SDs {pre[1]} and {post[1]}")
    bounds = decrease_bounds(pre[0], post[0], pct)
    if bounds is None:
        return None
    d_min, d_max = bounds
    df = n - 1
    t_small = float(scipy.stats.t.isf(min(p.hi, 1.0) / 2.0, df))  # |t| at the largest p
    t_large = float(scipy.stats.t.isf(p.lo / 2.0, df)) if p.lo > 0 else math.inf
    v_max = math.inf if t_small <= 0 else n * d_max * d_max / (t_small * t_small)
    v_min = 0.0 if math.isinf(t_large) else n * d_min * d_min / (t_large * t_large)
    r_lo = -math.inf if math.isinf(v_max) else _r_extreme(box, v_max, lowest=True)
    r_hi = _r_extreme(box, v_min, lowest=False)
    return r_lo, r_hi


def _fits(rng: tuple[float, float] | None, floor: float) -> bool:
    return rng is not None and rng[1] >= floor - 1e-12 and rng[0] <= 1.0 + 1e-12


def _range_text(rng: tuple[float, float] | None) -> str:
    if rng is None:
        return "no means give the printed percent decrease"
    lo = "-inf" if math.isinf(rng[0]) else f"{rng[0]:.2f}"
    return f"r in [{lo}, {rng[1]:.2f}]"


def paired_joint(
    pre: tuple[Printed, Printed], post: tuple[Printed, Printed], p: Printed,
    ns: Sequence[int], pct: Printed | None = None, r_min: float = 0.0,
    r_min_words: str = "", reading: str = "",
) -> Verdict:
    """Do the printed means, SDs, n, percent decrease and p of a paired comparison hold
    together, for a possible (r in [-1, 1]) and a plausible (r >= ``r_min``) correlation?

    Parameters
    ----------
    pre, post : (Printed, Printed)
        Mean and SD before and after.
    p : Printed
        The printed p.
    ns : sequence of int
        Admissible numbers of pairs; the first is the paper's (printed, or the group size when
        the paper prints none).
    pct : Printed, optional
        The printed percent decrease.
    r_min : float
        The plausibility bound (:class:`analysis.params.Params` ``check_min_correlation``);
        -1 asks for possibility only.
    r_min_words : str
        The bound as a verdict's condition names it.
    reading : str
        Words naming where ``ns[0]`` comes from.

    Returns
    -------
    Verdict
        ``inconsistent`` when no n in ``ns`` allows a plausible r; it names the bound as its
        assumption (:attr:`Verdict.assumes`) unless no r in [-1, 1] works either (then it is
        *impossible*). ``consistent`` otherwise, with :attr:`Verdict.requires` the n that work
        when the paper's does not (and the bound as its assumption when the paper's n works
        for a possible but not for a plausible r). Evidence: ``n``, ``r_lo``/``r_hi`` at
        ``ns[0]`` (unclipped; None when no means fit the percent), ``possible``,
        ``plausible``, ``ns_possible``, ``ns_plausible``, ``r_min``, ``pct_used`` (False when
        no percent is printed, or when the printed one contradicts the means by itself and is
        left out: :func:`analysis.consistency.granularity.pct_change` judges it).
    """
    floor = max(r_min, -1.0)
    if pct is not None and decrease_bounds(pre[0], post[0], pct) is None:
        # the percent decrease contradicts the means by itself (``pct_change`` says so): weigh
        # the correlation without it rather than blame the p-value
        left_out, pct = pct, None
    else:
        left_out = None
    ranges = {n: correlation_range(pre, post, p, n, pct) for n in ns if n >= 2}
    possible = tuple(n for n, rng in ranges.items() if _fits(rng, -1.0))
    plausible = tuple(n for n, rng in ranges.items() if _fits(rng, floor))
    n0 = ns[0]
    rng0 = ranges.get(n0)
    # the bound is an assumption of the verdict only where it changes which n fit
    needs_bound = floor > -1.0 and possible != plausible
    if plausible:
        verdict = CONSISTENT
        requires = (f"{runs_text(plausible)} pairs were analysed, not {n0}"
                    if n0 not in plausible else "")
    else:
        verdict = INCONSISTENT
        requires = ""
    pct_txt = (f", {pct}% decrease" if pct is not None else
               f" (the printed {left_out}% decrease is left out: no means within their rounding "
               "give it)" if left_out is not None else "")
    out = make_verdict(
        "paired_joint", verdict,
        "paired comparison {a} +/- {sa} -> {b} +/- {sb}{pct_txt}, p = {printed}, n = {n}"
        "{reading_txt}: all printed values together need {r_txt}; possible (r in [-1, 1]) "
        "for n = {possible_txt}; plausible (r >= {floor_txt}) for n = {plausible_txt} of "
        "{ns_txt}: {verdict}",
        requires=requires,
        a=str(pre[0]), sa=str(pre[1]), b=str(post[0]), sb=str(post[1]), pct_txt=pct_txt,
        printed=str(p), n=n0, reading_txt=f" ({reading})" if reading else "",
        r_lo=None if rng0 is None or math.isinf(rng0[0]) else rng0[0],
        r_hi=None if rng0 is None else rng0[1], r_txt=_range_text(rng0),
        possible=n0 in possible, plausible=n0 in plausible,
        ns_possible=possible, ns_plausible=plausible, r_min=floor,
        pct_used=pct is not None,
        floor_txt=f"{floor:g}", possible_txt=runs_text(possible) or "none",
        plausible_txt=runs_text(plausible) or "none", ns_txt=runs_text(ns),
    )
    return with_assumptions(out, r_min_words or f"r at least {floor:g}") if needs_bound \
        else out
