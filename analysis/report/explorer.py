"""The robustness explorer of the HTML report (issue 16; beyond the paper).

A reviewer who has only ``report.html`` picks each cutoff of the response definition among the
values of the sensitivity grid (``Params.sensitivity_grid``) and sees, for that definition, the
flow counts, the responders per group and each conclusion of Sharma 2017 with its p-value and
its verdict (:func:`analysis.paper.claims.judge`, the rule of the whole report). Nothing is
recomputed in the page: every definition of the grid was computed
by :func:`analysis.sensitivity.sweep` when the run was built, and the page looks the numbers up.

The section is written as ``tables/explorer.md``: a Markdown include holding one raw HTML block
(a fenced ``{=html}`` block), which both renderers (Quarto, and the pandoc stand-in of
:mod:`analysis.render`) pass to HTML unchanged and drop from Typst (PDF) and Word, where the
sensitivity section's static summary stands instead. The block is self-contained: the data is
an inline JSON script (no fetch, no network), the logic an inline script.

The data (:func:`explorer_data`) is compact: the distinct results of the grid (many
definitions give the same groups), each as the texts the page shows, already formatted here
(so the page's script formats nothing), and, for each definition in the order of the grid's
Cartesian product, the number of its result. The selection is read from and written to the URL
fragment, ``#explore:fvc_decline=0.05&ild_criteria_required=3`` (the fields that differ from
the run's definition; values as in a parameter file).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import DataValidationError
from analysis.format import format_p_against
from analysis.paper.claims import RULES_TEXT
from analysis.params import Params
from analysis.report.labels import parameter_label, parameter_value
from analysis.sensitivity import SWEPT, claim_rows, same_value, swept_claims

__all__ = ["axis_key", "explorer_data", "explorer_html",
           "explorer_markdown", "save_explorer"]

#: The flow counts shown (cell name, row label).
FLOW_ROWS: tuple[tuple[str, str], ...] = (
    ("n_included", "Included (eligible, conventional treatment assessed)"),
    ("conv_responders", "Responded to conventional treatment"),
    ("conv_failures", "Failed conventional treatment"),
    ("tac_n", "Failed, given tacrolimus, analysed"),
    ("tac_responders", "Responded to tacrolimus"),
    ("tac_nonresponders", "Did not respond to tacrolimus"),
)

#: The groups whose conventional response is shown (cell name, row label).
GROUP_ROWS: tuple[tuple[str, str], ...] = (
    ("conv", "All included"), ("pm", "PM-ILD"), ("dm", "DM-ILD"), ("cadm", "CADM-ILD"))

_DEFINITION_COLUMNS = ("definition", *SWEPT, "in_grid", "is_reference")


def axis_key(value: Any) -> str:
    """A grid value as written in the URL fragment (and a parameter file).

    >>> [axis_key(v) for v in (0.05, 0.1, 2, 150.0, "relative")]
    ['0.05', '0.1', '2', '150', 'relative']
    """
    if isinstance(value, str):
        return value
    return f"{float(value):g}"


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "a missing baseline CK", but "FVC decline" (an acronym
    keeps its capitals).

    >>> _in_sentence("A missing FVC, TLC or DLCO"), _in_sentence("FVC decline")
    ('a missing FVC, TLC or DLCO', 'FVC decline')
    """
    return label[:1].lower() + label[1:] if label[1:2].islower() or label[1:2] == " " else label


def _axes(sweep: pd.DataFrame, params: Params, label: str) -> list[dict[str, Any]]:
    """Each swept field: its grid values (keys and texts), the run's value, the paper's."""
    grid = sweep[sweep["in_grid"].astype(bool)]
    paper = Params()
    out = []
    for name in SWEPT:
        values = list(dict.fromkeys(grid[name].tolist()))
        run_value, paper_value = getattr(params, name), getattr(paper, name)
        texts = []
        for v in values:
            marks = ["paper"] if same_value(v, paper_value) else []
            if label.startswith("this ") and same_value(v, run_value) and not marks:
                marks.append("this run")
            texts.append(_marked(parameter_value(name, v), marks))
        hits = [i for i, v in enumerate(values) if same_value(v, run_value)]
        default = hits[0] if hits else min(
            range(len(values)), key=lambda i: _distance(values[i], run_value))
        # named and valued from the one place labels live (analysis.params.LABELS and
        # VALUE_WORDS), so the explorer, the report and the spreadsheet name a parameter alike
        full = parameter_label(name)
        out.append({"name": name, "label": full, "short": _in_sentence(full),
                    "values": [axis_key(v) for v in values], "texts": texts,
                    "numeric": not isinstance(values[0], str), "default": default,
                    "on_grid": bool(hits)})
    return out


