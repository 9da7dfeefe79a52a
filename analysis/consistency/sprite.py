"""SD feasibility on a value grid (SPRITE-style, by exact enumeration).

Heathers et al.'s SPRITE (PeerJ Preprints 2018;6:e26968v1) searches for samples on a grid with
a given mean and SD by random moves. Here the search space is small (at most a dozen doses on
a grid of a dozen strengths), so every sample is covered exactly: a dynamic programme over the
grid values records, for each count and sum, every attainable sum of squares. Exact integer
arithmetic in grid units; no random search, so "unreachable" is a proof, not a failed search.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    Grid,
    Verdict,
    end_only,
    in_interval,
    make_verdict,
    mark_end,
    runs_text,
)
from analysis.consistency.granularity import _other_n, attainable_sums
from analysis.printed import Printed

__all__ = ["reachable_sds", "sd_on_grid"]

#: states[(count, sum)] = the attainable sums of squares (all in grid units), as a bit set: bit
#: q of the integer is set when q is attainable.
_States = dict[tuple[int, int], int]


@functools.lru_cache(maxsize=64)
def _multisets(values: tuple[int, ...], size: int, cap: int) -> _States:
    """Every multiset of at most ``size`` values from ``values``, each used <= ``cap`` times.

    Returns the (count, sum) -> {sum of squares} table for every count up to ``size`` (one
    pass serves every smaller n; cached, so the n = 1..11 searches share it). Read only.

    Each set of sums of squares is a Python integer used as a bit set (bit q set: q is
    attainable; :func:`_members` lists them): adding ``c`` copies of ``v`` to every sample of
    a state is one shift by ``c v^2``, and merging two states one ``|``. The same sets as
    with Python sets, element by element, at a fraction of the time (the check-assumption
    alternatives of step 06 enumerate grids of up to 20 values; issue 24).
    """
    states: _States = {(0, 0): 1}
    for v in values:
        nxt: _States = {}
        for (k, s), squares in states.items():
            for c in range(0, min(cap, size - k) + 1):
                key = (k + c, s + c * v)
                nxt[key] = nxt.get(key, 0) | (squares << (c * v * v))
        states = nxt
    return states


def _members(bits: int) -> list[int]:
    """The positions of the set bits of ``bits`` (a bit set of :func:`_multisets`), ascending.

    >>> _members(0b101001)
    [0, 3, 5]
    """
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def reachable_sds(
    n: int, grid: Grid, sums: range | None = None, fixed: tuple[float, int] | None = None,
    budget: int | None = None,
) -> dict[int, list[float]]:
    """Sample SDs (n - 1 denominator, as Stata) of every n-sample on ``grid``.

    Parameters
    ----------
    n : int
        Sample size (at least 2).
    grid : Grid
        Allowed values.
    sums : range, optional
        Allowed sums in grid units (from the printed mean); default all.
    fixed : (value, count), optional
        A printed mode, "most commonly 150 mg (n = 7)": exactly ``count`` values equal
        ``value``, the others differ from it and none of them occurs ``count`` times or more.
    budget : int, optional
        Largest n the caller will ask for (shares one enumeration); default ``n``.

    Returns
    -------
    dict
        Sum (grid units) -> sorted list of attainable SDs (in the grid's unit, e.g. mg).
    """
    units = list(grid.units())
    if fixed is not None:
        fv, fc = round(fixed[0] / grid.step), int(fixed[1])
        free = [u for u in units if u != fv]
        top = max(budget or n, n) - fc
        tail = _multisets(tuple(free), top, fc - 1 if fc > 1 else 0)
        size, base_s, base_q = n - fc, fc * fv, fc * fv * fv
    else:
        top = max(budget or n, n)
        tail = _multisets(tuple(units), top, top)
        size, base_s, base_q = n, 0, 0
    out: dict[int, list[float]] = {}
    for (k, s), squares in tail.items():
        total = s + base_s
        if k != size:
            continue
        if sums is not None and total not in sums:
            continue
        sds = {grid.step * math.sqrt(max(q + base_q - total * total / n, 0.0) / (n - 1))
               for q in _members(squares)}
        out[total] = sorted(sds)
    return out


def sd_on_grid(
    mean: Printed, sd: Printed, ns: Sequence[int], grid: Grid,
    fixed: tuple[float, int] | None = None, reading: str = "",
) -> Verdict:
    """Can ``n`` values on ``grid`` have the printed mean and SD, for some ``n`` in ``ns``?

    Parameters
    ----------
    mean, sd : Printed
        The printed mean and SD (sample SD, n - 1 denominator).
    ns : sequence of int
        Admissible sample sizes; the first is the natural reading (the printed n).
    grid : Grid
        The declared value grid (:data:`analysis.consistency.core.GRIDS`).
    fixed : (value, count), optional
        A printed mode, e.g. ``(150, 7)`` for "most commonly 150 mg (n = 7)".
    reading : str
        Words for the sentence naming where ``ns`` comes from.

    Returns
    -------
    Verdict
        ``consistent`` when some sample has both the mean and the SD in their intervals.
        Evidence: ``sds_near`` (at each n whose sums fit the mean, the attainable SDs next to
        the printed interval), ``mean_attainable`` (whether any n gives the mean at all) and,
        when it does not, ``sds_near_relaxed`` ((n, mean, SD below, SD above) for the two
        attainable means next to the printed one at every n) and ``relaxed_sd_reachable``.

    Examples
    --------
    AZA at tacrolimus start: 11 patients, 7 on 150 mg, mean 143.2, SD 28.6 (25-mg steps):

    >>> from analysis.consistency.core import GRIDS
    >>> v = sd_on_grid(Printed(143.2, 1), Printed(28.6, 1), [11], GRIDS["aza"].starting(25),
    ...                fixed=(150, 7))
    >>> v.verdict, v.evidence["sds_near"]
    ('inconsistent', ((11, 27.59, 29.77),))
    """
    near: list[tuple[int, float, float]] = []
    ok_ns: list[int] = []
    fitting_sds: list[float] = []
    for n in ns:
        if n < 2:
            continue
        sums = attainable_sums(mean, n, grid.step)
        if not sums:
            continue
        found = reachable_sds(n, grid, sums, fixed, budget=max(ns))
        sds = sorted({x for lst in found.values() for x in lst})
        if not sds:
            continue
        if any(in_interval(x, sd.lo, sd.hi) for x in sds):
            ok_ns.append(n)
            fitting_sds += [x for x in sds if in_interval(x, sd.lo, sd.hi)]
        near.append((n, *_neighbours(sds, sd)))
    relaxed: tuple = ()
    relaxed_ok = False
    if not near:
        # the mean itself is unattainable: would the SD hold with an adjacent grid mean?
        rows = []
        for n in (x for x in ns if x >= 2):
            k = math.floor(mean.value * n / grid.step)
            found = reachable_sds(n, grid, range(k, k + 2), fixed, budget=max(ns))
            for total, sds in sorted(found.items()):
                relaxed_ok = relaxed_ok or any(in_interval(x, sd.lo, sd.hi) for x in sds)
                rows.append((n, round(total * grid.step / n, 2), *_neighbours(sds, sd)))
        relaxed = tuple(rows)
    closest = _closest(relaxed, sd)
    return mark_end(make_verdict(
        "sd_on_grid", CONSISTENT if ok_ns else INCONSISTENT,
        "{n_txt} values on the grid ({grid_name}){fixed_txt} with mean {m} and SD {s} "
        "[{slo}, {shi}]{reading_txt}: {near_txt}: {verdict}",
        requires=_other_n(ok_ns, ns[0], "values behind the mean and SD"),
        ns_fitting=tuple(ok_ns),
        m=str(mean), s=str(sd), slo=sd.lo, shi=sd.hi, grid_name=grid.name,
        ns=tuple(ns), n_txt=runs_text(ns),
        fixed=fixed, fixed_txt=(f", {fixed[1]} of them at {fixed[0]:g} (the mode)"
                                if fixed else ""),
        reading_txt=f" ({reading})" if reading else "",
        mean_attainable=bool(near), sds_near=tuple(near), sds_near_relaxed=relaxed,
        relaxed_sd_reachable=relaxed_ok,
        near_txt=(
            "; ".join(f"n = {n}: nearest attainable SDs {_g(a)} and {_g(b)}" for n, a, b in near)
            if near else
            "no n gives the mean at all; with the attainable means next to it "
            + (f"the SD is reachable ({closest})" if relaxed_ok
               else f"the SD is unreachable too ({closest})")
        ),
    ), end_only(fitting_sds, sd), sd)


def _neighbours(sds: Sequence[float], sd: Printed) -> tuple[float, float]:
    """The attainable SD just below the printed interval's top and just above its bottom."""
    below = [x for x in sds if x <= sd.hi + 1e-9]
    above = [x for x in sds if x >= sd.lo - 1e-9]
    return (round(below[-1], 2) if below else math.nan,
            round(above[0], 2) if above else math.nan)


def _closest(relaxed: tuple, sd: Printed) -> str:
    """The attainable SDs closest to the printed one among the relaxed rows, as words."""
    below = [(r[2], r[0], r[1]) for r in relaxed if not math.isnan(r[2])]
    above = [(r[3], r[0], r[1]) for r in relaxed if not math.isnan(r[3])]
    parts = []
    if below:
        b = max(below)
        parts.append(f"closest below {b[0]:g} at n = {b[1]}, mean {b[2]:g}")
    if above:
        a = min(above)
        parts.append(f"closest above {a[0]:g} at n = {a[1]}, mean {a[2]:g}")
    return "; ".join(parts) or "no SD at all"


def _g(x: float) -> str:
    return "none" if math.isnan(x) else f"{x:g}"
