"""The class's reset: ``runs/lab`` brought back in line with ``notebooks/lab-params.yaml`` in
seconds, through the pipeline's step cache (``make reset``, or :func:`reset_lab` in a cell).

After an exercise a student comments its line out again; every notebook then has to run again
with the paper's values, so that the next exercise starts from them (step 06 and every check
refuse a run folder whose steps ran with different parameters). Re-running 01 to 06 by hand
took about 4.5 minutes on a busy 2-core machine. The pipeline computes the same steps, and
reuses each one whose notebook, parameters, data and package code it has seen before
(:mod:`analysis.stepcache`): after the first run with a parameter set, a reset is a copy.

Why the committed notebooks: a step's cache key holds its notebook's bytes, and a student's
copy differs from the committed one in its outputs and in the answers typed into the checks,
neither of which changes what a step computes. The reset runs the committed version of each
notebook (``git show HEAD:notebooks/<name>``) whenever the student's copy has the same code
once its outputs and answers are set aside; a notebook whose code was changed runs as it is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from analysis.params import Params

__all__ = ["LAB_RUN", "reset_lab", "committed_notebooks", "main"]

#: The run the notebooks write when run by hand (their ``run_dir``, ``../runs/lab``).
LAB_RUN = "lab"
_ANSWER = re.compile(r"^answer = .*$", re.MULTILINE)


def _code(text: str) -> list[tuple[str, str]]:
    """A notebook's cells without outputs, with every ``answer = ...`` line made the same."""
    cells = json.loads(text)["cells"]
    return [(c["cell_type"], _ANSWER.sub("answer = None", "".join(c["source"])))
            for c in cells]


def committed_notebooks(root: Path, out: Path) -> Path:
    """The folder of step notebooks the reset runs: ``out`` holds, for each notebook of
    ``root/notebooks``, the committed version when the working copy has the same code (see the
    module's docstring), else the working copy. Without git, the working copies as they are.
    """
    from analysis.pipeline import NOTEBOOKS

    out.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        mine = (root / "notebooks" / name).read_bytes()
        try:
            committed = subprocess.run(
                ["git", "-C", str(root), "show", f"HEAD:notebooks/{name}"],
                capture_output=True, timeout=30, check=True).stdout
            same = _code(committed.decode("utf-8")) == _code(mine.decode("utf-8"))
        except (OSError, subprocess.SubprocessError, ValueError, KeyError):
            committed, same = mine, False
        (out / name).write_bytes(committed if same else mine)
    return out


def reset_lab(lab_file: str | Path | None = None, *, root: Path | None = None,
              runs_dir: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Run every step into ``runs/lab`` with the lab file's parameters, reusing cached steps.

    Parameters
    ----------
    lab_file : the class's parameter file (default ``notebooks/lab-params.yaml``).
    root : the repository (default: this package's).
    runs_dir : where runs live (default ``<root>/runs``, where the notebooks write).
    log : where the one-line summary goes.

    Returns
    -------
    The lab run's folder. The summary says how long it took, how many steps were reused, and
    which parameters still differ from the paper's.
    """
    from analysis.pipeline import ROOT, run

    root = Path(root or ROOT)
    runs_dir = Path(runs_dir or root / "runs")
    lab_file = Path(lab_file or root / "notebooks" / "lab-params.yaml")
    params = Params.load(lab_file)
    books = committed_notebooks(root, runs_dir / ".lab-notebooks")
    t0 = time.perf_counter()
    folder = run(LAB_RUN, params, formats=(), runs_dir=runs_dir, notebooks_dir=books,
                 log=lambda _: None)
    seconds = time.perf_counter() - t0
    steps = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["steps"]
    reused = sum(1 for s in steps.values() if isinstance(s, dict) and s.get("cache") == "hit")
    changed = params.differences()
    values = ", ".join(f"{k}: {new}" for k, (_, new) in changed.items())
    log(f"runs/{LAB_RUN} reset in {seconds:.1f} s ({reused} of {len(steps)} steps reused): "
        + (f"it follows lab-params.yaml, which still changes {values}; comment that out and "
           "reset again to start from the paper's values." if changed else
           "every notebook's outputs are the paper's values again."))
    return folder


def main() -> int:
    """``make reset`` (``python -m analysis.teaching``): the reset, a problem as one line."""
    from analysis.errors import AnalysisError

    try:
        reset_lab()
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
