"""The paper's table rows, their roles and the project's paths are declared once (issue 21).

Oracle for the rows: Tables 1-3 as the paper prints them (Sharma 2017), copied verbatim into
``tests/fixtures/sharma2017_tables.tsv``. The layout of the printed tables alone decides each
row's role, independently of the package:

- a line with no value is a heading; if the line after it carries the block's only p-value
  (Tables 2 and 3), the heading is a categorical row and the lines up to the next p-value
  are its levels; if every line under it carries its own p, it is a section heading;
- a row with its own p is continuous when it prints means ("46.8", one decimal) and binary
  when it prints counts ("16"); Table 1 agrees (a mean "44.9 (14.9)", a count "32 (59.3)");
- Table 1 marks a mean by ", mean (SD)" on the row, or on its section's heading.

Oracle for the row's data: the codebook (``data/raw/codebook.csv``). The "declared once"
tests read the package's source (``ast``) for typed copies of the role lists, paths and
group sizes, and check that the modules that used to type them now hold the declared objects.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths
from analysis.paper import rows
from analysis.paper.rows import BY_KEY, ROWS, printed_levels

PAPER_TABLES = Path(__file__).parent / "fixtures" / "sharma2017_tables.tsv"
MEAN = ", mean (SD)"


def _paper_tables() -> dict[str, list[list[str]]]:
    """Each table's printed lines as cells (label first), without its header line."""
    blocks = [b for b in PAPER_TABLES.read_text(encoding="utf-8").split("\n\n")
              if b.startswith("Clinical Characteristics")]
    assert len(blocks) == 3
    return {f"t{i}": [line.split("\t") for line in block.strip("\n").splitlines()[1:]]
            for i, block in enumerate(blocks, start=1)}


def _layout(table: list[list[str]]) -> list[tuple]:
    """The rows a printed Table 2 or 3 holds, with their roles read from its layout:
    ``("categorical", label, (level labels))`` or ``(kind, label, section heading or None)``
    with kind "continuous" (means) or "binary" (counts)."""
    out, i, section = [], 0, None
    while i < len(table):
        label, *cells = table[i]
        has_p = bool(cells[-1].strip())
        if not any(c.strip() for c in cells):  # a heading
            first, second = table[i + 1], table[i + 2]
            if first[-1].strip() and not second[-1].strip():  # one p for the block: levels
                levels, i = [first[0]], i + 2
                while i < len(table) and any(c.strip() for c in table[i][1:]) \
                        and not table[i][-1].strip():
                    levels.append(table[i][0])
                    i += 1
                out.append(("categorical", label, tuple(levels)))
                section = None
            else:
                section, i = label, i + 1
            continue
        assert has_p, f"a row without p outside a categorical block: {label}"
        if all(re.fullmatch(r"\d+\.\d", c) for c in cells[:2]):
            kind = "continuous"
        else:
            assert all(re.fullmatch(r"\d+", c) for c in cells[:2]), label
            kind = "binary"
        out.append((kind, label, section))
        i += 1
    return out


def _declared(table: str) -> list[tuple]:
    """The rows as :mod:`analysis.paper.rows` declares them, in the layout of ``_layout``."""
    out = []
    for row in (r for r in ROWS if r.printed):
        label = row.t2_label or row.label
        if row.kind == "categorical":
            out.append(("categorical", row.label, tuple(lb for _, _, lb in
                                                        printed_levels(row, table))))
        else:
            out.append((row.kind, label, row.heading))
    return out


@pytest.fixture(scope="module")
def paper():
    return _paper_tables()


@pytest.mark.parametrize("table", ["t2", "t3"])
def test_rows_and_roles_are_what_tables_2_and_3_print(paper, table):
    """Every row, its kind, its levels (order and label) and its section heading, as printed."""
    assert _declared(table) == _layout(paper[table])


def test_table_1_prints_the_declared_labels_in_order(paper):
    """Table 1's first column, top to bottom: headings, row labels with the mean marker, levels;
    a mean (SD) where a row is continuous, n (%) where it is counted, nothing on a heading."""
    expected = []
    for row in (r for r in ROWS if r.printed):
        if row.heading and rows.HEADINGS.get(row.key) == row.heading:
            expected.append((row.heading + (MEAN if row.kind == "continuous" else ""), "heading"))
        if row.kind == "categorical":
            expected += [(row.label, "heading"),
                         *((label, "count") for _, _, label in printed_levels(row, "t1"))]
        else:
            marker = MEAN if row.kind == "continuous" and not row.heading else ""
            expected.append((row.label + marker,
                             "mean" if row.kind == "continuous" else "count"))
    shapes = {"": "heading"}
    printed = [(label, shapes.get(value) or ("mean" if re.fullmatch(r"\d+\.\d \(\d+\.\d\)", value)
                                             else "count"))
               for label, value in paper["t1"]]
    assert all(re.fullmatch(r"\d+ \(\d+\.\d\)", v) for (_, v), (_, s) in
               zip(paper["t1"], printed, strict=True) if s == "count")
    assert printed == expected


