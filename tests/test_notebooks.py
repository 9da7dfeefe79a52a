"""Notebooks are committed clean and thin, and declare only what they use.

The parameters-cell contract (issue 11; issue 15's "one place to change a cutoff"): a
notebook's ``parameters`` cell declares the path of the run's parameter file
(``params_file``) and the folders it reads or writes, nothing else; no cutoff, test rule or
other number of the analysis is written in a notebook (they live in ``analysis.params.Params``
and in that one file). In JupyterLab every notebook reads ``notebooks/lab-params.yaml``; a
pipeline run injects the path of its own ``params.yaml``.
"""

import ast
import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.errors import ParameterError
from analysis.params import (
    GROUPS,
    Params,
    check_one_parameter_set,
    group_names,
    load_step_params,
    params_digest,
    step_parameters,
)
from analysis.pipeline import NOTEBOOKS

FOLDER = paths.NOTEBOOKS
BOOKS = sorted(FOLDER.glob("*.ipynb"))
#: What a parameters cell may declare: the parameter file and the folders (plus the run's name
#: for the collecting step, which records it, and the Excel sheet of the export: ``run
#: --sheet``). The pipeline injects each of these.
#: Step 05 also declares where the sweep over its grid is kept between runs (``sweep_file``:
#: a pipeline run gives its cache file, analysis.steps); the steps that read the export and
#: the response groups, where the run kept them (``cohort_file``, ``groups_file``: done once
#: per run, analysis.steps).
#: The steps that draw figures declare which files of each figure they write (``figures``:
#: the run's ``--figures``, analysis.report.style.FIGURE_SETS).
ALLOWED = {"params_file", "data_dir", "run_dir", "published_dir", "run_name", "sheet",
           "sweep_file", "cohort_file", "groups_file", "figures"}
FIELDS = {f.name for f in dataclasses.fields(Params)}
#: Steps whose outputs depend on the parameters: each records the parameters it read.
STAMPED = ("02_flow", "03_tables", "04_tapers", "05_sensitivity")
#: The step that reads no parameter (analysis.steps): it loads and checks the export only.
UNPARAMETERISED = ("01_cohort.ipynb",)


def cells(path: Path, kind: str = "code") -> list[dict]:
    book = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in book["cells"] if c["cell_type"] == kind]


def parameters_cell(path: Path) -> dict:
    tagged = [c for c in cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
    return tagged[0]


def test_pipeline_runs_every_notebook_in_the_folder():
    assert [p.name for p in BOOKS] == sorted(NOTEBOOKS)


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for cell in cells(path):
        assert cell.get("outputs") == [], f"{path.name}: a cell carries outputs"
        assert cell.get("execution_count") is None, f"{path.name}: execution count"


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_parameters_cell_declares_the_parameter_file_and_folders_only(path):
    namespace: dict = {}
    exec("".join(parameters_cell(path)["source"]), namespace)  # plain assignments only
    declared = set(namespace) - {"__builtins__"}
    assert declared <= ALLOWED, f"{path.name} declares {sorted(declared - ALLOWED)}"
    if path.name in UNPARAMETERISED:  # reused by a run with other parameters: reads none
        assert "params_file" not in declared, path.name
        assert "params" not in "".join("".join(c["source"]) for c in cells(path))
        return
    assert "params_file" in declared, f"{path.name}: no params_file"
    # In JupyterLab (no injection, working folder notebooks/) it is the one lab file.
    assert (FOLDER / namespace["params_file"]).resolve() == FOLDER / "lab-params.yaml"


def test_the_lab_parameter_file_holds_comments_only():
    """The paper's values live in ``Params`` alone: the committed lab file overrides nothing
    (a class uncomments a line to change a definition)."""
    text = (FOLDER / "lab-params.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) is None
    assert Params.load(FOLDER / "lab-params.yaml") == Params()
    examples = re.findall(r"^# (\w+):", text, flags=re.M)  # the lines a class uncomments
    assert examples and set(examples) <= FIELDS, examples

def assigned_names(tree: ast.AST) -> set[str]:
    return {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)}


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_no_cutoff_or_number_is_written_in_a_notebook(path):
    """No code cell assigns a parameter's name or passes a number: cutoffs, test rules, the
    bootstrap's resamples and seed all come from the parameter file."""
    for cell in cells(path):
        tree = ast.parse("".join(cell["source"]))
        duplicated = assigned_names(tree) & FIELDS
        assert not duplicated, f"{path.name} sets {sorted(duplicated)} in code"
        numbers = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                   and isinstance(node.value, int | float) and not isinstance(node.value, bool)]
        assert numbers == [], f"{path.name}: number(s) {numbers} in code; make a parameter"


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_each_notebook_shows_the_parameters_it_uses(path):
    calls = [c for c in cells(path) if "parameter_table(params" in "".join(c["source"])]
    assert len(calls) == (path.name not in UNPARAMETERISED), \
        f"{path.name}: one cell shows the parameters"


