"""Two readings the printed numbers leave open: which table gives "PM vs DM, p = 0.013", and
whether Table 2's Asian and Hispanic labels are swapped (Sharma 2017; findings in
:mod:`analysis.audit`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.audit.evidence import evidence_row
from analysis.errors import DataValidationError

__all__ = ["pm_vs_dm_readings", "race_readings"]

def _levels_matrix(counts: pd.DataFrame, table: str, variable: str) -> dict[str, list[int]]:
    rows = counts[(counts["table"] == table) & (counts["variable"] == variable)]
    if rows.empty:
        raise DataValidationError(f"counts has no rows for {table}.{variable}")
    return {
        str(level): [int(r), int(nr)]
        for level, r, nr in zip(rows["level"], rows["resp"], rows["nonresp"], strict=True)
    }


def _reading(label: str, matrix: Sequence[Sequence[int]], printed: str) -> dict[str, Any]:
    row = evidence_row("", "", [], matrix, printed)
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
