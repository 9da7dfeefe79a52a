"""Quarto-only behaviour, checked without Quarto (issue 27).

Real Quarto cannot be installed here. /work/shared/QUARTO.md lists eleven defects that only its
output showed (Quarto 1.10.18), each with its cause and a fix verified under real Quarto. Each
test below reproduces the cause from Quarto's documented behaviour (its own source files are
named) on the pip-only tools (pandoc, Typst, Chromium), or checks the project file that carries
the verified fix, and fails without the fix. Word's defects 3, 4 and 5 are tested beside the
filter's other tests, in tests/test_render.py (``QUARTO_DOCX_FLOATS_LUA``); the manifest's engine
and version (defect 11) in tests/test_pipeline.py.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from analysis.render import PROJECT_FILES, RenderError, render_report
from analysis.render.pandoc import _run_pandoc

REPO = Path(__file__).resolve().parents[1]
NBSP = "\u00a0"


def _config() -> dict:
    return yaml.safe_load((REPO / "_quarto.yml").read_text(encoding="utf-8"))


def _front_matter() -> dict:
    text = (REPO / "report.qmd").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def _pdf_pages(pdf: bytes) -> list[list[str]]:
    """Each page's text lines (pypdf), whitespace collapsed."""
    import pypdf

    return [[" ".join(line.replace(NBSP, " ").split()) for line in
             page.extract_text().splitlines() if line.strip()]
            for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


# ---------------------------------------------------------------------------------------------
# 1. PDF: a table with a caption but no tbl- label loses its caption under Quarto
# ---------------------------------------------------------------------------------------------

# What Quarto does to every table for Typst after its own filters (quarto-cli filters/quarto-post/
# typst.lua, quarto-dev/quarto-cli#10438): pandoc's Typst writer then writes a bare table, with no
# caption (pandoc's manual, "Typst", typst:no-figure; quarto-dev/quarto-cli#11733).
QUARTO_TYPST_TABLES_LUA = """
function Table(tbl)
  tbl.classes:insert("typst:no-figure")
  return tbl
end
"""

ASSUMPTIONS = """\
| Assumption | Paper | Alternative | Counts |
|:--|:--|:--|--:|
| Missing baseline CK | refractory | responder | 27 / 27 |

: Assumptions of the re-analysis and the headline counts under each alternative

Text between the tables.

| Number | Assumed |
|:--|--:|
| FVC measured at baseline | 50 |

: Values the reconstruction assumes where the paper prints none
"""


def _typst_filters() -> list[str]:
    return [f["path"] if isinstance(f, dict) else f
            for f in _config()["format"]["typst"].get("filters", [])]


def _quarto_like_pdf(tmp_path: Path, markdown: str, filters: list[str]) -> bytes:
    """``markdown`` as Quarto hands it to pandoc's Typst writer (every table marked), then
    ``filters`` (project files), with report-header.typ in the header, compiled by Typst."""
    import typst

    (tmp_path / "quarto-typst-tables.lua").write_text(QUARTO_TYPST_TABLES_LUA)
    header = (REPO / "report-header.typ").read_text(encoding="utf-8")
    source = _run_pandoc(markdown, ["--to=typst", "--standalone",
                                    "--lua-filter=quarto-typst-tables.lua",
                                    *(f"--lua-filter={REPO / f}" for f in filters),
                                    f"--variable=header-includes:{header}"], tmp_path, "test")
    return typst.compile(source.encode("utf-8"))


def test_unlabelled_table_captions_survive_quartos_typst_tables(tmp_path: Path):
    """The Assumptions section's two captions are in the PDF, each above its table and
    unnumbered (numbered tables there would renumber the paper's Tables 1-3); without the
    project's Typst filter they are lost, as QUARTO.md saw on pp. 2-3."""
    assert _typst_filters() == ["typst-captions.lua"]
    assert {"typst-captions.lua", "report-header.typ"} <= set(PROJECT_FILES)
    text = "\n".join(line for page in _pdf_pages(
        _quarto_like_pdf(tmp_path, ASSUMPTIONS, _typst_filters())) for line in page)
    first = text.index("Assumptions of the re-analysis and the headline counts under each "
                       "alternative")
    assert first < text.index("Missing baseline CK")
    second = text.index("Values the reconstruction assumes where the paper prints none")
    assert text.index("Text between the tables.") < second < text.index("FVC measured")
    assert "Table" not in text  # unnumbered: no "Table 1." before either caption
    # Quarto's behaviour without the filter: both captions are gone.
    lost = "\n".join(line for page in _pdf_pages(_quarto_like_pdf(tmp_path, ASSUMPTIONS, []))
                     for line in page)
    assert "Assumptions of the re-analysis" not in lost and "Values the reconstruction" not in lost


def test_typst_filter_leaves_labelled_and_uncaptioned_tables_bare(tmp_path: Path):
    """Quarto writes a labelled table as its own numbered figure around a bare table, and a
    table without a caption needs no figure: the filter takes the mark off neither."""
    markdown = ("| a | b |\n|--|--|\n| 1 | 2 |\n\n: Labelled {#tbl-x}\n\n"
                "| c | d |\n|--|--|\n| 3 | 4 |\n")
    (tmp_path / "quarto-typst-tables.lua").write_text(QUARTO_TYPST_TABLES_LUA)
    source = _run_pandoc(markdown, ["--to=typst", "--lua-filter=quarto-typst-tables.lua",
                                    f"--lua-filter={REPO / 'typst-captions.lua'}"],
                         tmp_path, "test")
    assert "#figure(" not in source and source.count("#table(") == 2


# ---------------------------------------------------------------------------------------------
# 2. PDF: Table 1's group label "PFT, %" stranded at a page foot
# ---------------------------------------------------------------------------------------------

TABLE1 = "| Characteristic | All (n = 54) | p |\n|:--|--:|--:|\n" + "".join(
    f"| Characteristic {i} | {i} ({i + 0.5}) | 0.{i:02d} |\n" for i in range(1, 19)) + \
    "| **PFT, %** | | |\n| FVC | 61.2 (17.3) | 0.41 |\n| TLC | 63.0 (15.1) | 0.52 |\n" \
    "| DLCO | 48.7 (19.9) | 0.33 |\n\n: Characteristics {#tbl-table1}\n"


def _group_label_pages(header: str, tmp_path: Path) -> list[list[list[str]]]:
    """Table 1's layout (pandoc's Typst, as Quarto also writes the table) on pages of many
    heights, so that every row, the group label too, comes to end a page somewhere."""
    import typst

    table = _run_pandoc(TABLE1, ["--to=typst"], tmp_path, "test")
    out = []
    for tenth_cm in range(40, 100, 3):
        page = f"\n#set page(height: {tenth_cm / 10}cm, width: 12cm)\n"
        out.append(_pdf_pages(typst.compile((header + page + table).encode("utf-8"))))
    return out


def test_group_label_rows_are_kept_with_the_next_row(tmp_path: Path):
    """A bold group label with an empty row after it is never the last line of a page: Typst
    keeps it, as a non-repeating sub-header, with the row under it. The same layout without
    the rule strands it on some page height (the situation of QUARTO.md's p. 4)."""
    header = (REPO / "report-header.typ").read_text(encoding="utf-8")
    assert "table.header(level: 2, repeat: false" in header

    def stranded(layouts):
        return [i for i, pages in enumerate(layouts)
                for page in pages[:-1] if page and page[-1] == "PFT, %"]

    without_rule = header.split("// 8. ")[0]
    assert stranded(_group_label_pages(without_rule, tmp_path))  # the defect is reproduced
    layouts = _group_label_pages(header, tmp_path)
    assert stranded(layouts) == []
    for pages in layouts:  # no row lost or doubled; the header repeats on each page, under
        # the continuation mark (an unnumbered caption here: no "Table 1" before it)
        lines = [line for page in pages for line in page]
        assert lines.count("PFT, %") == 1 and lines.count("DLCO 48.7 (19.9) 0.33") == 1
        assert pages[0][0] == "Characteristics" and "(continued)" not in pages[0]
        assert all(page[:1] == ["(continued)"] and page[1].startswith("Characteristic All")
                   for page in pages[1:])


def test_table_text_is_set_smaller_once(tmp_path: Path):
    """Rule 8 rebuilds a table with a group label; the table text size (0.8 of 10pt) still
    applies once: 8pt, not 6.4pt (the side effect QUARTO.md saw with a show-set rule)."""
    import typst

    header = (REPO / "report-header.typ").read_text(encoding="utf-8")
    doc = (header + "\n#set text(size: 10pt)\n#table(columns: 2, table.header([a], [b]), "
           "[#strong[Group]], [], [#context text.size.to-absolute()], [x])\n")
    (tmp_path / "t.typ").write_text(doc)
    text = " ".join(line for page in _pdf_pages(typst.compile(str(tmp_path / "t.typ")))
                    for line in page)
    assert "8pt x" in text


# ---------------------------------------------------------------------------------------------
# 6. Every figure has fig-alt (the forest plot had none)
# ---------------------------------------------------------------------------------------------

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)(\{[^}]*\})?")


