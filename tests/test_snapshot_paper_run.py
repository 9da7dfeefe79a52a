"""REGRESSION SNAPSHOT (not a correctness test): the paper run's numbers and tables are
byte-identical to those written by commit 62211f4, before the one-engine restructuring
(issue 11). Correctness rests on the rule tests and the published numbers; this file only
proves that moving code did not move a number.

To refresh after an intended change of output, copy ``runs/paper/results.json``,
``_variables.yml`` and ``tables/`` (without ``reproducibility.md`` and ``variant.md``, which
hold the commit and the run's name) into ``tests/fixtures/paper_run/`` and say why in the commit.
A large file is kept as ``NAME.sha256`` (its SHA-256 only) to keep the repository small.
"""

import hashlib
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).parent / "fixtures" / "paper_run"
FILES = sorted(p.relative_to(SNAPSHOT).as_posix() for p in SNAPSHOT.rglob("*") if p.is_file())


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_paper_run_output_is_unchanged(paper_run: Path, name: str):
    if name.endswith(".sha256"):
        name = name.removesuffix(".sha256")
        expected = (SNAPSHOT / f"{name}.sha256").read_text().strip()
        actual = hashlib.sha256((paper_run / name).read_bytes()).hexdigest()
    else:
        expected = (SNAPSHOT / name).read_bytes()
        actual = (paper_run / name).read_bytes()
    assert actual == expected, f"{name} differs from the snapshot taken before the refactor"
