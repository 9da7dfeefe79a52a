"""The report as a journal supplement (issue 14): the paper run's HTML, PDF and Word files and
its spreadsheet, and a variant's opening section, checked the way a reader sees them.

Expected values come from the paper (Sharma et al. 2017, /work/shared/paper: Table 1's rows and
numbers, the Results' claims) or are stated by hand; the PDF is read with pypdf, the Word file
with zipfile + ElementTree (ECMA-376 WordprocessingML), the spreadsheet with openpyxl and
compared with the CSV read by pandas. Runs are the session's shared ones (tests/conftest.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

#: Table 1 of the paper, its rows with a value, top to bottom (Sharma 2017, Table 1).
TABLE1_ROWS = [
    "Age at onset, yrs, mean (SD)", "Male", "Female", "Black", "White", "Hispanic", "Asian",
    "Never", "Former", "Active", "Polymyositis", "Dermatomyositis", "CADM",
    "Baseline CK, U/l, mean (SD)", "Baseline aldolase, mean (SD)", "ANA", "Anti-Jo1", "SSA",
    "Mi-2", "PL-7", "SRP", "Ku", "FVC", "TLC", "DLCO", "Honeycombing absent",
    "Honeycombing present", "OP", "NSIP", "UIP", "Others", "AZA", "MTX", "MMF",
]


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("&nbsp;", " ").split())


def html_text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return _norm(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def pdf_pages(paper_run) -> list[str]:
    from pypdf import PdfReader

    return [_norm(page.extract_text()) for page in
            PdfReader(paper_run / "report.pdf").pages]


@pytest.fixture(scope="module")
def docx_body(paper_run):
    with zipfile.ZipFile(paper_run / "report.docx") as z:
        return ET.fromstring(z.read("word/document.xml")).find(f"{W}body")


def _w_text(element) -> str:
    return _norm("".join(t.text or "" for t in element.iter(f"{W}t")))


def _in_order(text: str, items: list[str]) -> list[str]:
    """The items not found in ``text`` in this order (empty when all are)."""
    missing, at = [], 0
    for item in items:
        found = text.find(item, at)
        if found < 0:
            missing.append(item)
        else:
            at = found + len(item)
    return missing


def test_pdf_table1_has_every_row_in_order_across_its_pages(pdf_pages):
    """Quarto's PDF overprinted Table 1's last 9 rows ("3535 (20.4)"); every row of the paper's
    Table 1 is in the PDF, in order, with MMF's "11 (20.4)" (Sharma 2017, Table 1)."""
    text = " ".join(pdf_pages)
    table1 = text[text.index("Table 1. Clinical characteristics"):
                  text.index("Table 2. Clinical characteristics")]
    assert _in_order(table1, TABLE1_ROWS) == []
    assert "MMF 11 (20.4)" in table1 and "AZA 35 (64.8)" in table1
    assert "3535" not in table1
    # The table runs over two pages; its header row is repeated on the second.
    pages = [p for p in pdf_pages if "Polymyositis" in p and "Clinical characteristics" in p]
    assert len(pages) >= 2


def test_pdf_captions_stay_with_their_tables(pdf_pages):
    """No page ends with a table caption: the caption is followed, on its page, by the table's
    header row and rows (the caption block is sticky, report-header.typ)."""
    # A caption alone at a page foot leaves only the page number after it; 100 characters is
    # the caption's own words and two short rows (Appendix C's two-column "Package versions"
    # table ends a page with its header and six rows: 123 characters).
    for i, page in enumerate(pdf_pages):
        for m in re.finditer(r"Table (\d+)\. [A-Z]", page):
            assert len(page) - m.end() > 100, (i + 1, page[m.start():m.start() + 80])


def test_no_hyphenation_inside_tables(pdf_pages):
    text = " ".join(pdf_pages)
    for broken in ("Repro- duced", "Nonrespon- ders", "inconsis- tent", "histopathol- ogy"):
        assert broken not in text


