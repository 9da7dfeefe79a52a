"""Notebooks are committed clean, thin, and declare the run's parameters."""

import ast
import json
from pathlib import Path

import pytest

from analysis.params import Params
from analysis.pipeline import NOTEBOOKS

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
BOOKS = sorted(FOLDER.glob("*.ipynb"))


def test_pipeline_runs_every_notebook_in_the_folder():
    assert [p.name for p in BOOKS] == sorted(NOTEBOOKS)


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a cell carries outputs"
            assert cell.get("execution_count") is None, f"{path.name}: execution count"


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_parameters_cell_declares_every_parameter_with_the_papers_default(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    tagged = [c for c in book["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    namespace: dict = {}
    exec("".join(tagged[0]["source"]), namespace)  # plain assignments only
    assert Params.from_namespace(namespace) == Params()
    for name in ("data_dir", "run_dir", "published_dir", "run_name"):
        assert name in namespace


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_notebooks_hold_no_logic(path):
    # Logic lives in analysis/ where tests reach it: no def, class or loop over patients.
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), path.name
            assert not isinstance(node, ast.While), path.name
