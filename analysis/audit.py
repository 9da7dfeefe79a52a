"""Methods audit: which test produced each categorical p-value printed in the paper.

Sharma 2017, Statistical analysis, says only: "Categorical variables were ... compared using
the Pearson chi-square test and Fisher's exact test when n was small (< 5). All analyses were
performed using Stata MP v.13." It does not say which "n" (observed or expected cell count)
nor which Fisher p-value (Stata prints a two-sided and, for 2 x 2 tables, a "1-sided"
one). This module recomputes every categorical row of Tables 2 and 3 from the printed counts
under each candidate test, records which tests reproduce the printed p at its printed
decimals, and scores candidate selection rules by how many printed p-values they reproduce.

Candidate tests per row (ids of :data:`analysis.stats.TEST_LABELS`): Pearson chi-square
(``chi2``), Yates-corrected chi-square (``chi2_yates``, 2 x 2 only), two-sided Fisher
(``fisher_two_sided`` for 2 x 2, exact Fisher-Freeman-Halton ``fisher_rxc`` for larger),
one-sided Fisher as Stata prints it (``fisher_one_sided``, 2 x 2 only). A printed p "matches"
a computed p when they differ by at most half a unit of the printed last digit.

Findings on the paper's printed counts
---------------------------------------
Serology and DMARD rows are positive vs negative against the group sizes (31/23, 13/5).
Empty levels ("Asian 0 0", "CADM 0 0" in Table 3) are dropped before testing. Columns:
Pearson chi-square ("chi2"), Yates-corrected chi-square, two-sided Fisher ("F2"; for tables
larger than 2 x 2 the exact Fisher-Freeman-Halton test, "rxc"), one-sided Fisher as Stata
prints it ("F1"), the tests that reproduce the printed p, and the test and p chosen by the
best rule below ("miss": not reproduced).

=====  =========  =======  ======  ======  ======  ======  =============  =================
table  variable   printed  chi2    Yates   F2      F1      reproduced by  rule's choice
=====  =========  =======  ======  ======  ======  ======  =============  =================
t2     sex        0.055    0.0549  0.1056  0.0739  0.0531  chi2           chi2 0.0549
t2     race       0.12     0.1205  --      0.1347  --      chi2           rxc 0.1347 (miss)
t2     smoking    0.068    0.0682  --      0.0828  --      chi2           rxc 0.0828 (miss)
t2     myositis   0.013    0.0172  --      0.0135  --      rxc            rxc 0.0135
t2     ana        0.18     0.1843  0.2948  0.2639  0.1474  chi2           chi2 0.1843
t2     jo1        0.17     0.1688  0.2710  0.2709  0.1355  chi2           chi2 0.1688
t2     ssa        0.84     0.8357  1.0000  1.0000  0.5299  chi2           chi2 0.8357
t2     mi2        0.39     0.3856  0.7895  0.5688  0.3876  chi2, F1       F1 0.3876
t2     pl7        0.43     0.2413  0.8798  0.4259  0.4259  F2, F1         F1 0.4259
t2     srp        0.68     0.8291  1.0000  1.0000  0.6751  F1             F1 0.6751
t2     ku         0.43     0.2413  0.8798  0.4259  0.4259  F2, F1         F1 0.4259
t2     honeycomb  0.62     0.6234  0.8495  0.7657  0.4274  chi2           chi2 0.6234
t2     histology  0.60     0.3969  --      0.6628  --      none           rxc 0.6628 (miss)
t2     aza        0.53     0.5289  0.7327  0.5766  0.3681  chi2           chi2 0.5289
t2     mtx        0.30     0.2972  0.4556  0.3785  0.2273  chi2           chi2 0.2972
t2     mmf        0.55     0.8297  1.0000  1.0000  0.5460  F1             F1 0.5460
t3     sex        0.62     0.8139  1.0000  1.0000  0.6176  F1             F1 0.6176
t3     race       0.49     0.2778  --      0.4902  --      rxc            rxc 0.4902
t3     smoking    1.00     0.5310  --      1.0000  --      rxc            rxc 1.0000
t3     myositis   0.50     0.5987  1.0000  1.0000  0.5000  F1             F1 0.5000
t3     ana        0.18     0.1366  0.3522  0.2682  0.1758  F1             F1 0.1758
t3     jo1        0.09     0.0628  0.1928  0.1141  0.0924  F1             F1 0.0924
t3     ssa        0.68     0.9522  1.0000  1.0000  0.6765  F1             F1 0.6765
t3     mi2        0.51     0.3522  0.9259  1.0000  0.5098  F1             F1 0.5098
t3     pl7        0.28     0.0971  0.6097  0.2778  0.2778  F2, F1         F1 0.2778
t3     srp        0.72     0.5234  1.0000  1.0000  0.7222  F1             F1 0.7222
t3     ku         0.72     0.5234  1.0000  1.0000  0.7222  F1             F1 0.7222
t3     honeycomb  0.23     0.1596  0.4392  0.2778  0.2337  F1             F1 0.2337
t3     histology  N/A      --      --      --      --      not testable   not testable
t3     aza        0.15     0.1027  0.2963  0.2489  0.1502  F1             F1 0.1502
t3     mtx        0.088    0.0597  0.1760  0.1176  0.0882  F1             F1 0.0882
t3     mmf        0.70     0.8882  1.0000  1.0000  0.7010  F1             F1 0.7010
=====  =========  =======  ======  ======  ======  ======  =============  =================

Best default rule: Fisher's exact test when any *expected* count is < 5 (the documented
"n < 5", read as expected counts), reporting Stata's one-sided Fisher p for 2 x 2 tables and
the exact two-sided Fisher-Freeman-Halton p for larger tables, Pearson chi-square without
Yates correction otherwise (``rule="expected", threshold=5, fisher_sided="one-sided",
correction=False``). It reproduces **28 of 31** printed numeric p-values (plus the "N/A" of
Table 3 histology, untestable under every rule); no other of the 48 candidates ties it (next:
27 of 31). The documented rule with two-sided Fisher reproduces 13 of 31; chi-square
everywhere 10 of 31; Yates correction never helps. A tableone-style rule (Fisher only for
small 2 x 2 tables, chi-square for every larger table; not a candidate here) reaches 27 of 31.

The three misses, and other contradictions:

* Table 2 race (0.12) and smoking (0.068) match only Pearson chi-square, although both tables
  have expected counts below 5 (min 0.85 and 1.70), like Table 2 myositis (min 1.70), whose
  0.013 matches only the exact test (chi-square gives 0.017). Smoking and myositis have the
  same smallest expected count (1.70, from a level of 4 patients), so no rule based on the
  counts alone reproduces all three: the test was evidently chosen row by row for the r x c
  rows.
* Table 2 lung histopathology (0.60) is reproduced by no test: chi-square 0.40, exact 0.66.
  No table with the printed margins (levels of 5/3/3/3 patients, 5 vs 9 per group) gives
  0.60 under either test, nor does adding the 40 patients without a biopsy as a level.
* The text's "PM vs DM ... 67% vs 35%, p = 0.013" (also in the Abstract) is not a PM-vs-DM
  test: the 2 x 2 table PM/DM (20/10 vs 7/13) gives chi-square 0.028, Yates 0.056, Fisher
  0.043 (two-sided) and 0.028 (one-sided); 0.013 is the exact test of the 3-level myositis
  row including CADM (4 vs 0), i.e. Table 2's p (:func:`pm_vs_dm_readings`).
* Every 2 x 2 row of Table 3 prints the one-sided Fisher p: anti-Jo1 "p = 0.09" ("trended
  toward statistical significance") is the one-sided p 0.092; its two-sided p is 0.114. So are
  MTX 0.088 (two-sided 0.118), AZA 0.15 (0.249), ANA 0.18 (0.268), honeycombing 0.23 (0.278),
  and every printed 0.50-0.72 is a one-sided p whose two-sided value is 1.00.
* Race, Table 1 vs Table 2: Table 1 prints Hispanic 4 and Asian 2, Table 2 prints Asian 4/0
  and Hispanic 0/2. Swapping the two labels in Table 2 makes its totals agree with Table 1;
  p = 0.12 (Pearson chi-square 0.1205) is reproduced under both readings, because a test of
  independence does not depend on the order or names of the rows: the printed p cannot
  decide between them, only the totals can, and they favour the swap
  (:func:`race_readings`).

No I/O here: the printed numbers come in as arguments (from ``data/published/numbers.csv``,
keys ``t2.<var>.<level>.resp``, ``t2.<var>.<level>.nonresp``, ``t2.<var>.p``, see
:func:`counts_from_published`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.errors import DataValidationError, ParameterError
from analysis.stats import (
    categorical_p,
    drop_empty,
    expected_counts,
    select_categorical_test,
)

__all__ = [
    "BINARY_VARIABLES",
    "CATEGORICAL_VARIABLES",
    "PAPER_GROUP_SIZES",
    "best_rule",
    "candidate_rules",
    "categorical_evidence",
    "counts_from_published",
    "evidence_table",
    "pm_vs_dm_readings",
    "printed_counts",
    "printed_decimals",
    "race_readings",
    "reproduces",
    "rule_scores",
]

#: Categorical rows of Tables 2 and 3, in the order the tables print them.
CATEGORICAL_VARIABLES: tuple[str, ...] = (
    "sex",
    "race",
    "smoking",
    "myositis",
    "ana",
    "jo1",
    "ssa",
    "mi2",
    "pl7",
    "srp",
    "ku",
    "honeycomb",
    "histology",
    "aza",
    "mtx",
    "mmf",
)

#: Rows printed as one count per group (positive / treated); the complement is negative.
BINARY_VARIABLES: frozenset[str] = frozenset(
    {"ana", "jo1", "ssa", "mi2", "pl7", "srp", "ku", "aza", "mtx", "mmf"}
)

#: Group sizes of the table headers: Table 2 "Responders, n = 31 / Nonresponders, n = 23",
#: Table 3 "Responders, n = 13 / No Response, n = 5".
PAPER_GROUP_SIZES: Mapping[str, tuple[int, int]] = {"t2": (31, 23), "t3": (13, 5)}

#: Candidate tests recorded per row, with the evidence column holding each one's p.
_TEST_COLUMNS: dict[str, str] = {
    "chi2": "p_chi2",
    "chi2_yates": "p_yates",
    "fisher_two_sided": "p_fisher_two",
    "fisher_rxc": "p_fisher_two",
    "fisher_one_sided": "p_fisher_one",
}

_NOT_APPLICABLE = frozenset({"n/a", "na", "not applicable", "-", "--", ""})
_DOCUMENTED = {"rule": "expected", "threshold": 5, "fisher_sided": "two-sided", "correction": False}


# --------------------------------------------------------------------------- printed p


def _clean_printed(printed: object) -> str:
    if printed is None or (isinstance(printed, float) and math.isnan(printed)):
        return ""
    text = str(printed).strip().lower().replace(" ", "")
    return re.sub(r"^p=", "", text)


def printed_decimals(printed: object) -> int | None:
    """Number of decimals of a printed p-value ("0.055" -> 3, "1.00" -> 2, "N/A" -> None).

    Parameters
    ----------
    printed : str
        The p-value as printed (text keeps trailing zeros; a float would lose them).

    Returns
    -------
    int or None
        Decimals after the point; ``None`` when nothing numeric was printed.

    Examples
    --------
    >>> printed_decimals("0.055"), printed_decimals("1.00"), printed_decimals("N/A")
    (3, 2, None)
    """
    text = _clean_printed(printed).lstrip("<>")
    if text in _NOT_APPLICABLE:
        return None
    if not re.fullmatch(r"\d*\.?\d+", text):
        raise DataValidationError(f"cannot read a printed p-value from {printed!r}")
    return len(text.split(".")[1]) if "." in text else 0


def reproduces(p: float, printed: object) -> bool:
    """Whether a computed p-value rounds to the printed one at the printed decimals.

    Parameters
    ----------
    p : float
        Computed p-value (``nan`` = no test).
    printed : str
        As printed: "0.055", "1.00", "<0.001", or "N/A" (then only ``nan`` reproduces it).

    Returns
    -------
    bool
        ``|p - printed| <= 0.5 * 10**-decimals`` (plus 1e-12 for binary rounding); for
        "<x", ``p < x``; for "N/A", ``p`` is ``nan``.

    Notes
    -----
    Sharma 2017, Tables 2 and 3 print p with 2 or 3 decimals; a number is reproduced within
    half a unit of its last printed digit (DESIGN, audit).

    Examples
    --------
    >>> reproduces(0.0549, "0.055"), reproduces(0.0739, "0.055"), reproduces(0.9999, "1.00")
    (True, False, True)
    >>> reproduces(float("nan"), "N/A")
    True
    """
    decimals = printed_decimals(printed)
    if decimals is None:
        return isinstance(p, float) and math.isnan(p)
    if p is None or math.isnan(p):
        return False
    text = _clean_printed(printed)
    if text.startswith("<"):
        return p < float(text[1:])
    if text.startswith(">"):
        return p > float(text[1:])
    return abs(p - float(text)) <= 0.5 * 10.0**-decimals + 1e-12


# --------------------------------------------------------------------------- inputs


def counts_from_published(values: Mapping[str, object]) -> pd.DataFrame:
    """Categorical counts and printed p-values of Tables 2 and 3 from published-number keys.

    Parameters
    ----------
    values : mapping of str to str or int
        Printed numbers keyed as in the team contract: ``t2.<var>.<level>.resp``,
        ``t2.<var>.<level>.nonresp`` for multi-level rows, ``t2.<var>.resp`` and
        ``t2.<var>.nonresp`` for positive/treated counts (serology, DMARD), ``t2.<var>.p``;
        ``t3`` likewise. Give p-values as printed text ("0.60", "N/A") so that trailing
        zeros survive. A variable without a ``.p`` key gets a missing ``printed_p`` (Table 3
        lung histopathology prints "N/A", which is not a number). Other keys (continuous
        rows, ``t1.*``, ...) are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per (table, variable, level), in the tables' printed variable order, with
        columns ``table``, ``variable``, ``level`` (missing for positive-count rows),
        ``resp``, ``nonresp`` (int) and ``printed_p`` (str, repeated on every level;
        missing when no p was printed).

    Raises
    ------
    DataValidationError
        When a count is not a whole number or one group's count of a level is missing.

    Examples
    --------
    >>> counts_from_published({"t3.jo1.resp": "6", "t3.jo1.nonresp": "0", "t3.jo1.p": "0.09"})
      table variable level  resp  nonresp printed_p
    0    t3      jo1  <NA>     6        0      0.09
    """
    cells: dict[tuple[str, str, str | None], dict[str, int]] = {}
    printed: dict[tuple[str, str], str] = {}
    for key, value in values.items():
        parts = str(key).split(".")
        if len(parts) not in (3, 4) or parts[0] not in ("t2", "t3"):
            continue
        table, variable = parts[0], parts[1]
        if variable not in CATEGORICAL_VARIABLES:
            continue
        if len(parts) == 3 and parts[2] == "p":
            printed[(table, variable)] = str(value).strip()
            continue
        group = parts[-1]
        if group not in ("resp", "nonresp"):
            continue
        level = parts[2] if len(parts) == 4 else None
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{key}: count {value!r} is not a number") from exc
        if not number.is_integer() or number < 0:
            raise DataValidationError(f"{key}: count {value!r} is not a whole number >= 0")
        cells.setdefault((table, variable, level), {})[group] = int(number)
    rows = []
    seen_levels: list[tuple[str, str, str | None]] = list(cells)
    for table in ("t2", "t3"):
        for variable in CATEGORICAL_VARIABLES:
            levels = [k for k in seen_levels if k[0] == table and k[1] == variable]
            if not levels:
                continue
            for key in levels:
                groups = cells[key]
                for group in ("resp", "nonresp"):
                    if group not in groups:
                        name = ".".join(p for p in (*key[:2], key[2], group) if p is not None)
                        raise DataValidationError(f"{name}: count is missing")
                rows.append(
                    {
                        "table": table,
                        "variable": variable,
                        "level": key[2],
                        "resp": groups["resp"],
                        "nonresp": groups["nonresp"],
                        "printed_p": printed.get((table, variable)),
                    }
                )
    frame = pd.DataFrame(
        rows, columns=["table", "variable", "level", "resp", "nonresp", "printed_p"]
    )
    return frame.astype(
        {
            "table": "string",
            "variable": "string",
            "level": "string",
            "resp": "int64",
            "nonresp": "int64",
            "printed_p": "string",
        }
    )


def printed_counts(published: pd.DataFrame) -> pd.DataFrame:
    """Categorical counts and printed p-values of Tables 2 and 3 from the published-numbers table.

    Parameters
    ----------
    published : pandas.DataFrame
        ``data/published/numbers.csv`` as loaded by :func:`analysis.published.load_published`
        (columns used: ``key``, ``printed``, and if present ``decimals``, ``source`` and
        ``status``). Rows with ``status`` "assumed" are ignored; when several rows share a
        key, the one printed in Table 2 or 3 wins. Not mutated.

    Returns
    -------
    pandas.DataFrame
        As :func:`counts_from_published`.

    Examples
    --------
    >>> published = pd.DataFrame({"key": ["t3.jo1.resp", "t3.jo1.nonresp", "t3.jo1.p"],
    ...                           "printed": ["6", "0", "0.09"], "decimals": [0, 0, 2]})
    >>> printed_counts(published)[["variable", "resp", "nonresp", "printed_p"]]
      variable  resp  nonresp printed_p
    0      jo1     6        0      0.09
    """
    for column in ("key", "printed"):
        if column not in published.columns:
            raise DataValidationError(f"published numbers lack the column {column!r}")
    frame = published
    if "status" in frame.columns:
        frame = frame[frame["status"].astype(str) != "assumed"]
    if "source" in frame.columns:
        in_table = frame["source"].astype(str).isin(["Table 2", "Table 3"])
        frame = pd.concat([frame[in_table], frame[~in_table]])
    values: dict[str, object] = {}
    has_decimals = "decimals" in frame.columns
    for _, row in frame.iterrows():
        key = str(row["key"])
        if key in values or not key.startswith(("t2.", "t3.")):
            continue
        text = str(row["printed"]).strip()
        if key.endswith(".p") and has_decimals and not pd.isna(row["decimals"]):
            # A printed "0.60" read as a number loses its trailing zero: restore it.
            decimals = int(row["decimals"])
            try:
                if printed_decimals(text) not in (None, decimals):
                    text = f"{float(text):.{decimals}f}"
            except DataValidationError:
                pass
        values[key] = text
    return counts_from_published(values)


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


def _evidence_row(
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
        matches = [t for t in candidates if reproduces(p[_TEST_COLUMNS[t]], printed)]
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


_EVIDENCE_COLUMNS = [
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
    counts: pd.DataFrame, group_sizes: Mapping[str, tuple[int, int]] = PAPER_GROUP_SIZES
) -> pd.DataFrame:
    """Every candidate test's p-value for every printed categorical row of Tables 2 and 3.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per (table, variable, level), as from :func:`counts_from_published`:
        ``table`` ("t2"/"t3"), ``variable``, ``level`` (missing for a positive-count row,
        whose negatives are the group size minus it), ``resp``, ``nonresp`` and
        ``printed_p`` (the printed text; the first non-missing value of a variable is
        used). Rows of variables not in :data:`CATEGORICAL_VARIABLES` are ignored. Not
        mutated.
    group_sizes : mapping of str to (int, int), default :data:`PAPER_GROUP_SIZES`
        Responders and nonresponders per table, for the positive-count rows.

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
    keep = counts[counts["variable"].isin(CATEGORICAL_VARIABLES)]
    out = []
    order = list(dict.fromkeys(zip(keep["table"], keep["variable"], strict=True)))
    for table, variable in order:
        rows = keep[(keep["table"] == table) & (keep["variable"] == variable)]
        printed_values = [v for v in rows["printed_p"] if not pd.isna(v)]
        printed = str(printed_values[0]).strip() if printed_values else ""
        levels, matrix = _table_for(rows, str(table), str(variable), group_sizes)
        out.append(_evidence_row(str(table), str(variable), levels, matrix, printed))
    return pd.DataFrame(out, columns=_EVIDENCE_COLUMNS)


