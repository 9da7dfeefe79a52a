"""Five exercises a student can check alone (issue 15), and :func:`check`, which says whether
the answer is right and why.

Each exercise has a goal, the one change to make in ``notebooks/lab-params.yaml``, where to
look, a question and the steps to run again. :func:`check` never compares with a typed answer:
it reads the parameter file, the parameters each step recorded (``parameters/<step>.json``) and
the step's saved outputs (``tables/*.csv``), recomputes the paper's side with the package's
functions (:class:`analysis.params.Params` defaults, Sharma 2017 Methods), and then compares the
student's answer with the run's own number. When something is missing it says what: the change
not made, a step not run again since, or no answer yet; the explanation (what moved and why)
comes with the right answer, since it gives the numbers away.

Why no autograding library: otter-grader and nbgrader grade a notebook against tests written
per assignment and collected by a teacher (nbgrader needs a course database and an exchange
folder, otter a grading image); here the answer is a property of the student's own run, which
a plain function computes in the student's kernel, with no new dependency and no setup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import AnalysisError
from analysis.params import STAMPS, Params, stamp_matches

__all__ = ["EXERCISES", "Exercise", "Verdict", "check", "exercise"]


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`check`: ``ok`` and the reasons, shown as text or HTML."""

    exercise: str
    ok: bool
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        mark = "RIGHT" if self.ok else "NOT YET"
        return "\n".join([f"{mark} - exercise '{self.exercise}'", *(f"- {r}" for r in
                                                                   self.reasons)])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, mark = ("#1a7f37", "&#10004; Right") if self.ok else ("#b35900", "&#10008; Not yet")
        items = "".join(f"<li>{html.escape(r)}</li>" for r in self.reasons)
        return (f'<div style="border-left:4px solid {colour};padding-left:8px">'
                f"<b>{mark}</b> (exercise <code>{html.escape(self.exercise)}</code>)"
                f"<ul>{items}</ul></div>")


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to do, where to look, what to answer, and its check."""

    key: str
    title: str
    minutes: int
    goal: str
    change: Mapping[str, Any]  # the one change to lab-params.yaml (parameter: value)
    steps: tuple[str, ...]  # the notebooks to run again, in order
    where: str
    question: str
    judge: Callable[[Context, Any], tuple[list[str], bool]] = field(repr=False)

    def markdown(self) -> str:
        lines = "\n".join(f"{k}: {v}" for k, v in self.change.items())
        return (f"**Exercise: {self.title}** (about {self.minutes} min)\n\n"
                f"- *Goal*: {self.goal}\n"
                f"- *The one change*: in `notebooks/lab-params.yaml` write (or uncomment)\n\n"
                f"  ```yaml\n  {lines}\n  ```\n\n"
                f"  save, then run again, in order: {', '.join(self.steps)} "
                "(in each: *Kernel > Restart Kernel and Run All Cells*).\n"
                f"- *Where to look*: {self.where}\n"
                f"- *Question*: {self.question}\n"
                f"- *Check*: `check(\"{self.key}\", answer=...)` says whether your answer is right "
                "and why; run it without an answer first to see whether the change took effect.")

    def _repr_markdown_(self) -> str:
        return self.markdown()


@dataclass
class Context:
    """What a check reads: the parameters, the run folder and the export."""

    params: Params
    run_dir: Path
    data_dir: Path
    _paper: dict[str, Any] = field(default_factory=dict)

    def table(self, stem: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir / "tables" / f"{stem}.csv", keep_default_na=False)

    def flow(self) -> dict[str, int]:
        flow = self.table("flow")
        return dict(zip(flow["key"], flow["n"].astype(int), strict=True))

    def paper(self) -> dict[str, Any]:
        """The paper's side, recomputed on the same export with the paper's parameters."""
        if not self._paper:
            from analysis.cohort import analysis_groups, flow_table
            from analysis.schema import read_cohort
            from analysis.tables import analysis_dataset, table2, table3

            cohort, params = read_cohort(self.data_dir), Params()
            groups = analysis_groups(cohort.patients, cohort.assessments, params)
            flow = flow_table(groups)
            index = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
            tac = analysis_dataset(cohort.patients, groups, cohort.assessments, "tac_start")
            self._paper.update(flow=dict(zip(flow["key"], flow["n"].astype(int), strict=True)),
                               groups=groups, index=index, tac=tac,
                               t2=table2(index, params), t3=table3(tac, params))
        return self._paper


# ------------------------------------------------------------------------------ helpers
def _row(table: pd.DataFrame, variable: str) -> pd.Series:
    rows = table[(table["variable"] == variable) & (table["test"].astype(str) != "")]
    return rows.iloc[0]


def _p(value: Any) -> str:
    return f"{float(value):.3f}"


def _same_p(answer: Any, value: float) -> bool:
    """The answer agrees with the run's p-value at the 2 decimals a table prints."""
    try:
        return abs(float(answer) - float(value)) < 0.005 + 1e-12
    except (TypeError, ValueError):
        return False


