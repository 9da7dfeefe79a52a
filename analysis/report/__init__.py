"""The output side of a run: everything the report shows, formatted and written once.

==================  ============================================================================
``format``          how numbers print: :func:`format_p`, :func:`p_clause`, :func:`format_number`
``markdown``        Markdown pipe tables (cells escaped) and ``tables/<stem>.csv|.md``
``paper_tables``    Tables 1–3 in the paper's layout, captions and footnotes
``style``           the figures' style, :func:`~analysis.report.style.save_figure`
``flow``            Figure 1, the study flow (measure texts, lay out, draw)
``tapers``          the dose-taper figures
``figures``         the public names of ``style``, ``flow`` and ``tapers`` together
``results``         ``results.json``: step fragments, merged and written
``variables``       ``_variables.yml``, the numbers of the report's prose
``inputs``          :func:`write_report_inputs` and Appendices A and B
``verdicts``        Appendix B's sentences, filled from the consistency checks' evidence
``variants``        a variant run's opening section (what changed against the paper run)
``claims``          the paper's conclusions as rules on a run's numbers (variant report)
``workbook``        ``tables/tables.xlsx``, a sheet per table (openpyxl)
``explorer``        the HTML report's robustness explorer (``tables/explorer.md``, a raw HTML block)
``provenance``      every number's key, its links to Appendix A and the HTML's cards
                    (``tables/provenance.md``, a raw HTML block; ``#why:KEY``)
==================  ============================================================================

Files are written through :func:`analysis.files.write_atomic` (re-exported here as
``write_atomic``), the package's bottom layer. Rendering the report (Quarto, or its pip-only
stand-in) is a separate tool: :mod:`analysis.render`.
"""

from analysis.files import write_atomic
from analysis.format import format_number, format_p, p_clause
from analysis.report.markdown import markdown_table, save_table
from analysis.report.results import load_fragments, save_fragment

__all__ = ["format_p", "p_clause", "format_number", "write_atomic", "markdown_table",
           "save_table", "save_fragment", "load_fragments"]
