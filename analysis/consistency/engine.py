"""Run every consistency check on the printed numbers of ``data/published/numbers.csv``.

:func:`verdicts` reads only the rows' ``id``, ``key``, ``kind``, ``value``, ``decimals``,
``relation`` and ``status`` (printed rows only; assumed rows are reconstruction choices, not
printed numbers). It never reads the typed ``consistency``/``reason`` columns: every verdict is
computed. Which printed numbers a check combines is declared below, by id or key pattern
(Sharma 2017, Tables 1-3, Results, Discussion).

A check that concerns a quantity printed in several places runs once per printing, on that
printing's own value (a wrong value in one place never moves the verdict of a correct one).
The grids a check assumes come from :mod:`analysis.paper.grids` and the run's parameters
(``check_aza_step``, ``check_mtx_cap``, ``check_followup_n``); each verdict names them
(:attr:`analysis.consistency.core.Verdict.assumes`) and is reported in its class
(:data:`analysis.consistency.core.CLASSES`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import pandas as pd

from analysis.consistency.contingency import contingency_p, which_test
from analysis.consistency.core import (
    CLASSES,
    GRIDS,
    Grid,
    Verdict,
    dose_grid,
    with_assumptions,
)
from analysis.consistency.crosssource import (
    all_of,
    both_of,
    count_within,
    level_sum,
    none_significant,
    same_quantity,
    swapped_levels,
)
from analysis.consistency.granularity import (
    grim_mean,
    pct_change,
    pct_change_on_grid,
    percent_of_count,
    pooled_mean,
)
from analysis.consistency.joint import paired_joint
from analysis.consistency.methods import (
    declared_categorical_test,
    declared_continuous_test,
    paired_design,
)
from analysis.consistency.pvalues import paired_t_range, two_sample_p
from analysis.consistency.sprite import sd_on_grid
from analysis.errors import DataValidationError, ParameterError
from analysis.paper import rows
from analysis.paper.grids import DOSE_GRIDS, MIN_CORRELATION, RESOLUTIONS
from analysis.params import Params
from analysis.printed import Printed

__all__ = ["COLUMNS", "Numbers", "row_verdicts", "verdicts"]

#: Columns of the frame :func:`verdicts` returns.
COLUMNS = ("id", "check", "verdict", "class", "condition", "sentence", "inputs", "evidence")

#: Table 2/3 categorical blocks: block -> levels (row order as printed; analysis.paper.rows).
BLOCKS = {key: rows.level_keys(rows.row(key), "t2") for key in rows.CATEGORICAL}
#: Table 2/3 rows that are "positive" counts of a yes/no variable.
BINARY = rows.BINARY
#: Continuous rows of Tables 1-3 and the resolution their values are recorded at
#: (:data:`analysis.paper.grids.RESOLUTIONS`; None: continuous).
CONTINUOUS: dict[str, Grid | None] = {
    var: (None if res.step is None else Grid(res.label, res.step, 0.0, math.inf, res.source))
    for var, res in RESOLUTIONS.items()}

#: Drug dose series of the Results ("Change in the doses of DMARD"): drug -> (printed n id at
#: start, printed mode (value id, count id) or None).
DOSE_SERIES = {
    "aza": ("text.dose.tac.aza.start.n",
            ("text.dose.tac.aza.start.modal_dose", "text.dose.tac.aza.start.modal_n")),
    "mtx": ("text.dose.tac.mtx.start.n",
            ("text.dose.tac.mtx.start.modal_dose", "text.dose.tac.mtx.start.modal_n")),
    "mmf": ("text.dose.tac.mmf.start.n", None),
}
#: The patients a follow-up dose can come from when ``check_followup_n`` is "up_to_analysed".
ANALYSED = "fig1.tac_analysed"

#: Paired prednisone series: (prefix, group-size id (the largest n), words for that reading).
PREDNISONE = (
    ("dose.conv_resp.prednisone", "baseline", "m6_12", "fig1.conv_responders",
     "every conventional responder; n not printed"),
    ("dose.conv_fail.prednisone", "baseline", "m6_12", "fig1.conv_failures",
     "every conventional failure; n not printed"),
    ("dose.tac.prednisone", "start", "m3_6", "fig1.tac_analysed",
     "every tacrolimus patient; n not printed"),
    ("dose.tac.prednisone", "start", "y1", "fig1.tac_analysed",
     "every tacrolimus patient; n not printed"),
)


class Numbers:
    """Printed rows of the published table, looked up by id or key (assumed rows left out)."""

    def __init__(self, published: pd.DataFrame) -> None:
        need = {"id", "key", "kind", "value", "decimals", "relation", "status"}
        missing = need - set(published.columns)
        if missing:
            raise DataValidationError(
                f"published numbers: columns {sorted(missing)} are missing; rule: verdicts "
                f"need {sorted(need)}")
        printed = published[published["status"] == "printed"]
        self._rows = {r["id"]: r for r in printed.to_dict("records")}
        self.by_key: dict[str, list[str]] = {}
        for r in printed.to_dict("records"):
            self.by_key.setdefault(r["key"], []).append(r["id"])

    def __contains__(self, ident: str) -> bool:
        return ident in self._rows

    def ids(self) -> list[str]:
        return list(self._rows)

    def p(self, ident: str) -> Printed:
        """The printed number of row ``ident``."""
        try:
            r = self._rows[ident]
        except KeyError:
            raise DataValidationError(
                f"published numbers: no printed row with id {ident!r} (column 'id'); rule: "
                f"the consistency checks need it") from None
        return Printed(float(r["value"]), int(r["decimals"]), str(r["relation"]))

    def n(self, ident: str) -> int:
        """A printed count as an int."""
        return int(round(self.p(ident).value))

    def kind(self, ident: str) -> str:
        return str(self._rows[ident]["kind"])

    def key(self, ident: str) -> str:
        return str(self._rows[ident]["key"])

    def same_key(self, ident: str) -> list[str]:
        """Every printed row sharing ``ident``'s key (the printings of one quantity)."""
        return self.by_key.get(self.key(ident), [ident])


