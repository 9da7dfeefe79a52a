"""Printed counts and p-values of the categorical rows of Tables 2 and 3, as count matrices.

Sharma 2017, Tables 2 and 3. The printed numbers come from ``data/published/numbers.csv``
(keys ``t2.<var>.<level>.resp``, ``t2.<var>.<level>.nonresp``, ``t2.<var>.resp``,
``t2.<var>.p``; ``t3`` likewise); no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis import printed as printed_number
from analysis.errors import DataValidationError
from analysis.paper.rows import COMPARED, COUNTED

__all__ = ["counts_from_published", "printed_counts"]


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
    cells, printed = _read_keys(values)
    rows = []
    for table in COMPARED:
        for variable in COUNTED:
            for key in (k for k in cells if k[0] == table and k[1] == variable):
                groups = cells[key]
                for group in ("resp", "nonresp"):
                    if group not in groups:
                        name = ".".join(p for p in (*key[:2], key[2], group) if p is not None)
                        raise DataValidationError(f"{name}: count is missing")
                rows.append({"table": table, "variable": variable, "level": key[2],
                             "resp": groups["resp"], "nonresp": groups["nonresp"],
                             "printed_p": printed.get((table, variable))})
    frame = pd.DataFrame(rows, columns=list(_COUNT_COLUMNS))
    return frame.astype(_COUNT_COLUMNS)


#: Columns of :func:`counts_from_published` and their dtypes.
_COUNT_COLUMNS = {"table": "string", "variable": "string", "level": "string", "resp": "int64",
                  "nonresp": "int64", "printed_p": "string"}


def _read_keys(values: Mapping[str, object]
               ) -> tuple[dict[tuple[str, str, str | None], dict[str, int]],
                          dict[tuple[str, str], str]]:
    """Counts by (table, variable, level) and group, and printed p text by (table, variable),
    from the categorical keys of ``values`` (other keys ignored)."""
    cells: dict[tuple[str, str, str | None], dict[str, int]] = {}
    printed: dict[tuple[str, str], str] = {}
    for key, value in values.items():
        parts = str(key).split(".")
        if (len(parts) not in (3, 4) or parts[0] not in COMPARED
                or parts[1] not in COUNTED):
            continue
        table, variable = parts[0], parts[1]
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
    return cells, printed


def printed_counts(published: pd.DataFrame) -> pd.DataFrame:
    """Categorical counts and printed p-values of Tables 2 and 3 from the published-numbers table.

    Parameters
    ----------
    published : pandas.DataFrame
        ``data/published/numbers.csv`` as loaded by :func:`analysis.published.load_published`
        (columns used: ``key``, ``printed``, and if present ``value`` (counts as already
        read), ``decimals``, ``source`` and ``status``). Rows with ``status`` "assumed" are
        ignored; when several rows share a key, the one printed in Table 2 or 3 wins. Not
        mutated.

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
    for row in frame.to_dict("records"):
        key = str(row["key"])
        if key in values or not key.startswith(("t2.", "t3.")):
            continue
        values[key] = _printed_cell(key, row)
    return counts_from_published(values)


def _printed_cell(key: str, row: Mapping[str, object]) -> object:
    """A count as the number ``load_published`` already read (column ``value``), a p-value as
    its printed text, its trailing zeros restored from ``decimals`` ("0.6" -> "0.60")."""
    text = str(row["printed"]).strip()
    if not key.endswith(".p"):
        return row["value"] if "value" in row and not pd.isna(row["value"]) else text
    decimals = row.get("decimals")
    if decimals is None or pd.isna(decimals):
        return text
    try:
        parsed = printed_number.parse_p(text)
    except ValueError:
        return text
    if parsed is None or parsed.decimals == int(decimals) or parsed.relation != "=":
        return text
    return printed_number.format_at(parsed.value, int(decimals))
