"""python -m labs race: lost updates on a shared counter on this runtime, and an asyncio race."""

from __future__ import annotations

import argparse

from labs.core import limits, runtime

NAME = "race"
HELP = "lost updates on a shared counter, and an asyncio race"
MOST_INCREMENTS = 100_000_000  # per thread: about a minute for the slowest strategy here


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", default="2", help="threads incrementing the counter (default 2)")
    parser.add_argument(
        "--increments",
        default="1000000",
        help=f"increments per thread (default 1,000,000, at most {MOST_INCREMENTS:,})",
    )


def execute(args: argparse.Namespace) -> int:
    from labs.measure.costs import races

    threads = limits.check_workers(limits.parse_int("threads", args.threads))
    increments = limits.parse_positive_int("increments", args.increments, MOST_INCREMENTS)
    facts = runtime.facts()
    print(
        f"shared counter, {threads} threads x {increments} increments on Python {facts['version']} "
        f"({facts['tag']}, GIL {'on' if facts['gil_enabled'] else 'off'})",
        flush=True,
    )
    for strategy in races.STRATEGIES:
        result = races.count_with(strategy, threads, increments)
        print(
            f"  {strategy:<16} lost {result.lost:>9} ({result.lost_per_million:9.1f} per million)"
            f"  {result.seconds * 1e3:8.1f} ms",
            flush=True,
        )
    unsafe, locked = races.asyncio_overdraft(5, 60, 100, False), races.asyncio_overdraft(5, 60, 100, True)
    print(
        f"asyncio check-then-act: 5 withdrawals of 60 from 100 leave {unsafe} unlocked, {locked} with a Lock"
    )
    return 0
