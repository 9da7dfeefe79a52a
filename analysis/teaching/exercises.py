"""Five exercises a student can check alone, and :func:`check`, which says whether the answer
is right and why.

Each exercise has a goal, the one change to make in ``notebooks/lab-params.yaml``, where to
look, a question and the steps to run again. :func:`check` never compares with a typed answer:
it reads the parameter file, the parameters each step recorded (``parameters/<step>.json``) and
the step's saved outputs (``tables/*.csv``), computes the right answer from them (each
exercise's ``answer``), recomputes the paper's side with the package's functions
(:class:`analysis.params.Params` defaults, Sharma 2017 Methods), and then compares the
student's answer with the run's own. An answer is read as a person types it: ``33``, ``33.0``
and ``'33'`` are the same count; a conclusion is named by its label on the share plot or by its
key. When something is missing it says what: the change not made, a step not run again since,
or no answer yet; the explanation (what moved and why) comes with the right answer, since it
gives the numbers away. Every exercise's one change moves its answer (tested).

Why no autograding library: otter-grader and nbgrader grade a notebook against tests written
per assignment and collected by a teacher (nbgrader needs a course database and an exchange
folder, otter a grading image); here the answer is a property of the student's own run, which
a plain function computes in the student's kernel, with no new dependency and no setup.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import AnalysisError
from analysis.params import STAMPS, Params, stamp_matches

__all__ = ["EXERCISES", "Exercise", "Verdict", "check", "exercise", "change_line",
           "conclusion_names"]

#: How to bring ``runs/lab`` back to the lab file's parameters after an exercise.
RESET = ("comment the line out again and reset: `make reset` in a terminal, or "
         "`from analysis.teaching import reset_lab; reset_lab()` in a cell (seconds, through "
         "the pipeline's cache)")


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
    """One exercise: what to do, where to look, what to answer, and how its check reads it."""

    key: str
    title: str
    minutes: int
    goal: str
    change: Mapping[str, Any]  # the one change to lab-params.yaml (parameter: value)
    steps: tuple[str, ...]  # the notebooks to run again, in order; the check is in the last
    where: str
    question: str
    kind: str  # how an answer is read: "count", "p" (2 decimals) or "conclusions" (names)
    what: str  # the answer in words, for the feedback
    answer: Callable[[Context], Any] = field(repr=False)  # the right answer, from the run
    why: Callable[[Context], list[str]] = field(repr=False)  # shown with a right answer
    discuss: str = ""  # a question for discussion, not checked

    def markdown(self) -> str:
        lines = change_line(self).replace("\n", "\n  ")
        return (f"**Exercise: {self.title}** (about {self.minutes} min)\n\n"
                f"- *Goal*: {self.goal}\n"
                f"- *The one change*: in `notebooks/lab-params.yaml` write (or uncomment)\n\n"
                f"  ```yaml\n  {lines}\n  ```\n\n"
                f"  save, then run again, in order: {', '.join(self.steps)} "
                "(in each: *Kernel > Restart Kernel and Run All Cells*).\n"
                f"- *Where to look*: {self.where}\n"
                f"- *Question*: {self.question}\n"
                + (f"- *To discuss* (not checked): {self.discuss}\n" if self.discuss else "")
                + "- *Check*: the next cell. Run it as it is first: it says whether your change "
                "reached the outputs. Then write your answer after `answer =` and run it again: "
                "it says whether the answer is right, and why.\n"
                f"- *When done*: {RESET}.")

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

    def flow_labels(self) -> dict[str, str]:
        """Figure 1's boxes in words, by key."""
        flow = self.table("flow")
        return dict(zip(flow["key"], flow["label"], strict=True))

    def paper(self) -> dict[str, Any]:
        """The paper's side, recomputed on the same export with the paper's parameters."""
        if not self._paper:
            from analysis import sensitivity
            from analysis.cohort import analysis_groups, flow_table
            from analysis.schema import read_cohort
            from analysis.tables import analysis_dataset, table2, table3

            cohort, params = read_cohort(self.data_dir), Params()
            groups = analysis_groups(cohort.patients, cohort.assessments, params)
            flow = flow_table(groups)
            index = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
            tac = analysis_dataset(cohort.patients, groups, cohort.assessments, "tac_start")
            # The conclusions under the paper's definition alone (a grid of one definition).
            one = sensitivity.sweep(cohort.patients, cohort.assessments, params, {})
            self._paper.update(flow=dict(zip(flow["key"], flow["n"].astype(int), strict=True)),
                               groups=groups, index=index, tac=tac,
                               t2=table2(index, params), t3=table3(tac, params),
                               claims=sensitivity.conclusions(one, params.alpha))
        return self._paper