def test_role_lists_equal_the_printed_rows(paper):
    """The derived lists (:data:`rows.CONTINUOUS` ...) name the rows the paper prints as means,
    as several levels with one p, as one count with its own p, in table order."""
    layout = _layout(paper["t2"])
    by_kind = {kind: [r[1] for r in layout if r[0] == kind]
               for kind in ("continuous", "categorical", "binary")}
    labels = {key: BY_KEY[key].t2_label or BY_KEY[key].label for key in BY_KEY}
    assert [labels[k] for k in rows.CONTINUOUS] == by_kind["continuous"]
    assert [labels[k] for k in rows.CATEGORICAL] == by_kind["categorical"]
    assert [labels[k] for k in rows.BINARY] == by_kind["binary"]
    assert [labels[k] for k in rows.COUNTED] == [r[1] for r in layout if r[0] != "continuous"]
    # Section headings, and the row each is printed above
    sections = {}
    for r, key in zip(layout, BY_KEY, strict=True):
        if r[0] != "categorical" and r[2] and r[2] not in sections.values():
            sections[key] = r[2]
    assert dict(rows.HEADINGS) == sections
    assert rows.under("Serologic data") == ("ana", "jo1", "ssa", "mi2", "pl7", "srp", "ku")
    assert {row.family for row in ROWS if row.key in rows.CONTINUOUS} == {"two_sample"}
    assert {row.family for row in ROWS if row.key in rows.COUNTED} == {"contingency"}


def test_rows_read_the_codebook_columns_and_values():
    """Each row's column is in the codebook's table its ``source`` names; each printed level's
    value is allowed there; MEASURES are the assessment columns of the tables."""
    from analysis.schema import load_codebook

    book = pd.read_csv(paths.CODEBOOK, dtype=str, keep_default_na=False)
    load_codebook(paths.CODEBOOK)  # valid
    tables = dict(zip(book["column"], book["table"], strict=False))
    allowed = dict(zip(book["column"], book["allowed"], strict=False))
    for row in ROWS:
        assert tables.get(row.column) == row.source, row.key
        for _, value, _ in row.levels:
            if isinstance(value, bool):
                assert allowed[row.column] == "Yes|No", row.key
            else:
                assert value in allowed[row.column].split("|"), (row.key, value)
    assert rows.MEASURES == tuple(r.column for r in ROWS if tables[r.column] == "assessments")


def test_printed_group_sizes_come_from_the_published_numbers():
    """Table 2 "Responders, n = 31 / Nonresponders, n = 23"; Table 3 "Responders, n = 13 / No
    Response, n = 5" (the headers of the fixture), read from numbers.csv, not typed."""
    from analysis.published import load_published, printed_group_sizes

    header_lines = [line for line in PAPER_TABLES.read_text(encoding="utf-8").splitlines()
                    if line.startswith("Clinical Characteristics\tResponders")]
    printed = [tuple(int(n) for n in re.findall(r"n = (\d+)", line)) for line in header_lines]
    assert printed_group_sizes() == {"t2": printed[0], "t3": printed[1]}
    changed = load_published()
    changed.loc[changed["id"] == "t3.header.nonresp.n", "value"] = 6.0
    assert printed_group_sizes(changed)["t3"] == (printed[1][0], 6)


# --------------------------------------------------------------------------- declared once
PACKAGE = paths.ROOT / "analysis"
SOURCES = sorted([*PACKAGE.rglob("*.py"), *(paths.ROOT / "benchmarks").glob("*.py")])
DECLARING = {PACKAGE / "paper" / "rows.py", PACKAGE / "paths.py"}
#: Role lists a module could type again (as a set: order does not hide a copy).
ROLE_SETS = {"continuous rows": set(rows.CONTINUOUS), "categorical rows": set(rows.CATEGORICAL),
             "binary rows": set(rows.BINARY), "counted rows": set(rows.COUNTED),
             "serology rows": set(rows.under("Serologic data"))}
#: Typed lists that name rows for another reason, each with that reason.
ALLOWED = {("analysis/synth/patients.py", "SEROLOGY_ORDER"):
           "the order the generator draws serology in (checked below to hold each row once)",
           ("analysis/paper/grids.py", "RESOLUTIONS"):
           "the resolution each continuous row is recorded at, with its source (checked below "
           "to cover exactly the continuous rows)"}


