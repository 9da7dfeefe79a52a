"""Patient-level facts of the reconstructed cohort: demographics, myositis, serology, CT, biopsy,
conventional DMARDs, eligibility facts and second-line therapy (``patients.csv``).

Sharma 2017, Tables 1-3. Categories are assigned *constructively*: inside each cell of
:data:`analysis.synth.targets.CELLS` the number of patients at every level is exactly the count
the tables print, and which patients get it is drawn with weights that make the combinations
clinically plausible (anti-Jo1 mostly in polymyositis, Mi-2 in dermatomyositis, SRP in
polymyositis, myositis-specific antibodies mutually exclusive, SSA alongside anti-Jo1,
honeycombing with UIP). Age at onset is drawn, then fitted by :func:`analysis.synth.fit.solve`
to Table 1's mean and SD and the group means and p-values of Tables 2 and 3.

Excluded patients carry only the fact that excludes them (Methods, Patients): for example the
patient excluded for inclusion body myositis is an adult with no cancer chemotherapy who did
receive prednisone and a DMARD, so that criterion and no earlier or later one applies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.paper.rows import under
from analysis.synth.fit import solve
from analysis.synth.targets import BINARY, CATEGORICAL, CELLS, Targets, continuous_constraints

__all__ = ["PATIENT_COLUMNS", "make_patients", "choose"]

#: Columns of patients.csv in file order (the codebook's order).
PATIENT_COLUMNS = (
    "patient_id", "age_at_onset", "age_at_index", "sex", "race", "smoking", "myositis_type",
    "cancer_chemo_before_conventional", "ana", "anti_jo1", "ssa", "mi2", "pl7", "srp", "ku",
    "honeycombing", "biopsy", "prednisone_conventional", "aza_conventional",
    "mtx_conventional", "mmf_conventional", "second_line", "tacrolimus_data_sufficient",
)
_MSA = ("anti_jo1", "pl7", "mi2", "srp")  # myositis-specific antibodies: one per patient
#: The order the generator gives the serology rows of Tables 1-3 (``under("Serologic data")``)
#: their positive patients: the myositis-specific antibodies first (one per patient), then
#: the rarer before the common. An order of drawing, not a role: a test checks it holds
#: every serology row once.
SEROLOGY_ORDER = ("jo1", "pl7", "mi2", "srp", "ku", "ssa", "ana")


def choose(n: int, k: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``k`` of ``n`` items drawn without replacement with ``weights``.

    Weighted random sampling by exponential keys (Efraimidis-Spirakis); items of weight 0 are
    taken only when fewer than ``k`` items have a positive weight.

    >>> choose(4, 2, np.array([1.0, 0.0, 1.0, 0.0]), np.random.default_rng(1)).tolist()
    [0, 2]
    """
    u = rng.random(n)
    positive = weights > 0
    keys = np.where(positive, np.log(u) / np.where(positive, weights, 1.0), -1e300 * (1 + u))
    return np.sort(np.argsort(-keys, kind="stable")[:k])


def _assign_levels(frame: pd.DataFrame, rows: pd.Index, column: str,
                   counts: dict[object, int], rest: object, rng: np.random.Generator,
                   weight: Callable[[pd.DataFrame, object], np.ndarray] | None = None) -> None:
    """Give exactly ``counts[level]`` of ``rows`` each level, rarest level first."""
    free = list(rows)
    for level, k in sorted(counts.items(), key=lambda kv: (kv[1], str(kv[0]))):
        if k == 0 or level == rest:
            continue
        sub = frame.loc[free]
        w = weight(sub, level) if weight else np.ones(len(free))
        picked = [free[i] for i in choose(len(free), k, np.asarray(w, dtype=float), rng)]
        frame.loc[picked, column] = level
        free = [r for r in free if r not in set(picked)]
    frame.loc[free, column] = rest


def _serology_weight(column: str) -> Callable[[pd.DataFrame, object], np.ndarray]:
    def weight(sub: pd.DataFrame, _level: object) -> np.ndarray:
        mt = sub["myositis_type"].to_numpy()
        other_msa = sub[[c for c in _MSA if c != column]].any(axis=1).to_numpy()
        if column == "anti_jo1":
            w = np.select([mt == "PM", mt == "DM"], [3.0, 1.5], 0.3)
        elif column == "pl7":
            w = np.where(mt == "CADM", 0.3, 1.0)
        elif column == "mi2":
            w = np.select([mt == "DM", mt == "CADM"], [10.0, 1.0], 0.3)
        elif column == "srp":
            w = np.select([mt == "PM", mt == "DM"], [10.0, 0.3], 0.1)
        elif column == "ssa":
            w = np.where(sub["anti_jo1"].to_numpy(), 3.0, 1.0)
        elif column == "ana":
            w = np.where(sub["ku"].to_numpy(), 4.0, np.where(sub["ssa"].to_numpy(), 2.0, 1.0))
        else:
            w = np.ones(len(sub))
        if column in _MSA:
            w = np.where(other_msa, 0.0, w)
        return w
    return weight


