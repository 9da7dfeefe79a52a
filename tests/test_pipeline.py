"""End to end: papermill notebooks, the run bundle, rendering, failure safety.

Every test reads the session's one paper run (and its variant run, tests/conftest.py); the
only other runs are a cache-reusing re-run and runs of stub notebooks (a failure)."""

import json
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from analysis import paths, pipeline
from analysis.errors import ParameterError, PipelineError
from analysis.params import Params, check_one_parameter_set, params_digest, step_parameters
from analysis.pipeline import COLLECT, INDEPENDENT, NOTEBOOKS, plan_run, run

pytestmark = pytest.mark.slow


def test_bundle_has_every_part(paper_run: Path):
    for name in ("params.yaml", "manifest.json", "results.json", "report.html", "report.pdf",
                 "_variables.yml"):
        assert (paper_run / name).is_file(), name
    assert sorted(p.name for p in (paper_run / "notebooks").iterdir()) == sorted(NOTEBOOKS)
    for stem in ("table1", "table2", "table3", "flow", "doses", "reproduction", "audit"):
        assert (paper_run / "tables" / f"{stem}.csv").is_file(), stem
        assert (paper_run / "tables" / f"{stem}.md").is_file(), stem
    # Each figure drawn once, as the PNG the report embeds (the print set: --figures print).
    stems = ("figure1", "predictors_forest", "sensitivity_pm_dm", "sensitivity_responders",
             "sensitivity_shares", "taper_conventional", "taper_tacrolimus")
    assert sorted(p.name for p in (paper_run / "figures").iterdir()) == [
        f"{stem}.png" for stem in stems]
    assert not list(paper_run.parent.glob(".paper.tmp-*")), "staging folder left behind"


def test_manifest_records_inputs_versions_and_commit(paper_run: Path):
    manifest = json.loads((paper_run / "manifest.json").read_text())
    assert set(manifest) >= {"started", "finished", "git_commit", "inputs", "packages"}
    assert any(k.endswith("patients.csv") for k in manifest["inputs"])
    assert all(len(h) == 64 for h in manifest["inputs"].values())
    assert manifest["packages"]["pandas"] == "3.1.1"
    # The engine that rendered the report and its version (/work/shared/QUARTO.md, defect 11):
    # the paper run's fixture renders with the stand-in, so pandoc's and Typst's versions, as
    # installed (pypandoc, importlib.metadata), and Appendix C says the same in words.
    from importlib import metadata

    import pypandoc

    pandoc, typst = pypandoc.get_pandoc_version(), metadata.version("typst")
    renderer = manifest["renderer"]
    assert renderer["engine"] == "pandoc" and renderer["version"] == pandoc
    assert renderer["tools"] == {"pandoc": pandoc, "typst": typst}
    appendix = (paper_run / "tables" / "reproducibility.md").read_text(encoding="utf-8")
    assert f"Rendered by pandoc {pandoc} and Typst {typst}" in appendix
    assert not any(p.name in (".quarto", ".gitignore") for p in paper_run.rglob("*"))


