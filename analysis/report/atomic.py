"""Moved to :mod:`analysis.files` (the package's bottom layer, issue 24). Kept only so that an
import written before the move still works; new code imports :mod:`analysis.files`."""

from analysis.files import write_atomic

__all__ = ["write_atomic"]
