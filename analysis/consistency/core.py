"""Shared pieces of the consistency checks: the verdict record and its classes, rounding
intervals, dose grids.

Every check in :mod:`analysis.consistency` takes printed numbers only (never the synthetic
cohort), as :class:`analysis.printed.Printed`, and returns a :class:`Verdict`. Precision: the
closed variant of the project's one rule, :func:`analysis.printed.interval` with
``closed=True`` (``Printed.lo``/``Printed.hi``): a number printed with ``d`` decimals stands for
``[v - 0.5 * 10**-d, v + 0.5 * 10**-d]``, edges included, so a check declares "inconsistent"
only when no value in the closed interval works; "< 0.001" stands for ``[0, 0.001]``. A check
that accepts a printed value only at the end of the closed interval that the printed value's
own half-open interval leaves out says so in its evidence and sentence (:func:`mark_end`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.errors import ParameterError
from analysis.paper.grids import DOSE_GRIDS
from analysis.printed import Printed, format_at

__all__ = [
    "CLASSES",
    "CONSISTENT",
    "IMPOSSIBLE",
    "IMPOSSIBLE_IF",
    "NEEDS_OTHER_N",
    "GRIDS",
    "INCONSISTENT",
    "UNDECIDABLE",
    "VERDICTS",
    "Grid",
    "Verdict",
    "dose_grid",
    "end_only",
    "end_only_range",
    "fmt",
    "in_interval",
    "runs_text",
    "make_verdict",
    "mark_end",
    "with_assumptions",
]

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
UNDECIDABLE = "undecidable"
#: The three verdicts a check can return.
VERDICTS = (CONSISTENT, INCONSISTENT, UNDECIDABLE)

#: The classes a verdict is reported in (issue 22), from the strongest finding to none: what
#: the printed numbers alone prove impossible; what is impossible only under a stated
#: assumption (a dose grid, a weekly cap, n at follow-up at most n at start, a measurement's
#: resolution); what is possible only if the paper's n or missing data differ from what it
#: prints; what no check can decide; what is consistent.
IMPOSSIBLE = "impossible"
IMPOSSIBLE_IF = "impossible under an assumption"
NEEDS_OTHER_N = "possible only if n differs"
CLASSES = (IMPOSSIBLE, IMPOSSIBLE_IF, NEEDS_OTHER_N, UNDECIDABLE, CONSISTENT)

#: Absolute slack for floating-point noise when testing the closed rounding interval.
EPS = 1e-9


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check on printed numbers.

    Attributes
    ----------
    check : str
        Name of the check (e.g. ``"percent_granularity"``).
    verdict : str
        One of :data:`VERDICTS`.
    evidence : dict
        The numbers the verdict rests on (plain floats, ints, strings, tuples).
    sentence : str
        One line: the check's template filled from ``evidence``.
    requires : str
        For a ``consistent`` verdict that holds only with an n or missing-data pattern other
        than the paper's (the printed n, or every patient of the printed group when no n is
        printed): that pattern, in words ("6-12 of the 23 ... with both doses recorded");
        otherwise "".
    assumes : tuple of str
        The assumptions beyond the printed numbers the check rests on (a dose grid, a cap, a
        measurement's resolution), in words; set by the caller that chose them
        (:func:`with_assumptions`).
    """

    check: str
    verdict: str
    evidence: dict[str, Any] = field(hash=False)
    sentence: str
    requires: str = ""
    assumes: tuple[str, ...] = ()

    @property
    def klass(self) -> str:
        """The verdict's class (:data:`CLASSES`).

        ``inconsistent`` is *impossible* when the check assumed nothing beyond the printed
        numbers, else *impossible under an assumption*; ``consistent`` with a ``requires`` is
        *possible only if n differs*.

        >>> Verdict("c", INCONSISTENT, {}, "").klass, Verdict("c", INCONSISTENT, {}, "",
        ...                                                  assumes=("a grid",)).klass
        ('impossible', 'impossible under an assumption')
        """
        if self.verdict == INCONSISTENT:
            return IMPOSSIBLE_IF if self.assumes else IMPOSSIBLE
        if self.verdict == CONSISTENT:
            return NEEDS_OTHER_N if self.requires else CONSISTENT
        return UNDECIDABLE

    @property
    def condition(self) -> str:
        """What the verdict rests on beyond the printed numbers, in words ("" for none): the
        assumptions of a proof, or the n a *possible only if* needs (after the assumptions
        under which the paper's n fails). A plain ``consistent`` verdict rests on nothing:
        relaxing an assumption only adds possibilities."""
        if self.klass == CONSISTENT:
            return ""
        parts = list(self.assumes)
        if self.requires:
            parts.append(f"only if {self.requires}")
        return "; ".join(dict.fromkeys(parts))