# ------------------------------------------------------------------------------ helpers
def _p(value: Any) -> str:
    return f"{float(value):.3f}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _row(table: pd.DataFrame, variable: str) -> pd.Series:
    rows = table[(table["variable"] == variable) & (table["test"].astype(str) != "")]
    return rows.iloc[0]


def _test_name(test: str) -> str:
    from analysis.stats import TEST_LABELS

    return TEST_LABELS.get(test, test)


def _row_name(table: str, variable: str) -> str:
    """A row of Tables 2-3 in words, e.g. "Table 2's baseline CK row"."""
    from analysis.tables import ROWS

    label = next((r.t2_label or r.label for r in ROWS if r.key == variable), variable)
    return f"Table {table.removeprefix('t')}'s {label.split(',')[0]} row"


def _yaml(value: Any) -> str:
    """A value as one line of YAML (what the student writes in lab-params.yaml).

    >>> _yaml("two-sided"), _yaml({"t2.ck": "t"}), _yaml(0.05)
    ('two-sided', '{t2.ck: t}', '0.05')
    """
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()


def change_line(ex: Exercise) -> str:
    """The exercise's one change as the line to write in ``lab-params.yaml``, spelled once for
    the exercise, the README and the lab file, e.g. ``continuous_tests: {t2.ck: t}``."""
    return "\n".join(f"{k}: {_yaml(v)}" for k, v in ex.change.items())


# ------------------------------------------------------------------ reading the answers
def _number(answer: Any) -> float | None:
    """A number however it is typed: ``33``, ``33.0``, ``'33'``, ``' 0.11 '``, ``'p = 0.11'``,
    ``'.11'``; None for anything else (a word, True/False, a list).

    >>> _number(33), _number(33.0), _number("33"), _number("p = 0.11"), _number(".11")
    (33.0, 33.0, 33.0, 0.11, 0.11)
    >>> _number("thirty"), _number(True), _number([33])
    (None, None, None)
    """
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int | float):
        return float(answer)
    if not isinstance(answer, str):
        return None
    text = answer.strip().lower().removeprefix("p").strip().removeprefix("=").strip()
    try:
        return float(text)
    except ValueError:
        return None


def _words(text: str) -> str:
    """A name compared loosely: lower case, no quotes, punctuation or line breaks.

    >>> _words("Majority respond\\nto tacrolimus."), _words("tac_majority")
    ('majority respond to tacrolimus', 'tac majority')
    """
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split())


def conclusion_names(claims: pd.DataFrame) -> dict[str, str]:
    """Every accepted spelling of each conclusion (loosely compared) -> its key: the key, the
    share plot's label (with and without its parenthesis) and the sentence of the claim."""
    from analysis.report.sensitivity import CONCLUSION_LABELS

    names: dict[str, str] = {}
    for key, claim in zip(claims["conclusion"], claims["claim"], strict=True):
        label = CONCLUSION_LABELS.get(key, key)
        for name in (key, label, re.sub(r"\(.*?\)", "", label), claim):
            names[_words(name)] = key
    return names


def _conclusions(answer: Any, claims: pd.DataFrame) -> frozenset[str] | None:
    """The conclusions an answer names (a name or a list of names; ``'none'`` for none), as
    keys; None when a name is not one of them."""
    names = conclusion_names(claims)
    items = [answer] if isinstance(answer, str) else answer
    if not isinstance(items, list | tuple | set | frozenset):
        return None
    keys = set()
    for item in items:
        text = _words(item)
        if text in ("none", "no one", "nothing", ""):
            continue
        if text not in names:
            return None
        keys.add(names[text])
    return frozenset(keys)


def _agrees(ex: Exercise, answer: Any, right: Any, ctx: Context) -> bool | None:
    """Whether the answer is the run's (None: it cannot be read as the question asks)."""
    if ex.kind == "conclusions":
        keys = _conclusions(answer, ctx.table("sensitivity_conclusions"))
        return None if keys is None else keys == right
    value = _number(answer)
    if value is None:
        return None
    if ex.kind == "count":
        return value == right
    return abs(value - float(right)) < 0.005 + 1e-12  # as the table prints it: 2 decimals


