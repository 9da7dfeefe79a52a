"""Cross-source checks: one quantity printed in two places, or a total and its parts.

Sharma 2017: Table 1 (all 54 patients) against Table 2 (the same 54 split into 31 responders
and 23 nonresponders) and Table 3 (18 of the 23 nonresponders, split by tacrolimus response);
the text and Discussion against the tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    UNDECIDABLE,
    Verdict,
    end_only_range,
    make_verdict,
    mark_end,
)
from analysis.printed import Printed

__all__ = ["all_of", "both_of", "count_within", "level_sum", "none_significant",
           "same_quantity", "swapped_levels"]


def level_sum(total: int, parts: Sequence[int], what: str, part_names: str,
              check: str = "level_sum") -> Verdict:
    """Is a printed count the sum of the printed counts it splits into?

    ``check`` names the use: ``"level_sum"`` (Table 1 against Table 2's two columns),
    ``"column_total"`` (a table's levels against its column header n).

    Examples
    --------
    Table 1 Hispanic 4 against Table 2 Hispanic 0 (responders) + 2 (nonresponders):

    >>> level_sum(4, [0, 2], "Hispanic", "Table 2 responders + nonresponders").verdict
    'inconsistent'
    """
    s = int(sum(parts))
    return make_verdict(
        check, CONSISTENT if s == int(total) else INCONSISTENT,
        "{what}: {total} against {part_names} {parts_txt} = {sum}: {verdict}",
        what=what, total=int(total), parts=tuple(int(p) for p in parts), sum=s,
        part_names=part_names, parts_txt=" + ".join(str(int(p)) for p in parts),
    )


def count_within(claimed: int, bound: int, what: str, bound_name: str) -> Verdict:
    """Is a claimed count at most the count of the group it must come from?

    For example Table 3's patients are a subset of Table 2's nonresponders, so each level's
    Table 3 total is at most that level's Table 2 nonresponder count; the Discussion's "all 6
    patients with honeycombing ... improved after receiving tacrolimus" is at most Table 3's
    honeycombing responders.
    """
    ok = int(claimed) <= int(bound)
    return make_verdict(
        "count_within", CONSISTENT if ok else INCONSISTENT,
        "{what}: {claimed} must be at most {bound_name} = {bound}: {verdict}",
        what=what, claimed=int(claimed), bound=int(bound), bound_name=bound_name,
    )


def all_of(claimed: int, group: Sequence[int], what: str, group_name: str) -> Verdict:
    """Is an "all N" statement the whole group it names: N equal to the group's printed total?

    Examples
    --------
    Results: "All 6 patients with anti-Jo1 antibody responded to tacrolimus"; Table 3's anti-Jo1
    row prints 6 responders and 0 with no response:

    >>> all_of(6, [6, 0], "anti-Jo1, all responded", "Table 3 anti-Jo1").verdict
    'consistent'
    """
    total = int(sum(group))
    return make_verdict(
        "all_of", CONSISTENT if int(claimed) == total else INCONSISTENT,
        "{what}: all {claimed} against {group_name} {parts_txt} = {total}: {verdict}",
        what=what, claimed=int(claimed), group=tuple(int(g) for g in group), total=total,
        group_name=group_name, parts_txt=" + ".join(str(int(g)) for g in group))


def both_of(both: int, first: int, second: int, total: int, what: str) -> Verdict:
    """Is a count of patients with both of two findings possible given each finding's count?

    Of ``total`` patients, ``first`` have one finding and ``second`` the other, so between
    ``max(0, first + second - total)`` and ``min(first, second)`` have both
    (inclusion-exclusion).

    >>> both_of(13, 14, 17, 18, "tacrolimus").verdict
    'consistent'
    """
    lo, hi = max(0, first + second - total), min(first, second)
    return make_verdict(
        "both_of", CONSISTENT if lo <= both <= hi else INCONSISTENT,
        "{what}: {both} with both of {first} and {second} (of {total}) must lie in "
        "[{lo}, {hi}]: {verdict}",
        what=what, both=int(both), first=int(first), second=int(second), total=int(total),
        lo=lo, hi=hi)


def none_significant(ps: dict[str, Printed], alpha: float, what: str) -> Verdict:
    """Is a "no significant difference" statement true of every printed p it covers?

    ``consistent`` when every printed p's closed interval lies at or above ``alpha``,
    ``inconsistent`` when one lies wholly below it, ``undecidable`` otherwise (a p printed on
    the boundary). Evidence: ``below`` (rows whose p is below alpha), ``straddle``.
    """
    below = tuple(k for k, p in ps.items() if p.hi < alpha)
    straddle = tuple(k for k, p in ps.items() if p.lo < alpha <= p.hi)
    verdict = INCONSISTENT if below else (UNDECIDABLE if straddle else CONSISTENT)
    return make_verdict(
        "none_significant", verdict,
        "{what}: printed p {ps_txt}; {below_txt} at alpha = {alpha:g}: {verdict}",
        what=what, alpha=alpha, below=below, straddle=straddle,
        ps_txt=", ".join(f"{k} {p}" for k, p in ps.items()),
        below_txt=("below it: " + ", ".join(below) if below else
                   "on its boundary: " + ", ".join(straddle) if straddle else
                   "none below it"))


def same_quantity(a: Printed, b: Printed, what: str, same_set: bool) -> Verdict:
    """Can two printed values be the same quantity (overlapping rounding intervals)?

    Parameters
    ----------
    a, b : Printed
        The two printings.
    what : str
        Words for the sentence.
    same_set : bool
        True when the text makes them the same quantity of the same patients; False when the
        patients may differ (no n printed): disjoint intervals are then ``consistent`` only if
        the two cover different patients (:attr:`Verdict.requires` says so: *possible only if
        n differs*), and the evidence gives what one extra patient would need (``extra_dose_min`` =
        ``b.lo + n (b.lo - a.hi)`` for ``n`` patients behind ``a``, when ``b > a``).
    """
    overlap = a.lo <= b.hi + 1e-9 and b.lo <= a.hi + 1e-9
    if overlap:
        verdict = CONSISTENT
    else:
        verdict = INCONSISTENT if same_set else CONSISTENT
    gap = max(b.lo - a.hi, a.lo - b.hi, 0.0)
    # intervals that share one point only: it is the excluded end of one of them
    end = next(((e, x) for e, x in ((end_only_range(b.lo, b.hi, a), a),
                                     (end_only_range(a.lo, a.hi, b), b)) if e is not None),
               (None, a))
    return mark_end(make_verdict(
        "same_quantity", verdict,
        "{what}: {a} [{alo}, {ahi}] and {b} [{blo}, {bhi}] {rel}{extra_txt}: {verdict}",
        requires=("" if overlap or same_set else
                  "the two printings cover different patients (the second, more: one extra "
                  + (f"patient at {b.lo:g} + {gap:.2f} n or more" if b.lo > a.hi else
                     f"patient at {b.hi:g} - {gap:.2f} n or less")
                  + ", n = patients behind the first)"),
        what=what, a=str(a), b=str(b), alo=a.lo, ahi=a.hi, blo=b.lo, bhi=b.hi, gap=gap,
        rel="overlap" if overlap else f"are {gap:.2f} apart",
        extra_dose_gap=gap,
        extra_txt=("" if overlap or same_set else
                   f"; the same patients cannot give both; if the second covers more patients, "
                   f"one extra patient must have at least {b.lo:g} + {gap:.2f} n "
                   f"(n = patients behind the first)"),
    ), end[0], end[1])


def swapped_levels(
    block: str,
    pooled: dict[str, int],
    split: dict[str, tuple[int, int]],
    subset: dict[str, tuple[int, int]] | None = None,
) -> Verdict:
    """Do two levels of a pooled table carry each other's counts (a swapped label)?

    Parameters
    ----------
    block : str
        Name of the variable (e.g. "race").
    pooled : dict
        Level -> count in the pooled table (Table 1).
    split : dict
        Level -> (responders, nonresponders) in the split table (Table 2).
    subset : dict, optional
        Level -> counts in a table of a subset of the nonresponders (Table 3), used to tell
        which table carries the swap: if the split table's labels were the swapped ones, a
        level the subset has must still fit within the relabelled nonresponders.

    Returns
    -------
    Verdict
        ``inconsistent`` when some pair (a, b) has ``pooled[a] == sum(split[b])`` and
        ``pooled[b] == sum(split[a])`` while ``pooled[a] != sum(split[a])``; ``consistent``
        when every level agrees; ``undecidable`` when levels disagree without a swap.
        Evidence ``pairs`` and ``split_relabelled_fits_subset`` (per pair: can the split
        table be the swapped one, given the subset?).
    """
    totals = {lv: sum(split[lv]) for lv in split}
    differ = [lv for lv in pooled if pooled[lv] != totals.get(lv)]
    pairs = [(a, b) for i, a in enumerate(differ) for b in differ[i + 1:]
             if pooled[a] == totals[b] and pooled[b] == totals[a]]
    fits = []
    for a, b in pairs:
        if subset is None:
            fits.append(None)
            continue
        # relabel the split table (a <-> b): nonresponders of a become those of b
        ok = all(sum(subset.get(lv, (0, 0))) <= split[{a: b, b: a}.get(lv, lv)][1]
                 for lv in (a, b))
        fits.append(ok)
    verdict = INCONSISTENT if pairs else (CONSISTENT if not differ else UNDECIDABLE)
    where = "; ".join(
        f"{a} {pooled[a]} / {b} {pooled[b]} against split totals {totals[a]} / "
        f"{totals[b]}" + ("" if ok is None else
                          " (the split table cannot be the swapped one: the subset table's "
                          f"{a}/{b} counts do not fit its relabelled nonresponders)"
                          if not ok else " (either table could carry the swap)")
        for (a, b), ok in zip(pairs, fits, strict=True))
    return make_verdict(
        "swapped_levels", verdict,
        "{block}: {where_txt}: {verdict}",
        block=block, pairs=tuple(pairs), differ=tuple(differ),
        split_relabelled_fits_subset=tuple(fits),
        where_txt=where or ("every level agrees" if not differ
                            else "levels " + ", ".join(differ) + " differ without a swap"),
    )
