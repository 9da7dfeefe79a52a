"""Teaching in JupyterLab (issue 15): inline display as in the report, and exercises a student
can check alone.

``display``    figures as the report's PNG images, tables as HTML with the paper's headings
``exercises``  five exercises (goal, the one change, where to look, question) and ``check``,
               which says from the run's own outputs and parameters whether the answer is right
               and why

The teacher's solutions are kept apart from the notebooks, in ``docs/teaching/solutions.md``.
"""

from analysis.teaching.display import show_figure, show_paper_table, show_table
from analysis.teaching.exercises import EXERCISES, Verdict, check, exercise

__all__ = ["show_figure", "show_table", "show_paper_table", "EXERCISES", "Verdict", "check",
           "exercise"]
