"""The dose grids declared once (analysis.paper.grids) and their two readers: the consistency
checks (analysis.consistency.core) and the synthetic cohort's generator (analysis.synth.doses).

Truth: every value the generator can produce lies on the declared grid (enumerated here value
by value with ``fractions.Fraction``, not with the module's own ``on_grid``), so a verdict the
checks give on the declared grid covers every dose the reconstruction writes.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from analysis.consistency.core import GRIDS as CHECK_GRIDS
from analysis.consistency.core import dose_grid
from analysis.paper.grids import DOSE_GRIDS, MTX_WEEKLY_CAP, RESOLUTIONS, on_grid
from analysis.params import Params
from analysis.synth.doses import GRIDS as SYNTH_GRIDS


def _declared(drug: str) -> set[Fraction]:
    g = DOSE_GRIDS[drug]
    step, lo, hi = Fraction(str(g.step)), Fraction(str(g.lo)), Fraction(str(g.hi))
    return {lo + k * step for k in range(int((hi - lo) / step) + 1)}


def _generated(name: str) -> set[Fraction]:
    g = SYNTH_GRIDS[name]
    step = Fraction(str(g.step))
    values = {Fraction(0)}  # a stopped drug
    for low in (g.low, g.follow_low):
        k = Fraction(str(low))
        while k <= Fraction(str(g.high)):
            values.add(k)
            k += step
    return values | {Fraction(str(w)) for w in (*g.whole_start, *g.whole_follow)}


@pytest.mark.parametrize("name", sorted(SYNTH_GRIDS))
def test_generator_grids_are_subsets_of_the_declared_ones(name):
    drug = name.lower()
    extra = _generated(name) - _declared(drug)
    assert not extra, f"{name}: generated doses off the declared grid: {sorted(extra)}"
    assert all(on_grid(float(v), DOSE_GRIDS[drug]) for v in _generated(name))


def test_checks_read_the_declared_grids():
    for drug, g in DOSE_GRIDS.items():
        assert (CHECK_GRIDS[drug].step, CHECK_GRIDS[drug].lo, CHECK_GRIDS[drug].hi) == (
            g.step, g.lo, g.hi)
    assert DOSE_GRIDS["mtx"].hi == MTX_WEEKLY_CAP.value == 30.0
    # the check parameters default to the declarations
    assert Params().check_aza_step == DOSE_GRIDS["aza"].step
    assert Params().check_mtx_cap == MTX_WEEKLY_CAP.value
    # an alternative: 12.5-mg steps (halves of 75-mg tablets), still up to 300 mg
    half = dose_grid("aza", step=12.5)
    assert (half.step, half.hi) == (12.5, 300.0) and 37.5 / half.step == 3
    assert all(g.source for g in DOSE_GRIDS.values()) and MTX_WEEKLY_CAP.source
    assert all(r.source and (r.step is None or r.label) for r in RESOLUTIONS.values())
