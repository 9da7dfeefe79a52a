"""The Word reference document (``reference.docx``): pandoc's default one, set on the PDF's page.

pandoc's docx writer, alone or inside Quarto (``format: docx: reference-doc:``), takes styles
and page setup from a reference document. pandoc's default has no page size or margins (Word
then uses its own, and pandoc sizes tables for a 5.5 in text width) and sets table text at
body size, so Word squeezed the wide tables until header words broke ("Nonresponder|s",
issue 14). This module makes the project's ``reference.docx`` from pandoc's default
(``pandoc --print-default-data-file reference.docx``, the recipe of pandoc's manual and of
Quarto's "Word templates" page) with the Typst PDF's paper, margins and font size from
``_quarto.yml`` and table text at 0.8 of it, as ``report-header.typ`` sets the PDF's.

The file is committed beside ``_quarto.yml`` (Quarto needs it as a file) and rebuilt with::

    python -m analysis.render.docx_reference          # writes ./reference.docx

``tests/test_render.py`` checks that the committed file is what this module builds. The XML is
edited as text, at a few anchors, and re-parsed to check it: ElementTree would rename the
namespace prefixes that Word's ``mc:Ignorable`` lists, python-docx and lxml are not
dependencies.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.render.source import DOCX_REFERENCE_NAME, RenderError

#: Table text relative to body text, as ``#show table: set text(size: 0.8em)`` in
#: report-header.typ.
TABLE_TEXT_SCALE = 0.8
#: Page sizes Typst names (``papersize``), width x height in points.
_PAPER_PT = {"us-letter": (612.0, 792.0), "a4": (595.28, 841.89), "us-legal": (612.0, 1008.0),
             "a5": (419.53, 595.28)}
_UNIT_PT = {"pt": 1.0, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4}
#: Every part gets this time in the zip, so that the same inputs give the same bytes.
_ZIP_TIME = (2017, 9, 1, 0, 0, 0)


def length_pt(value: Any, what: str) -> float:
    """A Typst length such as ``2cm``, ``1in``, ``20mm`` or ``10pt``, in points."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(pt|in|cm|mm)\s*", str(value))
    if not m:
        raise RenderError(f"_quarto.yml: format: typst: {what}: expected a length such as "
                          f"'2cm', '1in' or '10pt', got {value!r}")
    return float(m.group(1)) * _UNIT_PT[m.group(2)]


def page_setup(typst: Mapping[str, Any]) -> dict[str, float]:
    """Paper, margins (points) and body font size of the PDF, from ``format: typst`` options.

    Parameters
    ----------
    typst : mapping
        The ``format: typst`` options of ``_quarto.yml`` (``papersize``, ``margin`` with
        ``x``/``y``/``left``/``right``/``top``/``bottom``, ``fontsize``).

    Returns
    -------
    dict
        ``width``, ``height``, ``left``, ``right``, ``top``, ``bottom``, ``fontsize`` (pt).
    """
    paper = str(typst.get("papersize", "us-letter"))
    if paper not in _PAPER_PT:
        raise RenderError(f"_quarto.yml: format: typst: papersize: {paper!r} is not one of "
                          f"{sorted(_PAPER_PT)}")
    width, height = _PAPER_PT[paper]
    margin = typst.get("margin") or {}
    if not isinstance(margin, Mapping):
        margin = {"x": margin, "y": margin}
    side = {k: margin.get(k, margin.get(axis, "2.5cm"))
            for k, axis in (("left", "x"), ("right", "x"), ("top", "y"), ("bottom", "y"))}
    setup = {"width": width, "height": height,
             **{k: length_pt(v, f"margin: {k}") for k, v in side.items()},
             "fontsize": length_pt(typst.get("fontsize", "11pt"), "fontsize")}
    return setup


def _twips(pt: float) -> int:
    return round(pt * 20)


def _half_points(pt: float) -> int:
    return round(pt * 2)


def _replace_once(xml: str, pattern: str, repl: str, part: str) -> str:
    new, n = re.subn(pattern, repl, xml, count=1, flags=re.S)
    if n != 1:
        raise RenderError(f"pandoc's default reference.docx changed: {part} has no "
                          f"match for {pattern!r}; update analysis/render/docx_reference.py")
    return new


def edit_document(xml: str, setup: Mapping[str, float]) -> str:
    """The body's last ``w:sectPr`` gets the page size and margins (ECMA-376 17.6.13, 17.6.11);
    pandoc copies it into every document it writes and derives table and figure widths from
    it."""
    page = (f'<w:pgSz w:w="{_twips(setup["width"])}" w:h="{_twips(setup["height"])}" />'
            f'<w:pgMar w:top="{_twips(setup["top"])}" w:right="{_twips(setup["right"])}" '
            f'w:bottom="{_twips(setup["bottom"])}" w:left="{_twips(setup["left"])}" '
            'w:header="720" w:footer="720" w:gutter="0" />')
    return _replace_once(xml, r"(<w:sectPr>.*?)(</w:sectPr>)", r"\g<1>" + page + r"\g<2>",
                         "word/document.xml")