Found = tuple[list[str], Verdict, list[str]]  # (ids the verdict is about, verdict, inputs)


def _printings(nums: Numbers, ident: str) -> list[tuple[str, Printed]]:
    """Every printing of ``ident``'s quantity with its own printed value: a check about the
    quantity runs once per printing, on that printing's value."""
    return [(target, nums.p(target)) for target in nums.same_key(ident)]


def _key_printings(nums: Numbers, key: str) -> list[tuple[str, Printed]]:
    """:func:`_printings` of a key (none when the paper does not print it)."""
    ids = nums.by_key.get(key)
    return _printings(nums, ids[0]) if ids else []


def _percents(nums: Numbers) -> Iterator[Found]:
    """Each printed percentage against its printed count and denominator."""
    total, biopsied = nums.n("t1.title.n"), nums.n("text.t1.histology.n")
    for ident in nums.ids():
        m = re.fullmatch(r"t1\.(.+)\.pct", ident)
        if not m:
            continue
        var = m.group(1)
        denominator = biopsied if var.startswith("histology.") else total
        count_id = f"t1.{var}.n"
        r_id, nr_id = f"t2.{var}.resp", f"t2.{var}.nonresp"
        for target, pct in _printings(nums, ident):
            yield [target], percent_of_count(nums.n(count_id), denominator, pct), [count_id]
            if r_id in nums:
                count = nums.n(r_id) + nums.n(nr_id)
                yield ([target], percent_of_count(count, denominator, pct,
                                                  check="percent_vs_table2"), [r_id, nr_id])
    ratios = {
        "abstract.conv_response.pct": ("fig1.conv_responders", ("fig1.included",)),
        "text.conv.pm.response_pct": ("t2.myositis.pm.resp", ("t2.myositis.pm.resp",
                                                               "t2.myositis.pm.nonresp")),
        "text.conv.dm.response_pct": ("t2.myositis.dm.resp", ("t2.myositis.dm.resp",
                                                               "t2.myositis.dm.nonresp")),
        "text.conv.female.response_pct": ("t2.sex.female.resp", ("t2.sex.female.resp",
                                                                  "t2.sex.female.nonresp")),
        "text.conv.male.response_pct": ("t2.sex.male.resp", ("t2.sex.male.resp",
                                                              "t2.sex.male.nonresp")),
        "text.tac.myositis_improved.pct": ("text.tac.myositis_improved.n", ("fig1.tac_analysed",)),
        "text.tac.ild_improved.pct": ("text.tac.ild_improved.n", ("fig1.tac_analysed",)),
        "text.tac.both_improved.pct": ("text.tac.both_improved.n", ("fig1.tac_analysed",)),
    }
    for ident, (num, den) in ratios.items():
        denominator = sum(nums.n(d) for d in den)
        for target, pct in _printings(nums, ident):
            yield [target], percent_of_count(nums.n(num), denominator, pct), [num, *den]


