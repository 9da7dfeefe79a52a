"""Tests of analysis.printed: a printed number, its interval, and the half-digit rule.

The oracle is hand arithmetic on decimal numbers and the paper's own roundings (Sharma 2017,
Results: 6 of 16 men responded, 37.5%, printed "38%"; Table 2 myositis p printed "0.013").
"""

from __future__ import annotations

import math

import pytest

from analysis.errors import ParameterError
from analysis.printed import (
    Printed,
    decimals_of,
    format_at,
    interval,
    matches,
    parse,
    parse_p,
    reproduces,
)

# ------------------------------------------------------------------ the half digit


@pytest.mark.parametrize(
    ("computed", "printed", "expected"),
    [
        (0.0125, "0.013", True),  # half away from zero: 0.0125 -> 0.013
        (0.0135, "0.013", False),  # 0.0135 -> 0.014
        (0.0135, "0.014", True),
        (0.01249999, "0.013", False),
        (0.01349999, "0.013", True),
        (37.5, "38", True),  # 6 / 16 men, printed 38% (Results)
        (6 / 16 * 100, "38", True),
        (37.5, "37", False),
        (2.675, "2.68", True),  # binary 2.67499999999999982236431605997495353221893310546875
        (2.675, "2.67", False),
        (0.0545, "0.055", True),
        (0.0555, "0.055", False),
    ],
)
def test_half_digit_rounds_away_from_zero(computed, printed, expected):
    assert reproduces(computed, printed) is expected
    assert parse(printed).reproduced_by(computed) is expected


def test_binary_noise_does_not_decide():
    # 0.1 + 0.2 = 0.30000000000000004 and 1.15 is stored below 1.15: both on the boundary
    assert matches(0.3, 1, "=", 0.1 + 0.2)
    assert matches(1.2, 1, "=", 1.15) and not matches(1.1, 1, "=", 1.15)
    assert matches(-38.0, 0, "=", -37.5)  # away from zero on the negative side too
    assert not matches(-37.0, 0, "=", -37.5)


@pytest.mark.parametrize(
    ("computed", "expected"),
    [(0.0009999, True), (0.0004, True), (0.0, True), (0.001, False), (0.0011, False)],
)
def test_upper_bound_is_strict(computed, expected):
    # "<0.001" (Abstract, prednisone at 1 year): every value strictly below 0.001
    assert reproduces(computed, "<0.001") is expected
    assert matches(0.001, 3, "<", computed) is expected


def test_lower_bound_is_strict():
    assert matches(0.99, 2, ">", 0.995) and not matches(0.99, 2, ">", 0.99)


def test_nan_and_infinity_never_reproduce_a_number():
    for bad in (math.nan, math.inf, -math.inf, None):
        assert not matches(0.013, 3, "=", bad)
    assert reproduces(math.nan, "N/A") and not reproduces(0.5, "N/A")


def test_bad_arguments():
    with pytest.raises(ParameterError, match="relation"):
        matches(0.01, 2, "<=", 0.001)
    with pytest.raises(ParameterError, match="decimals"):
        matches(0.01, -1, "=", 0.01)
    with pytest.raises(ParameterError, match="decimals"):
        format_at(0.01, -1)


# ------------------------------------------------------------------ interval and window


@pytest.mark.parametrize(
    ("value", "decimals", "low", "high"),
    [
        (0.013, 3, 0.0125, 0.0135),
        (38.0, 0, 37.5, 38.5),
        (2.68, 2, 2.675, 2.685),
        (44.9, 1, 44.85, 44.95),
        (0.01, 3, 0.0095, 0.0105),
    ],
)
def test_interval_is_half_open_at_the_half_digit(value, decimals, low, high):
    assert interval(value, decimals) == (low, high)
    # [low, high): the lower edge prints as the number, the upper edge does not
    assert matches(value, decimals, "=", low)
    assert not matches(value, decimals, "=", high)
    inside = low + (high - low) * 0.999
    assert matches(value, decimals, "=", inside)


def test_interval_of_bounds():
    assert interval(0.001, 3, "<") == (-math.inf, 0.001)
    assert interval(0.99, 2, ">") == (0.99, math.inf)


def test_window_trims_a_margin():
    assert Printed(44.9, 1).window() == (44.85, 44.95)
    low, high = Printed(0.013, 3).window(0.005)
    assert low == pytest.approx(0.0125 + 0.001 * 0.005) and high == pytest.approx(
        0.0135 - 0.001 * 0.005)
    assert Printed(0.001, 3, "<").window(0.005) == (0.0, pytest.approx(0.000995))


# ------------------------------------------------------------------ parsing and formatting


def test_parse():
    assert parse("0.010") == Printed(0.01, 3, "=")
    assert parse("<0.001") == Printed(0.001, 3, "<")
    assert parse("Thirty-one") == Printed(31.0, 0, "=")
    assert parse("Ninety-four") == Printed(94.0, 0, "=")
    for bad in ("N/A", "", "1,000", "-3", "0.5%", "forty-ten", "p = 0.01"):
        with pytest.raises(ValueError, match="not a printed number"):
            parse(bad)


def test_parse_p_reads_table_cells():
    assert parse_p("p = 0.055") == Printed(0.055, 3, "=")
    assert parse_p("< 0.001") == Printed(0.001, 3, "<")
    assert parse_p(".09") == Printed(0.09, 2, "=")
    assert parse_p("N/A") is None and parse_p(None) is None and parse_p(math.nan) is None
    assert [decimals_of(t) for t in ("0.60", "1.00", "0.088", "N/A")] == [2, 2, 3, None]


def test_format_at():
    assert format_at(0.0125, 3) == "0.013"
    assert format_at(0.0135, 3) == "0.014"
    assert format_at(37.5, 0) == "38"
    assert format_at(2.675, 2) == "2.68"
    assert format_at(-0.004, 2) == "0.00"  # no "-0.00"
    assert format_at(math.nan, 1) == ""
