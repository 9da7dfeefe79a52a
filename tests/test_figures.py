"""Tests of analysis.report.figures: Figure 1 (study flow) and the dose tapers of Sharma 2017.

Expected numbers are the paper's: Figure 1 / Results first paragraph (67 identified, 13
excluded, 54 included, 31 responders, 23 failures, 18 tacrolimus with sufficient data, 5 others
(3 cyclophosphamide, 2 tacrolimus with insufficient data), 13 and 5 tacrolimus responders and
failures) and Results, *Change in the doses of DMARD* (means, SDs and p-values).
"""

from __future__ import annotations

import itertools
import struct
import sys

import matplotlib
import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import FancyBboxPatch

from analysis.cohort import EXCLUSIONS, flow_table
from analysis.errors import DataValidationError, ParameterError
from analysis.format import p_clause
from analysis.report import figures

# Sharma 2017, Figure 1: exclusions in the order of analysis.cohort.EXCLUSIONS
# (under_age, overlap, ibm, cancer_chemo, other_myopathy, no_conventional).
PAPER_FLOW = {
    "excluded": (1, 4, 2, 2, 2, 2),
    "conv_responders": 31,
    "conv_failures": 23,
    "tac_analysed": 18,
    "cyclophosphamide": 3,
    "tacrolimus_insufficient": 2,
    "tac_responders": 13,
    "tac_failures": 5,
}


def make_flow(excluded=(1, 4, 2, 2, 2, 2), conv_responders=31, conv_failures=23,
              tac_analysed=18, cyclophosphamide=3, tacrolimus_insufficient=2,
              tac_responders=13, tac_failures=5) -> pd.DataFrame:
    """A flow table shaped like analysis.cohort.flow_table's output."""
    n_excl = sum(excluded)
    included = conv_responders + conv_failures
    rows = [("flow.identified", "Patients with MA-ILD identified", n_excl + included, ""),
            ("flow.excluded", "Excluded", n_excl, "flow.identified")]
    rows += [(f"flow.excluded.{reason}", label, n, "flow.excluded")
             for (reason, label), n in zip(EXCLUSIONS.items(), excluded, strict=True)]
    rows += [
        ("flow.included", "Met inclusion criteria; conventional treatment (prednisone + DMARD)",
         included, "flow.identified"),
        ("flow.conv_responders", "Responded to conventional treatment", conv_responders,
         "flow.included"),
        ("flow.conv_failures", "Failed conventional treatment", conv_failures, "flow.included"),
        ("flow.tac_analysed", "Received tacrolimus, sufficient data", tac_analysed,
         "flow.conv_failures"),
        ("flow.second_line_other", "Cyclophosphamide or insufficient tacrolimus data",
         cyclophosphamide + tacrolimus_insufficient, "flow.conv_failures"),
        ("flow.second_line.cyclophosphamide", "Cyclophosphamide", cyclophosphamide,
         "flow.second_line_other"),
        ("flow.second_line.tacrolimus_insufficient", "Tacrolimus, insufficient data",
         tacrolimus_insufficient, "flow.second_line_other"),
        ("flow.tac_responders", "Responded to tacrolimus", tac_responders, "flow.tac_analysed"),
        ("flow.tac_failures", "Failed tacrolimus", tac_failures, "flow.tac_analysed"),
    ]
    return pd.DataFrame(rows, columns=["key", "label", "n", "parent"])


def paper_groups() -> pd.DataFrame:
    """67 screened patients whose groups reproduce Figure 1, for cohort.flow_table."""
    excluded_by = [r for r, n in zip(EXCLUSIONS, PAPER_FLOW["excluded"], strict=True)
                   for _ in range(n)]
    rows = [dict(excluded_by=r, included=False, conv_responder=pd.NA, second_line="none",
                 tac_analysed=False, tac_responder=pd.NA) for r in excluded_by]
    rows += [dict(excluded_by=pd.NA, included=True, conv_responder=True, second_line="none",
                  tac_analysed=False, tac_responder=pd.NA)] * 31
    rows += [dict(excluded_by=pd.NA, included=True, conv_responder=False,
                  second_line="tacrolimus", tac_analysed=True, tac_responder=i < 13)
             for i in range(18)]
    rows += [dict(excluded_by=pd.NA, included=True, conv_responder=False,
                  second_line="cyclophosphamide", tac_analysed=False, tac_responder=pd.NA)] * 3
    rows += [dict(excluded_by=pd.NA, included=True, conv_responder=False,
                  second_line="tacrolimus", tac_analysed=False, tac_responder=pd.NA)] * 2
    frame = pd.DataFrame(rows)
    frame["excluded_by"] = frame["excluded_by"].astype("string")
    for col in ("conv_responder", "tac_responder"):
        frame[col] = frame[col].astype("boolean")
    return frame