def _literals(tree: ast.AST):
    """(target name or "", line, the string elements) of every tuple, list, set and dict
    literal of a module (dict: its keys)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(node.value):
                    names[id(sub)] = getattr(target, "id", "")
    for node in ast.walk(tree):
        elements = (node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set)
                    else [k for k in node.keys if k is not None]
                    if isinstance(node, ast.Dict) else None)
        if elements is None:
            continue
        strings = {e.value for e in elements
                   if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        yield names.get(id(node), ""), node.lineno, strings


def test_no_module_types_a_role_list_again():
    """No tuple, list, set or dict keys in the package or the benchmarks spell out the
    continuous, categorical, binary, counted or serology rows: they ask analysis.paper.rows."""
    found = []
    for path in SOURCES:
        if path in DECLARING:
            continue
        rel = path.relative_to(paths.ROOT).as_posix()
        for name, line, strings in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            for role, keys in ROLE_SETS.items():
                if strings == keys and (rel, name) not in ALLOWED:
                    found.append(f"{rel}:{line} {name or 'literal'} types the {role}")
    assert found == []


def test_a_resolution_is_declared_for_each_continuous_row_and_no_other():
    from analysis.paper.grids import RESOLUTIONS

    assert sorted(RESOLUTIONS) == sorted(rows.CONTINUOUS)


def test_the_generator_draws_each_serology_row_once():
    from analysis.synth.patients import SEROLOGY_ORDER

    assert sorted(SEROLOGY_ORDER) == sorted(rows.under("Serologic data"))


def test_no_module_computes_a_root_path_or_types_group_sizes():
    """Only analysis/paths.py finds the repository from its own file (the benchmarks' one
    bootstrap line excepted: it puts the checkout on sys.path before the package imports);
    no module types the printed group sizes 31/23 and 13/5."""
    root_path = re.compile(r"Path\(__file__\)[^\n]*(parents\[\d\]|parent\.parent)|"
                           r"\"data\"\s*/\s*\"(raw|published)\"|Path\(\"data/")
    sizes = re.compile(r"\(\s*31\s*,\s*23\s*\)|\(\s*13\s*,\s*5\s*\)")
    found = []
    for path in SOURCES:
        if path in DECLARING:
            continue
        rel = path.relative_to(paths.ROOT).as_posix()
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if root_path.search(text) and rel != "benchmarks/compute.py":
                found.append(f"{rel}:{n} computes a root path: {text.strip()}")
            if sizes.search(text) and not text.lstrip().startswith(("#", ">>>", "{'t2'")):
                found.append(f"{rel}:{n} types group sizes: {text.strip()}")
    assert found == []


def test_modules_hold_the_declared_objects():
    """The modules that typed rows, roles and paths before issue 21 now hold (or derive from)
    the one declaration."""
    from analysis import pipeline, predictors, published, schema, tables
    from analysis.consistency import engine
    from analysis.report import paper_tables, verdicts
    from analysis.synth import assessments, targets

    assert tables.ROWS is ROWS and predictors.ROWS is ROWS
    assert paper_tables.HEADINGS is rows.HEADINGS
    assert engine.BINARY is rows.BINARY and tuple(engine.BLOCKS) == rows.CATEGORICAL
    assert tuple(engine.CONTINUOUS) == rows.CONTINUOUS
    assert all(engine.BLOCKS[k] == rows.level_keys(BY_KEY[k], "t2") for k in engine.BLOCKS)
    assert tuple(verdicts.CONTINUOUS) == rows.CONTINUOUS
    assert targets.CONTINUOUS is rows.CONTINUOUS and assessments.MEASURES is rows.MEASURES
    assert tuple(targets.CATEGORICAL) == rows.CATEGORICAL
    assert tuple(targets.BINARY) == rows.BINARY
    assert tuple(predictors.SCALES) == rows.CONTINUOUS
    assert pipeline.ROOT is paths.ROOT and pipeline.DEFAULT_DATA is paths.RAW
    assert pipeline.PUBLISHED is paths.PUBLISHED
    assert schema.DEFAULT_CODEBOOK is paths.CODEBOOK and published.default_path() is paths.NUMBERS


def test_paths_is_the_bottom_layer():
    """analysis/paths.py and analysis/paper/rows.py import nothing from the package."""
    for path in DECLARING:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names]
        assert not [m for m in imported if m.split(".")[0] == "analysis"], path.name
    assert (paths.ROOT / "analysis" / "paths.py").is_file() and paths.NUMBERS.is_file()
    assert paths.CODEBOOK.is_file() and paths.NOTEBOOKS.is_dir()
