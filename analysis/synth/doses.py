"""Dose records of the reconstructed cohort (``doses.csv``), in real tablet strengths.

Sharma 2017, Results, *Change in the doses of DMARD*. The records are built so that
:func:`analysis.doses.taper_summary` (and :func:`analysis.doses.dose_results`) give back every
printed dose number within its printed rounding wherever whole tablets allow it, and the
closest value whole tablets allow where they do not (listed below).

How (per drug and cohort, deterministic under the generator):

1. *Values.* For each time point the total of the doses is chosen inside the printed mean's
   rounding window (intersected with the printed percent decrease's window when both can hold;
   the percent decrease alone when the mean cannot hold; the nearest total otherwise). The doses
   are then a multiset of tablet-strength values with that total whose SD lies in the printed
   window: small cases are enumerated exhaustively and ranked by distance to the printed SD;
   large ones (prednisone) are found by a seeded hill-climb on the sum of squares.
2. *Pairing.* The multisets of the later time points are permuted across the patients by a
   seeded hill-climb until every paired t test against the first time point lies in its printed
   window; among pairings that do, fewer dose increases and restarts after a stop are preferred.

Tablet strengths: prednisone multiples of 2.5 mg (5-60 mg), plus at most one whole-mg dose
(1-mg tablets, 1-9 mg: taper steps) in a summary where no 2.5-mg total fits the printed mean;
AZA multiples of 25 mg (50-200); MTX multiples of 2.5 mg weekly (7.5-30); MMF 500-mg steps
(1000-3000). 0 mg = stopped (follow-up time points only).

Assumed numbers of patients with prednisone records (not printed; see :data:`ASSUMED_N`):
24 of 31 conventional responders and 9 of 23 failures with both conventional doses, plus one
failure with only a 6-12 month dose (35 mg); 11 of the 18 tacrolimus patients at all three
tacrolimus time points; AZA recorded at 3-6 months for 10 of the 11 patients taking it. The
failures' 6-12 month mean is printed twice, 31.2 (with its SD and paired p) and 31.6 (against
the responders): the 9 paired failures give 31.2 and, with the unpaired one, the 10 recorded
doses give 31.6 (:func:`analysis.doses.between_groups`, ``sample="recorded"``), so both hold.

Printed numbers that whole tablets cannot give (the values generated instead are pinned in
``tests/test_doses.py``, ``UNMET``):

* AZA start SD 28.6: 11 doses in 25-mg steps totalling 1575 mg (mean 143.2) have an odd sum of
  squares in units of 625 mg^2, so SD is 27.6 or 29.8, never 28.6 (27.6 is generated).
* AZA 3-6 months 89.6 +/- 67.8: no total of 10 or 11 doses in 25-mg steps rounds to 89.6
  (896, 985.6 mg needed); with 10 records the 37% decrease holds at 900 mg (mean 90.0, SD 67.9).
* MTX 3-6 months SD 16.8 and 1 year SD 14.4: with 5 weekly doses of at most 30 mg and totals
  87.5 and 115 mg the SD is at most 16.0 and 13.0 (a 37.5 or 35 mg dose would be needed).
* AZA 1 year 41.2% and MMF 3-6 months 38.4%: the printed means give 41.27% and 38.46%; both
  percentages are truncated, not rounded (the means are generated as printed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats

from analysis.errors import DataValidationError
from analysis.paper.grids import DOSE_GRIDS, MTX_WEEKLY_CAP
from analysis.printed import Printed
from analysis.synth.fit import descend
from analysis.synth.roles import ROLES

__all__ = ["ASSUMED_N", "DOSE_COLUMNS", "GRIDS", "MARGIN", "make_doses"]

#: Columns of doses.csv, in file order.
DOSE_COLUMNS = ("patient_id", "drug", "timepoint", "dose_mg")

#: Patients with recorded doses where the paper prints no n (chosen so that every printed
#: p-value holds with a plausible correlation between time points).
ASSUMED_N: dict[str, int] = {
    "conv_resp.prednisone": 24,  # of 31 responders, doses at both conventional time points
    "conv_fail.prednisone": 9,  # of 23 failures, both time points (p = 0.08 needs ~6-10)
    "conv_fail.prednisone.m6_12_only": 1,  # a failure with a 6-12 month dose only (31.6)
    "tac.prednisone": 11,  # of 18 analysed, all three tacrolimus time points
    "tac.aza.m3_6_missing": 1,  # one of the 11 AZA patients not recorded at 3-6 months
}

#: Roles (:data:`analysis.synth.roles.ROLES`) of conventional failures, and of the patients in
#: the tacrolimus analysis (Table 3).
_FAILURES = ("cyclophosphamide", "tac_insufficient", "tac_responder", "tac_failure")
_ANALYSED = ("tac_responder", "tac_failure")

#: Share of a printed window kept free at each edge by the dose search (a search margin, not a
#: rounding rule: the window itself is :meth:`analysis.printed.Printed.window`).
MARGIN = 0.005


@dataclass(frozen=True)
class Grid:
    """Tablet-strength doses of one drug: multiples of ``step`` from ``low`` to ``high`` mg."""

    step: float
    low: float
    high: float
    #: lowest dose at a follow-up time point (a taper may go below the usual starting range)
    follow_low: float
    #: whole-mg doses allowed once per summary when no on-grid total fits (prednisone only)
    whole_start: tuple[float, ...] = ()
    whole_follow: tuple[float, ...] = ()


#: The generator's doses: usual tablet strengths in a usual range, each a subset of the grid
#: declared in :mod:`analysis.paper.grids` (the one the consistency checks use; AZA's step and
#: MTX's step and weekly cap are read from there; ``tests/test_paper_grids.py`` checks the
#: subsets). Prednisone in 2.5-mg tablets (plus whole-mg taper doses), MMF in 500-mg tablets.
GRIDS: dict[str, Grid] = {
    "prednisone": Grid(2.5, 5.0, 60.0, 2.5, (6.0, 7.0, 8.0, 9.0),
                       (1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0)),
    "AZA": Grid(DOSE_GRIDS["aza"].step, 50.0, 200.0, 50.0),
    "MTX": Grid(DOSE_GRIDS["mtx"].step, 7.5, MTX_WEEKLY_CAP.value, 7.5),
    "MMF": Grid(500.0, 1000.0, 3000.0, 1000.0),
}


# ---------------------------------------------------------------------- printed targets
def _window(target: Printed) -> tuple[float, float]:
    """Values the search aims at for a printed number: its interval, edges trimmed by
    :data:`MARGIN` (:meth:`analysis.printed.Printed.window`)."""
    return target.window(MARGIN)


def _rows(published: pd.DataFrame, key: str) -> pd.DataFrame:
    rows = published[published["key"] == key]
    if "consistency" in rows.columns:
        ok = rows[rows["consistency"] == "ok"]
        if not ok.empty:
            rows = ok
    return rows


def _printed(published: pd.DataFrame, key: str, required: bool = True) -> Printed | None:
    rows = _rows(published, key)
    if rows.empty:
        if required:
            raise DataValidationError(f"published numbers: no row with key {key!r} "
                                      "(the dose generator needs it)")
        return None
    row = rows.iloc[0]
    relation = str(row["relation"]) if "relation" in rows.columns else "="
    decimals = int(row["decimals"]) if "decimals" in rows.columns else 1
    return Printed(abs(float(row["value"])), decimals, relation or "=")


def _between_fail_mean(published: pd.DataFrame) -> Printed | None:
    """The failures' 6-12 month mean printed in the responders-vs-failures sentence (31.6)."""
    hit = _printed(published, "dose.conv.prednisone.m6_12.fail_mean", required=False)
    if hit is None and "id" in published.columns:
        rows = published[published["id"] == "text.dose.conv.prednisone.m6_12.fail_mean"]
        if not rows.empty:
            row = rows.iloc[0]
            hit = Printed(float(row["value"]), int(row.get("decimals", 1)))
    return hit


