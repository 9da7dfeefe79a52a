"""The dose grids and measurement resolutions the study's numbers live on, declared once.

Sharma 2017 prints doses (Results, "Change in the doses of DMARD") and measurements (Tables
1-3) but never the grid they are recorded on. The consistency checks
(:mod:`analysis.consistency`) need one to ask whether a printed mean or SD can hold, and the
synthetic cohort (:mod:`analysis.synth.doses`) must generate doses that lie on it. Both read
the grids here; neither types its own. Every grid carries its source, and the report shows it
(Assumptions section).

A grid here is what a value *can* be (every real dose), not what is usual: the generator picks
a narrower subset (tablet strengths in a usual range), which ``tests/test_paper_grids.py``
checks is inside the declared grid. The consistency checks vary the two declarations a verdict
depends on (:class:`analysis.params.Params`: ``check_aza_step``, ``check_mtx_cap``), with the
declared values as defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Bound", "Cap", "DOSE_GRIDS", "DoseGrid", "MIN_CORRELATION", "MTX_WEEKLY_CAP",
           "RESOLUTIONS", "Resolution", "on_grid"]


@dataclass(frozen=True)
class DoseGrid:
    """The doses a drug can be given at: multiples of ``step`` from ``lo`` to ``hi``.

    Attributes
    ----------
    drug : str
        Short name (``"aza"``, ``"mtx"``, ``"mmf"``, ``"prednisone"``).
    label : str
        The drug as a reader names it.
    unit : str
        ``"mg/day"`` or ``"mg/week"``.
    step, lo, hi : float
        Spacing, smallest and largest dose (0 = stopped, on every grid).
    source : str
        Why: tablet strengths and the usual maximum dose, with the label they come from.
    """

    drug: str
    label: str
    unit: str
    step: float
    lo: float
    hi: float
    source: str


#: Declared dose grids (Sharma 2017, Results, "Change in the doses of DMARD").
DOSE_GRIDS: dict[str, DoseGrid] = {
    "aza": DoseGrid(
        "aza", "azathioprine", "mg/day", 25.0, 0.0, 300.0,
        "azathioprine tablets are 50 mg, scored (Imuran label), and 75/100 mg scored (Azasan "
        "label): halves of 50 and 100 mg are 25 and 50 mg, so every dose from whole tablets and "
        "these halves is a multiple of 25 mg; half a 75-mg tablet (37.5 mg) is not, and the "
        "checks show what changes on 12.5-mg steps; 300 mg = 3 mg/kg for 100 kg, above the "
        "label maximum of 2.5 mg/kg"),
    "mtx": DoseGrid(
        "mtx", "methotrexate", "mg/week", 2.5, 0.0, 30.0,
        "methotrexate tablets are 2.5 mg (Trexall/generic label); the top is the weekly cap, "
        "declared apart because verdicts rest on it"),
    "mmf": DoseGrid(
        "mmf", "mycophenolate mofetil", "mg/day", 250.0, 0.0, 3000.0,
        "mycophenolate mofetil comes as 250-mg capsules and 500-mg tablets (CellCept label); "
        "3000 mg/day is the usual maximum"),
    "prednisone": DoseGrid(
        "prednisone", "prednisone", "mg/day", 0.5, 0.0, 100.0,
        "prednisone tablets are 1, 2.5, 5, 10, 20, 50 mg: combinations reach every multiple of "
        "0.5 mg (e.g. 7.5 mg); a 1-mg grid would exclude real doses"),
}


@dataclass(frozen=True)
class Cap:
    """A largest dose declared apart from the grid, because a check's verdict rests on it."""

    drug: str
    value: float
    unit: str
    source: str


#: The MTX weekly cap: the top of :data:`DOSE_GRIDS` ``["mtx"]``. Without it, five weekly doses
#: such as (0, 0, 25, 25, 37.5) mg reach the printed SD 16.8 (issue 22): the SD verdicts on MTX
#: rest on this cap.
MTX_WEEKLY_CAP = Cap(
    "mtx", 30.0, "mg/week",
    "weekly methotrexate doses in rheumatology go up to 25 mg (ACR recommendations; Trexall "
    "label for rheumatoid arthritis); 30 mg allowed here to be conservative")


@dataclass(frozen=True)
class Bound:
    """A plausibility bound a check's verdict rests on, declared with its source."""

    name: str
    value: float
    source: str


#: The smallest plausible within-patient correlation between a patient's dose before and after
#: (Results, "Change in the doses of DMARD": paired means, SDs and p). The printed values of a
#: paired comparison fix the correlation they need (:mod:`analysis.consistency.joint`); one
#: below this bound is possible but implausible. Default of ``check_min_correlation``.
MIN_CORRELATION = Bound(
    "within-patient correlation of the dose before and after at least 0", 0.0,
    "repeated measurements of one quantity in the same patients are positively correlated "
    "(baseline-to-follow-up correlations in 20 trials, e.g. 0.55 on average for EQ-5D utility "
    "and 0.16 for leg pain: Walters et al., Trials 2019;20:566, Table 5); the correlation is "
    "typically unreported and must be assumed (Cochrane Handbook 5.1, section 16.1.3.2, after "
    "Follmann et al., J Clin Epidemiol 1992;45:769-73); 0 allows every non-negative value")


@dataclass(frozen=True)
class Resolution:
    """The resolution a measurement is recorded at (its granularity).

    Attributes
    ----------
    variable : str
        Row name in Tables 1-3 (``"ck"``, ``"fvc"`` ...).
    step : float or None
        Recorded values are multiples of ``step``; None: no declared resolution (the checks
        then treat the values as continuous).
    label : str
        The assumption in words, as a verdict's condition names it.
    source : str
        Why.
    """

    variable: str
    step: float | None
    label: str
    source: str


#: Resolution of each continuous variable of Tables 1-3 (Sharma 2017, Table 1's rows): the
#: mean checks (GRIM) ask whether n values on this grid can have the printed mean. Aldolase is
#: left continuous: laboratories report it with a decimal (U/l), so no grid is declared.
RESOLUTIONS: dict[str, Resolution] = {
    "age": Resolution("age", 1.0, "age in whole years",
                      "age at onset is charted in whole years (Table 1: 'yrs')"),
    "ck": Resolution("ck", 1.0, "CK in whole U/l", "serum CK is reported in whole U/l"),
    "aldolase": Resolution("aldolase", None, "", "aldolase is reported with a decimal (U/l)"),
    "fvc": Resolution("fvc", 1.0, "FVC in whole % of predicted",
                      "pulmonary function laboratories report FVC as a whole % of predicted"),
    "tlc": Resolution("tlc", 1.0, "TLC in whole % of predicted",
                      "pulmonary function laboratories report TLC as a whole % of predicted"),
    "dlco": Resolution("dlco", 1.0, "DLCO in whole % of predicted",
                       "pulmonary function laboratories report DLCO as a whole % of "
                       "predicted"),
}


def on_grid(value: float, grid: DoseGrid) -> bool:
    """Whether ``value`` is a dose of ``grid`` (a multiple of its step within its range).

    >>> on_grid(37.5, DOSE_GRIDS["aza"]), on_grid(150.0, DOSE_GRIDS["aza"])
    (False, True)
    """
    units = value / grid.step
    return (grid.lo - 1e-9 <= value <= grid.hi + 1e-9
            and math.isclose(units, round(units), abs_tol=1e-9))
