"""Keys and links on the report's numbers (issue 28): the pandoc/Quarto spans that carry a
number's key, the links between Tables 1-3 and Appendix A, and their removal for plain text.
The cards that read these keys are :mod:`analysis.report.provenance`; this module is below
every writer of the report's Markdown (tables, prose, conclusions, appendices), so that they
can key their numbers without importing the card builder, which reads them all.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["KEY_ATTRIBUTE", "keyed", "mark", "unkeyed", "anchor_name", "appendix_anchor",
           "cell_anchor", "table_cells"]

#: The attribute that carries a number's key in the Markdown and in the HTML.
KEY_ATTRIBUTE = "data-key"
_SAFE = re.compile(r"[^A-Za-z0-9_]")


def anchor_name(prefix: str, name: str) -> str:
    """An anchor valid as an HTML id, a Typst label and a Word bookmark (letters, digits and
    ``_``, at most 40 characters; a longer name is cut and given a short hash to stay unique).

    >>> anchor_name("A", "t1.sex.male.n")
    'A_t1_sex_male_n'
    >>> anchor_name("A", "text.dose.conv_resp.prednisone.baseline.mean")
    'A_text_dose_conv_resp_prednison_555654fd'
    """
    safe = f"{prefix}_{_SAFE.sub('_', name)}"
    if len(safe) <= 40:
        return safe
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{safe[:31]}_{digest}"


def appendix_anchor(published_id: str) -> str:
    """The anchor of a printed number's row in Appendix A (by its id in ``numbers.csv``)."""
    return anchor_name("A", published_id)


def cell_anchor(key: str) -> str:
    """The anchor of a number's cell in Tables 1-3 (by its key)."""
    return anchor_name("T", key)


def keyed(text: str, key: str | None) -> str:
    """A number of the report with its key, as a bracketed span (prose and table cells).

    >>> keyed("31", "flow.conv_responders")
    '[31]{data-key="flow.conv_responders"}'
    >>> keyed("31", None), keyed("", "flow.included")
    ('31', '')
    """
    if not key or not text:
        return text
    return f'[{text}]{{{KEY_ATTRIBUTE}="{key}"}}'


@lru_cache(maxsize=1)
def _printed_ids() -> frozenset[str]:
    """The ids of ``data/published/numbers.csv``: the rows Appendix A shows (a table cell
    links to its row only where there is one, so no link can dangle: Typst refuses one)."""
    from analysis.published import load_published

    return frozenset(load_published()["id"].astype(str))


def mark(text: str, key: str, link: bool = True) -> str:
    """A number of Tables 1-3: keyed, an anchor of its own (Appendix A links back to it) and,
    where the paper printed it (``numbers.csv`` has an id equal to the key), a link to its
    row of Appendix A. ``link=False`` for an n beside a mean ("[n = 44]").

    >>> mark("16", "t1.sex.male.n")
    '[[16]{#T_t1_sex_male_n data-key="t1.sex.male.n"}](#A_t1_sex_male_n)'
    >>> mark("44", "t2.ck.n_resp", link=False)
    '[44]{#T_t2_ck_n_resp data-key="t2.ck.n_resp"}'
    """
    if not key or not text:
        return text
    span = f'[{text}]{{#{cell_anchor(key)} {KEY_ATTRIBUTE}="{key}"}}'
    if link and key in _printed_ids():
        return f"[{span}](#{appendix_anchor(key)})"
    return span


_KEYED = re.compile(r'\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\{(?:#[A-Za-z0-9_]+ ?)?data-key="[^"]*"\}')
_LINK = re.compile(r"\[([^\[\]]*)\]\(#[AT]_[A-Za-z0-9_]+\)")


def unkeyed(text: str) -> str:
    """The text a reader sees: the keys (:func:`keyed`) and the links of Tables 1-3 and
    Appendix A (:func:`mark`) taken off, as Typst and Word print it.

    >>> unkeyed(mark("16", "t1.sex.male.n") + " (" + keyed("29.6", "t1.sex.male.pct") + ")")
    '16 (29.6)'
    >>> unkeyed("[0.013]{#A_t2_myositis_p} and [44.9](#T_t1_age_mean)")
    '0.013 and 44.9'
    """
    text = _KEYED.sub(r"\1", text)
    text = re.sub(r"\[([^\[\]]*)\]\{#A_[A-Za-z0-9_]+\}", r"\1", text)
    return _LINK.sub(r"\1", text)


def table_cells(run_dir: Path) -> dict[str, str]:
    """The cells of Tables 1-3 that carry an anchor, by key (``t1.sex.male.n`` ->
    ``T_t1_sex_male_n``), read from the run's ``tables/table1.md``-``table3.md``: Appendix A
    links back only to a cell that exists."""
    cells: dict[str, str] = {}
    for stem in ("table1", "table2", "table3"):
        path = Path(run_dir) / "tables" / f"{stem}.md"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for m in re.finditer(r'\{#(T_[A-Za-z0-9_]+) data-key="([^"]+)"\}', text):
                cells[m.group(2)] = m.group(1)
    return cells