def _unreadable(ex: Exercise, answer: Any, ctx: Context) -> str:
    if ex.kind == "conclusions":
        claims = ctx.table("sensitivity_conclusions")
        from analysis.report.sensitivity import CONCLUSION_LABELS

        labels = "; ".join(CONCLUSION_LABELS.get(k, k).replace("\n", " ")
                           for k in claims["conclusion"])
        return (f"Your answer {answer!r} is not one of the conclusions: answer with a name as "
                f"the share plot writes it ({labels}) or its key, e.g. 'pm_vs_dm'; 'none' if "
                "every one still holds.")
    kind = "a whole number" if ex.kind == "count" else "a p-value"
    return f"Your answer {answer!r} is not {kind}: write it as a number, e.g. answer = 12."


# ---------------------------------------------------------------------------- the judges
# Each exercise has two functions of the run (a Context): its right answer, and why (the
# explanation shown with a right answer only, since it gives the numbers away).
def _failures(ctx: Context) -> int:
    return ctx.flow()["flow.conv_failures"]


def _ild_why(ctx: Context) -> list[str]:
    flow, paper, labels = ctx.flow(), ctx.paper()["flow"], ctx.flow_labels()
    t2 = ctx.table("table2")
    n_fail, n_resp = flow["flow.conv_failures"], flow["flow.conv_responders"]
    myo, myo_paper = _row(t2, "myositis"), _row(ctx.paper()["t2"], "myositis")
    return [f"Figure 1: {labels['flow.conv_failures']}: {paper['flow.conv_failures']} -> "
            f"{n_fail} patients ({labels['flow.conv_responders']}: "
            f"{paper['flow.conv_responders']} -> {n_resp}): with fewer ILD criteria required, "
            "more patients count as refractory.",
            f"Table 2 compares the same groups ({n_resp} responders vs {n_fail} nonresponders); "
            f"the p-value of its myositis row moved from {_p(myo_paper['p'])} to "
            f"{_p(myo['p'])} (below {ctx.params.alpha}: "
            f"{_yes(float(myo['p']) < ctx.params.alpha)})."]


def _jo1_p(ctx: Context) -> float:
    return float(_row(ctx.table("table3"), "jo1")["p"])


def _fisher_why(ctx: Context) -> list[str]:
    row, paper = _row(ctx.table("table3"), "jo1"), _row(ctx.paper()["t3"], "jo1")
    return [f"Anti-Jo1 in Table 3: {_test_name(paper['test'])}, p = {_p(paper['p'])} "
            f"(printed 0.09) -> {_test_name(row['test'])}, p = {_p(row['p'])}. "
            f"{int(row['resp'])} of {int(row['n_resp'])} responders and {int(row['nonresp'])} "
            f"of {int(row['n_nonresp'])} non-responders are positive; the one-sided test counts "
            "only tables as extreme in the observed direction, the two-sided test adds the "
            "other tail, so its p is larger and the 'trend' of the Results rests on the "
            "one-sided choice."]


def _changed_row(ctx: Context) -> tuple[str, str]:
    """The table and row whose test the student changed (e.g. ``("t2", "ck")``)."""
    changed = [k for k, v in ctx.params.continuous_tests.items()
               if Params().continuous_tests.get(k) != v]
    table, _, variable = (changed or ["t2.ck"])[0].partition(".")
    return table, variable


def _t_p(ctx: Context) -> float:
    table, variable = _changed_row(ctx)
    return float(_row(ctx.table("table" + table[1:]), variable)["p"])


def _t_why(ctx: Context) -> list[str]:
    from scipy import stats

    from analysis.paper.rows import BY_KEY

    table, variable = _changed_row(ctx)
    row = _row(ctx.table("table" + table[1:]), variable)
    paper = _row(ctx.paper()[table], variable)
    data = ctx.paper()["index" if table == "t2" else "tac"]
    subset, group = ((data[data["included"].fillna(False).astype(bool)], "conv_responder")
                     if table == "t2" else
                     (data[data["tac_analysed"].fillna(False).astype(bool)], "tac_responder"))
    column = BY_KEY[variable].column
    values = subset.dropna(subset=[column])
    skew = stats.skew(values[column].astype(float))
    medians = values.groupby(values[group].astype(bool))[column].median()
    return [f"{_row_name(table, variable)}: {_test_name(paper['test'])}, p = {_p(paper['p'])} "
            f"-> {_test_name(row['test'])}, p = {_p(row['p'])}.",
            f"Why it moved: the t test compares means ({float(row['resp']):.1f} vs "
            f"{float(row['nonresp']):.1f}) and their spread; the rank-sum test compares ranks "
            f"(medians {medians[True]:.1f} vs {medians[False]:.1f}). The values are skewed "
            f"(skewness {skew:.1f}): a few large values widen the SD and move the means, so "
            "the two tests weigh the data differently."]