def _marked(text: str, marks: list[str]) -> str:
    """A menu's value with its marks, in one pair of brackets.

    >>> _marked("10%", ["paper"]), _marked("relative (% of baseline)", ["paper"])
    ('10% (paper)', 'relative (% of baseline; paper)')
    >>> _marked("10%", [])
    '10%'
    """
    if not marks:
        return text
    if text.endswith(")"):
        return f"{text[:-1]}; {', '.join(marks)})"
    return f"{text} ({', '.join(marks)})"


def _the(label: str) -> str:
    """"the paper's definition" but "this run's definition" (never "the this run's").

    >>> _the("paper's definition"), _the("this run's definition")
    ("the paper's definition", "this run's definition")
    """
    return label if label.startswith("this ") else f"the {label}"


def _distance(a: Any, b: Any) -> float:
    if isinstance(a, str) or isinstance(b, str):
        return 0.0 if a == b else 1.0
    return abs(float(a) - float(b))


def _share(k: Any, n: Any) -> str:
    if pd.isna(k) or pd.isna(n):
        return "n/a"
    k, n = int(k), int(n)
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else f"{k}/{n}"


def _count(value: Any) -> str:
    return "n/a" if pd.isna(value) else str(int(value))


def _cells(distinct: pd.DataFrame, alpha: float) -> tuple[list[str], list[list[str]]]:
    """The texts the page shows for each distinct result: cell names and one row each."""
    claims = claim_rows(distinct, alpha)
    columns: dict[str, list[str]] = {}
    rows = distinct.to_dict("records")
    for name, _ in FLOW_ROWS:
        if name == "conv_failures":
            columns[name] = [_count(r["n_included"] - r["conv_responders"]) for r in rows]
        elif name == "tac_nonresponders":
            columns[name] = [_count(r["tac_n"] - r["tac_responders"]) for r in rows]
        else:
            columns[name] = [_count(r[name]) for r in rows]
    for key, _ in GROUP_ROWS:
        k, n = ("conv_responders", "n_included") if key == "conv" else \
            (f"{key}_responders", f"{key}_n")
        columns[key] = [_share(r[k], r[n]) for r in rows]
    for claim in swept_claims():
        cid = claim.id
        columns[f"{cid}_detail"] = claims[f"{cid}_detail"].tolist()
        columns[f"{cid}_p"] = [format_p_against(v, alpha) for v in claims[f"{cid}_p"].tolist()]
        columns[f"{cid}_verdict"] = claims[cid].tolist()
    names = list(columns)
    return names, [list(t) for t in zip(*columns.values(), strict=True)]


def _dictionary(rows: list[list[str]]) -> tuple[list[list[str]], list[list[int]]]:
    """Each cell's distinct texts, and the rows as indices into them (the texts repeat)."""
    texts: list[dict[str, int]] = [{} for _ in rows[0]] if rows else []
    coded = [[texts[j].setdefault(t, len(texts[j])) for j, t in enumerate(row)] for row in rows]
    return [list(d) for d in texts], coded


