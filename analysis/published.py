"""Every number printed in Sharma 2017, as data, and its comparison with reproduced results.

``data/published/numbers.csv`` holds one row per number printed in the paper (Abstract, Results,
Discussion, Tables 1-3, Figure 1 and the dose paragraphs), plus a few ``assumed`` rows for splits
the paper does not print (the 13 exclusions of Figure 1, the 5 failures outside the tacrolimus
analysis). Each row names the computed quantity it corresponds to by a ``key`` (several printed
occurrences can share a key) and says whether the paper contradicts itself there.

This module reads and validates that table (:func:`load_published`, row rules in
:data:`ROW_RULES`) and builds the reproduction table of a run (:func:`compare`,
:func:`summary_line`). Whether a reproduced number equals a printed one at the printed precision
is decided in :func:`analysis.printed.matches`; whether a printed number can hold at all is
decided by the checks of :mod:`analysis.consistency`, never by the typed ``consistency`` and
``reason`` columns (the curator's commentary, shown beside the status).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import paths, printed
from analysis.consistency import row_verdicts
from analysis.consistency.core import IMPOSSIBLE, IMPOSSIBLE_IF, NEEDS_OTHER_N
from analysis.errors import DataValidationError, ParameterError
from analysis.paper.rows import TABLES
from analysis.printed import format_at, matches

__all__ = [
    "COLUMNS",
    "COMPARISON_COLUMNS",
    "CONSISTENCY",
    "KINDS",
    "RELATIONS",
    "ROW_STATUS",
    "STATUSES",
    "ROW_RULES",
    "RowRule",
    "compare",
    "default_path",
    "load_published",
    "printed_group_sizes",
    "summary_line",
]

#: Columns of ``numbers.csv``, in file order.
COLUMNS = (
    "id",
    "key",
    "source",
    "row_label",
    "column",
    "kind",
    "printed",
    "value",
    "relation",
    "decimals",
    "status",
    "consistency",
    "reason",
    "note",
    "location",
)
#: What a printed number is.
KINDS = frozenset({"count", "percent", "mean", "sd", "p", "pct_change", "dose"})
#: ``=``: the printed number is a rounded value; ``<``: printed as an upper bound ("<0.001").
#: (:mod:`analysis.printed` also reads ``>``, which the paper never prints.)
RELATIONS = frozenset({"=", "<"})
#: ``printed`` in the paper, or ``assumed`` by us where the paper is silent.
ROW_STATUS = frozenset({"printed", "assumed"})
#: The curator's typed reading (commentary only: it never decides a comparison status).
CONSISTENCY = frozenset({"ok", "inconsistent"})
#: Outcome of one comparison row: ``inconsistent`` only when a named check of
#: :mod:`analysis.consistency` proves the printed value cannot hold.
STATUSES = ("match", "mismatch", "inconsistent", "not-computed")
#: Columns of the frame :func:`compare` returns.
COMPARISON_COLUMNS = (
    "id",
    "key",
    "source",
    "row_label",
    "column",
    "printed",
    "decimals",
    "reproduced",
    "reproduced_text",
    "status",
    "reason",
    "verdict",
    "condition",
    "check",
    "evidence",
    "curator_note",
    "location",
)

_NAME = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")


def default_path() -> Path:
    """Path of the project's ``data/published/numbers.csv`` (:data:`analysis.paths.NUMBERS`).

    Returns
    -------
    pathlib.Path
        ``<repository>/data/published/numbers.csv``.

    Examples
    --------
    >>> default_path().parts[-3:]
    ('data', 'published', 'numbers.csv')
    """
    return paths.NUMBERS


# --------------------------------------------------------------------------- row rules
# A small declarative table of row rules rather than a pandera schema: several rules compare
# columns of one row (``printed`` against ``value``, ``decimals`` and ``relation``), and
# pandera reports such dataframe-wide checks without a column and with a fixed message, while
# each message here names the column and the offending values.


@dataclass(frozen=True)
class RowRule:
    """One rule every row of ``numbers.csv`` obeys.

    Attributes
    ----------
    column : str
        The column a violation is reported in.
    message : str
        What is wrong, formatted with the row's cells (``{value!r}``) and the parsed fields
        ``_value`` (float), ``_decimals`` (int) and ``_printed``
        (:class:`analysis.printed.Printed`).
    holds : callable
        ``holds(row) -> bool`` on the parsed row.
    needs : tuple of str
        Parsed fields the rule needs (``"_value"``, ``"_decimals"``, ``"_printed"``); the rule
        is skipped when one of them could not be parsed (that is reported once, by its own
        rule).
    """

    column: str
    message: str
    holds: Callable[[Mapping[str, Any]], bool]
    needs: tuple[str, ...] = ()


def _one_of(column: str, allowed: frozenset[str]) -> RowRule:
    return RowRule(column, f"must be one of {sorted(allowed)}, got {{{column}!r}}",
                   lambda r: r[column] in allowed)


def _kind_rule(kind: str, message: str, holds: Callable[[float], bool]) -> RowRule:
    return RowRule("value", message, lambda r: r["kind"] != kind or holds(r["_value"]),
                   needs=("_value", "_printed"))


def _agrees_with_printed(row: Mapping[str, Any]) -> bool:
    value = abs(row["_value"]) if row["kind"] == "pct_change" else row["_value"]
    return math.isclose(value, row["_printed"].value, rel_tol=0, abs_tol=1e-9)


#: The rules of a row of ``numbers.csv``, checked in this order (see :func:`load_published`).
ROW_RULES: tuple[RowRule, ...] = (
    RowRule("id", "must be lower-case dot-separated names, got {id!r}",
            lambda r: bool(_NAME.fullmatch(r["id"]))),
    RowRule("key", "must be lower-case dot-separated names, got {key!r}",
            lambda r: bool(_NAME.fullmatch(r["key"]))),
    *(RowRule(c, "must not be empty", lambda r, c=c: bool(r[c].strip()))
      for c in ("source", "row_label", "printed", "location")),
    _one_of("kind", KINDS),
    _one_of("relation", RELATIONS),
    _one_of("status", ROW_STATUS),
    _one_of("consistency", CONSISTENCY),
    RowRule("reason", "an inconsistent row must give its evidence",
            lambda r: r["consistency"] != "inconsistent" or bool(r["reason"].strip())),
    RowRule("reason", "only inconsistent rows carry a reason (use note)",
            lambda r: r["consistency"] != "ok" or not r["reason"].strip()),
    RowRule("value", "must be a number, got {value!r}", lambda r: r["_value"] is not None),
    RowRule("value", "must be finite, got {value!r}",
            lambda r: not math.isinf(r["_value"]), needs=("_value",)),
    RowRule("decimals", "must be an integer >= 0, got {decimals!r}",
            lambda r: r["_decimals"] is not None),
    RowRule("printed", "{_parse_error}", lambda r: r["_printed"] is not None),
    RowRule("decimals", "is {_decimals} but {printed!r} has {_printed.decimals} decimals",
            lambda r: r["_decimals"] == r["_printed"].decimals, needs=("_decimals", "_printed")),
    RowRule("relation", "is {relation!r} but printed {printed!r}",
            lambda r: r["relation"] not in RELATIONS or r["relation"] == r["_printed"].relation,
            needs=("_printed",)),
    RowRule("value", "{_value!r} is not the printed {printed!r}", _agrees_with_printed,
            needs=("_value", "_printed")),
    RowRule("value", "a count is a whole number >= 0",
            lambda r: r["kind"] != "count" or (r["_value"] >= 0 and r["_printed"].decimals == 0),
            needs=("_value", "_printed")),
    _kind_rule("percent", "a percent lies in [0, 100]", lambda v: 0 <= v <= 100),
    _kind_rule("p", "a p-value lies in [0, 1]", lambda v: 0 <= v <= 1),
    _kind_rule("sd", "a sd is >= 0", lambda v: v >= 0),
    _kind_rule("dose", "a dose is >= 0", lambda v: v >= 0),
)


def _parsed_row(row: Mapping[str, str]) -> dict[str, Any]:
    """The raw cells plus ``_value``, ``_decimals``, ``_printed`` (None where unparsable)."""
    out: dict[str, Any] = dict(row)
    try:
        value = float(row["value"])
    except ValueError:
        value = math.nan
    out["_value"] = None if math.isnan(value) else value
    out["_decimals"] = int(row["decimals"]) if re.fullmatch(r"\d+", row["decimals"]) else None
    try:
        out["_printed"], out["_parse_error"] = printed.parse(row["printed"]), ""
    except ValueError as exc:
        out["_printed"], out["_parse_error"] = None, str(exc)
    return out


def _check_row(row: Mapping[str, str]) -> list[tuple[str, str]]:
    """Violations of :data:`ROW_RULES` by one raw row, as (column, message) pairs."""
    parsed = _parsed_row(row)
    return [(rule.column, rule.message.format_map(parsed)) for rule in ROW_RULES
            if all(parsed[n] is not None for n in rule.needs) and not rule.holds(parsed)]


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the table of published numbers.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        The CSV; default :func:`default_path` (``data/published/numbers.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per printed (or assumed) number, columns as in :data:`COLUMNS`:
        ``id`` (unique), ``key`` (computed quantity; shared by repeated printings), ``source``
        (e.g. "Table 2", "Abstract", "Results: Use of tacrolimus in refractory MA-ILD"),
        ``row_label`` and ``column`` (as printed), ``kind`` (one of :data:`KINDS`),
        ``printed`` (exact text, e.g. "<0.001", "Thirty-one"), ``value`` (float64; signed for
        ``pct_change``: a printed "37% decrease" is -37), ``relation`` ("=" or "<"),
        ``decimals`` (int64, as printed), ``status`` ("printed" or "assumed"),
        ``consistency`` ("ok" or "inconsistent"), ``reason`` (evidence when inconsistent, else
        ""), ``note``, ``location`` (where in the paper the number is printed: section,
        paragraph and sentence, or table, row and column; for an assumed row, that it is not
        printed). Text columns have pandas' string dtype, empty cells are "".

    Raises
    ------
    analysis.errors.DataValidationError
        If the file is missing, its columns differ from :data:`COLUMNS`, or any row breaks a
        rule; the message names the file, line, column and rule of every problem.

    Notes
    -----
    Rules: ids and keys are lower-case dot-separated names and ids are unique; ``kind``,
    ``relation``, ``status`` and ``consistency`` take their listed values; ``printed`` parses
    (see :func:`analysis.printed.parse`) and agrees with ``value``, ``decimals`` and
    ``relation``; counts are whole, percents in [0, 100], p-values in [0, 1]; inconsistent rows
    give a reason and only they do (the table :data:`ROW_RULES`).

    Examples
    --------
    >>> published = load_published()
    >>> bool(published["id"].is_unique)
    True
    >>> row = published.set_index("id").loc["t2.myositis.p"]
    >>> row["printed"], int(row["decimals"]), row["key"]
    ('0.013', 3, 't2.myositis.p')
    """
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    extra = [c for c in raw.columns if c not in COLUMNS]
    if missing or extra:
        raise DataValidationError(
            f"{path}, line 1 (header): columns must be {list(COLUMNS)}; "
            f"missing {missing}, unexpected {extra}"
        )
    if raw.empty:
        raise DataValidationError(f"{path}: no rows")

    problems: list[str] = []
    first_line: dict[str, int] = {}
    for index, row in enumerate(raw.to_dict("records")):
        line = index + 2  # line 1 is the header
        where = f"{path}, line {line} (id {row['id']!r})"
        for column, rule in _check_row(row):
            problems.append(f"{where}, column '{column}': {rule}")
        if row["id"] in first_line:
            problems.append(
                f"{where}, column 'id': ids must be unique; "
                f"already used on line {first_line[row['id']]}"
            )
        first_line.setdefault(row["id"], line)
    if problems:
        raise DataValidationError("\n".join(problems))

    frame = raw.loc[:, list(COLUMNS)].copy()
    frame["value"] = frame["value"].astype("float64")
    frame["decimals"] = frame["decimals"].astype("int64")
    return frame


