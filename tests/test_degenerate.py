"""Degenerate cohorts give a report or a clear refusal, never a crash (issue 13, item 5).

Cohorts are made by dropping patients from the bundled synthetic cohort (every row of the
three tables with their ``patient_id``), so each stays a valid export: nobody, one or two
patients failing conventional treatment, none or one of them analysed for tacrolimus, and
only one responder. The whole pipeline runs once per test session on each of three cases
(:func:`small_run`, rendered to HTML, which the report tests read): nobody failing; one
failing patient, not on tacrolimus; two eligible patients, one failing on tacrolimus and one
responding. Together they reach each degenerate group: no failure, one failure, no
tacrolimus patient, one tacrolimus patient, one responder. (Until issue 24 Hypothesis drew
the cases, derandomised, two examples: it drew these and one more, one failure off
tacrolimus with one responder, whose properties the first two cases already cover one each,
at the cost of a fourth whole run.)

What is checked does not come from the code under test: the report's own source
(``report.qmd``) is scanned with a regular expression for every ``{{< var ... >}}`` it names,
and the group sizes are those the cohort was built with.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.pipeline import run

ROOT = paths.ROOT
RAW = paths.RAW
TABLES = ("patients.csv", "assessments.csv", "doses.csv")

pytestmark = pytest.mark.slow


def _groups() -> dict[str, list[str]]:
    """The paper run's groups of the bundled cohort (its Figure 1)."""
    from analysis.cohort import analysis_groups
    from analysis.params import Params
    from analysis.schema import read_cohort

    cohort = read_cohort(RAW)
    g = analysis_groups(cohort.patients, cohort.assessments, Params())
    included = g["included"].astype(bool)
    responder = g["conv_responder"].fillna(False).astype(bool)
    tac = g["tac_analysed"].fillna(False).astype(bool)
    ids = g["patient_id"].astype(str)
    return {"responders": ids[included & responder].tolist(),
            "failures_tac": ids[included & ~responder & tac].tolist(),
            "failures_other": ids[included & ~responder & ~tac].tolist()}


GROUPS = _groups()


