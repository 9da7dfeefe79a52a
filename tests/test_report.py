"""The report's content, as a reader sees it (HTML and PDF of the paper run, a variant run).

Both runs are the session's shared ones (tests/conftest.py)."""

import re
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def html_text(path: Path) -> str:
    """The visible text of an HTML report, whitespace (and non-breaking spaces) normalised."""
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(?:span|a)\b[^>]*>", "", html)  # inline: a keyed number (issue 28)
    text = re.sub(r"<[^>]+>", " ", html).replace("&nbsp;", " ").replace("\u00a0", " ")
    return " ".join(text.split())


@pytest.fixture(scope="module")
def text(paper_run) -> str:
    return html_text(paper_run / "report.html")


def test_title_block_cites_the_study_and_says_synthetic(text):
    assert "Sharma N, Putman MS, Vij R, Streck ME, Dua A" in text
    assert "doi:10.3899/jrheum.161217" in text
    assert "Synthetic data" in text and "synthetic" in text[:2000].lower()


def test_every_table_and_figure_is_numbered_and_captioned(text):
    for number, words in ((1, "Clinical characteristics of patients with MA-ILD (n = 54)"),
                          (2, "who responded to or failed conventional treatment"),
                          (3, "who failed conventional treatment and received adjunctive")):
        assert re.search(rf"Table {number}\. Clinical characteristics [^.]*?{re.escape(words)}"
                         if number > 1 else rf"Table 1\. {re.escape(words)}", text), number
    for number, words in ((1, "Study design"), (2, "Prednisone dose after conventional"),
                          (3, "Doses after tacrolimus start")):
        assert f"Figure {number}. {words}" in text
    assert "{{<" not in text and "@tbl-" not in text and "@fig-" not in text


def test_figure_1_boxes_carry_the_flow_counts(paper_run, tmp_path):
    """The run's Figure 1 (its PNG, byte for byte) is the drawing of its flow table, whose
    every box reads ``n = <count>``."""
    import matplotlib.text

    from analysis.report.figures import plot_flow, save_figure

    flow = pd.read_csv(paper_run / "tables" / "flow.csv")
    fig = plot_flow(flow)
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    for n in flow["n"]:
        assert f"n = {n}" in texts
    drawn = save_figure(fig, tmp_path, "figure1")[0]
    assert drawn.read_bytes() == (paper_run / "figures" / "figure1.png").read_bytes()


def test_results_prose_comes_from_the_run(text):
    assert "31 of them (57%) responded to conventional treatment" in text
    assert "(67% vs 35%, p = 0.013)" in text
    assert "14 (78%) improved in myositis, 17 (94%) in ILD and 13 (72%) in both" in text


def test_prose_p_values_read_as_clauses(text):
    """Issue 11/14: the prose printed "p = <0.001"; a p-value below 0.001 reads "p < 0.001",
    and the 3-6 month prednisone p-value reads 0.002 as in the paper (Results, doses)."""
    assert "p = <" not in text and "p = &lt;" not in text and "p = p" not in text
    assert "(p &lt; 0.001)" in text  # html_text keeps entities
    assert "65% decrease, p = 0.002)" in text


def test_reproduction_summary_matches_the_table(paper_run, text):
    table = pd.read_csv(paper_run / "tables" / "reproduction.csv")
    printed = table[~table["source"].str.startswith("Assumed")]
    counts = printed["status"].value_counts()
    line = (f"{counts['match']} of {len(printed)} published numbers reproduced; "
            f"{counts['inconsistent']} proven inconsistent by a named check; "
            f"{counts.get('mismatch', 0)} mismatches")
    assert line in text
    assert counts.get("mismatch", 0) == 0 and counts.get("not-computed", 0) == 0


def test_methods_audit_shows_two_sided_beside_printed(text):
    assert "Appendix B" in text
    assert re.search(r"Table 3 · Anti-Jo1 0\.09 .*? 0\.114", text)


def test_variant_report_opens_with_what_changed(variant_run, paper_run, cohort, plain_flow):
    text = html_text(variant_run / "report.html")
    assert "What this variant changes" in text
    assert "FVC decline 10% 5%" in text  # issue 25: the parameter and values in words
    # The changed flow row; the variant's count comes from the independent reading of the
    # Methods in tests/conftest.py, not from a recorded run.
    variant = plain_flow(cohort, fvc="0.05")["conv_responders"]
    assert f"Responded to conventional treatment 31 {variant}" in text
    assert (paper_run / "report.html").is_file(), "the paper run is untouched"


def test_pm_vs_dm_sentence_names_both_tests(text):
    # Sharma 2017 prints "67% vs 35%, p = 0.013" for PM vs DM; 0.013 is Table 2's myositis row
    # (PM, DM and CADM together, exact r x c test). PM against DM alone, on the printed Table 2
    # counts (responders/failures: PM 20/10, DM 7/13), is computed here with scipy directly.
    from scipy.stats import fisher_exact

    two_by_two = fisher_exact([[20, 10], [7, 13]]).pvalue
    assert "Fisher-Freeman-Halton exact test (r x c), two-sided: p = 0.013" in text
    assert f"PM against DM alone gives p = {two_by_two:.3f}" in text
    assert re.search(r"Fisher['’]s exact test, two-sided", text)  # pandoc curls the quote


def test_every_prose_comparison_names_its_test(text):
    results = text[text.index("Response to conventional treatment"):]
    assert "p = 0.055, Pearson chi-square" in results
    assert "Mann-Whitney rank-sum test" in results[:results.index("Table 3.")]
    assert "paired t test" in results


def test_assumptions_section_follows_methods_with_computed_alternatives(text):
    # The counts under "a missing CK meets no criterion" (33/21, 15 of 17) and a CK limit of
    # 150 U/l (28/26) are checked against an independent plain-Python reading of the Methods
    # in tests/test_assumptions.py; here: the section shows them, after Methods, before Results.
    methods = text.index("Methods of this run Eligibility.")  # the heading, not the contents
    section = text.index("Assumptions of this re-analysis The paper does not fix", methods)
    assert section < text.index("Study flow", section)
    shown = text[section:text.index("Study flow", section)]
    # Issue 25: in words (the parameter's label, its values), the counts in two columns.
    assert ("A missing baseline CK missing-data rule counted as refractory meeting no "
            "criterion 33 / 21 15 of 17") in shown
    assert "CK upper limit of normal assumed laboratory ULN 200 U/l 150 U/l 28 / 26 10 of 18" \
        in shown
    assert "fitted to the printed value" in shown
    assert "Baseline CK measured" in shown  # the assumed (not printed) values are listed
