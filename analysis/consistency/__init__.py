"""A consistency engine for printed numbers (issue 12).

Checks that take printed numbers only (never the synthetic cohort) and return a
:class:`~analysis.consistency.core.Verdict` ("consistent", "inconsistent" or "undecidable")
with its evidence as numbers and a one-line sentence filled from them, what it assumes beyond
the printed numbers (a dose grid, a cap, a resolution) and the n it needs when that is not the
paper's; its class (:data:`~analysis.consistency.core.CLASSES`: impossible, impossible under an
assumption, possible only if n differs, undecidable, consistent) follows (issue 22):

* :mod:`~analysis.consistency.granularity`: percentages, means on a grid, pooled means,
  percent changes (GRIM-style);
* :mod:`~analysis.consistency.sprite`: SD feasibility on a dose grid (SPRITE-style, exact);
* :mod:`~analysis.consistency.pvalues`: paired t over the unknown correlation, two-sample t
  with Table 1's SD, Mann-Whitney U;
* :mod:`~analysis.consistency.joint`: everything printed about one paired comparison (means,
  SDs, n, percent decrease, p) together: the within-patient correlation it needs, possible
  and plausible;
* :mod:`~analysis.consistency.contingency`: every table with the printed margins, every test;
* :mod:`~analysis.consistency.crosssource`: Table 1 against Tables 2-3, text against tables;
* :mod:`~analysis.consistency.engine`: :func:`verdicts`, every check on ``numbers.csv``;
* :mod:`~analysis.consistency.alternatives`: the verdicts under each alternative of the check
  assumptions (grids declared in :mod:`analysis.paper.grids`).
"""

from analysis.consistency.core import GRIDS, VERDICTS, Grid, Verdict
from analysis.consistency.engine import row_verdicts, verdicts

__all__ = [
    "GRIDS", "VERDICTS", "Grid", "Verdict", "row_verdicts", "verdicts",
]