# Sharma 2017, Results, "Change in the doses of DMARD". n: 31 / 23 conventional responders /
# failures; 18 on tacrolimus (prednisone), 11 on AZA, 5 on MTX, 3 on MMF at tacrolimus start.
# p < 0.001 is entered as 0.0004. MMF at 1 year: 0 mg.
PAPER_DOSES = [
    ("conv_resp", "prednisone", "baseline", 31, 35.4, 21.5, np.nan),
    ("conv_resp", "prednisone", "m6_12", 31, 11.4, 8.8, 0.0004),
    ("conv_fail", "prednisone", "baseline", 23, 44.7, 5.2, np.nan),
    ("conv_fail", "prednisone", "m6_12", 23, 31.2, 18.9, 0.08),
    ("tac", "prednisone", "start", 18, 35.1, 18.6, np.nan),
    ("tac", "prednisone", "m3_6", 18, 12.4, 8.0, 0.002),
    ("tac", "prednisone", "y1", 18, 6.8, 6.8, 0.0004),
    ("tac", "aza", "start", 11, 143.2, 28.6, np.nan),
    ("tac", "aza", "m3_6", 11, 89.6, 67.8, 0.04),
    ("tac", "aza", "y1", 11, 84.1, 69.2, 0.010),
    ("tac", "mtx", "start", 5, 25.0, 3.5, np.nan),
    ("tac", "mtx", "m3_6", 5, 17.5, 16.8, 0.30),
    ("tac", "mtx", "y1", 5, 23.0, 14.4, 0.70),
    ("tac", "mmf", "start", 3, 2166.7, 288.7, np.nan),
    ("tac", "mmf", "m3_6", 3, 1333.3, 1258.3, 0.30),
    ("tac", "mmf", "y1", 3, 0.0, 0.0, 0.006),
]


def paper_summary() -> pd.DataFrame:
    frame = pd.DataFrame(PAPER_DOSES,
                         columns=["cohort", "drug", "timepoint", "n", "mean", "sd", "p"])
    first = frame.groupby(["cohort", "drug"])["mean"].transform("first")
    frame["pct_change"] = (frame["mean"] - first) / first * 100
    return frame


# ------------------------------------------------------------------------------ helpers


def texts(fig) -> list[matplotlib.text.Text]:
    """Visible, non-empty texts of a figure."""
    return [t for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip()]


def drawn_texts(fig) -> list[matplotlib.text.Text]:
    """Visible texts that are drawn: tick labels outside the axis limits are skipped."""
    hidden = set()
    for ax in fig.axes:
        for axis, index in ((ax.xaxis, 0), (ax.yaxis, 1)):
            low, high = sorted(axis.get_view_interval())
            hidden |= {id(t) for t in axis.get_ticklabels(which="both")
                       if not low <= t.get_position()[index] <= high}
    return [t for t in texts(fig) if id(t) not in hidden]


def all_text(fig) -> str:
    return "\n".join(" ".join(t.get_text().split()) for t in texts(fig))


