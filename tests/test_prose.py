"""The report's sentences follow the data (issue 21): no direction word about the data is
typed in ``report.qmd``, and a cohort whose every comparison is reversed prints reversed
sentences.

The reversed cohort is the bundled synthetic export transformed so that each comparison of
the prose turns the other way, by construction and without the code under test: myositis
types PM and DM swapped; sexes swapped; the tacrolimus-period FVC and TLC of the patients
who respond to tacrolimus halved (their relative declines, hence their response, are
unchanged; their values fall below the failures'); the dose time points relabelled so that
each taper runs backwards (baseline <-> 6-12 months; tacrolimus start <-> 1 year).
"""

from __future__ import annotations

import csv
import html
import re
import shutil
from pathlib import Path

import pytest
import yaml

from analysis.report.prose import prose_variables

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"

#: Direction words about data (issue 21's list, with their inflections).
DIRECTION_WORDS = re.compile(
    r"\b(more often|less often|as often|lower|higher|fell|fall|falls|rose|rise|rises|"
    r"decrease[sd]?|increase[sd]?|reversed)\b", re.I)


def _results_text(qmd: str) -> str:
    """``report.qmd`` from the Results to the end, without the references, variables,
    includes and attribute blocks (what a renderer fills in, not what the author typed)."""
    body = qmd[qmd.index("\n# Results"):]
    body = re.sub(r"\n# References.*?(?=\n# Appendix)", "\n", body, flags=re.S)
    body = re.sub(r"\{\{<.*?>\}\}", " ", body)
    return re.sub(r"\{[#.][^}]*\}", " ", body)


def html_text(path: Path) -> str:
    """The visible text of an HTML page, whitespace normalised."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"</?(?:span|a)\b[^>]*>", "", page)  # inline: a keyed number (issue 28)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\u00a0", " ")
    return " ".join(text.split())


def test_report_qmd_types_no_direction_word_about_the_data():
    text = _results_text((ROOT / "report.qmd").read_text(encoding="utf-8"))
    found = sorted({m.group(0) for m in DIRECTION_WORDS.finditer(text)})
    assert not found, f"report.qmd types direction words: {found}"


def test_a_sentence_about_empty_groups_says_so():
    prose = prose_variables({}, None, {})
    assert prose["pm_vs_dm"].startswith("The response of patients with PM-ILD and patients "
                                        "with DM-ILD to conventional treatment cannot be "
                                        "compared")
    assert "could not be followed" in prose["dose_conv"]
    assert "cannot be followed" in prose["dose_tac"]
    assert not DIRECTION_WORDS.search(prose["pm_vs_dm"] + prose["dose_conv"])


def _reversed_export(folder: Path) -> Path:
    from analysis.cohort import analysis_groups
    from analysis.params import Params
    from analysis.schema import read_cohort

    cohort = read_cohort(RAW)
    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    responders = set(groups.loc[groups["tac_responder"].fillna(False).astype(bool),
                                "patient_id"])
    folder.mkdir(parents=True, exist_ok=True)

    def rewrite(name: str, change) -> None:
        with open(RAW / name, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            change(row)
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    def patient(row):
        row["myositis_type"] = {"PM": "DM", "DM": "PM"}.get(row["myositis_type"],
                                                           row["myositis_type"])
        row["sex"] = {"M": "F", "F": "M"}[row["sex"]]

    def assessment(row):
        if row["patient_id"] in responders and row["timepoint"].startswith("tac_"):
            for column in ("fvc", "tlc"):
                if row[column]:
                    row[column] = str(round(float(row[column]) / 2))

    swap = {"conv_baseline": "conv_6_12m", "conv_6_12m": "conv_baseline",
            "tac_start": "tac_1y", "tac_1y": "tac_start"}

    def dose(row):
        row["timepoint"] = swap.get(row["timepoint"], row["timepoint"])

    rewrite("patients.csv", patient)
    rewrite("assessments.csv", assessment)
    rewrite("doses.csv", dose)
    return folder


@pytest.mark.slow
def test_a_cohort_with_every_comparison_reversed_prints_reversed_sentences(shared_dir,
                                                                           session_once):
    from analysis.pipeline import run

    base = shared_dir / "reversed"

    def make():
        shutil.rmtree(base, ignore_errors=True)
        data = _reversed_export(base / "data")
        run("reversed", data_dir=data, runs_dir=base / "runs", formats=("html",),
            engine="pandoc", log=lambda _: None)

    session_once("reversed-cohort", make)
    bundle = base / "runs" / "reversed"
    from analysis.report.provenance import unkeyed

    # the sentences as a reader reads them (each number carries its key, issue 28)
    prose = {name: unkeyed(text) for name, text in yaml.safe_load(
        (bundle / "_variables.yml").read_text(encoding="utf-8"))["prose"].items()}
    assert "Patients with PM-ILD responded to conventional treatment less often than " \
           "patients with DM-ILD" in prose["pm_vs_dm"]
    assert "Women responded to conventional treatment less often than men" in prose["sex"]
    assert "had higher FVC" in prose["tac_pft"] and "and higher TLC" in prose["tac_pft"]
    assert re.search(r"rose to [\d.]+ mg by 6–12 months", prose["dose_conv"])
    assert re.search(r"rose to [\d.]+ mg at 1 year \(\d+% increase", prose["dose_tac"])
    text = html_text(bundle / "report.html")
    for sentence in prose.values():  # every sentence reached the report as written
        assert " ".join(sentence.split()) in text
    claims = {r["id"]: r["verdict"] for r in csv.DictReader(
        open(bundle / "tables" / "claims.csv", encoding="utf-8"))}
    for cid in ("pm_vs_dm", "sex", "fvc_lower", "tlc_lower", "prednisone_y1"):
        assert claims[cid] == "reversed", (cid, claims[cid])
