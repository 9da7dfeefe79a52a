"""A number as the paper prints it: its text, precision, the true values it stands for.

Sharma 2017 prints counts ("23", "Thirty-one"), percentages ("38"), means and SDs ("2933.4"),
p-values ("0.013", "1.00") and bounds ("<0.001"). Everything in the project that asks "does this
computed number reproduce that printed one?" asks it here: the reproduction table
(:mod:`analysis.published`), the methods audit (:mod:`analysis.audit`), the generator of the
synthetic cohort (:mod:`analysis.synth`) and the tests.

The half-digit rule (decided once, in :func:`matches`)
------------------------------------------------------
A computed number reproduces a printed ``"="`` number when, **rounded half away from zero** at
the printed decimals, it equals the printed number; the computed number is first read at 12
significant digits. So 0.0125 reproduces "0.013" and 0.0135 does not (it prints "0.014");
37.5 reproduces "38"; 2.675 reproduces "2.68" although its binary value is 2.67499999....

Why: half away from zero is how the paper rounds (Results: 6 of 16 men responded, 37.5%,
printed "38%") and how Stata displays numbers; reading at 12 significant digits absorbs binary
noise, so a value that is mathematically on a rounding boundary is treated as on it (a
difference of a few units in the 16th digit never decides a verdict). The true values a printed
``"="`` number stands for are therefore the half-open interval ``[v - h, v + h)`` for
``v >= 0`` (``h`` = half a unit of the last printed digit; mirrored for ``v < 0``), see
:func:`interval`. A printed bound ``"<x"`` is reproduced by any number strictly below ``x``
(``">x"``: strictly above).

The consistency checks (:mod:`analysis.consistency`) prove that a printed number *cannot*
hold; they read the same interval closed at both edges (``interval(..., closed=True)``,
:attr:`Printed.lo`/:attr:`Printed.hi`), so that no proof rests on how a value exactly on an
edge was rounded.

Before this module the project decided the half digit in five places that disagreed at the
upper end: the methods audit accepted ``|p - printed| <= h`` (so 0.0135 reproduced "0.013").
No categorical p-value of Tables 2 and 3 lies on a half digit, so the audit's findings do not
change.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from analysis.errors import ParameterError

__all__ = [
    "NOT_APPLICABLE",
    "RELATIONS",
    "Printed",
    "decimals_of",
    "format_at",
    "interval",
    "matches",
    "parse",
    "parse_p",
    "reproduces",
    "rounded",
]

#: ``=``: a rounded value; ``<`` / ``>``: an upper / lower bound ("<0.001").
RELATIONS = frozenset({"=", "<", ">"})
#: Texts that print no number ("N/A" of Table 3 lung histopathology).
NOT_APPLICABLE = frozenset({"n/a", "na", "not applicable", "-", "--", ""})

_NUMBER = re.compile(r"([<>])?(\d+(?:\.(\d+))?)")
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


@dataclass(frozen=True)
class Printed:
    """One printed number.

    Attributes
    ----------
    value : float
        The number as printed (for a bound, the bound).
    decimals : int
        Decimals as printed (``3`` for "0.010", ``0`` for "23").
    relation : {"=", "<", ">"}
        ``"="`` for a rounded value, ``"<"``/``">"`` for a printed bound.

    Examples
    --------
    >>> p = parse("0.013")
    >>> p.reproduced_by(0.0125), p.reproduced_by(0.0135)
    (True, False)
    >>> p.interval(), p.lo, p.hi, str(p)
    ((0.0125, 0.0135), 0.0125, 0.0135, '0.013')
    >>> str(parse("<0.001")), parse("<0.001").lo
    ('< 0.001', 0.0)
    """

    value: float
    decimals: int = 0
    relation: str = "="

    def interval(self, closed: bool = False) -> tuple[float, float]:
        """The true values this printing stands for (see :func:`interval`)."""
        return interval(self.value, self.decimals, self.relation, closed)

    @property
    def lo(self) -> float:
        """Lower edge of the closed interval (``interval(closed=True)``), for the checks."""
        return self.interval(closed=True)[0]

    @property
    def hi(self) -> float:
        """Upper edge of the closed interval (``interval(closed=True)``), for the checks."""
        return self.interval(closed=True)[1]

    def __str__(self) -> str:
        """The number as printed: ``"48.2"``, ``"< 0.001"``."""
        prefix = f"{self.relation} " if self.relation != "=" else ""
        return prefix + format_at(self.value, self.decimals)

    def window(self, margin: float = 0.0) -> tuple[float, float]:
        """:meth:`interval` with ``margin`` of its width trimmed at each finite edge.

        A search that builds data to print as this number aims inside the window, so that
        float noise never decides the rounding. For a bound ``"<x"`` (``x > 0``) the upper edge
        is ``x * (1 - margin)`` and the lower edge 0 (a printed bound here is a p-value).

        Examples
        --------
        >>> Printed(44.9, 1).window()
        (44.85, 44.95)
        >>> Printed(0.001, 3, "<").window(0.005)
        (0.0, 0.000995)
        """
        if self.relation == "<":
            return 0.0, self.value * (1 - margin)
        low, high = self.interval()
        if self.relation == ">":
            return low * (1 + margin), high
        trim = (high - low) * margin
        return low + trim, high - trim

    def reproduced_by(self, computed: float) -> bool:
        """Whether ``computed`` prints as this number (see :func:`matches`)."""
        return matches(self.value, self.decimals, self.relation, computed)


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


def parse(text: str) -> Printed:
    """Read a number exactly as the paper prints it.

    Parameters
    ----------
    text : str
        The printed text without unit or percent sign: digits (``"0.010"``, ``"2933.4"``),
        a bound (``"<0.001"``) or a number word as it opens a sentence (``"Thirty-one"``).

    Returns
    -------
    Printed

    Raises
    ------
    ValueError
        If the text is not a number in one of these forms ("N/A", "1,000", "-3", "0.5%").

    Examples
    --------
    >>> parse("0.010")
    Printed(value=0.01, decimals=3, relation='=')
    >>> parse("<0.001")
    Printed(value=0.001, decimals=3, relation='<')
    >>> parse("Thirty-one")
    Printed(value=31.0, decimals=0, relation='=')
    """
    match = _NUMBER.fullmatch(text)
    if match:
        decimals = len(match.group(3)) if match.group(3) else 0
        return Printed(float(match.group(2)), decimals, match.group(1) or "=")
    word = _word_number(text)
    if word is None:
        raise ValueError(f"not a printed number: {text!r}")
    return Printed(float(word), 0, "=")


def parse_p(text: object) -> Printed | None:
    """Read a printed p-value as a table cell may hold it: ``"p = 0.055"``, ``"< 0.001"``, N/A.

    Parameters
    ----------
    text : str
        Case, spaces and a leading ``p=`` are ignored.

    Returns
    -------
    Printed or None
        ``None`` when nothing numeric was printed (:data:`NOT_APPLICABLE`, or a missing value).

    Raises
    ------
    ValueError
        If the text is neither a number nor one of :data:`NOT_APPLICABLE`.

    Examples
    --------
    >>> parse_p("p = 0.055"), parse_p("N/A")
    (Printed(value=0.055, decimals=3, relation='='), None)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    clean = re.sub(r"^p=", "", str(text).strip().lower().replace(" ", ""))
    if clean in NOT_APPLICABLE:
        return None
    if clean.startswith("."):
        clean = "0" + clean
    return parse(clean)


