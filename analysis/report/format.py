"""Moved to :mod:`analysis.format` (beside :mod:`analysis.printed`, below every layer that
prints a number, issue 24). Kept only so that an import written before the move still works;
new code imports :mod:`analysis.format`."""

from analysis.format import (  # noqa: F401
    MINUS,
    MISSING,
    en_dash_ranges,
    format_number,
    format_p,
    format_p_against,
    not_computable,
    p_clause,
)