def printed_group_sizes(published: pd.DataFrame | None = None) -> dict[str, tuple[int, int]]:
    """The group sizes the column headers of Tables 2 and 3 print, read from the published
    numbers at the ids :data:`analysis.paper.rows.TABLES` declares.

    Parameters
    ----------
    published : pandas.DataFrame, optional
        :func:`load_published`'s frame (columns ``id`` and ``value`` used); default the
        project's ``data/published/numbers.csv``.

    Returns
    -------
    dict
        Table key ("t2", "t3") -> (responders, the others), e.g. Table 2's "Responders,
        n = 31 / Nonresponders, n = 23".

    Raises
    ------
    analysis.errors.DataValidationError
        When a header's id is missing or its value is not a whole number.

    Examples
    --------
    >>> printed_group_sizes()
    {'t2': (31, 23), 't3': (13, 5)}
    """
    if published is None:
        published = load_published()
    values = dict(zip(published["id"], published["value"], strict=True))
    out = {}
    for table in TABLES:
        if table.sizes is None:
            continue
        sizes = []
        for ident in table.sizes:
            value = values.get(ident)
            if value is None or pd.isna(value) or float(value) != int(float(value)):
                raise DataValidationError(
                    f"published numbers: row with id {ident!r} (column 'value') must hold "
                    f"{table.name}'s printed group size, a whole number; got {value!r}")
            sizes.append(int(float(value)))
        out[table.key] = (sizes[0], sizes[1])
    return out