def test_executed_notebooks_read_the_run_parameter_file(paper_run: Path):
    """The pipeline injects the path of the run's own ``params.yaml`` (and nothing a notebook
    does not declare); the notebook shows the values it read."""
    assert Params.load(paper_run / "params.yaml") == Params()
    for name in NOTEBOOKS:
        book = nbformat.read(paper_run / "notebooks" / name, as_version=4)
        injected = [c for c in book.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected, name
        if name == "01_cohort.ipynb":  # reads no parameter (analysis.steps): given none
            assert "params_file" not in injected[0].source
            continue
        assert "params_file = " in injected[0].source and "params.yaml" in injected[0].source
        assert "fvc_decline" not in injected[0].source, name  # no cutoff is injected
    # step 05 is given the step cache's file of the sweep over its grid (analysis.steps)
    book = nbformat.read(paper_run / "notebooks" / "05_sensitivity.ipynb", as_version=4)
    assert "/.cache/sweep/" in next(c.source for c in book.cells
                                   if "injected-parameters" in c.metadata.get("tags", []))
    book = nbformat.read(paper_run / "notebooks" / "03_tables.ipynb", as_version=4)
    shown = [o for c in book.cells if "parameter_table(params" in c.source for o in c.outputs]
    shown = shown[0]["data"]  # the notebooks show their tables as HTML (issue 26)
    assert "fvc_decline" in shown.get("text/html", shown["text/plain"])


def test_every_step_ran_with_the_run_parameters(paper_run: Path):
    """Each step that uses the parameters recorded their hash, and it is that of the run's
    ``params.yaml``: what step 06 checks before collecting (issue 15)."""
    stamps = check_one_parameter_set(paper_run, Params.load(paper_run / "params.yaml"))
    assert sorted(stamps) == ["02_flow", "03_tables", "04_tapers", "05_sensitivity"]
    assert stamps == {step: params_digest(Params(), step_parameters(step)) for step in stamps}


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


def stub_notebooks(folder: Path, failing: str | None = None) -> Path:
    """Notebooks named as the pipeline's steps that only declare their parameters (and one
    that raises): the pipeline's failure handling does not depend on what the steps compute,
    so these test it at the cost of kernel starts only."""
    folder.mkdir()
    for name in NOTEBOOKS:
        book = nbformat.v4.new_notebook()
        book.cells.append(nbformat.v4.new_code_cell('params_file = "p.yaml"\nrun_dir = "."'))
        book.cells[0].metadata["tags"] = ["parameters"]
        code = "raise RuntimeError('deliberate failure')" if name == failing else "pass"
        book.cells.append(nbformat.v4.new_code_cell(code))
        book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}  # papermill reads it
        nbformat.write(book, folder / name)
    return folder


def test_failed_run_leaves_previous_bundle_intact(paper_run: Path, tmp_path: Path):
    books = stub_notebooks(tmp_path / "notebooks", failing="03_tables.ipynb")
    before = (paper_run / "manifest.json").read_bytes()
    with pytest.raises(PipelineError, match="03_tables.ipynb.*deliberate failure"):
        run("paper", runs_dir=paper_run.parent, formats=(), notebooks_dir=books,
            log=lambda _: None)
    assert (paper_run / "manifest.json").read_bytes() == before
    assert (paper_run / "report.html").is_file()
    assert not list(paper_run.parent.glob(".paper.*"))
    assert (paper_run.parent / "_failed" / "paper" / "03_tables.ipynb").is_file()


def test_a_run_without_cache_says_so(tmp_path: Path):
    books = stub_notebooks(tmp_path / "notebooks")
    bundle = run("nocache", runs_dir=tmp_path / "runs", formats=(), notebooks_dir=books,
                 cache=False, log=lambda _: None)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert {manifest["steps"][nb]["cache"] for nb in NOTEBOOKS} == {"off"}
    assert sorted(p.name for p in (bundle / "notebooks").iterdir()) == sorted(NOTEBOOKS)
    assert not (tmp_path / "runs" / ".cache").exists()
    # Without the cache the run keeps the checked export and the groups in its staging
    # folder, and removes them before the bundle is published (patient rows).
    assert (manifest["steps"]["01_cohort.ipynb"]["export"]["cache"],
            manifest["steps"]["groups"]["cache"]) == ("off", "off")
    assert not list(bundle.glob(".*")) and not list(bundle.rglob("*.parquet"))
    # Every notebook ran in a kernel started once: numbered from 1 as in a fresh kernel, and
    # blind to the variables of the notebook before it (the stub's second cell is cell 2).
    for name in NOTEBOOKS:
        book = nbformat.read(bundle / "notebooks" / name, as_version=4)
        assert [c.execution_count for c in book.cells] == list(range(1, len(book.cells) + 1))


