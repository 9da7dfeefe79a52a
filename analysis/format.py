"""How numbers are printed in the report: p-values and every other number, written once.

Tables, prose (``_variables.yml``), figures and the variant report all print p-values through
:func:`format_p` (a table cell: ``0.013``, ``<0.001``) or :func:`p_clause` (prose and figure
labels: ``p = 0.013``, ``p < 0.001``), and other numbers through :func:`format_number`.
Rounding a number to the precision the *paper* printed, for the reproduction, is a different
question and lives with the printed numbers (:func:`analysis.printed.format_at`), beside this
module: both sit below every layer that prints a number (the paper's conclusions, the
report), and import nothing above :mod:`analysis.errors`.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["MISSING", "MINUS", "format_p", "format_p_against", "p_clause", "format_number",
           "not_computable", "en_dash_ranges"]

#: What a missing value prints as (the tables' footnote reads "N/A: not applicable").
MISSING = "N/A"
#: The minus sign of a printed negative number (U+2212, as typeset journals print it; the
#: hyphen-minus "-" is shorter and sits lower).
MINUS = "\u2212"


def format_p(p: float | None) -> str:
    """A p-value as the paper prints it.

    Rule (Sharma 2017, Tables 2 and 3 and Results): below 0.001 print ``<0.001``; otherwise
    round to two significant digits and print at least two and at most three decimals, so
    0.0996 rounds to 0.10 and 0.0018 to 0.002. This gives the paper's 0.002, 0.006, 0.010,
    0.013, 0.042, 0.055, 0.30 and 1.00; the paper's "0.04" and "0.08" print as 0.040 and 0.080
    (the paper is not consistent: it also prints 0.010). A missing p-value prints ``N/A``.

    Raises
    ------
    DataValidationError
        ``p`` outside [0, 1].

    >>> [format_p(p) for p in (0.0004, 0.001, 0.0018, 0.006, 0.0100, 0.013, 0.04, 0.0551)]
    ['<0.001', '0.001', '0.002', '0.006', '0.010', '0.013', '0.040', '0.055']
    >>> [format_p(p) for p in (0.0996, 0.3412, 0.7, 0.9991, 1.0, float("nan"), None)]
    ['0.10', '0.34', '0.70', '1.00', '1.00', 'N/A', 'N/A']
    """
    if p is None or pd.isna(p):
        return MISSING
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise DataValidationError(f"p-value must lie in [0, 1], got {p}")
    if p < 0.001:
        return "<0.001"
    rounded = float(f"{p:.2g}")
    decimals = min(3, max(2, 1 - math.floor(math.log10(rounded))))
    return f"{rounded:.{decimals}f}"


def p_clause(p: float | None, alpha: float | None = None) -> str:
    """A p-value for prose and figure labels: ``p = 0.013``, ``p < 0.001`` (never
    ``p = <0.001``), ``p = N/A`` when missing; the number is :func:`format_p`'s, or with
    ``alpha`` :func:`format_p_against`'s (the digits that show which side of it p lies).

    >>> [p_clause(p) for p in (0.013, 0.0004, None)]
    ['p = 0.013', 'p < 0.001', 'p = N/A']
    >>> p_clause(0.0498), p_clause(0.0498, 0.05)
    ('p = 0.050', 'p = 0.0498')
    """
    text = format_p(p) if alpha is None else format_p_against(p, alpha)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


def format_number(value: float | None, decimals: int = 1, missing: str = MISSING, *,
                  significant: int | None = None) -> str:
    """A number at a fixed number of decimals (Python's rounding of the float), or at
    ``significant`` significant digits when given; ``missing`` when there is no value.

    >>> [format_number(v, d) for v, d in ((63.71, 1), (57.4, 0), (None, 0), (float("nan"), 1))]
    ['63.7', '57', 'N/A', 'N/A']
    >>> format_number(0.012345, significant=4), format_number(None, missing="")
    ('0.01235', '')

    A negative number prints with a true minus sign (U+2212), and a number that rounds to
    zero prints without a sign:

    >>> format_number(-17.54, 1), format_number(-0.04, 1), format_number(-1234.5, significant=4)
    ('−17.5', '0.0', '−1234')
    """
    if value is None or pd.isna(value):
        return missing
    text = f"{value:.{significant}g}" if significant is not None else f"{value:.{decimals}f}"
    if text.startswith("-"):
        digits = text[1:]
        return digits if not digits.strip("0.") else MINUS + digits
    return text


def format_p_against(p: float | None, alpha: float) -> str:
    """A p-value with enough digits to show on which side of ``alpha`` it lies: the report's
    :func:`format_p`, or more significant digits when that rounds onto or across ``alpha``
    (a variant report's "0.092 → 0.050, now < 0.05" hides that the value is 0.0498).

    >>> format_p_against(0.0498, 0.05), format_p_against(0.0502, 0.05)
    ('0.0498', '0.0502')
    >>> format_p_against(0.092, 0.05), format_p_against(0.04999996, 0.05)
    ('0.092', '0.04999996')
    """
    text = format_p(p)
    if p is None or pd.isna(p) or text.startswith("<"):
        return text
    digits = 2
    while (float(text) >= alpha) != (p >= alpha) or (float(text) == alpha and p != alpha):
        digits += 1
        text = f"{float(f'{p:.{digits}g}'):.{digits - 1 - math.floor(math.log10(p))}f}"
        if digits > 12:
            break
    return text


def en_dash_ranges(text: str) -> str:
    """Ranges between numbers with an en dash, as typeset text prints them: ``6-12 months``
    becomes ``6–12 months``; a minus sign, a date or a name keeps its hyphen.

    >>> en_dash_ranges("recorded at 6-12 months and 3-6 months"), en_dash_ranges("MA-ILD, a-1")
    ('recorded at 6–12 months and 3–6 months', 'MA-ILD, a-1')
    >>> en_dash_ranges("2017-09-01")
    '2017-09-01'
    """
    import re

    return re.sub(r"(?<![\d.\-])(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?![\d.\-])", "\\1\u2013\\2", text)


def not_computable(*ns: int, need: int = 0) -> str:
    """What a statistic prints when its group is too small (issue 13: never ``nan``): the
    n it would rest on and, for a test, the n it needs per group.

    >>> not_computable(0)
    'not computable (n = 0)'
    >>> not_computable(31, 0, need=1)
    'not computable (n = 31 vs 0; needs 1 per group)'
    """
    counts = " vs ".join(str(int(n)) for n in ns)
    return f"not computable (n = {counts}" + (f"; needs {need} per group)" if need else ")")