def _levels(nums: Numbers) -> Iterator[Found]:
    """Table 1 counts against Table 2's columns; Table 3 within Table 2's nonresponders."""
    for ident in nums.ids():
        m = re.fullmatch(r"t1\.(.+)\.n", ident)
        if m and f"t2.{m.group(1)}.resp" in nums:
            parts = [f"t2.{m.group(1)}.resp", f"t2.{m.group(1)}.nonresp"]
            for target, count in _printings(nums, ident):
                v = level_sum(round(count.value), [nums.n(x) for x in parts],
                              f"Table 1 {m.group(1)}", "Table 2 responders + nonresponders")
                yield [target], v, parts
        m = re.fullmatch(r"t3\.(.+)\.resp", ident)
        if m and nums.kind(ident) == "count" and f"t2.{m.group(1)}.nonresp" in nums:
            var = m.group(1)
            parts = [f"t3.{var}.resp", f"t3.{var}.nonresp"]
            v = count_within(nums.n(parts[0]) + nums.n(parts[1]), nums.n(f"t2.{var}.nonresp"),
                             f"Table 3 {var} (responders + no response)",
                             f"Table 2 {var} nonresponders")
            yield parts, v, [f"t2.{var}.nonresp"]
    for block, levels in BLOCKS.items():
        pooled = {lv: nums.n(f"t1.{block}.{lv}.n") for lv in levels}
        split = {lv: (nums.n(f"t2.{block}.{lv}.resp"), nums.n(f"t2.{block}.{lv}.nonresp"))
                 for lv in levels}
        subset = {lv: (nums.n(f"t3.{block}.{lv}.resp"), nums.n(f"t3.{block}.{lv}.nonresp"))
                  for lv in levels}
        v = swapped_levels(block, pooled, split, subset)
        targets = [f"t1.{block}.{lv}.n" for pair in v.evidence["pairs"] for lv in pair]
        inputs = [f"{t}.{block}.{lv}.{c}" for t in ("t2", "t3") for lv in levels
                  for c in ("resp", "nonresp")]
        for target in targets or [f"t1.{block}.{levels[0]}.n"]:
            # the check used Table 1's value: only the printings with that value share it
            yield ([t for t, p in _printings(nums, target) if p == nums.p(target)], v, inputs)
    for table in ("t2", "t3"):
        for col in ("resp", "nonresp"):
            header = f"{table}.header.{col}.n"
            for block, levels in BLOCKS.items():
                if rows.row(block).denominator != "all":  # histology: only the biopsied
                    continue
                parts = [f"{table}.{block}.{lv}.{col}" for lv in levels]
                v = level_sum(nums.n(header), [nums.n(x) for x in parts],
                              f"{table} {block} column header", "the levels", "column_total")
                yield [header], v, parts
    claim, bound = "disc.honeycomb.tac_improved", "t3.honeycomb.present.resp"
    yield ([claim], count_within(nums.n(claim), nums.n(bound),
                                 "Discussion: patients with honeycombing who improved on "
                                 "tacrolimus", "Table 3 honeycombing responders"), [bound])
    for key, ids in nums.by_key.items():
        first = ids[0]
        for other in ids[1:]:
            v = same_quantity(nums.p(first), nums.p(other), f"{first} and {other} (one "
                              f"quantity, {key})", same_set=True)
            yield [other], v, [first]
    a, b = "text.dose.conv_fail.prednisone.m6_12.mean", "text.dose.conv.prednisone.m6_12.fail_mean"
    yield ([b], same_quantity(nums.p(a), nums.p(b), "prednisone at 6-12 months in the "
                              "conventional failures (paired series vs between-group sentence)",
                              same_set=False), [a])


def _resolution(v: Verdict, grid: Grid | None) -> Verdict:
    """A mean check on values of a declared resolution rests on it."""
    return v if grid is None else with_assumptions(v, grid.name)


def _continuous(nums: Numbers) -> Iterator[Found]:
    """Table 1 means against Table 2 group means; means on a declared resolution; two-sample
    p-values."""
    n_resp, n_non = nums.n("t2.header.resp.n"), nums.n("t2.header.nonresp.n")
    n3_resp, n3_non = nums.n("t3.header.resp.n"), nums.n("t3.header.nonresp.n")
    total = nums.n("t1.title.n")
    for var, grid in CONTINUOUS.items():
        t1 = f"t1.{var}.mean"
        groups = [(nums.p(f"t2.{var}.resp"), n_resp), (nums.p(f"t2.{var}.nonresp"), n_non)]
        for target, mean in _printings(nums, t1):
            yield ([target], _resolution(pooled_mean(mean, groups, grid), grid),
                   [f"t2.{var}.resp", f"t2.{var}.nonresp"])
        if grid is not None:
            for ident, big in ((t1, total), (f"t2.{var}.resp", n_resp),
                               (f"t2.{var}.nonresp", n_non), (f"t3.{var}.resp", n3_resp),
                               (f"t3.{var}.nonresp", n3_non)):
                reading = f"group size {big}; the number measured is not printed"
                for target, mean in _printings(nums, ident):
                    v = grim_mean(mean, list(range(big, 0, -1)), grid, reading)
                    yield [target], _resolution(v, grid), []
        sd = f"t1.{var}.sd"
        for target, p in _printings(nums, f"t2.{var}.p"):
            v = two_sample_p((groups[0][0], groups[1][0]), (n_resp, n_non), p, nums.p(sd),
                             allow_missing=True)
            yield [target], v, [f"t2.{var}.resp", f"t2.{var}.nonresp", sd]
        means3 = (nums.p(f"t3.{var}.resp"), nums.p(f"t3.{var}.nonresp"))
        for target, p in _printings(nums, f"t3.{var}.p"):
            v = two_sample_p(means3, (n3_resp, n3_non), p, None, allow_missing=True)
            yield [target], v, [f"t3.{var}.resp", f"t3.{var}.nonresp"]