def test_every_figure_of_the_paper_run_has_fig_alt(paper_run: Path):
    """Quarto gives a figure alt text only from ``fig-alt`` (the pip-only renderer fell back to
    the caption): every image the report shows, in report.qmd and in the run's includes, has
    one, and the rendered HTML gives every image a description that is not its caption."""
    sources = [REPO / "report.qmd", *sorted((paper_run / "tables").glob("*.md"))]
    images = [(src.name, m.group(0)) for src in sources
              for m in _IMAGE.finditer(src.read_text(encoding="utf-8"))]
    assert any("predictors_forest" in image for _, image in images)
    missing = [(name, image[:80]) for name, image in images
               if not re.search(r'fig-alt="[^"]{40,}"', image)]
    assert missing == []
    html = (paper_run / "report.html").read_text(encoding="utf-8")
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert len(alts) == len(images) and all(len(a) >= 40 for a in alts)
    assert any(a.startswith("Forest plot of") for a in alts)


# ---------------------------------------------------------------------------------------------
# 7, 9, 10. Quarto's HTML page: contents, title block, format links, body width
# ---------------------------------------------------------------------------------------------


def test_appendices_are_ordinary_sections_in_quartos_html():
    """Quarto moves `.appendix` sections out of the contents and into its smaller appendix
    style unless ``appendix-style: none`` (QUARTO.md, defect 7)."""
    qmd = (REPO / "report.qmd").read_text(encoding="utf-8")
    appendices = re.findall(r"^# (Appendix [A-Z]).*\{[^}]*\.appendix[^}]*\}", qmd, re.M)
    assert appendices == ["Appendix A", "Appendix B", "Appendix C"]
    assert _config()["format"]["html"]["appendix-style"] == "none"