def decimals_of(text: object) -> int | None:
    """Decimals of a printed p-value ("0.055" -> 3, "1.00" -> 2, "N/A" -> None).

    Examples
    --------
    >>> decimals_of("0.055"), decimals_of("1.00"), decimals_of("N/A")
    (3, 2, None)
    """
    printed = parse_p(text)
    return None if printed is None else printed.decimals


def rounded(x: float, decimals: int) -> Decimal:
    """``x`` rounded half away from zero at ``decimals``, read at 12 significant digits.

    Reading the float at 12 significant digits first absorbs binary noise, so that a value that
    is mathematically on a rounding boundary (2.675, 0.0125, 37.5) rounds away from zero.

    Examples
    --------
    >>> str(rounded(2.675, 2)), str(rounded(0.0135, 3)), str(rounded(-37.5, 0))
    ('2.68', '0.014', '-38')
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
    >>> format_at(0.0125, 3), format_at(37.5, 0), format_at(2.675, 2), format_at(-0.004, 2)
    ('0.013', '38', '2.68', '0.00')
    """
    if value is None or math.isnan(value):
        return ""
    if decimals < 0:
        raise ParameterError(f"decimals must be >= 0, got {decimals}")
    text = f"{rounded(value, decimals):f}"
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]  # no "-0.0" for a tiny negative number
    return text