# --------------------------------------------------------------------------- rules


def candidate_rules() -> list[dict[str, Any]]:
    """The selection rules scored by :func:`rule_scores`, in tie-break preference order.

    Rules: "expected" and "observed" with thresholds 5, 4, 3, 2, 1, then "never" and
    "always"; each with two- then one-sided Fisher, and without then with Yates. The
    documented reading (Fisher when an expected count < 5, two-sided, no correction) comes
    first, so it wins every tie it is part of.

    Returns
    -------
    list of dict
        Keys ``rule``, ``threshold`` (``None`` for never/always), ``fisher_sided``,
        ``correction``.

    Examples
    --------
    >>> rules = candidate_rules()
    >>> len(rules), rules[0]
    (48, {'rule': 'expected', 'threshold': 5, 'fisher_sided': 'two-sided', 'correction': False})
    """
    bases: list[tuple[str, int | None]] = [("expected", t) for t in (5, 4, 3, 2, 1)]
    bases += [("observed", t) for t in (5, 4, 3, 2, 1)]
    bases += [("never", None), ("always", None)]
    out = []
    for rule, threshold in bases:
        for correction in (False, True):
            for sided in ("two-sided", "one-sided"):
                out.append(
                    {
                        "rule": rule,
                        "threshold": threshold,
                        "fisher_sided": sided,
                        "correction": correction,
                    }
                )
    return out


