"""python -m labs list | run | doctor"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from labs import models, workloads
from labs.core import faults, lab, patterns, runtime
from labs.core.callref import resolve
from labs.core.errors import RunError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other bad input (argparse would print the usage first).
        command = " ".join(self.prog.split()[1:])
        raise UsageError(f"{message} (see 'python -m labs {command + ' ' if command else ''}--help')")


def _cmd_list(args: argparse.Namespace) -> int:
    print("workloads:")
    for workload in workloads.all_workloads():
        print(f"  {workload.name:<14} {workload.kind:<4} {workload.description}")
    print("models:")
    for name in models.names():
        cls = models.get(name)
        why = cls.unavailable_reason()
        print(f"  {name:<21} {'available' if why is None else 'unavailable: ' + why}")
    print("patterns:")
    for name in patterns.NAMES:
        print(f"  {name}")
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    facts = runtime.facts()
    if args.json:
        print(json.dumps(facts, indent=2, sort_keys=True))
    else:
        for key, value in facts.items():
            print(f"{key:<24} {value}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    # Validate everything before running anything.
    workload = workloads.get(args.workload)
    model_class = models.available(args.model)
    pattern = patterns.check_name(args.pattern)
    workers = lab.check_workers(lab.parse_int("workers", args.workers))
    size = lab.parse_positive_int("size", args.size) if args.size is not None else workload.sizes["default"]
    timeout = float(lab.parse_positive_int("timeout", args.timeout))
    if args.fault == "kill" and model_class.in_process:
        raise UsageError(
            f"--fault kill needs a model whose workers are processes; {args.model!r} runs inside the lab"
        )
    _apply_http_options(args)
    combination = lab.Combination(workload.name, args.model, pattern, workers)
    facts = runtime.facts()
    gil = "GIL on" if facts["gil_enabled"] else "GIL off"
    print(f"{combination}: {size} tasks on Python {facts['version']} ({facts['tag']}, {gil})")
    with workload.environment() as env:
        tasks = workload.make_tasks(size, env)
        task_func = faults.FUNCTIONS[args.fault] if args.fault else lab.task_function(workload, args.model)
        if not args.fault:
            expected = lab.serial_reference(workload, tasks)
            run_serially = resolve(workload.task)
            [run_serially(task) for task in tasks]  # warm-up: imports, caches, connections
            serial_time, serial_results = lab.timed(lambda: [run_serially(task) for task in tasks])
            lab.verify(
                lab.Combination(workload.name, "serial", "n-workers", 1),
                serial_results,
                expected,
                workload.verified,
            )
            print(f"  {'serial':<22}{serial_time:9.4f} s")
        with model_class(workers) as model:
            lab.execute(model, pattern, task_func, tasks, combination, timeout)  # warm-up job
            model_time, results = lab.timed(
                lambda: lab.execute(model, pattern, task_func, tasks, combination, timeout)
            )
    lab.verify(combination, results, expected, workload.verified)
    print(f"  {args.model:<22}{model_time:9.4f} s")
    print(f"  {'speedup':<22}{serial_time / model_time:9.2f}x vs serial")
    print(f"  {'verified':<22}{len(results)} results equal the serial reference")
    return 0


def _apply_http_options(args: argparse.Namespace) -> None:
    """--latency-ms / --payload: checked, then passed to the server and the workers in the environment."""
    from labs.workloads.io import local_server

    latency = lab.parse_int("latency-ms", args.latency_ms) if args.latency_ms is not None else None
    payload = lab.parse_int("payload", args.payload) if args.payload is not None else None
    default_latency, default_payload = local_server.settings()
    local_server.check_settings(
        default_latency if latency is None else latency, default_payload if payload is None else payload
    )
    if latency is not None:
        os.environ[local_server.LATENCY_ENV] = str(latency)
    if payload is not None:
        os.environ[local_server.PAYLOAD_ENV] = str(payload)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="labs", description="gil-lab: one workload, every execution model.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="workloads, models (available here or why not), patterns")
    doctor = commands.add_parser("doctor", help="facts about this runtime")
    doctor.add_argument("--json", action="store_true", help="print them as JSON")
    run = commands.add_parser("run", help="run one combination once, verified, with its speedup vs serial")
    run.add_argument("-w", "--workload", required=True, help=f"one of: {', '.join(workloads.NAMES)}")
    run.add_argument("-m", "--model", required=True, help=f"one of: {', '.join(models.names())}")
    run.add_argument("-p", "--pattern", default="n-workers", help=f"one of: {', '.join(patterns.NAMES)}")
    run.add_argument("-n", "--workers", default="2", help="worker count, 1..1024 (default 2)")
    run.add_argument("--size", help="number of tasks (default: the workload's default size)")
    run.add_argument("--timeout", default=str(int(lab.DEFAULT_TIMEOUT)), help="seconds before a run is ended")
    run.add_argument("--fault", choices=faults.KINDS, help="inject a fault (tests the lab's fault handling)")
    run.add_argument(
        "--latency-ms", help="I/O workloads: the server's latency per request (0..10000, default 50)"
    )
    run.add_argument("--payload", help="I/O workloads: bytes per page (1..16 MiB, default 16384)")
    bench = commands.add_parser(
        "bench", help="the pyperf-timed matrix on this runtime, stored under results/"
    )
    bench.add_argument("-w", "--workload", action="append", help="workloads, comma-separated (default: all)")
    bench.add_argument("-m", "--model", action="append", help="models, comma-separated (default: all here)")
    bench.add_argument("-p", "--pattern", action="append", help="patterns, comma-separated (default: all)")
    bench.add_argument("-n", "--workers", action="append", help="worker counts (default: 1, 2, 4 .. CPUs)")
    bench.add_argument("--kind", choices=("cpu", "io"), help="only workloads of this kind")
    bench.add_argument("--quick", action="store_true", help="smoke run of everything: smallest sizes")
    bench.add_argument("--rigorous", action="store_true", help="pyperf --rigorous, full sizes and sweeps")
    bench.add_argument("--results", default="results", help="results directory (default: ./results)")
    bench.add_argument("--no-startup", action="store_true", help="skip the worker start-up benches")
    bench.add_argument("--bench-timeout", default="900", help="seconds before one bench is ended")
    bench.add_argument("--suite", action="append", help="matrix, costs, comma-separated (default: both)")
    bench.add_argument(
        "--payload-sizes", action="append", help="transfer payloads, e.g. 1,1K,16M (1 B..64 MiB)"
    )
    bench.add_argument("--latency-ms", help="I/O workloads: the server's latency per request (default 50)")
    bench.add_argument("--payload", help="I/O workloads: bytes per page (default 16384)")
    bench.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    compare = commands.add_parser(
        "compare", help="compare stored runs bench by bench (exit 1 on a regression)"
    )
    compare.add_argument("runs", nargs="*", help="results files, runtime tags (latest run) or MACHINE/TAG")
    compare.add_argument("--table", action="store_true", help="print Markdown tables")
    compare.add_argument(
        "--threshold", default="0.05", help="smallest change flagged (fraction, default 0.05)"
    )
    compare.add_argument("--results", default="results", help="results directory (default: ./results)")
    race = commands.add_parser("race", help="lost updates on a shared counter, and an asyncio race")
    race.add_argument("--threads", default="2", help="threads incrementing the counter (default 2)")
    race.add_argument("--increments", default="1000000", help="increments per thread (default 1,000,000)")
    report = commands.add_parser(
        "report", help="write results/<machine>/REPORT.md and plots from stored runs"
    )
    report.add_argument("--results", default="results", help="results directory (default: ./results)")
    return parser


def _cmd_bench(args: argparse.Namespace) -> int:
    from labs.measure import driver as bench

    _apply_http_options(args)
    return bench.run(args)


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from labs.analyse import runs as analysis

    if len(args.runs) < 2:
        raise UsageError("compare needs at least two runs: a results file, a runtime tag or MACHINE/TAG each")
    threshold = float(args.threshold)
    if not 0 <= threshold < 1:
        raise UsageError(f"threshold must be a fraction in [0, 1), got {args.threshold!r}")
    runs, problems = analysis.load(Path(args.results))
    for problem in problems:
        print(f"warning: left out {problem}", file=sys.stderr)
    chosen = [analysis.resolve(spec, runs) for spec in args.runs]
    base, compared, regressions = chosen[0], 0, 0
    for other in chosen[1:]:
        comparisons, notes = analysis.compare_runs(base, other, threshold)
        print(
            f"\n{base.label} ({base.version}) -> {other.label} ({other.version}): "
            f"ratio = {other.tag} / {base.tag} time; flagged beyond {threshold:.0%} with p < {analysis.ALPHA}"
        )
        for line in analysis.comparison_table(base, other, comparisons, markdown=args.table):
            print(line)
        for note in notes:
            print(f"  {note}")
        compared += len(comparisons)
        regressions += sum(c.verdict == "REGRESSION" for c in comparisons)
    if not compared:
        raise UsageError("nothing to compare: the runs have no bench in common")
    print(f"\n{compared} benches compared, {regressions} regression(s)")
    return 1 if regressions else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from labs.report import build as report

    written, problems = report.write_reports(Path(args.results))
    for problem in problems:
        print(f"warning: left out {problem}", file=sys.stderr)
    if not written:
        raise UsageError(f"no results to report under {args.results!r}: run `nox -s bench` first")
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_race(args: argparse.Namespace) -> int:
    from labs.measure.costs import races

    threads = lab.check_workers(lab.parse_int("threads", args.threads))
    increments = lab.parse_positive_int("increments", args.increments)
    facts = runtime.facts()
    print(
        f"shared counter, {threads} threads x {increments} increments on Python {facts['version']} "
        f"({facts['tag']}, GIL {'on' if facts['gil_enabled'] else 'off'})"
    )
    for strategy in races.STRATEGIES:
        result = races.count_with(strategy, threads, increments)
        print(
            f"  {strategy:<16} lost {result.lost:>9} ({result.lost_per_million:9.1f} per million)"
            f"  {result.seconds * 1e3:8.1f} ms"
        )
    unsafe, locked = races.asyncio_overdraft(5, 60, 100, False), races.asyncio_overdraft(5, 60, 100, True)
    print(
        f"asyncio check-then-act: 5 withdrawals of 60 from 100 leave {unsafe} unlocked, {locked} with a Lock"
    )
    return 0


_COMMANDS = {
    "list": _cmd_list,
    "doctor": _cmd_doctor,
    "run": _cmd_run,
    "bench": _cmd_bench,
    "compare": _cmd_compare,
    "report": _cmd_report,
    "race": _cmd_race,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        # The run was abandoned: process workers are killed already, but a thread or subinterpreter
        # may still be busy (or hung), and waiting for it at exit could hang. Leave now.
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)
    except KeyboardInterrupt:
        print("ERROR: interrupted", file=sys.stderr)
        return 130
