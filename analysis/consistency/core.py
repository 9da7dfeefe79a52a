"""Shared pieces of the consistency checks: the verdict record, rounding intervals, dose grids.

Every check in :mod:`analysis.consistency` takes printed numbers only (never the synthetic
cohort), as :class:`analysis.printed.Printed`, and returns a :class:`Verdict`. Precision: the
closed variant of the project's one rule, :func:`analysis.printed.interval` with
``closed=True`` (``Printed.lo``/``Printed.hi``): a number printed with ``d`` decimals stands for
``[v - 0.5 * 10**-d, v + 0.5 * 10**-d]``, edges included, so a check declares "inconsistent"
only when no value in the closed interval works; "< 0.001" stands for ``[0, 0.001]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.errors import ParameterError

__all__ = [
    "CONSISTENT",
    "GRIDS",
    "INCONSISTENT",
    "UNDECIDABLE",
    "VERDICTS",
    "Grid",
    "Verdict",
    "fmt",
    "in_interval",
    "runs_text",
    "make_verdict",
]

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
UNDECIDABLE = "undecidable"
#: The three verdicts a check can return.
VERDICTS = (CONSISTENT, INCONSISTENT, UNDECIDABLE)

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
    """

    check: str
    verdict: str
    evidence: dict[str, Any] = field(hash=False)
    sentence: str


def make_verdict(check: str, verdict: str, template: str, **evidence: Any) -> Verdict:
    """Build a :class:`Verdict`, filling ``template`` with ``evidence`` (``str.format``).

    Raises
    ------
    analysis.errors.ParameterError
        If ``verdict`` is not one of :data:`VERDICTS`.
    """
    if verdict not in VERDICTS:
        raise ParameterError(f"check {check}: verdict must be one of {VERDICTS}; got {verdict!r}")
    return Verdict(check, verdict, dict(evidence), template.format(verdict=verdict, **evidence))


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


#: Dose grids for the SD-feasibility and granularity checks (Sharma 2017, Results: "Change in
#: the doses of DMARD"). Each is a parameter with its source; 0 is on every follow-up grid
#: (a patient who stopped the drug).
GRIDS: dict[str, Grid] = {
    "aza": Grid(
        "AZA daily dose in 25-mg steps, 0-300 mg",
        25.0, 0.0, 300.0,
        "azathioprine tablets are 50 mg, scored (Imuran label), and 75/100 mg scored (Azasan "
        "label): every dose is a multiple of 25 mg; 300 mg = 3 mg/kg for 100 kg, above the "
        "label maximum of 2.5 mg/kg",
    ),
    "mtx": Grid(
        "MTX weekly dose in 2.5-mg steps, 0-30 mg",
        2.5, 0.0, 30.0,
        "methotrexate tablets are 2.5 mg (Trexall/generic label); weekly doses in rheumatology "
        "go up to 25 mg, 30 mg allowed here to be conservative",
    ),
    "mmf": Grid(
        "MMF daily dose in 250-mg steps, 0-3000 mg",
        250.0, 0.0, 3000.0,
        "mycophenolate mofetil comes as 250-mg capsules and 500-mg tablets (CellCept label); "
        "3000 mg/day is the usual maximum",
    ),
    "prednisone": Grid(
        "prednisone daily dose in 0.5-mg steps, 0-100 mg",
        0.5, 0.0, 100.0,
        "prednisone tablets are 1, 2.5, 5, 10, 20, 50 mg: combinations reach every multiple of "
        "0.5 mg (e.g. 7.5 mg); a 1-mg grid would exclude real doses",
    ),
    "whole": Grid(
        "whole numbers", 1.0, 0.0, math.inf,
        "a count of units reported as integers (CK in U/l, age in years)",
    ),
}