def compare(
    published: pd.DataFrame, results: Mapping[str, float], checks: pd.DataFrame
) -> pd.DataFrame:
    """Compare reproduced numbers with the published ones, row by printed number.

    Parameters
    ----------
    published : pandas.DataFrame
        As returned by :func:`load_published` (not modified).
    results : mapping of str to float
        Reproduced numbers by key (``results.json`` of a run). Keys absent from ``published``
        are ignored; a missing key or a NaN value means "not computed".
    checks : pandas.DataFrame
        The verdicts of the consistency checks on the same ``published``
        (:func:`analysis.consistency.verdicts`: one row per printed number and check).

    Returns
    -------
    pandas.DataFrame
        One row per row of ``published``, in its order, with columns :data:`COMPARISON_COLUMNS`:
        ``id``, ``key``, ``source``, ``row_label``, ``column``, ``printed``, ``decimals``;
        ``reproduced`` (float64, NaN if not computed); ``reproduced_text`` (rounded half away
        from zero at the printed decimals; for a printed bound such as "<0.001", the bound
        itself when the reproduced number is below it; "" if not computed); ``status``, one of
        :data:`STATUSES`; ``reason`` (printed and reproduced values when they differ; a remark
        when a match is a printing that a check proves impossible or cannot decide);
        ``verdict`` (the class of the checks' verdict on the printed number,
        :func:`analysis.consistency.row_verdicts`: one of
        :data:`analysis.consistency.core.CLASSES`, or "" when no check covers it, e.g. an
        assumed row); ``condition`` (what that verdict rests on beyond the printed numbers:
        the assumptions of a proof, the n a *possible only if* needs; "" for none);
        ``check`` and ``evidence`` (the deciding check and its evidence sentence when the
        verdict is not "consistent", else ""); ``curator_note`` (the typed ``reason`` of
        ``numbers.csv`` for a row typed inconsistent: commentary, never a status);
        ``location`` (where the paper prints it, from ``numbers.csv``).

    Notes
    -----
    ``status`` is ``match`` when :func:`matches` holds, whatever the checks say (where the
    paper prints one quantity twice with two values, one printing can be right: a check's
    evidence is then a remark in ``reason``); ``inconsistent`` when it does not match and a
    named check proves the printed value impossible (*impossible*, or *impossible under an
    assumption*: ``condition`` names it); ``mismatch`` when it does not match and no check
    proves that; ``not-computed`` when the key has no finite result.

    Examples
    --------
    >>> from analysis.consistency import verdicts
    >>> published = load_published()
    >>> out = compare(published, {"conv.response.pct": 31 / 54 * 100,
    ...                           "dose.conv_fail.prednisone.m6_12.mean": 31.62,
    ...                           "dose.conv.prednisone.m6_12.fail_mean": 31.62,
    ...                           "t1.race.black.pct": 26 / 54 * 100},
    ...               verdicts(published)).set_index("id")
    >>> out.loc["abstract.conv_response.pct", ["reproduced_text", "status"]].tolist()
    ['57', 'match']
    >>> out.loc[["text.dose.conv_fail.prednisone.m6_12.mean",
    ...          "text.dose.conv.prednisone.m6_12.fail_mean"], "status"].tolist()
    ['mismatch', 'match']
    >>> out.loc["t1.race.black.pct", ["status", "check"]].tolist()
    ['inconsistent', 'percent_granularity']
    >>> out.loc["t2.sex.p", "status"]
    'not-computed'
    """
    # One verdict per printed number, looked up in a dict (a row lookup in a frame per printed
    # number took most of this function's time; the Assumptions section calls it per
    # alternative).
    by_id = {rec["id"]: (str(rec["class"]), str(rec["check"]), str(rec["sentence"]),
                         str(rec["condition"])) for rec in row_verdicts(checks).to_dict("records")}
    records = [_compare_row(row, results.get(row["key"]), by_id.get(row["id"], ("", "", "", "")))
               for row in published.to_dict("records")]
    out = pd.DataFrame.from_records(records, columns=list(COMPARISON_COLUMNS))
    return out.astype({"decimals": "int64", "reproduced": "float64"})