def _dose_printed(nums: Numbers, key: str) -> tuple[str, Printed] | None:
    ids = nums.by_key.get(key)
    return (ids[0], nums.p(ids[0])) if ids else None


def _drug_grid(drug: str, params: Params) -> Grid:
    """The run's grid of ``drug``: the declared one, with the check alternatives of ``params``
    (``check_aza_step``; ``check_mtx_cap``, 0 = none: :func:`_sd_grid` then bounds it)."""
    if drug == "aza":
        return dose_grid("aza", step=params.check_aza_step)
    if drug == "mtx":
        return dose_grid("mtx", hi=params.check_mtx_cap or math.inf)
    return dose_grid(drug)


def _step_words(drug: str, grid: Grid) -> str:
    """A dose grid's step as a verdict's condition names it."""
    who = drug.upper() if drug != "prednisone" else "prednisone"
    return f"{who} doses in {grid.step:g}-mg steps"


def _sd_grid(drug: str, grid: Grid, mean: Printed, sd: Printed,
             n_max: int) -> tuple[Grid, list[str]]:
    """The grid an SD check enumerates, and the assumption it adds beyond the step.

    No sample of ``n`` values with mean ``m`` and SD ``s`` (n - 1 denominator) has a value
    above ``m + s (n - 1) / sqrt(n)`` (Samuelson's inequality), so the grid's top matters, and
    is named as an assumption, only when it is below that bound; an uncapped grid (top
    infinite) stops at the bound.
    """
    bound = mean.hi + sd.hi * (n_max - 1) / math.sqrt(n_max)
    top = math.floor(bound / grid.step + 1e-9) * grid.step
    if top <= grid.hi:
        name = grid.name if math.isfinite(grid.hi) else (
            f"{grid.name}: up to {top:g} mg, the largest dose the printed mean and SD allow")
        return Grid(name, grid.step, grid.lo, top, grid.source), []
    unit = DOSE_GRIDS[drug].unit
    return grid, [f"{drug.upper()} at most {grid.hi:g} {unit}"]