def test_one_kernel_gives_each_notebook_a_fresh_namespace(tmp_path: Path):
    """Two notebooks in one kernel: the second does not see the first's variables, pyplot
    figures, matplotlib settings or working directory (analysis.kernels.ISOLATE)."""
    books = stub_notebooks(tmp_path / "notebooks")
    first = nbformat.read(books / INDEPENDENT[0], as_version=4)
    first.cells[1].source = ("import os, matplotlib, matplotlib.pyplot as plt\n"
                             "leftover = 1\nplt.figure()\n"
                             "matplotlib.rcParams['lines.linewidth'] = 9.0\nos.chdir('/')")
    nbformat.write(first, books / INDEPENDENT[0])
    for name in INDEPENDENT[1:]:
        book = nbformat.read(books / name, as_version=4)
        book.cells[1].source = (
            "import os, matplotlib, matplotlib.pyplot as plt\n"
            "assert 'leftover' not in globals()\nassert plt.get_fignums() == []\n"
            "assert matplotlib.rcParams['lines.linewidth'] != 9.0\n"
            f"assert os.getcwd() == {str(books)!r}")
        nbformat.write(book, books / name)
    bundle = run("isolated", runs_dir=tmp_path / "runs", formats=(), notebooks_dir=books,
                 cache=False, jobs=1, log=lambda _: None)
    assert json.loads((bundle / "manifest.json").read_text())["kernels"]["count"] == 1


def test_cache_keys_follow_what_each_step_reads(tmp_path: Path, monkeypatch):
    """A change to the printed numbers touches only the steps that read them (02 and 05); a
    change to one notebook touches only that step and the collecting step 06."""
    data = pipeline.DEFAULT_DATA
    books = tmp_path / "notebooks"
    books.mkdir()
    for name in NOTEBOOKS:
        (books / name).write_bytes((paths.NOTEBOOKS / name).read_bytes())
    before = plan_run("paper", Params(), data, books, None).keys
    published = tmp_path / "published"
    published.mkdir()
    numbers = (pipeline.PUBLISHED / "numbers.csv").read_text(encoding="utf-8")
    (published / "numbers.csv").write_text(numbers + "\n", encoding="utf-8")
    monkeypatch.setattr(pipeline.plan, "PUBLISHED", published)
    after = plan_run("paper", Params(), data, books, None).keys
    assert sorted(nb for nb in NOTEBOOKS if after[nb] != before[nb]) == [
        "02_flow.ipynb", COLLECT]
    monkeypatch.undo()
    (books / "05_sensitivity.ipynb").write_bytes(
        (books / "05_sensitivity.ipynb").read_bytes() + b"\n")
    after = plan_run("paper", Params(), data, books, None).keys
    assert sorted(nb for nb in NOTEBOOKS if after[nb] != before[nb]) == [
        "05_sensitivity.ipynb", COLLECT]

    before = after  # the notebooks as they are now

    def changed(**values):
        after = plan_run("paper", Params(**values), data, books, None).keys
        return sorted(step for step in before if after[step] != before[step])

    # A parameter reaches the steps that read it (analysis.steps), and only those: a changed
    # cutoff computes the response groups again and runs again what reads them, and reuses
    # step 01 (the export) and the sweep over the sensitivity grid (its definitions do not
    # depend on the run's own).
    defined = sorted(["02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb", COLLECT,
                      "05_sensitivity.ipynb", "groups"])
    tested = [step for step in defined if step != "groups"]  # the groups read no test rule
    assert changed(fvc_decline=0.05) == changed(ck_missing_baseline="not_met") == defined
    assert changed(alpha=0.051) == tested  # the tests' level: not the sweep's p-values
    assert changed(bootstrap_seed=1) == ["05_sensitivity.ipynb", COLLECT]
    assert changed(suppress_below=5) == ["03_tables.ipynb", COLLECT]
    # What the grid does not sweep (the tests' rules, the eligibility, pft_missing by
    # default) or the grid itself does reach the sweep.
    assert changed(fisher_sided="two-sided") == [*tested, "sweep"]
    assert changed(pft_missing="met") == [*defined, "sweep"]
    assert changed(sensitivity_grid={"fvc_decline": [0.05, 0.10]}) == [
        "05_sensitivity.ipynb", COLLECT, "sweep"]


