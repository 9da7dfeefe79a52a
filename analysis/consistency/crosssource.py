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
    Printed,
    Verdict,
    make_verdict,
)

__all__ = ["count_within", "level_sum", "same_quantity"]


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
        patients may differ (no n printed): disjoint intervals are then ``undecidable`` and
        the evidence gives what one extra patient would need (``extra_dose_min`` =
        ``b.lo + n (b.lo - a.hi)`` for ``n`` patients behind ``a``, when ``b > a``).
    """
    overlap = a.lo <= b.hi + 1e-9 and b.lo <= a.hi + 1e-9
    if overlap:
        verdict = CONSISTENT
    else:
        verdict = INCONSISTENT if same_set else UNDECIDABLE
    gap = max(b.lo - a.hi, a.lo - b.hi, 0.0)
    return make_verdict(
        "same_quantity", verdict,
        "{what}: {a} [{alo}, {ahi}] and {b} [{blo}, {bhi}] {rel}{extra_txt}: {verdict}",
        what=what, a=str(a), b=str(b), alo=a.lo, ahi=a.hi, blo=b.lo, bhi=b.hi, gap=gap,
        rel="overlap" if overlap else f"are {gap:.2f} apart",
        extra_dose_gap=gap,
        extra_txt=("" if overlap or same_set else
                   f"; the same patients cannot give both; if the second covers more patients, "
                   f"one extra patient must have at least {b.lo:g} + {gap:.2f} n "
                   f"(n = patients behind the first)"),
    )
