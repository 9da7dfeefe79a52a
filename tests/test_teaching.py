"""Issues 15 and 26, teaching in JupyterLab: the notebooks as a class runs them (nbclient,
working folder ``notebooks/``, no injected parameters) show every figure as an image and every
table as HTML in the report's formatting, and each exercise's check passes with the teacher's
solution however it is typed, explains what is missing without it, and gives another answer
before and after the exercise's one change.

The solutions' answers come from named sources: the printed paper, scipy on the printed counts
or on the data (an independent implementation), conftest's plain-Python Figure 1, or a
regression figure labelled as one.
"""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths
from analysis.params import Params
from analysis.teaching import EXERCISES, check
from analysis.teaching.display import show_table, table_html

ROOT = paths.ROOT
FOLDER = paths.NOTEBOOKS
BOOKS = sorted(FOLDER.glob("*.ipynb"))


# ------------------------------------------------------------------------------ fast: display
def test_table_html_renders_the_paper_headings_bold_and_escapes_values():
    frame = pd.DataFrame({"Clinical characteristics": ["**Sex**", "\u2003Male", "a < b"],
                          "p": ["", "0.62", ""]})
    text = table_html(frame, caption="Table 2. Caption", notes="\\*COP with NSIP")
    assert '<td style="text-align:left"><b>Sex</b></td>' in text and "**" not in text
    # row labels left-aligned (issue 26: bold headings sat at the right), p-values right
    assert '<th style="text-align:left">Clinical' in text
    assert '<th style="text-align:right">p' in text
    assert "a &lt; b" in text and "*COP with NSIP" in text and "\\*" not in text


def test_show_table_tags_its_output_with_the_table_stem():
    shown = show_table(pd.DataFrame({"x": [1]}), "flow")
    assert shown.metadata == {"table": "flow"}
    html, metadata = shown._repr_html_()  # IPython sends both to the notebook
    assert html.startswith("<table") and metadata == {"table": "flow"}


def test_every_exercise_names_one_change_its_steps_and_a_question():
    for ex in EXERCISES.values():
        assert len(ex.change) == 1 and set(ex.change) <= set(Params().to_dict())
        assert ex.steps and all((FOLDER / f"{s}.ipynb").is_file() for s in ex.steps)
        assert ex.question.endswith("?") and ex.minutes > 0
        assert "after `answer =`" in ex.markdown() and "make reset" in ex.markdown()
    # each exercise's check is called once, in the last notebook it runs again (issue 26:
    # exercise 1's check sat in 02 and needed 03, so the class went back and forth)
    code = {p.stem: "".join("".join(c["source"]) for c in json.loads(p.read_text())["cells"])
            for p in BOOKS}
    for key, ex in EXERCISES.items():
        assert [stem for stem, text in code.items() if f'check("{key}"' in text] == [
            ex.steps[-1]], key


def test_each_notebook_is_valid_with_unique_cell_ids():
    import nbformat

    for path in BOOKS:
        book = json.loads(path.read_text())
        ids = [c["id"] for c in book["cells"]]
        assert len(ids) == len(set(ids)), path.name
        nbformat.validate(book)


def test_answers_are_read_as_a_person_types_them():
    from analysis.teaching.exercises import _number

    assert _number(33) == _number(33.0) == _number("33") == _number(" 33 ") == 33
    assert _number("p = 0.11") == _number(".11") == _number(0.11) == 0.11
    assert _number("thirty-three") is _number(True) is _number([33]) is _number(None) is None


def test_a_conclusion_is_named_by_its_label_on_the_share_plot_or_its_key():
    """Issue 26: the share plot writes "Majority respond to tacrolimus"; the check wanted
    "tac_majority" only."""
    from analysis.report.sensitivity import CONCLUSION_LABELS
    from analysis.sensitivity import conclusions, sweep
    from analysis.teaching.exercises import _conclusions

    claims = conclusions(sweep(*_cohort_tables(), Params(), {}))
    for key, label in CONCLUSION_LABELS.items():
        for typed in (key, label, label.replace("\n", " "), label.upper() + ".", [label]):
            assert _conclusions(typed, claims) == {key}, typed
    assert _conclusions("none", claims) == frozenset()
    assert _conclusions("the moon", claims) is None


def _cohort_tables():
    from analysis.schema import read_cohort

    cohort = read_cohort(ROOT / "data" / "raw")
    return cohort.patients, cohort.assessments


