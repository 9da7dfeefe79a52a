"""Shared fixtures: ONE end-to-end run of the paper's pipeline per test session, shared by every
end-to-end test (test_pipeline, test_report, test_reproduction, test_privacy, test_interrupt,
test_snapshot_paper_run), and one variant run for the tests that need a second parameter set.

Both live in one session folder, so the variant and any later run there reuse the paper run's
step cache where nothing they depend on changed.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def paper_run(runs_dir) -> Path:
    """The default run (papermill notebooks + pip-only rendering) into a temporary runs/.

    Computed from scratch: the session's step cache is empty when it starts."""
    from analysis.pipeline import run

    return run("paper", runs_dir=runs_dir, engine="pandoc", log=lambda _: None)


@pytest.fixture(scope="session")
def variant_run(paper_run):
    """A variant (FVC decline of 5% instead of the paper's 10%) beside the paper run, HTML only:
    its report compares itself with the paper run of the same folder."""
    from analysis.params import Params
    from analysis.pipeline import run

    return run("fvc5", Params(fvc_decline=0.05), runs_dir=paper_run.parent, engine="pandoc",
               formats=("html",), log=lambda _: None)


@pytest.fixture(scope="session")
def cohort():
    from analysis.schema import read_cohort

    return read_cohort(ROOT / "data" / "raw")
