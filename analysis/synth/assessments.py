"""Measurements over time of the reconstructed cohort (``assessments.csv``).

Sharma 2017, Methods (*Response to treatment*) and Tables 1-3. Who responded is never written
down: it follows from these measurements under ``analysis.response``. So the generator builds,
for each patient, a course that meets the plan of :mod:`analysis.synth.roles`:

1. **Index** (ILD diagnosis, month 0): CK, aldolase, FVC, TLC, DLCO drawn from plausible,
   correlated distributions (CK by myositis type, low in CADM; aldolase with CK; the three PFTs
   sharing a latent severity), then fitted by :func:`analysis.synth.fit.solve` to Table 1's means
   and SDs and Table 2's group means and p-values. Where no full set of values can print as
   published, the fewest values are left blank (:func:`analysis.synth.targets.observed_counts`).
2. **6 months** (conventional response) and **12 months** (while still on conventional
   treatment): each value is the index value times a change drawn inside a band that decides
   the criterion with a margin: clearly met, clearly not met, or deliberately between the
   paper's cutoff and a nearby alternative (FVC down 5.5-9.2%: meets a 5% cutoff, not 10%).
3. **Tacrolimus start**: the last conventional values plus drift, fitted to Table 3.
4. **6 and 12 months on tacrolimus**: as in 2, against the tacrolimus-start values.

Responders are spread over the margins on purpose: some meet one ILD criterion (they fail if
one criterion is enough), some lose 5-9% of FVC with another criterion met (they fail under a
5% FVC cutoff), some have a CK that fell only 40-49% but normalised, some a CK that fell more
than half but stayed above the upper limit of normal. Failures range from barely refractory
(FVC and TLC down 10-12%, CK down 40-48%) to clearly refractory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.paper import rows as paper_rows
from analysis.params import Params
from analysis.schema import TIMEPOINT_ORDER
from analysis.synth.fit import Constraint, FitError, solve
from analysis.synth.roles import shuffled_labels
from analysis.synth.targets import (
    CELLS,
    GENERATOR_TESTS,
    MAX_TIES,
    Targets,
    continuous_constraints,
    observed_counts,
)

__all__ = ["ASSESSMENT_COLUMNS", "MEASURES", "make_assessments"]

#: Columns of assessments.csv in file order.
ASSESSMENT_COLUMNS = ("patient_id", "timepoint", "month", "ck", "aldolase", "fvc", "tlc", "dlco",
                      "worsening_weakness", "worsening_resp_symptoms", "hospitalised")
#: The measurements Tables 1-3 show (:data:`analysis.paper.rows.MEASURES`).
MEASURES = paper_rows.MEASURES
FLAGS = ("worsening_weakness", "worsening_resp_symptoms", "hospitalised")
PFT = ("fvc", "tlc", "dlco")
#: The assumed upper limit of normal of CK (U/l), the default of the analysis' parameter.
CK_ULN = Params().ck_uln
#: Highest baseline CK from which a fall of under 50% can still reach the ULN (with margin).
SMALL_FALL_MAX = 380

#: Bands of relative decline (baseline - follow-up) / baseline, per PFT.
BANDS = {
    "improve": {"fvc": (-0.15, -0.02), "tlc": (-0.12, -0.02), "dlco": (-0.18, -0.02)},
    "stable": {"fvc": (-0.04, 0.04), "tlc": (-0.04, 0.04), "dlco": (-0.06, 0.06)},
    "mild": {"fvc": (0.055, 0.092), "tlc": (0.055, 0.092), "dlco": (0.07, 0.135)},
    "barely": {"fvc": (0.101, 0.118), "tlc": (0.101, 0.118), "dlco": (0.152, 0.175)},
    "met": {"fvc": (0.12, 0.24), "tlc": (0.12, 0.22), "dlco": (0.18, 0.35)},
}

#: ILD patterns: band per PFT (unlisted: stable or improve) and worsening symptoms.
ILD_PATTERNS: dict[str, tuple[dict[str, str], bool]] = {
    "stable": ({}, False),
    "fvc_one": ({"fvc": "met"}, False),
    "dlco_one": ({"dlco": "met"}, False),
    "sym_one": ({}, True),
    "fvc_mild_sym": ({"fvc": "mild"}, True),
    "fvc_mild_dlco": ({"fvc": "mild", "dlco": "met"}, False),
    "fvc_mild": ({"fvc": "mild"}, False),
    "tlc_mild": ({"tlc": "mild"}, False),
    "fvc_tlc_mild": ({"fvc": "mild", "tlc": "mild"}, False),
    # refractory (2 or more criteria)
    "fvc_tlc": ({"fvc": "met", "tlc": "met"}, False),
    "fvc_tlc_barely": ({"fvc": "barely", "tlc": "barely"}, False),
    "fvc_sym": ({"fvc": "met"}, True),
    "tlc_dlco": ({"tlc": "met", "dlco": "met"}, False),
    "dlco_sym": ({"dlco": "barely"}, True),
    "all": ({"fvc": "met", "tlc": "met", "dlco": "met"}, True),
}
#: Responders to conventional treatment: how many follow each ILD pattern (index -> 6 months).
CONV_RESPONDER_ILD = {"stable": 13, "fvc_one": 2, "dlco_one": 2, "sym_one": 2, "fvc_mild_sym": 2,
                      "fvc_mild_dlco": 2, "fvc_mild": 4, "tlc_mild": 2, "fvc_tlc_mild": 2}
#: Refractory ILD patterns of failures; those needing no FVC come first.
REFRACTORY_ILD = ("tlc_dlco", "dlco_sym", "fvc_tlc", "fvc_tlc_barely", "fvc_sym", "all")
#: Tacrolimus responders: ILD pattern (tacrolimus start -> 12 months).
TAC_RESPONDER_ILD = {"stable": 9, "fvc_one": 1, "sym_one": 1, "fvc_mild": 1, "fvc_mild_sym": 1}


# ----------------------------------------------------------------------------- helpers
def _decline_to(x0: float, band: tuple[float, float], rng: np.random.Generator) -> float:
    """An integer follow-up whose relative decline from ``x0`` lies in ``band``.

    The band is widened outward (away from the cutoffs it separates) until an integer fits.
    """
    lo, hi = band
    for _ in range(40):
        candidates = np.arange(np.ceil(x0 * (1 - hi) - 1e-9), np.floor(x0 * (1 - lo) + 1e-9) + 1)
        if len(candidates):
            target = x0 * (1 - rng.uniform(lo, hi))
            return float(candidates[np.argmin(np.abs(candidates - target))])
        lo, hi = (lo - 0.005, hi) if lo <= 0 else (lo, hi + 0.005)
    raise ValueError(f"no integer decline in {band} from {x0}")  # pragma: no cover


def _pfts(base: pd.Series, pattern: str, rng: np.random.Generator,
          calm: tuple[str, ...] = ("stable", "improve")) -> tuple[dict[str, float], bool]:
    """Follow-up PFTs of one patient from baseline values, and worsening symptoms."""
    bands, symptoms = ILD_PATTERNS[pattern]
    out = {}
    for test in PFT:
        x0 = base[test]
        if np.isnan(x0):
            out[test] = float(np.rint(rng.normal(60, 12)))
            continue
        kind = bands.get(test) or calm[int(rng.integers(len(calm)))]
        out[test] = float(np.clip(_decline_to(x0, BANDS[kind][test], rng), 12, 140))
    return out, symptoms


def _ck(c0: float, plan: str, rng: np.random.Generator) -> float:
    """Follow-up CK for a plan; refractory means above the ULN and fallen by at most 50%.

    Plans: ``normal`` (at or below the ULN), ``small_fall`` (fell 40-49% and normalised),
    ``fall_above`` (fell 53-75% but above the ULN), ``refractory`` (fell at most 30% or rose),
    ``barely`` (fell 40-48%, still above the ULN).
    """
    if np.isnan(c0):
        if plan in ("refractory", "barely"):
            return float(np.rint(np.exp(rng.uniform(np.log(300), np.log(3000)))))
        plan = "normal"
    if plan == "small_fall" and CK_ULN < c0 <= SMALL_FALL_MAX:
        low = max(0.40, 1 - (CK_ULN - 5) / c0)
        return float(np.floor(c0 * (1 - rng.uniform(low, 0.49))))
    if plan == "fall_above" and c0 > 480:
        return float(np.rint(c0 * (1 - rng.uniform(0.53, min(0.75, 1 - 210 / c0)))))
    if plan == "barely" and c0 > 420:
        return float(np.rint(c0 * (1 - rng.uniform(0.40, 0.48))))
    if plan in ("refractory", "barely"):
        c1 = c0 * (1 - rng.uniform(-0.6, 0.30))
        return float(np.rint(max(c1, rng.uniform(260, 900))))
    high = min(190.0, 1.3 * c0) if c0 <= CK_ULN else 190.0
    low = min(max(30.0, 0.5 * c0), high) if c0 <= CK_ULN else 45.0
    return float(np.rint(rng.uniform(low, high)))


def _aldolase(a0: float, c0: float, c1: float, rng: np.random.Generator) -> float:
    """Aldolase that moves with CK (square-root of CK's ratio), 1 decimal."""
    if np.isnan(a0):
        return np.nan
    ratio = (c1 / c0) ** 0.5 if c0 > 0 and not np.isnan(c0) else (
        0.7 if c1 <= CK_ULN else 1.1)
    return float(np.clip(np.round(a0 * ratio * np.exp(rng.normal(0, 0.1)), 1), 1.5, 300.0))


def _missing(cells: np.ndarray, keep: dict[str, int], rng: np.random.Generator,
             prefer: np.ndarray | None = None) -> np.ndarray:
    """Mask of values left blank so that ``keep[group]`` stay measured in each group.

    ``keep`` maps ``"resp"`` / ``"nonresp"`` to counts; groups are given by ``cells``
    (``"resp"`` / ``"nonresp"`` labels). ``prefer`` (bool) marks the patients blanked first.
    """
    blank = np.zeros(len(cells), dtype=bool)
    for group, k in keep.items():
        pos = np.flatnonzero(cells == group)
        drop = len(pos) - k
        if drop <= 0:
            continue
        order = pos[rng.permutation(len(pos))]
        if prefer is not None:
            order = order[np.argsort(~prefer[order], kind="stable")]
        blank[order[:drop]] = True
    return blank


def _anchors(var: str, cells: np.ndarray, targets: Targets) -> list[Constraint]:
    """Keep the index means of the later tacrolimus groups near their Table 3 values.

    Not printed numbers: plausibility anchors, so that tacrolimus-start values (Table 3) are
    reached from the conventional-treatment values by a modest drift, not by a jump.
    """
    out: list[Constraint] = []
    if var not in ANCHOR_FACTOR:
        return out
    for cell, group in (("tac_responder", "resp"), ("tac_failure", "nonresp")):
        members = np.flatnonzero(cells == cell)
        if len(members) == 0:
            continue
        centre = targets.printed[f"t3.{var}.{group}"].value * ANCHOR_FACTOR[var]
        half = ANCHOR_HALF_WIDTH[var] * (centre if var == "aldolase" else 1.0)
        out.append(Constraint(f"anchor.{var}.{cell}", "mean", (members,), centre - half,
                              centre + half, soft=True))
    return out


def _fit_columns(var: str, tables: tuple[str, ...], cells: np.ndarray, x0: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray, targets: Targets,
                 rng: np.random.Generator, unit: float, steps: tuple[int, ...],
                 anchored: bool = False, max_iter: int = 200_000) -> np.ndarray:
    """Fit one column (observed values only) to the given tables' rows."""
    pos = {c: np.flatnonzero(cells == c) for c in CELLS}
    constraints = _anchors(var, cells, targets) if anchored else []
    if "t1" in tables:
        constraints += continuous_constraints(targets, var, "t1",
                                              {"all": np.arange(len(cells))})
    if "t2" in tables:
        constraints += continuous_constraints(targets, var, "t2", {
            "resp": pos["conv_responder"],
            "nonresp": np.sort(np.concatenate([pos[c] for c in CELLS[1:]]))})
    if "t3" in tables:
        constraints += continuous_constraints(targets, var, "t3", {
            "resp": pos["tac_responder"], "nonresp": pos["tac_failure"]})
    return solve(x0, lower, upper, cells, constraints, steps, rng, unit=unit,
                 max_iter=max_iter, name=f"{var} ({'/'.join(tables)})")


#: Prior mean at the index assessment of the second-line cell (cyclophosphamide or too little
#: tacrolimus data), which no table prints on its own; the conventional responders are centred
#: on their Table 2 mean, the tacrolimus cells on their Table 3 means times ANCHOR_FACTOR.
_SECOND_LINE_PRIOR = {"fvc": 64, "tlc": 72, "dlco": 58}
#: Index mean of a later tacrolimus group, as a multiple of its Table 3 mean at tacrolimus
#: start (PFTs decline a little on failing conventional treatment), and the anchor's half
#: width (percentage points for PFTs, a fraction for aldolase). CK is not anchored: it moves
#: several-fold within months.
ANCHOR_FACTOR = {"aldolase": 1.0, "fvc": 1.10, "tlc": 1.07, "dlco": 1.10}
ANCHOR_HALF_WIDTH = {"aldolase": 0.15, "fvc": 2.5, "tlc": 2.5, "dlco": 2.5}
TAC_CELLS = ("tac_responder", "tac_failure")
_PFT_SPREAD = {"fvc": (17.0, 0.85), "tlc": (15.0, 0.8), "dlco": (21.0, 0.7)}
_PFT_RANGE = {"fvc": (25, 125), "tlc": (30, 125), "dlco": (15, 120)}
_STEPS = {"ck": (1, 3, 10, 30, 100, 300, 1000), "aldolase": (1, 2, 5, 10, 30, 100),
          "fvc": (1, 1, 2, 3, 5), "tlc": (1, 1, 2, 3, 5), "dlco": (1, 1, 2, 3, 5)}
_UNIT = {"ck": 1.0, "aldolase": 0.1, "fvc": 1.0, "tlc": 1.0, "dlco": 1.0}


def _index_values(patients: pd.DataFrame, roles: pd.DataFrame, targets: Targets,
                  rng: np.random.Generator) -> pd.DataFrame:
    """Index CK, aldolase and PFTs: drawn, then fitted to Tables 1 and 2."""
    n = len(roles)
    mtype = patients["myositis_type"].to_numpy()
    cell = roles["cell"].to_numpy()
    mode = roles["conv_fail_mode"].fillna("").to_numpy()
    median = pd.Series(mtype).map({"PM": 1500, "DM": 800, "CADM": 110, "IBM": 700,
                                   "overlap": 1500, "other_myopathy": 900}).to_numpy(float)
    median = median * np.where(np.isin(mode, ["myositis_ck", "both"]), 1.5, 1.0)
    median = median * np.where(patients["srp"].to_numpy(), 2.0, 1.0)
    sigma = np.where(mtype == "CADM", 0.3, 1.05)
    latent_ck = np.clip(np.rint(median * np.exp(rng.normal(0, 1, n) * sigma)), 40, 38000)
    latent_ald = np.clip(1.25 * latent_ck ** 0.42 * np.exp(rng.normal(0, 0.35, n)), 2.5, 250)
    z = rng.normal(0, 1, n)
    out = pd.DataFrame(index=roles.index, columns=list(MEASURES), dtype=float)
    out["ck"] = latent_ck
    out["aldolase"] = np.round(latent_ald, 1)
    for test in PFT:
        sd, load = _PFT_SPREAD[test]
        prior = {"conv_responder": targets.printed[f"t2.{test}.resp"].value,
                 "second_line_other": _SECOND_LINE_PRIOR[test]}
        for c, g in (("tac_responder", "resp"), ("tac_failure", "nonresp")):
            prior[c] = targets.printed[f"t3.{test}.{g}"].value * ANCHOR_FACTOR[test]
        centre = pd.Series(cell).map(prior).fillna(65).to_numpy(float)
        # Table 3 separates the tacrolimus groups sharply (FVC p = 0.010): narrower spread.
        sd = np.where(np.isin(cell, TAC_CELLS), 0.55 * sd, sd)
        value = centre + sd * (load * z + np.sqrt(1 - load ** 2) * rng.normal(0, 1, n))
        out[test] = np.clip(np.rint(value), *_PFT_RANGE[test])

    inc = np.flatnonzero(roles["included"].to_numpy())
    cells = cell[inc]
    group = np.where(cells == "conv_responder", "resp", "nonresp")
    sizes = (int((group == "resp").sum()), int((group == "nonresp").sum()))
    # A few responders have a mildly raised CK, so that a 40-49% fall can normalise it.
    margin = np.zeros(len(inc), dtype=bool)
    candidates = np.flatnonzero((cells == "conv_responder") & (mtype[inc] != "CADM"))
    margin[candidates[rng.permutation(len(candidates))[:3]]] = True
    for var in MEASURES:
        p = targets.printed
        keep = observed_counts(sizes, (p[f"t2.{var}.resp"], p[f"t2.{var}.nonresp"]),
                               p[f"t1.{var}.mean"], _UNIT[var], p[f"t2.{var}.p"],
                               GENERATOR_TESTS[f"t2.{var}"], MAX_TIES.get(var))
        blank = _missing(group, {"resp": keep[0], "nonresp": keep[1]}, rng, prefer=~margin)
        obs = ~blank
        unit = _UNIT[var]
        x0 = np.rint(out[var].to_numpy()[inc] / unit).astype(np.int64)
        if var == "ck":
            x0 = np.where(margin, rng.integers(240, SMALL_FALL_MAX - 10, len(inc)), x0)
            # Clinically amyopathic: CK within the normal range.
            lower = np.where(mtype[inc] == "CADM", 40, np.maximum(40, x0 // 5))
            upper = np.where(mtype[inc] == "CADM", int(CK_ULN) - 10, np.minimum(40000, x0 * 5))
            lower = np.where(margin, 230, lower)
            upper = np.where(margin, SMALL_FALL_MAX, upper)
        elif var == "aldolase":
            lower, upper = np.maximum(20, x0 // 3), np.minimum(3000, x0 * 3)
        else:
            lo, hi = _PFT_RANGE[var]
            span = np.where(np.isin(cells, TAC_CELLS), 10, 18)
            lower, upper = np.maximum(lo, x0 - span), np.minimum(hi, x0 + span)
        fitted = _fit_columns(var, ("t1", "t2"), cells[obs], x0[obs], lower[obs], upper[obs],
                              targets, rng, unit, _STEPS[var], anchored=True)
        column = np.full(len(inc), np.nan)
        column[obs] = fitted * unit
        values = out[var].to_numpy().copy()
        values[inc] = np.round(column, 1)
        out[var] = values
    return out


# ------------------------------------------------------------------ follow-up courses
def _course(base: pd.Series, ild: str, ck_plan: str, rng: np.random.Generator,
            calm: tuple[str, ...] = ("stable", "improve")) -> tuple[dict[str, float], bool]:
    values, symptoms = _pfts(base, ild, rng, calm)
    values["ck"] = _ck(base["ck"], ck_plan, rng)
    values["aldolase"] = _aldolase(base["aldolase"], base["ck"], values["ck"], rng)
    return values, symptoms


def _responder_ck_plans(ck0: np.ndarray, rng: np.random.Generator, above: int) -> list[str]:
    """CK plans of responders: small falls that normalise where CK was mildly raised, a few
    large falls that stay above the ULN, otherwise normalisation."""
    plans = ["small_fall" if CK_ULN < c <= SMALL_FALL_MAX else "normal" for c in ck0]
    high = [i for i, c in enumerate(ck0) if c > 700]
    for i in [high[k] for k in rng.permutation(len(high))[:above]]:
        plans[i] = "fall_above"
    return plans


def _conventional(base: pd.DataFrame, roles: pd.DataFrame,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """6-month values and flags of included patients (index -> 6 months)."""
    values = pd.DataFrame(np.nan, index=base.index, columns=list(MEASURES))
    flags = pd.DataFrame(False, index=base.index, columns=list(FLAGS))
    resp = roles.index[roles["cell"] == "conv_responder"]
    ild = shuffled_labels(CONV_RESPONDER_ILD, len(resp), rng)
    ck_plans = _responder_ck_plans(base.loc[resp, "ck"].to_numpy(), rng, above=4)
    for r, pattern, plan in zip(resp, ild, ck_plans, strict=True):
        v, sym = _course(base.loc[r], pattern, plan, rng)
        values.loc[r, list(v)] = pd.Series(v)
        flags.at[r, "worsening_resp_symptoms"] = sym
    fails = roles.index[roles["conv_group"] == "failure"]
    for r in fails:
        mode = roles.at[r, "conv_fail_mode"]
        b = base.loc[r]
        if mode in ("ild", "both"):
            options = REFRACTORY_ILD if not np.isnan(b["fvc"]) else REFRACTORY_ILD[:2]
            pattern = options[int(rng.integers(len(options)))]
        else:
            pattern = ("stable", "fvc_one", "sym_one", "fvc_mild")[int(rng.integers(4))]
        if mode in ("myositis_ck", "both"):
            plan = "barely" if rng.random() < 0.35 else "refractory"
        else:
            plan = ("normal", "fall_above")[int(rng.random() < 0.3 and b["ck"] > 700)]
        calm = ("stable", "mild") if mode in ("ild", "both") else ("stable", "improve")
        v, sym = _course(b, pattern, plan, rng, calm)
        values.loc[r, list(v)] = pd.Series(v)
        flags.at[r, "worsening_resp_symptoms"] = sym
        weak = mode == "myositis_weakness" or (mode == "myositis_ck" and rng.random() < 0.3)
        flags.at[r, "worsening_weakness"] = weak
        flags.at[r, "hospitalised"] = bool(mode in ("ild", "both") and rng.random() < 0.3)
    return values, flags


def _drift(prev: pd.Series, rng: np.random.Generator, pft: tuple[float, float],
           ck: tuple[float, float]) -> dict[str, float]:
    out = {}
    for test in PFT:
        x = prev[test]
        out[test] = np.nan if np.isnan(x) else float(
            np.clip(np.rint(x * (1 + rng.normal(*pft))), 12, 140))
    c = prev["ck"]
    out["ck"] = np.nan if np.isnan(c) else float(np.clip(
        np.rint(c * np.exp(rng.normal(*ck))), 25, 40000))
    a = prev["aldolase"]
    out["aldolase"] = np.nan if np.isnan(a) else float(np.clip(
        np.round(a * np.exp(rng.normal(ck[0] / 2, ck[1] / 2)), 1), 1.5, 300))
    return out


def _month12(m6: pd.DataFrame, roles: pd.DataFrame, has12: np.ndarray,
             rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """12-month values (still on conventional treatment): 6-month values plus drift; three
    responders relapse (FVC and TLC down more than 10% from 6 months, with symptoms)."""
    values = pd.DataFrame(np.nan, index=m6.index, columns=list(MEASURES))
    flags = pd.DataFrame(False, index=m6.index, columns=list(FLAGS))
    rows = m6.index[has12]
    resp = [r for r in rows if roles.at[r, "cell"] == "conv_responder"]
    relapse = {resp[i] for i in rng.permutation(len(resp))[:3]}
    for r in rows:
        failing = roles.at[r, "conv_group"] == "failure"
        v = _drift(m6.loc[r], rng, (-0.02 if failing else 0.005, 0.03), (0.0, 0.25))
        if r in relapse:
            for test in ("fvc", "tlc"):
                if not np.isnan(m6.at[r, test]):
                    v[test] = _decline_to(m6.at[r, test], (0.13, 0.2), rng)
            flags.at[r, "worsening_resp_symptoms"] = True
        elif v["ck"] > CK_ULN and not failing:
            v["ck"] = float(min(v["ck"], 190))
        values.loc[r, list(v)] = pd.Series(v)
        if failing:
            flags.at[r, "worsening_weakness"] = bool(rng.random() < 0.3)
            flags.at[r, "worsening_resp_symptoms"] = bool(rng.random() < 0.4)
    return values, flags


def _tac_start(last: pd.DataFrame, roles: pd.DataFrame, targets: Targets,
               rng: np.random.Generator) -> pd.DataFrame:
    """Values at tacrolimus start: last conventional values plus drift, fitted to Table 3."""
    tac = roles.index[roles["second_line"] == "tacrolimus"]
    values = pd.DataFrame(np.nan, index=last.index, columns=list(MEASURES))
    for r in tac:
        values.loc[r, list(MEASURES)] = pd.Series(
            _drift(last.loc[r], rng, (-0.01, 0.04), (0.1, 0.3)))
    analysed = roles.index[roles["tac_analysed"]]
    cells = roles.loc[analysed, "cell"].to_numpy()
    group = np.where(cells == "tac_responder", "resp", "nonresp")
    sizes = (int((group == "resp").sum()), int((group == "nonresp").sum()))
    myositis = (roles.loc[analysed, "tac_refractory"] == "myositis").to_numpy()
    p = targets.printed
    for var in MEASURES:
        unit = _UNIT[var]
        keep = observed_counts(sizes, (p[f"t3.{var}.resp"], p[f"t3.{var}.nonresp"]), None, unit,
                               p[f"t3.{var}.p"], GENERATOR_TESTS[f"t3.{var}"], MAX_TIES.get(var))
        blank = _missing(group, {"resp": keep[0], "nonresp": keep[1]}, rng, prefer=myositis)
        prior = values.loc[analysed, var].to_numpy()
        # A value missing at the last conventional visit is measured again at tacrolimus start.
        fallback = {"ck": 2000.0, "aldolase": 30.0}.get(var, 55.0)
        prior = np.where(np.isnan(prior), fallback, prior)
        obs = ~blank
        # Each group drifts as a whole toward its Table 3 mean (disease activity at the start
        # of a new drug), by at most a factor 1.7 (CK, aldolase) or 5 points (PFTs).
        for c, g in (("tac_responder", "resp"), ("tac_failure", "nonresp")):
            members = (cells == c) & obs
            if not members.any():
                continue
            target, mean = p[f"t3.{var}.{g}"].value, prior[members].mean()
            if var in ("ck", "aldolase"):
                prior = np.where(cells == c, prior * np.clip(target / mean, 1 / 1.7, 1.7), prior)
            else:
                prior = np.where(cells == c, prior + np.clip(target - mean, -5, 5), prior)
        x0 = np.rint(prior / unit).astype(np.int64)
        widen = 1.0
        for attempt, budget in enumerate((40_000, 40_000, 80_000, 200_000)):
            if var == "ck":
                lower = np.maximum(40, (x0 / (2 * widen)).astype(np.int64))
                upper = np.minimum(40000, (x0 * 2 * widen).astype(np.int64))
            elif var == "aldolase":
                lower = np.maximum(20, (x0 / (1.6 * widen)).astype(np.int64))
                upper = np.minimum(3000, (x0 * 1.6 * widen).astype(np.int64))
            else:
                span = np.maximum(5, np.rint(0.10 * x0 * widen)).astype(np.int64)
                lower, upper = np.maximum(15, x0 - span), np.minimum(130, x0 + span)
            try:
                fitted = _fit_columns(var, ("t3",), cells[obs], x0[obs], lower[obs],
                                      upper[obs], targets, rng, unit, _STEPS[var],
                                      max_iter=budget)
                break
            except FitError:
                if attempt == 3:
                    raise
                widen *= 1.5
        column = np.full(len(analysed), np.nan)
        column[obs] = np.round(fitted * unit, 1)
        values.loc[analysed, var] = column
    return values


def _tacrolimus(start: pd.DataFrame, roles: pd.DataFrame, rng: np.random.Generator
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Values and flags 6 and 12 months after tacrolimus start (analysed patients only)."""
    m6 = pd.DataFrame(np.nan, index=start.index, columns=list(MEASURES))
    m12 = pd.DataFrame(np.nan, index=start.index, columns=list(MEASURES))
    f6 = pd.DataFrame(False, index=start.index, columns=list(FLAGS))
    f12 = pd.DataFrame(False, index=start.index, columns=list(FLAGS))
    resp = roles.index[roles["tac_group"] == "responder"]
    ild = shuffled_labels(TAC_RESPONDER_ILD, len(resp), rng)
    plans = _responder_ck_plans(start.loc[resp, "ck"].to_numpy(), rng, above=2)
    course = {r: (pattern, plan, False) for r, pattern, plan in zip(resp, ild, plans,
                                                                   strict=True)}
    fails = roles.index[roles["tac_group"] == "failure"]
    myositis = [r for r in fails if roles.at[r, "tac_refractory"] in ("myositis", "both")]
    for k, r in enumerate(myositis):
        # The last refractory-myositis patient shows it by weakness, the others by CK.
        weak = k == len(myositis) - 1 and len(myositis) > 1
        plan = "normal" if weak else ("barely" if k == 0 else "refractory")
        pattern = "fvc_tlc" if roles.at[r, "tac_refractory"] == "both" else "stable"
        course[r] = (pattern, plan, weak)
    for r in fails:
        if roles.at[r, "tac_refractory"] == "ild":
            course[r] = ("fvc_sym", "normal", False)
    for r, (pattern, plan, weak) in course.items():
        v12, sym = _course(start.loc[r], pattern, plan, rng, ("improve", "stable"))
        m12.loc[r, list(v12)] = pd.Series(v12)
        f12.at[r, "worsening_resp_symptoms"] = sym
        f12.at[r, "worsening_weakness"] = weak
        share = rng.uniform(0.4, 0.8)
        for var in MEASURES:
            a, b = start.at[r, var], v12[var]
            if np.isnan(a) or np.isnan(b):
                # No tacrolimus-start value: 6 months lie between a higher value and 12 months.
                m6.at[r, var] = np.nan if np.isnan(b) else float(
                    np.round(b * np.exp(abs(rng.normal(0.15, 0.1))), 0 if var != "aldolase"
                             else 1))
            elif var == "ck":
                m6.at[r, var] = float(np.rint(a * (b / a) ** share))
            elif var == "aldolase":
                m6.at[r, var] = float(np.round(a + (b - a) * share, 1))
            else:
                m6.at[r, var] = float(np.rint(a + (b - a) * share + rng.normal(0, 1.5)))
        f6.at[r, "worsening_weakness"] = weak and rng.random() < 0.5
        f6.at[r, "worsening_resp_symptoms"] = sym and rng.random() < 0.5
        if roles.at[r, "tac_hospitalised"]:
            f6.at[r, "hospitalised"] = True
            f6.at[r, "worsening_resp_symptoms"] = True
    return m6, m12, f6, f12


# ------------------------------------------------------------------------- assembly
def make_assessments(patients: pd.DataFrame, roles: pd.DataFrame, targets: Targets,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Build ``assessments.csv``.

    Parameters
    ----------
    patients : :func:`analysis.synth.patients.make_patients` output.
    roles : :func:`analysis.synth.roles.assign_roles` output (same row order).
    targets : published targets.
    rng : generator.

    Returns
    -------
    DataFrame with :data:`ASSESSMENT_COLUMNS`, one row per patient and time point:
    every screened patient has ``index``; included patients ``month6``, and ``month12``
    unless a second-line drug started by 12 months; tacrolimus patients ``tac_start`` (at
    ``roles.second_line_month``), and if their data are sufficient ``tac_month6`` and
    ``tac_month12``. ``month`` is float, ``ck`` Int64, ``aldolase`` Float64 (1 decimal),
    PFTs Int64, flags nullable boolean (NA at ``index``, which has no previous assessment).
    Sorted by patient and time point.
    """
    index = _index_values(patients, roles, targets, rng)
    included = roles["included"].to_numpy()
    m6, f6 = _conventional(index, roles, rng)
    start_month = roles["second_line_month"].to_numpy(dtype=float)
    has12 = included & ~(start_month <= 12)
    m12, f12 = _month12(m6, roles, has12, rng)
    last = m12.where(pd.Series(has12, index=m12.index), m6, axis=0)
    tac = (roles["second_line"] == "tacrolimus").to_numpy()
    start = _tac_start(last, roles, targets, rng)
    fstart = pd.DataFrame(False, index=roles.index, columns=list(FLAGS))
    for r in roles.index[tac]:
        mode = roles.at[r, "conv_fail_mode"]
        fstart.at[r, "worsening_weakness"] = mode in ("myositis_weakness", "myositis_ck")
        fstart.at[r, "worsening_resp_symptoms"] = mode in ("ild", "both")
        fstart.at[r, "hospitalised"] = bool(mode in ("ild", "both") and rng.random() < 0.25)
    t6, t12, ft6, ft12 = _tacrolimus(start, roles, rng)
    analysed = roles["tac_analysed"].to_numpy()
    plan = [("index", index, None, np.ones(len(roles), bool), np.zeros(len(roles))),
            ("month6", m6, f6, included, np.full(len(roles), 6.0)),
            ("month12", m12, f12, has12, np.full(len(roles), 12.0)),
            ("tac_start", start, fstart, tac, start_month),
            ("tac_month6", t6, ft6, analysed, start_month + 6),
            ("tac_month12", t12, ft12, analysed, start_month + 12)]
    frames = []
    for timepoint, values, flags, present, month in plan:
        rows = roles.index[present]
        frame = pd.DataFrame({"patient_id": roles.loc[rows, "patient_id"],
                              "timepoint": timepoint, "month": month[present]})
        for var in MEASURES:
            frame[var] = values.loc[rows, var].to_numpy()
        for flag in FLAGS:
            frame[flag] = (pd.NA if flags is None else
                           flags.loc[rows, flag].to_numpy(dtype=bool))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    order = {tp: i for i, tp in enumerate(TIMEPOINT_ORDER)}
    out = out.assign(_rank=out["timepoint"].map(order)).sort_values(
        ["patient_id", "_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    types = {"patient_id": "string", "timepoint": "string", "month": float,
             "ck": "Int64", "aldolase": "Float64", "fvc": "Int64", "tlc": "Int64",
             "dlco": "Int64"}
    types.update({flag: "boolean" for flag in FLAGS})
    out["aldolase"] = out["aldolase"].round(1)
    return out[list(ASSESSMENT_COLUMNS)].astype(types)