def test_each_change_is_spelled_one_way_everywhere():
    """Issue 26: the README wrote ``{t2.ck: t}``, the exercise ``{'t2.ck': 't'}`` and the lab
    file two commented lines. The exercise's line (YAML flow style) is the spelling."""
    from analysis.teaching.exercises import change_line

    lab = (FOLDER / "lab-params.yaml").read_text(encoding="utf-8")
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in (
        "README.md", "notebooks/README.md", "docs/teaching/solutions.md")}
    for ex in EXERCISES.values():
        line = change_line(ex)
        assert f"\n# {line} " in lab or f"\n# {line}\n" in lab, line
        assert f"```yaml\n  {line}\n  ```" in ex.markdown()
        for name, text in texts.items():
            assert f"`{line}`" in text, (name, line)
        import yaml

        assert yaml.safe_load(line) == dict(ex.change)  # what the student writes is the change


def test_the_readmes_give_no_answer_and_no_developer_words_reach_a_student():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "answer=" not in readme.replace(" ", "") and "answer =" not in readme
    for ex in EXERCISES.values():  # the exercises' own text carries no issue numbers either
        assert not re.search(r"issue \d", ex.markdown())
    for path in BOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            text = "".join(cell["source"])
            assert not re.search(r"issue \d", text), path.name
            if cell["cell_type"] == "markdown":  # code names a clinician does not read
                assert not re.search(r"analysis\.\w+\.|tables/\w+\.(md|csv)", text), path.name


# ------------------------------------------------------------------------------ slow: a class
def execute(path: Path):
    """Run a notebook as JupyterLab does (no injected parameters, working folder its own);
    return the executed notebook."""
    import nbclient
    import nbformat

    from analysis.pipeline import _ipc_kernel_manager, kernel_name

    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, kernel_name=kernel_name(), timeout=600,
                            kernel_manager_class=_ipc_kernel_manager(),
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return book


def outputs(book) -> list[dict]:
    return [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]


def classroom(root: Path) -> Path:
    """A copy of the repository's notebooks and lab file beside the data, as a laptop has."""
    books = root / "notebooks"
    books.mkdir(parents=True)
    for path in [*BOOKS, FOLDER / "lab-params.yaml"]:
        shutil.copy(path, books / path.name)
    for name in ("data",):
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    return books


@pytest.fixture(scope="session")
def lab(shared_dir, session_once):
    """Every notebook run once, in order, with the committed (paper's) lab file: once for the
    session, shared by the xdist workers (conftest's ``once``); the executed notebooks are
    kept in ``class/executed``."""
    import nbformat

    root = shared_dir / "class"

    def make():
        shutil.rmtree(root, ignore_errors=True)  # a failed attempt's leftovers
        books = classroom(root)
        (root / "executed").mkdir()
        for path in BOOKS:
            nbformat.write(execute(books / path.name), root / "executed" / path.name)

    session_once("class", make)
    return root, {path.stem: nbformat.read(root / "executed" / path.name, as_version=4)
                  for path in BOOKS}


@pytest.mark.slow
def test_every_figure_is_an_image_and_every_table_html(lab):
    root, executed = lab
    run = root / "runs" / "lab"
    images, tables = {}, set()
    for book in executed.values():
        for out in outputs(book):
            assert "PosixPath(" not in json.dumps(out), "a stray repr"
            assert "<Figure size" not in json.dumps(out), "a figure shown as its repr"
            data, meta = out.get("data", {}), out.get("metadata", {})  # metadata per type
            if "image/png" in data:
                images[meta["image/png"]["figure"]] = data["image/png"]
            if "text/html" in data:
                assert "**" not in data["text/html"], "Markdown shown as source"
                tables.add(meta.get("text/html", {}).get("table"))
    import base64

    # the figures the report includes (not the 300-dpi print copies saved beside them)
    saved = {p.stem: p.read_bytes() for p in (run / "figures").glob("*.png")
             if not p.stem.endswith("_300dpi")}
    assert saved and set(images) == set(saved)
    for stem, png in saved.items():  # the very PNG the report includes
        assert base64.b64decode(images[stem]) == png, stem
    assert {p.stem for p in (run / "tables").glob("*.csv")} <= tables
    table2 = next(o["data"]["text/html"] for o in outputs(executed["03_tables"])
                  if o.get("metadata", {}).get("text/html", {}).get("table") == "table2")
    assert "<b>Sex</b>" in table2 and "<b>Race</b>" in table2  # the paper's group headings
    assert "responders n = 31, nonresponders n = 23" in table2  # Sharma 2017, Table 2 header