def _answered(answer: Any, right: bool, what: str) -> tuple[list[str], bool]:
    """The last reason (no answer, right, or wrong) and whether the answer is right."""
    if answer is None:
        return [f"No answer yet: call check(..., answer=...) with {what}."], False
    if right:
        return [f"Your answer {answer!r} is right."], True
    return [f"Your answer {answer!r} is not what your run shows: look again at {what}."], False


def _judged(why: list[str], answer: Any, right: bool, what: str) -> tuple[list[str], bool]:
    """The explanation comes with a right answer only: it gives the numbers away."""
    last, ok = _answered(answer, right, what)
    return (why if ok else []) + last, ok


def _yaml(value: Any) -> str:
    """A value as one line of YAML (what the student writes in lab-params.yaml).

    >>> _yaml("two-sided"), _yaml({"t2.ck": "t"}), _yaml(0.05)
    ('two-sided', '{t2.ck: t}', '0.05')
    """
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()


# ---------------------------------------------------------------------------- the judges
def _ild(ctx: Context, answer: Any) -> tuple[list[str], bool]:
    flow, paper = ctx.flow(), ctx.paper()["flow"]
    t2 = ctx.table("table2")
    sex = t2[t2["variable"] == "sex"]
    n_fail, n_resp = flow["flow.conv_failures"], flow["flow.conv_responders"]
    if {int(sex["n_nonresp"].iloc[0]), int(sex["n_resp"].iloc[0])} != {n_fail, n_resp}:
        return ["Figure 1 and Table 2 disagree: run 02_flow and 03_tables again, in order."], False
    myo, myo_paper = _row(t2, "myositis"), _row(ctx.paper()["t2"], "myositis")
    why = [f"Figure 1: {paper['flow.conv_failures']} -> {n_fail} patients fail conventional "
           f"treatment ({paper['flow.conv_responders']} -> {n_resp} respond): with fewer "
           "ILD criteria required, more patients count as refractory.",
           f"Table 2 compares the same groups ({n_resp} responders vs {n_fail} nonresponders); "
           f"its myositis-type p-value moved from {_p(myo_paper['p'])} to {_p(myo['p'])} "
           f"(significant at {ctx.params.alpha}: {float(myo['p']) < ctx.params.alpha})."]
    return _judged(why, answer, str(answer).strip() == str(n_fail),
                           "the number of patients who fail conventional treatment (Figure 1)")


def _fisher(ctx: Context, answer: Any) -> tuple[list[str], bool]:
    row, paper = _row(ctx.table("table3"), "jo1"), _row(ctx.paper()["t3"], "jo1")
    why = [f"Anti-Jo1 in Table 3: {paper['test']} p = {_p(paper['p'])} (printed 0.09) -> "
           f"{row['test']} p = {_p(row['p'])}. {int(row['resp'])} of {int(row['n_resp'])} "
           f"responders and {int(row['nonresp'])} of {int(row['n_nonresp'])} non-responders "
           "are positive; the one-sided test counts only tables as extreme in the observed "
           "direction, the two-sided test adds the other tail, so its p is larger and the "
           "'trend' of the Results rests on the one-sided choice."]
    return _judged(why, answer, _same_p(answer, row["p"]),
                           "Table 3's anti-Jo1 p-value, as printed (2 decimals)")