def matches(printed_value: float, decimals: int, relation: str, computed: float) -> bool:
    """Whether a computed number reproduces a printed one: THE half-digit rule of the project.

    Parameters
    ----------
    printed_value : float
        The printed number.
    decimals : int
        Decimals as printed (``3`` for ``"0.010"``).
    relation : {"=", "<", ">"}
        ``"="``: ``computed``, rounded half away from zero at ``decimals`` after reading it at
        12 significant digits (:func:`rounded`), equals the printed number. ``"<"``/``">"``:
        ``computed`` lies strictly below/above the printed bound.
    computed : float
        NaN or infinity never reproduces a number.

    Returns
    -------
    bool

    Raises
    ------
    analysis.errors.ParameterError
        For an unknown relation or negative decimals.

    Notes
    -----
    Half away from zero is the rounding of the journal (Sharma 2017, Results: 6 of 16 men
    responded, 37.5%, printed "38%"); see the module docstring.

    Examples
    --------
    >>> matches(0.013, 3, "=", 0.0125), matches(0.013, 3, "=", 0.0135)
    (True, False)
    >>> matches(38.0, 0, "=", 6 / 16 * 100), matches(2.68, 2, "=", 2.675)
    (True, True)
    >>> matches(0.001, 3, "<", 0.0009), matches(0.001, 3, "<", 0.001)
    (True, False)
    """
    if relation not in RELATIONS:
        raise ParameterError(f"relation must be one of {sorted(RELATIONS)}, got {relation!r}")
    if decimals < 0:
        raise ParameterError(f"decimals must be >= 0, got {decimals}")
    if computed is None or math.isnan(computed) or math.isinf(computed):
        return False
    if relation == "<":
        return computed < printed_value
    if relation == ">":
        return computed > printed_value
    return rounded(computed, decimals) == rounded(printed_value, decimals)


def reproduces(computed: float, printed: object) -> bool:
    """Whether a computed number reproduces a printed text (a table cell such as "0.055").

    Parameters
    ----------
    computed : float
        NaN stands for "no test".
    printed : str or Printed
        As printed: "0.055", "1.00", "<0.001", or "N/A" (then only NaN reproduces it).

    Returns
    -------
    bool
        :func:`matches` at the printed decimals and relation.

    Examples
    --------
    >>> reproduces(0.0549, "0.055"), reproduces(0.0739, "0.055"), reproduces(0.9999, "1.00")
    (True, False, True)
    >>> reproduces(float("nan"), "N/A"), reproduces(0.0004, "<0.001")
    (True, True)
    """
    target = printed if isinstance(printed, Printed) else parse_p(printed)
    if target is None:
        return computed is not None and isinstance(computed, float) and math.isnan(computed)
    return target.reproduced_by(computed)


def interval(
    value: float, decimals: int, relation: str = "=", closed: bool = False
) -> tuple[float, float]:
    """The true values a printed number stands for, as ``(low, high)``: THE precision rule.

    Parameters
    ----------
    value : float
        The printed number.
    decimals : int
        Decimals as printed.
    relation : {"=", "<", ">"}, default "="
    closed : bool, default False
        ``False``: the values that :func:`matches` the printed number. ``True``: the closed
        variant for conservative impossibility proofs (:mod:`analysis.consistency`): both edges
        belong to the interval, so a check that finds no admissible value in it proves the
        printing impossible under any rounding of a value that lies exactly on an edge (half
        away from zero, half to even, or a printed "0.60" that was 0.605 truncated); a bound
        ``"<x"`` reads ``[0, x]`` and ``">x"`` reads ``[x, inf]`` (the paper prints bounds only
        for p-values, which are non-negative).

    Returns
    -------
    tuple of float
        For ``"="`` the edges are the same in both variants, ``high - low`` one unit of the
        last printed digit (edges read at two more decimals, so that they carry no binary
        noise); with ``closed=False`` the interval is ``[low, high)`` for ``value >= 0`` and
        ``(low, high]`` below 0. For ``"<"``: ``(-inf, value)``; for ``">"``: ``(value, inf)``.

    Examples
    --------
    >>> interval(44.9, 1), interval(0.01, 3), interval(38, 0)
    ((44.85, 44.95), (0.0095, 0.0105), (37.5, 38.5))
    >>> interval(0.001, 3, "<"), interval(0.001, 3, "<", closed=True)
    ((-inf, 0.001), (0.0, 0.001))
    """
    if relation not in RELATIONS:
        raise ParameterError(f"relation must be one of {sorted(RELATIONS)}, got {relation!r}")
    return _interval(value, decimals, relation, closed)


# Kept by its arguments (and their types: a NumPy float stays one): the consistency checks ask
# for the same few hundred printed numbers' edges hundreds of thousands of times (``lo`` and
# ``hi``; issue 24). A pure function of hashable arguments, so the cache changes no number.
@functools.lru_cache(maxsize=65536, typed=True)
def _interval(value: float, decimals: int, relation: str, closed: bool) -> tuple[float, float]:
    """:func:`interval` once ``relation`` is checked."""
    if relation == "<":
        return (0.0 if closed else -math.inf), float(value)
    if relation == ">":
        return float(value), math.inf
    half = 0.5 * 10.0 ** (-decimals)
    return (round(value - half, decimals + 2), round(value + half, decimals + 2))