def test_report_does_not_open_with_an_internal_note(paper_run, pdf_pages):
    """A supplement opens with the study, not "This is run paper." (a variant still names
    itself: test_variant_opens_with_the_paper_s_conclusions)."""
    assert "This is run" not in pdf_pages[0]
    assert "This is run" not in html_text(paper_run / "report.html")


def test_parameter_table_source_column_holds_the_source_texts(paper_run):
    """Appendix C: "true | false" stays in the Allowed cell and the Source cell holds where the
    value comes from (texts from the paper's Methods, by hand)."""
    html = paper_run.joinpath("report.html").read_text(encoding="utf-8")
    table = html[html.index("Parameters of this run"):]
    table = table[:table.index("</table>")]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = [_norm(re.sub(r"<[^>]+>", "", c))
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        if cells:
            assert len(cells) == 5, cells
            rows[cells[0]] = cells
    assert rows["count_weakness"][3] == "true | false"
    assert rows["count_weakness"][4] == "Methods, refractory myositis (1)"
    assert rows["fvc_decline"][4].startswith("Methods") and "FVC by 10%" in rows["fvc_decline"][4]
    assert rows["ild_criteria_required"][4].startswith("Methods")


def test_no_p_equals_less_than_anywhere(paper_run, pdf_pages, docx_body):
    html = html_text(paper_run / "report.html")
    for text in (html, " ".join(pdf_pages), _w_text(docx_body)):
        assert "p = <" not in text and "p = &lt;" not in text


def test_captions_read_table_n_dot_in_html_pdf_and_docx(paper_run, pdf_pages, docx_body):
    html = html_text(paper_run / "report.html")
    pdf = " ".join(pdf_pages)
    captions = [_w_text(p) for p in docx_body.iter(f"{W}p")
                if (s := p.find(f"{W}pPr/{W}pStyle")) is not None
                and s.get(f"{W}val") == "TableCaption"]
    for n in (1, 2, 3):
        assert f"Table {n}. Clinical characteristics" in html
        assert f"Table {n}. Clinical characteristics" in pdf
        assert any(c.startswith(f"Table {n}. Clinical characteristics") for c in captions)
    for text in (html, pdf, " ".join(captions)):
        assert not re.search(r"(Table|Figure) \d+: [A-Z][a-z]", text)  # a caption


def test_docx_table1_numbers_are_in_a_word_table(docx_body):
    """Table 1's numbers (Sharma 2017, Table 1) are cells of a real Word table that follows
    its caption."""
    blocks = list(docx_body)
    i = next(i for i, b in enumerate(blocks)
             if _w_text(b).startswith("Table 1. Clinical characteristics"))
    table = blocks[i + 1]
    assert table.tag == f"{W}tbl"
    rows = [[_w_text(c) for c in r.iter(f"{W}tc")] for r in table.iter(f"{W}tr")]
    cells = {r[0]: r[1] for r in rows if len(r) == 2}
    assert cells["Female"] == "38 (70.4)" and cells["MMF"] == "11 (20.4)"
    assert cells["Age at onset, yrs, mean (SD)"] == "44.9 (14.9)"
    assert _in_order(" ".join(r[0] for r in rows), TABLE1_ROWS) == []
    # Word repeats a row marked w:tblHeader at the top of each page (ECMA-376 17.4.49).
    first_row = next(table.iter(f"{W}tr"))
    assert first_row.find(f"{W}trPr/{W}tblHeader") is not None


def figures_in_report(run: Path) -> int:
    """How many figures the report includes: image links to ``figures/`` in report.qmd and in
    the run's Markdown includes (counted from the sources, not from the output)."""
    sources = [Path(__file__).parent.parent / "report.qmd", *sorted((run / "tables").glob("*.md"))]
    return sum(len(re.findall(r"!\[[^\]]*\]\(figures/", p.read_text(encoding="utf-8")))
               for p in sources)


def test_docx_has_every_figure_with_alt_text_that_is_not_its_caption(paper_run, docx_body):
    with zipfile.ZipFile(paper_run / "report.docx") as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    expected = figures_in_report(paper_run)
    assert len(media) == expected
    WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
    alts = [d.get("descr") for d in docx_body.iter(f"{WP}docPr")]
    assert len(alts) == expected and all(len(a) > 80 for a in alts)
    assert not any(a.startswith(("Study design", "Prednisone dose")) for a in alts)


def test_html_alt_text_describes_each_figure(paper_run):
    html = paper_run.joinpath("report.html").read_text(encoding="utf-8")
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert len(alts) == figures_in_report(paper_run)
    assert alts[0].startswith("Flow chart.")


def test_appendix_a_prints_each_sentence_once(paper_run):
    """The Abstract's "Thirty-one of 54 patients (57%) ..." holds three numbers; its sentence is
    printed once, not once per number (Sharma 2017, Abstract)."""
    html = html_text(paper_run / "report.html")
    abstract = html[html.index("14 of 14 reproduced"):]
    abstract = abstract[:abstract.index("reproduced.", 30)]
    sentence = "Thirty-one of 54 patients (57%) responded to conventional treatment"
    assert abstract.count(sentence) == 1
    assert abstract.count("PM-ILD more likely to respond than DM-ILD") == 1


def test_references_section(paper_run):
    html = html_text(paper_run / "report.html")
    refs = html[html.index("References"):]
    assert "doi:10.3899/jrheum.161217" in refs
    assert "Am J Respir Crit Care Med 2000;161:646-64" in refs  # the ATS statement
    assert "Freeman GH, Halton JH" in refs and "Mann HB, Whitney DR" in refs


def test_spreadsheet_has_a_sheet_per_table_with_the_csv_numbers(paper_run):
    """Issue 25: a sheet per table with headers in words, the CSV's numbers at full precision
    shown at the printed precision, Table 1's n beside its %, and a Dictionary sheet."""
    from openpyxl import load_workbook

    tables = paper_run / "tables"
    book = load_workbook(tables / "tables.xlsx")
    assert book.sheetnames[:3] == ["Table 1", "Table 2", "Table 3"]
    assert book.sheetnames[-1] == "Dictionary"
    # every table but the sensitivity grid (7,776 rows of data, kept in its CSV), and a
    # Dictionary sheet that names the grid's file
    assert len(book.sheetnames) == len(list(tables.glob("*.csv"))) - 1 + 1
    assert "Sensitivity grid" not in book.sheetnames
    kept = [r for r in book["Dictionary"].iter_rows(min_row=2, values_only=True)
            if r[0] == "(not in this workbook)"]
    assert [r[3] for r in kept] == ["sensitivity.csv"] and (tables / "sensitivity.csv").is_file()
    sheet = list(book["Table 1"].iter_rows())
    header = [c.value for c in sheet[0]]
    assert header[:4] == ["Characteristic", "Level or row", "n", "%"]
    assert not [h for h in header if "_" in h]
    csv = pd.read_csv(tables / "table1.csv")
    assert len(sheet) == len(csv) + 1
    mmf = next(r for r in sheet if r[1].value == "MMF")
    # Sharma 2017, Table 1: MMF 11 (20.4); the cell holds 11/54 in full, shown as 20.4.
    assert mmf[2].value == 11
    assert mmf[3].value == pytest.approx(100 * 11 / 54) and mmf[3].number_format == "0.0"
    assert "Mi-2" in [r[0].value for r in sheet] and "mi2" not in [r[0].value for r in sheet]
    words = {(r[0], r[1]): r[2] for r in book["Dictionary"].iter_rows(min_row=2, values_only=True)}
    for name in book.sheetnames[:-1]:
        for cell in next(book[name].iter_rows(max_row=1)):
            assert words.get((name, cell.value)), (name, cell.value)
    assert words[("Table 1", "%")].startswith("Percentage")


def _code_words() -> set[str]:
    """Names a reader must not meet before the appendices: every parameter with an underscore
    (``ck_uln``), every per-row test entry (``categorical_tests.t2.race``, ``t2.race``), the
    combined assumption, the export's column names with an underscore or a digit, the exclusion
    codes, and the row keys that abbreviate a printed label (``mi2`` for Mi-2, ``jo1`` for
    Anti-Jo1)."""
    import dataclasses

    from analysis.assumptions import registry
    from analysis.cohort import EXCLUSIONS
    from analysis.paper.rows import ROWS
    from analysis.params import MAPPINGS, Params
    from analysis.schema.codebook import load_codebook

    words = {f.name for f in dataclasses.fields(Params) if "_" in f.name}
    for field, (defaults, _, _) in MAPPINGS.items():
        words |= {f"{field}.{k}" for k in defaults} | {k for k in defaults if "." in k}
    words |= {a.name for a in registry() if "_" in a.name}
    words |= {c for c in load_codebook().frame["column"] if re.search(r"_|\d", c)}
    words |= {k for k in EXCLUSIONS if "_" in k or len(k) <= 4 and k.upper() != k}
    words |= {r.key for r in ROWS  # abbreviations only: not "myositis" for Myositis
              if r.label.upper().removeprefix("ANTI-").replace("-", "") == r.key.upper()
              and (r.label != r.label.capitalize() or any(c.isdigit() for c in r.key))}
    return words


def _before_appendices(text: str) -> str:
    text = text.replace("\u200b", "").replace("\u00ad", "")
    return text[:text.rindex("Appendix A — Reproduction")]


def test_no_code_word_before_the_appendices(paper_run, pdf_pages, docx_body):
    """Issue 25: the report's body speaks a reader's words in every format; parameter and
    variable names appear only in Appendix C (and the data dictionary)."""
    codes = _code_words()
    assert {"ck_uln", "categorical_tests.t2.race", "mi2", "ibm"} <= codes
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(codes, key=len,
                                                                   reverse=True))) + r")(?![\w])")
    for where, text in (("HTML", html_text(paper_run / "report.html")),
                        ("PDF", " ".join(pdf_pages)), ("Word", _w_text(docx_body))):
        found = sorted(set(pattern.findall(_before_appendices(text))))
        assert not found, f"{where}: {found}"


