"""The package's layers read top-down (issue 24): no module imports from a layer above its
own, and no two modules import each other, directly or round a cycle.

Every import counts, those inside functions too (a lazy import is still a dependency). The
imports are read from the source with :mod:`ast`, an independent reading of what Python
would import (no module is executed). A new module must be placed in a layer here.
"""

import ast
import sys
from pathlib import Path

import pytest

from analysis import paths

PACKAGE = paths.ROOT / "analysis"

#: The layers, bottom first; a module may import from its own layer and those below. A name
#: ending in ``.*`` places a subpackage's modules; a more specific name wins.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # the project's files, errors, what each step reads, the study's table rows, how a
    # number prints and what a printed number means
    ("base", ("analysis", "paths", "files", "errors", "steps", "paramfile", "paper",
              "paper.rows", "paper.grids", "printed", "format")),
    # the run's parameters, the tests, who is eligible
    ("rules", ("params", "stats", "eligibility")),
    # checks on the printed numbers alone
    ("checks", ("consistency", "consistency.*")),
    # reading and validating an export; the printed numbers as data
    ("data", ("schema", "schema.*", "published")),
    # the analysis: response, groups, tables, effects, doses, the conclusions, the sweep,
    # the methods audit, the synthetic cohort
    ("science", ("response", "cohort", "effects", "doses", "tables", "predictors", "results",
                 "assumptions", "sensitivity", "paper.claims", "audit", "audit.*", "synth",
                 "synth.*")),
    # the output side: the report's files, rendering, the export template; the verdicts of
    # the consistency checks under each alternative check assumption, with the Assumptions
    # section's text about them (consistency.alternatives writes Markdown: the report side)
    ("output", ("report", "report.*", "render", "render.*", "template",
                "consistency.alternatives")),
    # running: the step cache, kernels, run folders, the pipeline, the command lines; the
    # teaching helpers (a lab reset runs the pipeline)
    ("run", ("stepcache", "kernels", "runfolder", "pipeline", "pipeline.*", "cli", "__main__",
             "*.__main__", "teaching", "teaching.*")),
]


def modules() -> dict[str, Path]:
    """Dotted name (without ``analysis.``; the package itself is ``analysis``) -> file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts) or "analysis"] = path
    return out


MODULES = modules()


def _resolve(name: str) -> str | None:
    """The module of the package a dotted ``analysis...`` name lives in."""
    parts = name.split(".")[1:]
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts) or "analysis"


def imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports (anywhere in its source)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {_resolve(a.name) for a in node.names if a.name.startswith("analysis")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package upwards
                here = ["analysis", *[p for p in package.split(".") if p and p != "analysis"]]
                base = ".".join(here[:len(here) - node.level + 1] + [base] * bool(base))
            if base.split(".")[0] != "analysis":
                continue
            for alias in node.names:  # "from analysis.report import atomic" names a module
                full = f"{base}.{alias.name}"
                found.add(_resolve(full) if full.split(".", 1)[1] in MODULES else
                          _resolve(base))
    return found - {module}


def layer(module: str) -> int:
    """The index of ``module``'s layer (the most specific name that places it)."""
    best = None
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if name == module:
                score = (2, len(name))
            elif name.endswith(".*") and module.startswith(name[:-1]):
                score = (1, len(name))
            elif name.startswith("*.") and module.endswith(name[1:]):
                score = (3, len(name))  # an entry point of any subpackage
            else:
                continue
            if best is None or score > best[0]:
                best = (score, index)
    assert best is not None, f"analysis.{module} is in no layer: place it in LAYERS"
    return best[1]


def test_every_module_is_placed():
    for module in MODULES:
        layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_from_a_layer_above_its_own(module):
    mine = layer(module)
    above = sorted(f"{other} ({LAYERS[layer(other)][0]})" for other in imports(module)
                   if layer(other) > mine)
    assert not above, (f"analysis.{module} ({LAYERS[mine][0]}) imports from a layer above: "
                       + ", ".join(above))


def test_no_import_cycles():
    graph = {module: imports(module) for module in MODULES}
    cycles = []
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index, low, stack, on_stack, counter = {}, {}, [], set(), [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_reader_of_imports_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    """The checker itself, on hand-written modules: an import inside a function and a
    relative import are both dependencies."""
    package = tmp_path / "analysis"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .. import low\n")
    (package / "sub" / "high.py").write_text("def f():\n    from analysis.sub import high\n"
                                             "    import analysis.low\n")
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "PACKAGE", package)
    monkeypatch.setattr(here, "MODULES", modules())
    assert imports("sub") == {"low"}
    assert imports("sub.high") == {"low"}
