"""Where each published number is printed (``location`` of data/published/numbers.csv, issue 22),
checked against the paper's own text (../shared/paper or the copy beside the project), and
Appendix A's use of it and of its counts."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.consistency import verdicts
from analysis.published import compare, load_published, summary_line
from analysis.report.inputs import reproduction_markdown

PUB = load_published()
PAPER = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "paper"
                          / "sharma-2017-ma-ild-tacrolimus.md",
                          Path("/work/shared/paper/sharma-2017-ma-ild-tacrolimus.md"))
              if p.is_file()), None)


def _plain(text: str) -> str:
    """The paper's Markdown as plain words: no LaTeX dollars, \\text{}, tags or extra spaces."""
    text = text.replace("$", "").replace("\\text{ mg}", " mg").replace("\\pm", "±")
    text = re.sub(r"<sup>[^<]*</sup>", "", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*<\s*", " < ", text)
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))


def test_every_row_has_a_location():
    assert (PUB["location"].str.strip() != "").all()
    assumed = PUB["status"] == "assumed"
    assert PUB.loc[assumed, "location"].str.startswith("not printed").all()
    tables = PUB["source"].str.startswith("Table")
    for rec in PUB[tables].to_dict("records"):
        assert rec["location"].startswith(f"{rec['source']}, row ‘{rec['row_label']}’")


@pytest.mark.skipif(PAPER is None, reason="the paper's text is not beside the project")
def test_text_locations_quote_the_paper():
    # independent truth: the sentence a location quotes is in the paper, and the number is
    # printed in it (within the sentence's first 700 characters)
    lines = PAPER.read_text(encoding="utf-8").splitlines()
    # the tables and their captions interrupt sentences of the text: read the text without them
    body = [ln for ln in lines if "\t" not in ln
            and not ln.startswith(("**Table", "Table 3.", "\\*COP", "Figure 1."))]
    paper = _plain("\n".join(body))
    text_rows = PUB[PUB["location"].str.contains("sentence")]
    assert len(text_rows) > 100
    for rec in text_rows.to_dict("records"):
        quote = re.search(r"“(.*?)(?: \.\.\.)?”", rec["location"]).group(1)
        starts = [m.start() for m in re.finditer(re.escape(quote), paper)]
        assert starts, (rec["id"], quote)
        printed = rec["printed"].replace("<", "< ").replace("<  ", "< ").lower()
        assert any(printed in paper[i:i + 700].lower() for i in starts), (rec["id"], printed)


def test_appendix_a_shows_locations_and_counts_that_agree():
    checks = verdicts(PUB)
    results = {k: v for k, v in zip(PUB["key"], PUB["value"], strict=True)}
    comparison = compare(PUB, results, checks)
    text = reproduction_markdown(comparison)
    printed = int((PUB["status"] == "printed").sum())
    # the legend and the summary count the same printed rows (hand: status counts of the
    # printed rows of the comparison)
    matched = int(((comparison["status"] == "match") & (PUB["status"] == "printed")).sum())
    assert 380 < matched < printed
    assert f"Of the {printed} numbers the paper prints: *match* ({matched})" in text
    assert summary_line(comparison).startswith(f"{matched} of {printed} published numbers")
    assert "not counted" in summary_line(comparison)
    # the class counts add up to the numbers a check covers
    counts = [int(n) for n in re.findall(r"\*(?:impossible|impossible under an assumption|"
                                         r"possible only if n differs|undecidable|"
                                         r"consistent)\* \((\d+)\)", text)]
    covered = comparison[(comparison["verdict"] != "") & (PUB["status"] == "printed")]
    assert len(counts) == 5 and sum(counts) == len(covered)
    # a sentence of the text is located by paragraph and sentence; its note quotes it
    assert re.search(r"\| +Change in the doses of DMARD ¶2 s5 +\|", text)
    assert "MTX 23 mg +/- 14.4 mg at 1 year" in text
    assert re.search(r"\*\*Assumed\*\* \(not printed; not counted\): 23 values", text)
    assert pd.Series(["assumed"]).isin(comparison["status"]).sum() == 0  # statuses unchanged