def subset_export(folder: Path, keep: set[str] | None = None, drop: set[str] = frozenset(),
                  ) -> Path:
    """The bundled export without the rows of ``drop`` (or with only ``keep``'s and the
    excluded patients' rows); the codebook is copied as is."""
    folder.mkdir(parents=True)
    shutil.copy(RAW / "codebook.csv", folder / "codebook.csv")
    for name in TABLES:
        with open(RAW / name, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        kept = [rows[0]] + [r for r in rows[1:] if r[0] not in drop
                            and (keep is None or r[0] in keep)]
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(kept)
    return folder


def cohort(folder: Path, failures: int, tacrolimus: int, responders: int | None) -> Path:
    """Keep ``failures`` conventional failures (``tacrolimus`` of them analysed for
    tacrolimus) and ``responders`` responders (None: all); drop the other included patients."""
    tac = GROUPS["failures_tac"][:tacrolimus]
    other = GROUPS["failures_other"][:failures - len(tac)]
    resp = GROUPS["responders"] if responders is None else GROUPS["responders"][:responders]
    included = set(GROUPS["responders"]) | set(GROUPS["failures_tac"]) | set(
        GROUPS["failures_other"])
    return subset_export(folder, drop=included - set(tac) - set(other) - set(resp))


VAR = re.compile(r"\{\{<\s*var\s+([\w.]+)\s*>\}\}")


def prose_variables() -> list[str]:
    return sorted(set(VAR.findall((ROOT / "report.qmd").read_text(encoding="utf-8"))))


def lookup(variables: dict, dotted: str):
    value = variables
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def check_bundle(bundle: Path, failures: int, tacrolimus: int) -> None:
    """Every prose variable defined, no ``nan`` in what the report shows, small groups
    stated."""
    variables = yaml.safe_load((bundle / "_variables.yml").read_text(encoding="utf-8"))
    missing = [name for name in prose_variables() if lookup(variables, name) is None]
    assert missing == [], missing
    assert not re.search(r"\bnan\b", yaml.safe_dump(variables), re.IGNORECASE)
    shown = re.findall(r"include (tables/[\w.]+)",
                       (ROOT / "report.qmd").read_text(encoding="utf-8"))
    for name in shown:
        text = (bundle / name).read_text(encoding="utf-8")
        assert not re.search(r"\|\s*nan\s*\|", text, re.IGNORECASE), name
    note = (bundle / "tables" / "groups.md").read_text(encoding="utf-8")
    if failures == 0:
        assert "No patient failed conventional treatment (n = 0)" in note
    if failures == 1:
        assert "Only one patient failed conventional treatment (n = 1)" in note
    if tacrolimus == 0:
        assert "No patient was analysed for tacrolimus (n = 0)" in note
        assert "not computable (n = 0)" in (bundle / "tables" / "table3.md").read_text()
    if failures == 0:
        table2 = (bundle / "tables" / "table2.md").read_text()
        assert re.search(r"not computable \(n = \d+ vs 0; needs 2 per group\)", table2)


#: The cases (failures, tacrolimus, responders): nobody failing; one failing patient; two
#: eligible patients (one failing, one responding). A test reads each one's HTML report.
CASES = [(0, 0, None), (1, 0, None), (1, 1, 1)]
HTML_CASES = set(CASES)


def small_run(shared_dir: Path, session_once, failures: int, tacrolimus: int,
              responders: int | None) -> Path:
    """The whole pipeline on the cohort of one case (the HTML report only for the cases of
    :data:`HTML_CASES`, whose report is read): run once per session for each distinct case
    (shared by the xdist workers), then reused."""
    case = f"small-{failures}-{tacrolimus}-{responders or 'all'}"
    base = shared_dir / "degenerate" / case
    formats = ("html",) if (failures, tacrolimus, responders) in HTML_CASES else ()

    def make():
        shutil.rmtree(base, ignore_errors=True)  # a failed attempt's leftovers
        data = cohort(base / "data", failures, tacrolimus, responders)
        run(case, data_dir=data, runs_dir=base / "runs", formats=formats, engine="pandoc",
            log=lambda _: None)

    session_once(case, make)
    return base / "runs" / case


@pytest.mark.parametrize("failures, tacrolimus, responders", CASES)
def test_small_groups_run_through_the_whole_pipeline(shared_dir, session_once, failures,
                                                     tacrolimus, responders):
    """Each small cohort the report tests below read: nobody failing (issue 13), one failing
    patient and no tacrolimus patient, one failure on tacrolimus and one responder."""
    bundle = small_run(shared_dir, session_once, failures, tacrolimus, responders)
    check_bundle(bundle, failures, tacrolimus)


def test_nobody_failing_renders_a_report(shared_dir, session_once):
    """Issue 13: ``report.qmd:104: variable 'dose.conv_fail_prednisone_baseline_mean' not
    found``. The report renders and says why the numbers are missing."""
    bundle = small_run(shared_dir, session_once, 0, 0, None)
    check_bundle(bundle, 0, 0)
    html = " ".join((bundle / "report.html").read_text(encoding="utf-8").split())
    assert "No patient failed conventional treatment (n = 0)" in html
    assert "not computable (n = 0)" in html
    assert not re.search(r">\s*nan\s*<", html)


#: An odds ratio as the predictors section prints one: "3.51 (1.13 to 11.74)", "∞" limits.
ODDS_RATIO = re.compile(r"\d+\.\d\d \((\d+\.\d\d|∞) to (\d+\.\d\d|∞)\)")


@pytest.mark.parametrize("failures, tacrolimus, responders", [
    (1, 0, None),  # one failing patient (and the 31 responders)
    (1, 1, 1),  # two eligible patients: one failing, one responding
])
def test_one_event_gives_no_odds_ratio(shared_dir, session_once, failures, tacrolimus,
                                       responders):
    """Issue 21: with one failing patient the predictors section printed "Ku OR 321 (8.26 to
    114207), p = 0.002"; with two eligible patients "CK OR 109659102737129200 (0.00 to ∞)"
    and p = 0.31 on every row. One failure (or one responder) is one event, below any
    minimum (at least 3 per term): every row reads "not estimable" with its events (1, or 0
    where the complete cases hold no failure: histology, only biopsied patients), with no
    odds ratio and no p, in the section the report includes and in its HTML; the effect
    sizes' odds ratios too."""
    bundle = small_run(shared_dir, session_once, failures, tacrolimus, responders)
    section = (bundle / "tables" / "predictors.md").read_text(encoding="utf-8")
    rows = [line for line in section.splitlines() if line.startswith("| ")
            and not line.startswith(("| Characteristic", "| Term"))]
    assert len(rows) >= 20  # a row per characteristic (levels nobody has give none)
    reasons = re.compile(r"not estimable \((0 events|1 event|no patients)\)")
    for line in rows:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert reasons.fullmatch(cells[-2]) and cells[-1] == "N/A", line
    assert sum("not estimable (1 event)" in line for line in rows) >= 15
    assert not ODDS_RATIO.search(section)
    if responders is None:  # PM and DM both present: the sentence states the reason
        assert "dermatomyositis vs polymyositis: not estimable (1 event)." in section
    effects = (bundle / "tables" / "effects.md").read_text(encoding="utf-8")
    assert "not estimable (1 event)" in effects
    assert not re.search(r"\| *(\d+\.\d\d|∞) \([^|]*\) *\| *[^|]* *\|$", effects, re.MULTILINE)
    html = " ".join((bundle / "report.html").read_text(encoding="utf-8").split())
    start = html.index("Predictors of failure of conventional treatment</h")
    end = html.index("</table>", html.index("EXPLORATORY two-predictor model", start))
    shown = html[start:end]  # the section: prose, table, figure, exploratory model
    assert shown.count("not estimable (1 event)") >= 15
    assert not ODDS_RATIO.search(shown) and "p = 0" not in shown


def test_everyone_excluded_is_refused_clearly(tmp_path):
    """Issue 13: all under 18 crashed step 03 with a DataValidationError. Now one sentence
    and exit status 2, before anything is created."""
    data = subset_export(tmp_path / "data")
    path = data / "patients.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    age = rows[0].index("age_at_index"), rows[0].index("age_at_onset")
    for row in rows[1:]:
        row[age[0]], row[age[1]] = "16", "15"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    out = subprocess.run([sys.executable, "-m", "analysis", "run", "--name", "minors", "--data",
                          str(data), "--runs-dir", str(tmp_path / "runs"), "--to", "none"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(
        f"error: no eligible patients: all 67 patients in {data} are excluded by the "
        "inclusion criteria (under age: 67)"), out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not (tmp_path / "runs").exists()
