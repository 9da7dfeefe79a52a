"""The one p-value format and the one number format of the report (analysis.format).

Expected strings are those Sharma 2017 prints: Results, *Change in the doses of DMARD*
(0.002, 0.006, 0.010, "<0.001"), Table 2 (0.013, 0.055, 0.34) and Table 3 (0.042, 1.00).
"""

import pytest

from analysis.errors import DataValidationError
from analysis.format import format_number, format_p, p_clause


@pytest.mark.parametrize(("p", "expected"), [
    (0.0004, "<0.001"), (0.000999, "<0.001"), (0.001, "0.001"),
    (0.0018, "0.002"),   # tac prednisone 3-6 months: the paper prints 0.002 (issue 14)
    (0.006, "0.006"),    # MMF 1 year
    (0.0097, "0.010"),   # AZA 1 year
    (0.013, "0.013"),    # PM vs DM, Table 2
    (0.042, "0.042"), (0.055, "0.055"), (0.3412, "0.34"),
    (0.04, "0.040"),     # printed "0.04" in the paper: two significant digits here
    (0.08, "0.080"),
    (0.30, "0.30"), (0.70, "0.70"), (0.0996, "0.10"), (0.999, "1.00"), (1.0, "1.00"),
    (float("nan"), "N/A"), (None, "N/A"),   # the tables' footnote: "N/A: not applicable"
])
def test_format_p(p, expected):
    assert format_p(p) == expected


@pytest.mark.parametrize("p", [-0.01, 1.2])
def test_format_p_rejects_out_of_range(p):
    with pytest.raises(DataValidationError):
        format_p(p)


@pytest.mark.parametrize(("p", "expected"), [
    (0.013, "p = 0.013"), (0.0004, "p < 0.001"), (0.0018, "p = 0.002"), (None, "p = N/A")])
def test_p_clause_never_prints_equals_less_than(p, expected):
    assert p_clause(p) == expected
    assert "= <" not in p_clause(p)


def test_format_number():
    # hand-rounded: 31/54 = 57.4% -> "57"; 63.66 -> "63.7"
    assert format_number(31 / 54 * 100, 0) == "57"
    assert format_number(63.66, 1) == "63.7"
    assert format_number(None, 0) == "N/A" and format_number(float("nan"), 1, missing="") == ""
    assert format_number(0.123456, significant=4) == "0.1235"