def test_print_figures_are_keyed_apart():
    """``--figures print`` makes the notebook steps write more files (the print set), so their
    keys, and the collecting step's that reads them, are not the report set's; step 01, the
    groups and the sweep hold no figure and are shared. An unknown set is refused before
    anything runs."""
    data, books = pipeline.DEFAULT_DATA, paths.NOTEBOOKS
    report = plan_run("paper", Params(), data, books, None).keys
    assert plan_run("paper", Params(), data, books, None, figures="report").keys == report
    printed = plan_run("paper", Params(), data, books, None, figures="print").keys
    # the steps that draw figures (02-05) and the collecting step that reads them; not step 01
    # (it draws none), and so not the groups and the sweep, which read only its output
    assert sorted(s for s in report if printed[s] != report[s]) == sorted(
        set(NOTEBOOKS) - {"01_cohort.ipynb"})
    with pytest.raises(ParameterError, match="figures must be one of report, print"):
        run("bad", figures="svg", runs_dir=Path("/nonexistent/runs"), formats=())


def test_rerun_reuses_unchanged_steps_and_is_byte_identical(paper_run: Path):
    # Same inputs, parameters and code: steps 01-04 and 06 come from the cache (05 records the
    # run's name, so runs under another name), and the tables and numbers are byte-identical
    # to the paper run, which computed every step from scratch.
    assert {json.loads((paper_run / "manifest.json").read_text())["steps"][nb]["cache"]
            for nb in INDEPENDENT} == {"miss"}
    again = run("again", runs_dir=paper_run.parent, formats=(), log=lambda _: None)
    steps = json.loads((again / "manifest.json").read_text())["steps"]
    assert {steps[nb]["cache"] for nb in INDEPENDENT} == {"hit"}
    assert steps[COLLECT]["cache"] == "miss"
    results = {name: json.loads((folder / "results.json").read_text())
               for name, folder in (("paper", paper_run), ("again", again))}
    assert results["again"].pop("run") == "again" and results["paper"].pop("run") == "paper"
    assert results["again"] == results["paper"]
    for table in sorted((paper_run / "tables").glob("*.csv")):
        assert (again / "tables" / table.name).read_bytes() == table.read_bytes(), table.name
    # The same run once more (now rendered), then again: step 06 is reused under its own
    # name, and the second rendering is reused with the bytes the first one wrote.
    first = run("again", runs_dir=paper_run.parent, formats=("html",), engine="pandoc",
                log=lambda _: None)
    html = (first / "report.html").read_bytes()
    steps = json.loads((first / "manifest.json").read_text())["steps"]
    assert (steps[COLLECT]["cache"], steps["render"]["cache"]) == ("hit", "miss")
    second = run("again", runs_dir=paper_run.parent, formats=("html",), engine="pandoc",
                 log=lambda _: None)
    steps = json.loads((second / "manifest.json").read_text())["steps"]
    assert {steps[nb]["cache"] for nb in NOTEBOOKS} | {steps["render"]["cache"]} == {"hit"}
    assert (second / "report.html").read_bytes() == html
    # tables.xlsx, written beside the rendering and then reused, has the paper run's bytes.
    for folder in (first, second):
        assert (folder / "tables" / "tables.xlsx").read_bytes() == \
            (paper_run / "tables" / "tables.xlsx").read_bytes()
    assert not list(second.glob(".*"))  # no working folder (.steps, .workbook) left behind


def test_a_cutoff_change_reuses_the_cohort_step_and_the_sweep(paper_run: Path,
                                                              variant_run: Path):
    """The variant (FVC decline 5%) ran after the paper run in the same folder: step 01 and
    the sweep over the sensitivity grid have the paper run's keys and come from its cache; the
    steps that read the response definition ran again (by the manifests' keys, not times)."""
    paper = json.loads((paper_run / "manifest.json").read_text())["steps"]
    steps = json.loads((variant_run / "manifest.json").read_text())["steps"]
    sensitivity = "05_sensitivity.ipynb"
    assert steps["01_cohort.ipynb"]["key"] == paper["01_cohort.ipynb"]["key"]
    assert steps["01_cohort.ipynb"]["cache"] == "hit"
    assert steps[sensitivity]["sweep"]["key"] == paper[sensitivity]["sweep"]["key"]
    assert (paper[sensitivity]["sweep"]["cache"], steps[sensitivity]["sweep"]["cache"]) == (
        "miss", "hit")
    for nb in ("02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb", sensitivity):
        assert steps[nb]["key"] != paper[nb]["key"] and steps[nb]["cache"] == "miss", nb


