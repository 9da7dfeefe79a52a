"""benchmarks/run.py's bookkeeping, on hand-made measurements (no timing is run or asserted):
rows 1-3 are the median of per-pair ratios, not a ratio of medians, against issue 24's goals,
for the formats a run renders by default; pytest's ``--durations`` lines are read as pytest
prints them."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/run.py as a module; the sys.path and PYTHONPATH it sets are put back."""
    saved_path, saved_env = list(sys.path), os.environ.get("PYTHONPATH")
    try:
        sys.path.insert(0, str(BENCH))
        spec = importlib.util.spec_from_file_location("bench_run_under_test", BENCH / "run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("compute", None)
        if saved_env is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_env


def _pair(floor: float, run: float) -> dict:
    """One repetition where every floor took ``floor`` s and every run ``run`` s (wall = CPU)."""
    m = {"wall": floor, "cpu": floor}
    r = {"wall": run, "cpu": run}
    rep = {k: (m if k.startswith("floor") else r) for k in
           ("floor_cold", "cold", "prime", "floor_unchanged", "unchanged", "floor_cutoff",
            "cutoff")}
    for key in ("cold", "unchanged", "cutoff"):
        rep[f"{key}_ratio"] = {"wall": run / floor, "cpu": run / floor}
    return rep


def test_rows_1_to_3_are_the_median_of_per_pair_ratios(bench):
    # Hand computation: ratios 20/10 = 2.0, 9/6 = 1.5, 40/10 = 4.0 -> median 2.0. The ratio of
    # the medians (20 s / 10 s) happens to agree here, so a fourth pair separates them below.
    pairs = [_pair(10, 20), _pair(6, 9), _pair(10, 40)]
    row = next(r for r in bench.goals({"pipeline_pairs": pairs}) if r["row"] == 1)
    assert row["ratios"] == [2.0, 1.5, 4.0]
    assert row["value"] == 2.0
    assert row["met"] is True  # goal <= 2.5x
    # ratios 2.0, 1.5, 4.0, 1.0 (5/5): median (1.5 + 2.0) / 2 = 1.75; medians of seconds
    # (14.5 / 8) would give 1.8125.
    pairs.append(_pair(5, 5))
    row = next(r for r in bench.goals({"pipeline_pairs": pairs}) if r["row"] == 2)
    assert row["value"] == 1.75
    assert row["met"] is False  # goal <= 0.8x


def test_rows_1_to_3_are_issue_24_s_goals_on_the_default_formats(bench):
    """Issue 24, Speed goals: cold report (default formats) <= 2.5x the floor, wall; one cutoff
    changed <= 1.5x; unchanged re-run <= 0.8x. The formats are those ``python -m analysis
    run`` renders without ``--to``."""
    from analysis.cli import _parser

    rows = {r["row"]: r for r in bench.goals({"pipeline_pairs": [_pair(10, 10)]})
            if r["row"] in (1, 2, 3)}
    assert {n: (r["op"], r["target"]) for n, r in rows.items()} == {
        1: ("<=", 2.5), 2: ("<=", 0.8), 3: ("<=", 1.5)}
    assert ("cutoff" in rows[3]["measure"]) and ("unchanged" in rows[2]["measure"])
    assert all("wall" in r["measure"] for r in rows.values())
    default = _parser().parse_args(["run"]).to
    assert bench.FORMATS == default == "html,pdf,docx"
    assert bench.run_command("paper", Path("runs"))[-2:] == ["--to", default]


def test_unmeasured_rows_are_neither_met_nor_failed(bench):
    rows = bench.goals({})
    assert {r["row"] for r in rows} == {1, 2, 3, 4, 5, 6}
    assert all(r["met"] is None for r in rows)


def test_durations_are_read_as_pytest_prints_them(bench):
    text = ("........ [100%]\n"
            "============================= slowest 15 durations =============================\n"
            "31.02s call     tests/test_pipeline.py::test_paper_run\n"
            "4.50s setup    tests/test_report.py::test_html[paper]\n"
            "0.01s teardown tests/test_x.py::test_y\n"
            "12 passed in 40.31s\n")
    assert bench.parse_durations(text) == [
        {"seconds": 31.02, "phase": "call", "test": "tests/test_pipeline.py::test_paper_run"},
        {"seconds": 4.5, "phase": "setup", "test": "tests/test_report.py::test_html[paper]"},
        {"seconds": 0.01, "phase": "teardown", "test": "tests/test_x.py::test_y"}]