def _honeycomb_weight(sub: pd.DataFrame, _level: object) -> np.ndarray:
    return sub["biopsy"].map({"UIP": 4.0, "NSIP": 1.5, "none": 1.0, "OP": 0.5,
                              "other": 0.7}).to_numpy(dtype=float)


def _assign_dmards(frame: pd.DataFrame, rows: pd.Index, counts: dict[str, int],
                   rng: np.random.Generator) -> None:
    """Every included patient receives at least one DMARD; the counts per drug are exact.

    Each patient first gets one drug (AZA, then MTX, then MMF, as Table 1's frequencies rank
    them); drugs left over are added to patients not already on them (a switch or combination
    during conventional treatment).
    """
    n = len(rows)
    columns = ["aza_conventional", "mtx_conventional", "mmf_conventional"]
    left = {c: counts[c] for c in columns}
    order = [rows[i] for i in rng.permutation(n)]
    frame.loc[rows, columns] = False
    start = 0
    for c in columns:
        take = min(left[c], n - start)
        frame.loc[order[start:start + take], c] = True
        left[c] -= take
        start += take
    if start < n:
        raise ValueError(f"{n} patients but only {sum(counts.values())} DMARD courses")
    for c in columns:
        if left[c]:
            free = [r for r in order if not frame.at[r, c]]
            picked = choose(len(free), left[c], np.ones(len(free)), rng)
            frame.loc[[free[i] for i in picked], c] = True


def _level_counts(targets: Targets, var: str, cell: str) -> dict[object, int]:
    levels = CATEGORICAL[var][1]
    return {levels.get(k, k): int(v) for k, v in targets.counts[var][cell].items()}


def _included_categories(frame: pd.DataFrame, roles: pd.DataFrame, targets: Targets,
                         rng: np.random.Generator) -> None:
    for cell in CELLS:
        rows = roles.index[roles["cell"] == cell]

        def level_counts(var: str, cell: str = cell) -> dict[object, int]:
            return _level_counts(targets, var, cell)

        def yes(var: str, cell: str = cell) -> int:
            return int(targets.counts[var].at["yes", cell])

        frame.loc[rows, [BINARY[v] for v in BINARY]] = False
        _assign_levels(frame, rows, "myositis_type", level_counts("myositis"), "PM", rng)
        _assign_levels(frame, rows, "sex", level_counts("sex"), "F", rng)
        race = {("Other" if k == "other" else k): v for k, v in level_counts("race").items()}
        _assign_levels(frame, rows, "race", race, "White", rng)
        _assign_levels(frame, rows, "smoking", level_counts("smoking"), "Never", rng)
        _assign_levels(frame, rows, "biopsy", level_counts("histology"), "none", rng)
        _assign_levels(frame, rows, "honeycombing", {True: level_counts("honeycomb")[True]},
                       False, rng, _honeycomb_weight)
        for var in SEROLOGY_ORDER:
            column = BINARY[var]
            _assign_levels(frame, rows, column, {True: yes(var)}, False, rng,
                           _serology_weight(column))
        _assign_dmards(frame, rows, {BINARY[v]: yes(v) for v in under("Conventional DMARD")},
                       rng)


#: Myositis type of patients excluded under each criterion (the one fact that excludes them).
_EXCLUDED_TYPE = {"under_age": "DM", "overlap": "overlap", "ibm": "IBM",
                  "cancer_chemo": "DM", "other_myopathy": "other_myopathy",
                  "no_conventional": "PM"}


def _excluded_facts(frame: pd.DataFrame, roles: pd.DataFrame,
                    rng: np.random.Generator) -> None:
    rows = roles.index[~roles["included"]]
    seen: dict[str, int] = {}
    for r in rows:
        reason = roles.at[r, "excluded_by"]
        pos = seen[reason] = seen.get(reason, -1) + 1  # order within the criterion
        frame.at[r, "myositis_type"] = _EXCLUDED_TYPE[reason]
        if reason == "no_conventional" and pos % 2:
            frame.at[r, "myositis_type"] = "DM"
        frame.at[r, "sex"] = "M" if rng.random() < (0.7 if reason == "ibm" else 0.3) else "F"
        frame.at[r, "race"] = rng.choice(["Black", "White", "White", "Black", "Hispanic"])
        frame.at[r, "smoking"] = rng.choice(["Never", "Never", "Never", "Former", "Active"])
        mt = frame.at[r, "myositis_type"]
        frame.loc[r, list(_MSA) + ["ssa", "ku", "ana"]] = False
        if mt in ("PM", "DM"):
            frame.at[r, "anti_jo1" if mt == "PM" else "mi2"] = bool(rng.random() < 0.4)
        if mt == "overlap":
            frame.at[r, "ku"] = bool(rng.random() < 0.4)
            frame.at[r, "ssa"] = bool(rng.random() < 0.5)
            frame.at[r, "ana"] = True
        else:
            frame.at[r, "ana"] = bool(rng.random() < 0.5)
            frame.at[r, "ssa"] = bool(mt != "IBM" and rng.random() < 0.3)
        frame.at[r, "honeycombing"] = bool(rng.random() < 0.25)
        frame.at[r, "biopsy"] = "none"
        frame.at[r, "cancer_chemo_before_conventional"] = reason == "cancer_chemo"
        conventional = reason != "no_conventional"
        # One patient excluded for no conventional treatment had prednisone alone, the other
        # no prednisone either; everyone else had prednisone and a DMARD.
        frame.at[r, "prednisone_conventional"] = conventional or pos % 2 == 0
        frame.loc[r, ["aza_conventional", "mtx_conventional", "mmf_conventional"]] = False
        if conventional:
            frame.at[r, rng.choice(["aza_conventional", "aza_conventional",
                                    "mtx_conventional", "mmf_conventional"])] = True