def test_word_updates_its_contents_on_opening(paper_run):
    """Issue 25: the Word file's table of contents is a TOC field, and the file asks Word to
    update its fields on opening (w:updateFields, ECMA-376 17.15.1.90)."""
    with zipfile.ZipFile(paper_run / "report.docx") as z:
        settings = ET.fromstring(z.read("word/settings.xml"))
        document = z.read("word/document.xml").decode("utf-8")
    update = settings.find(f"{W}updateFields")
    assert update is not None and update.get(f"{W}val") == "true"
    assert re.search(r"<w:instrText[^>]*>\s*TOC ", document)


def test_word_file_holds_a_written_contents_list(paper_run, docx_body):
    """Issue 25: LibreOffice does not update fields on opening (it showed a bare "Table of
    Contents"), so the TOC field holds its entries: every heading of levels 1-2, in order,
    as the heading prints it (section number included), each a link to the heading's
    bookmark. Read from the document's XML, independently of the writer."""
    blocks = list(docx_body)
    headings, marks = [], {}
    for i, block in enumerate(blocks):
        style = block.find(f"{W}pPr/{W}pStyle")
        if block.tag == f"{W}p" and style is not None and style.get(f"{W}val") in (
                "Heading1", "Heading2"):
            headings.append(_norm("".join(t.text or "" if t.tag == f"{W}t" else " "
                                          for t in block.iter() if t.tag in (f"{W}t",
                                                                             f"{W}tab"))))
            before = blocks[i - 1]
            if before.tag == f"{W}bookmarkStart":
                marks[headings[-1]] = before.get(f"{W}name")
    sdt = next(b for b in blocks if b.tag == f"{W}sdt")
    entries = [(_w_text(link), link.get(f"{W}anchor")) for link in sdt.iter(f"{W}hyperlink")]
    shown = [text for text, _ in entries]
    assert headings == shown
    assert {"1 The study", "4.1 Study flow", "Appendix C — Reproducibility"} <= set(shown)
    for (_, anchor), heading in zip(entries, headings, strict=True):
        assert anchor == marks[heading], heading
    # The field stays (Word rebuilds it with page numbers on opening): begin, TOC, end.
    kinds = [f.get(f"{W}fldCharType") for f in sdt.iter(f"{W}fldChar")]
    assert kinds == ["begin", "separate", "end"]
    assert re.search(r"TOC \\o", "".join(t.text or "" for t in sdt.iter(f"{W}instrText")))


