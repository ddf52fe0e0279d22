"""python -m labs compare: the arguments of a run-to-run comparison; the statistics are labs.analyse's."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labs.core.errors import UsageError
from labs.store.runs import results_root

if TYPE_CHECKING:
    from labs.analyse.runs import Run as StoredRun

NAME = "compare"
HELP = "compare stored runs bench by bench (exit 1 on a regression)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="*", help="results files, runtime tags (latest run) or MACHINE/TAG")
    parser.add_argument("--table", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (a `flagged` field per bench)"
    )
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
    # runtime tags: the runs the machine's report reads for each (merged, one host, one mode); files,
    # and tags of several machines, name runs of their own
    reported = as_reported(args.runs, runs, args.normalize)
    chosen = [run for run, _ in reported] if reported else analysis.resolve_all(args.runs, runs)
    # Which code made each side: a difference between two commits' runs may be the lab's, not Python's.
    made_by = (
        [line for _, lines in reported for line in lines]
        if reported
        else [f"{run.tag}/{run.path.name}: lab {source.label(run.record.get('source'))}" for run in chosen]
    )
    profile = _profile(chosen[0], runs)
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
    if args.json:
        results = compare.compare_many(chosen[0], chosen[1:], threshold, profile=profile)
        if not any(result.comparisons for result in results):
            raise UsageError("nothing to compare: the runs have no bench in common")
        print(json.dumps(as_json(results, made_by + notes), indent=1, allow_nan=False))
        return 1 if any(c.verdict == "REGRESSION" for r in results for c in r.comparisons) else 0
    lines, compared, regressions = compare.render(chosen, threshold, args.table, profile)
    for line in [*made_by, *notes, *lines]:
        print(line)
    if not compared:
        raise UsageError("nothing to compare: the runs have no bench in common")
    print(f"\n{compared} benches compared, {regressions} regression(s)")
    return 1 if regressions else 0


def _profile(base: Any, runs: list[Any]) -> Any:
    """The between-run drift of *base*'s host, learned from its runs of *base*'s mode (labs.analyse.noise)."""
    from labs.analyse import hosts, noise

    found = hosts.assign([run for run in runs if run.machine == base.machine])
    host, mode = found.get(base), base.record.get("mode")
    return noise.learn(
        [
            run
            for run, its in found.items()
            if run.record.get("mode") == mode and (host is None or hosts.same_host(its, host))
        ]
    )


def as_reported(
    specs: list[str], runs: list[StoredRun], normalize: bool = False
) -> list[tuple[StoredRun, list[str]]] | None:
    """Runtime tags (TAG or MACHINE/TAG, no file) as the runs the report of their machine reads: each
    tag's benches merged across its runs of the report's mode and host. The machine: the one named,
    else this one when it has every tag, else the one whose runs of those tags hold the most benches.
    None when a spec is a file: those are compared as they are. Each run comes with lines naming the
    files it merges and the lab's commit behind each."""
    from labs.analyse.runs import Run
    from labs.core.tag import RuntimeTag
    from labs.report.view import build_view
    from labs.store.runs import machine_id

    if any(Path(spec).suffix == ".json" for spec in specs):
        return None
    named = {spec.rpartition("/")[0] for spec in specs} - {""}
    tags = [spec.rpartition("/")[2] for spec in specs]
    if named and (len(named) > 1 or any("/" not in spec for spec in specs)):
        return None  # runs of several machines, or one named and one not: compared as stored
    holding = sorted(
        m
        for m in {r.machine for r in runs}
        if all(any(r.machine == m and r.tag == t for r in runs) for t in tags)
    )
    if named:
        holding = [m for m in holding if m in named]
    if not holding:
        return None  # resolve_all says what is missing, in its own words
    here = machine_id()
    machine = (
        here
        if here in holding
        else max(holding, key=lambda m: sum(len(r.benches) for r in runs if r.machine == m and r.tag in tags))
    )
    view = build_view(machine, [r for r in runs if r.machine == machine], [], normalize)
    found = [view.runtimes.get(RuntimeTag.parse(t)) if RuntimeTag.is_valid(t) else None for t in tags]
    if not all(runtime and runtime.benches for runtime in found):
        return None  # not the lab's benches (plain pyperf files), or none of the report's: as stored
    chosen = []
    for tag in tags:
        runtime = view.runtimes[RuntimeTag.parse(tag)]
        newest = max(
            (r for r in view.all_runs if r.tag == tag and f"{r.tag}/{r.path.name}" in runtime.sources),
            key=lambda r: r.started,
        )
        benches = {bench.name: bench for bench in runtime.benches.values()}
        merged = Run(newest.path, machine, tag, newest.started, runtime.record, benches)
        read = (
            f"session {view.session}"
            if view.session
            else "every session merged, the newest bench of each key"
        )
        lines = [f"{tag} ({machine}): the report's {runtime.mode}-mode runs ({read}):"]
        lines += [
            f"  {file}: lab {commit}" for file, commit in zip(runtime.sources, runtime.commits, strict=True)
        ]
        chosen.append((merged, lines))
    return chosen


def as_json(results: list[Any], notes: list[str]) -> dict[str, Any]:
    """What --json prints: each run against the base, a row a bench with its verdict and ``flagged``."""

    def finite(value: float | None) -> float | None:
        return value if value is not None and math.isfinite(value) else None

    return {
        "notes": notes,
        "comparisons": [
            {
                "base": result.base.label,
                "other": result.other.label,
                "benches": [
                    {
                        "bench": c.name,
                        "base_seconds": finite(c.base.mean),
                        "other_seconds": finite(c.other.mean),
                        "ratio": finite(c.ratio),
                        "ci": [finite(c.ci[0]), finite(c.ci[1])] if c.ci else None,
                        "ci_level": c.level,
                        "p": finite(c.p_value),
                        "q": finite(c.q_value),
                        "n_base": c.base.shape,
                        "n_other": c.other.shape,
                        "verdict": c.verdict,
                        "flagged": c.flagged,
                    }
                    for c in result.comparisons
                ],
                "only_one_side": result.notes,
            }
            for result in results
        ],
    }