def test_title_block_names_no_author_and_format_links_read_pdf_and_word(tmp_path: Path):
    """Quarto's title block prints an "Author" heading over any ``author`` (QUARTO.md,
    defect 9): the study's authors are not this report's; they are cited in the subtitle (and
    in full in the References). The links to the other formats say "PDF" and "Word"; ``html``
    in the list stops Quarto adding its own labels ("Typst", "MS Word")."""
    meta = _front_matter()
    assert "author" not in meta
    assert "Sharma N" in meta["subtitle"] and "doi:10.3899/jrheum.161217" in meta["subtitle"]
    assert "re-analysis" in meta["subtitle"]
    assert _config()["format"]["html"]["format-links"] == [
        "html", {"format": "typst", "text": "PDF"}, {"format": "docx", "text": "Word"}]


def test_html_body_is_wide_enough_for_the_tables(tmp_path: Path):
    """Quarto's 800 px body column wrapped the tables heavily (QUARTO.md, defect 10): a
    1000 px column and tables at 0.85 of the body text; the stand-in includes the same header
    text (its own CSS already sets tables at 0.85em)."""
    html = _config()["format"]["html"]
    assert int(html["grid"]["body-width"].removesuffix("px")) >= 1000
    css = "".join(entry["text"] for entry in html["include-in-header"])
    assert re.search(r"main table \{ font-size: 0\.85em; \}", css)
    run = tmp_path / "run"
    run.mkdir()
    for name in PROJECT_FILES:
        if name != "report.qmd":
            shutil.copy(REPO / name, run / name)
    (run / "report.qmd").write_text("---\ntitle: T\n---\n\n| a |\n|--|\n| 1 |\n")
    out = render_report(run, formats=("html",), engine="pandoc")["html"].read_text()
    assert "main table { font-size: 0.85em; }" in out.split("</head>")[0]


