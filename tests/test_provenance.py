"""Where every number comes from (issue 28): keys on the numbers, cards in the HTML, links
between Tables 1-3 and Appendix A in the PDF and Word.

- The Markdown layer: a keyed number and a table cell's link read as pandoc reads them (pandoc
  itself, called directly), and Typst compiles the link into a PDF link annotation whose
  destination is the label (pypdf reads it back).
- The paper run, END TO END: headless Chromium opens ``report.html#why:flow.conv_responders``
  and shows the card (31, the rule in words, the printed 31 and its verdict, the paper's
  "Thirty-one of 54"); every number of the report's own prose (Methods and Results paragraphs
  of ``report.qmd`` that show variables) and of Tables 1-3 carries a key that exists; the PDF
  links a Table 1 cell to its Appendix A row and back (link annotations and text positions,
  read with pypdf); Word has the same links as bookmarks; the page stays self-contained and
  grows by less than the robustness explorer.
- A variant's cards carry both runs' values.
"""

import csv
import json
import re
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from analysis.report import provenance

ROOT = Path(__file__).resolve().parents[1]


def test_a_number_keeps_its_key_and_a_table_cell_its_links_in_pandoc(tmp_path: Path):
    import pypandoc
    import typst
    from pypdf import PdfReader

    cell = provenance.mark("16", "t1.sex.male.n")
    markdown = (f"Of {provenance.keyed('31', 'flow.conv_responders')} patients.\n\n"
                f"| Row | Values |\n|:--|--:|\n| Male | {cell} |\n\n: Table 1 {{#tbl-t1}}\n\n"
                "#pagebreak-here\n\n"
                f"| Printed | Reproduced |\n|--:|--:|\n| [16]{{#A_t1_sex_male_n}} | "
                f"[16](#{provenance.cell_anchor('t1.sex.male.n')}) |\n")
    page = pypandoc.convert_text(markdown, "html5", format="markdown")
    assert '<span data-key="flow.conv_responders">31</span>' in page
    assert re.search(r'<a href="#A_t1_sex_male_n"><span\s+id="T_t1_sex_male_n"\s+'
                     r'data-key="t1.sex.male.n">16</span></a>', page)
    source = pypandoc.convert_text(markdown.replace("#pagebreak-here", "```{=typst}\n"
                                                    "#pagebreak()\n```"),
                                   "typst", format="markdown", extra_args=["--standalone"])
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(typst.compile(source.encode("utf-8"), format="pdf"))
    reader = PdfReader(pdf)
    links = [a.get_object() for p in reader.pages for a in (p.get("/Annots") or [])]
    pages = [reader.get_page_number(a["/Dest"][0].get_object()) if "/Dest" in a else
             reader.get_page_number(a["/A"]["/D"][0].get_object()) for a in links]
    assert pages == [1, 0]  # Table 1's cell -> the appendix page, and back
    docx = tmp_path / "t.docx"
    pypandoc.convert_text(markdown, "docx", format="markdown", outputfile=str(docx))
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode()
    for name in ("A_t1_sex_male_n", "T_t1_sex_male_n"):
        assert f'w:anchor="{name}"' in xml and f'w:name="{name}"' in xml


def test_unkeyed_text_is_what_a_reader_sees():
    text = (f"{provenance.mark('44.9', 't1.age.mean')} ({provenance.mark('14.9', 't1.age.sd')})"
            f" [n = {provenance.mark('44', 't1.ck.n', link=False)}]")
    assert provenance.unkeyed(text) == "44.9 (14.9) [n = 44]"


def test_anchors_are_word_bookmark_names():
    # Word: a bookmark name is letters, digits and underscores, at most 40 characters.
    ids = [r["id"] for r in csv.DictReader(open(ROOT / "data" / "published" / "numbers.csv",
                                                encoding="utf-8"))]
    anchors = [provenance.appendix_anchor(i) for i in ids]
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", a) for a in anchors)
    assert len(set(anchors)) == len(ids)


# ----------------------------------------------------------------------- the paper run
def _chromium_dom(page: Path, fragment: str) -> str:
    from tests.test_explorer import dump_dom

    return dump_dom(page, fragment)


