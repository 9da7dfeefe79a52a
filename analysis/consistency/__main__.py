"""``python -m analysis.consistency [--all] [-p name=value ...]``: print the computed verdicts.

Without ``--all`` only the printed numbers whose verdict is not "consistent", one per number
(:func:`~analysis.consistency.engine.row_verdicts`): ``id  class [condition]  check:
sentence``. With ``--all`` every check. ``-p`` sets a check parameter (``check_aza_step``,
``check_mtx_cap``, ``check_followup_n``, ``check_min_correlation``). Reads
``data/published/numbers.csv`` (printed rows only); the ids of statements without a number of
their own come from :data:`analysis.consistency.statements.STATEMENTS`.
"""

from __future__ import annotations

import sys
import time

from analysis.consistency.engine import row_verdicts, verdicts
from analysis.params import Params
from analysis.published import load_published


def main(argv: list[str]) -> int:
    """Print the verdicts; return 0."""
    overrides = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-p"]
    params = Params.load(overrides=overrides)
    published = load_published()
    start = time.perf_counter()
    frame = verdicts(published, params)
    seconds = time.perf_counter() - start
    if "--all" in argv:
        for row in frame.itertuples(index=False):
            print(f"{row.id}  {row.check}  {row[3]}  [{row.condition}]  {row.sentence}")
    else:
        rows = row_verdicts(frame)
        for row in rows[rows["class"] != "consistent"].itertuples(index=False):
            print(f"{row.id}  {row[2]}  [{row.condition}]  {row.check}: {row.sentence}")
    counts = row_verdicts(frame)["class"].value_counts().to_dict()
    print(f"{len(frame)} verdicts on {frame['id'].nunique()} printed numbers; by class: "
          f"{counts}; computed in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