def _doses(nums: Numbers, params: Params) -> Iterator[Found]:
    """AZA, MTX and MMF at tacrolimus start, 3-6 months and 1 year (Results)."""
    analysed = nums.n(ANALYSED)
    for drug, (n_id, mode) in DOSE_SERIES.items():
        grid = _drug_grid(drug, params)
        step = _step_words(drug, grid)
        n0 = nums.n(n_id)
        fixed = (nums.p(mode[0]).value, nums.n(mode[1])) if mode else None
        if fixed and abs(fixed[0] / grid.step - round(fixed[0] / grid.step)) > 1e-9:
            raise ParameterError(f"the {drug.upper()} dose grid's step {grid.step:g} mg does not "
                                 f"contain the printed modal dose {fixed[0]:g} mg; choose a "
                                 f"step that divides it")
        start_mean_id, start_mean = _dose_printed(nums, f"dose.tac.{drug}.start.mean")
        start_sd = _dose_printed(nums, f"dose.tac.{drug}.start.sd")
        mode_ids = list(mode) if mode else []
        start_grid = grid.starting(grid.step)  # "taking" the drug: dose > 0
        taking = f"the {n0} patients taking it"
        for target, mean in _printings(nums, start_mean_id):
            yield [target], with_assumptions(grim_mean(mean, [n0], start_grid, taking),
                                             step), [n_id]
        for target, sd in _printings(nums, start_sd[0]) if start_sd else []:
            sd_grid, cap = _sd_grid(drug, start_grid, start_mean, sd, n0)
            v = sd_on_grid(start_mean, sd, [n0], sd_grid, fixed, taking)
            yield [target], with_assumptions(v, step, *cap), [n_id, start_mean_id, *mode_ids]
        if params.check_followup_n == "at_most_start":
            ns = list(range(n0, 0, -1))
            reading = f"the {n0} patients, or fewer with a dose recorded"
            follow = [step, f"n at follow-up at most the {n0} taking it at start"]
        else:
            ns = [n0, *(n for n in range(analysed, 0, -1) if n != n0)]
            reading = f"the {n0} patients taking it at start, or any number of the {analysed}"
            follow = [step]
        for time in ("m3_6", "y1"):
            mean = _dose_printed(nums, f"dose.tac.{drug}.{time}.mean")
            if mean is None:
                continue
            sd = _dose_printed(nums, f"dose.tac.{drug}.{time}.sd")
            for target, m in _printings(nums, mean[0]):
                yield [target], with_assumptions(grim_mean(m, ns, grid, reading), *follow), [n_id]
            for target, s in _printings(nums, sd[0]) if sd else []:
                sd_grid, cap = _sd_grid(drug, grid, mean[1], s, max(ns))
                v = sd_on_grid(mean[1], s, ns, sd_grid, None, reading)
                yield [target], with_assumptions(v, *follow, *cap), [n_id, mean[0]]
            inputs = [start_mean_id, mean[0]]
            for target, pct in _key_printings(nums, f"dose.tac.{drug}.{time}.pct_change"):
                yield [target], pct_change(start_mean, mean[1], pct), inputs
                v = pct_change_on_grid(start_mean, mean[1], pct, [n0], ns, grid)
                yield [target], with_assumptions(v, *follow), [*inputs, n_id]
            post_sd = sd[1] if sd else Printed(0.0, 0)  # "0 mg": every dose 0, SD 0
            p_inputs = [start_mean_id, start_sd[0], mean[0]] + ([sd[0]] if sd else [])
            pct = _dose_printed(nums, f"dose.tac.{drug}.{time}.pct_change")
            for target, p in _key_printings(nums, f"dose.tac.{drug}.{time}.p"):
                v = paired_t_range((start_mean, start_sd[1]), (mean[1], post_sd), p,
                                   list(range(n0, 1, -1)), taking)
                yield [target], v, p_inputs
                if sd:  # "0 mg" (MMF at 1 year): every dose 0, the correlation is undefined
                    yield ([target], _joint((start_mean, start_sd[1]), (mean[1], sd[1]), p,
                                            list(range(n0, 1, -1)), pct, params, taking),
                           [*p_inputs, n_id, *([pct[0]] if pct else [])])


def _joint(pre: tuple[Printed, Printed], post: tuple[Printed, Printed], p: Printed,
           ns: list[int], pct: tuple[str, Printed] | None, params: Params,
           reading: str) -> Verdict:
    """:func:`~analysis.consistency.joint.paired_joint` with the run's plausibility bound
    (``check_min_correlation``) named as the verdict's condition when it decides."""
    floor = params.check_min_correlation
    words = (MIN_CORRELATION.name if floor == MIN_CORRELATION.value
             else f"within-patient correlation of the dose before and after at least {floor:g}")
    return paired_joint(pre, post, p, ns, pct[1] if pct else None, floor, words, reading)


def _prednisone(nums: Numbers, params: Params) -> Iterator[Found]:
    """Paired prednisone series: p over r and n, and everything printed together
    (:func:`_joint`); means on the prednisone grid."""
    grid = GRIDS["prednisone"]
    step = _step_words("prednisone", grid)
    for prefix, t0, t1, size_id, reading in PREDNISONE:
        big = nums.n(size_id)
        ns = list(range(big, 1, -1))
        pre_m, pre_s = (_dose_printed(nums, f"{prefix}.{t0}.{x}") for x in ("mean", "sd"))
        post_m, post_s = (_dose_printed(nums, f"{prefix}.{t1}.{x}") for x in ("mean", "sd"))
        for target, p in _key_printings(nums, f"{prefix}.{t1}.p"):
            v = paired_t_range((pre_m[1], pre_s[1]), (post_m[1], post_s[1]), p, ns, reading)
            inputs = [pre_m[0], pre_s[0], post_m[0], post_s[0], size_id]
            yield [target], v, inputs
            pct = _dose_printed(nums, f"{prefix}.{t1}.pct_change")
            v = _joint((pre_m[1], pre_s[1]), (post_m[1], post_s[1]), p, ns, pct, params,
                       reading)
            yield [target], v, [*inputs, *([pct[0]] if pct else [])]
        for ident, _ in (pre_m, post_m):
            for target, m in _printings(nums, ident):
                yield [target], with_assumptions(grim_mean(m, ns, grid, reading), step), [size_id]
        for target, pct in _key_printings(nums, f"{prefix}.{t1}.pct_change"):
            yield [target], pct_change(pre_m[1], post_m[1], pct), [pre_m[0], post_m[0]]