def explorer_data(sweep: pd.DataFrame, params: Params | None = None,
                  label: str = "paper's definition", alpha: float = 0.05) -> dict[str, Any]:
    """The explorer's embedded data: axes, distinct results, and the lookup index.

    Parameters
    ----------
    sweep : from :func:`analysis.sensitivity.sweep` (every definition of the grid, and the
        run's definition).
    params : the run's parameters (its definition is the one shown first; the paper's values
        are marked in the menus).
    label : how the run's definition is named (:func:`analysis.sensitivity.reference_label`).
    alpha : the significance level of the conclusions.

    Returns
    -------
    dict, JSON-ready: ``axes`` (each swept field with more than one value, in the grid's
    order: ``name``, ``label``, ``short`` (the label without its unit), ``values``
    (fragment keys), ``texts``, ``numeric``,
    ``default`` (index of the run's value, or the nearest) and ``on_grid``); ``fixed`` (the
    fields with one value: name, label and text); ``cells`` (names of the shown texts); ``words``
    (per cell, its distinct texts); ``rows`` (per distinct result, for each cell the index of
    its text in ``words``); ``index`` (per definition,
    in the order of the Cartesian product of ``axes`` with the last axis fastest, its row);
    ``reference`` (the row of the run's definition); ``label`` and ``the_label`` (with its
    article: "the paper's definition", "this run's definition"); ``n_definitions``.

    Raises
    ------
    DataValidationError
        The grid is not one full Cartesian product of its values (a definition missing or
        repeated), so no lookup by position is possible.
    """
    params = params or Params()
    axes = _axes(sweep, params, label)
    shown = [a for a in axes if len(a["values"]) > 1]
    fixed = [{"name": a["name"], "label": a["label"], "text": a["texts"][0]}
             for a in axes if len(a["values"]) == 1]
    results = [c for c in sweep.columns if c not in _DEFINITION_COLUMNS]
    keys = [repr(row) for row in sweep[results].itertuples(index=False, name=None)]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object))
    first = pd.Series(range(len(sweep))).groupby(codes).first().to_numpy()
    names, texts = _cells(sweep.iloc[first].reset_index(drop=True), alpha)
    words, rows = _dictionary(texts)
    size = math.prod(len(a["values"]) for a in shown)
    index: list[int | None] = [None] * size
    grid_mask = sweep["in_grid"].astype(bool).to_numpy()
    for i, record in enumerate(sweep[list(SWEPT)].to_dict("records")):
        if not grid_mask[i]:
            continue
        pos = 0
        for a in shown:
            pos = pos * len(a["values"]) + a["values"].index(axis_key(record[a["name"]]))
        if index[pos] is not None:
            raise DataValidationError(f"sensitivity grid: definition {i} repeats position {pos}")
        index[pos] = int(codes[i])
    if any(v is None for v in index):
        raise DataValidationError("sensitivity grid: not a full Cartesian product of its values "
                                  f"({index.count(None)} of {size} definitions missing)")
    reference = int(codes[sweep["is_reference"].astype(bool).to_numpy().argmax()])
    return {"label": label, "the_label": _the(label), "n_definitions": int(grid_mask.sum()),
            "axes": shown, "fixed": fixed, "cells": names, "words": words, "rows": rows,
            "index": index, "reference": reference}