def injected(bundle: Path, name: str) -> dict:
    """The values the pipeline injected into an executed notebook's parameters."""
    book = nbformat.read(bundle / "notebooks" / name, as_version=4)
    cell = next(c for c in book.cells if "injected-parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(cell.source, namespace)  # plain assignments only
    return namespace


def test_the_export_is_read_once_and_the_groups_computed_once(paper_run: Path,
                                                              variant_run: Path):
    """Done once per run (issue 24), shown by the manifests and the injected files, never by
    times. The paper run read and checked the export (the cache was empty) and kept it as
    step 01's output; the variant (one changed cutoff) read that kept copy, not the export.
    Each run computed the response groups once, under its own definition's key, and every
    step that reads them was given that one file, and the kept export. Neither bundle holds
    the kept copy (patient rows) or the groups."""
    cohort, sensitivity = "01_cohort.ipynb", "05_sensitivity.ipynb"
    readers = ("02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb", sensitivity)
    folders = {"paper": paper_run, "variant": variant_run}
    manifests = {name: json.loads((folder / "manifest.json").read_text())["steps"]
                 for name, folder in folders.items()}
    paper, variant = manifests["paper"], manifests["variant"]
    assert (paper[cohort]["export"]["cache"], variant[cohort]["export"]["cache"]) == (
        "miss", "hit")
    assert paper[cohort]["export"]["key"] == variant[cohort]["export"]["key"] == \
        paper[cohort]["key"]
    assert (paper["groups"]["cache"], variant["groups"]["cache"]) == ("miss", "miss")
    assert paper["groups"]["key"] != variant["groups"]["key"]
    for name, folder in folders.items():
        key = manifests[name]["groups"]["key"]
        kept = {injected(folder, nb)["cohort_file"] for nb in (cohort, *readers)}
        assert len(kept) == 1 and f"/.cache/cohort/{paper[cohort]['export']['key']}" in \
            kept.pop(), name
        groups = {injected(folder, nb)["groups_file"] for nb in readers}
        assert len(groups) == 1, name
        groups = Path(groups.pop())
        assert groups.parent.name == "groups" and groups.name.startswith(key), name
        assert groups.is_file(), name
        assert not list(folder.rglob("*.parquet")) and not list(folder.rglob("*.pickle"))


def test_a_registry_size_export_runs_in_one_kernel(tmp_path):
    """Each kernel holds its own copy of the export (issue 13 item 6: a 100,000-patient run
    within 1 GB over all processes), so an export over 10 MB gets one kernel; the bundled
    cohort (34 kB) gets the CPU-count default. Sizes written by hand."""
    from analysis.pipeline import DEFAULT_KERNELS, default_kernels

    assert default_kernels(paths.RAW) == DEFAULT_KERNELS
    (tmp_path / "assessments.csv").write_bytes(b"x" * (10 * 2**20 + 1))
    assert default_kernels(tmp_path) == 1
    (tmp_path / "assessments.csv").write_bytes(b"x" * (10 * 2**20))
    assert default_kernels(tmp_path) == DEFAULT_KERNELS


def test_the_run_process_lets_go_of_the_export_it_validated():
    """The CLI process validates the export but analyses nothing; after
    ``release_export`` it no longer holds the remembered read (issue 13 item 6)."""
    from analysis.pipeline import release_export
    from analysis.schema import export, read_cohort

    read_cohort(paths.RAW)
    assert export._MEMO
    release_export()
    assert not export._MEMO