def _chosen(evidence_row: pd.Series, spec: Mapping[str, Any]) -> tuple[str, float]:
    threshold = spec.get("threshold")
    test = select_categorical_test(
        evidence_row["counts"],
        rule=spec["rule"],
        threshold=5 if threshold is None else threshold,
        fisher_sided=spec["fisher_sided"],
        correction=bool(spec["correction"]),
    )
    p = math.nan if test == "not_testable" else float(evidence_row[_TEST_COLUMNS[test]])
    return test, p


def _is_numeric_printed(printed: object) -> bool:
    return printed_decimals(printed) is not None


def rule_scores(
    evidence: pd.DataFrame, rules: Iterable[Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """Score selection rules by how many printed numeric p-values they reproduce.

    Parameters
    ----------
    evidence : pandas.DataFrame
        Output of :func:`categorical_evidence`.
    rules : iterable of dict, optional
        Rules to score (keys as in :func:`candidate_rules`); default all candidates.

    Returns
    -------
    pandas.DataFrame
        One row per rule, best first (score descending, then the candidate order of
        :func:`candidate_rules`), columns ``rule``, ``threshold``, ``fisher_sided``,
        ``correction``, ``score`` (reproduced printed numeric p-values), ``n`` (printed
        numeric p-values), ``missed`` (comma list of "table.variable" not reproduced).

    Notes
    -----
    Rows printed "N/A" are not scored (every rule leaves an untestable table untested).
    """
    specs = list(candidate_rules() if rules is None else rules)
    scored = evidence[[_is_numeric_printed(p) for p in evidence["printed_p"]]]
    out = []
    for rank, spec in enumerate(specs):
        missed = []
        for _, row in scored.iterrows():
            _, p = _chosen(row, spec)
            if not reproduces(p, row["printed_p"]):
                missed.append(f"{row['table']}.{row['variable']}")
        out.append(
            {
                "rule": spec["rule"],
                "threshold": spec.get("threshold"),
                "fisher_sided": spec["fisher_sided"],
                "correction": bool(spec["correction"]),
                "score": len(scored) - len(missed),
                "n": len(scored),
                "missed": ", ".join(missed),
                "_rank": rank,
            }
        )
    frame = pd.DataFrame(out)
    frame = frame.sort_values(["score", "_rank"], ascending=[False, True], kind="stable")
    frame["threshold"] = frame["threshold"].astype("Int64")
    return frame.drop(columns="_rank").reset_index(drop=True)


def best_rule(evidence: pd.DataFrame) -> dict[str, Any]:
    """The candidate selection rule that reproduces the most printed categorical p-values.

    Parameters
    ----------
    evidence : pandas.DataFrame
        Output of :func:`categorical_evidence`.

    Returns
    -------
    dict
        ``rule``, ``threshold`` (int or None), ``fisher_sided``, ``correction`` (the
        arguments of :func:`analysis.stats.choose_categorical_test`), ``score`` and ``n``
        (x of N printed numeric p-values reproduced), ``missed`` (list of "table.variable"),
        ``tied`` (how many other candidates reach the same score) and ``documented`` (whether
        it is the plain documented reading, expected < 5, two-sided Fisher, no Yates).

    Notes
    -----
    Ties go to the earlier rule of :func:`candidate_rules`: the documented "Fisher when an
    expected count < 5", no Yates correction (Stata never applies it), two-sided Fisher,
    then thresholds closer to 5. On the paper's printed counts the best rule is
    expected < 5 with one-sided Fisher, 28 of 31 (module docstring).
    """
    scores = rule_scores(evidence)
    top = scores.iloc[0]
    threshold = None if pd.isna(top["threshold"]) else int(top["threshold"])
    spec = {
        "rule": str(top["rule"]),
        "threshold": threshold,
        "fisher_sided": str(top["fisher_sided"]),
        "correction": bool(top["correction"]),
    }
    return {
        **spec,
        "score": int(top["score"]),
        "n": int(top["n"]),
        "missed": [m for m in str(top["missed"]).split(", ") if m],
        "tied": int((scores["score"] == top["score"]).sum()) - 1,
        "documented": spec == _DOCUMENTED,
    }


def _rule_spec(rule: object, evidence: pd.DataFrame) -> dict[str, Any]:
    """A selection rule as a dict, from a dict, an ``analysis.params.Params`` or None (best)."""
    if rule is None:
        best = best_rule(evidence)
        return {k: best[k] for k in ("rule", "threshold", "fisher_sided", "correction")}
    if isinstance(rule, Mapping):
        missing = {"rule", "fisher_sided", "correction"} - set(rule)
        if missing:
            raise ParameterError(
                f"a selection rule needs the keys rule, threshold, fisher_sided, correction; "
                f"missing {', '.join(sorted(missing))}"
            )
        return {
            "rule": rule["rule"],
            "threshold": rule.get("threshold"),
            "fisher_sided": rule["fisher_sided"],
            "correction": bool(rule["correction"]),
        }
    try:
        return {
            "rule": rule.fisher_rule,
            "threshold": rule.fisher_threshold,
            "fisher_sided": rule.fisher_sided,
            "correction": bool(rule.chi2_correction),
        }
    except AttributeError as exc:
        raise ParameterError(
            "rule must be a dict (rule, threshold, fisher_sided, correction), a Params with "
            f"fisher_rule, fisher_threshold, fisher_sided, chi2_correction, or None; got {rule!r}"
        ) from exc


def evidence_table(evidence: pd.DataFrame, rule: object = None) -> pd.DataFrame:
    """Tidy methods-audit table: each printed p, every candidate test, and the rule's choice.

    Parameters
    ----------
    evidence : pandas.DataFrame
        Output of :func:`categorical_evidence`, or its input (a counts frame as from
        :func:`printed_counts`), which is then passed through it first.
    rule : dict or analysis.params.Params, optional
        Selection rule: a dict with keys ``rule``, ``threshold``, ``fisher_sided``,
        ``correction``, or a ``Params`` (fields ``fisher_rule``, ``fisher_threshold``,
        ``fisher_sided``, ``chi2_correction``); default :func:`best_rule` of ``evidence``.

    Returns
    -------
    pandas.DataFrame
        One row per printed row, columns ``table``, ``variable``, ``printed_p``,
        ``p_chi2``, ``p_yates``, ``p_fisher_two``, ``p_fisher_one``, ``matches`` (comma
        list of test ids), ``chosen_test`` (test id the rule applies), ``chosen_p``,
        ``reproduced`` (bool: chosen_p rounds to printed_p), ``two_sided_p`` (the same rule
        with two-sided Fisher: the recommended value to report beside the paper's).

    Notes
    -----
    Sharma 2017, Statistical analysis; Tables 2 and 3 (methods-audit appendix of the
    report).

    Examples
    --------
    >>> counts = pd.DataFrame({"table": ["t3"], "variable": ["jo1"], "level": [None],
    ...                        "resp": [6], "nonresp": [0], "printed_p": ["0.09"]})
    >>> row = evidence_table(counts).iloc[0]
    >>> row["chosen_test"], round(float(row["chosen_p"]), 4), round(float(row["two_sided_p"]), 4)
    ('fisher_one_sided', 0.0924, 0.1141)
    """
    if "counts" not in evidence.columns and {"resp", "nonresp"} <= set(evidence.columns):
        evidence = categorical_evidence(evidence)
    spec = _rule_spec(rule, evidence)
    two_sided = {**spec, "fisher_sided": "two-sided"}
    # Rows where the run declares its own test (Params.categorical_tests) keep that test.
    declared = getattr(rule, "categorical_tests", {}) or {}
    column_of = {"chi2": "p_chi2", "chi2_yates": "p_yates", "fisher_two_sided": "p_fisher_two",
                 "fisher_rxc": "p_fisher_two", "fisher_one_sided": "p_fisher_one"}
    rows = []
    for _, row in evidence.iterrows():
        test, p = _chosen(row, spec)
        _, p_two = _chosen(row, two_sided)
        own = declared.get(f"{row['table']}.{row['variable']}", "rule")
        if own != "rule":
            test, p = own, row[column_of[own]]
        rows.append(
            {
                "table": row["table"],
                "variable": row["variable"],
                "printed_p": row["printed_p"],
                "p_chi2": row["p_chi2"],
                "p_yates": row["p_yates"],
                "p_fisher_two": row["p_fisher_two"],
                "p_fisher_one": row["p_fisher_one"],
                "matches": row["matches"],
                "chosen_test": test,
                "chosen_p": p,
                "reproduced": reproduces(p, row["printed_p"]),
                "two_sided_p": p_two,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "table",
            "variable",
            "printed_p",
            "p_chi2",
            "p_yates",
            "p_fisher_two",
            "p_fisher_one",
            "matches",
            "chosen_test",
            "chosen_p",
            "reproduced",
            "two_sided_p",
        ],
    )


# --------------------------------------------------------------------------- special readings


def _levels_matrix(counts: pd.DataFrame, table: str, variable: str) -> dict[str, list[int]]:
    rows = counts[(counts["table"] == table) & (counts["variable"] == variable)]
    if rows.empty:
        raise DataValidationError(f"counts has no rows for {table}.{variable}")
    return {
        str(level): [int(r), int(nr)]
        for level, r, nr in zip(rows["level"], rows["resp"], rows["nonresp"], strict=True)
    }


def _reading(label: str, matrix: Sequence[Sequence[int]], printed: str) -> dict[str, Any]:
    row = _evidence_row("", "", [], matrix, printed)
    return {
        "reading": label,
        "counts": row["counts"],
        "shape": row["shape"],
        "printed_p": printed,
        "p_chi2": row["p_chi2"],
        "p_yates": row["p_yates"],
        "p_fisher_two": row["p_fisher_two"],
        "p_fisher_one": row["p_fisher_one"],
        "matches": row["matches"],
    }


_READING_COLUMNS = [
    "reading",
    "counts",
    "shape",
    "printed_p",
    "p_chi2",
    "p_yates",
    "p_fisher_two",
    "p_fisher_one",
    "matches",
]


def pm_vs_dm_readings(counts: pd.DataFrame, printed_p: str, table: str = "t2") -> pd.DataFrame:
    """Which table gives the text's "PM vs DM, p = 0.013": PM/DM only, or PM/DM/CADM?

    Parameters
    ----------
    counts : pandas.DataFrame
        As for :func:`categorical_evidence`; needs the ``myositis`` levels ``pm``, ``dm``
        and ``cadm`` of ``table``.
    printed_p : str
        The printed p of the comparison (key ``conv.pm_vs_dm.p``; "0.013").
    table : str, default "t2"

    Returns
    -------
    pandas.DataFrame
        Two rows, ``reading`` "pm_vs_dm_2x2" and "myositis_3x2_with_cadm", with the columns
        ``counts``, ``shape``, ``printed_p``, ``p_chi2``, ``p_yates``, ``p_fisher_two``,
        ``p_fisher_one``, ``matches`` as in :func:`categorical_evidence`.

    Notes
    -----
    Sharma 2017, Results, Response to conventional treatment, and Abstract ("67% vs 35%,
    p = 0.013"); Table 2, myositis. On the printed counts only the 3 x 2 exact test gives
    0.013.
    """
    levels = _levels_matrix(counts, table, "myositis")
    try:
        pm, dm, cadm = levels["pm"], levels["dm"], levels["cadm"]
    except KeyError as exc:
        raise DataValidationError(
            f"{table}.myositis needs levels pm, dm and cadm; has {', '.join(levels)}"
        ) from exc
    return pd.DataFrame(
        [
            _reading("pm_vs_dm_2x2", [pm, dm], printed_p),
            _reading("myositis_3x2_with_cadm", [pm, dm, cadm], printed_p),
        ],
        columns=_READING_COLUMNS,
    )


def race_readings(
    counts: pd.DataFrame,
    table: str = "t2",
    table1_totals: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Race row as printed vs with the Asian and Hispanic labels swapped.

    Parameters
    ----------
    counts : pandas.DataFrame
        As for :func:`categorical_evidence`; needs the ``race`` levels of ``table``
        (``black``, ``white``, ``asian``, ``hispanic``) and its printed p.
    table : str, default "t2"
    table1_totals : mapping of level to int, optional
        Table 1 race counts (keys ``t1.race.<level>.n``: Black 26, White 22, Hispanic 4,
        Asian 2); when given, ``totals_agree_with_table1`` says whether each reading's
        level totals (resp + nonresp) equal them.

    Returns
    -------
    pandas.DataFrame
        Rows ``reading`` "as_printed" and "asian_hispanic_swapped", columns as in
        :func:`pm_vs_dm_readings` plus ``totals_agree_with_table1`` (bool or missing).

    Notes
    -----
    Sharma 2017, Table 1 vs Table 2, race. A test of independence does not depend on the
    order or the names of the rows, so both readings give the same p-values: the printed
    p = 0.12 cannot decide between them; only the totals can.
    """
    levels = _levels_matrix(counts, table, "race")
    rows = counts[(counts["table"] == table) & (counts["variable"] == "race")]
    printed = str(next((v for v in rows["printed_p"] if not pd.isna(v)), ""))
    if "asian" not in levels or "hispanic" not in levels:
        raise DataValidationError(
            f"{table}.race needs levels asian and hispanic; has {', '.join(levels)}"
        )
    swapped = dict(levels)
    swapped["asian"], swapped["hispanic"] = levels["hispanic"], levels["asian"]
    out = []
    for label, mapping in (("as_printed", levels), ("asian_hispanic_swapped", swapped)):
        names = list(mapping)
        reading = _reading(label, [mapping[k] for k in names], printed)
        if table1_totals is None:
            reading["totals_agree_with_table1"] = pd.NA
        else:
            reading["totals_agree_with_table1"] = all(
                sum(mapping[k]) == int(table1_totals.get(k, -1)) for k in names
            )
        out.append(reading)
    return pd.DataFrame(out, columns=[*_READING_COLUMNS, "totals_agree_with_table1"])
