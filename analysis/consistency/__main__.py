"""``python -m analysis.consistency [--all]``: print the computed verdicts.

Without ``--all`` only the verdicts that are not "consistent"; each line is
``id  check  verdict: sentence``. Reads ``data/published/numbers.csv`` (printed rows only).
"""

from __future__ import annotations

import sys
import time

from analysis.consistency.engine import verdicts
from analysis.published import load_published


def main(argv: list[str]) -> int:
    """Print the verdicts; return 0."""
    published = load_published()
    start = time.perf_counter()
    frame = verdicts(published)
    seconds = time.perf_counter() - start
    shown = frame if "--all" in argv else frame[frame["verdict"] != "consistent"]
    for row in shown.itertuples(index=False):
        print(f"{row.id}  {row.check}  {row.sentence}")
    counts = frame["verdict"].value_counts().to_dict()
    print(f"{len(frame)} verdicts on {frame['id'].nunique()} printed numbers: {counts}; "
          f"{frame.loc[frame['verdict'] == 'inconsistent', 'id'].nunique()} numbers proven "
          f"inconsistent; computed in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