# ---------------------------------------------------------------------- one time point
@dataclass(frozen=True)
class _Point:
    n: int
    mean: Printed
    sd: Printed | None = None
    pct: Printed | None = None
    p: Printed | None = None
    fixed: tuple[float, ...] = ()
    exclude: tuple[float, ...] = ()
    follow: bool = False  # a follow-up time point (taper doses allowed)
    zero: bool = False  # 0 mg (stopped) allowed
    max_repeat: int | None = None


def _is_multiple(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-9


def _sum_options(pt: _Point, grid: Grid, ref_mean: float | None,
                 rng: np.random.Generator) -> list[tuple[float, tuple[float, ...]]]:
    """Totals (mg) to aim at, best first, each with the extra whole-mg dose it needs."""
    n, m_free = pt.n, pt.n - len(pt.fixed)
    fixed_sum = sum(pt.fixed)
    low_free = 0.0 if pt.zero else (grid.follow_low if pt.follow else grid.low)
    whole = grid.whole_follow if pt.follow else grid.whole_start
    lo, hi = _window(pt.mean)
    centre = pt.mean.value * n
    span = max(grid.step, 1.0) * n * 2 + 10 * n
    options = []
    for s2 in range(int(math.floor((centre - span) * 2)), int(math.ceil((centre + span) * 2)) + 1):
        total = s2 / 2
        rest = total - fixed_sum
        extra: tuple[float, ...] | None = None
        if _is_multiple(rest, grid.step):
            extra = ()
        elif m_free >= 1 and whole:
            fits = [w for w in whole if _is_multiple(rest - w, grid.step)]
            if fits:
                extra = (float(rng.choice(fits)),)
        if extra is None:
            continue
        m = m_free - len(extra)
        rest -= sum(extra)
        if m < 0 or rest < m * low_free - 1e-9 or rest > m * grid.high + 1e-9:
            continue
        mean = total / n
        in_mean = lo <= mean <= hi
        in_pct = False
        if pt.pct is not None and ref_mean:
            plo, phi = _window(pt.pct)
            in_pct = plo <= 100 * (ref_mean - mean) / ref_mean <= phi
        options.append((total, extra, in_mean, in_pct, abs(mean - pt.mean.value)))
    # Both printed numbers, else the mean, else the percent decrease: fewest whole-mg doses
    # first; otherwise the totals nearest the printed mean.
    for test in (lambda o: o[2] and o[3], lambda o: o[2], lambda o: o[3]):
        chosen = sorted((o for o in options if test(o)), key=lambda o: (len(o[1]), o[4]))
        if chosen:
            return [(o[0], o[1]) for o in chosen]
    if options:
        return [(o[0], o[1]) for o in sorted(options, key=lambda o: (o[4], len(o[1])))]
    raise DataValidationError(f"no total of {n} doses in {grid.step}-mg steps is possible")


def _sd_distance(values: np.ndarray, sd: Printed | None) -> float:
    if sd is None or values.size < 2:
        return 0.0
    s = float(np.std(values, ddof=1))
    lo, hi = _window(sd)
    return 0.0 if lo <= s <= hi else min(abs(s - lo), abs(s - hi))


def _enumerate(m: int, total: int, ks: Sequence[int]) -> list[tuple[int, ...]]:
    """All non-decreasing m-tuples of ``ks`` summing to ``total``."""
    out: list[tuple[int, ...]] = []
    ks = sorted(ks)

    def walk(start: int, left: int, rest: int, prefix: list[int]) -> None:
        if left == 0:
            if rest == 0:
                out.append(tuple(prefix))
            return
        for i in range(start, len(ks)):
            k = ks[i]
            if k * left > rest:
                break
            if k + ks[-1] * (left - 1) < rest:
                continue
            prefix.append(k)
            walk(i, left - 1, rest - k, prefix)
            prefix.pop()

    walk(0, m, total, [])
    return out


def _climb(m: int, total: int, q_lo: float, q_hi: float, ks: Sequence[int],
           rng: np.random.Generator, iters: int = 6000) -> list[int] | None:
    """A multiset of ``m`` values of ``ks`` (contiguous, maybe plus 0) with the given sum and a
    sum of squares in ``[q_lo, q_hi]``, by a seeded hill-climb; None if not found."""
    allowed = set(ks)
    kpos = [k for k in ks if k > 0]
    klo, khi = min(kpos), max(kpos)
    r = m if 0 not in allowed else max(1, min(m, total // klo))
    if r * khi < total or (0 not in allowed and m * klo > total):
        return None
    x = [0] * m
    for i in range(r):
        x[i] = total // r + (1 if i < total % r else 0)
    x = [x[i] for i in rng.permutation(m)]
    q = sum(v * v for v in x)

    def dist(qq: float) -> float:
        return 0.0 if q_lo <= qq <= q_hi else min(abs(qq - q_lo), abs(qq - q_hi))

    state = {"q": q}

    def propose() -> tuple[float, Callable[[], None]] | None:
        i, j = rng.integers(m, size=2)
        if i == j:
            return None
        step = int(rng.integers(1, khi + 1))
        xi, xj = x[i] + step, x[j] - step
        if xi not in allowed or xj not in allowed:
            return None
        old = (x[i], x[j], state["q"])
        state["q"] += xi ** 2 + xj ** 2 - x[i] ** 2 - x[j] ** 2
        x[i], x[j] = xi, xj

        def undo() -> None:
            x[i], x[j], state["q"] = old

        return dist(state["q"]), undo

    d = descend(dist(q), propose, iters, lambda d, _: d == 0)
    return x if d == 0 else None


def _candidates(pt: _Point, grid: Grid, ref_mean: float | None, rng: np.random.Generator,
                limit: int = 40) -> list[np.ndarray]:
    """Dose multisets (mg) for one time point, best first (SD distance, then total)."""
    options = _sum_options(pt, grid, ref_mean, rng)
    kmin = int(round((grid.follow_low if pt.follow else grid.low) / grid.step))
    kmax = int(round(grid.high / grid.step))
    excluded = {int(round(e / grid.step)) for e in pt.exclude}
    ks = [k for k in range(kmin, kmax + 1) if k not in excluded]
    if pt.zero and 0 not in excluded:
        ks = [0, *ks]
    ranked: list[tuple[float, int, int, np.ndarray]] = []
    for rank, (total, extra) in enumerate(options[:4]):
        fixed = np.array([*pt.fixed, *extra], dtype=float)
        m = pt.n - fixed.size
        units = int(round((total - fixed.sum()) / grid.step))
        if math.comb(len(ks) + m - 1, m) <= 200_000:
            found = [np.array(c) for c in _enumerate(m, units, ks)]
            if pt.max_repeat is not None:
                found = [c for c in found
                         if m == 0 or np.unique(c, return_counts=True)[1].max() < pt.max_repeat]
            order = rng.permutation(len(found))
            for i in order:
                values = np.concatenate([fixed, found[i] * grid.step])
                ranked.append((_sd_distance(values, pt.sd), rank, len(ranked), values))
        else:
            q_lo, q_hi = -math.inf, math.inf
            if pt.sd is not None:
                slo, shi = _window(pt.sd)
                base = total ** 2 / pt.n - float((fixed ** 2).sum())
                q_lo = ((pt.n - 1) * slo ** 2 + base) / grid.step ** 2
                q_hi = ((pt.n - 1) * shi ** 2 + base) / grid.step ** 2
            for _ in range(limit):
                found_c = _climb(m, units, q_lo, q_hi, ks, rng)
                if found_c is not None:
                    values = np.concatenate([fixed, np.array(found_c) * grid.step])
                    ranked.append((0.0, rank, len(ranked), values))
                if len(ranked) >= 8:
                    break
        if ranked and min(r[0] for r in ranked) == 0 and len(ranked) >= 8:
            break
    if not ranked:
        raise DataValidationError(f"no {pt.n} doses in {grid.step}-mg steps fit the printed "
                                  f"mean {pt.mean.value}")
    ranked.sort(key=lambda r: (round(r[0], 9), r[1], r[2]))
    return [r[3] for r in ranked[:limit]]


# ---------------------------------------------------------------------- pairing over time
def _t_bounds(target: Printed, pairs: int) -> tuple[float, float]:
    """|t| values of a paired test on ``pairs`` pairs whose p lies in the printed window."""
    lo, hi = _window(target)
    df = pairs - 1
    t_small = float(scipy.stats.t.isf(hi / 2, df))
    t_large = math.inf if lo <= 0 else float(scipy.stats.t.isf(lo / 2, df))
    return t_small, t_large


def _p_distance(a: np.ndarray, b: np.ndarray, bounds: tuple[float, float]) -> float:
    keep = ~np.isnan(b)
    d = a[keep] - b[keep]
    n = d.size
    sd = float(np.std(d, ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        return 50.0
    t = abs(float(d.mean())) / (sd / math.sqrt(n))
    lo, hi = bounds
    if t == 0:
        return 50.0
    if t < lo:
        return math.log(lo / t)
    if t > hi:
        return math.log(t / hi)
    return 0.0


def _penalty(course: np.ndarray) -> int:
    """Dose increases (1 each) and restarts after a stop (2 each) along each patient's course."""
    out = 0
    for row in course:
        prev = row[0]
        for v in row[1:]:
            if np.isnan(v):
                continue
            if prev == 0 and v > 0:
                out += 2
            elif v > prev:
                out += 1
            prev = v
    return out


def _pair(a: np.ndarray, laters: list[np.ndarray], targets: list[Printed | None],
          rng: np.random.Generator, iters: int = 4000) -> tuple[np.ndarray, float]:
    """Permute each later time point's doses over the patients to meet the paired p-values."""
    n0 = a.size
    cols = []
    for b in laters:
        padded = np.concatenate([b, np.full(n0 - b.size, np.nan)])
        cols.append(padded[rng.permutation(n0)])
    bounds = [(_t_bounds(t, b.size) if t is not None else None) for t, b in zip(
        targets, laters, strict=True)]

    def cost(cs: list[np.ndarray]) -> tuple[float, int]:
        dist = sum(_p_distance(a, c, bd) for c, bd in zip(cs, bounds, strict=True)
                   if bd is not None)
        return round(dist, 12), _penalty(np.column_stack([a, *cs]))

    def propose() -> tuple[tuple[float, int], Callable[[], None]] | None:
        j = int(rng.integers(len(cols)))
        i1, i2 = rng.integers(n0, size=2)
        c = cols[j]
        if i1 == i2 or (np.isnan(c[i1]) and np.isnan(c[i2])) or c[i1] == c[i2]:
            return None
        c[i1], c[i2] = c[i2], c[i1]

        def undo() -> None:
            c[i1], c[i2] = c[i2], c[i1]

        return cost(cols), undo

    best = descend(cost(cols), propose, iters,
                   lambda best, stale: (best[0] == 0 and stale > 800) or stale > 1500)
    return np.column_stack([a, *cols]), best[0]


def _course(points: list[_Point], grid: Grid, rng: np.random.Generator,
            budget: int = 24) -> np.ndarray:
    """Doses of one drug in one cohort: rows = patients, columns = time points (NaN = none)."""
    best: tuple[float, np.ndarray] | None = None
    for a in _candidates(points[0], grid, None, rng, limit=4):
        ref = float(a.mean())
        lists = [_candidates(pt, grid, ref, rng) for pt in points[1:]]
        combos = sorted(itertools.product(*(range(len(c)) for c in lists)), key=sum)
        for combo in combos[:budget]:
            picks = [lists[j][i] for j, i in enumerate(combo)]
            course, dist = _pair(a.copy(), picks, [pt.p for pt in points[1:]], rng)
            if best is None or dist < best[0]:
                best = (dist, course)
            if dist == 0:
                return course
    assert best is not None
    return best[1]


# ---------------------------------------------------------------------- cohort plumbing
def _flag(series: pd.Series) -> pd.Series:
    """Yes/No (or bool) -> bool."""
    mapped = series.map(lambda v: {"yes": True, "no": False, "true": True, "false": False}.get(
        str(v).strip().lower(), None) if not isinstance(v, bool | np.bool_) else bool(v))
    if mapped.isna().any():
        bad = series[mapped.isna()].iloc[0]
        raise DataValidationError(f"patients, column {series.name!r}: {bad!r} is not Yes/No")
    return mapped.astype(bool)


def _role_ids(roles: pd.DataFrame) -> dict[str, list[str]]:
    missing = [c for c in ("patient_id", "role") if c not in roles.columns]
    if missing:
        raise DataValidationError(f"roles: missing column(s) {missing}")
    role = roles["role"].astype(str)
    unknown = ~role.isin(ROLES)
    if unknown.any():
        raise DataValidationError(f"roles, row {int(unknown.to_numpy().argmax())}, column "
                                  f"'role': {role[unknown].iloc[0]!r} not in {list(ROLES)}")
    ids = roles["patient_id"].astype(str)
    out = {r: sorted(ids[role == r]) for r in ROLES}
    out["conv_fail"] = sorted(ids[role.isin(_FAILURES)])
    out["analysed"] = sorted(ids[role.isin(_ANALYSED)])
    return out


def _take(ids: Sequence[str], k: int, rng: np.random.Generator, what: str) -> list[str]:
    if len(ids) < k:
        raise DataValidationError(f"make_doses: {what} needs {k} patients, the roles give "
                                  f"{len(ids)}")
    return [ids[i] for i in rng.choice(len(ids), size=k, replace=False)]


def _records(ids: Sequence[str], drug: str, timepoints: Sequence[str],
             course: np.ndarray) -> list[tuple[str, str, str, float]]:
    out = []
    for pid, row in zip(ids, course, strict=True):
        for tp, v in zip(timepoints, row, strict=True):
            if not np.isnan(v):
                out.append((pid, drug, tp, float(v)))
    return out


def _conv_points(published: pd.DataFrame, cohort: str, n: int) -> list[_Point]:
    key = f"dose.{cohort}.prednisone"
    return [
        _Point(n, _printed(published, f"{key}.baseline.mean"),
               _printed(published, f"{key}.baseline.sd")),
        _Point(n, _printed(published, f"{key}.m6_12.mean"),
               _printed(published, f"{key}.m6_12.sd"),
               p=_printed(published, f"{key}.m6_12.p"), follow=True),
    ]


def _tac_points(published: pd.DataFrame, drug: str, n: int,
                missing_m3_6: int = 0) -> list[_Point]:
    key = f"dose.tac.{drug.lower()}"
    fixed: tuple[float, ...] = ()
    exclude: tuple[float, ...] = ()
    repeat = None
    modal = _printed(published, f"{key}.start.modal_dose", required=False)
    if modal is not None:
        k = int(round(_printed(published, f"{key}.start.modal_n").value))
        fixed, exclude, repeat = (modal.value,) * k, (modal.value,), k
    points = [_Point(n, _printed(published, f"{key}.start.mean"),
                     _printed(published, f"{key}.start.sd"), fixed=fixed, exclude=exclude,
                     max_repeat=repeat)]
    for tp, n_tp in (("m3_6", n - missing_m3_6), ("y1", n)):
        fixed_tp: tuple[float, ...] = ()
        exclude_tp: tuple[float, ...] = ()
        if tp == "y1" and drug == "AZA":
            stopped = int(round(_printed(published, "dose.tac.aza.discontinued").value))
            fixed_tp, exclude_tp = (0.0,) * stopped, (0.0,)
        points.append(_Point(n_tp, _printed(published, f"{key}.{tp}.mean"),
                             _printed(published, f"{key}.{tp}.sd", required=False),
                             pct=_printed(published, f"{key}.{tp}.pct_change", required=False),
                             p=_printed(published, f"{key}.{tp}.p"), fixed=fixed_tp,
                             exclude=exclude_tp, follow=True,
                             zero=drug != "prednisone" or tp == "y1"))
    return points


def _dmard_takers(analysed: list[str], flags: pd.DataFrame, counts: dict[str, int],
                  rng: np.random.Generator) -> dict[str, list[str]]:
    """Who takes each DMARD at tacrolimus start: a conventional DMARD of theirs, with as few
    patients on two DMARDs as the counts allow (scarcest drug placed first)."""
    load = dict.fromkeys(analysed, 0)
    out: dict[str, list[str]] = {}
    for drug in sorted(counts, key=lambda d: (counts[d], d)):
        column = f"{drug.lower()}_conventional"
        eligible = [pid for pid in analysed if flags.at[pid, column]]
        if len(eligible) < counts[drug]:
            raise DataValidationError(
                f"make_doses: {counts[drug]} analysed tacrolimus patients must have "
                f"{column} = Yes to be taking {drug} at tacrolimus start (Sharma 2017, "
                f"Results, Change in the doses of DMARD); the patients give {len(eligible)}")
        keys = rng.random(len(eligible))
        order = sorted(range(len(eligible)), key=lambda i: (load[eligible[i]], keys[i]))
        out[drug] = [eligible[i] for i in order[: counts[drug]]]
        for pid in out[drug]:
            load[pid] += 1
    return out


def make_doses(patients: pd.DataFrame, roles: pd.DataFrame, rng: np.random.Generator,
               published: pd.DataFrame) -> pd.DataFrame:
    """Build ``doses.csv`` for the reconstructed cohort.

    Parameters
    ----------
    patients : DataFrame
        ``patients.csv`` columns; used: ``patient_id``, ``aza_conventional``,
        ``mtx_conventional``, ``mmf_conventional`` (Yes/No or bool).
    roles : DataFrame
        ``patient_id`` and ``role``, one of :data:`analysis.synth.roles.ROLES` (as
        :func:`analysis.synth.roles.assign_roles` gives them).
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same frame.
    published : DataFrame
        :func:`analysis.published.load_published` (columns ``key``, ``value``, ``decimals``,
        ``relation``; ``consistency`` and ``id`` used when present). Percent changes are read
        as decreases whatever their sign.

    Returns
    -------
    DataFrame
        Columns :data:`DOSE_COLUMNS`: ``patient_id``, ``drug`` (prednisone, AZA, MTX, MMF),
        ``timepoint`` (conv_baseline, conv_6_12m, tac_start, tac_3_6m, tac_1y), ``dose_mg``
        (float; 0 = stopped); one row per recorded dose, sorted by patient, drug, time point.

    Raises
    ------
    analysis.errors.DataValidationError
        If a needed published key is missing, the roles hold too few patients, or too few
        analysed patients had a DMARD conventionally to be taking it at tacrolimus start.

    Notes
    -----
    Sharma 2017, Results, Change in the doses of DMARD; the construction, the assumed numbers
    of records and the printed numbers that whole tablets cannot give are in the module
    docstring. Tacrolimus patients taking a DMARD at start had it as a conventional DMARD; the
    patients who start MMF by 1 year are analysed patients not taking it at start (0 mg
    recorded at start), preferably without conventional MMF and among those who stopped AZA.
    """
    ids = _role_ids(roles)
    flags = _dmard_flags(patients, ids["analysed"])
    records = _conventional_records(published, ids, rng)
    tac_records, takers, stopped_aza = _tacrolimus_records(published, ids["analysed"], flags,
                                                           rng)
    records += tac_records
    records += _mmf_starter_records(published, ids["analysed"], flags, takers["MMF"],
                                    stopped_aza, rng)
    return _dose_frame(records)


_CONV_TP = ("conv_baseline", "conv_6_12m")
_TAC_TP = ("tac_start", "tac_3_6m", "tac_1y")


def _dmard_flags(patients: pd.DataFrame, analysed: Sequence[str]) -> pd.DataFrame:
    """Conventional AZA/MTX/MMF of every patient (bool), indexed by ``patient_id``."""
    if "patient_id" not in patients.columns:
        raise DataValidationError("patients: missing column 'patient_id'")
    flags = patients.assign(patient_id=patients["patient_id"].astype(str)).set_index(
        "patient_id")
    missing = [c for c in ("aza_conventional", "mtx_conventional", "mmf_conventional")
               if c not in flags.columns]
    if missing:
        raise DataValidationError(f"patients: missing column(s) {missing}")
    flags = flags[["aza_conventional", "mtx_conventional", "mmf_conventional"]].apply(_flag)
    absent = [pid for pid in analysed if pid not in flags.index]
    if absent:
        raise DataValidationError(f"make_doses: analysed patient {absent[0]!r} not in patients")
    return flags


def _conventional_records(published: pd.DataFrame, ids: dict[str, list[str]],
                          rng: np.random.Generator) -> list[tuple[str, str, str, float]]:
    """Prednisone under conventional treatment: responders, then failures (paired), then the
    failure with a 6-12 month dose only (the printed 31.6, module docstring)."""
    pred = GRIDS["prednisone"]
    n_resp = ASSUMED_N["conv_resp.prednisone"]
    course = _course(_conv_points(published, "conv_resp", n_resp), pred, rng)
    records = _records(_take(ids["conv_responder"], n_resp, rng, "responders' prednisone"),
                       "prednisone", _CONV_TP, course)
    n_fail = ASSUMED_N["conv_fail.prednisone"]
    extra = ASSUMED_N["conv_fail.prednisone.m6_12_only"]
    fail_mean = _between_fail_mean(published)
    if fail_mean is None:
        extra = 0
    course = _course(_conv_points(published, "conv_fail", n_fail), pred, rng)
    chosen = _take(ids["conv_fail"], n_fail + extra, rng, "failures' prednisone")
    records += _records(chosen[:n_fail], "prednisone", _CONV_TP, course)
    if extra:
        lo, hi = _window(fail_mean)
        paired_total = float(np.nansum(course[:, 1]))
        grid_values = np.arange(pred.step, pred.high + 1e-9, pred.step)
        fits = [v for v in grid_values
                if lo <= (paired_total + v * extra) / (n_fail + extra) <= hi]
        if fits:
            centre = fail_mean.value * (n_fail + extra) - paired_total
            dose = min(fits, key=lambda v: abs(v * extra - centre))
            for pid in chosen[n_fail:]:
                records.append((pid, "prednisone", "conv_6_12m", float(dose)))
    return records


def _tacrolimus_records(published: pd.DataFrame, analysed: list[str], flags: pd.DataFrame,
                        rng: np.random.Generator
                        ) -> tuple[list[tuple[str, str, str, float]], dict[str, list[str]],
                                   list[str]]:
    """Prednisone, then the DMARDs taken at tacrolimus start; also who takes each DMARD and
    who stopped AZA by 1 year."""
    n_tac = ASSUMED_N["tac.prednisone"]
    course = _course(_tac_points(published, "prednisone", n_tac), GRIDS["prednisone"], rng)
    records = _records(_take(analysed, n_tac, rng, "tacrolimus prednisone"),
                       "prednisone", _TAC_TP, course)
    counts = {drug: int(round(_printed(published, f"dose.tac.{drug.lower()}.start.n").value))
              for drug in ("AZA", "MTX", "MMF")}
    takers = _dmard_takers(analysed, flags, counts, rng)
    stopped_aza: list[str] = []
    for drug in ("AZA", "MTX", "MMF"):
        missing_m3_6 = ASSUMED_N["tac.aza.m3_6_missing"] if drug == "AZA" else 0
        points = _tac_points(published, drug, counts[drug], missing_m3_6)
        course = _course(points, GRIDS[drug], rng)
        records += _records(takers[drug], drug, _TAC_TP, course)
        if drug == "AZA":
            stopped_aza = [pid for pid, row in zip(takers[drug], course, strict=True)
                           if row[2] == 0]
    return records, takers, stopped_aza


def _mmf_starter_records(published: pd.DataFrame, analysed: list[str], flags: pd.DataFrame,
                         mmf_takers: list[str], stopped_aza: list[str],
                         rng: np.random.Generator) -> list[tuple[str, str, str, float]]:
    """Patients who started MMF during the tacrolimus year (0 mg at start): analysed patients
    not taking it, preferably without conventional MMF and among those who stopped AZA."""
    n_start = int(round(_printed(published, "dose.tac.mmf.started").value))
    pool = [pid for pid in analysed if pid not in mmf_takers]
    keys = rng.random(len(pool))
    order = sorted(range(len(pool)), key=lambda i: (bool(flags.at[pool[i], "mmf_conventional"]),
                                                    pool[i] not in stopped_aza, keys[i]))
    starters = [pool[i] for i in order[:n_start]]
    if len(starters) < n_start:
        raise DataValidationError(f"make_doses: {n_start} MMF starters needed, "
                                  f"{len(starters)} analysed patients available")
    records = []
    for pid in starters:
        records.append((pid, "MMF", "tac_start", 0.0))
        records.append((pid, "MMF", "tac_1y", float(rng.choice([1000.0, 1500.0, 2000.0]))))
    return records


def _dose_frame(records: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """The records as ``doses.csv`` rows, sorted by patient, drug, time point."""
    frame = pd.DataFrame(records, columns=list(DOSE_COLUMNS))
    drug_order = {d: i for i, d in enumerate(("prednisone", "AZA", "MTX", "MMF"))}
    tp_order = {t: i for i, t in enumerate((*_CONV_TP, *_TAC_TP))}
    frame = frame.sort_values(
        ["patient_id", "drug", "timepoint"],
        key=lambda s: s.map(drug_order) if s.name == "drug" else (
            s.map(tp_order) if s.name == "timepoint" else s)).reset_index(drop=True)
    frame["patient_id"] = frame["patient_id"].astype(str)
    frame["dose_mg"] = frame["dose_mg"].astype("float64")
    return frame