@pytest.mark.parametrize("step", STAMPED)
def test_steps_that_use_parameters_record_them(step):
    code = "\n".join("".join(c["source"]) for c in cells(FOLDER / f"{step}.ipynb"))
    assert f'load_step_params(params_file, run_dir, "{step}")' in code


def test_the_collecting_step_refuses_a_mix():
    code = "\n".join("".join(c["source"]) for c in cells(FOLDER / "06_reproduction.ipynb"))
    assert code.index("check_one_parameter_set(run_dir, params)") < code.index(
        "load_fragments(run_dir)")


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_notebooks_hold_no_logic(path):
    # Logic lives in analysis/ where tests reach it: no def, class or loop over patients.
    for cell in cells(path):
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), path.name
            assert not isinstance(node, ast.While), path.name


# ------------------------------------------------------------------ one parameter set per run
def test_every_parameter_is_shown_by_some_group():
    shown = {name for group in ("definition", *GROUPS) for name in group_names(group)}
    assert shown == FIELDS
    assert "ild_criteria_required" in group_names("definition")  # Methods: 'at least 2 of 4'


def test_a_run_folder_mixing_two_parameter_sets_is_refused(tmp_path):
    """The classroom mistake of issue 15: the parameter file is changed and only 02 re-run."""
    paper, changed = tmp_path / "paper.yaml", tmp_path / "changed.yaml"
    paper.write_text("")
    changed.write_text("ild_criteria_required: 1\n")
    run_dir = tmp_path / "lab"
    for step in STAMPED:
        load_step_params(paper, run_dir, step)
    assert check_one_parameter_set(run_dir, Params()) == {
        step: params_digest(Params(), step_parameters(step)) for step in STAMPED}
    load_step_params(changed, run_dir, "02_flow")
    with pytest.raises(ParameterError) as error:
        check_one_parameter_set(run_dir, Params())
    assert str(error.value) == (
        f"{run_dir} mixes outputs of two parameter sets: 02_flow ran with "
        "ild_criteria_required=1 (now 2). Run every notebook again in order (01 to 06) so "
        "that all outputs come from the same parameter file (in the lab: `make reset`).")
    # A mapping names only the entry that differs, never the whole mapping (issue 26).
    (tmp_path / "t.yaml").write_text("continuous_tests: {t2.ck: t}\n")
    load_step_params(tmp_path / "t.yaml", run_dir, "02_flow")
    with pytest.raises(ParameterError) as error:
        check_one_parameter_set(run_dir, Params())
    assert "02_flow ran with continuous_tests.t2.ck='t' (now 'mannwhitney'). Run" in str(
        error.value)
    # Collected under the new file instead, the other three steps are named.
    with pytest.raises(ParameterError, match="03_tables ran with ild_criteria_required=2 "
                                             r"\(now 1\); 04_tapers"):
        check_one_parameter_set(run_dir, Params(ild_criteria_required=1))