def _tables(nums: Numbers) -> Iterator[Found]:
    """Every categorical p of Tables 2 and 3 against its printed counts and margins."""
    for table in ("t2", "t3"):
        sizes = (nums.n(f"{table}.header.resp.n"), nums.n(f"{table}.header.nonresp.n"))
        for block, levels in BLOCKS.items():
            p_id = f"{table}.{block}.p"
            if p_id not in nums:
                continue
            cells = [[f"{table}.{block}.{lv}.resp", f"{table}.{block}.{lv}.nonresp"]
                     for lv in levels]
            counts = [[nums.n(a), nums.n(b)] for a, b in cells]
            for target, p in _printings(nums, p_id):
                yield [target], contingency_p(counts, p), [c for pair in cells for c in pair]
        for var in BINARY:
            p_id = f"{table}.{var}.p"
            a, b = nums.n(f"{table}.{var}.resp"), nums.n(f"{table}.{var}.nonresp")
            counts = [[a, b], [sizes[0] - a, sizes[1] - b]]
            for target, p in _printings(nums, p_id):
                yield ([target], contingency_p(counts, p),
                       [f"{table}.{var}.resp", f"{table}.{var}.nonresp",
                        f"{table}.header.resp.n", f"{table}.header.nonresp.n"])
    cells = {lv: (nums.n(f"t2.myositis.{lv}.resp"), nums.n(f"t2.myositis.{lv}.nonresp"))
             for lv in BLOCKS["myositis"]}
    readings = {"the 3-category myositis row (PM/DM/CADM)": list(cells.values()),
                "a 2 x 2 PM vs DM table": [cells["pm"], cells["dm"]]}
    for target in ("abstract.pm_vs_dm.p", "text.conv.pm_vs_dm.p"):
        yield ([target], which_test(readings, nums.p(target)),
               [f"t2.myositis.{lv}.{g}" for lv in cells for g in ("resp", "nonresp")])


def _methods(nums: Numbers) -> Iterator[Found]:
    """The tests the Methods name, against the data they are applied to (Statistical
    analysis): the paired t test for the two-group tables and for the dose series; the
    categorical rule for every printed categorical p; the tests for continuous values for the
    between-group prednisone p."""
    for table in ("t2", "t3"):
        heads = [f"{table}.header.resp.n", f"{table}.header.nonresp.n"]
        sizes = (nums.n(heads[0]), nums.n(heads[1]))
        yield ([f"methods.paired_t.{table}"],
               paired_design(sizes, False, f"the continuous rows of Table {table[1]}, "
                             "responders vs the others"), heads)
        for block in (*BLOCKS, *BINARY):
            p_id = f"{table}.{block}.p"
            if p_id not in nums:
                continue
            if block in BLOCKS:
                cells = [[f"{table}.{block}.{lv}.resp", f"{table}.{block}.{lv}.nonresp"]
                         for lv in BLOCKS[block]]
                counts = [[nums.n(a), nums.n(b)] for a, b in cells]
                inputs = [c for pair in cells for c in pair]
            else:
                a, b = nums.n(f"{table}.{block}.resp"), nums.n(f"{table}.{block}.nonresp")
                counts = [[a, b], [sizes[0] - a, sizes[1] - b]]
                inputs = [f"{table}.{block}.resp", f"{table}.{block}.nonresp", *heads]
            for target, p in _printings(nums, p_id):
                yield [target], declared_categorical_test(counts, p), inputs
    for prefix, t0, _, size_id, _ in PREDNISONE:
        n = nums.n(size_id)
        yield (["methods.paired_t.doses"],
               paired_design((n, n), True, f"prednisone from {t0} ({prefix.split('.')[1]}, "
                             f"up to {n} patients)"), [size_id])
    for drug, (n_id, _) in DOSE_SERIES.items():
        n = nums.n(n_id)
        yield (["methods.paired_t.doses"],
               paired_design((n, n), True, f"{drug.upper()} from tacrolimus start ({n} "
                             "patients)"), [n_id])
    sizes = ("fig1.conv_responders", "fig1.conv_failures")
    for target, p in _key_printings(nums, "dose.conv.prednisone.m6_12.p_between"):
        yield ([target], declared_continuous_test(
            (nums.n(sizes[0]), nums.n(sizes[1])), p,
            "prednisone at 6-12 months, responders vs failures"), list(sizes))


#: "None" statements of the Results: statement id -> (table, rows it names).
NONE_STATEMENTS = {
    "text.conv.none_significant": ("t2", ("age", "race", "ana", "jo1", "ssa", "mi2", "pl7",
                                          "srp", "ku", "honeycomb", "fvc", "tlc", "dlco")),
    "text.tac.none_different": ("t3", ("age", "sex", "race", "honeycomb")),
}