def _responders(ctx: Context) -> int:
    return ctx.flow()["flow.conv_responders"]


def _missing_why(ctx: Context) -> list[str]:
    flow, paper, labels = ctx.flow(), ctx.paper()["flow"], ctx.flow_labels()
    a = ctx.table("assumptions")
    row = a[(a["name"] == "ck_missing_baseline")].iloc[0]
    moved = [f"{labels[k]} {paper[k]} -> {flow[k]}" for k in (
        "flow.conv_responders", "flow.conv_failures", "flow.tac_analysed",
        "flow.tac_responders") if paper[k] != flow[k]]
    return ["The paper does not say how a missing baseline CK counts; the paper run assumes "
            f"'{row['default'].partition('=')[2]}' (a missing baseline CK with a follow-up CK "
            "above the limit meets the CK criterion).",
            "Figure 1 moved: " + "; ".join(moved) + ".",
            f"The Assumptions table of 02_flow shows both readings: "
            f"'{row['value'].partition('=')[2]}' (yours) gives {int(row['conv_responders'])} "
            f"responders, '{row['alternative_values'].partition('=')[2]}' gives "
            f"{int(row['conv_responders_alt'])}; only the paper run's reading reproduces the "
            "printed Figure 1."]


def _not_holding(ctx: Context) -> frozenset[str]:
    """The conclusions supported (holds, established) under the paper's definition and not
    under the student's."""
    claims, paper = ctx.table("sensitivity_conclusions"), ctx.paper()["claims"]
    mine = set(claims.loc[claims["reference_holds"].astype(str) != "True", "conclusion"])
    theirs = set(paper.loc[~paper["reference_holds"].astype(bool), "conclusion"])
    return frozenset(mine - theirs)


def _robust_why(ctx: Context) -> list[str]:
    from analysis.report.sensitivity import CONCLUSION_LABELS

    claims, paper = ctx.table("sensitivity_conclusions"), ctx.paper()["claims"]
    name = {k: CONCLUSION_LABELS.get(k, k).replace("\n", " ") for k in claims["conclusion"]}
    mine = dict(zip(claims["conclusion"], claims["reference_detail"], strict=True))
    theirs = dict(zip(paper["conclusion"], paper["reference_detail"], strict=True))
    holds = dict(zip(claims["conclusion"], claims["reference_holds"].astype(str) == "True",
                     strict=True))
    shares = claims["share"].astype(float)
    robust = [k for k, v in zip(claims["conclusion"], shares, strict=True) if v > 0.5]
    was = dict(zip(paper["conclusion"], paper["reference_holds"].astype(bool), strict=True))
    flipped = [f"'{name[k]}' {'is supported' if holds[k] else 'is no longer supported'}: "
               f"{theirs[k]} under "
               f"the paper's definition, {mine[k]} under yours" for k in claims["conclusion"]
               if holds[k] != was[k]]
    kept = [f"{name[k]}: {mine[k]}" for k in claims["conclusion"] if holds[k] == was[k]]
    return ["Under your definition, " + "; ".join(flipped) + ". The others kept their verdict, "
            "with other numbers (" + "; ".join(kept) + ").",
            "The shares did not move: each is counted over all "
            f"{int(claims['n_definitions'][0]):,} definitions of the grid, whichever one is "
            "the reference (the black box on the heatmaps moved; the colours did not). "
            + "; ".join(f"'{name[k]}' is supported in {s:.0%}" for k, s in
                        zip(claims["conclusion"], shares, strict=True))
            + ". A verdict under one definition can flip with a neighbouring cutoff; "
            + (f"supported in most of the grid: {', '.join(repr(name[k]) for k in robust)}."
               if robust else "none is supported in most of the grid.")]