def test_a_step_is_checked_on_the_parameters_it_read(tmp_path):
    """A value only step 05 reads (the bootstrap's seed) changed and only 06 re-run: the run
    folder holds one parameter set as far as each step read it, and is accepted; a value 03
    reads (small-cell suppression) changed and only 06 re-run: refused, naming 03 alone."""
    paper, changed = tmp_path / "paper.yaml", tmp_path / "changed.yaml"
    paper.write_text("")
    changed.write_text("bootstrap_seed: 1\n")
    run_dir = tmp_path / "lab"
    for step in STAMPED:
        load_step_params(paper, run_dir, step)
    load_step_params(changed, run_dir, "05_sensitivity")
    assert set(check_one_parameter_set(run_dir, Params(bootstrap_seed=1))) == set(STAMPED)
    changed.write_text("bootstrap_seed: 1\nsuppress_below: 5\n")
    load_step_params(changed, run_dir, "05_sensitivity")
    with pytest.raises(ParameterError) as error:
        check_one_parameter_set(run_dir, Params(bootstrap_seed=1, suppress_below=5))
    assert "03_tables ran with suppress_below=0 (now 5)." in str(error.value)
    assert "02_flow" not in str(error.value) and "05_sensitivity" not in str(error.value)


def test_a_run_hands_its_parameters_to_the_steps_parsed_once(tmp_path, monkeypatch):
    """Issue 24: the run parses and validates its parameters once; the code each kernel runs
    as it starts (analysis.pipeline.hand_over_code) makes them the parameters of the run's
    ``params.yaml``, byte for byte, so a step reads no YAML (parsing is made to fail here)
    and still records what it read. Any other file (the lab's) is read as before."""
    from analysis import params as params_module
    from analysis.pipeline import hand_over_code, write_params_file

    variant = Params(fvc_decline=0.05, continuous_tests={"t2.ck": "t"})
    text = write_params_file(tmp_path, variant)  # the run's params.yaml
    monkeypatch.setattr(params_module, "_HANDED", {})
    exec(hand_over_code(text, variant), {})  # as in a kernel, after its imports

    def no_parsing(*args, **kwargs):
        raise AssertionError("the parameter file was parsed again")

    monkeypatch.setattr(Params, "load", no_parsing)
    run_dir = tmp_path / "run"
    assert load_step_params(tmp_path / "params.yaml", run_dir, "03_tables") == variant
    assert check_one_parameter_set(run_dir, variant) == {
        "03_tables": params_digest(variant, step_parameters("03_tables"))}
    (tmp_path / "lab.yaml").write_text(text + "# edited by a student\n")
    with pytest.raises(AssertionError, match="parsed again"):
        params_module.read_params(tmp_path / "lab.yaml")


def test_the_parameter_hash_follows_every_value():
    assert params_digest(Params()) == params_digest(Params.load(overrides=["alpha=0.05"]))
    assert params_digest(Params()) != params_digest(Params(bootstrap_seed=1))
    assert len(params_digest(Params())) == 64


# ------------------------------------------------------------------ the class, end to end
def execute(path: Path):
    """Run a notebook as JupyterLab would: no injected parameters, working folder its own;
    return the executed notebook (its outputs as the class sees them)."""
    import nbclient
    import nbformat

    from analysis.pipeline import _ipc_kernel_manager, kernel_name

    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, kernel_name=kernel_name(), timeout=300,
                            kernel_manager_class=_ipc_kernel_manager(),
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return book


def shown(book, mime: str, key: str, stem: str) -> str:
    """The output a notebook displayed for figure or table ``stem`` (``analysis.teaching``)."""
    return next(o["data"][mime] for cell in book.cells if cell.cell_type == "code"
                for o in cell.outputs if o.get("metadata", {}).get(mime, {}).get(key) == stem)


