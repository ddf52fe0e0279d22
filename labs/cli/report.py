"""python -m labs report: the arguments of the write-up; the work is labs.report.build's."""

from __future__ import annotations

import argparse
import sys

from labs.core.errors import UsageError
from labs.store.runs import results_root

NAME = "report"
HELP = "write results/<machine>/REPORT.md and plots from stored runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="results", help="results directory (default: ./results)")
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="keep runs of this machine that its speed fingerprint puts in another speed class, their "
        "times divided by the fingerprints' ratio (named in the report); speedups are unchanged; "
        "implies --all-sessions",
    )

    parser.add_argument(
        "--all-sessions",
        action="store_true",
        help="merge every session's runs of the report's mode and host (the newest run's bench wins for "
        "each key) instead of reading the newest complete session alone",
    )


def execute(args: argparse.Namespace) -> int:
    from labs.report import build

    written, problems = build.write_reports(results_root(args.results), args.normalize, args.all_sessions)
    for problem in problems:
        print(f"warning: left out {problem}", file=sys.stderr)
    if not written:
        raise UsageError(f"no results to report under {args.results!r}: run `nox -s bench` first")
    for path in written:
        print(f"wrote {path}")
    return 0