def by_gid(fig, gid: str):
    found = [a for a in fig.findobj() if a.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_no_overlap(boxes: dict[str, object]) -> None:
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not ba.overlaps(bb), f"{a} overlaps {b}"


def assert_inside(fig, artists) -> None:
    fb = fig.bbox
    for artist in artists:
        e = artist.get_window_extent()
        assert fb.x0 <= e.x0 and e.x1 <= fb.x1 and fb.y0 <= e.y0 and e.y1 <= fb.y1, \
            f"{artist} clipped: {e} outside {fb}"


# ------------------------------------------------------------------------------ Figure 1


def check_flow_figure(fig, flow: pd.DataFrame) -> None:
    rows = flow.set_index("key")
    excluded = flat(by_gid(fig, "flow.excluded.text").get_text())
    other = flat(by_gid(fig, "flow.second_line_other.text").get_text())
    for key, row in rows.iterrows():
        if row["parent"] == "flow.excluded":
            assert f"{row['label']} (n = {row['n']})" in excluded, key
        elif row["parent"] == "flow.second_line_other":
            assert f"{row['label']} (n = {row['n']})" in other, key
        else:
            text = flat(by_gid(fig, f"{key}.text").get_text())
            assert f"n = {row['n']}" in text, key
            assert text.startswith(flat(str(row["label"]))), key


def test_flow_shows_every_paper_count():
    flow = make_flow()
    fig = figures.plot_flow(flow)
    shown = all_text(fig)
    for n in (67, 13, 1, 4, 2, 54, 31, 23, 18, 5, 3, 13):
        assert f"n = {n}" in shown
    assert "Excluded (n = 13)" in shown
    check_flow_figure(fig, flow)


def test_flow_from_cohort_flow_table():
    flow = flow_table(paper_groups())
    expected = make_flow()
    pd.testing.assert_series_equal(flow.set_index("key")["n"].astype(int),
                                   expected.set_index("key")["n"].astype(int))
    check_flow_figure(figures.plot_flow(flow), flow)


VARIANTS = {
    "paper": {},
    "five_excluded": dict(excluded=(0, 2, 0, 1, 1, 1), conv_responders=35, conv_failures=27,
                          tac_analysed=20, cyclophosphamide=4, tacrolimus_insufficient=3,
                          tac_responders=11, tac_failures=9),
    "zeros": dict(excluded=(0, 0, 0, 0, 0, 0), conv_responders=40, conv_failures=0,
                  tac_analysed=0, cyclophosphamide=0, tacrolimus_insufficient=0,
                  tac_responders=0, tac_failures=0),
    "large": dict(excluded=(120, 400, 20, 20, 20, 2000), conv_responders=3100,
                  conv_failures=2300, tac_analysed=1800, cyclophosphamide=300,
                  tacrolimus_insufficient=200, tac_responders=1300, tac_failures=500),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_flow_layout_has_no_overlap_or_clipping(variant):
    fig = figures.plot_flow(make_flow(**VARIANTS[variant]))
    fig.canvas.draw()
    box_texts = {t.get_gid(): t for t in texts(fig) if (t.get_gid() or "").startswith("flow.")}
    patches = {p.get_gid(): p for p in fig.findobj(FancyBboxPatch)}
    assert len(box_texts) == 9 and len(patches) == 9
    assert_no_overlap({k: t.get_window_extent() for k, t in box_texts.items()})
    assert_no_overlap({k: p.get_window_extent() for k, p in patches.items()})
    for gid, text in box_texts.items():  # each text sits inside its own box
        box = patches[gid.removesuffix(".text") + ".box"].get_window_extent()
        e = text.get_window_extent()
        assert box.x0 < e.x0 and e.x1 < box.x1 and box.y0 < e.y0 and e.y1 < box.y1, gid
    assert_inside(fig, list(box_texts.values()) + list(patches.values()))
    assert all(t.get_fontsize() >= 8 for t in texts(fig))
    width, height = fig.get_size_inches()
    assert width == 7.0 and 6.0 <= height <= 9.5


def test_flow_variant_counts_replace_paper_counts():
    flow = make_flow(**VARIANTS["five_excluded"])
    fig = figures.plot_flow(flow)
    shown = all_text(fig)
    assert "Excluded (n = 5)" in shown
    for n in (67, 27, 20, 7, 11, 9, 4, 3):
        assert f"n = {n}" in shown
    assert "n = 54" not in shown and "n = 13" not in shown
    check_flow_figure(fig, flow)


def test_flow_zero_counts_are_drawn():
    flow = make_flow(**VARIANTS["zeros"])
    fig = figures.plot_flow(flow)
    check_flow_figure(fig, flow)
    assert "Excluded (n = 0)" in all_text(fig)


def test_flow_does_not_mutate_input():
    flow = make_flow()
    before = flow.copy()
    figures.plot_flow(flow)
    pd.testing.assert_frame_equal(flow, before)


def test_flow_rejects_bad_tables():
    with pytest.raises(DataValidationError, match="flow.tac_failures"):
        figures.plot_flow(make_flow().iloc[:-1])
    with pytest.raises(DataValidationError, match="column"):
        figures.plot_flow(make_flow().drop(columns="parent"))
    bad = make_flow()
    bad.loc[0, "n"] = -1
    with pytest.raises(DataValidationError, match="flow.identified"):
        figures.plot_flow(bad)


# ------------------------------------------------------------------------------ tapers


def panel(fig, drug: str):
    axes = [ax for ax in fig.axes if any(
        (line.get_gid() or "").endswith(f".{drug}") for line in ax.findobj())]
    assert len(axes) == 1, drug
    return axes[0]


def test_taper_conventional_annotations():
    fig = figures.plot_taper_conventional(paper_summary())
    shown = all_text(fig)
    assert "Responders: p < 0.001" in shown
    assert "Failures: p = 0.080" in shown  # the paper prints 0.08
    assert shown.count("Responders: n = 31") == 2 and shown.count("Failures: n = 23") == 2
    assert "Responded to conventional treatment" in shown  # legend
    assert "Failed conventional treatment" in shown
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_ylabel() == "Prednisone (mg/day)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Baseline", "6\u201312 months"]


@pytest.mark.parametrize(("drug", "n", "ps", "unit"), [
    ("prednisone", 18, (0.002, 0.0004), "mg/day"),
    ("aza", 11, (0.04, 0.010), "mg/day"),
    ("mtx", 5, (0.30, 0.70), "mg/week"),
    ("mmf", 3, (0.30, 0.006), "mg/day"),
])
def test_taper_tacrolimus_annotations(drug, n, ps, unit):
    fig = figures.plot_taper_tacrolimus(paper_summary())
    ax = panel(fig, drug)
    shown = [flat(t.get_text()) for t in ax.findobj(matplotlib.text.Text)]
    assert shown.count(f"n = {n}") == 3
    for p, t in zip(ps, ("m3_6", "y1"), strict=True):
        label = by_gid(fig, f"p.{drug}.{t}.0").get_text()
        assert label == p_clause(p)
    assert ax.get_ylabel() == unit
    assert ax.get_title(loc="left") == figures.DRUGS[drug][0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Start", "3\u20136 months", "1 year"]


def test_taper_tacrolimus_printed_p_values():
    shown = all_text(figures.plot_taper_tacrolimus(paper_summary()))
    for label in ("p = 0.002", "p < 0.001", "p = 0.040", "p = 0.010", "p = 0.30",
                  "p = 0.70", "p = 0.006"):
        assert label in shown


def test_taper_points_and_error_bars_match_summary():
    fig = figures.plot_taper_tacrolimus(paper_summary())
    ax = panel(fig, "prednisone")
    (line,) = [ln for ln in ax.get_lines()
               if ln.get_gid() == "taper.tac.prednisone" and ln.get_marker() == "o"]
    np.testing.assert_allclose(line.get_ydata(), [35.1, 12.4, 6.8])
    (bars,) = ax.findobj(LineCollection)
    ends = np.array([[seg[:, 1].min(), seg[:, 1].max()] for seg in bars.get_segments()])
    np.testing.assert_allclose(ends, [[16.5, 53.7], [4.4, 20.4], [0.0, 13.6]], atol=1e-9)


def test_taper_lower_error_bar_clipped_at_zero():
    summary = paper_summary()
    summary.loc[(summary["drug"] == "mtx") & (summary["timepoint"] == "m3_6"),
                ["mean", "sd"]] = [5.0, 10.0]
    ax = panel(figures.plot_taper_tacrolimus(summary), "mtx")
    (bars,) = ax.findobj(LineCollection)
    segment = bars.get_segments()[1]
    assert segment[:, 1].min() == 0.0 and segment[:, 1].max() == 15.0
    assert ax.get_ylim()[0] < 0.0  # a point at 0 is not cut by the axis


@pytest.mark.parametrize("plot", [figures.plot_taper_conventional,
                                  figures.plot_taper_tacrolimus])
def test_taper_text_does_not_overlap_or_clip(plot):
    fig = plot(paper_summary())
    fig.canvas.draw()
    shown = drawn_texts(fig)
    assert all(t.get_fontsize() >= 8 for t in shown)
    assert_no_overlap({f"{i}:{t.get_text()}": t.get_window_extent()
                       for i, t in enumerate(shown)})
    assert_inside(fig, shown)


def test_taper_handles_missing_and_zero_data():
    summary = paper_summary()
    summary = summary[~((summary["drug"] == "mmf") & (summary["timepoint"] == "y1"))]
    summary.loc[summary["drug"] == "mtx", ["n", "mean", "sd", "p"]] = [0, np.nan, np.nan, np.nan]
    fig = figures.plot_taper_tacrolimus(summary)
    shown = [flat(t.get_text()) for t in panel(fig, "mtx").findobj(matplotlib.text.Text)]
    assert shown.count("n = 0") == 3 and "p = N/A" in shown and "no data" in shown
    assert "n = N/A" in [flat(t.get_text()) for t in panel(fig, "mmf").texts]


def test_taper_does_not_mutate_input():
    summary = paper_summary()
    before = summary.copy()
    figures.plot_taper_tacrolimus(summary)
    figures.plot_taper_conventional(summary)
    pd.testing.assert_frame_equal(summary, before)


def test_taper_rejects_bad_input():
    with pytest.raises(ParameterError, match="drug"):
        figures.plot_taper(paper_summary(), "tac", ["cyclosporine"])
    with pytest.raises(ParameterError, match="cohort"):
        figures.plot_taper(paper_summary(), "placebo", ["prednisone"])
    with pytest.raises(DataValidationError, match="'sd'"):
        figures.plot_taper(paper_summary().drop(columns="sd"), "tac", ["prednisone"])
    duplicated = pd.concat([paper_summary(), paper_summary().iloc[[4]]])
    with pytest.raises(DataValidationError, match="duplicated"):
        figures.plot_taper(duplicated, "tac", ["prednisone"])


# ------------------------------------------------------------------------------ global state


def test_no_global_state_leaks():
    before = dict(matplotlib.rcParams)
    pyplot = sys.modules.get("matplotlib.pyplot")
    open_before = pyplot.get_fignums() if pyplot else []
    figures.plot_flow(make_flow())
    figures.plot_taper_conventional(paper_summary())
    fig = figures.plot_taper_tacrolimus(paper_summary())
    assert dict(matplotlib.rcParams) == before
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert (pyplot.get_fignums() if pyplot else []) == open_before
    assert type(fig.canvas).__name__ == "FigureCanvasAgg"


# ------------------------------------------------------------------------------ saving


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_save_figure_is_byte_identical(tmp_path):
    makers = {
        "figure1": lambda: figures.plot_flow(make_flow()),
        "taper_conventional": lambda: figures.plot_taper_conventional(paper_summary()),
        "taper_tacrolimus": lambda: figures.plot_taper_tacrolimus(paper_summary()),
    }
    for stem, make in makers.items():
        first = figures.save_figure(make(), tmp_path / "a", stem, "print")
        second = figures.save_figure(make(), tmp_path / "b" / "nested", stem, "print")
        assert [p.name for p in first] == [f"{stem}.png", f"{stem}.svg",
                                           f"{stem}_300dpi.png", f"{stem}.pdf"]
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name
        svg = first[1].read_text()
        assert "<dc:date>" not in svg
        assert b"Software" not in first[0].read_bytes()
    fig = figures.plot_flow(make_flow())
    png, _, png300, pdf = figures.save_figure(fig, tmp_path / "c", "figure1", "print")
    w, h = fig.get_size_inches()
    assert png_size(png) == (round(w * 200), round(h * 200))
    # Print copies (issue 14): 300 dpi raster and a vector PDF of the same page size.
    # (matplotlib truncates or rounds a half pixel: allow 1 pixel)
    assert all(abs(a - b) <= 1 for a, b in zip(png_size(png300), (w * 300, h * 300),
                                                strict=True))
    from pypdf import PdfReader

    box = PdfReader(pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (round(w * 72), round(h * 72))


def test_report_set_is_the_one_png_every_format_embeds(tmp_path):
    """By default a figure is drawn once, as the PNG the report embeds (HTML, PDF and Word all
    include ``figures/<stem>.png``: report.qmd's and the report modules' image links), the
    same bytes as the print set's PNG; an unknown set is refused by name."""
    import re

    from analysis import paths

    fig = figures.plot_flow(make_flow())
    written = figures.save_figure(fig, tmp_path / "report", "figure1")
    assert [p.name for p in written] == ["figure1.png"]
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["figure1.png"]
    printed = figures.save_figure(fig, tmp_path / "print", "figure1", "print")
    assert written[0].read_bytes() == printed[0].read_bytes()
    sources = [paths.ROOT / "report.qmd", *(paths.ROOT / "analysis" / "report").glob("*.py")]
    linked = {m for p in sources for m in re.findall(r"\]\((figures/[^)\s]+)\)", p.read_text())}
    assert linked and all(link.endswith(".png") and "_300dpi" not in link for link in linked)
    with pytest.raises(ParameterError, match="figures must be one of report, print"):
        figures.save_figure(fig, tmp_path / "bad", "figure1", "svg")
    assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())


def test_save_figure_rejects_path_in_stem(tmp_path):
    with pytest.raises(ParameterError):
        figures.save_figure(figures.plot_flow(make_flow()), tmp_path, "../figure1")