def figure_1_is_drawn_from_the_flow_table(run_dir: Path, scratch: Path) -> bool:
    """Whether ``run_dir``'s Figure 1 (the PNG the report embeds) is the drawing of its own
    ``tables/flow.csv``, every box's ``n = <count>`` among the drawing's texts."""
    import matplotlib.text
    import pandas as pd

    from analysis.report.figures import plot_flow, save_figure

    flow = pd.read_csv(run_dir / "tables" / "flow.csv")
    fig = plot_flow(flow)
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    drawn = save_figure(fig, scratch, "figure1")[0]
    return (all(f"n = {n}" in texts for n in flow["n"])
            and drawn.read_bytes() == (run_dir / "figures" / "figure1.png").read_bytes())


def flow_counts(run_dir: Path) -> dict[str, int]:
    import pandas as pd

    flow = pd.read_csv(run_dir / "tables" / "flow.csv")
    return dict(zip(flow["key"], flow["n"], strict=True))


@pytest.mark.slow
def test_one_edit_of_the_lab_file_reaches_every_notebook(paper_run, tmp_path):
    """Issue 15, exercise 1: a class uncomments ``ild_criteria_required: 1`` in the lab file
    after running everything with the paper's values, re-runs 02 and 03, and Figure 1 and
    Table 2 move together; collecting (05) then refuses the folder, since 04 and 06 still hold
    outputs of the paper's parameters."""
    import pandas as pd
    from nbclient.exceptions import CellExecutionError

    books = tmp_path / "notebooks"
    books.mkdir()
    for path in BOOKS:
        (books / path.name).write_bytes(path.read_bytes())
    lab_file = (FOLDER / "lab-params.yaml").read_text(encoding="utf-8")
    assert "\n# ild_criteria_required: 1 " in lab_file
    (books / "lab-params.yaml").write_text(
        lab_file.replace("\n# ild_criteria_required: 1 ", "\nild_criteria_required: 1 "))
    (tmp_path / "data").symlink_to(FOLDER.parent / "data", target_is_directory=True)
    lab = tmp_path / "runs" / "lab"
    shutil.copytree(paper_run, lab)  # the class ran every notebook with the paper's values

    flow_book = execute(books / "02_flow.ipynb")
    tables_book = execute(books / "03_tables.ipynb")
    flow, paper = flow_counts(lab), flow_counts(paper_run)
    # More patients fail when one criterion suffices; 33 is what issue 15 observed
    # (a regression figure, not a hand computation).
    assert (paper["flow.conv_failures"], flow["flow.conv_failures"]) == (23, 33)
    assert figure_1_is_drawn_from_the_flow_table(lab, tmp_path / "drawn")
    assert (lab / "figures" / "figure1.png").read_bytes() != \
        (paper_run / "figures" / "figure1.png").read_bytes()
    table2 = pd.read_csv(lab / "tables" / "table2.csv")
    # Table 2's groups are Figure 1's responders and failures, under the same parameters.
    sex = table2[table2["variable"] == "sex"]  # a row everybody has
    assert set(sex["n_nonresp"]) == {flow["flow.conv_failures"]}
    assert set(sex["n_resp"]) == {flow["flow.conv_responders"]}
    # ... and so do the outputs the class sees: Figure 1 is the new PNG, Table 2's caption
    # gives the new group sizes.
    import base64

    figure = base64.b64decode(shown(flow_book, "image/png", "figure", "figure1"))
    assert figure == (lab / "figures" / "figure1.png").read_bytes()
    assert figure != (paper_run / "figures" / "figure1.png").read_bytes()
    table = shown(tables_book, "text/html", "table", "table2")
    assert (f"responders n = {flow['flow.conv_responders']}, "
            f"nonresponders n = {flow['flow.conv_failures']}") in table

    with pytest.raises(CellExecutionError) as refused:
        execute(books / "06_reproduction.ipynb")
    assert "mixes outputs of two parameter sets" in str(refused.value)
    # one message, no traceback of the package's internals (issue 26)
    assert "analysis/params.py" not in str(refused.value), str(refused.value)
    assert "04_tapers ran with ild_criteria_required=2 (now 1)" in str(refused.value)
    assert "02_flow" not in str(refused.value).split("parameter sets:")[1].split(". Run")[0]