EXERCISES: dict[str, Exercise] = {e.key: e for e in (
    Exercise("ild-definition", "change the ILD definition", 20,
             "see how Figure 1 and Table 2 move together when refractory ILD needs 1 of the "
             "4 criteria instead of 2 (Methods, Response to treatment).",
             {"ild_criteria_required": 1}, ("02_flow", "03_tables"),
             "Figure 1 in 02_flow (the box of patients who failed conventional treatment), then "
             "Table 2 above (group sizes in the caption, the myositis row's p).",
             "Predict first: more or fewer failures? Then: how many patients fail conventional "
             "treatment now?", "count",
             "the number of patients who fail conventional treatment (Figure 1)",
             _failures, _ild_why,
             "does the myositis row of Table 2 still reach p < 0.05?"),
    Exercise("fisher-sided", "one-sided or two-sided Fisher", 15,
             "see that Table 3's anti-Jo1 p = 0.09 ('trended toward significance') is a "
             "one-sided Fisher test (methods audit, report Appendix B).",
             {"fisher_sided": "two-sided"}, ("03_tables",),
             "Table 3 above, the anti-Jo1 row and the note naming each row's test.",
             "What is the anti-Jo1 p-value now (2 decimals)?", "p",
             "Table 3's anti-Jo1 p-value, as printed (2 decimals)", _jo1_p, _fisher_why,
             "would you still call it a trend?"),
    Exercise("t-test", "a t test instead of Mann-Whitney", 15,
             "see why a p-value depends on the test when the data are skewed.",
             {"continuous_tests": {"t2.ck": "t"}}, ("03_tables",),
             "Table 2 above, the baseline CK row and the note naming each row's test.",
             "What is the baseline CK row's p-value now (2 decimals)?", "p",
             "the p-value of Table 2's baseline CK row, as printed (2 decimals)", _t_p, _t_why,
             "why did it move? Compare the means with the medians (the check explains once "
             "your number is right)."),
    Exercise("missing-data", "the missing-data assumption", 15,
             "find the assumption the paper does not state (how a missing baseline CK counts) "
             "and see its effect on the counts.",
             {"ck_missing_baseline": "not_met"}, ("02_flow",),
             "the Assumptions table above (the ck_missing_baseline row), then Figure 1.",
             "How many patients respond to conventional treatment now?", "count",
             "the number of patients who respond to conventional treatment (Figure 1)",
             _responders, _missing_why,
             "where should the paper have said how a missing value counts?"),
    Exercise("sensitivity", "one definition or the whole grid?", 20,
             "see that a conclusion can hold under the paper's definition and fail under a "
             "neighbouring one, and read the shares to tell a robust conclusion from a "
             "fragile one.",
             {"fvc_decline": 0.15}, ("05_sensitivity",),
             "the share plot above (beside each bar, the conclusion's verdict under your "
             "definition: 'holds', 'established', 'direction only', 'not established' or "
             "'reversed') and the heatmaps (the black box marks your definition).",
             "Naming them as the share plot does (e.g. 'PM-ILD responds more than DM-ILD'; or "
             "the keys, e.g. 'pm_vs_dm'; a list for several; 'none' for none): which of the "
             "paper's conclusions, supported under the paper's definition (holds or "
             "established), are no longer supported under yours?", "conclusions",
             "the conclusions whose verdict beside the bar is no longer 'holds' or "
             "'established'", _not_holding, _robust_why,
             "did the shares move? Which conclusion would you call robust?"),
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
                            f"'{change_line(ex)}' in notebooks/lab-params.yaml and save.")
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
            problems.append(f"{step} has not run yet: run it.")
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
    answer : the student's answer to the exercise's question (None: not answered yet). A
        number may be typed as ``33``, ``33.0`` or ``'33'``; a conclusion by its name on the
        share plot or its key.
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
    reached = f"Your change reached the outputs of {', '.join(ex.steps)}."
    try:
        right = ex.answer(ctx)
        agrees = None if answer is None else _agrees(ex, answer, right, ctx)
        if agrees:
            return Verdict(key, True, (*ex.why(ctx), f"Your answer {answer!r} is right."))
        if answer is None:
            last = f"No answer yet: write {ex.what} after `answer =` and run this cell again."
        elif agrees is None:
            last = _unreadable(ex, answer, ctx)
        else:
            last = f"Your answer {answer!r} is not what your run shows: look again at {ex.what}."
    except FileNotFoundError as error:  # a step stamped its parameters but has not finished
        return Verdict(key, False, (f"{Path(error.filename).name} is missing: run "
                                    f"{', '.join(ex.steps)} again, in order, to the end.",))
    return Verdict(key, False, (reached, last))
