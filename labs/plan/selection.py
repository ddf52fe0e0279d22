"""Selection: what the user asked ``bench`` for, validated once, before anything runs.

Every name, count and number on the command line is checked here and refused with one UsageError
line that says what is valid; the planner then only combines valid values.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass

from labs import models, workloads
from labs.core import lab, patterns
from labs.core.errors import UsageError

MODES = ("quick", "default", "rigorous")
# What a bare `bench` measures: workloads that answer the first questions (pure-Python float and call
# kernels, C code that releases the GIL and C code that holds it; the I/O crossover at both ends).
# --full, or -w by name, measures every workload.
DEFAULT_WORKLOADS = ("nbody", "fib", "hashing", "parsing", "download", "mixed-cpu0", "mixed-cpu16")
SUITES = ("matrix", "costs")
MAX_BENCH_TIMEOUT = 24 * 3600.0  # one bench may take a day; beyond that a number is a typo
MAX_BUDGET_MINUTES = 7 * 24 * 60.0


def names(values: Sequence[str] | None, valid: Sequence[str], what: str) -> tuple[str, ...]:
    """Comma-separated names from repeated options, each checked against *valid*; all of them if none."""
    if not values:
        return tuple(valid)
    chosen = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not chosen:
        raise UsageError(f"no {what} given; valid: {', '.join(valid)}")
    bad = [name for name in chosen if name not in valid]
    if bad:
        raise UsageError(f"unknown {what} {bad[0]!r}; valid: {', '.join(valid)}")
    return tuple(dict.fromkeys(chosen))


def worker_counts(values: Sequence[str] | None) -> tuple[int, ...] | None:
    """Requested worker counts (sorted, unique), None when none were asked for."""
    if values is None:
        return None
    texts = [v.strip() for w in values for v in w.split(",") if v.strip()]
    counts = [lab.check_workers(lab.parse_int("workers", text)) for text in texts]
    if not counts:
        raise UsageError(f"no worker count given to -n; valid: integers from 1 to {lab.MAX_WORKERS}")
    return tuple(sorted(set(counts)))


def bench_timeout(text: str) -> float:
    """Seconds one bench may take: a finite number in (0, one day]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_BENCH_TIMEOUT:  # NaN fails this too
        raise UsageError(
            f"bench timeout must be a number of seconds in (0, {MAX_BENCH_TIMEOUT:g}], got {text!r}"
        )
    return value


def budget(text: str | None) -> float | None:
    """Minutes the whole run may take: a finite number in (0, one week], or None for no limit."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_BUDGET_MINUTES:
        raise UsageError(f"--budget must be minutes in (0, {MAX_BUDGET_MINUTES:g}], got {text!r}")
    return value


@dataclass(frozen=True)
class Selection:
    """A validated ``bench`` request. ``workers`` is None when the default sweep is wanted."""

    mode: str = "default"
    workloads: tuple[str, ...] = tuple(workloads.NAMES)
    kind: str | None = None
    models: tuple[str, ...] = ()
    patterns: tuple[str, ...] = tuple(patterns.NAMES)
    workers: tuple[int, ...] | None = None
    suites: tuple[str, ...] = SUITES
    startup: bool = True
    payload_sizes: tuple[int, ...] | None = None
    bench_timeout: float = 900.0
    budget_minutes: float | None = None  # the whole run's time; benches past it are skipped and named
    full: bool = False  # every pattern, not only n-workers (the default answers the first questions)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Selection:
        if args.quick and args.rigorous:
            raise UsageError("--quick and --rigorous exclude each other; choose one")
        payload_sizes = None
        if getattr(args, "payload_sizes", None):
            from labs.measure.costs import transfer

            payload_sizes = tuple(
                transfer.parse_size(v) for item in args.payload_sizes for v in item.split(",") if v
            )
            for size in payload_sizes:
                transfer.check_memory(size)  # asked for explicitly: refuse, rather than skip, what cannot fit
        chosen_models = names(args.model, models.names(), "model")
        if "serial" not in chosen_models:
            chosen_models = ("serial", *chosen_models)  # every speedup is against the serial bench
        full = bool(getattr(args, "full", False)) or bool(args.rigorous)
        # n-workers answers the first questions (scaling, GIL, free-threading, subinterpreters vs
        # processes); the other patterns are for --full, or when asked for by name
        chosen_patterns = (
            names(args.pattern, patterns.NAMES, "pattern") if args.pattern or full else ("n-workers",)
        )
        return cls(
            mode="quick" if args.quick else "rigorous" if args.rigorous else "default",
            workloads=names(args.workload, workloads.NAMES, "workload")
            if args.workload or full
            else tuple(name for name in workloads.NAMES if name in DEFAULT_WORKLOADS),
            kind=args.kind,
            models=chosen_models,
            patterns=chosen_patterns,
            workers=worker_counts(args.workers),
            suites=names(args.suite, SUITES, "suite"),
            startup=not args.no_startup,
            payload_sizes=payload_sizes,
            bench_timeout=bench_timeout(args.bench_timeout),
            budget_minutes=budget(getattr(args, "budget", None)),
            full=full,
        )
