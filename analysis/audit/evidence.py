"""Every candidate test's p-value for every printed categorical row of Tables 2 and 3.

Candidate tests per row (ids of :data:`analysis.stats.TEST_LABELS`): Pearson chi-square
(``chi2``), Yates-corrected chi-square (``chi2_yates``, 2 x 2 only), two-sided Fisher
(``fisher_two_sided`` for 2 x 2, exact Fisher-Freeman-Halton ``fisher_rxc`` for larger),
one-sided Fisher as Stata prints it (``fisher_one_sided``, 2 x 2 only). Sharma 2017,
Statistical analysis; findings in :mod:`analysis.audit`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.errors import DataValidationError, ParameterError
from analysis.paper.rows import COUNTED
from analysis.printed import reproduces
from analysis.stats import categorical_p, drop_empty, expected_counts

__all__ = ["EVIDENCE_COLUMNS", "TEST_COLUMNS", "categorical_evidence", "evidence_row"]

#: Candidate tests recorded per row, with the evidence column holding each one's p.
TEST_COLUMNS: dict[str, str] = {
    "chi2": "p_chi2",
    "chi2_yates": "p_yates",
    "fisher_two_sided": "p_fisher_two",
    "fisher_rxc": "p_fisher_two",
    "fisher_one_sided": "p_fisher_one",
}


def _table_for(
    rows: pd.DataFrame, table: str, variable: str, group_sizes: Mapping[str, tuple[int, int]]
) -> tuple[list[str], list[list[int]]]:
    """Levels and count matrix (levels x [resp, nonresp]) of one printed row."""
    levels = [None if pd.isna(v) else str(v) for v in rows["level"]]
    counts = [[int(r), int(nr)] for r, nr in zip(rows["resp"], rows["nonresp"], strict=True)]
    if len(counts) == 1 and levels[0] is None:
        if table not in group_sizes:
            raise ParameterError(
                f"{table}.{variable}: a positive-count row needs the group sizes of {table}; "
                f"known: {', '.join(sorted(group_sizes))}"
            )
        n_resp, n_nonresp = group_sizes[table]
        pos_r, pos_nr = counts[0]
        if pos_r > n_resp or pos_nr > n_nonresp:
            raise DataValidationError(
                f"{table}.{variable}: positive counts {pos_r}/{pos_nr} exceed the group "
                f"sizes {n_resp}/{n_nonresp}"
            )
        return ["positive", "negative"], [[pos_r, pos_nr], [n_resp - pos_r, n_nonresp - pos_nr]]
    if any(level is None for level in levels):
        raise DataValidationError(
            f"{table}.{variable}: a row with several levels needs a level name on each"
        )
    return [str(level) for level in levels], counts


def evidence_row(
    table: str, variable: str, levels: Sequence[str], counts: Sequence[Sequence[int]], printed: str
) -> dict[str, Any]:
    arr = drop_empty(counts)
    testable = arr.shape[0] >= 2 and arr.shape[1] >= 2
    is_2x2 = arr.shape == (2, 2)
    if testable:
        p = {
            "p_chi2": categorical_p(arr, "chi2"),
            "p_yates": categorical_p(arr, "chi2_yates") if is_2x2 else math.nan,
            "p_fisher_two": categorical_p(arr, "fisher_two_sided" if is_2x2 else "fisher_rxc"),
            "p_fisher_one": categorical_p(arr, "fisher_one_sided") if is_2x2 else math.nan,
        }
        candidates = ["chi2"] + (
            ["chi2_yates", "fisher_two_sided", "fisher_one_sided"] if is_2x2 else ["fisher_rxc"]
        )
        matches = [t for t in candidates if reproduces(p[TEST_COLUMNS[t]], printed)]
        expected = expected_counts(arr)
        min_expected, min_observed = float(expected.min()), int(arr.min())
    else:
        p = dict.fromkeys(("p_chi2", "p_yates", "p_fisher_two", "p_fisher_one"), math.nan)
        matches = ["not_testable"] if reproduces(math.nan, printed) else []
        min_expected, min_observed = math.nan, int(arr.min()) if arr.size else 0
    return {
        "table": table,
        "variable": variable,
        "levels": "|".join(levels),
        "counts": tuple(tuple(int(v) for v in row) for row in counts),
        "shape": f"{arr.shape[0]}x{arr.shape[1]}",
        "n": int(arr.sum()),
        "min_expected": min_expected,
        "min_observed": min_observed,
        "printed_p": printed,
        **p,
        "matches": ", ".join(matches),
    }


EVIDENCE_COLUMNS = [
    "table",
    "variable",
    "levels",
    "counts",
    "shape",
    "n",
    "min_expected",
    "min_observed",
    "printed_p",
    "p_chi2",
    "p_yates",
    "p_fisher_two",
    "p_fisher_one",
    "matches",
]


def categorical_evidence(
    counts: pd.DataFrame, group_sizes: Mapping[str, tuple[int, int]] | None = None
) -> pd.DataFrame:
    """Every candidate test's p-value for every printed categorical row of Tables 2 and 3.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per (table, variable, level), as from :func:`counts_from_published`:
        ``table`` ("t2"/"t3"), ``variable``, ``level`` (missing for a positive-count row,
        whose negatives are the group size minus it), ``resp``, ``nonresp`` and
        ``printed_p`` (the printed text; the first non-missing value of a variable is
        used). Rows of variables not printed as counts (:data:`analysis.paper.rows.COUNTED`)
        are ignored. Not mutated.
    group_sizes : mapping of str to (int, int), optional
        Responders and nonresponders per table, for the positive-count rows; default the
        sizes the column headers of Tables 2 and 3 print ("Responders, n = 31 /
        Nonresponders, n = 23"; 13 / 5), read from ``data/published/numbers.csv``
        (:func:`analysis.published.printed_group_sizes`).

    Returns
    -------
    pandas.DataFrame
        One row per (table, variable), in input order, with columns

        - ``table``, ``variable``: identify the printed row;
        - ``levels``: level names joined by "|"; ``counts``: the printed count matrix
          (levels x [resp, nonresp], a tuple of tuples, empty levels kept);
        - ``shape``: "r x c" after dropping empty rows/columns; ``n``: total count;
        - ``min_expected``, ``min_observed``: smallest expected and observed cell;
        - ``printed_p``: as printed;
        - ``p_chi2``, ``p_yates`` (2 x 2 only), ``p_fisher_two`` (2 x 2 Fisher or exact
          r x c), ``p_fisher_one`` (2 x 2 only; Stata's "1-sided");
        - ``matches``: comma list of the test ids whose p reproduces the printed one
          ("not_testable" when "N/A" was printed and nothing can be tested).

    Raises
    ------
    DataValidationError
        When a required column is missing or counts are invalid.

    Notes
    -----
    Sharma 2017, Statistical analysis; Tables 2 and 3. See the module docstring for the
    findings on the paper's printed counts.

    Examples
    --------
    >>> counts = pd.DataFrame({"table": ["t3"], "variable": ["jo1"], "level": [None],
    ...                        "resp": [6], "nonresp": [0], "printed_p": ["0.09"]})
    >>> ev = categorical_evidence(counts)
    >>> ev.loc[0, ["p_fisher_two", "p_fisher_one"]].round(4).tolist(), ev.loc[0, "matches"]
    ([0.1141, 0.0924], 'fisher_one_sided')
    """
    required = {"table", "variable", "level", "resp", "nonresp", "printed_p"}
    missing = required - set(counts.columns)
    if missing:
        raise DataValidationError(
            f"counts frame lacks column(s) {', '.join(sorted(missing))}; "
            f"needs {', '.join(sorted(required))}"
        )
    if group_sizes is None:
        from analysis.published import printed_group_sizes

        group_sizes = printed_group_sizes()
    keep = counts[counts["variable"].isin(COUNTED)]
    out = []
    order = list(dict.fromkeys(zip(keep["table"], keep["variable"], strict=True)))
    for table, variable in order:
        rows = keep[(keep["table"] == table) & (keep["variable"] == variable)]
        printed_values = [v for v in rows["printed_p"] if not pd.isna(v)]
        printed = str(printed_values[0]).strip() if printed_values else ""
        levels, matrix = _table_for(rows, str(table), str(variable), group_sizes)
        out.append(evidence_row(str(table), str(variable), levels, matrix, printed))
    return pd.DataFrame(out, columns=EVIDENCE_COLUMNS)