def test_pdf_figure1_follows_table1_s_last_row(pdf_pages):
    """Issue 25: Figure 1 no longer lands inside Table 1: in the PDF's text order its caption
    comes after Table 1's last row (Sharma 2017, Table 1: MMF 11 (20.4))."""
    text = " ".join(pdf_pages)
    table1 = text.index("Table 1. Clinical characteristics")
    last_row = text.index("MMF 11 (20.4)", table1)
    figure1 = text.index("Figure 1. Study design")
    assert table1 < last_row < figure1


def test_repository_figures_are_the_paper_run_s_print_set(paper_run):
    """The repository's figures/ (``make figures``: the paper run with ``--figures print``)
    holds, for every figure the report includes, the print set (issue 14: 300 dpi and vector
    art), and its PNG is the very PNG a fresh paper run draws (figures are byte-identical
    across runs): a figure changed without ``make figures`` fails here."""
    from analysis import paths

    drawn = sorted((paper_run / "figures").glob("*.png"))
    assert len(drawn) == 7
    for png in drawn:
        kept = paths.FIGURES / png.name
        assert kept.read_bytes() == png.read_bytes(), f"{png.name}: run `make figures`"
        assert (paths.FIGURES / f"{png.stem}_300dpi.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (paths.FIGURES / f"{png.stem}.pdf").read_bytes()[:5] == b"%PDF-"
        assert "<svg" in (paths.FIGURES / f"{png.stem}.svg").read_text(encoding="utf-8")


def test_variant_opens_with_the_paper_s_conclusions(variant_run):
    """A variant's report: its name, then the conclusions table (verdict, the paper run, this
    run), then the flow, then the changed numbers by table (the long list in Appendix D); the
    paper's tables keep 1-3."""
    text = html_text(variant_run / "report.html")
    assert "This is run fvc5" in text
    body = text[text.index("This is run fvc5"):]  # after the contents list
    order = [body.index(s) for s in ("The paper’s conclusions in this run",
                                     "1.2 Study flow", "Changed numbers by table", "The study",
                                     "Every computed number of run fvc5")]
    assert order == sorted(order)
    # The verdict, then the paper run's numbers (Table 2: PM 20/30, DM 7/20) and this run's
    # (FVC decline 5%: PM 18/30, DM 6/20, the two-sided Fisher p of PM vs DM alone 0.048).
    # What the paper printed (67% vs 35%) is not repeated beside the paper run (issue 25).
    assert re.search(r"Patients with PM-ILD responded to conventional treatment more often "
                     r"than patients with DM-ILD holds PM 20/30 \(67%\) vs DM "
                     r"7/20 \(35%\), p = 0\.043.*? PM 18/30 \(60%\) vs DM 6/20 \(30%\), "
                     r"p = 0\.048", text)
    lead = body[body.index("The paper’s conclusions in this run"):body.index("1.2 Study flow")]
    assert "67% vs 35%" not in lead
    # Anti-Jo1 (Table 3): p = 0.0498 in this run, printed with the digits that show it lies
    # below 0.05 (not "0.050"), in the lead table and in the p-values that crossed 0.05.
    assert "6 of 6 anti-Jo1-positive patients responded; p = 0.0498" in lead
    assert re.search(r"Anti-Jo1 · p 0\.092 0\.0498 now below 0\.05", text)
    # Appendix D names every changed number in words too (dose tapers, bootstrap intervals,
    # PM against DM alone), not by its key ("dose.conv_fail.prednisone.m6_12.change").
    appendix = body[body.index("Every computed number of run fvc5"):]
    assert "Prednisone, patients who failed conventional treatment, 6–12 months" in appendix
    assert not re.findall(r"\b[a-z][a-z0-9]*(?:[._][a-z0-9]+)+\b", appendix)
    # ... and each once: no two rows of a table of Appendix D under the same name.
    changes = (variant_run / "tables" / "variant_changes.md").read_text(encoding="utf-8")
    for block in changes.split(": Changed numbers, ")[:-1]:
        names = [line.split("|")[1].strip() for line in block.splitlines()
                 if line.startswith("| ") and not line.startswith("| Number ")]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert "Table 1. Clinical characteristics of patients with MA-ILD" in text
    assert "Table 2. Clinical characteristics" in text
    assert "under the this run" not in text


def _advance_pt(font, text: str, size_pt: float) -> float:
    """Width of ``text`` set at ``size_pt``: the sum of the glyphs' unhinted advance widths,
    read by FreeType (matplotlib's ft2font) from the font file itself."""
    from matplotlib.ft2font import LoadFlags

    return sum(font.load_char(ord(c), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536
               for c in text) / 1000 * size_pt


def docx_words_wider_than_their_columns(path: Path) -> list[tuple[int, str, float, float]]:
    """Every word of a .docx table cell that is wider than its column, as (table number, word,
    needed pt, column pt).

    A column's width is its share of the table's grid times the table's preferred width
    (``w:tblW``, fiftieths of a percent of the text width, ECMA-376 17.4.63/17.18.90) in a fixed
    layout (17.4.53), which Word and LibreOffice keep; the text width is the page's less its
    margins (``w:sectPr`` of the table's section). A word needs its glyphs' widths in DejaVu
    Sans (one of the widest common faces, and LibreOffice's stand-in for Word's Aptos here) at
    the "Table" style's size,
    plus the cell margins (108 twips a side in pandoc's "Table" style). A line may break at a
    space or a zero-width space.
    """
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    font = FT2Font(font_manager.findfont("DejaVu Sans"))
    font.set_size(1000, 72)
    with zipfile.ZipFile(path) as z:
        body = ET.fromstring(z.read("word/document.xml")).find(f"{W}body")
        styles = ET.fromstring(z.read("word/styles.xml"))
    table_style = next(s for s in styles.iter(f"{W}style") if s.get(f"{W}styleId") == "Table")
    size_pt = int(table_style.find(f"{W}rPr/{W}sz").get(f"{W}val")) / 2
    pad = 2 * 108 / 20
    too_wide = []
    blocks = list(body)
    tables = [(i, b) for i, b in enumerate(blocks) if b.tag == f"{W}tbl"]
    for n, (i, table) in enumerate(tables, start=1):
        # The table's section: the next section-ending paragraph, else the body's (a wide
        # table may stand on a landscape page of its own, docx-tables.lua).
        sect = next((b.find(f"{W}pPr/{W}sectPr") for b in blocks[i + 1:]
                     if b.find(f"{W}pPr/{W}sectPr") is not None), body.find(f"{W}sectPr"))
        text_width = (int(sect.find(f"{W}pgSz").get(f"{W}w"))
                      - int(sect.find(f"{W}pgMar").get(f"{W}left"))
                      - int(sect.find(f"{W}pgMar").get(f"{W}right"))) / 20
        assert table.find(f"{W}tblPr/{W}tblLayout").get(f"{W}type") == "fixed", n
        tblw = table.find(f"{W}tblPr/{W}tblW")
        assert tblw.get(f"{W}type") == "pct", n
        grid = [int(g.get(f"{W}w")) for g in table.iter(f"{W}gridCol")]
        cols = [g / sum(grid) * int(tblw.get(f"{W}w")) / 5000 * text_width for g in grid]
        for row in table.iter(f"{W}tr"):
            for col, cell in zip(cols, row.findall(f"{W}tc"), strict=False):
                text = "".join(t.text or "" for t in cell.iter(f"{W}t"))
                for word in re.split(r"[\s\u200b]+", text):
                    need = _advance_pt(font, word, size_pt) + pad
                    if need > col:
                        too_wide.append((n, word, round(need, 1), round(col, 1)))
    return too_wide


def test_docx_tables_fit_every_word_in_its_column(paper_run):
    """Word squeezed the wide tables until header words broke ("Nonresponder|s",
    "Characte|ristic", "Assum|ption", issue 14): every word of every table now fits its
    column, at the tables' 8pt on the PDF's page (reference.docx, docx-tables.lua)."""
    assert docx_words_wider_than_their_columns(paper_run / "report.docx") == []


def test_docx_page_and_type_sizes_are_the_pdf_s(paper_run):
    """The Word file has the PDF's page (us-letter, 2 cm side and 2.2 cm top/bottom margins,
    _quarto.yml) and 10pt body text with tables at 8pt (report-header.typ: 0.8em)."""
    with zipfile.ZipFile(paper_run / "report.docx") as z:
        doc = ET.fromstring(z.read("word/document.xml"))
        styles = ET.fromstring(z.read("word/styles.xml"))
    sect = doc.find(f"{W}body/{W}sectPr")
    size = sect.find(f"{W}pgSz")
    assert (size.get(f"{W}w"), size.get(f"{W}h")) == ("12240", "15840")  # 8.5 x 11 in
    margins = sect.find(f"{W}pgMar")
    assert margins.get(f"{W}left") == margins.get(f"{W}right") == "1134"  # 2 cm in twips
    assert margins.get(f"{W}top") == margins.get(f"{W}bottom") == "1247"  # 2.2 cm
    body_size = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}sz").get(f"{W}val")
    assert body_size == "20"  # half-points
    table = next(s for s in styles.iter(f"{W}style") if s.get(f"{W}styleId") == "Table")
    assert table.find(f"{W}rPr/{W}sz").get(f"{W}val") == "16"


def test_pdf_table_continued_on_a_later_page_says_so(pdf_pages):
    """Issue 25: a table that breaks across pages opens each later page with "Table N
    (continued)" above its repeated header, and no figure is set inside it (no figure caption
    between a table's caption and its last continuation mark). Read from the PDF's text
    (pypdf), page by page: Table 7 of this report (the univariable odds ratios, 28 rows of
    Table 2's characteristics) does not fit on one page."""
    text = " ".join(pdf_pages)
    marks = {int(n) for page in pdf_pages for n in re.findall(r"Table (\d+) \(continued\)", page)}
    assert 7 in marks
    for n in marks:
        caption = [i for i, page in enumerate(pdf_pages) if f"Table {n}. " in page]
        continued = [i for i, page in enumerate(pdf_pages) if f"Table {n} (continued)" in page]
        assert len(caption) == 1 and caption[0] < min(continued), n
        # the mark heads the repeated header row (Table 7's: "Characteristic Method")
        start = text.index(f"Table {n}. ")
        end = text.rindex(f"Table {n} (continued)")
        assert not re.search(r"Figure \d+\. ", text[start:end]), f"a figure inside Table {n}"
    page = next(p for p in pdf_pages if "Table 7 (continued)" in p)
    assert page[page.index("Table 7 (continued)"):].startswith(
        "Table 7 (continued) Characteristic Method")


def test_robustness_explorer_is_in_every_contents_list(paper_run, pdf_pages):
    """Issue 25: the robustness explorer has a heading in the contents of the HTML and the PDF
    (and a Word heading, which Word's contents field lists); the PDF and Word say where the
    interactive explorer is (the HTML report), the HTML does not repeat it."""
    html = (paper_run / "report.html").read_text(encoding="utf-8")
    toc = html[html.index('<nav id="TOC"'):html.index("</nav>")]
    assert re.search(r'href="#sec-explorer"[^>]*><span class="toc-section-number">5\.1</span>'
                     r"\s*Robustness explorer", toc)
    assert "needs a web browser" not in html_text(paper_run / "report.html")
    contents = pdf_pages[0]
    assert re.search(r"5\.1 Robustness explorer[ .]*\d+", contents)
    assert "needs a web browser: it is this section of the report’s HTML version, report.html" \
        in " ".join(pdf_pages)
    with zipfile.ZipFile(paper_run / "report.docx") as z:
        document = z.read("word/document.xml").decode("utf-8")
    assert "Robustness explorer" in document and "needs a web browser" in document
