"""Who is who in the reconstructed cohort: the plan the measurements are then built to follow.

Each screened patient gets a *role* (Sharma 2017, Figure 1): excluded under one criterion,
conventional responder, conventional failure treated with tacrolimus who responded or not,
treated with cyclophosphamide, or treated with tacrolimus without sufficient follow-up data.
Failures also get the way they fail (refractory myositis, ILD or both), tacrolimus failures the
domain that stays refractory, and second-line patients a start month.

The roles frame is the generator's plan, never part of the data: whether a patient responded
is always decided later by ``analysis.response`` from the measurements that
:mod:`analysis.synth.assessments` builds to follow this plan. The dose generator
(``analysis.synth.doses.make_doses``) reads it to know each patient's course.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.synth.targets import EXCLUSION_ORDER, Targets

__all__ = ["ROLE_COLUMNS", "ROLES", "assign_roles", "patient_ids", "shuffled_labels"]

#: Roles in drawing order of Figure 1.
ROLES = ("excluded", "conv_responder", "tac_responder", "tac_failure", "cyclophosphamide",
         "tac_insufficient")
#: Columns of the frame :func:`assign_roles` returns.
ROLE_COLUMNS = ("patient_id", "role", "cell", "excluded_by", "included", "conv_group",
                "conv_fail_mode", "second_line", "second_line_month", "tac_analysed",
                "tac_group", "tac_refractory", "tac_hospitalised")

#: How conventional failures fail, per cell (index -> 6 months): refractory myositis by CK,
#: by physician-recorded weakness, refractory ILD, or both myositis (CK) and ILD. Tacrolimus
#: patients are mostly refractory in muscle (Table 3: mean CK 4353.5 at tacrolimus start).
FAIL_MODES = {
    "tac_responder": {"myositis_ck": 5, "both": 4, "ild": 2, "myositis_weakness": 2},
    "tac_failure": {"myositis_ck": 2, "both": 1, "ild": 1, "myositis_weakness": 1},
    "second_line_other": {"ild": 2, "both": 2, "myositis_ck": 1},
}


def patient_ids(n: int) -> list[str]:
    """Study identifiers ``MA001`` .. ``MAnnn``.

    >>> patient_ids(3)
    ['MA001', 'MA002', 'MA003']
    """
    return [f"MA{i:03d}" for i in range(1, n + 1)]


def shuffled_labels(labels: dict[str, int], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` labels with the given counts (scaled to ``n`` if they differ), shuffled.

    >>> sorted(shuffled_labels({"a": 2, "b": 1}, 3, np.random.default_rng(0)))
    ['a', 'a', 'b']
    """
    names = list(labels)
    counts = np.array([labels[k] for k in names], dtype=float)
    if counts.sum() != n:
        counts = np.floor(counts / counts.sum() * n)
        counts[np.argmax(counts)] += n - counts.sum()
    out = [name for name, k in zip(names, counts.astype(int), strict=True) for _ in range(k)]
    return [out[i] for i in rng.permutation(n)]