def _ages(frame: pd.DataFrame, roles: pd.DataFrame, targets: Targets,
          rng: np.random.Generator) -> None:
    """Age at onset (fitted to Tables 1-3) and at the index assessment (onset + 0-10 years)."""
    inc = roles.index[roles["included"]]
    cell = roles.loc[inc, "cell"].to_numpy()
    pos = {c: np.flatnonzero(cell == c) for c in CELLS}
    members = {"all": np.arange(len(inc)), "resp": pos["conv_responder"],
               "nonresp": np.sort(np.concatenate([pos[c] for c in CELLS[1:]]))}
    constraints = continuous_constraints(targets, "age", "t1", members)
    constraints += continuous_constraints(targets, "age", "t2", members)
    constraints += continuous_constraints(
        targets, "age", "t3", {"resp": pos["tac_responder"], "nonresp": pos["tac_failure"]})
    centre = np.where(cell == "conv_responder", targets.printed["t2.age.resp"].value,
                      targets.printed["t2.age.nonresp"].value)
    x0 = np.rint(np.clip(rng.normal(centre, 14.0), 19, 78)).astype(np.int64)
    # At least 19: older than 18 under either reading of "> 18 years old" (Methods).
    onset = solve(x0, np.full(len(inc), 19), np.full(len(inc), 82), cell, constraints,
                  steps=(1, 1, 2, 3, 5), rng=rng, name="age at onset")
    frame.loc[inc, "age_at_onset"] = onset
    # Excluded patients: plausible ages; the under-age one is a juvenile at ILD diagnosis.
    for r in roles.index[~roles["included"]]:
        reason = roles.at[r, "excluded_by"]
        if reason == "under_age":
            frame.at[r, "age_at_onset"] = int(rng.integers(14, 17))
        elif reason == "ibm":
            frame.at[r, "age_at_onset"] = int(rng.integers(55, 72))
        else:
            frame.at[r, "age_at_onset"] = int(np.clip(round(rng.normal(48, 13)), 22, 75))
    gap = rng.choice(np.arange(11), size=len(frame),
                     p=np.array([35, 20, 12, 8, 6, 5, 4, 3, 3, 2, 2]) / 100)
    index_age = frame["age_at_onset"].to_numpy(dtype=np.int64) + gap
    under = (roles["excluded_by"] == "under_age").fillna(False).to_numpy()
    index_age = np.where(under, np.minimum(index_age, 17), index_age)
    frame["age_at_index"] = index_age


def make_patients(roles: pd.DataFrame, targets: Targets,
                  rng: np.random.Generator) -> pd.DataFrame:
    """Build ``patients.csv`` from the roles.

    Parameters
    ----------
    roles : :func:`analysis.synth.roles.assign_roles` output.
    targets : :func:`analysis.synth.targets.read_targets` output.
    rng : generator (deterministic under it).

    Returns
    -------
    DataFrame with :data:`PATIENT_COLUMNS`, one row per screened patient, sorted by
    ``patient_id``: ages as int64, yes/no facts as bool, ``tacrolimus_data_sufficient`` as
    nullable boolean (NA unless ``second_line`` is tacrolimus), the rest as strings.
    """
    frame = pd.DataFrame(index=roles.index, columns=list(PATIENT_COLUMNS), dtype=object)
    frame["patient_id"] = roles["patient_id"]
    _included_categories(frame, roles, targets, rng)
    _excluded_facts(frame, roles, rng)
    inc = roles["included"]
    frame.loc[inc, "cancer_chemo_before_conventional"] = False
    frame.loc[inc, "prednisone_conventional"] = True
    _ages(frame, roles, targets, rng)
    frame["second_line"] = roles["second_line"]
    sufficient = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    sufficient[roles["second_line"] == "tacrolimus"] = roles["tac_analysed"]
    frame["tacrolimus_data_sufficient"] = sufficient
    bools = ["cancer_chemo_before_conventional", "ana", "anti_jo1", "ssa", "mi2", "pl7", "srp",
             "ku", "honeycombing", "prednisone_conventional", "aza_conventional",
             "mtx_conventional", "mmf_conventional"]
    types = {c: bool for c in bools}
    types.update({"age_at_onset": "int64", "age_at_index": "int64"})
    types.update({c: "string" for c in ("patient_id", "sex", "race", "smoking",
                                        "myositis_type", "biopsy", "second_line")})
    return frame.astype(types).sort_values("patient_id").reset_index(drop=True)