# --------------------------------------------------------------------------- the page
#: The page's script (inline). A lookup only: read the selection (menus or URL fragment), find
#: the definition's position in the grid, show that row's texts, write the fragment back (in
#: its short form: the fields that differ from the run's definition; ``data-fragment`` on the
#: section mirrors it, so that a DOM dump shows it).
#: Written by hand, not generated: it is short, has no dependency, and runs offline.
SCRIPT = r"""
(function () {
  "use strict";
  var root = document.getElementById("robustness-explorer");
  var source = document.getElementById("explorer-data");
  if (!root || !source) { return; }
  var data = JSON.parse(source.textContent);
  var PREFIX = "#explore:";
  var selects = Array.prototype.slice.call(root.querySelectorAll("select[data-axis]"));
  var defaults = data.axes.map(function (axis) { return axis.default; });

  function position(sel) {
    var pos = 0;
    for (var k = 0; k < data.axes.length; k++) {
      pos = pos * data.axes[k].values.length + sel[k];
    }
    return pos;
  }

  function valueIndex(axis, text) {
    for (var i = 0; i < axis.values.length; i++) {
      if (axis.numeric ? Math.abs(parseFloat(text) - parseFloat(axis.values[i])) < 1e-9
                       : text === axis.values[i]) { return i; }
    }
    return -1;
  }

  // A part of the link by its label ("CK upper limit of normal 999"); a name the grid does
  // not know, as the reader typed it.
  function named(name, value) {
    var all = data.axes.concat(data.fixed);
    for (var j = 0; j < all.length; j++) {
      if (all[j].name === name) { return all[j].label + " " + value; }
    }
    return name + "=" + value;
  }

  function parse(hash) {
    var sel = defaults.slice(), ignored = [];
    if (hash.indexOf(PREFIX) !== 0) { return {sel: sel, ignored: ignored}; }
    hash.slice(PREFIX.length).split("&").forEach(function (part) {
      if (!part) { return; }
      var eq = part.indexOf("=");
      var name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      var value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
      var k = -1;
      data.axes.forEach(function (axis, j) { if (axis.name === name) { k = j; } });
      var i = k < 0 ? -1 : valueIndex(data.axes[k], value);
      if (i < 0) { ignored.push(named(name, value)); } else { sel[k] = i; }
    });
    return {sel: sel, ignored: ignored};
  }

  function fragment(sel) {
    var parts = [];
    data.axes.forEach(function (axis, k) {
      if (sel[k] !== defaults[k]) { parts.push(axis.name + "=" + axis.values[sel[k]]); }
    });
    return parts.length ? PREFIX + parts.join("&") : "";
  }

  function show(sel, ignored) {
    var row = data.rows[data.index[position(sel)]];
    data.cells.forEach(function (name, j) {
      var el = root.querySelector('[data-cell="' + name + '"]');
      if (el) {
        var text = data.words[j][row[j]];
        el.textContent = text;
        if (el.hasAttribute("data-verdict")) { el.setAttribute("data-verdict", text); }
      }
    });
    selects.forEach(function (s, k) { s.selectedIndex = sel[k]; });
    var changed = data.axes.filter(function (axis, k) { return sel[k] !== defaults[k]; })
                           .map(function (axis) { return axis.short; });
    root.querySelector("[data-status]").textContent = changed.length
      ? "Selected: a definition that differs from " + data.the_label + " in " +
        changed.join(", ") + "."
      : "Selected: " + data.the_label + ".";
    root.querySelector("[data-ignored]").textContent = ignored.length
      ? "Not on the grid, ignored from the link: " + ignored.join(", ") + "." : "";
    root.setAttribute("data-position", String(position(sel)));
    root.setAttribute("data-fragment", location.hash);
  }

  function write(sel) {
    var frag = fragment(sel);
    if (frag === (location.hash.indexOf(PREFIX) === 0 ? location.hash : "")) { return; }
    try {
      history.replaceState(null, "", location.href.split("#")[0] + frag);
    } catch (e) {
      location.hash = frag;
    }
  }

  function fromLocation() {
    var parsed = parse(location.hash);
    if (location.hash.indexOf(PREFIX) === 0) { write(parsed.sel); }
    show(parsed.sel, parsed.ignored);
  }

  function fromMenus() {
    var sel = selects.map(function (s) { return s.selectedIndex; });
    write(sel);
    show(sel, []);
  }

  selects.forEach(function (s) { s.addEventListener("change", fromMenus); });
  root.querySelector("[data-reset]").addEventListener("click", function () {
    write(defaults);
    show(defaults, []);
  });
  window.addEventListener("hashchange", function () {
    if (location.hash.indexOf(PREFIX) === 0) { fromLocation(); }
  });
  root.removeAttribute("hidden");
  fromLocation();
  window.addEventListener("load", function () {
    if (location.hash.indexOf(PREFIX) === 0) { root.scrollIntoView(); }
  });
})();
"""

