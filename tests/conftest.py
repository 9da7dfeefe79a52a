"""Shared fixtures: one end-to-end run of the paper's pipeline per test session."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def paper_run(runs_dir) -> Path:
    """The default run (papermill notebooks + pip-only rendering) into a temporary runs/."""
    from analysis.pipeline import run

    return run("paper", runs_dir=runs_dir, engine="pandoc", log=lambda _: None)


@pytest.fixture(scope="session")
def cohort():
    from analysis.schema import read_cohort

    return read_cohort(ROOT / "data" / "raw")
