"""The project's own error types.

Every problem a user can cause (bad data, bad parameters, a failed step) is raised as one of
these, with a message that names the file, row, column and rule, so the CLI can print it
without a traceback.
"""


#: Problems or warnings of one kind listed per file before the rest are only counted (the
#: default of ``--max-problems``; 0 lists all).
MAX_PROBLEMS = 20


class AnalysisError(Exception):
    """Base class of every error the project raises on purpose."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows in a notebook: the message alone, no traceback (the message
        names what to fix; a traceback of the package's internals would hide it)."""
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


class DataValidationError(AnalysisError):
    """An input table breaks a rule of the codebook."""


class ParameterError(AnalysisError):
    """A parameter name, type or value is not allowed."""


class PipelineError(AnalysisError):
    """A step of a run failed; the previous bundle is left untouched."""
