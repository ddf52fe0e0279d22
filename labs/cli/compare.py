"""python -m labs compare: the arguments of a run-to-run comparison; the statistics are labs.analyse's."""

from __future__ import annotations

import argparse
import math
import sys

from labs.core.errors import UsageError
from labs.store.runs import results_root

NAME = "compare"
HELP = "compare stored runs bench by bench (exit 1 on a regression)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="*", help="results files, runtime tags (latest run) or MACHINE/TAG")
    parser.add_argument("--table", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--threshold", default="0.05", help="smallest change flagged (fraction in [0, 1), default 0.05)"
    )
    parser.add_argument("--results", default="results", help="results directory (default: ./results)")
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="runs from different hosts: divide by their speed fingerprints' ratio (labelled normalized)",
    )
    parser.add_argument(
        "--speedups",
        action="store_true",
        help="compare each bench's time relative to its paired serial baseline (1 / speedup), per "
        "process: a host's drift divides out, so noisy or different hosts can be compared",
    )


def parse_threshold(text: str) -> float:
    """*text* as a fraction in [0, 1), or a UsageError naming the bad value."""
    try:
        threshold = float(text)
    except ValueError:
        threshold = math.nan
    if not 0 <= threshold < 1:  # NaN fails this too
        raise UsageError(f"threshold must be a fraction in [0, 1), got {text!r}")
    return threshold


def execute(args: argparse.Namespace) -> int:
    from labs.analyse import compare, hosts
    from labs.analyse import runs as analysis
    from labs.store import source

    if len(args.runs) < 2:
        raise UsageError("compare needs at least two runs: a results file, a runtime tag or MACHINE/TAG each")
    threshold = parse_threshold(args.threshold)
    runs, problems = analysis.load(results_root(args.results))
    for problem in problems:
        print(f"warning: left out {problem}", file=sys.stderr)
    chosen = analysis.resolve_all(args.runs, runs)  # by tag: the newest runs of the same mode and suites
    # Which code made each side: a difference between two commits' runs may be the lab's, not Python's.
    made_by = [f"{run.tag}/{run.path.name}: lab {source.label(run.record.get('source'))}" for run in chosen]
    if args.speedups:
        # Each side is a ratio taken inside one process: the host's speed is in both of its terms.
        chosen = [compare.relative_times(run) for run in chosen]
        notes = [
            "comparing relative times: each bench's time / its paired serial baseline's in the same "
            "process (1 / speedup); benches without a paired baseline are left out"
        ]
    else:
        # never a host's speed as a regression; each run judged with its session
        chosen, notes = hosts.check(chosen, normalize=args.normalize, among=runs)
    lines, compared, regressions = compare.render(chosen, threshold, markdown=args.table)
    for line in [*made_by, *notes, *lines]:
        print(line)
    if not compared:
        raise UsageError("nothing to compare: the runs have no bench in common")
    print(f"\n{compared} benches compared, {regressions} regression(s)")
    return 1 if regressions else 0