def _statements(nums: Numbers, params: Params) -> Iterator[Found]:
    """The text's counts against the tables, and its "all" and "none" statements (Results,
    Discussion)."""
    n_tac = nums.n(ANALYSED)
    for drug in DOSE_SERIES:
        n_id = DOSE_SERIES[drug][0]
        parts = [f"t3.{drug}.resp", f"t3.{drug}.nonresp"]
        yield ([n_id], count_within(
            nums.n(n_id), nums.n(parts[0]) + nums.n(parts[1]),
            f"patients taking {drug.upper()} at tacrolimus start",
            f"Table 3 {drug.upper()} (conventional DMARD), responders + no response"), parts)
        mode = DOSE_SERIES[drug][1]
        if mode:
            yield ([mode[1]], count_within(nums.n(mode[1]), nums.n(n_id),
                                           f"patients on the modal {drug.upper()} dose",
                                           f"patients taking {drug.upper()}"), [n_id])
    aza = "text.dose.tac.aza.start.n"
    yield (["text.dose.tac.aza.discontinued"], count_within(
        nums.n("text.dose.tac.aza.discontinued"), nums.n(aza),
        "patients who discontinued AZA", "patients taking AZA at tacrolimus start"), [aza])
    mmf = "text.dose.tac.mmf.start.n"
    yield (["text.dose.tac.mmf.started"], count_within(
        nums.n("text.dose.tac.mmf.started"), n_tac - nums.n(mmf),
        "patients who initiated MMF by 1 year",
        f"tacrolimus patients not taking MMF at its start ({n_tac} - {nums.n(mmf)})"),
        [mmf, ANALYSED])
    yield (["text.tac.hospitalised.n"], count_within(
        nums.n("text.tac.hospitalised.n"), n_tac, "patients hospitalised for an exacerbation",
        "tacrolimus patients analysed"), [ANALYSED])
    improved = {k: f"text.tac.{k}_improved.n" for k in ("myositis", "ild", "both")}
    for key in ("myositis", "ild"):
        name = "ILD" if key == "ild" else key
        yield ([improved[key]], count_within(nums.n(improved[key]), n_tac,
                                             f"patients whose {name} improved on tacrolimus",
                                             "tacrolimus patients analysed"), [ANALYSED])
    yield ([improved["both"]], both_of(nums.n(improved["both"]), nums.n(improved["myositis"]),
                                       nums.n(improved["ild"]), n_tac,
                                       "improvement in myositis and in ILD on tacrolimus"),
           [improved["myositis"], improved["ild"], ANALYSED])
    yield ([improved["both"]], level_sum(nums.n("fig1.tac_responders"),
                                         [nums.n(improved["both"])],
                                         "Figure 1 tacrolimus responders (improvement in both)",
                                         "the text's patients improved in both",
                                         "same_count"), ["fig1.tac_responders"])
    hist = "text.t1.histology.n"
    levels = [f"t1.histology.{lv}.n" for lv in BLOCKS["histology"]]
    yield ([hist], level_sum(nums.n(hist), [nums.n(x) for x in levels], "patients biopsied",
                             "Table 1 histology levels"), levels)
    cols = [f"t2.histology.{lv}.{c}" for lv in BLOCKS["histology"] for c in ("resp", "nonresp")]
    yield ([hist], level_sum(nums.n(hist), [nums.n(x) for x in cols], "patients biopsied",
                             "Table 2 histology, both columns"), cols)
    jo1 = ["t3.jo1.resp", "t3.jo1.nonresp"]
    yield (["text.t3.jo1.resp"], all_of(nums.n("text.t3.jo1.resp"), [nums.n(x) for x in jo1],
                                        "Results: all patients with anti-Jo1 responded to "
                                        "tacrolimus", "Table 3 anti-Jo1, responders + no "
                                        "response"), jo1)
    refractory = nums.n("t2.jo1.nonresp")
    outside = nums.n("fig1.conv_failures") - n_tac
    v = all_of(nums.n("t3.jo1.resp"), [nums.n(x) for x in jo1],
               f"Discussion: every anti-Jo1 patient refractory to conventional treatment who "
               f"received tacrolimus improved ({refractory} refractory in Table 2; the "
               f"{refractory - sum(nums.n(x) for x in jo1)} others must be among the "
               f"{outside} failures outside the tacrolimus analysis)",
               "Table 3 anti-Jo1, responders + no response")
    if refractory - sum(nums.n(x) for x in jo1) > outside:
        v = count_within(refractory - sum(nums.n(x) for x in jo1), outside,
                         "anti-Jo1 failures outside Table 3", "failures outside the analysis")
    yield ["disc.jo1.all_improved"], v, [*jo1, "t2.jo1.nonresp", "fig1.conv_failures", ANALYSED]
    for ident, (table, names) in NONE_STATEMENTS.items():
        ps = {name: nums.p(f"{table}.{name}.p") for name in names}
        yield ([ident], none_significant(ps, params.alpha, f"Table {table[1]}"),
               [f"{table}.{name}.p" for name in names])