@pytest.mark.slow
def test_what_a_student_reads_has_no_issue_numbers_and_tables_print_as_the_report(lab):
    """Issue 26: no "issue 16" in the notebooks, and no table shows 16-digit floats or code
    headers ("0.31200000000000017", ``or_low``)."""
    _, executed = lab
    for name, book in executed.items():
        for cell in book.cells:
            texts = [cell.source] + [json.dumps(o) for o in getattr(cell, "outputs", [])]
            assert not any(re.search(r"issue \d", t) for t in texts), name
        for out in outputs(book):
            table = out.get("data", {}).get("text/html", "")
            if "<table" not in table:
                continue
            assert not re.search(r"\d\.\d{7,}", table), (name, table[:300])  # a float's repr
            heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
            assert not [h for h in heads if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)], (name, heads)


#: The teacher's answers (docs/teaching/solutions.md), each with its source.
SOLUTIONS = {
    # Figure 1's failures with 1 of 4 ILD criteria: 33, as issue 15 observed in JupyterLab
    # (a regression figure, not a hand computation).
    "ild-definition": 33,
    # scipy.stats.fisher_exact(two-sided) on Table 3's printed counts, anti-Jo1 6/13 vs 0/5.
    "fisher-sided": 0.11,
    # scipy.stats.ttest_ind (pooled) on baseline CK of Table 2's groups: see the test below.
    "t-test": None,
    # conftest's plain-Python Figure 1 with a missing CK meeting no criterion.
    "missing-data": None,
    # FVC decline 15% (REGRESSION FIGURE, read off the Tables 2-3 engine's run of that
    # definition): PM vs DM's two-sided Fisher p and Table 3's TLC p rise above 0.05 and both
    # comparisons keep the paper's direction ("direction only"); named as the share plot does.
    "sensitivity": ["PM-ILD responds more than DM-ILD", "Tacrolimus failures: lower TLC"],
}


def solution(key: str, cohort, plain_flow) -> object:
    if key == "t-test":
        from scipy import stats

        from analysis.cohort import analysis_groups
        from analysis.tables import analysis_dataset

        groups = analysis_groups(cohort.patients, cohort.assessments, Params())
        data = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
        data = data[data["included"].fillna(False).astype(bool)].dropna(subset=["ck"])
        resp = data["conv_responder"].astype(bool)
        p = stats.ttest_ind(data.loc[resp, "ck"], data.loc[~resp, "ck"]).pvalue
        return round(float(p), 2)
    if key == "missing-data":
        return plain_flow(cohort, missing_ck="not_met")["conv_responders"]
    if key == "fisher-sided":
        from scipy import stats

        assert round(stats.fisher_exact([[6, 7], [0, 5]]).pvalue, 2) == SOLUTIONS[key]
    return SOLUTIONS[key]


def lab_file_with(change: dict) -> str:
    import yaml

    return yaml.safe_dump(change, default_flow_style=False)