class _Card(HTMLParser):
    """The card's text and its links, from a DOM dump."""

    def __init__(self):
        super().__init__()
        self.depth, self.text, self.links, self.attrs = 0, [], [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") == "why-card":
            self.depth, self.attrs = 1, a
            return
        if self.depth:
            self.depth += tag not in ("br",)
            if tag == "a":
                self.links.append(a.get("href", ""))

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


@pytest.mark.slow
def test_chromium_opens_the_card_of_the_conventional_responders(paper_run: Path):
    """Issue 28: ``report.html#why:flow.conv_responders`` shows a card with 31, the rule that
    decides it in words, the printed 31 and its verdict."""
    card = _Card()
    card.feed(_chromium_dom(paper_run / "report.html", "#why:flow.conv_responders"))
    text = " ".join(" ".join(card.text).split())
    assert "hidden" not in card.attrs and card.attrs["data-key"] == "flow.conv_responders"
    assert text.startswith("× 31 — Responded to conventional treatment")
    # the rule of the Methods (Sharma 2017, Materials and Methods), with the paper's cutoffs
    assert ("neither refractory myositis nor refractory ILD between the index assessment and "
            "6 months") in text
    assert "CK that neither fell to at most 200 U/l nor fell by more than 50%" in text
    assert "at least 2 of 4: FVC down by at least 10%, TLC by at least 10%, DLCO by at " \
           "least 15%" in text
    assert "From 54 included patients" in text
    # Figure 1 and the Results print 31, the Abstract "Thirty-one"; each with its verdict
    assert "The paper printed 31 (Figure 1): match" in text
    assert "The paper printed Thirty-one (Abstract Results s1): match; verdict: consistent" \
        in text
    assert "#A_fig1_conv_responders" in card.links and "#A_abstract_conv_responders_n" \
        in card.links
    assert "notebooks/02_flow.ipynb" in card.links
    assert "This run 31" in text


class _Numbers(HTMLParser):
    """Paragraphs and table cells of a page, as runs of text, each marked keyed (inside a
    ``data-key`` element) or a cross-reference (a link to a figure or table)."""

    def __init__(self):
        super().__init__()
        self.blocks: list[dict] = []
        self.stack: list[tuple[str, str]] = []  # (tag, role)
        self.keys: list[str] = []
        self.caption = ""
        self.column = -1
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        role = ("key" if "data-key" in a else
                "xref" if tag == "a" and re.match(r"#(fig|tbl)-", a.get("href", "")) else "")
        if "data-key" in a:
            self.keys.append(a["data-key"])
        if tag == "tr":
            self.column = -1
        if tag in ("td", "th"):
            self.column += 1
        if tag in ("p", "td", "th"):
            self.blocks.append({"tag": tag, "runs": [], "caption": self.caption,
                                "column": self.column})
        if tag == "caption":
            self._in_caption, self.caption = True, ""
        self.stack.append((tag, role))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
        if tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption:
            self.caption += data
        if self.blocks and any(tag in ("p", "td", "th") for tag, _ in self.stack):
            roles = {role for _, role in self.stack}
            self.blocks[-1]["runs"].append((data, "key" in roles, "xref" in roles))


#: Numbers of the prose that are words of the report, not computed numbers: "2×2 tables",
#: "Table 2's myositis row", the dose data's fixed time windows, and the rule's "whole 95%
#: confidence interval" (the Methods' statement of how a conclusion is judged).
STRUCTURAL = re.compile(r"2×2|Table \d|\d+(?:–\d+)? months|1 year|95% confidence")


def _unkeyed_numbers(block: dict) -> list[str]:
    text = "".join(t if not keyed and not xref else " " for t, keyed, xref in block["runs"])
    return re.findall(r"\d+(?:\.\d+)?", STRUCTURAL.sub(" ", text))


def _prose_chunks() -> list[str]:
    """A piece of typed text (the longest between variables) of each paragraph of
    ``report.qmd``'s Methods and Results that shows variables: the report's own prose with
    numbers, found again in the page by it."""
    qmd = (ROOT / "report.qmd").read_text(encoding="utf-8")
    body = qmd[qmd.index("\n# Methods of this run"):qmd.index("\n# References")]
    chunks = []
    for para in re.split(r"\n\s*\n", body):
        if "{{< var" not in para or para.lstrip().startswith(("#", "!", ":::", "{{< include")):
            continue
        pieces = [" ".join(re.sub(r"\*\*|\*", "", piece).split())
                  for piece in re.split(r"\{\{<.*?>\}\}|\(?@[-\w]+\)?", para)]
        chunks.append(max(pieces, key=len)[:40])
    return chunks


@pytest.mark.slow
def test_every_number_of_the_prose_and_tables_1_to_3_carries_a_key_that_exists(
        paper_run: Path):
    page = (paper_run / "report.html").read_text(encoding="utf-8")
    parsed = _Numbers()
    parsed.feed(page)
    variables = yaml.safe_load((paper_run / "_variables.yml").read_text(encoding="utf-8"))

    def paths(node, prefix=""):
        for k, v in node.items():
            yield from (paths(v, f"{prefix}{k}.") if isinstance(v, dict) else [prefix + k])

    repro = {r["key"] for r in csv.DictReader(open(paper_run / "tables" / "reproduction.csv",
                                                   encoding="utf-8"))}
    numbers = json.loads((paper_run / "results.json").read_text(encoding="utf-8"))["numbers"]
    claims = {f"claim.{r['id']}" for r in csv.DictReader(
        open(paper_run / "tables" / "claims.csv", encoding="utf-8"))}
    known = repro | set(paths(variables)) | set(numbers) | claims
    # A number that could not be computed keeps the key of what it would be (Table 3's
    # histology p: "not computable (n = 7 vs 0; needs 1 per group)"); its card says so.
    data = json.loads(re.search(r'id="provenance-data">(.*?)</script>', page, re.S).group(1))
    missing = set(parsed.keys) - known
    assert all(data["s"][data["cards"][k][3]] == "not computable" for k in missing), missing
    assert missing <= {"t3.histology.p"}, missing
    # the prose: every paragraph of report.qmd that shows variables is found, and keyed
    paragraphs = [b for b in parsed.blocks if b["tag"] == "p"]
    chunks = _prose_chunks()
    assert len(chunks) >= 8
    for chunk in chunks:
        found = [b for b in paragraphs if chunk in " ".join(
            "".join(t for t, _, _ in b["runs"]).replace("\u2019", "'").split())]
        assert found, chunk
        for block in found:
            assert not _unkeyed_numbers(block), (chunk, _unkeyed_numbers(block))
    # Tables 1-3: every body cell but the row's label ("Mi-2", "PL-7" are names)
    cells = [b for b in parsed.blocks if b["tag"] == "td" and b["column"] > 0
             and re.match(r"Table\s[123]\.\sClinical characteristics", b["caption"])]
    assert len(cells) > 3 * 40
    bad = [("".join(t for t, _, _ in b["runs"]), b["caption"][:8]) for b in cells
           if _unkeyed_numbers(b)]
    assert not bad, bad[:10]
    # every key has its card in the page's data
    assert set(parsed.keys) <= set(data["cards"])


def _pdf_text(page) -> list[tuple[float, float, str]]:
    items = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            items.append((cm[4], cm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    return items


@pytest.mark.slow
def test_the_pdf_links_a_table_1_cell_to_its_appendix_a_row_and_back(paper_run: Path):
    from pypdf import PdfReader

    reader = PdfReader(paper_run / "report.pdf")
    t1 = next(i for i, p in enumerate(reader.pages)
              if "Age at onset, yrs, mean (SD)" in p.extract_text()
              and "Values" in p.extract_text())
    texts = _pdf_text(reader.pages[t1])
    age = next((x, y) for x, y, t in texts if t == "44.9")  # Table 1: age, mean 44.9

    def dest(annot):
        d = annot["/Dest"] if "/Dest" in annot else annot["/A"]["/D"]
        return reader.get_page_number(d[0].get_object()), float(d[2]), float(d[3])

    links = [a.get_object() for a in reader.pages[t1].get("/Annots") or []]
    link = next(a for a in links if a.get("/Subtype") == "/Link" and
                float(a["/Rect"][0]) - 1 <= age[0] <= float(a["/Rect"][2])
                and float(a["/Rect"][1]) <= age[1] <= float(a["/Rect"][3]))
    page, x, y = dest(link)
    appendix = next(i for i, p in enumerate(reader.pages) if "Appendix A" in p.extract_text())
    assert page > max(t1, appendix - 1)
    # The target is the printed number of the row "Age at onset ... — Values": in the
    # column that starts at the destination's x (numbers are right-aligned in it), on the
    # line whose top is the destination (Typst puts it some 10 pt above its target's top,
    # so the line above, the table's title row, lies 4 pt below it).
    target = [(tx, ty, t) for tx, ty, t in _pdf_text(reader.pages[page])
              if x - 1 <= tx < x + 30 and y - 22 < ty < y - 8]
    assert [t for _, _, t in target] == ["44.9"], target
    row_label = [t for tx, ty, t in _pdf_text(reader.pages[page])
                 if abs(ty - target[0][1]) < 1 and tx < x]
    assert row_label and row_label[0].startswith("Age at onset, yrs")
    # and back: the row's reproduced number links to the cell of Table 1
    back = [dest(a.get_object()) for a in reader.pages[page].get("/Annots") or []
            if a.get_object().get("/Subtype") == "/Link"
            and abs(float(a.get_object()["/Rect"][1]) - (target[0][1] - 2.6)) < 3]
    assert any(p == t1 and abs(by - 10 - age[1]) < 14 for p, _, by in back), back


@pytest.mark.slow
def test_word_links_tables_1_to_3_to_appendix_a_and_back(paper_run: Path):
    xml = zipfile.ZipFile(paper_run / "report.docx").read("word/document.xml").decode()
    bookmarks = set(re.findall(r'<w:bookmarkStart [^>]*w:name="([^"]+)"', xml))
    anchors = re.findall(r'<w:hyperlink w:anchor="([^"]+)"', xml)
    to_appendix = [a for a in anchors if a.startswith("A_t")]
    back = [a for a in anchors if a.startswith("T_")]
    assert len(to_appendix) > 200 and len(back) > 200
    assert set(to_appendix) <= bookmarks and set(back) <= bookmarks
    assert "A_t1_age_mean" in to_appendix and "T_t1_age_mean" in back


@pytest.mark.slow
def test_the_page_stays_self_contained_and_grows_by_less_than_the_explorer(paper_run: Path):
    page = (paper_run / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    start = page.index('<div id="why-card"')
    end = page.index("</script>", page.index("<script>", page.index('id="provenance-data"')))
    cards = len(page[start:end].encode())
    # what the Markdown added: the keys, the anchors and the links (all else is the report)
    markup = sum(len(m.encode()) for m in re.findall(
        r' data-key="[^"]*"|<span\s+id="[AT]_\w+"\s*>|<span\s+id="T_\w+"\s+|'
        r'<span\s*>|<a\s+href="#[AT]_\w+"\s*>|</a>(?=\)?\s*</td>)', page))
    markup += 7 * page.count('data-key="')  # each keyed span's closing </span>
    explorer = page[page.index("<noscript><p>The robustness explorer"):]
    explorer = explorer[:explorer.index("</section>") + len("</section>")]
    assert cards + markup < len(explorer.encode()), (cards, markup, len(explorer.encode()))


@pytest.mark.slow
def test_a_variants_cards_show_both_runs_values(variant_run: Path):
    text = (variant_run / "tables" / "provenance.md").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="provenance-data">(.*?)</script>', text, re.S).group(1))
    assert data["variant"] and data["run"] == "fvc5"
    card = data["cards"]["flow.conv_responders"]
    # the card: what, profile, inputs, this run's value, the paper run's value, printed rows
    assert (data["s"][card[3]], data["s"][card[4]]) == ("27", "31")  # issue 16: 27 at 5%
    how = "".join(data["s"][i] for i in data["p"][card[1]][0])
    assert "FVC down by at least 5%" in how
    params = "".join(data["s"][i] for i in data["p"][card[1]][1])
    assert "FVC decline: 5% (paper: 10%)" in params


def test_chromium_is_installed_for_the_card_test():
    from tests.test_explorer import chromium

    assert subprocess.run([chromium(), "--version"], capture_output=True,
                          check=False).returncode == 0