def _compare_row(
    row: Mapping[str, Any], raw: object, verdict: tuple[str, str, str, str]
) -> dict[str, Any]:
    """One row of :func:`compare`: a published row against its reproduced number ``raw`` and
    the checks' ``(class, check, sentence, condition)`` on its printed value."""
    reproduced = math.nan if raw is None else float(raw)
    decimals = int(row["decimals"])
    proven, check = verdict[0] in (IMPOSSIBLE, IMPOSSIBLE_IF), verdict[1]
    if not math.isfinite(reproduced):
        reproduced, text, status = math.nan, "", "not-computed"
        reason = f"no finite result for key {row['key']!r}"
    else:
        text = format_at(reproduced, decimals)
        ok = matches(row["value"], decimals, row["relation"], reproduced)
        if row["relation"] == "<" and ok:
            text = row["printed"]
        differs = f"printed {row['printed']}, reproduced {text} ({reproduced:.6g})"
        if ok:
            status, reason = "match", ""
            if proven and check == "declared_test":
                reason = ("reproduced by this run's test; the test the Methods name for this "
                          "table would not give it")
            elif proven:
                reason = ("reproduced, although a check proves this printing cannot hold "
                          "together with the numbers it is checked against")
            elif verdict[0] == "undecidable":
                reason = "reproduced; a check cannot decide this printing from printed numbers"
            elif verdict[0] == NEEDS_OTHER_N:
                reason = ("reproduced; the printed numbers allow this printing only with an n "
                          "or missing data other than the paper's")
        else:
            status, reason = ("inconsistent" if proven else "mismatch"), differs
    shown = verdict[0] not in ("", "consistent")
    return {
        **{c: row[c] for c in ("id", "key", "source", "row_label", "column", "printed")},
        "decimals": decimals,
        "reproduced": reproduced,
        "reproduced_text": text,
        "status": status,
        "reason": reason,
        "verdict": verdict[0],
        "condition": verdict[3],
        "check": check if shown else "",
        "evidence": verdict[2] if shown else "",
        "curator_note": row["reason"] if row.get("consistency") == "inconsistent" else "",
        "location": row.get("location", ""),
    }


