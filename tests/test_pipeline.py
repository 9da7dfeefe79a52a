"""End to end: papermill notebooks, the run bundle, rendering, failure safety."""

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from analysis.errors import PipelineError
from analysis.params import Params
from analysis.pipeline import NOTEBOOKS, ROOT, run

pytestmark = pytest.mark.slow


def test_bundle_has_every_part(paper_run: Path):
    for name in ("params.yaml", "manifest.json", "results.json", "report.html", "report.pdf",
                 "_variables.yml"):
        assert (paper_run / name).is_file(), name
    assert sorted(p.name for p in (paper_run / "notebooks").iterdir()) == sorted(NOTEBOOKS)
    for stem in ("table1", "table2", "table3", "flow", "doses", "reproduction", "audit"):
        assert (paper_run / "tables" / f"{stem}.csv").is_file(), stem
        assert (paper_run / "tables" / f"{stem}.md").is_file(), stem
    for stem in ("figure1", "taper_conventional", "taper_tacrolimus"):
        for suffix in ("png", "svg"):
            assert (paper_run / "figures" / f"{stem}.{suffix}").is_file()
    assert not list(paper_run.parent.glob(".paper.tmp-*")), "staging folder left behind"


def test_manifest_records_inputs_versions_and_commit(paper_run: Path):
    manifest = json.loads((paper_run / "manifest.json").read_text())
    assert set(manifest) >= {"started", "finished", "git_commit", "inputs", "packages"}
    assert any(k.endswith("patients.csv") for k in manifest["inputs"])
    assert all(len(h) == 64 for h in manifest["inputs"].values())
    assert manifest["packages"]["pandas"] == "3.1.1"


def test_executed_notebooks_carry_the_run_parameters(paper_run: Path):
    book = nbformat.read(paper_run / "notebooks" / "03_tables.ipynb", as_version=4)
    injected = [c for c in book.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "fvc_decline = 0.1" in injected[0].source


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.external = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and value.startswith(("http://", "https://")):
                if tag in ("script", "link", "img", "source", "iframe", "object", "embed"):
                    self.external.append((tag, value))


def test_html_opens_offline(paper_run: Path):
    parser = _Resources()
    html = (paper_run / "report.html").read_text(encoding="utf-8")
    parser.feed(html)
    assert parser.external == []
    assert "@import url(http" not in html and "url(https://" not in html


def test_pdf_has_real_text(paper_run: Path):
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(paper_run / "report.pdf").pages)
    text = " ".join(text.split())
    assert "Myositis-associated interstitial lung disease" in text
    assert "44.9 (14.9)" in text  # Table 1: age at onset, mean (SD)


def test_failed_run_leaves_previous_bundle_intact(paper_run: Path, tmp_path: Path):
    books = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", books)
    broken = nbformat.read(books / "03_tables.ipynb", as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(broken, books / "03_tables.ipynb")
    before = (paper_run / "manifest.json").read_bytes()
    with pytest.raises(PipelineError, match="03_tables.ipynb.*deliberate failure"):
        run("paper", runs_dir=paper_run.parent, formats=(), notebooks_dir=books,
            log=lambda _: None)
    assert (paper_run / "manifest.json").read_bytes() == before
    assert (paper_run / "report.html").is_file()
    assert not list(paper_run.parent.glob(".paper.*"))


def test_rerun_reuses_unchanged_steps_and_is_byte_identical(paper_run: Path, tmp_path: Path):
    # Same inputs, parameters and code: steps 01-04 come from the cache, and the tables and
    # results are byte-identical to a run computed from scratch.
    again = run("again", runs_dir=paper_run.parent, formats=(), log=lambda _: None)
    steps = json.loads((again / "manifest.json").read_text())["steps"]
    assert {steps[nb]["cache"] for nb in NOTEBOOKS[:-1]} == {"hit"}
    fresh = run("again", runs_dir=tmp_path, formats=(), cache=False, log=lambda _: None)
    assert json.loads((fresh / "manifest.json").read_text())["steps"]["02_flow.ipynb"][
        "cache"] == "off"
    for name in ["results.json", *(f"tables/{p.name}" for p in (fresh / "tables").glob("*.csv"))]:
        assert (fresh / name).read_bytes() == (again / name).read_bytes(), name


def test_a_cutoff_change_runs_every_step_again(paper_run: Path):
    variant = run("fvc-check", Params(fvc_decline=0.07), runs_dir=paper_run.parent, formats=(),
                  log=lambda _: None)
    steps = json.loads((variant / "manifest.json").read_text())["steps"]
    assert {steps[nb]["cache"] for nb in NOTEBOOKS[:-1]} == {"miss"}