def _t_test(ctx: Context, answer: Any) -> tuple[list[str], bool]:
    from scipy import stats

    from analysis.paper.rows import BY_KEY

    changed = {k: v for k, v in ctx.params.continuous_tests.items()
               if Params().continuous_tests.get(k) != v}
    key = next(iter(changed))
    table, variable = key.split(".")
    row, paper = _row(ctx.table("table" + table[1:]), variable), _row(ctx.paper()[table],
                                                                      variable)
    data = ctx.paper()["index" if table == "t2" else "tac"]
    subset, group = ((data[data["included"].fillna(False).astype(bool)], "conv_responder")
                     if table == "t2" else
                     (data[data["tac_analysed"].fillna(False).astype(bool)], "tac_responder"))
    column = BY_KEY[variable].column
    values = subset.dropna(subset=[column])
    skew = stats.skew(values[column].astype(float))
    medians = values.groupby(values[group].astype(bool))[column].median()
    why = [f"{key}: {paper['test']} p = {_p(paper['p'])} -> {row['test']} p = {_p(row['p'])}.",
           f"The t test compares means ({float(row['resp']):.1f} vs {float(row['nonresp']):.1f}) "
           f"and their spread; the rank-sum test compares ranks (medians {medians[True]:.1f} vs "
           f"{medians[False]:.1f}). The values are skewed (skewness {skew:.1f}): a few large "
           "values widen the SD and move the means, so the two tests weigh the data differently."]
    return _judged(why, answer, _same_p(answer, row["p"]),
                           f"the p-value of the {key} row, as printed (2 decimals)")


def _missing(ctx: Context, answer: Any) -> tuple[list[str], bool]:
    flow, paper = ctx.flow(), ctx.paper()["flow"]
    a = ctx.table("assumptions")
    row = a[(a["name"] == "ck_missing_baseline")].iloc[0]
    moved = {k: (paper[k], flow[k]) for k in ("flow.conv_responders", "flow.conv_failures",
                                              "flow.tac_analysed", "flow.tac_responders")
             if paper[k] != flow[k]}
    why = ["The paper does not say how a missing baseline CK counts; the run assumes "
           f"{row['default']} ({row['source']}; the report's Assumptions section).",
           "Figure 1 moved: " + ", ".join(f"{k.removeprefix('flow.')} {a_} -> {b}"
                                         for k, (a_, b) in moved.items()) + ".",
           f"The Assumptions table of 02_flow shows both readings: {row['value']} gives "
           f"{int(row['conv_responders'])} responders, {row['alternative_values']} gives "
           f"{int(row['conv_responders_alt'])}; only the paper's reading reproduces Figure 1."]
    return _judged(why, answer, str(answer).strip() == str(flow["flow.conv_responders"]),
                           "the number of conventional responders now (Figure 1)")


def _robust(ctx: Context, answer: Any) -> tuple[list[str], bool]:
    claims = ctx.table("sensitivity_conclusions")
    claims["share"] = claims["share"].astype(float)
    best = claims.loc[claims["share"].idxmax()]
    shares = "; ".join(f"{c}: {s:.0%}" for c, s in zip(claims["conclusion"], claims["share"],
                                                       strict=True))
    why = [f"Share of the {int(best['n_definitions'])} definitions where each conclusion holds: "
           f"{shares}. Only '{best['conclusion']}' holds in most of the grid.",
           "The shares are over the whole grid, so they do not depend on the reference you "
           "moved (the star on the heatmap moved; the colours did not)."]
    return _judged(why, answer, str(answer).strip() == best["conclusion"],
                           "the key of the conclusion that holds in most of the grid "
                           f"(one of {', '.join(claims['conclusion'])})")


EXERCISES: dict[str, Exercise] = {e.key: e for e in (
    Exercise("ild-definition", "change the ILD definition", 20,
             "see how Figure 1 and Table 2 move together when refractory ILD needs 1 of the "
             "4 criteria instead of 2 (Methods, Response to treatment).",
             {"ild_criteria_required": 1}, ("02_flow", "03_tables"),
             "Figure 1 in 02_flow (the failures box) and Table 2 in 03_tables (group sizes in "
             "the caption, the myositis row's p).",
             "Predict first: more or fewer failures? Then: how many patients fail conventional "
             "treatment now?", _ild),
    Exercise("fisher-sided", "one-sided or two-sided Fisher", 15,
             "see that Table 3's anti-Jo1 p = 0.09 ('trended toward significance') is a "
             "one-sided Fisher test (methods audit, report Appendix B).",
             {"fisher_sided": "two-sided"}, ("03_tables",),
             "Table 3 in 03_tables, the anti-Jo1 row and the note naming each row's test.",
             "What is the anti-Jo1 p-value now (2 decimals)?", _fisher),
    Exercise("t-test", "a t test instead of Mann-Whitney", 15,
             "see why a p-value depends on the test when the data are skewed.",
             {"continuous_tests": {"t2.ck": "t"}}, ("03_tables",),
             "Table 2 in 03_tables, the baseline CK row and the note naming each row's test.",
             "What is the CK row's p-value now (2 decimals), and why did it move?", _t_test),
    Exercise("missing-data", "the missing-data assumption", 15,
             "find the assumption the paper does not state (how a missing baseline CK counts) "
             "and see its effect on the counts.",
             {"ck_missing_baseline": "not_met"}, ("02_flow",),
             "the Assumptions table at the end of 02_flow (rows ck_missing_baseline), then "
             "Figure 1.",
             "How many patients respond to conventional treatment now?", _missing),
    Exercise("sensitivity", "which conclusion is robust?", 20,
             "read the sensitivity heatmaps and shares: which of the paper's conclusions "
             "survives other reasonable definitions?",
             {"fvc_decline": 0.05}, ("06_sensitivity",),
             "the heatmaps and the share plot in 06_sensitivity (the star marks the run's "
             "definition), and the sentences above them.",
             "Which conclusion holds in most definitions (its key, e.g. 'pm_vs_dm')?", _robust),
)}


