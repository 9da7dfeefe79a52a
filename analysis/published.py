"""Every number printed in Sharma 2017, as data, and its comparison with reproduced results.

``data/published/numbers.csv`` holds one row per number printed in the paper (Abstract, Results,
Discussion, Tables 1-3, Figure 1 and the dose paragraphs), plus a few ``assumed`` rows for splits
the paper does not print (the 13 exclusions of Figure 1, the 5 failures outside the tacrolimus
analysis). Each row names the computed quantity it corresponds to by a ``key`` (several printed
occurrences can share a key) and says whether the paper contradicts itself there.

This module reads and validates that table (:func:`load_published`), decides whether a reproduced
number equals a printed one at the printed precision (:func:`matches`), and builds the
reproduction table of a run (:func:`compare`, :func:`summary_line`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError, ParameterError

__all__ = [
    "COLUMNS",
    "COMPARISON_COLUMNS",
    "CONSISTENCY",
    "KINDS",
    "RELATIONS",
    "ROW_STATUS",
    "STATUSES",
    "compare",
    "default_path",
    "format_at",
    "load_published",
    "matches",
    "parse_printed",
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
)
#: What a printed number is.
KINDS = frozenset({"count", "percent", "mean", "sd", "p", "pct_change", "dose"})
#: ``=``: the printed number is a rounded value; ``<``: printed as an upper bound ("<0.001").
RELATIONS = frozenset({"=", "<"})
#: ``printed`` in the paper, or ``assumed`` by us where the paper is silent.
ROW_STATUS = frozenset({"printed", "assumed"})
#: ``inconsistent`` where the paper contradicts itself at this number.
CONSISTENCY = frozenset({"ok", "inconsistent"})
#: Outcome of one comparison row.
STATUSES = ("match", "mismatch", "paper-inconsistent", "not-computed")
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
)

_NAME = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_NUMBER = re.compile(r"(<)?(\d+(?:\.(\d+))?)")
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_CONTEXT = Context(prec=50)


def default_path() -> Path:
    """Path of the project's ``data/published/numbers.csv``.

    Returns
    -------
    pathlib.Path
        ``<repository>/data/published/numbers.csv``, located from this file.

    Examples
    --------
    >>> default_path().parts[-3:]
    ('data', 'published', 'numbers.csv')
    """
    return Path(__file__).resolve().parents[1] / "data" / "published" / "numbers.csv"


def _word_number(text: str) -> int | None:
    """Value of an English number word up to 99 ("Thirty-one" -> 31), else None."""
    word = text.strip().lower()
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    tens, sep, unit = word.partition("-")
    if sep and tens in _TENS and unit in _UNITS and 0 < _UNITS[unit] < 10:
        return _TENS[tens] + _UNITS[unit]
    return None


def parse_printed(text: str) -> tuple[float, int, str]:
    """Read a number as the paper prints it.

    Parameters
    ----------
    text : str
        The printed text without unit or percent sign: digits (``"0.010"``, ``"2933.4"``),
        an upper bound (``"<0.001"``) or a number word as it opens a sentence
        (``"Thirty-one"``, ``"Ninety-four"``).

    Returns
    -------
    tuple of (float, int, str)
        The value, the number of decimals as printed and the relation (``"="`` or ``"<"``).

    Raises
    ------
    ValueError
        If the text is not a number in one of these forms.

    Examples
    --------
    >>> parse_printed("0.010")
    (0.01, 3, '=')
    >>> parse_printed("<0.001")
    (0.001, 3, '<')
    >>> parse_printed("Thirty-one")
    (31.0, 0, '=')
    """
    match = _NUMBER.fullmatch(text)
    if match:
        decimals = len(match.group(3)) if match.group(3) else 0
        return float(match.group(2)), decimals, "<" if match.group(1) else "="
    word = _word_number(text)
    if word is None:
        raise ValueError(f"not a printed number: {text!r}")
    return float(word), 0, "="


def _rounded(x: float, decimals: int) -> Decimal:
    """``x`` rounded half away from zero at ``decimals``, read at 12 significant digits.

    Reading the float at 12 significant digits first absorbs binary noise, so that a value that
    is mathematically on a rounding boundary (2.675, 0.0125, 37.5) rounds away from zero.
    """
    with localcontext(_CONTEXT):
        return Decimal(format(x, ".12g")).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def format_at(value: float, decimals: int) -> str:
    """Format a number at a given number of decimals, rounding half away from zero.

    Parameters
    ----------
    value : float
        The number.
    decimals : int
        Decimals to show (>= 0).

    Returns
    -------
    str
        The formatted number, or ``""`` when ``value`` is NaN.

    Examples
    --------
    >>> format_at(0.0125, 3)
    '0.013'
    >>> format_at(37.5, 0)
    '38'
    >>> format_at(2.675, 2)
    '2.68'
    """
    if value is None or math.isnan(value):
        return ""
    if decimals < 0:
        raise ParameterError(f"decimals must be >= 0, got {decimals}")
    text = f"{_rounded(value, decimals):f}"
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]  # no "-0.0" for a tiny negative number
    return text


def matches(printed_value: float, decimals: int, relation: str, reproduced: float) -> bool:
    """Whether a reproduced number equals a printed one at the printed precision.

    Parameters
    ----------
    printed_value : float
        The printed number (column ``value`` of ``numbers.csv``).
    decimals : int
        Decimals as printed (``3`` for ``"0.010"``, ``0`` for ``"23"``).
    relation : {"=", "<"}
        ``"="``: the reproduced number, rounded half away from zero at ``decimals``, must equal
        the printed one. ``"<"``: the paper printed an upper bound ("p < 0.001"); the
        reproduced number must be strictly below it.
    reproduced : float
        The number the pipeline computed; NaN never matches.

    Returns
    -------
    bool

    Raises
    ------
    analysis.errors.ParameterError
        For an unknown relation or negative decimals.

    Notes
    -----
    Half away from zero is the rounding of the journal tables (37.5% prints as 38%, Sharma 2017,
    Results: 6 of 16 men responded, "38%"). The reproduced number is first read at 12
    significant digits, so floating-point noise on a rounding boundary does not flip the result.

    Examples
    --------
    >>> matches(0.013, 3, "=", 0.0126)
    True
    >>> matches(0.013, 3, "=", 0.0135)
    False
    >>> matches(0.001, 3, "<", 0.0009)
    True
    >>> matches(0.001, 3, "<", 0.001)
    False
    >>> matches(38.0, 0, "=", 6 / 16 * 100)
    True
    """
    if relation not in RELATIONS:
        raise ParameterError(f"relation must be one of {sorted(RELATIONS)}, got {relation!r}")
    if decimals < 0:
        raise ParameterError(f"decimals must be >= 0, got {decimals}")
    if reproduced is None or math.isnan(reproduced) or math.isinf(reproduced):
        return False
    if relation == "<":
        return reproduced < printed_value
    return _rounded(reproduced, decimals) == _rounded(printed_value, decimals)


def _check_row(row: Mapping[str, str]) -> list[tuple[str, str]]:
    """Rule violations of one raw row, as (column, message) pairs."""
    problems: list[tuple[str, str]] = []
    for col in ("id", "key"):
        if not _NAME.fullmatch(row[col]):
            problems.append((col, f"must be lower-case dot-separated names, got {row[col]!r}"))
    for col in ("source", "row_label", "printed"):
        if not row[col].strip():
            problems.append((col, "must not be empty"))
    for col, allowed in (
        ("kind", KINDS),
        ("relation", RELATIONS),
        ("status", ROW_STATUS),
        ("consistency", CONSISTENCY),
    ):
        if row[col] not in allowed:
            problems.append((col, f"must be one of {sorted(allowed)}, got {row[col]!r}"))
    if row["consistency"] == "inconsistent" and not row["reason"].strip():
        problems.append(("reason", "an inconsistent row must give its evidence"))
    if row["consistency"] == "ok" and row["reason"].strip():
        problems.append(("reason", "only inconsistent rows carry a reason (use note)"))

    try:
        value = float(row["value"])
    except ValueError:
        problems.append(("value", f"must be a number, got {row['value']!r}"))
        value = math.nan
    if not math.isfinite(value) and not math.isnan(value):
        problems.append(("value", f"must be finite, got {row['value']!r}"))
    if not re.fullmatch(r"\d+", row["decimals"]):
        problems.append(("decimals", f"must be an integer >= 0, got {row['decimals']!r}"))
        decimals = None
    else:
        decimals = int(row["decimals"])

    try:
        p_value, p_decimals, p_relation = parse_printed(row["printed"])
    except ValueError as exc:
        problems.append(("printed", str(exc)))
        return problems
    if decimals is not None and decimals != p_decimals:
        problems.append(
            ("decimals", f"is {decimals} but {row['printed']!r} has {p_decimals} decimals")
        )
    if row["relation"] in RELATIONS and row["relation"] != p_relation:
        problems.append(("relation", f"is {row['relation']!r} but printed {row['printed']!r}"))
    if not math.isnan(value):
        target = abs(value) if row["kind"] == "pct_change" else value
        if not math.isclose(target, p_value, rel_tol=0, abs_tol=1e-9):
            problems.append(("value", f"{value!r} is not the printed {row['printed']!r}"))
        kind = row["kind"]
        if kind == "count" and (value < 0 or p_decimals != 0):
            problems.append(("value", "a count is a whole number >= 0"))
        if kind == "percent" and not 0 <= value <= 100:
            problems.append(("value", "a percent lies in [0, 100]"))
        if kind == "p" and not 0 <= value <= 1:
            problems.append(("value", "a p-value lies in [0, 1]"))
        if kind in {"sd", "dose"} and value < 0:
            problems.append(("value", f"a {kind} is >= 0"))
    return problems


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
        ""), ``note``. Text columns have pandas' string dtype, empty cells are "".

    Raises
    ------
    analysis.errors.DataValidationError
        If the file is missing, its columns differ from :data:`COLUMNS`, or any row breaks a
        rule; the message names the file, line, column and rule of every problem.

    Notes
    -----
    Rules: ids and keys are lower-case dot-separated names and ids are unique; ``kind``,
    ``relation``, ``status`` and ``consistency`` take their listed values; ``printed`` parses
    (see :func:`parse_printed`) and agrees with ``value``, ``decimals`` and ``relation``; counts
    are whole, percents in [0, 100], p-values in [0, 1]; inconsistent rows give a reason and
    only they do.

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


def compare(published: pd.DataFrame, results: Mapping[str, float]) -> pd.DataFrame:
    """Compare reproduced numbers with the published ones, row by printed number.

    Parameters
    ----------
    published : pandas.DataFrame
        As returned by :func:`load_published` (not modified).
    results : mapping of str to float
        Reproduced numbers by key (``results.json`` of a run). Keys absent from ``published``
        are ignored; a missing key or a NaN value means "not computed".

    Returns
    -------
    pandas.DataFrame
        One row per row of ``published``, in its order, with columns :data:`COMPARISON_COLUMNS`:
        ``id``, ``key``, ``source``, ``row_label``, ``column``, ``printed``, ``decimals``;
        ``reproduced`` (float64, NaN if not computed); ``reproduced_text`` (rounded half away
        from zero at the printed decimals; for a printed bound such as "<0.001", the bound
        itself when the reproduced number is below it; "" if not computed); ``status``, one of
        :data:`STATUSES`; ``reason`` (why it is not a match, or, for a match at a number the
        paper contradicts elsewhere, the contradiction).

    Notes
    -----
    ``status`` is ``match`` when :func:`matches` holds, also at rows marked inconsistent
    (where a paper prints one quantity twice with two values, one printing can be right);
    ``paper-inconsistent`` when a row marked inconsistent does not match; ``mismatch`` when a
    row the paper does not contradict does not match; ``not-computed`` when the key has no
    finite result.

    Examples
    --------
    >>> published = load_published()
    >>> out = compare(published, {"conv.response.pct": 31 / 54 * 100,
    ...                           "dose.conv_fail.prednisone.m6_12.mean": 31.62,
    ...                           "dose.conv.prednisone.m6_12.fail_mean": 31.62})
    >>> out.set_index("id").loc["abstract.conv_response.pct",
    ...                         ["reproduced_text", "status"]].tolist()
    ['57', 'match']
    >>> out.set_index("id").loc[["text.dose.conv_fail.prednisone.m6_12.mean",
    ...                          "text.dose.conv.prednisone.m6_12.fail_mean"], "status"].tolist()
    ['mismatch', 'match']
    >>> out.set_index("id").loc["t2.sex.p", "status"]
    'not-computed'
    """
    records = []
    for row in published.to_dict("records"):
        raw = results.get(row["key"])
        reproduced = math.nan if raw is None else float(raw)
        decimals = int(row["decimals"])
        inconsistent = row["consistency"] == "inconsistent"
        if not math.isfinite(reproduced):
            reproduced, text, status = math.nan, "", "not-computed"
            reason = f"no finite result for key {row['key']!r}"
        else:
            text = format_at(reproduced, decimals)
            ok = matches(row["value"], decimals, row["relation"], reproduced)
            if row["relation"] == "<" and ok:
                text = row["printed"]
            if ok:
                status = "match"
                reason = ""
                if inconsistent:
                    reason = f"the paper contradicts this elsewhere: {row['reason']}"
            elif inconsistent:
                status, reason = "paper-inconsistent", row["reason"]
            else:
                status = "mismatch"
                reason = f"printed {row['printed']}, reproduced {text} ({reproduced:.6g})"
        records.append(
            {
                "id": row["id"],
                "key": row["key"],
                "source": row["source"],
                "row_label": row["row_label"],
                "column": row["column"],
                "printed": row["printed"],
                "decimals": decimals,
                "reproduced": reproduced,
                "reproduced_text": text,
                "status": status,
                "reason": reason,
            }
        )
    out = pd.DataFrame.from_records(records, columns=list(COMPARISON_COLUMNS))
    return out.astype({"decimals": "int64", "reproduced": "float64"})


def summary_line(comparison: pd.DataFrame) -> str:
    """One sentence summing up a comparison.

    Parameters
    ----------
    comparison : pandas.DataFrame
        As returned by :func:`compare`.

    Returns
    -------
    str
        "<matches> of <rows> published numbers reproduced; <n> are contradicted by the paper
        itself; <n> mismatches", followed by "; <n> not computed" when any are.

    Examples
    --------
    >>> frame = pd.DataFrame({"status": ["match"] * 3 + ["paper-inconsistent"]})
    >>> summary_line(frame)
    '3 of 4 published numbers reproduced; 1 are contradicted by the paper itself; 0 mismatches'
    >>> summary_line(pd.DataFrame({"status": ["match", "mismatch", "not-computed"]}))
    '1 of 3 published numbers reproduced; 0 are contradicted by the paper itself; 1 mismatches; 1 not computed'
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
        f"{n['paper-inconsistent']} are contradicted by the paper itself; "
        f"{n['mismatch']} mismatches"
    )
    if n["not-computed"]:
        line += f"; {n['not-computed']} not computed"
    if assumed.any():
        met = int((comparison.loc[assumed, "status"] == "match").sum())
        line += f"; {met} of {int(assumed.sum())} assumed (not printed) values met"
    return line