def with_assumptions(v: Verdict, *assumes: str) -> Verdict:
    """``v`` with the assumptions (words) it rests on added to :attr:`Verdict.assumes`."""
    return dataclasses.replace(v, assumes=tuple(dict.fromkeys((*v.assumes, *assumes))))


def make_verdict(check: str, verdict: str, template: str, requires: str = "",
                 **evidence: Any) -> Verdict:
    """Build a :class:`Verdict`, filling ``template`` with ``evidence`` (``str.format``);
    ``requires``: see :attr:`Verdict.requires` (ignored unless ``verdict`` is consistent).

    Raises
    ------
    analysis.errors.ParameterError
        If ``verdict`` is not one of :data:`VERDICTS`.
    """
    if verdict not in VERDICTS:
        raise ParameterError(f"check {check}: verdict must be one of {VERDICTS}; got {verdict!r}")
    return Verdict(check, verdict, dict(evidence), template.format(verdict=verdict, **evidence),
                   requires=requires if verdict == CONSISTENT else "")


def excluded_end(p: Printed) -> float:
    """The end of ``p``'s closed interval that the printed value's own (half-open) interval
    leaves out (:func:`analysis.printed.interval`): the upper end of a value >= 0 (0.0135 prints
    as 0.014, not 0.013), the lower end of a negative one, the bound itself of "< x"."""
    if p.relation == ">" or (p.relation == "=" and p.value < 0):
        return p.lo
    return p.hi


def end_only(values: Iterable[float], p: Printed) -> float | None:
    """The excluded end (:func:`excluded_end`) when every one of ``values`` that lies in
    ``p``'s closed interval lies on it (and one does); else None.

    >>> from analysis.printed import Printed
    >>> end_only([37.5], Printed(37, 0)), end_only([37.5, 37.0], Printed(37, 0))
    (37.5, None)
    """
    inside = [x for x in values if in_interval(x, p.lo, p.hi)]
    end = excluded_end(p)
    if inside and all(abs(x - end) <= EPS for x in inside):
        return end
    return None


def end_only_range(lo: float, hi: float, p: Printed) -> float | None:
    """As :func:`end_only` for a range of values ``[lo, hi]``: the excluded end when the range
    meets ``p``'s closed interval only there."""
    a, b = max(lo, p.lo), min(hi, p.hi)
    if a > b + EPS:
        return None
    end = excluded_end(p)
    return end if abs(a - end) <= EPS and abs(b - end) <= EPS else None


def mark_end(v: Verdict, end: float | None, p: Printed, what: str = "the printed") -> Verdict:
    """``v`` with the note that it accepts ``p`` only at its excluded end ``end`` (evidence
    ``excluded_end``; the sentence says so), or ``v`` unchanged when ``end`` is None.

    A check reads the closed interval so that no proof rests on how an exact half was rounded
    (:mod:`analysis.printed`); when the only values it finds lie on the end that the paper's
    own rounding (half away from zero) leaves out, the acceptance rests on another rounding.
    """
    if end is None or v.verdict != CONSISTENT:
        return v
    if p.relation == "<":
        note = (f" (accepted only at {fmt(end, 6)} itself, which \"{p}\" excludes: it holds only "
                "if the bound was printed for a value equal to it)")
    else:
        note = (f" (accepted only at {fmt(end, 6)}, the end of {what} {p}'s interval that its "
                f"rounding leaves out: {fmt(end, 6)} rounds half away from zero to "
                f"{format_at(end, p.decimals)}; it holds only if the paper rounded this half "
                "otherwise, down or to even)")
    return dataclasses.replace(v, evidence={**v.evidence, "excluded_end": end},
                               sentence=v.sentence + note)