def edit_styles(xml: str, setup: Mapping[str, float]) -> str:
    """Body text at the PDF's size (``w:docDefaults``); the "Table" table style, which pandoc
    gives every table, at ``TABLE_TEXT_SCALE`` of it (a table style's run properties apply to
    its cells' text, below paragraph styles, ECMA-376 17.7.2); captions at body size."""
    body = _half_points(setup["fontsize"])
    table = _half_points(setup["fontsize"] * TABLE_TEXT_SCALE)
    xml = _replace_once(xml, r'(<w:rPrDefault>.*?<w:sz w:val=")\d+(" />\s*<w:szCs w:val=")\d+',
                        rf"\g<1>{body}\g<2>{body}", "word/styles.xml docDefaults")
    # CT_Style orders rPr before tblPr.
    xml = _replace_once(
        xml, r'(<w:style w:type="table" w:default="1" w:styleId="Table">.*?)(<w:tblPr>)',
        rf'\g<1><w:rPr><w:sz w:val="{table}" /><w:szCs w:val="{table}" /></w:rPr>\g<2>',
        "word/styles.xml Table style")
    # Captions (and Table Caption, Image Caption, based on it) at body size even inside a
    # table: Quarto's docx output puts a captioned table's caption in the cell of a layout
    # table, where the "Table" style would otherwise set it at table size.
    return _replace_once(
        xml, r'(<w:style w:type="paragraph" w:styleId="Caption">.*?<w:rPr>\s*<w:i />)',
        rf'\g<1><w:sz w:val="{body}" /><w:szCs w:val="{body}" />',
        "word/styles.xml Caption style")


def edit_settings(xml: str) -> str:
    """Word updates the document's fields when it opens it (``w:updateFields``, ECMA-376
    17.15.1.90): the table of contents, which pandoc writes as an empty TOC field, is filled
    on opening instead of showing a bare heading (issue 25). pandoc keeps this setting of the
    reference document in every .docx it writes, under Quarto too.

    >>> edit_settings('<w:settings xmlns:w="w"><w:zoom /></w:settings>')
    '<w:settings xmlns:w="w"><w:zoom /><w:updateFields w:val="true" /></w:settings>'
    """
    return _replace_once(xml, r"(</w:settings>)", r'<w:updateFields w:val="true" />\g<1>',
                         "word/settings.xml")


def pandoc_reference_docx() -> bytes:
    """pandoc's own reference.docx (``--print-default-data-file``) of the pinned pandoc."""
    from analysis.render.pandoc import _pandoc_path

    proc = subprocess.run([_pandoc_path(), "--print-default-data-file", "reference.docx"],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RenderError("pandoc --print-default-data-file reference.docx failed: "
                          + proc.stderr.decode(errors="replace").strip())
    return proc.stdout


def build_reference_docx(default: bytes, typst: Mapping[str, Any]) -> bytes:
    """The project's reference.docx: ``default`` (pandoc's) with the PDF's page and font sizes,
    and fields updated on opening (:func:`edit_settings`).

    Parameters
    ----------
    default : bytes
        pandoc's default reference.docx (:func:`pandoc_reference_docx`).
    typst : mapping
        The ``format: typst`` options of ``_quarto.yml`` (:func:`page_setup`).

    Returns
    -------
    bytes
        The .docx, identical for identical inputs (fixed zip times, parts in pandoc's order).
    """
    setup = page_setup(typst)
    edits = {"word/document.xml": lambda x: edit_document(x, setup),
             "word/styles.xml": lambda x: edit_styles(x, setup),
             "word/settings.xml": edit_settings}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(default)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename in edits:
                text = edits[info.filename](data.decode("utf-8"))
                ET.fromstring(text)  # still well-formed
                data = text.encode("utf-8")
            dst.writestr(zipfile.ZipInfo(info.filename, _ZIP_TIME), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main(project_dir: Path = Path(".")) -> Path:
    """Write ``project_dir/reference.docx`` from ``project_dir/_quarto.yml``."""
    from analysis.render.config import read_yaml
    from analysis.render.source import PROJECT_NAME

    project = read_yaml(project_dir / PROJECT_NAME) or {}
    typst = (project.get("format") or {}).get("typst") or {}
    target = project_dir / DOCX_REFERENCE_NAME
    target.write_bytes(build_reference_docx(pandoc_reference_docx(), typst))
    return target


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")))
