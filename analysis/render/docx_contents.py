"""A written contents list in ``report.docx`` (issue 25), for both engines.

pandoc's Word writer (inside Quarto too) writes the table of contents as an empty ``TOC``
field: Word fills it when it opens the file (``w:updateFields`` in the project's
reference.docx), but LibreOffice does not update fields on opening, so there the reader met
a bare "Table of Contents" heading and no entries. :func:`write_contents` writes the field's
result: one entry per heading of the levels the field lists (``\\o "1-2"``), the heading's
text as the document prints it (section number included) and a link to the heading's
bookmark. The field itself stays, so Word still rebuilds it (with page numbers) on opening.

Why not a library: python-docx (not a dependency) exposes no field results, and the change
is one insertion into ``word/document.xml``; the rest of the file is copied byte for byte.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from html import escape
from pathlib import Path

from analysis.files import write_atomic
from analysis.render.source import RenderError

__all__ = ["contents_entries", "write_contents"]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCUMENT = "word/document.xml"
#: The paragraph pandoc writes for the field: its start and instruction, an empty result.
_EMPTY_FIELD = re.compile(
    r'<w:p>(?:<w:pPr>(?:(?!</w:p>).)*?</w:pPr>)?\s*<w:r>\s*(?P<start><w:fldChar '
    r'w:fldCharType="begin"[^>]*/>\s*<w:instrText[^>]*>\s*TOC [^<]*</w:instrText>\s*'
    r'<w:fldChar w:fldCharType="separate"\s*/>)\s*<w:fldChar w:fldCharType="end"\s*/>'
    r"\s*</w:r>\s*</w:p>", re.S)
_LEVELS = re.compile(r'TOC \\o (?:&quot;|")(\d)-(\d)(?:&quot;|")')
#: Indent per level below the first, in twentieths of a point (0.25 inch).
_INDENT = 360


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _text(paragraph: ET.Element) -> str:
    """A paragraph's text as printed: its runs' text, a tab (number, tab, title) as a space."""
    parts = []
    for el in paragraph.iter():
        if el.tag == _w("t") and el.text:
            parts.append(el.text)
        elif el.tag == _w("tab") and parts:
            parts.append(" ")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def contents_entries(document_xml: bytes, levels: tuple[int, int] = (1, 2)
                     ) -> list[tuple[int, str, str]]:
    """The headings of ``word/document.xml`` a contents list of ``levels`` shows: (level,
    text, bookmark), in document order. A heading's bookmark is the one pandoc writes just
    before its paragraph (or inside it).

    >>> xml = (f'<w:document xmlns:w="{W}"><w:body><w:bookmarkStart w:id="1" w:name="s"/>'
    ...        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>1</w:t></w:r>'
    ...        '<w:r><w:tab/></w:r><w:r><w:t>The study</w:t></w:r></w:p>'
    ...        '<w:p><w:pPr><w:pStyle w:val="Heading3"/></w:pPr><w:r><w:t>x</w:t></w:r></w:p>'
    ...        '</w:body></w:document>')
    >>> contents_entries(xml.encode())
    [(1, '1 The study', 's')]
    """
    body = ET.fromstring(document_xml).find(_w("body"))
    if body is None:
        return []
    entries = []
    previous: ET.Element | None = None
    for child in body:
        if child.tag == _w("p"):
            style = child.find(f"{_w('pPr')}/{_w('pStyle')}")
            name = style.get(_w("val"), "") if style is not None else ""
            match = re.fullmatch(r"Heading(\d)", name)
            if match and levels[0] <= int(match.group(1)) <= levels[1]:
                mark = child.find(f".//{_w('bookmarkStart')}")
                if mark is None and previous is not None and previous.tag == _w("bookmarkStart"):
                    mark = previous
                text = _text(child)
                if text:
                    entries.append((int(match.group(1)), text,
                                    mark.get(_w("name"), "") if mark is not None else ""))
        previous = child
    return entries


def _entry(level: int, text: str, anchor: str, first: int, before: str = "",
           after: str = "") -> str:
    """One entry's paragraph: the text, a link to the heading where it has a bookmark."""
    indent = f'<w:ind w:left="{(level - first) * _INDENT}"/>' if level > first else ""
    run = f'<w:r><w:t xml:space="preserve">{escape(text, quote=False)}</w:t></w:r>'
    if anchor:
        run = f'<w:hyperlink w:anchor="{escape(anchor)}" w:history="1">{run}</w:hyperlink>'
    return (f'<w:p><w:pPr><w:pStyle w:val="Compact"/>{indent}</w:pPr>'
            f"{before}{run}{after}</w:p>")


def write_contents(path: Path) -> int:
    """Write the contents list of the Word file at ``path`` in place; return its entries.

    A file without the empty ``TOC`` field pandoc writes (no contents asked for, or already
    written) is left unchanged (0), as is a file that is not a zip archive at all (nothing to
    write into; the tests' stand-in for Quarto writes a line of text).

    Raises
    ------
    RenderError
        The archive is not a Word document (no ``word/document.xml``).
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        return 0
    with zipfile.ZipFile(path) as zf:
        if _DOCUMENT not in zf.namelist():
            raise RenderError(f"{path}: not a Word document (no {_DOCUMENT})")
        xml = zf.read(_DOCUMENT).decode("utf-8")
    empty = _EMPTY_FIELD.search(xml)
    levels_match = _LEVELS.search(empty.group("start")) if empty else None
    if empty is None or levels_match is None:
        return 0
    levels = (int(levels_match.group(1)), int(levels_match.group(2)))
    entries = contents_entries(xml.encode("utf-8"), levels)
    if not entries:
        return 0
    # The field starts in the first entry's paragraph and ends in the last's, as Word writes
    # a contents list.
    start = f'<w:r>{empty.group("start")}</w:r>'
    end = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    paragraphs = [_entry(level, text, anchor, levels[0], before=start if i == 0 else "",
                         after=end if i == len(entries) - 1 else "")
                  for i, (level, text, anchor) in enumerate(entries)]
    xml = xml[:empty.start()] + "".join(paragraphs) + xml[empty.end():]
    _replace_member(path, _DOCUMENT, xml.encode("utf-8"))
    return len(entries)


def _replace_member(path: Path, member: str, data: bytes) -> None:
    """``path`` with one member's bytes replaced, every other member copied as it was;
    written atomically (:func:`analysis.files.write_atomic`)."""
    def write(tmp: Path) -> None:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
            for info in src.infolist():
                dst.writestr(info, data if info.filename == member else src.read(info))

    write_atomic(path, write)