STYLE = """
#robustness-explorer .explorer-controls { display: grid; gap: 0.4em 1.2em;
  grid-template-columns: repeat(auto-fill, minmax(15em, 1fr)); margin: 0.8em 0; }
#robustness-explorer .explorer-controls label { display: flex; flex-direction: column;
  font-size: 0.9em; }
#robustness-explorer [data-verdict="holds"],
#robustness-explorer [data-verdict="established"] { color: #1a6b1a; font-weight: bold; }
#robustness-explorer [data-verdict="reversed"],
#robustness-explorer [data-verdict="not computable"] { color: #a3191d; font-weight: bold; }
#robustness-explorer [data-verdict="direction only"],
#robustness-explorer [data-verdict="not established"] { color: #8a5a00; font-weight: bold; }
#robustness-explorer [data-status] { font-weight: bold; }
#robustness-explorer table { margin: 0.6em 0 1em 0; border-collapse: collapse; }
#robustness-explorer td, #robustness-explorer th { padding: 0.15em 0.6em; vertical-align: top;
  text-align: left; border: none; border-bottom: 1px solid #dee2e6; }
#robustness-explorer thead th { border-top: 2px solid #495057;
  border-bottom: 2px solid #495057; }
#robustness-explorer tbody tr:last-child > * { border-bottom: 2px solid #495057; }
#robustness-explorer tbody th { font-weight: normal; }
#robustness-explorer caption { caption-side: top; text-align: left; font-weight: bold; }
"""
"""The explorer's own table style, the same in both engines: captions above, a rule under the
header and between rows, as the report's other tables have. Its tables carry
``data-quarto-disable-processing`` (Quarto would otherwise restyle the script's cells), so under
Quarto they get none of the classes Quarto gives its own tables, and Bootstrap puts captions
below and draws no rules (/work/shared/QUARTO.md, defect 8); an id selector outranks
Bootstrap's element rules."""


