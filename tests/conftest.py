"""Shared fixtures: ONE end-to-end run of the paper's pipeline per test session, shared by every
end-to-end test (test_pipeline, test_report, test_reproduction, test_privacy, test_interrupt,
test_snapshot_paper_run), and one variant run for the tests that need a second parameter set.

Both live in one session folder, so the variant and any later run there reuse the paper run's
step cache where nothing they depend on changed.

With pytest-xdist (``-n 2``, the default in pyproject.toml) "one per session" means one for all
workers: :func:`once` computes a session's expensive result in the first worker that asks for
it, under a file lock in the folder the workers share, and the others wait for it and reuse it
(the pattern pytest-xdist documents for session fixtures). The runs of other names that tests
make in the same folder are safe side by side: each run name has its own lock and staging
folder, and step-cache entries are written aside and renamed (analysis/runfolder.py).
"""

import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths

ROOT = paths.ROOT


def shared_tmp(tmp_path_factory) -> Path:
    """The session's temporary folder shared by all xdist workers (the test session's own
    folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory, key: str, make: Callable[[], object]) -> None:
    """Call ``make()`` exactly once for the whole session: the first worker to get the lock
    ``key`` calls it, the others wait for it and then find it done. A failure leaves no done
    mark, so each worker that needs it tries again (and fails the same way)."""
    from filelock import FileLock

    root = shared_tmp(tmp_path_factory)
    with FileLock(root / f"{key}.lock"):
        if not (root / f"{key}.done").is_file():
            make()
            (root / f"{key}.done").touch()


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    """The session's temporary folder shared by the xdist workers."""
    return shared_tmp(tmp_path_factory).resolve()


@pytest.fixture(scope="session")
def session_once(tmp_path_factory) -> Callable[[str, Callable[[], object]], None]:
    """:func:`once` for a test module's own session-wide result: ``session_once(key, make)``."""
    return lambda key, make: once(tmp_path_factory, key, make)


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """The session's runs folder (shared by the xdist workers)."""
    folder = shared_tmp(tmp_path_factory).resolve() / "runs"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def paper_run(tmp_path_factory, runs_dir) -> Path:
    """The default run (papermill notebooks + pip-only rendering) into a temporary runs/.

    Computed from scratch: the session's step cache is empty when it starts."""
    from analysis.pipeline import run

    once(tmp_path_factory, "paper_run",
         lambda: run("paper", runs_dir=runs_dir, engine="pandoc", log=lambda _: None))
    return runs_dir / "paper"


@pytest.fixture(scope="session")
def variant_run(tmp_path_factory, paper_run):
    """A variant (FVC decline of 5% instead of the paper's 10%) beside the paper run, HTML only:
    its report compares itself with the paper run of the same folder."""
    from analysis.params import Params
    from analysis.pipeline import run

    once(tmp_path_factory, "variant_run", lambda: run(
        "fvc5", Params(fvc_decline=0.05), runs_dir=paper_run.parent, engine="pandoc",
        formats=("html",), log=lambda _: None))
    return paper_run.parent / "fvc5"


@pytest.fixture(scope="session")
def cohort():
    from analysis.schema import read_cohort

    return read_cohort(paths.RAW)


# --------------------------------------------------------------------------------------------
# INDEPENDENT IMPLEMENTATION of Figure 1's counts for tests (shares no code with
# analysis.response or analysis.cohort): exact decimals (Fraction), plain loops.

def _value(x):
    return None if x is None or pd.isna(x) else Fraction(str(float(x)))


def _refractory(before: dict, after: dict, ck_uln: float, missing_ck: str,
                fvc: str = "0.10") -> bool:
    """Sharma 2017, Methods: refractory myositis (weakness, or CK neither <= ULN nor fallen by
    more than 50%) or refractory ILD (2 of: FVC -10%, TLC -10%, DLCO -15% relative,
    symptoms). A missing PFT value meets nothing; a missing CK counts as ``missing_ck`` says
    ("refractory" or "not_met")."""
    met = 0
    for test, cutoff in (("fvc", fvc), ("tlc", "0.10"), ("dlco", "0.15")):
        b, a = _value(before[test]), _value(after[test])
        met += b is not None and a is not None and (b - a) / b >= Fraction(cutoff)
    met += after["worsening_resp_symptoms"] is True
    b, a = _value(before["ck"]), _value(after["ck"])
    if a is not None and a <= Fraction(str(ck_uln)):
        ck = False
    elif a is None or b is None:
        ck = missing_ck == "refractory"
    else:
        ck = not (b - a) / b > Fraction("0.5")
    return met >= 2 or ck or after["worsening_weakness"] is True


def _plain_flow(cohort, ck_uln: float = 200.0, missing_ck: str = "refractory",
                fvc: str = "0.10") -> dict:
    """INDEPENDENT IMPLEMENTATION of Figure 1 (Sharma 2017, Methods, Patients and Response)."""
    def records(timepoint):
        frame = cohort.assessments[cohort.assessments["timepoint"] == timepoint]
        return {r["patient_id"]: {k: (None if v is pd.NA else v) for k, v in r.items()}
                for r in frame.to_dict("records")}

    index, month6 = records("index"), records("month6")
    start, month12 = records("tac_start"), records("tac_month12")
    included = conv_resp = tac_n = tac_resp = 0
    for p in cohort.patients.to_dict("records"):
        dmard = any(p[f"{d}_conventional"] is True for d in ("aza", "mtx", "mmf"))
        if (p["age_at_index"] < 18 or p["myositis_type"] in ("overlap", "IBM", "other_myopathy")
                or p["cancer_chemo_before_conventional"] is True
                or not (p["prednisone_conventional"] is True and dmard)):
            continue
        included += 1
        pid = p["patient_id"]
        if pid in index and pid in month6 and not _refractory(index[pid], month6[pid], ck_uln,
                                                               missing_ck, fvc):
            conv_resp += 1
            continue
        if p["second_line"] == "tacrolimus" and p["tacrolimus_data_sufficient"] is True:
            tac_n += 1
            tac_resp += (pid in start and pid in month12
                         and not _refractory(start[pid], month12[pid], ck_uln, missing_ck,
                                           fvc))
    return {"included": included, "conv_responders": conv_resp,
            "conv_failures": included - conv_resp, "tac_analysed": tac_n,
            "tac_responders": tac_resp}


@pytest.fixture(scope="session")
def plain_flow():
    """``plain_flow(cohort, ck_uln=200.0, missing_ck="refractory", fvc="0.10")``: Figure 1's
    counts by the independent reading above."""
    return _plain_flow


@pytest.fixture
def export(tmp_path) -> Path:
    """A writable copy of the bundled export (``data/raw``'s three tables) to damage in a
    test, in ``tmp_path/export``."""
    import shutil

    from analysis.schema import TABLES

    folder = tmp_path / "export"
    folder.mkdir()
    for table in TABLES:
        shutil.copy(paths.RAW / f"{table}.csv", folder)
    return folder
