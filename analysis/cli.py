"""Command line: ``python -m analysis run | validate | template | params | synth``.

Mirrors papermill's shape: a run name, a YAML parameter file (``--params``) and single
overrides (``-p name=value``). Errors the user can fix are printed as one clear message and
exit with status 2; nothing is left half-written. An interrupted run (Ctrl-C, or SIGTERM from
a scheduler or ``kill``) removes its staging folder and leaves the previous bundle as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

from analysis import paths
from analysis.errors import MAX_PROBLEMS, AnalysisError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the notebooks and render the report into runs/NAME")
    run.add_argument("--name", default="paper",
                     help="run name (folder under runs/): 1 to 64 letters, digits, - or _, "
                          "starting with a letter or digit")
    run.add_argument("--params", type=Path, help="YAML file of parameters")
    run.add_argument("-p", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                     help="override one parameter, e.g. -p fvc_decline=0.05 (repeatable)")
    run.add_argument("--data", type=Path, help="folder of the export (default: data/raw)")
    run.add_argument("--sheet", help="Excel: the sheet to read in every .xlsx file "
                     "(default: the first sheet whose header matches the codebook)")
    run.add_argument("--to", default="html,pdf,docx",
                     help="formats to render: html,pdf,docx (or none)")
    run.add_argument("--figures", default="report", choices=("report", "print"),
                     help="files of each figure: report (the PNG every format embeds; default) "
                          "or print (also SVG, a 300-dpi PNG and PDF; `make figures`)")
    run.add_argument("--engine", default="auto", choices=("auto", "quarto", "pandoc"),
                     help="renderer: quarto if installed (auto), or pandoc + Typst")
    run.add_argument("--runs-dir", type=Path, help="where runs are written (default: runs/)")
    run.add_argument("--jobs", type=int, default=None,
                     help="kernels the notebooks run in (default: 2; 1 on a one-CPU machine "
                          "or for an export over 10 MB, to bound memory)")
    run.add_argument("--max-problems", type=int, default=MAX_PROBLEMS, metavar="N",
                     help=f"list at most N problems or warnings per file and rule, then count "
                     f"the rest (default {MAX_PROBLEMS}; 0 lists all)")
    run.add_argument("--no-cache", action="store_true",
                     help="recompute every step (default: reuse steps whose notebook, code, "
                          "inputs and parameters did not change)")

    synth = sub.add_parser("synth", help="regenerate the synthetic cohort from data/published")
    synth.add_argument("--seed", type=int, default=2017)
    synth.add_argument("--out", type=Path, default=paths.RAW,
                       help="folder to write (default: the repository's data/raw)")

    validate = sub.add_parser("validate", help="check an export against the codebook and "
                              "print every problem (exit status 2 if any)")
    validate.add_argument("--data", type=Path, help="folder of the export (default: data/raw)")
    validate.add_argument("--sheet", help="Excel: the sheet to read in every .xlsx file "
                          "(default: the first sheet whose header matches the codebook)")
    validate.add_argument("--max-problems", type=int, default=MAX_PROBLEMS, metavar="N",
                          help=f"list at most N problems or warnings per file and rule, then "
                          f"count the rest (default {MAX_PROBLEMS}; 0 lists all)")
    validate.add_argument("--params", type=Path, help="YAML file of the run's parameters "
                          "(the warnings and the eligibility check use them)")
    validate.add_argument("-p", dest="overrides", action="append", default=[],
                          metavar="NAME=VALUE", help="override one parameter (repeatable)")

    template = sub.add_parser("template", help="write blank export files (headers from the "
                              "codebook) and a README explaining each column")
    template.add_argument("--out", type=Path, required=True, help="folder to write into")
    template.add_argument("--force", action="store_true", help="overwrite existing files")

    params = sub.add_parser("params", help="list the parameters, defaults and allowed values")
    params.add_argument("--params", type=Path, help="YAML file to check")
    params.add_argument("-p", dest="overrides", action="append", default=[],
                        metavar="NAME=VALUE")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.params import Params
    from analysis.pipeline import run

    params = Params.load(args.params, args.overrides)
    formats = tuple(f for f in args.to.split(",") if f and f != "none")
    unknown = [f for f in formats if f not in ("html", "pdf", "docx")]
    if unknown:
        raise AnalysisError(f"--to: unknown format(s) {', '.join(unknown)}; "
                            "allowed: html, pdf, docx")
    # The run reads and checks the export once, with these parameters, before anything is
    # created (analysis.pipeline.read_export), and shows its warnings here.
    run(args.name, params, data_dir=args.data, formats=formats,
        runs_dir=args.runs_dir, engine=args.engine, jobs=args.jobs, cache=not args.no_cache,
        sheet=args.sheet, started=args.started, warn=_warn, max_problems=args.max_problems,
        figures=args.figures)
    return 0


def _warn(text: str) -> None:
    print(text, file=sys.stderr)


def _cmd_synth(args: argparse.Namespace) -> int:
    from analysis import synth

    frames = synth.build(seed=args.seed)
    synth.write(frames, args.out)
    print(f"wrote synthetic cohort (seed {args.seed}) to {args.out}")
    return 0


def _data_dir(data: Path | None) -> Path:
    return data if data is not None else paths.RAW


def _check_data(data: Path | None, sheet: str | None = None,
                max_problems: int = MAX_PROBLEMS, params=None) -> None:
    """Check an export (:func:`analysis.pipeline.once.check_data`, the run's own check):
    warnings go to stderr (empty-data warnings worded for ``params``); any problem raises,
    listing at most ``max_problems`` per file and rule (0: all)."""
    from analysis.params import Params
    from analysis.pipeline.once import check_data

    folder = _data_dir(data)
    cohort = check_data(folder, sheet, params or Params(), _warn, max_problems).cohort
    print(f"{folder}: OK ({len(cohort.patients)} patients, {len(cohort.assessments)} "
          f"assessments, {len(cohort.doses)} dose records)")


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.params import Params

    params = Params.load(args.params, args.overrides)
    _check_data(args.data, sheet=args.sheet, max_problems=args.max_problems, params=params)
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from analysis.template import write_template

    written = write_template(args.out, force=args.force)
    print(f"wrote {', '.join(p.name for p in written)} to {args.out}: fill in one file per "
          f"table (see README.md), then: python -m analysis validate --data {args.out}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from analysis.params import Params

    chosen = Params.load(args.params, args.overrides).to_dict()
    for spec in Params.describe():
        value = chosen[spec["name"]]
        print(f"{spec['name']:24} = {value!r}")
        print(f"{'':24}   {spec['meaning']}; allowed: {spec['allowed'] or 'see meaning'}"
              f"{'; ' + spec['unit'] if spec['unit'] else ''} [{spec['source']}]")
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` and cleanup runs (the staging
    folder of a run is removed; the previous bundle was never touched)."""


def _raise_terminated(signum, frame):  # noqa: ARG001 (signal handler signature)
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises():
    """Turn SIGTERM into :class:`Terminated` while the command runs (main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None, started: float | None = None) -> int:
    """Run one command; ``started`` (``time.time()``) is when the user's wait began (``python
    -m analysis`` passes its own start; default: now), for the wall time a run reports."""
    started = time.time() if started is None else started
    args = _parser().parse_args(argv)
    args.started = started
    handler = {"run": _cmd_run, "synth": _cmd_synth, "validate": _cmd_validate,
               "template": _cmd_template, "params": _cmd_params}[args.command]
    try:
        with _sigterm_raises():
            return handler(args)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a folder that cannot be written: what failed, what to do
        from analysis.runfolder import os_error_message

        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print("interrupted: the previous bundle is untouched", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