# ---------------------------------------------------------------------------------------------
# 11. Quarto's scratch files in the run folder; the engine and its version
# ---------------------------------------------------------------------------------------------

# A stand-in for the Quarto CLI that does what every real `quarto render` of a project does in
# its folder (QUARTO.md, defect 11): it creates `.quarto/` and, inside a git work tree, a
# `.gitignore` listing it.
_FAKE_QUARTO = """\
#!{python}
import pathlib, sys
args = sys.argv[1:]
if args == ["--version"]:
    print("1.10.18")
    sys.exit(0)
pathlib.Path(".quarto/xref").mkdir(parents=True, exist_ok=True)
pathlib.Path(".quarto/xref/report.json").write_text("{{}}")
if not pathlib.Path(".gitignore").exists():
    pathlib.Path(".gitignore").write_text("/.quarto/\\n")
out = pathlib.Path(args[args.index("--output-dir") + 1])
to = args[args.index("--to") + 1]
name = {{"html": "report.html", "typst": "report.pdf", "docx": "report.docx"}}[to]
(out / name).write_text("rendered by fake quarto to " + to)
if "FAIL" in pathlib.Path("report.qmd").read_text():
    sys.exit(1)
"""


@pytest.fixture
def fake_quarto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = tmp_path / "bin" / "quarto"
    exe.parent.mkdir()
    exe.write_text(_FAKE_QUARTO.format(python=sys.executable))
    exe.chmod(0o755)
    monkeypatch.setenv("QUARTO", str(exe))
    return exe


def test_quarto_scratch_files_do_not_stay_in_the_run_folder(tmp_path: Path, fake_quarto: Path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "report.qmd").write_text("# Report\n")
    render_report(run, engine="quarto")
    assert sorted(p.name for p in run.iterdir()) == ["report.docx", "report.html",
                                                     "report.pdf", "report.qmd"]
    # A failed render leaves none either; a .gitignore that was there before stays.
    (run / "report.qmd").write_text("# FAIL\n")
    (run / ".gitignore").write_text("mine\n")
    with pytest.raises(RenderError, match="exit code 1"):
        render_report(run, formats=("html",), engine="quarto")
    assert not (run / ".quarto").exists()
    assert (run / ".gitignore").read_text() == "mine\n"


def test_renderer_names_the_engine_and_its_version(fake_quarto: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    """Quarto: ``quarto --version``; the stand-in: pandoc's and Typst's versions, those of the
    installed ``pypandoc-binary`` and ``typst`` packages."""
    from importlib import metadata

    import pypandoc

    from analysis.render import describe_renderer

    assert describe_renderer("auto") == {"engine": "quarto", "version": "1.10.18",
                                         "tools": {"quarto": "1.10.18"},
                                         "text": "Quarto 1.10.18"}
    standin = describe_renderer("pandoc")
    assert standin["engine"] == "pandoc"
    assert standin["tools"] == {"pandoc": pypandoc.get_pandoc_version(),
                                "typst": metadata.version("typst")}
    assert standin["version"] == pypandoc.get_pandoc_version()
    assert f"pandoc {standin['version']}" in standin["text"]
    assert f"Typst {metadata.version('typst')}" in standin["text"]
    monkeypatch.delenv("QUARTO")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert describe_renderer("auto")["engine"] == "pandoc"
