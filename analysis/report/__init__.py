"""The output side of a run: everything the report shows, formatted and written once.

==================  ============================================================================
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
``claims``          ``tables/claims.csv``: the paper's conclusions judged on this run, their
                    table in the report and a variant's lead table
``prose``           the Results' sentences that state a direction, from the run's numbers
``labels``          parameters and their values in words, for every reader-facing text
``spans``           a number's key and its links between Tables 1–3 and Appendix A
``workbook``        ``tables/tables.xlsx``, a sheet per table (openpyxl)
``explorer``        the HTML report's robustness explorer (``tables/explorer.md``, a raw HTML block)
``provenance``      every number's key, its links to Appendix A and the HTML's cards
                    (``tables/provenance.md``, a raw HTML block; ``#why:KEY``)
==================  ============================================================================

Files are written through :func:`analysis.files.write_atomic` and numbers printed through
:mod:`analysis.format` (both re-exported here), the package's bottom layer. Rendering the
report (Quarto, or its pip-only stand-in) is a separate tool: :mod:`analysis.render`.
"""

from analysis.files import write_atomic
from analysis.format import format_number, format_p, p_clause
from analysis.report.markdown import markdown_table, save_table
from analysis.report.results import load_fragments, save_fragment

__all__ = ["format_p", "p_clause", "format_number", "write_atomic", "markdown_table",
           "save_table", "save_fragment", "load_fragments"]