def in_interval(x: float, lo: float, hi: float) -> bool:
    """``lo <= x <= hi`` with :data:`EPS` slack for floating-point noise."""
    return lo - EPS <= x <= hi + EPS


def fmt(x: float, digits: int = 4) -> str:
    """A number for a sentence: ``digits`` significant decimals, no trailing noise."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{round(x, digits):g}"


def runs_text(ns: Sequence[int]) -> str:
    """Integers as runs, largest first: [11, 10, 9, 7, 5, 4, 3] -> "9-11, 7, 3-5" ascending.

    >>> runs_text([11, 10, 9, 7, 5, 4, 3])
    '3-5, 7, 9-11'
    """
    values = sorted(set(int(n) for n in ns))
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return ", ".join(f"{a}" if a == b else f"{a}, {b}" if b == a + 1 else f"{a}-{b}"
                     for a, b in runs)


@dataclass(frozen=True)
class Grid:
    """A declared grid of values a measurement can take (doses, whole numbers).

    Attributes
    ----------
    name : str
        Short name used in sentences.
    step : float
        Spacing of the grid.
    lo, hi : float
        Smallest and largest allowed value (multiples of ``step``).
    source : str
        Why this grid: tablet or vial strengths, usual maximum dose.
    """

    name: str
    step: float
    lo: float
    hi: float
    source: str

    def units(self) -> range:
        """The grid values in units of ``step`` (integers)."""
        return range(round(self.lo / self.step), round(self.hi / self.step) + 1)

    def starting(self, lo: float) -> Grid:
        """The same grid with a new smallest value (e.g. "taking AZA": dose > 0)."""
        return Grid(self.name, self.step, lo, self.hi, self.source)


def dose_grid(drug: str, step: float | None = None, hi: float | None = None) -> Grid:
    """The grid of one drug's doses, from the declaration in :mod:`analysis.paper.grids`.

    Parameters
    ----------
    drug : str
        A key of :data:`analysis.paper.grids.DOSE_GRIDS` (``"aza"``, ``"mtx"``, ...).
    step, hi : float, optional
        A check alternative (:class:`analysis.params.Params` ``check_aza_step``,
        ``check_mtx_cap``): another spacing, another largest dose (rounded down to the step);
        default: the declared ones.

    Raises
    ------
    analysis.errors.ParameterError
        If ``step`` is not positive, or ``hi`` is below it.

    Examples
    --------
    >>> dose_grid("aza").name, dose_grid("aza", step=12.5).name
    ('AZA daily dose in 25-mg steps, 0-300 mg', 'AZA daily dose in 12.5-mg steps, 0-300 mg')
    """
    declared = DOSE_GRIDS[drug]
    step = declared.step if step is None else float(step)
    top = declared.hi if hi is None else float(hi)
    if not step > 0 or top < step:
        raise ParameterError(f"dose grid of {declared.label}: step must be > 0 and the largest "
                             f"dose at least one step; got step {step:g}, largest {top:g}")
    who = "prednisone" if drug == "prednisone" else drug.upper()
    when = "weekly" if declared.unit == "mg/week" else "daily"
    if math.isinf(top):  # no cap (a check alternative): the SD check bounds it itself
        return Grid(f"{who} {when} dose in {step:g}-mg steps from {declared.lo:g} mg, no cap",
                    step, declared.lo, top, declared.source)
    top = math.floor(top / step + 1e-9) * step
    return Grid(f"{who} {when} dose in {step:g}-mg steps, {declared.lo:g}-{top:g} mg", step,
                declared.lo, top, declared.source)


#: Dose grids for the SD-feasibility and granularity checks, as declared in
#: :mod:`analysis.paper.grids` (Sharma 2017, Results: "Change in the doses of DMARD"); 0 is on
#: every follow-up grid (a patient who stopped the drug). "whole": a count of units.
GRIDS: dict[str, Grid] = {
    **{drug: dose_grid(drug) for drug in DOSE_GRIDS},
    "whole": Grid(
        "whole numbers", 1.0, 0.0, math.inf,
        "a count of units reported as integers (CK in U/l, age in years)",
    ),
}
