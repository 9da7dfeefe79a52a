"""Run every consistency check on the printed numbers of ``data/published/numbers.csv``.

:func:`verdicts` reads only the rows' ``id``, ``key``, ``kind``, ``value``, ``decimals``,
``relation`` and ``status`` (printed rows only; assumed rows are reconstruction choices, not
printed numbers). It never reads the typed ``consistency``/``reason`` columns: every verdict is
computed. Which printed numbers a check combines is declared below, by id or key pattern
(Sharma 2017, Tables 1-3, Results, Discussion).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import pandas as pd

from analysis.consistency.contingency import contingency_p, which_test
from analysis.consistency.core import GRIDS, Verdict
from analysis.consistency.crosssource import (
    count_within,
    level_sum,
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
from analysis.consistency.pvalues import paired_t_range, two_sample_p
from analysis.consistency.sprite import sd_on_grid
from analysis.errors import DataValidationError
from analysis.paper import rows
from analysis.printed import Printed

__all__ = ["COLUMNS", "Numbers", "row_verdicts", "verdicts"]

#: Columns of the frame :func:`verdicts` returns.
COLUMNS = ("id", "check", "verdict", "sentence", "inputs", "evidence")

#: Table 2/3 categorical blocks: block -> levels (row order as printed; analysis.paper.rows).
BLOCKS = {key: rows.level_keys(rows.row(key), "t2") for key in rows.CATEGORICAL}
#: Table 2/3 rows that are "positive" counts of a yes/no variable.
BINARY = rows.BINARY
#: Continuous rows of Tables 1-3 and whether their values are whole numbers.
CONTINUOUS = {key: GRIDS["whole"] if rows.row(key).whole_numbers else None
              for key in rows.CONTINUOUS}

#: Drug dose series of the Results ("Change in the doses of DMARD"): drug -> (grid, printed n
#: id at start, printed mode (value id, count id) or None).
DOSE_SERIES = {
    "aza": ("aza", "text.dose.tac.aza.start.n",
            ("text.dose.tac.aza.start.modal_dose", "text.dose.tac.aza.start.modal_n")),
    "mtx": ("mtx", "text.dose.tac.mtx.start.n",
            ("text.dose.tac.mtx.start.modal_dose", "text.dose.tac.mtx.start.modal_n")),
    "mmf": ("mmf", "text.dose.tac.mmf.start.n", None),
}

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
        for target in nums.same_key(ident):
            yield ([target], percent_of_count(nums.n(count_id), denominator, nums.p(target)),
                   [count_id])
        r_id, nr_id = f"t2.{var}.resp", f"t2.{var}.nonresp"
        if r_id in nums:
            count = nums.n(r_id) + nums.n(nr_id)
            for target in nums.same_key(ident):
                yield ([target], percent_of_count(count, denominator, nums.p(target),
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
        for target in nums.same_key(ident):
            yield ([target], percent_of_count(nums.n(num), denominator, nums.p(target)),
                   [num, *den])


def _levels(nums: Numbers) -> Iterator[Found]:
    """Table 1 counts against Table 2's columns; Table 3 within Table 2's nonresponders."""
    for ident in nums.ids():
        m = re.fullmatch(r"t1\.(.+)\.n", ident)
        if m and f"t2.{m.group(1)}.resp" in nums:
            parts = [f"t2.{m.group(1)}.resp", f"t2.{m.group(1)}.nonresp"]
            v = level_sum(nums.n(ident), [nums.n(x) for x in parts], f"Table 1 {m.group(1)}",
                          "Table 2 responders + nonresponders")
            yield nums.same_key(ident), v, parts
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
            yield nums.same_key(target), v, inputs
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


def _continuous(nums: Numbers) -> Iterator[Found]:
    """Table 1 means against Table 2 group means; whole-number means; two-sample p-values."""
    n_resp, n_non = nums.n("t2.header.resp.n"), nums.n("t2.header.nonresp.n")
    n3_resp, n3_non = nums.n("t3.header.resp.n"), nums.n("t3.header.nonresp.n")
    total = nums.n("t1.title.n")
    for var, grid in CONTINUOUS.items():
        t1 = f"t1.{var}.mean"
        groups = [(nums.p(f"t2.{var}.resp"), n_resp), (nums.p(f"t2.{var}.nonresp"), n_non)]
        v = pooled_mean(nums.p(t1), groups, grid)
        yield nums.same_key(t1), v, [f"t2.{var}.resp", f"t2.{var}.nonresp"]
        if grid is not None:
            for ident, big in ((t1, total), (f"t2.{var}.resp", n_resp),
                               (f"t2.{var}.nonresp", n_non), (f"t3.{var}.resp", n3_resp),
                               (f"t3.{var}.nonresp", n3_non)):
                v = grim_mean(nums.p(ident), list(range(big, 0, -1)), grid,
                              f"group size {big}; the number measured is not printed")
                yield nums.same_key(ident), v, []
        sd = f"t1.{var}.sd"
        v = two_sample_p((groups[0][0], groups[1][0]), (n_resp, n_non), nums.p(f"t2.{var}.p"),
                         nums.p(sd), allow_missing=True)
        yield nums.same_key(f"t2.{var}.p"), v, [f"t2.{var}.resp", f"t2.{var}.nonresp", sd]
        v = two_sample_p((nums.p(f"t3.{var}.resp"), nums.p(f"t3.{var}.nonresp")),
                         (n3_resp, n3_non), nums.p(f"t3.{var}.p"), None, allow_missing=True)
        yield nums.same_key(f"t3.{var}.p"), v, [f"t3.{var}.resp", f"t3.{var}.nonresp"]


def _dose_printed(nums: Numbers, key: str) -> tuple[str, Printed] | None:
    ids = nums.by_key.get(key)
    return (ids[0], nums.p(ids[0])) if ids else None


def _doses(nums: Numbers) -> Iterator[Found]:
    """AZA, MTX and MMF at tacrolimus start, 3-6 months and 1 year (Results)."""
    for drug, (grid_name, n_id, mode) in DOSE_SERIES.items():
        grid = GRIDS[grid_name]
        n0 = nums.n(n_id)
        start_grid = grid.starting(grid.step)  # "taking" the drug: dose > 0
        fixed = (nums.p(mode[0]).value, nums.n(mode[1])) if mode else None
        start_mean_id, start_mean = _dose_printed(nums, f"dose.tac.{drug}.start.mean")
        start_sd = _dose_printed(nums, f"dose.tac.{drug}.start.sd")
        mode_ids = list(mode) if mode else []
        yield (nums.same_key(start_mean_id),
               grim_mean(start_mean, [n0], start_grid, f"the {n0} patients taking it"), [n_id])
        if start_sd:
            v = sd_on_grid(start_mean, start_sd[1], [n0], start_grid, fixed,
                           f"the {n0} patients taking it")
            yield nums.same_key(start_sd[0]), v, [n_id, start_mean_id, *mode_ids]
        ns = list(range(n0, 0, -1))
        reading = f"the {n0} patients, or fewer with a dose recorded"
        for time in ("m3_6", "y1"):
            mean = _dose_printed(nums, f"dose.tac.{drug}.{time}.mean")
            if mean is None:
                continue
            sd = _dose_printed(nums, f"dose.tac.{drug}.{time}.sd")
            yield nums.same_key(mean[0]), grim_mean(mean[1], ns, grid, reading), [n_id]
            if sd:
                yield (nums.same_key(sd[0]), sd_on_grid(mean[1], sd[1], ns, grid, None, reading),
                       [n_id, mean[0]])
            pct = _dose_printed(nums, f"dose.tac.{drug}.{time}.pct_change")
            if pct:
                inputs = [start_mean_id, mean[0]]
                yield nums.same_key(pct[0]), pct_change(start_mean, mean[1], pct[1]), inputs
                v = pct_change_on_grid(start_mean, mean[1], pct[1], [n0], ns, grid)
                yield nums.same_key(pct[0]), v, [*inputs, n_id]
            p = _dose_printed(nums, f"dose.tac.{drug}.{time}.p")
            if p:
                post_sd = sd[1] if sd else Printed(0.0, 0)  # "0 mg": every dose 0, SD 0
                v = paired_t_range((start_mean, start_sd[1]), (mean[1], post_sd), p[1],
                                   list(range(n0, 1, -1)), f"the {n0} patients taking it")
                yield nums.same_key(p[0]), v, [start_mean_id, start_sd[0], mean[0]] + (
                    [sd[0]] if sd else [])


def _prednisone(nums: Numbers) -> Iterator[Found]:
    """Paired prednisone series: p over r and n; means on the prednisone grid."""
    grid = GRIDS["prednisone"]
    for prefix, t0, t1, size_id, reading in PREDNISONE:
        big = nums.n(size_id)
        ns = list(range(big, 1, -1))
        pre_m, pre_s = (_dose_printed(nums, f"{prefix}.{t0}.{x}") for x in ("mean", "sd"))
        post_m, post_s = (_dose_printed(nums, f"{prefix}.{t1}.{x}") for x in ("mean", "sd"))
        p = _dose_printed(nums, f"{prefix}.{t1}.p")
        v = paired_t_range((pre_m[1], pre_s[1]), (post_m[1], post_s[1]), p[1], ns, reading)
        yield nums.same_key(p[0]), v, [pre_m[0], pre_s[0], post_m[0], post_s[0], size_id]
        for ident, m in (pre_m, post_m):
            yield nums.same_key(ident), grim_mean(m, ns, grid, reading), [size_id]
        pct = _dose_printed(nums, f"{prefix}.{t1}.pct_change")
        if pct:
            v = pct_change(pre_m[1], post_m[1], pct[1])
            yield nums.same_key(pct[0]), v, [pre_m[0], post_m[0]]


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
            yield (nums.same_key(p_id), contingency_p(counts, nums.p(p_id)),
                   [c for pair in cells for c in pair])
        for var in BINARY:
            p_id = f"{table}.{var}.p"
            a, b = nums.n(f"{table}.{var}.resp"), nums.n(f"{table}.{var}.nonresp")
            counts = [[a, b], [sizes[0] - a, sizes[1] - b]]
            yield (nums.same_key(p_id), contingency_p(counts, nums.p(p_id)),
                   [f"{table}.{var}.resp", f"{table}.{var}.nonresp",
                    f"{table}.header.resp.n", f"{table}.header.nonresp.n"])
    cells = {lv: (nums.n(f"t2.myositis.{lv}.resp"), nums.n(f"t2.myositis.{lv}.nonresp"))
             for lv in BLOCKS["myositis"]}
    readings = {"the 3-category myositis row (PM/DM/CADM)": list(cells.values()),
                "a 2 x 2 PM vs DM table": [cells["pm"], cells["dm"]]}
    for target in ("abstract.pm_vs_dm.p", "text.conv.pm_vs_dm.p"):
        yield ([target], which_test(readings, nums.p(target)),
               [f"t2.myositis.{lv}.{g}" for lv in cells for g in ("resp", "nonresp")])


CHECK_GROUPS = (_percents, _levels, _continuous, _doses, _prednisone, _tables)


def verdicts(published: pd.DataFrame) -> pd.DataFrame:
    """Every consistency check on the printed numbers, one row per (published id, check).

    Parameters
    ----------
    published : pandas.DataFrame
        As :func:`analysis.published.load_published` returns; only ``id``, ``key``, ``kind``,
        ``value``, ``decimals``, ``relation`` and ``status`` are read (never ``consistency``
        or ``reason``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``id`` (the printed number the verdict is about), ``check``,
        ``verdict`` ("consistent", "inconsistent", "undecidable"), ``sentence`` (the evidence
        as one line), ``inputs`` (other ids the check used, comma-separated), ``evidence``
        (the evidence numbers as JSON). A check that concerns several printings of one
        quantity gives each its own row; rows are sorted by id, then check.
    """
    nums = Numbers(published)
    records = []
    for group in CHECK_GROUPS:
        for targets, v, inputs in group(nums):
            for target in targets:
                records.append({
                    "id": target, "check": v.check, "verdict": v.verdict,
                    "sentence": v.sentence,
                    "inputs": ",".join(i for i in dict.fromkeys(inputs) if i != target),
                    "evidence": json.dumps(_jsonable(v.evidence), sort_keys=True,
                                           allow_nan=False),
                })
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame = frame.drop_duplicates(subset=["id", "check", "sentence"])
    return frame.sort_values(["id", "check"], kind="stable").reset_index(drop=True)


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

    A number is "inconsistent" when any check proves it cannot hold (the first such check,
    in check-name order, is named); otherwise "undecidable" when some check could not decide;
    otherwise "consistent".

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``verdict``, ``check`` (the deciding check, "" when consistent),
        ``sentence`` (its evidence line), ``n_checks``; one row per id, sorted by id.
    """
    rank = {"inconsistent": 0, "undecidable": 1, "consistent": 2}
    ordered = frame.assign(_rank=frame["verdict"].map(rank)).sort_values(
        ["id", "_rank", "check"], kind="stable")
    first = ordered.groupby("id", sort=True).head(1).set_index("id")
    out = pd.DataFrame({
        "id": first.index,
        "verdict": first["verdict"].to_numpy(),
        "check": first["check"].where(first["verdict"] != "consistent", "").to_numpy(),
        "sentence": first["sentence"].where(first["verdict"] != "consistent", "").to_numpy(),
        "n_checks": frame.groupby("id").size().reindex(first.index).to_numpy(),
    })
    return out.reset_index(drop=True)