def _groups(nums: Numbers, params: Params) -> Iterator[Found]:
    """Every check group, in order."""
    for group in (_percents, _levels, _continuous):
        yield from group(nums)
    yield from _doses(nums, params)
    yield from _prednisone(nums, params)
    yield from _tables(nums)
    yield from _methods(nums)
    yield from _statements(nums, params)


def verdicts(published: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """Every consistency check on the printed numbers, one row per (published id, check).

    Parameters
    ----------
    published : pandas.DataFrame
        As :func:`analysis.published.load_published` returns; only ``id``, ``key``, ``kind``,
        ``value``, ``decimals``, ``relation`` and ``status`` are read (never ``consistency``
        or ``reason``).
    params : analysis.params.Params, optional
        The run's parameters; the checks read ``check_aza_step``, ``check_mtx_cap``,
        ``check_followup_n`` and ``check_min_correlation`` (default: the declarations of
        :mod:`analysis.paper.grids`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``id`` (the printed number the verdict is about), ``check``,
        ``verdict`` ("consistent", "inconsistent", "undecidable"), ``class`` (one of
        :data:`analysis.consistency.core.CLASSES`), ``condition`` (what the verdict rests on
        beyond the printed numbers, in words; "" for none), ``sentence`` (the evidence as one
        line), ``inputs`` (other ids the check used, comma-separated), ``evidence`` (the
        evidence numbers as JSON). A check that concerns several printings of one quantity
        runs on each printing's own value and gives each its own row; rows are sorted by id,
        then check.

    Notes
    -----
    Two printings of one quantity that cannot both hold (``same_quantity``) do not say which is
    wrong. The verdict goes to the printing that its own other checks already prove impossible
    when only one of the two is; otherwise to the later printing (as before), so a correct
    printing keeps its own verdict when the other is proven wrong.
    """
    nums = Numbers(published)
    params = params or Params()
    records = []
    for targets, v, inputs in _groups(nums, params):
        for target in targets:
            records.append({
                "id": target, "check": v.check, "verdict": v.verdict, "class": v.klass,
                "condition": v.condition, "sentence": v.sentence,
                "inputs": ",".join(i for i in dict.fromkeys(inputs) if i != target),
                "evidence": json.dumps(_jsonable(v.evidence), sort_keys=True,
                                       allow_nan=False),
            })
    records = _blame_printing(records)
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame = frame.drop_duplicates(subset=["id", "check", "sentence"])
    return frame.sort_values(["id", "check"], kind="stable").reset_index(drop=True)


def _blame_printing(records: list[dict]) -> list[dict]:
    """Move a failed ``same_quantity`` verdict (made on the later printing, the earlier one as
    its input) to the earlier printing when only that one is proven impossible by its own
    checks (see :func:`verdicts`, Notes)."""
    own = {r["id"] for r in records
           if r["verdict"] == "inconsistent" and r["check"] != "same_quantity"}
    out = []
    for r in records:
        if r["check"] == "same_quantity" and r["verdict"] == "inconsistent":
            first = r["inputs"]
            if first in own and r["id"] not in own:
                r = {**r, "id": first, "inputs": r["id"]}
        out.append(r)
    return out


def _jsonable(x: object) -> object:
    """Evidence as strict JSON: NaN -> null, tuples -> lists, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    if x is None or isinstance(x, bool | int | float | str):
        return x
    return str(x)


def row_verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """One verdict per printed number from the per-check frame of :func:`verdicts`.

    A number takes the strongest class any of its checks gives, in the order of
    :data:`analysis.consistency.core.CLASSES` (impossible, impossible under an assumption,
    possible only if n differs, undecidable, consistent); the first such check in check-name
    order is named.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``verdict`` (the check's own verdict: "consistent", "inconsistent",
        "undecidable"), ``class``, ``condition`` (of the deciding check), ``check`` (the
        deciding check, "" when consistent), ``sentence`` (its evidence line, "" when
        consistent), ``n_checks``; one row per id, sorted by id.
    """
    rank = {c: i for i, c in enumerate(CLASSES)}
    ordered = frame.assign(_rank=frame["class"].map(rank)).sort_values(
        ["id", "_rank", "check"], kind="stable")
    first = ordered.groupby("id", sort=True).head(1).set_index("id")
    shown = first["class"] != "consistent"
    out = pd.DataFrame({
        "id": first.index,
        "verdict": first["verdict"].to_numpy(),
        "class": first["class"].to_numpy(),
        "condition": first["condition"].to_numpy(),
        "check": first["check"].where(shown, "").to_numpy(),
        "sentence": first["sentence"].where(shown, "").to_numpy(),
        "n_checks": frame.groupby("id").size().reindex(first.index).to_numpy(),
    })
    return out.reset_index(drop=True)