def exercise(key: str) -> Exercise:
    """The exercise ``key`` (shown in a notebook as its goal, change, place and question)."""
    if key not in EXERCISES:
        raise KeyError(f"no exercise {key!r}; one of {', '.join(EXERCISES)}")
    return EXERCISES[key]


def _missing_change(ex: Exercise, params: Params) -> list[str]:
    mine, paper = params.to_dict(), Params().to_dict()
    problems = []
    for name, value in ex.change.items():
        now = mine[name]
        if isinstance(value, Mapping):  # a partial mapping: compare the entries it names
            now = {k: mine[name].get(k) for k in value}
        if now != value:
            problems.append(f"lab-params.yaml does not make the change yet: {name} is "
                            f"{_yaml(now)}, the exercise asks for {_yaml(value)}. Write "
                            f"'{name}: {_yaml(value)}' in notebooks/lab-params.yaml and save.")
    others = sorted(k for k in mine if k not in ex.change and mine[k] != paper[k])
    if others:
        problems.append(f"lab-params.yaml also changes {', '.join(others)}: make only this "
                        "exercise's change (comment the other lines out) so that what moves "
                        "comes from it alone.")
    return problems


def _stale_steps(ex: Exercise, params: Params, run_dir: Path) -> list[str]:
    problems = []
    for step in ex.steps:
        path = run_dir / STAMPS / f"{step}.json"
        if not path.is_file():
            problems.append(f"{step} has not run into {run_dir} yet: run it.")
        elif not stamp_matches(json.loads(path.read_text(encoding="utf-8")), params):
            problems.append(f"{step} last ran with other parameters: run it again "
                            "(Kernel > Restart Kernel and Run All Cells).")
    return problems


def check(key: str, answer: Any = None, *, params_file: str | Path = "lab-params.yaml",
          run_dir: str | Path = "../runs/lab", data_dir: str | Path = "../data/raw") -> Verdict:
    """Say whether exercise ``key`` is done and the answer right, and why.

    Parameters
    ----------
    key : one of :data:`EXERCISES`.
    answer : the student's answer to the exercise's question (None: not answered yet).
    params_file, run_dir, data_dir : as in the notebooks' parameters cell (the defaults are
        JupyterLab's, relative to ``notebooks/``).

    Returns
    -------
    Verdict: ``ok`` only when the change is made, the steps ran with it, and the answer
    agrees with the run's outputs; the reasons say what is missing, or what moved and why.
    """
    ex = exercise(key)
    try:
        params = Params.load(params_file)
    except AnalysisError as error:
        return Verdict(key, False, (str(error),))
    missing = _missing_change(ex, params)
    missing += _stale_steps(ex, params, Path(run_dir)) if not missing else []
    if missing:
        return Verdict(key, False, tuple(missing))
    ctx = Context(params, Path(run_dir), Path(data_dir))
    try:
        reasons, right = ex.judge(ctx, answer)
    except FileNotFoundError as error:  # a step stamped its parameters but has not finished
        return Verdict(key, False, (f"{error.filename} is missing: run "
                                    f"{', '.join(ex.steps)} again, in order, to the end.",))
    if not right:
        reasons.insert(0, f"Your change reached the outputs of {', '.join(ex.steps)}.")
    return Verdict(key, right, tuple(reasons))
