"""Moved to :mod:`analysis.format` (beside :mod:`analysis.printed`, below every layer that
prints a number, issue 24). Kept only so that an import written before the move still works;
new code imports :mod:`analysis.format`."""

from analysis.format import MISSING, format_number, format_p, not_computable, p_clause

__all__ = ["MISSING", "format_p", "p_clause", "format_number", "not_computable"]
