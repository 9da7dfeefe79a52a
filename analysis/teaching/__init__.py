"""Teaching in JupyterLab: inline display as in the report, exercises a student can check
alone, and the class's reset.

``display``    figures as the report's PNG images, tables as HTML with the paper's headings
``exercises``  five exercises (goal, the one change, where to look, question) and ``check``,
               which says from the run's own outputs and parameters whether the answer is right
               and why
``reset``      ``runs/lab`` back in line with ``lab-params.yaml`` in seconds (``make reset``)

The teacher's solutions are kept apart from the notebooks, in ``docs/teaching/solutions.md``.
"""

from analysis.teaching.display import show_figure, show_paper_table, show_table
from analysis.teaching.exercises import EXERCISES, Verdict, check, exercise
from analysis.teaching.reset import reset_lab

__all__ = ["show_figure", "show_table", "show_paper_table", "EXERCISES", "Verdict", "check",
           "exercise", "reset_lab"]
