"""Tests of analysis.render: the Quarto stand-in (pandoc + Typst) and the Quarto engine wiring.

The fixture report (tests/fixtures/render/) uses every feature the stand-in supports; the
repository's own ``_quarto.yml`` is copied beside it, as the pipeline does for a run.
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import struct
import sys
import textwrap
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.errors import AnalysisError
from analysis.render import (
    PROJECT_FILES,
    RenderError,
    find_quarto,
    load_variables,
    render_report,
    resolve_quarto_markdown,
)

REPO = paths.ROOT
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "render"
NBSP = "\u00a0"


def _write_png(path: Path, width: int = 48, height: int = 24) -> None:
    """Write a tiny solid-colour RGB PNG (no plotting library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes([31, 119, 180]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _make_run(root: Path) -> Path:
    """A run folder as the pipeline leaves it: bundle + copied report.qmd, _quarto.yml and the
    project's Typst header (the fixture's own report.qmd is kept)."""
    run = root / "run"
    shutil.copytree(FIXTURE, run)
    for name in PROJECT_FILES:
        if name != "report.qmd":
            shutil.copy(REPO / name, run / name)
    _write_png(run / "figures" / "flow.png")
    return run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return _make_run(tmp_path)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    run = _make_run(tmp_path_factory.mktemp("rendered"))
    return render_report(run, engine="pandoc")


def _norm(text: str) -> str:
    """Collapse whitespace (incl. the non-breaking space in 'Figure 1') for text checks."""
    return " ".join(text.replace(NBSP, " ").split())


def _resolve(text: str, base: Path = Path("."), variables: dict | None = None, **kw) -> str:
    return resolve_quarto_markdown(textwrap.dedent(text), base, variables or {}, **kw)


# ---------------------------------------------------------------------------------------------
# resolve_quarto_markdown: cross-references
# ---------------------------------------------------------------------------------------------


def test_figures_and_tables_numbered_separately_in_order_of_appearance():
    out = _resolve("""\
        See @tbl-second, @fig-b, @fig-a and @tbl-first.

        ![Alpha](a.png){#fig-a}

        | x |
        |---|
        | 1 |

        : First table {#tbl-first}

        ![Beta](b.svg){#fig-b width=50%}

        | y |
        |---|
        | 2 |

        : Second table {#tbl-second}
        """)
    assert "See [Table\\ 2](#tbl-second), [Figure\\ 2](#fig-b), [Figure\\ 1](#fig-a) and " \
           "[Table\\ 1](#tbl-first)." in out
    # Quarto's default caption prefix "Figure 1: " (title-delim ":"); attributes are kept.
    assert "![Figure\\ 1: Alpha](a.png){#fig-a}" in out
    assert "![Figure\\ 2: Beta](b.svg){#fig-b width=50%}" in out
    assert ": Table\\ 1: First table {#tbl-first}" in out
    assert ": Table\\ 2: Second table {#tbl-second}" in out


def test_crossref_options_from_quarto_config():
    out = _resolve("![Flow](f.png){#fig-flow}\n\nSee @fig-flow.\n",
                   crossref={"title-delim": ".", "fig-title": "Fig.", "fig-prefix": "Fig."})
    assert "![Fig.\\ 1. Flow](f.png){#fig-flow}" in out
    assert "See [Fig.\\ 1](#fig-flow)." in out


def test_reference_variants_and_code_left_alone():
    out = _resolve("""\
        ![Flow](f.png){#fig-flow}

        @Fig-flow; -@fig-flow; [@fig-flow]; mail me@fig-flow.org; `@fig-flow`

        ```
        @fig-flow and {{{< var a >}}}
        ```
        """)
    assert "[Figure\\ 1](#fig-flow); [1](#fig-flow); [Figure\\ 1](#fig-flow); " \
           "mail me@fig-flow.org; `@fig-flow`" in out
    assert "\n@fig-flow and {{< var a >}}\n" in out


def test_empty_caption_gets_number_only():
    out = _resolve("![](f.png){#fig-x}\n")
    assert "![Figure\\ 1](f.png){#fig-x}" in out


def test_unknown_reference_names_label_and_line():
    with pytest.raises(RenderError, match=r"report\.qmd:3: cross-reference @tbl-nope has no"):
        _resolve("# A\n\nSee @tbl-nope.\n")


def test_duplicate_label_names_both_places():
    with pytest.raises(RenderError, match=r"report\.qmd:3: duplicate .*#fig-a.*report\.qmd:1"):
        _resolve("![A](a.png){#fig-a}\n\n![B](b.png){#fig-a}\n")


def test_div_floats_are_rejected_not_misnumbered():
    with pytest.raises(RenderError, match="not supported by the pip-only renderer"):
        _resolve("::: {#fig-panel}\n![A](a.png)\n:::\n")


# ---------------------------------------------------------------------------------------------
# resolve_quarto_markdown: shortcodes
# ---------------------------------------------------------------------------------------------


def test_var_resolves_dotted_paths_and_formats_scalars():
    variables = {"conv": {"responders": 31, "response": {"pct": "57.4"}},
                 "p": 0.013, "ok": True, "name": "tacrolimus"}
    out = _resolve("{{< var conv.responders >}} ({{< var conv.response.pct >}}%), "
                   "p={{<var p>}}, {{< var ok >}}, {{< var name >}}; {{{< var p >}}}\n",
                   variables=variables)
    assert out == "31 (57.4%), p=0.013, true, tacrolimus; {{< var p >}}\n"


def test_missing_variable_names_key_file_and_line():
    with pytest.raises(RenderError) as info:
        _resolve("---\ntitle: x\n---\n\nN = {{< var conv.nope >}}\n",
                 variables={"conv": {"responders": 31}}, variables_file="runs/x/_variables.yml")
    message = str(info.value)
    assert "report.qmd:5" in message
    assert "'conv.nope'" in message
    assert "runs/x/_variables.yml" in message
    assert "responders" in message  # the keys that do exist there
    assert isinstance(info.value, AnalysisError)


def test_variable_that_is_not_a_single_value_is_rejected():
    with pytest.raises(RenderError, match="'conv' .* is not a single value"):
        _resolve("{{< var conv >}}\n", variables={"conv": {"responders": 31}})


def test_unknown_shortcode_is_rejected_with_the_supported_list():
    with pytest.raises(RenderError, match=r"report\.qmd:1: shortcode 'embed' .*include, var"):
        _resolve("{{< embed notebooks/a.ipynb#tbl-x >}}\n")


def test_pagebreak_is_raw_typst_and_word_only():
    out = _resolve("A\n\n{{< pagebreak >}}\n\nB\n")
    assert "```{=typst}\n#pagebreak()\n```" in out
    # Word's page break (ECMA-376 Part 1, 17.3.3.1: w:br with w:type="page"), as Quarto's
    # pagebreak shortcode writes for docx; pandoc drops raw blocks of other formats in HTML.
    assert '```{=openxml}\n<w:p><w:r><w:br w:type="page"/></w:r></w:p>\n```' in out
    assert "pagebreak >}}" not in out
    with pytest.raises(RenderError, match="stand alone"):
        _resolve("A {{< pagebreak >}} B\n")


def test_includes_are_recursive_relative_to_the_including_file(tmp_path: Path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.md").write_text("A says {{< var n >}}\n\n{{< include b.md >}}\n")
    (tmp_path / "parts" / "b.md").write_text("B here\n\n{{< include /top.md >}}\n")
    (tmp_path / "top.md").write_text("Top here\n")
    out = _resolve('Start\n\n{{< include "parts/a.md" >}}\n\nEnd\n', tmp_path, {"n": 7})
    assert out == "Start\n\nA says 7\n\nB here\n\nTop here\n\nEnd\n"


def test_missing_include_names_file_and_line(tmp_path: Path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.md").write_text("x\n\n{{< include missing.md >}}\n")
    with pytest.raises(RenderError, match=r"tables/t\.md:3: included file 'missing\.md' not"):
        _resolve("# T\n\n{{< include tables/t.md >}}\n", tmp_path)
    with pytest.raises(RenderError, match=r"report\.qmd:2: included file 'nope\.md' not found"):
        _resolve("# T\n{{< include nope.md >}}\n", tmp_path)


def test_include_cycle_and_inline_include_are_errors(tmp_path: Path):
    (tmp_path / "a.md").write_text("{{< include b.md >}}\n")
    (tmp_path / "b.md").write_text("{{< include a.md >}}\n")
    with pytest.raises(RenderError, match="include cycle .*a.md -> b.md -> a.md"):
        _resolve("{{< include a.md >}}\n", tmp_path)
    with pytest.raises(RenderError, match="must stand alone on its line"):
        _resolve("See {{< include a.md >}} here\n", tmp_path)


# ---------------------------------------------------------------------------------------------
# resolve_quarto_markdown: callouts
# ---------------------------------------------------------------------------------------------


def test_callout_with_title_attribute_becomes_box_in_both_formats():
    out = _resolve("""\
        ::: {.callout-warning title="Assumed #1 cutoff"}
        Text.

        ::: {.inner}
        Nested div.
        :::
        :::
        """)
    lines = out.splitlines()
    assert lines[0] == "::: {.callout .callout-warning}"
    assert "**Assumed #1 cutoff**" in lines
    assert lines.count("```{=typst}") == 2  # opening #block(...)[ and closing ]
    opening = lines[lines.index("```{=typst}") + 1]
    assert opening.startswith("#block(") and opening.endswith("[")
    # The closing "]" comes after the nested div and before the callout's own ":::".
    close_at = len(lines) - 1 - lines[::-1].index("]")
    assert lines.index("Nested div.") < close_at < len(lines) - 1
    assert lines[-1] == ":::"


def test_callout_title_from_first_heading_or_default():
    out = _resolve("::: {.callout-note}\n## Synthetic data\n\nBody.\n:::\n\n"
                   "::: callout-tip\nNo title.\n:::\n")
    assert "**Synthetic data**" in out
    assert "## Synthetic data" not in out  # would otherwise become a numbered section
    assert "::: {.callout .callout-tip}" in out and "**Tip**" in out
    with pytest.raises(RenderError, match=r"report\.qmd:3: this callout div .* never closed"):
        _resolve("Text\n\n::: {.callout-note}\nBody\n")


# ---------------------------------------------------------------------------------------------
# End to end, pip-only engine: HTML
# ---------------------------------------------------------------------------------------------


class _Resources(HTMLParser):
    """Collect the URLs a browser would fetch: src/href of resource tags and CSS url()."""

    TAGS = {"script", "link", "img", "source", "iframe", "embed", "object", "video", "audio",
            "font", "image", "use"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag in self.TAGS:
            for key in ("src", "href", "data", "xlink:href", "srcset", "poster"):
                if attrs.get(key):
                    self.urls.append((tag, attrs[key]))
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def test_html_is_self_contained_with_no_external_url(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(html)
    external = [(tag, url) for tag, url in parser.urls
                if url.strip().lower().startswith(("http://", "https://", "//"))]
    assert external == []
    css = "\n".join(parser.styles).lower()
    assert "http://" not in css and "https://" not in css and "@import" not in css
    assert "<script" not in html
    images = [url for tag, url in parser.urls if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    # Every internal link (TOC, cross-references) lands on an element of the page.
    assert set(parser.links) <= parser.ids
    assert {"fig-flow", "tbl-table1", "tbl-wide"} <= parser.ids


def test_html_title_block_toc_sections_numbers_and_callouts(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    text = _norm(html)
    assert 'lang="en"' in text.split("<head>")[0]
    assert '<h1 class="title">Tacrolimus in MA-ILD: reproduction report</h1>' in text
    assert '<p class="subtitle">Render fixture (synthetic numbers)</p>' in text
    assert '<p class="author">Render Test</p>' in text
    assert '<p class="author">Second Author</p>' in text
    assert '<p class="date">2024-05-01</p>' in text
    assert '<nav id="TOC" role="doc-toc">' in text and "Table of contents" in text
    assert '<span class="header-section-number">3</span> Figures' in text
    # Numbers for the prose come from _variables.yml.
    assert "Of 54 included patients, 31 responded to conventional treatment (57.4%)" in text
    assert "The CK upper limit (200 U/l) is assumed" in text
    # Cross-references: "Table 1. " captions (title-delim "." in _quarto.yml) and links.
    assert "<caption>Table 1. Baseline characteristics of the included patients</caption>" \
        in text
    assert "<caption>Table 2. Index variables by conventional response, all columns" in text
    assert "<figcaption" in text and "Figure 1. Flow of patients through the study" in text
    assert '<a href="#fig-flow">Figure 1</a>' in text
    assert '<a href="#tbl-wide">Table 2</a>' in text
    assert "<td style=\"text-align: left;\">52.3 (11.8)</td>" in text
    # Callouts: styled boxes with their titles, CSS embedded.
    assert '<div class="callout callout-note">' in text
    assert '<div class="callout callout-warning">' in text
    assert "<strong>Synthetic data</strong>" in text and "<strong>Assumed cutoff</strong>" in text
    assert ".callout-warning { border-left-color" in text
    # Nothing left for Quarto: no shortcodes (except the escaped one shown as code), no @refs.
    assert text.count("{{&lt;") == 1 and "<code>{{&lt; var conv.responders &gt;}}</code>" in text
    assert "@fig-flow" in text and "@tbl-" not in text  # only the `@fig-flow` code span
    assert "#pagebreak" not in text and "#block(" not in text  # Typst-only raw blocks dropped


# ---------------------------------------------------------------------------------------------
# End to end, pip-only engine: PDF
# ---------------------------------------------------------------------------------------------


def _pdf(path: Path):
    import pypdf

    return pypdf.PdfReader(io.BytesIO(path.read_bytes()))


def test_pdf_has_title_numbers_captions_and_image(rendered):
    reader = _pdf(rendered["pdf"])
    pages = [_norm(page.extract_text()) for page in reader.pages]
    first = pages[0]
    assert "Tacrolimus in MA-ILD: reproduction report" in first
    assert "Render fixture (synthetic numbers)" in first
    assert "Contents" in first
    assert "Of 54 included patients, 31 responded to conventional treatment (57.4%)" in first
    assert "Table 1. Baseline characteristics of the included patients" in first
    assert "52.3 (11.8)" in first and "0.013" in first
    assert "Synthetic data" in first and "Assumed cutoff" in first
    # {{< pagebreak >}} puts the Figures section on page 2, with the image and its caption.
    assert len(pages) == 2
    assert "3 Figures" in pages[1] and "Figure 1. Flow of patients through the study" in pages[1]
    assert len(reader.pages[1].images) == 1
    assert "{{<" not in " ".join(pages).replace("{{< var conv.responders >}}", "")
    assert (reader.metadata.title or "") == "Tacrolimus in MA-ILD: reproduction report"


def test_pdf_tables_fit_within_the_text_width(rendered):
    """Every text run of the 10-column table starts left of the right margin (2 cm)."""
    page = _pdf(rendered["pdf"]).pages[0]
    right_edge = float(page.mediabox.width) - 2 / 2.54 * 72
    starts: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            starts.append((tm[4] * cm[0] + tm[5] * cm[2] + cm[4], text.strip()))

    page.extract_text(visitor_text=visit)
    assert any(t.startswith("Within") for _, t in starts)  # last column of the wide table
    assert max(x for x, _ in starts) < right_edge


def test_render_is_byte_identical_on_rerun(run_dir: Path):
    first = render_report(run_dir, engine="pandoc")
    before = {fmt: path.read_bytes() for fmt, path in first.items()}
    render_report(run_dir, engine="pandoc")
    assert {fmt: path.read_bytes() for fmt, path in first.items()} == before
    mode = stat.S_IMODE(first["pdf"].stat().st_mode)
    assert mode & stat.S_IRGRP  # a normal file, not a private temp file


def test_quarto_options_in_project_file_are_honoured(run_dir: Path):
    project = yaml.safe_load((run_dir / "_quarto.yml").read_text())
    project["format"]["html"].update({"toc": False, "number-sections": False})
    project["crossref"] = {"title-delim": ":"}
    (run_dir / "_quarto.yml").write_text(yaml.safe_dump(project))
    html = _norm(render_report(run_dir, formats=("html",), engine="pandoc")["html"]
                 .read_text(encoding="utf-8"))
    assert 'id="TOC"' not in html and "header-section-number" not in html
    assert "<caption>Table 1: Baseline characteristics" in html


def test_typst_header_file_holds_the_quarto_fixes_and_both_engines_include_it():
    """/work/shared/QUARTO.md (Quarto 1.10.18): the two Typst rules that make Quarto's PDF break
    long tables and print "Table 1." are included under format: typst; the stand-in reads the
    same option, so the rules reach its Typst source too."""
    from analysis.render.config import format_options, header_includes

    project = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert project["format"]["typst"]["include-in-header"] == "report-header.typ"
    opts = format_options((project,), "typst", {})
    header = header_includes(opts, REPO, "typst")
    assert '#show figure.where(kind: table): set block(breakable: true)' in header
    assert '#show figure.where(kind: "quarto-float-tbl"): set block(breakable: true)' in header
    assert "#set figure.caption(separator: [. ])" in header
    with pytest.raises(RenderError, match="include-in-header: file 'nope.typ' not found"):
        header_includes({"include-in-header": ["nope.typ"]}, REPO, "typst")
    assert header_includes({"include-in-header": [{"text": "#let x = 1"}]}, REPO, "t") == \
        "#let x = 1"


def test_pdf_table_longer_than_a_page_breaks_with_every_row(run_dir: Path):
    """Issue 14's Quarto defect, checked on the stand-in: a 90-row table continues on the next
    page instead of overprinting; every row's text is in the PDF, the last on a later page."""
    rows = "\n".join(f"| Row {i} | {i} ({i / 10:.1f}) |" for i in range(1, 91))
    (run_dir / "report.qmd").write_text(
        "---\ntitle: Long\n---\n\n| Label | n (%) |\n|:--|--:|\n" + rows
        + "\n\n: A long table {#tbl-long}\n")
    pages = [_norm(p.extract_text()) for p in
             _pdf(render_report(run_dir, formats=("pdf",), engine="pandoc")["pdf"]).pages]
    assert len(pages) >= 2
    text = " ".join(pages)
    assert all(f"Row {i} {i} ({i / 10:.1f})" in text for i in range(1, 91))
    assert "Row 90" not in pages[0] and "Table 1. A long table" in pages[0]


# ---------------------------------------------------------------------------------------------
# Failures leave the previous report in place
# ---------------------------------------------------------------------------------------------


def _leftovers(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if p.name.endswith(".part")
                  or p.name.startswith("_quarto-out-"))


def test_missing_image_fails_without_touching_previous_outputs(run_dir: Path):
    (run_dir / "report.html").write_text("previous html")
    (run_dir / "report.pdf").write_bytes(b"previous pdf")
    (run_dir / "figures" / "flow.png").unlink()
    with pytest.raises(RenderError, match="flow.png"):
        render_report(run_dir, formats=("html",), engine="pandoc")
    with pytest.raises(RenderError, match="Typst failed .*"):
        render_report(run_dir, formats=("pdf",), engine="pandoc")
    assert (run_dir / "report.html").read_text() == "previous html"
    assert (run_dir / "report.pdf").read_bytes() == b"previous pdf"
    assert _leftovers(run_dir) == []


def test_formats_failing_side_by_side_are_each_named(run_dir: Path):
    """The formats render side by side: when two fail, one error names both (each with its
    cause), and neither leaves a partial file."""
    (run_dir / "figures" / "flow.png").unlink()
    with pytest.raises(RenderError) as info:
        render_report(run_dir, formats=("html", "pdf"), engine="pandoc")
    message = str(info.value)
    assert message.startswith("2 formats failed to render: html: ")
    assert "flow.png" in message and "pdf: Typst failed" in message
    assert _leftovers(run_dir) == []
    assert not (run_dir / "report.html").exists() and not (run_dir / "report.pdf").exists()


def test_missing_variable_in_run_names_the_run_variables_file(run_dir: Path):
    (run_dir / "_variables.yml").write_text("conv:\n  responders: 31\n")
    with pytest.raises(RenderError) as info:
        render_report(run_dir, engine="pandoc")
    assert "report.qmd:12: variable 'flow.included' not found in" in str(info.value)
    assert str(run_dir / "_variables.yml") in str(info.value)
    assert not (run_dir / "report.html").exists()


def test_bad_arguments_and_missing_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(RenderError, match="report.qmd not found"):
        render_report(tmp_path, engine="pandoc")
    with pytest.raises(RenderError, match="formats must be"):
        render_report(tmp_path, formats=("odt",))
    with pytest.raises(RenderError, match="engine must be"):
        render_report(tmp_path, engine="latex")
    monkeypatch.delenv("QUARTO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "report.qmd").write_text("# x\n")
    with pytest.raises(RenderError, match="no Quarto CLI found"):
        render_report(tmp_path, engine="quarto")


def test_load_variables(tmp_path: Path):
    assert load_variables(tmp_path / "absent.yml") == {}
    (tmp_path / "v.yml").write_text("- a list\n")
    with pytest.raises(RenderError, match="must be a YAML mapping"):
        load_variables(tmp_path / "v.yml")


# ---------------------------------------------------------------------------------------------
# The Quarto engine (a fake CLI stands in for Quarto, which cannot be installed here)
# ---------------------------------------------------------------------------------------------

_FAKE_QUARTO = """\
#!{python}
import json, os, pathlib, sys
args = sys.argv[1:]
with open(os.environ["FAKE_QUARTO_LOG"], "a") as log:
    log.write(json.dumps({{"cwd": os.getcwd(), "args": args}}) + "\\n")
if os.environ.get("FAKE_QUARTO_FAIL"):
    sys.stderr.write("ERROR: something broke in Quarto\\n")
    sys.exit(1)
out = pathlib.Path(args[args.index("--output-dir") + 1])
assert not out.is_absolute() and out.is_dir(), out
to = args[args.index("--to") + 1]
name = {{"html": "report.html", "typst": "report.pdf", "docx": "report.docx"}}[to]
(out / name).write_text("rendered by fake quarto to " + to)
"""


@pytest.fixture
def fake_quarto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = tmp_path / "bin" / "quarto"
    exe.parent.mkdir()
    exe.write_text(_FAKE_QUARTO.format(python=sys.executable))
    exe.chmod(0o755)
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(tmp_path / "quarto.log"))
    return exe


def test_find_quarto_env_var_then_path(fake_quarto: Path, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path):
    monkeypatch.setenv("QUARTO", str(fake_quarto))
    assert find_quarto() == str(fake_quarto)
    monkeypatch.setenv("QUARTO", str(tmp_path / "no-such-quarto"))
    with pytest.raises(RenderError, match="does not name an executable"):
        find_quarto()
    monkeypatch.delenv("QUARTO")
    monkeypatch.setenv("PATH", str(fake_quarto.parent))
    assert find_quarto() == str(fake_quarto)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_quarto() is None


def test_quarto_engine_renders_both_formats_in_the_run_folder(
    run_dir: Path, fake_quarto: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    import json

    monkeypatch.setenv("QUARTO", str(fake_quarto))
    written = render_report(run_dir)  # engine="auto" takes Quarto when it is there
    assert written == {"html": run_dir / "report.html", "pdf": run_dir / "report.pdf",
                       "docx": run_dir / "report.docx"}
    assert (run_dir / "report.html").read_text() == "rendered by fake quarto to html"
    assert (run_dir / "report.pdf").read_text() == "rendered by fake quarto to typst"
    assert (run_dir / "report.docx").read_text() == "rendered by fake quarto to docx"
    calls = [json.loads(line) for line in (tmp_path / "quarto.log").read_text().splitlines()]
    assert [c["args"][:4] for c in calls] == [["render", "report.qmd", "--to", "html"],
                                             ["render", "report.qmd", "--to", "typst"],
                                             ["render", "report.qmd", "--to", "docx"]]
    assert all(Path(c["cwd"]) == run_dir.resolve() for c in calls)
    assert _leftovers(run_dir) == []


def test_quarto_failure_is_reported_and_keeps_previous_outputs(
    run_dir: Path, fake_quarto: Path, monkeypatch: pytest.MonkeyPatch
):
    (run_dir / "report.html").write_text("previous html")
    monkeypatch.setenv("QUARTO", str(fake_quarto))
    monkeypatch.setenv("FAKE_QUARTO_FAIL", "1")
    with pytest.raises(RenderError, match="(?s)exit code 1.*something broke in Quarto"):
        render_report(run_dir, formats=("html",), engine="quarto")
    assert (run_dir / "report.html").read_text() == "previous html"
    assert _leftovers(run_dir) == []
    # engine="pandoc" ignores an available Quarto.
    monkeypatch.delenv("FAKE_QUARTO_FAIL")
    render_report(run_dir, formats=("html",), engine="pandoc")
    assert "reproduction report" in (run_dir / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The project's _quarto.yml
# ---------------------------------------------------------------------------------------------


def test_project_quarto_config_declares_both_formats():
    config = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert config["project"] == {"type": "default", "render": ["report.qmd"]}
    assert config["execute"] == {"enabled": False}
    html, typst = config["format"]["html"], config["format"]["typst"]
    assert html["embed-resources"] is True and html["toc"] is True
    assert html["number-sections"] is True and html["html-math-method"] == "mathml"
    assert typst["toc"] is True and typst["papersize"] in ("a4", "us-letter")
    assert set(typst["margin"]) <= {"x", "y", "top", "bottom", "left", "right"}
    assert "css" not in html  # no external stylesheet
    # Word (issue 14), and no explicit pipe-table column widths in any format.
    assert config["format"]["docx"]["toc"] is True
    assert config["tbl-colwidths"] is False


# ---------------------------------------------------------------------------------------------
# Word, alt text, column widths (issue 14)
# ---------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_body(path: Path):
    """The body of a .docx (ECMA-376 WordprocessingML), read with zipfile + ElementTree:
    python-docx is not a dependency and the structure checked here is small."""
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read("word/document.xml")).find(f"{_W}body"), z.namelist()


def _w_text(element) -> str:
    return _norm("".join(t.text or "" for t in element.iter(f"{_W}t")))


def _style(paragraph) -> str:
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    return "" if style is None else style.get(f"{_W}val")


def test_docx_has_real_tables_captions_and_the_figure(rendered):
    body, names = _docx_body(rendered["docx"])
    blocks = list(body)
    tables = [i for i, b in enumerate(blocks) if b.tag == f"{_W}tbl"]
    assert len(tables) == 2
    # The caption paragraph ("Table 1." as in HTML and PDF) comes right before its table,
    # and the table's cells hold the fixture's numbers (tests/fixtures/render/tables).
    caption = blocks[tables[0] - 1]
    assert _style(caption) == "TableCaption"
    assert _w_text(caption).startswith("Table 1. Baseline characteristics")
    cells = [_w_text(c) for c in blocks[tables[0]].iter(f"{_W}tc")]
    assert "52.3 (11.8)" in cells
    assert "0.013" in [_w_text(c) for c in blocks[tables[1]].iter(f"{_W}tc")]
    assert len([n for n in names if n.startswith("word/media/")]) == 1
    captions = [_w_text(p) for p in body.iter(f"{_W}p") if _style(p) == "ImageCaption"]
    assert captions == ["Figure 1. Flow of patients through the study"]
    assert all("p = <" not in _w_text(p) for p in body.iter(f"{_W}p"))


def test_fig_alt_becomes_the_image_alt_text_not_the_caption(run_dir: Path):
    """Quarto's ``fig-alt`` attribute is the image's alt text (pandoc calls it ``alt``)."""
    qmd = run_dir / "report.qmd"
    qmd.write_text(qmd.read_text().replace(
        "{#fig-flow}", '{#fig-flow fig-alt="Boxes from 67 screened down to 18 analysed."}'))
    out = render_report(run_dir, formats=("html", "docx"), engine="pandoc")
    html = out["html"].read_text(encoding="utf-8")
    assert re.search(r'<img [^>]*alt="Boxes from 67 screened down to 18 analysed\."', html)
    assert "fig-alt" not in html
    import zipfile

    with zipfile.ZipFile(out["docx"]) as z:
        assert 'descr="Boxes from 67 screened down to 18 analysed."' in \
            z.read("word/document.xml").decode()


def test_tbl_colwidths_false_gives_tables_no_explicit_widths(run_dir: Path):
    """pandoc derives relative widths from the dashes of a pipe table wider than 72 characters
    (its manual, "pipe_tables"); with ``tbl-colwidths: false`` (in _quarto.yml) the stand-in
    drops them, as Quarto does."""
    from analysis.render.pandoc import _colwidth_args, _run_pandoc

    wide = "| " + "a" * 80 + " | b |\n|:" + "-" * 80 + "|--:|\n| x | 1 |\n"
    with_widths = _run_pandoc(wide, ["--to=typst"], run_dir, "test")
    without = _run_pandoc(wide, ["--to=typst", *_colwidth_args({"tbl-colwidths": False})],
                          run_dir, "test")
    assert re.search(r"columns: \([\d.]+%", with_widths)
    assert "columns: 2," in without and "%" not in without
    assert _colwidth_args({}) == []


# ---------------------------------------------------------------------------------------------
# Word's page, type sizes and table columns (issue 14): reference.docx and docx-tables.lua
# ---------------------------------------------------------------------------------------------


def test_committed_reference_docx_is_what_its_builder_makes():
    """reference.docx is generated, not hand-edited: pandoc's default reference.docx with the
    typst options of _quarto.yml (analysis/render/docx_reference.py) gives the same bytes."""
    from analysis.render.docx_reference import build_reference_docx, pandoc_reference_docx

    typst = yaml.safe_load((REPO / "_quarto.yml").read_text())["format"]["typst"]
    assert build_reference_docx(pandoc_reference_docx(), typst) == \
        (REPO / "reference.docx").read_bytes()


def test_page_setup_reads_typst_lengths_by_hand():
    from analysis.render.docx_reference import page_setup

    setup = page_setup({"papersize": "us-letter", "margin": {"x": "2cm", "y": "1in"},
                        "fontsize": "10pt"})
    assert setup["width"] == 612 and setup["height"] == 792  # 8.5 x 11 in
    assert setup["left"] == setup["right"] == pytest.approx(56.693, abs=1e-3)  # 2/2.54*72
    assert setup["top"] == setup["bottom"] == 72 and setup["fontsize"] == 10
    with pytest.raises(RenderError, match="margin: left.*'2 furlongs'"):
        page_setup({"margin": {"x": "2 furlongs"}})
    with pytest.raises(RenderError, match="papersize"):
        page_setup({"papersize": "foolscap"})


def test_docx_filter_sizes_agree_with_reference_docx():
    """docx-tables.lua sizes columns for reference.docx's page, margins, table type size and
    cell margins: its constants are those of the reference document's XML."""
    import xml.etree.ElementTree as ET
    import zipfile

    lua = (REPO / "docx-tables.lua").read_text()
    pair = {k: tuple(int(v) for v in re.search(rf"local {k} = (\d+), (\d+)", lua).groups())
            for k in ("PAGE_W_TW, PAGE_H_TW", "MARGIN_X_TW, MARGIN_Y_TW")}
    const = {k: float(re.search(rf"local {k} = ([\d.]+)", lua).group(1))
             for k in ("FONT_PT", "PAD_PT")}
    with zipfile.ZipFile(REPO / "reference.docx") as z:
        sect = ET.fromstring(z.read("word/document.xml")).find(f"{_W}body/{_W}sectPr")
        styles = ET.fromstring(z.read("word/styles.xml"))
    size, margins = sect.find(f"{_W}pgSz"), sect.find(f"{_W}pgMar")
    assert pair["PAGE_W_TW, PAGE_H_TW"] == (int(size.get(f"{_W}w")), int(size.get(f"{_W}h")))
    assert int(margins.get(f"{_W}left")) == int(margins.get(f"{_W}right"))
    assert pair["MARGIN_X_TW, MARGIN_Y_TW"] == (int(margins.get(f"{_W}left")),
                                                int(margins.get(f"{_W}top")))
    table = next(s for s in styles.iter(f"{_W}style") if s.get(f"{_W}styleId") == "Table")
    assert const["FONT_PT"] == int(table.find(f"{_W}rPr/{_W}sz").get(f"{_W}val")) / 2
    cell_margin = table.find(f"{_W}tblPr/{_W}tblCellMar/{_W}left").get(f"{_W}w")
    assert const["PAD_PT"] == 2 * int(cell_margin) / 20


def test_project_docx_options_name_project_files():
    """_quarto.yml's docx format names the reference document and the Lua filter, and the
    pipeline copies both into the run folder (PROJECT_FILES)."""
    docx = yaml.safe_load((REPO / "_quarto.yml").read_text())["format"]["docx"]
    assert docx["reference-doc"] == "reference.docx"
    assert docx["filters"] == [{"path": "docx-tables.lua", "at": "post-render"}]
    assert {"reference.docx", "docx-tables.lua"} <= set(PROJECT_FILES)


def test_filter_and_reference_doc_errors_name_the_option(tmp_path: Path):
    from analysis.render.config import filter_args

    (tmp_path / "f.py").write_text("")
    with pytest.raises(RenderError, match="filters: file 'missing.lua' not found"):
        filter_args({"filters": ["missing.lua"]}, tmp_path, "docx")
    with pytest.raises(RenderError, match="'f.py': the pip-only renderer runs Lua filters only"):
        filter_args({"filters": [{"path": "f.py"}]}, tmp_path, "docx")
    with pytest.raises(RenderError, match="reference-doc: file 'ref.docx' not found"):
        filter_args({"reference-doc": "ref.docx"}, tmp_path, "docx")


def _word_width_pt(size_pt: float):
    """Width of a word at ``size_pt``: its glyphs' unhinted advance widths in DejaVu Sans (a
    wide face, LibreOffice's stand-in for Word's Aptos here) read by FreeType (matplotlib's
    ft2font) from the font file, plus the 2 x 108-twip cell margins."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font, LoadFlags

    font = FT2Font(font_manager.findfont("DejaVu Sans"))
    font.set_size(1000, 72)

    def width(word: str) -> float:
        return sum(font.load_char(ord(c), flags=LoadFlags.NO_HINTING).linearHoriAdvance
                   / 65536 for c in word) / 1000 * size_pt + 2 * 108 / 20

    return width


def _tables_with_text_width(body) -> list[tuple[object, float]]:
    """Each top-level table of a docx body with the text width (pt) of its section: the first
    section-ending paragraph after it (w:pPr/w:sectPr), else the body's own w:sectPr."""
    blocks = list(body)
    out = []
    for i, block in enumerate(blocks):
        if block.tag != f"{_W}tbl":
            continue
        sect = next((b.find(f"{_W}pPr/{_W}sectPr") for b in blocks[i + 1:]
                     if b.find(f"{_W}pPr/{_W}sectPr") is not None), body.find(f"{_W}sectPr"))
        margins = sect.find(f"{_W}pgMar")
        out.append((block, (int(sect.find(f"{_W}pgSz").get(f"{_W}w"))
                            - int(margins.get(f"{_W}left")) - int(margins.get(f"{_W}right")))
                    / 20))
    return out


def _columns_pt(table, text_width: float) -> list[float]:
    """Fixed-layout column widths: grid shares of the table's w:tblW (fiftieths of a percent of
    the text width, ECMA-376 17.4.63)."""
    assert table.find(f"{_W}tblPr/{_W}tblLayout").get(f"{_W}type") == "fixed"
    grid = [int(g.get(f"{_W}w")) for g in table.find(f"{_W}tblGrid")]
    share = int(table.find(f"{_W}tblPr/{_W}tblW").get(f"{_W}w")) / 5000
    return [g / sum(grid) * share * text_width for g in grid]


def test_docx_table_columns_fit_their_words_the_wide_one_landscape(rendered):
    """The fixture's 4-column table fits every word on the portrait page at 8pt; its 10-column
    one cannot (its widest words need more than the 498.6 pt text width) and is set alone on
    a landscape page (pgSz 15840 x 12240 twips), where every word fits too."""
    width_pt = _word_width_pt(8)
    body, _ = _docx_body(rendered["docx"])
    placed = _tables_with_text_width(body)
    assert [(len(list(t.find(f"{_W}tblGrid"))), w) for t, w in placed] == \
        [(4, pytest.approx(498.6)), (10, pytest.approx(678.6))]
    for table, text_width in placed:
        for row in table.iter(f"{_W}tr"):
            for col, cell in zip(_columns_pt(table, text_width), row.iter(f"{_W}tc"),
                                 strict=True):
                for word in _w_text(cell).split():
                    assert width_pt(word) <= col, (word, width_pt(word), col)
    landscape = [p for p in body.iter(f"{_W}p") if p.find(f"{_W}pPr/{_W}sectPr") is not None]
    assert [p.find(f"{_W}pPr/{_W}sectPr/{_W}pgSz").get(f"{_W}orient") for p in landscape] == \
        [None, "landscape"]


# Quarto's docx rendering of captioned, labelled floats (quarto-cli filters/customnodes/
# floatreftarget.lua, its docx renderer and docxDivCaption; /work/shared/QUARTO.md): a
# one-column, full-width layout table whose column is centred, its one cell holding a block with
# the float's id, the caption (a paragraph whose first inline is raw OpenXML paragraph
# properties, style "Image Caption") and the content; and, for Word, a figure's fig-alt moved
# into the image's alt attribute with the image's own text left empty. This Lua builds the same
# structure from pandoc's, so docx-tables.lua can be run on what it meets under Quarto at
# `post-render`.
QUARTO_DOCX_FLOATS_LUA = r"""
local function layout(id, blocks)
  return pandoc.utils.from_simple_table(pandoc.SimpleTable(
    {}, {"AlignCenter"}, {1}, {}, {{pandoc.Div(blocks, pandoc.Attr(id))}}))
end
local function caption(inlines)
  local para = pandoc.Para({pandoc.RawInline("openxml", '<w:pPr>\n<w:jc w:val="left"/>\n'
    .. '<w:spacing w:before="200" />\n<w:pStyle w:val="ImageCaption" />\n</w:pPr>\n')})
  para.content:extend(inlines)
  return para
end
function Figure(fig)
  local content = fig.content:walk({Image = function(img)
    img.attributes["alt"] = img.attributes["fig-alt"]
    img.attributes["fig-alt"] = nil
    img.caption = {}
    return img
  end})
  content:insert(caption(pandoc.utils.blocks_to_inlines(fig.caption.long)))
  return layout(fig.identifier, content)
end
function Table(tbl)
  if #tbl.caption.long == 0 or not tbl.identifier:match("^tbl%-") then return nil end
  local id, cap = tbl.identifier, pandoc.utils.blocks_to_inlines(tbl.caption.long)
  tbl.caption, tbl.identifier = pandoc.Caption(), ""
  return layout(id, {caption(cap), tbl})
end
"""


def quarto_docx(run_dir: Path, markdown: str, filters: list[str], name: str = "q") -> Path:
    """``markdown`` through Quarto's docx floats (:data:`QUARTO_DOCX_FLOATS_LUA`), then
    ``filters`` (project Lua files in ``run_dir``), to ``run_dir/<name>.docx`` with the
    project's reference.docx."""
    from analysis.render.pandoc import _run_pandoc

    (run_dir / "quarto-docx-floats.lua").write_text(QUARTO_DOCX_FLOATS_LUA)
    out = run_dir / f"{name}.docx"
    _run_pandoc(markdown, ["--to=docx", f"--output={out}", "--lua-filter=quarto-docx-floats.lua",
                           *(f"--lua-filter={f}" for f in filters),
                           "--reference-doc=reference.docx"], run_dir, "test")
    return out


def test_docx_filter_unwraps_quartos_layout_tables_around_tables(run_dir: Path):
    """/work/shared/QUARTO.md, defects 3 and 5: under Quarto each labelled table sat in a
    one-cell layout table whose centred column put a second alignment on every cell paragraph
    (Word centred every cell), and its caption, styled "Image Caption", could end a page alone.
    docx-tables.lua unwraps it: the block with the table's id (a bookmark, for cross-references),
    the caption in "Table Caption" (keep with next, reference.docx) and the table with content
    widths; the wide table with its caption on a landscape page. A figure's layout table is left
    alone (full width)."""
    import xml.etree.ElementTree as ET
    import zipfile

    markdown = ((run_dir / "tables" / "table1.md").read_text() + "\n"  # its own caption
                + (run_dir / "tables" / "wide.md").read_text() + "\n: A caption {#tbl-wide}\n\n")
    markdown += '![Flow of patients](figures/flow.png){#fig-flow fig-alt="Boxes and arrows."}\n'
    out = quarto_docx(run_dir, markdown, ["docx-tables.lua"])
    with zipfile.ZipFile(out) as z:
        body = ET.fromstring(z.read("word/document.xml")).find(f"{_W}body")
        styles = z.read("word/styles.xml").decode()
    blocks = list(body)
    tables = [b for b in blocks if b.tag == f"{_W}tbl"]
    assert len(tables) == 3
    figure = tables.pop()  # the figure's layout table, as Quarto made it: full width
    # No paragraph outside it, in a table cell or not, carries two alignments.
    paragraphs = [p for b in blocks if b is not figure for p in b.iter(f"{_W}p")]
    assert max(len(p.findall(f"{_W}pPr/{_W}jc")) for p in paragraphs) == 1
    assert figure.find(f".//{_W}drawing") is not None
    assert figure.find(f"{_W}tblPr/{_W}tblW").get(f"{_W}w") == "5000"
    assert [len(list(t.find(f"{_W}tblGrid"))) for t in tables] == [4, 10]  # data, not layout
    captions = ("Baseline characteristics of the included patients", "A caption")
    for table, label, text in zip(tables, ("tbl-table1", "tbl-wide"), captions, strict=True):
        assert table.find(f"{_W}tblPr/{_W}tblLayout").get(f"{_W}type") == "fixed"
        assert table.find(f".//{_W}tbl") is None and table.find(f".//{_W}sectPr") is None
        caption = blocks[blocks.index(table) - 1]
        assert _style(caption) == "TableCaption" and _w_text(caption) == text
        assert caption.find(f"{_W}pPr/{_W}jc") is None
        bookmarks = [b.get(f"{_W}name") for b in blocks[blocks.index(table) - 2].iter()
                     if b.tag == f"{_W}bookmarkStart"] + \
            [b.get(f"{_W}name") for b in caption.iter(f"{_W}bookmarkStart")]
        assert label in bookmarks
    caption_style = next(st for st in ET.fromstring(styles).iter(f"{_W}style")
                         if st.get(f"{_W}styleId") == "TableCaption")
    assert caption_style.find(f"{_W}pPr/{_W}keepNext") is not None  # kept with its table
    # The wide table and its caption on a landscape page of their own.
    sections = [b for b in blocks if b.find(f"{_W}pPr/{_W}sectPr") is not None]
    wide = blocks.index(tables[1])  # after: bookmark start, caption; before: bookmark end
    assert [blocks.index(s) for s in sections] == [wide - 3, wide + 2]
    assert sections[1].find(f"{_W}pPr/{_W}sectPr/{_W}pgSz").get(f"{_W}orient") == "landscape"


def test_docx_filter_gives_quartos_images_their_alt_text(run_dir: Path):
    """/work/shared/QUARTO.md, defect 4: Quarto's Word images had no description (Word takes
    it from the image's text, which Quarto leaves empty, having moved fig-alt into ``alt``).
    docx-tables.lua copies the alt text in; without it the description is empty."""
    markdown = '![Flow of patients](figures/flow.png){#fig-flow fig-alt="Boxes and arrows."}\n'
    plain = quarto_docx(run_dir, markdown, [], "plain")
    fixed = quarto_docx(run_dir, markdown, ["docx-tables.lua"], "fixed")
    import zipfile

    def descriptions(path: Path) -> list[str]:
        with zipfile.ZipFile(path) as z:
            return re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', z.read("word/document.xml")
                              .decode())
    assert descriptions(plain) == [""]  # Quarto's structure as it is: no alt text
    assert descriptions(fixed) == ["Boxes and arrows."]
