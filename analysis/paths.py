"""Where the project's files are: the repository root and its folders, declared once.

The bottom layer of the package (it imports nothing from it), so that every module, the
benchmarks and the tests ask here instead of counting ``parents`` from their own file. Paths
are absolute and computed from this file's place in the repository, never from the working
directory (a notebook runs in ``notebooks/``, the CLI anywhere).

>>> RAW.relative_to(ROOT).as_posix(), CODEBOOK.name, NUMBERS.relative_to(ROOT).as_posix()
('data/raw', 'codebook.csv', 'data/published/numbers.csv')
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ROOT", "RAW", "CODEBOOK", "PUBLISHED", "NUMBERS", "RUNS", "NOTEBOOKS", "FIGURES"]

#: The repository: the folder that holds the ``analysis`` package.
ROOT = Path(__file__).resolve().parent.parent
#: The bundled chart-review export (the reconstructed cohort), the default data of a run.
RAW = ROOT / "data" / "raw"
#: The codebook: every column of the export (DESIGN section 3).
CODEBOOK = RAW / "codebook.csv"
#: Every number printed in the paper, as data.
PUBLISHED = ROOT / "data" / "published"
#: The table of printed numbers (:mod:`analysis.published`).
NUMBERS = PUBLISHED / "numbers.csv"
#: Where runs are written (one folder per run name).
RUNS = ROOT / "runs"
#: The parameterised notebooks a run executes.
NOTEBOOKS = ROOT / "notebooks"
#: The default (paper) run's figures.
FIGURES = ROOT / "figures"
