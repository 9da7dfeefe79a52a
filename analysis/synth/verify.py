"""The generator's own check: the cohort, read back as text, passes the schema and gives
Figure 1 and the tacrolimus response counts under the paper's methods.

Sharma 2017, Figure 1 and Results (*Use of tacrolimus in refractory MA-ILD*). A failure here is
a generator bug, never a property of the data, so it raises.
"""

from __future__ import annotations

import pandas as pd

from analysis.cohort import analysis_groups, flow_table
from analysis.errors import DataValidationError
from analysis.params import Params
from analysis.schema import format_problems, load_codebook, validate_tables
from analysis.synth.export import to_text
from analysis.synth.targets import Targets

__all__ = ["expected_flow", "verify"]


def expected_flow(targets: Targets) -> dict[str, int]:
    """Figure 1 counts the cohort must give, keyed as :func:`analysis.cohort.flow_table`."""
    s = targets.cell_sizes
    included = sum(s.values())
    failures = included - s["conv_responder"]
    analysed = s["tac_responder"] + s["tac_failure"]
    flow = {"flow.identified": targets.identified,
            "flow.excluded": targets.identified - included}
    flow.update({f"flow.excluded.{k}": v for k, v in targets.exclusions.items()})
    flow.update({"flow.included": included, "flow.conv_responders": s["conv_responder"],
                 "flow.conv_failures": failures, "flow.tac_analysed": analysed,
                 "flow.second_line_other": failures - analysed,
                 "flow.second_line.cyclophosphamide": targets.cyclophosphamide,
                 "flow.second_line.tacrolimus_insufficient": targets.tac_insufficient,
                 "flow.tac_responders": s["tac_responder"],
                 "flow.tac_failures": s["tac_failure"]})
    return flow


def verify(frames: dict[str, pd.DataFrame], targets: Targets) -> pd.DataFrame:
    """Validate the cohort as its CSV text and check the flow; return the analysis groups.

    Raises
    ------
    DataValidationError
        Listing schema problems, or every flow / tacrolimus count that differs.
    """
    raw = {table: text.astype(str) for table, text in to_text(frames).items()}
    cohort, problems = validate_tables(raw, load_codebook())
    if problems:
        raise DataValidationError("synthetic cohort breaks the schema:\n"
                                  + format_problems(problems))
    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    got = flow_table(groups).set_index("key")["n"].to_dict()
    analysed = groups[groups["tac_analysed"]]
    got["tac.myositis_improved.n"] = int(analysed["tac_myositis_improved"].sum())
    got["tac.ild_improved.n"] = int(analysed["tac_ild_improved"].sum())
    got["tac.both_improved.n"] = int(analysed["tac_responder"].sum())
    got["tac.hospitalised.n"] = int(analysed["tac_hospitalised"].sum())
    want = expected_flow(targets)
    n = want["flow.tac_analysed"]
    want["tac.myositis_improved.n"] = n - targets.tac_myositis_refractory - \
        targets.tac_both_refractory
    want["tac.ild_improved.n"] = n - targets.tac_ild_refractory - targets.tac_both_refractory
    want["tac.both_improved.n"] = targets.cell_sizes["tac_responder"]
    want["tac.hospitalised.n"] = targets.tac_hospitalised
    wrong = [f"{k}: {got.get(k)} (want {v})" for k, v in want.items() if got.get(k) != v]
    if wrong:
        raise DataValidationError("synthetic cohort does not reproduce the flow: "
                                  + "; ".join(wrong))
    return groups