def _script_json(data: Mapping[str, Any]) -> str:
    """JSON safe inside a ``<script>`` element (no ``<``, ``>`` or ``&`` left) and inside
    the Markdown of both renderers (no shortcode or cross-reference syntax can appear)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("@", "\\u0040"))


def _table(caption: str, head: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    """An HTML table; cells are given as HTML (escaped by the caller)."""
    out = ['<table data-quarto-disable-processing="true">', f"<caption>{caption}</caption>",
           "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(row) + "</tr>" for row in body]
    return [*out, "</tbody>", "</table>"]


def _td(name: str, verdict: bool = False) -> str:
    extra = ' data-verdict=""' if verdict else ""
    return f'<td data-cell="{name}"{extra}></td>'


#: How a decline reads on the absolute scale (the menus print a decline as a percentage).
_ABSOLUTE_NOTE = ("A decline of FVC, TLC or DLCO is a percentage of the baseline value when "
                  "declines are relative, and points of the predicted value when they are "
                  "absolute (10% then reads as 10 points).")


def _absolute(data: Mapping[str, Any]) -> bool:
    """Whether the grid holds absolute declines (the menus' percentages then need the note)."""
    for axis in data["axes"]:
        if axis["name"] == "decline_scale":
            return "absolute" in axis["values"]
    absolute = parameter_value("decline_scale", "absolute")
    return any(f["name"] == "decline_scale" and f["text"].startswith(absolute)
               for f in data["fixed"])


def explorer_html(data: Mapping[str, Any],
                  conclusions: Sequence[Mapping[str, Any]]) -> str:
    """The section as HTML: menus, the three tables, the data and the script.

    Parameters
    ----------
    data : from :func:`explorer_data`.
    conclusions : rows of :func:`analysis.sensitivity.conclusions` (``conclusion``,
        ``claim``, ``criterion``), in the order shown.

    Returns
    -------
    str
        ``<section id="robustness-explorer">``, hidden until its script runs (a page without
        scripts shows the ``<noscript>`` note instead of empty tables).
    """
    esc = html.escape
    the_label = esc(data["the_label"])
    ref = {name: data["words"][j][i]
           for j, (name, i) in enumerate(zip(data["cells"], data["rows"][data["reference"]],
                                              strict=True))}

    def ref_td(name: str) -> str:
        return f"<td>{esc(ref[name])}</td>"

    menus = []
    for k, axis in enumerate(data["axes"]):
        options = "".join(f'<option value="{esc(v)}">{esc(t)}</option>'
                          for v, t in zip(axis["values"], axis["texts"], strict=True))
        menus.append(f'<label>{esc(axis["label"])} <select name="{esc(axis["name"])}" '
                     f'data-axis="{k}">{options}</select></label>')
    fixed = "; ".join(f"{esc(f['label'])}: {esc(f['text'])}" for f in data["fixed"])
    head = ["", "Selected definition", the_label[:1].upper() + the_label[1:]]
    parts = [
        '<section id="robustness-explorer" class="level2" hidden>',
        f"<p>Choose a value for each part of the definition of response among the values of "
        f"the grid above ({data['n_definitions']} definitions). The page shows, for that "
        f"definition, the study flow, the responders per group and each conclusion of the "
        f"paper with its p-value and its verdict. Every number was computed when this "
        f"report was built; the page only looks it up (nothing is fetched). Values marked "
        f"&ldquo;paper&rdquo; are the paper&rsquo;s definition. The address of the page "
        f"holds the selection, so a definition can be shared as a link.</p>",
        '<form class="explorer-controls" onsubmit="return false;">', *menus, "</form>",
        f'<p><button type="button" data-reset>Back to {the_label}</button></p>',
        '<p data-status role="status"></p><p data-ignored></p>',
        *(["<p>Fixed on this grid: " + fixed + ".</p>"] if fixed else []),
        *([f"<p><small>{esc(_ABSOLUTE_NOTE)}</small></p>"] if _absolute(data) else []),
        *_table("Study flow", head,
                [[f"<th>{esc(t)}</th>", _td(n), ref_td(n)] for n, t in FLOW_ROWS]),
        *_table("Response to conventional treatment", head,
                [[f"<th>{esc(t)}</th>", _td(n), ref_td(n)] for n, t in GROUP_ROWS]),
        *_table("The paper's conclusions", ["Conclusion", "Numbers", "p", "Verdict",
                                            f"Verdict under {the_label}"],
                [[f"<th>{esc(c['claim'])} <small>({esc(c['criterion'])})</small></th>",
                  _td(f"{c['conclusion']}_detail"), _td(f"{c['conclusion']}_p"),
                  _td(f"{c['conclusion']}_verdict", verdict=True),
                  ref_td(f"{c['conclusion']}_verdict")] for c in conclusions]),
        f"<p><small>{esc(RULES_TEXT)} Conclusions that rest on every row of Table 2 or on "
        f"the dose tapers are judged by a run of the definition (its table of "
        f"conclusions), not in this grid.</small></p>",
        f"<style>{STYLE}</style>",
        f'<script type="application/json" id="explorer-data">{_script_json(data)}</script>',
        f"<script>{SCRIPT}</script>",
        "</section>",
    ]
    return "\n".join(parts)


def explorer_markdown(section_html: str) -> str:
    """The Markdown include: one raw HTML block (HTML only; Typst and Word drop it) and, for
    readers of the page without scripts, a note.

    Raises
    ------
    DataValidationError
        The HTML holds a line that would end the fenced block early.
    """
    if any(line.lstrip().startswith("```") for line in section_html.splitlines()):
        raise DataValidationError("explorer HTML: a line starts with ``` and would end the "
                                  "raw block")
    noscript = ("<noscript><p>The robustness explorer needs JavaScript; the sensitivity "
                "section above summarises the grid.</p></noscript>")
    return f"```{{=html}}\n{noscript}\n{section_html}\n```\n"


def save_explorer(run_dir: str | Path, sweep: pd.DataFrame, claims: pd.DataFrame,
                  params: Params | None = None, label: str = "paper's definition",
                  alpha: float = 0.05) -> Path:
    """Write ``tables/explorer.md``, the report's robustness explorer (HTML only).

    ``sweep`` and ``claims`` are :func:`analysis.sensitivity.sweep` and
    :func:`analysis.sensitivity.conclusions` of the run.
    """
    from analysis.files import write_atomic

    data = explorer_data(sweep, params, label, alpha)
    section = explorer_html(data, claims[["conclusion", "claim", "criterion"]]
                            .to_dict("records"))
    return write_atomic(Path(run_dir) / "tables" / "explorer.md", explorer_markdown(section))