def assign_roles(targets: Targets, rng: np.random.Generator) -> pd.DataFrame:
    """Draw every screened patient's role.

    Parameters
    ----------
    targets : the flow counts (Figure 1 and the assumed splits of ``data/published``).
    rng : generator; identifiers are given to roles in a random order.

    Returns
    -------
    DataFrame, one row per screened patient sorted by ``patient_id``, columns:

    - ``patient_id`` (str), ``role`` (one of :data:`ROLES`),
    - ``cell``: the group of Tables 2-3 (``conv_responder``, ``tac_responder``,
      ``tac_failure``, ``second_line_other``) or ``excluded``,
    - ``excluded_by``: exclusion criterion (``analysis.cohort.EXCLUSIONS``) or NA,
    - ``included`` (bool),
    - ``conv_group``: ``responder`` / ``failure`` / NA (excluded),
    - ``conv_fail_mode``: ``myositis_ck``, ``myositis_weakness``, ``ild``, ``both`` or NA,
    - ``second_line``: ``none``, ``tacrolimus``, ``cyclophosphamide``,
    - ``second_line_month`` (float, months after the index assessment) or NA,
    - ``tac_analysed`` (bool): tacrolimus with sufficient data (Table 3),
    - ``tac_group``: ``responder`` / ``failure`` / NA,
    - ``tac_refractory``: ``none``, ``myositis``, ``ild``, ``both`` or NA,
    - ``tac_hospitalised`` (bool): hospitalised for an exacerbation in the tacrolimus year.
    """
    roles: list[tuple[str, str | None]] = []
    for reason in EXCLUSION_ORDER:
        roles += [("excluded", reason)] * targets.exclusions[reason]
    sizes = targets.cell_sizes
    roles += [("conv_responder", None)] * sizes["conv_responder"]
    roles += [("tac_responder", None)] * sizes["tac_responder"]
    roles += [("tac_failure", None)] * sizes["tac_failure"]
    roles += [("cyclophosphamide", None)] * targets.cyclophosphamide
    roles += [("tac_insufficient", None)] * targets.tac_insufficient
    order = rng.permutation(len(roles))
    frame = pd.DataFrame([roles[i] for i in order], columns=["role", "excluded_by"])
    frame.insert(0, "patient_id", patient_ids(len(roles)))
    role = frame["role"]
    frame["cell"] = role.replace({"cyclophosphamide": "second_line_other",
                                  "tac_insufficient": "second_line_other"})
    frame["excluded_by"] = frame["excluded_by"].astype("string")
    frame["included"] = role != "excluded"
    frame["conv_group"] = pd.Series(
        np.where(role == "conv_responder", "responder", "failure"), dtype="string"
    ).where(frame["included"])
    frame["conv_fail_mode"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    for cell, modes in FAIL_MODES.items():
        members = frame.index[frame["cell"] == cell]
        frame.loc[members, "conv_fail_mode"] = shuffled_labels(modes, len(members), rng)
    frame["second_line"] = np.select(
        [role.isin(["tac_responder", "tac_failure", "tac_insufficient"]),
         role == "cyclophosphamide"], ["tacrolimus", "cyclophosphamide"], "none")
    second = frame["second_line"] != "none"
    # Second-line therapy starts after the 6-month assessment, mostly within the first year.
    months = rng.choice(np.arange(7, 25), size=len(frame),
                        p=_start_weights(np.arange(7, 25)))
    frame["second_line_month"] = pd.Series(months.astype(float)).where(second)
    frame["tac_analysed"] = role.isin(["tac_responder", "tac_failure"])
    frame["tac_group"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame.loc[role == "tac_responder", "tac_group"] = "responder"
    frame.loc[role == "tac_failure", "tac_group"] = "failure"
    frame["tac_refractory"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame.loc[role == "tac_responder", "tac_refractory"] = "none"
    failures = frame.index[role == "tac_failure"]
    frame.loc[failures, "tac_refractory"] = shuffled_labels(
        {"myositis": targets.tac_myositis_refractory, "ild": targets.tac_ild_refractory,
         "both": targets.tac_both_refractory}, len(failures), rng)
    # The exacerbation that needed a hospital stay is placed on a tacrolimus failure (ILD first).
    frame["tac_hospitalised"] = False
    ranked = sorted(failures, key=lambda i: (frame.at[i, "tac_refractory"] != "ild", i))
    analysed = list(ranked) + list(frame.index[role == "tac_responder"])
    frame.loc[analysed[: targets.tac_hospitalised], "tac_hospitalised"] = True
    return frame[list(ROLE_COLUMNS)].astype({"role": "string", "cell": "string",
                                             "second_line": "string"})


def _start_weights(months: np.ndarray) -> np.ndarray:
    w = np.exp(-(months - 7) / 6.0)
    return w / w.sum()
