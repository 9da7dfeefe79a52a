"""The reconstructed (synthetic) cohort of Sharma 2017: seeded generator of ``data/raw``.

The patient-level data of the study are not public. :func:`build` rebuilds ``patients``,
``assessments`` and ``doses`` from the published numbers (``data/published``) and a seed, so
that the paper's methods (``analysis.cohort``, ``analysis.response``, ``analysis.stats``)
reproduce Figure 1 and Tables 1-3 from them; :func:`write` saves them as CSV with
deterministic bytes. Same seed and published numbers, same bytes.

Modules, one concept each: :mod:`~analysis.synth.targets` (what to reproduce),
:mod:`~analysis.synth.roles` (who is who), :mod:`~analysis.synth.patients` (patient facts),
:mod:`~analysis.synth.assessments` (measurements over time), :mod:`~analysis.synth.fit`
(the search that makes printed statistics hold), :mod:`~analysis.synth.verify` (the
generator's own check), :mod:`~analysis.synth.export` (CSV bytes); the doses come from
``analysis.synth.doses``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["build", "write", "DEFAULT_SEED"]

DEFAULT_SEED = 2017


def build(seed: int = DEFAULT_SEED, published: pd.DataFrame | None = None
          ) -> dict[str, pd.DataFrame]:
    """Generate the cohort.

    Parameters
    ----------
    seed : seed of ``numpy.random.default_rng`` streams (one per step, via ``SeedSequence``).
    published : the published numbers (:func:`analysis.published.load_published`); read from
        ``data/published`` when omitted.

    Returns
    -------
    dict with ``patients``, ``assessments`` and ``doses`` DataFrames (codebook columns).

    Raises
    ------
    analysis.synth.fit.FitError
        If a printed statistic cannot be met.
    analysis.errors.DataValidationError
        If the published numbers are inconsistent, or the cohort fails the schema or does not
        reproduce Figure 1 under the paper's methods (a generator bug).
    """
    import numpy as np

    from analysis.published import load_published
    from analysis.synth.assessments import make_assessments
    from analysis.synth.patients import make_patients
    from analysis.synth.roles import assign_roles
    from analysis.synth.targets import read_targets
    from analysis.synth.verify import verify

    if published is None:
        published = load_published()
    targets = read_targets(published)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    roles = assign_roles(targets, streams[0])
    patients = make_patients(roles, targets, streams[1])
    assessments = make_assessments(patients, roles, targets, streams[2])
    doses = _doses(patients, roles, streams[3], published)
    frames = {"patients": patients, "assessments": assessments, "doses": doses}
    verify(frames, targets)
    return frames


def _doses(patients: pd.DataFrame, roles: pd.DataFrame, rng, published: pd.DataFrame
           ) -> pd.DataFrame:
    import importlib

    import pandas as pd

    from analysis.synth.export import DOSE_COLUMNS

    try:
        module = importlib.import_module("analysis.synth.doses")
    except ModuleNotFoundError as exc:
        if exc.name != "analysis.synth.doses":
            raise
        return pd.DataFrame({c: pd.Series(dtype="string" if c != "dose_mg" else float)
                             for c in DOSE_COLUMNS})
    return module.make_doses(patients, roles, rng, published)


def write(frames: dict[str, pd.DataFrame], out_dir) -> dict:
    """Write the three tables as CSV into ``out_dir`` (see :func:`analysis.synth.export.write`)."""
    from analysis.synth.export import write as _write

    return _write(frames, out_dir)