@pytest.mark.slow
@pytest.mark.parametrize("key", list(EXERCISES))
def test_each_exercise_check_explains_what_is_missing_then_passes(key, lab, tmp_path, cohort,
                                                                 plain_flow):
    root, _ = lab
    ex = EXERCISES[key]
    where = dict(params_file=root / "notebooks" / "lab-params.yaml",
                 run_dir=root / "runs" / "lab", data_dir=root / "data" / "raw")
    # The unchanged notebooks: the check names the parameter and the line to write.
    before = check(key, 1, **where)
    assert not before.ok
    name = next(iter(ex.change))
    assert "does not make the change yet" in before.reasons[0] and name in before.reasons[0]

    # The student's copy: the one change, the steps run again in order.
    mine = tmp_path / "class"
    books = classroom(mine)
    shutil.copytree(root / "runs", mine / "runs")
    (books / "lab-params.yaml").write_text(lab_file_with(dict(ex.change)))
    where = dict(params_file=books / "lab-params.yaml", run_dir=mine / "runs" / "lab",
                 data_dir=mine / "data" / "raw")
    stale = check(key, **where)
    assert not stale.ok and f"{ex.steps[0]} last ran with other parameters" in stale.reasons[0]
    for step in ex.steps:
        execute(books / f"{step}.ipynb")
    unanswered = check(key, **where)
    assert not unanswered.ok and unanswered.reasons == (
        f"Your change reached the outputs of {', '.join(ex.steps)}.", unanswered.reasons[-1])
    assert unanswered.reasons[-1].startswith("No answer yet")
    answer = solution(key, cohort, plain_flow)
    right = check(key, answer, **where)
    assert right.ok and right.reasons[-1] == f"Your answer {answer!r} is right.", str(right)
    assert len(right.reasons) > 1  # ... and why
    words = re.sub(r"'[^']*'", "", " ".join(right.reasons[:-1]))  # quoted: what one types
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|\bt[23]\.", words), (
        "the explanation names things in words, not codes")
    # ... however it is typed (issue 26: 33.0 was refused while '33' was accepted)
    typed = ([answer, float(answer), str(answer), f" {answer} "] if ex.kind == "count" else
             [answer, str(answer), f"p = {answer}"] if ex.kind == "p" else
             [answer, [a.lower() for a in answer], ["tlc_lower", "pm_vs_dm"], tuple(answer)])
    for variant in typed:
        assert check(key, variant, **where).ok, variant
    wrong = check(key, answer + 1 if ex.kind == "count" else answer + 0.1 if ex.kind == "p"
                  else "tac_majority", **where)
    assert not wrong.ok and "is not what your run shows" in wrong.reasons[-1]
    unreadable = check(key, "something else", **where)
    assert not unreadable.ok and unreadable.reasons[-1].startswith(
        "Your answer 'something else' is not ")

    # The one change moves the answer (issue 26: exercise 5's shares did not move with it).
    from analysis.teaching.exercises import Context

    paper = Context(Params(), root / "runs" / "lab", root / "data" / "raw")
    changed = Context(Params.load(books / "lab-params.yaml"), mine / "runs" / "lab",
                      mine / "data" / "raw")
    assert ex.answer(paper) != ex.answer(changed)


@pytest.mark.slow
def test_the_reset_brings_the_lab_run_back_through_the_step_cache(paper_run, variant_run,
                                                                   tmp_path):
    """Issue 26: re-running 01-06 by hand after each exercise took about 4.5 minutes on a busy
    machine. The reset runs the pipeline into runs/lab and reuses the steps the paper run
    computed (the same notebooks, parameters, data and code); a second reset reuses all.
    The lab file that still changes a value is the session's variant (FVC decline 5%,
    conftest's ``variant_run``, in the same folder), so that reset too comes from the cache
    instead of recomputing every step and the sweep."""
    from analysis.params import check_one_parameter_set, params_digest, step_parameters
    from analysis.teaching.reset import reset_lab

    lab_file = tmp_path / "lab-params.yaml"
    lab_file.write_text((FOLDER / "lab-params.yaml").read_text(encoding="utf-8"))
    said: list[str] = []
    folder = reset_lab(lab_file, runs_dir=paper_run.parent, log=said.append)
    steps = json.loads((folder / "manifest.json").read_text())["steps"]
    assert {s for s, v in steps.items() if v["cache"] == "hit"} >= {
        "01_cohort.ipynb", "02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb",
        "05_sensitivity.ipynb"}
    reset_lab(lab_file, runs_dir=paper_run.parent, log=said.append)
    steps = json.loads((folder / "manifest.json").read_text())["steps"]
    assert all(v["cache"] == "hit" for v in steps.values()), steps
    assert said[-1].startswith("runs/lab reset in ") and (
        f"({len(steps)} of {len(steps)} steps reused): every notebook's outputs are the "
        "paper's values again.") in said[-1]
    # every step's stamp is the lab file's parameters: the checks and step 06 accept it
    stamps = check_one_parameter_set(folder, Params())
    assert stamps == {step: params_digest(Params(), step_parameters(step)) for step in stamps}
    assert (folder / "tables" / "table2.csv").read_bytes() == (
        paper_run / "tables" / "table2.csv").read_bytes()
    # a lab file that still changes something is followed, and said
    lab_file.write_text("fvc_decline: 0.05\n")
    folder = reset_lab(lab_file, runs_dir=paper_run.parent, log=said.append)
    assert "still changes fvc_decline: 0.05; comment that out" in said[-1]
    assert Params.load(folder / "params.yaml") == Params(fvc_decline=0.05)