def summary_line(comparison: pd.DataFrame) -> str:
    """One sentence summing up a comparison.

    Parameters
    ----------
    comparison : pandas.DataFrame
        As returned by :func:`compare`.

    Returns
    -------
    str
        "<matches> of <rows> published numbers reproduced; <n> proven inconsistent by a named
        check; <n> mismatches", followed by "; <n> not computed" when any are; printed rows
        only: the assumed (not printed) rows are named apart and never counted as reproduced
        (the synthetic cohort is generated to meet them).

    Examples
    --------
    >>> frame = pd.DataFrame({"status": ["match"] * 3 + ["inconsistent"]})
    >>> summary_line(frame)
    '3 of 4 published numbers reproduced; 1 proven inconsistent by a named check; 0 mismatches'
    >>> summary_line(pd.DataFrame({"status": ["match", "mismatch", "not-computed"]}))
    '1 of 3 published numbers reproduced; 0 proven inconsistent by a named check; 1 mismatches; 1 not computed'
    """  # noqa: E501
    unknown = set(comparison["status"]) - set(STATUSES)
    if unknown:
        raise ParameterError(f"unknown comparison status {sorted(unknown)}; allowed {STATUSES}")
    # Values we had to assume (not printed) are counted apart from the printed numbers.
    assumed = (comparison["source"].astype(str).str.startswith("Assumed")
               if "source" in comparison.columns else pd.Series(False, index=comparison.index))
    printed = comparison[~assumed]
    counts = printed["status"].value_counts()
    n = {status: int(counts.get(status, 0)) for status in STATUSES}
    line = (
        f"{n['match']} of {len(printed)} published numbers reproduced; "
        f"{n['inconsistent']} proven inconsistent by a named check; "
        f"{n['mismatch']} mismatches"
    )
    if n["not-computed"]:
        line += f"; {n['not-computed']} not computed"
    if assumed.any():
        # not a success: the synthetic cohort is generated to meet them (issue 22)
        line += (f"; the {int(assumed.sum())} values the reconstruction assumes (not printed) "
                 "are not counted: the synthetic cohort is built to meet them")
    return line
