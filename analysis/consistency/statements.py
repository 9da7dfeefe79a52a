"""Statements of the paper that print no number of their own, declared once with their place.

Most verdicts are about a printed number (a row of ``data/published/numbers.csv``). A few are
about a sentence: a test the Methods name, applied to the data of a table (Sharma 2017,
Materials and Methods, Statistical analysis), or an "all"/"none" statement of the Results and
Discussion whose numbers are Table 2's or 3's. Each has an id here (never one of
``numbers.csv``), what it says and where it is printed, so that its verdict is shown like any
other (Appendix B) with its location. Checks: :mod:`analysis.consistency.methods` (the tests)
and :func:`analysis.consistency.engine.verdicts` (the statements of the text).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["STATEMENTS", "Statement"]

_METHODS_1 = ("Materials and Methods, Statistical analysis, sentence 1 (“Continuous variables "
              "were reported as means with SD and were compared using a paired Student t test "
              "for normally distributed values.”)")


@dataclass(frozen=True)
class Statement:
    """A statement the paper prints without a number of its own.

    Attributes
    ----------
    source : str
        Section ("Materials and Methods", "Results: ...", "Discussion").
    label : str
        What it says, applied to which data, in a reader's words.
    location : str
        Section, paragraph and sentence, with the sentence's opening words.
    """

    source: str
    label: str
    location: str


#: id -> statement. ``methods.*``: a test the Methods name, applied to the data it must have
#: been applied to; ``text.*`` / ``disc.*``: "all" and "none" statements.
STATEMENTS: MappingProxyType[str, Statement] = MappingProxyType({
    "methods.paired_t.t2": Statement(
        "Materials and Methods", "A paired Student t test for the continuous rows of Table 2 "
        "(responders vs nonresponders to conventional treatment)", _METHODS_1),
    "methods.paired_t.t3": Statement(
        "Materials and Methods", "A paired Student t test for the continuous rows of Table 3 "
        "(responders vs no response to tacrolimus)", _METHODS_1),
    "methods.paired_t.doses": Statement(
        "Materials and Methods", "A paired Student t test for the dose series (each drug's "
        "dose before and after, in the same patients)", _METHODS_1),
    "text.conv.none_significant": Statement(
        "Results: Response to conventional treatment", "No significant differences between "
        "responders and nonresponders in age, race, serologic tests, radiographic pattern or "
        "severity of ILD (Table 2's p-values of these rows)",
        "Results, 'Response to conventional treatment', sentence 5 (“There were no "
        "significant differences between responders and nonresponders ...”)"),
    "text.tac.none_different": Statement(
        "Results: Use of tacrolimus in refractory MA-ILD", "No difference in age, sex, race "
        "or radiographic pattern between tacrolimus responders and failures (Table 3's "
        "p-values of these rows)",
        "Results, 'Use of tacrolimus in refractory MA-ILD', sentence 6 (“There was no "
        "difference in age, sex, race, or radiographic pattern ...”)"),
    "disc.jo1.all_improved": Statement(
        "Discussion", "All patients with anti-Jo1 antibody who were refractory to "
        "conventional treatment improved after the addition of tacrolimus (Table 2's and "
        "Table 3's anti-Jo1 rows)",
        "Discussion, paragraph 3, sentence 3 (“However, all patients with anti-Jo1 antibody "
        "who were refractory to conventional treatment ...”)"),
})
