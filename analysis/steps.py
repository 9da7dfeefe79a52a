"""The steps of a run and what each reads: the one declaration the step cache, the parameter
records and the notebooks follow (issue 24).

A step's cache key (:mod:`analysis.stepcache`) is exactly what it reads: the parameters of
the groups it declares here (:data:`analysis.params.GROUPS`; ``definition`` is every field
no other group names), the data folder, ``data/published``, the earlier steps' outputs (by
their keys) and its code. The parameters a step records in ``parameters/<step>.json`` are the
same names (:func:`analysis.params.load_step_params`), so that step 06's check that a run
folder holds one parameter set (issue 15) compares what each step read, and a step reused
from the cache under a changed parameter it does not read passes that check.

=====================  ==============================  ====  =========  ==================
step                   parameter groups                data  published  earlier outputs
=====================  ==============================  ====  =========  ==================
01_cohort              none: it loads, checks and       yes   no         none
                       summarises the export
groups                 definition                       no    no         01_cohort
sweep                  see :func:`sweep_parameters`     no    no         01_cohort
02_flow                definition, tests, checks (the   no    yes        01_cohort, groups
                       data warnings, the assumptions'
                       p-values and verdicts)
03_tables              definition, tests, output        no    no         01_cohort, groups
04_tapers              definition, tests                no    no         01_cohort, groups
05_sensitivity         definition, tests, sensitivity   no    no         01_cohort, groups,
                                                                         sweep
06_reproduction        every parameter                  no    yes        every notebook above
notes                  every parameter; the paper run   no    no         06_reproduction
                       (variants), commit, renderer
render                 the staging folder's files (:func:`analysis.stepcache.render_key`)
=====================  ==============================  ====  =========  ==================

The report's inputs: every one that comes from the run's numbers (``results.json``,
``_variables.yml``, the reproduction, audit, claims, check-assumptions and groups tables) is
written by ``06_reproduction`` (:func:`analysis.report.inputs.write_report_inputs`); the run
notes, which compare with the paper run's folder or record the machine (the variant tables,
the provenance cards, Appendix C), by the run's own process after it
(:func:`analysis.pipeline.bundle.write_run_notes`), never cached (they read the commit and
the renderer). No file is written by both.

Done once per run, and passed on as a file the later steps read:

- ``01_cohort``'s output is the validated export (:mod:`analysis.schema.kept`): the run's
  own process reads and checks the export once, with the run's parameters (its warnings and
  the eligibility check), and keeps it before any notebook starts, so the notebooks 01-05
  still run side by side; each reads that copy (``cohort_file``), never the export. Only
  step 01 reads the data folder; the steps after it read the data through its key.
- ``groups`` is who is in which response group (:func:`analysis.cohort.analysis_groups`),
  computed once by the run's process from that copy and kept by its key
  (:func:`analysis.files.stored`, the notebooks' ``groups_file``): a changed cutoff computes
  the groups once, and the steps that read them read that file.
- ``sweep`` is the sensitivity analysis over the fixed grid (:func:`analysis.sensitivity.
  grid_sweep`), kept in the cache apart from step 05: the grid's definitions do not depend on
  the run's own definition, only which of them is the run's does (marked afterwards by step
  05, :func:`analysis.sensitivity.mark_reference`).

So a run with one changed cutoff reuses step 01 and the sweep, computes the groups once, and
runs again what reads them. A notebook opened alone in JupyterLab is given none of these
files (``None``): it reads the export and computes the groups itself, as the sweep.

This module imports nothing from the package (the bottom layer, like :mod:`analysis.paths`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reads", "READS", "SWEEP", "RESPONSE_GROUPS", "COHORT", "ALL", "reads",
           "reads_published"]

#: Every parameter (the collecting step shows and records them all).
ALL = "all"
#: The cached sweep over the sensitivity grid.
SWEEP = "sweep"
#: The response groups, computed once per run from step 01's output.
RESPONSE_GROUPS = "groups"
#: The step whose output is the validated export.
COHORT = "01_cohort"


@dataclass(frozen=True)
class Reads:
    """What one step reads: parameter groups (or :data:`ALL`), the data folder, the printed
    numbers (``data/published``), and earlier steps' outputs; and whether it draws figures
    (``--figures``)."""

    groups: tuple[str, ...] | str
    data: bool = True
    published: bool = False
    after: tuple[str, ...] = ()
    #: Whether the step draws figures (its key then holds the run's set of figure files).
    figures: bool = False


#: What each step reads (the table above), by step name (a notebook's stem).
#: Declared in the order they run: a step after those whose outputs it reads.
READS: dict[str, Reads] = {
    COHORT: Reads(()),
    RESPONSE_GROUPS: Reads(("definition",), data=False, after=(COHORT,)),
    SWEEP: Reads(("definition", "tests", "sensitivity"), data=False,  # narrowed:
                 after=(COHORT,)),                                    # sweep_parameters
    "02_flow": Reads(("definition", "tests", "checks"), data=False, published=True,
                     after=(COHORT, RESPONSE_GROUPS), figures=True),
    "03_tables": Reads(("definition", "tests", "output"), data=False,
                       after=(COHORT, RESPONSE_GROUPS), figures=True),
    "04_tapers": Reads(("definition", "tests"), data=False, after=(COHORT, RESPONSE_GROUPS),
                       figures=True),
    "05_sensitivity": Reads(("definition", "tests", "sensitivity"), data=False,
                            after=(COHORT, RESPONSE_GROUPS, SWEEP), figures=True),
    "06_reproduction": Reads(ALL, data=False, published=True,
                             after=("01_cohort", "02_flow", "03_tables", "04_tapers",
                                    "05_sensitivity")),
}


def _stem(step: str) -> str:
    return step.removesuffix(".ipynb")


def reads(step: str) -> Reads:
    """What ``step`` (a notebook's name or stem, or :data:`SWEEP`) reads.

    >>> reads("02_flow.ipynb").published, reads("01_cohort").groups
    (True, ())
    """
    try:
        return READS[_stem(step)]
    except KeyError:
        raise KeyError(f"no step {step!r}; the steps: {', '.join(READS)}") from None


def reads_published(step: str) -> bool:
    """Whether ``step`` reads ``data/published``."""
    return reads(step).published
