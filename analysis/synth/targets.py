"""What the reconstructed cohort must reproduce, read from the published numbers.

The generator never types a number of the paper: flow counts, the counts of Tables 2 and 3 per
response group, and the printed means, SDs and p-values all come from ``data/published``
(:func:`analysis.published.load_published`), addressed by ``key``. Counts per *cell* (the four
groups of patients the tables separate) follow from Tables 2 and 3 together:

- ``conv_responder`` = Table 2 responders;
- ``tac_responder`` and ``tac_failure`` = Table 3 responders and no response;
- ``second_line_other`` (cyclophosphamide or insufficient tacrolimus data) = Table 2
  nonresponders minus both Table 3 columns.

So where Table 1 disagrees with Table 2 (Hispanic 4 / Asian 2 against 2 / 4) the cohort follows
Table 2, and where the Discussion disagrees with Table 3 (6 tacrolimus-treated patients with
honeycombing against 4 + 0) it follows Table 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError
from analysis.paper import rows as paper_rows
from analysis.paper.rows import BY_KEY, CONTINUOUS
from analysis.params import CONTINUOUS_TEST_ROWS
from analysis.printed import Printed
from analysis.synth.fit import EDGE, Constraint, mann_whitney_variance

__all__ = ["CELLS", "CATEGORICAL", "BINARY", "CONTINUOUS", "EXCLUSION_ORDER",
           "GENERATOR_TESTS", "MAX_TIES", "Targets", "read_targets", "continuous_constraints",
           "observed_counts", "mann_whitney_attainable"]

#: The four groups of included patients that Tables 2 and 3 separate.
CELLS = ("conv_responder", "tac_responder", "tac_failure", "second_line_other")
#: Multi-level rows of Tables 1-3 (:mod:`analysis.paper.rows`): variable -> (patients.csv
#: column, level -> value), levels in Table 1's order.
CATEGORICAL: dict[str, tuple[str, dict[str, object]]] = {
    key: (BY_KEY[key].column, {k: v for k, v, _ in BY_KEY[key].levels})
    for key in paper_rows.CATEGORICAL}
#: Yes/No rows of Tables 1-3: variable -> patients.csv column.
BINARY: dict[str, str] = {key: BY_KEY[key].column for key in paper_rows.BINARY}
#: Multi-level rows whose printed levels may leave patients out, and the level they get:
#: race "other" (the codebook allows "Other"; the paper prints four races), histology "none"
#: (no biopsy: Table 1 prints histology among the 14 biopsied). Every other multi-level row's
#: levels sum to the group sizes.
REST_LEVEL: dict[str, str] = {"race": "other", "histology": "none"}
#: Exclusion criteria in the order ``analysis.cohort`` applies them.
EXCLUSION_ORDER = ("under_age", "overlap", "ibm", "cancer_chemo", "other_myopathy",
                   "no_conventional")

#: Largest tie correction allowed in a rank test per variable (two tied pairs): CK and aldolase
#: rarely tie exactly; integer ages and PFTs tie naturally, so they are not limited.
MAX_TIES: dict[str, int | None] = {"ck": 12, "aldolase": 12}

#: Test the generator makes each printed p-value hold under. These are the declared tests of
#: ``analysis.params.CONTINUOUS_TEST_ROWS`` except Table 2's age and PFT rows: under a pooled
#: Student t test their p-values are fixed by Table 1's SD and Table 2's means (the within-group
#: sum of squares is the total minus the between-group one), and come out 0.25-0.28 (age),
#: 0.69-0.72 (FVC), 0.90-0.93 (TLC) and 0.87-0.89 (DLCO) anywhere inside the printed rounding,
#: never the printed 0.34, 0.39, 0.46 and 0.62. A rank test can give the printed values, so the
#: cohort is built to give them under Mann-Whitney (and the t test gives what it must).
GENERATOR_TESTS: dict[str, str] = {
    **CONTINUOUS_TEST_ROWS,
    "t2.age": "mannwhitney", "t2.fvc": "mannwhitney", "t2.tlc": "mannwhitney",
    "t2.dlco": "mannwhitney",
}


@dataclass(frozen=True)
class Targets:
    """Everything the generator must reproduce.

    Attributes
    ----------
    identified : patients screened (Figure 1).
    exclusions : excluded patients per criterion, in :data:`EXCLUSION_ORDER`.
    cell_sizes : included patients per cell of :data:`CELLS`.
    cyclophosphamide, tac_insufficient : the split of ``second_line_other``.
    tac_myositis_refractory, tac_ild_refractory, tac_both_refractory : among the tacrolimus
        failures, refractory in myositis only, ILD only, both.
    tac_hospitalised : hospitalised in the year after tacrolimus start.
    counts : variable -> DataFrame (rows = levels, columns = :data:`CELLS`) of patients.
    printed : key -> :class:`analysis.printed.Printed`, for the continuous rows.
    """

    identified: int
    exclusions: dict[str, int]
    cell_sizes: dict[str, int]
    cyclophosphamide: int
    tac_insufficient: int
    tac_myositis_refractory: int
    tac_ild_refractory: int
    tac_both_refractory: int
    tac_hospitalised: int
    counts: dict[str, pd.DataFrame] = field(repr=False)
    printed: dict[str, Printed] = field(repr=False)


def _lookup(published: pd.DataFrame, key: str) -> Printed:
    rows = published[published["key"] == key]
    if rows.empty:
        raise DataValidationError(f"published numbers: no row with key {key!r} (the synthetic "
                                  "cohort needs it)")
    ok = rows[rows["consistency"] == "ok"]
    row = (ok if not ok.empty else rows).iloc[0]
    return Printed(float(row["value"]), int(row["decimals"]))


def _count(published: pd.DataFrame, key: str) -> int:
    return int(round(_lookup(published, key).value))


def read_targets(published: pd.DataFrame) -> Targets:
    """Collect the targets from the published numbers (Sharma 2017, Figure 1, Tables 1-3).

    Raises
    ------
    DataValidationError
        When a key is missing or the counts do not add up (a cell would be negative, or a
        table column would not sum to its group size).
    """
    c = lambda key: _count(published, key)  # noqa: E731
    exclusions = {r: c(f"flow.excluded.{r}") for r in EXCLUSION_ORDER}
    sizes = {"conv_responder": c("flow.conv_responders"),
             "tac_responder": c("flow.tac_responders"),
             "tac_failure": c("flow.tac_failures"),
             "second_line_other": c("flow.conv_failures") - c("flow.tac_analysed")}
    problems = []
    if sum(exclusions.values()) != c("flow.excluded"):
        problems.append("flow.excluded.* do not sum to flow.excluded")
    if c("flow.identified") != c("flow.excluded") + c("flow.included"):
        problems.append("flow.identified != flow.excluded + flow.included")
    if sum(sizes.values()) != c("flow.included"):
        problems.append("response groups do not sum to flow.included")
    cyc = c("flow.second_line.cyclophosphamide")
    insufficient = c("flow.second_line.tacrolimus_insufficient")
    if cyc + insufficient != sizes["second_line_other"]:
        problems.append("second-line split does not sum to flow.conv_failures - tac_analysed")
    analysed = c("flow.tac_analysed")
    myo = analysed - c("tac.myositis_improved.n")
    ild = analysed - c("tac.ild_improved.n")
    failures = analysed - c("tac.both_improved.n")
    both = myo + ild - failures
    if failures != sizes["tac_failure"] or min(myo, ild) < both or both < 0:
        problems.append("tac.*_improved.n are inconsistent with flow.tac_failures")

    counts: dict[str, pd.DataFrame] = {}
    levels = {var: list(spec[1]) for var, spec in CATEGORICAL.items()}
    levels.update({var: ["yes"] for var in BINARY})
    for var, names in levels.items():
        rows = {}
        for level in names:
            stem = f"{var}" if level == "yes" else f"{var}.{level}"
            resp = c(f"t2.{stem}.resp")
            t3r, t3n = c(f"t3.{stem}.resp"), c(f"t3.{stem}.nonresp")
            rows[level] = {"conv_responder": resp, "tac_responder": t3r, "tac_failure": t3n,
                           "second_line_other": c(f"t2.{stem}.nonresp") - t3r - t3n}
        frame = pd.DataFrame(rows).T.reindex(columns=list(CELLS)).astype(int)
        if (frame < 0).to_numpy().any():
            problems.append(f"{var}: Table 3 counts exceed Table 2 nonresponders")
        if var in REST_LEVEL:
            rest = pd.Series(sizes) - frame.sum()
            if (rest < 0).to_numpy().any():
                problems.append(f"{var}: more patients in a column than in the group")
            frame.loc[REST_LEVEL[var]] = rest
        elif var in CATEGORICAL:
            if (frame.sum() != pd.Series(sizes)).to_numpy().any():
                problems.append(f"{var}: Table 2/3 columns do not sum to the group sizes")
        counts[var] = frame
    if problems:
        raise DataValidationError("published numbers cannot make a cohort: "
                                  + "; ".join(problems))
    printed = {}
    for var in CONTINUOUS:
        keys = [f"t2.{var}.resp", f"t2.{var}.nonresp", f"t2.{var}.p",
                f"t3.{var}.resp", f"t3.{var}.nonresp", f"t3.{var}.p",
                f"t1.{var}.mean", f"t1.{var}.sd"]
        for key in keys:
            printed[key] = _lookup(published, key)
    return Targets(
        identified=c("flow.identified"), exclusions=exclusions, cell_sizes=sizes,
        cyclophosphamide=cyc, tac_insufficient=insufficient,
        tac_myositis_refractory=myo - both, tac_ild_refractory=ild - both,
        tac_both_refractory=both, tac_hospitalised=c("tac.hospitalised.n"),
        counts=counts, printed=printed)


def continuous_constraints(targets: Targets, var: str, table: str,
                           members: dict[str, np.ndarray]) -> list[Constraint]:
    """Constraints of one table's rows for one variable.

    Parameters
    ----------
    table : ``"t1"`` (mean and SD over ``members["all"]``), ``"t2"`` or ``"t3"`` (group means
        over ``members["resp"]`` and ``members["nonresp"]`` and the p-value between them, under
        :data:`GENERATOR_TESTS`).
    """
    p = targets.printed
    if table == "t1":
        return [Constraint(f"t1.{var}.{stat}", stat, (members["all"],),
                           *p[f"t1.{var}.{stat}"].window()) for stat in ("mean", "sd")]
    resp, nonresp = members["resp"], members["nonresp"]
    return [Constraint(f"{table}.{var}.resp", "mean", (resp,), *p[f"{table}.{var}.resp"].window()),
            Constraint(f"{table}.{var}.nonresp", "mean", (nonresp,),
                       *p[f"{table}.{var}.nonresp"].window()),
            Constraint(f"{table}.{var}.p", "p", (resp, nonresp), *p[f"{table}.{var}.p"].window(),
                       test=GENERATOR_TESTS[f"{table}.{var}"], max_ties=MAX_TIES.get(var))]


def _sum_range(n: int, window: tuple[float, float], resolution: float) -> tuple[int, int]:
    """Integer sums (in ``resolution`` units) whose mean over ``n`` lies inside the window."""
    low, high = window
    edge = EDGE * (high - low)
    lo = math.ceil(round(n * (low + edge) / resolution, 6))
    hi = math.floor(round(n * (high - edge) / resolution, 6))
    return lo, hi


def mann_whitney_attainable(n1: int, n2: int, window: tuple[float, float],
                            max_ties: int | None = 12) -> bool:
    """Whether a two-sided Mann-Whitney p (normal approximation, tie-corrected) in ``window``
    exists for group sizes ``n1``, ``n2`` with at most ``max_ties`` of tie correction
    (sum of t^3 - t over tied groups: 6 per tied pair).

    The statistic U moves in steps of 0.5, so with small groups some p-values cannot occur:
    13 against 3 values give 0.590 or 0.638, never 0.60 (ties only lower the variance).

    >>> mann_whitney_attainable(13, 3, (0.595, 0.605))
    False
    >>> mann_whitney_attainable(6, 3, (0.595, 0.605))
    True
    """
    n = n1 + n2
    low, high = window
    edge = EDGE * (high - low)
    limit = max_ties if max_ties is not None else n * (n * n - 1) // 4
    for ties in range(0, limit + 1, 6):
        var = mann_whitney_variance(n1, n2, ties)
        if var <= 0:
            continue
        # Without ties U is a whole number; a tie across the groups adds a half.
        for twice_u in range(0, n1 * n2 * 2 + 1, 1 if ties else 2):
            z = abs(twice_u / 2.0 - n1 * n2 / 2.0) / math.sqrt(var)
            if low + edge <= math.erfc(z / math.sqrt(2.0)) <= high - edge:
                return True
    return False


def observed_counts(group_sizes: tuple[int, int], means: tuple[Printed, Printed],
                    pooled: Printed | None, resolution: float, p: Printed | None = None,
                    test: str = "", max_ties: int | None = 12) -> tuple[int, int]:
    """Largest numbers of measured patients per group that make the printed numbers possible.

    A mean of ``n`` values recorded at ``resolution`` (1 U/l, 0.1 U/l, 1 %) is a multiple of
    ``resolution / n``; with small ``n`` or a pooled mean that disagrees with the group means
    (Table 1 CK 2933.4 against Table 2's 2588.9 and 3431.0 over 31 and 23) no full set of
    values can print as published, and a rank test on small groups reaches only some p-values
    (:func:`mann_whitney_attainable`). The paper's data were "limited" (Discussion); the
    cohort leaves the fewest values blank that make every printed number possible.

    Returns
    -------
    (n1, n2): measured patients per group, maximising n1 + n2, then n1.

    Examples
    --------
    >>> observed_counts((31, 23), (Printed(2588.9, 1), Printed(3431.0, 1)),
    ...                 Printed(2933.4, 1), 1.0)
    (26, 18)
    >>> observed_counts((13, 5), (Printed(4353.5, 1), Printed(1975.7, 1)), None, 1.0)
    (13, 3)
    >>> observed_counts((13, 5), (Printed(4353.5, 1), Printed(1975.7, 1)), None, 1.0,
    ...                 Printed(0.60, 2), "mannwhitney")
    (6, 3)
    """
    best: tuple[int, int] | None = None
    for n1 in range(group_sizes[0], 1, -1):
        a1, b1 = _sum_range(n1, means[0].window(), resolution)
        if a1 > b1:
            continue
        for n2 in range(group_sizes[1], 1, -1):
            a2, b2 = _sum_range(n2, means[1].window(), resolution)
            if a2 > b2:
                continue
            if pooled is not None:
                a, b = _sum_range(n1 + n2, pooled.window(), resolution)
                if max(a, a1 + a2) > min(b, b1 + b2):
                    continue
            if p is not None and test == "mannwhitney" and not mann_whitney_attainable(
                    n1, n2, p.window(), max_ties):
                continue
            if best is None or (n1 + n2, n1) > (sum(best), best[0]):
                best = (n1, n2)
    if best is None:
        raise DataValidationError("no numbers of measured patients make the printed means "
                                  f"{means[0].value} and {means[1].value} possible")
    return best
