"""python -m labs bench: the arguments of the pyperf-timed matrix; the work is labs.measure.driver's."""

from __future__ import annotations

import argparse

from labs.cli import engine_options, http_options
from labs.core.errors import UsageError

NAME = "bench"
HELP = "the pyperf-timed matrix on this runtime, stored under results/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--workload", action="append", help="workloads, comma-separated (default: all)")
    parser.add_argument("-m", "--model", action="append", help="models, comma-separated (default: all here)")
    parser.add_argument("-p", "--pattern", action="append", help="patterns, comma-separated (default: all)")
    parser.add_argument("-n", "--workers", action="append", help="worker counts (default: 1, 2, 4 .. CPUs)")
    parser.add_argument("--kind", choices=("cpu", "io"), help="only workloads of this kind")
    parser.add_argument("--quick", action="store_true", help="smoke run of everything: smallest sizes")
    parser.add_argument("--rigorous", action="store_true", help="pyperf --rigorous, full sizes and sweeps")
    parser.add_argument("--results", default="results", help="results directory (default: ./results)")
    parser.add_argument("--no-startup", action="store_true", help="skip the worker start-up benches")
    parser.add_argument("--bench-timeout", default="900", help="seconds before one bench is ended")
    parser.add_argument("--suite", action="append", help="matrix, costs, comma-separated (default: both)")
    parser.add_argument(
        "--payload-sizes", action="append", help="transfer payloads, e.g. 1,1K,16M (1 B..64 MiB)"
    )
    parser.add_argument("--latency-ms", help="I/O workloads: the server's latency per request (default 50)")
    parser.add_argument("--payload", help="I/O workloads: bytes per page (default 16384)")
    parser.add_argument(
        "--resume", metavar="FILE", help="continue an interrupted run (its journal or file): what it lacks"
    )
    parser.add_argument("--full", action="store_true", help="every pattern, not only n-workers")
    parser.add_argument(
        "--budget", metavar="MINUTES", help="the whole run's time; benches that do not fit are skipped, named"
    )
    parser.add_argument(
        "--no-fingerprint", action="store_true", help="skip the machine's speed fingerprint (about 5 s a run)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    parser.add_argument(
        "--interpreters",
        metavar="PY1,PY2,...",
        help="measure these interpreters side by side (each with the lab installed; one may repeat: an A/A "
        "pair): their measuring processes alternate in a seeded order, each runtime gets its own run file",
    )
    parser.add_argument(
        "--with-gil-controls",
        action="store_true",
        help="with --interpreters: each free-threaded one also with PYTHON_GIL=1, its GIL control",
    )
    parser.add_argument("--turns", help=argparse.SUPPRESS)  # set by --interpreters for each driver
    engine_options.add(parser)


def execute(args: argparse.Namespace) -> int:
    from labs.measure import driver, together

    if args.with_gil_controls and not args.interpreters:
        raise UsageError("--with-gil-controls goes with --interpreters PY1,PY2,...")
    if args.interpreters:
        if args.resume or args.turns:
            raise UsageError(
                "--interpreters cannot --resume: resume each runtime's journal on its interpreter"
            )
        drivers = together.interpreters(args.interpreters, args.with_gil_controls)
        given = list(getattr(args, "argv", []))
        return together.run(drivers, together.main_args(given[1:] if given[:1] == ["bench"] else given))
    engine_options.apply(args)
    http_options.apply(args)
    return driver.run(args)
